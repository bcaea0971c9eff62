/*  =========================================================================
    bn_exchange - a town's part in the county's Transferbörse

    See bn_exchange.h; the wire is PROTOCOL.md section 16.
    =========================================================================
*/

#include "bruecke.h"
#include "bn_exchange.h"
#include "br_testing.h"

#define S_ID_SIZE   BR_BOARD_ID_SIZE
#define S_ID_HEX    (2 * S_ID_SIZE + 1)
#define S_SENT_SIZE (1 + S_ID_SIZE + 8)
#define S_ITEMS_MAX 10000 //  most items a board listing returns

//  What the town sent to the exchange.
typedef enum {
    S_SENT_OFFER = 1,
    S_SENT_REQUEST = 2,
    S_SENT_WITHDRAW = 3,
    S_SENT_ACCEPT = 4,
    S_SENT_SCHEDULE = 5,
    S_SENT_COMPLETE = 6,
    S_SENT_CANCEL = 7,
} s_sent_kind_t;

static const char *s_sent_names[] = {"",       "offer",    "request",  "withdraw",
                                     "accept", "schedule", "complete", "cancel"};

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

//  ---- Sending ----------------------------------------------------------------

//  Puts a message to the broker's exchange into the outbox and notes what
//  it was about. Returns OK and the message id in `id_hex`, or a reason.
static br_reason_t
s_send (bn_exchange_t *self, MDB_txn *txn, Bruecke__MessageType type, s_sent_kind_t kind,
        const uint8_t *subject, const ProtobufCMessage *body, int64_t now,
        char id_hex[2 * BR_MESSAGE_ID_SIZE + 1])
{
    Bruecke__Header header;
    uint8_t id[BR_MESSAGE_ID_SIZE];
    br_envelope_header_init (&header, id, type, br_identity_node_id (self->identity), "", "",
                             bn_store_next_sequence (self->store), now, BN_EXCHANGE_LIFETIME_MS);
    zchunk_t *chunk = br_envelope_build (self->identity, &header, NULL, body, NULL);
    br_reason_t reason =
        bn_store_outbox_add (self->store, txn, &header, zchunk_data (chunk), zchunk_size (chunk));
    zchunk_destroy (&chunk);
    uint8_t note[S_SENT_SIZE];
    note[0] = (uint8_t) kind;
    memcpy (note + 1, subject, S_ID_SIZE);
    br_put_u64 (note + 1 + S_ID_SIZE, (uint64_t) now);
    if (reason == BR_REASON_OK)
        reason = br_store_put (txn, self->sent, id, sizeof (id), note, sizeof (note), 0);
    br_hex_encode (id, sizeof (id), id_hex);
    return reason;
}

//  ---- JSON -------------------------------------------------------------------

static json_t *
s_hex_json (const ProtobufCBinaryData *bytes)
{
    char hex[2 * 64 + 1]; //  ids and hashes
    if (bytes->len == 0 || bytes->len > sizeof (hex) / 2)
        return json_null ();
    br_hex_encode (bytes->data, bytes->len, hex);
    return json_string (hex);
}

static json_t *
s_text_json (const char *text)
{
    return json_string (text ? text : "");
}

static json_t *
s_item_json (const br_board_item_t *item, const char *me)
{
    json_t *object = json_object ();
    json_object_set_new (object, "id", s_hex_json (&item->id));
    json_object_set_new (object, "town", s_text_json (item->town));
    json_object_set_new (object, "mine", json_boolean (streq (item->town, me)));
    if (item->offer) {
        const Bruecke__Offer *offer = item->offer;
        json_object_set_new (object, "kind", json_string ("offer"));
        json_object_set_new (object, "title", s_text_json (offer->title));
        json_t *topics = json_array ();
        for (size_t index = 0; index < offer->n_topics; index++)
            json_array_append_new (topics, s_text_json (offer->topics[index]));
        json_object_set_new (object, "topics", topics);
        json_object_set_new (object, "target_group", s_text_json (offer->target_group));
        json_object_set_new (object, "results", s_text_json (offer->results));
        json_object_set_new (object, "success_factors", s_text_json (offer->success_factors));
        json_object_set_new (object, "pitfalls", s_text_json (offer->pitfalls));
        json_object_set_new (object, "presentation", json_boolean (offer->presentation));
        json_object_set_new (object, "documents", json_boolean (offer->documents));
        json_object_set_new (object, "coaching_hours", json_integer (offer->coaching_hours));
        json_object_set_new (object, "capacity_per_quarter",
                             json_integer (offer->capacity_per_quarter));
        json_object_set_new (object, "published_at_ms", json_integer (offer->published_at_ms));
    } else {
        const Bruecke__ExchangeRequest *request = item->request;
        json_object_set_new (object, "kind", json_string ("request"));
        if (request->offer_id.len)
            json_object_set_new (object, "offer_id", s_hex_json (&request->offer_id));
        else
            json_object_set_new (object, "topic", s_text_json (request->topic));
        json_object_set_new (object, "note", s_text_json (request->note));
        json_object_set_new (object, "published_at_ms", json_integer (request->published_at_ms));
    }
    return object;
}

