/*  =========================================================================
    bn_emergency - emergency access (break-glass) for the administration
    =========================================================================
*/

#include "bruecke.h"
#include "bn_tokens.h"
#include "bn_emergency.h"
#include "bn_casework_testing.h"

//  The grant's state as of `now`: an active one whose time is up is expired.
static const char *
s_grant_state (json_t *grant, int64_t now)
{
    const char *state = json_string_value (json_object_get (grant, "state"));
    if (state && streq (state, "active") && now >= bn_request_integer (grant, "until_ms", 0))
        return "expired";
    if (state && streq (state, "requested") &&
        now >= bn_request_integer (grant, "requested_at_ms", 0) + BN_EMERGENCY_APPROVAL_MS)
        return "expired";
    return state ? state : "";
}

static br_reason_t
s_emergency_collect (MDB_txn *txn, const uint8_t *id, json_t *grant, void *argument)
{
    (void) txn;
    bn_emergency_access_t *emergency = (bn_emergency_access_t *) argument;
    const char *by = json_string_value (json_object_get (grant, "requested_by"));
    const char *office = bn_casestore_office (grant);
    if (!by || !streq (by, emergency->user) || !office ||
        !streq (s_grant_state (grant, emergency->now), "active"))
        return BR_REASON_OK;
    size_t used = strlen (emergency->offices);
    if (!bn_routes_office_in (emergency->offices, office))
        snprintf (emergency->offices + used, sizeof (emergency->offices) - used, "%s%s",
                  used ? "," : "", office);
    char hex[BN_ID_HEX];
    bn_casestore_hex (id, hex);
    used = strlen (emergency->grants);
    snprintf (emergency->grants + used, sizeof (emergency->grants) - used, "%s%s",
              used ? " " : "break-glass ", hex);
    return BR_REASON_OK;
}

br_reason_t
bn_emergency_in_force (bn_casework_ctx_t *ctx, MDB_txn *txn, const char *user, int64_t now,
                       bn_emergency_access_t *access)
{
    assert (ctx && txn && user && access);
    *access = (bn_emergency_access_t){.user = user, .now = now};
    return bn_casestore_each (ctx->records, txn, BN_CASESTORE_EMERGENCY, s_emergency_collect,
                              access);
}

//  POST /v1/emergency: an administrator asks for emergency access to the
//  cases of one office, with a reason, for at most BN_EMERGENCY_MINUTES_MAX
//  minutes. It holds once a second administrator approves it.
br_reason_t
bn_emergency_request (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_request_t *call, int64_t now)
{
    const char *office = bn_request_text (call->body, "office", BR_SERVICE_MAX);
    json_int_t minutes = bn_request_integer (call->body, "minutes", 0);
    if (!br_catalogue_service (office) || !bn_casework_ctx_office_here (ctx, office))
        return bn_request_refuse (call, BR_REASON_NO_ROUTE, "office: an office of this node");
    if (minutes < 1 || minutes > BN_EMERGENCY_MINUTES_MAX)
        return bn_request_refuse (call, BR_REASON_MALFORMED, "minutes: 1 to %d",
                                  BN_EMERGENCY_MINUTES_MAX);
    uint8_t id[BN_ID_SIZE];
    randombytes_buf (id, sizeof (id));
    char hex[BN_ID_HEX];
    bn_casestore_hex (id, hex);
    json_t *grant = json_pack ("{ss ss sO sI ss sI ss}", "id", hex, "office", office, "reason",
                               json_object_get (call->body, "reason"), "minutes",
                               (json_int_t) minutes, "requested_by", call->user, "requested_at_ms",
                               (json_int_t) now, "state", "requested");
    br_reason_t reason = bn_casestore_put (ctx->records, txn, BN_CASESTORE_EMERGENCY, id, grant);
    if (reason == BR_REASON_OK)
        reason = bn_casework_ctx_audit (ctx, txn, call->user, call->route->action, id, office, now);
    call->status = 201;
    call->result = grant;
    return reason;
}

