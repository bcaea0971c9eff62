/*  =========================================================================
    br_ledger - the Transferbörse's ledger: append-only, hash-chained, double entry

    The statement and record layouts and the chain rules are in br_ledger.h.
    Both ways in (a new completion, a copied record) end in s_store_record,
    which writes the record, the transfer index, both balances and the head
    in the caller's transaction. Verification replays the records, checking
    each as a replica accepting it would, then compares the head, the
    transfer index and the balances it recomputed with the stored ones.
    =========================================================================
*/

#include "br_ledger.h"
#include "br_testing.h"
#include "br_chain.h"
#include "br_roster_draft.h" //  for the selftest's roster

//  Version of the record layout, its first byte.
#define S_FORMAT 1
//  Size of a sequence number, as key and inside records and the head.
#define S_SEQUENCE_SIZE BR_CHAIN_SEQUENCE_SIZE
//  Size of a signed 64-bit integer on disk and in statements.
#define S_INT_SIZE 8
//  Size of a record's statement length field.
#define S_STATEMENT_LENGTH_SIZE 2
//  Where a record's payload (br_chain) begins: its statement's length.
#define S_OFFSET_STATEMENT BR_CHAIN_OFFSET_PAYLOAD
//  Smallest statement: one-character ids and topic.
#define S_STATEMENT_MIN                                                                            \
    (BR_LEDGER_DOMAIN_SIZE + BR_LEDGER_TRANSFER_ID_SIZE + 3 * 2 + 2 * S_INT_SIZE)
//  Smallest record: smallest statement, one-character ids in the entries.
#define S_RECORD_MIN                                                                               \
    (S_OFFSET_STATEMENT + S_STATEMENT_LENGTH_SIZE + S_STATEMENT_MIN + 1 +                          \
     BR_LEDGER_ENTRY_COUNT * (1 + 1 + S_INT_SIZE) + 2 * BR_SIGNATURE_SIZE + BR_LEDGER_HASH_SIZE)
//  The head: sequence + hash of the last record.
#define S_HEAD_KEY  "head"
#define S_HEAD_SIZE (S_SEQUENCE_SIZE + BR_LEDGER_HASH_SIZE)

//  What br_ledger_verify reports: br_chain's words, and the ledger's own.
#define S_PROBLEM_UNBALANCED "entries do not sum to zero"
#define S_PROBLEM_ENTRIES    "entries do not match the completion"
#define S_PROBLEM_UNKNOWN    "town not in the roster"
#define S_PROBLEM_SIGNATURE  "signature invalid"
#define S_PROBLEM_REPEATED   "transfer id repeated"
#define S_PROBLEM_INDEX      "transfer index does not match the records"
#define S_PROBLEM_BALANCE    "balance does not match the records"

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
    const br_store_db_t dbs[] = {{"ledger-balance", &self->balances},
                                 {"ledger-transfer", &self->transfers}};
    *reason = br_store_open_dbs (store, dbs, (sizeof (dbs) / sizeof (dbs[0])));
    if (*reason == BR_REASON_OK)
        self->chain = br_chain_new (store, "ledger", "ledger-meta", S_FORMAT, "br_ledger", reason);
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

//  ---- Statements -------------------------------------------------------------

//  True if `text`, held in a buffer of `capacity` bytes, is NUL-terminated
//  there and a token of at most `max` characters.
static bool
s_token_in_buffer (const char *text, size_t capacity, size_t max)
{
    return memchr (text, '\0', capacity) != NULL && br_token_valid (text, max);
}

//  True if `bytes` are all zero.
static bool
s_all_zero (const uint8_t *bytes, size_t size)
{
    uint8_t any = 0;
    for (size_t index = 0; index < size; index++)
        any |= bytes[index];
    return any == 0;
}

br_reason_t
br_ledger_completion_check (const br_ledger_completion_t *completion)
{
    assert (completion);
    if (s_all_zero (completion->transfer_id, BR_LEDGER_TRANSFER_ID_SIZE) ||
        !s_token_in_buffer (completion->provider, sizeof (completion->provider), BR_NODE_ID_MAX) ||
        !s_token_in_buffer (completion->receiver, sizeof (completion->receiver), BR_NODE_ID_MAX) ||
        !s_token_in_buffer (completion->topic, sizeof (completion->topic), BR_LEDGER_TOPIC_MAX) ||
        streq (completion->provider, completion->receiver) || completion->hours < 1 ||
        completion->hours > BR_LEDGER_HOURS_MAX || completion->completed_ms <= 0)
        return BR_REASON_MALFORMED;
    return BR_REASON_OK;
}

//  Reads a token of 1..`max` characters with its 1-byte length; see
//  br_chain_get_text.
static bool
s_get_token (const uint8_t **cursor, const uint8_t *end, size_t max, char *text)
{
    return br_chain_get_text (cursor, end, max, text) && br_token_valid (text, max);
}

//  Encodes a valid completion's statement; returns its size.
static size_t
s_statement_encode (const br_ledger_completion_t *completion, uint8_t *statement)
{
    uint8_t *cursor = statement;
    memcpy (cursor, BR_LEDGER_DOMAIN, BR_LEDGER_DOMAIN_SIZE);
    cursor += BR_LEDGER_DOMAIN_SIZE;
    memcpy (cursor, completion->transfer_id, BR_LEDGER_TRANSFER_ID_SIZE);
    cursor += BR_LEDGER_TRANSFER_ID_SIZE;
    br_chain_put_text (&cursor, completion->provider);
    br_chain_put_text (&cursor, completion->receiver);
    br_chain_put_text (&cursor, completion->topic);
    br_put_u64 (cursor, (uint64_t) completion->hours);
    cursor += S_INT_SIZE;
    br_put_u64 (cursor, (uint64_t) completion->completed_ms);
    cursor += S_INT_SIZE;
    size_t size = (size_t) (cursor - statement);
    assert (size >= S_STATEMENT_MIN && size <= BR_LEDGER_STATEMENT_MAX);
    return size;
}

br_reason_t
br_ledger_statement (const br_ledger_completion_t *completion,
                     uint8_t statement[BR_LEDGER_STATEMENT_MAX], size_t *size)
{
    assert (completion && statement && size);
    *size = 0;
    br_reason_t reason = br_ledger_completion_check (completion);
    if (reason == BR_REASON_OK)
        *size = s_statement_encode (completion, statement);
    return reason;
}

br_reason_t
br_ledger_statement_decode (const uint8_t *data, size_t size, br_ledger_completion_t *completion)
{
    assert (data || size == 0);
    assert (completion);
    memset (completion, 0, sizeof (*completion));
    if (size < S_STATEMENT_MIN || size > BR_LEDGER_STATEMENT_MAX ||
        memcmp (data, BR_LEDGER_DOMAIN, BR_LEDGER_DOMAIN_SIZE) != 0)
        return BR_REASON_MALFORMED;
    const uint8_t *end = data + size;
    const uint8_t *cursor = data + BR_LEDGER_DOMAIN_SIZE;
    memcpy (completion->transfer_id, cursor, BR_LEDGER_TRANSFER_ID_SIZE);
    cursor += BR_LEDGER_TRANSFER_ID_SIZE;
    if (!s_get_token (&cursor, end, BR_NODE_ID_MAX, completion->provider) ||
        !s_get_token (&cursor, end, BR_NODE_ID_MAX, completion->receiver) ||
        !s_get_token (&cursor, end, BR_LEDGER_TOPIC_MAX, completion->topic) ||
        end - cursor != 2 * S_INT_SIZE)
        return BR_REASON_MALFORMED;
    completion->hours = (int64_t) br_get_u64 (cursor);
    completion->completed_ms = (int64_t) br_get_u64 (cursor + S_INT_SIZE);
    return br_ledger_completion_check (completion);
}

br_reason_t
br_ledger_sign (br_identity_t *identity, const br_ledger_completion_t *completion,
                uint8_t signature[BR_SIGNATURE_SIZE])
{
    assert (identity && completion && signature);
    assert (br_identity_has_secret (identity));
    uint8_t statement[BR_LEDGER_STATEMENT_MAX];
    size_t size;
    br_reason_t reason = br_ledger_statement (completion, statement, &size);
    if (reason == BR_REASON_OK)
        br_identity_sign (identity, statement, size, signature);
    return reason;
}

void
br_ledger_completion_of (const Bruecke__Agreement *agreement, int64_t completed_ms,
                         br_ledger_completion_t *completion)
{
    assert (agreement && completion);
    memset (completion, 0, sizeof (*completion));
    if (agreement->transfer_id.len == BR_LEDGER_TRANSFER_ID_SIZE)
        memcpy (completion->transfer_id, agreement->transfer_id.data, BR_LEDGER_TRANSFER_ID_SIZE);
    snprintf (completion->provider, sizeof (completion->provider), "%s", agreement->provider);
    snprintf (completion->receiver, sizeof (completion->receiver), "%s", agreement->receiver);
    snprintf (completion->topic, sizeof (completion->topic), "%s", agreement->topic);
    completion->hours = agreement->hours;
    completion->completed_ms = completed_ms;
}

