/*  =========================================================================
    br_attestation - the legal basis a personal-data message travels under
    =========================================================================
*/

#include "br_attestation.h"
#include "br_proto.h"
#include "br_util.h"

Bruecke__Attestation *
br_attestation_decode (const uint8_t *data, size_t size, br_reason_t *reason)
{
    ProtobufCMessage *message = br_proto_decode (&bruecke__attestation__descriptor, data, size,
                                                 BR_ATTESTATION_MAX_SIZE, reason);
    if (!message)
        return NULL;
    Bruecke__Attestation *attestation = (Bruecke__Attestation *) message;
    *reason = br_attestation_check_shape (attestation);
    if (*reason != BR_REASON_OK)
        br_attestation_free (&attestation);
    return attestation;
}

void
br_attestation_free (Bruecke__Attestation **attestation_p)
{
    assert (attestation_p);
    ProtobufCMessage *message = (ProtobufCMessage *) *attestation_p;
    br_proto_free (&message);
    *attestation_p = NULL;
}

br_reason_t
br_attestation_check_shape (const Bruecke__Attestation *attestation)
{
    assert (attestation);
    switch (attestation->basis) {
        case BRUECKE__LEGAL_BASIS__BASIS_CONSENT:
            if (attestation->consent_id.len != BR_CONSENT_ID_SIZE || *attestation->statute)
                return BR_REASON_ATTESTATION_INVALID;
            break;
        case BRUECKE__LEGAL_BASIS__BASIS_STATUTE:
            if (attestation->consent_id.len != 0 ||
                !br_text_valid (attestation->statute, BR_STATUTE_MAX))
                return BR_REASON_ATTESTATION_INVALID;
            break;
        default:
            return BR_REASON_ATTESTATION_INVALID;
    }
    if (!br_token_valid (attestation->purpose, BR_PURPOSE_MAX) ||
        !br_token_valid (attestation->recipient, BR_NODE_ID_MAX) ||
        !br_token_valid (attestation->recipient_service, BR_SERVICE_MAX))
        return BR_REASON_ATTESTATION_INVALID;
    if (attestation->n_data_categories < 1 || attestation->n_data_categories > BR_CATEGORIES_MAX)
        return BR_REASON_ATTESTATION_INVALID;
    for (size_t index = 0; index < attestation->n_data_categories; index++) {
        if (!br_token_valid (attestation->data_categories[index], BR_CATEGORY_MAX))
            return BR_REASON_ATTESTATION_INVALID;
        for (size_t earlier = 0; earlier < index; earlier++)
            if (streq (attestation->data_categories[earlier], attestation->data_categories[index]))
                return BR_REASON_ATTESTATION_INVALID;
    }
    if (attestation->valid_from_ms >= attestation->valid_until_ms)
        return BR_REASON_ATTESTATION_INVALID;
    return BR_REASON_OK;
}

br_reason_t
br_attestation_check (const Bruecke__Attestation *attestation, const Bruecke__Header *header,
                      int64_t now_ms)
{
    assert (attestation && header);
    br_reason_t reason = br_attestation_check_shape (attestation);
    if (reason != BR_REASON_OK)
        return reason;
    if (!streq (attestation->recipient, header->recipient) ||
        !streq (attestation->recipient_service, header->service))
        return BR_REASON_RECIPIENT_MISMATCH;
    //  The start is the sender's clock's "now" or later: tolerate a receiver
    //  whose clock is behind by up to the protocol's skew. The end is strict.
    if (now_ms + BR_CLOCK_SKEW_MS < attestation->valid_from_ms ||
        now_ms >= attestation->valid_until_ms)
        return BR_REASON_CONSENT_EXPIRED;
    return BR_REASON_OK;
}

bool
br_attestation_covers (const Bruecke__Attestation *attestation, const char *category)
{
    assert (attestation && category);
    for (size_t index = 0; index < attestation->n_data_categories; index++)
        if (streq (attestation->data_categories[index], category))
            return true;
    return false;
}

