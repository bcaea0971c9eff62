/*  =========================================================================
    br_roster - the county's signed list of nodes, keys and responsibilities
    =========================================================================
*/

#include "br_roster.h"
#include "br_identity.h"
#include "br_proto.h"

struct _br_roster_t {
    zchunk_t *signed_bytes;   //  the encoded SignedRoster exactly as verified
    Bruecke__Roster *content; //  the decoded Roster
    zhash_t *by_id;           //  node id -> Bruecke__RosterNode *
    zhash_t *by_ags;          //  own AGS -> Bruecke__RosterNode * (first listed)
    zhash_t *by_transport;    //  hex transport key -> Bruecke__RosterNode *
    zhash_t *routes;          //  "ags/service" -> Bruecke__RosterNode *
};

//  Longest route key: AGS, '/', service, NUL.
#define S_ROUTE_KEY_MAX (BR_AGS_TOWN_DIGITS + 1 + BR_SERVICE_MAX + 1)

static void
s_route_key (char *key, const char *ags, const char *service)
{
    snprintf (key, S_ROUTE_KEY_MAX, "%s/%s", ags, service);
}

static bool
s_ags_valid (const char *ags)
{
    return br_ags_valid (ags, BR_AGS_TOWN_DIGITS) || br_ags_valid (ags, BR_AGS_COUNTY_DIGITS);
}

static bool
s_node_valid (const Bruecke__RosterNode *node)
{
    if (!br_token_valid (node->node_id, BR_NODE_ID_MAX) ||
        !br_text_valid (node->name, BR_NAME_MAX) || !s_ags_valid (node->ags))
        return false;
    if (node->role != BRUECKE__NODE_ROLE__ROLE_TOWN &&
        node->role != BRUECKE__NODE_ROLE__ROLE_COUNTY &&
        node->role != BRUECKE__NODE_ROLE__ROLE_BROKER)
        return false;
    if (node->sign_public_key.len != BR_SIGN_PUBLIC_SIZE ||
        node->transport_public_key.len != BR_CURVE_KEY_SIZE ||
        node->seal_public_key.len != BR_CURVE_KEY_SIZE)
        return false;
    if (node->n_services > BR_SERVICES_MAX)
        return false;
    for (size_t index = 0; index < node->n_services; index++) {
        if (!br_token_valid (node->services[index], BR_SERVICE_MAX))
            return false;
        for (size_t earlier = 0; earlier < index; earlier++)
            if (streq (node->services[earlier], node->services[index]))
                return false;
    }
    return true;
}

//  Inserts a hex rendering of `key` into `seen`; false if already there.
static bool
s_key_unique (zhash_t *seen, const ProtobufCBinaryData *key)
{
    char hex[2 * BR_CURVE_KEY_SIZE + 1];
    br_hex_encode (key->data, key->len, hex);
    return zhash_insert (seen, hex, (void *) key) == 0;
}

br_reason_t
br_roster_check_content (const Bruecke__Roster *roster)
{
    assert (roster);
    if (!br_ags_valid (roster->county_ags, BR_AGS_COUNTY_DIGITS) ||
        !br_text_valid (roster->county_name, BR_NAME_MAX) || roster->version < 1 ||
        roster->issued_at_ms >= roster->expires_at_ms || roster->n_nodes > BR_ROSTER_MAX_NODES ||
        roster->n_routes > BR_ROSTER_MAX_ROUTES ||
        roster->consent_days_max > BR_ROSTER_CONSENT_DAYS_LIMIT)
        return BR_REASON_ROSTER_INVALID;

    zhash_t *ids = zhash_new ();
    zhash_t *keys = zhash_new (); //  all public keys of all nodes are distinct
    zhash_t *routes = zhash_new ();
    br_reason_t reason = BR_REASON_OK;
    size_t brokers = 0;
    for (size_t index = 0; index < roster->n_nodes && reason == BR_REASON_OK; index++) {
        const Bruecke__RosterNode *node = roster->nodes[index];
        if (!s_node_valid (node) || zhash_insert (ids, node->node_id, (void *) node) != 0 ||
            !s_key_unique (keys, &node->sign_public_key) ||
            !s_key_unique (keys, &node->transport_public_key) ||
            !s_key_unique (keys, &node->seal_public_key))
            reason = BR_REASON_ROSTER_INVALID;
        if (node->role == BRUECKE__NODE_ROLE__ROLE_BROKER && ++brokers > 1)
            reason = BR_REASON_ROSTER_INVALID;
    }
    for (size_t index = 0; index < roster->n_routes && reason == BR_REASON_OK; index++) {
        const Bruecke__Route *route = roster->routes[index];
        if (!s_ags_valid (route->ags) || !br_token_valid (route->service, BR_SERVICE_MAX)) {
            reason = BR_REASON_ROSTER_INVALID;
            break;
        }
        const Bruecke__RosterNode *node =
            (const Bruecke__RosterNode *) zhash_lookup (ids, route->node_id);
        char key[S_ROUTE_KEY_MAX];
        s_route_key (key, route->ags, route->service);
        //  A route must name a listed node that offers the service, and no
        //  pair may be routed twice: ambiguity is an error, not a choice.
        if (!node || !br_roster_node_offers (node, route->service) ||
            zhash_insert (routes, key, (void *) node) != 0)
            reason = BR_REASON_ROSTER_INVALID;
    }
    zhash_destroy (&ids);
    zhash_destroy (&keys);
    zhash_destroy (&routes);
    return reason;
}

