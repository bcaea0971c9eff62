/*  =========================================================================
    br_http - an HTTP server run by its owner's thread
    =========================================================================
*/

#include "bruecke.h"
#include "br_http.h"

#define S_NAME_MAX     31
#define S_LOG_LINE_MAX 200

struct _br_http_t {
    struct MHD_Daemon *daemon; //  libmicrohttpd, without a thread
    int fd;                    //  its epoll descriptor
    uint16_t port;             //  where it listens
    bool loopback;             //  on a loopback address only
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

//  Sends `request` to the server over a non-blocking socket while running
//  the server on this thread; returns what came back (the caller frees it).
static char *
s_test_exchange (br_http_t *http, const char *request)
{
    int client = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert (client >= 0);
    struct sockaddr_in address = {.sin_family = AF_INET,
                                  .sin_port = htons (br_http_port (http)),
                                  .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
    int rc = connect (client, (struct sockaddr *) &address, sizeof (address));
    assert (rc == 0 || errno == EINPROGRESS);
    size_t sent = 0, received = 0;
    char answer[1024] = "";
    int64_t deadline = zclock_mono () + 5000;
    while (zclock_mono () < deadline) {
        zmq_pollitem_t items[] = {{NULL, br_http_fd (http), ZMQ_POLLIN, 0},
                                  {NULL, client, ZMQ_POLLIN | ZMQ_POLLOUT, 0}};
        zmq_poll (items, 2, br_http_timeout (http, 50));
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
    char *answer = s_test_exchange (http, "GET /eins HTTP/1.0\r\n\r\n");
    assert (strncmp (answer, "HTTP/1.1 200", 12) == 0 && strstr (answer, "\r\n\r\nhallo /eins"));
    zstr_free (&answer);
    answer = s_test_exchange (http, "GET /zwei HTTP/1.0\r\n\r\n");
    assert (strstr (answer, "hallo /zwei") && requests == 2);
    zstr_free (&answer);
    br_http_destroy (&http);
    br_http_destroy (&http);
    //  @end
    if (verbose)
        printf ("OK\n");
}
