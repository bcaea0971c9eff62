/*  =========================================================================
    bn_client - a town node's connection to the county broker
    =========================================================================
*/

#include "bruecke.h"
#include "bn_client.h"
#include "bn_control.h"
#include "bn_delivery.h"
#include "bn_answers.h"
#include "bn_api.h"
#include "bn_casework.h"
#include "bn_exchange.h"
#include "bn_store.h"

#define S_ROSTER_FILE "roster.bin"

typedef struct {
    zsock_t *pipe;                              //  the actor pipe
    zsock_t *dealer;                            //  to the broker (CURVE client)
    zsock_t *monitor;                           //  the dealer's handshake events
    zsock_t *control;                           //  REP for the CLI
    br_identity_t *identity;                    //  this node's keys
    uint8_t county_public[BR_SIGN_PUBLIC_SIZE]; //  the pinned county key
    char *state_path;                           //  state directory
    json_t *letterhead;                         //  the town's letterhead, for printed forms
    br_roster_t *roster;                        //  the roster in force
    bn_store_t *store;                          //  outbox, sent, inbox
    bn_answers_t *answers;                      //  answers sent lately, to send again
    char broker_id[BR_NODE_ID_MAX + 1];         //  the broker's node id
    //  Times named _clock are br_clock_ms (monotonic, for timers); those
    //  named _ms are wall-clock Unix milliseconds.
    bool connected;               //  handshake done and HELLO sent
    uint64_t send_cursor;         //  highest outbox sequence sent on this connection
    int64_t last_progress_clock;  //  last send start or acceptance
    uint32_t credit;              //  deliveries in flight at most
    uint32_t window;              //  unaccepted messages in flight at most
    int64_t retransmit_ms;        //  retransmit after this long without progress
    int64_t heartbeat_ms;         //  heartbeat interval
    int64_t next_heartbeat_clock; //  when to send the next heartbeat
    int64_t retry_logged_clock;   //  when a retry refusal was last logged
    int64_t hello_again_clock;    //  when to say HELLO again (restart delivery), 0 = not due
    bool awaiting_hello;          //  deliveries are dropped until the broker answers hello_id
    uint8_t hello_id[BR_MESSAGE_ID_SIZE]; //  the HELLO awaited, all zero before it is sent
    int64_t hello_sent_clock;             //  when the last HELLO went out
    int64_t last_heard_clock;             //  when the broker was last heard from
    bool clock_known;                     //  whether clock_offset_ms was measured
    int64_t clock_offset_ms;              //  this node's wall clock minus the broker's
    int64_t skew_logged_clock;            //  when a wrong clock was last logged, 0 = never
    bn_vault_t *vault;                    //  the data key: casework records are sealed with it
    bn_audit_t *audit;                    //  the audit log
    bn_casework_t *casework;              //  cases, consents, referrals, transfers
    bn_exchange_t *exchange;              //  the town's part in the Transferbörse
    int64_t last_sync_clock;              //  when EXCHANGE_SYNC was last sent
    int64_t local_retry_clock;            //  the local queue failed: not before this
    bn_tokens_t *tokens;                  //  API tokens (used by the API's actor)
    bn_web_t *web; //  the web interface's users and sessions (likewise), or NULL
    bn_api_t *api; //  the JSON API, or NULL if not configured
} s_node_t;

//  ---- Sending --------------------------------------------------------------

//  Sends bytes to the broker without blocking. False if not possible now.
static bool
s_send (s_node_t *self, const uint8_t *data, size_t size)
{
    zmq_msg_t message;
    zmq_msg_init_size (&message, size);
    memcpy (zmq_msg_data (&message), data, size);
    if (zmq_msg_send (&message, zsock_resolve (self->dealer), ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&message);
        return false;
    }
    return true;
}

//  Builds, signs and sends a session message to the broker itself; its
//  message id goes to `id` if not NULL.
static void
s_send_control (s_node_t *self, Bruecke__MessageType type, const ProtobufCMessage *body,
                uint8_t *id_out)
{
    Bruecke__Header header;
    uint8_t id[BR_MESSAGE_ID_SIZE];
    br_envelope_header_init (&header, id, type, br_identity_node_id (self->identity), "", "", 0,
                             br_now_ms (), BR_CLOCK_SKEW_MS);
    zchunk_t *chunk = br_envelope_build (self->identity, &header, NULL, body, NULL);
    s_send (self, zchunk_data (chunk), zchunk_size (chunk));
    zchunk_destroy (&chunk);
    if (id_out)
        memcpy (id_out, id, BR_MESSAGE_ID_SIZE);
}

typedef struct {
    s_node_t *node;   //  the node
    size_t in_flight; //  outbox entries up to the send cursor
    bool blocked;     //  a send failed
} s_pump_t;

static void
s_count_in_flight (void *argument, uint64_t sequence, const uint8_t *data, size_t size)
{
    (void) data;
    (void) size;
    s_pump_t *pump = (s_pump_t *) argument;
    if (sequence <= pump->node->send_cursor)
        pump->in_flight++;
}

static void
s_send_outbox_entry (void *argument, uint64_t sequence, const uint8_t *data, size_t size)
{
    s_pump_t *pump = (s_pump_t *) argument;
    if (pump->blocked)
        return;
    if (!s_send (pump->node, data, size)) {
        pump->blocked = true;
        return;
    }
    pump->node->send_cursor = sequence;
}

//  Sends outbox entries past the send cursor while the window allows.
static void
s_pump (s_node_t *self)
{
    if (!self->connected)
        return;
    s_pump_t pump = {.node = self};
    bn_store_outbox_read (self->store, 0, self->window, s_count_in_flight, &pump);
    if (pump.in_flight >= self->window)
        return;
    if (pump.in_flight == 0)
        self->last_progress_clock = br_clock_ms ();
    bn_store_outbox_read (self->store, self->send_cursor, self->window - pump.in_flight,
                          s_send_outbox_entry, &pump);
}

//  ---- Roster -----------------------------------------------------------------

