/*  =========================================================================
    bn_casefields - what each casework operation takes, and what may follow

    One table per operation of the fields its body and query take (names,
    kinds, limits, which are required), checked once before any work, and
    the actions an answer offers its caller next (br_states), so that an
    interface need not derive them. A part of bn_casework.
    =========================================================================
*/

#ifndef BN_CASEFIELDS_H_INCLUDED
#define BN_CASEFIELDS_H_INCLUDED

#include "bn_casework_ctx.h"

//  Checks a request's body and query against what its operation
//  (call->route->operation) takes, the objects inside the body included.
//  Returns OK or refuses (MALFORMED, TOO_LARGE, ... from bn_request_fields).
br_reason_t bn_casefields_check (bn_request_t *call) BR_WUR;

//  Adds to `record`, the answer of `operation`, the changes its caller may
//  make now as "actions" (a list of names); leaves the answers of other
//  operations alone.
void bn_casefields_actions (bn_operation_t operation, json_t *record);

//  Self test of this class.
void bn_casefields_test (bool verbose);

#endif
