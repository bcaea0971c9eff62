/*  =========================================================================
    bb_server - the county broker
    =========================================================================
*/

#include "bruecke.h"
#include "bb_server.h"
#include "bb_exchange.h"
#include "bb_dashboard.h"
#include "bb_figures.h"
#include "bb_intake.h"
#include "bb_notices.h"
#include "bb_sender.h"
#include "bb_sessions.h"
#include "bb_store.h"
#include "bb_sync.h"
#include "bb_verifier.h"
#include "bb_zap.h"

#define S_DETAIL_MAX 96

//  The broker's state; lives in the actor thread.
typedef struct {
    zsock_t *pipe;                              //  the actor pipe
    zsock_t *router;                            //  nodes connect here (CURVE server)
    bb_sender_t *sender;                        //  what goes out on it
    zsock_t *control;                           //  REP for status queries
    zactor_t *zap;                              //  the ZAP handler
    bb_intake_t *intake;                        //  the verifiers, results in arrival order
    size_t verifier_count;                      //  how many run
    br_identity_t *identity;                    //  the broker's keys
    uint8_t county_public[BR_SIGN_PUBLIC_SIZE]; //  the pinned county key
    char *roster_path;                          //  where the roster file is
    br_roster_t *roster;                        //  the roster in force
    bb_store_t *store;                          //  queues and ids
    bb_exchange_t *exchange;                    //  the Transferbörse
    bb_exchange_effects_t effects;              //  what the batch changed in it
    uint64_t board_sent;                        //  board changes sent to those online
    uint64_t ledger_sent;                       //  ledger records sent to those online
    bb_sessions_t *sessions;                    //  the nodes' sessions
    bb_notices_t *notices;                      //  the broker's own queued messages
    zlistx_t *batch;                            //  jobs for the next group commit
    int port;                                   //  bound TCP port
    int64_t heartbeat_ms;                       //  heartbeat interval
    int64_t offline_ms;                         //  silence after which a node is offline
    int64_t redeliver_ms;                       //  deliver again when unanswered this long
    int64_t scan_ms;                            //  expiry scan interval
    int64_t next_heartbeat;                     //  when to send heartbeats next (br_clock_ms)
    int64_t next_scan;         //  when to scan for expired messages next (the same)
    bool trace_commits;        //  log every group commit (BB_TRACE set)
    bb_figures_t *figures;     //  what the broker counts
    bb_dashboard_t *dashboard; //  the county dashboard, or NULL
    int64_t next_dashboard;    //  when to hand it the figures next (br_clock_ms)
} s_server_t;

//  ---- Refusals -------------------------------------------------------------

static void
s_refuse (s_server_t *self, bb_job_t *job)
{
    bb_figures_refused (self->figures, job->reason);
    const Bruecke__Header *header = job->envelope ? br_envelope_header (job->envelope) : NULL;
    Bruecke__Refusal refusal = BRUECKE__REFUSAL__INIT;
    if (header)
        refusal.message_id = header->message_id;
    refusal.reason = (Bruecke__ReasonCode) job->reason;
    char detail[S_DETAIL_MAX];
    snprintf (detail, sizeof (detail), "refused by the broker: %s", br_reason_name (job->reason));
    refusal.detail = detail;
    char id[2 * BR_MESSAGE_ID_SIZE + 1] = "-";
    if (header)
        br_hex_encode (header->message_id.data, header->message_id.len, id);
    zsys_info ("broker: refused %s from %s: %s", id, job->node_id, br_reason_name (job->reason));
    bb_sender_own (self->sender, job->routing_id, BRUECKE__MESSAGE_TYPE__TYPE_REFUSAL, job->node_id,
                   &refusal.base);
}

//  ---- Transferbörse -------------------------------------------------------

//  A town's message to the exchange: applied inside the batch's transaction,
//  its id kept so that a retransmission is acknowledged, not applied again.
static br_reason_t
s_exchange_take (s_server_t *self, MDB_txn *txn, bb_job_t *job)
{
    br_reason_t verdict, reason;
    if ((reason = bb_exchange_take (self->exchange, txn, job->envelope, self->roster,
                                    job->received_ms, &self->effects, &verdict)) != BR_REASON_OK)
        return reason;
    if (verdict == BR_REASON_OK &&
        (reason = bb_store_record_done (self->store, txn, br_envelope_header (job->envelope),
                                        job->digest)) != BR_REASON_OK)
        return reason;
    if ((reason = bb_notices_agreements (self->notices, txn, self->effects.agreements)) !=
        BR_REASON_OK)
        return reason;
    job->reason = verdict;
    return BR_REASON_OK;
}

//  To whom bb_sync sends.
typedef struct {
    s_server_t *server;    //  the broker
    bb_session_t *session; //  the town
} s_update_t;

//  bb_sync_send_fn: one update to the session's connection.
static bool
s_send_update (void *argument, Bruecke__MessageType type, const ProtobufCMessage *body)
{
    s_update_t *update = (s_update_t *) argument;
    return bb_sender_own (update->server->sender, update->session->routing_id, type,
                          update->session->node_id, body);
}

//  Sends a session what it has not had of the board and the ledger.
static void
s_send_updates (s_server_t *self, bb_session_t *session, uint64_t board_after, bool snapshot,
                uint64_t ledger_after)
{
    if (!session->routing_id)
        return;
    s_update_t update = {self, session};
    bb_sync_board (bb_exchange_board (self->exchange), board_after, snapshot, BB_SYNC_BUDGET,
                   s_send_update, &update);
    bb_sync_ledger (bb_exchange_ledger (self->exchange), ledger_after, BB_SYNC_BUDGET,
                    s_send_update, &update);
}

