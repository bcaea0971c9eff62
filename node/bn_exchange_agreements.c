/*  =========================================================================
    bn_exchange_agreements - the town's agreements under /v1/exchange

    See bn_exchange_agreements.h; the wire is PROTOCOL.md section 16.
    =========================================================================
*/

#include "bruecke.h"
#include "bn_exchange_agreements.h"
#include "br_testing.h"

#define S_ID_SIZE BN_EXCHANGE_ID_SIZE

//  An agreement as JSON, seen from town `me`: its role and what it may do.
static json_t *
s_agreement_json (const Bruecke__Agreement *agreement, const char *me)
{
    json_t *object = json_object ();
    json_object_set_new (object, "id", bn_exchange_api_hex_json (&agreement->transfer_id));
    json_object_set_new (object, "request_id", bn_exchange_api_hex_json (&agreement->request_id));
    json_object_set_new (object, "offer_id", bn_exchange_api_hex_json (&agreement->offer_id));
    json_object_set_new (object, "provider", bn_exchange_api_text_json (agreement->provider));
    json_object_set_new (object, "receiver", bn_exchange_api_text_json (agreement->receiver));
    json_object_set_new (object, "role",
                         json_string (streq (agreement->provider, me) ? "provider" : "receiver"));
    json_object_set_new (object, "topic", bn_exchange_api_text_json (agreement->topic));
    json_object_set_new (object, "hours", json_integer (agreement->hours));
    json_object_set_new (object, "quarter", json_integer (agreement->quarter));
    json_object_set_new (object, "why", bn_exchange_api_text_json (agreement->why));
    json_object_set_new (object, "reciprocal", json_boolean (agreement->reciprocal));
    json_object_set_new (object, "state", json_string (br_ledger_state_name (agreement->state)));
    json_object_set_new (object, "provider_accepted", json_boolean (agreement->provider_accepted));
    json_object_set_new (object, "receiver_accepted", json_boolean (agreement->receiver_accepted));
    json_object_set_new (object, "scheduled_for_ms", json_integer (agreement->scheduled_for_ms));
    json_object_set_new (object, "completed_ms", json_integer (agreement->completed_ms));
    json_object_set_new (object, "provider_signed",
                         json_boolean (agreement->provider_signature.len > 0));
    json_object_set_new (object, "receiver_signed",
                         json_boolean (agreement->receiver_signature.len > 0));
    //  What this town may do now (br_states): not sign twice, not move a signed date
    bool signed_here = streq (agreement->provider, me) ? agreement->provider_signature.len > 0
                                                       : agreement->receiver_signature.len > 0;
    const char *steps[BR_STATES_ACTIONS_MAX];
    size_t count = br_agreement_actions (agreement->state, steps);
    json_t *actions = json_array ();
    for (size_t index = 0; index < count; index++)
        if (!(streq (steps[index], "complete") && signed_here) &&
            !(streq (steps[index], "schedule") && agreement->completed_ms))
            json_array_append_new (actions, json_string (steps[index]));
    json_object_set_new (object, "actions", actions);
    if (agreement->cancel_reason && *agreement->cancel_reason) {
        json_object_set_new (object, "cancel_reason",
                             bn_exchange_api_text_json (agreement->cancel_reason));
        json_object_set_new (object, "cancelled_by",
                             bn_exchange_api_text_json (agreement->cancelled_by));
    }
    json_object_set_new (object, "ledger_sequence",
                         json_integer ((json_int_t) agreement->ledger_sequence));
    json_object_set_new (object, "proposed_at_ms", json_integer (agreement->proposed_at_ms));
    json_object_set_new (object, "version", json_integer ((json_int_t) agreement->version));
    return object;
}

//  ---- API: agreements ----------------------------------------------------------

