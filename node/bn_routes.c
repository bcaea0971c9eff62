/*  =========================================================================
    bn_routes - the node's /v1 route table: who may call what
    =========================================================================
*/

#include "bruecke.h"
#include "bn_routes.h"
#include "bn_tokens.h"

//  Who works cases, who reads them, who reads counts, everybody.
#define S_WORK                                                                                     \
    (BN_ROLE_CASEWORKER | BN_ROLE_INTEGRATION | BN_ROLE_SACHBEARBEITUNG | BN_ROLE_LEITUNG)
#define S_READ (S_WORK | BN_ROLE_READONLY)
#define S_COUNT                                                                                    \
    (BN_ROLE_CASEWORKER | BN_ROLE_INTEGRATION | BN_ROLE_READONLY | BN_ROLE_LEITUNG |               \
     BN_ROLE_ADMINISTRATION)
#define S_AUDIT (BN_ROLE_READONLY | BN_ROLE_ADMINISTRATION)
//  Reading casework: the administration too, which sees nothing there but
//  under an approved emergency access (bn_casework)
#define S_VIEW  (S_READ | BN_ROLE_ADMINISTRATION)
#define S_ADMIN BN_ROLE_ADMINISTRATION
#define S_ALL   (S_READ | BN_ROLE_ADMINISTRATION)

#define S_CASEWORK(method, pattern, roles, action, operation)                                      \
    {                                                                                              \
        method, pattern, roles, BN_SCOPE_OFFICES, action, BN_OWNER_CASEWORK, BN_OP_##operation     \
    }
#define S_EXCHANGE(method, pattern, roles, operation)                                              \
    {                                                                                              \
        method, "/v1/exchange/" pattern, roles, BN_SCOPE_NODE, NULL, BN_OWNER_EXCHANGE,            \
            BN_OP_EXCHANGE_##operation                                                             \
    }

