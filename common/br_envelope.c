/*  =========================================================================
    br_envelope - the signed outer structure of every message on the wire
    =========================================================================
*/

#include "br_envelope.h"
#include "br_catalogue.h"
#include "br_attestation.h"
#include "br_proto.h"
#include "br_seal.h"

struct _br_envelope_t {
    zchunk_t *data;            //  the envelope's bytes as received
    Bruecke__Envelope *outer;  //  decoded outer part; points into nothing of `data`
    Bruecke__Message *message; //  decoded inner message, set by a successful verify
};

//  What the protocol says about each message type, and where each party
//  takes it: the one table of message types (PROTOCOL.md 6, 9, 15, 16).
typedef struct {
    Bruecke__MessageType type; //  the type
    const char *name;          //  its name without TYPE_
    bool sealed;               //  body sealed to the recipient
    bool personal;             //  may carry personal data: attestation required
    bool content;              //  node-to-node content for a service
    bool session;              //  a session message: handled at once, never stored
    bool acknowledged;         //  the broker answers ACCEPTED once it took it
    bool broker_queued;        //  the broker's own, delivered through its queue with a receipt
    br_at_broker_t at_broker;  //  where the broker takes it
    br_at_node_t at_node;      //  where a node takes it
} s_type_info_t;

#define S_TYPE(type) BRUECKE__MESSAGE_TYPE__TYPE_##type, #type
#define S_SESSION    BR_AT_BROKER_SESSION
#define S_QUEUE      BR_AT_BROKER_QUEUE
#define S_EXCHANGE   BR_AT_BROKER_EXCHANGE
#define S_ANSWER     BR_AT_BROKER_ANSWER
#define N_BROKER     BR_AT_NODE_BROKER
#define N_INBOX      BR_AT_NODE_INBOX
#define N_CASEWORK   BR_AT_NODE_CASEWORK
#define N_EXCHANGE   BR_AT_NODE_EXCHANGE

static const s_type_info_t s_types[] = {
    //  type                    sealed personal content session ack.  queued at broker  at node
    {S_TYPE (HELLO), false, false, false, true, false, false, S_SESSION, N_BROKER},
    {S_TYPE (HEARTBEAT), false, false, false, true, false, false, S_SESSION, N_BROKER},
    {S_TYPE (ACCEPTED), false, false, false, true, false, false, S_SESSION, N_BROKER},
    {S_TYPE (REFUSAL), false, false, false, false, false, false, S_ANSWER, N_BROKER},
    {S_TYPE (RECEIPT), false, false, false, false, false, false, S_ANSWER, N_BROKER},
    {S_TYPE (CREDIT), false, false, false, true, false, false, S_SESSION, N_BROKER},
    {S_TYPE (ROSTER_UPDATE), false, false, false, true, false, false, S_SESSION, N_BROKER},
    {S_TYPE (DEAD_LETTER), false, false, false, false, false, true, S_QUEUE, N_INBOX},
    {S_TYPE (TEST_NOTE), true, true, true, false, true, false, S_QUEUE, N_INBOX},
    {S_TYPE (REFERRAL), true, true, true, false, true, false, S_QUEUE, N_CASEWORK},
    {S_TYPE (REFERRAL_UPDATE), true, true, true, false, true, false, S_QUEUE, N_CASEWORK},
    {S_TYPE (CONSENT_WITHDRAWAL), false, false, true, false, true, false, S_QUEUE, N_CASEWORK},
    {S_TYPE (CASE_TRANSFER), true, true, true, false, true, false, S_QUEUE, N_CASEWORK},
    {S_TYPE (CASE_TRANSFER_ANSWER), false, false, true, false, true, false, S_QUEUE, N_CASEWORK},
    {S_TYPE (BOARD_PUBLISH), false, false, false, false, true, false, S_EXCHANGE, N_BROKER},
    {S_TYPE (BOARD_WITHDRAW), false, false, false, false, true, false, S_EXCHANGE, N_BROKER},
    {S_TYPE (AGREEMENT_ACTION), false, false, false, false, true, false, S_EXCHANGE, N_BROKER},
    {S_TYPE (EXCHANGE_SYNC), false, false, false, true, false, false, S_SESSION, N_BROKER},
    {S_TYPE (BOARD_UPDATE), false, false, false, true, false, false, S_SESSION, N_EXCHANGE},
    {S_TYPE (LEDGER_UPDATE), false, false, false, true, false, false, S_SESSION, N_EXCHANGE},
    {S_TYPE (AGREEMENT), false, false, false, false, false, true, S_QUEUE, N_EXCHANGE},
};

