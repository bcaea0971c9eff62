/*  =========================================================================
    bn_web - the caseworkers' web interface: logins, sessions, its files

    The node serves its web interface on the same HTTP server as its JSON
    API (bn_api), under /ui/: the pages are plain HTML, CSS and JavaScript
    from a directory (node/web in the source tree), and they use the JSON
    API with a session instead of a bearer token. This class is what the
    HTTP layer needs for that; it does no HTTP itself.

    Users. A file of its own in the format of the API tokens (bn_tokens):
    "<name> <role> <argon2id hash of name.password>", mode 0600, read again
    when it changes; roles sachbearbeitung (works cases), leitung (also
    reports) and administration (users, keys, the audit log). Users are
    added with 'bruecke web-user add'.

    Logins. A wrong name or password is UNAUTHORIZED. After
    BN_WEB_FAILURES_MAX failures for one name within BN_WEB_LOCKOUT_MS, that
    name is locked for BN_WEB_LOCKOUT_MS from the last failure: every login
    for it is TOO_MANY_ATTEMPTS, also with the right password. Failures are
    counted for names that do not exist too, so a lockout tells nothing.

    Sessions. A login opens a session: an id of 32 random bytes (hex), which
    the HTTP layer sets as the cookie BN_WEB_COOKIE (HttpOnly, SameSite=
    Strict, Path=/), and a CSRF token of 32 random bytes (hex), which the
    page gets in the login's answer and must send as the header
    X-CSRF-Token with every change (POST). Sessions live in memory only (a
    restart of the node logs everyone out) and end after BN_WEB_IDLE_MS
    without a request, after BN_WEB_SESSION_MS in all, or at logout.

    Not thread-safe: used by the HTTP thread only.
    =========================================================================
*/

#ifndef BN_WEB_H_INCLUDED
#define BN_WEB_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"
#include "bn_tokens.h"

//  The session cookie's name.
#define BN_WEB_COOKIE "bruecke_session"
//  Failed logins for a name before it is locked, and for how long.
#define BN_WEB_FAILURES_MAX 5
#define BN_WEB_LOCKOUT_MS   (15LL * 60 * 1000)
//  A session ends after this long without a request, and after this long in all.
#define BN_WEB_IDLE_MS    (30LL * 60 * 1000)
#define BN_WEB_SESSION_MS (10LL * 3600 * 1000)
//  Most sessions at once; the oldest goes first.
#define BN_WEB_SESSIONS_MAX 1000
//  Size of a session id and a CSRF token as hex, with the NUL.
#define BN_WEB_SECRET_HEX (2 * 32 + 1)
//  Largest file served.
#define BN_WEB_FILE_MAX (2 * 1024 * 1024)

//  One session, as the HTTP layer sees it.
typedef struct {
    char id[BN_WEB_SECRET_HEX];        //  the cookie's value
    char csrf[BN_WEB_SECRET_HEX];      //  the CSRF token
    char user[BN_TOKENS_NAME_MAX + 1]; //  the user's name
    char role[BN_TOKENS_ROLE_MAX + 1]; //  the user's role
    int64_t created_ms;                //  when the login was
    int64_t last_ms;                   //  the last request
} bn_web_session_t;

typedef struct _bn_web_t bn_web_t;

//  Opens the users file at `users_path` (a missing one counts as empty)
//  and takes the pages from the directory `root`. Returns NULL and sets
//  *reason (as bn_tokens_new; IO_ERROR if `root` is no directory).
bn_web_t *bn_web_new (const char *users_path, const char *root, br_reason_t *reason);

//  Destroys it, ending every session, and nulls the pointer. Safe twice.
void bn_web_destroy (bn_web_t **self_p);

//  Marks the session cookie Secure (sent over HTTPS only): for a node behind
//  a TLS proxy (node/web-secure-cookie). Off by default, for localhost.
void bn_web_set_secure (bn_web_t *self, bool secure);

//  The attributes of the session cookie after its value, e.g.
//  "; HttpOnly; SameSite=Strict; Path=/" (static).
const char *bn_web_cookie_attributes (bn_web_t *self);

//  The users file, for the administration's user management.
bn_tokens_t *bn_web_users (bn_web_t *self);

//  Logs `user` in with `password` at `now_ms`, a time of the monotonic
//  clock (br_clock_ms): sessions and lockouts are timers, which a step of
//  the wall clock must neither end nor prolong. Returns OK and sets
//  *session (valid until the next call on `self`), UNAUTHORIZED or
//  TOO_MANY_ATTEMPTS.
br_reason_t bn_web_login (bn_web_t *self, const char *user, const char *password, int64_t now_ms,
                          const bn_web_session_t **session) BR_WUR;

//  The live session with cookie value `id` at `now_ms`, which counts as a
//  request (the idle time starts again); NULL if there is none or it has
//  ended. Valid until the next call on `self`.
const bn_web_session_t *bn_web_session (bn_web_t *self, const char *id, int64_t now_ms);

//  Ends the session `id`, if there is one.
void bn_web_logout (bn_web_t *self, const char *id);

//  True if `token` is the session's CSRF token (compared in constant time).
bool bn_web_csrf_valid (const bn_web_session_t *session, const char *token);

//  Reads the page file `path` (relative to /ui/, "" for index.html) from
//  the root. Refuses paths with "..", hidden names, or leading slashes
//  (NOT_FOUND, like a missing file). Returns OK with the bytes in *data
//  (the caller's) and the content type in *type (static), NOT_FOUND,
//  TOO_LARGE or IO_ERROR.
br_reason_t bn_web_file (bn_web_t *self, const char *path, zchunk_t **data,
                         const char **type) BR_WUR;

//  Self test of this class.
void bn_web_test (bool verbose);

#endif
