/*  =========================================================================
    br_store - an LMDB environment with bruecke's rules applied

    The environment is opened with MDB_NOTLS (transactions are tied to their
    handle, not to a thread, so actors may hand read transactions around)
    and with none of the flags that trade safety for speed: no MDB_WRITEMAP
    (a sparse writable map on a full disk raises SIGBUS instead of an error),
    no MDB_NOSYNC (commits are durable), no MDB_NOMEMINIT (freed pages may
    hold personal data).
    =========================================================================
*/

#include "br_store.h"
#include "br_util.h"

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <unistd.h>

//  Mode of a store directory that we create: owner only.
#define S_DIR_MODE 0700

struct _br_store_t {
    MDB_env *env; //  the LMDB environment
    char *path;   //  the directory holding data.mdb and lock.mdb
    pid_t pid;    //  the process that opened the environment
};

//  Returns true if `rc` is one of LMDB's own error codes, not an errno.
static bool
s_is_lmdb_error (int rc)
{
    return rc >= MDB_KEYEXIST && rc <= MDB_LAST_ERRCODE;
}

//  Creates `path` as a directory with mode S_DIR_MODE unless it exists.
//  Returns 0, or -1 with errno set.
static int
s_dir_ensure (const char *path)
{
    if (mkdir (path, S_DIR_MODE) == 0)
        return 0;
    if (errno != EEXIST)
        return -1;
    struct stat info;
    if (stat (path, &info) != 0)
        return -1;
    if (!S_ISDIR (info.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

br_store_t *
br_store_new (const char *path, size_t mapsize, br_reason_t *reason)
{
    assert (path);
    assert (reason);
    if (mapsize == 0)
        mapsize = BR_STORE_DEFAULT_MAPSIZE;

    if (s_dir_ensure (path) != 0) {
        zsys_error ("br_store: cannot create directory %s: %s", path, strerror (errno));
        *reason = BR_REASON_IO_ERROR;
        return NULL;
    }
    br_store_t *self = (br_store_t *) zmalloc (sizeof (br_store_t));
    assert (self);
    self->path = strdup (path);
    assert (self->path);
    self->pid = getpid ();

    int rc = mdb_env_create (&self->env);
    if (rc == MDB_SUCCESS)
        rc = mdb_env_set_mapsize (self->env, mapsize);
    if (rc == MDB_SUCCESS)
        rc = mdb_env_set_maxdbs (self->env, BR_STORE_MAX_DBS);
    if (rc == MDB_SUCCESS)
        rc = mdb_env_open (self->env, path, MDB_NOTLS, 0600);
    if (rc == MDB_SUCCESS) {
        int dead_readers = 0;
        rc = mdb_reader_check (self->env, &dead_readers);
        if (rc == MDB_SUCCESS && dead_readers > 0)
            zsys_info ("br_store: cleared %d stale readers in %s", dead_readers, path);
    }
    if (rc != MDB_SUCCESS) {
        zsys_error ("br_store: cannot open %s: %s", path, mdb_strerror (rc));
        //  An errno (EACCES, ENOENT, ...) is the file system's problem;
        //  LMDB's own codes (MDB_INVALID, MDB_VERSION_MISMATCH, ...) the store's.
        *reason = s_is_lmdb_error (rc) ? BR_REASON_STORE_FAILED : BR_REASON_IO_ERROR;
        br_store_destroy (&self);
        return NULL;
    }
    *reason = BR_REASON_OK;
    return self;
}

void
br_store_destroy (br_store_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        br_store_t *self = *self_p;
        //  A child after fork() must not close the parent's environment:
        //  that would release the parent's reader slots and locks.
        if (self->env && self->pid == getpid ())
            mdb_env_close (self->env);
        free (self->path);
        free (self);
        *self_p = NULL;
    }
}

MDB_env *
br_store_env (br_store_t *self)
{
    assert (self);
    return self->env;
}

br_reason_t
br_store_open_db (br_store_t *self, const char *name, unsigned int flags, MDB_dbi *dbi)
{
    assert (self);
    assert (dbi);
    MDB_txn *txn = NULL;
    br_reason_t reason = br_store_begin (self, true, &txn);
    if (reason != BR_REASON_OK)
        return reason;
    int rc = mdb_dbi_open (txn, name, flags | MDB_CREATE, dbi);
    if (rc != MDB_SUCCESS) {
        zsys_error ("br_store: cannot open database %s in %s: %s", name ? name : "(main)",
                    self->path, mdb_strerror (rc));
        br_store_abort (&txn);
        return br_store_reason (rc);
    }
    return br_store_commit (&txn);
}

br_reason_t
br_store_open_dbs (br_store_t *self, const br_store_db_t *dbs, size_t count)
{
    assert (self && dbs);
    br_reason_t reason = BR_REASON_OK;
    for (size_t index = 0; index < count && reason == BR_REASON_OK; index++)
        reason = br_store_open_db (self, dbs[index].name, 0, dbs[index].dbi);
    return reason;
}

br_reason_t
br_store_begin (br_store_t *self, bool writable, MDB_txn **txn_p)
{
    assert (self);
    assert (txn_p);
    assert (*txn_p == NULL);         //  or the caller would lose a transaction
    assert (self->pid == getpid ()); //  never use a store across fork()
    int rc = mdb_txn_begin (self->env, NULL, writable ? 0 : MDB_RDONLY, txn_p);
    if (rc != MDB_SUCCESS) {
        *txn_p = NULL;
        return br_store_reason (rc);
    }
    return BR_REASON_OK;
}

//  True if the file system holding `env` has less than BR_STORE_FULL_BELOW
//  bytes free for us.
static bool
s_disk_full (MDB_env *env)
{
    const char *path = NULL;
    struct statvfs info;
    if (mdb_env_get_path (env, &path) != 0 || !path || statvfs (path, &info) != 0)
        return false;
    return (uint64_t) info.f_bavail * info.f_frsize < BR_STORE_FULL_BELOW;
}

br_reason_t
br_store_commit (MDB_txn **txn_p)
{
    assert (txn_p);
    assert (*txn_p);
    //  mdb_txn_commit frees the transaction whether it succeeds or not
    //  (on failure it aborts it itself), so it must not be aborted again.
    MDB_env *env = mdb_txn_env (*txn_p);
    int rc = mdb_txn_commit (*txn_p);
    *txn_p = NULL;
    if (rc == MDB_SUCCESS)
        return BR_REASON_OK;
    //  LMDB reports a short write on a full disk as EIO: ask the disk
    bool full = s_disk_full (env);
    zsys_warning ("br_store: commit failed: %s%s", mdb_strerror (rc),
                  full ? " (the disk is full)" : "");
    return full ? BR_REASON_STORE_FULL : br_store_reason (rc);
}

void
br_store_abort (MDB_txn **txn_p)
{
    assert (txn_p);
    if (*txn_p) {
        mdb_txn_abort (*txn_p);
        *txn_p = NULL;
    }
}

br_reason_t
br_store_put (MDB_txn *txn, MDB_dbi dbi, const void *key, size_t key_size, const void *value,
              size_t value_size, unsigned int flags)
{
    assert (txn);
    assert (key || key_size == 0);
    assert (value || value_size == 0);
    MDB_val key_val = {.mv_size = key_size, .mv_data = (void *) key};
    MDB_val data_val = {.mv_size = value_size, .mv_data = (void *) value};
    int rc = mdb_put (txn, dbi, &key_val, &data_val, flags);
    return br_store_reason (rc);
}

br_reason_t
br_store_get (MDB_txn *txn, MDB_dbi dbi, const void *key, size_t key_size, const void **value_p,
              size_t *value_size)
{
    assert (txn);
    assert (key || key_size == 0);
    assert (value_p);
    assert (value_size);
    MDB_val key_val = {.mv_size = key_size, .mv_data = (void *) key};
    MDB_val data_val = {0};
    int rc = mdb_get (txn, dbi, &key_val, &data_val);
    if (rc != MDB_SUCCESS) {
        *value_p = NULL;
        *value_size = 0;
        return br_store_reason (rc);
    }
    *value_p = data_val.mv_data;
    *value_size = data_val.mv_size;
    return BR_REASON_OK;
}

br_reason_t
br_store_get_u64 (MDB_txn *txn, MDB_dbi dbi, const void *key, size_t key_size, uint64_t *value)
{
    assert (value);
    *value = 0;
    const void *data;
    size_t size;
    br_reason_t reason = br_store_get (txn, dbi, key, key_size, &data, &size);
    if (reason != BR_REASON_OK)
        return reason;
    if (size != sizeof (uint64_t))
        return BR_REASON_AUDIT_BROKEN;
    *value = br_get_u64 ((const uint8_t *) data);
    return BR_REASON_OK;
}

br_reason_t
br_store_counter_get (br_store_t *self, MDB_dbi dbi, const char *name, uint64_t *value)
{
    assert (self && name && value);
    MDB_txn *txn = NULL;
    br_reason_t reason = br_store_begin (self, false, &txn);
    if (reason != BR_REASON_OK)
        return reason;
    const void *data;
    size_t size;
    reason = br_store_get (txn, dbi, name, strlen (name), &data, &size);
    *value = 1;
    if (reason == BR_REASON_OK && size == 8)
        *value = br_get_u64 ((const uint8_t *) data);
    else if (reason == BR_REASON_OK)
        reason = BR_REASON_STORE_FAILED;
    else if (reason == BR_REASON_NOT_FOUND)
        reason = BR_REASON_OK;
    br_store_abort (&txn);
    return reason;
}

br_reason_t
br_store_counter_put (MDB_txn *txn, MDB_dbi dbi, const char *name, uint64_t value)
{
    assert (txn && name);
    uint8_t bytes[8];
    br_put_u64 (bytes, value);
    return br_store_put (txn, dbi, name, strlen (name), bytes, sizeof (bytes), 0);
}

size_t
br_store_count (br_store_t *self, MDB_dbi dbi)
{
    assert (self);
    MDB_txn *txn = NULL;
    size_t count = 0;
    if (br_store_begin (self, false, &txn) == BR_REASON_OK) {
        MDB_stat stat;
        if (mdb_stat (txn, dbi, &stat) == 0)
            count = stat.ms_entries;
        br_store_abort (&txn);
    }
    return count;
}

br_reason_t
br_store_reason (int rc)
{
    switch (rc) {
        case MDB_SUCCESS:
            return BR_REASON_OK;
        case MDB_NOTFOUND:
            return BR_REASON_NOT_FOUND;
        case MDB_MAP_FULL:
        case ENOSPC:
        case EDQUOT:
            return BR_REASON_STORE_FULL;
        default:
            return BR_REASON_STORE_FAILED;
    }
}

//  --------------------------------------------------------------------------
//  Selftest helpers

//  Makes a fresh temporary directory; returns its path (caller frees).
static char *
s_test_tempdir (void)
{
    char *path = br_temp_directory ("br_store_test");
    assert (path);
    return path;
}

//  Removes a directory tree made by the selftest.
static void
s_test_remove_tree (const char *path)
{
    zdir_t *dir = zdir_new (path, NULL);
    assert (dir);
    zdir_remove (dir, true);
    zdir_destroy (&dir);
    struct stat info;
    assert (stat (path, &info) != 0 && errno == ENOENT);
}

//  Writes one key/value pair in its own transaction.
static br_reason_t
s_test_put_one (br_store_t *store, MDB_dbi dbi, const char *key, const void *value,
                size_t value_size)
{
    MDB_txn *txn = NULL;
    br_reason_t reason = br_store_begin (store, true, &txn);
    if (reason != BR_REASON_OK)
        return reason;
    reason = br_store_put (txn, dbi, key, strlen (key), value, value_size, 0);
    if (reason != BR_REASON_OK) {
        br_store_abort (&txn);
        return reason;
    }
    reason = br_store_commit (&txn);
    assert (txn == NULL);
    return reason;
}

//  Returns true if `key` holds exactly `expected` (a string, without NUL).
static bool
s_test_has (br_store_t *store, MDB_dbi dbi, const char *key, const char *expected)
{
    MDB_txn *txn = NULL;
    br_reason_t reason = br_store_begin (store, false, &txn);
    assert (reason == BR_REASON_OK);
    const void *value = NULL;
    size_t value_size = 0;
    reason = br_store_get (txn, dbi, key, strlen (key), &value, &value_size);
    bool same = reason == BR_REASON_OK && value_size == strlen (expected) &&
                memcmp (value, expected, value_size) == 0;
    br_store_abort (&txn);
    return same;
}

void
br_store_test (bool verbose)
{
    if (verbose)
        printf (" * br_store: ");
    //  @selftest
    char *tempdir = s_test_tempdir ();
    char *path = zsys_sprintf ("%s/store", tempdir);
    assert (path);
    br_reason_t reason = BR_REASON_OK;

    //  Reason mapping
    assert (br_store_reason (MDB_SUCCESS) == BR_REASON_OK);
    assert (br_store_reason (MDB_NOTFOUND) == BR_REASON_NOT_FOUND);
    assert (br_store_reason (MDB_MAP_FULL) == BR_REASON_STORE_FULL);
    assert (br_store_reason (ENOSPC) == BR_REASON_STORE_FULL);
    assert (br_store_reason (EDQUOT) == BR_REASON_STORE_FULL);
    assert (br_store_reason (MDB_CORRUPTED) == BR_REASON_STORE_FAILED);
    assert (br_store_reason (EIO) == BR_REASON_STORE_FAILED);

    //  Open creates the directory, owner only
    br_store_t *store = br_store_new (path, 0, &reason);
    assert (store);
    assert (reason == BR_REASON_OK);
    assert (br_store_env (store));
    struct stat info;
    assert (stat (path, &info) == 0);
    assert (S_ISDIR (info.st_mode));
    assert ((info.st_mode & 0777) == S_DIR_MODE);

    MDB_dbi dbi;
    assert (br_store_open_db (store, "cases", 0, &dbi) == BR_REASON_OK);
    MDB_dbi first = 0, second = 0;
    const br_store_db_t dbs[] = {{"first", &first}, {"second", &second}};
    assert (br_store_open_dbs (store, dbs, 2) == BR_REASON_OK);
    assert (first != second && first != dbi && second != dbi);

    //  Put, get, overwrite, not found
    assert (s_test_put_one (store, dbi, "alpha", "one", 3) == BR_REASON_OK);
    assert (s_test_has (store, dbi, "alpha", "one"));
    assert (s_test_put_one (store, dbi, "alpha", "uno", 3) == BR_REASON_OK);
    assert (s_test_has (store, dbi, "alpha", "uno"));
    assert (s_test_put_one (store, dbi, "beta", "two", 3) == BR_REASON_OK);

    MDB_txn *txn = NULL;
    assert (br_store_begin (store, false, &txn) == BR_REASON_OK);
    assert (txn);
    const void *value = (const void *) &value;
    size_t value_size = 1;
    assert (br_store_get (txn, dbi, "gamma", 5, &value, &value_size) == BR_REASON_NOT_FOUND);
    assert (value == NULL && value_size == 0);
    br_store_abort (&txn);
    assert (txn == NULL);
    br_store_abort (&txn); //  safe with NULL

    //  An aborted write leaves nothing behind
    assert (br_store_begin (store, true, &txn) == BR_REASON_OK);
    assert (br_store_put (txn, dbi, "delta", 5, "four", 4, 0) == BR_REASON_OK);
    br_store_abort (&txn);
    assert (!s_test_has (store, dbi, "delta", "four"));

    //  A read-only transaction refuses writes
    assert (br_store_begin (store, false, &txn) == BR_REASON_OK);
    assert (br_store_put (txn, dbi, "delta", 5, "four", 4, 0) == BR_REASON_STORE_FAILED);
    br_store_abort (&txn);

    //  Several writes in one transaction (group commit)
    assert (br_store_begin (store, true, &txn) == BR_REASON_OK);
    for (int index = 0; index < 100; index++) {
        char key[32];
        snprintf (key, sizeof (key), "batch-%03d", index);
        assert (br_store_put (txn, dbi, key, strlen (key), key, strlen (key), 0) == BR_REASON_OK);
    }
    assert (br_store_commit (&txn) == BR_REASON_OK);
    assert (txn == NULL);
    assert (s_test_has (store, dbi, "batch-042", "batch-042"));

    //  8-byte numbers: read back, absent, or stored with the wrong size
    MDB_dbi numbers;
    assert (br_store_open_db (store, "numbers", 0, &numbers) == BR_REASON_OK);
    assert (br_store_begin (store, true, &txn) == BR_REASON_OK);
    uint8_t eight[8];
    br_put_u64 (eight, 4242);
    assert (br_store_put (txn, numbers, "good", 4, eight, 8, 0) == BR_REASON_OK);
    assert (br_store_put (txn, numbers, "short", 5, eight, 7, 0) == BR_REASON_OK);
    uint64_t number = 1;
    assert (br_store_get_u64 (txn, numbers, "good", 4, &number) == BR_REASON_OK && number == 4242);
    assert (br_store_get_u64 (txn, numbers, "none", 4, &number) == BR_REASON_NOT_FOUND &&
            number == 0);
    assert (br_store_get_u64 (txn, numbers, "short", 5, &number) == BR_REASON_AUDIT_BROKEN &&
            number == 0);
    br_store_abort (&txn);

    //  Close, destroy twice is safe, reopen: data persisted
    br_store_destroy (&store);
    assert (store == NULL);
    br_store_destroy (&store);
    store = br_store_new (path, 0, &reason);
    assert (store);
    assert (reason == BR_REASON_OK);
    assert (br_store_open_db (store, "cases", 0, &dbi) == BR_REASON_OK);
    assert (s_test_has (store, dbi, "alpha", "uno"));
    assert (s_test_has (store, dbi, "beta", "two"));
    assert (s_test_has (store, dbi, "batch-099", "batch-099"));
    br_store_destroy (&store);

    //  A path that is a file, not a directory, is an I/O error
    char *file_path = zsys_sprintf ("%s/not-a-dir", tempdir);
    assert (file_path);
    FILE *file = fopen (file_path, "w");
    assert (file);
    fclose (file);
    store = br_store_new (file_path, 0, &reason);
    assert (store == NULL);
    assert (reason == BR_REASON_IO_ERROR);
    assert (unlink (file_path) == 0);
    zstr_free (&file_path);

    //  A tiny map fills up: STORE_FULL, and what was committed stays readable
    char *small_path = zsys_sprintf ("%s/small", tempdir);
    assert (small_path);
    size_t small_mapsize = 32 * (size_t) sysconf (_SC_PAGESIZE);
    br_store_t *small = br_store_new (small_path, small_mapsize, &reason);
    assert (small);
    assert (reason == BR_REASON_OK);
    MDB_dbi small_dbi;
    assert (br_store_open_db (small, "queue", 0, &small_dbi) == BR_REASON_OK);
    char payload[1024];
    memset (payload, 'x', sizeof (payload));
    int committed = 0;
    while (true) {
        char key[32];
        snprintf (key, sizeof (key), "message-%05d", committed);
        reason = s_test_put_one (small, small_dbi, key, payload, sizeof (payload));
        if (reason != BR_REASON_OK)
            break;
        committed++;
        assert (committed < 10000); //  the map must fill long before this
    }
    assert (reason == BR_REASON_STORE_FULL);
    assert (br_reason_retry (reason));
    assert (committed > 0);
    //  Every committed message is still there and intact
    assert (br_store_begin (small, false, &txn) == BR_REASON_OK);
    for (int index = 0; index < committed; index++) {
        char key[32];
        snprintf (key, sizeof (key), "message-%05d", index);
        assert (br_store_get (txn, small_dbi, key, strlen (key), &value, &value_size) ==
                BR_REASON_OK);
        assert (value_size == sizeof (payload));
        assert (memcmp (value, payload, sizeof (payload)) == 0);
    }
    br_store_abort (&txn);
    //  A small write after the failure still fits in the freed pages or
    //  fails cleanly; either way the store keeps serving reads
    reason = s_test_put_one (small, small_dbi, "tiny", "t", 1);
    assert (reason == BR_REASON_OK || reason == BR_REASON_STORE_FULL);
    br_store_destroy (&small);
    //  Reopened with a larger map, the store takes writes again
    small = br_store_new (small_path, 4 * small_mapsize, &reason);
    assert (small);
    assert (br_store_open_db (small, "queue", 0, &small_dbi) == BR_REASON_OK);
    assert (s_test_put_one (small, small_dbi, "after-grow", "ok", 2) == BR_REASON_OK);
    assert (s_test_has (small, small_dbi, "after-grow", "ok"));
    assert (br_store_begin (small, false, &txn) == BR_REASON_OK);
    assert (br_store_get (txn, small_dbi, "message-00000", 13, &value, &value_size) ==
            BR_REASON_OK);
    assert (value_size == sizeof (payload));
    br_store_abort (&txn);
    br_store_destroy (&small);
    zstr_free (&small_path);

    s_test_remove_tree (tempdir);
    zstr_free (&path);
    zstr_free (&tempdir);
    //  @end
    if (verbose)
        printf ("OK\n");
}
