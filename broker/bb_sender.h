/*  =========================================================================
    bb_sender - what the broker sends on its ROUTER socket

    Envelope bytes to a connection, and the broker's own messages (signed
    with its identity, numbered from its store's own sequence) built for a
    connection or for a queue. Sends never block: a peer that is gone or
    whose queue is full makes the send fail, and the caller decides.
    =========================================================================
*/

#ifndef BB_SENDER_H_INCLUDED
#define BB_SENDER_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"
#include "br_identity.h"
#include "bb_store.h"

typedef struct _bb_sender_t bb_sender_t;

//  A sender on `router` (a ROUTER socket) signing as `identity`, numbering
//  from `store`; all three stay the caller's and must outlive it.
bb_sender_t *bb_sender_new (zsock_t *router, br_identity_t *identity, bb_store_t *store);

//  Frees the sender and nulls the pointer. Safe to call twice.
void bb_sender_destroy (bb_sender_t **self_p);

//  Sends envelope bytes to the connection `routing_id`. False if the peer
//  is gone or cannot take it now.
bool bb_sender_bytes (bb_sender_t *self, zframe_t *routing_id, const uint8_t *data, size_t size);

//  Builds and signs one of the broker's own messages of `type` with `body`
//  to `recipient`, living `lifetime_ms`; its id goes to `id`. Returns the
//  envelope, the caller's.
zchunk_t *bb_sender_build (bb_sender_t *self, Bruecke__MessageType type, const char *recipient,
                           const ProtobufCMessage *body, int64_t lifetime_ms,
                           uint8_t id[BR_MESSAGE_ID_SIZE]);

//  Sends one of the broker's own messages directly, living as long as the
//  tolerated clock skew. False if it could not go.
bool bb_sender_own (bb_sender_t *self, zframe_t *routing_id, Bruecke__MessageType type,
                    const char *recipient, const ProtobufCMessage *body);

//  The identity it signs with (the caller's).
br_identity_t *bb_sender_identity (bb_sender_t *self);

//  Self test of this class.
void bb_sender_test (bool verbose);

#endif
