/*  =========================================================================
    bruecke-broker - the county broker daemon

    Usage: bruecke-broker --config FILE
    Runs until SIGINT or SIGTERM. Logs go to standard error (systemd's
    journal), one line per event, never a payload.
    =========================================================================
*/

#include "bb_server.h"

int
main (int argc, char *argv[])
{
    if (argc != 3 || !streq (argv[1], "--config")) {
        fprintf (stderr, "usage: bruecke-broker --config FILE\n");
        return 2;
    }
    if (sodium_init () < 0) {
        fprintf (stderr, "bruecke-broker: libsodium failed to initialise\n");
        return 1;
    }
    zsys_init ();
    zsys_set_logident ("bruecke-broker");
    br_reason_t reason;
    br_config_t *config = br_config_load (argv[2], &reason);
    if (!config) {
        zsys_error ("bruecke-broker: cannot read %s: %s", argv[2], br_reason_name (reason));
        return 1;
    }
    bb_server_args_t args = {.config = config, .started = false};
    zactor_t *server = zactor_new (bb_server_actor, &args);
    br_config_destroy (&config);
    if (!args.started) {
        zactor_destroy (&server);
        zsys_error ("bruecke-broker: did not start");
        return 1;
    }
    while (!zsys_interrupted) {
        char *message = zstr_recv (server);
        if (!message)
            break;
        zstr_free (&message);
    }
    zactor_destroy (&server);
    zsys_info ("bruecke-broker: stopped");
    return 0;
}
