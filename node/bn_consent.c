/*  =========================================================================
    bn_consent - a family's consents, their signed forms and withdrawal
    =========================================================================
*/

#include "bruecke.h"
#include "bn_consent.h"
#include "bn_case.h"
#include "bn_casework_testing.h"

//  Checks who consents for whom, and for how long, before anything else
//  of a consent: the grantor and every subject are members of the case
//  (`members`); the grantor is of age, or a parent marked as holding
//  custody (custody_for); every subject other than the grantor is a minor
//  the grantor holds custody for (another adult consents for themself);
//  the validity starts no earlier than
//  now (less the clock skew), lasts at most what the county allows, and
//  has not ended. Returns OK or the refusal, with its own reason each.
static br_reason_t
s_consent_check (bn_casework_ctx_t *ctx, bn_request_t *call, json_t *members, int64_t now)
{
    json_t *body = call->body;
    const char *grantor_name = bn_request_text (body, "grantor", BN_NAME_MAX);
    json_t *subjects = json_object_get (body, "subjects");
    json_int_t from = bn_request_integer (body, "valid_from_ms", now);
    json_int_t until = bn_request_integer (body, "valid_until_ms", -1);
    if (!grantor_name)
        return bn_request_refuse (call, BR_REASON_MALFORMED, "grantor: the name of a member");
    if (!bn_casework_ctx_text_list (body, "subjects", BN_NAME_MAX, NULL) ||
        !json_array_size (subjects))
        return bn_request_refuse (call, BR_REASON_MALFORMED,
                                  "subjects: the people the data is about");
    if (from < 0 || until <= from)
        return bn_request_refuse (call, BR_REASON_MALFORMED,
                                  "valid_from_ms < valid_until_ms required");
    json_t *grantor = bn_case_member (members, grantor_name);
    if (!grantor)
        return bn_request_refuse (call, BR_REASON_GRANTOR_NOT_MEMBER,
                                  "grantor: not a member of the case");
    json_t *custody = json_object_get (grantor, "custody_for");
    if (bn_request_integer (grantor, "age", 0) < BN_AGE_OF_MAJORITY && !json_array_size (custody))
        return bn_request_refuse (call, BR_REASON_GRANTOR_NOT_ENTITLED,
                                  "grantor: a minor consents only as a parent holding custody");
    size_t index;
    json_t *subject;
    json_array_foreach (subjects, index, subject)
    {
        const char *name = json_string_value (subject);
        json_t *member = bn_case_member (members, name);
        if (!member)
            return bn_request_refuse (call, BR_REASON_SUBJECT_NOT_MEMBER,
                                      "subjects: item %zu is not a member of the case", index);
        //  Another adult consents for themself, a child through its custodian
        if (member != grantor && (bn_request_integer (member, "age", 0) >= BN_AGE_OF_MAJORITY ||
                                  !bn_casework_ctx_list_has (custody, name)))
            return bn_request_refuse (call, BR_REASON_GRANTOR_NOT_ENTITLED,
                                      "subjects: item %zu is another adult, or a minor the grantor "
                                      "holds no custody for",
                                      index);
    }
    if (from < now - BR_CLOCK_SKEW_MS)
        return bn_request_refuse (call, BR_REASON_CONSENT_BACKDATED,
                                  "valid_from_ms: not before the consent is recorded");
    if (until - from > br_roster_consent_max_ms (ctx->roster))
        return bn_request_refuse (call, BR_REASON_CONSENT_TOO_LONG,
                                  "valid_until_ms: at most %lld days after valid_from_ms",
                                  (long long) (br_roster_consent_max_ms (ctx->roster) / 86400000));
    if (until <= now)
        return bn_request_refuse (call, BR_REASON_CONSENT_EXPIRED,
                                  "valid_until_ms: already passed");
    return BR_REASON_OK;
}