//  Installs a verified roster and keeps it in the state directory.
static void
s_take_roster (s_node_t *self, br_roster_t **roster_p)
{
    br_roster_t *roster = *roster_p;
    *roster_p = NULL;
    char *path = zsys_sprintf ("%s/%s", self->state_path, S_ROSTER_FILE);
    br_reason_t reason = br_file_write (path, br_roster_signed_data (roster),
                                        br_roster_signed_size (roster), 0644, true);
    if (reason != BR_REASON_OK)
        zsys_warning ("node: cannot keep roster in %s: %s", path, br_reason_name (reason));
    zstr_free (&path);
    br_roster_destroy (&self->roster);
    self->roster = roster;
    if (self->casework)
        bn_casework_set_roster (self->casework, roster);
    if (self->exchange)
        bn_exchange_set_roster (self->exchange, roster);
    zsys_info ("node: roster version %llu in force",
               (unsigned long long) br_roster_version (roster));
}

//  ---- Receiving --------------------------------------------------------------

//  An answer made in a transaction, to send once it has committed.
typedef struct {
    uint8_t id[BR_MESSAGE_ID_SIZE]; //  its message id
    zchunk_t *bytes;                //  its envelope
} s_answer_t;

static void
s_answer_free (void **item)
{
    s_answer_t *answer = (s_answer_t *) *item;
    if (answer) {
        zchunk_destroy (&answer->bytes);
        free (answer);
        *item = NULL;
    }
}

static zlistx_t *
s_answers_new (void)
{
    zlistx_t *answers = zlistx_new ();
    zlistx_set_destructor (answers, s_answer_free);
    return answers;
}

//  After the commit: keeps each answer (to send again if need be) and,
//  if `send`, sends it now.
static void
s_answers_commit (s_node_t *self, zlistx_t *answers, bool send)
{
    int64_t clock = br_clock_ms ();
    for (s_answer_t *answer = (s_answer_t *) zlistx_first (answers); answer;
         answer = (s_answer_t *) zlistx_next (answers)) {
        bn_answers_keep (self->answers, answer->id, zchunk_data (answer->bytes),
                         zchunk_size (answer->bytes), clock);
        if (send)
            s_send (self, zchunk_data (answer->bytes), zchunk_size (answer->bytes));
    }
}

//  What one drain of the dealer produced, to do after the commit.
typedef struct {
    zlistx_t *answers;   //  s_answer_t *: receipts and refusals to send
    uint32_t deliveries; //  deliveries consumed (credit to grant)
} s_drain_t;

//  Builds a RECEIPT or REFUSAL for a delivered message, in the open
//  transaction (which takes its sequence number), onto `answers`.
static void
s_make_answer (s_node_t *self, zlistx_t *answers, const Bruecke__Header *delivered,
               br_reason_t reason, int64_t now)
{
    uint8_t id[BR_MESSAGE_ID_SIZE];
    zchunk_t *chunk = bn_delivery_answer (self->identity, self->store, delivered, reason, now, id);
    s_answer_t *answer = (s_answer_t *) zmalloc (sizeof (s_answer_t));
    memcpy (answer->id, id, BR_MESSAGE_ID_SIZE);
    answer->bytes = chunk;
    zlistx_add_end (answers, answer);
}

//  Answers a delivered message after the drain's commit.
static void
s_answer (s_node_t *self, s_drain_t *drain, const Bruecke__Header *delivered, br_reason_t reason,
          int64_t now)
{
    s_make_answer (self, drain->answers, delivered, reason, now);
}

typedef struct {
    s_node_t *node;    //  the node
    zlistx_t *answers; //  s_answer_t *: the receipts made
} s_receipting_t;

static void
s_receipt_again (void *argument, uint64_t counter, int64_t received_ms, const uint8_t *data,
                 size_t size)
{
    (void) counter;
    s_receipting_t *receipting = (s_receipting_t *) argument;
    br_reason_t reason;
    br_envelope_t *envelope = br_envelope_decode (data, size, &reason);
    //  Not what one of this node's offices sent another: the broker never saw it
    if (envelope &&
        br_envelope_verify_in_roster (envelope, receipting->node->roster) == BR_REASON_OK &&
        !streq (br_envelope_header (envelope)->sender,
                br_identity_node_id (receipting->node->identity)))
        s_make_answer (receipting->node, receipting->answers, br_envelope_header (envelope),
                       BR_REASON_OK, received_ms);
    br_envelope_destroy (&envelope);
}

//  Receipts the last messages this node stored, once more, on the first
//  connection after a start: it may have stopped after storing them and
//  before its receipts left, and the broker delivers again only what it
//  still queues, not what it gave up meanwhile. A receipt the broker
//  stored before counts as nothing new there.
static void
s_receipt_last_again (s_node_t *self)
{
    int64_t clock = br_clock_ms ();
    s_receipting_t receipting = {.node = self, .answers = s_answers_new ()};
    MDB_txn *txn = NULL;
    if (bn_store_begin (self->store, &txn) == BR_REASON_OK) {
        bn_store_inbox_read_last (self->store, BN_DELIVERY_BATCH, s_receipt_again, &receipting);
        //  Kept, and due, only once their sequence numbers are
        if (bn_store_commit (self->store, &txn) == BR_REASON_OK) {
            s_answers_commit (self, receipting.answers, false);
            size_t count = bn_answers_since (self->answers, clock);
            if (count)
                zsys_info ("node: will receipt the last %zu messages again", count);
        }
    }
    zlistx_destroy (&receipting.answers);
}

//  A heartbeat from the broker: the answer to our HELLO ends the wait for
//  the new session; a broker that holds no session for us asks for HELLO.
static void
s_heartbeat_from_broker (s_node_t *self, const Bruecke__Heartbeat *heartbeat)
{
    if (self->awaiting_hello && heartbeat->hello_id.len == BR_MESSAGE_ID_SIZE &&
        memcmp (heartbeat->hello_id.data, self->hello_id, BR_MESSAGE_ID_SIZE) == 0)
        self->awaiting_hello = false;
    //  Asked again while a HELLO is on its way: the answer is coming. The
    //  HELLO goes out from the timers, once the drain's transaction is done
    int64_t clock = br_clock_ms ();
    if (heartbeat->hello_wanted &&
        !(self->awaiting_hello && clock - self->hello_sent_clock < self->heartbeat_ms)) {
        zsys_info ("node: the broker has no session for this node; saying HELLO again");
        self->hello_again_clock = clock;
    }
}

