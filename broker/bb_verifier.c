/*  =========================================================================
    bb_verifier - checks incoming envelopes off the broker's main thread
    =========================================================================
*/

#include "bruecke.h"
#include "bb_verifier.h"
#include "br_testing.h"

bb_job_t *
bb_job_new (zframe_t **routing_id_p, const char *node_id, zframe_t **data_p, int64_t received_ms)
{
    assert (routing_id_p && data_p && node_id);
    bb_job_t *self = (bb_job_t *) zmalloc (sizeof (bb_job_t));
    self->routing_id = *routing_id_p;
    self->data = *data_p;
    *routing_id_p = NULL;
    *data_p = NULL;
    snprintf (self->node_id, sizeof (self->node_id), "%s", node_id);
    self->received_ms = received_ms;
    self->reason = BR_REASON_MALFORMED;
    return self;
}

void
bb_job_destroy (bb_job_t **self_p)
{
    assert (self_p);
    bb_job_t *self = *self_p;
    if (self) {
        zframe_destroy (&self->routing_id);
        zframe_destroy (&self->data);
        br_envelope_destroy (&self->envelope);
        free (self);
        *self_p = NULL;
    }
}

//  Which types a node may send, and to whom: the broker itself ("") for
//  session control and the Transferbörse, another node for content and its
//  answers.
static br_reason_t
s_check_addressing (const Bruecke__Header *header, br_roster_t *roster, const char *broker_id)
{
    bool to_broker = *header->recipient == '\0';
    bool content = br_message_type_content (header->type); //  to a service
    switch (header->type) {
        case BRUECKE__MESSAGE_TYPE__TYPE_HELLO:
        case BRUECKE__MESSAGE_TYPE__TYPE_HEARTBEAT:
        case BRUECKE__MESSAGE_TYPE__TYPE_CREDIT:
        case BRUECKE__MESSAGE_TYPE__TYPE_EXCHANGE_SYNC:
        case BRUECKE__MESSAGE_TYPE__TYPE_BOARD_PUBLISH: //  the Transferbörse's
        case BRUECKE__MESSAGE_TYPE__TYPE_BOARD_WITHDRAW:
        case BRUECKE__MESSAGE_TYPE__TYPE_AGREEMENT_ACTION:
            return to_broker ? BR_REASON_OK : BR_REASON_UNSUPPORTED_TYPE;
        case BRUECKE__MESSAGE_TYPE__TYPE_RECEIPT:
        case BRUECKE__MESSAGE_TYPE__TYPE_REFUSAL:
            break;
        default:
            if (!content)
                return BR_REASON_UNSUPPORTED_TYPE; //  the broker's own types
    }
    if (to_broker)
        return BR_REASON_UNSUPPORTED_TYPE;
    const Bruecke__RosterNode *recipient = br_roster_lookup_by_id (roster, header->recipient);
    if (!recipient)
        return BR_REASON_UNKNOWN_NODE;
    if (recipient->revoked)
        return BR_REASON_NODE_REVOKED;
    //  Content goes to a service the recipient offers; answers to a node,
    //  including answers to the broker's own notices
    if (content) {
        if (streq (header->recipient, broker_id) ||
            !br_roster_node_offers (recipient, header->service))
            return BR_REASON_NO_ROUTE;
    }
    return BR_REASON_OK;
}

