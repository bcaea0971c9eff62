/*  =========================================================================
    bn_api - the node's JSON API over HTTP (libmicrohttpd, jansson)
    =========================================================================
*/

#include "bruecke.h"
#include "bn_api.h"
#include "bn_reply.h"
#include "bn_routes.h"
#include "bn_webui.h"
#include "br_http.h"

//  The owner's side.
struct _bn_api_t {
    zactor_t *server;                       //  the HTTP server (s_server_actor)
    zsock_t *requests;                      //  REP: requests the server hands over
    char endpoint[BR_INPROC_ENDPOINT_SIZE]; //  its inproc endpoint
    uint16_t port;                          //  the port listened on
};

//  The HTTP server actor's state.
typedef struct {
    br_http_t *http;     //  libmicrohttpd, run in this actor's loop
    zsock_t *pipe;       //  the actor's pipe: $TERM
    zsock_t *owner;      //  REQ to the owner's requests socket
    bn_tokens_t *tokens; //  API tokens (the owner's; used here only)
    bn_web_t *web;       //  the web interface, or NULL (likewise)
    bn_webui_t *webui;   //  its answers, if there is one
} s_server_t;

//  What the HTTP layer keeps for one request between libmicrohttpd's calls.
typedef struct {
    br_reason_t reason;                       //  refusal decided by the HTTP layer, or OK
    char detail[BN_REQUEST_DETAIL_SIZE];      //  its detail text
    char user[BN_TOKENS_NAME_MAX + 1];        //  token or web user name, "" until authenticated
    char role[BN_TOKENS_ROLE_MAX + 1];        //  its API role
    char logged[BN_TOKENS_NAME_MAX + 1];      //  who, for the log: token name, or "web:<role>"
                                              //  (staff names stay out of the log)
    char offices[BN_TOKENS_OFFICES_SIZE];     //  the offices it acts for
    char on_behalf[BN_API_ON_BEHALF_MAX + 1]; //  integration: the person it acts for
    char actor[BN_AUDIT_ACTOR_MAX + 1];       //  who, for the audit log
    const bn_route_t *route;                  //  the operation (bn_routes)
    char id[BN_ROUTES_ID_MAX + 1];            //  the path's {id}, "" if none
    char allow[BN_ROUTES_ALLOW_SIZE];         //  METHOD_NOT_ALLOWED: the path's methods
    bool web;                                 //  a page, or the web interface's login and session
    uint8_t *body;                            //  request body so far (BN_API_BODY_MAX at most)
    size_t body_size;                         //  bytes in body
    size_t body_capacity;                     //  bytes allocated for it
    size_t received;                          //  body bytes received, kept or thrown away
} s_request_t;

