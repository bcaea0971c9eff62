/*  =========================================================================
    br_envelope - the signed outer structure of every message on the wire

    An Envelope carries the serialized Message as bytes, an Ed25519 signature
    over exactly those bytes and the signer's node id. Receiving is in steps,
    each refusing with a reason code:

        br_envelope_decode     size limit, then bounded decode of the outer part
        br_envelope_verify     signature over the received bytes, then bounded
                               decode of the inner Message and its shape
        br_envelope_check_time clock skew, expiry, lifetime
        br_envelope_check_attestation  legal basis for personal-data types

    Nothing is re-serialized before verification: the signature is checked
    over the bytes as they arrived.
    =========================================================================
*/

#ifndef BR_ENVELOPE_H_INCLUDED
#define BR_ENVELOPE_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"
#include "br_identity.h"
#include "br_roster.h"

#define BR_ENVELOPE_MAX_SIZE (1024 * 1024) //  largest encoded Envelope
#define BR_MESSAGE_ID_SIZE   16            //  message ids are 16 random bytes
#define BR_MESSAGE_KEY_SIZE  (BR_NODE_ID_MAX + BR_MESSAGE_ID_SIZE) //  sender + id
#define BR_DIGEST_SIZE       16                        //  envelope digest, see br_envelope_digest
#define BR_MAX_LIFETIME_MS   (30LL * 24 * 3600 * 1000) //  expires_at - created_at at most

typedef struct _br_envelope_t br_envelope_t;

//  ---- Sending ------------------------------------------------------------

//  Fills `header` for a new message: protocol version, a fresh id (creation
//  time in ms as 6 big-endian bytes, then 10 random bytes)
//  written into `id_storage` (which must outlive the header), sender,
//  recipient, service, type, sequence, created now and expiring after
//  `lifetime_ms`. Strings are referenced, not copied.
void br_envelope_header_init (Bruecke__Header *header, uint8_t id_storage[BR_MESSAGE_ID_SIZE],
                              Bruecke__MessageType type, const char *sender, const char *recipient,
                              const char *service, uint64_t sequence, int64_t now_ms,
                              int64_t lifetime_ms);

//  Builds a whole message: serializes `body`, seals it to `seal_public` if
//  the type is sealed (asserts a key is given then), adds the attestation,
//  signs with `signer` and returns the encoded Envelope, which the caller
//  owns. `attestation` may be NULL. Asserts header->sender is the signer.
zchunk_t *br_envelope_build (br_identity_t *signer, const Bruecke__Header *header,
                             const Bruecke__Attestation *attestation, const ProtobufCMessage *body,
                             const uint8_t *seal_public);

//  Wraps already serialized Message bytes in an Envelope signed by
//  `signer`. Returns the encoded Envelope, which the caller owns.
zchunk_t *br_envelope_sign (br_identity_t *signer, const uint8_t *message, size_t size);

//  ---- Receiving ----------------------------------------------------------

//  Decodes the outer Envelope: refuses more than BR_ENVELOPE_MAX_SIZE bytes
//  (TOO_LARGE) before decoding, undecodable bytes, a signature of the wrong
//  length or an invalid signer id (MALFORMED). The envelope keeps a copy of
//  the bytes. Returns it, or NULL and sets *reason.
br_envelope_t *br_envelope_decode (const uint8_t *data, size_t size, br_reason_t *reason);

//  Destroys the envelope and nulls the pointer.
void br_envelope_destroy (br_envelope_t **self_p);

//  The signer's node id, as claimed (not yet proven). Belongs to the envelope.
const char *br_envelope_signer (br_envelope_t *self);

//  Verifies the signature over the received message bytes with
//  `sign_public` (BAD_SIGNATURE), then decodes the inner Message and checks
//  its shape: header present, version 1 (UNSUPPORTED_VERSION), 16-byte id,
//  sender equal to signer (SENDER_MISMATCH), valid node ids, known type
//  (UNSUPPORTED_TYPE), created before expiry (MALFORMED). Returns OK or the
//  reason; on OK the message is available.
br_reason_t br_envelope_verify (br_envelope_t *self,
                                const uint8_t sign_public[BR_SIGN_PUBLIC_SIZE]) BR_WUR;

//  Looks the signer up in `roster` (UNKNOWN_NODE, NODE_REVOKED) and verifies
//  with its signing key as br_envelope_verify does.
br_reason_t br_envelope_verify_in_roster (br_envelope_t *self, br_roster_t *roster) BR_WUR;

//  Checks the times against `now_ms`: created_at at most BR_CLOCK_SKEW_MS
//  ahead (CLOCK_SKEW; a time in the past is no skew, the message may have
//  waited in an outbox), not expired (EXPIRED), lifetime at most
//  BR_MAX_LIFETIME_MS (EXPIRED). Asserts the envelope is verified.
br_reason_t br_envelope_check_time (br_envelope_t *self, int64_t now_ms) BR_WUR;

