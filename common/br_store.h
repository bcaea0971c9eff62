/*  =========================================================================
    br_store - an LMDB environment with bruecke's rules applied

    Opens an environment in its own directory (created 0700) with a generous
    sparse map, clears stale readers on open, and maps LMDB's errors onto
    reason codes: MDB_MAP_FULL and ENOSPC become STORE_FULL, so callers can
    refuse with a retry reason instead of failing. Commits use LMDB's default
    durability (fsync); callers batch writes into few transactions.

    LMDB rules callers must keep: one write transaction at a time per
    environment; never use a store across fork(); a read transaction must
    not outlive the store.
    =========================================================================
*/

#ifndef BR_STORE_H_INCLUDED
#define BR_STORE_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"

#define BR_STORE_DEFAULT_MAPSIZE ((size_t) 8 << 30) //  8 GiB of address space, sparse
#define BR_STORE_MAX_DBS         32                 //  named databases per store
#define BR_STORE_FULL_BELOW      (4 * 1024 * 1024)  //  a failed write with less free is "full"

typedef struct _br_store_t br_store_t;

//  Opens (creating if needed) the store in directory `path` with a map of
//  `mapsize` bytes (0 = BR_STORE_DEFAULT_MAPSIZE). Returns the store, or
//  NULL and sets *reason (IO_ERROR, STORE_FAILED).
br_store_t *br_store_new (const char *path, size_t mapsize, br_reason_t *reason);

//  Closes the store and nulls the pointer. Safe to call twice.
void br_store_destroy (br_store_t **self_p);

//  The LMDB environment, for callers that need it directly.
MDB_env *br_store_env (br_store_t *self);

//  Opens or creates the named database `name` (in its own write
//  transaction). Returns OK and the handle in *dbi, or a reason.
br_reason_t br_store_open_db (br_store_t *self, const char *name, unsigned int flags,
                              MDB_dbi *dbi) BR_WUR;

//  A named database to open with br_store_open_dbs.
typedef struct {
    const char *name; //  its name in the environment
    MDB_dbi *dbi;     //  where its handle goes
} br_store_db_t;

//  Opens or creates each of `count` named databases (br_store_open_db).
//  Returns OK, or the reason the first one that failed gives.
br_reason_t br_store_open_dbs (br_store_t *self, const br_store_db_t *dbs, size_t count) BR_WUR;

//  Begins a transaction, read-only or read-write. Returns OK or a reason.
br_reason_t br_store_begin (br_store_t *self, bool writable, MDB_txn **txn_p) BR_WUR;

//  Commits and nulls *txn_p (aborting it if the commit fails). Returns OK
//  only once the commit is durable; STORE_FULL or STORE_FAILED otherwise.
br_reason_t br_store_commit (MDB_txn **txn_p) BR_WUR;

//  Aborts and nulls *txn_p. Safe with a NULL transaction.
void br_store_abort (MDB_txn **txn_p);

//  Stores a value. Returns OK, STORE_FULL or STORE_FAILED.
br_reason_t br_store_put (MDB_txn *txn, MDB_dbi dbi, const void *key, size_t key_size,
                          const void *value, size_t value_size, unsigned int flags) BR_WUR;

//  Reads a value; *value_p points into the map and stays valid until the
//  transaction ends. Returns OK, NOT_FOUND or STORE_FAILED.
br_reason_t br_store_get (MDB_txn *txn, MDB_dbi dbi, const void *key, size_t key_size,
                          const void **value_p, size_t *value_size) BR_WUR;

//  Reads the 8-byte big-endian number under `key` into *value. Returns OK,
//  NOT_FOUND (*value 0), AUDIT_BROKEN if what is stored there is not 8
//  bytes, or STORE_FAILED.
br_reason_t br_store_get_u64 (MDB_txn *txn, MDB_dbi dbi, const void *key, size_t key_size,
                              uint64_t *value) BR_WUR;

//  Reads the 8-byte counter stored under `name` in `dbi` (in its own read
//  transaction) into *value; a counter never stored reads as 1. Returns OK
//  or a store reason.
br_reason_t br_store_counter_get (br_store_t *self, MDB_dbi dbi, const char *name,
                                  uint64_t *value) BR_WUR;

//  Stores `value` as the 8-byte counter `name` in `dbi`.
br_reason_t br_store_counter_put (MDB_txn *txn, MDB_dbi dbi, const char *name,
                                  uint64_t value) BR_WUR;

//  Entries in database `dbi`, as of now; 0 if it cannot be read.
size_t br_store_count (br_store_t *self, MDB_dbi dbi);

//  Maps an LMDB or errno return code to a reason code.
br_reason_t br_store_reason (int rc);

//  Self test of this class.
void br_store_test (bool verbose);

#endif
