/*  =========================================================================
    bn_control - the node's control protocol, for the operator's CLI
    =========================================================================
*/

#include "bruecke.h"
#include "bn_control.h"

//  Queues a sealed test note. Returns OK and writes the id, or a reason.
static br_reason_t
s_send_test (const bn_control_node_t *self, zmsg_t *request, char *id_hex, const char **detail)
{
    char *to = zmsg_popstr (request);
    char *service = zmsg_popstr (request);
    char *text = zmsg_popstr (request);
    char *purpose = zmsg_popstr (request);
    char *category_list = zmsg_popstr (request);
    char *basis = zmsg_popstr (request);
    char *seconds_text = zmsg_popstr (request);
    br_reason_t reason = BR_REASON_MALFORMED;
    *detail = "SEND-TEST needs 7 arguments";
    const Bruecke__RosterNode *recipient = NULL;
    long seconds = seconds_text ? atol (seconds_text) : 0;
    if (seconds_text && text && strlen (text) <= BN_CONTROL_TEXT_MAX && seconds >= 1 &&
        seconds <= BN_CONTROL_NOTE_SECONDS_MAX) {
        recipient = br_roster_lookup_by_id (self->roster, to);
        reason = !recipient                                    ? BR_REASON_UNKNOWN_NODE
                 : recipient->revoked                          ? BR_REASON_NODE_REVOKED
                 : !br_roster_node_offers (recipient, service) ? BR_REASON_NO_ROUTE
                                                               : BR_REASON_OK;
        *detail = "recipient";
    }
    uint8_t consent_id[BR_CONSENT_ID_SIZE];
    Bruecke__Attestation attestation = BRUECKE__ATTESTATION__INIT;
    if (reason == BR_REASON_OK) {
        *detail = "legal basis";
        if (strncmp (basis, "consent:", 8) == 0 &&
            br_hex_decode (basis + 8, consent_id, sizeof (consent_id)) == 0) {
            attestation.basis = BRUECKE__LEGAL_BASIS__BASIS_CONSENT;
            attestation.consent_id.data = consent_id;
            attestation.consent_id.len = sizeof (consent_id);
        } else if (strncmp (basis, "statute:", 8) == 0) {
            attestation.basis = BRUECKE__LEGAL_BASIS__BASIS_STATUTE;
            attestation.statute = basis + 8;
        } else
            reason = BR_REASON_ATTESTATION_INVALID;
    }
    //  Split the categories
    char *categories[BR_CATEGORIES_MAX + 1];
    size_t category_count = 0;
    char *saved = NULL;
    for (char *item = category_list ? strtok_r (category_list, ",", &saved) : NULL;
         item && category_count <= BR_CATEGORIES_MAX; item = strtok_r (NULL, ",", &saved))
        categories[category_count++] = item;
    int64_t now = br_now_ms ();
    MDB_txn *txn = NULL;
    Bruecke__Header header;
    uint8_t id[BR_MESSAGE_ID_SIZE];
    if (reason == BR_REASON_OK)
        reason = bn_store_begin (self->store, &txn);
    if (reason == BR_REASON_OK) {
        int64_t lifetime = (int64_t) seconds * 1000;
        br_envelope_header_init (&header, id, BRUECKE__MESSAGE_TYPE__TYPE_TEST_NOTE,
                                 br_identity_node_id (self->identity), to, service,
                                 bn_store_next_sequence (self->store), now, lifetime);
        attestation.purpose = purpose;
        attestation.data_categories = categories;
        attestation.n_data_categories = category_count;
        attestation.recipient = to;
        attestation.recipient_service = service;
        attestation.valid_from_ms = now;
        attestation.valid_until_ms = now + lifetime;
        reason = br_attestation_check (&attestation, &header, now);
        *detail = "attestation";
    }
    if (reason == BR_REASON_OK) {
        Bruecke__TestNote note = BRUECKE__TEST_NOTE__INIT;
        note.text = text;
        zchunk_t *chunk = br_envelope_build (self->identity, &header, &attestation, &note.base,
                                             recipient->seal_public_key.data);
        reason = bn_store_outbox_add (self->store, txn, &header, zchunk_data (chunk),
                                      zchunk_size (chunk));
        zchunk_destroy (&chunk);
        *detail = "outbox";
        if (reason == BR_REASON_OK)
            reason = bn_store_commit (self->store, &txn);
    }
    bn_store_abort (self->store, &txn);
    if (reason == BR_REASON_OK) {
        br_hex_encode (id, sizeof (id), id_hex);
        *detail = "queued";
    }
    zstr_free (&to);
    zstr_free (&service);
    zstr_free (&text);
    zstr_free (&purpose);
    zstr_free (&category_list);
    zstr_free (&basis);
    zstr_free (&seconds_text);
    return reason;
}

