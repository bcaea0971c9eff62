/*  =========================================================================
    bn_exchange - a town's part in the county's Transferbörse

    See bn_exchange.h; the wire is PROTOCOL.md section 16.
    =========================================================================
*/

#include "bruecke.h"
#include "bn_exchange.h"
#include "bn_exchange_agreements.h"
#include "br_testing.h"

#define S_ID_SIZE BN_EXCHANGE_ID_SIZE

struct _bn_exchange_t {
    bn_store_t *store;       //  the node's store (not ours)
    br_identity_t *identity; //  the town's keys (not ours)
    br_roster_t *roster;     //  the roster in force (not ours)
    br_board_t *board;       //  the copy of the board
    br_ledger_t *ledger;     //  the copy of the ledger
    MDB_dbi agreements;      //  transfer id -> Agreement bytes
    MDB_dbi sent;            //  message id -> kind | subject | at
    bool snapshot_open;      //  a snapshot's first part came, its last not yet
    bool sync_due;           //  the node missed something
    bool want_snapshot;      //  a board change could not be applied: ask for all
    bool ledger_stopped;     //  a ledger record could not be applied: take no more
};

bn_exchange_t *
bn_exchange_new (bn_store_t *store, br_identity_t *identity, br_reason_t *reason)
{
    assert (store && identity && reason);
    bn_exchange_t *self = (bn_exchange_t *) zmalloc (sizeof (bn_exchange_t));
    assert (self);
    self->store = store;
    self->identity = identity;
    self->sync_due = true;
    br_store_t *env = bn_store_env (store);
    self->board = br_board_new (env, reason);
    if (self->board)
        self->ledger = br_ledger_new (env, reason);
    if (self->ledger) {
        const br_store_db_t dbs[] = {{"exchange-agreements", &self->agreements},
                                     {"exchange-sent", &self->sent}};
        *reason = br_store_open_dbs (env, dbs, sizeof (dbs) / sizeof (dbs[0]));
    }
    if (!self->ledger || *reason != BR_REASON_OK)
        bn_exchange_destroy (&self);
    return self;
}

void
bn_exchange_destroy (bn_exchange_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        bn_exchange_t *self = *self_p;
        br_board_destroy (&self->board);
        br_ledger_destroy (&self->ledger);
        free (self);
        *self_p = NULL;
    }
}

void
bn_exchange_set_roster (bn_exchange_t *self, br_roster_t *roster)
{
    assert (self && roster);
    self->roster = roster;
    //  A record refused under the old roster (an unknown town) may fit now
    if (self->ledger_stopped) {
        self->ledger_stopped = false;
        self->sync_due = true;
    }
}

void
bn_exchange_rolled_back (bn_exchange_t *self)
{
    assert (self);
    //  What the transaction applied is gone: a snapshot begun in it, and
    //  changes; ask again
    self->snapshot_open = false;
    self->sync_due = true;
}

void
bn_exchange_want_sync (bn_exchange_t *self)
{
    assert (self);
    self->sync_due = true;
}

bool
bn_exchange_held (bn_exchange_t *self, Bruecke__ExchangeSync *held)
{
    assert (self && held);
    uint8_t hash[BR_LEDGER_HASH_SIZE];
    bruecke__exchange_sync__init (held);
    return br_board_head (self->board, &held->board_sequence) == BR_REASON_OK &&
           br_ledger_head (self->ledger, &held->ledger_sequence, hash) == BR_REASON_OK;
}

bool
bn_exchange_sync_due (bn_exchange_t *self, Bruecke__ExchangeSync *sync)
{
    assert (self && sync);
    if (!self->sync_due || !bn_exchange_held (self, sync))
        return false;
    sync->board_snapshot = self->want_snapshot;
    if (self->ledger_stopped)
        sync->ledger_sequence = UINT64_MAX; //  asking again would not help
    self->sync_due = self->want_snapshot = false;
    return true;
}

//  ---- Receiving --------------------------------------------------------------