//  A node asks for what it missed of the board and the ledger. A node that
//  asks more often than BB_SYNC_INTERVAL_MS is ignored: the answer can be
//  the whole board.
static void
s_sync (s_server_t *self, bb_session_t *session, bb_job_t *job)
{
    int64_t now = br_clock_ms ();
    if (session->last_sync_clock && now - session->last_sync_clock < BB_SYNC_INTERVAL_MS)
        return;
    session->last_sync_clock = now;
    ProtobufCMessage *body = NULL;
    if (br_envelope_open_body (job->envelope, NULL, &bruecke__exchange_sync__descriptor, &body) !=
        BR_REASON_OK) {
        job->reason = BR_REASON_MALFORMED;
        s_refuse (self, job);
        return;
    }
    Bruecke__ExchangeSync *sync = (Bruecke__ExchangeSync *) body;
    s_send_updates (self, session, sync->board_sequence, sync->board_snapshot,
                    sync->ledger_sequence);
    br_proto_free (&body);
}

//  After a commit: sends the new board changes and ledger records to every
//  node online. Nodes offline catch up with EXCHANGE_SYNC.
static void
s_broadcast (s_server_t *self)
{
    uint64_t board_head = self->board_sent, ledger_head = self->ledger_sent;
    uint8_t hash[BR_LEDGER_HASH_SIZE];
    if (self->effects.board_changed &&
        br_board_head (bb_exchange_board (self->exchange), &board_head) != BR_REASON_OK)
        board_head = self->board_sent;
    if (self->effects.ledger_changed &&
        br_ledger_head (bb_exchange_ledger (self->exchange), &ledger_head, hash) != BR_REASON_OK)
        ledger_head = self->ledger_sent;
    self->effects.board_changed = self->effects.ledger_changed = false;
    if (board_head == self->board_sent && ledger_head == self->ledger_sent)
        return;
    for (bb_session_t *session = bb_sessions_first (self->sessions); session;
         session = bb_sessions_next (self->sessions))
        s_send_updates (self, session, self->board_sent, false, self->ledger_sent);
    self->board_sent = board_head;
    self->ledger_sent = ledger_head;
}

//  ---- The county dashboard --------------------------------------------------

//  ---- Group commit ---------------------------------------------------------

//  A recipient answered (receipt or refusal) a delivered message: remove it
//  from the queue and pass the answer on to its sender, unless the answered
//  message was itself an answer or a broker notice.
static br_reason_t
s_store_answer (s_server_t *self, MDB_txn *txn, bb_job_t *job, const uint8_t hash[BR_DIGEST_SIZE])
{
    const Bruecke__Header *header = br_envelope_header (job->envelope);
    ProtobufCMessage *body = NULL;
    const ProtobufCMessageDescriptor *descriptor =
        header->type == BRUECKE__MESSAGE_TYPE__TYPE_RECEIPT ? &bruecke__receipt__descriptor
                                                            : &bruecke__refusal__descriptor;
    br_reason_t reason = br_envelope_open_body (job->envelope, NULL, descriptor, &body);
    if (reason != BR_REASON_OK)
        return reason;
    const ProtobufCBinaryData *answered = header->type == BRUECKE__MESSAGE_TYPE__TYPE_RECEIPT
                                              ? &((Bruecke__Receipt *) body)->message_id
                                              : &((Bruecke__Refusal *) body)->message_id;
    bb_record_t record;
    bb_answered_t news = BB_ANSWER_AGAIN;
    if (answered->len != BR_MESSAGE_ID_SIZE)
        reason = BR_REASON_MALFORMED;
    else
        reason = bb_store_complete (self->store, txn, job->node_id, header->recipient,
                                    answered->data, &record, &news);
    br_proto_free (&body);
    //  Also an answer about a message given up while on its way (its sender
    //  has a DEAD_LETTER): the recipient's word is the truth, the sender hears it
    if (reason == BR_REASON_OK && news != BB_ANSWER_AGAIN &&
        br_message_type_at_broker (record.type) != BR_AT_BROKER_ANSWER &&
        record.type != BRUECKE__MESSAGE_TYPE__TYPE_DEAD_LETTER &&
        !streq (header->recipient, br_identity_node_id (self->identity))) {
        reason = bb_store_enqueue (self->store, txn, header, zframe_data (job->data),
                                   zframe_size (job->data), hash);
        if (reason == BR_REASON_OK)
            bb_sessions_get (self->sessions, header->recipient)->touched = true;
    }
    return reason;
}

//  After a failed commit: remember each sender's earliest refused content
//  that the broker does not hold yet. A retransmission of a message stored
//  and acknowledged before, refused with the batch, holds nothing: its
//  sender has let go of it and never sends it again, so a hold on it could
//  never be released.
static void
s_hold_refused (s_server_t *self)
{
    MDB_txn *txn = NULL;
    if (bb_store_begin (self->store, &txn) != BR_REASON_OK)
        txn = NULL;
    for (bb_job_t *job = (bb_job_t *) zlistx_first (self->batch); job;
         job = (bb_job_t *) zlistx_next (self->batch)) {
        const Bruecke__Header *header = br_envelope_header (job->envelope);
        if (!br_reason_retry (job->reason) || !br_message_type_acknowledged (header->type))
            continue;
        if (txn && bb_store_check_id (self->store, txn, header->sender, header->message_id.data,
                                      job->digest, NULL) == BB_ID_DUPLICATE)
            continue;
        bb_sessions_hold (bb_sessions_get (self->sessions, job->node_id), header, job->reason);
    }
    bb_store_abort (self->store, &txn);
}

