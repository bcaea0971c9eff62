/*  =========================================================================
    bruecke-vectors - the protocol's test vectors, printed and checked

    Usage:
        bruecke-vectors print          prints the test-vector section
        bruecke-vectors check FILE     checks that FILE (proto/PROTOCOL.md)
                                       holds exactly that section, and that
                                       the vectors verify, open and decode

    Everything here is fixed: seeds, times, message ids and the ephemeral
    key of the sealed body, so the bytes are the same on every run. The
    section lives in PROTOCOL.md between the markers below; "check" is a
    ctest test, so the document cannot drift from the code.
    =========================================================================
*/

#include "bruecke.h"

#define S_BEGIN_MARKER "<!-- test-vectors:begin -->"
#define S_END_MARKER   "<!-- test-vectors:end -->"
//  Hex digits per line in the printed blocks.
#define S_HEX_PER_LINE 64

//  Fixed times: 2026-01-01T00:00:00Z and friends.
#define S_CREATED_MS     1767225600000LL
#define S_DAY_MS         86400000LL
#define S_ROSTER_EXPIRES 1798761600000LL //  2027-01-01T00:00:00Z

//  The vectors' fixed inputs and the bytes made from them.
typedef struct {
    br_identity_t *luenen;        //  seed 00..1f
    br_identity_t *unna;          //  seed 20..3f
    br_identity_t *county;        //  seed 40..5f
    zchunk_t *receipt;            //  vector 2: encoded Envelope
    zchunk_t *note;               //  vector 3: encoded Envelope
    zchunk_t *note_plain;         //  vector 3: the body before sealing
    zchunk_t *note_sealed;        //  vector 3: the sealed body
    uint8_t ephemeral_secret[32]; //  vector 3: fixed ephemeral key
    uint8_t ephemeral_public[32];
    uint8_t nonce[crypto_box_NONCEBYTES];
    zchunk_t *roster; //  vector 4: encoded SignedRoster
} s_vectors_t;

static void
s_fill (uint8_t *bytes, size_t size, uint8_t first)
{
    for (size_t index = 0; index < size; index++)
        bytes[index] = (uint8_t) (first + index);
}

static br_identity_t *
s_identity (const char *node_id, uint8_t first)
{
    uint8_t seed[BR_SEED_SIZE];
    s_fill (seed, sizeof (seed), first);
    return br_identity_new_from_seed (node_id, seed);
}

//  crypto_box_seal with a fixed ephemeral key, so the vector is stable:
//  nonce = BLAKE2b-192 (ephemeral_public || recipient_public),
//  sealed = ephemeral_public || crypto_box (plain, nonce, recipient, ephemeral).
static zchunk_t *
s_seal_fixed (s_vectors_t *self, const uint8_t *plain, size_t size, const uint8_t *recipient)
{
    crypto_scalarmult_base (self->ephemeral_public, self->ephemeral_secret);
    crypto_generichash_state state;
    crypto_generichash_init (&state, NULL, 0, sizeof (self->nonce));
    crypto_generichash_update (&state, self->ephemeral_public, 32);
    crypto_generichash_update (&state, recipient, 32);
    crypto_generichash_final (&state, self->nonce, sizeof (self->nonce));
    zchunk_t *sealed = zchunk_new (NULL, 32 + size + crypto_box_MACBYTES);
    memcpy (zchunk_data (sealed), self->ephemeral_public, 32);
    int rc = crypto_box_easy (zchunk_data (sealed) + 32, plain, size, self->nonce, recipient,
                              self->ephemeral_secret);
    assert (rc == 0);
    zchunk_set (sealed, NULL, 32 + size + crypto_box_MACBYTES);
    return sealed;
}

