/*  =========================================================================
    record_bench - what typed store records cost against the JSON of before

    Usage: record_bench [--records N] [--journal N]

    Builds an invented family's case as the API shows it: four members,
    needs, notes, details in two categories, a history of ten changes (each
    kind of previous value) and a journal of N notes (default 20). Then, N
    times each (default 20000), it stores and reads the case both ways and
    prints microseconds per record and the bytes stored:
      - typed (schema 4, what the node does now): bn_record_encode, a
        bn_record_decode of what was encoded (s_put answers with what it
        stored), bn_vault_seal bound to table, id, schema and revision;
        read back with bn_vault_open and bn_record_decode;
      - JSON (schema 3, the previous release): json_dumps, bn_vault_seal
        bound to table and id; read back with bn_vault_open, json_loadb.
    Both run in the same process on the same record, one after the other,
    and the ratio typed / JSON is printed. Sealing (XChaCha20-Poly1305) is
    in both; the difference is the encoding.
    =========================================================================
*/

#include "bruecke.h"
#include "bn_record.h"
#include "bn_vault.h"

#define S_RECORDS_DEFAULT 20000 //  stores and reads per way
#define S_JOURNAL_DEFAULT 20    //  notes in the case's journal

//  The case: an invented family, as the node's API shows it.
static json_t *
s_case (size_t notes)
{
    json_t *record = json_pack (
        "{ss ss ss ss ss s[{ss ss si s[ss]} {ss ss si s[s]} {ss ss si} {ss ss si}]"
        " s[ss] s[s] s{s{ss ss} s{ss}} ss ss ss sI sI sI}",
        "id", "00112233445566778899aabbccddeeff", "kind", "family", "service", "jobcenter",
        "office", "jobcenter", "state", "open", "members", "name", "Aylin Beispiel", "role",
        "mother", "age", 34, "custody_for", "Deniz Beispiel", "Mira Beispiel", "name",
        "Emre Beispiel", "role", "father", "age", 36, "custody_for", "Deniz Beispiel", "name",
        "Deniz Beispiel", "role", "child", "age", 5, "name", "Mira Beispiel", "role", "child",
        "age", 1, "needs", "Kita-Platz für Deniz", "Sprachkurs für die Mutter", "notes",
        "Erstkontakt im Jobcenter, Familie offen für Unterstützung.", "details", "language", "Kind",
        "spricht wenig Deutsch", "Mutter", "Integrationskurs begonnen", "childcare", "Kita",
        "Anmeldung liegt vor", "caseworker", "Frau Muster", "lotse", "Herr Lotse", "external_ref",
        "JC-2026-004711", "follow_up_ms", (json_int_t) 1798675200000LL, "created_at_ms",
        (json_int_t) 1796083200000LL, "updated_at_ms", (json_int_t) 1796688000000LL);
    json_t *history = json_array ();
    for (size_t index = 0; index < 10; index++) {
        json_t *entry = json_pack ("{ss sI ss}", "change", index % 2 ? "lotse" : "needs", "at_ms",
                                   (json_int_t) (1796083200000LL + (json_int_t) index * 86400000),
                                   "by", "Frau Muster");
        json_object_set_new (entry, "previous",
                             index % 2 ? json_string ("Herr Vorher")
                                       : json_pack ("[ss]", "Kita-Platz", "Beratung"));
        json_array_append_new (history, entry);
    }
    json_object_set_new (record, "history", history);
    json_t *journal = json_array ();
    for (size_t index = 0; index < notes; index++)
        json_array_append_new (
            journal,
            json_pack ("{ss sI ss}", "text",
                       "Gespräch mit der Mutter: Termin bei den Frühen Hilfen vereinbart, "
                       "Unterlagen für die Kita-Anmeldung mitgebracht (erfunden).",
                       "at_ms", (json_int_t) (1796083200000LL + (json_int_t) index * 3600000), "by",
                       "Frau Muster"));
    json_object_set_new (record, "journal", journal);
    return record;
}

typedef struct {
    double store_us; //  per record: encode and seal
    double read_us;  //  per record: open and decode
    size_t bytes;    //  stored
} s_figures_t;

