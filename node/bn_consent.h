/*  =========================================================================
    bn_consent - a family's consents, their signed forms and withdrawal

    A consent is given by a member of the case who is of age, or who holds
    custody (custody_for) for every minor it covers, for one purpose, data
    categories and recipients (addresses resolved through the roster); it
    starts when it is recorded and lasts at most the roster's
    consent_days_max. Its signed form (a scan or PDF whose SHA-256 the
    consent recorded) is kept sealed beside it. A withdrawal, for all its
    recipients or some, cancels the referrals still open under it and tells
    each recipient by a signed message, which stops what it processes.

    A part of bn_casework (bn_casework_ctx.h): each operation runs inside
    the caller's write transaction with its event and audit record, sets
    call->result on OK, and refuses with call->detail set.
    =========================================================================
*/

#ifndef BN_CONSENT_H_INCLUDED
#define BN_CONSENT_H_INCLUDED

#include "bn_casework_ctx.h"

//  POST /v1/consents: records a consent to a case of the caller's
//  offices. Returns OK with the consent (201), a refusal (NOT_FOUND,
//  OFFICE_NOT_PERMITTED, INVALID_STATE, MALFORMED, GRANTOR_NOT_MEMBER,
//  GRANTOR_NOT_ENTITLED, SUBJECT_NOT_MEMBER, CONSENT_BACKDATED,
//  CONSENT_TOO_LONG, CONSENT_EXPIRED, PURPOSE_MISMATCH,
//  CATEGORY_NOT_COVERED, NO_ROUTE, ...) or a store reason.
br_reason_t bn_consent_record (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_request_t *call,
                               int64_t now) BR_WUR;

//  Shows `consent` as of `now`: an active one whose validity has ended is
//  "expired".
void bn_consent_status (json_t *consent, int64_t now);

//  POST /v1/consents/{hex}/withdraw: withdraws the consent for all its
//  recipients, or those the body lists, cancels the referrals open under
//  it and sends each recipient a CONSENT_WITHDRAWAL. Returns OK with the
//  consent, a refusal (NOT_FOUND, OFFICE_NOT_PERMITTED, MALFORMED,
//  INVALID_STATE if nothing is left to withdraw) or a store reason.
br_reason_t bn_consent_withdraw (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_request_t *call,
                                 const char *hex, int64_t now) BR_WUR;

//  POST /v1/consents/{hex}/form: keeps the signed form (body: content_type,
//  data in base64), sealed. Returns OK with the consent (201), a refusal
//  (NOT_FOUND, OFFICE_NOT_PERMITTED, MALFORMED, EVIDENCE_MISMATCH if it is
//  not the document the consent recorded, INVALID_STATE if one is stored)
//  or a store reason.
br_reason_t bn_consent_form_store (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_request_t *call,
                                   const char *hex, int64_t now) BR_WUR;

//  GET /v1/consents/{hex}/form: the signed form, {content_type, data,
//  sha256, size}. Returns OK, a refusal (NOT_FOUND, OFFICE_NOT_PERMITTED),
//  DECRYPT_FAILED for a form that does not open, or a store reason.
br_reason_t bn_consent_form_read (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_request_t *call,
                                  const char *hex, int64_t now) BR_WUR;

//  Checks that `consent` covers a referral of case `case_hex` for
//  `purpose` to office `service` of `node` with `categories`, now. Returns
//  OK, or refuses (CONSENT_MISSING, CONSENT_WITHDRAWN, PURPOSE_MISMATCH,
//  RECIPIENT_MISMATCH, CONSENT_EXPIRED, CATEGORY_NOT_COVERED).
br_reason_t bn_consent_covers (bn_request_t *call, json_t *consent, const char *case_hex,
                               const char *purpose, const char *node, const char *service,
                               json_t *categories, int64_t now) BR_WUR;

//  Takes a delivered CONSENT_WITHDRAWAL: stops the processing of the
//  referrals the sender made under that consent. Sets *verdict (OK, or
//  MALFORMED). Returns OK or a store reason.
br_reason_t bn_consent_receive_withdrawal (bn_casework_ctx_t *ctx, MDB_txn *txn,
                                           const Bruecke__Header *header,
                                           Bruecke__ConsentWithdrawal *withdrawal, int64_t now,
                                           br_reason_t *verdict) BR_WUR;

//  Self test of this class.
void bn_consent_test (bool verbose);

#endif
