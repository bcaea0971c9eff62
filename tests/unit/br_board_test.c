/*  =========================================================================
    br_board_test - the board's scenario: three towns publish, withdraw,
    go offline and catch up

    The scenario test of br_board (bruecke-selftest -t br_board_scenario):
    offers and requests of the invented county (br_testing) put on the
    board and refused for their signatures, senders, towns and shapes; a
    full store; aborted and refused writes that leave nothing; readers that
    catch up from changes, snapshots and a node's copy (br_board_apply);
    pruning and a reopen. br_board's own selftest is a short tour of its
    API. Only the public API is used.
    =========================================================================
*/

#include "bruecke.h"
#include "br_board.h"
#include "br_testing.h"

//  Publication time of the test items: 2026-01-01T00:00:00Z.
#define S_TEST_EPOCH_MS 1767225600000LL
//  How the test signs an item: properly, with a flipped signature bit,
//  without the domain prefix, or under the other kind's prefix.
#define S_TEST_SIGN_OK         0
#define S_TEST_SIGN_FORGED     1
#define S_TEST_SIGN_NO_DOMAIN  2
#define S_TEST_SIGN_OTHER_KIND 3 //  under the other kind's prefix
//  Changes a reader misses while offline, in the catch-up test.
#define S_TEST_OFFLINE_CHANGES 10
//  Changes left after the prune in the test.
#define S_TEST_KEEP 4

//  An offer under construction, with room for its id and topics.
typedef struct {
    Bruecke__Offer offer;                  //  the offer
    uint8_t id[BR_BOARD_ID_SIZE];          //  its id's bytes
    char *topics[BR_BOARD_TOPICS_MAX + 1]; //  its topics
} s_test_offer_t;

//  Fills a valid offer of `town`; `number` makes its id.
static void
s_test_offer (s_test_offer_t *self, const char *town, uint8_t number)
{
    Bruecke__Offer init = BRUECKE__OFFER__INIT;
    self->offer = init;
    memset (self->id, 0, sizeof (self->id));
    self->id[0] = 0xb0;
    self->id[BR_BOARD_ID_SIZE - 1] = number;
    self->offer.offer_id.data = self->id;
    self->offer.offer_id.len = BR_BOARD_ID_SIZE;
    self->offer.town = (char *) town;
    self->offer.title = "Fr\xc3\xbche Hilfen im Quartier";
    self->topics[0] = "fruehe-hilfen";
    self->offer.topics = self->topics;
    self->offer.n_topics = 1;
    self->offer.target_group = "Familien mit Kindern unter drei Jahren";
    self->offer.results = "Mehr Familien erreicht";
    self->offer.success_factors = "Feste Ansprechpersonen";
    self->offer.pitfalls = "Stolpersteine: Datenschutz fr\xc3\xbch kl\xc3\xa4ren";
    self->offer.presentation = true;
    self->offer.coaching_hours = 10;
    self->offer.capacity_per_quarter = 40;
    self->offer.published_at_ms = S_TEST_EPOCH_MS + number;
}

//  A request under construction, with room for its ids.
typedef struct {
    Bruecke__ExchangeRequest request;   //  the request
    uint8_t id[BR_BOARD_ID_SIZE];       //  its id's bytes
    uint8_t offer_id[BR_BOARD_ID_SIZE]; //  the requested offer's id's bytes
} s_test_request_t;

//  Fills a valid request of `town`; `number` makes its id. It asks for
//  `topic`, or if that is NULL for the offer `offer_id`.
static void
s_test_request (s_test_request_t *self, const char *town, uint8_t number, const char *topic,
                const uint8_t *offer_id)
{
    Bruecke__ExchangeRequest init = BRUECKE__EXCHANGE_REQUEST__INIT;
    self->request = init;
    memset (self->id, 0, sizeof (self->id));
    self->id[0] = 0xe0;
    self->id[BR_BOARD_ID_SIZE - 1] = number;
    self->request.request_id.data = self->id;
    self->request.request_id.len = BR_BOARD_ID_SIZE;
    self->request.town = (char *) town;
    if (topic)
        self->request.topic = (char *) topic;
    else {
        memcpy (self->offer_id, offer_id, BR_BOARD_ID_SIZE);
        self->request.offer_id.data = self->offer_id;
        self->request.offer_id.len = BR_BOARD_ID_SIZE;
    }
    self->request.note = "Wir starten im Herbst";
    self->request.published_at_ms = S_TEST_EPOCH_MS + number;
}

