/*  =========================================================================
    bn_exchange_test - a town's copy of the Transferbörse, fed by the broker

    The scenario test of bn_exchange (bruecke-selftest -t
    bn_exchange_scenario): Unna's node takes board changes and snapshots in
    parts (forged items left out, gaps asking for a sync), agreements and
    ledger records from a broker's board and ledger made beside it, and
    serves them, with the town's offers, requests and steps, under
    /v1/exchange. bn_exchange's own selftest is a short tour of its API.
    Only the public API is used.
    =========================================================================
*/

#include "bruecke.h"
#include "bn_exchange.h"
#include "br_testing.h"

//  The test's county (br_testing): a broker, Unna (this node) and Kamen.
typedef struct {
    br_testing_county_t *county;          //  the county, with its roster
    br_identity_t *broker, *unna, *kamen; //  the county's, borrowed
    br_roster_t *roster;                  //  the county's, borrowed
    char *directory;                      //  the node's state
    bn_store_t *store;                    //  the node's store
    bn_exchange_t *exchange;
    char *source_path; //  the broker's side, to make updates from
    br_store_t *source;
    br_board_t *board;
    br_ledger_t *ledger;
} s_test_t;

static void
s_test_new (s_test_t *self)
{
    self->county = br_testing_county_new ();
    self->broker = self->county->broker;
    self->unna = self->county->unna;
    self->kamen = self->county->kamen;
    self->roster = self->county->roster;
    br_reason_t reason;
    self->directory = br_temp_directory ("bn_exchange");
    self->store = bn_store_new (self->directory, BR_STORE_DEFAULT_MAPSIZE, &reason);
    assert (self->store);
    self->exchange = bn_exchange_new (self->store, self->unna, &reason);
    assert (self->exchange);
    bn_exchange_set_roster (self->exchange, self->roster);
    self->source_path = br_temp_directory ("bn_exchange-broker");
    self->source = br_store_new (self->source_path, 0, &reason);
    assert (self->source);
    self->board = br_board_new (self->source, &reason);
    assert (self->board);
    self->ledger = br_ledger_new (self->source, &reason);
    assert (self->ledger);
}

static void
s_test_remove (char **path)
{
    assert (br_temp_directory_remove (path));
}

static void
s_test_destroy (s_test_t *self)
{
    br_board_destroy (&self->board);
    br_ledger_destroy (&self->ledger);
    br_store_destroy (&self->source);
    s_test_remove (&self->source_path);
    bn_exchange_destroy (&self->exchange);
    bn_exchange_destroy (&self->exchange);
    bn_store_destroy (&self->store);
    s_test_remove (&self->directory);
    br_testing_county_destroy (&self->county);
}

//  The broker sends `body` as `type`; the node takes it in a transaction of
//  its own. Returns the verdict.
static br_reason_t
s_test_deliver (s_test_t *self, Bruecke__MessageType type, const ProtobufCMessage *body)
{
    Bruecke__Header header;
    uint8_t id[BR_MESSAGE_ID_SIZE];
    br_envelope_header_init (&header, id, type, "broker", "unna", "", 1, br_now_ms (), 60000);
    zchunk_t *chunk = br_envelope_build (self->broker, &header, NULL, body, NULL);
    br_reason_t reason;
    br_envelope_t *envelope =
        br_envelope_decode (zchunk_data (chunk), zchunk_size (chunk), &reason);
    assert (envelope && br_envelope_verify_in_roster (envelope, self->roster) == BR_REASON_OK);
    MDB_txn *txn = NULL;
    assert (bn_store_begin (self->store, &txn) == BR_REASON_OK);
    br_reason_t verdict;
    assert (bn_exchange_receive (self->exchange, txn, envelope, &verdict) == BR_REASON_OK);
    assert (bn_store_commit (self->store, &txn) == BR_REASON_OK);
    br_envelope_destroy (&envelope);
    zchunk_destroy (&chunk);
    return verdict;
}