//  Stores one verified job inside the open transaction. A reason for the
//  job alone goes into job->reason; a store failure is returned.
static br_reason_t
s_store_job (s_server_t *self, MDB_txn *txn, bb_job_t *job)
{
    const Bruecke__Header *header = br_envelope_header (job->envelope);
    if (bb_sessions_held_back (bb_sessions_get (self->sessions, job->node_id), header)) {
        job->reason = BR_REASON_BUSY;
        return BR_REASON_OK;
    }
    const uint8_t *hash = job->digest; //  computed by the verifier
    bb_id_status_t status =
        bb_store_check_id (self->store, txn, header->sender, header->message_id.data, hash, NULL);
    if (status == BB_ID_CONFLICT) {
        job->reason = BR_REASON_REPLAYED;
        return bb_store_log (self->store, txn, header, BR_REASON_REPLAYED, job->received_ms);
    }
    if (status == BB_ID_DUPLICATE)
        return BR_REASON_OK; //  a retransmission: acknowledge again, store nothing
    br_reason_t reason;
    if (br_message_type_at_broker (header->type) == BR_AT_BROKER_ANSWER) {
        reason = s_store_answer (self, txn, job, hash);
        if (reason == BR_REASON_NOT_FOUND || reason == BR_REASON_FORBIDDEN ||
            reason == BR_REASON_MALFORMED) {
            job->reason = reason; //  answers a message this node never got
            reason = BR_REASON_OK;
        }
    } else if (br_message_type_at_broker (header->type) == BR_AT_BROKER_EXCHANGE) {
        reason = s_exchange_take (self, txn, job);
        job->stored = reason == BR_REASON_OK && job->reason == BR_REASON_OK;
    } else if (bb_notices_withdrawn (self->notices, txn, header,
                                     br_envelope_message (job->envelope)->attestation)) {
        job->reason = BR_REASON_CONSENT_WITHDRAWN;
        reason = BR_REASON_OK;
    } else {
        reason = BR_REASON_OK;
        if (header->type == BRUECKE__MESSAGE_TYPE__TYPE_CONSENT_WITHDRAWAL)
            reason = bb_notices_withdraw (self->notices, txn, self->roster, job);
        if (reason == BR_REASON_OK && job->reason == BR_REASON_OK)
            reason = bb_store_enqueue (self->store, txn, header, zframe_data (job->data),
                                       zframe_size (job->data), hash);
        if (reason == BR_REASON_OK && job->reason == BR_REASON_OK) {
            bb_sessions_get (self->sessions, header->recipient)->touched = true;
            job->stored = true;
        }
    }
    if (reason == BR_REASON_OK)
        reason = bb_store_log (self->store, txn, header, job->reason, job->received_ms);
    return reason;
}

//  Sends ACCEPTED to each sender of an acknowledged message in the batch.
static void
s_acknowledge (s_server_t *self)
{
    zhashx_t *accepted = zhashx_new (); //  node id -> zlistx of jobs
    zhashx_set_destructor (accepted, (zhashx_destructor_fn *) zlistx_destroy);
    for (bb_job_t *job = (bb_job_t *) zlistx_first (self->batch); job;
         job = (bb_job_t *) zlistx_next (self->batch)) {
        if (job->reason != BR_REASON_OK ||
            !br_message_type_acknowledged (br_envelope_header (job->envelope)->type))
            continue;
        zlistx_t *jobs = (zlistx_t *) zhashx_lookup (accepted, job->node_id);
        if (!jobs) {
            jobs = zlistx_new ();
            zhashx_insert (accepted, job->node_id, jobs);
        }
        zlistx_add_end (jobs, job);
    }
    for (zlistx_t *jobs = (zlistx_t *) zhashx_first (accepted); jobs;
         jobs = (zlistx_t *) zhashx_next (accepted)) {
        size_t count = zlistx_size (jobs);
        ProtobufCBinaryData *ids = (ProtobufCBinaryData *) calloc (count, sizeof (*ids));
        size_t index = 0;
        bb_job_t *job = NULL;
        for (job = (bb_job_t *) zlistx_first (jobs); job; job = (bb_job_t *) zlistx_next (jobs))
            ids[index++] = br_envelope_header (job->envelope)->message_id;
        job = (bb_job_t *) zlistx_last (jobs); //  the newest connection of that node
        Bruecke__Accepted body = BRUECKE__ACCEPTED__INIT;
        body.message_ids = ids;
        body.n_message_ids = count;
        bb_sender_own (self->sender, job->routing_id, BRUECKE__MESSAGE_TYPE__TYPE_ACCEPTED,
                       job->node_id, &body.base);
        free (ids);
    }
    zhashx_destroy (&accepted);
}

