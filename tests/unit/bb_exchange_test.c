/*  =========================================================================
    bb_exchange_test - the broker's Transferbörse, from offer to ledger,
    and its properties over random instances

    The scenario test of bb_exchange (bruecke-selftest -t
    bb_exchange_scenario): six towns of Kreis Unna publish offers and
    requests, the matching proposes agreements, the towns accept, schedule
    and complete them into the ledger (with forged and one-sided
    completions refused), cancel and withdraw; then random instances over
    two quarters check that balances stay within the limits and the ledger
    verifies. bb_exchange's own selftest is a short tour of its API. Only
    the public API is used.
    =========================================================================
*/

#include "bruecke.h"
#include "bb_exchange.h"

#define S_TEST_TOWNS     6
#define S_TEST_QUARTER   20264
#define S_TEST_NEXT      20271 //  the quarter after
#define S_TEST_INSTANCES 40    //  random instances of the property test
#define S_TEST_SEED      0x5eed2026ULL

static const char *s_test_names[S_TEST_TOWNS] = {"bergkamen", "kamen", "luenen",
                                                 "schwerte",  "unna",  "werne"};
enum { S_BERGKAMEN, S_KAMEN, S_LUENEN, S_SCHWERTE, S_UNNA, S_WERNE };

//  The county of the test: a broker and six towns in a signed roster.
typedef struct {
    br_identity_t *county;
    br_identity_t *broker;
    br_identity_t *towns[S_TEST_TOWNS];
    br_roster_t *roster;
} s_test_county_t;

static void
s_test_county_new (s_test_county_t *self)
{
    self->county = br_identity_new ("county");
    self->broker = br_identity_new ("broker");
    zconfig_t *draft = br_roster_draft_new ("05978", "Kreis Unna");
    assert (br_roster_draft_add_node (draft, self->broker, "Broker", "05978",
                                      BRUECKE__NODE_ROLE__ROLE_BROKER, "") == BR_REASON_OK);
    for (size_t index = 0; index < S_TEST_TOWNS; index++) {
        self->towns[index] = br_identity_new (s_test_names[index]);
        char ags[32];
        snprintf (ags, sizeof (ags), "059780%02zu", 4 * (index + 1));
        assert (br_roster_draft_add_node (draft, self->towns[index], s_test_names[index], ags,
                                          BRUECKE__NODE_ROLE__ROLE_TOWN,
                                          "fruehe-hilfen") == BR_REASON_OK);
    }
    br_reason_t reason;
    int64_t now = br_now_ms ();
    zchunk_t *signed_roster = br_roster_draft_sign (draft, self->county, now, 3600000, &reason);
    assert (signed_roster);
    self->roster = br_roster_verify (zchunk_data (signed_roster), zchunk_size (signed_roster),
                                     br_identity_sign_public (self->county), NULL, now, &reason);
    assert (self->roster);
    zchunk_destroy (&signed_roster);
    zconfig_destroy (&draft);
}

static void
s_test_county_destroy (s_test_county_t *self)
{
    br_roster_destroy (&self->roster);
    br_identity_destroy (&self->county);
    br_identity_destroy (&self->broker);
    for (size_t index = 0; index < S_TEST_TOWNS; index++)
        br_identity_destroy (&self->towns[index]);
}

//  An exchange in a store of its own.
typedef struct {
    char *path;
    br_store_t *store;
    bb_exchange_t *exchange;
    bb_exchange_effects_t effects;
    s_test_county_t *county;
} s_test_broker_t;

static void
s_test_broker_new (s_test_broker_t *self, s_test_county_t *county)
{
    self->county = county;
    self->path = br_temp_directory ("bb_exchange");
    assert (self->path);
    br_reason_t reason;
    self->store = br_store_new (self->path, 0, &reason);
    assert (self->store);
    self->exchange = bb_exchange_new (self->store, &reason);
    assert (self->exchange);
    bb_exchange_effects_init (&self->effects);
}

