/*  =========================================================================
    bruecke-make-corpus - writes the fuzz targets' seed corpus

    Usage: bruecke-make-corpus DIR      (normally tests/fuzz/corpus)

    Writes DIR/envelope, DIR/roster and DIR/attestation: valid inputs that
    pass every check of the fuzz targets against the fuzz fixture (same keys,
    same roster, same clock), and invalid ones that each fail one check in a
    named way. Before writing an input the generator checks that it is
    refused with the reason its name promises, so the names stay true.
    DIR/casework holds casework bodies for fuzz_casework; their verdicts
    come from the node's casework, which this generator does not link: the
    target shows them (FUZZ_CASEWORK_TRACE). DIR/exchange likewise holds
    Transferbörse bodies for fuzz_exchange (FUZZ_EXCHANGE_TRACE). DIR/record
    holds node store records (proto/records.proto) for fuzz_record, written
    field by field as the generator lacks their descriptors; bn_record's
    verdicts show with FUZZ_RECORD_TRACE.

    The output is the same on every run, byte for byte: message ids are
    fixed, Ed25519 signatures are deterministic, and the generator replaces
    libsodium's random source with a fixed stream, so even the ephemeral keys
    of sealed bodies repeat. Regenerating changes only what the code changed.
    That stream is for this generator alone: it makes nothing secret.
    Files are replaced; files of other names are left alone.
    =========================================================================
*/

#include "fuzz_fixture.h"

#define S_MINUTE_MS (60LL * 1000)

static const char *s_root = NULL; //  the corpus directory
static size_t s_written = 0;      //  files written so far

//  Writes one corpus file, DIR/kind/name.
static void
s_write (const char *kind, const char *name, const uint8_t *data, size_t size)
{
    FUZZ_CHECK (size <= FUZZ_MAX_INPUT_SIZE);
    char *path = zsys_sprintf ("%s/%s/%s", s_root, kind, name);
    if (br_file_write (path, data, size, 0644, true) != BR_REASON_OK) {
        fprintf (stderr, "bruecke-make-corpus: cannot write %s\n", path);
        exit (1);
    }
    zstr_free (&path);
    s_written++;
}

static void
s_write_chunk (const char *kind, const char *name, zchunk_t *chunk)
{
    s_write (kind, name, zchunk_data (chunk), zchunk_size (chunk));
}

//  ---- Envelopes ----------------------------------------------------------

//  A header and the storage of its message id.
typedef struct {
    Bruecke__Header header;         //  the header; its id points into `id`
    uint8_t id[BR_MESSAGE_ID_SIZE]; //  the message id
} s_header_t;

//  Fills a header created at `created_ms`, and replaces the random message
//  id with a fixed one made from `tag`, so the corpus is reproducible.
static void
s_header (s_header_t *self, uint8_t tag, Bruecke__MessageType type, const char *sender,
          const char *recipient, const char *service, int64_t created_ms, int64_t lifetime_ms)
{
    br_envelope_header_init (&self->header, self->id, type, sender, recipient, service, tag,
                             created_ms, lifetime_ms);
    for (size_t index = 0; index < BR_MESSAGE_ID_SIZE; index++)
        self->id[index] = (uint8_t) (0xf0 + index);
    self->id[BR_MESSAGE_ID_SIZE - 1] = tag;
}

//  The receiver's steps, as fuzz_envelope runs them; the first refusal.
static br_reason_t
s_receive (zchunk_t *chunk)
{
    fuzz_fixture_t *fixture = fuzz_fixture ();
    br_reason_t reason;
    br_envelope_t *envelope =
        br_envelope_decode (zchunk_data (chunk), zchunk_size (chunk), &reason);
    if (!envelope)
        return reason;
    reason = br_envelope_verify_in_roster (envelope, fixture->roster);
    if (reason == BR_REASON_OK)
        reason = br_envelope_check_time (envelope, FUZZ_NOW_MS);
    if (reason == BR_REASON_OK)
        reason = br_envelope_check_attestation (envelope, FUZZ_NOW_MS);
    if (reason == BR_REASON_OK) {
        const Bruecke__Header *header = br_envelope_header (envelope);
        const ProtobufCMessageDescriptor *descriptor =
            header->type == BRUECKE__MESSAGE_TYPE__TYPE_TEST_NOTE ? &bruecke__test_note__descriptor
            : header->type == BRUECKE__MESSAGE_TYPE__TYPE_RECEIPT ? &bruecke__receipt__descriptor
                                                                  : NULL;
        if (descriptor) {
            ProtobufCMessage *body = NULL;
            reason = br_envelope_open_body (envelope, fuzz_fixture_identity (header->recipient),
                                            descriptor, &body);
            br_proto_free (&body);
        }
    }
    br_envelope_destroy (&envelope);
    return reason;
}

//  Checks that `chunk` is received with `expected`, writes it as
//  envelope/name and destroys it.
static void
s_envelope (const char *name, zchunk_t **chunk_p, br_reason_t expected)
{
    br_reason_t reason = s_receive (*chunk_p);
    if (reason != expected) {
        fprintf (stderr, "bruecke-make-corpus: envelope/%s: expected %s, got %s\n", name,
                 br_reason_name (expected), br_reason_name (reason));
        exit (1);
    }
    s_write_chunk ("envelope", name, *chunk_p);
    zchunk_destroy (chunk_p);
}

//  Encodes a Message from its parts, without the builder's assertions.
static zchunk_t *
s_message_bytes (Bruecke__Header *header, Bruecke__Attestation *attestation, const uint8_t *body,
                 size_t body_size)
{
    Bruecke__Message message = BRUECKE__MESSAGE__INIT;
    message.header = header;
    message.attestation = attestation;
    message.body.data = (uint8_t *) body;
    message.body.len = body_size;
    return br_proto_encode (&message.base);
}

//  Wraps message bytes in an Envelope that claims `signer` but carries a
//  signature of `signature_size` bytes by `key`, without the builder's
//  assertions. Destroys the message bytes.
static zchunk_t *
s_envelope_forged (zchunk_t **message_p, br_identity_t *key, const char *signer,
                   size_t signature_size)
{
    uint8_t signature[BR_SIGNATURE_SIZE];
    br_identity_sign (key, zchunk_data (*message_p), zchunk_size (*message_p), signature);
    FUZZ_CHECK (signature_size <= sizeof (signature));
    Bruecke__Envelope envelope = BRUECKE__ENVELOPE__INIT;
    envelope.message.data = zchunk_data (*message_p);
    envelope.message.len = zchunk_size (*message_p);
    envelope.signature.data = signature;
    envelope.signature.len = signature_size;
    envelope.signer = (char *) signer;
    zchunk_t *chunk = br_proto_encode (&envelope.base);
    zchunk_destroy (message_p);
    return chunk;
}

//  Signs a Message made of `header` alone, as `key`'s own node.
static zchunk_t *
s_header_only (br_identity_t *key, s_header_t *header)
{
    zchunk_t *message = s_message_bytes (&header->header, NULL, NULL, 0);
    return s_envelope_forged (&message, key, br_identity_node_id (key), BR_SIGNATURE_SIZE);
}

static uint8_t s_consent_id[BR_CONSENT_ID_SIZE] = {0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7,
                                                   0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf};
static char *s_consent_categories[] = {"household", "child-age", "language"};
static char *s_statute_categories[] = {"case-file", "household"};

//  The family's consent to pass household, child age and language to
//  Unna's Frühe Hilfen, valid from a month before the fixture's clock.
static void
s_consent (Bruecke__Attestation *attestation)
{
    bruecke__attestation__init (attestation);
    attestation->basis = BRUECKE__LEGAL_BASIS__BASIS_CONSENT;
    attestation->consent_id.data = s_consent_id;
    attestation->consent_id.len = sizeof (s_consent_id);
    attestation->purpose = "language-support";
    attestation->data_categories = s_consent_categories;
    attestation->n_data_categories = 3;
    attestation->recipient = "unna";
    attestation->recipient_service = "fruehe-hilfen";
    attestation->valid_from_ms = FUZZ_NOW_MS - 30 * FUZZ_DAY_MS;
    attestation->valid_until_ms = FUZZ_NOW_MS + 335 * FUZZ_DAY_MS;
}

//  A change of responsibility after a move (SGB VIII §86c): the case file
//  goes to Unna's Jugendamt.
static void
s_statute (Bruecke__Attestation *attestation)
{
    bruecke__attestation__init (attestation);
    attestation->basis = BRUECKE__LEGAL_BASIS__BASIS_STATUTE;
    attestation->statute = "SGB VIII \xc2\xa7"
                           "86c";
    attestation->purpose = "case-transfer";
    attestation->data_categories = s_statute_categories;
    attestation->n_data_categories = 2;
    attestation->recipient = "unna";
    attestation->recipient_service = "jugendamt";
    attestation->valid_from_ms = FUZZ_NOW_MS - FUZZ_DAY_MS;
    attestation->valid_until_ms = FUZZ_NOW_MS + 90 * FUZZ_DAY_MS;
}

//  A test note from Lünen to Unna's Frühe Hilfen under `attestation`,
//  sealed to `seal_public`.
static zchunk_t *
s_test_note (uint8_t tag, Bruecke__Attestation *attestation, const uint8_t *seal_public)
{
    fuzz_fixture_t *fixture = fuzz_fixture ();
    s_header_t header;
    s_header (&header, tag, BRUECKE__MESSAGE_TYPE__TYPE_TEST_NOTE, "luenen", "unna",
              "fruehe-hilfen", FUZZ_NOW_MS, FUZZ_DAY_MS);
    Bruecke__TestNote note = BRUECKE__TEST_NOTE__INIT;
    note.text = "Familie Beispiel (erfunden): Sprachf\xc3\xb6rderung f\xc3\xbcr zwei Kinder";
    return br_envelope_build (fixture->luenen, &header.header, attestation, &note.base,
                              seal_public);
}

//  A control message `type` with `body` from `sender` to `recipient`.
static zchunk_t *
s_control (uint8_t tag, Bruecke__MessageType type, br_identity_t *sender, const char *recipient,
           const ProtobufCMessage *body)
{
    s_header_t header;
    s_header (&header, tag, type, br_identity_node_id (sender), recipient, "", FUZZ_NOW_MS,
              FUZZ_HOUR_MS);
    return br_envelope_build (sender, &header.header, NULL, body, NULL);
}

//  Flips one bit of `chunk` at `offset`.
static zchunk_t *
s_flipped (zchunk_t *chunk, size_t offset, uint8_t bit)
{
    zchunk_t *copy = zchunk_dup (chunk);
    FUZZ_CHECK (offset < zchunk_size (copy));
    zchunk_data (copy)[offset] ^= bit;
    return copy;
}

static zchunk_t *
s_truncated (zchunk_t *chunk, size_t size)
{
    FUZZ_CHECK (size < zchunk_size (chunk));
    return zchunk_new (zchunk_data (chunk), size);
}