//  Builds the lookup indexes over verified content.
static void
s_index (br_roster_t *self)
{
    self->by_id = zhash_new ();
    self->by_ags = zhash_new ();
    self->by_transport = zhash_new ();
    self->routes = zhash_new ();
    for (size_t index = 0; index < self->content->n_nodes; index++) {
        Bruecke__RosterNode *node = self->content->nodes[index];
        zhash_insert (self->by_id, node->node_id, node);
        if (node->role != BRUECKE__NODE_ROLE__ROLE_BROKER)
            zhash_insert (self->by_ags, node->ags, node); //  first listed wins
        char hex[2 * BR_CURVE_KEY_SIZE + 1];
        br_hex_encode (node->transport_public_key.data, BR_CURVE_KEY_SIZE, hex);
        zhash_insert (self->by_transport, hex, node);
    }
    for (size_t index = 0; index < self->content->n_routes; index++) {
        Bruecke__Route *route = self->content->routes[index];
        char key[S_ROUTE_KEY_MAX];
        s_route_key (key, route->ags, route->service);
        zhash_insert (self->routes, key, zhash_lookup (self->by_id, route->node_id));
    }
}

br_roster_t *
br_roster_verify (const uint8_t *data, size_t size, const uint8_t county_public[32],
                  br_roster_t *current, int64_t now_ms, br_reason_t *reason)
{
    assert (county_public && reason);
    ProtobufCMessage *outer = br_proto_decode (&bruecke__signed_roster__descriptor, data, size,
                                               BR_ROSTER_MAX_SIZE, reason);
    if (!outer)
        return NULL;
    Bruecke__SignedRoster *signed_roster = (Bruecke__SignedRoster *) outer;
    if (signed_roster->signature.len != BR_SIGNATURE_SIZE ||
        !br_signature_valid (signed_roster->roster.data, signed_roster->roster.len,
                             signed_roster->signature.data, county_public)) {
        br_proto_free (&outer);
        *reason = BR_REASON_ROSTER_BAD_SIGNATURE;
        return NULL;
    }
    //  Only now, with the county's signature proven, decode the content.
    ProtobufCMessage *inner =
        br_proto_decode (&bruecke__roster__descriptor, signed_roster->roster.data,
                         signed_roster->roster.len, BR_ROSTER_MAX_SIZE, reason);
    br_proto_free (&outer);
    if (!inner) {
        *reason = BR_REASON_ROSTER_INVALID;
        return NULL;
    }
    Bruecke__Roster *content = (Bruecke__Roster *) inner;
    *reason = br_roster_check_content (content);
    if (*reason == BR_REASON_OK && current) {
        uint64_t held = br_roster_version (current);
        bool same_bytes = size == br_roster_signed_size (current) &&
                          memcmp (data, br_roster_signed_data (current), size) == 0;
        if (content->version < held || (content->version == held && !same_bytes))
            *reason = BR_REASON_ROSTER_ROLLBACK;
    }
    if (*reason == BR_REASON_OK && (now_ms + BR_ROSTER_CLOCK_SKEW_MS < content->issued_at_ms ||
                                    now_ms >= content->expires_at_ms))
        *reason = BR_REASON_ROSTER_EXPIRED;
    if (*reason != BR_REASON_OK) {
        br_proto_free (&inner);
        return NULL;
    }
    br_roster_t *self = (br_roster_t *) zmalloc (sizeof (br_roster_t));
    self->signed_bytes = zchunk_new (data, size);
    self->content = content;
    s_index (self);
    return self;
}

