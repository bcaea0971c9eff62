/*  =========================================================================
    br_ledger_record - the Transferbörse ledger's record format

    The statement and record layouts are in br_ledger_record.h. A record's
    envelope (format, sequence, time, prev, hash) is br_chain's; its
    payload is the statement, the entries and the signatures.
    =========================================================================
*/

#include "br_ledger_record.h"
#include "br_chain.h"
#include "br_testing.h"

//  Size of a signed 64-bit integer in statements and records.
#define S_INT_SIZE 8
//  Smallest statement: one-character ids and topic.
#define S_STATEMENT_MIN                                                                            \
    (BR_LEDGER_DOMAIN_SIZE + BR_LEDGER_TRANSFER_ID_SIZE + 3 * 2 + 2 * S_INT_SIZE)
//  Smallest record: smallest statement, one-character ids in the entries.
#define S_RECORD_MIN                                                                               \
    (BR_LEDGER_OFFSET_STATEMENT + BR_LEDGER_STATEMENT_LENGTH_SIZE + S_STATEMENT_MIN + 1 +          \
     BR_LEDGER_ENTRY_COUNT * (1 + 1 + S_INT_SIZE) + 2 * BR_SIGNATURE_SIZE + BR_LEDGER_HASH_SIZE)
//  The record's payload is br_chain's, and its hash the chain's
_Static_assert(BR_LEDGER_OFFSET_STATEMENT == BR_CHAIN_OFFSET_PAYLOAD, "payload offset");
_Static_assert(BR_LEDGER_HASH_SIZE == BR_CHAIN_HASH_SIZE, "hash size");

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

//  ---- Records ----------------------------------------------------------------

void
br_ledger_entries_of (const br_ledger_completion_t *completion,
                      br_ledger_entry_t entries[BR_LEDGER_ENTRY_COUNT])
{
    assert (completion && entries);
    snprintf (entries[0].node_id, sizeof (entries[0].node_id), "%s", completion->provider);
    entries[0].amount = completion->hours;
    snprintf (entries[1].node_id, sizeof (entries[1].node_id), "%s", completion->receiver);
    entries[1].amount = -completion->hours;
}

br_reason_t
br_ledger_record_encode (br_ledger_record_t *record, uint8_t data[BR_LEDGER_RECORD_MAX],
                         size_t *size)
{
    assert (record && data && size);
    *size = 0;
    if (br_ledger_completion_check (&record->completion) != BR_REASON_OK)
        return BR_REASON_MALFORMED;
    for (size_t index = 0; index < BR_LEDGER_ENTRY_COUNT; index++)
        if (!s_token_in_buffer (record->entries[index].node_id,
                                sizeof (record->entries[index].node_id), BR_NODE_ID_MAX))
            return BR_REASON_MALFORMED;
    //  The payload in place, then br_chain's envelope around it
    uint8_t *cursor = data + BR_LEDGER_OFFSET_STATEMENT + BR_LEDGER_STATEMENT_LENGTH_SIZE;
    size_t statement_size = s_statement_encode (&record->completion, cursor);
    data[BR_LEDGER_OFFSET_STATEMENT] = (uint8_t) (statement_size >> 8);
    data[BR_LEDGER_OFFSET_STATEMENT + 1] = (uint8_t) (statement_size & 0xff);
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
    *size = br_chain_seal (BR_LEDGER_FORMAT, record->sequence, record->recorded_ms, record->prev,
                           data + BR_LEDGER_OFFSET_STATEMENT,
                           (size_t) (cursor - data) - BR_LEDGER_OFFSET_STATEMENT, data);
    memcpy (record->hash, data + *size - BR_LEDGER_HASH_SIZE, BR_LEDGER_HASH_SIZE);
    assert (*size >= S_RECORD_MIN && *size <= BR_LEDGER_RECORD_MAX);
    record->data = data;
    record->size = *size;
    return BR_REASON_OK;
}

