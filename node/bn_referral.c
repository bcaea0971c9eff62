/*  =========================================================================
    bn_referral - closed-loop referrals to another office
    =========================================================================
*/

#include "bruecke.h"
#include "bn_referral.h"
#include "bn_case.h"
#include "bn_consent.h"
#include "bn_casework_testing.h"

//  Fills an attestation from a referral record (its basis, purpose), for a
//  message to `to`/`service` with `categories`, valid from `from` until
//  `until`. `consent_id` is storage for the id.
static void
s_attestation_of (json_t *referral, Bruecke__Attestation *attestation,
                  uint8_t consent_id[BR_CONSENT_ID_SIZE], char **categories, size_t count,
                  const char *to, const char *service, int64_t from, int64_t until)
{
    bruecke__attestation__init (attestation);
    const char *consent = json_string_value (json_object_get (referral, "consent_id"));
    if (consent && bn_casestore_id_parse (consent, consent_id)) {
        attestation->basis = BRUECKE__LEGAL_BASIS__BASIS_CONSENT;
        attestation->consent_id.data = consent_id;
        attestation->consent_id.len = BR_CONSENT_ID_SIZE;
    } else {
        attestation->basis = BRUECKE__LEGAL_BASIS__BASIS_STATUTE;
        attestation->statute = (char *) json_string_value (json_object_get (referral, "statute"));
    }
    attestation->purpose = (char *) json_string_value (json_object_get (referral, "purpose"));
    attestation->data_categories = categories;
    attestation->n_data_categories = count;
    attestation->recipient = (char *) to;
    attestation->recipient_service = (char *) service;
    attestation->valid_from_ms = from;
    attestation->valid_until_ms = until;
}

//  Sends a REFERRAL_UPDATE about `referral` to its peer.
static br_reason_t
s_send_update (bn_casework_ctx_t *ctx, MDB_txn *txn, json_t *referral,
               const br_referral_state_t *state, br_reason_t reason_code, const char *text,
               const char *lotse, int64_t now)
{
    json_t *peer = json_object_get (referral, "peer");
    const char *to = json_string_value (json_object_get (peer, "node"));
    const char *service = json_string_value (json_object_get (peer, "service"));
    uint8_t referral_id[BN_ID_SIZE];
    json_t *wire = json_object_get (referral, "wire_id");
    if (!to || !service ||
        !bn_casestore_id_parse (json_string_value (wire ? wire : json_object_get (referral, "id")),
                                referral_id))
        return BR_REASON_MALFORMED;
    int64_t until = bn_request_integer (referral, "valid_until_ms", 0);
    if (until <= now)
        return BR_REASON_CONSENT_EXPIRED;
    char *categories[] = {BR_CATALOGUE_CATEGORY_OUTCOME};
    uint8_t consent_id[BR_CONSENT_ID_SIZE];
    Bruecke__Attestation attestation;
    s_attestation_of (referral, &attestation, consent_id, categories, 1, to, service,
                      bn_casework_ctx_valid_from (now, 0), until);
    Bruecke__ReferralUpdate update = BRUECKE__REFERRAL_UPDATE__INIT;
    update.referral_id.data = referral_id;
    update.referral_id.len = BN_ID_SIZE;
    update.state = state->wire;
    update.reason = (Bruecke__ReasonCode) reason_code;
    update.text = (char *) (text ? text : "");
    update.lotse = (char *) (lotse ? lotse : "");
    update.changed_at_ms = now;
    uint8_t message_id[BR_MESSAGE_ID_SIZE];
    int64_t lifetime = until - now < BN_MESSAGE_LIFETIME_MS ? until - now : BN_MESSAGE_LIFETIME_MS;
    return bn_casework_ctx_send (ctx, txn, BRUECKE__MESSAGE_TYPE__TYPE_REFERRAL_UPDATE, to, service,
                                 &attestation, &update.base, now, lifetime, message_id);
}

