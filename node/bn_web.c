/*  =========================================================================
    bn_web - the caseworkers' web interface: logins, sessions, its files

    See bn_web.h.
    =========================================================================
*/

#include "bruecke.h"
#include "bn_web.h"
#include <sys/stat.h>

#define S_SECRET_SIZE  32   //  random bytes of a session id and a CSRF token
#define S_FAILURES_MAX 4096 //  names with failed logins remembered at most

//  Failed logins of one name.
typedef struct {
    int count;            //  failures in the current window
    int64_t last_ms;      //  the last failure
    int64_t locked_until; //  locked until then, 0 = not locked
} s_failures_t;

struct _bn_web_t {
    bn_tokens_t *users; //  the users file
    char *root;         //  the pages' directory
    zhashx_t *sessions; //  id -> bn_web_session_t
    zhashx_t *failures; //  name -> s_failures_t
    bool secure;        //  the cookie is Secure
};

static void
s_free (void **item)
{
    free (*item);
    *item = NULL;
}

bn_web_t *
bn_web_new (const char *users_path, const char *root, br_reason_t *reason)
{
    assert (users_path && root && reason);
    struct stat status;
    if (stat (root, &status) != 0 || !S_ISDIR (status.st_mode)) {
        *reason = BR_REASON_IO_ERROR;
        return NULL;
    }
    bn_web_t *self = (bn_web_t *) zmalloc (sizeof (bn_web_t));
    assert (self);
    self->users = bn_tokens_new (users_path, reason);
    if (!self->users) {
        free (self);
        return NULL;
    }
    if (!bn_tokens_present (self->users))
        zsys_warning ("web: no web users file at %s yet; nobody can log in until a user is added "
                      "(bruecke web-user add)",
                      users_path);
    self->root = strdup (root);
    self->sessions = zhashx_new ();
    zhashx_set_destructor (self->sessions, s_free);
    self->failures = zhashx_new ();
    zhashx_set_destructor (self->failures, s_free);
    return self;
}

void
bn_web_destroy (bn_web_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        bn_web_t *self = *self_p;
        for (bn_web_session_t *session = (bn_web_session_t *) zhashx_first (self->sessions);
             session; session = (bn_web_session_t *) zhashx_next (self->sessions))
            sodium_memzero (session, sizeof (*session));
        zhashx_destroy (&self->sessions);
        zhashx_destroy (&self->failures);
        bn_tokens_destroy (&self->users);
        free (self->root);
        free (self);
        *self_p = NULL;
    }
}

void
bn_web_set_secure (bn_web_t *self, bool secure)
{
    assert (self);
    self->secure = secure;
}

const char *
bn_web_cookie_attributes (bn_web_t *self)
{
    assert (self);
    return self->secure ? "; HttpOnly; SameSite=Strict; Path=/; Secure"
                        : "; HttpOnly; SameSite=Strict; Path=/";
}

bn_tokens_t *
bn_web_users (bn_web_t *self)
{
    assert (self);
    return self->users;
}

//  ---- Logins -------------------------------------------------------------------

//  Forgets failures whose window has passed, and the oldest if too many.
static void
s_failures_prune (bn_web_t *self, int64_t now)
{
    zlistx_t *old = zlistx_new ();
    zlistx_set_destructor (old, s_free);
    for (s_failures_t *failures = (s_failures_t *) zhashx_first (self->failures); failures;
         failures = (s_failures_t *) zhashx_next (self->failures))
        if (now - failures->last_ms > BN_WEB_LOCKOUT_MS && failures->locked_until <= now)
            zlistx_add_end (old, strdup ((const char *) zhashx_cursor (self->failures)));
    for (char *name = (char *) zlistx_first (old); name; name = (char *) zlistx_next (old))
        zhashx_delete (self->failures, name);
    zlistx_destroy (&old);
}

static void
s_secret (char text[BN_WEB_SECRET_HEX])
{
    uint8_t bytes[S_SECRET_SIZE];
    randombytes_buf (bytes, sizeof (bytes));
    br_hex_encode (bytes, sizeof (bytes), text);
    sodium_memzero (bytes, sizeof (bytes));
}

