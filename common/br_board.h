/*  =========================================================================
    br_board - the Transferbörse board, as the broker holds it and nodes copy it

    The Transferbörse (transfer exchange, see bb_match.h) has a board: the
    towns' OFFERS (a practice example on catalogue topics, with coaching
    hours) and REQUESTS (interest in a topic, or in one offer). Offers and
    requests are not personal data and are not sealed; each is signed by
    the town that makes it. The broker holds the board and keeps every
    node's copy current: a snapshot plus sequence-numbered changes, so a
    node that was offline resumes from the last sequence it saw.

    What a town signs: the bytes of its serialized Offer or ExchangeRequest
    (proto/bruecke.proto), exactly as it serialized them, after a domain
    separation prefix:

        "bruecke-board-offer-v1"     for an Offer (22 bytes, ASCII, no NUL)
        "bruecke-board-request-v1"   for an ExchangeRequest (24 bytes)
        item                         the serialized Offer or ExchangeRequest

    The prefix names the kind, so an item signed as one kind never
    verifies as the other.

    The signature is a detached Ed25519 signature by the town's roster
    signing key. A SignedBoardItem carries the item bytes, the signature
    and which kind the item is. The board verifies over the bytes it got;
    it never re-serializes an item.

    Four databases in the given LMDB environment:

        board-items     id (16)        -> SignedBoardItem bytes
        board-changes   sequence (8)   -> BoardChange bytes
        board-meta      "head"         -> sequence (8) of the last change
        board-owners    id (16)        -> node id of the town that used it

    Offer ids and request ids share one id space. An id stays its town's
    after a withdrawal: no other town may use it again (FORBIDDEN), so a
    request for a withdrawn offer never comes to mean another town's. Sequences start at 1 and
    have no gaps; the head is read inside each write transaction, never
    cached, so an aborted transaction leaves nothing behind.

    Changes are kept until br_board_prune removes the oldest; nothing prunes
    on its own (the broker calls it in its expiry scan, keeping
    BR_BOARD_CHANGES_KEPT).
    A reader whose changes are no longer all kept takes a snapshot instead:
    br_board_needs_snapshot tells which.

    Withdrawing an offer leaves the requests for it on the board; the
    matching refuses them (bb_match: NO_OFFER) until their towns withdraw
    them.
    =========================================================================
*/

#ifndef BR_BOARD_H_INCLUDED
#define BR_BOARD_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"
#include "br_store.h"
#include "br_identity.h"
#include "br_roster.h"

//  The domain-separation prefix of the signed bytes, without a NUL.
#define BR_BOARD_DOMAIN_OFFER   "bruecke-board-offer-v1"
#define BR_BOARD_DOMAIN_REQUEST "bruecke-board-request-v1"
#define BR_BOARD_DOMAIN_MAX     (sizeof (BR_BOARD_DOMAIN_REQUEST) - 1)

//  The signature's domain prefix for an offer or a request (no NUL counted).
const char *br_board_domain (bool is_offer);
//  Offer and request ids: 16 random bytes chosen by their town.
#define BR_BOARD_ID_SIZE 16
//  Topics an offer may have, at least one.
#define BR_BOARD_TOPICS_MAX 8
//  Longest title, in characters (br_line_valid); a title is required.
#define BR_BOARD_TITLE_MAX 200
//  Longest text of an offer (target group, results, success factors,
//  pitfalls), in characters of a note (br_note_valid: line breaks
//  allowed); each may be empty.
#define BR_BOARD_TEXT_MAX 4000
//  Longest note of a request, in characters of a note; may be empty.
#define BR_BOARD_NOTE_MAX 1000
//  Most coaching hours one offer may give per coaching.
#define BR_BOARD_HOURS_MAX 1000
//  Most coaching hours per quarter an offer may announce.
#define BR_BOARD_CAPACITY_MAX 10000
//  Largest serialized Offer or ExchangeRequest: room for every text at
//  its limit in characters of up to 4 bytes each.
#define BR_BOARD_ITEM_MAX (80 * 1024)
//  Largest SignedBoardItem: the item, the signature, the framing.
#define BR_BOARD_SIGNED_MAX (BR_BOARD_ITEM_MAX + 256)
//  Largest BoardChange: a SignedBoardItem plus sequence and time.
#define BR_BOARD_CHANGE_MAX (BR_BOARD_SIGNED_MAX + 64)
//  How many changes the broker is to keep for catching up (br_board_prune).
#define BR_BOARD_CHANGES_KEPT 10000

