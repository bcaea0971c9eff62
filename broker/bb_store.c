/*  =========================================================================
    bb_store - the broker's durable state: queues, message ids, dead letters, log
    =========================================================================
*/

#include "bruecke.h"
#include "bb_store.h"

#define S_COUNTER_SIZE    8
#define S_QUEUE_KEY_SIZE  (BR_NODE_ID_MAX + S_COUNTER_SIZE)
#define S_EXPIRY_KEY_SIZE (8 + S_COUNTER_SIZE)
#define S_RECORD_SIZE     (8 + 8 + BR_DIGEST_SIZE + 1 + 1 + BR_NODE_ID_MAX)
#define S_LOG_LINE_MAX    256

struct _bb_store_t {
    br_store_t *store;      //  the LMDB environment
    MDB_dbi queue;          //  recipient + counter -> envelope
    MDB_dbi ids;            //  sender + id -> record
    MDB_dbi expiry;         //  expires + counter -> sender + id
    MDB_dbi dead;           //  counter -> envelope
    MDB_dbi log;            //  log counter -> line
    MDB_dbi meta;           //  counters
    MDB_dbi withdrawn;      //  consent id + node -> withdrawal time
    uint64_t counter;       //  next arrival counter
    uint64_t log_counter;   //  next log counter
    uint64_t saved_counter; //  counters at begin, restored on abort
    uint64_t saved_log_counter;
    uint64_t own_sequence;       //  last sequence number of the broker's own messages
    uint64_t saved_own_sequence; //  as last written
    zhashx_t *depth;             //  node id -> queued count (size_t *), committed
    zhashx_t *pending;           //  node id -> change (int64_t *) in the open transaction
};

//  ---- Encoding helpers -----------------------------------------------------

static void
s_queue_key (uint8_t key[S_QUEUE_KEY_SIZE], const char *recipient, uint64_t counter)
{
    br_put_node_id (key, recipient);
    br_put_u64 (key + BR_NODE_ID_MAX, counter);
}

static void
s_record_encode (const bb_record_t *record, uint8_t bytes[S_RECORD_SIZE])
{
    br_put_u64 (bytes, record->counter);
    br_put_u64 (bytes + 8, (uint64_t) record->expires_at_ms);
    memcpy (bytes + 16, record->hash, BR_DIGEST_SIZE);
    bytes[16 + BR_DIGEST_SIZE] = record->state;
    bytes[17 + BR_DIGEST_SIZE] = record->type;
    br_put_node_id (bytes + 18 + BR_DIGEST_SIZE, record->recipient);
}

static void
s_record_decode (const uint8_t bytes[S_RECORD_SIZE], bb_record_t *record)
{
    record->counter = br_get_u64 (bytes);
    record->expires_at_ms = (int64_t) br_get_u64 (bytes + 8);
    memcpy (record->hash, bytes + 16, BR_DIGEST_SIZE);
    record->state = bytes[16 + BR_DIGEST_SIZE];
    record->type = bytes[17 + BR_DIGEST_SIZE];
    br_get_node_id (bytes + 18 + BR_DIGEST_SIZE, record->recipient);
}

//  ---- Depth bookkeeping ----------------------------------------------------

static void
s_free_count (void **item)
{
    free (*item);
    *item = NULL;
}

static zhashx_t *
s_count_table_new (void)
{
    zhashx_t *table = zhashx_new ();
    zhashx_set_destructor (table, s_free_count);
    return table;
}

static void
s_depth_change (zhashx_t *table, const char *node_id, int64_t change)
{
    int64_t *value = (int64_t *) zhashx_lookup (table, node_id);
    if (!value) {
        value = (int64_t *) zmalloc (sizeof (int64_t));
        zhashx_insert (table, node_id, value);
    }
    *value += change;
}

//  ---- Construction ---------------------------------------------------------

