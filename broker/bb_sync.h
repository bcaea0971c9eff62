/*  =========================================================================
    bb_sync - the Transferbörse's updates for one town

    What the broker sends a town of the board and the ledger (PROTOCOL.md
    16.4): the board's changes after a sequence, or, when those are no
    longer all kept or the town asks for one, a snapshot of the whole
    board; and the ledger's records after a sequence. Each is packed into
    BOARD_UPDATE or LEDGER_UPDATE bodies of at most `budget` bytes of
    entries (at least one entry each) and handed to the caller's `send`,
    which signs and sends it. A snapshot's parts are marked first and last.
    When `send` fails no further part goes: the town sees a gap, or no
    snapshot's last part, and asks again.
    =========================================================================
*/

#ifndef BB_SYNC_H_INCLUDED
#define BB_SYNC_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"
#include "br_board.h"
#include "br_ledger.h"

#define BB_SYNC_BUDGET (256 * 1024) //  bytes of entries in one update

//  Sends one update body of `type`; false if it could not go.
typedef bool (bb_sync_send_fn) (void *argument, Bruecke__MessageType type,
                                const ProtobufCMessage *body);

//  Sends the board after sequence `after`: nothing if that is the head
//  and no `snapshot` is asked for; the changes if they are all kept;
//  else the whole board.
void bb_sync_board (br_board_t *board, uint64_t after, bool snapshot, size_t budget,
                    bb_sync_send_fn *send, void *argument);

//  Sends the ledger's records after sequence `after`, if there are any.
void bb_sync_ledger (br_ledger_t *ledger, uint64_t after, size_t budget, bb_sync_send_fn *send,
                     void *argument);

//  Self test of this class.
void bb_sync_test (bool verbose);

#endif
