/*  =========================================================================
    bb_testing - what the broker's selftests stand on

    A broker store in a temporary directory, the invented county
    (br_testing), the broker's ROUTER (router-mandatory, on an inproc
    endpoint) and a town's DEALER connected to it, whose routing id the
    router has seen. For the selftests of bb_sender, bb_sessions,
    bb_notices and bb_figures.
    =========================================================================
*/

#ifndef BB_TESTING_H_INCLUDED
#define BB_TESTING_H_INCLUDED

#include "br_prelude.h"
#include "br_testing.h"
#include "bb_store.h"

//  The fixture; its members are the selftests' to use, not to free.
typedef struct {
    char *path;                  //  the store's directory
    bb_store_t *store;           //  a broker store in it
    br_testing_county_t *county; //  the invented county
    zsock_t *router;             //  the broker's ROUTER
    zsock_t *town;               //  a town's DEALER on it (receives within 2 s or fails)
    zframe_t *routing_id;        //  the town's connection, as the router knows it
} bb_testing_t;

//  Makes the fixture.
bb_testing_t *bb_testing_new (void);

//  Closes and removes everything and nulls the pointer.
void bb_testing_destroy (bb_testing_t **self_p);

//  Self test of this class.
void bb_testing_test (bool verbose);

#endif
