/*  =========================================================================
    bb_exchange - the broker's Transferbörse: board, agreements, matching, ledger

    The rules are in bb_exchange.h; the wire in PROTOCOL.md section 16.
    =========================================================================
*/

#include "bruecke.h"
#include "bb_exchange.h"
#include "br_testing.h"

#define S_ID_SIZE     BR_BOARD_ID_SIZE
#define S_PLAN_TOPICS 64 //  most topics in the staged plan

struct _bb_exchange_t {
    br_store_t *store;   //  the LMDB environment (not ours)
    br_board_t *board;   //  offers and requests
    br_ledger_t *ledger; //  completed transfers
    MDB_dbi agreements;  //  transfer id -> Agreement bytes
    int floor;           //  balance limits, hours
    int ceiling;
    struct {
        char topic[BB_MATCH_TOPIC_MAX + 1];
        int from_quarter;
    } plan[S_PLAN_TOPICS]; //  the staged plan
    size_t plan_count;     //  topics in it; 0 = no plan
};

bb_exchange_t *
bb_exchange_new (br_store_t *store, br_reason_t *reason)
{
    assert (store && reason);
    bb_exchange_t *self = (bb_exchange_t *) zmalloc (sizeof (bb_exchange_t));
    assert (self);
    self->store = store;
    self->floor = BB_MATCH_FLOOR_DEFAULT;
    self->ceiling = BB_MATCH_CEILING_DEFAULT;
    self->board = br_board_new (store, reason);
    if (self->board)
        self->ledger = br_ledger_new (store, reason);
    if (self->ledger)
        *reason = br_store_open_db (store, "agreements", MDB_CREATE, &self->agreements);
    if (!self->ledger || *reason != BR_REASON_OK)
        bb_exchange_destroy (&self);
    return self;
}

void
bb_exchange_destroy (bb_exchange_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        bb_exchange_t *self = *self_p;
        br_board_destroy (&self->board);
        br_ledger_destroy (&self->ledger);
        free (self);
        *self_p = NULL;
    }
}

br_board_t *
bb_exchange_board (bb_exchange_t *self)
{
    assert (self);
    return self->board;
}

br_ledger_t *
bb_exchange_ledger (bb_exchange_t *self)
{
    assert (self);
    return self->ledger;
}

br_reason_t
bb_exchange_set_limits (bb_exchange_t *self, int floor, int ceiling)
{
    assert (self);
    if (floor > ceiling || floor < -BB_MATCH_BALANCE_MAX || ceiling > BB_MATCH_BALANCE_MAX)
        return BR_REASON_MALFORMED;
    self->floor = floor;
    self->ceiling = ceiling;
    return BR_REASON_OK;
}

br_reason_t
bb_exchange_plan_topic (bb_exchange_t *self, const char *topic, int from_quarter)
{
    assert (self && topic);
    int year = from_quarter / 10, quarter = from_quarter % 10;
    if (!br_catalogue_topic (topic) || year < BB_MATCH_YEAR_MIN || year > BB_MATCH_YEAR_MAX ||
        quarter < 1 || quarter > 4 || self->plan_count == S_PLAN_TOPICS)
        return BR_REASON_MALFORMED;
    snprintf (self->plan[self->plan_count].topic, sizeof (self->plan[0].topic), "%s", topic);
    self->plan[self->plan_count++].from_quarter = from_quarter;
    return BR_REASON_OK;
}

void
bb_exchange_effects_init (bb_exchange_effects_t *effects)
{
    assert (effects);
    memset (effects, 0, sizeof (*effects));
    effects->agreements = zlistx_new ();
    zlistx_set_destructor (effects->agreements, (zlistx_destructor_fn *) zchunk_destroy);
}

void
bb_exchange_effects_clear (bb_exchange_effects_t *effects)
{
    assert (effects);
    zlistx_destroy (&effects->agreements);
    memset (effects, 0, sizeof (*effects));
}

//  ---- Agreements -------------------------------------------------------------

