/*  =========================================================================
    bb_store - the broker's durable state: queues, message ids, dead letters, log

    One LMDB environment (br_store) with these databases:

        queue     recipient (padded) + arrival counter  -> envelope bytes
        ids       sender (padded) + message id         -> bb_record_t
        expiry    expires_at + arrival counter          -> sender + message id
        dead      arrival counter                       -> envelope bytes
        log       log counter                           -> one metadata line
        meta      "counter" / "log" / "own"             -> next counters, the broker's
                                                   own last sequence number
        withdrawn consent id + node                     -> withdrawal time

    Every change happens inside a write transaction the caller opens with
    bb_store_begin and ends with bb_store_commit or bb_store_abort, so the
    caller decides how many messages share one durable commit (group
    commit). Queue depths are kept in memory and change only when a commit
    succeeds.

    Nothing here looks inside a body: the broker stores sealed bytes.
    =========================================================================
*/

#ifndef BB_STORE_H_INCLUDED
#define BB_STORE_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"
#include "br_store.h"
#include "br_util.h"
#include "br_envelope.h"

//  States of a message the broker has accepted.
typedef enum {
    BB_STATE_QUEUED = 1, //  waiting for the recipient's receipt
    BB_STATE_DONE = 2,   //  the recipient confirmed it
    BB_STATE_DEAD = 3,   //  expired undelivered, moved to the dead letters
} bb_state_t;

//  What the broker remembers of an accepted message id.
typedef struct {
    uint64_t counter;                   //  arrival counter, its queue position
    int64_t expires_at_ms;              //  the message's expiry
    uint8_t hash[BR_DIGEST_SIZE];       //  digest of its envelope bytes
    uint8_t state;                      //  a bb_state_t
    uint8_t type;                       //  its message type
    char recipient[BR_NODE_ID_MAX + 1]; //  the node it is queued for
} bb_record_t;

//  Result of looking up an incoming message id.
typedef enum {
    BB_ID_NEW,       //  never seen
    BB_ID_DUPLICATE, //  seen with the same bytes: a retransmission
    BB_ID_CONFLICT,  //  seen with other bytes: a replayed id
} bb_id_status_t;

typedef struct _bb_store_t bb_store_t;

//  Called for each message that expired undelivered.
typedef void (bb_expired_fn) (void *argument, const char *sender, const uint8_t *message_id,
                              const bb_record_t *record);

//  Called for each queued message read for delivery.
typedef void (bb_queued_fn) (void *argument, uint64_t counter, const uint8_t *data, size_t size);

//  Opens the broker store in directory `path`. Returns NULL and *reason on failure.
bb_store_t *bb_store_new (const char *path, size_t mapsize, br_reason_t *reason);

//  Closes the store and nulls the pointer. Safe to call twice.
void bb_store_destroy (bb_store_t **self_p);

//  Begins the write transaction for one group commit.
br_reason_t bb_store_begin (bb_store_t *self, MDB_txn **txn_p) BR_WUR;

//  Commits durably; returns OK only after the data is on disk. Applies the
//  transaction's queue depth changes on success, drops them on failure.
br_reason_t bb_store_commit (bb_store_t *self, MDB_txn **txn_p) BR_WUR;

//  Aborts the transaction and drops its queue depth changes.
void bb_store_abort (bb_store_t *self, MDB_txn **txn_p);

//  Looks up (sender, id): new, a retransmission of the same bytes, or a
//  replay of the id with other bytes. Fills *record if found and record
//  is not NULL.
bb_id_status_t bb_store_check_id (bb_store_t *self, MDB_txn *txn, const char *sender,
                                  const uint8_t *id, const uint8_t hash[BR_DIGEST_SIZE],
                                  bb_record_t *record);

//  Queues the verified envelope `data` for header->recipient and records
//  its id. Returns OK, STORE_FULL or STORE_FAILED; then abort.
br_reason_t bb_store_enqueue (bb_store_t *self, MDB_txn *txn, const Bruecke__Header *header,
                              const uint8_t *data, size_t size,
                              const uint8_t hash[BR_DIGEST_SIZE]) BR_WUR;

