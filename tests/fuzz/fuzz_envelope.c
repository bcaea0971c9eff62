/*  =========================================================================
    fuzz_envelope - fuzz target: an Envelope as a node or the broker receives it

    The input is one encoded Envelope. It goes through the receiver's steps
    against the fixture roster at FUZZ_NOW_MS: br_envelope_decode,
    br_envelope_verify_in_roster, br_envelope_check_time (and
    br_envelope_check_expiry, br_envelope_message_key),
    br_envelope_check_attestation, and br_envelope_open_body as the
    recipient with the body type the header names. A ROSTER_UPDATE body goes
    on into br_roster_verify.

    A mutated input almost never carries a valid signature, so everything
    behind the signature check would be out of the fuzzer's reach. When the
    signature is all that fails and the claimed signer is a fixture node, the
    target therefore signs the same inner bytes again with that node's key
    and receives the result too: the fuzzer then plays a roster member that
    sends hostile messages, which is the case the checks behind the signature
    exist for.

    Besides crashes and leaks, the target checks invariants: what verify
    accepts has the shape it promises, a re-signed envelope never fails its
    signature, the body of an accepted sealed message opens.
    =========================================================================
*/

#include "fuzz_fixture.h"

//  The body structure for each message type, or NULL for an unknown type.
static const ProtobufCMessageDescriptor *
s_body_descriptor (int type)
{
    switch (type) {
        case BRUECKE__MESSAGE_TYPE__TYPE_HELLO:
            return &bruecke__hello__descriptor;
        case BRUECKE__MESSAGE_TYPE__TYPE_HEARTBEAT:
            return &bruecke__heartbeat__descriptor;
        case BRUECKE__MESSAGE_TYPE__TYPE_ACCEPTED:
            return &bruecke__accepted__descriptor;
        case BRUECKE__MESSAGE_TYPE__TYPE_REFUSAL:
            return &bruecke__refusal__descriptor;
        case BRUECKE__MESSAGE_TYPE__TYPE_RECEIPT:
            return &bruecke__receipt__descriptor;
        case BRUECKE__MESSAGE_TYPE__TYPE_CREDIT:
            return &bruecke__credit__descriptor;
        case BRUECKE__MESSAGE_TYPE__TYPE_ROSTER_UPDATE:
            return &bruecke__roster_update__descriptor;
        case BRUECKE__MESSAGE_TYPE__TYPE_DEAD_LETTER:
            return &bruecke__dead_letter__descriptor;
        case BRUECKE__MESSAGE_TYPE__TYPE_TEST_NOTE:
            return &bruecke__test_note__descriptor;
        default:
            return NULL;
    }
}

//  Looks at a decoded body as its receiver would.
static void
s_use_body (int type, const ProtobufCMessage *body)
{
    fuzz_fixture_t *fixture = fuzz_fixture ();
    if (type == BRUECKE__MESSAGE_TYPE__TYPE_ROSTER_UPDATE) {
        //  A node hands the roster it is sent to the roster verifier
        const Bruecke__RosterUpdate *update = (const Bruecke__RosterUpdate *) body;
        br_reason_t reason;
        br_roster_t *roster = br_roster_verify (
            update->signed_roster.data, update->signed_roster.len,
            br_identity_sign_public (fixture->county), fixture->roster, FUZZ_NOW_MS, &reason);
        FUZZ_CHECK ((roster != NULL) == (reason == BR_REASON_OK));
        br_roster_destroy (&roster);
    } else if (type == BRUECKE__MESSAGE_TYPE__TYPE_TEST_NOTE) {
        const Bruecke__TestNote *note = (const Bruecke__TestNote *) body;
        FUZZ_CHECK (note->text);
    }
}

//  Opens the body of a verified envelope as its recipient, if the fixture
//  holds the recipient's keys or the body is not sealed. Returns the reason.
static br_reason_t
s_open_body (br_envelope_t *envelope)
{
    const Bruecke__Header *header = br_envelope_header (envelope);
    const ProtobufCMessageDescriptor *descriptor = s_body_descriptor (header->type);
    FUZZ_CHECK (descriptor); //  verify refuses unknown types
    br_identity_t *recipient = fuzz_fixture_identity (header->recipient);
    bool sealed = br_message_type_sealed (header->type);
    if (sealed && !recipient)
        return BR_REASON_OK; //  not ours to open
    ProtobufCMessage *body = NULL;
    br_reason_t reason = br_envelope_open_body (envelope, recipient, descriptor, &body);
    FUZZ_CHECK ((body != NULL) == (reason == BR_REASON_OK));
    if (body) {
        FUZZ_CHECK (body->descriptor == descriptor);
        s_use_body (header->type, body);
        br_proto_free (&body);
        FUZZ_CHECK (body == NULL);
    }
    return reason;
}