//  Called with each encoded BoardChange; the bytes are valid during the
//  call only.
typedef void (br_board_change_fn) (void *argument, uint64_t sequence, const uint8_t *data,
                                   size_t size);

//  Called with each item of a snapshot, as SignedBoardItem bytes, valid
//  during the call only.
typedef void (br_board_item_fn) (void *argument, const uint8_t *data, size_t size);

typedef struct _br_board_t br_board_t;

//  A SignedBoardItem decoded together with its item.
typedef struct {
    ProtobufCMessage *signed_message;      //  the Bruecke__SignedBoardItem
    ProtobufCMessage *item_message;        //  its Bruecke__Offer or Bruecke__ExchangeRequest
    Bruecke__SignedBoardItem *signed_item; //  = signed_message
    Bruecke__Offer *offer;                 //  = item_message if an offer, else NULL
    Bruecke__ExchangeRequest *request;     //  = item_message if a request, else NULL
    const char *town;                      //  the item's town
    ProtobufCBinaryData id;                //  the item's id (offer or request id)
} br_board_item_t;

//  Decodes SignedBoardItem bytes and the item inside (bounded). Checks only
//  that both decode and the signature has its size, not the signature.
//  Returns OK, MALFORMED or TOO_LARGE; on OK the caller frees *item with
//  br_board_item_free.
br_reason_t br_board_item_decode (const uint8_t *data, size_t size, br_board_item_t *item) BR_WUR;

//  Checks a decoded item's shape against the limits above (not its
//  signature, nor the board). Returns OK or MALFORMED.
br_reason_t br_board_item_check (const br_board_item_t *item) BR_WUR;

//  Frees what br_board_item_decode allocated. Safe on a zeroed item.
void br_board_item_free (br_board_item_t *item);

//  Serializes `item` (a Bruecke__Offer or Bruecke__ExchangeRequest) and
//  signs it as `signer` under its kind's domain prefix. Returns the
//  SignedBoardItem bytes, the caller's.
zchunk_t *br_board_sign (br_identity_t *signer, const ProtobufCMessage *item);

//  Opens (creating) the board's databases in `store`, which stays the
//  caller's and must outlive the board. Call it with no write transaction
//  open. Returns the board, or NULL and sets *reason (a store reason).
br_board_t *br_board_new (br_store_t *store, br_reason_t *reason);

//  Closes the board (not the store) and nulls the pointer. Safe to call twice.
void br_board_destroy (br_board_t **self_p);

//  Publishes a SignedBoardItem (`data`, `size` bytes from the wire) sent by
//  the node `sender_node_id` over its authenticated connection, inside the
//  caller's write transaction `txn`. In this order it refuses: bytes that
//  do not decode, a signature not 64 bytes (MALFORMED, or TOO_LARGE); an
//  item whose town is not the sender (SENDER_MISMATCH); a town not in
//  `roster` (UNKNOWN_NODE), revoked (NODE_REVOKED) or not a town
//  (FORBIDDEN); a signature that is not the town's (BAD_SIGNATURE); an item
//  outside the limits above: an id not 16 bytes, no or too many topics, a
//  topic not in the catalogue, text not valid UTF-8 or too long, hours not
//  in 1..BR_BOARD_HOURS_MAX, capacity over BR_BOARD_CAPACITY_MAX, no
//  publication time, a request with both or neither of topic and offer id
//  (MALFORMED); a request for an offer not on the board (NOT_FOUND); an id
//  on the board from another town (FORBIDDEN) or of the other kind
//  (INVALID_STATE). The same town publishing an id again replaces the item.
//  Then appends a BoardChange {put} at `now_ms` and returns OK with
//  *sequence set to its sequence; or a store reason. On failure nothing
//  was written and the caller may go on using the transaction.
br_reason_t br_board_put (br_board_t *self, MDB_txn *txn, const uint8_t *data, size_t size,
                          const char *sender_node_id, br_roster_t *roster, int64_t now_ms,
                          uint64_t *sequence) BR_WUR;

