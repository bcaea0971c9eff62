/*  =========================================================================
    fuzz_casework - fuzz target: casework messages as a town node receives them

    The input is a control byte (see FUZZ_CASEWORK_* in fuzz_fixture.h), then
    the body bytes of a casework message. The target wraps the bytes as they
    are into a message from Lünen to Unna: sealed to Unna's seal key for the
    sealed types (REFERRAL, REFERRAL_UPDATE, CASE_TRANSFER), with an
    attestation that passes the recipient's checks for the personal ones,
    signed with Lünen's fixture key. Every check before the casework must
    pass, so the fuzzer plays an enrolled node that sends hostile content;
    the bytes then go into bn_casework_receive, which opens and decodes the
    body, parses the sections' JSON text with jansson, and reads and writes
    records sealed with bn_vault in LMDB.

    Unna's store, data key, audit log and casework live in a temporary
    directory made once per process. It is removed as soon as everything in
    it is open: LMDB goes on working on the open files, and a crash, which
    aborts without cleaning up, leaves nothing behind. Before the first
    input Unna's caseworkers record, through the API, a case with a consent
    and FUZZ_CASEWORK_OWN_COUNT referrals to Lünen's Jobcenter, and as many
    cases transferred to Lünen, so that updates and transfer answers can meet
    outgoing records ("own records"). Their ids are random; the control
    byte's FUZZ_CASEWORK_OWN bit appends one of them to the body as field 1,
    which is the id field of every casework body (protobuf takes the last).

    Each input is received in a write transaction that is aborted, so the
    store does not grow, unless the control byte says to commit: then later
    inputs meet what it left (replayed referral ids, repeated transfers).
    At most S_COMMITS_MAX inputs commit per process.

    Besides crashes, leaks and undefined behaviour, the target checks: the
    receiver returns OK or a store reason; a refused message writes nothing;
    a taken one writes what it should and reads back through the API in the
    state it should have; Lünen changes only records it is the peer of, and
    only its side's states; a record of Unna's own is never replaced; and
    the REFERRAL_UPDATE a taken referral sends back passes every check of
    Lünen as its recipient.

    Set FUZZ_CASEWORK_TRACE in the environment to print each input's type
    and verdict (the seed corpus's names say which verdict to expect).
    =========================================================================
*/

#include "fuzz_fixture.h"
#include "bn_casework.h"

#define S_COMMITS_MAX   2000                      //  inputs that may commit, per process
#define S_MAPSIZE       ((size_t) 1 << 30)        //  the store's map: 1 GiB, sparse
#define S_ID_FIELD_TAG  ((1 << 3) | 2)            //  field 1, length-delimited: every body's id
#define S_ID_FIELD_SIZE (2 + BN_ID_SIZE)          //  that field with its tag and length
#define S_ID_HEX        (2 * BN_ID_SIZE + 1)      //  an id in hex with its NUL
#define S_PATH_MAX      64                        //  an API path with an id
#define S_USER          "fuzz-caseworker"         //  the API user the target reads as
#define S_OFFICES       "fruehe-hilfen,jugendamt" //  Unna's offices, all of which it acts for
#define S_UNSET         ((br_reason_t) 999)       //  no reason code: a verdict never set

_Static_assert(FUZZ_CASEWORK_ID_SIZE == BN_ID_SIZE, "the corpus's ids are casework ids");

//  One casework message type as the target sends it.
typedef struct {
    Bruecke__MessageType type;                    //  its type
    const ProtobufCMessageDescriptor *descriptor; //  its body
    const char *service;                          //  Unna's service it goes to
} s_kind_t;

static const s_kind_t s_kinds[FUZZ_CASEWORK_TYPES] = {
    {BRUECKE__MESSAGE_TYPE__TYPE_REFERRAL, &bruecke__referral__descriptor, "fruehe-hilfen"},
    {BRUECKE__MESSAGE_TYPE__TYPE_REFERRAL_UPDATE, &bruecke__referral_update__descriptor,
     "fruehe-hilfen"},
    {BRUECKE__MESSAGE_TYPE__TYPE_CONSENT_WITHDRAWAL, &bruecke__consent_withdrawal__descriptor,
     "fruehe-hilfen"},
    {BRUECKE__MESSAGE_TYPE__TYPE_CASE_TRANSFER, &bruecke__case_transfer__descriptor, "jugendamt"},
    {BRUECKE__MESSAGE_TYPE__TYPE_CASE_TRANSFER_ANSWER, &bruecke__case_transfer_answer__descriptor,
     "jugendamt"},
};