//  Kamen publishes offer number `number` on the broker's board.
static void
s_test_publish (s_test_t *self, uint8_t number)
{
    uint8_t id[BR_BOARD_ID_SIZE] = {number};
    char *topics[] = {"kinderschutz"};
    Bruecke__Offer offer = BRUECKE__OFFER__INIT;
    offer.offer_id.data = id;
    offer.offer_id.len = BR_BOARD_ID_SIZE;
    offer.town = "kamen";
    offer.title = "Netzwerk Kinderschutz";
    offer.topics = topics;
    offer.n_topics = 1;
    offer.coaching_hours = 4;
    offer.capacity_per_quarter = 8;
    offer.published_at_ms = br_now_ms ();
    zchunk_t *bytes = br_board_sign (self->kamen, &offer.base);
    MDB_txn *txn = NULL;
    uint64_t sequence;
    assert (br_store_begin (self->source, true, &txn) == BR_REASON_OK);
    assert (br_board_put (self->board, txn, zchunk_data (bytes), zchunk_size (bytes), "kamen",
                          self->roster, br_now_ms (), &sequence) == BR_REASON_OK);
    assert (br_store_commit (&txn) == BR_REASON_OK);
    zchunk_destroy (&bytes);
}

//  Collects the broker's changes after a sequence into a BoardUpdate.
typedef struct {
    ProtobufCMessage *changes[16];
    size_t count;
} s_test_changes_t;

static void
s_test_change (void *argument, uint64_t sequence, const uint8_t *data, size_t size)
{
    (void) sequence;
    s_test_changes_t *self = (s_test_changes_t *) argument;
    br_reason_t reason;
    assert (self->count < 16);
    self->changes[self->count] = br_proto_decode (&bruecke__board_change__descriptor, data, size,
                                                  BR_BOARD_CHANGE_MAX, &reason);
    assert (self->changes[self->count++]);
}

//  Sends the broker's changes after `after` in one BoardUpdate.
static br_reason_t
s_test_send_changes (s_test_t *self, uint64_t after)
{
    s_test_changes_t collected = {.count = 0};
    br_board_changes (self->board, after, 16, s_test_change, &collected);
    Bruecke__BoardUpdate update = BRUECKE__BOARD_UPDATE__INIT;
    update.after = after;
    update.changes = (Bruecke__BoardChange **) collected.changes;
    update.n_changes = collected.count;
    br_reason_t verdict =
        s_test_deliver (self, BRUECKE__MESSAGE_TYPE__TYPE_BOARD_UPDATE, &update.base);
    for (size_t index = 0; index < collected.count; index++)
        br_proto_free (&collected.changes[index]);
    return verdict;
}

//  Collects the broker's whole board as SignedBoardItems.
static void
s_test_item (void *argument, const uint8_t *data, size_t size)
{
    s_test_changes_t *self = (s_test_changes_t *) argument;
    br_reason_t reason;
    assert (self->count < 16);
    self->changes[self->count] = br_proto_decode (&bruecke__signed_board_item__descriptor, data,
                                                  size, BR_BOARD_SIGNED_MAX, &reason);
    assert (self->changes[self->count++]);
}

static uint64_t
s_test_head (s_test_t *self)
{
    Bruecke__ExchangeSync held;
    assert (bn_exchange_held (self->exchange, &held));
    return held.board_sequence;
}

static uint64_t
s_test_ledger_head (s_test_t *self)
{
    Bruecke__ExchangeSync held;
    assert (bn_exchange_held (self->exchange, &held));
    return held.ledger_sequence;
}

//  Keeps a ledger record's bytes.
static void
s_test_record (void *argument, const br_ledger_record_t *read)
{
    *(zchunk_t **) argument = zchunk_new (read->data, read->size);
}

