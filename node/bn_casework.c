/*  =========================================================================
    bn_casework - cases, consents, closed-loop referrals and case transfers
    =========================================================================
*/

#include "bruecke.h"
#include "bn_tokens.h"
#include "bn_casework.h"
#include "bn_casework_ctx.h"
#include "bn_case.h"
#include "bn_casefields.h"
#include "bn_consent.h"
#include "bn_emergency.h"
#include "bn_referral.h"
#include "bn_transfer.h"
#include "bn_casework_testing.h"

//  The parts do the operations (bn_case, bn_consent, bn_referral,
//  bn_transfer, bn_emergency); this class dispatches them, receives
//  messages, and answers the reading routes all records share.
struct _bn_casework_t {
    bn_casework_ctx_t ctx; //  what the parts share; ctx.records is this class's own
};

//  ---- Listing and reading records ---------------------------------------------

//  What a listing collects, and its filters.
typedef struct {
    bn_request_t *call;  //  the request: whose offices
    json_t *list;        //  the entries
    const char *case_id; //  only records of this case, or NULL
    const char *name;    //  only cases with a member so named, or NULL
} s_listing_t;

//  True if a member's name in `record` contains `part`, ignoring case.
static bool
s_member_named (json_t *record, const char *part)
{
    size_t index;
    json_t *member;
    json_array_foreach (json_object_get (record, "members"), index, member)
    {
        const char *name = json_string_value (json_object_get (member, "name"));
        if (name && strcasestr (name, part))
            return true;
    }
    return false;
}

//  Adds the fields of `record` that a listing shows to the listing (a JSON
//  array in `argument`).
static br_reason_t
s_list_entry (MDB_txn *txn, const uint8_t *id, json_t *record, void *argument)
{
    (void) txn;
    (void) id;
    s_listing_t *listing = (s_listing_t *) argument;
    if (!bn_casework_ctx_sees (listing->call, record))
        return BR_REASON_OK; //  another office's
    const char *case_id = json_string_value (json_object_get (record, "case_id"));
    if (listing->case_id && (!case_id || !streq (listing->case_id, case_id)))
        return BR_REASON_OK;
    if (listing->name && !s_member_named (record, listing->name))
        return BR_REASON_OK;
    json_t *entry = json_object ();
    const char *fields[] = {"id",
                            "kind",
                            "office",
                            "service",
                            "state",
                            "status",
                            "created_at_ms",
                            "direction",
                            "case_id",
                            "purpose",
                            "peer",
                            "to",
                            "updated_at_ms",
                            "valid_from_ms",
                            "valid_until_ms",
                            "follow_up_ms",
                            "external_ref"};
    for (size_t index = 0; index < sizeof (fields) / sizeof (fields[0]); index++) {
        json_t *value = json_object_get (record, fields[index]);
        if (value)
            json_object_set (entry, fields[index], value);
    }
    json_array_append_new (listing->list, entry);
    return BR_REASON_OK;
}

//  Lists the records of `table` of the caller's offices, without their
//  personal content, as {`name`: [...]}. Query filters: `case_id` (records
//  of that case), and for cases `name` (cases with a member whose name
//  contains it, ignoring case; the names are not listed). A search is
//  audited with a keyed digest of its term, never the term.
static br_reason_t
s_list (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_request_t *call, bn_casestore_table_t table,
        const char *name, int64_t now)
{
    json_t *list = json_array ();
    s_listing_t listing = {.call = call,
                           .list = list,
                           .case_id = json_string_value (json_object_get (call->query, "case_id")),
                           .name = json_string_value (json_object_get (call->query, "name"))};
    if (listing.name && !br_line_valid (listing.name, BN_NAME_MAX)) {
        json_decref (list);
        return bn_request_refuse (call, BR_REASON_MALFORMED, "name is 1 to %d characters",
                                  BN_NAME_MAX);
    }
    br_reason_t reason = bn_casestore_each (ctx->records, txn, table, s_list_entry, &listing);
    char detail[64] = "";
    if (listing.name) {
        char tag[2 * BN_VAULT_TAG_SIZE + 1];
        bn_vault_tag (ctx->vault, listing.name, strlen (listing.name), tag);
        snprintf (detail, sizeof (detail), "search %s", tag);
    }
    if (reason == BR_REASON_OK)
        reason = bn_casework_ctx_audit (ctx, txn, call->user,
                                        listing.name ? "cases.search" : call->route->action, NULL,
                                        detail, now);
    call->result = json_pack ("{so}", name, list);
    return reason;
}