static const s_type_info_t *
s_type_info (int type)
{
    for (size_t index = 0; index < sizeof (s_types) / sizeof (s_types[0]); index++)
        if ((int) s_types[index].type == type)
            return &s_types[index];
    return NULL;
}

bool
br_message_type_known (int type)
{
    return s_type_info (type) != NULL;
}

bool
br_message_type_sealed (int type)
{
    const s_type_info_t *info = s_type_info (type);
    return info && info->sealed;
}

bool
br_message_type_personal (int type)
{
    const s_type_info_t *info = s_type_info (type);
    return info && info->personal;
}

bool
br_message_type_content (int type)
{
    const s_type_info_t *info = s_type_info (type);
    return info && info->content;
}

bool
br_message_type_session (int type)
{
    const s_type_info_t *info = s_type_info (type);
    return info && info->session;
}

bool
br_message_type_acknowledged (int type)
{
    const s_type_info_t *info = s_type_info (type);
    return info && info->acknowledged;
}

bool
br_message_type_broker_queued (int type)
{
    const s_type_info_t *info = s_type_info (type);
    return info && info->broker_queued;
}

br_at_broker_t
br_message_type_at_broker (int type)
{
    const s_type_info_t *info = s_type_info (type);
    return info ? info->at_broker : BR_AT_BROKER_NONE;
}

br_at_node_t
br_message_type_at_node (int type)
{
    const s_type_info_t *info = s_type_info (type);
    return info ? info->at_node : BR_AT_NODE_NONE;
}

const char *
br_message_type_name (int type)
{
    const s_type_info_t *info = s_type_info (type);
    return info ? info->name : "UNKNOWN";
}

//  ---- Sending ------------------------------------------------------------

void
br_envelope_header_init (Bruecke__Header *header, uint8_t id_storage[BR_MESSAGE_ID_SIZE],
                         Bruecke__MessageType type, const char *sender, const char *recipient,
                         const char *service, uint64_t sequence, int64_t now_ms,
                         int64_t lifetime_ms)
{
    assert (header && id_storage && sender && recipient && service);
    bruecke__header__init (header);
    //  Time first, then randomness (as UUIDv7 does): still unique, and the
    //  ids of one sender sort by time, which keeps id-keyed indexes local
    br_put_u64 (id_storage, (uint64_t) now_ms << 16);
    randombytes_buf (id_storage + 6, BR_MESSAGE_ID_SIZE - 6);
    header->version = BR_PROTOCOL_VERSION;
    header->message_id.data = id_storage;
    header->message_id.len = BR_MESSAGE_ID_SIZE;
    header->sender = (char *) sender;
    header->recipient = (char *) recipient;
    header->service = (char *) service;
    header->type = type;
    header->created_at_ms = now_ms;
    header->expires_at_ms = now_ms + lifetime_ms;
    header->sequence = sequence;
}

zchunk_t *
br_envelope_sign (br_identity_t *signer, const uint8_t *message, size_t size)
{
    assert (signer);
    uint8_t signature[BR_SIGNATURE_SIZE];
    br_identity_sign (signer, message, size, signature);
    Bruecke__Envelope envelope = BRUECKE__ENVELOPE__INIT;
    envelope.message.data = (uint8_t *) message;
    envelope.message.len = size;
    envelope.signature.data = signature;
    envelope.signature.len = sizeof (signature);
    envelope.signer = (char *) br_identity_node_id (signer);
    return br_proto_encode (&envelope.base);
}

