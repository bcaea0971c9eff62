/*  =========================================================================
    bruecke - the operator's command-line tool

    Keys, rosters and offline checks for the county coordination office and
    the towns' IT staff. Every subcommand takes --help. Exit codes:
        0  done
        1  refused or failed; the reason code is printed
        2  usage error
    =========================================================================
*/

#include "bruecke.h"
#include "bn_audit.h"
#include "bn_api.h"
#include "bn_http.h"
#include "bn_tokens.h"

#define S_EXIT_OK      0
#define S_EXIT_REFUSED 1
#define S_EXIT_USAGE   2

//  Default roster validity when signing.
#define S_DEFAULT_VALID_DAYS 365
//  Longest validity an operator may give a roster or a test attestation.
#define S_MAX_VALID_DAYS 3650
#define S_DAY_MS         (24LL * 3600 * 1000)

//  One subcommand: its words, its options and its handler.
typedef struct s_command_t s_command_t;
typedef int (*s_handler_fn) (const s_command_t *command, zhash_t *options, zlist_t *arguments);

struct s_command_t {
    const char *group;    //  first word ("roster"), or NULL for a one-word command
    const char *name;     //  the command word
    const char *usage;    //  the arguments line shown in help
    const char *summary;  //  one line on what it does
    const char *options;  //  space-separated options it takes (without --)
    const char *required; //  space-separated options it needs
    size_t arguments;     //  number of positional arguments it needs
    s_handler_fn handler; //  does the work
};

//  ---- Output helpers -----------------------------------------------------

static void
s_print_command_help (FILE *stream, const s_command_t *command)
{
    fprintf (stream, "usage: bruecke %s%s%s %s\n\n%s\n", command->group ? command->group : "",
             command->group ? " " : "", command->name, command->usage, command->summary);
}

//  Reports a refusal with its reason code and returns the exit code.
static int
s_refused (const s_command_t *command, br_reason_t reason, const char *what)
{
    fprintf (stderr, "bruecke %s%s%s: %s: refused: %s (%d)\n", command->group ? command->group : "",
             command->group ? " " : "", command->name, what, br_reason_name (reason), (int) reason);
    return S_EXIT_REFUSED;
}

static const char *
s_option (zhash_t *options, const char *name)
{
    return (const char *) zhash_lookup (options, name);
}

//  Parses a whole decimal number in [min, max]; returns false if it is not.
static bool
s_parse_number (const char *text, int64_t min, int64_t max, int64_t *value)
{
    char *end = NULL;
    errno = 0;
    long long parsed = strtoll (text, &end, 10);
    if (!*text || *end || errno || parsed < min || parsed > max)
        return false;
    *value = parsed;
    return true;
}

static char *
s_path_join (const char *directory, const char *name, const char *extension)
{
    return zsys_sprintf ("%s/%s%s", directory, name, extension);
}

static void
s_print_key (const char *label, const uint8_t *key, size_t size)
{
    char hex[2 * 64 + 1];
    br_hex_encode (key, size, hex);
    printf ("  %-18s %s\n", label, hex);
}

//  ---- Loading inputs -----------------------------------------------------

//  Loads the county public key file named by --county-pub into `key`.
static br_reason_t
s_load_county_public (zhash_t *options, uint8_t key[BR_SIGN_PUBLIC_SIZE])
{
    br_reason_t reason;
    br_identity_t *county = br_identity_load_public (s_option (options, "county-pub"), &reason);
    if (county) {
        memcpy (key, br_identity_sign_public (county), BR_SIGN_PUBLIC_SIZE);
        br_identity_destroy (&county);
    }
    return reason;
}

//  Loads and verifies the roster named by `option`, against the county key.
static br_roster_t *
s_load_roster (zhash_t *options, const char *path, br_roster_t *current, br_reason_t *reason)
{
    uint8_t county_public[BR_SIGN_PUBLIC_SIZE];
    *reason = s_load_county_public (options, county_public);
    if (*reason != BR_REASON_OK)
        return NULL;
    return br_roster_load (path, county_public, current, br_now_ms (), reason);
}

static zconfig_t *
s_load_draft (const char *path, br_reason_t *reason)
{
    zchunk_t *chunk = br_file_read (path, BR_ROSTER_MAX_SIZE, reason);
    if (!chunk)
        return NULL;
    char *text = zchunk_strdup (chunk);
    zchunk_destroy (&chunk);
    zconfig_t *draft = zconfig_str_load (text);
    zstr_free (&text);
    if (!draft || !zconfig_locate (draft, "roster")) {
        zconfig_destroy (&draft);
        *reason = BR_REASON_CONFIG_INVALID;
    }
    return draft;
}

static br_reason_t
s_save_draft (zconfig_t *draft, const char *path, bool replace)
{
    char *text = zconfig_str_save (draft);
    br_reason_t reason = br_file_write (path, text, strlen (text), 0644, replace);
    zstr_free (&text);
    return reason;
}

//  ---- Keys -----------------------------------------------------------------

static int
s_write_identity (const s_command_t *command, const char *node_id, const char *directory)
{
    br_identity_t *identity = br_identity_new (node_id);
    if (!identity) {
        fprintf (stderr, "bruecke: '%s' is not a valid node id ([a-z0-9-], 1 to %d characters)\n",
                 node_id, BR_NODE_ID_MAX);
        return S_EXIT_USAGE;
    }
    //  A missing key directory is created, readable by its owner only
    if (mkdir (directory, 0700) != 0 && errno != EEXIST) {
        br_identity_destroy (&identity);
        return s_refused (command, BR_REASON_IO_ERROR, directory);
    }
    char *secret_path = s_path_join (directory, node_id, ".key");
    char *public_path = s_path_join (directory, node_id, ".pub");
    br_reason_t reason = br_identity_save (identity, secret_path, public_path);
    int rc = S_EXIT_OK;
    if (reason == BR_REASON_OK)
        printf ("secret key: %s (mode 0600, stays on this machine)\n"
                "public key: %s (%s)\n",
                secret_path, public_path,
                streq (node_id, "county") ? "give it to every node: they pin it at enrollment"
                                          : "send it to the county office for the roster");
    else
        rc = s_refused (command, reason, "cannot write key files (do they exist already?)");
    zstr_free (&secret_path);
    zstr_free (&public_path);
    br_identity_destroy (&identity);
    return rc;
}

static int
s_keygen (const s_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    const char *directory = s_option (options, "dir") ? s_option (options, "dir") : ".";
    return s_write_identity (command, s_option (options, "node-id"), directory);
}

