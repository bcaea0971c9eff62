/*  =========================================================================
    bb_notices - the broker's own queued messages, and consent withdrawals
    =========================================================================
*/

#include "bruecke.h"
#include "bb_notices.h"
#include "bb_exchange.h"
#include "bb_testing.h"

struct _bb_notices_t {
    bb_sender_t *sender;     //  builds and signs (the caller's)
    bb_store_t *store;       //  the queues (likewise)
    bb_sessions_t *sessions; //  marks recipients for delivery (likewise)
};

bb_notices_t *
bb_notices_new (bb_sender_t *sender, bb_store_t *store, bb_sessions_t *sessions)
{
    assert (sender && store && sessions);
    bb_notices_t *self = (bb_notices_t *) zmalloc (sizeof (bb_notices_t));
    assert (self);
    self->sender = sender;
    self->store = store;
    self->sessions = sessions;
    return self;
}

void
bb_notices_destroy (bb_notices_t **self_p)
{
    assert (self_p);
    free (*self_p);
    *self_p = NULL;
}

br_reason_t
bb_notices_queue (bb_notices_t *self, MDB_txn *txn, Bruecke__MessageType type,
                  const char *recipient, const ProtobufCMessage *body, int64_t lifetime_ms)
{
    assert (self && txn && recipient && body);
    uint8_t id[BR_MESSAGE_ID_SIZE];
    zchunk_t *chunk = bb_sender_build (self->sender, type, recipient, body, lifetime_ms, id);
    br_reason_t reason;
    br_envelope_t *envelope =
        br_envelope_decode (zchunk_data (chunk), zchunk_size (chunk), &reason);
    reason =
        br_envelope_verify (envelope, br_identity_sign_public (bb_sender_identity (self->sender)));
    assert (reason == BR_REASON_OK); //  we signed it just now
    uint8_t hash[BR_DIGEST_SIZE];
    br_envelope_digest (zchunk_data (chunk), zchunk_size (chunk), hash);
    const Bruecke__Header *header = br_envelope_header (envelope);
    reason =
        bb_store_enqueue (self->store, txn, header, zchunk_data (chunk), zchunk_size (chunk), hash);
    if (reason == BR_REASON_OK)
        reason = bb_store_log (self->store, txn, header, BR_REASON_OK, br_now_ms ());
    bb_sessions_get (self->sessions, recipient)->touched = true;
    br_envelope_destroy (&envelope);
    zchunk_destroy (&chunk);
    return reason;
}

br_reason_t
bb_notices_agreements (bb_notices_t *self, MDB_txn *txn, zlistx_t *agreements)
{
    assert (self && txn && agreements);
    br_reason_t reason = BR_REASON_OK;
    for (zchunk_t *bytes = (zchunk_t *) zlistx_first (agreements); bytes && reason == BR_REASON_OK;
         bytes = (zchunk_t *) zlistx_next (agreements)) {
        br_reason_t decoded;
        ProtobufCMessage *message =
            br_proto_decode (&bruecke__agreement__descriptor, zchunk_data (bytes),
                             zchunk_size (bytes), BB_EXCHANGE_AGREEMENT_MAX, &decoded);
        assert (message); //  the exchange encoded it just now
        Bruecke__Agreement *agreement = (Bruecke__Agreement *) message;
        reason = bb_notices_queue (self, txn, BRUECKE__MESSAGE_TYPE__TYPE_AGREEMENT,
                                   agreement->provider, message, BR_MAX_LIFETIME_MS);
        if (reason == BR_REASON_OK)
            reason = bb_notices_queue (self, txn, BRUECKE__MESSAGE_TYPE__TYPE_AGREEMENT,
                                       agreement->receiver, message, BR_MAX_LIFETIME_MS);
        br_proto_free (&message);
    }
    zlistx_purge (agreements);
    return reason;
}

