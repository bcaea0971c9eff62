/*  =========================================================================
    bc_daemon - the bruecke CLI's commands for daemon control

    node status, send-test, inbox and sent; broker status, reload and match.
    Each sends one request to the daemon's control socket (--control, or
    control.ipc in --state) and prints the answer.
    =========================================================================
*/

#ifndef BC_DAEMON_H_INCLUDED
#define BC_DAEMON_H_INCLUDED

#include "bc_cli.h"

//  The group's rows of the command table, in the order 'bruecke --help'
//  lists them, ended by a row whose name is NULL. Static; nothing to free.
extern const bc_command_t bc_daemon_commands[];

#endif
