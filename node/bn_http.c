/*  =========================================================================
    bn_http - a minimal HTTP/1.1 client for the node JSON API
    =========================================================================
*/

#include "bruecke.h"
#include "bn_http.h"
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>

//  Longest method name.
#define S_METHOD_MAX 16
//  First allocation for the response.
#define S_RESPONSE_CHUNK (16 * 1024)
//  Longest port text, with its NUL.
#define S_PORT_TEXT 8

br_reason_t
bn_http_url_parse (const char *url, char *host, uint16_t *port)
{
    assert (host && port);
    static const char scheme[] = "http://";
    if (!url || strncasecmp (url, scheme, strlen (scheme)) != 0 || strlen (url) >= BN_HTTP_URL_MAX)
        return BR_REASON_MALFORMED;
    const char *cursor = url + strlen (scheme);
    const char *host_start = cursor, *host_end;
    if (*cursor == '[') {
        host_start = cursor + 1;
        host_end = strchr (host_start, ']');
        if (!host_end)
            return BR_REASON_MALFORMED;
        cursor = host_end + 1;
    } else {
        host_end = cursor + strcspn (cursor, ":/");
        cursor = host_end;
    }
    size_t length = (size_t) (host_end - host_start);
    if (length == 0 || length >= BN_HTTP_URL_MAX)
        return BR_REASON_MALFORMED;
    for (const char *character = host_start; character < host_end; character++)
        if (!isalnum ((unsigned char) *character) && !strchr (".-:%_", *character))
            return BR_REASON_MALFORMED;
    long number = BN_HTTP_DEFAULT_PORT;
    if (*cursor == ':') {
        char *end = NULL;
        cursor++;
        if (!isdigit ((unsigned char) *cursor))
            return BR_REASON_MALFORMED;
        errno = 0;
        number = strtol (cursor, &end, 10);
        if (errno || number < 1 || number > 65535)
            return BR_REASON_MALFORMED;
        cursor = end;
    }
    if (!(*cursor == '\0' || (*cursor == '/' && cursor[1] == '\0')))
        return BR_REASON_MALFORMED;
    memcpy (host, host_start, length);
    host[length] = '\0';
    *port = (uint16_t) number;
    return BR_REASON_OK;
}

//  True if `text` is 1..max characters, none of them blank or control.
static bool
s_printable (const char *text, size_t max)
{
    size_t length = strnlen (text, max + 1);
    if (length == 0 || length > max)
        return false;
    for (size_t index = 0; index < length; index++)
        if ((unsigned char) text[index] <= ' ' || (unsigned char) text[index] >= 0x7f)
            return false;
    return true;
}

