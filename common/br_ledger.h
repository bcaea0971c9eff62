/*  =========================================================================
    br_ledger - the Transferbörse's ledger: append-only, hash-chained, double entry

    The Transferbörse ("transfer exchange") is where the county's towns trade
    coaching hours for prevention measures: one town (the provider) coaches
    another (the receiver). A transfer counts only once both towns have
    signed its completion; then it enters this ledger as one record with two
    entries, +hours for the provider and -hours for the receiver, so the
    ledger always sums to zero. A town's balance is what it gave minus what
    it received. The broker holds the authoritative ledger; nodes keep
    replicas that copy the broker's records one by one.

    What both towns sign (the completion statement) and the record the
    ledger keeps of it are br_ledger_record's; this class stores the
    records and keeps their chain, the transfer index and the balances.

    Four databases in the given LMDB environment:

        ledger            sequence (8)     -> record
        ledger-balance    node id (bytes)  -> balance (8, signed), given - received
        ledger-transfer   transfer id (16) -> sequence (8) of its record
        ledger-meta       "head"           -> sequence (8) + hash (32) of the last record

    A record (br_ledger_record.h) is a br_chain record of format 1.
    `prev` is the previous record's hash (zeros for record 1). Sequences
    start at 1 and have no gaps. Appending writes the record, the transfer
    index, both balances and the head in one write transaction; the head is
    read from that transaction each time, never cached, so an aborted
    transaction leaves nothing behind.

    Revocation and keys: a new completion is refused if either town is
    revoked or is not a town; records already in the ledger stay valid when
    a town is revoked later, so verification and replication check only that
    both towns are in the roster and that their current signing keys verify
    the signatures. A town whose signing key changes makes its older records
    fail verification against the new roster.

    The chain is not keyed: who can write the LMDB file can recompute the
    hashes, but cannot forge the towns' signatures; a change to hours, towns
    or ids fails verification even with every hash recomputed.
    =========================================================================
*/

#ifndef BR_LEDGER_H_INCLUDED
#define BR_LEDGER_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"
#include "br_ledger_record.h"
#include "br_store.h"

//  How far a completion time may lie ahead of the appender's clock.
#define BR_LEDGER_CLOCK_SKEW_MS (5 * 60 * 1000)
//  The ledger's databases in its LMDB environment (layout above).
#define BR_LEDGER_DB_RECORDS   "ledger"
#define BR_LEDGER_DB_BALANCES  "ledger-balance"
#define BR_LEDGER_DB_TRANSFERS "ledger-transfer"
#define BR_LEDGER_DB_META      "ledger-meta"
//  Size of a stored balance: a signed 64-bit integer, big-endian.
#define BR_LEDGER_BALANCE_SIZE 8

//  What br_ledger_verify reports, besides br_chain's problems (BR_CHAIN_*)
//  and the entries' (BR_LEDGER_PROBLEM_UNBALANCED, _ENTRIES).
#define BR_LEDGER_PROBLEM_UNKNOWN   "town not in the roster"
#define BR_LEDGER_PROBLEM_SIGNATURE "signature invalid"
#define BR_LEDGER_PROBLEM_REPEATED  "transfer id repeated"
#define BR_LEDGER_PROBLEM_INDEX     "transfer index does not match the records"
#define BR_LEDGER_PROBLEM_BALANCE   "balance does not match the records"

//  Called for each record read; `record` (and its bytes) is valid during
//  the call only.
typedef void (br_ledger_record_fn) (void *argument, const br_ledger_record_t *record);

//  Called for each town's balance.
typedef void (br_ledger_balance_fn) (void *argument, const char *node_id, int64_t balance);

typedef struct _br_ledger_t br_ledger_t;

//  Opens (creating) the ledger's databases in `store`, which stays the
//  caller's and must outlive the ledger. Call it with no write transaction
//  open. Returns the ledger, or NULL and sets *reason (a store reason).
br_ledger_t *br_ledger_new (br_store_t *store, br_reason_t *reason);

//  Closes the ledger (not the store) and nulls the pointer. Safe to call twice.
void br_ledger_destroy (br_ledger_t **self_p);