static json_t *
s_agreement_json (const Bruecke__Agreement *agreement, const char *me)
{
    json_t *object = json_object ();
    json_object_set_new (object, "id", s_hex_json (&agreement->transfer_id));
    json_object_set_new (object, "request_id", s_hex_json (&agreement->request_id));
    json_object_set_new (object, "offer_id", s_hex_json (&agreement->offer_id));
    json_object_set_new (object, "provider", s_text_json (agreement->provider));
    json_object_set_new (object, "receiver", s_text_json (agreement->receiver));
    json_object_set_new (object, "role",
                         json_string (streq (agreement->provider, me) ? "provider" : "receiver"));
    json_object_set_new (object, "topic", s_text_json (agreement->topic));
    json_object_set_new (object, "hours", json_integer (agreement->hours));
    json_object_set_new (object, "quarter", json_integer (agreement->quarter));
    json_object_set_new (object, "why", s_text_json (agreement->why));
    json_object_set_new (object, "reciprocal", json_boolean (agreement->reciprocal));
    json_object_set_new (object, "state", json_string (br_ledger_state_name (agreement->state)));
    json_object_set_new (object, "provider_accepted", json_boolean (agreement->provider_accepted));
    json_object_set_new (object, "receiver_accepted", json_boolean (agreement->receiver_accepted));
    json_object_set_new (object, "scheduled_for_ms", json_integer (agreement->scheduled_for_ms));
    json_object_set_new (object, "completed_ms", json_integer (agreement->completed_ms));
    json_object_set_new (object, "provider_signed",
                         json_boolean (agreement->provider_signature.len > 0));
    json_object_set_new (object, "receiver_signed",
                         json_boolean (agreement->receiver_signature.len > 0));
    //  What this town may do now (br_states): not sign twice, not move a signed date
    bool signed_here = streq (agreement->provider, me) ? agreement->provider_signature.len > 0
                                                       : agreement->receiver_signature.len > 0;
    const char *steps[BR_STATES_ACTIONS_MAX];
    size_t count = br_agreement_actions (agreement->state, steps);
    json_t *actions = json_array ();
    for (size_t index = 0; index < count; index++)
        if (!(streq (steps[index], "complete") && signed_here) &&
            !(streq (steps[index], "schedule") && agreement->completed_ms))
            json_array_append_new (actions, json_string (steps[index]));
    json_object_set_new (object, "actions", actions);
    if (agreement->cancel_reason && *agreement->cancel_reason) {
        json_object_set_new (object, "cancel_reason", s_text_json (agreement->cancel_reason));
        json_object_set_new (object, "cancelled_by", s_text_json (agreement->cancelled_by));
    }
    json_object_set_new (object, "ledger_sequence",
                         json_integer ((json_int_t) agreement->ledger_sequence));
    json_object_set_new (object, "proposed_at_ms", json_integer (agreement->proposed_at_ms));
    json_object_set_new (object, "version", json_integer ((json_int_t) agreement->version));
    return object;
}

//  ---- API: the board -----------------------------------------------------------

typedef struct {
    const char *me;    //  this town
    const char *topic; //  only items on this topic, or NULL
    json_t *offers;    //  the offers
    json_t *requests;  //  the requests
} s_listing_t;

