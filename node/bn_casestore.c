/*  =========================================================================
    bn_casestore - the casework's records at rest
    =========================================================================
*/

#include "bruecke.h"
#include "bn_casestore.h"

struct _bn_casestore_t {
    bn_store_t *store;                   //  transactions of the migration
    br_store_t *env;                     //  the LMDB environment
    bn_vault_t *vault;                   //  seals records at rest
    MDB_dbi tables[BN_CASESTORE_TABLES]; //  id -> sealed record, by table
    MDB_dbi events;                      //  counter -> event
    MDB_dbi meta;                        //  "schema", "inventory"
    bool intact;                         //  at start, the records were those this node wrote last
};

//  The name and record type of each table: its name is also part of what
//  its records' seals are bound to.
static const struct {
    const char *name;                       //  name of the LMDB database
    const ProtobufCMessageDescriptor *type; //  its records' message type
} s_tables[BN_CASESTORE_TABLES] = {
    [BN_CASESTORE_CASES] = {"cases", &bruecke__store__case_record__descriptor},
    [BN_CASESTORE_CONSENTS] = {"consents", &bruecke__store__consent_record__descriptor},
    [BN_CASESTORE_REFERRALS] = {"referrals", &bruecke__store__referral_record__descriptor},
    [BN_CASESTORE_TRANSFERS] = {"transfers", &bruecke__store__transfer_record__descriptor},
    [BN_CASESTORE_EMERGENCY] = {"emergency", &bruecke__store__emergency_record__descriptor},
    [BN_CASESTORE_FORMS] = {"forms", &bruecke__store__signed_form__descriptor}};

//  ---- Records ----------------------------------------------------------------

void
bn_casestore_hex (const uint8_t *id, char hex[BN_ID_HEX])
{
    br_hex_encode (id, BN_ID_SIZE, hex);
}

bool
bn_casestore_id_parse (const char *hex, uint8_t id[BN_ID_SIZE])
{
    return hex && strlen (hex) == 2 * BN_ID_SIZE && br_hex_decode (hex, id, BN_ID_SIZE) == 0;
}

const char *
bn_casestore_office (json_t *record)
{
    return json_string_value (json_object_get (record, "office"));
}

//  What a record's seal is bound to (its associated data): the table's
//  name, a NUL, the id; from schema 4 on also the schema and the record's
//  revision (1 byte, then 8 big-endian). Returns its size.
#define S_CONTEXT_MAX (16 + BN_ID_SIZE + 1 + 8)
static size_t
s_context (bn_casestore_table_t table, const uint8_t *id, uint64_t schema, uint64_t revision,
           uint8_t context[S_CONTEXT_MAX])
{
    const char *name = s_tables[table].name;
    size_t size = strlen (name) + 1;
    memcpy (context, name, size);
    memcpy (context + size, id, BN_ID_SIZE);
    size += BN_ID_SIZE;
    if (schema >= 4) {
        context[size] = (uint8_t) schema;
        br_put_u64 (context + size + 1, revision);
        size += 1 + 8;
    }
    return size;
}

//  A stored record (schema 4): the schema (1 byte), its revision (8 bytes,
//  big-endian: 1 when first written, one more at each write), then the
//  sealed message.
#define S_HEADER_SIZE (1 + 8)

//  The revision of the record at `id` of `table`, 0 if there is none.
static uint64_t
s_revision (bn_casestore_t *self, MDB_txn *txn, bn_casestore_table_t table, const uint8_t *id)
{
    const void *stored;
    size_t size;
    if (br_store_get (txn, self->tables[table], id, BN_ID_SIZE, &stored, &size) != BR_REASON_OK ||
        size < S_HEADER_SIZE || *(const uint8_t *) stored != BN_CASEWORK_SCHEMA)
        return 0;
    return br_get_u64 ((const uint8_t *) stored + 1);
}

//  ---- Inventory ----------------------------------------------------------------

#define S_INVENTORY "inventory"

//  Folds record `id` of `table` at `revision` into `inventory`.
static void
s_inventory_fold (bn_casestore_t *self, bn_casestore_table_t table, const uint8_t *id,
                  uint64_t revision, uint8_t inventory[BN_VAULT_TAG_SIZE])
{
    uint8_t context[S_CONTEXT_MAX];
    size_t size = s_context (table, id, BN_CASEWORK_SCHEMA, revision, context);
    uint8_t mac[BN_VAULT_TAG_SIZE];
    bn_vault_mac (self->vault, "bruecke record inventory", context, size, mac);
    for (size_t index = 0; index < BN_VAULT_TAG_SIZE; index++)
        inventory[index] ^= mac[index];
}

