/*  =========================================================================
    bn_store - a town node's durable message state: outbox, sent, inbox
    =========================================================================
*/

#include "bruecke.h"
#include "bn_store.h"

#define S_SENT_SIZE    (8 + 1 + 1 + 4 + 8 + BR_NODE_ID_MAX)
#define S_APPLIED_SIZE 16

struct _bn_store_t {
    br_store_t *store;       //  the LMDB environment
    MDB_dbi outbox;          //  sequence -> envelope
    MDB_dbi local;           //  sequence -> envelope between offices of this node
    MDB_dbi sent;            //  message id -> bn_sent_t
    MDB_dbi inbox;           //  counter -> received time + envelope
    MDB_dbi applied;         //  sender + id -> expiry + counter
    MDB_dbi meta;            //  counters
    uint64_t sequence;       //  next outgoing sequence number
    uint64_t inbox_counter;  //  next inbox counter
    uint64_t saved_sequence; //  counters at begin, restored on abort
    uint64_t saved_inbox_counter;
};

static void
s_sent_encode (const bn_sent_t *sent, uint8_t bytes[S_SENT_SIZE])
{
    br_put_u64 (bytes, sent->sequence);
    bytes[8] = sent->state;
    bytes[9] = sent->type;
    uint32_t reason = (uint32_t) sent->reason;
    for (int index = 0; index < 4; index++)
        bytes[10 + index] = (uint8_t) (reason >> (24 - 8 * index));
    br_put_u64 (bytes + 14, (uint64_t) sent->updated_ms);
    br_put_node_id (bytes + 22, sent->recipient);
}

static void
s_sent_decode (const uint8_t bytes[S_SENT_SIZE], bn_sent_t *sent)
{
    sent->sequence = br_get_u64 (bytes);
    sent->state = bytes[8];
    sent->type = bytes[9];
    uint32_t reason = 0;
    for (int index = 0; index < 4; index++)
        reason = (reason << 8) | bytes[10 + index];
    sent->reason = (int32_t) reason;
    sent->updated_ms = (int64_t) br_get_u64 (bytes + 14);
    br_get_node_id (bytes + 22, sent->recipient);
}

bn_store_t *
bn_store_new (const char *path, size_t mapsize, br_reason_t *reason)
{
    br_store_t *store = br_store_new (path, mapsize, reason);
    if (!store)
        return NULL;
    bn_store_t *self = (bn_store_t *) zmalloc (sizeof (bn_store_t));
    self->store = store;
    const br_store_db_t dbs[] = {{"outbox", &self->outbox},   {"local", &self->local},
                                 {"sent", &self->sent},       {"inbox", &self->inbox},
                                 {"applied", &self->applied}, {"meta", &self->meta}};
    *reason = br_store_open_dbs (store, dbs, (sizeof (dbs) / sizeof (dbs[0])));
    if (*reason == BR_REASON_OK)
        *reason = br_store_counter_get (store, self->meta, "sequence", &self->sequence);
    if (*reason == BR_REASON_OK)
        *reason = br_store_counter_get (store, self->meta, "inbox", &self->inbox_counter);
    if (*reason != BR_REASON_OK)
        bn_store_destroy (&self);
    return self;
}

void
bn_store_destroy (bn_store_t **self_p)
{
    assert (self_p);
    bn_store_t *self = *self_p;
    if (self) {
        br_store_destroy (&self->store);
        free (self);
        *self_p = NULL;
    }
}

br_reason_t
bn_store_begin (bn_store_t *self, MDB_txn **txn_p)
{
    assert (self);
    self->saved_sequence = self->sequence;
    self->saved_inbox_counter = self->inbox_counter;
    return br_store_begin (self->store, true, txn_p);
}

