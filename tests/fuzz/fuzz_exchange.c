/*  =========================================================================
    fuzz_exchange - fuzz target: the Transferbörse's messages, at the broker and at a node

    The Transferbörse (transfer exchange) takes untrusted bytes in two
    places, and the input's first byte (FUZZ_EXCHANGE_* in fuzz_fixture.h)
    says which, and which message type; the rest is the message's body:

    - THE BROKER: BOARD_PUBLISH (a SignedBoardItem), BOARD_WITHDRAW and
      AGREEMENT_ACTION from a town, which bb_exchange_take applies with
      br_board_put, br_board_withdraw, the agreement steps and br_ledger. The
      target wraps the body into an envelope from the town the control byte
      names (Lünen, Unna, or the Kreis, which is no town), signed with that
      town's fixture key and addressed to the broker, so that it passes every
      check of the broker's verifier (roster, signature, time, addressing)
      and reaches bb_exchange_take. The control byte may append to the body
      the id (field 1) of one of the broker's agreements, whose transfer ids
      are random, or of one of its board items.
    - A TOWN'S NODE, Unna's: BOARD_UPDATE, LEDGER_UPDATE and AGREEMENT from
      the broker, which bn_exchange_receive applies with br_board_apply,
      _reset, _snapshot_put, _set_head and br_ledger_append_record. The
      envelope is signed by the fixture's broker, as the node requires.

    Mutated bytes almost never carry a valid Ed25519 signature, so when the
    signature is the only thing wrong the target signs again and runs the
    input once more, as fuzz_envelope does. At the broker: an item refused
    with BAD_SIGNATURE gets the sender's signature over its bytes, a
    completion refused so gets the sender's signature over the statement of
    the agreement it names (each appended as the body's signature field;
    protobuf takes the last). At the node: every board item in the update
    gets its town's signature, and every ledger record whose statement
    decodes gets both towns' signatures and its hash made right. The
    fuzzer then plays a town, or a broker, that sends hostile content.

    Both worlds live in temporary directories made once per process, and
    removed as soon as the stores are open (LMDB goes on working on the open
    files). Before the first input, through the same entry points:
    - the broker's board gets the fixture's ten items; the matching of the
      fixture's quarter proposes an agreement for each of Unna's seven
      requests, and the towns move them on to seven different states
      (FUZZ_AGREEMENT_*), the last to completion, so that the ledger holds
      one record;
    - Unna's node takes the first three items as board changes 1..3, ledger
      record 1, and one agreement.

    Every input runs in a write transaction that is then ABORTED, never
    committed. The states that matter are set up beforehand: each agreement
    state is one input away, a second signature completes an agreement, and
    the board and ledger hold items and records to replace, withdraw, repeat
    or fork. With that, every input meets the same stores, so an input
    reproduces alone, in any order, and the stores stay small (a committing
    target would grow the board and the ledger with every accepted input
    and slow down). What only a sequence of inputs could find is out of
    reach; a single update carries many changes or records, though.

    Unna's bn_exchange keeps state in memory across messages (a snapshot's
    first part came; the ledger copy stopped; a sync is due), which an
    aborted transaction does not undo. So that an input's outcome does not
    depend on the inputs before it, the target makes a new bn_exchange for
    each input (the databases stay open in the environment).

    Besides crashes, leaks and undefined behaviour, the target checks: the
    exchange returns OK (no store failure on small inputs) and a verdict
    documented for the type; a refusal writes nothing; a taken publish
    stores exactly the item its sender signed, a withdrawal removes the
    sender's own item, each under the next board sequence; a taken agreement
    step changes one agreement, raises its version by one, keeps its towns,
    topic and hours, and moves its state only as the step allows, and a
    completion enters the ledger only with both signatures; at the node,
    every item on the board copy is signed by its town, every record of the
    ledger copy decodes, chains and carries both towns' signatures, changes
    and records come without gaps, the ledger sums to zero, an agreement is
    kept only for Unna and only when newer, and an update whose records the
    copy then all holds, byte for byte, does not stop the ledger copy;
    after the abort, the board's and the ledger's heads are as before.

    Set FUZZ_EXCHANGE_TRACE in the environment to print each input's type
    and verdicts (the seed corpus's names say which to expect), and the
    exchange's log lines, which the target otherwise silences.
    =========================================================================
*/

#include "fuzz_fixture.h"
#include "bb_exchange.h"
#include "bn_exchange.h"

#define S_MAPSIZE      ((size_t) 1 << 30)              //  each store's map: 1 GiB, sparse
#define S_ID_SIZE      BR_BOARD_ID_SIZE                //  item and transfer ids
#define S_FIELD_TAG(n) ((uint8_t) (((n) << 3) | 2))    //  a length-delimited field's tag
#define S_APPENDIX_MAX (2 * (2 + BR_SIGNATURE_SIZE))   //  an id and a signature appended
#define S_UNSET        ((br_reason_t) 999)             //  no reason code: a verdict never set
#define S_LIFETIME_MS  FUZZ_DAY_MS                     //  the envelopes' lifetime
#define S_MATCHED_MS   (FUZZ_NOW_MS - 7 * FUZZ_DAY_MS) //  when the matching ran
//  A ledger record (br_ledger_record.h): where its statement's length is,
//  and the signatures and hash at its end
#define S_RECORD_STATEMENT BR_LEDGER_OFFSET_STATEMENT
#define S_RECORD_TAIL      (2 * BR_SIGNATURE_SIZE + BR_LEDGER_HASH_SIZE)

_Static_assert(FUZZ_EXCHANGE_OWN_COUNT == FUZZ_AGREEMENT_COMPLETED + 1,
               "the control byte names every agreement");

//  The databases the target reads, at the broker and at the node.
enum {
    S_ITEMS,
    S_CHANGES,
    S_OWNERS,
    S_BOARD_META,
    S_RECORDS,
    S_BALANCES,
    S_TRANSFERS,
    S_LEDGER_META,
    S_AGREEMENTS,
    S_SENT,
    S_DB_COUNT
};
static const char *s_broker_db_names[S_DB_COUNT] = {
    "board-items",    "board-changes",   "board-owners", "board-meta", "ledger",
    "ledger-balance", "ledger-transfer", "ledger-meta",  "agreements", NULL};
static const char *s_node_db_names[S_DB_COUNT] = {
    "board-items",    "board-changes",   "board-owners", "board-meta",          "ledger",
    "ledger-balance", "ledger-transfer", "ledger-meta",  "exchange-agreements", "exchange-sent"};

//  One store's databases, opened by name.
typedef struct {
    MDB_dbi dbis[S_DB_COUNT]; //  their handles
    bool open[S_DB_COUNT];    //  which exist on this side
} s_dbs_t;

//  What a transaction sees of the exchange.
typedef struct {
    size_t entries[S_DB_COUNT];               //  entries of each database
    uint64_t board_head;                      //  the board's last change
    uint64_t ledger_head;                     //  the ledger's last record
    uint8_t ledger_hash[BR_LEDGER_HASH_SIZE]; //  and its hash
} s_state_t;

//  The two worlds.
typedef struct {
    br_store_t *broker_store;                               //  the broker's store
    bb_exchange_t *broker;                                  //  its exchange
    s_dbs_t broker_dbs;                                     //  its databases
    uint8_t agreements[FUZZ_EXCHANGE_OWN_COUNT][S_ID_SIZE]; //  its agreements' transfer ids
    bn_store_t *node_store;                                 //  Unna's node store
    bn_exchange_t *node;                                    //  its exchange, new for each input
    s_dbs_t node_dbs;                                       //  its databases
    bool trace;                                             //  print each input's verdicts
} s_world_t;

static s_world_t *s_world = NULL;

//  ---- Envelopes --------------------------------------------------------------

//  The envelope `signer` sends to `recipient` ("" for the broker): a
//  message of `type` with `body` as its body bytes, created at the
//  fixture's time. Returns the encoded Envelope.
static zchunk_t *
s_envelope_build (Bruecke__MessageType type, br_identity_t *signer, const char *recipient,
                  const uint8_t *body, size_t size)
{
    Bruecke__Header header;
    uint8_t message_id[BR_MESSAGE_ID_SIZE];
    br_envelope_header_init (&header, message_id, type, br_identity_node_id (signer), recipient, "",
                             1, FUZZ_NOW_MS, S_LIFETIME_MS);
    Bruecke__Message message = BRUECKE__MESSAGE__INIT;
    message.header = &header;
    message.body.data = (uint8_t *) body;
    message.body.len = size;
    zchunk_t *message_bytes = br_proto_encode (&message.base);
    zchunk_t *envelope =
        br_envelope_sign (signer, zchunk_data (message_bytes), zchunk_size (message_bytes));
    zchunk_destroy (&message_bytes);
    return envelope;
}

//  Receives the envelope as the broker's verifier, or the node, does
//  before the exchange: every check must pass. Returns it verified.
static br_envelope_t *
s_envelope_accept (zchunk_t *chunk)
{
    br_roster_t *roster = fuzz_fixture_exchange ()->roster;
    br_reason_t reason;
    br_envelope_t *envelope =
        br_envelope_decode (zchunk_data (chunk), zchunk_size (chunk), &reason);
    FUZZ_CHECK (envelope);
    FUZZ_CHECK (br_envelope_verify_in_roster (envelope, roster) == BR_REASON_OK);
    FUZZ_CHECK (br_envelope_check_time (envelope, FUZZ_NOW_MS) == BR_REASON_OK);
    FUZZ_CHECK (br_envelope_check_attestation (envelope, FUZZ_NOW_MS) == BR_REASON_OK);
    return envelope;
}

