/*  =========================================================================
    bb_zap - the broker's ZAP handler: only roster transport keys get in
    =========================================================================
*/

#include "bruecke.h"
#include "bb_zap.h"

#define S_ZAP_VERSION "1.0"

//  Actor state.
typedef struct {
    zsock_t *pipe;     //  the actor pipe
    zsock_t *handler;  //  REP on BB_ZAP_ENDPOINT
    zhashx_t *allowed; //  hex transport key -> node id (strings, owned)
} s_zap_t;

static void
s_free_string (void **item)
{
    zstr_free ((char **) item);
}

//  Replaces the allowed keys with the non-revoked nodes of `roster`.
static void
s_take_roster (s_zap_t *self, br_roster_t *roster)
{
    zhashx_purge (self->allowed);
    const Bruecke__Roster *content = br_roster_content (roster);
    for (size_t index = 0; index < content->n_nodes; index++) {
        const Bruecke__RosterNode *node = content->nodes[index];
        if (node->revoked)
            continue;
        char hex[2 * BR_CURVE_KEY_SIZE + 1];
        br_hex_encode (node->transport_public_key.data, BR_CURVE_KEY_SIZE, hex);
        zhashx_insert (self->allowed, hex, strdup (node->node_id));
    }
}

//  Answers one ZAP request.
static void
s_answer (s_zap_t *self)
{
    zmsg_t *request = zmsg_recv (self->handler);
    if (!request)
        return;
    char *version = zmsg_popstr (request);
    char *sequence = zmsg_popstr (request);
    char *domain = zmsg_popstr (request);
    char *address = zmsg_popstr (request);
    char *identity = zmsg_popstr (request);
    char *mechanism = zmsg_popstr (request);
    zframe_t *credential = zmsg_pop (request);

    const char *status = "400";
    const char *text = "refused";
    const char *user_id = "";
    if (!version || !streq (version, S_ZAP_VERSION))
        text = "unsupported ZAP version";
    else if (!domain || !streq (domain, BB_ZAP_DOMAIN))
        text = "wrong domain";
    else if (!mechanism || !streq (mechanism, "CURVE"))
        text = "only CURVE is admitted";
    else if (!credential || zframe_size (credential) != BR_CURVE_KEY_SIZE)
        text = "no client key";
    else {
        char hex[2 * BR_CURVE_KEY_SIZE + 1];
        br_hex_encode (zframe_data (credential), BR_CURVE_KEY_SIZE, hex);
        const char *node_id = (const char *) zhashx_lookup (self->allowed, hex);
        if (node_id) {
            status = "200";
            text = "OK";
            user_id = node_id;
        } else {
            text = "key not in roster";
            zsys_info ("zap: refused CURVE key %.16s... from %s: not in roster", hex,
                       address ? address : "?");
        }
    }
    if (!streq (status, "200") && !streq (text, "key not in roster"))
        zsys_info ("zap: refused %s connection from %s: %s", mechanism ? mechanism : "?",
                   address ? address : "?", text);
    zmsg_t *reply = zmsg_new ();
    zmsg_addstr (reply, S_ZAP_VERSION);
    zmsg_addstr (reply, sequence ? sequence : "");
    zmsg_addstr (reply, status);
    zmsg_addstr (reply, text);
    zmsg_addstr (reply, user_id);
    zmsg_addmem (reply, NULL, 0); //  no metadata
    zmsg_send (&reply, self->handler);

    zframe_destroy (&credential);
    zstr_free (&version);
    zstr_free (&sequence);
    zstr_free (&domain);
    zstr_free (&address);
    zstr_free (&identity);
    zstr_free (&mechanism);
    zmsg_destroy (&request);
}

void
bb_zap_actor (zsock_t *pipe, void *argument)
{
    (void) argument;
    s_zap_t self = {.pipe = pipe, .handler = zsock_new (ZMQ_REP), .allowed = zhashx_new ()};
    zhashx_set_destructor (self.allowed, s_free_string);
    int rc = zsock_bind (self.handler, BB_ZAP_ENDPOINT);
    assert (rc == 0);
    zsock_signal (pipe, 0);

    zpoller_t *poller = zpoller_new (pipe, self.handler, NULL);
    bool running = true;
    while (running) {
        zsock_t *which = (zsock_t *) zpoller_wait (poller, -1);
        if (which == self.handler)
            s_answer (&self);
        else if (which == pipe) {
            char *command = NULL;
            void *roster = NULL;
            if (zsock_recv (pipe, "sp", &command, &roster) != 0 || streq (command, "$TERM"))
                running = false;
            else if (streq (command, "KEYS")) {
                s_take_roster (&self, (br_roster_t *) roster);
                zsock_signal (pipe, 0);
            }
            zstr_free (&command);
        } else
            running = false; //  interrupted
    }
    zpoller_destroy (&poller);
    zhashx_destroy (&self.allowed);
    zsock_destroy (&self.handler);
}

void
bb_zap_set_roster (zactor_t *zap, br_roster_t *roster)
{
    assert (zap && roster);
    zsock_send (zap, "sp", "KEYS", roster);
    zsock_wait (zap);
}

//  ---- Self test ------------------------------------------------------------

#define S_TEST_WAIT_MS 1000 //  how long a test client waits to send, or to be heard