static int
s_county_keygen (const s_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    const char *directory = s_option (options, "dir") ? s_option (options, "dir") : ".";
    return s_write_identity (command, "county", directory);
}

static int
s_key_show (const s_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) options;
    const char *path = (const char *) zlist_first (arguments);
    br_reason_t reason;
    //  A public file is read as such; a secret file shows its public keys
    br_identity_t *identity = br_identity_load_public (path, &reason);
    if (!identity && reason == BR_REASON_KEY_INVALID)
        identity = br_identity_load (path, &reason);
    if (!identity)
        return s_refused (command, reason, path);
    printf ("node %s (%s)\n", br_identity_node_id (identity),
            br_identity_has_secret (identity) ? "secret key file" : "public key file");
    s_print_key ("sign-public", br_identity_sign_public (identity), BR_SIGN_PUBLIC_SIZE);
    s_print_key ("transport-public", br_identity_transport_public (identity), BR_CURVE_KEY_SIZE);
    s_print_key ("seal-public", br_identity_seal_public (identity), BR_CURVE_KEY_SIZE);
    br_identity_destroy (&identity);
    return S_EXIT_OK;
}

//  ---- Roster drafts ------------------------------------------------------

static int
s_roster_init (const s_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    const char *ags = s_option (options, "county-ags");
    const char *name = s_option (options, "county-name");
    if (!br_ags_valid (ags, BR_AGS_COUNTY_DIGITS) || !br_text_valid (name, BR_NAME_MAX)) {
        fprintf (stderr,
                 "bruecke roster init: --county-ags needs 5 digits, --county-name a name\n");
        return S_EXIT_USAGE;
    }
    zconfig_t *draft = br_roster_draft_new (ags, name);
    zconfig_set_comment (draft,
                         "  bruecke roster draft: edit, then sign with 'bruecke roster sign'");
    br_reason_t reason = s_save_draft (draft, s_option (options, "draft"), false);
    zconfig_destroy (&draft);
    if (reason != BR_REASON_OK)
        return s_refused (command, reason, "cannot write the draft (does it exist already?)");
    printf ("draft %s created for %s (%s)\n", s_option (options, "draft"), name, ags);
    return S_EXIT_OK;
}

//  Loads the draft, lets `edit` change it, and saves it if that succeeded.
typedef br_reason_t (*s_draft_edit_fn) (zconfig_t *draft, zhash_t *options);

static int
s_edit_draft (const s_command_t *command, zhash_t *options, s_draft_edit_fn edit)
{
    const char *path = s_option (options, "draft");
    br_reason_t reason;
    zconfig_t *draft = s_load_draft (path, &reason);
    if (!draft)
        return s_refused (command, reason, path);
    reason = edit (draft, options);
    if (reason == BR_REASON_OK)
        reason = s_save_draft (draft, path, true);
    zconfig_destroy (&draft);
    if (reason != BR_REASON_OK)
        return s_refused (command, reason, path);
    printf ("draft %s updated\n", path);
    return S_EXIT_OK;
}

static br_reason_t
s_edit_add_node (zconfig_t *draft, zhash_t *options)
{
    br_reason_t reason;
    br_identity_t *keys = br_identity_load_public (s_option (options, "pub"), &reason);
    if (!keys)
        return reason;
    const char *services = s_option (options, "services") ? s_option (options, "services") : "";
    reason = br_roster_draft_add_node (draft, keys, s_option (options, "name"),
                                       s_option (options, "ags"),
                                       br_roster_role_parse (s_option (options, "role")), services);
    br_identity_destroy (&keys);
    return reason;
}

static int
s_roster_add_node (const s_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    if (br_roster_role_parse (s_option (options, "role")) == BRUECKE__NODE_ROLE__ROLE_UNSPECIFIED) {
        fprintf (stderr, "bruecke roster add-node: --role must be town, county or broker\n");
        return S_EXIT_USAGE;
    }
    return s_edit_draft (command, options, s_edit_add_node);
}

static br_reason_t
s_edit_add_route (zconfig_t *draft, zhash_t *options)
{
    return br_roster_draft_add_route (draft, s_option (options, "ags"),
                                      s_option (options, "service"), s_option (options, "node"));
}

static int
s_roster_add_route (const s_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    return s_edit_draft (command, options, s_edit_add_route);
}

static br_reason_t
s_edit_revoke (zconfig_t *draft, zhash_t *options)
{
    return br_roster_draft_revoke (draft, s_option (options, "node"));
}

static int
s_roster_revoke (const s_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    return s_edit_draft (command, options, s_edit_revoke);
}

static int
s_roster_sign (const s_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    int64_t days = S_DEFAULT_VALID_DAYS;
    if (s_option (options, "valid-days") &&
        !s_parse_number (s_option (options, "valid-days"), 1, S_MAX_VALID_DAYS, &days)) {
        fprintf (stderr, "bruecke roster sign: --valid-days must be 1 to %d\n", S_MAX_VALID_DAYS);
        return S_EXIT_USAGE;
    }
    const char *draft_path = s_option (options, "draft");
    const char *out_path = s_option (options, "out");
    br_reason_t reason;
    br_identity_t *county = br_identity_load (s_option (options, "county-key"), &reason);
    if (!county)
        return s_refused (command, reason, s_option (options, "county-key"));
    zconfig_t *draft = s_load_draft (draft_path, &reason);
    if (!draft) {
        br_identity_destroy (&county);
        return s_refused (command, reason, draft_path);
    }
    //  Never sign a version that does not move past the roster already out there
    int rc = S_EXIT_OK;
    if (access (out_path, F_OK) == 0) {
        zchunk_t *existing = br_file_read (out_path, BR_ROSTER_MAX_SIZE, &reason);
        br_roster_t *previous =
            existing
                ? br_roster_verify (zchunk_data (existing), zchunk_size (existing),
                                    br_identity_sign_public (county), NULL, br_now_ms (), &reason)
                : NULL;
        int64_t version = 0;
        if (previous &&
            (!s_parse_number (zconfig_get (draft, "roster/version", ""), 1, INT64_MAX, &version) ||
             (uint64_t) version <= br_roster_version (previous))) {
            zconfig_putf (draft, "roster/version", "%llu",
                          (unsigned long long) br_roster_version (previous) + 1);
        }
        br_roster_destroy (&previous);
        zchunk_destroy (&existing);
    }
    char *version = strdup (zconfig_get (draft, "roster/version", "?"));
    zchunk_t *signed_roster =
        br_roster_draft_sign (draft, county, br_now_ms (), days * S_DAY_MS, &reason);
    if (!signed_roster)
        rc = s_refused (command, reason, draft_path);
    else {
        reason = br_file_write (out_path, zchunk_data (signed_roster), zchunk_size (signed_roster),
                                0644, true);
        if (reason == BR_REASON_OK)
            reason = s_save_draft (draft, draft_path, true);
        if (reason != BR_REASON_OK)
            rc = s_refused (command, reason, out_path);
        else
            printf ("roster version %s signed: %s (valid %lld days)\n", version, out_path,
                    (long long) days);
    }
    free (version);
    zchunk_destroy (&signed_roster);
    zconfig_destroy (&draft);
    br_identity_destroy (&county);
    return rc;
}

