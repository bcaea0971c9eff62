/*  =========================================================================
    br_proto - bounded decoding of wire structures
    =========================================================================
*/

#include "br_proto.h"

//  Allocation budget of one decode; lives on the decoding thread's stack.
typedef struct {
    size_t remaining; //  bytes the decoder may still allocate
    bool exhausted;   //  set once a request was refused
} s_budget_t;

static void *
s_budget_alloc (void *allocator_data, size_t size)
{
    s_budget_t *budget = (s_budget_t *) allocator_data;
    if (size > budget->remaining) {
        budget->exhausted = true;
        return NULL;
    }
    budget->remaining -= size;
    return malloc (size);
}

static void
s_plain_free (void *allocator_data, void *pointer)
{
    (void) allocator_data;
    free (pointer);
}

ProtobufCMessage *
br_proto_decode (const ProtobufCMessageDescriptor *descriptor, const uint8_t *data, size_t size,
                 size_t max_size, br_reason_t *reason)
{
    assert (descriptor);
    if (size > max_size) {
        *reason = BR_REASON_TOO_LARGE;
        return NULL;
    }
    s_budget_t budget = {.remaining = BR_PROTO_ALLOC_BASE + BR_PROTO_ALLOC_FACTOR * size,
                         .exhausted = false};
    ProtobufCAllocator allocator = {
        .alloc = s_budget_alloc, .free = s_plain_free, .allocator_data = &budget};
    //  protobuf-c reads nothing for size 0 but wants a valid pointer
    static const uint8_t s_empty = 0;
    ProtobufCMessage *message =
        protobuf_c_message_unpack (descriptor, &allocator, size, data ? data : &s_empty);
    if (!message) {
        *reason = BR_REASON_MALFORMED;
        return NULL;
    }
    *reason = BR_REASON_OK;
    return message;
}

void
br_proto_free (ProtobufCMessage **message_p)
{
    assert (message_p);
    if (*message_p) {
        //  Every allocation came from malloc, so the default allocator frees it
        protobuf_c_message_free_unpacked (*message_p, NULL);
        *message_p = NULL;
    }
}

zchunk_t *
br_proto_encode (const ProtobufCMessage *message)
{
    size_t size = protobuf_c_message_get_packed_size (message);
    zchunk_t *chunk = zchunk_new (NULL, size);
    size_t packed = protobuf_c_message_pack (message, zchunk_data (chunk));
    assert (packed == size);
    zchunk_set (chunk, NULL, packed);
    return chunk;
}

void
br_proto_test (bool verbose)
{
    if (verbose)
        printf (" * br_proto: ");
    //  @selftest
    Bruecke__Refusal refusal = BRUECKE__REFUSAL__INIT;
    uint8_t id[16] = {1, 2, 3};
    refusal.message_id.data = id;
    refusal.message_id.len = sizeof (id);
    refusal.reason = BRUECKE__REASON_CODE__REASON_REPLAYED;
    refusal.detail = "seen before";
    zchunk_t *chunk = br_proto_encode (&refusal.base);
    br_reason_t reason;

    //  Round trip
    ProtobufCMessage *decoded = br_proto_decode (&bruecke__refusal__descriptor, zchunk_data (chunk),
                                                 zchunk_size (chunk), 1024, &reason);
    assert (decoded && reason == BR_REASON_OK);
    Bruecke__Refusal *copy = (Bruecke__Refusal *) decoded;
    assert (copy->reason == BRUECKE__REASON_CODE__REASON_REPLAYED);
    assert (streq (copy->detail, "seen before"));
    assert (copy->message_id.len == 16 && memcmp (copy->message_id.data, id, 16) == 0);
    br_proto_free (&decoded);
    assert (decoded == NULL);
    br_proto_free (&decoded);

    //  Size limit before decoding
    assert (!br_proto_decode (&bruecke__refusal__descriptor, zchunk_data (chunk),
                              zchunk_size (chunk), zchunk_size (chunk) - 1, &reason));
    assert (reason == BR_REASON_TOO_LARGE);

    //  Truncated input
    assert (!br_proto_decode (&bruecke__refusal__descriptor, zchunk_data (chunk),
                              zchunk_size (chunk) - 1, 1024, &reason));
    assert (reason == BR_REASON_MALFORMED);
    zchunk_destroy (&chunk);

    //  Garbage: a length prefix far beyond the input
    uint8_t garbage[] = {0x0a, 0xff, 0xff, 0xff, 0x0f, 0x00};
    assert (
        !br_proto_decode (&bruecke__refusal__descriptor, garbage, sizeof (garbage), 1024, &reason));
    assert (reason == BR_REASON_MALFORMED);

    //  Empty input decodes to the default message
    decoded = br_proto_decode (&bruecke__refusal__descriptor, NULL, 0, 1024, &reason);
    assert (decoded && reason == BR_REASON_OK);
    br_proto_free (&decoded);

    //  Allocation budget: an empty RosterNode costs two wire bytes but a
    //  whole structure in memory, so a roster of many empty nodes would need
    //  far more than the budget. The decoder is stopped, not the process.
    size_t entries = 200000;
    uint8_t *wide = (uint8_t *) malloc (entries * 2);
    for (size_t index = 0; index < entries; index++) {
        wide[2 * index] = 0x32;     //  Roster field 6 (nodes), length-delimited
        wide[2 * index + 1] = 0x00; //  empty RosterNode
    }
    decoded =
        br_proto_decode (&bruecke__roster__descriptor, wide, entries * 2, entries * 2, &reason);
    assert (decoded == NULL && reason == BR_REASON_MALFORMED);
    free (wide);
    //  @end
    if (verbose)
        printf ("OK\n");
}
