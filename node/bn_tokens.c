/*  =========================================================================
    bn_tokens - the node JSON API's bearer tokens, stored as argon2id hashes
    =========================================================================
*/

#include "bruecke.h"
#include "bn_tokens.h"
#include "bn_routes.h"
#include <sys/file.h>

//  Size of a cache key: keyed BLAKE2b of a whole token.
#define S_DIGEST_SIZE crypto_generichash_BYTES

//  One line of the token file.
typedef struct {
    char name[BN_TOKENS_NAME_MAX + 1];    //  the token's name
    char role[BN_TOKENS_ROLE_MAX + 1];    //  its role
    char hash[crypto_pwhash_STRBYTES];    //  argon2id hash string of the whole token
    char offices[BN_TOKENS_OFFICES_SIZE]; //  offices it acts for, comma-separated ("" none)
} s_entry_t;

//  What identifies one version of the token file.
typedef struct {
    bool present;          //  the file exists
    dev_t device;          //  its device
    ino_t inode;           //  its inode
    off_t size;            //  its size
    mode_t mode;           //  its mode
    struct timespec mtime; //  last modification
    struct timespec ctime; //  last status change
} s_stamp_t;

struct _bn_tokens_t {
    char *path;                                     //  the token file
    zhashx_t *entries;                              //  name -> s_entry_t (owned)
    zhashx_t *cache;                                //  hex digest -> s_entry_t (borrowed)
    uint8_t cache_key[crypto_generichash_KEYBYTES]; //  random key for the cache digests
    s_stamp_t stamp;                                //  the file version last read
};

static const char *s_roles[] = {BN_TOKENS_ROLE_CASEWORKER, BN_TOKENS_ROLE_INTEGRATION,
                                BN_TOKENS_ROLE_READONLY};
static const char *s_web_roles[] = {BN_TOKENS_ROLE_SACHBEARBEITUNG, BN_TOKENS_ROLE_LEITUNG,
                                    BN_TOKENS_ROLE_ADMINISTRATION};

static bool
s_role_in (const char *role, const char **roles, size_t count)
{
    for (size_t index = 0; role && index < count; index++)
        if (streq (role, roles[index]))
            return true;
    return false;
}

bool
bn_tokens_role_valid (const char *role)
{
    return s_role_in (role, s_roles, sizeof (s_roles) / sizeof (s_roles[0]));
}

bool
bn_tokens_web_role_valid (const char *role)
{
    return s_role_in (role, s_web_roles, sizeof (s_web_roles) / sizeof (s_web_roles[0]));
}

bool
bn_tokens_offices_valid (const char *role, const char *offices)
{
    if (!offices || strlen (offices) >= BN_TOKENS_OFFICES_SIZE ||
        !bn_routes_offices_valid (offices))
        return false;
    //  The town's case software acts for one office; the others for none or more
    return !role || !streq (role, BN_TOKENS_ROLE_INTEGRATION) ||
           (*offices && !strchr (offices, ','));
}

static void
s_entry_destroy (void **item_p)
{
    free (*item_p);
    *item_p = NULL;
}

static zhashx_t *
s_entries_new (void)
{
    zhashx_t *entries = zhashx_new ();
    zhashx_set_destructor (entries, s_entry_destroy);
    return entries;
}

static void
s_stamp_from (s_stamp_t *stamp, const struct stat *status)
{
    memset (stamp, 0, sizeof (*stamp));
    stamp->present = true;
    stamp->device = status->st_dev;
    stamp->inode = status->st_ino;
    stamp->size = status->st_size;
    stamp->mode = status->st_mode;
    stamp->mtime = status->st_mtim;
    stamp->ctime = status->st_ctim;
}

static bool
s_stamp_equal (const s_stamp_t *one, const s_stamp_t *other)
{
    return one->present == other->present && one->device == other->device &&
           one->inode == other->inode && one->size == other->size && one->mode == other->mode &&
           one->mtime.tv_sec == other->mtime.tv_sec && one->mtime.tv_nsec == other->mtime.tv_nsec &&
           one->ctime.tv_sec == other->ctime.tv_sec && one->ctime.tv_nsec == other->ctime.tv_nsec;
}

