/*  =========================================================================
    bb_match_pick - picks the offer for one request of a matching run
    =========================================================================
*/

#include "bruecke.h"
#include "bb_match.h"
#include "bb_match_internal.h"
#include "bb_match_tables.h"
#include "bb_match_pick.h"

#define S_QUARTER_TEXT_SIZE 24 //  room for "2026Q3" and any int pair

//  What checking one request's candidate offers found.
typedef struct {
    uint32_t best;     //  best fitting offer, BB_MATCH_NONE if none
    uint32_t fitting;  //  offers that keep every rule
    uint32_t own;      //  offers of the requesting town itself
    uint32_t capacity; //  offers whose provider lacks the hours
    uint32_t floor;    //  offers that would take the receiver below the floor
    uint32_t ceiling;  //  offers that would take the provider above the ceiling
    int least_hours;   //  fewest hours among the offers refused for the floor
} s_scan_t;

static bool
s_reciprocal (bb_match_t *match, uint32_t provider, uint32_t sequence)
{
    return match->towns[provider].stamp == sequence;
}

//  True if offer `a` is a better choice than offer `b` (both fitting).
static bool
s_better (bb_match_t *match, uint32_t a, uint32_t b, uint32_t sequence)
{
    const bb_match_offer_t *offer_a = &match->offers[a];
    const bb_match_offer_t *offer_b = &match->offers[b];
    bool reciprocal_a = s_reciprocal (match, offer_a->provider, sequence);
    bool reciprocal_b = s_reciprocal (match, offer_b->provider, sequence);
    if (reciprocal_a != reciprocal_b)
        return reciprocal_a;
    //  Utilisation after the transfer, compared without rounding
    const bb_match_town_t *town_a = &match->towns[offer_a->provider];
    const bb_match_town_t *town_b = &match->towns[offer_b->provider];
    int64_t used_a = (int64_t) (town_a->load + offer_a->hours) * town_b->capacity;
    int64_t used_b = (int64_t) (town_b->load + offer_b->hours) * town_a->capacity;
    if (used_a != used_b)
        return used_a < used_b;
    if (offer_a->hours != offer_b->hours)
        return offer_a->hours < offer_b->hours;
    return memcmp (offer_a->id, offer_b->id, BB_MATCH_ID_SIZE) < 0;
}

//  Checks one candidate offer for the request of town `receiver`.
static void
s_check_offer (bb_match_t *match, uint32_t receiver, uint32_t offer_index, uint32_t sequence,
               s_scan_t *scan)
{
    const bb_match_offer_t *offer = &match->offers[offer_index];
    if (offer->provider == receiver) {
        scan->own++;
        return;
    }
    const bb_match_town_t *provider = &match->towns[offer->provider];
    if (provider->load + offer->hours > provider->capacity) {
        scan->capacity++;
        return;
    }
    if (match->towns[receiver].running - offer->hours < match->floor) {
        if (scan->floor == 0 || offer->hours < scan->least_hours)
            scan->least_hours = offer->hours;
        scan->floor++;
        return;
    }
    if (provider->running + offer->hours > match->ceiling) {
        scan->ceiling++;
        return;
    }
    scan->fitting++;
    if (scan->best == BB_MATCH_NONE || s_better (match, offer_index, scan->best, sequence))
        scan->best = offer_index;
}

static void
s_quarter_text (int quarter, char *text, size_t size)
{
    snprintf (text, size, "%dQ%d", quarter / 10, quarter % 10);
}

