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
#include <termios.h>
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
//  The value kept for an option that takes none (a flag) when it is given.
#define S_FLAG_SET "yes"
//  Room for a command's words in messages ("bruecke exchange agreements").
#define S_COMMAND_WORDS_SIZE 64
//  The options of every command that calls the node API, and their usage.
#define S_API_OPTIONS "url token token-file on-behalf"
#define S_API_USAGE   "[--url URL] [--token-file FILE | --token TOKEN] [--on-behalf PERSON]"

//  One subcommand: its words, its options and its handler.
typedef struct s_command_t s_command_t;
typedef int (*s_handler_fn) (const s_command_t *command, zhash_t *options, zlist_t *arguments);

struct s_command_t {
    const char *group;    //  first word ("roster"), or NULL for a one-word command
    const char *name;     //  the command word
    const char *usage;    //  the arguments line shown in help
    const char *summary;  //  one line on what it does
    const char *options;  //  space-separated options it takes (without --), each with a value
    const char *flags;    //  space-separated options it takes that have no value
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
    const char *days = s_option (options, "consent-days-max");
    char *end = NULL;
    unsigned long parsed = days ? strtoul (days, &end, 10) : 1;
    if (days && (!*days || *end || parsed < 1 || parsed > BR_ROSTER_CONSENT_DAYS_LIMIT)) {
        fprintf (stderr, "bruecke roster init: --consent-days-max is 1 to %d days\n",
                 BR_ROSTER_CONSENT_DAYS_LIMIT);
        return S_EXIT_USAGE;
    }
    zconfig_t *draft = br_roster_draft_new (ags, name);
    if (days)
        zconfig_put (draft, "roster/consent-days-max", days);
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
    if (!text ||
        (sscanf (text, "%4dQ%1d%c", &year, &quarter, &extra) != 2 &&
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
    const char *offices = s_option (options, "offices") ? s_option (options, "offices") : "";
    if (!br_token_valid (name, BN_TOKENS_NAME_MAX) || !bn_tokens_role_valid (role) ||
        !bn_tokens_offices_valid (role, offices)) {
        fprintf (stderr,
                 "bruecke api-token add: --name is 1 to %d characters of [a-z0-9-]; --role is "
                 "caseworker, integration or readonly; --offices lists service codes "
                 "(jobcenter,fruehe-hilfen), exactly one for integration\n",
                 BN_TOKENS_NAME_MAX);
        return S_EXIT_USAGE;
    }
    char *token = NULL;
    br_reason_t reason = bn_tokens_add (path, name, role, offices, &token);
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

//  Reads one line (a password) from standard input into `line` (`size`
//  bytes), without the newline; with the terminal's echo off if it is one.
//  False if there is none.
static bool
s_read_secret_line (const char *prompt, char *line, size_t size)
{
    bool terminal = isatty (STDIN_FILENO);
    struct termios saved, quiet;
    if (terminal) {
        fprintf (stderr, "%s", prompt);
        tcgetattr (STDIN_FILENO, &saved);
        quiet = saved;
        quiet.c_lflag &= (tcflag_t) ~ECHO;
        tcsetattr (STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    bool got = fgets (line, (int) size, stdin) != NULL;
    if (terminal) {
        tcsetattr (STDIN_FILENO, TCSAFLUSH, &saved);
        fprintf (stderr, "\n");
    }
    if (got)
        line[strcspn (line, "\r\n")] = '\0';
    return got;
}

static int
s_web_user_add (const s_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    const char *path = s_option (options, "users");
    const char *name = s_option (options, "name");
    const char *role = s_option (options, "role");
    const char *offices = s_option (options, "offices") ? s_option (options, "offices") : "";
    if (!br_token_valid (name, BN_TOKENS_NAME_MAX) || !bn_tokens_web_role_valid (role) ||
        !bn_tokens_offices_valid (role, offices)) {
        fprintf (stderr,
                 "bruecke web-user add: --name is 1 to %d characters of [a-z0-9-]; --role is "
                 "sachbearbeitung, leitung or administration; --offices lists service codes "
                 "(jobcenter,fruehe-hilfen)\n",
                 BN_TOKENS_NAME_MAX);
        return S_EXIT_USAGE;
    }
    char password[BN_TOKENS_PASSWORD_MAX + 2];
    if (!s_read_secret_line ("Passwort: ", password, sizeof (password)) ||
        strlen (password) < BN_TOKENS_PASSWORD_MIN || strlen (password) > BN_TOKENS_PASSWORD_MAX) {
        sodium_memzero (password, sizeof (password));
        fprintf (stderr,
                 "bruecke web-user add: give a password of %d to %d characters on "
                 "standard input\n",
                 BN_TOKENS_PASSWORD_MIN, BN_TOKENS_PASSWORD_MAX);
        return S_EXIT_USAGE;
    }
    br_reason_t reason = bn_tokens_add_user (path, name, role, offices, password);
    sodium_memzero (password, sizeof (password));
    if (reason == BR_REASON_INVALID_STATE)
        return s_refused (command, reason, "a user of that name exists");
    if (reason != BR_REASON_OK)
        return s_refused (command, reason, path);
    fprintf (stderr, "bruecke: web user '%s' (%s) added to %s\n", name, role, path);
    return S_EXIT_OK;
}

//  'bruecke api-token offices' and 'bruecke web-user offices': sets the
//  offices a token or web user acts for.
static int
s_offices_set (const s_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    bool users = streq (command->group, "web-user");
    const char *path = s_option (options, users ? "users" : "tokens");
    const char *name = s_option (options, "name");
    const char *offices = s_option (options, "offices");
    br_reason_t reason = bn_tokens_set_offices (path, name, offices);
    if (reason == BR_REASON_MALFORMED) {
        fprintf (stderr,
                 "bruecke %s offices: --name names the entry; --offices lists service codes "
                 "(jobcenter,fruehe-hilfen; \"\" for none), exactly one for integration\n",
                 command->group);
        return S_EXIT_USAGE;
    }
    if (reason != BR_REASON_OK)
        return s_refused (command, reason, reason == BR_REASON_NOT_FOUND ? name : path);
    fprintf (stderr, "bruecke: %s '%s' now acts for: %s\n", users ? "web user" : "token", name,
             *offices ? offices : "no office");
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

//  The command's words for messages, e.g. "bruecke exchange board".
static void
s_command_words (const s_command_t *command, char *words, size_t size)
{
    snprintf (words, size, "bruecke %s%s%s", command->group ? command->group : "",
              command->group ? " " : "", command->name);
}

//  Sends `method` for `path`, with `body` (NULL for none) as JSON, to the
//  node API at --url, else $BRUECKE_API_URL, else BN_API_DEFAULT_URL, with
//  the token from --token-file, $BRUECKE_API_TOKEN or --token. Returns
//  S_EXIT_OK and sets *status and *response (the caller's) if the node
//  answered; otherwise says why on stderr and returns the exit code.
static int
s_api_send (const s_command_t *command, zhash_t *options, const char *method, const char *path,
            zchunk_t *body, int *status, zchunk_t **response)
{
    char words[S_COMMAND_WORDS_SIZE];
    s_command_words (command, words, sizeof (words));
    const char *url = s_option (options, "url");
    if (!url)
        url = getenv ("BRUECKE_API_URL") ? getenv ("BRUECKE_API_URL") : BN_API_DEFAULT_URL;
    if (s_option (options, "token") && s_option (options, "token-file")) {
        fprintf (stderr, "%s: give --token or --token-file, not both\n", words);
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
        fprintf (stderr,
                 "%s: no API token: give --token-file FILE, set BRUECKE_API_TOKEN, or give "
                 "--token TOKEN\n",
                 words);
        return S_EXIT_USAGE;
    }
    const char *on_behalf = s_option (options, "on-behalf");
    if (!on_behalf)
        on_behalf = getenv ("BRUECKE_ON_BEHALF");
    reason =
        bn_http_request_as (url, method, path, token, on_behalf, body ? zchunk_data (body) : NULL,
                            body ? zchunk_size (body) : 0, status, response);
    sodium_memzero (token, strlen (token));
    zstr_free (&token);
    if (reason == BR_REASON_MALFORMED) {
        //  Only 'bruecke api' takes METHOD and PATH from the user; the others build them
        fprintf (stderr, "%s: bad %s--url (http://HOST:PORT) or token\n", words,
                 command->group ? "" : "METHOD, PATH (it starts with /), ");
        return S_EXIT_USAGE;
    }
    if (reason != BR_REASON_OK) {
        char *what = zsys_sprintf ("no answer from the node API at %s (is the node running?)", url);
        int rc = s_refused (command, reason, what);
        zstr_free (&what);
        return rc;
    }
    return S_EXIT_OK;
}

//  Says on stderr why the node API refused a call ("bruecke: REASON:
//  detail", from the answer's error and detail) and returns the exit code.
static int
s_api_refusal (int status, json_t *answer)
{
    const char *name = json_string_value (json_object_get (answer, "error"));
    const char *detail = json_string_value (json_object_get (answer, "detail"));
    if (name)
        fprintf (stderr, "bruecke: %s: %s\n", name, detail ? detail : "");
    else
        fprintf (stderr, "bruecke: HTTP status %d\n", status);
    return S_EXIT_REFUSED;
}

static int
s_api (const s_command_t *command, zhash_t *options, zlist_t *arguments)
{
    char method[16];
    snprintf (method, sizeof (method), "%s", (const char *) zlist_first (arguments));
    for (char *character = method; *character; character++)
        *character = (char) toupper ((unsigned char) *character);
    const char *path = (const char *) zlist_next (arguments);
    //  The body: --data JSON, --data @FILE, or --data @- for standard input
    const char *data = s_option (options, "data");
    zchunk_t *body = NULL;
    br_reason_t reason = BR_REASON_TOO_LARGE;
    if (data && streq (data, "@-"))
        body = s_read_stdin (BN_API_BODY_MAX);
    else if (data && *data == '@')
        body = br_file_read (data + 1, BN_API_BODY_MAX, &reason);
    else if (data)
        body = zchunk_new (data, strlen (data));
    if (data && !body)
        return s_refused (command, reason == BR_REASON_TOO_LARGE ? reason : BR_REASON_IO_ERROR,
                          "cannot read the --data file, or it is too large");

    int status = 0;
    zchunk_t *response = NULL;
    int rc = s_api_send (command, options, method, path, body, &status, &response);
    zchunk_destroy (&body);
    if (rc != S_EXIT_OK)
        return rc;
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
    if (status < 200 || status > 299)
        rc = s_api_refusal (status, answer);
    json_decref (answer);
    return rc;
}

//  ---- Transferbörse (the node API under /v1/exchange) ---------------------------
//
//  The Transferbörse is the exchange where the towns of the Kreis trade
//  prevention measures and coaching hours. These commands call the same
//  API as 'bruecke api' (same --url and token), build the JSON bodies from
//  options and print the answers as lines.

//  Calls the exchange API: `method` on `path`, with `body` (borrowed; NULL
//  for none) as JSON. Returns the answer's JSON object (the caller's) if
//  the node took the call; otherwise prints why, sets *rc, returns NULL.
static json_t *
s_exchange_call (const s_command_t *command, zhash_t *options, const char *method, const char *path,
                 json_t *body, int *rc)
{
    zchunk_t *chunk = NULL;
    if (body) {
        char *text = json_dumps (body, JSON_COMPACT);
        assert (text);
        chunk = zchunk_new (text, strlen (text));
        free (text);
    }
    int status = 0;
    zchunk_t *response = NULL;
    *rc = s_api_send (command, options, method, path, chunk, &status, &response);
    zchunk_destroy (&chunk);
    if (*rc != S_EXIT_OK)
        return NULL;
    json_error_t error;
    json_t *answer =
        json_loadb ((const char *) zchunk_data (response), zchunk_size (response), 0, &error);
    zchunk_destroy (&response);
    if (status < 200 || status > 299)
        *rc = s_api_refusal (status, answer);
    else if (!json_is_object (answer)) {
        fprintf (stderr, "bruecke: the node's answer (HTTP status %d) is not a JSON object\n",
                 status);
        *rc = S_EXIT_REFUSED;
    }
    if (*rc != S_EXIT_OK)
        json_decref (answer);
    return *rc == S_EXIT_OK ? answer : NULL;
}

//  A text member of `object` for printing: "" if missing or not a text.
static const char *
s_json_text (json_t *object, const char *name)
{
    const char *text = json_string_value (json_object_get (object, name));
    return text ? text : "";
}

static long long
s_json_integer (json_t *object, const char *name)
{
    return (long long) json_integer_value (json_object_get (object, name));
}

//  Sets `name` in `object` to `text`, if given. False if it is not UTF-8.
static bool
s_json_set_text (json_t *object, const char *name, const char *text)
{
    return !text || json_object_set_new (object, name, json_string (text)) == 0;
}

//  True if `text` is an id of the board or of an agreement (32 hex digits).
static bool
s_exchange_id_valid (const char *text)
{
    uint8_t id[BR_BOARD_ID_SIZE];
    return text && br_hex_decode (text, id, sizeof (id)) == 0;
}

//  The id argument of a command; NULL (with a usage message) if it is none.
static const char *
s_exchange_id_argument (const s_command_t *command, zlist_t *arguments)
{
    const char *id = (const char *) zlist_first (arguments);
    if (s_exchange_id_valid (id))
        return id;
    char words[S_COMMAND_WORDS_SIZE];
    s_command_words (command, words, sizeof (words));
    fprintf (stderr, "%s: ID is %d hex digits, as 'bruecke exchange board' or 'agreements' show\n",
             words, 2 * BR_BOARD_ID_SIZE);
    return NULL;
}

//  Formats Unix milliseconds as a day "YYYY-MM-DD" (UTC) into `text`.
static void
s_format_day (long long time_ms, char text[BR_TIME_TEXT_SIZE])
{
    br_time_format (time_ms, text);
    char *letter_t = strchr (text, 'T');
    if (letter_t)
        *letter_t = '\0';
}

//  Parses a day "YYYY-MM-DD" as its midnight UTC, in Unix milliseconds.
static bool
s_parse_day (const char *text, int64_t *time_ms)
{
    int year = 0, month = 0, day = 0;
    char extra;
    if (strlen (text) != 10 || sscanf (text, "%4d-%2d-%2d%c", &year, &month, &day, &extra) != 3 ||
        year < 1970)
        return false;
    struct tm fields = {.tm_year = year - 1900, .tm_mon = month - 1, .tm_mday = day};
    time_t seconds = timegm (&fields);
    //  No 2026-02-30: the day must come back as given
    struct tm check;
    if (seconds == (time_t) -1 || !gmtime_r (&seconds, &check) || check.tm_year != year - 1900 ||
        check.tm_mon != month - 1 || check.tm_mday != day)
        return false;
    *time_ms = (int64_t) seconds * 1000;
    return true;
}

//  Prints what a POST submitted: "KIND ID submitted as message MESSAGE-ID".
//  The broker decides later; 'bruecke exchange submissions' tells.
static int
s_exchange_submit (const s_command_t *command, zhash_t *options, const char *path, json_t *body,
                   const char *kind)
{
    int rc;
    json_t *answer = s_exchange_call (command, options, "POST", path, body, &rc);
    if (answer)
        printf ("%s %s submitted as message %s\n", kind, s_json_text (answer, "id"),
                s_json_text (answer, "message_id"));
    json_decref (answer);
    return rc;
}

static int
s_exchange_topics (const s_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    int rc;
    json_t *answer = s_exchange_call (command, options, "GET", "/v1/exchange/topics", NULL, &rc);
    size_t index;
    json_t *entry;
    json_array_foreach (json_object_get (answer, "topics"), index, entry)
        printf ("topic %-28s %s\n", s_json_text (entry, "code"), s_json_text (entry, "label"));
    json_array_foreach (json_object_get (answer, "cancel_reasons"), index, entry) printf (
        "cancel-reason %-20s %s\n", s_json_text (entry, "code"), s_json_text (entry, "label"));
    json_decref (answer);
    return rc;
}

//  One line for an offer or a request on the board.
static void
s_print_board_item (json_t *item)
{
    const char *note = s_json_text (item, "note");
    if (streq (s_json_text (item, "kind"), "offer")) {
        printf ("offer   %s %-12s topics ", s_json_text (item, "id"), s_json_text (item, "town"));
        size_t index;
        json_t *topic;
        json_array_foreach (json_object_get (item, "topics"), index, topic) printf (
            "%s%s", index ? "," : "", json_string_value (topic) ? json_string_value (topic) : "");
        printf ("  %lld h  capacity %lld h/quarter  \"%s\"\n",
                s_json_integer (item, "coaching_hours"),
                s_json_integer (item, "capacity_per_quarter"), s_json_text (item, "title"));
    } else if (json_object_get (item, "offer_id"))
        printf ("request %s %-12s offer %s%s%s%s\n", s_json_text (item, "id"),
                s_json_text (item, "town"), s_json_text (item, "offer_id"), *note ? "  \"" : "",
                note, *note ? "\"" : "");
    else
        printf ("request %s %-12s topic %s%s%s%s\n", s_json_text (item, "id"),
                s_json_text (item, "town"), s_json_text (item, "topic"), *note ? "  \"" : "", note,
                *note ? "\"" : "");
}

static int
s_exchange_board (const s_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    const char *topic = s_option (options, "topic");
    if (topic && !br_catalogue_topic (topic)) {
        fprintf (stderr,
                 "bruecke exchange board: '%s' is no topic; 'bruecke exchange topics' "
                 "lists them\n",
                 topic);
        return S_EXIT_USAGE;
    }
    //  A catalogue code is [a-z-]: it needs no escaping in the query
    char *path =
        topic ? zsys_sprintf ("/v1/exchange/board?topic=%s", topic) : strdup ("/v1/exchange/board");
    int rc;
    json_t *answer = s_exchange_call (command, options, "GET", path, NULL, &rc);
    zstr_free (&path);
    if (answer) {
        json_t *offers = json_object_get (answer, "offers");
        json_t *requests = json_object_get (answer, "requests");
        printf ("board at sequence %lld%s%s: %zu offer%s, %zu request%s\n",
                s_json_integer (answer, "head"), topic ? ", topic " : "", topic ? topic : "",
                json_array_size (offers), json_array_size (offers) == 1 ? "" : "s",
                json_array_size (requests), json_array_size (requests) == 1 ? "" : "s");
        size_t index;
        json_t *item;
        json_array_foreach (offers, index, item) s_print_board_item (item);
        json_array_foreach (requests, index, item) s_print_board_item (item);
    }
    json_decref (answer);
    return rc;
}

static int
s_exchange_offer (const s_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    int64_t hours = 0, capacity = 0;
    if (!s_parse_number (s_option (options, "hours"), 1, BR_BOARD_HOURS_MAX, &hours) ||
        !s_parse_number (s_option (options, "capacity"), 0, BR_BOARD_CAPACITY_MAX, &capacity)) {
        fprintf (stderr,
                 "bruecke exchange offer: --hours (coaching hours per transfer) is 1 to %d, "
                 "--capacity (coaching hours per quarter) 0 to %d\n",
                 BR_BOARD_HOURS_MAX, BR_BOARD_CAPACITY_MAX);
        return S_EXIT_USAGE;
    }
    const char *id = s_option (options, "id");
    if (id && !s_exchange_id_valid (id)) {
        fprintf (stderr, "bruecke exchange offer: --id is %d hex digits (the offer replaced)\n",
                 2 * BR_BOARD_ID_SIZE);
        return S_EXIT_USAGE;
    }
    json_t *body = json_object ();
    json_t *topics = json_array ();
    json_object_set_new (body, "topics", topics);
    char *list = strdup (s_option (options, "topics"));
    char *saved = NULL;
    bool valid = true;
    for (char *code = strtok_r (list, ",", &saved); code; code = strtok_r (NULL, ",", &saved))
        valid &= json_array_append_new (topics, json_string (code)) == 0;
    free (list);
    //  The texts, under their API names
    const char *texts[][2] = {{"title", "title"},
                              {"target-group", "target_group"},
                              {"results", "results"},
                              {"success-factors", "success_factors"},
                              {"pitfalls", "pitfalls"}};
    for (size_t index = 0; index < sizeof (texts) / sizeof (texts[0]); index++)
        valid &= s_json_set_text (body, texts[index][1], s_option (options, texts[index][0]));
    valid &= s_json_set_text (body, "id", id);
    json_object_set_new (body, "presentation",
                         json_boolean (s_option (options, "presentation") != NULL));
    json_object_set_new (body, "documents", json_boolean (s_option (options, "documents") != NULL));
    json_object_set_new (body, "coaching_hours", json_integer (hours));
    json_object_set_new (body, "capacity_per_quarter", json_integer (capacity));
    int rc = S_EXIT_USAGE;
    if (valid)
        rc = s_exchange_submit (command, options, "/v1/exchange/offers", body, "offer");
    else
        fprintf (stderr, "bruecke exchange offer: the texts must be UTF-8\n");
    json_decref (body);
    return rc;
}

static int
s_exchange_request (const s_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    const char *topic = s_option (options, "topic");
    const char *offer = s_option (options, "offer");
    if (!topic == !offer || (offer && !s_exchange_id_valid (offer))) {
        fprintf (stderr,
                 "bruecke exchange request: give --topic CODE or --offer ID (%d hex "
                 "digits), not both\n",
                 2 * BR_BOARD_ID_SIZE);
        return S_EXIT_USAGE;
    }
    json_t *body = json_object ();
    bool valid = s_json_set_text (body, "topic", topic) &&
                 s_json_set_text (body, "offer_id", offer) &&
                 s_json_set_text (body, "note", s_option (options, "note"));
    int rc = S_EXIT_USAGE;
    if (valid)
        rc = s_exchange_submit (command, options, "/v1/exchange/requests", body, "request");
    else
        fprintf (stderr, "bruecke exchange request: the texts must be UTF-8\n");
    json_decref (body);
    return rc;
}

static int
s_exchange_withdraw (const s_command_t *command, zhash_t *options, zlist_t *arguments)
{
    const char *id = s_exchange_id_argument (command, arguments);
    if (!id)
        return S_EXIT_USAGE;
    char *path = zsys_sprintf ("/v1/exchange/items/%s/withdraw", id);
    json_t *body = json_object ();
    int rc = s_exchange_submit (command, options, path, body, "withdrawal of");
    json_decref (body);
    zstr_free (&path);
    return rc;
}

//  Orders submissions by the time they were sent.
static int
s_compare_sent_at (const void *left, const void *right)
{
    long long left_at = s_json_integer (*(json_t *const *) left, "at_ms");
    long long right_at = s_json_integer (*(json_t *const *) right, "at_ms");
    return (left_at > right_at) - (left_at < right_at);
}

static int
s_exchange_submissions (const s_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    int rc;
    json_t *answer =
        s_exchange_call (command, options, "GET", "/v1/exchange/submissions", NULL, &rc);
    json_t *list = json_object_get (answer, "submissions");
    size_t count = json_array_size (list);
    json_t **entries = (json_t **) calloc (count + 1, sizeof (json_t *));
    assert (entries);
    for (size_t index = 0; index < count; index++)
        entries[index] = json_array_get (list, index);
    qsort (entries, count, sizeof (json_t *), s_compare_sent_at);
    for (size_t index = 0; index < count; index++) {
        json_t *entry = entries[index];
        char at[BR_TIME_TEXT_SIZE];
        br_time_format (s_json_integer (entry, "at_ms"), at);
        printf ("%s %-8s %s message %s %s%s%s\n", at, s_json_text (entry, "kind"),
                s_json_text (entry, "subject_id"), s_json_text (entry, "message_id"),
                s_json_text (entry, "state"), json_object_get (entry, "reason") ? " " : "",
                s_json_text (entry, "reason"));
    }
    if (answer && count == 0)
        printf ("nothing sent to the Transferbörse yet\n");
    free (entries);
    json_decref (answer);
    return rc;
}

//  One line for an agreement: id, state, role and partner, topic, hours,
//  quarter, who accepted and signed, dates, and why it was proposed.
static void
s_print_agreement (json_t *agreement)
{
    const char *provider = s_json_text (agreement, "provider");
    const char *receiver = s_json_text (agreement, "receiver");
    bool providing = streq (s_json_text (agreement, "role"), "provider");
    long long quarter = s_json_integer (agreement, "quarter");
    char accepted[2 * (BR_NODE_ID_MAX + 1)], signed_by[2 * (BR_NODE_ID_MAX + 1)];
    snprintf (accepted, sizeof (accepted), "%s%s%s",
              json_is_true (json_object_get (agreement, "provider_accepted")) ? provider : "",
              json_is_true (json_object_get (agreement, "provider_accepted")) &&
                      json_is_true (json_object_get (agreement, "receiver_accepted"))
                  ? ","
                  : "",
              json_is_true (json_object_get (agreement, "receiver_accepted")) ? receiver : "");
    snprintf (signed_by, sizeof (signed_by), "%s%s%s",
              json_is_true (json_object_get (agreement, "provider_signed")) ? provider : "",
              json_is_true (json_object_get (agreement, "provider_signed")) &&
                      json_is_true (json_object_get (agreement, "receiver_signed"))
                  ? ","
                  : "",
              json_is_true (json_object_get (agreement, "receiver_signed")) ? receiver : "");
    printf ("%s %-9s %s %s %-12s %s %lld h %lldQ%lld  accepted by %s  signed by %s",
            s_json_text (agreement, "id"), s_json_text (agreement, "state"),
            providing ? "provider" : "receiver", providing ? "for" : "from",
            providing ? receiver : provider, s_json_text (agreement, "topic"),
            s_json_integer (agreement, "hours"), quarter / 10, quarter % 10,
            *accepted ? accepted : "-", *signed_by ? signed_by : "-");
    char day[BR_TIME_TEXT_SIZE];
    if (s_json_integer (agreement, "scheduled_for_ms") > 0) {
        s_format_day (s_json_integer (agreement, "scheduled_for_ms"), day);
        printf ("  scheduled for %s", day);
    }
    if (s_json_integer (agreement, "completed_ms") > 0) {
        s_format_day (s_json_integer (agreement, "completed_ms"), day);
        printf ("  completed %s", day);
    }
    if (json_object_get (agreement, "cancel_reason"))
        printf ("  cancelled by %s (%s)", s_json_text (agreement, "cancelled_by"),
                s_json_text (agreement, "cancel_reason"));
    printf ("  why: %s\n", s_json_text (agreement, "why"));
}

static int
s_exchange_agreements (const s_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    const char *state = s_option (options, "state");
    bool known = !state;
    for (int value = BRUECKE__AGREEMENT_STATE__AGREEMENT_PROPOSED;
         value <= BRUECKE__AGREEMENT_STATE__AGREEMENT_CANCELLED && !known; value++)
        known = streq (state, br_ledger_state_name (value));
    if (!known) {
        fprintf (stderr, "bruecke exchange agreements: --state is proposed, accepted, scheduled, "
                         "completed or cancelled\n");
        return S_EXIT_USAGE;
    }
    //  A state name is [a-z]: it needs no escaping in the query
    char *path = state ? zsys_sprintf ("/v1/exchange/agreements?state=%s", state)
                       : strdup ("/v1/exchange/agreements");
    int rc;
    json_t *answer = s_exchange_call (command, options, "GET", path, NULL, &rc);
    zstr_free (&path);
    size_t index;
    json_t *agreement;
    json_array_foreach (json_object_get (answer, "agreements"), index, agreement)
        s_print_agreement (agreement);
    if (answer && json_array_size (json_object_get (answer, "agreements")) == 0)
        printf ("no agreements%s%s\n", state ? " in state " : "", state ? state : "");
    json_decref (answer);
    return rc;
}

//  Sends one step on agreement ID (the argument) with `body` (borrowed).
static int
s_exchange_step (const s_command_t *command, zhash_t *options, zlist_t *arguments, json_t *body)
{
    const char *id = s_exchange_id_argument (command, arguments);
    if (!id)
        return S_EXIT_USAGE;
    char *path = zsys_sprintf ("/v1/exchange/agreements/%s/%s", id, command->name);
    int rc = s_exchange_submit (command, options, path, body, command->name);
    zstr_free (&path);
    return rc;
}

static int
s_exchange_accept (const s_command_t *command, zhash_t *options, zlist_t *arguments)
{
    json_t *body = json_object ();
    int rc = s_exchange_step (command, options, arguments, body);
    json_decref (body);
    return rc;
}

static int
s_exchange_complete (const s_command_t *command, zhash_t *options, zlist_t *arguments)
{
    //  The node signs the completion now; the other town's time if it signed first
    json_t *body = json_object ();
    int rc = s_exchange_step (command, options, arguments, body);
    json_decref (body);
    return rc;
}

static int
s_exchange_schedule (const s_command_t *command, zhash_t *options, zlist_t *arguments)
{
    int64_t time_ms = 0;
    if (!s_parse_day (s_option (options, "at"), &time_ms)) {
        fprintf (stderr, "bruecke exchange schedule: --at is a day such as 2026-11-03\n");
        return S_EXIT_USAGE;
    }
    json_t *body = json_pack ("{sI}", "scheduled_for_ms", (json_int_t) time_ms);
    int rc = s_exchange_step (command, options, arguments, body);
    json_decref (body);
    return rc;
}

static int
s_exchange_cancel (const s_command_t *command, zhash_t *options, zlist_t *arguments)
{
    //  The node checks the code against the catalogue
    json_t *body = json_object ();
    int rc = S_EXIT_USAGE;
    if (s_json_set_text (body, "reason", s_option (options, "reason")))
        rc = s_exchange_step (command, options, arguments, body);
    else
        fprintf (stderr, "bruecke exchange cancel: --reason must be UTF-8\n");
    json_decref (body);
    return rc;
}

//  Orders balance lines by town.
static int
s_compare_texts (const void *left, const void *right)
{
    return strcmp (*(const char *const *) left, *(const char *const *) right);
}

static int
s_exchange_ledger (const s_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    int rc;
    json_t *answer = s_exchange_call (command, options, "GET", "/v1/exchange/ledger", NULL, &rc);
    if (!answer)
        return rc;
    size_t index;
    json_t *record;
    json_array_foreach (json_object_get (answer, "records"), index, record)
    {
        char completed[BR_TIME_TEXT_SIZE];
        br_time_format (s_json_integer (record, "completed_ms"), completed);
        printf ("record %lld %s %s -> %s %s %lld h completed %s\n",
                s_json_integer (record, "sequence"), s_json_text (record, "transfer_id"),
                s_json_text (record, "provider"), s_json_text (record, "receiver"),
                s_json_text (record, "topic"), s_json_integer (record, "hours"), completed);
    }
    json_t *balances = json_object_get (answer, "balances");
    size_t count = json_object_size (balances);
    const char **towns = (const char **) calloc (count + 1, sizeof (const char *));
    assert (towns);
    const char *town;
    json_t *balance;
    count = 0;
    json_object_foreach (balances, town, balance) towns[count++] = town;
    qsort (towns, count, sizeof (const char *), s_compare_texts);
    for (index = 0; index < count; index++)
        printf ("balance %-12s %+lld h\n", towns[index], s_json_integer (balances, towns[index]));
    free (towns);
    printf ("total %lld h\n", s_json_integer (answer, "total"));
    long long checked = s_json_integer (answer, "checked");
    if (json_is_true (json_object_get (answer, "verified")))
        printf ("verified yes (%lld record%s checked)\n", checked, checked == 1 ? "" : "s");
    else {
        printf ("verified no (%lld record%s checked): %s\n", checked, checked == 1 ? "" : "s",
                s_json_text (answer, "problem"));
        fprintf (stderr, "bruecke: %s: the ledger does not verify: %s\n",
                 br_reason_name (BR_REASON_AUDIT_BROKEN), s_json_text (answer, "problem"));
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
     "node-id dir", "", "node-id", 0, s_keygen},
    {NULL, "county-keygen", "[--dir DIR]",
     "Creates the county key: DIR/county.key (secret, 0600) and DIR/county.pub, which every\n"
     "node pins at enrollment.",
     "dir", "", "", 0, s_county_keygen},
    {"key", "show", "FILE", "Shows the node id and public keys of a .key or .pub file.", "", "", "",
     1, s_key_show},
    {"roster", "init", "--draft FILE --county-ags AGS --county-name NAME [--consent-days-max N]",
     "Creates an empty roster draft (ZPL) for a county. --consent-days-max is the county's\n"
     "longest validity of a family's consent, in days (default 730: two years).",
     "draft county-ags county-name consent-days-max", "", "draft county-ags county-name", 0,
     s_roster_init},
    {"roster", "add-node",
     "--draft FILE --pub FILE --name NAME --ags AGS --role town|county|broker [--services A,B]",
     "Adds a node with the public keys from its .pub file to the draft.",
     "draft pub name ags role services", "", "draft pub name ags role", 0, s_roster_add_node},
    {"roster", "add-route", "--draft FILE --ags AGS --service SERVICE --node ID",
     "Makes node ID responsible for SERVICE in municipality AGS.", "draft ags service node", "",
     "draft ags service node", 0, s_roster_add_route},
    {"roster", "revoke", "--draft FILE --node ID",
     "Marks a node revoked; the next signed roster admits it nowhere.", "draft node", "",
     "draft node", 0, s_roster_revoke},
    {"roster", "sign", "--draft FILE --county-key FILE --out FILE [--valid-days N]",
     "Checks the draft, signs it with the county key and writes the roster. The version always\n"
     "moves past the roster already in --out; the draft keeps the next version.",
     "draft county-key out valid-days", "", "draft county-key out", 0, s_roster_sign},
    {"roster", "verify", "--county-pub FILE [--current FILE] ROSTER",
     "Verifies a signed roster: county signature, content, validity, and with --current that\n"
     "it is no rollback.",
     "county-pub current", "", "county-pub", 1, s_roster_verify},
    {"roster", "show", "--county-pub FILE [--current FILE] ROSTER",
     "Verifies a signed roster and shows its nodes, keys and routes.", "county-pub current", "",
     "county-pub", 1, s_roster_show},
    {"envelope", "create",
     "--key FILE --roster FILE --county-pub FILE --to NODE --service SERVICE --text TEXT\n"
     "       --purpose CODE --categories A,B (--consent-id HEX | --statute NAME) --out FILE",
     "Writes a sealed, signed test note to NODE, valid for a day, for trying the network.",
     "key roster county-pub to service text purpose categories consent-id statute out", "",
     "key roster county-pub to service text purpose categories out", 0, s_envelope_create},
    {"envelope", "verify", "--roster FILE --county-pub FILE [--key FILE] [--at-ms MS] ENVELOPE",
     "Verifies an envelope offline against a roster: signature, shape, times and legal basis.\n"
     "With the recipient's --key it also opens a sealed test note.",
     "roster county-pub key at-ms", "", "roster county-pub", 1, s_envelope_verify},
    {"node", "status", "(--control ENDPOINT | --state DIR)",
     "Shows a running node: connected or not, roster version, outbox and inbox.", "control state",
     "", "", 0, s_node_status},
    {"node", "send-test",
     "(--control ENDPOINT | --state DIR) --to NODE --service SERVICE --text TEXT\n"
     "       --purpose CODE --categories A,B (--consent-id HEX | --statute NAME)\n"
     "       [--valid-days N | --valid-seconds N]",
     "Queues a sealed test note in a running node's outbox, for trying the network.",
     "control state to service text purpose categories consent-id statute valid-days "
     "valid-seconds",
     "", "to service text purpose categories", 0, s_node_send_test},
    {"node", "inbox", "(--control ENDPOINT | --state DIR)",
     "Lists what a running node has received: counter, sender, type, sequence, id, text.",
     "control state", "", "", 0, s_node_inbox},
    {"node", "sent", "(--control ENDPOINT | --state DIR)",
     "Lists what a running node has sent and what became of it.", "control state", "", "", 0,
     s_node_sent},
    {"broker", "status", "(--control ENDPOINT | --state DIR)",
     "Shows a running broker: each town online or offline, with its queue depth.", "control state",
     "", "", 0, s_node_status},
    {"broker", "reload", "(--control ENDPOINT | --state DIR)",
     "Makes a running broker read its roster file again and install it if newer.", "control state",
     "", "", 0, s_broker_reload},
    {"broker", "match", "(--control ENDPOINT | --state DIR) --quarter YYYYQn",
     "Runs the Transferbörse's matching for a quarter (e.g. 2026Q4) on a running broker: each\n"
     "proposal goes to both towns as an agreement to accept. Prints every proposal and every\n"
     "request left unmatched, with the reason.",
     "control state quarter", "", "quarter", 0, s_broker_match},
    {"audit", "verify", "--state DIR",
     "Verifies the node's audit log in its state directory: finds an edited, deleted or\n"
     "re-ordered record. Prints the record count and the head hash, never a record.",
     "state", "", "state", 0, s_audit_verify},
    {"api-token", "add",
     "--tokens FILE --name NAME --role caseworker|integration|readonly [--offices A,B]",
     "Adds a token for the node's JSON API to the token file (created, mode 0600, if missing)\n"
     "and prints the token once; the file keeps only its argon2id hash. A running node takes\n"
     "it at the next request; deleting its line from the file revokes it. --offices are the\n"
     "offices (service codes) whose cases it may work; an integration token (the town's case\n"
     "software) acts for exactly one, and names in every call the person it acts for.",
     "tokens name role offices", "", "tokens name role", 0, s_api_token_add},
    {"api-token", "offices", "--tokens FILE --name NAME --offices A,B",
     "Sets the offices a token acts for (\"\" for none); a running node takes it at once.",
     "tokens name offices", "", "tokens name offices", 0, s_offices_set},
    {"web-user", "add",
     "--users FILE --name NAME --role sachbearbeitung|leitung|administration [--offices A,B]",
     "Adds a user of the node's web interface to its users file (created, mode 0600, if\n"
     "missing; by default web-users in the node's state directory). The password, 10 to 128\n"
     "characters, comes from standard input (asked for without echo on a terminal); the file\n"
     "keeps only its argon2id hash. A running node takes it at the next login; deleting its\n"
     "line from the file removes the user. --offices are the offices (service codes, e.g.\n"
     "jobcenter,fruehe-hilfen) whose cases the user works; the administration needs none.",
     "users name role offices", "", "users name role", 0, s_web_user_add},
    {"web-user", "offices", "--users FILE --name NAME --offices A,B",
     "Sets the offices a web user acts for (\"\" for none); it holds from the user's next\n"
     "request.",
     "users name offices", "", "users name offices", 0, s_offices_set},
    {NULL, "api",
     "METHOD PATH [--data JSON | --data @FILE | --data @-] [--url URL]\n"
     "       [--token-file FILE | --token TOKEN]",
     "Calls the node's JSON API (node/openapi.yaml), e.g. 'bruecke api GET /v1/status', and\n"
     "prints the answer's JSON. Exit 1 on a refusal, with 'bruecke: REASON: detail' on stderr.\n"
     "--url defaults to $BRUECKE_API_URL, else " BN_API_DEFAULT_URL ". The token comes from\n"
     "--token-file (mode 0600), $BRUECKE_API_TOKEN or --token (which other users can see in\n"
     "the process list). --data @- reads the body from standard input. An integration token\n"
     "names the person it acts for with --on-behalf or $BRUECKE_ON_BEHALF.",
     "data " S_API_OPTIONS, "", "", 2, s_api},
    {"exchange", "topics", S_API_USAGE,
     "Lists the Transferbörse's topic codes and cancellation reasons, with their labels.\n"
     "The Transferbörse is where the towns of the Kreis trade prevention measures and coaching.\n"
     "Every 'bruecke exchange' command calls the node's JSON API as 'bruecke api' does (same\n"
     "--url, --token-file and --token, same defaults); a refusal exits 1 with\n"
     "'bruecke: REASON: detail' on stderr.",
     S_API_OPTIONS, "", "", 0, s_exchange_topics},
    {"exchange", "board", "[--topic CODE] " S_API_USAGE,
     "Shows the Transferbörse's board: one line per offer and per request.\n"
     "As this town's node holds it: offers with id, town, topics, coaching hours per transfer,\n"
     "capacity (hours per quarter) and title; requests with id, town, the topic or the offer\n"
     "asked for, and note. --topic shows only items on that topic.",
     "topic " S_API_OPTIONS, "", "", 0, s_exchange_board},
    {"exchange", "offer",
     "--title TEXT --topics CODE,CODE --hours N --capacity N\n"
     "       [--target-group TEXT] [--results TEXT] [--success-factors TEXT] [--pitfalls TEXT]\n"
     "       [--presentation] [--documents] [--id ID] " S_API_USAGE,
     "Publishes an offer of this town on the Transferbörse's board; prints its id.\n"
     "The offer is a measure on 1 to 8 topics, with --hours of coaching per transfer and\n"
     "--capacity hours of coaching a quarter (the matching gives the town at most the sum over\n"
     "its offers); --presentation and --documents say that a presentation and documents come\n"
     "with it. --id replaces the town's offer ID. Prints the offer's id and the message id;\n"
     "the broker decides ('bruecke exchange submissions').",
     "title topics hours capacity target-group results success-factors pitfalls id " S_API_OPTIONS,
     "presentation documents", "title topics hours capacity", 0, s_exchange_offer},
    {"exchange", "request", "(--topic CODE | --offer ID) [--note TEXT]\n       " S_API_USAGE,
     "Asks on the board for coaching on a topic, or for one offer; prints its id.\n"
     "Prints the request's id and the message id; the county's matching proposes a partner.",
     "topic offer note " S_API_OPTIONS, "", "", 0, s_exchange_request},
    {"exchange", "withdraw", "ID " S_API_USAGE,
     "Withdraws an offer or request of this town from the board.", S_API_OPTIONS, "", "", 1,
     s_exchange_withdraw},
    {"exchange", "submissions", S_API_USAGE,
     "Lists what this town sent to the Transferbörse and what became of it.\n"
     "Oldest first: time, kind, the item or agreement, the message id and its state (queued,\n"
     "accepted, receipted; refused or dead with the reason).",
     S_API_OPTIONS, "", "", 0, s_exchange_submissions},
    {"exchange", "agreements",
     "[--state proposed|accepted|scheduled|completed|cancelled]\n       " S_API_USAGE,
     "Lists this town's Transferbörse agreements, one line each.\n"
     "Each with id, state, role and partner town, topic, hours, quarter, the towns that\n"
     "accepted and that signed the completion, dates, and why the matching proposed it.",
     "state " S_API_OPTIONS, "", "", 0, s_exchange_agreements},
    {"exchange", "accept", "ID " S_API_USAGE,
     "Accepts a proposed agreement for this town; it holds once both towns accepted.",
     S_API_OPTIONS, "", "", 1, s_exchange_accept},
    {"exchange", "schedule", "ID --at YYYY-MM-DD " S_API_USAGE,
     "Sets the day (midnight UTC) an accepted transfer takes place.", "at " S_API_OPTIONS, "", "at",
     1, s_exchange_schedule},
    {"exchange", "complete", "ID " S_API_USAGE,
     "Signs, for this town, that a scheduled transfer took place.\n"
     "Once both towns signed, the broker enters it in the ledger.",
     S_API_OPTIONS, "", "", 1, s_exchange_complete},
    {"exchange", "cancel", "ID --reason CODE " S_API_USAGE,
     "Cancels an open agreement with a reason code ('bruecke exchange topics' lists them).",
     "reason " S_API_OPTIONS, "", "reason", 1, s_exchange_cancel},
    {"exchange", "ledger", S_API_USAGE,
     "Shows the Transferbörse's ledger; exit 1 if it does not verify.\n"
     "As this town's node holds it: each completed transfer, each town's balance of hours\n"
     "(given +, received -), the total (always 0) and whether the hash chain and both towns'\n"
     "signatures on every record verify.",
     S_API_OPTIONS, "", "", 0, s_exchange_ledger},
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
    if (length == 0)
        return false; //  a bare "--" names nothing (and strstr would find it everywhere)
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
        } else if (strncmp (word, "--", 2) == 0 && s_listed (command->flags, word + 2))
            zhash_update (options, word + 2, (void *) S_FLAG_SET);
        else if (strncmp (word, "--", 2) == 0) {
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
