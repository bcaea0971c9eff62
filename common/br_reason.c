/*  =========================================================================
    br_reason - the reason codes shared by the code and the wire
    =========================================================================
*/

#include "br_reason.h"

//  Every code must have the same number as the wire's ReasonCode.
#define S_CHECK_WIRE(name, number, retry)                                                          \
    _Static_assert((int) BR_REASON_##name == (int) BRUECKE__REASON_CODE__REASON_##name,            \
                   "reason code " #name " differs from the wire");
BR_REASON_LIST (S_CHECK_WIRE)
#undef S_CHECK_WIRE

typedef struct {
    br_reason_t reason; //  the code
    const char *name;   //  its name as on the wire, without REASON_
    bool retry;         //  whether the sender should retry
} s_reason_info_t;

#define S_INFO_ENTRY(name, number, retry) {BR_REASON_##name, #name, retry},
static const s_reason_info_t s_reasons[] = {BR_REASON_LIST (S_INFO_ENTRY)};
#undef S_INFO_ENTRY

#define S_REASON_COUNT (sizeof (s_reasons) / sizeof (s_reasons[0]))

static const s_reason_info_t *
s_lookup (int number)
{
    for (size_t index = 0; index < S_REASON_COUNT; index++)
        if ((int) s_reasons[index].reason == number)
            return &s_reasons[index];
    return NULL;
}

const char *
br_reason_name (br_reason_t reason)
{
    const s_reason_info_t *info = s_lookup ((int) reason);
    return info ? info->name : "UNKNOWN";
}

int
br_reason_from_name (const char *name, br_reason_t *reason)
{
    assert (name && reason);
    for (size_t index = 0; index < S_REASON_COUNT; index++)
        if (streq (s_reasons[index].name, name)) {
            *reason = s_reasons[index].reason;
            return 0;
        }
    return -1;
}

bool
br_reason_retry (br_reason_t reason)
{
    const s_reason_info_t *info = s_lookup ((int) reason);
    return info && info->retry;
}

bool
br_reason_known (int number)
{
    return s_lookup (number) != NULL;
}

void
br_reason_test (bool verbose)
{
    if (verbose)
        printf (" * br_reason: ");
    //  @selftest
    //  The wire enum and our list have the same members.
    assert (bruecke__reason_code__descriptor.n_values == S_REASON_COUNT);
    for (unsigned index = 0; index < bruecke__reason_code__descriptor.n_values; index++)
        assert (br_reason_known (bruecke__reason_code__descriptor.values[index].value));
    assert (streq (br_reason_name (BR_REASON_BAD_SIGNATURE), "BAD_SIGNATURE"));
    assert (streq (br_reason_name (BR_REASON_OK), "OK"));
    assert (streq (br_reason_name ((br_reason_t) 9999), "UNKNOWN"));
    assert (br_reason_retry (BR_REASON_STORE_FULL));
    assert (!br_reason_retry (BR_REASON_REPLAYED));
    //  A clock that is wrong now may be right later: the same bytes may pass then
    assert (br_reason_retry (BR_REASON_CLOCK_SKEW));
    assert (!br_reason_retry (BR_REASON_TOO_EARLY));
    assert (!br_reason_known (-1));
    br_reason_t parsed = BR_REASON_OK;
    assert (br_reason_from_name ("CONSENT_WITHDRAWN", &parsed) == 0);
    assert (parsed == BR_REASON_CONSENT_WITHDRAWN);
    assert (br_reason_from_name ("consent_withdrawn", &parsed) == -1);
    //  @end
    if (verbose)
        printf ("OK\n");
}
