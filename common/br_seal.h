/*  =========================================================================
    br_seal - sealing message bodies to the recipient node

    crypto_box_seal: an anonymous ephemeral sender, the recipient's seal key
    (br_identity). The sender is authenticated by the envelope signature,
    which covers the sealed bytes; the broker can route but never read.
    =========================================================================
*/

#ifndef BR_SEAL_H_INCLUDED
#define BR_SEAL_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"

//  Bytes a sealed body is longer than its plain text.
#define BR_SEAL_OVERHEAD crypto_box_SEALBYTES

//  Seals `size` bytes to `recipient_public`. Returns a chunk the caller owns.
zchunk_t *br_seal_close (const uint8_t *plain, size_t size, const uint8_t recipient_public[32]);

//  Opens a sealed body with the recipient's key pair. Returns OK and a chunk
//  the caller owns in *plain_p, or DECRYPT_FAILED (wrong key, altered bytes,
//  too short) and leaves *plain_p NULL.
br_reason_t br_seal_open (const uint8_t *sealed, size_t size, const uint8_t recipient_public[32],
                          const uint8_t recipient_secret[32], zchunk_t **plain_p) BR_WUR;

//  Self test of this class.
void br_seal_test (bool verbose);

#endif
