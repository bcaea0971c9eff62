/*  =========================================================================
    bb_server - the county broker

    Accepts CurveZMQ connections from the nodes in the roster (bb_zap),
    checks every envelope on worker threads and takes the results in
    arrival order (bb_intake), stores what is addressed to a town in its
    durable queue (bb_store) with group commit, acknowledges only after the
    commit, delivers with credit-based flow control (bb_sessions, bb_sender),
    routes receipts back, dead-letters what expires and applies consent
    withdrawals (bb_notices), runs the Transferbörse (bb_exchange, bb_sync),
    counts for the dashboard (bb_figures, bb_dashboard), and answers status
    queries on a local control socket. This actor is the loop that ties
    them together, its timers, the group commit, and start and stop.

    Configuration (ZPL, section "broker"):
        key = "/etc/bruecke/broker.key"        broker identity (secret, 0600)
        county-public = "/etc/bruecke/county.pub"
        roster = "/etc/bruecke/roster.bin"     the county-signed roster
        endpoint = "tcp://0.0.0.0:5570"          where nodes connect
        state = "/var/lib/bruecke/broker"      LMDB directory
        control = "ipc:///var/lib/bruecke/broker/control.ipc"   (default: in state)
        workers = "2"                          verifier threads
        mapsize-mb = "8192"
        heartbeat-ms = "10000"                 send heartbeats this often
        offline-after-ms = "30000"             a silent node is offline after this
        expiry-scan-ms = "5000"                look for expired messages this often
        redeliver-ms = "30000"                 deliver again what has no answer this long

        With BB_TRACE set in the environment, every group commit is logged with
    its size and duration (for performance work); otherwise only slow ones.

    Command protocol (on the actor pipe):
        PORT        replies the TCP port the endpoint is bound to (int)
        $TERM       stops the broker

    Control protocol (REQ to the control endpoint, one string per frame):
        STATUS  ->  "OK", "roster <version>", "dead <count>", "accepted <n>",
                    "refused <n>", "board <head>", "ledger <head>", then one
                    "node <id> online|offline <last-seen-ms> <queue-depth>
                    <clock-offset-ms|->" per town and county node
        MATCH <YYYYQ> -> "OK proposed <n> unmatched <m>" and a line per
                    proposal and unmatched request, or "ERROR <reason>"
        RELOAD  ->  "OK <version>" or "ERROR <reason>": reads the roster file
                    again and installs it if it is newer
    =========================================================================
*/

#ifndef BB_SERVER_H_INCLUDED
#define BB_SERVER_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"
#include "br_daemon.h"

#define BB_DEFAULT_ENDPOINT "tcp://0.0.0.0:5570"
#define BB_BATCH_MAX        2048 //  messages in one group commit at most

#define BB_DEFAULT_WORKERS      2
#define BB_SLOW_COMMIT_US       50000 //  group commits slower than this are logged
#define BB_SYNC_INTERVAL_MS     500   //  a node's EXCHANGE_SYNC at most this often
#define BB_DASHBOARD_UPDATE_MS  5000  //  the dashboard's figures are this fresh
#define BB_DEFAULT_HEARTBEAT_MS 10000
#define BB_DEFAULT_OFFLINE_MS   30000
#define BB_DEFAULT_SCAN_MS      5000
#define BB_DEFAULT_REDELIVER_MS 30000
#define BB_CONTROL_TIMEOUT_MS   100

//  The actor: zactor_new (bb_server_actor, &args), args being a
//  br_daemon_args_t. When zactor_new returns, args.started tells whether
//  the broker serves; if not, it has logged why and ended, and the caller
//  destroys the actor. The integration tests (tests/integration) run it as
//  the real bruecke-broker process.
void bb_server_actor (zsock_t *pipe, void *args);

//  Self test of this class: a broker and two towns in this process. It is
//  in tests/daemons_test.c, as it needs both daemons.
void bb_server_test (bool verbose);

#endif