//  Reads a record's layout into *record, as br_ledger_record_parse; false
//  if it is not a well-formed record.
static bool
s_record_parse (const uint8_t *data, size_t size, br_ledger_record_t *record)
{
    br_chain_record_t envelope;
    if (!data || size < S_RECORD_MIN || size > BR_LEDGER_RECORD_MAX ||
        !br_chain_parse (BR_LEDGER_FORMAT, data, size, &envelope))
        return false;
    const uint8_t *end = data + size - BR_LEDGER_HASH_SIZE;
    record->sequence = envelope.sequence;
    record->recorded_ms = envelope.time_ms;
    memcpy (record->prev, envelope.prev, BR_LEDGER_HASH_SIZE);
    size_t statement_size = ((size_t) data[BR_LEDGER_OFFSET_STATEMENT] << 8) |
                            (size_t) data[BR_LEDGER_OFFSET_STATEMENT + 1];
    const uint8_t *cursor = data + BR_LEDGER_OFFSET_STATEMENT + BR_LEDGER_STATEMENT_LENGTH_SIZE;
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

br_reason_t
br_ledger_record_parse (const uint8_t *data, size_t size, br_ledger_record_t *record)
{
    assert (data || size == 0);
    assert (record);
    memset (record, 0, sizeof (*record));
    if (!s_record_parse (data, size, record)) {
        memset (record, 0, sizeof (*record));
        return BR_REASON_MALFORMED;
    }
    return BR_REASON_OK;
}

const char *
br_ledger_record_entries_problem (const br_ledger_record_t *record)
{
    assert (record);
    int64_t sum = 0;
    for (size_t index = 0; index < BR_LEDGER_ENTRY_COUNT; index++)
        if (__builtin_add_overflow (sum, record->entries[index].amount, &sum))
            return BR_LEDGER_PROBLEM_UNBALANCED;
    if (sum != 0)
        return BR_LEDGER_PROBLEM_UNBALANCED;
    const br_ledger_completion_t *completion = &record->completion;
    if (!streq (record->entries[0].node_id, completion->provider) ||
        record->entries[0].amount != completion->hours ||
        !streq (record->entries[1].node_id, completion->receiver) ||
        record->entries[1].amount != -completion->hours)
        return BR_LEDGER_PROBLEM_ENTRIES;
    return NULL;
}

br_reason_t
br_ledger_record_decode (const uint8_t *data, size_t size, br_ledger_record_t *record)
{
    assert (data || size == 0);
    assert (record);
    if (br_ledger_record_parse (data, size, record) != BR_REASON_OK ||
        !br_chain_hash_valid (data, size) || br_ledger_record_entries_problem (record) != NULL) {
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
    const Bruecke__RosterNode *node;
    reason = s_town_lookup (roster, node_id, false, &node);
    if (reason != BR_REASON_OK)
        return reason;
    return s_signature_holds (node, statement, size, signature) ? BR_REASON_OK
                                                                : BR_REASON_BAD_SIGNATURE;
}

br_reason_t
br_ledger_signatures_check (const br_ledger_completion_t *completion,
                            const uint8_t *provider_signature, const uint8_t *receiver_signature,
                            br_roster_t *roster, bool admitting)
{
    assert (completion && roster);
    uint8_t statement[BR_LEDGER_STATEMENT_MAX];
    size_t size;
    br_reason_t reason = br_ledger_statement (completion, statement, &size);
    if (reason != BR_REASON_OK)
        return reason;
    const Bruecke__RosterNode *provider, *receiver;
    reason = s_town_lookup (roster, completion->provider, admitting, &provider);
    if (reason == BR_REASON_OK)
        reason = s_town_lookup (roster, completion->receiver, admitting, &receiver);
    if (reason != BR_REASON_OK)
        return reason;
    if (!s_signature_holds (provider, statement, size, provider_signature) ||
        !s_signature_holds (receiver, statement, size, receiver_signature))
        return BR_REASON_BAD_SIGNATURE;
    return BR_REASON_OK;
}

//  --------------------------------------------------------------------------
//  Selftest

//  Completion time of the test completion: 2026-01-01T00:00:00Z + 1 ms.
#define S_TEST_COMPLETED_MS (1767225600000LL + 1)

void
br_ledger_record_test (bool verbose)
{
    if (verbose)
        printf (" * br_ledger_record: ");
    //  @selftest
    br_testing_county_t *county = br_testing_county_new ();
    br_ledger_completion_t completion;
    memset (&completion, 0, sizeof (completion)); //  padding too, for memcmp
    completion.transfer_id[0] = 0x7b;
    completion.transfer_id[BR_LEDGER_TRANSFER_ID_SIZE - 1] = 1;
    strcpy (completion.provider, "luenen");
    strcpy (completion.receiver, "unna");
    strcpy (completion.topic, "fruehe-hilfen");
    completion.hours = 10;
    completion.completed_ms = S_TEST_COMPLETED_MS;

    //  The statement's exact layout
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
    assert (br_get_u64 (statement + 67) == (uint64_t) S_TEST_COMPLETED_MS);
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
    br_ledger_record_t record = {.sequence = 1, .recorded_ms = S_TEST_COMPLETED_MS};
    assert (br_ledger_sign (county->luenen, &bad, record.provider_signature) ==
            BR_REASON_MALFORMED);

    //  Signatures: each town's, both, and the towns a new completion may name
    record.completion = completion;
    assert (br_ledger_sign (county->luenen, &completion, record.provider_signature) ==
            BR_REASON_OK);
    assert (br_ledger_sign (county->unna, &completion, record.receiver_signature) == BR_REASON_OK);
    br_roster_t *roster = county->roster;
    assert (br_ledger_signature_check (&completion, "luenen", record.provider_signature, roster) ==
            BR_REASON_OK);
    assert (br_ledger_signature_check (&completion, "unna", record.provider_signature, roster) ==
            BR_REASON_BAD_SIGNATURE);
    assert (br_ledger_signature_check (&completion, "fremd", record.provider_signature, roster) ==
            BR_REASON_UNKNOWN_NODE);
    assert (br_ledger_signatures_check (&completion, record.provider_signature,
                                        record.receiver_signature, roster, true) == BR_REASON_OK);
    assert (br_ledger_signatures_check (&completion, record.receiver_signature,
                                        record.provider_signature, roster,
                                        false) == BR_REASON_BAD_SIGNATURE);
    assert (br_ledger_signatures_check (&completion, record.provider_signature, NULL, roster,
                                        false) == BR_REASON_BAD_SIGNATURE);
    bad = completion;
    snprintf (bad.receiver, sizeof (bad.receiver), "selm");
    assert (br_ledger_signatures_check (&bad, NULL, NULL, roster, true) == BR_REASON_NODE_REVOKED);
    assert (br_ledger_signatures_check (&bad, NULL, NULL, roster, false) ==
            BR_REASON_BAD_SIGNATURE);
    snprintf (bad.receiver, sizeof (bad.receiver), "broker");
    assert (br_ledger_signatures_check (&bad, NULL, NULL, roster, true) == BR_REASON_FORBIDDEN);

    //  A record: encoded, decoded, and parsed even where it does not decode
    br_ledger_entries_of (&completion, record.entries);
    assert (streq (record.entries[0].node_id, "luenen") && record.entries[0].amount == 10);
    assert (streq (record.entries[1].node_id, "unna") && record.entries[1].amount == -10);
    uint8_t data[BR_LEDGER_RECORD_MAX];
    size_t size = 0;
    assert (br_ledger_record_encode (&record, data, &size) == BR_REASON_OK);
    assert (size == 1 + 8 + 8 + 32 + 2 + statement_size + 1 + 2 * 9 + 6 + 4 + 2 * 64 + 32);
    assert (data[0] == BR_LEDGER_FORMAT && record.data == data && record.size == size);
    assert (br_get_u64 (data + BR_LEDGER_OFFSET_RECORDED) == (uint64_t) S_TEST_COMPLETED_MS);
    assert (memcmp (data + BR_LEDGER_OFFSET_STATEMENT + 2, statement, statement_size) == 0);
    br_ledger_record_t read;
    assert (br_ledger_record_decode (data, size, &read) == BR_REASON_OK);
    assert (read.sequence == 1 && read.data == data && read.size == size);
    assert (memcmp (&read.completion, &completion, sizeof (completion)) == 0);
    assert (memcmp (read.hash, record.hash, BR_LEDGER_HASH_SIZE) == 0);
    assert (br_ledger_record_entries_problem (&read) == NULL);
    assert (br_ledger_record_decode (data, size - 1, &read) == BR_REASON_MALFORMED);
    assert (br_ledger_record_parse (data, size - 1, &read) == BR_REASON_MALFORMED);
    data[BR_LEDGER_OFFSET_RECORDED] ^= 0x01; //  the hash no longer holds
    assert (br_ledger_record_decode (data, size, &read) == BR_REASON_MALFORMED);
    assert (read.sequence == 0);
    assert (br_ledger_record_parse (data, size, &read) == BR_REASON_OK);
    record.entries[1].amount = -9;
    assert (br_ledger_record_encode (&record, data, &size) == BR_REASON_OK);
    assert (br_ledger_record_decode (data, size, &read) == BR_REASON_MALFORMED);
    assert (br_ledger_record_parse (data, size, &read) == BR_REASON_OK);
    assert (streq (br_ledger_record_entries_problem (&read), BR_LEDGER_PROBLEM_UNBALANCED));
    read.entries[0].amount = -10;
    read.entries[1].amount = 10;
    assert (streq (br_ledger_record_entries_problem (&read), BR_LEDGER_PROBLEM_ENTRIES));
    record.entries[1].node_id[0] = 'U'; //  not a token
    assert (br_ledger_record_encode (&record, data, &size) == BR_REASON_MALFORMED && size == 0);
    record.completion.hours = 0;
    assert (br_ledger_record_encode (&record, data, &size) == BR_REASON_MALFORMED);

    assert (
        streq (br_ledger_state_name (BRUECKE__AGREEMENT_STATE__AGREEMENT_COMPLETED), "completed"));
    assert (streq (br_ledger_state_name (-1), "unknown"));
    br_testing_county_destroy (&county);
    //  @end
    if (verbose)
        printf ("OK\n");
}
