/*  =========================================================================
    bb_match_test - the Transferbörse's matching, case by case and over
    random instances

    The scenario and property test of bb_match (bruecke-selftest -t
    bb_match_scenario): hand-checked cases (reciprocity, capacity and load,
    balance limits, the staged plan, requests for one offer, the order of
    the input) and then random instances, each checked against a model of
    the rules kept apart from the class, and by bb_match_verify. bb_match's
    own selftest is a short tour of its API. Only the public API is used.
    =========================================================================
*/

#include "bruecke.h"
#include "bb_match.h"

#define S_TEST_TOWNS_MAX    8    //  towns in a random instance at most
#define S_TEST_OFFERS_MAX   14   //  offers at most
#define S_TEST_REQUESTS_MAX 18   //  requests at most
#define S_TEST_HISTORY_MAX  12   //  history pairs at most
#define S_TEST_INSTANCES    2000 //  random instances in the property test
#define S_TEST_SEED         0x5eedb0e55ULL
#define S_TEST_NO_TOPIC     (-1)
#define S_TEST_ERROR_SIZE   256 //  room for a verification error
#define S_TEST_MIN(a, b)    ((a) < (b) ? (a) : (b))
#define S_TEST_MAX(a, b)    ((a) > (b) ? (a) : (b))

static const char *s_test_topics[] = {
    "fruehe-hilfen", "uebergang-kita-grundschule", "sprachfoerderung",      "elternbildung",
    "kinderschutz",  "gesundheitsfoerderung",      "uebergang-schule-beruf"};
#define S_TEST_TOPIC_COUNT (sizeof (s_test_topics) / sizeof (s_test_topics[0]))

//  A random instance, kept apart from the class to check it independently.
typedef struct {
    size_t town_count;                                            //  towns
    char town[S_TEST_TOWNS_MAX][BR_NODE_ID_MAX + 1];              //  their node ids
    int balance[S_TEST_TOWNS_MAX];                                //  their balances
    int capacity[S_TEST_TOWNS_MAX];                               //  their capacities
    size_t offer_count;                                           //  offers
    uint8_t offer_id[S_TEST_OFFERS_MAX][BB_MATCH_ID_SIZE];        //  their ids
    size_t offer_town[S_TEST_OFFERS_MAX];                         //  their providers
    size_t offer_topic[S_TEST_OFFERS_MAX];                        //  their topics
    int offer_hours[S_TEST_OFFERS_MAX];                           //  their hours
    size_t request_count;                                         //  requests
    uint8_t request_id[S_TEST_REQUESTS_MAX][BB_MATCH_ID_SIZE];    //  their ids
    size_t request_town[S_TEST_REQUESTS_MAX];                     //  their towns
    int request_topic[S_TEST_REQUESTS_MAX];                       //  topic, or S_TEST_NO_TOPIC
    uint8_t request_offer[S_TEST_REQUESTS_MAX][BB_MATCH_ID_SIZE]; //  offer asked for
    size_t history_count;                                         //  history pairs
    size_t history_receiver[S_TEST_HISTORY_MAX];                  //  who received
    size_t history_provider[S_TEST_HISTORY_MAX];                  //  from whom
    int floor;                                                    //  balance floor
    int ceiling;                                                  //  balance ceiling
    bool plan;                                                    //  a plan is set
    int quarter;                                                  //  the quarter matched
    int topic_from[S_TEST_TOPIC_COUNT];                           //  plan: from, 0 = absent
} s_instance_t;