static void
s_envelopes (void)
{
    fuzz_fixture_t *fixture = fuzz_fixture ();
    const uint8_t *unna_seal = br_identity_seal_public (fixture->unna);
    Bruecke__Attestation consent, statute;
    s_consent (&consent);
    s_statute (&statute);

    //  ---- Valid: every check passes, the body opens
    zchunk_t *note = s_test_note (1, &consent, unna_seal);
    zchunk_t *chunk = zchunk_dup (note);
    s_envelope ("test-note-valid.bin", &chunk, BR_REASON_OK);

    s_header_t header;
    s_header (&header, 2, BRUECKE__MESSAGE_TYPE__TYPE_TEST_NOTE, "kreis-unna", "unna", "jugendamt",
              FUZZ_NOW_MS - S_MINUTE_MS, 7 * FUZZ_DAY_MS);
    Bruecke__TestNote text = BRUECKE__TEST_NOTE__INIT;
    text.text = "Zust\xc3\xa4ndigkeitswechsel nach Umzug, Akte erfunden";
    chunk =
        br_envelope_build (fixture->kreis_unna, &header.header, &statute, &text.base, unna_seal);
    s_envelope ("test-note-statute-valid.bin", &chunk, BR_REASON_OK);

    uint8_t note_id[BR_MESSAGE_ID_SIZE];
    for (size_t index = 0; index < sizeof (note_id); index++)
        note_id[index] = (uint8_t) (0xf0 + index);
    note_id[BR_MESSAGE_ID_SIZE - 1] = 1;
    Bruecke__Receipt receipt = BRUECKE__RECEIPT__INIT;
    receipt.message_id.data = note_id;
    receipt.message_id.len = sizeof (note_id);
    receipt.stored_at_ms = FUZZ_NOW_MS;
    chunk =
        s_control (3, BRUECKE__MESSAGE_TYPE__TYPE_RECEIPT, fixture->unna, "luenen", &receipt.base);
    s_envelope ("receipt-valid.bin", &chunk, BR_REASON_OK);

    Bruecke__Heartbeat heartbeat = BRUECKE__HEARTBEAT__INIT;
    chunk =
        s_control (4, BRUECKE__MESSAGE_TYPE__TYPE_HEARTBEAT, fixture->luenen, "", &heartbeat.base);
    s_envelope ("heartbeat-valid.bin", &chunk, BR_REASON_OK);

    Bruecke__Hello hello = BRUECKE__HELLO__INIT;
    hello.roster_version = FUZZ_ROSTER_VERSION;
    hello.credit = 16;
    hello.software = "bruecke 0.1.0";
    chunk = s_control (5, BRUECKE__MESSAGE_TYPE__TYPE_HELLO, fixture->unna, "", &hello.base);
    s_envelope ("hello-valid.bin", &chunk, BR_REASON_OK);

    uint8_t accepted_ids[2][BR_MESSAGE_ID_SIZE];
    memset (accepted_ids[0], 0xa1, BR_MESSAGE_ID_SIZE);
    memset (accepted_ids[1], 0xa2, BR_MESSAGE_ID_SIZE);
    ProtobufCBinaryData ids[2] = {{BR_MESSAGE_ID_SIZE, accepted_ids[0]},
                                  {BR_MESSAGE_ID_SIZE, accepted_ids[1]}};
    Bruecke__Accepted accepted = BRUECKE__ACCEPTED__INIT;
    accepted.message_ids = ids;
    accepted.n_message_ids = 2;
    chunk = s_control (6, BRUECKE__MESSAGE_TYPE__TYPE_ACCEPTED, fixture->kreis_unna, "luenen",
                       &accepted.base);
    s_envelope ("accepted-valid.bin", &chunk, BR_REASON_OK);

    Bruecke__Refusal refusal = BRUECKE__REFUSAL__INIT;
    refusal.message_id.data = note_id;
    refusal.message_id.len = sizeof (note_id);
    refusal.reason = BRUECKE__REASON_CODE__REASON_REPLAYED;
    refusal.detail = "message id seen before";
    chunk =
        s_control (7, BRUECKE__MESSAGE_TYPE__TYPE_REFUSAL, fixture->unna, "luenen", &refusal.base);
    s_envelope ("refusal-valid.bin", &chunk, BR_REASON_OK);

    Bruecke__Credit credit = BRUECKE__CREDIT__INIT;
    credit.credit = 32;
    chunk = s_control (8, BRUECKE__MESSAGE_TYPE__TYPE_CREDIT, fixture->luenen, "", &credit.base);
    s_envelope ("credit-valid.bin", &chunk, BR_REASON_OK);

    Bruecke__RosterUpdate update = BRUECKE__ROSTER_UPDATE__INIT;
    update.signed_roster.data = zchunk_data (fixture->roster_bytes);
    update.signed_roster.len = zchunk_size (fixture->roster_bytes);
    chunk = s_control (9, BRUECKE__MESSAGE_TYPE__TYPE_ROSTER_UPDATE, fixture->kreis_unna, "luenen",
                       &update.base);
    s_envelope ("roster-update-valid.bin", &chunk, BR_REASON_OK);

    Bruecke__DeadLetter dead = BRUECKE__DEAD_LETTER__INIT;
    dead.message_id.data = note_id;
    dead.message_id.len = sizeof (note_id);
    dead.reason = BRUECKE__REASON_CODE__REASON_EXPIRED;
    dead.recipient = "unna";
    chunk = s_control (10, BRUECKE__MESSAGE_TYPE__TYPE_DEAD_LETTER, fixture->kreis_unna, "luenen",
                       &dead.base);
    s_envelope ("dead-letter-valid.bin", &chunk, BR_REASON_OK);

    //  ---- Damaged in transit
    chunk = s_flipped (note, zchunk_size (note) / 2, 0x10);
    s_envelope ("test-note-bitflip.bin", &chunk, BR_REASON_BAD_SIGNATURE);
    //  The signature is the 64 bytes before the signer field ("luenen", 8 bytes with its tag)
    chunk = s_flipped (note, zchunk_size (note) - 8 - 20, 0x01);
    s_envelope ("test-note-signature-bitflip.bin", &chunk, BR_REASON_BAD_SIGNATURE);
    chunk = s_truncated (note, zchunk_size (note) / 2);
    s_envelope ("test-note-truncated.bin", &chunk, BR_REASON_MALFORMED);
    chunk = zchunk_new (NULL, 0);
    s_envelope ("empty.bin", &chunk, BR_REASON_MALFORMED);

    //  ---- Forged or refused outer parts
    s_header (&header, 11, BRUECKE__MESSAGE_TYPE__TYPE_HEARTBEAT, "luenen", "", "", FUZZ_NOW_MS,
              FUZZ_HOUR_MS);
    zchunk_t *message = s_message_bytes (&header.header, NULL, NULL, 0);
    chunk = s_envelope_forged (&message, fixture->unna, "luenen", BR_SIGNATURE_SIZE);
    s_envelope ("heartbeat-wrong-key.bin", &chunk, BR_REASON_BAD_SIGNATURE);
    message = s_message_bytes (&header.header, NULL, NULL, 0);
    chunk = s_envelope_forged (&message, fixture->luenen, "luenen", BR_SIGNATURE_SIZE - 1);
    s_envelope ("heartbeat-short-signature.bin", &chunk, BR_REASON_MALFORMED);
    message = s_message_bytes (&header.header, NULL, NULL, 0);
    chunk = s_envelope_forged (&message, fixture->luenen, "L\xc3\xbcnen", BR_SIGNATURE_SIZE);
    s_envelope ("heartbeat-invalid-signer-id.bin", &chunk, BR_REASON_MALFORMED);
    //  Unna signs with its own key but the header claims Lünen sent it
    message = s_message_bytes (&header.header, NULL, NULL, 0);
    chunk = s_envelope_forged (&message, fixture->unna, "unna", BR_SIGNATURE_SIZE);
    s_envelope ("heartbeat-sender-mismatch.bin", &chunk, BR_REASON_SENDER_MISMATCH);

    s_header (&header, 12, BRUECKE__MESSAGE_TYPE__TYPE_HEARTBEAT, "county", "", "", FUZZ_NOW_MS,
              FUZZ_HOUR_MS);
    chunk = s_header_only (fixture->county, &header);
    s_envelope ("heartbeat-unknown-signer.bin", &chunk, BR_REASON_UNKNOWN_NODE);
    s_header (&header, 13, BRUECKE__MESSAGE_TYPE__TYPE_HEARTBEAT, "werne", "", "", FUZZ_NOW_MS,
              FUZZ_HOUR_MS);
    chunk = s_header_only (fixture->werne, &header);
    s_envelope ("heartbeat-revoked-signer.bin", &chunk, BR_REASON_NODE_REVOKED);

    //  ---- Validly signed, refused for their content
    s_header (&header, 14, BRUECKE__MESSAGE_TYPE__TYPE_HEARTBEAT, "luenen", "", "", FUZZ_NOW_MS,
              FUZZ_HOUR_MS);
    header.header.version = 2;
    chunk = s_header_only (fixture->luenen, &header);
    s_envelope ("heartbeat-version-2.bin", &chunk, BR_REASON_UNSUPPORTED_VERSION);
    header.header.version = BR_PROTOCOL_VERSION;
    header.header.type = (Bruecke__MessageType) 99;
    chunk = s_header_only (fixture->luenen, &header);
    s_envelope ("heartbeat-unknown-type.bin", &chunk, BR_REASON_UNSUPPORTED_TYPE);
    header.header.type = BRUECKE__MESSAGE_TYPE__TYPE_HEARTBEAT;
    header.header.message_id.len = 8;
    chunk = s_header_only (fixture->luenen, &header);
    s_envelope ("heartbeat-short-id.bin", &chunk, BR_REASON_MALFORMED);
    header.header.message_id.len = BR_MESSAGE_ID_SIZE;
    header.header.expires_at_ms = header.header.created_at_ms;
    chunk = s_header_only (fixture->luenen, &header);
    s_envelope ("heartbeat-expires-at-creation.bin", &chunk, BR_REASON_MALFORMED);
    header.header.created_at_ms = FUZZ_NOW_MS + FUZZ_HOUR_MS;
    header.header.expires_at_ms = FUZZ_NOW_MS + 2 * FUZZ_HOUR_MS;
    chunk = s_header_only (fixture->luenen, &header);
    s_envelope ("heartbeat-clock-skew.bin", &chunk, BR_REASON_CLOCK_SKEW);
    header.header.created_at_ms = FUZZ_NOW_MS - 4 * S_MINUTE_MS;
    header.header.expires_at_ms = FUZZ_NOW_MS - 3 * S_MINUTE_MS;
    chunk = s_header_only (fixture->luenen, &header);
    s_envelope ("heartbeat-expired.bin", &chunk, BR_REASON_EXPIRED);
    header.header.created_at_ms = FUZZ_NOW_MS;
    header.header.expires_at_ms = FUZZ_NOW_MS + BR_MAX_LIFETIME_MS + 1;
    chunk = s_header_only (fixture->luenen, &header);
    s_envelope ("heartbeat-lifetime-too-long.bin", &chunk, BR_REASON_EXPIRED);

    Bruecke__Message empty = BRUECKE__MESSAGE__INIT;
    message = br_proto_encode (&empty.base);
    chunk = s_envelope_forged (&message, fixture->luenen, "luenen", BR_SIGNATURE_SIZE);
    s_envelope ("message-without-header.bin", &chunk, BR_REASON_MALFORMED);
    uint8_t junk[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x12};
    message = zchunk_new (junk, sizeof (junk));
    chunk = s_envelope_forged (&message, fixture->luenen, "luenen", BR_SIGNATURE_SIZE);
    s_envelope ("message-junk.bin", &chunk, BR_REASON_MALFORMED);

    //  A receipt whose body does not decode
    s_header (&header, 15, BRUECKE__MESSAGE_TYPE__TYPE_RECEIPT, "unna", "luenen", "", FUZZ_NOW_MS,
              FUZZ_HOUR_MS);
    message = s_message_bytes (&header.header, NULL, junk, sizeof (junk));
    chunk = s_envelope_forged (&message, fixture->unna, "unna", BR_SIGNATURE_SIZE);
    s_envelope ("receipt-body-junk.bin", &chunk, BR_REASON_MALFORMED);

    //  A roster update with a different roster of the held version: the
    //  envelope is fine, the roster inside is a rollback
    zconfig_t *draft = fuzz_fixture_roster_draft ();
    br_reason_t reason;
    zchunk_t *other = br_roster_draft_sign (draft, fixture->county, FUZZ_NOW_MS - 2 * FUZZ_DAY_MS,
                                            FUZZ_ROSTER_VALID_MS, &reason);
    FUZZ_CHECK (other);
    zconfig_destroy (&draft);
    update.signed_roster.data = zchunk_data (other);
    update.signed_roster.len = zchunk_size (other);
    chunk = s_control (16, BRUECKE__MESSAGE_TYPE__TYPE_ROSTER_UPDATE, fixture->kreis_unna, "luenen",
                       &update.base);
    s_envelope ("roster-update-rollback.bin", &chunk, BR_REASON_OK);
    zchunk_destroy (&other);

    //  ---- Personal data without a proper legal basis
    s_header (&header, 17, BRUECKE__MESSAGE_TYPE__TYPE_TEST_NOTE, "luenen", "unna", "fruehe-hilfen",
              FUZZ_NOW_MS, FUZZ_DAY_MS);
    chunk = br_envelope_build (fixture->luenen, &header.header, NULL, &text.base, unna_seal);
    s_envelope ("test-note-no-attestation.bin", &chunk, BR_REASON_ATTESTATION_MISSING);
    Bruecke__Attestation changed = consent;
    changed.recipient = "kreis-unna";
    chunk = s_test_note (18, &changed, unna_seal);
    s_envelope ("test-note-attestation-other-recipient.bin", &chunk, BR_REASON_RECIPIENT_MISMATCH);
    changed = consent;
    changed.recipient_service = "jugendamt";
    chunk = s_test_note (19, &changed, unna_seal);
    s_envelope ("test-note-attestation-other-service.bin", &chunk, BR_REASON_RECIPIENT_MISMATCH);
    changed = consent;
    changed.valid_until_ms = FUZZ_NOW_MS - FUZZ_DAY_MS;
    chunk = s_test_note (20, &changed, unna_seal);
    s_envelope ("test-note-consent-expired.bin", &chunk, BR_REASON_CONSENT_EXPIRED);
    changed = consent;
    changed.n_data_categories = 0;
    chunk = s_test_note (21, &changed, unna_seal);
    s_envelope ("test-note-attestation-invalid.bin", &chunk, BR_REASON_ATTESTATION_INVALID);

    //  Sealed to the wrong node: only the body fails to open
    chunk = s_test_note (22, &consent, br_identity_seal_public (fixture->luenen));
    s_envelope ("test-note-sealed-to-luenen.bin", &chunk, BR_REASON_DECRYPT_FAILED);
    zchunk_destroy (&note);
}

//  ---- Rosters ------------------------------------------------------------

//  Checks that `chunk` is verified with `expected` when no roster is held,
//  writes it as roster/name and destroys it.
static void
s_roster (const char *name, zchunk_t **chunk_p, br_reason_t expected)
{
    fuzz_fixture_t *fixture = fuzz_fixture ();
    br_reason_t reason;
    br_roster_t *roster =
        br_roster_verify (zchunk_data (*chunk_p), zchunk_size (*chunk_p),
                          br_identity_sign_public (fixture->county), NULL, FUZZ_NOW_MS, &reason);
    br_roster_destroy (&roster);
    if (reason != expected) {
        fprintf (stderr, "bruecke-make-corpus: roster/%s: expected %s, got %s\n", name,
                 br_reason_name (expected), br_reason_name (reason));
        exit (1);
    }
    s_write_chunk ("roster", name, *chunk_p);
    zchunk_destroy (chunk_p);
}

//  Signs `roster` with `key`, bypassing the draft's checks.
static zchunk_t *
s_roster_signed (const Bruecke__Roster *roster, br_identity_t *key)
{
    zchunk_t *roster_bytes = br_proto_encode (&roster->base);
    uint8_t signature[BR_SIGNATURE_SIZE];
    br_identity_sign (key, zchunk_data (roster_bytes), zchunk_size (roster_bytes), signature);
    Bruecke__SignedRoster signed_roster = BRUECKE__SIGNED_ROSTER__INIT;
    signed_roster.roster.data = zchunk_data (roster_bytes);
    signed_roster.roster.len = zchunk_size (roster_bytes);
    signed_roster.signature.data = signature;
    signed_roster.signature.len = sizeof (signature);
    zchunk_t *chunk = br_proto_encode (&signed_roster.base);
    zchunk_destroy (&roster_bytes);
    return chunk;
}