static void
s_list_item (void *argument, const uint8_t *data, size_t size)
{
    s_listing_t *listing = (s_listing_t *) argument;
    br_board_item_t item;
    if (br_board_item_decode (data, size, &item) != BR_REASON_OK)
        return;
    bool wanted = !listing->topic;
    if (item.offer)
        for (size_t index = 0; index < item.offer->n_topics && !wanted; index++)
            wanted = streq (item.offer->topics[index], listing->topic);
    else
        wanted = wanted || (item.request->topic && streq (item.request->topic, listing->topic));
    json_t *list = item.offer ? listing->offers : listing->requests;
    if (wanted && json_array_size (list) < S_ITEMS_MAX)
        json_array_append_new (list, s_item_json (&item, listing->me));
    br_board_item_free (&item);
}

static br_reason_t
s_board (bn_exchange_t *self, bn_request_t *call)
{
    const char *topic = json_string_value (json_object_get (call->query, "topic"));
    if (topic && !br_catalogue_topic (topic))
        return bn_api_refuse (call, BR_REASON_MALFORMED,
                              "topic is not in the catalogue (GET /v1/exchange/topics)");
    s_listing_t listing = {.me = br_identity_node_id (self->identity),
                           .topic = topic,
                           .offers = json_array (),
                           .requests = json_array ()};
    uint64_t head;
    br_reason_t reason = br_board_snapshot (self->board, s_list_item, &listing, &head);
    call->result = json_pack ("{sI so so}", "head", (json_int_t) head, "offers", listing.offers,
                              "requests", listing.requests);
    return reason;
}

static br_reason_t
s_topics (bn_request_t *call)
{
    json_t *topics = json_array ();
    const char *code;
    for (size_t index = 0; (code = br_catalogue_topic_code (index)); index++)
        json_array_append_new (
            topics, json_pack ("{ss ss}", "code", code, "label", br_catalogue_topic (code)));
    json_t *reasons = json_array ();
    for (size_t index = 0; (code = br_catalogue_cancel_reason_code (index)); index++)
        json_array_append_new (reasons, json_pack ("{ss ss}", "code", code, "label",
                                                   br_catalogue_cancel_reason (code)));
    call->result = json_pack ("{so so}", "topics", topics, "cancel_reasons", reasons);
    return BR_REASON_OK;
}

//  Reads an id in hex; a fresh random one if `hex` is NULL.
static bool
s_id (const char *hex, uint8_t id[S_ID_SIZE])
{
    if (!hex) {
        randombytes_buf (id, S_ID_SIZE);
        return true;
    }
    return strlen (hex) == 2 * S_ID_SIZE && br_hex_decode (hex, id, S_ID_SIZE) == 0;
}

//  An optional text member (checked by s_fields_check): "" if missing.
static const char *
s_optional (json_t *body, const char *name)
{
    const char *text = json_string_value (json_object_get (body, name));
    return text ? text : "";
}

//  Sends `body` to the broker's exchange in a transaction of its own and
//  answers 202 with the subject's id and the message id.
static br_reason_t
s_send_action (bn_exchange_t *self, bn_request_t *call, Bruecke__MessageType type,
               s_sent_kind_t kind, const uint8_t *subject, const ProtobufCMessage *body,
               int64_t now)
{
    MDB_txn *txn = NULL;
    char message_id[2 * BR_MESSAGE_ID_SIZE + 1];
    br_reason_t reason = bn_store_begin (self->store, &txn);
    if (reason == BR_REASON_OK)
        reason = s_send (self, txn, type, kind, subject, body, now, message_id);
    if (reason == BR_REASON_OK)
        reason = bn_store_commit (self->store, &txn);
    bn_store_abort (self->store, &txn);
    if (reason != BR_REASON_OK)
        return reason;
    char hex[S_ID_HEX];
    br_hex_encode (subject, S_ID_SIZE, hex);
    call->status = 202;
    call->result =
        json_pack ("{ss ss ss}", "id", hex, "message_id", message_id, "state", "submitted");
    return BR_REASON_OK;
}