//  The databases whose entries the target counts around each input.
enum { S_CASES, S_REFERRALS, S_TRANSFERS, S_EVENTS, S_AUDIT, S_OUTBOX, S_DB_COUNT };
static const char *s_db_names[S_DB_COUNT] = {"cases",  "referrals", "transfers",
                                             "events", "audit",     "outbox"};

//  Unna, the recipient, and what its caseworkers recorded before the first input.
typedef struct {
    bn_store_t *store;           //  its node store
    bn_vault_t *vault;           //  its data key
    bn_audit_t *audit;           //  its audit log
    bn_casework_t *casework;     //  its casework, with the fixture's Unna
    MDB_dbi dbis[S_DB_COUNT];    //  the databases counted
    uint8_t consent[BN_ID_SIZE]; //  the consent of its own referrals
    uint8_t referrals[FUZZ_CASEWORK_OWN_COUNT][BN_ID_SIZE]; //  its referrals to Lünen
    uint8_t transfers[FUZZ_CASEWORK_OWN_COUNT][BN_ID_SIZE]; //  its case transfers to Lünen
    size_t commits;                                         //  inputs committed so far
    bool trace;                                             //  print each input's verdict
} s_world_t;

static s_world_t *s_world = NULL;

//  ---- Unna's node ----------------------------------------------------------

//  Makes an API call as Unna's caseworker in `txn`, which must succeed.
//  Returns the result, which the caller owns.
static json_t *
s_call (MDB_txn *txn, const char *method, const char *path, json_t *body)
{
    bn_request_t call = {.method = method,
                         .path = path,
                         .body = body,
                         .user = S_USER,
                         .role = "caseworker",
                         .offices = S_OFFICES};
    char id[BN_ROUTES_ID_MAX + 1];
    FUZZ_CHECK (bn_request_route (&call, id) == BR_REASON_OK);
    br_reason_t reason = bn_casework_call (s_world->casework, txn, &call);
    if (reason != BR_REASON_OK)
        fprintf (stderr, "fuzz_casework: %s %s: %s (%s)\n", method, path, br_reason_name (reason),
                 call.detail);
    FUZZ_CHECK (reason == BR_REASON_OK && call.result);
    return call.result;
}

//  Reads the id of an API result into `id` and, if `hex` is given, as text.
static void
s_result_id (json_t *result, const char *member, uint8_t id[BN_ID_SIZE], char hex[S_ID_HEX])
{
    const char *text = json_string_value (json_object_get (result, member));
    FUZZ_CHECK (text && strlen (text) == 2 * BN_ID_SIZE);
    FUZZ_CHECK (br_hex_decode (text, id, BN_ID_SIZE) == 0);
    if (hex)
        snprintf (hex, S_ID_HEX, "%s", text);
}

//  Records a new case of the (invented) family. Returns its id in hex.
static void
s_case_new (MDB_txn *txn, char hex[S_ID_HEX])
{
    json_t *body =
        json_loads ("{\"kind\": \"family\", \"service\": \"fruehe-hilfen\", \"members\": ["
                    "{\"name\": \"Aylin Beispiel\", \"role\": \"mother\", \"age\": 29,"
                    " \"custody_for\": [\"Deniz Beispiel\"]},"
                    "{\"name\": \"Deniz Beispiel\", \"role\": \"child\", \"age\": 5}],"
                    "\"needs\": [\"Kita-Platz\", \"Sprachf\xc3\xb6rderung\"],"
                    "\"details\": {\"language\": {\"child\": \"spricht kein Deutsch\"}}}",
                    0, NULL);
    FUZZ_CHECK (body);
    json_t *result = s_call (txn, "POST", "/v1/cases", body);
    uint8_t id[BN_ID_SIZE];
    s_result_id (result, "id", id, hex);
    json_decref (result);
    json_decref (body);
}

