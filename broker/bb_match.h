/*  =========================================================================
    bb_match - proposes matches for the county's Transferbörse

    The Transferbörse (transfer exchange) is where towns trade knowledge of
    prevention measures that worked. A town OFFERS a practice example on a
    topic of the catalogue (e.g. "fruehe-hilfen") and coaches another town
    for some hours per transfer; a town REQUESTS a topic, or one offer by its
    id. The county's broker proposes who coaches whom. This class is the
    computation only: no I/O, no clock, no randomness.

    The caller describes one quarter's matching: the towns (balance in hours
    given minus received, coaching capacity left this quarter), the open
    offers and requests, the reciprocity history ("A received a transfer
    from B"), the county's balance limits and, optionally, the staged plan
    (which topics are open from which quarter, and the quarter matched).
    bb_match_run then proposes, and every request ends up either in one
    proposal or in the unmatched list with its reason.

    Every result keeps these rules (hard constraints):
      - a provider's hours proposed in the run never exceed its capacity;
      - each proposal raises the provider's balance and lowers the
        receiver's by the offer's hours, and after every proposal each
        town's balance is within [floor, ceiling]. A town that starts
        outside (the county tightened its limits) may only move towards
        them: its balance stays within [min (floor, start), max (ceiling,
        start)];
      - no town is matched with itself; each request gets at most one
        proposal; a request for one offer gets that offer or none;
      - with a plan, a topic not open in the quarter matched gets nothing.

    The heuristic (greedy, then repair passes):
      1. Requests are taken most constrained first: requests for one offer,
         then topic requests by the number of offers on their topic
         (fewest first), then by request id. So scarce topics get their
         providers before plentiful topics use them up.
      2. Each request takes, among the offers that keep the rules, the best
         by: reciprocity first (the provider once received a transfer from
         the requesting town, "im Gegenzug"); then the provider's lowest
         utilisation after the transfer, (load + hours) / capacity, which
         spreads the load; then fewer hours; then the lowest offer id.
         Ties thus break on ids, never on insertion order: the same input
         gives the same proposals in the same order.
      3. Giving coaching raises a town's balance, so a request refused for
         its town's balance floor may fit later. Passes over the requests
         refused for a balance limit repeat until one adds nothing; then no
         unmatched request has an offer that would keep the rules.
    Cost: O(R log R + sum over requests of the offers on its topic), e.g.
    10,000 requests over 20 topics of 500 offers each: 5 million checks.

    Each proposal and each refusal carries a short English `why` text with
    node ids, topics and hours only, never personal data.
    =========================================================================
*/

#ifndef BB_MATCH_H_INCLUDED
#define BB_MATCH_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"
#include "br_util.h"

//  Offer and request ids: 16 random bytes chosen by their town.
#define BB_MATCH_ID_SIZE 16
//  Longest topic code: a catalogue service code ([a-z0-9-]).
#define BB_MATCH_TOPIC_MAX BR_SERVICE_MAX
//  Room for a `why` text, with its NUL.
#define BB_MATCH_WHY_SIZE 384
//  Most hours one transfer may take.
#define BB_MATCH_HOURS_MAX 1000
//  Most coaching capacity a town may have left in a quarter, in hours.
#define BB_MATCH_CAPACITY_MAX 100000
//  Largest balance, or balance limit, in hours either way.
#define BB_MATCH_BALANCE_MAX 1000000
//  The county's default balance limits, in hours.
#define BB_MATCH_FLOOR_DEFAULT   (-20)
#define BB_MATCH_CEILING_DEFAULT 40
//  A quarter as a number YYYYQ, e.g. BB_MATCH_QUARTER (2026, 3) = 20263,
//  so that later quarters are larger numbers.
#define BB_MATCH_QUARTER(year, quarter) ((year) *10 + (quarter))
#define BB_MATCH_YEAR_MIN               2000
#define BB_MATCH_YEAR_MAX               2999

//  Why a request got no proposal.
typedef enum {
    BB_MATCH_MATCHED = 0,     //  not refused: the request has a proposal
    BB_MATCH_NOT_IN_PLAN = 1, //  its topic is not open in the quarter matched
    BB_MATCH_NO_OFFER = 2,    //  no open offer on the topic from another town,
                              //  or the requested offer is not open
    BB_MATCH_OWN_OFFER = 3,   //  the requested offer is the town's own
    BB_MATCH_CAPACITY = 4,    //  every fitting provider lacks the hours
    BB_MATCH_BALANCE = 5,     //  every fitting offer breaks a balance limit
} bb_match_reason_t;

//  One proposed transfer: `provider` coaches `receiver` for `hours`.
typedef struct {
    uint8_t request_id[BB_MATCH_ID_SIZE]; //  the request it fulfils
    uint8_t offer_id[BB_MATCH_ID_SIZE];   //  the offer it uses
    char provider[BR_NODE_ID_MAX + 1];    //  the offering town, which coaches
    char receiver[BR_NODE_ID_MAX + 1];    //  the requesting town
    char topic[BB_MATCH_TOPIC_MAX + 1];   //  the offer's topic
    int hours;                            //  coaching hours, the offer's
    bool reciprocal;                      //  provider once received from receiver
    char why[BB_MATCH_WHY_SIZE];          //  why this offer, in English
} bb_match_proposal_t;