static void
s_instance_generate (s_instance_t *instance, uint64_t seed)
{
    uint64_t state = seed * 0x9E3779B97F4A7C15ULL + 1;
    memset (instance, 0, sizeof (*instance));
    instance->floor = br_seeded_range (&state, -12, 0);
    instance->ceiling = br_seeded_range (&state, 0, 16);
    instance->town_count = (size_t) br_seeded_range (&state, 2, S_TEST_TOWNS_MAX);
    for (size_t town = 0; town < instance->town_count; town++) {
        //  Some node ids of the full 32 characters, to fill the why texts
        char digit = (char) ('0' + town);
        if (br_seeded_range (&state, 0, 3) == 0)
            snprintf (instance->town[town], BR_NODE_ID_MAX + 1, "town-%c-with-a-very-long-node-id",
                      digit);
        else
            snprintf (instance->town[town], BR_NODE_ID_MAX + 1, "town-%c", digit);
        assert (strlen (instance->town[town]) <= BR_NODE_ID_MAX);
        //  Some towns start outside the limits
        instance->balance[town] =
            br_seeded_range (&state, instance->floor - 6, instance->ceiling + 6);
        instance->capacity[town] = br_seeded_range (&state, 0, 20);
    }
    size_t topic_count = (size_t) br_seeded_range (&state, 1, 4);
    instance->offer_count = (size_t) br_seeded_range (&state, 0, S_TEST_OFFERS_MAX);
    for (size_t offer = 0; offer < instance->offer_count; offer++) {
        br_seeded_bytes (&state, BB_MATCH_ID_SIZE, instance->offer_id[offer]);
        instance->offer_town[offer] =
            (size_t) br_seeded_range (&state, 0, (int) instance->town_count - 1);
        instance->offer_topic[offer] = (size_t) br_seeded_range (&state, 0, (int) topic_count - 1);
        instance->offer_hours[offer] = br_seeded_range (&state, 1, 8);
    }
    instance->request_count = (size_t) br_seeded_range (&state, 0, S_TEST_REQUESTS_MAX);
    for (size_t request = 0; request < instance->request_count; request++) {
        br_seeded_bytes (&state, BB_MATCH_ID_SIZE, instance->request_id[request]);
        instance->request_town[request] =
            (size_t) br_seeded_range (&state, 0, (int) instance->town_count - 1);
        int kind = br_seeded_range (&state, 0, 9);
        if (kind < 2 && instance->offer_count) {
            size_t offer = (size_t) br_seeded_range (&state, 0, (int) instance->offer_count - 1);
            instance->request_topic[request] = S_TEST_NO_TOPIC;
            memcpy (instance->request_offer[request], instance->offer_id[offer], BB_MATCH_ID_SIZE);
        } else if (kind == 2) {
            instance->request_topic[request] = S_TEST_NO_TOPIC;
            br_seeded_bytes (&state, BB_MATCH_ID_SIZE, instance->request_offer[request]);
        } else if (kind == 3) //  a topic no offer has
            instance->request_topic[request] = (int) topic_count;
        else
            instance->request_topic[request] = br_seeded_range (&state, 0, (int) topic_count - 1);
    }
    instance->history_count = (size_t) br_seeded_range (&state, 0, S_TEST_HISTORY_MAX);
    for (size_t pair = 0; pair < instance->history_count; pair++) {
        size_t receiver = (size_t) br_seeded_range (&state, 0, (int) instance->town_count - 1);
        size_t provider =
            (receiver + (size_t) br_seeded_range (&state, 1, (int) instance->town_count - 1)) %
            instance->town_count;
        instance->history_receiver[pair] = receiver;
        instance->history_provider[pair] = provider;
    }
    instance->plan = br_seeded_range (&state, 0, 2) == 0;
    instance->quarter = BB_MATCH_QUARTER (2026, 2);
    for (size_t topic = 0; topic < S_TEST_TOPIC_COUNT; topic++) {
        int choice = br_seeded_range (&state, 0, 3);
        instance->topic_from[topic] = choice == 0   ? 0
                                      : choice == 1 ? BB_MATCH_QUARTER (2026, 3)
                                                    : BB_MATCH_QUARTER (2026, choice - 1);
    }
}

//  Fills `order` with 0..count-1, shuffled if `state` is not NULL.
static void
s_order (size_t *order, size_t count, uint64_t *state)
{
    for (size_t index = 0; index < count; index++)
        order[index] = index;
    if (state)
        for (size_t index = count; index > 1; index--) {
            size_t other = (size_t) (br_seeded_next (state) % index);
            size_t swap = order[index - 1];
            order[index - 1] = order[other];
            order[other] = swap;
        }
}