//  Applies a part of the board. Returns OK or a store reason.
static br_reason_t
s_take_board (bn_exchange_t *self, MDB_txn *txn, const Bruecke__BoardUpdate *update)
{
    br_reason_t reason = BR_REASON_OK;
    if (update->snapshot) {
        if (update->first) {
            reason = br_board_reset (self->board, txn);
            self->snapshot_open = reason == BR_REASON_OK;
        }
        if (!self->snapshot_open)
            return reason; //  a part whose first part we did not take
        for (size_t index = 0; index < update->n_items && reason == BR_REASON_OK; index++) {
            reason = br_board_snapshot_put (self->board, txn, update->items[index], self->roster);
            if (!br_reason_retry (reason) && reason != BR_REASON_OK) {
                zsys_warning ("node: exchange: a board item from the broker left out: %s",
                              br_reason_name (reason));
                reason = BR_REASON_OK;
            }
        }
        if (reason == BR_REASON_OK && update->last) {
            reason = br_board_set_head (self->board, txn, update->head);
            self->snapshot_open = false;
        }
        return reason;
    }
    for (size_t index = 0; index < update->n_changes && reason == BR_REASON_OK; index++) {
        reason = br_board_apply (self->board, txn, update->changes[index], self->roster);
        if (reason == BR_REASON_REPLAYED)
            reason = BR_REASON_OK; //  had it already
        else if (reason != BR_REASON_OK && !br_reason_retry (reason)) {
            //  A gap: ask for what follows our head. A change we cannot take
            //  would stop us there for good: ask for the whole board instead
            if (reason != BR_REASON_INVALID_STATE) {
                zsys_warning ("node: exchange: a board change from the broker refused: %s",
                              br_reason_name (reason));
                self->want_snapshot = true;
            }
            self->sync_due = true;
            return BR_REASON_OK;
        }
    }
    return reason;
}

//  Appends ledger records. Returns OK or a store reason.
static br_reason_t
s_take_ledger (bn_exchange_t *self, MDB_txn *txn, const Bruecke__LedgerUpdate *update)
{
    for (size_t index = 0; index < update->n_records && !self->ledger_stopped; index++) {
        const ProtobufCBinaryData *bytes = &update->records[index];
        br_reason_t reason =
            br_ledger_append_record (self->ledger, txn, bytes->data, bytes->len, self->roster);
        if (reason == BR_REASON_OK || reason == BR_REASON_REPLAYED)
            continue; //  REPLAYED: the very record we hold
        if (br_reason_retry (reason))
            return reason;
        if (reason == BR_REASON_INVALID_STATE)
            self->sync_due = true; //  a gap: ask for what follows our head
        else {
            //  Our copy and the broker's differ: asking again would not help.
            //  The copy stays as it is, and says so when verified
            zsys_error ("node: exchange: a ledger record from the broker refused: %s; the "
                        "ledger copy stops here",
                        br_reason_name (reason));
            self->ledger_stopped = true;
        }
        return BR_REASON_OK;
    }
    return BR_REASON_OK;
}

//  Keeps an agreement the broker sent, unless we hold a later version.
static br_reason_t
s_take_agreement (bn_exchange_t *self, MDB_txn *txn, const ProtobufCBinaryData *body,
                  const Bruecke__Agreement *agreement, br_reason_t *verdict)
{
    const char *me = br_identity_node_id (self->identity);
    if (agreement->transfer_id.len != S_ID_SIZE || agreement->request_id.len != S_ID_SIZE ||
        agreement->offer_id.len != S_ID_SIZE ||
        !br_token_valid (agreement->provider, BR_NODE_ID_MAX) ||
        !br_token_valid (agreement->receiver, BR_NODE_ID_MAX) ||
        !br_token_valid (agreement->topic, BR_LEDGER_TOPIC_MAX)) {
        *verdict = BR_REASON_MALFORMED;
        return BR_REASON_OK;
    }
    if (!streq (agreement->provider, me) && !streq (agreement->receiver, me)) {
        *verdict = BR_REASON_FORBIDDEN;
        return BR_REASON_OK;
    }
    const void *value;
    size_t size;
    br_reason_t reason =
        br_store_get (txn, self->agreements, agreement->transfer_id.data, S_ID_SIZE, &value, &size);
    if (reason == BR_REASON_OK) {
        ProtobufCMessage *held = br_proto_decode (&bruecke__agreement__descriptor, value, size,
                                                  BR_ENVELOPE_MAX_SIZE, &reason);
        bool newer = !held || ((Bruecke__Agreement *) held)->version < agreement->version;
        br_proto_free (&held);
        if (!newer)
            return BR_REASON_OK;
    } else if (reason != BR_REASON_NOT_FOUND)
        return reason;
    zsys_info ("node: exchange: agreement now %s", br_ledger_state_name (agreement->state));
    return br_store_put (txn, self->agreements, agreement->transfer_id.data, S_ID_SIZE, body->data,
                         body->len, 0);
}

