/*  =========================================================================
    br_util - small stateless helpers: clock, hex, identifiers, files
    =========================================================================
*/

#include "br_util.h"
#include <arpa/inet.h>
#include <netinet/in.h>

int64_t
br_now_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

int64_t
br_clock_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

void
br_time_format (int64_t time_ms, char *text)
{
    time_t seconds = (time_t) (time_ms / 1000);
    struct tm broken;
    if (!gmtime_r (&seconds, &broken) ||
        strftime (text, BR_TIME_TEXT_SIZE, "%Y-%m-%dT%H:%M:%SZ", &broken) == 0)
        snprintf (text, BR_TIME_TEXT_SIZE, "(invalid time)");
}

void
br_hex_encode (const uint8_t *data, size_t size, char *hex)
{
    sodium_bin2hex (hex, 2 * size + 1, data, size);
}

int
br_hex_decode (const char *hex, uint8_t *data, size_t size)
{
    size_t decoded = 0;
    if (!hex || strlen (hex) != 2 * size)
        return -1;
    if (sodium_hex2bin (data, size, hex, 2 * size, NULL, &decoded, NULL) != 0 || decoded != size)
        return -1;
    return 0;
}

bool
br_token_valid (const char *text, size_t max_length)
{
    if (!text || !*text || *text == '-')
        return false;
    size_t length = 0;
    for (const char *cursor = text; *cursor; cursor++, length++) {
        if (length >= max_length)
            return false;
        char letter = *cursor;
        if (!((letter >= 'a' && letter <= 'z') || (letter >= '0' && letter <= '9') ||
              letter == '-'))
            return false;
    }
    return true;
}

//  Scans `text` as UTF-8 (no overlong forms, no surrogates, no control
//  characters but, if `breaks`, line feed, carriage return and tab).
//  Returns the number of characters, or -1 if it is not such text.
static ssize_t
s_utf8_scan (const char *text, bool breaks)
{
    const unsigned char *cursor = (const unsigned char *) text;
    ssize_t characters = 0;
    while (*cursor) {
        unsigned char lead = *cursor;
        size_t extra;
        uint32_t point;
        characters++;
        if (lead < 0x80) {
            bool line_break = lead == '\n' || lead == '\r' || lead == '\t';
            if ((lead < 0x20 && !(breaks && line_break)) || lead == 0x7f)
                return -1;
            cursor++;
            continue;
        } else if ((lead & 0xe0) == 0xc0) {
            extra = 1;
            point = lead & 0x1f;
        } else if ((lead & 0xf0) == 0xe0) {
            extra = 2;
            point = lead & 0x0f;
        } else if ((lead & 0xf8) == 0xf0) {
            extra = 3;
            point = lead & 0x07;
        } else
            return -1;
        for (size_t index = 1; index <= extra; index++) {
            if ((cursor[index] & 0xc0) != 0x80)
                return -1; //  also stops at the terminating NUL
            point = (point << 6) | (cursor[index] & 0x3f);
        }
        static const uint32_t s_smallest[] = {0, 0x80, 0x800, 0x10000};
        if (point < s_smallest[extra] || point > 0x10ffff || (point >= 0xd800 && point <= 0xdfff))
            return -1;
        if (point >= 0x80 && point < 0xa0)
            return -1; //  C1 control characters
        cursor += extra + 1;
    }
    return characters;
}

bool
br_text_valid (const char *text, size_t max_size)
{
    if (!text || !*text || strlen (text) > max_size)
        return false;
    return s_utf8_scan (text, false) >= 0;
}

bool
br_note_valid (const char *text, size_t max_characters)
{
    if (!text || !*text || strlen (text) > 4 * max_characters)
        return false;
    ssize_t characters = s_utf8_scan (text, true);
    return characters > 0 && (size_t) characters <= max_characters;
}

bool
br_line_valid (const char *text, size_t max_characters)
{
    if (!text || !*text || strlen (text) > 4 * max_characters)
        return false;
    ssize_t characters = s_utf8_scan (text, false);
    return characters > 0 && (size_t) characters <= max_characters;
}

bool
br_ags_valid (const char *ags, size_t digits)
{
    if (!ags || strlen (ags) != digits)
        return false;
    for (size_t index = 0; index < digits; index++)
        if (ags[index] < '0' || ags[index] > '9')
            return false;
    return true;
}

void
br_put_u64 (uint8_t *bytes, uint64_t value)
{
    for (int index = 7; index >= 0; index--) {
        bytes[index] = (uint8_t) value;
        value >>= 8;
    }
}