//  Signs the fixture's draft with `key` at `issued_ms`.
static zchunk_t *
s_roster_draft_signed (br_identity_t *key, int64_t issued_ms, int64_t valid_ms)
{
    zconfig_t *draft = fuzz_fixture_roster_draft ();
    br_reason_t reason;
    zchunk_t *chunk = br_roster_draft_sign (draft, key, issued_ms, valid_ms, &reason);
    FUZZ_CHECK (chunk);
    zconfig_destroy (&draft);
    return chunk;
}

static void
s_rosters (void)
{
    fuzz_fixture_t *fixture = fuzz_fixture ();
    br_reason_t reason;

    zchunk_t *chunk = zchunk_dup (fixture->roster_bytes);
    s_roster ("roster-v1-valid.bin", &chunk, BR_REASON_OK);

    //  Version 2: Lünen revoked
    zconfig_t *draft = fuzz_fixture_roster_draft ();
    zchunk_t *first = br_roster_draft_sign (draft, fixture->county, FUZZ_ROSTER_ISSUED_MS,
                                            FUZZ_ROSTER_VALID_MS, &reason);
    FUZZ_CHECK (first && zchunk_size (first) == zchunk_size (fixture->roster_bytes));
    FUZZ_CHECK (memcmp (zchunk_data (first), zchunk_data (fixture->roster_bytes),
                        zchunk_size (first)) == 0);
    zchunk_destroy (&first);
    FUZZ_CHECK (br_roster_draft_revoke (draft, "luenen") == BR_REASON_OK);
    chunk = br_roster_draft_sign (draft, fixture->county, FUZZ_NOW_MS - FUZZ_HOUR_MS,
                                  FUZZ_ROSTER_VALID_MS, &reason);
    FUZZ_CHECK (chunk);
    s_roster ("roster-v2-luenen-revoked.bin", &chunk, BR_REASON_OK);

    //  Version 3: a broker joins
    uint8_t seed[BR_SEED_SIZE];
    for (size_t index = 0; index < sizeof (seed); index++)
        seed[index] = (uint8_t) (0xa0 + index);
    br_identity_t *broker = br_identity_new_from_seed ("broker", seed);
    FUZZ_CHECK (br_roster_draft_add_node (draft, broker, "Kreis Unna Vermittlungsstelle", "05978",
                                          BRUECKE__NODE_ROLE__ROLE_BROKER, "") == BR_REASON_OK);
    chunk = br_roster_draft_sign (draft, fixture->county, FUZZ_NOW_MS - S_MINUTE_MS,
                                  FUZZ_ROSTER_VALID_MS, &reason);
    FUZZ_CHECK (chunk);
    s_roster ("roster-v3-with-broker.bin", &chunk, BR_REASON_OK);
    br_identity_destroy (&broker);
    zconfig_destroy (&draft);

    //  Version 1 again, other bytes: valid alone, a rollback against the fixture
    chunk = s_roster_draft_signed (fixture->county, FUZZ_NOW_MS - 2 * FUZZ_DAY_MS,
                                   FUZZ_ROSTER_VALID_MS);
    s_roster ("roster-v1-other-bytes.bin", &chunk, BR_REASON_OK);

    //  Not the county's signature, or none
    chunk = s_roster_draft_signed (fixture->unna, FUZZ_ROSTER_ISSUED_MS, FUZZ_ROSTER_VALID_MS);
    s_roster ("roster-signed-by-unna.bin", &chunk, BR_REASON_ROSTER_BAD_SIGNATURE);
    Bruecke__SignedRoster unsigned_roster = BRUECKE__SIGNED_ROSTER__INIT;
    chunk = br_proto_encode (&unsigned_roster.base); //  encodes to no bytes at all
    FUZZ_CHECK (zchunk_size (chunk) == 0);
    s_roster ("empty.bin", &chunk, BR_REASON_ROSTER_BAD_SIGNATURE);
    chunk = s_flipped (fixture->roster_bytes, zchunk_size (fixture->roster_bytes) / 2, 0x04);
    s_roster ("roster-bitflip.bin", &chunk, BR_REASON_ROSTER_BAD_SIGNATURE);
    chunk = s_truncated (fixture->roster_bytes, zchunk_size (fixture->roster_bytes) - 10);
    s_roster ("roster-truncated.bin", &chunk, BR_REASON_MALFORMED);

    //  Out of its validity
    chunk = s_roster_draft_signed (fixture->county, FUZZ_NOW_MS - 400 * FUZZ_DAY_MS,
                                   FUZZ_ROSTER_VALID_MS);
    s_roster ("roster-expired.bin", &chunk, BR_REASON_ROSTER_EXPIRED);
    chunk =
        s_roster_draft_signed (fixture->county, FUZZ_NOW_MS + FUZZ_DAY_MS, FUZZ_ROSTER_VALID_MS);
    s_roster ("roster-not-yet-issued.bin", &chunk, BR_REASON_ROSTER_EXPIRED);

    //  Signed by the county, but inconsistent: the verifier's own checks
    const Bruecke__Roster *fixed = br_roster_content (fixture->roster);
    Bruecke__Roster roster = *fixed;
    Bruecke__RosterNode *nodes[8];
    FUZZ_CHECK (fixed->n_nodes + 1 <= sizeof (nodes) / sizeof (nodes[0]));
    memcpy (nodes, fixed->nodes, fixed->n_nodes * sizeof (nodes[0]));
    nodes[fixed->n_nodes] = fixed->nodes[0];
    roster.nodes = nodes;
    roster.n_nodes = fixed->n_nodes + 1;
    chunk = s_roster_signed (&roster, fixture->county);
    s_roster ("roster-duplicate-node.bin", &chunk, BR_REASON_ROSTER_INVALID);

    roster = *fixed;
    Bruecke__RosterNode short_key = *fixed->nodes[0];
    short_key.sign_public_key.len = BR_SIGN_PUBLIC_SIZE - 1;
    memcpy (nodes, fixed->nodes, fixed->n_nodes * sizeof (nodes[0]));
    nodes[0] = &short_key;
    roster.nodes = nodes;
    chunk = s_roster_signed (&roster, fixture->county);
    s_roster ("roster-short-key.bin", &chunk, BR_REASON_ROSTER_INVALID);

    roster = *fixed;
    Bruecke__Route *routes[16];
    FUZZ_CHECK (fixed->n_routes + 1 <= sizeof (routes) / sizeof (routes[0]));
    memcpy (routes, fixed->routes, fixed->n_routes * sizeof (routes[0]));
    Bruecke__Route to_nobody = BRUECKE__ROUTE__INIT;
    to_nobody.ags = "05978032";
    to_nobody.service = "jugendamt";
    to_nobody.node_id = "selm";
    routes[fixed->n_routes] = &to_nobody;
    roster.routes = routes;
    roster.n_routes = fixed->n_routes + 1;
    chunk = s_roster_signed (&roster, fixture->county);
    s_roster ("roster-route-to-unknown-node.bin", &chunk, BR_REASON_ROSTER_INVALID);
    routes[fixed->n_routes] = fixed->routes[0];
    chunk = s_roster_signed (&roster, fixture->county);
    s_roster ("roster-route-twice.bin", &chunk, BR_REASON_ROSTER_INVALID);

    //  Signed bytes that are no Roster at all
    uint8_t junk[] = {0x32, 0xff, 0xff, 0xff, 0xff, 0x0f};
    uint8_t signature[BR_SIGNATURE_SIZE];
    br_identity_sign (fixture->county, junk, sizeof (junk), signature);
    Bruecke__SignedRoster signed_junk = BRUECKE__SIGNED_ROSTER__INIT;
    signed_junk.roster.data = junk;
    signed_junk.roster.len = sizeof (junk);
    signed_junk.signature.data = signature;
    signed_junk.signature.len = sizeof (signature);
    chunk = br_proto_encode (&signed_junk.base);
    s_roster ("roster-content-junk.bin", &chunk, BR_REASON_ROSTER_INVALID);
}

//  ---- Attestations -------------------------------------------------------

//  Checks that `attestation` decodes with `expected` and writes it as
//  attestation/name, cut to `cut` bytes less if `cut` is not 0.
static void
s_attestation (const char *name, const Bruecke__Attestation *attestation, size_t cut,
               br_reason_t expected)
{
    zchunk_t *chunk = br_proto_encode (&attestation->base);
    FUZZ_CHECK (cut == 0 || cut < zchunk_size (chunk));
    zchunk_set (chunk, zchunk_data (chunk), zchunk_size (chunk) - cut);
    br_reason_t reason;
    Bruecke__Attestation *decoded =
        br_attestation_decode (zchunk_data (chunk), zchunk_size (chunk), &reason);
    br_attestation_free (&decoded);
    if (reason != expected) {
        fprintf (stderr, "bruecke-make-corpus: attestation/%s: expected %s, got %s\n", name,
                 br_reason_name (expected), br_reason_name (reason));
        exit (1);
    }
    s_write_chunk ("attestation", name, chunk);
    zchunk_destroy (&chunk);
}

static void
s_attestations (void)
{
    Bruecke__Attestation consent, statute, changed;
    s_consent (&consent);
    s_statute (&statute);
    s_attestation ("consent-valid.bin", &consent, 0, BR_REASON_OK);
    s_attestation ("statute-valid.bin", &statute, 0, BR_REASON_OK);
    //  Valid in shape; the target's checks against its header refuse them
    changed = consent;
    changed.valid_until_ms = FUZZ_NOW_MS - FUZZ_DAY_MS;
    s_attestation ("consent-expired.bin", &changed, 0, BR_REASON_OK);
    changed = consent;
    changed.valid_from_ms = FUZZ_NOW_MS + FUZZ_DAY_MS;
    s_attestation ("consent-not-yet-valid.bin", &changed, 0, BR_REASON_OK);
    changed = consent;
    changed.recipient = "luenen";
    changed.recipient_service = "jobcenter";
    s_attestation ("consent-other-recipient.bin", &changed, 0, BR_REASON_OK);

    //  Invalid in shape
    changed = consent;
    changed.statute = statute.statute;
    s_attestation ("consent-with-statute.bin", &changed, 0, BR_REASON_ATTESTATION_INVALID);
    changed = consent;
    changed.consent_id.len = BR_CONSENT_ID_SIZE - 1;
    s_attestation ("consent-short-id.bin", &changed, 0, BR_REASON_ATTESTATION_INVALID);
    changed = statute;
    changed.consent_id = consent.consent_id;
    s_attestation ("statute-with-consent-id.bin", &changed, 0, BR_REASON_ATTESTATION_INVALID);
    changed = statute;
    changed.statute = "SGB VIII \xa7"
                      "86c"; //  Latin-1, not UTF-8
    s_attestation ("statute-not-utf8.bin", &changed, 0, BR_REASON_ATTESTATION_INVALID);
    changed = consent;
    changed.basis = BRUECKE__LEGAL_BASIS__BASIS_UNSPECIFIED;
    s_attestation ("basis-unspecified.bin", &changed, 0, BR_REASON_ATTESTATION_INVALID);
    changed = consent;
    changed.n_data_categories = 0;
    s_attestation ("no-categories.bin", &changed, 0, BR_REASON_ATTESTATION_INVALID);
    char *twice[] = {"household", "language", "household"};
    changed = consent;
    changed.data_categories = twice;
    changed.n_data_categories = 3;
    s_attestation ("category-twice.bin", &changed, 0, BR_REASON_ATTESTATION_INVALID);
    changed = consent;
    changed.purpose = "Language-Support";
    s_attestation ("purpose-not-a-code.bin", &changed, 0, BR_REASON_ATTESTATION_INVALID);
    changed = consent;
    changed.valid_from_ms = consent.valid_until_ms;
    s_attestation ("validity-empty.bin", &changed, 0, BR_REASON_ATTESTATION_INVALID);
    s_attestation ("consent-truncated.bin", &consent, 3, BR_REASON_MALFORMED);
    Bruecke__Attestation empty = BRUECKE__ATTESTATION__INIT;
    s_attestation ("empty.bin", &empty, 0, BR_REASON_ATTESTATION_INVALID);
}

//  ---- Casework -----------------------------------------------------------

//  The control byte of a fuzz_casework input: `type`, `flags`, own record `own`.
static uint8_t
s_casework_control (uint8_t type, uint8_t flags, uint8_t own)
{
    FUZZ_CHECK (type < FUZZ_CASEWORK_TYPES && own < FUZZ_CASEWORK_OWN_COUNT);
    return (uint8_t) (type | flags | (own << FUZZ_CASEWORK_OWN_SHIFT));
}

//  Writes casework/name: the control byte, then `body` encoded.
static void
s_casework (const char *name, uint8_t control, const ProtobufCMessage *body)
{
    zchunk_t *bytes = br_proto_encode (body);
    zchunk_t *chunk = zchunk_new (&control, 1);
    zchunk_extend (chunk, zchunk_data (bytes), zchunk_size (bytes));
    s_write_chunk ("casework", name, chunk);
    zchunk_destroy (&chunk);
    zchunk_destroy (&bytes);
}

//  A data section: `category` with JSON text `content`.
static Bruecke__DataSection *
s_section (Bruecke__DataSection *section, char *category, char *content)
{
    bruecke__data_section__init (section);
    section->category = category;
    section->content = content;
    return section;
}