static void
s_make (s_vectors_t *self)
{
    memset (self, 0, sizeof (*self));
    self->luenen = s_identity ("luenen", 0x00);
    self->unna = s_identity ("unna", 0x20);
    self->county = s_identity ("county", 0x40);

    //  Vector 2: a receipt from Unna to Lünen
    Bruecke__Header header;
    uint8_t id[BR_MESSAGE_ID_SIZE];
    br_envelope_header_init (&header, id, BRUECKE__MESSAGE_TYPE__TYPE_RECEIPT, "unna", "luenen", "",
                             1, S_CREATED_MS, S_DAY_MS);
    s_fill (id, sizeof (id), 0x00);
    uint8_t receipted[BR_MESSAGE_ID_SIZE];
    s_fill (receipted, sizeof (receipted), 0xa0);
    Bruecke__Receipt receipt = BRUECKE__RECEIPT__INIT;
    receipt.message_id.data = receipted;
    receipt.message_id.len = sizeof (receipted);
    receipt.stored_at_ms = S_CREATED_MS + 500;
    self->receipt = br_envelope_build (self->unna, &header, NULL, &receipt.base, NULL);

    //  Vector 3: a sealed test note from Lünen to Unna's Frühe Hilfen, under consent
    br_envelope_header_init (&header, id, BRUECKE__MESSAGE_TYPE__TYPE_TEST_NOTE, "luenen", "unna",
                             "fruehe-hilfen", 42, S_CREATED_MS, S_DAY_MS);
    s_fill (id, sizeof (id), 0x10);
    uint8_t consent_id[BR_CONSENT_ID_SIZE];
    s_fill (consent_id, sizeof (consent_id), 0xc0);
    char *categories[] = {"household", "child-age", "language"};
    Bruecke__Attestation attestation = BRUECKE__ATTESTATION__INIT;
    attestation.basis = BRUECKE__LEGAL_BASIS__BASIS_CONSENT;
    attestation.consent_id.data = consent_id;
    attestation.consent_id.len = sizeof (consent_id);
    attestation.purpose = "language-support";
    attestation.data_categories = categories;
    attestation.n_data_categories = 3;
    attestation.recipient = "unna";
    attestation.recipient_service = "fruehe-hilfen";
    attestation.valid_from_ms = S_CREATED_MS - S_DAY_MS;
    attestation.valid_until_ms = S_CREATED_MS + 30 * S_DAY_MS;
    Bruecke__TestNote note = BRUECKE__TEST_NOTE__INIT;
    note.text = "Testnachricht, erfunden";
    self->note_plain = br_proto_encode (&note.base);
    s_fill (self->ephemeral_secret, 32, 0xe0);
    self->note_sealed =
        s_seal_fixed (self, zchunk_data (self->note_plain), zchunk_size (self->note_plain),
                      br_identity_seal_public (self->unna));
    Bruecke__Message message = BRUECKE__MESSAGE__INIT;
    message.header = &header;
    message.attestation = &attestation;
    message.body.data = zchunk_data (self->note_sealed);
    message.body.len = zchunk_size (self->note_sealed);
    zchunk_t *message_bytes = br_proto_encode (&message.base);
    self->note =
        br_envelope_sign (self->luenen, zchunk_data (message_bytes), zchunk_size (message_bytes));
    zchunk_destroy (&message_bytes);

    //  Vector 4: a roster with the two towns; Unna's Jugendamt routed to Unna
    zconfig_t *draft = br_roster_draft_new ("05978", "Kreis Unna");
    br_reason_t reason =
        br_roster_draft_add_node (draft, self->luenen, "L\xc3\xbcnen", "05978024",
                                  BRUECKE__NODE_ROLE__ROLE_TOWN, "jobcenter,jugendamt");
    assert (reason == BR_REASON_OK);
    reason = br_roster_draft_add_node (draft, self->unna, "Unna", "05978036",
                                       BRUECKE__NODE_ROLE__ROLE_TOWN, "fruehe-hilfen,jugendamt");
    assert (reason == BR_REASON_OK);
    reason = br_roster_draft_add_route (draft, "05978036", "jugendamt", "unna");
    assert (reason == BR_REASON_OK);
    self->roster = br_roster_draft_sign (draft, self->county, S_CREATED_MS,
                                         S_ROSTER_EXPIRES - S_CREATED_MS, &reason);
    assert (self->roster);
    zconfig_destroy (&draft);
}

static void
s_destroy (s_vectors_t *self)
{
    br_identity_destroy (&self->luenen);
    br_identity_destroy (&self->unna);
    br_identity_destroy (&self->county);
    zchunk_destroy (&self->receipt);
    zchunk_destroy (&self->note);
    zchunk_destroy (&self->note_plain);
    zchunk_destroy (&self->note_sealed);
    zchunk_destroy (&self->roster);
}

//  ---- Printing -------------------------------------------------------------