//  Connects to host:port with timeouts set. Returns the socket or -1.
static int
s_connect (const char *host, uint16_t port)
{
    char port_text[S_PORT_TEXT];
    snprintf (port_text, sizeof (port_text), "%u", (unsigned) port);
    struct addrinfo hints;
    memset (&hints, 0, sizeof (hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    struct addrinfo *addresses = NULL;
    if (getaddrinfo (host, port_text, &hints, &addresses) != 0)
        return -1;
    int handle = -1;
    struct timeval timeout = {.tv_sec = BN_HTTP_TIMEOUT_MS / 1000,
                              .tv_usec = (BN_HTTP_TIMEOUT_MS % 1000) * 1000};
    for (struct addrinfo *address = addresses; address && handle < 0; address = address->ai_next) {
        handle =
            socket (address->ai_family, address->ai_socktype | SOCK_CLOEXEC, address->ai_protocol);
        if (handle < 0)
            continue;
        //  On Linux the send timeout also bounds connect
        if (setsockopt (handle, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof (timeout)) != 0 ||
            setsockopt (handle, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof (timeout)) != 0 ||
            connect (handle, address->ai_addr, address->ai_addrlen) != 0) {
            close (handle);
            handle = -1;
        }
    }
    freeaddrinfo (addresses);
    return handle;
}

//  Sends all of `size` bytes. Returns false if the connection failed.
static bool
s_send_all (int handle, const void *data, size_t size)
{
    const uint8_t *cursor = (const uint8_t *) data;
    while (size > 0) {
        ssize_t sent = send (handle, cursor, size, MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR)
            continue;
        if (sent <= 0)
            return false;
        cursor += sent;
        size -= (size_t) sent;
    }
    return true;
}

//  Finds header `name` (with its colon, e.g. "content-length:") in the header
//  block `headers` (from the status line to the blank line). Returns its
//  value, leading blanks skipped, or NULL.
static const char *
s_header (const char *headers, const char *name)
{
    size_t length = strlen (name);
    for (const char *line = strstr (headers, "\r\n"); line && line[2] != '\r';
         line = strstr (line + 2, "\r\n")) {
        if (strncasecmp (line + 2, name, length) == 0) {
            const char *value = line + 2 + length;
            while (*value == ' ' || *value == '\t')
                value++;
            return value;
        }
    }
    return NULL;
}

//  Reads the answer. Returns OK, IO_ERROR or TOO_LARGE.
static br_reason_t
s_receive (int handle, int *status, zchunk_t **response)
{
    size_t capacity = S_RESPONSE_CHUNK, size = 0;
    char *buffer = (char *) zmalloc (capacity + 1);
    size_t header_size = 0;      //  bytes up to and including the blank line
    int64_t content_length = -1; //  from the header, -1 if none
    br_reason_t reason = BR_REASON_OK;
    bool closed = false;
    while (reason == BR_REASON_OK) {
        if (header_size && content_length >= 0 && size - header_size >= (uint64_t) content_length)
            break; //  the whole body is here
        if (closed)
            break;
        if (size == capacity) {
            if (capacity >= BN_HTTP_RESPONSE_MAX) {
                reason = BR_REASON_TOO_LARGE;
                break;
            }
            capacity = capacity * 2 > BN_HTTP_RESPONSE_MAX ? BN_HTTP_RESPONSE_MAX : capacity * 2;
            buffer = (char *) realloc (buffer, capacity + 1);
            assert (buffer);
        }
        ssize_t got = recv (handle, buffer + size, capacity - size, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            reason = BR_REASON_IO_ERROR;
            break;
        }
        if (got == 0)
            closed = true;
        size += (size_t) got;
        buffer[size] = '\0';
        if (!header_size) {
            char *blank = strstr (buffer, "\r\n\r\n");
            if (blank) {
                header_size = (size_t) (blank - buffer) + 4;
                *blank = '\0'; //  parse the header block on its own, then restore
                int major = 0, minor = 0, code = 0;
                char space = 0;
                const char *length = s_header (buffer, "content-length:");
                const char *coding = s_header (buffer, "transfer-encoding:");
                if (sscanf (buffer, "HTTP/%d.%d %3d%c", &major, &minor, &code, &space) != 4 ||
                    major != 1 || code < 100 || code > 599 || space != ' ')
                    reason = BR_REASON_IO_ERROR;
                else if (coding && strncasecmp (coding, "identity", 8) != 0)
                    reason = BR_REASON_IO_ERROR; //  chunked: not spoken here
                else if (length) {
                    char *end = NULL;
                    errno = 0;
                    long long parsed = strtoll (length, &end, 10);
                    if (errno || end == length || parsed < 0 || parsed > BN_HTTP_RESPONSE_MAX)
                        reason = parsed > BN_HTTP_RESPONSE_MAX ? BR_REASON_TOO_LARGE
                                                               : BR_REASON_IO_ERROR;
                    content_length = parsed;
                }
                *status = code;
                *blank = '\r';
            }
        }
    }
    if (reason == BR_REASON_OK && !header_size)
        reason = BR_REASON_IO_ERROR; //  closed before the header was complete
    if (reason == BR_REASON_OK && content_length >= 0 &&
        size - header_size < (uint64_t) content_length)
        reason = BR_REASON_IO_ERROR; //  closed before the body was complete
    if (reason == BR_REASON_OK) {
        size_t body_size = content_length >= 0 ? (size_t) content_length : size - header_size;
        *response = zchunk_new (buffer + header_size, body_size);
    }
    free (buffer);
    return reason;
}

br_reason_t
bn_http_request (const char *url, const char *method, const char *path, const char *token,
                 const void *body, size_t body_size, int *status, zchunk_t **response)
{
    return bn_http_request_as (url, method, path, token, NULL, body, body_size, status, response);
}

br_reason_t
bn_http_request_as (const char *url, const char *method, const char *path, const char *token,
                    const char *on_behalf, const void *body, size_t body_size, int *status,
                    zchunk_t **response)
{
    assert (method && path && status && response);
    *status = 0;
    *response = NULL;
    char host[BN_HTTP_URL_MAX];
    uint16_t port = 0;
    if (bn_http_url_parse (url, host, &port) != BR_REASON_OK)
        return BR_REASON_MALFORMED;
    size_t method_length = strnlen (method, S_METHOD_MAX + 1);
    if (method_length == 0 || method_length > S_METHOD_MAX ||
        strspn (method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != method_length)
        return BR_REASON_MALFORMED;
    if (*path != '/' || !s_printable (path, BN_HTTP_PATH_MAX))
        return BR_REASON_MALFORMED;
    if (token && !s_printable (token, BN_HTTP_TOKEN_MAX))
        return BR_REASON_MALFORMED;
    if (on_behalf && !br_text_valid (on_behalf, BN_HTTP_TOKEN_MAX))
        return BR_REASON_MALFORMED;

    bool ipv6 = strchr (host, ':') != NULL;
    char *authorization = token ? zsys_sprintf ("Authorization: Bearer %s\r\n", token) : NULL;
    char *person = on_behalf ? zsys_sprintf ("X-On-Behalf-Of: %s\r\n", on_behalf) : NULL;
    char *length = NULL;
    if (body)
        length =
            zsys_sprintf ("Content-Type: application/json\r\nContent-Length: %zu\r\n", body_size);
    else if (!streq (method, "GET") && !streq (method, "HEAD"))
        length = strdup ("Content-Length: 0\r\n");
    char *head = zsys_sprintf ("%s %s HTTP/1.1\r\n"
                               "Host: %s%s%s:%u\r\n"
                               "User-Agent: bruecke\r\n"
                               "Accept: application/json\r\n"
                               "Connection: close\r\n"
                               "%s%s%s\r\n",
                               method, path, ipv6 ? "[" : "", host, ipv6 ? "]" : "",
                               (unsigned) port, authorization ? authorization : "",
                               person ? person : "", length ? length : "");
    zstr_free (&person);
    if (authorization) {
        sodium_memzero (authorization, strlen (authorization));
        zstr_free (&authorization);
    }
    zstr_free (&length);

    br_reason_t reason = BR_REASON_IO_ERROR;
    int handle = s_connect (host, port);
    if (handle >= 0) {
        //  A server may answer (and close) before reading all of the body,
        //  e.g. to refuse it: the answer is read even if sending failed.
        if (s_send_all (handle, head, strlen (head)) && body)
            (void) s_send_all (handle, body, body_size);
        reason = s_receive (handle, status, response);
        close (handle);
    }
    sodium_memzero (head, strlen (head));
    zstr_free (&head);
    return reason;
}

//  @selftest

//  Test server: takes a canned reply on its pipe, accepts one connection,
//  sends the request it read back on the pipe, writes the reply, closes.
static void
s_test_server (zsock_t *pipe, void *argument)
{
    (void) argument;
    int listener = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert (listener >= 0);
    struct sockaddr_in address;
    memset (&address, 0, sizeof (address));
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t address_size = sizeof (address);
    assert (bind (listener, (struct sockaddr *) &address, sizeof (address)) == 0);
    assert (listen (listener, 4) == 0);
    assert (getsockname (listener, (struct sockaddr *) &address, &address_size) == 0);
    zsock_signal (pipe, 0);
    zstr_sendf (pipe, "%u", (unsigned) ntohs (address.sin_port));
    while (true) {
        char *reply = zstr_recv (pipe);
        if (!reply || streq (reply, "$TERM")) {
            zstr_free (&reply);
            break;
        }
        int connection = accept (listener, NULL, NULL);
        assert (connection >= 0);
        char request[4096];
        size_t size = 0;
        size_t wanted = 0; //  header plus body, once known
        while (size < sizeof (request) - 1 && (!wanted || size < wanted)) {
            ssize_t got = recv (connection, request + size, sizeof (request) - 1 - size, 0);
            if (got <= 0)
                break;
            size += (size_t) got;
            request[size] = '\0';
            char *blank = strstr (request, "\r\n\r\n");
            if (blank && !wanted) {
                const char *length = strcasestr (request, "\r\nContent-Length: ");
                wanted = (size_t) (blank - request) + 4;
                if (length && length < blank)
                    wanted += (size_t) atol (length + 18);
            }
        }
        request[size] = '\0';
        zstr_send (pipe, request);
        assert (send (connection, reply, strlen (reply), MSG_NOSIGNAL) == (ssize_t) strlen (reply));
        close (connection);
        zstr_free (&reply);
    }
    close (listener);
}

void
bn_http_test (bool verbose)
{
    if (verbose)
        printf (" * bn_http: ");
    char host[BN_HTTP_URL_MAX];
    uint16_t port = 0;

    //  URLs
    assert (bn_http_url_parse ("http://127.0.0.1:8080", host, &port) == BR_REASON_OK);
    assert (streq (host, "127.0.0.1") && port == 8080);
    assert (bn_http_url_parse ("HTTP://[::1]:9/", host, &port) == BR_REASON_OK);
    assert (streq (host, "::1") && port == 9);
    assert (bn_http_url_parse ("http://localhost", host, &port) == BR_REASON_OK);
    assert (streq (host, "localhost") && port == BN_HTTP_DEFAULT_PORT);
    const char *bad_urls[] = {"https://127.0.0.1:8080",
                              "http://",
                              "http://:80",
                              "http://host:0",
                              "http://host:70000",
                              "http://host:",
                              "http://host:80/v1",
                              "http://[::1",
                              "http://[]:80",
                              "http://ho st:80",
                              "ftp://host",
                              "127.0.0.1:8080",
                              NULL};
    for (size_t index = 0; bad_urls[index]; index++)
        assert (bn_http_url_parse (bad_urls[index], host, &port) == BR_REASON_MALFORMED);
    assert (bn_http_url_parse (NULL, host, &port) == BR_REASON_MALFORMED);

    zactor_t *server = zactor_new (s_test_server, NULL);
    char *port_text = zstr_recv (server);
    char *url = zsys_sprintf ("http://127.0.0.1:%s", port_text);
    int status = 0;
    zchunk_t *response = NULL;

    //  Bad requests never leave the process
    assert (bn_http_request (url, "get", "/v1", NULL, NULL, 0, &status, &response) ==
            BR_REASON_MALFORMED);
    assert (bn_http_request (url, "GET", "v1", NULL, NULL, 0, &status, &response) ==
            BR_REASON_MALFORMED);
    assert (bn_http_request (url, "GET", "/v1 x", NULL, NULL, 0, &status, &response) ==
            BR_REASON_MALFORMED);
    assert (bn_http_request (url, "GET", "/v1", "a\r\nX: y", NULL, 0, &status, &response) ==
            BR_REASON_MALFORMED);
    assert (bn_http_request ("http://x:1/y", "GET", "/v1", NULL, NULL, 0, &status, &response) ==
            BR_REASON_MALFORMED);
    assert (response == NULL);

    //  A request with token and body; an answer with Content-Length
    zstr_send (server, "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                       "content-length: 11\r\n\r\n{\"a\": true}");
    assert (bn_http_request (url, "POST", "/v1/cases?x=1", "alice.secret", "{\"b\":1}", 7, &status,
                             &response) == BR_REASON_OK);
    assert (status == 201 && response);
    assert (zchunk_size (response) == 11 &&
            memcmp (zchunk_data (response), "{\"a\": true}", 11) == 0);
    zchunk_destroy (&response);
    char *request = zstr_recv (server);
    char *expected_host = zsys_sprintf ("\r\nHost: 127.0.0.1:%s\r\n", port_text);
    assert (strncmp (request, "POST /v1/cases?x=1 HTTP/1.1\r\n", 29) == 0);
    assert (strstr (request, expected_host));
    assert (strstr (request, "\r\nAuthorization: Bearer alice.secret\r\n"));
    assert (strstr (request, "\r\nContent-Length: 7\r\n"));
    assert (strstr (request, "\r\nConnection: close\r\n"));
    assert (strstr (request, "\r\n\r\n{\"b\":1}"));
    zstr_free (&expected_host);
    zstr_free (&request);

    //  A GET without token sends no Authorization and no length
    zstr_send (server, "HTTP/1.0 404 Not Found\r\n\r\nnope");
    assert (bn_http_request (url, "GET", "/v1/x", NULL, NULL, 0, &status, &response) ==
            BR_REASON_OK);
    assert (status == 404 && zchunk_size (response) == 4);
    assert (memcmp (zchunk_data (response), "nope", 4) == 0);
    zchunk_destroy (&response);
    request = zstr_recv (server);
    assert (!strstr (request, "Authorization") && !strstr (request, "Content-Length"));
    zstr_free (&request);

    //  A POST without body says so
    zstr_send (server, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    assert (bn_http_request (url, "POST", "/v1/x", NULL, NULL, 0, &status, &response) ==
            BR_REASON_OK);
    assert (status == 200 && zchunk_size (response) == 0);
    zchunk_destroy (&response);
    request = zstr_recv (server);
    assert (strstr (request, "\r\nContent-Length: 0\r\n"));
    zstr_free (&request);

    //  Answers that are not HTTP, chunked, or cut short
    const char *broken[] = {"hello there\r\n\r\n",
                            "HTTP/1.1 200 OK\r\n",
                            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                            "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
                            "",
                            NULL};
    for (size_t index = 0; broken[index]; index++) {
        zstr_send (server, broken[index]);
        assert (bn_http_request (url, "GET", "/v1/x", NULL, NULL, 0, &status, &response) ==
                BR_REASON_IO_ERROR);
        assert (response == NULL);
        request = zstr_recv (server);
        zstr_free (&request);
    }
    //  A length beyond the limit
    char *huge =
        zsys_sprintf ("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", BN_HTTP_RESPONSE_MAX + 1);
    zstr_send (server, huge);
    assert (bn_http_request (url, "GET", "/v1/x", NULL, NULL, 0, &status, &response) ==
            BR_REASON_TOO_LARGE);
    request = zstr_recv (server);
    zstr_free (&request);
    zstr_free (&huge);

    //  Nobody listening
    zactor_destroy (&server);
    assert (bn_http_request (url, "GET", "/v1/x", NULL, NULL, 0, &status, &response) ==
            BR_REASON_IO_ERROR);
    assert (response == NULL);
    zstr_free (&url);
    zstr_free (&port_text);
    //  @end
    if (verbose)
        printf ("OK\n");
}
