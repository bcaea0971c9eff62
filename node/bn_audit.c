/*  =========================================================================
    bn_audit - the node's audit log: append-only and hash-chained

    The record layout and the chain rules are in bn_audit.h. Verification
    reads the records in key order and checks, for each: its key is the next
    sequence, its hash covers its body, its body carries its own sequence,
    and its `prev` is the hash of the record before; then that the head names
    the last record and its hash.
    =========================================================================
*/

#include "bn_audit.h"

//  Version of the record layout, its first byte.
#define S_FORMAT 1
//  Size of a sequence number, as key and inside records.
#define S_SEQUENCE_SIZE 8
//  Offsets in a record body.
#define S_OFFSET_SEQUENCE 1
#define S_OFFSET_AT       (S_OFFSET_SEQUENCE + S_SEQUENCE_SIZE)
#define S_OFFSET_PREV     (S_OFFSET_AT + 8)
#define S_OFFSET_STRINGS  (S_OFFSET_PREV + BN_AUDIT_HASH_SIZE)
//  Number of length-prefixed strings in a record, each with a 1-byte length.
#define S_STRING_COUNT 4
//  Smallest and largest record, hash included.
#define S_RECORD_MIN (S_OFFSET_STRINGS + S_STRING_COUNT + BN_AUDIT_HASH_SIZE)
#define S_RECORD_MAX                                                                               \
    (S_RECORD_MIN + BN_AUDIT_ACTOR_MAX + BN_AUDIT_ACTION_MAX + BN_AUDIT_OBJECT_MAX +               \
     BN_AUDIT_DETAIL_MAX)
//  The head record: sequence + hash of the last record.
#define S_HEAD_KEY  "head"
#define S_HEAD_SIZE (S_SEQUENCE_SIZE + BN_AUDIT_HASH_SIZE)

//  What bn_audit_verify reports.
#define S_PROBLEM_EDITED     "record edited"
#define S_PROBLEM_MALFORMED  "record malformed"
#define S_PROBLEM_MISSING    "record missing"
#define S_PROBLEM_MOVED      "record out of place"
#define S_PROBLEM_CHAIN      "chain broken: record does not follow the one before"
#define S_PROBLEM_KEY        "unexpected key"
#define S_PROBLEM_HEAD       "head does not match"
#define S_PROBLEM_NO_HEAD    "head missing"
#define S_PROBLEM_BAD_HEAD   "head malformed"
#define S_PROBLEM_AFTER_HEAD "record after head"

//  Characters allowed in action codes and object ids, besides [a-z0-9].
#define S_ACTION_EXTRA "._-"
#define S_OBJECT_EXTRA "._:-"

struct _bn_audit_t {
    br_store_t *store; //  the node's LMDB environment (not ours)
    MDB_dbi records;   //  "audit": sequence -> record
    MDB_dbi head;      //  "audit-head": "head" -> sequence + hash of the last record
};

bn_audit_t *
bn_audit_new (br_store_t *store, br_reason_t *reason)
{
    assert (store);
    assert (reason);
    bn_audit_t *self = (bn_audit_t *) zmalloc (sizeof (bn_audit_t));
    assert (self);
    self->store = store;
    const br_store_db_t dbs[] = {{"audit", &self->records}, {"audit-head", &self->head}};
    *reason = br_store_open_dbs (store, dbs, (sizeof (dbs) / sizeof (dbs[0])));
    if (*reason != BR_REASON_OK)
        bn_audit_destroy (&self);
    return self;
}

void
bn_audit_destroy (bn_audit_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        //  Database handles belong to the environment; nothing else to free
        free (*self_p);
        *self_p = NULL;
    }
}

//  True if `text` is `min`..`max` bytes of [a-z0-9] and the characters in `extra`.
static bool
s_code_valid (const char *text, size_t min, size_t max, const char *extra)
{
    size_t length = strlen (text);
    if (length < min || length > max)
        return false;
    for (size_t index = 0; index < length; index++) {
        char c = text[index];
        bool plain = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!plain && !strchr (extra, c))
            return false;
    }
    return true;
}

//  Computes the hash of a record body.
static void
s_hash (const uint8_t *body, size_t size, uint8_t hash[BN_AUDIT_HASH_SIZE])
{
    int rc = crypto_generichash (hash, BN_AUDIT_HASH_SIZE, body, size, NULL, 0);
    assert (rc == 0);
}

//  Appends a length-prefixed string at `*cursor` and advances it.
static void
s_put_string (uint8_t **cursor, const char *text)
{
    size_t length = strlen (text);
    assert (length <= UINT8_MAX);
    **cursor = (uint8_t) length;
    memcpy (*cursor + 1, text, length);
    *cursor += 1 + length;
}