//  ---- Roster checks ------------------------------------------------------

static void
s_print_roster (br_roster_t *roster)
{
    const Bruecke__Roster *content = br_roster_content (roster);
    char issued[BR_TIME_TEXT_SIZE], expires[BR_TIME_TEXT_SIZE];
    br_time_format (content->issued_at_ms, issued);
    br_time_format (content->expires_at_ms, expires);
    printf ("roster version %llu of %s (%s)\n", (unsigned long long) content->version,
            content->county_name, content->county_ags);
    printf ("issued %s, expires %s, signature valid\n", issued, expires);
    printf ("nodes (%zu):\n", content->n_nodes);
    for (size_t index = 0; index < content->n_nodes; index++) {
        const Bruecke__RosterNode *node = content->nodes[index];
        char *services = zsys_sprintf ("%s", "");
        for (size_t service = 0; service < node->n_services; service++) {
            char *longer =
                zsys_sprintf ("%s%s%s", services, service ? "," : "", node->services[service]);
            zstr_free (&services);
            services = longer;
        }
        printf ("  %-14s %-8s %-7s %s%s  services: %s\n", node->node_id, node->ags,
                br_roster_role_name (node->role), node->name, node->revoked ? " (REVOKED)" : "",
                *services ? services : "-");
        zstr_free (&services);
        s_print_key ("  sign-public", node->sign_public_key.data, BR_SIGN_PUBLIC_SIZE);
        s_print_key ("  transport-public", node->transport_public_key.data, BR_CURVE_KEY_SIZE);
        s_print_key ("  seal-public", node->seal_public_key.data, BR_CURVE_KEY_SIZE);
    }
    printf ("routes (%zu):\n", content->n_routes);
    for (size_t index = 0; index < content->n_routes; index++) {
        const Bruecke__Route *route = content->routes[index];
        printf ("  %-8s %-22s -> %s\n", route->ags, route->service, route->node_id);
    }
}

//  Verifies the roster file given as argument, against --current if given.
static br_roster_t *
s_verify_roster_argument (const s_command_t *command, zhash_t *options, zlist_t *arguments, int *rc)
{
    br_reason_t reason = BR_REASON_OK;
    br_roster_t *current = NULL;
    if (s_option (options, "current")) {
        current = s_load_roster (options, s_option (options, "current"), NULL, &reason);
        if (!current) {
            *rc = s_refused (command, reason, s_option (options, "current"));
            return NULL;
        }
    }
    const char *path = (const char *) zlist_first (arguments);
    br_roster_t *roster = s_load_roster (options, path, current, &reason);
    br_roster_destroy (&current);
    *rc = roster ? S_EXIT_OK : s_refused (command, reason, path);
    return roster;
}

static int
s_roster_verify (const s_command_t *command, zhash_t *options, zlist_t *arguments)
{
    int rc;
    br_roster_t *roster = s_verify_roster_argument (command, options, arguments, &rc);
    if (roster)
        printf ("roster version %llu: valid\n", (unsigned long long) br_roster_version (roster));
    br_roster_destroy (&roster);
    return rc;
}

static int
s_roster_show (const s_command_t *command, zhash_t *options, zlist_t *arguments)
{
    int rc;
    br_roster_t *roster = s_verify_roster_argument (command, options, arguments, &rc);
    if (roster)
        s_print_roster (roster);
    br_roster_destroy (&roster);
    return rc;
}

//  ---- Envelopes ----------------------------------------------------------

