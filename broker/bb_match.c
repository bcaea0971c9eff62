/*  =========================================================================
    bb_match - proposes matches for the county's Transferbörse
    =========================================================================
*/

#include "bruecke.h"
#include "bb_match.h"
#include "bb_match_internal.h"
#include "bb_match_check.h"
#include "bb_match_tables.h"
#include "bb_match_pick.h"

#define S_ID_HEX_SIZE (2 * BB_MATCH_ID_SIZE + 1)
#define S_GROW_MIN    16  //  first allocation of a growing array
#define S_ERROR_SIZE  256 //  room for a verification error in the selftest

//  ---- Helpers --------------------------------------------------------------

void *
bb_match_grow (void *array, size_t *room, size_t count, size_t item_size)
{
    if (count < *room)
        return array;
    size_t new_room = *room ? *room * 2 : S_GROW_MIN;
    void *grown = realloc (array, new_room * item_size);
    assert (grown);
    *room = new_room;
    return grown;
}

static void
s_id_hex (const uint8_t *id, char hex[S_ID_HEX_SIZE])
{
    br_hex_encode (id, BB_MATCH_ID_SIZE, hex);
}

//  Finds `key` in an index table; returns its index or BB_MATCH_NONE.
static uint32_t
s_index_lookup (zhashx_t *table, const char *key)
{
    uintptr_t value = (uintptr_t) zhashx_lookup (table, key);
    return value ? (uint32_t) (value - 1) : BB_MATCH_NONE;
}

static void
s_index_insert (zhashx_t *table, const char *key, size_t index)
{
    int rc = zhashx_insert (table, key, (void *) (uintptr_t) (index + 1));
    assert (rc == 0);
}

uint32_t
bb_match_id_lookup (zhashx_t *table, const uint8_t *id)
{
    char hex[S_ID_HEX_SIZE];
    s_id_hex (id, hex);
    return s_index_lookup (table, hex);
}

static bool
s_value_valid (int value, int limit)
{
    return value >= -limit && value <= limit;
}

//  Returns the topic's index, adding it if new. `code` must be valid.
static uint32_t
s_topic_intern (bb_match_t *self, const char *code)
{
    uint32_t index = s_index_lookup (self->topic_index, code);
    if (index != BB_MATCH_NONE)
        return index;
    self->topics = (bb_match_topic_t *) bb_match_grow (
        self->topics, &self->topic_room, self->topic_count, sizeof (bb_match_topic_t));
    bb_match_topic_t *topic = &self->topics[self->topic_count];
    memset (topic, 0, sizeof (*topic));
    snprintf (topic->code, sizeof (topic->code), "%s", code);
    s_index_insert (self->topic_index, code, self->topic_count);
    return (uint32_t) self->topic_count++;
}

static bool
s_quarter_valid (int quarter)
{
    int year = quarter / 10;
    int part = quarter % 10;
    return year >= BB_MATCH_YEAR_MIN && year <= BB_MATCH_YEAR_MAX && part >= 1 && part <= 4;
}

bool
bb_match_topic_open (bb_match_t *self, uint32_t topic)
{
    if (!self->plan)
        return true;
    return self->topics[topic].planned && self->topics[topic].from_quarter <= self->quarter;
}

//  ---- Construction and input ----------------------------------------------

bb_match_t *
bb_match_new (void)
{
    bb_match_t *self = (bb_match_t *) zmalloc (sizeof (bb_match_t));
    self->town_index = zhashx_new ();
    self->topic_index = zhashx_new ();
    self->offer_index = zhashx_new ();
    self->request_index = zhashx_new ();
    self->floor = BB_MATCH_FLOOR_DEFAULT;
    self->ceiling = BB_MATCH_CEILING_DEFAULT;
    return self;
}

