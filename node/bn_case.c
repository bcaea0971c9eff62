/*  =========================================================================
    bn_case - cases: a family or person an office works with
    =========================================================================
*/

#include "bruecke.h"
#include "bn_case.h"
#include "bn_casework_testing.h"

//  The member of `members` named `name`, or NULL.
json_t *
bn_case_member (json_t *members, const char *name)
{
    size_t index;
    json_t *member;
    json_array_foreach (members, index, member)
    {
        const char *its = json_string_value (json_object_get (member, "name"));
        if (name && its && streq (its, name))
            return member;
    }
    return NULL;
}

//  Checks a member list: objects with a name (each once), role and age,
//  and, for a parent, custody_for: the names of the minor members it holds
//  custody (Sorgerecht) for. Returns OK or refuses MALFORMED.
static br_reason_t
s_members_check (bn_request_t *call, json_t *members)
{
    if (!json_is_array (members) || json_array_size (members) == 0 ||
        json_array_size (members) > BN_LIST_MAX)
        return bn_request_refuse (call, BR_REASON_MALFORMED, "members: 1..64 of {name, role, age}");
    size_t index;
    json_t *member;
    json_array_foreach (members, index, member)
    {
        json_int_t age = bn_request_integer (member, "age", -1);
        const char *name = bn_request_text (member, "name", BN_NAME_MAX);
        if (!name || !bn_request_text (member, "role", BN_NAME_MAX) || age < 0 || age > 130)
            return bn_request_refuse (call, BR_REASON_MALFORMED,
                                      "members: item %zu needs a name, a role and an age 0..130",
                                      index);
        if (bn_case_member (members, name) != member)
            return bn_request_refuse (call, BR_REASON_MALFORMED,
                                      "members: item %zu has the name of an earlier member", index);
    }
    json_array_foreach (members, index, member)
    {
        json_t *custody = json_object_get (member, "custody_for");
        size_t child_index;
        json_t *child;
        if (custody && !json_is_array (custody))
            return bn_request_refuse (call, BR_REASON_MALFORMED,
                                      "members: item %zu custody_for is a list of names", index);
        json_array_foreach (custody, child_index, child)
        {
            json_t *minor = bn_case_member (members, json_string_value (child));
            if (!minor || minor == member ||
                bn_request_integer (minor, "age", 0) >= BN_AGE_OF_MAJORITY)
                return bn_request_refuse (call, BR_REASON_MALFORMED,
                                          "members: item %zu custody_for names no minor member",
                                          index);
        }
    }
    return BR_REASON_OK;
}

br_reason_t
bn_case_create (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_request_t *call, int64_t now)
{
    json_t *body = call->body;
    const char *kind = bn_request_text (body, "kind", 16);
    const char *service = bn_request_text (body, "service", BR_SERVICE_MAX);
    if (!kind || (!streq (kind, "family") && !streq (kind, "person")))
        return bn_request_refuse (call, BR_REASON_MALFORMED, "kind must be family or person");
    if (!service || !br_catalogue_service (service))
        return bn_request_refuse (call, BR_REASON_MALFORMED, "service must be a catalogue code");
    if (!bn_casework_ctx_office_here (ctx, service))
        return bn_request_refuse (call, BR_REASON_NO_ROUTE, "this node hosts no such office");
    if (!bn_routes_office_in (call->offices, service))
        return bn_request_refuse (call, BR_REASON_OFFICE_NOT_PERMITTED,
                                  "you do not act for this office");
    br_reason_t refused = s_members_check (call, json_object_get (body, "members"));
    if (refused != BR_REASON_OK)
        return refused;
    if (!bn_casework_ctx_text_list (body, "needs", BN_TEXT_MAX, NULL) ||
        !bn_casework_ctx_text_list (body, "notes", BN_TEXT_MAX, NULL))
        return bn_request_refuse (call, BR_REASON_MALFORMED, "needs and notes are lists of text");
    json_t *details = json_object_get (body, "details");
    if (details && !json_is_object (details))
        return bn_request_refuse (call, BR_REASON_MALFORMED,
                                  "details is an object by data category");
    const char *category;
    json_t *value;
    json_object_foreach (details, category, value)
    {
        if (!br_catalogue_category (category) || !json_is_object (value))
            return bn_request_refuse (call, BR_REASON_MALFORMED,
                                      "details: an object per data category code");
        const char *keyword;
        json_t *text;
        json_object_foreach (value, keyword, text)
        {
            if (!br_line_valid (keyword, BN_NAME_MAX) || !json_is_string (text) ||
                !br_note_valid (json_string_value (text), BN_TEXT_MAX))
                return bn_request_refuse (call, BR_REASON_MALFORMED,
                                          "details.%s: keywords of 1 to %d characters, each with a "
                                          "text of 1 to %d characters",
                                          category, BN_NAME_MAX, BN_TEXT_MAX);
        }
    }
    uint8_t id[BN_ID_SIZE];
    randombytes_buf (id, sizeof (id));
    char hex[BN_ID_HEX];
    bn_casestore_hex (id, hex);
    json_t *record =
        json_pack ("{ss ss ss ss sO* sO* sO* sO* sI}", "id", hex, "kind", kind, "service", service,
                   "state", "open", "members", json_object_get (body, "members"), "needs",
                   json_object_get (body, "needs"), "notes", json_object_get (body, "notes"),
                   "details", details, "created_at_ms", (json_int_t) now);
    json_object_set_new (record, "office", json_string (service));
    const char *optional[] = {"caseworker", "lotse", "external_ref", "follow_up_ms"};
    for (size_t index = 0; index < sizeof (optional) / sizeof (optional[0]); index++) {
        json_t *given = json_object_get (body, optional[index]);
        if (given)
            json_object_set (record, optional[index], given);
    }
    br_reason_t reason = bn_casestore_put (ctx->records, txn, BN_CASESTORE_CASES, id, record);
    if (reason == BR_REASON_OK)
        reason = bn_casestore_event (ctx->records, txn, "case", id, "open", record, now);
    if (reason == BR_REASON_OK)
        reason = bn_casework_ctx_audit (ctx, txn, call->user, call->route->action, id, "", now);
    call->status = 201;
    call->result = record;
    return reason;
}

