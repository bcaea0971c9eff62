/*  =========================================================================
    bc_keys - the bruecke CLI's commands for keys and rosters

    keygen, county-keygen and key show; roster init, add-node, add-route, revoke
    and sign on a roster draft (ZPL); roster verify and show on a signed roster.
    =========================================================================
*/

#ifndef BC_KEYS_H_INCLUDED
#define BC_KEYS_H_INCLUDED

#include "bc_cli.h"

//  The group's rows of the command table, in the order 'bruecke --help'
//  lists them, ended by a row whose name is NULL. Static; nothing to free.
extern const bc_command_t bc_keys_commands[];

#endif