void
bb_verifier_check (bb_job_t *job, br_roster_t *roster, const char *broker_id, int64_t now_ms)
{
    assert (job && roster && broker_id);
    br_reason_t reason;
    job->envelope = br_envelope_decode (zframe_data (job->data), zframe_size (job->data), &reason);
    if (job->envelope && !streq (br_envelope_signer (job->envelope), job->node_id))
        reason = BR_REASON_SENDER_MISMATCH; //  signed as someone else than connected
    if (reason == BR_REASON_OK)
        reason = br_envelope_verify_in_roster (job->envelope, roster);
    //  Session messages are neither stored nor remembered: no clock rule, so
    //  that a node whose clock is wrong still keeps its session (and is told).
    //  Answers are never sent again as they were: no skew rule either, or a
    //  receipt made by a clock that is ahead would be lost for good
    int type = reason == BR_REASON_OK ? br_envelope_header (job->envelope)->type : 0;
    if (reason == BR_REASON_OK && !br_message_type_session (type))
        reason = type == BRUECKE__MESSAGE_TYPE__TYPE_RECEIPT ||
                         type == BRUECKE__MESSAGE_TYPE__TYPE_REFUSAL
                     ? br_envelope_check_expiry (job->envelope, now_ms)
                     : br_envelope_check_time (job->envelope, now_ms);
    if (reason == BR_REASON_OK)
        reason = s_check_addressing (br_envelope_header (job->envelope), roster, broker_id);
    if (reason == BR_REASON_OK)
        reason = br_envelope_check_attestation (job->envelope, now_ms);
    if (reason == BR_REASON_OK)
        br_envelope_digest (zframe_data (job->data), zframe_size (job->data), job->digest);
    job->reason = reason;
}

void
bb_verifier_actor (zsock_t *pipe, void *args)
{
    bb_verifier_args_t *endpoints = (bb_verifier_args_t *) args;
    zsock_t *jobs = zsock_new (ZMQ_PULL);
    zsock_t *results = zsock_new (ZMQ_PUSH);
    int rc = zsock_connect (jobs, "%s", endpoints->jobs);
    assert (rc == 0);
    rc = zsock_connect (results, "%s", endpoints->results);
    assert (rc == 0);
    char *broker_id = strdup (endpoints->broker_id);
    br_roster_t *roster = NULL;
    zsock_signal (pipe, 0);

    zpoller_t *poller = zpoller_new (pipe, jobs, NULL);
    bool running = true;
    while (running) {
        zsock_t *which = (zsock_t *) zpoller_wait (poller, -1);
        if (which == jobs) {
            void *pointer = NULL;
            if (zsock_recv (jobs, "p", &pointer) != 0)
                continue;
            bb_bundle_t *bundle = (bb_bundle_t *) pointer;
            int64_t now = br_now_ms ();
            for (size_t index = 0; index < bundle->count; index++) {
                if (roster)
                    bb_verifier_check (bundle->jobs[index], roster, broker_id, now);
                else
                    bundle->jobs[index]->reason = BR_REASON_BUSY; //  no roster yet
            }
            zsock_send (results, "p", bundle);
        } else if (which == pipe) {
            char *command = NULL;
            void *pointer = NULL;
            if (zsock_recv (pipe, "sp", &command, &pointer) != 0 || streq (command, "$TERM"))
                running = false;
            else if (streq (command, "ROSTER")) {
                br_roster_destroy (&roster);
                roster = (br_roster_t *) pointer;
                zsock_signal (pipe, 0);
            }
            zstr_free (&command);
        } else
            running = false;
    }
    zpoller_destroy (&poller);
    br_roster_destroy (&roster);
    free (broker_id);
    zsock_destroy (&jobs);
    zsock_destroy (&results);
}

void
bb_verifier_set_roster (zactor_t *verifier, br_roster_t **roster_p)
{
    assert (verifier && roster_p && *roster_p);
    zsock_send (verifier, "sp", "ROSTER", *roster_p);
    *roster_p = NULL;
    zsock_wait (verifier);
}

//  ---- Self test ------------------------------------------------------------

