/*  =========================================================================
    bb_match_tables - the tables a Transferbörse matching run looks up in
    =========================================================================
*/

#include "bruecke.h"
#include "bb_match.h"
#include "bb_match_internal.h"
#include "bb_match_tables.h"

//  Groups offer indices by topic (a counting sort), in insertion order.
static void
s_build_topic_table (bb_match_t *match)
{
    free (match->topic_offers);
    match->topic_offers = (uint32_t *) zmalloc ((match->offer_count + 1) * sizeof (uint32_t));
    for (size_t index = 0; index < match->topic_count; index++)
        match->topics[index].count = 0;
    for (size_t index = 0; index < match->offer_count; index++)
        match->topics[match->offers[index].topic].count++;
    uint32_t first = 0;
    for (size_t index = 0; index < match->topic_count; index++) {
        match->topics[index].first = first;
        first += match->topics[index].count;
        match->topics[index].count = 0;
    }
    for (size_t index = 0; index < match->offer_count; index++) {
        bb_match_topic_t *topic = &match->topics[match->offers[index].topic];
        match->topic_offers[topic->first + topic->count++] = (uint32_t) index;
    }
}

static int
s_pair_compare (const void *left, const void *right)
{
    const bb_match_pair_t *a = (const bb_match_pair_t *) left;
    const bb_match_pair_t *b = (const bb_match_pair_t *) right;
    if (a->provider != b->provider)
        return a->provider < b->provider ? -1 : 1;
    if (a->receiver != b->receiver)
        return a->receiver < b->receiver ? -1 : 1;
    return 0;
}

//  Sorts the history by provider, drops repeats, and points each town at
//  the towns that received from it.
static void
s_build_history_table (bb_match_t *match)
{
    free (match->receivers);
    match->receivers =
        (bb_match_pair_t *) zmalloc ((match->history_count + 1) * sizeof (bb_match_pair_t));
    if (match->history_count)
        memcpy (match->receivers, match->history, match->history_count * sizeof (bb_match_pair_t));
    qsort (match->receivers, match->history_count, sizeof (bb_match_pair_t), s_pair_compare);
    size_t unique = 0;
    for (size_t index = 0; index < match->history_count; index++)
        if (unique == 0 || s_pair_compare (&match->receivers[unique - 1], &match->receivers[index]))
            match->receivers[unique++] = match->receivers[index];
    for (size_t index = 0; index < match->town_count; index++) {
        match->towns[index].history_first = 0;
        match->towns[index].history_count = 0;
    }
    for (size_t index = unique; index-- > 0;) {
        bb_match_town_t *town = &match->towns[match->receivers[index].provider];
        town->history_first = (uint32_t) index;
        town->history_count++;
    }
}

void
bb_match_tables_build (bb_match_t *match)
{
    assert (match);
    s_build_topic_table (match);
    s_build_history_table (match);
}

//  ---- Selftest -------------------------------------------------------------

void
bb_match_tables_test (bool verbose)
{
    if (verbose)
        printf (" * bb_match_tables: ");
    //  @selftest
    uint8_t offer[BB_MATCH_ID_SIZE] = {1};
    bb_match_t *match = bb_match_new ();
    assert (bb_match_add_town (match, "luenen", 0, 20) == BR_REASON_OK);
    assert (bb_match_add_town (match, "unna", 0, 20) == BR_REASON_OK);
    assert (bb_match_add_town (match, "werne", 0, 20) == BR_REASON_OK);
    //  Offers 0 and 2 on topic 0, offer 1 on topic 1; topic 2 has none
    const char *topics[] = {"elternbildung", "kinderschutz", "elternbildung"};
    for (uint8_t index = 0; index < 3; index++) {
        offer[0] = index;
        assert (bb_match_add_offer (match, offer, "unna", topics[index], 4) == BR_REASON_OK);
    }
    assert (bb_match_plan_topic (match, "fruehe-hilfen", BB_MATCH_QUARTER (2026, 3)) ==
            BR_REASON_OK);
    //  werne received from luenen twice and from unna; unna from luenen
    assert (bb_match_add_history (match, "werne", "unna") == BR_REASON_OK);
    assert (bb_match_add_history (match, "werne", "luenen") == BR_REASON_OK);
    assert (bb_match_add_history (match, "unna", "luenen") == BR_REASON_OK);
    assert (bb_match_add_history (match, "werne", "luenen") == BR_REASON_OK);
    //  Built twice: the second build replaces the first
    bb_match_tables_build (match);
    bb_match_tables_build (match);

    assert (match->topic_count == 3);
    assert (match->topics[0].first == 0 && match->topics[0].count == 2);
    assert (match->topic_offers[0] == 0 && match->topic_offers[1] == 2);
    assert (match->topics[1].first == 2 && match->topics[1].count == 1);
    assert (match->topic_offers[2] == 1);
    assert (match->topics[2].count == 0);

    const bb_match_town_t *luenen = &match->towns[0];
    assert (luenen->history_first == 0 && luenen->history_count == 2);
    assert (match->receivers[0].provider == 0 && match->receivers[0].receiver == 1);
    assert (match->receivers[1].provider == 0 && match->receivers[1].receiver == 2);
    const bb_match_town_t *unna = &match->towns[1];
    assert (unna->history_first == 2 && unna->history_count == 1);
    assert (match->receivers[2].receiver == 2);
    assert (match->towns[2].history_count == 0);
    bb_match_destroy (&match);
    //  @end
    if (verbose)
        printf ("OK\n");
}
