/*  =========================================================================
    br_chain - a hash-chained, append-only log in LMDB
    =========================================================================
*/

#include "br_chain.h"
#include "br_util.h"

#define S_OFFSET_SEQUENCE 1
#define S_OFFSET_TIME     (S_OFFSET_SEQUENCE + BR_CHAIN_SEQUENCE_SIZE)
#define S_OFFSET_PREV     (S_OFFSET_TIME + 8)
#define S_HEAD_KEY        "head"
#define S_HEAD_SIZE       (BR_CHAIN_SEQUENCE_SIZE + BR_CHAIN_HASH_SIZE)
#define S_NAME_MAX        31

struct _br_chain_t {
    MDB_dbi records;           //  sequence -> record
    MDB_dbi heads;             //  "head" -> sequence + hash of the last record
    uint8_t format;            //  the records' first byte
    char name[S_NAME_MAX + 1]; //  for the log
};

br_chain_t *
br_chain_new (MDB_dbi records, MDB_dbi heads, uint8_t format, const char *name)
{
    assert (name);
    br_chain_t *self = (br_chain_t *) zmalloc (sizeof (br_chain_t));
    self->records = records;
    self->heads = heads;
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
    br_reason_t reason =
        br_store_get (txn, self->heads, S_HEAD_KEY, strlen (S_HEAD_KEY), &value, &size);
    if (reason != BR_REASON_OK)
        return reason;
    if (size != S_HEAD_SIZE)
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
    uint8_t head[S_HEAD_SIZE];
    memcpy (head, key, sizeof (key));
    memcpy (head + BR_CHAIN_SEQUENCE_SIZE, data + size - BR_CHAIN_HASH_SIZE, BR_CHAIN_HASH_SIZE);
    return br_store_put (txn, self->heads, S_HEAD_KEY, strlen (S_HEAD_KEY), head, sizeof (head), 0);
}

br_reason_t
br_chain_verify (br_chain_t *self, MDB_txn *txn, br_chain_parse_fn *parse, br_chain_check_fn *check,
                 void *argument, uint64_t *checked, uint64_t *first_bad, const char **problem)
{
    assert (self && txn && checked && first_bad && problem);
    *checked = 0;
    *first_bad = 0;
    *problem = NULL;
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
    *checked = last;
    if (found) {
        *first_bad = expected;
        *problem = found;
        return BR_REASON_AUDIT_BROKEN;
    }
    return BR_REASON_OK;
}

size_t
br_chain_read (br_chain_t *self, MDB_txn *txn, uint64_t after, size_t max, br_chain_each_fn *each,
               void *argument)
{
    assert (self && txn && each);
    size_t count = 0;
    MDB_cursor *cursor;
    if (max == 0 || after == UINT64_MAX || mdb_cursor_open (txn, self->records, &cursor) != 0)
        return 0;
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
    return count;
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

//  A payload of "ok" passes the owner's check, anything else does not.
static const char *
s_test_check (void *argument, MDB_txn *txn, const br_chain_record_t *record, br_reason_t *reason)
{
    (void) argument;
    (void) txn;
    (void) reason;
    return record->payload_size == 2 && memcmp (record->payload, "ok", 2) == 0 ? NULL : "not ok";
}

//  Appends a record of `payload` in `txn`.
static void
s_test_append (br_chain_t *chain, MDB_txn *txn, const char *payload)
{
    uint64_t last;
    uint8_t prev[BR_CHAIN_HASH_SIZE];
    assert (br_chain_last (chain, txn, &last, prev) == BR_REASON_OK);
    uint8_t data[BR_CHAIN_OVERHEAD + 16];
    size_t size = br_chain_seal (7, last + 1, 1700000000000 + (int64_t) last, prev,
                                 (const uint8_t *) payload, strlen (payload), data);
    assert (size == BR_CHAIN_OVERHEAD + strlen (payload));
    assert (br_chain_put (chain, txn, data, size) == BR_REASON_OK);
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
    MDB_dbi records, heads;
    const br_store_db_t dbs[] = {{"chain", &records}, {"chain-head", &heads}};
    assert (br_store_open_dbs (store, dbs, 2) == BR_REASON_OK);
    br_chain_t *chain = br_chain_new (records, heads, 7, "br_chain test");
    MDB_txn *txn = NULL;
    uint64_t checked, first_bad;
    const char *problem;

    //  An empty chain verifies; three records do
    assert (br_store_begin (store, true, &txn) == BR_REASON_OK);
    assert (br_chain_verify (chain, txn, NULL, s_test_check, NULL, &checked, &first_bad,
                             &problem) == BR_REASON_OK &&
            checked == 0);
    uint64_t sequence;
    uint8_t hash[BR_CHAIN_HASH_SIZE];
    assert (br_chain_head (chain, txn, &sequence, hash) == BR_REASON_NOT_FOUND);
    for (int index = 0; index < 3; index++)
        s_test_append (chain, txn, "ok");
    assert (br_chain_verify (chain, txn, NULL, s_test_check, NULL, &checked, &first_bad,
                             &problem) == BR_REASON_OK &&
            checked == 3);
    assert (br_chain_head (chain, txn, &sequence, hash) == BR_REASON_OK && sequence == 3);
    size_t count = 0;
    assert (br_chain_read (chain, txn, 1, 10, s_test_each, &count) == 2 && count == 2);

    //  The owner's check; a record edited; a record over one already there
    s_test_append (chain, txn, "no");
    assert (br_chain_verify (chain, txn, NULL, s_test_check, NULL, &checked, &first_bad,
                             &problem) == BR_REASON_AUDIT_BROKEN);
    assert (first_bad == 4 && streq (problem, "not ok") && checked == 3);
    uint8_t key[BR_CHAIN_SEQUENCE_SIZE];
    br_put_u64 (key, 2);
    const void *value;
    size_t size;
    assert (br_store_get (txn, records, key, sizeof (key), &value, &size) == BR_REASON_OK);
    uint8_t copy[BR_CHAIN_OVERHEAD + 16];
    memcpy (copy, value, size);
    copy[BR_CHAIN_OFFSET_PAYLOAD] ^= 1;
    assert (br_store_put (txn, records, key, sizeof (key), copy, size, 0) == BR_REASON_OK);
    assert (br_chain_verify (chain, txn, NULL, NULL, NULL, &checked, &first_bad, &problem) ==
            BR_REASON_AUDIT_BROKEN);
    assert (first_bad == 2 && streq (problem, BR_CHAIN_EDITED));
    copy[BR_CHAIN_OFFSET_PAYLOAD] ^= 1;
    assert (br_chain_put (chain, txn, copy, size) == BR_REASON_AUDIT_BROKEN);
    br_store_abort (&txn);

    br_chain_destroy (&chain);
    br_chain_destroy (&chain);
    br_store_destroy (&store);
    char *command = zsys_sprintf ("rm -rf '%s'", path);
    assert (system (command) == 0);
    zstr_free (&command);
    zstr_free (&path);
    //  @end
    if (verbose)
        printf ("OK\n");
}
