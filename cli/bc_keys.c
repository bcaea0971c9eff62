/*  =========================================================================
    bc_keys - the bruecke CLI's commands for keys and rosters
    =========================================================================
*/

#include "bc_keys.h"

//  Default roster validity when signing.
#define S_DEFAULT_VALID_DAYS 365
//  Longest validity an operator may give a roster.
#define S_MAX_VALID_DAYS 3650

//  Prints one public key as "  LABEL HEX".
static void
s_print_key (const char *label, const uint8_t *key, size_t size)
{
    char hex[2 * 64 + 1];
    br_hex_encode (key, size, hex);
    printf ("  %-18s %s\n", label, hex);
}

//  ---- Keys -----------------------------------------------------------------

static int
s_write_identity (const bc_command_t *command, const char *node_id, const char *directory)
{
    br_identity_t *identity = br_identity_new (node_id);
    if (!identity) {
        fprintf (stderr, "bruecke: '%s' is not a valid node id ([a-z0-9-], 1 to %d characters)\n",
                 node_id, BR_NODE_ID_MAX);
        return BC_EXIT_USAGE;
    }
    //  A missing key directory is created, readable by its owner only
    if (mkdir (directory, 0700) != 0 && errno != EEXIST) {
        br_identity_destroy (&identity);
        return bc_refused (command, BR_REASON_IO_ERROR, directory);
    }
    char *secret_path = bc_path_join (directory, node_id, ".key");
    char *public_path = bc_path_join (directory, node_id, ".pub");
    br_reason_t reason = br_identity_save (identity, secret_path, public_path);
    int rc = BC_EXIT_OK;
    if (reason == BR_REASON_OK)
        printf ("secret key: %s (mode 0600, stays on this machine)\n"
                "public key: %s (%s)\n",
                secret_path, public_path,
                streq (node_id, "county") ? "give it to every node: they pin it at enrollment"
                                          : "send it to the county office for the roster");
    else
        rc = bc_refused (command, reason, "cannot write key files (do they exist already?)");
    zstr_free (&secret_path);
    zstr_free (&public_path);
    br_identity_destroy (&identity);
    return rc;
}

static int
s_keygen (const bc_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    const char *directory = bc_option (options, "dir") ? bc_option (options, "dir") : ".";
    return s_write_identity (command, bc_option (options, "node-id"), directory);
}

static int
s_county_keygen (const bc_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    const char *directory = bc_option (options, "dir") ? bc_option (options, "dir") : ".";
    return s_write_identity (command, "county", directory);
}

static int
s_key_show (const bc_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) options;
    const char *path = (const char *) zlist_first (arguments);
    br_reason_t reason;
    //  A public file is read as such; a secret file shows its public keys
    br_identity_t *identity = br_identity_load_public (path, &reason);
    if (!identity && reason == BR_REASON_KEY_INVALID)
        identity = br_identity_load (path, &reason);
    if (!identity)
        return bc_refused (command, reason, path);
    printf ("node %s (%s)\n", br_identity_node_id (identity),
            br_identity_has_secret (identity) ? "secret key file" : "public key file");
    s_print_key ("sign-public", br_identity_sign_public (identity), BR_SIGN_PUBLIC_SIZE);
    s_print_key ("transport-public", br_identity_transport_public (identity), BR_CURVE_KEY_SIZE);
    s_print_key ("seal-public", br_identity_seal_public (identity), BR_CURVE_KEY_SIZE);
    br_identity_destroy (&identity);
    return BC_EXIT_OK;
}

//  ---- Roster drafts ------------------------------------------------------

//  Reads the roster draft (ZPL) at `path`. Returns it (the caller destroys
//  it), or NULL with *reason set: CONFIG_INVALID if it is no draft.
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

//  Writes `draft` to `path`, over an existing file only if `replace`.
static br_reason_t
s_save_draft (zconfig_t *draft, const char *path, bool replace)
{
    char *text = zconfig_str_save (draft);
    br_reason_t reason = br_file_write (path, text, strlen (text), 0644, replace);
    zstr_free (&text);
    return reason;
}