//  Receives one encoded envelope; returns the first refusal, or OK.
static br_reason_t
s_receive (const uint8_t *data, size_t size)
{
    fuzz_fixture_t *fixture = fuzz_fixture ();
    br_reason_t reason;
    br_envelope_t *envelope = br_envelope_decode (data, size, &reason);
    FUZZ_CHECK ((envelope != NULL) == (reason == BR_REASON_OK));
    if (!envelope)
        return reason;
    const char *signer = br_envelope_signer (envelope);
    FUZZ_CHECK (br_token_valid (signer, BR_NODE_ID_MAX));
    FUZZ_CHECK (br_envelope_size (envelope) == size);
    FUZZ_CHECK (size == 0 || memcmp (br_envelope_data (envelope), data, size) == 0);
    FUZZ_CHECK (!br_envelope_message (envelope) && !br_envelope_header (envelope));

    reason = br_envelope_verify_in_roster (envelope, fixture->roster);
    if (reason == BR_REASON_OK) {
        //  What verify accepts has the promised shape
        const Bruecke__Message *message = br_envelope_message (envelope);
        const Bruecke__Header *header = br_envelope_header (envelope);
        FUZZ_CHECK (message && header && message->header == header);
        FUZZ_CHECK (header->version == BR_PROTOCOL_VERSION);
        FUZZ_CHECK (header->message_id.len == BR_MESSAGE_ID_SIZE);
        FUZZ_CHECK (streq (header->sender, signer));
        FUZZ_CHECK (br_message_type_known (header->type));
        FUZZ_CHECK (header->created_at_ms < header->expires_at_ms);
        const Bruecke__RosterNode *node = br_roster_lookup_by_id (fixture->roster, signer);
        FUZZ_CHECK (node && !node->revoked);
        FUZZ_CHECK (strcmp (br_message_type_name (header->type), "UNKNOWN") != 0);

        //  The later steps only need a verified envelope; run them all, so
        //  each sees every verified message, and report the first refusal.
        br_reason_t time_reason = br_envelope_check_time (envelope, FUZZ_NOW_MS);
        if (time_reason == BR_REASON_OK) {
            //  Only a time ahead is skew; an old message may have waited
            FUZZ_CHECK (header->created_at_ms <= FUZZ_NOW_MS + BR_CLOCK_SKEW_MS);
            FUZZ_CHECK (FUZZ_NOW_MS < header->expires_at_ms);
        }
        //  A recipient of a queued message checks expiry alone
        br_reason_t expiry_reason = br_envelope_check_expiry (envelope, FUZZ_NOW_MS);
        FUZZ_CHECK (expiry_reason == BR_REASON_OK || expiry_reason == BR_REASON_EXPIRED);
        if (time_reason == BR_REASON_OK || time_reason == BR_REASON_EXPIRED)
            FUZZ_CHECK (expiry_reason == time_reason);
        //  Replay detection keys the message by sender and id
        uint8_t key[BR_MESSAGE_KEY_SIZE];
        br_envelope_message_key (header->sender, header->message_id.data, key);
        FUZZ_CHECK (memcmp (key + BR_NODE_ID_MAX, header->message_id.data, BR_MESSAGE_ID_SIZE) ==
                    0);
        br_reason_t attestation_reason = br_envelope_check_attestation (envelope, FUZZ_NOW_MS);
        if (attestation_reason == BR_REASON_OK && br_message_type_personal (header->type)) {
            const Bruecke__Attestation *attestation = message->attestation;
            FUZZ_CHECK (attestation);
            FUZZ_CHECK (streq (attestation->recipient, header->recipient));
            FUZZ_CHECK (streq (attestation->recipient_service, header->service));
            FUZZ_CHECK (attestation->valid_from_ms <= FUZZ_NOW_MS);
            FUZZ_CHECK (FUZZ_NOW_MS < attestation->valid_until_ms);
        }
        br_reason_t body_reason = s_open_body (envelope);
        reason = time_reason != BR_REASON_OK          ? time_reason
                 : attestation_reason != BR_REASON_OK ? attestation_reason
                                                      : body_reason;
    } else
        FUZZ_CHECK (!br_envelope_message (envelope) && !br_envelope_header (envelope));
    br_envelope_destroy (&envelope);
    FUZZ_CHECK (envelope == NULL);
    return reason;
}

//  Signs the inner bytes of `data` again with the claimed signer's key, if
//  the fixture holds it, and receives the result.
static void
s_receive_resigned (const uint8_t *data, size_t size)
{
    br_reason_t reason;
    ProtobufCMessage *decoded =
        br_proto_decode (&bruecke__envelope__descriptor, data, size, BR_ENVELOPE_MAX_SIZE, &reason);
    FUZZ_CHECK (decoded); //  br_envelope_decode accepted the same bytes
    const Bruecke__Envelope *outer = (const Bruecke__Envelope *) decoded;
    br_identity_t *signer = fuzz_fixture_identity (outer->signer);
    if (signer) {
        zchunk_t *resigned = br_envelope_sign (signer, outer->message.data, outer->message.len);
        reason = s_receive (zchunk_data (resigned), zchunk_size (resigned));
        //  A message its signer really signed never fails the signature
        FUZZ_CHECK (reason != BR_REASON_BAD_SIGNATURE);
        FUZZ_CHECK (reason != BR_REASON_UNKNOWN_NODE);
        zchunk_destroy (&resigned);
    }
    br_proto_free (&decoded);
}

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
    br_reason_t reason = s_receive (data, size);
    if (reason == BR_REASON_BAD_SIGNATURE)
        s_receive_resigned (data, size);
    return 0;
}
