/*  =========================================================================
    bn_request - one request to the node's API, as the domain sees it

    What the casework and the Transferbörse are handed for each /v1
    operation: the caller (person, role, offices), the matched route and
    its id, the query and the body as JSON; and what they hand back: a
    reason, a status and a result, or a refusal's detail. Also the checks
    of a request's JSON that every operation shares (a field table, texts,
    integers) and how a request is given its route without HTTP (tests,
    fuzzers). The domain includes this header, not bn_api.h: it knows no
    HTTP.
    =========================================================================
*/

#ifndef BN_REQUEST_H_INCLUDED
#define BN_REQUEST_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"
#include "bn_routes.h"
#include <jansson.h>

//  Size of a refusal's detail text, with its NUL.
#define BN_REQUEST_DETAIL_SIZE 160

//  One API request, as the dispatcher sees it.
typedef struct {
    const char *method;      //  "GET", "POST" (borrowed)
    const char *path;        //  URL path, e.g. "/v1/cases/0a1b..." (borrowed)
    json_t *query;           //  object: query arguments as strings (borrowed)
    json_t *body;            //  parsed JSON request body, NULL if none (borrowed)
    const char *user;        //  who, for the audit log: token or web user name; for an
                             //  integration token "<token> für <person>"
    const char *role;        //  its role (BN_TOKENS_ROLE_...)
    const char *offices;     //  the offices it acts for, comma-separated ("" none)
    const bn_route_t *route; //  the operation (bn_routes)
    const char *id;          //  the path's {id}, "" if none
    //  Set by the dispatcher:
    br_reason_t reason;                  //  OK, or why the request is refused
    int status;                          //  HTTP status on OK (200, 201, 202); 0 = 200
    json_t *result;                      //  new reference: the response body on OK
    char detail[BN_REQUEST_DETAIL_SIZE]; //  on refusal: short English text, never personal data
} bn_request_t;

//  Writes a refusal's detail (printf-style, never personal data) into
//  `request` and returns `reason`.
br_reason_t bn_request_refuse (bn_request_t *request, br_reason_t reason, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

//  The string member `name` of `object` if it is one line of text of at
//  most `max` characters (br_line_valid); else NULL.
const char *bn_request_text (json_t *object, const char *name, size_t max);

//  What a member of a request's JSON object must be.
typedef enum {
    BN_FIELD_LINE,    //  one line of text, 1 to `max` characters
    BN_FIELD_NOTE,    //  text that may span lines, 1 to `max` characters
    BN_FIELD_INTEGER, //  an integer
    BN_FIELD_BOOLEAN, //  true or false
    BN_FIELD_LINES,   //  a list of at most `max` lines of 1 to `item_max` characters
    BN_FIELD_NOTES,   //  a list of at most `max` notes of 1 to `item_max` characters
    BN_FIELD_OBJECTS, //  a list of at most `max` objects (their members checked apart)
    BN_FIELD_OBJECT,  //  an object (its members checked apart)
} bn_field_type_t;

//  One member of a request's JSON object.
typedef struct {
    const char *name;     //  the member's name; NULL ends a list of fields
    bn_field_type_t type; //  what it must be
    size_t max;           //  characters of a text, items of a list
    size_t item_max;      //  characters of each text of a list
    bool required;        //  it must be there
    bool nullable;        //  null is allowed too (it clears the field)
} bn_field_t;

//  Checks `object`'s members against `fields` (ended by a NULL name): each
//  member is one of the fields and of its type and size, and every
//  required field is there; nothing is dropped unseen. `where` names the
//  object in the detail ("" for the body, "query", "members[2]"). Returns
//  OK or refuses MALFORMED, naming the first bad field and what it must be.
br_reason_t bn_request_fields (bn_request_t *request, json_t *object, const char *where,
                               const bn_field_t *fields) BR_WUR;

//  The integer member `name` of `object`, or `fallback` if it is none.
json_int_t bn_request_integer (json_t *object, const char *name, json_int_t fallback);

//  Sets request->route and request->id (into `id`) from its method and
//  path, as the HTTP layer does, for requests made without HTTP (tests,
//  fuzzers). Returns OK, NOT_FOUND or METHOD_NOT_ALLOWED (route NULL).
br_reason_t bn_request_route (bn_request_t *request, char id[BN_ROUTES_ID_MAX + 1]);

//  Self test of this class.
void bn_request_test (bool verbose);

#endif
