/*  =========================================================================
    br_identity - a node's keys: Ed25519 signing, Curve25519 transport and sealing
    =========================================================================
*/

#include "br_identity.h"

//  Largest identity file we read.
#define S_IDENTITY_FILE_MAX (16 * 1024)

struct _br_identity_t {
    char node_id[BR_NODE_ID_MAX + 1];            //  the node's id
    bool has_secret;                             //  seed and secret keys present
    uint8_t seed[BR_SEED_SIZE];                  //  the one secret everything derives from
    uint8_t sign_public[BR_SIGN_PUBLIC_SIZE];    //  Ed25519 public key
    uint8_t sign_secret[BR_SIGN_SECRET_SIZE];    //  Ed25519 secret key
    uint8_t transport_public[BR_CURVE_KEY_SIZE]; //  CurveZMQ public key
    uint8_t transport_secret[BR_CURVE_KEY_SIZE]; //  CurveZMQ secret key
    uint8_t seal_public[BR_CURVE_KEY_SIZE];      //  crypto_box_seal public key
    uint8_t seal_secret[BR_CURVE_KEY_SIZE];      //  crypto_box_seal secret key
};

static br_identity_t *
s_identity_alloc (const char *node_id)
{
    if (!br_token_valid (node_id, BR_NODE_ID_MAX))
        return NULL;
    br_identity_t *self = (br_identity_t *) zmalloc (sizeof (br_identity_t));
    strcpy (self->node_id, node_id);
    return self;
}

//  Derives the three key pairs from the seed.
static void
s_derive (br_identity_t *self)
{
    uint8_t subkey[32];
    crypto_kdf_derive_from_key (subkey, sizeof (subkey), BR_KDF_SIGN, BR_KDF_CONTEXT, self->seed);
    crypto_sign_seed_keypair (self->sign_public, self->sign_secret, subkey);
    crypto_kdf_derive_from_key (subkey, sizeof (subkey), BR_KDF_TRANSPORT, BR_KDF_CONTEXT,
                                self->seed);
    crypto_box_seed_keypair (self->transport_public, self->transport_secret, subkey);
    crypto_kdf_derive_from_key (subkey, sizeof (subkey), BR_KDF_SEAL, BR_KDF_CONTEXT, self->seed);
    crypto_box_seed_keypair (self->seal_public, self->seal_secret, subkey);
    sodium_memzero (subkey, sizeof (subkey));
    self->has_secret = true;
}

br_identity_t *
br_identity_new_from_seed (const char *node_id, const uint8_t seed[BR_SEED_SIZE])
{
    br_identity_t *self = s_identity_alloc (node_id);
    if (self) {
        memcpy (self->seed, seed, BR_SEED_SIZE);
        s_derive (self);
    }
    return self;
}

br_identity_t *
br_identity_new (const char *node_id)
{
    uint8_t seed[BR_SEED_SIZE];
    randombytes_buf (seed, sizeof (seed));
    br_identity_t *self = br_identity_new_from_seed (node_id, seed);
    sodium_memzero (seed, sizeof (seed));
    return self;
}

void
br_identity_destroy (br_identity_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        sodium_memzero (*self_p, sizeof (br_identity_t));
        free (*self_p);
        *self_p = NULL;
    }
}

//  Reads one hex key of `size` bytes at `path`. Returns 0 or -1.
static int
s_read_key (zconfig_t *config, const char *path, uint8_t *key, size_t size)
{
    return br_hex_decode (zconfig_get (config, path, ""), key, size);
}

//  Reads an identity file; `secret` selects the secret or the public format.
static br_identity_t *
s_load (const char *path, bool secret, br_reason_t *reason)
{
    int handle = open (path, O_RDONLY | O_CLOEXEC);
    if (handle < 0) {
        *reason = BR_REASON_IO_ERROR;
        return NULL;
    }
    struct stat status;
    if (fstat (handle, &status) != 0) {
        close (handle);
        *reason = BR_REASON_IO_ERROR;
        return NULL;
    }
    close (handle);
    if (secret && (status.st_mode & 077)) {
        *reason = BR_REASON_KEY_PERMISSIONS;
        return NULL;
    }
    zchunk_t *chunk = br_file_read (path, S_IDENTITY_FILE_MAX, reason);
    if (!chunk)
        return NULL;
    //  zconfig wants a C string
    char *text = zchunk_strdup (chunk);
    sodium_memzero (zchunk_data (chunk), zchunk_size (chunk));
    zchunk_destroy (&chunk);
    zconfig_t *config = zconfig_str_load (text);
    sodium_memzero (text, strlen (text));
    free (text);

    br_identity_t *self = NULL;
    *reason = BR_REASON_KEY_INVALID;
    if (config)
        self = s_identity_alloc (zconfig_get (config, "identity/node-id", ""));
    if (self && secret) {
        if (s_read_key (config, "identity/seed", self->seed, BR_SEED_SIZE) == 0) {
            s_derive (self);
            *reason = BR_REASON_OK;
        }
    } else if (self) {
        if (s_read_key (config, "identity/sign-public", self->sign_public, BR_SIGN_PUBLIC_SIZE) ==
                0 &&
            s_read_key (config, "identity/transport-public", self->transport_public,
                        BR_CURVE_KEY_SIZE) == 0 &&
            s_read_key (config, "identity/seal-public", self->seal_public, BR_CURVE_KEY_SIZE) == 0)
            *reason = BR_REASON_OK;
    }
    if (config) {
        //  wipe the seed out of the parsed tree before freeing it
        zconfig_t *seed = zconfig_locate (config, "identity/seed");
        if (seed && zconfig_value (seed))
            sodium_memzero (zconfig_value (seed), strlen (zconfig_value (seed)));
        zconfig_destroy (&config);
    }
    if (*reason != BR_REASON_OK)
        br_identity_destroy (&self);
    return self;
}

