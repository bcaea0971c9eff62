/*  =========================================================================
    br_board - the Transferbörse board, as the broker holds it

    The signed bytes, the databases and the rules are in br_board.h. Both
    writes (put, withdraw) check everything first, then write the item,
    the change and the head in a transaction nested in the caller's, so
    that a store failure half-way leaves the caller's transaction as it was.
    =========================================================================
*/

#include "bruecke.h"
#include "br_board.h"
#include "br_testing.h"

//  Size of a sequence number, as key and as the stored head.
#define S_SEQUENCE_SIZE 8
//  The key of the head in board-meta.
#define S_HEAD_KEY "head"

struct _br_board_t {
    br_store_t *store; //  the LMDB environment (not ours)
    MDB_dbi items;     //  "board-items": id -> SignedBoardItem bytes
    MDB_dbi changes;   //  "board-changes": sequence -> BoardChange bytes
    MDB_dbi meta;      //  "board-meta": "head" -> sequence of the last change
    MDB_dbi owners;    //  "board-owners": id -> node id of its town, kept after withdrawal
};

br_board_t *
br_board_new (br_store_t *store, br_reason_t *reason)
{
    assert (store);
    assert (reason);
    br_board_t *self = (br_board_t *) zmalloc (sizeof (br_board_t));
    assert (self);
    self->store = store;
    const br_store_db_t dbs[] = {{"board-items", &self->items},
                                 {"board-changes", &self->changes},
                                 {"board-meta", &self->meta},
                                 {"board-owners", &self->owners}};
    *reason = br_store_open_dbs (store, dbs, (sizeof (dbs) / sizeof (dbs[0])));
    if (*reason != BR_REASON_OK)
        br_board_destroy (&self);
    return self;
}

void
br_board_destroy (br_board_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        //  Database handles belong to the environment; nothing else to free
        free (*self_p);
        *self_p = NULL;
    }
}

//  ---- Items ------------------------------------------------------------------

void
br_board_item_free (br_board_item_t *item)
{
    br_proto_free (&item->item_message);
    br_proto_free (&item->signed_message);
    memset (item, 0, sizeof (*item));
}

br_reason_t
br_board_item_decode (const uint8_t *data, size_t size, br_board_item_t *item)
{
    assert (data || size == 0);
    assert (item);
    memset (item, 0, sizeof (*item));
    br_reason_t reason;
    item->signed_message = br_proto_decode (&bruecke__signed_board_item__descriptor, data, size,
                                            BR_BOARD_SIGNED_MAX, &reason);
    if (!item->signed_message)
        return reason;
    item->signed_item = (Bruecke__SignedBoardItem *) item->signed_message;
    if (item->signed_item->signature.len != BR_SIGNATURE_SIZE) {
        br_board_item_free (item);
        return BR_REASON_MALFORMED;
    }
    const ProtobufCMessageDescriptor *descriptor = item->signed_item->is_offer
                                                       ? &bruecke__offer__descriptor
                                                       : &bruecke__exchange_request__descriptor;
    item->item_message = br_proto_decode (descriptor, item->signed_item->item.data,
                                          item->signed_item->item.len, BR_BOARD_ITEM_MAX, &reason);
    if (!item->item_message) {
        br_board_item_free (item);
        return reason == BR_REASON_TOO_LARGE ? BR_REASON_TOO_LARGE : BR_REASON_MALFORMED;
    }
    if (item->signed_item->is_offer) {
        item->offer = (Bruecke__Offer *) item->item_message;
        item->town = item->offer->town;
        item->id = item->offer->offer_id;
    } else {
        item->request = (Bruecke__ExchangeRequest *) item->item_message;
        item->town = item->request->town;
        item->id = item->request->request_id;
    }
    return BR_REASON_OK;
}

//  True if `text` is empty or a note of at most `max` characters.
static bool
s_optional_text (const char *text, size_t max)
{
    return text && (text[0] == '\0' || br_note_valid (text, max));
}

