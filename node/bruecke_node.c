/*  =========================================================================
    bruecke-node - a town's node daemon

    Usage: bruecke-node --config FILE
    Runs until SIGINT or SIGTERM. Logs go to standard error (systemd's
    journal), one line per event, never a payload.
    =========================================================================
*/

#include "bn_client.h"

int
main (int argc, char *argv[])
{
    if (argc != 3 || !streq (argv[1], "--config")) {
        fprintf (stderr, "usage: bruecke-node --config FILE\n");
        return 2;
    }
    if (sodium_init () < 0) {
        fprintf (stderr, "bruecke-node: libsodium failed to initialise\n");
        return 1;
    }
    zsys_init ();
    zsys_set_logident ("bruecke-node");
    br_reason_t reason;
    br_config_t *config = br_config_load (argv[2], &reason);
    if (!config) {
        zsys_error ("bruecke-node: cannot read %s: %s", argv[2], br_reason_name (reason));
        return 1;
    }
    bn_client_args_t args = {.config = config, .started = false};
    zactor_t *client = zactor_new (bn_client_actor, &args);
    br_config_destroy (&config);
    if (!args.started) {
        zactor_destroy (&client);
        zsys_error ("bruecke-node: did not start");
        return 1;
    }
    while (!zsys_interrupted) {
        char *message = zstr_recv (client);
        if (!message)
            break;
        zstr_free (&message);
    }
    zactor_destroy (&client);
    zsys_info ("bruecke-node: stopped");
    return 0;
}