br_identity_t *
br_identity_load (const char *path, br_reason_t *reason)
{
    return s_load (path, true, reason);
}

br_identity_t *
br_identity_load_public (const char *path, br_reason_t *reason)
{
    return s_load (path, false, reason);
}

br_reason_t
br_identity_save (br_identity_t *self, const char *secret_path, const char *public_path)
{
    assert (self);
    if (!self->has_secret)
        return BR_REASON_KEY_INVALID;
    char seed[2 * BR_SEED_SIZE + 1];
    char sign_public[2 * BR_SIGN_PUBLIC_SIZE + 1];
    char transport_public[2 * BR_CURVE_KEY_SIZE + 1];
    char seal_public[2 * BR_CURVE_KEY_SIZE + 1];
    br_hex_encode (self->seed, BR_SEED_SIZE, seed);
    br_hex_encode (self->sign_public, BR_SIGN_PUBLIC_SIZE, sign_public);
    br_hex_encode (self->transport_public, BR_CURVE_KEY_SIZE, transport_public);
    br_hex_encode (self->seal_public, BR_CURVE_KEY_SIZE, seal_public);

    char *secret_text =
        zsys_sprintf ("#   bruecke node identity: SECRET. Keep mode 0600, never copy.\n"
                      "identity\n"
                      "    node-id = \"%s\"\n"
                      "    seed = \"%s\"\n",
                      self->node_id, seed);
    char *public_text = zsys_sprintf ("#   bruecke node public keys, for enrollment in the roster\n"
                                      "identity\n"
                                      "    node-id = \"%s\"\n"
                                      "    sign-public = \"%s\"\n"
                                      "    transport-public = \"%s\"\n"
                                      "    seal-public = \"%s\"\n",
                                      self->node_id, sign_public, transport_public, seal_public);
    br_reason_t reason = BR_REASON_IO_ERROR;
    if (access (public_path, F_OK) != 0)
        reason = br_file_write (secret_path, secret_text, strlen (secret_text), 0600, false);
    if (reason == BR_REASON_OK)
        reason = br_file_write (public_path, public_text, strlen (public_text), 0644, false);
    sodium_memzero (seed, sizeof (seed));
    sodium_memzero (secret_text, strlen (secret_text));
    zstr_free (&secret_text);
    zstr_free (&public_text);
    return reason;
}

const char *
br_identity_node_id (br_identity_t *self)
{
    assert (self);
    return self->node_id;
}

bool
br_identity_has_secret (br_identity_t *self)
{
    assert (self);
    return self->has_secret;
}

const uint8_t *
br_identity_sign_public (br_identity_t *self)
{
    assert (self);
    return self->sign_public;
}

const uint8_t *
br_identity_transport_public (br_identity_t *self)
{
    assert (self);
    return self->transport_public;
}

const uint8_t *
br_identity_seal_public (br_identity_t *self)
{
    assert (self);
    return self->seal_public;
}

const uint8_t *
br_identity_transport_secret (br_identity_t *self)
{
    assert (self && self->has_secret);
    return self->transport_secret;
}

const uint8_t *
br_identity_seal_secret (br_identity_t *self)
{
    assert (self && self->has_secret);
    return self->seal_secret;
}

void
br_identity_sign (br_identity_t *self, const uint8_t *data, size_t size,
                  uint8_t signature[BR_SIGNATURE_SIZE])
{
    assert (self && self->has_secret);
    crypto_sign_detached (signature, NULL, data, size, self->sign_secret);
}

bool
br_signature_valid (const uint8_t *data, size_t size, const uint8_t signature[BR_SIGNATURE_SIZE],
                    const uint8_t sign_public[BR_SIGN_PUBLIC_SIZE])
{
    return crypto_sign_verify_detached (signature, data, size, sign_public) == 0;
}