br_reason_t
bn_consent_record (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_request_t *call, int64_t now)
{
    json_t *body = call->body;
    uint8_t case_id[BN_ID_SIZE];
    json_t *found = NULL;
    if (!bn_casestore_id_parse (bn_request_text (body, "case_id", BN_ID_HEX), case_id) ||
        bn_casestore_get (ctx->records, txn, BN_CASESTORE_CASES, case_id, &found) != BR_REASON_OK)
        return bn_request_refuse (call, BR_REASON_NOT_FOUND, "case_id names no case");
    br_reason_t permitted = bn_casework_ctx_permit (call, found);
    if (permitted == BR_REASON_OK)
        permitted = bn_case_allows (call, found, "consent");
    char office[BR_SERVICE_MAX + 1];
    snprintf (office, sizeof (office), "%s",
              permitted == BR_REASON_OK ? bn_casestore_office (found) : "");
    json_t *members = json_incref (json_object_get (found, "members"));
    json_decref (found);
    if (permitted == BR_REASON_OK)
        permitted = s_consent_check (ctx, call, members, now);
    json_decref (members);
    if (permitted != BR_REASON_OK)
        return permitted;
    const char *grantor = bn_request_text (body, "grantor", BN_NAME_MAX);
    const char *purpose = bn_request_text (body, "purpose", BR_PURPOSE_MAX);
    const char *form = bn_request_text (body, "form", 16);
    const char *evidence = bn_request_text (body, "evidence_sha256", BN_CASEWORK_SHA256_HEX);
    json_int_t from = bn_request_integer (body, "valid_from_ms", now);
    json_int_t until = bn_request_integer (body, "valid_until_ms", -1);
    json_t *health = json_object_get (body, "health_data");
    json_t *categories = json_object_get (body, "categories");
    json_t *recipients = json_object_get (body, "recipients");
    uint8_t digest[32];
    if (!grantor)
        return bn_request_refuse (call, BR_REASON_MALFORMED, "grantor is required");
    if (!purpose || !br_catalogue_purpose_consentable (purpose))
        return bn_request_refuse (call, BR_REASON_PURPOSE_MISMATCH,
                                  "purpose is not one a consent covers");
    if (!form || (!streq (form, "written") && !streq (form, "electronic")))
        return bn_request_refuse (call, BR_REASON_MALFORMED, "form must be written or electronic");
    if (!evidence || strlen (evidence) != BN_CASEWORK_SHA256_HEX ||
        br_hex_decode (evidence, digest, sizeof (digest)) != 0)
        return bn_request_refuse (call, BR_REASON_MALFORMED, "evidence_sha256: 64 hex digits");
    if (!json_is_array (categories) || json_array_size (categories) == 0 ||
        json_array_size (categories) > BR_CATEGORIES_MAX ||
        !bn_casework_ctx_text_list (body, "categories", BR_CATEGORY_MAX, br_catalogue_category))
        return bn_request_refuse (call, BR_REASON_MALFORMED, "categories: catalogue codes");
    if (bn_casework_ctx_list_has (categories, BR_CATALOGUE_CATEGORY_HEALTH) &&
        !json_is_true (health))
        return bn_request_refuse (call, BR_REASON_CATEGORY_NOT_COVERED,
                                  "health data needs the explicit health_data flag");
    if (!json_is_array (recipients) || json_array_size (recipients) == 0 ||
        json_array_size (recipients) > BN_LIST_MAX)
        return bn_request_refuse (call, BR_REASON_MALFORMED,
                                  "recipients: a list of {ags, service}");
    json_t *resolved_list = json_array ();
    size_t index;
    json_t *address;
    br_reason_t reason = BR_REASON_OK;
    json_array_foreach (recipients, index, address)
    {
        json_t *resolved = NULL;
        reason = bn_casework_ctx_resolve (ctx, call, address, &resolved);
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
                   bn_request_text (body, "case_id", BN_ID_HEX), "grantor", grantor, "subjects",
                   json_object_get (body, "subjects"), "purpose", purpose, "categories", categories,
                   "recipients", resolved_list, "valid_from_ms", from, "valid_until_ms", until,
                   "form", form, "evidence_sha256", evidence, "health_data", json_is_true (health),
                   "status", "active", "recorded_at_ms", (json_int_t) now);
    json_object_set_new (record, "office", json_string (office));
    reason = bn_casestore_put (ctx->records, txn, BN_CASESTORE_CONSENTS, id, record);
    if (reason == BR_REASON_OK)
        reason = bn_casestore_event (ctx->records, txn, "consent", id, "active", record, now);
    if (reason == BR_REASON_OK)
        reason = bn_casework_ctx_audit (ctx, txn, call->user, call->route->action, id, "", now);
    call->status = 201;
    call->result = record;
    return reason;
}

//  A consent as shown: its status reflects expiry.
void
bn_consent_status (json_t *consent, int64_t now)
{
    const char *status = json_string_value (json_object_get (consent, "status"));
    if (status && streq (status, "active") &&
        bn_request_integer (consent, "valid_until_ms", 0) <= now)
        json_object_set_new (consent, "status", json_string ("expired"));
}

