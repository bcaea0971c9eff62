/*  =========================================================================
    bb_sessions - the broker's sessions with the nodes
    =========================================================================
*/

#include "bruecke.h"
#include "bb_sessions.h"
#include "bb_testing.h"

struct _bb_sessions_t {
    bb_sender_t *sender; //  sends (the caller's)
    bb_store_t *store;   //  the queues (the caller's)
    zhashx_t *sessions;  //  node id -> bb_session_t
};

static void
s_session_free (void **item)
{
    bb_session_t *session = (bb_session_t *) *item;
    if (session) {
        zframe_destroy (&session->routing_id);
        free (session);
        *item = NULL;
    }
}

bb_sessions_t *
bb_sessions_new (bb_sender_t *sender, bb_store_t *store)
{
    assert (sender && store);
    bb_sessions_t *self = (bb_sessions_t *) zmalloc (sizeof (bb_sessions_t));
    assert (self);
    self->sender = sender;
    self->store = store;
    self->sessions = zhashx_new ();
    zhashx_set_destructor (self->sessions, s_session_free);
    return self;
}

void
bb_sessions_destroy (bb_sessions_t **self_p)
{
    assert (self_p);
    bb_sessions_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy (&self->sessions);
    free (self);
    *self_p = NULL;
}

bb_session_t *
bb_sessions_get (bb_sessions_t *self, const char *node_id)
{
    assert (self && node_id);
    bb_session_t *session = bb_sessions_lookup (self, node_id);
    if (!session) {
        session = (bb_session_t *) zmalloc (sizeof (bb_session_t));
        assert (session);
        snprintf (session->node_id, sizeof (session->node_id), "%s", node_id);
        zhashx_insert (self->sessions, node_id, session);
    }
    return session;
}

bb_session_t *
bb_sessions_lookup (bb_sessions_t *self, const char *node_id)
{
    assert (self && node_id);
    return (bb_session_t *) zhashx_lookup (self->sessions, node_id);
}

bb_session_t *
bb_sessions_first (bb_sessions_t *self)
{
    assert (self);
    return (bb_session_t *) zhashx_first (self->sessions);
}

bb_session_t *
bb_sessions_next (bb_sessions_t *self)
{
    assert (self);
    return (bb_session_t *) zhashx_next (self->sessions);
}

void
bb_sessions_start (bb_sessions_t *self, bb_session_t *session, zframe_t *routing_id,
                   uint32_t credit)
{
    assert (self && session && routing_id);
    zframe_destroy (&session->routing_id);
    session->routing_id = zframe_dup (routing_id);
    session->credit = credit;
    session->cursor = 0;          //  redeliver all that is not yet confirmed
    session->last_sync_clock = 0; //  its first EXCHANGE_SYNC on this connection is answered
    session->last_answer_clock = br_clock_ms ();
}

void
bb_sessions_seen (bb_sessions_t *self, bb_session_t *session, zframe_t *routing_id,
                  int64_t received_ms, const Bruecke__Header *header)
{
    assert (self && session && routing_id && header);
    int64_t now = br_clock_ms ();
    session->last_seen_ms = received_ms;
    session->last_seen_clock = now;
    if (br_message_type_session (header->type)) {
        session->clock_offset_ms = header->created_at_ms - received_ms;
        session->clock_known = true;
    }
    if (session->routing_id || header->type == BRUECKE__MESSAGE_TYPE__TYPE_HELLO ||
        (session->hello_asked_clock && now - session->hello_asked_clock < BB_SESSIONS_HELLO_ASK_MS))
        return;
    session->hello_asked_clock = now;
    Bruecke__Heartbeat ask = BRUECKE__HEARTBEAT__INIT;
    ask.hello_wanted = true;
    bb_sender_own (self->sender, routing_id, BRUECKE__MESSAGE_TYPE__TYPE_HEARTBEAT,
                   session->node_id, &ask.base);
}

bool
bb_sessions_held_back (bb_session_t *session, const Bruecke__Header *header)
{
    assert (session && header);
    if (session->held_sequence == 0 || !br_message_type_acknowledged (header->type))
        return false;
    if (header->sequence <= session->held_sequence) {
        session->held_sequence = 0; //  the refused one is back: release
        return false;
    }
    return true;
}

void
bb_sessions_hold (bb_session_t *session, const Bruecke__Header *header, br_reason_t reason)
{
    assert (session && header);
    if (!br_message_type_acknowledged (header->type))
        return;
    if (br_reason_retry (reason)) {
        if (session->held_sequence == 0 || header->sequence < session->held_sequence)
            session->held_sequence = header->sequence;
    } else if (session->held_sequence && header->sequence <= session->held_sequence)
        session->held_sequence = 0;
}

