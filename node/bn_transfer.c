/*  =========================================================================
    bn_transfer - case transfer to the town now responsible
    =========================================================================
*/

#include "bruecke.h"
#include "bn_transfer.h"
#include "bn_case.h"
#include "bn_casework_testing.h"

//  Data categories a case transfer carries: the whole case.
static json_t *
s_case_categories (json_t *record)
{
    json_t *categories = json_pack ("[ss]", "household", "case-history");
    const char *category;
    json_t *value;
    json_object_foreach (json_object_get (record, "details"), category, value)
    {
        if (!bn_casework_ctx_list_has (categories, category))
            json_array_append_new (categories, json_string (category));
    }
    return categories;
}

br_reason_t
bn_transfer_send (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_request_t *call, const char *case_hex,
                  int64_t now)
{
    uint8_t case_id[BN_ID_SIZE];
    json_t *record = NULL;
    if (!bn_casestore_id_parse (case_hex, case_id) ||
        bn_casestore_get (ctx->records, txn, BN_CASESTORE_CASES, case_id, &record) != BR_REASON_OK)
        return bn_request_refuse (call, BR_REASON_NOT_FOUND, "no such case");
    br_reason_t permitted = bn_casework_ctx_permit (call, record);
    if (permitted != BR_REASON_OK) {
        json_decref (record);
        return permitted;
    }
    json_t *address = json_pack ("{sO* ss}", "ags", json_object_get (call->body, "ags"), "service",
                                 bn_request_text (call->body, "service", BR_SERVICE_MAX)
                                     ? bn_request_text (call->body, "service", BR_SERVICE_MAX)
                                     : BN_DEFAULT_TRANSFER_SERVICE);
    json_t *recipient = NULL;
    br_reason_t reason = bn_casework_ctx_resolve (ctx, call, address, &recipient);
    json_decref (address);
    const char *to = json_string_value (json_object_get (recipient, "node"));
    const char *to_service = json_string_value (json_object_get (recipient, "service"));
    if (reason == BR_REASON_OK && streq (to, br_identity_node_id (ctx->identity)))
        reason =
            bn_request_refuse (call, BR_REASON_INVALID_STATE, "this node is already responsible");
    //  The transfer id follows from case and target, so a repeated
    //  transfer finds the first one and sends nothing new
    uint8_t id[BN_ID_SIZE];
    if (reason == BR_REASON_OK) {
        crypto_generichash_state state;
        crypto_generichash_init (&state, NULL, 0, BN_ID_SIZE);
        crypto_generichash_update (&state, case_id, BN_ID_SIZE);
        crypto_generichash_update (&state, (const uint8_t *) to, strlen (to));
        crypto_generichash_final (&state, id, BN_ID_SIZE);
        json_t *existing = NULL;
        if (bn_casestore_get (ctx->records, txn, BN_CASESTORE_TRANSFERS, id, &existing) ==
                BR_REASON_OK &&
            !streq (json_string_value (json_object_get (existing, "state")), "declined")) {
            json_decref (record);
            json_decref (recipient);
            call->status = 200;
            call->result = existing;
            return bn_casework_ctx_audit (ctx, txn, call->user, "transfer.repeat", id, "", now);
        }
        json_decref (existing);
        reason = bn_case_allows (call, record, "transfer");
    }
    char hex[BN_ID_HEX];
    bn_casestore_hex (id, hex);
    json_t *transfer = NULL;
    if (reason == BR_REASON_OK) {
        json_t *categories = s_case_categories (record);
        transfer = json_pack ("{ss ss ss s{ss ss ss} so sI}", "id", hex, "direction", "outgoing",
                              "case_id", case_hex, "to", "node", to, "service", to_service, "ags",
                              json_string_value (json_object_get (recipient, "ags")), "categories",
                              categories, "created_at_ms", (json_int_t) now);
        json_object_set_new (transfer, "office", json_string (bn_casestore_office (record)));
        bn_casework_ctx_history_add (transfer, "requested", now, call->user, NULL, NULL);
        size_t count;
        char **codes = NULL;
        Bruecke__DataSection **sections = bn_case_sections (record, categories, &count, &codes);
        Bruecke__Attestation attestation = BRUECKE__ATTESTATION__INIT;
        attestation.basis = BRUECKE__LEGAL_BASIS__BASIS_STATUTE;
        attestation.statute = BR_CATALOGUE_STATUTE_RELOCATION;
        attestation.purpose = BR_CATALOGUE_PURPOSE_CASE_TRANSFER;
        attestation.data_categories = codes;
        attestation.n_data_categories = count;
        attestation.recipient = (char *) to;
        attestation.recipient_service = (char *) to_service;
        attestation.valid_from_ms = bn_casework_ctx_valid_from (now, 0);
        attestation.valid_until_ms = now + BN_MESSAGE_LIFETIME_MS;
        Bruecke__CaseTransfer message = BRUECKE__CASE_TRANSFER__INIT;
        message.transfer_id.data = id;
        message.transfer_id.len = BN_ID_SIZE;
        message.sender_service =
            json_string_value (json_object_get (record, "service"))
                ? (char *) json_string_value (json_object_get (record, "service"))
                : BN_DEFAULT_TRANSFER_SERVICE;
        message.sections = sections;
        message.n_sections = count;
        uint8_t message_id[BR_MESSAGE_ID_SIZE];
        reason = bn_casework_ctx_send (ctx, txn, BRUECKE__MESSAGE_TYPE__TYPE_CASE_TRANSFER, to,
                                       to_service, &attestation, &message.base, now,
                                       BN_MESSAGE_LIFETIME_MS, message_id);
        bn_case_sections_free (sections, count, codes);
    }
    if (reason == BR_REASON_OK) {
        json_object_set_new (record, "state", json_string ("transferring"));
        reason = bn_casestore_put (ctx->records, txn, BN_CASESTORE_CASES, case_id, record);
    }
    if (reason == BR_REASON_OK)
        reason = bn_casestore_put (ctx->records, txn, BN_CASESTORE_TRANSFERS, id, transfer);
    if (reason == BR_REASON_OK)
        reason = bn_casestore_event (ctx->records, txn, "transfer", id, "requested", transfer, now);
    if (reason == BR_REASON_OK)
        reason = bn_casework_ctx_audit (ctx, txn, call->user, call->route->action, id, "", now);
    json_decref (record);
    json_decref (recipient);
    call->status = 202;
    call->result = transfer;
    return reason;
}