//  Unna's caseworkers at work: a consent, referrals and case transfers to
//  Lünen. The calls run on the real clock (bn_casework_call reads it).
static void
s_world_records (void)
{
    MDB_txn *txn = NULL;
    FUZZ_CHECK (bn_store_begin (s_world->store, &txn) == BR_REASON_OK);
    char case_hex[S_ID_HEX];
    s_case_new (txn, case_hex);
    int64_t now = br_now_ms ();
    json_t *body = json_pack (
        "{ss ss s[ss] ss s[sss] s[{ss ss}] sI sI ss ss sb}", "case_id", case_hex, "grantor",
        "Aylin Beispiel", "subjects", "Aylin Beispiel", "Deniz Beispiel", "purpose",
        "language-support", "categories", "household", "child-age", "language", "recipients", "ags",
        "05978024", "service", "jobcenter", "valid_from_ms", (json_int_t) now, "valid_until_ms",
        (json_int_t) (now + 365 * FUZZ_DAY_MS), "form", "written", "evidence_sha256",
        "0000000000000000000000000000000000000000000000000000000000000007", "health_data", false);
    FUZZ_CHECK (body);
    json_t *result = s_call (txn, "POST", "/v1/consents", body);
    char consent_hex[S_ID_HEX];
    s_result_id (result, "id", s_world->consent, consent_hex);
    json_decref (result);
    json_decref (body);

    for (size_t index = 0; index < FUZZ_CASEWORK_OWN_COUNT; index++) {
        body = json_pack ("{ss ss ss ss s{ss ss} s[sss] ss}", "case_id", case_hex, "service",
                          "fruehe-hilfen", "purpose", "language-support", "consent_id", consent_hex,
                          "recipient", "ags", "05978024", "service", "jobcenter", "categories",
                          "household", "child-age", "language", "note", "Bitte um Kontaktaufnahme");
        FUZZ_CHECK (body);
        result = s_call (txn, "POST", "/v1/referrals", body);
        s_result_id (result, "id", s_world->referrals[index], NULL);
        json_decref (result);
        json_decref (body);

        //  The family of another case moves to Lünen
        char moved_hex[S_ID_HEX];
        s_case_new (txn, moved_hex);
        char path[S_PATH_MAX];
        snprintf (path, sizeof (path), "/v1/cases/%s/transfer", moved_hex);
        body = json_pack ("{ss}", "ags", "05978024");
        result = s_call (txn, "POST", path, body);
        s_result_id (result, "id", s_world->transfers[index], NULL);
        json_decref (result);
        json_decref (body);
    }
    FUZZ_CHECK (bn_store_commit (s_world->store, &txn) == BR_REASON_OK);
}

static void
s_world_destroy (void)
{
    if (s_world) {
        bn_casework_destroy (&s_world->casework);
        bn_audit_destroy (&s_world->audit);
        bn_vault_destroy (&s_world->vault);
        bn_store_destroy (&s_world->store);
        free (s_world);
        s_world = NULL;
    }
}

//  Sets up Unna's node, once per process.
static void
s_world_new (void)
{
    fuzz_fixture_t *fixture = fuzz_fixture ();
    s_world = (s_world_t *) zmalloc (sizeof (s_world_t));
    s_world->trace = getenv ("FUZZ_CASEWORK_TRACE") != NULL;
    char *path = br_temp_directory ("fuzz_casework");
    FUZZ_CHECK (path);
    //  Registered after the fixture's: runs first, while the keys still exist
    atexit (s_world_destroy);
    br_reason_t reason;
    s_world->store = bn_store_new (path, S_MAPSIZE, &reason);
    FUZZ_CHECK (s_world->store);
    char *key_path = zsys_sprintf ("%s/data.key", path);
    s_world->vault = bn_vault_load (key_path, true, &reason);
    zstr_free (&key_path);
    FUZZ_CHECK (s_world->vault);
    s_world->audit = bn_audit_new (bn_store_env (s_world->store), &reason);
    FUZZ_CHECK (s_world->audit);
    s_world->casework =
        bn_casework_new (s_world->store, fixture->unna, s_world->vault, s_world->audit, &reason);
    FUZZ_CHECK (s_world->casework);
    bn_casework_set_roster (s_world->casework, fixture->roster);
    for (size_t index = 0; index < S_DB_COUNT; index++)
        FUZZ_CHECK (br_store_open_db (bn_store_env (s_world->store), s_db_names[index], 0,
                                      &s_world->dbis[index]) == BR_REASON_OK);
    s_world_records ();
    //  Everything is open: the files need no names any more
    zdir_t *directory = zdir_new (path, NULL);
    FUZZ_CHECK (directory);
    zdir_remove (directory, true);
    zdir_destroy (&directory);
    FUZZ_CHECK (!zsys_file_exists (path));
    zstr_free (&path);
}

//  ---- The message ----------------------------------------------------------

static uint8_t s_consent_id[BR_CONSENT_ID_SIZE]; //  the attestations' consent id
static char *s_referral_categories[] = {"household", "child-age", "language"};
static char *s_update_categories[] = {BR_CATALOGUE_CATEGORY_OUTCOME};
static char *s_transfer_categories[] = {"household", "case-history", "language"};