//  Parses the token file's text (NUL-terminated) into `entries`. Returns OK
//  or CONFIG_INVALID.
static br_reason_t
s_parse (char *text, zhashx_t *entries)
{
    char *saved_line = NULL;
    for (char *line = strtok_r (text, "\n", &saved_line); line;
         line = strtok_r (NULL, "\n", &saved_line)) {
        char *saved_field = NULL;
        char *name = strtok_r (line, " \t\r", &saved_field);
        if (!name || *name == '#')
            continue;
        char *role = strtok_r (NULL, " \t\r", &saved_field);
        char *hash = strtok_r (NULL, " \t\r", &saved_field);
        char *offices = strtok_r (NULL, " \t\r", &saved_field);
        if (!role || !hash || strtok_r (NULL, " \t\r", &saved_field))
            return BR_REASON_CONFIG_INVALID;
        //  A line from before offices acts for none, whatever its role: it
        //  must not make the whole file unusable
        if (!offices)
            offices = "";
        if (!br_token_valid (name, BN_TOKENS_NAME_MAX) ||
            (*offices && !bn_tokens_offices_valid (role, offices)) ||
            !(bn_tokens_role_valid (role) || bn_tokens_web_role_valid (role)) ||
            strncmp (hash, crypto_pwhash_argon2id_STRPREFIX,
                     strlen (crypto_pwhash_argon2id_STRPREFIX)) != 0 ||
            strlen (hash) >= crypto_pwhash_STRBYTES || zhashx_lookup (entries, name))
            return BR_REASON_CONFIG_INVALID;
        s_entry_t *entry = (s_entry_t *) zmalloc (sizeof (s_entry_t));
        strcpy (entry->name, name);
        strcpy (entry->role, role);
        strcpy (entry->hash, hash);
        strcpy (entry->offices, offices);
        zhashx_insert (entries, name, entry);
    }
    return BR_REASON_OK;
}

//  Checks an open token file and reads it into `entries`; `status` is its
//  fstat. Sets *ends_line (if given) to whether the file is empty or ends
//  with a newline. Returns OK, KEY_PERMISSIONS, TOO_LARGE, CONFIG_INVALID or
//  IO_ERROR.
static br_reason_t
s_read_open (int handle, const struct stat *status, zhashx_t *entries, bool *ends_line)
{
    if (!S_ISREG (status->st_mode))
        return BR_REASON_IO_ERROR;
    if (status->st_mode & 077)
        return BR_REASON_KEY_PERMISSIONS;
    if ((uint64_t) status->st_size > BN_TOKENS_FILE_MAX)
        return BR_REASON_TOO_LARGE;
    size_t size = (size_t) status->st_size;
    char *text = (char *) zmalloc (size + 1);
    size_t filled = 0;
    while (filled < size) {
        ssize_t got = pread (handle, text + filled, size - filled, (off_t) filled);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        filled += (size_t) got;
    }
    br_reason_t reason = BR_REASON_IO_ERROR;
    if (filled == size) {
        if (ends_line)
            *ends_line = size == 0 || text[size - 1] == '\n';
        reason = s_parse (text, entries);
    }
    free (text);
    return reason;
}

//  Reads the token file into `entries` and its version into `stamp`. A
//  missing file is an empty one.
static br_reason_t
s_load (const char *path, zhashx_t *entries, s_stamp_t *stamp)
{
    memset (stamp, 0, sizeof (*stamp));
    int handle = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (handle < 0)
        return errno == ENOENT ? BR_REASON_OK : BR_REASON_IO_ERROR;
    struct stat status;
    br_reason_t reason = BR_REASON_IO_ERROR;
    if (fstat (handle, &status) == 0) {
        s_stamp_from (stamp, &status);
        reason = s_read_open (handle, &status, entries, NULL);
    }
    close (handle);
    return reason;
}

bn_tokens_t *
bn_tokens_new (const char *path, br_reason_t *reason)
{
    assert (path && reason);
    zhashx_t *entries = s_entries_new ();
    s_stamp_t stamp;
    *reason = s_load (path, entries, &stamp);
    if (*reason != BR_REASON_OK) {
        zhashx_destroy (&entries);
        return NULL;
    }
    bn_tokens_t *self = (bn_tokens_t *) zmalloc (sizeof (bn_tokens_t));
    self->path = strdup (path);
    self->entries = entries;
    self->cache = zhashx_new ();
    self->stamp = stamp;
    randombytes_buf (self->cache_key, sizeof (self->cache_key));
    return self;
}

bool
bn_tokens_present (bn_tokens_t *self)
{
    assert (self);
    return self->stamp.present;
}

void
bn_tokens_destroy (bn_tokens_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        bn_tokens_t *self = *self_p;
        zhashx_destroy (&self->cache);
        zhashx_destroy (&self->entries);
        sodium_memzero (self->cache_key, sizeof (self->cache_key));
        free (self->path);
        free (self);
        *self_p = NULL;
    }
}

