/*  =========================================================================
    br_chain - a hash-chained, append-only log in LMDB

    The engine under the node's audit log (bn_audit) and the Transferbörse's
    ledger (br_ledger): it keeps their records and head and walks them to
    verify; what a record says is its owner's. A record is

        format (1 byte, the owner's) | sequence (8, big-endian, from 1) |
        time (8, ms) | prev (32: the hash of the record before, zeros for
        the first) | payload | hash (32: BLAKE2b-256 of everything before)

    stored under its sequence (8 bytes, big-endian) in the records
    database; the head database holds "head" -> sequence + hash of the
    last record. Records are appended past every existing key, never over
    one: a head that lags behind the records means the log was tampered
    with (AUDIT_BROKEN).
    =========================================================================
*/

#ifndef BR_CHAIN_H_INCLUDED
#define BR_CHAIN_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"
#include "br_store.h"

#define BR_CHAIN_HASH_SIZE      32
#define BR_CHAIN_SEQUENCE_SIZE  8
#define BR_CHAIN_OFFSET_PAYLOAD (1 + 8 + 8 + BR_CHAIN_HASH_SIZE)
#define BR_CHAIN_OVERHEAD       (BR_CHAIN_OFFSET_PAYLOAD + BR_CHAIN_HASH_SIZE)
//  The head database's one key, and its value: sequence + hash of the last record.
#define BR_CHAIN_HEAD_KEY  "head"
#define BR_CHAIN_HEAD_SIZE (BR_CHAIN_SEQUENCE_SIZE + BR_CHAIN_HASH_SIZE)

//  What verification reports, besides what the owner's checks find.
#define BR_CHAIN_EDITED     "record edited"
#define BR_CHAIN_MALFORMED  "record malformed"
#define BR_CHAIN_MISSING    "record missing"
#define BR_CHAIN_MOVED      "record out of place"
#define BR_CHAIN_BROKEN     "chain broken: record does not follow the one before"
#define BR_CHAIN_KEY        "unexpected key"
#define BR_CHAIN_HEAD       "head does not match"
#define BR_CHAIN_NO_HEAD    "head missing"
#define BR_CHAIN_BAD_HEAD   "head malformed"
#define BR_CHAIN_AFTER_HEAD "record after head"

//  A record's envelope, pointing into its bytes.
typedef struct {
    uint64_t sequence;      //  its place, from 1
    int64_t time_ms;        //  when it was recorded
    const uint8_t *prev;    //  the hash of the record before
    const uint8_t *payload; //  the owner's part
    size_t payload_size;    //  its size
    const uint8_t *hash;    //  its own hash
} br_chain_record_t;

typedef struct _br_chain_t br_chain_t;

//  The chain in the databases named `records` and `heads` of `store`
//  (which the caller owns and keeps open), opened here, of records whose
//  first byte is `format`; `name` names it in the log. NULL with *reason
//  if the databases cannot be opened.
br_chain_t *br_chain_new (br_store_t *store, const char *records, const char *heads, uint8_t format,
                          const char *name, br_reason_t *reason);
//  Frees the chain (not its databases) and nulls the pointer.
void br_chain_destroy (br_chain_t **self_p);

//  The records and the heads database, for the owners' selftests that
//  edit them by hand.
MDB_dbi br_chain_records (br_chain_t *self);
MDB_dbi br_chain_heads (br_chain_t *self);
//  The record at `sequence` in `txn`: OK with its bytes (valid until the
//  transaction ends), NOT_FOUND, or a store reason.
br_reason_t br_chain_get (br_chain_t *self, MDB_txn *txn, uint64_t sequence, const void **data,
                          size_t *size) BR_WUR;
//  Reads the envelope of `size` bytes into *record, checking the sizes and
//  that the first byte is `format`, not the hash. True if it is one.
bool br_chain_parse (uint8_t format, const uint8_t *data, size_t size, br_chain_record_t *record);

//  True if the record's last 32 bytes are the hash of the bytes before.
bool br_chain_hash_valid (const uint8_t *data, size_t size);

