/*  =========================================================================
    br_attestation - the legal basis a personal-data message travels under

    An attestation names a consent (by id) or a statute, the purpose, the data
    categories, the recipient node and service, and a validity window. It is
    part of the signed message, so the sender stands behind it; it carries no
    personal data, so the broker may read it. Broker and recipient both check
    it against the header.
    =========================================================================
*/

#ifndef BR_ATTESTATION_H_INCLUDED
#define BR_ATTESTATION_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"

#define BR_ATTESTATION_MAX_SIZE (16 * 1024) //  largest encoded attestation
#define BR_CONSENT_ID_SIZE      16          //  consent ids are 16 random bytes
#define BR_STATUTE_MAX          64          //  longest statute name, bytes
#define BR_PURPOSE_MAX          48          //  longest purpose code
#define BR_CATEGORY_MAX         48          //  longest data category code
#define BR_CATEGORIES_MAX       32          //  most data categories in one attestation

//  Decodes a standalone encoded attestation (size limit first, bounded
//  decoder) and checks its shape. Returns it, to be freed with
//  br_attestation_free, or NULL and sets *reason (TOO_LARGE, MALFORMED,
//  ATTESTATION_INVALID).
Bruecke__Attestation *br_attestation_decode (const uint8_t *data, size_t size, br_reason_t *reason);

//  Frees an attestation from br_attestation_decode and nulls the pointer.
void br_attestation_free (Bruecke__Attestation **attestation_p);

//  Checks the shape alone: a known basis; a 16-byte consent id exactly for
//  consent, a statute name exactly for statute; purpose, categories and
//  recipient as valid codes; 1..BR_CATEGORIES_MAX distinct categories;
//  valid_from_ms < valid_until_ms. Returns OK or ATTESTATION_INVALID.
br_reason_t br_attestation_check_shape (const Bruecke__Attestation *attestation) BR_WUR;

//  Checks the shape, then that the attestation covers this message: its
//  recipient and service equal the header's (RECIPIENT_MISMATCH) and
//  `now_ms` lies inside its validity (CONSENT_EXPIRED): from valid_from_ms
//  less the clock skew the protocol tolerates (BR_CLOCK_SKEW_MS), up to
//  valid_until_ms exclusive.
br_reason_t br_attestation_check (const Bruecke__Attestation *attestation,
                                  const Bruecke__Header *header, int64_t now_ms) BR_WUR;

//  True if `category` is one of the attestation's data categories.
bool br_attestation_covers (const Bruecke__Attestation *attestation, const char *category);

//  Self test of this class.
void br_attestation_test (bool verbose);

#endif
