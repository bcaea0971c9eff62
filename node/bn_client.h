/*  =========================================================================
    bn_client - a town node's connection to the county broker

    Keeps the town's outbox flowing to the broker and applies what the broker
    delivers. Speaks PROTOCOL.md section 9 as the node:

    - connects a DEALER as CURVE client, with the broker's transport key from
      the roster; libzmq reconnects with exponential backoff (1 s to 60 s)
      and ZMTP heartbeats notice a dead broker;
    - after every successful handshake sends HELLO with its roster version
      and credit, then (re)sends its outbox in sequence order;
    - keeps each message in the outbox until the broker's ACCEPTED, and
      retransmits (go-back-N) what is unaccepted after retransmit-ms;
    - verifies each delivery, stores it and records its id in one durable
      transaction per batch, then sends a RECEIPT (or a REFUSAL) for each,
      and grants new credit;
    - takes newer rosters from the broker after verifying them against the
      pinned county key, and keeps them in its state directory.

    Outbound work is accepted while the broker is unreachable: it waits in
    the durable outbox.

    Configuration (ZPL, section "node"):
        key = "/etc/bruecke/luenen.key"        node identity (secret, 0600)
        county-public = "/etc/bruecke/county.pub"
        roster = "/etc/bruecke/roster.bin"     roster from enrollment
        broker = "tcp://broker.kreis-unna.example:5570"
        state = "/var/lib/bruecke/luenen"      LMDB directory, newer rosters
        control = "ipc:///var/lib/bruecke/luenen/control.ipc"  (default: in state)
        credit = "64"                          deliveries in flight at most
        window = "256"                         unaccepted messages in flight at most
        retransmit-ms = "10000"
        heartbeat-ms = "10000"
        data-key = "/var/lib/bruecke/luenen/data.key"   (default: in state; made if missing)
        api = "127.0.0.1:8080"                 JSON API address (none: no API)
        api-tokens = "/var/lib/bruecke/luenen/api-tokens"   (default: in state)
        letterhead-name = "Stadt Lünen – Der Bürgermeister"   printed consent forms'
        letterhead-address = "Willy-Brandt-Platz 1, 44532 Lünen"  letterhead (GET
        letterhead-contact = "Telefon 02306 104-0"           /v1/status); all
        letterhead-dpo = "Datenschutzbeauftragte, …"          optional

    Casework (bn_casework) lives in the same store. Requests to the JSON API
    (bn_api, an actor of its own) are handed to this actor, which runs
    each in one transaction with the messages it sends; casework delivered
    by the broker is applied in the transaction that records its id.

    Command protocol (on the actor pipe):
        $TERM           stops the node

    Control protocol: REQ to the control endpoint; bn_control answers
    (STATUS, SEND-TEST, INBOX, SENT; see bn_control.h).
    =========================================================================
*/

#ifndef BN_CLIENT_H_INCLUDED
#define BN_CLIENT_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"
#include "br_daemon.h"

#define BN_DEFAULT_CREDIT        64
#define BN_DEFAULT_WINDOW        256
#define BN_DEFAULT_RETRANSMIT_MS 10000
#define BN_DEFAULT_HEARTBEAT_MS  10000
#define BN_RECONNECT_MS          1000  //  first reconnect delay
#define BN_RECONNECT_MAX_MS      60000 //  longest reconnect delay
#define BN_DELIVERY_BATCH        256   //  deliveries applied in one commit at most
#define BN_CONTROL_TIMEOUT_MS    100
#define BN_SYNC_INTERVAL_MS      1000  //  EXCHANGE_SYNC at most this often
#define BN_SKEW_WARN_MS          60000 //  warn when the clock is this far off the broker's
#define BN_SKEW_LOG_MS           (10 * 60 * 1000) //  ... at most this often
#define BN_SILENCE_HEARTBEATS    3 //  the broker silent for this many heartbeats: HELLO again

//  The actor: zactor_new (bn_client_actor, &args), args being a
//  br_daemon_args_t. When zactor_new returns, args.started tells whether
//  the node runs; if not, it has logged why and ended, and the caller
//  destroys the actor. The integration tests (tests/integration) run it as
//  the real bruecke-node process.
void bn_client_actor (zsock_t *pipe, void *args);

//  Self test of this class: a broker and two towns in this process. It is
//  in tests/daemons_test.c, as it needs both daemons.
void bn_client_test (bool verbose);

#endif