//  Signs `item`, checks it as the broker will, and sends it.
static br_reason_t
s_publish (bn_exchange_t *self, bn_request_t *call, const ProtobufCMessage *item, const uint8_t *id,
           s_sent_kind_t kind, int64_t now)
{
    zchunk_t *signed_item = br_board_sign (self->identity, item);
    br_board_item_t decoded;
    br_reason_t reason =
        br_board_item_decode (zchunk_data (signed_item), zchunk_size (signed_item), &decoded);
    if (reason == BR_REASON_OK)
        reason = br_board_item_check (&decoded);
    zchunk_destroy (&signed_item);
    if (reason == BR_REASON_OK)
        //  The SignedBoardItem is the body; its item keeps the bytes signed
        reason = s_send_action (self, call, BRUECKE__MESSAGE_TYPE__TYPE_BOARD_PUBLISH, kind, id,
                                decoded.signed_message, now);
    else
        bn_api_refuse (call, reason, "the %s is outside the limits of the board",
                       s_sent_names[kind]);
    br_board_item_free (&decoded);
    return reason;
}

static br_reason_t
s_offer (bn_exchange_t *self, bn_request_t *call, int64_t now)
{
    json_t *body = call->body;
    uint8_t id[S_ID_SIZE];
    if (!s_id (json_string_value (json_object_get (body, "id")), id))
        return bn_api_refuse (call, BR_REASON_MALFORMED, "id must be 32 hex digits");
    const char *title = json_string_value (json_object_get (body, "title"));
    json_t *topics = json_object_get (body, "topics");
    size_t count = json_array_size (topics);
    if (count < 1 || count > BR_BOARD_TOPICS_MAX)
        return bn_api_refuse (call, BR_REASON_MALFORMED, "an offer needs 1 to %d topics",
                              BR_BOARD_TOPICS_MAX);
    char *codes[BR_BOARD_TOPICS_MAX];
    for (size_t index = 0; index < count; index++) {
        codes[index] = (char *) json_string_value (json_array_get (topics, index));
        if (!codes[index] || !br_catalogue_topic (codes[index]))
            return bn_api_refuse (call, BR_REASON_MALFORMED,
                                  "topic %zu is not in the catalogue (GET /v1/exchange/topics)",
                                  index + 1);
    }
    const char *texts[4] = {s_optional (body, "target_group"), s_optional (body, "results"),
                            s_optional (body, "success_factors"), s_optional (body, "pitfalls")};
    json_int_t hours = bn_api_integer (body, "coaching_hours", 0);
    //  Capacity is in hours per quarter; without one, the town coaches once
    json_int_t capacity = bn_api_integer (body, "capacity_per_quarter", hours);
    if (hours < 1 || hours > BR_BOARD_HOURS_MAX || capacity < 0 || capacity > BR_BOARD_CAPACITY_MAX)
        return bn_api_refuse (call, BR_REASON_MALFORMED,
                              "coaching_hours must be 1..%d, capacity_per_quarter 0..%d",
                              BR_BOARD_HOURS_MAX, BR_BOARD_CAPACITY_MAX);
    Bruecke__Offer offer = BRUECKE__OFFER__INIT;
    offer.offer_id.data = id;
    offer.offer_id.len = S_ID_SIZE;
    offer.town = (char *) br_identity_node_id (self->identity);
    offer.title = (char *) title;
    offer.topics = codes;
    offer.n_topics = count;
    offer.target_group = (char *) texts[0];
    offer.results = (char *) texts[1];
    offer.success_factors = (char *) texts[2];
    offer.pitfalls = (char *) texts[3];
    offer.presentation = json_is_true (json_object_get (body, "presentation"));
    offer.documents = json_is_true (json_object_get (body, "documents"));
    offer.coaching_hours = (uint32_t) hours;
    offer.capacity_per_quarter = (uint32_t) capacity;
    offer.published_at_ms = now;
    return s_publish (self, call, &offer.base, id, S_SENT_OFFER, now);
}

static br_reason_t
s_request (bn_exchange_t *self, bn_request_t *call, int64_t now)
{
    json_t *body = call->body;
    uint8_t id[S_ID_SIZE], offer_id[S_ID_SIZE];
    s_id (NULL, id);
    const char *topic = json_string_value (json_object_get (body, "topic"));
    const char *offer_hex = json_string_value (json_object_get (body, "offer_id"));
    const char *note = s_optional (body, "note");
    if (!topic == !offer_hex)
        return bn_api_refuse (call, BR_REASON_MALFORMED,
                              "a request names either a topic or an offer_id");
    if (topic && !br_catalogue_topic (topic))
        return bn_api_refuse (call, BR_REASON_MALFORMED,
                              "the topic is not in the catalogue (GET /v1/exchange/topics)");
    if (offer_hex && !s_id (offer_hex, offer_id))
        return bn_api_refuse (call, BR_REASON_MALFORMED, "offer_id must be 32 hex digits");
    Bruecke__ExchangeRequest request = BRUECKE__EXCHANGE_REQUEST__INIT;
    request.request_id.data = id;
    request.request_id.len = S_ID_SIZE;
    request.town = (char *) br_identity_node_id (self->identity);
    request.topic = (char *) (topic ? topic : "");
    if (offer_hex) {
        request.offer_id.data = offer_id;
        request.offer_id.len = S_ID_SIZE;
    }
    request.note = (char *) note;
    request.published_at_ms = now;
    return s_publish (self, call, &request.base, id, S_SENT_REQUEST, now);
}