//  Connects a client with `mechanism` ("CURVE", "NULL" or "PLAIN") and, for
//  CURVE, `client` keys; sends one frame; returns the User-Id the server
//  saw, or NULL if nothing arrived within a second.
static char *
s_test_connect (zsock_t *server, const char *endpoint, const char *mechanism, br_identity_t *client,
                br_identity_t *broker)
{
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    zsock_set_linger (dealer, 0);
    zcert_t *cert = NULL;
    if (streq (mechanism, "CURVE")) {
        cert = zcert_new_from (br_identity_transport_public (client),
                               br_identity_transport_secret (client));
        zcert_apply (cert, dealer);
        zsock_set_curve_serverkey_bin (dealer, br_identity_transport_public (broker));
    } else if (streq (mechanism, "PLAIN")) {
        zsock_set_plain_username (dealer, "luenen");
        zsock_set_plain_password (dealer, "secret");
    }
    //  A refused handshake can take the dealer's only pipe with it: then a
    //  send would wait for a connection that never comes
    zsock_set_sndtimeo (dealer, S_TEST_WAIT_MS);
    int rc = zsock_connect (dealer, "%s", endpoint);
    assert (rc == 0);
    zstr_send (dealer, "hello");
    char *user_id = NULL;
    zpoller_t *poller = zpoller_new (server, NULL);
    if (zpoller_wait (poller, S_TEST_WAIT_MS) == server) {
        zframe_t *routing = zframe_recv (server);
        zframe_t *frame = zframe_recv (server);
        assert (frame && zframe_streq (frame, "hello"));
        const char *seen = zframe_meta (frame, "User-Id");
        user_id = strdup (seen ? seen : "");
        zframe_destroy (&frame);
        zframe_destroy (&routing);
    }
    zpoller_destroy (&poller);
    zcert_destroy (&cert);
    zsock_destroy (&dealer);
    return user_id;
}

void
bb_zap_test (bool verbose)
{
    if (verbose)
        printf (" * bb_zap: ");
    //  @selftest
    br_identity_t *county = br_identity_new ("county");
    br_identity_t *broker = br_identity_new ("broker");
    br_identity_t *luenen = br_identity_new ("luenen");
    br_identity_t *unna = br_identity_new ("unna");
    br_identity_t *stranger = br_identity_new ("werne");
    zconfig_t *draft = br_roster_draft_new ("05978", "Kreis Unna");
    br_reason_t reason = br_roster_draft_add_node (draft, broker, "Broker", "05978",
                                                   BRUECKE__NODE_ROLE__ROLE_BROKER, "");
    assert (reason == BR_REASON_OK);
    reason = br_roster_draft_add_node (draft, luenen, "L\xc3\xbcnen", "05978024",
                                       BRUECKE__NODE_ROLE__ROLE_TOWN, "jobcenter");
    assert (reason == BR_REASON_OK);
    reason = br_roster_draft_add_node (draft, unna, "Unna", "05978036",
                                       BRUECKE__NODE_ROLE__ROLE_TOWN, "jugendamt");
    assert (reason == BR_REASON_OK);
    reason = br_roster_draft_revoke (draft, "unna");
    assert (reason == BR_REASON_OK);
    int64_t now = br_now_ms ();
    zchunk_t *signed_roster = br_roster_draft_sign (draft, county, now, 3600000, &reason);
    br_roster_t *roster =
        br_roster_verify (zchunk_data (signed_roster), zchunk_size (signed_roster),
                          br_identity_sign_public (county), NULL, now, &reason);
    assert (roster);

    zactor_t *zap = zactor_new (bb_zap_actor, NULL);
    bb_zap_set_roster (zap, roster);
    zsock_t *server = zsock_new (ZMQ_ROUTER);
    zcert_t *server_cert = zcert_new_from (br_identity_transport_public (broker),
                                           br_identity_transport_secret (broker));
    zcert_apply (server_cert, server);
    zsock_set_curve_server (server, 1);
    zsock_set_zap_domain (server, BB_ZAP_DOMAIN);
    zsock_set_zap_enforce_domain (server, 1);
    int port = zsock_bind (server, "tcp://127.0.0.1:*");
    assert (port > 0);
    char endpoint[64];
    snprintf (endpoint, sizeof (endpoint), "tcp://127.0.0.1:%d", port);

    //  A roster key gets in, bound to its node id
    char *user_id = s_test_connect (server, endpoint, "CURVE", luenen, broker);
    assert (user_id && streq (user_id, "luenen"));
    zstr_free (&user_id);
    //  Refused: a key in no roster, a revoked node, NULL, PLAIN
    assert (s_test_connect (server, endpoint, "CURVE", stranger, broker) == NULL);
    assert (s_test_connect (server, endpoint, "CURVE", unna, broker) == NULL);
    assert (s_test_connect (server, endpoint, "NULL", NULL, broker) == NULL);
    assert (s_test_connect (server, endpoint, "PLAIN", NULL, broker) == NULL);
    //  The handler still serves after the refusals
    user_id = s_test_connect (server, endpoint, "CURVE", luenen, broker);
    assert (user_id && streq (user_id, "luenen"));
    zstr_free (&user_id);

    zsock_destroy (&server);
    zcert_destroy (&server_cert);
    zactor_destroy (&zap);
    br_roster_destroy (&roster);
    zchunk_destroy (&signed_roster);
    zconfig_destroy (&draft);
    br_identity_destroy (&stranger);
    br_identity_destroy (&unna);
    br_identity_destroy (&luenen);
    br_identity_destroy (&broker);
    br_identity_destroy (&county);
    //  @end
    if (verbose)
        printf ("OK\n");
}