//  Builds a matching of the instance, adding in shuffled order if `state`.
static bb_match_t *
s_instance_load (const s_instance_t *instance, uint64_t *state)
{
    bb_match_t *match = bb_match_new ();
    size_t order[S_TEST_REQUESTS_MAX];
    br_reason_t reason = bb_match_set_limits (match, instance->floor, instance->ceiling);
    assert (reason == BR_REASON_OK);
    s_order (order, instance->town_count, state);
    for (size_t index = 0; index < instance->town_count; index++) {
        size_t town = order[index];
        reason = bb_match_add_town (match, instance->town[town], instance->balance[town],
                                    instance->capacity[town]);
        assert (reason == BR_REASON_OK);
    }
    s_order (order, instance->offer_count, state);
    for (size_t index = 0; index < instance->offer_count; index++) {
        size_t offer = order[index];
        reason = bb_match_add_offer (
            match, instance->offer_id[offer], instance->town[instance->offer_town[offer]],
            s_test_topics[instance->offer_topic[offer]], instance->offer_hours[offer]);
        assert (reason == BR_REASON_OK);
    }
    s_order (order, instance->request_count, state);
    for (size_t index = 0; index < instance->request_count; index++) {
        size_t request = order[index];
        const char *town = instance->town[instance->request_town[request]];
        if (instance->request_topic[request] == S_TEST_NO_TOPIC)
            reason = bb_match_add_request_offer (match, instance->request_id[request], town,
                                                 instance->request_offer[request]);
        else
            reason = bb_match_add_request (match, instance->request_id[request], town,
                                           s_test_topics[instance->request_topic[request]]);
        assert (reason == BR_REASON_OK);
    }
    s_order (order, instance->history_count, state);
    for (size_t index = 0; index < instance->history_count; index++) {
        size_t pair = order[index];
        reason = bb_match_add_history (match, instance->town[instance->history_receiver[pair]],
                                       instance->town[instance->history_provider[pair]]);
        assert (reason == BR_REASON_OK);
    }
    if (instance->plan) {
        reason = bb_match_set_plan (match, instance->quarter);
        assert (reason == BR_REASON_OK);
        for (size_t topic = 0; topic < S_TEST_TOPIC_COUNT; topic++)
            if (instance->topic_from[topic]) {
                reason =
                    bb_match_plan_topic (match, s_test_topics[topic], instance->topic_from[topic]);
                assert (reason == BR_REASON_OK);
            }
    }
    return match;
}

//  Fails the property test, naming the seed that reproduces it.
#define S_PROPERTY(condition)                                                                      \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            fprintf (stderr, "bb_match property test failed for seed %llu: %s (line %d)\n",        \
                     (unsigned long long) seed, #condition, __LINE__);                             \
            assert (false);                                                                        \
        }                                                                                          \
    } while (0)

static size_t
s_instance_town (const s_instance_t *instance, const char *node_id)
{
    for (size_t town = 0; town < instance->town_count; town++)
        if (streq (instance->town[town], node_id))
            return town;
    return SIZE_MAX;
}

static size_t
s_instance_request (const s_instance_t *instance, const uint8_t *id)
{
    for (size_t request = 0; request < instance->request_count; request++)
        if (memcmp (instance->request_id[request], id, BB_MATCH_ID_SIZE) == 0)
            return request;
    return SIZE_MAX;
}

static size_t
s_instance_offer (const s_instance_t *instance, const uint8_t *id)
{
    for (size_t offer = 0; offer < instance->offer_count; offer++)
        if (memcmp (instance->offer_id[offer], id, BB_MATCH_ID_SIZE) == 0)
            return offer;
    return SIZE_MAX;
}

static bool
s_instance_open (const s_instance_t *instance, size_t topic)
{
    return !instance->plan ||
           (instance->topic_from[topic] && instance->topic_from[topic] <= instance->quarter);
}

//  True if `offer` may serve `request` at all: topic, plan, not its own.
static bool
s_instance_serves (const s_instance_t *instance, size_t request, size_t offer)
{
    if (instance->request_topic[request] == S_TEST_NO_TOPIC) {
        if (memcmp (instance->request_offer[request], instance->offer_id[offer], BB_MATCH_ID_SIZE))
            return false;
    } else if ((size_t) instance->request_topic[request] != instance->offer_topic[offer])
        return false;
    return s_instance_open (instance, instance->offer_topic[offer]) &&
           instance->offer_town[offer] != instance->request_town[request];
}

//  True if `offer` would keep every rule for `request` in state load/running.
static bool
s_instance_fits (const s_instance_t *instance, size_t request, size_t offer, const int *load,
                 const int *running)
{
    size_t provider = instance->offer_town[offer];
    size_t receiver = instance->request_town[request];
    int hours = instance->offer_hours[offer];
    return s_instance_serves (instance, request, offer) &&
           load[provider] + hours <= instance->capacity[provider] &&
           running[provider] + hours <= instance->ceiling &&
           running[receiver] - hours >= instance->floor;
}