static br_reason_t
s_withdraw (bn_exchange_t *self, bn_request_t *call, const char *hex, int64_t now)
{
    uint8_t id[S_ID_SIZE];
    if (!s_id (hex, id))
        return bn_api_refuse (call, BR_REASON_NOT_FOUND, "no such item");
    br_board_item_t item;
    br_reason_t reason = br_board_get (self->board, id, &item);
    bool mine = reason == BR_REASON_OK && streq (item.town, br_identity_node_id (self->identity));
    br_board_item_free (&item);
    if (reason == BR_REASON_NOT_FOUND)
        return bn_api_refuse (call, reason, "no such item on the board");
    if (reason != BR_REASON_OK)
        return reason;
    if (!mine)
        return bn_api_refuse (call, BR_REASON_FORBIDDEN, "only its town may withdraw an item");
    Bruecke__BoardWithdraw body = BRUECKE__BOARD_WITHDRAW__INIT;
    body.item_id.data = id;
    body.item_id.len = S_ID_SIZE;
    return s_send_action (self, call, BRUECKE__MESSAGE_TYPE__TYPE_BOARD_WITHDRAW, S_SENT_WITHDRAW,
                          id, &body.base, now);
}

//  ---- API: agreements ----------------------------------------------------------

//  Reads agreement `hex` in a read transaction; the caller frees *message.
static br_reason_t
s_agreement_read (bn_exchange_t *self, bn_request_t *call, const char *hex, uint8_t id[S_ID_SIZE],
                  ProtobufCMessage **message)
{
    *message = NULL;
    if (!s_id (hex, id))
        return bn_api_refuse (call, BR_REASON_NOT_FOUND, "no such agreement");
    MDB_txn *txn = NULL;
    br_reason_t reason = br_store_begin (bn_store_env (self->store), false, &txn);
    const void *value;
    size_t size;
    if (reason == BR_REASON_OK)
        reason = br_store_get (txn, self->agreements, id, S_ID_SIZE, &value, &size);
    if (reason == BR_REASON_OK) {
        *message = br_proto_decode (&bruecke__agreement__descriptor, value, size,
                                    BR_ENVELOPE_MAX_SIZE, &reason);
        if (!*message)
            reason = BR_REASON_AUDIT_BROKEN;
    }
    br_store_abort (&txn);
    if (reason == BR_REASON_NOT_FOUND)
        bn_api_refuse (call, reason, "no such agreement");
    return reason;
}

//  True if `state` names an agreement state.
static bool
s_state_known (const char *state)
{
    for (int value = BRUECKE__AGREEMENT_STATE__AGREEMENT_PROPOSED;
         value <= BRUECKE__AGREEMENT_STATE__AGREEMENT_CANCELLED; value++)
        if (streq (state, br_ledger_state_name (value)))
            return true;
    return false;
}

static br_reason_t
s_agreements (bn_exchange_t *self, bn_request_t *call)
{
    const char *state = json_string_value (json_object_get (call->query, "state"));
    if (state && !s_state_known (state))
        return bn_api_refuse (call, BR_REASON_MALFORMED,
                              "state is proposed, accepted, scheduled, completed or cancelled");
    json_t *list = json_array ();
    MDB_txn *txn = NULL;
    br_reason_t reason = br_store_begin (bn_store_env (self->store), false, &txn);
    MDB_cursor *cursor = NULL;
    if (reason == BR_REASON_OK)
        reason = br_store_reason (mdb_cursor_open (txn, self->agreements, &cursor));
    if (reason == BR_REASON_OK) {
        MDB_val key, value;
        for (int rc = mdb_cursor_get (cursor, &key, &value, MDB_FIRST); rc == MDB_SUCCESS;
             rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) {
            br_reason_t decoded;
            ProtobufCMessage *message =
                br_proto_decode (&bruecke__agreement__descriptor, value.mv_data, value.mv_size,
                                 BR_ENVELOPE_MAX_SIZE, &decoded);
            if (!message)
                continue;
            Bruecke__Agreement *agreement = (Bruecke__Agreement *) message;
            if (!state || streq (state, br_ledger_state_name (agreement->state)))
                json_array_append_new (
                    list, s_agreement_json (agreement, br_identity_node_id (self->identity)));
            br_proto_free (&message);
        }
        mdb_cursor_close (cursor);
    }
    br_store_abort (&txn);
    call->result = json_pack ("{so}", "agreements", list);
    return reason;
}