//  Reads the broker's clock from a message it made just now (not one that
//  waited in its queue) and warns, at most every BN_SKEW_LOG_MS, when this
//  node's clock is so far off that messages are refused or arrive expired.
static void
s_read_broker_clock (s_node_t *self, const Bruecke__Header *header, int64_t now)
{
    self->clock_offset_ms = now - header->created_at_ms;
    self->clock_known = true;
    int64_t magnitude = self->clock_offset_ms < 0 ? -self->clock_offset_ms : self->clock_offset_ms;
    int64_t clock = br_clock_ms ();
    if (magnitude > BN_SKEW_WARN_MS &&
        (!self->skew_logged_clock || clock - self->skew_logged_clock > BN_SKEW_LOG_MS)) {
        self->skew_logged_clock = clock;
        zsys_warning ("node: this node's clock is %+lld s off the broker's; messages made now "
                      "are %s; check the time synchronisation (NTP)",
                      (long long) (self->clock_offset_ms / 1000),
                      self->clock_offset_ms > BR_CLOCK_SKEW_MS
                          ? "refused (CLOCK_SKEW) and kept until the clocks agree"
                          : "accepted, but may reach others late or expired");
    }
}

//  A message the broker sends on its own behalf, not queued.
static br_reason_t
s_handle_broker (s_node_t *self, MDB_txn *txn, br_envelope_t *envelope, int64_t now)
{
    const Bruecke__Header *header = br_envelope_header (envelope);
    ProtobufCMessage *body = NULL;
    br_reason_t reason = BR_REASON_OK;
    switch (header->type) {
        case BRUECKE__MESSAGE_TYPE__TYPE_ACCEPTED:
            if (br_envelope_open_body (envelope, NULL, &bruecke__accepted__descriptor, &body) ==
                BR_REASON_OK) {
                Bruecke__Accepted *accepted = (Bruecke__Accepted *) body;
                for (size_t index = 0; index < accepted->n_message_ids && reason == BR_REASON_OK;
                     index++)
                    if (accepted->message_ids[index].len == BR_MESSAGE_ID_SIZE)
                        reason = bn_store_sent_update (self->store, txn,
                                                       accepted->message_ids[index].data,
                                                       BN_SENT_ACCEPTED, BR_REASON_OK, now);
                self->last_progress_clock = br_clock_ms ();
            }
            break;
        case BRUECKE__MESSAGE_TYPE__TYPE_REFUSAL:
            if (br_envelope_open_body (envelope, NULL, &bruecke__refusal__descriptor, &body) ==
                BR_REASON_OK) {
                Bruecke__Refusal *refusal = (Bruecke__Refusal *) body;
                bool retry = br_reason_retry ((br_reason_t) refusal->reason);
                //  Retry refusals come in floods (a full disk): log one per interval
                int64_t clock = br_clock_ms ();
                if (!retry || clock - self->retry_logged_clock > self->retransmit_ms) {
                    zsys_info ("node: broker refused a message: %s%s",
                               br_reason_name ((br_reason_t) refusal->reason),
                               retry ? " (will retry)" : "");
                    if (retry)
                        self->retry_logged_clock = clock;
                }
                //  Retry reasons keep the message in the outbox for the next
                //  round; an answer is sent again from those kept
                if (refusal->message_id.len == BR_MESSAGE_ID_SIZE && retry)
                    bn_answers_refused (self->answers, refusal->message_id.data);
                if (refusal->message_id.len == BR_MESSAGE_ID_SIZE && !retry)
                    reason =
                        bn_store_sent_update (self->store, txn, refusal->message_id.data,
                                              BN_SENT_REFUSED, (br_reason_t) refusal->reason, now);
            }
            break;
        case BRUECKE__MESSAGE_TYPE__TYPE_BOARD_UPDATE:
        case BRUECKE__MESSAGE_TYPE__TYPE_LEDGER_UPDATE: {
            br_reason_t verdict;
            reason = bn_exchange_receive (self->exchange, txn, envelope, &verdict);
            if (verdict != BR_REASON_OK)
                zsys_warning ("node: exchange update from the broker refused: %s",
                              br_reason_name (verdict));
            break;
        }
        case BRUECKE__MESSAGE_TYPE__TYPE_ROSTER_UPDATE:
            if (br_envelope_open_body (envelope, NULL, &bruecke__roster_update__descriptor,
                                       &body) == BR_REASON_OK) {
                Bruecke__RosterUpdate *update = (Bruecke__RosterUpdate *) body;
                br_reason_t verdict;
                br_roster_t *roster =
                    br_roster_verify (update->signed_roster.data, update->signed_roster.len,
                                      self->county_public, self->roster, now, &verdict);
                if (roster && br_roster_version (roster) > br_roster_version (self->roster))
                    s_take_roster (self, &roster);
                else if (!roster)
                    zsys_warning ("node: roster from the broker refused: %s",
                                  br_reason_name (verdict));
                br_roster_destroy (&roster);
            }
            break;
        case BRUECKE__MESSAGE_TYPE__TYPE_HEARTBEAT:
            if (br_envelope_open_body (envelope, NULL, &bruecke__heartbeat__descriptor, &body) ==
                BR_REASON_OK)
                s_heartbeat_from_broker (self, (Bruecke__Heartbeat *) body);
            break;
        default:
            break;
    }
    br_proto_free (&body);
    return reason;
}