//  Reads agreement `id` inside `txn` into *agreement (the caller frees it
//  with br_proto_free). Returns OK, NOT_FOUND, AUDIT_BROKEN or a store reason.
static br_reason_t
s_agreement_get (bb_exchange_t *self, MDB_txn *txn, const uint8_t *id, ProtobufCMessage **agreement)
{
    *agreement = NULL;
    const void *value;
    size_t size;
    br_reason_t reason = br_store_get (txn, self->agreements, id, S_ID_SIZE, &value, &size);
    if (reason != BR_REASON_OK)
        return reason;
    ProtobufCMessage *message = br_proto_decode (&bruecke__agreement__descriptor, value, size,
                                                 BB_EXCHANGE_AGREEMENT_MAX, &reason);
    if (!message)
        return BR_REASON_AUDIT_BROKEN;
    *agreement = message;
    return BR_REASON_OK;
}

//  Stores the agreement with its version raised and hands its bytes to the
//  effects.
static br_reason_t
s_agreement_put (bb_exchange_t *self, MDB_txn *txn, Bruecke__Agreement *agreement,
                 bb_exchange_effects_t *effects)
{
    agreement->version++;
    zchunk_t *bytes = br_proto_encode (&agreement->base);
    assert (zchunk_size (bytes) <= BB_EXCHANGE_AGREEMENT_MAX);
    br_reason_t reason = br_store_put (txn, self->agreements, agreement->transfer_id.data,
                                       S_ID_SIZE, zchunk_data (bytes), zchunk_size (bytes), 0);
    if (reason == BR_REASON_OK)
        zlistx_add_end (effects->agreements, bytes);
    else
        zchunk_destroy (&bytes);
    return reason;
}

//  True while an agreement still binds its towns' hours.
static bool
s_open (const Bruecke__Agreement *agreement)
{
    return agreement->state == BRUECKE__AGREEMENT_STATE__AGREEMENT_PROPOSED ||
           agreement->state == BRUECKE__AGREEMENT_STATE__AGREEMENT_ACCEPTED ||
           agreement->state == BRUECKE__AGREEMENT_STATE__AGREEMENT_SCHEDULED;
}

//  Signs the completion once both signatures are in: appends it to the
//  ledger. The ledger's refusal becomes the verdict.
static br_reason_t
s_complete (bb_exchange_t *self, MDB_txn *txn, const Bruecke__AgreementAction *action,
            Bruecke__Agreement *agreement, bool provider, br_roster_t *roster, int64_t now_ms,
            bb_exchange_effects_t *effects, br_reason_t *verdict)
{
    if (action->signature.len != BR_SIGNATURE_SIZE || action->completed_ms <= 0) {
        *verdict = BR_REASON_MALFORMED;
        return BR_REASON_OK;
    }
    //  Both towns sign the one statement: for the scheduled date, once it
    //  has come
    if (action->completed_ms != agreement->scheduled_for_ms) {
        *verdict = BR_REASON_INVALID_STATE;
        return BR_REASON_OK;
    }
    if (action->completed_ms > now_ms + BR_LEDGER_CLOCK_SKEW_MS) {
        *verdict = BR_REASON_TOO_EARLY;
        return BR_REASON_OK;
    }
    br_ledger_completion_t completion;
    br_ledger_completion_of (agreement, action->completed_ms, &completion);
    *verdict = br_ledger_signature_check (&completion,
                                          provider ? agreement->provider : agreement->receiver,
                                          action->signature.data, roster);
    if (*verdict != BR_REASON_OK)
        return BR_REASON_OK;
    //  The signature is kept in the record; its bytes belong to the action
    ProtobufCBinaryData *mine =
        provider ? &agreement->provider_signature : &agreement->receiver_signature;
    uint8_t *copy = (uint8_t *) malloc (BR_SIGNATURE_SIZE);
    assert (copy);
    memcpy (copy, action->signature.data, BR_SIGNATURE_SIZE);
    free (mine->data);
    mine->data = copy;
    mine->len = BR_SIGNATURE_SIZE;
    agreement->completed_ms = action->completed_ms;
    if (agreement->provider_signature.len == BR_SIGNATURE_SIZE &&
        agreement->receiver_signature.len == BR_SIGNATURE_SIZE) {
        uint64_t sequence = 0;
        br_reason_t reason =
            br_ledger_append (self->ledger, txn, &completion, agreement->provider_signature.data,
                              agreement->receiver_signature.data, roster, now_ms, &sequence);
        if (br_reason_retry (reason) || reason == BR_REASON_AUDIT_BROKEN)
            return reason;
        if (reason != BR_REASON_OK) {
            *verdict = reason;
            return BR_REASON_OK;
        }
        agreement->state = BRUECKE__AGREEMENT_STATE__AGREEMENT_COMPLETED;
        agreement->ledger_sequence = sequence;
        effects->ledger_changed = true;
    }
    return s_agreement_put (self, txn, agreement, effects);
}

