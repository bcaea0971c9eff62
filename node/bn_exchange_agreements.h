/*  =========================================================================
    bn_exchange_agreements - the town's agreements under /v1/exchange

    The broker proposes a transfer of know-how between two towns (an
    agreement) and sends each new version to both as AGREEMENT;
    bn_exchange keeps the latest in exchange-agreements. The operations
    here list and show them, and send the town's steps on them (accept,
    schedule, complete, cancel) with bn_exchange_api_send. A step is checked
    against the agreement as the town last heard of it (br_states); the
    broker decides, and the new version comes back as AGREEMENT.

    The operations work on bn_exchange's copies, lent for one call as a
    bn_exchange_api_t (bn_exchange_api.h); this class keeps no state. Each
    sets call->result (and call->status if not 200), or refuses with
    bn_request_refuse (call->detail), and returns OK or the reason.
    =========================================================================
*/

#ifndef BN_EXCHANGE_AGREEMENTS_H_INCLUDED
#define BN_EXCHANGE_AGREEMENTS_H_INCLUDED

#include "bn_exchange_api.h"

//  GET /v1/exchange/agreements: the town's agreements, only those in the
//  query's "state" if it has one. Refuses MALFORMED an unknown state.
//  Returns OK or a store reason.
br_reason_t bn_exchange_agreements_list (const bn_exchange_api_t *api, bn_request_t *call);

//  GET /v1/exchange/agreements/{id}: agreement `hex`, with the town's role
//  and the steps it may take. Refuses NOT_FOUND if there is none. Returns
//  OK or a reason.
br_reason_t bn_exchange_agreements_show (const bn_exchange_api_t *api, bn_request_t *call,
                                         const char *hex);

//  POST /v1/exchange/agreements/{id}/`step` ("accept", "schedule",
//  "complete" (signs the completion) or "cancel"): checks the step against
//  agreement `hex` and sends it; answers 202. Refuses NOT_FOUND (no such
//  agreement or step), INVALID_STATE, TOO_EARLY (a completion before the
//  scheduled date) or MALFORMED. Returns OK or a reason.
br_reason_t bn_exchange_agreements_step (const bn_exchange_api_t *api, bn_request_t *call,
                                         const char *hex, const char *step, int64_t now);

//  Self test of this class: an agreement listed, shown and accepted.
void bn_exchange_agreements_test (bool verbose);

#endif