br_reason_t
bn_referral_send (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_request_t *call, int64_t now)
{
    json_t *body = call->body;
    const char *case_hex = bn_request_text (body, "case_id", BN_ID_HEX);
    const char *purpose = bn_request_text (body, "purpose", BR_PURPOSE_MAX);
    const char *service = bn_request_text (body, "service", BR_SERVICE_MAX);
    const char *consent_hex = bn_request_text (body, "consent_id", BN_ID_HEX);
    const char *statute = bn_request_text (body, "statute", BR_STATUTE_MAX);
    const char *note = json_string_value (json_object_get (body, "note"));
    json_t *categories = json_object_get (body, "categories");
    uint8_t case_id[BN_ID_SIZE];
    json_t *record = NULL;
    if (!bn_casestore_id_parse (case_hex, case_id) ||
        bn_casestore_get (ctx->records, txn, BN_CASESTORE_CASES, case_id, &record) != BR_REASON_OK)
        return bn_request_refuse (call, BR_REASON_NOT_FOUND, "case_id names no case");
    br_reason_t reason = bn_casework_ctx_permit (call, record);
    json_t *consent = NULL;
    json_t *recipient = NULL;
    if (reason != BR_REASON_OK)
        ; //  another office's case
    else if ((reason = bn_case_allows (call, record, "refer")) != BR_REASON_OK)
        ; //  closed, or handed over
    else if (!service || !br_catalogue_service (service))
        reason =
            bn_request_refuse (call, BR_REASON_MALFORMED, "service: the referring office's code");
    else if (!streq (service, bn_casestore_office (record)))
        reason = bn_request_refuse (call, BR_REASON_FORBIDDEN,
                                    "service: a case is referred by its own office");
    else if (!purpose || !br_catalogue_purpose (purpose))
        reason = bn_request_refuse (call, BR_REASON_PURPOSE_MISMATCH, "purpose: a catalogue code");
    else if (note && !br_note_valid (note, BN_TEXT_MAX))
        reason =
            bn_request_refuse (call, BR_REASON_MALFORMED, "note: text of 1 to 4000 characters");
    else if (!json_is_array (categories) || json_array_size (categories) == 0 ||
             json_array_size (categories) > BR_CATEGORIES_MAX ||
             !bn_casework_ctx_text_list (body, "categories", BR_CATEGORY_MAX,
                                         br_catalogue_category))
        reason = bn_request_refuse (call, BR_REASON_MALFORMED, "categories: catalogue codes");
    else if (!consent_hex && !statute)
        reason = bn_request_refuse (call, BR_REASON_CONSENT_MISSING,
                                    "personal data needs a consent_id or a statute");
    else if (consent_hex && statute)
        reason = bn_request_refuse (call, BR_REASON_MALFORMED,
                                    "give a consent_id or a statute, not both");
    if (reason == BR_REASON_OK)
        reason =
            bn_casework_ctx_resolve (ctx, call, json_object_get (body, "recipient"), &recipient);
    const char *to = json_string_value (json_object_get (recipient, "node"));
    const char *to_service = json_string_value (json_object_get (recipient, "service"));
    uint8_t consent_id[BN_ID_SIZE];
    int64_t until = now + BN_MESSAGE_LIFETIME_MS;
    if (reason == BR_REASON_OK && consent_hex) {
        if (!bn_casestore_id_parse (consent_hex, consent_id) ||
            bn_casestore_get (ctx->records, txn, BN_CASESTORE_CONSENTS, consent_id, &consent) !=
                BR_REASON_OK)
            reason =
                bn_request_refuse (call, BR_REASON_CONSENT_MISSING, "consent_id names no consent");
        else
            reason = bn_consent_covers (call, consent, case_hex, purpose, to, to_service,
                                        categories, now);
        if (reason == BR_REASON_OK)
            until = bn_request_integer (consent, "valid_until_ms", now);
        if (reason == BR_REASON_OK &&
            bn_casework_ctx_list_has (categories, BR_CATALOGUE_CATEGORY_HEALTH) &&
            !json_is_true (json_object_get (consent, "health_data")))
            reason = bn_request_refuse (call, BR_REASON_CATEGORY_NOT_COVERED,
                                        "the consent does not cover health data");
    } else if (reason == BR_REASON_OK) {
        if (!br_catalogue_statute (statute) || !br_catalogue_statute_allows (statute, purpose) ||
            streq (purpose, BR_CATALOGUE_PURPOSE_CASE_TRANSFER))
            reason = bn_request_refuse (call, BR_REASON_PURPOSE_MISMATCH,
                                        "the statute does not allow this purpose for a referral");
    }
    uint8_t id[BN_ID_SIZE];
    randombytes_buf (id, sizeof (id));
    char hex[BN_ID_HEX];
    bn_casestore_hex (id, hex);
    json_t *referral = NULL;
    if (reason == BR_REASON_OK) {
        referral = json_pack (
            "{ss ss ss ss sO s{ss ss ss} ss sI sI}", "id", hex, "direction", "outgoing", "case_id",
            case_hex, "purpose", purpose, "categories", categories, "peer", "node", to, "service",
            to_service, "ags", json_string_value (json_object_get (recipient, "ags")), "service",
            service, "valid_until_ms", (json_int_t) until, "created_at_ms", (json_int_t) now);
        json_object_set_new (referral, "office", json_string (service));
        if (consent_hex)
            json_object_set_new (referral, "consent_id", json_string (consent_hex));
        else
            json_object_set_new (referral, "statute", json_string (statute));
        if (note)
            json_object_set_new (referral, "note", json_string (note));
        bn_casework_ctx_history_add (referral, "requested", now, call->user, NULL, NULL);
        //  The message: the case's sections for the categories asked for
        size_t count;
        char **codes = NULL;
        Bruecke__DataSection **sections = bn_case_sections (record, categories, &count, &codes);
        uint8_t attestation_consent[BR_CONSENT_ID_SIZE];
        Bruecke__Attestation attestation;
        s_attestation_of (referral, &attestation, attestation_consent, codes, count, to, to_service,
                          bn_casework_ctx_valid_from (
                              now, consent ? bn_request_integer (consent, "valid_from_ms", 0) : 0),
                          until);
        Bruecke__Referral message = BRUECKE__REFERRAL__INIT;
        message.referral_id.data = id;
        message.referral_id.len = BN_ID_SIZE;
        message.sender_service = (char *) service;
        message.sections = sections;
        message.n_sections = count;
        message.note = (char *) (note ? note : "");
        uint8_t message_id[BR_MESSAGE_ID_SIZE];
        int64_t lifetime =
            until - now < BN_MESSAGE_LIFETIME_MS ? until - now : BN_MESSAGE_LIFETIME_MS;
        reason =
            bn_casework_ctx_send (ctx, txn, BRUECKE__MESSAGE_TYPE__TYPE_REFERRAL, to, to_service,
                                  &attestation, &message.base, now, lifetime, message_id);
        if (reason != BR_REASON_OK && reason != BR_REASON_STORE_FULL &&
            reason != BR_REASON_STORE_FAILED)
            bn_request_refuse (call, reason, "the message could not be built");
        bn_case_sections_free (sections, count, codes);
        if (reason == BR_REASON_OK) {
            char message_hex[2 * BR_MESSAGE_ID_SIZE + 1];
            br_hex_encode (message_id, BR_MESSAGE_ID_SIZE, message_hex);
            json_object_set_new (referral, "message_id", json_string (message_hex));
            reason = bn_casestore_put (ctx->records, txn, BN_CASESTORE_REFERRALS, id, referral);
        }
    }
    if (reason == BR_REASON_OK)
        reason = bn_casestore_event (ctx->records, txn, "referral", id, "requested", referral, now);
    if (reason == BR_REASON_OK)
        reason = bn_casework_ctx_audit (ctx, txn, call->user, call->route->action, id, "", now);
    json_decref (record);
    json_decref (consent);
    json_decref (recipient);
    call->status = 201;
    call->result = referral;
    return reason;
}