//  Replaces a string field of a decoded message (whose absent strings
//  point to protobuf-c's shared empty string, which is not to be freed).
static void
s_set_string (char **field, const char *value)
{
    if (*field != protobuf_c_empty_string)
        free (*field);
    *field = strdup (value);
    assert (*field);
}

//  One town's step on an agreement.
static br_reason_t
s_act (bb_exchange_t *self, MDB_txn *txn, const char *town, const Bruecke__AgreementAction *action,
       br_roster_t *roster, int64_t now_ms, bb_exchange_effects_t *effects, br_reason_t *verdict)
{
    if (action->transfer_id.len != S_ID_SIZE) {
        *verdict = BR_REASON_MALFORMED;
        return BR_REASON_OK;
    }
    ProtobufCMessage *message = NULL;
    br_reason_t reason = s_agreement_get (self, txn, action->transfer_id.data, &message);
    if (reason == BR_REASON_NOT_FOUND) {
        *verdict = reason;
        return BR_REASON_OK;
    }
    if (reason != BR_REASON_OK)
        return reason;
    Bruecke__Agreement *agreement = (Bruecke__Agreement *) message;
    bool provider = streq (town, agreement->provider);
    if (!provider && !streq (town, agreement->receiver))
        *verdict = BR_REASON_FORBIDDEN;
    else if (action->step < BRUECKE__AGREEMENT_STEP__STEP_ACCEPT ||
             action->step > BRUECKE__AGREEMENT_STEP__STEP_CANCEL)
        *verdict = BR_REASON_MALFORMED;
    else if (!br_agreement_allowed (agreement->state, action->step))
        *verdict = BR_REASON_INVALID_STATE; //  by the table of br_states
    else if (action->step == BRUECKE__AGREEMENT_STEP__STEP_ACCEPT) {
        if (provider)
            agreement->provider_accepted = true;
        else
            agreement->receiver_accepted = true;
        if (agreement->provider_accepted && agreement->receiver_accepted)
            agreement->state = BRUECKE__AGREEMENT_STATE__AGREEMENT_ACCEPTED;
        reason = s_agreement_put (self, txn, agreement, effects);
    } else if (action->step == BRUECKE__AGREEMENT_STEP__STEP_SCHEDULE) {
        if (agreement->completed_ms)
            *verdict = BR_REASON_INVALID_STATE; //  a town signed it: the date stands
        else if (action->scheduled_for_ms <= 0)
            *verdict = BR_REASON_MALFORMED;
        else {
            agreement->state = BRUECKE__AGREEMENT_STATE__AGREEMENT_SCHEDULED;
            agreement->scheduled_for_ms = action->scheduled_for_ms;
            reason = s_agreement_put (self, txn, agreement, effects);
        }
    } else if (action->step == BRUECKE__AGREEMENT_STEP__STEP_COMPLETE) {
        reason =
            s_complete (self, txn, action, agreement, provider, roster, now_ms, effects, verdict);
    } else if (!action->cancel_reason || !br_catalogue_cancel_reason (action->cancel_reason))
        *verdict = BR_REASON_MALFORMED; //  cancel
    else {
        agreement->state = BRUECKE__AGREEMENT_STATE__AGREEMENT_CANCELLED;
        s_set_string (&agreement->cancel_reason, action->cancel_reason);
        s_set_string (&agreement->cancelled_by, town);
        reason = s_agreement_put (self, txn, agreement, effects);
    }
    br_proto_free (&message);
    return reason;
}