static void
s_test_broker_destroy (s_test_broker_t *self)
{
    bb_exchange_effects_clear (&self->effects);
    bb_exchange_destroy (&self->exchange);
    bb_exchange_destroy (&self->exchange);
    br_store_destroy (&self->store);
    assert (br_temp_directory_remove (&self->path));
}

//  Town `town` sends `body` as `type` to the exchange, which takes it in a
//  transaction of its own. Returns the verdict.
static br_reason_t
s_test_take (s_test_broker_t *self, size_t town, Bruecke__MessageType type,
             const ProtobufCMessage *body)
{
    br_identity_t *sender = self->county->towns[town];
    Bruecke__Header header;
    uint8_t id[BR_MESSAGE_ID_SIZE];
    int64_t now = br_now_ms ();
    br_envelope_header_init (&header, id, type, br_identity_node_id (sender), "", "", 1, now,
                             60000);
    zchunk_t *chunk = br_envelope_build (sender, &header, NULL, body, NULL);
    br_reason_t reason;
    br_envelope_t *envelope =
        br_envelope_decode (zchunk_data (chunk), zchunk_size (chunk), &reason);
    assert (envelope);
    assert (br_envelope_verify_in_roster (envelope, self->county->roster) == BR_REASON_OK);
    MDB_txn *txn = NULL;
    assert (br_store_begin (self->store, true, &txn) == BR_REASON_OK);
    br_reason_t verdict;
    assert (bb_exchange_take (self->exchange, txn, envelope, self->county->roster, now,
                              &self->effects, &verdict) == BR_REASON_OK);
    assert (br_store_commit (&txn) == BR_REASON_OK);
    br_envelope_destroy (&envelope);
    zchunk_destroy (&chunk);
    return verdict;
}

//  Publishes an item that `town` signed. Returns the verdict.
static br_reason_t
s_test_publish (s_test_broker_t *self, size_t town, const ProtobufCMessage *item)
{
    zchunk_t *bytes = br_board_sign (self->county->towns[town], item);
    br_reason_t reason;
    ProtobufCMessage *signed_item =
        br_proto_decode (&bruecke__signed_board_item__descriptor, zchunk_data (bytes),
                         zchunk_size (bytes), BR_BOARD_SIGNED_MAX, &reason);
    assert (signed_item);
    reason = s_test_take (self, town, BRUECKE__MESSAGE_TYPE__TYPE_BOARD_PUBLISH, signed_item);
    br_proto_free (&signed_item);
    zchunk_destroy (&bytes);
    return reason;
}

//  Town `town` offers `topics` (a NULL-ended list), `hours` per coaching,
//  `capacity` per quarter, under `id`.
static br_reason_t
s_test_offer (s_test_broker_t *self, size_t town, const uint8_t *id, const char **topics, int hours,
              int capacity)
{
    Bruecke__Offer offer = BRUECKE__OFFER__INIT;
    offer.offer_id.data = (uint8_t *) id;
    offer.offer_id.len = BR_BOARD_ID_SIZE;
    offer.town = (char *) s_test_names[town];
    offer.title = "Beispielangebot";
    offer.topics = (char **) topics;
    while (topics[offer.n_topics])
        offer.n_topics++;
    offer.coaching_hours = (uint32_t) hours;
    offer.capacity_per_quarter = (uint32_t) capacity;
    offer.published_at_ms = br_now_ms ();
    return s_test_publish (self, town, &offer.base);
}

//  Town `town` requests `topic`, or the offer `offer_id` if not NULL.
static br_reason_t
s_test_request (s_test_broker_t *self, size_t town, const uint8_t *id, const char *topic,
                const uint8_t *offer_id)
{
    Bruecke__ExchangeRequest request = BRUECKE__EXCHANGE_REQUEST__INIT;
    request.request_id.data = (uint8_t *) id;
    request.request_id.len = BR_BOARD_ID_SIZE;
    request.town = (char *) s_test_names[town];
    request.topic = (char *) (offer_id ? "" : topic);
    if (offer_id) {
        request.offer_id.data = (uint8_t *) offer_id;
        request.offer_id.len = BR_BOARD_ID_SIZE;
    }
    request.published_at_ms = br_now_ms ();
    return s_test_publish (self, town, &request.base);
}

