/*  =========================================================================
    bb_exchange - the broker's Transferbörse: board, agreements, matching, ledger

    The county's broker runs the Transferbörse (transfer exchange) for its
    towns (PROTOCOL.md section 16):

    - the BOARD (br_board) of signed offers and requests, which towns change
      with BOARD_PUBLISH and BOARD_WITHDRAW;
    - the MATCHING (bb_match), which the county coordination office runs for
      a quarter: every proposal becomes an AGREEMENT between the offering
      town (provider) and the requesting town (receiver);
    - the AGREEMENTS, which both towns move on with AGREEMENT_ACTION:
      PROPOSED -> ACCEPTED (when both accepted) -> SCHEDULED -> COMPLETED
      (when both signed the completion statement), or CANCELLED with a
      reason code from the catalogue at any point before COMPLETED. The
      statement's completion time is the scheduled date: both towns sign
      the same bytes without asking each other, and not before that date
      (plus the clock skew allowed); once one town signed, the date is
      fixed;
    - the LEDGER (br_ledger), which a completion enters when both towns'
      signatures hold.

    Every change of an agreement is handed to the caller as encoded
    Agreement bytes, for it to queue to both towns in the same transaction.

    What the matching is fed, for quarter Q:
    - towns: every town of the roster that is not revoked;
    - a town's balance: its ledger balance plus the hours of its agreements
      that are neither completed nor cancelled (+ as provider, - as
      receiver), so that agreements already made count against the limits;
    - a town's capacity: the sum of the quarterly capacity of its offers on
      the board, less the hours of its agreements for Q as provider that are
      not cancelled;
    - the offers on the board, one entry per offer and topic (a request
      for one offer is a request for its first topic), and the
      requests on the board that have no agreement which is not cancelled;
    - the history: who received from whom, from the ledger and from the
      agreements that are not cancelled;
    - the county's limits and staged plan (bb_exchange_set_limits,
      bb_exchange_plan_topic).

    One database in the given LMDB environment besides the board's and the
    ledger's:

        agreements      transfer id (16) -> Agreement bytes
    =========================================================================
*/

#ifndef BB_EXCHANGE_H_INCLUDED
#define BB_EXCHANGE_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"
#include "br_store.h"
#include "br_roster.h"
#include "br_envelope.h"
#include "br_ledger.h"
#include "br_board.h"
#include "bb_match.h"

//  Largest encoded Agreement.
#define BB_EXCHANGE_AGREEMENT_MAX 4096

//  What one call changed, for the caller to pass on after (board, ledger)
//  or inside (agreements) its transaction.
typedef struct {
    bool board_changed;   //  the board has new changes
    bool ledger_changed;  //  the ledger has new records
    zlistx_t *agreements; //  zchunk_t *: encoded Agreements that changed, to send to
                          //  their provider and receiver
} bb_exchange_effects_t;

//  The outcome of one matching run.
typedef struct {
    size_t proposed;  //  agreements proposed
    size_t unmatched; //  open requests left without a proposal
} bb_exchange_run_t;

typedef struct _bb_exchange_t bb_exchange_t;

//  Opens (creating) the board, the ledger and the agreements in `store`,
//  which stays the caller's. Call it with no write transaction open.
//  Returns NULL and sets *reason (a store reason) on failure.
bb_exchange_t *bb_exchange_new (br_store_t *store, br_reason_t *reason);

//  Closes it (not the store) and nulls the pointer. Safe to call twice.
void bb_exchange_destroy (bb_exchange_t **self_p);

//  The board and the ledger, for reading and catch-up.
br_board_t *bb_exchange_board (bb_exchange_t *self);
br_ledger_t *bb_exchange_ledger (bb_exchange_t *self);

//  Sets the county's balance limits (hours). Returns OK or MALFORMED.
br_reason_t bb_exchange_set_limits (bb_exchange_t *self, int floor, int ceiling) BR_WUR;

//  Opens `topic` from quarter `from_quarter` (YYYYQ) in the staged plan.
//  Once a topic is planned, only planned topics are matched. Returns OK or
//  MALFORMED.
br_reason_t bb_exchange_plan_topic (bb_exchange_t *self, const char *topic,
                                    int from_quarter) BR_WUR;

//  Initialises an effects record; bb_exchange_effects_clear frees it.
void bb_exchange_effects_init (bb_exchange_effects_t *effects);
void bb_exchange_effects_clear (bb_exchange_effects_t *effects);

//  Takes one verified message of such a type from its town, inside `txn`.
//  A refusal goes into *verdict: MALFORMED (a body that does not decode or
//  has wrong fields), the board's reasons (br_board_put, br_board_withdraw),
//  NOT_FOUND (no such agreement), FORBIDDEN (the town is not party to it),
//  INVALID_STATE (the step does not fit the agreement's state, or a
//  completion not for the scheduled date), BAD_SIGNATURE (a completion
//  signature that is not the town's), TOO_EARLY (the scheduled date has
//  not come yet), or what br_ledger_append
//  refuses. Then nothing was written. Returns OK or a store reason (abort
//  the transaction).
br_reason_t bb_exchange_take (bb_exchange_t *self, MDB_txn *txn, br_envelope_t *envelope,
                              br_roster_t *roster, int64_t now_ms, bb_exchange_effects_t *effects,
                              br_reason_t *verdict) BR_WUR;

//  Runs the matching for quarter `quarter` (YYYYQ) inside `txn` and turns
//  every proposal into a PROPOSED agreement. Each proposal and unmatched
//  request is also passed to `report` (may be NULL) as one line of English
//  text without personal data. Returns OK, MALFORMED (a bad quarter),
//  AUDIT_BROKEN (stored data that does not decode) or a store reason.
br_reason_t bb_exchange_match (bb_exchange_t *self, MDB_txn *txn, int quarter, br_roster_t *roster,
                               int64_t now_ms, bb_exchange_effects_t *effects,
                               bb_exchange_run_t *run,
                               void (*report) (void *argument, const char *line),
                               void *argument) BR_WUR;

//  Calls `agreement` with each stored Agreement's bytes, in transfer id
//  order, in a read transaction of its own. Returns how many.
size_t bb_exchange_agreements (bb_exchange_t *self,
                               void (*agreement) (void *argument, const uint8_t *data, size_t size),
                               void *argument);

//  Self test of this class: a short tour of its API.
void bb_exchange_test (bool verbose);

//  The Transferbörse's scenario and property test (tests/unit/bb_exchange_test.c,
//  linked into bruecke-selftest only, not into the library).
void bb_exchange_scenario_test (bool verbose);

#endif