void
bb_match_destroy (bb_match_t **self_p)
{
    assert (self_p);
    bb_match_t *self = *self_p;
    if (self) {
        zhashx_destroy (&self->town_index);
        zhashx_destroy (&self->topic_index);
        zhashx_destroy (&self->offer_index);
        zhashx_destroy (&self->request_index);
        free (self->towns);
        free (self->topics);
        free (self->offers);
        free (self->requests);
        free (self->history);
        free (self->topic_offers);
        free (self->receivers);
        free (self->proposals);
        free (self->unmatched);
        free (self);
        *self_p = NULL;
    }
}

br_reason_t
bb_match_add_town (bb_match_t *self, const char *node_id, int balance, int capacity)
{
    assert (self && node_id);
    if (!br_token_valid (node_id, BR_NODE_ID_MAX) ||
        !s_value_valid (balance, BB_MATCH_BALANCE_MAX) || capacity < 0 ||
        capacity > BB_MATCH_CAPACITY_MAX)
        return BR_REASON_MALFORMED;
    if (s_index_lookup (self->town_index, node_id) != BB_MATCH_NONE)
        return BR_REASON_INVALID_STATE;
    self->towns = (bb_match_town_t *) bb_match_grow (self->towns, &self->town_room,
                                                     self->town_count, sizeof (bb_match_town_t));
    bb_match_town_t *town = &self->towns[self->town_count];
    memset (town, 0, sizeof (*town));
    snprintf (town->node_id, sizeof (town->node_id), "%s", node_id);
    town->balance = balance;
    town->capacity = capacity;
    s_index_insert (self->town_index, node_id, self->town_count);
    self->town_count++;
    return BR_REASON_OK;
}

br_reason_t
bb_match_add_offer (bb_match_t *self, const uint8_t *id, const char *provider, const char *topic,
                    int hours)
{
    assert (self && id && provider && topic);
    if (!br_token_valid (topic, BB_MATCH_TOPIC_MAX) || hours < 1 || hours > BB_MATCH_HOURS_MAX)
        return BR_REASON_MALFORMED;
    uint32_t town = s_index_lookup (self->town_index, provider);
    if (town == BB_MATCH_NONE)
        return BR_REASON_NOT_FOUND;
    char hex[S_ID_HEX_SIZE];
    s_id_hex (id, hex);
    if (s_index_lookup (self->offer_index, hex) != BB_MATCH_NONE)
        return BR_REASON_INVALID_STATE;
    self->offers = (bb_match_offer_t *) bb_match_grow (
        self->offers, &self->offer_room, self->offer_count, sizeof (bb_match_offer_t));
    bb_match_offer_t *offer = &self->offers[self->offer_count];
    memcpy (offer->id, id, BB_MATCH_ID_SIZE);
    offer->provider = town;
    offer->topic = s_topic_intern (self, topic);
    offer->hours = hours;
    s_index_insert (self->offer_index, hex, self->offer_count);
    self->offer_count++;
    return BR_REASON_OK;
}

//  Adds a request for `topic` (a valid code) or, if NULL, for `offer_id`.
static br_reason_t
s_add_request (bb_match_t *self, const uint8_t *id, const char *receiver, const char *topic,
               const uint8_t *offer_id)
{
    uint32_t town = s_index_lookup (self->town_index, receiver);
    if (town == BB_MATCH_NONE)
        return BR_REASON_NOT_FOUND;
    char hex[S_ID_HEX_SIZE];
    s_id_hex (id, hex);
    if (s_index_lookup (self->request_index, hex) != BB_MATCH_NONE)
        return BR_REASON_INVALID_STATE;
    self->requests = (bb_match_request_t *) bb_match_grow (
        self->requests, &self->request_room, self->request_count, sizeof (bb_match_request_t));
    bb_match_request_t *request = &self->requests[self->request_count];
    memset (request, 0, sizeof (*request));
    memcpy (request->id, id, BB_MATCH_ID_SIZE);
    request->receiver = town;
    if (topic)
        request->topic = s_topic_intern (self, topic);
    else {
        request->topic = BB_MATCH_NONE;
        memcpy (request->offer_id, offer_id, BB_MATCH_ID_SIZE);
    }
    s_index_insert (self->request_index, hex, self->request_count);
    self->request_count++;
    return BR_REASON_OK;
}