br_reason_t
bn_referral_status (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_request_t *call, const char *hex,
                    int64_t now)
{
    uint8_t id[BN_ID_SIZE];
    json_t *referral = NULL;
    if (bn_casework_ctx_find (ctx, txn, call, BN_CASESTORE_REFERRALS, hex, "referral", id,
                              &referral) != BR_REASON_OK)
        return BR_REASON_NOT_FOUND;
    call->result = referral;
    br_reason_t permitted = bn_casework_ctx_permit (call, referral);
    if (permitted != BR_REASON_OK)
        return permitted;
    const char *wanted = bn_request_text (call->body, "state", 16);
    const char *reason_name = bn_request_text (call->body, "reason", BN_CASEWORK_REASON_MAX);
    const char *text = json_string_value (json_object_get (call->body, "text"));
    const char *lotse = bn_request_text (call->body, "lotse", BN_NAME_MAX);
    const br_referral_state_t *state = br_referral_state (wanted);
    bool incoming = streq (json_string_value (json_object_get (referral, "direction")), "incoming");
    br_reason_t reason_code = BR_REASON_OK;
    if (!state || state->wire == BRUECKE__REFERRAL_STATE__REFERRAL_REQUESTED ||
        state->wire == BRUECKE__REFERRAL_STATE__REFERRAL_RECEIVED)
        return bn_request_refuse (call, BR_REASON_MALFORMED,
                                  "state: accepted, declined, in_progress, "
                                  "completed, failed or cancelled");
    if (text && !br_note_valid (text, BN_TEXT_MAX))
        return bn_request_refuse (call, BR_REASON_MALFORMED, "text: text of 1 to 4000 characters");
    if (reason_name && br_reason_from_name (reason_name, &reason_code) != 0)
        return bn_request_refuse (call, BR_REASON_MALFORMED, "reason: a reason code name");
    //  Only the recipient accepts, declines, progresses, completes; only
    //  the sender cancels
    if (state->by_recipient != incoming)
        return bn_request_refuse (call, BR_REASON_FORBIDDEN,
                                  incoming ? "only the referring office cancels"
                                           : "only the receiving office sets this state");
    if (json_is_true (json_object_get (referral, "processing_stopped")))
        return bn_request_refuse (call, BR_REASON_CONSENT_WITHDRAWN, "the consent was withdrawn");
    if (!br_referral_allowed (json_string_value (json_object_get (referral, "state")), wanted))
        return bn_request_refuse (call, BR_REASON_INVALID_STATE,
                                  "not allowed from the current state");
    bn_casework_ctx_history_add (referral, wanted, now, call->user, reason_name, text);
    json_object_set_new (referral, "updated_at_ms", json_integer (now));
    if (lotse)
        json_object_set_new (referral, "lotse", json_string (lotse));
    if (state->wire == BRUECKE__REFERRAL_STATE__REFERRAL_COMPLETED && text)
        json_object_set_new (referral, "outcome", json_string (text));
    br_reason_t reason = s_send_update (ctx, txn, referral, state, reason_code, text, lotse, now);
    if (reason == BR_REASON_CONSENT_EXPIRED)
        return bn_request_refuse (call, reason, "the legal basis of this referral has expired");
    if (reason == BR_REASON_OK)
        reason = bn_casestore_put (ctx->records, txn, BN_CASESTORE_REFERRALS, id, referral);
    if (reason == BR_REASON_OK)
        reason = bn_casestore_event (ctx->records, txn, "referral", id, wanted, referral, now);
    if (reason == BR_REASON_OK)
        reason = bn_casework_ctx_audit (ctx, txn, call->user, call->route->action, id, wanted, now);
    return reason;
}