//  Typed: as bn_casework stores a record now.
static s_figures_t
s_typed (bn_vault_t *vault, json_t *record, size_t count)
{
    static const uint8_t context[] =
        "cases\0" //  table, NUL
        "\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff"
        "\x04"                              //  schema
        "\x00\x00\x00\x00\x00\x00\x00\x01"; //  revision
    s_figures_t figures = {0};
    zchunk_t *sealed = NULL;
    int64_t start = zclock_usecs ();
    for (size_t index = 0; index < count; index++) {
        zchunk_t *plain = NULL;
        char problem[BN_RECORD_PROBLEM_MAX];
        if (bn_record_encode (&bruecke__store__case_record__descriptor, record, &plain, problem) !=
            BR_REASON_OK) {
            fprintf (stderr, "record_bench: the case does not fit its type: %s\n", problem);
            exit (1);
        }
        //  s_put answers with what it stored: it decodes once more
        json_t *stored = NULL;
        if (bn_record_decode (&bruecke__store__case_record__descriptor, zchunk_data (plain),
                              zchunk_size (plain), &stored) != BR_REASON_OK) {
            fprintf (stderr, "record_bench: the case does not decode\n");
            exit (1);
        }
        json_decref (stored);
        zchunk_destroy (&sealed);
        sealed = bn_vault_seal (vault, context, sizeof (context) - 1, zchunk_data (plain),
                                zchunk_size (plain));
        zchunk_destroy (&plain);
    }
    figures.store_us = (double) (zclock_usecs () - start) / (double) count;
    figures.bytes = 1 + 8 + zchunk_size (sealed); //  schema and revision before the seal
    start = zclock_usecs ();
    for (size_t index = 0; index < count; index++) {
        zchunk_t *plain = NULL;
        json_t *back = NULL;
        if (bn_vault_open (vault, context, sizeof (context) - 1, zchunk_data (sealed),
                           zchunk_size (sealed), &plain) != BR_REASON_OK ||
            bn_record_decode (&bruecke__store__case_record__descriptor, zchunk_data (plain),
                              zchunk_size (plain), &back) != BR_REASON_OK ||
            (index == 0 && !json_equal (back, record))) {
            fprintf (stderr, "record_bench: the typed case does not read back as stored\n");
            exit (1);
        }
        json_decref (back);
        zchunk_destroy (&plain);
    }
    figures.read_us = (double) (zclock_usecs () - start) / (double) count;
    zchunk_destroy (&sealed);
    return figures;
}

//  JSON: as the previous release stored a record.
static s_figures_t
s_json (bn_vault_t *vault, json_t *record, size_t count)
{
    static const uint8_t context[] =
        "cases\0\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff";
    s_figures_t figures = {0};
    zchunk_t *sealed = NULL;
    int64_t start = zclock_usecs ();
    for (size_t index = 0; index < count; index++) {
        char *text = json_dumps (record, JSON_COMPACT);
        zchunk_destroy (&sealed);
        sealed = bn_vault_seal (vault, context, sizeof (context) - 1, text, strlen (text));
        free (text);
    }
    figures.store_us = (double) (zclock_usecs () - start) / (double) count;
    figures.bytes = zchunk_size (sealed);
    start = zclock_usecs ();
    for (size_t index = 0; index < count; index++) {
        zchunk_t *plain = NULL;
        json_t *back = NULL;
        if (bn_vault_open (vault, context, sizeof (context) - 1, zchunk_data (sealed),
                           zchunk_size (sealed), &plain) != BR_REASON_OK ||
            !(back =
                  json_loadb ((const char *) zchunk_data (plain), zchunk_size (plain), 0, NULL))) {
            fprintf (stderr, "record_bench: the JSON case does not read back\n");
            exit (1);
        }
        json_decref (back);
        zchunk_destroy (&plain);
    }
    figures.read_us = (double) (zclock_usecs () - start) / (double) count;
    zchunk_destroy (&sealed);
    return figures;
}

int
main (int argc, char *argv[])
{
    size_t records = S_RECORDS_DEFAULT, notes = S_JOURNAL_DEFAULT;
    for (int index = 1; index + 1 < argc; index += 2) {
        if (streq (argv[index], "--records"))
            records = (size_t) strtoul (argv[index + 1], NULL, 10);
        else if (streq (argv[index], "--journal"))
            notes = (size_t) strtoul (argv[index + 1], NULL, 10);
        else {
            fprintf (stderr, "usage: record_bench [--records N] [--journal N]\n");
            return 2;
        }
    }
    if (sodium_init () < 0 || records == 0)
        return 1;
    char *directory = br_temp_directory ("record_bench");
    char *path = zsys_sprintf ("%s/data.key", directory);
    br_reason_t reason;
    bn_vault_t *vault = bn_vault_load (path, true, &reason);
    if (!vault) {
        fprintf (stderr, "record_bench: no data key: %s\n", br_reason_name (reason));
        return 1;
    }
    json_t *record = s_case (notes);
    printf ("record_bench: a case of 4 members, 10 changes, %zu notes; %zu stores and reads "
            "each way\n",
            notes, records);
    s_figures_t json = s_json (vault, record, records);
    s_figures_t typed = s_typed (vault, record, records);
    printf ("  %-28s %10s %10s %8s\n", "", "store µs", "read µs", "bytes");
    printf ("  %-28s %10.2f %10.2f %8zu\n", "JSON, schema 3 (before)", json.store_us, json.read_us,
            json.bytes);
    printf ("  %-28s %10.2f %10.2f %8zu\n", "typed, schema 4 (now)", typed.store_us, typed.read_us,
            typed.bytes);
    printf ("  %-28s %10.2f %10.2f %8.2f\n", "ratio typed / JSON", typed.store_us / json.store_us,
            typed.read_us / json.read_us, (double) typed.bytes / (double) json.bytes);
    json_decref (record);
    bn_vault_destroy (&vault);
    remove (path);
    rmdir (directory);
    zstr_free (&path);
    zstr_free (&directory);
    return 0;
}