zchunk_t *
br_envelope_build (br_identity_t *signer, const Bruecke__Header *header,
                   const Bruecke__Attestation *attestation, const ProtobufCMessage *body,
                   const uint8_t *seal_public)
{
    assert (signer && header);
    assert (streq (header->sender, br_identity_node_id (signer)));
    zchunk_t *body_bytes = body ? br_proto_encode (body) : zchunk_new (NULL, 0);
    if (br_message_type_sealed (header->type)) {
        assert (seal_public);
        zchunk_t *sealed =
            br_seal_close (zchunk_data (body_bytes), zchunk_size (body_bytes), seal_public);
        sodium_memzero (zchunk_data (body_bytes), zchunk_size (body_bytes));
        zchunk_destroy (&body_bytes);
        body_bytes = sealed;
    }
    Bruecke__Message message = BRUECKE__MESSAGE__INIT;
    message.header = (Bruecke__Header *) header;
    message.attestation = (Bruecke__Attestation *) attestation;
    message.body.data = zchunk_data (body_bytes);
    message.body.len = zchunk_size (body_bytes);
    zchunk_t *message_bytes = br_proto_encode (&message.base);
    zchunk_t *envelope =
        br_envelope_sign (signer, zchunk_data (message_bytes), zchunk_size (message_bytes));
    zchunk_destroy (&message_bytes);
    zchunk_destroy (&body_bytes);
    return envelope;
}

//  ---- Receiving ----------------------------------------------------------

br_envelope_t *
br_envelope_decode (const uint8_t *data, size_t size, br_reason_t *reason)
{
    assert (reason);
    ProtobufCMessage *outer =
        br_proto_decode (&bruecke__envelope__descriptor, data, size, BR_ENVELOPE_MAX_SIZE, reason);
    if (!outer)
        return NULL;
    Bruecke__Envelope *envelope = (Bruecke__Envelope *) outer;
    if (envelope->signature.len != BR_SIGNATURE_SIZE ||
        !br_token_valid (envelope->signer, BR_NODE_ID_MAX)) {
        br_proto_free (&outer);
        *reason = BR_REASON_MALFORMED;
        return NULL;
    }
    br_envelope_t *self = (br_envelope_t *) zmalloc (sizeof (br_envelope_t));
    self->data = zchunk_new (data, size);
    self->outer = envelope;
    *reason = BR_REASON_OK;
    return self;
}

void
br_envelope_destroy (br_envelope_t **self_p)
{
    assert (self_p);
    br_envelope_t *self = *self_p;
    if (self) {
        ProtobufCMessage *message = (ProtobufCMessage *) self->message;
        br_proto_free (&message);
        ProtobufCMessage *outer = (ProtobufCMessage *) self->outer;
        br_proto_free (&outer);
        zchunk_destroy (&self->data);
        free (self);
        *self_p = NULL;
    }
}

const char *
br_envelope_signer (br_envelope_t *self)
{
    assert (self);
    return self->outer->signer;
}

//  An empty string or a valid token.
static bool
s_optional_token (const char *text, size_t max_length)
{
    return *text == '\0' || br_token_valid (text, max_length);
}

//  Checks the decoded inner message's shape.
static br_reason_t
s_check_shape (br_envelope_t *self, const Bruecke__Message *message)
{
    const Bruecke__Header *header = message->header;
    if (!header)
        return BR_REASON_MALFORMED;
    if (header->version != BR_PROTOCOL_VERSION)
        return BR_REASON_UNSUPPORTED_VERSION;
    if (header->message_id.len != BR_MESSAGE_ID_SIZE ||
        !br_token_valid (header->sender, BR_NODE_ID_MAX) ||
        !s_optional_token (header->recipient, BR_NODE_ID_MAX) ||
        !s_optional_token (header->service, BR_SERVICE_MAX) ||
        header->created_at_ms >= header->expires_at_ms)
        return BR_REASON_MALFORMED;
    if (!streq (header->sender, self->outer->signer))
        return BR_REASON_SENDER_MISMATCH;
    if (!br_message_type_known (header->type))
        return BR_REASON_UNSUPPORTED_TYPE;
    return BR_REASON_OK;
}

br_reason_t
br_envelope_verify (br_envelope_t *self, const uint8_t sign_public[BR_SIGN_PUBLIC_SIZE])
{
    assert (self && sign_public);
    assert (!self->message);
    const ProtobufCBinaryData *bytes = &self->outer->message;
    if (!br_signature_valid (bytes->data, bytes->len, self->outer->signature.data, sign_public))
        return BR_REASON_BAD_SIGNATURE;
    //  The signature holds over the bytes as received; only now decode them.
    br_reason_t reason;
    ProtobufCMessage *inner = br_proto_decode (&bruecke__message__descriptor, bytes->data,
                                               bytes->len, BR_ENVELOPE_MAX_SIZE, &reason);
    if (!inner)
        return reason;
    Bruecke__Message *message = (Bruecke__Message *) inner;
    reason = s_check_shape (self, message);
    if (reason != BR_REASON_OK) {
        br_proto_free (&inner);
        return reason;
    }
    self->message = message;
    return BR_REASON_OK;
}

