/*  =========================================================================
    br_catalogue - the county's fixed vocabularies for casework
    =========================================================================
*/

#include "br_catalogue.h"

typedef struct {
    const char *code;  //  the code on the wire and in the API
    const char *label; //  what caseworkers read
} s_entry_t;

static const s_entry_t s_services[] = {
    {"jugendamt", "Jugendamt / Allgemeiner Sozialer Dienst"},
    {"fruehe-hilfen", "Fr\xc3\xbche Hilfen"},
    {"familienbuero", "Familienb\xc3\xbcro"},
    {"gesundheitsamt", "Gesundheitsamt"},
    {"jobcenter", "Jobcenter"},
    {"schulsozialarbeit", "Schulsozialarbeit"},
    {"erziehungsberatung", "Erziehungsberatung"},
    {"sozialamt", "Sozialamt"},
};

static const s_entry_t s_categories[] = {
    {"household", "Haushalt und Familienmitglieder"},
    {"child-age", "Alter der Kinder"},
    {"language", "Sprachsituation"},
    {"childcare", "Betreuungssituation (Kita, Tagespflege)"},
    {"health", "Gesundheitsdaten"},
    {"employment", "Arbeit und Einkommen"},
    {"education", "Schule und Ausbildung"},
    {"contact", "Kontaktdaten"},
    {"case-history", "Fallverlauf"},
    {BR_CATALOGUE_CATEGORY_OUTCOME, "R\xc3\xbc"
                                    "ckmeldung zur Vermittlung"},
};

//  Topics of the Transferbörse: the links of a prevention chain
//  (Präventionskettenglieder) that towns trade knowledge of.
static const s_entry_t s_topics[] = {
    {"fruehe-hilfen", "Fr\xc3\xbche Hilfen"},
    {"uebergang-kita-grundschule", "\xc3\x9c"
                                   "bergang Kita\xe2\x80\x93Grundschule"},
    {"sprachfoerderung", "Sprachf\xc3\xb6rderung"},
    {"elternbildung", "Elternbildung"},
    {"kinderschutz", "Kinderschutz"},
    {"gesundheitsfoerderung", "Gesundheitsf\xc3\xb6rderung"},
    {"uebergang-schule-beruf", "\xc3\x9c"
                               "bergang Schule\xe2\x80\x93"
                               "Beruf"},
    {"familienzentren", "Familienzentren"},
    {"bewegungsfoerderung", "Bewegungsf\xc3\xb6rderung"},
    {"quartiersarbeit", "Quartiersarbeit"},
};

//  Why a town cancels a proposed or agreed Transferbörse transfer.
static const s_entry_t s_cancel_reasons[] = {
    {"declined", "Kein Interesse an diesem Vorschlag"},
    {"no-capacity", "Keine Kapazit\xc3\xa4t im Quartal"},
    {"schedule-conflict", "Kein gemeinsamer Termin"},
    {"offer-changed", "Angebot ge\xc3\xa4ndert oder zur\xc3\xbc"
                      "ckgezogen"},
    {"other", "Anderer Grund"},
};

//  Why an office closes a case.
static const s_entry_t s_close_reasons[] = {
    {"goal-reached", "Ziel erreicht, Hilfe abgeschlossen"},
    {"moved-away", "Familie ist verzogen"},
    {"other-office", "Eine andere Stelle ist zust\xc3\xa4ndig"},
    {"help-declined", "Die Familie m\xc3\xb6"
                      "chte keine Hilfe mehr"},
    {"no-contact", "Kein Kontakt mehr"},
    {"other", "Anderer Grund"},
};

typedef struct {
    const char *code;  //  purpose code
    const char *label; //  what caseworkers read
    bool consentable;  //  may rest on a consent
} s_purpose_t;

static const s_purpose_t s_purposes[] = {
    {"language-support", "Sprachf\xc3\xb6rderung und Betreuungsplatz", true},
    {"early-help", "Fr\xc3\xbche Hilfen", true},
    {"parenting-support", "Erziehungsberatung", true},
    {"health-support", "Gesundheitliche Versorgung", true},
    {"employment-support", "Arbeit und Ausbildung", true},
    {"school-support", "Schulsozialarbeit", true},
    {"child-protection", "Kinderschutz", false},
    {BR_CATALOGUE_PURPOSE_CASE_TRANSFER, "Zust\xc3\xa4ndigkeitswechsel", false},
};

