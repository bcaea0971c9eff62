/*  =========================================================================
    bn_casework_ctx - what the parts of the casework share
    =========================================================================
*/

#include "bruecke.h"
#include "bn_casework_ctx.h"
#include "br_testing.h"

//  True if the roster gives this node the office (service) `office`.
bool
bn_casework_ctx_office_here (bn_casework_ctx_t *ctx, const char *office)
{
    const Bruecke__RosterNode *here =
        br_roster_lookup_by_id (ctx->roster, br_identity_node_id (ctx->identity));
    return here && br_roster_node_offers (here, office);
}

//  True if the caller acts for the office `record` belongs to.
bool
bn_casework_ctx_sees (bn_request_t *call, json_t *record)
{
    const char *office = bn_casestore_office (record);
    return office && bn_routes_office_in (call->offices, office);
}

//  OK if the caller acts for the office `record` belongs to; else refuses
//  OFFICE_NOT_PERMITTED (need-to-know: §35 SGB I, §§67 ff. SGB X).
br_reason_t
bn_casework_ctx_permit (bn_request_t *call, json_t *record)
{
    if (bn_casework_ctx_sees (call, record))
        return BR_REASON_OK;
    return bn_request_refuse (call, BR_REASON_OFFICE_NOT_PERMITTED,
                              "this belongs to an office you do not act for");
}

br_reason_t
bn_casework_ctx_find (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_request_t *call,
                      bn_casestore_table_t table, const char *hex, const char *what,
                      uint8_t id[BN_ID_SIZE], json_t **record_p)
{
    *record_p = NULL;
    if (!bn_casestore_id_parse (hex, id) ||
        bn_casestore_get (ctx->records, txn, table, id, record_p) != BR_REASON_OK)
        return bn_request_refuse (call, BR_REASON_NOT_FOUND, "no such %s", what);
    return BR_REASON_OK;
}

br_reason_t
bn_casework_ctx_audit (bn_casework_ctx_t *ctx, MDB_txn *txn, const char *actor, const char *action,
                       const uint8_t *id, const char *detail, int64_t now)
{
    char hex[BN_ID_HEX] = "";
    if (id)
        bn_casestore_hex (id, hex);
    //  What an administrator does under emergency access says so
    char noted[BN_AUDIT_DETAIL_MAX + 1];
    if (ctx->break_glass) {
        snprintf (noted, sizeof (noted), "%s%s%s", ctx->break_glass, *detail ? " " : "", detail);
        detail = noted;
    }
    return bn_audit_append (ctx->audit, txn, now, actor, action, hex, detail);
}

//  Checks that member `name` is an array of at most BN_LIST_MAX valid
//  strings of at most `max` bytes (missing = empty). `code` requires
//  catalogue-style codes checked by `known`.
bool
bn_casework_ctx_text_list (json_t *object, const char *name, size_t max,
                           const char *(*known) (const char *) )
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
bool
bn_casework_ctx_list_has (json_t *list, const char *text)
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

