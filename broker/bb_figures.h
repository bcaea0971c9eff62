/*  =========================================================================
    bb_figures - what the broker counts, for its status and the dashboard

    Messages stored and refused since start, refusals by reason code and
    referrals between towns since the message log began (counts only, no
    content: node ids and numbers). At start the message log is read once
    so that the counts carry over a restart. bb_figures_show gathers them
    with the sessions, queues and ledger into the dashboard's figures;
    the ledger is verified again only when it has grown.
    =========================================================================
*/

#ifndef BB_FIGURES_H_INCLUDED
#define BB_FIGURES_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"
#include "br_roster.h"
#include "br_ledger.h"
#include "bb_dashboard.h"
#include "bb_sessions.h"
#include "bb_store.h"

typedef struct _bb_figures_t bb_figures_t;

//  Nothing counted yet.
bb_figures_t *bb_figures_new (void);

//  Frees the counts and nulls the pointer. Safe to call twice.
void bb_figures_destroy (bb_figures_t **self_p);

//  Counts `count` messages stored.
void bb_figures_stored (bb_figures_t *self, size_t count);

//  Counts one refusal for `reason`.
void bb_figures_refused (bb_figures_t *self, br_reason_t reason);

//  Counts one referral stored from town `from` to town `to`.
void bb_figures_referral (bb_figures_t *self, const char *from, const char *to);

//  Counts one line of the message log ("TIME ID SENDER ->
//  RECIPIENT/SERVICE TYPE OUTCOME"): a stored referral, or a refusal.
//  Lines of another form are skipped.
void bb_figures_count_logged (bb_figures_t *self, const char *line);

//  Counts what the message log of `store` holds: at start.
void bb_figures_read_log (bb_figures_t *self, bb_store_t *store);

//  Messages stored, and refused, since start.
uint64_t bb_figures_stored_count (bb_figures_t *self);
uint64_t bb_figures_refused_count (bb_figures_t *self);

//  Hands `dashboard` the figures of `now_ms`: the towns of `roster` with
//  their sessions, queues and balances in `ledger`, the counts, and the
//  board's and ledger's heads as sent to the towns.
void bb_figures_show (bb_figures_t *self, bb_dashboard_t *dashboard, br_roster_t *roster,
                      bb_sessions_t *sessions, bb_store_t *store, br_ledger_t *ledger,
                      uint64_t board_head, uint64_t ledger_head, int64_t now_ms);

//  Self test of this class.
void bb_figures_test (bool verbose);

#endif
