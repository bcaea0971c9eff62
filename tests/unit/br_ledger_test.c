/*  =========================================================================
    br_ledger_test - the ledger's scenario: towns append, refuse, replicate
    and tamper

    The scenario test of br_ledger (bruecke-selftest -t ledger_scenario):
    completions of the invented county (br_testing) appended in their own
    transactions and the caller's; refusals that leave nothing behind;
    reading; a replica copying the records, refusing damaged, forged and
    forked ones; a revoked town; every kind of tampering with the stored
    records, balances, transfer index and head found by verification; a
    reopen; and a property test of random completions against a model.
    br_ledger's own selftest is a short tour of its API; the statement and
    record layouts are tested in br_ledger_record's. Only the public API
    is used: the databases are opened by their documented names, as
    someone editing the file would.
    =========================================================================
*/

#include "bruecke.h"
#include "br_ledger.h"
#include "br_chain.h"
#include "br_roster_draft.h"
#include "br_testing.h"

//  --------------------------------------------------------------------------
//  Helpers

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

//  The ledger's databases, opened by their documented names.
typedef struct {
    br_store_t *store; //  their environment
    MDB_dbi records;   //  BR_LEDGER_DB_RECORDS
    MDB_dbi meta;      //  BR_LEDGER_DB_META: the head
    MDB_dbi balances;  //  BR_LEDGER_DB_BALANCES
    MDB_dbi transfers; //  BR_LEDGER_DB_TRANSFERS
} s_test_dbs_t;

//  Opens the ledger's databases in `store`, which holds a ledger.
static s_test_dbs_t
s_test_dbs (br_store_t *store)
{
    s_test_dbs_t dbs = {.store = store};
    const br_store_db_t names[] = {{BR_LEDGER_DB_RECORDS, &dbs.records},
                                   {BR_LEDGER_DB_META, &dbs.meta},
                                   {BR_LEDGER_DB_BALANCES, &dbs.balances},
                                   {BR_LEDGER_DB_TRANSFERS, &dbs.transfers}};
    assert (br_store_open_dbs (store, names, sizeof (names) / sizeof (names[0])) == BR_REASON_OK);
    return dbs;
}

//  A copy of a stored value, as someone editing the file would have it.
typedef struct {
    uint8_t bytes[BR_LEDGER_RECORD_MAX]; //  the value
    size_t size;                         //  its size
} s_test_value_t;