//  OK if the case `record` is in a state that allows `action` (br_states:
//  note, update, close, reopen, transfer, consent, refer); else refuses
//  INVALID_STATE.
br_reason_t
bn_case_allows (bn_request_t *call, json_t *record, const char *action)
{
    const char *state = json_string_value (json_object_get (record, "state"));
    if (br_case_allowed (state, action))
        return BR_REASON_OK;
    return bn_request_refuse (call, BR_REASON_INVALID_STATE,
                              "the case's state (%s) does not allow this", state ? state : "none");
}

//  Reads the case `hex` the caller may work, for `action`: its id into
//  `id` and a new reference in *record_p. Returns OK, or the refusal
//  (NOT_FOUND, OFFICE_NOT_PERMITTED; INVALID_STATE if the case's state does
//  not allow `action`).
static br_reason_t
s_case_to_change (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_request_t *call, const char *hex,
                  const char *action, uint8_t id[BN_ID_SIZE], json_t **record_p)
{
    *record_p = NULL;
    if (bn_casework_ctx_find (ctx, txn, call, BN_CASESTORE_CASES, hex, "case", id, record_p) !=
        BR_REASON_OK)
        return BR_REASON_NOT_FOUND;
    br_reason_t reason = bn_casework_ctx_permit (call, *record_p);
    if (reason == BR_REASON_OK)
        reason = bn_case_allows (call, *record_p, action);
    if (reason != BR_REASON_OK) {
        json_decref (*record_p);
        *record_p = NULL;
    }
    return reason;
}

//  Appends an entry to the case's history: what changed, when, by whom,
//  and what it was before (`previous`, taken; may be NULL). Returns it.
static json_t *
s_case_history (json_t *record, const char *what, int64_t at, const char *by, json_t *previous)
{
    json_t *history = json_object_get (record, "history");
    if (!json_is_array (history)) {
        history = json_array ();
        json_object_set_new (record, "history", history);
    }
    json_t *entry = json_pack ("{ss sI ss}", "change", what, "at_ms", (json_int_t) at, "by", by);
    if (previous)
        json_object_set_new (entry, "previous", previous);
    json_array_append_new (history, entry);
    return entry;
}

//  Stores a changed case with its event and audit record; the case is the
//  result.
static br_reason_t
s_case_changed (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_request_t *call, const uint8_t *id,
                json_t *record, const char *detail, int64_t now)
{
    json_object_set_new (record, "updated_at_ms", json_integer (now));
    br_reason_t reason = bn_casestore_put (ctx->records, txn, BN_CASESTORE_CASES, id, record);
    if (reason == BR_REASON_OK)
        reason =
            bn_casestore_event (ctx->records, txn, "case", id,
                                json_string_value (json_object_get (record, "state")), record, now);
    if (reason == BR_REASON_OK)
        reason = bn_casework_ctx_audit (ctx, txn, call->user, call->route->action, id, detail, now);
    call->result = record;
    return reason;
}