static int
s_envelope_create (const s_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    bool by_consent = s_option (options, "consent-id") != NULL;
    if (by_consent == (s_option (options, "statute") != NULL)) {
        fprintf (
            stderr,
            "bruecke envelope create: give exactly one legal basis, --consent-id or --statute\n");
        return S_EXIT_USAGE;
    }
    uint8_t consent_id[BR_CONSENT_ID_SIZE];
    if (by_consent &&
        br_hex_decode (s_option (options, "consent-id"), consent_id, sizeof (consent_id)) != 0) {
        fprintf (stderr, "bruecke envelope create: --consent-id needs 32 hex digits\n");
        return S_EXIT_USAGE;
    }
    br_reason_t reason;
    br_identity_t *sender = br_identity_load (s_option (options, "key"), &reason);
    if (!sender)
        return s_refused (command, reason, s_option (options, "key"));
    br_roster_t *roster = s_load_roster (options, s_option (options, "roster"), NULL, &reason);
    if (!roster) {
        br_identity_destroy (&sender);
        return s_refused (command, reason, s_option (options, "roster"));
    }
    int rc = S_EXIT_OK;
    const char *to = s_option (options, "to");
    const char *service = s_option (options, "service");
    const Bruecke__RosterNode *recipient = br_roster_lookup_by_id (roster, to);
    if (!recipient || recipient->revoked)
        rc = s_refused (command, recipient ? BR_REASON_NODE_REVOKED : BR_REASON_UNKNOWN_NODE, to);
    else if (!br_roster_node_offers (recipient, service))
        rc = s_refused (command, BR_REASON_NO_ROUTE, service);
    if (rc == S_EXIT_OK) {
        int64_t now = br_now_ms ();
        Bruecke__Header header;
        uint8_t id[BR_MESSAGE_ID_SIZE];
        br_envelope_header_init (&header, id, BRUECKE__MESSAGE_TYPE__TYPE_TEST_NOTE,
                                 br_identity_node_id (sender), to, service, 1, now, S_DAY_MS);
        zlist_t *categories = zlist_new ();
        char *category_text = strdup (s_option (options, "categories"));
        char *saved = NULL;
        for (char *item = strtok_r (category_text, ",", &saved); item;
             item = strtok_r (NULL, ",", &saved))
            zlist_append (categories, item);
        char *category_list[BR_CATEGORIES_MAX + 1];
        size_t category_count = 0;
        for (char *item = (char *) zlist_first (categories);
             item && category_count <= BR_CATEGORIES_MAX; item = (char *) zlist_next (categories))
            category_list[category_count++] = item;

        Bruecke__Attestation attestation = BRUECKE__ATTESTATION__INIT;
        attestation.basis =
            by_consent ? BRUECKE__LEGAL_BASIS__BASIS_CONSENT : BRUECKE__LEGAL_BASIS__BASIS_STATUTE;
        if (by_consent) {
            attestation.consent_id.data = consent_id;
            attestation.consent_id.len = sizeof (consent_id);
        } else
            attestation.statute = (char *) s_option (options, "statute");
        attestation.purpose = (char *) s_option (options, "purpose");
        attestation.data_categories = category_list;
        attestation.n_data_categories = category_count;
        attestation.recipient = (char *) to;
        attestation.recipient_service = (char *) service;
        attestation.valid_from_ms = now;
        attestation.valid_until_ms = now + S_DAY_MS;
        reason = br_attestation_check (&attestation, &header, now);
        if (reason != BR_REASON_OK)
            rc = s_refused (command, reason, "attestation");
        else {
            Bruecke__TestNote note = BRUECKE__TEST_NOTE__INIT;
            note.text = (char *) s_option (options, "text");
            zchunk_t *envelope = br_envelope_build (sender, &header, &attestation, &note.base,
                                                    recipient->seal_public_key.data);
            reason = br_file_write (s_option (options, "out"), zchunk_data (envelope),
                                    zchunk_size (envelope), 0600, false);
            if (reason != BR_REASON_OK)
                rc = s_refused (command, reason, s_option (options, "out"));
            else
                printf ("sealed test note %s -> %s/%s written to %s (%zu bytes)\n",
                        br_identity_node_id (sender), to, service, s_option (options, "out"),
                        zchunk_size (envelope));
            zchunk_destroy (&envelope);
        }
        zlist_destroy (&categories);
        free (category_text);
    }
    br_roster_destroy (&roster);
    br_identity_destroy (&sender);
    return rc;
}

static void
s_print_header (const Bruecke__Header *header)
{
    char id[2 * BR_MESSAGE_ID_SIZE + 1], created[BR_TIME_TEXT_SIZE], expires[BR_TIME_TEXT_SIZE];
    br_hex_encode (header->message_id.data, header->message_id.len, id);
    br_time_format (header->created_at_ms, created);
    br_time_format (header->expires_at_ms, expires);
    printf ("message %s\n  type %s, sequence %llu\n  from %s to %s%s%s\n  created %s, expires %s\n",
            id, br_message_type_name (header->type), (unsigned long long) header->sequence,
            header->sender, *header->recipient ? header->recipient : "(broker)",
            *header->service ? "/" : "", header->service, created, expires);
}

static void
s_print_attestation (const Bruecke__Attestation *attestation)
{
    if (!attestation) {
        printf ("  no attestation\n");
        return;
    }
    if (attestation->basis == BRUECKE__LEGAL_BASIS__BASIS_CONSENT) {
        char consent[2 * BR_CONSENT_ID_SIZE + 1];
        br_hex_encode (attestation->consent_id.data, attestation->consent_id.len, consent);
        printf ("  legal basis: consent %s\n", consent);
    } else
        printf ("  legal basis: statute %s\n", attestation->statute);
    printf ("  purpose %s, categories:", attestation->purpose);
    for (size_t index = 0; index < attestation->n_data_categories; index++)
        printf (" %s", attestation->data_categories[index]);
    printf ("\n");
}

static int
s_envelope_verify (const s_command_t *command, zhash_t *options, zlist_t *arguments)
{
    const char *path = (const char *) zlist_first (arguments);
    int64_t now = br_now_ms ();
    if (s_option (options, "at-ms") &&
        !s_parse_number (s_option (options, "at-ms"), 0, INT64_MAX, &now)) {
        fprintf (stderr, "bruecke envelope verify: --at-ms needs Unix milliseconds\n");
        return S_EXIT_USAGE;
    }
    br_reason_t reason;
    br_roster_t *roster = s_load_roster (options, s_option (options, "roster"), NULL, &reason);
    if (!roster)
        return s_refused (command, reason, s_option (options, "roster"));
    br_identity_t *recipient = NULL;
    if (s_option (options, "key")) {
        recipient = br_identity_load (s_option (options, "key"), &reason);
        if (!recipient) {
            br_roster_destroy (&roster);
            return s_refused (command, reason, s_option (options, "key"));
        }
    }
    br_envelope_t *envelope = NULL;
    zchunk_t *chunk = br_file_read (path, BR_ENVELOPE_MAX_SIZE, &reason);
    if (chunk)
        envelope = br_envelope_decode (zchunk_data (chunk), zchunk_size (chunk), &reason);
    if (envelope)
        reason = br_envelope_verify_in_roster (envelope, roster);
    if (reason == BR_REASON_OK) {
        s_print_header (br_envelope_header (envelope));
        s_print_attestation (br_envelope_message (envelope)->attestation);
        reason = br_envelope_check_time (envelope, now);
    }
    if (reason == BR_REASON_OK)
        reason = br_envelope_check_attestation (envelope, now);
    const Bruecke__Header *header = envelope ? br_envelope_header (envelope) : NULL;
    if (reason == BR_REASON_OK && recipient &&
        header->type == BRUECKE__MESSAGE_TYPE__TYPE_TEST_NOTE) {
        ProtobufCMessage *body = NULL;
        reason =
            br_envelope_open_body (envelope, recipient, &bruecke__test_note__descriptor, &body);
        if (reason == BR_REASON_OK)
            printf ("  text: %s\n", ((Bruecke__TestNote *) body)->text);
        br_proto_free (&body);
    }
    int rc = reason == BR_REASON_OK ? S_EXIT_OK : s_refused (command, reason, path);
    if (rc == S_EXIT_OK)
        printf ("envelope valid: signed by %s\n", br_envelope_signer (envelope));
    br_envelope_destroy (&envelope);
    zchunk_destroy (&chunk);
    br_identity_destroy (&recipient);
    br_roster_destroy (&roster);
    return rc;
}

//  ---- Daemon control ---------------------------------------------------------