static void
s_hex_block (zchunk_t *out, const char *label, const uint8_t *data, size_t size)
{
    char *hex = (char *) malloc (2 * size + 1);
    br_hex_encode (data, size, hex);
    zchunk_extend (out, label, strlen (label));
    char line[128];
    snprintf (line, sizeof (line), " (%zu bytes):\n", size);
    zchunk_extend (out, line, strlen (line));
    for (size_t offset = 0; offset < 2 * size; offset += S_HEX_PER_LINE) {
        size_t length = 2 * size - offset < S_HEX_PER_LINE ? 2 * size - offset : S_HEX_PER_LINE;
        zchunk_extend (out, "    ", 4);
        zchunk_extend (out, hex + offset, length);
        zchunk_extend (out, "\n", 1);
    }
    if (size == 0)
        zchunk_extend (out, "    (empty)\n", 12);
    free (hex);
}

static void
s_text (zchunk_t *out, const char *text)
{
    zchunk_extend (out, text, strlen (text));
}

static void
s_identity_block (zchunk_t *out, br_identity_t *identity, uint8_t first)
{
    uint8_t seed[BR_SEED_SIZE], subkey[32];
    s_fill (seed, sizeof (seed), first);
    char label[96];
    snprintf (label, sizeof (label), "%s seed", br_identity_node_id (identity));
    s_hex_block (out, label, seed, sizeof (seed));
    const char *names[] = {"signing", "transport", "sealing"};
    for (uint64_t subkey_id = BR_KDF_SIGN; subkey_id <= BR_KDF_SEAL; subkey_id++) {
        crypto_kdf_derive_from_key (subkey, sizeof (subkey), subkey_id, BR_KDF_CONTEXT, seed);
        snprintf (label, sizeof (label), "%s %s subkey (id %llu)", br_identity_node_id (identity),
                  names[subkey_id - 1], (unsigned long long) subkey_id);
        s_hex_block (out, label, subkey, sizeof (subkey));
    }
    snprintf (label, sizeof (label), "%s sign-public (Ed25519)", br_identity_node_id (identity));
    s_hex_block (out, label, br_identity_sign_public (identity), BR_SIGN_PUBLIC_SIZE);
    snprintf (label, sizeof (label), "%s transport-public (X25519)",
              br_identity_node_id (identity));
    s_hex_block (out, label, br_identity_transport_public (identity), BR_CURVE_KEY_SIZE);
    snprintf (label, sizeof (label), "%s seal-public (X25519)", br_identity_node_id (identity));
    s_hex_block (out, label, br_identity_seal_public (identity), BR_CURVE_KEY_SIZE);
    snprintf (label, sizeof (label), "%s seal-secret (X25519)", br_identity_node_id (identity));
    s_hex_block (out, label, br_identity_seal_secret (identity), BR_CURVE_KEY_SIZE);
    s_text (out, "\n");
}

//  Prints the parts of an encoded Envelope: message bytes, signature, all.
static void
s_envelope_block (zchunk_t *out, zchunk_t *envelope)
{
    br_reason_t reason;
    ProtobufCMessage *decoded =
        br_proto_decode (&bruecke__envelope__descriptor, zchunk_data (envelope),
                         zchunk_size (envelope), BR_ENVELOPE_MAX_SIZE, &reason);
    assert (decoded);
    Bruecke__Envelope *parts = (Bruecke__Envelope *) decoded;
    s_hex_block (out, "Message bytes (Envelope.message, the signed bytes)", parts->message.data,
                 parts->message.len);
    s_hex_block (out, "Ed25519 signature (Envelope.signature)", parts->signature.data,
                 parts->signature.len);
    s_hex_block (out, "Envelope (one ZeroMQ frame)", zchunk_data (envelope),
                 zchunk_size (envelope));
    br_proto_free (&decoded);
}