//  Reads one record for the API, and records the read.
static br_reason_t
s_show (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_request_t *call, bn_casestore_table_t table,
        const char *hex, const char *action, int64_t now)
{
    uint8_t id[BN_ID_SIZE];
    if (!bn_casestore_id_parse (hex, id))
        return bn_request_refuse (call, BR_REASON_NOT_FOUND, "no such record");
    json_t *record = NULL;
    br_reason_t reason = bn_casestore_get (ctx->records, txn, table, id, &record);
    if (reason == BR_REASON_NOT_FOUND)
        return bn_request_refuse (call, reason, "no such record");
    if (reason == BR_REASON_OK)
        reason = bn_casework_ctx_permit (call, record);
    if (reason == BR_REASON_OK)
        reason = bn_casework_ctx_audit (ctx, txn, call->user, action, id, "", now);
    call->result = record;
    return reason;
}

//  ---- Events and audit ---------------------------------------------------------

//  The query argument `name`, a counter of up to 19 decimal digits, into
//  *value (0 if absent). Returns OK or refuses MALFORMED.
static br_reason_t
s_query_counter (bn_request_t *call, const char *name, uint64_t *value)
{
    const char *text = json_string_value (json_object_get (call->query, name));
    *value = 0;
    if (!text)
        return BR_REASON_OK;
    size_t digits = strspn (text, "0123456789");
    if (digits == 0 || digits > 19 || text[digits] != '\0')
        return bn_request_refuse (call, BR_REASON_MALFORMED, "%s: a sequence number (digits)",
                                  name);
    *value = strtoull (text, NULL, 10);
    return BR_REASON_OK;
}

//  GET /v1/events: what changed after `after`, of the caller's offices.
static br_reason_t
s_events (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_request_t *call)
{
    uint64_t after;
    br_reason_t refused = s_query_counter (call, "after", &after);
    if (refused != BR_REASON_OK)
        return refused;
    json_t *events = json_array ();
    uint64_t next;
    br_reason_t reason =
        bn_casestore_events (ctx->records, txn, after, call->offices, BN_EVENTS_MAX, events, &next);
    if (reason != BR_REASON_OK) {
        json_decref (events);
        return reason;
    }
    call->result = json_pack ("{so sI}", "events", events, "next", (json_int_t) next);
    return BR_REASON_OK;
}

static void
s_audit_entry (void *argument, const bn_audit_entry_t *entry)
{
    json_array_append_new ((json_t *) argument,
                           json_pack ("{sI sI ss ss ss ss}", "seq", (json_int_t) entry->sequence,
                                      "at_ms", (json_int_t) entry->at_ms, "actor", entry->actor,
                                      "action", entry->action, "object", entry->object, "detail",
                                      entry->detail));
}

static br_reason_t
s_audit_list (bn_casework_ctx_t *ctx, bn_request_t *call)
{
    uint64_t after;
    br_reason_t refused = s_query_counter (call, "after", &after);
    if (refused != BR_REASON_OK)
        return refused;
    json_t *records = json_array ();
    size_t count = bn_audit_read (ctx->audit, after, BN_EVENTS_MAX, s_audit_entry, records);
    call->result = json_pack ("{so sI}", "records", records, "next", (json_int_t) (after + count));
    return BR_REASON_OK;
}

static br_reason_t
s_audit_verify (bn_casework_ctx_t *ctx, bn_request_t *call)
{
    uint64_t checked = 0, first_bad = 0;
    const char *problem = NULL;
    br_reason_t reason = bn_audit_verify (ctx->audit, &checked, &first_bad, &problem);
    if (reason != BR_REASON_OK && reason != BR_REASON_AUDIT_BROKEN)
        return reason;
    call->result =
        json_pack ("{sb sI sb}", "intact", reason == BR_REASON_OK, "records", (json_int_t) checked,
                   "records_intact", bn_casestore_intact (ctx->records));
    if (problem) {
        json_object_set_new (call->result, "first_bad", json_integer ((json_int_t) first_bad));
        json_object_set_new (call->result, "problem", json_string (problem));
    }
    return BR_REASON_OK;
}

