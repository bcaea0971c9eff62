/*  =========================================================================
    fuzz_fixture - the fixed world the fuzz targets and the corpus generator share
    =========================================================================
*/

#include "fuzz_fixture.h"

static fuzz_fixture_t *s_fixture = NULL;

//  Derives the identity `node_id` from the seed bytes first, first + 1, ...
static br_identity_t *
s_identity (const char *node_id, uint8_t first)
{
    uint8_t seed[BR_SEED_SIZE];
    for (size_t index = 0; index < sizeof (seed); index++)
        seed[index] = (uint8_t) (first + index);
    br_identity_t *identity = br_identity_new_from_seed (node_id, seed);
    FUZZ_CHECK (identity);
    return identity;
}

static void
s_add_node (zconfig_t *draft, br_identity_t *keys, const char *name, const char *ags,
            Bruecke__NodeRole role, const char *services)
{
    FUZZ_CHECK (br_roster_draft_add_node (draft, keys, name, ags, role, services) == BR_REASON_OK);
}

static void
s_add_route (zconfig_t *draft, const char *ags, const char *service, const char *node_id)
{
    FUZZ_CHECK (br_roster_draft_add_route (draft, ags, service, node_id) == BR_REASON_OK);
}

static void
s_fixture_destroy (void)
{
    if (s_fixture) {
        br_roster_destroy (&s_fixture->roster);
        zchunk_destroy (&s_fixture->roster_bytes);
        br_identity_destroy (&s_fixture->luenen);
        br_identity_destroy (&s_fixture->unna);
        br_identity_destroy (&s_fixture->county);
        br_identity_destroy (&s_fixture->kreis_unna);
        br_identity_destroy (&s_fixture->werne);
        free (s_fixture);
        s_fixture = NULL;
    }
}

zconfig_t *
fuzz_fixture_roster_draft (void)
{
    fuzz_fixture_t *fixture = fuzz_fixture ();
    zconfig_t *draft = br_roster_draft_new (FUZZ_COUNTY_AGS, FUZZ_COUNTY_NAME);
    s_add_node (draft, fixture->luenen, "L\xc3\xbcnen", "05978024", BRUECKE__NODE_ROLE__ROLE_TOWN,
                "jobcenter,jugendamt");
    s_add_node (draft, fixture->unna, "Unna", "05978036", BRUECKE__NODE_ROLE__ROLE_TOWN,
                "fruehe-hilfen,jugendamt");
    s_add_node (draft, fixture->kreis_unna, "Kreis Unna", "05978", BRUECKE__NODE_ROLE__ROLE_COUNTY,
                "gesundheitsamt,jugendamt");
    s_add_node (draft, fixture->werne, "Werne", "05978040", BRUECKE__NODE_ROLE__ROLE_TOWN,
                "jugendamt");
    FUZZ_CHECK (br_roster_draft_revoke (draft, "werne") == BR_REASON_OK);

    s_add_route (draft, "05978024", "jobcenter", "luenen");
    s_add_route (draft, "05978024", "jugendamt", "luenen");
    s_add_route (draft, "05978036", "fruehe-hilfen", "unna");
    s_add_route (draft, "05978036", "jugendamt", "unna");
    //  Bönen, Fröndenberg/Ruhr and Holzwickede have no youth office of
    //  their own: the Kreis administration is their Jugendamt.
    s_add_route (draft, "05978008", "jugendamt", "kreis-unna");
    s_add_route (draft, "05978012", "jugendamt", "kreis-unna");
    s_add_route (draft, "05978016", "jugendamt", "kreis-unna");
    s_add_route (draft, "05978024", "gesundheitsamt", "kreis-unna");
    s_add_route (draft, "05978036", "gesundheitsamt", "kreis-unna");
    s_add_route (draft, "05978040", "jugendamt", "werne");
    return draft;
}