br_reason_t
bn_exchange_receive (bn_exchange_t *self, MDB_txn *txn, br_envelope_t *envelope,
                     br_reason_t *verdict)
{
    assert (self && txn && envelope && verdict && self->roster);
    *verdict = BR_REASON_OK;
    int type = br_envelope_header (envelope)->type;
    const ProtobufCMessageDescriptor *descriptor =
        type == BRUECKE__MESSAGE_TYPE__TYPE_BOARD_UPDATE    ? &bruecke__board_update__descriptor
        : type == BRUECKE__MESSAGE_TYPE__TYPE_LEDGER_UPDATE ? &bruecke__ledger_update__descriptor
                                                            : &bruecke__agreement__descriptor;
    ProtobufCMessage *message = NULL;
    if (br_envelope_open_body (envelope, NULL, descriptor, &message) != BR_REASON_OK) {
        *verdict = BR_REASON_MALFORMED;
        return BR_REASON_OK;
    }
    br_reason_t reason;
    if (type == BRUECKE__MESSAGE_TYPE__TYPE_BOARD_UPDATE)
        reason = s_take_board (self, txn, (Bruecke__BoardUpdate *) message);
    else if (type == BRUECKE__MESSAGE_TYPE__TYPE_LEDGER_UPDATE)
        reason = s_take_ledger (self, txn, (Bruecke__LedgerUpdate *) message);
    else
        reason = s_take_agreement (self, txn, &br_envelope_message (envelope)->body,
                                   (Bruecke__Agreement *) message, verdict);
    br_proto_free (&message);
    return reason;
}

//  ---- Routes -----------------------------------------------------------------------

//  What each operation takes: body and query members, with their types
//  and limits in characters (bn_request_fields). Nothing else is accepted.
static const bn_field_t s_offer_fields[] = {
    {"id", BN_FIELD_LINE, 2 * S_ID_SIZE, 0, false, false},
    {"title", BN_FIELD_LINE, BR_BOARD_TITLE_MAX, 0, true, false},
    {"topics", BN_FIELD_LINES, BR_BOARD_TOPICS_MAX, BR_CODE_MAX, true, false},
    {"target_group", BN_FIELD_NOTE, BR_BOARD_TEXT_MAX, 0, false, false},
    {"results", BN_FIELD_NOTE, BR_BOARD_TEXT_MAX, 0, false, false},
    {"success_factors", BN_FIELD_NOTE, BR_BOARD_TEXT_MAX, 0, false, false},
    {"pitfalls", BN_FIELD_NOTE, BR_BOARD_TEXT_MAX, 0, false, false},
    {"presentation", BN_FIELD_BOOLEAN, 0, 0, false, false},
    {"documents", BN_FIELD_BOOLEAN, 0, 0, false, false},
    {"coaching_hours", BN_FIELD_INTEGER, 0, 0, true, false},
    {"capacity_per_quarter", BN_FIELD_INTEGER, 0, 0, false, false},
    {NULL, BN_FIELD_LINE, 0, 0, false, false}};
static const bn_field_t s_request_fields[] = {
    {"topic", BN_FIELD_LINE, BR_CODE_MAX, 0, false, false},
    {"offer_id", BN_FIELD_LINE, 2 * S_ID_SIZE, 0, false, false},
    {"note", BN_FIELD_NOTE, BR_BOARD_NOTE_MAX, 0, false, false},
    {NULL, BN_FIELD_LINE, 0, 0, false, false}};
static const bn_field_t s_schedule_fields[] = {
    {"scheduled_for_ms", BN_FIELD_INTEGER, 0, 0, true, false},
    {NULL, BN_FIELD_LINE, 0, 0, false, false}};
static const bn_field_t s_cancel_fields[] = {{"reason", BN_FIELD_LINE, BR_CODE_MAX, 0, true, false},
                                             {NULL, BN_FIELD_LINE, 0, 0, false, false}};
static const bn_field_t s_board_query[] = {{"topic", BN_FIELD_LINE, BR_CODE_MAX, 0, false, false},
                                           {NULL, BN_FIELD_LINE, 0, 0, false, false}};
static const bn_field_t s_agreements_query[] = {{"state", BN_FIELD_LINE, 16, 0, false, false},
                                                {NULL, BN_FIELD_LINE, 0, 0, false, false}};
static const bn_field_t s_no_fields[] = {{NULL, BN_FIELD_LINE, 0, 0, false, false}};

//  Checks the call's body and query against what its operation takes.
static br_reason_t
s_fields_check (bn_request_t *call)
{
    const bn_field_t *body = s_no_fields, *query = s_no_fields;
    switch (call->route->operation) {
        case BN_OP_EXCHANGE_OFFER:
            body = s_offer_fields;
            break;
        case BN_OP_EXCHANGE_REQUEST:
            body = s_request_fields;
            break;
        case BN_OP_EXCHANGE_SCHEDULE:
            body = s_schedule_fields;
            break;
        case BN_OP_EXCHANGE_CANCEL:
            body = s_cancel_fields;
            break;
        case BN_OP_EXCHANGE_BOARD:
            query = s_board_query;
            break;
        case BN_OP_EXCHANGE_AGREEMENTS:
            query = s_agreements_query;
            break;
        default:
            break;
    }
    br_reason_t reason = bn_request_fields (call, call->query, "query", query);
    if (reason == BR_REASON_OK)
        reason = bn_request_fields (call, call->body, "", body);
    return reason;
}

