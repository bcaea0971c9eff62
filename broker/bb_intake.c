/*  =========================================================================
    bb_intake - what comes in on the broker's ROUTER, checked, in order
    =========================================================================
*/

#include "bruecke.h"
#include "bb_intake.h"
#include "bb_zap.h"

struct _bb_intake_t {
    zsock_t *jobs;                          //  PUSH to the verifiers
    zsock_t *results;                       //  PULL from the verifiers
    zactor_t *verifiers[BB_INTAKE_WORKERS]; //  the verifier pool
    size_t verifier_count;                  //  how many run
    bb_job_t *ring[BB_INTAKE_RING];         //  jobs out, by sequence % BB_INTAKE_RING
    bool ring_done[BB_INTAKE_RING];         //  whether the verifier returned the job
    uint64_t next_sequence;                 //  sequence of the next job handed out
    uint64_t done_sequence;                 //  sequence of the next job to give in order
    zlistx_t *bundles;                      //  bundles out with the verifiers
};

static void
s_bundle_free (void **item)
{
    free (*item);
    *item = NULL;
}

bb_intake_t *
bb_intake_new (size_t workers, const char *broker_id)
{
    assert (workers >= 1 && workers <= BB_INTAKE_WORKERS && broker_id);
    bb_intake_t *self = (bb_intake_t *) zmalloc (sizeof (bb_intake_t));
    assert (self);
    self->bundles = zlistx_new ();
    zlistx_set_destructor (self->bundles, s_bundle_free);
    char jobs_endpoint[BR_INPROC_ENDPOINT_SIZE], results_endpoint[BR_INPROC_ENDPOINT_SIZE];
    br_inproc_endpoint ("bb-jobs", jobs_endpoint);
    br_inproc_endpoint ("bb-results", results_endpoint);
    self->jobs = zsock_new (ZMQ_PUSH);
    self->results = zsock_new (ZMQ_PULL);
    zsock_set_sndhwm (self->jobs, 0);
    zsock_set_rcvhwm (self->results, 0);
    int rc = zsock_bind (self->jobs, "%s", jobs_endpoint);
    assert (rc == 0);
    rc = zsock_bind (self->results, "%s", results_endpoint);
    assert (rc == 0);
    bb_verifier_args_t args = {jobs_endpoint, results_endpoint, broker_id};
    self->verifier_count = workers;
    for (size_t index = 0; index < workers; index++)
        self->verifiers[index] = zactor_new (bb_verifier_actor, &args);
    return self;
}

void
bb_intake_destroy (bb_intake_t **self_p)
{
    assert (self_p);
    bb_intake_t *self = *self_p;
    if (!self)
        return;
    //  Stop the verifiers first; jobs and bundles still out are ours then
    for (size_t index = 0; index < self->verifier_count; index++)
        zactor_destroy (&self->verifiers[index]);
    zlistx_destroy (&self->bundles);
    for (size_t slot = 0; slot < BB_INTAKE_RING; slot++)
        bb_job_destroy (&self->ring[slot]);
    zsock_destroy (&self->jobs);
    zsock_destroy (&self->results);
    free (self);
    *self_p = NULL;
}

br_reason_t
bb_intake_set_roster (bb_intake_t *self, br_roster_t *roster,
                      const uint8_t county_public[BR_SIGN_PUBLIC_SIZE])
{
    assert (self && roster && county_public);
    for (size_t index = 0; index < self->verifier_count; index++) {
        br_reason_t reason;
        br_roster_t *copy =
            br_roster_verify (br_roster_signed_data (roster), br_roster_signed_size (roster),
                              county_public, NULL, br_now_ms (), &reason);
        if (!copy)
            return reason;
        bb_verifier_set_roster (self->verifiers[index], &copy);
    }
    return BR_REASON_OK;
}

zsock_t *
bb_intake_results (bb_intake_t *self)
{
    assert (self);
    return self->results;
}

