/*  =========================================================================
    bc_daemon - the bruecke CLI's commands for daemon control
    =========================================================================
*/

#include "bc_daemon.h"

//  How long the CLI waits for a daemon's answer.
#define S_CONTROL_TIMEOUT_MS 5000

static bool
s_control_endpoint_given (zhash_t *options)
{
    if (bc_option (options, "control") || bc_option (options, "state"))
        return true;
    fprintf (stderr, "bruecke: give --control ENDPOINT or --state DIR\n");
    return false;
}

//  The control endpoint: --control, or the default inside --state.
static char *
s_control_endpoint (zhash_t *options)
{
    if (bc_option (options, "control"))
        return strdup (bc_option (options, "control"));
    if (bc_option (options, "state"))
        return zsys_sprintf ("ipc://%s/control.ipc", bc_option (options, "state"));
    return NULL;
}

//  Sends `request` to a daemon's control socket and returns its answer, or
//  NULL if it did not answer in time. Destroys the request.
static zmsg_t *
s_control_request (zhash_t *options, zmsg_t **request_p)
{
    char *endpoint = s_control_endpoint (options);
    if (!endpoint) {
        zmsg_destroy (request_p);
        return NULL;
    }
    zsock_t *socket = zsock_new (ZMQ_REQ);
    zsock_set_linger (socket, 0);
    zsock_set_rcvtimeo (socket, S_CONTROL_TIMEOUT_MS);
    zsock_set_sndtimeo (socket, S_CONTROL_TIMEOUT_MS);
    zmsg_t *reply = NULL;
    if (zsock_connect (socket, "%s", endpoint) == 0 && zmsg_send (request_p, socket) == 0)
        reply = zmsg_recv (socket);
    zmsg_destroy (request_p);
    zsock_destroy (&socket);
    zstr_free (&endpoint);
    return reply;
}

//  Sends a one-word command and prints every frame of an OK answer after the
//  first, one per line. Returns the exit code.
static int
s_control_print (const bc_command_t *command, zhash_t *options, const char *word)
{
    if (!s_control_endpoint_given (options))
        return BC_EXIT_USAGE;
    zmsg_t *request = zmsg_new ();
    zmsg_addstr (request, word);
    zmsg_t *reply = s_control_request (options, &request);
    if (!reply)
        return bc_refused (command, BR_REASON_IO_ERROR, "no answer (is the daemon running?)");
    char *status = zmsg_popstr (reply);
    int rc = BC_EXIT_OK;
    if (status && strncmp (status, "OK", 2) == 0) {
        if (strlen (status) > 3)
            printf ("%s\n", status + 3);
        for (char *line = zmsg_popstr (reply); line; line = zmsg_popstr (reply)) {
            printf ("%s\n", line);
            zstr_free (&line);
        }
    } else {
        fprintf (stderr, "bruecke: %s\n", status ? status : "empty answer");
        rc = BC_EXIT_REFUSED;
    }
    zstr_free (&status);
    zmsg_destroy (&reply);
    return rc;
}

static int
s_node_status (const bc_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    return s_control_print (command, options, "STATUS");
}

static int
s_node_inbox (const bc_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    return s_control_print (command, options, "INBOX");
}

static int
s_node_sent (const bc_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    return s_control_print (command, options, "SENT");
}

static int
s_broker_reload (const bc_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    return s_control_print (command, options, "RELOAD");
}

//  Runs the Transferbörse's matching for a quarter, given as 2026Q4 or 20264.
static int
s_broker_match (const bc_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    const char *text = bc_option (options, "quarter");
    int year = 0, quarter = 0;
    char extra;
    if (!text ||
        (sscanf (text, "%4dQ%1d%c", &year, &quarter, &extra) != 2 &&
         sscanf (text, "%4d%1d%c", &year, &quarter, &extra) != 2) ||
        quarter < 1 || quarter > 4) {
        fprintf (stderr, "bruecke broker match: --quarter is a quarter such as 2026Q4\n");
        return BC_EXIT_USAGE;
    }
    char word[32];
    snprintf (word, sizeof (word), "MATCH %d%d", year, quarter);
    return s_control_print (command, options, word);
}

