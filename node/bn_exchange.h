/*  =========================================================================
    bn_exchange - a town's part in the county's Transferbörse

    The broker holds the Transferbörse (broker/bb_exchange.h, PROTOCOL.md
    section 16); a town's node keeps copies and acts for the town:

    - a copy of the BOARD (br_board): the broker sends changes after the
      sequence the node holds (BOARD_UPDATE), or the whole board in parts
      when the node is too far behind; the node checks every item's
      signature before it takes it;
    - a copy of the LEDGER (br_ledger): the broker sends the records after
      the node's head (LEDGER_UPDATE); each is checked (hash chain, both
      towns' signatures) before it is appended;
    - the AGREEMENTS the town is party to, as the broker last sent them
      (AGREEMENT, queued like any message, so none is missed);
    - what the town sent to the exchange (publish, withdraw, agreement
      steps), with what became of it.

    A node that missed board changes or ledger records (offline, or a gap)
    asks with EXCHANGE_SYNC: bn_exchange_sync_due tells when.

    The JSON API under /v1/exchange (node/openapi.yaml):
        GET  /v1/exchange/topics                     the topic catalogue
        GET  /v1/exchange/board                      offers and requests
        POST /v1/exchange/offers                     publish (or replace) an offer
        POST /v1/exchange/requests                   publish a request
        POST /v1/exchange/items/{id}/withdraw        withdraw the town's item
        GET  /v1/exchange/submissions                what the town sent, and its fate
        GET  /v1/exchange/agreements                 the town's agreements
        GET  /v1/exchange/agreements/{id}
        POST /v1/exchange/agreements/{id}/accept
        POST /v1/exchange/agreements/{id}/schedule   {"scheduled_for_ms"}
        POST /v1/exchange/agreements/{id}/complete   signs the completion
        POST /v1/exchange/agreements/{id}/cancel     {"reason": code}
        GET  /v1/exchange/ledger                     records, balances, verification
    Nothing of it is personal data; it is not sealed and not audited.
    bn_exchange_call checks a request's fields and dispatches it to its
    operation in bn_exchange_api, or in bn_exchange_agreements for those
    under /v1/exchange/agreements; they work on the copies held here.

    Five databases in the node's LMDB environment: the board's three, the
    ledger's four (br_board.h, br_ledger.h), and

        exchange-agreements   transfer id (16) -> Agreement bytes
        exchange-sent         message id (16)  -> kind (1) | subject id (16) | at (8)
    =========================================================================
*/

#ifndef BN_EXCHANGE_H_INCLUDED
#define BN_EXCHANGE_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"
#include "br_store.h"
#include "br_identity.h"
#include "br_roster.h"
#include "br_envelope.h"
#include "br_ledger.h"
#include "br_board.h"
#include "bn_request.h"
#include "bn_store.h"
#include "bn_exchange_api.h" //  BN_EXCHANGE_LIFETIME_MS and the API's operations

typedef struct _bn_exchange_t bn_exchange_t;

//  Opens (creating) the exchange's databases in `store`'s environment.
//  `store` and `identity` stay the caller's. Call it with no write
//  transaction open. Returns NULL and sets *reason on failure.
bn_exchange_t *bn_exchange_new (bn_store_t *store, br_identity_t *identity, br_reason_t *reason);

//  Closes it and nulls the pointer. Safe to call twice.
void bn_exchange_destroy (bn_exchange_t **self_p);

//  Sets the roster in force (borrowed).
void bn_exchange_set_roster (bn_exchange_t *self, br_roster_t *roster);

//  Applies one of those, verified and from the broker, inside `txn`. What
//  does not fit (a forged item, a broken record) is left out and logged; an
//  AGREEMENT that is not well-formed or not for this town is refused in
//  *verdict (MALFORMED, FORBIDDEN). Returns OK or a store reason.
br_reason_t bn_exchange_receive (bn_exchange_t *self, MDB_txn *txn, br_envelope_t *envelope,
                                 br_reason_t *verdict) BR_WUR;

//  Fills `held` with the sequences of the board and the ledger the node
//  holds. Returns false if the store cannot be read (then they are 0).
bool bn_exchange_held (bn_exchange_t *self, Bruecke__ExchangeSync *held);

//  Tells the exchange that the transaction of its last bn_exchange_receive
//  calls was aborted: it forgets a snapshot begun there and asks again.
void bn_exchange_rolled_back (bn_exchange_t *self);

//  True if the node should send EXCHANGE_SYNC (it missed something); then
//  fills `sync` with what it holds and clears the flag.
bool bn_exchange_sync_due (bn_exchange_t *self, Bruecke__ExchangeSync *sync);

//  Asks for a sync at the next chance (after a (re)connect).
void bn_exchange_want_sync (bn_exchange_t *self);

//  Carries out one API request under /v1/exchange, in transactions of its
//  own. Sets request->reason, and result and status or detail.
void bn_exchange_call (bn_exchange_t *self, bn_request_t *request);

//  Self test of this class: a short tour of its API.
void bn_exchange_test (bool verbose);

//  The town's Transferbörse scenario test (tests/unit/bn_exchange_test.c,
//  linked into bruecke-selftest only, not into the library).
void bn_exchange_scenario_test (bool verbose);

#endif
