/*  =========================================================================
    bn_webui - the web interface over HTTP: pages, logins, sessions, and the
    administration's users and tokens
    =========================================================================
*/

#include "bruecke.h"
#include "bn_webui.h"
#include "bn_reply.h"
#include "bn_routes.h"

//  The web interface's answers.
struct _bn_webui_t {
    bn_web_t *web;       //  logins, sessions, pages (the caller's)
    bn_tokens_t *tokens; //  the API tokens, for the administration (the caller's)
};

bn_webui_t *
bn_webui_new (bn_web_t *web, bn_tokens_t *tokens)
{
    assert (web && tokens);
    bn_webui_t *self = (bn_webui_t *) zmalloc (sizeof (bn_webui_t));
    assert (self);
    self->web = web;
    self->tokens = tokens;
    return self;
}

void
bn_webui_destroy (bn_webui_t **self_p)
{
    assert (self_p);
    free (*self_p);
    *self_p = NULL;
}

bool
bn_webui_path (const char *url)
{
    return streq (url, "/") || (strncmp (url, "/ui", 3) == 0 && (url[3] == '\0' || url[3] == '/'));
}

const bn_web_session_t *
bn_webui_session (bn_webui_t *self, struct MHD_Connection *connection)
{
    assert (self);
    const char *cookie = MHD_lookup_connection_value (connection, MHD_COOKIE_KIND, BN_WEB_COOKIE);
    return bn_web_session (self->web, cookie, br_clock_ms ());
}