//  Fills the attestation a careful Lünen sends a message of `type` to Unna
//  under, to `service`.
static void
s_attestation (Bruecke__Attestation *attestation, Bruecke__MessageType type, bool statute,
               const char *service)
{
    bruecke__attestation__init (attestation);
    for (size_t index = 0; index < sizeof (s_consent_id); index++)
        s_consent_id[index] = (uint8_t) (FUZZ_CASEWORK_CONSENT_BYTE + index);
    attestation->basis = BRUECKE__LEGAL_BASIS__BASIS_CONSENT;
    attestation->consent_id.data = s_consent_id;
    attestation->consent_id.len = sizeof (s_consent_id);
    attestation->purpose = "language-support";
    attestation->data_categories = s_referral_categories;
    attestation->n_data_categories = 3;
    if (type == BRUECKE__MESSAGE_TYPE__TYPE_REFERRAL_UPDATE) {
        attestation->data_categories = s_update_categories;
        attestation->n_data_categories = 1;
    }
    if (statute || type == BRUECKE__MESSAGE_TYPE__TYPE_CASE_TRANSFER) {
        attestation->basis = BRUECKE__LEGAL_BASIS__BASIS_STATUTE;
        attestation->consent_id.len = 0;
        attestation->statute = "SGB VIII \xc2\xa7"
                               "8a";
        attestation->purpose = "child-protection";
    }
    if (type == BRUECKE__MESSAGE_TYPE__TYPE_CASE_TRANSFER) {
        attestation->statute = BR_CATALOGUE_STATUTE_RELOCATION;
        attestation->purpose = BR_CATALOGUE_PURPOSE_CASE_TRANSFER;
        attestation->data_categories = s_transfer_categories;
        attestation->n_data_categories = 3;
    }
    attestation->recipient = "unna";
    attestation->recipient_service = (char *) service;
    attestation->valid_from_ms = FUZZ_NOW_MS - 30 * FUZZ_DAY_MS;
    attestation->valid_until_ms = FUZZ_NOW_MS + 335 * FUZZ_DAY_MS;
}

//  Builds the envelope Lünen sends: `body` as the body bytes, sealed to
//  Unna if the type is sealed. Returns the encoded Envelope.
static zchunk_t *
s_envelope_build (const s_kind_t *kind, bool statute, const uint8_t *body, size_t size)
{
    fuzz_fixture_t *fixture = fuzz_fixture ();
    //  A referral under a statute goes to the Jugendamt, as child protection does
    const char *service =
        statute && kind->type == BRUECKE__MESSAGE_TYPE__TYPE_REFERRAL ? "jugendamt" : kind->service;
    Bruecke__Header header;
    uint8_t message_id[BR_MESSAGE_ID_SIZE];
    br_envelope_header_init (&header, message_id, kind->type, "luenen", "unna", service, 1,
                             FUZZ_NOW_MS, FUZZ_DAY_MS);
    Bruecke__Attestation attestation;
    s_attestation (&attestation, kind->type, statute, service);
    zchunk_t *sealed = NULL;
    if (br_message_type_sealed (kind->type)) {
        sealed = br_seal_close (body, size, br_identity_seal_public (fixture->unna));
        body = zchunk_data (sealed);
        size = zchunk_size (sealed);
    }
    Bruecke__Message message = BRUECKE__MESSAGE__INIT;
    message.header = &header;
    message.attestation = br_message_type_personal (kind->type) ? &attestation : NULL;
    message.body.data = (uint8_t *) body;
    message.body.len = size;
    zchunk_t *message_bytes = br_proto_encode (&message.base);
    zchunk_t *envelope = br_envelope_sign (fixture->luenen, zchunk_data (message_bytes),
                                           zchunk_size (message_bytes));
    zchunk_destroy (&message_bytes);
    zchunk_destroy (&sealed);
    return envelope;
}

//  Receives the envelope as Unna's node does before its casework: every
//  check must pass. Returns the verified envelope.
static br_envelope_t *
s_envelope_accept (zchunk_t *chunk)
{
    fuzz_fixture_t *fixture = fuzz_fixture ();
    br_reason_t reason;
    br_envelope_t *envelope =
        br_envelope_decode (zchunk_data (chunk), zchunk_size (chunk), &reason);
    FUZZ_CHECK (envelope);
    FUZZ_CHECK (br_envelope_verify_in_roster (envelope, fixture->roster) == BR_REASON_OK);
    FUZZ_CHECK (br_envelope_check_time (envelope, FUZZ_NOW_MS) == BR_REASON_OK);
    FUZZ_CHECK (br_envelope_check_attestation (envelope, FUZZ_NOW_MS) == BR_REASON_OK);
    FUZZ_CHECK (br_message_type_at_node (br_envelope_header (envelope)->type) ==
                BR_AT_NODE_CASEWORK);
    return envelope;
}

