/*  =========================================================================
    match_bench - how fast bb_match proposes matches for the Transferbörse

    Usage: match_bench [--towns N] [--offers N] [--requests N] [--seed N]

    Builds a random instance (deterministic for a seed): N towns with
    balances inside the county's default limits and 0 to 60 coaching hours
    left, offers on 20 topics of 2 to 12 hours, requests of which one in ten
    asks for one offer, a reciprocity history of one pair per town and a
    staged plan that opens 16 of the 20 topics. It then matches once,
    verifies the result against the hard constraints (bb_match_verify) and
    prints the build time, the matching time, requests matched and the
    refusals by reason. The target: 1,000 towns with 10,000 open
    offers and requests matched in under one second.
    =========================================================================
*/

#include "bruecke.h"
#include "bb_match.h"

#define S_TOWNS_DEFAULT    1000   //  towns matched
#define S_OFFERS_DEFAULT   10000  //  open offers
#define S_REQUESTS_DEFAULT 10000  //  open requests
#define S_SEED_DEFAULT     20263  //  the instance's seed
#define S_TOPICS           20     //  topics in the catalogue
#define S_TOPICS_PLANNED   16     //  topics the plan opens this quarter
#define S_CAPACITY_MAX     60     //  most coaching hours a town has left
#define S_HOURS_MIN        2      //  fewest hours per transfer
#define S_HOURS_MAX        12     //  most hours per transfer
#define S_SPECIFIC_PERCENT 10     //  requests for one offer, per cent
#define S_TARGET_MS        1000.0 //  the target
#define S_REASON_COUNT     (BB_MATCH_BALANCE + 1)
#define S_TOPIC_SIZE       32  //  room for a generated topic code
#define S_ERROR_SIZE       256 //  room for a verification error

static double
s_elapsed_ms (int64_t start_usecs)
{
    return (double) (zclock_usecs () - start_usecs) / 1000.0;
}

static void
s_topic_code (size_t topic, char *code)
{
    snprintf (code, S_TOPIC_SIZE, "topic-%02zu", topic);
}

static void
s_town_name (size_t town, char *node_id)
{
    snprintf (node_id, BR_NODE_ID_MAX + 1, "town-%04zu", town);
}

//  Builds the random instance. Returns the matching, or NULL if the
//  class refused the input (a bug in this benchmark).
static bb_match_t *
s_build (size_t towns, size_t offers, size_t requests, uint64_t seed)
{
    uint64_t state = seed * 0x9E3779B97F4A7C15ULL + 1;
    bb_match_t *match = bb_match_new ();
    char node_id[BR_NODE_ID_MAX + 1], other[BR_NODE_ID_MAX + 1], topic[S_TOPIC_SIZE];
    bool valid = true;
    for (size_t town = 0; valid && town < towns; town++) {
        s_town_name (town, node_id);
        int balance = br_seeded_range (&state, BB_MATCH_FLOOR_DEFAULT, BB_MATCH_CEILING_DEFAULT);
        int capacity = br_seeded_range (&state, 0, S_CAPACITY_MAX);
        valid = bb_match_add_town (match, node_id, balance, capacity) == BR_REASON_OK;
    }
    uint8_t (*offer_ids)[BB_MATCH_ID_SIZE] =
        (uint8_t (*)[BB_MATCH_ID_SIZE]) zmalloc ((offers + 1) * BB_MATCH_ID_SIZE);
    for (size_t offer = 0; valid && offer < offers; offer++) {
        br_seeded_bytes (&state, BB_MATCH_ID_SIZE, offer_ids[offer]);
        s_town_name ((size_t) br_seeded_range (&state, 0, (int) towns - 1), node_id);
        s_topic_code ((size_t) br_seeded_range (&state, 0, S_TOPICS - 1), topic);
        int hours = br_seeded_range (&state, S_HOURS_MIN, S_HOURS_MAX);
        valid = bb_match_add_offer (match, offer_ids[offer], node_id, topic, hours) == BR_REASON_OK;
    }
    for (size_t request = 0; valid && request < requests; request++) {
        uint8_t id[BB_MATCH_ID_SIZE];
        br_seeded_bytes (&state, BB_MATCH_ID_SIZE, id);
        s_town_name ((size_t) br_seeded_range (&state, 0, (int) towns - 1), node_id);
        if (offers && br_seeded_range (&state, 1, 100) <= S_SPECIFIC_PERCENT) {
            size_t offer = (size_t) br_seeded_range (&state, 0, (int) offers - 1);
            valid =
                bb_match_add_request_offer (match, id, node_id, offer_ids[offer]) == BR_REASON_OK;
        } else {
            s_topic_code ((size_t) br_seeded_range (&state, 0, S_TOPICS - 1), topic);
            valid = bb_match_add_request (match, id, node_id, topic) == BR_REASON_OK;
        }
    }
    for (size_t town = 0; valid && towns > 1 && town < towns; town++) {
        size_t giver = (town + (size_t) br_seeded_range (&state, 1, (int) towns - 1)) % towns;
        s_town_name (town, node_id);
        s_town_name (giver, other);
        valid = bb_match_add_history (match, node_id, other) == BR_REASON_OK;
    }
    int quarter = BB_MATCH_QUARTER (2026, 3);
    valid = valid && bb_match_set_plan (match, quarter) == BR_REASON_OK;
    for (size_t index = 0; valid && index < S_TOPICS_PLANNED; index++) {
        s_topic_code (index, topic);
        int from = BB_MATCH_QUARTER (2026, 1 + (int) (index % 3));
        valid = bb_match_plan_topic (match, topic, from) == BR_REASON_OK;
    }
    free (offer_ids);
    if (!valid)
        bb_match_destroy (&match);
    return match;
}

