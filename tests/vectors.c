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
#define S_COMPLETED_MS   1775001600000LL //  2026-04-01T00:00:00Z
#define S_RECORDED_MS    1775001660000LL //  a minute later
//  Vector 6: the coaching hours of the completed transfer.
#define S_HOURS 6
//  Vector 6: a ledger record's fixed fields (br_ledger_record.h, format 1).
#define S_RECORD_FORMAT  1
#define S_RECORD_ENTRIES 2
#define S_RECORD_HASH    32

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
    zchunk_t *roster;                              //  vector 4: encoded SignedRoster
    zchunk_t *board_item;                          //  vector 5: SignedBoardItem
    br_ledger_completion_t completion;             //  vector 6: what both towns sign
    uint8_t statement[BR_LEDGER_STATEMENT_MAX];    //  vector 6: its statement
    size_t statement_size;                         //  its size
    uint8_t provider_signature[BR_SIGNATURE_SIZE]; //  vector 6: luenen's
    uint8_t receiver_signature[BR_SIGNATURE_SIZE]; //  vector 6: unna's
    zchunk_t *record;                              //  vector 6: ledger record 1
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

//  Appends a token with its one-byte length, as the ledger's layout has it.
static void
s_put_token (zchunk_t *out, const char *token)
{
    uint8_t length = (uint8_t) strlen (token);
    zchunk_extend (out, &length, 1);
    zchunk_extend (out, token, length);
}

//  Appends a big-endian 64-bit integer.
static void
s_put_int (zchunk_t *out, int64_t value)
{
    uint8_t bytes[8];
    br_put_u64 (bytes, (uint64_t) value);
    zchunk_extend (out, bytes, sizeof (bytes));
}