//  The inventory as `txn` sees it, into `inventory` (zeros for none).
static br_reason_t
s_inventory_get (bn_casestore_t *self, MDB_txn *txn, uint8_t inventory[BN_VAULT_TAG_SIZE])
{
    memset (inventory, 0, BN_VAULT_TAG_SIZE);
    const void *stored;
    size_t size;
    br_reason_t reason =
        br_store_get (txn, self->meta, S_INVENTORY, strlen (S_INVENTORY), &stored, &size);
    if (reason == BR_REASON_OK && size == BN_VAULT_TAG_SIZE)
        memcpy (inventory, stored, size);
    return reason == BR_REASON_NOT_FOUND ? BR_REASON_OK : reason;
}

//  Record `id` of `table` goes from revision `from` to `to` (0: none).
static br_reason_t
s_inventory_move (bn_casestore_t *self, MDB_txn *txn, bn_casestore_table_t table, const uint8_t *id,
                  uint64_t from, uint64_t to)
{
    uint8_t inventory[BN_VAULT_TAG_SIZE];
    br_reason_t reason = s_inventory_get (self, txn, inventory);
    if (reason != BR_REASON_OK)
        return reason;
    if (from)
        s_inventory_fold (self, table, id, from, inventory);
    if (to)
        s_inventory_fold (self, table, id, to, inventory);
    return br_store_put (txn, self->meta, S_INVENTORY, strlen (S_INVENTORY), inventory,
                         sizeof (inventory), 0);
}

