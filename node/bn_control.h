/*  =========================================================================
    bn_control - the node's control protocol, for the operator's CLI

    The node's actor receives a request on its control socket (REP, local
    IPC, see bn_client.h) and hands it here with what the answers are made
    from. One string per frame:
        STATUS      ->  "OK", "node <id>", "connected yes|no", "roster <v>",
                        "outbox <n>", "inbox <n>", "clock-offset-ms <+n>|-"
        SEND-TEST <to> <service> <text> <purpose> <categories> <basis> <seconds>
                    ->  "OK <message id hex>" or "ERROR <REASON> <detail>";
                        <basis> is "consent:<32 hex digits>" or
                        "statute:<name>"; queues a sealed test note (at most
                        BN_CONTROL_TEXT_MAX bytes, living 1 s ..
                        BN_CONTROL_NOTE_SECONDS_MAX)
        INBOX       ->  "OK", then one frame per delivered message:
                        "<counter> <sender> <type> <sequence> <id hex> <text>"
        SENT        ->  "OK", then one frame per sent message:
                        "<sequence> <id hex> <recipient> <state> <reason>"
    Anything else: "ERROR MALFORMED unknown command".
    =========================================================================
*/

#ifndef BN_CONTROL_H_INCLUDED
#define BN_CONTROL_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"
#include "br_identity.h"
#include "br_roster.h"
#include "bn_store.h"

#define BN_CONTROL_TEXT_MAX         4096             //  longest test note text, bytes
#define BN_CONTROL_NOTE_SECONDS_MAX (30 * 24 * 3600) //  longest test note lifetime

//  What the answers are made from: the node's, borrowed for one answer.
typedef struct {
    bn_store_t *store;       //  outbox, inbox, sent messages
    br_identity_t *identity; //  this node: signs and opens
    br_roster_t *roster;     //  the roster in force
    bool connected;          //  whether the broker is connected
    bool clock_known;        //  whether the broker's clock was read
    int64_t clock_offset_ms; //  this node's clock minus the broker's
} bn_control_node_t;

//  Answers `request` (its frames as above; still the caller's) for `node`.
//  Returns the reply, the caller's.
zmsg_t *bn_control_answer (const bn_control_node_t *node, zmsg_t *request);

//  Self test of this class.
void bn_control_test (bool verbose);

#endif