static int
s_node_send_test (const bc_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    if (!s_control_endpoint_given (options))
        return BC_EXIT_USAGE;
    bool by_consent = bc_option (options, "consent-id") != NULL;
    if (by_consent == (bc_option (options, "statute") != NULL)) {
        fprintf (stderr, "bruecke node send-test: give exactly one legal basis, --consent-id or "
                         "--statute\n");
        return BC_EXIT_USAGE;
    }
    zmsg_t *request = zmsg_new ();
    zmsg_addstr (request, "SEND-TEST");
    zmsg_addstr (request, bc_option (options, "to"));
    zmsg_addstr (request, bc_option (options, "service"));
    zmsg_addstr (request, bc_option (options, "text"));
    zmsg_addstr (request, bc_option (options, "purpose"));
    zmsg_addstr (request, bc_option (options, "categories"));
    if (by_consent)
        zmsg_addstrf (request, "consent:%s", bc_option (options, "consent-id"));
    else
        zmsg_addstrf (request, "statute:%s", bc_option (options, "statute"));
    //  Lifetime in seconds: --valid-seconds, or --valid-days (default one day)
    int64_t days = 1, seconds = 0;
    if ((bc_option (options, "valid-days") &&
         !bc_parse_number (bc_option (options, "valid-days"), 1, 30, &days)) ||
        (bc_option (options, "valid-seconds") &&
         !bc_parse_number (bc_option (options, "valid-seconds"), 1, 30 * 24 * 3600, &seconds))) {
        fprintf (stderr, "bruecke node send-test: --valid-days 1..30 or --valid-seconds\n");
        zmsg_destroy (&request);
        return BC_EXIT_USAGE;
    }
    zmsg_addstrf (request, "%lld", (long long) (seconds ? seconds : days * 24 * 3600));
    zmsg_t *reply = s_control_request (options, &request);
    if (!reply)
        return bc_refused (command, BR_REASON_IO_ERROR, "no answer (is the node running?)");
    char *answer = zmsg_popstr (reply);
    zmsg_destroy (&reply);
    int rc = BC_EXIT_OK;
    if (answer && strncmp (answer, "OK ", 3) == 0)
        printf ("queued %s\n", answer + 3);
    else {
        //  "ERROR <REASON> <detail>": print as a refusal with its code
        char reason_name[64] = "";
        if (answer)
            sscanf (answer, "ERROR %63s", reason_name);
        fprintf (stderr, "bruecke node send-test: refused: %s (%s)\n", reason_name,
                 answer ? answer : "no answer");
        rc = BC_EXIT_REFUSED;
    }
    zstr_free (&answer);
    return rc;
}

//  ---- The group's rows of the command table (columns: bc_command_t) -------

const bc_command_t bc_daemon_commands[] = {
    {"node", "status", "(--control ENDPOINT | --state DIR)",
     "Shows a running node: connected or not, roster version, outbox and inbox.", "control state",
     "", "", 0, s_node_status},
    {"node", "send-test",
     "(--control ENDPOINT | --state DIR) --to NODE --service SERVICE --text TEXT\n"
     "       --purpose CODE --categories A,B (--consent-id HEX | --statute NAME)\n"
     "       [--valid-days N | --valid-seconds N]",
     "Queues a sealed test note in a running node's outbox, for trying the network.",
     "control state to service text purpose categories consent-id statute valid-days "
     "valid-seconds",
     "", "to service text purpose categories", 0, s_node_send_test},
    {"node", "inbox", "(--control ENDPOINT | --state DIR)",
     "Lists what a running node has received: counter, sender, type, sequence, id, text.",
     "control state", "", "", 0, s_node_inbox},
    {"node", "sent", "(--control ENDPOINT | --state DIR)",
     "Lists what a running node has sent and what became of it.", "control state", "", "", 0,
     s_node_sent},
    {"broker", "status", "(--control ENDPOINT | --state DIR)",
     "Shows a running broker: each town online or offline, with its queue depth.", "control state",
     "", "", 0, s_node_status},
    {"broker", "reload", "(--control ENDPOINT | --state DIR)",
     "Makes a running broker read its roster file again and install it if newer.", "control state",
     "", "", 0, s_broker_reload},
    {"broker", "match", "(--control ENDPOINT | --state DIR) --quarter YYYYQn",
     "Runs the Transferbörse's matching for a quarter (e.g. 2026Q4) on a running broker: each\n"
     "proposal goes to both towns as an agreement to accept. Prints every proposal and every\n"
     "request left unmatched, with the reason.",
     "control state quarter", "", "quarter", 0, s_broker_match},
    {.name = NULL}, //  the end
};