//  Removes ended sessions, and the least recently used if there are too many.
static void
s_sessions_prune (bn_web_t *self, int64_t now)
{
    zlistx_t *ended = zlistx_new ();
    zlistx_set_destructor (ended, s_free);
    const char *oldest = NULL;
    int64_t oldest_ms = INT64_MAX;
    for (bn_web_session_t *session = (bn_web_session_t *) zhashx_first (self->sessions); session;
         session = (bn_web_session_t *) zhashx_next (self->sessions)) {
        if (now - session->last_ms > BN_WEB_IDLE_MS ||
            now - session->created_ms > BN_WEB_SESSION_MS)
            zlistx_add_end (ended, strdup (session->id));
        else if (session->last_ms < oldest_ms) {
            oldest_ms = session->last_ms;
            oldest = session->id;
        }
    }
    if (zlistx_size (ended) == 0 && zhashx_size (self->sessions) >= BN_WEB_SESSIONS_MAX && oldest)
        zlistx_add_end (ended, strdup (oldest));
    for (char *id = (char *) zlistx_first (ended); id; id = (char *) zlistx_next (ended))
        bn_web_logout (self, id);
    zlistx_destroy (&ended);
}

br_reason_t
bn_web_login (bn_web_t *self, const char *user, const char *password, int64_t now_ms,
              const bn_web_session_t **session)
{
    assert (self && session);
    *session = NULL;
    if (!user || !password || !br_token_valid (user, BN_TOKENS_NAME_MAX) ||
        strlen (password) > BN_TOKENS_PASSWORD_MAX)
        return BR_REASON_UNAUTHORIZED; //  no name to count failures against
    s_failures_t *failures = (s_failures_t *) zhashx_lookup (self->failures, user);
    if (failures && failures->locked_until > now_ms)
        return BR_REASON_TOO_MANY_ATTEMPTS;
    char *token = zsys_sprintf ("%s.%s", user, password);
    const char *name = NULL, *role = NULL;
    br_reason_t reason = bn_tokens_check (self->users, token, &name, &role);
    sodium_memzero (token, strlen (token));
    zstr_free (&token);
    if (reason == BR_REASON_OK && !bn_tokens_web_role_valid (role))
        reason = BR_REASON_UNAUTHORIZED; //  an API token's role: not a web user
    if (reason != BR_REASON_OK) {
        if (!failures) {
            if (zhashx_size (self->failures) >= S_FAILURES_MAX)
                s_failures_prune (self, now_ms);
            failures = (s_failures_t *) zmalloc (sizeof (s_failures_t));
            zhashx_insert (self->failures, user, failures);
        }
        if (now_ms - failures->last_ms > BN_WEB_LOCKOUT_MS)
            failures->count = 0; //  a new window
        failures->count++;
        failures->last_ms = now_ms;
        if (failures->count >= BN_WEB_FAILURES_MAX) {
            failures->locked_until = now_ms + BN_WEB_LOCKOUT_MS;
            zsys_warning ("web: a user name is locked after %d failed logins", BN_WEB_FAILURES_MAX);
            return BR_REASON_TOO_MANY_ATTEMPTS;
        }
        return BR_REASON_UNAUTHORIZED;
    }
    zhashx_delete (self->failures, user);
    s_sessions_prune (self, now_ms);
    bn_web_session_t *opened = (bn_web_session_t *) zmalloc (sizeof (bn_web_session_t));
    s_secret (opened->id);
    s_secret (opened->csrf);
    snprintf (opened->user, sizeof (opened->user), "%s", name);
    snprintf (opened->role, sizeof (opened->role), "%s", role);
    opened->created_ms = opened->last_ms = now_ms;
    zhashx_insert (self->sessions, opened->id, opened);
    *session = opened;
    return BR_REASON_OK;
}