uint64_t
br_get_u64 (const uint8_t *bytes)
{
    uint64_t value = 0;
    for (int index = 0; index < 8; index++)
        value = (value << 8) | bytes[index];
    return value;
}

void
br_put_node_id (uint8_t *bytes, const char *node_id)
{
    size_t length = strlen (node_id);
    assert (length <= BR_NODE_ID_MAX);
    memset (bytes, 0, BR_NODE_ID_MAX);
    memcpy (bytes, node_id, length);
}

void
br_get_node_id (const uint8_t *bytes, char *node_id)
{
    memcpy (node_id, bytes, BR_NODE_ID_MAX);
    node_id[BR_NODE_ID_MAX] = '\0';
}

char *
br_temp_directory (const char *prefix)
{
    const char *base = getenv ("TMPDIR");
    char *path = zsys_sprintf ("%s/%s-XXXXXX", base && *base ? base : "/tmp", prefix);
    if (!mkdtemp (path))
        zstr_free (&path);
    return path;
}

bool
br_temp_directory_remove (char **path_p)
{
    assert (path_p);
    if (!*path_p)
        return true;
    char *command = zsys_sprintf ("rm -rf '%s'", *path_p);
    bool removed = system (command) == 0;
    zstr_free (&command);
    zstr_free (path_p);
    return removed;
}

void
br_inproc_endpoint (const char *prefix, char endpoint[BR_INPROC_ENDPOINT_SIZE])
{
    assert (prefix && strlen (prefix) <= 32);
    uint8_t random[8];
    randombytes_buf (random, sizeof (random));
    char hex[2 * sizeof (random) + 1];
    br_hex_encode (random, sizeof (random), hex);
    snprintf (endpoint, BR_INPROC_ENDPOINT_SIZE, "inproc://%s-%s", prefix, hex);
}

zchunk_t *
br_file_read (const char *path, size_t max_size, br_reason_t *reason)
{
    int handle = open (path, O_RDONLY | O_CLOEXEC);
    if (handle < 0) {
        *reason = BR_REASON_IO_ERROR;
        return NULL;
    }
    struct stat status;
    if (fstat (handle, &status) != 0 || !S_ISREG (status.st_mode)) {
        close (handle);
        *reason = BR_REASON_IO_ERROR;
        return NULL;
    }
    if ((uint64_t) status.st_size > max_size) {
        close (handle);
        *reason = BR_REASON_TOO_LARGE;
        return NULL;
    }
    zchunk_t *chunk = zchunk_new (NULL, (size_t) status.st_size);
    size_t filled = 0;
    while (filled < (size_t) status.st_size) {
        ssize_t got = read (handle, zchunk_data (chunk) + filled, (size_t) status.st_size - filled);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        filled += (size_t) got;
    }
    close (handle);
    if (filled != (size_t) status.st_size) {
        zchunk_destroy (&chunk);
        *reason = BR_REASON_IO_ERROR;
        return NULL;
    }
    zchunk_set (chunk, NULL, filled);
    *reason = BR_REASON_OK;
    return chunk;
}

br_reason_t
br_file_write (const char *path, const void *data, size_t size, mode_t mode, bool replace)
{
    if (!replace && access (path, F_OK) == 0)
        return BR_REASON_IO_ERROR;
    char temporary[PATH_MAX];
    if (snprintf (temporary, sizeof (temporary), "%s.tmp-XXXXXX", path) >= (int) sizeof (temporary))
        return BR_REASON_IO_ERROR;
    int handle = mkstemp (temporary);
    if (handle < 0)
        return BR_REASON_IO_ERROR;
    bool written = fchmod (handle, mode) == 0;
    const uint8_t *cursor = (const uint8_t *) data;
    size_t left = size;
    while (written && left > 0) {
        ssize_t put = write (handle, cursor, left);
        if (put < 0 && errno == EINTR)
            continue;
        if (put <= 0)
            written = false;
        else {
            cursor += put;
            left -= (size_t) put;
        }
    }
    written = written && fsync (handle) == 0;
    written = close (handle) == 0 && written;
    if (written && !replace)
        //  link() fails if the target exists, so no file is ever replaced
        written = link (temporary, path) == 0;
    else if (written)
        written = rename (temporary, path) == 0;
    unlink (temporary);
    return written ? BR_REASON_OK : BR_REASON_IO_ERROR;
}

