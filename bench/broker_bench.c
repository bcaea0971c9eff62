/*  =========================================================================
    broker_bench - how fast the county broker takes, stores and delivers

    Usage: broker_bench [--towns N] [--messages N] [--broker PATH]

    Starts the real bruecke-broker as its own process on loopback, with a
    roster of N simulated towns, and drives it over CurveZMQ with 1 KiB
    test notes, each sealed to its recipient and signed by its sender (all
    built before the clock starts, so the simulated towns cost little CPU
    while measuring). It prints:

      1. this machine's ceilings: Ed25519 verifications per second on one
         and on two cores, and fsyncs per second in the broker's directory;
      2. durable intake: messages per second from the first send to the last
         ACCEPTED, with every recipient offline (so everything is stored);
      3. end to end: messages per second from send to delivery at the
         online recipient, with the recipients receipting every delivery as
         real nodes do (receipts are routed back and receipted in turn);
      4. latency at 10 % of the measured intake rate: p50 and p99 from send
         to ACCEPTED and from send to delivery;
      5. the ratios the issue asks for: intake / 2-core verify ceiling.
    =========================================================================
*/

#include "bruecke.h"
#include <sys/prctl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#define S_BODY_SIZE     1024
#define S_WINDOW        256     //  unaccepted messages per town at most
#define S_CREDIT        4096    //  credit a simulated town grants
#define S_MEASURE_USECS 1000000 //  how long each ceiling is measured
#define S_TIMEOUT_MS    120000  //  give up on a phase after this

//  One prepared message and what happened to it.
typedef struct {
    zchunk_t *envelope;        //  signed, sealed test note
    zchunk_t *receipt;         //  the recipient's receipt for it
    zchunk_t *receipt_receipt; //  the sender's receipt for that receipt
    uint8_t hash[16];          //  digest of the envelope, to know it on delivery
    uint8_t receipt_hash[16];  //  digest of the receipt, to know it on delivery
    size_t sender;             //  town index
    size_t recipient;          //  town index
    int64_t sent_usecs;        //  when it was sent
    int64_t accepted_usecs;    //  when ACCEPTED arrived
    int64_t delivered_usecs;   //  when it arrived at the recipient
} s_message_t;

typedef struct {
    br_identity_t *identity; //  the town's keys
    zsock_t *socket;         //  its DEALER
    size_t next;             //  next message of its list to send
    size_t in_flight;        //  sent, not yet accepted
    size_t received;         //  deliveries since it last granted credit
    s_message_t **messages;  //  the messages it sends, in order
    size_t message_count;    //  how many
    size_t message_capacity; //  room in `messages`
} s_town_t;

typedef struct {
    size_t town_count;
    s_town_t *towns;
    br_identity_t *county;
    br_identity_t *broker;
    char *directory;
    char endpoint[64];
    pid_t broker_pid;
    zhashx_t *by_hash; //  hex digest -> s_message_t * (envelopes and receipts)
    zhashx_t *by_id;   //  hex message id -> s_message_t *
} s_bench_t;

//  ---- Machine ceilings -------------------------------------------------------

typedef struct {
    zchunk_t *message;
    uint8_t signature[BR_SIGNATURE_SIZE];
    const uint8_t *public_key;
    uint64_t count;
} s_verify_job_t;

static void *
s_verify_loop (void *argument)
{
    s_verify_job_t *job = (s_verify_job_t *) argument;
    int64_t end = zclock_usecs () + S_MEASURE_USECS;
    while (zclock_usecs () < end) {
        for (int index = 0; index < 64; index++) {
            bool valid = br_signature_valid (zchunk_data (job->message), zchunk_size (job->message),
                                             job->signature, job->public_key);
            assert (valid);
            job->count++;
        }
    }
    return NULL;
}