//  Encodes a record (body and hash) into `record` of S_RECORD_MAX bytes;
//  returns its size. The strings must have been validated.
static size_t
s_record_encode (const bn_audit_entry_t *entry, const uint8_t prev[BN_AUDIT_HASH_SIZE],
                 uint8_t *record)
{
    record[0] = S_FORMAT;
    br_put_u64 (record + S_OFFSET_SEQUENCE, entry->sequence);
    br_put_u64 (record + S_OFFSET_AT, (uint64_t) entry->at_ms);
    memcpy (record + S_OFFSET_PREV, prev, BN_AUDIT_HASH_SIZE);
    uint8_t *cursor = record + S_OFFSET_STRINGS;
    s_put_string (&cursor, entry->actor);
    s_put_string (&cursor, entry->action);
    s_put_string (&cursor, entry->object);
    s_put_string (&cursor, entry->detail);
    size_t body_size = (size_t) (cursor - record);
    s_hash (record, body_size, cursor);
    size_t size = body_size + BN_AUDIT_HASH_SIZE;
    assert (size <= S_RECORD_MAX);
    return size;
}

//  Reads a length-prefixed string of at most `max` bytes from `*cursor`,
//  not past `end`, into `text` (max + 1 bytes). False if it does not fit or
//  holds a NUL.
static bool
s_get_string (const uint8_t **cursor, const uint8_t *end, size_t max, char *text)
{
    if (*cursor >= end)
        return false;
    size_t length = **cursor;
    if (length > max || (size_t) (end - *cursor - 1) < length)
        return false;
    memcpy (text, *cursor + 1, length);
    text[length] = '\0';
    if (strlen (text) != length)
        return false;
    *cursor += 1 + length;
    return true;
}

//  Decodes a record into `entry` and `prev` without checking its hash.
//  Returns false if it is not a well-formed record.
static bool
s_record_decode (const uint8_t *record, size_t size, bn_audit_entry_t *entry,
                 uint8_t prev[BN_AUDIT_HASH_SIZE])
{
    if (size < S_RECORD_MIN || size > S_RECORD_MAX || record[0] != S_FORMAT)
        return false;
    const uint8_t *end = record + size - BN_AUDIT_HASH_SIZE;
    entry->sequence = br_get_u64 (record + S_OFFSET_SEQUENCE);
    entry->at_ms = (int64_t) br_get_u64 (record + S_OFFSET_AT);
    memcpy (prev, record + S_OFFSET_PREV, BN_AUDIT_HASH_SIZE);
    const uint8_t *cursor = record + S_OFFSET_STRINGS;
    if (!s_get_string (&cursor, end, BN_AUDIT_ACTOR_MAX, entry->actor) ||
        !s_get_string (&cursor, end, BN_AUDIT_ACTION_MAX, entry->action) ||
        !s_get_string (&cursor, end, BN_AUDIT_OBJECT_MAX, entry->object) ||
        !s_get_string (&cursor, end, BN_AUDIT_DETAIL_MAX, entry->detail) || cursor != end)
        return false;
    memcpy (entry->hash, end, BN_AUDIT_HASH_SIZE);
    return true;
}

//  Reads the head in `txn`: OK with the last sequence and hash, NOT_FOUND
//  if there is none, AUDIT_BROKEN if it is malformed, or a store reason.
static br_reason_t
s_head_read (bn_audit_t *self, MDB_txn *txn, uint64_t *sequence, uint8_t hash[BN_AUDIT_HASH_SIZE])
{
    const void *value;
    size_t size;
    br_reason_t reason =
        br_store_get (txn, self->head, S_HEAD_KEY, strlen (S_HEAD_KEY), &value, &size);
    if (reason != BR_REASON_OK)
        return reason;
    if (size != S_HEAD_SIZE)
        return BR_REASON_AUDIT_BROKEN;
    *sequence = br_get_u64 ((const uint8_t *) value);
    memcpy (hash, (const uint8_t *) value + S_SEQUENCE_SIZE, BN_AUDIT_HASH_SIZE);
    return BR_REASON_OK;
}

