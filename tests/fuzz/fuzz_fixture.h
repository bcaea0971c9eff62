/*  =========================================================================
    fuzz_fixture - the fixed world the fuzz targets and the corpus generator share

    Every fuzz target judges its input against the same deterministic county:
    node identities derived from fixed seeds, a roster signed by a fixed
    county key, and a fixed clock. The seed corpus (make_corpus.c) is built
    from the same fixture, so its valid inputs pass every check of the
    targets, and a reproducer behaves the same on every machine and day.

    The roster, version 1, issued FUZZ_NOW_MS - 1 day, valid 365 days:

        luenen      town    05978024  jobcenter, jugendamt
        unna        town    05978036  fruehe-hilfen, jugendamt
        kreis-unna  county  05978     gesundheitsamt, jugendamt
        werne       town    05978040  jugendamt               (revoked)

    with routes for each town's own services, the Kreis as Jugendamt for
    Bönen, Fröndenberg/Ruhr and Holzwickede, the Kreis's Gesundheitsamt for
    Lünen and Unna, and Werne's Jugendamt routed to the revoked node. The
    revoked node lets the targets reach the NODE_REVOKED refusals.

    The fixture is built on first use and lives until the process exits.
    =========================================================================
*/

#ifndef FUZZ_FIXTURE_H_INCLUDED
#define FUZZ_FIXTURE_H_INCLUDED

#include "bruecke.h"

#define FUZZ_NOW_MS           1767225600000LL     //  2026-01-01T00:00:00Z, the targets' clock
#define FUZZ_HOUR_MS          (3600LL * 1000)     //  one hour
#define FUZZ_DAY_MS           (24 * FUZZ_HOUR_MS) //  one day
#define FUZZ_ROSTER_ISSUED_MS (FUZZ_NOW_MS - FUZZ_DAY_MS) //  when the county signed the roster
#define FUZZ_ROSTER_VALID_MS  (365 * FUZZ_DAY_MS)         //  how long the roster is valid
#define FUZZ_ROSTER_VERSION   1                           //  the fixture roster's version
#define FUZZ_MAX_INPUT_SIZE   4096                        //  -max_len the targets are run with
#define FUZZ_COUNTY_AGS       "05978"                     //  Kreis Unna
#define FUZZ_COUNTY_NAME      "Kreis Unna"                //  its name

//  A fuzz_casework input is one control byte, then the body bytes of a
//  casework message from Lünen to Unna. The control byte:
//      bits 0..2  the message type (one of these five; 5..7 wrap around)
//      bit 3      commit the receiving transaction instead of aborting it
//      bit 4      append the id of one of Unna's own records to the body
//      bit 5      a referral under a statute (SGB VIII §8a), not a consent
//      bits 6..7  which own record (of FUZZ_CASEWORK_OWN_COUNT)
#define FUZZ_CASEWORK_REFERRAL     0    //  REFERRAL
#define FUZZ_CASEWORK_UPDATE       1    //  REFERRAL_UPDATE
#define FUZZ_CASEWORK_WITHDRAWAL   2    //  CONSENT_WITHDRAWAL
#define FUZZ_CASEWORK_TRANSFER     3    //  CASE_TRANSFER
#define FUZZ_CASEWORK_ANSWER       4    //  CASE_TRANSFER_ANSWER
#define FUZZ_CASEWORK_TYPES        5    //  message types
#define FUZZ_CASEWORK_TYPE_MASK    0x07 //  the control byte's type bits
#define FUZZ_CASEWORK_COMMIT       0x08 //  commit
#define FUZZ_CASEWORK_OWN          0x10 //  append an own record's id
#define FUZZ_CASEWORK_STATUTE      0x20 //  a referral under a statute
#define FUZZ_CASEWORK_OWN_SHIFT    6    //  the own record's index, bits 6..7
#define FUZZ_CASEWORK_OWN_COUNT    4    //  own referrals, and own transfers
#define FUZZ_CASEWORK_ID_SIZE      16   //  referral, transfer, consent ids (BN_ID_SIZE)
#define FUZZ_CASEWORK_CONSENT_BYTE 0xc0 //  the attestations' consent id: 0xc0, 0xc1, ... 0xcf

typedef struct {
    br_identity_t *luenen;     //  town node Lünen, seed bytes 0x00..0x1f
    br_identity_t *unna;       //  town node Unna, seed bytes 0x20..0x3f
    br_identity_t *county;     //  the county's roster key, seed bytes 0x40..0x5f
    br_identity_t *kreis_unna; //  the Kreis administration's node, seed bytes 0x60..0x7f
    br_identity_t *werne;      //  town node Werne, revoked, seed bytes 0x80..0x9f
    zchunk_t *roster_bytes;    //  the encoded SignedRoster, version 1
    br_roster_t *roster;       //  roster_bytes, verified at FUZZ_NOW_MS
} fuzz_fixture_t;

//  Returns the fixture, building it on first use (not thread-safe; the
//  targets are single-threaded). It belongs to the process: never destroy it
//  or its parts. Aborts if the fixture cannot be built.
fuzz_fixture_t *fuzz_fixture (void);

//  Returns the fixture identity whose node id is `node_id` (luenen, unna,
//  kreis-unna, werne or county), or NULL. Belongs to the fixture.
br_identity_t *fuzz_fixture_identity (const char *node_id);

//  Returns a new draft of the fixture roster at version 1, the one the
//  fixture signs. The corpus generator signs variations of it. Caller owns
//  it (zconfig_destroy).
zconfig_t *fuzz_fixture_roster_draft (void);

//  The targets' own invariants: checked in every build, whatever NDEBUG
//  says. A failure is a finding: it prints the condition and aborts, so
//  libFuzzer saves the input.
#define FUZZ_CHECK(condition)                                                                      \
    do {                                                                                           \
        if (!(condition))                                                                          \
            fuzz_check_failed (#condition, __FILE__, __LINE__);                                    \
    } while (0)

//  Reports a failed FUZZ_CHECK and aborts.
void fuzz_check_failed (const char *condition, const char *file, int line)
    __attribute__ ((noreturn));

#endif