//  Writes the batch in one transaction, then acknowledges, refuses and
//  delivers. Nothing is acknowledged before the commit has returned.
static void
s_commit_batch (s_server_t *self)
{
    if (zlistx_size (self->batch) == 0)
        return;
    int64_t started = zclock_usecs ();
    MDB_txn *txn = NULL;
    br_reason_t failure = bb_store_begin (self->store, &txn);
    for (bb_job_t *job = (bb_job_t *) zlistx_first (self->batch); job && failure == BR_REASON_OK;
         job = (bb_job_t *) zlistx_next (self->batch)) {
        if (job->reason == BR_REASON_OK)
            failure = s_store_job (self, txn, job);
        else {
            //  In arrival order with the stored ones: a hold set here must not
            //  be released by an earlier message stored later in this loop
            bb_sessions_hold (bb_sessions_get (self->sessions, job->node_id),
                              br_envelope_header (job->envelope), job->reason);
            failure = bb_store_log (self->store, txn, br_envelope_header (job->envelope),
                                    job->reason, job->received_ms);
        }
    }
    if (failure == BR_REASON_OK)
        failure = bb_store_commit (self->store, &txn);
    else
        bb_store_abort (self->store, &txn);
    size_t count = zlistx_size (self->batch);
    if (failure != BR_REASON_OK) {
        zsys_warning ("broker: group commit of %zu messages failed: %s", count,
                      br_reason_name (failure));
        //  Nothing of the batch is stored; every sender hears why and may retry
        for (bb_job_t *job = (bb_job_t *) zlistx_first (self->batch); job;
             job = (bb_job_t *) zlistx_next (self->batch))
            if (job->reason == BR_REASON_OK)
                job->reason = failure;
        s_hold_refused (self);
        zlistx_purge (self->effects.agreements);
        self->effects.board_changed = self->effects.ledger_changed = false;
    } else {
        for (bb_job_t *job = (bb_job_t *) zlistx_first (self->batch); job;
             job = (bb_job_t *) zlistx_next (self->batch)) {
            bb_figures_stored (self->figures, job->stored);
            const Bruecke__Header *header = br_envelope_header (job->envelope);
            if (job->stored && header->type == BRUECKE__MESSAGE_TYPE__TYPE_REFERRAL)
                bb_figures_referral (self->figures, header->sender, header->recipient);
            if (job->reason == BR_REASON_OK &&
                br_message_type_at_broker (br_envelope_header (job->envelope)->type) ==
                    BR_AT_BROKER_ANSWER)
                bb_sessions_get (self->sessions, job->node_id)->last_answer_clock = br_clock_ms ();
        }
        s_acknowledge (self);
        s_broadcast (self);
    }
    for (bb_job_t *job = (bb_job_t *) zlistx_first (self->batch); job;
         job = (bb_job_t *) zlistx_next (self->batch))
        if (job->reason != BR_REASON_OK)
            s_refuse (self, job);
    zlistx_purge (self->batch);
    if (failure == BR_REASON_OK) {
        bb_sessions_deliver_touched (self->sessions);
    }
    int64_t elapsed = zclock_usecs () - started;
    if (self->trace_commits || elapsed > BB_SLOW_COMMIT_US)
        zsys_info ("broker: group commit of %zu messages took %lld ms", count,
                   (long long) (elapsed / 1000));
}

//  ---- Session messages -----------------------------------------------------

static void
s_handle_session (s_server_t *self, bb_job_t *job)
{
    const Bruecke__Header *header = br_envelope_header (job->envelope);
    bb_session_t *session = bb_sessions_get (self->sessions, job->node_id);
    if (header->type == BRUECKE__MESSAGE_TYPE__TYPE_HELLO) {
        ProtobufCMessage *body = NULL;
        if (br_envelope_open_body (job->envelope, NULL, &bruecke__hello__descriptor, &body) !=
            BR_REASON_OK) {
            job->reason = BR_REASON_MALFORMED;
            s_refuse (self, job);
            return;
        }
        Bruecke__Hello *hello = (Bruecke__Hello *) body;
        bb_sessions_start (self->sessions, session, job->routing_id, hello->credit);
        zsys_info ("broker: %s online (roster %llu, credit %u)", session->node_id,
                   (unsigned long long) hello->roster_version, hello->credit);
        if (hello->roster_version < br_roster_version (self->roster)) {
            Bruecke__RosterUpdate update = BRUECKE__ROSTER_UPDATE__INIT;
            update.signed_roster.data = (uint8_t *) br_roster_signed_data (self->roster);
            update.signed_roster.len = br_roster_signed_size (self->roster);
            bb_sender_own (self->sender, session->routing_id,
                           BRUECKE__MESSAGE_TYPE__TYPE_ROSTER_UPDATE, session->node_id,
                           &update.base);
        }
        //  The answer names the HELLO: what the node receives after it
        //  belongs to this session, and comes again from the oldest
        Bruecke__Heartbeat answer = BRUECKE__HEARTBEAT__INIT;
        answer.hello_id = header->message_id;
        bb_sender_own (self->sender, session->routing_id, BRUECKE__MESSAGE_TYPE__TYPE_HEARTBEAT,
                       session->node_id, &answer.base);
        br_proto_free (&body);
        bb_sessions_deliver (self->sessions, session);
    } else if (header->type == BRUECKE__MESSAGE_TYPE__TYPE_CREDIT) {
        ProtobufCMessage *body = NULL;
        if (br_envelope_open_body (job->envelope, NULL, &bruecke__credit__descriptor, &body) ==
                BR_REASON_OK &&
            session->routing_id) {
            session->credit += ((Bruecke__Credit *) body)->credit;
            bb_sessions_deliver (self->sessions, session);
        }
        br_proto_free (&body);
    } else if (header->type == BRUECKE__MESSAGE_TYPE__TYPE_EXCHANGE_SYNC && session->routing_id)
        s_sync (self, session, job);
    //  HEARTBEAT: being seen is all it does (s_seen)
}

