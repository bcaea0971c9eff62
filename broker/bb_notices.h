/*  =========================================================================
    bb_notices - the broker's own queued messages, and consent withdrawals

    What the broker itself puts into a town's queue, delivered like any
    other message: agreements of the Transferbörse, and DEAD_LETTER notices
    telling a sender that its message will never reach its recipient (it
    expired, or the consent it rests on was withdrawn). Expired messages
    move to the dead letters with a notice each. A CONSENT_WITHDRAWAL
    passing through is recorded, and what is still queued for its recipient
    under that consent is dropped with a notice to each sender
    (PROTOCOL.md 8). Everything happens inside the caller's transaction.
    =========================================================================
*/

#ifndef BB_NOTICES_H_INCLUDED
#define BB_NOTICES_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"
#include "br_roster.h"
#include "bb_sender.h"
#include "bb_sessions.h"
#include "bb_store.h"
#include "bb_verifier.h"

#define BB_NOTICES_LIFETIME_MS (7LL * 24 * 3600 * 1000) //  dead-letter notices live a week

typedef struct _bb_notices_t bb_notices_t;

//  The broker's notices, built by `sender`, queued in `store`, marking the
//  recipient's session in `sessions` for delivery (all the caller's,
//  outliving it).
bb_notices_t *bb_notices_new (bb_sender_t *sender, bb_store_t *store, bb_sessions_t *sessions);

//  Frees it and nulls the pointer. Safe to call twice.
void bb_notices_destroy (bb_notices_t **self_p);

//  Queues one of the broker's own messages of `type` with `body` for
//  `recipient`, living `lifetime_ms`, inside `txn`. Returns OK or a store
//  reason.
br_reason_t bb_notices_queue (bb_notices_t *self, MDB_txn *txn, Bruecke__MessageType type,
                              const char *recipient, const ProtobufCMessage *body,
                              int64_t lifetime_ms) BR_WUR;

//  Queues each agreement in `agreements` (zchunk_t *, encoded
//  Bruecke__Agreement, as the exchange left them) to both of its towns,
//  then empties the list. Returns OK or a store reason.
br_reason_t bb_notices_agreements (bb_notices_t *self, MDB_txn *txn, zlistx_t *agreements) BR_WUR;

//  Queues a DEAD_LETTER to `sender` about its message `message_id`, which
//  `recipient` will never get, for `reason`; nothing for a notice about a
//  notice (`sender` is the broker) or to a node not in `roster`. Returns OK
//  or a store reason.
br_reason_t bb_notices_dead_letter (bb_notices_t *self, MDB_txn *txn, br_roster_t *roster,
                                    const char *sender, const uint8_t *message_id,
                                    const char *recipient, br_reason_t reason) BR_WUR;

//  Moves what expired by `now_ms` to the dead letters and queues a
//  DEAD_LETTER (EXPIRED) to each sender in `roster`, inside `txn`. Returns
//  OK or a store reason.
br_reason_t bb_notices_expire (bb_notices_t *self, MDB_txn *txn, br_roster_t *roster,
                               int64_t now_ms) BR_WUR;

//  True if `attestation` rests on a consent withdrawn for the sender or the
//  recipient of `header`.
bool bb_notices_withdrawn (bb_notices_t *self, MDB_txn *txn, const Bruecke__Header *header,
                           const Bruecke__Attestation *attestation);

//  Applies the CONSENT_WITHDRAWAL `job` passing through: records it, drops
//  what is still queued for its recipient under that consent and queues a
//  DEAD_LETTER (CONSENT_WITHDRAWN) to each sender. A malformed body sets
//  job->reason (MALFORMED). Returns OK or a store reason.
br_reason_t bb_notices_withdraw (bb_notices_t *self, MDB_txn *txn, br_roster_t *roster,
                                 bb_job_t *job) BR_WUR;

//  Self test of this class.
void bb_notices_test (bool verbose);

#endif