br_reason_t
bb_notices_dead_letter (bb_notices_t *self, MDB_txn *txn, br_roster_t *roster, const char *sender,
                        const uint8_t *message_id, const char *recipient, br_reason_t reason)
{
    assert (self && txn && roster && sender && message_id && recipient);
    if (streq (sender, br_identity_node_id (bb_sender_identity (self->sender))) ||
        !br_roster_lookup_by_id (roster, sender))
        return BR_REASON_OK; //  no notices about notices, nor to nodes gone from the roster
    Bruecke__DeadLetter body = BRUECKE__DEAD_LETTER__INIT;
    body.message_id.data = (uint8_t *) message_id;
    body.message_id.len = BR_MESSAGE_ID_SIZE;
    body.reason = (Bruecke__ReasonCode) reason;
    body.recipient = (char *) recipient;
    return bb_notices_queue (self, txn, BRUECKE__MESSAGE_TYPE__TYPE_DEAD_LETTER, sender, &body.base,
                             BB_NOTICES_LIFETIME_MS);
}

//  A message that expired, to tell its sender after the scan.
typedef struct {
    char sender[BR_NODE_ID_MAX + 1];        //  whose message expired
    uint8_t message_id[BR_MESSAGE_ID_SIZE]; //  which
    char recipient[BR_NODE_ID_MAX + 1];     //  who never took it
} s_expired_t;

static void
s_on_expired (void *argument, const char *sender, const uint8_t *message_id,
              const bb_record_t *record)
{
    s_expired_t *expired = (s_expired_t *) zmalloc (sizeof (s_expired_t));
    assert (expired);
    snprintf (expired->sender, sizeof (expired->sender), "%s", sender);
    memcpy (expired->message_id, message_id, BR_MESSAGE_ID_SIZE);
    snprintf (expired->recipient, sizeof (expired->recipient), "%s", record->recipient);
    zlistx_add_end ((zlistx_t *) argument, expired);
}

static void
s_free_expired (void **item)
{
    free (*item);
    *item = NULL;
}

br_reason_t
bb_notices_expire (bb_notices_t *self, MDB_txn *txn, br_roster_t *roster, int64_t now_ms)
{
    assert (self && txn && roster);
    zlistx_t *expired = zlistx_new ();
    zlistx_set_destructor (expired, s_free_expired);
    br_reason_t reason = bb_store_expire (self->store, txn, now_ms, s_on_expired, expired);
    for (s_expired_t *notice = (s_expired_t *) zlistx_first (expired);
         notice && reason == BR_REASON_OK; notice = (s_expired_t *) zlistx_next (expired)) {
        reason = bb_notices_dead_letter (self, txn, roster, notice->sender, notice->message_id,
                                         notice->recipient, BR_REASON_EXPIRED);
        zsys_info ("broker: a message from %s to %s expired undelivered", notice->sender,
                   notice->recipient);
    }
    zlistx_destroy (&expired);
    return reason;
}

//  The consent id `attestation` rests on, or NULL.
static const uint8_t *
s_consent_of (const Bruecke__Attestation *attestation)
{
    if (!attestation || attestation->basis != BRUECKE__LEGAL_BASIS__BASIS_CONSENT ||
        attestation->consent_id.len != BR_CONSENT_ID_SIZE)
        return NULL;
    return attestation->consent_id.data;
}

bool
bb_notices_withdrawn (bb_notices_t *self, MDB_txn *txn, const Bruecke__Header *header,
                      const Bruecke__Attestation *attestation)
{
    assert (self && txn && header);
    const uint8_t *consent = s_consent_of (attestation);
    return consent && (bb_store_withdrawn (self->store, txn, consent, header->recipient) ||
                       bb_store_withdrawn (self->store, txn, consent, header->sender));
}

//  Queued messages found under a withdrawn consent.
typedef struct {
    br_roster_t *roster;       //  to read them
    const uint8_t *consent_id; //  the withdrawn consent
    zlistx_t *victims;         //  br_envelope_t *: to drop
} s_withdrawal_t;

static void
s_find_withdrawn (void *argument, uint64_t counter, const uint8_t *data, size_t size)
{
    (void) counter;
    s_withdrawal_t *withdrawal = (s_withdrawal_t *) argument;
    br_reason_t reason;
    br_envelope_t *envelope = br_envelope_decode (data, size, &reason);
    //  Stored bytes were verified on intake; verify again to read them safely
    if (envelope && br_envelope_verify_in_roster (envelope, withdrawal->roster) == BR_REASON_OK) {
        const uint8_t *consent = s_consent_of (br_envelope_message (envelope)->attestation);
        if (consent && memcmp (consent, withdrawal->consent_id, BR_CONSENT_ID_SIZE) == 0) {
            zlistx_add_end (withdrawal->victims, envelope);
            return;
        }
    }
    br_envelope_destroy (&envelope);
}