//  POST /v1/cases/{id}/notes: a note, appended for good with its author
//  and time (the journal: notes are never changed or removed).
br_reason_t
bn_case_note (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_request_t *call, const char *hex,
              int64_t now)
{
    uint8_t id[BN_ID_SIZE];
    json_t *record = NULL;
    br_reason_t reason = s_case_to_change (ctx, txn, call, hex, "note", id, &record);
    if (reason != BR_REASON_OK)
        return reason;
    json_t *journal = json_object_get (record, "journal");
    if (!json_is_array (journal)) {
        journal = json_array ();
        json_object_set_new (record, "journal", journal);
    }
    if (json_array_size (journal) >= BN_JOURNAL_MAX) {
        json_decref (record);
        return bn_request_refuse (call, BR_REASON_TOO_LARGE, "the case holds %d notes already",
                                  BN_JOURNAL_MAX);
    }
    json_array_append_new (journal,
                           json_pack ("{sO sI ss}", "text", json_object_get (call->body, "text"),
                                      "at_ms", (json_int_t) now, "by", call->user));
    call->status = 201;
    return s_case_changed (ctx, txn, call, id, record, "", now);
}

//  PATCH /v1/cases/{id}: corrects members and needs, sets the Lotse, the
//  caseworker, the follow-up date (Wiedervorlage) or the reference of the
//  town's own software; null clears the last four. Each change goes into
//  the case's history with what was there before.
br_reason_t
bn_case_update (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_request_t *call, const char *hex,
                int64_t now)
{
    json_t *body = call->body;
    if (json_object_size (body) == 0)
        return bn_request_refuse (call, BR_REASON_MALFORMED, "nothing to change");
    br_reason_t reason = BR_REASON_OK;
    if (json_object_get (body, "members"))
        reason = s_members_check (call, json_object_get (body, "members"));
    if (reason != BR_REASON_OK)
        return reason;
    uint8_t id[BN_ID_SIZE];
    json_t *record = NULL;
    reason = s_case_to_change (ctx, txn, call, hex, "update", id, &record);
    if (reason != BR_REASON_OK)
        return reason;
    char changed[BN_AUDIT_DETAIL_MAX] = "";
    const char *field;
    json_t *value;
    json_object_foreach (body, field, value)
    {
        json_t *before = json_object_get (record, field);
        if (before ? json_equal (before, value) : json_is_null (value))
            continue;
        s_case_history (record, field, now, call->user, before ? json_incref (before) : NULL);
        if (json_is_null (value))
            json_object_del (record, field);
        else
            json_object_set (record, field, value);
        size_t used = strlen (changed);
        snprintf (changed + used, sizeof (changed) - used, "%s%s", used ? " " : "", field);
    }
    return s_case_changed (ctx, txn, call, id, record, changed, now);
}

//  POST /v1/cases/{id}/close and /reopen: the office ends its work with the
//  family, giving a reason from the catalogue, or takes it up again.
br_reason_t
bn_case_close (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_request_t *call, const char *hex,
               bool close, int64_t now)
{
    const char *why = bn_request_text (call->body, "reason", BN_CASEWORK_REASON_MAX);
    if (close && !br_catalogue_close_reason (why))
        return bn_request_refuse (call, BR_REASON_MALFORMED,
                                  "reason: goal-reached, moved-away, other-office, help-declined, "
                                  "no-contact or other");
    uint8_t id[BN_ID_SIZE];
    json_t *record = NULL;
    br_reason_t reason =
        s_case_to_change (ctx, txn, call, hex, close ? "close" : "reopen", id, &record);
    if (reason != BR_REASON_OK)
        return reason;
    json_t *entry = s_case_history (record, close ? "closed" : "reopened", now, call->user, NULL);
    if (why)
        json_object_set_new (entry, "reason", json_string (why));
    if (json_object_get (call->body, "text"))
        json_object_set (entry, "text", json_object_get (call->body, "text"));
    json_object_set_new (record, "state", json_string (close ? "closed" : "open"));
    if (close) {
        json_object_set_new (record, "closed_at_ms", json_integer (now));
        json_object_set_new (record, "close_reason", json_string (why));
    } else {
        json_object_del (record, "closed_at_ms");
        json_object_del (record, "close_reason");
    }
    return s_case_changed (ctx, txn, call, id, record, close ? why : "", now);
}