br_roster_t *
br_roster_load (const char *path, const uint8_t county_public[32], br_roster_t *current,
                int64_t now_ms, br_reason_t *reason)
{
    zchunk_t *chunk = br_file_read (path, BR_ROSTER_MAX_SIZE, reason);
    if (!chunk)
        return NULL;
    br_roster_t *self = br_roster_verify (zchunk_data (chunk), zchunk_size (chunk), county_public,
                                          current, now_ms, reason);
    zchunk_destroy (&chunk);
    return self;
}

void
br_roster_destroy (br_roster_t **self_p)
{
    assert (self_p);
    br_roster_t *self = *self_p;
    if (self) {
        zhash_destroy (&self->by_id);
        zhash_destroy (&self->by_ags);
        zhash_destroy (&self->by_transport);
        zhash_destroy (&self->routes);
        ProtobufCMessage *content = (ProtobufCMessage *) self->content;
        br_proto_free (&content);
        zchunk_destroy (&self->signed_bytes);
        free (self);
        *self_p = NULL;
    }
}

const Bruecke__Roster *
br_roster_content (br_roster_t *self)
{
    assert (self);
    return self->content;
}

int64_t
br_roster_consent_max_ms (br_roster_t *self)
{
    assert (self);
    uint32_t days = br_roster_content (self)->consent_days_max;
    return (int64_t) (days ? days : BR_ROSTER_CONSENT_DAYS_DEFAULT) * 24 * 3600 * 1000;
}

uint64_t
br_roster_version (br_roster_t *self)
{
    assert (self);
    return self->content->version;
}

const uint8_t *
br_roster_signed_data (br_roster_t *self)
{
    assert (self);
    return zchunk_data (self->signed_bytes);
}

size_t
br_roster_signed_size (br_roster_t *self)
{
    assert (self);
    return zchunk_size (self->signed_bytes);
}

const Bruecke__RosterNode *
br_roster_lookup_by_id (br_roster_t *self, const char *node_id)
{
    assert (self && node_id);
    return (const Bruecke__RosterNode *) zhash_lookup (self->by_id, node_id);
}

const Bruecke__RosterNode *
br_roster_lookup_by_ags (br_roster_t *self, const char *ags)
{
    assert (self && ags);
    return (const Bruecke__RosterNode *) zhash_lookup (self->by_ags, ags);
}

const Bruecke__RosterNode *
br_roster_lookup_by_transport_key (br_roster_t *self, const uint8_t key[32])
{
    assert (self && key);
    char hex[2 * BR_CURVE_KEY_SIZE + 1];
    br_hex_encode (key, BR_CURVE_KEY_SIZE, hex);
    return (const Bruecke__RosterNode *) zhash_lookup (self->by_transport, hex);
}

const Bruecke__RosterNode *
br_roster_lookup_route (br_roster_t *self, const char *ags, const char *service,
                        br_reason_t *reason)
{
    assert (self && ags && service && reason);
    const Bruecke__RosterNode *node = NULL;
    if (s_ags_valid (ags) && br_token_valid (service, BR_SERVICE_MAX)) {
        char key[S_ROUTE_KEY_MAX];
        s_route_key (key, ags, service);
        node = (const Bruecke__RosterNode *) zhash_lookup (self->routes, key);
    }
    if (!node) {
        *reason = BR_REASON_NO_ROUTE;
        return NULL;
    }
    if (node->revoked) {
        *reason = BR_REASON_NODE_REVOKED;
        return NULL;
    }
    *reason = BR_REASON_OK;
    return node;
}

bool
br_roster_node_offers (const Bruecke__RosterNode *node, const char *service)
{
    assert (node && service);
    for (size_t index = 0; index < node->n_services; index++)
        if (streq (node->services[index], service))
            return true;
    return false;
}