fuzz_fixture_t *
fuzz_fixture (void)
{
    if (s_fixture)
        return s_fixture;
    FUZZ_CHECK (sodium_init () >= 0);
    s_fixture = (fuzz_fixture_t *) zmalloc (sizeof (fuzz_fixture_t));
    s_fixture->luenen = s_identity ("luenen", 0x00);
    s_fixture->unna = s_identity ("unna", 0x20);
    s_fixture->county = s_identity ("county", 0x40);
    s_fixture->kreis_unna = s_identity ("kreis-unna", 0x60);
    s_fixture->werne = s_identity ("werne", 0x80);

    zconfig_t *draft = fuzz_fixture_roster_draft ();
    br_reason_t reason;
    s_fixture->roster_bytes = br_roster_draft_sign (draft, s_fixture->county, FUZZ_ROSTER_ISSUED_MS,
                                                    FUZZ_ROSTER_VALID_MS, &reason);
    zconfig_destroy (&draft);
    FUZZ_CHECK (s_fixture->roster_bytes && reason == BR_REASON_OK);
    s_fixture->roster = br_roster_verify (
        zchunk_data (s_fixture->roster_bytes), zchunk_size (s_fixture->roster_bytes),
        br_identity_sign_public (s_fixture->county), NULL, FUZZ_NOW_MS, &reason);
    FUZZ_CHECK (s_fixture->roster && reason == BR_REASON_OK);
    FUZZ_CHECK (br_roster_version (s_fixture->roster) == FUZZ_ROSTER_VERSION);
    atexit (s_fixture_destroy);
    return s_fixture;
}

br_identity_t *
fuzz_fixture_identity (const char *node_id)
{
    fuzz_fixture_t *fixture = fuzz_fixture ();
    if (!node_id)
        return NULL;
    br_identity_t *identities[] = {fixture->luenen, fixture->unna, fixture->county,
                                   fixture->kreis_unna, fixture->werne};
    for (size_t index = 0; index < sizeof (identities) / sizeof (identities[0]); index++)
        if (streq (br_identity_node_id (identities[index]), node_id))
            return identities[index];
    return NULL;
}

//  ---- The Transferbörse ----------------------------------------------------

static fuzz_exchange_t *s_exchange = NULL;

static void
s_exchange_destroy (void)
{
    if (s_exchange) {
        for (size_t index = 0; index < FUZZ_ITEM_COUNT; index++)
            zchunk_destroy (&s_exchange->items[index]);
        for (size_t index = 0; index < FUZZ_EXCHANGE_RECORDS; index++)
            zchunk_destroy (&s_exchange->records[index]);
        br_roster_destroy (&s_exchange->roster);
        zchunk_destroy (&s_exchange->roster_bytes);
        br_identity_destroy (&s_exchange->broker);
        free (s_exchange);
        s_exchange = NULL;
    }
}

void
fuzz_fixture_item_id (size_t index, uint8_t id[BR_BOARD_ID_SIZE])
{
    FUZZ_CHECK (index < FUZZ_ITEM_COUNT);
    memset (id, FUZZ_EXCHANGE_ITEM_BYTE + (int) index, BR_BOARD_ID_SIZE);
}

//  Board item `index`, signed by its town.
static zchunk_t *
s_board_item (size_t index)
{
    fuzz_fixture_t *fixture = fuzz_fixture ();
    uint8_t id[BR_BOARD_ID_SIZE], offer_id[BR_BOARD_ID_SIZE];
    fuzz_fixture_item_id (index, id);
    fuzz_fixture_item_id (FUZZ_ITEM_LUENEN_OFFER, offer_id);
    int64_t published = FUZZ_NOW_MS - 10 * FUZZ_DAY_MS;
    if (index == FUZZ_ITEM_LUENEN_OFFER || index == FUZZ_ITEM_UNNA_OFFER) {
        bool luenen = index == FUZZ_ITEM_LUENEN_OFFER;
        char *luenen_topics[] = {"fruehe-hilfen"};
        char *unna_topics[] = {"sprachfoerderung", "elternbildung"};
        Bruecke__Offer offer = BRUECKE__OFFER__INIT;
        offer.offer_id.data = id;
        offer.offer_id.len = sizeof (id);
        offer.town = luenen ? "luenen" : "unna";
        offer.title =
            luenen ? "Willkommensbesuche f\xc3\xbcr Neugeborene" : "Sprachkitas im Quartier";
        offer.topics = luenen ? luenen_topics : unna_topics;
        offer.n_topics = luenen ? 1 : 2;
        offer.target_group = "Familien mit Neugeborenen";
        offer.results = "Drei von vier Familien nehmen den Besuch an";
        offer.pitfalls = "Datenschutz fr\xc3\xbch kl\xc3\xa4ren";
        offer.presentation = true;
        offer.coaching_hours = luenen ? 2 : 3;
        offer.capacity_per_quarter = luenen ? 40 : 9;
        offer.published_at_ms = published;
        return br_board_sign (luenen ? fixture->luenen : fixture->unna, &offer.base);
    }
    bool luenen = index == FUZZ_ITEM_LUENEN_REQUEST;
    Bruecke__ExchangeRequest request = BRUECKE__EXCHANGE_REQUEST__INIT;
    request.request_id.data = id;
    request.request_id.len = sizeof (id);
    request.town = luenen ? "luenen" : "unna";
    request.topic = luenen ? "kinderschutz" : "fruehe-hilfen";
    request.note = luenen ? "" : "F\xc3\xbcr das Familienb\xc3\xbcro";
    request.published_at_ms = published;
    return br_board_sign (luenen ? fixture->luenen : fixture->unna, &request.base);
}