br_reason_t
bn_referral_receive (bn_casework_ctx_t *ctx, MDB_txn *txn, const Bruecke__Header *header,
                     const Bruecke__Attestation *attestation, Bruecke__Referral *message,
                     int64_t now, br_reason_t *verdict)
{
    json_t *sections = NULL;
    uint8_t key[BN_ID_SIZE];
    //  A referral id is used once
    if (!bn_casework_ctx_take (ctx, txn, BN_CASESTORE_REFERRALS, &message->referral_id,
                               header->sender, message->sender_service, message->sections,
                               message->n_sections, attestation, BR_REASON_REPLAYED, verdict,
                               &sections, key))
        return BR_REASON_OK;
    char hex[BN_ID_HEX];
    bn_casestore_hex (key, hex);
    json_t *categories = json_array ();
    for (size_t index = 0; index < attestation->n_data_categories; index++)
        json_array_append_new (categories, json_string (attestation->data_categories[index]));
    json_t *referral =
        json_pack ("{ss ss ss so s{ss ss} ss so sI sI ss}", "id", hex, "direction", "incoming",
                   "purpose", attestation->purpose, "categories", categories, "peer", "node",
                   header->sender, "service", message->sender_service, "service", header->service,
                   "sections", sections, "valid_until_ms", (json_int_t) attestation->valid_until_ms,
                   "created_at_ms", (json_int_t) now, "note", message->note ? message->note : "");
    if (attestation->basis == BRUECKE__LEGAL_BASIS__BASIS_CONSENT) {
        char consent_hex[BN_ID_HEX];
        bn_casestore_hex (attestation->consent_id.data, consent_hex);
        json_object_set_new (referral, "consent_id", json_string (consent_hex));
    } else
        json_object_set_new (referral, "statute", json_string (attestation->statute));
    json_object_set_new (referral, "office", json_string (header->service));
    if (memcmp (key, message->referral_id.data, BN_ID_SIZE) != 0) {
        char wire_hex[BN_ID_HEX];
        bn_casestore_hex (message->referral_id.data, wire_hex);
        json_object_set_new (referral, "wire_id", json_string (wire_hex));
    }
    bn_casework_ctx_history_add (referral, "requested", header->created_at_ms, header->sender, NULL,
                                 NULL);
    bn_casework_ctx_history_add (referral, "received", now, br_identity_node_id (ctx->identity),
                                 NULL, NULL);
    //  The sender learns it arrived; a referral that cannot be answered is
    //  refused (the referring service is not routable back)
    br_reason_t reason = s_send_update (ctx, txn, referral, br_referral_state ("received"),
                                        BR_REASON_OK, NULL, NULL, now);
    if (reason != BR_REASON_OK && reason != BR_REASON_STORE_FULL &&
        reason != BR_REASON_STORE_FAILED) {
        *verdict = reason;
        reason = BR_REASON_OK;
        json_decref (referral);
        return reason;
    }
    if (reason == BR_REASON_OK)
        reason = bn_casestore_put (ctx->records, txn, BN_CASESTORE_REFERRALS, key, referral);
    if (reason == BR_REASON_OK)
        reason = bn_casestore_event (ctx->records, txn, "referral", key, "received", referral, now);
    if (reason == BR_REASON_OK)
        reason = bn_casework_ctx_audit (ctx, txn, header->sender, "referral.receive", key, "", now);
    json_decref (referral);
    return reason;
}

