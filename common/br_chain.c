/*  =========================================================================
    br_chain - a hash-chained, append-only log in LMDB
    =========================================================================
*/

#include "br_chain.h"
#include "br_util.h"

#define S_OFFSET_SEQUENCE 1
#define S_OFFSET_TIME     (S_OFFSET_SEQUENCE + BR_CHAIN_SEQUENCE_SIZE)
#define S_OFFSET_PREV     (S_OFFSET_TIME + 8)
#define S_NAME_MAX        31

struct _br_chain_t {
    br_store_t *store;         //  the environment, the caller's
    MDB_dbi records;           //  sequence -> record
    MDB_dbi heads;             //  "head" -> sequence + hash of the last record
    uint8_t format;            //  the records' first byte
    char name[S_NAME_MAX + 1]; //  for the log
};

br_chain_t *
br_chain_new (br_store_t *store, const char *records, const char *heads, uint8_t format,
              const char *name, br_reason_t *reason)
{
    assert (store && records && heads && name && reason);
    br_chain_t *self = (br_chain_t *) zmalloc (sizeof (br_chain_t));
    self->store = store;
    const br_store_db_t dbs[] = {{records, &self->records}, {heads, &self->heads}};
    *reason = br_store_open_dbs (store, dbs, sizeof (dbs) / sizeof (dbs[0]));
    if (*reason != BR_REASON_OK) {
        free (self);
        return NULL;
    }
    self->format = format;
    snprintf (self->name, sizeof (self->name), "%s", name);
    return self;
}

