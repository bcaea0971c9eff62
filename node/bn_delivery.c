/*  =========================================================================
    bn_delivery - what the broker delivers to this node, checked and answered
    =========================================================================
*/

#include "bruecke.h"
#include "bn_delivery.h"

br_reason_t
bn_delivery_check (br_identity_t *identity, br_envelope_t *envelope, int64_t now)
{
    assert (identity && envelope);
    const Bruecke__Header *header = br_envelope_header (envelope);
    if (!streq (header->recipient, br_identity_node_id (identity)))
        return BR_REASON_RECIPIENT_MISMATCH;
    br_reason_t reason = br_envelope_check_expiry (envelope, now);
    if (reason == BR_REASON_OK)
        reason = br_envelope_check_attestation (envelope, now);
    if (reason == BR_REASON_OK && br_message_type_sealed (header->type)) {
        //  It must open with our key; what it says is read when it is used
        zchunk_t *plain = NULL;
        const ProtobufCBinaryData *body = &br_envelope_message (envelope)->body;
        reason = br_seal_open (body->data, body->len, br_identity_seal_public (identity),
                               br_identity_seal_secret (identity), &plain);
        if (plain)
            sodium_memzero (zchunk_data (plain), zchunk_size (plain));
        zchunk_destroy (&plain);
    }
    return reason;
}

br_reason_t
bn_delivery_record_outcome (bn_store_t *store, MDB_txn *txn, br_envelope_t *envelope, int64_t now)
{
    assert (store && txn && envelope);
    const Bruecke__Header *header = br_envelope_header (envelope);
    ProtobufCMessage *body = NULL;
    br_reason_t reason = BR_REASON_OK;
    if (header->type == BRUECKE__MESSAGE_TYPE__TYPE_RECEIPT &&
        br_envelope_open_body (envelope, NULL, &bruecke__receipt__descriptor, &body) ==
            BR_REASON_OK) {
        Bruecke__Receipt *receipt = (Bruecke__Receipt *) body;
        if (receipt->message_id.len == BR_MESSAGE_ID_SIZE)
            reason = bn_store_sent_update (store, txn, receipt->message_id.data, BN_SENT_RECEIPTED,
                                           BR_REASON_OK, now);
    } else if (header->type == BRUECKE__MESSAGE_TYPE__TYPE_REFUSAL &&
               br_envelope_open_body (envelope, NULL, &bruecke__refusal__descriptor, &body) ==
                   BR_REASON_OK) {
        Bruecke__Refusal *refusal = (Bruecke__Refusal *) body;
        if (refusal->message_id.len == BR_MESSAGE_ID_SIZE)
            reason = bn_store_sent_update (store, txn, refusal->message_id.data, BN_SENT_REFUSED,
                                           (br_reason_t) refusal->reason, now);
    } else if (header->type == BRUECKE__MESSAGE_TYPE__TYPE_DEAD_LETTER &&
               br_envelope_open_body (envelope, NULL, &bruecke__dead_letter__descriptor, &body) ==
                   BR_REASON_OK) {
        Bruecke__DeadLetter *dead = (Bruecke__DeadLetter *) body;
        if (dead->message_id.len == BR_MESSAGE_ID_SIZE)
            reason = bn_store_sent_update (store, txn, dead->message_id.data, BN_SENT_DEAD,
                                           (br_reason_t) dead->reason, now);
    }
    br_proto_free (&body);
    return reason;
}

zchunk_t *
bn_delivery_answer (br_identity_t *identity, bn_store_t *store, const Bruecke__Header *delivered,
                    br_reason_t reason, int64_t now, uint8_t id[BR_MESSAGE_ID_SIZE])
{
    assert (identity && store && delivered && id);
    Bruecke__Header header;
    bool receipt = reason == BR_REASON_OK;
    br_envelope_header_init (&header, id,
                             receipt ? BRUECKE__MESSAGE_TYPE__TYPE_RECEIPT
                                     : BRUECKE__MESSAGE_TYPE__TYPE_REFUSAL,
                             br_identity_node_id (identity), delivered->sender, "",
                             bn_store_next_sequence (store), now, BN_DELIVERY_ANSWER_LIFETIME_MS);
    if (receipt) {
        Bruecke__Receipt body = BRUECKE__RECEIPT__INIT;
        body.message_id = delivered->message_id;
        body.stored_at_ms = now;
        return br_envelope_build (identity, &header, NULL, &body.base, NULL);
    }
    Bruecke__Refusal body = BRUECKE__REFUSAL__INIT;
    body.message_id = delivered->message_id;
    body.reason = (Bruecke__ReasonCode) reason;
    body.detail = "refused by the recipient";
    return br_envelope_build (identity, &header, NULL, &body.base, NULL);
}

//  ---- Self test ----------------------------------------------------------------

//  A test note from `from` to `to`, sealed to `seal_to` (for a note
//  another cannot open, its key), made at `created_ms`, living
//  `lifetime_ms`; decoded and verified.
static br_envelope_t *
s_test_note (br_testing_county_t *county, br_identity_t *from, br_identity_t *to,
             br_identity_t *seal_to, int64_t created_ms, int64_t lifetime_ms)
{
    Bruecke__TestNote note = BRUECKE__TEST_NOTE__INIT;
    note.text = "Guten Tag (erfunden)";
    zchunk_t *chunk = br_testing_message (from, to, seal_to, BRUECKE__MESSAGE_TYPE__TYPE_TEST_NOTE,
                                          &note.base, 1, created_ms, lifetime_ms);
    br_reason_t reason;
    br_envelope_t *envelope =
        br_envelope_decode (zchunk_data (chunk), zchunk_size (chunk), &reason);
    zchunk_destroy (&chunk);
    assert (envelope && br_envelope_verify_in_roster (envelope, county->roster) == BR_REASON_OK);
    return envelope;
}