//  Reads agreement `hex` in a read transaction; the caller frees *message.
static br_reason_t
s_agreement_read (const bn_exchange_api_t *api, bn_request_t *call, const char *hex,
                  uint8_t id[S_ID_SIZE], ProtobufCMessage **message)
{
    *message = NULL;
    if (!bn_exchange_api_id (hex, id))
        return bn_request_refuse (call, BR_REASON_NOT_FOUND, "no such agreement");
    MDB_txn *txn = NULL;
    br_reason_t reason = br_store_begin (bn_store_env (api->store), false, &txn);
    const void *value;
    size_t size;
    if (reason == BR_REASON_OK)
        reason = br_store_get (txn, api->agreements, id, S_ID_SIZE, &value, &size);
    if (reason == BR_REASON_OK) {
        *message = br_proto_decode (&bruecke__agreement__descriptor, value, size,
                                    BR_ENVELOPE_MAX_SIZE, &reason);
        if (!*message)
            reason = BR_REASON_AUDIT_BROKEN;
    }
    br_store_abort (&txn);
    if (reason == BR_REASON_NOT_FOUND)
        bn_request_refuse (call, reason, "no such agreement");
    return reason;
}

//  True if `state` names an agreement state.
static bool
s_state_known (const char *state)
{
    for (int value = BRUECKE__AGREEMENT_STATE__AGREEMENT_PROPOSED;
         value <= BRUECKE__AGREEMENT_STATE__AGREEMENT_CANCELLED; value++)
        if (streq (state, br_ledger_state_name (value)))
            return true;
    return false;
}

//  The town's agreements, only those in the query's "state" if it has one.
br_reason_t
bn_exchange_agreements_list (const bn_exchange_api_t *api, bn_request_t *call)
{
    const char *state = json_string_value (json_object_get (call->query, "state"));
    if (state && !s_state_known (state))
        return bn_request_refuse (call, BR_REASON_MALFORMED,
                                  "state is proposed, accepted, scheduled, completed or cancelled");
    json_t *list = json_array ();
    MDB_txn *txn = NULL;
    br_reason_t reason = br_store_begin (bn_store_env (api->store), false, &txn);
    MDB_cursor *cursor = NULL;
    if (reason == BR_REASON_OK)
        reason = br_store_reason (mdb_cursor_open (txn, api->agreements, &cursor));
    if (reason == BR_REASON_OK) {
        MDB_val key, value;
        for (int rc = mdb_cursor_get (cursor, &key, &value, MDB_FIRST); rc == MDB_SUCCESS;
             rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) {
            br_reason_t decoded;
            ProtobufCMessage *message =
                br_proto_decode (&bruecke__agreement__descriptor, value.mv_data, value.mv_size,
                                 BR_ENVELOPE_MAX_SIZE, &decoded);
            if (!message)
                continue;
            Bruecke__Agreement *agreement = (Bruecke__Agreement *) message;
            if (!state || streq (state, br_ledger_state_name (agreement->state)))
                json_array_append_new (
                    list, s_agreement_json (agreement, br_identity_node_id (api->identity)));
            br_proto_free (&message);
        }
        mdb_cursor_close (cursor);
    }
    br_store_abort (&txn);
    call->result = json_pack ("{so}", "agreements", list);
    return reason;
}

//  One agreement, as the town last heard of it.
br_reason_t
bn_exchange_agreements_show (const bn_exchange_api_t *api, bn_request_t *call, const char *hex)
{
    uint8_t id[S_ID_SIZE];
    ProtobufCMessage *message = NULL;
    br_reason_t reason = s_agreement_read (api, call, hex, id, &message);
    if (reason == BR_REASON_OK)
        call->result =
            s_agreement_json ((Bruecke__Agreement *) message, br_identity_node_id (api->identity));
    br_proto_free (&message);
    return reason;
}

