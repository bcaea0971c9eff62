/*  =========================================================================
    br_roster - the county's signed list of nodes, keys and responsibilities

    The roster names every node (id, name, AGS, role, services, public keys,
    revoked or not) and maps each (AGS, service) pair to the node responsible
    for it. The county key signs its exact bytes; a node pins the county
    public key at enrollment and accepts a roster only if the signature holds,
    it is inside its validity, and it is not older than the one it has.

    A br_roster_t is always a verified roster; build new ones with
    br_roster_draft.
    =========================================================================
*/

#ifndef BR_ROSTER_H_INCLUDED
#define BR_ROSTER_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"
#include "br_util.h"

#define BR_ROSTER_MAX_SIZE      (1024 * 1024)   //  largest encoded SignedRoster
#define BR_ROSTER_MAX_NODES     1024            //  most nodes in a roster
#define BR_ROSTER_MAX_ROUTES    16384           //  most routes in a roster
#define BR_NAME_MAX             128             //  longest display name, bytes
#define BR_SERVICES_MAX         32              //  most services of one node
#define BR_AGS_TOWN_DIGITS      8               //  a municipality's AGS
#define BR_AGS_COUNTY_DIGITS    5               //  a Kreis's AGS
#define BR_ROSTER_CLOCK_SKEW_MS (5 * 60 * 1000) //  tolerated for issued_at_ms

typedef struct _br_roster_t br_roster_t;

//  Verifies and decodes an encoded SignedRoster. In this order it refuses:
//  more than BR_ROSTER_MAX_SIZE bytes (TOO_LARGE); undecodable (MALFORMED); a
//  signature that is not the county key's over the exact roster bytes
//  (ROSTER_BAD_SIGNATURE); inconsistent content (ROSTER_INVALID); a version
//  below `current`'s, or equal to it with other bytes (ROSTER_ROLLBACK); a
//  roster not yet issued or expired at `now_ms` (ROSTER_EXPIRED).
//  `current` may be NULL. Returns a roster the caller owns, or NULL and
//  sets *reason.
br_roster_t *br_roster_verify (const uint8_t *data, size_t size, const uint8_t county_public[32],
                               br_roster_t *current, int64_t now_ms, br_reason_t *reason);

//  Reads a file and verifies it as br_roster_verify does.
br_roster_t *br_roster_load (const char *path, const uint8_t county_public[32],
                             br_roster_t *current, int64_t now_ms, br_reason_t *reason);

//  Destroys the roster and nulls the pointer.
void br_roster_destroy (br_roster_t **self_p);

//  Checks a decoded roster's content: valid codes and names, unique node
//  ids and keys, 32-byte keys, routes to listed nodes, no (AGS, service)
//  pair routed twice, limits kept. Returns OK or ROSTER_INVALID.
br_reason_t br_roster_check_content (const Bruecke__Roster *roster) BR_WUR;

//  The roster's decoded content. Belongs to the roster.
const Bruecke__Roster *br_roster_content (br_roster_t *self);

//  Its version.
uint64_t br_roster_version (br_roster_t *self);

//  The longest validity of a consent the county allows (consent_days_max,
//  BR_ROSTER_CONSENT_DAYS_DEFAULT if it says 0), in milliseconds.
#define BR_ROSTER_CONSENT_DAYS_DEFAULT 730
#define BR_ROSTER_CONSENT_DAYS_LIMIT   3650
int64_t br_roster_consent_max_ms (br_roster_t *self);

//  The exact signed bytes (an encoded SignedRoster) for passing on unchanged.
const uint8_t *br_roster_signed_data (br_roster_t *self);
size_t br_roster_signed_size (br_roster_t *self);

//  Finds a node by id, revoked or not. Returns NULL if none.
const Bruecke__RosterNode *br_roster_lookup_by_id (br_roster_t *self, const char *node_id);

//  Finds the node whose own AGS is `ags` (the town's node, or the Kreis
//  administration's for a 5-digit key). Returns NULL if none.
const Bruecke__RosterNode *br_roster_lookup_by_ags (br_roster_t *self, const char *ags);

//  Finds a node by its Curve25519 transport public key. Returns NULL if none.
const Bruecke__RosterNode *br_roster_lookup_by_transport_key (br_roster_t *self,
                                                              const uint8_t key[32]);

//  Resolves which node is responsible for `service` in municipality `ags`.
//  Returns the node, or NULL and sets *reason: NO_ROUTE if no route names
//  the pair, NODE_REVOKED if the responsible node is revoked.
const Bruecke__RosterNode *br_roster_lookup_route (br_roster_t *self, const char *ags,
                                                   const char *service, br_reason_t *reason);

//  True if `node` lists `service` among its services.
bool br_roster_node_offers (const Bruecke__RosterNode *node, const char *service);

//  Returns the role's name ("town", "county", "broker") or "unspecified".
const char *br_roster_role_name (Bruecke__NodeRole role);

//  Parses a role name. Returns the role or BRUECKE__NODE_ROLE__ROLE_UNSPECIFIED.
Bruecke__NodeRole br_roster_role_parse (const char *name);

//  Self test of this class.
void br_roster_test (bool verbose);

#endif