//  Appends a completion signed by both towns, inside the caller's write
//  transaction `txn`, or in its own (committed) if `txn` is NULL. A missing
//  signature may be passed as NULL. In this order it refuses: an invalid
//  completion, the same town on both sides included (MALFORMED); a
//  completion time after `now_ms` + BR_LEDGER_CLOCK_SKEW_MS (TOO_EARLY);
//  a provider or receiver not in `roster` (UNKNOWN_NODE), revoked
//  (NODE_REVOKED) or not a town (FORBIDDEN); a signature that is missing or
//  not that town's over the statement (BAD_SIGNATURE); a transfer id
//  already in the ledger (REPLAYED). Then appends one record with its two
//  entries, recorded at `now_ms`, and updates both balances. Returns OK and
//  sets *sequence (if not NULL) to the new record's sequence. On REPLAYED,
//  *sequence is the earlier record's sequence if it holds this very
//  completion (a harmless repeat), else 0. AUDIT_BROKEN if the stored chain
//  is damaged, or a store reason. On failure in the caller's transaction,
//  nothing was written and the caller may go on using it.
br_reason_t br_ledger_append (br_ledger_t *self, MDB_txn *txn,
                              const br_ledger_completion_t *completion,
                              const uint8_t *provider_signature, const uint8_t *receiver_signature,
                              br_roster_t *roster, int64_t now_ms, uint64_t *sequence) BR_WUR;

//  Appends a record copied from another ledger (a replica catching up with
//  the broker's), inside `txn` or its own if `txn` is NULL. Accepts it only
//  if it is well-formed with a correct hash and balanced entries that match
//  its completion (else MALFORMED), continues our chain (its sequence is
//  our head's + 1, else INVALID_STATE if it lies ahead; its prev is our
//  head's hash, else AUDIT_BROKEN: the chains have forked), both towns are
//  in `roster` (UNKNOWN_NODE) and their signatures hold (BAD_SIGNATURE),
//  and its transfer id is new (else AUDIT_BROKEN: the ledgers differ). A
//  record we already hold, byte for byte, is REPLAYED, and only that; a
//  different record at a sequence we hold is AUDIT_BROKEN. Revocation is not checked (see above).
//  Returns OK or the reason; on failure nothing was written.
br_reason_t br_ledger_append_record (br_ledger_t *self, MDB_txn *txn, const uint8_t *data,
                                     size_t size, br_roster_t *roster) BR_WUR;

//  Reads the chain head: the last record's sequence (0 if none) and hash
//  (zeros if none). Returns OK, AUDIT_BROKEN if the head is malformed, or a
//  store reason.
br_reason_t br_ledger_head (br_ledger_t *self, uint64_t *sequence,
                            uint8_t hash[BR_LEDGER_HASH_SIZE]) BR_WUR;

//  Calls `record` for each record from sequence `after` + 1 on, oldest
//  first, at most `max` of them, in its own read transaction. Does not
//  verify signatures or the chain; stops at a record that does not decode.
//  Returns how many it read.
size_t br_ledger_read (br_ledger_t *self, uint64_t after, size_t max, br_ledger_record_fn *record,
                       void *argument);

//  Reads a town's balance (hours given minus hours received; 0 for a town
//  with no records). Returns OK, AUDIT_BROKEN if the stored balance is
//  malformed, or a store reason.
br_reason_t br_ledger_balance (br_ledger_t *self, const char *node_id, int64_t *balance) BR_WUR;

//  Calls `balance` for each town with a stored balance, in node id order.
//  Returns how many it read.
size_t br_ledger_balances (br_ledger_t *self, br_ledger_balance_fn *balance, void *argument);

//  Sums all stored balances, i.e. all entries of the ledger, into *total;
//  it is 0 unless the store was tampered with. Returns OK, AUDIT_BROKEN if
//  a balance is malformed, or a store reason.
br_reason_t br_ledger_total (br_ledger_t *self, int64_t *total) BR_WUR;

//  Walks the whole ledger in its own read transaction and checks: every key
//  and sequence in place, every hash, every prev link, every record's
//  entries summing to zero and matching its completion, both signatures
//  against `roster`, the transfer index, the head, and that the balances
//  recomputed from the records equal the stored ones. Returns OK with
//  *checked set to the number of records verified; or AUDIT_BROKEN with
//  *first_bad set to the sequence where it breaks (the last record's for a
//  head, index or balance that does not match) and *problem to a static
//  English description ("record edited", "record missing", "signature
//  invalid", ...: one of BR_CHAIN_* and BR_LEDGER_PROBLEM_*); or a store
//  reason. *first_bad is 0 and *problem NULL unless broken.
br_reason_t br_ledger_verify (br_ledger_t *self, br_roster_t *roster, uint64_t *checked,
                              uint64_t *first_bad, const char **problem) BR_WUR;

//  Self test of this class: a short tour of its API.
void br_ledger_test (bool verbose);

//  The scenario and property tests, tests/unit/br_ledger_test.c: appends,
//  refusals, replication, tampering and random completions against a model.
void br_ledger_scenario_test (bool verbose);

#endif