//  Checks a step against the agreement as the town last heard of it, then
//  sends it; the broker decides, and the new state comes back as AGREEMENT.
br_reason_t
bn_exchange_agreements_step (const bn_exchange_api_t *api, bn_request_t *call, const char *hex,
                             const char *step, int64_t now)
{
    uint8_t id[S_ID_SIZE];
    ProtobufCMessage *message = NULL;
    br_reason_t reason = s_agreement_read (api, call, hex, id, &message);
    if (reason != BR_REASON_OK)
        return reason;
    Bruecke__Agreement *agreement = (Bruecke__Agreement *) message;
    bool provider = streq (agreement->provider, br_identity_node_id (api->identity));
    int state = agreement->state;
    Bruecke__AgreementAction action = BRUECKE__AGREEMENT_ACTION__INIT;
    action.transfer_id.data = id;
    action.transfer_id.len = S_ID_SIZE;
    uint8_t signature[BR_SIGNATURE_SIZE];
    bn_exchange_sent_kind_t kind = 0;
    if (streq (step, "accept")) {
        kind = BN_EXCHANGE_SENT_ACCEPT;
        action.step = BRUECKE__AGREEMENT_STEP__STEP_ACCEPT;
        //  Accepting twice is allowed while proposed (PROTOCOL.md 16.6): it
        //  is sent again, and the broker changes only the version
        if (!br_agreement_allowed (state, action.step))
            reason = bn_request_refuse (call, BR_REASON_INVALID_STATE,
                                        "only a proposal can be accepted");
    } else if (streq (step, "schedule")) {
        kind = BN_EXCHANGE_SENT_SCHEDULE;
        action.step = BRUECKE__AGREEMENT_STEP__STEP_SCHEDULE;
        action.scheduled_for_ms = bn_request_integer (call->body, "scheduled_for_ms", 0);
        if (!br_agreement_allowed (state, action.step) || agreement->completed_ms)
            reason = bn_request_refuse (call, BR_REASON_INVALID_STATE,
                                        "only an accepted transfer not yet being completed can be "
                                        "scheduled");
        else if (action.scheduled_for_ms <= 0)
            reason = bn_request_refuse (call, BR_REASON_MALFORMED,
                                        "scheduled_for_ms must be a time in Unix milliseconds");
    } else if (streq (step, "complete")) {
        kind = BN_EXCHANGE_SENT_COMPLETE;
        action.step = BRUECKE__AGREEMENT_STEP__STEP_COMPLETE;
        //  Both towns sign the one statement, for the scheduled date
        action.completed_ms = agreement->scheduled_for_ms;
        br_ledger_completion_t completion;
        br_ledger_completion_of (agreement, action.completed_ms, &completion);
        if (!br_agreement_allowed (state, action.step) ||
            (provider ? agreement->provider_signature.len : agreement->receiver_signature.len))
            reason = bn_request_refuse (call, BR_REASON_INVALID_STATE,
                                        "only a scheduled transfer this town has not signed can be "
                                        "completed");
        else if (action.completed_ms > now + BR_LEDGER_CLOCK_SKEW_MS)
            reason =
                bn_request_refuse (call, BR_REASON_TOO_EARLY,
                                   "the transfer is scheduled for a later date; confirm it once "
                                   "it has taken place");
        else if (br_ledger_sign (api->identity, &completion, signature) != BR_REASON_OK)
            reason = bn_request_refuse (call, BR_REASON_MALFORMED, "the completion is not valid");
        action.signature.data = signature;
        action.signature.len = sizeof (signature);
    } else if (streq (step, "cancel")) {
        kind = BN_EXCHANGE_SENT_CANCEL;
        action.step = BRUECKE__AGREEMENT_STEP__STEP_CANCEL;
        action.cancel_reason = (char *) json_string_value (json_object_get (call->body, "reason"));
        if (!br_agreement_allowed (state, action.step))
            reason = bn_request_refuse (call, BR_REASON_INVALID_STATE,
                                        "a completed or cancelled transfer cannot be cancelled");
        else if (!action.cancel_reason || !br_catalogue_cancel_reason (action.cancel_reason))
            reason =
                bn_request_refuse (call, BR_REASON_MALFORMED,
                                   "reason must be a cancellation code (GET /v1/exchange/topics)");
    } else
        reason = bn_request_refuse (call, BR_REASON_NOT_FOUND, "no such step");
    if (reason == BR_REASON_OK)
        reason = bn_exchange_api_send (api, call, BRUECKE__MESSAGE_TYPE__TYPE_AGREEMENT_ACTION,
                                       kind, id, &action.base, now);
    br_proto_free (&message);
    return reason;
}

//  --------------------------------------------------------------------------
//  Selftest: an agreement the broker proposed, listed, shown and accepted.
//  The whole API, fed by a broker, is in tests/unit/bn_exchange_test.c.