//  The SignedBoardItem bytes (the caller's) of `item` signed by `signer`
//  as `mode` says: properly (br_board_sign), or its signature then broken
//  or made again over the item without, or under the other kind's, prefix.
static zchunk_t *
s_test_signed (br_identity_t *signer, const ProtobufCMessage *item, int mode)
{
    zchunk_t *signed_item = br_board_sign (signer, item);
    if (mode == S_TEST_SIGN_OK)
        return signed_item;
    br_reason_t reason;
    ProtobufCMessage *message =
        br_proto_decode (&bruecke__signed_board_item__descriptor, zchunk_data (signed_item),
                         zchunk_size (signed_item), BR_BOARD_SIGNED_MAX, &reason);
    assert (message);
    zchunk_destroy (&signed_item);
    Bruecke__SignedBoardItem *wrapper = (Bruecke__SignedBoardItem *) message;
    assert (wrapper->signature.len == BR_SIGNATURE_SIZE);
    if (mode == S_TEST_SIGN_FORGED)
        wrapper->signature.data[0] ^= 0x01;
    else {
        const char *domain =
            mode == S_TEST_SIGN_NO_DOMAIN ? "" : br_board_domain (!wrapper->is_offer);
        zchunk_t *signed_bytes = zchunk_new (domain, strlen (domain));
        zchunk_extend (signed_bytes, wrapper->item.data, wrapper->item.len);
        br_identity_sign (signer, zchunk_data (signed_bytes), zchunk_size (signed_bytes),
                          wrapper->signature.data);
        zchunk_destroy (&signed_bytes);
    }
    signed_item = br_proto_encode (message);
    br_proto_free (&message);
    return signed_item;
}

//  Publishes in a transaction of its own, committed on OK. Returns the
//  reason; *sequence is the change's sequence on OK.
static br_reason_t
s_test_put (br_board_t *board, br_store_t *store, zchunk_t *signed_item, const char *sender,
            br_roster_t *roster, uint64_t *sequence)
{
    MDB_txn *txn = NULL;
    assert (br_store_begin (store, true, &txn) == BR_REASON_OK);
    br_reason_t reason =
        br_board_put (board, txn, zchunk_data (signed_item), zchunk_size (signed_item), sender,
                      roster, S_TEST_EPOCH_MS, sequence);
    if (reason == BR_REASON_OK)
        assert (br_store_commit (&txn) == BR_REASON_OK);
    else
        br_store_abort (&txn);
    return reason;
}

//  Signs `item` as `signer` would and publishes it from `sender`. Returns
//  the reason.
static br_reason_t
s_test_publish (br_board_t *board, br_store_t *store, br_identity_t *signer,
                const ProtobufCMessage *item, const char *sender, br_roster_t *roster,
                uint64_t *sequence)
{
    zchunk_t *signed_item = s_test_signed (signer, item, S_TEST_SIGN_OK);
    br_reason_t reason = s_test_put (board, store, signed_item, sender, roster, sequence);
    zchunk_destroy (&signed_item);
    return reason;
}

//  Withdraws in a transaction of its own, committed on OK.
static br_reason_t
s_test_withdraw (br_board_t *board, br_store_t *store, const uint8_t *id, const char *sender,
                 uint64_t *sequence)
{
    MDB_txn *txn = NULL;
    assert (br_store_begin (store, true, &txn) == BR_REASON_OK);
    br_reason_t reason =
        br_board_withdraw (board, txn, id, BR_BOARD_ID_SIZE, sender, S_TEST_EPOCH_MS, sequence);
    if (reason == BR_REASON_OK)
        assert (br_store_commit (&txn) == BR_REASON_OK);
    else
        br_store_abort (&txn);
    return reason;
}

static uint64_t
s_test_head (br_board_t *board)
{
    uint64_t head;
    assert (br_board_head (board, &head) == BR_REASON_OK);
    return head;
}

//  The replica's key of an id: its hex text.
static void
s_test_key (const uint8_t *id, char key[2 * BR_BOARD_ID_SIZE + 1])
{
    sodium_bin2hex (key, 2 * BR_BOARD_ID_SIZE + 1, id, BR_BOARD_ID_SIZE);
}

//  A node's replica of the board: id (hex) -> SignedBoardItem bytes.
typedef struct {
    zhashx_t *items; //  the items, values are zchunk_t
    uint64_t next;   //  the sequence expected next; 0 = any
    size_t changes;  //  how many changes it took
} s_test_replica_t;

static void
s_test_replica_new (s_test_replica_t *self)
{
    self->items = zhashx_new ();
    assert (self->items);
    zhashx_set_destructor (self->items, (zhashx_destructor_fn *) zchunk_destroy);
    self->next = 0;
    self->changes = 0;
}

//  Takes one SignedBoardItem (a snapshot's item) into the replica.
static void
s_test_take_item (void *argument, const uint8_t *data, size_t size)
{
    s_test_replica_t *self = (s_test_replica_t *) argument;
    br_board_item_t item;
    assert (br_board_item_decode (data, size, &item) == BR_REASON_OK);
    assert (item.id.len == BR_BOARD_ID_SIZE);
    char key[2 * BR_BOARD_ID_SIZE + 1];
    s_test_key (item.id.data, key);
    br_board_item_free (&item);
    zhashx_update (self->items, key, zchunk_new (data, size));
}