static br_reason_t
s_agreement_show (bn_exchange_t *self, bn_request_t *call, const char *hex)
{
    uint8_t id[S_ID_SIZE];
    ProtobufCMessage *message = NULL;
    br_reason_t reason = s_agreement_read (self, call, hex, id, &message);
    if (reason == BR_REASON_OK)
        call->result =
            s_agreement_json ((Bruecke__Agreement *) message, br_identity_node_id (self->identity));
    br_proto_free (&message);
    return reason;
}

//  Checks a step against the agreement as the town last heard of it, then
//  sends it; the broker decides, and the new state comes back as AGREEMENT.
static br_reason_t
s_step (bn_exchange_t *self, bn_request_t *call, const char *hex, const char *step, int64_t now)
{
    uint8_t id[S_ID_SIZE];
    ProtobufCMessage *message = NULL;
    br_reason_t reason = s_agreement_read (self, call, hex, id, &message);
    if (reason != BR_REASON_OK)
        return reason;
    Bruecke__Agreement *agreement = (Bruecke__Agreement *) message;
    bool provider = streq (agreement->provider, br_identity_node_id (self->identity));
    int state = agreement->state;
    Bruecke__AgreementAction action = BRUECKE__AGREEMENT_ACTION__INIT;
    action.transfer_id.data = id;
    action.transfer_id.len = S_ID_SIZE;
    uint8_t signature[BR_SIGNATURE_SIZE];
    s_sent_kind_t kind = 0;
    if (streq (step, "accept")) {
        kind = S_SENT_ACCEPT;
        action.step = BRUECKE__AGREEMENT_STEP__STEP_ACCEPT;
        //  Accepting twice is allowed while proposed (PROTOCOL.md 16.6): it
        //  is sent again, and the broker changes only the version
        if (!br_agreement_allowed (state, action.step))
            reason =
                bn_api_refuse (call, BR_REASON_INVALID_STATE, "only a proposal can be accepted");
    } else if (streq (step, "schedule")) {
        kind = S_SENT_SCHEDULE;
        action.step = BRUECKE__AGREEMENT_STEP__STEP_SCHEDULE;
        action.scheduled_for_ms = bn_api_integer (call->body, "scheduled_for_ms", 0);
        if (!br_agreement_allowed (state, action.step) || agreement->completed_ms)
            reason = bn_api_refuse (call, BR_REASON_INVALID_STATE,
                                    "only an accepted transfer not yet being completed can be "
                                    "scheduled");
        else if (action.scheduled_for_ms <= 0)
            reason = bn_api_refuse (call, BR_REASON_MALFORMED,
                                    "scheduled_for_ms must be a time in Unix milliseconds");
    } else if (streq (step, "complete")) {
        kind = S_SENT_COMPLETE;
        action.step = BRUECKE__AGREEMENT_STEP__STEP_COMPLETE;
        //  Both towns sign the one statement, for the scheduled date
        action.completed_ms = agreement->scheduled_for_ms;
        br_ledger_completion_t completion;
        br_ledger_completion_of (agreement, action.completed_ms, &completion);
        if (!br_agreement_allowed (state, action.step) ||
            (provider ? agreement->provider_signature.len : agreement->receiver_signature.len))
            reason = bn_api_refuse (call, BR_REASON_INVALID_STATE,
                                    "only a scheduled transfer this town has not signed can be "
                                    "completed");
        else if (action.completed_ms > now + BR_LEDGER_CLOCK_SKEW_MS)
            reason = bn_api_refuse (call, BR_REASON_TOO_EARLY,
                                    "the transfer is scheduled for a later date; confirm it once "
                                    "it has taken place");
        else if (br_ledger_sign (self->identity, &completion, signature) != BR_REASON_OK)
            reason = bn_api_refuse (call, BR_REASON_MALFORMED, "the completion is not valid");
        action.signature.data = signature;
        action.signature.len = sizeof (signature);
    } else if (streq (step, "cancel")) {
        kind = S_SENT_CANCEL;
        action.step = BRUECKE__AGREEMENT_STEP__STEP_CANCEL;
        action.cancel_reason = (char *) json_string_value (json_object_get (call->body, "reason"));
        if (!br_agreement_allowed (state, action.step))
            reason = bn_api_refuse (call, BR_REASON_INVALID_STATE,
                                    "a completed or cancelled transfer cannot be cancelled");
        else if (!action.cancel_reason || !br_catalogue_cancel_reason (action.cancel_reason))
            reason = bn_api_refuse (call, BR_REASON_MALFORMED,
                                    "reason must be a cancellation code (GET /v1/exchange/topics)");
    } else
        reason = bn_api_refuse (call, BR_REASON_NOT_FOUND, "no such step");
    if (reason == BR_REASON_OK)
        reason = s_send_action (self, call, BRUECKE__MESSAGE_TYPE__TYPE_AGREEMENT_ACTION, kind, id,
                                &action.base, now);
    br_proto_free (&message);
    return reason;
}