br_reason_t
bb_exchange_take (bb_exchange_t *self, MDB_txn *txn, br_envelope_t *envelope, br_roster_t *roster,
                  int64_t now_ms, bb_exchange_effects_t *effects, br_reason_t *verdict)
{
    assert (self && txn && envelope && roster && effects && verdict);
    *verdict = BR_REASON_OK;
    const Bruecke__Header *header = br_envelope_header (envelope);
    const ProtobufCBinaryData *body = &br_envelope_message (envelope)->body;
    const char *town = header->sender;
    uint64_t sequence = 0;
    br_reason_t reason = BR_REASON_OK;
    ProtobufCMessage *message = NULL;
    switch (header->type) {
        case BRUECKE__MESSAGE_TYPE__TYPE_BOARD_PUBLISH:
            reason = br_board_put (self->board, txn, body->data, body->len, town, roster, now_ms,
                                   &sequence);
            break;
        case BRUECKE__MESSAGE_TYPE__TYPE_BOARD_WITHDRAW:
            reason = br_envelope_open_body (envelope, NULL, &bruecke__board_withdraw__descriptor,
                                            &message);
            if (reason == BR_REASON_OK) {
                const ProtobufCBinaryData *id = &((Bruecke__BoardWithdraw *) message)->item_id;
                reason = br_board_withdraw (self->board, txn, id->data, id->len, town, now_ms,
                                            &sequence);
            }
            break;
        case BRUECKE__MESSAGE_TYPE__TYPE_AGREEMENT_ACTION:
            reason = br_envelope_open_body (envelope, NULL, &bruecke__agreement_action__descriptor,
                                            &message);
            if (reason == BR_REASON_OK)
                reason = s_act (self, txn, town, (Bruecke__AgreementAction *) message, roster,
                                now_ms, effects, verdict);
            break;
        default:
            reason = BR_REASON_UNSUPPORTED_TYPE;
    }
    br_proto_free (&message);
    if (sequence)
        effects->board_changed = true;
    if (reason == BR_REASON_AUDIT_BROKEN)
        zsys_error ("exchange: stored data does not decode; a %s was refused",
                    br_message_type_name (header->type));
    //  Only the store's failures fail the caller's transaction; the rest is
    //  this message's verdict (nothing of it was written)
    if (reason != BR_REASON_OK && !br_reason_retry (reason)) {
        *verdict = reason;
        reason = BR_REASON_OK;
    }
    return reason;
}

//  ---- Matching ---------------------------------------------------------------

//  What the matching needs of the stored state, gathered in one pass.
typedef struct {
    bb_exchange_t *exchange; //  the exchange
    int quarter;             //  the quarter matched
    zhashx_t *balance;       //  town -> int64_t *: ledger balance plus open agreements
    zhashx_t *capacity;      //  town -> int64_t *: capacity left in the quarter
    zhashx_t *taken;         //  request id (hex) -> "": has an agreement not cancelled
    zlistx_t *history;       //  char *: "receiver provider" pairs
    br_reason_t reason;      //  the first failure while gathering
} s_gather_t;

static int64_t *
s_count (zhashx_t *table, const char *town)
{
    int64_t *value = (int64_t *) zhashx_lookup (table, town);
    if (!value) {
        value = (int64_t *) zmalloc (sizeof (int64_t));
        zhashx_insert (table, town, value);
    }
    return value;
}

