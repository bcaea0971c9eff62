/*  =========================================================================
    bn_exchange_api - the town's /v1/exchange operations, but agreements

    See bn_exchange_api.h; the wire is PROTOCOL.md section 16.
    =========================================================================
*/

#include "bruecke.h"
#include "bn_exchange_api.h"
#include "br_testing.h"

#define S_ID_SIZE   BN_EXCHANGE_ID_SIZE
#define S_ID_HEX    (2 * S_ID_SIZE + 1)
#define S_SENT_SIZE (1 + S_ID_SIZE + 8)

static const char *s_sent_names[] = {"",       "offer",    "request",  "withdraw",
                                     "accept", "schedule", "complete", "cancel"};

//  ---- Sending ----------------------------------------------------------------

//  Puts a message to the broker's exchange into the outbox and notes what
//  it was about. Returns OK and the message id in `id_hex`, or a reason.
static br_reason_t
s_send (const bn_exchange_api_t *api, MDB_txn *txn, Bruecke__MessageType type,
        bn_exchange_sent_kind_t kind, const uint8_t *subject, const ProtobufCMessage *body,
        int64_t now, char id_hex[2 * BR_MESSAGE_ID_SIZE + 1])
{
    Bruecke__Header header;
    uint8_t id[BR_MESSAGE_ID_SIZE];
    br_envelope_header_init (&header, id, type, br_identity_node_id (api->identity), "", "",
                             bn_store_next_sequence (api->store), now, BN_EXCHANGE_LIFETIME_MS);
    zchunk_t *chunk = br_envelope_build (api->identity, &header, NULL, body, NULL);
    br_reason_t reason =
        bn_store_outbox_add (api->store, txn, &header, zchunk_data (chunk), zchunk_size (chunk));
    zchunk_destroy (&chunk);
    uint8_t note[S_SENT_SIZE];
    note[0] = (uint8_t) kind;
    memcpy (note + 1, subject, S_ID_SIZE);
    br_put_u64 (note + 1 + S_ID_SIZE, (uint64_t) now);
    if (reason == BR_REASON_OK)
        reason = br_store_put (txn, api->sent, id, sizeof (id), note, sizeof (note), 0);
    br_hex_encode (id, sizeof (id), id_hex);
    return reason;
}

//  ---- JSON -------------------------------------------------------------------

//  Bytes as a JSON string in hex; null if none or too many.
json_t *
bn_exchange_api_hex_json (const ProtobufCBinaryData *bytes)
{
    char hex[2 * 64 + 1]; //  ids and hashes
    if (bytes->len == 0 || bytes->len > sizeof (hex) / 2)
        return json_null ();
    br_hex_encode (bytes->data, bytes->len, hex);
    return json_string (hex);
}

//  A text as a JSON string; "" if NULL.
json_t *
bn_exchange_api_text_json (const char *text)
{
    return json_string (text ? text : "");
}

static json_t *
s_item_json (const br_board_item_t *item, const char *me)
{
    json_t *object = json_object ();
    json_object_set_new (object, "id", bn_exchange_api_hex_json (&item->id));
    json_object_set_new (object, "town", bn_exchange_api_text_json (item->town));
    json_object_set_new (object, "mine", json_boolean (streq (item->town, me)));
    if (item->offer) {
        const Bruecke__Offer *offer = item->offer;
        json_object_set_new (object, "kind", json_string ("offer"));
        json_object_set_new (object, "title", bn_exchange_api_text_json (offer->title));
        json_t *topics = json_array ();
        for (size_t index = 0; index < offer->n_topics; index++)
            json_array_append_new (topics, bn_exchange_api_text_json (offer->topics[index]));
        json_object_set_new (object, "topics", topics);
        json_object_set_new (object, "target_group",
                             bn_exchange_api_text_json (offer->target_group));
        json_object_set_new (object, "results", bn_exchange_api_text_json (offer->results));
        json_object_set_new (object, "success_factors",
                             bn_exchange_api_text_json (offer->success_factors));
        json_object_set_new (object, "pitfalls", bn_exchange_api_text_json (offer->pitfalls));
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
            json_object_set_new (object, "offer_id", bn_exchange_api_hex_json (&request->offer_id));
        else
            json_object_set_new (object, "topic", bn_exchange_api_text_json (request->topic));
        json_object_set_new (object, "note", bn_exchange_api_text_json (request->note));
        json_object_set_new (object, "published_at_ms", json_integer (request->published_at_ms));
    }
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
    if (wanted && json_array_size (list) < BN_EXCHANGE_ITEMS_MAX)
        json_array_append_new (list, s_item_json (&item, listing->me));
    br_board_item_free (&item);
}