void
bb_sessions_offline (bb_session_t *session, const char *why)
{
    assert (session && why);
    if (session->routing_id) {
        zsys_info ("broker: %s offline (%s)", session->node_id, why);
        zframe_destroy (&session->routing_id);
    }
    session->credit = 0;
}

//  One delivery run.
typedef struct {
    bb_sessions_t *self;   //  the sessions
    bb_session_t *session; //  the node delivered to
    bool failed;           //  a send failed: the node is gone
} s_delivery_t;

static void
s_deliver_one (void *argument, uint64_t counter, const uint8_t *data, size_t size)
{
    s_delivery_t *delivery = (s_delivery_t *) argument;
    if (delivery->failed)
        return;
    if (!bb_sender_bytes (delivery->self->sender, delivery->session->routing_id, data, size)) {
        delivery->failed = true;
        return;
    }
    delivery->session->cursor = counter;
    delivery->session->credit--;
}

void
bb_sessions_deliver (bb_sessions_t *self, bb_session_t *session)
{
    assert (self && session);
    session->touched = false;
    if (!session->routing_id || session->credit == 0)
        return;
    s_delivery_t delivery = {.self = self, .session = session};
    bb_store_read_queue (self->store, NULL, session->node_id, session->cursor, session->credit,
                         s_deliver_one, &delivery);
    if (delivery.failed)
        bb_sessions_offline (session, "unreachable");
}

void
bb_sessions_deliver_touched (bb_sessions_t *self)
{
    assert (self);
    for (bb_session_t *session = bb_sessions_first (self); session;
         session = bb_sessions_next (self))
        if (session->touched)
            bb_sessions_deliver (self, session);
}

void
bb_sessions_heartbeat (bb_sessions_t *self, int64_t now, int64_t offline_ms, int64_t redeliver_ms)
{
    assert (self);
    Bruecke__Heartbeat heartbeat = BRUECKE__HEARTBEAT__INIT;
    for (bb_session_t *session = bb_sessions_first (self); session;
         session = bb_sessions_next (self)) {
        if (!session->routing_id)
            continue;
        if (now - session->last_seen_clock > offline_ms) {
            bb_sessions_offline (session, "silent");
            continue;
        }
        bb_sender_own (self->sender, session->routing_id, BRUECKE__MESSAGE_TYPE__TYPE_HEARTBEAT,
                       session->node_id, &heartbeat.base);
        //  Delivered, but no answer stored for too long (an answer may have
        //  been refused, say on a full disk): deliver all unanswered again
        if (session->cursor > 0 && bb_store_depth (self->store, session->node_id) > 0 &&
            now - session->last_answer_clock > redeliver_ms &&
            now - session->last_redelivery_clock > redeliver_ms) {
            zsys_info ("broker: delivering to %s again: no answer for %lld s", session->node_id,
                       (long long) ((now - session->last_answer_clock) / 1000));
            session->cursor = 0;
            session->last_redelivery_clock = now;
            bb_sessions_deliver (self, session);
        }
    }
}

//  ---- Self test ----------------------------------------------------------------

//  Queues message `number` (its bytes "message <number>") for `recipient`.
static void
s_test_enqueue (bb_store_t *store, const char *recipient, uint8_t number)
{
    uint8_t id[BR_MESSAGE_ID_SIZE] = {0x5e, number};
    Bruecke__Header header;
    br_envelope_header_init (&header, id, BRUECKE__MESSAGE_TYPE__TYPE_TEST_NOTE, "unna", recipient,
                             "jobcenter", number, br_now_ms (), 3600 * 1000);
    char data[16];
    snprintf (data, sizeof (data), "message %u", (unsigned) number);
    uint8_t hash[BR_DIGEST_SIZE] = {number};
    MDB_txn *txn = NULL;
    assert (bb_store_begin (store, &txn) == BR_REASON_OK);
    assert (bb_store_enqueue (store, txn, &header, (const uint8_t *) data, strlen (data), hash) ==
            BR_REASON_OK);
    assert (bb_store_commit (store, &txn) == BR_REASON_OK);
}

//  The next frame the town receives, as text (the caller frees it): the
//  raw message, or "HEARTBEAT" / "HEARTBEAT hello" for the broker's own.
static char *
s_test_next (zsock_t *town, br_roster_t *roster)
{
    zframe_t *frame = zframe_recv (town);
    assert (frame);
    br_reason_t reason;
    br_envelope_t *envelope =
        br_envelope_decode (zframe_data (frame), zframe_size (frame), &reason);
    char *text = NULL;
    if (envelope && br_envelope_verify_in_roster (envelope, roster) == BR_REASON_OK) {
        ProtobufCMessage *body = NULL;
        assert (br_envelope_open_body (envelope, NULL, &bruecke__heartbeat__descriptor, &body) ==
                BR_REASON_OK);
        text =
            strdup (((Bruecke__Heartbeat *) body)->hello_wanted ? "HEARTBEAT hello" : "HEARTBEAT");
        br_proto_free (&body);
    } else
        text = zframe_strdup (frame);
    br_envelope_destroy (&envelope);
    zframe_destroy (&frame);
    return text;
}