//  Reads a raw value; false if there is none.
static bool
s_test_raw_get (s_test_dbs_t *dbs, MDB_dbi dbi, const void *key, size_t key_size,
                s_test_value_t *copy)
{
    MDB_txn *txn = NULL;
    assert (br_store_begin (dbs->store, false, &txn) == BR_REASON_OK);
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
s_test_raw_set (s_test_dbs_t *dbs, MDB_dbi dbi, const void *key, size_t key_size, const void *value,
                size_t size)
{
    MDB_txn *txn = NULL;
    assert (br_store_begin (dbs->store, true, &txn) == BR_REASON_OK);
    MDB_val key_val = {.mv_size = key_size, .mv_data = (void *) key};
    MDB_val value_val = {.mv_size = size, .mv_data = (void *) value};
    if (value)
        assert (mdb_put (txn, dbi, &key_val, &value_val, 0) == MDB_SUCCESS);
    else
        assert (mdb_del (txn, dbi, &key_val, NULL) == MDB_SUCCESS);
    assert (br_store_commit (&txn) == BR_REASON_OK);
}

static void
s_test_record_get (s_test_dbs_t *dbs, uint64_t sequence, s_test_value_t *copy)
{
    uint8_t key[BR_CHAIN_SEQUENCE_SIZE];
    br_put_u64 (key, sequence);
    assert (s_test_raw_get (dbs, dbs->records, key, sizeof (key), copy));
}

//  Writes `copy` as record `sequence`, or deletes the record if NULL.
static void
s_test_record_put (s_test_dbs_t *dbs, uint64_t sequence, const s_test_value_t *copy)
{
    uint8_t key[BR_CHAIN_SEQUENCE_SIZE];
    br_put_u64 (key, sequence);
    s_test_raw_set (dbs, dbs->records, key, sizeof (key), copy ? copy->bytes : NULL,
                    copy ? copy->size : 0);
}

//  Replaces record `edited->sequence` with `edited` and, as a careful forger
//  would, re-links every later record and the head to it with fresh hashes.
static void
s_test_rewrite (br_ledger_t *ledger, s_test_dbs_t *dbs, br_ledger_record_t *edited)
{
    uint8_t data[BR_LEDGER_RECORD_MAX];
    s_test_value_t value;
    assert (br_ledger_record_encode (edited, data, &value.size) == BR_REASON_OK);
    memcpy (value.bytes, data, value.size);
    s_test_record_put (dbs, edited->sequence, &value);
    uint8_t prev[BR_LEDGER_HASH_SIZE];
    memcpy (prev, edited->hash, BR_LEDGER_HASH_SIZE);
    uint64_t last = s_test_head (ledger, NULL);
    uint64_t sequence = edited->sequence;
    for (sequence = edited->sequence + 1; sequence <= last; sequence++) {
        br_ledger_record_t record;
        s_test_record_get (dbs, sequence, &value);
        assert (br_ledger_record_parse (value.bytes, value.size, &record) == BR_REASON_OK);
        memcpy (record.prev, prev, BR_LEDGER_HASH_SIZE);
        assert (br_ledger_record_encode (&record, data, &value.size) == BR_REASON_OK);
        memcpy (value.bytes, data, value.size);
        s_test_record_put (dbs, sequence, &value);
        memcpy (prev, record.hash, BR_LEDGER_HASH_SIZE);
    }
    uint8_t head[BR_CHAIN_HEAD_SIZE];
    br_put_u64 (head, last);
    memcpy (head + BR_CHAIN_SEQUENCE_SIZE, prev, BR_LEDGER_HASH_SIZE);
    s_test_raw_set (dbs, dbs->meta, BR_CHAIN_HEAD_KEY, strlen (BR_CHAIN_HEAD_KEY), head,
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
br_ledger_scenario_test (bool verbose)
{
    if (verbose)
        printf (" * br_ledger_scenario: ");
    br_testing_county_t *county = br_testing_county_new ();
    br_roster_t *roster = county->roster;
    char *path;
    br_store_t *store;
    br_ledger_t *ledger = s_test_ledger_new ("br_ledger_scenario", &path, &store);
    s_test_dbs_t dbs = s_test_dbs (store);

    //  An empty ledger is intact, sums to zero, and its head is all zeros
    s_test_expect (ledger, roster, 0, 0, NULL);
    uint8_t head_hash[BR_LEDGER_HASH_SIZE], zeros[BR_LEDGER_HASH_SIZE] = {0};
    assert (s_test_head (ledger, head_hash) == 0);
    assert (memcmp (head_hash, zeros, sizeof (zeros)) == 0);
    assert (s_test_total (ledger) == 0);
    assert (s_test_balance (ledger, "luenen") == 0);

    //  The statement's layout and the completions that cannot be signed
    //  are tested in br_ledger_record's selftest
    br_ledger_completion_t completion;
    s_test_completion (&completion, 1, "luenen", "unna", 10);
    br_ledger_completion_t bad;
    uint8_t provider_signature[BR_SIGNATURE_SIZE], receiver_signature[BR_SIGNATURE_SIZE];

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
    s_test_record_get (&dbs, 3, &value);
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
    zchunk_data (damaged)[BR_LEDGER_OFFSET_RECORDED] ^= 0x01; //  its recorded time
    assert (s_test_replicate (replica, damaged, roster) == BR_REASON_MALFORMED);
    zchunk_destroy (&damaged);
    //  ... and so is one with other hours and fresh hashes, signed by nobody
    assert (br_ledger_record_parse (zchunk_data (following), zchunk_size (following), &record) ==
            BR_REASON_OK);
    record.completion.hours = 40;
    br_ledger_entries_of (&record.completion, record.entries);
    uint8_t data[BR_LEDGER_RECORD_MAX];
    size_t size;
    assert (br_ledger_record_encode (&record, data, &size) == BR_REASON_OK);
    assert (br_ledger_append_record (replica, NULL, data, size, roster) == BR_REASON_BAD_SIGNATURE);
    //  ... and one from a town the roster does not know
    s_test_completion (&record.completion, 77, "fremd", "unna", 2);
    br_ledger_entries_of (&record.completion, record.entries);
    s_test_sign (&record.completion, county->stranger, county->unna, record.provider_signature,
                 record.receiver_signature);
    assert (br_ledger_record_encode (&record, data, &size) == BR_REASON_OK);
    assert (br_ledger_append_record (replica, NULL, data, size, roster) == BR_REASON_UNKNOWN_NODE);
    //  ... and one that does not follow our head (another chain's record 2)
    assert (br_ledger_record_parse (zchunk_data (following), zchunk_size (following), &record) ==
            BR_REASON_OK);
    record.prev[0] ^= 0x01;
    assert (br_ledger_record_encode (&record, data, &size) == BR_REASON_OK);
    assert (br_ledger_append_record (replica, NULL, data, size, roster) == BR_REASON_AUDIT_BROKEN);
    //  ... and a different record at a sequence we hold (a fork)
    assert (br_ledger_record_parse (zchunk_data (first), zchunk_size (first), &record) ==
            BR_REASON_OK);
    record.recorded_ms++;
    assert (br_ledger_record_encode (&record, data, &size) == BR_REASON_OK);
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
    s_test_expect (replica, other_roster, 0, 1, BR_LEDGER_PROBLEM_UNKNOWN);
    br_roster_destroy (&other_roster);
    s_test_ledger_destroy (&replica, &replica_path, &replica_store);

    //  Any edited byte of a record is found at that record, the hours too
    s_test_value_t original, edited;
    s_test_record_get (&dbs, 2, &original);
    assert (br_ledger_record_parse (original.bytes, original.size, &record) == BR_REASON_OK);
    size_t hours_offset = BR_LEDGER_OFFSET_STATEMENT + BR_LEDGER_STATEMENT_LENGTH_SIZE +
                          (size_t) ((original.bytes[BR_LEDGER_OFFSET_STATEMENT] << 8) |
                                    original.bytes[BR_LEDGER_OFFSET_STATEMENT + 1]) -
                          2 * sizeof (int64_t);
    assert (br_get_u64 (original.bytes + hours_offset) == 4);
    edited = original;
    br_put_u64 (edited.bytes + hours_offset, 40);
    s_test_record_put (&dbs, 2, &edited);
    s_test_expect (ledger, roster, 0, 2, BR_CHAIN_EDITED);
    for (size_t offset = 0; offset < original.size; offset++) {
        edited = original;
        edited.bytes[offset] ^= 0x01;
        s_test_record_put (&dbs, 2, &edited);
        s_test_expect (ledger, roster, 0, 2, BR_CHAIN_EDITED);
    }
    edited = original;
    edited.size--;
    s_test_record_put (&dbs, 2, &edited);
    s_test_expect (ledger, roster, 0, 2, BR_CHAIN_EDITED);
    s_test_record_put (&dbs, 2, &original);
    s_test_expect (ledger, roster, last, 0, NULL);

    //  A forger who changes the hours and recomputes every hash is caught
    //  by the towns' signatures
    assert (br_ledger_record_parse (original.bytes, original.size, &record) == BR_REASON_OK);
    record.completion.hours = 40;
    br_ledger_entries_of (&record.completion, record.entries);
    s_test_rewrite (ledger, &dbs, &record);
    s_test_expect (ledger, roster, 0, 2, BR_LEDGER_PROBLEM_SIGNATURE);
    //  ... entries that do not sum to zero, or do not match the completion
    assert (br_ledger_record_parse (original.bytes, original.size, &record) == BR_REASON_OK);
    record.entries[1].amount = -3;
    s_test_rewrite (ledger, &dbs, &record);
    s_test_expect (ledger, roster, 0, 2, BR_LEDGER_PROBLEM_UNBALANCED);
    record.entries[0].amount = -4;
    record.entries[1].amount = 4;
    s_test_rewrite (ledger, &dbs, &record);
    s_test_expect (ledger, roster, 0, 2, BR_LEDGER_PROBLEM_ENTRIES);
    assert (br_ledger_record_parse (original.bytes, original.size, &record) == BR_REASON_OK);
    s_test_rewrite (ledger, &dbs, &record);
    s_test_expect (ledger, roster, last, 0, NULL);
    //  ... a record with its own hash recomputed breaks the link to the next
    assert (br_ledger_record_parse (original.bytes, original.size, &record) == BR_REASON_OK);
    record.recorded_ms++;
    assert (br_ledger_record_encode (&record, data, &size) == BR_REASON_OK);
    memcpy (edited.bytes, data, size);
    edited.size = size;
    s_test_record_put (&dbs, 2, &edited);
    s_test_expect (ledger, roster, 0, 3, BR_CHAIN_BROKEN);
    s_test_record_put (&dbs, 2, &original);
    s_test_expect (ledger, roster, last, 0, NULL);

    //  A deleted record in the middle, the first, the last
    s_test_value_t third_value, first_value, last_value;
    s_test_record_get (&dbs, 3, &third_value);
    s_test_record_put (&dbs, 3, NULL);
    s_test_expect (ledger, roster, 0, 3, BR_CHAIN_MISSING);
    s_test_record_put (&dbs, 3, &third_value);
    s_test_record_get (&dbs, 1, &first_value);
    s_test_record_put (&dbs, 1, NULL);
    s_test_expect (ledger, roster, 0, 1, BR_CHAIN_MISSING);
    s_test_record_put (&dbs, 1, &first_value);
    s_test_record_get (&dbs, last, &last_value);
    s_test_record_put (&dbs, last, NULL);
    s_test_expect (ledger, roster, 0, last, BR_CHAIN_MISSING);
    s_test_record_put (&dbs, last, &last_value);
    s_test_expect (ledger, roster, last, 0, NULL);

    //  Two records swapped
    s_test_record_put (&dbs, 2, &third_value);
    s_test_record_put (&dbs, 3, &original);
    s_test_expect (ledger, roster, 0, 2, BR_CHAIN_MOVED);
    s_test_record_put (&dbs, 2, &original);
    s_test_record_put (&dbs, 3, &third_value);
    s_test_expect (ledger, roster, last, 0, NULL);

    //  Balances edited or deleted; the total shows an edit too
    s_test_value_t balance;
    assert (s_test_raw_get (&dbs, dbs.balances, "unna", 4, &balance));
    uint8_t wrong[BR_LEDGER_BALANCE_SIZE];
    br_put_u64 (wrong, (uint64_t) (int64_t) -4);
    s_test_raw_set (&dbs, dbs.balances, "unna", 4, wrong, sizeof (wrong));
    s_test_expect (ledger, roster, 0, last, BR_LEDGER_PROBLEM_BALANCE);
    assert (s_test_total (ledger) == 1);
    s_test_raw_set (&dbs, dbs.balances, "unna", 4, NULL, 0);
    s_test_expect (ledger, roster, 0, last, BR_LEDGER_PROBLEM_BALANCE);
    s_test_raw_set (&dbs, dbs.balances, "unna", 4, balance.bytes, balance.size);
    s_test_raw_set (&dbs, dbs.balances, "selm", 4, blank, BR_LEDGER_BALANCE_SIZE);
    s_test_expect (ledger, roster, 0, last, BR_LEDGER_PROBLEM_BALANCE);
    s_test_raw_set (&dbs, dbs.balances, "selm", 4, NULL, 0);
    s_test_expect (ledger, roster, last, 0, NULL);

    //  The transfer index: an entry deleted, one pointing elsewhere
    s_test_value_t index_value;
    assert (s_test_raw_get (&dbs, dbs.transfers, second.transfer_id, BR_LEDGER_TRANSFER_ID_SIZE,
                            &index_value));
    s_test_raw_set (&dbs, dbs.transfers, second.transfer_id, BR_LEDGER_TRANSFER_ID_SIZE, NULL, 0);
    s_test_expect (ledger, roster, 0, 2, BR_LEDGER_PROBLEM_INDEX);
    uint8_t elsewhere[BR_CHAIN_SEQUENCE_SIZE];
    br_put_u64 (elsewhere, 1);
    s_test_raw_set (&dbs, dbs.transfers, second.transfer_id, BR_LEDGER_TRANSFER_ID_SIZE, elsewhere,
                    sizeof (elsewhere));
    s_test_expect (ledger, roster, 0, 2, BR_LEDGER_PROBLEM_REPEATED);
    s_test_raw_set (&dbs, dbs.transfers, second.transfer_id, BR_LEDGER_TRANSFER_ID_SIZE,
                    index_value.bytes, index_value.size);
    s_test_raw_set (&dbs, dbs.transfers, bad.transfer_id, BR_LEDGER_TRANSFER_ID_SIZE, elsewhere,
                    sizeof (elsewhere));
    s_test_expect (ledger, roster, 0, last, BR_LEDGER_PROBLEM_INDEX);
    s_test_raw_set (&dbs, dbs.transfers, bad.transfer_id, BR_LEDGER_TRANSFER_ID_SIZE, NULL, 0);
    s_test_expect (ledger, roster, last, 0, NULL);

    //  The head: malformed, moved back (appends then refuse), deleted
    s_test_value_t head;
    assert (s_test_raw_get (&dbs, dbs.meta, BR_CHAIN_HEAD_KEY, strlen (BR_CHAIN_HEAD_KEY), &head));
    s_test_raw_set (&dbs, dbs.meta, BR_CHAIN_HEAD_KEY, strlen (BR_CHAIN_HEAD_KEY), head.bytes, 5);
    s_test_expect (ledger, roster, 0, last, BR_CHAIN_BAD_HEAD);
    uint64_t head_sequence;
    assert (br_ledger_head (ledger, &head_sequence, head_hash) == BR_REASON_AUDIT_BROKEN);
    s_test_completion (&bad, 9, "unna", "kamen", 2);
    s_test_sign (&bad, county->unna, county->kamen, provider_signature, receiver_signature);
    assert (br_ledger_append (ledger, NULL, &bad, provider_signature, receiver_signature, roster,
                              now, NULL) == BR_REASON_AUDIT_BROKEN);
    s_test_value_t moved = head;
    br_put_u64 (moved.bytes, last - 1);
    s_test_record_get (&dbs, last - 1, &value);
    memcpy (moved.bytes + BR_CHAIN_SEQUENCE_SIZE, value.bytes + value.size - BR_LEDGER_HASH_SIZE,
            BR_LEDGER_HASH_SIZE);
    s_test_raw_set (&dbs, dbs.meta, BR_CHAIN_HEAD_KEY, strlen (BR_CHAIN_HEAD_KEY), moved.bytes,
                    moved.size);
    s_test_expect (ledger, roster, 0, last, BR_CHAIN_AFTER_HEAD);
    assert (br_ledger_append (ledger, NULL, &bad, provider_signature, receiver_signature, roster,
                              now, NULL) == BR_REASON_AUDIT_BROKEN);
    s_test_raw_set (&dbs, dbs.meta, BR_CHAIN_HEAD_KEY, strlen (BR_CHAIN_HEAD_KEY), NULL, 0);
    s_test_expect (ledger, roster, 0, last, BR_CHAIN_NO_HEAD);
    s_test_raw_set (&dbs, dbs.meta, BR_CHAIN_HEAD_KEY, strlen (BR_CHAIN_HEAD_KEY), head.bytes,
                    head.size);
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
    if (verbose)
        printf ("OK\n");
}
