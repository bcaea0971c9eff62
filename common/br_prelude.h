/*  =========================================================================
    br_prelude - what every bruecke source file includes first

    The dependencies (czmq, libsodium, LMDB, the generated wire schema) and a
    few macros shared by all classes.
    =========================================================================
*/

#ifndef BR_PRELUDE_H_INCLUDED
#define BR_PRELUDE_H_INCLUDED

#include <czmq.h>
#include <sodium.h>
#include <lmdb.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "bruecke.pb-c.h"

//  Marks calls whose result must not be ignored: signature checks, commits.
#define BR_WUR __attribute__ ((warn_unused_result))

//  Protocol version carried in every header.
#define BR_PROTOCOL_VERSION 1

#endif