void
bn_exchange_call (bn_exchange_t *self, bn_request_t *call)
{
    assert (self && call && self->roster);
    call->status = 200;
    call->result = NULL;
    call->detail[0] = 0;
    int64_t now = br_now_ms ();
    assert (call->route && call->route->owner == BN_OWNER_EXCHANGE && call->id);
    const char *id = call->id;
    //  What the operations work on, lent for this call
    const bn_exchange_api_t api = {.store = self->store,
                                   .identity = self->identity,
                                   .roster = self->roster,
                                   .board = self->board,
                                   .ledger = self->ledger,
                                   .agreements = self->agreements,
                                   .sent = self->sent};
    br_reason_t reason = BR_REASON_NOT_FOUND;
    if (streq (call->route->method, "POST") && !json_is_object (call->body))
        reason = bn_request_refuse (call, BR_REASON_MALFORMED, "the body must be a JSON object");
    else if (s_fields_check (call) != BR_REASON_OK)
        reason = BR_REASON_MALFORMED;
    else
        switch (call->route->operation) {
            case BN_OP_EXCHANGE_TOPICS:
                reason = bn_exchange_api_topics (call);
                break;
            case BN_OP_EXCHANGE_BOARD:
                reason = bn_exchange_api_board (&api, call);
                break;
            case BN_OP_EXCHANGE_OFFER:
                reason = bn_exchange_api_offer (&api, call, now);
                break;
            case BN_OP_EXCHANGE_REQUEST:
                reason = bn_exchange_api_request (&api, call, now);
                break;
            case BN_OP_EXCHANGE_WITHDRAW:
                reason = bn_exchange_api_withdraw (&api, call, id, now);
                break;
            case BN_OP_EXCHANGE_SUBMISSIONS:
                reason = bn_exchange_api_submissions (&api, call);
                break;
            case BN_OP_EXCHANGE_AGREEMENTS:
                reason = bn_exchange_agreements_list (&api, call);
                break;
            case BN_OP_EXCHANGE_AGREEMENT:
                reason = bn_exchange_agreements_show (&api, call, id);
                break;
            case BN_OP_EXCHANGE_ACCEPT:
                reason = bn_exchange_agreements_step (&api, call, id, "accept", now);
                break;
            case BN_OP_EXCHANGE_SCHEDULE:
                reason = bn_exchange_agreements_step (&api, call, id, "schedule", now);
                break;
            case BN_OP_EXCHANGE_COMPLETE:
                reason = bn_exchange_agreements_step (&api, call, id, "complete", now);
                break;
            case BN_OP_EXCHANGE_CANCEL:
                reason = bn_exchange_agreements_step (&api, call, id, "cancel", now);
                break;
            case BN_OP_EXCHANGE_LEDGER:
                reason = bn_exchange_api_ledger (&api, call);
                break;
            default:
                break;
        }
    if (reason == BR_REASON_NOT_FOUND && !call->detail[0])
        bn_request_refuse (call, reason, "no such resource");
    if (reason != BR_REASON_OK) {
        json_decref (call->result);
        call->result = NULL;
        if (!call->detail[0])
            bn_request_refuse (call, reason, "%s",
                               br_reason_retry (reason)
                                   ? "the node cannot store now, try again later"
                                   : br_reason_name (reason));
    }
    call->reason = reason;
}

//  --------------------------------------------------------------------------
//  Selftest: a short tour of the API. Unna's copy fed by a broker, and its
//  part of the API, are tests/unit/bn_exchange_test.c.

void
bn_exchange_test (bool verbose)
{
    if (verbose)
        printf (" * bn_exchange: ");
    //  @selftest
    br_testing_county_t *county = br_testing_county_new ();
    br_reason_t reason;
    char *directory = br_temp_directory ("bn_exchange_tour");
    bn_store_t *store =
        directory ? bn_store_new (directory, BR_STORE_DEFAULT_MAPSIZE, &reason) : NULL;
    assert (store);
    bn_exchange_t *exchange = bn_exchange_new (store, county->unna, &reason);
    assert (exchange);
    bn_exchange_set_roster (exchange, county->roster);

    //  It asks for a sync once at start, and again when told to
    Bruecke__ExchangeSync sync;
    assert (bn_exchange_sync_due (exchange, &sync));
    assert (sync.board_sequence == 0 && sync.ledger_sequence == 0);
    assert (!bn_exchange_sync_due (exchange, &sync));
    bn_exchange_want_sync (exchange);
    assert (bn_exchange_sync_due (exchange, &sync));
    assert (bn_exchange_held (exchange, &sync) && sync.board_sequence == 0);

    bn_exchange_destroy (&exchange);
    bn_exchange_destroy (&exchange);
    assert (!exchange);
    bn_store_destroy (&store);
    assert (br_temp_directory_remove (&directory));
    br_testing_county_destroy (&county);
    //  @end
    if (verbose)
        printf ("OK\n");
}
