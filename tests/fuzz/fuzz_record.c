/*  =========================================================================
    fuzz_record - fuzz target: a node's store records decoded into JSON

    The input is a control byte, then the bytes of one store record of
    proto/records.proto. The control byte, modulo S_RECORD_TYPES, says which
    record: 0 CaseRecord, 1 ConsentRecord, 2 ReferralRecord, 3 TransferRecord,
    4 EmergencyRecord, the records the node's API shows as JSON (make_corpus.c
    writes the same numbers). An empty input has no control byte and does
    nothing; a control byte alone is an empty record.

    bn_record_decode decodes the bytes with protobuf-c and maps the message
    to JSON by its descriptor: objects, lists, maps, the `as_...` choice of a
    field's previous value, and the sections' JSON text parsed by jansson.
    What it decodes goes back through bn_record_encode and is decoded again.

    Besides crashes, leaks and undefined behaviour, the target checks:
    decoding gives OK and a JSON object, or TOO_LARGE or MALFORMED and no
    JSON; a decoded record encodes again (what decodes is typed), giving
    bytes and no problem; those bytes decode to JSON equal to the first
    decoding (decoding after encoding is the identity on decoded records);
    and a refused encoding (the decoded record with one member more, which
    no record has) gives no bytes and names that member.

    The target needs nothing of the fixture's world: no keys, no store, no
    clock. Set FUZZ_RECORD_TRACE in the environment to print each input's
    record type, verdict and JSON (the seed corpus's names say which verdict
    to expect).
    =========================================================================
*/

#include "fuzz_fixture.h"
#include "bn_record.h"

#define S_RECORD_TYPES 5 //  record types the control byte chooses from

//  The records an input can be, by control byte.
static const ProtobufCMessageDescriptor *s_records[S_RECORD_TYPES] = {
    &bruecke__store__case_record__descriptor,      //  0
    &bruecke__store__consent_record__descriptor,   //  1
    &bruecke__store__referral_record__descriptor,  //  2
    &bruecke__store__transfer_record__descriptor,  //  3
    &bruecke__store__emergency_record__descriptor, //  4
};

static bool s_trace = false; //  FUZZ_RECORD_TRACE is set

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    s_trace = getenv ("FUZZ_RECORD_TRACE") != NULL;
    return 0;
}

//  Prints an input's record type, verdict and JSON, if tracing.
static void
s_trace_verdict (const ProtobufCMessageDescriptor *record, br_reason_t reason, json_t *json)
{
    if (!s_trace)
        return;
    char *text = json ? json_dumps (json, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    printf ("fuzz_record: %s %s%s%s\n", record->short_name, br_reason_name (reason),
            text ? " " : "", text ? text : "");
    fflush (stdout);
    free (text);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const ProtobufCMessageDescriptor *record = s_records[data[0] % S_RECORD_TYPES];
    const uint8_t *bytes = data + 1;
    size_t bytes_size = size - 1;

    json_t *json = NULL;
    br_reason_t reason = bn_record_decode (record, bytes, bytes_size, &json);
    s_trace_verdict (record, reason, json);
    FUZZ_CHECK ((json != NULL) == (reason == BR_REASON_OK));
    if (!json) {
        FUZZ_CHECK (reason == BR_REASON_TOO_LARGE || reason == BR_REASON_MALFORMED);
        return 0;
    }
    //  Every record is a message of fields: a JSON object
    FUZZ_CHECK (json_is_object (json));

    //  What decodes is typed: it encodes again
    zchunk_t *encoded = NULL;
    char problem[BN_RECORD_PROBLEM_MAX];
    reason = bn_record_encode (record, json, &encoded, problem);
    if (reason != BR_REASON_OK)
        fprintf (stderr, "fuzz_record: a decoded %s does not encode: %s (%s)\n", record->short_name,
                 br_reason_name (reason), problem);
    FUZZ_CHECK (reason == BR_REASON_OK);
    FUZZ_CHECK (encoded && *problem == 0);

    //  ... and decodes again to the same JSON
    json_t *again = NULL;
    reason = bn_record_decode (record, zchunk_data (encoded), zchunk_size (encoded), &again);
    FUZZ_CHECK (reason == BR_REASON_OK && again);
    if (!json_equal (json, again)) {
        char *first = json_dumps (json, JSON_COMPACT | JSON_SORT_KEYS);
        char *second = json_dumps (again, JSON_COMPACT | JSON_SORT_KEYS);
        fprintf (stderr, "fuzz_record: a %s decoded as %s\n    and encoded decodes as %s\n",
                 record->short_name, first, second);
        free (first);
        free (second);
    }
    FUZZ_CHECK (json_equal (json, again));
    json_decref (again);
    zchunk_destroy (&encoded);

    //  A refused encoding gives no bytes and names its problem: a member no
    //  record has
    FUZZ_CHECK (json_object_set_new (json, "fuzz-no-field", json_true ()) == 0);
    reason = bn_record_encode (record, json, &encoded, problem);
    FUZZ_CHECK (reason == BR_REASON_MALFORMED && !encoded);
    FUZZ_CHECK (streq (problem, "fuzz-no-field: not a field of this record"));
    json_decref (json);
    return 0;
}
