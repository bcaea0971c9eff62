/*  =========================================================================
    br_testing - an invented county for the selftests
    =========================================================================
*/

#include "bruecke.h"
#include "br_testing.h"
#include "br_roster_draft.h"
#include "br_util.h"

#define S_ROSTER_VALID_MS (3600 * 1000)

//  Adds a node to the draft.
static void
s_add (br_testing_county_t *self, br_identity_t *node, const char *name, const char *ags,
       Bruecke__NodeRole role, const char *services)
{
    br_reason_t reason = br_roster_draft_add_node (self->draft, node, name, ags, role, services);
    assert (reason == BR_REASON_OK);
}

//  Signs the draft now; returns the verified roster, its bytes in *signed_p.
static br_roster_t *
s_sign (br_testing_county_t *self, zchunk_t **signed_p)
{
    br_reason_t reason;
    int64_t now = br_now_ms ();
    *signed_p = br_roster_draft_sign (self->draft, self->county, now, S_ROSTER_VALID_MS, &reason);
    assert (*signed_p);
    br_roster_t *roster =
        br_roster_verify (zchunk_data (*signed_p), zchunk_size (*signed_p),
                          br_identity_sign_public (self->county), NULL, now, &reason);
    assert (roster);
    return roster;
}

br_testing_county_t *
br_testing_county_new (void)
{
    br_testing_county_t *self = (br_testing_county_t *) zmalloc (sizeof (br_testing_county_t));
    assert (self);
    self->county = br_identity_new ("county");
    self->broker = br_identity_new ("broker");
    self->luenen = br_identity_new ("luenen");
    self->unna = br_identity_new ("unna");
    self->kamen = br_identity_new ("kamen");
    self->selm = br_identity_new ("selm");
    self->stranger = br_identity_new ("fremd");
    self->draft = br_roster_draft_new ("05978", "Kreis Unna");
    s_add (self, self->broker, "Broker", "05978", BRUECKE__NODE_ROLE__ROLE_BROKER, "");
    s_add (self, self->luenen, "L\xc3\xbcnen", "05978024", BRUECKE__NODE_ROLE__ROLE_TOWN,
           "jobcenter");
    s_add (self, self->unna, "Unna", "05978036", BRUECKE__NODE_ROLE__ROLE_TOWN, "fruehe-hilfen");
    s_add (self, self->kamen, "Kamen", "05978016", BRUECKE__NODE_ROLE__ROLE_TOWN, "jugendamt");
    s_add (self, self->selm, "Selm", "05978032", BRUECKE__NODE_ROLE__ROLE_TOWN, "jugendamt");
    br_reason_t reason = br_roster_draft_revoke (self->draft, "selm");
    assert (reason == BR_REASON_OK);
    self->roster = s_sign (self, &self->signed_roster);
    return self;
}

void
br_testing_county_destroy (br_testing_county_t **self_p)
{
    assert (self_p);
    br_testing_county_t *self = *self_p;
    if (!self)
        return;
    br_roster_destroy (&self->roster);
    zchunk_destroy (&self->signed_roster);
    zconfig_destroy (&self->draft);
    br_identity_t **identities[] = {&self->county, &self->broker, &self->luenen,  &self->unna,
                                    &self->kamen,  &self->selm,   &self->stranger};
    for (size_t index = 0; index < sizeof (identities) / sizeof (identities[0]); index++)
        br_identity_destroy (identities[index]);
    free (self);
    *self_p = NULL;
}

br_roster_t *
br_testing_county_sign (br_testing_county_t *self)
{
    assert (self);
    zchunk_t *signed_roster = NULL;
    br_roster_t *roster = s_sign (self, &signed_roster);
    zchunk_destroy (&signed_roster);
    return roster;
}

br_reason_t
br_testing_county_write (br_testing_county_t *self, const char *directory)
{
    assert (self && directory);
    br_identity_t *nodes[] = {self->county, self->broker, self->luenen, self->unna, self->kamen};
    br_reason_t reason = BR_REASON_OK;
    for (size_t index = 0; index < sizeof (nodes) / sizeof (nodes[0]); index++) {
        const char *id = br_identity_node_id (nodes[index]);
        char *secret = zsys_sprintf ("%s/%s.key", directory, id);
        char *public = zsys_sprintf ("%s/%s.pub", directory, id);
        reason = br_identity_save (nodes[index], secret, public);
        zstr_free (&secret);
        zstr_free (&public);
        if (reason != BR_REASON_OK)
            return reason;
    }
    char *roster = zsys_sprintf ("%s/roster.bin", directory);
    reason = br_file_write (roster, zchunk_data (self->signed_roster),
                            zchunk_size (self->signed_roster), 0644, false);
    zstr_free (&roster);
    return reason;
}

