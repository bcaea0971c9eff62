/*  =========================================================================
    bn_emergency - emergency access (break-glass) for the administration

    The administration reads no family's data, except under an emergency
    access: an administrator asks for one office's cases, with a reason,
    for at most BN_EMERGENCY_MINUTES_MAX minutes; it holds once a second
    administrator approves it (within BN_EMERGENCY_APPROVAL_MS), until its
    time is up or either ends it. Every read under it is audited with the
    grant's id, and the office concerned sees who looked, and why.

    A part of bn_casework (bn_casework_ctx.h): the operations run inside
    the caller's write transaction; a refusal sets call->detail.
    =========================================================================
*/

#ifndef BN_EMERGENCY_H_INCLUDED
#define BN_EMERGENCY_H_INCLUDED

#include "bn_casework_ctx.h"
#include "bn_tokens.h"

//  What an administration request may read: the offices of the emergency
//  accesses approved for `user` and in force at `now`.
typedef struct {
    const char *user;                     //  the administrator
    int64_t now;                          //  when
    char offices[BN_TOKENS_OFFICES_SIZE]; //  their offices, comma-separated
    char grants[BN_AUDIT_DETAIL_MAX];     //  "break-glass <id>[ <id>]" for the audit
} bn_emergency_access_t;

//  Fills *access (the caller's) with what the emergency accesses in force
//  at `now` let administrator `user` read: their offices ("" none) and the
//  note its audit records carry ("" none). Returns OK or a store reason.
br_reason_t bn_emergency_in_force (bn_casework_ctx_t *ctx, MDB_txn *txn, const char *user,
                                   int64_t now, bn_emergency_access_t *access) BR_WUR;

//  POST /v1/emergency: records a request for emergency access (body:
//  office, reason, minutes) by call->user. Returns OK with the grant as
//  call->result (201), a refusal (NO_ROUTE, MALFORMED) or a store reason.
br_reason_t bn_emergency_request (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_request_t *call,
                                  int64_t now) BR_WUR;

//  POST /v1/emergency/{hex}/approve (`approve`) or /end: a second
//  administrator puts a request in force; either ends it early. Returns OK
//  with the grant as call->result, a refusal (NOT_FOUND, INVALID_STATE,
//  FORBIDDEN for approving one's own request) or a store reason.
br_reason_t bn_emergency_step (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_request_t *call,
                               const char *hex, bool approve, int64_t now) BR_WUR;

//  GET /v1/emergency: the grants the caller may see (all for the
//  administration, those to its offices for others), each with what was
//  done under it; with query mine=true only the caller's own, without
//  them. Returns OK with {emergency: [...]} as call->result, MALFORMED or
//  a store reason.
br_reason_t bn_emergency_list (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_request_t *call,
                               int64_t now) BR_WUR;

//  Self test of this class.
void bn_emergency_test (bool verbose);

#endif