//  Checks a run's results against the instance, independently of the class.
static void
s_instance_check (const s_instance_t *instance, bb_match_t *match, uint64_t seed)
{
    int load[S_TEST_TOWNS_MAX] = {0};
    int running[S_TEST_TOWNS_MAX];
    bool done[S_TEST_REQUESTS_MAX] = {false};
    memcpy (running, instance->balance, sizeof (running));
    char error[S_TEST_ERROR_SIZE] = "";
    bool verified = bb_match_verify (match, error, sizeof (error));
    if (!verified)
        fprintf (stderr, "bb_match_verify: %s\n", error);
    S_PROPERTY (verified);
    S_PROPERTY (bb_match_proposal_count (match) + bb_match_unmatched_count (match) ==
                instance->request_count);
    for (size_t index = 0; index < bb_match_proposal_count (match); index++) {
        const bb_match_proposal_t *proposal = bb_match_proposal (match, index);
        size_t request = s_instance_request (instance, proposal->request_id);
        size_t offer = s_instance_offer (instance, proposal->offer_id);
        S_PROPERTY (request != SIZE_MAX && offer != SIZE_MAX);
        S_PROPERTY (!done[request]);
        done[request] = true;
        size_t provider = s_instance_town (instance, proposal->provider);
        size_t receiver = s_instance_town (instance, proposal->receiver);
        S_PROPERTY (provider == instance->offer_town[offer]);
        S_PROPERTY (receiver == instance->request_town[request]);
        S_PROPERTY (provider != receiver);
        S_PROPERTY (proposal->hours == instance->offer_hours[offer]);
        S_PROPERTY (streq (proposal->topic, s_test_topics[instance->offer_topic[offer]]));
        S_PROPERTY (s_instance_serves (instance, request, offer));
        S_PROPERTY (strlen (proposal->why) > 0);
        //  The rules hold after every proposal, for towns inside the limits
        //  and for towns that started outside them
        load[provider] += proposal->hours;
        running[provider] += proposal->hours;
        running[receiver] -= proposal->hours;
        S_PROPERTY (load[provider] <= instance->capacity[provider]);
        S_PROPERTY (running[provider] <=
                    S_TEST_MAX (instance->ceiling, instance->balance[provider]));
        S_PROPERTY (running[receiver] >= S_TEST_MIN (instance->floor, instance->balance[receiver]));
        bool reciprocal = false;
        for (size_t pair = 0; pair < instance->history_count; pair++)
            if (instance->history_receiver[pair] == provider &&
                instance->history_provider[pair] == receiver)
                reciprocal = true;
        S_PROPERTY (proposal->reciprocal == reciprocal);
    }
    for (size_t town = 0; town < instance->town_count; town++) {
        S_PROPERTY (running[town] >= S_TEST_MIN (instance->floor, instance->balance[town]));
        S_PROPERTY (running[town] <= S_TEST_MAX (instance->ceiling, instance->balance[town]));
    }
    //  Every unmatched request: its reason is right, and no offer would
    //  still fit it (the repair passes leave nothing matchable behind)
    for (size_t index = 0; index < bb_match_unmatched_count (match); index++) {
        const bb_match_unmatched_t *unmatched = bb_match_unmatched (match, index);
        size_t request = s_instance_request (instance, unmatched->request_id);
        S_PROPERTY (request != SIZE_MAX && !done[request]);
        done[request] = true;
        S_PROPERTY (strlen (unmatched->why) > 0);
        size_t serving = 0;
        bool exists = false, open = false, own = false;
        for (size_t offer = 0; offer < instance->offer_count; offer++) {
            S_PROPERTY (!s_instance_fits (instance, request, offer, load, running));
            if (s_instance_serves (instance, request, offer))
                serving++;
            bool named =
                instance->request_topic[request] == S_TEST_NO_TOPIC
                    ? memcmp (instance->request_offer[request], instance->offer_id[offer],
                              BB_MATCH_ID_SIZE) == 0
                    : (size_t) instance->request_topic[request] == instance->offer_topic[offer];
            if (named) {
                exists = true;
                open = s_instance_open (instance, instance->offer_topic[offer]);
                own = own || instance->offer_town[offer] == instance->request_town[request];
            }
        }
        if (instance->request_topic[request] == S_TEST_NO_TOPIC) {
            if (!exists)
                S_PROPERTY (unmatched->reason == BB_MATCH_NO_OFFER);
            else if (!open)
                S_PROPERTY (unmatched->reason == BB_MATCH_NOT_IN_PLAN);
            else if (own)
                S_PROPERTY (unmatched->reason == BB_MATCH_OWN_OFFER);
            else
                S_PROPERTY (unmatched->reason == BB_MATCH_CAPACITY ||
                            unmatched->reason == BB_MATCH_BALANCE);
        } else if (!s_instance_open (instance, (size_t) instance->request_topic[request]))
            S_PROPERTY (unmatched->reason == BB_MATCH_NOT_IN_PLAN);
        else if (serving == 0)
            S_PROPERTY (unmatched->reason == BB_MATCH_NO_OFFER);
        else
            S_PROPERTY (unmatched->reason == BB_MATCH_CAPACITY ||
                        unmatched->reason == BB_MATCH_BALANCE);
    }
    for (size_t request = 0; request < instance->request_count; request++)
        S_PROPERTY (done[request]);
}