br_reason_t
br_envelope_verify_in_roster (br_envelope_t *self, br_roster_t *roster)
{
    assert (self && roster);
    const Bruecke__RosterNode *node = br_roster_lookup_by_id (roster, self->outer->signer);
    if (!node)
        return BR_REASON_UNKNOWN_NODE;
    if (node->revoked)
        return BR_REASON_NODE_REVOKED;
    return br_envelope_verify (self, node->sign_public_key.data);
}

br_reason_t
br_envelope_check_time (br_envelope_t *self, int64_t now_ms)
{
    assert (self && self->message);
    const Bruecke__Header *header = self->message->header;
    //  Only a time ahead is skew: a message from the past may have waited in
    //  its sender's outbox (the broker was down, the town offline), and its
    //  expiry alone says whether it may still travel
    if (header->created_at_ms > now_ms + BR_CLOCK_SKEW_MS)
        return BR_REASON_CLOCK_SKEW;
    return br_envelope_check_expiry (self, now_ms);
}

br_reason_t
br_envelope_check_expiry (br_envelope_t *self, int64_t now_ms)
{
    assert (self && self->message);
    const Bruecke__Header *header = self->message->header;
    if (now_ms >= header->expires_at_ms ||
        header->expires_at_ms - header->created_at_ms > BR_MAX_LIFETIME_MS)
        return BR_REASON_EXPIRED;
    return BR_REASON_OK;
}

void
br_envelope_digest (const uint8_t *data, size_t size, uint8_t digest[BR_DIGEST_SIZE])
{
    crypto_generichash (digest, BR_DIGEST_SIZE, data, size, NULL, 0);
}

void
br_envelope_message_key (const char *sender, const uint8_t id[BR_MESSAGE_ID_SIZE],
                         uint8_t key[BR_MESSAGE_KEY_SIZE])
{
    assert (sender && id && key);
    br_put_node_id (key, sender);
    memcpy (key + BR_NODE_ID_MAX, id, BR_MESSAGE_ID_SIZE);
}

br_reason_t
br_envelope_check_attestation (br_envelope_t *self, int64_t now_ms)
{
    assert (self && self->message);
    if (!br_message_type_personal (self->message->header->type))
        return self->message->attestation ? BR_REASON_ATTESTATION_INVALID : BR_REASON_OK;
    if (!self->message->attestation)
        return BR_REASON_ATTESTATION_MISSING;
    const Bruecke__Header *header = self->message->header;
    br_reason_t reason = br_attestation_check (self->message->attestation, header, now_ms);
    //  Casework travels under catalogue codes; the test note is exempt
    if (reason == BR_REASON_OK && header->type != BRUECKE__MESSAGE_TYPE__TYPE_TEST_NOTE)
        reason = br_catalogue_check (header->type, self->message->attestation);
    return reason;
}

br_reason_t
br_envelope_open_body (br_envelope_t *self, br_identity_t *recipient,
                       const ProtobufCMessageDescriptor *descriptor, ProtobufCMessage **body_p)
{
    assert (self && self->message && descriptor && body_p);
    *body_p = NULL;
    const ProtobufCBinaryData *body = &self->message->body;
    br_reason_t reason;
    if (!br_message_type_sealed (self->message->header->type)) {
        *body_p =
            br_proto_decode (descriptor, body->data, body->len, BR_ENVELOPE_MAX_SIZE, &reason);
        return reason;
    }
    assert (recipient);
    zchunk_t *plain = NULL;
    reason = br_seal_open (body->data, body->len, br_identity_seal_public (recipient),
                           br_identity_seal_secret (recipient), &plain);
    if (reason != BR_REASON_OK)
        return reason;
    *body_p = br_proto_decode (descriptor, zchunk_data (plain), zchunk_size (plain),
                               BR_ENVELOPE_MAX_SIZE, &reason);
    sodium_memzero (zchunk_data (plain), zchunk_size (plain));
    zchunk_destroy (&plain);
    return reason;
}