br_reason_t
bn_referral_receive_update (bn_casework_ctx_t *ctx, MDB_txn *txn, const Bruecke__Header *header,
                            Bruecke__ReferralUpdate *update, int64_t now, br_reason_t *verdict)
{
    //  The peer sets only its side's states: the recipient reports on our
    //  outgoing referral, the sender cancels our incoming one (which has a
    //  key of its own if the sender is another office of this node)
    const br_referral_state_t *state = br_referral_state_of (update->state);
    uint8_t key[BN_ID_SIZE];
    ProtobufCBinaryData record_id = update->referral_id;
    if (state && !state->by_recipient && record_id.len == BN_ID_SIZE) {
        bn_casework_ctx_incoming_key (ctx, update->referral_id.data, header->sender, key);
        record_id.data = key;
    }
    json_t *referral = NULL;
    *verdict = bn_casework_ctx_peer_record (
        ctx, txn, BN_CASESTORE_REFERRALS, &record_id, "peer", header->sender,
        state && state->by_recipient ? "outgoing" : "incoming", &referral);
    if (*verdict == BR_REASON_STORE_FAILED)
        return *verdict;
    bool incoming = *verdict == BR_REASON_OK &&
                    streq (json_string_value (json_object_get (referral, "direction")), "incoming");
    if (*verdict == BR_REASON_OK && (!state || state->by_recipient == incoming ||
                                     state->wire == BRUECKE__REFERRAL_STATE__REFERRAL_REQUESTED))
        *verdict = BR_REASON_FORBIDDEN;
    if (*verdict == BR_REASON_OK &&
        !br_referral_allowed (json_string_value (json_object_get (referral, "state")), state->name))
        *verdict = BR_REASON_INVALID_STATE;
    if (*verdict == BR_REASON_OK && update->text && *update->text &&
        !br_note_valid (update->text, BN_TEXT_MAX))
        *verdict = BR_REASON_MALFORMED;
    br_reason_t reason = BR_REASON_OK;
    if (*verdict == BR_REASON_OK) {
        const char *reason_name =
            update->reason ? br_reason_name ((br_reason_t) update->reason) : NULL;
        bn_casework_ctx_history_add (referral, state->name, update->changed_at_ms, header->sender,
                                     reason_name, update->text);
        json_object_set_new (referral, "updated_at_ms", json_integer (now));
        if (update->lotse && *update->lotse)
            json_object_set_new (referral, "lotse", json_string (update->lotse));
        if (state->wire == BRUECKE__REFERRAL_STATE__REFERRAL_COMPLETED && update->text)
            json_object_set_new (referral, "outcome", json_string (update->text));
        reason =
            bn_casestore_put (ctx->records, txn, BN_CASESTORE_REFERRALS, record_id.data, referral);
        if (reason == BR_REASON_OK)
            reason = bn_casestore_event (ctx->records, txn, "referral", record_id.data, state->name,
                                         referral, now);
        if (reason == BR_REASON_OK)
            reason = bn_casework_ctx_audit (ctx, txn, header->sender, "referral.update",
                                            record_id.data, state->name, now);
    }
    json_decref (referral);
    return reason;
}

