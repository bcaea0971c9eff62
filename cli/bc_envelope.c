/*  =========================================================================
    bc_envelope - the bruecke CLI's commands for envelopes
    =========================================================================
*/

#include "bc_envelope.h"

static int
s_envelope_create (const bc_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    bool by_consent = bc_option (options, "consent-id") != NULL;
    if (by_consent == (bc_option (options, "statute") != NULL)) {
        fprintf (
            stderr,
            "bruecke envelope create: give exactly one legal basis, --consent-id or --statute\n");
        return BC_EXIT_USAGE;
    }
    uint8_t consent_id[BR_CONSENT_ID_SIZE];
    if (by_consent &&
        br_hex_decode (bc_option (options, "consent-id"), consent_id, sizeof (consent_id)) != 0) {
        fprintf (stderr, "bruecke envelope create: --consent-id needs 32 hex digits\n");
        return BC_EXIT_USAGE;
    }
    br_reason_t reason;
    br_identity_t *sender = br_identity_load (bc_option (options, "key"), &reason);
    if (!sender)
        return bc_refused (command, reason, bc_option (options, "key"));
    br_roster_t *roster = bc_load_roster (options, bc_option (options, "roster"), NULL, &reason);
    if (!roster) {
        br_identity_destroy (&sender);
        return bc_refused (command, reason, bc_option (options, "roster"));
    }
    int rc = BC_EXIT_OK;
    const char *to = bc_option (options, "to");
    const char *service = bc_option (options, "service");
    const Bruecke__RosterNode *recipient = br_roster_lookup_by_id (roster, to);
    if (!recipient || recipient->revoked)
        rc = bc_refused (command, recipient ? BR_REASON_NODE_REVOKED : BR_REASON_UNKNOWN_NODE, to);
    else if (!br_roster_node_offers (recipient, service))
        rc = bc_refused (command, BR_REASON_NO_ROUTE, service);
    if (rc == BC_EXIT_OK) {
        int64_t now = br_now_ms ();
        Bruecke__Header header;
        uint8_t id[BR_MESSAGE_ID_SIZE];
        br_envelope_header_init (&header, id, BRUECKE__MESSAGE_TYPE__TYPE_TEST_NOTE,
                                 br_identity_node_id (sender), to, service, 1, now, BC_DAY_MS);
        zlist_t *categories = zlist_new ();
        char *category_text = strdup (bc_option (options, "categories"));
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
            attestation.statute = (char *) bc_option (options, "statute");
        attestation.purpose = (char *) bc_option (options, "purpose");
        attestation.data_categories = category_list;
        attestation.n_data_categories = category_count;
        attestation.recipient = (char *) to;
        attestation.recipient_service = (char *) service;
        attestation.valid_from_ms = now;
        attestation.valid_until_ms = now + BC_DAY_MS;
        reason = br_attestation_check (&attestation, &header, now);
        if (reason != BR_REASON_OK)
            rc = bc_refused (command, reason, "attestation");
        else {
            Bruecke__TestNote note = BRUECKE__TEST_NOTE__INIT;
            note.text = (char *) bc_option (options, "text");
            zchunk_t *envelope = br_envelope_build (sender, &header, &attestation, &note.base,
                                                    recipient->seal_public_key.data);
            reason = br_file_write (bc_option (options, "out"), zchunk_data (envelope),
                                    zchunk_size (envelope), 0600, false);
            if (reason != BR_REASON_OK)
                rc = bc_refused (command, reason, bc_option (options, "out"));
            else
                printf ("sealed test note %s -> %s/%s written to %s (%zu bytes)\n",
                        br_identity_node_id (sender), to, service, bc_option (options, "out"),
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
s_envelope_verify (const bc_command_t *command, zhash_t *options, zlist_t *arguments)
{
    const char *path = (const char *) zlist_first (arguments);
    int64_t now = br_now_ms ();
    if (bc_option (options, "at-ms") &&
        !bc_parse_number (bc_option (options, "at-ms"), 0, INT64_MAX, &now)) {
        fprintf (stderr, "bruecke envelope verify: --at-ms needs Unix milliseconds\n");
        return BC_EXIT_USAGE;
    }
    br_reason_t reason;
    br_roster_t *roster = bc_load_roster (options, bc_option (options, "roster"), NULL, &reason);
    if (!roster)
        return bc_refused (command, reason, bc_option (options, "roster"));
    br_identity_t *recipient = NULL;
    if (bc_option (options, "key")) {
        recipient = br_identity_load (bc_option (options, "key"), &reason);
        if (!recipient) {
            br_roster_destroy (&roster);
            return bc_refused (command, reason, bc_option (options, "key"));
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
    int rc = reason == BR_REASON_OK ? BC_EXIT_OK : bc_refused (command, reason, path);
    if (rc == BC_EXIT_OK)
        printf ("envelope valid: signed by %s\n", br_envelope_signer (envelope));
    br_envelope_destroy (&envelope);
    zchunk_destroy (&chunk);
    br_identity_destroy (&recipient);
    br_roster_destroy (&roster);
    return rc;
}

//  ---- The group's rows of the command table (columns: bc_command_t) -------

const bc_command_t bc_envelope_commands[] = {
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
    {.name = NULL}, //  the end
};