//  Builds, signs and seals a casework message to `to` and puts it into the
//  outbox, or into the local queue if `to` is this node. `message_id`
//  receives its id.
br_reason_t
bn_casework_ctx_send (bn_casework_ctx_t *ctx, MDB_txn *txn, Bruecke__MessageType type,
                      const char *to, const char *service, const Bruecke__Attestation *attestation,
                      const ProtobufCMessage *body, int64_t now, int64_t lifetime,
                      uint8_t message_id[BR_MESSAGE_ID_SIZE])
{
    const Bruecke__RosterNode *recipient = br_roster_lookup_by_id (ctx->roster, to);
    if (!recipient)
        return BR_REASON_UNKNOWN_NODE;
    if (recipient->revoked)
        return BR_REASON_NODE_REVOKED;
    if (!br_roster_node_offers (recipient, service))
        return BR_REASON_NO_ROUTE;
    //  The sequence number is taken last: a message refused here uses none
    Bruecke__Header header;
    br_envelope_header_init (&header, message_id, type, br_identity_node_id (ctx->identity), to,
                             service, 0, now, lifetime);
    if (attestation) {
        br_reason_t reason = br_attestation_check (attestation, &header, now);
        if (reason == BR_REASON_OK)
            reason = br_catalogue_check (type, attestation);
        if (reason != BR_REASON_OK)
            return reason;
    }
    header.sequence = bn_store_next_sequence (ctx->store);
    zchunk_t *chunk = br_envelope_build (ctx->identity, &header, attestation, body,
                                         recipient->seal_public_key.data);
    //  Between two offices of this node it stays here: the node applies it
    //  from its local queue, with the checks of any delivery
    br_reason_t reason = streq (to, br_identity_node_id (ctx->identity))
                             ? bn_store_local_add (ctx->store, txn, &header, zchunk_data (chunk),
                                                   zchunk_size (chunk))
                             : bn_store_outbox_add (ctx->store, txn, &header, zchunk_data (chunk),
                                                    zchunk_size (chunk));
    zchunk_destroy (&chunk);
    return reason;
}

//  The start of an attestation's validity for a message sent now: it
//  reaches back by the tolerated clock skew, so that a recipient whose
//  clock is behind takes it, but never before `basis_from`, where its legal
//  basis begins.
int64_t
bn_casework_ctx_valid_from (int64_t now, int64_t basis_from)
{
    int64_t from = now - BR_CLOCK_SKEW_MS;
    return from > basis_from ? from : basis_from;
}

//  Appends a history entry to a referral or transfer and sets its state.
void
bn_casework_ctx_history_add (json_t *record, const char *state, int64_t at, const char *by,
                             const char *reason, const char *text)
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

//  Resolves {ags, service} through the roster into `resolved` (adds "node").
br_reason_t
bn_casework_ctx_resolve (bn_casework_ctx_t *ctx, bn_request_t *call, json_t *address,
                         json_t **resolved)
{
    const char *ags = bn_request_text (address, "ags", 8);
    const char *service = bn_request_text (address, "service", BR_SERVICE_MAX);
    if (!ags || !br_ags_valid (ags, 8) || !service || !br_catalogue_service (service))
        return bn_request_refuse (call, BR_REASON_MALFORMED,
                                  "an address is {ags: 8 digits, service: code}");
    br_reason_t reason;
    const Bruecke__RosterNode *node = br_roster_lookup_route (ctx->roster, ags, service, &reason);
    if (!node)
        return bn_request_refuse (call, reason, "no node is responsible for this (AGS, service)");
    *resolved = json_pack ("{ss ss ss}", "ags", ags, "service", service, "node", node->node_id);
    return BR_REASON_OK;
}

//  The key under which this node keeps a referral or transfer `id` it
//  received from `sender`: the id itself, so that both towns name it
//  alike; but if the sender is this node (one of its offices referred to
//  another), a key derived from the id, as the sending office's record
//  holds the id itself.
void
bn_casework_ctx_incoming_key (bn_casework_ctx_t *ctx, const uint8_t id[BN_ID_SIZE],
                              const char *sender, uint8_t key[BN_ID_SIZE])
{
    if (!streq (sender, br_identity_node_id (ctx->identity))) {
        memcpy (key, id, BN_ID_SIZE);
        return;
    }
    static const uint8_t domain[crypto_generichash_KEYBYTES_MIN] = "bruecke-incoming";
    crypto_generichash (key, BN_ID_SIZE, id, BN_ID_SIZE, domain, sizeof (domain));
}

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