//  Cancels an outgoing referral under a withdrawn consent.
typedef struct {
    bn_casework_ctx_t *ctx;  //  the casework
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
    bn_casework_ctx_t *ctx = withdrawal->ctx;
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
    bn_casework_ctx_history_add (
        referral, "cancelled", withdrawal->now, withdrawal->by, "CONSENT_WITHDRAWN",
        withdrawal->incoming ? "consent withdrawn: processing stopped" : "");
    json_object_set_new (referral, "processing_stopped", json_true ());
    json_object_set_new (referral, "updated_at_ms", json_integer (withdrawal->now));
    br_reason_t reason = bn_casestore_put (ctx->records, txn, BN_CASESTORE_REFERRALS, id, referral);
    if (reason == BR_REASON_OK)
        reason = bn_casestore_event (ctx->records, txn, "referral", id, "cancelled", referral,
                                     withdrawal->now);
    return reason;
}

br_reason_t
bn_consent_withdraw (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_request_t *call, const char *hex,
                     int64_t now)
{
    uint8_t id[BN_ID_SIZE];
    json_t *consent = NULL;
    if (bn_casework_ctx_find (ctx, txn, call, BN_CASESTORE_CONSENTS, hex, "consent", id,
                              &consent) != BR_REASON_OK)
        return BR_REASON_NOT_FOUND;
    br_reason_t permitted = bn_casework_ctx_permit (call, consent);
    if (permitted != BR_REASON_OK) {
        json_decref (consent);
        return permitted;
    }
    json_t *only = call->body ? json_object_get (call->body, "recipients") : NULL;
    if (only && !json_is_array (only)) {
        json_decref (consent);
        return bn_request_refuse (call, BR_REASON_MALFORMED,
                                  "recipients: a list of {ags, service}");
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
        s_withdrawal_t withdrawal = {.ctx = ctx,
                                     .consent_hex = hex,
                                     .node = node,
                                     .service = service,
                                     .incoming = false,
                                     .by = call->user,
                                     .now = now};
        reason = bn_casestore_each (ctx->records, txn, BN_CASESTORE_REFERRALS, s_cancel_withdrawn,
                                    &withdrawal);
        //  The recipient and the broker learn of it by a signed message
        Bruecke__ConsentWithdrawal body = BRUECKE__CONSENT_WITHDRAWAL__INIT;
        body.consent_id.data = id;
        body.consent_id.len = BN_ID_SIZE;
        body.withdrawn_at_ms = now;
        uint8_t message_id[BR_MESSAGE_ID_SIZE];
        if (reason == BR_REASON_OK)
            reason = bn_casework_ctx_send (ctx, txn, BRUECKE__MESSAGE_TYPE__TYPE_CONSENT_WITHDRAWAL,
                                           node, service, NULL, &body.base, now,
                                           BN_MESSAGE_LIFETIME_MS, message_id);
    }
    if (reason == BR_REASON_OK && withdrawn_now == 0) {
        json_decref (consent);
        return bn_request_refuse (call, BR_REASON_INVALID_STATE, "nothing left to withdraw");
    }
    if (withdrawn_all == json_array_size (recipients)) {
        json_object_set_new (consent, "status", json_string ("withdrawn"));
        json_object_set_new (consent, "withdrawn_at_ms", json_integer (now));
    }
    if (reason == BR_REASON_OK)
        reason = bn_casestore_put (ctx->records, txn, BN_CASESTORE_CONSENTS, id, consent);
    if (reason == BR_REASON_OK)
        reason = bn_casestore_event (ctx->records, txn, "consent", id, "withdrawn", consent, now);
    if (reason == BR_REASON_OK)
        reason = bn_casework_ctx_audit (ctx, txn, call->user, call->route->action, id, "", now);
    call->result = consent;
    return reason;
}