static bool
s_control_endpoint_given (zhash_t *options)
{
    if (s_option (options, "control") || s_option (options, "state"))
        return true;
    fprintf (stderr, "bruecke: give --control ENDPOINT or --state DIR\n");
    return false;
}

//  How long the CLI waits for a daemon's answer.
#define S_CONTROL_TIMEOUT_MS 5000

//  The control endpoint: --control, or the default inside --state.
static char *
s_control_endpoint (zhash_t *options)
{
    if (s_option (options, "control"))
        return strdup (s_option (options, "control"));
    if (s_option (options, "state"))
        return zsys_sprintf ("ipc://%s/control.ipc", s_option (options, "state"));
    return NULL;
}

//  Sends `request` to a daemon's control socket and returns its answer, or
//  NULL if it did not answer in time. Destroys the request.
static zmsg_t *
s_control_request (zhash_t *options, zmsg_t **request_p)
{
    char *endpoint = s_control_endpoint (options);
    if (!endpoint) {
        zmsg_destroy (request_p);
        return NULL;
    }
    zsock_t *socket = zsock_new (ZMQ_REQ);
    zsock_set_linger (socket, 0);
    zsock_set_rcvtimeo (socket, S_CONTROL_TIMEOUT_MS);
    zsock_set_sndtimeo (socket, S_CONTROL_TIMEOUT_MS);
    zmsg_t *reply = NULL;
    if (zsock_connect (socket, "%s", endpoint) == 0 && zmsg_send (request_p, socket) == 0)
        reply = zmsg_recv (socket);
    zmsg_destroy (request_p);
    zsock_destroy (&socket);
    zstr_free (&endpoint);
    return reply;
}

//  Sends a one-word command and prints every frame of an OK answer after the
//  first, one per line. Returns the exit code.
static int
s_control_print (const s_command_t *command, zhash_t *options, const char *word)
{
    if (!s_control_endpoint_given (options))
        return S_EXIT_USAGE;
    zmsg_t *request = zmsg_new ();
    zmsg_addstr (request, word);
    zmsg_t *reply = s_control_request (options, &request);
    if (!reply)
        return s_refused (command, BR_REASON_IO_ERROR, "no answer (is the daemon running?)");
    char *status = zmsg_popstr (reply);
    int rc = S_EXIT_OK;
    if (status && strncmp (status, "OK", 2) == 0) {
        if (strlen (status) > 3)
            printf ("%s\n", status + 3);
        for (char *line = zmsg_popstr (reply); line; line = zmsg_popstr (reply)) {
            printf ("%s\n", line);
            zstr_free (&line);
        }
    } else {
        fprintf (stderr, "bruecke: %s\n", status ? status : "empty answer");
        rc = S_EXIT_REFUSED;
    }
    zstr_free (&status);
    zmsg_destroy (&reply);
    return rc;
}

static int
s_node_status (const s_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    return s_control_print (command, options, "STATUS");
}

static int
s_node_inbox (const s_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    return s_control_print (command, options, "INBOX");
}

static int
s_node_sent (const s_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    return s_control_print (command, options, "SENT");
}

static int
s_broker_reload (const s_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    return s_control_print (command, options, "RELOAD");
}

//  Runs the Transferbörse's matching for a quarter, given as 2026Q4 or 20264.
static int
s_broker_match (const s_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    const char *text = s_option (options, "quarter");
    int year = 0, quarter = 0;
    char extra;
    if (!text || (sscanf (text, "%4dQ%1d%c", &year, &quarter, &extra) != 2 &&
                  sscanf (text, "%4d%1d%c", &year, &quarter, &extra) != 2) ||
        quarter < 1 || quarter > 4) {
        fprintf (stderr, "bruecke broker match: --quarter is a quarter such as 2026Q4\n");
        return S_EXIT_USAGE;
    }
    char word[32];
    snprintf (word, sizeof (word), "MATCH %d%d", year, quarter);
    return s_control_print (command, options, word);
}

static int
s_node_send_test (const s_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    if (!s_control_endpoint_given (options))
        return S_EXIT_USAGE;
    bool by_consent = s_option (options, "consent-id") != NULL;
    if (by_consent == (s_option (options, "statute") != NULL)) {
        fprintf (stderr, "bruecke node send-test: give exactly one legal basis, --consent-id or "
                         "--statute\n");
        return S_EXIT_USAGE;
    }
    zmsg_t *request = zmsg_new ();
    zmsg_addstr (request, "SEND-TEST");
    zmsg_addstr (request, s_option (options, "to"));
    zmsg_addstr (request, s_option (options, "service"));
    zmsg_addstr (request, s_option (options, "text"));
    zmsg_addstr (request, s_option (options, "purpose"));
    zmsg_addstr (request, s_option (options, "categories"));
    if (by_consent)
        zmsg_addstrf (request, "consent:%s", s_option (options, "consent-id"));
    else
        zmsg_addstrf (request, "statute:%s", s_option (options, "statute"));
    //  Lifetime in seconds: --valid-seconds, or --valid-days (default one day)
    int64_t days = 1, seconds = 0;
    if ((s_option (options, "valid-days") &&
         !s_parse_number (s_option (options, "valid-days"), 1, 30, &days)) ||
        (s_option (options, "valid-seconds") &&
         !s_parse_number (s_option (options, "valid-seconds"), 1, 30 * 24 * 3600, &seconds))) {
        fprintf (stderr, "bruecke node send-test: --valid-days 1..30 or --valid-seconds\n");
        zmsg_destroy (&request);
        return S_EXIT_USAGE;
    }
    zmsg_addstrf (request, "%lld", (long long) (seconds ? seconds : days * 24 * 3600));
    zmsg_t *reply = s_control_request (options, &request);
    if (!reply)
        return s_refused (command, BR_REASON_IO_ERROR, "no answer (is the node running?)");
    char *answer = zmsg_popstr (reply);
    zmsg_destroy (&reply);
    int rc = S_EXIT_OK;
    if (answer && strncmp (answer, "OK ", 3) == 0)
        printf ("queued %s\n", answer + 3);
    else {
        //  "ERROR <REASON> <detail>": print as a refusal with its code
        char reason_name[64] = "";
        if (answer)
            sscanf (answer, "ERROR %63s", reason_name);
        fprintf (stderr, "bruecke node send-test: refused: %s (%s)\n", reason_name,
                 answer ? answer : "no answer");
        rc = S_EXIT_REFUSED;
    }
    zstr_free (&answer);
    return rc;
}