//  ---- Checks ---------------------------------------------------------------

//  Entries of each counted database, as `txn` sees them.
static void
s_count (MDB_txn *txn, size_t counts[S_DB_COUNT])
{
    for (size_t index = 0; index < S_DB_COUNT; index++) {
        MDB_stat stat;
        FUZZ_CHECK (mdb_stat (txn, s_world->dbis[index], &stat) == 0);
        counts[index] = stat.ms_entries;
    }
}

//  Reads `kind` record `id` through the API, in `txn`. Returns it, or
//  NULL if there is none.
static json_t *
s_read_maybe (MDB_txn *txn, const char *kind, const uint8_t id[BN_ID_SIZE])
{
    char hex[S_ID_HEX];
    br_hex_encode (id, BN_ID_SIZE, hex);
    char path[S_PATH_MAX];
    snprintf (path, sizeof (path), "/v1/%s/%s", kind, hex);
    bn_request_t call = {
        .method = "GET", .path = path, .user = S_USER, .role = "caseworker", .offices = S_OFFICES};
    char route_id[BN_ROUTES_ID_MAX + 1];
    FUZZ_CHECK (bn_request_route (&call, route_id) == BR_REASON_OK);
    br_reason_t reason = bn_casework_call (s_world->casework, txn, &call);
    FUZZ_CHECK (reason == BR_REASON_OK || reason == BR_REASON_NOT_FOUND);
    FUZZ_CHECK ((call.result != NULL) == (reason == BR_REASON_OK));
    return call.result;
}

//  Reads `kind` record `id`, which must exist.
static json_t *
s_read (MDB_txn *txn, const char *kind, const uint8_t id[BN_ID_SIZE])
{
    json_t *record = s_read_maybe (txn, kind, id);
    FUZZ_CHECK (record);
    return record;
}

//  True if `record`'s member `name` is the string `text`.
static bool
s_record_says (json_t *record, const char *name, const char *text)
{
    const char *value = json_string_value (json_object_get (record, name));
    return value && streq (value, text);
}

//  The node at the other end of a referral or transfer record.
static const char *
s_record_peer (json_t *record)
{
    const char *field =
        s_record_says (record, "direction", "outgoing") && json_object_get (record, "to") ? "to"
                                                                                          : "peer";
    return json_string_value (json_object_get (json_object_get (record, field), "node"));
}

//  The collection a body's id names records of, and that id (NULL if the
//  body has none).
static const ProtobufCBinaryData *
s_body_id (const s_kind_t *kind, const ProtobufCMessage *body, const char **collection)
{
    switch (kind->type) {
        case BRUECKE__MESSAGE_TYPE__TYPE_REFERRAL:
            *collection = "referrals";
            return &((const Bruecke__Referral *) body)->referral_id;
        case BRUECKE__MESSAGE_TYPE__TYPE_REFERRAL_UPDATE:
            *collection = "referrals";
            return &((const Bruecke__ReferralUpdate *) body)->referral_id;
        case BRUECKE__MESSAGE_TYPE__TYPE_CASE_TRANSFER:
            *collection = "transfers";
            return &((const Bruecke__CaseTransfer *) body)->transfer_id;
        case BRUECKE__MESSAGE_TYPE__TYPE_CASE_TRANSFER_ANSWER:
            *collection = "transfers";
            return &((const Bruecke__CaseTransferAnswer *) body)->transfer_id;
        default:
            *collection = NULL;
            return NULL;
    }
}

//  The API's name of a referral state: REFERRAL_IN_PROGRESS is "in_progress".
static void
s_state_name (int state, char *name, size_t size)
{
    const ProtobufCEnumValue *value =
        protobuf_c_enum_descriptor_get_value (&bruecke__referral_state__descriptor, state);
    FUZZ_CHECK (value && strncmp (value->name, "REFERRAL_", 9) == 0);
    snprintf (name, size, "%s", value->name + 9);
    for (char *letter = name; *letter; letter++)
        *letter = (char) tolower ((unsigned char) *letter);
}