br_reason_t
bb_match_add_request (bb_match_t *self, const uint8_t *id, const char *receiver, const char *topic)
{
    assert (self && id && receiver && topic);
    if (!br_token_valid (topic, BB_MATCH_TOPIC_MAX))
        return BR_REASON_MALFORMED;
    return s_add_request (self, id, receiver, topic, NULL);
}

br_reason_t
bb_match_add_request_offer (bb_match_t *self, const uint8_t *id, const char *receiver,
                            const uint8_t *offer_id)
{
    assert (self && id && receiver && offer_id);
    return s_add_request (self, id, receiver, NULL, offer_id);
}

br_reason_t
bb_match_add_history (bb_match_t *self, const char *receiver, const char *provider)
{
    assert (self && receiver && provider);
    if (streq (receiver, provider))
        return BR_REASON_MALFORMED;
    uint32_t receiver_index = s_index_lookup (self->town_index, receiver);
    uint32_t provider_index = s_index_lookup (self->town_index, provider);
    if (receiver_index == BB_MATCH_NONE || provider_index == BB_MATCH_NONE)
        return BR_REASON_NOT_FOUND;
    self->history = (bb_match_pair_t *) bb_match_grow (
        self->history, &self->history_room, self->history_count, sizeof (bb_match_pair_t));
    self->history[self->history_count].provider = provider_index;
    self->history[self->history_count].receiver = receiver_index;
    self->history_count++;
    return BR_REASON_OK;
}

br_reason_t
bb_match_set_limits (bb_match_t *self, int floor, int ceiling)
{
    assert (self);
    if (floor > ceiling || !s_value_valid (floor, BB_MATCH_BALANCE_MAX) ||
        !s_value_valid (ceiling, BB_MATCH_BALANCE_MAX))
        return BR_REASON_MALFORMED;
    self->floor = floor;
    self->ceiling = ceiling;
    return BR_REASON_OK;
}

br_reason_t
bb_match_set_plan (bb_match_t *self, int quarter)
{
    assert (self);
    if (!s_quarter_valid (quarter))
        return BR_REASON_MALFORMED;
    self->plan = true;
    self->quarter = quarter;
    return BR_REASON_OK;
}

br_reason_t
bb_match_plan_topic (bb_match_t *self, const char *topic, int from_quarter)
{
    assert (self && topic);
    if (!br_token_valid (topic, BB_MATCH_TOPIC_MAX) || !s_quarter_valid (from_quarter))
        return BR_REASON_MALFORMED;
    //  Intern first: it may move the topics array
    uint32_t index = s_topic_intern (self, topic);
    bb_match_topic_t *entry = &self->topics[index];
    entry->planned = true;
    entry->from_quarter = from_quarter;
    return BR_REASON_OK;
}

//  ---- The run --------------------------------------------------------------

//  Request order: requests for one offer first, then by how few offers
//  could serve them, then by id.
static int
s_state_compare (const void *left, const void *right, void *argument)
{
    const bb_match_state_t *a = (const bb_match_state_t *) left;
    const bb_match_state_t *b = (const bb_match_state_t *) right;
    const bb_match_t *self = (const bb_match_t *) argument;
    const bb_match_request_t *request_a = &self->requests[a->request];
    const bb_match_request_t *request_b = &self->requests[b->request];
    bool specific_a = request_a->topic == BB_MATCH_NONE;
    bool specific_b = request_b->topic == BB_MATCH_NONE;
    if (specific_a != specific_b)
        return specific_a ? -1 : 1;
    if (a->scarcity != b->scarcity)
        return a->scarcity < b->scarcity ? -1 : 1;
    return memcmp (request_a->id, request_b->id, BB_MATCH_ID_SIZE);
}