//  ---- Audit log -------------------------------------------------------------

static int
s_audit_verify (const s_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    const char *state = s_option (options, "state");
    //  Never create a store where there is none: it would verify nothing
    char *data_path = s_path_join (state, "data", ".mdb");
    bool exists = access (data_path, F_OK) == 0;
    zstr_free (&data_path);
    if (!exists)
        return s_refused (command, BR_REASON_NOT_FOUND, "no node store in this directory");
    //  LMDB lets this run beside the node daemon: it reads one snapshot
    br_reason_t reason;
    br_store_t *store = br_store_new (state, 0, &reason);
    bn_audit_t *audit = store ? bn_audit_new (store, &reason) : NULL;
    uint64_t checked = 0, first_bad = 0, head_sequence = 0;
    uint8_t head_hash[BN_AUDIT_HASH_SIZE];
    const char *problem = NULL;
    if (audit)
        reason = bn_audit_verify (audit, &checked, &first_bad, &problem);
    if (reason == BR_REASON_OK)
        reason = bn_audit_head (audit, &head_sequence, head_hash);
    bn_audit_destroy (&audit);
    br_store_destroy (&store);
    if (reason == BR_REASON_AUDIT_BROKEN && problem) {
        fprintf (stderr, "audit: broken at record %llu: %s\n", (unsigned long long) first_bad,
                 problem);
        return s_refused (command, reason, state);
    }
    if (reason != BR_REASON_OK)
        return s_refused (command, reason, state);
    char hex[2 * BN_AUDIT_HASH_SIZE + 1];
    br_hex_encode (head_hash, sizeof (head_hash), hex);
    printf ("audit: %llu record%s, chain intact\n", (unsigned long long) checked,
            checked == 1 ? "" : "s");
    //  Kept elsewhere, the head hash also catches a rewritten chain
    printf ("audit head: record %llu, hash %s\n", (unsigned long long) head_sequence, hex);
    return S_EXIT_OK;
}

//  ---- Node JSON API -----------------------------------------------------------

static int
s_api_token_add (const s_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    const char *path = s_option (options, "tokens");
    const char *name = s_option (options, "name");
    const char *role = s_option (options, "role");
    if (!br_token_valid (name, BN_TOKENS_NAME_MAX) || !bn_tokens_role_valid (role)) {
        fprintf (stderr,
                 "bruecke api-token add: --name is 1 to %d characters of [a-z0-9-]; --role is "
                 "caseworker, integration or readonly\n",
                 BN_TOKENS_NAME_MAX);
        return S_EXIT_USAGE;
    }
    char *token = NULL;
    br_reason_t reason = bn_tokens_add (path, name, role, &token);
    if (reason == BR_REASON_INVALID_STATE)
        return s_refused (command, reason, "a token of that name exists");
    if (reason != BR_REASON_OK)
        return s_refused (command, reason, path);
    //  The token goes to stdout alone, so that it can be piped into a file
    printf ("%s\n", token);
    fflush (stdout);
    fprintf (stderr, "bruecke: token '%s' (%s) added to %s; it is shown only this once\n", name,
             role, path);
    sodium_memzero (token, strlen (token));
    zstr_free (&token);
    return S_EXIT_OK;
}

//  Reads standard input, at most `max_size` bytes. NULL if it is larger.
static zchunk_t *
s_read_stdin (size_t max_size)
{
    zchunk_t *chunk = zchunk_new (NULL, 0);
    char buffer[4096];
    size_t got;
    while ((got = fread (buffer, 1, sizeof (buffer), stdin)) > 0) {
        if (zchunk_size (chunk) + got > max_size) {
            zchunk_destroy (&chunk);
            break;
        }
        zchunk_extend (chunk, buffer, got);
    }
    return chunk;
}

//  Finds the API token: --token, --token-file or $BRUECKE_API_TOKEN. Returns
//  it (the caller frees it), or NULL and sets *reason (OK if none was given).
static char *
s_api_token (zhash_t *options, br_reason_t *reason)
{
    *reason = BR_REASON_OK;
    if (s_option (options, "token"))
        return strdup (s_option (options, "token"));
    const char *path = s_option (options, "token-file");
    if (!path)
        return getenv ("BRUECKE_API_TOKEN") ? strdup (getenv ("BRUECKE_API_TOKEN")) : NULL;
    //  A token file is a secret like a key file: readable by its owner only
    struct stat status;
    if (stat (path, &status) != 0) {
        *reason = BR_REASON_IO_ERROR;
        return NULL;
    }
    if (status.st_mode & 077) {
        *reason = BR_REASON_KEY_PERMISSIONS;
        return NULL;
    }
    zchunk_t *chunk = br_file_read (path, BN_HTTP_TOKEN_MAX + 2, reason);
    if (!chunk)
        return NULL;
    char *token = zchunk_strdup (chunk);
    sodium_memzero (zchunk_data (chunk), zchunk_size (chunk));
    zchunk_destroy (&chunk);
    token[strcspn (token, "\r\n")] = '\0';
    return token;
}

