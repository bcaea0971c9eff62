/*  =========================================================================
    bb_figures - what the broker counts, for its status and the dashboard
    =========================================================================
*/

#include "bruecke.h"
#include "bb_figures.h"
#include "bb_testing.h"

struct _bb_figures_t {
    uint64_t stored;                         //  messages stored since start
    uint64_t refused;                        //  messages refused since start
    uint64_t refusals[BB_DASHBOARD_REASONS]; //  refusals by reason, from the log on
    zhashx_t *flows;                         //  "from to" -> uint64_t *: referrals stored
    uint64_t verified_head;                  //  the ledger head last verified
    bool ledger_verified;                    //  whether it verified
};

static void
s_free_count (void **item)
{
    free (*item);
    *item = NULL;
}

bb_figures_t *
bb_figures_new (void)
{
    bb_figures_t *self = (bb_figures_t *) zmalloc (sizeof (bb_figures_t));
    assert (self);
    self->flows = zhashx_new ();
    zhashx_set_destructor (self->flows, s_free_count);
    return self;
}

void
bb_figures_destroy (bb_figures_t **self_p)
{
    assert (self_p);
    bb_figures_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy (&self->flows);
    free (self);
    *self_p = NULL;
}

void
bb_figures_stored (bb_figures_t *self, size_t count)
{
    assert (self);
    self->stored += count;
}

//  A refusal by reason, for the dashboard.
static void
s_refusal (bb_figures_t *self, br_reason_t reason)
{
    if (reason > 0 && reason < BB_DASHBOARD_REASONS)
        self->refusals[reason]++;
}

void
bb_figures_refused (bb_figures_t *self, br_reason_t reason)
{
    assert (self);
    self->refused++;
    s_refusal (self, reason);
}

void
bb_figures_referral (bb_figures_t *self, const char *from, const char *to)
{
    assert (self && from && to);
    char key[2 * BR_NODE_ID_MAX + 2];
    snprintf (key, sizeof (key), "%s %s", from, to);
    uint64_t *count = (uint64_t *) zhashx_lookup (self->flows, key);
    if (!count) {
        count = (uint64_t *) zmalloc (sizeof (uint64_t));
        zhashx_insert (self->flows, key, count);
    }
    (*count)++;
}

void
bb_figures_count_logged (bb_figures_t *self, const char *line)
{
    assert (self && line);
    char sender[BR_NODE_ID_MAX + 1], recipient[BR_NODE_ID_MAX + 1], type[32], outcome[32];
    if (sscanf (line, "%*s %*s %32s -> %32[^/]/%*s %31s %31s", sender, recipient, type, outcome) !=
        4)
        return;
    if (streq (outcome, "stored")) {
        if (streq (type, "REFERRAL"))
            bb_figures_referral (self, sender, recipient);
        return;
    }
    br_reason_t reason;
    if (br_reason_from_name (outcome, &reason) == 0)
        s_refusal (self, reason);
}

//  bb_store_read_log's callback.
static void
s_count_logged (void *argument, const char *line)
{
    bb_figures_count_logged ((bb_figures_t *) argument, line);
}

void
bb_figures_read_log (bb_figures_t *self, bb_store_t *store)
{
    assert (self && store);
    bb_store_read_log (store, s_count_logged, self);
}

uint64_t
bb_figures_stored_count (bb_figures_t *self)
{
    assert (self);
    return self->stored;
}

uint64_t
bb_figures_refused_count (bb_figures_t *self)
{
    assert (self);
    return self->refused;
}

void
bb_figures_show (bb_figures_t *self, bb_dashboard_t *dashboard, br_roster_t *roster,
                 bb_sessions_t *sessions, bb_store_t *store, br_ledger_t *ledger,
                 uint64_t board_head, uint64_t ledger_head, int64_t now_ms)
{
    assert (self && dashboard && roster && sessions && store && ledger);
    const Bruecke__Roster *content = br_roster_content (roster);
    bb_dashboard_town_t *towns =
        (bb_dashboard_town_t *) calloc (content->n_nodes + 1, sizeof (bb_dashboard_town_t));
    assert (towns);
    size_t count = 0;
    for (size_t index = 0; index < content->n_nodes; index++) {
        const Bruecke__RosterNode *node = content->nodes[index];
        if (node->role == BRUECKE__NODE_ROLE__ROLE_BROKER || node->revoked)
            continue;
        bb_dashboard_town_t *town = &towns[count++];
        snprintf (town->node_id, sizeof (town->node_id), "%s", node->node_id);
        snprintf (town->name, sizeof (town->name), "%s", node->name ? node->name : "");
        bb_session_t *session = bb_sessions_lookup (sessions, node->node_id);
        town->online = session && session->routing_id;
        town->last_seen_ms = session ? session->last_seen_ms : 0;
        town->clock_known = session && session->clock_known;
        town->clock_offset_ms = session ? session->clock_offset_ms : 0;
        town->queued = bb_store_depth (store, node->node_id);
        if (br_ledger_balance (ledger, node->node_id, &town->balance) != BR_REASON_OK)
            town->balance = 0;
    }
    bb_dashboard_flow_t *flows = (bb_dashboard_flow_t *) calloc (zhashx_size (self->flows) + 1,
                                                                 sizeof (bb_dashboard_flow_t));
    assert (flows);
    size_t flow_count = 0;
    for (uint64_t *value = (uint64_t *) zhashx_first (self->flows); value;
         value = (uint64_t *) zhashx_next (self->flows)) {
        bb_dashboard_flow_t *flow = &flows[flow_count++];
        sscanf ((const char *) zhashx_cursor (self->flows), "%32s %32s", flow->from, flow->to);
        flow->count = *value;
    }
    bb_dashboard_figures_t figures = {.now_ms = now_ms,
                                      .towns = towns,
                                      .town_count = count,
                                      .accepted = self->stored,
                                      .flows = flows,
                                      .flow_count = flow_count,
                                      .board_head = board_head,
                                      .ledger_records = ledger_head};
    memcpy (figures.refusals, self->refusals, sizeof (figures.refusals));
    //  The chain is verified again only when it has grown
    if (self->verified_head != ledger_head || self->verified_head == 0) {
        uint64_t checked = 0, first_bad = 0;
        const char *problem = NULL;
        self->ledger_verified =
            br_ledger_verify (ledger, roster, &checked, &first_bad, &problem) == BR_REASON_OK;
        self->verified_head = ledger_head;
    }
    figures.ledger_verified = self->ledger_verified;
    if (br_ledger_total (ledger, &figures.ledger_total) != BR_REASON_OK)
        figures.ledger_verified = false;
    bb_dashboard_update (dashboard, &figures);
    free (towns);
    free (flows);
}

