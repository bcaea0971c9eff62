/*  =========================================================================
    br_ledger - the Transferbörse's ledger: append-only, hash-chained, double entry

    The databases and the chain rules are in br_ledger.h, the statement
    and record layouts in br_ledger_record.h. Both ways in (a new
    completion, a copied record) end in s_store_record, which writes the
    record, the transfer index, both balances and the head in the caller's
    transaction. Verification replays the records, checking each as a
    replica accepting it would, then compares the head, the transfer index
    and the balances it recomputed with the stored ones.
    =========================================================================
*/

#include "br_ledger.h"
#include "br_chain.h"
#include "br_testing.h"

//  Size of a sequence number, as key and inside the transfer index.
#define S_SEQUENCE_SIZE BR_CHAIN_SEQUENCE_SIZE

struct _br_ledger_t {
    br_store_t *store; //  the LMDB environment (not ours)
    br_chain_t *chain; //  "ledger": sequence -> record, "ledger-meta": its head
    MDB_dbi balances;  //  "ledger-balance": node id -> balance
    MDB_dbi transfers; //  "ledger-transfer": transfer id -> sequence
};

br_ledger_t *
br_ledger_new (br_store_t *store, br_reason_t *reason)
{
    assert (store);
    assert (reason);
    br_ledger_t *self = (br_ledger_t *) zmalloc (sizeof (br_ledger_t));
    assert (self);
    self->store = store;
    const br_store_db_t dbs[] = {{BR_LEDGER_DB_BALANCES, &self->balances},
                                 {BR_LEDGER_DB_TRANSFERS, &self->transfers}};
    *reason = br_store_open_dbs (store, dbs, (sizeof (dbs) / sizeof (dbs[0])));
    if (*reason == BR_REASON_OK)
        self->chain = br_chain_new (store, BR_LEDGER_DB_RECORDS, BR_LEDGER_DB_META,
                                    BR_LEDGER_FORMAT, "br_ledger", reason);
    if (!self->chain)
        br_ledger_destroy (&self);
    return self;
}

void
br_ledger_destroy (br_ledger_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        //  Database handles belong to the environment
        br_chain_destroy (&(*self_p)->chain);
        free (*self_p);
        *self_p = NULL;
    }
}

//  ---- Storage ----------------------------------------------------------------

//  Reads a stored balance in `txn` (0 if none). Returns OK, AUDIT_BROKEN
//  if it is malformed, or a store reason.
static br_reason_t
s_balance_read (br_ledger_t *self, MDB_txn *txn, const char *node_id, int64_t *balance)
{
    uint64_t stored = 0;
    br_reason_t reason = br_store_get_u64 (txn, self->balances, node_id, strlen (node_id), &stored);
    *balance = (int64_t) stored;
    return reason == BR_REASON_NOT_FOUND ? BR_REASON_OK : reason;
}

//  Looks up the sequence of the record holding `transfer_id` in `txn`.
//  Returns OK, NOT_FOUND, AUDIT_BROKEN if the index entry is malformed, or
//  a store reason.
static br_reason_t
s_transfer_find (br_ledger_t *self, MDB_txn *txn, const uint8_t *transfer_id, uint64_t *sequence)
{
    return br_store_get_u64 (txn, self->transfers, transfer_id, BR_LEDGER_TRANSFER_ID_SIZE,
                             sequence);
}