//  Applies one change to the replica; checks that changes come in order.
static void
s_test_take_change (void *argument, uint64_t sequence, const uint8_t *data, size_t size)
{
    s_test_replica_t *self = (s_test_replica_t *) argument;
    br_reason_t reason;
    ProtobufCMessage *message = br_proto_decode (&bruecke__board_change__descriptor, data, size,
                                                 BR_BOARD_CHANGE_MAX, &reason);
    assert (message);
    Bruecke__BoardChange *change = (Bruecke__BoardChange *) message;
    assert (change->sequence == sequence);
    assert (self->next == 0 || sequence == self->next);
    self->next = sequence + 1;
    self->changes++;
    if (change->change_case == BRUECKE__BOARD_CHANGE__CHANGE_PUT) {
        zchunk_t *bytes = br_proto_encode (&change->put->base);
        s_test_take_item (self, zchunk_data (bytes), zchunk_size (bytes));
        zchunk_destroy (&bytes);
    } else {
        assert (change->change_case == BRUECKE__BOARD_CHANGE__CHANGE_WITHDRAWN_ID);
        assert (change->withdrawn_id.len == BR_BOARD_ID_SIZE);
        char key[2 * BR_BOARD_ID_SIZE + 1];
        s_test_key (change->withdrawn_id.data, key);
        assert (zhashx_lookup (self->items, key));
        zhashx_delete (self->items, key);
    }
    br_proto_free (&message);
}

//  True if two replicas hold the same items, byte for byte.
static bool
s_test_replicas_equal (s_test_replica_t *one, s_test_replica_t *other)
{
    if (zhashx_size (one->items) != zhashx_size (other->items))
        return false;
    for (zchunk_t *chunk = (zchunk_t *) zhashx_first (one->items); chunk;
         chunk = (zchunk_t *) zhashx_next (one->items)) {
        zchunk_t *match = (zchunk_t *) zhashx_lookup (other->items, zhashx_cursor (one->items));
        if (!match || zchunk_size (chunk) != zchunk_size (match) ||
            memcmp (zchunk_data (chunk), zchunk_data (match), zchunk_size (chunk)) != 0)
            return false;
    }
    return true;
}

//  A replica from a snapshot; returns the head it is current to.
static uint64_t
s_test_snapshot (br_board_t *board, s_test_replica_t *replica)
{
    s_test_replica_new (replica);
    uint64_t head;
    assert (br_board_snapshot (board, s_test_take_item, replica, &head) == BR_REASON_OK);
    replica->next = head + 1;
    return head;
}

//  A node's copy in a store of its own, fed with br_board_apply.
typedef struct {
    br_board_t *board;   //  the copy
    br_store_t *store;   //  its store
    br_roster_t *roster; //  the county's roster
    size_t applied;      //  changes applied
} s_test_copy_t;

//  Applies one change to the copy in a transaction of its own; the change
//  must apply, and then must not apply a second time.
static void
s_test_copy_change (void *argument, uint64_t sequence, const uint8_t *data, size_t size)
{
    (void) sequence;
    s_test_copy_t *self = (s_test_copy_t *) argument;
    br_reason_t reason;
    ProtobufCMessage *message = br_proto_decode (&bruecke__board_change__descriptor, data, size,
                                                 BR_BOARD_CHANGE_MAX, &reason);
    assert (message);
    MDB_txn *txn = NULL;
    assert (br_store_begin (self->store, true, &txn) == BR_REASON_OK);
    Bruecke__BoardChange *change = (Bruecke__BoardChange *) message;
    assert (br_board_apply (self->board, txn, change, self->roster) == BR_REASON_OK);
    assert (br_board_apply (self->board, txn, change, self->roster) == BR_REASON_REPLAYED);
    change->sequence += 2; //  one missed
    assert (br_board_apply (self->board, txn, change, self->roster) == BR_REASON_INVALID_STATE);
    assert (br_store_commit (&txn) == BR_REASON_OK);
    br_proto_free (&message);
    self->applied++;
}

//  Snapshot item into the copy, inside the open transaction in *argument.
typedef struct {
    s_test_copy_t *copy; //  the copy
    MDB_txn *txn;        //  the transaction of the snapshot
} s_test_copy_snapshot_t;

static void
s_test_copy_item (void *argument, const uint8_t *data, size_t size)
{
    s_test_copy_snapshot_t *self = (s_test_copy_snapshot_t *) argument;
    br_reason_t reason;
    ProtobufCMessage *message = br_proto_decode (&bruecke__signed_board_item__descriptor, data,
                                                 size, BR_BOARD_SIGNED_MAX, &reason);
    assert (message);
    assert (br_board_snapshot_put (self->copy->board, self->txn,
                                   (Bruecke__SignedBoardItem *) message,
                                   self->copy->roster) == BR_REASON_OK);
    br_proto_free (&message);
}

//  Checks the copy: its head and its items equal the board's.
static void
s_test_copy_equal (s_test_copy_t *copy, br_board_t *board, s_test_replica_t *expected)
{
    s_test_replica_t replica;
    assert (s_test_snapshot (copy->board, &replica) == s_test_head (board));
    assert (s_test_replicas_equal (&replica, expected));
    zhashx_destroy (&replica.items);
}