//  Applies one delivered message inside the open transaction.
static br_reason_t
s_handle_delivery (s_node_t *self, MDB_txn *txn, s_drain_t *drain, br_envelope_t *envelope,
                   int64_t now)
{
    const Bruecke__Header *header = br_envelope_header (envelope);
    drain->deliveries++;
    br_reason_t verdict = bn_delivery_check (self->identity, envelope, now);
    if (verdict != BR_REASON_OK) {
        char id[2 * BR_MESSAGE_ID_SIZE + 1];
        br_hex_encode (header->message_id.data, BR_MESSAGE_ID_SIZE, id);
        zsys_info ("node: refused delivered %s from %s: %s", id, header->sender,
                   br_reason_name (verdict));
        s_answer (self, drain, header, verdict, now);
        return BR_REASON_OK;
    }
    //  Casework is applied with the message, in the same transaction; what
    //  it refuses is not stored
    bool exchange = br_message_type_at_node (header->type) == BR_AT_NODE_EXCHANGE;
    if (exchange && !streq (br_envelope_signer (envelope), self->broker_id)) {
        s_answer (self, drain, header, BR_REASON_FORBIDDEN, now); //  only the broker's
        return BR_REASON_OK;
    }
    if ((exchange || br_message_type_at_node (header->type) == BR_AT_NODE_CASEWORK) &&
        !bn_store_seen (self->store, txn, header)) {
        br_reason_t reason =
            exchange ? bn_exchange_receive (self->exchange, txn, envelope, &verdict)
                     : bn_casework_receive (self->casework, txn, envelope, now, &verdict);
        if (reason != BR_REASON_OK)
            return reason;
        if (verdict != BR_REASON_OK) {
            zsys_info ("node: refused %s from %s: %s", br_message_type_name (header->type),
                       header->sender, br_reason_name (verdict));
            s_answer (self, drain, header, verdict, now);
            return BR_REASON_OK;
        }
    }
    bn_apply_t applied;
    br_reason_t reason = bn_store_apply (self->store, txn, header, br_envelope_data (envelope),
                                         br_envelope_size (envelope), now, &applied);
    if (reason == BR_REASON_OK && applied == BN_APPLIED)
        reason = bn_delivery_record_outcome (self->store, txn, envelope, now);
    if (reason == BR_REASON_OK)
        s_answer (self, drain, header, BR_REASON_OK, now);
    return reason;
}

//  Applies one message of the local queue (from one office of this node to
//  another) inside `txn`, with the checks of a delivery from the broker,
//  and records its outcome, which takes it out of the queue. Returns OK or
//  a store reason (then abort: it stays queued).
static br_reason_t
s_apply_local (s_node_t *self, MDB_txn *txn, uint64_t sequence, const uint8_t *data, size_t size)
{
    int64_t now = br_now_ms ();
    br_reason_t verdict;
    br_envelope_t *envelope = br_envelope_decode (data, size, &verdict);
    if (envelope)
        verdict = br_envelope_verify_in_roster (envelope, self->roster);
    if (verdict != BR_REASON_OK) {
        //  This node made it: its own bytes no longer verify (a new key, a
        //  roster without it?). The sending office learns it was refused
        zsys_error ("node: local message %llu does not verify (%s); refused",
                    (unsigned long long) sequence, br_reason_name (verdict));
        br_reason_t reason = BR_REASON_OK;
        if (envelope)
            reason = bn_store_sent_update (self->store, txn,
                                           br_envelope_header (envelope)->message_id.data,
                                           BN_SENT_REFUSED, verdict, now);
        br_envelope_destroy (&envelope);
        return reason == BR_REASON_OK ? bn_store_local_drop (self->store, txn, sequence) : reason;
    }
    const Bruecke__Header *header = br_envelope_header (envelope);
    verdict = bn_delivery_check (self->identity, envelope, now);
    if (verdict == BR_REASON_OK && br_message_type_at_node (header->type) != BR_AT_NODE_CASEWORK)
        verdict = BR_REASON_UNSUPPORTED_TYPE;
    br_reason_t reason = BR_REASON_OK;
    if (verdict == BR_REASON_OK && !bn_store_seen (self->store, txn, header))
        reason = bn_casework_receive (self->casework, txn, envelope, now, &verdict);
    bn_apply_t applied;
    if (reason == BR_REASON_OK && verdict == BR_REASON_OK)
        reason = bn_store_apply (self->store, txn, header, br_envelope_data (envelope),
                                 br_envelope_size (envelope), now, &applied);
    if (reason == BR_REASON_OK && verdict != BR_REASON_OK)
        zsys_info ("node: refused local %s: %s", br_message_type_name (header->type),
                   br_reason_name (verdict));
    if (reason == BR_REASON_OK)
        reason = bn_store_sent_update (
            self->store, txn, header->message_id.data,
            verdict == BR_REASON_OK ? BN_SENT_RECEIPTED : BN_SENT_REFUSED, verdict, now);
    br_envelope_destroy (&envelope);
    return reason;
}

//  Applies what waits in the local queue, oldest first, each message in a
//  transaction of its own, in which its outcome is recorded too: a node
//  stopped at any moment applies each exactly once, at the latest after
//  its next start. After a failed commit it tries again after a while.
static void
s_deliver_local (s_node_t *self)
{
    int64_t clock = br_clock_ms ();
    if (clock < self->local_retry_clock || bn_store_local_count (self->store) == 0)
        return;
    for (size_t count = 0; count < BN_DELIVERY_BATCH; count++) {
        MDB_txn *txn = NULL;
        uint64_t sequence = 0;
        const uint8_t *data = NULL;
        size_t size = 0;
        br_reason_t reason = bn_store_begin (self->store, &txn);
        if (reason == BR_REASON_OK)
            reason = bn_store_local_first (self->store, txn, &sequence, &data, &size);
        if (reason == BR_REASON_OK)
            reason = s_apply_local (self, txn, sequence, data, size);
        if (reason == BR_REASON_OK)
            reason = bn_store_commit (self->store, &txn);
        bn_store_abort (self->store, &txn);
        if (reason != BR_REASON_OK) {
            if (reason != BR_REASON_NOT_FOUND) {
                zsys_warning ("node: cannot apply messages between this node's offices: %s",
                              br_reason_name (reason));
                self->local_retry_clock = clock + self->retransmit_ms;
            }
            return;
        }
    }
}

//  Asks the broker for what the exchange's copies missed, at most once a
//  second.
static void
s_sync (s_node_t *self)
{
    int64_t clock = br_clock_ms ();
    if (!self->connected || clock - self->last_sync_clock < BN_SYNC_INTERVAL_MS)
        return;
    Bruecke__ExchangeSync sync;
    if (bn_exchange_sync_due (self->exchange, &sync)) {
        s_send_control (self, BRUECKE__MESSAGE_TYPE__TYPE_EXCHANGE_SYNC, &sync.base, NULL);
        self->last_sync_clock = clock;
    }
}

