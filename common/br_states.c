/*  =========================================================================
    br_states - the life cycles of casework and Transferbörse records, as tables
    =========================================================================
*/

#include "br_states.h"
#include "br_proto.h"

#define S_COUNT(array) (sizeof (array) / sizeof ((array)[0]))

//  ---- Referrals ------------------------------------------------------------

static const br_referral_state_t s_referral_states[] = {
    {BRUECKE__REFERRAL_STATE__REFERRAL_REQUESTED, "requested", false, false},
    {BRUECKE__REFERRAL_STATE__REFERRAL_RECEIVED, "received", true, false},
    {BRUECKE__REFERRAL_STATE__REFERRAL_ACCEPTED, "accepted", true, false},
    {BRUECKE__REFERRAL_STATE__REFERRAL_DECLINED, "declined", true, true},
    {BRUECKE__REFERRAL_STATE__REFERRAL_IN_PROGRESS, "in_progress", true, false},
    {BRUECKE__REFERRAL_STATE__REFERRAL_COMPLETED, "completed", true, true},
    {BRUECKE__REFERRAL_STATE__REFERRAL_FAILED, "failed", true, true},
    {BRUECKE__REFERRAL_STATE__REFERRAL_CANCELLED, "cancelled", false, true},
};

//  Which state follows which: a change is allowed if its pair is here.
static const struct {
    const char *from, *to;
} s_referral_moves[] = {
    {"requested", "received"},    {"requested", "accepted"},   {"requested", "declined"},
    {"requested", "cancelled"},   {"received", "accepted"},    {"received", "declined"},
    {"received", "cancelled"},    {"accepted", "in_progress"}, {"accepted", "completed"},
    {"accepted", "failed"},       {"accepted", "cancelled"},   {"in_progress", "in_progress"},
    {"in_progress", "completed"}, {"in_progress", "failed"},   {"in_progress", "cancelled"},
};

const br_referral_state_t *
br_referral_state (const char *name)
{
    for (size_t index = 0; name && index < S_COUNT (s_referral_states); index++)
        if (streq (s_referral_states[index].name, name))
            return &s_referral_states[index];
    return NULL;
}

const br_referral_state_t *
br_referral_state_of (int wire)
{
    for (size_t index = 0; index < S_COUNT (s_referral_states); index++)
        if (s_referral_states[index].wire == wire)
            return &s_referral_states[index];
    return NULL;
}

bool
br_referral_allowed (const char *from, const char *to)
{
    for (size_t index = 0; from && to && index < S_COUNT (s_referral_moves); index++)
        if (streq (s_referral_moves[index].from, from) && streq (s_referral_moves[index].to, to))
            return true;
    return false;
}

size_t
br_referral_actions (const char *from, bool recipient, const char *actions[BR_STATES_ACTIONS_MAX])
{
    size_t count = 0;
    for (size_t index = 0; from && index < S_COUNT (s_referral_moves); index++) {
        const br_referral_state_t *to = br_referral_state (s_referral_moves[index].to);
        if (streq (s_referral_moves[index].from, from) && to->by_recipient == recipient &&
            !streq (to->name, "received") && count < BR_STATES_ACTIONS_MAX)
            actions[count++] = to->name;
    }
    return count;
}

//  ---- Cases ----------------------------------------------------------------

static const struct {
    const char *state;
    const char *actions[BR_STATES_ACTIONS_MAX];
} s_case_actions[] = {
    {"open", {"note", "update", "close", "transfer", "consent", "refer"}},
    {"closed", {"reopen"}},
};

size_t
br_case_actions (const char *state, const char *actions[BR_STATES_ACTIONS_MAX])
{
    size_t count = 0;
    for (size_t index = 0; state && index < S_COUNT (s_case_actions); index++)
        if (streq (s_case_actions[index].state, state))
            while (count < BR_STATES_ACTIONS_MAX && s_case_actions[index].actions[count]) {
                actions[count] = s_case_actions[index].actions[count];
                count++;
            }
    return count;
}

bool
br_case_allowed (const char *state, const char *action)
{
    const char *actions[BR_STATES_ACTIONS_MAX];
    size_t count = br_case_actions (state, actions);
    for (size_t index = 0; action && index < count; index++)
        if (streq (actions[index], action))
            return true;
    return false;
}

//  ---- Transferbörse agreements -----------------------------------------------