int
bn_api_http_status (br_reason_t reason)
{
    switch (reason) {
        case BR_REASON_OK:
            return MHD_HTTP_OK;
        case BR_REASON_MALFORMED:
        case BR_REASON_ATTESTATION_INVALID:
        case BR_REASON_ON_BEHALF_MISSING:
            return MHD_HTTP_BAD_REQUEST;
        case BR_REASON_UNAUTHORIZED:
            return MHD_HTTP_UNAUTHORIZED;
        case BR_REASON_TOO_MANY_ATTEMPTS:
            return MHD_HTTP_TOO_MANY_REQUESTS;
        case BR_REASON_FORBIDDEN:
        case BR_REASON_OFFICE_NOT_PERMITTED:
            return MHD_HTTP_FORBIDDEN;
        case BR_REASON_METHOD_NOT_ALLOWED:
            return MHD_HTTP_METHOD_NOT_ALLOWED;
        case BR_REASON_NOT_FOUND:
            return MHD_HTTP_NOT_FOUND;
        case BR_REASON_INVALID_STATE:
            return MHD_HTTP_CONFLICT;
        case BR_REASON_TOO_LARGE:
            return MHD_HTTP_CONTENT_TOO_LARGE;
        case BR_REASON_CONSENT_MISSING:
        case BR_REASON_CONSENT_WITHDRAWN:
        case BR_REASON_CONSENT_EXPIRED:
        case BR_REASON_PURPOSE_MISMATCH:
        case BR_REASON_RECIPIENT_MISMATCH:
        case BR_REASON_CATEGORY_NOT_COVERED:
        case BR_REASON_NO_ROUTE:
        case BR_REASON_AMBIGUOUS_ROUTE:
        case BR_REASON_UNKNOWN_NODE:
        case BR_REASON_NODE_REVOKED:
        case BR_REASON_TOO_EARLY:
        case BR_REASON_GRANTOR_NOT_MEMBER:
        case BR_REASON_GRANTOR_NOT_ENTITLED:
        case BR_REASON_SUBJECT_NOT_MEMBER:
        case BR_REASON_CONSENT_BACKDATED:
        case BR_REASON_CONSENT_TOO_LONG:
        case BR_REASON_EVIDENCE_MISMATCH:
            return MHD_HTTP_UNPROCESSABLE_CONTENT;
        case BR_REASON_STORE_FULL:
        case BR_REASON_STORE_FAILED:
        case BR_REASON_BUSY:
        case BR_REASON_IO_ERROR:
            return MHD_HTTP_SERVICE_UNAVAILABLE;
        default:
            return MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
}

//  ---- Requests ---------------------------------------------------------------

//  Refuses the request with `reason` and a detail text, unless it is
//  refused already: the first refusal stands.
static void __attribute__ ((format (printf, 3, 4)))
s_refuse (s_request_t *request, br_reason_t reason, const char *format, ...)
{
    if (request->reason != BR_REASON_OK)
        return;
    request->reason = reason;
    va_list arguments;
    va_start (arguments, format);
    vsnprintf (request->detail, sizeof (request->detail), format, arguments);
    va_end (arguments);
}

//  Admits a request of a web interface user, by the session cookie: the
//  API role for the web role, and the CSRF token on every change.
static void
s_admit_session (s_server_t *self, struct MHD_Connection *connection, const char *method,
                 s_request_t *request)
{
    const bn_web_session_t *session = bn_webui_session (self->webui, connection);
    if (!session) {
        s_refuse (request, BR_REASON_UNAUTHORIZED,
                  "a valid API token (Authorization: Bearer <token>) or a login is required");
        return;
    }
    //  The offices are read for every request: a change takes effect at once,
    //  and a removed user's session ends
    const char *offices = bn_tokens_offices (bn_web_users (self->web), session->user);
    if (!offices) {
        s_refuse (request, BR_REASON_UNAUTHORIZED, "the user no longer exists");
        return;
    }
    snprintf (request->user, sizeof (request->user), "%s", session->user);
    snprintf (request->logged, sizeof (request->logged), "web:%s", session->role);
    snprintf (request->role, sizeof (request->role), "%s", session->role);
    snprintf (request->offices, sizeof (request->offices), "%s", offices);
    if (!streq (method, "GET") && !bn_webui_csrf_valid (session, connection))
        s_refuse (request, BR_REASON_FORBIDDEN, "missing or wrong CSRF token (X-CSRF-Token)");
}

//  The person an integration token acts for, from its header. Returns OK
//  or ON_BEHALF_MISSING.
static br_reason_t
s_on_behalf (struct MHD_Connection *connection, s_request_t *request)
{
    const char *person =
        MHD_lookup_connection_value (connection, MHD_HEADER_KIND, BN_API_ON_BEHALF);
    if (!person || !br_text_valid (person, BN_API_ON_BEHALF_MAX)) {
        s_refuse (request, BR_REASON_ON_BEHALF_MISSING,
                  "an integration token names the person it acts for in %s (1 to %d bytes of "
                  "text)",
                  BN_API_ON_BEHALF, BN_API_ON_BEHALF_MAX);
        return request->reason;
    }
    snprintf (request->on_behalf, sizeof (request->on_behalf), "%s", person);
    return BR_REASON_OK;
}

//  Checks what the headers tell: token or session, method, role.
static void
s_admit (s_server_t *self, struct MHD_Connection *connection, const char *method, const char *url,
         s_request_t *request)
{
    const char *header =
        MHD_lookup_connection_value (connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    const char *token = NULL;
    if (header && strncasecmp (header, "Bearer ", 7) == 0) {
        token = header + 7;
        while (*token == ' ')
            token++;
    }
    const char *name = NULL, *role = NULL;
    if (!header && self->webui)
        s_admit_session (self, connection, method, request);
    else if (bn_tokens_check (self->tokens, token, &name, &role) != BR_REASON_OK ||
             !bn_tokens_role_valid (role)) {
        s_refuse (request, BR_REASON_UNAUTHORIZED,
                  "a valid API token is required (Authorization: Bearer <token>)");
        return;
    } else {
        //  Copied first: the next call on the token set may read its file
        //  again and free what `name` and `role` point into
        snprintf (request->user, sizeof (request->user), "%s", name);
        snprintf (request->logged, sizeof (request->logged), "%s", name);
        snprintf (request->role, sizeof (request->role), "%s", role);
        const char *offices = bn_tokens_offices (self->tokens, request->user);
        if (!offices) {
            s_refuse (request, BR_REASON_UNAUTHORIZED, "the token was removed just now");
            return;
        }
        snprintf (request->offices, sizeof (request->offices), "%s", offices);
    }
    if (request->reason != BR_REASON_OK)
        return;
    //  The operation, and whether this role may call it: decided on the
    //  path as parsed, before anything is read or changed
    br_reason_t reason;
    request->route = bn_routes_match (method, url, request->id, request->allow, &reason);
    if (!request->route)
        s_refuse (request, reason,
                  reason == BR_REASON_METHOD_NOT_ALLOWED ? "this path takes %s only"
                                                         : "no such resource%s",
                  reason == BR_REASON_METHOD_NOT_ALLOWED ? request->allow : "");
    else if (!bn_routes_allows (request->route, request->role))
        s_refuse (request, BR_REASON_FORBIDDEN, "the role %s may not do this", request->role);
    else if (streq (request->role, BN_TOKENS_ROLE_INTEGRATION) &&
             s_on_behalf (connection, request) == BR_REASON_OK)
        snprintf (request->actor, sizeof (request->actor), "%s f\xc3\xbcr %s", request->user,
                  request->on_behalf);
    else
        snprintf (request->actor, sizeof (request->actor), "%s", request->user);
}

//  Takes one piece of the request body.
static void
s_upload (s_request_t *request, const char *method, const char *data, size_t size)
{
    request->received += size;
    if (request->reason != BR_REASON_OK)
        return; //  refused already: thrown away
    if (!streq (method, "POST") && !streq (method, "PATCH")) {
        s_refuse (request, BR_REASON_MALFORMED, "only POST and PATCH requests take a body");
        return;
    }
    if (request->body_size + size > BN_API_BODY_MAX) {
        s_refuse (request, BR_REASON_TOO_LARGE, "the request body is larger than %d bytes",
                  BN_API_BODY_MAX);
        free (request->body);
        request->body = NULL;
        request->body_size = 0;
        return;
    }
    //  The buffer grows as the body comes: most bodies are small
    if (request->body_size + size > request->body_capacity) {
        size_t capacity = request->body_capacity ? request->body_capacity : 16384;
        while (capacity < request->body_size + size)
            capacity *= 2;
        if (capacity > BN_API_BODY_MAX)
            capacity = BN_API_BODY_MAX;
        request->body = (uint8_t *) realloc (request->body, capacity);
        assert (request->body);
        request->body_capacity = capacity;
    }
    memcpy (request->body + request->body_size, data, size);
    request->body_size += size;
}

//  Adds one query argument to the object `argument`.
static enum MHD_Result
s_query_add (void *argument, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void) kind;
    json_t *query = (json_t *) argument;
    json_t *text = json_string (value ? value : "");
    if (!text || !key || json_object_set_new (query, key, text) != 0) {
        //  not UTF-8: mark the query unusable and stop
        json_object_set_new (query, "", json_null ());
        return MHD_NO;
    }
    return MHD_YES;
}

//  Hands the request to the owner, which dispatches it on its thread, and
//  waits until it is done. If $TERM comes meanwhile, the owner is stopping
//  and will not take the request: it is refused as BUSY and the server
//  ends after this answer.
static void
s_hand_over (s_server_t *self, bn_request_t *request)
{
    if (zsock_send (self->owner, "p", request) != 0) {
        request->reason = BR_REASON_BUSY;
        snprintf (request->detail, sizeof (request->detail), "the node is stopping");
        return;
    }
    while (true) {
        zmq_pollitem_t items[] = {{zsock_resolve (self->owner), 0, ZMQ_POLLIN, 0},
                                  {zsock_resolve (self->pipe), 0, ZMQ_POLLIN, 0}};
        if (zmq_poll (items, 2, -1) < 0 && errno != EINTR)
            break;
        int done = -1;
        if ((items[0].revents & ZMQ_POLLIN) && zsock_recv (self->owner, "i", &done) == 0)
            return; //  the owner set the request's reason and result
        if (items[1].revents & ZMQ_POLLIN) {
            char *command = zstr_recv (self->pipe);
            bool stop = !command || streq (command, "$TERM");
            zstr_free (&command);
            if (stop)
                break;
        }
    }
    br_http_stop (self->http);
    request->reason = BR_REASON_BUSY;
    snprintf (request->detail, sizeof (request->detail), "the node is stopping");
}

//  The whole /v1 request is in, admitted: parse, dispatch, answer.
static enum MHD_Result
s_answer (s_server_t *self, struct MHD_Connection *connection, const char *url, const char *method,
          s_request_t *request)
{
    json_t *query = json_object ();
    MHD_get_connection_values (connection, MHD_GET_ARGUMENT_KIND, s_query_add, query);
    if (json_object_get (query, "") && json_is_null (json_object_get (query, "")))
        s_refuse (request, BR_REASON_MALFORMED, "the query is not valid UTF-8");
    json_t *body = NULL;
    if (request->reason == BR_REASON_OK && request->body_size > 0) {
        json_error_t error;
        body = json_loadb ((const char *) request->body, request->body_size, JSON_REJECT_DUPLICATES,
                           &error);
        if (!json_is_object (body)) {
            json_decref (body);
            body = NULL;
            s_refuse (request, BR_REASON_MALFORMED, "the request body is not a JSON object");
        }
    }
    if (request->reason != BR_REASON_OK) {
        json_decref (query);
        return bn_reply_refusal (connection, method, url, request->logged, request->reason,
                                 request->detail, request->allow);
    }

    bn_request_t call;
    memset (&call, 0, sizeof (call));
    call.method = method;
    call.path = url;
    call.query = query;
    call.body = body;
    call.user = request->actor;
    call.role = request->role;
    call.offices = request->offices;
    call.route = request->route;
    call.id = request->id;
    call.reason = BR_REASON_OK;
    s_hand_over (self, &call);
    json_decref (query);
    json_decref (body);

    enum MHD_Result result;
    if (call.reason == BR_REASON_OK) {
        int status = call.status ? call.status : MHD_HTTP_OK;
        assert (status >= 200 && status <= 299);
        json_t *answer = call.result ? call.result : json_object ();
        bn_reply_log (method, url, status, request->logged);
        result = bn_reply_json (connection, status, answer, NULL);
        json_decref (answer);
    } else {
        json_decref (call.result);
        call.detail[sizeof (call.detail) - 1] = '\0';
        result = bn_reply_refusal (connection, method, url, request->logged, call.reason,
                                   call.detail, NULL);
    }
    return result;
}

//  Decodes the percent-escapes of the path and the query as libmicrohttpd
//  would, except that text holding an escaped NUL ("%00") stays as it came:
//  decoded, it would cut the path short, so that "/v1/cases/ID%00x" would
//  read as "/v1/cases/ID". Left whole, no route matches it.
static size_t
s_unescape (void *argument, struct MHD_Connection *connection, char *text)
{
    (void) argument;
    (void) connection;
    for (const char *at = strchr (text, '%'); at; at = strchr (at + 1, '%'))
        if (at[1] == '0' && at[2] == '0')
            return strlen (text);
    return MHD_http_unescape (text);
}

//  libmicrohttpd calls this after the headers, for each piece of the body,
//  and once the request is complete.
static enum MHD_Result
s_handle (void *argument, struct MHD_Connection *connection, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size, void **state_p)
{
    (void) version;
    s_server_t *self = (s_server_t *) argument;
    s_request_t *request = (s_request_t *) *state_p;
    if (!request) {
        //  The headers are in
        request = (s_request_t *) zmalloc (sizeof (s_request_t));
        *state_p = request;
        if (self->webui && bn_webui_path (url)) {
            request->web = true;
            snprintf (request->logged, sizeof (request->logged), "%s", BN_WEBUI_LOGGED);
            if (!streq (method, "GET") && !streq (method, "POST"))
                s_refuse (request, BR_REASON_MALFORMED, "only GET and POST are supported");
        } else
            s_admit (self, connection, method, url, request);
        const char *length = MHD_lookup_connection_value (connection, MHD_HEADER_KIND,
                                                          MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (length) {
            unsigned long long declared = strtoull (length, NULL, 10);
            if (declared > BN_API_BODY_MAX)
                s_refuse (request, BR_REASON_TOO_LARGE, "the request body is larger than %d bytes",
                          BN_API_BODY_MAX);
            if (declared > BN_API_DISCARD_MAX)
                //  not worth reading: answer now, libmicrohttpd closes after
                return bn_reply_refusal (connection, method, url, request->logged, request->reason,
                                         request->detail, request->allow);
        }
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        s_upload (request, method, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return request->received > BN_API_DISCARD_MAX ? MHD_NO : MHD_YES;
    }
    //  The whole request is in
    if (request->reason != BR_REASON_OK)
        return bn_reply_refusal (connection, method, url, request->logged, request->reason,
                                 request->detail, request->allow);
    if (request->web)
        return bn_webui_answer (self->webui, connection, url, method, request->body,
                                request->body_size);
    return s_answer (self, connection, url, method, request);
}

static void
s_completed (void *argument, struct MHD_Connection *connection, void **state_p,
             enum MHD_RequestTerminationCode code)
{
    (void) argument;
    (void) connection;
    (void) code;
    s_request_t *request = (s_request_t *) *state_p;
    if (request) {
        free (request->body);
        free (request);
        *state_p = NULL;
    }
}

//  ---- The server --------------------------------------------------------------

//  What the server actor is started with and tells its starter.
typedef struct {
    const char *address;  //  where to listen
    bn_tokens_t *tokens;  //  the owner's tokens
    bn_web_t *web;        //  the owner's web interface, or NULL
    const char *endpoint; //  the owner's requests socket
    br_reason_t reason;   //  OK if it listens
    uint16_t port;        //  then its port
} s_start_t;

//  The HTTP server: listens, then serves until $TERM.
static void
s_server_actor (zsock_t *pipe, void *args)
{
    s_start_t *start = (s_start_t *) args;
    s_server_t self = {.pipe = pipe,
                       .tokens = start->tokens,
                       .web = start->web,
                       .webui = start->web ? bn_webui_new (start->web, start->tokens) : NULL};
    const struct MHD_OptionItem options[] = {
        {MHD_OPTION_CONNECTION_LIMIT, BN_API_CONNECTION_MAX, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, BN_API_TIMEOUT_SECONDS, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t) s_completed, &self},
        {MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t) s_unescape, &self},
        {MHD_OPTION_END, 0, NULL}};
    self.http = br_http_new ("api", start->address, s_handle, &self, options, &start->reason);
    if (self.http) {
        start->port = br_http_port (self.http);
        if (!br_http_loopback (self.http))
            zsys_warning ("api: listening on %s, reachable beyond this machine: the API speaks "
                          "plain HTTP, so put it behind TLS",
                          start->address);
        zsys_info ("api: listening on %s (port %u)", start->address, (unsigned) start->port);
        self.owner = zsock_new (ZMQ_REQ);
        int rc = zsock_connect (self.owner, "%s", start->endpoint);
        assert (rc == 0);
    }
    zsock_signal (pipe, 0);
    if (self.http)
        br_http_serve (self.http, pipe, NULL, NULL);
    br_http_destroy (&self.http);
    zsock_destroy (&self.owner);
    bn_webui_destroy (&self.webui);
}

bn_api_t *
bn_api_new (const char *address, bn_tokens_t *tokens, bn_web_t *web, br_reason_t *reason)
{
    assert (tokens && reason);
    bn_api_t *self = (bn_api_t *) zmalloc (sizeof (bn_api_t));
    assert (self);
    br_inproc_endpoint ("bn-api", self->endpoint);
    self->requests = zsock_new (ZMQ_REP);
    int rc = zsock_bind (self->requests, "%s", self->endpoint);
    assert (rc == 0);
    s_start_t start = {.address = address ? address : BN_API_DEFAULT_ADDRESS,
                       .tokens = tokens,
                       .web = web,
                       .endpoint = self->endpoint};
    self->server = zactor_new (s_server_actor, &start);
    *reason = start.reason;
    if (start.reason != BR_REASON_OK) {
        bn_api_destroy (&self);
        return NULL;
    }
    self->port = start.port;
    return self;
}

zsock_t *
bn_api_requests (bn_api_t *self)
{
    assert (self);
    return self->requests;
}

void
bn_api_serve (bn_api_t *self, bn_api_dispatch_fn *dispatch, void *argument)
{
    assert (self && dispatch);
    bn_request_t *request = NULL;
    if (zsock_recv (self->requests, "p", &request) != 0 || !request)
        return;
    dispatch (argument, request);
    zsock_send (self->requests, "i", 0);
}

uint16_t
bn_api_port (bn_api_t *self)
{
    assert (self);
    return self->port;
}

void
bn_api_destroy (bn_api_t **self_p)
{
    assert (self_p);
    bn_api_t *self = *self_p;
    if (!self)
        return;
    zactor_destroy (&self->server); //  a request waiting for us is refused as BUSY
    zsock_destroy (&self->requests);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Selftest: the status of each reason; the API over HTTP is
//  bn_api_scenario_test.

void
bn_api_test (bool verbose)
{
    if (verbose)
        printf (" * bn_api: ");
    //  @selftest
    //  Status mapping
    assert (bn_api_http_status (BR_REASON_OK) == 200);
    assert (bn_api_http_status (BR_REASON_MALFORMED) == 400);
    assert (bn_api_http_status (BR_REASON_ATTESTATION_INVALID) == 400);
    assert (bn_api_http_status (BR_REASON_UNAUTHORIZED) == 401);
    assert (bn_api_http_status (BR_REASON_FORBIDDEN) == 403);
    assert (bn_api_http_status (BR_REASON_NOT_FOUND) == 404);
    assert (bn_api_http_status (BR_REASON_INVALID_STATE) == 409);
    assert (bn_api_http_status (BR_REASON_TOO_LARGE) == 413);
    assert (bn_api_http_status (BR_REASON_CONSENT_MISSING) == 422);
    assert (bn_api_http_status (BR_REASON_NODE_REVOKED) == 422);
    assert (bn_api_http_status (BR_REASON_NO_ROUTE) == 422);
    assert (bn_api_http_status (BR_REASON_STORE_FULL) == 503);
    assert (bn_api_http_status (BR_REASON_IO_ERROR) == 503);
    assert (bn_api_http_status (BR_REASON_BAD_SIGNATURE) == 500);
    assert (bn_api_http_status (BR_REASON_AUDIT_BROKEN) == 500);

    //  @end
    if (verbose)
        printf ("OK\n");
}