//  POST /v1/emergency/{id}/approve and /end: a second administrator puts a
//  request in force; either ends it early.
br_reason_t
bn_emergency_step (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_request_t *call, const char *hex,
                   bool approve, int64_t now)
{
    uint8_t id[BN_ID_SIZE];
    json_t *grant = NULL;
    if (bn_casework_ctx_find (ctx, txn, call, BN_CASESTORE_EMERGENCY, hex, "emergency access", id,
                              &grant) != BR_REASON_OK)
        return BR_REASON_NOT_FOUND;
    call->result = grant;
    const char *state = s_grant_state (grant, now);
    const char *by = json_string_value (json_object_get (grant, "requested_by"));
    if (approve && !streq (state, "requested"))
        return bn_request_refuse (call, BR_REASON_INVALID_STATE,
                                  "only a request of the last hour can be approved");
    if (approve && by && streq (by, call->user))
        return bn_request_refuse (call, BR_REASON_FORBIDDEN,
                                  "a second administrator approves, not the one who asked");
    if (!approve && !streq (state, "requested") && !streq (state, "active"))
        return bn_request_refuse (call, BR_REASON_INVALID_STATE, "it is over already");
    if (approve) {
        json_object_set_new (grant, "state", json_string ("active"));
        json_object_set_new (grant, "approved_by", json_string (call->user));
        json_object_set_new (grant, "approved_at_ms", json_integer (now));
        json_object_set_new (
            grant, "until_ms",
            json_integer (now + bn_request_integer (grant, "minutes", 0) * (json_int_t) 60000));
    } else {
        json_object_set_new (grant, "state", json_string ("ended"));
        json_object_set_new (grant, "ended_by", json_string (call->user));
        json_object_set_new (grant, "ended_at_ms", json_integer (now));
    }
    br_reason_t reason = bn_casestore_put (ctx->records, txn, BN_CASESTORE_EMERGENCY, id, grant);
    if (reason == BR_REASON_OK)
        reason = bn_casework_ctx_audit (ctx, txn, call->user, call->route->action, id,
                                        bn_casestore_office (grant), now);
    return reason;
}

//  The audit records made under the emergency accesses of a listing.
static void
s_emergency_action (void *argument, const bn_audit_entry_t *entry)
{
    json_t *grants = (json_t *) argument;
    if (strncmp (entry->detail, "break-glass ", 12) != 0)
        return;
    size_t index;
    json_t *grant;
    json_array_foreach (grants, index, grant)
    {
        const char *id = json_string_value (json_object_get (grant, "id"));
        json_t *actions = json_object_get (grant, "actions");
        if (id && strstr (entry->detail + 12, id) && json_array_size (actions) < BN_EVENTS_MAX)
            json_array_append_new (actions,
                                   json_pack ("{sI ss ss}", "at_ms", (json_int_t) entry->at_ms,
                                              "action", entry->action, "object", entry->object));
    }
}

typedef struct {
    bn_request_t *call; //  whose offices (the administration: all)
    json_t *list;       //  the grants
    int64_t now;        //  their states as of when
    bool mine;          //  only those the caller asked for
} s_grants_t;

static br_reason_t
s_emergency_entry (MDB_txn *txn, const uint8_t *id, json_t *grant, void *argument)
{
    (void) txn;
    (void) id;
    s_grants_t *grants = (s_grants_t *) argument;
    const char *by = json_string_value (json_object_get (grant, "requested_by"));
    if (!streq (grants->call->role, BN_TOKENS_ROLE_ADMINISTRATION) &&
        !bn_casework_ctx_sees (grants->call, grant))
        return BR_REASON_OK;
    if (grants->mine && (!by || !streq (by, grants->call->user)))
        return BR_REASON_OK;
    json_object_set_new (grant, "state", json_string (s_grant_state (grant, grants->now)));
    if (!grants->mine)
        json_object_set_new (grant, "actions", json_array ());
    json_array_append (grants->list, grant);
    return BR_REASON_OK;
}