//  Writes a checked record that continues the chain: the record, its
//  transfer id, both balances and the head. Returns OK, AUDIT_BROKEN if a
//  record already sits at its sequence (the head lags behind the records),
//  REPLAYED if its transfer id is taken, or a store reason.
static br_reason_t
s_store_record (br_ledger_t *self, MDB_txn *txn, const br_ledger_record_t *record)
{
    br_reason_t reason = br_chain_put (self->chain, txn, record->data, record->size);
    if (reason != BR_REASON_OK)
        return reason;
    uint8_t key[S_SEQUENCE_SIZE];
    br_put_u64 (key, record->sequence);
    MDB_val transfer_val = {.mv_size = BR_LEDGER_TRANSFER_ID_SIZE,
                            .mv_data = (void *) record->completion.transfer_id};
    MDB_val sequence_val = {.mv_size = sizeof (key), .mv_data = key};
    int rc = mdb_put (txn, self->transfers, &transfer_val, &sequence_val, MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST)
        return BR_REASON_REPLAYED;
    if (rc != MDB_SUCCESS)
        return br_store_reason (rc);

    for (size_t index = 0; index < BR_LEDGER_ENTRY_COUNT; index++) {
        const br_ledger_entry_t *entry = &record->entries[index];
        int64_t balance;
        reason = s_balance_read (self, txn, entry->node_id, &balance);
        if (reason != BR_REASON_OK)
            return reason;
        if (__builtin_add_overflow (balance, entry->amount, &balance))
            return BR_REASON_AUDIT_BROKEN;
        uint8_t value[BR_LEDGER_BALANCE_SIZE];
        br_put_u64 (value, (uint64_t) balance);
        reason = br_store_put (txn, self->balances, entry->node_id, strlen (entry->node_id), value,
                               sizeof (value), 0);
        if (reason != BR_REASON_OK)
            return reason;
    }
    return BR_REASON_OK;
}

//  Runs `body` in `txn`, or in a transaction of its own that it commits
//  on OK and aborts otherwise. A failure inside a caller's transaction
//  runs in a nested transaction so that nothing of it stays behind.
typedef br_reason_t (s_txn_body_fn) (br_ledger_t *self, MDB_txn *txn, void *argument);

static br_reason_t
s_in_transaction (br_ledger_t *self, MDB_txn *txn, s_txn_body_fn *body, void *argument)
{
    MDB_txn *own = NULL;
    br_reason_t reason;
    if (txn) {
        //  A nested transaction, so that a failure half-way leaves the
        //  caller's transaction as it was
        int rc = mdb_txn_begin (br_store_env (self->store), txn, 0, &own);
        if (rc != MDB_SUCCESS)
            return br_store_reason (rc);
        reason = body (self, own, argument);
        if (reason == BR_REASON_OK) {
            rc = mdb_txn_commit (own);
            reason = br_store_reason (rc);
        } else
            mdb_txn_abort (own);
        return reason;
    }
    reason = br_store_begin (self->store, true, &own);
    if (reason != BR_REASON_OK)
        return reason;
    reason = body (self, own, argument);
    if (reason == BR_REASON_OK)
        reason = br_store_commit (&own);
    else
        br_store_abort (&own);
    return reason;
}

//  ---- Appending --------------------------------------------------------------

//  What br_ledger_append passes to its transaction body.
typedef struct {
    const br_ledger_completion_t *completion; //  the completion, checked
    const uint8_t *provider_signature;        //  the provider's signature, checked
    const uint8_t *receiver_signature;        //  the receiver's signature, checked
    int64_t now_ms;                           //  the time to record
    uint64_t sequence;                        //  out: the new or the repeated record
} s_append_t;

static br_reason_t
s_append_body (br_ledger_t *self, MDB_txn *txn, void *argument)
{
    s_append_t *append = (s_append_t *) argument;
    const br_ledger_completion_t *completion = append->completion;

    uint64_t earlier = 0;
    br_reason_t reason = s_transfer_find (self, txn, completion->transfer_id, &earlier);
    if (reason == BR_REASON_OK) {
        //  Tell a repeat of this very completion from another under its id
        const void *value;
        size_t size;
        br_ledger_record_t record;
        uint8_t ours[BR_LEDGER_STATEMENT_MAX], theirs[BR_LEDGER_STATEMENT_MAX];
        size_t ours_size, theirs_size;
        if (br_chain_get (self->chain, txn, earlier, &value, &size) == BR_REASON_OK &&
            br_ledger_record_parse ((const uint8_t *) value, size, &record) == BR_REASON_OK &&
            br_ledger_statement (completion, ours, &ours_size) == BR_REASON_OK &&
            br_ledger_statement (&record.completion, theirs, &theirs_size) == BR_REASON_OK &&
            ours_size == theirs_size && memcmp (ours, theirs, ours_size) == 0)
            append->sequence = earlier;
        return BR_REASON_REPLAYED;
    }
    if (reason != BR_REASON_NOT_FOUND)
        return reason;

    br_ledger_record_t record = {.recorded_ms = append->now_ms};
    reason = br_chain_last (self->chain, txn, &record.sequence, record.prev);
    if (reason != BR_REASON_OK)
        return reason;
    record.sequence++;
    //  Copied field by field: the caller's strings may hold bytes after the NUL
    memcpy (record.completion.transfer_id, completion->transfer_id, BR_LEDGER_TRANSFER_ID_SIZE);
    snprintf (record.completion.provider, sizeof (record.completion.provider), "%s",
              completion->provider);
    snprintf (record.completion.receiver, sizeof (record.completion.receiver), "%s",
              completion->receiver);
    snprintf (record.completion.topic, sizeof (record.completion.topic), "%s", completion->topic);
    record.completion.hours = completion->hours;
    record.completion.completed_ms = completion->completed_ms;
    br_ledger_entries_of (&record.completion, record.entries);
    memcpy (record.provider_signature, append->provider_signature, BR_SIGNATURE_SIZE);
    memcpy (record.receiver_signature, append->receiver_signature, BR_SIGNATURE_SIZE);
    uint8_t data[BR_LEDGER_RECORD_MAX];
    size_t size;
    reason = br_ledger_record_encode (&record, data, &size);
    if (reason == BR_REASON_OK)
        reason = s_store_record (self, txn, &record);
    if (reason == BR_REASON_OK)
        append->sequence = record.sequence;
    return reason;
}

