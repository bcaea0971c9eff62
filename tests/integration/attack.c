/*  =========================================================================
    bruecke-attack - connects to a running broker and does one bad thing

    Usage: bruecke-attack --endpoint EP --roster FILE --county-pub FILE
                          [options] CASE

    Connects a DEALER to the broker, as a node would (CURVE with the keys of
    --key), or with a fresh key that is in no roster (--random-key), or with
    the NULL or PLAIN mechanism (--mechanism). Sends one envelope and
    reports, on one line of standard output, what the broker answered:

        ACCEPTED <id hex>...        the broker stored the message(s)
        REFUSAL <REASON> <id hex>   the broker refused; id "-" if it had none
        OTHER <TYPE>                some other message from the broker
        NO_CONNECTION               no handshake succeeded within --wait-ms
        DISCONNECTED                connected, then the broker dropped the
                                    connection without an answer
        NO_ANSWER                   connected, but nothing came back

    Answers are only believed if they verify: signed by the roster's broker
    (br_envelope_verify_in_roster) and decodable.

    Cases:
        note             a valid sealed TEST_NOTE with attestation
        no-attestation   a TEST_NOTE without attestation
        bad-signature    a valid TEST_NOTE with one signature byte flipped
        oversize         a valid TEST_NOTE whose envelope exceeds 1 MiB
        raw              the bytes of --file, as they are
        referral         a sealed REFERRAL under consent --consent with one
                         data section (--section); its attestation may name
                         another recipient (--attest-to), purpose
                         (--purpose) or validity (--valid-ms)
        withdrawal       a CONSENT_WITHDRAWAL of --consent for --to
        completion       an AGREEMENT_ACTION that completes Transferbörse
                         transfer --transfer; the completion statement
                         (--completion) is signed with --completion-key
                         (default: the signer), so a town can send a
                         completion another key signed

    Options:
        --mechanism curve|null|plain   how to connect (default curve)
        --key FILE           the connection's node keys (transport)
        --random-key         connect with a fresh key in no roster
        --sign-key FILE      who signs the envelope (default: --key)
        --forge-signer ID    a made-up key claiming to be node ID signs
        --to NODE            recipient (default unna)
        --service CODE       recipient's service (default fruehe-hilfen)
        --text TEXT          the note's text
        --id HEX             use this message id (32 hex digits)
        --sequence N         header sequence (default 1)
        --size BYTES         oversize: text length (default 1 MiB + 64 KiB)
        --save FILE          write the envelope as sent to FILE
        --build-only         with --save: write it, send nothing (prints SAVED)
        --then FILE          right after the envelope, send the bytes of FILE on
                             the same connection (so that the broker takes both
                             at once); the first answer is reported
        --file FILE          raw: the bytes to send
        --wait-ms N          how long to wait for an answer (default 3000)
        --consent HEX        consent id (32 hex digits) of referral, withdrawal
        --purpose CODE       the attestation's purpose (default language-support)
        --attest-to NODE     the attestation's recipient (default --to)
        --valid-ms N         the attestation is valid until now + N (default
                             one day; negative: it has expired)
        --section CODE       the referral's data section (default household;
                             the attestation covers household only)
        --await-recipient    after ACCEPTED, wait for the recipient's answer:
                             RECIPIENT RECEIPT or RECIPIENT REFUSAL <REASON>
        --transfer HEX       completion: the transfer id (32 hex digits)
        --completion TEXT    completion: "provider,receiver,topic,hours,completed_ms"
        --completion-key FILE  completion: who signs the statement

    Exit codes: 0 a verdict was printed, 1 setup failed, 2 usage error,
    3 the tool hung before its verdict (its threads' stacks are on stderr
    when gdb is installed).
    =========================================================================
*/

#include "bruecke.h"
#include <sys/prctl.h>
#include <sys/wait.h>

#define S_DEFAULT_WAIT_MS  3000
#define S_DEFAULT_OVERSIZE (BR_ENVELOPE_MAX_SIZE + 64 * 1024)
#define S_NOTE_LIFETIME_MS (24LL * 3600 * 1000)
#define S_CONSENT_ID_HEX   "00112233445566778899aabbccddeeff"
#define S_POLL_MS          50
#define S_HELLO_CREDIT     16 //  deliveries welcome with --await-recipient
#define S_MONITOR_ENDPOINT "inproc://bruecke-attack-monitor"
#define S_WATCHDOG_S       20 //  past --wait-ms: the tool has hung
#define S_TEARDOWN_S       10 //  after the verdict: closing the sockets has hung

//  Set once the verdict is on stdout: what a caller needs is there.
static volatile sig_atomic_t s_verdict_given = 0;

