/*  =========================================================================
    bruecke - the operator's command-line tool

    Keys, rosters and offline checks for the county coordination office and
    the towns' IT staff; control of the running daemons; the node's tokens,
    users, audit log and JSON API; the Transferbörse. Every subcommand takes
    --help. Exit codes:
        0  done
        1  refused or failed; the reason code is printed
        2  usage error

    Each group of commands declares its rows of the command table beside
    its code (cli/bc_*.c); this file lists the groups, finds the command,
    parses its words (bc_command_parse) and runs it.
    =========================================================================
*/

#include "bc_cli.h"
#include "bc_keys.h"
#include "bc_envelope.h"
#include "bc_daemon.h"
#include "bc_audit.h"
#include "bc_api.h"
#include "bc_exchange.h"

//  The command table: the groups' rows, in the order help lists them.
static const bc_command_t *const s_groups[] = {bc_keys_commands,   bc_envelope_commands,
                                               bc_daemon_commands, bc_audit_commands,
                                               bc_api_commands,    bc_exchange_commands};

#define S_GROUP_COUNT (sizeof (s_groups) / sizeof (s_groups[0]))

static void
s_print_help (void)
{
    printf ("bruecke - operator tool for the bruecke county network\n\nCommands:\n");
    for (size_t group = 0; group < S_GROUP_COUNT; group++)
        for (const bc_command_t *command = s_groups[group]; command->name; command++) {
            char words[BC_COMMAND_WORDS_SIZE];
            bc_command_words (command, words, sizeof (words));
            const char *end = strchr (command->summary, '\n');
            printf ("  %-22s %.*s\n", words,
                    end ? (int) (end - command->summary) : (int) strlen (command->summary),
                    command->summary);
        }
    printf ("\n'bruecke COMMAND --help' describes a command. Exit codes: 0 done, 1 refused\n"
            "(the reason code is printed), 2 usage error.\n");
}

//  The command that argv names, and in *consumed how many words of argv
//  (with the program's) name it; NULL if none.
static const bc_command_t *
s_find_command (int argc, char *argv[], int *consumed)
{
    for (size_t group = 0; group < S_GROUP_COUNT; group++)
        for (const bc_command_t *command = s_groups[group]; command->name; command++) {
            if (!command->group && argc > 1 && streq (argv[1], command->name)) {
                *consumed = 2;
                return command;
            }
            if (command->group && argc > 2 && streq (argv[1], command->group) &&
                streq (argv[2], command->name)) {
                *consumed = 3;
                return command;
            }
        }
    return NULL;
}

int
main (int argc, char *argv[])
{
    if (argc < 2 || streq (argv[1], "--help") || streq (argv[1], "-h")) {
        s_print_help ();
        return argc < 2 ? BC_EXIT_USAGE : BC_EXIT_OK;
    }
    if (sodium_init () < 0) {
        fprintf (stderr, "bruecke: libsodium failed to initialise\n");
        return BC_EXIT_REFUSED;
    }
    int consumed = 0;
    const bc_command_t *command = s_find_command (argc, argv, &consumed);
    if (!command) {
        fprintf (stderr, "bruecke: unknown command; 'bruecke --help' lists them\n");
        return BC_EXIT_USAGE;
    }
    zhash_t *options = zhash_new ();
    zlist_t *arguments = zlist_new ();
    int rc = bc_command_parse (command, argc - consumed, argv + consumed, options, arguments);
    if (rc == BC_PARSE_READY)
        rc = command->handler (command, options, arguments);
    else
        //  Asked for (on stdout), or after what was wrong (on stderr)
        bc_command_print_help (rc == BC_EXIT_OK ? stdout : stderr, command);
    zlist_destroy (&arguments);
    zhash_destroy (&options);
    return rc;
}