static zchunk_t *
s_print (s_vectors_t *self)
{
    zchunk_t *out = zchunk_new (NULL, 0);
    s_text (out, S_BEGIN_MARKER "\n");
    s_text (out, "### Vector 1: key derivation\n\n```\n");
    s_identity_block (out, self->luenen, 0x00);
    s_identity_block (out, self->unna, 0x20);
    s_identity_block (out, self->county, 0x40);
    s_text (out,
            "```\n\n### Vector 2: RECEIPT from unna to luenen (not sealed)\n\n"
            "Header: version 1, message_id 000102030405060708090a0b0c0d0e0f, sender \"unna\",\n"
            "recipient \"luenen\", service \"\", type TYPE_RECEIPT (5), created_at_ms "
            "1767225600000,\nexpires_at_ms 1767312000000, sequence 1. No attestation. "
            "Body: Receipt { message_id\na0a1a2a3a4a5a6a7a8a9aaabacadaeaf, stored_at_ms "
            "1767225600500 }.\n\n```\n");
    s_envelope_block (out, self->receipt);
    s_text (out, "```\n\n### Vector 3: sealed TEST_NOTE from luenen to unna/fruehe-hilfen\n\n"
                 "Header: version 1, message_id 101112131415161718191a1b1c1d1e1f, sender "
                 "\"luenen\",\nrecipient \"unna\", service \"fruehe-hilfen\", type TYPE_TEST_NOTE "
                 "(16), created_at_ms\n1767225600000, expires_at_ms 1767312000000, sequence 42.\n"
                 "Attestation: basis BASIS_CONSENT, consent_id c0c1c2c3c4c5c6c7c8c9cacbcccdcecf,\n"
                 "purpose \"language-support\", data_categories [\"household\", \"child-age\", "
                 "\"language\"],\nrecipient \"unna\", recipient_service \"fruehe-hilfen\", "
                 "valid_from_ms 1767139200000,\nvalid_until_ms 1769817600000. Body: TestNote { "
                 "text \"Testnachricht, erfunden\" },\nsealed to unna's seal-public with the "
                 "fixed ephemeral secret key below (a real\nsender uses a fresh random one).\n\n"
                 "```\n");
    s_hex_block (out, "TestNote body, plain", zchunk_data (self->note_plain),
                 zchunk_size (self->note_plain));
    s_hex_block (out, "ephemeral secret key", self->ephemeral_secret, 32);
    s_hex_block (out, "ephemeral public key", self->ephemeral_public, 32);
    s_hex_block (out, "nonce = BLAKE2b-192 (ephemeral public || recipient seal-public)",
                 self->nonce, sizeof (self->nonce));
    s_hex_block (out, "sealed body (Message.body)", zchunk_data (self->note_sealed),
                 zchunk_size (self->note_sealed));
    s_envelope_block (out, self->note);
    s_text (out, "```\n\n### Vector 4: roster, version 1, signed by the county key\n\n"
                 "Nodes luenen (Lünen, 05978024, town, services jobcenter, jugendamt) and unna\n"
                 "(Unna, 05978036, town, services fruehe-hilfen, jugendamt), with the keys of "
                 "vector 1;\none route (05978036, jugendamt) -> unna; issued_at_ms "
                 "1767225600000, expires_at_ms\n1798761600000.\n\n```\n");
    br_reason_t reason;
    ProtobufCMessage *decoded =
        br_proto_decode (&bruecke__signed_roster__descriptor, zchunk_data (self->roster),
                         zchunk_size (self->roster), BR_ROSTER_MAX_SIZE, &reason);
    assert (decoded);
    Bruecke__SignedRoster *signed_roster = (Bruecke__SignedRoster *) decoded;
    s_hex_block (out, "Roster bytes (SignedRoster.roster, the signed bytes)",
                 signed_roster->roster.data, signed_roster->roster.len);
    s_hex_block (out, "Ed25519 signature by the county key", signed_roster->signature.data,
                 signed_roster->signature.len);
    s_hex_block (out, "SignedRoster", zchunk_data (self->roster), zchunk_size (self->roster));
    br_proto_free (&decoded);
    s_text (out, "```\n" S_END_MARKER "\n");
    return out;
}

//  ---- Checking -------------------------------------------------------------

//  Derives an identity's keys the way PROTOCOL.md section 2 words it, with
//  libsodium's primitives rather than br_identity, and compares.
static void
s_check_derivation (br_identity_t *identity, uint8_t first)
{
    uint8_t seed[BR_SEED_SIZE], salt[16] = {0}, personal[16] = {0}, subkey[32];
    s_fill (seed, sizeof (seed), first);
    memcpy (personal, BR_KDF_CONTEXT, 8);
    for (uint8_t subkey_id = BR_KDF_SIGN; subkey_id <= BR_KDF_SEAL; subkey_id++) {
        salt[0] = subkey_id; //  LE64 (id) for ids below 256
        int rc = crypto_generichash_blake2b_salt_personal (subkey, sizeof (subkey), NULL, 0, seed,
                                                           sizeof (seed), salt, personal);
        assert (rc == 0);
        uint8_t public_key[32], secret_key[64];
        if (subkey_id == BR_KDF_SIGN) {
            crypto_sign_seed_keypair (public_key, secret_key, subkey);
            assert (memcmp (public_key, br_identity_sign_public (identity), 32) == 0);
            continue;
        }
        //  crypto_box_seed_keypair: secret = SHA-512 (seed)[0..32], public = X25519 base
        crypto_hash_sha512 (secret_key, subkey, sizeof (subkey));
        rc = crypto_scalarmult_base (public_key, secret_key);
        assert (rc == 0);
        const uint8_t *expected = subkey_id == BR_KDF_TRANSPORT
                                      ? br_identity_transport_public (identity)
                                      : br_identity_seal_public (identity);
        assert (memcmp (public_key, expected, 32) == 0);
    }
}