const char *
br_ledger_state_name (int state)
{
    switch (state) {
        case BRUECKE__AGREEMENT_STATE__AGREEMENT_PROPOSED:
            return "proposed";
        case BRUECKE__AGREEMENT_STATE__AGREEMENT_ACCEPTED:
            return "accepted";
        case BRUECKE__AGREEMENT_STATE__AGREEMENT_SCHEDULED:
            return "scheduled";
        case BRUECKE__AGREEMENT_STATE__AGREEMENT_COMPLETED:
            return "completed";
        case BRUECKE__AGREEMENT_STATE__AGREEMENT_CANCELLED:
            return "cancelled";
        default:
            return "unknown";
    }
}

br_reason_t
br_ledger_signature_check (const br_ledger_completion_t *completion, const char *node_id,
                           const uint8_t signature[BR_SIGNATURE_SIZE], br_roster_t *roster)
{
    assert (completion && node_id && signature && roster);
    uint8_t statement[BR_LEDGER_STATEMENT_MAX];
    size_t size;
    br_reason_t reason = br_ledger_statement (completion, statement, &size);
    if (reason != BR_REASON_OK)
        return reason;
    const Bruecke__RosterNode *node = br_roster_lookup_by_id (roster, node_id);
    if (!node)
        return BR_REASON_UNKNOWN_NODE;
    if (node->sign_public_key.len != BR_SIGN_PUBLIC_SIZE ||
        !br_signature_valid (statement, size, signature, node->sign_public_key.data))
        return BR_REASON_BAD_SIGNATURE;
    return BR_REASON_OK;
}

//  ---- Records ----------------------------------------------------------------

//  Computes the hash of a record's bytes before the hash.
//  Fills the two entries of a record from its completion.
static void
s_entries_fill (br_ledger_record_t *record)
{
    snprintf (record->entries[0].node_id, sizeof (record->entries[0].node_id), "%s",
              record->completion.provider);
    record->entries[0].amount = record->completion.hours;
    snprintf (record->entries[1].node_id, sizeof (record->entries[1].node_id), "%s",
              record->completion.receiver);
    record->entries[1].amount = -record->completion.hours;
}

//  Encodes `record` (its completion valid, its entries filled) into `data`
//  of BR_LEDGER_RECORD_MAX bytes, computing its hash into the record and
//  the bytes. Returns the size.
static size_t
s_record_encode (br_ledger_record_t *record, uint8_t *data)
{
    //  The payload in place, then br_chain's envelope around it
    uint8_t *cursor = data + S_OFFSET_STATEMENT + S_STATEMENT_LENGTH_SIZE;
    size_t statement_size = s_statement_encode (&record->completion, cursor);
    data[S_OFFSET_STATEMENT] = (uint8_t) (statement_size >> 8);
    data[S_OFFSET_STATEMENT + 1] = (uint8_t) (statement_size & 0xff);
    cursor += statement_size;
    *cursor++ = BR_LEDGER_ENTRY_COUNT;
    for (size_t index = 0; index < BR_LEDGER_ENTRY_COUNT; index++) {
        br_chain_put_text (&cursor, record->entries[index].node_id);
        br_put_u64 (cursor, (uint64_t) record->entries[index].amount);
        cursor += S_INT_SIZE;
    }
    memcpy (cursor, record->provider_signature, BR_SIGNATURE_SIZE);
    cursor += BR_SIGNATURE_SIZE;
    memcpy (cursor, record->receiver_signature, BR_SIGNATURE_SIZE);
    cursor += BR_SIGNATURE_SIZE;
    size_t size = br_chain_seal (S_FORMAT, record->sequence, record->recorded_ms, record->prev,
                                 data + S_OFFSET_STATEMENT,
                                 (size_t) (cursor - data) - S_OFFSET_STATEMENT, data);
    memcpy (record->hash, data + size - BR_LEDGER_HASH_SIZE, BR_LEDGER_HASH_SIZE);
    assert (size >= S_RECORD_MIN && size <= BR_LEDGER_RECORD_MAX);
    record->data = data;
    record->size = size;
    return size;
}

//  Parses a record's layout into *record without checking its hash or what
//  its entries say. False if it is not a well-formed record.
static bool
s_record_parse (const uint8_t *data, size_t size, br_ledger_record_t *record)
{
    memset (record, 0, sizeof (*record));
    br_chain_record_t envelope;
    if (size < S_RECORD_MIN || size > BR_LEDGER_RECORD_MAX ||
        !br_chain_parse (S_FORMAT, data, size, &envelope))
        return false;
    const uint8_t *end = data + size - BR_LEDGER_HASH_SIZE;
    record->sequence = envelope.sequence;
    record->recorded_ms = envelope.time_ms;
    memcpy (record->prev, envelope.prev, BR_LEDGER_HASH_SIZE);
    size_t statement_size =
        ((size_t) data[S_OFFSET_STATEMENT] << 8) | (size_t) data[S_OFFSET_STATEMENT + 1];
    const uint8_t *cursor = data + S_OFFSET_STATEMENT + S_STATEMENT_LENGTH_SIZE;
    if ((size_t) (end - cursor) < statement_size ||
        br_ledger_statement_decode (cursor, statement_size, &record->completion) != BR_REASON_OK)
        return false;
    cursor += statement_size;
    if (cursor >= end || *cursor++ != BR_LEDGER_ENTRY_COUNT)
        return false;
    for (size_t index = 0; index < BR_LEDGER_ENTRY_COUNT; index++) {
        if (!s_get_token (&cursor, end, BR_NODE_ID_MAX, record->entries[index].node_id) ||
            (size_t) (end - cursor) < S_INT_SIZE)
            return false;
        record->entries[index].amount = (int64_t) br_get_u64 (cursor);
        cursor += S_INT_SIZE;
    }
    if (end - cursor != 2 * BR_SIGNATURE_SIZE)
        return false;
    memcpy (record->provider_signature, cursor, BR_SIGNATURE_SIZE);
    memcpy (record->receiver_signature, cursor + BR_SIGNATURE_SIZE, BR_SIGNATURE_SIZE);
    memcpy (record->hash, end, BR_LEDGER_HASH_SIZE);
    record->data = data;
    record->size = size;
    return true;
}

//  Checks a parsed record's entries: NULL if they sum to zero and are
//  exactly +hours for the provider and -hours for the receiver; otherwise
//  the problem.
static const char *
s_entries_problem (const br_ledger_record_t *record)
{
    int64_t sum = 0;
    for (size_t index = 0; index < BR_LEDGER_ENTRY_COUNT; index++)
        if (__builtin_add_overflow (sum, record->entries[index].amount, &sum))
            return S_PROBLEM_UNBALANCED;
    if (sum != 0)
        return S_PROBLEM_UNBALANCED;
    const br_ledger_completion_t *completion = &record->completion;
    if (!streq (record->entries[0].node_id, completion->provider) ||
        record->entries[0].amount != completion->hours ||
        !streq (record->entries[1].node_id, completion->receiver) ||
        record->entries[1].amount != -completion->hours)
        return S_PROBLEM_ENTRIES;
    return NULL;
}

br_reason_t
br_ledger_record_decode (const uint8_t *data, size_t size, br_ledger_record_t *record)
{
    assert (data || size == 0);
    assert (record);
    if (!data || !s_record_parse (data, size, record) || !br_chain_hash_valid (data, size) ||
        s_entries_problem (record) != NULL) {
        memset (record, 0, sizeof (*record));
        return BR_REASON_MALFORMED;
    }
    return BR_REASON_OK;
}

//  ---- Signatures -------------------------------------------------------------

//  Finds a town in the roster. When `admitting` a new completion, the town
//  must also be an unrevoked town. Returns OK and its node, UNKNOWN_NODE,
//  NODE_REVOKED or FORBIDDEN.
static br_reason_t
s_town_lookup (br_roster_t *roster, const char *node_id, bool admitting,
               const Bruecke__RosterNode **node_p)
{
    const Bruecke__RosterNode *node = br_roster_lookup_by_id (roster, node_id);
    *node_p = node;
    if (!node)
        return BR_REASON_UNKNOWN_NODE;
    if (admitting && node->revoked)
        return BR_REASON_NODE_REVOKED;
    if (admitting && node->role != BRUECKE__NODE_ROLE__ROLE_TOWN)
        return BR_REASON_FORBIDDEN;
    return BR_REASON_OK;
}

//  True if `signature` (NULL if missing) is `node`'s over the statement.
static bool
s_signature_holds (const Bruecke__RosterNode *node, const uint8_t *statement, size_t size,
                   const uint8_t *signature)
{
    return signature && node->sign_public_key.len == BR_SIGN_PUBLIC_SIZE &&
           br_signature_valid (statement, size, signature, node->sign_public_key.data);
}

//  Finds both towns (provider first), then checks both signatures over the
//  completion's statement. Returns OK, a reason of s_town_lookup, or
//  BAD_SIGNATURE.
static br_reason_t
s_signatures_check (br_roster_t *roster, const br_ledger_completion_t *completion,
                    const uint8_t *provider_signature, const uint8_t *receiver_signature,
                    bool admitting)
{
    const Bruecke__RosterNode *provider, *receiver;
    br_reason_t reason = s_town_lookup (roster, completion->provider, admitting, &provider);
    if (reason == BR_REASON_OK)
        reason = s_town_lookup (roster, completion->receiver, admitting, &receiver);
    if (reason != BR_REASON_OK)
        return reason;
    uint8_t statement[BR_LEDGER_STATEMENT_MAX];
    size_t size = s_statement_encode (completion, statement);
    if (!s_signature_holds (provider, statement, size, provider_signature) ||
        !s_signature_holds (receiver, statement, size, receiver_signature))
        return BR_REASON_BAD_SIGNATURE;
    return BR_REASON_OK;
}