//  Checks the REFERRAL_UPDATE a taken referral sent back (the outbox's
//  newest entry) as Lünen receives it.
static void
s_check_sent_back (MDB_txn *txn, const Bruecke__Referral *referral)
{
    fuzz_fixture_t *fixture = fuzz_fixture ();
    MDB_cursor *cursor;
    FUZZ_CHECK (mdb_cursor_open (txn, s_world->dbis[S_OUTBOX], &cursor) == 0);
    MDB_val key, value;
    FUZZ_CHECK (mdb_cursor_get (cursor, &key, &value, MDB_LAST) == 0);
    mdb_cursor_close (cursor);
    br_reason_t reason;
    br_envelope_t *envelope =
        br_envelope_decode ((const uint8_t *) value.mv_data, value.mv_size, &reason);
    FUZZ_CHECK (envelope);
    FUZZ_CHECK (br_envelope_verify_in_roster (envelope, fixture->roster) == BR_REASON_OK);
    const Bruecke__Header *header = br_envelope_header (envelope);
    FUZZ_CHECK (header->type == BRUECKE__MESSAGE_TYPE__TYPE_REFERRAL_UPDATE);
    FUZZ_CHECK (streq (header->sender, "unna") && streq (header->recipient, "luenen"));
    FUZZ_CHECK (streq (header->service, referral->sender_service));
    FUZZ_CHECK (br_envelope_check_time (envelope, FUZZ_NOW_MS) == BR_REASON_OK);
    FUZZ_CHECK (br_envelope_check_attestation (envelope, FUZZ_NOW_MS) == BR_REASON_OK);
    ProtobufCMessage *body = NULL;
    FUZZ_CHECK (br_envelope_open_body (envelope, fixture->luenen,
                                       &bruecke__referral_update__descriptor,
                                       &body) == BR_REASON_OK);
    const Bruecke__ReferralUpdate *update = (const Bruecke__ReferralUpdate *) body;
    FUZZ_CHECK (update->state == BRUECKE__REFERRAL_STATE__REFERRAL_RECEIVED);
    FUZZ_CHECK (update->referral_id.len == BN_ID_SIZE &&
                memcmp (update->referral_id.data, referral->referral_id.data, BN_ID_SIZE) == 0);
    br_proto_free (&body);
    br_envelope_destroy (&envelope);
}

