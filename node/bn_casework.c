/*  =========================================================================
    bn_casework - cases, consents, closed-loop referrals and case transfers
    =========================================================================
*/

#include "bruecke.h"
#include "bn_casework.h"
#include "bn_casestore.h"

#define S_SHA256_HEX 64
#define S_REASON_MAX 48 //  longest reason code name

struct _bn_casework_t {
    bn_store_t *store;       //  outbox and sequence numbers
    br_identity_t *identity; //  signs, opens sealed bodies
    bn_vault_t *vault;       //  tags search terms
    bn_audit_t *audit;       //  access log
    br_roster_t *roster;     //  the roster in force (borrowed)
    bn_casestore_t *records; //  the records, sealed at rest
    const char *break_glass; //  during a call under emergency access: its audit note
};

//  True if the roster gives this node the office (service) `office`.
static bool
s_office_here (bn_casework_t *self, const char *office)
{
    const Bruecke__RosterNode *here =
        br_roster_lookup_by_id (self->roster, br_identity_node_id (self->identity));
    return here && br_roster_node_offers (here, office);
}

//  True if the caller acts for the office `record` belongs to.
static bool
s_sees (bn_request_t *call, json_t *record)
{
    const char *office = bn_casestore_office (record);
    return office && bn_routes_office_in (call->offices, office);
}

//  OK if the caller acts for the office `record` belongs to; else refuses
//  OFFICE_NOT_PERMITTED (need-to-know: §35 SGB I, §§67 ff. SGB X).
static br_reason_t
s_permit (bn_request_t *call, json_t *record)
{
    if (s_sees (call, record))
        return BR_REASON_OK;
    return bn_api_refuse (call, BR_REASON_OFFICE_NOT_PERMITTED,
                          "this belongs to an office you do not act for");
}

static br_reason_t
s_audit (bn_casework_t *self, MDB_txn *txn, const char *actor, const char *action,
         const uint8_t *id, const char *detail, int64_t now)
{
    char hex[BN_ID_HEX] = "";
    if (id)
        bn_casestore_hex (id, hex);
    //  What an administrator does under emergency access says so
    char noted[BN_AUDIT_DETAIL_MAX + 1];
    if (self->break_glass) {
        snprintf (noted, sizeof (noted), "%s%s%s", self->break_glass, *detail ? " " : "", detail);
        detail = noted;
    }
    return bn_audit_append (self->audit, txn, now, actor, action, hex, detail);
}

//  ---- Input checks -----------------------------------------------------------

//  Checks that member `name` is an array of at most BN_LIST_MAX valid
//  strings of at most `max` bytes (missing = empty). `code` requires
//  catalogue-style codes checked by `known`.
static bool
s_text_list (json_t *object, const char *name, size_t max, const char *(*known) (const char *) )
{
    json_t *list = json_object_get (object, name);
    if (!list)
        return true;
    if (!json_is_array (list) || json_array_size (list) > BN_LIST_MAX)
        return false;
    size_t index;
    json_t *item;
    json_array_foreach (list, index, item)
    {
        const char *text = json_string_value (item);
        if (!text || !br_note_valid (text, max) || (known && !known (text)))
            return false;
    }
    return true;
}

//  True if `list` (an array of strings) holds `text`.
static bool
s_list_has (json_t *list, const char *text)
{
    size_t index;
    json_t *item;
    json_array_foreach (list, index, item)
    {
        if (json_is_string (item) && streq (json_string_value (item), text))
            return true;
    }
    return false;
}

//  ---- Sending ----------------------------------------------------------------

//  Builds, signs and seals a casework message to `to` and puts it into the
//  outbox, or into the local queue if `to` is this node. `message_id`
//  receives its id.
static br_reason_t
s_send (bn_casework_t *self, MDB_txn *txn, Bruecke__MessageType type, const char *to,
        const char *service, const Bruecke__Attestation *attestation, const ProtobufCMessage *body,
        int64_t now, int64_t lifetime, uint8_t message_id[BR_MESSAGE_ID_SIZE])
{
    const Bruecke__RosterNode *recipient = br_roster_lookup_by_id (self->roster, to);
    if (!recipient)
        return BR_REASON_UNKNOWN_NODE;
    if (recipient->revoked)
        return BR_REASON_NODE_REVOKED;
    if (!br_roster_node_offers (recipient, service))
        return BR_REASON_NO_ROUTE;
    //  The sequence number is taken last: a message refused here uses none
    Bruecke__Header header;
    br_envelope_header_init (&header, message_id, type, br_identity_node_id (self->identity), to,
                             service, 0, now, lifetime);
    if (attestation) {
        br_reason_t reason = br_attestation_check (attestation, &header, now);
        if (reason == BR_REASON_OK)
            reason = br_catalogue_check (type, attestation);
        if (reason != BR_REASON_OK)
            return reason;
    }
    header.sequence = bn_store_next_sequence (self->store);
    zchunk_t *chunk = br_envelope_build (self->identity, &header, attestation, body,
                                         recipient->seal_public_key.data);
    //  Between two offices of this node it stays here: the node applies it
    //  from its local queue, with the checks of any delivery
    br_reason_t reason = streq (to, br_identity_node_id (self->identity))
                             ? bn_store_local_add (self->store, txn, &header, zchunk_data (chunk),
                                                   zchunk_size (chunk))
                             : bn_store_outbox_add (self->store, txn, &header, zchunk_data (chunk),
                                                    zchunk_size (chunk));
    zchunk_destroy (&chunk);
    return reason;
}

//  The start of an attestation's validity for a message sent now: it
//  reaches back by the tolerated clock skew, so that a recipient whose
//  clock is behind takes it, but never before `basis_from`, where its legal
//  basis begins.
static int64_t
s_valid_from (int64_t now, int64_t basis_from)
{
    int64_t from = now - BR_CLOCK_SKEW_MS;
    return from > basis_from ? from : basis_from;
}

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

//  Appends a history entry to a referral or transfer and sets its state.
static void
s_history_add (json_t *record, const char *state, int64_t at, const char *by, const char *reason,
               const char *text)
{
    json_t *entry = json_pack ("{ss sI ss}", "state", state, "at_ms", (json_int_t) at, "by", by);
    if (reason && *reason)
        json_object_set_new (entry, "reason", json_string (reason));
    if (text && *text)
        json_object_set_new (entry, "text", json_string (text));
    json_t *history = json_object_get (record, "history");
    if (!history) {
        history = json_array ();
        json_object_set_new (record, "history", history);
    }
    json_array_append_new (history, entry);
    json_object_set_new (record, "state", json_string (state));
}

//  Sends a REFERRAL_UPDATE about `referral` to its peer.
static br_reason_t
s_send_update (bn_casework_t *self, MDB_txn *txn, json_t *referral,
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
    int64_t until = bn_api_integer (referral, "valid_until_ms", 0);
    if (until <= now)
        return BR_REASON_CONSENT_EXPIRED;
    char *categories[] = {BR_CATALOGUE_CATEGORY_OUTCOME};
    uint8_t consent_id[BR_CONSENT_ID_SIZE];
    Bruecke__Attestation attestation;
    s_attestation_of (referral, &attestation, consent_id, categories, 1, to, service,
                      s_valid_from (now, 0), until);
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
    return s_send (self, txn, BRUECKE__MESSAGE_TYPE__TYPE_REFERRAL_UPDATE, to, service,
                   &attestation, &update.base, now, lifetime, message_id);
}

//  ---- Cases ------------------------------------------------------------------

//  The member of `members` named `name`, or NULL.
static json_t *
s_member (json_t *members, const char *name)
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
        return bn_api_refuse (call, BR_REASON_MALFORMED, "members: 1..64 of {name, role, age}");
    size_t index;
    json_t *member;
    json_array_foreach (members, index, member)
    {
        json_int_t age = bn_api_integer (member, "age", -1);
        const char *name = bn_api_text (member, "name", BN_NAME_MAX);
        if (!name || !bn_api_text (member, "role", BN_NAME_MAX) || age < 0 || age > 130)
            return bn_api_refuse (call, BR_REASON_MALFORMED,
                                  "members: item %zu needs a name, a role and an age 0..130",
                                  index);
        if (s_member (members, name) != member)
            return bn_api_refuse (call, BR_REASON_MALFORMED,
                                  "members: item %zu has the name of an earlier member", index);
    }
    json_array_foreach (members, index, member)
    {
        json_t *custody = json_object_get (member, "custody_for");
        size_t child_index;
        json_t *child;
        if (custody && !json_is_array (custody))
            return bn_api_refuse (call, BR_REASON_MALFORMED,
                                  "members: item %zu custody_for is a list of names", index);
        json_array_foreach (custody, child_index, child)
        {
            json_t *minor = s_member (members, json_string_value (child));
            if (!minor || minor == member || bn_api_integer (minor, "age", 0) >= BN_AGE_OF_MAJORITY)
                return bn_api_refuse (call, BR_REASON_MALFORMED,
                                      "members: item %zu custody_for names no minor member", index);
        }
    }
    return BR_REASON_OK;
}

