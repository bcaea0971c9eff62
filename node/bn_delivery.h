/*  =========================================================================
    bn_delivery - what the broker delivers to this node, checked and answered

    The node's part of PROTOCOL.md sections 4 and 9 that needs no
    connection: a delivered envelope is checked as its recipient (addressed
    here, not expired, its attestation valid, a sealed body that opens with
    this node's key); an answer or notice about a message this node sent
    (RECEIPT, REFUSAL, DEAD_LETTER) is recorded against it; and a delivered
    message is answered with a RECEIPT or a REFUSAL, signed and numbered in
    the open transaction, living BN_DELIVERY_ANSWER_LIFETIME_MS.
    =========================================================================
*/

#ifndef BN_DELIVERY_H_INCLUDED
#define BN_DELIVERY_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"
#include "br_envelope.h"
#include "br_identity.h"
#include "bn_store.h"

#define BN_DELIVERY_ANSWER_LIFETIME_MS (7LL * 24 * 3600 * 1000) //  receipts live a week

//  Checks a delivered, verified `envelope` as its recipient `identity` at
//  `now_ms`. Returns OK, RECIPIENT_MISMATCH, EXPIRED, the attestation's
//  reason, or the seal's reason if the body does not open.
br_reason_t bn_delivery_check (br_identity_t *identity, br_envelope_t *envelope,
                               int64_t now_ms) BR_WUR;

//  Records what a RECEIPT, REFUSAL or DEAD_LETTER `envelope` says about a
//  message this node sent, in `txn` of `store`, at `now_ms`; other types
//  and unreadable bodies change nothing. Returns OK or a store reason.
br_reason_t bn_delivery_record_outcome (bn_store_t *store, MDB_txn *txn, br_envelope_t *envelope,
                                        int64_t now_ms) BR_WUR;

//  Builds the answer to the message `delivered`: a RECEIPT if `reason` is
//  OK, else a REFUSAL with it, signed by `identity`, numbered from `store`
//  in its open transaction. Its id goes to `id`. Returns the envelope, the
//  caller's.
zchunk_t *bn_delivery_answer (br_identity_t *identity, bn_store_t *store,
                              const Bruecke__Header *delivered, br_reason_t reason, int64_t now_ms,
                              uint8_t id[BR_MESSAGE_ID_SIZE]);

//  Self test of this class.
void bn_delivery_test (bool verbose);

#endif
