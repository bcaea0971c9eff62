/*  =========================================================================
    bb_intake - what comes in on the broker's ROUTER, checked, in order

    Frames are read from the router while fewer than BB_INTAKE_RING jobs
    are out, made into jobs (bb_job_t, with the connection's User-Id from
    ZAP), and handed in bundles to a pool of verifier actors (bb_verifier)
    that check signatures in parallel. Their results come back in any
    order; bb_intake_collect hands the checked jobs to the broker in the
    order they arrived, so that each node's messages keep their order.
    A message of more than one frame, or from a connection without a node
    id, is not a job: it goes to the caller's refusal at once (MALFORMED).
    =========================================================================
*/

#ifndef BB_INTAKE_H_INCLUDED
#define BB_INTAKE_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"
#include "br_roster.h"
#include "bb_verifier.h"

#define BB_INTAKE_RING    16384 //  jobs in the verifiers at most
#define BB_INTAKE_WORKERS 16    //  verifiers at most

typedef struct _bb_intake_t bb_intake_t;

//  What the broker does with a job: takes it (the job is then the
//  function's).
typedef void (bb_intake_job_fn) (void *argument, bb_job_t *job);

//  Starts `workers` verifiers (1..BB_INTAKE_WORKERS) that check as the
//  broker `broker_id`. They have no roster until bb_intake_set_roster.
bb_intake_t *bb_intake_new (size_t workers, const char *broker_id);

//  Stops the verifiers, frees the jobs still out and nulls the pointer.
void bb_intake_destroy (bb_intake_t **self_p);

//  Hands every verifier its own copy of `roster` (the caller keeps it),
//  verified again with `county_public`. Returns OK or the roster's reason.
br_reason_t bb_intake_set_roster (bb_intake_t *self, br_roster_t *roster,
                                  const uint8_t county_public[BR_SIGN_PUBLIC_SIZE]) BR_WUR;

//  The socket on which the verifiers' results arrive, to poll.
zsock_t *bb_intake_results (bb_intake_t *self);

//  Reads what waits on `router` while there is room and hands it to the
//  verifiers; what is no job goes to `refuse` with its reason set.
void bb_intake_receive (bb_intake_t *self, zsock_t *router, bb_intake_job_fn *refuse,
                        void *argument);

//  Takes the verifiers' results and gives each checked job (its reason
//  set) to `take`, in arrival order, as far as all before it are checked.
//  Returns how many it gave.
size_t bb_intake_collect (bb_intake_t *self, bb_intake_job_fn *take, void *argument);

//  Self test of this class.
void bb_intake_test (bool verbose);

#endif
