/*  =========================================================================
    bruecke-selftest - runs the class selftests

    Usage: bruecke-selftest [-v] [-t NAME]...   (no -t runs them all)
    =========================================================================
*/

#include "bruecke.h"
#include "bb_store.h"
#include "bb_zap.h"
#include "bb_verifier.h"
#include "bb_match.h"
#include "bb_exchange.h"
#include "bb_dashboard.h"
#include "br_board.h"
#include "bn_store.h"
#include "bn_answers.h"
#include "bn_audit.h"
#include "bn_vault.h"
#include "bn_record.h"
#include "bn_casework.h"
#include "bn_exchange.h"
#include "bn_web.h"
#include "bn_tokens.h"
#include "bn_http.h"
#include "bn_api.h"
#include "bn_routes.h"

typedef struct {
    const char *name;    //  class name without prefix
    void (*test) (bool); //  its selftest
} s_test_t;

static const s_test_t s_tests[] = {
    {"reason", br_reason_test},
    {"util", br_util_test},
    {"proto", br_proto_test},
    {"identity", br_identity_test},
    {"seal", br_seal_test},
    {"attestation", br_attestation_test},
    {"catalogue", br_catalogue_test},
    {"states", br_states_test},
    {"roster", br_roster_test},
    {"roster_draft", br_roster_draft_test},
    {"envelope", br_envelope_test},
    {"store", br_store_test},
    {"config", br_config_test},
    {"ledger", br_ledger_test},
    {"bb_store", bb_store_test},
    {"bb_zap", bb_zap_test},
    {"bb_verifier", bb_verifier_test},
    {"bb_match", bb_match_test},
    {"br_board", br_board_test},
    {"bb_exchange", bb_exchange_test},
    {"bb_dashboard", bb_dashboard_test},
    {"bn_store", bn_store_test},
    {"bn_answers", bn_answers_test},
    {"bn_audit", bn_audit_test},
    {"bn_vault", bn_vault_test},
    {"bn_record", bn_record_test},
    {"bn_casework", bn_casework_test},
    {"bn_exchange", bn_exchange_test},
    {"bn_web", bn_web_test},
    {"bn_tokens", bn_tokens_test},
    {"bn_http", bn_http_test},
    {"bn_api", bn_api_test},
    {"bn_routes", bn_routes_test},
};

#define S_TEST_COUNT (sizeof (s_tests) / sizeof (s_tests[0]))

static const s_test_t *
s_find (const char *name)
{
    for (size_t index = 0; index < S_TEST_COUNT; index++)
        if (streq (s_tests[index].name, name))
            return &s_tests[index];
    return NULL;
}

int
main (int argc, char *argv[])
{
    bool verbose = false;
    const char *selected[S_TEST_COUNT];
    size_t selected_count = 0;

    for (int arg = 1; arg < argc; arg++) {
        if (streq (argv[arg], "-v"))
            verbose = true;
        else if (streq (argv[arg], "-t") && arg + 1 < argc) {
            const char *name = argv[++arg];
            if (!s_find (name)) {
                fprintf (stderr, "bruecke-selftest: no selftest named '%s'\n", name);
                return 2;
            }
            if (selected_count < S_TEST_COUNT)
                selected[selected_count++] = name;
        } else if (streq (argv[arg], "-l")) {
            for (size_t index = 0; index < S_TEST_COUNT; index++)
                printf ("%s\n", s_tests[index].name);
            return 0;
        } else {
            fprintf (stderr, "usage: bruecke-selftest [-v] [-l] [-t NAME]...\n");
            return 2;
        }
    }
    if (sodium_init () < 0) {
        fprintf (stderr, "bruecke-selftest: libsodium failed to initialise\n");
        return 1;
    }
    if (selected_count == 0)
        for (size_t index = 0; index < S_TEST_COUNT; index++)
            s_tests[index].test (verbose);
    else
        for (size_t index = 0; index < selected_count; index++)
            s_find (selected[index])->test (verbose);
    return 0;
}