static void
s_gather_agreement (void *argument, const uint8_t *data, size_t size)
{
    s_gather_t *gather = (s_gather_t *) argument;
    br_reason_t reason;
    ProtobufCMessage *message = br_proto_decode (&bruecke__agreement__descriptor, data, size,
                                                 BB_EXCHANGE_AGREEMENT_MAX, &reason);
    if (!message) {
        gather->reason = BR_REASON_AUDIT_BROKEN;
        return;
    }
    Bruecke__Agreement *agreement = (Bruecke__Agreement *) message;
    if (agreement->state != BRUECKE__AGREEMENT_STATE__AGREEMENT_CANCELLED) {
        char key[2 * S_ID_SIZE + 1];
        br_hex_encode (agreement->request_id.data, agreement->request_id.len, key);
        zhashx_update (gather->taken, key, (void *) "");
        zlistx_add_end (gather->history,
                        zsys_sprintf ("%s %s", agreement->receiver, agreement->provider));
        if ((int) agreement->quarter == gather->quarter)
            *s_count (gather->capacity, agreement->provider) -= agreement->hours;
    }
    if (s_open (agreement)) {
        *s_count (gather->balance, agreement->provider) += agreement->hours;
        *s_count (gather->balance, agreement->receiver) -= agreement->hours;
    }
    br_proto_free (&message);
}

static void
s_gather_record (void *argument, const br_ledger_record_t *record)
{
    s_gather_t *gather = (s_gather_t *) argument;
    zlistx_add_end (gather->history, zsys_sprintf ("%s %s", record->completion.receiver,
                                                   record->completion.provider));
}

static void
s_gather_balance (void *argument, const char *town, int64_t balance)
{
    *s_count (((s_gather_t *) argument)->balance, town) += balance;
}

//  Offers and requests on the board, kept to feed the matching after the
//  towns are in.
typedef struct {
    s_gather_t *gather;
    zlistx_t *items;    //  zchunk_t *: SignedBoardItem bytes
    zhashx_t *offer_of; //  matching offer id (hex) -> board offer id (zchunk_t *)
} s_items_t;

static void
s_gather_item (void *argument, const uint8_t *data, size_t size)
{
    s_items_t *items = (s_items_t *) argument;
    br_board_item_t item;
    if (br_board_item_decode (data, size, &item) != BR_REASON_OK) {
        items->gather->reason = BR_REASON_AUDIT_BROKEN;
        return;
    }
    if (item.offer)
        *s_count (items->gather->capacity, item.town) += item.offer->capacity_per_quarter;
    br_board_item_free (&item);
    zlistx_add_end (items->items, zchunk_new (data, size));
}

static void
s_free_pointer (void **item)
{
    free (*item);
    *item = NULL;
}

//  Feeds one board item to the matching. Items of towns not in it (revoked,
//  gone from the roster) are left out.
static void
s_feed_item (bb_match_t *match, s_items_t *items, const zchunk_t *bytes)
{
    s_gather_t *gather = items->gather;
    br_board_item_t item;
    if (br_board_item_decode (zchunk_data ((zchunk_t *) bytes), zchunk_size ((zchunk_t *) bytes),
                              &item) != BR_REASON_OK)
        return;
    if (item.offer) {
        for (size_t index = 0; index < item.offer->n_topics; index++) {
            //  One matching offer per topic: the first under the offer's id
            //  (so that a request for this offer takes it), the others under
            //  a hash of offer id and topic
            uint8_t id[S_ID_SIZE];
            memcpy (id, item.id.data, S_ID_SIZE);
            if (index > 0) {
                crypto_generichash_state state;
                crypto_generichash_init (&state, NULL, 0, sizeof (id));
                crypto_generichash_update (&state, item.id.data, S_ID_SIZE);
                crypto_generichash_update (&state, (const uint8_t *) item.offer->topics[index],
                                           strlen (item.offer->topics[index]));
                crypto_generichash_final (&state, id, sizeof (id));
            }
            char key[2 * S_ID_SIZE + 1];
            br_hex_encode (id, S_ID_SIZE, key);
            zhashx_update (items->offer_of, key, zchunk_new (item.id.data, S_ID_SIZE));
            br_reason_t ignored = bb_match_add_offer (
                match, id, item.town, item.offer->topics[index], (int) item.offer->coaching_hours);
            (void) ignored;
        }
    } else {
        char key[2 * S_ID_SIZE + 1];
        br_hex_encode (item.id.data, S_ID_SIZE, key);
        if (!zhashx_lookup (gather->taken, key)) {
            br_reason_t ignored =
                item.request->offer_id.len == S_ID_SIZE
                    ? bb_match_add_request_offer (match, item.id.data, item.town,
                                                  item.request->offer_id.data)
                    : bb_match_add_request (match, item.id.data, item.town, item.request->topic);
            (void) ignored;
        }
    }
    br_board_item_free (&item);
}