static int
s_roster_init (const bc_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    const char *ags = bc_option (options, "county-ags");
    const char *name = bc_option (options, "county-name");
    if (!br_ags_valid (ags, BR_AGS_COUNTY_DIGITS) || !br_text_valid (name, BR_NAME_MAX)) {
        fprintf (stderr,
                 "bruecke roster init: --county-ags needs 5 digits, --county-name a name\n");
        return BC_EXIT_USAGE;
    }
    const char *days = bc_option (options, "consent-days-max");
    char *end = NULL;
    unsigned long parsed = days ? strtoul (days, &end, 10) : 1;
    if (days && (!*days || *end || parsed < 1 || parsed > BR_ROSTER_CONSENT_DAYS_LIMIT)) {
        fprintf (stderr, "bruecke roster init: --consent-days-max is 1 to %d days\n",
                 BR_ROSTER_CONSENT_DAYS_LIMIT);
        return BC_EXIT_USAGE;
    }
    zconfig_t *draft = br_roster_draft_new (ags, name);
    if (days)
        zconfig_put (draft, "roster/consent-days-max", days);
    zconfig_set_comment (draft,
                         "  bruecke roster draft: edit, then sign with 'bruecke roster sign'");
    br_reason_t reason = s_save_draft (draft, bc_option (options, "draft"), false);
    zconfig_destroy (&draft);
    if (reason != BR_REASON_OK)
        return bc_refused (command, reason, "cannot write the draft (does it exist already?)");
    printf ("draft %s created for %s (%s)\n", bc_option (options, "draft"), name, ags);
    return BC_EXIT_OK;
}

//  Loads the draft, lets `edit` change it, and saves it if that succeeded.
typedef br_reason_t (*s_draft_edit_fn) (zconfig_t *draft, zhash_t *options);

static int
s_edit_draft (const bc_command_t *command, zhash_t *options, s_draft_edit_fn edit)
{
    const char *path = bc_option (options, "draft");
    br_reason_t reason;
    zconfig_t *draft = s_load_draft (path, &reason);
    if (!draft)
        return bc_refused (command, reason, path);
    reason = edit (draft, options);
    if (reason == BR_REASON_OK)
        reason = s_save_draft (draft, path, true);
    zconfig_destroy (&draft);
    if (reason != BR_REASON_OK)
        return bc_refused (command, reason, path);
    printf ("draft %s updated\n", path);
    return BC_EXIT_OK;
}

static br_reason_t
s_edit_add_node (zconfig_t *draft, zhash_t *options)
{
    br_reason_t reason;
    br_identity_t *keys = br_identity_load_public (bc_option (options, "pub"), &reason);
    if (!keys)
        return reason;
    const char *services = bc_option (options, "services") ? bc_option (options, "services") : "";
    reason = br_roster_draft_add_node (
        draft, keys, bc_option (options, "name"), bc_option (options, "ags"),
        br_roster_role_parse (bc_option (options, "role")), services);
    br_identity_destroy (&keys);
    return reason;
}

static int
s_roster_add_node (const bc_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    if (br_roster_role_parse (bc_option (options, "role")) ==
        BRUECKE__NODE_ROLE__ROLE_UNSPECIFIED) {
        fprintf (stderr, "bruecke roster add-node: --role must be town, county or broker\n");
        return BC_EXIT_USAGE;
    }
    return s_edit_draft (command, options, s_edit_add_node);
}

static br_reason_t
s_edit_add_route (zconfig_t *draft, zhash_t *options)
{
    return br_roster_draft_add_route (draft, bc_option (options, "ags"),
                                      bc_option (options, "service"), bc_option (options, "node"));
}

static int
s_roster_add_route (const bc_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    return s_edit_draft (command, options, s_edit_add_route);
}

static br_reason_t
s_edit_revoke (zconfig_t *draft, zhash_t *options)
{
    return br_roster_draft_revoke (draft, bc_option (options, "node"));
}

static int
s_roster_revoke (const bc_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    return s_edit_draft (command, options, s_edit_revoke);
}

