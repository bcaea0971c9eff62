/*  =========================================================================
    bc_api - the bruecke CLI's commands for the node's JSON API

    api-token add and offices, web-user add and offices (the node's token
    and users files), and api, which calls the node's JSON API. The call
    itself (bc_api_send) serves the Transferbörse's commands (bc_exchange) too.
    =========================================================================
*/

#ifndef BC_API_H_INCLUDED
#define BC_API_H_INCLUDED

#include "bc_cli.h"
#include <jansson.h>

//  The options of every command that calls the node API, and their usage.
#define BC_API_OPTIONS "url token token-file on-behalf"
#define BC_API_USAGE   "[--url URL] [--token-file FILE | --token TOKEN] [--on-behalf PERSON]"

//  The group's rows of the command table, in the order 'bruecke --help'
//  lists them, ended by a row whose name is NULL. Static; nothing to free.
extern const bc_command_t bc_api_commands[];

//  Sends `method` for `path`, with `body` (borrowed; NULL for none) as
//  JSON, to the node API at --url, else $BRUECKE_API_URL, else
//  BN_API_DEFAULT_URL, with the token from --token-file, $BRUECKE_API_TOKEN
//  or --token, and the person from --on-behalf or $BRUECKE_ON_BEHALF.
//  Returns BC_EXIT_OK and sets *status and *response (the caller's) if the
//  node answered; otherwise says why on stderr and returns the exit code
//  (BC_EXIT_USAGE for a missing or bad token or URL, BC_EXIT_REFUSED if the
//  token file cannot be read or the node does not answer).
int bc_api_send (const bc_command_t *command, zhash_t *options, const char *method,
                 const char *path, zchunk_t *body, int *status, zchunk_t **response) BR_WUR;

//  Calls the node API as bc_api_send does, with `body` (borrowed; NULL for
//  none) as JSON. Returns the answer's JSON object (the caller's) if the
//  node took the call (HTTP status 2xx); otherwise says why on stderr
//  ("bruecke: REASON: detail" for a refusal), sets *rc to the exit code and
//  returns NULL.
json_t *bc_api_call (const bc_command_t *command, zhash_t *options, const char *method,
                     const char *path, json_t *body, int *rc);

#endif
