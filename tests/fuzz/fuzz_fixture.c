/*  =========================================================================
    fuzz_fixture - the fixed world the fuzz targets and the corpus generator share
    =========================================================================
*/

#include "fuzz_fixture.h"

static fuzz_fixture_t *s_fixture = NULL;

//  Derives the identity `node_id` from the seed bytes first, first + 1, ...
static br_identity_t *
s_identity (const char *node_id, uint8_t first)
{
    uint8_t seed[BR_SEED_SIZE];
    for (size_t index = 0; index < sizeof (seed); index++)
        seed[index] = (uint8_t) (first + index);
    br_identity_t *identity = br_identity_new_from_seed (node_id, seed);
    FUZZ_CHECK (identity);
    return identity;
}

static void
s_add_node (zconfig_t *draft, br_identity_t *keys, const char *name, const char *ags,
            Bruecke__NodeRole role, const char *services)
{
    FUZZ_CHECK (br_roster_draft_add_node (draft, keys, name, ags, role, services) == BR_REASON_OK);
}

static void
s_add_route (zconfig_t *draft, const char *ags, const char *service, const char *node_id)
{
    FUZZ_CHECK (br_roster_draft_add_route (draft, ags, service, node_id) == BR_REASON_OK);
}

static void
s_fixture_destroy (void)
{
    if (s_fixture) {
        br_roster_destroy (&s_fixture->roster);
        zchunk_destroy (&s_fixture->roster_bytes);
        br_identity_destroy (&s_fixture->luenen);
        br_identity_destroy (&s_fixture->unna);
        br_identity_destroy (&s_fixture->county);
        br_identity_destroy (&s_fixture->kreis_unna);
        br_identity_destroy (&s_fixture->werne);
        free (s_fixture);
        s_fixture = NULL;
    }
}

zconfig_t *
fuzz_fixture_roster_draft (void)
{
    fuzz_fixture_t *fixture = fuzz_fixture ();
    zconfig_t *draft = br_roster_draft_new (FUZZ_COUNTY_AGS, FUZZ_COUNTY_NAME);
    s_add_node (draft, fixture->luenen, "L\xc3\xbcnen", "05978024", BRUECKE__NODE_ROLE__ROLE_TOWN,
                "jobcenter,jugendamt");
    s_add_node (draft, fixture->unna, "Unna", "05978036", BRUECKE__NODE_ROLE__ROLE_TOWN,
                "fruehe-hilfen,jugendamt");
    s_add_node (draft, fixture->kreis_unna, "Kreis Unna", "05978", BRUECKE__NODE_ROLE__ROLE_COUNTY,
                "gesundheitsamt,jugendamt");
    s_add_node (draft, fixture->werne, "Werne", "05978040", BRUECKE__NODE_ROLE__ROLE_TOWN,
                "jugendamt");
    FUZZ_CHECK (br_roster_draft_revoke (draft, "werne") == BR_REASON_OK);

    s_add_route (draft, "05978024", "jobcenter", "luenen");
    s_add_route (draft, "05978024", "jugendamt", "luenen");
    s_add_route (draft, "05978036", "fruehe-hilfen", "unna");
    s_add_route (draft, "05978036", "jugendamt", "unna");
    //  Bönen, Fröndenberg/Ruhr and Holzwickede have no youth office of
    //  their own: the Kreis administration is their Jugendamt.
    s_add_route (draft, "05978008", "jugendamt", "kreis-unna");
    s_add_route (draft, "05978012", "jugendamt", "kreis-unna");
    s_add_route (draft, "05978016", "jugendamt", "kreis-unna");
    s_add_route (draft, "05978024", "gesundheitsamt", "kreis-unna");
    s_add_route (draft, "05978036", "gesundheitsamt", "kreis-unna");
    s_add_route (draft, "05978040", "jugendamt", "werne");
    return draft;
}

fuzz_fixture_t *
fuzz_fixture (void)
{
    if (s_fixture)
        return s_fixture;
    FUZZ_CHECK (sodium_init () >= 0);
    s_fixture = (fuzz_fixture_t *) zmalloc (sizeof (fuzz_fixture_t));
    s_fixture->luenen = s_identity ("luenen", 0x00);
    s_fixture->unna = s_identity ("unna", 0x20);
    s_fixture->county = s_identity ("county", 0x40);
    s_fixture->kreis_unna = s_identity ("kreis-unna", 0x60);
    s_fixture->werne = s_identity ("werne", 0x80);

    zconfig_t *draft = fuzz_fixture_roster_draft ();
    br_reason_t reason;
    s_fixture->roster_bytes = br_roster_draft_sign (draft, s_fixture->county, FUZZ_ROSTER_ISSUED_MS,
                                                    FUZZ_ROSTER_VALID_MS, &reason);
    zconfig_destroy (&draft);
    FUZZ_CHECK (s_fixture->roster_bytes && reason == BR_REASON_OK);
    s_fixture->roster = br_roster_verify (
        zchunk_data (s_fixture->roster_bytes), zchunk_size (s_fixture->roster_bytes),
        br_identity_sign_public (s_fixture->county), NULL, FUZZ_NOW_MS, &reason);
    FUZZ_CHECK (s_fixture->roster && reason == BR_REASON_OK);
    FUZZ_CHECK (br_roster_version (s_fixture->roster) == FUZZ_ROSTER_VERSION);
    atexit (s_fixture_destroy);
    return s_fixture;
}

br_identity_t *
fuzz_fixture_identity (const char *node_id)
{
    fuzz_fixture_t *fixture = fuzz_fixture ();
    if (!node_id)
        return NULL;
    br_identity_t *identities[] = {fixture->luenen, fixture->unna, fixture->county,
                                   fixture->kreis_unna, fixture->werne};
    for (size_t index = 0; index < sizeof (identities) / sizeof (identities[0]); index++)
        if (streq (br_identity_node_id (identities[index]), node_id))
            return identities[index];
    return NULL;
}

void
fuzz_check_failed (const char *condition, const char *file, int line)
{
    fprintf (stderr, "%s:%d: fuzz invariant failed: %s\n", file, line, condition);
    fflush (stderr);
    abort ();
}