//  True if `topic` is a Transferbörse topic code.
static bool
s_topic_valid (const char *topic)
{
    return topic && br_catalogue_topic (topic) != NULL;
}

//  Checks an offer's shape against the limits. Returns OK or MALFORMED.
static br_reason_t
s_offer_check (const Bruecke__Offer *offer)
{
    if (offer->offer_id.len != BR_BOARD_ID_SIZE || offer->n_topics < 1 ||
        offer->n_topics > BR_BOARD_TOPICS_MAX || !offer->title ||
        !br_line_valid (offer->title, BR_BOARD_TITLE_MAX) ||
        !s_optional_text (offer->target_group, BR_BOARD_TEXT_MAX) ||
        !s_optional_text (offer->results, BR_BOARD_TEXT_MAX) ||
        !s_optional_text (offer->success_factors, BR_BOARD_TEXT_MAX) ||
        !s_optional_text (offer->pitfalls, BR_BOARD_TEXT_MAX) || offer->coaching_hours < 1 ||
        offer->coaching_hours > BR_BOARD_HOURS_MAX ||
        offer->capacity_per_quarter > BR_BOARD_CAPACITY_MAX || offer->published_at_ms <= 0)
        return BR_REASON_MALFORMED;
    for (size_t index = 0; index < offer->n_topics; index++) {
        if (!s_topic_valid (offer->topics[index]))
            return BR_REASON_MALFORMED;
        for (size_t other = 0; other < index; other++)
            if (streq (offer->topics[index], offer->topics[other]))
                return BR_REASON_MALFORMED;
    }
    return BR_REASON_OK;
}

//  Checks a request's shape: exactly one of topic and offer id. Returns OK
//  or MALFORMED.
static br_reason_t
s_request_check (const Bruecke__ExchangeRequest *request)
{
    bool has_topic = request->topic && request->topic[0] != '\0';
    bool has_offer = request->offer_id.len > 0;
    if (request->request_id.len != BR_BOARD_ID_SIZE || has_topic == has_offer ||
        (has_topic && !s_topic_valid (request->topic)) ||
        (has_offer && request->offer_id.len != BR_BOARD_ID_SIZE) ||
        !s_optional_text (request->note, BR_BOARD_NOTE_MAX) || request->published_at_ms <= 0)
        return BR_REASON_MALFORMED;
    return BR_REASON_OK;
}

const char *
br_board_domain (bool is_offer)
{
    return is_offer ? BR_BOARD_DOMAIN_OFFER : BR_BOARD_DOMAIN_REQUEST;
}

//  True if `signature` is the town's over the domain prefix and the item.
static bool
s_signature_holds (const Bruecke__RosterNode *town, const br_board_item_t *item)
{
    if (town->sign_public_key.len != BR_SIGN_PUBLIC_SIZE)
        return false;
    const ProtobufCBinaryData *bytes = &item->signed_item->item;
    const char *domain = br_board_domain (item->signed_item->is_offer);
    size_t domain_size = strlen (domain);
    size_t size = domain_size + bytes->len;
    uint8_t *message = (uint8_t *) malloc (size);
    assert (message);
    memcpy (message, domain, domain_size);
    if (bytes->len)
        memcpy (message + domain_size, bytes->data, bytes->len);
    bool valid = br_signature_valid (message, size, item->signed_item->signature.data,
                                     town->sign_public_key.data);
    free (message);
    return valid;
}

//  Checks a decoded item's town against `roster` (in it; with `current`
//  also not revoked and a town), its signature and its shape. Returns OK,
//  UNKNOWN_NODE, NODE_REVOKED, FORBIDDEN, BAD_SIGNATURE or MALFORMED.
static br_reason_t
s_item_verify (const br_board_item_t *item, br_roster_t *roster, bool current)
{
    const Bruecke__RosterNode *town =
        item->town ? br_roster_lookup_by_id (roster, item->town) : NULL;
    if (!town)
        return BR_REASON_UNKNOWN_NODE;
    if (current && town->revoked)
        return BR_REASON_NODE_REVOKED;
    if (current && town->role != BRUECKE__NODE_ROLE__ROLE_TOWN)
        return BR_REASON_FORBIDDEN;
    if (!s_signature_holds (town, item))
        return BR_REASON_BAD_SIGNATURE;
    return br_board_item_check (item);
}

