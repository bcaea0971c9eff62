/*  =========================================================================
    bn_exchange_api - the town's /v1/exchange operations, but agreements

    bn_exchange dispatches each /v1/exchange request (bn_exchange_call,
    after checking its fields) to one operation here or in
    bn_exchange_agreements: the topic catalogue, the board and the town's
    offers, requests and withdrawals, what the town sent and its fate, and
    the ledger. The operations work on bn_exchange's copies, lent for one
    call as a bn_exchange_api_t; this class keeps no state.

    What the town sends goes into the outbox, in a transaction of its own,
    and is noted in exchange-sent (bn_exchange.h): message id (16) -> kind
    (1) | subject id (16) | at (8). bn_exchange_agreements sends its steps
    with bn_exchange_api_send and shows ids and texts with the JSON helpers
    below.

    Each operation sets call->result (and call->status if not 200), or
    refuses with bn_request_refuse (call->detail), and returns OK or the reason.
    =========================================================================
*/

#ifndef BN_EXCHANGE_API_H_INCLUDED
#define BN_EXCHANGE_API_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"
#include "br_identity.h"
#include "br_roster.h"
#include "br_ledger.h"
#include "br_board.h"
#include "bn_request.h"
#include "bn_store.h"

//  How long a town's exchange messages may wait for the broker.
#define BN_EXCHANGE_LIFETIME_MS (7LL * 24 * 3600 * 1000)
//  An item's or a transfer's id, in bytes.
#define BN_EXCHANGE_ID_SIZE BR_BOARD_ID_SIZE
//  Most items of each kind a board listing returns.
#define BN_EXCHANGE_ITEMS_MAX 10000

//  What the town sent to the exchange: the kind byte of exchange-sent.
typedef enum {
    BN_EXCHANGE_SENT_OFFER = 1,
    BN_EXCHANGE_SENT_REQUEST = 2,
    BN_EXCHANGE_SENT_WITHDRAW = 3,
    BN_EXCHANGE_SENT_ACCEPT = 4,
    BN_EXCHANGE_SENT_SCHEDULE = 5,
    BN_EXCHANGE_SENT_COMPLETE = 6,
    BN_EXCHANGE_SENT_CANCEL = 7,
} bn_exchange_sent_kind_t;

//  What the operations work on: bn_exchange's copies and the town's keys,
//  all borrowed from bn_exchange for one call.
typedef struct {
    bn_store_t *store;       //  the node's store: outbox, sequence numbers
    br_identity_t *identity; //  the town's keys and id
    br_roster_t *roster;     //  the roster in force: verifies the ledger
    br_board_t *board;       //  the copy of the board
    br_ledger_t *ledger;     //  the copy of the ledger
    MDB_dbi agreements;      //  exchange-agreements: transfer id -> Agreement bytes
    MDB_dbi sent;            //  exchange-sent: message id -> kind | subject | at
} bn_exchange_api_t;

//  GET /v1/exchange/topics: the topic catalogue and the cancellation
//  codes. Returns OK.
br_reason_t bn_exchange_api_topics (bn_request_t *call);

//  GET /v1/exchange/board: the board's head, offers and requests, only
//  those on the query's "topic" if it has one. Refuses MALFORMED if that
//  topic is not in the catalogue. Returns OK or a store reason.
br_reason_t bn_exchange_api_board (const bn_exchange_api_t *api, bn_request_t *call);

//  POST /v1/exchange/offers: signs the body's offer (a new id, or the
//  body's "id" to replace one) and sends it; answers 202. Refuses
//  MALFORMED what the board would not take. Returns OK or a reason.
br_reason_t bn_exchange_api_offer (const bn_exchange_api_t *api, bn_request_t *call, int64_t now);

//  POST /v1/exchange/requests: signs the body's request (a topic or an
//  offer_id) and sends it; answers 202. Refuses MALFORMED what the board
//  would not take. Returns OK or a reason.
br_reason_t bn_exchange_api_request (const bn_exchange_api_t *api, bn_request_t *call, int64_t now);

//  POST /v1/exchange/items/{id}/withdraw: sends the withdrawal of the
//  town's item `hex`; answers 202. Refuses NOT_FOUND (no such item) or
//  FORBIDDEN (another town's). Returns OK or a reason.
br_reason_t bn_exchange_api_withdraw (const bn_exchange_api_t *api, bn_request_t *call,
                                      const char *hex, int64_t now);

//  GET /v1/exchange/submissions: what the town sent, with the state of
//  each message and the reason of a refusal. Returns OK or a store reason.
br_reason_t bn_exchange_api_submissions (const bn_exchange_api_t *api, bn_request_t *call);

//  GET /v1/exchange/ledger: the copy's records, balances, total and
//  whether it verifies. Returns OK or a store reason.
br_reason_t bn_exchange_api_ledger (const bn_exchange_api_t *api, bn_request_t *call);

//  Sends `body` as a message of `type` to the broker's exchange, in a
//  transaction of its own, notes it as `kind` about `subject` (an id of
//  BN_EXCHANGE_ID_SIZE bytes), and answers 202 with the subject's id and
//  the message id. Returns OK or a store reason (then no answer is set).
br_reason_t bn_exchange_api_send (const bn_exchange_api_t *api, bn_request_t *call,
                                  Bruecke__MessageType type, bn_exchange_sent_kind_t kind,
                                  const uint8_t *subject, const ProtobufCMessage *body,
                                  int64_t now);

//  Reads an id of BN_EXCHANGE_ID_SIZE bytes from `hex` into `id`; with
//  `hex` NULL, makes a fresh random one. Returns false if `hex` is no id.
bool bn_exchange_api_id (const char *hex, uint8_t id[BN_EXCHANGE_ID_SIZE]);

//  Bytes as a new JSON string in hex; JSON null if none or more than 64.
json_t *bn_exchange_api_hex_json (const ProtobufCBinaryData *bytes);

//  A text as a new JSON string; "" if `text` is NULL.
json_t *bn_exchange_api_text_json (const char *text);

//  Self test of this class: topics, an offer sent and listed among the
//  submissions, the empty ledger.
void bn_exchange_api_test (bool verbose);

#endif