//  POST /v1/consents/{id}/form: the signed form (a scan or PDF), kept sealed
//  with the consent. It must be the document whose digest the consent
//  recorded (EVIDENCE_MISMATCH); once stored it stays (INVALID_STATE).
br_reason_t
bn_consent_form_store (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_request_t *call, const char *hex,
                       int64_t now)
{
    uint8_t id[BN_ID_SIZE];
    json_t *consent = NULL;
    if (bn_casework_ctx_find (ctx, txn, call, BN_CASESTORE_CONSENTS, hex, "consent", id,
                              &consent) != BR_REASON_OK)
        return BR_REASON_NOT_FOUND;
    call->result = consent;
    br_reason_t reason = bn_casework_ctx_permit (call, consent);
    if (reason != BR_REASON_OK)
        return reason;
    const char *type = bn_request_text (call->body, "content_type", 32);
    if (!type || (!streq (type, "application/pdf") && !streq (type, "image/png") &&
                  !streq (type, "image/jpeg")))
        return bn_request_refuse (call, BR_REASON_MALFORMED,
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
        return bn_request_refuse (call, BR_REASON_MALFORMED, "data: 1 byte to %d KiB in base64",
                                  BN_FORM_MAX / 1024);
    }
    uint8_t digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256 (digest, bytes, size);
    char digest_hex[2 * crypto_hash_sha256_BYTES + 1];
    br_hex_encode (digest, sizeof (digest), digest_hex);
    const char *recorded = json_string_value (json_object_get (consent, "evidence_sha256"));
    if (json_is_true (json_object_get (consent, "form_stored")))
        reason =
            bn_request_refuse (call, BR_REASON_INVALID_STATE, "the signed form is stored already");
    else if (!recorded || strcasecmp (recorded, digest_hex) != 0)
        reason = bn_request_refuse (call, BR_REASON_EVIDENCE_MISMATCH,
                                    "the form's SHA-256 is not the consent's evidence_sha256");
    if (reason == BR_REASON_OK) {
        Bruecke__Store__SignedForm form = BRUECKE__STORE__SIGNED_FORM__INIT;
        form.content_type = (char *) type;
        form.has_data = true;
        form.data.data = bytes;
        form.data.len = size;
        zchunk_t *plain = br_proto_encode (&form.base);
        reason = bn_casestore_seal (ctx->records, txn, BN_CASESTORE_FORMS, id, zchunk_data (plain),
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
        reason = bn_casestore_put (ctx->records, txn, BN_CASESTORE_CONSENTS, id, consent);
    }
    if (reason == BR_REASON_OK)
        reason = bn_casework_ctx_audit (ctx, txn, call->user, call->route->action, id, "", now);
    call->status = 201;
    return reason;
}

//  GET /v1/consents/{id}/form: the signed form, for the consent's office.
br_reason_t
bn_consent_form_read (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_request_t *call, const char *hex,
                      int64_t now)
{
    uint8_t id[BN_ID_SIZE];
    json_t *consent = NULL;
    if (bn_casework_ctx_find (ctx, txn, call, BN_CASESTORE_CONSENTS, hex, "consent", id,
                              &consent) != BR_REASON_OK)
        return BR_REASON_NOT_FOUND;
    br_reason_t reason = bn_casework_ctx_permit (call, consent);
    json_decref (consent);
    if (reason != BR_REASON_OK)
        return reason;
    zchunk_t *plain = NULL;
    reason = bn_casestore_open (ctx->records, txn, BN_CASESTORE_FORMS, id, &plain);
    if (reason == BR_REASON_NOT_FOUND)
        return bn_request_refuse (call, reason, "no signed form is stored for this consent");
    Bruecke__Store__SignedForm *form = NULL;
    if (reason == BR_REASON_OK)
        form = (Bruecke__Store__SignedForm *) br_proto_decode (
            &bruecke__store__signed_form__descriptor, zchunk_data (plain), zchunk_size (plain),
            BN_RECORD_MAX, &reason);
    if (reason == BR_REASON_MALFORMED ||
        (reason == BR_REASON_OK && (!form->content_type || !form->has_data)))
        reason = BR_REASON_DECRYPT_FAILED; //  not what bn_consent_form_store sealed: broken
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
        reason = bn_casework_ctx_audit (ctx, txn, call->user, call->route->action, id, "", now);
    }
    if (form)
        sodium_memzero (form->data.data, form->data.len);
    br_proto_free ((ProtobufCMessage **) &form);
    if (plain)
        sodium_memzero (zchunk_data (plain), zchunk_size (plain));
    zchunk_destroy (&plain);
    return reason;
}