br_reason_t
br_ledger_append (br_ledger_t *self, MDB_txn *txn, const br_ledger_completion_t *completion,
                  const uint8_t *provider_signature, const uint8_t *receiver_signature,
                  br_roster_t *roster, int64_t now_ms, uint64_t *sequence)
{
    assert (self);
    assert (completion);
    assert (roster);
    assert (now_ms >= 0);
    if (sequence)
        *sequence = 0;
    br_reason_t reason = br_ledger_completion_check (completion);
    if (reason != BR_REASON_OK)
        return reason;
    if (completion->completed_ms > now_ms &&
        completion->completed_ms - now_ms > BR_LEDGER_CLOCK_SKEW_MS)
        return BR_REASON_TOO_EARLY;
    reason = br_ledger_signatures_check (completion, provider_signature, receiver_signature, roster,
                                         true);
    if (reason != BR_REASON_OK)
        return reason;
    s_append_t append = {.completion = completion,
                         .provider_signature = provider_signature,
                         .receiver_signature = receiver_signature,
                         .now_ms = now_ms};
    reason = s_in_transaction (self, txn, s_append_body, &append);
    if (sequence)
        *sequence = append.sequence;
    return reason;
}

//  What br_ledger_append_record passes to its transaction body.
typedef struct {
    const br_ledger_record_t *record; //  the record, decoded and checked
    br_roster_t *roster;              //  for the towns' keys
} s_copy_t;

static br_reason_t
s_copy_body (br_ledger_t *self, MDB_txn *txn, void *argument)
{
    s_copy_t *copy = (s_copy_t *) argument;
    const br_ledger_record_t *record = copy->record;
    uint64_t head_sequence;
    uint8_t head_hash[BR_LEDGER_HASH_SIZE];
    br_reason_t reason = br_chain_last (self->chain, txn, &head_sequence, head_hash);
    if (reason != BR_REASON_OK)
        return reason;

    if (record->sequence <= head_sequence) {
        //  One we hold already: harmless if it is the same, a fork if not
        const void *value;
        size_t size;
        reason = br_chain_get (self->chain, txn, record->sequence, &value, &size);
        if (reason == BR_REASON_OK)
            return size == record->size && memcmp (value, record->data, size) == 0
                       ? BR_REASON_REPLAYED
                       : BR_REASON_AUDIT_BROKEN;
        return reason == BR_REASON_NOT_FOUND ? BR_REASON_AUDIT_BROKEN : reason;
    }
    if (record->sequence > head_sequence + 1)
        return BR_REASON_INVALID_STATE;
    if (sodium_memcmp (record->prev, head_hash, BR_LEDGER_HASH_SIZE) != 0)
        return BR_REASON_AUDIT_BROKEN;

    reason = br_ledger_signatures_check (&record->completion, record->provider_signature,
                                         record->receiver_signature, copy->roster, false);
    if (reason != BR_REASON_OK)
        return reason;
    uint64_t earlier;
    reason = s_transfer_find (self, txn, record->completion.transfer_id, &earlier);
    if (reason == BR_REASON_OK)
        return BR_REASON_AUDIT_BROKEN; //  a transfer we hold under another sequence
    if (reason != BR_REASON_NOT_FOUND)
        return reason;
    return s_store_record (self, txn, record);
}