//  What a list of follow-ups collects.
typedef struct {
    bn_request_t *call;     //  whose offices
    json_t *list;           //  the entries
    const char *caseworker; //  only cases of this caseworker, or NULL
    int64_t now;            //  what is due
} s_follow_ups_t;

static br_reason_t
s_follow_up_entry (MDB_txn *txn, const uint8_t *id, json_t *record, void *argument)
{
    (void) txn;
    (void) id;
    s_follow_ups_t *follow_ups = (s_follow_ups_t *) argument;
    json_t *date = json_object_get (record, "follow_up_ms");
    const char *state = json_string_value (json_object_get (record, "state"));
    const char *caseworker = json_string_value (json_object_get (record, "caseworker"));
    if (!json_is_integer (date) || !state || !streq (state, "open") ||
        !bn_casework_ctx_sees (follow_ups->call, record) ||
        (follow_ups->caseworker && (!caseworker || !streq (caseworker, follow_ups->caseworker))))
        return BR_REASON_OK;
    json_t *entry =
        json_pack ("{sO sO sO sO sb}", "id", json_object_get (record, "id"), "kind",
                   json_object_get (record, "kind"), "office", json_object_get (record, "office"),
                   "follow_up_ms", date, "due", json_integer_value (date) <= follow_ups->now);
    const char *staff[] = {"caseworker", "lotse", "external_ref"};
    for (size_t index = 0; index < sizeof (staff) / sizeof (staff[0]); index++)
        if (json_object_get (record, staff[index]))
            json_object_set (entry, staff[index], json_object_get (record, staff[index]));
    json_array_append_new (follow_ups->list, entry);
    return BR_REASON_OK;
}

static int
s_follow_up_compare (const void *one, const void *other)
{
    json_int_t first =
        json_integer_value (json_object_get (*(json_t *const *) one, "follow_up_ms"));
    json_int_t second =
        json_integer_value (json_object_get (*(json_t *const *) other, "follow_up_ms"));
    return (first > second) - (first < second);
}

//  GET /v1/follow-ups: the open cases of the caller's offices with a
//  follow-up date, earliest first, each marked due or not; `caseworker`
//  keeps one caseworker's. No family's data: ids, dates and staff.
br_reason_t
bn_case_follow_ups (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_request_t *call, int64_t now)
{
    s_follow_ups_t follow_ups = {
        .call = call,
        .list = json_array (),
        .caseworker = json_string_value (json_object_get (call->query, "caseworker")),
        .now = now};
    br_reason_t reason =
        bn_casestore_each (ctx->records, txn, BN_CASESTORE_CASES, s_follow_up_entry, &follow_ups);
    size_t count = json_array_size (follow_ups.list);
    json_t **entries = (json_t **) calloc (count ? count : 1, sizeof (json_t *));
    for (size_t index = 0; index < count; index++)
        entries[index] = json_incref (json_array_get (follow_ups.list, index));
    qsort (entries, count, sizeof (json_t *), s_follow_up_compare);
    json_array_clear (follow_ups.list);
    for (size_t index = 0; index < count; index++)
        json_array_append_new (follow_ups.list, entries[index]);
    free (entries);
    if (reason == BR_REASON_OK)
        reason = bn_casework_ctx_audit (ctx, txn, call->user, call->route->action, NULL, "", now);
    call->result = json_pack ("{so sI}", "follow_ups", follow_ups.list, "at_ms", (json_int_t) now);
    return reason;
}

//  The parts of a case a data category stands for.
static json_t *
s_section (json_t *record, const char *category)
{
    if (streq (category, "household"))
        return json_pack ("{sO sO*}", "kind", json_object_get (record, "kind"), "members",
                          json_object_get (record, "members"));
    if (streq (category, "child-age")) {
        json_t *ages = json_array ();
        size_t index;
        json_t *member;
        json_array_foreach (json_object_get (record, "members"), index, member)
        {
            const char *role = json_string_value (json_object_get (member, "role"));
            if (role && (streq (role, "child") || streq (role, "Kind")))
                json_array_append (ages, json_object_get (member, "age"));
        }
        return json_pack ("{so}", "children_ages", ages);
    }
    if (streq (category, "case-history")) {
        //  The notes made with the case, then those appended since, as texts
        json_t *notes = json_deep_copy (json_object_get (record, "notes"));
        size_t index;
        json_t *entry;
        json_array_foreach (json_object_get (record, "journal"), index, entry)
        {
            if (!notes)
                notes = json_array ();
            json_array_append (notes, json_object_get (entry, "text"));
        }
        return json_pack ("{sO* so*}", "needs", json_object_get (record, "needs"), "notes", notes);
    }
    json_t *detail = json_object_get (json_object_get (record, "details"), category);
    return detail ? json_incref (detail) : json_object ();
}