static double
s_verify_rate (br_identity_t *signer, int threads)
{
    s_verify_job_t jobs[2];
    pthread_t ids[2];
    for (int index = 0; index < threads; index++) {
        jobs[index].message = zchunk_new (NULL, 1300);
        memset (zchunk_data (jobs[index].message), 'x', 1300);
        zchunk_set (jobs[index].message, NULL, 1300);
        br_identity_sign (signer, zchunk_data (jobs[index].message), 1300, jobs[index].signature);
        jobs[index].public_key = br_identity_sign_public (signer);
        jobs[index].count = 0;
        pthread_create (&ids[index], NULL, s_verify_loop, &jobs[index]);
    }
    uint64_t total = 0;
    for (int index = 0; index < threads; index++) {
        pthread_join (ids[index], NULL);
        total += jobs[index].count;
        zchunk_destroy (&jobs[index].message);
    }
    return (double) total * 1e6 / S_MEASURE_USECS;
}

static double
s_fsync_rate (const char *directory)
{
    char *path = zsys_sprintf ("%s/fsync-probe", directory);
    int handle = open (path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert (handle >= 0);
    char block[4096];
    memset (block, 'f', sizeof (block));
    uint64_t count = 0;
    int64_t end = zclock_usecs () + S_MEASURE_USECS;
    while (zclock_usecs () < end) {
        if (pwrite (handle, block, sizeof (block), (off_t) (count % 256) * 4096) < 0 ||
            fsync (handle) != 0)
            break;
        count++;
    }
    close (handle);
    unlink (path);
    zstr_free (&path);
    return (double) count * 1e6 / S_MEASURE_USECS;
}

//  ---- Setup --------------------------------------------------------------------

static void
s_write (const char *path, const void *data, size_t size)
{
    br_reason_t reason = br_file_write (path, data, size, 0600, true);
    assert (reason == BR_REASON_OK);
}

static void
s_setup_county (s_bench_t *self, const char *broker_path)
{
    self->county = br_identity_new ("county");
    self->broker = br_identity_new ("broker");
    zconfig_t *draft = br_roster_draft_new ("05978", "Kreis Benchmark");
    br_reason_t reason = br_roster_draft_add_node (draft, self->broker, "Broker", "05978",
                                                   BRUECKE__NODE_ROLE__ROLE_BROKER, "");
    assert (reason == BR_REASON_OK);
    for (size_t index = 0; index < self->town_count; index++) {
        char node_id[32], name[48], ags[32];
        snprintf (node_id, sizeof (node_id), "town-%03zu", index);
        snprintf (name, sizeof (name), "Testort %zu", index);
        snprintf (ags, sizeof (ags), "0597%04zu", index);
        self->towns[index].identity = br_identity_new (node_id);
        reason = br_roster_draft_add_node (draft, self->towns[index].identity, name, ags,
                                           BRUECKE__NODE_ROLE__ROLE_TOWN, "fruehe-hilfen");
        assert (reason == BR_REASON_OK);
    }
    zchunk_t *roster =
        br_roster_draft_sign (draft, self->county, br_now_ms (), 24 * 3600000LL, &reason);
    assert (roster);
    zconfig_destroy (&draft);

    char *path = zsys_sprintf ("%s/roster.bin", self->directory);
    s_write (path, zchunk_data (roster), zchunk_size (roster));
    zstr_free (&path);
    zchunk_destroy (&roster);
    char *broker_key = zsys_sprintf ("%s/broker.key", self->directory);
    char *broker_pub = zsys_sprintf ("%s/broker.pub", self->directory);
    char *county_key = zsys_sprintf ("%s/county.key", self->directory);
    char *county_pub = zsys_sprintf ("%s/county.pub", self->directory);
    reason = br_identity_save (self->broker, broker_key, broker_pub);
    assert (reason == BR_REASON_OK);
    reason = br_identity_save (self->county, county_key, county_pub);
    assert (reason == BR_REASON_OK);

    //  A free port: bind, note it, release
    zsock_t *probe = zsock_new (ZMQ_ROUTER);
    int port = zsock_bind (probe, "tcp://127.0.0.1:*");
    zsock_destroy (&probe);
    snprintf (self->endpoint, sizeof (self->endpoint), "tcp://127.0.0.1:%d", port);
    char *config =
        zsys_sprintf ("broker\n"
                      "    key = \"%s\"\n"
                      "    county-public = \"%s\"\n"
                      "    roster = \"%s/roster.bin\"\n"
                      "    endpoint = \"%s\"\n"
                      "    state = \"%s/broker\"\n"
                      "    workers = \"2\"\n",
                      broker_key, county_pub, self->directory, self->endpoint, self->directory);
    char *config_path = zsys_sprintf ("%s/broker.cfg", self->directory);
    s_write (config_path, config, strlen (config));
    char *log_path = zsys_sprintf ("%s/broker.log", self->directory);

    self->broker_pid = fork ();
    assert (self->broker_pid >= 0);
    if (self->broker_pid == 0) {
        //  The broker ends with the benchmark, also when that is interrupted
        prctl (PR_SET_PDEATHSIG, SIGTERM);
        int log = open (log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2 (log, STDERR_FILENO);
        dup2 (log, STDOUT_FILENO);
        execl (broker_path, broker_path, "--config", config_path, (char *) NULL);
        _exit (127);
    }
    zstr_free (&config);
    zstr_free (&config_path);
    zstr_free (&log_path);
    zstr_free (&broker_key);
    zstr_free (&broker_pub);
    zstr_free (&county_key);
    zstr_free (&county_pub);
}

static void
s_connect_towns (s_bench_t *self)
{
    for (size_t index = 0; index < self->town_count; index++) {
        s_town_t *town = &self->towns[index];
        town->socket = zsock_new (ZMQ_DEALER);
        zcert_t *cert = zcert_new_from (br_identity_transport_public (town->identity),
                                        br_identity_transport_secret (town->identity));
        zcert_apply (cert, town->socket);
        zcert_destroy (&cert);
        zsock_set_curve_serverkey_bin (town->socket, br_identity_transport_public (self->broker));
        zsock_set_sndhwm (town->socket, 0);
        zsock_set_rcvhwm (town->socket, 0);
        zsock_set_linger (town->socket, 0);
        int rc = zsock_connect (town->socket, "%s", self->endpoint);
        assert (rc == 0);
    }
}

//  Builds a control message (HELLO, CREDIT) from a town.
static zchunk_t *
s_control (s_town_t *town, Bruecke__MessageType type, const ProtobufCMessage *body)
{
    Bruecke__Header header;
    uint8_t id[BR_MESSAGE_ID_SIZE];
    br_envelope_header_init (&header, id, type, br_identity_node_id (town->identity), "", "", 0,
                             br_now_ms (), BR_CLOCK_SKEW_MS);
    return br_envelope_build (town->identity, &header, NULL, body, NULL);
}

//  Sends a copy of a chunk that is about to go away.
static void
s_send_copy (s_town_t *town, zchunk_t *chunk)
{
    zframe_t *frame = zframe_new (zchunk_data (chunk), zchunk_size (chunk));
    zframe_send (&frame, town->socket, 0);
}

//  Sends a prepared chunk without copying it (it outlives the send).
static void
s_send_chunk (s_town_t *town, zchunk_t *chunk)
{
    zmq_msg_t message;
    zmq_msg_init_data (&message, zchunk_data (chunk), zchunk_size (chunk), NULL, NULL);
    if (zmq_msg_send (&message, zsock_resolve (town->socket), 0) < 0)
        zmq_msg_close (&message);
}

static void
s_hex (const uint8_t *bytes, size_t size, char *hex)
{
    br_hex_encode (bytes, size, hex);
}

//  Prepares `count` messages per town, each to the next town, appended to
//  each town's list.
static void
s_prepare (s_bench_t *self, size_t count)
{
    char text[S_BODY_SIZE + 1];
    memset (text, 'a', S_BODY_SIZE);
    text[S_BODY_SIZE] = '\0';
    char *categories[] = {"household"};
    for (size_t index = 0; index < self->town_count; index++) {
        s_town_t *town = &self->towns[index];
        size_t target = (index + 1) % self->town_count;
        s_town_t *recipient = &self->towns[target];
        const char *to = br_identity_node_id (recipient->identity);
        for (size_t number = 0; number < count; number++) {
            s_message_t *message = (s_message_t *) zmalloc (sizeof (s_message_t));
            message->sender = index;
            message->recipient = target;
            int64_t now = br_now_ms ();
            Bruecke__Header header;
            uint8_t id[BR_MESSAGE_ID_SIZE];
            br_envelope_header_init (&header, id, BRUECKE__MESSAGE_TYPE__TYPE_TEST_NOTE,
                                     br_identity_node_id (town->identity), to, "fruehe-hilfen",
                                     town->message_count + 1, now, 3600000);
            Bruecke__Attestation attestation = BRUECKE__ATTESTATION__INIT;
            attestation.basis = BRUECKE__LEGAL_BASIS__BASIS_STATUTE;
            attestation.statute = "SGB VIII \xc2\xa7"
                                  "86c";
            attestation.purpose = "benchmark";
            attestation.data_categories = categories;
            attestation.n_data_categories = 1;
            attestation.recipient = (char *) to;
            attestation.recipient_service = "fruehe-hilfen";
            attestation.valid_from_ms = now - 1000;
            attestation.valid_until_ms = now + 3600000;
            Bruecke__TestNote note = BRUECKE__TEST_NOTE__INIT;
            note.text = text;
            message->envelope =
                br_envelope_build (town->identity, &header, &attestation, &note.base,
                                   br_identity_seal_public (recipient->identity));
            crypto_generichash (message->hash, 16, zchunk_data (message->envelope),
                                zchunk_size (message->envelope), NULL, 0);
            char hex[33];
            s_hex (message->hash, 16, hex);
            zhashx_insert (self->by_hash, hex, message);
            s_hex (id, 16, hex);
            zhashx_insert (self->by_id, hex, message);

            //  The recipient's receipt, and the sender's receipt for that
            Bruecke__Receipt receipt = BRUECKE__RECEIPT__INIT;
            receipt.message_id.data = id;
            receipt.message_id.len = 16;
            receipt.stored_at_ms = now;
            Bruecke__Header answer;
            uint8_t answer_id[BR_MESSAGE_ID_SIZE];
            br_envelope_header_init (&answer, answer_id, BRUECKE__MESSAGE_TYPE__TYPE_RECEIPT, to,
                                     br_identity_node_id (town->identity), "", number + 1, now,
                                     3600000);
            message->receipt =
                br_envelope_build (recipient->identity, &answer, NULL, &receipt.base, NULL);
            crypto_generichash (message->receipt_hash, 16, zchunk_data (message->receipt),
                                zchunk_size (message->receipt), NULL, 0);
            s_hex (message->receipt_hash, 16, hex);
            zhashx_insert (self->by_hash, hex, message);
            receipt.message_id.data = answer_id;
            uint8_t last_id[BR_MESSAGE_ID_SIZE];
            br_envelope_header_init (&answer, last_id, BRUECKE__MESSAGE_TYPE__TYPE_RECEIPT,
                                     br_identity_node_id (town->identity), to, "", 1000000 + number,
                                     now, 3600000);
            message->receipt_receipt =
                br_envelope_build (town->identity, &answer, NULL, &receipt.base, NULL);
            if (town->message_count == town->message_capacity) {
                town->message_capacity = town->message_capacity ? 2 * town->message_capacity : 1024;
                town->messages = (s_message_t **) realloc (
                    town->messages, town->message_capacity * sizeof (s_message_t *));
            }
            town->messages[town->message_count++] = message;
        }
    }
}

//  ---- Running a phase ------------------------------------------------------------

typedef struct {
    size_t first;           //  first message index (per town) of this phase
    size_t count;           //  messages per town in this phase
    size_t total;           //  messages in this phase
    size_t accepted;        //  ACCEPTED seen
    size_t delivered;       //  deliveries seen
    size_t refused;         //  refusals seen
    bool recipients_online; //  whether deliveries are expected
    double rate;            //  messages per second to send at, 0 = as fast as possible
    int64_t started_usecs;  //  first send
    int64_t finished_usecs; //  last awaited event
} s_phase_t;

typedef struct {
    s_bench_t *bench; //  the bench
    s_phase_t *phase; //  the running phase

} s_context_t;

//  Handles one frame arriving at town `index`.
static void
s_on_frame (s_context_t *context, size_t index, zframe_t *frame, int64_t now)
{
    s_bench_t *self = context->bench;
    s_phase_t *phase = context->phase;
    s_town_t *town = &self->towns[index];
    br_reason_t reason;
    ProtobufCMessage *outer = br_proto_decode (&bruecke__envelope__descriptor, zframe_data (frame),
                                               zframe_size (frame), BR_ENVELOPE_MAX_SIZE, &reason);
    assert (outer);
    Bruecke__Envelope *envelope = (Bruecke__Envelope *) outer;
    if (streq (envelope->signer, "broker")) {
        //  The broker is trusted here: read without verifying, to spare the CPU
        ProtobufCMessage *inner =
            br_proto_decode (&bruecke__message__descriptor, envelope->message.data,
                             envelope->message.len, BR_ENVELOPE_MAX_SIZE, &reason);
        Bruecke__Message *message = (Bruecke__Message *) inner;
        if (message->header->type == BRUECKE__MESSAGE_TYPE__TYPE_ACCEPTED) {
            ProtobufCMessage *body =
                br_proto_decode (&bruecke__accepted__descriptor, message->body.data,
                                 message->body.len, BR_ENVELOPE_MAX_SIZE, &reason);
            Bruecke__Accepted *accepted = (Bruecke__Accepted *) body;
            for (size_t id = 0; id < accepted->n_message_ids; id++) {
                char hex[33];
                s_hex (accepted->message_ids[id].data, 16, hex);
                s_message_t *sent = (s_message_t *) zhashx_lookup (self->by_id, hex);
                if (sent && sent->accepted_usecs == 0) {
                    sent->accepted_usecs = now;
                    self->towns[sent->sender].in_flight--;
                    phase->accepted++;
                    if (!phase->recipients_online && phase->accepted == phase->total)
                        phase->finished_usecs = now;
                }
            }
            br_proto_free (&body);
        } else if (message->header->type == BRUECKE__MESSAGE_TYPE__TYPE_REFUSAL) {
            ProtobufCMessage *body =
                br_proto_decode (&bruecke__refusal__descriptor, message->body.data,
                                 message->body.len, BR_ENVELOPE_MAX_SIZE, &reason);
            if (phase->refused++ == 0)
                fprintf (stderr, "broker_bench: refusal: %s\n",
                         br_reason_name ((br_reason_t) ((Bruecke__Refusal *) body)->reason));
            br_proto_free (&body);
        }
        br_proto_free (&inner);
    } else {
        uint8_t hash[16];
        crypto_generichash (hash, 16, zframe_data (frame), zframe_size (frame), NULL, 0);
        char hex[33];
        s_hex (hash, 16, hex);
        s_message_t *message = (s_message_t *) zhashx_lookup (self->by_hash, hex);
        assert (message);
        if (memcmp (hash, message->hash, 16) == 0) {
            if (message->delivered_usecs == 0) {
                message->delivered_usecs = now;
                phase->delivered++;
                if (phase->delivered == phase->total)
                    phase->finished_usecs = now;
            }
            s_send_chunk (town, message->receipt);
        } else
            s_send_chunk (town, message->receipt_receipt);
        if (++town->received >= S_CREDIT / 4) {
            Bruecke__Credit credit = BRUECKE__CREDIT__INIT;
            credit.credit = (uint32_t) town->received;
            zchunk_t *chunk = s_control (town, BRUECKE__MESSAGE_TYPE__TYPE_CREDIT, &credit.base);
            s_send_copy (town, chunk);
            zchunk_destroy (&chunk);
            town->received = 0;
        }
    }
    br_proto_free (&outer);
}

//  Sends what the phase allows now: per town up to the window, and in
//  total no more than the rate allows.
static void
s_send_some (s_bench_t *self, s_phase_t *phase, int64_t now, size_t *sent_total)
{
    size_t allowed = SIZE_MAX;
    if (phase->rate > 0) {
        double due = (double) (now - phase->started_usecs) * phase->rate / 1e6 + 1;
        allowed = due > (double) *sent_total ? (size_t) due - *sent_total : 0;
    }
    bool progress = true;
    while (allowed > 0 && progress) {
        progress = false;
        for (size_t index = 0; index < self->town_count && allowed > 0; index++) {
            s_town_t *town = &self->towns[index];
            if (town->next >= phase->first + phase->count || town->in_flight >= S_WINDOW)
                continue;
            s_message_t *message = town->messages[town->next++];
            message->sent_usecs = zclock_usecs ();
            s_send_chunk (town, message->envelope);
            town->in_flight++;
            (*sent_total)++;
            allowed--;
            progress = true;
        }
    }
}

//  Runs a phase to its end: everything accepted (recipients offline) or
//  delivered (online). Returns false on timeout.
static bool
s_run_phase (s_bench_t *self, s_phase_t *phase, bool send)
{
    s_context_t context = {.bench = self, .phase = phase};
    zmq_pollitem_t *items = (zmq_pollitem_t *) calloc (self->town_count, sizeof (zmq_pollitem_t));
    for (size_t index = 0; index < self->town_count; index++) {
        items[index].socket = zsock_resolve (self->towns[index].socket);
        items[index].events = ZMQ_POLLIN;
        self->towns[index].next = phase->first;
        self->towns[index].in_flight = 0;
    }
    phase->total = phase->count * self->town_count;
    phase->started_usecs = zclock_usecs ();
    size_t sent_total = 0;
    int64_t deadline = phase->started_usecs + S_TIMEOUT_MS * 1000LL;
    while (phase->finished_usecs == 0 && zclock_usecs () < deadline) {
        if (send)
            s_send_some (self, phase, zclock_usecs (), &sent_total);
        if (zmq_poll (items, (int) self->town_count, 1) < 0)
            break;
        int64_t now = zclock_usecs ();
        for (size_t index = 0; index < self->town_count; index++) {
            if (!(items[index].revents & ZMQ_POLLIN))
                continue;
            zframe_t *frame;
            while ((frame = zframe_recv_nowait (self->towns[index].socket))) {
                s_on_frame (&context, index, frame, now);
                zframe_destroy (&frame);
            }
        }
    }
    free (items);
    return phase->finished_usecs != 0;
}

static int
s_compare_int64 (const void *left, const void *right)
{
    int64_t a = *(const int64_t *) left, b = *(const int64_t *) right;
    return (a > b) - (a < b);
}

//  Prints p50 and p99 of (later - sent) over a phase's messages, in ms.
static double
s_latency (s_bench_t *self, s_phase_t *phase, bool delivered, double *p99)
{
    int64_t *values = (int64_t *) calloc (phase->total, sizeof (int64_t));
    size_t count = 0;
    for (size_t index = 0; index < self->town_count; index++)
        for (size_t number = phase->first; number < phase->first + phase->count; number++) {
            s_message_t *message = self->towns[index].messages[number];
            int64_t later = delivered ? message->delivered_usecs : message->accepted_usecs;
            if (later > 0)
                values[count++] = later - message->sent_usecs;
        }
    qsort (values, count, sizeof (int64_t), s_compare_int64);
    double p50 = count ? values[count / 2] / 1000.0 : 0;
    *p99 = count ? values[(count * 99) / 100] / 1000.0 : 0;
    free (values);
    return p50;
}

//  Waits until the broker holds nothing for anybody: every delivery
//  answered, every answer answered. Phases must not overlap.
static void
s_wait_idle (s_bench_t *self)
{
    char *endpoint = zsys_sprintf ("ipc://%s/broker/control.ipc", self->directory);
    int64_t deadline = zclock_mono () + S_TIMEOUT_MS;
    size_t depth = 1;
    while (depth > 0 && zclock_mono () < deadline) {
        zsock_t *control = zsock_new_req (endpoint);
        zsock_set_rcvtimeo (control, 5000);
        zstr_send (control, "STATUS");
        zmsg_t *reply = zmsg_recv (control);
        depth = 0;
        for (char *line = reply ? zmsg_popstr (reply) : NULL; line; line = zmsg_popstr (reply)) {
            char node[64], state[16];
            long long seen;
            size_t queued;
            if (sscanf (line, "node %63s %15s %lld %zu", node, state, &seen, &queued) == 4)
                depth += queued;
            zstr_free (&line);
        }
        zmsg_destroy (&reply);
        zsock_destroy (&control);
        if (depth > 0) {
            //  Keep answering deliveries meanwhile
            s_phase_t quiet = {.recipients_online = true, .finished_usecs = 0};
            s_context_t context = {.bench = self, .phase = &quiet};
            int64_t until = zclock_usecs () + 100000;
            while (zclock_usecs () < until)
                for (size_t index = 0; index < self->town_count; index++) {
                    zframe_t *frame;
                    while ((frame = zframe_recv_nowait (self->towns[index].socket))) {
                        s_on_frame (&context, index, frame, zclock_usecs ());
                        zframe_destroy (&frame);
                    }
                }
        }
    }
    zstr_free (&endpoint);
}

static void
s_hello_all (s_bench_t *self)
{
    for (size_t index = 0; index < self->town_count; index++) {
        Bruecke__Hello hello = BRUECKE__HELLO__INIT;
        hello.roster_version = 1;
        hello.credit = S_CREDIT;
        zchunk_t *chunk =
            s_control (&self->towns[index], BRUECKE__MESSAGE_TYPE__TYPE_HELLO, &hello.base);
        s_send_copy (&self->towns[index], chunk);
        zchunk_destroy (&chunk);
    }
}

int
main (int argc, char *argv[])
{
    size_t towns = 40, messages = 1500;
    const char *broker_path = NULL;
    bool keep = false; //  keep the directory (broker log, store) for a look
    for (int arg = 1; arg + 1 < argc; arg += 2) {
        if (streq (argv[arg], "--towns"))
            towns = (size_t) atoi (argv[arg + 1]);
        else if (streq (argv[arg], "--messages"))
            messages = (size_t) atoi (argv[arg + 1]);
        else if (streq (argv[arg], "--broker"))
            broker_path = argv[arg + 1];
        else if (streq (argv[arg], "--keep"))
            keep = streq (argv[arg + 1], "yes");
    }
    char *default_broker = NULL;
    if (!broker_path) {
        //  Next to this program in the build tree
        char self_path[PATH_MAX];
        ssize_t length = readlink ("/proc/self/exe", self_path, sizeof (self_path) - 1);
        assert (length > 0);
        self_path[length] = '\0';
        *strrchr (self_path, '/') = '\0';
        default_broker = zsys_sprintf ("%s/bruecke-broker", self_path);
        broker_path = default_broker;
    }
    if (towns < 2 || towns > 9999 || messages < 10 || sodium_init () < 0) {
        fprintf (stderr, "usage: broker_bench [--towns N>=2] [--messages N>=10] [--broker PATH]\n");
        return 2;
    }
    //  No czmq signal handler: Ctrl-C or SIGTERM ends the benchmark at once,
    //  and its broker with it (PR_SET_PDEATHSIG)
    zsys_handler_set (NULL);
    zsys_init ();
    s_bench_t bench = {.town_count = towns};
    bench.towns = (s_town_t *) calloc (towns, sizeof (s_town_t));
    bench.by_hash = zhashx_new ();
    bench.by_id = zhashx_new ();
    bench.directory = br_temp_directory ("broker_bench");
    assert (bench.directory);

    printf ("broker_bench: %zu towns, 1 KiB sealed test notes, broker %s\n", towns, broker_path);
    br_identity_t *probe = br_identity_new ("probe");
    double verify_one = s_verify_rate (probe, 1);
    double verify_two = s_verify_rate (probe, 2);
    br_identity_destroy (&probe);
    double fsyncs = s_fsync_rate (bench.directory);
    printf ("machine: Ed25519 verify %.0f/s on 1 core, %.0f/s on 2 cores; fsync %.0f/s\n",
            verify_one, verify_two, fsyncs);

    s_setup_county (&bench, broker_path);
    size_t drain_count = messages, e2e_count = messages / 3, latency_count = 250;
    int64_t prepare_started = zclock_usecs ();
    s_prepare (&bench, drain_count);
    s_prepare (&bench, e2e_count);
    s_prepare (&bench, latency_count);
    printf ("prepared %zu messages in %.1f s\n", towns * (drain_count + e2e_count + latency_count),
            (zclock_usecs () - prepare_started) / 1e6);
    zclock_sleep (300); //  the broker starts
    s_connect_towns (&bench);
    zclock_sleep (300); //  handshakes

    //  1. Durable intake, recipients offline
    s_phase_t intake = {.first = 0, .count = drain_count};
    bool ok = s_run_phase (&bench, &intake, true);
    double intake_rate =
        ok ? intake.total * 1e6 / (intake.finished_usecs - intake.started_usecs) : 0;
    double ack_p99;
    double ack_p50 = s_latency (&bench, &intake, false, &ack_p99);
    printf ("durable intake: %zu messages in %.2f s = %.0f msg/s (ACCEPTED after commit; "
            "p50 %.1f ms, p99 %.1f ms under full load)%s\n",
            intake.total, (intake.finished_usecs - intake.started_usecs) / 1e6, intake_rate,
            ack_p50, ack_p99, ok ? "" : " TIMED OUT");

    //  2. The recipients come online: the stored backlog is delivered
    s_phase_t drain = {.first = 0, .count = drain_count, .recipients_online = true};
    drain.accepted = drain.total;
    s_hello_all (&bench);
    ok = s_run_phase (&bench, &drain, false) && ok;
    s_wait_idle (&bench);
    printf ("delivery of the stored backlog: %.0f msg/s (with receipts routed back)%s\n",
            ok ? drain.total * 1e6 / (drain.finished_usecs - drain.started_usecs) : 0.0,
            ok ? "" : " TIMED OUT");

    //  3. End to end, recipients online
    s_phase_t e2e = {.first = drain_count, .count = e2e_count, .recipients_online = true};
    ok = s_run_phase (&bench, &e2e, true) && ok;
    double e2e_rate = ok ? e2e.total * 1e6 / (e2e.finished_usecs - e2e.started_usecs) : 0;
    s_wait_idle (&bench);
    printf ("end to end: %zu messages in %.2f s = %.0f msg/s (send -> stored -> delivered, "
            "receipted)%s\n",
            e2e.total, (e2e.finished_usecs - e2e.started_usecs) / 1e6, e2e_rate,
            ok ? "" : " TIMED OUT");

    //  4. Latency at 10 % of the intake rate
    s_phase_t light = {.first = drain_count + e2e_count,
                       .count = latency_count,
                       .recipients_online = true,
                       .rate = intake_rate / 10};
    ok = s_run_phase (&bench, &light, true) && ok;
    double accepted_p99, delivered_p99;
    double accepted_p50 = s_latency (&bench, &light, false, &accepted_p99);
    double delivered_p50 = s_latency (&bench, &light, true, &delivered_p99);
    printf ("latency at %.0f msg/s (10 %% of intake): send->ACCEPTED p50 %.2f ms p99 %.2f ms; "
            "send->delivered p50 %.2f ms p99 %.2f ms%s\n",
            light.rate, accepted_p50, accepted_p99, delivered_p50, delivered_p99,
            ok ? "" : " TIMED OUT");

    printf ("ratios: intake / 2-core verify ceiling = %.0f %% (target >= 70 %%); "
            "end to end / ceiling = %.0f %%; intake / fsync rate = %.1f messages per fsync\n",
            100.0 * intake_rate / verify_two, 100.0 * e2e_rate / verify_two,
            fsyncs > 0 ? intake_rate / fsyncs : 0);
    printf ("targets: intake %s, p99 delivery at 10 %% load < 20 ms %s\n",
            intake_rate >= 0.7 * verify_two ? "MET" : "MISSED",
            delivered_p99 < 20 ? "MET" : "MISSED");

    //  Clean up
    kill (bench.broker_pid, SIGTERM);
    waitpid (bench.broker_pid, NULL, 0);
    for (size_t index = 0; index < towns; index++) {
        s_town_t *town = &bench.towns[index];
        zsock_destroy (&town->socket);
        for (size_t number = 0; number < town->message_count; number++) {
            s_message_t *message = town->messages[number];
            zchunk_destroy (&message->envelope);
            zchunk_destroy (&message->receipt);
            zchunk_destroy (&message->receipt_receipt);
            free (message);
        }
        free (town->messages);
        br_identity_destroy (&town->identity);
    }
    free (bench.towns);
    zhashx_destroy (&bench.by_hash);
    zhashx_destroy (&bench.by_id);
    br_identity_destroy (&bench.county);
    br_identity_destroy (&bench.broker);
    char *command = zsys_sprintf ("rm -rf '%s'", bench.directory);
    if (keep)
        printf ("kept %s\n", bench.directory);
    else if (system (command) != 0)
        fprintf (stderr, "broker_bench: could not remove %s\n", bench.directory);
    zstr_free (&command);
    zstr_free (&bench.directory);
    zstr_free (&default_broker);
    return ok ? 0 : 1;
}