br_reason_t
bn_store_commit (bn_store_t *self, MDB_txn **txn_p)
{
    assert (self && txn_p && *txn_p);
    //  Counters are written only when used: a transaction that changed
    //  nothing then commits without touching the disk
    br_reason_t reason = BR_REASON_OK;
    if (self->sequence != self->saved_sequence)
        reason = br_store_counter_put (*txn_p, self->meta, "sequence", self->sequence);
    if (reason == BR_REASON_OK && self->inbox_counter != self->saved_inbox_counter)
        reason = br_store_counter_put (*txn_p, self->meta, "inbox", self->inbox_counter);
    if (reason == BR_REASON_OK)
        reason = br_store_commit (txn_p);
    else
        br_store_abort (txn_p);
    if (reason != BR_REASON_OK) {
        self->sequence = self->saved_sequence;
        self->inbox_counter = self->saved_inbox_counter;
    }
    return reason;
}

void
bn_store_abort (bn_store_t *self, MDB_txn **txn_p)
{
    assert (self && txn_p);
    if (*txn_p) {
        //  Only an open transaction gives its counters back
        br_store_abort (txn_p);
        self->sequence = self->saved_sequence;
        self->inbox_counter = self->saved_inbox_counter;
    }
}

uint64_t
bn_store_next_sequence (bn_store_t *self)
{
    assert (self);
    return self->sequence++;
}

//  Puts an envelope into `queue` and records it as sent-but-queued.
static br_reason_t
s_queue_add (bn_store_t *self, MDB_txn *txn, MDB_dbi queue, const Bruecke__Header *header,
             const uint8_t *data, size_t size)
{
    uint8_t key[8];
    br_put_u64 (key, header->sequence);
    br_reason_t reason = br_store_put (txn, queue, key, sizeof (key), data, size, 0);
    bn_sent_t sent = {.sequence = header->sequence,
                      .state = BN_SENT_QUEUED,
                      .type = (uint8_t) header->type,
                      .updated_ms = header->created_at_ms};
    snprintf (sent.recipient, sizeof (sent.recipient), "%s", header->recipient);
    uint8_t bytes[S_SENT_SIZE];
    s_sent_encode (&sent, bytes);
    if (reason == BR_REASON_OK)
        reason = br_store_put (txn, self->sent, header->message_id.data, header->message_id.len,
                               bytes, sizeof (bytes), 0);
    return reason;
}

br_reason_t
bn_store_outbox_add (bn_store_t *self, MDB_txn *txn, const Bruecke__Header *header,
                     const uint8_t *data, size_t size)
{
    assert (self && txn && header && data);
    return s_queue_add (self, txn, self->outbox, header, data, size);
}

br_reason_t
bn_store_local_add (bn_store_t *self, MDB_txn *txn, const Bruecke__Header *header,
                    const uint8_t *data, size_t size)
{
    assert (self && txn && header && data);
    return s_queue_add (self, txn, self->local, header, data, size);
}

br_reason_t
bn_store_local_first (bn_store_t *self, MDB_txn *txn, uint64_t *sequence, const uint8_t **data,
                      size_t *size)
{
    assert (self && txn && sequence && data && size);
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (txn, self->local, &cursor);
    if (rc != 0)
        return br_store_reason (rc);
    MDB_val key, value;
    rc = mdb_cursor_get (cursor, &key, &value, MDB_FIRST);
    mdb_cursor_close (cursor);
    if (rc == MDB_NOTFOUND)
        return BR_REASON_NOT_FOUND;
    if (rc != 0)
        return br_store_reason (rc);
    if (key.mv_size != 8)
        return BR_REASON_STORE_FAILED;
    *sequence = br_get_u64 ((const uint8_t *) key.mv_data);
    *data = (const uint8_t *) value.mv_data;
    *size = value.mv_size;
    return BR_REASON_OK;
}

br_reason_t
bn_store_local_drop (bn_store_t *self, MDB_txn *txn, uint64_t sequence)
{
    assert (self && txn);
    uint8_t key[8];
    br_put_u64 (key, sequence);
    MDB_val queue_key = {.mv_size = sizeof (key), .mv_data = key};
    int rc = mdb_del (txn, self->local, &queue_key, NULL);
    return rc == 0 || rc == MDB_NOTFOUND ? BR_REASON_OK : br_store_reason (rc);
}

