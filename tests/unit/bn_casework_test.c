/*  =========================================================================
    bn_casework_test - the casework's scenario, from case to transfer

    The scenario test of bn_casework (bruecke-selftest -t
    bn_casework_scenario): a small invented county (bn_casework_testing)
    works a family's case through the API, as caseworkers and
    administrators would, with consents, referrals between towns and
    between offices, emergency access and a case transfer, each message
    handed from town to town as broker and node would. The parts' own
    selftests, and bn_casework's, are short; this one covers how they work
    together. The records' format and migration are bn_casestore's.
    =========================================================================
*/

#include "bruecke.h"
#include "bn_tokens.h"
#include "bn_casework.h"
#include "bn_casestore.h"
#include "bn_casework_testing.h"

void
bn_casework_scenario_test (bool verbose)
{
    if (verbose)
        printf (" * bn_casework_scenario: ");
    //  A small county: Lünen refers to Unna and to the Kreis; Kamen takes over
    bn_casework_testing_t *county = bn_casework_testing_new ();
    bn_casework_town_t *luenen = &county->luenen, *unna = &county->unna, *kreis = &county->kreis,
                       *kamen = &county->kamen;
    br_roster_t *roster = county->roster;
    int64_t now = br_now_ms ();

    //  The case (invented family) and the mother's written consent
    char *made = bn_casework_testing_case (luenen, "jobcenter");
    char case_id[BN_ID_HEX];
    snprintf (case_id, sizeof (case_id), "%s", made);
    zstr_free (&made);
    char *consent_body = bn_casework_testing_consent_body (case_id);
    json_t *consent =
        bn_casework_testing_call (luenen, "POST", "/v1/consents", consent_body, BR_REASON_OK);
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
    json_t *before = bn_casework_testing_call (luenen, "GET", "/v1/consents", NULL, BR_REASON_OK);
    size_t consents_before = json_array_size (json_object_get (before, "consents"));
    json_decref (before);
    for (size_t index = 0; index < sizeof (consents) / sizeof (consents[0]); index++) {
        char *text = zsys_sprintf (consent_format, case_id, consents[index].grantor,
                                   consents[index].subjects, (long long) consents[index].from,
                                   (long long) consents[index].until, 7);
        json_decref (bn_casework_testing_call (luenen, "POST", "/v1/consents", text,
                                               consents[index].expected));
        zstr_free (&text);
    }
    json_t *after = bn_casework_testing_call (luenen, "GET", "/v1/consents", NULL, BR_REASON_OK);
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
        bn_casework_testing_call (luenen, "POST", "/v1/consents", signed_body, BR_REASON_OK);
    zstr_free (&signed_body);
    char form_path[128];
    snprintf (form_path, sizeof (form_path), "/v1/consents/%s/form",
              json_string_value (json_object_get (signed_consent, "id")));
    json_decref (signed_consent);
    bn_casework_testing_call (luenen, "GET", form_path, NULL, BR_REASON_NOT_FOUND);
    char *upload = zsys_sprintf ("{\"content_type\": \"application/pdf\", \"data\": \"%s\"}",
                                 "YW5kZXJlcyBEb2t1bWVudA==");
    bn_casework_testing_call (luenen, "POST", form_path, upload, BR_REASON_EVIDENCE_MISMATCH);
    zstr_free (&upload);
    upload = zsys_sprintf ("{\"content_type\": \"text/html\", \"data\": \"%s\"}", pdf_base64);
    bn_casework_testing_call (luenen, "POST", form_path, upload, BR_REASON_MALFORMED);
    zstr_free (&upload);
    upload = zsys_sprintf ("{\"content_type\": \"application/pdf\", \"data\": \"%s\"}", pdf_base64);
    bn_casework_testing_call_as (luenen, "jugendamt", "POST", form_path, upload,
                                 BR_REASON_OFFICE_NOT_PERMITTED);
    json_t *stored = bn_casework_testing_call (luenen, "POST", form_path, upload, BR_REASON_OK);
    assert (json_is_true (json_object_get (stored, "form_stored")));
    json_decref (stored);
    bn_casework_testing_call (luenen, "POST", form_path, upload, BR_REASON_INVALID_STATE);
    zstr_free (&upload);
    json_t *form = bn_casework_testing_call (luenen, "GET", form_path, NULL, BR_REASON_OK);
    assert (streq (json_string_value (json_object_get (form, "data")), pdf_base64));
    assert (streq (json_string_value (json_object_get (form, "sha256")), pdf_hex));
    assert (streq (json_string_value (json_object_get (form, "content_type")), "application/pdf"));
    json_decref (form);
    bn_casework_testing_call_as (luenen, "jugendamt", "GET", form_path, NULL,
                                 BR_REASON_OFFICE_NOT_PERMITTED);

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
        bn_casework_testing_call (luenen, "POST", "/v1/cases", text, BR_REASON_MALFORMED);
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
        json_decref (
            bn_casework_testing_call (luenen, "POST", "/v1/cases", text, strict[index].expected));
        zstr_free (&text);
    }
    strcat (umlauts, "\xc3\xbc"); //  101 characters
    char *too_long = zsys_sprintf (strict_format, umlauts, "");
    bn_casework_testing_call (luenen, "POST", "/v1/cases", too_long, BR_REASON_MALFORMED);
    zstr_free (&too_long);
    bn_casework_testing_call (luenen, "GET", "/v1/events?after=abc", NULL, BR_REASON_MALFORMED);
    bn_casework_testing_call (luenen, "GET", "/v1/events?after=", NULL, BR_REASON_MALFORMED);
    bn_casework_testing_call (luenen, "GET", "/v1/cases?nmae=Ida", NULL, BR_REASON_MALFORMED);
    json_decref (
        bn_casework_testing_call (luenen, "GET", "/v1/events?after=0", NULL, BR_REASON_OK));

    //  The life of a case: notes appended, corrections with history, a
    //  follow-up that falls due, closing with a reason and reopening
    char *life = zsys_sprintf ("{\"kind\": \"person\", \"service\": \"jobcenter\", "
                               "\"members\": [{\"name\": \"Ida Beispiel\", \"role\": "
                               "\"self\", \"age\": 40}], \"external_ref\": \"JC-2026-17\"}");
    json_t *lived = bn_casework_testing_call (luenen, "POST", "/v1/cases", life, BR_REASON_OK);
    zstr_free (&life);
    char life_path[128], life_action[160];
    snprintf (life_path, sizeof (life_path), "/v1/cases/%s",
              json_string_value (json_object_get (lived, "id")));
    json_decref (lived);
    snprintf (life_action, sizeof (life_action), "%s/notes", life_path);
    json_decref (bn_casework_testing_call (luenen, "POST", life_action,
                                           "{\"text\": \"Erstgespr\xc3\xa4"
                                           "ch gef\xc3\xbchrt.\\nTermin folgt.\"}",
                                           BR_REASON_OK));
    bn_casework_testing_call (luenen, "POST", life_action, "{\"text\": \"\"}", BR_REASON_MALFORMED);
    bn_casework_testing_call_as (luenen, "jugendamt", "POST", life_action, "{\"text\": \"x\"}",
                                 BR_REASON_OFFICE_NOT_PERMITTED);
    char *update = zsys_sprintf ("{\"lotse\": \"Frau Lotsin\", \"follow_up_ms\": %lld, "
                                 "\"needs\": [\"Arbeit\"], \"caseworker\": \"Herr Beispiel\"}",
                                 (long long) now - 1000);
    json_t *updated = bn_casework_testing_call (luenen, "PATCH", life_path, update, BR_REASON_OK);
    zstr_free (&update);
    assert (streq (json_string_value (json_object_get (updated, "lotse")), "Frau Lotsin"));
    assert (json_array_size (json_object_get (updated, "history")) == 4);
    assert (json_array_size (json_object_get (updated, "journal")) == 1);
    json_decref (updated);
    updated = bn_casework_testing_call (luenen, "PATCH", life_path, "{\"lotse\": \"Herr Lotse\"}",
                                        BR_REASON_OK);
    json_t *last = json_array_get (json_object_get (updated, "history"), 4);
    assert (streq (json_string_value (json_object_get (last, "change")), "lotse"));
    assert (streq (json_string_value (json_object_get (last, "previous")), "Frau Lotsin"));
    json_decref (updated);
    bn_casework_testing_call (luenen, "PATCH", life_path, "{}", BR_REASON_MALFORMED);
    bn_casework_testing_call (luenen, "PATCH", life_path, "{\"kind\": \"family\"}",
                              BR_REASON_MALFORMED);
    bn_casework_testing_call (luenen, "PATCH", life_path, "{\"needs\": null}", BR_REASON_MALFORMED);
    json_t *due = bn_casework_testing_call (luenen, "GET", "/v1/follow-ups", NULL, BR_REASON_OK);
    json_t *first = json_array_get (json_object_get (due, "follow_ups"), 0);
    assert (json_is_true (json_object_get (first, "due")));
    assert (streq (json_string_value (json_object_get (first, "external_ref")), "JC-2026-17"));
    json_decref (due);
    due = bn_casework_testing_call (luenen, "GET", "/v1/follow-ups?caseworker=Frau%20Niemand", NULL,
                                    BR_REASON_OK);
    assert (json_array_size (json_object_get (due, "follow_ups")) == 0);
    json_decref (due);
    due = bn_casework_testing_call_as (luenen, "jugendamt", "GET", "/v1/follow-ups", NULL,
                                       BR_REASON_OK);
    assert (json_array_size (json_object_get (due, "follow_ups")) == 0);
    json_decref (due);
    json_decref (bn_casework_testing_call (luenen, "PATCH", life_path, "{\"follow_up_ms\": null}",
                                           BR_REASON_OK));
    due = bn_casework_testing_call (luenen, "GET", "/v1/follow-ups", NULL, BR_REASON_OK);
    assert (json_array_size (json_object_get (due, "follow_ups")) == 0);
    json_decref (due);
    snprintf (life_action, sizeof (life_action), "%s/close", life_path);
    bn_casework_testing_call (luenen, "POST", life_action, "{\"reason\": \"weil\"}",
                              BR_REASON_MALFORMED);
    json_t *closed = bn_casework_testing_call (
        luenen, "POST", life_action,
        "{\"reason\": \"goal-reached\", \"text\": \"Arbeit gefunden\"}", BR_REASON_OK);
    assert (streq (json_string_value (json_object_get (closed, "state")), "closed"));
    assert (json_array_size (json_object_get (closed, "actions")) == 1);
    assert (streq (json_string_value (json_array_get (json_object_get (closed, "actions"), 0)),
                   "reopen"));
    json_decref (closed);
    bn_casework_testing_call (luenen, "POST", life_action, "{\"reason\": \"other\"}",
                              BR_REASON_INVALID_STATE);
    bn_casework_testing_call (luenen, "PATCH", life_path, "{\"lotse\": \"x\"}",
                              BR_REASON_INVALID_STATE);
    //  A closed case takes no consent (br_states: consent only while open)
    char *closed_consent = zsys_sprintf (
        "{\"case_id\": \"%s\", \"grantor\": \"Ida Beispiel\", \"subjects\": [\"Ida "
        "Beispiel\"], \"purpose\": \"employment-support\", \"categories\": [\"household\"], "
        "\"recipients\": [{\"ags\": \"05978036\", \"service\": \"fruehe-hilfen\"}], "
        "\"valid_until_ms\": %lld, \"form\": \"written\", \"evidence_sha256\": \"%064d\"}",
        life_path + strlen ("/v1/cases/"), (long long) now + 86400000LL, 7);
    bn_casework_testing_call (luenen, "POST", "/v1/consents", closed_consent,
                              BR_REASON_INVALID_STATE);
    zstr_free (&closed_consent);
    snprintf (life_action, sizeof (life_action), "%s/reopen", life_path);
    json_t *reopened = bn_casework_testing_call (luenen, "POST", life_action, "{}", BR_REASON_OK);
    assert (streq (json_string_value (json_object_get (reopened, "state")), "open"));
    assert (!json_object_get (reopened, "close_reason"));
    json_decref (reopened);
    bn_casework_testing_call (luenen, "POST", life_action, "{}", BR_REASON_INVALID_STATE);

    //  Emergency access: the administration reads a case only once a second
    //  administrator approved it for that office, and its reads say so
    const char *admin = BN_TOKENS_ROLE_ADMINISTRATION;
    char glass_path[128];
    snprintf (glass_path, sizeof (glass_path), "/v1/cases/%s", case_id);
    bn_casework_testing_call_by (luenen, "anna", admin, "", "GET", glass_path, NULL,
                                 BR_REASON_OFFICE_NOT_PERMITTED);
    json_t *listed_cases = bn_casework_testing_call_by (luenen, "anna", admin, "", "GET",
                                                        "/v1/cases", NULL, BR_REASON_OK);
    assert (json_array_size (json_object_get (listed_cases, "cases")) == 0);
    json_decref (listed_cases);
    bn_casework_testing_call_by (
        luenen, "anna", admin, "", "POST", "/v1/emergency",
        "{\"office\": \"fruehe-hilfen\", \"reason\": \"x\", \"minutes\": 30}", BR_REASON_NO_ROUTE);
    bn_casework_testing_call_by (luenen, "anna", admin, "", "POST", "/v1/emergency",
                                 "{\"office\": \"jobcenter\", \"reason\": \"x\", \"minutes\": 999}",
                                 BR_REASON_MALFORMED);
    json_t *grant = bn_casework_testing_call_by (
        luenen, "anna", admin, "", "POST", "/v1/emergency",
        "{\"office\": \"jobcenter\", \"reason\": \"Kind in Gefahr, Sachbearbeitung nicht "
        "erreichbar\", \"minutes\": 30}",
        BR_REASON_OK);
    char grant_path[128];
    snprintf (grant_path, sizeof (grant_path), "/v1/emergency/%s/approve",
              json_string_value (json_object_get (grant, "id")));
    bn_casework_testing_call_by (luenen, "anna", admin, "", "GET", glass_path, NULL,
                                 BR_REASON_OFFICE_NOT_PERMITTED); //  not yet approved
    bn_casework_testing_call_by (luenen, "anna", admin, "", "POST", grant_path, "{}",
                                 BR_REASON_FORBIDDEN);
    json_decref (bn_casework_testing_call_by (luenen, "bernd", admin, "", "POST", grant_path, "{}",
                                              BR_REASON_OK));
    bn_casework_testing_call_by (luenen, "bernd", admin, "", "POST", grant_path, "{}",
                                 BR_REASON_INVALID_STATE);
    json_decref (bn_casework_testing_call_by (luenen, "anna", admin, "", "GET", glass_path, NULL,
                                              BR_REASON_OK));
    bn_casework_testing_call_by (
        luenen, "bernd", admin, "", "GET", glass_path, NULL,
        BR_REASON_OFFICE_NOT_PERMITTED); //  the approver has no access himself
    //  The Jobcenter's Leitung sees who read its case, and why; the Jugendamt's does not
    json_t *watched =
        bn_casework_testing_call_by (luenen, "lea", BN_TOKENS_ROLE_LEITUNG, "jobcenter", "GET",
                                     "/v1/emergency", NULL, BR_REASON_OK);
    json_t *seen_grant = json_array_get (json_object_get (watched, "emergency"), 0);
    assert (streq (json_string_value (json_object_get (seen_grant, "state")), "active"));
    assert (streq (json_string_value (json_object_get (seen_grant, "approved_by")), "bernd"));
    json_t *seen_action = json_array_get (json_object_get (seen_grant, "actions"), 0);
    assert (streq (json_string_value (json_object_get (seen_action, "action")), "case.read"));
    assert (streq (json_string_value (json_object_get (seen_action, "object")), case_id));
    json_decref (watched);
    watched = bn_casework_testing_call_by (luenen, "jan", BN_TOKENS_ROLE_LEITUNG, "jugendamt",
                                           "GET", "/v1/emergency", NULL, BR_REASON_OK);
    assert (json_array_size (json_object_get (watched, "emergency")) == 0);
    json_decref (watched);
    //  One's own, cheaply: anna's access, and none for bernd who approved it
    watched = bn_casework_testing_call_by (luenen, "anna", admin, "", "GET",
                                           "/v1/emergency?mine=true", NULL, BR_REASON_OK);
    assert (json_array_size (json_object_get (watched, "emergency")) == 1);
    assert (
        !json_object_get (json_array_get (json_object_get (watched, "emergency"), 0), "actions"));
    json_decref (watched);
    watched = bn_casework_testing_call_by (luenen, "bernd", admin, "", "GET",
                                           "/v1/emergency?mine=true", NULL, BR_REASON_OK);
    assert (json_array_size (json_object_get (watched, "emergency")) == 0);
    json_decref (watched);
    snprintf (grant_path, sizeof (grant_path), "/v1/emergency/%s/end",
              json_string_value (json_object_get (grant, "id")));
    json_decref (bn_casework_testing_call_by (luenen, "anna", admin, "", "POST", grant_path, "{}",
                                              BR_REASON_OK));
    bn_casework_testing_call_by (luenen, "anna", admin, "", "GET", glass_path, NULL,
                                 BR_REASON_OFFICE_NOT_PERMITTED);
    json_decref (grant);

    //  The directory: what a consent may name, from the roster
    json_t *directory =
        bn_casework_testing_call (luenen, "GET", "/v1/directory", NULL, BR_REASON_OK);
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
    bn_casework_testing_call_as (luenen, "jugendamt", "GET", record_path, NULL,
                                 BR_REASON_OFFICE_NOT_PERMITTED);
    json_decref (
        bn_casework_testing_call_as (luenen, "jobcenter", "GET", record_path, NULL, BR_REASON_OK));
    snprintf (record_path, sizeof (record_path), "/v1/consents/%s", consent_id);
    bn_casework_testing_call_as (luenen, "jugendamt", "GET", record_path, NULL,
                                 BR_REASON_OFFICE_NOT_PERMITTED);
    bn_casework_testing_call_as (luenen, "", "GET", record_path, NULL,
                                 BR_REASON_OFFICE_NOT_PERMITTED);
    bn_casework_testing_call_as (luenen, "jugendamt", "POST", "/v1/consents", consent_body,
                                 BR_REASON_OFFICE_NOT_PERMITTED);
    const char *listings[] = {"/v1/cases", "/v1/consents"};
    for (size_t index = 0; index < 2; index++) {
        json_t *listed = bn_casework_testing_call_as (luenen, "jugendamt", "GET", listings[index],
                                                      NULL, BR_REASON_OK);
        assert (json_array_size (json_object_get (listed, listings[index] + 4)) == 0);
        json_decref (listed);
        listed = bn_casework_testing_call_as (luenen, "jobcenter", "GET", listings[index], NULL,
                                              BR_REASON_OK);
        assert (json_array_size (json_object_get (listed, listings[index] + 4)) >= 1);
        json_decref (listed);
    }
    const char *family = "{\"kind\": \"person\", \"service\": \"%s\", \"members\": ["
                         "{\"name\": \"Ida Beispiel\", \"role\": \"self\", \"age\": 40}]}";
    char *other_case = zsys_sprintf (family, "jobcenter");
    bn_casework_testing_call_as (luenen, "jugendamt", "POST", "/v1/cases", other_case,
                                 BR_REASON_OFFICE_NOT_PERMITTED);
    zstr_free (&other_case);
    other_case = zsys_sprintf (family, "fruehe-hilfen"); //  not an office of this node
    bn_casework_testing_call_as (luenen, "jugendamt,fruehe-hilfen", "POST", "/v1/cases", other_case,
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
        bn_casework_testing_call (luenen, "POST", "/v1/referrals", body, refused[index].expected);
        zstr_free (&body);
    }
    assert (bn_store_outbox_count (luenen->store) == 0);

    //  The referral to Frühe Hilfen in Unna, and one to the Gesundheitsamt
    char *body =
        zsys_sprintf (referral_format, case_id, "language-support", consent_member, "05978036",
                      "fruehe-hilfen", "\"household\", \"child-age\", \"language\"");
    json_t *referral =
        bn_casework_testing_call (luenen, "POST", "/v1/referrals", body, BR_REASON_OK);
    zstr_free (&body);
    char referral_id[BN_ID_HEX];
    snprintf (referral_id, sizeof (referral_id), "%s",
              json_string_value (json_object_get (referral, "id")));
    json_decref (referral);
    body = zsys_sprintf (referral_format, case_id, "language-support", consent_member, "05978036",
                         "gesundheitsamt", "\"household\"");
    referral = bn_casework_testing_call (luenen, "POST", "/v1/referrals", body, BR_REASON_OK);
    zstr_free (&body);
    char health_id[BN_ID_HEX];
    snprintf (health_id, sizeof (health_id), "%s",
              json_string_value (json_object_get (referral, "id")));
    json_decref (referral);
    assert (bn_store_outbox_count (luenen->store) == 2);

    //  Unna receives: the data is there, Lünen learns it arrived
    br_reason_t verdict;
    assert (bn_casework_testing_deliver (luenen, unna, roster, &verdict) == 1 &&
            verdict == BR_REASON_OK);
    char *path = zsys_sprintf ("/v1/referrals/%s", referral_id);
    json_t *received = bn_casework_testing_call (unna, "GET", path, NULL, BR_REASON_OK);
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
    assert (bn_casework_testing_deliver (unna, luenen, roster, &verdict) == 1 &&
            verdict == BR_REASON_OK);
    assert (streq (bn_casework_testing_state (luenen, "referrals", referral_id), "received"));

    //  Only the recipient accepts; only the sender cancels
    char *status_path = zsys_sprintf ("/v1/referrals/%s/status", referral_id);
    bn_casework_testing_call (luenen, "POST", status_path, "{\"state\": \"accepted\"}",
                              BR_REASON_FORBIDDEN);
    bn_casework_testing_call (unna, "POST", status_path, "{\"state\": \"cancelled\"}",
                              BR_REASON_FORBIDDEN);
    bn_casework_testing_call (unna, "POST", status_path, "{\"state\": \"completed\"}",
                              BR_REASON_INVALID_STATE);
    json_decref (bn_casework_testing_call (unna, "POST", status_path,
                                           "{\"state\": \"accepted\", \"lotse\": \"Frau Lotse\"}",
                                           BR_REASON_OK));
    json_decref (
        bn_casework_testing_call (unna, "POST", status_path,
                                  "{\"state\": \"in_progress\", \"text\": \"Erstgespr\xc3\xa4"
                                  "ch\"}",
                                  BR_REASON_OK));
    assert (bn_casework_testing_deliver (unna, luenen, roster, &verdict) == 2 &&
            verdict == BR_REASON_OK);
    json_t *seen = bn_casework_testing_call (luenen, "GET", path, NULL, BR_REASON_OK);
    assert (streq (json_string_value (json_object_get (seen, "state")), "in_progress"));
    assert (streq (json_string_value (json_object_get (seen, "lotse")), "Frau Lotse"));
    assert (json_array_size (json_object_get (seen, "history")) == 4);
    json_decref (seen);

    //  The mother withdraws consent for the Gesundheitsamt: its referral is
    //  cancelled on both sides, the Frühe Hilfen one goes on
    assert (bn_casework_testing_deliver (luenen, kreis, roster, &verdict) == 1 &&
            verdict == BR_REASON_OK);
    char *withdraw_path = zsys_sprintf ("/v1/consents/%s/withdraw", consent_id);
    json_decref (bn_casework_testing_call (
        luenen, "POST", withdraw_path,
        "{\"recipients\": [{\"ags\": \"05978036\", \"service\": \"gesundheitsamt\"}]}",
        BR_REASON_OK));
    assert (streq (bn_casework_testing_state (luenen, "referrals", health_id), "cancelled"));
    assert (streq (bn_casework_testing_state (luenen, "referrals", referral_id), "in_progress"));
    assert (bn_casework_testing_deliver (luenen, kreis, roster, &verdict) == 1 &&
            verdict == BR_REASON_OK);
    assert (streq (bn_casework_testing_state (kreis, "referrals", health_id), "cancelled"));
    char *health_status = zsys_sprintf ("/v1/referrals/%s/status", health_id);
    bn_casework_testing_call (kreis, "POST", health_status, "{\"state\": \"accepted\"}",
                              BR_REASON_CONSENT_WITHDRAWN);
    //  A new referral to the withdrawn recipient is refused
    body = zsys_sprintf (referral_format, case_id, "language-support", consent_member, "05978036",
                         "gesundheitsamt", "\"household\"");
    bn_casework_testing_call (luenen, "POST", "/v1/referrals", body, BR_REASON_CONSENT_WITHDRAWN);
    zstr_free (&body);

    //  The outcome
    json_decref (bn_casework_testing_call (
        unna, "POST", status_path, "{\"state\": \"completed\", \"text\": \"Kita-Platz ab August\"}",
        BR_REASON_OK));
    assert (bn_casework_testing_deliver (unna, luenen, roster, &verdict) == 1 &&
            verdict == BR_REASON_OK);
    seen = bn_casework_testing_call (luenen, "GET", path, NULL, BR_REASON_OK);
    assert (streq (json_string_value (json_object_get (seen, "outcome")), "Kita-Platz ab August"));
    json_decref (seen);

    //  A referral the sender cancels is cancelled at the recipient too
    body = zsys_sprintf (referral_format, case_id, "language-support", consent_member, "05978036",
                         "fruehe-hilfen", "\"household\"");
    referral = bn_casework_testing_call (luenen, "POST", "/v1/referrals", body, BR_REASON_OK);
    zstr_free (&body);
    char *cancel_path = zsys_sprintf ("/v1/referrals/%s/status",
                                      json_string_value (json_object_get (referral, "id")));
    char *cancelled_path =
        zsys_sprintf ("/v1/referrals/%s", json_string_value (json_object_get (referral, "id")));
    json_decref (referral);
    assert (bn_casework_testing_deliver (luenen, unna, roster, &verdict) == 1 &&
            verdict == BR_REASON_OK);
    assert (bn_casework_testing_deliver (unna, luenen, roster, &verdict) == 1 &&
            verdict == BR_REASON_OK);
    json_decref (bn_casework_testing_call (luenen, "POST", cancel_path,
                                           "{\"state\": \"cancelled\", \"reason\": \"FORBIDDEN\"}",
                                           BR_REASON_OK));
    assert (bn_casework_testing_deliver (luenen, unna, roster, &verdict) == 1 &&
            verdict == BR_REASON_OK);
    seen = bn_casework_testing_call (unna, "GET", cancelled_path, NULL, BR_REASON_OK);
    assert (streq (json_string_value (json_object_get (seen, "state")), "cancelled"));
    json_decref (seen);
    zstr_free (&cancel_path);
    zstr_free (&cancelled_path);

    //  The family moves to Kamen: the case goes there under SGB VIII §86c;
    //  Kamen first declines, then takes it when it comes again
    char *transfer_path = zsys_sprintf ("/v1/cases/%s/transfer", case_id);
    json_t *transfer = bn_casework_testing_call (luenen, "POST", transfer_path,
                                                 "{\"ags\": \"05978020\"}", BR_REASON_OK);
    char transfer_id[BN_ID_HEX];
    snprintf (transfer_id, sizeof (transfer_id), "%s",
              json_string_value (json_object_get (transfer, "id")));
    json_decref (transfer);
    //  A repeated transfer is the same transfer, and sends nothing new
    transfer = bn_casework_testing_call (luenen, "POST", transfer_path, "{\"ags\": \"05978020\"}",
                                         BR_REASON_OK);
    assert (streq (json_string_value (json_object_get (transfer, "id")), transfer_id));
    json_decref (transfer);
    assert (bn_casework_testing_deliver (luenen, kamen, roster, &verdict) == 1 &&
            verdict == BR_REASON_OK);
    char *decline_path = zsys_sprintf ("/v1/transfers/%s/decline", transfer_id);
    json_decref (bn_casework_testing_call (kamen, "POST", decline_path, "{}", BR_REASON_OK));
    assert (bn_casework_testing_deliver (kamen, luenen, roster, &verdict) == 1 &&
            verdict == BR_REASON_OK);
    char *case_path = zsys_sprintf ("/v1/cases/%s", case_id);
    assert (streq (bn_casework_testing_state (luenen, "cases", case_id), "open"));
    json_decref (bn_casework_testing_call (luenen, "POST", transfer_path, "{\"ags\": \"05978020\"}",
                                           BR_REASON_OK));
    assert (bn_casework_testing_deliver (luenen, kamen, roster, &verdict) == 1 &&
            verdict == BR_REASON_OK);
    assert (streq (bn_casework_testing_state (kamen, "transfers", transfer_id), "requested"));
    zstr_free (&decline_path);
    char *accept_path = zsys_sprintf ("/v1/transfers/%s/accept", transfer_id);
    bn_casework_testing_call (luenen, "POST", accept_path, "{}", BR_REASON_FORBIDDEN);
    transfer = bn_casework_testing_call (kamen, "POST", accept_path, "{}", BR_REASON_OK);
    char *kamen_case =
        zsys_sprintf ("/v1/cases/%s", json_string_value (json_object_get (transfer, "case_id")));
    json_decref (transfer);
    json_t *moved = bn_casework_testing_call (kamen, "GET", kamen_case, NULL, BR_REASON_OK);
    assert (json_array_size (json_object_get (moved, "members")) == 3);
    json_decref (moved);
    assert (bn_casework_testing_deliver (kamen, luenen, roster, &verdict) == 1 &&
            verdict == BR_REASON_OK);
    json_t *minimal = bn_casework_testing_call (luenen, "GET", case_path, NULL, BR_REASON_OK);
    assert (streq (json_string_value (json_object_get (minimal, "state")), "transferred"));
    assert (streq (json_string_value (json_object_get (minimal, "transferred_to")), "kamen"));
    assert (!json_object_get (minimal, "members"));
    json_decref (minimal);

    //  Events and the audit log
    json_t *events = bn_casework_testing_call (luenen, "GET", "/v1/events", NULL, BR_REASON_OK);
    assert (json_array_size (json_object_get (events, "events")) >= 8);
    json_decref (events);
    json_t *intact =
        bn_casework_testing_call (luenen, "GET", "/v1/audit/verify", NULL, BR_REASON_OK);
    assert (json_is_true (json_object_get (intact, "intact")));
    json_decref (intact);
    bn_casework_testing_call (luenen, "POST", "/v1/cases", "[]", BR_REASON_MALFORMED);
    //  Details are texts by keyword, by data category
    const char *details[] = {"{\"language\": {\"Kind\": 5}}", "{\"language\": {\"\": \"x\"}}",
                             "{\"language\": {\"Kind\": \"\"}}", "{\"language\": [\"x\"]}",
                             "{\"sprache\": {\"Kind\": \"x\"}}"};
    for (size_t index = 0; index < sizeof (details) / sizeof (details[0]); index++) {
        char *body = zsys_sprintf ("{\"kind\": \"person\", \"service\": \"jobcenter\", "
                                   "\"members\": [{\"name\": \"Ida Test\", \"role\": \"self\", "
                                   "\"age\": 40}], \"details\": %s}",
                                   details[index]);
        bn_casework_testing_call (luenen, "POST", "/v1/cases", body, BR_REASON_MALFORMED);
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
    bn_casework_testing_destroy (&county);
    if (verbose)
        printf ("OK\n");
}