//  Asserts that the town receives `expected` next.
static void
s_test_expect (zsock_t *town, br_roster_t *roster, const char *expected)
{
    char *text = s_test_next (town, roster);
    assert (streq (text, expected));
    zstr_free (&text);
}

void
bb_sessions_test (bool verbose)
{
    if (verbose)
        printf (" * bb_sessions: ");
    //  @selftest
    bb_testing_t *testing = bb_testing_new ();
    br_testing_county_t *county = testing->county;
    bb_store_t *store = testing->store;
    zsock_t *town = testing->town;
    zframe_t *routing_id = testing->routing_id;
    bb_sender_t *sender = bb_sender_new (testing->router, county->broker, store);
    bb_sessions_t *sessions = bb_sessions_new (sender, store);
    for (uint8_t number = 1; number <= 3; number++)
        s_test_enqueue (store, "luenen", number);

    //  Heard without a session: asked for HELLO, once a second at most
    bb_session_t *session = bb_sessions_get (sessions, "luenen");
    assert (session == bb_sessions_lookup (sessions, "luenen") && !session->routing_id);
    assert (!bb_sessions_lookup (sessions, "unna"));
    uint8_t id[BR_MESSAGE_ID_SIZE] = {1};
    Bruecke__Header header;
    br_envelope_header_init (&header, id, BRUECKE__MESSAGE_TYPE__TYPE_HEARTBEAT, "luenen", "broker",
                             "", 1, br_now_ms () - 5000, 60000);
    bb_sessions_seen (sessions, session, routing_id, br_now_ms (), &header);
    bb_sessions_seen (sessions, session, routing_id, br_now_ms (), &header);
    s_test_expect (town, county->roster, "HEARTBEAT hello");
    assert (session->clock_known && session->clock_offset_ms <= -4000);

    //  HELLO with credit 2: two delivered; more credit, the third
    bb_sessions_start (sessions, session, routing_id, 2);
    bb_sessions_deliver (sessions, session);
    s_test_expect (town, county->roster, "message 1");
    s_test_expect (town, county->roster, "message 2");
    assert (session->credit == 0 && session->cursor > 0);
    session->credit += 5;
    session->touched = true;
    bb_sessions_deliver_touched (sessions);
    s_test_expect (town, county->roster, "message 3");
    assert (session->credit == 4 && !session->touched);

    //  No answer for longer than redeliver_ms: a heartbeat, then all again
    session->last_seen_clock = br_clock_ms ();
    zclock_sleep (5);
    bb_sessions_heartbeat (sessions, br_clock_ms (), 60000, 1);
    s_test_expect (town, county->roster, "HEARTBEAT");
    s_test_expect (town, county->roster, "message 1");
    s_test_expect (town, county->roster, "message 2");
    s_test_expect (town, county->roster, "message 3");

    //  Silent for longer than offline_ms: offline, nothing more goes
    bb_sessions_heartbeat (sessions, br_clock_ms () + 120000, 60000, 1000000);
    assert (!session->routing_id && session->credit == 0);
    session->touched = true;
    bb_sessions_deliver_touched (sessions);
    zsock_set_rcvtimeo (town, 100);
    assert (zframe_recv (town) == NULL);

    //  A sender's content refused for a retry reason holds its later content
    //  back until it comes again; refused for good, it releases the hold
    Bruecke__Header content;
    br_envelope_header_init (&content, id, BRUECKE__MESSAGE_TYPE__TYPE_TEST_NOTE, "luenen", "unna",
                             "fruehe-hilfen", 5, br_now_ms (), 60000);
    bb_sessions_hold (session, &content, BR_REASON_CLOCK_SKEW);
    assert (session->held_sequence == 5);
    content.sequence = 6;
    assert (bb_sessions_held_back (session, &content));
    assert (!bb_sessions_held_back (session, &header)); //  a heartbeat is not held
    content.sequence = 5;
    assert (!bb_sessions_held_back (session, &content) && session->held_sequence == 0);
    bb_sessions_hold (session, &content, BR_REASON_CLOCK_SKEW);
    bb_sessions_hold (session, &content, BR_REASON_EXPIRED);
    assert (session->held_sequence == 0);

    //  A connection that is gone: delivery puts the session offline
    zframe_t *gone = zframe_new ("gone", 4);
    bb_sessions_start (sessions, session, gone, 10);
    bb_sessions_deliver (sessions, session);
    assert (!session->routing_id);
    zframe_destroy (&gone);

    bb_sessions_destroy (&sessions);
    bb_sessions_destroy (&sessions);
    bb_sender_destroy (&sender);
    bb_testing_destroy (&testing);
    //  @end
    if (verbose)
        printf ("OK\n");
}
