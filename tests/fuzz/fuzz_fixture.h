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

//  A fuzz_exchange input is one control byte, then the body of a
//  Transferbörse message. The control byte:
//      bits 0..2  the message type: to the broker from a town 0 BOARD_PUBLISH,
//                 1 BOARD_WITHDRAW, 2 AGREEMENT_ACTION; to Unna's node from
//                 the broker 3 BOARD_UPDATE, 4 LEDGER_UPDATE, 5 AGREEMENT
//                 (6 and 7 wrap around to 0 and 1)
//      bits 3..4  to the broker: the sending node, 0 Lünen, 1 Unna, 2 the
//                 Kreis (a county node, not a town), 3 Lünen again
//      bits 5..7  to the broker: 0, or 1 + the index of the broker's
//                 agreement (AGREEMENT_ACTION) or board item (BOARD_WITHDRAW)
//                 whose id the target appends to the body as field 1
//  Bits 3..7 mean nothing to the node.
#define FUZZ_EXCHANGE_PUBLISH       0    //  BOARD_PUBLISH, to the broker
#define FUZZ_EXCHANGE_WITHDRAW      1    //  BOARD_WITHDRAW, to the broker
#define FUZZ_EXCHANGE_ACTION        2    //  AGREEMENT_ACTION, to the broker
#define FUZZ_EXCHANGE_BOARD_UPDATE  3    //  BOARD_UPDATE, to Unna's node
#define FUZZ_EXCHANGE_LEDGER_UPDATE 4    //  LEDGER_UPDATE, to Unna's node
#define FUZZ_EXCHANGE_AGREEMENT     5    //  AGREEMENT, to Unna's node
#define FUZZ_EXCHANGE_TYPES         6    //  message types
#define FUZZ_EXCHANGE_TYPE_MASK     0x07 //  the control byte's type bits
#define FUZZ_EXCHANGE_SENDER_SHIFT  3    //  the sender's index, bits 3..4
#define FUZZ_EXCHANGE_SENDER_MASK   0x03 //  ... after the shift
#define FUZZ_EXCHANGE_OWN_SHIFT     5    //  1 + the own record's index, bits 5..7
#define FUZZ_EXCHANGE_OWN_COUNT     7    //  own records the bits can name

//  The Transferbörse of the fixture. Board items, by index: each town's
//  item signed by that town, published FUZZ_NOW_MS - 10 days, with the id
//  FUZZ_EXCHANGE_ITEM_BYTE + index in every byte.
#define FUZZ_ITEM_LUENEN_OFFER   0 //  Lünen offers Frühe Hilfen, 2 hours, 40 a quarter
#define FUZZ_ITEM_UNNA_OFFER     1 //  Unna offers Sprachförderung and Elternbildung, 3 hours, 9
#define FUZZ_ITEM_LUENEN_REQUEST 2 //  Lünen asks for Kinderschutz, which no town offers
#define FUZZ_ITEM_UNNA_REQUEST   3 //  3..9: Unna asks for Frühe Hilfen, seven times
#define FUZZ_ITEM_COUNT          10
#define FUZZ_EXCHANGE_ITEM_BYTE  0x30
//  The broker's board holds all items, and the matching of quarter
//  FUZZ_EXCHANGE_QUARTER made an agreement for each of Unna's requests
//  (Lünen coaches, 2 hours): agreement k, for item FUZZ_ITEM_UNNA_REQUEST + k,
//  then moved on to the state FUZZ_AGREEMENT_* k says. Their transfer ids
//  are random.
#define FUZZ_AGREEMENT_PROPOSED  0     //  proposed
#define FUZZ_AGREEMENT_HALF      1     //  proposed, accepted by Lünen
#define FUZZ_AGREEMENT_ACCEPTED  2     //  accepted by both
#define FUZZ_AGREEMENT_SCHEDULED 3     //  scheduled for FUZZ_EXCHANGE_DONE_MS
#define FUZZ_AGREEMENT_SIGNED    4     //  ... and Lünen signed the completion
#define FUZZ_AGREEMENT_LATER     5     //  scheduled for FUZZ_EXCHANGE_LATER_MS
#define FUZZ_AGREEMENT_COMPLETED 6     //  completed: the broker's ledger record 1
#define FUZZ_EXCHANGE_QUARTER    20261 //  2026, first quarter
#define FUZZ_EXCHANGE_DONE_MS    (FUZZ_NOW_MS - FUZZ_DAY_MS)     //  a coaching yesterday
#define FUZZ_EXCHANGE_LATER_MS   (FUZZ_NOW_MS + 7 * FUZZ_DAY_MS) //  a coaching next week
//  Unna's node holds a copy of the board with the first
//  FUZZ_EXCHANGE_NODE_ITEMS items as changes 1..FUZZ_EXCHANGE_NODE_ITEMS,
//  the first ledger record of fuzz_exchange_t, and the agreement of
//  fuzz_fixture_agreement.
#define FUZZ_EXCHANGE_NODE_ITEMS 3
//  The ledger records of fuzz_exchange_t, a chain: 1 and 3 Lünen coached
//  Unna (Frühe Hilfen, 2 hours), 2 Unna coached Lünen (Sprachförderung,
//  3 hours); completed 15, 10 and 5 days before FUZZ_NOW_MS, recorded an
//  hour later. Transfer ids FUZZ_EXCHANGE_RECORD_BYTE + sequence.
#define FUZZ_EXCHANGE_RECORDS     3
#define FUZZ_EXCHANGE_RECORD_BYTE 0xd0
//  The node's agreement: transfer id FUZZ_EXCHANGE_AGREEMENT_BYTE in every
//  byte, version FUZZ_EXCHANGE_AGREEMENT_VERSION.
#define FUZZ_EXCHANGE_AGREEMENT_BYTE    0xa7
#define FUZZ_EXCHANGE_AGREEMENT_VERSION 4

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

//  The fixture's Transferbörse (see FUZZ_ITEM_* above), built on first use.
//  The fixture roster names no broker; the Transferbörse's roster is the
//  same draft plus the broker node, signed by the same county key.
typedef struct {
    br_identity_t *broker;                    //  the county's broker, seed bytes 0xa0..0xbf
    zchunk_t *roster_bytes;                   //  the fixture roster plus the broker, version 1
    br_roster_t *roster;                      //  roster_bytes, verified at FUZZ_NOW_MS
    zchunk_t *items[FUZZ_ITEM_COUNT];         //  the board items: SignedBoardItem bytes
    zchunk_t *records[FUZZ_EXCHANGE_RECORDS]; //  ledger records 1.. in order
} fuzz_exchange_t;

//  Returns the fixture's Transferbörse, building it on first use. Belongs
//  to the process. Aborts if it cannot be built.
fuzz_exchange_t *fuzz_fixture_exchange (void);

//  Writes the id of board item `index` into `id`.
void fuzz_fixture_item_id (size_t index, uint8_t id[BR_BOARD_ID_SIZE]);

//  Fills `agreement` with the agreement Unna's node holds (see above). Its
//  strings and ids are static; do not free them.
void fuzz_fixture_agreement (Bruecke__Agreement *agreement);

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
