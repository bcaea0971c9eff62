/*  =========================================================================
    bc_cli - what the command groups of the bruecke CLI share
    =========================================================================
*/

#include "bc_cli.h"

void
bc_command_words (const bc_command_t *command, char *words, size_t size)
{
    snprintf (words, size, "%s%s%s", command->group ? command->group : "",
              command->group ? " " : "", command->name);
}

void
bc_command_print_help (FILE *stream, const bc_command_t *command)
{
    char words[BC_COMMAND_WORDS_SIZE];
    bc_command_words (command, words, sizeof (words));
    fprintf (stream, "usage: bruecke %s %s\n\n%s\n", words, command->usage, command->summary);
}

//  True if `name` is one of the space-separated words in `list`.
static bool
s_listed (const char *list, const char *name)
{
    size_t length = strlen (name);
    if (length == 0)
        return false; //  a bare "--" names nothing (and strstr would find it everywhere)
    for (const char *cursor = list; (cursor = strstr (cursor, name)); cursor += length) {
        bool starts = cursor == list || cursor[-1] == ' ';
        bool ends = cursor[length] == '\0' || cursor[length] == ' ';
        if (starts && ends)
            return true;
    }
    return false;
}

int
bc_command_parse (const bc_command_t *command, int argc, char *argv[], zhash_t *options,
                  zlist_t *arguments)
{
    for (int index = 0; index < argc; index++) {
        const char *word = argv[index];
        if (streq (word, "--help") || streq (word, "-h"))
            return BC_EXIT_OK;
        if (strncmp (word, "--", 2) == 0 && s_listed (command->flags, word + 2))
            zhash_update (options, word + 2, (void *) BC_FLAG_SET);
        else if (strncmp (word, "--", 2) == 0) {
            if (!s_listed (command->options, word + 2) || index + 1 >= argc) {
                fprintf (stderr, "bruecke: option %s is unknown here or lacks a value\n", word);
                return BC_EXIT_USAGE;
            }
            zhash_update (options, word + 2, argv[++index]);
        } else
            zlist_append (arguments, (void *) word);
    }
    int rc = BC_PARSE_READY;
    char *required = strdup (command->required);
    char *saved = NULL;
    for (char *name = strtok_r (required, " ", &saved); name && rc == BC_PARSE_READY;
         name = strtok_r (NULL, " ", &saved))
        if (!zhash_lookup (options, name)) {
            fprintf (stderr, "bruecke: --%s is required\n", name);
            rc = BC_EXIT_USAGE;
        }
    free (required);
    if (rc == BC_PARSE_READY && zlist_size (arguments) != command->arguments) {
        fprintf (stderr, "bruecke: expected %zu argument(s), got %zu\n", command->arguments,
                 zlist_size (arguments));
        rc = BC_EXIT_USAGE;
    }
    return rc;
}

int
bc_refused (const bc_command_t *command, br_reason_t reason, const char *what)
{
    char words[BC_COMMAND_WORDS_SIZE];
    bc_command_words (command, words, sizeof (words));
    fprintf (stderr, "bruecke %s: %s: refused: %s (%d)\n", words, what, br_reason_name (reason),
             (int) reason);
    return BC_EXIT_REFUSED;
}

const char *
bc_option (zhash_t *options, const char *name)
{
    return (const char *) zhash_lookup (options, name);
}

bool
bc_parse_number (const char *text, int64_t min, int64_t max, int64_t *value)
{
    char *end = NULL;
    errno = 0;
    long long parsed = strtoll (text, &end, 10);
    if (!*text || *end || errno || parsed < min || parsed > max)
        return false;
    *value = parsed;
    return true;
}

char *
bc_path_join (const char *directory, const char *name, const char *extension)
{
    return zsys_sprintf ("%s/%s%s", directory, name, extension);
}

//  Loads the county public key file named by --county-pub into `key`.
static br_reason_t
s_load_county_public (zhash_t *options, uint8_t key[BR_SIGN_PUBLIC_SIZE])
{
    br_reason_t reason;
    br_identity_t *county = br_identity_load_public (bc_option (options, "county-pub"), &reason);
    if (county) {
        memcpy (key, br_identity_sign_public (county), BR_SIGN_PUBLIC_SIZE);
        br_identity_destroy (&county);
    }
    return reason;
}

br_roster_t *
bc_load_roster (zhash_t *options, const char *path, br_roster_t *current, br_reason_t *reason)
{
    uint8_t county_public[BR_SIGN_PUBLIC_SIZE];
    *reason = s_load_county_public (options, county_public);
    if (*reason != BR_REASON_OK)
        return NULL;
    return br_roster_load (path, county_public, current, br_now_ms (), reason);
}

//  @selftest