static int
s_roster_sign (const bc_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    int64_t days = S_DEFAULT_VALID_DAYS;
    if (bc_option (options, "valid-days") &&
        !bc_parse_number (bc_option (options, "valid-days"), 1, S_MAX_VALID_DAYS, &days)) {
        fprintf (stderr, "bruecke roster sign: --valid-days must be 1 to %d\n", S_MAX_VALID_DAYS);
        return BC_EXIT_USAGE;
    }
    const char *draft_path = bc_option (options, "draft");
    const char *out_path = bc_option (options, "out");
    br_reason_t reason;
    br_identity_t *county = br_identity_load (bc_option (options, "county-key"), &reason);
    if (!county)
        return bc_refused (command, reason, bc_option (options, "county-key"));
    zconfig_t *draft = s_load_draft (draft_path, &reason);
    if (!draft) {
        br_identity_destroy (&county);
        return bc_refused (command, reason, draft_path);
    }
    //  Never sign a version that does not move past the roster already out there
    int rc = BC_EXIT_OK;
    if (access (out_path, F_OK) == 0) {
        zchunk_t *existing = br_file_read (out_path, BR_ROSTER_MAX_SIZE, &reason);
        br_roster_t *previous =
            existing
                ? br_roster_verify (zchunk_data (existing), zchunk_size (existing),
                                    br_identity_sign_public (county), NULL, br_now_ms (), &reason)
                : NULL;
        int64_t version = 0;
        if (previous &&
            (!bc_parse_number (zconfig_get (draft, "roster/version", ""), 1, INT64_MAX, &version) ||
             (uint64_t) version <= br_roster_version (previous))) {
            zconfig_putf (draft, "roster/version", "%llu",
                          (unsigned long long) br_roster_version (previous) + 1);
        }
        br_roster_destroy (&previous);
        zchunk_destroy (&existing);
    }
    char *version = strdup (zconfig_get (draft, "roster/version", "?"));
    zchunk_t *signed_roster =
        br_roster_draft_sign (draft, county, br_now_ms (), days * BC_DAY_MS, &reason);
    if (!signed_roster)
        rc = bc_refused (command, reason, draft_path);
    else {
        reason = br_file_write (out_path, zchunk_data (signed_roster), zchunk_size (signed_roster),
                                0644, true);
        if (reason == BR_REASON_OK)
            reason = s_save_draft (draft, draft_path, true);
        if (reason != BR_REASON_OK)
            rc = bc_refused (command, reason, out_path);
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
s_verify_roster_argument (const bc_command_t *command, zhash_t *options, zlist_t *arguments,
                          int *rc)
{
    br_reason_t reason = BR_REASON_OK;
    br_roster_t *current = NULL;
    if (bc_option (options, "current")) {
        current = bc_load_roster (options, bc_option (options, "current"), NULL, &reason);
        if (!current) {
            *rc = bc_refused (command, reason, bc_option (options, "current"));
            return NULL;
        }
    }
    const char *path = (const char *) zlist_first (arguments);
    br_roster_t *roster = bc_load_roster (options, path, current, &reason);
    br_roster_destroy (&current);
    *rc = roster ? BC_EXIT_OK : bc_refused (command, reason, path);
    return roster;
}

static int
s_roster_verify (const bc_command_t *command, zhash_t *options, zlist_t *arguments)
{
    int rc;
    br_roster_t *roster = s_verify_roster_argument (command, options, arguments, &rc);
    if (roster)
        printf ("roster version %llu: valid\n", (unsigned long long) br_roster_version (roster));
    br_roster_destroy (&roster);
    return rc;
}

static int
s_roster_show (const bc_command_t *command, zhash_t *options, zlist_t *arguments)
{
    int rc;
    br_roster_t *roster = s_verify_roster_argument (command, options, arguments, &rc);
    if (roster)
        s_print_roster (roster);
    br_roster_destroy (&roster);
    return rc;
}

//  ---- The group's rows of the command table (columns: bc_command_t) -------

const bc_command_t bc_keys_commands[] = {
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
    {.name = NULL}, //  the end
};
