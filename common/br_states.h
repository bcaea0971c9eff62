/*  =========================================================================
    br_states - the life cycles of casework and Transferbörse records, as tables

    One table per kind of record says which change is allowed from which
    state, and who makes it. Node and broker both decide by these tables, and
    the node's API lists, with each record, the changes its caller may make
    now ("actions"), so that a user interface shows those and derives no
    rules of its own.

    Referral (PROTOCOL.md section 15.4): the sender's office cancels; the
    recipient's office sets every other state. `received` is set by the
    recipient's node when the referral arrives, not by a person.

        requested   -> received, accepted, declined, cancelled
        received    -> accepted, declined, cancelled
        accepted    -> in_progress, completed, failed, cancelled
        in_progress -> in_progress, completed, failed, cancelled
        declined, completed, failed, cancelled: final

    Case (the office that holds it):
        open         -> note, update, close, transfer, consent, refer
        closed       -> reopen
        transferring, transferred: none (the other town answers)

    Transferbörse agreement (PROTOCOL.md section 16.6), by either town:
        PROPOSED  -> accept, cancel
        ACCEPTED  -> schedule, cancel
        SCHEDULED -> schedule, complete, cancel
        COMPLETED, CANCELLED: final
    =========================================================================
*/

#ifndef BR_STATES_H_INCLUDED
#define BR_STATES_H_INCLUDED

#include "br_prelude.h"

//  Most actions a state allows.
#define BR_STATES_ACTIONS_MAX 8

//  One state of a referral.
typedef struct {
    int wire;          //  Bruecke__ReferralState
    const char *name;  //  as in the API, e.g. "in_progress"
    bool by_recipient; //  the recipient's office sets it (else the sender's)
    bool final;        //  no change after it
} br_referral_state_t;

//  The referral state named `name` (API name), or NULL.
const br_referral_state_t *br_referral_state (const char *name);

//  The referral state of wire value `wire`, or NULL.
const br_referral_state_t *br_referral_state_of (int wire);

//  True if a referral may go from state `from` to state `to` (names).
bool br_referral_allowed (const char *from, const char *to);

//  The states the `recipient` side (else the sender's) may set now on a
//  referral in state `from`, into `actions`; `received`, which the node
//  sets, is not among them. Returns how many.
size_t br_referral_actions (const char *from, bool recipient,
                            const char *actions[BR_STATES_ACTIONS_MAX]);

//  The actions the office holding a case in `state` may take now, into
//  `actions`. Returns how many.
size_t br_case_actions (const char *state, const char *actions[BR_STATES_ACTIONS_MAX]);

//  True if the case action `action` is allowed in case state `state`.
bool br_case_allowed (const char *state, const char *action);

//  True if an agreement in state `state` (Bruecke__AgreementState) takes
//  the step `step` (Bruecke__AgreementStep).
bool br_agreement_allowed (int state, int step);

//  The steps ("accept", "schedule", "complete", "cancel") an agreement in
//  `state` takes, into `actions`. Returns how many.
size_t br_agreement_actions (int state, const char *actions[BR_STATES_ACTIONS_MAX]);

//  Self test of this class.
void br_states_test (bool verbose);

#endif