//  Makes the agreement for one proposal.
static br_reason_t
s_propose (bb_exchange_t *self, MDB_txn *txn, const bb_match_proposal_t *proposal, int quarter,
           const uint8_t *offer_id, int64_t now_ms, bb_exchange_effects_t *effects)
{
    uint8_t transfer_id[S_ID_SIZE];
    randombytes_buf (transfer_id, sizeof (transfer_id));
    Bruecke__Agreement agreement = BRUECKE__AGREEMENT__INIT;
    agreement.transfer_id.data = transfer_id;
    agreement.transfer_id.len = S_ID_SIZE;
    agreement.request_id.data = (uint8_t *) proposal->request_id;
    agreement.request_id.len = S_ID_SIZE;
    agreement.offer_id.data = (uint8_t *) offer_id;
    agreement.offer_id.len = S_ID_SIZE;
    agreement.provider = (char *) proposal->provider;
    agreement.receiver = (char *) proposal->receiver;
    agreement.topic = (char *) proposal->topic;
    agreement.hours = (uint32_t) proposal->hours;
    agreement.quarter = (uint32_t) quarter;
    agreement.why = (char *) proposal->why;
    agreement.reciprocal = proposal->reciprocal;
    agreement.state = BRUECKE__AGREEMENT_STATE__AGREEMENT_PROPOSED;
    agreement.proposed_at_ms = now_ms;
    return s_agreement_put (self, txn, &agreement, effects);
}

//  The board's offer id behind a matching offer id (see s_feed_item).
static const uint8_t *
s_offer_id (s_items_t *items, const uint8_t *match_id)
{
    char key[2 * S_ID_SIZE + 1];
    br_hex_encode (match_id, S_ID_SIZE, key);
    zchunk_t *id = (zchunk_t *) zhashx_lookup (items->offer_of, key);
    assert (id);
    return zchunk_data (id);
}

