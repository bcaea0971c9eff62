/*  =========================================================================
    bn_vault - the node's data key: seals case records at rest
    =========================================================================
*/

#include "bruecke.h"
#include "bn_vault.h"

#include <sys/stat.h>

struct _bn_vault_t {
    uint8_t *key; //  secretbox key, in sodium_malloc'd memory
};

static bn_vault_t *
s_vault_new (const uint8_t key[BN_VAULT_KEY_SIZE])
{
    bn_vault_t *self = (bn_vault_t *) zmalloc (sizeof (bn_vault_t));
    self->key = (uint8_t *) sodium_malloc (BN_VAULT_KEY_SIZE);
    assert (self->key);
    memcpy (self->key, key, BN_VAULT_KEY_SIZE);
    return self;
}

//  Writes a new key file. Returns OK or IO_ERROR.
static br_reason_t
s_create (const char *path, uint8_t key[BN_VAULT_KEY_SIZE])
{
    crypto_secretbox_keygen (key);
    char hex[2 * BN_VAULT_KEY_SIZE + 1];
    br_hex_encode (key, BN_VAULT_KEY_SIZE, hex);
    char *text =
        zsys_sprintf ("#   bruecke node data key: seals case records at rest.\n"
                      "#   Keep it secret and back it up: without it the records are lost.\n"
                      "data-key\n    secret = \"%s\"\n",
                      hex);
    br_reason_t reason = br_file_write (path, text, strlen (text), 0600, false);
    sodium_memzero (text, strlen (text));
    sodium_memzero (hex, sizeof (hex));
    zstr_free (&text);
    return reason;
}

bn_vault_t *
bn_vault_load (const char *path, bool create, br_reason_t *reason)
{
    assert (path && reason);
    uint8_t key[BN_VAULT_KEY_SIZE];
    struct stat status;
    if (stat (path, &status) != 0) {
        if (!create) {
            *reason = BR_REASON_IO_ERROR;
            return NULL;
        }
        *reason = s_create (path, key);
        bn_vault_t *self = *reason == BR_REASON_OK ? s_vault_new (key) : NULL;
        sodium_memzero (key, sizeof (key));
        return self;
    }
    if (status.st_mode & 077) {
        *reason = BR_REASON_KEY_PERMISSIONS;
        return NULL;
    }
    zchunk_t *file = br_file_read (path, BN_VAULT_KEY_FILE_MAX, reason);
    if (!file)
        return NULL;
    zconfig_t *config = zconfig_chunk_load (file);
    sodium_memzero (zchunk_data (file), zchunk_size (file));
    zchunk_destroy (&file);
    const char *secret = config ? zconfig_get (config, "data-key/secret", NULL) : NULL;
    bn_vault_t *self = NULL;
    if (secret && strlen (secret) == 2 * BN_VAULT_KEY_SIZE &&
        br_hex_decode (secret, key, sizeof (key)) == 0)
        self = s_vault_new (key);
    sodium_memzero (key, sizeof (key));
    if (config) {
        //  Wipe the hex text before the tree goes
        zconfig_t *item = zconfig_locate (config, "data-key/secret");
        char *value = item ? zconfig_value (item) : NULL;
        if (value)
            sodium_memzero (value, strlen (value));
    }
    zconfig_destroy (&config);
    *reason = self ? BR_REASON_OK : BR_REASON_KEY_INVALID;
    return self;
}

void
bn_vault_destroy (bn_vault_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        bn_vault_t *self = *self_p;
        sodium_free (self->key); //  wipes it
        free (self);
        *self_p = NULL;
    }
}