//  GET /v1/directory: every office a consent may name and a referral may
//  reach, from the roster: (AGS, service), the municipality's name, the
//  node responsible and whether it is this node. Routes to revoked nodes
//  are left out. No family's data.
static br_reason_t
s_directory (bn_casework_ctx_t *ctx, bn_request_t *call)
{
    const Bruecke__Roster *roster = br_roster_content (ctx->roster);
    json_t *addresses = json_array ();
    for (size_t index = 0; index < roster->n_routes; index++) {
        const Bruecke__Route *route = roster->routes[index];
        const Bruecke__RosterNode *node = br_roster_lookup_by_id (ctx->roster, route->node_id);
        const Bruecke__RosterNode *place = br_roster_lookup_by_ags (ctx->roster, route->ags);
        if (!node || node->revoked)
            continue;
        json_array_append_new (
            addresses, json_pack ("{ss ss ss ss ss sb}", "ags", route->ags, "place",
                                  place ? place->name : route->ags, "service", route->service,
                                  "node", node->node_id, "node_name", node->name, "here",
                                  streq (node->node_id, br_identity_node_id (ctx->identity))));
    }
    call->result = json_pack ("{so sI}", "addresses", addresses, "roster_version",
                              (json_int_t) br_roster_version (ctx->roster));
    return BR_REASON_OK;
}

//  ---- Reports --------------------------------------------------------------------

//  Counts records by the values of one or two of their fields.
typedef struct {
    bn_request_t *call;    //  whose offices; all for the administration
    json_t *counts;        //  {"value" or "value value": count}
    const char *fields[2]; //  the fields counted together, e.g. direction and state
} s_tally_t;

static br_reason_t
s_tally (MDB_txn *txn, const uint8_t *id, json_t *record, void *argument)
{
    (void) txn;
    (void) id;
    s_tally_t *tally = (s_tally_t *) argument;
    if (!streq (tally->call->role, BN_TOKENS_ROLE_ADMINISTRATION) &&
        !bn_casework_ctx_sees (tally->call, record))
        return BR_REASON_OK;
    char key[96] = "";
    for (size_t index = 0; index < 2 && tally->fields[index]; index++) {
        const char *value = json_string_value (json_object_get (record, tally->fields[index]));
        size_t used = strlen (key);
        snprintf (key + used, sizeof (key) - used, "%s%s", used ? " " : "", value ? value : "-");
    }
    json_object_set_new (
        tally->counts, key,
        json_integer (json_integer_value (json_object_get (tally->counts, key)) + 1));
    return BR_REASON_OK;
}

//  GET /v1/reports: counts only, no personal data: cases by service and
//  state, consents by status, referrals by direction and state, transfers
//  by direction and state; of the caller's offices (the administration,
//  which reads no case, counts the whole node).
static br_reason_t
s_reports (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_request_t *call, int64_t now)
{
    struct {
        const char *name;
        bn_casestore_table_t table;
        const char *fields[2];
    } kinds[] = {{"cases", BN_CASESTORE_CASES, {"service", "state"}},
                 {"consents", BN_CASESTORE_CONSENTS, {"status", NULL}},
                 {"referrals", BN_CASESTORE_REFERRALS, {"direction", "state"}},
                 {"transfers", BN_CASESTORE_TRANSFERS, {"direction", "state"}}};
    json_t *result = json_object ();
    br_reason_t reason = BR_REASON_OK;
    for (size_t index = 0; index < sizeof (kinds) / sizeof (kinds[0]) && reason == BR_REASON_OK;
         index++) {
        s_tally_t tally = {.call = call,
                           .counts = json_object (),
                           .fields = {kinds[index].fields[0], kinds[index].fields[1]}};
        reason = bn_casestore_each (ctx->records, txn, kinds[index].table, s_tally, &tally);
        json_object_set_new (result, kinds[index].name, tally.counts);
    }
    json_object_set_new (result, "at_ms", json_integer (now));
    if (reason == BR_REASON_OK)
        reason = bn_casework_ctx_audit (ctx, txn, call->user, "reports.read", NULL, "", now);
    call->result = result;
    return reason;
}

