/*  =========================================================================
    bc_audit - the bruecke CLI's commands for the node's audit log
    =========================================================================
*/

#include "bc_audit.h"
#include "bn_audit.h"

static int
s_audit_verify (const bc_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    const char *state = bc_option (options, "state");
    //  Never create a store where there is none: it would verify nothing
    char *data_path = bc_path_join (state, "data", ".mdb");
    bool exists = access (data_path, F_OK) == 0;
    zstr_free (&data_path);
    if (!exists)
        return bc_refused (command, BR_REASON_NOT_FOUND, "no node store in this directory");
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
        return bc_refused (command, reason, state);
    }
    if (reason != BR_REASON_OK)
        return bc_refused (command, reason, state);
    char hex[2 * BN_AUDIT_HASH_SIZE + 1];
    br_hex_encode (head_hash, sizeof (head_hash), hex);
    printf ("audit: %llu record%s, chain intact\n", (unsigned long long) checked,
            checked == 1 ? "" : "s");
    //  Kept elsewhere, the head hash also catches a rewritten chain
    printf ("audit head: record %llu, hash %s\n", (unsigned long long) head_sequence, hex);
    return BC_EXIT_OK;
}

//  ---- The group's rows of the command table (columns: bc_command_t) -------

const bc_command_t bc_audit_commands[] = {
    {"audit", "verify", "--state DIR",
     "Verifies the node's audit log in its state directory: finds an edited, deleted or\n"
     "re-ordered record. Prints the record count and the head hash, never a record.",
     "state", "", "state", 0, s_audit_verify},
    {.name = NULL}, //  the end
};