typedef struct {
    const char *name;    //  the statute as written in attestations
    const char *label;   //  what caseworkers read
    const char *purpose; //  the purpose it allows
} s_statute_t;

static const s_statute_t s_statutes[] = {
    {BR_CATALOGUE_STATUTE_RELOCATION,
     "Fortdauernde Leistungspflicht beim Zust\xc3\xa4ndigkeitswechsel",
     BR_CATALOGUE_PURPOSE_CASE_TRANSFER},
    {"SGB VIII \xc2\xa7"
     "86",
     "\xc3\x96rtliche Zust\xc3\xa4ndigkeit", BR_CATALOGUE_PURPOSE_CASE_TRANSFER},
    {"SGB VIII \xc2\xa7"
     "8a",
     "Schutzauftrag bei Kindeswohlgef\xc3\xa4hrdung", "child-protection"},
};

#define S_COUNT(array) (sizeof (array) / sizeof ((array)[0]))

static const char *
s_label (const s_entry_t *entries, size_t count, const char *code)
{
    if (!code)
        return NULL;
    for (size_t index = 0; index < count; index++)
        if (streq (entries[index].code, code))
            return entries[index].label;
    return NULL;
}

static const s_purpose_t *
s_purpose (const char *code)
{
    for (size_t index = 0; code && index < S_COUNT (s_purposes); index++)
        if (streq (s_purposes[index].code, code))
            return &s_purposes[index];
    return NULL;
}

static const s_statute_t *
s_statute (const char *name)
{
    for (size_t index = 0; name && index < S_COUNT (s_statutes); index++)
        if (streq (s_statutes[index].name, name))
            return &s_statutes[index];
    return NULL;
}

const char *
br_catalogue_purpose (const char *code)
{
    const s_purpose_t *purpose = s_purpose (code);
    return purpose ? purpose->label : NULL;
}

const char *
br_catalogue_category (const char *code)
{
    return s_label (s_categories, S_COUNT (s_categories), code);
}

const char *
br_catalogue_service (const char *code)
{
    return s_label (s_services, S_COUNT (s_services), code);
}

const char *
br_catalogue_topic (const char *code)
{
    return s_label (s_topics, S_COUNT (s_topics), code);
}

const char *
br_catalogue_topic_code (size_t index)
{
    return index < S_COUNT (s_topics) ? s_topics[index].code : NULL;
}

const char *
br_catalogue_cancel_reason_code (size_t index)
{
    return index < S_COUNT (s_cancel_reasons) ? s_cancel_reasons[index].code : NULL;
}

const char *
br_catalogue_close_reason (const char *code)
{
    return s_label (s_close_reasons, S_COUNT (s_close_reasons), code);
}

const char *
br_catalogue_cancel_reason (const char *code)
{
    return s_label (s_cancel_reasons, S_COUNT (s_cancel_reasons), code);
}

const char *
br_catalogue_statute (const char *name)
{
    const s_statute_t *statute = s_statute (name);
    return statute ? statute->label : NULL;
}

bool
br_catalogue_purpose_consentable (const char *code)
{
    const s_purpose_t *purpose = s_purpose (code);
    return purpose && purpose->consentable;
}

bool
br_catalogue_statute_allows (const char *name, const char *purpose)
{
    const s_statute_t *statute = s_statute (name);
    return statute && purpose && streq (statute->purpose, purpose);
}