//  Checks what a taken message of `kind` with `body` (its decoded body)
//  wrote, given the record its id named before (`earlier`, or NULL) and
//  the entries before and after.
static void
s_check_taken (MDB_txn *txn, const s_kind_t *kind, const ProtobufCMessage *body, json_t *earlier,
               const size_t before[S_DB_COUNT], const size_t after[S_DB_COUNT])
{
    FUZZ_CHECK (after[S_CASES] == before[S_CASES]);
    switch (kind->type) {
        case BRUECKE__MESSAGE_TYPE__TYPE_REFERRAL: {
            //  A new referral, and Lünen learns it arrived
            const Bruecke__Referral *referral = (const Bruecke__Referral *) body;
            FUZZ_CHECK (!earlier);
            FUZZ_CHECK (after[S_REFERRALS] == before[S_REFERRALS] + 1);
            FUZZ_CHECK (after[S_OUTBOX] == before[S_OUTBOX] + 1);
            FUZZ_CHECK (after[S_EVENTS] == before[S_EVENTS] + 1);
            FUZZ_CHECK (after[S_AUDIT] == before[S_AUDIT] + 1);
            s_check_sent_back (txn, referral);
            json_t *record = s_read (txn, "referrals", referral->referral_id.data);
            FUZZ_CHECK (s_record_says (record, "state", "received"));
            FUZZ_CHECK (s_record_says (record, "direction", "incoming"));
            FUZZ_CHECK (streq (s_record_peer (record), "luenen"));
            FUZZ_CHECK (json_is_object (json_object_get (record, "sections")));
            json_decref (record);
            break;
        }
        case BRUECKE__MESSAGE_TYPE__TYPE_REFERRAL_UPDATE: {
            //  Lünen sets only its side's states: as the recipient of
            //  Unna's referral it reports, as the sender of one it cancels
            const Bruecke__ReferralUpdate *update = (const Bruecke__ReferralUpdate *) body;
            FUZZ_CHECK (earlier && streq (s_record_peer (earlier), "luenen"));
            FUZZ_CHECK (after[S_REFERRALS] == before[S_REFERRALS]);
            FUZZ_CHECK (after[S_OUTBOX] == before[S_OUTBOX]);
            FUZZ_CHECK (after[S_EVENTS] == before[S_EVENTS] + 1);
            FUZZ_CHECK (after[S_AUDIT] == before[S_AUDIT] + 1);
            char state[32];
            s_state_name (update->state, state, sizeof (state));
            bool cancelled = update->state == BRUECKE__REFERRAL_STATE__REFERRAL_CANCELLED;
            FUZZ_CHECK (s_record_says (earlier, "direction", cancelled ? "incoming" : "outgoing"));
            json_t *record = s_read (txn, "referrals", update->referral_id.data);
            FUZZ_CHECK (s_record_says (record, "state", state));
            FUZZ_CHECK (s_record_says (record, "direction", cancelled ? "incoming" : "outgoing"));
            FUZZ_CHECK (json_array_size (json_object_get (record, "history")) ==
                        json_array_size (json_object_get (earlier, "history")) + 1);
            json_decref (record);
            break;
        }
        case BRUECKE__MESSAGE_TYPE__TYPE_CONSENT_WITHDRAWAL:
            //  Cancels Lünen's referrals to Unna under that consent, if any
            FUZZ_CHECK (after[S_REFERRALS] == before[S_REFERRALS]);
            FUZZ_CHECK (after[S_TRANSFERS] == before[S_TRANSFERS]);
            FUZZ_CHECK (after[S_OUTBOX] == before[S_OUTBOX]);
            FUZZ_CHECK (after[S_AUDIT] == before[S_AUDIT] + 1);
            break;
        case BRUECKE__MESSAGE_TYPE__TYPE_CASE_TRANSFER: {
            const Bruecke__CaseTransfer *transfer = (const Bruecke__CaseTransfer *) body;
            FUZZ_CHECK (after[S_OUTBOX] == before[S_OUTBOX]);
            if (after[S_EVENTS] == before[S_EVENTS]) {
                //  Sent again: the first one stands, nothing is written
                FUZZ_CHECK (earlier);
                FUZZ_CHECK (after[S_TRANSFERS] == before[S_TRANSFERS]);
                FUZZ_CHECK (after[S_AUDIT] == before[S_AUDIT]);
                break;
            }
            //  A new transfer, or one Unna declined that comes again; it
            //  never replaces a record of Unna's own or of another node
            if (earlier) {
                FUZZ_CHECK (s_record_says (earlier, "direction", "incoming"));
                FUZZ_CHECK (streq (s_record_peer (earlier), "luenen"));
                FUZZ_CHECK (s_record_says (earlier, "state", "declined"));
            }
            FUZZ_CHECK (after[S_TRANSFERS] == before[S_TRANSFERS] + (earlier ? 0u : 1u));
            FUZZ_CHECK (after[S_EVENTS] == before[S_EVENTS] + 1);
            FUZZ_CHECK (after[S_AUDIT] == before[S_AUDIT] + 1);
            json_t *record = s_read (txn, "transfers", transfer->transfer_id.data);
            FUZZ_CHECK (s_record_says (record, "state", "requested"));
            FUZZ_CHECK (s_record_says (record, "direction", "incoming"));
            FUZZ_CHECK (streq (s_record_peer (record), "luenen"));
            json_decref (record);
            break;
        }
        default: {
            //  Lünen answers a transfer of Unna's to it
            const Bruecke__CaseTransferAnswer *answer = (const Bruecke__CaseTransferAnswer *) body;
            FUZZ_CHECK (earlier && s_record_says (earlier, "direction", "outgoing"));
            FUZZ_CHECK (streq (s_record_peer (earlier), "luenen"));
            FUZZ_CHECK (after[S_TRANSFERS] == before[S_TRANSFERS]);
            FUZZ_CHECK (after[S_OUTBOX] == before[S_OUTBOX]);
            FUZZ_CHECK (after[S_EVENTS] == before[S_EVENTS] + (answer->accepted ? 2u : 1u));
            FUZZ_CHECK (after[S_AUDIT] == before[S_AUDIT] + 1);
            json_t *record = s_read (txn, "transfers", answer->transfer_id.data);
            FUZZ_CHECK (
                s_record_says (record, "state", answer->accepted ? "accepted" : "declined"));
            FUZZ_CHECK (s_record_says (record, "direction", "outgoing"));
            uint8_t case_id[BN_ID_SIZE];
            s_result_id (record, "case_id", case_id, NULL);
            json_decref (record);
            //  An accepted transfer leaves only a note of where the case went
            json_t *moved = s_read (txn, "cases", case_id);
            FUZZ_CHECK (s_record_says (moved, "state", answer->accepted ? "transferred" : "open"));
            FUZZ_CHECK ((answer->accepted != 0) == !json_object_get (moved, "members"));
            json_decref (moved);
            break;
        }
    }
}