br_reason_t
bn_exchange_api_board (const bn_exchange_api_t *api, bn_request_t *call)
{
    const char *topic = json_string_value (json_object_get (call->query, "topic"));
    if (topic && !br_catalogue_topic (topic))
        return bn_request_refuse (call, BR_REASON_MALFORMED,
                                  "topic is not in the catalogue (GET /v1/exchange/topics)");
    s_listing_t listing = {.me = br_identity_node_id (api->identity),
                           .topic = topic,
                           .offers = json_array (),
                           .requests = json_array ()};
    uint64_t head;
    br_reason_t reason = br_board_snapshot (api->board, s_list_item, &listing, &head);
    call->result = json_pack ("{sI so so}", "head", (json_int_t) head, "offers", listing.offers,
                              "requests", listing.requests);
    return reason;
}

br_reason_t
bn_exchange_api_topics (bn_request_t *call)
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
bool
bn_exchange_api_id (const char *hex, uint8_t id[S_ID_SIZE])
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
//  answers 202 with the subject's id and the message id (s_send).
br_reason_t
bn_exchange_api_send (const bn_exchange_api_t *api, bn_request_t *call, Bruecke__MessageType type,
                      bn_exchange_sent_kind_t kind, const uint8_t *subject,
                      const ProtobufCMessage *body, int64_t now)
{
    MDB_txn *txn = NULL;
    char message_id[2 * BR_MESSAGE_ID_SIZE + 1];
    br_reason_t reason = bn_store_begin (api->store, &txn);
    if (reason == BR_REASON_OK)
        reason = s_send (api, txn, type, kind, subject, body, now, message_id);
    if (reason == BR_REASON_OK)
        reason = bn_store_commit (api->store, &txn);
    bn_store_abort (api->store, &txn);
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
s_publish (const bn_exchange_api_t *api, bn_request_t *call, const ProtobufCMessage *item,
           const uint8_t *id, bn_exchange_sent_kind_t kind, int64_t now)
{
    zchunk_t *signed_item = br_board_sign (api->identity, item);
    br_board_item_t decoded;
    br_reason_t reason =
        br_board_item_decode (zchunk_data (signed_item), zchunk_size (signed_item), &decoded);
    if (reason == BR_REASON_OK)
        reason = br_board_item_check (&decoded);
    zchunk_destroy (&signed_item);
    if (reason == BR_REASON_OK)
        //  The SignedBoardItem is the body; its item keeps the bytes signed
        reason = bn_exchange_api_send (api, call, BRUECKE__MESSAGE_TYPE__TYPE_BOARD_PUBLISH, kind,
                                       id, decoded.signed_message, now);
    else
        bn_request_refuse (call, reason, "the %s is outside the limits of the board",
                           s_sent_names[kind]);
    br_board_item_free (&decoded);
    return reason;
}

br_reason_t
bn_exchange_api_offer (const bn_exchange_api_t *api, bn_request_t *call, int64_t now)
{
    json_t *body = call->body;
    uint8_t id[S_ID_SIZE];
    if (!bn_exchange_api_id (json_string_value (json_object_get (body, "id")), id))
        return bn_request_refuse (call, BR_REASON_MALFORMED, "id must be 32 hex digits");
    const char *title = json_string_value (json_object_get (body, "title"));
    json_t *topics = json_object_get (body, "topics");
    size_t count = json_array_size (topics);
    if (count < 1 || count > BR_BOARD_TOPICS_MAX)
        return bn_request_refuse (call, BR_REASON_MALFORMED, "an offer needs 1 to %d topics",
                                  BR_BOARD_TOPICS_MAX);
    char *codes[BR_BOARD_TOPICS_MAX];
    for (size_t index = 0; index < count; index++) {
        codes[index] = (char *) json_string_value (json_array_get (topics, index));
        if (!codes[index] || !br_catalogue_topic (codes[index]))
            return bn_request_refuse (call, BR_REASON_MALFORMED,
                                      "topic %zu is not in the catalogue (GET /v1/exchange/topics)",
                                      index + 1);
    }
    const char *texts[4] = {s_optional (body, "target_group"), s_optional (body, "results"),
                            s_optional (body, "success_factors"), s_optional (body, "pitfalls")};
    json_int_t hours = bn_request_integer (body, "coaching_hours", 0);
    //  Capacity is in hours per quarter; without one, the town coaches once
    json_int_t capacity = bn_request_integer (body, "capacity_per_quarter", hours);
    if (hours < 1 || hours > BR_BOARD_HOURS_MAX || capacity < 0 || capacity > BR_BOARD_CAPACITY_MAX)
        return bn_request_refuse (call, BR_REASON_MALFORMED,
                                  "coaching_hours must be 1..%d, capacity_per_quarter 0..%d",
                                  BR_BOARD_HOURS_MAX, BR_BOARD_CAPACITY_MAX);
    Bruecke__Offer offer = BRUECKE__OFFER__INIT;
    offer.offer_id.data = id;
    offer.offer_id.len = S_ID_SIZE;
    offer.town = (char *) br_identity_node_id (api->identity);
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
    return s_publish (api, call, &offer.base, id, BN_EXCHANGE_SENT_OFFER, now);
}

br_reason_t
bn_exchange_api_request (const bn_exchange_api_t *api, bn_request_t *call, int64_t now)
{
    json_t *body = call->body;
    uint8_t id[S_ID_SIZE], offer_id[S_ID_SIZE];
    bn_exchange_api_id (NULL, id);
    const char *topic = json_string_value (json_object_get (body, "topic"));
    const char *offer_hex = json_string_value (json_object_get (body, "offer_id"));
    const char *note = s_optional (body, "note");
    if (!topic == !offer_hex)
        return bn_request_refuse (call, BR_REASON_MALFORMED,
                                  "a request names either a topic or an offer_id");
    if (topic && !br_catalogue_topic (topic))
        return bn_request_refuse (call, BR_REASON_MALFORMED,
                                  "the topic is not in the catalogue (GET /v1/exchange/topics)");
    if (offer_hex && !bn_exchange_api_id (offer_hex, offer_id))
        return bn_request_refuse (call, BR_REASON_MALFORMED, "offer_id must be 32 hex digits");
    Bruecke__ExchangeRequest request = BRUECKE__EXCHANGE_REQUEST__INIT;
    request.request_id.data = id;
    request.request_id.len = S_ID_SIZE;
    request.town = (char *) br_identity_node_id (api->identity);
    request.topic = (char *) (topic ? topic : "");
    if (offer_hex) {
        request.offer_id.data = offer_id;
        request.offer_id.len = S_ID_SIZE;
    }
    request.note = (char *) note;
    request.published_at_ms = now;
    return s_publish (api, call, &request.base, id, BN_EXCHANGE_SENT_REQUEST, now);
}

br_reason_t
bn_exchange_api_withdraw (const bn_exchange_api_t *api, bn_request_t *call, const char *hex,
                          int64_t now)
{
    uint8_t id[S_ID_SIZE];
    if (!bn_exchange_api_id (hex, id))
        return bn_request_refuse (call, BR_REASON_NOT_FOUND, "no such item");
    br_board_item_t item;
    br_reason_t reason = br_board_get (api->board, id, &item);
    bool mine = reason == BR_REASON_OK && streq (item.town, br_identity_node_id (api->identity));
    br_board_item_free (&item);
    if (reason == BR_REASON_NOT_FOUND)
        return bn_request_refuse (call, reason, "no such item on the board");
    if (reason != BR_REASON_OK)
        return reason;
    if (!mine)
        return bn_request_refuse (call, BR_REASON_FORBIDDEN, "only its town may withdraw an item");
    Bruecke__BoardWithdraw body = BRUECKE__BOARD_WITHDRAW__INIT;
    body.item_id.data = id;
    body.item_id.len = S_ID_SIZE;
    return bn_exchange_api_send (api, call, BRUECKE__MESSAGE_TYPE__TYPE_BOARD_WITHDRAW,
                                 BN_EXCHANGE_SENT_WITHDRAW, id, &body.base, now);
}

//  ---- API: what the town sent ----------------------------------------------------

br_reason_t
bn_exchange_api_submissions (const bn_exchange_api_t *api, bn_request_t *call)
{
    json_t *list = json_array ();
    MDB_txn *txn = NULL;
    br_reason_t reason = br_store_begin (bn_store_env (api->store), false, &txn);
    MDB_cursor *cursor = NULL;
    if (reason == BR_REASON_OK)
        reason = br_store_reason (mdb_cursor_open (txn, api->sent, &cursor));
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
            if (bn_store_sent_get (api->store, key.mv_data, &sent) == BR_REASON_OK) {
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

br_reason_t
bn_exchange_api_ledger (const bn_exchange_api_t *api, bn_request_t *call)
{
    json_t *records = json_array (), *balances = json_object ();
    br_ledger_read (api->ledger, 0, SIZE_MAX, s_ledger_record, records);
    br_ledger_balances (api->ledger, s_ledger_balance, balances);
    int64_t total = 0;
    uint64_t checked = 0, first_bad = 0;
    const char *problem = NULL;
    br_reason_t reason = br_ledger_total (api->ledger, &total);
    br_reason_t verdict =
        br_ledger_verify (api->ledger, api->roster, &checked, &first_bad, &problem);
    call->result = json_pack ("{so so sI sb sI}", "records", records, "balances", balances, "total",
                              (json_int_t) total, "verified", verdict == BR_REASON_OK, "checked",
                              (json_int_t) checked);
    if (verdict != BR_REASON_OK)
        json_object_set_new (call->result, "problem",
                             json_sprintf ("record %llu: %s", (unsigned long long) first_bad,
                                           problem ? problem : br_reason_name (verdict)));
    return reason;
}

//  --------------------------------------------------------------------------
//  Selftest: an offer sent, seen among the submissions, not yet on the
//  board; the empty ledger. The whole API, fed by a broker, is in
//  tests/unit/bn_exchange_test.c.

void
bn_exchange_api_test (bool verbose)
{
    if (verbose)
        printf (" * bn_exchange_api: ");
    //  @selftest
    br_testing_county_t *county = br_testing_county_new ();
    br_reason_t reason;
    char *directory = br_temp_directory ("bn_exchange_api");
    bn_exchange_api_t api = {.identity = county->unna, .roster = county->roster};
    api.store = directory ? bn_store_new (directory, BR_STORE_DEFAULT_MAPSIZE, &reason) : NULL;
    assert (api.store);
    br_store_t *env = bn_store_env (api.store);
    api.board = br_board_new (env, &reason);
    api.ledger = br_ledger_new (env, &reason);
    assert (api.board && api.ledger);
    assert (br_store_open_db (env, "exchange-sent", MDB_CREATE, &api.sent) == BR_REASON_OK);

    //  The catalogue names each topic
    bn_request_t call = {.user = "test", .offices = ""};
    assert (bn_exchange_api_topics (&call) == BR_REASON_OK);
    const char *topic = br_catalogue_topic_code (0);
    assert (topic && json_array_size (json_object_get (call.result, "topics")) > 0);
    json_decref (call.result);

    //  An offer goes to the outbox: 202, and it is among the submissions
    call.body = json_pack ("{ss s[s] si}", "title", "Lotsinnen im Jobcenter", "topics", topic,
                           "coaching_hours", 4);
    assert (bn_exchange_api_offer (&api, &call, br_now_ms ()) == BR_REASON_OK);
    assert (call.status == 202);
    char id[S_ID_HEX];
    snprintf (id, sizeof (id), "%s", json_string_value (json_object_get (call.result, "id")));
    json_decref (call.result);
    json_decref (call.body);
    call.body = NULL;
    assert (bn_exchange_api_submissions (&api, &call) == BR_REASON_OK);
    json_t *sent = json_array_get (json_object_get (call.result, "submissions"), 0);
    assert (streq (json_string_value (json_object_get (sent, "kind")), "offer"));
    assert (streq (json_string_value (json_object_get (sent, "subject_id")), id));
    json_decref (call.result);

    //  The broker has not published it: the board is empty, and there is
    //  nothing to withdraw
    assert (bn_exchange_api_board (&api, &call) == BR_REASON_OK);
    assert (json_array_size (json_object_get (call.result, "offers")) == 0);
    json_decref (call.result);
    call.result = NULL;
    assert (bn_exchange_api_withdraw (&api, &call, id, br_now_ms ()) == BR_REASON_NOT_FOUND);

    //  An empty ledger verifies
    assert (bn_exchange_api_ledger (&api, &call) == BR_REASON_OK);
    assert (json_is_true (json_object_get (call.result, "verified")));
    json_decref (call.result);

    br_board_destroy (&api.board);
    br_ledger_destroy (&api.ledger);
    bn_store_destroy (&api.store);
    assert (br_temp_directory_remove (&directory));
    br_testing_county_destroy (&county);
    //  @end
    if (verbose)
        printf ("OK\n");
}