//  ---- Dispatch ---------------------------------------------------------------------

br_reason_t
bn_casework_call (bn_casework_t *self, MDB_txn *txn, bn_request_t *call)
{
    assert (self && txn && call && call->method && call->path && call->user);
    bn_casework_ctx_t *ctx = &self->ctx;
    assert (call->route && call->route->owner == BN_OWNER_CASEWORK && call->id && call->offices);
    assert (ctx->roster);
    call->status = 200;
    call->result = NULL;
    call->detail[0] = 0;
    int64_t now = br_now_ms ();
    if (!streq (call->route->method, "GET") && !json_is_object (call->body))
        return bn_request_refuse (call, BR_REASON_MALFORMED, "the body must be a JSON object");
    br_reason_t refused = bn_casefields_check (call);
    if (refused != BR_REASON_OK)
        return refused;
    //  The administration reads an office's cases only under an emergency
    //  access approved for it and in force, and its reads say so
    bn_emergency_access_t emergency;
    const char *offices = call->offices;
    if (streq (call->role, BN_TOKENS_ROLE_ADMINISTRATION) &&
        call->route->scope == BN_SCOPE_OFFICES && call->route->operation != BN_OP_EMERGENCY_LIST) {
        refused = bn_emergency_in_force (ctx, txn, call->user, now, &emergency);
        if (refused != BR_REASON_OK)
            return refused;
        call->offices = emergency.offices;
        ctx->break_glass = *emergency.grants ? emergency.grants : NULL;
    }
    const char *id = call->id;
    const char *action = call->route->action;
    br_reason_t reason = BR_REASON_NOT_FOUND;
    switch (call->route->operation) {
        case BN_OP_CASE_CREATE:
            reason = bn_case_create (ctx, txn, call, now);
            break;
        case BN_OP_CASE_LIST:
            reason = s_list (ctx, txn, call, BN_CASESTORE_CASES, "cases", now);
            break;
        case BN_OP_CASE_READ:
            reason = s_show (ctx, txn, call, BN_CASESTORE_CASES, id, action, now);
            break;
        case BN_OP_CASE_TRANSFER:
            reason = bn_transfer_send (ctx, txn, call, id, now);
            break;
        case BN_OP_CASE_NOTE:
            reason = bn_case_note (ctx, txn, call, id, now);
            break;
        case BN_OP_CASE_UPDATE:
            reason = bn_case_update (ctx, txn, call, id, now);
            break;
        case BN_OP_CASE_CLOSE:
        case BN_OP_CASE_REOPEN:
            reason =
                bn_case_close (ctx, txn, call, id, call->route->operation == BN_OP_CASE_CLOSE, now);
            break;
        case BN_OP_FOLLOW_UPS:
            reason = bn_case_follow_ups (ctx, txn, call, now);
            break;
        case BN_OP_EMERGENCY_REQUEST:
            reason = bn_emergency_request (ctx, txn, call, now);
            break;
        case BN_OP_EMERGENCY_LIST:
            reason = bn_emergency_list (ctx, txn, call, now);
            break;
        case BN_OP_EMERGENCY_APPROVE:
        case BN_OP_EMERGENCY_END:
            reason = bn_emergency_step (ctx, txn, call, id,
                                        call->route->operation == BN_OP_EMERGENCY_APPROVE, now);
            break;
        case BN_OP_CONSENT_RECORD:
            reason = bn_consent_record (ctx, txn, call, now);
            break;
        case BN_OP_CONSENT_LIST:
            reason = s_list (ctx, txn, call, BN_CASESTORE_CONSENTS, "consents", now);
            break;
        case BN_OP_CONSENT_READ:
            reason = s_show (ctx, txn, call, BN_CASESTORE_CONSENTS, id, action, now);
            if (reason == BR_REASON_OK)
                bn_consent_status (call->result, now);
            break;
        case BN_OP_CONSENT_WITHDRAW:
            reason = bn_consent_withdraw (ctx, txn, call, id, now);
            break;
        case BN_OP_CONSENT_FORM_STORE:
            reason = bn_consent_form_store (ctx, txn, call, id, now);
            break;
        case BN_OP_CONSENT_FORM_READ:
            reason = bn_consent_form_read (ctx, txn, call, id, now);
            break;
        case BN_OP_REFERRAL_SEND:
            reason = bn_referral_send (ctx, txn, call, now);
            break;
        case BN_OP_REFERRAL_LIST:
            reason = s_list (ctx, txn, call, BN_CASESTORE_REFERRALS, "referrals", now);
            break;
        case BN_OP_REFERRAL_READ:
            reason = s_show (ctx, txn, call, BN_CASESTORE_REFERRALS, id, action, now);
            break;
        case BN_OP_REFERRAL_STATUS:
            reason = bn_referral_status (ctx, txn, call, id, now);
            break;
        case BN_OP_TRANSFER_LIST:
            reason = s_list (ctx, txn, call, BN_CASESTORE_TRANSFERS, "transfers", now);
            break;
        case BN_OP_TRANSFER_READ:
            reason = s_show (ctx, txn, call, BN_CASESTORE_TRANSFERS, id, action, now);
            break;
        case BN_OP_TRANSFER_ACCEPT:
        case BN_OP_TRANSFER_DECLINE:
            reason = bn_transfer_answer (ctx, txn, call, id,
                                         call->route->operation == BN_OP_TRANSFER_ACCEPT, now);
            break;
        case BN_OP_DIRECTORY:
            reason = s_directory (ctx, call);
            break;
        case BN_OP_EVENTS:
            reason = s_events (ctx, txn, call);
            break;
        case BN_OP_REPORTS:
            reason = s_reports (ctx, txn, call, now);
            break;
        case BN_OP_AUDIT_LIST:
            reason = s_audit_list (ctx, call);
            break;
        case BN_OP_AUDIT_VERIFY:
            reason = s_audit_verify (ctx, call);
            break;
        default:
            break;
    }
    call->offices = offices;
    ctx->break_glass = NULL;
    //  What the caller may do next: not for the administration, which only reads
    unsigned changers =
        BN_ROLE_CASEWORKER | BN_ROLE_INTEGRATION | BN_ROLE_SACHBEARBEITUNG | BN_ROLE_LEITUNG;
    if (reason == BR_REASON_OK && json_is_object (call->result) &&
        (bn_routes_role (call->role) & changers))
        bn_casefields_actions (call->route->operation, call->result);
    if (reason == BR_REASON_NOT_FOUND && !call->detail[0])
        bn_request_refuse (call, reason, "no such resource");
    if (reason != BR_REASON_OK) {
        json_decref (call->result);
        call->result = NULL;
    }
    return reason;
}

