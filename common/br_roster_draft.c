/*  =========================================================================
    br_roster_draft - the county office's editable roster, and signing it
    =========================================================================
*/

#include "br_roster_draft.h"
#include "br_roster.h"
#include "br_proto.h"

zconfig_t *
br_roster_draft_new (const char *county_ags, const char *county_name)
{
    zconfig_t *draft = zconfig_new ("root", NULL);
    zconfig_put (draft, "roster/county-ags", county_ags);
    zconfig_put (draft, "roster/county-name", county_name);
    zconfig_put (draft, "roster/version", "1");
    return draft;
}

//  Returns the draft's first `kind` child (node or route) under roster/.
static zconfig_t *
s_first (zconfig_t *draft, const char *kind)
{
    zconfig_t *roster = zconfig_locate (draft, "roster");
    zconfig_t *child = roster ? zconfig_child (roster) : NULL;
    while (child && !streq (zconfig_name (child), kind))
        child = zconfig_next (child);
    return child;
}

//  Returns the next sibling named like `item`.
static zconfig_t *
s_next (zconfig_t *item)
{
    const char *kind = zconfig_name (item);
    zconfig_t *child = zconfig_next (item);
    while (child && !streq (zconfig_name (child), kind))
        child = zconfig_next (child);
    return child;
}

static zconfig_t *
s_find_node (zconfig_t *draft, const char *node_id)
{
    for (zconfig_t *node = s_first (draft, "node"); node; node = s_next (node))
        if (streq (zconfig_get (node, "id", ""), node_id))
            return node;
    return NULL;
}

br_reason_t
br_roster_draft_add_node (zconfig_t *draft, br_identity_t *keys, const char *name, const char *ags,
                          Bruecke__NodeRole role, const char *services)
{
    assert (draft && keys && name && ags && services);
    zconfig_t *roster = zconfig_locate (draft, "roster");
    const char *node_id = br_identity_node_id (keys);
    if (!roster || s_find_node (draft, node_id) || role == BRUECKE__NODE_ROLE__ROLE_UNSPECIFIED)
        return BR_REASON_ROSTER_INVALID;
    char sign_public[2 * BR_SIGN_PUBLIC_SIZE + 1];
    char transport_public[2 * BR_CURVE_KEY_SIZE + 1];
    char seal_public[2 * BR_CURVE_KEY_SIZE + 1];
    br_hex_encode (br_identity_sign_public (keys), BR_SIGN_PUBLIC_SIZE, sign_public);
    br_hex_encode (br_identity_transport_public (keys), BR_CURVE_KEY_SIZE, transport_public);
    br_hex_encode (br_identity_seal_public (keys), BR_CURVE_KEY_SIZE, seal_public);

    zconfig_t *node = zconfig_new ("node", roster);
    zconfig_put (node, "id", node_id);
    zconfig_put (node, "name", name);
    zconfig_put (node, "ags", ags);
    zconfig_put (node, "role", br_roster_role_name (role));
    zconfig_put (node, "services", services);
    zconfig_put (node, "sign-public", sign_public);
    zconfig_put (node, "transport-public", transport_public);
    zconfig_put (node, "seal-public", seal_public);
    zconfig_put (node, "revoked", "0");
    return BR_REASON_OK;
}

br_reason_t
br_roster_draft_add_route (zconfig_t *draft, const char *ags, const char *service,
                           const char *node_id)
{
    assert (draft && ags && service && node_id);
    zconfig_t *roster = zconfig_locate (draft, "roster");
    zconfig_t *node = s_find_node (draft, node_id);
    if (!roster || !node)
        return BR_REASON_ROSTER_INVALID;
    for (zconfig_t *route = s_first (draft, "route"); route; route = s_next (route))
        if (streq (zconfig_get (route, "ags", ""), ags) &&
            streq (zconfig_get (route, "service", ""), service))
            return BR_REASON_ROSTER_INVALID;
    zconfig_t *route = zconfig_new ("route", roster);
    zconfig_put (route, "ags", ags);
    zconfig_put (route, "service", service);
    zconfig_put (route, "node", node_id);
    return BR_REASON_OK;
}