//  Reads the file again if it has changed since it was last read. A file
//  that cannot be used leaves no tokens (fail closed).
static void
s_refresh (bn_tokens_t *self)
{
    s_stamp_t now;
    struct stat status;
    if (stat (self->path, &status) == 0)
        s_stamp_from (&now, &status);
    else {
        memset (&now, 0, sizeof (now));
        if (errno != ENOENT) {
            //  cannot tell: refuse everything, and look again next time
            zhashx_purge (self->cache);
            zhashx_purge (self->entries);
            self->stamp.present = false;
            self->stamp.inode = (ino_t) -1;
            return;
        }
    }
    if (s_stamp_equal (&now, &self->stamp))
        return;
    zhashx_purge (self->cache);
    zhashx_purge (self->entries);
    s_stamp_t loaded;
    br_reason_t reason = s_load (self->path, self->entries, &loaded);
    if (reason != BR_REASON_OK) {
        zhashx_purge (self->entries);
        zsys_error ("api: token file %s unusable (%s): every request is refused until it is "
                    "fixed",
                    self->path, br_reason_name (reason));
        //  remember what we saw so the error is logged once per change
        self->stamp = now;
    } else {
        self->stamp = loaded;
        zsys_info ("api: token file read again: %zu token(s)", zhashx_size (self->entries));
    }
}

br_reason_t
bn_tokens_check (bn_tokens_t *self, const char *token, const char **name, const char **role)
{
    assert (self && name && role);
    *name = NULL;
    *role = NULL;
    s_refresh (self);
    if (!token)
        return BR_REASON_UNAUTHORIZED;
    size_t length = strnlen (token, BN_TOKENS_TEXT_MAX + 1);
    if (length > BN_TOKENS_TEXT_MAX)
        return BR_REASON_UNAUTHORIZED;

    uint8_t digest[S_DIGEST_SIZE];
    crypto_generichash (digest, sizeof (digest), (const uint8_t *) token, length, self->cache_key,
                        sizeof (self->cache_key));
    char key[2 * S_DIGEST_SIZE + 1];
    br_hex_encode (digest, sizeof (digest), key);
    s_entry_t *entry = (s_entry_t *) zhashx_lookup (self->cache, key);
    if (!entry) {
        //  only the entry the token names is tried: one argon2id per check
        const char *dot = strchr (token, '.');
        if (!dot || dot == token || (size_t) (dot - token) > BN_TOKENS_NAME_MAX)
            return BR_REASON_UNAUTHORIZED;
        char entry_name[BN_TOKENS_NAME_MAX + 1];
        memcpy (entry_name, token, (size_t) (dot - token));
        entry_name[dot - token] = '\0';
        entry = (s_entry_t *) zhashx_lookup (self->entries, entry_name);
        if (!entry || crypto_pwhash_str_verify (entry->hash, token, length) != 0)
            return BR_REASON_UNAUTHORIZED;
        zhashx_insert (self->cache, key, entry);
    }
    *name = entry->name;
    *role = entry->role;
    return BR_REASON_OK;
}

const char *
bn_tokens_offices (bn_tokens_t *self, const char *name)
{
    assert (self);
    s_refresh (self);
    s_entry_t *entry = name ? (s_entry_t *) zhashx_lookup (self->entries, name) : NULL;
    return entry ? entry->offices : NULL;
}

size_t
bn_tokens_list (bn_tokens_t *self, bn_tokens_entry_fn *entry, void *argument)
{
    assert (self && entry);
    s_refresh (self);
    for (s_entry_t *item = (s_entry_t *) zhashx_first (self->entries); item;
         item = (s_entry_t *) zhashx_next (self->entries))
        entry (argument, item->name, item->role, item->offices);
    return zhashx_size (self->entries);
}

const char *
bn_tokens_path (bn_tokens_t *self)
{
    assert (self);
    return self->path;
}

