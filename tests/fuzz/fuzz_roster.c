/*  =========================================================================
    fuzz_roster - fuzz target: a SignedRoster as a node receives it

    The input is one encoded SignedRoster. It is verified with the fixture's
    county key at FUZZ_NOW_MS, first with no roster held, and if it is
    accepted, its lookups are exercised (by id, by AGS, by transport key,
    routes) and it is verified again against held rosters to exercise the
    rollback rules: against the fixture roster (version 1), against itself,
    and the fixture roster against it.

    As in fuzz_envelope, a mutated input almost never carries the county's
    signature; when the signature is all that fails, the target signs the
    same roster bytes again with the county key and verifies the result too,
    so the content checks behind the signature stay in the fuzzer's reach.
    =========================================================================
*/

#include "fuzz_fixture.h"

//  Looks up everything the roster lists, and a few fixed keys, checking
//  that the lookups agree with the content.
static void
s_exercise (br_roster_t *roster)
{
    const Bruecke__Roster *content = br_roster_content (roster);
    FUZZ_CHECK (content && br_roster_check_content (content) == BR_REASON_OK);
    FUZZ_CHECK (br_roster_version (roster) == content->version && content->version >= 1);
    for (size_t index = 0; index < content->n_nodes; index++) {
        const Bruecke__RosterNode *node = content->nodes[index];
        FUZZ_CHECK (br_roster_lookup_by_id (roster, node->node_id) == node);
        FUZZ_CHECK (br_roster_lookup_by_transport_key (roster, node->transport_public_key.data) ==
                    node);
        const Bruecke__RosterNode *by_ags = br_roster_lookup_by_ags (roster, node->ags);
        if (node->role != BRUECKE__NODE_ROLE__ROLE_BROKER)
            FUZZ_CHECK (by_ags && streq (by_ags->ags, node->ags));
        for (size_t service = 0; service < node->n_services; service++)
            FUZZ_CHECK (br_roster_node_offers (node, node->services[service]));
        FUZZ_CHECK (!br_roster_node_offers (node, ""));
        FUZZ_CHECK (strcmp (br_roster_role_name (node->role), "unspecified") != 0);
        FUZZ_CHECK (br_roster_role_parse (br_roster_role_name (node->role)) == node->role);
    }
    for (size_t index = 0; index < content->n_routes; index++) {
        const Bruecke__Route *route = content->routes[index];
        br_reason_t reason;
        const Bruecke__RosterNode *node =
            br_roster_lookup_route (roster, route->ags, route->service, &reason);
        const Bruecke__RosterNode *named = br_roster_lookup_by_id (roster, route->node_id);
        FUZZ_CHECK (named && br_roster_node_offers (named, route->service));
        if (named->revoked)
            FUZZ_CHECK (!node && reason == BR_REASON_NODE_REVOKED);
        else
            FUZZ_CHECK (node == named && reason == BR_REASON_OK);
    }
    //  Fixed questions, whatever the roster says
    const char *ids[] = {"luenen", "unna", "kreis-unna", "werne", "", "-", "county"};
    for (size_t index = 0; index < sizeof (ids) / sizeof (ids[0]); index++) {
        const Bruecke__RosterNode *node = br_roster_lookup_by_id (roster, ids[index]);
        FUZZ_CHECK (!node || streq (node->node_id, ids[index]));
    }
    const char *ags[] = {"05978024", "05978036", "05978", "05978008", "", "0597802x"};
    const char *services[] = {"jugendamt", "gesundheitsamt", "fruehe-hilfen", "", "Jugendamt"};
    for (size_t index = 0; index < sizeof (ags) / sizeof (ags[0]); index++) {
        const Bruecke__RosterNode *node = br_roster_lookup_by_ags (roster, ags[index]);
        FUZZ_CHECK (!node || streq (node->ags, ags[index]));
        for (size_t service = 0; service < sizeof (services) / sizeof (services[0]); service++) {
            br_reason_t reason;
            node = br_roster_lookup_route (roster, ags[index], services[service], &reason);
            FUZZ_CHECK ((node != NULL) == (reason == BR_REASON_OK));
            FUZZ_CHECK (reason == BR_REASON_OK || reason == BR_REASON_NO_ROUTE ||
                        reason == BR_REASON_NODE_REVOKED);
            FUZZ_CHECK (!node ||
                        (!node->revoked && br_roster_node_offers (node, services[service])));
        }
    }
    uint8_t key[BR_CURVE_KEY_SIZE];
    memset (key, 0, sizeof (key));
    const Bruecke__RosterNode *node = br_roster_lookup_by_transport_key (roster, key);
    FUZZ_CHECK (!node || memcmp (node->transport_public_key.data, key, sizeof (key)) == 0);
}