//  GET /v1/emergency: the emergency accesses, with what was read under
//  each: all for the administration, those to its offices for the Leitung
//  (the affected office sees who looked at its cases, and why). With
//  mine=true only the caller's own, without what was read and not audited:
//  what an interface asks on every page to show an access in force.
br_reason_t
bn_emergency_list (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_request_t *call, int64_t now)
{
    const char *mine = json_string_value (json_object_get (call->query, "mine"));
    if (mine && !streq (mine, "true") && !streq (mine, "false"))
        return bn_request_refuse (call, BR_REASON_MALFORMED, "mine: true or false");
    s_grants_t grants = {
        .call = call, .list = json_array (), .now = now, .mine = mine && streq (mine, "true")};
    br_reason_t reason =
        bn_casestore_each (ctx->records, txn, BN_CASESTORE_EMERGENCY, s_emergency_entry, &grants);
    if (grants.mine) {
        call->result = json_pack ("{so}", "emergency", grants.list);
        return reason;
    }
    if (json_array_size (grants.list)) {
        uint64_t after = 0;
        size_t read;
        while ((read = bn_audit_read (ctx->audit, after, BN_EVENTS_MAX, s_emergency_action,
                                      grants.list)) > 0)
            after += read;
    }
    if (reason == BR_REASON_OK)
        reason = bn_casework_ctx_audit (ctx, txn, call->user, call->route->action, NULL, "", now);
    call->result = json_pack ("{so}", "emergency", grants.list);
    return reason;
}

//  ---- Self test ----------------------------------------------------------------------

void
bn_emergency_test (bool verbose)
{
    if (verbose)
        printf (" * bn_emergency: ");
    //  @selftest
    bn_casework_testing_t *county = bn_casework_testing_new ();
    bn_casework_town_t *luenen = &county->luenen;
    const char *admin = BN_TOKENS_ROLE_ADMINISTRATION;
    char *case_id = bn_casework_testing_case (luenen, "jobcenter");
    char *case_path = zsys_sprintf ("/v1/cases/%s", case_id);
    bn_casework_testing_call_by (luenen, "anna", admin, "", "GET", case_path, NULL,
                                 BR_REASON_OFFICE_NOT_PERMITTED);
    json_t *grant = bn_casework_testing_call_by (
        luenen, "anna", admin, "", "POST", "/v1/emergency",
        "{\"office\": \"jobcenter\", \"reason\": \"erfunden\", \"minutes\": 5}", BR_REASON_OK);
    char *approve = zsys_sprintf ("/v1/emergency/%s/approve",
                                  json_string_value (json_object_get (grant, "id")));
    //  A second administrator approves; then the first reads the case
    bn_casework_testing_call_by (luenen, "anna", admin, "", "POST", approve, "{}",
                                 BR_REASON_FORBIDDEN);
    json_decref (bn_casework_testing_call_by (luenen, "bernd", admin, "", "POST", approve, "{}",
                                              BR_REASON_OK));
    json_decref (bn_casework_testing_call_by (luenen, "anna", admin, "", "GET", case_path, NULL,
                                              BR_REASON_OK));
    json_t *mine = bn_casework_testing_call_by (luenen, "anna", admin, "", "GET",
                                                "/v1/emergency?mine=true", NULL, BR_REASON_OK);
    json_t *listed = json_array_get (json_object_get (mine, "emergency"), 0);
    assert (streq (json_string_value (json_object_get (listed, "state")), "active"));
    json_decref (mine);
    zstr_free (&approve);
    json_decref (grant);
    zstr_free (&case_path);
    zstr_free (&case_id);
    bn_casework_testing_destroy (&county);
    //  @end
    if (verbose)
        printf ("OK\n");
}
