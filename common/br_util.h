/*  =========================================================================
    br_util - small stateless helpers: clock, hex, identifiers, files

    Functions only; no state.
    =========================================================================
*/

#ifndef BR_UTIL_H_INCLUDED
#define BR_UTIL_H_INCLUDED

#include "br_prelude.h"
#include "br_reason.h"
#include <sys/socket.h>

//  Longest node id: [a-z0-9-], 1 to 32 characters.
#define BR_NODE_ID_MAX 32
//  Longest service code: [a-z0-9-], 1 to 48 characters.
#define BR_SERVICE_MAX 48
//  Longest other catalogue code: topics, cancellation reasons (a token too).
#define BR_CODE_MAX 48
//  Largest file the helpers read into memory.
#define BR_FILE_MAX_SIZE (8 * 1024 * 1024)

//  The difference between two parties' wall clocks the protocol tolerates
//  (PROTOCOL.md section 10).
#define BR_CLOCK_SKEW_MS (5 * 60 * 1000)

//  Returns wall-clock time as Unix milliseconds (UTC). For timestamps that
//  other parties read (on the wire, in records); never for timers, since
//  the wall clock may step.
int64_t br_now_ms (void);

//  Returns milliseconds of a monotonic clock (CLOCK_MONOTONIC) from an
//  arbitrary start. For timers and intervals inside one process: it never
//  steps, whatever is done to the wall clock.
int64_t br_clock_ms (void);

//  Longest text br_time_format writes, with its NUL.
#define BR_TIME_TEXT_SIZE 32

//  Formats Unix milliseconds as ISO 8601 UTC, e.g. "2026-01-01T00:00:00Z",
//  into `text` of BR_TIME_TEXT_SIZE characters.
void br_time_format (int64_t time_ms, char *text);

//  Writes `size` bytes as lower-case hex plus a NUL into `hex`, which must
//  hold 2 * size + 1 characters.
void br_hex_encode (const uint8_t *data, size_t size, char *hex);

//  Decodes exactly `size` bytes from `hex` (2 * size hex digits, nothing else).
//  Returns 0, or -1 if `hex` has another length or a non-hex character.
int br_hex_decode (const char *hex, uint8_t *data, size_t size) BR_WUR;

//  Returns true if `text` is a valid token: 1..max_length characters of
//  [a-z0-9-], not starting with '-'. Node ids and service codes are tokens.
bool br_token_valid (const char *text, size_t max_length);

//  Returns true if `text` is 1..max_size bytes of valid UTF-8 (no overlong
//  forms, no surrogates) without control characters. Names, statutes.
bool br_text_valid (const char *text, size_t max_size);

//  The same, with its length counted in characters (code points), not
//  bytes: 1..max_characters. A person's name, a caseworker's.
bool br_line_valid (const char *text, size_t max_characters);

//  As br_line_valid, but line feeds, carriage returns and tabs are allowed:
//  notes, outcomes, reasons written by people.
bool br_note_valid (const char *text, size_t max_characters);

//  Returns true if `ags` is a municipality key of exactly `digits` digits.
bool br_ags_valid (const char *ags, size_t digits);

//  Writes `value` as 8 bytes, big-endian (so LMDB keys sort numerically).
void br_put_u64 (uint8_t *bytes, uint64_t value);

//  Reads 8 big-endian bytes.
uint64_t br_get_u64 (const uint8_t *bytes);

//  Writes `node_id` padded with NULs to BR_NODE_ID_MAX bytes (a key part).
void br_put_node_id (uint8_t *bytes, const char *node_id);

//  Reads a node id written by br_put_node_id into `node_id`, which holds
//  BR_NODE_ID_MAX + 1 characters.
void br_get_node_id (const uint8_t *bytes, char *node_id);

//  Creates a fresh directory, mode 0700, named PREFIX-XXXXXX under $TMPDIR
//  (or /tmp), for tests and tools. Returns its path, which the caller
//  frees, or NULL if it cannot.
char *br_temp_directory (const char *prefix);

//  Removes a directory made by br_temp_directory with all it holds, frees
//  its path and nulls the pointer. False if it could not be removed.
bool br_temp_directory_remove (char **path_p);

//  Writes a fresh inproc endpoint name, "inproc://<prefix>-<16 random hex
//  digits>", into `endpoint` (BR_INPROC_ENDPOINT_SIZE bytes; `prefix` at
//  most 32 characters). Names from addresses could repeat: an endpoint is
//  unbound some time after its socket closes, and memory is reused sooner.
#define BR_INPROC_ENDPOINT_SIZE 64
void br_inproc_endpoint (const char *prefix, char endpoint[BR_INPROC_ENDPOINT_SIZE]);

//  Reads a whole file of at most `max_size` bytes. Returns a chunk the caller
//  owns, or NULL and sets *reason (IO_ERROR, TOO_LARGE).
zchunk_t *br_file_read (const char *path, size_t max_size, br_reason_t *reason);

//  Writes `size` bytes to `path` with `mode`, atomically (temporary file,
//  fsync, rename). Refuses to replace an existing file unless `replace`.
//  Returns BR_REASON_OK or IO_ERROR.
br_reason_t br_file_write (const char *path, const void *data, size_t size, mode_t mode,
                           bool replace) BR_WUR;

//  A seeded pseudo-random generator (xorshift64*) for tests and benchmarks
//  that must be reproducible: never for keys or ids that leave the test.
//  *state is the seed, any value but 0, and advances with each call.
uint64_t br_seeded_next (uint64_t *state);

//  A seeded pseudo-random integer in [low, high] (low <= high).
int br_seeded_range (uint64_t *state, int low, int high);

//  Fills `size` bytes from the seeded generator.
void br_seeded_bytes (uint64_t *state, size_t size, uint8_t *bytes);

//  Longest "HOST:PORT" text an address may be.
#define BR_ADDRESS_MAX 64

//  Parses "HOST:PORT" for a listening socket: HOST an IPv4 address,
//  "[IPv6 address]" or "localhost"; PORT 0..65535 (0 = any free). Sets
//  *address and *ipv6. Returns OK or CONFIG_INVALID.
br_reason_t br_address_parse (const char *text, struct sockaddr_storage *address,
                              bool *ipv6) BR_WUR;

//  True if `address` (as br_address_parse set it) is a loopback address.
bool br_address_loopback (const struct sockaddr_storage *address);

//  Self test of this class.
void br_util_test (bool verbose);

#endif