//  Our pid as text for gdb, written before the watchdog is armed: the
//  handler may only call async-signal-safe functions.
static char s_pid_text[24];

//  Writes every thread's stack to stderr with gdb, if it is installed: a
//  rare hang is diagnosed from the first log that shows it.
static void
s_write_stacks (void)
{
    pid_t child = fork ();
    if (child == 0) {
        dup2 (STDERR_FILENO, STDOUT_FILENO);
        execlp ("gdb", "gdb", "-q", "-batch", "-p", s_pid_text, "-ex", "thread apply all bt",
                (char *) NULL);
        _exit (127);
    }
    if (child > 0)
        waitpid (child, NULL, 0);
}

//  The watchdog: a tool that hangs must not hang its test. Before the
//  verdict that is a failure of the tool (exit 3, said so, with the
//  stacks); after it, a hang in libzmq's teardown, which the verdict does
//  not depend on (exit 0).
static void
s_watchdog (int signal)
{
    (void) signal;
    static const char hung[] = "bruecke-attack: hung before giving its verdict; stacks follow\n";
    if (s_verdict_given)
        _exit (0);
    if (write (STDERR_FILENO, hung, sizeof (hung) - 1) < 0)
        _exit (4);
    s_write_stacks ();
    _exit (3);
}

//  What the command line asked for.
typedef struct {
    const char *endpoint;                //  the broker's endpoint
    const char *roster;                  //  roster file
    const char *county_pub;              //  county public key file
    const char *mechanism;               //  curve, null or plain
    const char *key;                     //  the connection's key file
    bool random_key;                     //  connect with a fresh key
    const char *sign_key;                //  the signer's key file
    const char *forge_signer;            //  a made-up signer claiming this node id
    const char *to;                      //  recipient node
    const char *service;                 //  recipient service
    const char *text;                    //  the note's text
    const char *id_hex;                  //  fixed message id, or NULL
    uint64_t sequence;                   //  header sequence
    size_t size;                         //  oversize text length
    const char *save;                    //  where to save the envelope sent
    const char *file;                    //  raw: bytes to send
    const char *then;                    //  bytes to send right after, or NULL
    bool build_only;                     //  save the envelope, send nothing
    int wait_ms;                         //  answer timeout
    const char *test_case;               //  what to do
    const char *consent_hex;             //  consent of referral and withdrawal
    const char *purpose;                 //  the attestation's purpose
    const char *attest_to;               //  the attestation's recipient, or NULL for --to
    int64_t valid_ms;                    //  the attestation's validity from now
    const char *section;                 //  the referral's data section
    bool await_recipient;                //  wait for the recipient's answer too
    uint8_t sent_id[BR_MESSAGE_ID_SIZE]; //  id of the casework message sent
    const char *transfer_hex;            //  completion: the transfer
    const char *completion;              //  completion: the statement's fields
    const char *completion_key;          //  completion: who signs the statement
} s_options_t;

static int
s_usage (const char *problem)
{
    fprintf (stderr, "bruecke-attack: %s\n(see the comment at the top of attack.c)\n", problem);
    return 2;
}