static br_reason_t
s_case_create (bn_casework_t *self, MDB_txn *txn, bn_request_t *call, int64_t now)
{
    json_t *body = call->body;
    const char *kind = bn_api_text (body, "kind", 16);
    const char *service = bn_api_text (body, "service", BR_SERVICE_MAX);
    if (!kind || (!streq (kind, "family") && !streq (kind, "person")))
        return bn_api_refuse (call, BR_REASON_MALFORMED, "kind must be family or person");
    if (!service || !br_catalogue_service (service))
        return bn_api_refuse (call, BR_REASON_MALFORMED, "service must be a catalogue code");
    if (!s_office_here (self, service))
        return bn_api_refuse (call, BR_REASON_NO_ROUTE, "this node hosts no such office");
    if (!bn_routes_office_in (call->offices, service))
        return bn_api_refuse (call, BR_REASON_OFFICE_NOT_PERMITTED,
                              "you do not act for this office");
    br_reason_t refused = s_members_check (call, json_object_get (body, "members"));
    if (refused != BR_REASON_OK)
        return refused;
    if (!s_text_list (body, "needs", BN_TEXT_MAX, NULL) ||
        !s_text_list (body, "notes", BN_TEXT_MAX, NULL))
        return bn_api_refuse (call, BR_REASON_MALFORMED, "needs and notes are lists of text");
    json_t *details = json_object_get (body, "details");
    if (details && !json_is_object (details))
        return bn_api_refuse (call, BR_REASON_MALFORMED, "details is an object by data category");
    const char *category;
    json_t *value;
    json_object_foreach (details, category, value)
    {
        if (!br_catalogue_category (category) || !json_is_object (value))
            return bn_api_refuse (call, BR_REASON_MALFORMED,
                                  "details: an object per data category code");
        const char *keyword;
        json_t *text;
        json_object_foreach (value, keyword, text)
        {
            if (!br_line_valid (keyword, BN_NAME_MAX) || !json_is_string (text) ||
                !br_note_valid (json_string_value (text), BN_TEXT_MAX))
                return bn_api_refuse (call, BR_REASON_MALFORMED,
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
    br_reason_t reason = bn_casestore_put (self->records, txn, BN_CASESTORE_CASES, id, record);
    if (reason == BR_REASON_OK)
        reason = bn_casestore_event (self->records, txn, "case", id, "open", record, now);
    if (reason == BR_REASON_OK)
        reason = s_audit (self, txn, call->user, call->route->action, id, "", now);
    call->status = 201;
    call->result = record;
    return reason;
}

//  OK if the case `record` is in a state that allows `action` (br_states:
//  note, update, close, reopen, transfer, consent, refer); else refuses
//  INVALID_STATE.
static br_reason_t
s_case_allows (bn_request_t *call, json_t *record, const char *action)
{
    const char *state = json_string_value (json_object_get (record, "state"));
    if (br_case_allowed (state, action))
        return BR_REASON_OK;
    return bn_api_refuse (call, BR_REASON_INVALID_STATE,
                          "the case's state (%s) does not allow this", state ? state : "none");
}

//  Reads the case `hex` the caller may work, for `action`: its id into
//  `id` and a new reference in *record_p. Returns OK, or the refusal
//  (NOT_FOUND, OFFICE_NOT_PERMITTED; INVALID_STATE if the case's state does
//  not allow `action`).
static br_reason_t
s_case_to_change (bn_casework_t *self, MDB_txn *txn, bn_request_t *call, const char *hex,
                  const char *action, uint8_t id[BN_ID_SIZE], json_t **record_p)
{
    *record_p = NULL;
    if (!bn_casestore_id_parse (hex, id) ||
        bn_casestore_get (self->records, txn, BN_CASESTORE_CASES, id, record_p) != BR_REASON_OK)
        return bn_api_refuse (call, BR_REASON_NOT_FOUND, "no such case");
    br_reason_t reason = s_permit (call, *record_p);
    if (reason == BR_REASON_OK)
        reason = s_case_allows (call, *record_p, action);
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
s_case_changed (bn_casework_t *self, MDB_txn *txn, bn_request_t *call, const uint8_t *id,
                json_t *record, const char *detail, int64_t now)
{
    json_object_set_new (record, "updated_at_ms", json_integer (now));
    br_reason_t reason = bn_casestore_put (self->records, txn, BN_CASESTORE_CASES, id, record);
    if (reason == BR_REASON_OK)
        reason =
            bn_casestore_event (self->records, txn, "case", id,
                                json_string_value (json_object_get (record, "state")), record, now);
    if (reason == BR_REASON_OK)
        reason = s_audit (self, txn, call->user, call->route->action, id, detail, now);
    call->result = record;
    return reason;
}

//  POST /v1/cases/{id}/notes: a note, appended for good with its author
//  and time (the journal: notes are never changed or removed).
static br_reason_t
s_case_note (bn_casework_t *self, MDB_txn *txn, bn_request_t *call, const char *hex, int64_t now)
{
    uint8_t id[BN_ID_SIZE];
    json_t *record = NULL;
    br_reason_t reason = s_case_to_change (self, txn, call, hex, "note", id, &record);
    if (reason != BR_REASON_OK)
        return reason;
    json_t *journal = json_object_get (record, "journal");
    if (!json_is_array (journal)) {
        journal = json_array ();
        json_object_set_new (record, "journal", journal);
    }
    if (json_array_size (journal) >= BN_JOURNAL_MAX) {
        json_decref (record);
        return bn_api_refuse (call, BR_REASON_TOO_LARGE, "the case holds %d notes already",
                              BN_JOURNAL_MAX);
    }
    json_array_append_new (journal,
                           json_pack ("{sO sI ss}", "text", json_object_get (call->body, "text"),
                                      "at_ms", (json_int_t) now, "by", call->user));
    call->status = 201;
    return s_case_changed (self, txn, call, id, record, "", now);
}

//  PATCH /v1/cases/{id}: corrects members and needs, sets the Lotse, the
//  caseworker, the follow-up date (Wiedervorlage) or the reference of the
//  town's own software; null clears the last four. Each change goes into
//  the case's history with what was there before.
static br_reason_t
s_case_update (bn_casework_t *self, MDB_txn *txn, bn_request_t *call, const char *hex, int64_t now)
{
    json_t *body = call->body;
    if (json_object_size (body) == 0)
        return bn_api_refuse (call, BR_REASON_MALFORMED, "nothing to change");
    br_reason_t reason = BR_REASON_OK;
    if (json_object_get (body, "members"))
        reason = s_members_check (call, json_object_get (body, "members"));
    if (reason != BR_REASON_OK)
        return reason;
    uint8_t id[BN_ID_SIZE];
    json_t *record = NULL;
    reason = s_case_to_change (self, txn, call, hex, "update", id, &record);
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
    return s_case_changed (self, txn, call, id, record, changed, now);
}

//  POST /v1/cases/{id}/close and /reopen: the office ends its work with the
//  family, giving a reason from the catalogue, or takes it up again.
static br_reason_t
s_case_close (bn_casework_t *self, MDB_txn *txn, bn_request_t *call, const char *hex, bool close,
              int64_t now)
{
    const char *why = bn_api_text (call->body, "reason", S_REASON_MAX);
    if (close && !br_catalogue_close_reason (why))
        return bn_api_refuse (call, BR_REASON_MALFORMED,
                              "reason: goal-reached, moved-away, other-office, help-declined, "
                              "no-contact or other");
    uint8_t id[BN_ID_SIZE];
    json_t *record = NULL;
    br_reason_t reason =
        s_case_to_change (self, txn, call, hex, close ? "close" : "reopen", id, &record);
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
    return s_case_changed (self, txn, call, id, record, close ? why : "", now);
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
        !s_sees (follow_ups->call, record) ||
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
static br_reason_t
s_follow_ups (bn_casework_t *self, MDB_txn *txn, bn_request_t *call, int64_t now)
{
    s_follow_ups_t follow_ups = {
        .call = call,
        .list = json_array (),
        .caseworker = json_string_value (json_object_get (call->query, "caseworker")),
        .now = now};
    br_reason_t reason =
        bn_casestore_each (self->records, txn, BN_CASESTORE_CASES, s_follow_up_entry, &follow_ups);
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
        reason = s_audit (self, txn, call->user, call->route->action, NULL, "", now);
    call->result = json_pack ("{so sI}", "follow_ups", follow_ups.list, "at_ms", (json_int_t) now);
    return reason;
}

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
    if (!s_sees (listing->call, record))
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
s_list (bn_casework_t *self, MDB_txn *txn, bn_request_t *call, bn_casestore_table_t table,
        const char *name, int64_t now)
{
    json_t *list = json_array ();
    s_listing_t listing = {.call = call,
                           .list = list,
                           .case_id = json_string_value (json_object_get (call->query, "case_id")),
                           .name = json_string_value (json_object_get (call->query, "name"))};
    if (listing.name && !br_line_valid (listing.name, BN_NAME_MAX)) {
        json_decref (list);
        return bn_api_refuse (call, BR_REASON_MALFORMED, "name is 1 to %d characters", BN_NAME_MAX);
    }
    br_reason_t reason = bn_casestore_each (self->records, txn, table, s_list_entry, &listing);
    char detail[64] = "";
    if (listing.name) {
        char tag[2 * BN_VAULT_TAG_SIZE + 1];
        bn_vault_tag (self->vault, listing.name, strlen (listing.name), tag);
        snprintf (detail, sizeof (detail), "search %s", tag);
    }
    if (reason == BR_REASON_OK)
        reason = s_audit (self, txn, call->user,
                          listing.name ? "cases.search" : call->route->action, NULL, detail, now);
    call->result = json_pack ("{so}", name, list);
    return reason;
}

//  Reads one record for the API, and records the read.
static br_reason_t
s_show (bn_casework_t *self, MDB_txn *txn, bn_request_t *call, bn_casestore_table_t table,
        const char *hex, const char *action, int64_t now)
{
    uint8_t id[BN_ID_SIZE];
    if (!bn_casestore_id_parse (hex, id))
        return bn_api_refuse (call, BR_REASON_NOT_FOUND, "no such record");
    json_t *record = NULL;
    br_reason_t reason = bn_casestore_get (self->records, txn, table, id, &record);
    if (reason == BR_REASON_NOT_FOUND)
        return bn_api_refuse (call, reason, "no such record");
    if (reason == BR_REASON_OK)
        reason = s_permit (call, record);
    if (reason == BR_REASON_OK)
        reason = s_audit (self, txn, call->user, action, id, "", now);
    call->result = record;
    return reason;
}

//  ---- Consents ---------------------------------------------------------------

//  Resolves {ags, service} through the roster into `resolved` (adds "node").
static br_reason_t
s_resolve (bn_casework_t *self, bn_request_t *call, json_t *address, json_t **resolved)
{
    const char *ags = bn_api_text (address, "ags", 8);
    const char *service = bn_api_text (address, "service", BR_SERVICE_MAX);
    if (!ags || !br_ags_valid (ags, 8) || !service || !br_catalogue_service (service))
        return bn_api_refuse (call, BR_REASON_MALFORMED,
                              "an address is {ags: 8 digits, service: code}");
    br_reason_t reason;
    const Bruecke__RosterNode *node = br_roster_lookup_route (self->roster, ags, service, &reason);
    if (!node)
        return bn_api_refuse (call, reason, "no node is responsible for this (AGS, service)");
    *resolved = json_pack ("{ss ss ss}", "ags", ags, "service", service, "node", node->node_id);
    return BR_REASON_OK;
}

//  Checks who consents for whom, and for how long, before anything else
//  of a consent: the grantor and every subject are members of the case
//  (`members`); the grantor is of age, or a parent marked as holding
//  custody (custody_for); every subject other than the grantor is a minor
//  the grantor holds custody for (another adult consents for themself);
//  the validity starts no earlier than
//  now (less the clock skew), lasts at most what the county allows, and
//  has not ended. Returns OK or the refusal, with its own reason each.
static br_reason_t
s_consent_check (bn_casework_t *self, bn_request_t *call, json_t *members, int64_t now)
{
    json_t *body = call->body;
    const char *grantor_name = bn_api_text (body, "grantor", BN_NAME_MAX);
    json_t *subjects = json_object_get (body, "subjects");
    json_int_t from = bn_api_integer (body, "valid_from_ms", now);
    json_int_t until = bn_api_integer (body, "valid_until_ms", -1);
    if (!grantor_name)
        return bn_api_refuse (call, BR_REASON_MALFORMED, "grantor: the name of a member");
    if (!s_text_list (body, "subjects", BN_NAME_MAX, NULL) || !json_array_size (subjects))
        return bn_api_refuse (call, BR_REASON_MALFORMED, "subjects: the people the data is about");
    if (from < 0 || until <= from)
        return bn_api_refuse (call, BR_REASON_MALFORMED, "valid_from_ms < valid_until_ms required");
    json_t *grantor = s_member (members, grantor_name);
    if (!grantor)
        return bn_api_refuse (call, BR_REASON_GRANTOR_NOT_MEMBER,
                              "grantor: not a member of the case");
    json_t *custody = json_object_get (grantor, "custody_for");
    if (bn_api_integer (grantor, "age", 0) < BN_AGE_OF_MAJORITY && !json_array_size (custody))
        return bn_api_refuse (call, BR_REASON_GRANTOR_NOT_ENTITLED,
                              "grantor: a minor consents only as a parent holding custody");
    size_t index;
    json_t *subject;
    json_array_foreach (subjects, index, subject)
    {
        const char *name = json_string_value (subject);
        json_t *member = s_member (members, name);
        if (!member)
            return bn_api_refuse (call, BR_REASON_SUBJECT_NOT_MEMBER,
                                  "subjects: item %zu is not a member of the case", index);
        //  Another adult consents for themself, a child through its custodian
        if (member != grantor && (bn_api_integer (member, "age", 0) >= BN_AGE_OF_MAJORITY ||
                                  !s_list_has (custody, name)))
            return bn_api_refuse (call, BR_REASON_GRANTOR_NOT_ENTITLED,
                                  "subjects: item %zu is another adult, or a minor the grantor "
                                  "holds no custody for",
                                  index);
    }
    if (from < now - BR_CLOCK_SKEW_MS)
        return bn_api_refuse (call, BR_REASON_CONSENT_BACKDATED,
                              "valid_from_ms: not before the consent is recorded");
    if (until - from > br_roster_consent_max_ms (self->roster))
        return bn_api_refuse (call, BR_REASON_CONSENT_TOO_LONG,
                              "valid_until_ms: at most %lld days after valid_from_ms",
                              (long long) (br_roster_consent_max_ms (self->roster) / 86400000));
    if (until <= now)
        return bn_api_refuse (call, BR_REASON_CONSENT_EXPIRED, "valid_until_ms: already passed");
    return BR_REASON_OK;
}

static br_reason_t
s_consent_record (bn_casework_t *self, MDB_txn *txn, bn_request_t *call, int64_t now)
{
    json_t *body = call->body;
    uint8_t case_id[BN_ID_SIZE];
    json_t *found = NULL;
    if (!bn_casestore_id_parse (bn_api_text (body, "case_id", BN_ID_HEX), case_id) ||
        bn_casestore_get (self->records, txn, BN_CASESTORE_CASES, case_id, &found) != BR_REASON_OK)
        return bn_api_refuse (call, BR_REASON_NOT_FOUND, "case_id names no case");
    br_reason_t permitted = s_permit (call, found);
    if (permitted == BR_REASON_OK)
        permitted = s_case_allows (call, found, "consent");
    char office[BR_SERVICE_MAX + 1];
    snprintf (office, sizeof (office), "%s",
              permitted == BR_REASON_OK ? bn_casestore_office (found) : "");
    json_t *members = json_incref (json_object_get (found, "members"));
    json_decref (found);
    if (permitted == BR_REASON_OK)
        permitted = s_consent_check (self, call, members, now);
    json_decref (members);
    if (permitted != BR_REASON_OK)
        return permitted;
    const char *grantor = bn_api_text (body, "grantor", BN_NAME_MAX);
    const char *purpose = bn_api_text (body, "purpose", BR_PURPOSE_MAX);
    const char *form = bn_api_text (body, "form", 16);
    const char *evidence = bn_api_text (body, "evidence_sha256", S_SHA256_HEX);
    json_int_t from = bn_api_integer (body, "valid_from_ms", now);
    json_int_t until = bn_api_integer (body, "valid_until_ms", -1);
    json_t *health = json_object_get (body, "health_data");
    json_t *categories = json_object_get (body, "categories");
    json_t *recipients = json_object_get (body, "recipients");
    uint8_t digest[32];
    if (!grantor)
        return bn_api_refuse (call, BR_REASON_MALFORMED, "grantor is required");
    if (!purpose || !br_catalogue_purpose_consentable (purpose))
        return bn_api_refuse (call, BR_REASON_PURPOSE_MISMATCH,
                              "purpose is not one a consent covers");
    if (!form || (!streq (form, "written") && !streq (form, "electronic")))
        return bn_api_refuse (call, BR_REASON_MALFORMED, "form must be written or electronic");
    if (!evidence || strlen (evidence) != S_SHA256_HEX ||
        br_hex_decode (evidence, digest, sizeof (digest)) != 0)
        return bn_api_refuse (call, BR_REASON_MALFORMED, "evidence_sha256: 64 hex digits");
    if (!json_is_array (categories) || json_array_size (categories) == 0 ||
        json_array_size (categories) > BR_CATEGORIES_MAX ||
        !s_text_list (body, "categories", BR_CATEGORY_MAX, br_catalogue_category))
        return bn_api_refuse (call, BR_REASON_MALFORMED, "categories: catalogue codes");
    if (s_list_has (categories, BR_CATALOGUE_CATEGORY_HEALTH) && !json_is_true (health))
        return bn_api_refuse (call, BR_REASON_CATEGORY_NOT_COVERED,
                              "health data needs the explicit health_data flag");
    if (!json_is_array (recipients) || json_array_size (recipients) == 0 ||
        json_array_size (recipients) > BN_LIST_MAX)
        return bn_api_refuse (call, BR_REASON_MALFORMED, "recipients: a list of {ags, service}");
    json_t *resolved_list = json_array ();
    size_t index;
    json_t *address;
    br_reason_t reason = BR_REASON_OK;
    json_array_foreach (recipients, index, address)
    {
        json_t *resolved = NULL;
        reason = s_resolve (self, call, address, &resolved);
        if (reason != BR_REASON_OK)
            break;
        json_array_append_new (resolved_list, resolved);
    }
    if (reason != BR_REASON_OK) {
        json_decref (resolved_list);
        return reason;
    }
    uint8_t id[BN_ID_SIZE];
    randombytes_buf (id, sizeof (id));
    char hex[BN_ID_HEX];
    bn_casestore_hex (id, hex);
    json_t *record =
        json_pack ("{ss ss ss sO ss sO so sI sI ss ss sb ss sI}", "id", hex, "case_id",
                   bn_api_text (body, "case_id", BN_ID_HEX), "grantor", grantor, "subjects",
                   json_object_get (body, "subjects"), "purpose", purpose, "categories", categories,
                   "recipients", resolved_list, "valid_from_ms", from, "valid_until_ms", until,
                   "form", form, "evidence_sha256", evidence, "health_data", json_is_true (health),
                   "status", "active", "recorded_at_ms", (json_int_t) now);
    json_object_set_new (record, "office", json_string (office));
    reason = bn_casestore_put (self->records, txn, BN_CASESTORE_CONSENTS, id, record);
    if (reason == BR_REASON_OK)
        reason = bn_casestore_event (self->records, txn, "consent", id, "active", record, now);
    if (reason == BR_REASON_OK)
        reason = s_audit (self, txn, call->user, call->route->action, id, "", now);
    call->status = 201;
    call->result = record;
    return reason;
}

//  A consent as shown: its status reflects expiry.
static void
s_consent_status (json_t *consent, int64_t now)
{
    const char *status = json_string_value (json_object_get (consent, "status"));
    if (status && streq (status, "active") && bn_api_integer (consent, "valid_until_ms", 0) <= now)
        json_object_set_new (consent, "status", json_string ("expired"));
}

//  Cancels an outgoing referral under a withdrawn consent.
typedef struct {
    bn_casework_t *self;     //  the casework
    const char *consent_hex; //  the consent
    const char *node;        //  withdrawn for this node
    const char *service;     //  ... and service (NULL = any)
    const char *peer_node;   //  incoming side: the referring node
    bool incoming;           //  which side's referrals
    const char *by;          //  who withdrew
    int64_t now;             //  when
} s_withdrawal_t;

static br_reason_t
s_cancel_withdrawn (MDB_txn *txn, const uint8_t *id, json_t *referral, void *argument)
{
    s_withdrawal_t *withdrawal = (s_withdrawal_t *) argument;
    bn_casework_t *self = withdrawal->self;
    json_t *peer = json_object_get (referral, "peer");
    const char *consent = json_string_value (json_object_get (referral, "consent_id"));
    const char *direction = json_string_value (json_object_get (referral, "direction"));
    const char *node = json_string_value (json_object_get (peer, "node"));
    const char *service = json_string_value (json_object_get (peer, "service"));
    const br_referral_state_t *state =
        br_referral_state (json_string_value (json_object_get (referral, "state")));
    if (!consent || !streq (consent, withdrawal->consent_hex) || !direction ||
        streq (direction, "incoming") != withdrawal->incoming || !state || state->final)
        return BR_REASON_OK;
    if (!withdrawal->incoming && (!node || !streq (node, withdrawal->node) ||
                                  (withdrawal->service && !streq (service, withdrawal->service))))
        return BR_REASON_OK;
    if (withdrawal->incoming && (!node || !streq (node, withdrawal->peer_node)))
        return BR_REASON_OK;
    s_history_add (referral, "cancelled", withdrawal->now, withdrawal->by, "CONSENT_WITHDRAWN",
                   withdrawal->incoming ? "consent withdrawn: processing stopped" : "");
    json_object_set_new (referral, "processing_stopped", json_true ());
    json_object_set_new (referral, "updated_at_ms", json_integer (withdrawal->now));
    br_reason_t reason =
        bn_casestore_put (self->records, txn, BN_CASESTORE_REFERRALS, id, referral);
    if (reason == BR_REASON_OK)
        reason = bn_casestore_event (self->records, txn, "referral", id, "cancelled", referral,
                                     withdrawal->now);
    return reason;
}

static br_reason_t
s_consent_withdraw (bn_casework_t *self, MDB_txn *txn, bn_request_t *call, const char *hex,
                    int64_t now)
{
    uint8_t id[BN_ID_SIZE];
    json_t *consent = NULL;
    if (!bn_casestore_id_parse (hex, id) ||
        bn_casestore_get (self->records, txn, BN_CASESTORE_CONSENTS, id, &consent) != BR_REASON_OK)
        return bn_api_refuse (call, BR_REASON_NOT_FOUND, "no such consent");
    br_reason_t permitted = s_permit (call, consent);
    if (permitted != BR_REASON_OK) {
        json_decref (consent);
        return permitted;
    }
    json_t *only = call->body ? json_object_get (call->body, "recipients") : NULL;
    if (only && !json_is_array (only)) {
        json_decref (consent);
        return bn_api_refuse (call, BR_REASON_MALFORMED, "recipients: a list of {ags, service}");
    }
    br_reason_t reason = BR_REASON_OK;
    size_t withdrawn_now = 0, withdrawn_all = 0, index;
    json_t *recipient;
    json_t *recipients = json_object_get (consent, "recipients");
    json_array_foreach (recipients, index, recipient)
    {
        const char *ags = json_string_value (json_object_get (recipient, "ags"));
        const char *service = json_string_value (json_object_get (recipient, "service"));
        const char *node = json_string_value (json_object_get (recipient, "node"));
        bool chosen = !only;
        size_t other;
        json_t *address;
        json_array_foreach (only, other, address)
        {
            const char *want_ags = json_string_value (json_object_get (address, "ags"));
            const char *want_service = json_string_value (json_object_get (address, "service"));
            if (want_ags && want_service && streq (want_ags, ags) && streq (want_service, service))
                chosen = true;
        }
        if (json_object_get (recipient, "withdrawn_at_ms")) {
            withdrawn_all++;
            continue;
        }
        if (!chosen || reason != BR_REASON_OK)
            continue;
        json_object_set_new (recipient, "withdrawn_at_ms", json_integer (now));
        withdrawn_now++;
        withdrawn_all++;
        s_withdrawal_t withdrawal = {.self = self,
                                     .consent_hex = hex,
                                     .node = node,
                                     .service = service,
                                     .incoming = false,
                                     .by = call->user,
                                     .now = now};
        reason = bn_casestore_each (self->records, txn, BN_CASESTORE_REFERRALS, s_cancel_withdrawn,
                                    &withdrawal);
        //  The recipient and the broker learn of it by a signed message
        Bruecke__ConsentWithdrawal body = BRUECKE__CONSENT_WITHDRAWAL__INIT;
        body.consent_id.data = id;
        body.consent_id.len = BN_ID_SIZE;
        body.withdrawn_at_ms = now;
        uint8_t message_id[BR_MESSAGE_ID_SIZE];
        if (reason == BR_REASON_OK)
            reason = s_send (self, txn, BRUECKE__MESSAGE_TYPE__TYPE_CONSENT_WITHDRAWAL, node,
                             service, NULL, &body.base, now, BN_MESSAGE_LIFETIME_MS, message_id);
    }
    if (reason == BR_REASON_OK && withdrawn_now == 0) {
        json_decref (consent);
        return bn_api_refuse (call, BR_REASON_INVALID_STATE, "nothing left to withdraw");
    }
    if (withdrawn_all == json_array_size (recipients)) {
        json_object_set_new (consent, "status", json_string ("withdrawn"));
        json_object_set_new (consent, "withdrawn_at_ms", json_integer (now));
    }
    if (reason == BR_REASON_OK)
        reason = bn_casestore_put (self->records, txn, BN_CASESTORE_CONSENTS, id, consent);
    if (reason == BR_REASON_OK)
        reason = bn_casestore_event (self->records, txn, "consent", id, "withdrawn", consent, now);
    if (reason == BR_REASON_OK)
        reason = s_audit (self, txn, call->user, call->route->action, id, "", now);
    call->result = consent;
    return reason;
}

//  POST /v1/consents/{id}/form: the signed form (a scan or PDF), kept sealed
//  with the consent. It must be the document whose digest the consent
//  recorded (EVIDENCE_MISMATCH); once stored it stays (INVALID_STATE).
static br_reason_t
s_consent_form_store (bn_casework_t *self, MDB_txn *txn, bn_request_t *call, const char *hex,
                      int64_t now)
{
    uint8_t id[BN_ID_SIZE];
    json_t *consent = NULL;
    if (!bn_casestore_id_parse (hex, id) ||
        bn_casestore_get (self->records, txn, BN_CASESTORE_CONSENTS, id, &consent) != BR_REASON_OK)
        return bn_api_refuse (call, BR_REASON_NOT_FOUND, "no such consent");
    call->result = consent;
    br_reason_t reason = s_permit (call, consent);
    if (reason != BR_REASON_OK)
        return reason;
    const char *type = bn_api_text (call->body, "content_type", 32);
    if (!type || (!streq (type, "application/pdf") && !streq (type, "image/png") &&
                  !streq (type, "image/jpeg")))
        return bn_api_refuse (call, BR_REASON_MALFORMED,
                              "content_type: application/pdf, image/png or image/jpeg");
    const char *text = json_string_value (json_object_get (call->body, "data"));
    size_t size = 0;
    uint8_t *bytes = (uint8_t *) malloc (BN_FORM_MAX + 3);
    assert (bytes);
    if (!text ||
        sodium_base642bin (bytes, BN_FORM_MAX + 3, text, strlen (text), NULL, &size, NULL,
                           sodium_base64_VARIANT_ORIGINAL) != 0 ||
        size == 0 || size > BN_FORM_MAX) {
        free (bytes);
        return bn_api_refuse (call, BR_REASON_MALFORMED, "data: 1 byte to %d KiB in base64",
                              BN_FORM_MAX / 1024);
    }
    uint8_t digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256 (digest, bytes, size);
    char digest_hex[2 * crypto_hash_sha256_BYTES + 1];
    br_hex_encode (digest, sizeof (digest), digest_hex);
    const char *recorded = json_string_value (json_object_get (consent, "evidence_sha256"));
    if (json_is_true (json_object_get (consent, "form_stored")))
        reason = bn_api_refuse (call, BR_REASON_INVALID_STATE, "the signed form is stored already");
    else if (!recorded || strcasecmp (recorded, digest_hex) != 0)
        reason = bn_api_refuse (call, BR_REASON_EVIDENCE_MISMATCH,
                                "the form's SHA-256 is not the consent's evidence_sha256");
    if (reason == BR_REASON_OK) {
        Bruecke__Store__SignedForm form = BRUECKE__STORE__SIGNED_FORM__INIT;
        form.content_type = (char *) type;
        form.has_data = true;
        form.data.data = bytes;
        form.data.len = size;
        zchunk_t *plain = br_proto_encode (&form.base);
        reason = bn_casestore_seal (self->records, txn, BN_CASESTORE_FORMS, id, zchunk_data (plain),
                                    zchunk_size (plain));
        sodium_memzero (zchunk_data (plain), zchunk_size (plain));
        zchunk_destroy (&plain);
    }
    sodium_memzero (bytes, size);
    free (bytes);
    if (reason == BR_REASON_OK) {
        json_object_set_new (consent, "form_stored", json_true ());
        json_object_set_new (consent, "form_type", json_string (type));
        json_object_set_new (consent, "form_size", json_integer ((json_int_t) size));
        reason = bn_casestore_put (self->records, txn, BN_CASESTORE_CONSENTS, id, consent);
    }
    if (reason == BR_REASON_OK)
        reason = s_audit (self, txn, call->user, call->route->action, id, "", now);
    call->status = 201;
    return reason;
}

//  GET /v1/consents/{id}/form: the signed form, for the consent's office.
static br_reason_t
s_consent_form_read (bn_casework_t *self, MDB_txn *txn, bn_request_t *call, const char *hex,
                     int64_t now)
{
    uint8_t id[BN_ID_SIZE];
    json_t *consent = NULL;
    if (!bn_casestore_id_parse (hex, id) ||
        bn_casestore_get (self->records, txn, BN_CASESTORE_CONSENTS, id, &consent) != BR_REASON_OK)
        return bn_api_refuse (call, BR_REASON_NOT_FOUND, "no such consent");
    br_reason_t reason = s_permit (call, consent);
    json_decref (consent);
    if (reason != BR_REASON_OK)
        return reason;
    zchunk_t *plain = NULL;
    reason = bn_casestore_open (self->records, txn, BN_CASESTORE_FORMS, id, &plain);
    if (reason == BR_REASON_NOT_FOUND)
        return bn_api_refuse (call, reason, "no signed form is stored for this consent");
    Bruecke__Store__SignedForm *form = NULL;
    if (reason == BR_REASON_OK)
        form = (Bruecke__Store__SignedForm *) br_proto_decode (
            &bruecke__store__signed_form__descriptor, zchunk_data (plain), zchunk_size (plain),
            BN_RECORD_MAX, &reason);
    if (reason == BR_REASON_MALFORMED ||
        (reason == BR_REASON_OK && (!form->content_type || !form->has_data)))
        reason = BR_REASON_DECRYPT_FAILED; //  not what s_consent_form_store sealed: broken
    if (reason == BR_REASON_OK) {
        size_t size = form->data.len;
        size_t text_size = sodium_base64_ENCODED_LEN (size, sodium_base64_VARIANT_ORIGINAL);
        char *text = (char *) malloc (text_size);
        assert (text);
        sodium_bin2base64 (text, text_size, form->data.data, size, sodium_base64_VARIANT_ORIGINAL);
        uint8_t digest[crypto_hash_sha256_BYTES];
        crypto_hash_sha256 (digest, form->data.data, size);
        char digest_hex[2 * crypto_hash_sha256_BYTES + 1];
        br_hex_encode (digest, sizeof (digest), digest_hex);
        call->result = json_pack ("{ss ss ss sI}", "content_type", form->content_type, "data", text,
                                  "sha256", digest_hex, "size", (json_int_t) size);
        sodium_memzero (text, text_size);
        free (text);
        reason = s_audit (self, txn, call->user, call->route->action, id, "", now);
    }
    if (form)
        sodium_memzero (form->data.data, form->data.len);
    br_proto_free ((ProtobufCMessage **) &form);
    if (plain)
        sodium_memzero (zchunk_data (plain), zchunk_size (plain));
    zchunk_destroy (&plain);
    return reason;
}

//  ---- Referrals ----------------------------------------------------------------

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
//  and the sections' contents are the caller's (s_sections_free).
static Bruecke__DataSection **
s_sections (json_t *record, json_t *categories, size_t *count, char ***codes_p)
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

static void
s_sections_free (Bruecke__DataSection **sections, size_t count, char **codes)
{
    free (codes);
    for (size_t index = 0; index < count; index++) {
        sodium_memzero (sections[index]->content, strlen (sections[index]->content));
        free (sections[index]->content);
        free (sections[index]);
    }
    free (sections);
}

//  Checks a referral's consent: the case, purpose, recipient, validity and
//  categories it covers. Returns OK, or the refusal with call->detail.
static br_reason_t
s_check_consent (bn_request_t *call, json_t *consent, const char *case_hex, const char *purpose,
                 const char *node, const char *service, json_t *categories, int64_t now)
{
    const char *consent_case = json_string_value (json_object_get (consent, "case_id"));
    if (!consent_case || !streq (consent_case, case_hex))
        return bn_api_refuse (call, BR_REASON_CONSENT_MISSING, "the consent is for another case");
    if (streq (json_string_value (json_object_get (consent, "status")), "withdrawn"))
        return bn_api_refuse (call, BR_REASON_CONSENT_WITHDRAWN, "the consent was withdrawn");
    if (!streq (json_string_value (json_object_get (consent, "purpose")), purpose))
        return bn_api_refuse (call, BR_REASON_PURPOSE_MISMATCH,
                              "the consent is for another purpose");
    json_t *match = NULL;
    size_t index;
    json_t *recipient;
    json_array_foreach (json_object_get (consent, "recipients"), index, recipient)
    {
        const char *consent_node = json_string_value (json_object_get (recipient, "node"));
        const char *consent_service = json_string_value (json_object_get (recipient, "service"));
        if (consent_node && consent_service && streq (consent_node, node) &&
            streq (consent_service, service))
            match = recipient;
    }
    if (!match)
        return bn_api_refuse (call, BR_REASON_RECIPIENT_MISMATCH,
                              "the consent does not name this recipient");
    if (json_object_get (match, "withdrawn_at_ms"))
        return bn_api_refuse (call, BR_REASON_CONSENT_WITHDRAWN,
                              "the consent was withdrawn for this recipient");
    if (now < bn_api_integer (consent, "valid_from_ms", 0) ||
        now >= bn_api_integer (consent, "valid_until_ms", 0))
        return bn_api_refuse (call, BR_REASON_CONSENT_EXPIRED, "the consent is not valid now");
    json_t *covered = json_object_get (consent, "categories");
    json_t *category;
    json_array_foreach (categories, index, category)
    {
        if (!s_list_has (covered, json_string_value (category)))
            return bn_api_refuse (call, BR_REASON_CATEGORY_NOT_COVERED,
                                  "the consent does not cover a data category asked for");
    }
    return BR_REASON_OK;
}

static br_reason_t
s_referral_send (bn_casework_t *self, MDB_txn *txn, bn_request_t *call, int64_t now)
{
    json_t *body = call->body;
    const char *case_hex = bn_api_text (body, "case_id", BN_ID_HEX);
    const char *purpose = bn_api_text (body, "purpose", BR_PURPOSE_MAX);
    const char *service = bn_api_text (body, "service", BR_SERVICE_MAX);
    const char *consent_hex = bn_api_text (body, "consent_id", BN_ID_HEX);
    const char *statute = bn_api_text (body, "statute", BR_STATUTE_MAX);
    const char *note = json_string_value (json_object_get (body, "note"));
    json_t *categories = json_object_get (body, "categories");
    uint8_t case_id[BN_ID_SIZE];
    json_t *record = NULL;
    if (!bn_casestore_id_parse (case_hex, case_id) ||
        bn_casestore_get (self->records, txn, BN_CASESTORE_CASES, case_id, &record) != BR_REASON_OK)
        return bn_api_refuse (call, BR_REASON_NOT_FOUND, "case_id names no case");
    br_reason_t reason = s_permit (call, record);
    json_t *consent = NULL;
    json_t *recipient = NULL;
    if (reason != BR_REASON_OK)
        ; //  another office's case
    else if ((reason = s_case_allows (call, record, "refer")) != BR_REASON_OK)
        ; //  closed, or handed over
    else if (!service || !br_catalogue_service (service))
        reason = bn_api_refuse (call, BR_REASON_MALFORMED, "service: the referring office's code");
    else if (!streq (service, bn_casestore_office (record)))
        reason = bn_api_refuse (call, BR_REASON_FORBIDDEN,
                                "service: a case is referred by its own office");
    else if (!purpose || !br_catalogue_purpose (purpose))
        reason = bn_api_refuse (call, BR_REASON_PURPOSE_MISMATCH, "purpose: a catalogue code");
    else if (note && !br_note_valid (note, BN_TEXT_MAX))
        reason = bn_api_refuse (call, BR_REASON_MALFORMED, "note: text of 1 to 4000 characters");
    else if (!json_is_array (categories) || json_array_size (categories) == 0 ||
             json_array_size (categories) > BR_CATEGORIES_MAX ||
             !s_text_list (body, "categories", BR_CATEGORY_MAX, br_catalogue_category))
        reason = bn_api_refuse (call, BR_REASON_MALFORMED, "categories: catalogue codes");
    else if (!consent_hex && !statute)
        reason = bn_api_refuse (call, BR_REASON_CONSENT_MISSING,
                                "personal data needs a consent_id or a statute");
    else if (consent_hex && statute)
        reason =
            bn_api_refuse (call, BR_REASON_MALFORMED, "give a consent_id or a statute, not both");
    if (reason == BR_REASON_OK)
        reason = s_resolve (self, call, json_object_get (body, "recipient"), &recipient);
    const char *to = json_string_value (json_object_get (recipient, "node"));
    const char *to_service = json_string_value (json_object_get (recipient, "service"));
    uint8_t consent_id[BN_ID_SIZE];
    int64_t until = now + BN_MESSAGE_LIFETIME_MS;
    if (reason == BR_REASON_OK && consent_hex) {
        if (!bn_casestore_id_parse (consent_hex, consent_id) ||
            bn_casestore_get (self->records, txn, BN_CASESTORE_CONSENTS, consent_id, &consent) !=
                BR_REASON_OK)
            reason = bn_api_refuse (call, BR_REASON_CONSENT_MISSING, "consent_id names no consent");
        else
            reason =
                s_check_consent (call, consent, case_hex, purpose, to, to_service, categories, now);
        if (reason == BR_REASON_OK)
            until = bn_api_integer (consent, "valid_until_ms", now);
        if (reason == BR_REASON_OK && s_list_has (categories, BR_CATALOGUE_CATEGORY_HEALTH) &&
            !json_is_true (json_object_get (consent, "health_data")))
            reason = bn_api_refuse (call, BR_REASON_CATEGORY_NOT_COVERED,
                                    "the consent does not cover health data");
    } else if (reason == BR_REASON_OK) {
        if (!br_catalogue_statute (statute) || !br_catalogue_statute_allows (statute, purpose) ||
            streq (purpose, BR_CATALOGUE_PURPOSE_CASE_TRANSFER))
            reason = bn_api_refuse (call, BR_REASON_PURPOSE_MISMATCH,
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
        s_history_add (referral, "requested", now, call->user, NULL, NULL);
        //  The message: the case's sections for the categories asked for
        size_t count;
        char **codes = NULL;
        Bruecke__DataSection **sections = s_sections (record, categories, &count, &codes);
        uint8_t attestation_consent[BR_CONSENT_ID_SIZE];
        Bruecke__Attestation attestation;
        s_attestation_of (
            referral, &attestation, attestation_consent, codes, count, to, to_service,
            s_valid_from (now, consent ? bn_api_integer (consent, "valid_from_ms", 0) : 0), until);
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
        reason = s_send (self, txn, BRUECKE__MESSAGE_TYPE__TYPE_REFERRAL, to, to_service,
                         &attestation, &message.base, now, lifetime, message_id);
        if (reason != BR_REASON_OK && reason != BR_REASON_STORE_FULL &&
            reason != BR_REASON_STORE_FAILED)
            bn_api_refuse (call, reason, "the message could not be built");
        s_sections_free (sections, count, codes);
        if (reason == BR_REASON_OK) {
            char message_hex[2 * BR_MESSAGE_ID_SIZE + 1];
            br_hex_encode (message_id, BR_MESSAGE_ID_SIZE, message_hex);
            json_object_set_new (referral, "message_id", json_string (message_hex));
            reason = bn_casestore_put (self->records, txn, BN_CASESTORE_REFERRALS, id, referral);
        }
    }
    if (reason == BR_REASON_OK)
        reason =
            bn_casestore_event (self->records, txn, "referral", id, "requested", referral, now);
    if (reason == BR_REASON_OK)
        reason = s_audit (self, txn, call->user, call->route->action, id, "", now);
    json_decref (record);
    json_decref (consent);
    json_decref (recipient);
    call->status = 201;
    call->result = referral;
    return reason;
}

static br_reason_t
s_referral_status (bn_casework_t *self, MDB_txn *txn, bn_request_t *call, const char *hex,
                   int64_t now)
{
    uint8_t id[BN_ID_SIZE];
    json_t *referral = NULL;
    if (!bn_casestore_id_parse (hex, id) ||
        bn_casestore_get (self->records, txn, BN_CASESTORE_REFERRALS, id, &referral) !=
            BR_REASON_OK)
        return bn_api_refuse (call, BR_REASON_NOT_FOUND, "no such referral");
    call->result = referral;
    br_reason_t permitted = s_permit (call, referral);
    if (permitted != BR_REASON_OK)
        return permitted;
    const char *wanted = bn_api_text (call->body, "state", 16);
    const char *reason_name = bn_api_text (call->body, "reason", S_REASON_MAX);
    const char *text = json_string_value (json_object_get (call->body, "text"));
    const char *lotse = bn_api_text (call->body, "lotse", BN_NAME_MAX);
    const br_referral_state_t *state = br_referral_state (wanted);
    bool incoming = streq (json_string_value (json_object_get (referral, "direction")), "incoming");
    br_reason_t reason_code = BR_REASON_OK;
    if (!state || state->wire == BRUECKE__REFERRAL_STATE__REFERRAL_REQUESTED ||
        state->wire == BRUECKE__REFERRAL_STATE__REFERRAL_RECEIVED)
        return bn_api_refuse (call, BR_REASON_MALFORMED,
                              "state: accepted, declined, in_progress, "
                              "completed, failed or cancelled");
    if (text && !br_note_valid (text, BN_TEXT_MAX))
        return bn_api_refuse (call, BR_REASON_MALFORMED, "text: text of 1 to 4000 characters");
    if (reason_name && br_reason_from_name (reason_name, &reason_code) != 0)
        return bn_api_refuse (call, BR_REASON_MALFORMED, "reason: a reason code name");
    //  Only the recipient accepts, declines, progresses, completes; only
    //  the sender cancels
    if (state->by_recipient != incoming)
        return bn_api_refuse (call, BR_REASON_FORBIDDEN,
                              incoming ? "only the referring office cancels"
                                       : "only the receiving office sets this state");
    if (json_is_true (json_object_get (referral, "processing_stopped")))
        return bn_api_refuse (call, BR_REASON_CONSENT_WITHDRAWN, "the consent was withdrawn");
    if (!br_referral_allowed (json_string_value (json_object_get (referral, "state")), wanted))
        return bn_api_refuse (call, BR_REASON_INVALID_STATE, "not allowed from the current state");
    s_history_add (referral, wanted, now, call->user, reason_name, text);
    json_object_set_new (referral, "updated_at_ms", json_integer (now));
    if (lotse)
        json_object_set_new (referral, "lotse", json_string (lotse));
    if (state->wire == BRUECKE__REFERRAL_STATE__REFERRAL_COMPLETED && text)
        json_object_set_new (referral, "outcome", json_string (text));
    br_reason_t reason = s_send_update (self, txn, referral, state, reason_code, text, lotse, now);
    if (reason == BR_REASON_CONSENT_EXPIRED)
        return bn_api_refuse (call, reason, "the legal basis of this referral has expired");
    if (reason == BR_REASON_OK)
        reason = bn_casestore_put (self->records, txn, BN_CASESTORE_REFERRALS, id, referral);
    if (reason == BR_REASON_OK)
        reason = bn_casestore_event (self->records, txn, "referral", id, wanted, referral, now);
    if (reason == BR_REASON_OK)
        reason = s_audit (self, txn, call->user, call->route->action, id, wanted, now);
    return reason;
}

//  ---- Case transfer ------------------------------------------------------------

//  Data categories a case transfer carries: the whole case.
static json_t *
s_case_categories (json_t *record)
{
    json_t *categories = json_pack ("[ss]", "household", "case-history");
    const char *category;
    json_t *value;
    json_object_foreach (json_object_get (record, "details"), category, value)
    {
        if (!s_list_has (categories, category))
            json_array_append_new (categories, json_string (category));
    }
    return categories;
}

static br_reason_t
s_transfer_send (bn_casework_t *self, MDB_txn *txn, bn_request_t *call, const char *case_hex,
                 int64_t now)
{
    uint8_t case_id[BN_ID_SIZE];
    json_t *record = NULL;
    if (!bn_casestore_id_parse (case_hex, case_id) ||
        bn_casestore_get (self->records, txn, BN_CASESTORE_CASES, case_id, &record) != BR_REASON_OK)
        return bn_api_refuse (call, BR_REASON_NOT_FOUND, "no such case");
    br_reason_t permitted = s_permit (call, record);
    if (permitted != BR_REASON_OK) {
        json_decref (record);
        return permitted;
    }
    json_t *address = json_pack ("{sO* ss}", "ags", json_object_get (call->body, "ags"), "service",
                                 bn_api_text (call->body, "service", BR_SERVICE_MAX)
                                     ? bn_api_text (call->body, "service", BR_SERVICE_MAX)
                                     : BN_DEFAULT_TRANSFER_SERVICE);
    json_t *recipient = NULL;
    br_reason_t reason = s_resolve (self, call, address, &recipient);
    json_decref (address);
    const char *to = json_string_value (json_object_get (recipient, "node"));
    const char *to_service = json_string_value (json_object_get (recipient, "service"));
    if (reason == BR_REASON_OK && streq (to, br_identity_node_id (self->identity)))
        reason = bn_api_refuse (call, BR_REASON_INVALID_STATE, "this node is already responsible");
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
        if (bn_casestore_get (self->records, txn, BN_CASESTORE_TRANSFERS, id, &existing) ==
                BR_REASON_OK &&
            !streq (json_string_value (json_object_get (existing, "state")), "declined")) {
            json_decref (record);
            json_decref (recipient);
            call->status = 200;
            call->result = existing;
            return s_audit (self, txn, call->user, "transfer.repeat", id, "", now);
        }
        json_decref (existing);
        reason = s_case_allows (call, record, "transfer");
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
        s_history_add (transfer, "requested", now, call->user, NULL, NULL);
        size_t count;
        char **codes = NULL;
        Bruecke__DataSection **sections = s_sections (record, categories, &count, &codes);
        Bruecke__Attestation attestation = BRUECKE__ATTESTATION__INIT;
        attestation.basis = BRUECKE__LEGAL_BASIS__BASIS_STATUTE;
        attestation.statute = BR_CATALOGUE_STATUTE_RELOCATION;
        attestation.purpose = BR_CATALOGUE_PURPOSE_CASE_TRANSFER;
        attestation.data_categories = codes;
        attestation.n_data_categories = count;
        attestation.recipient = (char *) to;
        attestation.recipient_service = (char *) to_service;
        attestation.valid_from_ms = s_valid_from (now, 0);
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
        reason = s_send (self, txn, BRUECKE__MESSAGE_TYPE__TYPE_CASE_TRANSFER, to, to_service,
                         &attestation, &message.base, now, BN_MESSAGE_LIFETIME_MS, message_id);
        s_sections_free (sections, count, codes);
    }
    if (reason == BR_REASON_OK) {
        json_object_set_new (record, "state", json_string ("transferring"));
        reason = bn_casestore_put (self->records, txn, BN_CASESTORE_CASES, case_id, record);
    }
    if (reason == BR_REASON_OK)
        reason = bn_casestore_put (self->records, txn, BN_CASESTORE_TRANSFERS, id, transfer);
    if (reason == BR_REASON_OK)
        reason =
            bn_casestore_event (self->records, txn, "transfer", id, "requested", transfer, now);
    if (reason == BR_REASON_OK)
        reason = s_audit (self, txn, call->user, call->route->action, id, "", now);
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

static br_reason_t
s_transfer_answer (bn_casework_t *self, MDB_txn *txn, bn_request_t *call, const char *hex,
                   bool accept, int64_t now)
{
    uint8_t id[BN_ID_SIZE];
    json_t *transfer = NULL;
    if (!bn_casestore_id_parse (hex, id) ||
        bn_casestore_get (self->records, txn, BN_CASESTORE_TRANSFERS, id, &transfer) !=
            BR_REASON_OK)
        return bn_api_refuse (call, BR_REASON_NOT_FOUND, "no such transfer");
    call->result = transfer;
    br_reason_t permitted = s_permit (call, transfer);
    if (permitted != BR_REASON_OK)
        return permitted;
    if (!streq (json_string_value (json_object_get (transfer, "direction")), "incoming"))
        return bn_api_refuse (call, BR_REASON_FORBIDDEN, "only the receiving town answers");
    const char *state = json_string_value (json_object_get (transfer, "state"));
    if (streq (state, accept ? "accepted" : "declined"))
        return BR_REASON_OK; //  answered so before
    if (!streq (state, "requested"))
        return bn_api_refuse (call, BR_REASON_INVALID_STATE, "the transfer was answered");
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
        reason = bn_casestore_put (self->records, txn, BN_CASESTORE_CASES, case_id, record);
        if (reason == BR_REASON_OK)
            reason = bn_casestore_event (self->records, txn, "case", case_id, "open", record, now);
        json_decref (record);
        if (reason == BR_REASON_MALFORMED)
            return bn_api_refuse (call, reason,
                                  "the case data received do not have the shapes of the "
                                  "protocol (kind, members, needs, notes): decline the transfer");
        json_object_set_new (transfer, "case_id", json_string (case_hex));
    }
    const char *reason_name = bn_api_text (call->body, "reason", S_REASON_MAX);
    br_reason_t reason_code = BR_REASON_OK;
    if (!accept && reason_name && br_reason_from_name (reason_name, &reason_code) != 0)
        return bn_api_refuse (call, BR_REASON_MALFORMED, "reason: a reason code name");
    //  The sections stay only while the answer is open
    json_object_del (transfer, "sections");
    s_history_add (transfer, accept ? "accepted" : "declined", now, call->user, reason_name, NULL);
    Bruecke__CaseTransferAnswer answer = BRUECKE__CASE_TRANSFER_ANSWER__INIT;
    answer.transfer_id.data = id;
    answer.transfer_id.len = BN_ID_SIZE;
    answer.accepted = accept;
    answer.reason = (Bruecke__ReasonCode) reason_code;
    json_t *peer = json_object_get (transfer, "peer");
    uint8_t message_id[BR_MESSAGE_ID_SIZE];
    if (reason == BR_REASON_OK)
        reason = s_send (self, txn, BRUECKE__MESSAGE_TYPE__TYPE_CASE_TRANSFER_ANSWER,
                         json_string_value (json_object_get (peer, "node")),
                         json_string_value (json_object_get (peer, "service")), NULL, &answer.base,
                         now, BN_MESSAGE_LIFETIME_MS, message_id);
    if (reason == BR_REASON_OK)
        reason = bn_casestore_put (self->records, txn, BN_CASESTORE_TRANSFERS, id, transfer);
    if (reason == BR_REASON_OK)
        reason = bn_casestore_event (self->records, txn, "transfer", id,
                                     accept ? "accepted" : "declined", transfer, now);
    if (reason == BR_REASON_OK)
        reason = s_audit (self, txn, call->user, call->route->action, id, "", now);
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
        return bn_api_refuse (call, BR_REASON_MALFORMED, "%s: a sequence number (digits)", name);
    *value = strtoull (text, NULL, 10);
    return BR_REASON_OK;
}

//  GET /v1/events: what changed after `after`, of the caller's offices.
static br_reason_t
s_events (bn_casework_t *self, MDB_txn *txn, bn_request_t *call)
{
    uint64_t after;
    br_reason_t refused = s_query_counter (call, "after", &after);
    if (refused != BR_REASON_OK)
        return refused;
    json_t *events = json_array ();
    uint64_t next;
    br_reason_t reason = bn_casestore_events (self->records, txn, after, call->offices,
                                              BN_EVENTS_MAX, events, &next);
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
s_audit_list (bn_casework_t *self, bn_request_t *call)
{
    uint64_t after;
    br_reason_t refused = s_query_counter (call, "after", &after);
    if (refused != BR_REASON_OK)
        return refused;
    json_t *records = json_array ();
    size_t count = bn_audit_read (self->audit, after, BN_EVENTS_MAX, s_audit_entry, records);
    call->result = json_pack ("{so sI}", "records", records, "next", (json_int_t) (after + count));
    return BR_REASON_OK;
}

static br_reason_t
s_audit_verify (bn_casework_t *self, bn_request_t *call)
{
    uint64_t checked = 0, first_bad = 0;
    const char *problem = NULL;
    br_reason_t reason = bn_audit_verify (self->audit, &checked, &first_bad, &problem);
    if (reason != BR_REASON_OK && reason != BR_REASON_AUDIT_BROKEN)
        return reason;
    call->result =
        json_pack ("{sb sI sb}", "intact", reason == BR_REASON_OK, "records", (json_int_t) checked,
                   "records_intact", bn_casestore_intact (self->records));
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
s_directory (bn_casework_t *self, bn_request_t *call)
{
    const Bruecke__Roster *roster = br_roster_content (self->roster);
    json_t *addresses = json_array ();
    for (size_t index = 0; index < roster->n_routes; index++) {
        const Bruecke__Route *route = roster->routes[index];
        const Bruecke__RosterNode *node = br_roster_lookup_by_id (self->roster, route->node_id);
        const Bruecke__RosterNode *place = br_roster_lookup_by_ags (self->roster, route->ags);
        if (!node || node->revoked)
            continue;
        json_array_append_new (
            addresses, json_pack ("{ss ss ss ss ss sb}", "ags", route->ags, "place",
                                  place ? place->name : route->ags, "service", route->service,
                                  "node", node->node_id, "node_name", node->name, "here",
                                  streq (node->node_id, br_identity_node_id (self->identity))));
    }
    call->result = json_pack ("{so sI}", "addresses", addresses, "roster_version",
                              (json_int_t) br_roster_version (self->roster));
    return BR_REASON_OK;
}

//  ---- The API's routes -----------------------------------------------------------

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
    if (!streq (tally->call->role, BN_TOKENS_ROLE_ADMINISTRATION) && !s_sees (tally->call, record))
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
s_reports (bn_casework_t *self, MDB_txn *txn, bn_request_t *call, int64_t now)
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
        reason = bn_casestore_each (self->records, txn, kinds[index].table, s_tally, &tally);
        json_object_set_new (result, kinds[index].name, tally.counts);
    }
    json_object_set_new (result, "at_ms", json_integer (now));
    if (reason == BR_REASON_OK)
        reason = s_audit (self, txn, call->user, "reports.read", NULL, "", now);
    call->result = result;
    return reason;
}

//  ---- Emergency access (break-glass) ----------------------------------------------------

//  The grant's state as of `now`: an active one whose time is up is expired.
static const char *
s_grant_state (json_t *grant, int64_t now)
{
    const char *state = json_string_value (json_object_get (grant, "state"));
    if (state && streq (state, "active") && now >= bn_api_integer (grant, "until_ms", 0))
        return "expired";
    if (state && streq (state, "requested") &&
        now >= bn_api_integer (grant, "requested_at_ms", 0) + BN_EMERGENCY_APPROVAL_MS)
        return "expired";
    return state ? state : "";
}

//  What an administration request may read: the offices of the emergency
//  accesses approved for `user` and in force at `now`.
typedef struct {
    const char *user;                     //  the administrator
    int64_t now;                          //  when
    char offices[BN_TOKENS_OFFICES_SIZE]; //  their offices, comma-separated
    char grants[BN_AUDIT_DETAIL_MAX];     //  "break-glass <id>[ <id>]" for the audit
} s_emergency_t;

static br_reason_t
s_emergency_collect (MDB_txn *txn, const uint8_t *id, json_t *grant, void *argument)
{
    (void) txn;
    s_emergency_t *emergency = (s_emergency_t *) argument;
    const char *by = json_string_value (json_object_get (grant, "requested_by"));
    const char *office = bn_casestore_office (grant);
    if (!by || !streq (by, emergency->user) || !office ||
        !streq (s_grant_state (grant, emergency->now), "active"))
        return BR_REASON_OK;
    size_t used = strlen (emergency->offices);
    if (!bn_routes_office_in (emergency->offices, office))
        snprintf (emergency->offices + used, sizeof (emergency->offices) - used, "%s%s",
                  used ? "," : "", office);
    char hex[BN_ID_HEX];
    bn_casestore_hex (id, hex);
    used = strlen (emergency->grants);
    snprintf (emergency->grants + used, sizeof (emergency->grants) - used, "%s%s",
              used ? " " : "break-glass ", hex);
    return BR_REASON_OK;
}

//  POST /v1/emergency: an administrator asks for emergency access to the
//  cases of one office, with a reason, for at most BN_EMERGENCY_MINUTES_MAX
//  minutes. It holds once a second administrator approves it.
static br_reason_t
s_emergency_request (bn_casework_t *self, MDB_txn *txn, bn_request_t *call, int64_t now)
{
    const char *office = bn_api_text (call->body, "office", BR_SERVICE_MAX);
    json_int_t minutes = bn_api_integer (call->body, "minutes", 0);
    if (!br_catalogue_service (office) || !s_office_here (self, office))
        return bn_api_refuse (call, BR_REASON_NO_ROUTE, "office: an office of this node");
    if (minutes < 1 || minutes > BN_EMERGENCY_MINUTES_MAX)
        return bn_api_refuse (call, BR_REASON_MALFORMED, "minutes: 1 to %d",
                              BN_EMERGENCY_MINUTES_MAX);
    uint8_t id[BN_ID_SIZE];
    randombytes_buf (id, sizeof (id));
    char hex[BN_ID_HEX];
    bn_casestore_hex (id, hex);
    json_t *grant = json_pack ("{ss ss sO sI ss sI ss}", "id", hex, "office", office, "reason",
                               json_object_get (call->body, "reason"), "minutes",
                               (json_int_t) minutes, "requested_by", call->user, "requested_at_ms",
                               (json_int_t) now, "state", "requested");
    br_reason_t reason = bn_casestore_put (self->records, txn, BN_CASESTORE_EMERGENCY, id, grant);
    if (reason == BR_REASON_OK)
        reason = s_audit (self, txn, call->user, call->route->action, id, office, now);
    call->status = 201;
    call->result = grant;
    return reason;
}

//  POST /v1/emergency/{id}/approve and /end: a second administrator puts a
//  request in force; either ends it early.
static br_reason_t
s_emergency_step (bn_casework_t *self, MDB_txn *txn, bn_request_t *call, const char *hex,
                  bool approve, int64_t now)
{
    uint8_t id[BN_ID_SIZE];
    json_t *grant = NULL;
    if (!bn_casestore_id_parse (hex, id) ||
        bn_casestore_get (self->records, txn, BN_CASESTORE_EMERGENCY, id, &grant) != BR_REASON_OK)
        return bn_api_refuse (call, BR_REASON_NOT_FOUND, "no such emergency access");
    call->result = grant;
    const char *state = s_grant_state (grant, now);
    const char *by = json_string_value (json_object_get (grant, "requested_by"));
    if (approve && !streq (state, "requested"))
        return bn_api_refuse (call, BR_REASON_INVALID_STATE,
                              "only a request of the last hour can be approved");
    if (approve && by && streq (by, call->user))
        return bn_api_refuse (call, BR_REASON_FORBIDDEN,
                              "a second administrator approves, not the one who asked");
    if (!approve && !streq (state, "requested") && !streq (state, "active"))
        return bn_api_refuse (call, BR_REASON_INVALID_STATE, "it is over already");
    if (approve) {
        json_object_set_new (grant, "state", json_string ("active"));
        json_object_set_new (grant, "approved_by", json_string (call->user));
        json_object_set_new (grant, "approved_at_ms", json_integer (now));
        json_object_set_new (
            grant, "until_ms",
            json_integer (now + bn_api_integer (grant, "minutes", 0) * (json_int_t) 60000));
    } else {
        json_object_set_new (grant, "state", json_string ("ended"));
        json_object_set_new (grant, "ended_by", json_string (call->user));
        json_object_set_new (grant, "ended_at_ms", json_integer (now));
    }
    br_reason_t reason = bn_casestore_put (self->records, txn, BN_CASESTORE_EMERGENCY, id, grant);
    if (reason == BR_REASON_OK)
        reason = s_audit (self, txn, call->user, call->route->action, id,
                          bn_casestore_office (grant), now);
    return reason;
}

//  The audit records made under the emergency accesses of a listing.
static void
s_emergency_action (void *argument, const bn_audit_entry_t *entry)
{
    json_t *grants = (json_t *) argument;
    if (strncmp (entry->detail, "break-glass ", 12) != 0)
        return;
    size_t index;
    json_t *grant;
    json_array_foreach (grants, index, grant)
    {
        const char *id = json_string_value (json_object_get (grant, "id"));
        json_t *actions = json_object_get (grant, "actions");
        if (id && strstr (entry->detail + 12, id) && json_array_size (actions) < BN_EVENTS_MAX)
            json_array_append_new (actions,
                                   json_pack ("{sI ss ss}", "at_ms", (json_int_t) entry->at_ms,
                                              "action", entry->action, "object", entry->object));
    }
}

typedef struct {
    bn_request_t *call; //  whose offices (the administration: all)
    json_t *list;       //  the grants
    int64_t now;        //  their states as of when
    bool mine;          //  only those the caller asked for
} s_grants_t;

static br_reason_t
s_emergency_entry (MDB_txn *txn, const uint8_t *id, json_t *grant, void *argument)
{
    (void) txn;
    (void) id;
    s_grants_t *grants = (s_grants_t *) argument;
    const char *by = json_string_value (json_object_get (grant, "requested_by"));
    if (!streq (grants->call->role, BN_TOKENS_ROLE_ADMINISTRATION) && !s_sees (grants->call, grant))
        return BR_REASON_OK;
    if (grants->mine && (!by || !streq (by, grants->call->user)))
        return BR_REASON_OK;
    json_object_set_new (grant, "state", json_string (s_grant_state (grant, grants->now)));
    if (!grants->mine)
        json_object_set_new (grant, "actions", json_array ());
    json_array_append (grants->list, grant);
    return BR_REASON_OK;
}

//  GET /v1/emergency: the emergency accesses, with what was read under
//  each: all for the administration, those to its offices for the Leitung
//  (the affected office sees who looked at its cases, and why). With
//  mine=true only the caller's own, without what was read and not audited:
//  what an interface asks on every page to show an access in force.
static br_reason_t
s_emergency_list (bn_casework_t *self, MDB_txn *txn, bn_request_t *call, int64_t now)
{
    const char *mine = json_string_value (json_object_get (call->query, "mine"));
    if (mine && !streq (mine, "true") && !streq (mine, "false"))
        return bn_api_refuse (call, BR_REASON_MALFORMED, "mine: true or false");
    s_grants_t grants = {
        .call = call, .list = json_array (), .now = now, .mine = mine && streq (mine, "true")};
    br_reason_t reason =
        bn_casestore_each (self->records, txn, BN_CASESTORE_EMERGENCY, s_emergency_entry, &grants);
    if (grants.mine) {
        call->result = json_pack ("{so}", "emergency", grants.list);
        return reason;
    }
    if (json_array_size (grants.list)) {
        uint64_t after = 0;
        size_t read;
        while ((read = bn_audit_read (self->audit, after, BN_EVENTS_MAX, s_emergency_action,
                                      grants.list)) > 0)
            after += read;
    }
    if (reason == BR_REASON_OK)
        reason = s_audit (self, txn, call->user, call->route->action, NULL, "", now);
    call->result = json_pack ("{so}", "emergency", grants.list);
    return reason;
}

//  ---- What each operation takes ------------------------------------------------------

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
static const bn_field_t s_close_fields[] = {S_LINE ("reason", S_REASON_MAX, false),
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
    S_LINE ("evidence_sha256", S_SHA256_HEX, true),
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
    S_LINE ("state", 16, true), S_LINE ("reason", S_REASON_MAX, false),
    S_NOTE ("text", BN_TEXT_MAX), S_LINE ("lotse", BN_NAME_MAX, false), S_END};
static const bn_field_t s_transfer_fields[] = {S_LINE ("ags", 8, true),
                                               S_LINE ("service", BR_SERVICE_MAX, false), S_END};
static const bn_field_t s_decline_fields[] = {S_LINE ("reason", S_REASON_MAX, false), S_END};
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
        br_reason_t refused = bn_api_fields (call, item, where, fields);
        if (refused != BR_REASON_OK)
            return refused;
    }
    return BR_REASON_OK;
}

//  Checks a request's body and query against what its operation takes,
//  the objects inside the body included.
static br_reason_t
s_input_check (bn_request_t *call)
{
    const bn_field_t *body_fields, *query_fields;
    s_fields_of (call->route->operation, &body_fields, &query_fields);
    br_reason_t refused = bn_api_fields (call, call->query, "query", query_fields);
    if (refused == BR_REASON_OK && call->body)
        refused = bn_api_fields (call, call->body, "", body_fields);
    if (refused == BR_REASON_OK && (body_fields == s_case_fields || body_fields == s_update_fields))
        refused = s_items_check (call, call->body, "members", s_member_fields);
    if (refused == BR_REASON_OK &&
        (body_fields == s_consent_fields || body_fields == s_withdraw_fields))
        refused = s_items_check (call, call->body, "recipients", s_address_fields);
    if (refused == BR_REASON_OK && body_fields == s_referral_fields)
        refused = bn_api_fields (call, json_object_get (call->body, "recipient"), "recipient",
                                 s_address_fields);
    return refused;
}

//  Adds to a record in an answer the changes its caller may make now
//  ("actions", from br_states), so that an interface need not derive them.
static void
s_add_actions (bn_operation_t operation, json_t *record)
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

br_reason_t
bn_casework_call (bn_casework_t *self, MDB_txn *txn, bn_request_t *call)
{
    assert (self && txn && call && call->method && call->path && call->user);
    assert (call->route && call->route->owner == BN_OWNER_CASEWORK && call->id && call->offices);
    assert (self->roster);
    call->status = 200;
    call->result = NULL;
    call->detail[0] = 0;
    int64_t now = br_now_ms ();
    if (!streq (call->route->method, "GET") && !json_is_object (call->body))
        return bn_api_refuse (call, BR_REASON_MALFORMED, "the body must be a JSON object");
    br_reason_t refused = s_input_check (call);
    if (refused != BR_REASON_OK)
        return refused;
    //  The administration reads an office's cases only under an emergency
    //  access approved for it and in force, and its reads say so
    s_emergency_t emergency = {.user = call->user, .now = now};
    const char *offices = call->offices;
    if (streq (call->role, BN_TOKENS_ROLE_ADMINISTRATION) &&
        call->route->scope == BN_SCOPE_OFFICES && call->route->operation != BN_OP_EMERGENCY_LIST) {
        refused = bn_casestore_each (self->records, txn, BN_CASESTORE_EMERGENCY,
                                     s_emergency_collect, &emergency);
        if (refused != BR_REASON_OK)
            return refused;
        call->offices = emergency.offices;
        self->break_glass = *emergency.grants ? emergency.grants : NULL;
    }
    const char *id = call->id;
    const char *action = call->route->action;
    br_reason_t reason = BR_REASON_NOT_FOUND;
    switch (call->route->operation) {
        case BN_OP_CASE_CREATE:
            reason = s_case_create (self, txn, call, now);
            break;
        case BN_OP_CASE_LIST:
            reason = s_list (self, txn, call, BN_CASESTORE_CASES, "cases", now);
            break;
        case BN_OP_CASE_READ:
            reason = s_show (self, txn, call, BN_CASESTORE_CASES, id, action, now);
            break;
        case BN_OP_CASE_TRANSFER:
            reason = s_transfer_send (self, txn, call, id, now);
            break;
        case BN_OP_CASE_NOTE:
            reason = s_case_note (self, txn, call, id, now);
            break;
        case BN_OP_CASE_UPDATE:
            reason = s_case_update (self, txn, call, id, now);
            break;
        case BN_OP_CASE_CLOSE:
        case BN_OP_CASE_REOPEN:
            reason =
                s_case_close (self, txn, call, id, call->route->operation == BN_OP_CASE_CLOSE, now);
            break;
        case BN_OP_FOLLOW_UPS:
            reason = s_follow_ups (self, txn, call, now);
            break;
        case BN_OP_EMERGENCY_REQUEST:
            reason = s_emergency_request (self, txn, call, now);
            break;
        case BN_OP_EMERGENCY_LIST:
            reason = s_emergency_list (self, txn, call, now);
            break;
        case BN_OP_EMERGENCY_APPROVE:
        case BN_OP_EMERGENCY_END:
            reason = s_emergency_step (self, txn, call, id,
                                       call->route->operation == BN_OP_EMERGENCY_APPROVE, now);
            break;
        case BN_OP_CONSENT_RECORD:
            reason = s_consent_record (self, txn, call, now);
            break;
        case BN_OP_CONSENT_LIST:
            reason = s_list (self, txn, call, BN_CASESTORE_CONSENTS, "consents", now);
            break;
        case BN_OP_CONSENT_READ:
            reason = s_show (self, txn, call, BN_CASESTORE_CONSENTS, id, action, now);
            if (reason == BR_REASON_OK)
                s_consent_status (call->result, now);
            break;
        case BN_OP_CONSENT_WITHDRAW:
            reason = s_consent_withdraw (self, txn, call, id, now);
            break;
        case BN_OP_CONSENT_FORM_STORE:
            reason = s_consent_form_store (self, txn, call, id, now);
            break;
        case BN_OP_CONSENT_FORM_READ:
            reason = s_consent_form_read (self, txn, call, id, now);
            break;
        case BN_OP_REFERRAL_SEND:
            reason = s_referral_send (self, txn, call, now);
            break;
        case BN_OP_REFERRAL_LIST:
            reason = s_list (self, txn, call, BN_CASESTORE_REFERRALS, "referrals", now);
            break;
        case BN_OP_REFERRAL_READ:
            reason = s_show (self, txn, call, BN_CASESTORE_REFERRALS, id, action, now);
            break;
        case BN_OP_REFERRAL_STATUS:
            reason = s_referral_status (self, txn, call, id, now);
            break;
        case BN_OP_TRANSFER_LIST:
            reason = s_list (self, txn, call, BN_CASESTORE_TRANSFERS, "transfers", now);
            break;
        case BN_OP_TRANSFER_READ:
            reason = s_show (self, txn, call, BN_CASESTORE_TRANSFERS, id, action, now);
            break;
        case BN_OP_TRANSFER_ACCEPT:
        case BN_OP_TRANSFER_DECLINE:
            reason = s_transfer_answer (self, txn, call, id,
                                        call->route->operation == BN_OP_TRANSFER_ACCEPT, now);
            break;
        case BN_OP_DIRECTORY:
            reason = s_directory (self, call);
            break;
        case BN_OP_EVENTS:
            reason = s_events (self, txn, call);
            break;
        case BN_OP_REPORTS:
            reason = s_reports (self, txn, call, now);
            break;
        case BN_OP_AUDIT_LIST:
            reason = s_audit_list (self, call);
            break;
        case BN_OP_AUDIT_VERIFY:
            reason = s_audit_verify (self, call);
            break;
        default:
            break;
    }
    call->offices = offices;
    self->break_glass = NULL;
    //  What the caller may do next: not for the administration, which only reads
    unsigned changers =
        BN_ROLE_CASEWORKER | BN_ROLE_INTEGRATION | BN_ROLE_SACHBEARBEITUNG | BN_ROLE_LEITUNG;
    if (reason == BR_REASON_OK && json_is_object (call->result) &&
        (bn_routes_role (call->role) & changers))
        s_add_actions (call->route->operation, call->result);
    if (reason == BR_REASON_NOT_FOUND && !call->detail[0])
        bn_api_refuse (call, reason, "no such resource");
    if (reason != BR_REASON_OK) {
        json_decref (call->result);
        call->result = NULL;
    }
    return reason;
}

//  ---- Receiving --------------------------------------------------------------------

//  Turns received sections into {category: object}, refusing categories
//  the attestation does not cover and content that is not a JSON object.
static br_reason_t
s_sections_take (Bruecke__DataSection **sections, size_t count,
                 const Bruecke__Attestation *attestation, json_t **taken_p)
{
    json_t *taken = json_object ();
    for (size_t index = 0; index < count; index++) {
        const char *category = sections[index]->category;
        if (!br_attestation_covers (attestation, category)) {
            json_decref (taken);
            return BR_REASON_CATEGORY_NOT_COVERED;
        }
        json_t *content = json_loads (sections[index]->content, 0, NULL);
        if (!json_is_object (content) || json_object_get (taken, category)) {
            json_decref (content);
            json_decref (taken);
            return BR_REASON_MALFORMED;
        }
        json_object_set_new (taken, category, content);
    }
    *taken_p = taken;
    return BR_REASON_OK;
}

//  The key under which this node keeps a referral or transfer `id` it
//  received from `sender`: the id itself, so that both towns name it
//  alike; but if the sender is this node (one of its offices referred to
//  another), a key derived from the id, as the sending office's record
//  holds the id itself.
static void
s_incoming_key (bn_casework_t *self, const uint8_t id[BN_ID_SIZE], const char *sender,
                uint8_t key[BN_ID_SIZE])
{
    if (!streq (sender, br_identity_node_id (self->identity))) {
        memcpy (key, id, BN_ID_SIZE);
        return;
    }
    static const uint8_t domain[crypto_generichash_KEYBYTES_MIN] = "bruecke-incoming";
    crypto_generichash (key, BN_ID_SIZE, id, BN_ID_SIZE, domain, sizeof (domain));
}

//  The common start of taking a referral or a case transfer: an id of
//  BN_ID_SIZE bytes whose record key (s_incoming_key, into `key`) is not
//  yet in `table` (else *verdict = `repeated`; a transfer this node received
//  from `sender` and declined is taken as new), the sender's service code,
//  and sections the attestation covers (else *verdict says why not).
//  Returns true, with the sections in *sections_p, if the message is to be
//  taken.
static bool
s_take (bn_casework_t *self, MDB_txn *txn, bn_casestore_table_t table,
        const ProtobufCBinaryData *id, const char *sender, const char *sender_service,
        Bruecke__DataSection **sections, size_t count, const Bruecke__Attestation *attestation,
        br_reason_t repeated, br_reason_t *verdict, json_t **sections_p, uint8_t key[BN_ID_SIZE])
{
    if (id->len != BN_ID_SIZE || !br_token_valid (sender_service, BR_SERVICE_MAX)) {
        *verdict = BR_REASON_MALFORMED;
        return false;
    }
    s_incoming_key (self, id->data, sender, key);
    json_t *existing = NULL;
    if (bn_casestore_get (self->records, txn, table, key, &existing) == BR_REASON_OK) {
        //  A transfer this node received and declined may come again from
        //  the same sender: it is a new request then
        const char *peer =
            json_string_value (json_object_get (json_object_get (existing, "peer"), "node"));
        bool again =
            streq (json_string_value (json_object_get (existing, "state")), "declined") &&
            streq (json_string_value (json_object_get (existing, "direction")), "incoming") &&
            peer && streq (peer, sender);
        json_decref (existing);
        if (!again || table != BN_CASESTORE_TRANSFERS) {
            *verdict = repeated;
            return false;
        }
    }
    *verdict = s_sections_take (sections, count, attestation, sections_p);
    return *verdict == BR_REASON_OK;
}

//  The record `id` of `table` if it exists, belongs to `peer` (in its
//  `peer_field`) and goes `direction` (NULL: either way). Returns OK,
//  NOT_FOUND, FORBIDDEN, MALFORMED or a store reason.
static br_reason_t
s_peer_record (bn_casework_t *self, MDB_txn *txn, bn_casestore_table_t table,
               const ProtobufCBinaryData *id, const char *peer_field, const char *peer,
               const char *direction, json_t **record_p)
{
    *record_p = NULL;
    if (id->len != BN_ID_SIZE)
        return BR_REASON_MALFORMED;
    br_reason_t reason = bn_casestore_get (self->records, txn, table, id->data, record_p);
    if (reason != BR_REASON_OK)
        return reason;
    const char *node =
        json_string_value (json_object_get (json_object_get (*record_p, peer_field), "node"));
    const char *its_direction = json_string_value (json_object_get (*record_p, "direction"));
    if (!node || !streq (node, peer) || !its_direction ||
        (direction && !streq (its_direction, direction))) {
        json_decref (*record_p);
        *record_p = NULL;
        return BR_REASON_FORBIDDEN;
    }
    return BR_REASON_OK;
}

static br_reason_t
s_receive_referral (bn_casework_t *self, MDB_txn *txn, const Bruecke__Header *header,
                    const Bruecke__Attestation *attestation, Bruecke__Referral *message,
                    int64_t now, br_reason_t *verdict)
{
    json_t *sections = NULL;
    uint8_t key[BN_ID_SIZE];
    //  A referral id is used once
    if (!s_take (self, txn, BN_CASESTORE_REFERRALS, &message->referral_id, header->sender,
                 message->sender_service, message->sections, message->n_sections, attestation,
                 BR_REASON_REPLAYED, verdict, &sections, key))
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
    s_history_add (referral, "requested", header->created_at_ms, header->sender, NULL, NULL);
    s_history_add (referral, "received", now, br_identity_node_id (self->identity), NULL, NULL);
    //  The sender learns it arrived; a referral that cannot be answered is
    //  refused (the referring service is not routable back)
    br_reason_t reason = s_send_update (self, txn, referral, br_referral_state ("received"),
                                        BR_REASON_OK, NULL, NULL, now);
    if (reason != BR_REASON_OK && reason != BR_REASON_STORE_FULL &&
        reason != BR_REASON_STORE_FAILED) {
        *verdict = reason;
        reason = BR_REASON_OK;
        json_decref (referral);
        return reason;
    }
    if (reason == BR_REASON_OK)
        reason = bn_casestore_put (self->records, txn, BN_CASESTORE_REFERRALS, key, referral);
    if (reason == BR_REASON_OK)
        reason =
            bn_casestore_event (self->records, txn, "referral", key, "received", referral, now);
    if (reason == BR_REASON_OK)
        reason = s_audit (self, txn, header->sender, "referral.receive", key, "", now);
    json_decref (referral);
    return reason;
}

static br_reason_t
s_receive_update (bn_casework_t *self, MDB_txn *txn, const Bruecke__Header *header,
                  Bruecke__ReferralUpdate *update, int64_t now, br_reason_t *verdict)
{
    //  The peer sets only its side's states: the recipient reports on our
    //  outgoing referral, the sender cancels our incoming one (which has a
    //  key of its own if the sender is another office of this node)
    const br_referral_state_t *state = br_referral_state_of (update->state);
    uint8_t key[BN_ID_SIZE];
    ProtobufCBinaryData record_id = update->referral_id;
    if (state && !state->by_recipient && record_id.len == BN_ID_SIZE) {
        s_incoming_key (self, update->referral_id.data, header->sender, key);
        record_id.data = key;
    }
    json_t *referral = NULL;
    *verdict = s_peer_record (self, txn, BN_CASESTORE_REFERRALS, &record_id, "peer", header->sender,
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
        s_history_add (referral, state->name, update->changed_at_ms, header->sender, reason_name,
                       update->text);
        json_object_set_new (referral, "updated_at_ms", json_integer (now));
        if (update->lotse && *update->lotse)
            json_object_set_new (referral, "lotse", json_string (update->lotse));
        if (state->wire == BRUECKE__REFERRAL_STATE__REFERRAL_COMPLETED && update->text)
            json_object_set_new (referral, "outcome", json_string (update->text));
        reason =
            bn_casestore_put (self->records, txn, BN_CASESTORE_REFERRALS, record_id.data, referral);
        if (reason == BR_REASON_OK)
            reason = bn_casestore_event (self->records, txn, "referral", record_id.data,
                                         state->name, referral, now);
        if (reason == BR_REASON_OK)
            reason = s_audit (self, txn, header->sender, "referral.update", record_id.data,
                              state->name, now);
    }
    json_decref (referral);
    return reason;
}

static br_reason_t
s_receive_withdrawal (bn_casework_t *self, MDB_txn *txn, const Bruecke__Header *header,
                      Bruecke__ConsentWithdrawal *withdrawal, int64_t now, br_reason_t *verdict)
{
    if (withdrawal->consent_id.len != BN_ID_SIZE) {
        *verdict = BR_REASON_MALFORMED;
        return BR_REASON_OK;
    }
    char hex[BN_ID_HEX];
    bn_casestore_hex (withdrawal->consent_id.data, hex);
    s_withdrawal_t stop = {.self = self,
                           .consent_hex = hex,
                           .peer_node = header->sender,
                           .incoming = true,
                           .by = header->sender,
                           .now = now};
    *verdict = BR_REASON_OK;
    br_reason_t reason =
        bn_casestore_each (self->records, txn, BN_CASESTORE_REFERRALS, s_cancel_withdrawn, &stop);
    if (reason == BR_REASON_OK)
        reason = s_audit (self, txn, header->sender, "consent.withdrawn",
                          withdrawal->consent_id.data, "", now);
    return reason;
}

static br_reason_t
s_receive_transfer (bn_casework_t *self, MDB_txn *txn, const Bruecke__Header *header,
                    const Bruecke__Attestation *attestation, Bruecke__CaseTransfer *message,
                    int64_t now, br_reason_t *verdict)
{
    json_t *sections = NULL;
    uint8_t key[BN_ID_SIZE]; //  the transfer id: a node never transfers to itself
    //  A transfer sent again is taken without effect: the first one stands
    if (!s_take (self, txn, BN_CASESTORE_TRANSFERS, &message->transfer_id, header->sender,
                 message->sender_service, message->sections, message->n_sections, attestation,
                 BR_REASON_OK, verdict, &sections, key))
        return BR_REASON_OK;
    if (streq (header->sender, br_identity_node_id (self->identity))) {
        json_decref (sections);
        *verdict = BR_REASON_INVALID_STATE;
        return BR_REASON_OK;
    }
    char hex[BN_ID_HEX];
    bn_casestore_hex (message->transfer_id.data, hex);
    json_t *transfer =
        json_pack ("{ss ss s{ss ss} s{ss ss} ss so sI}", "id", hex, "direction", "incoming", "peer",
                   "node", header->sender, "service", message->sender_service, "to", "node",
                   br_identity_node_id (self->identity), "service", header->service, "statute",
                   attestation->statute ? attestation->statute : "", "sections", sections,
                   "created_at_ms", (json_int_t) now);
    json_object_set_new (transfer, "office", json_string (header->service));
    s_history_add (transfer, "requested", header->created_at_ms, header->sender, NULL, NULL);
    br_reason_t reason = bn_casestore_put (self->records, txn, BN_CASESTORE_TRANSFERS,
                                           message->transfer_id.data, transfer);
    if (reason == BR_REASON_OK)
        reason = bn_casestore_event (self->records, txn, "transfer", message->transfer_id.data,
                                     "requested", transfer, now);
    if (reason == BR_REASON_OK)
        reason = s_audit (self, txn, header->sender, "transfer.receive", message->transfer_id.data,
                          "", now);
    json_decref (transfer);
    return reason;
}

static br_reason_t
s_receive_transfer_answer (bn_casework_t *self, MDB_txn *txn, const Bruecke__Header *header,
                           Bruecke__CaseTransferAnswer *answer, int64_t now, br_reason_t *verdict)
{
    json_t *transfer = NULL;
    *verdict = s_peer_record (self, txn, BN_CASESTORE_TRANSFERS, &answer->transfer_id, "to",
                              header->sender, "outgoing", &transfer);
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
    s_history_add (transfer, state, now, header->sender,
                   answer->reason ? br_reason_name ((br_reason_t) answer->reason) : NULL, NULL);
    //  Ownership moved: keep only what, when and to whom
    char case_hex[BN_ID_HEX];
    bn_casestore_hex (case_id, case_hex);
    json_t *record = NULL;
    br_reason_t reason =
        bn_casestore_get (self->records, txn, BN_CASESTORE_CASES, case_id, &record);
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
        reason = bn_casestore_put (self->records, txn, BN_CASESTORE_CASES, case_id, record);
    }
    if (reason == BR_REASON_OK)
        reason = bn_casestore_put (self->records, txn, BN_CASESTORE_TRANSFERS,
                                   answer->transfer_id.data, transfer);
    if (reason == BR_REASON_OK)
        reason = bn_casestore_event (self->records, txn, "transfer", answer->transfer_id.data,
                                     state, transfer, now);
    if (reason == BR_REASON_OK && answer->accepted)
        reason =
            bn_casestore_event (self->records, txn, "case", case_id, "transferred", record, now);
    json_decref (record);
    if (reason == BR_REASON_OK)
        reason = s_audit (self, txn, header->sender, "transfer.answer", answer->transfer_id.data,
                          state, now);
    json_decref (transfer);
    return reason;
}

br_reason_t
bn_casework_receive (bn_casework_t *self, MDB_txn *txn, br_envelope_t *envelope, int64_t now_ms,
                     br_reason_t *verdict)
{
    assert (self && txn && envelope && verdict);
    assert (self->roster);
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
    *verdict = br_envelope_open_body (envelope, self->identity, descriptor, &body);
    if (*verdict != BR_REASON_OK)
        return BR_REASON_OK;
    br_reason_t reason = BR_REASON_OK;
    switch (header->type) {
        case BRUECKE__MESSAGE_TYPE__TYPE_REFERRAL:
            reason = s_receive_referral (self, txn, header, attestation, (Bruecke__Referral *) body,
                                         now_ms, verdict);
            break;
        case BRUECKE__MESSAGE_TYPE__TYPE_REFERRAL_UPDATE:
            reason = s_receive_update (self, txn, header, (Bruecke__ReferralUpdate *) body, now_ms,
                                       verdict);
            break;
        case BRUECKE__MESSAGE_TYPE__TYPE_CONSENT_WITHDRAWAL:
            reason = s_receive_withdrawal (self, txn, header, (Bruecke__ConsentWithdrawal *) body,
                                           now_ms, verdict);
            break;
        case BRUECKE__MESSAGE_TYPE__TYPE_CASE_TRANSFER:
            reason = s_receive_transfer (self, txn, header, attestation,
                                         (Bruecke__CaseTransfer *) body, now_ms, verdict);
            break;
        default:
            reason = s_receive_transfer_answer (
                self, txn, header, (Bruecke__CaseTransferAnswer *) body, now_ms, verdict);
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
    bn_casework_t *self = (bn_casework_t *) zmalloc (sizeof (bn_casework_t));
    self->store = store;
    self->identity = identity;
    self->vault = vault;
    self->audit = audit;
    self->records = bn_casestore_new (store, vault, reason);
    if (!self->records)
        bn_casework_destroy (&self);
    return self;
}

void
bn_casework_destroy (bn_casework_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        bn_casework_t *self = *self_p;
        bn_casestore_destroy (&self->records);
        free (self);
        *self_p = NULL;
    }
}

void
bn_casework_set_roster (bn_casework_t *self, br_roster_t *roster)
{
    assert (self);
    self->roster = roster;
}

//  ---- Self test ----------------------------------------------------------------------

//  One town of the test county.
typedef struct {
    br_identity_t *identity; //  its keys
    bn_store_t *store;       //  its store
    bn_vault_t *vault;       //  its data key
    bn_audit_t *audit;       //  its audit log
    bn_casework_t *casework; //  its casework
    char *directory;         //  its state directory
    const char *offices;     //  the offices its caseworker acts for
} s_test_town_t;

static void
s_test_town_new (s_test_town_t *town, const char *id)
{
    memset (town, 0, sizeof (*town));
    town->offices = ""; //  until the test names them
    town->identity = br_identity_new (id);
    town->directory = br_temp_directory ("bn_casework");
    assert (town->directory);
    br_reason_t reason;
    town->store = bn_store_new (town->directory, BR_STORE_DEFAULT_MAPSIZE, &reason);
    assert (town->store);
    char *key_path = zsys_sprintf ("%s/data.key", town->directory);
    town->vault = bn_vault_load (key_path, true, &reason);
    assert (town->vault);
    zstr_free (&key_path);
    town->audit = bn_audit_new (bn_store_env (town->store), &reason);
    assert (town->audit);
    town->casework =
        bn_casework_new (town->store, town->identity, town->vault, town->audit, &reason);
    assert (town->casework);
}

static void
s_test_town_destroy (s_test_town_t *town)
{
    bn_casework_destroy (&town->casework);
    bn_audit_destroy (&town->audit);
    bn_vault_destroy (&town->vault);
    bn_store_destroy (&town->store);
    br_identity_destroy (&town->identity);
    assert (br_temp_directory_remove (&town->directory));
}

//  Makes an API call as `user` of `role` acting for `offices`; asserts it
//  ends with `expected`. Returns the result.
static json_t *
s_test_call_by (s_test_town_t *town, const char *user, const char *role, const char *offices,
                const char *method, const char *path, const char *body, br_reason_t expected)
{
    //  "PATH?a=1&b=2": the query as the HTTP layer passes it
    char bare[256];
    snprintf (bare, sizeof (bare), "%s", path);
    json_t *query = json_object ();
    char *question = strchr (bare, '?');
    if (question) {
        *question = '\0';
        char *saved = NULL;
        for (char *pair = strtok_r (question + 1, "&", &saved); pair;
             pair = strtok_r (NULL, "&", &saved)) {
            char *equal = strchr (pair, '=');
            if (equal)
                *equal = '\0';
            json_object_set_new (query, pair, json_string (equal ? equal + 1 : ""));
        }
    }
    bn_request_t call = {.method = method,
                         .path = bare,
                         .query = query,
                         .user = user,
                         .role = role,
                         .offices = offices};
    call.body = body ? json_loads (body, 0, NULL) : NULL;
    assert (!body || call.body);
    char id[BN_ROUTES_ID_MAX + 1];
    if (bn_api_route (&call, id) != BR_REASON_OK)
        fprintf (stderr, "no route for %s %s\n", method, path);
    assert (call.route);
    MDB_txn *txn = NULL;
    assert (bn_store_begin (town->store, &txn) == BR_REASON_OK);
    br_reason_t reason = bn_casework_call (town->casework, txn, &call);
    if (reason != expected)
        fprintf (stderr, "\n%s %s: %s (%s), expected %s\n", method, path, br_reason_name (reason),
                 call.detail, br_reason_name (expected));
    assert (reason == expected);
    if (reason == BR_REASON_OK)
        assert (bn_store_commit (town->store, &txn) == BR_REASON_OK);
    else
        bn_store_abort (town->store, &txn);
    json_decref (call.body);
    json_decref (query);
    return call.result;
}

//  Makes an API call as a caseworker acting for `offices`.
static json_t *
s_test_call_as (s_test_town_t *town, const char *offices, const char *method, const char *path,
                const char *body, br_reason_t expected)
{
    return s_test_call_by (town, "test-caseworker", BN_TOKENS_ROLE_CASEWORKER, offices, method,
                           path, body, expected);
}

//  Makes an API call as the town's caseworker, for all its offices.
static json_t *
s_test_call (s_test_town_t *town, const char *method, const char *path, const char *body,
             br_reason_t expected)
{
    return s_test_call_as (town, town->offices, method, path, body, expected);
}

static void
s_test_collect (void *argument, uint64_t sequence, const uint8_t *data, size_t size)
{
    (void) sequence;
    zlistx_add_end ((zlistx_t *) argument, zchunk_new (data, size));
}

//  Hands what `from` has queued for `to` over, as broker and node would,
//  checking as the recipient checks, and takes it out of `from`'s outbox.
//  Returns how many messages were for `to`; *verdict is the last verdict.
static size_t
s_test_deliver (s_test_town_t *from, s_test_town_t *to, br_roster_t *roster, br_reason_t *verdict)
{
    zlistx_t *envelopes = zlistx_new ();
    zlistx_set_destructor (envelopes, (zlistx_destructor_fn *) zchunk_destroy);
    bn_store_outbox_read (from->store, 0, 1000, s_test_collect, envelopes);
    size_t count = 0;
    *verdict = BR_REASON_OK;
    for (zchunk_t *chunk = (zchunk_t *) zlistx_first (envelopes); chunk;
         chunk = (zchunk_t *) zlistx_next (envelopes)) {
        br_reason_t reason;
        br_envelope_t *envelope =
            br_envelope_decode (zchunk_data (chunk), zchunk_size (chunk), &reason);
        assert (envelope);
        assert (br_envelope_verify_in_roster (envelope, roster) == BR_REASON_OK);
        const Bruecke__Header *header = br_envelope_header (envelope);
        if (streq (header->recipient, br_identity_node_id (to->identity))) {
            count++;
            *verdict = br_envelope_check_attestation (envelope, br_now_ms ());
            MDB_txn *txn = NULL;
            assert (bn_store_begin (to->store, &txn) == BR_REASON_OK);
            if (*verdict == BR_REASON_OK)
                assert (bn_casework_receive (to->casework, txn, envelope, br_now_ms (), verdict) ==
                        BR_REASON_OK);
            assert (bn_store_commit (to->store, &txn) == BR_REASON_OK);
            assert (bn_store_begin (from->store, &txn) == BR_REASON_OK);
            assert (bn_store_sent_update (from->store, txn, header->message_id.data,
                                          BN_SENT_RECEIPTED, BR_REASON_OK,
                                          br_now_ms ()) == BR_REASON_OK);
            assert (bn_store_commit (from->store, &txn) == BR_REASON_OK);
        }
        br_envelope_destroy (&envelope);
    }
    zlistx_destroy (&envelopes);
    return count;
}

static const char *
s_test_state (s_test_town_t *town, const char *kind, const char *id)
{
    static char state[32];
    char *path = zsys_sprintf ("/v1/%s/%s", kind, id);
    json_t *record = s_test_call (town, "GET", path, NULL, BR_REASON_OK);
    snprintf (state, sizeof (state), "%s", json_string_value (json_object_get (record, "state")));
    json_decref (record);
    zstr_free (&path);
    return state;
}

void
bn_casework_test (bool verbose)
{
    if (verbose)
        printf (" * bn_casework: ");
    //  @selftest
    //  A small county: Lünen refers to Unna and to the Kreis; Kamen takes over
    s_test_town_t luenen, unna, kreis, kamen;
    s_test_town_new (&luenen, "luenen");
    s_test_town_new (&unna, "unna");
    s_test_town_new (&kreis, "kreis-unna");
    s_test_town_new (&kamen, "kamen");
    luenen.offices = "jugendamt,jobcenter";
    unna.offices = "fruehe-hilfen,jugendamt";
    kreis.offices = "gesundheitsamt,jobcenter";
    kamen.offices = "jugendamt";
    br_identity_t *county = br_identity_new ("county");
    zconfig_t *draft = br_roster_draft_new ("05978", "Kreis Unna");
    const Bruecke__NodeRole TOWN = BRUECKE__NODE_ROLE__ROLE_TOWN;
    assert (br_roster_draft_add_node (draft, luenen.identity, "L\xc3\xbcnen", "05978024", TOWN,
                                      "jugendamt,jobcenter") == BR_REASON_OK);
    assert (br_roster_draft_add_node (draft, unna.identity, "Unna", "05978036", TOWN,
                                      "fruehe-hilfen,jugendamt") == BR_REASON_OK);
    assert (br_roster_draft_add_node (draft, kreis.identity, "Kreis Unna", "05978",
                                      BRUECKE__NODE_ROLE__ROLE_COUNTY,
                                      "gesundheitsamt,jobcenter") == BR_REASON_OK);
    assert (br_roster_draft_add_node (draft, kamen.identity, "Kamen", "05978020", TOWN,
                                      "jugendamt") == BR_REASON_OK);
    assert (br_roster_draft_add_route (draft, "05978036", "fruehe-hilfen", "unna") == BR_REASON_OK);
    assert (br_roster_draft_add_route (draft, "05978036", "gesundheitsamt", "kreis-unna") ==
            BR_REASON_OK);
    assert (br_roster_draft_add_route (draft, "05978020", "jugendamt", "kamen") == BR_REASON_OK);
    assert (br_roster_draft_add_route (draft, "05978024", "jugendamt", "luenen") == BR_REASON_OK);
    br_reason_t reason;
    int64_t now = br_now_ms ();
    zchunk_t *signed_roster = br_roster_draft_sign (draft, county, now, 3600000, &reason);
    assert (signed_roster);
    br_roster_t *roster =
        br_roster_verify (zchunk_data (signed_roster), zchunk_size (signed_roster),
                          br_identity_sign_public (county), NULL, now, &reason);
    assert (roster);
    bn_casework_set_roster (luenen.casework, roster);
    bn_casework_set_roster (unna.casework, roster);
    bn_casework_set_roster (kreis.casework, roster);
    bn_casework_set_roster (kamen.casework, roster);

    //  The case (invented family) and the mother's written consent
    json_t *created =
        s_test_call (&luenen, "POST", "/v1/cases",
                     "{\"kind\": \"family\", \"service\": \"jobcenter\", \"members\": ["
                     "{\"name\": \"Aylin Beispiel\", \"role\": \"mother\", \"age\": 29,"
                     " \"custody_for\": [\"Deniz Beispiel\"]},"
                     "{\"name\": \"Deniz Beispiel\", \"role\": \"child\", \"age\": 5},"
                     "{\"name\": \"Emre Beispiel\", \"role\": \"father\", \"age\": 33}],"
                     "\"needs\": [\"Kita-Platz\", \"Sprachf\xc3\xb6rderung\"],"
                     "\"details\": {\"language\": {\"child\": \"spricht kein Deutsch\"}}}",
                     BR_REASON_OK);
    char case_id[BN_ID_HEX];
    snprintf (case_id, sizeof (case_id), "%s", json_string_value (json_object_get (created, "id")));
    json_decref (created);
    char *consent_body = zsys_sprintf (
        "{\"case_id\": \"%s\", \"grantor\": \"Aylin Beispiel\", \"subjects\": [\"Aylin Beispiel\","
        " \"Deniz Beispiel\"], \"purpose\": \"language-support\", \"categories\": [\"household\","
        " \"child-age\", \"language\"], \"recipients\": [{\"ags\": \"05978036\", \"service\": "
        "\"fruehe-hilfen\"}, {\"ags\": \"05978036\", \"service\": \"gesundheitsamt\"}],"
        " \"valid_from_ms\": %lld, \"valid_until_ms\": %lld, \"form\": \"written\","
        " \"evidence_sha256\": \"%064d\", \"health_data\": false}",
        case_id, (long long) now - 1000, (long long) now + 86400000LL, 7);
    json_t *consent = s_test_call (&luenen, "POST", "/v1/consents", consent_body, BR_REASON_OK);
    char consent_id[BN_ID_HEX];
    snprintf (consent_id, sizeof (consent_id), "%s",
              json_string_value (json_object_get (consent, "id")));
    assert (streq (json_string_value (json_object_get (
                       json_array_get (json_object_get (consent, "recipients"), 1), "node")),
                   "kreis-unna"));
    json_decref (consent);

    //  Consents refused for who gives them and for how long: nothing stored
    const char *consent_format =
        "{\"case_id\": \"%s\", \"grantor\": \"%s\", \"subjects\": [%s], \"purpose\": "
        "\"language-support\", \"categories\": [\"household\"], \"recipients\": [{\"ags\": "
        "\"05978036\", \"service\": \"fruehe-hilfen\"}], \"valid_from_ms\": %lld, "
        "\"valid_until_ms\": %lld, \"form\": \"written\", \"evidence_sha256\": \"%064d\"}";
    const int64_t day = 86400000;
    struct {
        const char *grantor, *subjects;
        int64_t from, until;
        br_reason_t expected;
    } consents[] = {
        {"Niemand Beispiel", "\"Aylin Beispiel\"", now, now + day, BR_REASON_GRANTOR_NOT_MEMBER},
        {"Deniz Beispiel", "\"Deniz Beispiel\"", now, now + day, BR_REASON_GRANTOR_NOT_ENTITLED},
        {"Emre Beispiel", "\"Deniz Beispiel\"", now, now + day, BR_REASON_GRANTOR_NOT_ENTITLED},
        {"Aylin Beispiel", "\"Aylin Beispiel\", \"Fremde Person\"", now, now + day,
         BR_REASON_SUBJECT_NOT_MEMBER},
        {"Aylin Beispiel", "\"Deniz Beispiel\"", now - 3600000, now + day,
         BR_REASON_CONSENT_BACKDATED},
        {"Aylin Beispiel", "\"Deniz Beispiel\"", 0, 1000, BR_REASON_CONSENT_BACKDATED},
        {"Aylin Beispiel", "\"Deniz Beispiel\"", now, now + 731 * day, BR_REASON_CONSENT_TOO_LONG},
        {"Aylin Beispiel", "\"Deniz Beispiel\"", now - 2000, now - 1000, BR_REASON_CONSENT_EXPIRED},
        //  the father for himself, the mother for her child: both fine
        {"Emre Beispiel", "\"Emre Beispiel\"", now, now + 730 * day, BR_REASON_OK},
        {"Aylin Beispiel", "\"Deniz Beispiel\"", now + 60000, now + day, BR_REASON_OK},
    };
    json_t *before = s_test_call (&luenen, "GET", "/v1/consents", NULL, BR_REASON_OK);
    size_t consents_before = json_array_size (json_object_get (before, "consents"));
    json_decref (before);
    for (size_t index = 0; index < sizeof (consents) / sizeof (consents[0]); index++) {
        char *text = zsys_sprintf (consent_format, case_id, consents[index].grantor,
                                   consents[index].subjects, (long long) consents[index].from,
                                   (long long) consents[index].until, 7);
        json_decref (s_test_call (&luenen, "POST", "/v1/consents", text, consents[index].expected));
        zstr_free (&text);
    }
    json_t *after = s_test_call (&luenen, "GET", "/v1/consents", NULL, BR_REASON_OK);
    assert (json_array_size (json_object_get (after, "consents")) == consents_before + 2);
    json_decref (after);
    //  The signed form: only the document the consent's digest names, once,
    //  read back by the case's office only
    const char *pdf = "%PDF-1.4 Einwilligung, unterschrieben (erfunden)";
    uint8_t pdf_digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256 (pdf_digest, (const uint8_t *) pdf, strlen (pdf));
    char pdf_hex[2 * crypto_hash_sha256_BYTES + 1], pdf_base64[128];
    br_hex_encode (pdf_digest, sizeof (pdf_digest), pdf_hex);
    sodium_bin2base64 (pdf_base64, sizeof (pdf_base64), (const uint8_t *) pdf, strlen (pdf),
                       sodium_base64_VARIANT_ORIGINAL);
    char *signed_body = zsys_sprintf (
        "{\"case_id\": \"%s\", \"grantor\": \"Aylin Beispiel\", \"subjects\": [\"Deniz "
        "Beispiel\"], \"purpose\": \"early-help\", \"categories\": [\"household\"], "
        "\"recipients\": [{\"ags\": \"05978036\", \"service\": \"fruehe-hilfen\"}], "
        "\"valid_until_ms\": %lld, \"form\": \"written\", \"evidence_sha256\": \"%s\"}",
        case_id, (long long) now + day, pdf_hex);
    json_t *signed_consent =
        s_test_call (&luenen, "POST", "/v1/consents", signed_body, BR_REASON_OK);
    zstr_free (&signed_body);
    char form_path[128];
    snprintf (form_path, sizeof (form_path), "/v1/consents/%s/form",
              json_string_value (json_object_get (signed_consent, "id")));
    json_decref (signed_consent);
    s_test_call (&luenen, "GET", form_path, NULL, BR_REASON_NOT_FOUND);
    char *upload = zsys_sprintf ("{\"content_type\": \"application/pdf\", \"data\": \"%s\"}",
                                 "YW5kZXJlcyBEb2t1bWVudA==");
    s_test_call (&luenen, "POST", form_path, upload, BR_REASON_EVIDENCE_MISMATCH);
    zstr_free (&upload);
    upload = zsys_sprintf ("{\"content_type\": \"text/html\", \"data\": \"%s\"}", pdf_base64);
    s_test_call (&luenen, "POST", form_path, upload, BR_REASON_MALFORMED);
    zstr_free (&upload);
    upload = zsys_sprintf ("{\"content_type\": \"application/pdf\", \"data\": \"%s\"}", pdf_base64);
    s_test_call_as (&luenen, "jugendamt", "POST", form_path, upload,
                    BR_REASON_OFFICE_NOT_PERMITTED);
    json_t *stored = s_test_call (&luenen, "POST", form_path, upload, BR_REASON_OK);
    assert (json_is_true (json_object_get (stored, "form_stored")));
    json_decref (stored);
    s_test_call (&luenen, "POST", form_path, upload, BR_REASON_INVALID_STATE);
    zstr_free (&upload);
    json_t *form = s_test_call (&luenen, "GET", form_path, NULL, BR_REASON_OK);
    assert (streq (json_string_value (json_object_get (form, "data")), pdf_base64));
    assert (streq (json_string_value (json_object_get (form, "sha256")), pdf_hex));
    assert (streq (json_string_value (json_object_get (form, "content_type")), "application/pdf"));
    json_decref (form);
    s_test_call_as (&luenen, "jugendamt", "GET", form_path, NULL, BR_REASON_OFFICE_NOT_PERMITTED);

    //  Members: a name once; custody only for a minor member
    const char *bad_members[] = {
        "[{\"name\": \"A B\", \"role\": \"mother\", \"age\": 30}, {\"name\": \"A B\", "
        "\"role\": \"child\", \"age\": 3}]",
        "[{\"name\": \"A B\", \"role\": \"mother\", \"age\": 30, \"custody_for\": [\"C D\"]}]",
        "[{\"name\": \"A B\", \"role\": \"mother\", \"age\": 30, \"custody_for\": [\"E F\"]}, "
        "{\"name\": \"E F\", \"role\": \"father\", \"age\": 40}]",
        "[{\"name\": \"A B\", \"role\": \"mother\", \"age\": 30, \"custody_for\": \"E F\"}]",
    };
    for (size_t index = 0; index < sizeof (bad_members) / sizeof (bad_members[0]); index++) {
        char *text = zsys_sprintf ("{\"kind\": \"family\", \"service\": \"jobcenter\", "
                                   "\"members\": %s}",
                                   bad_members[index]);
        s_test_call (&luenen, "POST", "/v1/cases", text, BR_REASON_MALFORMED);
        zstr_free (&text);
    }

    //  Every field is what it must be, or the request is refused; nothing
    //  is dropped. Names and notes count characters, not bytes
    char umlauts[2 * 101 + 1] = "";
    for (size_t index = 0; index < 100; index++)
        strcat (umlauts, "\xc3\xbc");
    const char *strict_format = "{\"kind\": \"person\", \"service\": \"jobcenter\", "
                                "\"members\": [{\"name\": \"%s\", \"role\": \"self\", "
                                "\"age\": 40}]%s}";
    struct {
        const char *name, *extra;
        br_reason_t expected;
    } strict[] = {
        {"Ida Beispiel", ", \"caseworker\": \"Team\\nJobcenter\"", BR_REASON_MALFORMED},
        {"Ida Beispiel", ", \"lotse\": 12", BR_REASON_MALFORMED},
        {"Ida Beispiel", ", \"lotze\": \"Frau Beispiel\"", BR_REASON_MALFORMED},
        {"Ida Beispiel", ", \"needs\": \"Kita\"", BR_REASON_MALFORMED},
        {"Ida Beispiel", ", \"details\": []", BR_REASON_MALFORMED},
        {"Ida\\tBeispiel", "", BR_REASON_MALFORMED},
        {umlauts, "", BR_REASON_OK},
        {"Ida Beispiel", ", \"notes\": [\"erste Zeile\\nzweite Zeile\"]", BR_REASON_OK},
    };
    for (size_t index = 0; index < sizeof (strict) / sizeof (strict[0]); index++) {
        char *text = zsys_sprintf (strict_format, strict[index].name, strict[index].extra);
        json_decref (s_test_call (&luenen, "POST", "/v1/cases", text, strict[index].expected));
        zstr_free (&text);
    }
    strcat (umlauts, "\xc3\xbc"); //  101 characters
    char *too_long = zsys_sprintf (strict_format, umlauts, "");
    s_test_call (&luenen, "POST", "/v1/cases", too_long, BR_REASON_MALFORMED);
    zstr_free (&too_long);
    s_test_call (&luenen, "GET", "/v1/events?after=abc", NULL, BR_REASON_MALFORMED);
    s_test_call (&luenen, "GET", "/v1/events?after=", NULL, BR_REASON_MALFORMED);
    s_test_call (&luenen, "GET", "/v1/cases?nmae=Ida", NULL, BR_REASON_MALFORMED);
    json_decref (s_test_call (&luenen, "GET", "/v1/events?after=0", NULL, BR_REASON_OK));

    //  The life of a case: notes appended, corrections with history, a
    //  follow-up that falls due, closing with a reason and reopening
    char *life = zsys_sprintf ("{\"kind\": \"person\", \"service\": \"jobcenter\", "
                               "\"members\": [{\"name\": \"Ida Beispiel\", \"role\": "
                               "\"self\", \"age\": 40}], \"external_ref\": \"JC-2026-17\"}");
    json_t *lived = s_test_call (&luenen, "POST", "/v1/cases", life, BR_REASON_OK);
    zstr_free (&life);
    char life_path[128], life_action[160];
    snprintf (life_path, sizeof (life_path), "/v1/cases/%s",
              json_string_value (json_object_get (lived, "id")));
    json_decref (lived);
    snprintf (life_action, sizeof (life_action), "%s/notes", life_path);
    json_decref (s_test_call (&luenen, "POST", life_action,
                              "{\"text\": \"Erstgespr\xc3\xa4"
                              "ch gef\xc3\xbchrt.\\nTermin folgt.\"}",
                              BR_REASON_OK));
    s_test_call (&luenen, "POST", life_action, "{\"text\": \"\"}", BR_REASON_MALFORMED);
    s_test_call_as (&luenen, "jugendamt", "POST", life_action, "{\"text\": \"x\"}",
                    BR_REASON_OFFICE_NOT_PERMITTED);
    char *update = zsys_sprintf ("{\"lotse\": \"Frau Lotsin\", \"follow_up_ms\": %lld, "
                                 "\"needs\": [\"Arbeit\"], \"caseworker\": \"Herr Beispiel\"}",
                                 (long long) now - 1000);
    json_t *updated = s_test_call (&luenen, "PATCH", life_path, update, BR_REASON_OK);
    zstr_free (&update);
    assert (streq (json_string_value (json_object_get (updated, "lotse")), "Frau Lotsin"));
    assert (json_array_size (json_object_get (updated, "history")) == 4);
    assert (json_array_size (json_object_get (updated, "journal")) == 1);
    json_decref (updated);
    updated =
        s_test_call (&luenen, "PATCH", life_path, "{\"lotse\": \"Herr Lotse\"}", BR_REASON_OK);
    json_t *last = json_array_get (json_object_get (updated, "history"), 4);
    assert (streq (json_string_value (json_object_get (last, "change")), "lotse"));
    assert (streq (json_string_value (json_object_get (last, "previous")), "Frau Lotsin"));
    json_decref (updated);
    s_test_call (&luenen, "PATCH", life_path, "{}", BR_REASON_MALFORMED);
    s_test_call (&luenen, "PATCH", life_path, "{\"kind\": \"family\"}", BR_REASON_MALFORMED);
    s_test_call (&luenen, "PATCH", life_path, "{\"needs\": null}", BR_REASON_MALFORMED);
    json_t *due = s_test_call (&luenen, "GET", "/v1/follow-ups", NULL, BR_REASON_OK);
    json_t *first = json_array_get (json_object_get (due, "follow_ups"), 0);
    assert (json_is_true (json_object_get (first, "due")));
    assert (streq (json_string_value (json_object_get (first, "external_ref")), "JC-2026-17"));
    json_decref (due);
    due = s_test_call (&luenen, "GET", "/v1/follow-ups?caseworker=Frau%20Niemand", NULL,
                       BR_REASON_OK);
    assert (json_array_size (json_object_get (due, "follow_ups")) == 0);
    json_decref (due);
    due = s_test_call_as (&luenen, "jugendamt", "GET", "/v1/follow-ups", NULL, BR_REASON_OK);
    assert (json_array_size (json_object_get (due, "follow_ups")) == 0);
    json_decref (due);
    json_decref (
        s_test_call (&luenen, "PATCH", life_path, "{\"follow_up_ms\": null}", BR_REASON_OK));
    due = s_test_call (&luenen, "GET", "/v1/follow-ups", NULL, BR_REASON_OK);
    assert (json_array_size (json_object_get (due, "follow_ups")) == 0);
    json_decref (due);
    snprintf (life_action, sizeof (life_action), "%s/close", life_path);
    s_test_call (&luenen, "POST", life_action, "{\"reason\": \"weil\"}", BR_REASON_MALFORMED);
    json_t *closed =
        s_test_call (&luenen, "POST", life_action,
                     "{\"reason\": \"goal-reached\", \"text\": \"Arbeit gefunden\"}", BR_REASON_OK);
    assert (streq (json_string_value (json_object_get (closed, "state")), "closed"));
    assert (json_array_size (json_object_get (closed, "actions")) == 1);
    assert (streq (json_string_value (json_array_get (json_object_get (closed, "actions"), 0)),
                   "reopen"));
    json_decref (closed);
    s_test_call (&luenen, "POST", life_action, "{\"reason\": \"other\"}", BR_REASON_INVALID_STATE);
    s_test_call (&luenen, "PATCH", life_path, "{\"lotse\": \"x\"}", BR_REASON_INVALID_STATE);
    //  A closed case takes no consent (br_states: consent only while open)
    char *closed_consent = zsys_sprintf (
        "{\"case_id\": \"%s\", \"grantor\": \"Ida Beispiel\", \"subjects\": [\"Ida "
        "Beispiel\"], \"purpose\": \"employment-support\", \"categories\": [\"household\"], "
        "\"recipients\": [{\"ags\": \"05978036\", \"service\": \"fruehe-hilfen\"}], "
        "\"valid_until_ms\": %lld, \"form\": \"written\", \"evidence_sha256\": \"%064d\"}",
        life_path + strlen ("/v1/cases/"), (long long) now + 86400000LL, 7);
    s_test_call (&luenen, "POST", "/v1/consents", closed_consent, BR_REASON_INVALID_STATE);
    zstr_free (&closed_consent);
    snprintf (life_action, sizeof (life_action), "%s/reopen", life_path);
    json_t *reopened = s_test_call (&luenen, "POST", life_action, "{}", BR_REASON_OK);
    assert (streq (json_string_value (json_object_get (reopened, "state")), "open"));
    assert (!json_object_get (reopened, "close_reason"));
    json_decref (reopened);
    s_test_call (&luenen, "POST", life_action, "{}", BR_REASON_INVALID_STATE);

    //  Emergency access: the administration reads a case only once a second
    //  administrator approved it for that office, and its reads say so
    const char *admin = BN_TOKENS_ROLE_ADMINISTRATION;
    char glass_path[128];
    snprintf (glass_path, sizeof (glass_path), "/v1/cases/%s", case_id);
    s_test_call_by (&luenen, "anna", admin, "", "GET", glass_path, NULL,
                    BR_REASON_OFFICE_NOT_PERMITTED);
    json_t *listed_cases =
        s_test_call_by (&luenen, "anna", admin, "", "GET", "/v1/cases", NULL, BR_REASON_OK);
    assert (json_array_size (json_object_get (listed_cases, "cases")) == 0);
    json_decref (listed_cases);
    s_test_call_by (&luenen, "anna", admin, "", "POST", "/v1/emergency",
                    "{\"office\": \"fruehe-hilfen\", \"reason\": \"x\", \"minutes\": 30}",
                    BR_REASON_NO_ROUTE);
    s_test_call_by (&luenen, "anna", admin, "", "POST", "/v1/emergency",
                    "{\"office\": \"jobcenter\", \"reason\": \"x\", \"minutes\": 999}",
                    BR_REASON_MALFORMED);
    json_t *grant = s_test_call_by (
        &luenen, "anna", admin, "", "POST", "/v1/emergency",
        "{\"office\": \"jobcenter\", \"reason\": \"Kind in Gefahr, Sachbearbeitung nicht "
        "erreichbar\", \"minutes\": 30}",
        BR_REASON_OK);
    char grant_path[128];
    snprintf (grant_path, sizeof (grant_path), "/v1/emergency/%s/approve",
              json_string_value (json_object_get (grant, "id")));
    s_test_call_by (&luenen, "anna", admin, "", "GET", glass_path, NULL,
                    BR_REASON_OFFICE_NOT_PERMITTED); //  not yet approved
    s_test_call_by (&luenen, "anna", admin, "", "POST", grant_path, "{}", BR_REASON_FORBIDDEN);
    json_decref (
        s_test_call_by (&luenen, "bernd", admin, "", "POST", grant_path, "{}", BR_REASON_OK));
    s_test_call_by (&luenen, "bernd", admin, "", "POST", grant_path, "{}", BR_REASON_INVALID_STATE);
    json_decref (
        s_test_call_by (&luenen, "anna", admin, "", "GET", glass_path, NULL, BR_REASON_OK));
    s_test_call_by (&luenen, "bernd", admin, "", "GET", glass_path, NULL,
                    BR_REASON_OFFICE_NOT_PERMITTED); //  the approver has no access himself
    //  The Jobcenter's Leitung sees who read its case, and why; the Jugendamt's does not
    json_t *watched = s_test_call_by (&luenen, "lea", BN_TOKENS_ROLE_LEITUNG, "jobcenter", "GET",
                                      "/v1/emergency", NULL, BR_REASON_OK);
    json_t *seen_grant = json_array_get (json_object_get (watched, "emergency"), 0);
    assert (streq (json_string_value (json_object_get (seen_grant, "state")), "active"));
    assert (streq (json_string_value (json_object_get (seen_grant, "approved_by")), "bernd"));
    json_t *seen_action = json_array_get (json_object_get (seen_grant, "actions"), 0);
    assert (streq (json_string_value (json_object_get (seen_action, "action")), "case.read"));
    assert (streq (json_string_value (json_object_get (seen_action, "object")), case_id));
    json_decref (watched);
    watched = s_test_call_by (&luenen, "jan", BN_TOKENS_ROLE_LEITUNG, "jugendamt", "GET",
                              "/v1/emergency", NULL, BR_REASON_OK);
    assert (json_array_size (json_object_get (watched, "emergency")) == 0);
    json_decref (watched);
    //  One's own, cheaply: anna's access, and none for bernd who approved it
    watched = s_test_call_by (&luenen, "anna", admin, "", "GET", "/v1/emergency?mine=true", NULL,
                              BR_REASON_OK);
    assert (json_array_size (json_object_get (watched, "emergency")) == 1);
    assert (
        !json_object_get (json_array_get (json_object_get (watched, "emergency"), 0), "actions"));
    json_decref (watched);
    watched = s_test_call_by (&luenen, "bernd", admin, "", "GET", "/v1/emergency?mine=true", NULL,
                              BR_REASON_OK);
    assert (json_array_size (json_object_get (watched, "emergency")) == 0);
    json_decref (watched);
    snprintf (grant_path, sizeof (grant_path), "/v1/emergency/%s/end",
              json_string_value (json_object_get (grant, "id")));
    json_decref (
        s_test_call_by (&luenen, "anna", admin, "", "POST", grant_path, "{}", BR_REASON_OK));
    s_test_call_by (&luenen, "anna", admin, "", "GET", glass_path, NULL,
                    BR_REASON_OFFICE_NOT_PERMITTED);
    json_decref (grant);

    //  The directory: what a consent may name, from the roster
    json_t *directory = s_test_call (&luenen, "GET", "/v1/directory", NULL, BR_REASON_OK);
    size_t index_found = 0, here = 0;
    json_t *address;
    json_array_foreach (json_object_get (directory, "addresses"), index_found, address)
    {
        if (json_is_true (json_object_get (address, "here")))
            here++;
        if (streq (json_string_value (json_object_get (address, "ags")), "05978036") &&
            streq (json_string_value (json_object_get (address, "service")), "fruehe-hilfen"))
            assert (streq (json_string_value (json_object_get (address, "node")), "unna") &&
                    streq (json_string_value (json_object_get (address, "place")), "Unna"));
    }
    assert (json_array_size (json_object_get (directory, "addresses")) == 4 && here == 1);
    json_decref (directory);

    //  Need-to-know: Lünen's Jugendamt neither sees nor touches the
    //  Jobcenter's case, its consent, or the list entries
    char record_path[128];
    snprintf (record_path, sizeof (record_path), "/v1/cases/%s", case_id);
    s_test_call_as (&luenen, "jugendamt", "GET", record_path, NULL, BR_REASON_OFFICE_NOT_PERMITTED);
    json_decref (s_test_call_as (&luenen, "jobcenter", "GET", record_path, NULL, BR_REASON_OK));
    snprintf (record_path, sizeof (record_path), "/v1/consents/%s", consent_id);
    s_test_call_as (&luenen, "jugendamt", "GET", record_path, NULL, BR_REASON_OFFICE_NOT_PERMITTED);
    s_test_call_as (&luenen, "", "GET", record_path, NULL, BR_REASON_OFFICE_NOT_PERMITTED);
    s_test_call_as (&luenen, "jugendamt", "POST", "/v1/consents", consent_body,
                    BR_REASON_OFFICE_NOT_PERMITTED);
    const char *listings[] = {"/v1/cases", "/v1/consents"};
    for (size_t index = 0; index < 2; index++) {
        json_t *listed =
            s_test_call_as (&luenen, "jugendamt", "GET", listings[index], NULL, BR_REASON_OK);
        assert (json_array_size (json_object_get (listed, listings[index] + 4)) == 0);
        json_decref (listed);
        listed = s_test_call_as (&luenen, "jobcenter", "GET", listings[index], NULL, BR_REASON_OK);
        assert (json_array_size (json_object_get (listed, listings[index] + 4)) >= 1);
        json_decref (listed);
    }
    const char *family = "{\"kind\": \"person\", \"service\": \"%s\", \"members\": ["
                         "{\"name\": \"Ida Beispiel\", \"role\": \"self\", \"age\": 40}]}";
    char *other_case = zsys_sprintf (family, "jobcenter");
    s_test_call_as (&luenen, "jugendamt", "POST", "/v1/cases", other_case,
                    BR_REASON_OFFICE_NOT_PERMITTED);
    zstr_free (&other_case);
    other_case = zsys_sprintf (family, "fruehe-hilfen"); //  not an office of this node
    s_test_call_as (&luenen, "jugendamt,fruehe-hilfen", "POST", "/v1/cases", other_case,
                    BR_REASON_NO_ROUTE);
    zstr_free (&other_case);
    zstr_free (&consent_body);

    //  Referrals that the consent does not cover are refused, nothing sent
    const char *referral_format =
        "{\"case_id\": \"%s\", \"service\": \"jobcenter\", \"purpose\": \"%s\", %s"
        " \"recipient\": {\"ags\": \"%s\", \"service\": \"%s\"}, \"categories\": [%s],"
        " \"note\": \"Bitte um Kontaktaufnahme\"}";
    struct {
        const char *purpose, *basis, *ags, *service, *categories;
        br_reason_t expected;
    } refused[] = {
        {"language-support", "", "05978036", "fruehe-hilfen", "\"household\"",
         BR_REASON_CONSENT_MISSING},
        {"early-help", "CONSENT", "05978036", "fruehe-hilfen", "\"household\"",
         BR_REASON_PURPOSE_MISMATCH},
        {"language-support", "CONSENT", "05978020", "jugendamt", "\"household\"",
         BR_REASON_RECIPIENT_MISMATCH},
        {"language-support", "CONSENT", "05978036", "fruehe-hilfen", "\"household\", \"health\"",
         BR_REASON_CATEGORY_NOT_COVERED},
        {"language-support", "CONSENT", "05978036", "familienbuero", "\"household\"",
         BR_REASON_NO_ROUTE},
    };
    char *consent_member = zsys_sprintf ("\"consent_id\": \"%s\",", consent_id);
    for (size_t index = 0; index < sizeof (refused) / sizeof (refused[0]); index++) {
        char *body = zsys_sprintf (referral_format, case_id, refused[index].purpose,
                                   *refused[index].basis ? consent_member : "", refused[index].ags,
                                   refused[index].service, refused[index].categories);
        s_test_call (&luenen, "POST", "/v1/referrals", body, refused[index].expected);
        zstr_free (&body);
    }
    assert (bn_store_outbox_count (luenen.store) == 0);

    //  The referral to Frühe Hilfen in Unna, and one to the Gesundheitsamt
    char *body =
        zsys_sprintf (referral_format, case_id, "language-support", consent_member, "05978036",
                      "fruehe-hilfen", "\"household\", \"child-age\", \"language\"");
    json_t *referral = s_test_call (&luenen, "POST", "/v1/referrals", body, BR_REASON_OK);
    zstr_free (&body);
    char referral_id[BN_ID_HEX];
    snprintf (referral_id, sizeof (referral_id), "%s",
              json_string_value (json_object_get (referral, "id")));
    json_decref (referral);
    body = zsys_sprintf (referral_format, case_id, "language-support", consent_member, "05978036",
                         "gesundheitsamt", "\"household\"");
    referral = s_test_call (&luenen, "POST", "/v1/referrals", body, BR_REASON_OK);
    zstr_free (&body);
    char health_id[BN_ID_HEX];
    snprintf (health_id, sizeof (health_id), "%s",
              json_string_value (json_object_get (referral, "id")));
    json_decref (referral);
    assert (bn_store_outbox_count (luenen.store) == 2);

    //  Unna receives: the data is there, Lünen learns it arrived
    br_reason_t verdict;
    assert (s_test_deliver (&luenen, &unna, roster, &verdict) == 1 && verdict == BR_REASON_OK);
    char *path = zsys_sprintf ("/v1/referrals/%s", referral_id);
    json_t *received = s_test_call (&unna, "GET", path, NULL, BR_REASON_OK);
    assert (streq (json_string_value (json_object_get (received, "state")), "received"));
    //  What Unna may do with it now: accept or decline
    json_t *can = json_object_get (received, "actions");
    assert (json_array_size (can) == 2 &&
            streq (json_string_value (json_array_get (can, 0)), "accepted"));
    assert (
        json_integer_value (json_array_get (
            json_object_get (json_object_get (json_object_get (received, "sections"), "child-age"),
                             "children_ages"),
            0)) == 5);
    json_decref (received);
    assert (s_test_deliver (&unna, &luenen, roster, &verdict) == 1 && verdict == BR_REASON_OK);
    assert (streq (s_test_state (&luenen, "referrals", referral_id), "received"));

    //  Only the recipient accepts; only the sender cancels
    char *status_path = zsys_sprintf ("/v1/referrals/%s/status", referral_id);
    s_test_call (&luenen, "POST", status_path, "{\"state\": \"accepted\"}", BR_REASON_FORBIDDEN);
    s_test_call (&unna, "POST", status_path, "{\"state\": \"cancelled\"}", BR_REASON_FORBIDDEN);
    s_test_call (&unna, "POST", status_path, "{\"state\": \"completed\"}", BR_REASON_INVALID_STATE);
    json_decref (s_test_call (&unna, "POST", status_path,
                              "{\"state\": \"accepted\", \"lotse\": \"Frau Lotse\"}",
                              BR_REASON_OK));
    json_decref (s_test_call (&unna, "POST", status_path,
                              "{\"state\": \"in_progress\", \"text\": \"Erstgespr\xc3\xa4"
                              "ch\"}",
                              BR_REASON_OK));
    assert (s_test_deliver (&unna, &luenen, roster, &verdict) == 2 && verdict == BR_REASON_OK);
    json_t *seen = s_test_call (&luenen, "GET", path, NULL, BR_REASON_OK);
    assert (streq (json_string_value (json_object_get (seen, "state")), "in_progress"));
    assert (streq (json_string_value (json_object_get (seen, "lotse")), "Frau Lotse"));
    assert (json_array_size (json_object_get (seen, "history")) == 4);
    json_decref (seen);

    //  The mother withdraws consent for the Gesundheitsamt: its referral is
    //  cancelled on both sides, the Frühe Hilfen one goes on
    assert (s_test_deliver (&luenen, &kreis, roster, &verdict) == 1 && verdict == BR_REASON_OK);
    char *withdraw_path = zsys_sprintf ("/v1/consents/%s/withdraw", consent_id);
    json_decref (
        s_test_call (&luenen, "POST", withdraw_path,
                     "{\"recipients\": [{\"ags\": \"05978036\", \"service\": \"gesundheitsamt\"}]}",
                     BR_REASON_OK));
    assert (streq (s_test_state (&luenen, "referrals", health_id), "cancelled"));
    assert (streq (s_test_state (&luenen, "referrals", referral_id), "in_progress"));
    assert (s_test_deliver (&luenen, &kreis, roster, &verdict) == 1 && verdict == BR_REASON_OK);
    assert (streq (s_test_state (&kreis, "referrals", health_id), "cancelled"));
    char *health_status = zsys_sprintf ("/v1/referrals/%s/status", health_id);
    s_test_call (&kreis, "POST", health_status, "{\"state\": \"accepted\"}",
                 BR_REASON_CONSENT_WITHDRAWN);
    //  A new referral to the withdrawn recipient is refused
    body = zsys_sprintf (referral_format, case_id, "language-support", consent_member, "05978036",
                         "gesundheitsamt", "\"household\"");
    s_test_call (&luenen, "POST", "/v1/referrals", body, BR_REASON_CONSENT_WITHDRAWN);
    zstr_free (&body);

    //  The outcome
    json_decref (s_test_call (&unna, "POST", status_path,
                              "{\"state\": \"completed\", \"text\": \"Kita-Platz ab August\"}",
                              BR_REASON_OK));
    assert (s_test_deliver (&unna, &luenen, roster, &verdict) == 1 && verdict == BR_REASON_OK);
    seen = s_test_call (&luenen, "GET", path, NULL, BR_REASON_OK);
    assert (streq (json_string_value (json_object_get (seen, "outcome")), "Kita-Platz ab August"));
    json_decref (seen);

    //  A referral the sender cancels is cancelled at the recipient too
    body = zsys_sprintf (referral_format, case_id, "language-support", consent_member, "05978036",
                         "fruehe-hilfen", "\"household\"");
    referral = s_test_call (&luenen, "POST", "/v1/referrals", body, BR_REASON_OK);
    zstr_free (&body);
    char *cancel_path = zsys_sprintf ("/v1/referrals/%s/status",
                                      json_string_value (json_object_get (referral, "id")));
    char *cancelled_path =
        zsys_sprintf ("/v1/referrals/%s", json_string_value (json_object_get (referral, "id")));
    json_decref (referral);
    assert (s_test_deliver (&luenen, &unna, roster, &verdict) == 1 && verdict == BR_REASON_OK);
    assert (s_test_deliver (&unna, &luenen, roster, &verdict) == 1 && verdict == BR_REASON_OK);
    json_decref (s_test_call (&luenen, "POST", cancel_path,
                              "{\"state\": \"cancelled\", \"reason\": \"FORBIDDEN\"}",
                              BR_REASON_OK));
    assert (s_test_deliver (&luenen, &unna, roster, &verdict) == 1 && verdict == BR_REASON_OK);
    seen = s_test_call (&unna, "GET", cancelled_path, NULL, BR_REASON_OK);
    assert (streq (json_string_value (json_object_get (seen, "state")), "cancelled"));
    json_decref (seen);
    zstr_free (&cancel_path);
    zstr_free (&cancelled_path);

    //  The family moves to Kamen: the case goes there under SGB VIII §86c;
    //  Kamen first declines, then takes it when it comes again
    char *transfer_path = zsys_sprintf ("/v1/cases/%s/transfer", case_id);
    json_t *transfer =
        s_test_call (&luenen, "POST", transfer_path, "{\"ags\": \"05978020\"}", BR_REASON_OK);
    char transfer_id[BN_ID_HEX];
    snprintf (transfer_id, sizeof (transfer_id), "%s",
              json_string_value (json_object_get (transfer, "id")));
    json_decref (transfer);
    //  A repeated transfer is the same transfer, and sends nothing new
    transfer =
        s_test_call (&luenen, "POST", transfer_path, "{\"ags\": \"05978020\"}", BR_REASON_OK);
    assert (streq (json_string_value (json_object_get (transfer, "id")), transfer_id));
    json_decref (transfer);
    assert (s_test_deliver (&luenen, &kamen, roster, &verdict) == 1 && verdict == BR_REASON_OK);
    char *decline_path = zsys_sprintf ("/v1/transfers/%s/decline", transfer_id);
    json_decref (s_test_call (&kamen, "POST", decline_path, "{}", BR_REASON_OK));
    assert (s_test_deliver (&kamen, &luenen, roster, &verdict) == 1 && verdict == BR_REASON_OK);
    char *case_path = zsys_sprintf ("/v1/cases/%s", case_id);
    assert (streq (s_test_state (&luenen, "cases", case_id), "open"));
    json_decref (
        s_test_call (&luenen, "POST", transfer_path, "{\"ags\": \"05978020\"}", BR_REASON_OK));
    assert (s_test_deliver (&luenen, &kamen, roster, &verdict) == 1 && verdict == BR_REASON_OK);
    assert (streq (s_test_state (&kamen, "transfers", transfer_id), "requested"));
    zstr_free (&decline_path);
    char *accept_path = zsys_sprintf ("/v1/transfers/%s/accept", transfer_id);
    s_test_call (&luenen, "POST", accept_path, "{}", BR_REASON_FORBIDDEN);
    transfer = s_test_call (&kamen, "POST", accept_path, "{}", BR_REASON_OK);
    char *kamen_case =
        zsys_sprintf ("/v1/cases/%s", json_string_value (json_object_get (transfer, "case_id")));
    json_decref (transfer);
    json_t *moved = s_test_call (&kamen, "GET", kamen_case, NULL, BR_REASON_OK);
    assert (json_array_size (json_object_get (moved, "members")) == 3);
    json_decref (moved);
    assert (s_test_deliver (&kamen, &luenen, roster, &verdict) == 1 && verdict == BR_REASON_OK);
    json_t *minimal = s_test_call (&luenen, "GET", case_path, NULL, BR_REASON_OK);
    assert (streq (json_string_value (json_object_get (minimal, "state")), "transferred"));
    assert (streq (json_string_value (json_object_get (minimal, "transferred_to")), "kamen"));
    assert (!json_object_get (minimal, "members"));
    json_decref (minimal);

    //  Events and the audit log
    json_t *events = s_test_call (&luenen, "GET", "/v1/events", NULL, BR_REASON_OK);
    assert (json_array_size (json_object_get (events, "events")) >= 8);
    json_decref (events);
    json_t *intact = s_test_call (&luenen, "GET", "/v1/audit/verify", NULL, BR_REASON_OK);
    assert (json_is_true (json_object_get (intact, "intact")));
    json_decref (intact);
    s_test_call (&luenen, "POST", "/v1/cases", "[]", BR_REASON_MALFORMED);
    //  Details are texts by keyword, by data category
    const char *details[] = {"{\"language\": {\"Kind\": 5}}", "{\"language\": {\"\": \"x\"}}",
                             "{\"language\": {\"Kind\": \"\"}}", "{\"language\": [\"x\"]}",
                             "{\"sprache\": {\"Kind\": \"x\"}}"};
    for (size_t index = 0; index < sizeof (details) / sizeof (details[0]); index++) {
        char *body = zsys_sprintf ("{\"kind\": \"person\", \"service\": \"jobcenter\", "
                                   "\"members\": [{\"name\": \"Ida Test\", \"role\": \"self\", "
                                   "\"age\": 40}], \"details\": %s}",
                                   details[index]);
        s_test_call (&luenen, "POST", "/v1/cases", body, BR_REASON_MALFORMED);
        zstr_free (&body);
    }

    zstr_free (&case_path);
    zstr_free (&kamen_case);
    zstr_free (&accept_path);
    zstr_free (&transfer_path);
    zstr_free (&health_status);
    zstr_free (&withdraw_path);
    zstr_free (&status_path);
    zstr_free (&path);
    zstr_free (&consent_member);
    br_roster_destroy (&roster);
    zchunk_destroy (&signed_roster);
    zconfig_destroy (&draft);
    br_identity_destroy (&county);
    s_test_town_destroy (&luenen);
    s_test_town_destroy (&unna);
    s_test_town_destroy (&kreis);
    s_test_town_destroy (&kamen);
    //  @end
    if (verbose)
        printf ("OK\n");
}
