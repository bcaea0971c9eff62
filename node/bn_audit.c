/*  =========================================================================
    bn_audit - the node's audit log: append-only and hash-chained

    The record layout and the chain rules are in bn_audit.h; the chain
    itself (records, head, the verifying walk) is br_chain's. A record's
    payload is its actor, action, object and detail, each a 1-byte length
    and its bytes.
    =========================================================================
*/

#include "bruecke.h"
#include "bn_audit.h"

//  Version of the record layout, its first byte.
#define S_FORMAT 1
//  Size of a sequence number, as key and inside records.
#define S_SEQUENCE_SIZE BR_CHAIN_SEQUENCE_SIZE
//  Number of length-prefixed strings in a record, each with a 1-byte length.
#define S_STRING_COUNT 4
//  Smallest and largest record, hash included.
#define S_RECORD_MIN (BR_CHAIN_OVERHEAD + S_STRING_COUNT)
#define S_RECORD_MAX                                                                               \
    (S_RECORD_MIN + BN_AUDIT_ACTOR_MAX + BN_AUDIT_ACTION_MAX + BN_AUDIT_OBJECT_MAX +               \
     BN_AUDIT_DETAIL_MAX)

//  Characters allowed in action codes and object ids, besides [a-z0-9].
#define S_ACTION_EXTRA "._-"
#define S_OBJECT_EXTRA "._:-"

struct _bn_audit_t {
    br_chain_t *chain; //  "audit": sequence -> record, "audit-head": its head
};

bn_audit_t *
bn_audit_new (br_store_t *store, br_reason_t *reason)
{
    assert (store);
    assert (reason);
    bn_audit_t *self = (bn_audit_t *) zmalloc (sizeof (bn_audit_t));
    assert (self);
    self->chain = br_chain_new (store, "audit", "audit-head", S_FORMAT, "bn_audit", reason);
    if (!self->chain) {
        free (self);
        return NULL;
    }
    return self;
}