br_reason_t
br_board_item_check (const br_board_item_t *item)
{
    assert (item && (item->offer || item->request));
    return item->offer ? s_offer_check (item->offer) : s_request_check (item->request);
}

//  Encodes a SignedBoardItem around item bytes and their signature.
static zchunk_t *
s_signed_item_encode (zchunk_t *item, const uint8_t signature[BR_SIGNATURE_SIZE], bool is_offer)
{
    Bruecke__SignedBoardItem signed_item = BRUECKE__SIGNED_BOARD_ITEM__INIT;
    signed_item.item.data = zchunk_data (item);
    signed_item.item.len = zchunk_size (item);
    signed_item.signature.data = (uint8_t *) signature;
    signed_item.signature.len = BR_SIGNATURE_SIZE;
    signed_item.is_offer = is_offer;
    return br_proto_encode (&signed_item.base);
}

zchunk_t *
br_board_sign (br_identity_t *signer, const ProtobufCMessage *item)
{
    assert (signer && item);
    bool is_offer = item->descriptor == &bruecke__offer__descriptor;
    assert (is_offer || item->descriptor == &bruecke__exchange_request__descriptor);
    zchunk_t *bytes = br_proto_encode (item);
    const char *domain = br_board_domain (is_offer);
    zchunk_t *message = zchunk_new (NULL, strlen (domain) + zchunk_size (bytes));
    zchunk_append (message, domain, strlen (domain));
    zchunk_append (message, zchunk_data (bytes), zchunk_size (bytes));
    uint8_t signature[BR_SIGNATURE_SIZE];
    br_identity_sign (signer, zchunk_data (message), zchunk_size (message), signature);
    zchunk_t *result = s_signed_item_encode (bytes, signature, is_offer);
    zchunk_destroy (&bytes);
    zchunk_destroy (&message);
    return result;
}

//  ---- Store ------------------------------------------------------------------

//  Reads the head inside `txn`: 0 if there is none. Returns OK,
//  AUDIT_BROKEN or a store reason.
static br_reason_t
s_head_read (br_board_t *self, MDB_txn *txn, uint64_t *head)
{
    br_reason_t reason = br_store_get_u64 (txn, self->meta, S_HEAD_KEY, strlen (S_HEAD_KEY), head);
    return reason == BR_REASON_NOT_FOUND ? BR_REASON_OK : reason;
}

//  Reads and decodes the item stored under `id` inside `txn`. Returns OK
//  (the caller frees *item), NOT_FOUND, AUDIT_BROKEN for stored bytes that
//  do not decode, or a store reason.
static br_reason_t
s_item_get (br_board_t *self, MDB_txn *txn, const uint8_t *id, br_board_item_t *item)
{
    memset (item, 0, sizeof (*item));
    const void *value;
    size_t size;
    br_reason_t reason = br_store_get (txn, self->items, id, BR_BOARD_ID_SIZE, &value, &size);
    if (reason != BR_REASON_OK)
        return reason;
    if (br_board_item_decode ((const uint8_t *) value, size, item) != BR_REASON_OK)
        return BR_REASON_AUDIT_BROKEN;
    return BR_REASON_OK;
}