static void
s_destroy_envelope (void **item)
{
    br_envelope_destroy ((br_envelope_t **) item);
}

//  Drops each of `victims` from its queue and tells its sender.
static br_reason_t
s_drop (bb_notices_t *self, MDB_txn *txn, br_roster_t *roster, zlistx_t *victims)
{
    for (br_envelope_t *victim = (br_envelope_t *) zlistx_first (victims); victim;
         victim = (br_envelope_t *) zlistx_next (victims)) {
        const Bruecke__Header *dropped = br_envelope_header (victim);
        bb_record_t record;
        br_reason_t reason =
            bb_store_drop (self->store, txn, dropped->sender, dropped->message_id.data, &record);
        if (reason == BR_REASON_NOT_FOUND)
            continue;
        if (reason == BR_REASON_OK)
            reason = bb_notices_dead_letter (self, txn, roster, dropped->sender,
                                             dropped->message_id.data, dropped->recipient,
                                             BR_REASON_CONSENT_WITHDRAWN);
        if (reason != BR_REASON_OK)
            return reason;
    }
    return BR_REASON_OK;
}

br_reason_t
bb_notices_withdraw (bb_notices_t *self, MDB_txn *txn, br_roster_t *roster, bb_job_t *job)
{
    assert (self && txn && roster && job && job->envelope);
    const Bruecke__Header *header = br_envelope_header (job->envelope);
    ProtobufCMessage *body = NULL;
    if (br_envelope_open_body (job->envelope, NULL, &bruecke__consent_withdrawal__descriptor,
                               &body) != BR_REASON_OK ||
        ((Bruecke__ConsentWithdrawal *) body)->consent_id.len != BR_CONSENT_ID_SIZE) {
        br_proto_free (&body);
        job->reason = BR_REASON_MALFORMED;
        return BR_REASON_OK;
    }
    const uint8_t *consent_id = ((Bruecke__ConsentWithdrawal *) body)->consent_id.data;
    br_reason_t reason =
        bb_store_withdraw (self->store, txn, consent_id, header->recipient, job->received_ms);
    s_withdrawal_t found = {.roster = roster, .consent_id = consent_id, .victims = zlistx_new ()};
    zlistx_set_destructor (found.victims, s_destroy_envelope);
    if (reason == BR_REASON_OK) {
        bb_store_read_queue (self->store, txn, header->recipient, 0, SIZE_MAX, s_find_withdrawn,
                             &found);
        reason = s_drop (self, txn, roster, found.victims);
    }
    if (zlistx_size (found.victims) > 0)
        zsys_info ("broker: consent withdrawn for %s: %zu queued messages dropped",
                   header->recipient, zlistx_size (found.victims));
    zlistx_destroy (&found.victims);
    br_proto_free (&body);
    return reason;
}

//  ---- Self test ----------------------------------------------------------------

//  A message from `from` to `to`, as br_testing_message makes it, decoded
//  and verified; its bytes in *bytes_p.
static br_envelope_t *
s_test_message (br_testing_county_t *county, br_identity_t *from, br_identity_t *to,
                Bruecke__MessageType type, const ProtobufCMessage *body, uint8_t consent,
                zchunk_t **bytes_p)
{
    *bytes_p = br_testing_message (from, to, NULL, type, body, consent, br_now_ms (), 3600 * 1000);
    br_reason_t reason;
    br_envelope_t *envelope =
        br_envelope_decode (zchunk_data (*bytes_p), zchunk_size (*bytes_p), &reason);
    assert (envelope && br_envelope_verify_in_roster (envelope, county->roster) == BR_REASON_OK);
    return envelope;
}

//  Queues a note from Lünen to Unna under consent `consent`.
static void
s_test_queue_note (br_testing_county_t *county, bb_store_t *store, uint8_t consent)
{
    Bruecke__TestNote note = BRUECKE__TEST_NOTE__INIT;
    note.text = "Hallo (erfunden)";
    zchunk_t *bytes = NULL;
    br_envelope_t *envelope =
        s_test_message (county, county->luenen, county->unna, BRUECKE__MESSAGE_TYPE__TYPE_TEST_NOTE,
                        &note.base, consent, &bytes);
    uint8_t hash[BR_DIGEST_SIZE];
    br_envelope_digest (zchunk_data (bytes), zchunk_size (bytes), hash);
    MDB_txn *txn = NULL;
    assert (bb_store_begin (store, &txn) == BR_REASON_OK);
    assert (bb_store_enqueue (store, txn, br_envelope_header (envelope), zchunk_data (bytes),
                              zchunk_size (bytes), hash) == BR_REASON_OK);
    assert (bb_store_commit (store, &txn) == BR_REASON_OK);
    br_envelope_destroy (&envelope);
    zchunk_destroy (&bytes);
}

