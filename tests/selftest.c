/*  =========================================================================
    bruecke-selftest - runs the class selftests

    Usage: bruecke-selftest [-v] [-t NAME]...   (no -t runs them all)
    =========================================================================
*/

#include "bruecke.h"
//  The classes' headers and BRUECKE_SELFTEST_TABLE, from CMakeLists.txt
#include "selftests.inc"

typedef struct {
    const char *name;    //  the test's name (bruecke_class ... TEST NAME)
    void (*test) (bool); //  its selftest
} s_test_t;

static const s_test_t s_tests[] = {BRUECKE_SELFTEST_TABLE};

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