//  Seeds for fuzz_casework: Lünen's casework messages to Unna. Each name
//  says the verdict Unna's casework gives when the corpus is replayed in
//  name order (FUZZ_CASEWORK_TRACE shows them); "own" inputs name one of
//  Unna's own records, whose id the target appends. Two inputs commit:
//  referral-1-valid and transfer-1-valid, which the inputs after them meet.
static void
s_caseworks (void)
{
    uint8_t referral_id[FUZZ_CASEWORK_ID_SIZE], transfer_id[FUZZ_CASEWORK_ID_SIZE];
    memset (referral_id, 0x71, sizeof (referral_id));
    memset (transfer_id, 0x72, sizeof (transfer_id));
    uint8_t consent_id[BR_CONSENT_ID_SIZE];
    for (size_t index = 0; index < sizeof (consent_id); index++)
        consent_id[index] = (uint8_t) (FUZZ_CASEWORK_CONSENT_BYTE + index);
    const uint8_t REFERRAL = FUZZ_CASEWORK_REFERRAL, UPDATE = FUZZ_CASEWORK_UPDATE,
                  WITHDRAWAL = FUZZ_CASEWORK_WITHDRAWAL, TRANSFER = FUZZ_CASEWORK_TRANSFER,
                  ANSWER = FUZZ_CASEWORK_ANSWER, COMMIT = FUZZ_CASEWORK_COMMIT,
                  OWN = FUZZ_CASEWORK_OWN, STATUTE = FUZZ_CASEWORK_STATUTE;

    //  ---- Referrals: the family's data for Unna's Frühe Hilfen
    Bruecke__DataSection household, ages, language, health, not_json;
    Bruecke__DataSection *sections[] = {
        s_section (&household, "household",
                   "{\"kind\": \"family\", \"members\": ["
                   "{\"name\": \"Aylin Beispiel\", \"role\": \"mother\", \"age\": 29},"
                   "{\"name\": \"Deniz Beispiel\", \"role\": \"child\", \"age\": 5}]}"),
        s_section (&ages, "child-age", "{\"children_ages\": [5]}"),
        s_section (&language, "language", "{\"child\": \"spricht kein Deutsch\"}"),
    };
    Bruecke__Referral referral = BRUECKE__REFERRAL__INIT;
    referral.referral_id.data = referral_id;
    referral.referral_id.len = sizeof (referral_id);
    referral.sender_service = "jobcenter";
    referral.sections = sections;
    referral.n_sections = 3;
    referral.note = "Bitte um Kontaktaufnahme, Familie spricht T\xc3\xbcrkisch";
    s_casework ("referral-1-valid.bin", s_casework_control (REFERRAL, COMMIT, 0), &referral.base);
    s_casework ("referral-2-replayed.bin", s_casework_control (REFERRAL, 0, 0), &referral.base);
    Bruecke__Referral changed = referral;
    uint8_t other_id[FUZZ_CASEWORK_ID_SIZE];
    memset (other_id, 0x73, sizeof (other_id));
    changed.referral_id.data = other_id;
    changed.n_sections = 1;
    s_casework ("referral-3-statute-valid.bin", s_casework_control (REFERRAL, STATUTE, 0),
                &changed.base);
    changed.n_sections = 3;
    changed.sections[2] = s_section (&health, "health", "{\"allergies\": [\"Erdn\xc3\xbcsse\"]}");
    s_casework ("referral-category-not-covered.bin", s_casework_control (REFERRAL, 0, 0),
                &changed.base);
    changed.sections[2] = s_section (&not_json, "language", "[\"spricht kein Deutsch\"]");
    s_casework ("referral-section-not-object.bin", s_casework_control (REFERRAL, 0, 0),
                &changed.base);
    changed.sections[2] = &language;
    changed.sender_service = "sozialamt"; //  Lünen offers none: no way to answer
    s_casework ("referral-no-route-back.bin", s_casework_control (REFERRAL, 0, 0), &changed.base);
    changed.sender_service = "Jobcenter";
    s_casework ("referral-service-not-a-code.bin", s_casework_control (REFERRAL, 0, 0),
                &changed.base);
    changed = referral;
    changed.referral_id.len = 0; //  the target appends Unna's own referral's id
    s_casework ("referral-own-id-replayed.bin", s_casework_control (REFERRAL, OWN, 1),
                &changed.base);
    changed.referral_id.len = FUZZ_CASEWORK_ID_SIZE - 1;
    s_casework ("referral-short-id.bin", s_casework_control (REFERRAL, 0, 0), &changed.base);

    //  ---- Updates from Lünen's Jobcenter on Unna's referrals to it
    Bruecke__ReferralUpdate update = BRUECKE__REFERRAL_UPDATE__INIT;
    update.state = BRUECKE__REFERRAL_STATE__REFERRAL_RECEIVED;
    update.changed_at_ms = FUZZ_NOW_MS - S_MINUTE_MS;
    s_casework ("referral-update-received.bin", s_casework_control (UPDATE, OWN, 0), &update.base);
    update.state = BRUECKE__REFERRAL_STATE__REFERRAL_ACCEPTED;
    update.lotse = "Frau Lotse";
    update.text = "Erstgespr\xc3\xa4"
                  "ch am Montag";
    s_casework ("referral-update-accepted.bin", s_casework_control (UPDATE, OWN, 1), &update.base);
    update.state = BRUECKE__REFERRAL_STATE__REFERRAL_DECLINED;
    update.reason = BRUECKE__REASON_CODE__REASON_CONSENT_MISSING;
    update.lotse = "";
    update.text = "Keine freien Pl\xc3\xa4tze";
    s_casework ("referral-update-declined.bin", s_casework_control (UPDATE, OWN, 2), &update.base);
    update.state = BRUECKE__REFERRAL_STATE__REFERRAL_COMPLETED;
    update.reason = 0;
    update.text = "Kita-Platz ab August";
    s_casework ("referral-update-completed-invalid-state.bin", s_casework_control (UPDATE, OWN, 3),
                &update.base);
    update.state = BRUECKE__REFERRAL_STATE__REFERRAL_CANCELLED; //  the sender's to set
    update.text = "";
    s_casework ("referral-update-cancelled-forbidden.bin", s_casework_control (UPDATE, OWN, 0),
                &update.base);
    //  Lünen's own referral: an update on it from Lünen is forbidden
    update.state = BRUECKE__REFERRAL_STATE__REFERRAL_ACCEPTED;
    update.referral_id.data = referral_id;
    update.referral_id.len = sizeof (referral_id);
    s_casework ("referral-update-incoming-forbidden.bin", s_casework_control (UPDATE, 0, 0),
                &update.base);
    //  ... but Lünen, as its sender, may cancel it
    update.state = BRUECKE__REFERRAL_STATE__REFERRAL_CANCELLED;
    update.reason = BRUECKE__REASON_CODE__REASON_CONSENT_WITHDRAWN;
    s_casework ("referral-update-incoming-cancelled.bin", s_casework_control (UPDATE, 0, 0),
                &update.base);
    update.state = BRUECKE__REFERRAL_STATE__REFERRAL_ACCEPTED;
    update.reason = 0;
    update.referral_id.data = other_id;
    s_casework ("referral-update-unknown-not-found.bin", s_casework_control (UPDATE, 0, 0),
                &update.base);

    //  ---- Case transfer: a family moved from Lünen to Unna
    Bruecke__DataSection history;
    Bruecke__DataSection *transfer_sections[] = {
        &household,
        s_section (&history, "case-history",
                   "{\"needs\": [\"Kita-Platz\"], \"notes\": [\"Sprachf\xc3\xb6rderung "
                   "beantragt\"]}"),
        &language,
    };
    Bruecke__CaseTransfer transfer = BRUECKE__CASE_TRANSFER__INIT;
    transfer.transfer_id.data = transfer_id;
    transfer.transfer_id.len = sizeof (transfer_id);
    transfer.sender_service = "jugendamt";
    transfer.sections = transfer_sections;
    transfer.n_sections = 3;
    s_casework ("transfer-1-valid.bin", s_casework_control (TRANSFER, COMMIT, 0), &transfer.base);
    s_casework ("transfer-2-repeated.bin", s_casework_control (TRANSFER, 0, 0), &transfer.base);
    Bruecke__CaseTransfer other = transfer;
    other.transfer_id.len = 0;
    s_casework ("transfer-own-id-unchanged.bin", s_casework_control (TRANSFER, OWN, 2),
                &other.base);
    other.transfer_id.data = other_id;
    other.transfer_id.len = sizeof (other_id);
    other.n_sections = 2;
    other.sections[1] = &ages; //  child-age is not a transfer's category
    s_casework ("transfer-category-not-covered.bin", s_casework_control (TRANSFER, 0, 0),
                &other.base);

    //  ---- Lünen answers Unna's transfers to it
    Bruecke__CaseTransferAnswer answer = BRUECKE__CASE_TRANSFER_ANSWER__INIT;
    answer.accepted = true;
    s_casework ("transfer-answer-accepted.bin", s_casework_control (ANSWER, OWN, 0), &answer.base);
    answer.accepted = false;
    answer.reason = BRUECKE__REASON_CODE__REASON_INVALID_STATE;
    s_casework ("transfer-answer-declined.bin", s_casework_control (ANSWER, OWN, 1), &answer.base);
    answer.transfer_id.data = transfer_id;
    answer.transfer_id.len = sizeof (transfer_id);
    answer.accepted = true;
    answer.reason = 0;
    s_casework ("transfer-answer-incoming-forbidden.bin", s_casework_control (ANSWER, 0, 0),
                &answer.base);

    //  ---- The family withdraws its consent for Unna
    Bruecke__ConsentWithdrawal withdrawal = BRUECKE__CONSENT_WITHDRAWAL__INIT;
    withdrawal.consent_id.data = consent_id;
    withdrawal.consent_id.len = sizeof (consent_id);
    withdrawal.withdrawn_at_ms = FUZZ_NOW_MS - S_MINUTE_MS;
    s_casework ("withdrawal-valid.bin", s_casework_control (WITHDRAWAL, 0, 0), &withdrawal.base);
    withdrawal.consent_id.len = 0;
    s_casework ("withdrawal-own-consent.bin", s_casework_control (WITHDRAWAL, OWN, 0),
                &withdrawal.base);
    withdrawal.consent_id.len = 3;
    s_casework ("withdrawal-short-id.bin", s_casework_control (WITHDRAWAL, 0, 0), &withdrawal.base);

    //  ---- Bodies that do not decode or open
    uint8_t junk[] = {REFERRAL, 0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x12};
    s_write ("casework", "referral-body-junk.bin", junk, sizeof (junk));
    junk[0] = ANSWER;
    s_write ("casework", "transfer-answer-body-junk.bin", junk, sizeof (junk));
    s_write ("casework", "empty.bin", NULL, 0);
}

//  ---- Transferbörse -------------------------------------------------------

//  The control byte of a fuzz_exchange input: `type`; to the broker, the
//  sender's index and `own` (0, or 1 + an agreement's or item's index).
static uint8_t
s_exchange_control (uint8_t type, uint8_t sender, uint8_t own)
{
    FUZZ_CHECK (type < FUZZ_EXCHANGE_TYPES && sender <= FUZZ_EXCHANGE_SENDER_MASK &&
                own <= FUZZ_EXCHANGE_OWN_COUNT);
    return (uint8_t) (type | (sender << FUZZ_EXCHANGE_SENDER_SHIFT) |
                      (own << FUZZ_EXCHANGE_OWN_SHIFT));
}

//  Writes exchange/name: the control byte, then `size` body bytes.
static void
s_exchange_raw (const char *name, uint8_t control, const uint8_t *body, size_t size)
{
    zchunk_t *chunk = zchunk_new (&control, 1);
    if (size)
        zchunk_extend (chunk, body, size);
    s_write_chunk ("exchange", name, chunk);
    zchunk_destroy (&chunk);
}

//  Writes exchange/name: the control byte, then `body` encoded.
static void
s_exchange (const char *name, uint8_t control, const ProtobufCMessage *body)
{
    zchunk_t *bytes = br_proto_encode (body);
    s_exchange_raw (name, control, zchunk_data (bytes), zchunk_size (bytes));
    zchunk_destroy (&bytes);
}

//  Writes exchange/name: the control byte, then `chunk`'s bytes; destroys it.
static void
s_exchange_chunk (const char *name, uint8_t control, zchunk_t **chunk_p)
{
    s_exchange_raw (name, control, zchunk_data (*chunk_p), zchunk_size (*chunk_p));
    zchunk_destroy (chunk_p);
}

//  An id with `byte` in every byte.
static uint8_t *
s_exchange_id (uint8_t id[BR_BOARD_ID_SIZE], uint8_t byte)
{
    memset (id, byte, BR_BOARD_ID_SIZE);
    return id;
}

//  An offer of `town` under `id` on `topics` (NULL-ended), signed by `key`.
//  Returns the SignedBoardItem bytes.
static zchunk_t *
s_exchange_offer (br_identity_t *key, const char *town, const uint8_t *id, char **topics,
                  const char *title)
{
    Bruecke__Offer offer = BRUECKE__OFFER__INIT;
    offer.offer_id.data = (uint8_t *) id;
    offer.offer_id.len = BR_BOARD_ID_SIZE;
    offer.town = (char *) town;
    offer.title = (char *) title;
    offer.topics = topics;
    while (topics[offer.n_topics])
        offer.n_topics++;
    offer.success_factors = "Ein fester Ansprechpartner im Rathaus";
    offer.documents = true;
    offer.coaching_hours = 4;
    offer.capacity_per_quarter = 8;
    offer.published_at_ms = FUZZ_NOW_MS - S_MINUTE_MS;
    return br_board_sign (key, &offer.base);
}