//  Parses the command line into *options. Returns 0 or the usage exit code.
static int
s_parse (int argc, char *argv[], s_options_t *options)
{
    *options = (s_options_t){.mechanism = "curve",
                             .to = "unna",
                             .service = "fruehe-hilfen",
                             .text = "Testnachricht vom Angreifer, erfunden",
                             .sequence = 1,
                             .size = S_DEFAULT_OVERSIZE,
                             .wait_ms = S_DEFAULT_WAIT_MS,
                             .consent_hex = S_CONSENT_ID_HEX,
                             .purpose = "language-support",
                             .valid_ms = S_NOTE_LIFETIME_MS,
                             .section = "household"};
    for (int index = 1; index < argc; index++) {
        const char *arg = argv[index];
        const char *value = index + 1 < argc ? argv[index + 1] : NULL;
        bool takes_value = true;
        if (streq (arg, "--random-key")) {
            options->random_key = true;
            takes_value = false;
        } else if (streq (arg, "--await-recipient")) {
            options->await_recipient = true;
            takes_value = false;
        } else if (streq (arg, "--build-only")) {
            options->build_only = true;
            takes_value = false;
        } else if (arg[0] != '-') {
            if (options->test_case)
                return s_usage ("give exactly one CASE");
            options->test_case = arg;
            takes_value = false;
        } else if (!value)
            return s_usage ("an option lacks its value");
        else if (streq (arg, "--endpoint"))
            options->endpoint = value;
        else if (streq (arg, "--roster"))
            options->roster = value;
        else if (streq (arg, "--county-pub"))
            options->county_pub = value;
        else if (streq (arg, "--mechanism"))
            options->mechanism = value;
        else if (streq (arg, "--key"))
            options->key = value;
        else if (streq (arg, "--sign-key"))
            options->sign_key = value;
        else if (streq (arg, "--forge-signer"))
            options->forge_signer = value;
        else if (streq (arg, "--to"))
            options->to = value;
        else if (streq (arg, "--service"))
            options->service = value;
        else if (streq (arg, "--text"))
            options->text = value;
        else if (streq (arg, "--id"))
            options->id_hex = value;
        else if (streq (arg, "--sequence"))
            options->sequence = strtoull (value, NULL, 10);
        else if (streq (arg, "--size"))
            options->size = strtoull (value, NULL, 10);
        else if (streq (arg, "--save"))
            options->save = value;
        else if (streq (arg, "--file"))
            options->file = value;
        else if (streq (arg, "--then"))
            options->then = value;
        else if (streq (arg, "--wait-ms"))
            options->wait_ms = atoi (value);
        else if (streq (arg, "--consent"))
            options->consent_hex = value;
        else if (streq (arg, "--purpose"))
            options->purpose = value;
        else if (streq (arg, "--attest-to"))
            options->attest_to = value;
        else if (streq (arg, "--valid-ms"))
            options->valid_ms = strtoll (value, NULL, 10);
        else if (streq (arg, "--section"))
            options->section = value;
        else if (streq (arg, "--transfer"))
            options->transfer_hex = value;
        else if (streq (arg, "--completion"))
            options->completion = value;
        else if (streq (arg, "--completion-key"))
            options->completion_key = value;
        else
            return s_usage ("unknown option");
        if (takes_value)
            index++;
    }
    if (!options->endpoint || !options->roster || !options->county_pub || !options->test_case)
        return s_usage ("--endpoint, --roster, --county-pub and a CASE are required");
    if (!streq (options->mechanism, "curve") && !streq (options->mechanism, "null") &&
        !streq (options->mechanism, "plain"))
        return s_usage ("--mechanism is curve, null or plain");
    if (streq (options->mechanism, "curve") && !options->key && !options->random_key)
        return s_usage ("CURVE needs --key or --random-key");
    if (streq (options->test_case, "raw") && !options->file)
        return s_usage ("raw needs --file");
    if (options->build_only && !options->save)
        return s_usage ("--build-only needs --save");
    return 0;
}

//  ---- Building what to send ---------------------------------------------------

//  A TEST_NOTE from `signer` as the options describe. The caller owns it.
static zchunk_t *
s_build_note (s_options_t *options, br_identity_t *signer, br_roster_t *roster, bool attested,
              const char *text)
{
    const Bruecke__RosterNode *recipient = br_roster_lookup_by_id (roster, options->to);
    if (!recipient) {
        fprintf (stderr, "bruecke-attack: %s is not in the roster\n", options->to);
        return NULL;
    }
    int64_t now = br_now_ms ();
    uint8_t id[BR_MESSAGE_ID_SIZE];
    Bruecke__Header header;
    br_envelope_header_init (&header, id, BRUECKE__MESSAGE_TYPE__TYPE_TEST_NOTE,
                             br_identity_node_id (signer), options->to, options->service,
                             options->sequence, now, S_NOTE_LIFETIME_MS);
    if (options->id_hex && br_hex_decode (options->id_hex, id, sizeof (id)) != 0) {
        fprintf (stderr, "bruecke-attack: --id needs %d hex digits\n", 2 * BR_MESSAGE_ID_SIZE);
        return NULL;
    }
    uint8_t consent_id[BR_CONSENT_ID_SIZE];
    int rc = br_hex_decode (S_CONSENT_ID_HEX, consent_id, sizeof (consent_id));
    assert (rc == 0);
    char *categories[] = {"household"};
    Bruecke__Attestation attestation = BRUECKE__ATTESTATION__INIT;
    attestation.basis = BRUECKE__LEGAL_BASIS__BASIS_CONSENT;
    attestation.consent_id.data = consent_id;
    attestation.consent_id.len = sizeof (consent_id);
    attestation.purpose = "language-support";
    attestation.data_categories = categories;
    attestation.n_data_categories = 1;
    attestation.recipient = (char *) options->to;
    attestation.recipient_service = (char *) options->service;
    attestation.valid_from_ms = now - 60000;
    attestation.valid_until_ms = now + S_NOTE_LIFETIME_MS;
    Bruecke__TestNote note = BRUECKE__TEST_NOTE__INIT;
    note.text = (char *) text;
    char id_text[2 * BR_MESSAGE_ID_SIZE + 1];
    br_hex_encode (id, sizeof (id), id_text);
    fprintf (stderr, "bruecke-attack: message %s from %s to %s/%s, sequence %llu\n", id_text,
             br_identity_node_id (signer), options->to, options->service,
             (unsigned long long) options->sequence);
    return br_envelope_build (signer, &header, attested ? &attestation : NULL, &note.base,
                              recipient->seal_public_key.data);
}