//  The common start of taking a referral or a case transfer: an id of
//  BN_ID_SIZE bytes whose record key (bn_casework_ctx_incoming_key, into `key`) is not
//  yet in `table` (else *verdict = `repeated`; a transfer this node received
//  from `sender` and declined is taken as new), the sender's service code,
//  and sections the attestation covers (else *verdict says why not).
//  Returns true, with the sections in *sections_p, if the message is to be
//  taken.
bool
bn_casework_ctx_take (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_casestore_table_t table,
                      const ProtobufCBinaryData *id, const char *sender, const char *sender_service,
                      Bruecke__DataSection **sections, size_t count,
                      const Bruecke__Attestation *attestation, br_reason_t repeated,
                      br_reason_t *verdict, json_t **sections_p, uint8_t key[BN_ID_SIZE])
{
    if (id->len != BN_ID_SIZE || !br_token_valid (sender_service, BR_SERVICE_MAX)) {
        *verdict = BR_REASON_MALFORMED;
        return false;
    }
    bn_casework_ctx_incoming_key (ctx, id->data, sender, key);
    json_t *existing = NULL;
    if (bn_casestore_get (ctx->records, txn, table, key, &existing) == BR_REASON_OK) {
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
br_reason_t
bn_casework_ctx_peer_record (bn_casework_ctx_t *ctx, MDB_txn *txn, bn_casestore_table_t table,
                             const ProtobufCBinaryData *id, const char *peer_field,
                             const char *peer, const char *direction, json_t **record_p)
{
    *record_p = NULL;
    if (id->len != BN_ID_SIZE)
        return BR_REASON_MALFORMED;
    br_reason_t reason = bn_casestore_get (ctx->records, txn, table, id->data, record_p);
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

//  ---- Self test ----------------------------------------------------------------------

void
bn_casework_ctx_test (bool verbose)
{
    if (verbose)
        printf (" * bn_casework_ctx: ");
    //  @selftest
    //  Lists of text, and what they hold
    json_t *object =
        json_pack ("{s[ss] s[i] ss}", "codes", "household", "language", "numbers", 5, "text", "x");
    assert (bn_casework_ctx_text_list (object, "codes", 16, br_catalogue_category));
    assert (!bn_casework_ctx_text_list (object, "codes", 4, NULL));
    assert (!bn_casework_ctx_text_list (object, "numbers", 16, NULL));
    assert (!bn_casework_ctx_text_list (object, "text", 16, NULL));
    assert (bn_casework_ctx_text_list (object, "missing", 16, NULL));
    assert (bn_casework_ctx_list_has (json_object_get (object, "codes"), "language"));
    assert (!bn_casework_ctx_list_has (json_object_get (object, "codes"), "health"));
    //  A history entry sets the state
    bn_casework_ctx_history_add (object, "accepted", 7, "unna", "OK", NULL);
    json_t *entry = json_array_get (json_object_get (object, "history"), 0);
    assert (streq (json_string_value (json_object_get (object, "state")), "accepted"));
    assert (json_integer_value (json_object_get (entry, "at_ms")) == 7);
    assert (!json_object_get (entry, "text"));
    json_decref (object);
    //  Validity reaches back by the clock skew, never before its basis
    assert (bn_casework_ctx_valid_from (100000000, 0) == 100000000 - BR_CLOCK_SKEW_MS);
    assert (bn_casework_ctx_valid_from (100000000, 99999999) == 99999999);
    //  A referral from another node keeps its id; one between two offices
    //  of this node is kept under a key of its own
    bn_casework_ctx_t ctx = {.identity = br_identity_new ("luenen")};
    uint8_t id[BN_ID_SIZE] = {1, 2, 3}, key[BN_ID_SIZE];
    bn_casework_ctx_incoming_key (&ctx, id, "unna", key);
    assert (memcmp (key, id, BN_ID_SIZE) == 0);
    bn_casework_ctx_incoming_key (&ctx, id, "luenen", key);
    assert (memcmp (key, id, BN_ID_SIZE) != 0);
    br_identity_destroy (&ctx.identity);
    //  @end
    if (verbose)
        printf ("OK\n");
}