//  ---- The target -----------------------------------------------------------

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    fuzz_fixture ();
    if (!s_world)
        s_world_new ();
    return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t control = data[0];
    const s_kind_t *kind = &s_kinds[(control & FUZZ_CASEWORK_TYPE_MASK) % FUZZ_CASEWORK_TYPES];
    bool statute = (control & FUZZ_CASEWORK_STATUTE) != 0;
    size_t own = control >> FUZZ_CASEWORK_OWN_SHIFT;

    //  The body bytes, and perhaps the id of one of Unna's own records
    size_t body_size = size - 1;
    uint8_t *body = (uint8_t *) malloc (body_size + S_ID_FIELD_SIZE);
    FUZZ_CHECK (body);
    memcpy (body, data + 1, body_size);
    if (control & FUZZ_CASEWORK_OWN) {
        const uint8_t *id = kind->type == BRUECKE__MESSAGE_TYPE__TYPE_CONSENT_WITHDRAWAL
                                ? s_world->consent
                            : kind->type == BRUECKE__MESSAGE_TYPE__TYPE_REFERRAL ||
                                    kind->type == BRUECKE__MESSAGE_TYPE__TYPE_REFERRAL_UPDATE
                                ? s_world->referrals[own]
                                : s_world->transfers[own];
        body[body_size++] = S_ID_FIELD_TAG;
        body[body_size++] = BN_ID_SIZE;
        memcpy (body + body_size, id, BN_ID_SIZE);
        body_size += BN_ID_SIZE;
    }
    zchunk_t *chunk = s_envelope_build (kind, statute, body, body_size);
    br_envelope_t *envelope = s_envelope_accept (chunk);
    //  The body as the receiver will decode it, if it decodes
    br_reason_t reason;
    ProtobufCMessage *decoded =
        br_proto_decode (kind->descriptor, body, body_size, BR_ENVELOPE_MAX_SIZE, &reason);

    MDB_txn *txn = NULL;
    FUZZ_CHECK (bn_store_begin (s_world->store, &txn) == BR_REASON_OK);
    //  The record the body's id names, as it was
    const char *collection = NULL;
    const ProtobufCBinaryData *id = decoded ? s_body_id (kind, decoded, &collection) : NULL;
    json_t *earlier = id && id->len == BN_ID_SIZE ? s_read_maybe (txn, collection, id->data) : NULL;
    size_t before[S_DB_COUNT], after[S_DB_COUNT];
    s_count (txn, before);
    br_reason_t verdict = S_UNSET;
    reason = bn_casework_receive (s_world->casework, txn, envelope, FUZZ_NOW_MS, &verdict);
    FUZZ_CHECK (reason == BR_REASON_OK || reason == BR_REASON_STORE_FULL ||
                reason == BR_REASON_STORE_FAILED);
    if (s_world->trace)
        printf ("fuzz_casework: %s%s%s%s: %s, verdict %s\n", br_message_type_name (kind->type),
                control & FUZZ_CASEWORK_OWN ? " (own record)" : "", statute ? " (statute)" : "",
                control & FUZZ_CASEWORK_COMMIT ? " (commit)" : "", br_reason_name (reason),
                br_reason_name (verdict));
    if (reason == BR_REASON_OK) {
        FUZZ_CHECK (br_reason_known (verdict));
        FUZZ_CHECK (verdict != BR_REASON_STORE_FULL && verdict != BR_REASON_STORE_FAILED);
        s_count (txn, after);
        if (verdict == BR_REASON_OK) {
            //  What was taken decoded as the body it was sent as
            FUZZ_CHECK (decoded);
            s_check_taken (txn, kind, decoded, earlier, before, after);
        } else
            //  What is refused leaves nothing behind
            FUZZ_CHECK (memcmp (before, after, sizeof (before)) == 0);
    }
    json_decref (earlier);
    br_proto_free (&decoded);
    if (reason == BR_REASON_OK && (control & FUZZ_CASEWORK_COMMIT) &&
        s_world->commits < S_COMMITS_MAX) {
        reason = bn_store_commit (s_world->store, &txn);
        FUZZ_CHECK (reason == BR_REASON_OK || reason == BR_REASON_STORE_FULL ||
                    reason == BR_REASON_STORE_FAILED);
        s_world->commits++;
    } else
        bn_store_abort (s_world->store, &txn);
    FUZZ_CHECK (txn == NULL);

    br_envelope_destroy (&envelope);
    zchunk_destroy (&chunk);
    free (body);
    return 0;
}