zchunk_t *
bn_vault_seal_unbound (bn_vault_t *self, const void *plain, size_t size)
{
    assert (self && (plain || size == 0));
    zchunk_t *sealed = zchunk_new (NULL, size + BN_VAULT_OVERHEAD);
    uint8_t *nonce = zchunk_data (sealed);
    randombytes_buf (nonce, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy (nonce + crypto_secretbox_NONCEBYTES, (const uint8_t *) plain, size,
                           nonce, self->key);
    zchunk_set (sealed, NULL, size + BN_VAULT_OVERHEAD);
    return sealed;
}

br_reason_t
bn_vault_open_unbound (bn_vault_t *self, const void *sealed, size_t size, zchunk_t **plain_p)
{
    assert (self && plain_p);
    *plain_p = NULL;
    if (!sealed || size < BN_VAULT_OVERHEAD)
        return BR_REASON_DECRYPT_FAILED;
    const uint8_t *nonce = (const uint8_t *) sealed;
    size_t plain_size = size - BN_VAULT_OVERHEAD;
    zchunk_t *plain = zchunk_new (NULL, plain_size + 1); //  room for a terminator
    if (crypto_secretbox_open_easy (zchunk_data (plain), nonce + crypto_secretbox_NONCEBYTES,
                                    size - crypto_secretbox_NONCEBYTES, nonce, self->key) != 0) {
        zchunk_destroy (&plain);
        return BR_REASON_DECRYPT_FAILED;
    }
    zchunk_data (plain)[plain_size] = 0;
    zchunk_set (plain, NULL, plain_size);
    *plain_p = plain;
    return BR_REASON_OK;
}

#define S_BOUND_VERSION 2 //  the first byte of a bound record

zchunk_t *
bn_vault_seal (bn_vault_t *self, const void *context, size_t context_size, const void *plain,
               size_t size)
{
    assert (self && context && (plain || size == 0));
    zchunk_t *sealed = zchunk_new (NULL, size + BN_VAULT_BOUND_OVERHEAD);
    uint8_t *bytes = zchunk_data (sealed);
    bytes[0] = S_BOUND_VERSION;
    uint8_t *nonce = bytes + 1;
    randombytes_buf (nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
    unsigned long long sealed_size = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt (
        nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, &sealed_size, (const uint8_t *) plain,
        size, (const uint8_t *) context, context_size, NULL, nonce, self->key);
    zchunk_set (sealed, NULL, size + BN_VAULT_BOUND_OVERHEAD);
    return sealed;
}

br_reason_t
bn_vault_open (bn_vault_t *self, const void *context, size_t context_size, const void *sealed,
               size_t size, zchunk_t **plain_p)
{
    assert (self && context && plain_p);
    *plain_p = NULL;
    const uint8_t *bytes = (const uint8_t *) sealed;
    if (!sealed || size < BN_VAULT_BOUND_OVERHEAD || bytes[0] != S_BOUND_VERSION)
        return BR_REASON_DECRYPT_FAILED;
    const uint8_t *nonce = bytes + 1;
    size_t plain_size = size - BN_VAULT_BOUND_OVERHEAD;
    zchunk_t *plain = zchunk_new (NULL, plain_size + 1); //  room for a terminator
    unsigned long long opened = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt (
            zchunk_data (plain), &opened, NULL,
            nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
            size - 1 - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, (const uint8_t *) context,
            context_size, nonce, self->key) != 0) {
        zchunk_destroy (&plain);
        return BR_REASON_DECRYPT_FAILED;
    }
    zchunk_data (plain)[plain_size] = 0;
    zchunk_set (plain, NULL, plain_size);
    *plain_p = plain;
    return BR_REASON_OK;
}

void
bn_vault_mac (bn_vault_t *self, const char *use, const void *data, size_t size,
              uint8_t mac[BN_VAULT_TAG_SIZE])
{
    assert (self && use && (data || size == 0) && mac);
    uint8_t subkey[crypto_generichash_KEYBYTES];
    crypto_generichash (subkey, sizeof (subkey), (const uint8_t *) use, strlen (use), self->key,
                        BN_VAULT_KEY_SIZE);
    crypto_generichash (mac, BN_VAULT_TAG_SIZE, (const uint8_t *) data, size, subkey,
                        sizeof (subkey));
    sodium_memzero (subkey, sizeof (subkey));
}

void
bn_vault_tag (bn_vault_t *self, const void *data, size_t size, char hex[2 * BN_VAULT_TAG_SIZE + 1])
{
    uint8_t tag[BN_VAULT_TAG_SIZE];
    bn_vault_mac (self, "bruecke audit term tag", data, size, tag);
    br_hex_encode (tag, sizeof (tag), hex);
}

void
bn_vault_test (bool verbose)
{
    if (verbose)
        printf (" * bn_vault: ");
    //  @selftest
    char *directory = br_temp_directory ("bn_vault");
    assert (directory);
    char *path = zsys_sprintf ("%s/data.key", directory);
    br_reason_t reason;
    assert (bn_vault_load (path, false, &reason) == NULL && reason == BR_REASON_IO_ERROR);
    bn_vault_t *vault = bn_vault_load (path, true, &reason);
    assert (vault && reason == BR_REASON_OK);
    struct stat status;
    assert (stat (path, &status) == 0 && (status.st_mode & 0777) == 0600);

    const char *record = "{\"name\": \"Erika Beispiel\"}"; //  invented
    //  Bound to its place: opens there only
    zchunk_t *bound = bn_vault_seal (vault, "cases/1", 7, record, strlen (record));
    assert (zchunk_size (bound) == strlen (record) + BN_VAULT_BOUND_OVERHEAD);
    assert (!memmem (zchunk_data (bound), zchunk_size (bound), "Erika", 5));
    zchunk_t *opened = NULL;
    assert (bn_vault_open (vault, "cases/1", 7, zchunk_data (bound), zchunk_size (bound),
                           &opened) == BR_REASON_OK);
    assert (streq ((char *) zchunk_data (opened), record));
    zchunk_destroy (&opened);
    assert (bn_vault_open (vault, "cases/2", 7, zchunk_data (bound), zchunk_size (bound),
                           &opened) == BR_REASON_DECRYPT_FAILED);
    assert (bn_vault_open (vault, "consents/1", 10, zchunk_data (bound), zchunk_size (bound),
                           &opened) == BR_REASON_DECRYPT_FAILED);
    assert (opened == NULL);
    assert (bn_vault_open_unbound (vault, zchunk_data (bound), zchunk_size (bound), &opened) ==
            BR_REASON_DECRYPT_FAILED);
    zchunk_destroy (&bound);
    //  The records of before: unbound, opened for the migration
    zchunk_t *sealed = bn_vault_seal_unbound (vault, record, strlen (record));
    assert (zchunk_size (sealed) == strlen (record) + BN_VAULT_OVERHEAD);
    assert (!memmem (zchunk_data (sealed), zchunk_size (sealed), "Erika", 5));
    //  The same key loaded again opens it
    bn_vault_t *again = bn_vault_load (path, true, &reason);
    assert (again);
    zchunk_t *plain = NULL;
    assert (bn_vault_open_unbound (again, zchunk_data (sealed), zchunk_size (sealed), &plain) ==
            BR_REASON_OK);
    assert (zchunk_size (plain) == strlen (record));
    assert (streq ((char *) zchunk_data (plain), record));
    zchunk_destroy (&plain);
    //  A flipped bit or a short record does not open
    zchunk_data (sealed)[30] ^= 1;
    assert (bn_vault_open_unbound (again, zchunk_data (sealed), zchunk_size (sealed), &plain) ==
            BR_REASON_DECRYPT_FAILED);
    assert (plain == NULL);
    assert (bn_vault_open_unbound (again, zchunk_data (sealed), 10, &plain) ==
            BR_REASON_DECRYPT_FAILED);
    zchunk_destroy (&sealed);
    //  Tags: equal for equal text under one key, else different
    char tag[2 * BN_VAULT_TAG_SIZE + 1], other[2 * BN_VAULT_TAG_SIZE + 1];
    bn_vault_tag (vault, "Beispiel", 8, tag);
    bn_vault_tag (again, "Beispiel", 8, other);
    assert (strlen (tag) == 32 && streq (tag, other) && !strstr (tag, "Beispiel"));
    bn_vault_tag (vault, "Beispiel", 7, other);
    assert (!streq (tag, other));
    //  A digest for another use differs for the same bytes
    uint8_t mac[BN_VAULT_TAG_SIZE];
    bn_vault_mac (vault, "another use", "Beispiel", 8, mac);
    br_hex_encode (mac, sizeof (mac), other);
    assert (!streq (tag, other));
    bn_vault_destroy (&again);
    bn_vault_destroy (&vault);
    bn_vault_destroy (&vault);

    //  Loose permissions and a malformed file are refused
    assert (chmod (path, 0640) == 0);
    assert (bn_vault_load (path, true, &reason) == NULL && reason == BR_REASON_KEY_PERMISSIONS);
    char *broken = zsys_sprintf ("%s/broken.key", directory);
    assert (br_file_write (broken, "data-key\n    secret = \"12\"\n", 27, 0600, false) ==
            BR_REASON_OK);
    assert (bn_vault_load (broken, true, &reason) == NULL && reason == BR_REASON_KEY_INVALID);
    unlink (broken);
    unlink (path);
    rmdir (directory);
    zstr_free (&broken);
    zstr_free (&path);
    zstr_free (&directory);
    //  @end
    if (verbose)
        printf ("OK\n");
}