br_reason_t
bn_store_sent_update (bn_store_t *self, MDB_txn *txn, const uint8_t *message_id,
                      bn_sent_state_t state, br_reason_t reason, int64_t now_ms)
{
    assert (self && txn && message_id);
    const void *data;
    size_t size;
    br_reason_t found =
        br_store_get (txn, self->sent, message_id, BR_MESSAGE_ID_SIZE, &data, &size);
    if (found == BR_REASON_NOT_FOUND || (found == BR_REASON_OK && size != S_SENT_SIZE))
        return BR_REASON_OK; //  not ours, or not from this store
    if (found != BR_REASON_OK)
        return found;
    bn_sent_t sent;
    s_sent_decode ((const uint8_t *) data, &sent);
    //  States only move forward: a late ACCEPTED never hides a receipt. A
    //  receipt is the recipient's word that it stored the message, so it
    //  wins over DEAD either way: the broker gave the message up (expired,
    //  consent withdrawn) while it was on its way, and it arrived all the same
    bool forward = state > sent.state;
    if (sent.state == BN_SENT_RECEIPTED && state == BN_SENT_DEAD)
        forward = false;
    else if (sent.state == BN_SENT_DEAD && state == BN_SENT_RECEIPTED)
        forward = true;
    if (!forward)
        return BR_REASON_OK;
    if (sent.state == BN_SENT_QUEUED) {
        //  It waited in the outbox, or in the local queue
        uint8_t key[8];
        br_put_u64 (key, sent.sequence);
        MDB_val queue_key = {.mv_size = sizeof (key), .mv_data = key};
        int rc = mdb_del (txn, self->outbox, &queue_key, NULL);
        if (rc == MDB_NOTFOUND)
            rc = mdb_del (txn, self->local, &queue_key, NULL);
        if (rc != 0 && rc != MDB_NOTFOUND)
            return br_store_reason (rc);
    }
    sent.state = (uint8_t) state;
    sent.reason = (int32_t) reason;
    sent.updated_ms = now_ms;
    uint8_t bytes[S_SENT_SIZE];
    s_sent_encode (&sent, bytes);
    return br_store_put (txn, self->sent, message_id, BR_MESSAGE_ID_SIZE, bytes, sizeof (bytes), 0);
}

//  Iterates a database from `start` (or its first key), calling `each`
//  until it returns false. Runs in its own read transaction.
typedef bool (s_each_fn) (void *argument, MDB_val *key, MDB_val *value);

static void
s_iterate (bn_store_t *self, MDB_dbi dbi, MDB_val *start, s_each_fn *each, void *argument)
{
    MDB_txn *txn = NULL;
    if (br_store_begin (self->store, false, &txn) != BR_REASON_OK)
        return;
    MDB_cursor *cursor;
    if (mdb_cursor_open (txn, dbi, &cursor) == 0) {
        MDB_val key = start ? *start : (MDB_val){0}, value;
        int rc = mdb_cursor_get (cursor, &key, &value, start ? MDB_SET_RANGE : MDB_FIRST);
        while (rc == 0 && each (argument, &key, &value))
            rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT);
        mdb_cursor_close (cursor);
    }
    br_store_abort (&txn);
}

typedef struct {
    bn_outbox_fn *entry; //  the caller's function
    void *argument;      //  its argument
    size_t left;         //  entries still wanted
    size_t count;        //  entries read
} s_outbox_read_t;

static bool
s_outbox_each (void *argument, MDB_val *key, MDB_val *value)
{
    s_outbox_read_t *read = (s_outbox_read_t *) argument;
    if (read->left == 0 || key->mv_size != 8)
        return false;
    read->entry (read->argument, br_get_u64 ((const uint8_t *) key->mv_data),
                 (const uint8_t *) value->mv_data, value->mv_size);
    read->left--;
    read->count++;
    return true;
}

