/*  =========================================================================
    bn_vault - the node's data key: seals case records at rest

    Every record of casework (cases, consents, referrals, transfers, signed
    forms, emergency accesses) is stored sealed with this key (libsodium's
    XChaCha20-Poly1305, a fresh random nonce per record, its table and id as
    associated data), so the LMDB files hold no personal data in clear and
    a record moved to another place does not open. The key lives in its own file, mode 0600, apart
   from the node identity: losing it loses the records; backing it up is the operator's job
   (deploy/enroll.md).

    Key file (ZPL):
        data-key
            secret = "<64 hex digits>"
    =========================================================================
*/

#ifndef BN_VAULT_H_INCLUDED
#define BN_VAULT_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"

#define BN_VAULT_KEY_SIZE     32        //  secretbox key
#define BN_VAULT_OVERHEAD     (24 + 16) //  nonce + MAC
#define BN_VAULT_KEY_FILE_MAX 1024      //  largest key file

typedef struct _bn_vault_t bn_vault_t;

//  Loads the data key from `path`. If the file does not exist and `create`
//  is true, makes a new key and writes it (0600, never replacing a file).
//  Refuses a file readable by group or others (KEY_PERMISSIONS) and a
//  malformed one (KEY_INVALID). Returns NULL and *reason on failure.
bn_vault_t *bn_vault_load (const char *path, bool create, br_reason_t *reason);

//  Wipes the key and nulls the pointer. Safe to call twice.
void bn_vault_destroy (bn_vault_t **self_p);

//  Seals `size` bytes bound to `context` (what and where the record is,
//  e.g. its table and id): XChaCha20-Poly1305 with `context` as associated
//  data, so that a sealed record opens only in its own place; moved to
//  another id or table it does not open. Returns a new chunk (a version
//  byte, the nonce, then the box) the caller owns.
#define BN_VAULT_BOUND_OVERHEAD (1 + 24 + 16)
zchunk_t *bn_vault_seal (bn_vault_t *self, const void *context, size_t context_size,
                         const void *plain, size_t size);

//  Opens what bn_vault_seal sealed for `context`. Returns OK and a new
//  chunk in *plain_p (the caller wipes and frees it), or DECRYPT_FAILED.
br_reason_t bn_vault_open (bn_vault_t *self, const void *context, size_t context_size,
                           const void *sealed, size_t size, zchunk_t **plain_p) BR_WUR;

//  Opens a record sealed before records were bound to their place
//  (secretbox: nonce, then box; casework schema 2 and before), for the
//  migration. Returns as bn_vault_open.
br_reason_t bn_vault_open_unbound (bn_vault_t *self, const void *sealed, size_t size,
                                   zchunk_t **plain_p) BR_WUR;

//  Seals as records were sealed before (for tests of the migration).
zchunk_t *bn_vault_seal_unbound (bn_vault_t *self, const void *plain, size_t size);

//  A keyed digest of `size` bytes into `mac`: BLAKE2b under a key derived
//  from the data key for `use` (a name of the one use), so that it tells
//  whether two inputs were the same, and nothing else without the key.
#define BN_VAULT_TAG_SIZE 16
void bn_vault_mac (bn_vault_t *self, const char *use, const void *data, size_t size,
                   uint8_t mac[BN_VAULT_TAG_SIZE]);

//  The digest of a search term for the audit log (bn_vault_mac for that
//  use), as hex of 2 * BN_VAULT_TAG_SIZE digits into `hex`.
void bn_vault_tag (bn_vault_t *self, const void *data, size_t size,
                   char hex[2 * BN_VAULT_TAG_SIZE + 1]);

//  Self test of this class.
void bn_vault_test (bool verbose);

#endif
