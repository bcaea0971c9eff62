/*  =========================================================================
    bb_match_pick - picks the offer for one request of a matching run

    One step of bb_match_run: for one request it checks the candidate
    offers against the rules, takes the best by the order in bb_match.h
    (reciprocity, then the provider's utilisation after the transfer, then
    fewer hours, then the lowest id) and proposes it, or records why none
    fits. Internal to bb_match: it works on the matching's run state
    (bb_match_internal.h), whose run tables must be built and whose towns'
    loads and running balances must be set for the run.
    =========================================================================
*/

#ifndef BB_MATCH_PICK_H_INCLUDED
#define BB_MATCH_PICK_H_INCLUDED

#include "bb_match.h"

//  A request's state during a run.
typedef struct {
    uint32_t request;         //  request index
    uint32_t offer;           //  the offer asked for, resolved; BB_MATCH_NONE if unknown or a topic
    uint32_t scarcity;        //  offers that could serve it: its sort key
    bb_match_reason_t reason; //  MATCHED once proposed, else the last refusal
    bool retry;               //  refused, but a balance limit may yet move
    char why[BB_MATCH_WHY_SIZE]; //  the last refusal's text
} bb_match_state_t;

//  Tries to find an offer for the request of `state` in `match`, with
//  `sequence` a number no earlier attempt of the run used. On success
//  appends the proposal to the matching's results, books the hours on the
//  provider's load and both towns' balances, sets the state's reason to
//  MATCHED and returns true. Otherwise sets the reason, its `why` text and
//  `retry` (a balance limit refused it, which later proposals may lift)
//  and returns false.
bool bb_match_pick (bb_match_t *match, bb_match_state_t *state, uint32_t sequence);

//  Self test of this class: one request picks the reciprocal offer, then
//  one is refused for the receiver's balance floor.
void bb_match_pick_test (bool verbose);

#endif