//  Writes, in a transaction nested in `txn`, the item under `id` with its
//  `owner` (or deletes it if `item` is NULL), the change at head + 1 and
//  the new head.
//  Returns OK with *sequence set, or a store reason with nothing written.
static br_reason_t
s_write (br_board_t *self, MDB_txn *txn, const uint8_t *id, zchunk_t *item, const char *owner,
         Bruecke__BoardChange *change, uint64_t head, uint64_t *sequence)
{
    if (change->sequence == 0)
        change->sequence = head + 1;
    assert (change->sequence == head + 1);
    zchunk_t *encoded = br_proto_encode (&change->base);
    assert (zchunk_size (encoded) <= BR_BOARD_CHANGE_MAX);
    uint8_t key[S_SEQUENCE_SIZE];
    br_put_u64 (key, change->sequence);

    MDB_txn *nested = NULL;
    int rc = mdb_txn_begin (br_store_env (self->store), txn, 0, &nested);
    br_reason_t reason = br_store_reason (rc);
    if (reason == BR_REASON_OK && item) {
        reason = br_store_put (nested, self->items, id, BR_BOARD_ID_SIZE, zchunk_data (item),
                               zchunk_size (item), 0);
        if (reason == BR_REASON_OK)
            reason =
                br_store_put (nested, self->owners, id, BR_BOARD_ID_SIZE, owner, strlen (owner), 0);
    } else if (reason == BR_REASON_OK) {
        MDB_val id_key = {.mv_size = BR_BOARD_ID_SIZE, .mv_data = (void *) id};
        reason = br_store_reason (mdb_del (nested, self->items, &id_key, NULL));
    }
    if (reason == BR_REASON_OK)
        reason = br_store_put (nested, self->changes, key, sizeof (key), zchunk_data (encoded),
                               zchunk_size (encoded), 0);
    if (reason == BR_REASON_OK)
        reason = br_store_put (nested, self->meta, S_HEAD_KEY, strlen (S_HEAD_KEY), key,
                               sizeof (key), 0);
    if (reason == BR_REASON_OK)
        reason = br_store_reason (mdb_txn_commit (nested));
    else if (nested)
        mdb_txn_abort (nested);
    zchunk_destroy (&encoded);
    if (reason == BR_REASON_OK)
        *sequence = change->sequence;
    return reason;
}

//  ---- Writes -----------------------------------------------------------------

//  The checks of br_board_put against the board, inside `txn`, then the
//  write. `item` is decoded and verified.
//  `at` is the change's sequence, or 0 for the next.
static br_reason_t
s_put_stored (br_board_t *self, MDB_txn *txn, const br_board_item_t *item, uint64_t at,
              int64_t now_ms, uint64_t *sequence)
{
    uint64_t head;
    br_reason_t reason = s_head_read (self, txn, &head);
    if (reason != BR_REASON_OK)
        return reason;
    br_board_item_t other;
    if (item->request && item->request->offer_id.len > 0) {
        //  A request for one offer: the offer must be on the board
        reason = s_item_get (self, txn, item->request->offer_id.data, &other);
        if (reason != BR_REASON_OK)
            return reason;
        bool is_offer = other.offer != NULL;
        br_board_item_free (&other);
        if (!is_offer)
            return BR_REASON_NOT_FOUND;
    }
    //  An id once used stays its town's, also after a withdrawal: a request
    //  for a withdrawn offer never comes to mean another town's
    const void *owner;
    size_t owner_size;
    reason = br_store_get (txn, self->owners, item->id.data, BR_BOARD_ID_SIZE, &owner, &owner_size);
    if (reason == BR_REASON_OK &&
        (owner_size != strlen (item->town) || memcmp (owner, item->town, owner_size) != 0))
        return BR_REASON_FORBIDDEN;
    if (reason != BR_REASON_OK && reason != BR_REASON_NOT_FOUND)
        return reason;
    reason = s_item_get (self, txn, item->id.data, &other);
    if (reason == BR_REASON_OK) {
        //  An id on the board: only its town may replace it, with its kind
        bool same_town = streq (other.town, item->town);
        bool same_kind = other.signed_item->is_offer == item->signed_item->is_offer;
        br_board_item_free (&other);
        if (!same_town)
            return BR_REASON_FORBIDDEN;
        if (!same_kind)
            return BR_REASON_INVALID_STATE;
    } else if (reason != BR_REASON_NOT_FOUND)
        return reason;

    //  Stored as a fresh SignedBoardItem around the very bytes signed
    Bruecke__SignedBoardItem stored = BRUECKE__SIGNED_BOARD_ITEM__INIT;
    stored.item = item->signed_item->item;
    stored.signature = item->signed_item->signature;
    stored.is_offer = item->signed_item->is_offer;
    zchunk_t *stored_bytes = br_proto_encode (&stored.base);
    Bruecke__BoardChange change = BRUECKE__BOARD_CHANGE__INIT;
    change.change_case = BRUECKE__BOARD_CHANGE__CHANGE_PUT;
    change.put = &stored;
    change.sequence = at;
    change.at_ms = now_ms;
    reason = s_write (self, txn, item->id.data, stored_bytes, item->town, &change, head, sequence);
    zchunk_destroy (&stored_bytes);
    return reason;
}