//  Checks a referral's consent: the case, purpose, recipient, validity and
//  categories it covers. Returns OK, or the refusal with call->detail.
br_reason_t
bn_consent_covers (bn_request_t *call, json_t *consent, const char *case_hex, const char *purpose,
                   const char *node, const char *service, json_t *categories, int64_t now)
{
    const char *consent_case = json_string_value (json_object_get (consent, "case_id"));
    if (!consent_case || !streq (consent_case, case_hex))
        return bn_request_refuse (call, BR_REASON_CONSENT_MISSING,
                                  "the consent is for another case");
    if (streq (json_string_value (json_object_get (consent, "status")), "withdrawn"))
        return bn_request_refuse (call, BR_REASON_CONSENT_WITHDRAWN, "the consent was withdrawn");
    if (!streq (json_string_value (json_object_get (consent, "purpose")), purpose))
        return bn_request_refuse (call, BR_REASON_PURPOSE_MISMATCH,
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
        return bn_request_refuse (call, BR_REASON_RECIPIENT_MISMATCH,
                                  "the consent does not name this recipient");
    if (json_object_get (match, "withdrawn_at_ms"))
        return bn_request_refuse (call, BR_REASON_CONSENT_WITHDRAWN,
                                  "the consent was withdrawn for this recipient");
    if (now < bn_request_integer (consent, "valid_from_ms", 0) ||
        now >= bn_request_integer (consent, "valid_until_ms", 0))
        return bn_request_refuse (call, BR_REASON_CONSENT_EXPIRED, "the consent is not valid now");
    json_t *covered = json_object_get (consent, "categories");
    json_t *category;
    json_array_foreach (categories, index, category)
    {
        if (!bn_casework_ctx_list_has (covered, json_string_value (category)))
            return bn_request_refuse (call, BR_REASON_CATEGORY_NOT_COVERED,
                                      "the consent does not cover a data category asked for");
    }
    return BR_REASON_OK;
}

br_reason_t
bn_consent_receive_withdrawal (bn_casework_ctx_t *ctx, MDB_txn *txn, const Bruecke__Header *header,
                               Bruecke__ConsentWithdrawal *withdrawal, int64_t now,
                               br_reason_t *verdict)
{
    if (withdrawal->consent_id.len != BN_ID_SIZE) {
        *verdict = BR_REASON_MALFORMED;
        return BR_REASON_OK;
    }
    char hex[BN_ID_HEX];
    bn_casestore_hex (withdrawal->consent_id.data, hex);
    s_withdrawal_t stop = {.ctx = ctx,
                           .consent_hex = hex,
                           .peer_node = header->sender,
                           .incoming = true,
                           .by = header->sender,
                           .now = now};
    *verdict = BR_REASON_OK;
    br_reason_t reason =
        bn_casestore_each (ctx->records, txn, BN_CASESTORE_REFERRALS, s_cancel_withdrawn, &stop);
    if (reason == BR_REASON_OK)
        reason = bn_casework_ctx_audit (ctx, txn, header->sender, "consent.withdrawn",
                                        withdrawal->consent_id.data, "", now);
    return reason;
}

//  ---- Self test ----------------------------------------------------------------------

void
bn_consent_test (bool verbose)
{
    if (verbose)
        printf (" * bn_consent: ");
    //  @selftest
    bn_casework_testing_t *county = bn_casework_testing_new ();
    bn_casework_town_t *luenen = &county->luenen;
    char *case_id = bn_casework_testing_case (luenen, "jobcenter");
    char *body = bn_casework_testing_consent_body (case_id);
    json_t *consent = bn_casework_testing_call (luenen, "POST", "/v1/consents", body, BR_REASON_OK);
    char *path =
        zsys_sprintf ("/v1/consents/%s", json_string_value (json_object_get (consent, "id")));
    json_decref (consent);
    //  No signed form yet; the Jugendamt does not see the Jobcenter's consent
    char *form_path = zsys_sprintf ("%s/form", path);
    bn_casework_testing_call (luenen, "GET", form_path, NULL, BR_REASON_NOT_FOUND);
    bn_casework_testing_call_as (luenen, "jugendamt", "GET", path, NULL,
                                 BR_REASON_OFFICE_NOT_PERMITTED);
    //  Withdrawn once, for all its recipients: nothing is left to withdraw
    char *withdraw_path = zsys_sprintf ("%s/withdraw", path);
    json_t *withdrawn =
        bn_casework_testing_call (luenen, "POST", withdraw_path, "{}", BR_REASON_OK);
    assert (streq (json_string_value (json_object_get (withdrawn, "status")), "withdrawn"));
    json_decref (withdrawn);
    bn_casework_testing_call (luenen, "POST", withdraw_path, "{}", BR_REASON_INVALID_STATE);
    br_reason_t verdict;
    assert (bn_casework_testing_deliver (luenen, &county->unna, county->roster, &verdict) == 1 &&
            verdict == BR_REASON_OK);
    zstr_free (&withdraw_path);
    zstr_free (&form_path);
    zstr_free (&path);
    zstr_free (&body);
    zstr_free (&case_id);
    bn_casework_testing_destroy (&county);
    //  An active consent whose time is up shows as expired
    json_t *shown = json_pack ("{ss sI}", "status", "active", "valid_until_ms", (json_int_t) 5);
    bn_consent_status (shown, 5);
    assert (streq (json_string_value (json_object_get (shown, "status")), "expired"));
    json_decref (shown);
    //  @end
    if (verbose)
        printf ("OK\n");
}
