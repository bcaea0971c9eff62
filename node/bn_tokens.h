/*  =========================================================================
    bn_tokens - the node JSON API's bearer tokens, stored as argon2id hashes

    A token is "<name>.<secret>": the token's name ([a-z0-9-], 1 to 32
    characters), a dot, and 32 random bytes in base64url without padding.
    The token file holds one line per token and never the token itself:

        <name> <role> <argon2id hash string of the whole token> [<offices>]

    <offices> are the offices (service codes of the catalogue, e.g.
    "jobcenter,fruehe-hilfen") whose cases the token may work: the node's
    need-to-know (bn_routes). A line without them acts for no office (so a
    file from before offices grants no access to cases until they are set).
    Blank lines and lines starting with '#' are ignored. Roles:
        caseworker   a person using the API (the CLI, a desk application)
        integration  the town's case software, no person at the keyboard;
                     it acts for exactly one office, and names the person
                     it acts for in every call
        readonly     may only read (GET)

    The web interface's users (bn_web) live in a file of their own in the
    same format: a user's "token" is "<name>.<password>", so the line holds
    the argon2id hash of name and password, and the roles are the web
    roles sachbearbeitung, leitung and administration.

    The file must be readable by its owner only (mode 0600), like key files.

    An argon2id check costs about 0.1 s, so a bn_tokens_t caches successful
    checks in memory, keyed by a keyed BLAKE2b hash of the whole token (never
    the token itself). It notices when the file changes (modification time,
    size, inode, mode) and reads it again, clearing the cache, so tokens
    added or removed while the daemon runs take effect at the next request.
    A file that has become unreadable, group- or world-readable, or
    malformed refuses every token until it is fixed (fail closed).

    Not thread-safe: one bn_tokens_t is used by one thread only (the API's
    HTTP thread).
    =========================================================================
*/

#ifndef BN_TOKENS_H_INCLUDED
#define BN_TOKENS_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"

//  Longest token name: [a-z0-9-], 1 to 32 characters.
#define BN_TOKENS_NAME_MAX 32
//  Random bytes in a token's secret.
#define BN_TOKENS_SECRET_SIZE 32
//  Characters of the secret in base64url without padding.
#define BN_TOKENS_SECRET_TEXT 43
//  A web user's password: 10 to 128 bytes of UTF-8.
#define BN_TOKENS_PASSWORD_MIN 10
#define BN_TOKENS_PASSWORD_MAX 128
//  Longest text checked: name, dot, and a secret or password.
#define BN_TOKENS_TEXT_MAX (BN_TOKENS_NAME_MAX + 1 + BN_TOKENS_PASSWORD_MAX)
//  Longest role name.
#define BN_TOKENS_ROLE_MAX 16
//  Size of an entry's office list, with its NUL.
#define BN_TOKENS_OFFICES_SIZE 256
//  Largest token file read.
#define BN_TOKENS_FILE_MAX (1024 * 1024)

//  The roles.
#define BN_TOKENS_ROLE_CASEWORKER  "caseworker"
#define BN_TOKENS_ROLE_INTEGRATION "integration"
#define BN_TOKENS_ROLE_READONLY    "readonly"
//  The roles of the web interface's users (a separate file, see bn_web).
#define BN_TOKENS_ROLE_SACHBEARBEITUNG "sachbearbeitung" //  works cases
#define BN_TOKENS_ROLE_LEITUNG         "leitung"         //  also sees reports
#define BN_TOKENS_ROLE_ADMINISTRATION  "administration"  //  users, keys, audit log

typedef struct _bn_tokens_t bn_tokens_t;

//  Returns true if `role` is one of the API token roles above.
bool bn_tokens_role_valid (const char *role);

//  Returns true if `role` is one of the web interface's roles above.
bool bn_tokens_web_role_valid (const char *role);

//  True if `offices` is a valid office list for `role` (bn_routes): codes
//  of the catalogue, each once; exactly one for integration.
bool bn_tokens_offices_valid (const char *role, const char *offices);

//  Creates a new token named `name` with `role`, acting for `offices` (a
//  comma-separated list, "" for none), and appends its hash to the token
//  file at `path`; creates the file (mode 0600) if it does not exist. On
//  OK sets *token to the token text, which the caller frees (and should
//  wipe): it is shown once and stored nowhere. Returns OK, MALFORMED (name,
//  role or offices invalid), INVALID_STATE (a token of that name exists),
//  KEY_PERMISSIONS (the file is group- or world-accessible), CONFIG_INVALID
//  (the file is malformed), TOO_LARGE or IO_ERROR.
br_reason_t bn_tokens_add (const char *path, const char *name, const char *role,
                           const char *offices, char **token) BR_WUR;

//  Adds web user `name` with `role` (a web role), `offices` and `password`
//  (10 to 128 bytes of text) to the file at `path`, as for a token: the
//  line holds the argon2id hash of "<name>.<password>", which
//  bn_tokens_check then takes. Returns what bn_tokens_add returns.
br_reason_t bn_tokens_add_user (const char *path, const char *name, const char *role,
                                const char *offices, const char *password) BR_WUR;

//  Opens the token file at `path` for checking tokens. A missing file
//  counts as empty (every token is refused until one is added). Returns
//  NULL and sets *reason (KEY_PERMISSIONS, CONFIG_INVALID, TOO_LARGE,
//  IO_ERROR) if the file is unusable.
bn_tokens_t *bn_tokens_new (const char *path, br_reason_t *reason);

//  True if the file existed when last read (a missing file is an empty set).
bool bn_tokens_present (bn_tokens_t *self);

//  Destroys the token set and nulls the pointer. Safe to call twice.
void bn_tokens_destroy (bn_tokens_t **self_p);

//  Checks a token text against the file (reading it again first if it has
//  changed). On OK sets *name and *role to the token's name and role; both
//  stay valid until the next call on `self`. Returns OK or UNAUTHORIZED.
br_reason_t bn_tokens_check (bn_tokens_t *self, const char *token, const char **name,
                             const char **role) BR_WUR;

//  The offices entry `name` acts for ("" none), or NULL if there is no such
//  entry, after reading the file again if it has changed: what an earlier
//  call returned may be gone then, so pass a copy of a name, not the
//  pointer bn_tokens_check gave. Valid until the next call on `self`.
const char *bn_tokens_offices (bn_tokens_t *self, const char *name);

//  Called for each entry of a listing.
typedef void (bn_tokens_entry_fn) (void *argument, const char *name, const char *role,
                                   const char *offices);

//  Calls `entry` with the name, role and offices of every token (or web
//  user) in the file, read again first if it has changed. Returns how many.
size_t bn_tokens_list (bn_tokens_t *self, bn_tokens_entry_fn *entry, void *argument);

//  The file's path.
const char *bn_tokens_path (bn_tokens_t *self);

//  Removes the entry `name` from the file at `path` (rewritten atomically,
//  under the lock bn_tokens_add takes). A running node notices at the next
//  check. Returns OK, MALFORMED, NOT_FOUND, or what reading or writing the
//  file fails with.
br_reason_t bn_tokens_remove (const char *path, const char *name) BR_WUR;

//  Sets the offices of entry `name` in the file at `path`, rewriting it as
//  bn_tokens_remove does. Returns OK, MALFORMED (name or offices invalid
//  for its role), NOT_FOUND, or what reading or writing the file fails with.
br_reason_t bn_tokens_set_offices (const char *path, const char *name, const char *offices) BR_WUR;

//  Returns the number of tokens in the file as last read.
size_t bn_tokens_size (bn_tokens_t *self);

//  Self test of this class.
void bn_tokens_test (bool verbose);

#endif