//  An AGREEMENT_ACTION completing --transfer, its statement signed by
//  --completion-key (default `signer`). The caller owns it.
static zchunk_t *
s_build_completion (s_options_t *options, br_identity_t *signer)
{
    br_ledger_completion_t completion;
    memset (&completion, 0, sizeof (completion));
    long long hours = 0, completed_ms = 0;
    if (!options->transfer_hex || !options->completion ||
        br_hex_decode (options->transfer_hex, completion.transfer_id, BR_LEDGER_TRANSFER_ID_SIZE) !=
            0 ||
        sscanf (options->completion, "%32[a-z0-9-],%32[a-z0-9-],%48[a-z0-9-],%lld,%lld",
                completion.provider, completion.receiver, completion.topic, &hours,
                &completed_ms) != 5) {
        fprintf (stderr, "bruecke-attack: completion needs --transfer and --completion\n");
        return NULL;
    }
    completion.hours = hours;
    completion.completed_ms = completed_ms;
    br_reason_t reason = BR_REASON_OK;
    br_identity_t *statement_signer =
        options->completion_key ? br_identity_load (options->completion_key, &reason) : NULL;
    uint8_t signature[BR_SIGNATURE_SIZE];
    if (reason == BR_REASON_OK)
        reason =
            br_ledger_sign (statement_signer ? statement_signer : signer, &completion, signature);
    br_identity_destroy (&statement_signer);
    if (reason != BR_REASON_OK) {
        fprintf (stderr, "bruecke-attack: cannot sign the completion: %s\n",
                 br_reason_name (reason));
        return NULL;
    }
    Bruecke__AgreementAction action = BRUECKE__AGREEMENT_ACTION__INIT;
    action.transfer_id.data = completion.transfer_id;
    action.transfer_id.len = BR_LEDGER_TRANSFER_ID_SIZE;
    action.step = BRUECKE__AGREEMENT_STEP__STEP_COMPLETE;
    action.completed_ms = completion.completed_ms;
    action.signature.data = signature;
    action.signature.len = sizeof (signature);
    Bruecke__Header header;
    uint8_t id[BR_MESSAGE_ID_SIZE];
    br_envelope_header_init (&header, id, BRUECKE__MESSAGE_TYPE__TYPE_AGREEMENT_ACTION,
                             br_identity_node_id (signer), "", "", options->sequence, br_now_ms (),
                             S_NOTE_LIFETIME_MS);
    return br_envelope_build (signer, &header, NULL, &action.base, NULL);
}

//  Flips one byte of the envelope's signature; returns the new envelope.
static zchunk_t *
s_flip_signature (zchunk_t *envelope_bytes)
{
    Bruecke__Envelope *envelope = bruecke__envelope__unpack (NULL, zchunk_size (envelope_bytes),
                                                             zchunk_data (envelope_bytes));
    assert (envelope && envelope->signature.len == BR_SIGNATURE_SIZE);
    envelope->signature.data[BR_SIGNATURE_SIZE / 2] ^= 0x01;
    zchunk_t *flipped = br_proto_encode (&envelope->base);
    bruecke__envelope__free_unpacked (envelope, NULL);
    return flipped;
}

