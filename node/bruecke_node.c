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
    return br_daemon_main ("bruecke-node", bn_client_actor, argc, argv);
}