//  The details of a case taken over from received `sections`: each
//  category but those built from the case (household, child-age,
//  case-history), its members as texts (a member that is no text, from
//  another implementation, as its JSON text).
static json_t *
s_details_of (json_t *sections)
{
    json_t *details = json_object ();
    const char *category;
    json_t *section;
    json_object_foreach (sections, category, section)
    {
        if (!streq (category, "household") && !streq (category, "child-age") &&
            !streq (category, "case-history"))
            json_object_set_new (details, category, bn_casestore_texts (section));
    }
    return details;
}

//  The household members received, each with only the members a case's
//  member has (PROTOCOL.md 15.3: a recipient ignores the others); NULL if
//  `members` is absent.
static json_t *
s_members_known (json_t *members)
{
    if (!json_is_array (members))
        return members ? json_incref (members) : NULL;
    json_t *known = json_array ();
    size_t index;
    json_t *member;
    json_array_foreach (members, index, member)
    {
        json_t *copy = json_is_object (member) ? json_object () : json_incref (member);
        const char *fields[] = {"name", "role", "age", "custody_for"};
        for (size_t field = 0; json_is_object (member) && field < 4; field++)
            if (json_object_get (member, fields[field]))
                json_object_set (copy, fields[field], json_object_get (member, fields[field]));
        json_array_append_new (known, copy);
    }
    return known;
}

//  Parses a section's JSON text into an object.
static json_t *
s_section_parse (json_t *sections, const char *category)
{
    json_t *section = json_object_get (sections, category);
    return json_is_object (section) ? section : NULL;
}