//  Removes item `id` and appends the change {withdrawn_id}; `at` is the
//  change's sequence, or 0 for the next.
static br_reason_t
s_withdraw_stored (br_board_t *self, MDB_txn *txn, const uint8_t *id, uint64_t head, uint64_t at,
                   int64_t now_ms, uint64_t *sequence)
{
    Bruecke__BoardChange change = BRUECKE__BOARD_CHANGE__INIT;
    change.change_case = BRUECKE__BOARD_CHANGE__CHANGE_WITHDRAWN_ID;
    change.withdrawn_id.data = (uint8_t *) id;
    change.withdrawn_id.len = BR_BOARD_ID_SIZE;
    change.sequence = at;
    change.at_ms = now_ms;
    return s_write (self, txn, id, NULL, NULL, &change, head, sequence);
}

br_reason_t
br_board_put (br_board_t *self, MDB_txn *txn, const uint8_t *data, size_t size,
              const char *sender_node_id, br_roster_t *roster, int64_t now_ms, uint64_t *sequence)
{
    assert (self && txn && sender_node_id && roster && sequence);
    assert (data || size == 0);
    *sequence = 0;
    if (!data)
        return BR_REASON_MALFORMED;
    br_board_item_t item;
    br_reason_t reason = br_board_item_decode (data, size, &item);
    if (reason != BR_REASON_OK)
        return reason;
    if (!item.town || !streq (item.town, sender_node_id))
        reason = BR_REASON_SENDER_MISMATCH;
    else
        reason = s_item_verify (&item, roster, true);
    if (reason == BR_REASON_OK)
        reason = s_put_stored (self, txn, &item, 0, now_ms, sequence);
    br_board_item_free (&item);
    return reason;
}

br_reason_t
br_board_withdraw (br_board_t *self, MDB_txn *txn, const uint8_t *id, size_t id_size,
                   const char *sender_node_id, int64_t now_ms, uint64_t *sequence)
{
    assert (self && txn && sender_node_id && sequence);
    *sequence = 0;
    if (!id || id_size != BR_BOARD_ID_SIZE)
        return BR_REASON_MALFORMED;
    uint64_t head;
    br_reason_t reason = s_head_read (self, txn, &head);
    if (reason != BR_REASON_OK)
        return reason;
    br_board_item_t item;
    reason = s_item_get (self, txn, id, &item);
    if (reason != BR_REASON_OK)
        return reason;
    bool owner = streq (item.town, sender_node_id);
    br_board_item_free (&item);
    if (!owner)
        return BR_REASON_FORBIDDEN;
    return s_withdraw_stored (self, txn, id, head, 0, now_ms, sequence);
}

br_reason_t
br_board_get (br_board_t *self, const uint8_t *id, br_board_item_t *item)
{
    assert (self && id && item);
    memset (item, 0, sizeof (*item));
    MDB_txn *txn = NULL;
    br_reason_t reason = br_store_begin (self->store, false, &txn);
    if (reason == BR_REASON_OK)
        reason = s_item_get (self, txn, id, item);
    br_store_abort (&txn);
    return reason;
}

//  ---- A node's copy ------------------------------------------------------------

