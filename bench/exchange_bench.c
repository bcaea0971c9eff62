/*  =========================================================================
    exchange_bench - the Transferbörse's matching as the broker runs it

    Usage: exchange_bench [--towns N] [--offers N] [--requests N] [--seed N]

    match_bench times the matching computation alone. This one times what
    the county's "bruecke broker match" does: a signed roster of N towns, a
    board in LMDB with the offers and requests signed by their towns, and
    bb_exchange_match, which reads the board, the agreements and the ledger,
    matches, and writes one agreement per proposal in the same transaction,
    then the commit. It runs the matching twice: the first run proposes,
    the second (the same quarter) finds the requests taken and the hours
    used. The target: 1,000 towns with 10,000 open offers and
    requests matched in under one second.
    =========================================================================
*/

#include "bruecke.h"
#include "bb_exchange.h"

#define S_TOWNS_DEFAULT    1000  //  towns in the roster
#define S_OFFERS_DEFAULT   5000  //  offers on the board
#define S_REQUESTS_DEFAULT 5000  //  requests on the board
#define S_SEED_DEFAULT     20264 //  the instance's seed
#define S_QUARTER          20264 //  the quarter matched
#define S_HOURS_MIN        2     //  fewest hours per coaching
#define S_HOURS_MAX        8     //  most hours per coaching
#define S_CAPACITY_MAX     24    //  most hours per offer and quarter
#define S_SPECIFIC_PERCENT 10    //  requests for one offer, per cent
#define S_TARGET_MS        1000.0

static double
s_elapsed_ms (int64_t start_usecs)
{
    return (double) (zclock_usecs () - start_usecs) / 1000.0;
}

//  The towns and their signed roster.
typedef struct {
    size_t count;
    br_identity_t **towns;
    br_roster_t *roster;
} s_county_t;

static bool
s_county_new (s_county_t *self, size_t count)
{
    self->count = count;
    self->towns = (br_identity_t **) calloc (count, sizeof (br_identity_t *));
    br_identity_t *county = br_identity_new ("county");
    br_identity_t *broker = br_identity_new ("broker");
    zconfig_t *draft = br_roster_draft_new ("05978", "Kreis Unna");
    bool ok = br_roster_draft_add_node (draft, broker, "Broker", "05978",
                                        BRUECKE__NODE_ROLE__ROLE_BROKER, "") == BR_REASON_OK;
    for (size_t index = 0; index < count && ok; index++) {
        char node_id[BR_NODE_ID_MAX + 1], ags[32];
        snprintf (node_id, sizeof (node_id), "town-%04zu", index);
        snprintf (ags, sizeof (ags), "0597%04zu", index);
        self->towns[index] = br_identity_new (node_id);
        ok = br_roster_draft_add_node (draft, self->towns[index], node_id, ags,
                                       BRUECKE__NODE_ROLE__ROLE_TOWN,
                                       "fruehe-hilfen") == BR_REASON_OK;
    }
    br_reason_t reason = BR_REASON_OK;
    int64_t now = br_now_ms ();
    zchunk_t *signed_roster =
        ok ? br_roster_draft_sign (draft, county, now, 3600000, &reason) : NULL;
    if (signed_roster)
        self->roster = br_roster_verify (zchunk_data (signed_roster), zchunk_size (signed_roster),
                                         br_identity_sign_public (county), NULL, now, &reason);
    if (!self->roster)
        fprintf (stderr, "exchange_bench: cannot make the roster: %s\n", br_reason_name (reason));
    zchunk_destroy (&signed_roster);
    zconfig_destroy (&draft);
    br_identity_destroy (&county);
    br_identity_destroy (&broker);
    return self->roster != NULL;
}

static void
s_county_destroy (s_county_t *self)
{
    for (size_t index = 0; index < self->count; index++)
        br_identity_destroy (&self->towns[index]);
    free (self->towns);
    br_roster_destroy (&self->roster);
}