//  The vectors are not just stable: each one passes the receiving path.
static void
s_check_semantics (s_vectors_t *self)
{
    s_check_derivation (self->luenen, 0x00);
    s_check_derivation (self->unna, 0x20);
    s_check_derivation (self->county, 0x40);
    br_reason_t reason;
    br_roster_t *roster =
        br_roster_verify (zchunk_data (self->roster), zchunk_size (self->roster),
                          br_identity_sign_public (self->county), NULL, S_CREATED_MS, &reason);
    assert (roster && reason == BR_REASON_OK);

    br_envelope_t *envelope =
        br_envelope_decode (zchunk_data (self->receipt), zchunk_size (self->receipt), &reason);
    assert (envelope);
    assert (br_envelope_verify_in_roster (envelope, roster) == BR_REASON_OK);
    assert (br_envelope_check_time (envelope, S_CREATED_MS) == BR_REASON_OK);
    br_envelope_destroy (&envelope);

    envelope = br_envelope_decode (zchunk_data (self->note), zchunk_size (self->note), &reason);
    assert (envelope);
    assert (br_envelope_verify_in_roster (envelope, roster) == BR_REASON_OK);
    assert (br_envelope_check_time (envelope, S_CREATED_MS) == BR_REASON_OK);
    assert (br_envelope_check_attestation (envelope, S_CREATED_MS) == BR_REASON_OK);
    //  libsodium's crypto_box_seal_open opens the fixed-key seal: the
    //  construction written down in PROTOCOL.md is the one in use.
    ProtobufCMessage *body = NULL;
    assert (br_envelope_open_body (envelope, self->unna, &bruecke__test_note__descriptor, &body) ==
            BR_REASON_OK);
    assert (streq (((Bruecke__TestNote *) body)->text, "Testnachricht, erfunden"));
    br_proto_free (&body);
    br_envelope_destroy (&envelope);
    br_roster_destroy (&roster);
}

static int
s_check (s_vectors_t *self, const char *path)
{
    s_check_semantics (self);
    br_reason_t reason;
    zchunk_t *document = br_file_read (path, BR_FILE_MAX_SIZE, &reason);
    if (!document) {
        fprintf (stderr, "bruecke-vectors: cannot read %s: %s\n", path, br_reason_name (reason));
        return 1;
    }
    zchunk_t *expected = s_print (self);
    bool found = zchunk_size (expected) <= zchunk_size (document) &&
                 memmem (zchunk_data (document), zchunk_size (document), zchunk_data (expected),
                         zchunk_size (expected)) != NULL;
    zchunk_destroy (&expected);
    zchunk_destroy (&document);
    if (!found) {
        fprintf (stderr,
                 "bruecke-vectors: %s does not hold the current test vectors; regenerate the\n"
                 "section between the markers with 'bruecke-vectors print'\n",
                 path);
        return 1;
    }
    printf ("test vectors in %s: match\n", path);
    return 0;
}

int
main (int argc, char *argv[])
{
    if (sodium_init () < 0)
        return 1;
    bool print = argc == 2 && streq (argv[1], "print");
    bool check = argc == 3 && streq (argv[1], "check");
    if (!print && !check) {
        fprintf (stderr, "usage: bruecke-vectors print | check PROTOCOL.md\n");
        return 2;
    }
    s_vectors_t vectors;
    s_make (&vectors);
    int rc = 0;
    if (print) {
        zchunk_t *out = s_print (&vectors);
        fwrite (zchunk_data (out), 1, zchunk_size (out), stdout);
        zchunk_destroy (&out);
    } else
        rc = s_check (&vectors, argv[2]);
    s_destroy (&vectors);
    return rc;
}