br_reason_t
bn_transfer_answer (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_request_t *call, const char *hex,
                    bool accept, int64_t now)
{
    uint8_t id[BN_ID_SIZE];
    json_t *transfer = NULL;
    if (bn_casework_ctx_find (ctx, txn, call, BN_CASESTORE_TRANSFERS, hex, "transfer", id,
                              &transfer) != BR_REASON_OK)
        return BR_REASON_NOT_FOUND;
    call->result = transfer;
    br_reason_t permitted = bn_casework_ctx_permit (call, transfer);
    if (permitted != BR_REASON_OK)
        return permitted;
    if (!streq (json_string_value (json_object_get (transfer, "direction")), "incoming"))
        return bn_request_refuse (call, BR_REASON_FORBIDDEN, "only the receiving town answers");
    const char *state = json_string_value (json_object_get (transfer, "state"));
    if (streq (state, accept ? "accepted" : "declined"))
        return BR_REASON_OK; //  answered so before
    if (!streq (state, "requested"))
        return bn_request_refuse (call, BR_REASON_INVALID_STATE, "the transfer was answered");
    br_reason_t reason = BR_REASON_OK;
    if (accept) {
        //  The case now lives here
        json_t *sections = json_object_get (transfer, "sections");
        json_t *household = s_section_parse (sections, "household");
        json_t *history = s_section_parse (sections, "case-history");
        uint8_t case_id[BN_ID_SIZE];
        randombytes_buf (case_id, sizeof (case_id));
        char case_hex[BN_ID_HEX];
        bn_casestore_hex (case_id, case_hex);
        json_t *details = s_details_of (sections);
        json_t *record = json_pack (
            "{ss sO* ss ss so* sO* sO* so sI s{ss ss}}", "id", case_hex, "kind",
            json_object_get (household, "kind"), "service",
            json_string_value (json_object_get (json_object_get (transfer, "to"), "service")),
            "state", "open", "members", s_members_known (json_object_get (household, "members")),
            "needs", json_object_get (history, "needs"), "notes",
            json_object_get (history, "notes"), "details", details, "created_at_ms",
            (json_int_t) now, "transferred_from", "node",
            json_string_value (json_object_get (json_object_get (transfer, "peer"), "node")),
            "transfer_id", hex);
        json_object_set (record, "office", json_object_get (record, "service"));
        reason = bn_casestore_put (ctx->records, txn, BN_CASESTORE_CASES, case_id, record);
        if (reason == BR_REASON_OK)
            reason = bn_casestore_event (ctx->records, txn, "case", case_id, "open", record, now);
        json_decref (record);
        if (reason == BR_REASON_MALFORMED)
            return bn_request_refuse (
                call, reason,
                "the case data received do not have the shapes of the "
                "protocol (kind, members, needs, notes): decline the transfer");
        json_object_set_new (transfer, "case_id", json_string (case_hex));
    }
    const char *reason_name = bn_request_text (call->body, "reason", BN_CASEWORK_REASON_MAX);
    br_reason_t reason_code = BR_REASON_OK;
    if (!accept && reason_name && br_reason_from_name (reason_name, &reason_code) != 0)
        return bn_request_refuse (call, BR_REASON_MALFORMED, "reason: a reason code name");
    //  The sections stay only while the answer is open
    json_object_del (transfer, "sections");
    bn_casework_ctx_history_add (transfer, accept ? "accepted" : "declined", now, call->user,
                                 reason_name, NULL);
    Bruecke__CaseTransferAnswer answer = BRUECKE__CASE_TRANSFER_ANSWER__INIT;
    answer.transfer_id.data = id;
    answer.transfer_id.len = BN_ID_SIZE;
    answer.accepted = accept;
    answer.reason = (Bruecke__ReasonCode) reason_code;
    json_t *peer = json_object_get (transfer, "peer");
    uint8_t message_id[BR_MESSAGE_ID_SIZE];
    if (reason == BR_REASON_OK)
        reason = bn_casework_ctx_send (ctx, txn, BRUECKE__MESSAGE_TYPE__TYPE_CASE_TRANSFER_ANSWER,
                                       json_string_value (json_object_get (peer, "node")),
                                       json_string_value (json_object_get (peer, "service")), NULL,
                                       &answer.base, now, BN_MESSAGE_LIFETIME_MS, message_id);
    if (reason == BR_REASON_OK)
        reason = bn_casestore_put (ctx->records, txn, BN_CASESTORE_TRANSFERS, id, transfer);
    if (reason == BR_REASON_OK)
        reason = bn_casestore_event (ctx->records, txn, "transfer", id,
                                     accept ? "accepted" : "declined", transfer, now);
    if (reason == BR_REASON_OK)
        reason = bn_casework_ctx_audit (ctx, txn, call->user, call->route->action, id, "", now);
    return reason;
}

