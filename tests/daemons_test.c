/*  =========================================================================
    daemons_test - the selftests of bb_server and bn_client

    Both run a whole county in this one process, the way czmq's zgossip
    test starts its servers: the broker and two towns as their actors, the
    towns connected over CurveZMQ on ipc:// in a temporary directory, each
    with its own LMDB store, driven through their control sockets as the
    operator CLI drives them. They live here, not in the classes' files,
    because each needs both daemons and the broker's executable must not
    carry the node's code (nor the node's the broker's).
    =========================================================================
*/

#include "bruecke.h"
#include "bb_server.h"
#include "bn_client.h"

#define S_WAIT_MS    30000 //  what a test waits for at most (the sanitizer build is slow)
#define S_POLL_MS    20
#define S_CONTROL_MS 5000

//  A county in this process.
typedef struct {
    char *directory;             //  keys, roster, stores, sockets
    br_testing_county_t *county; //  the invented county
    zactor_t *broker;            //  the broker's actor, or NULL
    zactor_t *luenen;            //  a town's actor, or NULL
    zactor_t *unna;              //  a town's actor, or NULL
    char broker_endpoint[PATH_MAX];
} s_county_t;

static void
s_county_new (s_county_t *self, const char *name)
{
    memset (self, 0, sizeof (*self));
    self->directory = br_temp_directory (name);
    assert (self->directory);
    self->county = br_testing_county_new ();
    assert (br_testing_county_write (self->county, self->directory) == BR_REASON_OK);
    snprintf (self->broker_endpoint, sizeof (self->broker_endpoint), "ipc://%s/broker.ipc",
              self->directory);
}

//  Starts an actor with the configuration `text`; asserts it started.
static zactor_t *
s_start (zactor_fn *actor, const char *text)
{
    br_reason_t reason;
    br_config_t *config = br_config_parse (text, &reason);
    assert (config);
    br_daemon_args_t args = {.config = config};
    zactor_t *started = zactor_new (actor, &args);
    assert (started && args.started);
    br_config_destroy (&config);
    return started;
}

static void
s_broker_start (s_county_t *self)
{
    char *text = zsys_sprintf ("broker\n"
                               "    key = \"%s/broker.key\"\n"
                               "    county-public = \"%s/county.pub\"\n"
                               "    roster = \"%s/roster.bin\"\n"
                               "    endpoint = \"%s\"\n"
                               "    state = \"%s/broker\"\n"
                               "    workers = \"1\"\n"
                               "    mapsize-mb = \"64\"\n"
                               "    heartbeat-ms = \"200\"\n"
                               "    offline-after-ms = \"1000\"\n",
                               self->directory, self->directory, self->directory,
                               self->broker_endpoint, self->directory);
    self->broker = s_start (bb_server_actor, text);
    zstr_free (&text);
}

//  Starts town `name` (luenen or unna).
static zactor_t *
s_node_start (s_county_t *self, const char *name)
{
    char *text = zsys_sprintf ("node\n"
                               "    key = \"%s/%s.key\"\n"
                               "    county-public = \"%s/county.pub\"\n"
                               "    roster = \"%s/roster.bin\"\n"
                               "    broker = \"%s\"\n"
                               "    state = \"%s/%s\"\n"
                               "    retransmit-ms = \"1000\"\n"
                               "    heartbeat-ms = \"200\"\n",
                               self->directory, name, self->directory, self->directory,
                               self->broker_endpoint, self->directory, name);
    zactor_t *node = s_start (bn_client_actor, text);
    zstr_free (&text);
    return node;
}

static void
s_county_destroy (s_county_t *self)
{
    zactor_destroy (&self->luenen);
    zactor_destroy (&self->unna);
    zactor_destroy (&self->broker);
    br_testing_county_destroy (&self->county);
    assert (br_temp_directory_remove (&self->directory));
}