//  Appends the completion of transfer `sequence` to `ledger`.
static void
s_ledger_append (br_ledger_t *ledger, br_roster_t *roster, uint64_t sequence)
{
    fuzz_fixture_t *fixture = fuzz_fixture ();
    bool luenen = sequence % 2 == 1; //  Lünen coaches in 1 and 3, Unna in 2
    br_ledger_completion_t completion;
    memset (&completion, 0, sizeof (completion));
    memset (completion.transfer_id, FUZZ_EXCHANGE_RECORD_BYTE + (int) sequence,
            BR_LEDGER_TRANSFER_ID_SIZE);
    snprintf (completion.provider, sizeof (completion.provider), luenen ? "luenen" : "unna");
    snprintf (completion.receiver, sizeof (completion.receiver), luenen ? "unna" : "luenen");
    snprintf (completion.topic, sizeof (completion.topic),
              luenen ? "fruehe-hilfen" : "sprachfoerderung");
    completion.hours = luenen ? 2 : 3;
    completion.completed_ms = FUZZ_NOW_MS - (int64_t) (4 - sequence) * 5 * FUZZ_DAY_MS;
    uint8_t provider[BR_SIGNATURE_SIZE], receiver[BR_SIGNATURE_SIZE];
    FUZZ_CHECK (br_ledger_sign (luenen ? fixture->luenen : fixture->unna, &completion, provider) ==
                BR_REASON_OK);
    FUZZ_CHECK (br_ledger_sign (luenen ? fixture->unna : fixture->luenen, &completion, receiver) ==
                BR_REASON_OK);
    uint64_t appended = 0;
    FUZZ_CHECK (br_ledger_append (ledger, NULL, &completion, provider, receiver, roster,
                                  completion.completed_ms + FUZZ_HOUR_MS,
                                  &appended) == BR_REASON_OK);
    FUZZ_CHECK (appended == sequence);
}

static void
s_ledger_record (void *argument, const br_ledger_record_t *record)
{
    fuzz_exchange_t *exchange = (fuzz_exchange_t *) argument;
    FUZZ_CHECK (record->sequence >= 1 && record->sequence <= FUZZ_EXCHANGE_RECORDS);
    exchange->records[record->sequence - 1] = zchunk_new (record->data, record->size);
}

//  Makes the ledger records in a ledger of their own, in a temporary store.
static void
s_ledger_records (fuzz_exchange_t *exchange)
{
    char *path = br_temp_directory ("fuzz_fixture");
    FUZZ_CHECK (path);
    br_reason_t reason;
    br_store_t *store = br_store_new (path, 0, &reason);
    FUZZ_CHECK (store);
    br_ledger_t *ledger = br_ledger_new (store, &reason);
    FUZZ_CHECK (ledger);
    for (uint64_t sequence = 1; sequence <= FUZZ_EXCHANGE_RECORDS; sequence++)
        s_ledger_append (ledger, exchange->roster, sequence);
    FUZZ_CHECK (br_ledger_read (ledger, 0, FUZZ_EXCHANGE_RECORDS, s_ledger_record, exchange) ==
                FUZZ_EXCHANGE_RECORDS);
    br_ledger_destroy (&ledger);
    br_store_destroy (&store);
    zdir_t *directory = zdir_new (path, NULL);
    FUZZ_CHECK (directory);
    zdir_remove (directory, true);
    zdir_destroy (&directory);
    zstr_free (&path);
}