br_reason_t
br_board_apply (br_board_t *self, MDB_txn *txn, const Bruecke__BoardChange *change,
                br_roster_t *roster)
{
    assert (self && txn && change && roster);
    uint64_t head, sequence;
    br_reason_t reason = s_head_read (self, txn, &head);
    if (reason != BR_REASON_OK)
        return reason;
    if (change->sequence <= head)
        return BR_REASON_REPLAYED;
    if (change->sequence != head + 1)
        return BR_REASON_INVALID_STATE;
    if (change->change_case == BRUECKE__BOARD_CHANGE__CHANGE_WITHDRAWN_ID) {
        if (change->withdrawn_id.len != BR_BOARD_ID_SIZE)
            return BR_REASON_MALFORMED;
        br_board_item_t item;
        reason = s_item_get (self, txn, change->withdrawn_id.data, &item);
        br_board_item_free (&item);
        if (reason != BR_REASON_OK)
            return reason == BR_REASON_NOT_FOUND ? BR_REASON_AUDIT_BROKEN : reason;
        return s_withdraw_stored (self, txn, change->withdrawn_id.data, head, change->sequence,
                                  change->at_ms, &sequence);
    }
    if (change->change_case != BRUECKE__BOARD_CHANGE__CHANGE_PUT)
        return BR_REASON_MALFORMED;
    zchunk_t *bytes = br_proto_encode (&change->put->base);
    br_board_item_t item;
    reason = br_board_item_decode (zchunk_data (bytes), zchunk_size (bytes), &item);
    zchunk_destroy (&bytes);
    if (reason == BR_REASON_OK)
        reason = s_item_verify (&item, roster, false);
    if (reason == BR_REASON_OK)
        reason = s_put_stored (self, txn, &item, change->sequence, change->at_ms, &sequence);
    br_board_item_free (&item);
    return reason;
}

br_reason_t
br_board_reset (br_board_t *self, MDB_txn *txn)
{
    assert (self && txn);
    int rc = mdb_drop (txn, self->items, 0);
    if (rc == MDB_SUCCESS)
        rc = mdb_drop (txn, self->changes, 0);
    if (rc == MDB_SUCCESS)
        rc = mdb_drop (txn, self->meta, 0);
    if (rc == MDB_SUCCESS)
        rc = mdb_drop (txn, self->owners, 0);
    return br_store_reason (rc);
}

br_reason_t
br_board_snapshot_put (br_board_t *self, MDB_txn *txn, const Bruecke__SignedBoardItem *signed_item,
                       br_roster_t *roster)
{
    assert (self && txn && signed_item && roster);
    zchunk_t *bytes = br_proto_encode (&signed_item->base);
    br_board_item_t item;
    br_reason_t reason = br_board_item_decode (zchunk_data (bytes), zchunk_size (bytes), &item);
    if (reason == BR_REASON_OK)
        reason = s_item_verify (&item, roster, false);
    if (reason == BR_REASON_OK)
        reason = br_store_put (txn, self->items, item.id.data, BR_BOARD_ID_SIZE,
                               zchunk_data (bytes), zchunk_size (bytes), 0);
    if (reason == BR_REASON_OK)
        reason = br_store_put (txn, self->owners, item.id.data, BR_BOARD_ID_SIZE, item.town,
                               strlen (item.town), 0);
    br_board_item_free (&item);
    zchunk_destroy (&bytes);
    return reason;
}

br_reason_t
br_board_set_head (br_board_t *self, MDB_txn *txn, uint64_t head)
{
    assert (self && txn);
    uint8_t value[S_SEQUENCE_SIZE];
    br_put_u64 (value, head);
    return br_store_put (txn, self->meta, S_HEAD_KEY, strlen (S_HEAD_KEY), value, sizeof (value),
                         0);
}

//  ---- Reads ------------------------------------------------------------------

br_reason_t
br_board_head (br_board_t *self, uint64_t *sequence)
{
    assert (self && sequence);
    *sequence = 0;
    MDB_txn *txn = NULL;
    br_reason_t reason = br_store_begin (self->store, false, &txn);
    if (reason != BR_REASON_OK)
        return reason;
    reason = s_head_read (self, txn, sequence);
    br_store_abort (&txn);
    return reason;
}