//  A node API call; asserts its reason and returns its result.
static json_t *
s_test_call (s_test_t *self, const char *method, const char *path, const char *body,
             br_reason_t expected)
{
    bn_request_t call = {.method = method, .path = path, .user = "test", .offices = ""};
    call.body = body ? json_loads (body, 0, NULL) : NULL;
    call.query = json_object ();
    char id[BN_ROUTES_ID_MAX + 1];
    call.reason = bn_request_route (&call, id);
    if (call.route)
        bn_exchange_call (self->exchange, &call);
    if (call.reason != expected)
        fprintf (stderr, "bn_exchange: %s %s: %s (%s), expected %s\n", method, path,
                 br_reason_name (call.reason), call.detail, br_reason_name (expected));
    assert (call.reason == expected);
    json_decref (call.body);
    json_decref (call.query);
    return call.result;
}

void
bn_exchange_scenario_test (bool verbose)
{
    if (verbose)
        printf (" * bn_exchange_scenario: ");
    s_test_t test;
    s_test_new (&test);
    Bruecke__ExchangeSync sync;
    assert (bn_exchange_sync_due (test.exchange, &sync)); //  asks once at start
    assert (sync.board_sequence == 0 && sync.ledger_sequence == 0);
    assert (!bn_exchange_sync_due (test.exchange, &sync));

    //  Changes in order are taken; a gap is not, and asks for a sync
    for (uint8_t number = 1; number <= 4; number++)
        s_test_publish (&test, number);
    assert (s_test_send_changes (&test, 2) == BR_REASON_OK);
    assert (s_test_head (&test) == 0);
    assert (bn_exchange_sync_due (test.exchange, &sync) && sync.board_sequence == 0);
    assert (s_test_send_changes (&test, 0) == BR_REASON_OK);
    assert (s_test_head (&test) == 4);
    assert (s_test_send_changes (&test, 2) == BR_REASON_OK); //  replayed: harmless
    assert (s_test_head (&test) == 4);
    assert (!bn_exchange_sync_due (test.exchange, &sync));
    json_t *board = s_test_call (&test, "GET", "/v1/exchange/board", NULL, BR_REASON_OK);
    assert (json_array_size (json_object_get (board, "offers")) == 4);
    json_decref (board);

    //  A snapshot in two parts replaces the copy; a part without its first
    //  part is left alone
    s_test_publish (&test, 5);
    s_test_changes_t items = {.count = 0};
    uint64_t head;
    assert (br_board_snapshot (test.board, s_test_item, &items, &head) == BR_REASON_OK);
    assert (items.count == 5 && head == 5);
    Bruecke__BoardUpdate part = BRUECKE__BOARD_UPDATE__INIT;
    part.snapshot = true;
    part.head = head;
    part.items = (Bruecke__SignedBoardItem **) items.changes + 3;
    part.n_items = 2;
    part.last = true;
    assert (s_test_deliver (&test, BRUECKE__MESSAGE_TYPE__TYPE_BOARD_UPDATE, &part.base) ==
            BR_REASON_OK);
    assert (s_test_head (&test) == 4);
    part.items = (Bruecke__SignedBoardItem **) items.changes;
    part.n_items = 3;
    part.first = true;
    part.last = false;
    assert (s_test_deliver (&test, BRUECKE__MESSAGE_TYPE__TYPE_BOARD_UPDATE, &part.base) ==
            BR_REASON_OK);
    assert (s_test_head (&test) == 0); //  until the last part
    part.items = (Bruecke__SignedBoardItem **) items.changes + 3;
    part.n_items = 2;
    part.first = false;
    part.last = true;
    //  ... a forged item in it is left out
    Bruecke__SignedBoardItem *forged = (Bruecke__SignedBoardItem *) items.changes[4];
    forged->signature.data[0] ^= 0x01;
    assert (s_test_deliver (&test, BRUECKE__MESSAGE_TYPE__TYPE_BOARD_UPDATE, &part.base) ==
            BR_REASON_OK);
    assert (s_test_head (&test) == 5);
    board = s_test_call (&test, "GET", "/v1/exchange/board", NULL, BR_REASON_OK);
    assert (json_array_size (json_object_get (board, "offers")) == 4);
    json_decref (board);
    for (size_t index = 0; index < items.count; index++)
        br_proto_free (&items.changes[index]);
    //  A change that cannot be applied (forged) makes the node ask for the
    //  whole board, not for the same change again and again
    s_test_publish (&test, 6);
    s_test_changes_t bad = {.count = 0};
    assert (br_board_changes (test.board, 5, 16, s_test_change, &bad) == 1);
    ((Bruecke__BoardChange *) bad.changes[0])->put->signature.data[0] ^= 0x01;
    Bruecke__BoardUpdate forged_update = BRUECKE__BOARD_UPDATE__INIT;
    forged_update.after = 5;
    forged_update.changes = (Bruecke__BoardChange **) bad.changes;
    forged_update.n_changes = 1;
    assert (s_test_deliver (&test, BRUECKE__MESSAGE_TYPE__TYPE_BOARD_UPDATE, &forged_update.base) ==
            BR_REASON_OK);
    assert (s_test_head (&test) == 5);
    assert (bn_exchange_sync_due (test.exchange, &sync) && sync.board_snapshot);
    br_proto_free (&bad.changes[0]);

    //  The ledger: a record both towns signed is appended, a forged one not
    br_ledger_completion_t completion = {.transfer_id = {7},
                                         .provider = "kamen",
                                         .receiver = "unna",
                                         .topic = "kinderschutz",
                                         .hours = 4,
                                         .completed_ms = br_now_ms ()};
    uint8_t kamen_signature[BR_SIGNATURE_SIZE], unna_signature[BR_SIGNATURE_SIZE];
    assert (br_ledger_sign (test.kamen, &completion, kamen_signature) == BR_REASON_OK);
    assert (br_ledger_sign (test.unna, &completion, unna_signature) == BR_REASON_OK);
    assert (br_ledger_append (test.ledger, NULL, &completion, kamen_signature, unna_signature,
                              test.roster, br_now_ms (), NULL) == BR_REASON_OK);
    zchunk_t *record = NULL;
    br_ledger_read (test.ledger, 0, 1, s_test_record, &record);
    assert (record);
    ProtobufCBinaryData bytes = {.data = zchunk_data (record), .len = zchunk_size (record)};
    Bruecke__LedgerUpdate update = BRUECKE__LEDGER_UPDATE__INIT;
    update.records = &bytes;
    update.n_records = 1;
    update.head = 1;
    bytes.data[bytes.len / 2] ^= 0x01;
    assert (s_test_deliver (&test, BRUECKE__MESSAGE_TYPE__TYPE_LEDGER_UPDATE, &update.base) ==
            BR_REASON_OK);
    assert (s_test_ledger_head (&test) == 0);
    //  ... and the copy stops taking records: asking again would not help
    bytes.data[bytes.len / 2] ^= 0x01;
    assert (s_test_deliver (&test, BRUECKE__MESSAGE_TYPE__TYPE_LEDGER_UPDATE, &update.base) ==
            BR_REASON_OK);
    assert (s_test_ledger_head (&test) == 0);
    assert (!bn_exchange_sync_due (test.exchange, &sync));
    bn_exchange_want_sync (test.exchange);
    assert (bn_exchange_sync_due (test.exchange, &sync) && sync.ledger_sequence == UINT64_MAX);
    //  A new roster lets it try again
    bn_exchange_set_roster (test.exchange, test.roster);
    assert (bn_exchange_sync_due (test.exchange, &sync) && sync.ledger_sequence == 0);
    assert (s_test_deliver (&test, BRUECKE__MESSAGE_TYPE__TYPE_LEDGER_UPDATE, &update.base) ==
            BR_REASON_OK);
    assert (s_test_ledger_head (&test) == 1);
    assert (s_test_deliver (&test, BRUECKE__MESSAGE_TYPE__TYPE_LEDGER_UPDATE, &update.base) ==
            BR_REASON_OK); //  had it already
    assert (s_test_ledger_head (&test) == 1);
    zchunk_destroy (&record);
    json_t *ledger = s_test_call (&test, "GET", "/v1/exchange/ledger", NULL, BR_REASON_OK);
    assert (json_is_true (json_object_get (ledger, "verified")));
    assert (json_integer_value (json_object_get (json_object_get (ledger, "balances"), "unna")) ==
            -4);
    json_decref (ledger);

    //  Agreements: the later version stays; one for other towns is refused
    uint8_t transfer[BR_BOARD_ID_SIZE] = {9}, request[BR_BOARD_ID_SIZE] = {10},
            offer[BR_BOARD_ID_SIZE] = {1};
    Bruecke__Agreement agreement = BRUECKE__AGREEMENT__INIT;
    agreement.transfer_id.data = transfer;
    agreement.transfer_id.len = BR_BOARD_ID_SIZE;
    agreement.request_id.data = request;
    agreement.request_id.len = BR_BOARD_ID_SIZE;
    agreement.offer_id.data = offer;
    agreement.offer_id.len = BR_BOARD_ID_SIZE;
    agreement.provider = "kamen";
    agreement.receiver = "unna";
    agreement.topic = "kinderschutz";
    agreement.hours = 4;
    agreement.state = BRUECKE__AGREEMENT_STATE__AGREEMENT_ACCEPTED;
    agreement.version = 2;
    assert (s_test_deliver (&test, BRUECKE__MESSAGE_TYPE__TYPE_AGREEMENT, &agreement.base) ==
            BR_REASON_OK);
    agreement.state = BRUECKE__AGREEMENT_STATE__AGREEMENT_PROPOSED;
    agreement.version = 1;
    assert (s_test_deliver (&test, BRUECKE__MESSAGE_TYPE__TYPE_AGREEMENT, &agreement.base) ==
            BR_REASON_OK);
    char path[64] = "/v1/exchange/agreements/";
    br_hex_encode (transfer, BR_BOARD_ID_SIZE, path + strlen (path));
    json_t *shown = s_test_call (&test, "GET", path, NULL, BR_REASON_OK);
    assert (streq (json_string_value (json_object_get (shown, "state")), "accepted"));
    assert (streq (json_string_value (json_object_get (shown, "role")), "receiver"));
    json_t *steps_now = json_object_get (shown, "actions");
    assert (json_array_size (steps_now) == 2 &&
            streq (json_string_value (json_array_get (steps_now, 0)), "schedule") &&
            streq (json_string_value (json_array_get (steps_now, 1)), "cancel"));
    json_decref (shown);
    agreement.receiver = "broker";
    assert (s_test_deliver (&test, BRUECKE__MESSAGE_TYPE__TYPE_AGREEMENT, &agreement.base) ==
            BR_REASON_FORBIDDEN);
    agreement.receiver = "unna";

    //  A proposal this town accepted already may be accepted again, as the
    //  protocol and the broker allow: it goes out once more
    uint8_t proposed_id[BR_BOARD_ID_SIZE] = {11};
    agreement.transfer_id.data = proposed_id;
    agreement.state = BRUECKE__AGREEMENT_STATE__AGREEMENT_PROPOSED;
    agreement.receiver_accepted = true;
    agreement.version = 1;
    assert (s_test_deliver (&test, BRUECKE__MESSAGE_TYPE__TYPE_AGREEMENT, &agreement.base) ==
            BR_REASON_OK);
    char again[96] = "/v1/exchange/agreements/";
    br_hex_encode (proposed_id, BR_BOARD_ID_SIZE, again + strlen (again));
    strcat (again, "/accept");
    size_t queued = bn_store_outbox_count (test.store);
    json_decref (s_test_call (&test, "POST", again, "{}", BR_REASON_OK));
    json_decref (s_test_call (&test, "POST", again, "{}", BR_REASON_OK));
    assert (bn_store_outbox_count (test.store) == queued + 2);
    agreement.transfer_id.data = transfer;
    agreement.receiver_accepted = false;

    //  Steps the agreement's state does not allow are refused here already
    char step[96];
    snprintf (step, sizeof (step), "%s/accept", path);
    json_decref (s_test_call (&test, "POST", step, "{}", BR_REASON_INVALID_STATE));
    snprintf (step, sizeof (step), "%s/complete", path);
    json_decref (s_test_call (&test, "POST", step, "{}", BR_REASON_INVALID_STATE));
    snprintf (step, sizeof (step), "%s/cancel", path);
    json_decref (s_test_call (&test, "POST", step, "{\"reason\": \"nope\"}", BR_REASON_MALFORMED));
    json_t *sent = s_test_call (&test, "POST", step, "{\"reason\": \"declined\"}", BR_REASON_OK);
    assert (json_is_string (json_object_get (sent, "message_id")));
    json_decref (sent);
    assert (bn_store_outbox_count (test.store) == queued + 3);
    //  Publishing: checked before it is queued
    json_decref (s_test_call (&test, "POST", "/v1/exchange/offers",
                              "{\"title\": \"x\", \"topics\": [\"kinderschutz\"], "
                              "\"coaching_hours\": 0}",
                              BR_REASON_MALFORMED));
    json_decref (s_test_call (&test, "POST", "/v1/exchange/requests", "{\"topic\": \"kein-thema\"}",
                              BR_REASON_MALFORMED));
    json_decref (s_test_call (&test, "POST", "/v1/exchange/requests",
                              "{\"topic\": \"kinderschutz\"}", BR_REASON_OK));
    //  Every member is one the operation takes, of its type; texts are
    //  counted in characters, and those people write may span lines
    const char *refused[] = {
        "{\"title\": \"x\", \"topics\": [\"kinderschutz\"], \"coaching_hours\": 2, "
        "\"titel\": \"y\"}",
        "{\"title\": \"x\", \"topics\": [\"kinderschutz\"], \"coaching_hours\": 2, "
        "\"presentation\": \"ja\"}",
        "{\"title\": \"x\", \"topics\": [\"kinderschutz\"], \"coaching_hours\": \"2\"}",
        "{\"title\": \"Zeile\\nzwei\", \"topics\": [\"kinderschutz\"], \"coaching_hours\": 2}",
        "{\"title\": \"x\", \"topics\": [\"kinderschutz\"], \"coaching_hours\": 2, "
        "\"results\": \"\"}"};
    for (size_t index = 0; index < sizeof (refused) / sizeof (refused[0]); index++)
        json_decref (s_test_call (&test, "POST", "/v1/exchange/offers", refused[index],
                                  BR_REASON_MALFORMED));
    bn_request_t misspelt = {
        .method = "GET", .path = "/v1/exchange/board", .user = "test", .offices = ""};
    misspelt.query = json_pack ("{ss}", "topc", "kinderschutz");
    char misspelt_id[BN_ROUTES_ID_MAX + 1];
    assert (bn_request_route (&misspelt, misspelt_id) == BR_REASON_OK);
    bn_exchange_call (test.exchange, &misspelt);
    assert (misspelt.reason == BR_REASON_MALFORMED && strstr (misspelt.detail, "query.topc"));
    json_decref (misspelt.query);
    char *long_note = (char *) zmalloc (2 * BR_BOARD_NOTE_MAX + 64);
    strcpy (long_note, "{\"topic\": \"elternbildung\", \"note\": \"");
    for (size_t index = 0; index < BR_BOARD_NOTE_MAX - 1; index++)
        strcat (long_note, "\xc3\xa4"); //  ä: 2 bytes, one character
    strcat (long_note, "\\n\"}");
    json_decref (s_test_call (&test, "POST", "/v1/exchange/requests", long_note, BR_REASON_OK));
    free (long_note);
    snprintf (step, sizeof (step), "/v1/exchange/items/%032x/withdraw", 0);
    json_decref (s_test_call (&test, "POST", step, "{}", BR_REASON_NOT_FOUND));
    assert (bn_store_outbox_count (test.store) == queued + 5);
    json_t *submissions =
        s_test_call (&test, "GET", "/v1/exchange/submissions", NULL, BR_REASON_OK);
    assert (json_array_size (json_object_get (submissions, "submissions")) == 5);
    json_decref (submissions);
    json_decref (s_test_call (&test, "GET", "/v1/exchange/nothing", NULL, BR_REASON_NOT_FOUND));
    s_test_destroy (&test);
    if (verbose)
        printf ("OK\n");
}