//  True if both runs proposed and refused exactly the same.
static bool
s_same_results (bb_match_t *first, bb_match_t *second)
{
    if (bb_match_proposal_count (first) != bb_match_proposal_count (second) ||
        bb_match_unmatched_count (first) != bb_match_unmatched_count (second))
        return false;
    for (size_t index = 0; index < bb_match_proposal_count (first); index++) {
        const bb_match_proposal_t *a = bb_match_proposal (first, index);
        const bb_match_proposal_t *b = bb_match_proposal (second, index);
        if (memcmp (a->request_id, b->request_id, BB_MATCH_ID_SIZE) ||
            memcmp (a->offer_id, b->offer_id, BB_MATCH_ID_SIZE) || a->hours != b->hours ||
            !streq (a->why, b->why))
            return false;
    }
    for (size_t index = 0; index < bb_match_unmatched_count (first); index++) {
        const bb_match_unmatched_t *a = bb_match_unmatched (first, index);
        const bb_match_unmatched_t *b = bb_match_unmatched (second, index);
        if (memcmp (a->request_id, b->request_id, BB_MATCH_ID_SIZE) || a->reason != b->reason ||
            !streq (a->why, b->why))
            return false;
    }
    return true;
}

//  An id of 16 bytes all `value`, for the hand-checked cases.
static const uint8_t *
s_test_id (uint8_t *id, uint8_t value)
{
    memset (id, value, BB_MATCH_ID_SIZE);
    return id;
}

//  Finds the proposal for request `value` (an s_test_id), or NULL.
static const bb_match_proposal_t *
s_test_proposal (bb_match_t *match, uint8_t value)
{
    uint8_t id[BB_MATCH_ID_SIZE];
    s_test_id (id, value);
    for (size_t index = 0; index < bb_match_proposal_count (match); index++)
        if (memcmp (bb_match_proposal (match, index)->request_id, id, BB_MATCH_ID_SIZE) == 0)
            return bb_match_proposal (match, index);
    return NULL;
}

//  The refusal of request `value`, or BB_MATCH_MATCHED if it has none.
static bb_match_reason_t
s_test_refusal (bb_match_t *match, uint8_t value)
{
    uint8_t id[BB_MATCH_ID_SIZE];
    s_test_id (id, value);
    for (size_t index = 0; index < bb_match_unmatched_count (match); index++)
        if (memcmp (bb_match_unmatched (match, index)->request_id, id, BB_MATCH_ID_SIZE) == 0)
            return bb_match_unmatched (match, index)->reason;
    return BB_MATCH_MATCHED;
}