br_reason_t
br_ledger_append_record (br_ledger_t *self, MDB_txn *txn, const uint8_t *data, size_t size,
                         br_roster_t *roster)
{
    assert (self);
    assert (roster);
    br_ledger_record_t record;
    br_reason_t reason = br_ledger_record_decode (data, size, &record);
    if (reason != BR_REASON_OK)
        return reason;
    if (record.sequence == 0)
        return BR_REASON_MALFORMED;
    s_copy_t copy = {.record = &record, .roster = roster};
    return s_in_transaction (self, txn, s_copy_body, &copy);
}

//  ---- Reading ----------------------------------------------------------------

br_reason_t
br_ledger_head (br_ledger_t *self, uint64_t *sequence, uint8_t hash[BR_LEDGER_HASH_SIZE])
{
    assert (self);
    return br_chain_current (self->chain, sequence, hash);
}

//  What br_ledger_read hands each record to.
typedef struct {
    br_ledger_record_fn *record_fn; //  the caller's function
    void *argument;                 //  its argument
} s_reading_t;

static bool
s_read_one (void *argument, const uint8_t *data, size_t size)
{
    s_reading_t *reading = (s_reading_t *) argument;
    br_ledger_record_t record;
    if (br_ledger_record_decode (data, size, &record) != BR_REASON_OK)
        return false;
    reading->record_fn (reading->argument, &record);
    return true;
}

size_t
br_ledger_read (br_ledger_t *self, uint64_t after, size_t max, br_ledger_record_fn *record_fn,
                void *argument)
{
    assert (self);
    assert (record_fn);
    s_reading_t reading = {.record_fn = record_fn, .argument = argument};
    return br_chain_read (self->chain, after, max, s_read_one, &reading);
}

br_reason_t
br_ledger_balance (br_ledger_t *self, const char *node_id, int64_t *balance)
{
    assert (self);
    assert (node_id && balance);
    *balance = 0;
    if (!br_token_valid (node_id, BR_NODE_ID_MAX))
        return BR_REASON_OK; //  no such town has records
    MDB_txn *txn = NULL;
    br_reason_t reason = br_store_begin (self->store, false, &txn);
    if (reason != BR_REASON_OK)
        return reason;
    reason = s_balance_read (self, txn, node_id, balance);
    br_store_abort (&txn);
    return reason;
}

//  Walks the stored balances in `txn`, calling `balance_fn` (if not NULL)
//  for each and summing them into *total. Returns OK, AUDIT_BROKEN if one
//  is malformed, or a store reason; *count says how many it walked.
static br_reason_t
s_balances_walk (br_ledger_t *self, MDB_txn *txn, br_ledger_balance_fn *balance_fn, void *argument,
                 int64_t *total, size_t *count)
{
    *total = 0;
    *count = 0;
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (txn, self->balances, &cursor);
    if (rc != MDB_SUCCESS)
        return br_store_reason (rc);
    br_reason_t reason = BR_REASON_OK;
    MDB_val key, value;
    for (rc = mdb_cursor_get (cursor, &key, &value, MDB_FIRST); rc == MDB_SUCCESS;
         rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) {
        char node_id[BR_NODE_ID_MAX + 1];
        if (key.mv_size == 0 || key.mv_size > BR_NODE_ID_MAX ||
            value.mv_size != BR_LEDGER_BALANCE_SIZE) {
            reason = BR_REASON_AUDIT_BROKEN;
            break;
        }
        memcpy (node_id, key.mv_data, key.mv_size);
        node_id[key.mv_size] = '\0';
        int64_t balance = (int64_t) br_get_u64 ((const uint8_t *) value.mv_data);
        if (!br_token_valid (node_id, BR_NODE_ID_MAX) ||
            __builtin_add_overflow (*total, balance, total)) {
            reason = BR_REASON_AUDIT_BROKEN;
            break;
        }
        if (balance_fn)
            balance_fn (argument, node_id, balance);
        (*count)++;
    }
    mdb_cursor_close (cursor);
    if (reason == BR_REASON_OK && rc != MDB_NOTFOUND)
        reason = br_store_reason (rc);
    return reason;
}