//  ---- Storage ----------------------------------------------------------------

//  Reads the head in `txn`: OK with the last sequence and hash, NOT_FOUND
//  if there is none, AUDIT_BROKEN if it is malformed, or a store reason.
//  Reads a stored balance in `txn` (0 if none). Returns OK, AUDIT_BROKEN
//  if it is malformed, or a store reason.
static br_reason_t
s_balance_read (br_ledger_t *self, MDB_txn *txn, const char *node_id, int64_t *balance)
{
    const void *value;
    size_t size;
    br_reason_t reason =
        br_store_get (txn, self->balances, node_id, strlen (node_id), &value, &size);
    *balance = 0;
    if (reason == BR_REASON_NOT_FOUND)
        return BR_REASON_OK;
    if (reason != BR_REASON_OK)
        return reason;
    if (size != S_INT_SIZE)
        return BR_REASON_AUDIT_BROKEN;
    *balance = (int64_t) br_get_u64 ((const uint8_t *) value);
    return BR_REASON_OK;
}

//  Looks up the sequence of the record holding `transfer_id` in `txn`.
//  Returns OK, NOT_FOUND, AUDIT_BROKEN if the index entry is malformed, or
//  a store reason.
static br_reason_t
s_transfer_find (br_ledger_t *self, MDB_txn *txn, const uint8_t *transfer_id, uint64_t *sequence)
{
    const void *value;
    size_t size;
    br_reason_t reason =
        br_store_get (txn, self->transfers, transfer_id, BR_LEDGER_TRANSFER_ID_SIZE, &value, &size);
    if (reason != BR_REASON_OK)
        return reason;
    if (size != S_SEQUENCE_SIZE)
        return BR_REASON_AUDIT_BROKEN;
    *sequence = br_get_u64 ((const uint8_t *) value);
    return BR_REASON_OK;
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
        uint8_t value[S_INT_SIZE];
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
        if (br_chain_get (self->chain, txn, earlier, &value, &size) == BR_REASON_OK &&
            s_record_parse ((const uint8_t *) value, size, &record)) {
            size_t ours_size = s_statement_encode (completion, ours);
            size_t theirs_size = s_statement_encode (&record.completion, theirs);
            if (ours_size == theirs_size && memcmp (ours, theirs, ours_size) == 0)
                append->sequence = earlier;
        }
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
    s_entries_fill (&record);
    memcpy (record.provider_signature, append->provider_signature, BR_SIGNATURE_SIZE);
    memcpy (record.receiver_signature, append->receiver_signature, BR_SIGNATURE_SIZE);
    uint8_t data[BR_LEDGER_RECORD_MAX];
    s_record_encode (&record, data);
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
    reason = s_signatures_check (roster, completion, provider_signature, receiver_signature, true);
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

    reason = s_signatures_check (copy->roster, &record->completion, record->provider_signature,
                                 record->receiver_signature, false);
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
        if (key.mv_size == 0 || key.mv_size > BR_NODE_ID_MAX || value.mv_size != S_INT_SIZE) {
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
        if (key.mv_size == 0 || key.mv_size > BR_NODE_ID_MAX || value.mv_size != S_INT_SIZE) {
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
    return s_record_parse (envelope->payload - S_OFFSET_STATEMENT,
                           envelope->payload_size + BR_CHAIN_OVERHEAD, &walk->record);
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
        return S_PROBLEM_INDEX;
    br_reason_t compared = s_balances_compare (walk->self, txn, walk->balances);
    if (compared == BR_REASON_AUDIT_BROKEN)
        return S_PROBLEM_BALANCE;
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
    const char *problem = s_entries_problem (record);
    if (problem)
        return problem;
    br_reason_t signed_reason =
        s_signatures_check (walk->roster, &record->completion, record->provider_signature,
                            record->receiver_signature, false);
    if (signed_reason == BR_REASON_UNKNOWN_NODE)
        return S_PROBLEM_UNKNOWN;
    if (signed_reason != BR_REASON_OK)
        return S_PROBLEM_SIGNATURE;
    uint64_t indexed = 0;
    br_reason_t index_reason =
        s_transfer_find (walk->self, txn, record->completion.transfer_id, &indexed);
    if (index_reason == BR_REASON_OK && indexed < record->sequence)
        return S_PROBLEM_REPEATED; //  an earlier record holds this transfer
    if (index_reason == BR_REASON_OK && indexed != record->sequence)
        return S_PROBLEM_INDEX;
    if (index_reason == BR_REASON_NOT_FOUND || index_reason == BR_REASON_AUDIT_BROKEN)
        return S_PROBLEM_INDEX;
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
//  Selftest helpers

//  Completion time of the test completions: 2026-01-01T00:00:00Z.
#define S_TEST_EPOCH_MS 1767225600000LL
//  Steps of the property test, and the variable that replays a seed.
#define S_TEST_PROPERTY_STEPS 160
#define S_TEST_SEED_VARIABLE  "BR_LEDGER_SEED"
//  Towns in the property test: three towns, a revoked one, the broker, a stranger.
#define S_TEST_PARTIES 6
#define S_TEST_TOWNS   3

//  Fills a completion; `number` makes its transfer id.
static void
s_test_completion (br_ledger_completion_t *completion, uint64_t number, const char *provider,
                   const char *receiver, int64_t hours)
{
    memset (completion, 0, sizeof (*completion));
    completion->transfer_id[0] = 0x7b;
    br_put_u64 (completion->transfer_id + 8, number);
    snprintf (completion->provider, sizeof (completion->provider), "%s", provider);
    snprintf (completion->receiver, sizeof (completion->receiver), "%s", receiver);
    snprintf (completion->topic, sizeof (completion->topic), "%s", "fruehe-hilfen");
    completion->hours = hours;
    completion->completed_ms = S_TEST_EPOCH_MS + (int64_t) number;
}

//  Signs a valid completion as both of its towns would.
static void
s_test_sign (const br_ledger_completion_t *completion, br_identity_t *provider,
             br_identity_t *receiver, uint8_t provider_signature[BR_SIGNATURE_SIZE],
             uint8_t receiver_signature[BR_SIGNATURE_SIZE])
{
    assert (br_ledger_sign (provider, completion, provider_signature) == BR_REASON_OK);
    assert (br_ledger_sign (receiver, completion, receiver_signature) == BR_REASON_OK);
}

//  Appends a completion signed by both towns, in its own transaction.
static void
s_test_append (br_ledger_t *ledger, br_roster_t *roster, const br_ledger_completion_t *completion,
               br_identity_t *provider, br_identity_t *receiver, uint64_t expected_sequence)
{
    uint8_t provider_signature[BR_SIGNATURE_SIZE], receiver_signature[BR_SIGNATURE_SIZE];
    s_test_sign (completion, provider, receiver, provider_signature, receiver_signature);
    uint64_t sequence = 0;
    assert (br_ledger_append (ledger, NULL, completion, provider_signature, receiver_signature,
                              roster, br_now_ms (), &sequence) == BR_REASON_OK);
    assert (sequence == expected_sequence);
}

//  Verifies and checks the outcome: `bad` 0 means intact with `records`.
static void
s_test_expect (br_ledger_t *ledger, br_roster_t *roster, uint64_t records, uint64_t bad,
               const char *problem)
{
    uint64_t checked = UINT64_MAX, first_bad = UINT64_MAX;
    const char *found = "unset";
    br_reason_t reason = br_ledger_verify (ledger, roster, &checked, &first_bad, &found);
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

static int64_t
s_test_balance (br_ledger_t *ledger, const char *node_id)
{
    int64_t balance = INT64_MIN;
    assert (br_ledger_balance (ledger, node_id, &balance) == BR_REASON_OK);
    return balance;
}

static int64_t
s_test_total (br_ledger_t *ledger)
{
    int64_t total = INT64_MIN;
    assert (br_ledger_total (ledger, &total) == BR_REASON_OK);
    return total;
}

static uint64_t
s_test_head (br_ledger_t *ledger, uint8_t hash[BR_LEDGER_HASH_SIZE])
{
    uint64_t sequence = UINT64_MAX;
    uint8_t ignored[BR_LEDGER_HASH_SIZE];
    assert (br_ledger_head (ledger, &sequence, hash ? hash : ignored) == BR_REASON_OK);
    return sequence;
}

//  A copy of a stored value, as someone editing the file would have it.
typedef struct {
    uint8_t bytes[BR_LEDGER_RECORD_MAX]; //  the value
    size_t size;                         //  its size
} s_test_value_t;

//  Reads a raw value; false if there is none.
static bool
s_test_raw_get (br_ledger_t *ledger, MDB_dbi dbi, const void *key, size_t key_size,
                s_test_value_t *copy)
{
    MDB_txn *txn = NULL;
    assert (br_store_begin (ledger->store, false, &txn) == BR_REASON_OK);
    const void *value;
    br_reason_t reason = br_store_get (txn, dbi, key, key_size, &value, &copy->size);
    if (reason == BR_REASON_OK) {
        assert (copy->size <= sizeof (copy->bytes));
        memcpy (copy->bytes, value, copy->size);
    }
    br_store_abort (&txn);
    return reason == BR_REASON_OK;
}

//  Writes (value not NULL) or deletes a raw value with LMDB directly.
static void
s_test_raw_set (br_ledger_t *ledger, MDB_dbi dbi, const void *key, size_t key_size,
                const void *value, size_t size)
{
    MDB_txn *txn = NULL;
    assert (br_store_begin (ledger->store, true, &txn) == BR_REASON_OK);
    MDB_val key_val = {.mv_size = key_size, .mv_data = (void *) key};
    MDB_val value_val = {.mv_size = size, .mv_data = (void *) value};
    if (value)
        assert (mdb_put (txn, dbi, &key_val, &value_val, 0) == MDB_SUCCESS);
    else
        assert (mdb_del (txn, dbi, &key_val, NULL) == MDB_SUCCESS);
    assert (br_store_commit (&txn) == BR_REASON_OK);
}

static void
s_test_record_get (br_ledger_t *ledger, uint64_t sequence, s_test_value_t *copy)
{
    uint8_t key[S_SEQUENCE_SIZE];
    br_put_u64 (key, sequence);
    assert (s_test_raw_get (ledger, br_chain_records (ledger->chain), key, sizeof (key), copy));
}

//  Writes `copy` as record `sequence`, or deletes the record if NULL.
static void
s_test_record_put (br_ledger_t *ledger, uint64_t sequence, const s_test_value_t *copy)
{
    uint8_t key[S_SEQUENCE_SIZE];
    br_put_u64 (key, sequence);
    s_test_raw_set (ledger, br_chain_records (ledger->chain), key, sizeof (key),
                    copy ? copy->bytes : NULL, copy ? copy->size : 0);
}

//  Replaces record `edited->sequence` with `edited` and, as a careful forger
//  would, re-links every later record and the head to it with fresh hashes.
static void
s_test_rewrite (br_ledger_t *ledger, br_ledger_record_t *edited)
{
    uint8_t data[BR_LEDGER_RECORD_MAX];
    s_test_value_t value;
    value.size = s_record_encode (edited, data);
    memcpy (value.bytes, data, value.size);
    s_test_record_put (ledger, edited->sequence, &value);
    uint8_t prev[BR_LEDGER_HASH_SIZE];
    memcpy (prev, edited->hash, BR_LEDGER_HASH_SIZE);
    uint64_t last = s_test_head (ledger, NULL);
    uint64_t sequence = edited->sequence;
    for (sequence = edited->sequence + 1; sequence <= last; sequence++) {
        br_ledger_record_t record;
        s_test_record_get (ledger, sequence, &value);
        assert (s_record_parse (value.bytes, value.size, &record));
        memcpy (record.prev, prev, BR_LEDGER_HASH_SIZE);
        value.size = s_record_encode (&record, data);
        memcpy (value.bytes, data, value.size);
        s_test_record_put (ledger, sequence, &value);
        memcpy (prev, record.hash, BR_LEDGER_HASH_SIZE);
    }
    uint8_t head[S_HEAD_SIZE];
    br_put_u64 (head, last);
    memcpy (head + S_SEQUENCE_SIZE, prev, BR_LEDGER_HASH_SIZE);
    s_test_raw_set (ledger, br_chain_heads (ledger->chain), S_HEAD_KEY, strlen (S_HEAD_KEY), head,
                    sizeof (head));
}

//  Records as read, copied so that they outlive the read.
typedef struct {
    zlistx_t *records; //  of zchunk_t *, each a record's bytes
    uint64_t next;     //  the sequence the next one must have
    bool ok;           //  every record read looked right
} s_test_copies_t;

static void
s_test_copy_record (void *argument, const br_ledger_record_t *record)
{
    s_test_copies_t *copies = (s_test_copies_t *) argument;
    if (record->sequence != copies->next++ || record->entries[0].amount <= 0 ||
        record->entries[0].amount + record->entries[1].amount != 0 ||
        !streq (record->entries[0].node_id, record->completion.provider))
        copies->ok = false;
    zchunk_t *chunk = zchunk_new (record->data, record->size);
    assert (chunk);
    zlistx_add_end (copies->records, chunk);
}

//  Reads every record of `ledger` after `after` into a fresh list of copies.
static s_test_copies_t
s_test_copies (br_ledger_t *ledger, uint64_t after)
{
    s_test_copies_t copies = {.records = zlistx_new (), .next = after + 1, .ok = true};
    assert (copies.records);
    zlistx_set_destructor (copies.records, (zlistx_destructor_fn *) zchunk_destroy);
    br_ledger_read (ledger, after, SIZE_MAX, s_test_copy_record, &copies);
    assert (copies.ok);
    return copies;
}

//  Appends a copied record to a replica.
static br_reason_t
s_test_replicate (br_ledger_t *replica, zchunk_t *record, br_roster_t *roster)
{
    return br_ledger_append_record (replica, NULL, zchunk_data (record), zchunk_size (record),
                                    roster);
}

typedef struct {
    char node_ids[8][BR_NODE_ID_MAX + 1]; //  towns seen, in order
    int64_t balances[8];                  //  their balances
    size_t count;                         //  how many
} s_test_balances_t;

static void
s_test_balance_seen (void *argument, const char *node_id, int64_t balance)
{
    s_test_balances_t *seen = (s_test_balances_t *) argument;
    assert (seen->count < 8);
    snprintf (seen->node_ids[seen->count], sizeof (seen->node_ids[0]), "%s", node_id);
    seen->balances[seen->count++] = balance;
}

//  Opens a fresh store and ledger in a new temporary directory.
static br_ledger_t *
s_test_ledger_new (const char *prefix, char **path, br_store_t **store)
{
    *path = br_temp_directory (prefix);
    assert (*path);
    br_reason_t reason;
    *store = br_store_new (*path, 0, &reason);
    assert (*store && reason == BR_REASON_OK);
    br_ledger_t *ledger = br_ledger_new (*store, &reason);
    assert (ledger && reason == BR_REASON_OK);
    return ledger;
}

static void
s_test_ledger_destroy (br_ledger_t **ledger, char **path, br_store_t **store)
{
    br_ledger_destroy (ledger);
    br_ledger_destroy (ledger);
    assert (*ledger == NULL);
    br_store_destroy (store);
    assert (br_temp_directory_remove (path));
}

//  ---- Property test ----------------------------------------------------------

//  The property test's random numbers: splitmix64.
static uint64_t
s_prop_random (uint64_t *state)
{
    uint64_t value = (*state += 0x9e3779b97f4a7c15ULL);
    value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ULL;
    value = (value ^ (value >> 27)) * 0x94d049bb133111ebULL;
    return value ^ (value >> 31);
}

//  Stops the test with the seed that reproduces the failure.
static void
s_prop_check (bool ok, const char *what, uint64_t seed, int step)
{
    if (!ok) {
        fprintf (stderr, "br_ledger property test: %s at step %d, seed %llu (rerun with %s=%llu)\n",
                 what, step, (unsigned long long) seed, S_TEST_SEED_VARIABLE,
                 (unsigned long long) seed);
        abort ();
    }
}

//  The reason br_ledger_append must give, from the model: which parties
//  (indexes into the property test's parties) and what went wrong.
static br_reason_t
s_prop_expected (size_t provider, size_t receiver, int64_t hours, bool signatures_valid,
                 bool transfer_used)
{
    if (provider == receiver || hours < 1 || hours > BR_LEDGER_HOURS_MAX)
        return BR_REASON_MALFORMED;
    size_t sides[2] = {provider, receiver};
    for (size_t index = 0; index < 2; index++) {
        if (sides[index] == 5)
            return BR_REASON_UNKNOWN_NODE; //  the stranger
        if (sides[index] == 3)
            return BR_REASON_NODE_REVOKED; //  Selm
        if (sides[index] == 4)
            return BR_REASON_FORBIDDEN; //  the broker
    }
    if (!signatures_valid)
        return BR_REASON_BAD_SIGNATURE;
    return transfer_used ? BR_REASON_REPLAYED : BR_REASON_OK;
}

//  Many random completions, valid and not: after each, the ledger agrees
//  with a model, sums to zero, verifies, and a replica keeps up.
static void
s_prop_test (br_testing_county_t *county, bool verbose)
{
    uint64_t seed;
    const char *given = getenv (S_TEST_SEED_VARIABLE);
    if (given)
        seed = strtoull (given, NULL, 10);
    else
        randombytes_buf (&seed, sizeof (seed));
    if (verbose)
        printf ("(seed %llu) ", (unsigned long long) seed);
    uint64_t state = seed;

    char *path, *replica_path;
    br_store_t *store, *replica_store;
    br_ledger_t *ledger = s_test_ledger_new ("br_ledger_prop", &path, &store);
    br_ledger_t *replica = s_test_ledger_new ("br_ledger_replica", &replica_path, &replica_store);
    br_identity_t *parties[S_TEST_PARTIES] = {county->luenen, county->unna,   county->kamen,
                                              county->selm,   county->broker, county->stranger};
    int64_t model[S_TEST_PARTIES] = {0};  //  expected balances
    uint64_t used[S_TEST_PROPERTY_STEPS]; //  transfer numbers in the ledger
    uint64_t records = 0;                 //  records in the ledger

    for (int step = 0; step < S_TEST_PROPERTY_STEPS; step++) {
        uint64_t pick = s_prop_random (&state);
        size_t provider = pick % 10 < 8 ? pick % S_TEST_TOWNS : S_TEST_TOWNS + (pick >> 8) % 3;
        pick = s_prop_random (&state);
        size_t receiver = pick % 10 < 8 ? pick % S_TEST_TOWNS : S_TEST_TOWNS + (pick >> 8) % 3;
        if (s_prop_random (&state) % 12 == 0)
            receiver = provider;
        static const int64_t odd_hours[] = {0, -1, BR_LEDGER_HOURS_MAX + 1, BR_LEDGER_HOURS_MAX};
        pick = s_prop_random (&state);
        int64_t hours =
            pick % 20 == 0 ? odd_hours[(pick >> 8) % 4] : 1 + (int64_t) (pick >> 8) % 12;
        bool replay = records > 0 && s_prop_random (&state) % 8 == 0;
        uint64_t number = replay ? used[s_prop_random (&state) % records] : 1000 + (uint64_t) step;
        int signing = (int) (s_prop_random (&state) % 10);
        int transaction = (int) (s_prop_random (&state) % 3);

        br_ledger_completion_t completion;
        s_test_completion (&completion, number, br_identity_node_id (parties[provider]),
                           br_identity_node_id (parties[receiver]), hours);
        uint8_t provider_signature[BR_SIGNATURE_SIZE] = {0};
        uint8_t receiver_signature[BR_SIGNATURE_SIZE] = {0};
        const uint8_t *provider_pass = provider_signature, *receiver_pass = receiver_signature;
        if (br_ledger_completion_check (&completion) == BR_REASON_OK) {
            s_test_sign (&completion, parties[provider], parties[receiver], provider_signature,
                         receiver_signature);
            if (signing == 6)
                receiver_pass = NULL; //  the receiver never signed
            else if (signing == 7)
                memset (provider_signature, 0, BR_SIGNATURE_SIZE);
            else if (signing == 8) //  forged with another key
                assert (br_ledger_sign (county->stranger, &completion, receiver_signature) ==
                        BR_REASON_OK);
            else if (signing == 9) //  swapped
                provider_pass = receiver_signature, receiver_pass = provider_signature;
        }
        br_reason_t expected = s_prop_expected (provider, receiver, hours, signing < 6, replay);

        MDB_txn *txn = NULL;
        if (transaction > 0)
            assert (br_store_begin (store, true, &txn) == BR_REASON_OK);
        uint64_t sequence = UINT64_MAX;
        br_reason_t reason =
            br_ledger_append (ledger, txn, &completion, provider_pass, receiver_pass,
                              county->roster, br_now_ms (), &sequence);
        s_prop_check (reason == expected, "unexpected reason", seed, step);
        if (transaction == 1)
            assert (br_store_commit (&txn) == BR_REASON_OK);
        else if (transaction == 2)
            br_store_abort (&txn); //  nothing stays behind
        if (reason == BR_REASON_OK && transaction < 2) {
            s_prop_check (sequence == records + 1, "wrong sequence", seed, step);
            used[records++] = number;
            model[provider] += hours;
            model[receiver] -= hours;
        }

        //  The ledger agrees with the model and sums to zero
        s_prop_check (s_test_total (ledger) == 0, "total not zero", seed, step);
        for (size_t index = 0; index < S_TEST_PARTIES; index++)
            s_prop_check (s_test_balance (ledger, br_identity_node_id (parties[index])) ==
                              model[index],
                          "balance differs from the model", seed, step);
        uint64_t checked = 0, first_bad = 0;
        const char *problem = NULL;
        s_prop_check (br_ledger_verify (ledger, county->roster, &checked, &first_bad, &problem) ==
                              BR_REASON_OK &&
                          checked == records,
                      "verification failed", seed, step);

        //  The replica catches up record by record and ends at the same head
        s_test_copies_t copies = s_test_copies (ledger, s_test_head (replica, NULL));
        for (zchunk_t *copy = (zchunk_t *) zlistx_first (copies.records); copy;
             copy = (zchunk_t *) zlistx_next (copies.records))
            s_prop_check (s_test_replicate (replica, copy, county->roster) == BR_REASON_OK,
                          "replica refused a record", seed, step);
        zlistx_destroy (&copies.records);
        uint8_t hash[BR_LEDGER_HASH_SIZE], replica_hash[BR_LEDGER_HASH_SIZE];
        s_prop_check (s_test_head (ledger, hash) == s_test_head (replica, replica_hash) &&
                          memcmp (hash, replica_hash, BR_LEDGER_HASH_SIZE) == 0,
                      "replica head differs", seed, step);
    }
    uint64_t checked = 0, first_bad = 0;
    const char *problem = NULL;
    s_prop_check (br_ledger_verify (replica, county->roster, &checked, &first_bad, &problem) ==
                          BR_REASON_OK &&
                      checked == records && s_test_total (replica) == 0,
                  "replica does not verify", seed, S_TEST_PROPERTY_STEPS);
    s_test_ledger_destroy (&replica, &replica_path, &replica_store);
    s_test_ledger_destroy (&ledger, &path, &store);
}

void
br_ledger_test (bool verbose)
{
    if (verbose)
        printf (" * br_ledger: ");
    //  @selftest
    br_testing_county_t *county = br_testing_county_new ();
    br_roster_t *roster = county->roster;
    char *path;
    br_store_t *store;
    br_ledger_t *ledger = s_test_ledger_new ("br_ledger_test", &path, &store);

    //  An empty ledger is intact, sums to zero, and its head is all zeros
    s_test_expect (ledger, roster, 0, 0, NULL);
    uint8_t head_hash[BR_LEDGER_HASH_SIZE], zeros[BR_LEDGER_HASH_SIZE] = {0};
    assert (s_test_head (ledger, head_hash) == 0);
    assert (memcmp (head_hash, zeros, sizeof (zeros)) == 0);
    assert (s_test_total (ledger) == 0);
    assert (s_test_balance (ledger, "luenen") == 0);

    //  The statement's exact layout
    br_ledger_completion_t completion;
    s_test_completion (&completion, 1, "luenen", "unna", 10);
    uint8_t statement[BR_LEDGER_STATEMENT_MAX];
    size_t statement_size = 0;
    assert (br_ledger_statement (&completion, statement, &statement_size) == BR_REASON_OK);
    assert (statement_size == 17 + 16 + 1 + 6 + 1 + 4 + 1 + 13 + 8 + 8);
    assert (memcmp (statement, "bruecke-ledger-v1", 17) == 0);
    assert (memcmp (statement + 17, completion.transfer_id, 16) == 0);
    assert (statement[33] == 6 && memcmp (statement + 34, "luenen", 6) == 0);
    assert (statement[40] == 4 && memcmp (statement + 41, "unna", 4) == 0);
    assert (statement[45] == 13 && memcmp (statement + 46, "fruehe-hilfen", 13) == 0);
    assert (br_get_u64 (statement + 59) == 10);
    assert (br_get_u64 (statement + 67) == (uint64_t) S_TEST_EPOCH_MS + 1);
    br_ledger_completion_t decoded;
    assert (br_ledger_statement_decode (statement, statement_size, &decoded) == BR_REASON_OK);
    assert (memcmp (&decoded, &completion, sizeof (completion)) == 0);
    //  ... and nothing else decodes
    assert (br_ledger_statement_decode (statement, statement_size - 1, &decoded) ==
            BR_REASON_MALFORMED);
    uint8_t altered[BR_LEDGER_STATEMENT_MAX + 1];
    memcpy (altered, statement, statement_size);
    altered[statement_size] = 0;
    assert (br_ledger_statement_decode (altered, statement_size + 1, &decoded) ==
            BR_REASON_MALFORMED);
    altered[16] = '2'; //  "bruecke-ledger-v2"
    assert (br_ledger_statement_decode (altered, statement_size, &decoded) == BR_REASON_MALFORMED);
    memcpy (altered, statement, statement_size);
    altered[34] = 'L'; //  not a token
    assert (br_ledger_statement_decode (altered, statement_size, &decoded) == BR_REASON_MALFORMED);
    memcpy (altered, statement, statement_size);
    altered[33] = 7; //  a length that does not fit the rest
    assert (br_ledger_statement_decode (altered, statement_size, &decoded) == BR_REASON_MALFORMED);
    memcpy (altered, statement, statement_size);
    br_put_u64 (altered + 59, 0); //  no hours
    assert (br_ledger_statement_decode (altered, statement_size, &decoded) == BR_REASON_MALFORMED);

    //  Completions that cannot be signed or appended
    br_ledger_completion_t bad = completion;
    memset (bad.transfer_id, 0, sizeof (bad.transfer_id));
    assert (br_ledger_completion_check (&bad) == BR_REASON_MALFORMED);
    bad = completion;
    bad.hours = 0;
    assert (br_ledger_completion_check (&bad) == BR_REASON_MALFORMED);
    bad.hours = -3;
    assert (br_ledger_completion_check (&bad) == BR_REASON_MALFORMED);
    bad.hours = BR_LEDGER_HOURS_MAX + 1;
    assert (br_ledger_completion_check (&bad) == BR_REASON_MALFORMED);
    bad.hours = BR_LEDGER_HOURS_MAX;
    assert (br_ledger_completion_check (&bad) == BR_REASON_OK);
    bad = completion;
    snprintf (bad.topic, sizeof (bad.topic), "Fr\xc3\xbche Hilfen");
    assert (br_ledger_completion_check (&bad) == BR_REASON_MALFORMED);
    bad = completion;
    memset (bad.provider, 'a', sizeof (bad.provider)); //  no NUL
    assert (br_ledger_completion_check (&bad) == BR_REASON_MALFORMED);
    bad = completion;
    bad.completed_ms = 0;
    assert (br_ledger_completion_check (&bad) == BR_REASON_MALFORMED);
    uint8_t provider_signature[BR_SIGNATURE_SIZE], receiver_signature[BR_SIGNATURE_SIZE];
    assert (br_ledger_sign (county->luenen, &bad, provider_signature) == BR_REASON_MALFORMED);

    //  Four valid completions: own transactions and the caller's
    s_test_append (ledger, roster, &completion, county->luenen, county->unna, 1);
    br_ledger_completion_t second, third, fourth;
    s_test_completion (&second, 2, "unna", "kamen", 4);
    s_test_completion (&third, 3, "kamen", "luenen", 7);
    s_test_completion (&fourth, 4, "luenen", "kamen", 3);
    s_test_append (ledger, roster, &second, county->unna, county->kamen, 2);
    MDB_txn *txn = NULL;
    assert (br_store_begin (store, true, &txn) == BR_REASON_OK);
    uint64_t sequence = 0;
    s_test_sign (&third, county->kamen, county->luenen, provider_signature, receiver_signature);
    assert (br_ledger_append (ledger, txn, &third, provider_signature, receiver_signature, roster,
                              br_now_ms (), &sequence) == BR_REASON_OK);
    assert (sequence == 3);
    s_test_sign (&fourth, county->luenen, county->kamen, provider_signature, receiver_signature);
    assert (br_ledger_append (ledger, txn, &fourth, provider_signature, receiver_signature, roster,
                              br_now_ms (), &sequence) == BR_REASON_OK);
    assert (sequence == 4);
    assert (br_store_commit (&txn) == BR_REASON_OK);
    s_test_expect (ledger, roster, 4, 0, NULL);
    assert (s_test_balance (ledger, "luenen") == 10 - 7 + 3);
    assert (s_test_balance (ledger, "unna") == -10 + 4);
    assert (s_test_balance (ledger, "kamen") == -4 + 7 - 3);
    assert (s_test_balance (ledger, "selm") == 0);
    assert (s_test_total (ledger) == 0);
    assert (s_test_head (ledger, head_hash) == 4);

    //  Refusals; none of them leaves a record behind
    br_ledger_completion_t fifth;
    s_test_completion (&fifth, 5, "unna", "luenen", 2);
    s_test_sign (&fifth, county->unna, county->luenen, provider_signature, receiver_signature);
    int64_t now = br_now_ms ();
    uint8_t blank[BR_SIGNATURE_SIZE] = {0}, forged[BR_SIGNATURE_SIZE];
    //  Signed by one town only
    assert (br_ledger_append (ledger, NULL, &fifth, provider_signature, NULL, roster, now,
                              &sequence) == BR_REASON_BAD_SIGNATURE);
    assert (sequence == 0);
    assert (br_ledger_append (ledger, NULL, &fifth, NULL, receiver_signature, roster, now, NULL) ==
            BR_REASON_BAD_SIGNATURE);
    assert (br_ledger_append (ledger, NULL, &fifth, provider_signature, blank, roster, now, NULL) ==
            BR_REASON_BAD_SIGNATURE);
    assert (br_ledger_append (ledger, NULL, &fifth, provider_signature, provider_signature, roster,
                              now, NULL) == BR_REASON_BAD_SIGNATURE);
    //  Forged: the receiver's signature made with another key
    assert (br_ledger_sign (county->stranger, &fifth, forged) == BR_REASON_OK);
    assert (br_ledger_append (ledger, NULL, &fifth, provider_signature, forged, roster, now,
                              NULL) == BR_REASON_BAD_SIGNATURE);
    assert (br_ledger_sign (county->kamen, &fifth, forged) == BR_REASON_OK);
    assert (br_ledger_append (ledger, NULL, &fifth, forged, receiver_signature, roster, now,
                              NULL) == BR_REASON_BAD_SIGNATURE);
    //  Swapped signatures
    assert (br_ledger_append (ledger, NULL, &fifth, receiver_signature, provider_signature, roster,
                              now, NULL) == BR_REASON_BAD_SIGNATURE);
    //  Signatures over other hours than those appended
    bad = fifth;
    bad.hours = 20;
    assert (br_ledger_append (ledger, NULL, &bad, provider_signature, receiver_signature, roster,
                              now, NULL) == BR_REASON_BAD_SIGNATURE);
    //  A revoked town, an unknown one, the broker, the same town twice
    uint8_t selm_signature[BR_SIGNATURE_SIZE];
    s_test_completion (&bad, 6, "selm", "luenen", 2);
    s_test_sign (&bad, county->selm, county->luenen, selm_signature, receiver_signature);
    assert (br_ledger_append (ledger, NULL, &bad, selm_signature, receiver_signature, roster, now,
                              NULL) == BR_REASON_NODE_REVOKED);
    s_test_completion (&bad, 6, "luenen", "selm", 2);
    s_test_sign (&bad, county->luenen, county->selm, provider_signature, selm_signature);
    assert (br_ledger_append (ledger, NULL, &bad, provider_signature, selm_signature, roster, now,
                              NULL) == BR_REASON_NODE_REVOKED);
    s_test_completion (&bad, 6, "fremd", "luenen", 2);
    s_test_sign (&bad, county->stranger, county->luenen, forged, receiver_signature);
    assert (br_ledger_append (ledger, NULL, &bad, forged, receiver_signature, roster, now, NULL) ==
            BR_REASON_UNKNOWN_NODE);
    s_test_completion (&bad, 6, "luenen", "broker", 2);
    s_test_sign (&bad, county->luenen, county->broker, provider_signature, forged);
    assert (br_ledger_append (ledger, NULL, &bad, provider_signature, forged, roster, now, NULL) ==
            BR_REASON_FORBIDDEN);
    s_test_completion (&bad, 6, "luenen", "luenen", 2);
    br_identity_sign (county->luenen, (const uint8_t *) "x", 1, forged);
    assert (br_ledger_append (ledger, NULL, &bad, forged, forged, roster, now, NULL) ==
            BR_REASON_MALFORMED);
    //  Completed too far in the future
    s_test_completion (&bad, 6, "luenen", "unna", 2);
    bad.completed_ms = now + BR_LEDGER_CLOCK_SKEW_MS + 1000;
    s_test_sign (&bad, county->luenen, county->unna, provider_signature, receiver_signature);
    assert (br_ledger_append (ledger, NULL, &bad, provider_signature, receiver_signature, roster,
                              now, NULL) == BR_REASON_TOO_EARLY);
    //  A transfer id already in the ledger: the same completion again, and
    //  another completion, validly signed, under the same id
    s_test_sign (&completion, county->luenen, county->unna, provider_signature, receiver_signature);
    assert (br_ledger_append (ledger, NULL, &completion, provider_signature, receiver_signature,
                              roster, now, &sequence) == BR_REASON_REPLAYED);
    assert (sequence == 1);
    bad = completion;
    bad.hours = 11;
    s_test_sign (&bad, county->luenen, county->unna, provider_signature, receiver_signature);
    assert (br_ledger_append (ledger, NULL, &bad, provider_signature, receiver_signature, roster,
                              now, &sequence) == BR_REASON_REPLAYED);
    assert (sequence == 0);
    assert (s_test_head (ledger, NULL) == 4);
    s_test_expect (ledger, roster, 4, 0, NULL);
    assert (s_test_total (ledger) == 0);

    //  In the caller's transaction, a refusal leaves the transaction usable;
    //  an aborted transaction leaves nothing, and the head is not stale
    s_test_sign (&fifth, county->unna, county->luenen, provider_signature, receiver_signature);
    assert (br_store_begin (store, true, &txn) == BR_REASON_OK);
    assert (br_ledger_append (ledger, txn, &fifth, provider_signature, receiver_signature, roster,
                              now, &sequence) == BR_REASON_OK);
    assert (sequence == 5);
    assert (br_ledger_append (ledger, txn, &fifth, provider_signature, receiver_signature, roster,
                              now, &sequence) == BR_REASON_REPLAYED);
    assert (sequence == 5);
    br_store_abort (&txn);
    assert (s_test_head (ledger, NULL) == 4);
    assert (s_test_balance (ledger, "unna") == -6);
    assert (br_store_begin (store, true, &txn) == BR_REASON_OK);
    assert (br_ledger_append (ledger, txn, &fifth, provider_signature, receiver_signature, roster,
                              now, &sequence) == BR_REASON_OK);
    assert (sequence == 5);
    s_test_completion (&bad, 6, "kamen", "unna", 0);
    assert (br_ledger_append (ledger, txn, &bad, provider_signature, receiver_signature, roster,
                              now, NULL) == BR_REASON_MALFORMED);
    br_ledger_completion_t sixth;
    s_test_completion (&sixth, 6, "kamen", "unna", 1);
    s_test_sign (&sixth, county->kamen, county->unna, provider_signature, receiver_signature);
    assert (br_ledger_append (ledger, txn, &sixth, provider_signature, receiver_signature, roster,
                              now, &sequence) == BR_REASON_OK);
    assert (sequence == 6);
    assert (br_store_commit (&txn) == BR_REASON_OK);
    const uint64_t last = 6;
    s_test_expect (ledger, roster, last, 0, NULL);
    assert (s_test_balance (ledger, "luenen") == 6 - 2);
    assert (s_test_balance (ledger, "unna") == -6 + 2 - 1);
    assert (s_test_balance (ledger, "kamen") == 0 + 1);
    assert (s_test_total (ledger) == 0);

    //  Reading: records in order, balances in node id order
    s_test_copies_t copies = s_test_copies (ledger, 0);
    assert (zlistx_size (copies.records) == last);
    zlistx_destroy (&copies.records);
    copies = s_test_copies (ledger, 4);
    assert (zlistx_size (copies.records) == 2);
    zlistx_destroy (&copies.records);
    br_ledger_record_t record;
    s_test_value_t value;
    s_test_record_get (ledger, 3, &value);
    assert (br_ledger_record_decode (value.bytes, value.size, &record) == BR_REASON_OK);
    assert (record.sequence == 3 && record.completion.hours == 7);
    assert (streq (record.entries[0].node_id, "kamen") && record.entries[0].amount == 7);
    assert (streq (record.entries[1].node_id, "luenen") && record.entries[1].amount == -7);
    s_test_balances_t seen = {.count = 0};
    assert (br_ledger_balances (ledger, s_test_balance_seen, &seen) == 3);
    assert (streq (seen.node_ids[0], "kamen") && seen.balances[0] == 1);
    assert (streq (seen.node_ids[1], "luenen") && seen.balances[1] == 4);
    assert (streq (seen.node_ids[2], "unna") && seen.balances[2] == -5);

    //  Replication: a second ledger copies the records one by one
    char *replica_path;
    br_store_t *replica_store;
    br_ledger_t *replica = s_test_ledger_new ("br_ledger_replica", &replica_path, &replica_store);
    copies = s_test_copies (ledger, 0);
    zchunk_t *first = (zchunk_t *) zlistx_first (copies.records);
    zchunk_t *following = (zchunk_t *) zlistx_next (copies.records);
    assert (s_test_replicate (replica, following, roster) == BR_REASON_INVALID_STATE);
    assert (s_test_head (replica, NULL) == 0);
    assert (s_test_replicate (replica, first, roster) == BR_REASON_OK);
    assert (s_test_replicate (replica, first, roster) == BR_REASON_REPLAYED);
    //  A damaged copy is refused
    zchunk_t *damaged = zchunk_dup (following);
    zchunk_data (damaged)[1 + S_SEQUENCE_SIZE] ^= 0x01; //  its recorded time
    assert (s_test_replicate (replica, damaged, roster) == BR_REASON_MALFORMED);
    zchunk_destroy (&damaged);
    //  ... and so is one with other hours and fresh hashes, signed by nobody
    assert (s_record_parse (zchunk_data (following), zchunk_size (following), &record));
    record.completion.hours = 40;
    s_entries_fill (&record);
    uint8_t data[BR_LEDGER_RECORD_MAX];
    size_t size = s_record_encode (&record, data);
    assert (br_ledger_append_record (replica, NULL, data, size, roster) == BR_REASON_BAD_SIGNATURE);
    //  ... and one from a town the roster does not know
    s_test_completion (&record.completion, 77, "fremd", "unna", 2);
    s_entries_fill (&record);
    s_test_sign (&record.completion, county->stranger, county->unna, record.provider_signature,
                 record.receiver_signature);
    size = s_record_encode (&record, data);
    assert (br_ledger_append_record (replica, NULL, data, size, roster) == BR_REASON_UNKNOWN_NODE);
    //  ... and one that does not follow our head (another chain's record 2)
    assert (s_record_parse (zchunk_data (following), zchunk_size (following), &record));
    record.prev[0] ^= 0x01;
    size = s_record_encode (&record, data);
    assert (br_ledger_append_record (replica, NULL, data, size, roster) == BR_REASON_AUDIT_BROKEN);
    //  ... and a different record at a sequence we hold (a fork)
    assert (s_record_parse (zchunk_data (first), zchunk_size (first), &record));
    record.recorded_ms++;
    size = s_record_encode (&record, data);
    assert (br_ledger_append_record (replica, NULL, data, size, roster) == BR_REASON_AUDIT_BROKEN);
    assert (s_test_head (replica, NULL) == 1);
    //  The rest, in the caller's transaction, and one out of order
    assert (br_store_begin (replica_store, true, &txn) == BR_REASON_OK);
    zchunk_t *copy = following;
    assert (br_ledger_append_record (replica, txn, zchunk_data (copy), zchunk_size (copy),
                                     roster) == BR_REASON_OK);
    copy = (zchunk_t *) zlistx_next (copies.records);
    zchunk_t *fourth_copy = (zchunk_t *) zlistx_next (copies.records);
    assert (br_ledger_append_record (replica, txn, zchunk_data (fourth_copy),
                                     zchunk_size (fourth_copy), roster) == BR_REASON_INVALID_STATE);
    assert (br_ledger_append_record (replica, txn, zchunk_data (copy), zchunk_size (copy),
                                     roster) == BR_REASON_OK);
    assert (br_store_commit (&txn) == BR_REASON_OK);
    assert (s_test_head (replica, NULL) == 3);
    //  Records from a town revoked since still copy and verify
    assert (br_roster_draft_revoke (county->draft, "luenen") == BR_REASON_OK);
    br_roster_t *later_roster = br_testing_county_sign (county);
    for (copy = fourth_copy; copy; copy = (zchunk_t *) zlistx_next (copies.records))
        assert (s_test_replicate (replica, copy, later_roster) == BR_REASON_OK);
    zlistx_destroy (&copies.records);
    uint8_t replica_hash[BR_LEDGER_HASH_SIZE];
    assert (s_test_head (ledger, head_hash) == last);
    assert (s_test_head (replica, replica_hash) == last);
    assert (memcmp (head_hash, replica_hash, sizeof (head_hash)) == 0);
    s_test_expect (replica, roster, last, 0, NULL);
    s_test_expect (replica, later_roster, last, 0, NULL);
    assert (s_test_total (replica) == 0);
    assert (s_test_balance (replica, "unna") == -5);
    //  ... but no new completion of the revoked town enters
    s_test_completion (&bad, 8, "luenen", "unna", 2);
    s_test_sign (&bad, county->luenen, county->unna, provider_signature, receiver_signature);
    assert (br_ledger_append (replica, NULL, &bad, provider_signature, receiver_signature,
                              later_roster, now, NULL) == BR_REASON_NODE_REVOKED);
    br_roster_destroy (&later_roster);
    //  A roster that does not know a town fails verification at its first record
    zconfig_t *other_draft = br_roster_draft_new ("05978", "Kreis Unna");
    assert (br_roster_draft_add_node (other_draft, county->unna, "Unna", "05978036",
                                      BRUECKE__NODE_ROLE__ROLE_TOWN,
                                      "fruehe-hilfen") == BR_REASON_OK);
    assert (br_roster_draft_add_node (other_draft, county->kamen, "Kamen", "05978016",
                                      BRUECKE__NODE_ROLE__ROLE_TOWN, "jugendamt") == BR_REASON_OK);
    zconfig_t *county_draft = county->draft;
    county->draft = other_draft;
    br_roster_t *other_roster = br_testing_county_sign (county);
    county->draft = county_draft;
    zconfig_destroy (&other_draft);
    s_test_expect (replica, other_roster, 0, 1, S_PROBLEM_UNKNOWN);
    br_roster_destroy (&other_roster);
    s_test_ledger_destroy (&replica, &replica_path, &replica_store);

    //  Any edited byte of a record is found at that record, the hours too
    s_test_value_t original, edited;
    s_test_record_get (ledger, 2, &original);
    assert (s_record_parse (original.bytes, original.size, &record));
    size_t hours_offset = S_OFFSET_STATEMENT + S_STATEMENT_LENGTH_SIZE +
                          (size_t) ((original.bytes[S_OFFSET_STATEMENT] << 8) |
                                    original.bytes[S_OFFSET_STATEMENT + 1]) -
                          2 * S_INT_SIZE;
    assert (br_get_u64 (original.bytes + hours_offset) == 4);
    edited = original;
    br_put_u64 (edited.bytes + hours_offset, 40);
    s_test_record_put (ledger, 2, &edited);
    s_test_expect (ledger, roster, 0, 2, BR_CHAIN_EDITED);
    for (size_t offset = 0; offset < original.size; offset++) {
        edited = original;
        edited.bytes[offset] ^= 0x01;
        s_test_record_put (ledger, 2, &edited);
        s_test_expect (ledger, roster, 0, 2, BR_CHAIN_EDITED);
    }
    edited = original;
    edited.size--;
    s_test_record_put (ledger, 2, &edited);
    s_test_expect (ledger, roster, 0, 2, BR_CHAIN_EDITED);
    s_test_record_put (ledger, 2, &original);
    s_test_expect (ledger, roster, last, 0, NULL);

    //  A forger who changes the hours and recomputes every hash is caught
    //  by the towns' signatures
    assert (s_record_parse (original.bytes, original.size, &record));
    record.completion.hours = 40;
    s_entries_fill (&record);
    s_test_rewrite (ledger, &record);
    s_test_expect (ledger, roster, 0, 2, S_PROBLEM_SIGNATURE);
    //  ... entries that do not sum to zero, or do not match the completion
    assert (s_record_parse (original.bytes, original.size, &record));
    record.entries[1].amount = -3;
    s_test_rewrite (ledger, &record);
    s_test_expect (ledger, roster, 0, 2, S_PROBLEM_UNBALANCED);
    record.entries[0].amount = -4;
    record.entries[1].amount = 4;
    s_test_rewrite (ledger, &record);
    s_test_expect (ledger, roster, 0, 2, S_PROBLEM_ENTRIES);
    assert (s_record_parse (original.bytes, original.size, &record));
    s_test_rewrite (ledger, &record);
    s_test_expect (ledger, roster, last, 0, NULL);
    //  ... a record with its own hash recomputed breaks the link to the next
    assert (s_record_parse (original.bytes, original.size, &record));
    record.recorded_ms++;
    size = s_record_encode (&record, data);
    memcpy (edited.bytes, data, size);
    edited.size = size;
    s_test_record_put (ledger, 2, &edited);
    s_test_expect (ledger, roster, 0, 3, BR_CHAIN_BROKEN);
    s_test_record_put (ledger, 2, &original);
    s_test_expect (ledger, roster, last, 0, NULL);

    //  A deleted record in the middle, the first, the last
    s_test_value_t third_value, first_value, last_value;
    s_test_record_get (ledger, 3, &third_value);
    s_test_record_put (ledger, 3, NULL);
    s_test_expect (ledger, roster, 0, 3, BR_CHAIN_MISSING);
    s_test_record_put (ledger, 3, &third_value);
    s_test_record_get (ledger, 1, &first_value);
    s_test_record_put (ledger, 1, NULL);
    s_test_expect (ledger, roster, 0, 1, BR_CHAIN_MISSING);
    s_test_record_put (ledger, 1, &first_value);
    s_test_record_get (ledger, last, &last_value);
    s_test_record_put (ledger, last, NULL);
    s_test_expect (ledger, roster, 0, last, BR_CHAIN_MISSING);
    s_test_record_put (ledger, last, &last_value);
    s_test_expect (ledger, roster, last, 0, NULL);

    //  Two records swapped
    s_test_record_put (ledger, 2, &third_value);
    s_test_record_put (ledger, 3, &original);
    s_test_expect (ledger, roster, 0, 2, BR_CHAIN_MOVED);
    s_test_record_put (ledger, 2, &original);
    s_test_record_put (ledger, 3, &third_value);
    s_test_expect (ledger, roster, last, 0, NULL);

    //  Balances edited or deleted; the total shows an edit too
    s_test_value_t balance;
    assert (s_test_raw_get (ledger, ledger->balances, "unna", 4, &balance));
    uint8_t wrong[S_INT_SIZE];
    br_put_u64 (wrong, (uint64_t) (int64_t) -4);
    s_test_raw_set (ledger, ledger->balances, "unna", 4, wrong, sizeof (wrong));
    s_test_expect (ledger, roster, 0, last, S_PROBLEM_BALANCE);
    assert (s_test_total (ledger) == 1);
    s_test_raw_set (ledger, ledger->balances, "unna", 4, NULL, 0);
    s_test_expect (ledger, roster, 0, last, S_PROBLEM_BALANCE);
    s_test_raw_set (ledger, ledger->balances, "unna", 4, balance.bytes, balance.size);
    s_test_raw_set (ledger, ledger->balances, "selm", 4, blank, S_INT_SIZE);
    s_test_expect (ledger, roster, 0, last, S_PROBLEM_BALANCE);
    s_test_raw_set (ledger, ledger->balances, "selm", 4, NULL, 0);
    s_test_expect (ledger, roster, last, 0, NULL);

    //  The transfer index: an entry deleted, one pointing elsewhere
    s_test_value_t index_value;
    assert (s_test_raw_get (ledger, ledger->transfers, second.transfer_id,
                            BR_LEDGER_TRANSFER_ID_SIZE, &index_value));
    s_test_raw_set (ledger, ledger->transfers, second.transfer_id, BR_LEDGER_TRANSFER_ID_SIZE, NULL,
                    0);
    s_test_expect (ledger, roster, 0, 2, S_PROBLEM_INDEX);
    uint8_t elsewhere[S_SEQUENCE_SIZE];
    br_put_u64 (elsewhere, 1);
    s_test_raw_set (ledger, ledger->transfers, second.transfer_id, BR_LEDGER_TRANSFER_ID_SIZE,
                    elsewhere, sizeof (elsewhere));
    s_test_expect (ledger, roster, 0, 2, S_PROBLEM_REPEATED);
    s_test_raw_set (ledger, ledger->transfers, second.transfer_id, BR_LEDGER_TRANSFER_ID_SIZE,
                    index_value.bytes, index_value.size);
    s_test_raw_set (ledger, ledger->transfers, bad.transfer_id, BR_LEDGER_TRANSFER_ID_SIZE,
                    elsewhere, sizeof (elsewhere));
    s_test_expect (ledger, roster, 0, last, S_PROBLEM_INDEX);
    s_test_raw_set (ledger, ledger->transfers, bad.transfer_id, BR_LEDGER_TRANSFER_ID_SIZE, NULL,
                    0);
    s_test_expect (ledger, roster, last, 0, NULL);

    //  The head: malformed, moved back (appends then refuse), deleted
    s_test_value_t head;
    assert (s_test_raw_get (ledger, br_chain_heads (ledger->chain), S_HEAD_KEY, strlen (S_HEAD_KEY),
                            &head));
    s_test_raw_set (ledger, br_chain_heads (ledger->chain), S_HEAD_KEY, strlen (S_HEAD_KEY),
                    head.bytes, 5);
    s_test_expect (ledger, roster, 0, last, BR_CHAIN_BAD_HEAD);
    uint64_t head_sequence;
    assert (br_ledger_head (ledger, &head_sequence, head_hash) == BR_REASON_AUDIT_BROKEN);
    s_test_completion (&bad, 9, "unna", "kamen", 2);
    s_test_sign (&bad, county->unna, county->kamen, provider_signature, receiver_signature);
    assert (br_ledger_append (ledger, NULL, &bad, provider_signature, receiver_signature, roster,
                              now, NULL) == BR_REASON_AUDIT_BROKEN);
    s_test_value_t moved = head;
    br_put_u64 (moved.bytes, last - 1);
    s_test_record_get (ledger, last - 1, &value);
    memcpy (moved.bytes + S_SEQUENCE_SIZE, value.bytes + value.size - BR_LEDGER_HASH_SIZE,
            BR_LEDGER_HASH_SIZE);
    s_test_raw_set (ledger, br_chain_heads (ledger->chain), S_HEAD_KEY, strlen (S_HEAD_KEY),
                    moved.bytes, moved.size);
    s_test_expect (ledger, roster, 0, last, BR_CHAIN_AFTER_HEAD);
    assert (br_ledger_append (ledger, NULL, &bad, provider_signature, receiver_signature, roster,
                              now, NULL) == BR_REASON_AUDIT_BROKEN);
    s_test_raw_set (ledger, br_chain_heads (ledger->chain), S_HEAD_KEY, strlen (S_HEAD_KEY), NULL,
                    0);
    s_test_expect (ledger, roster, 0, last, BR_CHAIN_NO_HEAD);
    s_test_raw_set (ledger, br_chain_heads (ledger->chain), S_HEAD_KEY, strlen (S_HEAD_KEY),
                    head.bytes, head.size);
    s_test_expect (ledger, roster, last, 0, NULL);

    //  The ledger survives a reopen and continues its chain
    br_ledger_destroy (&ledger);
    br_store_destroy (&store);
    br_reason_t reason;
    store = br_store_new (path, 0, &reason);
    assert (store && reason == BR_REASON_OK);
    ledger = br_ledger_new (store, &reason);
    assert (ledger && reason == BR_REASON_OK);
    s_test_expect (ledger, roster, last, 0, NULL);
    assert (br_ledger_append (ledger, NULL, &bad, provider_signature, receiver_signature, roster,
                              now, &sequence) == BR_REASON_OK);
    assert (sequence == last + 1);
    s_test_expect (ledger, roster, last + 1, 0, NULL);
    assert (s_test_total (ledger) == 0);
    s_test_ledger_destroy (&ledger, &path, &store);

    //  Many random completions, valid and not
    s_prop_test (county, verbose);
    br_testing_county_destroy (&county);
    //  @end
    if (verbose)
        printf ("OK\n");
}
