/*  =========================================================================
    bn_casefields - what each casework operation takes, and what may follow
    =========================================================================
*/

#include "bruecke.h"
#include "bn_casefields.h"
#include "bn_casework_testing.h"

#define S_LINE(name, max, required)                                                                \
    {                                                                                              \
        name, BN_FIELD_LINE, max, 0, required, false                                               \
    }
#define S_NOTE(name, max)                                                                          \
    {                                                                                              \
        name, BN_FIELD_NOTE, max, 0, false, false                                                  \
    }
#define S_LINES(name, items, max, req)                                                             \
    {                                                                                              \
        name, BN_FIELD_LINES, items, max, req, false                                               \
    }
#define S_OBJECTS(name, items, required)                                                           \
    {                                                                                              \
        name, BN_FIELD_OBJECTS, items, 0, required, false                                          \
    }
#define S_END                                                                                      \
    {                                                                                              \
        NULL, BN_FIELD_LINE, 0, 0, false, false                                                    \
    }

static const bn_field_t s_case_fields[] = {
    S_LINE ("kind", 16, true),
    S_LINE ("service", BR_SERVICE_MAX, true),
    S_OBJECTS ("members", BN_LIST_MAX, true),
    {"needs", BN_FIELD_NOTES, BN_LIST_MAX, BN_TEXT_MAX, false, false},
    {"notes", BN_FIELD_NOTES, BN_LIST_MAX, BN_TEXT_MAX, false, false},
    {"details", BN_FIELD_OBJECT, 0, 0, false, false},
    S_LINE ("caseworker", BN_NAME_MAX, false),
    S_LINE ("lotse", BN_NAME_MAX, false),
    S_LINE ("external_ref", BN_REF_MAX, false),
    {"follow_up_ms", BN_FIELD_INTEGER, 0, 0, false, false},
    S_END};
static const bn_field_t s_update_fields[] = {
    S_OBJECTS ("members", BN_LIST_MAX, false),
    {"needs", BN_FIELD_NOTES, BN_LIST_MAX, BN_TEXT_MAX, false, false},
    {"caseworker", BN_FIELD_LINE, BN_NAME_MAX, 0, false, true},
    {"lotse", BN_FIELD_LINE, BN_NAME_MAX, 0, false, true},
    {"external_ref", BN_FIELD_LINE, BN_REF_MAX, 0, false, true},
    {"follow_up_ms", BN_FIELD_INTEGER, 0, 0, false, true},
    S_END};
static const bn_field_t s_note_fields[] = {{"text", BN_FIELD_NOTE, BN_TEXT_MAX, 0, true, false},
                                           S_END};
static const bn_field_t s_close_fields[] = {S_LINE ("reason", BN_CASEWORK_REASON_MAX, false),
                                            S_NOTE ("text", BN_TEXT_MAX), S_END};
static const bn_field_t s_follow_up_query[] = {S_LINE ("caseworker", BN_NAME_MAX, false), S_END};
static const bn_field_t s_emergency_query[] = {S_LINE ("mine", 5, false), S_END};
static const bn_field_t s_emergency_fields[] = {
    S_LINE ("office", BR_SERVICE_MAX, true),
    {"reason", BN_FIELD_NOTE, BN_EMERGENCY_REASON_MAX, 0, true, false},
    {"minutes", BN_FIELD_INTEGER, 0, 0, true, false},
    S_END};
static const bn_field_t s_member_fields[] = {
    S_LINE ("name", BN_NAME_MAX, true),
    S_LINE ("role", BN_NAME_MAX, true),
    {"age", BN_FIELD_INTEGER, 0, 0, true, false},
    S_LINES ("custody_for", BN_LIST_MAX, BN_NAME_MAX, false),
    S_END};
static const bn_field_t s_address_fields[] = {S_LINE ("ags", 8, true),
                                              S_LINE ("service", BR_SERVICE_MAX, true), S_END};
static const bn_field_t s_consent_fields[] = {
    S_LINE ("case_id", BN_ID_HEX, true),
    S_LINE ("grantor", BN_NAME_MAX, true),
    S_LINES ("subjects", BN_LIST_MAX, BN_NAME_MAX, true),
    S_LINE ("purpose", BR_PURPOSE_MAX, true),
    S_LINES ("categories", BR_CATEGORIES_MAX, BR_CATEGORY_MAX, true),
    S_OBJECTS ("recipients", BN_LIST_MAX, true),
    {"valid_from_ms", BN_FIELD_INTEGER, 0, 0, false, false},
    {"valid_until_ms", BN_FIELD_INTEGER, 0, 0, true, false},
    S_LINE ("form", 16, true),
    S_LINE ("evidence_sha256", BN_CASEWORK_SHA256_HEX, true),
    {"health_data", BN_FIELD_BOOLEAN, 0, 0, false, false},
    S_END};