void
br_identity_test (bool verbose)
{
    if (verbose)
        printf (" * br_identity: ");
    //  @selftest
    assert (br_identity_new ("Not Valid") == NULL);
    assert (br_identity_new ("") == NULL);

    //  The same seed gives the same keys; the three key pairs differ
    uint8_t seed[BR_SEED_SIZE];
    memset (seed, 0x42, sizeof (seed));
    br_identity_t *first = br_identity_new_from_seed ("luenen", seed);
    br_identity_t *second = br_identity_new_from_seed ("luenen", seed);
    assert (memcmp (br_identity_sign_public (first), br_identity_sign_public (second), 32) == 0);
    assert (memcmp (br_identity_seal_public (first), br_identity_seal_public (second), 32) == 0);
    assert (memcmp (br_identity_seal_public (first), br_identity_transport_public (first), 32) !=
            0);
    br_identity_destroy (&second);
    assert (second == NULL);
    br_identity_destroy (&second);

    //  Sign and verify; a changed byte or another key fails
    const uint8_t text[] = "signed bytes";
    uint8_t signature[BR_SIGNATURE_SIZE];
    br_identity_sign (first, text, sizeof (text), signature);
    assert (br_signature_valid (text, sizeof (text), signature, br_identity_sign_public (first)));
    uint8_t altered[sizeof (text)];
    memcpy (altered, text, sizeof (text));
    altered[0] ^= 1;
    assert (
        !br_signature_valid (altered, sizeof (text), signature, br_identity_sign_public (first)));
    br_identity_t *other = br_identity_new ("unna");
    assert (!br_signature_valid (text, sizeof (text), signature, br_identity_sign_public (other)));

    //  Files: save, load back, public part only
    char *directory = br_temp_directory ("br_identity_test");
    assert (directory);
    char secret_path[PATH_MAX], public_path[PATH_MAX];
    snprintf (secret_path, sizeof (secret_path), "%s/luenen.key", directory);
    snprintf (public_path, sizeof (public_path), "%s/luenen.pub", directory);
    assert (br_identity_save (first, secret_path, public_path) == BR_REASON_OK);
    struct stat status;
    assert (stat (secret_path, &status) == 0 && (status.st_mode & 0777) == 0600);
    assert (stat (public_path, &status) == 0 && (status.st_mode & 0777) == 0644);
    //  No overwrite
    assert (br_identity_save (other, secret_path, public_path) == BR_REASON_IO_ERROR);

    br_reason_t reason;
    br_identity_t *loaded = br_identity_load (secret_path, &reason);
    assert (loaded && reason == BR_REASON_OK);
    assert (streq (br_identity_node_id (loaded), "luenen"));
    assert (memcmp (br_identity_sign_public (loaded), br_identity_sign_public (first), 32) == 0);
    assert (br_identity_has_secret (loaded));
    br_identity_destroy (&loaded);

    br_identity_t *public_only = br_identity_load_public (public_path, &reason);
    assert (public_only && reason == BR_REASON_OK);
    assert (!br_identity_has_secret (public_only));
    assert (memcmp (br_identity_transport_public (public_only),
                    br_identity_transport_public (first), 32) == 0);
    assert (memcmp (br_identity_seal_public (public_only), br_identity_seal_public (first), 32) ==
            0);
    assert (br_identity_save (public_only, secret_path, public_path) == BR_REASON_KEY_INVALID);
    br_identity_destroy (&public_only);

    //  A secret file readable by group or others is refused
    assert (chmod (secret_path, 0640) == 0);
    assert (br_identity_load (secret_path, &reason) == NULL);
    assert (reason == BR_REASON_KEY_PERMISSIONS);
    assert (chmod (secret_path, 0604) == 0);
    assert (br_identity_load (secret_path, &reason) == NULL);
    assert (reason == BR_REASON_KEY_PERMISSIONS);
    assert (chmod (secret_path, 0400) == 0);
    loaded = br_identity_load (secret_path, &reason);
    assert (loaded && reason == BR_REASON_OK);
    br_identity_destroy (&loaded);

    //  Malformed files are KEY_INVALID; a missing one IO_ERROR
    char bad_path[PATH_MAX];
    snprintf (bad_path, sizeof (bad_path), "%s/bad.key", directory);
    const char *bad = "identity\n    node-id = \"luenen\"\n    seed = \"abcd\"\n";
    assert (br_file_write (bad_path, bad, strlen (bad), 0600, false) == BR_REASON_OK);
    assert (br_identity_load (bad_path, &reason) == NULL && reason == BR_REASON_KEY_INVALID);
    unlink (bad_path);
    bad = "identity\n    node-id = \"Bad Id\"\n";
    assert (br_file_write (bad_path, bad, strlen (bad), 0600, false) == BR_REASON_OK);
    assert (br_identity_load (bad_path, &reason) == NULL && reason == BR_REASON_KEY_INVALID);
    assert (br_identity_load_public (bad_path, &reason) == NULL);
    assert (reason == BR_REASON_KEY_INVALID);
    unlink (bad_path);
    snprintf (bad_path, sizeof (bad_path), "%s/missing.key", directory);
    assert (br_identity_load (bad_path, &reason) == NULL && reason == BR_REASON_IO_ERROR);

    unlink (secret_path);
    unlink (public_path);
    rmdir (directory);
    zstr_free (&directory);
    br_identity_destroy (&other);
    br_identity_destroy (&first);
    //  @end
    if (verbose)
        printf ("OK\n");
}