//  Builds ledger record 1 byte by byte from the layout in PROTOCOL.md
//  (section 16.8), not with br_ledger: the check then decodes it with
//  br_ledger, so the written layout is the one in use.
static zchunk_t *
s_record (s_vectors_t *self)
{
    zchunk_t *record = zchunk_new (NULL, 0);
    uint8_t format = S_RECORD_FORMAT, prev[S_RECORD_HASH] = {0};
    zchunk_extend (record, &format, 1);
    s_put_int (record, 1); //  sequence
    s_put_int (record, S_RECORDED_MS);
    zchunk_extend (record, prev, sizeof (prev));
    uint8_t length[2] = {(uint8_t) (self->statement_size >> 8),
                         (uint8_t) (self->statement_size & 0xff)};
    zchunk_extend (record, length, sizeof (length));
    zchunk_extend (record, self->statement, self->statement_size);
    uint8_t entries = S_RECORD_ENTRIES;
    zchunk_extend (record, &entries, 1);
    s_put_token (record, self->completion.provider);
    s_put_int (record, S_HOURS);
    s_put_token (record, self->completion.receiver);
    s_put_int (record, -S_HOURS);
    zchunk_extend (record, self->provider_signature, BR_SIGNATURE_SIZE);
    zchunk_extend (record, self->receiver_signature, BR_SIGNATURE_SIZE);
    uint8_t hash[S_RECORD_HASH];
    int rc = crypto_generichash (hash, sizeof (hash), zchunk_data (record), zchunk_size (record),
                                 NULL, 0);
    assert (rc == 0);
    zchunk_extend (record, hash, sizeof (hash));
    return record;
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

    //  Vector 5: Lünen's offer on the Transferbörse board, signed by Lünen
    uint8_t offer_id[BR_BOARD_ID_SIZE];
    s_fill (offer_id, sizeof (offer_id), 0xb0);
    char *topics[] = {"sprachfoerderung", "familienzentren"};
    Bruecke__Offer offer = BRUECKE__OFFER__INIT;
    offer.offer_id.data = offer_id;
    offer.offer_id.len = sizeof (offer_id);
    offer.town = "luenen";
    offer.title = "Sprachf\xc3\xb6rderung im Familienzentrum";
    offer.topics = topics;
    offer.n_topics = 2;
    offer.target_group = "Kitas mit mehrsprachigen Familien";
    offer.pitfalls = "Dolmetscher fr\xc3\xbch buchen";
    offer.presentation = true;
    offer.documents = true;
    offer.coaching_hours = S_HOURS;
    offer.capacity_per_quarter = 24;
    offer.published_at_ms = S_CREATED_MS;
    self->board_item = br_board_sign (self->luenen, &offer.base);

    //  Vector 6: Lünen coached Unna; both sign the completion; record 1
    s_fill (self->completion.transfer_id, BR_LEDGER_TRANSFER_ID_SIZE, 0xd0);
    snprintf (self->completion.provider, sizeof (self->completion.provider), "luenen");
    snprintf (self->completion.receiver, sizeof (self->completion.receiver), "unna");
    snprintf (self->completion.topic, sizeof (self->completion.topic), "sprachfoerderung");
    self->completion.hours = S_HOURS;
    self->completion.completed_ms = S_COMPLETED_MS;
    reason = br_ledger_statement (&self->completion, self->statement, &self->statement_size);
    assert (reason == BR_REASON_OK);
    reason = br_ledger_sign (self->luenen, &self->completion, self->provider_signature);
    assert (reason == BR_REASON_OK);
    reason = br_ledger_sign (self->unna, &self->completion, self->receiver_signature);
    assert (reason == BR_REASON_OK);
    self->record = s_record (self);
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
    zchunk_destroy (&self->board_item);
    zchunk_destroy (&self->record);
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

    s_text (out,
            "```\n\n### Vector 5: SignedBoardItem, an offer by luenen (Transferb\xc3\xb6rse)\n\n"
            "Offer: offer_id b0b1b2b3b4b5b6b7b8b9babbbcbdbebf, town \"luenen\", title\n"
            "\"Sprachf\xc3\xb6rderung im Familienzentrum\", topics [\"sprachfoerderung\", "
            "\"familienzentren\"],\ntarget_group \"Kitas mit mehrsprachigen Familien\", "
            "results \"\", success_factors \"\",\npitfalls \"Dolmetscher fr\xc3\xbch buchen\", "
            "presentation true, documents true, coaching_hours 6,\ncapacity_per_quarter 24, "
            "published_at_ms 1767225600000. Signed with luenen's sign key\n(vector 1) over "
            "the domain prefix followed by the Offer bytes (section 16.3). The\n"
            "SignedBoardItem is the body of a BOARD_PUBLISH.\n\n```\n");
    decoded =
        br_proto_decode (&bruecke__signed_board_item__descriptor, zchunk_data (self->board_item),
                         zchunk_size (self->board_item), BR_BOARD_SIGNED_MAX, &reason);
    assert (decoded);
    Bruecke__SignedBoardItem *board_item = (Bruecke__SignedBoardItem *) decoded;
    s_hex_block (out, "Offer bytes (SignedBoardItem.item)", board_item->item.data,
                 board_item->item.len);
    s_hex_block (out, "domain prefix \"" BR_BOARD_DOMAIN_OFFER "\"",
                 (const uint8_t *) BR_BOARD_DOMAIN_OFFER, strlen (BR_BOARD_DOMAIN_OFFER));
    s_hex_block (out, "Ed25519 signature over prefix || item (SignedBoardItem.signature)",
                 board_item->signature.data, board_item->signature.len);
    s_hex_block (out, "SignedBoardItem (is_offer true; the BOARD_PUBLISH body)",
                 zchunk_data (self->board_item), zchunk_size (self->board_item));
    br_proto_free (&decoded);

    s_text (out, "```\n\n### Vector 6: completion statement, both signatures, ledger record\n\n"
                 "Completion: transfer_id d0d1d2d3d4d5d6d7d8d9dadbdcdddedf, provider \"luenen\", "
                 "receiver\n\"unna\", topic \"sprachfoerderung\", hours 6, completed_ms "
                 "1775001600000\n(2026-04-01T00:00:00Z). Both towns sign the statement with their "
                 "sign keys\n(vector 1). The record is record 1 of a ledger (sequence 1, prev = 32 "
                 "zero bytes),\nrecorded_ms 1775001660000 (section 16.8).\n\n```\n");
    const uint8_t *field = self->statement;
    size_t provider_size = strlen (self->completion.provider);
    size_t receiver_size = strlen (self->completion.receiver);
    size_t topic_size = strlen (self->completion.topic);
    s_hex_block (out, "statement: domain \"" BR_LEDGER_DOMAIN "\"", field, BR_LEDGER_DOMAIN_SIZE);
    field += BR_LEDGER_DOMAIN_SIZE;
    s_hex_block (out, "statement: transfer id", field, BR_LEDGER_TRANSFER_ID_SIZE);
    field += BR_LEDGER_TRANSFER_ID_SIZE;
    s_hex_block (out, "statement: provider, length first", field, 1 + provider_size);
    field += 1 + provider_size;
    s_hex_block (out, "statement: receiver, length first", field, 1 + receiver_size);
    field += 1 + receiver_size;
    s_hex_block (out, "statement: topic, length first", field, 1 + topic_size);
    field += 1 + topic_size;
    s_hex_block (out, "statement: hours, int64 big-endian", field, 8);
    field += 8;
    s_hex_block (out, "statement: completed_ms, int64 big-endian", field, 8);
    field += 8;
    assert (field == self->statement + self->statement_size);
    s_hex_block (out, "completion statement (the signed bytes)", self->statement,
                 self->statement_size);
    s_hex_block (out, "Ed25519 signature by luenen, the provider", self->provider_signature,
                 BR_SIGNATURE_SIZE);
    s_hex_block (out, "Ed25519 signature by unna, the receiver", self->receiver_signature,
                 BR_SIGNATURE_SIZE);
    s_hex_block (out, "ledger record 1, format 1", zchunk_data (self->record),
                 zchunk_size (self->record));
    s_hex_block (out, "its hash = BLAKE2b-256 (the record before its last 32 bytes)",
                 zchunk_data (self->record) + zchunk_size (self->record) - S_RECORD_HASH,
                 S_RECORD_HASH);
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

    //  Vector 5: the item decodes, keeps the board's limits, and its
    //  signature holds under the offer prefix, never under the request's
    br_board_item_t item;
    assert (br_board_item_decode (zchunk_data (self->board_item), zchunk_size (self->board_item),
                                  &item) == BR_REASON_OK);
    assert (item.offer && streq (item.town, "luenen"));
    assert (br_board_item_check (&item) == BR_REASON_OK);
    const ProtobufCBinaryData *bytes = &item.signed_item->item;
    for (int kind = 0; kind < 2; kind++) {
        const char *domain = kind == 0 ? BR_BOARD_DOMAIN_OFFER : BR_BOARD_DOMAIN_REQUEST;
        zchunk_t *signed_bytes = zchunk_new (domain, strlen (domain));
        zchunk_extend (signed_bytes, bytes->data, bytes->len);
        int rc = crypto_sign_verify_detached (
            item.signed_item->signature.data, zchunk_data (signed_bytes),
            zchunk_size (signed_bytes), br_identity_sign_public (self->luenen));
        assert ((rc == 0) == (kind == 0));
        zchunk_destroy (&signed_bytes);
    }
    br_board_item_free (&item);

    //  Vector 6: the statement decodes to the completion, both signatures
    //  hold with the towns' keys in the roster, and br_ledger reads the
    //  record built from the written layout: its hash, entries and fields
    br_ledger_completion_t completion;
    assert (br_ledger_statement_decode (self->statement, self->statement_size, &completion) ==
            BR_REASON_OK);
    assert (memcmp (&completion, &self->completion, sizeof (completion)) == 0);
    assert (br_ledger_signature_check (&completion, "luenen", self->provider_signature, roster) ==
            BR_REASON_OK);
    assert (br_ledger_signature_check (&completion, "unna", self->receiver_signature, roster) ==
            BR_REASON_OK);
    assert (br_ledger_signature_check (&completion, "unna", self->provider_signature, roster) ==
            BR_REASON_BAD_SIGNATURE);
    br_ledger_record_t record;
    assert (br_ledger_record_decode (zchunk_data (self->record), zchunk_size (self->record),
                                     &record) == BR_REASON_OK);
    assert (record.sequence == 1 && record.recorded_ms == S_RECORDED_MS);
    assert (memcmp (&record.completion, &self->completion, sizeof (completion)) == 0);
    assert (record.entries[0].amount == S_HOURS && record.entries[1].amount == -S_HOURS);
    assert (memcmp (record.provider_signature, self->provider_signature, BR_SIGNATURE_SIZE) == 0);
    assert (memcmp (record.receiver_signature, self->receiver_signature, BR_SIGNATURE_SIZE) == 0);
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