static const bn_field_t s_form_fields[] = {
    S_LINE ("content_type", 32, true),
    {"data", BN_FIELD_LINE, BN_FORM_MAX / 3 * 4 + 4, 0, true, false},
    S_END};
static const bn_field_t s_withdraw_fields[] = {S_OBJECTS ("recipients", BN_LIST_MAX, false), S_END};
static const bn_field_t s_referral_fields[] = {
    S_LINE ("case_id", BN_ID_HEX, true),
    S_LINE ("service", BR_SERVICE_MAX, true),
    S_LINE ("purpose", BR_PURPOSE_MAX, true),
    S_LINE ("consent_id", BN_ID_HEX, false),
    S_LINE ("statute", BR_STATUTE_MAX, false),
    {"recipient", BN_FIELD_OBJECT, 0, 0, true, false},
    S_LINES ("categories", BR_CATEGORIES_MAX, BR_CATEGORY_MAX, true),
    S_NOTE ("note", BN_TEXT_MAX),
    S_END};
static const bn_field_t s_status_fields[] = {
    S_LINE ("state", 16, true), S_LINE ("reason", BN_CASEWORK_REASON_MAX, false),
    S_NOTE ("text", BN_TEXT_MAX), S_LINE ("lotse", BN_NAME_MAX, false), S_END};
static const bn_field_t s_transfer_fields[] = {S_LINE ("ags", 8, true),
                                               S_LINE ("service", BR_SERVICE_MAX, false), S_END};
static const bn_field_t s_decline_fields[] = {S_LINE ("reason", BN_CASEWORK_REASON_MAX, false),
                                              S_END};
static const bn_field_t s_no_fields[] = {S_END};
static const bn_field_t s_case_query[] = {S_LINE ("name", BN_NAME_MAX, false), S_END};
static const bn_field_t s_record_query[] = {S_LINE ("case_id", BN_ID_HEX, false), S_END};
static const bn_field_t s_after_query[] = {S_LINE ("after", 20, false), S_END};

//  The body and query fields of an operation.
static void
s_fields_of (bn_operation_t operation, const bn_field_t **body, const bn_field_t **query)
{
    *body = s_no_fields;
    *query = s_no_fields;
    switch (operation) {
        case BN_OP_CASE_CREATE:
            *body = s_case_fields;
            break;
        case BN_OP_CASE_LIST:
            *query = s_case_query;
            break;
        case BN_OP_CASE_TRANSFER:
            *body = s_transfer_fields;
            break;
        case BN_OP_CASE_NOTE:
            *body = s_note_fields;
            break;
        case BN_OP_CASE_UPDATE:
            *body = s_update_fields;
            break;
        case BN_OP_CASE_CLOSE:
        case BN_OP_CASE_REOPEN:
            *body = s_close_fields;
            break;
        case BN_OP_FOLLOW_UPS:
            *query = s_follow_up_query;
            break;
        case BN_OP_EMERGENCY_REQUEST:
            *body = s_emergency_fields;
            break;
        case BN_OP_EMERGENCY_LIST:
            *query = s_emergency_query;
            break;
        case BN_OP_CONSENT_RECORD:
            *body = s_consent_fields;
            break;
        case BN_OP_CONSENT_WITHDRAW:
            *body = s_withdraw_fields;
            break;
        case BN_OP_CONSENT_FORM_STORE:
            *body = s_form_fields;
            break;
        case BN_OP_REFERRAL_SEND:
            *body = s_referral_fields;
            break;
        case BN_OP_REFERRAL_STATUS:
            *body = s_status_fields;
            break;
        case BN_OP_TRANSFER_DECLINE:
            *body = s_decline_fields;
            break;
        case BN_OP_CONSENT_LIST:
        case BN_OP_REFERRAL_LIST:
        case BN_OP_TRANSFER_LIST:
            *query = s_record_query;
            break;
        case BN_OP_EVENTS:
        case BN_OP_AUDIT_LIST:
            *query = s_after_query;
            break;
        default:
            break;
    }
}

//  Checks each object of the list member `name` of `object` against
//  `fields`, naming it "name[index]" in a refusal.
static br_reason_t
s_items_check (bn_request_t *call, json_t *object, const char *name, const bn_field_t *fields)
{
    size_t index;
    json_t *item;
    json_array_foreach (json_object_get (object, name), index, item)
    {
        char where[48];
        snprintf (where, sizeof (where), "%s[%zu]", name, index);
        br_reason_t refused = bn_request_fields (call, item, where, fields);
        if (refused != BR_REASON_OK)
            return refused;
    }
    return BR_REASON_OK;
}

