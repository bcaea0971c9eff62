/*  =========================================================================
    br_ledger_record - the Transferbörse ledger's record format

    What a town signs when a transfer is completed, and the record the
    ledger (br_ledger) keeps of it: the encoding and decoding of both, the
    towns' signatures and their checks. This is all a replica or another
    implementation needs to read and check ledger records; storing them,
    their chain and the balances are br_ledger's.

    The completion statement is what both towns sign, byte for byte. It has
    exactly one encoding (all integers big-endian, no padding):

        "bruecke-ledger-v1"           17 bytes, ASCII, no NUL (domain separation)
        transfer id                   16 bytes, not all zero
        provider id length (1)        1..BR_NODE_ID_MAX, then the node id
        receiver id length (1)        1..BR_NODE_ID_MAX, then the node id
        topic length (1)              1..BR_LEDGER_TOPIC_MAX, then the topic code
        hours (8)                     signed, 1..BR_LEDGER_HOURS_MAX
        completed_ms (8)              signed, Unix milliseconds, > 0

    Node ids and topic codes are tokens ([a-z0-9-], br_token_valid); the
    provider and the receiver differ. Each signature is a detached Ed25519
    signature over exactly these bytes, with the town's roster signing key.

    A record (format 1, a br_chain record):

        format (1) | sequence (8) | recorded_ms (8) | prev (32)
        | statement length (2) + statement
        | entry count (1) = 2
        | provider id length (1) + id | amount (8, signed) = +hours
        | receiver id length (1) + id | amount (8, signed) = -hours
        | provider signature (64) | receiver signature (64)
        | hash (32) = BLAKE2b-256 (everything before it)

    `prev` is the previous record's hash (zeros for record 1).
    =========================================================================
*/

#ifndef BR_LEDGER_RECORD_H_INCLUDED
#define BR_LEDGER_RECORD_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"
#include "br_util.h"
#include "br_identity.h"
#include "br_roster.h"

//  The domain-separation prefix of a completion statement, without a NUL.
#define BR_LEDGER_DOMAIN      "bruecke-ledger-v1"
#define BR_LEDGER_DOMAIN_SIZE (sizeof (BR_LEDGER_DOMAIN) - 1)
//  A transfer id: 16 bytes, as the agreement flow assigns them.
#define BR_LEDGER_TRANSFER_ID_SIZE 16
//  Longest topic code, a token such as "fruehe-hilfen".
#define BR_LEDGER_TOPIC_MAX 48
//  Most coaching hours one completion may credit.
#define BR_LEDGER_HOURS_MAX 1000
//  Entries per record: one for the provider, one for the receiver.
#define BR_LEDGER_ENTRY_COUNT 2
//  Size of a record's hash and of the chain head's hash.
#define BR_LEDGER_HASH_SIZE 32
//  Version of the record layout, a record's first byte.
#define BR_LEDGER_FORMAT 1
//  Where a record's recorded_ms begins, and its statement's length.
#define BR_LEDGER_OFFSET_RECORDED  (1 + 8)
#define BR_LEDGER_OFFSET_STATEMENT (BR_LEDGER_OFFSET_RECORDED + 8 + BR_LEDGER_HASH_SIZE)
//  Size of a record's statement length field.
#define BR_LEDGER_STATEMENT_LENGTH_SIZE 2
//  Largest completion statement.
#define BR_LEDGER_STATEMENT_MAX                                                                    \
    (BR_LEDGER_DOMAIN_SIZE + BR_LEDGER_TRANSFER_ID_SIZE + 3 + 2 * BR_NODE_ID_MAX +                 \
     BR_LEDGER_TOPIC_MAX + 8 + 8)
//  Largest record.
#define BR_LEDGER_RECORD_MAX                                                                       \
    (1 + 8 + 8 + BR_LEDGER_HASH_SIZE + 2 + BR_LEDGER_STATEMENT_MAX + 1 +                           \
     BR_LEDGER_ENTRY_COUNT * (1 + BR_NODE_ID_MAX + 8) + 2 * BR_SIGNATURE_SIZE +                    \
     BR_LEDGER_HASH_SIZE)

//  What br_ledger_record_entries_problem reports (and br_ledger_verify).
#define BR_LEDGER_PROBLEM_UNBALANCED "entries do not sum to zero"
#define BR_LEDGER_PROBLEM_ENTRIES    "entries do not match the completion"

//  What both towns sign: one completed transfer. Strings are NUL-terminated.
typedef struct {
    uint8_t transfer_id[BR_LEDGER_TRANSFER_ID_SIZE]; //  the agreement's id
    char provider[BR_NODE_ID_MAX + 1];               //  node id of the town that coached
    char receiver[BR_NODE_ID_MAX + 1];               //  node id of the town that was coached
    char topic[BR_LEDGER_TOPIC_MAX + 1];             //  topic code of the coaching
    int64_t hours;                                   //  coaching hours, 1..BR_LEDGER_HOURS_MAX
    int64_t completed_ms;                            //  when it was completed, Unix milliseconds
} br_ledger_completion_t;

//  One entry of a record: a town's share of a transfer.
typedef struct {
    char node_id[BR_NODE_ID_MAX + 1]; //  the town
    int64_t amount;                   //  hours: positive given, negative received
} br_ledger_entry_t;