//  Whether the records are those this node wrote last: their inventory
//  from the store's contents (headers only, nothing is opened) against the
//  one kept. Returns OK and *intact, or a store reason.
static br_reason_t
s_inventory_check (bn_casestore_t *self, bool *intact)
{
    MDB_txn *txn = NULL;
    br_reason_t reason = br_store_begin (self->env, false, &txn);
    uint8_t found[BN_VAULT_TAG_SIZE] = {0};
    bool strangers = false; //  values that are no record of this schema
    for (int table = 0; table < BN_CASESTORE_TABLES && reason == BR_REASON_OK; table++) {
        MDB_cursor *cursor;
        int rc = mdb_cursor_open (txn, self->tables[table], &cursor);
        reason = br_store_reason (rc);
        MDB_val key, value;
        for (rc = rc ? rc : mdb_cursor_get (cursor, &key, &value, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) {
            const uint8_t *header = (const uint8_t *) value.mv_data;
            if (key.mv_size == BN_ID_SIZE && value.mv_size >= S_HEADER_SIZE &&
                header[0] == BN_CASEWORK_SCHEMA)
                s_inventory_fold (self, (bn_casestore_table_t) table, (const uint8_t *) key.mv_data,
                                  br_get_u64 (header + 1), found);
            else
                strangers = true;
        }
        if (reason == BR_REASON_OK)
            mdb_cursor_close (cursor);
    }
    uint8_t kept[BN_VAULT_TAG_SIZE];
    if (reason == BR_REASON_OK)
        reason = s_inventory_get (self, txn, kept);
    br_store_abort (&txn);
    *intact =
        reason == BR_REASON_OK && !strangers && sodium_memcmp (found, kept, sizeof (kept)) == 0;
    return reason;
}

//  ---- Sealed records -------------------------------------------------------------

br_reason_t
bn_casestore_seal (bn_casestore_t *self, MDB_txn *txn, bn_casestore_table_t table,
                   const uint8_t *id, const void *plain, size_t size)
{
    assert (self && txn && table < BN_CASESTORE_TABLES && id);
    uint64_t revision = s_revision (self, txn, table, id) + 1;
    uint8_t context[S_CONTEXT_MAX];
    size_t context_size = s_context (table, id, BN_CASEWORK_SCHEMA, revision, context);
    zchunk_t *sealed = bn_vault_seal (self->vault, context, context_size, plain, size);
    uint8_t header[S_HEADER_SIZE] = {BN_CASEWORK_SCHEMA};
    br_put_u64 (header + 1, revision);
    zchunk_t *stored = zchunk_new (header, sizeof (header));
    zchunk_extend (stored, zchunk_data (sealed), zchunk_size (sealed));
    br_reason_t reason = br_store_put (txn, self->tables[table], id, BN_ID_SIZE,
                                       zchunk_data (stored), zchunk_size (stored), 0);
    if (reason == BR_REASON_OK)
        reason = s_inventory_move (self, txn, table, id, revision - 1, revision);
    zchunk_destroy (&stored);
    zchunk_destroy (&sealed);
    return reason;
}

br_reason_t
bn_casestore_open (bn_casestore_t *self, MDB_txn *txn, bn_casestore_table_t table,
                   const uint8_t *id, zchunk_t **plain_p)
{
    assert (self && txn && table < BN_CASESTORE_TABLES && id && plain_p);
    const void *stored;
    size_t size;
    br_reason_t reason = br_store_get (txn, self->tables[table], id, BN_ID_SIZE, &stored, &size);
    if (reason != BR_REASON_OK)
        return reason;
    const uint8_t *header = (const uint8_t *) stored;
    if (size < S_HEADER_SIZE || header[0] != BN_CASEWORK_SCHEMA)
        return BR_REASON_DECRYPT_FAILED;
    uint8_t context[S_CONTEXT_MAX];
    size_t context_size =
        s_context (table, id, BN_CASEWORK_SCHEMA, br_get_u64 (header + 1), context);
    return bn_vault_open (self->vault, context, context_size, header + S_HEADER_SIZE,
                          size - S_HEADER_SIZE, plain_p);
}

br_reason_t
bn_casestore_get (bn_casestore_t *self, MDB_txn *txn, bn_casestore_table_t table, const uint8_t *id,
                  json_t **record_p)
{
    assert (record_p);
    *record_p = NULL;
    zchunk_t *plain = NULL;
    br_reason_t reason = bn_casestore_open (self, txn, table, id, &plain);
    if (reason != BR_REASON_OK)
        return reason;
    reason =
        bn_record_decode (s_tables[table].type, zchunk_data (plain), zchunk_size (plain), record_p);
    sodium_memzero (zchunk_data (plain), zchunk_size (plain));
    zchunk_destroy (&plain);
    return reason;
}

br_reason_t
bn_casestore_put (bn_casestore_t *self, MDB_txn *txn, bn_casestore_table_t table, const uint8_t *id,
                  json_t *record)
{
    assert (self && table < BN_CASESTORE_TABLES && record);
    const ProtobufCMessageDescriptor *type = s_tables[table].type;
    zchunk_t *plain = NULL;
    char problem[BN_RECORD_PROBLEM_MAX];
    br_reason_t reason = bn_record_encode (type, record, &plain, problem);
    if (reason != BR_REASON_OK) {
        //  Names a field, never a value
        zsys_error ("casework: a record for %s does not fit its type (%s)", s_tables[table].name,
                    problem);
        return reason;
    }
    json_t *stored = NULL;
    reason = bn_record_decode (type, zchunk_data (plain), zchunk_size (plain), &stored);
    if (reason == BR_REASON_OK) {
        json_object_clear (record);
        json_object_update (record, stored);
        reason = bn_casestore_seal (self, txn, table, id, zchunk_data (plain), zchunk_size (plain));
    }
    json_decref (stored);
    sodium_memzero (zchunk_data (plain), zchunk_size (plain));
    zchunk_destroy (&plain);
    return reason;
}

//  The record ids of `table` as `txn` sees them, in a new list in *ids_p
//  (also on failure), so that the caller may write while it goes through
//  them. Returns OK or a store reason.
static br_reason_t
s_ids (bn_casestore_t *self, MDB_txn *txn, bn_casestore_table_t table, zlistx_t **ids_p)
{
    zlistx_t *ids = zlistx_new ();
    zlistx_set_destructor (ids, (zlistx_destructor_fn *) zstr_free);
    *ids_p = ids;
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (txn, self->tables[table], &cursor);
    if (rc != 0)
        return br_store_reason (rc);
    MDB_val key, value;
    for (rc = mdb_cursor_get (cursor, &key, &value, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT))
        if (key.mv_size == BN_ID_SIZE) {
            char *copy = (char *) malloc (BN_ID_SIZE);
            memcpy (copy, key.mv_data, BN_ID_SIZE);
            zlistx_add_end (ids, copy);
        }
    mdb_cursor_close (cursor);
    return BR_REASON_OK;
}

br_reason_t
bn_casestore_each (bn_casestore_t *self, MDB_txn *txn, bn_casestore_table_t table,
                   bn_casestore_each_fn *each, void *argument)
{
    assert (self && txn && each);
    //  Collect the ids first: `each` may write to the same database
    zlistx_t *ids = NULL;
    br_reason_t reason = s_ids (self, txn, table, &ids);
    for (char *id = (char *) zlistx_first (ids); id && reason == BR_REASON_OK;
         id = (char *) zlistx_next (ids)) {
        json_t *record = NULL;
        reason = bn_casestore_get (self, txn, table, (const uint8_t *) id, &record);
        if (reason == BR_REASON_OK)
            reason = each (txn, (const uint8_t *) id, record, argument);
        json_decref (record);
    }
    zlistx_destroy (&ids);
    return reason;
}

//  ---- Events -------------------------------------------------------------------

br_reason_t
bn_casestore_event (bn_casestore_t *self, MDB_txn *txn, const char *kind, const uint8_t *id,
                    const char *state, json_t *record, int64_t now)
{
    assert (self && txn && kind && id && state);
    uint64_t sequence = 1;
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (txn, self->events, &cursor);
    if (rc != 0)
        return br_store_reason (rc);
    MDB_val key, value;
    if (mdb_cursor_get (cursor, &key, &value, MDB_LAST) == 0 && key.mv_size == 8)
        sequence = br_get_u64 ((const uint8_t *) key.mv_data) + 1;
    mdb_cursor_close (cursor);
    char hex[BN_ID_HEX];
    bn_casestore_hex (id, hex);
    const char *office = bn_casestore_office (record);
    json_t *event =
        json_pack ("{sI sI ss ss ss ss}", "seq", (json_int_t) sequence, "at_ms", (json_int_t) now,
                   "kind", kind, "id", hex, "state", state, "office", office ? office : "");
    char *text = json_dumps (event, JSON_COMPACT);
    json_decref (event);
    uint8_t event_key[8];
    br_put_u64 (event_key, sequence);
    br_reason_t reason =
        br_store_put (txn, self->events, event_key, sizeof (event_key), text, strlen (text), 0);
    free (text);
    return reason;
}

br_reason_t
bn_casestore_events (bn_casestore_t *self, MDB_txn *txn, uint64_t after, const char *offices,
                     size_t max, json_t *events, uint64_t *next)
{
    assert (self && txn && offices && json_is_array (events) && next);
    *next = after;
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (txn, self->events, &cursor);
    if (rc != 0)
        return br_store_reason (rc);
    uint8_t start[8];
    br_put_u64 (start, after + 1);
    MDB_val key = {.mv_size = sizeof (start), .mv_data = start}, value;
    for (rc = mdb_cursor_get (cursor, &key, &value, MDB_SET_RANGE);
         rc == 0 && json_array_size (events) < max;
         rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) {
        json_t *event = json_loadb ((const char *) value.mv_data, value.mv_size, 0, NULL);
        const char *office = json_string_value (json_object_get (event, "office"));
        if (event && office && bn_routes_office_in (offices, office))
            json_array_append_new (events, event);
        else
            json_decref (event);
        *next = br_get_u64 ((const uint8_t *) key.mv_data);
    }
    mdb_cursor_close (cursor);
    return BR_REASON_OK;
}

//  ---- Migration ----------------------------------------------------------------------

json_t *
bn_casestore_texts (json_t *object)
{
    json_t *texts = json_object ();
    const char *keyword;
    json_t *value;
    json_object_foreach (object, keyword, value)
    {
        char *text = json_is_string (value) ? NULL : json_dumps (value, JSON_ENCODE_ANY);
        json_object_set_new (texts, keyword, text ? json_string (text) : json_incref (value));
        free (text);
    }
    return texts;
}

//  The office of a record made before records named their office (schema
//  1): a case's or referral's service, an incoming transfer's own service,
//  or else the office of the record's case. NULL if none can be told.
static const char *
s_office_before (bn_casestore_t *self, MDB_txn *txn, json_t *record)
{
    const char *office = json_string_value (json_object_get (record, "service"));
    const char *direction = json_string_value (json_object_get (record, "direction"));
    if (!office && direction && streq (direction, "incoming"))
        office = json_string_value (json_object_get (json_object_get (record, "to"), "service"));
    uint8_t case_id[BN_ID_SIZE];
    json_t *found = NULL;
    if (!office &&
        bn_casestore_id_parse (json_string_value (json_object_get (record, "case_id")), case_id) &&
        bn_casestore_get (self, txn, BN_CASESTORE_CASES, case_id, &found) == BR_REASON_OK) {
        json_object_set (record, "office", json_object_get (found, "service"));
        office = bn_casestore_office (record);
    }
    json_decref (found);
    return office;
}

//  Gives each event of schema 1 the office of its record.
static br_reason_t
s_migrate_events (bn_casestore_t *self, MDB_txn *txn)
{
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (txn, self->events, &cursor);
    if (rc != 0)
        return br_store_reason (rc);
    br_reason_t reason = BR_REASON_OK;
    MDB_val key, value;
    for (rc = mdb_cursor_get (cursor, &key, &value, MDB_FIRST); rc == 0 && reason == BR_REASON_OK;
         rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) {
        json_t *event = json_loadb ((const char *) value.mv_data, value.mv_size, 0, NULL);
        const char *kind = json_string_value (json_object_get (event, "kind"));
        uint8_t id[BN_ID_SIZE];
        json_t *record = NULL;
        if (event && kind && !json_object_get (event, "office") &&
            bn_casestore_id_parse (json_string_value (json_object_get (event, "id")), id)) {
            bn_casestore_table_t table = streq (kind, "case")       ? BN_CASESTORE_CASES
                                         : streq (kind, "consent")  ? BN_CASESTORE_CONSENTS
                                         : streq (kind, "referral") ? BN_CASESTORE_REFERRALS
                                                                    : BN_CASESTORE_TRANSFERS;
            json_object_set_new (
                event, "office",
                json_string (bn_casestore_get (self, txn, table, id, &record) == BR_REASON_OK &&
                                     bn_casestore_office (record)
                                 ? bn_casestore_office (record)
                                 : ""));
            char *text = json_dumps (event, JSON_COMPACT);
            uint8_t event_key[8];
            memcpy (event_key, key.mv_data, sizeof (event_key));
            reason = br_store_put (txn, self->events, event_key, sizeof (event_key), text,
                                   strlen (text), 0);
            free (text);
        }
        json_decref (record);
        json_decref (event);
    }
    mdb_cursor_close (cursor);
    return reason;
}

//  Opens a record as an earlier schema sealed it: without binding before
//  schema 3, bound to table and id in schema 3. Returns as
//  bn_casestore_open.
static br_reason_t
s_open_before (bn_casestore_t *self, MDB_txn *txn, bn_casestore_table_t table, const uint8_t *id,
               uint64_t schema, zchunk_t **plain_p)
{
    const void *sealed;
    size_t size;
    br_reason_t reason = br_store_get (txn, self->tables[table], id, BN_ID_SIZE, &sealed, &size);
    if (reason != BR_REASON_OK)
        return reason;
    if (schema < 3)
        return bn_vault_open_unbound (self->vault, sealed, size, plain_p);
    uint8_t context[S_CONTEXT_MAX];
    size_t context_size = s_context (table, id, schema, 0, context);
    return bn_vault_open (self->vault, context, context_size, sealed, size, plain_p);
}

//  A record of an earlier schema, its JSON text in `plain`, as a record of
//  this one: a signed form was its content type, a NUL, the bytes; a
//  record without an office (schema 1) gets the one it can be told; a
//  case's details become texts (they could be any JSON before).
static br_reason_t
s_migrate_record (bn_casestore_t *self, MDB_txn *txn, bn_casestore_table_t table, const uint8_t *id,
                  uint64_t schema, zchunk_t *plain)
{
    const uint8_t *data = zchunk_data (plain);
    size_t size = zchunk_size (plain);
    if (table == BN_CASESTORE_FORMS) {
        const uint8_t *nul = (const uint8_t *) memchr (data, 0, size);
        if (!nul)
            return BR_REASON_MALFORMED;
        Bruecke__Store__SignedForm form = BRUECKE__STORE__SIGNED_FORM__INIT;
        form.content_type = (char *) data;
        form.has_data = true;
        form.data.data = (uint8_t *) nul + 1;
        form.data.len = (size_t) (data + size - nul - 1);
        zchunk_t *message = br_proto_encode (&form.base);
        br_reason_t reason =
            bn_casestore_seal (self, txn, table, id, zchunk_data (message), zchunk_size (message));
        sodium_memzero (zchunk_data (message), zchunk_size (message));
        zchunk_destroy (&message);
        return reason;
    }
    json_t *record = json_loadb ((const char *) data, size, 0, NULL);
    if (!json_is_object (record)) {
        json_decref (record);
        return BR_REASON_MALFORMED;
    }
    if (schema < 2 && !bn_casestore_office (record)) {
        const char *office = s_office_before (self, txn, record);
        if (office)
            json_object_set_new (record, "office", json_string (office));
    }
    json_t *details = json_object_get (record, "details");
    const char *category;
    json_t *value;
    json_object_foreach (details, category, value)
    {
        json_object_set_new (details, category, bn_casestore_texts (value));
    }
    br_reason_t reason = bn_casestore_put (self, txn, table, id, record);
    json_decref (record);
    return reason;
}

//  Rewrites every record of `table` of `schema` as a record of this
//  schema, its first revision. Returns OK or why one could not be (logged).
static br_reason_t
s_migrate_table (bn_casestore_t *self, MDB_txn *txn, bn_casestore_table_t table, uint64_t schema)
{
    zlistx_t *ids = NULL;
    br_reason_t reason = s_ids (self, txn, table, &ids);
    for (char *id = (char *) zlistx_first (ids); id && reason == BR_REASON_OK;
         id = (char *) zlistx_next (ids)) {
        zchunk_t *plain = NULL;
        reason = s_open_before (self, txn, table, (const uint8_t *) id, schema, &plain);
        //  Written anew, as its first revision
        MDB_val key = {BN_ID_SIZE, id};
        if (reason == BR_REASON_OK)
            reason = br_store_reason (mdb_del (txn, self->tables[table], &key, NULL));
        if (reason == BR_REASON_OK)
            reason = s_migrate_record (self, txn, table, (const uint8_t *) id, schema, plain);
        if (plain)
            sodium_memzero (zchunk_data (plain), zchunk_size (plain));
        zchunk_destroy (&plain);
    }
    zlistx_destroy (&ids);
    if (reason != BR_REASON_OK)
        zsys_error ("casework: a record of %s could not be migrated from schema %llu (%s)",
                    s_tables[table].name, (unsigned long long) schema, br_reason_name (reason));
    return reason;
}

//  Brings a store made by an earlier version to BN_CASEWORK_SCHEMA, in one
//  transaction; refuses one made by a later version.
static br_reason_t
s_migrate (bn_casestore_t *self)
{
    uint64_t schema = 0;
    br_reason_t reason = br_store_counter_get (self->env, self->meta, "schema", &schema);
    if (reason != BR_REASON_OK || schema == BN_CASEWORK_SCHEMA)
        return reason;
    if (schema > BN_CASEWORK_SCHEMA) {
        zsys_error ("casework: the store was made by a newer bruecke (schema %llu; this one "
                    "knows %d): start the newer version, or restore a backup made for this one",
                    (unsigned long long) schema, BN_CASEWORK_SCHEMA);
        return BR_REASON_INVALID_STATE;
    }
    MDB_txn *txn = NULL;
    reason = bn_store_begin (self->store, &txn);
    //  Every record becomes a typed one (schema 4), in the tables' order
    for (int table = 0; table < BN_CASESTORE_TABLES && reason == BR_REASON_OK; table++)
        reason = s_migrate_table (self, txn, (bn_casestore_table_t) table, schema);
    //  Schema 2: events name their record's office
    if (reason == BR_REASON_OK && schema < 2)
        reason = s_migrate_events (self, txn);
    if (reason == BR_REASON_OK)
        reason = br_store_counter_put (txn, self->meta, "schema", BN_CASEWORK_SCHEMA);
    if (reason == BR_REASON_OK)
        reason = bn_store_commit (self->store, &txn);
    bn_store_abort (self->store, &txn);
    if (reason == BR_REASON_OK && br_store_count (self->env, self->tables[BN_CASESTORE_CASES]) > 0)
        zsys_info ("casework: store migrated from schema %llu to %d", (unsigned long long) schema,
                   BN_CASEWORK_SCHEMA);
    return reason;
}

//  ---- Life cycle -------------------------------------------------------------------

bn_casestore_t *
bn_casestore_new (bn_store_t *store, bn_vault_t *vault, br_reason_t *reason)
{
    assert (store && vault && reason);
    bn_casestore_t *self = (bn_casestore_t *) zmalloc (sizeof (bn_casestore_t));
    self->store = store;
    self->env = bn_store_env (store);
    self->vault = vault;
    MDB_dbi *tables = self->tables;
    const br_store_db_t dbs[] = {{"cases", &tables[BN_CASESTORE_CASES]},
                                 {"consents", &tables[BN_CASESTORE_CONSENTS]},
                                 {"referrals", &tables[BN_CASESTORE_REFERRALS]},
                                 {"transfers", &tables[BN_CASESTORE_TRANSFERS]},
                                 {"events", &self->events},
                                 {"casework-meta", &self->meta},
                                 {"emergency", &tables[BN_CASESTORE_EMERGENCY]},
                                 {"forms", &tables[BN_CASESTORE_FORMS]}};
    *reason = br_store_open_dbs (self->env, dbs, (sizeof (dbs) / sizeof (dbs[0])));
    if (*reason == BR_REASON_OK)
        *reason = s_migrate (self);
    if (*reason == BR_REASON_OK)
        *reason = s_inventory_check (self, &self->intact);
    if (*reason == BR_REASON_OK && !self->intact)
        zsys_error ("casework: the records are not those this node wrote last: one was put back "
                    "from an earlier copy, removed or added outside bruecke; the node serves "
                    "on, and GET /v1/audit/verify reports it (records_intact)");
    if (*reason != BR_REASON_OK)
        bn_casestore_destroy (&self);
    return self;
}

void
bn_casestore_destroy (bn_casestore_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

bool
bn_casestore_intact (bn_casestore_t *self)
{
    assert (self);
    return self->intact;
}

//  ---- Self test ----------------------------------------------------------------------

void
bn_casestore_test (bool verbose)
{
    if (verbose)
        printf (" * bn_casestore: ");
    //  @selftest
    char *directory = br_temp_directory ("bn_casestore");
    assert (directory);
    br_reason_t reason;
    bn_store_t *store = bn_store_new (directory, BR_STORE_DEFAULT_MAPSIZE, &reason);
    assert (store);
    char *key_path = zsys_sprintf ("%s/data.key", directory);
    bn_vault_t *vault = bn_vault_load (key_path, true, &reason);
    assert (vault);
    zstr_free (&key_path);
    bn_casestore_t *self = bn_casestore_new (store, vault, &reason);
    assert (self && bn_casestore_intact (self));

    //  A store of schema 1 (records without their office, sealed without
    //  binding to their place) is migrated at start
    uint8_t old_ids[4][BN_ID_SIZE];
    char old_hex[4][BN_ID_HEX];
    for (size_t index = 0; index < 4; index++) {
        randombytes_buf (old_ids[index], BN_ID_SIZE);
        bn_casestore_hex (old_ids[index], old_hex[index]);
    }
    json_t *old_records[4] = {
        json_pack ("{ss ss ss ss s[{ss ss si}] s{s{si ss}}}", "id", old_hex[0], "kind", "person",
                   "service", "jobcenter", "state", "open", "members", "name", "Ida Alt", "role",
                   "self", "age", 50, "details", "language", "Stufe", 2, "Kind", "spricht Deutsch"),
        json_pack ("{ss ss ss}", "id", old_hex[1], "case_id", old_hex[0], "status", "active"),
        json_pack ("{ss ss ss ss}", "id", old_hex[2], "direction", "incoming", "service",
                   "fruehe-hilfen", "state", "received"),
        json_pack ("{ss ss ss s{ss}}", "id", old_hex[3], "direction", "outgoing", "case_id",
                   old_hex[0], "to", "service", "jugendamt")};
    MDB_dbi cases = self->tables[BN_CASESTORE_CASES];
    MDB_dbi consents = self->tables[BN_CASESTORE_CONSENTS];
    MDB_txn *txn = NULL;
    assert (bn_store_begin (store, &txn) == BR_REASON_OK);
    for (size_t index = 0; index < 4; index++) {
        char *old_text = json_dumps (old_records[index], JSON_COMPACT);
        zchunk_t *old_sealed = bn_vault_seal_unbound (vault, old_text, strlen (old_text));
        assert (br_store_put (txn, self->tables[index], old_ids[index], BN_ID_SIZE,
                              zchunk_data (old_sealed), zchunk_size (old_sealed),
                              0) == BR_REASON_OK);
        zchunk_destroy (&old_sealed);
        free (old_text);
        json_decref (old_records[index]);
    }
    char *old_event = zsys_sprintf ("{\"seq\": 1, \"at_ms\": 1, \"kind\": \"consent\", "
                                    "\"id\": \"%s\", \"state\": \"active\"}",
                                    old_hex[1]);
    uint8_t event_key[8];
    br_put_u64 (event_key, 1);
    assert (br_store_put (txn, self->events, event_key, 8, old_event, strlen (old_event), 0) ==
            BR_REASON_OK);
    zstr_free (&old_event);
    assert (br_store_counter_put (txn, self->meta, "schema", 1) == BR_REASON_OK);
    assert (bn_store_commit (store, &txn) == BR_REASON_OK);
    bn_casestore_destroy (&self);
    self = bn_casestore_new (store, vault, &reason);
    assert (self && reason == BR_REASON_OK);
    const char *old_offices[4] = {"jobcenter", "jobcenter", "fruehe-hilfen", "jobcenter"};
    assert (bn_store_begin (store, &txn) == BR_REASON_OK);
    for (size_t index = 0; index < 4; index++) {
        json_t *migrated = NULL;
        assert (bn_casestore_get (self, txn, (bn_casestore_table_t) index, old_ids[index],
                                  &migrated) == BR_REASON_OK);
        assert (streq (bn_casestore_office (migrated), old_offices[index]));
        //  Details were any JSON before: now texts
        json_t *language = json_object_get (json_object_get (migrated, "details"), "language");
        assert (
            index > 0 ||
            (streq (json_string_value (json_object_get (language, "Stufe")), "2") &&
             streq (json_string_value (json_object_get (language, "Kind")), "spricht Deutsch")));
        json_decref (migrated);
    }
    //  Events name their record's office; the office's events are listed
    json_t *events = json_array ();
    uint64_t next = 0;
    assert (bn_casestore_events (self, txn, 0, "jobcenter", BN_EVENTS_MAX, events, &next) ==
            BR_REASON_OK);
    assert (json_array_size (events) == 1 && next == 1);
    json_array_clear (events);
    assert (bn_casestore_events (self, txn, 0, "jugendamt", BN_EVENTS_MAX, events, &next) ==
            BR_REASON_OK);
    assert (json_array_size (events) == 0 && next == 1);
    json_decref (events);
    assert (bn_store_commit (store, &txn) == BR_REASON_OK);
    //  The records are those the node wrote
    bool records_intact = false;
    assert (s_inventory_check (self, &records_intact) == BR_REASON_OK && records_intact);

    //  A record's revision and schema are bound to its seal
    const void *stored_data;
    size_t stored_size;
    assert (bn_store_begin (store, &txn) == BR_REASON_OK);
    assert (br_store_get (txn, cases, old_ids[0], BN_ID_SIZE, &stored_data, &stored_size) ==
            BR_REASON_OK);
    zchunk_t *earlier = zchunk_new (stored_data, stored_size);
    uint8_t *altered = (uint8_t *) malloc (stored_size);
    json_t *opened = NULL;
    for (size_t at = 0; at < S_HEADER_SIZE; at += S_HEADER_SIZE - 1) {
        memcpy (altered, stored_data, stored_size);
        altered[at] ^= 1;
        assert (br_store_put (txn, cases, old_ids[0], BN_ID_SIZE, altered, stored_size, 0) ==
                BR_REASON_OK);
        assert (bn_casestore_get (self, txn, BN_CASESTORE_CASES, old_ids[0], &opened) ==
                BR_REASON_DECRYPT_FAILED);
    }
    free (altered);
    //  A record put back from an earlier copy opens, but the inventory
    //  tells: the store reports it, and again all is well once it is undone
    assert (br_store_put (txn, cases, old_ids[0], BN_ID_SIZE, zchunk_data (earlier),
                          zchunk_size (earlier), 0) == BR_REASON_OK);
    assert (bn_casestore_get (self, txn, BN_CASESTORE_CASES, old_ids[0], &opened) == BR_REASON_OK);
    assert (s_revision (self, txn, BN_CASESTORE_CASES, old_ids[0]) == 1);
    assert (bn_casestore_put (self, txn, BN_CASESTORE_CASES, old_ids[0], opened) == BR_REASON_OK);
    assert (s_revision (self, txn, BN_CASESTORE_CASES, old_ids[0]) == 2);
    assert (br_store_get (txn, cases, old_ids[0], BN_ID_SIZE, &stored_data, &stored_size) ==
            BR_REASON_OK);
    zchunk_t *later = zchunk_new (stored_data, stored_size);
    assert (br_store_put (txn, cases, old_ids[0], BN_ID_SIZE, zchunk_data (earlier),
                          zchunk_size (earlier), 0) == BR_REASON_OK);
    assert (bn_store_commit (store, &txn) == BR_REASON_OK);
    json_decref (opened);
    assert (s_inventory_check (self, &records_intact) == BR_REASON_OK && !records_intact);
    bn_casestore_destroy (&self);
    self = bn_casestore_new (store, vault, &reason);
    assert (self && reason == BR_REASON_OK && !bn_casestore_intact (self));
    assert (bn_store_begin (store, &txn) == BR_REASON_OK);
    assert (br_store_put (txn, cases, old_ids[0], BN_ID_SIZE, zchunk_data (later),
                          zchunk_size (later), 0) == BR_REASON_OK);
    assert (bn_store_commit (store, &txn) == BR_REASON_OK);
    assert (s_inventory_check (self, &records_intact) == BR_REASON_OK && records_intact);
    zchunk_destroy (&earlier);
    zchunk_destroy (&later);

    //  A record moved to another id, or another table, does not open there
    assert (bn_store_begin (store, &txn) == BR_REASON_OK);
    const void *moved_data;
    size_t moved_size;
    assert (br_store_get (txn, cases, old_ids[0], BN_ID_SIZE, &moved_data, &moved_size) ==
            BR_REASON_OK);
    uint8_t *copied = (uint8_t *) malloc (moved_size);
    memcpy (copied, moved_data, moved_size);
    uint8_t elsewhere[BN_ID_SIZE] = {7};
    assert (br_store_put (txn, cases, elsewhere, BN_ID_SIZE, copied, moved_size, 0) ==
            BR_REASON_OK);
    assert (br_store_put (txn, consents, elsewhere, BN_ID_SIZE, copied, moved_size, 0) ==
            BR_REASON_OK);
    free (copied);
    json_t *swapped = NULL;
    assert (bn_casestore_get (self, txn, BN_CASESTORE_CASES, elsewhere, &swapped) ==
            BR_REASON_DECRYPT_FAILED);
    assert (bn_casestore_get (self, txn, BN_CASESTORE_CONSENTS, elsewhere, &swapped) ==
            BR_REASON_DECRYPT_FAILED);
    assert (!swapped);
    //  A store of a later schema is refused
    assert (br_store_counter_put (txn, self->meta, "schema", BN_CASEWORK_SCHEMA + 1) ==
            BR_REASON_OK);
    assert (bn_store_commit (store, &txn) == BR_REASON_OK);
    bn_casestore_destroy (&self);
    self = bn_casestore_new (store, vault, &reason);
    assert (!self && reason == BR_REASON_INVALID_STATE);
    bn_casestore_destroy (&self);

    bn_vault_destroy (&vault);
    bn_store_destroy (&store);
    assert (br_temp_directory_remove (&directory));
    //  @end
    if (verbose)
        printf ("OK\n");
}
