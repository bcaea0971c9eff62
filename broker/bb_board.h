/*  =========================================================================
    bb_board - the Transferbörse board, as the broker holds it

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

    Three databases in the given LMDB environment:

        board-items     id (16)        -> SignedBoardItem bytes
        board-changes   sequence (8)   -> BoardChange bytes
        board-meta      "head"         -> sequence (8) of the last change

    Offer ids and request ids share one id space. Sequences start at 1 and
    have no gaps; the head is read inside each write transaction, never
    cached, so an aborted transaction leaves nothing behind.

    Changes are kept until bb_board_prune removes the oldest; nothing prunes
    on its own yet (the broker is to call it, keeping BB_BOARD_CHANGES_KEPT).
    A reader whose changes are no longer all kept takes a snapshot instead:
    bb_board_needs_snapshot tells which.

    Withdrawing an offer leaves the requests for it on the board; the
    matching refuses them (bb_match: NO_OFFER) until their towns withdraw
    them.
    =========================================================================
*/

#ifndef BB_BOARD_H_INCLUDED
#define BB_BOARD_H_INCLUDED

#include "bruecke.h"

//  The domain-separation prefix of the signed bytes, without a NUL.
#define BB_BOARD_DOMAIN_OFFER   "bruecke-board-offer-v1"
#define BB_BOARD_DOMAIN_REQUEST "bruecke-board-request-v1"
#define BB_BOARD_DOMAIN_MAX     (sizeof (BB_BOARD_DOMAIN_REQUEST) - 1)

//  The signature's domain prefix for an offer or a request (no NUL counted).
const char *bb_board_domain (bool is_offer);
//  Offer and request ids: 16 random bytes chosen by their town.
#define BB_BOARD_ID_SIZE 16
//  Topics an offer may have, at least one.
#define BB_BOARD_TOPICS_MAX 8
//  Longest title, in bytes of UTF-8; a title is required.
#define BB_BOARD_TITLE_MAX 200
//  Longest text of an offer (target group, results, success factors,
//  pitfalls), in bytes of UTF-8; each may be empty.
#define BB_BOARD_TEXT_MAX 4000
//  Longest note of a request, in bytes of UTF-8; may be empty.
#define BB_BOARD_NOTE_MAX 1000
//  Most coaching hours one offer may give per coaching.
#define BB_BOARD_HOURS_MAX 1000
//  Most coaching hours per quarter an offer may announce.
#define BB_BOARD_CAPACITY_MAX 10000
//  Largest serialized Offer or ExchangeRequest.
#define BB_BOARD_ITEM_MAX (32 * 1024)
//  Largest SignedBoardItem: the item, the signature, the framing.
#define BB_BOARD_SIGNED_MAX (BB_BOARD_ITEM_MAX + 256)
//  Largest BoardChange: a SignedBoardItem plus sequence and time.
#define BB_BOARD_CHANGE_MAX (BB_BOARD_SIGNED_MAX + 64)
//  How many changes the broker is to keep for catching up (bb_board_prune).
#define BB_BOARD_CHANGES_KEPT 10000

//  Called with each encoded BoardChange; the bytes are valid during the
//  call only.
typedef void (bb_board_change_fn) (void *argument, uint64_t sequence, const uint8_t *data,
                                   size_t size);

//  Called with each item of a snapshot, as SignedBoardItem bytes, valid
//  during the call only.
typedef void (bb_board_item_fn) (void *argument, const uint8_t *data, size_t size);

typedef struct _bb_board_t bb_board_t;

//  Opens (creating) the board's databases in `store`, which stays the
//  caller's and must outlive the board. Call it with no write transaction
//  open. Returns the board, or NULL and sets *reason (a store reason).
bb_board_t *bb_board_new (br_store_t *store, br_reason_t *reason);

//  Closes the board (not the store) and nulls the pointer. Safe to call twice.
void bb_board_destroy (bb_board_t **self_p);