//  A request of `town` under `id`, for `topic` or the offer `offer_id`,
//  signed by `key`. Returns the SignedBoardItem bytes.
static zchunk_t *
s_exchange_request (br_identity_t *key, const char *town, const uint8_t *id, const char *topic,
                    const uint8_t *offer_id)
{
    Bruecke__ExchangeRequest request = BRUECKE__EXCHANGE_REQUEST__INIT;
    request.request_id.data = (uint8_t *) id;
    request.request_id.len = BR_BOARD_ID_SIZE;
    request.town = (char *) town;
    request.topic = (char *) (topic ? topic : "");
    if (offer_id) {
        request.offer_id.data = (uint8_t *) offer_id;
        request.offer_id.len = BR_BOARD_ID_SIZE;
    }
    request.note = "Gern auch per Videokonferenz";
    request.published_at_ms = FUZZ_NOW_MS - S_MINUTE_MS;
    return br_board_sign (key, &request.base);
}

//  `chunk` (SignedBoardItem bytes) decoded, to go into a BoardChange or a
//  snapshot; destroys the chunk. The caller frees it with br_proto_free.
static Bruecke__SignedBoardItem *
s_exchange_decoded (zchunk_t **chunk_p)
{
    br_reason_t reason;
    ProtobufCMessage *message =
        br_proto_decode (&bruecke__signed_board_item__descriptor, zchunk_data (*chunk_p),
                         zchunk_size (*chunk_p), BR_BOARD_SIGNED_MAX, &reason);
    FUZZ_CHECK (message);
    zchunk_destroy (chunk_p);
    return (Bruecke__SignedBoardItem *) message;
}

//  The fixture's board item `index`, decoded (br_proto_free it).
static Bruecke__SignedBoardItem *
s_exchange_item (size_t index)
{
    zchunk_t *chunk = zchunk_dup (fuzz_fixture_exchange ()->items[index]);
    return s_exchange_decoded (&chunk);
}

//  A board change at `sequence`: a put of `item`, or the withdrawal of `id`.
static Bruecke__BoardChange *
s_exchange_change (Bruecke__BoardChange *change, uint64_t sequence, Bruecke__SignedBoardItem *item,
                   uint8_t *id)
{
    bruecke__board_change__init (change);
    change->sequence = sequence;
    change->at_ms = FUZZ_NOW_MS - S_MINUTE_MS;
    if (item) {
        change->change_case = BRUECKE__BOARD_CHANGE__CHANGE_PUT;
        change->put = item;
    } else {
        change->change_case = BRUECKE__BOARD_CHANGE__CHANGE_WITHDRAWN_ID;
        change->withdrawn_id.data = id;
        change->withdrawn_id.len = BR_BOARD_ID_SIZE;
    }
    return change;
}

//  Writes exchange/name: a LEDGER_UPDATE with `count` records.
static void
s_exchange_ledger (const char *name, zchunk_t **records, size_t count)
{
    ProtobufCBinaryData bytes[FUZZ_EXCHANGE_RECORDS + 1];
    FUZZ_CHECK (count <= FUZZ_EXCHANGE_RECORDS + 1);
    for (size_t index = 0; index < count; index++) {
        bytes[index].data = zchunk_data (records[index]);
        bytes[index].len = zchunk_size (records[index]);
    }
    Bruecke__LedgerUpdate update = BRUECKE__LEDGER_UPDATE__INIT;
    update.records = bytes;
    update.n_records = count;
    update.head = FUZZ_EXCHANGE_RECORDS;
    s_exchange (name, s_exchange_control (FUZZ_EXCHANGE_LEDGER_UPDATE, 0, 0), &update.base);
}

//  The broker's messages from the towns: publish, withdraw, agreement steps.
//  Each name says the verdict the broker gives (FUZZ_EXCHANGE_TRACE shows
//  them); "signed-again" inputs are refused for their signature, then taken
//  once the target signed them again.
static void
s_exchange_broker (void)
{
    fuzz_fixture_t *fixture = fuzz_fixture ();
    const uint8_t PUBLISH = FUZZ_EXCHANGE_PUBLISH, WITHDRAW = FUZZ_EXCHANGE_WITHDRAW,
                  ACTION = FUZZ_EXCHANGE_ACTION;
    const uint8_t LUENEN = 0, UNNA = 1, KREIS = 2;
    uint8_t id[BR_BOARD_ID_SIZE], luenen_offer[BR_BOARD_ID_SIZE], other[BR_BOARD_ID_SIZE];
    fuzz_fixture_item_id (FUZZ_ITEM_LUENEN_OFFER, luenen_offer);
    char *topics[] = {"kinderschutz", "quartiersarbeit", NULL};

    //  ---- Publish
    zchunk_t *item = s_exchange_offer (fixture->luenen, "luenen", s_exchange_id (id, 0x50), topics,
                                       "Kinderschutzkonferenzen im Verbund");
    s_exchange_raw ("publish-offer-sender-mismatch.bin", s_exchange_control (PUBLISH, UNNA, 0),
                    zchunk_data (item), zchunk_size (item));
    s_exchange_chunk ("publish-offer-valid.bin", s_exchange_control (PUBLISH, LUENEN, 0), &item);
    char *changed_topics[] = {"fruehe-hilfen", "familienzentren", NULL};
    item = s_exchange_offer (fixture->luenen, "luenen", luenen_offer, changed_topics,
                             "Willkommensbesuche, jetzt mit Familienzentren");
    s_exchange_chunk ("publish-offer-replaced-valid.bin", s_exchange_control (PUBLISH, LUENEN, 0),
                      &item);
    item = s_exchange_request (fixture->unna, "unna", s_exchange_id (id, 0x51), NULL, luenen_offer);
    s_exchange_chunk ("publish-request-for-offer-valid.bin", s_exchange_control (PUBLISH, UNNA, 0),
                      &item);
    item = s_exchange_request (fixture->luenen, "luenen", s_exchange_id (id, 0x52),
                               "sprachfoerderung", NULL);
    s_exchange_chunk ("publish-request-topic-valid.bin", s_exchange_control (PUBLISH, LUENEN, 0),
                      &item);
    item = s_exchange_offer (fixture->unna, "luenen", s_exchange_id (id, 0x53), topics,
                             "Von Unna signiert");
    s_exchange_chunk ("publish-offer-wrong-key-signed-again.bin",
                      s_exchange_control (PUBLISH, LUENEN, 0), &item);
    item = s_exchange_offer (fixture->unna, "unna", luenen_offer, topics, "Unter L\xc3\xbcnens Id");
    s_exchange_chunk ("publish-offer-id-of-other-town-forbidden.bin",
                      s_exchange_control (PUBLISH, UNNA, 0), &item);
    item = s_exchange_request (fixture->luenen, "luenen", luenen_offer, "kinderschutz", NULL);
    s_exchange_chunk ("publish-request-under-offer-id-invalid-state.bin",
                      s_exchange_control (PUBLISH, LUENEN, 0), &item);
    item = s_exchange_request (fixture->unna, "unna", s_exchange_id (id, 0x54), NULL,
                               s_exchange_id (other, 0x5f));
    s_exchange_chunk ("publish-request-offer-not-found.bin", s_exchange_control (PUBLISH, UNNA, 0),
                      &item);
    item = s_exchange_offer (fixture->kreis_unna, "kreis-unna", s_exchange_id (id, 0x55), topics,
                             "Kreisweite Fortbildung");
    s_exchange_chunk ("publish-offer-county-forbidden.bin", s_exchange_control (PUBLISH, KREIS, 0),
                      &item);
    char *no_topics[] = {NULL};
    item = s_exchange_offer (fixture->luenen, "luenen", s_exchange_id (id, 0x56), no_topics,
                             "Ohne Thema");
    s_exchange_chunk ("publish-offer-no-topic-malformed.bin",
                      s_exchange_control (PUBLISH, LUENEN, 0), &item);
    uint8_t junk[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x12};
    s_exchange_raw ("publish-body-junk.bin", s_exchange_control (PUBLISH, LUENEN, 0), junk,
                    sizeof (junk));

    //  ---- Withdraw (an own record's id is appended by the target)
    Bruecke__BoardWithdraw withdraw = BRUECKE__BOARD_WITHDRAW__INIT;
    s_exchange ("withdraw-own-offer-valid.bin",
                s_exchange_control (WITHDRAW, LUENEN, 1 + FUZZ_ITEM_LUENEN_OFFER), &withdraw.base);
    s_exchange ("withdraw-other-town-forbidden.bin",
                s_exchange_control (WITHDRAW, UNNA, 1 + FUZZ_ITEM_LUENEN_OFFER), &withdraw.base);
    fuzz_fixture_item_id (FUZZ_ITEM_UNNA_REQUEST, id);
    withdraw.item_id.data = id;
    withdraw.item_id.len = sizeof (id);
    s_exchange ("withdraw-request-valid.bin", s_exchange_control (WITHDRAW, UNNA, 0),
                &withdraw.base);
    withdraw.item_id.data = s_exchange_id (other, 0x5e);
    s_exchange ("withdraw-unknown-not-found.bin", s_exchange_control (WITHDRAW, UNNA, 0),
                &withdraw.base);
    withdraw.item_id.len = 3;
    s_exchange ("withdraw-short-id-malformed.bin", s_exchange_control (WITHDRAW, UNNA, 0),
                &withdraw.base);

    //  ---- Agreement steps (on the broker's agreements, whose ids the
    //  target appends)
    Bruecke__AgreementAction action = BRUECKE__AGREEMENT_ACTION__INIT;
    action.step = BRUECKE__AGREEMENT_STEP__STEP_ACCEPT;
    s_exchange ("action-accept-receiver-valid.bin",
                s_exchange_control (ACTION, UNNA, 1 + FUZZ_AGREEMENT_PROPOSED), &action.base);
    s_exchange ("action-accept-second-valid.bin",
                s_exchange_control (ACTION, UNNA, 1 + FUZZ_AGREEMENT_HALF), &action.base);
    s_exchange ("action-accept-repeated-valid.bin",
                s_exchange_control (ACTION, LUENEN, 1 + FUZZ_AGREEMENT_HALF), &action.base);
    s_exchange ("action-accept-accepted-invalid-state.bin",
                s_exchange_control (ACTION, LUENEN, 1 + FUZZ_AGREEMENT_ACCEPTED), &action.base);
    s_exchange ("action-accept-county-forbidden.bin",
                s_exchange_control (ACTION, KREIS, 1 + FUZZ_AGREEMENT_PROPOSED), &action.base);
    action.step = BRUECKE__AGREEMENT_STEP__STEP_UNSPECIFIED;
    s_exchange ("action-no-step-malformed.bin",
                s_exchange_control (ACTION, LUENEN, 1 + FUZZ_AGREEMENT_PROPOSED), &action.base);
    action.step = BRUECKE__AGREEMENT_STEP__STEP_SCHEDULE;
    s_exchange ("action-schedule-no-date-malformed.bin",
                s_exchange_control (ACTION, LUENEN, 1 + FUZZ_AGREEMENT_ACCEPTED), &action.base);
    action.scheduled_for_ms = FUZZ_EXCHANGE_DONE_MS;
    s_exchange ("action-schedule-valid.bin",
                s_exchange_control (ACTION, LUENEN, 1 + FUZZ_AGREEMENT_ACCEPTED), &action.base);
    s_exchange ("action-schedule-proposed-invalid-state.bin",
                s_exchange_control (ACTION, LUENEN, 1 + FUZZ_AGREEMENT_PROPOSED), &action.base);
    s_exchange ("action-schedule-signed-invalid-state.bin",
                s_exchange_control (ACTION, UNNA, 1 + FUZZ_AGREEMENT_SIGNED), &action.base);
    action.scheduled_for_ms = FUZZ_EXCHANGE_DONE_MS - FUZZ_DAY_MS;
    s_exchange ("action-reschedule-valid.bin",
                s_exchange_control (ACTION, UNNA, 1 + FUZZ_AGREEMENT_SCHEDULED), &action.base);
    action.scheduled_for_ms = 0;
    //  Completions carry a signature that is no town's: the target signs
    //  for the sender when the signature is all that is wrong
    uint8_t signature[BR_SIGNATURE_SIZE];
    memset (signature, 0x5a, sizeof (signature));
    action.step = BRUECKE__AGREEMENT_STEP__STEP_COMPLETE;
    action.completed_ms = FUZZ_EXCHANGE_DONE_MS;
    s_exchange ("action-complete-no-signature-malformed.bin",
                s_exchange_control (ACTION, LUENEN, 1 + FUZZ_AGREEMENT_SCHEDULED), &action.base);
    action.signature.data = signature;
    action.signature.len = sizeof (signature);
    s_exchange ("action-complete-first-signed-again.bin",
                s_exchange_control (ACTION, LUENEN, 1 + FUZZ_AGREEMENT_SCHEDULED), &action.base);
    s_exchange ("action-complete-second-signed-again.bin",
                s_exchange_control (ACTION, UNNA, 1 + FUZZ_AGREEMENT_SIGNED), &action.base);
    s_exchange ("action-complete-not-scheduled-invalid-state.bin",
                s_exchange_control (ACTION, UNNA, 1 + FUZZ_AGREEMENT_ACCEPTED), &action.base);
    s_exchange ("action-complete-completed-invalid-state.bin",
                s_exchange_control (ACTION, UNNA, 1 + FUZZ_AGREEMENT_COMPLETED), &action.base);
    action.completed_ms = FUZZ_EXCHANGE_DONE_MS + 1;
    s_exchange ("action-complete-other-date-invalid-state.bin",
                s_exchange_control (ACTION, UNNA, 1 + FUZZ_AGREEMENT_SIGNED), &action.base);
    action.completed_ms = FUZZ_EXCHANGE_LATER_MS;
    s_exchange ("action-complete-too-early-clock-skew.bin",
                s_exchange_control (ACTION, LUENEN, 1 + FUZZ_AGREEMENT_LATER), &action.base);
    action.completed_ms = 0;
    action.signature.len = 0;
    action.step = BRUECKE__AGREEMENT_STEP__STEP_CANCEL;
    action.cancel_reason = "schedule-conflict";
    s_exchange ("action-cancel-scheduled-valid.bin",
                s_exchange_control (ACTION, UNNA, 1 + FUZZ_AGREEMENT_SCHEDULED), &action.base);
    action.cancel_reason = "no-capacity";
    s_exchange ("action-cancel-proposed-valid.bin",
                s_exchange_control (ACTION, LUENEN, 1 + FUZZ_AGREEMENT_PROPOSED), &action.base);
    s_exchange ("action-cancel-completed-invalid-state.bin",
                s_exchange_control (ACTION, LUENEN, 1 + FUZZ_AGREEMENT_COMPLETED), &action.base);
    action.cancel_reason = "kein-grund";
    s_exchange ("action-cancel-unknown-reason-malformed.bin",
                s_exchange_control (ACTION, LUENEN, 1 + FUZZ_AGREEMENT_PROPOSED), &action.base);
    action.cancel_reason = "declined";
    action.transfer_id.data = s_exchange_id (other, 0x5d);
    action.transfer_id.len = sizeof (other);
    s_exchange ("action-unknown-not-found.bin", s_exchange_control (ACTION, UNNA, 0), &action.base);
    s_exchange_raw ("action-body-junk.bin", s_exchange_control (ACTION, UNNA, 0), junk,
                    sizeof (junk));
}

