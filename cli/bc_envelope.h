/*  =========================================================================
    bc_envelope - the bruecke CLI's commands for envelopes

    envelope create (a sealed, signed test note) and envelope verify (an
    envelope checked against a roster, offline).
    =========================================================================
*/

#ifndef BC_ENVELOPE_H_INCLUDED
#define BC_ENVELOPE_H_INCLUDED

#include "bc_cli.h"

//  The group's rows of the command table, in the order 'bruecke --help'
//  lists them, ended by a row whose name is NULL. Static; nothing to free.
extern const bc_command_t bc_envelope_commands[];

#endif
