/*  =========================================================================
    bn_referral - closed-loop referrals to another office

    An office refers a family to an office of another town, or another
    office of this node, under the family's consent or a statute, with the
    sections of the case its data categories name. The referral is a loop:
    requested, received, then accepted or declined, in progress, completed
    (with its outcome) or failed; only the referring office cancels. Each
    change goes to the other office as a signed REFERRAL_UPDATE, so that
    both keep the same history (br_states: referral).

    A part of bn_casework (bn_casework_ctx.h): each operation runs inside
    the caller's write transaction with its messages, event and audit
    record; the API's operations set call->result on OK and refuse with
    call->detail set; the receiving ones set *verdict.
    =========================================================================
*/

#ifndef BN_REFERRAL_H_INCLUDED
#define BN_REFERRAL_H_INCLUDED

#include "bn_casework_ctx.h"

//  POST /v1/referrals: refers a case of the caller's offices and sends
//  the REFERRAL. Returns OK with the referral (201), a refusal (NOT_FOUND,
//  OFFICE_NOT_PERMITTED, INVALID_STATE, MALFORMED, FORBIDDEN, the
//  consent's or the statute's reason, the roster's) or a store reason.
br_reason_t bn_referral_send (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_request_t *call,
                              int64_t now) BR_WUR;

//  POST /v1/referrals/{hex}/status: sets the state of a referral (body:
//  state, reason, text, lotse) and tells the other office. Returns OK with
//  the referral, a refusal (NOT_FOUND, OFFICE_NOT_PERMITTED, MALFORMED,
//  FORBIDDEN, CONSENT_WITHDRAWN, INVALID_STATE, CONSENT_EXPIRED) or a store
//  reason.
br_reason_t bn_referral_status (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_request_t *call,
                                const char *hex, int64_t now) BR_WUR;

//  Takes a delivered REFERRAL and answers it "received". Sets *verdict (OK,
//  or REPLAYED, MALFORMED, CATEGORY_NOT_COVERED, or why the answer cannot
//  go back). Returns OK or a store reason.
br_reason_t bn_referral_receive (bn_casework_ctx_t *ctx, MDB_txn *txn,
                                 const Bruecke__Header *header,
                                 const Bruecke__Attestation *attestation,
                                 Bruecke__Referral *message, int64_t now,
                                 br_reason_t *verdict) BR_WUR;

//  Takes a delivered REFERRAL_UPDATE from the other office. Sets *verdict
//  (OK, or NOT_FOUND, FORBIDDEN, INVALID_STATE, MALFORMED). Returns OK or a
//  store reason.
br_reason_t bn_referral_receive_update (bn_casework_ctx_t *ctx, MDB_txn *txn,
                                        const Bruecke__Header *header,
                                        Bruecke__ReferralUpdate *update, int64_t now,
                                        br_reason_t *verdict) BR_WUR;

//  Self test of this class.
void bn_referral_test (bool verbose);

#endif