//  Records the proposal of `offer_index` for the state's request.
static void
s_propose (bb_match_t *match, bb_match_state_t *state, uint32_t offer_index, uint32_t fitting,
           uint32_t sequence)
{
    const bb_match_request_t *request = &match->requests[state->request];
    const bb_match_offer_t *offer = &match->offers[offer_index];
    bb_match_town_t *provider = &match->towns[offer->provider];
    bb_match_town_t *receiver = &match->towns[request->receiver];
    match->proposals =
        (bb_match_proposal_t *) bb_match_grow (match->proposals, &match->proposal_room,
                                               match->proposal_count, sizeof (bb_match_proposal_t));
    bb_match_proposal_t *proposal = &match->proposals[match->proposal_count++];
    memset (proposal, 0, sizeof (*proposal));
    memcpy (proposal->request_id, request->id, BB_MATCH_ID_SIZE);
    memcpy (proposal->offer_id, offer->id, BB_MATCH_ID_SIZE);
    snprintf (proposal->provider, sizeof (proposal->provider), "%s", provider->node_id);
    snprintf (proposal->receiver, sizeof (proposal->receiver), "%s", receiver->node_id);
    snprintf (proposal->topic, sizeof (proposal->topic), "%s", match->topics[offer->topic].code);
    proposal->hours = offer->hours;
    proposal->reciprocal = s_reciprocal (match, offer->provider, sequence);

    char choice[BB_MATCH_WHY_SIZE];
    if (request->topic == BB_MATCH_NONE)
        snprintf (choice, sizeof (choice), "requested offer");
    else if (proposal->reciprocal)
        snprintf (choice, sizeof (choice),
                  "reciprocity: %s received from %s in the past (%u fitting offers)",
                  provider->node_id, receiver->node_id, fitting);
    else
        snprintf (choice, sizeof (choice), "least utilised provider of %u fitting offers", fitting);
    int length = snprintf (proposal->why, sizeof (proposal->why),
                           "%s; load %s %d -> %d of %d h; balance %s %+d -> %+d, %s %+d -> %+d",
                           choice, provider->node_id, provider->load, provider->load + offer->hours,
                           provider->capacity, provider->node_id, provider->running,
                           provider->running + offer->hours, receiver->node_id, receiver->running,
                           receiver->running - offer->hours);
    assert (length > 0 && (size_t) length < sizeof (proposal->why));

    provider->load += offer->hours;
    provider->running += offer->hours;
    receiver->running -= offer->hours;
    state->reason = BB_MATCH_MATCHED;
    state->retry = false;
}

//  Sets the state's refusal from what the scan found.
static void
s_refuse (bb_match_t *match, bb_match_state_t *state, const s_scan_t *scan)
{
    const bb_match_request_t *request = &match->requests[state->request];
    const bb_match_town_t *receiver = &match->towns[request->receiver];
    const char *topic =
        match
            ->topics[request->topic == BB_MATCH_NONE ? match->offers[state->offer].topic
                                                     : request->topic]
            .code;
    uint32_t balance = scan->floor + scan->ceiling;
    int length;
    if (balance == 0 && scan->capacity == 0) {
        state->reason = request->topic == BB_MATCH_NONE ? BB_MATCH_OWN_OFFER : BB_MATCH_NO_OFFER;
        if (request->topic == BB_MATCH_NONE)
            length =
                snprintf (state->why, sizeof (state->why), "the requested offer is the town's own");
        else
            length = snprintf (state->why, sizeof (state->why),
                               "no open offer on topic %s from another town", topic);
    } else if (balance > scan->capacity) {
        state->reason = BB_MATCH_BALANCE;
        if (scan->floor >= scan->ceiling)
            length =
                snprintf (state->why, sizeof (state->why),
                          "balance limit: %s at %+d h may not go below %+d h, "
                          "the smallest offer left needs %d h",
                          receiver->node_id, receiver->running, match->floor, scan->least_hours);
        else
            length = snprintf (state->why, sizeof (state->why),
                               "balance limit: %u offers on topic %s would take their "
                               "providers above %+d h",
                               scan->ceiling, topic, match->ceiling);
    } else {
        state->reason = BB_MATCH_CAPACITY;
        if (request->topic == BB_MATCH_NONE) {
            const bb_match_town_t *provider = &match->towns[match->offers[state->offer].provider];
            length = snprintf (state->why, sizeof (state->why),
                               "capacity exhausted: %s has %d of %d h left, the offer needs %d h",
                               provider->node_id, provider->capacity - provider->load,
                               provider->capacity, match->offers[state->offer].hours);
        } else
            length = snprintf (state->why, sizeof (state->why),
                               "capacity exhausted: no provider of the %u offers on topic %s "
                               "has the hours left",
                               scan->capacity, topic);
    }
    assert (length > 0 && (size_t) length < sizeof (state->why));
    //  Capacity only shrinks; balances move, so a balance refusal may lift
    state->retry = balance > 0;
}

