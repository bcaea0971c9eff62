/*  =========================================================================
    bn_reply - the node's HTTP answers in JSON, and each request's log line

    What the API (bn_api) and its web interface (bn_webui) send back in
    JSON: an answer with the API's headers, or a refusal {"error":
    "<REASON_NAME>", "detail": "..."} with the status bn_api_http_status
    gives its reason. And the one line the log gets for a request:
    "api: <method> <path> <status> <who>". Path segments other than API
    words and 32-hex-digit ids are logged as "*", so no name a client puts
    into a path reaches the log; a method other than the usual ones is
    "OTHER". Bodies are never logged.

    Stateless; called on the HTTP server's thread.
    =========================================================================
*/

#ifndef BN_REPLY_H_INCLUDED
#define BN_REPLY_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"
#include <jansson.h>
#include <microhttpd.h>

//  Queues `json` (borrowed) as the answer with `status`: compact JSON and a
//  newline, as application/json, not to be stored, with WWW-Authenticate
//  on 401 and `allow` (NULL or "" for none) as the Allow header. Returns
//  libmicrohttpd's MHD_YES, or MHD_NO if it cannot queue it.
enum MHD_Result bn_reply_json (struct MHD_Connection *connection, int status, json_t *json,
                               const char *allow);

//  Refuses the request `method` `url` with `reason` and `detail` (never
//  personal data), as bn_reply_json does, and logs it for `user`. Returns
//  as bn_reply_json.
enum MHD_Result bn_reply_refusal (struct MHD_Connection *connection, const char *method,
                                  const char *url, const char *user, br_reason_t reason,
                                  const char *detail, const char *allow);

//  Logs the request `method` `url`, answered with `status`, for `user` (a
//  token name or "web:<role>", never a person's name; "" is logged as "-").
void bn_reply_log (const char *method, const char *url, int status, const char *user);

//  Self test of this class.
void bn_reply_test (bool verbose);

#endif