size_t
br_ledger_balances (br_ledger_t *self, br_ledger_balance_fn *balance_fn, void *argument)
{
    assert (self);
    assert (balance_fn);
    MDB_txn *txn = NULL;
    if (br_store_begin (self->store, false, &txn) != BR_REASON_OK)
        return 0;
    int64_t total;
    size_t count;
    br_reason_t reason = s_balances_walk (self, txn, balance_fn, argument, &total, &count);
    (void) reason; //  a malformed balance ends the walk; count says where
    br_store_abort (&txn);
    return count;
}

br_reason_t
br_ledger_total (br_ledger_t *self, int64_t *total)
{
    assert (self);
    assert (total);
    *total = 0;
    MDB_txn *txn = NULL;
    br_reason_t reason = br_store_begin (self->store, false, &txn);
    if (reason != BR_REASON_OK)
        return reason;
    size_t count;
    reason = s_balances_walk (self, txn, NULL, NULL, total, &count);
    br_store_abort (&txn);
    if (reason != BR_REASON_OK)
        *total = 0;
    return reason;
}

//  ---- Verification -----------------------------------------------------------

//  Frees a recomputed balance (a zhashx destructor).
static void
s_balance_free (void **item)
{
    free (*item);
    *item = NULL;
}

//  Adds `amount` to the balance of `node_id` in `balances` (node id -> int64_t *).
static void
s_balance_add (zhashx_t *balances, const char *node_id, int64_t amount)
{
    int64_t *balance = (int64_t *) zhashx_lookup (balances, node_id);
    if (!balance) {
        balance = (int64_t *) zmalloc (sizeof (int64_t));
        assert (balance);
        int rc = zhashx_insert (balances, node_id, balance);
        assert (rc == 0);
    }
    //  Entries were checked against their completion: at most
    //  BR_LEDGER_HOURS_MAX each, so this cannot overflow in any real ledger
    *balance += amount;
}

//  Compares the balances recomputed from the records with the stored ones.
//  Returns OK, AUDIT_BROKEN if they differ, or a store reason.
static br_reason_t
s_balances_compare (br_ledger_t *self, MDB_txn *txn, zhashx_t *computed)
{
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (txn, self->balances, &cursor);
    if (rc != MDB_SUCCESS)
        return br_store_reason (rc);
    br_reason_t reason = BR_REASON_OK;
    size_t stored = 0;
    MDB_val key, value;
    for (rc = mdb_cursor_get (cursor, &key, &value, MDB_FIRST); rc == MDB_SUCCESS;
         rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) {
        char node_id[BR_NODE_ID_MAX + 1];
        if (key.mv_size == 0 || key.mv_size > BR_NODE_ID_MAX ||
            value.mv_size != BR_LEDGER_BALANCE_SIZE) {
            reason = BR_REASON_AUDIT_BROKEN;
            break;
        }
        memcpy (node_id, key.mv_data, key.mv_size);
        node_id[key.mv_size] = '\0';
        int64_t *balance = (int64_t *) zhashx_lookup (computed, node_id);
        if (!balance || *balance != (int64_t) br_get_u64 ((const uint8_t *) value.mv_data)) {
            reason = BR_REASON_AUDIT_BROKEN;
            break;
        }
        stored++;
    }
    mdb_cursor_close (cursor);
    if (reason == BR_REASON_OK && rc != MDB_NOTFOUND)
        return br_store_reason (rc);
    if (reason == BR_REASON_OK && stored != zhashx_size (computed))
        reason = BR_REASON_AUDIT_BROKEN; //  a town's balance is gone
    return reason;
}

//  What the ledger's part of the walk keeps.
typedef struct {
    br_ledger_t *self;         //  the ledger
    br_roster_t *roster;       //  for the towns' keys
    zhashx_t *balances;        //  recomputed: node id -> int64_t *
    br_ledger_record_t record; //  the record s_walk_parse parsed, for s_walk_check
    uint64_t records;          //  records checked so far
} s_walk_t;