//  A REFERRAL or CONSENT_WITHDRAWAL from `signer` as the options describe.
//  The caller owns it.
static zchunk_t *
s_build_casework (s_options_t *options, br_identity_t *signer, br_roster_t *roster, bool referral)
{
    const Bruecke__RosterNode *recipient = br_roster_lookup_by_id (roster, options->to);
    uint8_t consent_id[BR_CONSENT_ID_SIZE];
    if (!recipient || br_hex_decode (options->consent_hex, consent_id, sizeof (consent_id)) != 0) {
        fprintf (stderr, "bruecke-attack: unknown --to or bad --consent\n");
        return NULL;
    }
    int64_t now = br_now_ms ();
    uint8_t id[BR_MESSAGE_ID_SIZE];
    Bruecke__Header header;
    br_envelope_header_init (&header, id,
                             referral ? BRUECKE__MESSAGE_TYPE__TYPE_REFERRAL
                                      : BRUECKE__MESSAGE_TYPE__TYPE_CONSENT_WITHDRAWAL,
                             br_identity_node_id (signer), options->to, options->service,
                             options->sequence, now, S_NOTE_LIFETIME_MS);
    memcpy (options->sent_id, id, sizeof (id));
    if (!referral) {
        Bruecke__ConsentWithdrawal withdrawal = BRUECKE__CONSENT_WITHDRAWAL__INIT;
        withdrawal.consent_id.data = consent_id;
        withdrawal.consent_id.len = sizeof (consent_id);
        withdrawal.withdrawn_at_ms = now;
        return br_envelope_build (signer, &header, NULL, &withdrawal.base, NULL);
    }
    char *categories[] = {"household"};
    Bruecke__Attestation attestation = BRUECKE__ATTESTATION__INIT;
    attestation.basis = BRUECKE__LEGAL_BASIS__BASIS_CONSENT;
    attestation.consent_id.data = consent_id;
    attestation.consent_id.len = sizeof (consent_id);
    attestation.purpose = (char *) options->purpose;
    attestation.data_categories = categories;
    attestation.n_data_categories = 1;
    attestation.recipient = (char *) (options->attest_to ? options->attest_to : options->to);
    attestation.recipient_service = (char *) options->service;
    attestation.valid_from_ms = now - 2 * S_NOTE_LIFETIME_MS;
    attestation.valid_until_ms = now + options->valid_ms;
    uint8_t referral_id[16];
    randombytes_buf (referral_id, sizeof (referral_id));
    Bruecke__DataSection section = BRUECKE__DATA_SECTION__INIT;
    section.category = (char *) options->section;
    section.content = "{\"members\": [{\"name\": \"Erfundene Person\", \"role\": \"mother\", "
                      "\"age\": 30}]}";
    Bruecke__DataSection *sections[] = {&section};
    Bruecke__Referral body = BRUECKE__REFERRAL__INIT;
    body.referral_id.data = referral_id;
    body.referral_id.len = sizeof (referral_id);
    body.sender_service = "jugendamt"; //  kamen offers it: the answer can come back
    body.sections = sections;
    body.n_sections = 1;
    body.note = "erfunden";
    return br_envelope_build (signer, &header, &attestation, &body.base,
                              recipient->seal_public_key.data);
}

//  Builds the bytes the case sends. The caller owns them; NULL on failure.
static zchunk_t *
s_payload (s_options_t *options, br_roster_t *roster, br_identity_t *signer)
{
    const char *test_case = options->test_case;
    if (streq (test_case, "raw")) {
        br_reason_t reason;
        zchunk_t *bytes = br_file_read (options->file, 16 * BR_ENVELOPE_MAX_SIZE, &reason);
        if (!bytes)
            fprintf (stderr, "bruecke-attack: cannot read %s: %s\n", options->file,
                     br_reason_name (reason));
        return bytes;
    }
    if (!signer) {
        fprintf (stderr, "bruecke-attack: this case needs a signer (--key, --sign-key or "
                         "--forge-signer)\n");
        return NULL;
    }
    if (streq (test_case, "note"))
        return s_build_note (options, signer, roster, true, options->text);
    if (streq (test_case, "no-attestation"))
        return s_build_note (options, signer, roster, false, options->text);
    if (streq (test_case, "bad-signature")) {
        zchunk_t *note = s_build_note (options, signer, roster, true, options->text);
        zchunk_t *flipped = note ? s_flip_signature (note) : NULL;
        zchunk_destroy (&note);
        return flipped;
    }
    if (streq (test_case, "oversize")) {
        char *text = (char *) malloc (options->size + 1);
        assert (text);
        memset (text, 'x', options->size);
        text[options->size] = '\0';
        zchunk_t *note = s_build_note (options, signer, roster, true, text);
        free (text);
        return note;
    }
    if (streq (test_case, "referral") || streq (test_case, "withdrawal"))
        return s_build_casework (options, signer, roster, streq (test_case, "referral"));
    if (streq (test_case, "completion"))
        return s_build_completion (options, signer);
    fprintf (stderr, "bruecke-attack: unknown case %s\n", test_case);
    return NULL;
}

//  ---- Talking to the broker ----------------------------------------------------