//  Checks a request's body and query against what its operation takes,
//  the objects inside the body included.
br_reason_t
bn_casefields_check (bn_request_t *call)
{
    const bn_field_t *body_fields, *query_fields;
    s_fields_of (call->route->operation, &body_fields, &query_fields);
    br_reason_t refused = bn_request_fields (call, call->query, "query", query_fields);
    if (refused == BR_REASON_OK && call->body)
        refused = bn_request_fields (call, call->body, "", body_fields);
    if (refused == BR_REASON_OK && (body_fields == s_case_fields || body_fields == s_update_fields))
        refused = s_items_check (call, call->body, "members", s_member_fields);
    if (refused == BR_REASON_OK &&
        (body_fields == s_consent_fields || body_fields == s_withdraw_fields))
        refused = s_items_check (call, call->body, "recipients", s_address_fields);
    if (refused == BR_REASON_OK && body_fields == s_referral_fields)
        refused = bn_request_fields (call, json_object_get (call->body, "recipient"), "recipient",
                                     s_address_fields);
    return refused;
}

//  Adds to a record in an answer the changes its caller may make now
//  ("actions", from br_states), so that an interface need not derive them.
void
bn_casefields_actions (bn_operation_t operation, json_t *record)
{
    const char *actions[BR_STATES_ACTIONS_MAX];
    size_t count = 0;
    const char *state = json_string_value (json_object_get (record, "state"));
    const char *direction = json_string_value (json_object_get (record, "direction"));
    switch (operation) {
        case BN_OP_CASE_CREATE:
        case BN_OP_CASE_READ:
        case BN_OP_CASE_NOTE:
        case BN_OP_CASE_UPDATE:
        case BN_OP_CASE_CLOSE:
        case BN_OP_CASE_REOPEN:
            count = br_case_actions (state, actions);
            break;
        case BN_OP_REFERRAL_SEND:
        case BN_OP_REFERRAL_READ:
        case BN_OP_REFERRAL_STATUS:
            if (direction && !json_is_true (json_object_get (record, "processing_stopped")))
                count = br_referral_actions (state, streq (direction, "incoming"), actions);
            break;
        case BN_OP_CASE_TRANSFER:
        case BN_OP_TRANSFER_READ:
        case BN_OP_TRANSFER_ACCEPT:
        case BN_OP_TRANSFER_DECLINE:
            if (direction && streq (direction, "incoming") && state && streq (state, "requested")) {
                actions[count++] = "accept";
                actions[count++] = "decline";
            }
            break;
        default:
            return;
    }
    json_t *list = json_array ();
    for (size_t index = 0; index < count; index++)
        json_array_append_new (list, json_string (actions[index]));
    json_object_set_new (record, "actions", list);
}

//  ---- Self test ----------------------------------------------------------------------

void
bn_casefields_test (bool verbose)
{
    if (verbose)
        printf (" * bn_casefields: ");
    //  @selftest
    //  What may follow: a case that is open takes notes, a closed one is
    //  reopened; a directory has no actions
    json_t *record = json_pack ("{ss}", "state", "open");
    bn_casefields_actions (BN_OP_CASE_READ, record);
    assert (bn_casework_ctx_list_has (json_object_get (record, "actions"), "note"));
    json_object_set_new (record, "state", json_string ("closed"));
    bn_casefields_actions (BN_OP_CASE_READ, record);
    assert (bn_casework_ctx_list_has (json_object_get (record, "actions"), "reopen"));
    assert (!bn_casework_ctx_list_has (json_object_get (record, "actions"), "note"));
    json_object_del (record, "actions");
    bn_casefields_actions (BN_OP_DIRECTORY, record);
    assert (!json_object_get (record, "actions"));
    json_decref (record);
    //  Bodies are checked before any work, the objects in lists too
    bn_casework_testing_t *county = bn_casework_testing_new ();
    bn_casework_testing_call (&county->luenen, "POST", "/v1/cases",
                              "{\"kind\": \"person\", \"service\": \"jobcenter\", \"members\": "
                              "[{\"name\": \"Ida Test\", \"role\": \"self\", \"age\": \"40\"}]}",
                              BR_REASON_MALFORMED);
    bn_casework_testing_call (&county->luenen, "GET", "/v1/events?after=x", NULL,
                              BR_REASON_MALFORMED);
    bn_casework_testing_destroy (&county);
    //  @end
    if (verbose)
        printf ("OK\n");
}
