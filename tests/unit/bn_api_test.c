/*  =========================================================================
    bn_api_test - the node's JSON API over HTTP, from token to answer

    The selftest of bn_api (bruecke-selftest -t bn_api): an API on a free
    loopback port, owned by a test actor that dispatches its requests, and
    driven over HTTP by the CLI's client (bn_http): tokens, roles, routes,
    bodies, the dispatcher's answers and refusals, a token removed while it
    runs, and a stop while a request waits for its owner. The masking of
    logged paths is bn_reply's; the web interface's answers are covered by
    bn_webui and the integration and browser tests.
    =========================================================================
*/

#include "bruecke.h"
#include "bn_api.h"
#include "bn_http.h"

//  What the test dispatcher saw of the last request.
typedef struct {
    int calls;        //  requests dispatched
    char method[8];   //  their method
    char path[64];    //  path
    char *query;      //  query, as sorted compact JSON
    char *body;       //  body, as sorted compact JSON, or NULL
    char user[64];    //  the actor
    char role[20];    //  role
    char offices[64]; //  offices
} s_test_seen_t;

static void
s_test_dispatch (void *argument, bn_request_t *request)
{
    s_test_seen_t *seen = (s_test_seen_t *) argument;
    seen->calls++;
    snprintf (seen->method, sizeof (seen->method), "%s", request->method);
    snprintf (seen->path, sizeof (seen->path), "%s", request->path);
    zstr_free (&seen->query);
    zstr_free (&seen->body);
    seen->query = json_dumps (request->query, JSON_COMPACT | JSON_SORT_KEYS);
    seen->body = request->body ? json_dumps (request->body, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    snprintf (seen->user, sizeof (seen->user), "%s", request->user);
    snprintf (seen->role, sizeof (seen->role), "%s", request->role);

    snprintf (seen->offices, sizeof (seen->offices), "%s", request->offices);
    //  The route came with the request: POST /v1/cases echoes, the
    //  referrals answer {}, the consents refuse, the transfers are busy
    assert (request->route && request->id);
    bn_operation_t operation = request->route->operation;
    if (operation == BN_OP_CASE_CREATE) {
        request->status = 201;
        request->result = json_pack ("{s:b, s:O*}", "ok", 1, "body", request->body);
    } else if (operation == BN_OP_REFERRAL_LIST || operation == BN_OP_REFERRAL_SEND ||
               operation == BN_OP_CASE_LIST)
        ; //  OK, no result: {}
    else if (operation == BN_OP_CONSENT_LIST || operation == BN_OP_CONSENT_RECORD) {
        request->reason = BR_REASON_CONSENT_WITHDRAWN;
        request->result = json_object (); //  ignored on refusal
        snprintf (request->detail, sizeof (request->detail), "the consent was withdrawn");
    } else if (operation == BN_OP_TRANSFER_LIST) {
        request->reason = BR_REASON_BUSY;
        snprintf (request->detail, sizeof (request->detail), "try later");
    } else {
        request->reason = BR_REASON_NOT_FOUND;
        snprintf (request->detail, sizeof (request->detail), "no such operation");
    }
}

//  The API's owner in the test: an actor that serves requests with
//  s_test_dispatch until $TERM; or, if not `serving`, leaves the first
//  where it is and says "WAITING".
typedef struct {
    bn_tokens_t *tokens; //  the tokens
    s_test_seen_t *seen; //  what the dispatcher saw
    bool serving;        //  false: requests are never taken
    bn_api_t *api;       //  the API it runs
} s_test_owner_t;

static void
s_test_owner (zsock_t *pipe, void *args)
{
    s_test_owner_t *owner = (s_test_owner_t *) args;
    br_reason_t reason;
    owner->api = bn_api_new ("127.0.0.1:0", owner->tokens, NULL, &reason);
    assert (owner->api);
    zsock_signal (pipe, 0);
    zsock_t *requests = bn_api_requests (owner->api);
    zpoller_t *poller = zpoller_new (pipe, requests, NULL);
    while (zpoller_wait (poller, -1) == requests) {
        if (owner->serving)
            bn_api_serve (owner->api, s_test_dispatch, owner->seen);
        else {
            zpoller_remove (poller, requests); //  it waits; say so once
            zstr_send (pipe, "WAITING");
        }
    }
    zpoller_destroy (&poller);
    bn_api_destroy (&owner->api); //  $TERM, not read: the actor's shim reads it
}

//  A request made on a thread of its own, while the API stops.
typedef struct {
    const char *url;    //  the API
    const char *token;  //  a good token
    br_reason_t reason; //  how the request ended
    int status;         //  and its status, if it was answered
} s_test_waiting_t;

static void
s_test_waiting_client (zsock_t *pipe, void *args)
{
    s_test_waiting_t *waiting = (s_test_waiting_t *) args;
    zsock_signal (pipe, 0);
    zchunk_t *response = NULL;
    waiting->reason = bn_http_request (waiting->url, "GET", "/v1/referrals", waiting->token, NULL,
                                       0, &waiting->status, &response);
    zchunk_destroy (&response);
    zsock_signal (pipe, 0);
}

//  Makes one request; returns the answer as JSON and sets *status.
static json_t *
s_test_call (const char *url, const char *method, const char *path, const char *token,
             const char *body, size_t body_size, int *status)
{
    zchunk_t *response = NULL;
    assert (bn_http_request (url, method, path, token, body, body_size, status, &response) ==
            BR_REASON_OK);
    json_error_t error;
    json_t *answer =
        json_loadb ((const char *) zchunk_data (response), zchunk_size (response), 0, &error);
    assert (json_is_object (answer));
    zchunk_destroy (&response);
    return answer;
}

//  Asserts a refusal with `status` and reason `name`.
static void
s_test_refused (const char *url, const char *method, const char *path, const char *token,
                const char *body, size_t body_size, int status, const char *name)
{
    int got = 0;
    json_t *answer = s_test_call (url, method, path, token, body, body_size, &got);
    if (got != status)
        fprintf (stderr, "%s %s: %d, expected %d\n", method, path, got, status);
    assert (got == status);
    assert (streq (json_string_value (json_object_get (answer, "error")), name));
    assert (json_is_string (json_object_get (answer, "detail")));
    json_decref (answer);
}

void
bn_api_scenario_test (bool verbose)
{
    if (verbose)
        printf (" * bn_api_scenario: ");
    //  @selftest
    char *directory = br_temp_directory ("bn_api_test");
    assert (directory);
    char *path = zsys_sprintf ("%s/api-tokens", directory);
    char *alice = NULL, *reader = NULL;
    char *carol = NULL;
    assert (bn_tokens_add (path, "alice", BN_TOKENS_ROLE_CASEWORKER, "jobcenter,fruehe-hilfen",
                           &alice) == BR_REASON_OK);
    assert (bn_tokens_add (path, "reader", BN_TOKENS_ROLE_READONLY, "", &reader) == BR_REASON_OK);
    assert (bn_tokens_add (path, "carol", BN_TOKENS_ROLE_INTEGRATION, "jobcenter", &carol) ==
            BR_REASON_OK);
    br_reason_t reason;
    bn_tokens_t *tokens = bn_tokens_new (path, &reason);
    assert (tokens);

    //  Bad addresses
    s_test_seen_t seen;
    memset (&seen, 0, sizeof (seen));
    const char *bad_addresses[] = {
        "nonsense",  "127.0.0.1",    "127.0.0.1:99999", "127.0.0.1:", "[::1",
        "[::1]8080", "300.1.1.1:80", "name.example:80", NULL};
    for (size_t index = 0; bad_addresses[index]; index++) {
        assert (bn_api_new (bad_addresses[index], tokens, NULL, &reason) == NULL);
        assert (reason == BR_REASON_CONFIG_INVALID);
    }

    s_test_owner_t owner = {.tokens = tokens, .seen = &seen, .serving = true};
    zactor_t *owner_actor = zactor_new (s_test_owner, &owner);
    bn_api_t *api = owner.api;
    assert (api && bn_api_port (api) > 0);
    //  The port is taken now
    char *taken = zsys_sprintf ("127.0.0.1:%u", (unsigned) bn_api_port (api));
    assert (bn_api_new (taken, tokens, NULL, &reason) == NULL);
    assert (reason == BR_REASON_IO_ERROR);
    zstr_free (&taken);
    char *url = zsys_sprintf ("http://127.0.0.1:%u", (unsigned) bn_api_port (api));
    int status = 0;

    //  No token, a bad token, a token of an unknown name: 401
    s_test_refused (url, "GET", "/v1/cases", NULL, NULL, 0, 401, "UNAUTHORIZED");
    char *wrong = strdup (alice);
    wrong[strlen (wrong) - 1] = wrong[strlen (wrong) - 1] == 'A' ? 'B' : 'A';
    s_test_refused (url, "GET", "/v1/cases", wrong, NULL, 0, 401, "UNAUTHORIZED");
    s_test_refused (url, "POST", "/v1/cases", wrong, "{}", 2, 401, "UNAUTHORIZED");
    memcpy (wrong, "zzzzz", 5);
    s_test_refused (url, "GET", "/v1/cases", wrong, NULL, 0, 401, "UNAUTHORIZED");
    zstr_free (&wrong);
    assert (seen.calls == 0);

    //  readonly may GET but not POST
    s_test_refused (url, "POST", "/v1/cases", reader, "{}", 2, 403, "FORBIDDEN");
    assert (seen.calls == 0);
    json_t *answer = s_test_call (url, "GET", "/v1/referrals", reader, NULL, 0, &status);
    assert (status == 200 && json_object_size (answer) == 0);
    json_decref (answer);
    assert (seen.calls == 1 && streq (seen.user, "reader") && streq (seen.role, "readonly"));
    assert (seen.body == NULL);

    //  Methods a path does not take: 405, with the methods it does in Allow;
    //  a body on a GET
    s_test_refused (url, "PUT", "/v1/cases", alice, "{}", 2, 405, "METHOD_NOT_ALLOWED");
    s_test_refused (url, "DELETE", "/v1/cases", alice, NULL, 0, 405, "METHOD_NOT_ALLOWED");
    s_test_refused (url, "PATCH", "/v1/audit", alice, NULL, 0, 405, "METHOD_NOT_ALLOWED");
    s_test_refused (url, "GET", "/v1/cases", alice, "{}", 2, 400, "MALFORMED");
    assert (seen.calls == 1);
    //  Spellings of a path that are not the path: 404, and nothing is called
    const char *spellings[] = {"/v1/cases/",
                               "/v1//cases",
                               "/v1/Cases",
                               "/v1/cases/%2F",
                               "/v1/audit/",
                               "/V1/audit",
                               "/v1/cases/0123456789ABCDEF",
                               NULL};
    for (size_t index = 0; spellings[index]; index++)
        s_test_refused (url, "GET", spellings[index], alice, NULL, 0, 404, "NOT_FOUND");
    //  A role the route does not list: 403 before the dispatcher
    s_test_refused (url, "GET", "/v1/audit", alice, NULL, 0, 403, "FORBIDDEN");
    assert (seen.calls == 1);
    //  The town's case software names the person it acts for, in every call
    s_test_refused (url, "GET", "/v1/referrals", carol, NULL, 0, 400, "ON_BEHALF_MISSING");
    assert (seen.calls == 1);
    zchunk_t *named = NULL;
    assert (bn_http_request_as (url, "GET", "/v1/referrals", carol, "Erika Beispiel", NULL, 0,
                                &status, &named) == BR_REASON_OK);
    assert (status == 200 && seen.calls == 2);
    assert (streq (seen.user, "carol f\xc3\xbcr Erika Beispiel") &&
            streq (seen.offices, "jobcenter"));
    zchunk_destroy (&named);

    //  Bodies: too large, not JSON, not an object, duplicate keys, query not UTF-8
    size_t large_size = BN_API_BODY_MAX + 1;
    char *large = (char *) malloc (large_size);
    memset (large, ' ', large_size);
    large[0] = '{';
    large[large_size - 1] = '}';
    s_test_refused (url, "POST", "/v1/cases", alice, large, large_size, 413, "TOO_LARGE");
    free (large);
    s_test_refused (url, "POST", "/v1/cases", alice, "{\"a\": ", 6, 400, "MALFORMED");
    s_test_refused (url, "POST", "/v1/cases", alice, "[1, 2]", 6, 400, "MALFORMED");
    s_test_refused (url, "POST", "/v1/cases", alice, "{\"a\":1,\"a\":2}", 13, 400, "MALFORMED");
    s_test_refused (url, "GET", "/v1/cases?x=%FF", alice, NULL, 0, 400, "MALFORMED");
    assert (seen.calls == 2);
    //  A body beyond what is worth reading: refused before it is read; the
    //  client may see the answer or a closed connection
    large_size = BN_API_DISCARD_MAX + 1;
    large = (char *) zmalloc (large_size);
    zchunk_t *response = NULL;
    reason =
        bn_http_request (url, "POST", "/v1/cases", alice, large, large_size, &status, &response);
    assert (reason == BR_REASON_IO_ERROR || (reason == BR_REASON_OK && status == 413));
    zchunk_destroy (&response);
    free (large);
    assert (seen.calls == 2);

    //  A good request reaches the dispatcher whole, and its answer comes back
    const char *body = "{\"kind\": \"family\", \"needs\": [\"language\"]}";
    answer = s_test_call (url, "POST", "/v1/cases?after=5&x=a%20b&flag", alice, body, strlen (body),
                          &status);
    assert (status == 201);
    assert (json_is_true (json_object_get (answer, "ok")));
    assert (streq (json_string_value (json_object_get (json_object_get (answer, "body"), "kind")),
                   "family"));
    json_decref (answer);
    assert (seen.calls == 3);
    assert (streq (seen.method, "POST") && streq (seen.path, "/v1/cases"));
    assert (streq (seen.query, "{\"after\":\"5\",\"flag\":\"\",\"x\":\"a b\"}"));
    assert (streq (seen.body, "{\"kind\":\"family\",\"needs\":[\"language\"]}"));
    assert (streq (seen.user, "alice") && streq (seen.role, "caseworker"));
    //  A POST without body has body NULL
    answer = s_test_call (url, "POST", "/v1/referrals", alice, NULL, 0, &status);
    assert (status == 200 && seen.calls == 4 && seen.body == NULL);
    assert (streq (seen.query, "{}"));
    json_decref (answer);

    //  Refusals by the dispatcher map to their status
    s_test_refused (url, "POST", "/v1/consents", alice, "{}", 2, 422, "CONSENT_WITHDRAWN");
    s_test_refused (url, "GET", "/v1/transfers", alice, NULL, 0, 503, "BUSY");
    s_test_refused (url, "GET", "/v1/nothing/here", alice, NULL, 0, 404, "NOT_FOUND");
    assert (seen.calls == 6); //  that one never reached the dispatcher
    answer = s_test_call (url, "GET", "/v1/consents", alice, NULL, 0, &status);
    assert (streq (json_string_value (json_object_get (answer, "detail")),
                   "the consent was withdrawn"));
    json_decref (answer);
    assert (seen.calls == 7);
    assert (streq (seen.offices, "jobcenter,fruehe-hilfen"));

    //  A token removed while the API runs stops working
    char *text = zsys_sprintf ("# only the reader is left\n");
    zchunk_t *chunk = br_file_read (path, BN_TOKENS_FILE_MAX, &reason);
    assert (chunk);
    char *file_text = zchunk_strdup (chunk);
    zchunk_destroy (&chunk);
    char *line = strstr (file_text, "\nreader ");
    assert (line);
    char *rewritten = zsys_sprintf ("%s%s", text, line + 1);
    assert (br_file_write (path, rewritten, strlen (rewritten), 0600, true) == BR_REASON_OK);
    s_test_refused (url, "GET", "/v1/referrals", alice, NULL, 0, 401, "UNAUTHORIZED");
    answer = s_test_call (url, "GET", "/v1/referrals", reader, NULL, 0, &status);
    assert (status == 200);
    json_decref (answer);
    zstr_free (&text);
    zstr_free (&file_text);
    zstr_free (&rewritten);

    zactor_destroy (&owner_actor);
    assert (bn_http_request (url, "GET", "/v1/referrals", reader, NULL, 0, &status, &response) ==
            BR_REASON_IO_ERROR);
    zstr_free (&url);

    //  The API stops while a request waits for its owner, who never takes
    //  it: the stop does not wait for it, and the request ends
    owner.serving = false;
    owner_actor = zactor_new (s_test_owner, &owner);
    url = zsys_sprintf ("http://127.0.0.1:%u", (unsigned) bn_api_port (owner.api));
    s_test_waiting_t waiting = {.url = url, .token = reader, .reason = BR_REASON_OK};
    zactor_t *client = zactor_new (s_test_waiting_client, &waiting);
    char *said = zstr_recv (owner_actor);
    assert (said && streq (said, "WAITING")); //  the request is with the owner now
    zstr_free (&said);
    zactor_destroy (&owner_actor);
    zsock_wait (client);
    zactor_destroy (&client);
    assert (waiting.reason == BR_REASON_IO_ERROR ||
            (waiting.reason == BR_REASON_OK && waiting.status == 503));
    bn_tokens_destroy (&tokens);
    zstr_free (&seen.query);
    zstr_free (&seen.body);
    zstr_free (&url);
    zstr_free (&alice);
    zstr_free (&reader);
    zstr_free (&carol);
    assert (unlink (path) == 0);
    assert (rmdir (directory) == 0);
    zstr_free (&path);
    zstr_free (&directory);
    //  @end
    if (verbose)
        printf ("OK\n");
}