//  Runs the matching for `quarter` in a transaction of its own.
static bb_exchange_run_t
s_test_match (s_test_broker_t *self, int quarter)
{
    bb_exchange_run_t run;
    MDB_txn *txn = NULL;
    assert (br_store_begin (self->store, true, &txn) == BR_REASON_OK);
    assert (bb_exchange_match (self->exchange, txn, quarter, self->county->roster, br_now_ms (),
                               &self->effects, &run, NULL, NULL) == BR_REASON_OK);
    assert (br_store_commit (&txn) == BR_REASON_OK);
    zlistx_purge (self->effects.agreements);
    return run;
}

static void
s_test_collect (void *argument, const uint8_t *data, size_t size)
{
    br_reason_t reason;
    ProtobufCMessage *message = br_proto_decode (&bruecke__agreement__descriptor, data, size,
                                                 BB_EXCHANGE_AGREEMENT_MAX, &reason);
    assert (message);
    zlistx_add_end ((zlistx_t *) argument, message);
}

static void
s_test_free_message (void **item)
{
    br_proto_free ((ProtobufCMessage **) item);
}

//  All stored agreements, decoded (Bruecke__Agreement *), in id order.
static zlistx_t *
s_test_agreements (s_test_broker_t *self)
{
    zlistx_t *list = zlistx_new ();
    zlistx_set_destructor (list, s_test_free_message);
    bb_exchange_agreements (self->exchange, s_test_collect, list);
    return list;
}

static size_t
s_test_town (const char *node_id)
{
    for (size_t index = 0; index < S_TEST_TOWNS; index++)
        if (streq (s_test_names[index], node_id))
            return index;
    assert (false);
    return 0;
}

//  Town `town` takes `step` on `agreement`: a schedule for `when`, or a
//  completion for `when` signed by `signer` (a town index). Returns the
//  verdict.
static br_reason_t
s_test_step (s_test_broker_t *self, size_t town, const Bruecke__Agreement *agreement,
             Bruecke__AgreementStep step, size_t signer, int64_t when)
{
    Bruecke__AgreementAction action = BRUECKE__AGREEMENT_ACTION__INIT;
    action.transfer_id = agreement->transfer_id;
    action.step = step;
    action.scheduled_for_ms = when;
    action.cancel_reason = "schedule-conflict";
    uint8_t signature[BR_SIGNATURE_SIZE];
    if (step == BRUECKE__AGREEMENT_STEP__STEP_COMPLETE) {
        br_ledger_completion_t completion;
        br_ledger_completion_of (agreement, when, &completion);
        assert (br_ledger_sign (self->county->towns[signer], &completion, signature) ==
                BR_REASON_OK);
        action.completed_ms = when;
        action.signature.data = signature;
        action.signature.len = sizeof (signature);
    }
    return s_test_take (self, town, BRUECKE__MESSAGE_TYPE__TYPE_AGREEMENT_ACTION, &action.base);
}

//  The agreement of `provider` and `receiver` (town indexes), as stored
//  now; the caller frees it with br_proto_free.
static ProtobufCMessage *
s_test_find (s_test_broker_t *self, size_t provider, size_t receiver)
{
    zlistx_t *list = s_test_agreements (self);
    ProtobufCMessage *found = NULL;
    for (ProtobufCMessage *message = (ProtobufCMessage *) zlistx_first (list); message;
         message = (ProtobufCMessage *) zlistx_next (list)) {
        Bruecke__Agreement *agreement = (Bruecke__Agreement *) message;
        if (streq (agreement->provider, s_test_names[provider]) &&
            streq (agreement->receiver, s_test_names[receiver]) &&
            agreement->state != BRUECKE__AGREEMENT_STATE__AGREEMENT_CANCELLED) {
            found = message;
            zlistx_detach_cur (list);
            break;
        }
    }
    zlistx_destroy (&list);
    return found;
}

static int64_t
s_test_balance (s_test_broker_t *self, size_t town)
{
    int64_t balance;
    assert (br_ledger_balance (bb_exchange_ledger (self->exchange), s_test_names[town], &balance) ==
            BR_REASON_OK);
    return balance;
}

