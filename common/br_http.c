/*  =========================================================================
    br_http - an HTTP server run by its owner's thread
    =========================================================================
*/

#include "bruecke.h"
#include "br_http.h"

#define S_NAME_MAX     31
#define S_LOG_LINE_MAX 200
#define S_POLL_MAX_MS  1000 //  br_http_serve runs the server at least this often

struct _br_http_t {
    struct MHD_Daemon *daemon; //  libmicrohttpd, without a thread
    int fd;                    //  its epoll descriptor
    uint16_t port;             //  where it listens
    bool loopback;             //  on a loopback address only
    bool stopped;              //  br_http_serve ends
    char name[S_NAME_MAX + 1]; //  for the log
};

//  libmicrohttpd's own error messages, one line each.
static void __attribute__ ((format (printf, 2, 0)))
s_log (void *argument, const char *format, va_list arguments)
{
    br_http_t *self = (br_http_t *) argument;
    char line[S_LOG_LINE_MAX];
    vsnprintf (line, sizeof (line), format, arguments);
    line[strcspn (line, "\r\n")] = '\0';
    zsys_warning ("%s: libmicrohttpd: %s", self->name, line);
}

br_http_t *
br_http_new (const char *name, const char *address, MHD_AccessHandlerCallback handler,
             void *argument, const struct MHD_OptionItem *options, br_reason_t *reason)
{
    assert (name && address && handler && reason);
    struct sockaddr_storage socket_address;
    bool ipv6 = false;
    *reason = br_address_parse (address, &socket_address, &ipv6);
    if (*reason != BR_REASON_OK)
        return NULL;
    br_http_t *self = (br_http_t *) zmalloc (sizeof (br_http_t));
    assert (self);
    snprintf (self->name, sizeof (self->name), "%s", name);
    self->loopback = br_address_loopback (&socket_address);
    static const struct MHD_OptionItem none[] = {{MHD_OPTION_END, 0, NULL}};
    unsigned int flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG | (ipv6 ? MHD_USE_IPv6 : 0);
    //  The logger comes first, so that it gets every message
    self->daemon =
        MHD_start_daemon (flags, 0, NULL, NULL, handler, argument, MHD_OPTION_EXTERNAL_LOGGER,
                          s_log, self, MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &socket_address,
                          MHD_OPTION_ARRAY, options ? options : none, MHD_OPTION_END);
    const union MHD_DaemonInfo *fd_info =
        self->daemon ? MHD_get_daemon_info (self->daemon, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
    const union MHD_DaemonInfo *port_info =
        self->daemon ? MHD_get_daemon_info (self->daemon, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    if (!fd_info || !port_info) {
        zsys_error ("%s: cannot listen on %s", name, address);
        if (self->daemon)
            MHD_stop_daemon (self->daemon);
        free (self);
        *reason = BR_REASON_IO_ERROR;
        return NULL;
    }
    self->fd = fd_info->epoll_fd;
    self->port = port_info->port;
    return self;
}

void
br_http_destroy (br_http_t **self_p)
{
    assert (self_p);
    br_http_t *self = *self_p;
    if (!self)
        return;
    MHD_stop_daemon (self->daemon);
    free (self);
    *self_p = NULL;
}

uint16_t
br_http_port (br_http_t *self)
{
    assert (self);
    return self->port;
}

bool
br_http_loopback (br_http_t *self)
{
    assert (self);
    return self->loopback;
}

int
br_http_fd (br_http_t *self)
{
    assert (self);
    return self->fd;
}

int
br_http_timeout (br_http_t *self, int max_ms)
{
    assert (self && max_ms >= 0);
    MHD_UNSIGNED_LONG_LONG timeout = 0;
    if (MHD_get_timeout (self->daemon, &timeout) == MHD_YES && timeout < (unsigned) max_ms)
        return (int) timeout;
    return max_ms;
}

void
br_http_run (br_http_t *self)
{
    assert (self);
    MHD_run (self->daemon);
}

void
br_http_serve (br_http_t *self, zsock_t *pipe, br_http_command_fn *command, void *argument)
{
    assert (self && pipe);
    while (!self->stopped) {
        zmq_pollitem_t items[] = {{zsock_resolve (pipe), 0, ZMQ_POLLIN, 0},
                                  {NULL, self->fd, ZMQ_POLLIN, 0}};
        if (zmq_poll (items, 2, br_http_timeout (self, S_POLL_MAX_MS)) < 0 && errno != EINTR)
            break; //  the context ends
        if (items[0].revents & ZMQ_POLLIN) {
            zmsg_t *message = zmsg_recv (pipe);
            char *name = message ? zmsg_popstr (message) : NULL;
            if (!name || streq (name, "$TERM"))
                self->stopped = true;
            else if (command)
                command (argument, name, message);
            zstr_free (&name);
            zmsg_destroy (&message);
        }
        if (!self->stopped)
            br_http_run (self);
    }
}

void
br_http_stop (br_http_t *self)
{
    assert (self);
    self->stopped = true;
}

//  ---- Self test ----------------------------------------------------------------

//  Answers every request with "hallo <path>", counting them.
static enum MHD_Result
s_test_handler (void *argument, struct MHD_Connection *connection, const char *url,
                const char *method, const char *version, const char *upload_data,
                size_t *upload_data_size, void **state)
{
    (void) method;
    (void) version;
    (void) upload_data;
    (void) upload_data_size;
    (void) state;
    (*(int *) argument)++;
    char *text = zsys_sprintf ("hallo %s", url);
    struct MHD_Response *response =
        MHD_create_response_from_buffer (strlen (text), text, MHD_RESPMEM_MUST_FREE);
    enum MHD_Result result = MHD_queue_response (connection, MHD_HTTP_OK, response);
    MHD_destroy_response (response);
    return result;
}

//  Sends `request` to the server on `port` over a non-blocking socket;
//  runs the server on this thread meanwhile unless `http` is NULL (an
//  actor serves it). Returns what came back (the caller frees it).
static char *
s_test_exchange (br_http_t *http, uint16_t port, const char *request)
{
    int client = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert (client >= 0);
    struct sockaddr_in address = {.sin_family = AF_INET,
                                  .sin_port = htons (port),
                                  .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
    int rc = connect (client, (struct sockaddr *) &address, sizeof (address));
    assert (rc == 0 || errno == EINPROGRESS);
    size_t sent = 0, received = 0;
    char answer[1024] = "";
    int64_t deadline = zclock_mono () + 5000;
    while (zclock_mono () < deadline) {
        zmq_pollitem_t items[] = {{NULL, client, ZMQ_POLLIN | ZMQ_POLLOUT, 0},
                                  {NULL, http ? br_http_fd (http) : -1, ZMQ_POLLIN, 0}};
        zmq_poll (items, http ? 2 : 1, http ? br_http_timeout (http, 50) : 50);
        if (http)
            br_http_run (http);
        if (sent < strlen (request)) {
            ssize_t size = send (client, request + sent, strlen (request) - sent, MSG_NOSIGNAL);
            sent += size > 0 ? (size_t) size : 0;
        }
        ssize_t size = recv (client, answer + received, sizeof (answer) - 1 - received, 0);
        if (size == 0)
            break; //  the server closed: the answer is whole
        received += size > 0 ? (size_t) size : 0;
    }
    close (client);
    answer[received] = '\0';
    return strdup (answer);
}

//  The test actor's state: requests served, commands added, its port.
typedef struct {
    int requests;  //  requests and ADD amounts
    uint16_t port; //  where it listens
} s_test_actor_t;

//  "ADD <n>" adds n to the count.
static void
s_test_command (void *argument, const char *name, zmsg_t *message)
{
    zframe_t *amount = zmsg_first (message);
    if (streq (name, "ADD") && amount && zframe_size (amount) < 8) {
        char text[8] = "";
        memcpy (text, zframe_data (amount), zframe_size (amount));
        *(int *) argument += atoi (text);
    }
}

//  Serves with br_http_serve.
static void
s_test_actor (zsock_t *pipe, void *args)
{
    s_test_actor_t *state = (s_test_actor_t *) args;
    br_reason_t reason;
    br_http_t *http =
        br_http_new ("test", "127.0.0.1:0", s_test_handler, &state->requests, NULL, &reason);
    assert (http);
    state->port = br_http_port (http);
    zsock_signal (pipe, 0);
    br_http_serve (http, pipe, s_test_command, &state->requests);
    br_http_destroy (&http);
}

void
br_http_test (bool verbose)
{
    if (verbose)
        printf (" * br_http: ");
    //  @selftest
    int requests = 0;
    br_reason_t reason;
    assert (!br_http_new ("test", "no address", s_test_handler, &requests, NULL, &reason));
    assert (reason != BR_REASON_OK);
    br_http_t *http = br_http_new ("test", "127.0.0.1:0", s_test_handler, &requests, NULL, &reason);
    assert (http && br_http_loopback (http) && br_http_port (http) > 0);
    assert (br_http_fd (http) >= 0);
    assert (br_http_timeout (http, 50) <= 50);

    //  Taken: a second server cannot listen on the same port
    char *taken = zsys_sprintf ("127.0.0.1:%u", (unsigned) br_http_port (http));
    assert (!br_http_new ("test", taken, s_test_handler, &requests, NULL, &reason));
    assert (reason == BR_REASON_IO_ERROR);
    zstr_free (&taken);

    //  Requests are answered on this thread, in br_http_run
    char *answer = s_test_exchange (http, br_http_port (http), "GET /eins HTTP/1.0\r\n\r\n");
    assert (strncmp (answer, "HTTP/1.1 200", 12) == 0 && strstr (answer, "\r\n\r\nhallo /eins"));
    zstr_free (&answer);
    answer = s_test_exchange (http, br_http_port (http), "GET /zwei HTTP/1.0\r\n\r\n");
    assert (strstr (answer, "hallo /zwei") && requests == 2);
    zstr_free (&answer);
    br_http_destroy (&http);
    br_http_destroy (&http);

    //  The same in an actor: requests and commands on its thread, $TERM ends it
    s_test_actor_t state = {0};
    zactor_t *actor = zactor_new (s_test_actor, &state);
    assert (state.port > 0);
    answer = s_test_exchange (NULL, state.port, "GET /drei HTTP/1.0\r\n\r\n");
    assert (strstr (answer, "hallo /drei"));
    zstr_free (&answer);
    zstr_sendm (actor, "ADD");
    zstr_send (actor, "10");
    answer = s_test_exchange (NULL, state.port, "GET /vier HTTP/1.0\r\n\r\n");
    assert (strstr (answer, "hallo /vier"));
    zstr_free (&answer);
    zactor_destroy (&actor);
    assert (state.requests == 12);
    //  @end
    if (verbose)
        printf ("OK\n");
}