uint64_t
br_seeded_next (uint64_t *state)
{
    assert (state && *state != 0);
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

int
br_seeded_range (uint64_t *state, int low, int high)
{
    assert (low <= high);
    return low + (int) (br_seeded_next (state) % (uint64_t) ((int64_t) high - low + 1));
}

void
br_seeded_bytes (uint64_t *state, size_t size, uint8_t *bytes)
{
    for (size_t index = 0; index < size; index++)
        bytes[index] = (uint8_t) br_seeded_next (state);
}

//  ---- Network addresses ------------------------------------------------------

br_reason_t
br_address_parse (const char *text, struct sockaddr_storage *address, bool *ipv6)
{
    memset (address, 0, sizeof (*address));
    if (!text || strlen (text) >= BR_ADDRESS_MAX)
        return BR_REASON_CONFIG_INVALID;
    char host[BR_ADDRESS_MAX];
    const char *colon;
    if (*text == '[') {
        const char *close = strchr (text, ']');
        if (!close || close[1] != ':')
            return BR_REASON_CONFIG_INVALID;
        memcpy (host, text + 1, (size_t) (close - text - 1));
        host[close - text - 1] = '\0';
        colon = close + 1;
        *ipv6 = true;
    } else {
        colon = strrchr (text, ':');
        if (!colon)
            return BR_REASON_CONFIG_INVALID;
        memcpy (host, text, (size_t) (colon - text));
        host[colon - text] = '\0';
        *ipv6 = false;
    }
    char *end = NULL;
    errno = 0;
    long port = strtol (colon + 1, &end, 10);
    if (!isdigit ((unsigned char) colon[1]) || *end || errno || port < 0 || port > 65535)
        return BR_REASON_CONFIG_INVALID;
    if (*ipv6) {
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *) address;
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons ((uint16_t) port);
        if (inet_pton (AF_INET6, host, &v6->sin6_addr) != 1)
            return BR_REASON_CONFIG_INVALID;
    } else {
        struct sockaddr_in *v4 = (struct sockaddr_in *) address;
        v4->sin_family = AF_INET;
        v4->sin_port = htons ((uint16_t) port);
        if (streq (host, "localhost"))
            v4->sin_addr.s_addr = htonl (INADDR_LOOPBACK);
        else if (inet_pton (AF_INET, host, &v4->sin_addr) != 1)
            return BR_REASON_CONFIG_INVALID;
    }
    return BR_REASON_OK;
}