//  A node shows a sign of life: it is seen, its clock is read from its
//  session messages (made just now, unlike content that may have waited in
//  its outbox), and if it has no session here, say after it was silent
//  too long, it is asked to say HELLO again: without, nothing would be
//  delivered to it while its connection looks fine to it.
static void
s_seen (s_server_t *self, bb_job_t *job, const Bruecke__Header *header)
{
    bb_sessions_seen (self->sessions, bb_sessions_get (self->sessions, job->node_id),
                      job->routing_id, job->received_ms, header);
}

//  Takes one checked job, in arrival order.
static void
s_handle_job (s_server_t *self, bb_job_t *job)
{
    const Bruecke__Header *header = job->envelope ? br_envelope_header (job->envelope) : NULL;
    //  Signed by the node on its own connection, if perhaps at a wrong time
    if (header && (job->reason == BR_REASON_OK || job->reason == BR_REASON_CLOCK_SKEW ||
                   job->reason == BR_REASON_EXPIRED))
        s_seen (self, job, header);
    if (job->reason != BR_REASON_OK) {
        if (header) {
            zlistx_add_end (self->batch, job); //  held or released, refused and logged
            return;                            //  in the batch, in arrival order
        }
        s_refuse (self, job);
        bb_job_destroy (&job);
        return;
    }
    if (br_message_type_session (header->type)) {
        s_handle_session (self, job);
        bb_job_destroy (&job);
    } else
        zlistx_add_end (self->batch, job);
}

//  ---- Intake ---------------------------------------------------------------

//  bb_intake_job_fn: what is no job is refused at once.
static void
s_refuse_job (void *argument, bb_job_t *job)
{
    s_refuse ((s_server_t *) argument, job);
    bb_job_destroy (&job);
}

//  bb_intake_job_fn: a checked job, in arrival order, into the batch; a
//  full batch is committed.
static void
s_take_job (void *argument, bb_job_t *job)
{
    s_server_t *self = (s_server_t *) argument;
    s_handle_job (self, job);
    if (zlistx_size (self->batch) >= BB_BATCH_MAX)
        s_commit_batch (self);
}

//  ---- Timers ---------------------------------------------------------------

//  Moves expired messages to the dead letters and tells their senders.
static void
s_scan_expired (s_server_t *self)
{
    MDB_txn *txn = NULL;
    br_reason_t reason = bb_store_begin (self->store, &txn);
    if (reason == BR_REASON_OK)
        reason = bb_notices_expire (self->notices, txn, self->roster, br_now_ms ());
    //  Board changes older than what a node may still catch up from: a node
    //  further behind takes a snapshot
    if (reason == BR_REASON_OK)
        reason =
            br_board_prune (bb_exchange_board (self->exchange), txn, BR_BOARD_CHANGES_KEPT, NULL);
    if (reason == BR_REASON_OK)
        reason = bb_store_commit (self->store, &txn);
    else
        bb_store_abort (self->store, &txn);
    if (reason != BR_REASON_OK)
        zsys_warning ("broker: expiry scan failed: %s", br_reason_name (reason));
    bb_sessions_deliver_touched (self->sessions);
}

//  ---- Roster ---------------------------------------------------------------

//  Verifies the roster file against the current roster and installs it in
//  the ZAP handler and the verifiers. Returns OK or the reason.
static br_reason_t
s_install_roster (s_server_t *self)
{
    br_reason_t reason;
    br_roster_t *roster = br_roster_load (self->roster_path, self->county_public, self->roster,
                                          br_now_ms (), &reason);
    if (!roster)
        return reason;
    const Bruecke__RosterNode *own =
        br_roster_lookup_by_id (roster, br_identity_node_id (self->identity));
    if (!own || own->role != BRUECKE__NODE_ROLE__ROLE_BROKER || own->revoked ||
        memcmp (own->sign_public_key.data, br_identity_sign_public (self->identity),
                BR_SIGN_PUBLIC_SIZE) != 0) {
        br_roster_destroy (&roster);
        return BR_REASON_ROSTER_INVALID; //  this roster does not name this broker
    }
    bool newer = !self->roster || br_roster_version (roster) > br_roster_version (self->roster);
    if ((reason = bb_intake_set_roster (self->intake, roster, self->county_public)) !=
        BR_REASON_OK) {
        br_roster_destroy (&roster);
        return reason;
    }
    bb_zap_set_roster (self->zap, roster);
    br_roster_destroy (&self->roster);
    self->roster = roster;
    zsys_info ("broker: roster version %llu in force",
               (unsigned long long) br_roster_version (roster));
    if (newer) {
        //  Tell connected nodes; drop the connections of revoked ones
        Bruecke__RosterUpdate update = BRUECKE__ROSTER_UPDATE__INIT;
        update.signed_roster.data = (uint8_t *) br_roster_signed_data (roster);
        update.signed_roster.len = br_roster_signed_size (roster);
        for (bb_session_t *session = bb_sessions_first (self->sessions); session;
             session = bb_sessions_next (self->sessions)) {
            if (!session->routing_id)
                continue;
            const Bruecke__RosterNode *node = br_roster_lookup_by_id (roster, session->node_id);
            if (!node || node->revoked)
                bb_sessions_offline (session, "revoked");
            else
                bb_sender_own (self->sender, session->routing_id,
                               BRUECKE__MESSAGE_TYPE__TYPE_ROSTER_UPDATE, session->node_id,
                               &update.base);
        }
    }
    return BR_REASON_OK;
}

//  ---- Control --------------------------------------------------------------