//  Reads one message from the router: the job, or NULL if there is none
//  (*more false) or it is not one (*more true; refused).
static bb_job_t *
s_read (zsock_t *router, bool *more, bb_intake_job_fn *refuse, void *argument)
{
    *more = false;
    zframe_t *routing_id = zframe_recv_nowait (router);
    if (!routing_id)
        return NULL;
    *more = true;
    zframe_t *data = zsock_rcvmore (router) ? zframe_recv (router) : NULL;
    bool extra = false;
    while (zsock_rcvmore (router)) {
        zframe_t *frame = zframe_recv (router);
        zframe_destroy (&frame);
        extra = true;
    }
    if (!data) {
        zframe_destroy (&routing_id);
        return NULL;
    }
    const char *user_id = zframe_meta (data, "User-Id");
    bb_job_t *job = bb_job_new (&routing_id, user_id ? user_id : "", &data, br_now_ms ());
    if (extra || !br_token_valid (job->node_id, BR_NODE_ID_MAX)) {
        job->reason = BR_REASON_MALFORMED;
        refuse (argument, job);
        return NULL;
    }
    return job;
}

void
bb_intake_receive (bb_intake_t *self, zsock_t *router, bb_intake_job_fn *refuse, void *argument)
{
    assert (self && router && refuse);
    bb_bundle_t *bundle = NULL; //  jobs for the next verifier
    bool more = true;
    while (more && self->next_sequence - self->done_sequence < BB_INTAKE_RING) {
        bb_job_t *job = s_read (router, &more, refuse, argument);
        if (!job)
            continue;
        job->sequence = self->next_sequence++;
        size_t slot = job->sequence % BB_INTAKE_RING;
        self->ring[slot] = job;
        self->ring_done[slot] = false;
        if (!bundle) {
            bundle = (bb_bundle_t *) zmalloc (sizeof (bb_bundle_t));
            bundle->handle = zlistx_add_end (self->bundles, bundle);
        }
        bundle->jobs[bundle->count++] = job;
        if (bundle->count == BB_BUNDLE_MAX) {
            zsock_send (self->jobs, "p", bundle);
            bundle = NULL;
        }
    }
    if (bundle)
        zsock_send (self->jobs, "p", bundle);
}

size_t
bb_intake_collect (bb_intake_t *self, bb_intake_job_fn *take, void *argument)
{
    assert (self && take);
    void *pointer = NULL;
    while (zsock_events (self->results) & ZMQ_POLLIN) {
        if (zsock_recv (self->results, "p", &pointer) != 0)
            break;
        bb_bundle_t *bundle = (bb_bundle_t *) pointer;
        for (size_t index = 0; index < bundle->count; index++)
            self->ring_done[bundle->jobs[index]->sequence % BB_INTAKE_RING] = true;
        zlistx_delete (self->bundles, bundle->handle);
    }
    size_t given = 0;
    while (self->done_sequence < self->next_sequence &&
           self->ring_done[self->done_sequence % BB_INTAKE_RING]) {
        size_t slot = self->done_sequence % BB_INTAKE_RING;
        bb_job_t *job = self->ring[slot];
        self->ring[slot] = NULL;
        self->ring_done[slot] = false;
        self->done_sequence++;
        given++;
        take (argument, job);
    }
    return given;
}

//  ---- Self test ----------------------------------------------------------------

#define S_TEST_MESSAGES 40

//  What the test saw: jobs taken and refused, in order.
typedef struct {
    size_t taken;                         //  jobs given in order
    size_t refused;                       //  jobs refused at once
    uint64_t last_sequence;               //  the last taken job's sequence
    br_reason_t reasons[S_TEST_MESSAGES]; //  taken jobs' reasons, in order
} s_test_seen_t;

static void
s_test_take (void *argument, bb_job_t *job)
{
    s_test_seen_t *seen = (s_test_seen_t *) argument;
    assert (seen->taken == 0 || job->sequence == seen->last_sequence + 1);
    seen->last_sequence = job->sequence;
    if (seen->taken < S_TEST_MESSAGES)
        seen->reasons[seen->taken] = job->reason;
    seen->taken++;
    bb_job_destroy (&job);
}

