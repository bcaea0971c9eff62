/*  =========================================================================
    bn_casework_ctx - what the parts of the casework share

    Internal to bn_casework and its parts (bn_case, bn_consent,
    bn_referral, bn_transfer, bn_emergency, bn_casefields); nothing else
    includes it. bn_casework owns one context and passes it to the part
    that does an operation; a part keeps no state of its own. The context
    holds what bn_casework_new borrowed, the roster in force, the records
    (bn_casestore, which bn_casework owns) and, during one call, the note
    of an emergency access that all its audit records carry.

    The functions here are the steps several parts take alike: who may see
    a record, the audit record of an access, input checks, sending a
    casework message, resolving an address through the roster, and the
    common start of taking a received referral or case transfer. Like the
    parts, they run on the node actor's thread inside the caller's write
    transaction; a refusal sets call->detail (bn_request_refuse).
    =========================================================================
*/

#ifndef BN_CASEWORK_CTX_H_INCLUDED
#define BN_CASEWORK_CTX_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"
#include "bn_casework.h"
#include "bn_casestore.h"

#define BN_CASEWORK_REASON_MAX 48 //  longest reason code name, characters
#define BN_CASEWORK_SHA256_HEX 64 //  a SHA-256 digest in hex, characters

//  What the parts of the casework share. All is borrowed.
typedef struct {
    bn_store_t *store;       //  outbox, local queue and sequence numbers
    br_identity_t *identity; //  signs, opens sealed bodies; this node's id
    bn_vault_t *vault;       //  the data key: tags search terms
    bn_audit_t *audit;       //  access log
    br_roster_t *roster;     //  the roster in force
    bn_casestore_t *records; //  the records, sealed at rest
    const char *break_glass; //  during a call under emergency access: its audit note, else NULL
} bn_casework_ctx_t;

//  True if the roster gives this node the office (service) `office`.
bool bn_casework_ctx_office_here (bn_casework_ctx_t *ctx, const char *office);

//  True if the caller acts for the office `record` belongs to.
bool bn_casework_ctx_sees (bn_request_t *call, json_t *record);

//  OK if the caller acts for the office `record` belongs to; else refuses
//  OFFICE_NOT_PERMITTED (need-to-know: §35 SGB I, §§67 ff. SGB X).
br_reason_t bn_casework_ctx_permit (bn_request_t *call, json_t *record) BR_WUR;

//  Reads record `hex` (an id in hex) of `table` for a request: its id into
//  `id` and a new reference in *record_p. Returns OK, or refuses NOT_FOUND
//  ("no such `what`") if `hex` is no id or names no record that opens.
br_reason_t bn_casework_ctx_find (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_request_t *call,
                                  bn_casestore_table_t table, const char *hex, const char *what,
                                  uint8_t id[BN_ID_SIZE], json_t **record_p) BR_WUR;

//  Appends an audit record: `actor` did `action` on record `id` (NULL:
//  none), with `detail`; under an emergency access its note goes first.
//  Returns OK or a store reason.
br_reason_t bn_casework_ctx_audit (bn_casework_ctx_t *ctx, MDB_txn *txn, const char *actor,
                                   const char *action, const uint8_t *id, const char *detail,
                                   int64_t now) BR_WUR;

//  True if member `name` of `object` is missing or an array of at most
//  BN_LIST_MAX valid strings of at most `max` bytes, each one `known`
//  accepts if `known` is given (a catalogue's check).
bool bn_casework_ctx_text_list (json_t *object, const char *name, size_t max,
                                const char *(*known) (const char *) );

//  True if `list` (an array of strings) holds `text`.
bool bn_casework_ctx_list_has (json_t *list, const char *text);

//  Builds, signs and seals a casework message of `type` with `body` (and
//  `attestation`, or NULL for a message without personal data) to node
//  `to`, office `service`, and puts it into the outbox, or into the local
//  queue if `to` is this node; `message_id` receives its id. Returns OK,
//  the reason the roster or the attestation refuses it (UNKNOWN_NODE,
//  NODE_REVOKED, NO_ROUTE, ...; nothing is written then) or a store reason.
br_reason_t bn_casework_ctx_send (bn_casework_ctx_t *ctx, MDB_txn *txn, Bruecke__MessageType type,
                                  const char *to, const char *service,
                                  const Bruecke__Attestation *attestation,
                                  const ProtobufCMessage *body, int64_t now, int64_t lifetime,
                                  uint8_t message_id[BR_MESSAGE_ID_SIZE]) BR_WUR;

//  The start of an attestation's validity for a message sent now: it
//  reaches back by the tolerated clock skew, so that a recipient whose
//  clock is behind takes it, but never before `basis_from`, where its legal
//  basis begins.
int64_t bn_casework_ctx_valid_from (int64_t now, int64_t basis_from);

//  Appends a history entry (state, time, by whom, a reason code name and
//  a text if given) to a referral or transfer and sets its state.
void bn_casework_ctx_history_add (json_t *record, const char *state, int64_t at, const char *by,
                                  const char *reason, const char *text);

//  Resolves an address {ags, service} through the roster. Returns OK and
//  a new object {ags, service, node} in *resolved, or refuses (MALFORMED,
//  or the roster's reason: NO_ROUTE, ...).
br_reason_t bn_casework_ctx_resolve (bn_casework_ctx_t *ctx, bn_request_t *call, json_t *address,
                                     json_t **resolved) BR_WUR;

//  The key under which this node keeps a referral or transfer `id` it
//  received from `sender`: the id itself, so that both towns name it
//  alike; but if the sender is this node (one of its offices referred to
//  another), a key derived from the id, as the sending office's record
//  holds the id itself.
void bn_casework_ctx_incoming_key (bn_casework_ctx_t *ctx, const uint8_t id[BN_ID_SIZE],
                                   const char *sender, uint8_t key[BN_ID_SIZE]);

//  The common start of taking a referral or a case transfer: an id of
//  BN_ID_SIZE bytes whose record key (bn_casework_ctx_incoming_key, into
//  `key`) is not yet in `table` (else *verdict = `repeated`; a transfer
//  this node received from `sender` and declined is taken as new), the
//  sender's service code, and sections the attestation covers, each a JSON
//  object (else *verdict is MALFORMED or CATEGORY_NOT_COVERED). Returns
//  true, with the sections as a new {category: object} in *sections_p, if
//  the message is to be taken.
bool bn_casework_ctx_take (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_casestore_table_t table,
                           const ProtobufCBinaryData *id, const char *sender,
                           const char *sender_service, Bruecke__DataSection **sections,
                           size_t count, const Bruecke__Attestation *attestation,
                           br_reason_t repeated, br_reason_t *verdict, json_t **sections_p,
                           uint8_t key[BN_ID_SIZE]);

//  The record `id` of `table` if it exists, belongs to `peer` (in its
//  `peer_field`) and goes `direction` (NULL: either way), as a new
//  reference in *record_p (NULL otherwise). Returns OK, NOT_FOUND,
//  FORBIDDEN, MALFORMED or a store reason.
br_reason_t bn_casework_ctx_peer_record (bn_casework_ctx_t *ctx, MDB_txn *txn,
                                         bn_casestore_table_t table, const ProtobufCBinaryData *id,
                                         const char *peer_field, const char *peer,
                                         const char *direction, json_t **record_p) BR_WUR;

//  Self test of this class.
void bn_casework_ctx_test (bool verbose);

#endif