static void
s_report_line (void *argument, const char *line)
{
    zmsg_addstr ((zmsg_t *) argument, line);
}

//  Runs the Transferbörse's matching for `quarter` (YYYYQ) and queues the
//  proposals to both towns. The reply: "OK proposed N unmatched M", then
//  one line per proposal and per request left unmatched.
static void
s_match (s_server_t *self, int quarter, zmsg_t *reply)
{
    zmsg_t *lines = zmsg_new ();
    bb_exchange_run_t run;
    MDB_txn *txn = NULL;
    br_reason_t reason = bb_store_begin (self->store, &txn);
    if (reason == BR_REASON_OK)
        reason = bb_exchange_match (self->exchange, txn, quarter, self->roster, br_now_ms (),
                                    &self->effects, &run, s_report_line, lines);
    if (reason == BR_REASON_OK)
        reason = bb_notices_agreements (self->notices, txn, self->effects.agreements);
    if (reason == BR_REASON_OK)
        reason = bb_store_commit (self->store, &txn);
    else
        bb_store_abort (self->store, &txn);
    zlistx_purge (self->effects.agreements);
    if (reason != BR_REASON_OK) {
        zsys_warning ("broker: matching for %d failed: %s", quarter, br_reason_name (reason));
        zmsg_addstrf (reply, "ERROR %s", br_reason_name (reason));
        zmsg_destroy (&lines);
        return;
    }
    zsys_info ("broker: matching for %d: %zu proposed, %zu unmatched", quarter, run.proposed,
               run.unmatched);
    zmsg_addstrf (reply, "OK proposed %zu unmatched %zu", run.proposed, run.unmatched);
    for (char *line = zmsg_popstr (lines); line; line = zmsg_popstr (lines)) {
        zmsg_addstr (reply, line);
        zstr_free (&line);
    }
    zmsg_destroy (&lines);
    bb_sessions_deliver_touched (self->sessions);
}

static void
s_control (s_server_t *self)
{
    char *command = zstr_recv (self->control);
    if (!command)
        return;
    zmsg_t *reply = zmsg_new ();
    if (streq (command, "STATUS")) {
        zmsg_addstr (reply, "OK");
        zmsg_addstrf (reply, "roster %llu", (unsigned long long) br_roster_version (self->roster));
        zmsg_addstrf (reply, "dead %zu", bb_store_dead_count (self->store));
        zmsg_addstrf (reply, "accepted %llu",
                      (unsigned long long) bb_figures_stored_count (self->figures));
        zmsg_addstrf (reply, "refused %llu",
                      (unsigned long long) bb_figures_refused_count (self->figures));
        zmsg_addstrf (reply, "board %llu", (unsigned long long) self->board_sent);
        zmsg_addstrf (reply, "ledger %llu", (unsigned long long) self->ledger_sent);
        const Bruecke__Roster *content = br_roster_content (self->roster);
        for (size_t index = 0; index < content->n_nodes; index++) {
            const Bruecke__RosterNode *node = content->nodes[index];
            if (node->role == BRUECKE__NODE_ROLE__ROLE_BROKER)
                continue;
            bb_session_t *session = bb_sessions_lookup (self->sessions, node->node_id);
            //  The last field: its clock minus ours in ms, "-" if not read yet
            char offset[24] = "-";
            if (session && session->clock_known)
                snprintf (offset, sizeof (offset), "%+lld", (long long) session->clock_offset_ms);
            zmsg_addstrf (reply, "node %s %s %lld %zu %s", node->node_id,
                          session && session->routing_id ? "online" : "offline",
                          session ? (long long) session->last_seen_ms : 0LL,
                          bb_store_depth (self->store, node->node_id), offset);
        }
    } else if (strncmp (command, "MATCH ", 6) == 0) {
        s_match (self, atoi (command + 6), reply);
    } else if (streq (command, "RELOAD")) {
        br_reason_t reason = s_install_roster (self);
        if (reason == BR_REASON_OK)
            zmsg_addstrf (reply, "OK %llu", (unsigned long long) br_roster_version (self->roster));
        else
            zmsg_addstrf (reply, "ERROR %s", br_reason_name (reason));
    } else
        zmsg_addstr (reply, "ERROR unknown command");
    zmsg_send (&reply, self->control);
    zstr_free (&command);
}

//  ---- Start and stop -------------------------------------------------------

//  Opens the Transferbörse and sets the county's limits and staged plan:
//  exchange/floor and exchange/ceiling (hours), exchange/plan/<topic> =
//  the quarter (YYYYQ) from which the topic is matched.
static br_reason_t
s_configure_exchange (s_server_t *self, br_config_t *config)
{
    br_reason_t reason;
    self->exchange = bb_exchange_new (bb_store_env (self->store), &reason);
    if (!self->exchange) {
        zsys_error ("broker: exchange store: %s", br_reason_name (reason));
        return reason;
    }
    int64_t floor = 0, ceiling = 0;
    reason = br_config_int (config, "exchange/floor", BB_MATCH_FLOOR_DEFAULT, -BB_MATCH_BALANCE_MAX,
                            BB_MATCH_BALANCE_MAX, &floor);
    if (reason == BR_REASON_OK)
        reason = br_config_int (config, "exchange/ceiling", BB_MATCH_CEILING_DEFAULT,
                                -BB_MATCH_BALANCE_MAX, BB_MATCH_BALANCE_MAX, &ceiling);
    if (reason == BR_REASON_OK)
        reason = bb_exchange_set_limits (self->exchange, (int) floor, (int) ceiling);
    zconfig_t *plan = zconfig_locate (br_config_tree (config), "exchange/plan");
    for (zconfig_t *topic = plan ? zconfig_child (plan) : NULL; topic && reason == BR_REASON_OK;
         topic = zconfig_next (topic)) {
        const char *value = zconfig_value (topic);
        char *end = NULL;
        long quarter = value ? strtol (value, &end, 10) : 0;
        reason = end && *end == '\0' && quarter > 0 && quarter < INT_MAX
                     ? bb_exchange_plan_topic (self->exchange, zconfig_name (topic), (int) quarter)
                     : BR_REASON_MALFORMED;
    }
    if (reason != BR_REASON_OK) {
        zsys_error ("broker: configuration of the exchange: %s", br_reason_name (reason));
        return BR_REASON_CONFIG_INVALID;
    }
    uint8_t hash[BR_LEDGER_HASH_SIZE];
    if (br_board_head (bb_exchange_board (self->exchange), &self->board_sent) != BR_REASON_OK ||
        br_ledger_head (bb_exchange_ledger (self->exchange), &self->ledger_sent, hash) !=
            BR_REASON_OK)
        return BR_REASON_AUDIT_BROKEN;
    return BR_REASON_OK;
}

