/*  =========================================================================
    bn_webui - the web interface over HTTP: pages, logins, sessions, and the
    administration's users and tokens

    The node's HTTP server (bn_api) hands this class the requests for "/"
    and under /ui (bn_webui_path) when it serves a web interface (bn_web),
    once their body is in, and this class answers them on the server's
    thread:

        GET  / and /ui          -> 302 Found, Location /ui/
        GET  /ui/<file>         -> the page file (bn_web_file)
        POST /ui/login {"user", "password"}
                                -> {"user", "role", "csrf", "offices"} and the
                                   session cookie BN_WEB_COOKIE
        GET  /ui/session        -> the same without the cookie, or 401
        POST /ui/logout         -> {} and the cookie expired
        GET, POST /ui/admin/... -> the administration's users and tokens
                                   (administration sessions only)

    Every change but the login needs the session's CSRF token in the header
    X-CSRF-Token (403 FORBIDDEN otherwise). Answers carry the web headers
    (a strict Content-Security-Policy, no framing, no referrer); refusals are
    the API's (bn_reply). Staff names stay out of the log: it says "web" or
    "web:<role>".

    bn_api admits /v1 requests that bring a session cookie instead of a
    token with bn_webui_session and bn_webui_csrf_valid.
    =========================================================================
*/

#ifndef BN_WEBUI_H_INCLUDED
#define BN_WEBUI_H_INCLUDED

#include "br_prelude.h"
#include "bn_tokens.h"
#include "bn_web.h"
#include <microhttpd.h>

//  Who the log names for a web interface request before its session is
//  known.
#define BN_WEBUI_LOGGED "web"
//  The header that carries the session's CSRF token.
#define BN_WEBUI_CSRF_HEADER "X-CSRF-Token"

typedef struct _bn_webui_t bn_webui_t;

//  Serves the web interface `web` and manages its users and the API tokens
//  `tokens` (both the caller's, used on the HTTP server's thread only, and
//  to outlive this). Never fails.
bn_webui_t *bn_webui_new (bn_web_t *web, bn_tokens_t *tokens);

//  Destroys it and nulls the pointer. Safe to call twice.
void bn_webui_destroy (bn_webui_t **self_p);

//  True if `url` (a path) is the web interface's: "/", "/ui" and all under
//  "/ui/".
bool bn_webui_path (const char *url);

//  The live session of the request's cookie, which counts as a request of
//  it; NULL if none. Valid until the next call on the web interface.
const bn_web_session_t *bn_webui_session (bn_webui_t *self, struct MHD_Connection *connection);

//  True if the request carries `session`'s CSRF token.
bool bn_webui_csrf_valid (const bn_web_session_t *session, struct MHD_Connection *connection);

//  Answers the web interface's request `method` `url` (bn_webui_path),
//  admitted by the HTTP layer, with its body of `body_size` bytes (NULL
//  if none), which it wipes once read (it may hold a password). Returns
//  libmicrohttpd's MHD_YES, or MHD_NO if it cannot queue the answer.
enum MHD_Result bn_webui_answer (bn_webui_t *self, struct MHD_Connection *connection,
                                 const char *url, const char *method, uint8_t *body,
                                 size_t body_size);

//  Self test of this class.
void bn_webui_test (bool verbose);

#endif