//  The agreed flow, with the refusals on the way.
static void
s_test_flow (s_test_county_t *county)
{
    s_test_broker_t broker;
    s_test_broker_new (&broker, county);
    uint8_t unna_offer[BR_BOARD_ID_SIZE] = {1}, kamen_offer[BR_BOARD_ID_SIZE] = {2};
    const char *fruehe_hilfen[] = {"fruehe-hilfen", NULL};
    const char *two_topics[] = {"sprachfoerderung", "elternbildung", NULL};
    assert (s_test_offer (&broker, S_UNNA, unna_offer, fruehe_hilfen, 4, 8) == BR_REASON_OK);
    assert (s_test_offer (&broker, S_KAMEN, kamen_offer, two_topics, 3, 3) == BR_REASON_OK);
    assert (broker.effects.board_changed);
    //  Three towns want Frühe Hilfen: Unna can coach two this quarter
    uint8_t id[BR_BOARD_ID_SIZE] = {0x10};
    size_t wanting[] = {S_LUENEN, S_WERNE, S_SCHWERTE};
    for (size_t index = 0; index < 3; index++) {
        id[1] = (uint8_t) index;
        assert (s_test_request (&broker, wanting[index], id, "fruehe-hilfen", NULL) ==
                BR_REASON_OK);
    }
    //  Bergkamen asks for Kamen's offer (its first topic); Lünen too, on
    //  the second topic, but Kamen's three hours are gone by then
    id[0] = 0x20;
    assert (s_test_request (&broker, S_BERGKAMEN, id, NULL, kamen_offer) == BR_REASON_OK);
    id[0] = 0x30;
    assert (s_test_request (&broker, S_LUENEN, id, "elternbildung", NULL) == BR_REASON_OK);
    //  Refused on the board: a request for an offer not there
    id[0] = 0x40;
    uint8_t nowhere[BR_BOARD_ID_SIZE] = {0x99};
    assert (s_test_request (&broker, S_WERNE, id, NULL, nowhere) == BR_REASON_NOT_FOUND);

    bb_exchange_run_t run = s_test_match (&broker, S_TEST_QUARTER);
    assert (run.proposed == 3 && run.unmatched == 2);
    ProtobufCMessage *found = s_test_find (&broker, S_KAMEN, S_BERGKAMEN);
    assert (found);
    Bruecke__Agreement *agreement = (Bruecke__Agreement *) found;
    assert (streq (agreement->topic, "sprachfoerderung") && agreement->hours == 3);
    assert (memcmp (agreement->offer_id.data, kamen_offer, BR_BOARD_ID_SIZE) == 0);
    assert (agreement->state == BRUECKE__AGREEMENT_STATE__AGREEMENT_PROPOSED);
    assert (agreement->version == 1 && *agreement->why);
    //  The same quarter again: nothing new (requests taken, capacity used)
    run = s_test_match (&broker, S_TEST_QUARTER);
    assert (run.proposed == 0 && run.unmatched == 2);

    //  Kamen coaches Bergkamen: the steps, and refusals in between
    Bruecke__AgreementStep accept = BRUECKE__AGREEMENT_STEP__STEP_ACCEPT,
                           schedule = BRUECKE__AGREEMENT_STEP__STEP_SCHEDULE,
                           complete = BRUECKE__AGREEMENT_STEP__STEP_COMPLETE,
                           cancel = BRUECKE__AGREEMENT_STEP__STEP_CANCEL;
    int64_t done = br_now_ms () - 86400000; //  the coaching took place yesterday
    int64_t later = br_now_ms () + 7 * 86400000;
    assert (s_test_step (&broker, S_LUENEN, agreement, accept, 0, 0) == BR_REASON_FORBIDDEN);
    assert (s_test_step (&broker, S_KAMEN, agreement, accept, 0, 0) == BR_REASON_OK);
    assert (s_test_step (&broker, S_KAMEN, agreement, accept, 0, 0) == BR_REASON_OK);
    assert (s_test_step (&broker, S_KAMEN, agreement, complete, S_KAMEN, done) ==
            BR_REASON_INVALID_STATE);
    assert (s_test_step (&broker, S_BERGKAMEN, agreement, schedule, 0, done) ==
            BR_REASON_INVALID_STATE);
    assert (s_test_step (&broker, S_BERGKAMEN, agreement, accept, 0, 0) == BR_REASON_OK);
    assert (s_test_step (&broker, S_BERGKAMEN, agreement, complete, S_BERGKAMEN, done) ==
            BR_REASON_INVALID_STATE); //  not scheduled yet
    assert (s_test_step (&broker, S_BERGKAMEN, agreement, schedule, 0, 0) == BR_REASON_MALFORMED);
    //  Scheduled for next week: not to be completed before
    assert (s_test_step (&broker, S_BERGKAMEN, agreement, schedule, 0, later) == BR_REASON_OK);
    assert (s_test_step (&broker, S_KAMEN, agreement, complete, S_KAMEN, later) ==
            BR_REASON_TOO_EARLY);
    //  Moved to yesterday; a completion for another date, or signed with
    //  another town's key
    assert (s_test_step (&broker, S_BERGKAMEN, agreement, schedule, 0, done) == BR_REASON_OK);
    assert (s_test_step (&broker, S_KAMEN, agreement, complete, S_KAMEN, later) ==
            BR_REASON_INVALID_STATE);
    assert (s_test_step (&broker, S_KAMEN, agreement, complete, S_BERGKAMEN, done) ==
            BR_REASON_BAD_SIGNATURE);
    //  One signature is not enough
    assert (s_test_step (&broker, S_KAMEN, agreement, complete, S_KAMEN, done) == BR_REASON_OK);
    uint8_t hash[BR_LEDGER_HASH_SIZE];
    uint64_t head;
    assert (br_ledger_head (bb_exchange_ledger (broker.exchange), &head, hash) == BR_REASON_OK &&
            head == 0);
    assert (!broker.effects.ledger_changed);
    //  The other town must sign the same date; the date is fixed now
    assert (s_test_step (&broker, S_BERGKAMEN, agreement, complete, S_BERGKAMEN, done + 1) ==
            BR_REASON_INVALID_STATE);
    assert (s_test_step (&broker, S_BERGKAMEN, agreement, schedule, 0, done + 1) ==
            BR_REASON_INVALID_STATE);
    assert (s_test_step (&broker, S_BERGKAMEN, agreement, complete, S_BERGKAMEN, done) ==
            BR_REASON_OK);
    assert (broker.effects.ledger_changed);
    assert (br_ledger_head (bb_exchange_ledger (broker.exchange), &head, hash) == BR_REASON_OK &&
            head == 1);
    assert (s_test_balance (&broker, S_KAMEN) == 3 && s_test_balance (&broker, S_BERGKAMEN) == -3);
    assert (s_test_step (&broker, S_BERGKAMEN, agreement, complete, S_BERGKAMEN, done) ==
            BR_REASON_INVALID_STATE);
    assert (s_test_step (&broker, S_KAMEN, agreement, cancel, 0, 0) == BR_REASON_INVALID_STATE);
    br_proto_free (&found);
    found = s_test_find (&broker, S_KAMEN, S_BERGKAMEN);
    agreement = (Bruecke__Agreement *) found;
    assert (agreement->state == BRUECKE__AGREEMENT_STATE__AGREEMENT_COMPLETED);
    assert (agreement->ledger_sequence == 1 && agreement->completed_ms == done);
    br_proto_free (&found);

    //  A cancellation frees its request and the hours: the next run uses them
    zlistx_t *list = s_test_agreements (&broker);
    Bruecke__Agreement *unna = NULL;
    for (unna = (Bruecke__Agreement *) zlistx_first (list); unna;
         unna = (Bruecke__Agreement *) zlistx_next (list))
        if (streq (unna->provider, "unna"))
            break;
    assert (unna);
    size_t receiver = s_test_town (unna->receiver);
    uint8_t unna_transfer[BR_BOARD_ID_SIZE];
    memcpy (unna_transfer, unna->transfer_id.data, BR_BOARD_ID_SIZE);
    Bruecke__AgreementAction bad = BRUECKE__AGREEMENT_ACTION__INIT;
    bad.transfer_id.data = unna_transfer;
    bad.transfer_id.len = BR_BOARD_ID_SIZE;
    bad.step = cancel;
    bad.cancel_reason = "kein-grund";
    assert (s_test_take (&broker, receiver, BRUECKE__MESSAGE_TYPE__TYPE_AGREEMENT_ACTION,
                         &bad.base) == BR_REASON_MALFORMED);
    assert (s_test_step (&broker, receiver, unna, cancel, 0, 0) == BR_REASON_OK);
    zlistx_destroy (&list);
    run = s_test_match (&broker, S_TEST_QUARTER);
    assert (run.proposed == 1 && run.unmatched == 2);
    //  Malformed and unknown agreements
    bad.transfer_id.len = 3;
    assert (s_test_take (&broker, S_UNNA, BRUECKE__MESSAGE_TYPE__TYPE_AGREEMENT_ACTION,
                         &bad.base) == BR_REASON_MALFORMED);
    bad.transfer_id.data = nowhere;
    bad.transfer_id.len = BR_BOARD_ID_SIZE;
    assert (s_test_take (&broker, S_UNNA, BRUECKE__MESSAGE_TYPE__TYPE_AGREEMENT_ACTION,
                         &bad.base) == BR_REASON_NOT_FOUND);
    Bruecke__BoardWithdraw withdraw = BRUECKE__BOARD_WITHDRAW__INIT;
    withdraw.item_id.data = kamen_offer;
    withdraw.item_id.len = BR_BOARD_ID_SIZE;
    assert (s_test_take (&broker, S_UNNA, BRUECKE__MESSAGE_TYPE__TYPE_BOARD_WITHDRAW,
                         &withdraw.base) == BR_REASON_FORBIDDEN);
    assert (s_test_take (&broker, S_KAMEN, BRUECKE__MESSAGE_TYPE__TYPE_BOARD_WITHDRAW,
                         &withdraw.base) == BR_REASON_OK);
    //  The plan: a topic not open in the quarter gets nothing
    assert (bb_exchange_plan_topic (broker.exchange, "kinderschutz", S_TEST_QUARTER) ==
            BR_REASON_OK);
    assert (bb_exchange_plan_topic (broker.exchange, "kein-thema", S_TEST_QUARTER) ==
            BR_REASON_MALFORMED);
    run = s_test_match (&broker, S_TEST_QUARTER);
    assert (run.proposed == 0);
    //  ... and no quarter 5
    MDB_txn *txn = NULL;
    bb_exchange_run_t nothing;
    assert (br_store_begin (broker.store, true, &txn) == BR_REASON_OK);
    assert (bb_exchange_match (broker.exchange, txn, S_TEST_QUARTER + 1, county->roster,
                               br_now_ms (), &broker.effects, &nothing, NULL,
                               NULL) == BR_REASON_MALFORMED);
    br_store_abort (&txn);
    s_test_broker_destroy (&broker);
}

