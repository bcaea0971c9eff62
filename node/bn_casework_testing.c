/*  =========================================================================
    bn_casework_testing - an invented county for the casework's selftests
    =========================================================================
*/

#include "bruecke.h"
#include "bn_tokens.h"
#include "bn_casework_testing.h"

static void
s_town_new (bn_casework_town_t *town, const char *id)
{
    memset (town, 0, sizeof (*town));
    town->offices = ""; //  until the test names them
    town->identity = br_identity_new (id);
    town->directory = br_temp_directory ("bn_casework_testing");
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
s_town_destroy (bn_casework_town_t *town)
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
json_t *
bn_casework_testing_call_by (bn_casework_town_t *town, const char *user, const char *role,
                             const char *offices, const char *method, const char *path,
                             const char *body, br_reason_t expected)
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
    if (bn_request_route (&call, id) != BR_REASON_OK)
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
json_t *
bn_casework_testing_call_as (bn_casework_town_t *town, const char *offices, const char *method,
                             const char *path, const char *body, br_reason_t expected)
{
    return bn_casework_testing_call_by (town, "test-caseworker", BN_TOKENS_ROLE_CASEWORKER, offices,
                                        method, path, body, expected);
}

//  Makes an API call as the town's caseworker, for all its offices.
json_t *
bn_casework_testing_call (bn_casework_town_t *town, const char *method, const char *path,
                          const char *body, br_reason_t expected)
{
    return bn_casework_testing_call_as (town, town->offices, method, path, body, expected);
}

static void
s_collect (void *argument, uint64_t sequence, const uint8_t *data, size_t size)
{
    (void) sequence;
    zlistx_add_end ((zlistx_t *) argument, zchunk_new (data, size));
}

//  Hands what `from` has queued for `to` over, as broker and node would,
//  checking as the recipient checks, and takes it out of `from`'s outbox.
//  Returns how many messages were for `to`; *verdict is the last verdict.
size_t
bn_casework_testing_deliver (bn_casework_town_t *from, bn_casework_town_t *to, br_roster_t *roster,
                             br_reason_t *verdict)
{
    zlistx_t *envelopes = zlistx_new ();
    zlistx_set_destructor (envelopes, (zlistx_destructor_fn *) zchunk_destroy);
    bn_store_outbox_read (from->store, 0, 1000, s_collect, envelopes);
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

const char *
bn_casework_testing_state (bn_casework_town_t *town, const char *kind, const char *id)
{
    static char state[32];
    char *path = zsys_sprintf ("/v1/%s/%s", kind, id);
    json_t *record = bn_casework_testing_call (town, "GET", path, NULL, BR_REASON_OK);
    snprintf (state, sizeof (state), "%s", json_string_value (json_object_get (record, "state")));
    json_decref (record);
    zstr_free (&path);
    return state;
}

bn_casework_testing_t *
bn_casework_testing_new (void)
{
    bn_casework_testing_t *self = (bn_casework_testing_t *) zmalloc (sizeof (*self));
    s_town_new (&self->luenen, "luenen");
    s_town_new (&self->unna, "unna");
    s_town_new (&self->kreis, "kreis-unna");
    s_town_new (&self->kamen, "kamen");
    self->luenen.offices = "jugendamt,jobcenter";
    self->unna.offices = "fruehe-hilfen,jugendamt";
    self->kreis.offices = "gesundheitsamt,jobcenter";
    self->kamen.offices = "jugendamt";
    self->county = br_identity_new ("county");
    self->draft = br_roster_draft_new ("05978", "Kreis Unna");
    zconfig_t *draft = self->draft;
    const Bruecke__NodeRole TOWN = BRUECKE__NODE_ROLE__ROLE_TOWN;
    assert (br_roster_draft_add_node (draft, self->luenen.identity, "L\xc3\xbcnen", "05978024",
                                      TOWN, "jugendamt,jobcenter") == BR_REASON_OK);
    assert (br_roster_draft_add_node (draft, self->unna.identity, "Unna", "05978036", TOWN,
                                      "fruehe-hilfen,jugendamt") == BR_REASON_OK);
    assert (br_roster_draft_add_node (draft, self->kreis.identity, "Kreis Unna", "05978",
                                      BRUECKE__NODE_ROLE__ROLE_COUNTY,
                                      "gesundheitsamt,jobcenter") == BR_REASON_OK);
    assert (br_roster_draft_add_node (draft, self->kamen.identity, "Kamen", "05978020", TOWN,
                                      "jugendamt") == BR_REASON_OK);
    assert (br_roster_draft_add_route (draft, "05978036", "fruehe-hilfen", "unna") == BR_REASON_OK);
    assert (br_roster_draft_add_route (draft, "05978036", "gesundheitsamt", "kreis-unna") ==
            BR_REASON_OK);
    assert (br_roster_draft_add_route (draft, "05978020", "jugendamt", "kamen") == BR_REASON_OK);
    assert (br_roster_draft_add_route (draft, "05978024", "jugendamt", "luenen") == BR_REASON_OK);
    br_reason_t reason;
    int64_t now = br_now_ms ();
    self->signed_roster = br_roster_draft_sign (draft, self->county, now, 3600000, &reason);
    assert (self->signed_roster);
    self->roster =
        br_roster_verify (zchunk_data (self->signed_roster), zchunk_size (self->signed_roster),
                          br_identity_sign_public (self->county), NULL, now, &reason);
    assert (self->roster);
    bn_casework_town_t *towns[] = {&self->luenen, &self->unna, &self->kreis, &self->kamen};
    for (size_t index = 0; index < 4; index++)
        bn_casework_set_roster (towns[index]->casework, self->roster);
    return self;
}

void
bn_casework_testing_destroy (bn_casework_testing_t **self_p)
{
    assert (self_p);
    bn_casework_testing_t *self = *self_p;
    if (self) {
        s_town_destroy (&self->luenen);
        s_town_destroy (&self->unna);
        s_town_destroy (&self->kreis);
        s_town_destroy (&self->kamen);
        br_roster_destroy (&self->roster);
        zchunk_destroy (&self->signed_roster);
        zconfig_destroy (&self->draft);
        br_identity_destroy (&self->county);
        free (self);
        *self_p = NULL;
    }
}

//  The id of a record in an answer, as a new string; frees the answer.
static char *
s_id_of (json_t *answer)
{
    char *id = strdup (json_string_value (json_object_get (answer, "id")));
    assert (id);
    json_decref (answer);
    return id;
}

char *
bn_casework_testing_case (bn_casework_town_t *town, const char *office)
{
    char *body =
        zsys_sprintf ("{\"kind\": \"family\", \"service\": \"%s\", \"members\": ["
                      "{\"name\": \"Aylin Beispiel\", \"role\": \"mother\", \"age\": 29,"
                      " \"custody_for\": [\"Deniz Beispiel\"]},"
                      "{\"name\": \"Deniz Beispiel\", \"role\": \"child\", \"age\": 5},"
                      "{\"name\": \"Emre Beispiel\", \"role\": \"father\", \"age\": 33}],"
                      "\"needs\": [\"Kita-Platz\", \"Sprachf\xc3\xb6rderung\"],"
                      "\"details\": {\"language\": {\"child\": \"spricht kein Deutsch\"}}}",
                      office);
    json_t *created = bn_casework_testing_call (town, "POST", "/v1/cases", body, BR_REASON_OK);
    zstr_free (&body);
    return s_id_of (created);
}

char *
bn_casework_testing_consent_body (const char *case_id)
{
    int64_t now = br_now_ms ();
    char *body = zsys_sprintf (
        "{\"case_id\": \"%s\", \"grantor\": \"Aylin Beispiel\", \"subjects\": [\"Aylin Beispiel\","
        " \"Deniz Beispiel\"], \"purpose\": \"language-support\", \"categories\": [\"household\","
        " \"child-age\", \"language\"], \"recipients\": [{\"ags\": \"05978036\", \"service\": "
        "\"fruehe-hilfen\"}, {\"ags\": \"05978036\", \"service\": \"gesundheitsamt\"}],"
        " \"valid_from_ms\": %lld, \"valid_until_ms\": %lld, \"form\": \"written\","
        " \"evidence_sha256\": \"%064d\", \"health_data\": false}",
        case_id, (long long) now - 1000, (long long) now + 86400000LL, 7);
    return body;
}

void
bn_casework_testing_test (bool verbose)
{
    if (verbose)
        printf (" * bn_casework_testing: ");
    //  @selftest
    bn_casework_testing_t *county = bn_casework_testing_new ();
    char *case_id = bn_casework_testing_case (&county->luenen, "jobcenter");
    assert (streq (bn_casework_testing_state (&county->luenen, "cases", case_id), "open"));
    char *body = bn_casework_testing_consent_body (case_id);
    json_t *consent =
        bn_casework_testing_call (&county->luenen, "POST", "/v1/consents", body, BR_REASON_OK);
    assert (streq (json_string_value (json_object_get (consent, "status")), "active"));
    json_decref (consent);
    zstr_free (&body);
    br_reason_t verdict;
    assert (bn_casework_testing_deliver (&county->luenen, &county->unna, county->roster,
                                         &verdict) == 0);
    zstr_free (&case_id);
    bn_casework_testing_destroy (&county);
    assert (!county);
    bn_casework_testing_destroy (&county);
    //  @end
    if (verbose)
        printf ("OK\n");
}