void
bn_delivery_test (bool verbose)
{
    if (verbose)
        printf (" * bn_delivery: ");
    //  @selftest
    br_testing_county_t *county = br_testing_county_new ();
    int64_t now = br_now_ms ();

    //  Checks: a good note; another's; expired; sealed to another key
    br_envelope_t *note =
        s_test_note (county, county->unna, county->luenen, county->luenen, now, 60000);
    assert (bn_delivery_check (county->luenen, note, now) == BR_REASON_OK);
    assert (bn_delivery_check (county->kamen, note, now) == BR_REASON_RECIPIENT_MISMATCH);
    assert (bn_delivery_check (county->luenen, note, now + 120000) == BR_REASON_EXPIRED);
    br_envelope_t *other =
        s_test_note (county, county->unna, county->luenen, county->kamen, now, 60000);
    br_reason_t reason = bn_delivery_check (county->luenen, other, now);
    assert (reason != BR_REASON_OK && reason != BR_REASON_RECIPIENT_MISMATCH);
    br_envelope_destroy (&other);

    //  Answers: a receipt names the message; a refusal its reason
    char *path = br_temp_directory ("bn_delivery");
    assert (path);
    bn_store_t *store = bn_store_new (path, 16 << 20, &reason);
    assert (store);
    const Bruecke__Header *delivered = br_envelope_header (note);
    uint8_t id[BR_MESSAGE_ID_SIZE];
    MDB_txn *txn = NULL;
    assert (bn_store_begin (store, &txn) == BR_REASON_OK);
    zchunk_t *receipt =
        bn_delivery_answer (county->luenen, store, delivered, BR_REASON_OK, now, id);
    zchunk_t *refusal =
        bn_delivery_answer (county->luenen, store, delivered, BR_REASON_CONSENT_WITHDRAWN, now, id);
    assert (bn_store_commit (store, &txn) == BR_REASON_OK);
    br_envelope_t *answer =
        br_envelope_decode (zchunk_data (receipt), zchunk_size (receipt), &reason);
    assert (answer && br_envelope_verify_in_roster (answer, county->roster) == BR_REASON_OK);
    assert (br_envelope_header (answer)->type == BRUECKE__MESSAGE_TYPE__TYPE_RECEIPT);
    assert (streq (br_envelope_header (answer)->recipient, "unna"));
    ProtobufCMessage *body = NULL;
    assert (br_envelope_open_body (answer, NULL, &bruecke__receipt__descriptor, &body) ==
            BR_REASON_OK);
    assert (memcmp (((Bruecke__Receipt *) body)->message_id.data, delivered->message_id.data,
                    BR_MESSAGE_ID_SIZE) == 0);
    br_proto_free (&body);
    br_envelope_destroy (&answer);
    answer = br_envelope_decode (zchunk_data (refusal), zchunk_size (refusal), &reason);
    assert (answer && br_envelope_verify_in_roster (answer, county->roster) == BR_REASON_OK);
    assert (br_envelope_open_body (answer, NULL, &bruecke__refusal__descriptor, &body) ==
            BR_REASON_OK);
    assert (((Bruecke__Refusal *) body)->reason == BRUECKE__REASON_CODE__REASON_CONSENT_WITHDRAWN);
    br_proto_free (&body);
    br_envelope_destroy (&answer);

    //  Outcomes: Unna's receipt for a note Lünen sent is recorded
    assert (bn_store_begin (store, &txn) == BR_REASON_OK);
    assert (bn_store_outbox_add (store, txn, delivered, (const uint8_t *) "x", 1) == BR_REASON_OK);
    assert (bn_store_commit (store, &txn) == BR_REASON_OK);
    zchunk_t *from_unna =
        bn_delivery_answer (county->unna, store, delivered, BR_REASON_OK, now, id);
    answer = br_envelope_decode (zchunk_data (from_unna), zchunk_size (from_unna), &reason);
    assert (answer && br_envelope_verify_in_roster (answer, county->roster) == BR_REASON_OK);
    assert (bn_store_begin (store, &txn) == BR_REASON_OK);
    assert (bn_delivery_record_outcome (store, txn, answer, now) == BR_REASON_OK);
    assert (bn_delivery_record_outcome (store, txn, note, now) == BR_REASON_OK); //  no answer
    assert (bn_store_commit (store, &txn) == BR_REASON_OK);
    bn_sent_t sent;
    assert (bn_store_sent_get (store, delivered->message_id.data, &sent) == BR_REASON_OK);
    assert (sent.state == BN_SENT_RECEIPTED);
    br_envelope_destroy (&answer);

    zchunk_destroy (&receipt);
    zchunk_destroy (&refusal);
    zchunk_destroy (&from_unna);
    br_envelope_destroy (&note);
    bn_store_destroy (&store);
    assert (br_temp_directory_remove (&path));
    br_testing_county_destroy (&county);
    //  @end
    if (verbose)
        printf ("OK\n");
}