const Bruecke__Message *
br_envelope_message (br_envelope_t *self)
{
    assert (self);
    return self->message;
}

const Bruecke__Header *
br_envelope_header (br_envelope_t *self)
{
    assert (self);
    return self->message ? self->message->header : NULL;
}

const uint8_t *
br_envelope_data (br_envelope_t *self)
{
    assert (self);
    return zchunk_data (self->data);
}

size_t
br_envelope_size (br_envelope_t *self)
{
    assert (self);
    return zchunk_size (self->data);
}

//  ---- Self test ----------------------------------------------------------

//  Decodes and verifies `chunk` with `key`; returns the first refusal.
static br_reason_t
s_test_receive (zchunk_t *chunk, const uint8_t *key, int64_t now)
{
    br_reason_t reason;
    br_envelope_t *envelope =
        br_envelope_decode (zchunk_data (chunk), zchunk_size (chunk), &reason);
    if (envelope) {
        reason = br_envelope_verify (envelope, key);
        if (reason == BR_REASON_OK)
            reason = br_envelope_check_time (envelope, now);
        if (reason == BR_REASON_OK)
            reason = br_envelope_check_attestation (envelope, now);
    }
    br_envelope_destroy (&envelope);
    return reason;
}

//  Signs a Message built from `header` with `signer`, bypassing the builder's
//  assertions, so the receiver's checks can be tested.
static zchunk_t *
s_test_forge (br_identity_t *signer, Bruecke__Header *header)
{
    Bruecke__Message message = BRUECKE__MESSAGE__INIT;
    message.header = header;
    zchunk_t *bytes = br_proto_encode (&message.base);
    zchunk_t *envelope = br_envelope_sign (signer, zchunk_data (bytes), zchunk_size (bytes));
    zchunk_destroy (&bytes);
    return envelope;
}