//  ---- API: what the town sent ----------------------------------------------------

static br_reason_t
s_submissions (bn_exchange_t *self, bn_request_t *call)
{
    json_t *list = json_array ();
    MDB_txn *txn = NULL;
    br_reason_t reason = br_store_begin (bn_store_env (self->store), false, &txn);
    MDB_cursor *cursor = NULL;
    if (reason == BR_REASON_OK)
        reason = br_store_reason (mdb_cursor_open (txn, self->sent, &cursor));
    if (reason == BR_REASON_OK) {
        MDB_val key, value;
        for (int rc = mdb_cursor_get (cursor, &key, &value, MDB_FIRST); rc == MDB_SUCCESS;
             rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) {
            if (key.mv_size != BR_MESSAGE_ID_SIZE || value.mv_size != S_SENT_SIZE)
                continue;
            const uint8_t *note = (const uint8_t *) value.mv_data;
            char message_hex[2 * BR_MESSAGE_ID_SIZE + 1], subject_hex[S_ID_HEX];
            br_hex_encode (key.mv_data, BR_MESSAGE_ID_SIZE, message_hex);
            br_hex_encode (note + 1, S_ID_SIZE, subject_hex);
            bn_sent_t sent;
            const char *state = "unknown", *refusal = NULL;
            if (bn_store_sent_get (self->store, key.mv_data, &sent) == BR_REASON_OK) {
                state = bn_sent_state_name (sent.state);
                if (sent.state == BN_SENT_REFUSED || sent.state == BN_SENT_DEAD)
                    refusal = br_reason_name (sent.reason);
            }
            json_t *entry = json_pack (
                "{ss ss ss sI ss}", "message_id", message_hex, "kind",
                note[0] < sizeof (s_sent_names) / sizeof (s_sent_names[0]) ? s_sent_names[note[0]]
                                                                           : "unknown",
                "subject_id", subject_hex, "at_ms", (json_int_t) br_get_u64 (note + 1 + S_ID_SIZE),
                "state", state);
            if (refusal)
                json_object_set_new (entry, "reason", json_string (refusal));
            json_array_append_new (list, entry);
        }
        mdb_cursor_close (cursor);
    }
    br_store_abort (&txn);
    call->result = json_pack ("{so}", "submissions", list);
    return reason;
}

//  ---- API: the ledger ------------------------------------------------------------

static void
s_ledger_record (void *argument, const br_ledger_record_t *record)
{
    const br_ledger_completion_t *completion = &record->completion;
    char transfer[S_ID_HEX], hash[2 * BR_LEDGER_HASH_SIZE + 1];
    br_hex_encode (completion->transfer_id, S_ID_SIZE, transfer);
    br_hex_encode (record->hash, BR_LEDGER_HASH_SIZE, hash);
    json_array_append_new ((json_t *) argument,
                           json_pack ("{sI ss ss ss ss sI sI sI ss}", "sequence",
                                      (json_int_t) record->sequence, "transfer_id", transfer,
                                      "provider", completion->provider, "receiver",
                                      completion->receiver, "topic", completion->topic, "hours",
                                      (json_int_t) completion->hours, "completed_ms",
                                      (json_int_t) completion->completed_ms, "recorded_ms",
                                      (json_int_t) record->recorded_ms, "hash", hash));
}

