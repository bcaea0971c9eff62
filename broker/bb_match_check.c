/*  =========================================================================
    bb_match_check - checks a set of Transferbörse proposals against the rules
    =========================================================================
*/

#include "bruecke.h"
#include "bb_match.h"
#include "bb_match_internal.h"
#include "bb_match_check.h"

#define S_ERROR_SIZE 256 //  room for a violation in the selftest

//  What the proposals checked so far add up to.
typedef struct {
    int *load;    //  a town's hours proposed as provider, by town index
    int *running; //  a town's balance after the proposals, by town index
    bool *seen;   //  a request has a result, by request index
} s_tally_t;

//  Records a violation; returns false.
static bool
s_violation (char *error, size_t error_size, const char *format, ...)
{
    if (error && error_size) {
        va_list arguments;
        va_start (arguments, format);
        vsnprintf (error, error_size, format, arguments);
        va_end (arguments);
    }
    return false;
}

//  Checks proposal `index` against the input and books it on the tally.
//  Returns true if it keeps the rules so far.
static bool
s_check_proposal (bb_match_t *match, const bb_match_proposal_t *proposal, size_t index,
                  s_tally_t *tally, char *error, size_t error_size)
{
    uint32_t request_index = bb_match_id_lookup (match->request_index, proposal->request_id);
    uint32_t offer_index = bb_match_id_lookup (match->offer_index, proposal->offer_id);
    if (request_index == BB_MATCH_NONE || offer_index == BB_MATCH_NONE)
        return s_violation (error, error_size, "proposal %zu: unknown request or offer", index);
    const bb_match_request_t *request = &match->requests[request_index];
    const bb_match_offer_t *offer = &match->offers[offer_index];
    uint32_t provider = offer->provider;
    uint32_t receiver = request->receiver;
    if (tally->seen[request_index])
        return s_violation (error, error_size, "proposal %zu: request proposed twice", index);
    if (request->topic == BB_MATCH_NONE && memcmp (request->offer_id, offer->id, BB_MATCH_ID_SIZE))
        return s_violation (error, error_size, "proposal %zu: not the offer asked for", index);
    if (request->topic != BB_MATCH_NONE && request->topic != offer->topic)
        return s_violation (error, error_size, "proposal %zu: topic differs", index);
    if (provider == receiver)
        return s_violation (error, error_size, "proposal %zu: town matched with itself", index);
    const bb_match_town_t *giver = &match->towns[provider];
    const bb_match_town_t *taker = &match->towns[receiver];
    if (!streq (proposal->provider, giver->node_id) ||
        !streq (proposal->receiver, taker->node_id) ||
        !streq (proposal->topic, match->topics[offer->topic].code) ||
        proposal->hours != offer->hours)
        return s_violation (error, error_size, "proposal %zu: fields differ from input", index);
    if (!bb_match_topic_open (match, offer->topic))
        return s_violation (error, error_size, "proposal %zu: topic not in plan", index);

    tally->seen[request_index] = true;
    tally->load[provider] += offer->hours;
    tally->running[provider] += offer->hours;
    tally->running[receiver] -= offer->hours;
    if (tally->load[provider] > giver->capacity)
        return s_violation (error, error_size, "proposal %zu: %s over capacity", index,
                            giver->node_id);
    //  A town that starts outside the limits may only move towards them
    int ceiling = match->ceiling > giver->balance ? match->ceiling : giver->balance;
    int floor = match->floor < taker->balance ? match->floor : taker->balance;
    if (tally->running[provider] > ceiling || tally->running[receiver] < floor)
        return s_violation (error, error_size, "proposal %zu: balance limit broken", index);
    return true;
}

//  Checks the proposals, then the unmatched requests, then that every
//  request has a result.
static bool
s_check_all (bb_match_t *match, const bb_match_proposal_t *proposals, size_t proposal_count,
             const bb_match_unmatched_t *unmatched, size_t unmatched_count, s_tally_t *tally,
             char *error, size_t error_size)
{
    for (size_t index = 0; index < proposal_count; index++)
        if (!s_check_proposal (match, &proposals[index], index, tally, error, error_size))
            return false;
    for (size_t index = 0; index < unmatched_count; index++) {
        uint32_t request_index =
            bb_match_id_lookup (match->request_index, unmatched[index].request_id);
        if (request_index == BB_MATCH_NONE || tally->seen[request_index] ||
            unmatched[index].reason == BB_MATCH_MATCHED)
            return s_violation (error, error_size, "unmatched %zu: unknown, repeated or matched",
                                index);
        tally->seen[request_index] = true;
    }
    for (size_t index = 0; index < match->request_count; index++)
        if (!tally->seen[index])
            return s_violation (error, error_size, "request %zu has no result", index);
    return true;
}