size_t
bb_match_run (bb_match_t *self)
{
    assert (self);
    assert (self->request_count < BB_MATCH_NONE && self->offer_count < BB_MATCH_NONE);
    self->proposal_count = 0;
    self->unmatched_count = 0;
    for (size_t index = 0; index < self->town_count; index++) {
        bb_match_town_t *town = &self->towns[index];
        town->load = 0;
        town->running = town->balance;
        town->stamp = 0;
    }
    bb_match_tables_build (self);

    bb_match_state_t *states =
        (bb_match_state_t *) zmalloc ((self->request_count + 1) * sizeof (bb_match_state_t));
    for (size_t index = 0; index < self->request_count; index++) {
        const bb_match_request_t *request = &self->requests[index];
        bb_match_state_t *state = &states[index];
        state->request = (uint32_t) index;
        state->offer = BB_MATCH_NONE;
        if (request->topic == BB_MATCH_NONE)
            state->offer = bb_match_id_lookup (self->offer_index, request->offer_id);
        else
            state->scarcity = self->topics[request->topic].count;
    }
    qsort_r (states, self->request_count, sizeof (bb_match_state_t), s_state_compare, self);

    uint32_t sequence = 0;
    for (size_t index = 0; index < self->request_count; index++)
        bb_match_pick (self, &states[index], ++sequence);
    //  Repair passes: balances moved, so refusals for a balance limit may lift
    bool progress = true;
    while (progress) {
        progress = false;
        for (size_t index = 0; index < self->request_count; index++)
            if (states[index].retry && bb_match_pick (self, &states[index], ++sequence))
                progress = true;
    }

    free (self->unmatched);
    self->unmatched = (bb_match_unmatched_t *) zmalloc (
        (self->request_count - self->proposal_count + 1) * sizeof (bb_match_unmatched_t));
    for (size_t index = 0; index < self->request_count; index++) {
        const bb_match_state_t *state = &states[index];
        if (state->reason == BB_MATCH_MATCHED)
            continue;
        const bb_match_request_t *request = &self->requests[state->request];
        bb_match_unmatched_t *unmatched = &self->unmatched[self->unmatched_count++];
        memcpy (unmatched->request_id, request->id, BB_MATCH_ID_SIZE);
        snprintf (unmatched->receiver, sizeof (unmatched->receiver), "%s",
                  self->towns[request->receiver].node_id);
        uint32_t topic = request->topic != BB_MATCH_NONE ? request->topic
                         : state->offer != BB_MATCH_NONE ? self->offers[state->offer].topic
                                                         : BB_MATCH_NONE;
        if (topic != BB_MATCH_NONE)
            snprintf (unmatched->topic, sizeof (unmatched->topic), "%s", self->topics[topic].code);
        unmatched->reason = state->reason;
        memcpy (unmatched->why, state->why, sizeof (unmatched->why));
    }
    assert (self->proposal_count + self->unmatched_count == self->request_count);
    free (states);
    self->ran = true;
    return self->proposal_count;
}

size_t
bb_match_proposal_count (bb_match_t *self)
{
    assert (self);
    return self->proposal_count;
}

const bb_match_proposal_t *
bb_match_proposal (bb_match_t *self, size_t index)
{
    assert (self);
    assert (index < self->proposal_count);
    return &self->proposals[index];
}

size_t
bb_match_unmatched_count (bb_match_t *self)
{
    assert (self);
    return self->unmatched_count;
}

const bb_match_unmatched_t *
bb_match_unmatched (bb_match_t *self, size_t index)
{
    assert (self);
    assert (index < self->unmatched_count);
    return &self->unmatched[index];
}

const char *
bb_match_reason_name (bb_match_reason_t reason)
{
    switch (reason) {
        case BB_MATCH_MATCHED:
            return "matched";
        case BB_MATCH_NOT_IN_PLAN:
            return "not-in-plan";
        case BB_MATCH_NO_OFFER:
            return "no-offer";
        case BB_MATCH_OWN_OFFER:
            return "own-offer";
        case BB_MATCH_CAPACITY:
            return "capacity";
        case BB_MATCH_BALANCE:
            return "balance";
    }
    return "unknown";
}

//  ---- Verification ---------------------------------------------------------
//  The checker is bb_match_check, apart from the solver.