static const bn_route_t s_routes[] = {
    {"GET", "/v1/status", S_ALL, BN_SCOPE_NODE, NULL, BN_OWNER_NODE, BN_OP_STATUS},
    S_CASEWORK ("POST", "/v1/cases", S_WORK, "case.create", CASE_CREATE),
    S_CASEWORK ("GET", "/v1/cases", S_VIEW, "cases.list", CASE_LIST),
    S_CASEWORK ("GET", "/v1/cases/{id}", S_VIEW, "case.read", CASE_READ),
    S_CASEWORK ("POST", "/v1/cases/{id}/transfer", S_WORK, "transfer.send", CASE_TRANSFER),
    S_CASEWORK ("POST", "/v1/cases/{id}/notes", S_WORK, "case.note", CASE_NOTE),
    S_CASEWORK ("PATCH", "/v1/cases/{id}", S_WORK, "case.update", CASE_UPDATE),
    S_CASEWORK ("POST", "/v1/cases/{id}/close", S_WORK, "case.close", CASE_CLOSE),
    S_CASEWORK ("POST", "/v1/cases/{id}/reopen", S_WORK, "case.reopen", CASE_REOPEN),
    S_CASEWORK ("GET", "/v1/follow-ups", S_READ, "followups.list", FOLLOW_UPS),
    S_CASEWORK ("POST", "/v1/consents", S_WORK, "consent.record", CONSENT_RECORD),
    S_CASEWORK ("GET", "/v1/consents", S_VIEW, "consents.list", CONSENT_LIST),
    S_CASEWORK ("GET", "/v1/consents/{id}", S_VIEW, "consent.read", CONSENT_READ),
    S_CASEWORK ("POST", "/v1/consents/{id}/withdraw", S_WORK, "consent.withdraw", CONSENT_WITHDRAW),
    S_CASEWORK ("POST", "/v1/consents/{id}/form", S_WORK, "consent.form.store", CONSENT_FORM_STORE),
    S_CASEWORK ("GET", "/v1/consents/{id}/form", S_VIEW, "consent.form.read", CONSENT_FORM_READ),
    S_CASEWORK ("POST", "/v1/referrals", S_WORK, "referral.send", REFERRAL_SEND),
    S_CASEWORK ("GET", "/v1/referrals", S_VIEW, "referrals.list", REFERRAL_LIST),
    S_CASEWORK ("GET", "/v1/referrals/{id}", S_VIEW, "referral.read", REFERRAL_READ),
    S_CASEWORK ("POST", "/v1/referrals/{id}/status", S_WORK, "referral.status", REFERRAL_STATUS),
    S_CASEWORK ("GET", "/v1/transfers", S_VIEW, "transfers.list", TRANSFER_LIST),
    S_CASEWORK ("GET", "/v1/transfers/{id}", S_VIEW, "transfer.read", TRANSFER_READ),
    S_CASEWORK ("POST", "/v1/transfers/{id}/accept", S_WORK, "transfer.accept", TRANSFER_ACCEPT),
    S_CASEWORK ("POST", "/v1/transfers/{id}/decline", S_WORK, "transfer.decline", TRANSFER_DECLINE),
    {"GET", "/v1/directory", S_ALL, BN_SCOPE_NODE, NULL, BN_OWNER_CASEWORK, BN_OP_DIRECTORY},
    S_CASEWORK ("GET", "/v1/events", S_READ, NULL, EVENTS),
    S_CASEWORK ("GET", "/v1/reports", S_COUNT, "reports.read", REPORTS),
    {"POST", "/v1/emergency", S_ADMIN, BN_SCOPE_NODE, "emergency.request", BN_OWNER_CASEWORK,
     BN_OP_EMERGENCY_REQUEST},
    {"GET", "/v1/emergency", S_ADMIN | BN_ROLE_LEITUNG, BN_SCOPE_OFFICES, "emergency.list",
     BN_OWNER_CASEWORK, BN_OP_EMERGENCY_LIST},
    {"POST", "/v1/emergency/{id}/approve", S_ADMIN, BN_SCOPE_NODE, "emergency.approve",
     BN_OWNER_CASEWORK, BN_OP_EMERGENCY_APPROVE},
    {"POST", "/v1/emergency/{id}/end", S_ADMIN, BN_SCOPE_NODE, "emergency.end", BN_OWNER_CASEWORK,
     BN_OP_EMERGENCY_END},
    {"GET", "/v1/audit", S_AUDIT, BN_SCOPE_NODE, NULL, BN_OWNER_CASEWORK, BN_OP_AUDIT_LIST},
    {"GET", "/v1/audit/verify", S_AUDIT, BN_SCOPE_NODE, NULL, BN_OWNER_CASEWORK,
     BN_OP_AUDIT_VERIFY},
    S_EXCHANGE ("GET", "topics", S_READ, TOPICS),
    S_EXCHANGE ("GET", "board", S_READ, BOARD),
    S_EXCHANGE ("POST", "offers", S_WORK, OFFER),
    S_EXCHANGE ("POST", "requests", S_WORK, REQUEST),
    S_EXCHANGE ("POST", "items/{id}/withdraw", S_WORK, WITHDRAW),
    S_EXCHANGE ("GET", "submissions", S_READ, SUBMISSIONS),
    S_EXCHANGE ("GET", "agreements", S_READ, AGREEMENTS),
    S_EXCHANGE ("GET", "agreements/{id}", S_READ, AGREEMENT),
    S_EXCHANGE ("POST", "agreements/{id}/accept", S_WORK, ACCEPT),
    S_EXCHANGE ("POST", "agreements/{id}/schedule", S_WORK, SCHEDULE),
    S_EXCHANGE ("POST", "agreements/{id}/complete", S_WORK, COMPLETE),
    S_EXCHANGE ("POST", "agreements/{id}/cancel", S_WORK, CANCEL),
    S_EXCHANGE ("GET", "ledger", S_READ, LEDGER),
};

#define S_ROUTE_COUNT (sizeof (s_routes) / sizeof (s_routes[0]))

//  Matches one path segment [segment, end) against a pattern segment
//  [pattern, pattern_end); "{id}" takes lowercase hex into `id`.
static bool
s_segment_matches (const char *pattern, size_t pattern_size, const char *segment, size_t size,
                   char *id)
{
    if (pattern_size == 4 && memcmp (pattern, "{id}", 4) == 0) {
        if (size == 0 || size > BN_ROUTES_ID_MAX)
            return false;
        for (size_t index = 0; index < size; index++)
            if (!((segment[index] >= '0' && segment[index] <= '9') ||
                  (segment[index] >= 'a' && segment[index] <= 'f')))
                return false;
        memcpy (id, segment, size);
        id[size] = '\0';
        return true;
    }
    return size == pattern_size && memcmp (pattern, segment, size) == 0;
}