const char *
br_roster_role_name (Bruecke__NodeRole role)
{
    switch (role) {
        case BRUECKE__NODE_ROLE__ROLE_TOWN:
            return "town";
        case BRUECKE__NODE_ROLE__ROLE_COUNTY:
            return "county";
        case BRUECKE__NODE_ROLE__ROLE_BROKER:
            return "broker";
        default:
            return "unspecified";
    }
}

Bruecke__NodeRole
br_roster_role_parse (const char *name)
{
    if (name && streq (name, "town"))
        return BRUECKE__NODE_ROLE__ROLE_TOWN;
    if (name && streq (name, "county"))
        return BRUECKE__NODE_ROLE__ROLE_COUNTY;
    if (name && streq (name, "broker"))
        return BRUECKE__NODE_ROLE__ROLE_BROKER;
    return BRUECKE__NODE_ROLE__ROLE_UNSPECIFIED;
}

//  ---- Self test ----------------------------------------------------------

#include "br_roster_draft.h"

//  Signs any Roster structure with `county`, bypassing the draft's checks,
//  so the verifier's own checks can be tested.
static zchunk_t *
s_test_sign (Bruecke__Roster *roster, br_identity_t *county)
{
    zchunk_t *roster_bytes = br_proto_encode (&roster->base);
    uint8_t signature[BR_SIGNATURE_SIZE];
    br_identity_sign (county, zchunk_data (roster_bytes), zchunk_size (roster_bytes), signature);
    Bruecke__SignedRoster signed_roster = BRUECKE__SIGNED_ROSTER__INIT;
    signed_roster.roster.data = zchunk_data (roster_bytes);
    signed_roster.roster.len = zchunk_size (roster_bytes);
    signed_roster.signature.data = signature;
    signed_roster.signature.len = sizeof (signature);
    zchunk_t *signed_bytes = br_proto_encode (&signed_roster.base);
    zchunk_destroy (&roster_bytes);
    return signed_bytes;
}

//  Verifies `chunk` and returns the reason; destroys any roster it yields.
static br_reason_t
s_test_verify (zchunk_t *chunk, br_identity_t *county, br_roster_t *current, int64_t now)
{
    br_reason_t reason;
    br_roster_t *roster =
        br_roster_verify (zchunk_data (chunk), zchunk_size (chunk),
                          br_identity_sign_public (county), current, now, &reason);
    assert ((roster != NULL) == (reason == BR_REASON_OK));
    br_roster_destroy (&roster);
    return reason;
}