bool
bb_match_check (bb_match_t *match, const bb_match_proposal_t *proposals, size_t proposal_count,
                const bb_match_unmatched_t *unmatched, size_t unmatched_count, char *error,
                size_t error_size)
{
    assert (match);
    assert (proposals || proposal_count == 0);
    assert (unmatched || unmatched_count == 0);
    s_tally_t tally = {
        .load = (int *) zmalloc ((match->town_count + 1) * sizeof (int)),
        .running = (int *) zmalloc ((match->town_count + 1) * sizeof (int)),
        .seen = (bool *) zmalloc ((match->request_count + 1) * sizeof (bool)),
    };
    for (size_t index = 0; index < match->town_count; index++)
        tally.running[index] = match->towns[index].balance;
    bool valid = s_check_all (match, proposals, proposal_count, unmatched, unmatched_count, &tally,
                              error, error_size);
    free (tally.seen);
    free (tally.running);
    free (tally.load);
    return valid;
}

//  ---- Selftest -------------------------------------------------------------

void
bb_match_check_test (bool verbose)
{
    if (verbose)
        printf (" * bb_match_check: ");
    //  @selftest
    uint8_t offer[BB_MATCH_ID_SIZE] = {1}, request[BB_MATCH_ID_SIZE] = {2},
            other[BB_MATCH_ID_SIZE] = {3};
    char error[S_ERROR_SIZE];

    //  unna coaches luenen for 4 h; a second request of luenen finds no
    //  capacity left
    bb_match_t *match = bb_match_new ();
    assert (bb_match_add_town (match, "luenen", 4, 20) == BR_REASON_OK);
    assert (bb_match_add_town (match, "unna", -2, 6) == BR_REASON_OK);
    assert (bb_match_add_offer (match, offer, "unna", "elternbildung", 4) == BR_REASON_OK);
    assert (bb_match_add_request (match, request, "luenen", "elternbildung") == BR_REASON_OK);
    assert (bb_match_add_request (match, other, "luenen", "elternbildung") == BR_REASON_OK);
    assert (bb_match_run (match) == 1);
    assert (bb_match_unmatched_count (match) == 1);
    bb_match_proposal_t proposals[2] = {*bb_match_proposal (match, 0)};
    bb_match_unmatched_t unmatched = *bb_match_unmatched (match, 0);
    assert (bb_match_check (match, proposals, 1, &unmatched, 1, error, sizeof (error)));

    //  Every request needs a result
    assert (!bb_match_check (match, proposals, 1, NULL, 0, error, sizeof (error)));
    assert (streq (error, "request 1 has no result"));
    assert (!bb_match_check (match, NULL, 0, NULL, 0, NULL, 0));
    //  A proposal must keep to its input
    proposals[0].hours = 3;
    assert (!bb_match_check (match, proposals, 1, &unmatched, 1, error, sizeof (error)));
    assert (streq (error, "proposal 0: fields differ from input"));
    //  The second request served too: unna would coach 8 of its 6 h
    proposals[0] = *bb_match_proposal (match, 0);
    proposals[1] = proposals[0];
    memcpy (proposals[1].request_id, unmatched.request_id, BB_MATCH_ID_SIZE);
    assert (!bb_match_check (match, proposals, 2, NULL, 0, error, sizeof (error)));
    assert (streq (error, "proposal 1: unna over capacity"));
    //  One request, two results
    assert (bb_match_check (match, proposals, 1, &unmatched, 1, NULL, 0));
    unmatched.request_id[0] = request[0];
    assert (!bb_match_check (match, proposals, 1, &unmatched, 1, error, sizeof (error)));
    assert (streq (error, "unmatched 0: unknown, repeated or matched"));
    bb_match_destroy (&match);
    //  @end
    if (verbose)
        printf ("OK\n");
}