//  ---- Receiving --------------------------------------------------------------------

br_reason_t
bn_casework_receive (bn_casework_t *self, MDB_txn *txn, br_envelope_t *envelope, int64_t now_ms,
                     br_reason_t *verdict)
{
    assert (self && txn && envelope && verdict);
    bn_casework_ctx_t *ctx = &self->ctx;
    assert (ctx->roster);
    const Bruecke__Header *header = br_envelope_header (envelope);
    const Bruecke__Attestation *attestation = br_envelope_message (envelope)->attestation;
    const ProtobufCMessageDescriptor *descriptor = NULL;
    switch (header->type) {
        case BRUECKE__MESSAGE_TYPE__TYPE_REFERRAL:
            descriptor = &bruecke__referral__descriptor;
            break;
        case BRUECKE__MESSAGE_TYPE__TYPE_REFERRAL_UPDATE:
            descriptor = &bruecke__referral_update__descriptor;
            break;
        case BRUECKE__MESSAGE_TYPE__TYPE_CONSENT_WITHDRAWAL:
            descriptor = &bruecke__consent_withdrawal__descriptor;
            break;
        case BRUECKE__MESSAGE_TYPE__TYPE_CASE_TRANSFER:
            descriptor = &bruecke__case_transfer__descriptor;
            break;
        case BRUECKE__MESSAGE_TYPE__TYPE_CASE_TRANSFER_ANSWER:
            descriptor = &bruecke__case_transfer_answer__descriptor;
            break;
        default:
            *verdict = BR_REASON_UNSUPPORTED_TYPE;
            return BR_REASON_OK;
    }
    ProtobufCMessage *body = NULL;
    *verdict = br_envelope_open_body (envelope, ctx->identity, descriptor, &body);
    if (*verdict != BR_REASON_OK)
        return BR_REASON_OK;
    br_reason_t reason = BR_REASON_OK;
    switch (header->type) {
        case BRUECKE__MESSAGE_TYPE__TYPE_REFERRAL:
            reason = bn_referral_receive (ctx, txn, header, attestation, (Bruecke__Referral *) body,
                                          now_ms, verdict);
            break;
        case BRUECKE__MESSAGE_TYPE__TYPE_REFERRAL_UPDATE:
            reason = bn_referral_receive_update (ctx, txn, header, (Bruecke__ReferralUpdate *) body,
                                                 now_ms, verdict);
            break;
        case BRUECKE__MESSAGE_TYPE__TYPE_CONSENT_WITHDRAWAL:
            reason = bn_consent_receive_withdrawal (
                ctx, txn, header, (Bruecke__ConsentWithdrawal *) body, now_ms, verdict);
            break;
        case BRUECKE__MESSAGE_TYPE__TYPE_CASE_TRANSFER:
            reason = bn_transfer_receive (ctx, txn, header, attestation,
                                          (Bruecke__CaseTransfer *) body, now_ms, verdict);
            break;
        default:
            reason = bn_transfer_receive_answer (
                ctx, txn, header, (Bruecke__CaseTransferAnswer *) body, now_ms, verdict);
            break;
    }
    br_proto_free (&body);
    return reason;
}

