/*  =========================================================================
    bb_match - proposes matches for the county's Transferbörse
    =========================================================================
*/

#include "bruecke.h"
#include "bb_match.h"

#define S_ID_HEX_SIZE       (2 * BB_MATCH_ID_SIZE + 1)
#define S_NONE              UINT32_MAX //  no index
#define S_GROW_MIN          16         //  first allocation of a growing array
#define S_ERROR_SIZE        256        //  room for a verification error in tests
#define S_QUARTER_TEXT_SIZE 24         //  room for "2026Q3" and any int pair

typedef struct {
    char node_id[BR_NODE_ID_MAX + 1]; //  the town's node id
    int balance;                      //  hours given minus received, at the start
    int capacity;                     //  coaching hours it has left this quarter
    int load;                         //  hours proposed for it as provider in the run
    int running;                      //  its balance after the run's proposals so far
    uint32_t history_first;           //  its first entry in the run's history table
    uint32_t history_count;           //  towns that received from it
    uint32_t stamp;                   //  = sequence of the request being matched if
                                      //  it received from that request's town
} s_town_t;

typedef struct {
    char code[BB_MATCH_TOPIC_MAX + 1]; //  the topic's code
    bool planned;                      //  in the staged plan
    int from_quarter;                  //  open from this quarter on, if planned
    uint32_t first;                    //  its first offer in the run's topic table
    uint32_t count;                    //  its open offers
} s_topic_t;

typedef struct {
    uint8_t id[BB_MATCH_ID_SIZE]; //  the offer's id
    uint32_t provider;            //  town index of the offering town
    uint32_t topic;               //  topic index
    int hours;                    //  hours per transfer
} s_offer_t;

typedef struct {
    uint8_t id[BB_MATCH_ID_SIZE];       //  the request's id
    uint32_t receiver;                  //  town index of the requesting town
    uint32_t topic;                     //  topic index, S_NONE for one offer
    uint8_t offer_id[BB_MATCH_ID_SIZE]; //  the offer asked for, if topic is S_NONE
} s_request_t;

//  "receiver once received a transfer from provider"
typedef struct {
    uint32_t provider; //  town index of the town that gave
    uint32_t receiver; //  town index of the town that received
} s_pair_t;

//  A request's state during a run.
typedef struct {
    uint32_t request;            //  request index
    uint32_t offer;              //  the offer asked for, resolved; S_NONE if unknown or a topic
    uint32_t scarcity;           //  offers that could serve it: its sort key
    bb_match_reason_t reason;    //  MATCHED once proposed, else the last refusal
    bool retry;                  //  refused, but a balance limit may yet move
    char why[BB_MATCH_WHY_SIZE]; //  the last refusal's text
} s_state_t;

//  What checking one request's candidate offers found.
typedef struct {
    uint32_t best;     //  best fitting offer, S_NONE if none
    uint32_t fitting;  //  offers that keep every rule
    uint32_t own;      //  offers of the requesting town itself
    uint32_t capacity; //  offers whose provider lacks the hours
    uint32_t floor;    //  offers that would take the receiver below the floor
    uint32_t ceiling;  //  offers that would take the provider above the ceiling
    int least_hours;   //  fewest hours among the offers refused for the floor
} s_scan_t;

struct _bb_match_t {
    s_town_t *towns;                 //  the towns, in insertion order
    size_t town_count;               //  how many
    size_t town_room;                //  allocated entries
    zhashx_t *town_index;            //  node id -> town index + 1
    s_topic_t *topics;               //  topics met in offers, requests and plan
    size_t topic_count;              //  how many
    size_t topic_room;               //  allocated entries
    zhashx_t *topic_index;           //  topic code -> topic index + 1
    s_offer_t *offers;               //  the open offers
    size_t offer_count;              //  how many
    size_t offer_room;               //  allocated entries
    zhashx_t *offer_index;           //  hex offer id -> offer index + 1
    s_request_t *requests;           //  the open requests
    size_t request_count;            //  how many
    size_t request_room;             //  allocated entries
    zhashx_t *request_index;         //  hex request id -> request index + 1
    s_pair_t *history;               //  reciprocity history, as added
    size_t history_count;            //  how many pairs
    size_t history_room;             //  allocated entries
    int floor;                       //  lowest balance allowed, hours
    int ceiling;                     //  highest balance allowed, hours
    bool plan;                       //  a staged plan is in force
    int quarter;                     //  the quarter matched, if plan
    uint32_t *topic_offers;          //  run: offer indices grouped by topic
    s_pair_t *receivers;             //  run: history sorted by provider, deduplicated
    bb_match_proposal_t *proposals;  //  results: proposals in the order made
    size_t proposal_count;           //  how many
    size_t proposal_room;            //  allocated entries
    bb_match_unmatched_t *unmatched; //  results: requests without proposal
    size_t unmatched_count;          //  how many
    bool ran;                        //  results are from a run
};