const bn_web_session_t *
bn_web_session (bn_web_t *self, const char *id, int64_t now_ms)
{
    assert (self);
    if (!id || strlen (id) != BN_WEB_SECRET_HEX - 1)
        return NULL;
    bn_web_session_t *session = (bn_web_session_t *) zhashx_lookup (self->sessions, id);
    if (!session)
        return NULL;
    if (now_ms - session->last_ms > BN_WEB_IDLE_MS ||
        now_ms - session->created_ms > BN_WEB_SESSION_MS) {
        bn_web_logout (self, id);
        return NULL;
    }
    session->last_ms = now_ms;
    return session;
}

void
bn_web_logout (bn_web_t *self, const char *id)
{
    assert (self);
    bn_web_session_t *session = id ? (bn_web_session_t *) zhashx_lookup (self->sessions, id) : NULL;
    if (!session)
        return;
    char key[BN_WEB_SECRET_HEX];
    snprintf (key, sizeof (key), "%s", session->id);
    sodium_memzero (session, sizeof (*session));
    zhashx_delete (self->sessions, key);
}

bool
bn_web_csrf_valid (const bn_web_session_t *session, const char *token)
{
    assert (session);
    return token && strlen (token) == BN_WEB_SECRET_HEX - 1 &&
           sodium_memcmp (token, session->csrf, BN_WEB_SECRET_HEX - 1) == 0;
}

//  ---- Files --------------------------------------------------------------------

static const struct {
    const char *extension;
    const char *type;
} s_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".txt", "text/plain; charset=utf-8"},
};

//  True if `path` is a safe relative path: segments of [A-Za-z0-9._-], none
//  empty, none starting with a dot.
static bool
s_path_safe (const char *path)
{
    if (*path == '/' || strlen (path) > 200)
        return false;
    bool segment_start = true;
    for (const char *cursor = path; *cursor; cursor++) {
        char c = *cursor;
        if (c == '/') {
            if (segment_start)
                return false;
            segment_start = true;
            continue;
        }
        if (segment_start && c == '.')
            return false;
        if (!isalnum ((unsigned char) c) && c != '.' && c != '_' && c != '-')
            return false;
        segment_start = false;
    }
    return !segment_start || !*path;
}

br_reason_t
bn_web_file (bn_web_t *self, const char *path, zchunk_t **data, const char **type)
{
    assert (self && path && data && type);
    *data = NULL;
    *type = NULL;
    if (!*path)
        path = "index.html";
    if (!s_path_safe (path))
        return BR_REASON_NOT_FOUND;
    const char *dot = strrchr (path, '.');
    for (size_t index = 0; dot && index < sizeof (s_types) / sizeof (s_types[0]); index++)
        if (streq (dot, s_types[index].extension))
            *type = s_types[index].type;
    if (!*type)
        return BR_REASON_NOT_FOUND;
    char *full = zsys_sprintf ("%s/%s", self->root, path);
    struct stat status;
    br_reason_t reason = BR_REASON_NOT_FOUND;
    if (stat (full, &status) == 0 && S_ISREG (status.st_mode))
        *data = br_file_read (full, BN_WEB_FILE_MAX, &reason);
    zstr_free (&full);
    if (!*data)
        *type = NULL;
    return *data ? BR_REASON_OK : reason;
}

//  --------------------------------------------------------------------------
//  Selftest