//  The head in `txn`: OK with the last sequence and hash, NOT_FOUND if
//  there is none, AUDIT_BROKEN if it is malformed, or a store reason.
br_reason_t br_chain_head (br_chain_t *self, MDB_txn *txn, uint64_t *sequence,
                           uint8_t hash[BR_CHAIN_HASH_SIZE]) BR_WUR;

//  As br_chain_head, but no head is an empty chain (OK, 0 and zeros): what
//  the next record follows.
br_reason_t br_chain_last (br_chain_t *self, MDB_txn *txn, uint64_t *sequence,
                           uint8_t hash[BR_CHAIN_HASH_SIZE]) BR_WUR;

//  The head now, in a read transaction of its own: OK with the last
//  sequence and hash, 0 and zeros when the chain is empty; on a failure
//  its reason, with 0 and zeros.
br_reason_t br_chain_current (br_chain_t *self, uint64_t *sequence,
                              uint8_t hash[BR_CHAIN_HASH_SIZE]) BR_WUR;
//  Writes the record of `format` for `payload` into `data`
//  (BR_CHAIN_OVERHEAD + size bytes; `payload` may already be in place
//  there), hash included. Returns its size.
size_t br_chain_seal (uint8_t format, uint64_t sequence, int64_t time_ms,
                      const uint8_t prev[BR_CHAIN_HASH_SIZE], const uint8_t *payload, size_t size,
                      uint8_t *data);

//  Stores the sealed record of `size` bytes under its sequence and makes
//  it the head, in `txn`. The caller made sure it follows the head. Returns
//  OK, AUDIT_BROKEN (a record is there already) or a store reason.
br_reason_t br_chain_put (br_chain_t *self, MDB_txn *txn, const uint8_t *data, size_t size) BR_WUR;

//  The owner's part of verification. `parse` says whether a record's
//  payload is well formed (MALFORMED if not); `check` looks at a record
//  that is in its place and follows the one before: NULL, or its own
//  problem; it may set *reason to a store reason to stop the walk. When
//  the whole chain holds, `check` is called once more with a NULL record,
//  for what the owner checks over the whole log (its problem is then
//  reported at the last record).
typedef bool (br_chain_parse_fn) (void *argument, const br_chain_record_t *record);
typedef const char *(br_chain_check_fn) (void *argument, MDB_txn *txn,
                                         const br_chain_record_t *record, br_reason_t *reason);
//  Walks the chain in a read transaction of its own: each key the next
//  sequence, each record's hash over its bytes, its envelope and payload
//  well formed, its own sequence its key's, its prev the hash of the one
//  before, the owner's check; then the head names the last record and its
//  hash. Returns OK with *checked records, AUDIT_BROKEN with the first bad
//  sequence and the problem, or a store reason.
br_reason_t br_chain_verify (br_chain_t *self, br_chain_parse_fn *parse, br_chain_check_fn *check,
                             void *argument, uint64_t *checked, uint64_t *first_bad,
                             const char **problem) BR_WUR;
//  Calls `each` with the records after sequence `after`, at most `max`, in
//  order, in a read transaction of its own; stops at the first that is not
//  a record of this chain or for which `each` returns false. Returns how
//  many it was given.
typedef bool (br_chain_each_fn) (void *argument, const uint8_t *data, size_t size);
size_t br_chain_read (br_chain_t *self, uint64_t after, size_t max, br_chain_each_fn *each,
                      void *argument);
//  Payload helpers: a text of at most 255 bytes with its 1-byte length.
//  br_chain_put_text writes it at `*cursor` and advances it;
//  br_chain_get_text reads one of at most `max` bytes without a NUL, not
//  past `end`, into `text` (max + 1 bytes) and advances. False if there is
//  none.
void br_chain_put_text (uint8_t **cursor, const char *text);
bool br_chain_get_text (const uint8_t **cursor, const uint8_t *end, size_t max, char *text);
//  Self test of this class.
void br_chain_test (bool verbose);

#endif
