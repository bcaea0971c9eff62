/*  =========================================================================
    bn_vault - the node's data key: seals case records at rest

    Every record of casework (cases, consents, referrals, transfers) is
    stored sealed with this key (libsodium secretbox, XSalsa20-Poly1305, a
    fresh random nonce per record), so the LMDB files hold no personal data
    in clear. The key lives in its own file, mode 0600, apart from the node
    identity: losing it loses the records; backing it up is the operator's
    job (deploy/enroll.md).

    Key file (ZPL):
        data-key
            secret = "<64 hex digits>"
    =========================================================================
*/

#ifndef BN_VAULT_H_INCLUDED
#define BN_VAULT_H_INCLUDED

#include "bruecke.h"

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

//  Seals `size` bytes. Returns a new chunk (nonce, then box) the caller owns.
zchunk_t *bn_vault_seal (bn_vault_t *self, const void *plain, size_t size);

//  Opens a sealed record. Returns OK and a new chunk in *plain_p (the
//  caller wipes and frees it), or DECRYPT_FAILED.
br_reason_t bn_vault_open (bn_vault_t *self, const void *sealed, size_t size,
                           zchunk_t **plain_p) BR_WUR;

//  A keyed digest of `size` bytes (BLAKE2b under a key derived from the
//  data key for this one use), as hex of 2 * BN_VAULT_TAG_SIZE digits into
//  `hex`: it tells whether two texts were the same, and nothing else
//  without the key. For search terms in the audit log.
#define BN_VAULT_TAG_SIZE 16
void bn_vault_tag (bn_vault_t *self, const void *data, size_t size,
                   char hex[2 * BN_VAULT_TAG_SIZE + 1]);

//  Self test of this class.
void bn_vault_test (bool verbose);

#endif