//  ---- Property test: random instances over two quarters ----

//  True while an agreement still binds its towns' hours: neither completed
//  nor cancelled.
static bool
s_test_binds (const Bruecke__Agreement *agreement)
{
    return agreement->state != BRUECKE__AGREEMENT_STATE__AGREEMENT_COMPLETED &&
           agreement->state != BRUECKE__AGREEMENT_STATE__AGREEMENT_CANCELLED;
}

//  Per town: hours in agreements not cancelled, and the projected balance.
typedef struct {
    int64_t provided[2]; //  hours as provider, per quarter of the test
    int64_t projected;   //  ledger balance + open agreements
} s_test_load_t;

static void
s_test_loads (s_test_broker_t *self, s_test_load_t loads[S_TEST_TOWNS])
{
    memset (loads, 0, S_TEST_TOWNS * sizeof (s_test_load_t));
    zlistx_t *list = s_test_agreements (self);
    for (Bruecke__Agreement *agreement = (Bruecke__Agreement *) zlistx_first (list); agreement;
         agreement = (Bruecke__Agreement *) zlistx_next (list)) {
        size_t provider = s_test_town (agreement->provider);
        size_t receiver = s_test_town (agreement->receiver);
        assert (provider != receiver);
        if (agreement->state != BRUECKE__AGREEMENT_STATE__AGREEMENT_CANCELLED)
            loads[provider].provided[agreement->quarter == S_TEST_QUARTER ? 0 : 1] +=
                agreement->hours;
        if (s_test_binds (agreement)) {
            loads[provider].projected += agreement->hours;
            loads[receiver].projected -= agreement->hours;
        }
    }
    zlistx_destroy (&list);
    for (size_t town = 0; town < S_TEST_TOWNS; town++)
        loads[town].projected += s_test_balance (self, town);
}

