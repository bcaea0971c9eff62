/*  =========================================================================
    bn_record - typed casework records: protobuf messages shown as JSON

    The node keeps each casework record as a message of proto/records.proto
    and shows it in its API as JSON. This class maps one to the other by the
    message's descriptor, by the rules written at the top of records.proto:
    the same rules for every record type, so a new field needs no code here.
    Encoding refuses a JSON member that is not a field of the message and a
    value of the wrong type, so nothing untyped reaches the store; decoding
    gives back exactly the fields the record holds.
    =========================================================================
*/

#ifndef BN_RECORD_H_INCLUDED
#define BN_RECORD_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"
#include "records.pb-c.h"
#include <jansson.h>

#define BN_RECORD_PROBLEM_MAX 160               //  what encoding found wrong, as text
#define BN_RECORD_MAX         (4 * 1024 * 1024) //  largest record a node decodes

//  Encodes the JSON object `json` as a message of `descriptor`: a new chunk
//  in *bytes_p (the caller wipes and frees it). Returns OK, or MALFORMED
//  and in `problem` the member that is not a field of its message or not
//  of its field's type.
br_reason_t bn_record_encode (const ProtobufCMessageDescriptor *descriptor, json_t *json,
                              zchunk_t **bytes_p, char problem[BN_RECORD_PROBLEM_MAX]) BR_WUR;

//  Decodes `size` bytes of a `descriptor` message into a new JSON object in
//  *json_p. Returns OK, TOO_LARGE or MALFORMED.
br_reason_t bn_record_decode (const ProtobufCMessageDescriptor *descriptor, const uint8_t *data,
                              size_t size, json_t **json_p) BR_WUR;

//  Self test of this class.
void bn_record_test (bool verbose);

#endif
