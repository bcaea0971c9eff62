/*  =========================================================================
    bb_match_tables - the tables a Transferbörse matching run looks up in

    Before a run, bb_match builds two tables from its input, so that
    matching one request touches only what concerns it: the open offers
    grouped by topic, and the reciprocity history grouped by the town that
    gave. Both are rebuilt for every run; they live in the matching
    (bb_match_internal.h), beside the input they are built from.
    =========================================================================
*/

#ifndef BB_MATCH_TABLES_H_INCLUDED
#define BB_MATCH_TABLES_H_INCLUDED

#include "bb_match.h"

//  Builds the run's tables from the input of `match`, replacing an earlier
//  run's: the offer indices grouped by topic, in insertion order within a
//  topic (topic_offers, and each topic's first and count); and the history
//  sorted by provider, then receiver, without repeats (receivers, and each
//  town's history_first and history_count of the towns that received from
//  it). Cannot fail.
void bb_match_tables_build (bb_match_t *match);

//  Self test of this class: both tables for a small input.
void bb_match_tables_test (bool verbose);

#endif
