/*  =========================================================================
    br_daemon - what the broker's and the node's executables share
    =========================================================================
*/

#include "br_daemon.h"
#include "br_reason.h"

int
br_daemon_main (const char *name, zactor_fn *actor, int argc, char *argv[])
{
    if (argc != 3 || !streq (argv[1], "--config")) {
        fprintf (stderr, "usage: %s --config FILE\n", name);
        return 2;
    }
    if (sodium_init () < 0) {
        fprintf (stderr, "%s: libsodium failed to initialise\n", name);
        return 1;
    }
    zsys_init ();
    zsys_set_logident (name);
    br_reason_t reason;
    br_config_t *config = br_config_load (argv[2], &reason);
    if (!config) {
        zsys_error ("%s: cannot read %s: %s", name, argv[2], br_reason_name (reason));
        return 1;
    }
    br_daemon_args_t args = {.config = config, .started = false};
    zactor_t *daemon = zactor_new (actor, &args);
    br_config_destroy (&config);
    if (!args.started) {
        zactor_destroy (&daemon);
        zsys_error ("%s: did not start", name);
        return 1;
    }
    //  The actor sends nothing; this returns when a signal interrupts it
    while (!zsys_interrupted) {
        char *message = zstr_recv (daemon);
        if (!message)
            break;
        zstr_free (&message);
    }
    zactor_destroy (&daemon);
    zsys_info ("%s: stopped", name);
    return 0;
}
