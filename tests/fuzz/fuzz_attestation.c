/*  =========================================================================
    fuzz_attestation - fuzz target: a standalone encoded Attestation

    The input is one encoded Attestation. br_attestation_decode decodes it
    and checks its shape; an accepted one is checked against a fixed header
    (a test note from Lünen to Unna's Frühe Hilfen) and against a header
    built from its own recipient, at FUZZ_NOW_MS, and br_attestation_covers
    is asked about each of its categories and a few fixed ones.
    =========================================================================
*/

#include "fuzz_fixture.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    fuzz_fixture ();
    return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    br_reason_t reason;
    Bruecke__Attestation *attestation = br_attestation_decode (data, size, &reason);
    FUZZ_CHECK ((attestation != NULL) == (reason == BR_REASON_OK));
    if (!attestation) {
        FUZZ_CHECK (reason == BR_REASON_TOO_LARGE || reason == BR_REASON_MALFORMED ||
                    reason == BR_REASON_ATTESTATION_INVALID);
        return 0;
    }
    FUZZ_CHECK (br_attestation_check_shape (attestation) == BR_REASON_OK);

    //  A fixed header: the test note the seed corpus's attestations are for
    uint8_t id[BR_MESSAGE_ID_SIZE];
    memset (id, 0x5a, sizeof (id));
    Bruecke__Header header = BRUECKE__HEADER__INIT;
    header.version = BR_PROTOCOL_VERSION;
    header.message_id.data = id;
    header.message_id.len = sizeof (id);
    header.sender = "luenen";
    header.recipient = "unna";
    header.service = "fruehe-hilfen";
    header.type = BRUECKE__MESSAGE_TYPE__TYPE_TEST_NOTE;
    header.created_at_ms = FUZZ_NOW_MS;
    header.expires_at_ms = FUZZ_NOW_MS + FUZZ_DAY_MS;
    header.sequence = 1;
    bool in_validity =
        attestation->valid_from_ms <= FUZZ_NOW_MS && FUZZ_NOW_MS < attestation->valid_until_ms;
    bool for_unna = streq (attestation->recipient, "unna") &&
                    streq (attestation->recipient_service, "fruehe-hilfen");
    reason = br_attestation_check (attestation, &header, FUZZ_NOW_MS);
    FUZZ_CHECK (reason == (!for_unna      ? BR_REASON_RECIPIENT_MISMATCH
                           : !in_validity ? BR_REASON_CONSENT_EXPIRED
                                          : BR_REASON_OK));

    //  A header for the attestation's own recipient: only time can fail
    header.recipient = attestation->recipient;
    header.service = attestation->recipient_service;
    reason = br_attestation_check (attestation, &header, FUZZ_NOW_MS);
    FUZZ_CHECK (reason == (in_validity ? BR_REASON_OK : BR_REASON_CONSENT_EXPIRED));
    //  ... and inside its own validity, it holds
    reason = br_attestation_check (attestation, &header, attestation->valid_from_ms);
    FUZZ_CHECK (reason == BR_REASON_OK);

    for (size_t index = 0; index < attestation->n_data_categories; index++)
        FUZZ_CHECK (br_attestation_covers (attestation, attestation->data_categories[index]));
    const char *categories[] = {"household", "child-age", "language", "health", ""};
    for (size_t index = 0; index < sizeof (categories) / sizeof (categories[0]); index++) {
        bool listed = false;
        for (size_t own = 0; own < attestation->n_data_categories; own++)
            listed = listed || streq (attestation->data_categories[own], categories[index]);
        FUZZ_CHECK (br_attestation_covers (attestation, categories[index]) == listed);
    }
    br_attestation_free (&attestation);
    FUZZ_CHECK (attestation == NULL);
    return 0;
}
