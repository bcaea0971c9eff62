/*  =========================================================================
    bn_answers - the answers a node sent lately, kept to send again

    A node answers every delivered message at once, with a RECEIPT or a
    REFUSAL, and keeps no outbox for answers (PROTOCOL.md 9, step 5): a
    lost answer comes again when the broker delivers the message again. But
    the broker no longer delivers a message it gave up meanwhile (expired,
    consent withdrawn), and then the answer is the only news that the
    message arrived. So the node keeps its last BN_ANSWERS_KEPT answers in
    memory; one the broker refuses for a retry reason (its disk was full)
    is sent again, the same bytes, with the next round, and so is every
    answer made shortly before the connection to the broker broke (the
    broker may have died before it stored them). The broker takes the same
    bytes again as a retransmission: no answer counts twice.
    =========================================================================
*/

#ifndef BN_ANSWERS_H_INCLUDED
#define BN_ANSWERS_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"
#include "br_envelope.h"

#define BN_ANSWERS_KEPT 4096 //  answers kept, the newest

typedef struct _bn_answers_t bn_answers_t;

//  Called for each answer due to be sent again: its envelope bytes.
typedef void (bn_answers_fn) (void *argument, const uint8_t *data, size_t size);

//  Creates an empty set keeping the newest `capacity` answers.
bn_answers_t *bn_answers_new (size_t capacity);

//  Destroys the set and nulls the pointer. Safe to call twice.
void bn_answers_destroy (bn_answers_t **self_p);

//  Keeps the answer with message id `id` and envelope `data`, made to be
//  sent at `clock` (br_clock_ms), forgetting the oldest kept one if the
//  set is full.
void bn_answers_keep (bn_answers_t *self, const uint8_t id[BR_MESSAGE_ID_SIZE], const uint8_t *data,
                      size_t size, int64_t clock);

//  Every answer kept from `clock` (br_clock_ms) on is due again. Returns
//  how many.
size_t bn_answers_since (bn_answers_t *self, int64_t clock);

//  The broker refused message `id` for a retry reason: if it is a kept
//  answer, it is due again. Returns true if it was one.
bool bn_answers_refused (bn_answers_t *self, const uint8_t id[BR_MESSAGE_ID_SIZE]);

//  Calls `send` for every answer due again, oldest first, and marks each
//  not due. Returns how many.
size_t bn_answers_resend (bn_answers_t *self, bn_answers_fn *send, void *argument);

//  Self test of this class.
void bn_answers_test (bool verbose);

#endif