//  True if `path` has the shape of `pattern`; its "{id}" goes to `id`.
static bool
s_path_matches (const char *pattern, const char *path, char *id)
{
    id[0] = '\0';
    while (*pattern == '/' && *path == '/') {
        pattern++;
        path++;
        const char *pattern_end = strchrnul (pattern, '/');
        const char *path_end = strchrnul (path, '/');
        if (!s_segment_matches (pattern, (size_t) (pattern_end - pattern), path,
                                (size_t) (path_end - path), id))
            return false;
        pattern = pattern_end;
        path = path_end;
    }
    return *pattern == '\0' && *path == '\0';
}

const bn_route_t *
bn_routes_match (const char *method, const char *path, char *id, char *allow, br_reason_t *reason)
{
    assert (method && path && id && allow && reason);
    allow[0] = '\0';
    *reason = BR_REASON_NOT_FOUND;
    char scratch[BN_ROUTES_ID_MAX + 1];
    for (size_t index = 0; index < S_ROUTE_COUNT; index++) {
        const bn_route_t *route = &s_routes[index];
        if (!s_path_matches (route->pattern, path, scratch))
            continue;
        if (streq (route->method, method)) {
            strcpy (id, scratch);
            *reason = BR_REASON_OK;
            return route;
        }
        //  The path exists: this method is not one of its own
        *reason = BR_REASON_METHOD_NOT_ALLOWED;
        size_t used = strlen (allow);
        snprintf (allow + used, BN_ROUTES_ALLOW_SIZE - used, "%s%s", used ? ", " : "",
                  route->method);
    }
    return NULL;
}

unsigned
bn_routes_role (const char *role)
{
    static const struct {
        const char *name;
        unsigned bit;
    } roles[] = {{BN_TOKENS_ROLE_CASEWORKER, BN_ROLE_CASEWORKER},
                 {BN_TOKENS_ROLE_INTEGRATION, BN_ROLE_INTEGRATION},
                 {BN_TOKENS_ROLE_READONLY, BN_ROLE_READONLY},
                 {BN_TOKENS_ROLE_SACHBEARBEITUNG, BN_ROLE_SACHBEARBEITUNG},
                 {BN_TOKENS_ROLE_LEITUNG, BN_ROLE_LEITUNG},
                 {BN_TOKENS_ROLE_ADMINISTRATION, BN_ROLE_ADMINISTRATION}};
    for (size_t index = 0; role && index < sizeof (roles) / sizeof (roles[0]); index++)
        if (streq (roles[index].name, role))
            return roles[index].bit;
    return 0;
}

bool
bn_routes_allows (const bn_route_t *route, const char *role)
{
    assert (route);
    return (route->roles & bn_routes_role (role)) != 0;
}

const bn_route_t *
bn_routes_at (size_t index)
{
    return index < S_ROUTE_COUNT ? &s_routes[index] : NULL;
}

bool
bn_routes_office_in (const char *offices, const char *office)
{
    if (!offices || !office || !*office)
        return false;
    size_t size = strlen (office);
    for (const char *at = offices; *at;) {
        const char *end = strchrnul (at, ',');
        if ((size_t) (end - at) == size && memcmp (at, office, size) == 0)
            return true;
        at = *end ? end + 1 : end;
    }
    return false;
}

bool
bn_routes_offices_valid (const char *offices)
{
    if (!offices)
        return false;
    if (!*offices)
        return true;
    size_t count = 0;
    for (const char *at = offices;;) {
        const char *end = strchrnul (at, ',');
        char code[BR_SERVICE_MAX + 1];
        size_t size = (size_t) (end - at);
        if (size == 0 || size > BR_SERVICE_MAX || ++count > BN_ROUTES_OFFICES_MAX)
            return false;
        memcpy (code, at, size);
        code[size] = '\0';
        if (!br_catalogue_service (code))
            return false;
        //  Each once: not already before this one
        char before[BN_ROUTES_OFFICES_MAX * (BR_SERVICE_MAX + 1) + 1];
        size_t prefix = (size_t) (at - offices);
        if (prefix >= sizeof (before))
            return false;
        memcpy (before, offices, prefix);
        before[prefix ? prefix - 1 : 0] = '\0';
        if (bn_routes_office_in (before, code))
            return false;
        if (!*end)
            return true;
        at = end + 1;
    }
}