//  ---- Reading the stores -------------------------------------------------------

static void
s_dbs_open (br_store_t *store, const char *names[S_DB_COUNT], s_dbs_t *dbs)
{
    for (size_t index = 0; index < S_DB_COUNT; index++) {
        dbs->open[index] = names[index] != NULL;
        if (dbs->open[index])
            FUZZ_CHECK (br_store_open_db (store, names[index], 0, &dbs->dbis[index]) ==
                        BR_REASON_OK);
    }
}

//  Reads what `txn` sees of the exchange into *state.
static void
s_state_read (const s_dbs_t *dbs, MDB_txn *txn, s_state_t *state)
{
    memset (state, 0, sizeof (*state));
    for (size_t index = 0; index < S_DB_COUNT; index++) {
        if (!dbs->open[index])
            continue;
        MDB_stat stat;
        FUZZ_CHECK (mdb_stat (txn, dbs->dbis[index], &stat) == 0);
        state->entries[index] = stat.ms_entries;
    }
    const void *value;
    size_t size;
    br_reason_t reason = br_store_get (txn, dbs->dbis[S_BOARD_META], "head", 4, &value, &size);
    FUZZ_CHECK (reason == BR_REASON_OK || reason == BR_REASON_NOT_FOUND);
    if (reason == BR_REASON_OK) {
        FUZZ_CHECK (size == 8);
        state->board_head = br_get_u64 ((const uint8_t *) value);
    }
    reason = br_store_get (txn, dbs->dbis[S_LEDGER_META], "head", 4, &value, &size);
    FUZZ_CHECK (reason == BR_REASON_OK || reason == BR_REASON_NOT_FOUND);
    if (reason == BR_REASON_OK) {
        FUZZ_CHECK (size == 8 + BR_LEDGER_HASH_SIZE);
        state->ledger_head = br_get_u64 ((const uint8_t *) value);
        memcpy (state->ledger_hash, (const uint8_t *) value + 8, BR_LEDGER_HASH_SIZE);
    }
}

//  True if the board's parts of two states are the same.
static bool
s_board_same (const s_state_t *one, const s_state_t *other)
{
    return one->entries[S_ITEMS] == other->entries[S_ITEMS] &&
           one->entries[S_CHANGES] == other->entries[S_CHANGES] &&
           one->entries[S_OWNERS] == other->entries[S_OWNERS] &&
           one->entries[S_BOARD_META] == other->entries[S_BOARD_META] &&
           one->board_head == other->board_head;
}

//  True if the ledger's parts of two states are the same.
static bool
s_ledger_same (const s_state_t *one, const s_state_t *other)
{
    return one->entries[S_RECORDS] == other->entries[S_RECORDS] &&
           one->entries[S_BALANCES] == other->entries[S_BALANCES] &&
           one->entries[S_TRANSFERS] == other->entries[S_TRANSFERS] &&
           one->entries[S_LEDGER_META] == other->entries[S_LEDGER_META] &&
           one->ledger_head == other->ledger_head &&
           memcmp (one->ledger_hash, other->ledger_hash, BR_LEDGER_HASH_SIZE) == 0;
}

//  True if the agreements and the node's notes are the same.
static bool
s_rest_same (const s_state_t *one, const s_state_t *other)
{
    return one->entries[S_AGREEMENTS] == other->entries[S_AGREEMENTS] &&
           one->entries[S_SENT] == other->entries[S_SENT];
}

//  Reads the value under `key` in database `db`; NULL if there is none.
//  The bytes belong to `txn`.
static const uint8_t *
s_get (const s_dbs_t *dbs, MDB_txn *txn, int db, const void *key, size_t key_size, size_t *size)
{
    const void *value;
    br_reason_t reason = br_store_get (txn, dbs->dbis[db], key, key_size, &value, size);
    FUZZ_CHECK (reason == BR_REASON_OK || reason == BR_REASON_NOT_FOUND);
    return reason == BR_REASON_OK ? (const uint8_t *) value : NULL;
}

//  Reads the stored agreement `id` in `txn`: NULL if there is none. The
//  caller frees it with br_proto_free.
static Bruecke__Agreement *
s_agreement_read (const s_dbs_t *dbs, MDB_txn *txn, const uint8_t *id)
{
    size_t size;
    const uint8_t *value = s_get (dbs, txn, S_AGREEMENTS, id, S_ID_SIZE, &size);
    if (!value)
        return NULL;
    br_reason_t reason;
    ProtobufCMessage *message = br_proto_decode (&bruecke__agreement__descriptor, value, size,
                                                 BR_ENVELOPE_MAX_SIZE, &reason);
    return (Bruecke__Agreement *) message;
}

