/*  =========================================================================
    bruecke-audit-fill - writes and tampers with a node's audit log, for tests

    Usage:
        bruecke-audit-fill DIR COUNT          appends COUNT invented records
                                              to the audit log of the node
                                              store in DIR (created if needed)
        bruecke-audit-fill --delete SEQ DIR   deletes record SEQ behind the
                                              log's back, straight through LMDB
        bruecke-audit-fill --swap SEQ DIR     swaps records SEQ and SEQ + 1

    The tampering goes around bn_audit on purpose: it is what someone with
    write access to the LMDB file could do. Exits 0 on success, 1 on failure,
    2 on a usage error. The records hold invented ids and no personal data.
    =========================================================================
*/

#include "bruecke.h"
#include "bn_audit.h"

//  The audit log's database, as bn_audit.h describes it.
#define S_AUDIT_DB "audit"
//  Size of a record key: the sequence, 8 bytes big-endian.
#define S_KEY_SIZE 8
//  Most records one run appends.
#define S_COUNT_MAX 1000000
//  Actions the invented records cycle through.
static const char *s_actions[] = {"case.create",   "case.read",        "consent.record",
                                  "referral.send", "referral.receive", "referral.status",
                                  "transfer.send"};
#define S_ACTION_COUNT (sizeof (s_actions) / sizeof (s_actions[0]))

static int
s_usage (void)
{
    fprintf (stderr, "usage: bruecke-audit-fill DIR COUNT\n"
                     "       bruecke-audit-fill --delete SEQ DIR\n"
                     "       bruecke-audit-fill --swap SEQ DIR\n");
    return 2;
}

//  Parses a whole decimal number in 1..max; false if it is not one.
static bool
s_parse (const char *text, uint64_t max, uint64_t *value)
{
    char *end = NULL;
    errno = 0;
    unsigned long long parsed = strtoull (text, &end, 10);
    if (!*text || *end || errno || parsed < 1 || parsed > max)
        return false;
    *value = parsed;
    return true;
}

//  Appends `count` invented records in one transaction.
static br_reason_t
s_fill (br_store_t *store, uint64_t count)
{
    br_reason_t reason;
    bn_audit_t *audit = bn_audit_new (store, &reason);
    if (!audit)
        return reason;
    MDB_txn *txn = NULL;
    reason = br_store_begin (store, true, &txn);
    int64_t now = br_now_ms ();
    for (uint64_t index = 0; index < count && reason == BR_REASON_OK; index++) {
        char actor[32], object[2 * BR_MESSAGE_ID_SIZE + 1];
        snprintf (actor, sizeof (actor), "test-user-%u", (unsigned) (index % 3));
        snprintf (object, sizeof (object), "%016llx%016llx", (unsigned long long) index,
                  (unsigned long long) (index * 7919));
        reason = bn_audit_append (audit, txn, now + (int64_t) index, actor,
                                  s_actions[index % S_ACTION_COUNT], object, "invented record");
    }
    if (reason == BR_REASON_OK)
        reason = br_store_commit (&txn);
    br_store_abort (&txn);
    bn_audit_destroy (&audit);
    return reason;
}

//  Deletes record `sequence`, or swaps it with the next one, through LMDB.
static br_reason_t
s_tamper (br_store_t *store, uint64_t sequence, bool swap)
{
    MDB_dbi dbi;
    br_reason_t reason = br_store_open_db (store, S_AUDIT_DB, 0, &dbi);
    MDB_txn *txn = NULL;
    if (reason == BR_REASON_OK)
        reason = br_store_begin (store, true, &txn);
    if (reason != BR_REASON_OK)
        return reason;
    uint8_t key[S_KEY_SIZE], next_key[S_KEY_SIZE];
    br_put_u64 (key, sequence);
    br_put_u64 (next_key, sequence + 1);
    MDB_val key_val = {.mv_size = sizeof (key), .mv_data = key};
    int rc;
    if (swap) {
        MDB_val next_val = {.mv_size = sizeof (next_key), .mv_data = next_key};
        MDB_val first, second;
        rc = mdb_get (txn, dbi, &key_val, &first);
        if (rc == MDB_SUCCESS)
            rc = mdb_get (txn, dbi, &next_val, &second);
        //  Copies: the values point into the map, which the puts change
        zchunk_t *first_copy = rc == MDB_SUCCESS ? zchunk_new (first.mv_data, first.mv_size) : NULL;
        zchunk_t *second_copy =
            rc == MDB_SUCCESS ? zchunk_new (second.mv_data, second.mv_size) : NULL;
        if (rc == MDB_SUCCESS) {
            MDB_val value = {.mv_size = zchunk_size (second_copy),
                             .mv_data = zchunk_data (second_copy)};
            rc = mdb_put (txn, dbi, &key_val, &value, 0);
        }
        if (rc == MDB_SUCCESS) {
            MDB_val value = {.mv_size = zchunk_size (first_copy),
                             .mv_data = zchunk_data (first_copy)};
            rc = mdb_put (txn, dbi, &next_val, &value, 0);
        }
        zchunk_destroy (&first_copy);
        zchunk_destroy (&second_copy);
    } else
        rc = mdb_del (txn, dbi, &key_val, NULL);
    if (rc != MDB_SUCCESS) {
        fprintf (stderr, "bruecke-audit-fill: record %llu: %s\n", (unsigned long long) sequence,
                 mdb_strerror (rc));
        br_store_abort (&txn);
        return br_store_reason (rc);
    }
    return br_store_commit (&txn);
}

int
main (int argc, char *argv[])
{
    if (sodium_init () < 0)
        return 1;
    uint64_t number = 0;
    const char *directory = NULL;
    bool fill = false, swap = false;
    if (argc == 3 && argv[1][0] != '-' && s_parse (argv[2], S_COUNT_MAX, &number)) {
        directory = argv[1];
        fill = true;
    } else if (argc == 4 && (streq (argv[1], "--delete") || streq (argv[1], "--swap")) &&
               s_parse (argv[2], UINT64_MAX - 1, &number)) {
        directory = argv[3];
        swap = streq (argv[1], "--swap");
    } else
        return s_usage ();

    br_reason_t reason;
    br_store_t *store = br_store_new (directory, 0, &reason);
    if (store)
        reason = fill ? s_fill (store, number) : s_tamper (store, number, swap);
    br_store_destroy (&store);
    if (reason != BR_REASON_OK) {
        fprintf (stderr, "bruecke-audit-fill: %s: %s\n", directory, br_reason_name (reason));
        return 1;
    }
    return 0;
}