//  One record, as read back.
typedef struct {
    uint64_t sequence;                                //  its place in the chain, from 1
    int64_t recorded_ms;                              //  when the ledger took it, Unix ms
    br_ledger_completion_t completion;                //  the signed completion
    br_ledger_entry_t entries[BR_LEDGER_ENTRY_COUNT]; //  provider's, then receiver's
    uint8_t provider_signature[BR_SIGNATURE_SIZE];    //  the provider's signature
    uint8_t receiver_signature[BR_SIGNATURE_SIZE];    //  the receiver's signature
    uint8_t prev[BR_LEDGER_HASH_SIZE];                //  the hash of the record before
    uint8_t hash[BR_LEDGER_HASH_SIZE];                //  its own hash
    const uint8_t *data;                              //  its exact bytes, for replication
    size_t size;                                      //  their size
} br_ledger_record_t;

//  Checks a completion's fields: a transfer id not all zero, provider and
//  receiver valid and different node ids, a valid topic code, hours in
//  1..BR_LEDGER_HOURS_MAX, a positive completion time. Returns OK or MALFORMED.
br_reason_t br_ledger_completion_check (const br_ledger_completion_t *completion) BR_WUR;

//  Writes the completion statement (layout above) into `statement` and its
//  size into *size. Returns OK, or MALFORMED if the completion is not valid.
br_reason_t br_ledger_statement (const br_ledger_completion_t *completion,
                                 uint8_t statement[BR_LEDGER_STATEMENT_MAX], size_t *size) BR_WUR;

//  Decodes a completion statement, e.g. one a town is asked to sign.
//  Accepts only the one encoding br_ledger_statement makes of a valid
//  completion. Returns OK, or MALFORMED.
br_reason_t br_ledger_statement_decode (const uint8_t *data, size_t size,
                                        br_ledger_completion_t *completion) BR_WUR;

//  Signs the completion's statement with `identity`, which must hold its
//  secret keys. Returns OK, or MALFORMED if the completion is not valid.
br_reason_t br_ledger_sign (br_identity_t *identity, const br_ledger_completion_t *completion,
                            uint8_t signature[BR_SIGNATURE_SIZE]) BR_WUR;

//  Fills `completion` with what an agreement's towns sign: its transfer id,
//  provider, receiver, topic and hours, at `completed_ms`. Does not check
//  it (br_ledger_completion_check does).
void br_ledger_completion_of (const Bruecke__Agreement *agreement, int64_t completed_ms,
                              br_ledger_completion_t *completion);

//  The name of a transfer agreement's state (AgreementState on the wire):
//  "proposed", "accepted", "scheduled", "completed", "cancelled"; "unknown"
//  for anything else. Static.
const char *br_ledger_state_name (int state);

//  Checks that `signature` is town `node_id`'s over the completion's
//  statement, with its signing key in `roster`. Returns OK, MALFORMED (the
//  completion is not valid), UNKNOWN_NODE or BAD_SIGNATURE.
br_reason_t br_ledger_signature_check (const br_ledger_completion_t *completion,
                                       const char *node_id,
                                       const uint8_t signature[BR_SIGNATURE_SIZE],
                                       br_roster_t *roster) BR_WUR;

//  Checks both towns of a completion and their signatures over its
//  statement, with their keys in `roster`: first that the provider, then
//  that the receiver is in the roster (UNKNOWN_NODE) and, when `admitting`
//  a new completion, neither revoked (NODE_REVOKED) nor other than a town
//  (FORBIDDEN); then both signatures, either of which may be NULL for a
//  missing one (BAD_SIGNATURE). Returns OK, one of those, or MALFORMED if
//  the completion is not valid.
br_reason_t br_ledger_signatures_check (const br_ledger_completion_t *completion,
                                        const uint8_t *provider_signature,
                                        const uint8_t *receiver_signature, br_roster_t *roster,
                                        bool admitting) BR_WUR;

//  Fills the two entries a completion makes: +hours for the provider, then
//  -hours for the receiver.
void br_ledger_entries_of (const br_ledger_completion_t *completion,
                           br_ledger_entry_t entries[BR_LEDGER_ENTRY_COUNT]);

//  Encodes `record` (layout above) into `data`: its sequence, recorded_ms,
//  prev, completion, entries and signatures as they are, then its hash,
//  which it also copies into record->hash; record->data and record->size
//  then describe `data`. Does not check the entries against the
//  completion (br_ledger_entries_of makes the right ones;
//  br_ledger_record_decode refuses others). Returns OK with *size, or
//  MALFORMED with *size 0 if the completion is not valid or an entry's
//  node id is not a token.
br_reason_t br_ledger_record_encode (br_ledger_record_t *record, uint8_t data[BR_LEDGER_RECORD_MAX],
                                     size_t *size) BR_WUR;

//  Decodes a record's bytes into *record, whose `data` then points into
//  `data`. Checks its layout, its hash and that its entries match its
//  completion; not its signatures or its place in a chain. Returns OK or
//  MALFORMED (and *record zeroed).
br_reason_t br_ledger_record_decode (const uint8_t *data, size_t size,
                                     br_ledger_record_t *record) BR_WUR;

//  Reads a record's layout into *record, as br_ledger_record_decode does,
//  but checks neither its hash nor its entries: for verification, which
//  reports those itself. Returns OK or MALFORMED (and *record zeroed).
br_reason_t br_ledger_record_parse (const uint8_t *data, size_t size,
                                    br_ledger_record_t *record) BR_WUR;

//  Checks a record's entries: NULL if they sum to zero and are exactly
//  +hours for its completion's provider and -hours for its receiver; else
//  BR_LEDGER_PROBLEM_UNBALANCED or BR_LEDGER_PROBLEM_ENTRIES (static).
const char *br_ledger_record_entries_problem (const br_ledger_record_t *record);

//  Self test of this class.
void br_ledger_record_test (bool verbose);

#endif