//  ---- Helpers --------------------------------------------------------------

//  Makes room for one more item in a growing array.
static void *
s_grow (void *array, size_t *room, size_t count, size_t item_size)
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

//  Finds `key` in an index table; returns its index or S_NONE.
static uint32_t
s_index_lookup (zhashx_t *table, const char *key)
{
    uintptr_t value = (uintptr_t) zhashx_lookup (table, key);
    return value ? (uint32_t) (value - 1) : S_NONE;
}

static void
s_index_insert (zhashx_t *table, const char *key, size_t index)
{
    int rc = zhashx_insert (table, key, (void *) (uintptr_t) (index + 1));
    assert (rc == 0);
}

static uint32_t
s_id_lookup (zhashx_t *table, const uint8_t *id)
{
    char hex[S_ID_HEX_SIZE];
    s_id_hex (id, hex);
    return s_index_lookup (table, hex);
}

static int
s_min (int a, int b)
{
    return a < b ? a : b;
}

static int
s_max (int a, int b)
{
    return a > b ? a : b;
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
    if (index != S_NONE)
        return index;
    self->topics = (s_topic_t *) s_grow (self->topics, &self->topic_room, self->topic_count,
                                         sizeof (s_topic_t));
    s_topic_t *topic = &self->topics[self->topic_count];
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

//  True if the topic may get proposals in the quarter matched.
static bool
s_topic_open (bb_match_t *self, uint32_t topic)
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
    if (s_index_lookup (self->town_index, node_id) != S_NONE)
        return BR_REASON_INVALID_STATE;
    self->towns =
        (s_town_t *) s_grow (self->towns, &self->town_room, self->town_count, sizeof (s_town_t));
    s_town_t *town = &self->towns[self->town_count];
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
    if (town == S_NONE)
        return BR_REASON_NOT_FOUND;
    char hex[S_ID_HEX_SIZE];
    s_id_hex (id, hex);
    if (s_index_lookup (self->offer_index, hex) != S_NONE)
        return BR_REASON_INVALID_STATE;
    self->offers = (s_offer_t *) s_grow (self->offers, &self->offer_room, self->offer_count,
                                         sizeof (s_offer_t));
    s_offer_t *offer = &self->offers[self->offer_count];
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
    if (town == S_NONE)
        return BR_REASON_NOT_FOUND;
    char hex[S_ID_HEX_SIZE];
    s_id_hex (id, hex);
    if (s_index_lookup (self->request_index, hex) != S_NONE)
        return BR_REASON_INVALID_STATE;
    self->requests = (s_request_t *) s_grow (self->requests, &self->request_room,
                                             self->request_count, sizeof (s_request_t));
    s_request_t *request = &self->requests[self->request_count];
    memset (request, 0, sizeof (*request));
    memcpy (request->id, id, BB_MATCH_ID_SIZE);
    request->receiver = town;
    if (topic)
        request->topic = s_topic_intern (self, topic);
    else {
        request->topic = S_NONE;
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
    if (receiver_index == S_NONE || provider_index == S_NONE)
        return BR_REASON_NOT_FOUND;
    self->history = (s_pair_t *) s_grow (self->history, &self->history_room, self->history_count,
                                         sizeof (s_pair_t));
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
    s_topic_t *entry = &self->topics[index];
    entry->planned = true;
    entry->from_quarter = from_quarter;
    return BR_REASON_OK;
}

//  ---- The run's tables -----------------------------------------------------

//  Groups offer indices by topic (a counting sort), in insertion order.
static void
s_build_topic_table (bb_match_t *self)
{
    free (self->topic_offers);
    self->topic_offers = (uint32_t *) zmalloc ((self->offer_count + 1) * sizeof (uint32_t));
    for (size_t index = 0; index < self->topic_count; index++)
        self->topics[index].count = 0;
    for (size_t index = 0; index < self->offer_count; index++)
        self->topics[self->offers[index].topic].count++;
    uint32_t first = 0;
    for (size_t index = 0; index < self->topic_count; index++) {
        self->topics[index].first = first;
        first += self->topics[index].count;
        self->topics[index].count = 0;
    }
    for (size_t index = 0; index < self->offer_count; index++) {
        s_topic_t *topic = &self->topics[self->offers[index].topic];
        self->topic_offers[topic->first + topic->count++] = (uint32_t) index;
    }
}

static int
s_pair_compare (const void *left, const void *right)
{
    const s_pair_t *a = (const s_pair_t *) left;
    const s_pair_t *b = (const s_pair_t *) right;
    if (a->provider != b->provider)
        return a->provider < b->provider ? -1 : 1;
    if (a->receiver != b->receiver)
        return a->receiver < b->receiver ? -1 : 1;
    return 0;
}

//  Sorts the history by provider, drops repeats, and points each town at
//  the towns that received from it.
static void
s_build_history_table (bb_match_t *self)
{
    free (self->receivers);
    self->receivers = (s_pair_t *) zmalloc ((self->history_count + 1) * sizeof (s_pair_t));
    if (self->history_count)
        memcpy (self->receivers, self->history, self->history_count * sizeof (s_pair_t));
    qsort (self->receivers, self->history_count, sizeof (s_pair_t), s_pair_compare);
    size_t unique = 0;
    for (size_t index = 0; index < self->history_count; index++)
        if (unique == 0 || s_pair_compare (&self->receivers[unique - 1], &self->receivers[index]))
            self->receivers[unique++] = self->receivers[index];
    for (size_t index = 0; index < self->town_count; index++) {
        self->towns[index].history_first = 0;
        self->towns[index].history_count = 0;
    }
    for (size_t index = unique; index-- > 0;) {
        s_town_t *town = &self->towns[self->receivers[index].provider];
        town->history_first = (uint32_t) index;
        town->history_count++;
    }
}

//  Request order: requests for one offer first, then by how few offers
//  could serve them, then by id.
static int
s_state_compare (const void *left, const void *right, void *argument)
{
    const s_state_t *a = (const s_state_t *) left;
    const s_state_t *b = (const s_state_t *) right;
    const bb_match_t *self = (const bb_match_t *) argument;
    const s_request_t *request_a = &self->requests[a->request];
    const s_request_t *request_b = &self->requests[b->request];
    bool specific_a = request_a->topic == S_NONE;
    bool specific_b = request_b->topic == S_NONE;
    if (specific_a != specific_b)
        return specific_a ? -1 : 1;
    if (a->scarcity != b->scarcity)
        return a->scarcity < b->scarcity ? -1 : 1;
    return memcmp (request_a->id, request_b->id, BB_MATCH_ID_SIZE);
}

//  ---- Matching one request -------------------------------------------------

static bool
s_reciprocal (bb_match_t *self, uint32_t provider, uint32_t sequence)
{
    return self->towns[provider].stamp == sequence;
}

//  True if offer `a` is a better choice than offer `b` (both fitting).
static bool
s_better (bb_match_t *self, uint32_t a, uint32_t b, uint32_t sequence)
{
    const s_offer_t *offer_a = &self->offers[a];
    const s_offer_t *offer_b = &self->offers[b];
    bool reciprocal_a = s_reciprocal (self, offer_a->provider, sequence);
    bool reciprocal_b = s_reciprocal (self, offer_b->provider, sequence);
    if (reciprocal_a != reciprocal_b)
        return reciprocal_a;
    //  Utilisation after the transfer, compared without rounding
    const s_town_t *town_a = &self->towns[offer_a->provider];
    const s_town_t *town_b = &self->towns[offer_b->provider];
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
s_check_offer (bb_match_t *self, uint32_t receiver, uint32_t offer_index, uint32_t sequence,
               s_scan_t *scan)
{
    const s_offer_t *offer = &self->offers[offer_index];
    if (offer->provider == receiver) {
        scan->own++;
        return;
    }
    const s_town_t *provider = &self->towns[offer->provider];
    if (provider->load + offer->hours > provider->capacity) {
        scan->capacity++;
        return;
    }
    if (self->towns[receiver].running - offer->hours < self->floor) {
        if (scan->floor == 0 || offer->hours < scan->least_hours)
            scan->least_hours = offer->hours;
        scan->floor++;
        return;
    }
    if (provider->running + offer->hours > self->ceiling) {
        scan->ceiling++;
        return;
    }
    scan->fitting++;
    if (scan->best == S_NONE || s_better (self, offer_index, scan->best, sequence))
        scan->best = offer_index;
}

static void
s_quarter_text (int quarter, char *text, size_t size)
{
    snprintf (text, size, "%dQ%d", quarter / 10, quarter % 10);
}

//  Records the proposal of `offer_index` for the state's request.
static void
s_propose (bb_match_t *self, s_state_t *state, uint32_t offer_index, uint32_t fitting,
           uint32_t sequence)
{
    const s_request_t *request = &self->requests[state->request];
    const s_offer_t *offer = &self->offers[offer_index];
    s_town_t *provider = &self->towns[offer->provider];
    s_town_t *receiver = &self->towns[request->receiver];
    self->proposals = (bb_match_proposal_t *) s_grow (
        self->proposals, &self->proposal_room, self->proposal_count, sizeof (bb_match_proposal_t));
    bb_match_proposal_t *proposal = &self->proposals[self->proposal_count++];
    memset (proposal, 0, sizeof (*proposal));
    memcpy (proposal->request_id, request->id, BB_MATCH_ID_SIZE);
    memcpy (proposal->offer_id, offer->id, BB_MATCH_ID_SIZE);
    snprintf (proposal->provider, sizeof (proposal->provider), "%s", provider->node_id);
    snprintf (proposal->receiver, sizeof (proposal->receiver), "%s", receiver->node_id);
    snprintf (proposal->topic, sizeof (proposal->topic), "%s", self->topics[offer->topic].code);
    proposal->hours = offer->hours;
    proposal->reciprocal = s_reciprocal (self, offer->provider, sequence);

    char choice[BB_MATCH_WHY_SIZE];
    if (request->topic == S_NONE)
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
s_refuse (bb_match_t *self, s_state_t *state, const s_scan_t *scan)
{
    const s_request_t *request = &self->requests[state->request];
    const s_town_t *receiver = &self->towns[request->receiver];
    const char *topic =
        self->topics[request->topic == S_NONE ? self->offers[state->offer].topic : request->topic]
            .code;
    uint32_t balance = scan->floor + scan->ceiling;
    int length;
    if (balance == 0 && scan->capacity == 0) {
        state->reason = request->topic == S_NONE ? BB_MATCH_OWN_OFFER : BB_MATCH_NO_OFFER;
        if (request->topic == S_NONE)
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
                          receiver->node_id, receiver->running, self->floor, scan->least_hours);
        else
            length = snprintf (state->why, sizeof (state->why),
                               "balance limit: %u offers on topic %s would take their "
                               "providers above %+d h",
                               scan->ceiling, topic, self->ceiling);
    } else {
        state->reason = BB_MATCH_CAPACITY;
        if (request->topic == S_NONE) {
            const s_town_t *provider = &self->towns[self->offers[state->offer].provider];
            length = snprintf (state->why, sizeof (state->why),
                               "capacity exhausted: %s has %d of %d h left, the offer needs %d h",
                               provider->node_id, provider->capacity - provider->load,
                               provider->capacity, self->offers[state->offer].hours);
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

//  Tries to find an offer for one request. Returns true if it proposed.
static bool
s_match_one (bb_match_t *self, s_state_t *state, uint32_t sequence)
{
    const s_request_t *request = &self->requests[state->request];
    state->retry = false;
    if (request->topic == S_NONE && state->offer == S_NONE) {
        state->reason = BB_MATCH_NO_OFFER;
        snprintf (state->why, sizeof (state->why), "the requested offer is not open");
        return false;
    }
    uint32_t topic = request->topic == S_NONE ? self->offers[state->offer].topic : request->topic;
    if (!s_topic_open (self, topic)) {
        const s_topic_t *entry = &self->topics[topic];
        char matched[S_QUARTER_TEXT_SIZE], from[S_QUARTER_TEXT_SIZE];
        s_quarter_text (self->quarter, matched, sizeof (matched));
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
    const s_town_t *receiver = &self->towns[request->receiver];
    for (uint32_t index = 0; index < receiver->history_count; index++)
        self->towns[self->receivers[receiver->history_first + index].receiver].stamp = sequence;

    s_scan_t scan = {.best = S_NONE};
    if (request->topic == S_NONE)
        s_check_offer (self, request->receiver, state->offer, sequence, &scan);
    else {
        const s_topic_t *entry = &self->topics[topic];
        const uint32_t *offer = self->topic_offers + entry->first;
        for (uint32_t index = 0; index < entry->count; index++)
            s_check_offer (self, request->receiver, offer[index], sequence, &scan);
    }
    if (scan.best != S_NONE) {
        s_propose (self, state, scan.best, scan.fitting, sequence);
        return true;
    }
    s_refuse (self, state, &scan);
    return false;
}

//  ---- The run --------------------------------------------------------------

size_t
bb_match_run (bb_match_t *self)
{
    assert (self);
    assert (self->request_count < S_NONE && self->offer_count < S_NONE);
    self->proposal_count = 0;
    self->unmatched_count = 0;
    for (size_t index = 0; index < self->town_count; index++) {
        s_town_t *town = &self->towns[index];
        town->load = 0;
        town->running = town->balance;
        town->stamp = 0;
    }
    s_build_topic_table (self);
    s_build_history_table (self);

    s_state_t *states = (s_state_t *) zmalloc ((self->request_count + 1) * sizeof (s_state_t));
    for (size_t index = 0; index < self->request_count; index++) {
        const s_request_t *request = &self->requests[index];
        s_state_t *state = &states[index];
        state->request = (uint32_t) index;
        state->offer = S_NONE;
        if (request->topic == S_NONE)
            state->offer = s_id_lookup (self->offer_index, request->offer_id);
        else
            state->scarcity = self->topics[request->topic].count;
    }
    qsort_r (states, self->request_count, sizeof (s_state_t), s_state_compare, self);

    uint32_t sequence = 0;
    for (size_t index = 0; index < self->request_count; index++)
        s_match_one (self, &states[index], ++sequence);
    //  Repair passes: balances moved, so refusals for a balance limit may lift
    bool progress = true;
    while (progress) {
        progress = false;
        for (size_t index = 0; index < self->request_count; index++)
            if (states[index].retry && s_match_one (self, &states[index], ++sequence))
                progress = true;
    }

    free (self->unmatched);
    self->unmatched = (bb_match_unmatched_t *) zmalloc (
        (self->request_count - self->proposal_count + 1) * sizeof (bb_match_unmatched_t));
    for (size_t index = 0; index < self->request_count; index++) {
        const s_state_t *state = &states[index];
        if (state->reason == BB_MATCH_MATCHED)
            continue;
        const s_request_t *request = &self->requests[state->request];
        bb_match_unmatched_t *unmatched = &self->unmatched[self->unmatched_count++];
        memcpy (unmatched->request_id, request->id, BB_MATCH_ID_SIZE);
        snprintf (unmatched->receiver, sizeof (unmatched->receiver), "%s",
                  self->towns[request->receiver].node_id);
        uint32_t topic = request->topic != S_NONE ? request->topic
                         : state->offer != S_NONE ? self->offers[state->offer].topic
                                                  : S_NONE;
        if (topic != S_NONE)
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

bool
bb_match_verify (bb_match_t *self, char *error, size_t error_size)
{
    assert (self);
    if (!self->ran)
        return s_violation (error, error_size, "no run");
    int *load = (int *) zmalloc ((self->town_count + 1) * sizeof (int));
    int *running = (int *) zmalloc ((self->town_count + 1) * sizeof (int));
    bool *seen = (bool *) zmalloc ((self->request_count + 1) * sizeof (bool));
    for (size_t index = 0; index < self->town_count; index++)
        running[index] = self->towns[index].balance;
    bool valid = true;
    for (size_t index = 0; valid && index < self->proposal_count; index++) {
        const bb_match_proposal_t *proposal = &self->proposals[index];
        uint32_t request_index = s_id_lookup (self->request_index, proposal->request_id);
        uint32_t offer_index = s_id_lookup (self->offer_index, proposal->offer_id);
        if (request_index == S_NONE || offer_index == S_NONE) {
            valid =
                s_violation (error, error_size, "proposal %zu: unknown request or offer", index);
            break;
        }
        const s_request_t *request = &self->requests[request_index];
        const s_offer_t *offer = &self->offers[offer_index];
        uint32_t provider = offer->provider;
        uint32_t receiver = request->receiver;
        if (seen[request_index])
            valid = s_violation (error, error_size, "proposal %zu: request proposed twice", index);
        else if (request->topic == S_NONE &&
                 memcmp (request->offer_id, offer->id, BB_MATCH_ID_SIZE))
            valid = s_violation (error, error_size, "proposal %zu: not the offer asked for", index);
        else if (request->topic != S_NONE && request->topic != offer->topic)
            valid = s_violation (error, error_size, "proposal %zu: topic differs", index);
        else if (provider == receiver)
            valid =
                s_violation (error, error_size, "proposal %zu: town matched with itself", index);
        else if (!streq (proposal->provider, self->towns[provider].node_id) ||
                 !streq (proposal->receiver, self->towns[receiver].node_id) ||
                 !streq (proposal->topic, self->topics[offer->topic].code) ||
                 proposal->hours != offer->hours)
            valid =
                s_violation (error, error_size, "proposal %zu: fields differ from input", index);
        else if (!s_topic_open (self, offer->topic))
            valid = s_violation (error, error_size, "proposal %zu: topic not in plan", index);
        if (!valid)
            break;
        seen[request_index] = true;
        load[provider] += offer->hours;
        running[provider] += offer->hours;
        running[receiver] -= offer->hours;
        const s_town_t *giver = &self->towns[provider];
        const s_town_t *taker = &self->towns[receiver];
        if (load[provider] > giver->capacity)
            valid = s_violation (error, error_size, "proposal %zu: %s over capacity", index,
                                 giver->node_id);
        else if (running[provider] > s_max (self->ceiling, giver->balance) ||
                 running[receiver] < s_min (self->floor, taker->balance))
            valid = s_violation (error, error_size, "proposal %zu: balance limit broken", index);
    }
    for (size_t index = 0; valid && index < self->unmatched_count; index++) {
        const bb_match_unmatched_t *unmatched = &self->unmatched[index];
        uint32_t request_index = s_id_lookup (self->request_index, unmatched->request_id);
        if (request_index == S_NONE || seen[request_index] || unmatched->reason == BB_MATCH_MATCHED)
            valid = s_violation (error, error_size, "unmatched %zu: unknown, repeated or matched",
                                 index);
        else
            seen[request_index] = true;
    }
    for (size_t index = 0; valid && index < self->request_count; index++)
        if (!seen[index])
            valid = s_violation (error, error_size, "request %zu has no result", index);
    free (seen);
    free (running);
    free (load);
    return valid;
}

//  ---- Selftest helpers -----------------------------------------------------

#define S_TEST_TOWNS_MAX    8    //  towns in a random instance at most
#define S_TEST_OFFERS_MAX   14   //  offers at most
#define S_TEST_REQUESTS_MAX 18   //  requests at most
#define S_TEST_HISTORY_MAX  12   //  history pairs at most
#define S_TEST_INSTANCES    2000 //  random instances in the property test
#define S_TEST_SEED         0x5eedb0e55ULL
#define S_TEST_NO_TOPIC     (-1)

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
    char error[S_ERROR_SIZE] = "";
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
        S_PROPERTY (running[provider] <= s_max (instance->ceiling, instance->balance[provider]));
        S_PROPERTY (running[receiver] >= s_min (instance->floor, instance->balance[receiver]));
        bool reciprocal = false;
        for (size_t pair = 0; pair < instance->history_count; pair++)
            if (instance->history_receiver[pair] == provider &&
                instance->history_provider[pair] == receiver)
                reciprocal = true;
        S_PROPERTY (proposal->reciprocal == reciprocal);
    }
    for (size_t town = 0; town < instance->town_count; town++) {
        S_PROPERTY (running[town] >= s_min (instance->floor, instance->balance[town]));
        S_PROPERTY (running[town] <= s_max (instance->ceiling, instance->balance[town]));
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

//  ---- Selftest -------------------------------------------------------------

void
bb_match_test (bool verbose)
{
    if (verbose)
        printf (" * bb_match: ");
    //  @selftest
    uint8_t id[BB_MATCH_ID_SIZE], other[BB_MATCH_ID_SIZE];
    char error[S_ERROR_SIZE];

    //  Input is checked
    bb_match_t *match = bb_match_new ();
    assert (bb_match_add_town (match, "luenen", 4, 20) == BR_REASON_OK);
    assert (bb_match_add_town (match, "luenen", 0, 20) == BR_REASON_INVALID_STATE);
    assert (bb_match_add_town (match, "L\xc3\xbcnen", 0, 20) == BR_REASON_MALFORMED);
    assert (bb_match_add_town (match, "werne", 0, -1) == BR_REASON_MALFORMED);
    assert (bb_match_add_town (match, "werne", BB_MATCH_BALANCE_MAX + 1, 1) == BR_REASON_MALFORMED);
    assert (bb_match_add_town (match, "unna", -2, 20) == BR_REASON_OK);
    assert (bb_match_add_offer (match, s_test_id (id, 1), "selm", "elternbildung", 4) ==
            BR_REASON_NOT_FOUND);
    assert (bb_match_add_offer (match, s_test_id (id, 1), "unna", "Eltern bildung", 4) ==
            BR_REASON_MALFORMED);
    assert (bb_match_add_offer (match, s_test_id (id, 1), "unna", "elternbildung", 0) ==
            BR_REASON_MALFORMED);
    assert (bb_match_add_offer (match, s_test_id (id, 1), "unna", "elternbildung", 4) ==
            BR_REASON_OK);
    assert (bb_match_add_offer (match, s_test_id (id, 1), "unna", "elternbildung", 4) ==
            BR_REASON_INVALID_STATE);
    assert (bb_match_add_request (match, s_test_id (id, 2), "selm", "elternbildung") ==
            BR_REASON_NOT_FOUND);
    assert (bb_match_add_request (match, s_test_id (id, 2), "luenen", "") == BR_REASON_MALFORMED);
    assert (bb_match_add_request (match, s_test_id (id, 2), "luenen", "elternbildung") ==
            BR_REASON_OK);
    assert (bb_match_add_request_offer (match, s_test_id (id, 2), "luenen", s_test_id (other, 1)) ==
            BR_REASON_INVALID_STATE);
    assert (bb_match_add_history (match, "unna", "unna") == BR_REASON_MALFORMED);
    assert (bb_match_add_history (match, "unna", "selm") == BR_REASON_NOT_FOUND);
    assert (bb_match_set_limits (match, 5, -5) == BR_REASON_MALFORMED);
    assert (bb_match_set_plan (match, BB_MATCH_QUARTER (2026, 5)) == BR_REASON_MALFORMED);
    assert (bb_match_plan_topic (match, "elternbildung", 2026) == BR_REASON_MALFORMED);
    //  A run with nothing wrong: unna coaches luenen for 4 h
    assert (bb_match_run (match) == 1);
    const bb_match_proposal_t *proposal = s_test_proposal (match, 2);
    assert (proposal && streq (proposal->provider, "unna") && streq (proposal->receiver, "luenen"));
    assert (proposal->hours == 4 && streq (proposal->topic, "elternbildung"));
    assert (streq (proposal->why,
                   "least utilised provider of 1 fitting offers; load unna 0 -> 4 of 20 h; "
                   "balance unna -2 -> +2, luenen +4 -> +0"));
    assert (bb_match_verify (match, error, sizeof (error)));
    bb_match_destroy (&match);
    bb_match_destroy (&match);
    assert (match == NULL);

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
    //  @end
    if (verbose)
        printf ("OK\n");
}
