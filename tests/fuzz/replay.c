/*  =========================================================================
    replay - runs a fuzz target's entry point over saved inputs, without libFuzzer

    Linked with one fuzz target (its LLVMFuzzerTestOneInput and
    LLVMFuzzerInitialize) it replays the committed seed corpus and crash
    reproducers in the normal and sanitizer builds, so every input that ever
    found a bug stays a regression test (as SQLite's fuzzcheck does).

    Usage: fuzz_replay_NAME [-v] [-o] PATH...
      PATH   a file, or a directory whose regular files (not recursive,
             names starting with '.' skipped) are replayed in name order
      -o     the next PATH is optional: skipped if it does not exist
      -v     print each input's name before it runs

    Exits 0 after all inputs ran; a crashing input aborts the process with
    the sanitizer's report. Exits 1 if an input cannot be read or no input
    was found at all (an empty corpus must not pass silently), 2 on bad usage.
    =========================================================================
*/

#include "bruecke.h"
#include <dirent.h>

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

//  Largest input replayed; libFuzzer runs the targets with far smaller ones.
#define S_INPUT_MAX BR_FILE_MAX_SIZE

//  Replays one file. Returns 0, or -1 if it cannot be read.
static int
s_replay_file (const char *path, bool verbose)
{
    br_reason_t reason;
    zchunk_t *chunk = br_file_read (path, S_INPUT_MAX, &reason);
    if (!chunk) {
        fprintf (stderr, "replay: cannot read %s: %s\n", path, br_reason_name (reason));
        return -1;
    }
    if (verbose) {
        printf ("replay: %s (%zu bytes)\n", path, zchunk_size (chunk));
        fflush (stdout);
    }
    //  An exact-size copy, so the sanitizers catch a read past the end
    size_t size = zchunk_size (chunk);
    uint8_t *data = (uint8_t *) malloc (size ? size : 1);
    assert (data);
    if (size)
        memcpy (data, zchunk_data (chunk), size);
    zchunk_destroy (&chunk);
    LLVMFuzzerTestOneInput (data, size);
    free (data);
    return 0;
}

//  Replays `path`, a file or a directory, adding to *count. Returns 0 or -1.
static int
s_replay_path (const char *path, bool optional, bool verbose, size_t *count)
{
    struct stat status;
    if (stat (path, &status) != 0) {
        if (optional && errno == ENOENT)
            return 0;
        fprintf (stderr, "replay: %s: %s\n", path, strerror (errno));
        return -1;
    }
    if (S_ISREG (status.st_mode)) {
        if (s_replay_file (path, verbose) != 0)
            return -1;
        (*count)++;
        return 0;
    }
    if (!S_ISDIR (status.st_mode)) {
        fprintf (stderr, "replay: %s is neither a file nor a directory\n", path);
        return -1;
    }
    struct dirent **entries = NULL;
    int entry_count = scandir (path, &entries, NULL, alphasort);
    if (entry_count < 0) {
        fprintf (stderr, "replay: cannot list %s: %s\n", path, strerror (errno));
        return -1;
    }
    int result = 0;
    for (int index = 0; index < entry_count; index++) {
        const char *name = entries[index]->d_name;
        if (result == 0 && name[0] != '.') {
            char *file = zsys_sprintf ("%s/%s", path, name);
            if (stat (file, &status) == 0 && S_ISREG (status.st_mode)) {
                result = s_replay_file (file, verbose);
                if (result == 0)
                    (*count)++;
            }
            zstr_free (&file);
        }
        free (entries[index]);
    }
    free (entries);
    return result;
}

int
main (int argc, char *argv[])
{
    bool verbose = false;
    size_t paths = 0;
    for (int arg = 1; arg < argc; arg++) {
        if (streq (argv[arg], "-v"))
            verbose = true;
        else if (streq (argv[arg], "-o"))
            continue;
        else if (argv[arg][0] == '-') {
            fprintf (stderr, "usage: %s [-v] [-o] PATH...\n", argv[0]);
            return 2;
        } else
            paths++;
    }
    if (paths == 0) {
        fprintf (stderr, "usage: %s [-v] [-o] PATH...\n", argv[0]);
        return 2;
    }
    LLVMFuzzerInitialize (&argc, &argv);

    size_t count = 0;
    bool optional = false;
    for (int arg = 1; arg < argc; arg++) {
        if (streq (argv[arg], "-v"))
            continue;
        if (streq (argv[arg], "-o")) {
            optional = true;
            continue;
        }
        if (s_replay_path (argv[arg], optional, verbose, &count) != 0)
            return 1;
        optional = false;
    }
    if (count == 0) {
        fprintf (stderr, "replay: no inputs found\n");
        return 1;
    }
    printf ("replay: %zu inputs, 0 crashes\n", count);
    return 0;
}