void
bb_figures_test (bool verbose)
{
    if (verbose)
        printf (" * bb_figures: ");
    //  @selftest
    bb_figures_t *figures = bb_figures_new ();
    bb_figures_stored (figures, 3);
    bb_figures_refused (figures, BR_REASON_BAD_SIGNATURE);
    bb_figures_refused (figures, (br_reason_t) 10000); //  counted, not by reason
    assert (bb_figures_stored_count (figures) == 3 && bb_figures_refused_count (figures) == 2);
    //  From the message log: stored referrals and refusals by reason
    bb_figures_count_logged (
        figures, "2026-12-07T10:00:00Z 0a luenen -> unna/fruehe-hilfen REFERRAL stored");
    bb_figures_count_logged (
        figures, "2026-12-07T10:00:01Z 0b luenen -> unna/fruehe-hilfen TEST_NOTE stored");
    bb_figures_count_logged (
        figures, "2026-12-07T10:00:02Z 0c kamen -> unna/fruehe-hilfen REFERRAL REPLAYED");
    bb_figures_count_logged (figures, "nonsense");
    bb_figures_referral (figures, "luenen", "unna");

    //  Shown on the dashboard: towns, the flow luenen -> unna (2, under
    //  the suppression limit), the refusals
    bb_testing_t *testing = bb_testing_new ();
    br_testing_county_t *county = testing->county;
    bb_store_t *store = testing->store;
    br_reason_t reason;
    br_ledger_t *ledger = br_ledger_new (bb_store_env (store), &reason);
    assert (ledger);
    bb_sender_t *sender = bb_sender_new (testing->router, county->broker, store);
    bb_sessions_t *sessions = bb_sessions_new (sender, store);
    bb_sessions_get (sessions, "luenen")->last_seen_ms = 1790000000000LL;
    bb_dashboard_t *dashboard = bb_dashboard_new ("127.0.0.1:0", &reason);
    assert (dashboard);
    bb_figures_show (figures, dashboard, county->roster, sessions, store, ledger, 0, 0,
                     1790000005000LL);
    char *metrics = bb_dashboard_metrics (dashboard);
    assert (strstr (metrics, "bruecke_town_online{node=\"luenen\"} 0\n"));
    assert (strstr (metrics, "bruecke_town_online{node=\"kamen\"} 0\n"));
    assert (!strstr (metrics, "node=\"selm\"")); //  revoked
    assert (strstr (metrics, "bruecke_refusals_total{reason=\"BAD_SIGNATURE\"} 1\n"));
    assert (strstr (metrics, "bruecke_refusals_total{reason=\"REPLAYED\"} 1\n"));
    assert (!strstr (metrics, "bruecke_referrals_total{from=\"luenen\""));
    zstr_free (&metrics);
    for (int more = 0; more < 3; more++)
        bb_figures_referral (figures, "luenen", "unna");
    bb_figures_show (figures, dashboard, county->roster, sessions, store, ledger, 0, 0,
                     1790000010000LL);
    metrics = bb_dashboard_metrics (dashboard);
    assert (strstr (metrics, "bruecke_referrals_total{from=\"luenen\",to=\"unna\"} 5\n"));
    zstr_free (&metrics);

    bb_dashboard_destroy (&dashboard);
    bb_sessions_destroy (&sessions);
    bb_sender_destroy (&sender);
    br_ledger_destroy (&ledger);
    bb_testing_destroy (&testing);
    bb_figures_destroy (&figures);
    bb_figures_destroy (&figures);
    //  @end
    if (verbose)
        printf ("OK\n");
}