//  Takes everything the broker sent, applies it in one transaction, then
//  answers and grants credit.
static void
s_receive (s_node_t *self)
{
    s_drain_t drain = {.answers = s_answers_new ()};
    int64_t now = br_now_ms ();
    MDB_txn *txn = NULL;
    br_reason_t failure = bn_store_begin (self->store, &txn);
    size_t taken = 0;
    while (failure == BR_REASON_OK && taken < BN_DELIVERY_BATCH) {
        zframe_t *frame = zframe_recv_nowait (self->dealer);
        if (!frame)
            break;
        taken++;
        now = br_now_ms (); //  each frame is judged by the time it is taken
        br_reason_t reason;
        br_envelope_t *envelope =
            br_envelope_decode (zframe_data (frame), zframe_size (frame), &reason);
        zframe_destroy (&frame);
        if (envelope)
            reason = br_envelope_verify_in_roster (envelope, self->roster);
        if (reason != BR_REASON_OK) {
            //  Not verifiable with our roster: leave it with the broker
            zsys_warning ("node: unverifiable message from the broker: %s",
                          br_reason_name (reason));
            drain.deliveries += !self->awaiting_hello;
            br_envelope_destroy (&envelope);
            continue;
        }
        const Bruecke__Header *header = br_envelope_header (envelope);
        bool from_broker = streq (br_envelope_signer (envelope), self->broker_id);
        if (from_broker)
            self->last_heard_clock = br_clock_ms ();
        if (from_broker && !br_message_type_broker_queued (header->type)) {
            s_read_broker_clock (self, header, now);
            failure = s_handle_broker (self, txn, envelope, now);
        } else if (!self->awaiting_hello)
            failure = s_handle_delivery (self, txn, &drain, envelope, now);
        //  Else a delivery of the session before our last HELLO: left
        //  unanswered, it comes again, in order, after the broker's answer
        br_envelope_destroy (&envelope);
    }
    if (failure == BR_REASON_OK)
        failure = bn_store_commit (self->store, &txn);
    else
        bn_store_abort (self->store, &txn);
    if (failure != BR_REASON_OK) {
        //  Nothing applied and no credit granted: ask for everything again
        //  after a while (a new HELLO restarts delivery), maybe with room
        //  then. Until the broker answers that HELLO, what it still sends is
        //  dropped: stored now, it would come before what was just dropped,
        //  out of each sender's order.
        zsys_warning ("node: cannot store deliveries: %s", br_reason_name (failure));
        zlistx_purge (drain.answers);
        bn_exchange_rolled_back (self->exchange);
        self->hello_again_clock = br_clock_ms () + self->retransmit_ms;
        self->awaiting_hello = true;
        memset (self->hello_id, 0, sizeof (self->hello_id));
    }
    s_answers_commit (self, drain.answers, true); //  none left if the commit failed
    if (drain.deliveries > 0 && failure == BR_REASON_OK) {
        Bruecke__Credit credit = BRUECKE__CREDIT__INIT;
        credit.credit = drain.deliveries;
        s_send_control (self, BRUECKE__MESSAGE_TYPE__TYPE_CREDIT, &credit.base, NULL);
    }
    zlistx_destroy (&drain.answers);
    s_pump (self);
    s_sync (self);
}

//  ---- Connection events ----------------------------------------------------

//  Starts a delivery session: the broker answers with a HEARTBEAT naming
//  this HELLO, then delivers all that is unanswered, oldest first. What
//  arrives before that answer belongs to an earlier session and is dropped.
static void
s_hello (s_node_t *self)
{
    if (!self->connected)
        zsys_info ("node: connected to the broker");
    self->connected = true;
    self->send_cursor = 0;
    self->awaiting_hello = true;
    self->hello_again_clock = 0;
    self->hello_sent_clock = br_clock_ms ();
    self->last_heard_clock = self->hello_sent_clock;
    Bruecke__Hello hello = BRUECKE__HELLO__INIT;
    hello.roster_version = br_roster_version (self->roster);
    hello.credit = self->credit;
    hello.software = "bruecke-node 0.1";
    s_send_control (self, BRUECKE__MESSAGE_TYPE__TYPE_HELLO, &hello.base, self->hello_id);
    s_pump (self);
    bn_exchange_want_sync (self->exchange);
    self->last_sync_clock = 0;
    s_sync (self);
}