//  The catalogue's topics.
static size_t
s_topics (const char **topics, size_t max)
{
    size_t count = 0;
    while (count < max && (topics[count] = br_catalogue_topic_code (count)))
        count++;
    return count;
}

//  Puts the signed item `item` of `town` on the board inside `txn`.
static bool
s_put (br_board_t *board, MDB_txn *txn, s_county_t *county, size_t town,
       const ProtobufCMessage *item)
{
    zchunk_t *bytes = br_board_sign (county->towns[town], item);
    uint64_t sequence;
    br_reason_t reason = br_board_put (board, txn, zchunk_data (bytes), zchunk_size (bytes),
                                       br_identity_node_id (county->towns[town]), county->roster,
                                       br_now_ms (), &sequence);
    zchunk_destroy (&bytes);
    if (reason != BR_REASON_OK)
        fprintf (stderr, "exchange_bench: board refused an item: %s\n", br_reason_name (reason));
    return reason == BR_REASON_OK;
}

//  Fills the board: offers first (so that requests for one offer find it).
static bool
s_fill (br_store_t *store, br_board_t *board, s_county_t *county, size_t offers, size_t requests,
        uint64_t *state)
{
    const char *topics[32];
    size_t topic_count = s_topics (topics, 32);
    uint8_t (*offer_ids)[BR_BOARD_ID_SIZE] =
        (uint8_t (*)[BR_BOARD_ID_SIZE]) calloc (offers ? offers : 1, BR_BOARD_ID_SIZE);
    MDB_txn *txn = NULL;
    bool ok = br_store_begin (store, true, &txn) == BR_REASON_OK;
    for (size_t index = 0; index < offers && ok; index++) {
        size_t town = (size_t) br_seeded_range (state, 0, (int) county->count - 1);
        char *chosen[2] = {(char *) topics[br_seeded_range (state, 0, (int) topic_count - 1)],
                           (char *) topics[br_seeded_range (state, 0, (int) topic_count - 1)]};
        br_seeded_bytes (state, BR_BOARD_ID_SIZE, offer_ids[index]);
        Bruecke__Offer offer = BRUECKE__OFFER__INIT;
        offer.offer_id.data = offer_ids[index];
        offer.offer_id.len = BR_BOARD_ID_SIZE;
        offer.town = (char *) br_identity_node_id (county->towns[town]);
        offer.title = "Beispielangebot";
        offer.topics = chosen;
        offer.n_topics = streq (chosen[0], chosen[1]) ? 1 : 2;
        offer.results = "Erfundene Ergebnisse";
        offer.coaching_hours = (uint32_t) br_seeded_range (state, S_HOURS_MIN, S_HOURS_MAX);
        offer.capacity_per_quarter = (uint32_t) br_seeded_range (state, 0, S_CAPACITY_MAX);
        offer.published_at_ms = br_now_ms ();
        ok = s_put (board, txn, county, town, &offer.base);
    }
    for (size_t index = 0; index < requests && ok; index++) {
        size_t town = (size_t) br_seeded_range (state, 0, (int) county->count - 1);
        uint8_t id[BR_BOARD_ID_SIZE];
        br_seeded_bytes (state, sizeof (id), id);
        Bruecke__ExchangeRequest request = BRUECKE__EXCHANGE_REQUEST__INIT;
        request.request_id.data = id;
        request.request_id.len = sizeof (id);
        request.town = (char *) br_identity_node_id (county->towns[town]);
        if (offers && br_seeded_range (state, 0, 99) < S_SPECIFIC_PERCENT) {
            request.topic = "";
            request.offer_id.data = offer_ids[br_seeded_range (state, 0, (int) offers - 1)];
            request.offer_id.len = BR_BOARD_ID_SIZE;
        } else
            request.topic = (char *) topics[br_seeded_range (state, 0, (int) topic_count - 1)];
        request.published_at_ms = br_now_ms ();
        ok = s_put (board, txn, county, town, &request.base);
    }
    if (ok)
        ok = br_store_commit (&txn) == BR_REASON_OK;
    br_store_abort (&txn);
    free (offer_ids);
    return ok;
}