br_reason_t
bn_audit_append (bn_audit_t *self, MDB_txn *txn, int64_t at_ms, const char *actor,
                 const char *action, const char *object, const char *detail)
{
    assert (self);
    assert (txn);
    assert (actor);
    assert (action);
    object = object ? object : "";
    detail = detail ? detail : "";
    if (!br_text_valid (actor, BN_AUDIT_ACTOR_MAX) ||
        !s_code_valid (action, 1, BN_AUDIT_ACTION_MAX, S_ACTION_EXTRA) ||
        !s_code_valid (object, 0, BN_AUDIT_OBJECT_MAX, S_OBJECT_EXTRA) ||
        (*detail && !br_text_valid (detail, BN_AUDIT_DETAIL_MAX)))
        return BR_REASON_MALFORMED;

    //  The head, read in this transaction: never a stale cached copy
    uint64_t last = 0;
    uint8_t prev[BN_AUDIT_HASH_SIZE] = {0};
    br_reason_t reason = s_head_read (self, txn, &last, prev);
    if (reason == BR_REASON_NOT_FOUND) {
        last = 0;
        memset (prev, 0, sizeof (prev));
    } else if (reason != BR_REASON_OK)
        return reason;

    bn_audit_entry_t entry = {.sequence = last + 1, .at_ms = at_ms};
    snprintf (entry.actor, sizeof (entry.actor), "%s", actor);
    snprintf (entry.action, sizeof (entry.action), "%s", action);
    snprintf (entry.object, sizeof (entry.object), "%s", object);
    snprintf (entry.detail, sizeof (entry.detail), "%s", detail);
    uint8_t record[S_RECORD_MAX];
    size_t size = s_record_encode (&entry, prev, record);

    //  Appended past every existing key, never over one: a head that lags
    //  behind the records means the log was tampered with
    uint8_t key[S_SEQUENCE_SIZE];
    br_put_u64 (key, entry.sequence);
    MDB_val key_val = {.mv_size = sizeof (key), .mv_data = key};
    MDB_val record_val = {.mv_size = size, .mv_data = record};
    int rc = mdb_put (txn, self->records, &key_val, &record_val, MDB_NOOVERWRITE | MDB_APPEND);
    if (rc == MDB_KEYEXIST) {
        zsys_error ("bn_audit: head at %llu lags behind the records: log tampered with",
                    (unsigned long long) last);
        return BR_REASON_AUDIT_BROKEN;
    }
    if (rc != MDB_SUCCESS)
        return br_store_reason (rc);

    uint8_t head[S_HEAD_SIZE];
    br_put_u64 (head, entry.sequence);
    memcpy (head + S_SEQUENCE_SIZE, record + size - BN_AUDIT_HASH_SIZE, BN_AUDIT_HASH_SIZE);
    return br_store_put (txn, self->head, S_HEAD_KEY, strlen (S_HEAD_KEY), head, sizeof (head), 0);
}