void
br_roster_test (bool verbose)
{
    if (verbose)
        printf (" * br_roster: ");
    //  @selftest
    int64_t now = br_now_ms ();
    int64_t hour = 3600 * 1000;
    br_identity_t *county = br_identity_new ("county");
    br_identity_t *impostor = br_identity_new ("county");
    br_identity_t *unna = br_identity_new ("unna");
    br_identity_t *boenen = br_identity_new ("boenen");
    br_identity_t *kreis = br_identity_new ("kreis-unna");
    br_identity_t *broker = br_identity_new ("broker");

    //  Bönen has no youth office of its own: the Kreis is its Jugendamt
    zconfig_t *draft = br_roster_draft_new ("05978", "Kreis Unna");
    assert (br_roster_draft_add_node (draft, unna, "Unna", "05978036",
                                      BRUECKE__NODE_ROLE__ROLE_TOWN,
                                      "jugendamt,fruehe-hilfen") == BR_REASON_OK);
    assert (br_roster_draft_add_node (draft, boenen, "B\xc3\xb6nen", "05978008",
                                      BRUECKE__NODE_ROLE__ROLE_TOWN,
                                      "familienbuero") == BR_REASON_OK);
    assert (br_roster_draft_add_node (draft, kreis, "Kreis Unna", "05978",
                                      BRUECKE__NODE_ROLE__ROLE_COUNTY,
                                      "jugendamt,gesundheitsamt") == BR_REASON_OK);
    assert (br_roster_draft_add_node (draft, broker, "Kreis Unna Koordinierung", "05978",
                                      BRUECKE__NODE_ROLE__ROLE_BROKER, "") == BR_REASON_OK);
    assert (br_roster_draft_add_route (draft, "05978036", "jugendamt", "unna") == BR_REASON_OK);
    assert (br_roster_draft_add_route (draft, "05978008", "jugendamt", "kreis-unna") ==
            BR_REASON_OK);
    assert (br_roster_draft_add_route (draft, "05978008", "familienbuero", "boenen") ==
            BR_REASON_OK);
    br_reason_t reason;
    zchunk_t *version1 = br_roster_draft_sign (draft, county, now, hour, &reason);
    zchunk_t *version2 = br_roster_draft_sign (draft, county, now, hour, &reason);
    assert (version1 && version2);

    br_roster_t *roster = br_roster_verify (zchunk_data (version1), zchunk_size (version1),
                                            br_identity_sign_public (county), NULL, now, &reason);
    assert (roster && reason == BR_REASON_OK);
    assert (br_roster_version (roster) == 1);
    assert (br_roster_content (roster)->n_nodes == 4);
    assert (br_roster_signed_size (roster) == zchunk_size (version1));
    assert (memcmp (br_roster_signed_data (roster), zchunk_data (version1),
                    zchunk_size (version1)) == 0);

    //  Lookups
    const Bruecke__RosterNode *node = br_roster_lookup_by_id (roster, "boenen");
    assert (node && node->role == BRUECKE__NODE_ROLE__ROLE_TOWN);
    assert (!br_roster_lookup_by_id (roster, "werne"));
    node = br_roster_lookup_by_ags (roster, "05978008");
    assert (node && streq (node->node_id, "boenen"));
    node = br_roster_lookup_by_ags (roster, "05978");
    assert (node && streq (node->node_id, "kreis-unna"));
    node = br_roster_lookup_by_transport_key (roster, br_identity_transport_public (unna));
    assert (node && streq (node->node_id, "unna"));
    assert (!br_roster_lookup_by_transport_key (roster, br_identity_sign_public (unna)));
    //  Responsibility is the roster's, not the town's: Bönen's Jugendamt is the Kreis
    node = br_roster_lookup_route (roster, "05978008", "jugendamt", &reason);
    assert (node && reason == BR_REASON_OK && streq (node->node_id, "kreis-unna"));
    node = br_roster_lookup_route (roster, "05978036", "jugendamt", &reason);
    assert (node && streq (node->node_id, "unna"));
    assert (!br_roster_lookup_route (roster, "05978036", "gesundheitsamt", &reason));
    assert (reason == BR_REASON_NO_ROUTE);
    assert (!br_roster_lookup_route (roster, "bad", "jugendamt", &reason));
    assert (reason == BR_REASON_NO_ROUTE);
    assert (br_roster_node_offers (node, "fruehe-hilfen"));
    assert (!br_roster_node_offers (node, "jobcenter"));
    assert (br_roster_role_parse ("county") == BRUECKE__NODE_ROLE__ROLE_COUNTY);
    assert (br_roster_role_parse ("mayor") == BRUECKE__NODE_ROLE__ROLE_UNSPECIFIED);
    assert (streq (br_roster_role_name (BRUECKE__NODE_ROLE__ROLE_BROKER), "broker"));

    //  Newer version accepted, the same bytes again accepted, rollback refused
    assert (s_test_verify (version2, county, roster, now) == BR_REASON_OK);
    assert (s_test_verify (version1, county, roster, now) == BR_REASON_OK);
    br_roster_t *newer = br_roster_verify (zchunk_data (version2), zchunk_size (version2),
                                           br_identity_sign_public (county), roster, now, &reason);
    assert (newer);
    assert (s_test_verify (version1, county, newer, now) == BR_REASON_ROSTER_ROLLBACK);
    //  Same version, other bytes: refused too
    Bruecke__Roster *content = (Bruecke__Roster *) br_roster_content (newer);
    content->issued_at_ms -= 1;
    zchunk_t *conflicting = s_test_sign (content, county);
    content->issued_at_ms += 1;
    assert (s_test_verify (conflicting, county, newer, now) == BR_REASON_ROSTER_ROLLBACK);
    zchunk_destroy (&conflicting);

    //  Expired, not yet issued
    assert (s_test_verify (version2, county, NULL, now + 2 * hour) == BR_REASON_ROSTER_EXPIRED);
    assert (s_test_verify (version2, county, NULL, now - hour) == BR_REASON_ROSTER_EXPIRED);

    //  Signed by another key; a flipped bit anywhere; truncated; garbage; too large
    assert (s_test_verify (version2, impostor, NULL, now) == BR_REASON_ROSTER_BAD_SIGNATURE);
    for (size_t offset = 0; offset < zchunk_size (version2); offset += 7) {
        zchunk_t *flipped = zchunk_dup (version2);
        zchunk_data (flipped)[offset] ^= 0x10;
        reason = s_test_verify (flipped, county, NULL, now);
        assert (reason == BR_REASON_ROSTER_BAD_SIGNATURE || reason == BR_REASON_MALFORMED);
        zchunk_destroy (&flipped);
    }
    assert (!br_roster_verify (zchunk_data (version2), zchunk_size (version2) / 2,
                               br_identity_sign_public (county), NULL, now, &reason));
    assert (reason == BR_REASON_MALFORMED || reason == BR_REASON_ROSTER_BAD_SIGNATURE);
    uint8_t garbage[64];
    memset (garbage, 0xff, sizeof (garbage));
    assert (!br_roster_verify (garbage, sizeof (garbage), br_identity_sign_public (county), NULL,
                               now, &reason));
    assert (reason == BR_REASON_MALFORMED);
    assert (!br_roster_verify (zchunk_data (version2), BR_ROSTER_MAX_SIZE + 1,
                               br_identity_sign_public (county), NULL, now, &reason));
    assert (reason == BR_REASON_TOO_LARGE);

    //  Content the county signed but that is inconsistent: refused all the same
    Bruecke__RosterNode **nodes = content->nodes;
    Bruecke__RosterNode *first = nodes[0];
    nodes[0] = nodes[1]; //  the same node id twice
    zchunk_t *bad = s_test_sign (content, county);
    assert (s_test_verify (bad, county, NULL, now) == BR_REASON_ROSTER_INVALID);
    zchunk_destroy (&bad);
    nodes[0] = first;
    first->sign_public_key.len = 31; //  a short key
    bad = s_test_sign (content, county);
    assert (s_test_verify (bad, county, NULL, now) == BR_REASON_ROSTER_INVALID);
    zchunk_destroy (&bad);
    first->sign_public_key.len = 32;
    Bruecke__Route *route = content->routes[0];
    char *service = route->service;
    route->service = "jobcenter"; //  a route to a node that does not offer it
    bad = s_test_sign (content, county);
    assert (s_test_verify (bad, county, NULL, now) == BR_REASON_ROSTER_INVALID);
    zchunk_destroy (&bad);
    route->service = service;
    Bruecke__Route *second_route = content->routes[1];
    content->routes[1] = route; //  the same (AGS, service) routed twice
    bad = s_test_sign (content, county);
    assert (s_test_verify (bad, county, NULL, now) == BR_REASON_ROSTER_INVALID);
    zchunk_destroy (&bad);
    content->routes[1] = second_route;
    first->role = BRUECKE__NODE_ROLE__ROLE_BROKER; //  two brokers
    bad = s_test_sign (content, county);
    assert (s_test_verify (bad, county, NULL, now) == BR_REASON_ROSTER_INVALID);
    zchunk_destroy (&bad);
    first->role = BRUECKE__NODE_ROLE__ROLE_TOWN;
    //  Unchanged content signs and verifies again: the mutations were the cause
    bad = s_test_sign (content, county);
    assert (s_test_verify (bad, county, NULL, now) == BR_REASON_OK);
    zchunk_destroy (&bad);

    //  Load from a file
    char *directory = br_temp_directory ("br_roster_test");
    assert (directory);
    char path[PATH_MAX];
    snprintf (path, sizeof (path), "%s/roster", directory);
    assert (br_file_write (path, zchunk_data (version2), zchunk_size (version2), 0644, false) ==
            BR_REASON_OK);
    br_roster_t *loaded =
        br_roster_load (path, br_identity_sign_public (county), NULL, now, &reason);
    assert (loaded && br_roster_version (loaded) == 2);
    br_roster_destroy (&loaded);
    unlink (path);
    rmdir (directory);
    zstr_free (&directory);

    br_roster_destroy (&newer);
    br_roster_destroy (&roster);
    br_roster_destroy (&roster);
    zchunk_destroy (&version1);
    zchunk_destroy (&version2);
    zconfig_destroy (&draft);
    br_identity_destroy (&broker);
    br_identity_destroy (&kreis);
    br_identity_destroy (&boenen);
    br_identity_destroy (&unna);
    br_identity_destroy (&impostor);
    br_identity_destroy (&county);
    //  @end
    if (verbose)
        printf ("OK\n");
}