//  Builds a message from `signer`; a TEST_NOTE gets an attestation if asked.
static zchunk_t *
s_test_message (br_testing_county_t *county, br_identity_t *signer, Bruecke__MessageType type,
                const char *recipient, const char *service, bool attested)
{
    int64_t now = br_now_ms ();
    Bruecke__Header header;
    uint8_t id[BR_MESSAGE_ID_SIZE];
    br_envelope_header_init (&header, id, type, br_identity_node_id (signer), recipient, service, 1,
                             now, 60000);
    char *categories[] = {"household"};
    Bruecke__Attestation attestation = BRUECKE__ATTESTATION__INIT;
    attestation.basis = BRUECKE__LEGAL_BASIS__BASIS_STATUTE;
    attestation.statute = "SGB VIII \xc2\xa7"
                          "86c";
    attestation.purpose = "case-transfer";
    attestation.data_categories = categories;
    attestation.n_data_categories = 1;
    attestation.recipient = (char *) recipient;
    attestation.recipient_service = (char *) service;
    attestation.valid_from_ms = now - 1000;
    attestation.valid_until_ms = now + 60000;
    Bruecke__TestNote note = BRUECKE__TEST_NOTE__INIT;
    note.text = "erfunden";
    const Bruecke__RosterNode *node = br_roster_lookup_by_id (county->roster, recipient);
    return br_envelope_build (signer, &header, attested ? &attestation : NULL, &note.base,
                              node ? node->seal_public_key.data
                                   : br_identity_seal_public (county->unna));
}

//  Runs one check as connection `node_id` and returns the verdict.
static br_reason_t
s_test_check (br_testing_county_t *county, const char *node_id, zchunk_t **chunk_p)
{
    zframe_t *routing_id = zframe_new ("r", 1);
    zframe_t *data = zframe_new (zchunk_data (*chunk_p), zchunk_size (*chunk_p));
    zchunk_destroy (chunk_p);
    bb_job_t *job = bb_job_new (&routing_id, node_id, &data, br_now_ms ());
    assert (!routing_id && !data);
    bb_verifier_check (job, county->roster, "broker", br_now_ms ());
    br_reason_t reason = job->reason;
    assert (reason != BR_REASON_OK || (job->envelope && br_envelope_header (job->envelope)));
    bb_job_destroy (&job);
    bb_job_destroy (&job);
    return reason;
}