zchunk_t *
br_testing_message (br_identity_t *from, br_identity_t *to, br_identity_t *seal_to,
                    Bruecke__MessageType type, const ProtobufCMessage *body, uint8_t consent,
                    int64_t created_ms, int64_t lifetime_ms)
{
    assert (from && to && body);
    uint8_t id[BR_MESSAGE_ID_SIZE];
    Bruecke__Header header;
    br_envelope_header_init (&header, id, type, br_identity_node_id (from),
                             br_identity_node_id (to), "fruehe-hilfen", 1, created_ms, lifetime_ms);
    uint8_t consent_id[BR_CONSENT_ID_SIZE] = {consent};
    char *categories[] = {"household"};
    Bruecke__Attestation attestation = BRUECKE__ATTESTATION__INIT;
    attestation.basis = BRUECKE__LEGAL_BASIS__BASIS_CONSENT;
    attestation.consent_id.data = consent_id;
    attestation.consent_id.len = sizeof (consent_id);
    attestation.purpose = "language-support";
    attestation.data_categories = categories;
    attestation.n_data_categories = 1;
    attestation.recipient = (char *) br_identity_node_id (to);
    attestation.recipient_service = "fruehe-hilfen";
    attestation.valid_from_ms = created_ms;
    attestation.valid_until_ms = created_ms + lifetime_ms;
    return br_envelope_build (from, &header, consent ? &attestation : NULL, body,
                              br_identity_seal_public (seal_to ? seal_to : to));
}

void
br_testing_test (bool verbose)
{
    if (verbose)
        printf (" * br_testing: ");
    //  @selftest
    br_testing_county_t *county = br_testing_county_new ();
    assert (br_roster_lookup_by_id (county->roster, "luenen"));
    assert (!br_roster_lookup_by_id (county->roster, "fremd"));
    br_roster_t *again = br_testing_county_sign (county);
    assert (br_roster_version (again) > br_roster_version (county->roster));
    br_roster_destroy (&again);

    char *path = br_temp_directory ("br_testing");
    assert (path);
    assert (br_testing_county_write (county, path) == BR_REASON_OK);
    char *file = zsys_sprintf ("%s/unna.key", path);
    br_reason_t reason;
    br_identity_t *unna = br_identity_load (file, &reason);
    assert (unna && streq (br_identity_node_id (unna), "unna"));
    br_identity_destroy (&unna);
    zstr_free (&file);
    file = zsys_sprintf ("%s/county.pub", path);
    br_identity_t *county_public = br_identity_load_public (file, &reason);
    assert (county_public);
    zstr_free (&file);
    file = zsys_sprintf ("%s/roster.bin", path);
    br_roster_t *loaded =
        br_roster_load (file, br_identity_sign_public (county_public), NULL, br_now_ms (), &reason);
    assert (loaded && br_roster_version (loaded) == br_roster_version (county->roster));
    br_roster_destroy (&loaded);
    br_identity_destroy (&county_public);
    zstr_free (&file);
    //  A test message opens for its recipient, signed by its sender
    Bruecke__TestNote note = BRUECKE__TEST_NOTE__INIT;
    note.text = "erfunden";
    zchunk_t *bytes = br_testing_message (county->luenen, county->unna, NULL,
                                          BRUECKE__MESSAGE_TYPE__TYPE_TEST_NOTE, &note.base, 3,
                                          br_now_ms (), 60000);
    br_envelope_t *envelope =
        br_envelope_decode (zchunk_data (bytes), zchunk_size (bytes), &reason);
    assert (envelope && br_envelope_verify_in_roster (envelope, county->roster) == BR_REASON_OK);
    assert (br_envelope_message (envelope)->attestation->consent_id.data[0] == 3);
    ProtobufCMessage *body = NULL;
    assert (br_envelope_open_body (envelope, county->unna, &bruecke__test_note__descriptor,
                                   &body) == BR_REASON_OK);
    assert (streq (((Bruecke__TestNote *) body)->text, "erfunden"));
    br_proto_free (&body);
    br_envelope_destroy (&envelope);
    zchunk_destroy (&bytes);
    //  Twice into one directory: the keys are not overwritten
    assert (br_testing_county_write (county, path) != BR_REASON_OK);
    br_testing_county_destroy (&county);
    br_testing_county_destroy (&county);
    assert (br_temp_directory_remove (&path));
    //  @end
    if (verbose)
        printf ("OK\n");
}