static void
s_monitor_event (s_node_t *self)
{
    zmsg_t *event = zmsg_recv (self->monitor);
    if (!event)
        return;
    zframe_t *first = zmsg_first (event);
    if (first && zframe_size (first) >= 2) {
        uint16_t code = (uint16_t) (zframe_data (first)[0] | (zframe_data (first)[1] << 8));
        if (code == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
            s_hello (self);
        else if (code == ZMQ_EVENT_DISCONNECTED && self->connected) {
            self->connected = false;
            zsys_info ("node: disconnected from the broker; reconnecting");
            //  The broker may have died before it stored the last answers:
            //  they go again on the next connection (a stored one is taken
            //  as a retransmission)
            bn_answers_since (self->answers, br_clock_ms () - self->retransmit_ms);
        }
    }
    zmsg_destroy (&event);
}

//  ---- The JSON API ---------------------------------------------------------------

static void
s_api_status (s_node_t *self, bn_request_t *request)
{
    Bruecke__ExchangeSync held;
    bn_exchange_held (self->exchange, &held);
    json_t *offices = json_array ();
    const Bruecke__RosterNode *here =
        br_roster_lookup_by_id (self->roster, br_identity_node_id (self->identity));
    for (size_t index = 0; here && index < here->n_services; index++)
        json_array_append_new (offices, json_string (here->services[index]));
    request->result = json_pack (
        "{ss so sO sb sI sI sI sI sI sI so}", "node", br_identity_node_id (self->identity),
        "offices", offices, "letterhead", self->letterhead, "connected", self->connected,
        "roster_version", (json_int_t) br_roster_version (self->roster), "outbox",
        (json_int_t) bn_store_outbox_count (self->store), "local",
        (json_int_t) bn_store_local_count (self->store), "inbox",
        (json_int_t) bn_store_inbox_count (self->store), "board_sequence",
        (json_int_t) held.board_sequence, "ledger_sequence", (json_int_t) held.ledger_sequence,
        "clock_offset_ms",
        self->clock_known ? json_integer ((json_int_t) self->clock_offset_ms) : json_null ());
    request->reason = BR_REASON_OK;
}

//  bn_api_dispatch_fn: carries out one API request on the actor's thread,
//  in one transaction.
static void
s_api_call (void *argument, bn_request_t *request)
{
    s_node_t *self = (s_node_t *) argument;
    //  The HTTP layer matched the route (bn_routes): its owner carries it out
    if (request->route->owner == BN_OWNER_NODE)
        s_api_status (self, request);
    else if (request->route->owner == BN_OWNER_EXCHANGE)
        bn_exchange_call (self->exchange, request);
    else {
        MDB_txn *txn = NULL;
        br_reason_t reason = bn_store_begin (self->store, &txn);
        if (reason == BR_REASON_OK)
            reason = bn_casework_call (self->casework, txn, request);
        if (reason == BR_REASON_OK)
            reason = bn_store_commit (self->store, &txn);
        bn_store_abort (self->store, &txn);
        if (reason != BR_REASON_OK) {
            json_decref (request->result);
            request->result = NULL;
            if (!request->detail[0])
                snprintf (request->detail, sizeof (request->detail), "%s",
                          br_reason_retry (reason) ? "the node cannot store now, try again later"
                                                   : br_reason_name (reason));
        }
        request->reason = reason;
    }
    s_pump (self); //  what the request queued goes out now
}

//  Opens the web interface's users and pages, served with the API: pages
//  from node/web-root (the source tree's node/web unless configured), users
//  from node/web-users (web-users in the state directory). Without the
//  pages' directory there is no web interface, only the API.
static br_reason_t
s_start_web (s_node_t *self, br_config_t *config)
{
    const char *root = br_config_string (config, "node/web-root", BRUECKE_WEB_ROOT);
    char *default_users = zsys_sprintf ("%s/web-users", self->state_path);
    const char *users = br_config_string (config, "node/web-users", default_users);
    br_reason_t reason = BR_REASON_OK;
    self->web = bn_web_new (users, root, &reason);
    if (!self->web && reason == BR_REASON_IO_ERROR) {
        zsys_warning ("node: no web interface: no pages in %s", root);
        reason = BR_REASON_OK;
    } else if (!self->web)
        zsys_error ("node: web users %s: %s", users, br_reason_name (reason));
    zstr_free (&default_users);
    bool secure = false;
    if (self->web && reason == BR_REASON_OK)
        reason = br_config_bool (config, "node/web-secure-cookie", false, &secure);
    if (self->web)
        bn_web_set_secure (self->web, secure);
    return reason;
}

static void
s_count_officeless (void *argument, const char *name, const char *role, const char *offices)
{
    (void) name;
    if (!*offices && !streq (role, BN_TOKENS_ROLE_ADMINISTRATION))
        (*(size_t *) argument)++;
}

//  Warns of tokens or web users in `entries` that act for no office (from
//  before offices, say): they work no case until they are given offices.
static void
s_warn_officeless (bn_tokens_t *entries, const char *what, const char *command)
{
    size_t count = 0;
    bn_tokens_list (entries, s_count_officeless, &count);
    if (count)
        zsys_warning ("node: %zu %s act for no office and see no case until they are given "
                      "offices ('bruecke %s offices')",
                      count, what, command);
}

//  Opens the casework and, if configured, the JSON API.
static br_reason_t
s_start_casework (s_node_t *self, br_config_t *config)
{
    char *default_key = zsys_sprintf ("%s/data.key", self->state_path);
    const char *key_path = br_config_string (config, "node/data-key", default_key);
    br_reason_t reason;
    self->vault = bn_vault_load (key_path, true, &reason);
    if (!self->vault)
        zsys_error ("node: data key %s: %s", key_path, br_reason_name (reason));
    zstr_free (&default_key);
    if (self->vault) {
        self->audit = bn_audit_new (bn_store_env (self->store), &reason);
        if (self->audit)
            self->casework =
                bn_casework_new (self->store, self->identity, self->vault, self->audit, &reason);
        if (!self->casework) {
            zsys_error ("node: casework store: %s", br_reason_name (reason));
            return reason;
        }
        bn_casework_set_roster (self->casework, self->roster);
    }
    if (!self->vault)
        return reason;
    const char *address = br_config_string (config, "node/api", NULL);
    if (!address)
        return BR_REASON_OK; //  no API: casework arrives, but nobody can act on it here
    char *default_tokens = zsys_sprintf ("%s/api-tokens", self->state_path);
    const char *tokens_path = br_config_string (config, "node/api-tokens", default_tokens);
    self->tokens = bn_tokens_new (tokens_path, &reason);
    if (!self->tokens)
        zsys_error ("node: API tokens %s: %s", tokens_path, br_reason_name (reason));
    else if (!bn_tokens_present (self->tokens))
        zsys_warning ("node: no API token file at %s yet; every API request is refused until a "
                      "token is added",
                      tokens_path);
    zstr_free (&default_tokens);
    if (!self->tokens)
        return reason;
    s_warn_officeless (self->tokens, "API token(s)", "api-token");
    reason = s_start_web (self, config);
    if (reason == BR_REASON_OK && self->web)
        s_warn_officeless (bn_web_users (self->web), "web user(s)", "web-user");
    if (reason != BR_REASON_OK)
        return reason;
    self->api = bn_api_new (address, self->tokens, self->web, &reason);
    if (!self->api) {
        zsys_error ("node: cannot serve the API on %s: %s", address, br_reason_name (reason));
        return reason;
    }
    zsys_info ("node: API on %s", address);
    return BR_REASON_OK;
}

//  ---- Control ----------------------------------------------------------------

static void
s_control (s_node_t *self)
{
    zmsg_t *request = zmsg_recv (self->control);
    if (!request)
        return;
    bn_control_node_t node = {.store = self->store,
                              .identity = self->identity,
                              .roster = self->roster,
                              .connected = self->connected,
                              .clock_known = self->clock_known,
                              .clock_offset_ms = self->clock_offset_ms};
    zmsg_t *reply = bn_control_answer (&node, request);
    zmsg_send (&reply, self->control);
    zmsg_destroy (&request);
    s_pump (self); //  a test note goes out now
}

//  ---- Start and stop -----------------------------------------------------------

//  Loads the newer of the enrollment roster and the one kept in state.
static br_reason_t
s_load_roster (s_node_t *self, const char *enrolled_path)
{
    br_reason_t reason;
    int64_t now = br_now_ms ();
    self->roster = br_roster_load (enrolled_path, self->county_public, NULL, now, &reason);
    char *kept_path = zsys_sprintf ("%s/%s", self->state_path, S_ROSTER_FILE);
    br_reason_t kept_reason;
    br_roster_t *kept = br_roster_load (kept_path, self->county_public, NULL, now, &kept_reason);
    zstr_free (&kept_path);
    if (kept && (!self->roster || br_roster_version (kept) > br_roster_version (self->roster))) {
        br_roster_destroy (&self->roster);
        self->roster = kept;
        kept = NULL;
    }
    br_roster_destroy (&kept);
    return self->roster ? BR_REASON_OK : reason;
}

static br_reason_t
s_start (s_node_t *self, br_config_t *config)
{
    const char *key_path = NULL, *county_path = NULL, *roster_path = NULL;
    const char *broker_endpoint = NULL, *state = NULL;
    int64_t credit = 0, window = 0;
    const br_config_setting_t settings[] = {
        {"node/key", &key_path, NULL, 0, 0, 0},
        {"node/county-public", &county_path, NULL, 0, 0, 0},
        {"node/roster", &roster_path, NULL, 0, 0, 0},
        {"node/broker", &broker_endpoint, NULL, 0, 0, 0},
        {"node/state", &state, NULL, 0, 0, 0},
        {"node/credit", NULL, &credit, BN_DEFAULT_CREDIT, 1, 100000},
        {"node/window", NULL, &window, BN_DEFAULT_WINDOW, 1, 100000},
        {"node/retransmit-ms", NULL, &self->retransmit_ms, BN_DEFAULT_RETRANSMIT_MS, 10, 3600000},
        {"node/heartbeat-ms", NULL, &self->heartbeat_ms, BN_DEFAULT_HEARTBEAT_MS, 10, 3600000},
        {NULL, NULL, NULL, 0, 0, 0}};
    const char *failed = NULL;
    br_reason_t reason = br_config_read (config, settings, &failed);
    if (reason != BR_REASON_OK) {
        zsys_error ("node: configuration: %s: %s", failed, br_reason_name (reason));
        return reason;
    }
    self->credit = (uint32_t) credit;
    self->window = (uint32_t) window;
    self->state_path = strdup (state);
    //  What the printed consent form says of the town (strings; empty if not set)
    self->letterhead = json_object ();
    const char *letterhead[][2] = {{"name", "node/letterhead-name"},
                                   {"address", "node/letterhead-address"},
                                   {"contact", "node/letterhead-contact"},
                                   {"dpo", "node/letterhead-dpo"}};
    for (size_t index = 0; index < sizeof (letterhead) / sizeof (letterhead[0]); index++)
        json_object_set_new (self->letterhead, letterhead[index][0],
                             json_string (br_config_string (config, letterhead[index][1], "")));
    self->identity = br_identity_load (key_path, &reason);
    if (!self->identity) {
        zsys_error ("node: key %s: %s", key_path, br_reason_name (reason));
        return reason;
    }
    br_identity_t *county = br_identity_load_public (county_path, &reason);
    if (!county) {
        zsys_error ("node: county key %s: %s", county_path, br_reason_name (reason));
        return reason;
    }
    memcpy (self->county_public, br_identity_sign_public (county), BR_SIGN_PUBLIC_SIZE);
    br_identity_destroy (&county);
    self->answers = bn_answers_new (BN_ANSWERS_KEPT);
    self->store = bn_store_new (state, 0, &reason);
    if (!self->store) {
        zsys_error ("node: store %s: %s", state, br_reason_name (reason));
        return reason;
    }
    reason = s_load_roster (self, roster_path);
    if (reason != BR_REASON_OK) {
        zsys_error ("node: roster %s: %s", roster_path, br_reason_name (reason));
        return reason;
    }
    //  The broker is the roster's broker node; its transport key is the server key
    const Bruecke__Roster *content = br_roster_content (self->roster);
    const Bruecke__RosterNode *broker = NULL;
    for (size_t index = 0; index < content->n_nodes && !broker; index++)
        if (content->nodes[index]->role == BRUECKE__NODE_ROLE__ROLE_BROKER)
            broker = content->nodes[index];
    const Bruecke__RosterNode *own =
        br_roster_lookup_by_id (self->roster, br_identity_node_id (self->identity));
    if (!broker || !own || own->revoked ||
        memcmp (own->sign_public_key.data, br_identity_sign_public (self->identity),
                BR_SIGN_PUBLIC_SIZE) != 0) {
        zsys_error ("node: the roster names no broker, or not this node with these keys");
        return BR_REASON_ROSTER_INVALID;
    }
    snprintf (self->broker_id, sizeof (self->broker_id), "%s", broker->node_id);
    self->exchange = bn_exchange_new (self->store, self->identity, &reason);
    if (!self->exchange) {
        zsys_error ("node: exchange store: %s", br_reason_name (reason));
        return reason;
    }
    bn_exchange_set_roster (self->exchange, self->roster);
    reason = s_start_casework (self, config);
    if (reason != BR_REASON_OK)
        return reason;
    s_receipt_last_again (self);
    size_t local = bn_store_local_count (self->store);
    if (local)
        zsys_info ("node: %zu messages between this node's offices wait; applying them", local);

    char *default_control = zsys_sprintf ("ipc://%s/control.ipc", state);
    const char *control = br_config_string (config, "node/control", default_control);
    self->control = zsock_new (ZMQ_REP);
    zsock_set_sndtimeo (self->control, BN_CONTROL_TIMEOUT_MS);
    int rc = zsock_bind (self->control, "%s", control);
    zstr_free (&default_control);
    if (rc < 0) {
        zsys_error ("node: cannot bind the control endpoint");
        return BR_REASON_IO_ERROR;
    }

    self->dealer = zsock_new (ZMQ_DEALER);
    zcert_t *cert = zcert_new_from (br_identity_transport_public (self->identity),
                                    br_identity_transport_secret (self->identity));
    zcert_apply (cert, self->dealer);
    zcert_destroy (&cert);
    zsock_set_curve_serverkey_bin (self->dealer, broker->transport_public_key.data);
    zsock_set_linger (self->dealer, 0);
    zsock_set_immediate (self->dealer, 1); //  nothing queues in libzmq while disconnected
    zsock_set_sndhwm (self->dealer, 100000);
    zsock_set_rcvhwm (self->dealer, 100000);
    zsock_set_maxmsgsize (self->dealer, BR_ENVELOPE_MAX_SIZE);
    zsock_set_reconnect_ivl (self->dealer, BN_RECONNECT_MS);
    zsock_set_reconnect_ivl_max (self->dealer, BN_RECONNECT_MAX_MS);
    zsock_set_heartbeat_ivl (self->dealer, (int) self->heartbeat_ms);
    zsock_set_heartbeat_timeout (self->dealer, (int) (3 * self->heartbeat_ms));
    char monitor_endpoint[BR_INPROC_ENDPOINT_SIZE];
    br_inproc_endpoint ("bn-monitor", monitor_endpoint);
    rc = zmq_socket_monitor (zsock_resolve (self->dealer), monitor_endpoint,
                             ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED);
    assert (rc == 0);
    self->monitor = zsock_new (ZMQ_PAIR);
    rc = zsock_connect (self->monitor, "%s", monitor_endpoint);
    assert (rc == 0);
    if (zsock_connect (self->dealer, "%s", broker_endpoint) != 0) {
        zsys_error ("node: invalid broker endpoint %s", broker_endpoint);
        return BR_REASON_CONFIG_INVALID;
    }
    zsys_info ("node: %s started, roster version %llu, broker %s",
               br_identity_node_id (self->identity),
               (unsigned long long) br_roster_version (self->roster), broker_endpoint);
    return BR_REASON_OK;
}

static void
s_stop (s_node_t *self)
{
    bn_api_destroy (&self->api); //  then the tokens and the web users are ours again
    bn_tokens_destroy (&self->tokens);
    bn_web_destroy (&self->web);
    bn_casework_destroy (&self->casework);
    bn_exchange_destroy (&self->exchange);
    bn_audit_destroy (&self->audit);
    bn_vault_destroy (&self->vault);
    if (self->dealer)
        zmq_socket_monitor (zsock_resolve (self->dealer), NULL, 0);
    zsock_destroy (&self->monitor);
    zsock_destroy (&self->dealer);
    zsock_destroy (&self->control);
    br_roster_destroy (&self->roster);
    bn_store_destroy (&self->store);
    bn_answers_destroy (&self->answers);
    br_identity_destroy (&self->identity);
    free (self->state_path);
    json_decref (self->letterhead);
}

static void
s_resend_answer (void *argument, const uint8_t *data, size_t size)
{
    s_send ((s_node_t *) argument, data, size);
}

//  Runs the timers; `now` is br_clock_ms (monotonic).
static void
s_timers (s_node_t *self, int64_t now)
{
    if (self->connected && self->hello_again_clock && now >= self->hello_again_clock) {
        self->hello_again_clock = 0;
        s_hello (self);
    }
    //  The broker silent too long, its heartbeats too: it may hold no
    //  session for us (and the connection look fine): say HELLO again
    if (self->connected &&
        now - self->last_heard_clock > BN_SILENCE_HEARTBEATS * self->heartbeat_ms) {
        zsys_info ("node: nothing heard from the broker for %lld s; saying HELLO again",
                   (long long) ((now - self->last_heard_clock) / 1000));
        s_hello (self);
    }
    if (self->connected && now >= self->next_heartbeat_clock) {
        Bruecke__Heartbeat heartbeat = BRUECKE__HEARTBEAT__INIT;
        s_send_control (self, BRUECKE__MESSAGE_TYPE__TYPE_HEARTBEAT, &heartbeat.base, NULL);
        self->next_heartbeat_clock = now + self->heartbeat_ms;
        //  Answers the broker refused for a retry reason go again, as they were
        size_t again = bn_answers_resend (self->answers, s_resend_answer, self);
        if (again)
            zsys_info ("node: sending %zu answers again", again);
    }
    s_sync (self);
    s_deliver_local (self);
    //  No acceptance for too long: send everything unaccepted again
    if (self->connected && self->send_cursor > 0 &&
        now - self->last_progress_clock > self->retransmit_ms) {
        s_pump_t pump = {.node = self};
        bn_store_outbox_read (self->store, 0, self->window, s_count_in_flight, &pump);
        if (pump.in_flight > 0) {
            zsys_info ("node: retransmitting %zu unaccepted messages", pump.in_flight);
            self->send_cursor = 0;
            s_pump (self);
        }
        self->last_progress_clock = now;
    }
}

void
bn_client_actor (zsock_t *pipe, void *args)
{
    br_daemon_args_t *start = (br_daemon_args_t *) args;
    s_node_t *self = (s_node_t *) zmalloc (sizeof (s_node_t));
    self->pipe = pipe;
    //  `start` is the caller's until the signal: read nothing of it after
    bool started = s_start (self, start->config) == BR_REASON_OK;
    start->started = started;
    zsock_signal (pipe, 0);
    if (!started) {
        s_stop (self);
        free (self);
        return;
    }
    zpoller_t *poller = zpoller_new (pipe, self->dealer, self->monitor, self->control, NULL);
    if (self->api)
        zpoller_add (poller, bn_api_requests (self->api));
    bool running = true;
    while (running) {
        zsock_t *which = (zsock_t *) zpoller_wait (poller, 500);
        if (which == pipe) {
            char *command = zstr_recv (pipe);
            if (!command || streq (command, "$TERM"))
                running = false;
            zstr_free (&command);
        } else if (which == self->dealer)
            s_receive (self);
        else if (which == self->monitor)
            s_monitor_event (self);
        else if (which == self->control)
            s_control (self);
        else if (which && self->api && which == bn_api_requests (self->api))
            bn_api_serve (self->api, s_api_call, self);
        else if (zpoller_terminated (poller))
            running = false;
        s_timers (self, br_clock_ms ());
    }
    zpoller_destroy (&poller);
    s_stop (self);
    free (self);
}