static int
s_api (const s_command_t *command, zhash_t *options, zlist_t *arguments)
{
    char method[16];
    snprintf (method, sizeof (method), "%s", (const char *) zlist_first (arguments));
    for (char *character = method; *character; character++)
        *character = (char) toupper ((unsigned char) *character);
    const char *path = (const char *) zlist_next (arguments);
    const char *url = s_option (options, "url");
    if (!url)
        url = getenv ("BRUECKE_API_URL") ? getenv ("BRUECKE_API_URL") : BN_API_DEFAULT_URL;
    if (s_option (options, "token") && s_option (options, "token-file")) {
        fprintf (stderr, "bruecke api: give --token or --token-file, not both\n");
        return S_EXIT_USAGE;
    }
    br_reason_t reason;
    char *token = s_api_token (options, &reason);
    if (reason != BR_REASON_OK)
        return s_refused (command, reason,
                          reason == BR_REASON_KEY_PERMISSIONS
                              ? "the token file must be readable by its owner only (chmod 600)"
                              : "cannot read the token file");
    if (!token) {
        fprintf (stderr, "bruecke api: no API token: give --token-file FILE, set "
                         "BRUECKE_API_TOKEN, or give --token TOKEN\n");
        return S_EXIT_USAGE;
    }
    //  The body: --data JSON, --data @FILE, or --data @- for standard input
    const char *data = s_option (options, "data");
    zchunk_t *body = NULL;
    if (data && streq (data, "@-"))
        body = s_read_stdin (BN_API_BODY_MAX);
    else if (data && *data == '@')
        body = br_file_read (data + 1, BN_API_BODY_MAX, &reason);
    else if (data)
        body = zchunk_new (data, strlen (data));
    if (data && !body) {
        sodium_memzero (token, strlen (token));
        zstr_free (&token);
        return s_refused (command, reason == BR_REASON_TOO_LARGE ? reason : BR_REASON_IO_ERROR,
                          "cannot read the --data file, or it is too large");
    }

    int status = 0;
    zchunk_t *response = NULL;
    reason = bn_http_request (url, method, path, token, body ? zchunk_data (body) : NULL,
                              body ? zchunk_size (body) : 0, &status, &response);
    sodium_memzero (token, strlen (token));
    zstr_free (&token);
    zchunk_destroy (&body);
    if (reason == BR_REASON_MALFORMED) {
        fprintf (stderr, "bruecke api: bad METHOD, PATH (it starts with /), --url "
                         "(http://HOST:PORT) or token\n");
        return S_EXIT_USAGE;
    }
    if (reason != BR_REASON_OK) {
        char *what = zsys_sprintf ("no answer from the node API at %s (is the node running?)", url);
        int rc = s_refused (command, reason, what);
        zstr_free (&what);
        return rc;
    }
    //  The answer's JSON goes to stdout, indented; a refusal also to stderr
    json_error_t error;
    json_t *answer = json_loadb ((const char *) zchunk_data (response), zchunk_size (response),
                                 JSON_DECODE_ANY, &error);
    if (answer) {
        json_dumpf (answer, stdout, JSON_INDENT (2));
        printf ("\n");
    } else
        fwrite (zchunk_data (response), 1, zchunk_size (response), stdout);
    zchunk_destroy (&response);
    int rc = S_EXIT_OK;
    if (status < 200 || status > 299) {
        const char *name = json_string_value (json_object_get (answer, "error"));
        const char *detail = json_string_value (json_object_get (answer, "detail"));
        if (name)
            fprintf (stderr, "bruecke: %s: %s\n", name, detail ? detail : "");
        else
            fprintf (stderr, "bruecke: HTTP status %d\n", status);
        rc = S_EXIT_REFUSED;
    }
    json_decref (answer);
    return rc;
}

//  ---- Command table and dispatch -------------------------------------------

static const s_command_t s_commands[] = {
    {NULL, "keygen", "--node-id ID [--dir DIR]",
     "Creates a node's keys: DIR/ID.key (secret, mode 0600) and DIR/ID.pub (public).\n"
     "DIR (default: the current directory) is created, mode 0700, if missing.",
     "node-id dir", "node-id", 0, s_keygen},
    {NULL, "county-keygen", "[--dir DIR]",
     "Creates the county key: DIR/county.key (secret, 0600) and DIR/county.pub, which every\n"
     "node pins at enrollment.",
     "dir", "", 0, s_county_keygen},
    {"key", "show", "FILE", "Shows the node id and public keys of a .key or .pub file.", "", "", 1,
     s_key_show},
    {"roster", "init", "--draft FILE --county-ags AGS --county-name NAME",
     "Creates an empty roster draft (ZPL) for a county.", "draft county-ags county-name",
     "draft county-ags county-name", 0, s_roster_init},
    {"roster", "add-node",
     "--draft FILE --pub FILE --name NAME --ags AGS --role town|county|broker [--services A,B]",
     "Adds a node with the public keys from its .pub file to the draft.",
     "draft pub name ags role services", "draft pub name ags role", 0, s_roster_add_node},
    {"roster", "add-route", "--draft FILE --ags AGS --service SERVICE --node ID",
     "Makes node ID responsible for SERVICE in municipality AGS.", "draft ags service node",
     "draft ags service node", 0, s_roster_add_route},
    {"roster", "revoke", "--draft FILE --node ID",
     "Marks a node revoked; the next signed roster admits it nowhere.", "draft node", "draft node",
     0, s_roster_revoke},
    {"roster", "sign", "--draft FILE --county-key FILE --out FILE [--valid-days N]",
     "Checks the draft, signs it with the county key and writes the roster. The version always\n"
     "moves past the roster already in --out; the draft keeps the next version.",
     "draft county-key out valid-days", "draft county-key out", 0, s_roster_sign},
    {"roster", "verify", "--county-pub FILE [--current FILE] ROSTER",
     "Verifies a signed roster: county signature, content, validity, and with --current that\n"
     "it is no rollback.",
     "county-pub current", "county-pub", 1, s_roster_verify},
    {"roster", "show", "--county-pub FILE [--current FILE] ROSTER",
     "Verifies a signed roster and shows its nodes, keys and routes.", "county-pub current",
     "county-pub", 1, s_roster_show},
    {"envelope", "create",
     "--key FILE --roster FILE --county-pub FILE --to NODE --service SERVICE --text TEXT\n"
     "       --purpose CODE --categories A,B (--consent-id HEX | --statute NAME) --out FILE",
     "Writes a sealed, signed test note to NODE, valid for a day, for trying the network.",
     "key roster county-pub to service text purpose categories consent-id statute out",
     "key roster county-pub to service text purpose categories out", 0, s_envelope_create},
    {"envelope", "verify", "--roster FILE --county-pub FILE [--key FILE] [--at-ms MS] ENVELOPE",
     "Verifies an envelope offline against a roster: signature, shape, times and legal basis.\n"
     "With the recipient's --key it also opens a sealed test note.",
     "roster county-pub key at-ms", "roster county-pub", 1, s_envelope_verify},
    {"node", "status", "(--control ENDPOINT | --state DIR)",
     "Shows a running node: connected or not, roster version, outbox and inbox.", "control state",
     "", 0, s_node_status},
    {"node", "send-test",
     "(--control ENDPOINT | --state DIR) --to NODE --service SERVICE --text TEXT\n"
     "       --purpose CODE --categories A,B (--consent-id HEX | --statute NAME)\n"
     "       [--valid-days N | --valid-seconds N]",
     "Queues a sealed test note in a running node's outbox, for trying the network.",
     "control state to service text purpose categories consent-id statute valid-days "
     "valid-seconds",
     "to service text purpose categories", 0, s_node_send_test},
    {"node", "inbox", "(--control ENDPOINT | --state DIR)",
     "Lists what a running node has received: counter, sender, type, sequence, id, text.",
     "control state", "", 0, s_node_inbox},
    {"node", "sent", "(--control ENDPOINT | --state DIR)",
     "Lists what a running node has sent and what became of it.", "control state", "", 0,
     s_node_sent},
    {"broker", "status", "(--control ENDPOINT | --state DIR)",
     "Shows a running broker: each town online or offline, with its queue depth.", "control state",
     "", 0, s_node_status},
    {"broker", "reload", "(--control ENDPOINT | --state DIR)",
     "Makes a running broker read its roster file again and install it if newer.", "control state",
     "", 0, s_broker_reload},
    {"broker", "match", "(--control ENDPOINT | --state DIR) --quarter YYYYQn",
     "Runs the Transferbörse's matching for a quarter (e.g. 2026Q4) on a running broker: each\n"
     "proposal goes to both towns as an agreement to accept. Prints every proposal and every\n"
     "request left unmatched, with the reason.",
     "control state quarter", "quarter", 0, s_broker_match},
    {"audit", "verify", "--state DIR",
     "Verifies the node's audit log in its state directory: finds an edited, deleted or\n"
     "re-ordered record. Prints the record count and the head hash, never a record.",
     "state", "state", 0, s_audit_verify},
    {"api-token", "add", "--tokens FILE --name NAME --role caseworker|integration|readonly",
     "Adds a token for the node's JSON API to the token file (created, mode 0600, if missing)\n"
     "and prints the token once; the file keeps only its argon2id hash. A running node takes\n"
     "it at the next request; deleting its line from the file revokes it.",
     "tokens name role", "tokens name role", 0, s_api_token_add},
    {NULL, "api",
     "METHOD PATH [--data JSON | --data @FILE | --data @-] [--url URL]\n"
     "       [--token-file FILE | --token TOKEN]",
     "Calls the node's JSON API (node/openapi.yaml), e.g. 'bruecke api GET /v1/status', and\n"
     "prints the answer's JSON. Exit 1 on a refusal, with 'bruecke: REASON: detail' on stderr.\n"
     "--url defaults to $BRUECKE_API_URL, else " BN_API_DEFAULT_URL ". The token comes from\n"
     "--token-file (mode 0600), $BRUECKE_API_TOKEN or --token (which other users can see in\n"
     "the process list). --data @- reads the body from standard input.",
     "data url token token-file", "", 2, s_api},
};

