/*  =========================================================================
    bb_verifier - checks incoming envelopes off the broker's main thread

    Signature checks cost tens of microseconds, the rest of the broker's work
    per message a few; so the broker hands the received frames to a pool of
    verifier actors (one per core) and keeps the main thread for storage
    and delivery. Jobs travel in bundles, by pointer, over inproc sockets, so
    the handover costs per bundle, not per message:

        broker --PUSH--> jobs endpoint --PULL--> verifier (one of N)
        verifier --PUSH--> results endpoint --PULL--> broker

    A verifier runs the receiving steps of PROTOCOL.md section 4 that need
    no state but the roster: size and decoding, the signer bound to the
    connection, roster membership, signature, header shape, clock skew and
    expiry, which types a node may send to whom, and the attestation. It
    fills in the job's envelope and reason and sends it back. Replay and
    duplicate checks need the store and stay with the broker.

    Command protocol (on the actor pipe):
        ROSTER <roster>   br_roster_t * (ownership passes): use this roster
                          from now on; signals 0 when in force.
        $TERM             end the actor.
    =========================================================================
*/

#ifndef BB_VERIFIER_H_INCLUDED
#define BB_VERIFIER_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"
#include "br_roster.h"
#include "br_envelope.h"
#include "br_util.h"

//  One received frame on its way through a verifier.
typedef struct {
    uint64_t sequence;                //  arrival order, set by the broker
    zframe_t *routing_id;             //  the connection's routing id (owned)
    char node_id[BR_NODE_ID_MAX + 1]; //  the connection's node id (ZAP User-Id)
    zframe_t *data;                   //  the envelope bytes (owned)
    int64_t received_ms;              //  when the frame arrived
    br_envelope_t *envelope;          //  set by the verifier if decoding worked
    br_reason_t reason;               //  the verifier's verdict
    uint8_t digest[BR_DIGEST_SIZE];   //  of the envelope bytes, set by the verifier
    bool stored;                      //  set by the broker: newly queued
} bb_job_t;

//  Up to BB_BUNDLE_MAX jobs handed to a verifier at once.
#define BB_BUNDLE_MAX 32

typedef struct {
    size_t count;                  //  jobs in the bundle
    bb_job_t *jobs[BB_BUNDLE_MAX]; //  the jobs (not owned by the bundle)
    void *handle;                  //  the broker's bookkeeping of bundles out
} bb_bundle_t;

//  Endpoints a verifier connects to; the broker binds them.
typedef struct {
    const char *jobs;      //  PULL: jobs from the broker
    const char *results;   //  PUSH: results to the broker
    const char *broker_id; //  the broker's own node id
} bb_verifier_args_t;

//  Creates a job for a received frame. Takes ownership of both frames.
bb_job_t *bb_job_new (zframe_t **routing_id_p, const char *node_id, zframe_t **data_p,
                      int64_t received_ms);

//  Destroys a job with everything it holds and nulls the pointer.
void bb_job_destroy (bb_job_t **self_p);

//  Runs the checks on one job (what the actor does for every job); exposed
//  for tests and benchmarks. Sets job->envelope and job->reason.
void bb_verifier_check (bb_job_t *job, br_roster_t *roster, const char *broker_id, int64_t now_ms);

//  The actor: zactor_new (bb_verifier_actor, &args). args must outlive the
//  actor's start-up.
void bb_verifier_actor (zsock_t *pipe, void *args);

//  Hands a verifier its roster (takes ownership) and waits until in force.
void bb_verifier_set_roster (zactor_t *verifier, br_roster_t **roster_p);

//  Self test of this class.
void bb_verifier_test (bool verbose);

#endif