void
bb_match_scenario_test (bool verbose)
{
    if (verbose)
        printf (" * bb_match_scenario: ");
    uint8_t id[BB_MATCH_ID_SIZE], other[BB_MATCH_ID_SIZE];
    char error[S_TEST_ERROR_SIZE];
    bb_match_t *match;
    const bb_match_proposal_t *proposal;

    //  Reciprocity beats load: werne has more room, but unna once received
    //  from luenen, so unna serves luenen's interests
    for (int with_history = 0; with_history < 2; with_history++) {
        match = bb_match_new ();
        assert (bb_match_add_town (match, "luenen", 0, 20) == BR_REASON_OK);
        assert (bb_match_add_town (match, "unna", 0, 20) == BR_REASON_OK);
        assert (bb_match_add_town (match, "werne", 0, 40) == BR_REASON_OK);
        assert (bb_match_add_offer (match, s_test_id (id, 1), "unna", "fruehe-hilfen", 6) ==
                BR_REASON_OK);
        assert (bb_match_add_offer (match, s_test_id (id, 2), "werne", "fruehe-hilfen", 6) ==
                BR_REASON_OK);
        assert (bb_match_add_request (match, s_test_id (id, 9), "luenen", "fruehe-hilfen") ==
                BR_REASON_OK);
        if (with_history) {
            assert (bb_match_add_history (match, "unna", "luenen") == BR_REASON_OK);
            assert (bb_match_add_history (match, "unna", "luenen") == BR_REASON_OK);
            assert (bb_match_add_history (match, "luenen", "werne") == BR_REASON_OK);
        }
        assert (bb_match_run (match) == 1);
        proposal = s_test_proposal (match, 9);
        assert (proposal);
        if (with_history) {
            assert (streq (proposal->provider, "unna") && proposal->reciprocal);
            assert (strstr (proposal->why, "reciprocity: unna received from luenen"));
        } else {
            assert (streq (proposal->provider, "werne") && !proposal->reciprocal);
            assert (strstr (proposal->why, "least utilised provider of 2 fitting offers"));
        }
        if (verbose)
            printf ("\n   %s", proposal->why);
        bb_match_destroy (&match);
    }

    //  Capacity is respected and load spreads: selm and werne can each give
    //  8 h; five requests of 4 h: two each, the fifth finds no capacity
    match = bb_match_new ();
    assert (bb_match_add_town (match, "selm", 0, 8) == BR_REASON_OK);
    assert (bb_match_add_town (match, "werne", 0, 8) == BR_REASON_OK);
    const char *requesters[] = {"bergkamen", "kamen", "froendenberg", "holzwickede", "schwerte"};
    for (uint8_t index = 0; index < 5; index++) {
        assert (bb_match_add_town (match, requesters[index], 0, 0) == BR_REASON_OK);
        assert (bb_match_add_request (match, s_test_id (id, (uint8_t) (10 + index)),
                                      requesters[index], "sprachfoerderung") == BR_REASON_OK);
    }
    assert (bb_match_add_offer (match, s_test_id (id, 1), "selm", "sprachfoerderung", 4) ==
            BR_REASON_OK);
    assert (bb_match_add_offer (match, s_test_id (id, 2), "werne", "sprachfoerderung", 4) ==
            BR_REASON_OK);
    assert (bb_match_run (match) == 4);
    size_t by_selm = 0;
    for (size_t index = 0; index < bb_match_proposal_count (match); index++)
        by_selm += streq (bb_match_proposal (match, index)->provider, "selm");
    assert (by_selm == 2);
    //  Ties in utilisation break on the offer id: the first goes to selm
    assert (streq (s_test_proposal (match, 10)->provider, "selm"));
    assert (streq (s_test_proposal (match, 11)->provider, "werne"));
    assert (s_test_refusal (match, 14) == BB_MATCH_CAPACITY);
    assert (strstr (bb_match_unmatched (match, 0)->why, "capacity exhausted"));
    assert (bb_match_verify (match, error, sizeof (error)));
    bb_match_destroy (&match);

    //  Balance limits: kamen sits near the floor and cannot receive 4 h,
    //  selm near the ceiling and cannot give 4 h
    match = bb_match_new ();
    assert (bb_match_set_limits (match, -20, 40) == BR_REASON_OK);
    assert (bb_match_add_town (match, "kamen", -18, 20) == BR_REASON_OK);
    assert (bb_match_add_town (match, "selm", 38, 20) == BR_REASON_OK);
    assert (bb_match_add_town (match, "werne", 0, 20) == BR_REASON_OK);
    assert (bb_match_add_offer (match, s_test_id (id, 1), "werne", "kinderschutz", 4) ==
            BR_REASON_OK);
    assert (bb_match_add_offer (match, s_test_id (id, 2), "selm", "elternbildung", 4) ==
            BR_REASON_OK);
    assert (bb_match_add_request (match, s_test_id (id, 10), "kamen", "kinderschutz") ==
            BR_REASON_OK);
    assert (bb_match_add_request (match, s_test_id (id, 11), "werne", "elternbildung") ==
            BR_REASON_OK);
    assert (bb_match_run (match) == 0);
    assert (s_test_refusal (match, 10) == BB_MATCH_BALANCE);
    assert (s_test_refusal (match, 11) == BB_MATCH_BALANCE);
    for (size_t index = 0; index < bb_match_unmatched_count (match); index++) {
        if (verbose)
            printf ("\n   %s", bb_match_unmatched (match, index)->why);
        assert (strstr (bb_match_unmatched (match, index)->why, "balance limit"));
    }
    //  A wider floor lets kamen receive
    assert (bb_match_set_limits (match, -22, 40) == BR_REASON_OK);
    assert (bb_match_run (match) == 1);
    assert (streq (s_test_proposal (match, 10)->provider, "werne"));
    bb_match_destroy (&match);

    //  A repair pass: kamen at its floor asks first, but coaches werne
    //  later in the run, which makes room for its own request
    match = bb_match_new ();
    assert (bb_match_set_limits (match, -20, 40) == BR_REASON_OK);
    assert (bb_match_add_town (match, "kamen", -20, 20) == BR_REASON_OK);
    assert (bb_match_add_town (match, "werne", 0, 20) == BR_REASON_OK);
    assert (bb_match_add_offer (match, s_test_id (id, 1), "werne", "kinderschutz", 4) ==
            BR_REASON_OK);
    assert (bb_match_add_offer (match, s_test_id (id, 2), "kamen", "elternbildung", 4) ==
            BR_REASON_OK);
    assert (bb_match_add_request (match, s_test_id (id, 10), "kamen", "kinderschutz") ==
            BR_REASON_OK);
    assert (bb_match_add_request (match, s_test_id (id, 11), "werne", "elternbildung") ==
            BR_REASON_OK);
    assert (bb_match_run (match) == 2);
    assert (memcmp (bb_match_proposal (match, 0)->request_id, s_test_id (id, 11),
                    BB_MATCH_ID_SIZE) == 0);
    assert (strstr (s_test_proposal (match, 10)->why, "balance werne -4 -> +0, kamen -16 -> -20"));
    bb_match_destroy (&match);

    //  Never with itself: unna's only offer on the topic is its own, and a
    //  request for its own offer is refused
    match = bb_match_new ();
    assert (bb_match_add_town (match, "unna", 0, 20) == BR_REASON_OK);
    assert (bb_match_add_town (match, "werne", 0, 20) == BR_REASON_OK);
    assert (bb_match_add_offer (match, s_test_id (id, 1), "unna", "gesundheitsfoerderung", 2) ==
            BR_REASON_OK);
    assert (bb_match_add_request (match, s_test_id (id, 10), "unna", "gesundheitsfoerderung") ==
            BR_REASON_OK);
    assert (bb_match_add_request_offer (match, s_test_id (id, 11), "unna", s_test_id (other, 1)) ==
            BR_REASON_OK);
    assert (bb_match_run (match) == 0);
    assert (s_test_refusal (match, 10) == BB_MATCH_NO_OFFER);
    assert (s_test_refusal (match, 11) == BB_MATCH_OWN_OFFER);
    bb_match_destroy (&match);

    //  A request for one offer gets that offer, even if another is less
    //  loaded, or nothing; an offer that is not open is refused
    match = bb_match_new ();
    assert (bb_match_add_town (match, "luenen", 0, 20) == BR_REASON_OK);
    assert (bb_match_add_town (match, "unna", 0, 4) == BR_REASON_OK);
    assert (bb_match_add_town (match, "werne", 0, 40) == BR_REASON_OK);
    assert (bb_match_add_request_offer (match, s_test_id (id, 10), "luenen",
                                        s_test_id (other, 1)) == BR_REASON_OK);
    assert (bb_match_add_request_offer (match, s_test_id (id, 11), "werne", s_test_id (other, 1)) ==
            BR_REASON_OK);
    assert (bb_match_add_request_offer (match, s_test_id (id, 12), "werne", s_test_id (other, 7)) ==
            BR_REASON_OK);
    assert (bb_match_add_request (match, s_test_id (id, 13), "luenen", "elternbildung") ==
            BR_REASON_OK);
    assert (bb_match_add_offer (match, s_test_id (id, 1), "unna", "elternbildung", 4) ==
            BR_REASON_OK);
    assert (bb_match_add_offer (match, s_test_id (id, 2), "werne", "elternbildung", 4) ==
            BR_REASON_OK);
    assert (bb_match_run (match) == 2);
    proposal = s_test_proposal (match, 10);
    assert (proposal && memcmp (proposal->offer_id, s_test_id (other, 1), BB_MATCH_ID_SIZE) == 0);
    assert (strstr (proposal->why, "requested offer"));
    assert (s_test_refusal (match, 11) == BB_MATCH_CAPACITY);
    assert (s_test_refusal (match, 12) == BB_MATCH_NO_OFFER);
    assert (streq (s_test_proposal (match, 13)->provider, "werne"));
    assert (bb_match_verify (match, error, sizeof (error)));
    bb_match_destroy (&match);

    //  The staged plan: in 2026Q2 kinderschutz (from Q1) is open,
    //  sprachfoerderung (from Q3) and elternbildung (not planned) are not
    match = bb_match_new ();
    assert (bb_match_add_town (match, "luenen", 0, 20) == BR_REASON_OK);
    assert (bb_match_add_town (match, "unna", 0, 20) == BR_REASON_OK);
    const char *topics[] = {"kinderschutz", "sprachfoerderung", "elternbildung"};
    for (uint8_t index = 0; index < 3; index++) {
        assert (bb_match_add_offer (match, s_test_id (id, (uint8_t) (1 + index)), "unna",
                                    topics[index], 2) == BR_REASON_OK);
        assert (bb_match_add_request (match, s_test_id (id, (uint8_t) (10 + index)), "luenen",
                                      topics[index]) == BR_REASON_OK);
    }
    assert (bb_match_add_request_offer (match, s_test_id (id, 13), "luenen",
                                        s_test_id (other, 2)) == BR_REASON_OK);
    assert (bb_match_run (match) == 4);
    assert (bb_match_set_plan (match, BB_MATCH_QUARTER (2026, 2)) == BR_REASON_OK);
    assert (bb_match_plan_topic (match, "kinderschutz", BB_MATCH_QUARTER (2026, 1)) ==
            BR_REASON_OK);
    assert (bb_match_plan_topic (match, "sprachfoerderung", BB_MATCH_QUARTER (2026, 3)) ==
            BR_REASON_OK);
    assert (bb_match_run (match) == 1);
    assert (s_test_proposal (match, 10));
    assert (s_test_refusal (match, 11) == BB_MATCH_NOT_IN_PLAN);
    assert (s_test_refusal (match, 12) == BB_MATCH_NOT_IN_PLAN);
    assert (s_test_refusal (match, 13) == BB_MATCH_NOT_IN_PLAN);
    for (size_t index = 0; index < bb_match_unmatched_count (match); index++)
        if (verbose)
            printf ("\n   %s", bb_match_unmatched (match, index)->why);
    assert (bb_match_verify (match, error, sizeof (error)));
    bb_match_destroy (&match);

    //  Property test: random instances keep every rule, leave no request
    //  unmatched that an offer would still fit, and give the same results
    //  whatever order the input came in
    size_t proposed = 0, requested = 0;
    size_t refused[BB_MATCH_BALANCE + 1] = {0};
    for (uint64_t seed = S_TEST_SEED; seed < S_TEST_SEED + S_TEST_INSTANCES; seed++) {
        s_instance_t instance;
        s_instance_generate (&instance, seed);
        match = s_instance_load (&instance, NULL);
        proposed += bb_match_run (match);
        requested += instance.request_count;
        s_instance_check (&instance, match, seed);
        for (size_t index = 0; index < bb_match_unmatched_count (match); index++)
            refused[bb_match_unmatched (match, index)->reason]++;
        uint64_t shuffle = seed;
        bb_match_t *shuffled = s_instance_load (&instance, &shuffle);
        bb_match_run (shuffled);
        S_PROPERTY (s_same_results (match, shuffled));
        //  A second run of the same matching gives the same again
        bb_match_run (shuffled);
        S_PROPERTY (s_same_results (match, shuffled));
        bb_match_destroy (&shuffled);
        bb_match_destroy (&match);

        //  One request and one offer: matched exactly when the offer fits
        instance.offer_count = instance.offer_count ? 1 : 0;
        instance.request_count = instance.request_count ? 1 : 0;
        match = s_instance_load (&instance, NULL);
        bb_match_run (match);
        int load[S_TEST_TOWNS_MAX] = {0};
        bool fits = instance.offer_count && instance.request_count &&
                    s_instance_fits (&instance, 0, 0, load, instance.balance);
        S_PROPERTY (bb_match_proposal_count (match) == (fits ? 1u : 0u));
        s_instance_check (&instance, match, seed);
        bb_match_destroy (&match);
    }
    if (verbose) {
        printf ("\n   %d random instances: %zu of %zu requests matched; refused:", S_TEST_INSTANCES,
                proposed, requested);
        for (int reason = BB_MATCH_NOT_IN_PLAN; reason <= BB_MATCH_BALANCE; reason++)
            printf (" %s %zu", bb_match_reason_name ((bb_match_reason_t) reason), refused[reason]);
        printf ("\n   ");
    }
    if (verbose)
        printf ("OK\n");
}