//  br_chain_parse_fn: the record is a well-formed ledger record.
static bool
s_walk_parse (void *argument, const br_chain_record_t *envelope)
{
    s_walk_t *walk = (s_walk_t *) argument;
    return br_ledger_record_parse (envelope->payload - BR_LEDGER_OFFSET_STATEMENT,
                                   envelope->payload_size + BR_CHAIN_OVERHEAD,
                                   &walk->record) == BR_REASON_OK;
}

//  What only the ledger has, after the whole chain holds: every record's
//  transfer id was found at its record and there are no others; the
//  balances are the sums of the entries.
static const char *
s_walk_finish (s_walk_t *walk, MDB_txn *txn, br_reason_t *reason)
{
    MDB_stat stat;
    int rc = mdb_stat (txn, walk->self->transfers, &stat);
    if (rc != MDB_SUCCESS) {
        *reason = br_store_reason (rc);
        return NULL;
    }
    if (stat.ms_entries != walk->records)
        return BR_LEDGER_PROBLEM_INDEX;
    br_reason_t compared = s_balances_compare (walk->self, txn, walk->balances);
    if (compared == BR_REASON_AUDIT_BROKEN)
        return BR_LEDGER_PROBLEM_BALANCE;
    *reason = compared;
    return NULL;
}

//  br_chain_check_fn: a record in its place, following the one before:
//  its entries, signatures and transfer index; counts its entries. After
//  the last, s_walk_finish.
static const char *
s_walk_check (void *argument, MDB_txn *txn, const br_chain_record_t *envelope, br_reason_t *reason)
{
    s_walk_t *walk = (s_walk_t *) argument;
    if (!envelope)
        return s_walk_finish (walk, txn, reason);
    //  The envelope was parsed by s_walk_parse just before, into walk->record
    walk->records++;
    const br_ledger_record_t *record = &walk->record;
    const char *problem = br_ledger_record_entries_problem (record);
    if (problem)
        return problem;
    br_reason_t signed_reason =
        br_ledger_signatures_check (&record->completion, record->provider_signature,
                                    record->receiver_signature, walk->roster, false);
    if (signed_reason == BR_REASON_UNKNOWN_NODE)
        return BR_LEDGER_PROBLEM_UNKNOWN;
    if (signed_reason != BR_REASON_OK)
        return BR_LEDGER_PROBLEM_SIGNATURE;
    uint64_t indexed = 0;
    br_reason_t index_reason =
        s_transfer_find (walk->self, txn, record->completion.transfer_id, &indexed);
    if (index_reason == BR_REASON_OK && indexed < record->sequence)
        return BR_LEDGER_PROBLEM_REPEATED; //  an earlier record holds this transfer
    if (index_reason == BR_REASON_OK && indexed != record->sequence)
        return BR_LEDGER_PROBLEM_INDEX;
    if (index_reason == BR_REASON_NOT_FOUND || index_reason == BR_REASON_AUDIT_BROKEN)
        return BR_LEDGER_PROBLEM_INDEX;
    if (index_reason != BR_REASON_OK) {
        *reason = index_reason;
        return NULL;
    }
    for (size_t index = 0; index < BR_LEDGER_ENTRY_COUNT; index++)
        s_balance_add (walk->balances, record->entries[index].node_id,
                       record->entries[index].amount);
    return NULL;
}

br_reason_t
br_ledger_verify (br_ledger_t *self, br_roster_t *roster, uint64_t *checked, uint64_t *first_bad,
                  const char **problem)
{
    assert (self);
    assert (roster);
    s_walk_t walk = {.self = self, .roster = roster, .balances = zhashx_new ()};
    assert (walk.balances);
    zhashx_set_destructor (walk.balances, s_balance_free);
    br_reason_t reason = br_chain_verify (self->chain, s_walk_parse, s_walk_check, &walk, checked,
                                          first_bad, problem);
    zhashx_destroy (&walk.balances);
    return reason;
}

//  --------------------------------------------------------------------------
//  Selftest: a short tour. The scenario (refusals, tampering, replication)
//  and the property test are tests/unit/br_ledger_test.c.