br_reason_t
br_roster_draft_revoke (zconfig_t *draft, const char *node_id)
{
    assert (draft && node_id);
    zconfig_t *node = s_find_node (draft, node_id);
    if (!node)
        return BR_REASON_NOT_FOUND;
    zconfig_put (node, "revoked", "1");
    return BR_REASON_OK;
}

//  Memory for one Roster built from a draft; freed in one go.
typedef struct {
    Bruecke__Roster roster;          //  the roster being built
    Bruecke__RosterNode *nodes;      //  node structures
    Bruecke__RosterNode **node_list; //  pointers to them, as protobuf-c wants
    Bruecke__Route *routes;          //  route structures
    Bruecke__Route **route_list;     //  pointers to them
    uint8_t (*keys)[3][32];          //  decoded public keys per node
    zlist_t *strings;                //  split service lists and their arrays
} s_build_t;

static void
s_build_free (s_build_t *build)
{
    free (build->nodes);
    free (build->node_list);
    free (build->routes);
    free (build->route_list);
    free (build->keys);
    zlist_destroy (&build->strings);
}

//  Splits a comma-separated list into a new array owned by build->strings.
static char **
s_split (s_build_t *build, const char *list, size_t *count)
{
    char *copy = strdup (list);
    zlist_append (build->strings, copy);
    zlist_freefn (build->strings, copy, free, false);
    size_t commas = 0;
    for (const char *cursor = copy; *cursor; cursor++)
        commas += *cursor == ',';
    char **items = (char **) calloc (commas + 1, sizeof (char *));
    zlist_append (build->strings, items);
    zlist_freefn (build->strings, items, free, false);
    *count = 0;
    char *saved = NULL;
    for (char *item = strtok_r (copy, ",", &saved); item; item = strtok_r (NULL, ",", &saved))
        items[(*count)++] = item;
    return items;
}

static size_t
s_count (zconfig_t *draft, const char *kind)
{
    size_t count = 0;
    for (zconfig_t *item = s_first (draft, kind); item; item = s_next (item))
        count++;
    return count;
}

//  Fills build->roster from the draft. Returns OK or ROSTER_INVALID.
static br_reason_t
s_build (zconfig_t *draft, s_build_t *build)
{
    bruecke__roster__init (&build->roster);
    build->strings = zlist_new ();
    size_t node_count = s_count (draft, "node");
    size_t route_count = s_count (draft, "route");
    if (node_count > BR_ROSTER_MAX_NODES || route_count > BR_ROSTER_MAX_ROUTES)
        return BR_REASON_ROSTER_INVALID;
    build->nodes = (Bruecke__RosterNode *) calloc (node_count + 1, sizeof (Bruecke__RosterNode));
    build->node_list = (Bruecke__RosterNode **) calloc (node_count + 1, sizeof (void *));
    build->keys = calloc (node_count + 1, sizeof (*build->keys));
    build->routes = (Bruecke__Route *) calloc (route_count + 1, sizeof (Bruecke__Route));
    build->route_list = (Bruecke__Route **) calloc (route_count + 1, sizeof (void *));

    size_t index = 0;
    for (zconfig_t *item = s_first (draft, "node"); item; item = s_next (item), index++) {
        Bruecke__RosterNode *node = &build->nodes[index];
        bruecke__roster_node__init (node);
        node->node_id = zconfig_get (item, "id", "");
        node->name = zconfig_get (item, "name", "");
        node->ags = zconfig_get (item, "ags", "");
        node->role = br_roster_role_parse (zconfig_get (item, "role", ""));
        node->services = s_split (build, zconfig_get (item, "services", ""), &node->n_services);
        const char *revoked = zconfig_get (item, "revoked", "0");
        if (!streq (revoked, "0") && !streq (revoked, "1"))
            return BR_REASON_ROSTER_INVALID;
        node->revoked = streq (revoked, "1");
        const char *key_names[3] = {"sign-public", "transport-public", "seal-public"};
        ProtobufCBinaryData *key_fields[3] = {&node->sign_public_key, &node->transport_public_key,
                                              &node->seal_public_key};
        for (size_t key = 0; key < 3; key++) {
            if (br_hex_decode (zconfig_get (item, key_names[key], ""), build->keys[index][key],
                               32) != 0)
                return BR_REASON_ROSTER_INVALID;
            key_fields[key]->data = build->keys[index][key];
            key_fields[key]->len = 32;
        }
        build->node_list[index] = node;
    }
    index = 0;
    for (zconfig_t *item = s_first (draft, "route"); item; item = s_next (item), index++) {
        Bruecke__Route *route = &build->routes[index];
        bruecke__route__init (route);
        route->ags = zconfig_get (item, "ags", "");
        route->service = zconfig_get (item, "service", "");
        route->node_id = zconfig_get (item, "node", "");
        build->route_list[index] = route;
    }
    build->roster.county_ags = zconfig_get (draft, "roster/county-ags", "");
    build->roster.county_name = zconfig_get (draft, "roster/county-name", "");
    const char *days = zconfig_get (draft, "roster/consent-days-max", "0");
    char *end = NULL;
    unsigned long parsed = strtoul (days, &end, 10);
    if (!*days || *end || parsed > BR_ROSTER_CONSENT_DAYS_LIMIT)
        return BR_REASON_ROSTER_INVALID;
    build->roster.consent_days_max = (uint32_t) parsed;
    build->roster.nodes = build->node_list;
    build->roster.n_nodes = node_count;
    build->roster.routes = build->route_list;
    build->roster.n_routes = route_count;
    return BR_REASON_OK;
}