//  Records the id of a message the broker itself applied (no queue entry),
//  as done, so that a retransmission is a duplicate until the replay window
//  has passed. Returns OK or a store reason; then abort.
br_reason_t bb_store_record_done (bb_store_t *self, MDB_txn *txn, const Bruecke__Header *header,
                                  const uint8_t hash[BR_DIGEST_SIZE]) BR_WUR;

//  Takes the next sequence number for one of the broker's own messages.
//  Numbers only grow, also across restarts and clock steps: the last one
//  taken is written with every commit that stores something.
uint64_t bb_store_own_sequence (bb_store_t *self);

//  The LMDB environment, for the classes that keep their databases in it.
br_store_t *bb_store_env (bb_store_t *self);

//  What an answer about a message was news of.
typedef enum {
    BB_ANSWER_AGAIN,       //  answered before: nothing changes
    BB_ANSWER_FIRST,       //  it was queued: now it is done
    BB_ANSWER_AFTER_DEATH, //  it had been given up (expired, consent withdrawn)
                           //  while on its way, and reached its recipient all the
                           //  same: now it is done, no dead letter
} bb_answered_t;

//  Marks message (sender, id) answered by `recipient`: removes it from the
//  queue, or from the dead letters if it was given up while the recipient
//  already had it. Fills *record and *answered. Returns OK, NOT_FOUND for
//  an unknown id, FORBIDDEN if it was not queued for `recipient`.
br_reason_t bb_store_complete (bb_store_t *self, MDB_txn *txn, const char *recipient,
                               const char *sender, const uint8_t *id, bb_record_t *record,
                               bb_answered_t *answered) BR_WUR;

//  Moves queued messages whose expiry is before `now_ms` to the dead
//  letters, calling `expired` for each, and forgets ids whose replay window
//  (expiry + BR_CLOCK_SKEW_MS) has passed. Returns OK or a store reason.
br_reason_t bb_store_expire (bb_store_t *self, MDB_txn *txn, int64_t now_ms, bb_expired_fn *expired,
                             void *argument) BR_WUR;

//  Appends one metadata record to the message log: time, id, sender,
//  recipient, service, type and outcome (OK = stored, else the refusal's
//  reason). Never a payload.
br_reason_t bb_store_log (bb_store_t *self, MDB_txn *txn, const Bruecke__Header *header,
                          br_reason_t outcome, int64_t now_ms) BR_WUR;

//  Reads up to `max` queued messages for `recipient` with an arrival
//  counter above `after`, oldest first, calling `queued` for each, inside
//  `txn`, or in a read transaction of its own if `txn` is NULL. Returns how
//  many it read.
size_t bb_store_read_queue (bb_store_t *self, MDB_txn *txn, const char *recipient, uint64_t after,
                            size_t max, bb_queued_fn *queued, void *argument);

//  Moves the queued message (sender, id) to the dead letters, as if it had
//  expired, and fills *record. Returns OK, NOT_FOUND if it is not queued,
//  or a store reason.
br_reason_t bb_store_drop (bb_store_t *self, MDB_txn *txn, const char *sender, const uint8_t *id,
                           bb_record_t *record) BR_WUR;

//  Records that consent `consent_id` was withdrawn for node `node_id`.
br_reason_t bb_store_withdraw (bb_store_t *self, MDB_txn *txn, const uint8_t *consent_id,
                               const char *node_id, int64_t at_ms) BR_WUR;

//  True if consent `consent_id` was withdrawn for node `node_id`.
bool bb_store_withdrawn (bb_store_t *self, MDB_txn *txn, const uint8_t *consent_id,
                         const char *node_id);

//  Messages queued for `recipient`, as of the last commit.
size_t bb_store_depth (bb_store_t *self, const char *recipient);

//  Messages in the dead-letter store.
size_t bb_store_dead_count (bb_store_t *self);

//  Calls `line` for each metadata log record, formatted as a line, oldest
//  first (tests, audits).
void bb_store_read_log (bb_store_t *self, void (*line) (void *argument, const char *text),
                        void *argument);

//  Self test of this class.
void bb_store_test (bool verbose);

#endif
