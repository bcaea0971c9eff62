/*  =========================================================================
    bn_casestore - the casework's records at rest

    The store layer of bn_casework: its tables in the node's LMDB
    environment, each record sealed with the node's data key, the inventory
    of all records, the events API clients poll, and the migration of a
    store an earlier version wrote. bn_casework.h describes the format; in
    short, a record is stored as the schema (1 byte, BN_CASEWORK_SCHEMA),
    its revision (8 bytes, big-endian; 1 when first written, one more at
    each write), then the record's message (proto/records.proto) sealed
    with associated data = table name, NUL, id, schema, revision. A record
    moved to another table or id, or its schema or revision changed, does
    not open.

    casework-meta "inventory" is the XOR of a keyed digest of the place and
    revision of every record. A record put back from an earlier copy,
    removed or added behind the node's back leaves it unmatched, which the
    store finds when it opens (bn_casestore_intact); a whole store restored
    from a backup matches, and is the operator's to know.

    Records are JSON objects here (bn_record maps them to their typed
    messages). Every function runs inside a transaction the caller opens.
    =========================================================================
*/

#ifndef BN_CASESTORE_H_INCLUDED
#define BN_CASESTORE_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"
#include "br_store.h"
#include "bn_casework.h"
#include "bn_store.h"
#include "bn_vault.h"
#include <jansson.h>

//  A record id in hex, with its NUL.
#define BN_ID_HEX (2 * BN_ID_SIZE + 1)

//  The tables of records, in the order a migration rewrites them (cases
//  first: a record of schema 1 may take its office from its case).
typedef enum {
    BN_CASESTORE_CASES,     //  case id -> CaseRecord
    BN_CASESTORE_CONSENTS,  //  consent id -> ConsentRecord
    BN_CASESTORE_REFERRALS, //  referral id -> ReferralRecord
    BN_CASESTORE_TRANSFERS, //  transfer id -> TransferRecord
    BN_CASESTORE_EMERGENCY, //  grant id -> EmergencyRecord
    BN_CASESTORE_FORMS,     //  consent id -> SignedForm
    BN_CASESTORE_TABLES     //  how many
} bn_casestore_table_t;

typedef struct _bn_casestore_t bn_casestore_t;

//  Opens the casework's tables in the environment of `store`, brings a
//  store of an earlier schema to BN_CASEWORK_SCHEMA (in one transaction of
//  its own) and checks the inventory. `store` and `vault` are the caller's
//  and must outlive it. Returns a new store, or NULL and *reason: a store
//  reason, or INVALID_STATE for a store a later version wrote (logged).
bn_casestore_t *bn_casestore_new (bn_store_t *store, bn_vault_t *vault, br_reason_t *reason);

//  Destroys the store (not what it borrowed) and nulls the pointer; safe
//  to call twice.
void bn_casestore_destroy (bn_casestore_t **self_p);

//  True if, when the store opened, its records were those this node wrote
//  last (the inventory matched); a mismatch is logged then.
bool bn_casestore_intact (bn_casestore_t *self);

//  Reads and opens the record `id` of `table`. Returns OK and a new
//  reference in *record_p (NULL otherwise), NOT_FOUND, DECRYPT_FAILED (also
//  for a record moved there or altered) or a store reason.
br_reason_t bn_casestore_get (bn_casestore_t *self, MDB_txn *txn, bn_casestore_table_t table,
                              const uint8_t *id, json_t **record_p) BR_WUR;

//  Seals and writes `record` under `id` as the next revision, as its
//  table's record type, and makes `record` what was stored (its fields as
//  the type keeps them). Returns OK, MALFORMED if the record does not fit
//  its type (logged, naming a field, never a value), or a store reason.
br_reason_t bn_casestore_put (bn_casestore_t *self, MDB_txn *txn, bn_casestore_table_t table,
                              const uint8_t *id, json_t *record) BR_WUR;

//  Seals `size` bytes of a record message (the caller encoded it) as the
//  next revision at `id` of `table` and writes them. Returns OK or a store
//  reason.
br_reason_t bn_casestore_seal (bn_casestore_t *self, MDB_txn *txn, bn_casestore_table_t table,
                               const uint8_t *id, const void *plain, size_t size) BR_WUR;

//  Reads and opens what is sealed at `id` of `table` into *plain_p, which
//  the caller wipes and frees. Returns as bn_casestore_get.
br_reason_t bn_casestore_open (bn_casestore_t *self, MDB_txn *txn, bn_casestore_table_t table,
                               const uint8_t *id, zchunk_t **plain_p) BR_WUR;

//  Called by bn_casestore_each for every record; `record` is borrowed
//  (the function may change and put it). A non-OK answer stops the walk.
typedef br_reason_t (bn_casestore_each_fn) (MDB_txn *txn, const uint8_t *id, json_t *record,
                                            void *argument);

//  Calls `each` for every record of `table`, in the order of their ids;
//  `each` may write to the table. Returns OK, the first non-OK of `each`,
//  or a store or decryption reason.
br_reason_t bn_casestore_each (bn_casestore_t *self, MDB_txn *txn, bn_casestore_table_t table,
                               bn_casestore_each_fn *each, void *argument) BR_WUR;

//  Appends an event (no personal data: kind, id, state, the office of
//  `record`, time) for API clients that poll. Returns OK or a store reason.
br_reason_t bn_casestore_event (bn_casestore_t *self, MDB_txn *txn, const char *kind,
                                const uint8_t *id, const char *state, json_t *record,
                                int64_t now) BR_WUR;

//  Appends to `events` (an array) at most `max` events after sequence
//  number `after`, those of the offices in `offices` (comma-separated), and
//  sets *next to the last sequence number looked at (`after` if none).
//  Returns OK or a store reason.
br_reason_t bn_casestore_events (bn_casestore_t *self, MDB_txn *txn, uint64_t after,
                                 const char *offices, size_t max, json_t *events,
                                 uint64_t *next) BR_WUR;

//  The office a record belongs to (borrowed from it), or NULL if it names
//  none.
const char *bn_casestore_office (json_t *record);

//  Writes `id` (BN_ID_SIZE bytes) in hex.
void bn_casestore_hex (const uint8_t *id, char hex[BN_ID_HEX]);

//  Reads an id in hex into `id`. Returns true if `hex` is one (NULL is not).
bool bn_casestore_id_parse (const char *hex, uint8_t id[BN_ID_SIZE]);

//  A new object with the members of `object`, each as text: a member that
//  is not a text becomes its JSON text (a case's details are texts).
json_t *bn_casestore_texts (json_t *object);

//  Self test of this class.
void bn_casestore_test (bool verbose);

#endif
