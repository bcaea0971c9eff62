/*  =========================================================================
    br_roster_draft - the county office's editable roster, and signing it

    A draft is a ZPL document (zconfig) that IT staff can read and edit:

        roster
            county-ags = "05978"
            county-name = "Kreis Unna"
            version = "1"              # the version the next signature gets
            node
                id = "luenen"
                name = "Lünen"
                ags = "05978024"
                role = "town"          # town | county | broker
                services = "jobcenter,jugendamt"
                sign-public = "<64 hex digits>"
                transport-public = "<64 hex digits>"
                seal-public = "<64 hex digits>"
                revoked = "0"
            route
                ags = "05978024"
                service = "jugendamt"
                node = "luenen"

    Signing turns it into a Roster, checks the content as a verifier would,
    signs it with the county key, and raises the draft's version by one so
    the next roster can never repeat a version.
    =========================================================================
*/

#ifndef BR_ROSTER_DRAFT_H_INCLUDED
#define BR_ROSTER_DRAFT_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"
#include "br_identity.h"

//  Creates an empty draft at version 1. Caller owns it (zconfig_destroy).
zconfig_t *br_roster_draft_new (const char *county_ags, const char *county_name);

//  Adds a node with the public keys of `keys`. Refuses a duplicate node id
//  or an invalid field with ROSTER_INVALID. `services` is comma-separated.
br_reason_t br_roster_draft_add_node (zconfig_t *draft, br_identity_t *keys, const char *name,
                                      const char *ags, Bruecke__NodeRole role,
                                      const char *services) BR_WUR;

//  Routes (ags, service) to `node_id`. Refuses an unknown node or a pair
//  that is already routed with ROSTER_INVALID.
br_reason_t br_roster_draft_add_route (zconfig_t *draft, const char *ags, const char *service,
                                       const char *node_id) BR_WUR;

//  Marks a node revoked. Returns OK or NOT_FOUND.
br_reason_t br_roster_draft_revoke (zconfig_t *draft, const char *node_id) BR_WUR;

//  Builds the Roster from the draft (issued now, expiring after
//  `valid_ms`), checks it, signs it with `county` and returns the encoded
//  SignedRoster, which the caller owns; then raises the draft's version.
//  Returns NULL and sets *reason (ROSTER_INVALID) if the draft is bad.
zchunk_t *br_roster_draft_sign (zconfig_t *draft, br_identity_t *county, int64_t now_ms,
                                int64_t valid_ms, br_reason_t *reason);

//  Self test of this class.
void br_roster_draft_test (bool verbose);

#endif
