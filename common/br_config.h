/*  =========================================================================
    br_config - daemon and tool configuration in ZPL (czmq's zconfig)

    A thin, checking layer over zconfig: typed getters that refuse values
    out of range with CONFIG_INVALID instead of silently using defaults.
    =========================================================================
*/

#ifndef BR_CONFIG_H_INCLUDED
#define BR_CONFIG_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"

#define BR_CONFIG_MAX_SIZE (256 * 1024) //  largest configuration file

typedef struct _br_config_t br_config_t;

//  Loads a ZPL file. Returns the configuration, or NULL and sets *reason
//  (IO_ERROR if unreadable, TOO_LARGE, CONFIG_INVALID if not ZPL).
br_config_t *br_config_load (const char *path, br_reason_t *reason);

//  Parses ZPL text. Returns NULL and sets *reason (CONFIG_INVALID) on error.
br_config_t *br_config_parse (const char *text, br_reason_t *reason);

//  Destroys the configuration and nulls the pointer. Safe to call twice.
void br_config_destroy (br_config_t **self_p);

//  Returns the string at `path` (e.g. "broker/endpoint"), or `fallback` if
//  absent. The string belongs to the configuration.
const char *br_config_string (br_config_t *self, const char *path, const char *fallback);

//  Stores the string at `path` in *value; CONFIG_INVALID if absent or empty.
br_reason_t br_config_require (br_config_t *self, const char *path, const char **value) BR_WUR;

//  Reads an integer at `path` into *value, `fallback` if absent. Refuses
//  a non-number or a value outside [min, max] with CONFIG_INVALID.
br_reason_t br_config_int (br_config_t *self, const char *path, int64_t fallback, int64_t min,
                           int64_t max, int64_t *value) BR_WUR;

//  Reads a boolean ("1"/"0", "true"/"false", "yes"/"no"); CONFIG_INVALID otherwise.
br_reason_t br_config_bool (br_config_t *self, const char *path, bool fallback, bool *value) BR_WUR;

//  One setting of a table read by br_config_read: a required string (into
//  *text) or an integer (into *number, `fallback` if absent, in [min, max]).
typedef struct {
    const char *path;           //  "section/name"; NULL ends the table
    const char **text;          //  a required string goes here; or NULL
    int64_t *number;            //  an integer goes here; or NULL
    int64_t fallback, min, max; //  the integer's default and range
} br_config_setting_t;

//  Reads the table `settings` in order. Returns OK, or CONFIG_INVALID with
//  the path of the first setting missing or out of range in *failed.
br_reason_t br_config_read (br_config_t *self, const br_config_setting_t *settings,
                            const char **failed) BR_WUR;

//  The underlying zconfig tree. Belongs to the configuration.
zconfig_t *br_config_tree (br_config_t *self);

//  Self test of this class.
void br_config_test (bool verbose);

#endif