//  Withdraws item `id` (`id_size` bytes) for the node `sender_node_id`
//  inside `txn`. Refuses an id not 16 bytes (MALFORMED), one not on the
//  board (NOT_FOUND), one of another town (FORBIDDEN). Removes the item,
//  appends a BoardChange {withdrawn_id} at `now_ms` and returns OK with
//  *sequence set; or a store reason. On failure nothing was written.
br_reason_t br_board_withdraw (br_board_t *self, MDB_txn *txn, const uint8_t *id, size_t id_size,
                               const char *sender_node_id, int64_t now_ms,
                               uint64_t *sequence) BR_WUR;

//  Reads the head: the last change's sequence, 0 if none. Returns OK,
//  AUDIT_BROKEN if the stored head is malformed, or a store reason.
br_reason_t br_board_head (br_board_t *self, uint64_t *sequence) BR_WUR;

//  Calls `change` with each encoded BoardChange whose sequence is after
//  `after`, oldest first, at most `max` of them, in one read transaction:
//  the catch-up of a node that saw `after`. Returns how many it passed.
size_t br_board_changes (br_board_t *self, uint64_t after, size_t max, br_board_change_fn *change,
                         void *argument);

//  Reads item `id` (BR_BOARD_ID_SIZE bytes) in a read transaction of its
//  own. Returns OK (free *item with br_board_item_free), NOT_FOUND,
//  AUDIT_BROKEN or a store reason.
br_reason_t br_board_get (br_board_t *self, const uint8_t *id, br_board_item_t *item) BR_WUR;

//  Calls `item` with every item on the board, in id order, and sets *head
//  to the sequence the snapshot is current to, all in one read
//  transaction; the reader then continues with changes after *head.
//  Returns OK, AUDIT_BROKEN or a store reason.
br_reason_t br_board_snapshot (br_board_t *self, br_board_item_fn *item, void *argument,
                               uint64_t *head) BR_WUR;

//  True if a reader that saw sequence `after` must take a snapshot: the
//  changes after `after` are no longer all kept, or `after` lies beyond the
//  head (the reader knows another board). Also true if the store fails.
bool br_board_needs_snapshot (br_board_t *self, uint64_t after) BR_WUR;

//  ---- A node's copy: what the broker sent, applied in order ----

//  Applies one change the broker sent, inside `txn`: it must be the change
//  after the head (REPLAYED if it is at or before it, INVALID_STATE if it
//  lies further ahead: the node missed changes and must catch up). A put
//  is checked like br_board_put, except that its town need only be in
//  `roster` (revoked since is fine) and there is no sender. A withdrawal
//  of an item the copy does not hold is AUDIT_BROKEN. On failure nothing
//  was written.
br_reason_t br_board_apply (br_board_t *self, MDB_txn *txn, const Bruecke__BoardChange *change,
                            br_roster_t *roster) BR_WUR;

//  Empties the copy (items, changes, head) inside `txn`: the first part of
//  a snapshot. The head is 0 until br_board_set_head.
br_reason_t br_board_reset (br_board_t *self, MDB_txn *txn) BR_WUR;

//  Puts one item of a snapshot inside `txn`, checked as in br_board_apply.
br_reason_t br_board_snapshot_put (br_board_t *self, MDB_txn *txn,
                                   const Bruecke__SignedBoardItem *item,
                                   br_roster_t *roster) BR_WUR;

//  Sets the head inside `txn`: the snapshot's last part is in.
br_reason_t br_board_set_head (br_board_t *self, MDB_txn *txn, uint64_t head) BR_WUR;

//  Removes the oldest changes inside `txn` so that at most `keep` remain
//  (the broker keeps BR_BOARD_CHANGES_KEPT). Items and the head stay.
//  Returns OK or a store reason, and how many it removed in *removed (may
//  be NULL); on failure the caller should abort `txn`.
br_reason_t br_board_prune (br_board_t *self, MDB_txn *txn, size_t keep, size_t *removed) BR_WUR;

//  Self test of this class: a short tour of its API.
void br_board_test (bool verbose);

//  The board's scenario test (tests/unit/br_board_test.c, linked into
//  bruecke-selftest only, not into the library).
void br_board_scenario_test (bool verbose);

#endif