//  ---- Life cycle -------------------------------------------------------------------

bn_casework_t *
bn_casework_new (bn_store_t *store, br_identity_t *identity, bn_vault_t *vault, bn_audit_t *audit,
                 br_reason_t *reason)
{
    assert (store && identity && vault && audit && reason);
    bn_casestore_t *records = bn_casestore_new (store, vault, reason);
    if (!records)
        return NULL;
    bn_casework_t *self = (bn_casework_t *) zmalloc (sizeof (bn_casework_t));
    self->ctx = (bn_casework_ctx_t){
        .store = store, .identity = identity, .vault = vault, .audit = audit, .records = records};
    return self;
}

void
bn_casework_destroy (bn_casework_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        bn_casework_t *self = *self_p;
        bn_casestore_destroy (&self->ctx.records);
        free (self);
        *self_p = NULL;
    }
}

void
bn_casework_set_roster (bn_casework_t *self, br_roster_t *roster)
{
    assert (self);
    self->ctx.roster = roster;
}

//  --------------------------------------------------------------------------
//  Selftest: a short tour of the API on the invented county
//  (bn_casework_testing). The casework's scenario, from case to transfer,
//  is tests/unit/bn_casework_test.c.

void
bn_casework_test (bool verbose)
{
    if (verbose)
        printf (" * bn_casework: ");
    //  @selftest
    bn_casework_testing_t *county = bn_casework_testing_new ();
    bn_casework_town_t *luenen = &county->luenen;
    //  Lünen's Jobcenter records a case and reads it back
    char *case_id = bn_casework_testing_case (luenen, "jobcenter");
    char *case_path = zsys_sprintf ("/v1/cases/%s", case_id);
    json_t *read = bn_casework_testing_call (luenen, "GET", case_path, NULL, BR_REASON_OK);
    assert (streq (json_string_value (json_object_get (read, "id")), case_id));
    json_decref (read);
    //  ... which no other office sees, and a request of the wrong shape is refused
    bn_casework_testing_call_as (luenen, "jugendamt", "GET", case_path, NULL,
                                 BR_REASON_OFFICE_NOT_PERMITTED);
    bn_casework_testing_call (luenen, "POST", "/v1/cases", "[]", BR_REASON_MALFORMED);
    assert (streq (bn_casework_testing_state (luenen, "cases", case_id), "open"));
    zstr_free (&case_path);
    zstr_free (&case_id);
    bn_casework_testing_destroy (&county);
    //  @end
    if (verbose)
        printf ("OK\n");
}