//  One request that got no proposal, and why.
typedef struct {
    uint8_t request_id[BB_MATCH_ID_SIZE]; //  the request
    char receiver[BR_NODE_ID_MAX + 1];    //  the requesting town
    char topic[BB_MATCH_TOPIC_MAX + 1];   //  its topic ("" if its offer is unknown)
    bb_match_reason_t reason;             //  the reason code
    char why[BB_MATCH_WHY_SIZE];          //  the reason, in English
} bb_match_unmatched_t;

typedef struct _bb_match_t bb_match_t;

//  Creates an empty matching with the default balance limits and no plan.
bb_match_t *bb_match_new (void);

//  Destroys the matching and its results and nulls the pointer. Safe to
//  call twice.
void bb_match_destroy (bb_match_t **self_p);

//  Adds town `node_id` with its balance (hours given minus received) and
//  its coaching capacity left this quarter, in hours. Returns OK,
//  MALFORMED (not a node id, a value outside the limits above) or
//  INVALID_STATE (the town is already there).
br_reason_t bb_match_add_town (bb_match_t *self, const char *node_id, int balance,
                               int capacity) BR_WUR;

//  Adds offer `id` of town `provider` on `topic`, `hours` per transfer.
//  Returns OK, MALFORMED (a topic that is no code, hours outside
//  1..BB_MATCH_HOURS_MAX), NOT_FOUND (unknown town) or INVALID_STATE (the
//  id is already an offer).
br_reason_t bb_match_add_offer (bb_match_t *self, const uint8_t *id, const char *provider,
                                const char *topic, int hours) BR_WUR;

//  Adds request `id` of town `receiver` for any offer on `topic`. Returns
//  OK, MALFORMED, NOT_FOUND (unknown town) or INVALID_STATE (the id is
//  already a request).
br_reason_t bb_match_add_request (bb_match_t *self, const uint8_t *id, const char *receiver,
                                  const char *topic) BR_WUR;

//  Adds request `id` of town `receiver` for offer `offer_id` only; the
//  offer may be added later or not at all (then it is refused as
//  NO_OFFER). Returns OK, NOT_FOUND (unknown town) or INVALID_STATE.
br_reason_t bb_match_add_request_offer (bb_match_t *self, const uint8_t *id, const char *receiver,
                                        const uint8_t *offer_id) BR_WUR;

//  Records that `receiver` once received a transfer from `provider`, so
//  that `receiver` is preferred as provider for `provider`'s requests.
//  Repeats are harmless. Returns OK, MALFORMED (the same town twice) or
//  NOT_FOUND (a town not in this matching: skip the pair, it cannot
//  matter).
br_reason_t bb_match_add_history (bb_match_t *self, const char *receiver,
                                  const char *provider) BR_WUR;

//  Sets the county's balance limits in hours. Returns OK, or MALFORMED if
//  floor > ceiling or either is beyond BB_MATCH_BALANCE_MAX.
br_reason_t bb_match_set_limits (bb_match_t *self, int floor, int ceiling) BR_WUR;

//  Turns the staged plan on for quarter `quarter` (BB_MATCH_QUARTER):
//  from now on only topics given to bb_match_plan_topic with a quarter up
//  to `quarter` get proposals. Returns OK, or MALFORMED for a bad quarter.
br_reason_t bb_match_set_plan (bb_match_t *self, int quarter) BR_WUR;

//  Puts `topic` in the staged plan, open from quarter `from_quarter` on.
//  A later call for the same topic replaces its quarter. Returns OK or
//  MALFORMED.
br_reason_t bb_match_plan_topic (bb_match_t *self, const char *topic, int from_quarter) BR_WUR;

//  Computes the proposals from everything added so far, replacing the
//  results of an earlier run. Returns the number of proposals.
size_t bb_match_run (bb_match_t *self);

//  Proposals of the last run, in the order they were made.
size_t bb_match_proposal_count (bb_match_t *self);

//  The proposal at `index` (< bb_match_proposal_count). Belongs to the
//  matching; valid until the next run or destroy.
const bb_match_proposal_t *bb_match_proposal (bb_match_t *self, size_t index);

//  Requests of the last run that got no proposal.
size_t bb_match_unmatched_count (bb_match_t *self);

//  The unmatched request at `index` (< bb_match_unmatched_count). Belongs
//  to the matching; valid until the next run or destroy.
const bb_match_unmatched_t *bb_match_unmatched (bb_match_t *self, size_t index);

//  Checks the last run's results against the hard constraints above,
//  recomputing loads and balances from the proposals and the input alone,
//  and that every request appears exactly once. Returns true if they hold;
//  otherwise false, with the first violation in `error` (`error_size`
//  bytes, may be NULL).
bool bb_match_verify (bb_match_t *self, char *error, size_t error_size) BR_WUR;

//  The reason's short name, e.g. "capacity". Static string.
const char *bb_match_reason_name (bb_match_reason_t reason);

//  Self test of this class: a short tour of its API.
void bb_match_test (bool verbose);

//  The matching's scenario and property test (tests/unit/bb_match_test.c,
//  linked into bruecke-selftest only, not into the library).
void bb_match_scenario_test (bool verbose);

#endif
