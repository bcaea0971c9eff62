/*  =========================================================================
    bn_casework - cases, consents, closed-loop referrals and case transfers

    The reason bruecke exists. A caseworker (or the town's case software)
    records a case and the family's consent, refers the family to an office
    in another town, or another office of this one, under that consent, and
    follows the referral to its outcome; when a family moves, the case goes
    to the town now responsible under a statute. Every step is a signed
    message (through the broker, or the local queue between two offices of
    this node), and both offices keep the same history.

    The office is the unit of access: every record names the office it
    belongs to, and a caller sees and changes only the records of the
    offices it acts for (bn_request_t.offices; OFFICE_NOT_PERMITTED). The
    administration acts for none, except for reading under an emergency
    access a second administrator approved.

    Records live in the node's LMDB environment; keys are random ids, so
    nothing in the files names a person. Each record is a message of
    proto/records.proto (bn_record maps it to the JSON of the API), stored
    as: the schema (1 byte, BN_CASEWORK_SCHEMA), the record's revision (8
    bytes, big-endian; 1 when first written, one more at each write), then
    the message sealed with the node's data key (bn_vault: XChaCha20-
    Poly1305) with associated data = table name, NUL, id (16 bytes), schema
    (1 byte), revision (8 bytes). A record moved to another table or id,
    or its schema or revision changed, does not open.
        cases       case id      -> CaseRecord (with its journal and history)
        consents    consent id   -> ConsentRecord
        forms       consent id   -> SignedForm
        referrals   referral id  -> ReferralRecord with its history (an incoming
                                    one from this node: a key derived from the
                                    id, see s_incoming_key)
        transfers   transfer id  -> TransferRecord
        emergency   grant id     -> EmergencyRecord
        events      counter      -> {seq, at_ms, kind, id, state, office} (no personal data)
        casework-meta "schema"   -> the records' schema; a store of an earlier schema is
                                    migrated when the node starts, one of a later schema
                                    refused
                      "inventory" -> the XOR of a keyed digest (bn_vault_mac) of table,
                                    id, schema and revision of every record: a record
                                    put back from an earlier copy, removed or added
                                    outside bruecke leaves it unmatched; the node checks
                                    it at start and GET /v1/audit/verify reports it
    Every read, write and transmission of personal data is recorded in the
    audit log (bn_audit) in the same transaction.

    All operations run on the node actor's thread, inside a write
    transaction the caller opens and commits, so a change, the messages it
    sends (into the outbox or the local queue) and its audit records commit
    together or not at all. Each request is checked against what its
    operation takes (bn_request_fields) before any work; answers list the
    actions the caller may take next (br_states).

    The operations are the node's JSON API (node/openapi.yaml), given as a
    method, a path and a parsed body; bn_api carries them over HTTP.
    =========================================================================
*/

#ifndef BN_CASEWORK_H_INCLUDED
#define BN_CASEWORK_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"
#include "br_identity.h"
#include "br_roster.h"
#include "br_envelope.h"
#include "bn_request.h"
#include "bn_audit.h"
#include "bn_record.h"
#include "bn_store.h"
#include "bn_vault.h"
#include <jansson.h>

#define BN_ID_SIZE               16                 //  case, consent, referral ids
#define BN_NAME_MAX              100                //  a person's name, characters
#define BN_TEXT_MAX              4000               //  a note or outcome, characters
#define BN_LIST_MAX              64                 //  members, needs, notes, subjects
#define BN_EVENTS_MAX            1000               //  events in one listing
#define BN_AGE_OF_MAJORITY       18                 //  a member younger is a minor
#define BN_EMERGENCY_MINUTES_MAX 240                //  the longest emergency access
#define BN_FORM_MAX              (1024 * 1024)      //  a consent's signed form, bytes
#define BN_EMERGENCY_REASON_MAX  1000               //  its reason, characters
#define BN_EMERGENCY_APPROVAL_MS (60LL * 60 * 1000) //  a request waits this long for approval
//  The records' schema: 1 before records named their office, 2 before their
//  seals were bound to their place (table and id), 3 since.
#define BN_CASEWORK_SCHEMA          4
#define BN_REF_MAX                  64   //  the town software's own case reference, characters
#define BN_JOURNAL_MAX              1000 //  notes appended to one case
#define BN_MESSAGE_LIFETIME_MS      ((int64_t) 30 * 24 * 3600 * 1000) //  casework messages
#define BN_DEFAULT_TRANSFER_SERVICE "jugendamt"

typedef struct _bn_casework_t bn_casework_t;

//  Creates the casework on the node's store. `identity` signs and opens
//  messages; `vault` seals records; `audit` records access. All are the
//  caller's and must outlive the casework. NULL and *reason on failure.
bn_casework_t *bn_casework_new (bn_store_t *store, br_identity_t *identity, bn_vault_t *vault,
                                bn_audit_t *audit, br_reason_t *reason);

//  Destroys the casework (not what it borrowed) and nulls the pointer.
void bn_casework_destroy (bn_casework_t **self_p);

//  Tells the casework the roster now in force (borrowed until the next call).
void bn_casework_set_roster (bn_casework_t *self, br_roster_t *roster);

//  Carries out one API request (bn_api) inside the open write transaction
//  `txn`; request->user is the actor in the audit log. Returns OK (the
//  caller commits; request->result and request->status are set), or a
//  refusal reason with request->detail (the caller aborts; nothing was
//  changed or sent), or a store reason. Does not set request->reason.
br_reason_t bn_casework_call (bn_casework_t *self, MDB_txn *txn, bn_request_t *request) BR_WUR;

//  Applies a delivered, verified casework message inside `txn` (before the
//  store records its id). Sets *verdict to OK if it was taken, or to why
//  the recipient refuses it (CATEGORY_NOT_COVERED, FORBIDDEN,
//  INVALID_STATE, NOT_FOUND, MALFORMED, DECRYPT_FAILED), in which case
//  nothing was written. Returns OK or a store reason (then abort).
br_reason_t bn_casework_receive (bn_casework_t *self, MDB_txn *txn, br_envelope_t *envelope,
                                 int64_t now_ms, br_reason_t *verdict) BR_WUR;

//  Self test of this class: a short tour of its API.
void bn_casework_test (bool verbose);

//  The casework's scenario test (tests/unit/bn_casework_test.c, linked into
//  bruecke-selftest only, not into the library).
void bn_casework_scenario_test (bool verbose);

#endif
