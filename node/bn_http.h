/*  =========================================================================
    bn_http - a minimal HTTP/1.1 client for the node JSON API

    One request per connection ("Connection: close"): connects to the URL's
    host and port, sends the method, path, a bearer token and a body with
    its Content-Length, then reads the status and the body until the server
    closes. Plain HTTP only (the API listens on localhost); no redirects, no
    chunked transfer coding. Used by the CLI and by the API's selftest.

    Functions only; no state.
    =========================================================================
*/

#ifndef BN_HTTP_H_INCLUDED
#define BN_HTTP_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"

//  Largest response (headers and body) read.
#define BN_HTTP_RESPONSE_MAX (16 * 1024 * 1024)
//  Longest URL: "http://" host [":" port] ["/"].
#define BN_HTTP_URL_MAX 256
//  Longest request path (with its query).
#define BN_HTTP_PATH_MAX 2048
//  Longest bearer token sent.
#define BN_HTTP_TOKEN_MAX 256
//  Send and receive timeout, and the connect timeout.
#define BN_HTTP_TIMEOUT_MS 30000
//  Port when the URL names none.
#define BN_HTTP_DEFAULT_PORT 80

//  Splits a URL "http://HOST[:PORT][/]" (HOST a name, an IPv4 address or
//  an IPv6 address in brackets) into `host`, of BN_HTTP_URL_MAX characters,
//  and *port. Returns OK or MALFORMED.
br_reason_t bn_http_url_parse (const char *url, char *host, uint16_t *port) BR_WUR;

//  Sends `method` (e.g. "GET") for `path` (starting with '/', may carry a
//  query) to the server at `url`, with "Authorization: Bearer <token>" if
//  `token` is not NULL, and with `body` of `body_size` bytes as
//  application/json if `body` is not NULL. On OK sets *status to the HTTP
//  status and *response to the response body, which the caller owns.
//  Returns OK, MALFORMED (bad URL, path, method or token), IO_ERROR (cannot
//  connect, or the connection failed or timed out, or the answer is not
//  HTTP/1.x with a status) or TOO_LARGE (the answer exceeds
//  BN_HTTP_RESPONSE_MAX).
br_reason_t bn_http_request (const char *url, const char *method, const char *path,
                             const char *token, const void *body, size_t body_size, int *status,
                             zchunk_t **response) BR_WUR;

//  The same, with "X-On-Behalf-Of: <on_behalf>" (the person an integration
//  token acts for, UTF-8 text without control characters) if it is not NULL.
br_reason_t bn_http_request_as (const char *url, const char *method, const char *path,
                                const char *token, const char *on_behalf, const void *body,
                                size_t body_size, int *status, zchunk_t **response) BR_WUR;

//  Self test of this class.
void bn_http_test (bool verbose);

#endif