//  Starts the county dashboard if broker/dashboard names an address, and
//  counts what the message log holds so far.
static br_reason_t
s_start_dashboard (s_server_t *self, br_config_t *config)
{
    const char *address = br_config_string (config, "broker/dashboard", NULL);
    if (!address)
        return BR_REASON_OK;
    br_reason_t reason;
    self->dashboard = bb_dashboard_new (address, &reason);
    if (!self->dashboard) {
        zsys_error ("broker: cannot serve the dashboard on %s: %s", address,
                    br_reason_name (reason));
        return reason;
    }
    bb_figures_read_log (self->figures, self->store);
    return BR_REASON_OK;
}

static br_reason_t
s_configure (s_server_t *self, br_config_t *config)
{
    const char *key_path = NULL, *county_path = NULL, *state = NULL, *roster_path = NULL;
    int64_t workers = 0, mapsize_mb = 0;
    const br_config_setting_t settings[] = {
        {"broker/key", &key_path, NULL, 0, 0, 0},
        {"broker/county-public", &county_path, NULL, 0, 0, 0},
        {"broker/state", &state, NULL, 0, 0, 0},
        {"broker/roster", &roster_path, NULL, 0, 0, 0},
        {"broker/workers", NULL, &workers, BB_DEFAULT_WORKERS, 1, BB_INTAKE_WORKERS},
        {"broker/mapsize-mb", NULL, &mapsize_mb, 8192, 1, 1 << 20},
        {"broker/heartbeat-ms", NULL, &self->heartbeat_ms, BB_DEFAULT_HEARTBEAT_MS, 10, 3600000},
        {"broker/offline-after-ms", NULL, &self->offline_ms, BB_DEFAULT_OFFLINE_MS, 10, 3600000},
        {"broker/expiry-scan-ms", NULL, &self->scan_ms, BB_DEFAULT_SCAN_MS, 10, 3600000},
        {"broker/redeliver-ms", NULL, &self->redeliver_ms, BB_DEFAULT_REDELIVER_MS, 10, 3600000},
        {NULL, NULL, NULL, 0, 0, 0}};
    const char *failed = NULL;
    br_reason_t reason = br_config_read (config, settings, &failed);
    if (reason != BR_REASON_OK) {
        zsys_error ("broker: configuration: %s: %s", failed, br_reason_name (reason));
        return reason;
    }
    self->identity = br_identity_load (key_path, &reason);
    if (!self->identity) {
        zsys_error ("broker: key %s: %s", key_path, br_reason_name (reason));
        return reason;
    }
    br_identity_t *county = br_identity_load_public (county_path, &reason);
    if (!county) {
        zsys_error ("broker: county key %s: %s", county_path, br_reason_name (reason));
        return reason;
    }
    memcpy (self->county_public, br_identity_sign_public (county), BR_SIGN_PUBLIC_SIZE);
    br_identity_destroy (&county);
    self->roster_path = strdup (roster_path);
    self->store = bb_store_new (state, (size_t) mapsize_mb << 20, &reason);
    if (!self->store) {
        zsys_error ("broker: store %s: %s", state, br_reason_name (reason));
        return reason;
    }
    self->verifier_count = (size_t) workers;
    return s_configure_exchange (self, config);
}

