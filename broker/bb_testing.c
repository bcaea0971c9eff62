/*  =========================================================================
    bb_testing - what the broker's selftests stand on
    =========================================================================
*/

#include "bruecke.h"
#include "bb_testing.h"

#define S_STORE_SIZE (16 << 20) //  a small map for tests
#define S_RECEIVE_MS 2000       //  the town waits this long for a frame

bb_testing_t *
bb_testing_new (void)
{
    bb_testing_t *self = (bb_testing_t *) zmalloc (sizeof (bb_testing_t));
    assert (self);
    self->path = br_temp_directory ("bb_testing");
    assert (self->path);
    br_reason_t reason;
    self->store = bb_store_new (self->path, S_STORE_SIZE, &reason);
    assert (self->store);
    self->county = br_testing_county_new ();
    char endpoint[BR_INPROC_ENDPOINT_SIZE];
    br_inproc_endpoint ("bb-testing", endpoint);
    self->router = zsock_new (ZMQ_ROUTER);
    zsock_set_router_mandatory (self->router, 1);
    int rc = zsock_bind (self->router, "%s", endpoint);
    assert (rc == 0);
    self->town = zsock_new (ZMQ_DEALER);
    zsock_set_rcvtimeo (self->town, S_RECEIVE_MS);
    rc = zsock_connect (self->town, "%s", endpoint);
    assert (rc == 0);
    //  The town says something, so that the router knows its connection
    zstr_send (self->town, "hallo");
    zmsg_t *hello = zmsg_recv (self->router);
    assert (hello);
    self->routing_id = zmsg_pop (hello);
    zmsg_destroy (&hello);
    return self;
}

void
bb_testing_destroy (bb_testing_t **self_p)
{
    assert (self_p);
    bb_testing_t *self = *self_p;
    if (!self)
        return;
    zframe_destroy (&self->routing_id);
    zsock_destroy (&self->town);
    zsock_destroy (&self->router);
    br_testing_county_destroy (&self->county);
    bb_store_destroy (&self->store);
    assert (br_temp_directory_remove (&self->path));
    free (self);
    *self_p = NULL;
}

void
bb_testing_test (bool verbose)
{
    if (verbose)
        printf (" * bb_testing: ");
    //  @selftest
    bb_testing_t *testing = bb_testing_new ();
    assert (testing->store && testing->county && testing->routing_id);
    //  The router reaches the town by its routing id
    zframe_t *routing_id = zframe_dup (testing->routing_id);
    zframe_send (&routing_id, testing->router, ZFRAME_MORE);
    zstr_send (testing->router, "zurück");
    char *text = zstr_recv (testing->town);
    assert (text && streq (text, "zurück"));
    zstr_free (&text);
    char *path = strdup (testing->path);
    bb_testing_destroy (&testing);
    bb_testing_destroy (&testing);
    assert (access (path, F_OK) != 0);
    free (path);
    //  @end
    if (verbose)
        printf ("OK\n");
}