//  Counts queued messages per recipient, once at start.
static br_reason_t
s_load_depths (bb_store_t *self)
{
    MDB_txn *txn = NULL;
    br_reason_t reason = br_store_begin (self->store, false, &txn);
    if (reason != BR_REASON_OK)
        return reason;
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (txn, self->queue, &cursor);
    MDB_val key, value;
    for (rc = rc ? rc : mdb_cursor_get (cursor, &key, &value, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) {
        char node_id[BR_NODE_ID_MAX + 1];
        br_get_node_id ((const uint8_t *) key.mv_data, node_id);
        s_depth_change (self->depth, node_id, 1);
    }
    mdb_cursor_close (cursor);
    br_store_abort (&txn);
    return rc == MDB_NOTFOUND ? BR_REASON_OK : br_store_reason (rc);
}

bb_store_t *
bb_store_new (const char *path, size_t mapsize, br_reason_t *reason)
{
    br_store_t *store = br_store_new (path, mapsize, reason);
    if (!store)
        return NULL;
    bb_store_t *self = (bb_store_t *) zmalloc (sizeof (bb_store_t));
    self->store = store;
    self->depth = s_count_table_new ();
    self->pending = s_count_table_new ();
    const br_store_db_t dbs[] = {
        {"queue", &self->queue},        {"ids", &self->ids}, {"expiry", &self->expiry},
        {"dead", &self->dead},          {"log", &self->log}, {"meta", &self->meta},
        {"withdrawn", &self->withdrawn}};
    *reason = br_store_open_dbs (store, dbs, (sizeof (dbs) / sizeof (dbs[0])));
    if (*reason == BR_REASON_OK)
        *reason = br_store_counter_get (store, self->meta, "counter", &self->counter);
    if (*reason == BR_REASON_OK)
        *reason = br_store_counter_get (store, self->meta, "log", &self->log_counter);
    //  The broker's own messages number on from where they stopped, or from
    //  the wall clock's milliseconds if that is higher (as a store from
    //  before this counter did): never lower after a restart, whatever the
    //  clock does
    if (*reason == BR_REASON_OK)
        *reason = br_store_counter_get (store, self->meta, "own", &self->own_sequence);
    if (*reason == BR_REASON_OK) {
        if (self->own_sequence < (uint64_t) br_now_ms ())
            self->own_sequence = (uint64_t) br_now_ms ();
        self->saved_own_sequence = 0; //  written with the first commit
    }
    if (*reason == BR_REASON_OK)
        *reason = s_load_depths (self);
    if (*reason != BR_REASON_OK)
        bb_store_destroy (&self);
    return self;
}

void
bb_store_destroy (bb_store_t **self_p)
{
    assert (self_p);
    bb_store_t *self = *self_p;
    if (self) {
        zhashx_destroy (&self->depth);
        zhashx_destroy (&self->pending);
        br_store_destroy (&self->store);
        free (self);
        *self_p = NULL;
    }
}

//  ---- Transactions ---------------------------------------------------------

br_reason_t
bb_store_begin (bb_store_t *self, MDB_txn **txn_p)
{
    assert (self);
    self->saved_counter = self->counter;
    self->saved_log_counter = self->log_counter;
    zhashx_purge (self->pending);
    return br_store_begin (self->store, true, txn_p);
}

//  Writes the counters into the open transaction.
static br_reason_t
s_save_counters (bb_store_t *self, MDB_txn *txn)
{
    br_reason_t reason = br_store_counter_put (txn, self->meta, "counter", self->counter);
    if (reason == BR_REASON_OK)
        reason = br_store_counter_put (txn, self->meta, "log", self->log_counter);
    if (reason == BR_REASON_OK && self->own_sequence != self->saved_own_sequence)
        reason = br_store_counter_put (txn, self->meta, "own", self->own_sequence);
    return reason;
}

br_reason_t
bb_store_commit (bb_store_t *self, MDB_txn **txn_p)
{
    assert (self && txn_p && *txn_p);
    //  Counters are written only when used: a transaction that changed
    //  nothing then commits without touching the disk
    br_reason_t reason = BR_REASON_OK;
    if (self->counter != self->saved_counter || self->log_counter != self->saved_log_counter)
        reason = s_save_counters (self, *txn_p);
    uint64_t own_written = self->own_sequence;
    if (reason != BR_REASON_OK) {
        bb_store_abort (self, txn_p);
        return reason;
    }
    reason = br_store_commit (txn_p);
    if (reason != BR_REASON_OK) {
        self->counter = self->saved_counter;
        self->log_counter = self->saved_log_counter;
        zhashx_purge (self->pending);
        return reason;
    }
    for (int64_t *change = (int64_t *) zhashx_first (self->pending); change;
         change = (int64_t *) zhashx_next (self->pending))
        s_depth_change (self->depth, (const char *) zhashx_cursor (self->pending), *change);
    zhashx_purge (self->pending);
    if (self->counter != self->saved_counter || self->log_counter != self->saved_log_counter)
        self->saved_own_sequence = own_written;
    return BR_REASON_OK;
}

uint64_t
bb_store_own_sequence (bb_store_t *self)
{
    assert (self);
    return ++self->own_sequence;
}

void
bb_store_abort (bb_store_t *self, MDB_txn **txn_p)
{
    assert (self && txn_p);
    if (*txn_p) {
        //  Only an open transaction gives its counters and depths back
        br_store_abort (txn_p);
        self->counter = self->saved_counter;
        self->log_counter = self->saved_log_counter;
        zhashx_purge (self->pending);
    }
}

//  ---- Messages -------------------------------------------------------------

//  Reads the record of message key `key`. Returns OK or NOT_FOUND.
static br_reason_t
s_get_record (bb_store_t *self, MDB_txn *txn, const uint8_t *key, bb_record_t *record)
{
    const void *data;
    size_t size;
    br_reason_t reason = br_store_get (txn, self->ids, key, BR_MESSAGE_KEY_SIZE, &data, &size);
    if (reason == BR_REASON_OK && size != S_RECORD_SIZE)
        reason = BR_REASON_STORE_FAILED;
    if (reason == BR_REASON_OK)
        s_record_decode ((const uint8_t *) data, record);
    return reason;
}

static br_reason_t
s_put_record (bb_store_t *self, MDB_txn *txn, const uint8_t *key, const bb_record_t *record)
{
    uint8_t bytes[S_RECORD_SIZE];
    s_record_encode (record, bytes);
    return br_store_put (txn, self->ids, key, BR_MESSAGE_KEY_SIZE, bytes, sizeof (bytes), 0);
}

bb_id_status_t
bb_store_check_id (bb_store_t *self, MDB_txn *txn, const char *sender, const uint8_t *id,
                   const uint8_t hash[BR_DIGEST_SIZE], bb_record_t *record)
{
    assert (self && txn && sender && id && hash);
    uint8_t key[BR_MESSAGE_KEY_SIZE];
    br_envelope_message_key (sender, id, key);
    bb_record_t found;
    if (s_get_record (self, txn, key, &found) != BR_REASON_OK)
        return BB_ID_NEW;
    if (record)
        *record = found;
    return sodium_memcmp (found.hash, hash, BR_DIGEST_SIZE) == 0 ? BB_ID_DUPLICATE : BB_ID_CONFLICT;
}

//  Records the id of message `header` with `state` under arrival `counter`,
//  and indexes it by expiry, so that the id is forgotten after the replay
//  window (and a queued message dies then).
static br_reason_t
s_record_id (bb_store_t *self, MDB_txn *txn, const Bruecke__Header *header,
             const uint8_t hash[BR_DIGEST_SIZE], uint8_t state, uint64_t counter)
{
    bb_record_t record = {.counter = counter,
                          .expires_at_ms = header->expires_at_ms,
                          .state = state,
                          .type = (uint8_t) header->type};
    memcpy (record.hash, hash, BR_DIGEST_SIZE);
    snprintf (record.recipient, sizeof (record.recipient), "%s", header->recipient);
    uint8_t message_key[BR_MESSAGE_KEY_SIZE];
    br_envelope_message_key (header->sender, header->message_id.data, message_key);
    br_reason_t reason = s_put_record (self, txn, message_key, &record);
    uint8_t expiry_key[S_EXPIRY_KEY_SIZE];
    br_put_u64 (expiry_key, (uint64_t) header->expires_at_ms);
    br_put_u64 (expiry_key + 8, counter);
    if (reason == BR_REASON_OK)
        reason = br_store_put (txn, self->expiry, expiry_key, sizeof (expiry_key), message_key,
                               sizeof (message_key), 0);
    return reason;
}

br_reason_t
bb_store_enqueue (bb_store_t *self, MDB_txn *txn, const Bruecke__Header *header,
                  const uint8_t *data, size_t size, const uint8_t hash[BR_DIGEST_SIZE])
{
    assert (self && txn && header && data);
    assert (header->message_id.len == BR_MESSAGE_ID_SIZE && *header->recipient);
    uint64_t counter = self->counter++;
    uint8_t queue_key[S_QUEUE_KEY_SIZE];
    s_queue_key (queue_key, header->recipient, counter);
    br_reason_t reason =
        br_store_put (txn, self->queue, queue_key, sizeof (queue_key), data, size, 0);
    if (reason == BR_REASON_OK)
        reason = s_record_id (self, txn, header, hash, BB_STATE_QUEUED, counter);
    if (reason == BR_REASON_OK)
        s_depth_change (self->pending, header->recipient, 1);
    return reason;
}

br_reason_t
bb_store_record_done (bb_store_t *self, MDB_txn *txn, const Bruecke__Header *header,
                      const uint8_t hash[BR_DIGEST_SIZE])
{
    assert (self && txn && header && hash);
    assert (header->message_id.len == BR_MESSAGE_ID_SIZE);
    return s_record_id (self, txn, header, hash, BB_STATE_DONE, self->counter++);
}

br_store_t *
bb_store_env (bb_store_t *self)
{
    assert (self);
    return self->store;
}

//  Deletes the queue entry of `record`. A missing entry is no error. If
//  `envelope_p` is not NULL, the entry must exist, and a copy of its bytes
//  is returned there, for the caller: LMDB's own pointer to them is no
//  longer valid once the entry is deleted.
static br_reason_t
s_unqueue (bb_store_t *self, MDB_txn *txn, const bb_record_t *record, zchunk_t **envelope_p)
{
    uint8_t queue_key[S_QUEUE_KEY_SIZE];
    s_queue_key (queue_key, record->recipient, record->counter);
    MDB_val key = {.mv_size = sizeof (queue_key), .mv_data = queue_key};
    if (envelope_p) {
        MDB_val envelope;
        int rc = mdb_get (txn, self->queue, &key, &envelope);
        if (rc != 0)
            return br_store_reason (rc);
        *envelope_p = zchunk_new (envelope.mv_data, envelope.mv_size);
    }
    int rc = mdb_del (txn, self->queue, &key, NULL);
    if (rc == MDB_NOTFOUND)
        return BR_REASON_OK;
    if (rc == 0)
        s_depth_change (self->pending, record->recipient, -1);
    return br_store_reason (rc);
}

br_reason_t
bb_store_complete (bb_store_t *self, MDB_txn *txn, const char *recipient, const char *sender,
                   const uint8_t *id, bb_record_t *record, bb_answered_t *answered)
{
    assert (self && txn && recipient && sender && id && record && answered);
    *answered = BB_ANSWER_AGAIN;
    uint8_t key[BR_MESSAGE_KEY_SIZE];
    br_envelope_message_key (sender, id, key);
    br_reason_t reason = s_get_record (self, txn, key, record);
    if (reason != BR_REASON_OK)
        return reason;
    if (!streq (record->recipient, recipient))
        return BR_REASON_FORBIDDEN;
    if (record->state == BB_STATE_DONE)
        return BR_REASON_OK;
    bool dead = record->state == BB_STATE_DEAD;
    if (dead) {
        uint8_t dead_key[S_COUNTER_SIZE];
        br_put_u64 (dead_key, record->counter);
        MDB_val dead_value = {.mv_size = sizeof (dead_key), .mv_data = dead_key};
        int rc = mdb_del (txn, self->dead, &dead_value, NULL);
        reason = rc == 0 || rc == MDB_NOTFOUND ? BR_REASON_OK : br_store_reason (rc);
    } else
        reason = s_unqueue (self, txn, record, NULL);
    if (reason == BR_REASON_OK) {
        record->state = BB_STATE_DONE;
        reason = s_put_record (self, txn, key, record);
    }
    if (reason == BR_REASON_OK)
        *answered = dead ? BB_ANSWER_AFTER_DEATH : BB_ANSWER_FIRST;
    return reason;
}

//  Moves the queued message of `record` (keyed `message_key`) to the dead
//  letters and marks it dead.
static br_reason_t
s_bury (bb_store_t *self, MDB_txn *txn, const uint8_t *message_key, bb_record_t *record)
{
    zchunk_t *envelope = NULL;
    br_reason_t reason = s_unqueue (self, txn, record, &envelope);
    if (reason == BR_REASON_OK) {
        uint8_t dead_key[S_COUNTER_SIZE];
        br_put_u64 (dead_key, record->counter);
        reason = br_store_put (txn, self->dead, dead_key, sizeof (dead_key), zchunk_data (envelope),
                               zchunk_size (envelope), 0);
    }
    zchunk_destroy (&envelope);
    record->state = BB_STATE_DEAD;
    if (reason == BR_REASON_OK)
        reason = s_put_record (self, txn, message_key, record);
    return reason;
}

br_reason_t
bb_store_drop (bb_store_t *self, MDB_txn *txn, const char *sender, const uint8_t *id,
               bb_record_t *record)
{
    assert (self && txn && sender && id && record);
    uint8_t key[BR_MESSAGE_KEY_SIZE];
    br_envelope_message_key (sender, id, key);
    br_reason_t reason = s_get_record (self, txn, key, record);
    if (reason == BR_REASON_OK && record->state != BB_STATE_QUEUED)
        reason = BR_REASON_NOT_FOUND;
    if (reason == BR_REASON_OK)
        reason = s_bury (self, txn, key, record);
    return reason;
}

//  Key of a withdrawal: consent id, then the node it was withdrawn for.
static void
s_withdrawn_key (uint8_t key[BR_CONSENT_ID_SIZE + BR_NODE_ID_MAX], const uint8_t *consent_id,
                 const char *node_id)
{
    memcpy (key, consent_id, BR_CONSENT_ID_SIZE);
    br_put_node_id (key + BR_CONSENT_ID_SIZE, node_id);
}

br_reason_t
bb_store_withdraw (bb_store_t *self, MDB_txn *txn, const uint8_t *consent_id, const char *node_id,
                   int64_t at_ms)
{
    assert (self && txn && consent_id && node_id);
    uint8_t key[BR_CONSENT_ID_SIZE + BR_NODE_ID_MAX];
    s_withdrawn_key (key, consent_id, node_id);
    uint8_t value[8];
    br_put_u64 (value, (uint64_t) at_ms);
    return br_store_put (txn, self->withdrawn, key, sizeof (key), value, sizeof (value), 0);
}

bool
bb_store_withdrawn (bb_store_t *self, MDB_txn *txn, const uint8_t *consent_id, const char *node_id)
{
    assert (self && txn && consent_id && node_id);
    uint8_t key[BR_CONSENT_ID_SIZE + BR_NODE_ID_MAX];
    s_withdrawn_key (key, consent_id, node_id);
    const void *found;
    size_t size;
    return br_store_get (txn, self->withdrawn, key, sizeof (key), &found, &size) == BR_REASON_OK;
}

br_reason_t
bb_store_expire (bb_store_t *self, MDB_txn *txn, int64_t now_ms, bb_expired_fn *expired,
                 void *argument)
{
    assert (self && txn);
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (txn, self->expiry, &cursor);
    if (rc != 0)
        return br_store_reason (rc);
    br_reason_t reason = BR_REASON_OK;
    MDB_val key, value;
    for (rc = mdb_cursor_get (cursor, &key, &value, MDB_FIRST); rc == 0 && reason == BR_REASON_OK;
         rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) {
        if (key.mv_size != S_EXPIRY_KEY_SIZE || value.mv_size != BR_MESSAGE_KEY_SIZE) {
            reason = BR_REASON_STORE_FAILED;
            break;
        }
        int64_t expires = (int64_t) br_get_u64 ((const uint8_t *) key.mv_data);
        if (expires > now_ms)
            break; //  the index is in expiry order
        uint8_t message_key[BR_MESSAGE_KEY_SIZE];
        memcpy (message_key, value.mv_data, sizeof (message_key));
        bb_record_t record;
        if (s_get_record (self, txn, message_key, &record) != BR_REASON_OK) {
            rc = mdb_cursor_del (cursor, 0); //  index entry without record
            reason = br_store_reason (rc);
            continue;
        }
        if (record.state == BB_STATE_QUEUED) {
            reason = s_bury (self, txn, message_key, &record);
            if (reason == BR_REASON_OK && expired) {
                char sender[BR_NODE_ID_MAX + 1];
                br_get_node_id (message_key, sender);
                expired (argument, sender, message_key + BR_NODE_ID_MAX, &record);
            }
        }
        if (reason == BR_REASON_OK && expires + BR_CLOCK_SKEW_MS <= now_ms) {
            //  Past the replay window: forget the id and its index entry
            MDB_val id_key = {.mv_size = sizeof (message_key), .mv_data = message_key};
            rc = mdb_del (txn, self->ids, &id_key, NULL);
            if (rc == 0)
                rc = mdb_cursor_del (cursor, 0);
            reason = br_store_reason (rc);
        }
    }
    mdb_cursor_close (cursor);
    return reason;
}

//  A log record: time (8), message id (16), type (1), outcome (1), then
//  sender, recipient and service, each as a length byte and its text.
#define S_LOG_RECORD_MAX (8 + BR_MESSAGE_ID_SIZE + 2 + 3 + 2 * BR_NODE_ID_MAX + BR_SERVICE_MAX)

static size_t
s_log_put_text (uint8_t *record, size_t offset, const char *text, size_t max)
{
    size_t length = strnlen (text, max);
    record[offset] = (uint8_t) length;
    memcpy (record + offset + 1, text, length);
    return offset + 1 + length;
}

br_reason_t
bb_store_log (bb_store_t *self, MDB_txn *txn, const Bruecke__Header *header, br_reason_t outcome,
              int64_t now_ms)
{
    assert (self && txn && header);
    uint8_t record[S_LOG_RECORD_MAX] = {0};
    br_put_u64 (record, (uint64_t) now_ms);
    if (header->message_id.len == BR_MESSAGE_ID_SIZE)
        memcpy (record + 8, header->message_id.data, BR_MESSAGE_ID_SIZE);
    record[8 + BR_MESSAGE_ID_SIZE] = (uint8_t) header->type;
    record[9 + BR_MESSAGE_ID_SIZE] = (uint8_t) outcome;
    size_t offset = 10 + BR_MESSAGE_ID_SIZE;
    offset = s_log_put_text (record, offset, header->sender, BR_NODE_ID_MAX);
    offset = s_log_put_text (record, offset, header->recipient, BR_NODE_ID_MAX);
    offset = s_log_put_text (record, offset, header->service, BR_SERVICE_MAX);
    uint8_t key[S_COUNTER_SIZE];
    br_put_u64 (key, self->log_counter++);
    //  Keys only grow: appending skips the search
    return br_store_put (txn, self->log, key, sizeof (key), record, offset, MDB_APPEND);
}

//  Formats a log record as a line; false if it is not one.
static bool
s_log_format (const uint8_t *record, size_t size, char *line, size_t line_size)
{
    if (size < 10 + BR_MESSAGE_ID_SIZE + 3)
        return false;
    char texts[3][BR_SERVICE_MAX + 1];
    size_t offset = 10 + BR_MESSAGE_ID_SIZE;
    for (int index = 0; index < 3; index++) {
        size_t length = offset < size ? record[offset] : 0;
        if (offset + 1 + length > size || length > BR_SERVICE_MAX)
            return false;
        memcpy (texts[index], record + offset + 1, length);
        texts[index][length] = '\0';
        offset += 1 + length;
    }
    char when[BR_TIME_TEXT_SIZE], id[2 * BR_MESSAGE_ID_SIZE + 1];
    br_time_format ((int64_t) br_get_u64 (record), when);
    br_hex_encode (record + 8, BR_MESSAGE_ID_SIZE, id);
    br_reason_t outcome = (br_reason_t) record[9 + BR_MESSAGE_ID_SIZE];
    snprintf (line, line_size, "%s %s %s -> %s/%s %s %s", when, id, texts[0],
              *texts[1] ? texts[1] : "-", *texts[2] ? texts[2] : "-",
              br_message_type_name (record[8 + BR_MESSAGE_ID_SIZE]),
              outcome == BR_REASON_OK ? "stored" : br_reason_name (outcome));
    return true;
}

//  ---- Reading --------------------------------------------------------------

size_t
bb_store_read_queue (bb_store_t *self, MDB_txn *txn, const char *recipient, uint64_t after,
                     size_t max, bb_queued_fn *queued, void *argument)
{
    assert (self && recipient && queued);
    MDB_txn *own = NULL;
    if (max == 0 || (!txn && br_store_begin (self->store, false, &own) != BR_REASON_OK))
        return 0;
    MDB_cursor *cursor;
    size_t count = 0;
    if (mdb_cursor_open (txn ? txn : own, self->queue, &cursor) == 0) {
        uint8_t start[S_QUEUE_KEY_SIZE];
        s_queue_key (start, recipient, after + 1);
        MDB_val key = {.mv_size = sizeof (start), .mv_data = start}, value;
        for (int rc = mdb_cursor_get (cursor, &key, &value, MDB_SET_RANGE); rc == 0 && count < max;
             rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) {
            if (key.mv_size != S_QUEUE_KEY_SIZE || memcmp (key.mv_data, start, BR_NODE_ID_MAX) != 0)
                break; //  the next recipient's queue
            queued (argument, br_get_u64 ((const uint8_t *) key.mv_data + BR_NODE_ID_MAX),
                    (const uint8_t *) value.mv_data, value.mv_size);
            count++;
        }
        mdb_cursor_close (cursor);
    }
    br_store_abort (&own);
    return count;
}

size_t
bb_store_depth (bb_store_t *self, const char *recipient)
{
    assert (self && recipient);
    int64_t *value = (int64_t *) zhashx_lookup (self->depth, recipient);
    return value && *value > 0 ? (size_t) *value : 0;
}

size_t
bb_store_dead_count (bb_store_t *self)
{
    assert (self);
    return br_store_count (self->store, self->dead);
}

void
bb_store_read_log (bb_store_t *self, void (*line) (void *argument, const char *text),
                   void *argument)
{
    assert (self && line);
    MDB_txn *txn = NULL;
    if (br_store_begin (self->store, false, &txn) != BR_REASON_OK)
        return;
    MDB_cursor *cursor;
    if (mdb_cursor_open (txn, self->log, &cursor) == 0) {
        MDB_val key, value;
        for (int rc = mdb_cursor_get (cursor, &key, &value, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) {
            char text[S_LOG_LINE_MAX];
            if (s_log_format ((const uint8_t *) value.mv_data, value.mv_size, text, sizeof (text)))
                line (argument, text);
        }
        mdb_cursor_close (cursor);
    }
    br_store_abort (&txn);
}

//  ---- Self test ------------------------------------------------------------

//  Collects what bb_store_read_queue and the expiry callback report.
typedef struct {
    uint64_t counters[16];                   //  arrival counters read
    size_t sizes[16];                        //  envelope sizes read
    size_t count;                            //  entries read
    char expired_sender[BR_NODE_ID_MAX + 1]; //  last expired message's sender
    size_t expired;                          //  messages expired
    size_t lines;                            //  log lines read
} s_test_seen_t;

static void
s_test_queued (void *argument, uint64_t counter, const uint8_t *data, size_t size)
{
    s_test_seen_t *seen = (s_test_seen_t *) argument;
    assert (data && seen->count < 16);
    seen->counters[seen->count] = counter;
    seen->sizes[seen->count++] = size;
}

static void
s_test_expired (void *argument, const char *sender, const uint8_t *message_id,
                const bb_record_t *record)
{
    s_test_seen_t *seen = (s_test_seen_t *) argument;
    assert (message_id && record->state == BB_STATE_DEAD);
    snprintf (seen->expired_sender, sizeof (seen->expired_sender), "%s", sender);
    seen->expired++;
}

static void
s_test_line (void *argument, const char *text)
{
    s_test_seen_t *seen = (s_test_seen_t *) argument;
    assert (strstr (text, "TEST_NOTE") && strstr (text, " stored") && strstr (text, " -> unna/"));
    seen->lines++;
}

//  Queues a message of `size` bytes from `sender` to `recipient`.
static void
s_test_enqueue (bb_store_t *store, MDB_txn *txn, const char *sender, const char *recipient,
                uint8_t id_byte, int64_t expires, size_t size)
{
    uint8_t id[BR_MESSAGE_ID_SIZE];
    memset (id, id_byte, sizeof (id));
    Bruecke__Header header = BRUECKE__HEADER__INIT;
    header.message_id.data = id;
    header.message_id.len = sizeof (id);
    header.sender = (char *) sender;
    header.recipient = (char *) recipient;
    header.service = "fruehe-hilfen";
    header.type = BRUECKE__MESSAGE_TYPE__TYPE_TEST_NOTE;
    header.expires_at_ms = expires;
    uint8_t data[64], hash[BR_DIGEST_SIZE];
    memset (data, id_byte, sizeof (data));
    br_envelope_digest (data, size, hash);
    assert (bb_store_check_id (store, txn, sender, id, hash, NULL) == BB_ID_NEW);
    assert (bb_store_enqueue (store, txn, &header, data, size, hash) == BR_REASON_OK);
    assert (bb_store_check_id (store, txn, sender, id, hash, NULL) == BB_ID_DUPLICATE);
    hash[0] ^= 1;
    assert (bb_store_check_id (store, txn, sender, id, hash, NULL) == BB_ID_CONFLICT);
    assert (bb_store_log (store, txn, &header, BR_REASON_OK, 0) == BR_REASON_OK);
}

void
bb_store_test (bool verbose)
{
    if (verbose)
        printf (" * bb_store: ");
    //  @selftest
    char *path = br_temp_directory ("bb_store_test");
    assert (path);
    br_reason_t reason;
    bb_store_t *store = bb_store_new (path, 0, &reason);
    assert (store && reason == BR_REASON_OK);
    int64_t now = br_now_ms ();

    //  Group commit: three messages in one transaction
    MDB_txn *txn = NULL;
    assert (bb_store_begin (store, &txn) == BR_REASON_OK);
    s_test_enqueue (store, txn, "luenen", "unna", 1, now + 3600000, 10);
    s_test_enqueue (store, txn, "luenen", "unna", 2, now + 1000, 20);
    s_test_enqueue (store, txn, "kamen", "unna", 3, now + 3600000, 30);
    assert (bb_store_depth (store, "unna") == 0); //  not yet committed
    assert (bb_store_commit (store, &txn) == BR_REASON_OK);
    assert (txn == NULL);
    assert (bb_store_depth (store, "unna") == 3);
    assert (bb_store_depth (store, "luenen") == 0);

    //  An aborted transaction changes nothing
    assert (bb_store_begin (store, &txn) == BR_REASON_OK);
    s_test_enqueue (store, txn, "luenen", "kamen", 9, now + 3600000, 10);
    bb_store_abort (store, &txn);
    assert (bb_store_depth (store, "kamen") == 0);
    s_test_seen_t seen;
    memset (&seen, 0, sizeof (seen));
    assert (bb_store_read_queue (store, NULL, "kamen", 0, 10, s_test_queued, &seen) == 0);

    //  Reading in arrival order, after a cursor, up to a maximum
    assert (bb_store_read_queue (store, NULL, "unna", 0, 10, s_test_queued, &seen) == 3);
    assert (seen.sizes[0] == 10 && seen.sizes[1] == 20 && seen.sizes[2] == 30);
    assert (seen.counters[0] < seen.counters[1] && seen.counters[1] < seen.counters[2]);
    uint64_t first = seen.counters[0];
    memset (&seen, 0, sizeof (seen));
    assert (bb_store_read_queue (store, NULL, "unna", first, 1, s_test_queued, &seen) == 1);
    assert (seen.sizes[0] == 20);

    //  Completing: only the recipient may, once
    uint8_t id[BR_MESSAGE_ID_SIZE];
    memset (id, 1, sizeof (id));
    bb_record_t record;
    bb_answered_t answered;
    assert (bb_store_begin (store, &txn) == BR_REASON_OK);
    assert (bb_store_complete (store, txn, "kamen", "luenen", id, &record, &answered) ==
            BR_REASON_FORBIDDEN);
    assert (bb_store_complete (store, txn, "unna", "luenen", id, &record, &answered) ==
            BR_REASON_OK);
    assert (answered == BB_ANSWER_FIRST && record.state == BB_STATE_DONE);
    assert (bb_store_complete (store, txn, "unna", "luenen", id, &record, &answered) ==
            BR_REASON_OK);
    assert (answered == BB_ANSWER_AGAIN);
    memset (id, 7, sizeof (id));
    assert (bb_store_complete (store, txn, "unna", "luenen", id, &record, &answered) ==
            BR_REASON_NOT_FOUND);
    assert (bb_store_commit (store, &txn) == BR_REASON_OK);
    assert (bb_store_depth (store, "unna") == 2);

    //  Reopening keeps queues, depths and counters
    bb_store_destroy (&store);
    bb_store_destroy (&store);
    store = bb_store_new (path, 0, &reason);
    assert (store && bb_store_depth (store, "unna") == 2);
    assert (bb_store_begin (store, &txn) == BR_REASON_OK);
    s_test_enqueue (store, txn, "luenen", "unna", 4, now + 3600000, 40);
    assert (bb_store_commit (store, &txn) == BR_REASON_OK);
    memset (&seen, 0, sizeof (seen));
    assert (bb_store_read_queue (store, NULL, "unna", 0, 10, s_test_queued, &seen) == 3);
    assert (seen.counters[2] > seen.counters[1] && seen.sizes[2] == 40);

    //  Expiry: message 2 expires and becomes a dead letter; its id is
    //  remembered through the replay window, then forgotten
    assert (bb_store_begin (store, &txn) == BR_REASON_OK);
    assert (bb_store_expire (store, txn, now + 2000, s_test_expired, &seen) == BR_REASON_OK);
    assert (bb_store_commit (store, &txn) == BR_REASON_OK);
    assert (seen.expired == 1 && streq (seen.expired_sender, "luenen"));
    assert (bb_store_depth (store, "unna") == 2);
    assert (bb_store_dead_count (store) == 1);
    memset (id, 2, sizeof (id));
    uint8_t hash[BR_DIGEST_SIZE] = {0};
    assert (bb_store_begin (store, &txn) == BR_REASON_OK);
    assert (bb_store_check_id (store, txn, "luenen", id, hash, &record) == BB_ID_CONFLICT);
    assert (record.state == BB_STATE_DEAD);
    assert (bb_store_expire (store, txn, now + 1000 + BR_CLOCK_SKEW_MS, s_test_expired, &seen) ==
            BR_REASON_OK);
    assert (seen.expired == 1);
    assert (bb_store_check_id (store, txn, "luenen", id, hash, &record) == BB_ID_NEW);
    assert (bb_store_commit (store, &txn) == BR_REASON_OK);

    //  The metadata log holds one line per logged message, no payload
    bb_store_read_log (store, s_test_line, &seen);
    assert (seen.lines == 4);

    //  Dropping a queued message (a withdrawn consent): it becomes a dead
    //  letter, within the transaction that queued it too
    uint8_t consent[BR_CONSENT_ID_SIZE];
    memset (consent, 9, sizeof (consent));
    assert (bb_store_begin (store, &txn) == BR_REASON_OK);
    s_test_enqueue (store, txn, "luenen", "kamen", 5, now + 3600000, 50);
    memset (&seen, 0, sizeof (seen));
    assert (bb_store_read_queue (store, txn, "kamen", 0, 10, s_test_queued, &seen) == 1);
    assert (bb_store_read_queue (store, NULL, "kamen", 0, 10, s_test_queued, &seen) == 0);
    memset (id, 5, sizeof (id));
    assert (bb_store_drop (store, txn, "luenen", id, &record) == BR_REASON_OK);
    assert (record.state == BB_STATE_DEAD && streq (record.recipient, "kamen"));
    assert (bb_store_drop (store, txn, "luenen", id, &record) == BR_REASON_NOT_FOUND);
    assert (!bb_store_withdrawn (store, txn, consent, "kamen"));
    assert (bb_store_withdraw (store, txn, consent, "kamen", now) == BR_REASON_OK);
    assert (bb_store_withdrawn (store, txn, consent, "kamen"));
    assert (!bb_store_withdrawn (store, txn, consent, "unna"));
    assert (bb_store_commit (store, &txn) == BR_REASON_OK);
    assert (bb_store_depth (store, "kamen") == 0);
    assert (bb_store_dead_count (store) == 2);
    assert (bb_store_begin (store, &txn) == BR_REASON_OK);
    assert (bb_store_withdrawn (store, txn, consent, "kamen")); //  durable
    //  ... but kamen had it already (it was on its way) and receipts it: it
    //  was delivered after all, and is no dead letter
    assert (bb_store_complete (store, txn, "kamen", "luenen", id, &record, &answered) ==
            BR_REASON_OK);
    assert (answered == BB_ANSWER_AFTER_DEATH && record.state == BB_STATE_DONE);
    assert (bb_store_complete (store, txn, "kamen", "luenen", id, &record, &answered) ==
            BR_REASON_OK);
    assert (answered == BB_ANSWER_AGAIN);
    assert (bb_store_commit (store, &txn) == BR_REASON_OK);
    assert (bb_store_dead_count (store) == 1);

    bb_store_destroy (&store);
    assert (br_temp_directory_remove (&path));
    //  @end
    if (verbose)
        printf ("OK\n");
}