bool
bb_match_verify (bb_match_t *self, char *error, size_t error_size)
{
    assert (self);
    if (!self->ran) {
        if (error && error_size)
            snprintf (error, error_size, "no run");
        return false;
    }
    return bb_match_check (self, self->proposals, self->proposal_count, self->unmatched,
                           self->unmatched_count, error, error_size);
}

//  ---- Selftest -------------------------------------------------------------
//  A short tour of the API. The hand-checked cases and the property test
//  over random instances are tests/unit/bb_match_test.c.

void
bb_match_test (bool verbose)
{
    if (verbose)
        printf (" * bb_match: ");
    //  @selftest
    uint8_t offer[BB_MATCH_ID_SIZE] = {1}, request[BB_MATCH_ID_SIZE] = {2};
    char error[S_ERROR_SIZE];

    //  Input is checked
    bb_match_t *match = bb_match_new ();
    assert (bb_match_add_town (match, "luenen", 4, 20) == BR_REASON_OK);
    assert (bb_match_add_town (match, "luenen", 0, 20) == BR_REASON_INVALID_STATE);
    assert (bb_match_add_town (match, "L\xc3\xbcnen", 0, 20) == BR_REASON_MALFORMED);
    assert (bb_match_add_town (match, "werne", 0, -1) == BR_REASON_MALFORMED);
    assert (bb_match_add_town (match, "werne", BB_MATCH_BALANCE_MAX + 1, 1) == BR_REASON_MALFORMED);
    assert (bb_match_add_town (match, "unna", -2, 20) == BR_REASON_OK);
    assert (bb_match_add_offer (match, offer, "selm", "elternbildung", 4) == BR_REASON_NOT_FOUND);
    assert (bb_match_add_offer (match, offer, "unna", "Eltern bildung", 4) == BR_REASON_MALFORMED);
    assert (bb_match_add_offer (match, offer, "unna", "elternbildung", 0) == BR_REASON_MALFORMED);
    assert (bb_match_add_offer (match, offer, "unna", "elternbildung", 4) == BR_REASON_OK);
    assert (bb_match_add_offer (match, offer, "unna", "elternbildung", 4) ==
            BR_REASON_INVALID_STATE);
    assert (bb_match_add_request (match, request, "selm", "elternbildung") == BR_REASON_NOT_FOUND);
    assert (bb_match_add_request (match, request, "luenen", "") == BR_REASON_MALFORMED);
    assert (bb_match_add_request (match, request, "luenen", "elternbildung") == BR_REASON_OK);
    assert (bb_match_add_request_offer (match, request, "luenen", offer) ==
            BR_REASON_INVALID_STATE);
    assert (bb_match_add_history (match, "unna", "unna") == BR_REASON_MALFORMED);
    assert (bb_match_add_history (match, "unna", "selm") == BR_REASON_NOT_FOUND);
    assert (bb_match_set_limits (match, 5, -5) == BR_REASON_MALFORMED);
    assert (bb_match_set_plan (match, BB_MATCH_QUARTER (2026, 5)) == BR_REASON_MALFORMED);
    assert (bb_match_plan_topic (match, "elternbildung", 2026) == BR_REASON_MALFORMED);
    //  A run with nothing wrong: unna coaches luenen for 4 h
    assert (bb_match_run (match) == 1);
    const bb_match_proposal_t *proposal = bb_match_proposal (match, 0);
    assert (proposal && memcmp (proposal->request_id, request, BB_MATCH_ID_SIZE) == 0);
    assert (streq (proposal->provider, "unna") && streq (proposal->receiver, "luenen"));
    assert (proposal->hours == 4 && streq (proposal->topic, "elternbildung"));
    assert (streq (proposal->why,
                   "least utilised provider of 1 fitting offers; load unna 0 -> 4 of 20 h; "
                   "balance unna -2 -> +2, luenen +4 -> +0"));
    assert (bb_match_verify (match, error, sizeof (error)));
    bb_match_destroy (&match);
    bb_match_destroy (&match);
    assert (match == NULL);
    //  @end
    if (verbose)
        printf ("OK\n");
}
