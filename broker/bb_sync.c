/*  =========================================================================
    bb_sync - the Transferbörse's updates for one town
    =========================================================================
*/

#include "bruecke.h"
#include "bb_sync.h"

//  The parts of one update being packed.
typedef struct {
    size_t budget;                //  bytes of entries in one part
    bb_sync_send_fn *send;        //  the caller's sending
    void *argument;               //  its argument
    zlistx_t *pieces;             //  what the part's entries point into
    ProtobufCBinaryData *records; //  ledger records of the part
    void **entries;               //  board changes or items of the part
    size_t count;                 //  entries or records in the part
    size_t bytes;                 //  their size
    uint64_t head;                //  the head the update is current to
    bool snapshot_started;        //  a snapshot part went out
    bool failed;                  //  a part could not go: send no more
} s_packer_t;

static void
s_destroy_message (void **item)
{
    br_proto_free ((ProtobufCMessage **) item);
}

static void
s_free_bytes (void **item)
{
    free (*item);
    *item = NULL;
}

static void
s_packer_init (s_packer_t *packer, size_t budget, bb_sync_send_fn *send, void *argument,
               uint64_t head, zlistx_destructor_fn *destructor)
{
    memset (packer, 0, sizeof (*packer));
    packer->budget = budget;
    packer->send = send;
    packer->argument = argument;
    packer->head = head;
    packer->pieces = zlistx_new ();
    zlistx_set_destructor (packer->pieces, destructor);
}

static void
s_packer_clear (s_packer_t *packer)
{
    zlistx_purge (packer->pieces);
    free (packer->entries);
    free (packer->records);
    packer->entries = NULL;
    packer->records = NULL;
    packer->count = 0;
    packer->bytes = 0;
}

static void
s_packer_destroy (s_packer_t *packer)
{
    s_packer_clear (packer);
    zlistx_destroy (&packer->pieces);
}

//  ---- The board --------------------------------------------------------------

//  Sends the board part packed so far; `last` ends a snapshot.
static void
s_board_flush (s_packer_t *packer, bool snapshot, bool last)
{
    if (packer->failed || (packer->count == 0 && !(snapshot && last))) {
        s_packer_clear (packer);
        return;
    }
    Bruecke__BoardUpdate update = BRUECKE__BOARD_UPDATE__INIT;
    update.head = packer->head;
    if (snapshot) {
        update.snapshot = true;
        update.first = !packer->snapshot_started;
        update.last = last;
        update.items = (Bruecke__SignedBoardItem **) packer->entries;
        update.n_items = packer->count;
        packer->snapshot_started = true;
    } else {
        update.changes = (Bruecke__BoardChange **) packer->entries;
        update.n_changes = packer->count;
        update.after = update.changes[0]->sequence - 1;
    }
    packer->failed =
        !packer->send (packer->argument, BRUECKE__MESSAGE_TYPE__TYPE_BOARD_UPDATE, &update.base);
    s_packer_clear (packer);
}

//  Adds one decoded entry to the part, sending the part when full.
static void
s_board_add (s_packer_t *packer, ProtobufCMessage *entry, size_t size, bool snapshot)
{
    if (packer->count > 0 && packer->bytes + size > packer->budget)
        s_board_flush (packer, snapshot, false);
    packer->entries = (void **) realloc (packer->entries, (packer->count + 1) * sizeof (void *));
    assert (packer->entries);
    packer->entries[packer->count++] = entry;
    packer->bytes += size;
    zlistx_add_end (packer->pieces, entry);
}

static void
s_pack_change (void *argument, uint64_t sequence, const uint8_t *data, size_t size)
{
    (void) sequence;
    br_reason_t reason;
    ProtobufCMessage *change = br_proto_decode (&bruecke__board_change__descriptor, data, size,
                                                BR_BOARD_CHANGE_MAX, &reason);
    if (change)
        s_board_add ((s_packer_t *) argument, change, size, false);
}

static void
s_pack_item (void *argument, const uint8_t *data, size_t size)
{
    br_reason_t reason;
    ProtobufCMessage *item = br_proto_decode (&bruecke__signed_board_item__descriptor, data, size,
                                              BR_BOARD_SIGNED_MAX, &reason);
    if (item)
        s_board_add ((s_packer_t *) argument, item, size, true);
}

void
bb_sync_board (br_board_t *board, uint64_t after, bool snapshot, size_t budget,
               bb_sync_send_fn *send, void *argument)
{
    assert (board && send);
    uint64_t head = 0;
    if (br_board_head (board, &head) != BR_REASON_OK || (after == head && !snapshot))
        return;
    s_packer_t packer;
    s_packer_init (&packer, budget, send, argument, head, s_destroy_message);
    if (snapshot || br_board_needs_snapshot (board, after)) {
        if (br_board_snapshot (board, s_pack_item, &packer, &packer.head) == BR_REASON_OK)
            s_board_flush (&packer, true, true);
    } else {
        br_board_changes (board, after, SIZE_MAX, s_pack_change, &packer);
        s_board_flush (&packer, false, false);
    }
    s_packer_destroy (&packer);
}