br_reason_t
bb_exchange_match (bb_exchange_t *self, MDB_txn *txn, int quarter, br_roster_t *roster,
                   int64_t now_ms, bb_exchange_effects_t *effects, bb_exchange_run_t *run,
                   void (*report) (void *argument, const char *line), void *argument)
{
    assert (self && txn && roster && effects && run);
    memset (run, 0, sizeof (*run));
    int year = quarter / 10;
    if (year < BB_MATCH_YEAR_MIN || year > BB_MATCH_YEAR_MAX || quarter % 10 < 1 ||
        quarter % 10 > 4)
        return BR_REASON_MALFORMED;
    s_gather_t gather = {.exchange = self,
                         .quarter = quarter,
                         .balance = zhashx_new (),
                         .capacity = zhashx_new (),
                         .taken = zhashx_new (),
                         .history = zlistx_new ()};
    zhashx_set_destructor (gather.balance, s_free_pointer);
    zhashx_set_destructor (gather.capacity, s_free_pointer);
    zlistx_set_destructor (gather.history, s_free_pointer);
    s_items_t items = {.gather = &gather, .items = zlistx_new (), .offer_of = zhashx_new ()};
    zlistx_set_destructor (items.items, (zlistx_destructor_fn *) zchunk_destroy);
    zhashx_set_destructor (items.offer_of, (zhashx_destructor_fn *) zchunk_destroy);
    //  The stored state as of the last commit (the caller's transaction
    //  holds nothing of the exchange yet)
    bb_exchange_agreements (self, s_gather_agreement, &gather);
    br_ledger_read (self->ledger, 0, SIZE_MAX, s_gather_record, &gather);
    br_ledger_balances (self->ledger, s_gather_balance, &gather);
    uint64_t head;
    br_reason_t reason = br_board_snapshot (self->board, s_gather_item, &items, &head);
    if (reason == BR_REASON_OK)
        reason = gather.reason;

    bb_match_t *match = bb_match_new ();
    if (reason == BR_REASON_OK)
        reason = bb_match_set_limits (match, self->floor, self->ceiling);
    if (reason == BR_REASON_OK && self->plan_count) {
        reason = bb_match_set_plan (match, quarter);
        for (size_t index = 0; index < self->plan_count && reason == BR_REASON_OK; index++)
            reason = bb_match_plan_topic (match, self->plan[index].topic,
                                          self->plan[index].from_quarter);
    }
    const Bruecke__Roster *content = br_roster_content (roster);
    for (size_t index = 0; index < content->n_nodes && reason == BR_REASON_OK; index++) {
        const Bruecke__RosterNode *node = content->nodes[index];
        if (node->role != BRUECKE__NODE_ROLE__ROLE_TOWN || node->revoked)
            continue;
        int64_t balance = *s_count (gather.balance, node->node_id);
        int64_t capacity = *s_count (gather.capacity, node->node_id);
        if (capacity < 0)
            capacity = 0;
        if (capacity > BB_MATCH_CAPACITY_MAX)
            capacity = BB_MATCH_CAPACITY_MAX;
        if (balance < -BB_MATCH_BALANCE_MAX || balance > BB_MATCH_BALANCE_MAX)
            reason = BR_REASON_AUDIT_BROKEN;
        else
            reason = bb_match_add_town (match, node->node_id, (int) balance, (int) capacity);
    }
    if (reason == BR_REASON_OK) {
        for (zchunk_t *bytes = (zchunk_t *) zlistx_first (items.items); bytes;
             bytes = (zchunk_t *) zlistx_next (items.items))
            s_feed_item (match, &items, bytes);
        for (char *pair = (char *) zlistx_first (gather.history); pair;
             pair = (char *) zlistx_next (gather.history)) {
            char *space = strchr (pair, ' ');
            *space = '\0';
            br_reason_t ignored = bb_match_add_history (match, pair, space + 1);
            (void) ignored; //  towns not in this matching cannot matter
        }
        bb_match_run (match);
        char error[BB_MATCH_WHY_SIZE];
        if (!bb_match_verify (match, error, sizeof (error))) {
            zsys_error ("exchange: matching broke its rules: %s", error);
            reason = BR_REASON_AUDIT_BROKEN;
        }
    }
    for (size_t index = 0; reason == BR_REASON_OK && index < bb_match_proposal_count (match);
         index++) {
        const bb_match_proposal_t *proposal = bb_match_proposal (match, index);
        reason = s_propose (self, txn, proposal, quarter, s_offer_id (&items, proposal->offer_id),
                            now_ms, effects);
        if (reason == BR_REASON_OK && report) {
            char *line =
                zsys_sprintf ("proposed %s -> %s %s %d h: %s", proposal->provider,
                              proposal->receiver, proposal->topic, proposal->hours, proposal->why);
            report (argument, line);
            zstr_free (&line);
        }
        run->proposed++;
    }
    for (size_t index = 0; reason == BR_REASON_OK && index < bb_match_unmatched_count (match);
         index++) {
        const bb_match_unmatched_t *unmatched = bb_match_unmatched (match, index);
        if (report) {
            char *line =
                zsys_sprintf ("unmatched %s %s (%s): %s", unmatched->receiver, unmatched->topic,
                              bb_match_reason_name (unmatched->reason), unmatched->why);
            report (argument, line);
            zstr_free (&line);
        }
        run->unmatched++;
    }
    bb_match_destroy (&match);
    zlistx_destroy (&items.items);
    zhashx_destroy (&items.offer_of);
    zhashx_destroy (&gather.balance);
    zhashx_destroy (&gather.capacity);
    zhashx_destroy (&gather.taken);
    zlistx_destroy (&gather.history);
    return reason;
}