//  Walks the chain in `txn`; see bn_audit_verify.
static br_reason_t
s_verify (bn_audit_t *self, MDB_txn *txn, uint64_t *checked, uint64_t *first_bad,
          const char **problem)
{
    uint64_t head_sequence = 0;
    uint8_t head_hash[BN_AUDIT_HASH_SIZE];
    br_reason_t head_reason = s_head_read (self, txn, &head_sequence, head_hash);
    if (head_reason != BR_REASON_OK && head_reason != BR_REASON_NOT_FOUND &&
        head_reason != BR_REASON_AUDIT_BROKEN)
        return head_reason;

    MDB_cursor *cursor;
    int rc = mdb_cursor_open (txn, self->records, &cursor);
    if (rc != MDB_SUCCESS)
        return br_store_reason (rc);
    uint64_t expected = 1;
    uint8_t prev[BN_AUDIT_HASH_SIZE] = {0}; //  hash of the record before
    const char *found = NULL;               //  the problem, once found
    MDB_val key, value;
    for (rc = mdb_cursor_get (cursor, &key, &value, MDB_FIRST); rc == MDB_SUCCESS && !found;
         rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) {
        if (key.mv_size != S_SEQUENCE_SIZE) {
            found = S_PROBLEM_KEY;
            break;
        }
        uint64_t sequence = br_get_u64 ((const uint8_t *) key.mv_data);
        if (sequence != expected) {
            //  Keys sort numerically: a larger one means some are gone
            found = sequence > expected ? S_PROBLEM_MISSING : S_PROBLEM_KEY;
            break;
        }
        const uint8_t *record = (const uint8_t *) value.mv_data;
        size_t size = value.mv_size;
        uint8_t hash[BN_AUDIT_HASH_SIZE];
        if (size < S_RECORD_MIN || size > S_RECORD_MAX) {
            found = S_PROBLEM_EDITED;
            break;
        }
        s_hash (record, size - BN_AUDIT_HASH_SIZE, hash);
        if (sodium_memcmp (hash, record + size - BN_AUDIT_HASH_SIZE, BN_AUDIT_HASH_SIZE) != 0) {
            found = S_PROBLEM_EDITED;
            break;
        }
        bn_audit_entry_t entry;
        uint8_t record_prev[BN_AUDIT_HASH_SIZE];
        if (!s_record_decode (record, size, &entry, record_prev))
            found = S_PROBLEM_MALFORMED;
        else if (entry.sequence != sequence)
            found = S_PROBLEM_MOVED;
        else if (memcmp (record_prev, prev, BN_AUDIT_HASH_SIZE) != 0)
            found = S_PROBLEM_CHAIN;
        else {
            memcpy (prev, hash, BN_AUDIT_HASH_SIZE);
            expected++;
        }
    }
    mdb_cursor_close (cursor);
    if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
        return br_store_reason (rc);

    uint64_t last = expected - 1; //  the last record verified
    if (!found) {
        if (head_reason == BR_REASON_AUDIT_BROKEN)
            found = S_PROBLEM_BAD_HEAD, expected = last ? last : 1;
        else if (head_reason == BR_REASON_NOT_FOUND) {
            if (last > 0)
                found = S_PROBLEM_NO_HEAD, expected = last;
        } else if (head_sequence > last)
            found = S_PROBLEM_MISSING; //  the last records were deleted
        else if (head_sequence < last)
            found = S_PROBLEM_AFTER_HEAD, expected = head_sequence + 1;
        else if (sodium_memcmp (head_hash, prev, BN_AUDIT_HASH_SIZE) != 0)
            found = S_PROBLEM_HEAD, expected = last;
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
bn_audit_verify (bn_audit_t *self, uint64_t *checked, uint64_t *first_bad, const char **problem)
{
    assert (self);
    assert (checked && first_bad && problem);
    *checked = 0;
    *first_bad = 0;
    *problem = NULL;
    MDB_txn *txn = NULL;
    br_reason_t reason = br_store_begin (self->store, false, &txn);
    if (reason != BR_REASON_OK)
        return reason;
    reason = s_verify (self, txn, checked, first_bad, problem);
    br_store_abort (&txn);
    return reason;
}

br_reason_t
bn_audit_head (bn_audit_t *self, uint64_t *sequence, uint8_t hash[BN_AUDIT_HASH_SIZE])
{
    assert (self);
    assert (sequence && hash);
    *sequence = 0;
    memset (hash, 0, BN_AUDIT_HASH_SIZE);
    MDB_txn *txn = NULL;
    br_reason_t reason = br_store_begin (self->store, false, &txn);
    if (reason != BR_REASON_OK)
        return reason;
    reason = s_head_read (self, txn, sequence, hash);
    if (reason == BR_REASON_NOT_FOUND)
        reason = BR_REASON_OK;
    br_store_abort (&txn);
    return reason;
}

size_t
bn_audit_read (bn_audit_t *self, uint64_t after, size_t max, bn_audit_fn *entry, void *argument)
{
    assert (self);
    assert (entry);
    size_t count = 0;
    MDB_txn *txn = NULL;
    if (max == 0 || after == UINT64_MAX ||
        br_store_begin (self->store, false, &txn) != BR_REASON_OK)
        return 0;
    MDB_cursor *cursor;
    if (mdb_cursor_open (txn, self->records, &cursor) == MDB_SUCCESS) {
        uint8_t start[S_SEQUENCE_SIZE];
        br_put_u64 (start, after + 1);
        MDB_val key = {.mv_size = sizeof (start), .mv_data = start}, value;
        int rc = mdb_cursor_get (cursor, &key, &value, MDB_SET_RANGE);
        while (rc == MDB_SUCCESS && count < max) {
            bn_audit_entry_t record;
            uint8_t prev[BN_AUDIT_HASH_SIZE];
            if (key.mv_size != S_SEQUENCE_SIZE ||
                !s_record_decode ((const uint8_t *) value.mv_data, value.mv_size, &record, prev))
                break;
            entry (argument, &record);
            count++;
            rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT);
        }
        mdb_cursor_close (cursor);
    }
    br_store_abort (&txn);
    return count;
}

//  --------------------------------------------------------------------------
//  Selftest helpers

//  Appends `count` records in one committed transaction.
static void
s_test_append (br_store_t *store, bn_audit_t *audit, int count)
{
    MDB_txn *txn = NULL;
    assert (br_store_begin (store, true, &txn) == BR_REASON_OK);
    for (int index = 0; index < count; index++) {
        char object[2 * BR_MESSAGE_ID_SIZE + 1];
        snprintf (object, sizeof (object), "%032x", (unsigned) index);
        assert (bn_audit_append (audit, txn, 1700000000000 + index, "sachbearbeitung-1",
                                 "case.read", object, "opened the case view") == BR_REASON_OK);
    }
    assert (br_store_commit (&txn) == BR_REASON_OK);
}

//  Verifies and checks the outcome: `bad` 0 means intact with `records`.
static void
s_test_expect (bn_audit_t *audit, uint64_t records, uint64_t bad, const char *problem)
{
    uint64_t checked = UINT64_MAX, first_bad = UINT64_MAX;
    const char *found = "unset";
    br_reason_t reason = bn_audit_verify (audit, &checked, &first_bad, &found);
    if (bad == 0) {
        assert (reason == BR_REASON_OK);
        assert (checked == records);
        assert (first_bad == 0 && found == NULL);
    } else {
        assert (reason == BR_REASON_AUDIT_BROKEN);
        assert (first_bad == bad);
        assert (found && streq (found, problem));
        assert (checked <= bad);
    }
}

//  Raw access to the databases, as someone editing the file would have it.
typedef struct {
    uint8_t bytes[S_RECORD_MAX]; //  a copy of the value
    size_t size;                 //  its size
} s_test_value_t;

static void
s_test_raw_get (br_store_t *store, MDB_dbi dbi, const void *key, size_t key_size,
                s_test_value_t *copy)
{
    MDB_txn *txn = NULL;
    assert (br_store_begin (store, false, &txn) == BR_REASON_OK);
    const void *value;
    assert (br_store_get (txn, dbi, key, key_size, &value, &copy->size) == BR_REASON_OK);
    assert (copy->size <= sizeof (copy->bytes));
    memcpy (copy->bytes, value, copy->size);
    br_store_abort (&txn);
}

static void
s_test_raw_put (br_store_t *store, MDB_dbi dbi, const void *key, size_t key_size, const void *value,
                size_t size)
{
    MDB_txn *txn = NULL;
    assert (br_store_begin (store, true, &txn) == BR_REASON_OK);
    assert (br_store_put (txn, dbi, key, key_size, value, size, 0) == BR_REASON_OK);
    assert (br_store_commit (&txn) == BR_REASON_OK);
}

static void
s_test_raw_delete (br_store_t *store, MDB_dbi dbi, const void *key, size_t key_size)
{
    MDB_txn *txn = NULL;
    assert (br_store_begin (store, true, &txn) == BR_REASON_OK);
    MDB_val key_val = {.mv_size = key_size, .mv_data = (void *) key};
    assert (mdb_del (txn, dbi, &key_val, NULL) == MDB_SUCCESS);
    assert (br_store_commit (&txn) == BR_REASON_OK);
}

//  Reads record `sequence` into `copy`.
static void
s_test_record_get (br_store_t *store, bn_audit_t *audit, uint64_t sequence, s_test_value_t *copy)
{
    uint8_t key[S_SEQUENCE_SIZE];
    br_put_u64 (key, sequence);
    s_test_raw_get (store, audit->records, key, sizeof (key), copy);
}

//  Writes `copy` as record `sequence`, as an editor of the file would.
static void
s_test_record_put (br_store_t *store, bn_audit_t *audit, uint64_t sequence,
                   const s_test_value_t *copy)
{
    uint8_t key[S_SEQUENCE_SIZE];
    br_put_u64 (key, sequence);
    s_test_raw_put (store, audit->records, key, sizeof (key), copy->bytes, copy->size);
}

static void
s_test_record_delete (br_store_t *store, bn_audit_t *audit, uint64_t sequence)
{
    uint8_t key[S_SEQUENCE_SIZE];
    br_put_u64 (key, sequence);
    s_test_raw_delete (store, audit->records, key, sizeof (key));
}

typedef struct {
    uint64_t sequences[16]; //  sequences seen, in order
    size_t count;           //  how many
    bool ok;                //  every entry looked right
} s_test_seen_t;

static void
s_test_entry (void *argument, const bn_audit_entry_t *entry)
{
    s_test_seen_t *seen = (s_test_seen_t *) argument;
    if (seen->count < 16)
        seen->sequences[seen->count++] = entry->sequence;
    if (!streq (entry->actor, "sachbearbeitung-1") || !streq (entry->action, "case.read") ||
        strlen (entry->object) != 32 || !streq (entry->detail, "opened the case view") ||
        entry->at_ms < 1700000000000)
        seen->ok = false;
}

void
bn_audit_test (bool verbose)
{
    if (verbose)
        printf (" * bn_audit: ");
    //  @selftest
    char *path = br_temp_directory ("bn_audit_test");
    assert (path);
    br_reason_t reason;
    br_store_t *store = br_store_new (path, 0, &reason);
    assert (store && reason == BR_REASON_OK);
    bn_audit_t *audit = bn_audit_new (store, &reason);
    assert (audit && reason == BR_REASON_OK);

    //  An empty log is intact; its head is all zeros
    s_test_expect (audit, 0, 0, NULL);
    uint64_t head_sequence = 1;
    uint8_t head_hash[BN_AUDIT_HASH_SIZE], zeros[BN_AUDIT_HASH_SIZE] = {0};
    assert (bn_audit_head (audit, &head_sequence, head_hash) == BR_REASON_OK);
    assert (head_sequence == 0 && memcmp (head_hash, zeros, sizeof (zeros)) == 0);

    //  Five records in one transaction, then five more in another
    s_test_append (store, audit, 5);
    s_test_expect (audit, 5, 0, NULL);
    s_test_append (store, audit, 5);
    s_test_expect (audit, 10, 0, NULL);
    assert (bn_audit_head (audit, &head_sequence, head_hash) == BR_REASON_OK);
    assert (head_sequence == 10 && memcmp (head_hash, zeros, sizeof (zeros)) != 0);

    //  Reading back, from the start and from the middle
    s_test_seen_t seen = {.ok = true};
    assert (bn_audit_read (audit, 0, 100, s_test_entry, &seen) == 10);
    assert (seen.ok && seen.sequences[0] == 1 && seen.sequences[9] == 10);
    memset (&seen, 0, sizeof (seen));
    seen.ok = true;
    assert (bn_audit_read (audit, 3, 2, s_test_entry, &seen) == 2);
    assert (seen.ok && seen.count == 2 && seen.sequences[0] == 4 && seen.sequences[1] == 5);
    assert (bn_audit_read (audit, 10, 5, s_test_entry, &seen) == 0);
    assert (bn_audit_read (audit, 0, 0, s_test_entry, &seen) == 0);

    //  An aborted transaction leaves nothing behind, and the next append
    //  continues from the committed head, not from the aborted one
    MDB_txn *txn = NULL;
    assert (br_store_begin (store, true, &txn) == BR_REASON_OK);
    for (int index = 0; index < 3; index++)
        assert (bn_audit_append (audit, txn, br_now_ms (), "node", "referral.send", "ab12", NULL) ==
                BR_REASON_OK);
    br_store_abort (&txn);
    s_test_expect (audit, 10, 0, NULL);
    uint64_t after_abort = 0;
    uint8_t after_abort_hash[BN_AUDIT_HASH_SIZE];
    assert (bn_audit_head (audit, &after_abort, after_abort_hash) == BR_REASON_OK);
    assert (after_abort == 10 && memcmp (after_abort_hash, head_hash, sizeof (head_hash)) == 0);
    s_test_append (store, audit, 1);
    s_test_expect (audit, 11, 0, NULL);

    //  Fields are bounded and restricted to their kind; no record is written
    char too_long[BN_AUDIT_DETAIL_MAX + 2];
    memset (too_long, 'a', sizeof (too_long) - 1);
    too_long[sizeof (too_long) - 1] = '\0';
    assert (br_store_begin (store, true, &txn) == BR_REASON_OK);
    int64_t now = br_now_ms ();
    too_long[BN_AUDIT_ACTOR_MAX + 1] = '\0';
    assert (bn_audit_append (audit, txn, now, too_long, "case.read", "", "") ==
            BR_REASON_MALFORMED);
    too_long[BN_AUDIT_ACTOR_MAX] = '\0';
    assert (bn_audit_append (audit, txn, now, too_long, "case.read", "", "") == BR_REASON_OK);
    memset (too_long, 'a', sizeof (too_long) - 1);
    assert (bn_audit_append (audit, txn, now, "node", "case.read", "", too_long) ==
            BR_REASON_MALFORMED);
    too_long[BN_AUDIT_DETAIL_MAX] = '\0';
    assert (bn_audit_append (audit, txn, now, "node", "case.read", "", too_long) == BR_REASON_OK);
    too_long[BN_AUDIT_OBJECT_MAX + 1] = '\0';
    assert (bn_audit_append (audit, txn, now, "node", "case.read", too_long, "") ==
            BR_REASON_MALFORMED);
    too_long[BN_AUDIT_OBJECT_MAX] = '\0';
    assert (bn_audit_append (audit, txn, now, "node", "case.read", too_long, "") == BR_REASON_OK);
    too_long[BN_AUDIT_ACTION_MAX + 1] = '\0';
    assert (bn_audit_append (audit, txn, now, "node", too_long, "", "") == BR_REASON_MALFORMED);
    assert (bn_audit_append (audit, txn, now, "", "case.read", "", "") == BR_REASON_MALFORMED);
    assert (bn_audit_append (audit, txn, now, "node", "", "", "") == BR_REASON_MALFORMED);
    assert (bn_audit_append (audit, txn, now, "node", "Case.Read", "", "") == BR_REASON_MALFORMED);
    assert (bn_audit_append (audit, txn, now, "node", "case read", "", "") == BR_REASON_MALFORMED);
    //  A name in the object field is refused: ids and codes only
    assert (bn_audit_append (audit, txn, now, "node", "case.read", "Erika Mustermann", "") ==
            BR_REASON_MALFORMED);
    assert (bn_audit_append (audit, txn, now, "node", "case.read", "", "two\nlines") ==
            BR_REASON_MALFORMED);
    assert (bn_audit_append (audit, txn, now, "Jugendamt Lünen 2", "consent.record", "c0ffee:01",
                             "consent recorded, Jugendamt") == BR_REASON_OK);
    assert (bn_audit_append (audit, txn, now, "unna", "referral.receive", NULL, NULL) ==
            BR_REASON_OK);
    br_store_abort (&txn);
    s_test_expect (audit, 11, 0, NULL);

    //  The log survives a reopen and continues its chain
    bn_audit_destroy (&audit);
    bn_audit_destroy (&audit);
    assert (audit == NULL);
    br_store_destroy (&store);
    store = br_store_new (path, 0, &reason);
    assert (store);
    audit = bn_audit_new (store, &reason);
    assert (audit && reason == BR_REASON_OK);
    s_test_expect (audit, 11, 0, NULL);
    s_test_append (store, audit, 1);
    s_test_expect (audit, 12, 0, NULL);
    const uint64_t last = 12;

    //  Any edited byte of a record is found at that record
    s_test_value_t original, edited;
    s_test_record_get (store, audit, 4, &original);
    for (size_t offset = 0; offset < original.size; offset++) {
        edited = original;
        edited.bytes[offset] ^= 0x01;
        s_test_record_put (store, audit, 4, &edited);
        s_test_expect (audit, 0, 4, S_PROBLEM_EDITED);
    }
    //  A shortened or lengthened record too
    edited = original;
    edited.size--;
    s_test_record_put (store, audit, 4, &edited);
    s_test_expect (audit, 0, 4, S_PROBLEM_EDITED);
    edited.size = 3;
    s_test_record_put (store, audit, 4, &edited);
    s_test_expect (audit, 0, 4, S_PROBLEM_EDITED);
    edited = original;
    edited.bytes[edited.size++] = 0;
    s_test_record_put (store, audit, 4, &edited);
    s_test_expect (audit, 0, 4, S_PROBLEM_EDITED);
    s_test_record_put (store, audit, 4, &original);
    s_test_expect (audit, last, 0, NULL);

    //  An edit that recomputes the record's own hash still breaks the chain
    bn_audit_entry_t entry;
    uint8_t prev[BN_AUDIT_HASH_SIZE];
    assert (s_record_decode (original.bytes, original.size, &entry, prev));
    snprintf (entry.detail, sizeof (entry.detail), "nothing happened");
    edited.size = s_record_encode (&entry, prev, edited.bytes);
    s_test_record_put (store, audit, 4, &edited);
    s_test_expect (audit, 0, 5, S_PROBLEM_CHAIN);
    s_test_record_put (store, audit, 4, &original);
    s_test_expect (audit, last, 0, NULL);

    //  A deleted record in the middle, and another record put in its place
    s_test_value_t sixth;
    s_test_record_get (store, audit, 6, &sixth);
    s_test_record_delete (store, audit, 6);
    s_test_expect (audit, 0, 6, S_PROBLEM_MISSING);
    s_test_record_put (store, audit, 6, &original);
    s_test_expect (audit, 0, 6, S_PROBLEM_MOVED);
    s_test_record_put (store, audit, 6, &sixth);
    s_test_expect (audit, last, 0, NULL);

    //  The first record deleted
    s_test_value_t first;
    s_test_record_get (store, audit, 1, &first);
    s_test_record_delete (store, audit, 1);
    s_test_expect (audit, 0, 1, S_PROBLEM_MISSING);
    s_test_record_put (store, audit, 1, &first);
    s_test_expect (audit, last, 0, NULL);

    //  The last record deleted: the head still names it
    s_test_value_t last_record;
    s_test_record_get (store, audit, last, &last_record);
    s_test_record_delete (store, audit, last);
    s_test_expect (audit, 0, last, S_PROBLEM_MISSING);
    //  An append now lands after the gap and does not hide it
    assert (br_store_begin (store, true, &txn) == BR_REASON_OK);
    assert (bn_audit_append (audit, txn, now, "node", "case.read", "", "") == BR_REASON_OK);
    br_store_abort (&txn);
    //  Two breaks: the earliest is reported
    s_test_record_delete (store, audit, 6);
    s_test_expect (audit, 0, 6, S_PROBLEM_MISSING);
    s_test_record_put (store, audit, 6, &sixth);
    s_test_record_put (store, audit, last, &last_record);
    s_test_expect (audit, last, 0, NULL);

    //  Two records swapped
    s_test_value_t third, fourth;
    s_test_record_get (store, audit, 3, &third);
    s_test_record_get (store, audit, 4, &fourth);
    s_test_record_put (store, audit, 3, &fourth);
    s_test_record_put (store, audit, 4, &third);
    s_test_expect (audit, 0, 3, S_PROBLEM_MOVED);
    //  ... and renumbered with their own hashes recomputed
    assert (s_record_decode (fourth.bytes, fourth.size, &entry, prev));
    entry.sequence = 3;
    edited.size = s_record_encode (&entry, prev, edited.bytes);
    s_test_record_put (store, audit, 3, &edited);
    s_test_expect (audit, 0, 3, S_PROBLEM_CHAIN);
    s_test_record_put (store, audit, 3, &third);
    s_test_record_put (store, audit, 4, &fourth);
    s_test_expect (audit, last, 0, NULL);

    //  The head: edited, malformed, behind the records, deleted
    s_test_value_t head;
    s_test_raw_get (store, audit->head, S_HEAD_KEY, strlen (S_HEAD_KEY), &head);
    s_test_value_t bad_head = head;
    bad_head.bytes[S_SEQUENCE_SIZE] ^= 0x80;
    s_test_raw_put (store, audit->head, S_HEAD_KEY, strlen (S_HEAD_KEY), bad_head.bytes,
                    bad_head.size);
    s_test_expect (audit, 0, last, S_PROBLEM_HEAD);
    s_test_raw_put (store, audit->head, S_HEAD_KEY, strlen (S_HEAD_KEY), bad_head.bytes, 5);
    s_test_expect (audit, 0, last, S_PROBLEM_BAD_HEAD);
    assert (bn_audit_head (audit, &head_sequence, head_hash) == BR_REASON_AUDIT_BROKEN);
    //  Head moved back one record, as if the last append were undone
    s_test_value_t before_last;
    s_test_record_get (store, audit, last - 1, &before_last);
    bad_head = head;
    br_put_u64 (bad_head.bytes, last - 1);
    memcpy (bad_head.bytes + S_SEQUENCE_SIZE,
            before_last.bytes + before_last.size - BN_AUDIT_HASH_SIZE, BN_AUDIT_HASH_SIZE);
    s_test_raw_put (store, audit->head, S_HEAD_KEY, strlen (S_HEAD_KEY), bad_head.bytes,
                    bad_head.size);
    s_test_expect (audit, 0, last, S_PROBLEM_AFTER_HEAD);
    //  An append then refuses: it would land on an existing record
    assert (br_store_begin (store, true, &txn) == BR_REASON_OK);
    assert (bn_audit_append (audit, txn, now, "node", "case.read", "", "") ==
            BR_REASON_AUDIT_BROKEN);
    br_store_abort (&txn);
    s_test_raw_delete (store, audit->head, S_HEAD_KEY, strlen (S_HEAD_KEY));
    s_test_expect (audit, 0, last, S_PROBLEM_NO_HEAD);
    assert (br_store_begin (store, true, &txn) == BR_REASON_OK);
    assert (bn_audit_append (audit, txn, now, "node", "case.read", "", "") ==
            BR_REASON_AUDIT_BROKEN);
    br_store_abort (&txn);
    s_test_raw_put (store, audit->head, S_HEAD_KEY, strlen (S_HEAD_KEY), head.bytes, head.size);
    s_test_expect (audit, last, 0, NULL);

    //  A stray key of another size
    const uint8_t stray_key[1] = {0}; //  sorts before record 1
    s_test_raw_put (store, audit->records, stray_key, sizeof (stray_key), "y", 1);
    s_test_expect (audit, 0, 1, S_PROBLEM_KEY);
    s_test_raw_delete (store, audit->records, stray_key, sizeof (stray_key));
    s_test_expect (audit, last, 0, NULL);

    bn_audit_destroy (&audit);
    br_store_destroy (&store);
    char *command = zsys_sprintf ("rm -rf '%s'", path);
    assert (system (command) == 0);
    zstr_free (&command);
    zstr_free (&path);
    //  @end
    if (verbose)
        printf ("OK\n");
}