#define S_COMMAND_COUNT (sizeof (s_commands) / sizeof (s_commands[0]))

static void
s_print_help (void)
{
    printf ("bruecke - operator tool for the bruecke county network\n\nCommands:\n");
    for (size_t index = 0; index < S_COMMAND_COUNT; index++) {
        const s_command_t *command = &s_commands[index];
        char words[64];
        snprintf (words, sizeof (words), "%s%s%s", command->group ? command->group : "",
                  command->group ? " " : "", command->name);
        const char *end = strchr (command->summary, '\n');
        printf ("  %-22s %.*s\n", words,
                end ? (int) (end - command->summary) : (int) strlen (command->summary),
                command->summary);
    }
    printf ("\n'bruecke COMMAND --help' describes a command. Exit codes: 0 done, 1 refused\n"
            "(the reason code is printed), 2 usage error.\n");
}

//  True if `name` is one of the space-separated words in `list`.
static bool
s_listed (const char *list, const char *name)
{
    size_t length = strlen (name);
    for (const char *cursor = list; (cursor = strstr (cursor, name)); cursor += length) {
        bool starts = cursor == list || cursor[-1] == ' ';
        bool ends = cursor[length] == '\0' || cursor[length] == ' ';
        if (starts && ends)
            return true;
    }
    return false;
}

static const s_command_t *
s_find_command (int argc, char *argv[], int *consumed)
{
    for (size_t index = 0; index < S_COMMAND_COUNT; index++) {
        const s_command_t *command = &s_commands[index];
        if (!command->group && argc > 1 && streq (argv[1], command->name)) {
            *consumed = 2;
            return command;
        }
        if (command->group && argc > 2 && streq (argv[1], command->group) &&
            streq (argv[2], command->name)) {
            *consumed = 3;
            return command;
        }
    }
    return NULL;
}

int
main (int argc, char *argv[])
{
    if (argc < 2 || streq (argv[1], "--help") || streq (argv[1], "-h")) {
        s_print_help ();
        return argc < 2 ? S_EXIT_USAGE : S_EXIT_OK;
    }
    if (sodium_init () < 0) {
        fprintf (stderr, "bruecke: libsodium failed to initialise\n");
        return S_EXIT_REFUSED;
    }
    int consumed = 0;
    const s_command_t *command = s_find_command (argc, argv, &consumed);
    if (!command) {
        fprintf (stderr, "bruecke: unknown command; 'bruecke --help' lists them\n");
        return S_EXIT_USAGE;
    }
    zhash_t *options = zhash_new ();
    zlist_t *arguments = zlist_new ();
    int rc = -1;
    for (int index = consumed; index < argc && rc < 0; index++) {
        const char *word = argv[index];
        if (streq (word, "--help") || streq (word, "-h")) {
            s_print_command_help (stdout, command);
            rc = S_EXIT_OK;
        } else if (strncmp (word, "--", 2) == 0) {
            if (!s_listed (command->options, word + 2) || index + 1 >= argc) {
                fprintf (stderr, "bruecke: option %s is unknown here or lacks a value\n", word);
                rc = S_EXIT_USAGE;
            } else
                zhash_update (options, word + 2, argv[++index]);
        } else
            zlist_append (arguments, (void *) word);
    }
    if (rc < 0) {
        char *required = strdup (command->required);
        char *saved = NULL;
        for (char *name = strtok_r (required, " ", &saved); name && rc < 0;
             name = strtok_r (NULL, " ", &saved))
            if (!zhash_lookup (options, name)) {
                fprintf (stderr, "bruecke: --%s is required\n", name);
                rc = S_EXIT_USAGE;
            }
        free (required);
    }
    if (rc < 0 && zlist_size (arguments) != command->arguments) {
        fprintf (stderr, "bruecke: expected %zu argument(s), got %zu\n", command->arguments,
                 zlist_size (arguments));
        rc = S_EXIT_USAGE;
    }
    if (rc >= 0 && rc != S_EXIT_OK)
        s_print_command_help (stderr, command);
    else if (rc < 0)
        rc = command->handler (command, options, arguments);
    zlist_destroy (&arguments);
    zhash_destroy (&options);
    return rc;
}
