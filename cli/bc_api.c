/*  =========================================================================
    bc_api - the bruecke CLI's commands for the node's JSON API
    =========================================================================
*/

#include "bc_api.h"
#include <termios.h>
#include "bn_api.h"
#include "bn_http.h"
#include "bn_tokens.h"

static int
s_api_token_add (const bc_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    const char *path = bc_option (options, "tokens");
    const char *name = bc_option (options, "name");
    const char *role = bc_option (options, "role");
    const char *offices = bc_option (options, "offices") ? bc_option (options, "offices") : "";
    if (!br_token_valid (name, BN_TOKENS_NAME_MAX) || !bn_tokens_role_valid (role) ||
        !bn_tokens_offices_valid (role, offices)) {
        fprintf (stderr,
                 "bruecke api-token add: --name is 1 to %d characters of [a-z0-9-]; --role is "
                 "caseworker, integration or readonly; --offices lists service codes "
                 "(jobcenter,fruehe-hilfen), exactly one for integration\n",
                 BN_TOKENS_NAME_MAX);
        return BC_EXIT_USAGE;
    }
    char *token = NULL;
    br_reason_t reason = bn_tokens_add (path, name, role, offices, &token);
    if (reason == BR_REASON_INVALID_STATE)
        return bc_refused (command, reason, "a token of that name exists");
    if (reason != BR_REASON_OK)
        return bc_refused (command, reason, path);
    //  The token goes to stdout alone, so that it can be piped into a file
    printf ("%s\n", token);
    fflush (stdout);
    fprintf (stderr, "bruecke: token '%s' (%s) added to %s; it is shown only this once\n", name,
             role, path);
    sodium_memzero (token, strlen (token));
    zstr_free (&token);
    return BC_EXIT_OK;
}