static size_t
s_parse_count (const char *text)
{
    char *end = NULL;
    unsigned long long value = strtoull (text, &end, 10);
    return (*text && end && *end == 0) ? (size_t) value : 0;
}

int
main (int argc, char *argv[])
{
    size_t towns = S_TOWNS_DEFAULT;
    size_t offers = S_OFFERS_DEFAULT;
    size_t requests = S_REQUESTS_DEFAULT;
    size_t seed = S_SEED_DEFAULT;
    for (int arg = 1; arg < argc; arg++) {
        size_t *target = streq (argv[arg], "--towns")      ? &towns
                         : streq (argv[arg], "--offers")   ? &offers
                         : streq (argv[arg], "--requests") ? &requests
                         : streq (argv[arg], "--seed")     ? &seed
                                                           : NULL;
        if (!target || arg + 1 >= argc || (*target = s_parse_count (argv[++arg])) == 0) {
            fprintf (stderr, "usage: match_bench [--towns N] [--offers N] [--requests N] "
                             "[--seed N]   (each N > 0)\n");
            return 2;
        }
    }
    if (towns < 2 || towns > INT_MAX || offers > INT_MAX || requests > INT_MAX) {
        fprintf (stderr, "match_bench: need 2 or more towns, and counts below %d\n", INT_MAX);
        return 2;
    }

    int64_t start = zclock_usecs ();
    bb_match_t *match = s_build (towns, offers, requests, (uint64_t) seed);
    double build_ms = s_elapsed_ms (start);
    if (!match) {
        fprintf (stderr, "match_bench: the instance was refused\n");
        return 1;
    }
    start = zclock_usecs ();
    size_t proposals = bb_match_run (match);
    double match_ms = s_elapsed_ms (start);

    start = zclock_usecs ();
    char error[S_ERROR_SIZE] = "";
    bool verified = bb_match_verify (match, error, sizeof (error));
    double verify_ms = s_elapsed_ms (start);

    size_t refused[S_REASON_COUNT] = {0};
    size_t reciprocal = 0;
    for (size_t index = 0; index < bb_match_unmatched_count (match); index++)
        refused[bb_match_unmatched (match, index)->reason]++;
    for (size_t index = 0; index < proposals; index++)
        reciprocal += bb_match_proposal (match, index)->reciprocal;

    printf ("build: %zu towns, %zu offers, %zu requests, seed %zu in %.1f ms\n", towns, offers,
            requests, seed, build_ms);
    printf ("refused:");
    for (int reason = BB_MATCH_NOT_IN_PLAN; reason < S_REASON_COUNT; reason++)
        printf (" %s %zu", bb_match_reason_name ((bb_match_reason_t) reason), refused[reason]);
    printf ("; reciprocal proposals %zu\n", reciprocal);
    if (proposals)
        printf ("example: %s\n", bb_match_proposal (match, 0)->why);
    printf ("verify: %s in %.1f ms%s%s\n", verified ? "constraints hold" : "VIOLATED", verify_ms,
            verified ? "" : ": ", error);
    printf ("match: %zu towns, %zu offers, %zu requests: %zu proposals (%.1f %%) in %.1f ms "
            "(target < %.0f ms: %s)\n",
            towns, offers, requests, proposals,
            requests ? 100.0 * (double) proposals / (double) requests : 0.0, match_ms, S_TARGET_MS,
            match_ms < S_TARGET_MS ? "MET" : "MISSED");
    bb_match_destroy (&match);
    return verified ? 0 : 1;
}
