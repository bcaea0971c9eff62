/*  =========================================================================
    bn_casework_testing - an invented county for the casework's selftests

    Four towns, each with its own store, data key, audit log and casework in
    a temporary directory: Lünen (Jugendamt, Jobcenter), Unna (Frühe Hilfen,
    Jugendamt), the Kreis Unna administration (Gesundheitsamt, Jobcenter)
    and Kamen (Jugendamt), under one roster signed now and valid for an
    hour. The selftests of bn_casework and its parts call the API as a
    caseworker would (bn_casework_call) and hand messages from one town to
    the other as broker and node would. All of it is invented. Every
    function asserts what it expects: a test that goes wrong stops there.
    =========================================================================
*/

#ifndef BN_CASEWORK_TESTING_H_INCLUDED
#define BN_CASEWORK_TESTING_H_INCLUDED

#include "bn_casework.h"

//  One town of the test county.
typedef struct {
    br_identity_t *identity; //  its keys
    bn_store_t *store;       //  its store
    bn_vault_t *vault;       //  its data key
    bn_audit_t *audit;       //  its audit log
    bn_casework_t *casework; //  its casework
    char *directory;         //  its state directory
    const char *offices;     //  the offices its caseworker acts for
} bn_casework_town_t;

//  The county; its members are the selftests' to use, not to free.
typedef struct {
    br_identity_t *county;     //  signs the roster
    zconfig_t *draft;          //  the roster's draft
    zchunk_t *signed_roster;   //  the draft, signed
    br_roster_t *roster;       //  the roster every town's casework has
    bn_casework_town_t luenen; //  Lünen: jugendamt, jobcenter
    bn_casework_town_t unna;   //  Unna: fruehe-hilfen, jugendamt
    bn_casework_town_t kreis;  //  Kreis Unna: gesundheitsamt, jobcenter
    bn_casework_town_t kamen;  //  Kamen: jugendamt
} bn_casework_testing_t;

//  Makes the county, with fresh keys and empty stores.
bn_casework_testing_t *bn_casework_testing_new (void);

//  Removes the county and its directories, and nulls the pointer.
void bn_casework_testing_destroy (bn_casework_testing_t **self_p);

//  Makes an API call in a transaction of its own as `user` of `role`
//  acting for `offices`; `path` may carry a query ("?a=1&b=2"), `body` is
//  JSON text or NULL. Asserts that it ends with `expected`, and commits
//  only then. Returns the result, the caller's (NULL on a refusal).
json_t *bn_casework_testing_call_by (bn_casework_town_t *town, const char *user, const char *role,
                                     const char *offices, const char *method, const char *path,
                                     const char *body, br_reason_t expected);

//  Makes an API call as a caseworker acting for `offices`; as
//  bn_casework_testing_call_by.
json_t *bn_casework_testing_call_as (bn_casework_town_t *town, const char *offices,
                                     const char *method, const char *path, const char *body,
                                     br_reason_t expected);

//  Makes an API call as the town's caseworker, for all its offices; as
//  bn_casework_testing_call_by.
json_t *bn_casework_testing_call (bn_casework_town_t *town, const char *method, const char *path,
                                  const char *body, br_reason_t expected);

//  Hands what `from` has queued for `to` over, as broker and node would,
//  checking as the recipient checks, and marks it receipted at `from`.
//  Returns how many messages were for `to`; *verdict is the last verdict.
size_t bn_casework_testing_deliver (bn_casework_town_t *from, bn_casework_town_t *to,
                                    br_roster_t *roster, br_reason_t *verdict);

//  The state of record `id` of `kind` ("cases", "referrals", ...) as the
//  town's caseworker reads it; valid until the next call.
const char *bn_casework_testing_state (bn_casework_town_t *town, const char *kind, const char *id);

//  Records the invented Beispiel family (a mother with custody for her
//  child, 5, and the father) as a case of `office` in `town`. Returns its
//  id, the caller's to free.
char *bn_casework_testing_case (bn_casework_town_t *town, const char *office);

//  The body of a POST /v1/consents: the mother's written consent to case
//  `case_id` (of Lünen) for language support to Unna's Frühe Hilfen and
//  the Kreis's Gesundheitsamt (household, child-age, language), valid for
//  a day from now. Returns it, the caller's to free.
char *bn_casework_testing_consent_body (const char *case_id);

//  Self test of this class.
void bn_casework_testing_test (bool verbose);

#endif
