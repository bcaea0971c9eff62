/*  =========================================================================
    bn_audit - the node's audit log: append-only and hash-chained

    Every read, write and transmission of personal data on a node leaves one
    record here: when, who (the API user, "node", or a peer node's id), what
    (an action code such as "case.read" or "referral.send"), on which object
    (an id) and a short English detail. A record never holds personal data:
    names, addresses, case texts stay out; the validation below lets only ids
    and codes into the object and action fields.

    Two databases in the node's LMDB environment:

        audit       sequence (8 bytes, big-endian) -> record
        audit-head  "head"                         -> sequence + hash of the
                                                      last record

    A record is its body followed by the body's BLAKE2b-256 hash:

        format (1) | sequence (8) | at_ms (8) | prev (32)
        | actor length (1) + actor | action length (1) + action
        | object length (1) + object | detail length (1) + detail
        | hash (32) = BLAKE2b-256 (everything before it)

    `prev` is the previous record's hash (zeros for record 1), so each record
    seals the whole history before it, and the head seals the last record.
    Sequences start at 1 and have no gaps. A record is appended inside the
    caller's write transaction, so it commits or aborts together with the
    change it records; the chain head is read from that transaction each
    time, never cached. There is no way to delete or change a record.

    bn_audit_verify walks the chain and finds the first record that was
    edited (any byte), deleted (in the middle or at the end), moved or
    re-ordered, and a head that does not match. The chain is not keyed: who
    can write the LMDB file and recompute every hash after an edit is caught
    only by comparing the head hash with a copy kept elsewhere
    (bn_audit_head gives it, `bruecke audit verify` prints it).
    =========================================================================
*/

#ifndef BN_AUDIT_H_INCLUDED
#define BN_AUDIT_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"
#include "br_store.h"

//  Longest actor: an API user name ("<token> für <person>" for the town's
//  case software), "node" or a node id (UTF-8 text, bytes).
#define BN_AUDIT_ACTOR_MAX 160
//  Longest action code, [a-z0-9._-], e.g. "referral.send".
#define BN_AUDIT_ACTION_MAX 32
//  Longest object id, [a-z0-9._:-], e.g. a hex id; may be empty.
#define BN_AUDIT_OBJECT_MAX 128
//  Longest detail (UTF-8 text, bytes, no control characters); may be empty.
#define BN_AUDIT_DETAIL_MAX 200
//  Size of a record's hash and of the chain head's hash.
#define BN_AUDIT_HASH_SIZE 32

//  One record, as read back. Strings are NUL-terminated.
typedef struct {
    uint64_t sequence;                    //  its place in the chain, from 1
    int64_t at_ms;                        //  when it happened, Unix milliseconds
    char actor[BN_AUDIT_ACTOR_MAX + 1];   //  who did it
    char action[BN_AUDIT_ACTION_MAX + 1]; //  what was done
    char object[BN_AUDIT_OBJECT_MAX + 1]; //  to which object (an id), or ""
    char detail[BN_AUDIT_DETAIL_MAX + 1]; //  short English detail, or ""
    uint8_t hash[BN_AUDIT_HASH_SIZE];     //  the record's hash
} bn_audit_entry_t;

//  Called for each record read; `entry` is valid during the call only.
typedef void (bn_audit_fn) (void *argument, const bn_audit_entry_t *entry);

typedef struct _bn_audit_t bn_audit_t;

//  Opens (creating) the audit databases in `store`, the node's LMDB
//  environment, which stays the caller's and must outlive the log. Call it
//  with no write transaction open. Returns the log, or NULL and sets
//  *reason (a store reason).
bn_audit_t *bn_audit_new (br_store_t *store, br_reason_t *reason);

//  Closes the log (not the store) and nulls the pointer. Safe to call twice.
void bn_audit_destroy (bn_audit_t **self_p);

//  Appends one record inside the caller's open write transaction `txn`.
//  `actor` and `action` are required; `object` and `detail` may be NULL or
//  "". Returns OK; MALFORMED if a field is too long or has characters its
//  kind does not allow; AUDIT_BROKEN if the head points before an existing
//  record; or a store reason. On failure the caller aborts the transaction.
br_reason_t bn_audit_append (bn_audit_t *self, MDB_txn *txn, int64_t at_ms, const char *actor,
                             const char *action, const char *object, const char *detail) BR_WUR;

//  Walks the whole chain in its own read transaction. Returns OK with
//  *checked set to the number of records verified; or AUDIT_BROKEN with
//  *first_bad set to the sequence where the chain breaks and *problem to a
//  static English description ("record edited", "record missing", ...);
//  or a store reason. *first_bad is 0 and *problem NULL unless broken.
br_reason_t bn_audit_verify (bn_audit_t *self, uint64_t *checked, uint64_t *first_bad,
                             const char **problem) BR_WUR;

//  Reads the chain head: the last record's sequence (0 if none) and hash
//  (zeros if none). Returns OK or a store reason (AUDIT_BROKEN if the head
//  record is malformed).
br_reason_t bn_audit_head (bn_audit_t *self, uint64_t *sequence,
                           uint8_t hash[BN_AUDIT_HASH_SIZE]) BR_WUR;

//  Calls `entry` for each record from sequence `after` + 1 on, oldest first,
//  at most `max` of them, in its own read transaction. Does not verify the
//  chain; stops at a record it cannot decode. Returns how many it read.
size_t bn_audit_read (bn_audit_t *self, uint64_t after, size_t max, bn_audit_fn *entry,
                      void *argument);

//  Self test of this class.
void bn_audit_test (bool verbose);

#endif