typedef struct {
    const bn_control_node_t *node; //  the node
    zmsg_t *reply;                 //  the listing
} s_listing_t;

static void
s_list_inbox (void *argument, uint64_t counter, int64_t received_ms, const uint8_t *data,
              size_t size)
{
    (void) received_ms;
    s_listing_t *listing = (s_listing_t *) argument;
    br_reason_t reason;
    br_envelope_t *envelope = br_envelope_decode (data, size, &reason);
    const Bruecke__RosterNode *signer =
        envelope ? br_roster_lookup_by_id (listing->node->roster, br_envelope_signer (envelope))
                 : NULL;
    if (signer && br_envelope_verify (envelope, signer->sign_public_key.data) == BR_REASON_OK) {
        const Bruecke__Header *header = br_envelope_header (envelope);
        char id[2 * BR_MESSAGE_ID_SIZE + 1];
        br_hex_encode (header->message_id.data, BR_MESSAGE_ID_SIZE, id);
        char *text = NULL;
        ProtobufCMessage *body = NULL;
        if (header->type == BRUECKE__MESSAGE_TYPE__TYPE_TEST_NOTE &&
            br_envelope_open_body (envelope, listing->node->identity,
                                   &bruecke__test_note__descriptor, &body) == BR_REASON_OK)
            text = strdup (((Bruecke__TestNote *) body)->text);
        br_proto_free (&body);
        zmsg_addstrf (listing->reply, "%llu %s %s %llu %s %s", (unsigned long long) counter,
                      header->sender, br_message_type_name (header->type),
                      (unsigned long long) header->sequence, id, text ? text : "-");
        free (text);
    } else
        zmsg_addstrf (listing->reply, "%llu ? UNVERIFIABLE 0 - -", (unsigned long long) counter);
    br_envelope_destroy (&envelope);
}

static void
s_list_sent (void *argument, const uint8_t *message_id, const bn_sent_t *sent)
{
    s_listing_t *listing = (s_listing_t *) argument;
    char id[2 * BR_MESSAGE_ID_SIZE + 1];
    br_hex_encode (message_id, BR_MESSAGE_ID_SIZE, id);
    zmsg_addstrf (listing->reply, "%llu %s %s %s %s", (unsigned long long) sent->sequence, id,
                  sent->recipient, bn_sent_state_name (sent->state),
                  br_reason_name ((br_reason_t) sent->reason));
}

zmsg_t *
bn_control_answer (const bn_control_node_t *node, zmsg_t *request)
{
    assert (node && request);
    char *command = zmsg_popstr (request);
    zmsg_t *reply = zmsg_new ();
    s_listing_t listing = {.node = node, .reply = reply};
    if (command && streq (command, "STATUS")) {
        zmsg_addstr (reply, "OK");
        zmsg_addstrf (reply, "node %s", br_identity_node_id (node->identity));
        zmsg_addstrf (reply, "connected %s", node->connected ? "yes" : "no");
        zmsg_addstrf (reply, "roster %llu", (unsigned long long) br_roster_version (node->roster));
        zmsg_addstrf (reply, "outbox %zu", bn_store_outbox_count (node->store));
        zmsg_addstrf (reply, "inbox %zu", bn_store_inbox_count (node->store));
        //  This node's clock minus the broker's, in ms; "-" before it is read
        if (node->clock_known)
            zmsg_addstrf (reply, "clock-offset-ms %+lld", (long long) node->clock_offset_ms);
        else
            zmsg_addstr (reply, "clock-offset-ms -");
    } else if (command && streq (command, "SEND-TEST")) {
        char id[2 * BR_MESSAGE_ID_SIZE + 1];
        const char *detail = "";
        br_reason_t reason = s_send_test (node, request, id, &detail);
        if (reason == BR_REASON_OK)
            zmsg_addstrf (reply, "OK %s", id);
        else
            zmsg_addstrf (reply, "ERROR %s %s", br_reason_name (reason), detail);
    } else if (command && streq (command, "INBOX")) {
        zmsg_addstr (reply, "OK");
        bn_store_inbox_read (node->store, s_list_inbox, &listing);
    } else if (command && streq (command, "SENT")) {
        zmsg_addstr (reply, "OK");
        bn_store_sent_read (node->store, s_list_sent, &listing);
    } else
        zmsg_addstr (reply, "ERROR MALFORMED unknown command");
    zstr_free (&command);
    return reply;
}

//  ---- Self test ----------------------------------------------------------------

