/*  =========================================================================
    br_daemon - what the broker's and the node's executables share

    A daemon's main parses its arguments and configuration, starts its actor
    and waits for SIGINT or SIGTERM; the logic lives in the actor. Both
    daemons' actors are started with a br_daemon_args_t.
    =========================================================================
*/

#ifndef BR_DAEMON_H_INCLUDED
#define BR_DAEMON_H_INCLUDED

#include "br_prelude.h"
#include "br_config.h"

//  What a daemon actor is started with.
typedef struct {
    br_config_t *config; //  the configuration; read during start-up only
    bool started;        //  set by the actor before zactor_new returns
} br_daemon_args_t;

//  Runs a daemon: "NAME --config FILE". Loads the ZPL file, starts `actor`
//  with a br_daemon_args_t, and runs until SIGINT or SIGTERM. Returns the
//  process exit code: 0 after a clean stop, 1 if it could not start (the
//  reason is logged), 2 on a usage error.
int br_daemon_main (const char *name, zactor_fn *actor, int argc, char *argv[]);

#endif