//  The node's messages from the broker: board updates, ledger updates,
//  agreements. Each name says what Unna's node does with it.
static void
s_exchange_node (void)
{
    fuzz_fixture_t *fixture = fuzz_fixture ();
    fuzz_exchange_t *exchange = fuzz_fixture_exchange ();
    const uint8_t BOARD = s_exchange_control (FUZZ_EXCHANGE_BOARD_UPDATE, 0, 0),
                  AGREEMENT = s_exchange_control (FUZZ_EXCHANGE_AGREEMENT, 0, 0);
    const uint64_t HEAD = FUZZ_EXCHANGE_NODE_ITEMS;
    uint8_t id[BR_BOARD_ID_SIZE], luenen_offer[BR_BOARD_ID_SIZE], luenen_request[BR_BOARD_ID_SIZE],
        other[BR_BOARD_ID_SIZE];
    fuzz_fixture_item_id (FUZZ_ITEM_LUENEN_OFFER, luenen_offer);
    fuzz_fixture_item_id (FUZZ_ITEM_LUENEN_REQUEST, luenen_request);

    //  ---- Board changes after the node's head
    Bruecke__BoardChange changes[3];
    Bruecke__BoardChange *list[] = {&changes[0], &changes[1], &changes[2]};
    Bruecke__SignedBoardItem *unna_request = s_exchange_item (FUZZ_ITEM_UNNA_REQUEST);
    zchunk_t *chunk =
        s_exchange_request (fixture->unna, "unna", s_exchange_id (id, 0x57), NULL, luenen_offer);
    Bruecke__SignedBoardItem *for_offer = s_exchange_decoded (&chunk);
    Bruecke__BoardUpdate update = BRUECKE__BOARD_UPDATE__INIT;
    update.after = HEAD;
    update.changes = list;
    update.n_changes = 3;
    update.head = HEAD + 3;
    s_exchange_change (&changes[0], HEAD + 1, unna_request, NULL);
    s_exchange_change (&changes[1], HEAD + 2, for_offer, NULL);
    s_exchange_change (&changes[2], HEAD + 3, NULL, luenen_request);
    s_exchange ("board-update-changes-valid.bin", BOARD, &update.base);
    update.n_changes = 1;
    s_exchange_change (&changes[0], HEAD + 2, unna_request, NULL);
    s_exchange ("board-update-gap-sync.bin", BOARD, &update.base);
    Bruecke__SignedBoardItem *unna_offer = s_exchange_item (FUZZ_ITEM_UNNA_OFFER);
    s_exchange_change (&changes[0], 2, unna_offer, NULL);
    s_exchange ("board-update-replayed.bin", BOARD, &update.base);
    s_exchange_change (&changes[0], HEAD + 1, NULL, s_exchange_id (other, 0x5e));
    s_exchange ("board-update-withdraw-unknown-snapshot.bin", BOARD, &update.base);
    char *topics[] = {"bewegungsfoerderung", NULL};
    chunk = s_exchange_offer (fixture->unna, "luenen", s_exchange_id (id, 0x58), topics,
                              "Bewegte Kita");
    Bruecke__SignedBoardItem *forged = s_exchange_decoded (&chunk);
    s_exchange_change (&changes[0], HEAD + 1, forged, NULL);
    s_exchange ("board-update-forged-signed-again.bin", BOARD, &update.base);
    //  Werne was revoked after it published: its items stay valid
    chunk = s_exchange_offer (fixture->werne, "werne", s_exchange_id (id, 0x59), topics,
                              "Bewegte Grundschule");
    Bruecke__SignedBoardItem *werne = s_exchange_decoded (&chunk);
    s_exchange_change (&changes[0], HEAD + 1, werne, NULL);
    s_exchange ("board-update-revoked-town-valid.bin", BOARD, &update.base);

    //  ---- Snapshots
    Bruecke__SignedBoardItem *luenen_item = s_exchange_item (FUZZ_ITEM_LUENEN_OFFER);
    Bruecke__SignedBoardItem *items[] = {luenen_item, unna_request, for_offer};
    Bruecke__BoardUpdate snapshot = BRUECKE__BOARD_UPDATE__INIT;
    snapshot.snapshot = true;
    snapshot.first = true;
    snapshot.last = true;
    snapshot.items = items;
    snapshot.n_items = 3;
    snapshot.head = 12;
    s_exchange ("board-snapshot-whole-valid.bin", BOARD, &snapshot.base);
    snapshot.last = false;
    snapshot.n_items = 1;
    s_exchange ("board-snapshot-first-part-valid.bin", BOARD, &snapshot.base);
    snapshot.first = false;
    s_exchange ("board-snapshot-later-part-ignored.bin", BOARD, &snapshot.base);
    items[0] = forged;
    snapshot.first = true;
    snapshot.last = true;
    s_exchange ("board-snapshot-forged-signed-again.bin", BOARD, &snapshot.base);
    br_proto_free ((ProtobufCMessage **) &unna_request);
    br_proto_free ((ProtobufCMessage **) &for_offer);
    br_proto_free ((ProtobufCMessage **) &unna_offer);
    br_proto_free ((ProtobufCMessage **) &forged);
    br_proto_free ((ProtobufCMessage **) &werne);
    br_proto_free ((ProtobufCMessage **) &luenen_item);

    //  ---- Ledger records after the node's record 1
    zchunk_t **records = exchange->records;
    s_exchange_ledger ("ledger-update-record-2-valid.bin", records + 1, 1);
    s_exchange_ledger ("ledger-update-records-2-3-valid.bin", records + 1, 2);
    s_exchange_ledger ("ledger-update-record-1-replayed.bin", records, 1);
    s_exchange_ledger ("ledger-update-record-3-gap-sync.bin", records + 2, 1);
    //  A record's time changed: its hash no longer holds (the copy stops);
    //  the target makes it right again
    zchunk_t *edited = zchunk_dup (records[1]);
    zchunk_data (edited)[1 + 8 + 7] ^= 0x01;
    s_exchange_ledger ("ledger-update-record-2-edited-signed-again.bin", &edited, 1);
    zchunk_destroy (&edited);
    //  ... and record 1 so changed is a fork, however it is signed
    edited = zchunk_dup (records[0]);
    zchunk_data (edited)[1 + 8 + 7] ^= 0x01;
    s_exchange_ledger ("ledger-update-record-1-forked.bin", &edited, 1);
    zchunk_destroy (&edited);

    //  ---- Agreements
    Bruecke__Agreement agreement;
    fuzz_fixture_agreement (&agreement);
    agreement.version = FUZZ_EXCHANGE_AGREEMENT_VERSION - 1;
    agreement.state = BRUECKE__AGREEMENT_STATE__AGREEMENT_ACCEPTED;
    s_exchange ("agreement-older-kept.bin", AGREEMENT, &agreement.base);
    agreement.version = FUZZ_EXCHANGE_AGREEMENT_VERSION + 2;
    agreement.state = BRUECKE__AGREEMENT_STATE__AGREEMENT_COMPLETED;
    agreement.completed_ms = FUZZ_EXCHANGE_DONE_MS;
    agreement.ledger_sequence = 2;
    s_exchange ("agreement-newer-valid.bin", AGREEMENT, &agreement.base);
    fuzz_fixture_agreement (&agreement);
    agreement.transfer_id.data = s_exchange_id (id, FUZZ_EXCHANGE_AGREEMENT_BYTE + 1);
    agreement.provider = "unna";
    agreement.receiver = "luenen";
    agreement.topic = "sprachfoerderung";
    agreement.state = BRUECKE__AGREEMENT_STATE__AGREEMENT_PROPOSED;
    agreement.provider_accepted = false;
    agreement.receiver_accepted = false;
    agreement.scheduled_for_ms = 0;
    agreement.version = 1;
    s_exchange ("agreement-new-valid.bin", AGREEMENT, &agreement.base);
    agreement.provider = "werne";
    s_exchange ("agreement-not-party-forbidden.bin", AGREEMENT, &agreement.base);
    agreement.provider = "unna";
    agreement.transfer_id.len = 3;
    s_exchange ("agreement-short-id-malformed.bin", AGREEMENT, &agreement.base);
    uint8_t junk[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x12};
    s_exchange_raw ("agreement-body-junk.bin", AGREEMENT, junk, sizeof (junk));
    s_write ("exchange", "empty.bin", NULL, 0);
}

//  ---- Store records ------------------------------------------------------

//  The control byte of a fuzz_record input: which record of
//  proto/records.proto follows (fuzz_record.c takes it modulo S_RECORD_TYPES).
#define S_RECORD_CASE      0 //  CaseRecord
#define S_RECORD_CONSENT   1 //  ConsentRecord
#define S_RECORD_REFERRAL  2 //  ReferralRecord
#define S_RECORD_TRANSFER  3 //  TransferRecord
#define S_RECORD_EMERGENCY 4 //  EmergencyRecord
#define S_RECORD_TYPES     5 //  record types

//  The generator does not link the node library, where the records'
//  descriptors live, so it writes their wire format itself: a record is a
//  chunk of fields appended in order, numbered as in records.proto.
#define S_WIRE_VARINT    0  //  wire type: int64, bool
#define S_WIRE_LENGTH    2  //  wire type: string, message, map entry
#define S_WIRE_TAG_SHIFT 3  //  a tag is the field number shifted, or'd with the wire type
#define S_VARINT_MAX     10 //  bytes of the longest varint

static void
s_wire_varint (zchunk_t *chunk, uint64_t value)
{
    uint8_t bytes[S_VARINT_MAX];
    size_t size = 0;
    do {
        bytes[size] = (uint8_t) (value & 0x7f);
        value >>= 7;
        if (value)
            bytes[size] |= 0x80;
        size++;
    } while (value);
    zchunk_extend (chunk, bytes, size);
}

//  Appends field `field` of wire type varint: an int64 or bool.
static void
s_wire_integer (zchunk_t *chunk, uint32_t field, int64_t value)
{
    s_wire_varint (chunk, ((uint64_t) field << S_WIRE_TAG_SHIFT) | S_WIRE_VARINT);
    s_wire_varint (chunk, (uint64_t) value);
}

//  Appends field `field` of wire type length-delimited: `size` bytes.
static void
s_wire_bytes (zchunk_t *chunk, uint32_t field, const void *data, size_t size)
{
    s_wire_varint (chunk, ((uint64_t) field << S_WIRE_TAG_SHIFT) | S_WIRE_LENGTH);
    s_wire_varint (chunk, size);
    zchunk_extend (chunk, data, size);
}

//  Appends string field `field`.
static void
s_wire_text (zchunk_t *chunk, uint32_t field, const char *text)
{
    s_wire_bytes (chunk, field, text, strlen (text));
}

//  Appends message field `field`: the message `*message_p`, which it destroys.
static void
s_wire_message (zchunk_t *chunk, uint32_t field, zchunk_t **message_p)
{
    s_wire_bytes (chunk, field, zchunk_data (*message_p), zchunk_size (*message_p));
    zchunk_destroy (message_p);
}

//  A map entry of string values (key 1, value 2).
static zchunk_t *
s_wire_entry (const char *key, const char *value)
{
    zchunk_t *entry = zchunk_new (NULL, 0);
    s_wire_text (entry, 1, key);
    s_wire_text (entry, 2, value);
    return entry;
}

//  A map entry of message values: `*value_p`, which it destroys.
static zchunk_t *
s_wire_entry_message (const char *key, zchunk_t **value_p)
{
    zchunk_t *entry = zchunk_new (NULL, 0);
    s_wire_text (entry, 1, key);
    s_wire_message (entry, 2, value_p);
    return entry;
}