bool
bb_match_pick (bb_match_t *match, bb_match_state_t *state, uint32_t sequence)
{
    assert (match && state);
    const bb_match_request_t *request = &match->requests[state->request];
    state->retry = false;
    if (request->topic == BB_MATCH_NONE && state->offer == BB_MATCH_NONE) {
        state->reason = BB_MATCH_NO_OFFER;
        snprintf (state->why, sizeof (state->why), "the requested offer is not open");
        return false;
    }
    uint32_t topic =
        request->topic == BB_MATCH_NONE ? match->offers[state->offer].topic : request->topic;
    if (!bb_match_topic_open (match, topic)) {
        const bb_match_topic_t *entry = &match->topics[topic];
        char matched[S_QUARTER_TEXT_SIZE], from[S_QUARTER_TEXT_SIZE];
        s_quarter_text (match->quarter, matched, sizeof (matched));
        state->reason = BB_MATCH_NOT_IN_PLAN;
        if (entry->planned) {
            s_quarter_text (entry->from_quarter, from, sizeof (from));
            snprintf (state->why, sizeof (state->why),
                      "topic %s is in the plan from %s on, not in %s", entry->code, from, matched);
        } else
            snprintf (state->why, sizeof (state->why), "topic %s is not in the plan for %s",
                      entry->code, matched);
        return false;
    }
    //  Mark the towns that once received from the requesting town
    const bb_match_town_t *receiver = &match->towns[request->receiver];
    for (uint32_t index = 0; index < receiver->history_count; index++)
        match->towns[match->receivers[receiver->history_first + index].receiver].stamp = sequence;

    s_scan_t scan = {.best = BB_MATCH_NONE};
    if (request->topic == BB_MATCH_NONE)
        s_check_offer (match, request->receiver, state->offer, sequence, &scan);
    else {
        const bb_match_topic_t *entry = &match->topics[topic];
        const uint32_t *offer = match->topic_offers + entry->first;
        for (uint32_t index = 0; index < entry->count; index++)
            s_check_offer (match, request->receiver, offer[index], sequence, &scan);
    }
    if (scan.best != BB_MATCH_NONE) {
        s_propose (match, state, scan.best, scan.fitting, sequence);
        return true;
    }
    s_refuse (match, state, &scan);
    return false;
}

//  ---- Selftest -------------------------------------------------------------

void
bb_match_pick_test (bool verbose)
{
    if (verbose)
        printf (" * bb_match_pick: ");
    //  @selftest
    uint8_t offer[BB_MATCH_ID_SIZE] = {1}, request[BB_MATCH_ID_SIZE] = {9};
    bb_match_t *match = bb_match_new ();
    assert (bb_match_add_town (match, "luenen", -16, 20) == BR_REASON_OK);
    assert (bb_match_add_town (match, "unna", 0, 20) == BR_REASON_OK);
    assert (bb_match_add_town (match, "werne", 0, 20) == BR_REASON_OK);
    //  Offers 0 (unna) and 1 (werne), 4 h each; werne received from luenen
    assert (bb_match_add_offer (match, offer, "unna", "elternbildung", 4) == BR_REASON_OK);
    offer[0] = 2;
    assert (bb_match_add_offer (match, offer, "werne", "elternbildung", 4) == BR_REASON_OK);
    assert (bb_match_add_request (match, request, "luenen", "elternbildung") == BR_REASON_OK);
    assert (bb_match_add_history (match, "werne", "luenen") == BR_REASON_OK);
    bb_match_tables_build (match);
    for (size_t index = 0; index < match->town_count; index++)
        match->towns[index].running = match->towns[index].balance;
    //  The reciprocal offer wins over the lower id
    bb_match_state_t state = {.request = 0, .offer = BB_MATCH_NONE};
    assert (bb_match_pick (match, &state, 1));
    assert (state.reason == BB_MATCH_MATCHED && match->proposal_count == 1);
    assert (streq (match->proposals[0].provider, "werne") && match->proposals[0].reciprocal);
    assert (match->towns[0].running == -20 && match->towns[2].load == 4);
    //  Again: luenen at -20 may not go lower, and may retry later
    assert (!bb_match_pick (match, &state, 2));
    assert (state.reason == BB_MATCH_BALANCE && state.retry);
    assert (streq (state.why, "balance limit: luenen at -20 h may not go below -20 h, "
                              "the smallest offer left needs 4 h"));
    assert (match->proposal_count == 1);
    bb_match_destroy (&match);
    //  @end
    if (verbose)
        printf ("OK\n");
}