void
bn_audit_destroy (bn_audit_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        //  Database handles belong to the environment
        br_chain_destroy (&(*self_p)->chain);
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

//  Reads a record's envelope and strings into `entry` without checking its
//  hash. Returns false if it is not a well-formed record.
static bool
s_entry_of (const br_chain_record_t *record, size_t size, bn_audit_entry_t *entry)
{
    if (size < S_RECORD_MIN || size > S_RECORD_MAX)
        return false;
    entry->sequence = record->sequence;
    entry->at_ms = record->time_ms;
    const uint8_t *cursor = record->payload;
    const uint8_t *end = record->payload + record->payload_size;
    if (!br_chain_get_text (&cursor, end, BN_AUDIT_ACTOR_MAX, entry->actor) ||
        !br_chain_get_text (&cursor, end, BN_AUDIT_ACTION_MAX, entry->action) ||
        !br_chain_get_text (&cursor, end, BN_AUDIT_OBJECT_MAX, entry->object) ||
        !br_chain_get_text (&cursor, end, BN_AUDIT_DETAIL_MAX, entry->detail) || cursor != end)
        return false;
    memcpy (entry->hash, record->hash, BN_AUDIT_HASH_SIZE);
    return true;
}

//  br_chain_parse_fn: the strings of a record are well formed.
static bool
s_payload_valid (void *argument, const br_chain_record_t *record)
{
    (void) argument;
    bn_audit_entry_t entry;
    return s_entry_of (record, record->payload_size + BR_CHAIN_OVERHEAD, &entry);
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
    uint8_t prev[BN_AUDIT_HASH_SIZE];
    br_reason_t reason = br_chain_last (self->chain, txn, &last, prev);
    if (reason != BR_REASON_OK)
        return reason;
    uint8_t record[S_RECORD_MAX];
    uint8_t *cursor = record + BR_CHAIN_OFFSET_PAYLOAD;
    br_chain_put_text (&cursor, actor);
    br_chain_put_text (&cursor, action);
    br_chain_put_text (&cursor, object);
    br_chain_put_text (&cursor, detail);
    size_t size = br_chain_seal (S_FORMAT, last + 1, at_ms, prev, record + BR_CHAIN_OFFSET_PAYLOAD,
                                 (size_t) (cursor - record) - BR_CHAIN_OFFSET_PAYLOAD, record);
    assert (size <= S_RECORD_MAX);
    return br_chain_put (self->chain, txn, record, size);
}

br_reason_t
bn_audit_verify (bn_audit_t *self, uint64_t *checked, uint64_t *first_bad, const char **problem)
{
    assert (self);
    return br_chain_verify (self->chain, s_payload_valid, NULL, NULL, checked, first_bad, problem);
}

br_reason_t
bn_audit_head (bn_audit_t *self, uint64_t *sequence, uint8_t hash[BN_AUDIT_HASH_SIZE])
{
    assert (self);
    return br_chain_current (self->chain, sequence, hash);
}

//  What bn_audit_read hands each record to.
typedef struct {
    bn_audit_t *self;   //  the log
    bn_audit_fn *entry; //  the caller's function
    void *argument;     //  its argument
} s_reading_t;

static bool
s_read_one (void *argument, const uint8_t *data, size_t size)
{
    s_reading_t *reading = (s_reading_t *) argument;
    br_chain_record_t record;
    bn_audit_entry_t entry;
    if (!br_chain_parse (S_FORMAT, data, size, &record) || !s_entry_of (&record, size, &entry))
        return false;
    reading->entry (reading->argument, &entry);
    return true;
}

size_t
bn_audit_read (bn_audit_t *self, uint64_t after, size_t max, bn_audit_fn *entry, void *argument)
{
    assert (self);
    assert (entry);
    s_reading_t reading = {.self = self, .entry = entry, .argument = argument};
    return br_chain_read (self->chain, after, max, s_read_one, &reading);
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
    s_test_raw_get (store, br_chain_records (audit->chain), key, sizeof (key), copy);
}

//  Writes `copy` as record `sequence`, as an editor of the file would.
static void
s_test_record_put (br_store_t *store, bn_audit_t *audit, uint64_t sequence,
                   const s_test_value_t *copy)
{
    uint8_t key[S_SEQUENCE_SIZE];
    br_put_u64 (key, sequence);
    s_test_raw_put (store, br_chain_records (audit->chain), key, sizeof (key), copy->bytes,
                    copy->size);
}

static void
s_test_record_delete (br_store_t *store, bn_audit_t *audit, uint64_t sequence)
{
    uint8_t key[S_SEQUENCE_SIZE];
    br_put_u64 (key, sequence);
    s_test_raw_delete (store, br_chain_records (audit->chain), key, sizeof (key));
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

//  `value` as the same record sealed anew by whoever has the code: at
//  `sequence` (0: its own) and with `detail` (NULL: its own), its own hash
//  recomputed, into *edited.
static void
s_test_reseal (const s_test_value_t *value, uint64_t sequence, const char *detail,
               s_test_value_t *edited)
{
    br_chain_record_t parsed;
    bn_audit_entry_t entry;
    assert (br_chain_parse (S_FORMAT, value->bytes, value->size, &parsed) &&
            s_entry_of (&parsed, value->size, &entry));
    uint8_t *cursor = edited->bytes + BR_CHAIN_OFFSET_PAYLOAD;
    br_chain_put_text (&cursor, entry.actor);
    br_chain_put_text (&cursor, entry.action);
    br_chain_put_text (&cursor, entry.object);
    br_chain_put_text (&cursor, detail ? detail : entry.detail);
    edited->size =
        br_chain_seal (S_FORMAT, sequence ? sequence : entry.sequence, entry.at_ms, parsed.prev,
                       edited->bytes + BR_CHAIN_OFFSET_PAYLOAD,
                       (size_t) (cursor - edited->bytes) - BR_CHAIN_OFFSET_PAYLOAD, edited->bytes);
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
        s_test_expect (audit, 0, 4, BR_CHAIN_EDITED);
    }
    //  A shortened or lengthened record too
    edited = original;
    edited.size--;
    s_test_record_put (store, audit, 4, &edited);
    s_test_expect (audit, 0, 4, BR_CHAIN_EDITED);
    edited.size = 3;
    s_test_record_put (store, audit, 4, &edited);
    s_test_expect (audit, 0, 4, BR_CHAIN_EDITED);
    edited = original;
    edited.bytes[edited.size++] = 0;
    s_test_record_put (store, audit, 4, &edited);
    s_test_expect (audit, 0, 4, BR_CHAIN_EDITED);
    s_test_record_put (store, audit, 4, &original);
    s_test_expect (audit, last, 0, NULL);

    //  An edit that recomputes the record's own hash still breaks the chain
    s_test_reseal (&original, 0, "nothing happened", &edited);
    s_test_record_put (store, audit, 4, &edited);
    s_test_expect (audit, 0, 5, BR_CHAIN_BROKEN);
    s_test_record_put (store, audit, 4, &original);
    s_test_expect (audit, last, 0, NULL);

    //  A deleted record in the middle, and another record put in its place
    s_test_value_t sixth;
    s_test_record_get (store, audit, 6, &sixth);
    s_test_record_delete (store, audit, 6);
    s_test_expect (audit, 0, 6, BR_CHAIN_MISSING);
    s_test_record_put (store, audit, 6, &original);
    s_test_expect (audit, 0, 6, BR_CHAIN_MOVED);
    s_test_record_put (store, audit, 6, &sixth);
    s_test_expect (audit, last, 0, NULL);

    //  The first record deleted
    s_test_value_t first;
    s_test_record_get (store, audit, 1, &first);
    s_test_record_delete (store, audit, 1);
    s_test_expect (audit, 0, 1, BR_CHAIN_MISSING);
    s_test_record_put (store, audit, 1, &first);
    s_test_expect (audit, last, 0, NULL);

    //  The last record deleted: the head still names it
    s_test_value_t last_record;
    s_test_record_get (store, audit, last, &last_record);
    s_test_record_delete (store, audit, last);
    s_test_expect (audit, 0, last, BR_CHAIN_MISSING);
    //  An append now lands after the gap and does not hide it
    assert (br_store_begin (store, true, &txn) == BR_REASON_OK);
    assert (bn_audit_append (audit, txn, now, "node", "case.read", "", "") == BR_REASON_OK);
    br_store_abort (&txn);
    //  Two breaks: the earliest is reported
    s_test_record_delete (store, audit, 6);
    s_test_expect (audit, 0, 6, BR_CHAIN_MISSING);
    s_test_record_put (store, audit, 6, &sixth);
    s_test_record_put (store, audit, last, &last_record);
    s_test_expect (audit, last, 0, NULL);

    //  Two records swapped
    s_test_value_t third, fourth;
    s_test_record_get (store, audit, 3, &third);
    s_test_record_get (store, audit, 4, &fourth);
    s_test_record_put (store, audit, 3, &fourth);
    s_test_record_put (store, audit, 4, &third);
    s_test_expect (audit, 0, 3, BR_CHAIN_MOVED);
    //  ... and renumbered with their own hashes recomputed
    s_test_reseal (&fourth, 3, NULL, &edited);
    s_test_record_put (store, audit, 3, &edited);
    s_test_expect (audit, 0, 3, BR_CHAIN_BROKEN);
    s_test_record_put (store, audit, 3, &third);
    s_test_record_put (store, audit, 4, &fourth);
    s_test_expect (audit, last, 0, NULL);

    //  The head: edited, malformed, behind the records, deleted
    s_test_value_t head;
    s_test_raw_get (store, br_chain_heads (audit->chain), "head", 4, &head);
    s_test_value_t bad_head = head;
    bad_head.bytes[S_SEQUENCE_SIZE] ^= 0x80;
    s_test_raw_put (store, br_chain_heads (audit->chain), "head", 4, bad_head.bytes, bad_head.size);
    s_test_expect (audit, 0, last, BR_CHAIN_HEAD);
    s_test_raw_put (store, br_chain_heads (audit->chain), "head", 4, bad_head.bytes, 5);
    s_test_expect (audit, 0, last, BR_CHAIN_BAD_HEAD);
    assert (bn_audit_head (audit, &head_sequence, head_hash) == BR_REASON_AUDIT_BROKEN);
    //  Head moved back one record, as if the last append were undone
    s_test_value_t before_last;
    s_test_record_get (store, audit, last - 1, &before_last);
    bad_head = head;
    br_put_u64 (bad_head.bytes, last - 1);
    memcpy (bad_head.bytes + S_SEQUENCE_SIZE,
            before_last.bytes + before_last.size - BN_AUDIT_HASH_SIZE, BN_AUDIT_HASH_SIZE);
    s_test_raw_put (store, br_chain_heads (audit->chain), "head", 4, bad_head.bytes, bad_head.size);
    s_test_expect (audit, 0, last, BR_CHAIN_AFTER_HEAD);
    //  An append then refuses: it would land on an existing record
    assert (br_store_begin (store, true, &txn) == BR_REASON_OK);
    assert (bn_audit_append (audit, txn, now, "node", "case.read", "", "") ==
            BR_REASON_AUDIT_BROKEN);
    br_store_abort (&txn);
    s_test_raw_delete (store, br_chain_heads (audit->chain), "head", 4);
    s_test_expect (audit, 0, last, BR_CHAIN_NO_HEAD);
    assert (br_store_begin (store, true, &txn) == BR_REASON_OK);
    assert (bn_audit_append (audit, txn, now, "node", "case.read", "", "") ==
            BR_REASON_AUDIT_BROKEN);
    br_store_abort (&txn);
    s_test_raw_put (store, br_chain_heads (audit->chain), "head", 4, head.bytes, head.size);
    s_test_expect (audit, last, 0, NULL);

    //  A stray key of another size
    const uint8_t stray_key[1] = {0}; //  sorts before record 1
    s_test_raw_put (store, br_chain_records (audit->chain), stray_key, sizeof (stray_key), "y", 1);
    s_test_expect (audit, 0, 1, BR_CHAIN_KEY);
    s_test_raw_delete (store, br_chain_records (audit->chain), stray_key, sizeof (stray_key));
    s_test_expect (audit, last, 0, NULL);

    bn_audit_destroy (&audit);
    br_store_destroy (&store);
    assert (br_temp_directory_remove (&path));
    //  @end
    if (verbose)
        printf ("OK\n");
}
