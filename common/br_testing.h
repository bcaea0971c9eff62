/*  =========================================================================
    br_testing - an invented county for the selftests

    The county the classes' selftests share: its key, a broker, three towns
    (luenen with the Jobcenter, unna with the Frühe Hilfen, kamen with the
    Jugendamt), a town the county revoked (selm) and a stranger the roster
    does not know, with the roster signed now and valid for an hour. All of
    it is invented. br_testing_county_write puts it on disk as the daemons
    read it, for the whole-daemon selftests.
    =========================================================================
*/

#ifndef BR_TESTING_H_INCLUDED
#define BR_TESTING_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"
#include "br_identity.h"
#include "br_roster.h"
#include "br_envelope.h"

//  The county; its members are the selftests' to read, not to free.
typedef struct {
    br_identity_t *county;   //  signs the roster
    br_identity_t *broker;   //  in the roster, not a town
    br_identity_t *luenen;   //  a town: jobcenter
    br_identity_t *unna;     //  a town: fruehe-hilfen
    br_identity_t *kamen;    //  a town: jugendamt
    br_identity_t *selm;     //  a revoked town
    br_identity_t *stranger; //  not in the roster
    zconfig_t *draft;        //  the county's roster draft
    zchunk_t *signed_roster; //  the draft signed by the county
    br_roster_t *roster;     //  the signed roster, verified
} br_testing_county_t;

//  Makes the county with fresh keys.
br_testing_county_t *br_testing_county_new (void);

//  Frees the county and nulls the pointer.
void br_testing_county_destroy (br_testing_county_t **self_p);

//  Signs the draft as it is now and returns the verified roster (the
//  caller's), a newer version than any signed before.
br_roster_t *br_testing_county_sign (br_testing_county_t *self);

//  Writes into `directory` (which exists): <node>.key and <node>.pub for
//  the county, the broker and the three towns, and roster.bin (the first
//  signed roster).
br_reason_t br_testing_county_write (br_testing_county_t *self, const char *directory) BR_WUR;

//  A message of `type` with `body` from `from` to the Frühe Hilfen of
//  `to`, sealed to `seal_to` (NULL: to `to`; another identity makes a
//  message its recipient cannot open), made at `created_ms`, living `lifetime_ms`,
//  under the invented consent whose id is `consent` followed by zeros
//  (language support, household), or without attestation if `consent` is
//  0. Returns its bytes, the caller's.
zchunk_t *br_testing_message (br_identity_t *from, br_identity_t *to, br_identity_t *seal_to,
                              Bruecke__MessageType type, const ProtobufCMessage *body,
                              uint8_t consent, int64_t created_ms, int64_t lifetime_ms);

//  Self test of this class.
void br_testing_test (bool verbose);

#endif