//  A Member: name, role, age; and a member it holds custody for, if any.
static zchunk_t *
s_record_member (const char *name, const char *role, int64_t age, const char *custody_for)
{
    zchunk_t *member = zchunk_new (NULL, 0);
    s_wire_text (member, 1, name);
    if (role)
        s_wire_text (member, 2, role);
    s_wire_integer (member, 3, age);
    if (custody_for)
        s_wire_text (member, 4, custody_for);
    return member;
}

//  An Address: node, service, AGS, and when consent was withdrawn for it (if not 0).
static zchunk_t *
s_record_address (const char *node, const char *service, const char *ags, int64_t withdrawn_ms)
{
    zchunk_t *address = zchunk_new (NULL, 0);
    s_wire_text (address, 1, node);
    s_wire_text (address, 2, service);
    s_wire_text (address, 3, ags);
    if (withdrawn_ms)
        s_wire_integer (address, 4, withdrawn_ms);
    return address;
}

//  A StateChange: state, when, by whom, and a reason and text if any.
static zchunk_t *
s_record_state (const char *state, int64_t at_ms, const char *by, const char *reason,
                const char *text)
{
    zchunk_t *change = zchunk_new (NULL, 0);
    s_wire_text (change, 1, state);
    s_wire_integer (change, 2, at_ms);
    s_wire_text (change, 3, by);
    if (reason)
        s_wire_text (change, 4, reason);
    if (text)
        s_wire_text (change, 5, text);
    return change;
}

//  A CaseChange: field `change` changed, with `previous` (a FieldValue,
//  destroyed) if not NULL.
static zchunk_t *
s_record_change (const char *change, int64_t at_ms, zchunk_t **previous_p)
{
    zchunk_t *record = zchunk_new (NULL, 0);
    s_wire_text (record, 1, change);
    s_wire_integer (record, 2, at_ms);
    s_wire_text (record, 3, "a.muster");
    if (previous_p)
        s_wire_message (record, 4, previous_p);
    return record;
}

//  A map entry of sections (map<string, JsonObject>): `category` with JSON text `json`.
static zchunk_t *
s_record_section (const char *category, const char *json)
{
    zchunk_t *object = zchunk_new (NULL, 0);
    s_wire_text (object, 1, json);
    return s_wire_entry_message (category, &object);
}

//  Writes record/name: the control byte for `type`, then `*record_p`,
//  which it destroys.
static void
s_record (const char *name, uint8_t type, zchunk_t **record_p)
{
    FUZZ_CHECK (type < S_RECORD_TYPES);
    zchunk_t *chunk = zchunk_new (&type, 1);
    zchunk_extend (chunk, zchunk_data (*record_p), zchunk_size (*record_p));
    s_write_chunk ("record", name, chunk);
    zchunk_destroy (&chunk);
    zchunk_destroy (record_p);
}

//  A case with every field of an open case: members, details, a history
//  with each kind of previous value, a journal.
static zchunk_t *
s_record_case_full (void)
{
    zchunk_t *record = zchunk_new (NULL, 0);
    s_wire_text (record, 1, "00112233445566778899aabbccddeeff"); //  id
    s_wire_text (record, 2, "family");                           //  kind
    s_wire_text (record, 3, "fruehe-hilfen");                    //  service
    s_wire_text (record, 4, "fruehe-hilfen");                    //  office
    s_wire_text (record, 5, "open");                             //  state
    zchunk_t *member = s_record_member ("Aylin Beispiel", "mother", 29, "Deniz Beispiel");
    s_wire_text (member, 4, "Emre Beispiel"); //  custody_for, a second one
    s_wire_message (record, 6, &member);      //  members
    member = s_record_member ("Deniz Beispiel", "child", 5, NULL);
    s_wire_message (record, 6, &member);
    member = s_record_member ("Emre Beispiel", "child", 0, NULL);
    s_wire_message (record, 6, &member);
    s_wire_text (record, 7, "Kita-Platz");             //  needs
    s_wire_text (record, 7, "Sprachf\xc3\xb6rderung"); //  needs
    s_wire_text (record, 8,
                 "Erstgespr\xc3\xa4"
                 "ch am Dienstag");           //  notes
    zchunk_t *details = zchunk_new (NULL, 0); //  details: TextMap
    zchunk_t *entry = s_wire_entry ("Kind", "spricht wenig Deutsch");
    s_wire_message (details, 1, &entry);
    entry = s_wire_entry ("Mutter", "T\xc3\xbcrkisch, Deutsch B1");
    s_wire_message (details, 1, &entry);
    entry = s_wire_entry_message ("language", &details);
    s_wire_message (record, 9, &entry);
    details = zchunk_new (NULL, 0); //  an empty category
    entry = s_wire_entry_message ("contact", &details);
    s_wire_message (record, 9, &entry);
    s_wire_text (record, 10, "Frau Muster");                     //  caseworker
    s_wire_text (record, 11, "Herr Beispiel");                   //  lotse
    s_wire_text (record, 12, "UN-2025-0042");                    //  external_ref
    s_wire_integer (record, 13, FUZZ_NOW_MS + 14 * FUZZ_DAY_MS); //  follow_up_ms
    s_wire_integer (record, 14, FUZZ_NOW_MS - 30 * FUZZ_DAY_MS); //  created_at_ms
    s_wire_integer (record, 15, FUZZ_NOW_MS - FUZZ_DAY_MS);      //  updated_at_ms

    //  history: previous values as text, integer, texts, no texts, members
    int64_t at_ms = FUZZ_NOW_MS - 20 * FUZZ_DAY_MS;
    zchunk_t *previous = zchunk_new (NULL, 0);
    s_wire_text (previous, 1, "Herr Alt"); //  as_text
    zchunk_t *change = s_record_change ("caseworker", at_ms, &previous);
    s_wire_message (record, 18, &change);
    previous = zchunk_new (NULL, 0);
    s_wire_integer (previous, 2, -1); //  as_integer, ten bytes on the wire
    change = s_record_change ("follow_up_ms", at_ms + 1, &previous);
    s_wire_message (record, 18, &change);
    zchunk_t *texts = zchunk_new (NULL, 0);
    s_wire_text (texts, 1, "Kita-Platz");
    previous = zchunk_new (NULL, 0);
    s_wire_message (previous, 3, &texts); //  as_texts
    change = s_record_change ("needs", at_ms + 2, &previous);
    s_wire_message (record, 18, &change);
    texts = zchunk_new (NULL, 0);
    previous = zchunk_new (NULL, 0);
    s_wire_message (previous, 3, &texts); //  as_texts, none
    change = s_record_change ("needs", at_ms + 3, &previous);
    s_wire_message (record, 18, &change);
    zchunk_t *members = zchunk_new (NULL, 0);
    member = s_record_member ("Aylin Beispiel", NULL, 28, NULL);
    s_wire_message (members, 1, &member);
    previous = zchunk_new (NULL, 0);
    s_wire_message (previous, 4, &members); //  as_members
    change = s_record_change ("members", at_ms + 4, &previous);
    s_wire_message (record, 18, &change);
    change = s_record_change ("lotse", at_ms + 5, NULL); //  none before
    s_wire_message (record, 18, &change);
    change = s_record_change ("closed", at_ms + 6, NULL);
    s_wire_text (change, 5, "goal-reached");        //  reason
    s_wire_text (change, 6, "Kita-Platz gefunden"); //  text
    s_wire_message (record, 18, &change);
    change = zchunk_new (NULL, 0);
    s_wire_text (change, 1, "reopened");
    s_wire_integer (change, 2, at_ms + 7);
    s_wire_text (change, 3, "t-4711 f\xc3\xbcr Frau Muster");
    s_wire_text (change, 5, "new-need");
    s_wire_message (record, 18, &change);

    //  journal
    zchunk_t *note = zchunk_new (NULL, 0);
    s_wire_text (note, 1, "Mutter angerufen, Termin vereinbart");
    s_wire_integer (note, 2, at_ms);
    s_wire_text (note, 3, "a.muster");
    s_wire_message (record, 19, &note);
    note = zchunk_new (NULL, 0);
    s_wire_text (note, 1, "");
    s_wire_integer (note, 2, at_ms + 1);
    s_wire_message (record, 19, &note);
    return record;
}