//  What br_roster_verify must say about `candidate` when `held` is held.
static br_reason_t
s_expected_against (br_roster_t *candidate, br_roster_t *held)
{
    uint64_t version = br_roster_version (candidate);
    uint64_t held_version = br_roster_version (held);
    if (version > held_version)
        return BR_REASON_OK;
    if (version == held_version &&
        br_roster_signed_size (candidate) == br_roster_signed_size (held) &&
        memcmp (br_roster_signed_data (candidate), br_roster_signed_data (held),
                br_roster_signed_size (held)) == 0)
        return BR_REASON_OK;
    return BR_REASON_ROSTER_ROLLBACK;
}

//  Verifies `data` with `held` as the current roster and checks the outcome.
static void
s_verify_against (const uint8_t *data, size_t size, br_roster_t *held, br_reason_t expected)
{
    fuzz_fixture_t *fixture = fuzz_fixture ();
    br_reason_t reason;
    br_roster_t *roster = br_roster_verify (data, size, br_identity_sign_public (fixture->county),
                                            held, FUZZ_NOW_MS, &reason);
    FUZZ_CHECK ((roster != NULL) == (reason == BR_REASON_OK));
    FUZZ_CHECK (reason == expected);
    br_roster_destroy (&roster);
}

//  Verifies one encoded SignedRoster; returns the reason.
static br_reason_t
s_verify (const uint8_t *data, size_t size)
{
    fuzz_fixture_t *fixture = fuzz_fixture ();
    const uint8_t *county_public = br_identity_sign_public (fixture->county);
    br_reason_t reason;
    br_roster_t *roster = br_roster_verify (data, size, county_public, NULL, FUZZ_NOW_MS, &reason);
    FUZZ_CHECK ((roster != NULL) == (reason == BR_REASON_OK));
    if (!roster)
        return reason;
    FUZZ_CHECK (br_roster_signed_size (roster) == size);
    FUZZ_CHECK (memcmp (br_roster_signed_data (roster), data, size) == 0);
    s_exercise (roster);

    //  The rollback rules, both ways round, and the same roster again
    s_verify_against (data, size, fixture->roster, s_expected_against (roster, fixture->roster));
    s_verify_against (zchunk_data (fixture->roster_bytes), zchunk_size (fixture->roster_bytes),
                      roster, s_expected_against (fixture->roster, roster));
    s_verify_against (data, size, roster, BR_REASON_OK);

    //  Another key never accepts what the county signed
    br_reason_t other;
    br_roster_t *impostor = br_roster_verify (data, size, br_identity_sign_public (fixture->unna),
                                              NULL, FUZZ_NOW_MS, &other);
    FUZZ_CHECK (!impostor && other == BR_REASON_ROSTER_BAD_SIGNATURE);
    br_roster_destroy (&roster);
    FUZZ_CHECK (roster == NULL);
    return reason;
}

//  Signs the roster bytes inside `data` again with the county key and
//  verifies the result.
static void
s_verify_resigned (const uint8_t *data, size_t size)
{
    fuzz_fixture_t *fixture = fuzz_fixture ();
    br_reason_t reason;
    ProtobufCMessage *decoded = br_proto_decode (&bruecke__signed_roster__descriptor, data, size,
                                                 BR_ROSTER_MAX_SIZE, &reason);
    FUZZ_CHECK (decoded); //  br_roster_verify decoded the same bytes
    const Bruecke__SignedRoster *original = (const Bruecke__SignedRoster *) decoded;
    uint8_t signature[BR_SIGNATURE_SIZE];
    br_identity_sign (fixture->county, original->roster.data, original->roster.len, signature);
    Bruecke__SignedRoster resigned = BRUECKE__SIGNED_ROSTER__INIT;
    resigned.roster = original->roster;
    resigned.signature.data = signature;
    resigned.signature.len = sizeof (signature);
    zchunk_t *bytes = br_proto_encode (&resigned.base);
    reason = s_verify (zchunk_data (bytes), zchunk_size (bytes));
    FUZZ_CHECK (reason != BR_REASON_ROSTER_BAD_SIGNATURE);
    zchunk_destroy (&bytes);
    br_proto_free (&decoded);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    fuzz_fixture ();
    return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    br_reason_t reason = s_verify (data, size);
    if (reason == BR_REASON_ROSTER_BAD_SIGNATURE)
        s_verify_resigned (data, size);
    return 0;
}