void
bn_exchange_agreements_test (bool verbose)
{
    if (verbose)
        printf (" * bn_exchange_agreements: ");
    //  @selftest
    br_testing_county_t *county = br_testing_county_new ();
    br_reason_t reason;
    char *directory = br_temp_directory ("bn_exchange_agreements");
    bn_exchange_api_t api = {.identity = county->unna, .roster = county->roster};
    api.store = directory ? bn_store_new (directory, BR_STORE_DEFAULT_MAPSIZE, &reason) : NULL;
    assert (api.store);
    br_store_t *env = bn_store_env (api.store);
    const br_store_db_t dbs[] = {{"exchange-agreements", &api.agreements},
                                 {"exchange-sent", &api.sent}};
    assert (br_store_open_dbs (env, dbs, 2) == BR_REASON_OK);

    //  Kamen is to coach Unna, as the broker proposed
    uint8_t ids[3][S_ID_SIZE];
    randombytes_buf (ids, sizeof (ids));
    Bruecke__Agreement agreement = BRUECKE__AGREEMENT__INIT;
    agreement.transfer_id = (ProtobufCBinaryData){S_ID_SIZE, ids[0]};
    agreement.request_id = (ProtobufCBinaryData){S_ID_SIZE, ids[1]};
    agreement.offer_id = (ProtobufCBinaryData){S_ID_SIZE, ids[2]};
    agreement.provider = (char *) br_identity_node_id (county->kamen);
    agreement.receiver = (char *) br_identity_node_id (county->unna);
    agreement.topic = (char *) br_catalogue_topic_code (0);
    agreement.hours = 4;
    agreement.state = BRUECKE__AGREEMENT_STATE__AGREEMENT_PROPOSED;
    agreement.version = 1;
    uint8_t bytes[1024];
    size_t size = bruecke__agreement__pack (&agreement, bytes);
    assert (size < sizeof (bytes));
    MDB_txn *txn = NULL;
    assert (bn_store_begin (api.store, &txn) == BR_REASON_OK);
    assert (br_store_put (txn, api.agreements, ids[0], S_ID_SIZE, bytes, size, 0) == BR_REASON_OK);
    assert (bn_store_commit (api.store, &txn) == BR_REASON_OK);
    char hex[2 * S_ID_SIZE + 1];
    br_hex_encode (ids[0], S_ID_SIZE, hex);

    //  Listed, and shown with Unna's role and what it may do
    bn_request_t call = {.user = "test", .offices = ""};
    call.query = json_pack ("{ss}", "state", "proposed");
    assert (bn_exchange_agreements_list (&api, &call) == BR_REASON_OK);
    assert (json_array_size (json_object_get (call.result, "agreements")) == 1);
    json_decref (call.result);
    json_object_set_new (call.query, "state", json_string ("pending"));
    assert (bn_exchange_agreements_list (&api, &call) == BR_REASON_MALFORMED);
    json_decref (call.query);
    call.query = NULL;
    assert (bn_exchange_agreements_show (&api, &call, hex) == BR_REASON_OK);
    assert (streq (json_string_value (json_object_get (call.result, "role")), "receiver"));
    assert (streq (json_string_value (json_object_get (call.result, "state")), "proposed"));
    json_decref (call.result);
    call.result = NULL;
    assert (bn_exchange_agreements_show (&api, &call, "00") == BR_REASON_NOT_FOUND);

    //  A proposal can be accepted (202), not yet scheduled
    assert (bn_exchange_agreements_step (&api, &call, hex, "accept", br_now_ms ()) == BR_REASON_OK);
    assert (call.status == 202);
    json_decref (call.result);
    call.result = NULL;
    call.body = json_pack ("{sI}", "scheduled_for_ms", (json_int_t) br_now_ms ());
    assert (bn_exchange_agreements_step (&api, &call, hex, "schedule", br_now_ms ()) ==
            BR_REASON_INVALID_STATE);
    json_decref (call.body);

    bn_store_destroy (&api.store);
    assert (br_temp_directory_remove (&directory));
    br_testing_county_destroy (&county);
    //  @end
    if (verbose)
        printf ("OK\n");
}