size_t
bn_store_outbox_read (bn_store_t *self, uint64_t after, size_t max, bn_outbox_fn *entry,
                      void *argument)
{
    assert (self && entry);
    uint8_t start_key[8];
    br_put_u64 (start_key, after + 1);
    MDB_val start = {.mv_size = sizeof (start_key), .mv_data = start_key};
    s_outbox_read_t read = {.entry = entry, .argument = argument, .left = max};
    s_iterate (self, self->outbox, &start, s_outbox_each, &read);
    return read.count;
}

bool
bn_store_seen (bn_store_t *self, MDB_txn *txn, const Bruecke__Header *header)
{
    assert (self && txn && header);
    uint8_t key[BR_MESSAGE_KEY_SIZE];
    br_envelope_message_key (header->sender, header->message_id.data, key);
    const void *found;
    size_t found_size;
    return br_store_get (txn, self->applied, key, sizeof (key), &found, &found_size) ==
           BR_REASON_OK;
}

br_store_t *
bn_store_env (bn_store_t *self)
{
    assert (self);
    return self->store;
}

br_reason_t
bn_store_apply (bn_store_t *self, MDB_txn *txn, const Bruecke__Header *header, const uint8_t *data,
                size_t size, int64_t now_ms, bn_apply_t *result)
{
    assert (self && txn && header && data && result);
    uint8_t key[BR_MESSAGE_KEY_SIZE];
    br_envelope_message_key (header->sender, header->message_id.data, key);
    const void *found;
    size_t found_size;
    br_reason_t reason = br_store_get (txn, self->applied, key, sizeof (key), &found, &found_size);
    if (reason == BR_REASON_OK) {
        *result = BN_DUPLICATE;
        return BR_REASON_OK;
    }
    if (reason != BR_REASON_NOT_FOUND)
        return reason;
    uint64_t counter = self->inbox_counter++;
    uint8_t inbox_key[8];
    br_put_u64 (inbox_key, counter);
    MDB_val value = {.mv_size = 8 + size, .mv_data = NULL};
    MDB_val inbox_val = {.mv_size = sizeof (inbox_key), .mv_data = inbox_key};
    int rc = mdb_put (txn, self->inbox, &inbox_val, &value, MDB_RESERVE);
    if (rc != 0)
        return br_store_reason (rc);
    br_put_u64 ((uint8_t *) value.mv_data, (uint64_t) now_ms);
    memcpy ((uint8_t *) value.mv_data + 8, data, size);
    uint8_t applied[S_APPLIED_SIZE];
    br_put_u64 (applied, (uint64_t) header->expires_at_ms);
    br_put_u64 (applied + 8, counter);
    reason = br_store_put (txn, self->applied, key, sizeof (key), applied, sizeof (applied), 0);
    if (reason == BR_REASON_OK)
        *result = BN_APPLIED;
    return reason;
}

