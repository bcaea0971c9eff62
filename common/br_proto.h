/*  =========================================================================
    br_proto - bounded decoding of wire structures

    protobuf-c has a history of unpack bugs on hostile input. Every decode in
    bruecke goes through here: the size is checked before the decoder runs,
    and the decoder gets an allocator with a fixed budget, so hostile input
    cannot make it allocate more than a bounded multiple of its size.
    =========================================================================
*/

#ifndef BR_PROTO_H_INCLUDED
#define BR_PROTO_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"

//  The decoder may allocate at most this multiple of the input size ...
#define BR_PROTO_ALLOC_FACTOR 16
//  ... plus this fixed allowance for the top-level structures.
#define BR_PROTO_ALLOC_BASE (64 * 1024)

//  Decodes `size` bytes as a `descriptor` message. Refuses input over
//  `max_size` with TOO_LARGE before decoding; refuses undecodable input, or
//  input that would need more memory than the budget, with MALFORMED.
//  Returns the message, to be freed with br_proto_free, or NULL and *reason.
ProtobufCMessage *br_proto_decode (const ProtobufCMessageDescriptor *descriptor,
                                   const uint8_t *data, size_t size, size_t max_size,
                                   br_reason_t *reason);

//  Frees a message returned by br_proto_decode and nulls the pointer.
void br_proto_free (ProtobufCMessage **message_p);

//  Serializes `message` into a new chunk the caller owns.
zchunk_t *br_proto_encode (const ProtobufCMessage *message);

//  Self test of this class.
void br_proto_test (bool verbose);

#endif