void
bb_notices_test (bool verbose)
{
    if (verbose)
        printf (" * bb_notices: ");
    //  @selftest
    bb_testing_t *testing = bb_testing_new ();
    br_testing_county_t *county = testing->county;
    bb_store_t *store = testing->store;
    bb_sender_t *sender = bb_sender_new (testing->router, county->broker, store);
    bb_sessions_t *sessions = bb_sessions_new (sender, store);
    bb_notices_t *notices = bb_notices_new (sender, store, sessions);
    MDB_txn *txn = NULL;

    //  A dead letter is queued for the sender, who is marked for delivery;
    //  none to a stranger, none about the broker's own notice
    uint8_t lost[BR_MESSAGE_ID_SIZE] = {0x1d};
    assert (bb_store_begin (store, &txn) == BR_REASON_OK);
    assert (bb_notices_dead_letter (notices, txn, county->roster, "luenen", lost, "unna",
                                    BR_REASON_EXPIRED) == BR_REASON_OK);
    assert (bb_notices_dead_letter (notices, txn, county->roster, "fremd", lost, "unna",
                                    BR_REASON_EXPIRED) == BR_REASON_OK);
    assert (bb_notices_dead_letter (notices, txn, county->roster, "broker", lost, "unna",
                                    BR_REASON_EXPIRED) == BR_REASON_OK);
    assert (bb_store_commit (store, &txn) == BR_REASON_OK);
    assert (bb_store_depth (store, "luenen") == 1 && bb_sessions_lookup (sessions, "luenen") &&
            bb_sessions_lookup (sessions, "luenen")->touched);
    assert (bb_store_depth (store, "fremd") == 0 && bb_store_depth (store, "broker") == 0);

    //  Withdrawing consent 7: its two notes are dropped, Lünen hears of
    //  each, the note under consent 8 stays; later messages under 7 are
    //  found withdrawn
    s_test_queue_note (county, store, 7);
    s_test_queue_note (county, store, 7);
    s_test_queue_note (county, store, 8);
    assert (bb_store_depth (store, "unna") == 3);
    uint8_t consent[BR_CONSENT_ID_SIZE] = {7};
    Bruecke__ConsentWithdrawal withdrawal = BRUECKE__CONSENT_WITHDRAWAL__INIT;
    withdrawal.consent_id.data = consent;
    withdrawal.consent_id.len = sizeof (consent);
    withdrawal.withdrawn_at_ms = br_now_ms ();
    zchunk_t *bytes = NULL;
    br_envelope_t *envelope = s_test_message (county, county->luenen, county->unna,
                                              BRUECKE__MESSAGE_TYPE__TYPE_CONSENT_WITHDRAWAL,
                                              &withdrawal.base, 0, &bytes);
    zframe_t *routing_id = zframe_new ("r", 1);
    zframe_t *data = zframe_new (zchunk_data (bytes), zchunk_size (bytes));
    bb_job_t *job = bb_job_new (&routing_id, "luenen", &data, br_now_ms ());
    job->envelope = envelope;
    job->reason = BR_REASON_OK; //  as the verifier leaves a good one
    assert (bb_store_begin (store, &txn) == BR_REASON_OK);
    assert (bb_notices_withdraw (notices, txn, county->roster, job) == BR_REASON_OK);
    assert (job->reason == BR_REASON_OK);
    uint8_t id[BR_MESSAGE_ID_SIZE] = {1};
    Bruecke__Header later;
    br_envelope_header_init (&later, id, BRUECKE__MESSAGE_TYPE__TYPE_TEST_NOTE, "luenen", "unna",
                             "fruehe-hilfen", 9, br_now_ms (), 60000);
    Bruecke__Attestation under = BRUECKE__ATTESTATION__INIT;
    under.basis = BRUECKE__LEGAL_BASIS__BASIS_CONSENT;
    under.consent_id.data = consent;
    under.consent_id.len = sizeof (consent);
    assert (bb_notices_withdrawn (notices, txn, &later, &under));
    consent[0] = 8;
    assert (!bb_notices_withdrawn (notices, txn, &later, &under));
    assert (!bb_notices_withdrawn (notices, txn, &later, NULL));
    assert (bb_store_commit (store, &txn) == BR_REASON_OK);
    assert (bb_store_depth (store, "unna") == 1 && bb_store_depth (store, "luenen") == 3);

    //  A note that expired an hour ago goes to the dead letters; Lünen
    //  hears of it
    Bruecke__TestNote late = BRUECKE__TEST_NOTE__INIT;
    late.text = "zu spät (erfunden)";
    zchunk_t *expired = br_testing_message (county->luenen, county->unna, NULL,
                                            BRUECKE__MESSAGE_TYPE__TYPE_TEST_NOTE, &late.base, 0,
                                            br_now_ms () - 2 * 3600 * 1000, 3600 * 1000);
    br_reason_t reason;
    br_envelope_t *parsed =
        br_envelope_decode (zchunk_data (expired), zchunk_size (expired), &reason);
    assert (parsed && br_envelope_verify_in_roster (parsed, county->roster) == BR_REASON_OK);
    uint8_t hash[BR_DIGEST_SIZE] = {0xe1};
    assert (bb_store_begin (store, &txn) == BR_REASON_OK);
    assert (bb_store_enqueue (store, txn, br_envelope_header (parsed), zchunk_data (expired),
                              zchunk_size (expired), hash) == BR_REASON_OK);
    assert (bb_store_commit (store, &txn) == BR_REASON_OK);
    assert (bb_store_depth (store, "unna") == 2);
    assert (bb_store_begin (store, &txn) == BR_REASON_OK);
    assert (bb_notices_expire (notices, txn, county->roster, br_now_ms ()) == BR_REASON_OK);
    assert (bb_store_commit (store, &txn) == BR_REASON_OK);
    assert (bb_store_depth (store, "unna") == 1 && bb_store_depth (store, "luenen") == 4);
    br_envelope_destroy (&parsed);
    zchunk_destroy (&expired);

    //  An agreement goes to both of its towns
    Bruecke__Agreement agreement = BRUECKE__AGREEMENT__INIT;
    agreement.provider = "kamen";
    agreement.receiver = "unna";
    zlistx_t *agreements = zlistx_new ();
    zlistx_set_destructor (agreements, (zlistx_destructor_fn *) zchunk_destroy);
    zlistx_add_end (agreements, br_proto_encode (&agreement.base));
    assert (bb_store_begin (store, &txn) == BR_REASON_OK);
    assert (bb_notices_agreements (notices, txn, agreements) == BR_REASON_OK);
    assert (bb_store_commit (store, &txn) == BR_REASON_OK);
    assert (zlistx_size (agreements) == 0);
    assert (bb_store_depth (store, "kamen") == 1 && bb_store_depth (store, "unna") == 2);
    zlistx_destroy (&agreements);

    //  A withdrawal whose body is no withdrawal is refused MALFORMED
    Bruecke__TestNote note = BRUECKE__TEST_NOTE__INIT;
    note.text = "kein Widerruf";
    zchunk_t *other = NULL;
    br_envelope_t *wrong =
        s_test_message (county, county->luenen, county->unna,
                        BRUECKE__MESSAGE_TYPE__TYPE_CONSENT_WITHDRAWAL, &note.base, 0, &other);
    br_envelope_destroy (&job->envelope);
    job->envelope = wrong;
    job->reason = BR_REASON_OK;
    assert (bb_store_begin (store, &txn) == BR_REASON_OK);
    assert (bb_notices_withdraw (notices, txn, county->roster, job) == BR_REASON_OK);
    assert (job->reason == BR_REASON_MALFORMED);
    bb_store_abort (store, &txn);

    bb_job_destroy (&job);
    zchunk_destroy (&bytes);
    zchunk_destroy (&other);
    bb_notices_destroy (&notices);
    bb_notices_destroy (&notices);
    bb_sessions_destroy (&sessions);
    bb_sender_destroy (&sender);
    bb_testing_destroy (&testing);
    //  @end
    if (verbose)
        printf ("OK\n");
}
