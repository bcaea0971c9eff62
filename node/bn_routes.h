/*  =========================================================================
    bn_routes - the node's /v1 route table: who may call what

    Every operation of the node's JSON API is one entry: method, path
    pattern, the roles that may call it, its office scope, its audit action,
    and the class and operation that carry it out. The HTTP layer (bn_api)
    matches each request against the table before any work is done:

    - a path no entry has is NOT_FOUND (404); a path that exists for other
      methods only is METHOD_NOT_ALLOWED (405, with the methods allowed);
    - a role the entry does not list is FORBIDDEN (403);
    - the request then carries its entry, and its owner (bn_casework,
      bn_exchange, the node itself) dispatches on the entry's operation.

    Matching is exact, on the path as the server decoded it (bn_api: its
    percent-escapes decoded, but none at all where one is "%00"): segments
    are compared whole and case-sensitively, an empty segment ("//") or a
    trailing "/" matches nothing, and "{id}" matches 1 to 64 lowercase hex
    digits only. Authorization is decided on the route matched, and the
    operation gets that same route: so no spelling of a path reaches an
    operation under checks other than its own.

    Roles. API tokens are caseworker, integration (the town's case software,
    acting for one office and naming the person it acts for) or readonly;
    web users are sachbearbeitung, leitung or administration. Office scope
    OFFICES means the owner checks each record against the offices the
    caller acts for (bn_request_t.offices); NODE means the operation
    concerns the node, not a family. The administration acts for no
    office: it may call the reading routes of casework, but reads nothing
    there, except under an emergency access (break-glass) a second
    administrator approved, for one office, for a limited time.

    node/openapi.yaml lists the same operations; a test compares both ways.
    =========================================================================
*/

#ifndef BN_ROUTES_H_INCLUDED
#define BN_ROUTES_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"

//  The roles, as bits of a route's `roles`.
#define BN_ROLE_CASEWORKER      (1u << 0)
#define BN_ROLE_INTEGRATION     (1u << 1)
#define BN_ROLE_READONLY        (1u << 2)
#define BN_ROLE_SACHBEARBEITUNG (1u << 3)
#define BN_ROLE_LEITUNG         (1u << 4)
#define BN_ROLE_ADMINISTRATION  (1u << 5)

//  Who does what to a route's records.
typedef enum {
    BN_SCOPE_NODE,    //  the node: no family's data
    BN_SCOPE_OFFICES, //  records of the offices the caller acts for
} bn_scope_t;

//  The class that carries a route out.
typedef enum {
    BN_OWNER_NODE,     //  the node actor itself (status)
    BN_OWNER_CASEWORK, //  bn_casework
    BN_OWNER_EXCHANGE, //  bn_exchange
} bn_owner_t;

//  Every operation of the API.
typedef enum {
    BN_OP_STATUS,
    BN_OP_CASE_CREATE,
    BN_OP_CASE_LIST,
    BN_OP_CASE_READ,
    BN_OP_CASE_TRANSFER,
    BN_OP_CASE_NOTE,
    BN_OP_CASE_UPDATE,
    BN_OP_CASE_CLOSE,
    BN_OP_CASE_REOPEN,
    BN_OP_FOLLOW_UPS,
    BN_OP_CONSENT_RECORD,
    BN_OP_CONSENT_LIST,
    BN_OP_CONSENT_READ,
    BN_OP_CONSENT_WITHDRAW,
    BN_OP_CONSENT_FORM_STORE,
    BN_OP_CONSENT_FORM_READ,
    BN_OP_REFERRAL_SEND,
    BN_OP_REFERRAL_LIST,
    BN_OP_REFERRAL_READ,
    BN_OP_REFERRAL_STATUS,
    BN_OP_TRANSFER_LIST,
    BN_OP_TRANSFER_READ,
    BN_OP_TRANSFER_ACCEPT,
    BN_OP_TRANSFER_DECLINE,
    BN_OP_DIRECTORY,
    BN_OP_EVENTS,
    BN_OP_REPORTS,
    BN_OP_EMERGENCY_REQUEST,
    BN_OP_EMERGENCY_LIST,
    BN_OP_EMERGENCY_APPROVE,
    BN_OP_EMERGENCY_END,
    BN_OP_AUDIT_LIST,
    BN_OP_AUDIT_VERIFY,
    BN_OP_EXCHANGE_TOPICS,
    BN_OP_EXCHANGE_BOARD,
    BN_OP_EXCHANGE_OFFER,
    BN_OP_EXCHANGE_REQUEST,
    BN_OP_EXCHANGE_WITHDRAW,
    BN_OP_EXCHANGE_SUBMISSIONS,
    BN_OP_EXCHANGE_AGREEMENTS,
    BN_OP_EXCHANGE_AGREEMENT,
    BN_OP_EXCHANGE_ACCEPT,
    BN_OP_EXCHANGE_SCHEDULE,
    BN_OP_EXCHANGE_COMPLETE,
    BN_OP_EXCHANGE_CANCEL,
    BN_OP_EXCHANGE_LEDGER,
    BN_OP_COUNT
} bn_operation_t;

//  One operation of the API.
typedef struct {
    const char *method;       //  "GET", "POST"
    const char *pattern;      //  e.g. "/v1/cases/{id}/transfer"
    unsigned roles;           //  BN_ROLE_... bits that may call it
    bn_scope_t scope;         //  whose records it touches
    const char *action;       //  what the audit log records, or NULL
    bn_owner_t owner;         //  who carries it out
    bn_operation_t operation; //  what it is
} bn_route_t;

//  Longest "{id}" a path carries, in hex digits.
#define BN_ROUTES_ID_MAX 64
//  Size of the text of the methods a path allows ("GET, POST"), with NUL.
#define BN_ROUTES_ALLOW_SIZE 32

//  Finds the route of `method` and `path`. Returns it, with its "{id}" (if
//  any) in `id` (BN_ROUTES_ID_MAX + 1 bytes; "" if none). Returns NULL and
//  sets *reason to NOT_FOUND (no such path) or METHOD_NOT_ALLOWED (then
//  `allow` lists the methods the path has, for the Allow header).
const bn_route_t *bn_routes_match (const char *method, const char *path, char *id, char *allow,
                                   br_reason_t *reason);

//  The role bit of a role name (token or web role), 0 if it is none.
unsigned bn_routes_role (const char *role);

//  True if `role` (a name) may call `route`.
bool bn_routes_allows (const bn_route_t *route, const char *role);

//  The route at `index` of the table, from 0; NULL after the last.
const bn_route_t *bn_routes_at (size_t index);

//  True if the comma-separated office list `offices` holds `office`.
bool bn_routes_office_in (const char *offices, const char *office);

//  Checks a comma-separated office list: service codes of the catalogue,
//  each once, at most BN_ROUTES_OFFICES_MAX of them (an empty list is
//  valid). Returns true if it is one.
#define BN_ROUTES_OFFICES_MAX 16
bool bn_routes_offices_valid (const char *offices);

//  Self test of this class. With BRUECKE_OPENAPI set to node/openapi.yaml
//  it also checks that the file lists exactly the table's operations.
void bn_routes_test (bool verbose);

#endif