fuzz_exchange_t *
fuzz_fixture_exchange (void)
{
    if (s_exchange)
        return s_exchange;
    fuzz_fixture_t *fixture = fuzz_fixture ();
    s_exchange = (fuzz_exchange_t *) zmalloc (sizeof (fuzz_exchange_t));
    s_exchange->broker = s_identity ("broker", 0xa0);
    zconfig_t *draft = fuzz_fixture_roster_draft ();
    FUZZ_CHECK (br_roster_draft_add_node (draft, s_exchange->broker, "Kreis Unna, Vermittlung",
                                          FUZZ_COUNTY_AGS, BRUECKE__NODE_ROLE__ROLE_BROKER,
                                          "") == BR_REASON_OK);
    br_reason_t reason;
    s_exchange->roster_bytes = br_roster_draft_sign (draft, fixture->county, FUZZ_ROSTER_ISSUED_MS,
                                                     FUZZ_ROSTER_VALID_MS, &reason);
    zconfig_destroy (&draft);
    FUZZ_CHECK (s_exchange->roster_bytes && reason == BR_REASON_OK);
    s_exchange->roster = br_roster_verify (
        zchunk_data (s_exchange->roster_bytes), zchunk_size (s_exchange->roster_bytes),
        br_identity_sign_public (fixture->county), NULL, FUZZ_NOW_MS, &reason);
    FUZZ_CHECK (s_exchange->roster && reason == BR_REASON_OK);
    for (size_t index = 0; index < FUZZ_ITEM_COUNT; index++)
        s_exchange->items[index] = s_board_item (index);
    s_ledger_records (s_exchange);
    //  Registered after the fixture's: runs first
    atexit (s_exchange_destroy);
    return s_exchange;
}

void
fuzz_fixture_agreement (Bruecke__Agreement *agreement)
{
    static uint8_t transfer_id[BR_BOARD_ID_SIZE], request_id[BR_BOARD_ID_SIZE],
        offer_id[BR_BOARD_ID_SIZE];
    memset (transfer_id, FUZZ_EXCHANGE_AGREEMENT_BYTE, sizeof (transfer_id));
    fuzz_fixture_item_id (FUZZ_ITEM_UNNA_REQUEST, request_id);
    fuzz_fixture_item_id (FUZZ_ITEM_LUENEN_OFFER, offer_id);
    bruecke__agreement__init (agreement);
    agreement->transfer_id.data = transfer_id;
    agreement->transfer_id.len = sizeof (transfer_id);
    agreement->request_id.data = request_id;
    agreement->request_id.len = sizeof (request_id);
    agreement->offer_id.data = offer_id;
    agreement->offer_id.len = sizeof (offer_id);
    agreement->provider = "luenen";
    agreement->receiver = "unna";
    agreement->topic = "fruehe-hilfen";
    agreement->hours = 2;
    agreement->quarter = FUZZ_EXCHANGE_QUARTER;
    agreement->why = "proposed luenen -> unna fruehe-hilfen 2 h: lowest utilisation";
    agreement->state = BRUECKE__AGREEMENT_STATE__AGREEMENT_SCHEDULED;
    agreement->provider_accepted = true;
    agreement->receiver_accepted = true;
    agreement->scheduled_for_ms = FUZZ_EXCHANGE_DONE_MS;
    agreement->proposed_at_ms = FUZZ_NOW_MS - 7 * FUZZ_DAY_MS;
    agreement->version = FUZZ_EXCHANGE_AGREEMENT_VERSION;
}

void
fuzz_check_failed (const char *condition, const char *file, int line)
{
    fprintf (stderr, "%s:%d: fuzz invariant failed: %s\n", file, line, condition);
    fflush (stderr);
    abort ();
}