//  ---- Self test ------------------------------------------------------------

//  Checks node/openapi.yaml against the table both ways: every operation
//  the file lists is in the table, and every route is in the file.
static void
s_test_openapi (const char *path, bool verbose)
{
    FILE *file = fopen (path, "r");
    assert (file);
    char line[512];
    char current[sizeof (line)] = "";
    bool seen[S_ROUTE_COUNT] = {false};
    size_t operations = 0;
    while (fgets (line, sizeof (line), file)) {
        if (strncmp (line, "  /", 3) == 0) {
            char *colon = strrchr (line, ':');
            assert (colon);
            *colon = '\0';
            snprintf (current, sizeof (current), "%s", line + 2);
            continue;
        }
        if (strncmp (current, "/v1/", 4) != 0 || strncmp (line, "    ", 4) != 0 || line[4] == ' ')
            continue;
        char method[16] = "";
        if (sscanf (line + 4, "%15[a-z]:", method) != 1)
            continue;
        if (!streq (method, "get") && !streq (method, "post") && !streq (method, "put") &&
            !streq (method, "patch") && !streq (method, "delete"))
            continue;
        for (char *letter = method; *letter; letter++)
            *letter = (char) (*letter - 'a' + 'A');
        bool found = false;
        for (size_t index = 0; index < S_ROUTE_COUNT; index++)
            if (streq (s_routes[index].method, method) &&
                streq (s_routes[index].pattern, current)) {
                seen[index] = found = true;
            }
        if (!found)
            fprintf (stderr, "openapi.yaml has %s %s, the route table has not\n", method, current);
        assert (found);
        operations++;
    }
    fclose (file);
    for (size_t index = 0; index < S_ROUTE_COUNT; index++) {
        if (!seen[index])
            fprintf (stderr, "the route table has %s %s, openapi.yaml has not\n",
                     s_routes[index].method, s_routes[index].pattern);
        assert (seen[index]);
    }
    assert (operations == S_ROUTE_COUNT);
    if (verbose)
        printf ("(openapi.yaml: %zu operations) ", operations);
}