//  ---- The ledger -------------------------------------------------------------

static void
s_ledger_flush (s_packer_t *packer)
{
    if (packer->failed || packer->count == 0) {
        s_packer_clear (packer);
        return;
    }
    Bruecke__LedgerUpdate update = BRUECKE__LEDGER_UPDATE__INIT;
    update.records = packer->records;
    update.n_records = packer->count;
    update.head = packer->head;
    packer->failed =
        !packer->send (packer->argument, BRUECKE__MESSAGE_TYPE__TYPE_LEDGER_UPDATE, &update.base);
    s_packer_clear (packer);
}

static void
s_pack_record (void *argument, const br_ledger_record_t *record)
{
    s_packer_t *packer = (s_packer_t *) argument;
    if (packer->count > 0 && packer->bytes + record->size > packer->budget)
        s_ledger_flush (packer);
    packer->records = (ProtobufCBinaryData *) realloc (
        packer->records, (packer->count + 1) * sizeof (ProtobufCBinaryData));
    assert (packer->records);
    uint8_t *copy = (uint8_t *) malloc (record->size);
    assert (copy);
    memcpy (copy, record->data, record->size);
    zlistx_add_end (packer->pieces, copy);
    packer->records[packer->count].data = copy;
    packer->records[packer->count++].len = record->size;
    packer->bytes += record->size;
}

void
bb_sync_ledger (br_ledger_t *ledger, uint64_t after, size_t budget, bb_sync_send_fn *send,
                void *argument)
{
    assert (ledger && send);
    uint64_t head = 0;
    uint8_t hash[BR_LEDGER_HASH_SIZE];
    if (br_ledger_head (ledger, &head, hash) != BR_REASON_OK || after >= head)
        return;
    s_packer_t packer;
    s_packer_init (&packer, budget, send, argument, head, s_free_bytes);
    br_ledger_read (ledger, after, SIZE_MAX, s_pack_record, &packer);
    s_ledger_flush (&packer);
    s_packer_destroy (&packer);
}

//  ---- Self test ----------------------------------------------------------------

#define S_TEST_PARTS 8

//  What one update said.
typedef struct {
    Bruecke__MessageType type;
    size_t entries; //  changes, items or records
    uint64_t after, head;
    bool snapshot, first, last;
} s_test_part_t;

//  The parts sent, and after how many parts sending fails.
typedef struct {
    s_test_part_t parts[S_TEST_PARTS];
    size_t count;
    size_t fail_after; //  0: never
} s_test_sent_t;

static bool
s_test_send (void *argument, Bruecke__MessageType type, const ProtobufCMessage *body)
{
    s_test_sent_t *sent = (s_test_sent_t *) argument;
    assert (sent->count < S_TEST_PARTS);
    s_test_part_t *part = &sent->parts[sent->count++];
    part->type = type;
    if (type == BRUECKE__MESSAGE_TYPE__TYPE_BOARD_UPDATE) {
        const Bruecke__BoardUpdate *update = (const Bruecke__BoardUpdate *) body;
        part->entries = update->snapshot ? update->n_items : update->n_changes;
        part->after = update->after;
        part->head = update->head;
        part->snapshot = update->snapshot;
        part->first = update->first;
        part->last = update->last;
    } else {
        const Bruecke__LedgerUpdate *update = (const Bruecke__LedgerUpdate *) body;
        part->entries = update->n_records;
        part->head = update->head;
    }
    return !(sent->fail_after && sent->count >= sent->fail_after);
}

//  Publishes an (invented) offer of `town`, signed by it.
static void
s_test_publish (br_board_t *board, br_store_t *store, br_roster_t *roster, br_identity_t *town,
                uint8_t number)
{
    uint8_t id[BR_BOARD_ID_SIZE] = {0xb0};
    id[BR_BOARD_ID_SIZE - 1] = number;
    char *topics[] = {"fruehe-hilfen"};
    Bruecke__Offer offer = BRUECKE__OFFER__INIT;
    offer.offer_id.data = id;
    offer.offer_id.len = sizeof (id);
    offer.town = (char *) br_identity_node_id (town);
    offer.title = "Fr\xc3\xbche Hilfen im Quartier";
    offer.topics = topics;
    offer.n_topics = 1;
    offer.target_group = "Familien mit Kindern unter drei Jahren";
    offer.results = "Mehr Familien erreicht";
    offer.coaching_hours = 10;
    offer.capacity_per_quarter = 40;
    offer.published_at_ms = br_now_ms ();
    zchunk_t *signed_item = br_board_sign (town, &offer.base);
    MDB_txn *txn = NULL;
    uint64_t sequence = 0;
    assert (br_store_begin (store, true, &txn) == BR_REASON_OK);
    assert (br_board_put (board, txn, zchunk_data (signed_item), zchunk_size (signed_item),
                          offer.town, roster, br_now_ms (), &sequence) == BR_REASON_OK);
    assert (sequence == number);
    assert (br_store_commit (&txn) == BR_REASON_OK);
    zchunk_destroy (&signed_item);
}