//  Checks a run against the rules: capacity, the balance limits (a town
//  that started outside only moves towards them), the ledger's sum.
static void
s_test_check (s_test_broker_t *self, const s_test_load_t before[S_TEST_TOWNS],
              const int capacity[S_TEST_TOWNS], int floor, int ceiling)
{
    s_test_load_t after[S_TEST_TOWNS];
    s_test_loads (self, after);
    for (size_t town = 0; town < S_TEST_TOWNS; town++) {
        assert (after[town].provided[0] <= capacity[town]);
        assert (after[town].provided[1] <= capacity[town]);
        int64_t start = before[town].projected;
        int64_t low = start < floor ? start : floor, high = start > ceiling ? start : ceiling;
        assert (after[town].projected >= low && after[town].projected <= high);
    }
    int64_t total;
    assert (br_ledger_total (bb_exchange_ledger (self->exchange), &total) == BR_REASON_OK &&
            total == 0);
    uint64_t checked, first_bad;
    const char *problem;
    assert (br_ledger_verify (bb_exchange_ledger (self->exchange), self->county->roster, &checked,
                              &first_bad, &problem) == BR_REASON_OK);
}

//  Moves every proposed agreement on at random: completes some (both
//  sign), leaves some with one signature, cancels some, leaves the rest.
static void
s_test_progress (s_test_broker_t *self, uint64_t *seed)
{
    zlistx_t *list = s_test_agreements (self);
    for (Bruecke__Agreement *agreement = (Bruecke__Agreement *) zlistx_first (list); agreement;
         agreement = (Bruecke__Agreement *) zlistx_next (list)) {
        if (agreement->state != BRUECKE__AGREEMENT_STATE__AGREEMENT_PROPOSED)
            continue; //  moved on in an earlier round
        size_t provider = s_test_town (agreement->provider);
        size_t receiver = s_test_town (agreement->receiver);
        int choice = br_seeded_range (seed, 0, 9);
        if (choice < 5) {
            int64_t done = agreement->proposed_at_ms - 3600000;
            assert (s_test_step (self, provider, agreement, BRUECKE__AGREEMENT_STEP__STEP_ACCEPT, 0,
                                 0) == BR_REASON_OK);
            assert (s_test_step (self, receiver, agreement, BRUECKE__AGREEMENT_STEP__STEP_ACCEPT, 0,
                                 0) == BR_REASON_OK);
            assert (s_test_step (self, receiver, agreement, BRUECKE__AGREEMENT_STEP__STEP_SCHEDULE,
                                 0, done) == BR_REASON_OK);
            //  Sometimes only one town signs: that must not count
            assert (s_test_step (self, provider, agreement, BRUECKE__AGREEMENT_STEP__STEP_COMPLETE,
                                 provider, done) == BR_REASON_OK);
            if (choice < 4)
                assert (s_test_step (self, receiver, agreement,
                                     BRUECKE__AGREEMENT_STEP__STEP_COMPLETE, receiver,
                                     done) == BR_REASON_OK);
        } else if (choice < 7)
            assert (s_test_step (self, choice == 5 ? provider : receiver, agreement,
                                 BRUECKE__AGREEMENT_STEP__STEP_CANCEL, 0, 0) == BR_REASON_OK);
    }
    zlistx_destroy (&list);
}