static const struct {
    int state;
    int steps[4];
} s_agreement_steps[] = {
    {BRUECKE__AGREEMENT_STATE__AGREEMENT_PROPOSED,
     {BRUECKE__AGREEMENT_STEP__STEP_ACCEPT, BRUECKE__AGREEMENT_STEP__STEP_CANCEL}},
    {BRUECKE__AGREEMENT_STATE__AGREEMENT_ACCEPTED,
     {BRUECKE__AGREEMENT_STEP__STEP_SCHEDULE, BRUECKE__AGREEMENT_STEP__STEP_CANCEL}},
    {BRUECKE__AGREEMENT_STATE__AGREEMENT_SCHEDULED,
     {BRUECKE__AGREEMENT_STEP__STEP_SCHEDULE, BRUECKE__AGREEMENT_STEP__STEP_COMPLETE,
      BRUECKE__AGREEMENT_STEP__STEP_CANCEL}},
};

bool
br_agreement_allowed (int state, int step)
{
    for (size_t index = 0; index < S_COUNT (s_agreement_steps); index++)
        if (s_agreement_steps[index].state == state)
            for (size_t next = 0; next < 4 && s_agreement_steps[index].steps[next]; next++)
                if (s_agreement_steps[index].steps[next] == step)
                    return true;
    return false;
}

size_t
br_agreement_actions (int state, const char *actions[BR_STATES_ACTIONS_MAX])
{
    static const char *names[] = {"", "accept", "schedule", "complete", "cancel"};
    size_t count = 0;
    for (int step = BRUECKE__AGREEMENT_STEP__STEP_ACCEPT;
         step <= BRUECKE__AGREEMENT_STEP__STEP_CANCEL; step++)
        if (br_agreement_allowed (state, step))
            actions[count++] = names[step];
    return count;
}

//  ---- Self test ----------------------------------------------------------------

void
br_states_test (bool verbose)
{
    if (verbose)
        printf (" * br_states: ");
    //  @selftest
    assert (br_referral_state ("in_progress")->wire ==
            BRUECKE__REFERRAL_STATE__REFERRAL_IN_PROGRESS);
    assert (br_referral_state_of (BRUECKE__REFERRAL_STATE__REFERRAL_CANCELLED)->final);
    assert (!br_referral_state ("lost") && !br_referral_state_of (99));
    //  Every move's states exist, and no move leaves a final state
    for (size_t index = 0; index < S_COUNT (s_referral_moves); index++) {
        const br_referral_state_t *from = br_referral_state (s_referral_moves[index].from);
        assert (from && !from->final && br_referral_state (s_referral_moves[index].to));
    }
    assert (br_referral_allowed ("requested", "received"));
    assert (br_referral_allowed ("in_progress", "in_progress"));
    assert (!br_referral_allowed ("received", "completed"));
    assert (!br_referral_allowed ("completed", "cancelled"));
    assert (!br_referral_allowed (NULL, "cancelled"));
    const char *actions[BR_STATES_ACTIONS_MAX];
    assert (br_referral_actions ("received", true, actions) == 2);
    assert (streq (actions[0], "accepted") && streq (actions[1], "declined"));
    assert (br_referral_actions ("received", false, actions) == 1 &&
            streq (actions[0], "cancelled"));
    assert (br_referral_actions ("completed", true, actions) == 0);
    assert (br_referral_actions ("accepted", true, actions) == 3);
    //  Cases
    assert (br_case_actions ("open", actions) == 6 && streq (actions[2], "close"));
    assert (br_case_actions ("closed", actions) == 1 && streq (actions[0], "reopen"));
    assert (br_case_actions ("transferred", actions) == 0);
    assert (br_case_allowed ("open", "note") && !br_case_allowed ("closed", "note"));
    //  Agreements
    int proposed = BRUECKE__AGREEMENT_STATE__AGREEMENT_PROPOSED;
    int scheduled = BRUECKE__AGREEMENT_STATE__AGREEMENT_SCHEDULED;
    assert (br_agreement_allowed (proposed, BRUECKE__AGREEMENT_STEP__STEP_ACCEPT));
    assert (!br_agreement_allowed (proposed, BRUECKE__AGREEMENT_STEP__STEP_COMPLETE));
    assert (br_agreement_allowed (scheduled, BRUECKE__AGREEMENT_STEP__STEP_SCHEDULE));
    assert (!br_agreement_allowed (BRUECKE__AGREEMENT_STATE__AGREEMENT_COMPLETED,
                                   BRUECKE__AGREEMENT_STEP__STEP_CANCEL));
    assert (br_agreement_actions (scheduled, actions) == 3 && streq (actions[1], "complete"));
    assert (br_agreement_actions (BRUECKE__AGREEMENT_STATE__AGREEMENT_CANCELLED, actions) == 0);
    //  @end
    if (verbose)
        printf ("OK\n");
}