//  One matching run as the broker does it, timed; prints its figures.
static double
s_match (br_store_t *store, bb_exchange_t *exchange, s_county_t *county, const char *what)
{
    bb_exchange_effects_t effects;
    bb_exchange_effects_init (&effects);
    bb_exchange_run_t run;
    int64_t start = zclock_usecs ();
    MDB_txn *txn = NULL;
    br_reason_t reason = br_store_begin (store, true, &txn);
    if (reason == BR_REASON_OK)
        reason = bb_exchange_match (exchange, txn, S_QUARTER, county->roster, br_now_ms (),
                                    &effects, &run, NULL, NULL);
    if (reason == BR_REASON_OK)
        reason = br_store_commit (&txn);
    br_store_abort (&txn);
    double elapsed = s_elapsed_ms (start);
    bb_exchange_effects_clear (&effects);
    if (reason != BR_REASON_OK) {
        fprintf (stderr, "exchange_bench: matching failed: %s\n", br_reason_name (reason));
        return -1;
    }
    printf ("%s: %zu proposed, %zu unmatched, in %.1f ms (read board and state, match, write "
            "agreements, commit)\n",
            what, run.proposed, run.unmatched, elapsed);
    return elapsed;
}

int
main (int argc, char *argv[])
{
    size_t towns = S_TOWNS_DEFAULT, offers = S_OFFERS_DEFAULT, requests = S_REQUESTS_DEFAULT;
    uint64_t seed = S_SEED_DEFAULT;
    for (int index = 1; index + 1 < argc; index += 2) {
        unsigned long long value = strtoull (argv[index + 1], NULL, 10);
        if (streq (argv[index], "--towns") && value >= 2 && value <= BR_ROSTER_MAX_NODES - 1)
            towns = (size_t) value;
        else if (streq (argv[index], "--offers"))
            offers = (size_t) value;
        else if (streq (argv[index], "--requests"))
            requests = (size_t) value;
        else if (streq (argv[index], "--seed") && value > 0)
            seed = value;
        else {
            fprintf (stderr,
                     "usage: exchange_bench [--towns 2..%d] [--offers N] [--requests N] "
                     "[--seed N]\n",
                     BR_ROSTER_MAX_NODES - 1);
            return 2;
        }
    }
    if (sodium_init () < 0)
        return 1;
    zsys_init ();
    printf ("exchange_bench: %zu towns, %zu offers and %zu requests on the board in LMDB\n", towns,
            offers, requests);
    int64_t start = zclock_usecs ();
    s_county_t county = {0};
    if (!s_county_new (&county, towns))
        return 1;
    char *path = br_temp_directory ("exchange-bench");
    br_reason_t reason;
    br_store_t *store = path ? br_store_new (path, 0, &reason) : NULL;
    bb_exchange_t *exchange = store ? bb_exchange_new (store, &reason) : NULL;
    uint64_t state = seed;
    bool ok =
        exchange && s_fill (store, bb_exchange_board (exchange), &county, offers, requests, &state);
    if (ok) {
        printf ("set-up: roster, keys, %zu signed items verified onto the board in %.0f ms\n",
                offers + requests, s_elapsed_ms (start));
        double first = s_match (store, exchange, &county, "first run");
        double second = first >= 0 ? s_match (store, exchange, &county, "second run") : -1;
        ok = first >= 0 && second >= 0;
        if (ok)
            printf ("target: match 1,000 towns with 10,000 open offers and requests in < %.0f ms: "
                    "%s (%.1f ms)\n",
                    S_TARGET_MS, first < S_TARGET_MS ? "MET" : "MISSED", first);
    }
    bb_exchange_destroy (&exchange);
    br_store_destroy (&store);
    if (path) {
        char *command = zsys_sprintf ("rm -rf '%s'", path);
        if (system (command) != 0)
            fprintf (stderr, "exchange_bench: cannot remove %s\n", path);
        zstr_free (&command);
        zstr_free (&path);
    }
    s_county_destroy (&county);
    return ok ? 0 : 1;
}