br_reason_t
br_catalogue_check (int type, const Bruecke__Attestation *attestation)
{
    assert (attestation);
    for (size_t index = 0; index < attestation->n_data_categories; index++)
        if (!br_catalogue_category (attestation->data_categories[index]))
            return BR_REASON_ATTESTATION_INVALID;
    const char *purpose = attestation->purpose;
    if (!br_catalogue_purpose (purpose))
        return BR_REASON_PURPOSE_MISMATCH;
    bool transfer = streq (purpose, BR_CATALOGUE_PURPOSE_CASE_TRANSFER);
    if (transfer != (type == BRUECKE__MESSAGE_TYPE__TYPE_CASE_TRANSFER))
        return BR_REASON_PURPOSE_MISMATCH;
    if (attestation->basis == BRUECKE__LEGAL_BASIS__BASIS_STATUTE)
        return br_catalogue_statute_allows (attestation->statute, purpose)
                   ? BR_REASON_OK
                   : BR_REASON_PURPOSE_MISMATCH;
    return br_catalogue_purpose_consentable (purpose) ? BR_REASON_OK : BR_REASON_PURPOSE_MISMATCH;
}

void
br_catalogue_test (bool verbose)
{
    if (verbose)
        printf (" * br_catalogue: ");
    //  @selftest
    assert (br_catalogue_service ("jugendamt"));
    assert (!br_catalogue_service ("Jugendamt"));
    assert (br_catalogue_category ("household"));
    assert (!br_catalogue_category (NULL));
    assert (br_catalogue_purpose_consentable ("language-support"));
    assert (!br_catalogue_purpose_consentable (BR_CATALOGUE_PURPOSE_CASE_TRANSFER));
    assert (br_catalogue_statute_allows (BR_CATALOGUE_STATUTE_RELOCATION, "case-transfer"));
    assert (!br_catalogue_statute_allows (BR_CATALOGUE_STATUTE_RELOCATION, "language-support"));
    assert (br_catalogue_topic ("uebergang-kita-grundschule"));
    assert (!br_catalogue_topic ("jugendamt"));
    assert (br_catalogue_cancel_reason ("no-capacity"));
    assert (br_catalogue_close_reason ("goal-reached") && !br_catalogue_close_reason ("declined"));
    assert (!br_catalogue_cancel_reason ("kinderschutz"));
    assert (br_catalogue_statute ("SGB VIII \xc2\xa7"
                                  "8a"));

    char *categories[] = {"household", "child-age"};
    Bruecke__Attestation attestation = BRUECKE__ATTESTATION__INIT;
    attestation.basis = BRUECKE__LEGAL_BASIS__BASIS_CONSENT;
    attestation.purpose = "language-support";
    attestation.data_categories = categories;
    attestation.n_data_categories = 2;
    const int REFERRAL = BRUECKE__MESSAGE_TYPE__TYPE_REFERRAL;
    const int TRANSFER = BRUECKE__MESSAGE_TYPE__TYPE_CASE_TRANSFER;
    assert (br_catalogue_check (REFERRAL, &attestation) == BR_REASON_OK);
    //  A consent cannot carry a case transfer, nor a statutory purpose
    assert (br_catalogue_check (TRANSFER, &attestation) == BR_REASON_PURPOSE_MISMATCH);
    attestation.purpose = "child-protection";
    assert (br_catalogue_check (REFERRAL, &attestation) == BR_REASON_PURPOSE_MISMATCH);
    attestation.purpose = "unknown-purpose";
    assert (br_catalogue_check (REFERRAL, &attestation) == BR_REASON_PURPOSE_MISMATCH);
    //  A statute allows its own purpose only
    attestation.basis = BRUECKE__LEGAL_BASIS__BASIS_STATUTE;
    attestation.statute = BR_CATALOGUE_STATUTE_RELOCATION;
    attestation.purpose = BR_CATALOGUE_PURPOSE_CASE_TRANSFER;
    assert (br_catalogue_check (TRANSFER, &attestation) == BR_REASON_OK);
    assert (br_catalogue_check (REFERRAL, &attestation) == BR_REASON_PURPOSE_MISMATCH);
    attestation.statute = "SGB VIII \xc2\xa7"
                          "8a";
    assert (br_catalogue_check (TRANSFER, &attestation) == BR_REASON_PURPOSE_MISMATCH);
    //  Unknown categories make the attestation invalid
    categories[1] = "shoe-size";
    attestation.statute = BR_CATALOGUE_STATUTE_RELOCATION;
    assert (br_catalogue_check (TRANSFER, &attestation) == BR_REASON_ATTESTATION_INVALID);
    //  @end
    if (verbose)
        printf ("OK\n");
}