br_reason_t
bn_transfer_receive (bn_casework_ctx_t *ctx, MDB_txn *txn, const Bruecke__Header *header,
                     const Bruecke__Attestation *attestation, Bruecke__CaseTransfer *message,
                     int64_t now, br_reason_t *verdict)
{
    json_t *sections = NULL;
    uint8_t key[BN_ID_SIZE]; //  the transfer id: a node never transfers to itself
    //  A transfer sent again is taken without effect: the first one stands
    if (!bn_casework_ctx_take (ctx, txn, BN_CASESTORE_TRANSFERS, &message->transfer_id,
                               header->sender, message->sender_service, message->sections,
                               message->n_sections, attestation, BR_REASON_OK, verdict, &sections,
                               key))
        return BR_REASON_OK;
    if (streq (header->sender, br_identity_node_id (ctx->identity))) {
        json_decref (sections);
        *verdict = BR_REASON_INVALID_STATE;
        return BR_REASON_OK;
    }
    char hex[BN_ID_HEX];
    bn_casestore_hex (message->transfer_id.data, hex);
    json_t *transfer =
        json_pack ("{ss ss s{ss ss} s{ss ss} ss so sI}", "id", hex, "direction", "incoming", "peer",
                   "node", header->sender, "service", message->sender_service, "to", "node",
                   br_identity_node_id (ctx->identity), "service", header->service, "statute",
                   attestation->statute ? attestation->statute : "", "sections", sections,
                   "created_at_ms", (json_int_t) now);
    json_object_set_new (transfer, "office", json_string (header->service));
    bn_casework_ctx_history_add (transfer, "requested", header->created_at_ms, header->sender, NULL,
                                 NULL);
    br_reason_t reason = bn_casestore_put (ctx->records, txn, BN_CASESTORE_TRANSFERS,
                                           message->transfer_id.data, transfer);
    if (reason == BR_REASON_OK)
        reason = bn_casestore_event (ctx->records, txn, "transfer", message->transfer_id.data,
                                     "requested", transfer, now);
    if (reason == BR_REASON_OK)
        reason = bn_casework_ctx_audit (ctx, txn, header->sender, "transfer.receive",
                                        message->transfer_id.data, "", now);
    json_decref (transfer);
    return reason;
}