size_t
br_board_changes (br_board_t *self, uint64_t after, size_t max, br_board_change_fn *change,
                  void *argument)
{
    assert (self && change);
    size_t count = 0;
    MDB_txn *txn = NULL;
    if (after == UINT64_MAX || br_store_begin (self->store, false, &txn) != BR_REASON_OK)
        return 0;
    MDB_cursor *cursor;
    if (mdb_cursor_open (txn, self->changes, &cursor) == MDB_SUCCESS) {
        uint8_t start[S_SEQUENCE_SIZE];
        br_put_u64 (start, after + 1);
        MDB_val key = {.mv_size = sizeof (start), .mv_data = start};
        MDB_val value;
        int rc = mdb_cursor_get (cursor, &key, &value, MDB_SET_RANGE);
        while (rc == MDB_SUCCESS && count < max && key.mv_size == S_SEQUENCE_SIZE) {
            change (argument, br_get_u64 ((const uint8_t *) key.mv_data),
                    (const uint8_t *) value.mv_data, value.mv_size);
            count++;
            rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT);
        }
        mdb_cursor_close (cursor);
    }
    br_store_abort (&txn);
    return count;
}

br_reason_t
br_board_snapshot (br_board_t *self, br_board_item_fn *item, void *argument, uint64_t *head)
{
    assert (self && item && head);
    *head = 0;
    MDB_txn *txn = NULL;
    br_reason_t reason = br_store_begin (self->store, false, &txn);
    if (reason != BR_REASON_OK)
        return reason;
    reason = s_head_read (self, txn, head);
    MDB_cursor *cursor = NULL;
    if (reason == BR_REASON_OK)
        reason = br_store_reason (mdb_cursor_open (txn, self->items, &cursor));
    if (reason == BR_REASON_OK) {
        MDB_val key, value;
        int rc = mdb_cursor_get (cursor, &key, &value, MDB_FIRST);
        while (rc == MDB_SUCCESS) {
            item (argument, (const uint8_t *) value.mv_data, value.mv_size);
            rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT);
        }
        if (rc != MDB_NOTFOUND)
            reason = br_store_reason (rc);
        mdb_cursor_close (cursor);
    }
    br_store_abort (&txn);
    return reason;
}

//  Reads the oldest kept change's sequence inside `txn`: 0 if none.
static br_reason_t
s_oldest_kept (br_board_t *self, MDB_txn *txn, uint64_t *oldest)
{
    *oldest = 0;
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (txn, self->changes, &cursor);
    if (rc != MDB_SUCCESS)
        return br_store_reason (rc);
    MDB_val key, value;
    rc = mdb_cursor_get (cursor, &key, &value, MDB_FIRST);
    mdb_cursor_close (cursor);
    if (rc == MDB_NOTFOUND)
        return BR_REASON_OK;
    if (rc != MDB_SUCCESS)
        return br_store_reason (rc);
    if (key.mv_size != S_SEQUENCE_SIZE)
        return BR_REASON_AUDIT_BROKEN;
    *oldest = br_get_u64 ((const uint8_t *) key.mv_data);
    return BR_REASON_OK;
}

bool
br_board_needs_snapshot (br_board_t *self, uint64_t after)
{
    assert (self);
    MDB_txn *txn = NULL;
    if (br_store_begin (self->store, false, &txn) != BR_REASON_OK)
        return true;
    uint64_t head = 0, oldest = 0;
    br_reason_t reason = s_head_read (self, txn, &head);
    if (reason == BR_REASON_OK)
        reason = s_oldest_kept (self, txn, &oldest);
    br_store_abort (&txn);
    if (reason != BR_REASON_OK || after > head)
        return true;
    if (after == head)
        return false; //  nothing missed
    //  The changes after + 1 .. head are all kept if the oldest is at most after + 1
    return oldest == 0 || oldest > after + 1;
}

