/*  =========================================================================
    bc_audit - the bruecke CLI's commands for the node's audit log

    audit verify: checks the hash chain of the node's audit log in its state
    directory, beside a running node.
    =========================================================================
*/

#ifndef BC_AUDIT_H_INCLUDED
#define BC_AUDIT_H_INCLUDED

#include "bc_cli.h"

//  The group's rows of the command table, in the order 'bruecke --help'
//  lists them, ended by a row whose name is NULL. Static; nothing to free.
extern const bc_command_t bc_audit_commands[];

#endif
