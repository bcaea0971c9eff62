/*  =========================================================================
    bb_dashboard - the county dashboard, served by the broker

    The county coordination office sees its network at a glance: the towns
    online and offline with their last contact, queue depths and throughput
    over time, refusals by reason code, referral flows between towns as
    counts only (cells under BB_DASHBOARD_SUPPRESS_BELOW suppressed), and
    the Transferbörse's balances and ledger. Plots are SVG, rendered on the
    server; the page has no JavaScript and renews itself every
    BB_DASHBOARD_REFRESH_S seconds. The same figures are served as
    Prometheus text.

    Nothing on it is personal data: node ids, counts, hours.

    The broker's actor gathers the figures and hands them over with
    bb_dashboard_update every few seconds; this class keeps a history of
    them, renders the page and the metrics then on the broker's thread, and
    sends them to its own actor, which serves the latest it was sent
    (br_http in the actor's thread; nothing is shared between the two):

        GET /          the page (text/html, German)
        GET /metrics   Prometheus text format 0.0.4

    Bound to localhost unless configured otherwise (broker/dashboard).
    =========================================================================
*/

#ifndef BB_DASHBOARD_H_INCLUDED
#define BB_DASHBOARD_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"
#include "br_util.h"
#include "br_roster.h"

//  Flow cells with fewer referrals than this are shown as "< 5" and left
//  out of the metrics.
#define BB_DASHBOARD_SUPPRESS_BELOW 5
//  Samples kept for the plots.
#define BB_DASHBOARD_HISTORY 720
//  How often the page renews itself, in seconds.
#define BB_DASHBOARD_REFRESH_S 10
//  Most connections open at once, and seconds an idle one stays open.
#define BB_DASHBOARD_CONNECTION_MAX  32
#define BB_DASHBOARD_TIMEOUT_SECONDS 30
//  Reason codes counted (0 .. BB_DASHBOARD_REASONS - 1).
#define BB_DASHBOARD_REASONS 64

//  One town as the dashboard shows it.
typedef struct {
    char node_id[BR_NODE_ID_MAX + 1]; //  the node
    char name[BR_NAME_MAX + 1];       //  its display name
    bool online;                      //  connected now
    int64_t last_seen_ms;             //  last message from it, 0 = never
    size_t queued;                    //  messages waiting for it
    int64_t balance;                  //  Transferbörse balance, hours given minus received
    bool clock_known;                 //  whether its clock was read
    int64_t clock_offset_ms;          //  its wall clock minus the broker's
} bb_dashboard_town_t;

//  A town's clock within this of the broker's counts as right.
#define BB_DASHBOARD_CLOCK_RIGHT_MS 2000

//  Referrals from one town to another.
typedef struct {
    char from[BR_NODE_ID_MAX + 1];
    char to[BR_NODE_ID_MAX + 1];
    uint64_t count;
} bb_dashboard_flow_t;

//  What the broker hands over at one moment.
typedef struct {
    int64_t now_ms;                   //  when
    const bb_dashboard_town_t *towns; //  the towns
    size_t town_count;
    uint64_t accepted;                       //  messages stored since start
    uint64_t refusals[BB_DASHBOARD_REASONS]; //  refusals by reason code
    const bb_dashboard_flow_t *flows;        //  referral flows
    size_t flow_count;
    uint64_t board_head;     //  Transferbörse board sequence
    uint64_t ledger_records; //  ledger records
    int64_t ledger_total;    //  sum of the balances (0)
    bool ledger_verified;    //  the ledger's chain verifies
} bb_dashboard_figures_t;

typedef struct _bb_dashboard_t bb_dashboard_t;

//  Starts serving on `address` ("127.0.0.1:PORT", port 0 for a free one).
//  Returns NULL and sets *reason (CONFIG_INVALID, IO_ERROR).
bb_dashboard_t *bb_dashboard_new (const char *address, br_reason_t *reason);

//  Stops serving and nulls the pointer. Safe to call twice.
void bb_dashboard_destroy (bb_dashboard_t **self_p);

//  The port it serves on.
uint16_t bb_dashboard_port (bb_dashboard_t *self);

//  Takes the figures of one moment: adds them to the history and renders
//  the page and the metrics anew.
void bb_dashboard_update (bb_dashboard_t *self, const bb_dashboard_figures_t *figures);

//  Copies of what is served now (the caller frees them); for tests.
char *bb_dashboard_page (bb_dashboard_t *self);
char *bb_dashboard_metrics (bb_dashboard_t *self);

//  Self test of this class.
void bb_dashboard_test (bool verbose);

#endif