//  Seeds for fuzz_record: each record type with every field, and records
//  that each break one rule. Names end in the verdict bn_record_decode
//  gives ("valid": OK; "malformed": MALFORMED); the generator does not link
//  the node library: FUZZ_RECORD_TRACE shows them.
static void
s_records (void)
{
    //  ---- Cases
    zchunk_t *record = s_record_case_full ();
    zchunk_t *truncated = s_truncated (record, zchunk_size (record) / 2);
    s_record ("case-full-valid.bin", S_RECORD_CASE, &record);
    s_record ("case-truncated-malformed.bin", S_RECORD_CASE, &truncated);

    //  A case handed over to Lünen, come from Werne before
    record = zchunk_new (NULL, 0);
    s_wire_text (record, 1, "ffeeddccbbaa99887766554433221100"); //  id
    s_wire_text (record, 2, "person");                           //  kind
    s_wire_text (record, 5, "transferred");                      //  state
    s_wire_integer (record, 16, FUZZ_NOW_MS - FUZZ_DAY_MS);      //  closed_at_ms
    s_wire_text (record, 17, "transferred");                     //  close_reason
    zchunk_t *from = zchunk_new (NULL, 0);                       //  transferred_from
    s_wire_text (from, 1, "werne");
    s_wire_text (from, 2, "72727272727272727272727272727272");
    s_wire_message (record, 20, &from);
    s_wire_text (record, 21, "luenen");                           //  transferred_to
    s_wire_integer (record, 22, FUZZ_NOW_MS - FUZZ_DAY_MS);       //  transferred_at_ms
    s_wire_text (record, 23, "73737373737373737373737373737373"); //  transfer_id
    s_record ("case-transferred-valid.bin", S_RECORD_CASE, &record);

    record = zchunk_new (NULL, 0);
    s_record ("case-empty-valid.bin", S_RECORD_CASE, &record);
    //  Any control byte chooses a type: 255 is a case
    record = zchunk_new (NULL, 0);
    s_wire_text (record, 5, "open");
    const uint8_t wraps = 0xff;
    zchunk_t *chunk = zchunk_new (&wraps, 1);
    zchunk_extend (chunk, zchunk_data (record), zchunk_size (record));
    s_write_chunk ("record", "case-control-wraps-valid.bin", chunk);
    zchunk_destroy (&chunk);
    zchunk_destroy (&record);

    //  Integers at their ends, a field the schema lacks (skipped)
    record = zchunk_new (NULL, 0);
    s_wire_integer (record, 13, INT64_MIN); //  follow_up_ms
    s_wire_integer (record, 14, INT64_MAX); //  created_at_ms
    zchunk_t *member = s_record_member ("Greta Alt", "grandmother", INT64_MAX, NULL);
    s_wire_message (record, 6, &member);
    s_wire_integer (record, 99, 1); //  no such field
    s_record ("case-integers-extreme-valid.bin", S_RECORD_CASE, &record);

    //  A field given twice: protobuf keeps the last; a choice with two
    //  values set: the first shows
    record = zchunk_new (NULL, 0);
    s_wire_text (record, 11, "Herr Erst");
    s_wire_text (record, 11, "Frau Zweit");
    zchunk_t *previous = zchunk_new (NULL, 0);
    s_wire_text (previous, 1, "Herr Alt");
    s_wire_integer (previous, 2, 7);
    zchunk_t *change = s_record_change ("lotse", FUZZ_NOW_MS, &previous);
    s_wire_message (record, 18, &change);
    s_record ("case-field-twice-valid.bin", S_RECORD_CASE, &record);

    //  A choice with nothing set has no JSON
    record = zchunk_new (NULL, 0);
    previous = zchunk_new (NULL, 0);
    change = s_record_change ("lotse", FUZZ_NOW_MS, &previous);
    s_wire_message (record, 18, &change);
    s_record ("case-previous-none-malformed.bin", S_RECORD_CASE, &record);

    //  Details: a key given twice (the last counts), an entry without a
    //  value, an entry without a key, a key that is not UTF-8
    record = zchunk_new (NULL, 0);
    zchunk_t *details = zchunk_new (NULL, 0);
    zchunk_t *entry = s_wire_entry ("Kind", "erst");
    s_wire_message (details, 1, &entry);
    entry = s_wire_entry ("Kind", "zweit");
    s_wire_message (details, 1, &entry);
    entry = s_wire_entry_message ("language", &details);
    s_wire_message (record, 9, &entry);
    s_record ("case-details-key-twice-valid.bin", S_RECORD_CASE, &record);
    record = zchunk_new (NULL, 0);
    entry = zchunk_new (NULL, 0);
    s_wire_text (entry, 1, "language");
    s_wire_message (record, 9, &entry);
    s_record ("case-details-no-value-malformed.bin", S_RECORD_CASE, &record);
    record = zchunk_new (NULL, 0);
    details = zchunk_new (NULL, 0);
    entry = zchunk_new (NULL, 0);
    s_wire_message (entry, 2, &details);
    s_wire_message (record, 9, &entry);
    s_record ("case-details-no-key-malformed.bin", S_RECORD_CASE, &record);
    record = zchunk_new (NULL, 0);
    details = zchunk_new (NULL, 0);
    entry = s_wire_entry ("Kind\xff", "spricht Deutsch");
    s_wire_message (details, 1, &entry);
    entry = s_wire_entry_message ("language", &details);
    s_wire_message (record, 9, &entry);
    s_record ("case-details-key-not-utf8-malformed.bin", S_RECORD_CASE, &record);

    //  Texts: not UTF-8; with a NUL (a C string ends there)
    record = zchunk_new (NULL, 0);
    s_wire_text (record, 11, "Herr M\xc3\x28ller");
    s_record ("case-text-not-utf8-malformed.bin", S_RECORD_CASE, &record);
    record = zchunk_new (NULL, 0);
    s_wire_bytes (record, 11, "Herr\0Muster", 11);
    s_record ("case-text-nul-valid.bin", S_RECORD_CASE, &record);

    //  Wrong wire type (an id as a number), bytes that are no record
    record = zchunk_new (NULL, 0);
    s_wire_integer (record, 1, 42);
    s_record ("case-id-wire-type-malformed.bin", S_RECORD_CASE, &record);
    const uint8_t junk[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f};
    record = zchunk_new (junk, sizeof (junk));
    s_record ("case-junk-malformed.bin", S_RECORD_CASE, &record);

    //  ---- Consents
    record = zchunk_new (NULL, 0);
    s_wire_text (record, 1, "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf"); //  id
    s_wire_text (record, 2, "00112233445566778899aabbccddeeff"); //  case_id
    s_wire_text (record, 3, "fruehe-hilfen");                    //  office
    s_wire_text (record, 4, "Aylin Beispiel");                   //  grantor
    s_wire_text (record, 5, "Aylin Beispiel");                   //  subjects
    s_wire_text (record, 5, "Deniz Beispiel");
    s_wire_text (record, 6, "language-support"); //  purpose
    s_wire_text (record, 7, "household");        //  categories
    s_wire_text (record, 7, "child-age");
    s_wire_text (record, 7, "language");
    zchunk_t *address = s_record_address ("luenen", "jobcenter", "05978024", 0);
    s_wire_message (record, 8, &address); //  recipients
    address = s_record_address ("kreis-unna", "gesundheitsamt", "05978", FUZZ_NOW_MS - FUZZ_DAY_MS);
    s_wire_message (record, 8, &address);
    s_wire_integer (record, 9, FUZZ_NOW_MS - 30 * FUZZ_DAY_MS);  //  valid_from_ms
    s_wire_integer (record, 10, FUZZ_NOW_MS + 30 * FUZZ_DAY_MS); //  valid_until_ms
    s_wire_text (record, 11, "written");                         //  form
    s_wire_text (record, 12,
                 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"); //  evidence
    s_wire_integer (record, 13, 1);                              //  health_data
    s_wire_text (record, 14, "active");                          //  status
    s_wire_integer (record, 15, FUZZ_NOW_MS - 30 * FUZZ_DAY_MS); //  recorded_at_ms
    s_wire_integer (record, 17, 1);                              //  form_stored
    s_wire_text (record, 18, "application/pdf");                 //  form_type
    s_wire_integer (record, 19, 48213);                          //  form_size
    s_record ("consent-recipients-valid.bin", S_RECORD_CONSENT, &record);

    record = zchunk_new (NULL, 0);
    s_wire_text (record, 1, "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf"); //  id
    s_wire_text (record, 14, "withdrawn");                       //  status
    s_wire_integer (record, 16, FUZZ_NOW_MS);                    //  withdrawn_at_ms
    s_wire_integer (record, 13, 0);                              //  health_data: false, set
    s_wire_integer (record, 17, 2);                              //  form_stored: any non-zero
    s_record ("consent-withdrawn-valid.bin", S_RECORD_CONSENT, &record);

    //  ---- Referrals: sections hold the sender's JSON text
    record = zchunk_new (NULL, 0);
    s_wire_text (record, 1, "71717171717171717171717171717171"); //  id
    s_wire_text (record, 2, "incoming");                         //  direction
    s_wire_text (record, 4, "fruehe-hilfen");                    //  office
    s_wire_text (record, 5, "fruehe-hilfen");                    //  service
    address = s_record_address ("luenen", "jobcenter", "05978024", 0);
    s_wire_message (record, 6, &address);        //  peer
    s_wire_text (record, 7, "language-support"); //  purpose
    s_wire_text (record, 8, "household");        //  categories
    s_wire_text (record, 8, "language");
    s_wire_text (record, 9, "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf"); //  consent_id
    s_wire_text (record, 11,
                 "Bitte um R\xc3\xbc"
                 "ckruf");                                       //  note
    s_wire_integer (record, 12, FUZZ_NOW_MS + 30 * FUZZ_DAY_MS); //  valid_until_ms
    s_wire_integer (record, 13, FUZZ_NOW_MS - 2 * FUZZ_DAY_MS);  //  created_at_ms
    s_wire_integer (record, 14, FUZZ_NOW_MS - FUZZ_DAY_MS);      //  updated_at_ms
    s_wire_text (record, 15, "accepted");                        //  state
    change = s_record_state ("received", FUZZ_NOW_MS - 2 * FUZZ_DAY_MS, "luenen", NULL, NULL);
    s_wire_message (record, 16, &change); //  history
    change = s_record_state ("accepted", FUZZ_NOW_MS - FUZZ_DAY_MS, "a.muster", "OK",
                             "Erstgespr\xc3\xa4"
                             "ch vereinbart");
    s_wire_message (record, 16, &change);
    s_wire_text (record, 18, "71717171717171717171717171717171"); //  wire_id
    s_wire_text (record, 19, "Herr Beispiel");                    //  lotse
    s_wire_text (record, 20, "in-progress");                      //  outcome
    s_wire_integer (record, 21, 0);                               //  processing_stopped
    entry = s_record_section ("household", "{\"kind\":\"family\",\"members\":[{\"name\":\"X\","
                                           "\"age\":3,\"shoe\":[1,{\"a\":null}],\"h\":1.25}]}");
    s_wire_message (record, 22, &entry); //  sections
    entry = s_record_section ("language", "{}");
    s_wire_message (record, 22, &entry);
    entry = s_record_section ("child-age",
                              " { \"note\" : \"Sprachf\\u00f6rderung \\ud83d\\ude00\", \"n\": -0, "
                              "\"big\": 9007199254740993, \"e\": 1e-3, \"t\": true } ");
    s_wire_message (record, 22, &entry);
    s_record ("referral-sections-valid.bin", S_RECORD_REFERRAL, &record);

    record = zchunk_new (NULL, 0);
    s_wire_text (record, 1, "74747474747474747474747474747474"); //  id
    s_wire_text (record, 2, "outgoing");                         //  direction
    s_wire_text (record, 3, "00112233445566778899aabbccddeeff"); //  case_id
    s_wire_text (record, 10,
                 "SGB VIII \xc2\xa7"
                 "8a");                                           //  statute
    s_wire_text (record, 17, "75757575757575757575757575757575"); //  message_id
    s_wire_integer (record, 21, 1);                               //  processing_stopped
    s_record ("referral-outgoing-statute-valid.bin", S_RECORD_REFERRAL, &record);

    //  Sections that are no JSON object: a list, text cut short, a NUL
    //  (jansson refuses it), no text at all
    const char *not_objects[][2] = {
        {"referral-section-list-malformed.bin", "[1]"},
        {"referral-section-cut-malformed.bin", "{\"members\":[{\"name\":"},
        {"referral-section-nul-malformed.bin", "{\"a\":\"\\u0000\"}"},
        {"referral-section-text-malformed.bin", "\"household\""},
    };
    for (size_t index = 0; index < sizeof (not_objects) / sizeof (not_objects[0]); index++) {
        record = zchunk_new (NULL, 0);
        entry = s_record_section ("household", not_objects[index][1]);
        s_wire_message (record, 22, &entry);
        s_record (not_objects[index][0], S_RECORD_REFERRAL, &record);
    }
    record = zchunk_new (NULL, 0);
    zchunk_t *object = zchunk_new (NULL, 0);
    entry = s_wire_entry_message ("household", &object);
    s_wire_message (record, 22, &entry);
    s_record ("referral-section-no-text-malformed.bin", S_RECORD_REFERRAL, &record);

    //  ---- Transfers
    record = zchunk_new (NULL, 0);
    s_wire_text (record, 1, "72727272727272727272727272727272"); //  id
    s_wire_text (record, 2, "incoming");                         //  direction
    s_wire_text (record, 4, "jugendamt");                        //  office
    address = s_record_address ("unna", "jugendamt", "05978036", 0);
    s_wire_message (record, 5, &address); //  to
    address = s_record_address ("luenen", "jugendamt", "05978024", 0);
    s_wire_message (record, 6, &address); //  peer
    s_wire_text (record, 7,
                 "SGB VIII \xc2\xa7"
                 "86c");                  //  statute
    s_wire_text (record, 8, "case-file"); //  categories
    s_wire_text (record, 8, "household");
    entry = s_record_section ("case-file", "{\"opened\":\"2025-03-01\",\"notes\":[\"a\",\"b\"]}");
    s_wire_message (record, 9, &entry); //  sections
    entry = s_record_section ("household", "{\"kind\":\"person\"}");
    s_wire_message (record, 9, &entry);
    s_wire_integer (record, 10, FUZZ_NOW_MS - FUZZ_DAY_MS); //  created_at_ms
    s_wire_text (record, 11, "received");                   //  state
    change = s_record_state ("received", FUZZ_NOW_MS - FUZZ_DAY_MS, "luenen", NULL, NULL);
    s_wire_message (record, 12, &change); //  history
    s_record ("transfer-incoming-valid.bin", S_RECORD_TRANSFER, &record);

    record = zchunk_new (NULL, 0);
    s_wire_text (record, 1, "73737373737373737373737373737373"); //  id
    s_wire_text (record, 2, "outgoing");                         //  direction
    s_wire_text (record, 3, "ffeeddccbbaa99887766554433221100"); //  case_id
    s_wire_text (record, 11, "declined");                        //  state
    change =
        s_record_state ("declined", FUZZ_NOW_MS, "luenen", "FORBIDDEN", "nicht zust\xc3\xa4ndig");
    s_wire_message (record, 12, &change);
    s_record ("transfer-declined-valid.bin", S_RECORD_TRANSFER, &record);

    //  ---- Emergency access
    record = zchunk_new (NULL, 0);
    s_wire_text (record, 1, "76767676767676767676767676767676");         //  id
    s_wire_text (record, 2, "jugendamt");                                //  office
    s_wire_text (record, 3, "Kindeswohlgef\xc3\xa4hrdung, Nachtdienst"); //  reason
    s_wire_integer (record, 4, 120);                                     //  minutes
    s_wire_text (record, 5, "b.bereit");                                 //  requested_by
    s_wire_integer (record, 6, FUZZ_NOW_MS - FUZZ_HOUR_MS);              //  requested_at_ms
    s_wire_text (record, 7, "ended");                                    //  state
    s_wire_text (record, 8, "c.leitung");                                //  approved_by
    s_wire_integer (record, 9, FUZZ_NOW_MS - FUZZ_HOUR_MS + 60000);      //  approved_at_ms
    s_wire_integer (record, 10, FUZZ_NOW_MS + FUZZ_HOUR_MS);             //  until_ms
    s_wire_text (record, 11, "b.bereit");                                //  ended_by
    s_wire_integer (record, 12, FUZZ_NOW_MS);                            //  ended_at_ms
    s_record ("emergency-ended-valid.bin", S_RECORD_EMERGENCY, &record);

    record = zchunk_new (NULL, 0);
    s_wire_integer (record, 4, -5); //  minutes: typed, not checked here
    s_wire_text (record, 7, "requested");
    s_record ("emergency-requested-valid.bin", S_RECORD_EMERGENCY, &record);

    s_write ("record", "empty.bin", NULL, 0);
}

//  ---- A fixed random stream ---------------------------------------------

static uint64_t s_random_calls = 0; //  how many times the stream was drawn from

//  Fills `buffer` from the fixed stream: each call its own block, derived
//  from a fixed seed and the call's number.
static void
s_random_buf (void *const buffer, const size_t size)
{
    uint8_t seed[randombytes_SEEDBYTES];
    memset (seed, 0x5e, sizeof (seed));
    uint64_t call = s_random_calls++;
    memcpy (seed, &call, sizeof (call));
    randombytes_buf_deterministic (buffer, size, seed);
}

static uint32_t
s_random (void)
{
    uint32_t value;
    s_random_buf (&value, sizeof (value));
    return value;
}

static const char *
s_random_name (void)
{
    return "bruecke-make-corpus fixed stream";
}

static randombytes_implementation s_fixed_random = {
    .implementation_name = s_random_name,
    .random = s_random,
    .stir = NULL,
    .uniform = NULL,
    .buf = s_random_buf,
    .close = NULL,
};

int
main (int argc, char *argv[])
{
    if (argc != 2 || argv[1][0] == '-') {
        fprintf (stderr, "usage: bruecke-make-corpus DIR   (normally tests/fuzz/corpus)\n");
        return 2;
    }
    s_root = argv[1];
    //  Before sodium_init, which the fixture calls
    if (randombytes_set_implementation (&s_fixed_random) != 0) {
        fprintf (stderr, "bruecke-make-corpus: cannot fix the random stream\n");
        return 1;
    }
    fuzz_fixture ();
    const char *kinds[] = {"envelope", "roster", "attestation", "casework", "exchange", "record"};
    for (size_t index = 0; index < sizeof (kinds) / sizeof (kinds[0]); index++)
        if (zsys_dir_create ("%s/%s", s_root, kinds[index]) != 0) {
            fprintf (stderr, "bruecke-make-corpus: cannot create %s/%s\n", s_root, kinds[index]);
            return 1;
        }
    s_envelopes ();
    s_rosters ();
    s_attestations ();
    s_caseworks ();
    //  Last: the exchange's ledger draws from the fixed stream (its
    //  temporary store), which must not move the seeds before
    s_exchange_broker ();
    s_exchange_node ();
    s_records ();
    printf ("bruecke-make-corpus: wrote %zu files under %s\n", s_written, s_root);
    return 0;
}