zchunk_t *
br_roster_draft_sign (zconfig_t *draft, br_identity_t *county, int64_t now_ms, int64_t valid_ms,
                      br_reason_t *reason)
{
    assert (draft && county && reason);
    s_build_t build;
    memset (&build, 0, sizeof (build));
    *reason = s_build (draft, &build);
    char *end = NULL;
    const char *version_text = zconfig_get (draft, "roster/version", "");
    unsigned long long version = strtoull (version_text, &end, 10);
    if (*reason == BR_REASON_OK && (!*version_text || *end || version < 1 || valid_ms <= 0))
        *reason = BR_REASON_ROSTER_INVALID;
    zchunk_t *signed_bytes = NULL;
    if (*reason == BR_REASON_OK) {
        build.roster.version = version;
        build.roster.issued_at_ms = now_ms;
        build.roster.expires_at_ms = now_ms + valid_ms;
        *reason = br_roster_check_content (&build.roster);
    }
    if (*reason == BR_REASON_OK) {
        zchunk_t *roster_bytes = br_proto_encode (&build.roster.base);
        uint8_t signature[BR_SIGNATURE_SIZE];
        br_identity_sign (county, zchunk_data (roster_bytes), zchunk_size (roster_bytes),
                          signature);
        Bruecke__SignedRoster signed_roster = BRUECKE__SIGNED_ROSTER__INIT;
        signed_roster.roster.data = zchunk_data (roster_bytes);
        signed_roster.roster.len = zchunk_size (roster_bytes);
        signed_roster.signature.data = signature;
        signed_roster.signature.len = sizeof (signature);
        signed_bytes = br_proto_encode (&signed_roster.base);
        zchunk_destroy (&roster_bytes);
        zconfig_putf (draft, "roster/version", "%llu", version + 1);
    }
    s_build_free (&build);
    return signed_bytes;
}

