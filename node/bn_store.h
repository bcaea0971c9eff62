/*  =========================================================================
    bn_store - a town node's durable message state: outbox, sent, inbox

    One LMDB environment (br_store) with these databases:

        outbox    sequence                    -> envelope bytes, until the broker
                                                 has durably accepted the message
        local     sequence                    -> envelope bytes from one office of
                                                 this node to another, until applied
        sent      message id                  -> bn_sent_t: what became of it
        inbox     arrival counter             -> received time + envelope bytes
                                                 (bodies stay sealed: at rest too)
        applied   sender (padded) + message id -> expiry + arrival counter
        meta      "sequence" / "inbox"        -> next counters

    Applying a delivered message stores it and records its id in the same
    transaction, so a redelivered message is applied once, across restarts.
    The caller owns the write transaction and so decides how many changes
    share one durable commit.
    =========================================================================
*/

#ifndef BN_STORE_H_INCLUDED
#define BN_STORE_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"
#include "br_store.h"
#include "br_util.h"

//  What became of a message this node sent.
typedef enum {
    BN_SENT_QUEUED = 1,    //  in the outbox, not yet accepted by the broker
    BN_SENT_ACCEPTED = 2,  //  durably stored by the broker
    BN_SENT_RECEIPTED = 3, //  durably stored by the recipient
    BN_SENT_REFUSED = 4,   //  refused by the broker or the recipient
    BN_SENT_DEAD = 5,      //  expired undelivered
} bn_sent_state_t;

typedef struct {
    uint64_t sequence;                  //  its sequence number
    uint8_t state;                      //  a bn_sent_state_t
    uint8_t type;                       //  its message type
    int32_t reason;                     //  the refusal's reason code, if refused
    int64_t updated_ms;                 //  when the state last changed
    char recipient[BR_NODE_ID_MAX + 1]; //  whom it was for
} bn_sent_t;

//  Result of applying a delivered message.
typedef enum {
    BN_APPLIED,   //  stored now
    BN_DUPLICATE, //  stored before: receipt again, apply nothing
} bn_apply_t;

typedef struct _bn_store_t bn_store_t;

//  Called for each outbox entry read.
typedef void (bn_outbox_fn) (void *argument, uint64_t sequence, const uint8_t *data, size_t size);
//  Called for each inbox entry read.
typedef void (bn_inbox_fn) (void *argument, uint64_t counter, int64_t received_ms,
                            const uint8_t *data, size_t size);
//  Called for each sent record read.
typedef void (bn_sent_fn) (void *argument, const uint8_t *message_id, const bn_sent_t *sent);

//  Opens the node store in directory `path`. NULL and *reason on failure.
bn_store_t *bn_store_new (const char *path, size_t mapsize, br_reason_t *reason);

//  Closes the store and nulls the pointer. Safe to call twice.
void bn_store_destroy (bn_store_t **self_p);

//  Begins a write transaction.
br_reason_t bn_store_begin (bn_store_t *self, MDB_txn **txn_p) BR_WUR;

//  Commits durably (OK only once on disk) or reports why not.
br_reason_t bn_store_commit (bn_store_t *self, MDB_txn **txn_p) BR_WUR;

//  Aborts; counters taken in the transaction are given back.
void bn_store_abort (bn_store_t *self, MDB_txn **txn_p);

//  Takes the next sequence number for an outgoing message (in the open
//  transaction; it is only used up if the transaction commits).
uint64_t bn_store_next_sequence (bn_store_t *self);

//  Puts a signed envelope into the outbox under `sequence` and records it
//  as sent-but-queued.
br_reason_t bn_store_outbox_add (bn_store_t *self, MDB_txn *txn, const Bruecke__Header *header,
                                 const uint8_t *data, size_t size) BR_WUR;

//  Puts a signed envelope addressed to this node itself (from one of its
//  offices to another) into the local queue under its sequence, and
//  records it as sent-but-queued. It never goes to the broker: the node
//  applies it from the queue (bn_store_local_first) in a later transaction.
br_reason_t bn_store_local_add (bn_store_t *self, MDB_txn *txn, const Bruecke__Header *header,
                                const uint8_t *data, size_t size) BR_WUR;

//  The oldest envelope in the local queue and its sequence, read in `txn`
//  (the bytes are valid until it ends or changes the queue). Returns OK,
//  NOT_FOUND (empty) or a store reason. Recording the message's outcome
//  (bn_store_sent_update) takes it out of the queue.
br_reason_t bn_store_local_first (bn_store_t *self, MDB_txn *txn, uint64_t *sequence,
                                  const uint8_t **data, size_t *size) BR_WUR;

//  Takes the entry `sequence` out of the local queue without an outcome:
//  for bytes that are no message. OK if it is not there.
br_reason_t bn_store_local_drop (bn_store_t *self, MDB_txn *txn, uint64_t sequence) BR_WUR;

//  Records a new state for a message this node sent; a state other than
//  QUEUED also removes it from the outbox or the local queue. States move forward only
//  (QUEUED, ACCEPTED, RECEIPTED, REFUSED, DEAD), except that RECEIPTED
//  replaces DEAD and is never replaced by it: the recipient stored what the
//  broker gave up on its way. Unknown ids are ignored (OK).
br_reason_t bn_store_sent_update (bn_store_t *self, MDB_txn *txn, const uint8_t *message_id,
                                  bn_sent_state_t state, br_reason_t reason, int64_t now_ms) BR_WUR;

//  Reads up to `max` outbox entries with a sequence above `after`, oldest
//  first. Returns how many it read.
size_t bn_store_outbox_read (bn_store_t *self, uint64_t after, size_t max, bn_outbox_fn *entry,
                             void *argument);

//  Applies a verified delivered envelope: stores it in the inbox and
//  records (sender, id) until its expiry. Returns OK and sets *result, or a
//  store reason.
br_reason_t bn_store_apply (bn_store_t *self, MDB_txn *txn, const Bruecke__Header *header,
                            const uint8_t *data, size_t size, int64_t now_ms,
                            bn_apply_t *result) BR_WUR;

//  True if the delivered message `header` names was applied before.
bool bn_store_seen (bn_store_t *self, MDB_txn *txn, const Bruecke__Header *header);

//  The LMDB environment, for classes that keep their own databases in it.
br_store_t *bn_store_env (bn_store_t *self);

//  Forgets applied ids whose expiry plus the clock skew has passed.
br_reason_t bn_store_purge (bn_store_t *self, MDB_txn *txn, int64_t now_ms) BR_WUR;

//  Reads the inbox, oldest first.
void bn_store_inbox_read (bn_store_t *self, bn_inbox_fn *entry, void *argument);

//  Reads the last `max` inbox entries, newest first. Returns how many.
size_t bn_store_inbox_read_last (bn_store_t *self, size_t max, bn_inbox_fn *entry, void *argument);

//  Reads every sent record.
void bn_store_sent_read (bn_store_t *self, bn_sent_fn *entry, void *argument);

//  Looks up one sent record. Returns OK or NOT_FOUND.
br_reason_t bn_store_sent_get (bn_store_t *self, const uint8_t *message_id, bn_sent_t *sent) BR_WUR;

//  Entries in the outbox, the inbox and the local queue.
size_t bn_store_outbox_count (bn_store_t *self);
size_t bn_store_inbox_count (bn_store_t *self);
size_t bn_store_local_count (bn_store_t *self);

//  The state's name: "queued", "accepted", "receipted", "refused", "dead".
const char *bn_sent_state_name (int state);

//  Self test of this class.
void bn_store_test (bool verbose);

#endif