//  Rewrites the file at `path` (atomically, under the lock s_add takes)
//  without the line of entry `name`, or with its offices set to `offices`
//  if that is not NULL. Returns OK, MALFORMED, NOT_FOUND, or what reading
//  or writing the file fails with.
static br_reason_t
s_rewrite (const char *path, const char *name, const char *offices)
{
    if (!name || !br_token_valid (name, BN_TOKENS_NAME_MAX))
        return BR_REASON_MALFORMED;
    int handle = open (path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (handle < 0)
        return errno == ENOENT ? BR_REASON_NOT_FOUND : BR_REASON_IO_ERROR;
    br_reason_t reason = BR_REASON_IO_ERROR;
    struct stat status;
    zhashx_t *entries = s_entries_new ();
    if (flock (handle, LOCK_EX) == 0 && fstat (handle, &status) == 0)
        reason = s_read_open (handle, &status, entries, NULL);
    s_entry_t *changed = (s_entry_t *) zhashx_lookup (entries, name);
    if (reason == BR_REASON_OK && !changed)
        reason = BR_REASON_NOT_FOUND;
    if (reason == BR_REASON_OK && offices && !bn_tokens_offices_valid (changed->role, offices))
        reason = BR_REASON_MALFORMED;
    zchunk_t *kept = NULL;
    if (reason == BR_REASON_OK) {
        //  Every other line, comments included, in their order
        kept = br_file_read (path, BN_TOKENS_FILE_MAX, &reason);
        if (kept) {
            zchunk_t *text = zchunk_new (NULL, 0);
            char *copy = strndup ((const char *) zchunk_data (kept), zchunk_size (kept));
            char *saved = NULL;
            for (char *line = strtok_r (copy, "\n", &saved); line;
                 line = strtok_r (NULL, "\n", &saved)) {
                size_t length = strlen (name);
                if (strncmp (line, name, length) == 0 &&
                    (line[length] == ' ' || line[length] == '\t')) {
                    if (!offices)
                        continue;
                    char *replaced = zsys_sprintf ("%s %s %s%s%s", changed->name, changed->role,
                                                   changed->hash, *offices ? " " : "", offices);
                    zchunk_extend (text, replaced, strlen (replaced));
                    zstr_free (&replaced);
                } else
                    zchunk_extend (text, line, strlen (line));
                zchunk_extend (text, "\n", 1);
            }
            free (copy);
            reason = br_file_write (path, zchunk_data (text), zchunk_size (text), 0600, true);
            zchunk_destroy (&text);
            zchunk_destroy (&kept);
        }
    }
    zhashx_destroy (&entries);
    close (handle);
    return reason;
}

br_reason_t
bn_tokens_remove (const char *path, const char *name)
{
    assert (path);
    return s_rewrite (path, name, NULL);
}

br_reason_t
bn_tokens_set_offices (const char *path, const char *name, const char *offices)
{
    assert (path);
    if (!offices)
        return BR_REASON_MALFORMED;
    return s_rewrite (path, name, offices);
}

size_t
bn_tokens_size (bn_tokens_t *self)
{
    assert (self);
    return zhashx_size (self->entries);
}

//  Flushes the directory holding `path`, so a newly created file survives.
static void
s_sync_directory (const char *path)
{
    char *copy = strdup (path);
    char *slash = strrchr (copy, '/');
    const char *directory = ".";
    if (slash == copy)
        directory = "/";
    else if (slash) {
        *slash = '\0';
        directory = copy;
    }
    int handle = open (directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (handle >= 0) {
        if (fsync (handle) != 0)
            zsys_warning ("api: cannot flush directory %s", directory);
        close (handle);
    }
    free (copy);
}

//  Writes all of `size` bytes; returns false on failure.
static bool
s_write_all (int handle, const char *data, size_t size)
{
    while (size > 0) {
        ssize_t written = write (handle, data, size);
        if (written < 0 && errno == EINTR)
            continue;
        if (written <= 0)
            return false;
        data += written;
        size -= (size_t) written;
    }
    return true;
}

//  Makes a token for `name` (with `password` as its secret, or a random
//  one if NULL), its hash, and the file line. Returns OK or IO_ERROR (out
//  of memory for argon2id).
static br_reason_t
s_make_token (const char *name, const char *role, const char *offices, const char *password,
              bool newline_first, char **token, char **line)
{
    if (password)
        *token = zsys_sprintf ("%s.%s", name, password);
    else {
        uint8_t secret[BN_TOKENS_SECRET_SIZE];
        char secret_text[sodium_base64_ENCODED_LEN (BN_TOKENS_SECRET_SIZE,
                                                    sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
        randombytes_buf (secret, sizeof (secret));
        sodium_bin2base64 (secret_text, sizeof (secret_text), secret, sizeof (secret),
                           sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        assert (strlen (secret_text) == BN_TOKENS_SECRET_TEXT);
        *token = zsys_sprintf ("%s.%s", name, secret_text);
        sodium_memzero (secret, sizeof (secret));
        sodium_memzero (secret_text, sizeof (secret_text));
    }

    char hash[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str_alg (hash, *token, strlen (*token), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                               crypto_pwhash_MEMLIMIT_INTERACTIVE,
                               crypto_pwhash_ALG_ARGON2ID13) != 0) {
        sodium_memzero (*token, strlen (*token));
        zstr_free (token);
        return BR_REASON_IO_ERROR;
    }
    *line = zsys_sprintf ("%s%s %s %s%s%s\n", newline_first ? "\n" : "", name, role, hash,
                          *offices ? " " : "", offices);
    return BR_REASON_OK;
}

//  Adds an entry for `name` with `role`, `offices` and `password` (NULL: a
//  new random token, returned in *token) to the file at `path`.
static br_reason_t
s_add (const char *path, const char *name, const char *role, const char *offices,
       const char *password, char **token)
{
    *token = NULL;
    bool created = true;
    int handle = open (path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (handle < 0 && errno == EEXIST) {
        created = false;
        handle = open (path, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
    }
    if (handle < 0)
        return BR_REASON_IO_ERROR;
    //  one writer at a time: the duplicate check and the append belong together
    br_reason_t reason = BR_REASON_IO_ERROR;
    struct stat status;
    zhashx_t *entries = s_entries_new ();
    bool ends_line = true;
    if (flock (handle, LOCK_EX) == 0 && fstat (handle, &status) == 0)
        reason = s_read_open (handle, &status, entries, &ends_line);
    if (reason == BR_REASON_OK && zhashx_lookup (entries, name))
        reason = BR_REASON_INVALID_STATE;
    zhashx_destroy (&entries);

    char *line = NULL;
    if (reason == BR_REASON_OK)
        reason = s_make_token (name, role, offices, password, !ends_line, token, &line);
    if (reason == BR_REASON_OK && created) {
        const char *header =
            password ? "#   bruecke web users: <name> <role> <argon2id hash of name.password> "
                       "[<offices>]. Mode 0600; the passwords themselves are stored nowhere.\n"
                     : "#   bruecke API tokens: <name> <role> <argon2id hash> [<offices>]. "
                       "Mode 0600; the tokens themselves are stored nowhere.\n";
        if (!s_write_all (handle, header, strlen (header)))
            reason = BR_REASON_IO_ERROR;
    }
    if (reason == BR_REASON_OK && (!s_write_all (handle, line, strlen (line)) || fsync (handle)))
        reason = BR_REASON_IO_ERROR;
    close (handle);
    if (reason == BR_REASON_OK && created)
        s_sync_directory (path);
    zstr_free (&line);
    if (reason != BR_REASON_OK && *token) {
        sodium_memzero (*token, strlen (*token));
        zstr_free (token);
    }
    return reason;
}

br_reason_t
bn_tokens_add (const char *path, const char *name, const char *role, const char *offices,
               char **token)
{
    assert (path && token);
    *token = NULL;
    if (!name || !br_token_valid (name, BN_TOKENS_NAME_MAX) || !bn_tokens_role_valid (role) ||
        !bn_tokens_offices_valid (role, offices))
        return BR_REASON_MALFORMED;
    return s_add (path, name, role, offices, NULL, token);
}

br_reason_t
bn_tokens_add_user (const char *path, const char *name, const char *role, const char *offices,
                    const char *password)
{
    assert (path);
    size_t length = password ? strlen (password) : 0;
    if (!name || !br_token_valid (name, BN_TOKENS_NAME_MAX) || !bn_tokens_web_role_valid (role) ||
        !bn_tokens_offices_valid (role, offices) || length < BN_TOKENS_PASSWORD_MIN ||
        length > BN_TOKENS_PASSWORD_MAX || !br_text_valid (password, BN_TOKENS_PASSWORD_MAX))
        return BR_REASON_MALFORMED;
    char *token = NULL;
    br_reason_t reason = s_add (path, name, role, offices, password, &token);
    if (token) {
        sodium_memzero (token, strlen (token));
        zstr_free (&token);
    }
    return reason;
}

//  @selftest

static void
s_test_listed (void *argument, const char *name, const char *role, const char *offices)
{
    zlistx_add_end ((zlistx_t *) argument, zsys_sprintf ("%s %s %s", name, role, offices));
}

//  Writes `text` to `path` with `mode`, replacing it.
static void
s_test_write (const char *path, const char *text, mode_t mode)
{
    assert (br_file_write (path, text, strlen (text), mode, true) == BR_REASON_OK);
}

//  Returns the token file's text (the caller frees it).
static char *
s_test_read (const char *path)
{
    br_reason_t reason;
    zchunk_t *chunk = br_file_read (path, BN_TOKENS_FILE_MAX, &reason);
    assert (chunk);
    char *text = zchunk_strdup (chunk);
    zchunk_destroy (&chunk);
    return text;
}

void
bn_tokens_test (bool verbose)
{
    if (verbose)
        printf (" * bn_tokens: ");
    char *directory = br_temp_directory ("bn_tokens_test");
    assert (directory);
    char *path = zsys_sprintf ("%s/api-tokens", directory);
    br_reason_t reason;
    const char *name, *role;

    assert (bn_tokens_role_valid ("caseworker") && bn_tokens_role_valid ("integration") &&
            bn_tokens_role_valid ("readonly"));
    assert (!bn_tokens_role_valid ("admin") && !bn_tokens_role_valid (NULL));

    //  A missing file is empty: every token is refused
    bn_tokens_t *tokens = bn_tokens_new (path, &reason);
    assert (tokens && reason == BR_REASON_OK && bn_tokens_size (tokens) == 0);
    assert (bn_tokens_check (tokens, "alice.x", &name, &role) == BR_REASON_UNAUTHORIZED);
    assert (name == NULL && role == NULL);

    //  Adding creates the file, mode 0600, holding the hash but not the token
    char *alice = NULL;
    assert (bn_tokens_add (path, "alice", "caseworker", "", &alice) == BR_REASON_OK);
    assert (alice && strncmp (alice, "alice.", 6) == 0);
    assert (strlen (alice) == 6 + BN_TOKENS_SECRET_TEXT);
    struct stat status;
    assert (stat (path, &status) == 0 && (status.st_mode & 0777) == 0600);
    char *text = s_test_read (path);
    assert (strstr (text, "\nalice caseworker $argon2id$"));
    assert (!strstr (text, alice + 6));
    zstr_free (&text);

    //  Refusals: a duplicate name, an invalid name or role
    char *other = NULL;
    assert (bn_tokens_add (path, "alice", "readonly", "", &other) == BR_REASON_INVALID_STATE);
    assert (other == NULL);
    assert (bn_tokens_add (path, "Alice", "readonly", "", &other) == BR_REASON_MALFORMED);
    assert (bn_tokens_add (path, "a.b", "readonly", "", &other) == BR_REASON_MALFORMED);
    assert (bn_tokens_add (path, "bob", "admin", "", &other) == BR_REASON_MALFORMED);
    assert (bn_tokens_add (path, "abcdefghijabcdefghijabcdefghijabc", "readonly", "", &other) ==
            BR_REASON_MALFORMED);
    assert (other == NULL);

    //  The running set notices the new file
    assert (bn_tokens_check (tokens, alice, &name, &role) == BR_REASON_OK);
    assert (streq (name, "alice") && streq (role, "caseworker"));
    assert (bn_tokens_size (tokens) == 1);
    //  and answers again from its cache
    int64_t start = zclock_usecs ();
    assert (bn_tokens_check (tokens, alice, &name, &role) == BR_REASON_OK);
    if (verbose)
        printf ("(cached check %lld us) ", (long long) (zclock_usecs () - start));
    assert (streq (name, "alice"));

    //  Wrong tokens: another secret, an unknown name, no dot, too long, empty
    char *wrong = strdup (alice);
    wrong[strlen (wrong) - 1] = wrong[strlen (wrong) - 1] == 'A' ? 'B' : 'A';
    assert (bn_tokens_check (tokens, wrong, &name, &role) == BR_REASON_UNAUTHORIZED);
    assert (name == NULL);
    memcpy (wrong, "zzzzz", 5);
    assert (bn_tokens_check (tokens, wrong, &name, &role) == BR_REASON_UNAUTHORIZED);
    zstr_free (&wrong);
    assert (bn_tokens_check (tokens, "alice", &name, &role) == BR_REASON_UNAUTHORIZED);
    assert (bn_tokens_check (tokens, "", &name, &role) == BR_REASON_UNAUTHORIZED);
    assert (bn_tokens_check (tokens, ".abc", &name, &role) == BR_REASON_UNAUTHORIZED);
    assert (bn_tokens_check (tokens, NULL, &name, &role) == BR_REASON_UNAUTHORIZED);
    char long_token[BN_TOKENS_TEXT_MAX + 10];
    memset (long_token, 'a', sizeof (long_token) - 1);
    long_token[sizeof (long_token) - 1] = '\0';
    assert (bn_tokens_check (tokens, long_token, &name, &role) == BR_REASON_UNAUTHORIZED);

    //  A token added while running works at once
    char *reader = NULL;
    assert (bn_tokens_add (path, "desk-reader", "readonly", "", &reader) == BR_REASON_OK);
    assert (bn_tokens_check (tokens, reader, &name, &role) == BR_REASON_OK);
    assert (streq (name, "desk-reader") && streq (role, "readonly"));
    assert (bn_tokens_check (tokens, alice, &name, &role) == BR_REASON_OK);
    assert (bn_tokens_size (tokens) == 2);

    //  A fresh set reads both
    bn_tokens_t *fresh = bn_tokens_new (path, &reason);
    assert (fresh && bn_tokens_size (fresh) == 2);
    assert (bn_tokens_check (fresh, reader, &name, &role) == BR_REASON_OK);
    bn_tokens_destroy (&fresh);

    //  A removed token stops working, although it was cached
    text = s_test_read (path);
    char *cut = strstr (text, "alice caseworker");
    assert (cut);
    char *end = strchr (cut, '\n');
    memmove (cut, end + 1, strlen (end + 1) + 1);
    s_test_write (path, text, 0600);
    zstr_free (&text);
    assert (bn_tokens_check (tokens, alice, &name, &role) == BR_REASON_UNAUTHORIZED);
    assert (bn_tokens_check (tokens, reader, &name, &role) == BR_REASON_OK);
    assert (bn_tokens_size (tokens) == 1);

    //  A file that others may read refuses everything (fail closed)
    assert (chmod (path, 0640) == 0);
    assert (bn_tokens_check (tokens, reader, &name, &role) == BR_REASON_UNAUTHORIZED);
    assert (bn_tokens_new (path, &reason) == NULL && reason == BR_REASON_KEY_PERMISSIONS);
    assert (bn_tokens_add (path, "carol", "integration", "jobcenter", &other) ==
            BR_REASON_KEY_PERMISSIONS);
    assert (other == NULL);
    assert (chmod (path, 0600) == 0);
    assert (bn_tokens_check (tokens, reader, &name, &role) == BR_REASON_OK);

    //  A malformed file is refused, and refuses everything while running
    text = s_test_read (path);
    char *broken = zsys_sprintf ("%sbroken line\n", text);
    s_test_write (path, broken, 0600);
    assert (bn_tokens_check (tokens, reader, &name, &role) == BR_REASON_UNAUTHORIZED);
    assert (bn_tokens_new (path, &reason) == NULL && reason == BR_REASON_CONFIG_INVALID);
    assert (bn_tokens_add (path, "carol", "integration", "jobcenter", &other) ==
            BR_REASON_CONFIG_INVALID);
    zstr_free (&broken);
    broken = zsys_sprintf ("%sdesk-reader readonly $argon2id$x\n", text);
    s_test_write (path, broken, 0600);
    assert (bn_tokens_new (path, &reason) == NULL && reason == BR_REASON_CONFIG_INVALID);
    zstr_free (&broken);
    broken = zsys_sprintf ("%scarol admin $argon2id$x\n", text);
    s_test_write (path, broken, 0600);
    assert (bn_tokens_new (path, &reason) == NULL && reason == BR_REASON_CONFIG_INVALID);
    zstr_free (&broken);

    //  Adding to a file whose last line lacks its newline keeps lines apart
    text[strlen (text) - 1] = '\0';
    s_test_write (path, text, 0600);
    zstr_free (&text);
    char *carol = NULL;
    assert (bn_tokens_add (path, "carol", "integration", "jobcenter", &carol) == BR_REASON_OK);
    assert (bn_tokens_check (tokens, carol, &name, &role) == BR_REASON_OK);
    assert (streq (name, "carol") && streq (role, "integration"));
    assert (bn_tokens_check (tokens, reader, &name, &role) == BR_REASON_OK);

    //  Offices: kept on the line, checked, changed in place; integration has one
    assert (bn_tokens_add (path, "desk-jc", "caseworker", "jobcenter,fruehe-hilfen", &other) ==
            BR_REASON_OK);
    zstr_free (&other);
    assert (streq (bn_tokens_offices (tokens, "desk-jc"), "jobcenter,fruehe-hilfen"));
    assert (streq (bn_tokens_offices (tokens, "carol"), "jobcenter"));
    assert (bn_tokens_offices (tokens, "nobody") == NULL);
    assert (bn_tokens_add (path, "dora", "integration", "", &other) == BR_REASON_MALFORMED);
    assert (bn_tokens_add (path, "dora", "integration", "jobcenter,jugendamt", &other) ==
            BR_REASON_MALFORMED);
    assert (bn_tokens_add (path, "dora", "caseworker", "polizei", &other) == BR_REASON_MALFORMED);
    assert (bn_tokens_add (path, "dora", "caseworker", "jobcenter jugendamt", &other) ==
            BR_REASON_MALFORMED);
    assert (other == NULL);
    assert (bn_tokens_set_offices (path, "desk-jc", "jugendamt") == BR_REASON_OK);
    assert (streq (bn_tokens_offices (tokens, "desk-jc"), "jugendamt"));
    assert (bn_tokens_check (tokens, carol, &name, &role) == BR_REASON_OK); //  others untouched
    assert (bn_tokens_set_offices (path, "carol", "") == BR_REASON_MALFORMED);
    assert (bn_tokens_set_offices (path, "nobody", "jugendamt") == BR_REASON_NOT_FOUND);
    assert (bn_tokens_set_offices (path, "desk-jc", "") == BR_REASON_OK);
    assert (streq (bn_tokens_offices (tokens, "desk-jc"), ""));
    text = s_test_read (path);
    assert (strstr (text, "carol integration $argon2id$") && strstr (text, " jobcenter\n"));
    zstr_free (&text);
    //  A longer list than before: the whole file is kept
    assert (bn_tokens_set_offices (path, "desk-jc", "jugendamt,jobcenter,fruehe-hilfen") ==
            BR_REASON_OK);
    text = s_test_read (path);
    assert (strstr (text, " jugendamt,jobcenter,fruehe-hilfen\n") && strstr (text, " jobcenter\n"));
    assert (bn_tokens_check (tokens, carol, &name, &role) == BR_REASON_OK);
    zstr_free (&text);

    //  A line from before offices, of any role, acts for none; the file stays usable
    text = s_test_read (path);
    char *old_lines =
        zsys_sprintf ("%sold-software integration $argon2id$v=19$m=65536,t=2,p=1$x\n", text);
    s_test_write (path, old_lines, 0600);
    zstr_free (&old_lines);
    zstr_free (&text);
    assert (bn_tokens_check (tokens, carol, &name, &role) == BR_REASON_OK);
    assert (streq (bn_tokens_offices (tokens, "old-software"), ""));

    //  A file that disappears leaves no tokens
    assert (unlink (path) == 0);
    assert (bn_tokens_check (tokens, carol, &name, &role) == BR_REASON_UNAUTHORIZED);
    assert (bn_tokens_size (tokens) == 0);

    bn_tokens_destroy (&tokens);
    bn_tokens_destroy (&tokens);

    //  Web users: name and password, web roles only, passwords of 10 bytes on
    assert (bn_tokens_add_user (path, "erika", "sachbearbeitung", "", "Geheim-Passwort-1") ==
            BR_REASON_OK);
    assert (bn_tokens_add_user (path, "erika", "leitung", "", "Anderes-Passwort") ==
            BR_REASON_INVALID_STATE);
    assert (bn_tokens_add_user (path, "kurz", "leitung", "", "zu-kurz") == BR_REASON_MALFORMED);
    assert (bn_tokens_add_user (path, "api", "caseworker", "", "Geheim-Passwort-1") ==
            BR_REASON_MALFORMED);
    tokens = bn_tokens_new (path, &reason);
    assert (tokens);
    assert (bn_tokens_check (tokens, "erika.Geheim-Passwort-1", &name, &role) == BR_REASON_OK);
    assert (streq (name, "erika") && streq (role, "sachbearbeitung"));
    assert (bn_tokens_check (tokens, "erika.Geheim-Passwort-2", &name, &role) ==
            BR_REASON_UNAUTHORIZED);
    //  Listing and removing: the removed user is refused at once
    assert (bn_tokens_add_user (path, "lea", "leitung", "", "Leitung-Passwort-1") == BR_REASON_OK);
    zlistx_t *listed = zlistx_new ();
    zlistx_set_destructor (listed, (zlistx_destructor_fn *) zstr_free);
    assert (bn_tokens_list (tokens, s_test_listed, listed) == 2 && zlistx_size (listed) == 2);
    zlistx_destroy (&listed);
    assert (bn_tokens_remove (path, "erika") == BR_REASON_OK);
    assert (bn_tokens_remove (path, "erika") == BR_REASON_NOT_FOUND);
    assert (bn_tokens_remove (path, "Erika!") == BR_REASON_MALFORMED);
    assert (bn_tokens_check (tokens, "erika.Geheim-Passwort-1", &name, &role) ==
            BR_REASON_UNAUTHORIZED);
    assert (bn_tokens_check (tokens, "lea.Leitung-Passwort-1", &name, &role) == BR_REASON_OK);
    assert (streq (bn_tokens_path (tokens), path));
    bn_tokens_destroy (&tokens);
    assert (unlink (path) == 0);

    zstr_free (&alice);
    zstr_free (&reader);
    zstr_free (&carol);
    assert (rmdir (directory) == 0);
    zstr_free (&path);
    zstr_free (&directory);
    //  @end
    if (verbose)
        printf ("OK\n");
}