void
br_attestation_test (bool verbose)
{
    if (verbose)
        printf (" * br_attestation: ");
    //  @selftest
    int64_t now = br_now_ms ();
    uint8_t consent_id[BR_CONSENT_ID_SIZE];
    randombytes_buf (consent_id, sizeof (consent_id));
    char *categories[] = {"household", "child-age", "language"};

    Bruecke__Attestation attestation = BRUECKE__ATTESTATION__INIT;
    attestation.basis = BRUECKE__LEGAL_BASIS__BASIS_CONSENT;
    attestation.consent_id.data = consent_id;
    attestation.consent_id.len = sizeof (consent_id);
    attestation.purpose = "language-support";
    attestation.data_categories = categories;
    attestation.n_data_categories = 3;
    attestation.recipient = "unna";
    attestation.recipient_service = "fruehe-hilfen";
    attestation.valid_from_ms = now - 1000;
    attestation.valid_until_ms = now + 3600 * 1000;
    assert (br_attestation_check_shape (&attestation) == BR_REASON_OK);

    Bruecke__Header header = BRUECKE__HEADER__INIT;
    header.recipient = "unna";
    header.service = "fruehe-hilfen";
    assert (br_attestation_check (&attestation, &header, now) == BR_REASON_OK);
    //  A receiver's clock behind the sender's by up to the skew still
    //  takes it from its first millisecond; the end is strict
    assert (br_attestation_check (&attestation, &header, now - 1000 - BR_CLOCK_SKEW_MS) ==
            BR_REASON_OK);
    assert (br_attestation_check (&attestation, &header, now - 1001 - BR_CLOCK_SKEW_MS) ==
            BR_REASON_CONSENT_EXPIRED);
    assert (br_attestation_check (&attestation, &header, now + 3600 * 1000 - 1) == BR_REASON_OK);
    assert (br_attestation_check (&attestation, &header, now + 3600 * 1000) ==
            BR_REASON_CONSENT_EXPIRED);
    assert (br_attestation_covers (&attestation, "language"));
    assert (!br_attestation_covers (&attestation, "health"));

    //  Round trip through the decoder
    zchunk_t *chunk = br_proto_encode (&attestation.base);
    br_reason_t reason;
    Bruecke__Attestation *decoded =
        br_attestation_decode (zchunk_data (chunk), zchunk_size (chunk), &reason);
    assert (decoded && reason == BR_REASON_OK);
    assert (decoded->n_data_categories == 3 && streq (decoded->purpose, "language-support"));
    br_attestation_free (&decoded);
    assert (decoded == NULL);
    //  Truncated
    assert (!br_attestation_decode (zchunk_data (chunk), zchunk_size (chunk) - 2, &reason));
    assert (reason == BR_REASON_MALFORMED || reason == BR_REASON_ATTESTATION_INVALID);
    zchunk_destroy (&chunk);

    //  Header mismatch and validity
    header.recipient = "kamen";
    assert (br_attestation_check (&attestation, &header, now) == BR_REASON_RECIPIENT_MISMATCH);
    header.recipient = "unna";
    header.service = "jugendamt";
    assert (br_attestation_check (&attestation, &header, now) == BR_REASON_RECIPIENT_MISMATCH);
    header.service = "fruehe-hilfen";
    assert (br_attestation_check (&attestation, &header, now + 7200 * 1000) ==
            BR_REASON_CONSENT_EXPIRED);
    assert (br_attestation_check (&attestation, &header, now - 5000 - BR_CLOCK_SKEW_MS) ==
            BR_REASON_CONSENT_EXPIRED);

    //  Shape errors
    attestation.consent_id.len = 15;
    assert (br_attestation_check_shape (&attestation) == BR_REASON_ATTESTATION_INVALID);
    attestation.consent_id.len = 16;
    attestation.statute = "SGB VIII §86c";
    assert (br_attestation_check_shape (&attestation) == BR_REASON_ATTESTATION_INVALID);
    attestation.basis = BRUECKE__LEGAL_BASIS__BASIS_STATUTE;
    assert (br_attestation_check_shape (&attestation) == BR_REASON_ATTESTATION_INVALID);
    attestation.consent_id.len = 0;
    assert (br_attestation_check_shape (&attestation) == BR_REASON_OK);
    attestation.statute = "";
    assert (br_attestation_check_shape (&attestation) == BR_REASON_ATTESTATION_INVALID);
    attestation.statute = "SGB VIII §86c";
    attestation.basis = BRUECKE__LEGAL_BASIS__BASIS_UNSPECIFIED;
    assert (br_attestation_check_shape (&attestation) == BR_REASON_ATTESTATION_INVALID);
    attestation.basis = BRUECKE__LEGAL_BASIS__BASIS_STATUTE;
    attestation.n_data_categories = 0;
    assert (br_attestation_check_shape (&attestation) == BR_REASON_ATTESTATION_INVALID);
    char *twice[] = {"household", "household"};
    attestation.data_categories = twice;
    attestation.n_data_categories = 2;
    assert (br_attestation_check_shape (&attestation) == BR_REASON_ATTESTATION_INVALID);
    attestation.data_categories = categories;
    attestation.n_data_categories = 3;
    attestation.purpose = "Sprachförderung";
    assert (br_attestation_check_shape (&attestation) == BR_REASON_ATTESTATION_INVALID);
    attestation.purpose = "language-support";
    attestation.valid_until_ms = attestation.valid_from_ms;
    assert (br_attestation_check_shape (&attestation) == BR_REASON_ATTESTATION_INVALID);
    //  @end
    if (verbose)
        printf ("OK\n");
}
