/*  =========================================================================
    br_catalogue - the county's fixed vocabularies for casework

    Purposes, data categories, services and statutes are codes, so that a
    consent, an attestation and a referral can be compared exactly and carry
    no free text. Each code has the German label caseworkers read.

    The rules that tie them together (PROTOCOL.md section 15):
    - a purpose is either consentable or statutory. A statutory purpose
      ("case-transfer", "child-protection") needs the statute that allows
      it; a consentable one needs a consent;
    - a case transfer travels only for the purpose "case-transfer"; a
      referral never does;
    - the category "health" is special data (GDPR Art. 9): a consent must
      say so explicitly (its health-data flag).
    =========================================================================
*/

#ifndef BR_CATALOGUE_H_INCLUDED
#define BR_CATALOGUE_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"

#define BR_CATALOGUE_PURPOSE_CASE_TRANSFER "case-transfer"
#define BR_CATALOGUE_CATEGORY_HEALTH       "health"
#define BR_CATALOGUE_CATEGORY_OUTCOME      "referral-outcome" //  status reports
#define BR_CATALOGUE_STATUTE_RELOCATION                                                            \
    "SGB VIII \xc2\xa7"                                                                            \
    "86c"

//  The German label of a purpose, category, service or statute code, or
//  NULL if the code is not in the catalogue.
const char *br_catalogue_purpose (const char *code);
const char *br_catalogue_category (const char *code);
const char *br_catalogue_service (const char *code);
const char *br_catalogue_statute (const char *name);

//  The German label of a Transferbörse topic code (a link of the prevention
//  chain, e.g. "uebergang-kita-grundschule"), or NULL if not in the catalogue.
const char *br_catalogue_topic (const char *code);

//  The code of the topic at `index` in the catalogue, from 0; NULL after
//  the last.
const char *br_catalogue_topic_code (size_t index);

//  The German label of the reason code a town gives for cancelling a
//  Transferbörse transfer ("declined", "no-capacity", "schedule-conflict",
//  "offer-changed", "other"), or NULL if not in the catalogue.
const char *br_catalogue_cancel_reason (const char *code);

//  The German label of the reason an office closes a case ("goal-reached",
//  "moved-away", "other-office", "help-declined", "no-contact", "other"),
//  or NULL if not in the catalogue.
const char *br_catalogue_close_reason (const char *code);

//  The code of the cancellation reason at `index`, from 0; NULL after the
//  last.
const char *br_catalogue_cancel_reason_code (size_t index);

//  True if `purpose` may rest on a consent.
bool br_catalogue_purpose_consentable (const char *purpose);

//  True if `statute` allows data to travel for `purpose`.
bool br_catalogue_statute_allows (const char *statute, const char *purpose);

//  Checks that an attestation of a casework message of `type` names codes
//  from the catalogue and a legal basis that allows its purpose. Returns OK,
//  ATTESTATION_INVALID (an unknown category) or PURPOSE_MISMATCH.
br_reason_t br_catalogue_check (int type, const Bruecke__Attestation *attestation) BR_WUR;

//  Self test of this class.
void br_catalogue_test (bool verbose);

#endif
