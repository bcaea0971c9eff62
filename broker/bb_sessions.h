/*  =========================================================================
    bb_sessions - the broker's sessions with the nodes

    One session per node that has said something: its current connection
    (set by HELLO, dropped when it goes silent, is revoked or cannot be
    reached), the credit it granted, the cursor of what was delivered to it
    from its queue, and what the broker saw of it (last contact, clock
    offset). Delivery sends a session as many queued messages as its credit
    allows (PROTOCOL.md 9); a node delivered to that answers nothing for
    redeliver_ms is given all unanswered again. A node heard without a
    session is asked for HELLO, at most every BB_SESSIONS_HELLO_ASK_MS.
    Times named _clock are br_clock_ms (monotonic, for timers); those named
    _ms are wall-clock Unix milliseconds (for display).
    =========================================================================
*/

#ifndef BB_SESSIONS_H_INCLUDED
#define BB_SESSIONS_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"
#include "bb_sender.h"
#include "bb_store.h"

#define BB_SESSIONS_HELLO_ASK_MS 1000 //  ask a node without session for HELLO at most this often

//  A node's session. The broker reads and sets its fields; the functions
//  below keep the connection, the credit and the cursor.
typedef struct {
    char node_id[BR_NODE_ID_MAX + 1]; //  the node
    zframe_t *routing_id;             //  its current connection, NULL if offline
    int64_t last_seen_ms;             //  last message from it, 0 = never
    int64_t last_seen_clock;          //  the same, for the offline timer
    uint32_t credit;                  //  deliveries it will take now
    uint64_t cursor;                  //  arrival counter of the last delivery
    bool touched;                     //  has new messages since the last delivery run
    int64_t last_answer_clock;        //  last stored answer from it, or its HELLO
    int64_t last_redelivery_clock;    //  when unanswered deliveries were last sent again
    uint64_t held_sequence;           //  its earliest content refused for a retry reason,
                                      //  0 = none; later content waits until it is stored
    int64_t last_sync_clock;          //  when it last asked for the exchange's updates, 0 = not
                                      //  on this connection
    int64_t hello_asked_clock;        //  when it was last asked for HELLO, 0 = never
    int64_t clock_offset_ms;          //  its wall clock minus ours, from its last session message
    bool clock_known;                 //  whether clock_offset_ms was measured
} bb_session_t;

typedef struct _bb_sessions_t bb_sessions_t;

//  The sessions, delivering with `sender` from the queues of `store` (both
//  the caller's, outliving them).
bb_sessions_t *bb_sessions_new (bb_sender_t *sender, bb_store_t *store);

//  Frees every session and nulls the pointer. Safe to call twice.
void bb_sessions_destroy (bb_sessions_t **self_p);

//  The session of `node_id`, made (offline) if there is none yet.
bb_session_t *bb_sessions_get (bb_sessions_t *self, const char *node_id);

//  The session of `node_id`, or NULL.
bb_session_t *bb_sessions_lookup (bb_sessions_t *self, const char *node_id);

//  Iterates over the sessions: the first, then the next, NULL after the last.
bb_session_t *bb_sessions_first (bb_sessions_t *self);
bb_session_t *bb_sessions_next (bb_sessions_t *self);

//  A HELLO on connection `routing_id` (copied) granting `credit`: the
//  session is online there, delivers from its oldest unconfirmed message,
//  and answers its first EXCHANGE_SYNC.
void bb_sessions_start (bb_sessions_t *self, bb_session_t *session, zframe_t *routing_id,
                        uint32_t credit);

//  The node was heard on `routing_id` at `received_ms` with `header`: it
//  is seen, its clock read from a session message, and, if it has no
//  session here, asked for HELLO.
void bb_sessions_seen (bb_sessions_t *self, bb_session_t *session, zframe_t *routing_id,
                       int64_t received_ms, const Bruecke__Header *header);

//  Per-sender order survives a refusal for a retry reason: a later message
//  of the same sender could fit where the refused one did not. Until the
//  refused message is stored (or finally refused), the sender's later
//  content is held back (the broker refuses it BUSY; it comes again after).
//  True if `header`'s message must wait; the refused one coming back
//  releases the hold.
bool bb_sessions_held_back (bb_session_t *session, const Bruecke__Header *header);

//  The sender's message `header` was refused for `reason` before it was
//  stored: for a retry reason (say CLOCK_SKEW) its later content is held
//  back until it comes again; refused for good (say, expired), a held
//  message releases the hold.
void bb_sessions_hold (bb_session_t *session, const Bruecke__Header *header, br_reason_t reason);

//  Drops the session's connection (logged with `why`) and its credit.
void bb_sessions_offline (bb_session_t *session, const char *why);

//  Sends the session as many queued messages as its credit allows; a send
//  that fails puts it offline.
void bb_sessions_deliver (bb_sessions_t *self, bb_session_t *session);

//  Delivers to every session marked touched.
void bb_sessions_deliver_touched (bb_sessions_t *self);

//  The heartbeat round at `now` (br_clock_ms): a session silent for more
//  than `offline_ms` goes offline; the others get a HEARTBEAT, and one
//  delivered to without an answer for `redeliver_ms` gets all unanswered
//  again.
void bb_sessions_heartbeat (bb_sessions_t *self, int64_t now, int64_t offline_ms,
                            int64_t redeliver_ms);

//  Self test of this class.
void bb_sessions_test (bool verbose);

#endif
