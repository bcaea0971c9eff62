/*  =========================================================================
    bb_match_check - checks a set of Transferbörse proposals against the rules

    The independent check of a matching's results, kept apart from the
    solver (bb_match): given the input of a matching (towns, offers,
    requests, balance limits, staged plan), it takes a set of proposals and
    unmatched requests, one run's or any other, and checks the hard
    constraints listed in bb_match.h. It recomputes each provider's load
    and each town's balance from the proposals and the input alone, in the
    proposals' order, and uses nothing the solver computed. bb_match_verify
    checks the last run's results with it.
    =========================================================================
*/

#ifndef BB_MATCH_CHECK_H_INCLUDED
#define BB_MATCH_CHECK_H_INCLUDED

#include "bb_match.h"

//  Checks `proposals` (`proposal_count` of them, in the order made) and
//  `unmatched` (`unmatched_count`) against the hard constraints, given the
//  input of `match`: each proposal must name a request and an offer of the
//  input that fit each other, with the input's towns, topic and hours, and
//  keep capacity, balance limits and plan; every request of the input must
//  appear exactly once, in a proposal or unmatched (and then not as
//  MATCHED). Reads `match`, changes nothing. Returns true if the set keeps
//  the rules; otherwise false, with the first violation in `error`
//  (`error_size` bytes, may be NULL).
bool bb_match_check (bb_match_t *match, const bb_match_proposal_t *proposals, size_t proposal_count,
                     const bb_match_unmatched_t *unmatched, size_t unmatched_count, char *error,
                     size_t error_size) BR_WUR;

//  Self test of this class: a run's own results pass, altered copies of
//  them fail with the violation named.
void bb_match_check_test (bool verbose);

#endif
