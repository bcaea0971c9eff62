/*  =========================================================================
    br_http - an HTTP server run by its owner's thread

    libmicrohttpd without a thread of its own (external polling, epoll):
    the owner, an actor, polls br_http_fd with its sockets, waits no longer
    than br_http_timeout says, and calls br_http_run, inside which the
    handler is called on the owner's thread. So the node's API and the
    county dashboard each run as one actor with no shared state, no mutex
    and no thread besides the actor's; br_http_serve is that actor's loop.
    =========================================================================
*/

#ifndef BR_HTTP_H_INCLUDED
#define BR_HTTP_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"
#include <microhttpd.h>

typedef struct _br_http_t br_http_t;

//  Listens on `address` ("host:port", port 0 picks one), calling `handler`
//  with `argument` for each request, with libmicrohttpd's `options` (ended
//  by MHD_OPTION_END; NULL for none). `name` prefixes its log lines. Returns
//  the server, or NULL and sets *reason: the address's reason, or IO_ERROR
//  if it cannot listen there.
br_http_t *br_http_new (const char *name, const char *address, MHD_AccessHandlerCallback handler,
                        void *argument, const struct MHD_OptionItem *options, br_reason_t *reason);

//  Stops listening, closes every connection and nulls the pointer.
void br_http_destroy (br_http_t **self_p);

//  The TCP port it listens on.
uint16_t br_http_port (br_http_t *self);

//  True if it listens on a loopback address only.
bool br_http_loopback (br_http_t *self);

//  The descriptor to poll for input: when it is readable, call br_http_run.
int br_http_fd (br_http_t *self);

//  How long the owner may wait, at most `max_ms`, before br_http_run is due
//  even if the descriptor stays quiet (connections time out).
int br_http_timeout (br_http_t *self, int max_ms);

//  Does what the connections need now, calling the handler for requests.
void br_http_run (br_http_t *self);

//  What an actor serving HTTP does with a message on its pipe other than
//  $TERM: `name` is its first frame, `message` the frames after it (both
//  still br_http_serve's).
typedef void (br_http_command_fn) (void *argument, const char *name, zmsg_t *message);

//  An actor's loop: serves until `pipe` says $TERM (or the context ends)
//  or br_http_stop is called, handing every other message on the pipe to
//  `command` (or dropping it, if NULL).
void br_http_serve (br_http_t *self, zsock_t *pipe, br_http_command_fn *command, void *argument);

//  Ends br_http_serve once the current br_http_run returns; for a handler
//  that saw $TERM on the pipe itself.
void br_http_stop (br_http_t *self);

//  Self test of this class.
void br_http_test (bool verbose);

#endif
