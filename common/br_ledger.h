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

    The completion statement is what both towns sign, byte for byte. It has
    exactly one encoding (all integers big-endian, no padding):

        "bruecke-ledger-v1"           17 bytes, ASCII, no NUL (domain separation)
        transfer id                   16 bytes, not all zero
        provider id length (1)        1..BR_NODE_ID_MAX, then the node id
        receiver id length (1)        1..BR_NODE_ID_MAX, then the node id
        topic length (1)              1..BR_LEDGER_TOPIC_MAX, then the topic code
        hours (8)                     signed, 1..BR_LEDGER_HOURS_MAX
        completed_ms (8)              signed, Unix milliseconds, > 0

    Node ids and topic codes are tokens ([a-z0-9-], br_token_valid); the
    provider and the receiver differ. Each signature is a detached Ed25519
    signature over exactly these bytes, with the town's roster signing key.

    Four databases in the given LMDB environment:

        ledger            sequence (8)     -> record
        ledger-balance    node id (bytes)  -> balance (8, signed), given - received
        ledger-transfer   transfer id (16) -> sequence (8) of its record
        ledger-meta       "head"           -> sequence (8) + hash (32) of the last record

    A record (format 1):

        format (1) | sequence (8) | recorded_ms (8) | prev (32)
        | statement length (2) + statement
        | entry count (1) = 2
        | provider id length (1) + id | amount (8, signed) = +hours
        | receiver id length (1) + id | amount (8, signed) = -hours
        | provider signature (64) | receiver signature (64)
        | hash (32) = BLAKE2b-256 (everything before it)

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
#include "br_util.h"
#include "br_identity.h"
#include "br_roster.h"
#include "br_store.h"

//  The domain-separation prefix of a completion statement, without a NUL.
#define BR_LEDGER_DOMAIN      "bruecke-ledger-v1"
#define BR_LEDGER_DOMAIN_SIZE (sizeof (BR_LEDGER_DOMAIN) - 1)
//  A transfer id: 16 bytes, as the agreement flow assigns them.
#define BR_LEDGER_TRANSFER_ID_SIZE 16
//  Longest topic code, a token such as "fruehe-hilfen".
#define BR_LEDGER_TOPIC_MAX 48
//  Most coaching hours one completion may credit.
#define BR_LEDGER_HOURS_MAX 1000
//  How far a completion time may lie ahead of the appender's clock.
#define BR_LEDGER_CLOCK_SKEW_MS (5 * 60 * 1000)
//  Entries per record: one for the provider, one for the receiver.
#define BR_LEDGER_ENTRY_COUNT 2
//  Size of a record's hash and of the chain head's hash.
#define BR_LEDGER_HASH_SIZE 32
//  Largest completion statement.
#define BR_LEDGER_STATEMENT_MAX                                                                    \
    (BR_LEDGER_DOMAIN_SIZE + BR_LEDGER_TRANSFER_ID_SIZE + 3 + 2 * BR_NODE_ID_MAX +                 \
     BR_LEDGER_TOPIC_MAX + 8 + 8)
//  Largest record.
#define BR_LEDGER_RECORD_MAX                                                                       \
    (1 + 8 + 8 + BR_LEDGER_HASH_SIZE + 2 + BR_LEDGER_STATEMENT_MAX + 1 +                           \
     BR_LEDGER_ENTRY_COUNT * (1 + BR_NODE_ID_MAX + 8) + 2 * BR_SIGNATURE_SIZE +                    \
     BR_LEDGER_HASH_SIZE)

//  What both towns sign: one completed transfer. Strings are NUL-terminated.
typedef struct {
    uint8_t transfer_id[BR_LEDGER_TRANSFER_ID_SIZE]; //  the agreement's id
    char provider[BR_NODE_ID_MAX + 1];               //  node id of the town that coached
    char receiver[BR_NODE_ID_MAX + 1];               //  node id of the town that was coached
    char topic[BR_LEDGER_TOPIC_MAX + 1];             //  topic code of the coaching
    int64_t hours;                                   //  coaching hours, 1..BR_LEDGER_HOURS_MAX
    int64_t completed_ms;                            //  when it was completed, Unix milliseconds
} br_ledger_completion_t;