//  Describes one answer from the broker into `verdict`. Returns true if it
//  is final (ACCEPTED, REFUSAL, OTHER), false to keep waiting (HEARTBEAT,
//  ROSTER_UPDATE, or something that does not verify).
static bool
s_judge_answer (zframe_t *frame, br_roster_t *roster, s_options_t *options, char *verdict,
                size_t verdict_size)
{
    bool await_recipient = options->await_recipient;
    br_reason_t reason;
    br_envelope_t *envelope =
        br_envelope_decode (zframe_data (frame), zframe_size (frame), &reason);
    if (envelope)
        reason = br_envelope_verify_in_roster (envelope, roster);
    const Bruecke__RosterNode *signer =
        envelope ? br_roster_lookup_by_id (roster, br_envelope_signer (envelope)) : NULL;
    if (reason != BR_REASON_OK || !signer) {
        fprintf (stderr, "bruecke-attack: ignoring an unverifiable answer (%s)\n",
                 br_reason_name (reason));
        br_envelope_destroy (&envelope);
        return false;
    }
    const Bruecke__Header *header = br_envelope_header (envelope);
    if (signer->role != BRUECKE__NODE_ROLE__ROLE_BROKER) {
        //  The recipient's own answer about our message, routed back by the
        //  broker (answers about earlier runs' messages may come first)
        bool refusal = header->type == BRUECKE__MESSAGE_TYPE__TYPE_REFUSAL;
        bool final = false;
        ProtobufCMessage *body = NULL;
        if (await_recipient && (refusal || header->type == BRUECKE__MESSAGE_TYPE__TYPE_RECEIPT) &&
            br_envelope_open_body (envelope, NULL,
                                   refusal ? &bruecke__refusal__descriptor
                                           : &bruecke__receipt__descriptor,
                                   &body) == BR_REASON_OK) {
            const ProtobufCBinaryData *answered = refusal
                                                      ? &((Bruecke__Refusal *) body)->message_id
                                                      : &((Bruecke__Receipt *) body)->message_id;
            final = answered->len == BR_MESSAGE_ID_SIZE &&
                    memcmp (answered->data, options->sent_id, BR_MESSAGE_ID_SIZE) == 0;
        }
        if (final && refusal)
            snprintf (verdict, verdict_size, "RECIPIENT REFUSAL %s",
                      br_reason_name ((br_reason_t) ((Bruecke__Refusal *) body)->reason));
        else if (final)
            snprintf (verdict, verdict_size, "RECIPIENT RECEIPT");
        br_proto_free (&body);
        br_envelope_destroy (&envelope);
        return final;
    }
    bool final = true;
    ProtobufCMessage *body = NULL;
    if (header->type == BRUECKE__MESSAGE_TYPE__TYPE_REFUSAL &&
        br_envelope_open_body (envelope, NULL, &bruecke__refusal__descriptor, &body) ==
            BR_REASON_OK) {
        Bruecke__Refusal *refusal = (Bruecke__Refusal *) body;
        char id[2 * BR_MESSAGE_ID_SIZE + 1] = "-";
        if (refusal->message_id.len == BR_MESSAGE_ID_SIZE)
            br_hex_encode (refusal->message_id.data, BR_MESSAGE_ID_SIZE, id);
        snprintf (verdict, verdict_size, "REFUSAL %s %s",
                  br_reason_name ((br_reason_t) refusal->reason), id);
        fprintf (stderr, "bruecke-attack: refusal detail: %s\n",
                 refusal->detail ? refusal->detail : "");
    } else if (header->type == BRUECKE__MESSAGE_TYPE__TYPE_ACCEPTED &&
               br_envelope_open_body (envelope, NULL, &bruecke__accepted__descriptor, &body) ==
                   BR_REASON_OK) {
        Bruecke__Accepted *accepted = (Bruecke__Accepted *) body;
        size_t used = (size_t) snprintf (verdict, verdict_size, "ACCEPTED");
        for (size_t index = 0; index < accepted->n_message_ids && used < verdict_size; index++) {
            char id[2 * BR_MESSAGE_ID_SIZE + 1] = "?";
            if (accepted->message_ids[index].len == BR_MESSAGE_ID_SIZE)
                br_hex_encode (accepted->message_ids[index].data, BR_MESSAGE_ID_SIZE, id);
            used += (size_t) snprintf (verdict + used, verdict_size - used, " %s", id);
        }
        final = !await_recipient;
    } else if (header->type == BRUECKE__MESSAGE_TYPE__TYPE_HEARTBEAT) {
        //  Without a HELLO of ours the broker holds no session: it asks for one
        if (br_envelope_open_body (envelope, NULL, &bruecke__heartbeat__descriptor, &body) ==
                BR_REASON_OK &&
            ((Bruecke__Heartbeat *) body)->hello_wanted)
            fprintf (stderr, "bruecke-attack: the broker asks for HELLO\n");
        final = false;
    } else if (header->type == BRUECKE__MESSAGE_TYPE__TYPE_ROSTER_UPDATE)
        final = false;
    else
        snprintf (verdict, verdict_size, "OTHER %s", br_message_type_name (header->type));
    br_proto_free (&body);
    br_envelope_destroy (&envelope);
    return final;
}

//  Connection events seen on the monitor.
typedef struct {
    int handshakes;   //  handshakes that succeeded
    int disconnects;  //  disconnects after a successful handshake
    int failures;     //  failed handshakes
    bool last_was_ok; //  the last handshake succeeded and is not yet closed
} s_events_t;