//  Asks the control socket of `who` ("broker" or a town's state directory
//  name) `command` with its further frames; returns the answer's frames
//  joined by newlines (the caller frees it).
static char *
s_control (s_county_t *self, const char *who, const char *command, ...)
{
    zsock_t *request = zsock_new (ZMQ_REQ);
    zsock_set_rcvtimeo (request, S_CONTROL_MS);
    zsock_set_linger (request, 0);
    int rc = zsock_connect (request, "ipc://%s/%s/control.ipc", self->directory, who);
    assert (rc == 0);
    zmsg_t *message = zmsg_new ();
    zmsg_addstr (message, command);
    va_list frames;
    va_start (frames, command);
    for (const char *frame = va_arg (frames, const char *); frame;
         frame = va_arg (frames, const char *))
        zmsg_addstr (message, frame);
    va_end (frames);
    rc = zmsg_send (&message, request);
    assert (rc == 0);
    zmsg_t *answer = zmsg_recv (request);
    assert (answer);
    size_t size = 1;
    for (zframe_t *frame = zmsg_first (answer); frame; frame = zmsg_next (answer))
        size += zframe_size (frame) + 1;
    char *text = (char *) zmalloc (size);
    for (zframe_t *frame = zmsg_first (answer); frame; frame = zmsg_next (answer)) {
        strncat (text, (const char *) zframe_data (frame), zframe_size (frame));
        strcat (text, "\n");
    }
    zmsg_destroy (&answer);
    zsock_destroy (&request);
    return text;
}

//  True once the answer of `who` to `command` holds `line` (a whole line
//  or its beginning), within S_WAIT_MS.
static bool
s_wait_for (s_county_t *self, const char *who, const char *command, const char *line)
{
    int64_t deadline = zclock_mono () + S_WAIT_MS;
    while (zclock_mono () < deadline) {
        char *answer = s_control (self, who, command, NULL);
        char *needle = zsys_sprintf ("\n%s", line);
        bool found = strncmp (answer, line, strlen (line)) == 0 || strstr (answer, needle);
        zstr_free (&needle);
        zstr_free (&answer);
        if (found)
            return true;
        zclock_sleep (S_POLL_MS);
    }
    return false;
}

//  Queues a test note from `from` to office `service` of `to`, under an
//  (invented) consent; returns its id (32 hex digits) in `id`.
static void
s_send_note (s_county_t *self, const char *from, const char *to, const char *service,
             const char *text, char *id)
{
    char *answer =
        s_control (self, from, "SEND-TEST", to, service, text, "language-support",
                   "household,child-age", "consent:00112233445566778899aabbccddeeff", "3600", NULL);
    assert (strncmp (answer, "OK ", 3) == 0 && strlen (answer) == 3 + 32 + 1);
    memcpy (id, answer + 3, 32);
    id[32] = '\0';
    zstr_free (&answer);
}

//  True if town `who`'s inbox holds message `id`.
static bool
s_inbox_has (s_county_t *self, const char *who, const char *id)
{
    char *answer = s_control (self, who, "INBOX", NULL);
    bool found = strstr (answer, id) != NULL;
    zstr_free (&answer);
    return found;
}

//  True once town `who`'s inbox holds message `id`, within S_WAIT_MS.
static bool
s_wait_delivered (s_county_t *self, const char *who, const char *id)
{
    int64_t deadline = zclock_mono () + S_WAIT_MS;
    while (zclock_mono () < deadline) {
        if (s_inbox_has (self, who, id))
            return true;
        zclock_sleep (S_POLL_MS);
    }
    return false;
}

//  How many times `needle` stands in `text`.
static size_t
s_count (const char *text, const char *needle)
{
    size_t count = 0;
    for (const char *at = strstr (text, needle); at; at = strstr (at + 1, needle))
        count++;
    return count;
}