//  Records an (invented) completed coaching of `receiver` by `provider`.
static void
s_test_complete (br_ledger_t *ledger, br_roster_t *roster, br_identity_t *provider,
                 br_identity_t *receiver)
{
    br_ledger_completion_t completion = {.hours = 2, .completed_ms = br_now_ms ()};
    randombytes_buf (completion.transfer_id, sizeof (completion.transfer_id));
    snprintf (completion.provider, sizeof (completion.provider), "%s",
              br_identity_node_id (provider));
    snprintf (completion.receiver, sizeof (completion.receiver), "%s",
              br_identity_node_id (receiver));
    snprintf (completion.topic, sizeof (completion.topic), "fruehe-hilfen");
    uint8_t provider_signature[BR_SIGNATURE_SIZE], receiver_signature[BR_SIGNATURE_SIZE];
    assert (br_ledger_sign (provider, &completion, provider_signature) == BR_REASON_OK);
    assert (br_ledger_sign (receiver, &completion, receiver_signature) == BR_REASON_OK);
    uint64_t sequence;
    assert (br_ledger_append (ledger, NULL, &completion, provider_signature, receiver_signature,
                              roster, br_now_ms (), &sequence) == BR_REASON_OK);
}

void
bb_sync_test (bool verbose)
{
    if (verbose)
        printf (" * bb_sync: ");
    //  @selftest
    char *path = br_temp_directory ("bb_sync");
    assert (path);
    br_reason_t reason;
    br_store_t *store = br_store_new (path, 0, &reason);
    assert (store);
    br_board_t *board = br_board_new (store, &reason);
    br_ledger_t *ledger = br_ledger_new (store, &reason);
    assert (board && ledger);
    br_testing_county_t *county = br_testing_county_new ();
    s_test_publish (board, store, county->roster, county->luenen, 1);
    s_test_publish (board, store, county->roster, county->unna, 2);
    s_test_publish (board, store, county->roster, county->kamen, 3);

    //  The changes in one part; in a part each; nothing for a town at the head
    s_test_sent_t sent = {0};
    bb_sync_board (board, 0, false, BB_SYNC_BUDGET, s_test_send, &sent);
    assert (sent.count == 1 && sent.parts[0].entries == 3 && sent.parts[0].after == 0);
    assert (sent.parts[0].head == 3 && !sent.parts[0].snapshot);
    sent = (s_test_sent_t){0};
    bb_sync_board (board, 1, false, 1, s_test_send, &sent);
    assert (sent.count == 2 && sent.parts[0].after == 1 && sent.parts[1].after == 2);
    sent = (s_test_sent_t){0};
    bb_sync_board (board, 3, false, BB_SYNC_BUDGET, s_test_send, &sent);
    assert (sent.count == 0);

    //  A snapshot when asked for: first and last marked
    sent = (s_test_sent_t){0};
    bb_sync_board (board, 3, true, 1, s_test_send, &sent);
    assert (sent.count == 3);
    for (size_t index = 0; index < 3; index++) {
        assert (sent.parts[index].snapshot && sent.parts[index].entries == 1);
        assert (sent.parts[index].first == (index == 0));
        assert (sent.parts[index].last == (index == 2));
    }
    //  A part that cannot go: no more after it
    sent = (s_test_sent_t){.fail_after = 2};
    bb_sync_board (board, 0, true, 1, s_test_send, &sent);
    assert (sent.count == 2 && !sent.parts[1].last);

    //  The ledger's records after a sequence
    sent = (s_test_sent_t){0};
    bb_sync_ledger (ledger, 0, BB_SYNC_BUDGET, s_test_send, &sent);
    assert (sent.count == 0);
    s_test_complete (ledger, county->roster, county->luenen, county->unna);
    s_test_complete (ledger, county->roster, county->unna, county->kamen);
    bb_sync_ledger (ledger, 0, BB_SYNC_BUDGET, s_test_send, &sent);
    assert (sent.count == 1 && sent.parts[0].entries == 2 && sent.parts[0].head == 2);
    assert (sent.parts[0].type == BRUECKE__MESSAGE_TYPE__TYPE_LEDGER_UPDATE);
    sent = (s_test_sent_t){0};
    bb_sync_ledger (ledger, 0, 1, s_test_send, &sent);
    assert (sent.count == 2 && sent.parts[1].entries == 1);
    sent = (s_test_sent_t){0};
    bb_sync_ledger (ledger, 2, 1, s_test_send, &sent);
    assert (sent.count == 0);

    br_testing_county_destroy (&county);
    br_ledger_destroy (&ledger);
    br_board_destroy (&board);
    br_store_destroy (&store);
    assert (br_temp_directory_remove (&path));
    //  @end
    if (verbose)
        printf ("OK\n");
}