//  The title of the offer stored under `id`, in `title` (`size` bytes).
static void
s_test_title (br_board_t *board, const uint8_t *id, char *title, size_t size)
{
    br_board_item_t item;
    assert (br_board_get (board, id, &item) == BR_REASON_OK);
    assert (item.offer);
    snprintf (title, size, "%s", item.offer->title);
    br_board_item_free (&item);
}

void
br_board_scenario_test (bool verbose)
{
    if (verbose)
        printf (" * br_board_scenario: ");
    br_testing_county_t *county = br_testing_county_new ();
    br_roster_t *roster = county->roster;
    char *path = br_temp_directory ("br_board");
    assert (path);
    br_reason_t reason;
    br_store_t *store = br_store_new (path, 0, &reason);
    assert (store && reason == BR_REASON_OK);
    br_board_t *board = br_board_new (store, &reason);
    assert (board && reason == BR_REASON_OK);

    //  An empty board
    assert (s_test_head (board) == 0);
    assert (!br_board_needs_snapshot (board, 0));
    assert (br_board_needs_snapshot (board, 1));
    s_test_replica_t empty;
    assert (s_test_snapshot (board, &empty) == 0 && zhashx_size (empty.items) == 0);
    zhashx_destroy (&empty.items);

    //  Offers and requests of three towns
    uint64_t sequence;
    s_test_offer_t luenen_offer, unna_offer, offer;
    s_test_offer (&luenen_offer, "luenen", 1);
    luenen_offer.topics[1] = "sprachfoerderung";
    luenen_offer.offer.n_topics = 2;
    assert (s_test_publish (board, store, county->luenen, &luenen_offer.offer.base, "luenen",
                            roster, &sequence) == BR_REASON_OK);
    assert (sequence == 1);
    s_test_offer (&unna_offer, "unna", 2);
    unna_offer.topics[0] = "elternbildung";
    unna_offer.offer.documents = true;
    assert (s_test_publish (board, store, county->unna, &unna_offer.offer.base, "unna", roster,
                            &sequence) == BR_REASON_OK);
    assert (sequence == 2);
    s_test_request_t topic_request, offer_request, request;
    s_test_request (&topic_request, "kamen", 1, "fruehe-hilfen", NULL);
    assert (s_test_publish (board, store, county->kamen, &topic_request.request.base, "kamen",
                            roster, &sequence) == BR_REASON_OK);
    assert (sequence == 3);
    s_test_request (&offer_request, "kamen", 2, NULL, luenen_offer.id);
    offer_request.request.note = "";
    assert (s_test_publish (board, store, county->kamen, &offer_request.request.base, "kamen",
                            roster, &sequence) == BR_REASON_OK);
    assert (sequence == 4 && s_test_head (board) == 4);

    //  Refused: a forged signature, one without the domain, another town's
    zchunk_t *signed_item =
        s_test_signed (county->luenen, &luenen_offer.offer.base, S_TEST_SIGN_FORGED);
    assert (s_test_put (board, store, signed_item, "luenen", roster, &sequence) ==
            BR_REASON_BAD_SIGNATURE);
    assert (sequence == 0);
    zchunk_destroy (&signed_item);
    signed_item = s_test_signed (county->luenen, &luenen_offer.offer.base, S_TEST_SIGN_NO_DOMAIN);
    assert (s_test_put (board, store, signed_item, "luenen", roster, &sequence) ==
            BR_REASON_BAD_SIGNATURE);
    zchunk_destroy (&signed_item);
    //  Signed as a request, claimed as an offer: the prefix tells them apart
    signed_item = s_test_signed (county->luenen, &luenen_offer.offer.base, S_TEST_SIGN_OTHER_KIND);
    assert (s_test_put (board, store, signed_item, "luenen", roster, &sequence) ==
            BR_REASON_BAD_SIGNATURE);
    zchunk_destroy (&signed_item);
    assert (s_test_publish (board, store, county->unna, &luenen_offer.offer.base, "luenen", roster,
                            &sequence) == BR_REASON_BAD_SIGNATURE);
    //  ... the item's bytes changed after signing (a signed item re-serialized differently)
    signed_item = s_test_signed (county->luenen, &luenen_offer.offer.base, S_TEST_SIGN_OK);
    uint8_t *bytes = zchunk_data (signed_item);
    uint8_t *title_at = (uint8_t *) memmem (bytes, zchunk_size (signed_item), "Quartier", 8);
    assert (title_at);
    title_at[0] = 'q';
    assert (s_test_put (board, store, signed_item, "luenen", roster, &sequence) ==
            BR_REASON_BAD_SIGNATURE);
    zchunk_destroy (&signed_item);
    //  ... a sender that is not the item's town, even with its valid signature
    assert (s_test_publish (board, store, county->luenen, &luenen_offer.offer.base, "unna", roster,
                            &sequence) == BR_REASON_SENDER_MISMATCH);
    //  ... a town unknown, revoked, the broker as a town
    s_test_offer (&offer, "fremd", 9);
    assert (s_test_publish (board, store, county->stranger, &offer.offer.base, "fremd", roster,
                            &sequence) == BR_REASON_UNKNOWN_NODE);
    s_test_offer (&offer, "selm", 9);
    assert (s_test_publish (board, store, county->selm, &offer.offer.base, "selm", roster,
                            &sequence) == BR_REASON_NODE_REVOKED);
    s_test_offer (&offer, "broker", 9);
    assert (s_test_publish (board, store, county->broker, &offer.offer.base, "broker", roster,
                            &sequence) == BR_REASON_FORBIDDEN);
    //  ... bytes that are no item, too many of them
    uint8_t garbage[] = {0xff, 0xff, 0xff};
    MDB_txn *txn = NULL;
    assert (br_store_begin (store, true, &txn) == BR_REASON_OK);
    assert (br_board_put (board, txn, garbage, sizeof (garbage), "luenen", roster, S_TEST_EPOCH_MS,
                          &sequence) == BR_REASON_MALFORMED);
    assert (br_board_put (board, txn, NULL, 0, "luenen", roster, S_TEST_EPOCH_MS, &sequence) ==
            BR_REASON_MALFORMED);
    uint8_t *huge = (uint8_t *) zmalloc (BR_BOARD_SIGNED_MAX + 1);
    assert (br_board_put (board, txn, huge, BR_BOARD_SIGNED_MAX + 1, "luenen", roster,
                          S_TEST_EPOCH_MS, &sequence) == BR_REASON_TOO_LARGE);
    free (huge);
    br_store_abort (&txn);
    //  ... shapes outside the limits
    char *long_title = (char *) zmalloc (BR_BOARD_TITLE_MAX + 2);
    memset (long_title, 'T', BR_BOARD_TITLE_MAX + 1);
    char *long_text = (char *) zmalloc (BR_BOARD_TEXT_MAX + 2);
    memset (long_text, 'x', BR_BOARD_TEXT_MAX + 1);
    for (int variant = 0; variant < 14; variant++) {
        s_test_offer (&offer, "luenen", 8);
        switch (variant) {
            case 0:
                offer.topics[0] = "jugendamt";
                break;
            case 1:
                offer.offer.n_topics = 0;
                break;
            case 2:
                for (size_t index = 0; index <= BR_BOARD_TOPICS_MAX; index++)
                    offer.topics[index] = index % 2 ? "elternbildung" : "kinderschutz";
                offer.offer.n_topics = BR_BOARD_TOPICS_MAX + 1;
                break;
            case 3:
                offer.topics[1] = "fruehe-hilfen";
                offer.offer.n_topics = 2;
                break;
            case 4:
                offer.offer.title = long_title;
                break;
            case 5:
                offer.offer.title = "";
                break;
            case 6:
                offer.offer.pitfalls = long_text;
                break;
            case 7:
                offer.offer.results = "kaputt \xc3\x28";
                break;
            case 8:
                offer.offer.coaching_hours = 0;
                break;
            case 9:
                offer.offer.coaching_hours = BR_BOARD_HOURS_MAX + 1;
                break;
            case 10:
                offer.offer.capacity_per_quarter = BR_BOARD_CAPACITY_MAX + 1;
                break;
            case 11:
                offer.offer.offer_id.len = BR_BOARD_ID_SIZE - 1;
                break;
            case 12:
                offer.offer.published_at_ms = 0;
                break;
            default:
                offer.offer.target_group = "Steuer\x01zeichen";
                break;
        }
        assert (s_test_publish (board, store, county->luenen, &offer.offer.base, "luenen", roster,
                                &sequence) == BR_REASON_MALFORMED);
    }
    //  ... the longest texts still pass: limits count characters, and texts
    //  may span lines
    s_test_offer (&offer, "luenen", 8);
    char *wide_title = (char *) zmalloc (2 * BR_BOARD_TITLE_MAX + 1);
    for (size_t index = 0; index < BR_BOARD_TITLE_MAX; index++)
        memcpy (wide_title + 2 * index, "\xc3\x9c", 2); //  Ü
    char *wide_text = (char *) zmalloc (3 * BR_BOARD_TEXT_MAX + 1);
    char *end = wide_text;
    for (size_t index = 0; index < BR_BOARD_TEXT_MAX; index++) {
        size_t size = index % 80 == 79 ? 1 : 3;
        memcpy (end, size == 1 ? "\n" : "\xe2\x82\xac", size); //  €, a line feed
        end += size;
    }
    offer.offer.title = wide_title;
    offer.offer.target_group = offer.offer.results = offer.offer.success_factors =
        offer.offer.pitfalls = wide_text;
    assert (protobuf_c_message_get_packed_size (&offer.offer.base) > 32 * 1024);
    offer.offer.coaching_hours = BR_BOARD_HOURS_MAX;
    offer.offer.capacity_per_quarter = BR_BOARD_CAPACITY_MAX;
    for (size_t index = 0; index < BR_BOARD_TOPICS_MAX; index++)
        offer.topics[index] =
            (char *) (const char *[]){"fruehe-hilfen",          "uebergang-kita-grundschule",
                                      "sprachfoerderung",       "elternbildung",
                                      "kinderschutz",           "gesundheitsfoerderung",
                                      "uebergang-schule-beruf", "familienzentren"}[index];
    offer.offer.n_topics = BR_BOARD_TOPICS_MAX;
    assert (s_test_publish (board, store, county->luenen, &offer.offer.base, "luenen", roster,
                            &sequence) == BR_REASON_OK);
    assert (sequence == 5);
    //  ... and on a full store, a new offer is refused STORE_FULL, with
    //  nothing written (it was once taken for a withdrawal: NOT_FOUND)
    char *full_path = br_temp_directory ("br_board_full");
    br_store_t *full = br_store_new (full_path, 1024 * 1024, &reason);
    assert (full);
    br_board_t *full_board = br_board_new (full, &reason);
    assert (full_board);
    MDB_dbi junk;
    assert (br_store_open_db (full, "junk", MDB_CREATE, &junk) == BR_REASON_OK);
    uint8_t filler[4000] = {0};
    for (uint32_t count = 0;; count++) {
        MDB_txn *txn = NULL;
        assert (br_store_begin (full, true, &txn) == BR_REASON_OK);
        uint8_t key[8];
        br_put_u64 (key, count);
        br_reason_t filled =
            br_store_put (txn, junk, key, sizeof (key), filler, sizeof (filler), 0);
        if (filled == BR_REASON_OK)
            filled = br_store_commit (&txn);
        br_store_abort (&txn);
        if (filled != BR_REASON_OK)
            break;
    }
    uint64_t full_head = s_test_head (full_board);
    assert (s_test_publish (full_board, full, county->luenen, &offer.offer.base, "luenen", roster,
                            &sequence) == BR_REASON_STORE_FULL);
    assert (s_test_head (full_board) == full_head);
    br_board_destroy (&full_board);
    br_store_destroy (&full);
    assert (br_temp_directory_remove (&full_path));
    zstr_free (&long_title);
    zstr_free (&long_text);
    zstr_free (&wide_title);
    zstr_free (&wide_text);
    //  ... requests with both topic and offer, neither, a bad topic, a long note
    s_test_request (&request, "unna", 3, "fruehe-hilfen", NULL);
    request.request.offer_id.data = luenen_offer.id;
    request.request.offer_id.len = BR_BOARD_ID_SIZE;
    assert (s_test_publish (board, store, county->unna, &request.request.base, "unna", roster,
                            &sequence) == BR_REASON_MALFORMED);
    request.request.offer_id.len = 0;
    request.request.topic = "";
    assert (s_test_publish (board, store, county->unna, &request.request.base, "unna", roster,
                            &sequence) == BR_REASON_MALFORMED);
    request.request.topic = "jugendamt";
    assert (s_test_publish (board, store, county->unna, &request.request.base, "unna", roster,
                            &sequence) == BR_REASON_MALFORMED);
    //  ... a request for an offer not on the board, or for a request
    uint8_t unknown[BR_BOARD_ID_SIZE] = {0xb0, 0x77};
    s_test_request (&request, "unna", 3, NULL, unknown);
    assert (s_test_publish (board, store, county->unna, &request.request.base, "unna", roster,
                            &sequence) == BR_REASON_NOT_FOUND);
    s_test_request (&request, "unna", 3, NULL, topic_request.id);
    assert (s_test_publish (board, store, county->unna, &request.request.base, "unna", roster,
                            &sequence) == BR_REASON_NOT_FOUND);
    //  ... an id another town has on the board; the same town's other kind
    s_test_offer (&offer, "unna", 1);
    assert (memcmp (offer.id, luenen_offer.id, BR_BOARD_ID_SIZE) == 0);
    assert (s_test_publish (board, store, county->unna, &offer.offer.base, "unna", roster,
                            &sequence) == BR_REASON_FORBIDDEN);
    s_test_request (&request, "luenen", 1, "kinderschutz", NULL);
    memcpy (request.id, luenen_offer.id, BR_BOARD_ID_SIZE);
    assert (s_test_publish (board, store, county->luenen, &request.request.base, "luenen", roster,
                            &sequence) == BR_REASON_INVALID_STATE);
    //  ... withdrawing another town's item, an unknown one, a short id
    assert (s_test_withdraw (board, store, luenen_offer.id, "unna", &sequence) ==
            BR_REASON_FORBIDDEN);
    assert (s_test_withdraw (board, store, unknown, "unna", &sequence) == BR_REASON_NOT_FOUND);
    assert (br_store_begin (store, true, &txn) == BR_REASON_OK);
    assert (br_board_withdraw (board, txn, unknown, BR_BOARD_ID_SIZE - 1, "unna", S_TEST_EPOCH_MS,
                               &sequence) == BR_REASON_MALFORMED);
    br_store_abort (&txn);
    //  None of the refusals wrote anything
    assert (s_test_head (board) == 5);

    //  A re-publish replaces the item and bumps the sequence
    char title[BR_BOARD_TITLE_MAX + 1];
    s_test_title (board, luenen_offer.id, title, sizeof (title));
    assert (streq (title, "Fr\xc3\xbche Hilfen im Quartier"));
    luenen_offer.offer.title = "Fr\xc3\xbche Hilfen im Quartier, zweite Auflage";
    assert (s_test_publish (board, store, county->luenen, &luenen_offer.offer.base, "luenen",
                            roster, &sequence) == BR_REASON_OK);
    assert (sequence == 6);
    s_test_title (board, luenen_offer.id, title, sizeof (title));
    assert (streq (title, "Fr\xc3\xbche Hilfen im Quartier, zweite Auflage"));
    s_test_replica_t snapshot;
    assert (s_test_snapshot (board, &snapshot) == 6);
    assert (zhashx_size (snapshot.items) == 5);
    zhashx_destroy (&snapshot.items);

    //  Abort leaves nothing: a publish and a withdraw in an aborted transaction
    assert (br_store_begin (store, true, &txn) == BR_REASON_OK);
    s_test_offer (&offer, "kamen", 20);
    signed_item = s_test_signed (county->kamen, &offer.offer.base, S_TEST_SIGN_OK);
    assert (br_board_put (board, txn, zchunk_data (signed_item), zchunk_size (signed_item), "kamen",
                          roster, S_TEST_EPOCH_MS, &sequence) == BR_REASON_OK);
    assert (sequence == 7);
    assert (br_board_withdraw (board, txn, unna_offer.id, BR_BOARD_ID_SIZE, "unna", S_TEST_EPOCH_MS,
                               &sequence) == BR_REASON_OK);
    assert (sequence == 8);
    br_store_abort (&txn);
    assert (s_test_head (board) == 6);
    assert (br_board_changes (board, 6, SIZE_MAX, s_test_take_change, &snapshot) == 0);
    //  ... and a refusal inside a transaction leaves it usable
    assert (br_store_begin (store, true, &txn) == BR_REASON_OK);
    assert (br_board_put (board, txn, zchunk_data (signed_item), zchunk_size (signed_item), "unna",
                          roster, S_TEST_EPOCH_MS, &sequence) == BR_REASON_SENDER_MISMATCH);
    assert (br_board_put (board, txn, zchunk_data (signed_item), zchunk_size (signed_item), "kamen",
                          roster, S_TEST_EPOCH_MS, &sequence) == BR_REASON_OK);
    assert (sequence == 7);
    assert (br_store_commit (&txn) == BR_REASON_OK);
    zchunk_destroy (&signed_item);
    assert (s_test_head (board) == 7);

    //  A reader saw sequence 7 and goes offline; ten changes happen
    uint64_t seen = s_test_head (board);
    s_test_replica_t reader;
    assert (s_test_snapshot (board, &reader) == seen);
    assert (!br_board_needs_snapshot (board, seen));
    br_identity_t *towns[] = {county->luenen, county->unna, county->kamen};
    const char *town_ids[] = {"luenen", "unna", "kamen"};
    for (uint8_t number = 0; number < 7; number++) {
        s_test_offer (&offer, town_ids[number % 3], (uint8_t) (30 + number));
        offer.topics[0] = number % 2 ? "kinderschutz" : "familienzentren";
        assert (s_test_publish (board, store, towns[number % 3], &offer.offer.base,
                                town_ids[number % 3], roster, &sequence) == BR_REASON_OK);
    }
    assert (s_test_withdraw (board, store, unna_offer.id, "unna", &sequence) == BR_REASON_OK);
    assert (s_test_withdraw (board, store, topic_request.id, "kamen", &sequence) == BR_REASON_OK);
    s_test_offer (&offer, "luenen", 30);
    assert (s_test_withdraw (board, store, offer.id, "luenen", &sequence) == BR_REASON_OK);
    assert (sequence == seen + S_TEST_OFFLINE_CHANGES);
    //  ... a withdrawn id is gone
    assert (s_test_withdraw (board, store, unna_offer.id, "unna", &sequence) ==
            BR_REASON_NOT_FOUND);
    //  ... and stays Unna's: Kamen cannot take it over
    s_test_offer_t taken;
    s_test_offer (&taken, "kamen", 2);
    assert (s_test_publish (board, store, county->kamen, &taken.offer.base, "kamen", roster,
                            &sequence) == BR_REASON_FORBIDDEN);
    //  The reader catches up with exactly those ten, in order
    assert (!br_board_needs_snapshot (board, seen));
    assert (br_board_changes (board, seen, SIZE_MAX, s_test_take_change, &reader) ==
            S_TEST_OFFLINE_CHANGES);
    assert (reader.changes == S_TEST_OFFLINE_CHANGES);
    assert (reader.next == seen + S_TEST_OFFLINE_CHANGES + 1);
    uint64_t head = s_test_head (board);
    assert (s_test_snapshot (board, &snapshot) == head);
    assert (s_test_replicas_equal (&reader, &snapshot));
    //  A reader from the start replays every change onto an empty replica
    s_test_replica_t fresh;
    s_test_replica_new (&fresh);
    fresh.next = 1;
    assert (br_board_changes (board, 0, SIZE_MAX, s_test_take_change, &fresh) == head);
    assert (s_test_replicas_equal (&fresh, &snapshot));
    zhashx_destroy (&fresh.items);
    //  A node's copy (br_board_apply) replays every change the same way
    char *copy_path = zsys_sprintf ("%s-copy", path);
    s_test_copy_t copy = {.roster = roster};
    copy.store = br_store_new (copy_path, 0, &reason);
    assert (copy.store);
    copy.board = br_board_new (copy.store, &reason);
    assert (copy.board);
    assert (br_board_changes (board, 0, SIZE_MAX, s_test_copy_change, &copy) == head);
    s_test_copy_equal (&copy, board, &snapshot);
    //  ... and a copy taken from a snapshot over what it held is the same
    s_test_copy_snapshot_t taking = {.copy = &copy};
    assert (br_store_begin (copy.store, true, &taking.txn) == BR_REASON_OK);
    assert (br_board_reset (copy.board, taking.txn) == BR_REASON_OK);
    uint64_t snapshot_head;
    assert (br_board_snapshot (board, s_test_copy_item, &taking, &snapshot_head) == BR_REASON_OK);
    assert (br_board_set_head (copy.board, taking.txn, snapshot_head) == BR_REASON_OK);
    assert (br_store_commit (&taking.txn) == BR_REASON_OK);
    s_test_copy_equal (&copy, board, &snapshot);
    //  ... a forged put does not enter the copy
    s_test_offer (&offer, "unna", 77);
    signed_item = s_test_signed (county->unna, &offer.offer.base, S_TEST_SIGN_FORGED);
    ProtobufCMessage *forged =
        br_proto_decode (&bruecke__signed_board_item__descriptor, zchunk_data (signed_item),
                         zchunk_size (signed_item), BR_BOARD_SIGNED_MAX, &reason);
    Bruecke__BoardChange forged_change = BRUECKE__BOARD_CHANGE__INIT;
    forged_change.sequence = head + 1;
    forged_change.change_case = BRUECKE__BOARD_CHANGE__CHANGE_PUT;
    forged_change.put = (Bruecke__SignedBoardItem *) forged;
    assert (br_store_begin (copy.store, true, &txn) == BR_REASON_OK);
    assert (br_board_apply (copy.board, txn, &forged_change, roster) == BR_REASON_BAD_SIGNATURE);
    br_store_abort (&txn);
    br_proto_free (&forged);
    zchunk_destroy (&signed_item);
    br_board_destroy (&copy.board);
    br_store_destroy (&copy.store);
    assert (br_temp_directory_remove (&copy_path));
    //  ... or in pages of three
    s_test_replica_new (&fresh);
    fresh.next = 1;
    size_t page;
    while ((page = br_board_changes (board, fresh.next - 1, 3, s_test_take_change, &fresh)) > 0)
        assert (page <= 3);
    assert (fresh.changes == head && s_test_replicas_equal (&fresh, &snapshot));
    zhashx_destroy (&fresh.items);
    assert (br_board_changes (board, head, SIZE_MAX, s_test_take_change, &reader) == 0);
    assert (br_board_changes (board, UINT64_MAX, SIZE_MAX, s_test_take_change, &reader) == 0);

    //  Pruning: a reader whose changes are gone needs a snapshot
    assert (br_board_needs_snapshot (board, head + 1));
    assert (br_store_begin (store, true, &txn) == BR_REASON_OK);
    size_t removed;
    assert (br_board_prune (board, txn, S_TEST_KEEP, &removed) == BR_REASON_OK);
    assert (removed == head - S_TEST_KEEP);
    assert (br_store_commit (&txn) == BR_REASON_OK);
    assert (s_test_head (board) == head);
    assert (!br_board_needs_snapshot (board, head));
    assert (!br_board_needs_snapshot (board, head - S_TEST_KEEP));
    assert (br_board_needs_snapshot (board, head - S_TEST_KEEP - 1));
    assert (br_board_needs_snapshot (board, seen));
    assert (br_board_needs_snapshot (board, 0));
    s_test_replica_t late;
    assert (s_test_snapshot (board, &late) == head);
    assert (s_test_replicas_equal (&late, &snapshot));
    zhashx_destroy (&late.items);
    //  ... and the sequence goes on after a reopen
    br_board_destroy (&board);
    br_board_destroy (&board);
    br_store_destroy (&store);
    store = br_store_new (path, 0, &reason);
    assert (store && reason == BR_REASON_OK);
    board = br_board_new (store, &reason);
    assert (board && reason == BR_REASON_OK);
    assert (s_test_publish (board, store, county->unna, &unna_offer.offer.base, "unna", roster,
                            &sequence) == BR_REASON_OK);
    assert (sequence == head + 1);
    assert (br_board_changes (board, head, SIZE_MAX, s_test_take_change, &reader) == 1);
    assert (s_test_snapshot (board, &late) == head + 1);
    assert (s_test_replicas_equal (&reader, &late));
    zhashx_destroy (&late.items);

    zhashx_destroy (&reader.items);
    zhashx_destroy (&snapshot.items);
    br_board_destroy (&board);
    br_store_destroy (&store);
    assert (br_temp_directory_remove (&path));
    br_testing_county_destroy (&county);
    if (verbose)
        printf ("OK\n");
}