br_reason_t
br_board_prune (br_board_t *self, MDB_txn *txn, size_t keep, size_t *removed)
{
    assert (self && txn);
    if (removed)
        *removed = 0;
    size_t count = 0;
    MDB_stat stat;
    int rc = mdb_stat (txn, self->changes, &stat);
    if (rc != MDB_SUCCESS)
        return br_store_reason (rc);
    size_t excess = stat.ms_entries > keep ? stat.ms_entries - keep : 0;
    MDB_cursor *cursor;
    rc = mdb_cursor_open (txn, self->changes, &cursor);
    if (rc != MDB_SUCCESS)
        return br_store_reason (rc);
    MDB_val key, value;
    while (count < excess &&
           (rc = mdb_cursor_get (cursor, &key, &value, MDB_FIRST)) == MDB_SUCCESS) {
        rc = mdb_cursor_del (cursor, 0);
        if (rc != MDB_SUCCESS)
            break;
        count++;
    }
    mdb_cursor_close (cursor);
    if (removed)
        *removed = count;
    return count == excess ? BR_REASON_OK : br_store_reason (rc);
}

//  --------------------------------------------------------------------------
//  Selftest: a short tour of the API. The board's scenario, with every
//  refusal, readers catching up and pruning, is tests/unit/br_board_test.c.

void
br_board_test (bool verbose)
{
    if (verbose)
        printf (" * br_board: ");
    //  @selftest
    //  An empty board in a store of its own
    br_reason_t reason;
    char *path = br_temp_directory ("br_board_tour");
    br_store_t *store = path ? br_store_new (path, 0, &reason) : NULL;
    assert (store);
    br_board_t *board = br_board_new (store, &reason);
    uint64_t head;
    assert (board && br_board_head (board, &head) == BR_REASON_OK && head == 0);
    br_testing_county_t *county = br_testing_county_new ();

    //  Kamen asks for the Frühe Hilfen; only Kamen may put it on the board
    uint8_t id[BR_BOARD_ID_SIZE] = {0xe0, 0x01};
    Bruecke__ExchangeRequest request = BRUECKE__EXCHANGE_REQUEST__INIT;
    request.request_id.data = id;
    request.request_id.len = sizeof (id);
    request.town = "kamen";
    request.topic = "fruehe-hilfen";
    int64_t now = br_now_ms ();
    request.published_at_ms = now;
    zchunk_t *signed_item = br_board_sign (county->kamen, &request.base);
    MDB_txn *txn = NULL;
    uint64_t sequence;
    assert (br_store_begin (store, true, &txn) == BR_REASON_OK);
    assert (br_board_put (board, txn, zchunk_data (signed_item), zchunk_size (signed_item), "unna",
                          county->roster, now, &sequence) == BR_REASON_SENDER_MISMATCH);
    assert (br_board_put (board, txn, zchunk_data (signed_item), zchunk_size (signed_item), "kamen",
                          county->roster, now, &sequence) == BR_REASON_OK);
    assert (sequence == 1);
    assert (br_store_commit (&txn) == BR_REASON_OK);
    zchunk_destroy (&signed_item);
    br_board_item_t item;
    assert (br_board_get (board, id, &item) == BR_REASON_OK);
    assert (item.request && streq (item.town, "kamen"));
    assert (streq (item.request->topic, "fruehe-hilfen"));
    br_board_item_free (&item);
    assert (!br_board_needs_snapshot (board, 0));

    //  ... and withdraws it
    assert (br_store_begin (store, true, &txn) == BR_REASON_OK);
    assert (br_board_withdraw (board, txn, id, sizeof (id), "kamen", now, &sequence) ==
            BR_REASON_OK);
    assert (sequence == 2);
    assert (br_store_commit (&txn) == BR_REASON_OK);
    assert (br_board_get (board, id, &item) == BR_REASON_NOT_FOUND);
    assert (br_board_head (board, &head) == BR_REASON_OK && head == 2);
    br_testing_county_destroy (&county);

    //  Destroying twice is safe; the store is the caller's
    br_board_destroy (&board);
    br_board_destroy (&board);
    assert (!board);
    br_store_destroy (&store);
    assert (br_temp_directory_remove (&path));
    //  @end
    if (verbose)
        printf ("OK\n");
}