bool
bn_webui_csrf_valid (const bn_web_session_t *session, struct MHD_Connection *connection)
{
    return bn_web_csrf_valid (
        session, MHD_lookup_connection_value (connection, MHD_HEADER_KIND, BN_WEBUI_CSRF_HEADER));
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
s_web_session_answer (bn_webui_t *self, struct MHD_Connection *connection,
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

//  An administration request: what it asks for, and what it comes to.
typedef struct {
    bn_tokens_t *file;  //  the users file or the API tokens
    bool users;         //  true: the users; false: the tokens
    const char *name;   //  the name in the path, "" if none
    json_t *body;       //  the request's body, or NULL
    json_t *answer;     //  on OK: the answer (new reference)
    int status;         //  on OK: its status
    const char *detail; //  on refusal: why (static)
} s_admin_t;

//  The administration's session of the request, or NULL with the refusal
//  in *reason and *detail.
static const bn_web_session_t *
s_admin_session (bn_webui_t *self, struct MHD_Connection *connection, bool get, br_reason_t *reason,
                 const char **detail)
{
    const bn_web_session_t *session = bn_webui_session (self, connection);
    if (!session) {
        *reason = BR_REASON_UNAUTHORIZED;
        *detail = "not logged in";
        return NULL;
    }
    if (!streq (session->role, BN_TOKENS_ROLE_ADMINISTRATION)) {
        *reason = BR_REASON_FORBIDDEN;
        *detail = "users and tokens are for the administration";
        return NULL;
    }
    if (!get && !bn_webui_csrf_valid (session, connection)) {
        *reason = BR_REASON_FORBIDDEN;
        *detail = "missing or wrong CSRF token (X-CSRF-Token)";
        return NULL;
    }
    return session;
}

//  GET /ui/admin/{users|tokens}: the entries.
static br_reason_t
s_admin_list (s_admin_t *admin)
{
    json_t *list = json_array ();
    bn_tokens_list (admin->file, s_list_entry, list);
    admin->answer = json_pack ("{so}", admin->users ? "users" : "tokens", list);
    return BR_REASON_OK;
}

//  POST /ui/admin/{users|tokens}: a new entry; a token is shown this once.
static br_reason_t
s_admin_add (s_admin_t *admin)
{
    const char *name = json_string_value (json_object_get (admin->body, "name"));
    const char *role = json_string_value (json_object_get (admin->body, "role"));
    char offices[BN_TOKENS_OFFICES_SIZE];
    char *token = NULL;
    br_reason_t reason;
    if (!s_offices_of (admin->body, offices))
        reason = BR_REASON_MALFORMED;
    else if (admin->users)
        reason = bn_tokens_add_user (bn_tokens_path (admin->file), name, role, offices,
                                     json_string_value (json_object_get (admin->body, "password")));
    else
        reason = bn_tokens_add (bn_tokens_path (admin->file), name, role, offices, &token);
    admin->detail =
        reason == BR_REASON_MALFORMED
            ? (admin->users ? "name [a-z0-9-] 1..32, role sachbearbeitung, leitung or "
                              "administration, offices: service codes, password 10..128 "
                              "characters"
                            : "name [a-z0-9-] 1..32, role caseworker, integration or readonly, "
                              "offices: service codes (integration: exactly one)")
        : reason == BR_REASON_INVALID_STATE ? "that name exists"
                                            : "cannot write the file";
    if (reason == BR_REASON_OK) {
        admin->status = MHD_HTTP_CREATED;
        admin->answer = token ? json_pack ("{ss}", "token", token) : json_object ();
        zsys_info ("web: the administration added a %s", admin->users ? "web user" : "token");
    }
    if (token)
        sodium_memzero (token, strlen (token));
    zstr_free (&token);
    return reason;
}

//  POST /ui/admin/{users|tokens}/{name}/offices: the entry's offices.
static br_reason_t
s_admin_offices (s_admin_t *admin)
{
    char offices[BN_TOKENS_OFFICES_SIZE];
    br_reason_t reason =
        s_offices_of (admin->body, offices)
            ? bn_tokens_set_offices (bn_tokens_path (admin->file), admin->name, offices)
            : BR_REASON_MALFORMED;
    admin->detail = reason == BR_REASON_NOT_FOUND ? "no such name"
                    : reason == BR_REASON_MALFORMED
                        ? "offices: service codes of the catalogue (integration: exactly one)"
                        : "cannot write the file";
    if (reason != BR_REASON_OK)
        return reason;
    admin->answer = json_object ();
    zsys_info ("web: the administration changed the offices of a %s",
               admin->users ? "web user" : "token");
    return reason;
}

//  POST /ui/admin/{users|tokens}/{name}/remove: the entry goes, but not
//  the administrator's own.
static br_reason_t
s_admin_remove (s_admin_t *admin, const bn_web_session_t *session)
{
    if (admin->users && streq (admin->name, session->user)) {
        admin->detail = "one cannot remove oneself";
        return BR_REASON_INVALID_STATE;
    }
    br_reason_t reason = bn_tokens_remove (bn_tokens_path (admin->file), admin->name);
    admin->detail = reason == BR_REASON_NOT_FOUND ? "no such name" : "cannot write the file";
    if (reason == BR_REASON_OK)
        admin->answer = json_object ();
    return reason;
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
s_answer_admin (bn_webui_t *self, struct MHD_Connection *connection, const char *url,
                const char *method, uint8_t *body, size_t body_size)
{
    bool get = streq (method, "GET");
    br_reason_t reason = BR_REASON_OK;
    const char *detail = "";
    const bn_web_session_t *session = s_admin_session (self, connection, get, &reason, &detail);
    if (!session)
        return bn_reply_refusal (connection, method, url, BN_WEBUI_LOGGED, reason, detail, NULL);
    char logged[BN_TOKENS_NAME_MAX + 1];
    snprintf (logged, sizeof (logged), "web:%s", session->role);
    char what[16] = "", name[BN_TOKENS_NAME_MAX + 1] = "", action[16] = "";
    //  The whole rest of the path must be read: "users/Neu/remove" is no
    //  path of the administration, not a request to add a user
    const char *rest = url + 10;
    int after_what = -1, after_action = -1;
    int parts = sscanf (rest, "%15[a-z]%n/%32[a-z0-9-]/%15[a-z]%n", what, &after_what, name, action,
                        &after_action);
    if (!((parts == 1 && after_what == (int) strlen (rest)) ||
          (parts == 3 && after_action == (int) strlen (rest))))
        parts = 0;
    bool users = streq (what, "users"), tokens = streq (what, "tokens");
    s_admin_t admin = {.file = users ? bn_web_users (self->web) : self->tokens,
                       .users = users,
                       .name = name,
                       .body = body_size ? json_loadb ((const char *) body, body_size,
                                                       JSON_REJECT_DUPLICATES, NULL)
                                         : NULL,
                       .status = MHD_HTTP_OK,
                       .detail = "no such resource"};
    reason = BR_REASON_NOT_FOUND;
    if ((users || tokens) && parts == 1 && get)
        reason = s_admin_list (&admin);
    else if ((users || tokens) && parts == 1 && !get)
        reason = s_admin_add (&admin);
    else if ((users || tokens) && parts == 3 && !get && streq (action, "offices"))
        reason = s_admin_offices (&admin);
    else if ((users || tokens) && parts == 3 && !get && streq (action, "remove"))
        reason = s_admin_remove (&admin, session);
    if (body)
        sodium_memzero (body, body_size);
    json_decref (admin.body);
    if (reason != BR_REASON_OK)
        return bn_reply_refusal (connection, method, url, logged, reason, admin.detail, NULL);
    char *text = json_dumps (admin.answer, JSON_COMPACT);
    json_decref (admin.answer);
    bn_reply_log (method, url, admin.status, logged);
    enum MHD_Result result =
        s_web_send (connection, admin.status, text, strlen (text), "application/json", NULL, NULL);
    free (text);
    return result;
}

//  POST /ui/login: a session for the user's name and password, and its
//  cookie; the body is wiped once read.
static enum MHD_Result
s_answer_login (bn_webui_t *self, struct MHD_Connection *connection, uint8_t *body,
                size_t body_size)
{
    json_t *json = body_size
                       ? json_loadb ((const char *) body, body_size, JSON_REJECT_DUPLICATES, NULL)
                       : NULL;
    const bn_web_session_t *session = NULL;
    //  Sessions and lockouts are timers: the monotonic clock
    br_reason_t reason = bn_web_login (
        self->web, json_string_value (json_object_get (json, "user")),
        json_string_value (json_object_get (json, "password")), br_clock_ms (), &session);
    if (body)
        sodium_memzero (body, body_size);
    json_decref (json);
    if (reason == BR_REASON_OK) {
        char logged[BN_TOKENS_NAME_MAX + 1];
        snprintf (logged, sizeof (logged), "web:%s", session->role);
        bn_reply_log ("POST", "/ui/login", MHD_HTTP_OK, logged);
        return s_web_session_answer (self, connection, session, true);
    }
    const char *detail = reason == BR_REASON_TOO_MANY_ATTEMPTS
                             ? "too many failed logins: try again in 15 minutes"
                             : "wrong user name or password";
    return bn_reply_refusal (connection, "POST", "/ui/login", BN_WEBUI_LOGGED, reason, detail,
                             NULL);
}

//  POST /ui/logout: ends the session and expires its cookie.
static enum MHD_Result
s_answer_logout (bn_webui_t *self, struct MHD_Connection *connection)
{
    const bn_web_session_t *session = bn_webui_session (self, connection);
    if (!session)
        return bn_reply_refusal (connection, "POST", "/ui/logout", BN_WEBUI_LOGGED,
                                 BR_REASON_UNAUTHORIZED, "not logged in", NULL);
    if (!bn_webui_csrf_valid (session, connection))
        return bn_reply_refusal (connection, "POST", "/ui/logout", BN_WEBUI_LOGGED,
                                 BR_REASON_FORBIDDEN, "missing or wrong CSRF token (X-CSRF-Token)",
                                 NULL);
    bn_web_logout (self->web, session->id);
    char *expired =
        zsys_sprintf ("%s=%s; Max-Age=0", BN_WEB_COOKIE, bn_web_cookie_attributes (self->web));
    enum MHD_Result result =
        s_web_send (connection, MHD_HTTP_OK, "{}", 2, "application/json", expired, NULL);
    zstr_free (&expired);
    return result;
}

enum MHD_Result
bn_webui_answer (bn_webui_t *self, struct MHD_Connection *connection, const char *url,
                 const char *method, uint8_t *body, size_t body_size)
{
    assert (self && bn_webui_path (url));
    bool get = streq (method, "GET"), post = streq (method, "POST");
    if (get && (streq (url, "/") || streq (url, "/ui")))
        return s_web_send (connection, MHD_HTTP_FOUND, "", 0, NULL, NULL, "/ui/");
    if (get && streq (url, "/ui/session")) {
        const bn_web_session_t *session = bn_webui_session (self, connection);
        if (session)
            return s_web_session_answer (self, connection, session, false);
        return bn_reply_refusal (connection, method, url, BN_WEBUI_LOGGED, BR_REASON_UNAUTHORIZED,
                                 "not logged in", NULL);
    }
    if (post && streq (url, "/ui/login"))
        return s_answer_login (self, connection, body, body_size);
    if (post && streq (url, "/ui/logout"))
        return s_answer_logout (self, connection);
    if (strncmp (url, "/ui/admin/", 10) == 0)
        return s_answer_admin (self, connection, url, method, body, body_size);
    br_reason_t reason = BR_REASON_NOT_FOUND;
    if (get && strncmp (url, "/ui/", 4) == 0) {
        zchunk_t *data = NULL;
        const char *type = NULL;
        reason = bn_web_file (self->web, url + 4, &data, &type);
        if (reason == BR_REASON_OK) {
            enum MHD_Result result = s_web_send (connection, MHD_HTTP_OK, zchunk_data (data),
                                                 zchunk_size (data), type, NULL, NULL);
            zchunk_destroy (&data);
            return result;
        }
    }
    return bn_reply_refusal (connection, method, url, BN_WEBUI_LOGGED, reason, "no such page",
                             NULL);
}

void
bn_webui_test (bool verbose)
{
    if (verbose)
        printf (" * bn_webui: ");
    //  @selftest
    //  The web interface's paths: "/", "/ui" and all under "/ui/"
    assert (bn_webui_path ("/") && bn_webui_path ("/ui") && bn_webui_path ("/ui/"));
    assert (bn_webui_path ("/ui/admin/users") && bn_webui_path ("/ui/app.js"));
    assert (!bn_webui_path ("/uix") && !bn_webui_path ("/v1/cases") && !bn_webui_path (""));
    assert (!bn_webui_path ("/UI/") && !bn_webui_path ("//ui"));

    //  Offices: a JSON list of codes to bn_tokens' text, and back
    char offices[BN_TOKENS_OFFICES_SIZE];
    json_t *body = json_pack ("{s[ss]}", "offices", "jobcenter", "fruehe-hilfen");
    assert (s_offices_of (body, offices) && streq (offices, "jobcenter,fruehe-hilfen"));
    json_t *list = s_offices_json (offices);
    assert (json_equal (list, json_object_get (body, "offices")));
    json_decref (list);
    json_decref (body);
    list = s_offices_json ("");
    assert (json_is_array (list) && json_array_size (list) == 0);
    json_decref (list);
    body = json_pack ("{s[]}", "offices");
    assert (s_offices_of (body, offices) && streq (offices, ""));
    json_decref (body);
    //  Refused: missing, not a list, not text, a comma inside, too many
    const char *refused[] = {"{}", "{\"offices\": \"jobcenter\"}", "{\"offices\": [1]}",
                             "{\"offices\": [\"a,b\"]}", NULL};
    for (size_t index = 0; refused[index]; index++) {
        body = json_loads (refused[index], 0, NULL);
        assert (body && !s_offices_of (body, offices));
        json_decref (body);
    }
    list = json_array ();
    for (int index = 0; index <= BN_ROUTES_OFFICES_MAX; index++)
        json_array_append_new (list, json_string ("jobcenter"));
    body = json_pack ("{so}", "offices", list);
    assert (!s_offices_of (body, offices));
    json_decref (body);
    //  @end
    if (verbose)
        printf ("OK\n");
}