static void
s_take_event (zsock_t *monitor, s_events_t *events)
{
    zmsg_t *event = zmsg_recv (monitor);
    if (!event)
        return;
    zframe_t *first = zmsg_first (event);
    if (first && zframe_size (first) >= 6) {
        uint16_t code = (uint16_t) (zframe_data (first)[0] | (zframe_data (first)[1] << 8));
        if (code == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
            events->handshakes++;
            events->last_was_ok = true;
            fprintf (stderr, "bruecke-attack: handshake succeeded\n");
        } else if (code == ZMQ_EVENT_DISCONNECTED) {
            if (events->last_was_ok) {
                events->disconnects++;
                fprintf (stderr, "bruecke-attack: disconnected by the broker\n");
            }
            events->last_was_ok = false;
        } else if (code == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL ||
                   code == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ||
                   code == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
            if (events->failures++ == 0)
                fprintf (stderr, "bruecke-attack: handshake failed (event 0x%x)\n", code);
        }
    }
    zmsg_destroy (&event);
}

//  Applies the connection's mechanism and keys to the dealer. The
//  identity, if one is made, is returned in *keys_p for the caller.
static int
s_secure (zsock_t *dealer, s_options_t *options, br_roster_t *roster, br_identity_t **keys_p)
{
    if (streq (options->mechanism, "null"))
        return 0;
    if (streq (options->mechanism, "plain")) {
        zsock_set_plain_username (dealer, "luenen");
        zsock_set_plain_password (dealer, "secret");
        return 0;
    }
    br_identity_t *keys = NULL;
    br_reason_t reason = BR_REASON_OK;
    if (options->random_key)
        keys = br_identity_new ("stranger");
    else
        keys = br_identity_load (options->key, &reason);
    if (!keys) {
        fprintf (stderr, "bruecke-attack: cannot load %s: %s\n", options->key,
                 br_reason_name (reason));
        return -1;
    }
    const Bruecke__Roster *content = br_roster_content (roster);
    const Bruecke__RosterNode *broker = NULL;
    for (size_t index = 0; index < content->n_nodes && !broker; index++)
        if (content->nodes[index]->role == BRUECKE__NODE_ROLE__ROLE_BROKER)
            broker = content->nodes[index];
    if (!broker) {
        fprintf (stderr, "bruecke-attack: the roster names no broker\n");
        br_identity_destroy (&keys);
        return -1;
    }
    zcert_t *cert =
        zcert_new_from (br_identity_transport_public (keys), br_identity_transport_secret (keys));
    zcert_apply (cert, dealer);
    zcert_destroy (&cert);
    zsock_set_curve_serverkey_bin (dealer, broker->transport_public_key.data);
    *keys_p = keys;
    return 0;
}

//  Chooses who signs: a made-up key, --sign-key, or the connection's keys.
static br_identity_t *
s_signer (s_options_t *options)
{
    if (options->forge_signer)
        return br_identity_new (options->forge_signer);
    const char *path = options->sign_key ? options->sign_key : options->key;
    if (!path)
        return NULL;
    br_reason_t reason;
    br_identity_t *signer = br_identity_load (path, &reason);
    if (!signer)
        fprintf (stderr, "bruecke-attack: cannot load %s: %s\n", path, br_reason_name (reason));
    return signer;
}