void
br_chain_destroy (br_chain_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

static void
s_hash (const uint8_t *data, size_t size, uint8_t hash[BR_CHAIN_HASH_SIZE])
{
    int rc = crypto_generichash (hash, BR_CHAIN_HASH_SIZE, data, size, NULL, 0);
    assert (rc == 0);
}

MDB_dbi
br_chain_records (br_chain_t *self)
{
    assert (self);
    return self->records;
}

MDB_dbi
br_chain_heads (br_chain_t *self)
{
    assert (self);
    return self->heads;
}

br_reason_t
br_chain_get (br_chain_t *self, MDB_txn *txn, uint64_t sequence, const void **data, size_t *size)
{
    assert (self && txn && data && size);
    uint8_t key[BR_CHAIN_SEQUENCE_SIZE];
    br_put_u64 (key, sequence);
    return br_store_get (txn, self->records, key, sizeof (key), data, size);
}

bool
br_chain_parse (uint8_t format, const uint8_t *data, size_t size, br_chain_record_t *record)
{
    assert (record);
    memset (record, 0, sizeof (*record));
    if (!data || size < BR_CHAIN_OVERHEAD || data[0] != format)
        return false;
    record->sequence = br_get_u64 (data + S_OFFSET_SEQUENCE);
    record->time_ms = (int64_t) br_get_u64 (data + S_OFFSET_TIME);
    record->prev = data + S_OFFSET_PREV;
    record->payload = data + BR_CHAIN_OFFSET_PAYLOAD;
    record->payload_size = size - BR_CHAIN_OVERHEAD;
    record->hash = data + size - BR_CHAIN_HASH_SIZE;
    return true;
}

bool
br_chain_hash_valid (const uint8_t *data, size_t size)
{
    if (!data || size < BR_CHAIN_HASH_SIZE)
        return false;
    uint8_t hash[BR_CHAIN_HASH_SIZE];
    s_hash (data, size - BR_CHAIN_HASH_SIZE, hash);
    return sodium_memcmp (hash, data + size - BR_CHAIN_HASH_SIZE, BR_CHAIN_HASH_SIZE) == 0;
}

br_reason_t
br_chain_head (br_chain_t *self, MDB_txn *txn, uint64_t *sequence, uint8_t hash[BR_CHAIN_HASH_SIZE])
{
    assert (self && txn && sequence && hash);
    const void *value;
    size_t size;
    br_reason_t reason = br_store_get (txn, self->heads, BR_CHAIN_HEAD_KEY,
                                       strlen (BR_CHAIN_HEAD_KEY), &value, &size);
    if (reason != BR_REASON_OK)
        return reason;
    if (size != BR_CHAIN_HEAD_SIZE)
        return BR_REASON_AUDIT_BROKEN;
    *sequence = br_get_u64 ((const uint8_t *) value);
    memcpy (hash, (const uint8_t *) value + BR_CHAIN_SEQUENCE_SIZE, BR_CHAIN_HASH_SIZE);
    return BR_REASON_OK;
}

br_reason_t
br_chain_last (br_chain_t *self, MDB_txn *txn, uint64_t *sequence, uint8_t hash[BR_CHAIN_HASH_SIZE])
{
    br_reason_t reason = br_chain_head (self, txn, sequence, hash);
    if (reason == BR_REASON_NOT_FOUND) {
        *sequence = 0;
        memset (hash, 0, BR_CHAIN_HASH_SIZE);
        reason = BR_REASON_OK;
    }
    return reason;
}

br_reason_t
br_chain_current (br_chain_t *self, uint64_t *sequence, uint8_t hash[BR_CHAIN_HASH_SIZE])
{
    assert (self && sequence && hash);
    MDB_txn *txn = NULL;
    br_reason_t reason = br_store_begin (self->store, false, &txn);
    if (reason == BR_REASON_OK)
        reason = br_chain_last (self, txn, sequence, hash);
    br_store_abort (&txn);
    if (reason != BR_REASON_OK) {
        *sequence = 0;
        memset (hash, 0, BR_CHAIN_HASH_SIZE);
    }
    return reason;
}

size_t
br_chain_seal (uint8_t format, uint64_t sequence, int64_t time_ms,
               const uint8_t prev[BR_CHAIN_HASH_SIZE], const uint8_t *payload, size_t size,
               uint8_t *data)
{
    assert (prev && (payload || size == 0) && data);
    data[0] = format;
    br_put_u64 (data + S_OFFSET_SEQUENCE, sequence);
    br_put_u64 (data + S_OFFSET_TIME, (uint64_t) time_ms);
    memcpy (data + S_OFFSET_PREV, prev, BR_CHAIN_HASH_SIZE);
    if (size)
        memmove (data + BR_CHAIN_OFFSET_PAYLOAD, payload, size);
    size_t body = BR_CHAIN_OFFSET_PAYLOAD + size;
    s_hash (data, body, data + body);
    return body + BR_CHAIN_HASH_SIZE;
}

br_reason_t
br_chain_put (br_chain_t *self, MDB_txn *txn, const uint8_t *data, size_t size)
{
    assert (self && txn && data && size >= BR_CHAIN_OVERHEAD);
    uint8_t key[BR_CHAIN_SEQUENCE_SIZE];
    memcpy (key, data + S_OFFSET_SEQUENCE, sizeof (key));
    MDB_val key_val = {.mv_size = sizeof (key), .mv_data = key};
    MDB_val record_val = {.mv_size = size, .mv_data = (void *) data};
    int rc = mdb_put (txn, self->records, &key_val, &record_val, MDB_NOOVERWRITE | MDB_APPEND);
    if (rc == MDB_KEYEXIST) {
        zsys_error ("%s: head at %llu lags behind the records: log tampered with", self->name,
                    (unsigned long long) br_get_u64 (key) - 1);
        return BR_REASON_AUDIT_BROKEN;
    }
    if (rc != MDB_SUCCESS)
        return br_store_reason (rc);
    uint8_t head[BR_CHAIN_HEAD_SIZE];
    memcpy (head, key, sizeof (key));
    memcpy (head + BR_CHAIN_SEQUENCE_SIZE, data + size - BR_CHAIN_HASH_SIZE, BR_CHAIN_HASH_SIZE);
    return br_store_put (txn, self->heads, BR_CHAIN_HEAD_KEY, strlen (BR_CHAIN_HEAD_KEY), head,
                         sizeof (head), 0);
}

//  br_chain_verify in `txn`.
static br_reason_t
s_verify (br_chain_t *self, MDB_txn *txn, br_chain_parse_fn *parse, br_chain_check_fn *check,
          void *argument, uint64_t *checked, uint64_t *first_bad, const char **problem)
{
    uint64_t head_sequence = 0;
    uint8_t head_hash[BR_CHAIN_HASH_SIZE];
    br_reason_t head_reason = br_chain_head (self, txn, &head_sequence, head_hash);
    if (head_reason != BR_REASON_OK && head_reason != BR_REASON_NOT_FOUND &&
        head_reason != BR_REASON_AUDIT_BROKEN)
        return head_reason;

    MDB_cursor *cursor;
    int rc = mdb_cursor_open (txn, self->records, &cursor);
    if (rc != MDB_SUCCESS)
        return br_store_reason (rc);
    br_reason_t reason = BR_REASON_OK;
    uint64_t expected = 1;
    uint8_t prev[BR_CHAIN_HASH_SIZE] = {0}; //  the hash of the record before
    const char *found = NULL;               //  the problem, once found
    MDB_val key, value;
    for (rc = mdb_cursor_get (cursor, &key, &value, MDB_FIRST);
         rc == MDB_SUCCESS && !found && reason == BR_REASON_OK;
         rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) {
        if (key.mv_size != BR_CHAIN_SEQUENCE_SIZE) {
            found = BR_CHAIN_KEY;
            break;
        }
        uint64_t sequence = br_get_u64 ((const uint8_t *) key.mv_data);
        if (sequence != expected) {
            //  Keys sort numerically: a larger one means some are gone
            found = sequence > expected ? BR_CHAIN_MISSING : BR_CHAIN_KEY;
            break;
        }
        const uint8_t *data = (const uint8_t *) value.mv_data;
        br_chain_record_t record;
        if (!br_chain_hash_valid (data, value.mv_size))
            found = BR_CHAIN_EDITED;
        else if (!br_chain_parse (self->format, data, value.mv_size, &record) ||
                 (parse && !parse (argument, &record)))
            found = BR_CHAIN_MALFORMED;
        else if (record.sequence != sequence)
            found = BR_CHAIN_MOVED;
        else if (memcmp (record.prev, prev, BR_CHAIN_HASH_SIZE) != 0)
            found = BR_CHAIN_BROKEN;
        else if (check)
            found = check (argument, txn, &record, &reason);
        if (found || reason != BR_REASON_OK)
            break;
        memcpy (prev, record.hash, BR_CHAIN_HASH_SIZE);
        expected++;
    }
    mdb_cursor_close (cursor);
    if (reason == BR_REASON_OK && !found && rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
        reason = br_store_reason (rc);
    if (reason != BR_REASON_OK)
        return reason;

    uint64_t last = expected - 1; //  the last record verified
    if (!found) {
        if (head_reason == BR_REASON_AUDIT_BROKEN)
            found = BR_CHAIN_BAD_HEAD, expected = last ? last : 1;
        else if (head_reason == BR_REASON_NOT_FOUND) {
            if (last > 0)
                found = BR_CHAIN_NO_HEAD, expected = last;
        } else if (head_sequence > last)
            found = BR_CHAIN_MISSING; //  the last records were deleted
        else if (head_sequence < last)
            found = BR_CHAIN_AFTER_HEAD, expected = head_sequence + 1;
        else if (sodium_memcmp (head_hash, prev, BR_CHAIN_HASH_SIZE) != 0)
            found = BR_CHAIN_HEAD, expected = last;
    }
    if (!found && check) {
        //  The whole log, in the owner's eyes
        found = check (argument, txn, NULL, &reason);
        if (reason != BR_REASON_OK)
            return reason;
        expected = last ? last : 1;
    }
    *checked = last;
    if (found) {
        *first_bad = expected;
        *problem = found;
        return BR_REASON_AUDIT_BROKEN;
    }
    return BR_REASON_OK;
}

br_reason_t
br_chain_verify (br_chain_t *self, br_chain_parse_fn *parse, br_chain_check_fn *check,
                 void *argument, uint64_t *checked, uint64_t *first_bad, const char **problem)
{
    assert (self && checked && first_bad && problem);
    *checked = 0;
    *first_bad = 0;
    *problem = NULL;
    MDB_txn *txn = NULL;
    br_reason_t reason = br_store_begin (self->store, false, &txn);
    if (reason != BR_REASON_OK)
        return reason;
    reason = s_verify (self, txn, parse, check, argument, checked, first_bad, problem);
    br_store_abort (&txn);
    return reason;
}

size_t
br_chain_read (br_chain_t *self, uint64_t after, size_t max, br_chain_each_fn *each, void *argument)
{
    assert (self && each);
    size_t count = 0;
    MDB_txn *txn = NULL;
    MDB_cursor *cursor;
    if (max == 0 || after == UINT64_MAX ||
        br_store_begin (self->store, false, &txn) != BR_REASON_OK)
        return 0;
    if (mdb_cursor_open (txn, self->records, &cursor) != 0) {
        br_store_abort (&txn);
        return 0;
    }
    uint8_t start[BR_CHAIN_SEQUENCE_SIZE];
    br_put_u64 (start, after + 1);
    MDB_val key = {.mv_size = sizeof (start), .mv_data = start}, value;
    int rc = mdb_cursor_get (cursor, &key, &value, MDB_SET_RANGE);
    while (rc == MDB_SUCCESS && count < max && key.mv_size == BR_CHAIN_SEQUENCE_SIZE &&
           each (argument, (const uint8_t *) value.mv_data, value.mv_size)) {
        count++;
        rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT);
    }
    mdb_cursor_close (cursor);
    br_store_abort (&txn);
    return count;
}

void
br_chain_put_text (uint8_t **cursor, const char *text)
{
    size_t length = strlen (text);
    assert (length <= UINT8_MAX);
    **cursor = (uint8_t) length;
    memcpy (*cursor + 1, text, length);
    *cursor += 1 + length;
}

bool
br_chain_get_text (const uint8_t **cursor, const uint8_t *end, size_t max, char *text)
{
    if (*cursor >= end)
        return false;
    size_t length = **cursor;
    if (length > max || (size_t) (end - *cursor - 1) < length || memchr (*cursor + 1, '\0', length))
        return false;
    memcpy (text, *cursor + 1, length);
    text[length] = '\0';
    *cursor += 1 + length;
    return true;
}

//  ---- Self test ----------------------------------------------------------------------

//  Counts what br_chain_read gives.
static bool
s_test_each (void *argument, const uint8_t *data, size_t size)
{
    (void) data;
    (void) size;
    (*(size_t *) argument)++;
    return true;
}

//  A payload of "ok" passes the owner's check, anything else does not; a
//  log of more than 4 records fails its whole-log check.
static const char *
s_test_check (void *argument, MDB_txn *txn, const br_chain_record_t *record, br_reason_t *reason)
{
    (void) txn;
    (void) reason;
    if (!record)
        return *(uint64_t *) argument > 4 ? "too long" : NULL;
    *(uint64_t *) argument = record->sequence;
    return record->payload_size == 2 && memcmp (record->payload, "ok", 2) == 0 ? NULL : "not ok";
}

//  Appends a record of `payload` in a transaction of its own.
static void
s_test_append (br_chain_t *chain, br_store_t *store, const char *payload)
{
    MDB_txn *txn = NULL;
    assert (br_store_begin (store, true, &txn) == BR_REASON_OK);
    uint64_t last;
    uint8_t prev[BR_CHAIN_HASH_SIZE];
    assert (br_chain_last (chain, txn, &last, prev) == BR_REASON_OK);
    uint8_t data[BR_CHAIN_OVERHEAD + 16];
    size_t size = br_chain_seal (7, last + 1, 1700000000000 + (int64_t) last, prev,
                                 (const uint8_t *) payload, strlen (payload), data);
    assert (size == BR_CHAIN_OVERHEAD + strlen (payload));
    assert (br_chain_put (chain, txn, data, size) == BR_REASON_OK);
    assert (br_store_commit (&txn) == BR_REASON_OK);
}

//  Verifies with s_test_check; returns the reason.
static br_reason_t
s_test_verify (br_chain_t *chain, uint64_t *checked, uint64_t *first_bad, const char **problem)
{
    uint64_t seen = 0;
    return br_chain_verify (chain, NULL, s_test_check, &seen, checked, first_bad, problem);
}

void
br_chain_test (bool verbose)
{
    if (verbose)
        printf (" * br_chain: ");
    //  @selftest
    char *path = br_temp_directory ("br_chain");
    assert (path);
    br_reason_t reason;
    br_store_t *store = br_store_new (path, 0, &reason);
    assert (store);
    br_chain_t *chain = br_chain_new (store, "chain", "chain-head", 7, "br_chain test", &reason);
    assert (chain);
    MDB_dbi records = br_chain_records (chain);
    assert (records != br_chain_heads (chain));
    uint64_t checked, first_bad;
    const char *problem;

    //  An empty chain verifies; three records do
    assert (s_test_verify (chain, &checked, &first_bad, &problem) == BR_REASON_OK && checked == 0);
    uint64_t sequence = 1;
    uint8_t hash[BR_CHAIN_HASH_SIZE] = {1};
    assert (br_chain_current (chain, &sequence, hash) == BR_REASON_OK && sequence == 0 &&
            sodium_is_zero (hash, sizeof (hash)));
    for (int index = 0; index < 3; index++)
        s_test_append (chain, store, "ok");
    assert (s_test_verify (chain, &checked, &first_bad, &problem) == BR_REASON_OK && checked == 3);
    assert (br_chain_current (chain, &sequence, hash) == BR_REASON_OK && sequence == 3);
    size_t count = 0;
    assert (br_chain_read (chain, 1, 10, s_test_each, &count) == 2 && count == 2);

    //  The owner's check of the whole log, and of a record
    s_test_append (chain, store, "ok");
    s_test_append (chain, store, "ok");
    assert (s_test_verify (chain, &checked, &first_bad, &problem) == BR_REASON_AUDIT_BROKEN);
    assert (first_bad == 5 && streq (problem, "too long") && checked == 5);
    s_test_append (chain, store, "no");
    assert (s_test_verify (chain, &checked, &first_bad, &problem) == BR_REASON_AUDIT_BROKEN);
    assert (first_bad == 6 && streq (problem, "not ok") && checked == 5);
    assert (br_chain_verify (chain, NULL, NULL, NULL, &checked, &first_bad, &problem) ==
                BR_REASON_OK &&
            checked == 6);

    //  A record edited; a record over one already there
    MDB_txn *txn = NULL;
    assert (br_store_begin (store, true, &txn) == BR_REASON_OK);
    uint8_t key[BR_CHAIN_SEQUENCE_SIZE];
    br_put_u64 (key, 2);
    const void *value;
    size_t size;
    assert (br_chain_get (chain, txn, 99, &value, &size) == BR_REASON_NOT_FOUND);
    assert (br_chain_get (chain, txn, 2, &value, &size) == BR_REASON_OK);
    uint8_t copy[BR_CHAIN_OVERHEAD + 16];
    memcpy (copy, value, size);
    copy[BR_CHAIN_OFFSET_PAYLOAD] ^= 1;
    assert (br_store_put (txn, records, key, sizeof (key), copy, size, 0) == BR_REASON_OK);
    assert (br_store_commit (&txn) == BR_REASON_OK);
    assert (br_chain_verify (chain, NULL, NULL, NULL, &checked, &first_bad, &problem) ==
            BR_REASON_AUDIT_BROKEN);
    assert (first_bad == 2 && streq (problem, BR_CHAIN_EDITED));
    copy[BR_CHAIN_OFFSET_PAYLOAD] ^= 1;
    assert (br_store_begin (store, true, &txn) == BR_REASON_OK);
    assert (br_chain_put (chain, txn, copy, size) == BR_REASON_AUDIT_BROKEN);
    br_store_abort (&txn);

    //  Texts in payloads
    uint8_t buffer[300];
    uint8_t *write = buffer;
    br_chain_put_text (&write, "jobcenter");
    br_chain_put_text (&write, "");
    const uint8_t *read = buffer;
    char text[16];
    assert (br_chain_get_text (&read, write, 15, text) && streq (text, "jobcenter"));
    assert (br_chain_get_text (&read, write, 15, text) && streq (text, "") && read == write);
    assert (!br_chain_get_text (&read, write, 15, text));
    read = buffer;
    assert (!br_chain_get_text (&read, write, 8, text) && read == buffer); //  too long
    assert (!br_chain_get_text (&read, buffer + 5, 15, text));             //  past the end
    buffer[3] = '\0';
    assert (!br_chain_get_text (&read, write, 15, text)); //  a NUL inside

    br_chain_destroy (&chain);
    br_chain_destroy (&chain);
    br_store_destroy (&store);
    assert (br_temp_directory_remove (&path));
    //  @end
    if (verbose)
        printf ("OK\n");
}
