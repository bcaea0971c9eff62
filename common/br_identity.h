/*  =========================================================================
    br_identity - a node's keys: Ed25519 signing, Curve25519 transport and sealing

    A node's secret is one 32-byte seed; its three key pairs are derived from
    it with crypto_kdf (context "bruecke1", subkeys 1 = signing, 2 = transport
    for CurveZMQ, 3 = sealing for crypto_box_seal). The county key is an
    identity too, named "county", of which only the signing key is used.

    Files are ZPL. The secret file holds the node id and the seed and is
    written 0600; loading refuses it if group or others may read it. The
    public file holds the node id and the three public keys, for enrollment.
    =========================================================================
*/

#ifndef BR_IDENTITY_H_INCLUDED
#define BR_IDENTITY_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"
#include "br_util.h"

#define BR_SEED_SIZE        32 //  the secret seed
#define BR_SIGN_PUBLIC_SIZE 32 //  Ed25519 public key
#define BR_SIGN_SECRET_SIZE 64 //  Ed25519 secret key (libsodium layout)
#define BR_SIGNATURE_SIZE   64 //  Ed25519 detached signature
#define BR_CURVE_KEY_SIZE   32 //  Curve25519 public or secret key
#define BR_KDF_CONTEXT      "bruecke1"
#define BR_KDF_SIGN         1
#define BR_KDF_TRANSPORT    2
#define BR_KDF_SEAL         3

typedef struct _br_identity_t br_identity_t;

//  Creates an identity with a fresh random seed. `node_id` must be a valid
//  token (br_token_valid). Returns NULL if it is not.
br_identity_t *br_identity_new (const char *node_id);

//  Creates an identity from a known seed (tests, test vectors).
br_identity_t *br_identity_new_from_seed (const char *node_id, const uint8_t seed[BR_SEED_SIZE]);

//  Destroys the identity, wiping its secrets, and nulls the pointer.
void br_identity_destroy (br_identity_t **self_p);

//  Loads a secret identity file. Refuses a file that group or others may
//  access (KEY_PERMISSIONS) and a malformed one (KEY_INVALID). Returns NULL
//  and sets *reason on failure.
br_identity_t *br_identity_load (const char *path, br_reason_t *reason);

//  Loads a public identity file; the identity has no secrets and cannot sign.
br_identity_t *br_identity_load_public (const char *path, br_reason_t *reason);

//  Writes the secret file (mode 0600) and the public file (mode 0644). Refuses
//  to overwrite existing files. Returns OK, IO_ERROR or KEY_INVALID (no secret).
br_reason_t br_identity_save (br_identity_t *self, const char *secret_path,
                              const char *public_path) BR_WUR;

//  Returns the node id. The string belongs to the identity.
const char *br_identity_node_id (br_identity_t *self);

//  True if the identity holds its secret keys.
bool br_identity_has_secret (br_identity_t *self);

//  The public keys, each BR_SIGN_PUBLIC_SIZE / BR_CURVE_KEY_SIZE bytes.
const uint8_t *br_identity_sign_public (br_identity_t *self);
const uint8_t *br_identity_transport_public (br_identity_t *self);
const uint8_t *br_identity_seal_public (br_identity_t *self);

//  The secret Curve25519 keys; asserts the identity has secrets.
const uint8_t *br_identity_transport_secret (br_identity_t *self);
const uint8_t *br_identity_seal_secret (br_identity_t *self);

//  Signs `size` bytes, writing a detached signature. Asserts a secret.
void br_identity_sign (br_identity_t *self, const uint8_t *data, size_t size,
                       uint8_t signature[BR_SIGNATURE_SIZE]);

//  Verifies a detached Ed25519 signature over exactly `size` bytes.
//  Returns true only if it is valid for `sign_public`.
bool br_signature_valid (const uint8_t *data, size_t size,
                         const uint8_t signature[BR_SIGNATURE_SIZE],
                         const uint8_t sign_public[BR_SIGN_PUBLIC_SIZE]) BR_WUR;

//  Self test of this class.
void br_identity_test (bool verbose);

#endif