//  Most words a test line has, and room for an option's value.
#define S_TEST_WORDS_MAX  16
#define S_TEST_VALUE_SIZE 32

static int
s_test_handler (const bc_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) command;
    (void) options;
    (void) arguments;
    return BC_EXIT_OK;
}

//  Parses the words of `line` (space-separated) for `command`; returns
//  what bc_command_parse returned, the value of option `name` in `value`
//  (S_TEST_VALUE_SIZE bytes; "" if not given) and the number of arguments.
static int
s_test_parse (const bc_command_t *command, const char *line, const char *name, char *value,
              size_t *arguments)
{
    char *words = strdup (line);
    char *argv[S_TEST_WORDS_MAX];
    int argc = 0;
    char *saved = NULL;
    for (char *word = strtok_r (words, " ", &saved); word && argc < S_TEST_WORDS_MAX;
         word = strtok_r (NULL, " ", &saved))
        argv[argc++] = word;
    zhash_t *options = zhash_new ();
    zlist_t *list = zlist_new ();
    int rc = bc_command_parse (command, argc, argv, options, list);
    snprintf (value, S_TEST_VALUE_SIZE, "%s",
              bc_option (options, name) ? bc_option (options, name) : "");
    *arguments = zlist_size (list);
    zlist_destroy (&list);
    zhash_destroy (&options);
    free (words);
    return rc;
}

void
bc_cli_test (bool verbose)
{
    if (verbose)
        printf (" * bc_cli: ");
    const bc_command_t command = {.group = "roster",
                                  .name = "sign",
                                  .usage = "--draft FILE [--valid-days N] [--force] ROSTER",
                                  .summary = "Signs.",
                                  .options = "draft valid-days",
                                  .flags = "force",
                                  .required = "draft",
                                  .arguments = 1,
                                  .handler = s_test_handler};
    char words[BC_COMMAND_WORDS_SIZE];
    bc_command_words (&command, words, sizeof (words));
    assert (streq (words, "roster sign"));
    const bc_command_t one_word = {.name = "keygen", .handler = s_test_handler};
    bc_command_words (&one_word, words, sizeof (words));
    assert (streq (words, "keygen"));

    char value[S_TEST_VALUE_SIZE];
    size_t arguments = 0;
    assert (s_test_parse (&command, "--draft d.zpl r.bin", "draft", value, &arguments) ==
            BC_PARSE_READY);
    assert (streq (value, "d.zpl") && arguments == 1);
    assert (s_test_parse (&command, "r.bin --force --draft d.zpl", "force", value, &arguments) ==
            BC_PARSE_READY);
    assert (streq (value, BC_FLAG_SET) && arguments == 1);
    //  Help wins over what is missing
    assert (s_test_parse (&command, "-h", "draft", value, &arguments) == BC_EXIT_OK);
    assert (s_test_parse (&command, "r.bin --help", "draft", value, &arguments) == BC_EXIT_OK);
    //  Unknown, valueless, bare, missing, and the wrong number of arguments
    if (verbose)
        printf ("(five usage errors follow) ");
    assert (s_test_parse (&command, "--draft d.zpl --days 3 r.bin", "draft", value, &arguments) ==
            BC_EXIT_USAGE);
    assert (s_test_parse (&command, "r.bin --draft", "draft", value, &arguments) == BC_EXIT_USAGE);
    assert (s_test_parse (&command, "-- --draft d.zpl r.bin", "draft", value, &arguments) ==
            BC_EXIT_USAGE);
    assert (s_test_parse (&command, "--valid-days 3 r.bin", "draft", value, &arguments) ==
            BC_EXIT_USAGE);
    assert (s_test_parse (&command, "--draft d.zpl a b", "draft", value, &arguments) ==
            BC_EXIT_USAGE);
    //  An option's name is a whole word of the list, not a part of one
    assert (!s_listed ("valid-days draft", "days"));
    assert (!s_listed ("valid-days draft", "raft"));
    assert (s_listed ("valid-days draft", "draft"));
    assert (!s_listed ("draft", ""));

    int64_t number = 7;
    assert (bc_parse_number ("365", 1, 3650, &number) && number == 365);
    assert (bc_parse_number ("-5", -10, 10, &number) && number == -5);
    assert (!bc_parse_number ("", 0, 10, &number));
    assert (!bc_parse_number ("3x", 0, 10, &number));
    assert (!bc_parse_number ("11", 0, 10, &number));
    assert (!bc_parse_number ("0", 1, 10, &number));
    assert (!bc_parse_number ("99999999999999999999", 0, INT64_MAX, &number));
    assert (number == -5);

    char *path = bc_path_join ("/etc/bruecke", "luenen", ".key");
    assert (streq (path, "/etc/bruecke/luenen.key"));
    zstr_free (&path);
    //  @end
    if (verbose)
        printf ("OK\n");
}