//  Publishes a SignedBoardItem (`data`, `size` bytes from the wire) sent by
//  the node `sender_node_id` over its authenticated connection, inside the
//  caller's write transaction `txn`. In this order it refuses: bytes that
//  do not decode, a signature not 64 bytes (MALFORMED, or TOO_LARGE); an
//  item whose town is not the sender (SENDER_MISMATCH); a town not in
//  `roster` (UNKNOWN_NODE), revoked (NODE_REVOKED) or not a town
//  (FORBIDDEN); a signature that is not the town's (BAD_SIGNATURE); an item
//  outside the limits above: an id not 16 bytes, no or too many topics, a
//  topic not in the catalogue, text not valid UTF-8 or too long, hours not
//  in 1..BB_BOARD_HOURS_MAX, capacity over BB_BOARD_CAPACITY_MAX, no
//  publication time, a request with both or neither of topic and offer id
//  (MALFORMED); a request for an offer not on the board (NOT_FOUND); an id
//  on the board from another town (FORBIDDEN) or of the other kind
//  (INVALID_STATE). The same town publishing an id again replaces the item.
//  Then appends a BoardChange {put} at `now_ms` and returns OK with
//  *sequence set to its sequence; or a store reason. On failure nothing
//  was written and the caller may go on using the transaction.
br_reason_t bb_board_put (bb_board_t *self, MDB_txn *txn, const uint8_t *data, size_t size,
                          const char *sender_node_id, br_roster_t *roster, int64_t now_ms,
                          uint64_t *sequence) BR_WUR;

//  Withdraws item `id` (`id_size` bytes) for the node `sender_node_id`
//  inside `txn`. Refuses an id not 16 bytes (MALFORMED), one not on the
//  board (NOT_FOUND), one of another town (FORBIDDEN). Removes the item,
//  appends a BoardChange {withdrawn_id} at `now_ms` and returns OK with
//  *sequence set; or a store reason. On failure nothing was written.
br_reason_t bb_board_withdraw (bb_board_t *self, MDB_txn *txn, const uint8_t *id, size_t id_size,
                               const char *sender_node_id, int64_t now_ms,
                               uint64_t *sequence) BR_WUR;

//  Reads the head: the last change's sequence, 0 if none. Returns OK,
//  AUDIT_BROKEN if the stored head is malformed, or a store reason.
br_reason_t bb_board_head (bb_board_t *self, uint64_t *sequence) BR_WUR;

//  Calls `change` with each encoded BoardChange whose sequence is after
//  `after`, oldest first, at most `max` of them, in one read transaction:
//  the catch-up of a node that saw `after`. Returns how many it passed.
size_t bb_board_changes (bb_board_t *self, uint64_t after, size_t max, bb_board_change_fn *change,
                         void *argument);

//  Calls `item` with every item on the board, in id order, and sets *head
//  to the sequence the snapshot is current to, all in one read
//  transaction; the reader then continues with changes after *head.
//  Returns OK, AUDIT_BROKEN or a store reason.
br_reason_t bb_board_snapshot (bb_board_t *self, bb_board_item_fn *item, void *argument,
                               uint64_t *head) BR_WUR;

//  True if a reader that saw sequence `after` must take a snapshot: the
//  changes after `after` are no longer all kept, or `after` lies beyond the
//  head (the reader knows another board). Also true if the store fails.
bool bb_board_needs_snapshot (bb_board_t *self, uint64_t after) BR_WUR;

//  Removes the oldest changes inside `txn` so that at most `keep` remain
//  (the broker keeps BB_BOARD_CHANGES_KEPT). Items and the head stay.
//  Returns OK or a store reason, and how many it removed in *removed (may
//  be NULL); on failure the caller should abort `txn`.
br_reason_t bb_board_prune (bb_board_t *self, MDB_txn *txn, size_t keep, size_t *removed) BR_WUR;

//  Self test of this class.
void bb_board_test (bool verbose);

#endif