void
bn_routes_test (bool verbose)
{
    if (verbose)
        printf (" * bn_routes: ");
    //  @selftest
    char id[BN_ROUTES_ID_MAX + 1], allow[BN_ROUTES_ALLOW_SIZE];
    br_reason_t reason;
    const char *hex = "0123456789abcdef0123456789abcdef";
    char path[128];
    snprintf (path, sizeof (path), "/v1/cases/%s", hex);
    const bn_route_t *route = bn_routes_match ("GET", path, id, allow, &reason);
    assert (route && reason == BR_REASON_OK && route->operation == BN_OP_CASE_READ);
    assert (streq (id, hex) && streq (route->action, "case.read"));
    route = bn_routes_match ("GET", "/v1/cases", id, allow, &reason);
    assert (route && route->operation == BN_OP_CASE_LIST && streq (id, ""));
    snprintf (path, sizeof (path), "/v1/exchange/agreements/%s/complete", hex);
    route = bn_routes_match ("POST", path, id, allow, &reason);
    assert (route && route->operation == BN_OP_EXCHANGE_COMPLETE && streq (id, hex));

    //  Another method on a path that exists: 405 with what it allows
    route = bn_routes_match ("PUT", "/v1/cases", id, allow, &reason);
    assert (!route && reason == BR_REASON_METHOD_NOT_ALLOWED && streq (allow, "POST, GET"));
    snprintf (path, sizeof (path), "/v1/cases/%s", hex);
    route = bn_routes_match ("DELETE", path, id, allow, &reason);
    assert (!route && reason == BR_REASON_METHOD_NOT_ALLOWED && streq (allow, "GET, PATCH"));

    //  Spellings that are not the path: nothing
    const char *variants[] = {
        "/v1/cases/",         "/v1//cases", "//v1/cases",
        "/v1/Cases",          "/V1/cases",  "/v1/cases/0123456789ABCDEF0123456789ABCDEF",
        "/v1/cases/../audit", "/v1/audit/", "/v1/audit/verify/",
        "/v1/cases/%2F",      "/v1",        "",
        "/v1/cases?x=1"};
    for (size_t index = 0; index < sizeof (variants) / sizeof (variants[0]); index++) {
        route = bn_routes_match ("GET", variants[index], id, allow, &reason);
        assert (!route && reason == BR_REASON_NOT_FOUND);
    }
    char long_id[BN_ROUTES_ID_MAX + 16];
    memset (long_id, 'a', sizeof (long_id) - 1);
    long_id[sizeof (long_id) - 1] = '\0';
    snprintf (path, sizeof (path), "/v1/cases/%s", long_id);
    assert (!bn_routes_match ("GET", path, id, allow, &reason));

    //  Roles
    route = bn_routes_match ("GET", "/v1/audit", id, allow, &reason);
    assert (route && bn_routes_allows (route, "administration"));
    assert (!bn_routes_allows (route, "sachbearbeitung") && !bn_routes_allows (route, "leitung"));
    route = bn_routes_match ("POST", "/v1/cases", id, allow, &reason);
    assert (bn_routes_allows (route, "sachbearbeitung") && bn_routes_allows (route, "integration"));
    assert (!bn_routes_allows (route, "readonly") && !bn_routes_allows (route, "administration"));
    assert (!bn_routes_allows (route, "root") && !bn_routes_allows (route, NULL));
    route = bn_routes_match ("GET", "/v1/cases", id, allow, &reason);
    assert (bn_routes_allows (route, "administration") && bn_routes_allows (route, "readonly"));
    assert (route->scope == BN_SCOPE_OFFICES); //  the administration's offices: none
    route = bn_routes_match ("POST", "/v1/cases", id, allow, &reason);
    assert (!bn_routes_allows (route, "administration"));
    route = bn_routes_match ("GET", "/v1/reports", id, allow, &reason);
    assert (bn_routes_allows (route, "leitung") && !bn_routes_allows (route, "sachbearbeitung"));
    //  Every route is callable by someone, and has a distinct method and pattern
    for (size_t index = 0; bn_routes_at (index); index++) {
        assert (bn_routes_at (index)->roles != 0);
        for (size_t other = index + 1; bn_routes_at (other); other++)
            assert (!streq (bn_routes_at (index)->pattern, bn_routes_at (other)->pattern) ||
                    !streq (bn_routes_at (index)->method, bn_routes_at (other)->method));
    }

    //  Office lists
    assert (bn_routes_office_in ("jobcenter,fruehe-hilfen", "fruehe-hilfen"));
    assert (bn_routes_office_in ("jobcenter,fruehe-hilfen", "jobcenter"));
    assert (!bn_routes_office_in ("jobcenter,fruehe-hilfen", "jugendamt"));
    assert (!bn_routes_office_in ("jobcenter", "job"));
    assert (!bn_routes_office_in ("", "jobcenter") && !bn_routes_office_in (NULL, "jobcenter"));
    assert (!bn_routes_office_in ("jobcenter", ""));
    assert (bn_routes_offices_valid ("") && bn_routes_offices_valid ("jobcenter"));
    assert (bn_routes_offices_valid ("jobcenter,jugendamt,fruehe-hilfen"));
    assert (!bn_routes_offices_valid ("jobcenter,jobcenter"));
    assert (!bn_routes_offices_valid ("jobcenter,") && !bn_routes_offices_valid (",jobcenter"));
    assert (!bn_routes_offices_valid ("Jobcenter") && !bn_routes_offices_valid ("polizei"));
    assert (!bn_routes_offices_valid (NULL));

    const char *openapi = getenv ("BRUECKE_OPENAPI");
    if (openapi)
        s_test_openapi (openapi, verbose);
    //  @end
    if (verbose)
        printf ("OK\n");
}