//  br_ledger_record_fn: keeps a copy of the last record's bytes in the
//  zchunk_t * at `argument`.
static void
s_test_keep (void *argument, const br_ledger_record_t *record)
{
    zchunk_t **kept = (zchunk_t **) argument;
    zchunk_destroy (kept);
    *kept = zchunk_new (record->data, record->size);
}

//  br_ledger_balance_fn: counts the towns.
static void
s_test_count (void *argument, const char *node_id, int64_t balance)
{
    assert (node_id && balance != 0);
    (*(size_t *) argument)++;
}

void
br_ledger_test (bool verbose)
{
    if (verbose)
        printf (" * br_ledger: ");
    //  @selftest
    br_testing_county_t *county = br_testing_county_new ();
    char *path = br_temp_directory ("br_ledger_test");
    br_reason_t reason;
    br_store_t *store = br_store_new (path, 0, &reason);
    assert (store && reason == BR_REASON_OK);
    br_ledger_t *ledger = br_ledger_new (store, &reason);
    br_ledger_t *replica = br_ledger_new (store, &reason); //  the same databases
    assert (ledger && replica && reason == BR_REASON_OK);
    uint64_t sequence = 1, checked = 1, first_bad = 1;
    const char *problem = "unset";
    uint8_t hash[BR_LEDGER_HASH_SIZE];
    assert (br_ledger_head (ledger, &sequence, hash) == BR_REASON_OK && sequence == 0);
    assert (br_ledger_verify (ledger, county->roster, &checked, &first_bad, &problem) ==
            BR_REASON_OK);
    assert (checked == 0 && first_bad == 0 && problem == NULL);

    //  Kamen coached Unna for three hours; both signed
    br_ledger_completion_t completion = {.transfer_id = {0x42}, .hours = 3, .completed_ms = 1};
    strcpy (completion.provider, "kamen");
    strcpy (completion.receiver, "unna");
    strcpy (completion.topic, "jugendamt");
    uint8_t kamen[BR_SIGNATURE_SIZE], unna[BR_SIGNATURE_SIZE];
    assert (br_ledger_sign (county->kamen, &completion, kamen) == BR_REASON_OK);
    assert (br_ledger_sign (county->unna, &completion, unna) == BR_REASON_OK);
    int64_t now = br_now_ms ();
    assert (br_ledger_append (ledger, NULL, &completion, kamen, NULL, county->roster, now,
                              &sequence) == BR_REASON_BAD_SIGNATURE);
    assert (br_ledger_append (ledger, NULL, &completion, kamen, unna, county->roster, now,
                              &sequence) == BR_REASON_OK);
    assert (sequence == 1);
    assert (br_ledger_append (ledger, NULL, &completion, kamen, unna, county->roster, now,
                              &sequence) == BR_REASON_REPLAYED);
    assert (sequence == 1);

    //  Reading it back, the balances, and a copy that is already there
    zchunk_t *kept = NULL;
    assert (br_ledger_read (ledger, 0, 10, s_test_keep, &kept) == 1);
    assert (br_ledger_read (ledger, 1, 10, s_test_keep, &kept) == 0);
    assert (kept && br_ledger_append_record (replica, NULL, zchunk_data (kept), zchunk_size (kept),
                                             county->roster) == BR_REASON_REPLAYED);
    zchunk_destroy (&kept);
    int64_t balance = 0;
    assert (br_ledger_balance (ledger, "kamen", &balance) == BR_REASON_OK && balance == 3);
    assert (br_ledger_balance (ledger, "unna", &balance) == BR_REASON_OK && balance == -3);
    size_t towns = 0;
    assert (br_ledger_balances (ledger, s_test_count, &towns) == 2 && towns == 2);
    assert (br_ledger_total (ledger, &balance) == BR_REASON_OK && balance == 0);
    assert (br_ledger_verify (ledger, county->roster, &checked, &first_bad, &problem) ==
            BR_REASON_OK);
    assert (checked == 1 && first_bad == 0 && problem == NULL);

    br_ledger_destroy (&replica);
    br_ledger_destroy (&ledger);
    br_ledger_destroy (&ledger);
    assert (ledger == NULL);
    br_store_destroy (&store);
    assert (br_temp_directory_remove (&path));
    br_testing_county_destroy (&county);
    //  @end
    if (verbose)
        printf ("OK\n");
}