//  One entry of a record: a town's share of a transfer.
typedef struct {
    char node_id[BR_NODE_ID_MAX + 1]; //  the town
    int64_t amount;                   //  hours: positive given, negative received
} br_ledger_entry_t;

//  One record, as read back.
typedef struct {
    uint64_t sequence;                                //  its place in the chain, from 1
    int64_t recorded_ms;                              //  when the ledger took it, Unix ms
    br_ledger_completion_t completion;                //  the signed completion
    br_ledger_entry_t entries[BR_LEDGER_ENTRY_COUNT]; //  provider's, then receiver's
    uint8_t provider_signature[BR_SIGNATURE_SIZE];    //  the provider's signature
    uint8_t receiver_signature[BR_SIGNATURE_SIZE];    //  the receiver's signature
    uint8_t prev[BR_LEDGER_HASH_SIZE];                //  the hash of the record before
    uint8_t hash[BR_LEDGER_HASH_SIZE];                //  its own hash
    const uint8_t *data;                              //  its exact bytes, for replication
    size_t size;                                      //  their size
} br_ledger_record_t;

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

//  Checks a completion's fields: a transfer id not all zero, provider and
//  receiver valid and different node ids, a valid topic code, hours in
//  1..BR_LEDGER_HOURS_MAX, a positive completion time. Returns OK or MALFORMED.
br_reason_t br_ledger_completion_check (const br_ledger_completion_t *completion) BR_WUR;

//  Writes the completion statement (layout above) into `statement` and its
//  size into *size. Returns OK, or MALFORMED if the completion is not valid.
br_reason_t br_ledger_statement (const br_ledger_completion_t *completion,
                                 uint8_t statement[BR_LEDGER_STATEMENT_MAX], size_t *size) BR_WUR;

//  Decodes a completion statement, e.g. one a town is asked to sign.
//  Accepts only the one encoding br_ledger_statement makes of a valid
//  completion. Returns OK, or MALFORMED.
br_reason_t br_ledger_statement_decode (const uint8_t *data, size_t size,
                                        br_ledger_completion_t *completion) BR_WUR;

//  Signs the completion's statement with `identity`, which must hold its
//  secret keys. Returns OK, or MALFORMED if the completion is not valid.
br_reason_t br_ledger_sign (br_identity_t *identity, const br_ledger_completion_t *completion,
                            uint8_t signature[BR_SIGNATURE_SIZE]) BR_WUR;

//  Fills `completion` with what an agreement's towns sign: its transfer id,
//  provider, receiver, topic and hours, at `completed_ms`. Does not check
//  it (br_ledger_completion_check does).
void br_ledger_completion_of (const Bruecke__Agreement *agreement, int64_t completed_ms,
                              br_ledger_completion_t *completion);

//  The name of a transfer agreement's state (AgreementState on the wire):
//  "proposed", "accepted", "scheduled", "completed", "cancelled"; "unknown"
//  for anything else. Static.
const char *br_ledger_state_name (int state);

//  Checks that `signature` is town `node_id`'s over the completion's
//  statement, with its signing key in `roster`. Returns OK, MALFORMED (the
//  completion is not valid), UNKNOWN_NODE or BAD_SIGNATURE.
br_reason_t br_ledger_signature_check (const br_ledger_completion_t *completion,
                                       const char *node_id,
                                       const uint8_t signature[BR_SIGNATURE_SIZE],
                                       br_roster_t *roster) BR_WUR;

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

//  Decodes a record's bytes into *record, whose `data` then points into
//  `data`. Checks its layout, its hash and that its entries match its
//  completion; not its signatures or its place in a chain. Returns OK or
//  MALFORMED.
br_reason_t br_ledger_record_decode (const uint8_t *data, size_t size,
                                     br_ledger_record_t *record) BR_WUR;

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
//  invalid", ...); or a store reason. *first_bad is 0 and *problem NULL
//  unless broken.
br_reason_t br_ledger_verify (br_ledger_t *self, br_roster_t *roster, uint64_t *checked,
                              uint64_t *first_bad, const char **problem) BR_WUR;

//  Self test of this class.
void br_ledger_test (bool verbose);

#endif