size_t
bb_exchange_agreements (bb_exchange_t *self,
                        void (*agreement) (void *argument, const uint8_t *data, size_t size),
                        void *argument)
{
    assert (self && agreement);
    MDB_txn *txn = NULL;
    if (br_store_begin (self->store, false, &txn) != BR_REASON_OK)
        return 0;
    size_t count = 0;
    MDB_cursor *cursor;
    if (mdb_cursor_open (txn, self->agreements, &cursor) == MDB_SUCCESS) {
        MDB_val key, value;
        for (int rc = mdb_cursor_get (cursor, &key, &value, MDB_FIRST); rc == MDB_SUCCESS;
             rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) {
            agreement (argument, (const uint8_t *) value.mv_data, value.mv_size);
            count++;
        }
        mdb_cursor_close (cursor);
    }
    br_store_abort (&txn);
    return count;
}

//  --------------------------------------------------------------------------
//  Selftest: a short tour of the API. The Transferbörse from offer to
//  ledger, and its properties over random instances, are
//  tests/unit/bb_exchange_test.c.

void
bb_exchange_test (bool verbose)
{
    if (verbose)
        printf (" * bb_exchange: ");
    //  @selftest
    br_reason_t reason;
    char *path = br_temp_directory ("bb_exchange_tour");
    br_store_t *store = path ? br_store_new (path, 0, &reason) : NULL;
    assert (store);
    bb_exchange_t *exchange = bb_exchange_new (store, &reason);
    assert (exchange && bb_exchange_board (exchange) && bb_exchange_ledger (exchange));

    //  The county's limits and its staged plan
    assert (bb_exchange_set_limits (exchange, -40, 40) == BR_REASON_OK);
    assert (bb_exchange_set_limits (exchange, 40, -40) == BR_REASON_MALFORMED);
    assert (bb_exchange_plan_topic (exchange, "fruehe-hilfen", 20264) == BR_REASON_OK);
    assert (bb_exchange_plan_topic (exchange, "jugendamt", 20264) == BR_REASON_MALFORMED);
    assert (bb_exchange_plan_topic (exchange, "fruehe-hilfen", 20265) == BR_REASON_MALFORMED);

    //  A run over an empty board proposes nothing; a quarter that is none is refused
    br_testing_county_t *county = br_testing_county_new ();
    bb_exchange_effects_t effects;
    bb_exchange_effects_init (&effects);
    bb_exchange_run_t run;
    MDB_txn *txn = NULL;
    assert (br_store_begin (store, true, &txn) == BR_REASON_OK);
    assert (bb_exchange_match (exchange, txn, 20265, county->roster, br_now_ms (), &effects, &run,
                               NULL, NULL) == BR_REASON_MALFORMED);
    assert (bb_exchange_match (exchange, txn, 20264, county->roster, br_now_ms (), &effects, &run,
                               NULL, NULL) == BR_REASON_OK);
    assert (run.proposed == 0 && run.unmatched == 0);
    assert (zlistx_size (effects.agreements) == 0);
    assert (br_store_commit (&txn) == BR_REASON_OK);
    bb_exchange_effects_clear (&effects);
    br_testing_county_destroy (&county);

    bb_exchange_destroy (&exchange);
    bb_exchange_destroy (&exchange);
    assert (!exchange);
    br_store_destroy (&store);
    assert (br_temp_directory_remove (&path));
    //  @end
    if (verbose)
        printf ("OK\n");
}