void
br_roster_draft_test (bool verbose)
{
    if (verbose)
        printf (" * br_roster_draft: ");
    //  @selftest
    br_identity_t *county = br_identity_new ("county");
    br_identity_t *luenen = br_identity_new ("luenen");
    br_identity_t *kreis = br_identity_new ("kreis-unna");
    zconfig_t *draft = br_roster_draft_new ("05978", "Kreis Unna");
    assert (br_roster_draft_add_node (draft, luenen, "L\xc3\xbcnen", "05978024",
                                      BRUECKE__NODE_ROLE__ROLE_TOWN,
                                      "jobcenter,jugendamt") == BR_REASON_OK);
    assert (br_roster_draft_add_node (draft, luenen, "again", "05978024",
                                      BRUECKE__NODE_ROLE__ROLE_TOWN,
                                      "jugendamt") == BR_REASON_ROSTER_INVALID);
    assert (br_roster_draft_add_node (draft, kreis, "Kreis Unna", "05978",
                                      BRUECKE__NODE_ROLE__ROLE_COUNTY,
                                      "gesundheitsamt") == BR_REASON_OK);
    assert (br_roster_draft_add_route (draft, "05978024", "jugendamt", "luenen") == BR_REASON_OK);
    assert (br_roster_draft_add_route (draft, "05978024", "jugendamt", "kreis-unna") ==
            BR_REASON_ROSTER_INVALID);
    assert (br_roster_draft_add_route (draft, "05978024", "x", "nobody") ==
            BR_REASON_ROSTER_INVALID);
    assert (br_roster_draft_add_route (draft, "05978024", "gesundheitsamt", "kreis-unna") ==
            BR_REASON_OK);

    //  Sign, verify with the county key, and the version moves on
    br_reason_t reason;
    int64_t now = br_now_ms ();
    zchunk_t *first = br_roster_draft_sign (draft, county, now, 3600 * 1000, &reason);
    assert (first && reason == BR_REASON_OK);
    assert (streq (zconfig_get (draft, "roster/version", ""), "2"));
    br_roster_t *roster = br_roster_verify (zchunk_data (first), zchunk_size (first),
                                            br_identity_sign_public (county), NULL, now, &reason);
    assert (roster && reason == BR_REASON_OK);
    assert (br_roster_version (roster) == 1);
    const Bruecke__RosterNode *node = br_roster_lookup_by_id (roster, "luenen");
    assert (node && streq (node->name, "L\xc3\xbcnen") && node->n_services == 2);
    node = br_roster_lookup_route (roster, "05978024", "gesundheitsamt", &reason);
    assert (node && streq (node->node_id, "kreis-unna"));

    //  The draft survives a round trip through its ZPL text
    char *text = zconfig_str_save (draft);
    zconfig_t *reloaded = zconfig_str_load (text);
    zstr_free (&text);
    assert (br_roster_draft_revoke (reloaded, "luenen") == BR_REASON_OK);
    assert (br_roster_draft_revoke (reloaded, "nobody") == BR_REASON_NOT_FOUND);
    zchunk_t *second = br_roster_draft_sign (reloaded, county, now, 3600 * 1000, &reason);
    assert (second && reason == BR_REASON_OK);
    br_roster_t *newer = br_roster_verify (zchunk_data (second), zchunk_size (second),
                                           br_identity_sign_public (county), roster, now, &reason);
    assert (newer && reason == BR_REASON_OK && br_roster_version (newer) == 2);
    assert (br_roster_lookup_by_id (newer, "luenen")->revoked);
    assert (!br_roster_lookup_route (newer, "05978024", "jugendamt", &reason));
    assert (reason == BR_REASON_NODE_REVOKED);

    //  A bad draft is refused: a broken key, an invalid revoked flag
    zconfig_put (reloaded, "roster/node/sign-public", "00");
    assert (!br_roster_draft_sign (reloaded, county, now, 3600 * 1000, &reason));
    assert (reason == BR_REASON_ROSTER_INVALID);
    assert (!br_roster_draft_sign (draft, county, now, 0, &reason));
    assert (reason == BR_REASON_ROSTER_INVALID);

    br_roster_destroy (&newer);
    br_roster_destroy (&roster);
    zchunk_destroy (&second);
    zchunk_destroy (&first);
    zconfig_destroy (&reloaded);
    zconfig_destroy (&draft);
    br_identity_destroy (&kreis);
    br_identity_destroy (&luenen);
    br_identity_destroy (&county);
    //  @end
    if (verbose)
        printf ("OK\n");
}