static void
s_test_properties (s_test_county_t *county, bool verbose)
{
    const char *topics[] = {"fruehe-hilfen", "sprachfoerderung", "elternbildung", "kinderschutz"};
    uint64_t seed = S_TEST_SEED;
    size_t proposed = 0, completed = 0;
    for (size_t instance = 0; instance < S_TEST_INSTANCES; instance++) {
        s_test_broker_t broker;
        s_test_broker_new (&broker, county);
        int floor = -br_seeded_range (&seed, 0, 10), ceiling = br_seeded_range (&seed, 0, 10);
        assert (bb_exchange_set_limits (broker.exchange, floor, ceiling) == BR_REASON_OK);
        int capacity[S_TEST_TOWNS] = {0};
        uint8_t offer_ids[S_TEST_TOWNS * 3][BR_BOARD_ID_SIZE];
        size_t offers = 0;
        for (size_t town = 0; town < S_TEST_TOWNS; town++) {
            int count = br_seeded_range (&seed, 0, 2);
            for (int index = 0; index < count; index++) {
                const char *chosen[3] = {topics[br_seeded_range (&seed, 0, 3)], NULL, NULL};
                const char *second = topics[br_seeded_range (&seed, 0, 3)];
                if (!streq (second, chosen[0]) && br_seeded_range (&seed, 0, 1))
                    chosen[1] = second;
                int cap = br_seeded_range (&seed, 0, 12);
                br_seeded_bytes (&seed, BR_BOARD_ID_SIZE, offer_ids[offers]);
                assert (s_test_offer (&broker, town, offer_ids[offers], chosen,
                                      br_seeded_range (&seed, 1, 6), cap) == BR_REASON_OK);
                capacity[town] += cap;
                offers++;
            }
        }
        for (size_t town = 0; town < S_TEST_TOWNS; town++) {
            int count = br_seeded_range (&seed, 0, 4);
            for (int index = 0; index < count; index++) {
                uint8_t id[BR_BOARD_ID_SIZE];
                br_seeded_bytes (&seed, BR_BOARD_ID_SIZE, id);
                const uint8_t *offer_id =
                    offers && br_seeded_range (&seed, 0, 4) == 0
                        ? offer_ids[br_seeded_range (&seed, 0, (int) offers - 1)]
                        : NULL;
                assert (s_test_request (&broker, town, id, topics[br_seeded_range (&seed, 0, 3)],
                                        offer_id) == BR_REASON_OK);
            }
        }
        //  Two rounds in this quarter with progress between, then the next
        int quarters[] = {S_TEST_QUARTER, S_TEST_QUARTER, S_TEST_NEXT};
        for (size_t round = 0; round < 3; round++) {
            s_test_load_t before[S_TEST_TOWNS];
            s_test_loads (&broker, before);
            proposed += s_test_match (&broker, quarters[round]).proposed;
            s_test_check (&broker, before, capacity, floor, ceiling);
            s_test_progress (&broker, &seed);
            s_test_loads (&broker, before);
            s_test_check (&broker, before, capacity, floor, ceiling);
        }
        uint8_t hash[BR_LEDGER_HASH_SIZE];
        uint64_t head;
        assert (br_ledger_head (bb_exchange_ledger (broker.exchange), &head, hash) == BR_REASON_OK);
        completed += head;
        s_test_broker_destroy (&broker);
    }
    //  The instances did exercise something
    if (verbose)
        printf ("%d random instances, %zu proposals, %zu completions; ", S_TEST_INSTANCES, proposed,
                completed);
    assert (proposed > S_TEST_INSTANCES);
    assert (completed > S_TEST_INSTANCES / 2);
}

void
bb_exchange_scenario_test (bool verbose)
{
    if (verbose)
        printf (" * bb_exchange_scenario: ");
    s_test_county_t county;
    s_test_county_new (&county);
    s_test_flow (&county);
    s_test_properties (&county, verbose);
    s_test_county_destroy (&county);
    if (verbose)
        printf ("OK\n");
}
