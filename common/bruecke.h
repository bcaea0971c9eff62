/*  =========================================================================
    bruecke - the common library shared by the node, the broker and the CLI

    Include this one header to get every class of the common library.
    =========================================================================
*/

#ifndef BRUECKE_H_INCLUDED
#define BRUECKE_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"
#include "br_util.h"
#include "br_proto.h"
#include "br_identity.h"
#include "br_seal.h"
#include "br_attestation.h"
#include "br_catalogue.h"
#include "br_states.h"
#include "br_roster.h"
#include "br_roster_draft.h"
#include "br_envelope.h"
#include "br_store.h"
#include "br_chain.h"
#include "br_testing.h"
#include "br_http.h"
#include "br_ledger_record.h"
#include "br_ledger.h"
#include "br_board.h"
#include "br_config.h"
#include "br_daemon.h"

#endif