void
bn_web_test (bool verbose)
{
    if (verbose)
        printf (" * bn_web: ");
    //  @selftest
    char *directory = br_temp_directory ("bn_web");
    assert (directory);
    char *users = zsys_sprintf ("%s/web-users", directory);
    char *root = zsys_sprintf ("%s/web", directory);
    assert (mkdir (root, 0700) == 0);
    char *index = zsys_sprintf ("%s/index.html", root);
    assert (br_file_write (index, "<!doctype html>", 15, 0644, false) == BR_REASON_OK);
    assert (bn_tokens_add_user (users, "erika", "sachbearbeitung", "jobcenter",
                                "Geheim-Passwort-1") == BR_REASON_OK);
    br_reason_t reason;
    assert (!bn_web_new (users, "/nowhere/at/all", &reason) && reason == BR_REASON_IO_ERROR);
    bn_web_t *web = bn_web_new (users, root, &reason);
    assert (web);
    int64_t now = 1790000000000LL;

    //  A login opens a session with a CSRF token
    const bn_web_session_t *session = NULL;
    assert (bn_web_login (web, "erika", "Geheim-Passwort-1", now, &session) == BR_REASON_OK);
    assert (session && streq (session->user, "erika") && streq (session->role, "sachbearbeitung"));
    char id[BN_WEB_SECRET_HEX], csrf[BN_WEB_SECRET_HEX];
    strcpy (id, session->id);
    strcpy (csrf, session->csrf);
    assert (strlen (id) == 64 && !streq (id, csrf));
    session = bn_web_session (web, id, now + 1000);
    assert (session && bn_web_csrf_valid (session, csrf));
    assert (!bn_web_csrf_valid (session, id) && !bn_web_csrf_valid (session, NULL) &&
            !bn_web_csrf_valid (session, "abc"));
    assert (!bn_web_session (web, "0123", now) && !bn_web_session (web, NULL, now));
    //  ... ends when idle too long, or at logout
    assert (bn_web_session (web, id, now + 1000 + BN_WEB_IDLE_MS - 1));
    assert (!bn_web_session (web, id, now + 1000 + 2 * BN_WEB_IDLE_MS));
    assert (bn_web_login (web, "erika", "Geheim-Passwort-1", now, &session) == BR_REASON_OK);
    strcpy (id, session->id);
    bn_web_logout (web, id);
    assert (!bn_web_session (web, id, now));

    //  Wrong passwords: four refused, the fifth locks the name, also for the
    //  right password, until the lockout has passed
    for (int attempt = 1; attempt < BN_WEB_FAILURES_MAX; attempt++)
        assert (bn_web_login (web, "erika", "falsch-falsch", now + attempt, &session) ==
                BR_REASON_UNAUTHORIZED);
    assert (bn_web_login (web, "erika", "falsch-falsch", now + 10, &session) ==
            BR_REASON_TOO_MANY_ATTEMPTS);
    assert (bn_web_login (web, "erika", "Geheim-Passwort-1", now + 20, &session) ==
            BR_REASON_TOO_MANY_ATTEMPTS);
    assert (!session);
    assert (bn_web_login (web, "erika", "Geheim-Passwort-1", now + 20 + BN_WEB_LOCKOUT_MS,
                          &session) == BR_REASON_OK);
    //  Unknown names count too; bad names are simply refused
    for (int attempt = 1; attempt <= BN_WEB_FAILURES_MAX; attempt++)
        assert (
            bn_web_login (web, "niemand", "egal-egal-egal", now + attempt, &session) ==
            (attempt < BN_WEB_FAILURES_MAX ? BR_REASON_UNAUTHORIZED : BR_REASON_TOO_MANY_ATTEMPTS));
    assert (bn_web_login (web, "Erika Beispiel", "x", now, &session) == BR_REASON_UNAUTHORIZED);
    assert (bn_web_login (web, NULL, NULL, now, &session) == BR_REASON_UNAUTHORIZED);

    //  Files: index for "", only safe paths, known types
    zchunk_t *data = NULL;
    const char *type = NULL;
    assert (bn_web_file (web, "", &data, &type) == BR_REASON_OK);
    assert (zchunk_size (data) == 15 && streq (type, "text/html; charset=utf-8"));
    zchunk_destroy (&data);
    const char *refused[] = {"../web-users", "/etc/passwd", ".hidden.html",    "a//b.html",
                             "missing.html", "index.exe",   "x/../index.html", "web-users"};
    for (size_t which = 0; which < sizeof (refused) / sizeof (refused[0]); which++) {
        assert (bn_web_file (web, refused[which], &data, &type) == BR_REASON_NOT_FOUND);
        assert (!data && !type);
    }
    assert (!strstr (bn_web_cookie_attributes (web), "Secure"));
    bn_web_set_secure (web, true);
    assert (strstr (bn_web_cookie_attributes (web), "; Secure"));
    bn_web_destroy (&web);
    bn_web_destroy (&web);
    zstr_free (&index);
    zstr_free (&root);
    zstr_free (&users);
    assert (br_temp_directory_remove (&directory));
    //  @end
    if (verbose)
        printf ("OK\n");
}