//  Starts the ZAP handler, the verifiers, the roster, then binds.
static br_reason_t
s_start (s_server_t *self, br_config_t *config)
{
    br_reason_t reason = s_configure (self, config);
    if (reason != BR_REASON_OK)
        return reason;
    self->intake = bb_intake_new (self->verifier_count, br_identity_node_id (self->identity));
    self->router = zsock_new (ZMQ_ROUTER);
    self->sender = bb_sender_new (self->router, self->identity, self->store);
    self->sessions = bb_sessions_new (self->sender, self->store);
    self->notices = bb_notices_new (self->sender, self->store, self->sessions);
    //  The ZAP handler runs before anything binds: fail closed
    self->zap = zactor_new (bb_zap_actor, NULL);
    reason = s_install_roster (self);
    if (reason != BR_REASON_OK) {
        zsys_error ("broker: roster %s: %s", self->roster_path, br_reason_name (reason));
        return reason;
    }
    zcert_t *cert = zcert_new_from (br_identity_transport_public (self->identity),
                                    br_identity_transport_secret (self->identity));
    zcert_apply (cert, self->router);
    zcert_destroy (&cert);
    zsock_set_curve_server (self->router, 1);
    zsock_set_zap_domain (self->router, BB_ZAP_DOMAIN);
    zsock_set_zap_enforce_domain (self->router, 1);
    zsock_set_maxmsgsize (self->router, BR_ENVELOPE_MAX_SIZE);
    zsock_set_router_mandatory (self->router, 1);
    zsock_set_linger (self->router, 0);
    zsock_set_sndhwm (self->router, 100000);
    zsock_set_rcvhwm (self->router, 100000);
    const char *endpoint = br_config_string (config, "broker/endpoint", BB_DEFAULT_ENDPOINT);
    self->port = zsock_bind (self->router, "%s", endpoint);
    if (self->port < 0) {
        zsys_error ("broker: cannot bind %s", endpoint);
        return BR_REASON_IO_ERROR;
    }
    char *default_control =
        zsys_sprintf ("ipc://%s/control.ipc", br_config_string (config, "broker/state", "."));
    const char *control = br_config_string (config, "broker/control", default_control);
    self->control = zsock_new (ZMQ_REP);
    zsock_set_sndtimeo (self->control, BB_CONTROL_TIMEOUT_MS);
    int rc = zsock_bind (self->control, "%s", control);
    zstr_free (&default_control);
    if (rc < 0) {
        zsys_error ("broker: cannot bind control endpoint");
        return BR_REASON_IO_ERROR;
    }
    reason = s_start_dashboard (self, config);
    if (reason != BR_REASON_OK)
        return reason;
    zsys_info ("broker: %s serving on %s (port %d), %zu verifiers",
               br_identity_node_id (self->identity), endpoint, self->port, self->verifier_count);
    return BR_REASON_OK;
}

static void
s_stop (s_server_t *self)
{
    bb_intake_destroy (&self->intake); //  the verifiers, and the jobs still out
    zlistx_destroy (&self->batch);
    bb_notices_destroy (&self->notices);
    bb_sessions_destroy (&self->sessions);
    bb_sender_destroy (&self->sender);
    zsock_destroy (&self->router);
    zsock_destroy (&self->control);
    zactor_destroy (&self->zap);
    br_roster_destroy (&self->roster);
    bb_dashboard_destroy (&self->dashboard);
    bb_figures_destroy (&self->figures);
    bb_exchange_destroy (&self->exchange);
    bb_exchange_effects_clear (&self->effects);
    bb_store_destroy (&self->store);
    br_identity_destroy (&self->identity);
    free (self->roster_path);
}

static void
s_batch_job_free (void **item)
{
    bb_job_destroy ((bb_job_t **) item);
}

void
bb_server_actor (zsock_t *pipe, void *args)
{
    br_daemon_args_t *start = (br_daemon_args_t *) args;
    s_server_t *self = (s_server_t *) zmalloc (sizeof (s_server_t));
    self->pipe = pipe;
    self->figures = bb_figures_new ();
    self->batch = zlistx_new ();
    zlistx_set_destructor (self->batch, s_batch_job_free);
    bb_exchange_effects_init (&self->effects);
    self->trace_commits = getenv ("BB_TRACE") != NULL;
    start->started = s_start (self, start->config) == BR_REASON_OK;
    if (!start->started) {
        s_stop (self);
        free (self);
        zsock_signal (pipe, 0);
        return;
    }
    zsock_signal (pipe, 0);

    zpoller_t *poller =
        zpoller_new (pipe, self->router, bb_intake_results (self->intake), self->control, NULL);
    //  Timers run on the monotonic clock: a step of the wall clock moves none
    self->next_heartbeat = br_clock_ms () + self->heartbeat_ms;
    self->next_scan = br_clock_ms ();
    bool running = true;
    while (running) {
        int64_t now = br_clock_ms ();
        int64_t wait =
            self->next_heartbeat < self->next_scan ? self->next_heartbeat : self->next_scan;
        zsock_t *which = (zsock_t *) zpoller_wait (poller, (int) (wait > now ? wait - now : 0));
        if (which == pipe) {
            char *command = zstr_recv (pipe);
            if (!command || streq (command, "$TERM"))
                running = false;
            else if (streq (command, "PORT"))
                zsock_send (pipe, "i", self->port);
            zstr_free (&command);
        } else if (which == self->control)
            s_control (self);
        else if (zpoller_terminated (poller))
            running = false;
        //  Always move the pipeline along: intake, results, commit
        bb_intake_receive (self->intake, self->router, s_refuse_job, self);
        bb_intake_collect (self->intake, s_take_job, self);
        //  Group commit: everything verified since the last commit, in one
        s_commit_batch (self);
        now = br_clock_ms ();
        if (now >= self->next_heartbeat) {
            bb_sessions_heartbeat (self->sessions, now, self->offline_ms, self->redeliver_ms);
            self->next_heartbeat = now + self->heartbeat_ms;
        }
        if (now >= self->next_scan) {
            s_scan_expired (self);
            self->next_scan = now + self->scan_ms;
        }
        if (self->dashboard && now >= self->next_dashboard) {
            bb_figures_show (self->figures, self->dashboard, self->roster, self->sessions,
                             self->store, bb_exchange_ledger (self->exchange), self->board_sent,
                             self->ledger_sent, br_now_ms ());
            self->next_dashboard = now + BB_DASHBOARD_UPDATE_MS;
        }
    }
    zpoller_destroy (&poller);
    s_stop (self);
    free (self);
}
