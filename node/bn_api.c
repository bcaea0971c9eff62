/*  =========================================================================
    bn_api - the node's JSON API over HTTP (libmicrohttpd, jansson)
    =========================================================================
*/

#include "bruecke.h"
#include "bn_api.h"
#include "bn_http.h"
#include "bn_routes.h"
#include "bn_web.h"
#include "br_http.h"
#include <netinet/in.h>
#include <arpa/inet.h>

//  Longest path text logged.
#define S_LOG_PATH_MAX 160
//  Length of an id in a path: 16 bytes as hex.
#define S_ID_HEX 32
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
} s_server_t;

//  What the HTTP layer keeps for one request between libmicrohttpd's calls.
typedef struct {
    br_reason_t reason;                       //  refusal decided by the HTTP layer, or OK
    char detail[BN_API_DETAIL_SIZE];          //  its detail text
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

//  Path words of the API (node/openapi.yaml), logged as they are.
static const char *s_path_words[] = {
    "v1",       "status",   "cases",      "consents", "withdraw",  "referrals",   "transfers",
    "transfer", "accept",   "decline",    "events",   "audit",     "verify",      "exchange",
    "topics",   "board",    "offers",     "requests", "items",     "submissions", "agreements",
    "schedule", "complete", "cancel",     "ledger",   "reports",   "ui",          "admin",
    "users",    "tokens",   "remove",     "login",    "logout",    "session",     "notes",
    "close",    "reopen",   "follow-ups", "offices",  "directory", "emergency",   "approve",
    "end",      "form"};

//  ---- Helpers for dispatchers ------------------------------------------------

br_reason_t
bn_api_refuse (bn_request_t *request, br_reason_t reason, const char *format, ...)
{
    va_list arguments;
    va_start (arguments, format);
    vsnprintf (request->detail, sizeof (request->detail), format, arguments);
    va_end (arguments);
    return reason;
}

const char *
bn_api_text (json_t *object, const char *name, size_t max)
{
    const char *text = json_string_value (json_object_get (object, name));
    return text && br_line_valid (text, max) ? text : NULL;
}

//  True if `value` is text of `type` (LINE or NOTE) of at most `max` characters.
static bool
s_text_of (json_t *value, bn_field_type_t type, size_t max)
{
    const char *text = json_string_value (value);
    return type == BN_FIELD_NOTE ? br_note_valid (text, max) : br_line_valid (text, max);
}

//  True if `value` is what `field` asks for.
static bool
s_field_valid (const bn_field_t *field, json_t *value)
{
    size_t index;
    json_t *item;
    switch (field->type) {
        case BN_FIELD_LINE:
        case BN_FIELD_NOTE:
            return s_text_of (value, field->type, field->max);
        case BN_FIELD_INTEGER:
            return json_is_integer (value);
        case BN_FIELD_BOOLEAN:
            return json_is_boolean (value);
        case BN_FIELD_OBJECT:
            return json_is_object (value);
        default:
            break;
    }
    if (!json_is_array (value) || json_array_size (value) > field->max)
        return false;
    json_array_foreach (value, index, item)
    {
        bool valid =
            field->type == BN_FIELD_OBJECTS
                ? json_is_object (item)
                : s_text_of (item, field->type == BN_FIELD_NOTES ? BN_FIELD_NOTE : BN_FIELD_LINE,
                             field->item_max);
        if (!valid)
            return false;
    }
    return true;
}

//  What `field` must be, in words for a refusal's detail.
static void
s_field_wanted (const bn_field_t *field, char *text, size_t size)
{
    switch (field->type) {
        case BN_FIELD_LINE:
            snprintf (text, size, "one line of 1 to %zu characters", field->max);
            break;
        case BN_FIELD_NOTE:
            snprintf (text, size, "text of 1 to %zu characters", field->max);
            break;
        case BN_FIELD_INTEGER:
            snprintf (text, size, "an integer");
            break;
        case BN_FIELD_BOOLEAN:
            snprintf (text, size, "true or false");
            break;
        case BN_FIELD_OBJECT:
            snprintf (text, size, "an object");
            break;
        case BN_FIELD_OBJECTS:
            snprintf (text, size, "a list of at most %zu objects", field->max);
            break;
        default:
            snprintf (text, size, "a list of at most %zu texts of 1 to %zu characters", field->max,
                      field->item_max);
            break;
    }
}

br_reason_t
bn_api_fields (bn_request_t *request, json_t *object, const char *where, const bn_field_t *fields)
{
    assert (request && where && fields);
    const char *dot = *where ? "." : "";
    const char *name;
    json_t *value;
    json_object_foreach (object, name, value)
    {
        const bn_field_t *field = fields;
        while (field->name && !streq (field->name, name))
            field++;
        if (!field->name) {
            //  Named if it looks like a member's name, so that a misspelling shows
            bool plain = strlen (name) <= 40 &&
                         strspn (name, "abcdefghijklmnopqrstuvwxyz"
                                       "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == strlen (name);
            return bn_api_refuse (request, BR_REASON_MALFORMED,
                                  "%s%s%s: not a member of this "
                                  "operation's input",
                                  where, dot, plain ? name : "(a member)");
        }
        char wanted[96];
        s_field_wanted (field, wanted, sizeof (wanted));
        if (!s_field_valid (field, value) && !(field->nullable && json_is_null (value)))
            return bn_api_refuse (request, BR_REASON_MALFORMED, "%s%s%s: %s", where, dot,
                                  field->name, wanted);
    }
    for (const bn_field_t *field = fields; field->name; field++)
        if (field->required && !json_object_get (object, field->name))
            return bn_api_refuse (request, BR_REASON_MALFORMED, "%s%s%s is required", where, dot,
                                  field->name);
    return BR_REASON_OK;
}

json_int_t
bn_api_integer (json_t *object, const char *name, json_int_t fallback)
{
    json_t *value = json_object_get (object, name);
    return json_is_integer (value) ? json_integer_value (value) : fallback;
}

br_reason_t
bn_api_route (bn_request_t *request, char id[BN_ROUTES_ID_MAX + 1])
{
    assert (request && request->method && request->path && id);
    char allow[BN_ROUTES_ALLOW_SIZE];
    br_reason_t reason;
    request->route = bn_routes_match (request->method, request->path, id, allow, &reason);
    request->id = id;
    return reason;
}

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

//  ---- Logging ----------------------------------------------------------------

//  True if a path segment may be logged: an API word or a hex id.
static bool
s_segment_loggable (const char *segment, size_t length)
{
    if (length == S_ID_HEX && strspn (segment, "0123456789abcdef") >= S_ID_HEX)
        return true;
    for (size_t index = 0; index < sizeof (s_path_words) / sizeof (s_path_words[0]); index++)
        if (strlen (s_path_words[index]) == length &&
            memcmp (s_path_words[index], segment, length) == 0)
            return true;
    return false;
}

//  Writes the path as logged into `text` of S_LOG_PATH_MAX + 1 characters:
//  other segments become "*", so no name reaches the log.
static void
s_log_path (const char *path, char *text)
{
    size_t used = 0;
    text[0] = '\0';
    const char *cursor = path;
    while (*cursor == '/') {
        cursor++;
        size_t length = strcspn (cursor, "/");
        bool loggable = s_segment_loggable (cursor, length);
        size_t need = 1 + (loggable ? length : 1);
        if (used + need > S_LOG_PATH_MAX) {
            snprintf (text + used, S_LOG_PATH_MAX + 1 - used, "...");
            return;
        }
        text[used++] = '/';
        if (loggable)
            memcpy (text + used, cursor, length);
        else
            text[used] = '*';
        used += loggable ? length : 1;
        text[used] = '\0';
        cursor += length;
    }
    if (*cursor && used + 2 <= S_LOG_PATH_MAX) {
        text[used++] = '*';
        text[used] = '\0';
    }
}

//  A method as logged: a known one, or "OTHER".
static const char *
s_log_method (const char *method)
{
    static const char *known[] = {"GET", "POST", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"};
    for (size_t index = 0; index < sizeof (known) / sizeof (known[0]); index++)
        if (streq (method, known[index]))
            return known[index];
    return "OTHER";
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

//  The session of the request's cookie, or NULL.
static const bn_web_session_t *
s_session (s_server_t *self, struct MHD_Connection *connection)
{
    if (!self->web)
        return NULL;
    const char *cookie = MHD_lookup_connection_value (connection, MHD_COOKIE_KIND, BN_WEB_COOKIE);
    return bn_web_session (self->web, cookie, br_clock_ms ());
}

//  Admits a request of a web interface user, by the session cookie: the
//  API role for the web role, and the CSRF token on every change.
static void
s_admit_session (s_server_t *self, struct MHD_Connection *connection, const char *method,
                 s_request_t *request)
{
    const bn_web_session_t *session = s_session (self, connection);
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
    if (!streq (method, "GET") &&
        !bn_web_csrf_valid (
            session, MHD_lookup_connection_value (connection, MHD_HEADER_KIND, "X-CSRF-Token")))
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
    if (!header && self->web)
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

//  Queues a JSON answer.
static enum MHD_Result
s_send (struct MHD_Connection *connection, int status, json_t *json, const char *allow)
{
    char *text = json_dumps (json, JSON_COMPACT);
    if (!text) {
        status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        text = strdup ("{\"error\":\"IO_ERROR\",\"detail\":\"cannot encode the answer\"}");
    }
    size_t size = strlen (text);
    text = (char *) realloc (text, size + 2);
    assert (text);
    text[size++] = '\n';
    text[size] = '\0';
    struct MHD_Response *response =
        MHD_create_response_from_buffer (size, text, MHD_RESPMEM_MUST_FREE);
    if (!response) {
        free (text);
        return MHD_NO;
    }
    MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header (response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header (response, "X-Content-Type-Options", "nosniff");
    if (status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header (response, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    if (allow && *allow)
        MHD_add_response_header (response, MHD_HTTP_HEADER_ALLOW, allow);
    enum MHD_Result result = MHD_queue_response (connection, (unsigned int) status, response);
    MHD_destroy_response (response);
    return result;
}

//  Answers a refusal and logs it.
static enum MHD_Result
s_send_refusal (struct MHD_Connection *connection, const char *method, const char *url,
                const char *user, br_reason_t reason, const char *detail, const char *allow)
{
    int status = bn_api_http_status (reason);
    json_t *answer = json_object ();
    json_object_set_new (answer, "error", json_string (br_reason_name (reason)));
    json_t *text = json_string (detail);
    json_object_set_new (answer, "detail", text ? text : json_string (""));
    char path[S_LOG_PATH_MAX + 1];
    s_log_path (url, path);
    zsys_info ("api: %s %s %d %s", s_log_method (method), path, status, *user ? user : "-");
    enum MHD_Result result = s_send (connection, status, answer, allow);
    json_decref (answer);
    return result;
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

//  The whole request is in: parse, dispatch, answer.
static enum MHD_Result
s_answer (s_server_t *self, struct MHD_Connection *connection, const char *url, const char *method,
          s_request_t *request)
{
    if (request->reason != BR_REASON_OK)
        return s_send_refusal (connection, method, url, request->logged, request->reason,
                               request->detail, request->allow);
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
        return s_send_refusal (connection, method, url, request->logged, request->reason,
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
        char path[S_LOG_PATH_MAX + 1];
        s_log_path (url, path);
        zsys_info ("api: %s %s %d %s", s_log_method (method), path, status, request->logged);
        result = s_send (connection, status, answer, NULL);
        json_decref (answer);
    } else {
        json_decref (call.result);
        call.detail[sizeof (call.detail) - 1] = '\0';
        result = s_send_refusal (connection, method, url, request->logged, call.reason, call.detail,
                                 NULL);
    }
    return result;
}

//  ---- The web interface --------------------------------------------------------

//  True if `url` is the web interface's: "/" and everything under /ui.
static bool
s_web_path (s_server_t *self, const char *url)
{
    return self->web && (streq (url, "/") ||
                         (strncmp (url, "/ui", 3) == 0 && (url[3] == '\0' || url[3] == '/')));
}

//  Adds the headers every page and web answer gets.
static void
s_web_headers (struct MHD_Response *response)
{
    MHD_add_response_header (response, "Content-Security-Policy",
                             "default-src 'self'; frame-ancestors 'none'; form-action 'self'");
    MHD_add_response_header (response, "X-Frame-Options", "DENY");
    MHD_add_response_header (response, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header (response, "Referrer-Policy", "no-referrer");
    MHD_add_response_header (response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
}

//  Queues an answer of `size` bytes of `data` (copied) with `type`, and a
//  Set-Cookie header if `cookie` is not NULL, or a redirection to `location`.
static enum MHD_Result
s_web_send (struct MHD_Connection *connection, int status, const void *data, size_t size,
            const char *type, const char *cookie, const char *location)
{
    struct MHD_Response *response =
        MHD_create_response_from_buffer (size, (void *) data, MHD_RESPMEM_MUST_COPY);
    if (!response)
        return MHD_NO;
    s_web_headers (response);
    if (type)
        MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (cookie)
        MHD_add_response_header (response, MHD_HTTP_HEADER_SET_COOKIE, cookie);
    if (location)
        MHD_add_response_header (response, MHD_HTTP_HEADER_LOCATION, location);
    enum MHD_Result result = MHD_queue_response (connection, (unsigned int) status, response);
    MHD_destroy_response (response);
    return result;
}

//  A comma-separated office list as a JSON array of codes.
static json_t *
s_offices_json (const char *offices)
{
    json_t *list = json_array ();
    for (const char *at = offices ? offices : ""; *at;) {
        const char *end = strchrnul (at, ',');
        json_array_append_new (list, json_stringn (at, (size_t) (end - at)));
        at = *end ? end + 1 : end;
    }
    return list;
}

//  Answers a session as JSON {user, role, csrf}, setting its cookie if
//  `cookie` (after a login).
static enum MHD_Result
s_web_session_answer (s_server_t *self, struct MHD_Connection *connection,
                      const bn_web_session_t *session, bool cookie)
{
    json_t *answer = json_pack (
        "{ss ss ss so}", "user", session->user, "role", session->role, "csrf", session->csrf,
        "offices", s_offices_json (bn_tokens_offices (bn_web_users (self->web), session->user)));
    char *text = json_dumps (answer, JSON_COMPACT);
    json_decref (answer);
    char *set_cookie = cookie ? zsys_sprintf ("%s=%s%s", BN_WEB_COOKIE, session->id,
                                              bn_web_cookie_attributes (self->web))
                              : NULL;
    enum MHD_Result result = s_web_send (connection, MHD_HTTP_OK, text, strlen (text),
                                         "application/json", set_cookie, NULL);
    if (set_cookie)
        sodium_memzero (set_cookie, strlen (set_cookie));
    zstr_free (&set_cookie);
    free (text);
    return result;
}

static void
s_list_entry (void *argument, const char *name, const char *role, const char *offices)
{
    json_array_append_new ((json_t *) argument, json_pack ("{ss ss so}", "name", name, "role", role,
                                                           "offices", s_offices_json (offices)));
}

//  The offices of an admin request's body, {"offices": [codes]}, as the
//  comma-separated text bn_tokens keeps, into `offices`. False if they are
//  missing or not a list of at most BN_ROUTES_OFFICES_MAX strings.
static bool
s_offices_of (json_t *body, char offices[BN_TOKENS_OFFICES_SIZE])
{
    json_t *list = json_object_get (body, "offices");
    offices[0] = '\0';
    if (!json_is_array (list) || json_array_size (list) > BN_ROUTES_OFFICES_MAX)
        return false;
    size_t index, used = 0;
    json_t *code;
    json_array_foreach (list, index, code)
    {
        const char *text = json_string_value (code);
        if (!text || strchr (text, ',') || used + strlen (text) + 2 > BN_TOKENS_OFFICES_SIZE)
            return false;
        used += (size_t) snprintf (offices + used, BN_TOKENS_OFFICES_SIZE - used, "%s%s",
                                   index ? "," : "", text);
    }
    return true;
}

//  The administration's management of the web users and the API tokens:
//      GET  /ui/admin/users, /ui/admin/tokens
//          -> {"users"|"tokens": [{name, role, offices: [codes]}]}
//      POST /ui/admin/users {name, role, password, offices}   -> 201 {}
//      POST /ui/admin/tokens {name, role, offices}             -> 201 {"token": shown this once}
//      POST /ui/admin/{users|tokens}/{name}/offices {offices}  -> 200 {}
//      POST /ui/admin/{users|tokens}/{name}/remove             -> 200 {}
//  Administration sessions only (FORBIDDEN), with the CSRF token on POST.
static enum MHD_Result
s_answer_admin (s_server_t *self, struct MHD_Connection *connection, const char *url,
                const char *method, s_request_t *request)
{
    const bn_web_session_t *session = s_session (self, connection);
    br_reason_t reason = BR_REASON_OK;
    const char *detail = "";
    bool get = streq (method, "GET");
    if (!session) {
        reason = BR_REASON_UNAUTHORIZED;
        detail = "not logged in";
    } else if (!streq (session->role, BN_TOKENS_ROLE_ADMINISTRATION)) {
        reason = BR_REASON_FORBIDDEN;
        detail = "users and tokens are for the administration";
    } else if (!get && !bn_web_csrf_valid (session,
                                           MHD_lookup_connection_value (connection, MHD_HEADER_KIND,
                                                                        "X-CSRF-Token"))) {
        reason = BR_REASON_FORBIDDEN;
        detail = "missing or wrong CSRF token (X-CSRF-Token)";
    }
    if (reason != BR_REASON_OK)
        return s_send_refusal (connection, method, url, request->logged, reason, detail, NULL);
    snprintf (request->logged, sizeof (request->logged), "web:%s", session->role);
    char what[16] = "", name[BN_TOKENS_NAME_MAX + 1] = "", action[16] = "";
    int parts = sscanf (url + 10, "%15[a-z]/%32[a-z0-9-]/%15[a-z]", what, name, action);
    bool users = streq (what, "users"), tokens = streq (what, "tokens");
    bn_tokens_t *file = users ? bn_web_users (self->web) : self->tokens;
    json_t *body = request->body_size
                       ? json_loadb ((const char *) request->body, request->body_size,
                                     JSON_REJECT_DUPLICATES, NULL)
                       : NULL;
    json_t *answer = NULL;
    int status = MHD_HTTP_OK;
    reason = BR_REASON_NOT_FOUND;
    detail = "no such resource";
    if ((users || tokens) && parts == 1 && get) {
        json_t *list = json_array ();
        bn_tokens_list (file, s_list_entry, list);
        answer = json_pack ("{so}", what, list);
        reason = BR_REASON_OK;
    } else if ((users || tokens) && parts == 1 && !get) {
        const char *new_name = json_string_value (json_object_get (body, "name"));
        const char *role = json_string_value (json_object_get (body, "role"));
        char offices[BN_TOKENS_OFFICES_SIZE];
        char *token = NULL;
        if (!s_offices_of (body, offices))
            reason = BR_REASON_MALFORMED;
        else if (users)
            reason = bn_tokens_add_user (bn_tokens_path (file), new_name, role, offices,
                                         json_string_value (json_object_get (body, "password")));
        else
            reason = bn_tokens_add (bn_tokens_path (file), new_name, role, offices, &token);
        detail = reason == BR_REASON_MALFORMED
                     ? (users ? "name [a-z0-9-] 1..32, role sachbearbeitung, leitung or "
                                "administration, offices: service codes, password 10..128 "
                                "characters"
                              : "name [a-z0-9-] 1..32, role caseworker, integration or readonly, "
                                "offices: service codes (integration: exactly one)")
                 : reason == BR_REASON_INVALID_STATE ? "that name exists"
                                                     : "cannot write the file";
        if (reason == BR_REASON_OK) {
            status = MHD_HTTP_CREATED;
            answer = token ? json_pack ("{ss}", "token", token) : json_object ();
            zsys_info ("web: the administration added a %s", users ? "web user" : "token");
        }
        if (token)
            sodium_memzero (token, strlen (token));
        zstr_free (&token);
    } else if ((users || tokens) && parts == 3 && !get && streq (action, "offices")) {
        char offices[BN_TOKENS_OFFICES_SIZE];
        reason = s_offices_of (body, offices)
                     ? bn_tokens_set_offices (bn_tokens_path (file), name, offices)
                     : BR_REASON_MALFORMED;
        detail = reason == BR_REASON_NOT_FOUND ? "no such name"
                 : reason == BR_REASON_MALFORMED
                     ? "offices: service codes of the catalogue (integration: exactly one)"
                     : "cannot write the file";
        if (reason == BR_REASON_OK) {
            answer = json_object ();
            zsys_info ("web: the administration changed the offices of a %s",
                       users ? "web user" : "token");
        }
    } else if ((users || tokens) && parts == 3 && !get && streq (action, "remove")) {
        if (users && streq (name, session->user)) {
            reason = BR_REASON_INVALID_STATE;
            detail = "one cannot remove oneself";
        } else {
            reason = bn_tokens_remove (bn_tokens_path (file), name);
            detail = reason == BR_REASON_NOT_FOUND ? "no such name" : "cannot write the file";
        }
        if (reason == BR_REASON_OK)
            answer = json_object ();
    }
    if (request->body)
        sodium_memzero (request->body, request->body_size);
    json_decref (body);
    if (reason != BR_REASON_OK)
        return s_send_refusal (connection, method, url, request->logged, reason, detail, NULL);
    char *text = json_dumps (answer, JSON_COMPACT);
    json_decref (answer);
    char path[S_LOG_PATH_MAX + 1];
    s_log_path (url, path);
    zsys_info ("api: %s %s %d %s", s_log_method (method), path, status, request->logged);
    enum MHD_Result result =
        s_web_send (connection, status, text, strlen (text), "application/json", NULL, NULL);
    free (text);
    return result;
}

//  The web interface's own requests: its files, login, session, logout.
static enum MHD_Result
s_answer_web (s_server_t *self, struct MHD_Connection *connection, const char *url,
              const char *method, s_request_t *request)
{
    if (request->reason != BR_REASON_OK)
        return s_send_refusal (connection, method, url, request->logged, request->reason,
                               request->detail, request->allow);
    bool get = streq (method, "GET"), post = streq (method, "POST");
    int64_t now = br_clock_ms (); //  sessions and lockouts are timers
    br_reason_t reason = BR_REASON_NOT_FOUND;
    const char *detail = "no such page";
    if (get && (streq (url, "/") || streq (url, "/ui")))
        return s_web_send (connection, MHD_HTTP_FOUND, "", 0, NULL, NULL, "/ui/");
    if (get && streq (url, "/ui/session")) {
        const bn_web_session_t *session = s_session (self, connection);
        if (session)
            return s_web_session_answer (self, connection, session, false);
        reason = BR_REASON_UNAUTHORIZED;
        detail = "not logged in";
    } else if (post && streq (url, "/ui/login")) {
        json_t *body = request->body_size
                           ? json_loadb ((const char *) request->body, request->body_size,
                                         JSON_REJECT_DUPLICATES, NULL)
                           : NULL;
        const bn_web_session_t *session = NULL;
        reason =
            bn_web_login (self->web, json_string_value (json_object_get (body, "user")),
                          json_string_value (json_object_get (body, "password")), now, &session);
        if (request->body)
            sodium_memzero (request->body, request->body_size);
        json_decref (body);
        if (reason == BR_REASON_OK) {
            zsys_info ("api: POST /ui/login 200 web:%s", session->role);
            return s_web_session_answer (self, connection, session, true);
        }
        detail = reason == BR_REASON_TOO_MANY_ATTEMPTS
                     ? "too many failed logins: try again in 15 minutes"
                     : "wrong user name or password";
    } else if (post && streq (url, "/ui/logout")) {
        const bn_web_session_t *session = s_session (self, connection);
        if (!session) {
            reason = BR_REASON_UNAUTHORIZED;
            detail = "not logged in";
        } else if (!bn_web_csrf_valid (session, MHD_lookup_connection_value (
                                                    connection, MHD_HEADER_KIND, "X-CSRF-Token"))) {
            reason = BR_REASON_FORBIDDEN;
            detail = "missing or wrong CSRF token (X-CSRF-Token)";
        } else {
            bn_web_logout (self->web, session->id);
            char *expired = zsys_sprintf ("%s=%s; Max-Age=0", BN_WEB_COOKIE,
                                          bn_web_cookie_attributes (self->web));
            enum MHD_Result result =
                s_web_send (connection, MHD_HTTP_OK, "{}", 2, "application/json", expired, NULL);
            zstr_free (&expired);
            return result;
        }
    } else if (strncmp (url, "/ui/admin/", 10) == 0)
        return s_answer_admin (self, connection, url, method, request);
    else if (get && strncmp (url, "/ui/", 4) == 0) {
        zchunk_t *data = NULL;
        const char *type = NULL;
        reason = bn_web_file (self->web, url + 4, &data, &type);
        if (reason == BR_REASON_OK) {
            enum MHD_Result result = s_web_send (connection, MHD_HTTP_OK, zchunk_data (data),
                                                 zchunk_size (data), type, NULL, NULL);
            zchunk_destroy (&data);
            return result;
        }
        detail = "no such page";
    }
    return s_send_refusal (connection, method, url, request->logged, reason, detail, NULL);
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
        if (s_web_path (self, url)) {
            request->web = true;
            snprintf (request->logged, sizeof (request->logged), "web");
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
                return s_send_refusal (connection, method, url, request->logged, request->reason,
                                       request->detail, request->allow);
        }
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        s_upload (request, method, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return request->received > BN_API_DISCARD_MAX ? MHD_NO : MHD_YES;
    }
    if (request->web)
        return s_answer_web (self, connection, url, method, request);
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
    s_server_t self = {.pipe = pipe, .tokens = start->tokens, .web = start->web};
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

//  @selftest

//  What the test dispatcher saw of the last request.
typedef struct {
    int calls;        //  requests dispatched
    char method[8];   //  their method
    char path[64];    //  path
    char *query;      //  query, as sorted compact JSON
    char *body;       //  body, as sorted compact JSON, or NULL
    char user[64];    //  the actor
    char role[20];    //  role
    char offices[64]; //  offices
} s_test_seen_t;

static void
s_test_dispatch (void *argument, bn_request_t *request)
{
    s_test_seen_t *seen = (s_test_seen_t *) argument;
    seen->calls++;
    snprintf (seen->method, sizeof (seen->method), "%s", request->method);
    snprintf (seen->path, sizeof (seen->path), "%s", request->path);
    zstr_free (&seen->query);
    zstr_free (&seen->body);
    seen->query = json_dumps (request->query, JSON_COMPACT | JSON_SORT_KEYS);
    seen->body = request->body ? json_dumps (request->body, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    snprintf (seen->user, sizeof (seen->user), "%s", request->user);
    snprintf (seen->role, sizeof (seen->role), "%s", request->role);

    snprintf (seen->offices, sizeof (seen->offices), "%s", request->offices);
    //  The route came with the request: POST /v1/cases echoes, the
    //  referrals answer {}, the consents refuse, the transfers are busy
    assert (request->route && request->id);
    bn_operation_t operation = request->route->operation;
    if (operation == BN_OP_CASE_CREATE) {
        request->status = 201;
        request->result = json_pack ("{s:b, s:O*}", "ok", 1, "body", request->body);
    } else if (operation == BN_OP_REFERRAL_LIST || operation == BN_OP_REFERRAL_SEND ||
               operation == BN_OP_CASE_LIST)
        ; //  OK, no result: {}
    else if (operation == BN_OP_CONSENT_LIST || operation == BN_OP_CONSENT_RECORD) {
        request->reason = BR_REASON_CONSENT_WITHDRAWN;
        request->result = json_object (); //  ignored on refusal
        snprintf (request->detail, sizeof (request->detail), "the consent was withdrawn");
    } else if (operation == BN_OP_TRANSFER_LIST) {
        request->reason = BR_REASON_BUSY;
        snprintf (request->detail, sizeof (request->detail), "try later");
    } else {
        request->reason = BR_REASON_NOT_FOUND;
        snprintf (request->detail, sizeof (request->detail), "no such operation");
    }
}

//  The API's owner in the test: an actor that serves requests with
//  s_test_dispatch until $TERM; or, if not `serving`, leaves the first
//  where it is and says "WAITING".
typedef struct {
    bn_tokens_t *tokens; //  the tokens
    s_test_seen_t *seen; //  what the dispatcher saw
    bool serving;        //  false: requests are never taken
    bn_api_t *api;       //  the API it runs
} s_test_owner_t;

static void
s_test_owner (zsock_t *pipe, void *args)
{
    s_test_owner_t *owner = (s_test_owner_t *) args;
    br_reason_t reason;
    owner->api = bn_api_new ("127.0.0.1:0", owner->tokens, NULL, &reason);
    assert (owner->api);
    zsock_signal (pipe, 0);
    zsock_t *requests = bn_api_requests (owner->api);
    zpoller_t *poller = zpoller_new (pipe, requests, NULL);
    while (zpoller_wait (poller, -1) == requests) {
        if (owner->serving)
            bn_api_serve (owner->api, s_test_dispatch, owner->seen);
        else {
            zpoller_remove (poller, requests); //  it waits; say so once
            zstr_send (pipe, "WAITING");
        }
    }
    zpoller_destroy (&poller);
    bn_api_destroy (&owner->api); //  $TERM, not read: the actor's shim reads it
}

//  A request made on a thread of its own, while the API stops.
typedef struct {
    const char *url;    //  the API
    const char *token;  //  a good token
    br_reason_t reason; //  how the request ended
    int status;         //  and its status, if it was answered
} s_test_waiting_t;

static void
s_test_waiting_client (zsock_t *pipe, void *args)
{
    s_test_waiting_t *waiting = (s_test_waiting_t *) args;
    zsock_signal (pipe, 0);
    zchunk_t *response = NULL;
    waiting->reason = bn_http_request (waiting->url, "GET", "/v1/referrals", waiting->token, NULL,
                                       0, &waiting->status, &response);
    zchunk_destroy (&response);
    zsock_signal (pipe, 0);
}

//  Makes one request; returns the answer as JSON and sets *status.
static json_t *
s_test_call (const char *url, const char *method, const char *path, const char *token,
             const char *body, size_t body_size, int *status)
{
    zchunk_t *response = NULL;
    assert (bn_http_request (url, method, path, token, body, body_size, status, &response) ==
            BR_REASON_OK);
    json_error_t error;
    json_t *answer =
        json_loadb ((const char *) zchunk_data (response), zchunk_size (response), 0, &error);
    assert (json_is_object (answer));
    zchunk_destroy (&response);
    return answer;
}

//  Asserts a refusal with `status` and reason `name`.
static void
s_test_refused (const char *url, const char *method, const char *path, const char *token,
                const char *body, size_t body_size, int status, const char *name)
{
    int got = 0;
    json_t *answer = s_test_call (url, method, path, token, body, body_size, &got);
    if (got != status)
        fprintf (stderr, "%s %s: %d, expected %d\n", method, path, got, status);
    assert (got == status);
    assert (streq (json_string_value (json_object_get (answer, "error")), name));
    assert (json_is_string (json_object_get (answer, "detail")));
    json_decref (answer);
}

void
bn_api_test (bool verbose)
{
    if (verbose)
        printf (" * bn_api: ");
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

    //  Logged paths: API words and ids, nothing else
    char logged[S_LOG_PATH_MAX + 1];
    s_log_path ("/v1/cases/0123456789abcdef0123456789abcdef/transfer", logged);
    assert (streq (logged, "/v1/cases/0123456789abcdef0123456789abcdef/transfer"));
    s_log_path ("/v1/cases/Erika Mustermann", logged);
    assert (streq (logged, "/v1/cases/*"));
    s_log_path ("/v1/mustermann/", logged);
    assert (streq (logged, "/v1/*/*"));
    s_log_path ("", logged);
    assert (streq (logged, ""));

    char *directory = br_temp_directory ("bn_api_test");
    assert (directory);
    char *path = zsys_sprintf ("%s/api-tokens", directory);
    char *alice = NULL, *reader = NULL;
    char *carol = NULL;
    assert (bn_tokens_add (path, "alice", BN_TOKENS_ROLE_CASEWORKER, "jobcenter,fruehe-hilfen",
                           &alice) == BR_REASON_OK);
    assert (bn_tokens_add (path, "reader", BN_TOKENS_ROLE_READONLY, "", &reader) == BR_REASON_OK);
    assert (bn_tokens_add (path, "carol", BN_TOKENS_ROLE_INTEGRATION, "jobcenter", &carol) ==
            BR_REASON_OK);
    br_reason_t reason;
    bn_tokens_t *tokens = bn_tokens_new (path, &reason);
    assert (tokens);

    //  Bad addresses
    s_test_seen_t seen;
    memset (&seen, 0, sizeof (seen));
    const char *bad_addresses[] = {
        "nonsense",  "127.0.0.1",    "127.0.0.1:99999", "127.0.0.1:", "[::1",
        "[::1]8080", "300.1.1.1:80", "name.example:80", NULL};
    for (size_t index = 0; bad_addresses[index]; index++) {
        assert (bn_api_new (bad_addresses[index], tokens, NULL, &reason) == NULL);
        assert (reason == BR_REASON_CONFIG_INVALID);
    }

    s_test_owner_t owner = {.tokens = tokens, .seen = &seen, .serving = true};
    zactor_t *owner_actor = zactor_new (s_test_owner, &owner);
    bn_api_t *api = owner.api;
    assert (api && bn_api_port (api) > 0);
    //  The port is taken now
    char *taken = zsys_sprintf ("127.0.0.1:%u", (unsigned) bn_api_port (api));
    assert (bn_api_new (taken, tokens, NULL, &reason) == NULL);
    assert (reason == BR_REASON_IO_ERROR);
    zstr_free (&taken);
    char *url = zsys_sprintf ("http://127.0.0.1:%u", (unsigned) bn_api_port (api));
    int status = 0;

    //  No token, a bad token, a token of an unknown name: 401
    s_test_refused (url, "GET", "/v1/cases", NULL, NULL, 0, 401, "UNAUTHORIZED");
    char *wrong = strdup (alice);
    wrong[strlen (wrong) - 1] = wrong[strlen (wrong) - 1] == 'A' ? 'B' : 'A';
    s_test_refused (url, "GET", "/v1/cases", wrong, NULL, 0, 401, "UNAUTHORIZED");
    s_test_refused (url, "POST", "/v1/cases", wrong, "{}", 2, 401, "UNAUTHORIZED");
    memcpy (wrong, "zzzzz", 5);
    s_test_refused (url, "GET", "/v1/cases", wrong, NULL, 0, 401, "UNAUTHORIZED");
    zstr_free (&wrong);
    assert (seen.calls == 0);

    //  readonly may GET but not POST
    s_test_refused (url, "POST", "/v1/cases", reader, "{}", 2, 403, "FORBIDDEN");
    assert (seen.calls == 0);
    json_t *answer = s_test_call (url, "GET", "/v1/referrals", reader, NULL, 0, &status);
    assert (status == 200 && json_object_size (answer) == 0);
    json_decref (answer);
    assert (seen.calls == 1 && streq (seen.user, "reader") && streq (seen.role, "readonly"));
    assert (seen.body == NULL);

    //  Methods a path does not take: 405, with the methods it does in Allow;
    //  a body on a GET
    s_test_refused (url, "PUT", "/v1/cases", alice, "{}", 2, 405, "METHOD_NOT_ALLOWED");
    s_test_refused (url, "DELETE", "/v1/cases", alice, NULL, 0, 405, "METHOD_NOT_ALLOWED");
    s_test_refused (url, "PATCH", "/v1/audit", alice, NULL, 0, 405, "METHOD_NOT_ALLOWED");
    s_test_refused (url, "GET", "/v1/cases", alice, "{}", 2, 400, "MALFORMED");
    assert (seen.calls == 1);
    //  Spellings of a path that are not the path: 404, and nothing is called
    const char *spellings[] = {"/v1/cases/",
                               "/v1//cases",
                               "/v1/Cases",
                               "/v1/cases/%2F",
                               "/v1/audit/",
                               "/V1/audit",
                               "/v1/cases/0123456789ABCDEF",
                               NULL};
    for (size_t index = 0; spellings[index]; index++)
        s_test_refused (url, "GET", spellings[index], alice, NULL, 0, 404, "NOT_FOUND");
    //  A role the route does not list: 403 before the dispatcher
    s_test_refused (url, "GET", "/v1/audit", alice, NULL, 0, 403, "FORBIDDEN");
    assert (seen.calls == 1);
    //  The town's case software names the person it acts for, in every call
    s_test_refused (url, "GET", "/v1/referrals", carol, NULL, 0, 400, "ON_BEHALF_MISSING");
    assert (seen.calls == 1);
    zchunk_t *named = NULL;
    assert (bn_http_request_as (url, "GET", "/v1/referrals", carol, "Erika Beispiel", NULL, 0,
                                &status, &named) == BR_REASON_OK);
    assert (status == 200 && seen.calls == 2);
    assert (streq (seen.user, "carol f\xc3\xbcr Erika Beispiel") &&
            streq (seen.offices, "jobcenter"));
    zchunk_destroy (&named);

    //  Bodies: too large, not JSON, not an object, duplicate keys, query not UTF-8
    size_t large_size = BN_API_BODY_MAX + 1;
    char *large = (char *) malloc (large_size);
    memset (large, ' ', large_size);
    large[0] = '{';
    large[large_size - 1] = '}';
    s_test_refused (url, "POST", "/v1/cases", alice, large, large_size, 413, "TOO_LARGE");
    free (large);
    s_test_refused (url, "POST", "/v1/cases", alice, "{\"a\": ", 6, 400, "MALFORMED");
    s_test_refused (url, "POST", "/v1/cases", alice, "[1, 2]", 6, 400, "MALFORMED");
    s_test_refused (url, "POST", "/v1/cases", alice, "{\"a\":1,\"a\":2}", 13, 400, "MALFORMED");
    s_test_refused (url, "GET", "/v1/cases?x=%FF", alice, NULL, 0, 400, "MALFORMED");
    assert (seen.calls == 2);
    //  A body beyond what is worth reading: refused before it is read; the
    //  client may see the answer or a closed connection
    large_size = BN_API_DISCARD_MAX + 1;
    large = (char *) zmalloc (large_size);
    zchunk_t *response = NULL;
    reason =
        bn_http_request (url, "POST", "/v1/cases", alice, large, large_size, &status, &response);
    assert (reason == BR_REASON_IO_ERROR || (reason == BR_REASON_OK && status == 413));
    zchunk_destroy (&response);
    free (large);
    assert (seen.calls == 2);

    //  A good request reaches the dispatcher whole, and its answer comes back
    const char *body = "{\"kind\": \"family\", \"needs\": [\"language\"]}";
    answer = s_test_call (url, "POST", "/v1/cases?after=5&x=a%20b&flag", alice, body, strlen (body),
                          &status);
    assert (status == 201);
    assert (json_is_true (json_object_get (answer, "ok")));
    assert (streq (json_string_value (json_object_get (json_object_get (answer, "body"), "kind")),
                   "family"));
    json_decref (answer);
    assert (seen.calls == 3);
    assert (streq (seen.method, "POST") && streq (seen.path, "/v1/cases"));
    assert (streq (seen.query, "{\"after\":\"5\",\"flag\":\"\",\"x\":\"a b\"}"));
    assert (streq (seen.body, "{\"kind\":\"family\",\"needs\":[\"language\"]}"));
    assert (streq (seen.user, "alice") && streq (seen.role, "caseworker"));
    //  A POST without body has body NULL
    answer = s_test_call (url, "POST", "/v1/referrals", alice, NULL, 0, &status);
    assert (status == 200 && seen.calls == 4 && seen.body == NULL);
    assert (streq (seen.query, "{}"));
    json_decref (answer);

    //  Refusals by the dispatcher map to their status
    s_test_refused (url, "POST", "/v1/consents", alice, "{}", 2, 422, "CONSENT_WITHDRAWN");
    s_test_refused (url, "GET", "/v1/transfers", alice, NULL, 0, 503, "BUSY");
    s_test_refused (url, "GET", "/v1/nothing/here", alice, NULL, 0, 404, "NOT_FOUND");
    assert (seen.calls == 6); //  that one never reached the dispatcher
    answer = s_test_call (url, "GET", "/v1/consents", alice, NULL, 0, &status);
    assert (streq (json_string_value (json_object_get (answer, "detail")),
                   "the consent was withdrawn"));
    json_decref (answer);
    assert (seen.calls == 7);
    assert (streq (seen.offices, "jobcenter,fruehe-hilfen"));

    //  A token removed while the API runs stops working
    char *text = zsys_sprintf ("# only the reader is left\n");
    zchunk_t *chunk = br_file_read (path, BN_TOKENS_FILE_MAX, &reason);
    assert (chunk);
    char *file_text = zchunk_strdup (chunk);
    zchunk_destroy (&chunk);
    char *line = strstr (file_text, "\nreader ");
    assert (line);
    char *rewritten = zsys_sprintf ("%s%s", text, line + 1);
    assert (br_file_write (path, rewritten, strlen (rewritten), 0600, true) == BR_REASON_OK);
    s_test_refused (url, "GET", "/v1/referrals", alice, NULL, 0, 401, "UNAUTHORIZED");
    answer = s_test_call (url, "GET", "/v1/referrals", reader, NULL, 0, &status);
    assert (status == 200);
    json_decref (answer);
    zstr_free (&text);
    zstr_free (&file_text);
    zstr_free (&rewritten);

    zactor_destroy (&owner_actor);
    assert (bn_http_request (url, "GET", "/v1/referrals", reader, NULL, 0, &status, &response) ==
            BR_REASON_IO_ERROR);
    zstr_free (&url);

    //  The API stops while a request waits for its owner, who never takes
    //  it: the stop does not wait for it, and the request ends
    owner.serving = false;
    owner_actor = zactor_new (s_test_owner, &owner);
    url = zsys_sprintf ("http://127.0.0.1:%u", (unsigned) bn_api_port (owner.api));
    s_test_waiting_t waiting = {.url = url, .token = reader, .reason = BR_REASON_OK};
    zactor_t *client = zactor_new (s_test_waiting_client, &waiting);
    char *said = zstr_recv (owner_actor);
    assert (said && streq (said, "WAITING")); //  the request is with the owner now
    zstr_free (&said);
    zactor_destroy (&owner_actor);
    zsock_wait (client);
    zactor_destroy (&client);
    assert (waiting.reason == BR_REASON_IO_ERROR ||
            (waiting.reason == BR_REASON_OK && waiting.status == 503));
    bn_tokens_destroy (&tokens);
    zstr_free (&seen.query);
    zstr_free (&seen.body);
    zstr_free (&url);
    zstr_free (&alice);
    zstr_free (&reader);
    zstr_free (&carol);
    assert (unlink (path) == 0);
    assert (rmdir (directory) == 0);
    zstr_free (&path);
    zstr_free (&directory);
    //  @end
    if (verbose)
        printf ("OK\n");
}
