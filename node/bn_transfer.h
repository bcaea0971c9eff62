/*  =========================================================================
    bn_transfer - case transfer to the town now responsible

    When a family moves, its case goes to the town now responsible, found
    through the roster by AGS and service, under the statute of the change
    of responsibility (SGB VIII §86c), with the whole case. The receiving
    town accepts (the case opens there) or declines (it stays open here);
    once accepted, the old town keeps only what, when and to whom. A
    transfer's id follows from case and target, so a transfer asked for
    again finds the first one.

    A part of bn_casework (bn_casework_ctx.h): each operation runs inside
    the caller's write transaction with its messages, events and audit
    record; the API's operations set call->result on OK and refuse with
    call->detail set; the receiving ones set *verdict.
    =========================================================================
*/

#ifndef BN_TRANSFER_H_INCLUDED
#define BN_TRANSFER_H_INCLUDED

#include "bn_casework_ctx.h"

//  POST /v1/cases/{case_hex}/transfer: hands the case over (body: ags,
//  service, by default BN_DEFAULT_TRANSFER_SERVICE). Returns OK with the
//  transfer (202; 200 with the first one if asked again), a refusal
//  (NOT_FOUND, OFFICE_NOT_PERMITTED, INVALID_STATE, the roster's) or a
//  store reason.
br_reason_t bn_transfer_send (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_request_t *call,
                              const char *case_hex, int64_t now) BR_WUR;

//  POST /v1/transfers/{hex}/accept (`accept`) or /decline (body: reason):
//  the receiving town answers; on accepting, the case opens here. Returns
//  OK with the transfer, a refusal (NOT_FOUND, OFFICE_NOT_PERMITTED,
//  FORBIDDEN, INVALID_STATE, MALFORMED) or a store reason.
br_reason_t bn_transfer_answer (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_request_t *call,
                                const char *hex, bool accept, int64_t now) BR_WUR;

//  Takes a delivered CASE_TRANSFER. Sets *verdict (OK, also for one taken
//  before; MALFORMED, CATEGORY_NOT_COVERED, INVALID_STATE for one from this
//  node). Returns OK or a store reason.
br_reason_t bn_transfer_receive (bn_casework_ctx_t *ctx, MDB_txn *txn,
                                 const Bruecke__Header *header,
                                 const Bruecke__Attestation *attestation,
                                 Bruecke__CaseTransfer *message, int64_t now,
                                 br_reason_t *verdict) BR_WUR;

//  Takes a delivered CASE_TRANSFER_ANSWER to a transfer of this node: on
//  acceptance the case keeps only what, when and to whom; on refusal it is
//  open again. Sets *verdict (OK, NOT_FOUND, FORBIDDEN, INVALID_STATE,
//  MALFORMED). Returns OK or a store reason.
br_reason_t bn_transfer_receive_answer (bn_casework_ctx_t *ctx, MDB_txn *txn,
                                        const Bruecke__Header *header,
                                        Bruecke__CaseTransferAnswer *answer, int64_t now,
                                        br_reason_t *verdict) BR_WUR;

//  Self test of this class.
void bn_transfer_test (bool verbose);

#endif
