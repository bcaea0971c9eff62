/*  =========================================================================
    bb_zap - the broker's ZAP handler: only roster transport keys get in

    An actor that answers ZeroMQ authentication requests (ZAP, RFC 27) on
    inproc://zeromq.zap.01 for the broker's CURVE server socket. It admits a
    connection only if the mechanism is CURVE, the domain is BB_ZAP_DOMAIN
    and the client's public key is the transport key of a node in the
    current roster that is not revoked. It answers with that node's id as
    User-Id, which every frame from the connection then carries, so the
    broker knows who is on the other end. It refuses NULL, PLAIN and unknown
    keys with status 400.

    The broker socket must set BB_ZAP_DOMAIN and ZMQ_ZAP_ENFORCE_DOMAIN, and
    this actor must run before the socket binds: libzmq lets clients in when
    no handler answers otherwise.

    Command protocol (on the actor pipe):
        KEYS <roster>    br_roster_t * (not owned): take the allowed keys
                         from it, then signal 0. Send before binding.
        $TERM            end the actor.
    =========================================================================
*/

#ifndef BB_ZAP_H_INCLUDED
#define BB_ZAP_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"
#include "br_roster.h"

#define BB_ZAP_DOMAIN   "bruecke"
#define BB_ZAP_ENDPOINT "inproc://zeromq.zap.01"

//  The actor: zactor_new (bb_zap_actor, NULL).
void bb_zap_actor (zsock_t *pipe, void *argument);

//  Installs the keys of `roster` into a running ZAP actor and waits until
//  they are in force.
void bb_zap_set_roster (zactor_t *zap, br_roster_t *roster);

//  Self test of this class.
void bb_zap_test (bool verbose);

#endif