//  The broker: both towns come online, a note goes from one to the other
//  and its receipt back, a note for a town that is not connected waits in
//  that town's queue, the broker counts what it accepted.
void
bb_server_test (bool verbose)
{
    if (verbose)
        printf (" * bb_server: ");
    //  @selftest
    s_county_t county;
    s_county_new (&county, "bb_server");
    s_broker_start (&county);
    county.luenen = s_node_start (&county, "luenen");
    county.unna = s_node_start (&county, "unna");
    assert (s_wait_for (&county, "broker", "STATUS", "node luenen online"));
    assert (s_wait_for (&county, "broker", "STATUS", "node unna online"));
    assert (s_wait_for (&county, "broker", "STATUS", "node kamen offline"));

    char id[33];
    s_send_note (&county, "luenen", "unna", "fruehe-hilfen",
                 "Guten Tag aus L\xc3\xbcnen (erfunden)", id);
    assert (s_wait_delivered (&county, "unna", id));
    char *receipted = zsys_sprintf ("%s unna receipted", id);
    int64_t deadline = zclock_mono () + S_WAIT_MS;
    bool found = false;
    while (!found && zclock_mono () < deadline) {
        char *sent = s_control (&county, "luenen", "SENT", NULL);
        found = strstr (sent, receipted) != NULL;
        zstr_free (&sent);
        if (!found)
            zclock_sleep (S_POLL_MS);
    }
    assert (found);
    zstr_free (&receipted);

    //  Kamen is in the roster but not running: the note waits at the broker
    char waiting[33];
    s_send_note (&county, "luenen", "kamen", "jugendamt", "Wartet (erfunden)", waiting);
    deadline = zclock_mono () + S_WAIT_MS;
    found = false;
    while (!found && zclock_mono () < deadline) {
        char *status = s_control (&county, "broker", "STATUS", NULL);
        char *line = strstr (status, "node kamen offline ");
        size_t depth = 0;
        found = line && sscanf (line, "node kamen offline %*d %zu", &depth) == 1 && depth == 1;
        zstr_free (&status);
        if (!found)
            zclock_sleep (S_POLL_MS);
    }
    assert (found);
    char *status = s_control (&county, "broker", "STATUS", NULL);
    //  The four towns of the roster (the revoked one too), not the broker
    assert (strncmp (status, "OK\n", 3) == 0 && s_count (status, "\nnode ") == 4);
    unsigned long long accepted = 0;
    assert (sscanf (strstr (status, "\naccepted "), "\naccepted %llu", &accepted) == 1);
    assert (accepted >= 2);
    zstr_free (&status);
    s_county_destroy (&county);
    //  @end
    if (verbose)
        printf ("OK\n");
}

//  The town: what it sends while the broker is away waits in its outbox
//  and leaves once the broker is there; a town that restarts keeps its
//  inbox and is not given the same note twice.
void
bn_client_test (bool verbose)
{
    if (verbose)
        printf (" * bn_client: ");
    //  @selftest
    s_county_t county;
    s_county_new (&county, "bn_client");
    county.luenen = s_node_start (&county, "luenen");
    assert (s_wait_for (&county, "luenen", "STATUS", "connected no"));
    char first[33], second[33];
    s_send_note (&county, "luenen", "unna", "fruehe-hilfen", "Erste Nachricht (erfunden)", first);
    s_send_note (&county, "luenen", "unna", "fruehe-hilfen", "Zweite Nachricht (erfunden)", second);
    assert (s_wait_for (&county, "luenen", "STATUS", "outbox 2"));

    s_broker_start (&county);
    county.unna = s_node_start (&county, "unna");
    assert (s_wait_for (&county, "luenen", "STATUS", "connected yes"));
    assert (s_wait_delivered (&county, "unna", first));
    assert (s_wait_delivered (&county, "unna", second));
    assert (s_wait_for (&county, "luenen", "STATUS", "outbox 0"));

    //  Unna restarts: its inbox is on disk, and nothing arrives twice
    zactor_destroy (&county.unna);
    county.unna = s_node_start (&county, "unna");
    assert (s_wait_for (&county, "unna", "STATUS", "connected yes"));
    char third[33];
    s_send_note (&county, "luenen", "unna", "fruehe-hilfen", "Dritte Nachricht (erfunden)", third);
    assert (s_wait_delivered (&county, "unna", third));
    char *inbox = s_control (&county, "unna", "INBOX", NULL);
    assert (s_count (inbox, first) == 1 && s_count (inbox, second) == 1 &&
            s_count (inbox, third) == 1);
    assert (s_count (inbox, "\n") == 4); //  "OK" and three notes
    zstr_free (&inbox);
    s_county_destroy (&county);
    //  @end
    if (verbose)
        printf ("OK\n");
}