//  Asks `command` with the further frames given (NULL-ended); returns the
//  reply's frames joined by newlines (the caller frees it).
static char *
s_test_ask (const bn_control_node_t *node, const char *command, ...)
{
    zmsg_t *request = zmsg_new ();
    zmsg_addstr (request, command);
    va_list frames;
    va_start (frames, command);
    for (const char *frame = va_arg (frames, const char *); frame;
         frame = va_arg (frames, const char *))
        zmsg_addstr (request, frame);
    va_end (frames);
    zmsg_t *reply = bn_control_answer (node, request);
    zmsg_destroy (&request);
    zchunk_t *text = zchunk_new (NULL, 0);
    for (char *frame = zmsg_popstr (reply); frame; frame = zmsg_popstr (reply)) {
        zchunk_extend (text, frame, strlen (frame));
        zchunk_extend (text, "\n", 1);
        zstr_free (&frame);
    }
    zchunk_extend (text, "", 1);
    char *joined = strdup ((const char *) zchunk_data (text));
    zchunk_destroy (&text);
    zmsg_destroy (&reply);
    return joined;
}

void
bn_control_test (bool verbose)
{
    if (verbose)
        printf (" * bn_control: ");
    //  @selftest
    char *path = br_temp_directory ("bn_control");
    assert (path);
    br_reason_t reason;
    bn_store_t *store = bn_store_new (path, 16 << 20, &reason);
    assert (store);
    br_testing_county_t *county = br_testing_county_new ();
    bn_control_node_t node = {.store = store, .identity = county->luenen, .roster = county->roster};

    char *answer = s_test_ask (&node, "STATUS", NULL);
    assert (streq (answer, "OK\nnode luenen\nconnected no\nroster 1\noutbox 0\ninbox 0\n"
                           "clock-offset-ms -\n"));
    zstr_free (&answer);

    //  A test note is queued sealed in the outbox, and listed as sent
    const char *consent = "consent:00112233445566778899aabbccddeeff";
    answer = s_test_ask (&node, "SEND-TEST", "unna", "fruehe-hilfen", "Hallo (erfunden)",
                         "language-support", "household", consent, "3600", NULL);
    assert (strncmp (answer, "OK ", 3) == 0 && strlen (answer) == 3 + 32 + 1);
    char id[33];
    memcpy (id, answer + 3, 32);
    id[32] = '\0';
    zstr_free (&answer);
    node.connected = true;
    node.clock_known = true;
    node.clock_offset_ms = -250;
    answer = s_test_ask (&node, "STATUS", NULL);
    assert (strstr (answer, "\nconnected yes\n") && strstr (answer, "\noutbox 1\n"));
    assert (strstr (answer, "\nclock-offset-ms -250\n"));
    zstr_free (&answer);
    answer = s_test_ask (&node, "SENT", NULL);
    assert (strncmp (answer, "OK\n1 ", 5) == 0 && strstr (answer, id) && strstr (answer, " unna "));
    zstr_free (&answer);

    //  Refusals, each with its reason and nothing queued
    const char *refused[][8] = {{"fremd", "fruehe-hilfen", "x", "language-support", "household",
                                 consent, "60", "ERROR UNKNOWN_NODE recipient"},
                                {"selm", "jugendamt", "x", "language-support", "household", consent,
                                 "60", "ERROR NODE_REVOKED recipient"},
                                {"unna", "jugendamt", "x", "language-support", "household", consent,
                                 "60", "ERROR NO_ROUTE recipient"},
                                {"unna", "fruehe-hilfen", "x", "language-support", "household",
                                 "consent:zz", "60", "ERROR ATTESTATION_INVALID legal basis"},
                                {"unna", "fruehe-hilfen", "x", "language-support", "household",
                                 consent, "0", "ERROR MALFORMED SEND-TEST needs 7 arguments"}};
    for (size_t index = 0; index < sizeof (refused) / sizeof (refused[0]); index++) {
        answer = s_test_ask (&node, "SEND-TEST", refused[index][0], refused[index][1],
                             refused[index][2], refused[index][3], refused[index][4],
                             refused[index][5], refused[index][6], NULL);
        assert (strncmp (answer, refused[index][7], strlen (refused[index][7])) == 0);
        zstr_free (&answer);
    }
    answer = s_test_ask (&node, "SEND-TEST", "unna", NULL);
    assert (strncmp (answer, "ERROR MALFORMED", 15) == 0);
    zstr_free (&answer);
    assert (bn_store_outbox_count (store) == 1);

    answer = s_test_ask (&node, "INBOX", NULL);
    assert (streq (answer, "OK\n"));
    zstr_free (&answer);
    answer = s_test_ask (&node, "REBOOT", NULL);
    assert (streq (answer, "ERROR MALFORMED unknown command\n"));
    zstr_free (&answer);

    br_testing_county_destroy (&county);
    bn_store_destroy (&store);
    assert (br_temp_directory_remove (&path));
    //  @end
    if (verbose)
        printf ("OK\n");
}