//  Checks expiry alone, for a recipient of a message that may have waited
//  in a queue: not expired (EXPIRED), lifetime at most BR_MAX_LIFETIME_MS
//  (EXPIRED). No clock-skew rule. Asserts the envelope is verified.
br_reason_t br_envelope_check_expiry (br_envelope_t *self, int64_t now_ms) BR_WUR;

//  For a personal-data type, requires an attestation
//  (ATTESTATION_MISSING) that covers this message (br_attestation_check);
//  for casework types also one whose codes and legal basis the catalogue
//  allows (br_catalogue_check). Other types must carry none
//  (ATTESTATION_INVALID). Asserts the envelope is verified.
br_reason_t br_envelope_check_attestation (br_envelope_t *self, int64_t now_ms) BR_WUR;

//  Decodes the body as `descriptor`, opening it first with `recipient`'s
//  seal key if the type is sealed. Returns OK and the body in *body_p, to be
//  freed with br_proto_free, or DECRYPT_FAILED / MALFORMED. `recipient` may
//  be NULL for types that are not sealed. Asserts the envelope is verified.
br_reason_t br_envelope_open_body (br_envelope_t *self, br_identity_t *recipient,
                                   const ProtobufCMessageDescriptor *descriptor,
                                   ProtobufCMessage **body_p) BR_WUR;

//  The verified message, header and attestation (NULL if absent). NULL
//  before a successful verify. They belong to the envelope.
const Bruecke__Message *br_envelope_message (br_envelope_t *self);
const Bruecke__Header *br_envelope_header (br_envelope_t *self);

//  The envelope's bytes as received, for passing on unchanged.
const uint8_t *br_envelope_data (br_envelope_t *self);
size_t br_envelope_size (br_envelope_t *self);

//  Writes the key that identifies a message among all messages: the sender's
//  node id padded with NULs to BR_NODE_ID_MAX bytes, then the message id.
void br_envelope_message_key (const char *sender, const uint8_t id[BR_MESSAGE_ID_SIZE],
                              uint8_t key[BR_MESSAGE_KEY_SIZE]);

//  Writes a BLAKE2b digest of envelope bytes (BR_DIGEST_SIZE bytes), which
//  tells a retransmission (same bytes) from a replayed id (other bytes).
void br_envelope_digest (const uint8_t *data, size_t size, uint8_t digest[BR_DIGEST_SIZE]);

//  ---- Message types ------------------------------------------------------

//  True if `type` is a message type of this protocol version.
bool br_message_type_known (int type);

//  True if bodies of `type` are sealed to the recipient.
bool br_message_type_sealed (int type);

//  True if `type` may carry personal data and so needs an attestation.
bool br_message_type_personal (int type);

//  True if `type` is content one node sends another, addressed to a service
//  the recipient offers; the broker acknowledges it (ACCEPTED) once stored.
bool br_message_type_content (int type);

//  True if `type` is a session message between a node and the broker
//  (HELLO, HEARTBEAT, CREDIT, EXCHANGE_SYNC; ACCEPTED, ROSTER_UPDATE,
//  BOARD_UPDATE, LEDGER_UPDATE): handled at once, never stored or
//  remembered, and so not subject to the clock rules of PROTOCOL.md 10.
bool br_message_type_session (int type);

//  True if the broker answers ACCEPTED to the sender of `type` once it has
//  stored it (content) or applied it (the Transferbörse's BOARD_PUBLISH,
//  BOARD_WITHDRAW, AGREEMENT_ACTION).
bool br_message_type_acknowledged (int type);

//  True if `type` is the broker's own message that reaches a node through
//  its queue and is receipted (DEAD_LETTER, AGREEMENT); the broker's other
//  messages come directly and are handled at once.
bool br_message_type_broker_queued (int type);

//  Where the broker takes a message of a type.
typedef enum {
    BR_AT_BROKER_NONE,     //  not a type of this version
    BR_AT_BROKER_SESSION,  //  handled at once (session messages)
    BR_AT_BROKER_QUEUE,    //  stored for its recipient and delivered
    BR_AT_BROKER_EXCHANGE, //  applied by the Transferbörse
    BR_AT_BROKER_ANSWER    //  a recipient's answer about a delivered message
} br_at_broker_t;
br_at_broker_t br_message_type_at_broker (int type);

//  Where a node takes a message of a type.
typedef enum {
    BR_AT_NODE_NONE,     //  not a type of this version
    BR_AT_NODE_BROKER,   //  the connection's own (or never sent to a node)
    BR_AT_NODE_INBOX,    //  stored in the inbox
    BR_AT_NODE_CASEWORK, //  applied by casework, with the message
    BR_AT_NODE_EXCHANGE  //  applied to the Transferbörse's copies; only from the broker
} br_at_node_t;
br_at_node_t br_message_type_at_node (int type);

//  The type's name as in the schema without TYPE_, e.g. "TEST_NOTE".
const char *br_message_type_name (int type);

//  Self test of this class.
void br_envelope_test (bool verbose);

#endif