void
br_envelope_test (bool verbose)
{
    if (verbose)
        printf (" * br_envelope: ");
    //  @selftest
    //  The type table agrees with itself: content is queued and
    //  acknowledged, what the Transferbörse applies is acknowledged, the
    //  broker's queued own messages are no content, a session message is
    //  never acknowledged, a sealed body is personal data
    for (size_t index = 0; index < sizeof (s_types) / sizeof (s_types[0]); index++) {
        const s_type_info_t *info = &s_types[index];
        assert (!info->content || (info->acknowledged && info->at_broker == BR_AT_BROKER_QUEUE));
        assert (info->at_broker != BR_AT_BROKER_EXCHANGE || info->acknowledged);
        assert (!info->broker_queued || (!info->content && info->at_broker == BR_AT_BROKER_QUEUE));
        assert (!info->session || !info->acknowledged);
        assert (!info->sealed || info->personal);
        assert (info->at_node != BR_AT_NODE_CASEWORK || info->content);
        assert (br_message_type_at_broker ((int) info->type) == info->at_broker);
    }
    assert (br_message_type_at_node (9999) == BR_AT_NODE_NONE);
    assert (!br_message_type_acknowledged (9999));
    int64_t now = br_now_ms ();
    int64_t day = 24 * 3600 * 1000LL;
    br_identity_t *luenen = br_identity_new ("luenen");
    br_identity_t *unna = br_identity_new ("unna");

    //  A sealed test note from Lünen to Unna's Frühe Hilfen, under consent
    Bruecke__Header header;
    uint8_t id[BR_MESSAGE_ID_SIZE];
    br_envelope_header_init (&header, id, BRUECKE__MESSAGE_TYPE__TYPE_TEST_NOTE, "luenen", "unna",
                             "fruehe-hilfen", 7, now, day);
    uint8_t consent_id[16];
    randombytes_buf (consent_id, sizeof (consent_id));
    char *categories[] = {"household"};
    Bruecke__Attestation attestation = BRUECKE__ATTESTATION__INIT;
    attestation.basis = BRUECKE__LEGAL_BASIS__BASIS_CONSENT;
    attestation.consent_id.data = consent_id;
    attestation.consent_id.len = sizeof (consent_id);
    attestation.purpose = "language-support";
    attestation.data_categories = categories;
    attestation.n_data_categories = 1;
    attestation.recipient = "unna";
    attestation.recipient_service = "fruehe-hilfen";
    attestation.valid_from_ms = now - day;
    attestation.valid_until_ms = now + 30 * day;
    Bruecke__TestNote note = BRUECKE__TEST_NOTE__INIT;
    note.text = "Familie Beispiel, erfunden";
    zchunk_t *chunk = br_envelope_build (luenen, &header, &attestation, &note.base,
                                         br_identity_seal_public (unna));
    assert (!memmem (zchunk_data (chunk), zchunk_size (chunk), "Beispiel", 8));

    br_reason_t reason;
    br_envelope_t *envelope =
        br_envelope_decode (zchunk_data (chunk), zchunk_size (chunk), &reason);
    assert (envelope && reason == BR_REASON_OK);
    assert (streq (br_envelope_signer (envelope), "luenen"));
    assert (br_envelope_message (envelope) == NULL);
    assert (br_envelope_size (envelope) == zchunk_size (chunk));
    assert (memcmp (br_envelope_data (envelope), zchunk_data (chunk), zchunk_size (chunk)) == 0);
    assert (br_envelope_verify (envelope, br_identity_sign_public (luenen)) == BR_REASON_OK);
    const Bruecke__Header *received = br_envelope_header (envelope);
    assert (received && received->sequence == 7 && streq (received->recipient, "unna"));
    assert (memcmp (received->message_id.data, id, sizeof (id)) == 0);
    assert (br_envelope_check_time (envelope, now) == BR_REASON_OK);
    assert (br_envelope_check_attestation (envelope, now) == BR_REASON_OK);
    ProtobufCMessage *body = NULL;
    assert (br_envelope_open_body (envelope, unna, &bruecke__test_note__descriptor, &body) ==
            BR_REASON_OK);
    assert (streq (((Bruecke__TestNote *) body)->text, "Familie Beispiel, erfunden"));
    br_proto_free (&body);
    //  Only the recipient can open it
    assert (br_envelope_open_body (envelope, luenen, &bruecke__test_note__descriptor, &body) ==
            BR_REASON_DECRYPT_FAILED);
    assert (body == NULL);
    br_envelope_destroy (&envelope);
    br_envelope_destroy (&envelope);

    //  Time rules: a queued message may be old, but never expired
    envelope = br_envelope_decode (zchunk_data (chunk), zchunk_size (chunk), &reason);
    assert (br_envelope_verify (envelope, br_identity_sign_public (luenen)) == BR_REASON_OK);
    assert (br_envelope_check_expiry (envelope, now + day / 2) == BR_REASON_OK);
    //  An old message is no skew (it may have waited in an outbox); one from
    //  more than the tolerance ahead is
    assert (br_envelope_check_time (envelope, now + day / 2) == BR_REASON_OK);
    assert (br_envelope_check_time (envelope, now - BR_CLOCK_SKEW_MS) == BR_REASON_OK);
    assert (br_envelope_check_time (envelope, now - BR_CLOCK_SKEW_MS - 1) == BR_REASON_CLOCK_SKEW);
    assert (br_envelope_check_expiry (envelope, now + day) == BR_REASON_EXPIRED);
    br_envelope_destroy (&envelope);
    uint8_t key[BR_MESSAGE_KEY_SIZE], other_key[BR_MESSAGE_KEY_SIZE];
    br_envelope_message_key ("luenen", id, key);
    br_envelope_message_key ("luenen2", id, other_key);
    assert (memcmp (key, other_key, sizeof (key)) != 0);
    assert (memcmp (key, "luenen\0", 7) == 0 && memcmp (key + BR_NODE_ID_MAX, id, 16) == 0);
    assert (s_test_receive (chunk, br_identity_sign_public (luenen), now + BR_CLOCK_SKEW_MS + 1) ==
            BR_REASON_OK);
    assert (s_test_receive (chunk, br_identity_sign_public (luenen), now - BR_CLOCK_SKEW_MS - 1) ==
            BR_REASON_CLOCK_SKEW);
    //  Another node's key: the signature fails
    assert (s_test_receive (chunk, br_identity_sign_public (unna), now) == BR_REASON_BAD_SIGNATURE);

    //  Every single-bit flip is refused, never accepted, never a crash
    for (size_t offset = 0; offset < zchunk_size (chunk); offset++) {
        zchunk_t *flipped = zchunk_dup (chunk);
        zchunk_data (flipped)[offset] ^= (uint8_t) (1 << (offset % 8));
        reason = s_test_receive (flipped, br_identity_sign_public (luenen), now);
        assert (reason != BR_REASON_OK);
        zchunk_destroy (&flipped);
    }
    //  Every truncation is refused
    for (size_t size = 0; size < zchunk_size (chunk); size++) {
        zchunk_t *cut = zchunk_new (zchunk_data (chunk), size);
        assert (s_test_receive (cut, br_identity_sign_public (luenen), now) != BR_REASON_OK);
        zchunk_destroy (&cut);
    }
    //  Oversized: refused before decoding
    zchunk_t *huge = zchunk_new (NULL, BR_ENVELOPE_MAX_SIZE + 1);
    memset (zchunk_data (huge), 0, BR_ENVELOPE_MAX_SIZE + 1);
    zchunk_set (huge, NULL, BR_ENVELOPE_MAX_SIZE + 1);
    assert (s_test_receive (huge, br_identity_sign_public (luenen), now) == BR_REASON_TOO_LARGE);
    zchunk_destroy (&huge);
    zchunk_destroy (&chunk);

    //  Personal data without attestation, or for another recipient
    br_envelope_header_init (&header, id, BRUECKE__MESSAGE_TYPE__TYPE_TEST_NOTE, "luenen", "unna",
                             "fruehe-hilfen", 8, now, day);
    chunk = br_envelope_build (luenen, &header, NULL, &note.base, br_identity_seal_public (unna));
    assert (s_test_receive (chunk, br_identity_sign_public (luenen), now) ==
            BR_REASON_ATTESTATION_MISSING);
    zchunk_destroy (&chunk);
    attestation.recipient = "kamen";
    chunk = br_envelope_build (luenen, &header, &attestation, &note.base,
                               br_identity_seal_public (unna));
    assert (s_test_receive (chunk, br_identity_sign_public (luenen), now) ==
            BR_REASON_RECIPIENT_MISMATCH);
    zchunk_destroy (&chunk);

    //  A control message needs no attestation and is not sealed
    Bruecke__Receipt receipt = BRUECKE__RECEIPT__INIT;
    receipt.message_id.data = id;
    receipt.message_id.len = sizeof (id);
    receipt.stored_at_ms = now;
    br_envelope_header_init (&header, id, BRUECKE__MESSAGE_TYPE__TYPE_RECEIPT, "unna", "luenen", "",
                             1, now, day);
    chunk = br_envelope_build (unna, &header, NULL, &receipt.base, NULL);
    assert (s_test_receive (chunk, br_identity_sign_public (unna), now) == BR_REASON_OK);
    envelope = br_envelope_decode (zchunk_data (chunk), zchunk_size (chunk), &reason);
    assert (br_envelope_verify (envelope, br_identity_sign_public (unna)) == BR_REASON_OK);
    assert (br_envelope_open_body (envelope, NULL, &bruecke__receipt__descriptor, &body) ==
            BR_REASON_OK);
    assert (((Bruecke__Receipt *) body)->stored_at_ms == now);
    br_proto_free (&body);
    br_envelope_destroy (&envelope);
    zchunk_destroy (&chunk);
    //  ... and may not carry one
    chunk = br_envelope_build (unna, &header, &attestation, &receipt.base, NULL);
    assert (s_test_receive (chunk, br_identity_sign_public (unna), now) ==
            BR_REASON_ATTESTATION_INVALID);
    zchunk_destroy (&chunk);

    //  Forged shapes, validly signed: each refused with its own reason
    br_envelope_header_init (&header, id, BRUECKE__MESSAGE_TYPE__TYPE_HEARTBEAT, "unna", "", "", 2,
                             now, day);
    header.sender = "luenen"; //  Unna signs, claims to be Lünen
    chunk = s_test_forge (unna, &header);
    assert (s_test_receive (chunk, br_identity_sign_public (unna), now) ==
            BR_REASON_SENDER_MISMATCH);
    zchunk_destroy (&chunk);
    header.sender = "unna";
    header.version = 2;
    chunk = s_test_forge (unna, &header);
    assert (s_test_receive (chunk, br_identity_sign_public (unna), now) ==
            BR_REASON_UNSUPPORTED_VERSION);
    zchunk_destroy (&chunk);
    header.version = BR_PROTOCOL_VERSION;
    header.type = (Bruecke__MessageType) 99;
    chunk = s_test_forge (unna, &header);
    assert (s_test_receive (chunk, br_identity_sign_public (unna), now) ==
            BR_REASON_UNSUPPORTED_TYPE);
    zchunk_destroy (&chunk);
    header.type = BRUECKE__MESSAGE_TYPE__TYPE_HEARTBEAT;
    header.message_id.len = 8;
    chunk = s_test_forge (unna, &header);
    assert (s_test_receive (chunk, br_identity_sign_public (unna), now) == BR_REASON_MALFORMED);
    zchunk_destroy (&chunk);
    header.message_id.len = BR_MESSAGE_ID_SIZE;
    header.expires_at_ms = now - 1;
    header.created_at_ms = now - 2;
    chunk = s_test_forge (unna, &header);
    assert (s_test_receive (chunk, br_identity_sign_public (unna), now) == BR_REASON_EXPIRED);
    zchunk_destroy (&chunk);
    header.created_at_ms = now;
    header.expires_at_ms = now + BR_MAX_LIFETIME_MS + 1;
    chunk = s_test_forge (unna, &header);
    assert (s_test_receive (chunk, br_identity_sign_public (unna), now) == BR_REASON_EXPIRED);
    zchunk_destroy (&chunk);
    //  No header at all
    Bruecke__Message empty = BRUECKE__MESSAGE__INIT;
    zchunk_t *bytes = br_proto_encode (&empty.base);
    chunk = br_envelope_sign (unna, zchunk_data (bytes), zchunk_size (bytes));
    assert (s_test_receive (chunk, br_identity_sign_public (unna), now) == BR_REASON_MALFORMED);
    zchunk_destroy (&chunk);
    zchunk_destroy (&bytes);
    //  Signed inner bytes that are not a Message
    uint8_t junk[] = {0xff, 0xff, 0xff};
    chunk = br_envelope_sign (unna, junk, sizeof (junk));
    assert (s_test_receive (chunk, br_identity_sign_public (unna), now) == BR_REASON_MALFORMED);
    zchunk_destroy (&chunk);

    //  The type table
    assert (br_message_type_sealed (BRUECKE__MESSAGE_TYPE__TYPE_TEST_NOTE));
    assert (br_message_type_personal (BRUECKE__MESSAGE_TYPE__TYPE_TEST_NOTE));
    assert (br_message_type_content (BRUECKE__MESSAGE_TYPE__TYPE_REFERRAL));
    assert (br_message_type_content (BRUECKE__MESSAGE_TYPE__TYPE_CONSENT_WITHDRAWAL));
    assert (!br_message_type_personal (BRUECKE__MESSAGE_TYPE__TYPE_CONSENT_WITHDRAWAL));
    assert (!br_message_type_content (BRUECKE__MESSAGE_TYPE__TYPE_RECEIPT));
    assert (!br_message_type_content (BRUECKE__MESSAGE_TYPE__TYPE_HELLO));
    assert (!br_message_type_sealed (BRUECKE__MESSAGE_TYPE__TYPE_RECEIPT));
    assert (br_message_type_session (BRUECKE__MESSAGE_TYPE__TYPE_HEARTBEAT));
    assert (br_message_type_session (BRUECKE__MESSAGE_TYPE__TYPE_EXCHANGE_SYNC));
    assert (!br_message_type_session (BRUECKE__MESSAGE_TYPE__TYPE_REFUSAL));
    assert (!br_message_type_session (BRUECKE__MESSAGE_TYPE__TYPE_BOARD_PUBLISH));
    assert (!br_message_type_known (0));
    assert (streq (br_message_type_name (BRUECKE__MESSAGE_TYPE__TYPE_HELLO), "HELLO"));

    br_identity_destroy (&unna);
    br_identity_destroy (&luenen);
    //  @end
    if (verbose)
        printf ("OK\n");
}