static void
s_test_refuse (void *argument, bb_job_t *job)
{
    ((s_test_seen_t *) argument)->refused++;
    assert (job->reason == BR_REASON_MALFORMED);
    bb_job_destroy (&job);
}

void
bb_intake_test (bool verbose)
{
    if (verbose)
        printf (" * bb_intake: ");
    //  @selftest
    br_testing_county_t *county = br_testing_county_new ();
    bb_intake_t *intake = bb_intake_new (2, "broker");
    assert (bb_intake_set_roster (intake, county->roster,
                                  br_identity_sign_public (county->county)) == BR_REASON_OK);
    //  The broker's ROUTER as CURVE server with ZAP, and Lünen connected
    zactor_t *zap = zactor_new (bb_zap_actor, NULL);
    bb_zap_set_roster (zap, county->roster);
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    zcert_t *cert = zcert_new_from (br_identity_transport_public (county->broker),
                                    br_identity_transport_secret (county->broker));
    zcert_apply (cert, router);
    zcert_destroy (&cert);
    zsock_set_curve_server (router, 1);
    zsock_set_zap_domain (router, BB_ZAP_DOMAIN);
    int port = zsock_bind (router, "tcp://127.0.0.1:*");
    assert (port > 0);
    zsock_t *luenen = zsock_new (ZMQ_DEALER);
    cert = zcert_new_from (br_identity_transport_public (county->luenen),
                           br_identity_transport_secret (county->luenen));
    zcert_apply (cert, luenen);
    zcert_destroy (&cert);
    zsock_set_curve_serverkey_bin (luenen, br_identity_transport_public (county->broker));
    assert (zsock_connect (luenen, "tcp://127.0.0.1:%d", port) == 0);

    //  Heartbeats signed by Lünen, every fourth damaged, and one message
    //  of two frames: all come back in the order sent, the bad ones refused
    for (int index = 0; index < S_TEST_MESSAGES; index++) {
        uint8_t id[BR_MESSAGE_ID_SIZE];
        Bruecke__Header header;
        br_envelope_header_init (&header, id, BRUECKE__MESSAGE_TYPE__TYPE_HEARTBEAT, "luenen", "",
                                 "", (uint64_t) index + 1, br_now_ms (), 60000);
        Bruecke__Heartbeat heartbeat = BRUECKE__HEARTBEAT__INIT;
        zchunk_t *chunk = br_envelope_build (county->luenen, &header, NULL, &heartbeat.base, NULL);
        if (index % 4 == 3)
            zchunk_data (chunk)[zchunk_size (chunk) - 1] ^= 1;
        zframe_t *frame = zframe_new (zchunk_data (chunk), zchunk_size (chunk));
        zframe_send (&frame, luenen, 0);
        zchunk_destroy (&chunk);
    }
    zstr_sendm (luenen, "eins");
    zstr_send (luenen, "zwei");
    s_test_seen_t seen = {0};
    int64_t deadline = zclock_mono () + 10000;
    while ((seen.taken < S_TEST_MESSAGES || seen.refused < 1) && zclock_mono () < deadline) {
        bb_intake_receive (intake, router, s_test_refuse, &seen);
        bb_intake_collect (intake, s_test_take, &seen);
        zclock_sleep (5);
    }
    assert (seen.taken == S_TEST_MESSAGES && seen.refused == 1);
    for (int index = 0; index < S_TEST_MESSAGES; index++)
        assert ((seen.reasons[index] == BR_REASON_OK) == (index % 4 != 3));

    zsock_destroy (&luenen);
    zsock_destroy (&router);
    zactor_destroy (&zap);
    bb_intake_destroy (&intake);
    bb_intake_destroy (&intake);
    br_testing_county_destroy (&county);
    //  @end
    if (verbose)
        printf ("OK\n");
}