br_reason_t
bn_store_purge (bn_store_t *self, MDB_txn *txn, int64_t now_ms)
{
    assert (self && txn);
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (txn, self->applied, &cursor);
    if (rc != 0)
        return br_store_reason (rc);
    MDB_val key, value;
    for (rc = mdb_cursor_get (cursor, &key, &value, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) {
        if (value.mv_size != S_APPLIED_SIZE)
            continue;
        int64_t expires = (int64_t) br_get_u64 ((const uint8_t *) value.mv_data);
        if (expires + BR_CLOCK_SKEW_MS <= now_ms && (rc = mdb_cursor_del (cursor, 0)) != 0)
            break;
    }
    mdb_cursor_close (cursor);
    return rc == MDB_NOTFOUND || rc == 0 ? BR_REASON_OK : br_store_reason (rc);
}

typedef struct {
    bn_inbox_fn *entry; //  the caller's function
    void *argument;     //  its argument
} s_inbox_read_t;

static bool
s_inbox_each (void *argument, MDB_val *key, MDB_val *value)
{
    s_inbox_read_t *read = (s_inbox_read_t *) argument;
    if (key->mv_size == 8 && value->mv_size >= 8) {
        const uint8_t *bytes = (const uint8_t *) value->mv_data;
        read->entry (read->argument, br_get_u64 ((const uint8_t *) key->mv_data),
                     (int64_t) br_get_u64 (bytes), bytes + 8, value->mv_size - 8);
    }
    return true;
}

void
bn_store_inbox_read (bn_store_t *self, bn_inbox_fn *entry, void *argument)
{
    assert (self && entry);
    s_inbox_read_t read = {.entry = entry, .argument = argument};
    s_iterate (self, self->inbox, NULL, s_inbox_each, &read);
}

size_t
bn_store_inbox_read_last (bn_store_t *self, size_t max, bn_inbox_fn *entry, void *argument)
{
    assert (self && entry);
    size_t count = 0;
    MDB_txn *txn = NULL;
    if (br_store_begin (self->store, false, &txn) != BR_REASON_OK)
        return 0;
    MDB_cursor *cursor;
    if (mdb_cursor_open (txn, self->inbox, &cursor) == 0) {
        MDB_val key, value;
        int rc = mdb_cursor_get (cursor, &key, &value, MDB_LAST);
        for (; rc == 0 && count < max; rc = mdb_cursor_get (cursor, &key, &value, MDB_PREV)) {
            if (key.mv_size != 8 || value.mv_size < 8)
                continue;
            const uint8_t *bytes = (const uint8_t *) value.mv_data;
            entry (argument, br_get_u64 ((const uint8_t *) key.mv_data),
                   (int64_t) br_get_u64 (bytes), bytes + 8, value.mv_size - 8);
            count++;
        }
        mdb_cursor_close (cursor);
    }
    br_store_abort (&txn);
    return count;
}

typedef struct {
    bn_sent_fn *entry; //  the caller's function
    void *argument;    //  its argument
} s_sent_read_t;

static bool
s_sent_each (void *argument, MDB_val *key, MDB_val *value)
{
    s_sent_read_t *read = (s_sent_read_t *) argument;
    if (key->mv_size == BR_MESSAGE_ID_SIZE && value->mv_size == S_SENT_SIZE) {
        bn_sent_t sent;
        s_sent_decode ((const uint8_t *) value->mv_data, &sent);
        read->entry (read->argument, (const uint8_t *) key->mv_data, &sent);
    }
    return true;
}

void
bn_store_sent_read (bn_store_t *self, bn_sent_fn *entry, void *argument)
{
    assert (self && entry);
    s_sent_read_t read = {.entry = entry, .argument = argument};
    s_iterate (self, self->sent, NULL, s_sent_each, &read);
}

br_reason_t
bn_store_sent_get (bn_store_t *self, const uint8_t *message_id, bn_sent_t *sent)
{
    assert (self && message_id && sent);
    MDB_txn *txn = NULL;
    br_reason_t reason = br_store_begin (self->store, false, &txn);
    if (reason != BR_REASON_OK)
        return reason;
    const void *data;
    size_t size;
    reason = br_store_get (txn, self->sent, message_id, BR_MESSAGE_ID_SIZE, &data, &size);
    if (reason == BR_REASON_OK && size == S_SENT_SIZE)
        s_sent_decode ((const uint8_t *) data, sent);
    else if (reason == BR_REASON_OK)
        reason = BR_REASON_STORE_FAILED;
    br_store_abort (&txn);
    return reason;
}

size_t
bn_store_outbox_count (bn_store_t *self)
{
    assert (self);
    return br_store_count (self->store, self->outbox);
}

size_t
bn_store_local_count (bn_store_t *self)
{
    assert (self);
    return br_store_count (self->store, self->local);
}

size_t
bn_store_inbox_count (bn_store_t *self)
{
    assert (self);
    return br_store_count (self->store, self->inbox);
}

const char *
bn_sent_state_name (int state)
{
    switch (state) {
        case BN_SENT_QUEUED:
            return "queued";
        case BN_SENT_ACCEPTED:
            return "accepted";
        case BN_SENT_RECEIPTED:
            return "receipted";
        case BN_SENT_REFUSED:
            return "refused";
        case BN_SENT_DEAD:
            return "dead";
        default:
            return "unknown";
    }
}

//  ---- Self test ------------------------------------------------------------

typedef struct {
    uint64_t sequences[8]; //  outbox sequences read
    size_t outbox;         //  outbox entries read
    size_t inbox;          //  inbox entries read
    size_t sent;           //  sent records read
} s_test_seen_t;

static void
s_test_outbox (void *argument, uint64_t sequence, const uint8_t *data, size_t size)
{
    s_test_seen_t *seen = (s_test_seen_t *) argument;
    assert (data && size == 32 && seen->outbox < 8);
    seen->sequences[seen->outbox++] = sequence;
}

static void
s_test_inbox (void *argument, uint64_t counter, int64_t received_ms, const uint8_t *data,
              size_t size)
{
    s_test_seen_t *seen = (s_test_seen_t *) argument;
    assert (counter > 0 && received_ms > 0 && data && size == 32);
    seen->inbox++;
}

static void
s_test_sent (void *argument, const uint8_t *message_id, const bn_sent_t *sent)
{
    s_test_seen_t *seen = (s_test_seen_t *) argument;
    assert (message_id && (streq (sent->recipient, "unna") || streq (sent->recipient, "luenen")));
    seen->sent++;
}

static void
s_test_header (Bruecke__Header *header, uint8_t *id, uint8_t id_byte, const char *sender,
               const char *recipient, uint64_t sequence, int64_t expires)
{
    bruecke__header__init (header);
    memset (id, id_byte, BR_MESSAGE_ID_SIZE);
    header->message_id.data = id;
    header->message_id.len = BR_MESSAGE_ID_SIZE;
    header->sender = (char *) sender;
    header->recipient = (char *) recipient;
    header->type = BRUECKE__MESSAGE_TYPE__TYPE_TEST_NOTE;
    header->sequence = sequence;
    header->created_at_ms = br_now_ms ();
    header->expires_at_ms = expires;
}

void
bn_store_test (bool verbose)
{
    if (verbose)
        printf (" * bn_store: ");
    //  @selftest
    char *path = br_temp_directory ("bn_store_test");
    assert (path);
    br_reason_t reason;
    bn_store_t *store = bn_store_new (path, 0, &reason);
    assert (store && reason == BR_REASON_OK);
    int64_t now = br_now_ms ();
    uint8_t data[32] = {0};
    uint8_t ids[3][BR_MESSAGE_ID_SIZE];
    Bruecke__Header header;

    //  Three messages into the outbox in one commit; an aborted one is not there
    MDB_txn *txn = NULL;
    assert (bn_store_begin (store, &txn) == BR_REASON_OK);
    for (uint8_t index = 0; index < 3; index++) {
        uint64_t sequence = bn_store_next_sequence (store);
        assert (sequence == index + 1u);
        s_test_header (&header, ids[index], (uint8_t) (index + 1), "luenen", "unna", sequence,
                       now + 60000);
        assert (bn_store_outbox_add (store, txn, &header, data, sizeof (data)) == BR_REASON_OK);
    }
    assert (bn_store_commit (store, &txn) == BR_REASON_OK);
    bn_store_abort (store, &txn); //  after a commit: nothing to give back
    assert (bn_store_begin (store, &txn) == BR_REASON_OK);
    assert (bn_store_next_sequence (store) == 4);
    bn_store_abort (store, &txn);
    assert (bn_store_begin (store, &txn) == BR_REASON_OK);
    assert (bn_store_next_sequence (store) == 4); //  the aborted number is free again
    bn_store_abort (store, &txn);
    assert (bn_store_outbox_count (store) == 3);

    s_test_seen_t seen;
    memset (&seen, 0, sizeof (seen));
    assert (bn_store_outbox_read (store, 0, 10, s_test_outbox, &seen) == 3);
    assert (seen.sequences[0] == 1 && seen.sequences[2] == 3);
    memset (&seen, 0, sizeof (seen));
    assert (bn_store_outbox_read (store, 1, 1, s_test_outbox, &seen) == 1);
    assert (seen.sequences[0] == 2);

    //  Accepted leaves the outbox; states only move forward
    bn_sent_t sent;
    assert (bn_store_begin (store, &txn) == BR_REASON_OK);
    assert (bn_store_sent_update (store, txn, ids[0], BN_SENT_ACCEPTED, BR_REASON_OK, now) ==
            BR_REASON_OK);
    assert (bn_store_sent_update (store, txn, ids[0], BN_SENT_RECEIPTED, BR_REASON_OK, now) ==
            BR_REASON_OK);
    assert (bn_store_sent_update (store, txn, ids[0], BN_SENT_ACCEPTED, BR_REASON_OK, now) ==
            BR_REASON_OK);
    //  A receipt wins over DEAD, whichever comes first (ids[1] below)
    assert (bn_store_sent_update (store, txn, ids[0], BN_SENT_DEAD, BR_REASON_EXPIRED, now) ==
            BR_REASON_OK);
    assert (bn_store_sent_update (store, txn, ids[1], BN_SENT_REFUSED,
                                  BR_REASON_ATTESTATION_MISSING, now) == BR_REASON_OK);
    uint8_t unknown[BR_MESSAGE_ID_SIZE] = {9};
    assert (bn_store_sent_update (store, txn, unknown, BN_SENT_ACCEPTED, BR_REASON_OK, now) ==
            BR_REASON_OK);
    assert (bn_store_commit (store, &txn) == BR_REASON_OK);
    assert (bn_store_outbox_count (store) == 1);
    assert (bn_store_sent_get (store, ids[0], &sent) == BR_REASON_OK);
    assert (sent.state == BN_SENT_RECEIPTED && sent.sequence == 1);
    assert (bn_store_sent_get (store, ids[1], &sent) == BR_REASON_OK);
    assert (sent.state == BN_SENT_REFUSED && sent.reason == BR_REASON_ATTESTATION_MISSING);
    assert (bn_store_begin (store, &txn) == BR_REASON_OK);
    assert (bn_store_sent_update (store, txn, ids[1], BN_SENT_DEAD, BR_REASON_CONSENT_WITHDRAWN,
                                  now) == BR_REASON_OK);
    assert (bn_store_sent_update (store, txn, ids[1], BN_SENT_RECEIPTED, BR_REASON_OK, now) ==
            BR_REASON_OK);
    assert (bn_store_commit (store, &txn) == BR_REASON_OK);
    assert (bn_store_sent_get (store, ids[1], &sent) == BR_REASON_OK);
    assert (sent.state == BN_SENT_RECEIPTED && sent.reason == BR_REASON_OK);
    assert (bn_store_sent_get (store, unknown, &sent) == BR_REASON_NOT_FOUND);
    assert (streq (bn_sent_state_name (BN_SENT_RECEIPTED), "receipted"));

    //  The local queue: oldest first, left by its outcome, never in the outbox
    uint8_t local_ids[2][BR_MESSAGE_ID_SIZE];
    assert (bn_store_begin (store, &txn) == BR_REASON_OK);
    for (uint8_t index = 0; index < 2; index++) {
        s_test_header (&header, local_ids[index], (uint8_t) (0x50 + index), "luenen", "luenen",
                       bn_store_next_sequence (store), now + 60000);
        uint8_t local_data[32];
        memset (local_data, 0x50 + index, sizeof (local_data));
        assert (bn_store_local_add (store, txn, &header, local_data, sizeof (local_data)) ==
                BR_REASON_OK);
    }
    assert (bn_store_commit (store, &txn) == BR_REASON_OK);
    assert (bn_store_local_count (store) == 2 && bn_store_outbox_count (store) == 1);
    const uint8_t *first = NULL;
    size_t first_size = 0;
    uint64_t first_sequence = 0;
    assert (bn_store_begin (store, &txn) == BR_REASON_OK);
    assert (bn_store_local_first (store, txn, &first_sequence, &first, &first_size) ==
            BR_REASON_OK);
    assert (first_size == 32 && first[0] == 0x50 && first_sequence == 4);
    assert (bn_store_sent_update (store, txn, local_ids[0], BN_SENT_RECEIPTED, BR_REASON_OK, now) ==
            BR_REASON_OK);
    assert (bn_store_local_first (store, txn, &first_sequence, &first, &first_size) ==
            BR_REASON_OK);
    assert (first[0] == 0x51);
    assert (bn_store_sent_update (store, txn, local_ids[1], BN_SENT_REFUSED,
                                  BR_REASON_CONSENT_EXPIRED, now) == BR_REASON_OK);
    assert (bn_store_local_drop (store, txn, 5) == BR_REASON_OK); //  gone already: fine
    assert (bn_store_local_first (store, txn, &first_sequence, &first, &first_size) ==
            BR_REASON_NOT_FOUND);
    assert (bn_store_commit (store, &txn) == BR_REASON_OK);
    assert (bn_store_local_count (store) == 0 && bn_store_outbox_count (store) == 1);
    assert (bn_store_sent_get (store, local_ids[1], &sent) == BR_REASON_OK);
    assert (sent.state == BN_SENT_REFUSED && streq (sent.recipient, "luenen"));

    //  Applying: once per (sender, id), also across a reopen
    uint8_t in_id[BR_MESSAGE_ID_SIZE];
    s_test_header (&header, in_id, 0x77, "unna", "luenen", 5, now + 60000);
    bn_apply_t result;
    assert (bn_store_begin (store, &txn) == BR_REASON_OK);
    assert (bn_store_apply (store, txn, &header, data, sizeof (data), now, &result) ==
            BR_REASON_OK);
    assert (result == BN_APPLIED);
    assert (bn_store_apply (store, txn, &header, data, sizeof (data), now, &result) ==
            BR_REASON_OK);
    assert (result == BN_DUPLICATE);
    assert (bn_store_commit (store, &txn) == BR_REASON_OK);
    bn_store_destroy (&store);
    bn_store_destroy (&store);
    store = bn_store_new (path, 0, &reason);
    assert (store);
    assert (bn_store_begin (store, &txn) == BR_REASON_OK);
    assert (bn_store_apply (store, txn, &header, data, sizeof (data), now, &result) ==
            BR_REASON_OK);
    assert (result == BN_DUPLICATE);
    assert (bn_store_next_sequence (store) == 6); //  the counter survived (local ones took 4 and 5)
    //  The same id from another sender is another message
    header.sender = "kamen";
    assert (bn_store_apply (store, txn, &header, data, sizeof (data), now, &result) ==
            BR_REASON_OK);
    assert (result == BN_APPLIED);
    assert (bn_store_commit (store, &txn) == BR_REASON_OK);
    assert (bn_store_inbox_count (store) == 2);
    memset (&seen, 0, sizeof (seen));
    bn_store_inbox_read (store, s_test_inbox, &seen);
    assert (seen.inbox == 2);
    //  The last ones, newest first
    seen.inbox = 0;
    assert (bn_store_inbox_read_last (store, 1, s_test_inbox, &seen) == 1 && seen.inbox == 1);
    assert (bn_store_inbox_read_last (store, 10, s_test_inbox, &seen) == 2 && seen.inbox == 3);
    bn_store_sent_read (store, s_test_sent, &seen);
    assert (seen.sent == 5); //  three to unna, two between offices of luenen

    //  Purging forgets ids after expiry plus skew; the inbox stays
    assert (bn_store_begin (store, &txn) == BR_REASON_OK);
    assert (bn_store_purge (store, txn, now + 60000 + BR_CLOCK_SKEW_MS) == BR_REASON_OK);
    header.sender = "unna";
    assert (bn_store_apply (store, txn, &header, data, sizeof (data), now, &result) ==
            BR_REASON_OK);
    assert (result == BN_APPLIED);
    bn_store_abort (store, &txn);
    assert (bn_store_inbox_count (store) == 2);

    bn_store_destroy (&store);
    assert (br_temp_directory_remove (&path));
    //  @end
    if (verbose)
        printf ("OK\n");
}
