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
    return br_daemon_main ("bruecke-broker", bb_server_actor, argc, argv);
}
