/*  =========================================================================
    br_reason - the reason codes shared by the code and the wire

    One list, BR_REASON_LIST, defines every code: its number, its name and
    whether the sender should retry later. The numbers are the wire's
    ReasonCode values (proto/bruecke.proto); br_reason.c checks at compile time
    that both agree, so a code can never mean one thing here and another on
    the wire.
    =========================================================================
*/

#ifndef BR_REASON_H_INCLUDED
#define BR_REASON_H_INCLUDED

#include "br_prelude.h"

//  X (NAME, number, retry)
#define BR_REASON_LIST(X)                                                                          \
    X (OK, 0, false)                                                                               \
    X (MALFORMED, 1, false)                                                                        \
    X (TOO_LARGE, 2, false)                                                                        \
    X (UNSUPPORTED_VERSION, 3, false)                                                              \
    X (UNSUPPORTED_TYPE, 4, false)                                                                 \
    X (UNKNOWN_NODE, 5, false)                                                                     \
    X (NODE_REVOKED, 6, false)                                                                     \
    X (BAD_SIGNATURE, 7, false)                                                                    \
    X (SENDER_MISMATCH, 8, false)                                                                  \
    X (REPLAYED, 9, false)                                                                         \
    X (CLOCK_SKEW, 10, true)                                                                       \
    X (EXPIRED, 11, false)                                                                         \
    X (ATTESTATION_MISSING, 12, false)                                                             \
    X (ATTESTATION_INVALID, 13, false)                                                             \
    X (CONSENT_WITHDRAWN, 14, false)                                                               \
    X (CONSENT_EXPIRED, 15, false)                                                                 \
    X (PURPOSE_MISMATCH, 16, false)                                                                \
    X (RECIPIENT_MISMATCH, 17, false)                                                              \
    X (CATEGORY_NOT_COVERED, 18, false)                                                            \
    X (NO_ROUTE, 19, false)                                                                        \
    X (AMBIGUOUS_ROUTE, 20, false)                                                                 \
    X (STORE_FULL, 21, true)                                                                       \
    X (STORE_FAILED, 22, true)                                                                     \
    X (BUSY, 23, true)                                                                             \
    X (ROSTER_BAD_SIGNATURE, 24, false)                                                            \
    X (ROSTER_ROLLBACK, 25, false)                                                                 \
    X (ROSTER_EXPIRED, 26, false)                                                                  \
    X (ROSTER_INVALID, 27, false)                                                                  \
    X (KEY_PERMISSIONS, 28, false)                                                                 \
    X (KEY_INVALID, 29, false)                                                                     \
    X (CONFIG_INVALID, 30, false)                                                                  \
    X (IO_ERROR, 31, true)                                                                         \
    X (DECRYPT_FAILED, 32, false)                                                                  \
    X (FORBIDDEN, 33, false)                                                                       \
    X (NOT_FOUND, 34, false)                                                                       \
    X (INVALID_STATE, 35, false)                                                                   \
    X (UNAUTHORIZED, 36, false)                                                                    \
    X (AUDIT_BROKEN, 37, false)                                                                    \
    X (CONSENT_MISSING, 38, false)                                                                 \
    X (TOO_MANY_ATTEMPTS, 39, false)                                                               \
    X (TOO_EARLY, 40, false)                                                                       \
    X (METHOD_NOT_ALLOWED, 41, false)                                                              \
    X (OFFICE_NOT_PERMITTED, 42, false)                                                            \
    X (ON_BEHALF_MISSING, 43, false)                                                               \
    X (GRANTOR_NOT_MEMBER, 44, false)                                                              \
    X (GRANTOR_NOT_ENTITLED, 45, false)                                                            \
    X (SUBJECT_NOT_MEMBER, 46, false)                                                              \
    X (CONSENT_BACKDATED, 47, false)                                                               \
    X (CONSENT_TOO_LONG, 48, false)                                                                \
    X (EVIDENCE_MISMATCH, 49, false)

#define BR_REASON_ENUM_ENTRY(name, number, retry) BR_REASON_##name = number,
typedef enum { BR_REASON_LIST (BR_REASON_ENUM_ENTRY) } br_reason_t;
#undef BR_REASON_ENUM_ENTRY

//  Returns the code's wire name without its REASON_ prefix, e.g.
//  "BAD_SIGNATURE", or "UNKNOWN" for a number outside the list. Static string.
const char *br_reason_name (br_reason_t reason);

//  Finds the code named `name` (as br_reason_name gives it). Returns 0 and
//  sets *reason, or -1 if no code has that name.
int br_reason_from_name (const char *name, br_reason_t *reason) BR_WUR;

//  Returns true if the sender should retry the refused message later
//  (the receiver had a resource problem, not a problem with the message).
bool br_reason_retry (br_reason_t reason);

//  Returns true if `number` is a reason code in the list.
bool br_reason_known (int number);

//  Self test of this class.
void br_reason_test (bool verbose);

#endif
