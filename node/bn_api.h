/*  =========================================================================
    bn_api - the node's JSON API over HTTP (libmicrohttpd, jansson)

    Caseworkers' tools and the town's case software ("integrations") use the
    node through this API; node/openapi.yaml describes its operations. This
    class is the HTTP layer only; a dispatcher given by the caller does the
    work of each request. The HTTP layer:

    - listens on one address, localhost by default, as an actor of its own
      (br_http); each request that passes its checks is handed to the
      caller's actor as a message, dispatched on that actor's thread, one
      request at a time, and answered when it is done;
    - requires "Authorization: Bearer <token>" on every request and checks
      it against the token file (bn_tokens), or a web session's cookie: 401
      UNAUTHORIZED otherwise; the caller acts for the offices its entry
      lists, read again on every request;
    - matches the method and the path, as parsed, against the route table
      (bn_routes) before any work: 404 NOT_FOUND for no such path, 405
      METHOD_NOT_ALLOWED (with Allow) for another method, 403 FORBIDDEN for
      a role the route does not list; an integration token must name the
      person it acts for (BN_API_ON_BEHALF; 400 ON_BEHALF_MISSING);
    - takes a body only with POST and PATCH: a JSON object of at most
      BN_API_BODY_MAX bytes (413 TOO_LARGE, 400 MALFORMED);
    - answers application/json: on OK the dispatcher's result with its
      status, on refusal {"error": "<REASON_NAME>", "detail": "..."} with the
      status from bn_api_http_status;
    - logs one line per request: method, path, status and token name. Path
      segments other than API words and 32-hex-digit ids are logged as "*",
      so no name a client puts into a path reaches the log. Bodies are never
      logged.

    The dispatcher gets the request with its route; it checks each record
    against the caller's offices.
    =========================================================================
*/

#ifndef BN_API_H_INCLUDED
#define BN_API_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"
#include "bn_audit.h"
#include "bn_routes.h"
#include "bn_tokens.h"
#include "bn_web.h"
#include "bn_request.h"
#include <jansson.h>

//  Address the API listens on unless configured otherwise: localhost only.
#define BN_API_DEFAULT_ADDRESS "127.0.0.1:8080"
//  The same, as the URL clients use.
#define BN_API_DEFAULT_URL "http://127.0.0.1:8080"
//  Largest request body accepted: a consent's signed form (1 MiB) in base64
//  fits.
#define BN_API_BODY_MAX (2 * 1024 * 1024)
//  Largest body read (and thrown away) to refuse it politely; a larger one
//  is refused before it is read and the connection closed.
#define BN_API_DISCARD_MAX (4 * 1024 * 1024)
//  Most connections open at once.
#define BN_API_CONNECTION_MAX 64
//  Seconds a connection may stay idle before it is closed.
#define BN_API_TIMEOUT_SECONDS 30
//  The header in which an integration token names the person it acts for,
//  and its longest value (UTF-8 text, bytes).
#define BN_API_ON_BEHALF     "X-On-Behalf-Of"
#define BN_API_ON_BEHALF_MAX 100

//  Handles one authenticated, well-formed request: sets reason, and on OK
//  status and result (or leaves result NULL for "{}"), or on refusal detail.
//  Called from the API's HTTP thread.
typedef void (bn_api_dispatch_fn) (void *argument, bn_request_t *request);

typedef struct _bn_api_t bn_api_t;

//  Starts the API on `address` ("127.0.0.1:8080", "[::1]:8080", port 0 for
//  a free one; NULL for BN_API_DEFAULT_ADDRESS), checking tokens against
//  `tokens`. With `web` (may be NULL) it also serves the web interface: its
//  pages under /ui/ ("/" leads there), POST /ui/login ({"user", "password"}
//  -> {"user", "role", "csrf", "offices"} and the session cookie), GET
//  /ui/session, POST /ui/logout and the administration's /ui/admin; and it
//  takes the session cookie instead of a token for /v1, with the web role
//  and the user's offices as they are in the users file now (the route
//  table decides what each role may call), refusing a change without the
//  session's X-CSRF-Token (FORBIDDEN). Staff names stay out of the log: it
//  says "web:<role>".
//  The HTTP server is an actor of its own (br_http in its thread): from now
//  until bn_api_destroy returns, `tokens` and `web` (both the caller's) are
//  used by it only. It hands each request that passed its checks to the
//  caller, an actor that polls bn_api_requests and calls bn_api_serve.
//  Returns NULL and sets *reason: CONFIG_INVALID (bad address) or
//  IO_ERROR (cannot listen).
bn_api_t *bn_api_new (const char *address, bn_tokens_t *tokens, bn_web_t *web, br_reason_t *reason);

//  The socket on which requests arrive for the caller to poll: when it is
//  readable, call bn_api_serve.
zsock_t *bn_api_requests (bn_api_t *self);

//  Takes one request and lets `dispatch` (with `argument`) do its work on
//  the caller's thread; the server then answers it.
void bn_api_serve (bn_api_t *self, bn_api_dispatch_fn *dispatch, void *argument);

//  Returns the port the API listens on (useful with port 0).
uint16_t bn_api_port (bn_api_t *self);

//  Stops the API and nulls the pointer; a request handed over and not yet
//  served is refused as BUSY ("the node is stopping"). Safe to call twice.
void bn_api_destroy (bn_api_t **self_p);

//  Returns the HTTP status for a reason code: OK 200, MALFORMED,
//  ATTESTATION_INVALID and ON_BEHALF_MISSING 400, UNAUTHORIZED 401,
//  FORBIDDEN and OFFICE_NOT_PERMITTED 403, NOT_FOUND 404, METHOD_NOT_ALLOWED
//  405, INVALID_STATE 409, TOO_LARGE 413, consent, route and roster
//  refusals, the consent checks' refusals, EVIDENCE_MISMATCH and CLOCK_SKEW
//  (a time too far ahead) 422, TOO_MANY_ATTEMPTS 429, STORE_FULL,
//  STORE_FAILED, BUSY and IO_ERROR 503, anything else 500.
int bn_api_http_status (br_reason_t reason);

//  Self test of this class.
void bn_api_test (bool verbose);

//  The API driven over HTTP, from token to answer, with the owner as an
//  actor of the test (tests/unit/bn_api_test.c; linked into
//  bruecke-selftest only).
void bn_api_scenario_test (bool verbose);

#endif