//  ---- Self test ----------------------------------------------------------------------

void
bn_referral_test (bool verbose)
{
    if (verbose)
        printf (" * bn_referral: ");
    //  @selftest
    bn_casework_testing_t *county = bn_casework_testing_new ();
    bn_casework_town_t *luenen = &county->luenen, *unna = &county->unna;
    char *case_id = bn_casework_testing_case (luenen, "jobcenter");
    char *body = bn_casework_testing_consent_body (case_id);
    json_t *consent = bn_casework_testing_call (luenen, "POST", "/v1/consents", body, BR_REASON_OK);
    zstr_free (&body);
    //  Personal data goes only under a consent or a statute
    body = zsys_sprintf ("{\"case_id\": \"%s\", \"service\": \"jobcenter\", \"purpose\": "
                         "\"language-support\", \"recipient\": {\"ags\": \"05978036\", "
                         "\"service\": \"fruehe-hilfen\"}, \"categories\": [\"household\"]}",
                         case_id);
    bn_casework_testing_call (luenen, "POST", "/v1/referrals", body, BR_REASON_CONSENT_MISSING);
    json_t *request = json_loads (body, 0, NULL);
    json_object_set (request, "consent_id", json_object_get (consent, "id"));
    zstr_free (&body);
    body = json_dumps (request, 0);
    json_t *referral =
        bn_casework_testing_call (luenen, "POST", "/v1/referrals", body, BR_REASON_OK);
    char *id = strdup (json_string_value (json_object_get (referral, "id")));
    //  Unna receives it and says so; then accepts it
    br_reason_t verdict;
    assert (bn_casework_testing_deliver (luenen, unna, county->roster, &verdict) == 1 &&
            verdict == BR_REASON_OK);
    assert (bn_casework_testing_deliver (unna, luenen, county->roster, &verdict) == 1 &&
            verdict == BR_REASON_OK);
    assert (streq (bn_casework_testing_state (luenen, "referrals", id), "received"));
    char *status_path = zsys_sprintf ("/v1/referrals/%s/status", id);
    bn_casework_testing_call (luenen, "POST", status_path, "{\"state\": \"accepted\"}",
                              BR_REASON_FORBIDDEN);
    json_decref (bn_casework_testing_call (unna, "POST", status_path, "{\"state\": \"accepted\"}",
                                           BR_REASON_OK));
    assert (bn_casework_testing_deliver (unna, luenen, county->roster, &verdict) == 1 &&
            verdict == BR_REASON_OK);
    assert (streq (bn_casework_testing_state (luenen, "referrals", id), "accepted"));
    zstr_free (&status_path);
    free (id);
    free (body);
    json_decref (request);
    json_decref (referral);
    json_decref (consent);
    zstr_free (&case_id);
    bn_casework_testing_destroy (&county);
    //  @end
    if (verbose)
        printf ("OK\n");
}
