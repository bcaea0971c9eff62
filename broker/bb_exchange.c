/*  =========================================================================
    bb_exchange - the broker's Transferbörse: board, agreements, matching, ledger

    The rules are in bb_exchange.h; the wire in PROTOCOL.md section 16.
    =========================================================================
*/

#include "bruecke.h"
#include "bb_exchange.h"

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
//  Selftest

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
    offer.offer_id.len = S_ID_SIZE;
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
    request.request_id.len = S_ID_SIZE;
    request.town = (char *) s_test_names[town];
    request.topic = (char *) (offer_id ? "" : topic);
    if (offer_id) {
        request.offer_id.data = (uint8_t *) offer_id;
        request.offer_id.len = S_ID_SIZE;
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
    assert (br_ledger_balance (self->exchange->ledger, s_test_names[town], &balance) ==
            BR_REASON_OK);
    return balance;
}

//  The agreed flow, with the refusals on the way.
static void
s_test_flow (s_test_county_t *county)
{
    s_test_broker_t broker;
    s_test_broker_new (&broker, county);
    uint8_t unna_offer[S_ID_SIZE] = {1}, kamen_offer[S_ID_SIZE] = {2};
    const char *fruehe_hilfen[] = {"fruehe-hilfen", NULL};
    const char *two_topics[] = {"sprachfoerderung", "elternbildung", NULL};
    assert (s_test_offer (&broker, S_UNNA, unna_offer, fruehe_hilfen, 4, 8) == BR_REASON_OK);
    assert (s_test_offer (&broker, S_KAMEN, kamen_offer, two_topics, 3, 3) == BR_REASON_OK);
    assert (broker.effects.board_changed);
    //  Three towns want Frühe Hilfen: Unna can coach two this quarter
    uint8_t id[S_ID_SIZE] = {0x10};
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
    uint8_t nowhere[S_ID_SIZE] = {0x99};
    assert (s_test_request (&broker, S_WERNE, id, NULL, nowhere) == BR_REASON_NOT_FOUND);

    bb_exchange_run_t run = s_test_match (&broker, S_TEST_QUARTER);
    assert (run.proposed == 3 && run.unmatched == 2);
    ProtobufCMessage *found = s_test_find (&broker, S_KAMEN, S_BERGKAMEN);
    assert (found);
    Bruecke__Agreement *agreement = (Bruecke__Agreement *) found;
    assert (streq (agreement->topic, "sprachfoerderung") && agreement->hours == 3);
    assert (memcmp (agreement->offer_id.data, kamen_offer, S_ID_SIZE) == 0);
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
    assert (br_ledger_head (broker.exchange->ledger, &head, hash) == BR_REASON_OK && head == 0);
    assert (!broker.effects.ledger_changed);
    //  The other town must sign the same date; the date is fixed now
    assert (s_test_step (&broker, S_BERGKAMEN, agreement, complete, S_BERGKAMEN, done + 1) ==
            BR_REASON_INVALID_STATE);
    assert (s_test_step (&broker, S_BERGKAMEN, agreement, schedule, 0, done + 1) ==
            BR_REASON_INVALID_STATE);
    assert (s_test_step (&broker, S_BERGKAMEN, agreement, complete, S_BERGKAMEN, done) ==
            BR_REASON_OK);
    assert (broker.effects.ledger_changed);
    assert (br_ledger_head (broker.exchange->ledger, &head, hash) == BR_REASON_OK && head == 1);
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
    uint8_t unna_transfer[S_ID_SIZE];
    memcpy (unna_transfer, unna->transfer_id.data, S_ID_SIZE);
    Bruecke__AgreementAction bad = BRUECKE__AGREEMENT_ACTION__INIT;
    bad.transfer_id.data = unna_transfer;
    bad.transfer_id.len = S_ID_SIZE;
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
    bad.transfer_id.len = S_ID_SIZE;
    assert (s_test_take (&broker, S_UNNA, BRUECKE__MESSAGE_TYPE__TYPE_AGREEMENT_ACTION,
                         &bad.base) == BR_REASON_NOT_FOUND);
    Bruecke__BoardWithdraw withdraw = BRUECKE__BOARD_WITHDRAW__INIT;
    withdraw.item_id.data = kamen_offer;
    withdraw.item_id.len = S_ID_SIZE;
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
        if (s_open (agreement)) {
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
    assert (br_ledger_total (self->exchange->ledger, &total) == BR_REASON_OK && total == 0);
    uint64_t checked, first_bad;
    const char *problem;
    assert (br_ledger_verify (self->exchange->ledger, self->county->roster, &checked, &first_bad,
                              &problem) == BR_REASON_OK);
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
        uint8_t offer_ids[S_TEST_TOWNS * 3][S_ID_SIZE];
        size_t offers = 0;
        for (size_t town = 0; town < S_TEST_TOWNS; town++) {
            int count = br_seeded_range (&seed, 0, 2);
            for (int index = 0; index < count; index++) {
                const char *chosen[3] = {topics[br_seeded_range (&seed, 0, 3)], NULL, NULL};
                const char *second = topics[br_seeded_range (&seed, 0, 3)];
                if (!streq (second, chosen[0]) && br_seeded_range (&seed, 0, 1))
                    chosen[1] = second;
                int cap = br_seeded_range (&seed, 0, 12);
                br_seeded_bytes (&seed, S_ID_SIZE, offer_ids[offers]);
                assert (s_test_offer (&broker, town, offer_ids[offers], chosen,
                                      br_seeded_range (&seed, 1, 6), cap) == BR_REASON_OK);
                capacity[town] += cap;
                offers++;
            }
        }
        for (size_t town = 0; town < S_TEST_TOWNS; town++) {
            int count = br_seeded_range (&seed, 0, 4);
            for (int index = 0; index < count; index++) {
                uint8_t id[S_ID_SIZE];
                br_seeded_bytes (&seed, S_ID_SIZE, id);
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
        assert (br_ledger_head (broker.exchange->ledger, &head, hash) == BR_REASON_OK);
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
bb_exchange_test (bool verbose)
{
    if (verbose)
        printf (" * bb_exchange: ");
    //  @selftest
    s_test_county_t county;
    s_test_county_new (&county);
    s_test_flow (&county);
    s_test_properties (&county, verbose);
    s_test_county_destroy (&county);
    //  @end
    if (verbose)
        printf ("OK\n");
}