void
bb_verifier_test (bool verbose)
{
    if (verbose)
        printf (" * bb_verifier: ");
    //  @selftest
    br_testing_county_t *county = br_testing_county_new ();
    zchunk_t *chunk;
    const Bruecke__MessageType NOTE = BRUECKE__MESSAGE_TYPE__TYPE_TEST_NOTE;

    chunk = s_test_message (county, county->luenen, NOTE, "unna", "fruehe-hilfen", true);
    assert (s_test_check (county, "luenen", &chunk) == BR_REASON_OK);
    //  Signed by Lünen, sent over Unna's connection
    chunk = s_test_message (county, county->luenen, NOTE, "unna", "fruehe-hilfen", true);
    assert (s_test_check (county, "unna", &chunk) == BR_REASON_SENDER_MISMATCH);
    //  Personal data without attestation
    chunk = s_test_message (county, county->luenen, NOTE, "unna", "fruehe-hilfen", false);
    assert (s_test_check (county, "luenen", &chunk) == BR_REASON_ATTESTATION_MISSING);
    //  A service the recipient does not offer; an unknown and a revoked recipient
    chunk = s_test_message (county, county->luenen, NOTE, "unna", "jobcenter", true);
    assert (s_test_check (county, "luenen", &chunk) == BR_REASON_NO_ROUTE);
    chunk = s_test_message (county, county->luenen, NOTE, "werne", "jugendamt", true);
    assert (s_test_check (county, "luenen", &chunk) == BR_REASON_UNKNOWN_NODE);
    chunk = s_test_message (county, county->luenen, NOTE, "selm", "jugendamt", true);
    assert (s_test_check (county, "luenen", &chunk) == BR_REASON_NODE_REVOKED);
    //  A revoked sender
    chunk = s_test_message (county, county->selm, NOTE, "unna", "fruehe-hilfen", true);
    assert (s_test_check (county, "selm", &chunk) == BR_REASON_NODE_REVOKED);
    //  Types a node may not send, or not to the broker
    chunk = s_test_message (county, county->luenen, BRUECKE__MESSAGE_TYPE__TYPE_ACCEPTED, "", "",
                            false);
    assert (s_test_check (county, "luenen", &chunk) == BR_REASON_UNSUPPORTED_TYPE);
    chunk = s_test_message (county, county->luenen, BRUECKE__MESSAGE_TYPE__TYPE_HELLO, "unna", "",
                            false);
    assert (s_test_check (county, "luenen", &chunk) == BR_REASON_UNSUPPORTED_TYPE);
    chunk =
        s_test_message (county, county->luenen, BRUECKE__MESSAGE_TYPE__TYPE_HELLO, "", "", false);
    assert (s_test_check (county, "luenen", &chunk) == BR_REASON_OK);
    //  Garbage
    chunk = zchunk_new ("\xff\xff\xff", 3);
    assert (s_test_check (county, "luenen", &chunk) == BR_REASON_MALFORMED);

    //  Through two actors: every job comes back, checked
    zsock_t *jobs = zsock_new_push ("@inproc://bb-verifier-test-jobs");
    zsock_t *results = zsock_new_pull ("@inproc://bb-verifier-test-results");
    bb_verifier_args_t args = {"inproc://bb-verifier-test-jobs",
                               "inproc://bb-verifier-test-results", "broker"};
    zactor_t *workers[2];
    for (int index = 0; index < 2; index++) {
        workers[index] = zactor_new (bb_verifier_actor, &args);
        br_roster_t *copy = br_roster_verify (
            zchunk_data (county->signed_roster), zchunk_size (county->signed_roster),
            br_identity_sign_public (county->county), NULL, br_now_ms (), &(br_reason_t){0});
        bb_verifier_set_roster (workers[index], &copy);
        assert (copy == NULL);
    }
    const int jobs_sent = 100;
    bb_bundle_t bundles[4];
    memset (bundles, 0, sizeof (bundles));
    for (int index = 0; index < jobs_sent; index++) {
        chunk =
            s_test_message (county, county->luenen, NOTE, "unna", "fruehe-hilfen", index % 2 == 0);
        zframe_t *routing_id = zframe_new ("r", 1);
        zframe_t *data = zframe_new (zchunk_data (chunk), zchunk_size (chunk));
        zchunk_destroy (&chunk);
        bb_job_t *job = bb_job_new (&routing_id, "luenen", &data, br_now_ms ());
        job->sequence = (uint64_t) index;
        bb_bundle_t *bundle = &bundles[index / 25];
        bundle->jobs[bundle->count++] = job;
    }
    for (int index = 0; index < 4; index++)
        zsock_send (jobs, "p", &bundles[index]);
    int accepted = 0, returned = 0;
    for (int index = 0; index < 4; index++) {
        void *pointer = NULL;
        int rc = zsock_recv (results, "p", &pointer);
        assert (rc == 0);
        bb_bundle_t *bundle = (bb_bundle_t *) pointer;
        assert (bundle->count == 25);
        for (size_t position = 0; position < bundle->count; position++) {
            bb_job_t *job = bundle->jobs[position];
            assert (job->reason ==
                    (job->sequence % 2 == 0 ? BR_REASON_OK : BR_REASON_ATTESTATION_MISSING));
            accepted += job->reason == BR_REASON_OK;
            returned++;
            bb_job_destroy (&job);
        }
    }
    assert (returned == jobs_sent);
    assert (accepted == jobs_sent / 2);
    for (int index = 0; index < 2; index++)
        zactor_destroy (&workers[index]);
    zsock_destroy (&jobs);
    zsock_destroy (&results);
    br_testing_county_destroy (&county);
    //  @end
    if (verbose)
        printf ("OK\n");
}