//  Builds the sealed sections of `categories` from case `record`, and in
//  *codes_p their category codes (for the attestation). The returned arrays
//  and the sections' contents are the caller's (bn_case_sections_free).
Bruecke__DataSection **
bn_case_sections (json_t *record, json_t *categories, size_t *count, char ***codes_p)
{
    *count = json_array_size (categories);
    Bruecke__DataSection **sections =
        (Bruecke__DataSection **) calloc (*count ? *count : 1, sizeof (*sections));
    size_t index;
    json_t *category;
    json_array_foreach (categories, index, category)
    {
        Bruecke__DataSection *section = (Bruecke__DataSection *) zmalloc (sizeof (*section));
        bruecke__data_section__init (section);
        section->category = (char *) json_string_value (category);
        json_t *content = s_section (record, section->category);
        section->content = json_dumps (content, JSON_COMPACT);
        json_decref (content);
        sections[index] = section;
    }
    char **codes = (char **) calloc (*count ? *count : 1, sizeof (char *));
    for (size_t index = 0; index < *count; index++)
        codes[index] = sections[index]->category;
    *codes_p = codes;
    return sections;
}

void
bn_case_sections_free (Bruecke__DataSection **sections, size_t count, char **codes)
{
    free (codes);
    for (size_t index = 0; index < count; index++) {
        sodium_memzero (sections[index]->content, strlen (sections[index]->content));
        free (sections[index]->content);
        free (sections[index]);
    }
    free (sections);
}

//  ---- Self test ----------------------------------------------------------------------

void
bn_case_test (bool verbose)
{
    if (verbose)
        printf (" * bn_case: ");
    //  @selftest
    bn_casework_testing_t *county = bn_casework_testing_new ();
    bn_casework_town_t *luenen = &county->luenen;
    char *case_id = bn_casework_testing_case (luenen, "jobcenter");
    //  The journal takes notes; another office of the node sees nothing
    char *path = zsys_sprintf ("/v1/cases/%s/notes", case_id);
    json_t *noted = bn_casework_testing_call (luenen, "POST", path,
                                              "{\"text\": \"Erstgespr\xc3\xa4"
                                              "ch\"}",
                                              BR_REASON_OK);
    assert (json_array_size (json_object_get (noted, "journal")) == 1);
    json_decref (noted);
    bn_casework_testing_call_as (luenen, "jugendamt", "POST", path, "{\"text\": \"x\"}",
                                 BR_REASON_OFFICE_NOT_PERMITTED);
    //  Closed, it takes no note until it is reopened
    char *close_path = zsys_sprintf ("/v1/cases/%s/close", case_id);
    json_decref (bn_casework_testing_call (luenen, "POST", close_path,
                                           "{\"reason\": \"goal-reached\"}", BR_REASON_OK));
    assert (streq (bn_casework_testing_state (luenen, "cases", case_id), "closed"));
    bn_casework_testing_call (luenen, "POST", path, "{\"text\": \"y\"}", BR_REASON_INVALID_STATE);
    zstr_free (&close_path);
    zstr_free (&path);
    zstr_free (&case_id);
    bn_casework_testing_destroy (&county);
    //  What a data category of a case stands for
    json_t *record = json_pack ("{ss s[{ss ss si}]}", "kind", "person", "members", "name", "Ida",
                                "role", "child", "age", 4);
    assert (bn_case_member (json_object_get (record, "members"), "Ida"));
    assert (!bn_case_member (json_object_get (record, "members"), "Udo"));
    json_t *categories = json_pack ("[ss]", "household", "child-age");
    size_t count;
    char **codes = NULL;
    Bruecke__DataSection **sections = bn_case_sections (record, categories, &count, &codes);
    assert (count == 2 && streq (codes[1], "child-age"));
    assert (streq (sections[1]->content, "{\"children_ages\":[4]}"));
    bn_case_sections_free (sections, count, codes);
    json_decref (categories);
    json_decref (record);
    //  @end
    if (verbose)
        printf ("OK\n");
}
