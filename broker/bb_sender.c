/*  =========================================================================
    bb_sender - what the broker sends on its ROUTER socket
    =========================================================================
*/

#include "bruecke.h"
#include "bb_sender.h"
#include "bb_testing.h"

struct _bb_sender_t {
    zsock_t *router;         //  the broker's ROUTER (the caller's)
    br_identity_t *identity; //  the broker's keys (likewise)
    bb_store_t *store;       //  its own sequence (likewise)
};

bb_sender_t *
bb_sender_new (zsock_t *router, br_identity_t *identity, bb_store_t *store)
{
    assert (router && identity && store);
    bb_sender_t *self = (bb_sender_t *) zmalloc (sizeof (bb_sender_t));
    assert (self);
    self->router = router;
    self->identity = identity;
    self->store = store;
    return self;
}

void
bb_sender_destroy (bb_sender_t **self_p)
{
    assert (self_p);
    free (*self_p);
    *self_p = NULL;
}

//  Sends one part without blocking; false if it could not go.
static bool
s_send_part (void *router, const void *data, size_t size, int flags)
{
    zmq_msg_t part;
    zmq_msg_init_size (&part, size);
    memcpy (zmq_msg_data (&part), data, size);
    if (zmq_msg_send (&part, router, flags | ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&part);
        return false;
    }
    return true;
}

bool
bb_sender_bytes (bb_sender_t *self, zframe_t *routing_id, const uint8_t *data, size_t size)
{
    assert (self && routing_id && data);
    void *router = zsock_resolve (self->router);
    return s_send_part (router, zframe_data (routing_id), zframe_size (routing_id), ZMQ_SNDMORE) &&
           s_send_part (router, data, size, 0);
}

zchunk_t *
bb_sender_build (bb_sender_t *self, Bruecke__MessageType type, const char *recipient,
                 const ProtobufCMessage *body, int64_t lifetime_ms, uint8_t id[BR_MESSAGE_ID_SIZE])
{
    assert (self && recipient && body && id);
    Bruecke__Header header;
    br_envelope_header_init (&header, id, type, br_identity_node_id (self->identity), recipient, "",
                             bb_store_own_sequence (self->store), br_now_ms (), lifetime_ms);
    return br_envelope_build (self->identity, &header, NULL, body, NULL);
}

bool
bb_sender_own (bb_sender_t *self, zframe_t *routing_id, Bruecke__MessageType type,
               const char *recipient, const ProtobufCMessage *body)
{
    assert (self && routing_id);
    uint8_t id[BR_MESSAGE_ID_SIZE];
    zchunk_t *chunk = bb_sender_build (self, type, recipient, body, BR_CLOCK_SKEW_MS, id);
    bool sent = bb_sender_bytes (self, routing_id, zchunk_data (chunk), zchunk_size (chunk));
    zchunk_destroy (&chunk);
    return sent;
}

br_identity_t *
bb_sender_identity (bb_sender_t *self)
{
    assert (self);
    return self->identity;
}

void
bb_sender_test (bool verbose)
{
    if (verbose)
        printf (" * bb_sender: ");
    //  @selftest
    bb_testing_t *testing = bb_testing_new ();
    br_testing_county_t *county = testing->county;
    bb_sender_t *sender = bb_sender_new (testing->router, county->broker, testing->store);
    assert (bb_sender_identity (sender) == county->broker);
    zframe_t *routing_id = testing->routing_id;
    zsock_t *town = testing->town;
    br_reason_t reason;

    //  An own message arrives signed by the broker, for the town
    Bruecke__Heartbeat heartbeat = BRUECKE__HEARTBEAT__INIT;
    heartbeat.hello_wanted = true;
    assert (bb_sender_own (sender, routing_id, BRUECKE__MESSAGE_TYPE__TYPE_HEARTBEAT, "luenen",
                           &heartbeat.base));
    zframe_t *frame = zframe_recv (town);
    br_envelope_t *envelope =
        br_envelope_decode (zframe_data (frame), zframe_size (frame), &reason);
    assert (envelope);
    assert (br_envelope_verify_in_roster (envelope, county->roster) == BR_REASON_OK);
    assert (br_envelope_check_time (envelope, br_now_ms ()) == BR_REASON_OK);
    const Bruecke__Header *header = br_envelope_header (envelope);
    assert (header->type == BRUECKE__MESSAGE_TYPE__TYPE_HEARTBEAT);
    assert (streq (header->sender, "broker") && streq (header->recipient, "luenen"));
    br_envelope_destroy (&envelope);
    zframe_destroy (&frame);

    //  Bytes as they are; a connection that is not there fails
    assert (bb_sender_bytes (sender, routing_id, (const uint8_t *) "abc", 3));
    char *bytes = zstr_recv (town);
    assert (bytes && streq (bytes, "abc"));
    zstr_free (&bytes);
    zframe_t *nobody = zframe_new ("nobody", 6);
    assert (!bb_sender_bytes (sender, nobody, (const uint8_t *) "abc", 3));
    zframe_destroy (&nobody);

    bb_sender_destroy (&sender);
    bb_sender_destroy (&sender);
    bb_testing_destroy (&testing);
    //  @end
    if (verbose)
        printf ("OK\n");
}
