/*  =========================================================================
    bn_reply - the node's HTTP answers in JSON, and each request's log line
    =========================================================================
*/

#include "bruecke.h"
#include "bn_reply.h"
#include "bn_api.h"

//  Longest path text logged.
#define S_LOG_PATH_MAX 160
//  Length of an id in a path: 16 bytes as hex.
#define S_ID_HEX 32

//  Path words of the API (node/openapi.yaml), logged as they are.
static const char *s_path_words[] = {
    "v1",       "status",   "cases",      "consents", "withdraw",  "referrals",   "transfers",
    "transfer", "accept",   "decline",    "events",   "audit",     "verify",      "exchange",
    "topics",   "board",    "offers",     "requests", "items",     "submissions", "agreements",
    "schedule", "complete", "cancel",     "ledger",   "reports",   "ui",          "admin",
    "users",    "tokens",   "remove",     "login",    "logout",    "session",     "notes",
    "close",    "reopen",   "follow-ups", "offices",  "directory", "emergency",   "approve",
    "end",      "form"};

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

void
bn_reply_log (const char *method, const char *url, int status, const char *user)
{
    char path[S_LOG_PATH_MAX + 1];
    s_log_path (url, path);
    zsys_info ("api: %s %s %d %s", s_log_method (method), path, status, *user ? user : "-");
}

enum MHD_Result
bn_reply_json (struct MHD_Connection *connection, int status, json_t *json, const char *allow)
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

enum MHD_Result
bn_reply_refusal (struct MHD_Connection *connection, const char *method, const char *url,
                  const char *user, br_reason_t reason, const char *detail, const char *allow)
{
    int status = bn_api_http_status (reason);
    json_t *answer = json_object ();
    json_object_set_new (answer, "error", json_string (br_reason_name (reason)));
    json_t *text = json_string (detail);
    json_object_set_new (answer, "detail", text ? text : json_string (""));
    bn_reply_log (method, url, status, user);
    enum MHD_Result result = bn_reply_json (connection, status, answer, allow);
    json_decref (answer);
    return result;
}

void
bn_reply_test (bool verbose)
{
    if (verbose)
        printf (" * bn_reply: ");
    //  @selftest
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
    s_log_path ("/ui/admin/users/Erika/remove", logged);
    assert (streq (logged, "/ui/admin/users/*/remove"));
    s_log_path ("/v1/cases?name=Erika", logged);
    assert (streq (logged, "/v1/*"));
    //  A long path is cut short with dots, as many as there is room for
    char *long_path = zsys_sprintf ("/v1%0400d", 0);
    for (size_t index = 3; index < strlen (long_path); index += 3)
        long_path[index] = '/';
    s_log_path (long_path, logged);
    assert (strlen (logged) <= S_LOG_PATH_MAX && strncmp (logged, "/v1/*/*/", 8) == 0);
    assert (logged[strlen (logged) - 1] == '.');
    zstr_free (&long_path);
    //  Methods: the usual ones, else OTHER
    assert (streq (s_log_method ("PATCH"), "PATCH"));
    assert (streq (s_log_method ("BREW"), "OTHER"));
    //  @end
    if (verbose)
        printf ("OK\n");
}
