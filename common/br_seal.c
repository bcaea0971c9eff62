/*  =========================================================================
    br_seal - sealing message bodies to the recipient node
    =========================================================================
*/

#include "br_seal.h"

zchunk_t *
br_seal_close (const uint8_t *plain, size_t size, const uint8_t recipient_public[32])
{
    zchunk_t *sealed = zchunk_new (NULL, size + BR_SEAL_OVERHEAD);
    int rc = crypto_box_seal (zchunk_data (sealed), plain, size, recipient_public);
    assert (rc == 0);
    zchunk_set (sealed, NULL, size + BR_SEAL_OVERHEAD);
    return sealed;
}

br_reason_t
br_seal_open (const uint8_t *sealed, size_t size, const uint8_t recipient_public[32],
              const uint8_t recipient_secret[32], zchunk_t **plain_p)
{
    assert (plain_p);
    *plain_p = NULL;
    if (size < BR_SEAL_OVERHEAD)
        return BR_REASON_DECRYPT_FAILED;
    zchunk_t *plain = zchunk_new (NULL, size - BR_SEAL_OVERHEAD);
    if (crypto_box_seal_open (zchunk_data (plain), sealed, size, recipient_public,
                              recipient_secret) != 0) {
        zchunk_destroy (&plain);
        return BR_REASON_DECRYPT_FAILED;
    }
    zchunk_set (plain, NULL, size - BR_SEAL_OVERHEAD);
    *plain_p = plain;
    return BR_REASON_OK;
}

void
br_seal_test (bool verbose)
{
    if (verbose)
        printf (" * br_seal: ");
    //  @selftest
    uint8_t public_key[32], secret_key[32], other_public[32], other_secret[32];
    crypto_box_keypair (public_key, secret_key);
    crypto_box_keypair (other_public, other_secret);
    const uint8_t text[] = "Familie Musterfrau, invented";
    zchunk_t *sealed = br_seal_close (text, sizeof (text), public_key);
    assert (zchunk_size (sealed) == sizeof (text) + BR_SEAL_OVERHEAD);
    //  The plain text does not appear in the sealed bytes
    assert (!memmem (zchunk_data (sealed), zchunk_size (sealed), "Musterfrau", 10));

    zchunk_t *plain = NULL;
    assert (br_seal_open (zchunk_data (sealed), zchunk_size (sealed), public_key, secret_key,
                          &plain) == BR_REASON_OK);
    assert (zchunk_size (plain) == sizeof (text));
    assert (memcmp (zchunk_data (plain), text, sizeof (text)) == 0);
    zchunk_destroy (&plain);

    //  Another key, an altered byte, a short input: refused
    assert (br_seal_open (zchunk_data (sealed), zchunk_size (sealed), other_public, other_secret,
                          &plain) == BR_REASON_DECRYPT_FAILED);
    assert (plain == NULL);
    zchunk_data (sealed)[zchunk_size (sealed) - 1] ^= 1;
    assert (br_seal_open (zchunk_data (sealed), zchunk_size (sealed), public_key, secret_key,
                          &plain) == BR_REASON_DECRYPT_FAILED);
    assert (br_seal_open (zchunk_data (sealed), BR_SEAL_OVERHEAD - 1, public_key, secret_key,
                          &plain) == BR_REASON_DECRYPT_FAILED);
    //  An empty body seals and opens
    zchunk_destroy (&sealed);
    sealed = br_seal_close ((const uint8_t *) "", 0, public_key);
    assert (br_seal_open (zchunk_data (sealed), zchunk_size (sealed), public_key, secret_key,
                          &plain) == BR_REASON_OK);
    assert (zchunk_size (plain) == 0);
    zchunk_destroy (&plain);
    zchunk_destroy (&sealed);
    //  @end
    if (verbose)
        printf ("OK\n");
}
