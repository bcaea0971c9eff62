/*  =========================================================================
    bn_case - cases: a family or person an office of the town works with

    A case belongs to one office (its service) and holds the members (with
    their ages and who holds custody for whom), needs, notes, details by
    data category, the caseworker, the Lotse (the navigator who keeps the
    whole picture), a follow-up date (Wiedervorlage) and the reference of
    the town's own software. Notes appended later form its journal, never
    changed; every other change goes into its history with what was there
    before. br_states says which state allows which change.

    A part of bn_casework (bn_casework_ctx.h): each operation runs inside
    the caller's write transaction with its event and audit record, sets
    call->result on OK, and refuses with call->detail set.
    =========================================================================
*/

#ifndef BN_CASE_H_INCLUDED
#define BN_CASE_H_INCLUDED

#include "bn_casework_ctx.h"

//  POST /v1/cases: records a case of an office of this node the caller
//  acts for. Returns OK with the case (201), a refusal (MALFORMED,
//  NO_ROUTE, OFFICE_NOT_PERMITTED) or a store reason.
br_reason_t bn_case_create (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_request_t *call,
                            int64_t now) BR_WUR;

//  POST /v1/cases/{hex}/notes: appends a note to the case's journal, with
//  its author and time. Returns OK with the case (201), a refusal
//  (NOT_FOUND, OFFICE_NOT_PERMITTED, INVALID_STATE, TOO_LARGE) or a store
//  reason.
br_reason_t bn_case_note (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_request_t *call, const char *hex,
                          int64_t now) BR_WUR;

//  PATCH /v1/cases/{hex}: corrects members and needs, sets or (with null)
//  clears the Lotse, caseworker, follow-up date and external reference.
//  Returns OK with the case, a refusal or a store reason.
br_reason_t bn_case_update (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_request_t *call,
                            const char *hex, int64_t now) BR_WUR;

//  POST /v1/cases/{hex}/close (`close`, with a reason from the catalogue)
//  or /reopen. Returns OK with the case, a refusal or a store reason.
br_reason_t bn_case_close (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_request_t *call,
                           const char *hex, bool close, int64_t now) BR_WUR;

//  GET /v1/follow-ups: the open cases of the caller's offices with a
//  follow-up date, earliest first, each marked due or not (query
//  caseworker: only theirs); ids, dates and staff only. Returns OK with
//  {follow_ups, at_ms} or a store reason.
br_reason_t bn_case_follow_ups (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_request_t *call,
                                int64_t now) BR_WUR;

//  The member of `members` (an array) named `name` (borrowed), or NULL.
json_t *bn_case_member (json_t *members, const char *name);

//  OK if the state of case `record` allows `action` (br_states: note,
//  update, close, reopen, transfer, consent, refer); else refuses
//  INVALID_STATE.
br_reason_t bn_case_allows (bn_request_t *call, json_t *record, const char *action) BR_WUR;

//  The sections of case `record` for `categories` (an array of category
//  codes), to seal into a message, and in *codes_p their codes (for the
//  attestation); *count is how many. All is the caller's, to free with
//  bn_case_sections_free, which also wipes the contents.
Bruecke__DataSection **bn_case_sections (json_t *record, json_t *categories, size_t *count,
                                         char ***codes_p);

//  Wipes and frees what bn_case_sections returned.
void bn_case_sections_free (Bruecke__DataSection **sections, size_t count, char **codes);

//  Self test of this class.
void bn_case_test (bool verbose);

#endif