static void
s_ledger_balance (void *argument, const char *town, int64_t balance)
{
    json_object_set_new ((json_t *) argument, town, json_integer (balance));
}

static br_reason_t
s_ledger (bn_exchange_t *self, bn_request_t *call)
{
    json_t *records = json_array (), *balances = json_object ();
    br_ledger_read (self->ledger, 0, SIZE_MAX, s_ledger_record, records);
    br_ledger_balances (self->ledger, s_ledger_balance, balances);
    int64_t total = 0;
    uint64_t checked = 0, first_bad = 0;
    const char *problem = NULL;
    br_reason_t reason = br_ledger_total (self->ledger, &total);
    br_reason_t verdict =
        br_ledger_verify (self->ledger, self->roster, &checked, &first_bad, &problem);
    call->result = json_pack ("{so so sI sb sI}", "records", records, "balances", balances, "total",
                              (json_int_t) total, "verified", verdict == BR_REASON_OK, "checked",
                              (json_int_t) checked);
    if (verdict != BR_REASON_OK)
        json_object_set_new (call->result, "problem",
                             json_sprintf ("record %llu: %s", (unsigned long long) first_bad,
                                           problem ? problem : br_reason_name (verdict)));
    return reason;
}

//  ---- Routes -----------------------------------------------------------------------

//  What each operation takes: body and query members, with their types
//  and limits in characters (bn_api_fields). Nothing else is accepted.
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
    br_reason_t reason = bn_api_fields (call, call->query, "query", query);
    if (reason == BR_REASON_OK)
        reason = bn_api_fields (call, call->body, "", body);
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
    br_reason_t reason = BR_REASON_NOT_FOUND;
    if (streq (call->route->method, "POST") && !json_is_object (call->body))
        reason = bn_api_refuse (call, BR_REASON_MALFORMED, "the body must be a JSON object");
    else if (s_fields_check (call) != BR_REASON_OK)
        reason = BR_REASON_MALFORMED;
    else
        switch (call->route->operation) {
            case BN_OP_EXCHANGE_TOPICS:
                reason = s_topics (call);
                break;
            case BN_OP_EXCHANGE_BOARD:
                reason = s_board (self, call);
                break;
            case BN_OP_EXCHANGE_OFFER:
                reason = s_offer (self, call, now);
                break;
            case BN_OP_EXCHANGE_REQUEST:
                reason = s_request (self, call, now);
                break;
            case BN_OP_EXCHANGE_WITHDRAW:
                reason = s_withdraw (self, call, id, now);
                break;
            case BN_OP_EXCHANGE_SUBMISSIONS:
                reason = s_submissions (self, call);
                break;
            case BN_OP_EXCHANGE_AGREEMENTS:
                reason = s_agreements (self, call);
                break;
            case BN_OP_EXCHANGE_AGREEMENT:
                reason = s_agreement_show (self, call, id);
                break;
            case BN_OP_EXCHANGE_ACCEPT:
                reason = s_step (self, call, id, "accept", now);
                break;
            case BN_OP_EXCHANGE_SCHEDULE:
                reason = s_step (self, call, id, "schedule", now);
                break;
            case BN_OP_EXCHANGE_COMPLETE:
                reason = s_step (self, call, id, "complete", now);
                break;
            case BN_OP_EXCHANGE_CANCEL:
                reason = s_step (self, call, id, "cancel", now);
                break;
            case BN_OP_EXCHANGE_LEDGER:
                reason = s_ledger (self, call);
                break;
            default:
                break;
        }
    if (reason == BR_REASON_NOT_FOUND && !call->detail[0])
        bn_api_refuse (call, reason, "no such resource");
    if (reason != BR_REASON_OK) {
        json_decref (call->result);
        call->result = NULL;
        if (!call->detail[0])
            bn_api_refuse (call, reason, "%s",
                           br_reason_retry (reason) ? "the node cannot store now, try again later"
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
