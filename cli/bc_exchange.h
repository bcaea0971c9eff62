/*  =========================================================================
    bc_exchange - the bruecke CLI's commands for the Transferbörse

    exchange topics, board, offer, request, withdraw, submissions,
    agreements, accept, schedule, complete, cancel and ledger: the town's part
    in the Transferbörse (where the towns of the Kreis trade prevention
    measures and coaching hours) through the node's JSON API, /v1/exchange.
    =========================================================================
*/

#ifndef BC_EXCHANGE_H_INCLUDED
#define BC_EXCHANGE_H_INCLUDED

#include "bc_cli.h"

//  The group's rows of the command table, in the order 'bruecke --help'
//  lists them, ended by a row whose name is NULL. Static; nothing to free.
extern const bc_command_t bc_exchange_commands[];

//  Self test of this class.
void bc_exchange_test (bool verbose);

#endif