int
main (int argc, char *argv[])
{
    s_options_t options;
    int rc = s_parse (argc, argv, &options);
    if (rc != 0)
        return rc;
    if (sodium_init () < 0)
        return 1;
    zsys_init ();
    zsys_set_logstream (stderr);

    br_reason_t reason;
    br_identity_t *county = br_identity_load_public (options.county_pub, &reason);
    br_roster_t *roster = county ? br_roster_load (options.roster, br_identity_sign_public (county),
                                                   NULL, br_now_ms (), &reason)
                                 : NULL;
    br_identity_destroy (&county);
    if (!roster) {
        fprintf (stderr, "bruecke-attack: roster: %s\n", br_reason_name (reason));
        return 1;
    }
    br_identity_t *signer = s_signer (&options);
    zchunk_t *payload = s_payload (&options, roster, signer);
    br_identity_destroy (&signer);
    if (!payload) {
        br_roster_destroy (&roster);
        return 1;
    }
    if (options.save) {
        reason =
            br_file_write (options.save, zchunk_data (payload), zchunk_size (payload), 0600, true);
        if (reason != BR_REASON_OK) {
            fprintf (stderr, "bruecke-attack: cannot write %s\n", options.save);
            zchunk_destroy (&payload);
            br_roster_destroy (&roster);
            return 1;
        }
        if (options.build_only) {
            printf ("SAVED\n");
            zchunk_destroy (&payload);
            br_roster_destroy (&roster);
            return 0;
        }
    }
    zchunk_t *then = NULL;
    if (options.then && !(then = br_file_read (options.then, 16 * BR_ENVELOPE_MAX_SIZE, &reason))) {
        fprintf (stderr, "bruecke-attack: cannot read %s: %s\n", options.then,
                 br_reason_name (reason));
        zchunk_destroy (&payload);
        br_roster_destroy (&roster);
        return 1;
    }

    snprintf (s_pid_text, sizeof (s_pid_text), "%d", (int) getpid ());
    prctl (PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0); //  gdb, our child, may attach
    signal (SIGALRM, s_watchdog);
    alarm ((unsigned) (options.wait_ms / 1000) + S_WATCHDOG_S);
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    zsock_set_linger (dealer, 0);
    br_identity_t *keys = NULL;
    if (s_secure (dealer, &options, roster, &keys) != 0) {
        zsock_destroy (&dealer);
        zchunk_destroy (&payload);
        br_roster_destroy (&roster);
        return 1;
    }
    rc = zmq_socket_monitor (zsock_resolve (dealer), S_MONITOR_ENDPOINT, ZMQ_EVENT_ALL);
    assert (rc == 0);
    zsock_t *monitor = zsock_new (ZMQ_PAIR);
    rc = zsock_connect (monitor, S_MONITOR_ENDPOINT);
    assert (rc == 0);
    if (zsock_connect (dealer, "%s", options.endpoint) != 0) {
        fprintf (stderr, "bruecke-attack: invalid endpoint %s\n", options.endpoint);
        return 2;
    }
    //  To hear the recipient, the broker must be allowed to deliver to us
    if (options.await_recipient && keys) {
        Bruecke__Header header;
        uint8_t id[BR_MESSAGE_ID_SIZE];
        br_envelope_header_init (&header, id, BRUECKE__MESSAGE_TYPE__TYPE_HELLO,
                                 br_identity_node_id (keys), "", "", 0, br_now_ms (),
                                 BR_CLOCK_SKEW_MS);
        Bruecke__Hello hello = BRUECKE__HELLO__INIT;
        hello.roster_version = br_roster_version (roster);
        hello.credit = S_HELLO_CREDIT;
        hello.software = "bruecke-attack";
        zchunk_t *chunk = br_envelope_build (keys, &header, NULL, &hello.base, NULL);
        zframe_t *greeting = zframe_new (zchunk_data (chunk), zchunk_size (chunk));
        zframe_send (&greeting, dealer, 0);
        zchunk_destroy (&chunk);
    }
    //  Queued in the dealer now; it leaves once (if ever) a handshake succeeds
    zframe_t *frame = zframe_new (zchunk_data (payload), zchunk_size (payload));
    fprintf (stderr, "bruecke-attack: sending %zu bytes (%s, %s)\n", zchunk_size (payload),
             options.test_case, options.mechanism);
    zframe_send (&frame, dealer, 0);
    zchunk_destroy (&payload);
    if (then) {
        frame = zframe_new (zchunk_data (then), zchunk_size (then));
        zframe_send (&frame, dealer, 0);
        zchunk_destroy (&then);
    }

    char verdict[4096] = "";
    s_events_t events = {0};
    zpoller_t *poller = zpoller_new (dealer, monitor, NULL);
    int64_t deadline = zclock_mono () + options.wait_ms;
    while (!*verdict && zclock_mono () < deadline) {
        zsock_t *which = (zsock_t *) zpoller_wait (poller, S_POLL_MS);
        if (which == monitor)
            s_take_event (monitor, &events);
        else if (which == dealer) {
            zframe_t *answer = zframe_recv (dealer);
            if (answer && !s_judge_answer (answer, roster, &options, verdict, sizeof (verdict)))
                *verdict = '\0';
            zframe_destroy (&answer);
        } else if (zpoller_terminated (poller))
            break;
    }
    if (!*verdict) {
        //  Take the events that are still pending before judging
        while (zsock_events (monitor) & ZMQ_POLLIN)
            s_take_event (monitor, &events);
        snprintf (verdict, sizeof (verdict), "%s",
                  events.handshakes == 0   ? "NO_CONNECTION"
                  : events.disconnects > 0 ? "DISCONNECTED"
                                           : "NO_ANSWER");
    }
    printf ("%s\n", verdict);
    fflush (stdout);
    s_verdict_given = 1;
    alarm (S_TEARDOWN_S);

    zpoller_destroy (&poller);
    zmq_socket_monitor (zsock_resolve (dealer), NULL, 0);
    zsock_destroy (&monitor);
    zsock_destroy (&dealer);
    br_identity_destroy (&keys);
    br_roster_destroy (&roster);
    return 0;
}