//  Reads one line (a password) from standard input into `line` (`size`
//  bytes), without the newline; with the terminal's echo off if it is one.
//  False if there is none.
static bool
s_read_secret_line (const char *prompt, char *line, size_t size)
{
    bool terminal = isatty (STDIN_FILENO);
    struct termios saved, quiet;
    if (terminal) {
        fprintf (stderr, "%s", prompt);
        tcgetattr (STDIN_FILENO, &saved);
        quiet = saved;
        quiet.c_lflag &= (tcflag_t) ~ECHO;
        tcsetattr (STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    bool got = fgets (line, (int) size, stdin) != NULL;
    if (terminal) {
        tcsetattr (STDIN_FILENO, TCSAFLUSH, &saved);
        fprintf (stderr, "\n");
    }
    if (got)
        line[strcspn (line, "\r\n")] = '\0';
    return got;
}

static int
s_web_user_add (const bc_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    const char *path = bc_option (options, "users");
    const char *name = bc_option (options, "name");
    const char *role = bc_option (options, "role");
    const char *offices = bc_option (options, "offices") ? bc_option (options, "offices") : "";
    if (!br_token_valid (name, BN_TOKENS_NAME_MAX) || !bn_tokens_web_role_valid (role) ||
        !bn_tokens_offices_valid (role, offices)) {
        fprintf (stderr,
                 "bruecke web-user add: --name is 1 to %d characters of [a-z0-9-]; --role is "
                 "sachbearbeitung, leitung or administration; --offices lists service codes "
                 "(jobcenter,fruehe-hilfen)\n",
                 BN_TOKENS_NAME_MAX);
        return BC_EXIT_USAGE;
    }
    char password[BN_TOKENS_PASSWORD_MAX + 2];
    if (!s_read_secret_line ("Passwort: ", password, sizeof (password)) ||
        strlen (password) < BN_TOKENS_PASSWORD_MIN || strlen (password) > BN_TOKENS_PASSWORD_MAX) {
        sodium_memzero (password, sizeof (password));
        fprintf (stderr,
                 "bruecke web-user add: give a password of %d to %d characters on "
                 "standard input\n",
                 BN_TOKENS_PASSWORD_MIN, BN_TOKENS_PASSWORD_MAX);
        return BC_EXIT_USAGE;
    }
    br_reason_t reason = bn_tokens_add_user (path, name, role, offices, password);
    sodium_memzero (password, sizeof (password));
    if (reason == BR_REASON_INVALID_STATE)
        return bc_refused (command, reason, "a user of that name exists");
    if (reason != BR_REASON_OK)
        return bc_refused (command, reason, path);
    fprintf (stderr, "bruecke: web user '%s' (%s) added to %s\n", name, role, path);
    return BC_EXIT_OK;
}

//  'bruecke api-token offices' and 'bruecke web-user offices': sets the
//  offices a token or web user acts for.
static int
s_offices_set (const bc_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    bool users = streq (command->group, "web-user");
    const char *path = bc_option (options, users ? "users" : "tokens");
    const char *name = bc_option (options, "name");
    const char *offices = bc_option (options, "offices");
    br_reason_t reason = bn_tokens_set_offices (path, name, offices);
    if (reason == BR_REASON_MALFORMED) {
        fprintf (stderr,
                 "bruecke %s offices: --name names the entry; --offices lists service codes "
                 "(jobcenter,fruehe-hilfen; \"\" for none), exactly one for integration\n",
                 command->group);
        return BC_EXIT_USAGE;
    }
    if (reason != BR_REASON_OK)
        return bc_refused (command, reason, reason == BR_REASON_NOT_FOUND ? name : path);
    fprintf (stderr, "bruecke: %s '%s' now acts for: %s\n", users ? "web user" : "token", name,
             *offices ? offices : "no office");
    return BC_EXIT_OK;
}

//  Reads standard input, at most `max_size` bytes. NULL if it is larger.
static zchunk_t *
s_read_stdin (size_t max_size)
{
    zchunk_t *chunk = zchunk_new (NULL, 0);
    char buffer[4096];
    size_t got;
    while ((got = fread (buffer, 1, sizeof (buffer), stdin)) > 0) {
        if (zchunk_size (chunk) + got > max_size) {
            zchunk_destroy (&chunk);
            break;
        }
        zchunk_extend (chunk, buffer, got);
    }
    return chunk;
}

//  Finds the API token: --token, --token-file or $BRUECKE_API_TOKEN. Returns
//  it (the caller frees it), or NULL and sets *reason (OK if none was given).
static char *
s_api_token (zhash_t *options, br_reason_t *reason)
{
    *reason = BR_REASON_OK;
    if (bc_option (options, "token"))
        return strdup (bc_option (options, "token"));
    const char *path = bc_option (options, "token-file");
    if (!path)
        return getenv ("BRUECKE_API_TOKEN") ? strdup (getenv ("BRUECKE_API_TOKEN")) : NULL;
    //  A token file is a secret like a key file: readable by its owner only
    struct stat status;
    if (stat (path, &status) != 0) {
        *reason = BR_REASON_IO_ERROR;
        return NULL;
    }
    if (status.st_mode & 077) {
        *reason = BR_REASON_KEY_PERMISSIONS;
        return NULL;
    }
    zchunk_t *chunk = br_file_read (path, BN_HTTP_TOKEN_MAX + 2, reason);
    if (!chunk)
        return NULL;
    char *token = zchunk_strdup (chunk);
    sodium_memzero (zchunk_data (chunk), zchunk_size (chunk));
    zchunk_destroy (&chunk);
    token[strcspn (token, "\r\n")] = '\0';
    return token;
}

int
bc_api_send (const bc_command_t *command, zhash_t *options, const char *method, const char *path,
             zchunk_t *body, int *status, zchunk_t **response)
{
    char words[BC_COMMAND_WORDS_SIZE];
    bc_command_words (command, words, sizeof (words));
    const char *url = bc_option (options, "url");
    if (!url)
        url = getenv ("BRUECKE_API_URL") ? getenv ("BRUECKE_API_URL") : BN_API_DEFAULT_URL;
    if (bc_option (options, "token") && bc_option (options, "token-file")) {
        fprintf (stderr, "bruecke %s: give --token or --token-file, not both\n", words);
        return BC_EXIT_USAGE;
    }
    br_reason_t reason;
    char *token = s_api_token (options, &reason);
    if (reason != BR_REASON_OK)
        return bc_refused (command, reason,
                           reason == BR_REASON_KEY_PERMISSIONS
                               ? "the token file must be readable by its owner only (chmod 600)"
                               : "cannot read the token file");
    if (!token) {
        fprintf (stderr,
                 "bruecke %s: no API token: give --token-file FILE, set BRUECKE_API_TOKEN, or give "
                 "--token TOKEN\n",
                 words);
        return BC_EXIT_USAGE;
    }
    const char *on_behalf = bc_option (options, "on-behalf");
    if (!on_behalf)
        on_behalf = getenv ("BRUECKE_ON_BEHALF");
    reason =
        bn_http_request_as (url, method, path, token, on_behalf, body ? zchunk_data (body) : NULL,
                            body ? zchunk_size (body) : 0, status, response);
    sodium_memzero (token, strlen (token));
    zstr_free (&token);
    if (reason == BR_REASON_MALFORMED) {
        //  Only 'bruecke api' takes METHOD and PATH from the user; the others build them
        fprintf (stderr, "bruecke %s: bad %s--url (http://HOST:PORT) or token\n", words,
                 command->group ? "" : "METHOD, PATH (it starts with /), ");
        return BC_EXIT_USAGE;
    }
    if (reason != BR_REASON_OK) {
        char *what = zsys_sprintf ("no answer from the node API at %s (is the node running?)", url);
        int rc = bc_refused (command, reason, what);
        zstr_free (&what);
        return rc;
    }
    return BC_EXIT_OK;
}

//  Says on stderr why the node API refused a call ("bruecke: REASON:
//  detail", from the answer's error and detail) and returns the exit code.
static int
s_api_refusal (int status, json_t *answer)
{
    const char *name = json_string_value (json_object_get (answer, "error"));
    const char *detail = json_string_value (json_object_get (answer, "detail"));
    if (name)
        fprintf (stderr, "bruecke: %s: %s\n", name, detail ? detail : "");
    else
        fprintf (stderr, "bruecke: HTTP status %d\n", status);
    return BC_EXIT_REFUSED;
}

json_t *
bc_api_call (const bc_command_t *command, zhash_t *options, const char *method, const char *path,
             json_t *body, int *rc)
{
    zchunk_t *chunk = NULL;
    if (body) {
        char *text = json_dumps (body, JSON_COMPACT);
        assert (text);
        chunk = zchunk_new (text, strlen (text));
        free (text);
    }
    int status = 0;
    zchunk_t *response = NULL;
    *rc = bc_api_send (command, options, method, path, chunk, &status, &response);
    zchunk_destroy (&chunk);
    if (*rc != BC_EXIT_OK)
        return NULL;
    json_error_t error;
    json_t *answer =
        json_loadb ((const char *) zchunk_data (response), zchunk_size (response), 0, &error);
    zchunk_destroy (&response);
    if (status < 200 || status > 299)
        *rc = s_api_refusal (status, answer);
    else if (!json_is_object (answer)) {
        fprintf (stderr, "bruecke: the node's answer (HTTP status %d) is not a JSON object\n",
                 status);
        *rc = BC_EXIT_REFUSED;
    }
    if (*rc != BC_EXIT_OK)
        json_decref (answer);
    return *rc == BC_EXIT_OK ? answer : NULL;
}

static int
s_api (const bc_command_t *command, zhash_t *options, zlist_t *arguments)
{
    char method[16];
    snprintf (method, sizeof (method), "%s", (const char *) zlist_first (arguments));
    for (char *character = method; *character; character++)
        *character = (char) toupper ((unsigned char) *character);
    const char *path = (const char *) zlist_next (arguments);
    //  The body: --data JSON, --data @FILE, or --data @- for standard input
    const char *data = bc_option (options, "data");
    zchunk_t *body = NULL;
    br_reason_t reason = BR_REASON_TOO_LARGE;
    if (data && streq (data, "@-"))
        body = s_read_stdin (BN_API_BODY_MAX);
    else if (data && *data == '@')
        body = br_file_read (data + 1, BN_API_BODY_MAX, &reason);
    else if (data)
        body = zchunk_new (data, strlen (data));
    if (data && !body)
        return bc_refused (command, reason == BR_REASON_TOO_LARGE ? reason : BR_REASON_IO_ERROR,
                           "cannot read the --data file, or it is too large");

    int status = 0;
    zchunk_t *response = NULL;
    int rc = bc_api_send (command, options, method, path, body, &status, &response);
    zchunk_destroy (&body);
    if (rc != BC_EXIT_OK)
        return rc;
    //  The answer's JSON goes to stdout, indented; a refusal also to stderr
    json_error_t error;
    json_t *answer = json_loadb ((const char *) zchunk_data (response), zchunk_size (response),
                                 JSON_DECODE_ANY, &error);
    if (answer) {
        json_dumpf (answer, stdout, JSON_INDENT (2));
        printf ("\n");
    } else
        fwrite (zchunk_data (response), 1, zchunk_size (response), stdout);
    zchunk_destroy (&response);
    if (status < 200 || status > 299)
        rc = s_api_refusal (status, answer);
    json_decref (answer);
    return rc;
}

//  ---- The group's rows of the command table (columns: bc_command_t) -------

const bc_command_t bc_api_commands[] = {
    {"api-token", "add",
     "--tokens FILE --name NAME --role caseworker|integration|readonly [--offices A,B]",
     "Adds a token for the node's JSON API to the token file (created, mode 0600, if missing)\n"
     "and prints the token once; the file keeps only its argon2id hash. A running node takes\n"
     "it at the next request; deleting its line from the file revokes it. --offices are the\n"
     "offices (service codes) whose cases it may work; an integration token (the town's case\n"
     "software) acts for exactly one, and names in every call the person it acts for.",
     "tokens name role offices", "", "tokens name role", 0, s_api_token_add},
    {"api-token", "offices", "--tokens FILE --name NAME --offices A,B",
     "Sets the offices a token acts for (\"\" for none); a running node takes it at once.",
     "tokens name offices", "", "tokens name offices", 0, s_offices_set},
    {"web-user", "add",
     "--users FILE --name NAME --role sachbearbeitung|leitung|administration [--offices A,B]",
     "Adds a user of the node's web interface to its users file (created, mode 0600, if\n"
     "missing; by default web-users in the node's state directory). The password, 10 to 128\n"
     "characters, comes from standard input (asked for without echo on a terminal); the file\n"
     "keeps only its argon2id hash. A running node takes it at the next login; deleting its\n"
     "line from the file removes the user. --offices are the offices (service codes, e.g.\n"
     "jobcenter,fruehe-hilfen) whose cases the user works; the administration needs none.",
     "users name role offices", "", "users name role", 0, s_web_user_add},
    {"web-user", "offices", "--users FILE --name NAME --offices A,B",
     "Sets the offices a web user acts for (\"\" for none); it holds from the user's next\n"
     "request.",
     "users name offices", "", "users name offices", 0, s_offices_set},
    {NULL, "api",
     "METHOD PATH [--data JSON | --data @FILE | --data @-] [--url URL]\n"
     "       [--token-file FILE | --token TOKEN]",
     "Calls the node's JSON API (node/openapi.yaml), e.g. 'bruecke api GET /v1/status', and\n"
     "prints the answer's JSON. Exit 1 on a refusal, with 'bruecke: REASON: detail' on stderr.\n"
     "--url defaults to $BRUECKE_API_URL, else " BN_API_DEFAULT_URL ". The token comes from\n"
     "--token-file (mode 0600), $BRUECKE_API_TOKEN or --token (which other users can see in\n"
     "the process list). --data @- reads the body from standard input. An integration token\n"
     "names the person it acts for with --on-behalf or $BRUECKE_ON_BEHALF.",
     "data " BC_API_OPTIONS, "", "", 2, s_api},
    {.name = NULL}, //  the end
};
