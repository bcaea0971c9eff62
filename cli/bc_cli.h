/*  =========================================================================
    bc_cli - what the command groups of the bruecke CLI share

    The row of the command table (bc_command_t) and the handler it names,
    the exit codes, the parsing of a command's words into options and
    arguments, and the helpers more than one group uses: options, numbers,
    paths, refusals and the signed roster.

    Each group declares its commands as rows of the table beside their code
    (bc_keys, bc_envelope, bc_daemon, bc_audit, bc_api, bc_exchange);
    cli/bruecke.c lists the groups, finds the command and runs it.

    Functions only; no state.
    =========================================================================
*/

#ifndef BC_CLI_H_INCLUDED
#define BC_CLI_H_INCLUDED

#include "bruecke.h"

//  Exit codes of every command.
#define BC_EXIT_OK      0 //  done
#define BC_EXIT_REFUSED 1 //  refused or failed; the reason code is printed
#define BC_EXIT_USAGE   2 //  usage error

//  What bc_command_parse returns when the command can run.
#define BC_PARSE_READY (-1)
//  One day in milliseconds.
#define BC_DAY_MS (24LL * 3600 * 1000)
//  Room for a command's words ("exchange submissions") with the program's.
#define BC_COMMAND_WORDS_SIZE 64
//  The value kept for an option that takes none (a flag) when it is given.
#define BC_FLAG_SET "yes"

//  One command: its words, its options and its handler.
typedef struct bc_command_t bc_command_t;

//  Does the work of `command` with the parsed `options` (name without "--"
//  to value, both borrowed) and positional `arguments` (borrowed texts).
//  Returns the exit code.
typedef int (*bc_handler_fn) (const bc_command_t *command, zhash_t *options, zlist_t *arguments);

struct bc_command_t {
    const char *group;     //  first word ("roster"), or NULL for a one-word command
    const char *name;      //  the command word; NULL ends a group's rows
    const char *usage;     //  the arguments line shown in help
    const char *summary;   //  what it does: the first line is listed in 'bruecke --help'
    const char *options;   //  space-separated options it takes (without --), each with a value
    const char *flags;     //  space-separated options it takes that have no value
    const char *required;  //  space-separated options it needs
    size_t arguments;      //  number of positional arguments it needs
    bc_handler_fn handler; //  does the work
};

//  Writes the command's words as typed ("roster sign", "keygen") into
//  `words`, of `size` bytes (BC_COMMAND_WORDS_SIZE is room for any).
void bc_command_words (const bc_command_t *command, char *words, size_t size);

//  Prints "usage: bruecke WORDS USAGE" and the summary to `stream`.
void bc_command_print_help (FILE *stream, const bc_command_t *command);

//  Parses the `argc` words in `argv` that follow the command's own into
//  `options` (name without "--" to value, borrowed from argv; a flag's
//  value is BC_FLAG_SET) and `arguments` (borrowed from argv), as `command`
//  declares them, and checks that its required options and its number of
//  arguments are there. Returns BC_PARSE_READY if the command can run;
//  BC_EXIT_OK if a word asked for help (--help, -h); BC_EXIT_USAGE after
//  saying on stderr what is wrong. The caller prints the help for either.
int bc_command_parse (const bc_command_t *command, int argc, char *argv[], zhash_t *options,
                      zlist_t *arguments);

//  Says on stderr that `command` refused `what` ("bruecke WORDS: WHAT:
//  refused: REASON (CODE)") and returns BC_EXIT_REFUSED.
int bc_refused (const bc_command_t *command, br_reason_t reason, const char *what);

//  The value of option `name` (without --), or NULL if it was not given.
//  The text belongs to the command line.
const char *bc_option (zhash_t *options, const char *name);

//  Parses `text`, a whole decimal number in [min, max], into *value.
//  False, and *value untouched, if it is not one.
bool bc_parse_number (const char *text, int64_t min, int64_t max, int64_t *value) BR_WUR;

//  Returns "DIRECTORY/NAMEEXTENSION"; the caller frees it.
char *bc_path_join (const char *directory, const char *name, const char *extension);

//  Loads the roster file at `path` and verifies it against the county key
//  in the file that --county-pub names, and against `current` (borrowed;
//  NULL for none) that it is no rollback. Returns the roster (the caller
//  destroys it), or NULL with *reason set.
br_roster_t *bc_load_roster (zhash_t *options, const char *path, br_roster_t *current,
                             br_reason_t *reason);

//  Self test of this class.
void bc_cli_test (bool verbose);

#endif