//  The ledger's balances sum to zero.
static void
s_check_balances (const s_dbs_t *dbs, MDB_txn *txn)
{
    MDB_cursor *cursor;
    FUZZ_CHECK (mdb_cursor_open (txn, dbs->dbis[S_BALANCES], &cursor) == 0);
    MDB_val key, value;
    int64_t total = 0;
    for (int rc = mdb_cursor_get (cursor, &key, &value, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) {
        FUZZ_CHECK (value.mv_size == 8);
        FUZZ_CHECK (!__builtin_add_overflow (
            total, (int64_t) br_get_u64 ((const uint8_t *) value.mv_data), &total));
    }
    mdb_cursor_close (cursor);
    FUZZ_CHECK (total == 0);
}

//  True if `signed_item`'s signature is `town`'s, as the board checks it.
static bool
s_item_signed_by (const Bruecke__SignedBoardItem *signed_item, const char *town)
{
    const Bruecke__RosterNode *node =
        br_roster_lookup_by_id (fuzz_fixture_exchange ()->roster, town);
    if (!node || signed_item->signature.len != BR_SIGNATURE_SIZE)
        return false;
    const char *domain = br_board_domain (signed_item->is_offer);
    zchunk_t *message = zchunk_new (domain, strlen (domain));
    if (signed_item->item.len)
        zchunk_extend (message, signed_item->item.data, signed_item->item.len);
    bool valid = br_signature_valid (zchunk_data (message), zchunk_size (message),
                                     signed_item->signature.data, node->sign_public_key.data);
    zchunk_destroy (&message);
    return valid;
}

//  Every item on the board decodes, is within the limits and carries its
//  town's signature, under its own id.
static void
s_check_board_items (const s_dbs_t *dbs, MDB_txn *txn)
{
    MDB_cursor *cursor;
    FUZZ_CHECK (mdb_cursor_open (txn, dbs->dbis[S_ITEMS], &cursor) == 0);
    MDB_val key, value;
    for (int rc = mdb_cursor_get (cursor, &key, &value, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) {
        br_board_item_t item;
        FUZZ_CHECK (br_board_item_decode ((const uint8_t *) value.mv_data, value.mv_size, &item) ==
                    BR_REASON_OK);
        FUZZ_CHECK (key.mv_size == S_ID_SIZE && item.id.len == S_ID_SIZE &&
                    memcmp (key.mv_data, item.id.data, S_ID_SIZE) == 0);
        FUZZ_CHECK (br_board_item_check (&item) == BR_REASON_OK);
        FUZZ_CHECK (item.town && s_item_signed_by (item.signed_item, item.town));
        br_board_item_free (&item);
    }
    mdb_cursor_close (cursor);
}

//  The ledger's records after `before` up to its head decode, chain from
//  `before`'s hash, and carry both towns' signatures.
static void
s_check_new_records (const s_dbs_t *dbs, MDB_txn *txn, const s_state_t *before,
                     const s_state_t *after)
{
    br_roster_t *roster = fuzz_fixture_exchange ()->roster;
    FUZZ_CHECK (after->ledger_head >= before->ledger_head);
    FUZZ_CHECK (after->entries[S_RECORDS] - before->entries[S_RECORDS] ==
                after->ledger_head - before->ledger_head);
    uint8_t prev[BR_LEDGER_HASH_SIZE];
    memcpy (prev, before->ledger_hash, sizeof (prev));
    for (uint64_t sequence = before->ledger_head + 1; sequence <= after->ledger_head; sequence++) {
        uint8_t key[8];
        br_put_u64 (key, sequence);
        size_t size;
        const uint8_t *data = s_get (dbs, txn, S_RECORDS, key, sizeof (key), &size);
        FUZZ_CHECK (data);
        br_ledger_record_t record;
        FUZZ_CHECK (br_ledger_record_decode (data, size, &record) == BR_REASON_OK);
        FUZZ_CHECK (record.sequence == sequence);
        FUZZ_CHECK (memcmp (record.prev, prev, sizeof (prev)) == 0);
        FUZZ_CHECK (br_ledger_signature_check (&record.completion, record.completion.provider,
                                               record.provider_signature, roster) == BR_REASON_OK);
        FUZZ_CHECK (br_ledger_signature_check (&record.completion, record.completion.receiver,
                                               record.receiver_signature, roster) == BR_REASON_OK);
        size_t index_size;
        const uint8_t *index = s_get (dbs, txn, S_TRANSFERS, record.completion.transfer_id,
                                      BR_LEDGER_TRANSFER_ID_SIZE, &index_size);
        FUZZ_CHECK (index && index_size == 8 && br_get_u64 (index) == sequence);
        memcpy (prev, record.hash, sizeof (prev));
    }
    FUZZ_CHECK (memcmp (prev, after->ledger_hash, sizeof (prev)) == 0);
}

//  ---- The broker -----------------------------------------------------------------

//  The verdicts bb_exchange_take documents for a message of `type`.
static bool
s_broker_verdict_known (int type, br_reason_t verdict)
{
    switch (verdict) {
        case BR_REASON_OK:
        case BR_REASON_MALFORMED:
        case BR_REASON_NOT_FOUND:
        case BR_REASON_FORBIDDEN:
            return true;
        case BR_REASON_TOO_LARGE:
        case BR_REASON_SENDER_MISMATCH:
            return type == BRUECKE__MESSAGE_TYPE__TYPE_BOARD_PUBLISH;
        case BR_REASON_UNKNOWN_NODE:
        case BR_REASON_NODE_REVOKED:
        case BR_REASON_BAD_SIGNATURE:
        case BR_REASON_INVALID_STATE:
            return type != BRUECKE__MESSAGE_TYPE__TYPE_BOARD_WITHDRAW;
        case BR_REASON_TOO_EARLY:
        case BR_REASON_REPLAYED:
            return type == BRUECKE__MESSAGE_TYPE__TYPE_AGREEMENT_ACTION;
        default:
            return false;
    }
}

//  Checks a publish the broker took: the item its sender signed, stored
//  under its id with the sender as owner, as the next change.
static void
s_check_published (MDB_txn *txn, const char *sender, const uint8_t *body, size_t size,
                   const s_state_t *before, const s_state_t *after)
{
    const s_dbs_t *dbs = &s_world->broker_dbs;
    br_board_item_t item;
    FUZZ_CHECK (br_board_item_decode (body, size, &item) == BR_REASON_OK);
    FUZZ_CHECK (item.town && streq (item.town, sender));
    FUZZ_CHECK (br_roster_lookup_by_id (fuzz_fixture_exchange ()->roster, sender)->role ==
                BRUECKE__NODE_ROLE__ROLE_TOWN);
    FUZZ_CHECK (br_board_item_check (&item) == BR_REASON_OK);
    FUZZ_CHECK (s_item_signed_by (item.signed_item, sender));
    FUZZ_CHECK (after->board_head == before->board_head + 1);
    FUZZ_CHECK (after->entries[S_CHANGES] == before->entries[S_CHANGES] + 1);
    FUZZ_CHECK (after->entries[S_ITEMS] - before->entries[S_ITEMS] <= 1);
    FUZZ_CHECK (after->entries[S_OWNERS] - before->entries[S_OWNERS] <= 1);
    //  The very bytes signed, and the signature
    size_t stored_size;
    const uint8_t *stored = s_get (dbs, txn, S_ITEMS, item.id.data, S_ID_SIZE, &stored_size);
    FUZZ_CHECK (stored);
    br_board_item_t kept;
    FUZZ_CHECK (br_board_item_decode (stored, stored_size, &kept) == BR_REASON_OK);
    const Bruecke__SignedBoardItem *one = item.signed_item, *other = kept.signed_item;
    FUZZ_CHECK (one->item.len == other->item.len &&
                memcmp (one->item.data, other->item.data, one->item.len) == 0);
    FUZZ_CHECK (memcmp (one->signature.data, other->signature.data, BR_SIGNATURE_SIZE) == 0);
    FUZZ_CHECK (one->is_offer == other->is_offer);
    br_board_item_free (&kept);
    size_t owner_size;
    const uint8_t *owner = s_get (dbs, txn, S_OWNERS, item.id.data, S_ID_SIZE, &owner_size);
    FUZZ_CHECK (owner && owner_size == strlen (sender) && memcmp (owner, sender, owner_size) == 0);
    //  A request for one offer: that offer is on the board
    if (item.request && item.request->offer_id.len) {
        size_t offer_size;
        const uint8_t *offer =
            s_get (dbs, txn, S_ITEMS, item.request->offer_id.data, S_ID_SIZE, &offer_size);
        FUZZ_CHECK (offer);
        FUZZ_CHECK (br_board_item_decode (offer, offer_size, &kept) == BR_REASON_OK);
        FUZZ_CHECK (kept.offer);
        br_board_item_free (&kept);
    }
    br_board_item_free (&item);
}

//  Checks a withdrawal the broker took: the sender's item is gone.
static void
s_check_withdrawn (MDB_txn *txn, const char *sender, const uint8_t *body, size_t size,
                   const s_state_t *before, const s_state_t *after)
{
    const s_dbs_t *dbs = &s_world->broker_dbs;
    br_reason_t reason;
    ProtobufCMessage *message = br_proto_decode (&bruecke__board_withdraw__descriptor, body, size,
                                                 BR_ENVELOPE_MAX_SIZE, &reason);
    FUZZ_CHECK (message);
    const ProtobufCBinaryData *id = &((Bruecke__BoardWithdraw *) message)->item_id;
    FUZZ_CHECK (id->len == S_ID_SIZE);
    size_t ignored;
    FUZZ_CHECK (!s_get (dbs, txn, S_ITEMS, id->data, S_ID_SIZE, &ignored));
    size_t owner_size;
    const uint8_t *owner = s_get (dbs, txn, S_OWNERS, id->data, S_ID_SIZE, &owner_size);
    FUZZ_CHECK (owner && owner_size == strlen (sender) && memcmp (owner, sender, owner_size) == 0);
    FUZZ_CHECK (after->board_head == before->board_head + 1);
    FUZZ_CHECK (after->entries[S_CHANGES] == before->entries[S_CHANGES] + 1);
    FUZZ_CHECK (after->entries[S_ITEMS] + 1 == before->entries[S_ITEMS]);
    FUZZ_CHECK (after->entries[S_OWNERS] == before->entries[S_OWNERS]);
    br_proto_free (&message);
}

//  Checks an agreement step the broker took, given the agreement as it was.
static void
s_check_step (MDB_txn *txn, const char *sender, const uint8_t *body, size_t size,
              const Bruecke__Agreement *old, const bb_exchange_effects_t *effects,
              const s_state_t *before, const s_state_t *after)
{
    const s_dbs_t *dbs = &s_world->broker_dbs;
    br_reason_t reason;
    ProtobufCMessage *message = br_proto_decode (&bruecke__agreement_action__descriptor, body, size,
                                                 BR_ENVELOPE_MAX_SIZE, &reason);
    FUZZ_CHECK (message && old);
    const Bruecke__AgreementAction *action = (const Bruecke__AgreementAction *) message;
    //  One agreement changed, as the effects say
    FUZZ_CHECK (zlistx_size (effects->agreements) == 1);
    zchunk_t *bytes = (zchunk_t *) zlistx_first (effects->agreements);
    size_t stored_size;
    const uint8_t *stored =
        s_get (dbs, txn, S_AGREEMENTS, action->transfer_id.data, S_ID_SIZE, &stored_size);
    FUZZ_CHECK (stored && stored_size == zchunk_size (bytes) &&
                memcmp (stored, zchunk_data (bytes), stored_size) == 0);
    FUZZ_CHECK (after->entries[S_AGREEMENTS] == before->entries[S_AGREEMENTS]);
    Bruecke__Agreement *new = s_agreement_read (dbs, txn, action->transfer_id.data);
    FUZZ_CHECK (new);
    FUZZ_CHECK (new->version == old->version + 1);
    FUZZ_CHECK (streq (new->provider, old->provider) && streq (new->receiver, old->receiver));
    FUZZ_CHECK (streq (new->topic, old->topic) && new->hours == old->hours);
    FUZZ_CHECK (new->quarter == old->quarter);
    bool provider = streq (sender, old->provider);
    FUZZ_CHECK (provider || streq (sender, old->receiver));
    bool completed = new->state == BRUECKE__AGREEMENT_STATE__AGREEMENT_COMPLETED;
    switch (action->step) {
        case BRUECKE__AGREEMENT_STEP__STEP_ACCEPT:
            FUZZ_CHECK (old->state == BRUECKE__AGREEMENT_STATE__AGREEMENT_PROPOSED);
            FUZZ_CHECK (provider ? new->provider_accepted : new->receiver_accepted);
            FUZZ_CHECK (new->state == (new->provider_accepted &&new->receiver_accepted
                                           ? BRUECKE__AGREEMENT_STATE__AGREEMENT_ACCEPTED
                                           : BRUECKE__AGREEMENT_STATE__AGREEMENT_PROPOSED));
            break;
        case BRUECKE__AGREEMENT_STEP__STEP_SCHEDULE:
            FUZZ_CHECK (old->state == BRUECKE__AGREEMENT_STATE__AGREEMENT_ACCEPTED ||
                        old->state == BRUECKE__AGREEMENT_STATE__AGREEMENT_SCHEDULED);
            FUZZ_CHECK (old->completed_ms == 0);
            FUZZ_CHECK (new->state == BRUECKE__AGREEMENT_STATE__AGREEMENT_SCHEDULED);
            FUZZ_CHECK (new->scheduled_for_ms ==
                        action->scheduled_for_ms &&new->scheduled_for_ms > 0);
            break;
        case BRUECKE__AGREEMENT_STEP__STEP_COMPLETE: {
            //  For the scheduled date, once it has come, signed by the sender
            FUZZ_CHECK (old->state == BRUECKE__AGREEMENT_STATE__AGREEMENT_SCHEDULED);
            FUZZ_CHECK (action->completed_ms == old->scheduled_for_ms);
            FUZZ_CHECK (action->completed_ms <= FUZZ_NOW_MS + BR_LEDGER_CLOCK_SKEW_MS);
            FUZZ_CHECK (new->completed_ms == action->completed_ms);
            br_ledger_completion_t completion;
            br_ledger_completion_of (new, new->completed_ms, &completion);
            const ProtobufCBinaryData *mine =
                provider ? &new->provider_signature : &new->receiver_signature;
            FUZZ_CHECK (mine->len == BR_SIGNATURE_SIZE);
            FUZZ_CHECK (br_ledger_signature_check (&completion, sender, mine->data,
                                                   fuzz_fixture_exchange ()->roster) ==
                        BR_REASON_OK);
            //  Completed once both signed, and then in the ledger
            FUZZ_CHECK (completed ==
                        (new->provider_signature.len ==
                         BR_SIGNATURE_SIZE &&new->receiver_signature.len == BR_SIGNATURE_SIZE));
            if (!completed)
                FUZZ_CHECK (new->state == BRUECKE__AGREEMENT_STATE__AGREEMENT_SCHEDULED);
            break;
        }
        case BRUECKE__AGREEMENT_STEP__STEP_CANCEL:
            FUZZ_CHECK (old->state == BRUECKE__AGREEMENT_STATE__AGREEMENT_PROPOSED ||
                        old->state == BRUECKE__AGREEMENT_STATE__AGREEMENT_ACCEPTED ||
                        old->state == BRUECKE__AGREEMENT_STATE__AGREEMENT_SCHEDULED);
            FUZZ_CHECK (new->state == BRUECKE__AGREEMENT_STATE__AGREEMENT_CANCELLED);
            FUZZ_CHECK (streq (new->cancelled_by, sender));
            FUZZ_CHECK (br_catalogue_cancel_reason (new->cancel_reason));
            break;
        default:
            FUZZ_CHECK (false); //  no other step is taken
    }
    FUZZ_CHECK (effects->ledger_changed == completed);
    if (completed) {
        FUZZ_CHECK (after->ledger_head == before->ledger_head + 1);
        FUZZ_CHECK (new->ledger_sequence == after->ledger_head);
        s_check_new_records (dbs, txn, before, after);
        uint8_t key[8];
        br_put_u64 (key, after->ledger_head);
        size_t record_size;
        const uint8_t *data = s_get (dbs, txn, S_RECORDS, key, sizeof (key), &record_size);
        br_ledger_record_t record;
        FUZZ_CHECK (data && br_ledger_record_decode (data, record_size, &record) == BR_REASON_OK);
        FUZZ_CHECK (memcmp (record.completion.transfer_id, new->transfer_id.data, S_ID_SIZE) == 0);
        FUZZ_CHECK (streq (record.completion.provider, new->provider) &&
                    streq (record.completion.receiver, new->receiver));
        FUZZ_CHECK (record.completion.hours == new->hours);
        FUZZ_CHECK (record.completion.completed_ms == new->completed_ms);
    } else
        FUZZ_CHECK (s_ledger_same (before, after));
    br_proto_free ((ProtobufCMessage **) &new);
    br_proto_free (&message);
}

//  Runs one message of `type` from `sender` with `body` through the
//  broker's exchange in a transaction it then aborts. Returns the verdict.
static br_reason_t
s_broker_run (Bruecke__MessageType type, br_identity_t *sender, const uint8_t *body, size_t size)
{
    const s_dbs_t *dbs = &s_world->broker_dbs;
    const char *town = br_identity_node_id (sender);
    zchunk_t *chunk = s_envelope_build (type, sender, "", body, size);
    br_envelope_t *envelope = s_envelope_accept (chunk);
    FUZZ_CHECK (br_message_type_at_broker (br_envelope_header (envelope)->type) ==
                BR_AT_BROKER_EXCHANGE);
    uint64_t board_head, ledger_head, head;
    uint8_t hash[BR_LEDGER_HASH_SIZE];
    FUZZ_CHECK (br_board_head (bb_exchange_board (s_world->broker), &board_head) == BR_REASON_OK);
    FUZZ_CHECK (br_ledger_head (bb_exchange_ledger (s_world->broker), &ledger_head, hash) ==
                BR_REASON_OK);

    MDB_txn *txn = NULL;
    FUZZ_CHECK (br_store_begin (s_world->broker_store, true, &txn) == BR_REASON_OK);
    s_state_t before, after;
    s_state_read (dbs, txn, &before);
    FUZZ_CHECK (before.board_head == board_head && before.ledger_head == ledger_head);
    //  The agreement an action names, as it was
    Bruecke__Agreement *old = NULL;
    if (type == BRUECKE__MESSAGE_TYPE__TYPE_AGREEMENT_ACTION) {
        br_reason_t reason;
        ProtobufCMessage *action = br_proto_decode (&bruecke__agreement_action__descriptor, body,
                                                    size, BR_ENVELOPE_MAX_SIZE, &reason);
        const ProtobufCBinaryData *id =
            action ? &((Bruecke__AgreementAction *) action)->transfer_id : NULL;
        if (id && id->len == S_ID_SIZE)
            old = s_agreement_read (dbs, txn, id->data);
        br_proto_free (&action);
    }
    bb_exchange_effects_t effects;
    bb_exchange_effects_init (&effects);
    br_reason_t verdict = S_UNSET;
    br_reason_t reason =
        bb_exchange_take (s_world->broker, txn, envelope, fuzz_fixture_exchange ()->roster,
                          FUZZ_NOW_MS, &effects, &verdict);
    FUZZ_CHECK (reason == BR_REASON_OK);
    FUZZ_CHECK (s_broker_verdict_known (type, verdict));
    s_state_read (dbs, txn, &after);
    if (verdict == BR_REASON_OK) {
        FUZZ_CHECK (effects.board_changed ==
                    (type != BRUECKE__MESSAGE_TYPE__TYPE_AGREEMENT_ACTION));
        if (type == BRUECKE__MESSAGE_TYPE__TYPE_AGREEMENT_ACTION) {
            FUZZ_CHECK (s_board_same (&before, &after));
            s_check_step (txn, town, body, size, old, &effects, &before, &after);
        } else {
            FUZZ_CHECK (s_ledger_same (&before, &after) && s_rest_same (&before, &after));
            FUZZ_CHECK (!effects.ledger_changed && zlistx_size (effects.agreements) == 0);
            if (type == BRUECKE__MESSAGE_TYPE__TYPE_BOARD_PUBLISH)
                s_check_published (txn, town, body, size, &before, &after);
            else
                s_check_withdrawn (txn, town, body, size, &before, &after);
        }
        s_check_board_items (dbs, txn);
    } else {
        //  A refusal writes nothing
        FUZZ_CHECK (s_board_same (&before, &after) && s_ledger_same (&before, &after) &&
                    s_rest_same (&before, &after));
        FUZZ_CHECK (!effects.board_changed && !effects.ledger_changed);
        FUZZ_CHECK (zlistx_size (effects.agreements) == 0);
    }
    s_check_balances (dbs, txn);
    br_store_abort (&txn);
    //  The abort leaves nothing behind
    FUZZ_CHECK (br_board_head (bb_exchange_board (s_world->broker), &head) == BR_REASON_OK);
    FUZZ_CHECK (head == board_head);
    FUZZ_CHECK (br_ledger_head (bb_exchange_ledger (s_world->broker), &head, hash) == BR_REASON_OK);
    FUZZ_CHECK (head == ledger_head);

    br_proto_free ((ProtobufCMessage **) &old);
    bb_exchange_effects_clear (&effects);
    br_envelope_destroy (&envelope);
    zchunk_destroy (&chunk);
    return verdict;
}

//  Appends field `number` with `size` bytes to `body` (of *size_p bytes,
//  with room for them).
static void
s_append_field (uint8_t *body, size_t *size_p, int number, const uint8_t *bytes, size_t size)
{
    assert (size < 128);
    body[(*size_p)++] = S_FIELD_TAG (number);
    body[(*size_p)++] = (uint8_t) size;
    memcpy (body + *size_p, bytes, size);
    *size_p += size;
}

//  After a BAD_SIGNATURE: appends to `body` the signature `sender` would
//  have given, over the item (a publish) or over the completion of the
//  agreement named (an action). Returns false if there is nothing to sign.
static bool
s_broker_resign (Bruecke__MessageType type, br_identity_t *sender, uint8_t *body, size_t *size_p)
{
    uint8_t signature[BR_SIGNATURE_SIZE];
    br_reason_t reason;
    bool signed_now = false;
    if (type == BRUECKE__MESSAGE_TYPE__TYPE_BOARD_PUBLISH) {
        ProtobufCMessage *message = br_proto_decode (&bruecke__signed_board_item__descriptor, body,
                                                     *size_p, BR_BOARD_SIGNED_MAX, &reason);
        if (message) {
            const Bruecke__SignedBoardItem *item = (const Bruecke__SignedBoardItem *) message;
            const char *domain = br_board_domain (item->is_offer);
            zchunk_t *signed_bytes = zchunk_new (domain, strlen (domain));
            if (item->item.len)
                zchunk_extend (signed_bytes, item->item.data, item->item.len);
            br_identity_sign (sender, zchunk_data (signed_bytes), zchunk_size (signed_bytes),
                              signature);
            zchunk_destroy (&signed_bytes);
            signed_now = true;
        }
        br_proto_free (&message);
        if (signed_now)
            s_append_field (body, size_p, 2, signature, sizeof (signature));
        return signed_now;
    }
    ProtobufCMessage *message = br_proto_decode (&bruecke__agreement_action__descriptor, body,
                                                 *size_p, BR_ENVELOPE_MAX_SIZE, &reason);
    const Bruecke__AgreementAction *action = (const Bruecke__AgreementAction *) message;
    if (action && action->step == BRUECKE__AGREEMENT_STEP__STEP_COMPLETE &&
        action->transfer_id.len == S_ID_SIZE) {
        MDB_txn *txn = NULL;
        FUZZ_CHECK (br_store_begin (s_world->broker_store, false, &txn) == BR_REASON_OK);
        Bruecke__Agreement *agreement =
            s_agreement_read (&s_world->broker_dbs, txn, action->transfer_id.data);
        br_store_abort (&txn);
        if (agreement) {
            br_ledger_completion_t completion;
            br_ledger_completion_of (agreement, action->completed_ms, &completion);
            signed_now = br_ledger_sign (sender, &completion, signature) == BR_REASON_OK;
        }
        br_proto_free ((ProtobufCMessage **) &agreement);
    }
    br_proto_free (&message);
    if (signed_now)
        s_append_field (body, size_p, 5, signature, sizeof (signature));
    return signed_now;
}

//  ---- Unna's node -------------------------------------------------------------------

//  A fresh bn_exchange for Unna, with nothing in memory from earlier inputs.
static void
s_node_renew (void)
{
    bn_exchange_destroy (&s_world->node);
    br_reason_t reason;
    s_world->node = bn_exchange_new (s_world->node_store, fuzz_fixture ()->unna, &reason);
    FUZZ_CHECK (s_world->node);
    bn_exchange_set_roster (s_world->node, fuzz_fixture_exchange ()->roster);
}

//  True if every record of a LedgerUpdate (`body`) is in the ledger copy
//  as `txn` sees it, byte for byte; false also if there are none.
static bool
s_records_held (MDB_txn *txn, const uint8_t *body, size_t size)
{
    br_reason_t reason;
    ProtobufCMessage *message = br_proto_decode (&bruecke__ledger_update__descriptor, body, size,
                                                 BR_ENVELOPE_MAX_SIZE, &reason);
    if (!message)
        return false;
    const Bruecke__LedgerUpdate *update = (const Bruecke__LedgerUpdate *) message;
    bool held = update->n_records > 0;
    for (size_t index = 0; index < update->n_records && held; index++) {
        const ProtobufCBinaryData *record = &update->records[index];
        held = record->len > 9;
        if (held) {
            size_t stored_size;
            const uint8_t *stored =
                s_get (&s_world->node_dbs, txn, S_RECORDS, record->data + 1, 8, &stored_size);
            held = stored && stored_size == record->len &&
                   memcmp (stored, record->data, stored_size) == 0;
        }
    }
    br_proto_free (&message);
    return held;
}

//  The verdicts bn_exchange_receive documents for a message of `type`.
static bool
s_node_verdict_known (int type, br_reason_t verdict)
{
    return verdict == BR_REASON_OK || verdict == BR_REASON_MALFORMED ||
           (verdict == BR_REASON_FORBIDDEN && type == BRUECKE__MESSAGE_TYPE__TYPE_AGREEMENT);
}

//  Checks an agreement the node received and did not refuse, given the
//  bytes it held under that id before (`held`, NULL if none) and what they
//  decode to (`old`, NULL if they do not).
static void
s_check_agreement (MDB_txn *txn, const uint8_t *body, size_t size, zchunk_t *held,
                   const Bruecke__Agreement *old, const s_state_t *before, const s_state_t *after)
{
    br_reason_t reason;
    ProtobufCMessage *message = br_proto_decode (&bruecke__agreement__descriptor, body, size,
                                                 BR_ENVELOPE_MAX_SIZE, &reason);
    FUZZ_CHECK (message);
    const Bruecke__Agreement *agreement = (const Bruecke__Agreement *) message;
    FUZZ_CHECK (agreement->transfer_id.len == S_ID_SIZE);
    FUZZ_CHECK (streq (agreement->provider, "unna") || streq (agreement->receiver, "unna"));
    FUZZ_CHECK (after->entries[S_AGREEMENTS] == before->entries[S_AGREEMENTS] + (held ? 0 : 1));
    size_t stored_size;
    const uint8_t *stored = s_get (&s_world->node_dbs, txn, S_AGREEMENTS,
                                   agreement->transfer_id.data, S_ID_SIZE, &stored_size);
    FUZZ_CHECK (stored);
    //  Kept only if newer than what the node held; else left as it was
    bool newer = !held || !old || old->version < agreement->version;
    const uint8_t *expected = newer ? body : zchunk_data (held);
    size_t expected_size = newer ? size : zchunk_size (held);
    FUZZ_CHECK (stored_size == expected_size && memcmp (stored, expected, stored_size) == 0);
    br_proto_free (&message);
}

//  Runs one message of `type` from the broker with `body` through Unna's
//  exchange in a transaction it then aborts. Returns the verdict.
static br_reason_t
s_node_run (Bruecke__MessageType type, const uint8_t *body, size_t size)
{
    const s_dbs_t *dbs = &s_world->node_dbs;
    s_node_renew ();
    fuzz_exchange_t *exchange = fuzz_fixture_exchange ();
    zchunk_t *chunk = s_envelope_build (type, exchange->broker, "unna", body, size);
    br_envelope_t *envelope = s_envelope_accept (chunk);
    FUZZ_CHECK (streq (br_envelope_signer (envelope), br_identity_node_id (exchange->broker)));
    FUZZ_CHECK (br_message_type_at_node (br_envelope_header (envelope)->type) ==
                BR_AT_NODE_EXCHANGE);
    Bruecke__ExchangeSync held_before, held_after;
    FUZZ_CHECK (bn_exchange_held (s_world->node, &held_before));

    MDB_txn *txn = NULL;
    FUZZ_CHECK (bn_store_begin (s_world->node_store, &txn) == BR_REASON_OK);
    s_state_t before, after;
    s_state_read (dbs, txn, &before);
    FUZZ_CHECK (before.board_head == held_before.board_sequence &&
                before.ledger_head == held_before.ledger_sequence);
    //  The agreement an AGREEMENT names, as the node held it
    Bruecke__Agreement *old = NULL;
    zchunk_t *held = NULL;
    if (type == BRUECKE__MESSAGE_TYPE__TYPE_AGREEMENT) {
        br_reason_t reason;
        ProtobufCMessage *agreement = br_proto_decode (&bruecke__agreement__descriptor, body, size,
                                                       BR_ENVELOPE_MAX_SIZE, &reason);
        const ProtobufCBinaryData *id =
            agreement ? &((Bruecke__Agreement *) agreement)->transfer_id : NULL;
        if (id && id->len == S_ID_SIZE) {
            size_t held_size;
            const uint8_t *held_bytes =
                s_get (dbs, txn, S_AGREEMENTS, id->data, S_ID_SIZE, &held_size);
            held = held_bytes ? zchunk_new (held_bytes, held_size) : NULL;
            old = s_agreement_read (dbs, txn, id->data);
        }
        br_proto_free (&agreement);
    }
    br_reason_t verdict = S_UNSET;
    br_reason_t reason = bn_exchange_receive (s_world->node, txn, envelope, &verdict);
    FUZZ_CHECK (reason == BR_REASON_OK);
    FUZZ_CHECK (s_node_verdict_known (type, verdict));
    s_state_read (dbs, txn, &after);
    //  Nothing is ever sent from here
    FUZZ_CHECK (after.entries[S_SENT] == before.entries[S_SENT]);
    bool records_held = false;
    if (verdict != BR_REASON_OK)
        FUZZ_CHECK (s_board_same (&before, &after) && s_ledger_same (&before, &after) &&
                    s_rest_same (&before, &after));
    else if (type == BRUECKE__MESSAGE_TYPE__TYPE_BOARD_UPDATE) {
        FUZZ_CHECK (s_ledger_same (&before, &after) && s_rest_same (&before, &after));
        s_check_board_items (dbs, txn);
        ProtobufCMessage *message = br_proto_decode (&bruecke__board_update__descriptor, body, size,
                                                     BR_ENVELOPE_MAX_SIZE, &reason);
        FUZZ_CHECK (message);
        if (!((Bruecke__BoardUpdate *) message)->snapshot) {
            //  Changes follow the head, without gaps
            FUZZ_CHECK (after.board_head >= before.board_head);
            FUZZ_CHECK (after.entries[S_CHANGES] - before.entries[S_CHANGES] ==
                        after.board_head - before.board_head);
        }
        br_proto_free (&message);
    } else if (type == BRUECKE__MESSAGE_TYPE__TYPE_LEDGER_UPDATE) {
        FUZZ_CHECK (s_board_same (&before, &after) && s_rest_same (&before, &after));
        s_check_new_records (dbs, txn, &before, &after);
        s_check_balances (dbs, txn);
        records_held = s_records_held (txn, body, size);
    } else {
        FUZZ_CHECK (s_board_same (&before, &after) && s_ledger_same (&before, &after));
        s_check_agreement (txn, body, size, held, old, &before, &after);
    }
    bn_store_abort (s_world->node_store, &txn);
    FUZZ_CHECK (txn == NULL);
    //  The abort leaves nothing behind
    FUZZ_CHECK (bn_exchange_held (s_world->node, &held_after));
    FUZZ_CHECK (held_after.board_sequence == held_before.board_sequence);
    FUZZ_CHECK (held_after.ledger_sequence == held_before.ledger_sequence);
    //  Records the copy holds, all of them byte for byte, are no reason to
    //  stop taking records from the broker
    Bruecke__ExchangeSync sync;
    bool due = bn_exchange_sync_due (s_world->node, &sync);
    bool stopped = due && sync.ledger_sequence == UINT64_MAX;
    if (s_world->trace)
        printf ("fuzz_exchange:   board %llu -> %llu, ledger %llu -> %llu%s%s\n",
                (unsigned long long) before.board_head, (unsigned long long) after.board_head,
                (unsigned long long) before.ledger_head, (unsigned long long) after.ledger_head,
                due && sync.board_snapshot ? ", wants a snapshot" : "",
                stopped ? ", ledger copy stopped" : "");
    if (records_held)
        FUZZ_CHECK (!stopped);

    br_proto_free ((ProtobufCMessage **) &old);
    zchunk_destroy (&held);
    br_envelope_destroy (&envelope);
    zchunk_destroy (&chunk);
    return verdict;
}

//  Signs `signed_item` again with its town's fixture key, if it has a
//  town the fixture knows and another signature. The new signature is
//  `storage`; `original` keeps the old field. Returns true if it changed.
static bool
s_item_resign (Bruecke__SignedBoardItem *signed_item, uint8_t storage[BR_SIGNATURE_SIZE],
               ProtobufCBinaryData *original)
{
    br_reason_t reason;
    ProtobufCMessage *item =
        br_proto_decode (signed_item->is_offer ? &bruecke__offer__descriptor
                                               : &bruecke__exchange_request__descriptor,
                         signed_item->item.data, signed_item->item.len, BR_BOARD_ITEM_MAX, &reason);
    if (!item)
        return false;
    const char *town = signed_item->is_offer ? ((Bruecke__Offer *) item)->town
                                             : ((Bruecke__ExchangeRequest *) item)->town;
    br_identity_t *identity = fuzz_fixture_identity (town);
    br_proto_free (&item);
    if (!identity)
        return false;
    const char *domain = br_board_domain (signed_item->is_offer);
    zchunk_t *message = zchunk_new (domain, strlen (domain));
    if (signed_item->item.len)
        zchunk_extend (message, signed_item->item.data, signed_item->item.len);
    br_identity_sign (identity, zchunk_data (message), zchunk_size (message), storage);
    zchunk_destroy (&message);
    if (signed_item->signature.len == BR_SIGNATURE_SIZE &&
        memcmp (signed_item->signature.data, storage, BR_SIGNATURE_SIZE) == 0)
        return false;
    *original = signed_item->signature;
    signed_item->signature.data = storage;
    signed_item->signature.len = BR_SIGNATURE_SIZE;
    return true;
}

//  Makes a ledger record's signatures (if the fixture knows its towns) and
//  its hash right, if its statement decodes. Returns true if it changed.
static bool
s_record_fix (uint8_t *data, size_t size)
{
    if (size < S_RECORD_STATEMENT + 2)
        return false;
    size_t statement_size = ((size_t) data[S_RECORD_STATEMENT] << 8) | data[S_RECORD_STATEMENT + 1];
    const uint8_t *statement = data + S_RECORD_STATEMENT + 2;
    br_ledger_completion_t completion;
    if (S_RECORD_STATEMENT + 2 + statement_size + 1 + S_RECORD_TAIL > size ||
        br_ledger_statement_decode (statement, statement_size, &completion) != BR_REASON_OK)
        return false;
    uint8_t *tail = data + size - S_RECORD_TAIL;
    uint8_t fixed[S_RECORD_TAIL];
    memcpy (fixed, tail, S_RECORD_TAIL);
    br_identity_t *towns[] = {fuzz_fixture_identity (completion.provider),
                              fuzz_fixture_identity (completion.receiver)};
    for (size_t index = 0; index < 2; index++)
        if (towns[index])
            br_identity_sign (towns[index], statement, statement_size,
                              tail + index * BR_SIGNATURE_SIZE);
    FUZZ_CHECK (crypto_generichash (tail + 2 * BR_SIGNATURE_SIZE, BR_LEDGER_HASH_SIZE, data,
                                    size - BR_LEDGER_HASH_SIZE, NULL, 0) == 0);
    return memcmp (fixed, tail, S_RECORD_TAIL) != 0;
}

//  The update `body` with every board item signed by its town, or every
//  ledger record's signatures and hash made right. Returns it, or NULL if
//  nothing changed.
static zchunk_t *
s_node_fix (Bruecke__MessageType type, const uint8_t *body, size_t size)
{
    br_reason_t reason;
    zchunk_t *fixed = NULL;
    if (type == BRUECKE__MESSAGE_TYPE__TYPE_BOARD_UPDATE) {
        ProtobufCMessage *message = br_proto_decode (&bruecke__board_update__descriptor, body, size,
                                                     BR_ENVELOPE_MAX_SIZE, &reason);
        if (!message)
            return NULL;
        Bruecke__BoardUpdate *update = (Bruecke__BoardUpdate *) message;
        size_t count = update->n_changes + update->n_items;
        Bruecke__SignedBoardItem **items =
            (Bruecke__SignedBoardItem **) calloc (count + 1, sizeof (*items));
        uint8_t (*signatures)[BR_SIGNATURE_SIZE] =
            (uint8_t (*)[BR_SIGNATURE_SIZE]) calloc (count + 1, BR_SIGNATURE_SIZE);
        ProtobufCBinaryData *originals =
            (ProtobufCBinaryData *) calloc (count + 1, sizeof (*originals));
        FUZZ_CHECK (items && signatures && originals);
        size_t changed = 0;
        for (size_t index = 0; index < count; index++) {
            //  A change's put shares its place with withdrawn_id (a union)
            Bruecke__BoardChange *change =
                index < update->n_changes ? update->changes[index] : NULL;
            Bruecke__SignedBoardItem *item =
                !change ? update->items[index - update->n_changes]
                : change->change_case == BRUECKE__BOARD_CHANGE__CHANGE_PUT ? change->put
                                                                           : NULL;
            if (item && s_item_resign (item, signatures[changed], &originals[changed]))
                items[changed++] = item;
        }
        if (changed)
            fixed = br_proto_encode (message);
        //  Their own bytes back, for protobuf-c to free
        for (size_t index = 0; index < changed; index++)
            items[index]->signature = originals[index];
        free (items);
        free (signatures);
        free (originals);
        br_proto_free (&message);
    } else if (type == BRUECKE__MESSAGE_TYPE__TYPE_LEDGER_UPDATE) {
        ProtobufCMessage *message = br_proto_decode (&bruecke__ledger_update__descriptor, body,
                                                     size, BR_ENVELOPE_MAX_SIZE, &reason);
        if (!message)
            return NULL;
        Bruecke__LedgerUpdate *update = (Bruecke__LedgerUpdate *) message;
        bool changed = false;
        //  The records' bytes are protobuf-c's own: they may be changed in place
        for (size_t index = 0; index < update->n_records; index++)
            changed |= s_record_fix (update->records[index].data, update->records[index].len);
        if (changed)
            fixed = br_proto_encode (message);
        br_proto_free (&message);
    }
    return fixed;
}

//  ---- The worlds -----------------------------------------------------------------

//  Sends `body` as `type` from `sender` to the broker's exchange, which
//  must take it; commits.
static void
s_broker_setup_take (Bruecke__MessageType type, br_identity_t *sender, const ProtobufCMessage *body,
                     const uint8_t *raw, size_t raw_size)
{
    zchunk_t *bytes = body ? br_proto_encode (body) : zchunk_new (raw, raw_size);
    zchunk_t *chunk = s_envelope_build (type, sender, "", zchunk_data (bytes), zchunk_size (bytes));
    br_envelope_t *envelope = s_envelope_accept (chunk);
    MDB_txn *txn = NULL;
    FUZZ_CHECK (br_store_begin (s_world->broker_store, true, &txn) == BR_REASON_OK);
    bb_exchange_effects_t effects;
    bb_exchange_effects_init (&effects);
    br_reason_t verdict = S_UNSET;
    FUZZ_CHECK (bb_exchange_take (s_world->broker, txn, envelope, fuzz_fixture_exchange ()->roster,
                                  FUZZ_NOW_MS, &effects, &verdict) == BR_REASON_OK);
    if (verdict != BR_REASON_OK)
        fprintf (stderr, "fuzz_exchange: setting up the broker: %s from %s: %s\n",
                 br_message_type_name (type), br_identity_node_id (sender),
                 br_reason_name (verdict));
    FUZZ_CHECK (verdict == BR_REASON_OK);
    FUZZ_CHECK (br_store_commit (&txn) == BR_REASON_OK);
    bb_exchange_effects_clear (&effects);
    br_envelope_destroy (&envelope);
    zchunk_destroy (&chunk);
    zchunk_destroy (&bytes);
}

//  `town` takes `step` on the broker's agreement `index`: a schedule for
//  `when`, or a completion of `when`, signed.
static void
s_broker_setup_step (size_t index, br_identity_t *town, Bruecke__AgreementStep step, int64_t when)
{
    Bruecke__AgreementAction action = BRUECKE__AGREEMENT_ACTION__INIT;
    action.transfer_id.data = s_world->agreements[index];
    action.transfer_id.len = S_ID_SIZE;
    action.step = step;
    uint8_t signature[BR_SIGNATURE_SIZE];
    if (step == BRUECKE__AGREEMENT_STEP__STEP_SCHEDULE)
        action.scheduled_for_ms = when;
    if (step == BRUECKE__AGREEMENT_STEP__STEP_COMPLETE) {
        MDB_txn *txn = NULL;
        FUZZ_CHECK (br_store_begin (s_world->broker_store, false, &txn) == BR_REASON_OK);
        Bruecke__Agreement *agreement =
            s_agreement_read (&s_world->broker_dbs, txn, s_world->agreements[index]);
        br_store_abort (&txn);
        FUZZ_CHECK (agreement);
        br_ledger_completion_t completion;
        br_ledger_completion_of (agreement, when, &completion);
        FUZZ_CHECK (br_ledger_sign (town, &completion, signature) == BR_REASON_OK);
        br_proto_free ((ProtobufCMessage **) &agreement);
        action.completed_ms = when;
        action.signature.data = signature;
        action.signature.len = sizeof (signature);
    }
    s_broker_setup_take (BRUECKE__MESSAGE_TYPE__TYPE_AGREEMENT_ACTION, town, &action.base, NULL, 0);
}

//  The broker: its board, the matching's agreements, moved on.
static void
s_broker_setup (const char *path)
{
    fuzz_fixture_t *fixture = fuzz_fixture ();
    fuzz_exchange_t *exchange = fuzz_fixture_exchange ();
    br_reason_t reason;
    s_world->broker_store = br_store_new (path, S_MAPSIZE, &reason);
    FUZZ_CHECK (s_world->broker_store);
    s_world->broker = bb_exchange_new (s_world->broker_store, &reason);
    FUZZ_CHECK (s_world->broker);
    s_dbs_open (s_world->broker_store, s_broker_db_names, &s_world->broker_dbs);
    for (size_t index = 0; index < FUZZ_ITEM_COUNT; index++) {
        bool luenen = index == FUZZ_ITEM_LUENEN_OFFER || index == FUZZ_ITEM_LUENEN_REQUEST;
        s_broker_setup_take (
            BRUECKE__MESSAGE_TYPE__TYPE_BOARD_PUBLISH, luenen ? fixture->luenen : fixture->unna,
            NULL, zchunk_data (exchange->items[index]), zchunk_size (exchange->items[index]));
    }
    //  The county's coordination office runs the matching
    MDB_txn *txn = NULL;
    FUZZ_CHECK (br_store_begin (s_world->broker_store, true, &txn) == BR_REASON_OK);
    bb_exchange_effects_t effects;
    bb_exchange_effects_init (&effects);
    bb_exchange_run_t run;
    FUZZ_CHECK (bb_exchange_match (s_world->broker, txn, FUZZ_EXCHANGE_QUARTER, exchange->roster,
                                   S_MATCHED_MS, &effects, &run, NULL, NULL) == BR_REASON_OK);
    FUZZ_CHECK (run.proposed == FUZZ_EXCHANGE_OWN_COUNT && run.unmatched == 1);
    FUZZ_CHECK (br_store_commit (&txn) == BR_REASON_OK);
    for (zchunk_t *bytes = (zchunk_t *) zlistx_first (effects.agreements); bytes;
         bytes = (zchunk_t *) zlistx_next (effects.agreements)) {
        ProtobufCMessage *message =
            br_proto_decode (&bruecke__agreement__descriptor, zchunk_data (bytes),
                             zchunk_size (bytes), BB_EXCHANGE_AGREEMENT_MAX, &reason);
        FUZZ_CHECK (message);
        Bruecke__Agreement *agreement = (Bruecke__Agreement *) message;
        FUZZ_CHECK (streq (agreement->provider, "luenen") && streq (agreement->receiver, "unna"));
        size_t found = FUZZ_EXCHANGE_OWN_COUNT;
        for (size_t index = 0; index < FUZZ_EXCHANGE_OWN_COUNT; index++) {
            uint8_t id[S_ID_SIZE];
            fuzz_fixture_item_id (FUZZ_ITEM_UNNA_REQUEST + index, id);
            if (agreement->request_id.len == S_ID_SIZE &&
                memcmp (agreement->request_id.data, id, S_ID_SIZE) == 0)
                found = index;
        }
        FUZZ_CHECK (found < FUZZ_EXCHANGE_OWN_COUNT && agreement->transfer_id.len == S_ID_SIZE);
        memcpy (s_world->agreements[found], agreement->transfer_id.data, S_ID_SIZE);
        br_proto_free (&message);
    }
    bb_exchange_effects_clear (&effects);

    //  The towns move the agreements on
    const Bruecke__AgreementStep ACCEPT = BRUECKE__AGREEMENT_STEP__STEP_ACCEPT,
                                 SCHEDULE = BRUECKE__AGREEMENT_STEP__STEP_SCHEDULE,
                                 COMPLETE = BRUECKE__AGREEMENT_STEP__STEP_COMPLETE;
    br_identity_t *luenen = fixture->luenen, *unna = fixture->unna;
    for (size_t index = FUZZ_AGREEMENT_HALF; index <= FUZZ_AGREEMENT_COMPLETED; index++) {
        s_broker_setup_step (index, luenen, ACCEPT, 0);
        if (index >= FUZZ_AGREEMENT_ACCEPTED)
            s_broker_setup_step (index, unna, ACCEPT, 0);
    }
    for (size_t index = FUZZ_AGREEMENT_SCHEDULED; index <= FUZZ_AGREEMENT_COMPLETED; index++)
        s_broker_setup_step (index, unna, SCHEDULE,
                             index == FUZZ_AGREEMENT_LATER ? FUZZ_EXCHANGE_LATER_MS
                                                           : FUZZ_EXCHANGE_DONE_MS);
    s_broker_setup_step (FUZZ_AGREEMENT_SIGNED, luenen, COMPLETE, FUZZ_EXCHANGE_DONE_MS);
    s_broker_setup_step (FUZZ_AGREEMENT_COMPLETED, luenen, COMPLETE, FUZZ_EXCHANGE_DONE_MS);
    s_broker_setup_step (FUZZ_AGREEMENT_COMPLETED, unna, COMPLETE, FUZZ_EXCHANGE_DONE_MS);

    //  Each agreement where it should be
    const Bruecke__AgreementState states[FUZZ_EXCHANGE_OWN_COUNT] = {
        BRUECKE__AGREEMENT_STATE__AGREEMENT_PROPOSED,
        BRUECKE__AGREEMENT_STATE__AGREEMENT_PROPOSED,
        BRUECKE__AGREEMENT_STATE__AGREEMENT_ACCEPTED,
        BRUECKE__AGREEMENT_STATE__AGREEMENT_SCHEDULED,
        BRUECKE__AGREEMENT_STATE__AGREEMENT_SCHEDULED,
        BRUECKE__AGREEMENT_STATE__AGREEMENT_SCHEDULED,
        BRUECKE__AGREEMENT_STATE__AGREEMENT_COMPLETED};
    FUZZ_CHECK (br_store_begin (s_world->broker_store, false, &txn) == BR_REASON_OK);
    for (size_t index = 0; index < FUZZ_EXCHANGE_OWN_COUNT; index++) {
        Bruecke__Agreement *agreement =
            s_agreement_read (&s_world->broker_dbs, txn, s_world->agreements[index]);
        FUZZ_CHECK (agreement && agreement->state == states[index]);
        br_proto_free ((ProtobufCMessage **) &agreement);
    }
    s_state_t state;
    s_state_read (&s_world->broker_dbs, txn, &state);
    FUZZ_CHECK (state.board_head == FUZZ_ITEM_COUNT && state.ledger_head == 1);
    br_store_abort (&txn);
}

//  Receives `body` as `type` from the broker at Unna's node, which must
//  take it; commits.
static void
s_node_setup_receive (Bruecke__MessageType type, const ProtobufCMessage *body)
{
    zchunk_t *bytes = br_proto_encode (body);
    zchunk_t *chunk = s_envelope_build (type, fuzz_fixture_exchange ()->broker, "unna",
                                        zchunk_data (bytes), zchunk_size (bytes));
    br_envelope_t *envelope = s_envelope_accept (chunk);
    MDB_txn *txn = NULL;
    FUZZ_CHECK (bn_store_begin (s_world->node_store, &txn) == BR_REASON_OK);
    br_reason_t verdict = S_UNSET;
    FUZZ_CHECK (bn_exchange_receive (s_world->node, txn, envelope, &verdict) == BR_REASON_OK);
    FUZZ_CHECK (verdict == BR_REASON_OK);
    FUZZ_CHECK (bn_store_commit (s_world->node_store, &txn) == BR_REASON_OK);
    br_envelope_destroy (&envelope);
    zchunk_destroy (&chunk);
    zchunk_destroy (&bytes);
}

//  Unna's node: a copy of the board, a ledger record, an agreement.
static void
s_node_setup (const char *path)
{
    fuzz_exchange_t *exchange = fuzz_fixture_exchange ();
    br_reason_t reason;
    s_world->node_store = bn_store_new (path, S_MAPSIZE, &reason);
    FUZZ_CHECK (s_world->node_store);
    s_node_renew ();
    s_dbs_open (bn_store_env (s_world->node_store), s_node_db_names, &s_world->node_dbs);

    Bruecke__BoardChange changes[FUZZ_EXCHANGE_NODE_ITEMS];
    Bruecke__BoardChange *change_list[FUZZ_EXCHANGE_NODE_ITEMS];
    ProtobufCMessage *items[FUZZ_EXCHANGE_NODE_ITEMS];
    for (size_t index = 0; index < FUZZ_EXCHANGE_NODE_ITEMS; index++) {
        items[index] = br_proto_decode (
            &bruecke__signed_board_item__descriptor, zchunk_data (exchange->items[index]),
            zchunk_size (exchange->items[index]), BR_BOARD_SIGNED_MAX, &reason);
        FUZZ_CHECK (items[index]);
        bruecke__board_change__init (&changes[index]);
        changes[index].sequence = index + 1;
        changes[index].change_case = BRUECKE__BOARD_CHANGE__CHANGE_PUT;
        changes[index].put = (Bruecke__SignedBoardItem *) items[index];
        changes[index].at_ms = FUZZ_NOW_MS - 10 * FUZZ_DAY_MS;
        change_list[index] = &changes[index];
    }
    Bruecke__BoardUpdate board = BRUECKE__BOARD_UPDATE__INIT;
    board.changes = change_list;
    board.n_changes = FUZZ_EXCHANGE_NODE_ITEMS;
    board.head = FUZZ_EXCHANGE_NODE_ITEMS;
    s_node_setup_receive (BRUECKE__MESSAGE_TYPE__TYPE_BOARD_UPDATE, &board.base);
    for (size_t index = 0; index < FUZZ_EXCHANGE_NODE_ITEMS; index++)
        br_proto_free (&items[index]);

    ProtobufCBinaryData record = {.data = zchunk_data (exchange->records[0]),
                                  .len = zchunk_size (exchange->records[0])};
    Bruecke__LedgerUpdate ledger = BRUECKE__LEDGER_UPDATE__INIT;
    ledger.records = &record;
    ledger.n_records = 1;
    ledger.head = 1;
    s_node_setup_receive (BRUECKE__MESSAGE_TYPE__TYPE_LEDGER_UPDATE, &ledger.base);

    Bruecke__Agreement agreement;
    fuzz_fixture_agreement (&agreement);
    s_node_setup_receive (BRUECKE__MESSAGE_TYPE__TYPE_AGREEMENT, &agreement.base);

    Bruecke__ExchangeSync held;
    FUZZ_CHECK (bn_exchange_held (s_world->node, &held));
    FUZZ_CHECK (held.board_sequence == FUZZ_EXCHANGE_NODE_ITEMS && held.ledger_sequence == 1);
}

//  Removes a directory whose files are all open.
static void
s_directory_remove (char **path_p)
{
    zdir_t *directory = zdir_new (*path_p, NULL);
    FUZZ_CHECK (directory);
    zdir_remove (directory, true);
    zdir_destroy (&directory);
    FUZZ_CHECK (!zsys_file_exists (*path_p));
    zstr_free (path_p);
}

static void
s_world_destroy (void)
{
    if (s_world) {
        bn_exchange_destroy (&s_world->node);
        bn_store_destroy (&s_world->node_store);
        bb_exchange_destroy (&s_world->broker);
        br_store_destroy (&s_world->broker_store);
        free (s_world);
        s_world = NULL;
    }
}

static void
s_world_new (void)
{
    fuzz_fixture_exchange ();
    s_world = (s_world_t *) zmalloc (sizeof (s_world_t));
    s_world->trace = getenv ("FUZZ_EXCHANGE_TRACE") != NULL;
    //  The exchange logs what it leaves out; a line for every input only
    //  slows the fuzzer down. The trace shows the logs.
    if (!s_world->trace)
        zsys_set_logstream (NULL);
    //  Registered after the fixture's: runs first, while the keys still exist
    atexit (s_world_destroy);
    char *broker_path = br_temp_directory ("fuzz_exchange_broker");
    char *node_path = br_temp_directory ("fuzz_exchange_node");
    FUZZ_CHECK (broker_path && node_path);
    s_broker_setup (broker_path);
    s_node_setup (node_path);
    //  Everything is open: the files need no names any more
    s_directory_remove (&broker_path);
    s_directory_remove (&node_path);
}

//  ---- The target -------------------------------------------------------------------

static const Bruecke__MessageType s_types[FUZZ_EXCHANGE_TYPES] = {
    BRUECKE__MESSAGE_TYPE__TYPE_BOARD_PUBLISH,    BRUECKE__MESSAGE_TYPE__TYPE_BOARD_WITHDRAW,
    BRUECKE__MESSAGE_TYPE__TYPE_AGREEMENT_ACTION, BRUECKE__MESSAGE_TYPE__TYPE_BOARD_UPDATE,
    BRUECKE__MESSAGE_TYPE__TYPE_LEDGER_UPDATE,    BRUECKE__MESSAGE_TYPE__TYPE_AGREEMENT};

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    fuzz_fixture ();
    if (!s_world)
        s_world_new ();
    return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t control = data[0];
    size_t kind = (control & FUZZ_EXCHANGE_TYPE_MASK) % FUZZ_EXCHANGE_TYPES;
    Bruecke__MessageType type = s_types[kind];
    size_t body_size = size - 1;
    uint8_t *body = (uint8_t *) malloc (body_size + S_APPENDIX_MAX);
    FUZZ_CHECK (body);
    memcpy (body, data + 1, body_size);

    if (kind <= FUZZ_EXCHANGE_ACTION) {
        fuzz_fixture_t *fixture = fuzz_fixture ();
        br_identity_t *senders[] = {fixture->luenen, fixture->unna, fixture->kreis_unna,
                                    fixture->luenen};
        br_identity_t *sender =
            senders[(control >> FUZZ_EXCHANGE_SENDER_SHIFT) & FUZZ_EXCHANGE_SENDER_MASK];
        size_t own = control >> FUZZ_EXCHANGE_OWN_SHIFT;
        if (own && kind == FUZZ_EXCHANGE_ACTION)
            s_append_field (body, &body_size, 1, s_world->agreements[own - 1], S_ID_SIZE);
        else if (own && kind == FUZZ_EXCHANGE_WITHDRAW) {
            uint8_t id[S_ID_SIZE];
            fuzz_fixture_item_id (own - 1, id);
            s_append_field (body, &body_size, 1, id, S_ID_SIZE);
        }
        br_reason_t verdict = s_broker_run (type, sender, body, body_size);
        br_reason_t again = S_UNSET;
        if (verdict == BR_REASON_BAD_SIGNATURE && s_broker_resign (type, sender, body, &body_size))
            again = s_broker_run (type, sender, body, body_size);
        if (s_world->trace)
            printf ("fuzz_exchange: %s from %s%s: %s%s%s\n", br_message_type_name (type),
                    br_identity_node_id (sender), own ? " (own record)" : "",
                    br_reason_name (verdict), again != S_UNSET ? ", signed again: " : "",
                    again != S_UNSET ? br_reason_name (again) : "");
    } else {
        if (s_world->trace)
            printf ("fuzz_exchange: %s to unna\n", br_message_type_name (type));
        br_reason_t verdict = s_node_run (type, body, body_size);
        if (s_world->trace)
            printf ("fuzz_exchange:   verdict %s\n", br_reason_name (verdict));
        zchunk_t *fixed = s_node_fix (type, body, body_size);
        if (fixed) {
            verdict = s_node_run (type, zchunk_data (fixed), zchunk_size (fixed));
            if (s_world->trace)
                printf ("fuzz_exchange:   signed again: verdict %s\n", br_reason_name (verdict));
            zchunk_destroy (&fixed);
        }
    }
    free (body);
    return 0;
}