bool
br_address_loopback (const struct sockaddr_storage *address)
{
    if (address->ss_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK (&((const struct sockaddr_in6 *) address)->sin6_addr);
    return (ntohl (((const struct sockaddr_in *) address)->sin_addr.s_addr) >> 24) == 127;
}

void
br_util_test (bool verbose)
{
    if (verbose)
        printf (" * br_util: ");
    //  @selftest
    uint8_t bytes[4] = {0x00, 0xab, 0x10, 0xff};
    char hex[9];
    br_hex_encode (bytes, sizeof (bytes), hex);
    assert (streq (hex, "00ab10ff"));
    uint8_t back[4];
    assert (br_hex_decode (hex, back, sizeof (back)) == 0);
    assert (memcmp (back, bytes, sizeof (bytes)) == 0);
    assert (br_hex_decode ("00ab10f", back, sizeof (back)) == -1);
    assert (br_hex_decode ("00ab10fg", back, sizeof (back)) == -1);
    assert (br_hex_decode ("00ab10ff00", back, sizeof (back)) == -1);

    assert (br_token_valid ("luenen", BR_NODE_ID_MAX));
    assert (br_token_valid ("kreis-unna", BR_NODE_ID_MAX));
    assert (!br_token_valid ("", BR_NODE_ID_MAX));
    assert (!br_token_valid ("-x", BR_NODE_ID_MAX));
    assert (!br_token_valid ("Luenen", BR_NODE_ID_MAX));
    assert (!br_token_valid ("l\xc3\xbcnen", BR_NODE_ID_MAX));
    assert (!br_token_valid ("abc", 2));
    assert (br_token_valid ("ab", 2));

    assert (br_text_valid ("L\xc3\xbcnen", 16));
    assert (br_text_valid ("SGB VIII \xc2\xa7"
                           "86c",
                           64));
    assert (!br_text_valid ("", 16));
    assert (!br_text_valid ("L\xc3\xbcnen", 5));
    assert (!br_text_valid ("line\nbreak", 16));
    //  Lines and notes count characters: five umlauts are five, not ten
    assert (br_line_valid ("\xc3\xa4\xc3\xb6\xc3\xbc\xc3\x9f\xc3\x84", 5));
    assert (!br_line_valid ("\xc3\xa4\xc3\xb6\xc3\xbc\xc3\x9f\xc3\x84x", 5));
    assert (!br_line_valid ("line\nbreak", 16) && !br_line_valid ("", 16));
    assert (br_note_valid ("two\r\nlines\tand a tab", 20));
    assert (!br_note_valid ("two\r\nlines\tand a tab", 19));
    assert (!br_note_valid ("bell\a", 16) && !br_note_valid ("\xc2\x85", 16)); //  BEL, C1 NEL
    assert (!br_note_valid ("\xff", 16) && !br_note_valid (NULL, 16));
    assert (!br_text_valid ("\xc3", 16));
    assert (!br_text_valid ("\xc0\xaf", 16));         //  overlong '/'
    assert (!br_text_valid ("\xed\xa0\x80", 16));     //  surrogate
    assert (!br_text_valid ("\xf4\x90\x80\x80", 16)); //  above U+10FFFF
    assert (!br_text_valid ("\xff", 16));
    assert (br_ags_valid ("05978024", 8));
    assert (!br_ags_valid ("0597802", 8));
    assert (!br_ags_valid ("0597802x", 8));
    assert (br_ags_valid ("05978", 5));

    uint8_t packed[8];
    br_put_u64 (packed, 0x0102030405060708ULL);
    assert (packed[0] == 1 && packed[7] == 8);
    assert (br_get_u64 (packed) == 0x0102030405060708ULL);
    uint8_t padded[BR_NODE_ID_MAX];
    char node_id[BR_NODE_ID_MAX + 1];
    br_put_node_id (padded, "unna");
    assert (padded[4] == 0 && padded[BR_NODE_ID_MAX - 1] == 0);
    br_get_node_id (padded, node_id);
    assert (streq (node_id, "unna"));

    int64_t now = br_now_ms ();
    assert (now > 1700000000000LL);
    char when[BR_TIME_TEXT_SIZE];
    br_time_format (1767225600000LL, when);
    assert (streq (when, "2026-01-01T00:00:00Z"));

    //  Files: write, refuse to replace, replace, read, size limit
    char *directory = br_temp_directory ("br_util_test");
    assert (directory);
    char path[PATH_MAX];
    snprintf (path, sizeof (path), "%s/file", directory);
    assert (br_file_write (path, "hello", 5, 0600, false) == BR_REASON_OK);
    assert (br_file_write (path, "other", 5, 0600, false) == BR_REASON_IO_ERROR);
    struct stat status;
    assert (stat (path, &status) == 0 && (status.st_mode & 0777) == 0600);
    br_reason_t reason;
    zchunk_t *chunk = br_file_read (path, 100, &reason);
    assert (chunk && reason == BR_REASON_OK);
    assert (zchunk_size (chunk) == 5 && memcmp (zchunk_data (chunk), "hello", 5) == 0);
    zchunk_destroy (&chunk);
    assert (br_file_write (path, "bye", 3, 0644, true) == BR_REASON_OK);
    chunk = br_file_read (path, 100, &reason);
    assert (chunk && zchunk_size (chunk) == 3);
    zchunk_destroy (&chunk);
    assert (br_file_read (path, 2, &reason) == NULL && reason == BR_REASON_TOO_LARGE);
    snprintf (path, sizeof (path), "%s/missing", directory);
    assert (br_file_read (path, 100, &reason) == NULL && reason == BR_REASON_IO_ERROR);
    assert (br_file_read (directory, 100, &reason) == NULL && reason == BR_REASON_IO_ERROR);
    //  Removed with what it holds
    snprintf (path, sizeof (path), "%s", directory);
    assert (br_temp_directory_remove (&directory) && directory == NULL);
    assert (access (path, F_OK) != 0);
    assert (br_temp_directory_remove (&directory));

    //  Inproc endpoint names do not repeat
    char first[BR_INPROC_ENDPOINT_SIZE], second[BR_INPROC_ENDPOINT_SIZE];
    br_inproc_endpoint ("test", first);
    br_inproc_endpoint ("test", second);
    assert (strncmp (first, "inproc://test-", 14) == 0 && strlen (first) == 14 + 16);
    assert (!streq (first, second));

    //  The seeded generator repeats itself for the same seed, and keeps to its range
    uint64_t one = 42, two = 42;
    uint8_t bytes_one[16], bytes_two[16];
    br_seeded_bytes (&one, sizeof (bytes_one), bytes_one);
    br_seeded_bytes (&two, sizeof (bytes_two), bytes_two);
    assert (memcmp (bytes_one, bytes_two, sizeof (bytes_one)) == 0 && one == two);
    bool low_seen = false, high_seen = false;
    for (int round = 0; round < 1000; round++) {
        int value = br_seeded_range (&one, -3, 3);
        assert (value >= -3 && value <= 3);
        low_seen |= value == -3;
        high_seen |= value == 3;
    }
    assert (low_seen && high_seen);
    //  @end
    if (verbose)
        printf ("OK\n");
}