br_reason_t
bn_transfer_receive_answer (bn_casework_ctx_t *ctx, MDB_txn *txn, const Bruecke__Header *header,
                            Bruecke__CaseTransferAnswer *answer, int64_t now, br_reason_t *verdict)
{
    json_t *transfer = NULL;
    *verdict = bn_casework_ctx_peer_record (ctx, txn, BN_CASESTORE_TRANSFERS, &answer->transfer_id,
                                            "to", header->sender, "outgoing", &transfer);
    if (*verdict == BR_REASON_STORE_FAILED)
        return *verdict;
    if (*verdict == BR_REASON_OK &&
        !streq (json_string_value (json_object_get (transfer, "state")), "requested"))
        *verdict = BR_REASON_INVALID_STATE;
    uint8_t case_id[BN_ID_SIZE];
    if (*verdict == BR_REASON_OK &&
        !bn_casestore_id_parse (json_string_value (json_object_get (transfer, "case_id")), case_id))
        *verdict = BR_REASON_MALFORMED;
    if (*verdict != BR_REASON_OK) {
        json_decref (transfer);
        return BR_REASON_OK;
    }
    const char *state = answer->accepted ? "accepted" : "declined";
    bn_casework_ctx_history_add (
        transfer, state, now, header->sender,
        answer->reason ? br_reason_name ((br_reason_t) answer->reason) : NULL, NULL);
    //  Ownership moved: keep only what, when and to whom
    char case_hex[BN_ID_HEX];
    bn_casestore_hex (case_id, case_hex);
    json_t *record = NULL;
    br_reason_t reason = bn_casestore_get (ctx->records, txn, BN_CASESTORE_CASES, case_id, &record);
    if (reason == BR_REASON_OK) {
        if (answer->accepted) {
            json_t *minimal = json_pack (
                "{ss ss sO* sO* ss sI ss}", "id", case_hex, "state", "transferred", "service",
                json_object_get (record, "service"), "office", json_object_get (record, "office"),
                "transferred_to", header->sender, "transferred_at_ms", (json_int_t) now,
                "transfer_id", json_string_value (json_object_get (transfer, "id")));
            json_decref (record);
            record = minimal;
        } else
            json_object_set_new (record, "state", json_string ("open"));
        reason = bn_casestore_put (ctx->records, txn, BN_CASESTORE_CASES, case_id, record);
    }
    if (reason == BR_REASON_OK)
        reason = bn_casestore_put (ctx->records, txn, BN_CASESTORE_TRANSFERS,
                                   answer->transfer_id.data, transfer);
    if (reason == BR_REASON_OK)
        reason = bn_casestore_event (ctx->records, txn, "transfer", answer->transfer_id.data, state,
                                     transfer, now);
    if (reason == BR_REASON_OK && answer->accepted)
        reason =
            bn_casestore_event (ctx->records, txn, "case", case_id, "transferred", record, now);
    json_decref (record);
    if (reason == BR_REASON_OK)
        reason = bn_casework_ctx_audit (ctx, txn, header->sender, "transfer.answer",
                                        answer->transfer_id.data, state, now);
    json_decref (transfer);
    return reason;
}

//  ---- Self test ----------------------------------------------------------------------

void
bn_transfer_test (bool verbose)
{
    if (verbose)
        printf (" * bn_transfer: ");
    //  @selftest
    bn_casework_testing_t *county = bn_casework_testing_new ();
    bn_casework_town_t *luenen = &county->luenen, *kamen = &county->kamen;
    char *case_id = bn_casework_testing_case (luenen, "jobcenter");
    char *path = zsys_sprintf ("/v1/cases/%s/transfer", case_id);
    //  Not to the node responsible already
    bn_casework_testing_call (luenen, "POST", path, "{\"ags\": \"05978024\"}",
                              BR_REASON_INVALID_STATE);
    json_t *transfer =
        bn_casework_testing_call (luenen, "POST", path, "{\"ags\": \"05978020\"}", BR_REASON_OK);
    char *id = strdup (json_string_value (json_object_get (transfer, "id")));
    json_decref (transfer);
    //  Asked again, it is the same transfer
    transfer =
        bn_casework_testing_call (luenen, "POST", path, "{\"ags\": \"05978020\"}", BR_REASON_OK);
    assert (streq (json_string_value (json_object_get (transfer, "id")), id));
    json_decref (transfer);
    br_reason_t verdict;
    assert (bn_casework_testing_deliver (luenen, kamen, county->roster, &verdict) == 1 &&
            verdict == BR_REASON_OK);
    assert (streq (bn_casework_testing_state (kamen, "transfers", id), "requested"));
    char *accept_path = zsys_sprintf ("/v1/transfers/%s/accept", id);
    json_decref (bn_casework_testing_call (kamen, "POST", accept_path, "{}", BR_REASON_OK));
    assert (bn_casework_testing_deliver (kamen, luenen, county->roster, &verdict) == 1 &&
            verdict == BR_REASON_OK);
    //  Lünen keeps only what, when and to whom
    assert (streq (bn_casework_testing_state (luenen, "cases", case_id), "transferred"));
    zstr_free (&accept_path);
    free (id);
    zstr_free (&path);
    zstr_free (&case_id);
    bn_casework_testing_destroy (&county);
    //  @end
    if (verbose)
        printf ("OK\n");
}
