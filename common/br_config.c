/*  =========================================================================
    br_config - daemon and tool configuration in ZPL (czmq's zconfig)

    Files are read here, not by zconfig_load, so that the size limit holds
    before anything is read into memory. A value that is present but wrong
    is refused and logged with its path; only an absent value falls back.
    =========================================================================
*/

#include "br_config.h"
#include "br_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

struct _br_config_t {
    zconfig_t *tree; //  the parsed ZPL tree, owned
};

//  Returns the value at `path`, or NULL if there is no such item. An item
//  without a value (a section, or a bare name) reads as "".
static const char *
s_value (br_config_t *self, const char *path)
{
    assert (self);
    assert (path);
    zconfig_t *item = zconfig_locate (self->tree, path);
    if (!item)
        return NULL;
    const char *value = zconfig_value (item);
    return value ? value : "";
}

//  Parses a whole decimal integer: an optional '-' and digits, nothing
//  else. Returns 0 and the number in *number, or -1.
static int
s_parse_int (const char *text, int64_t *number)
{
    const char *digits = text[0] == '-' ? text + 1 : text;
    if (*digits == '\0')
        return -1;
    for (const char *cursor = digits; *cursor; cursor++)
        if (*cursor < '0' || *cursor > '9')
            return -1;
    errno = 0;
    char *end = NULL;
    long long parsed = strtoll (text, &end, 10);
    if (errno == ERANGE || end == text || *end != '\0')
        return -1;
    *number = (int64_t) parsed;
    return 0;
}

br_config_t *
br_config_parse (const char *text, br_reason_t *reason)
{
    assert (text);
    assert (reason);
    zconfig_t *tree = zconfig_str_load (text);
    if (!tree) {
        //  zconfig has logged the line and the error
        *reason = BR_REASON_CONFIG_INVALID;
        return NULL;
    }
    br_config_t *self = (br_config_t *) zmalloc (sizeof (br_config_t));
    assert (self);
    self->tree = tree;
    *reason = BR_REASON_OK;
    return self;
}

br_config_t *
br_config_load (const char *path, br_reason_t *reason)
{
    assert (path);
    assert (reason);
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        zsys_error ("br_config: cannot open %s: %s", path, strerror (errno));
        *reason = BR_REASON_IO_ERROR;
        return NULL;
    }
    struct stat info;
    if (fstat (fd, &info) != 0 || !S_ISREG (info.st_mode)) {
        zsys_error ("br_config: %s is not a readable regular file", path);
        close (fd);
        *reason = BR_REASON_IO_ERROR;
        return NULL;
    }
    if (info.st_size > BR_CONFIG_MAX_SIZE) {
        zsys_error ("br_config: %s is larger than %d bytes", path, BR_CONFIG_MAX_SIZE);
        close (fd);
        *reason = BR_REASON_TOO_LARGE;
        return NULL;
    }
    //  One byte more than the file's size tells us if it grew meanwhile,
    //  and one more for the terminating NUL.
    size_t capacity = (size_t) info.st_size + 1;
    char *text = (char *) malloc (capacity + 1);
    assert (text);
    size_t size = 0;
    while (size < capacity) {
        ssize_t got = read (fd, text + size, capacity - size);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            zsys_error ("br_config: cannot read %s: %s", path, strerror (errno));
            free (text);
            close (fd);
            *reason = BR_REASON_IO_ERROR;
            return NULL;
        }
        if (got == 0)
            break;
        size += (size_t) got;
    }
    close (fd);
    if (size == capacity) {
        zsys_error ("br_config: %s changed while being read", path);
        free (text);
        *reason = BR_REASON_IO_ERROR;
        return NULL;
    }
    text[size] = '\0';
    if (memchr (text, '\0', size)) {
        zsys_error ("br_config: %s contains a NUL byte, so it is not ZPL", path);
        free (text);
        *reason = BR_REASON_CONFIG_INVALID;
        return NULL;
    }
    br_config_t *self = br_config_parse (text, reason);
    free (text);
    if (!self)
        zsys_error ("br_config: %s is not valid ZPL", path);
    return self;
}

void
br_config_destroy (br_config_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        br_config_t *self = *self_p;
        zconfig_destroy (&self->tree);
        free (self);
        *self_p = NULL;
    }
}

const char *
br_config_string (br_config_t *self, const char *path, const char *fallback)
{
    const char *value = s_value (self, path);
    return value ? value : fallback;
}

br_reason_t
br_config_require (br_config_t *self, const char *path, const char **value)
{
    assert (value);
    const char *found = s_value (self, path);
    if (!found || *found == '\0') {
        zsys_error ("br_config: %s is required", path);
        *value = NULL;
        return BR_REASON_CONFIG_INVALID;
    }
    *value = found;
    return BR_REASON_OK;
}

br_reason_t
br_config_int (br_config_t *self, const char *path, int64_t fallback, int64_t min, int64_t max,
               int64_t *value)
{
    assert (value);
    assert (min <= max);
    assert (fallback >= min && fallback <= max);
    *value = fallback;
    const char *found = s_value (self, path);
    if (!found)
        return BR_REASON_OK;
    int64_t number = 0;
    if (s_parse_int (found, &number) != 0) {
        zsys_error ("br_config: %s = '%s' is not a 64-bit integer", path, found);
        return BR_REASON_CONFIG_INVALID;
    }
    if (number < min || number > max) {
        zsys_error ("br_config: %s = %" PRId64 " is outside [%" PRId64 ", %" PRId64 "]", path,
                    number, min, max);
        return BR_REASON_CONFIG_INVALID;
    }
    *value = number;
    return BR_REASON_OK;
}

br_reason_t
br_config_bool (br_config_t *self, const char *path, bool fallback, bool *value)
{
    assert (value);
    *value = fallback;
    const char *found = s_value (self, path);
    if (!found)
        return BR_REASON_OK;
    if (streq (found, "1") || strcasecmp (found, "true") == 0 || strcasecmp (found, "yes") == 0)
        *value = true;
    else if (streq (found, "0") || strcasecmp (found, "false") == 0 ||
             strcasecmp (found, "no") == 0)
        *value = false;
    else {
        zsys_error ("br_config: %s = '%s' is not a boolean (true/false, yes/no, 1/0)", path, found);
        return BR_REASON_CONFIG_INVALID;
    }
    return BR_REASON_OK;
}

zconfig_t *
br_config_tree (br_config_t *self)
{
    assert (self);
    return self->tree;
}

//  --------------------------------------------------------------------------
//  Selftest helpers

//  Writes `size` bytes to a new file at `path`.
static void
s_test_write_file (const char *path, const void *data, size_t size)
{
    FILE *file = fopen (path, "wb");
    assert (file);
    if (size > 0)
        assert (fwrite (data, 1, size, file) == size);
    assert (fclose (file) == 0);
}

br_reason_t
br_config_read (br_config_t *self, const br_config_setting_t *settings, const char **failed)
{
    assert (self && settings && failed);
    *failed = NULL;
    for (const br_config_setting_t *setting = settings; setting->path; setting++) {
        assert ((setting->text == NULL) != (setting->number == NULL));
        br_reason_t reason = setting->text
                                 ? br_config_require (self, setting->path, setting->text)
                                 : br_config_int (self, setting->path, setting->fallback,
                                                  setting->min, setting->max, setting->number);
        if (reason != BR_REASON_OK) {
            *failed = setting->path;
            return reason;
        }
    }
    return BR_REASON_OK;
}

void
br_config_test (bool verbose)
{
    if (verbose)
        printf (" * br_config: ");
    //  @selftest
    br_reason_t reason = BR_REASON_OK;
    const char *text = "#   Test configuration\n"
                       "node\n"
                       "    id = bergkamen\n"
                       "    ags = \"05978004\"\n"
                       "    empty = \"\"\n"
                       "broker\n"
                       "    endpoint = tcp://127.0.0.1:5670\n"
                       "    queue\n"
                       "        depth = 1000\n"
                       "        negative = -42\n"
                       "        huge = 99999999999999999999\n"
                       "        word = many\n"
                       "        spaced = 1 2\n"
                       "flags\n"
                       "    a = true\n"
                       "    b = no\n"
                       "    c = 1\n"
                       "    d = FALSE\n"
                       "    e = maybe\n"
                       "    f = \"\"\n";
    br_config_t *config = br_config_parse (text, &reason);
    assert (config);
    assert (reason == BR_REASON_OK);
    assert (br_config_tree (config));

    //  Strings, nested paths, fallbacks
    assert (streq (br_config_string (config, "node/id", NULL), "bergkamen"));
    assert (streq (br_config_string (config, "/node/id", NULL), "bergkamen"));
    assert (streq (br_config_string (config, "node/ags", NULL), "05978004"));
    assert (streq (br_config_string (config, "broker/endpoint", "x"), "tcp://127.0.0.1:5670"));
    assert (streq (br_config_string (config, "broker/queue/depth", NULL), "1000"));
    assert (streq (br_config_string (config, "node/missing", "fallback"), "fallback"));
    assert (br_config_string (config, "nothing/at/all", NULL) == NULL);
    assert (streq (br_config_string (config, "node/empty", "fallback"), ""));

    //  Required values
    const char *value = NULL;
    assert (br_config_require (config, "node/id", &value) == BR_REASON_OK);
    assert (streq (value, "bergkamen"));
    assert (br_config_require (config, "node/missing", &value) == BR_REASON_CONFIG_INVALID);
    assert (value == NULL);
    assert (br_config_require (config, "node/empty", &value) == BR_REASON_CONFIG_INVALID);
    assert (br_config_require (config, "node", &value) == BR_REASON_CONFIG_INVALID);

    //  Integers
    int64_t number = 0;
    assert (br_config_int (config, "broker/queue/depth", 10, 1, 100000, &number) == BR_REASON_OK);
    assert (number == 1000);
    assert (br_config_int (config, "broker/queue/negative", 0, -100, 100, &number) == BR_REASON_OK);
    assert (number == -42);
    assert (br_config_int (config, "broker/queue/missing", 7, 1, 10, &number) == BR_REASON_OK);
    assert (number == 7);
    assert (br_config_int (config, "broker/queue/depth", 10, 1, 999, &number) ==
            BR_REASON_CONFIG_INVALID);
    assert (number == 10);
    assert (br_config_int (config, "broker/queue/negative", 0, 0, 100, &number) ==
            BR_REASON_CONFIG_INVALID);
    assert (br_config_int (config, "broker/queue/huge", 0, INT64_MIN, INT64_MAX, &number) ==
            BR_REASON_CONFIG_INVALID);
    assert (br_config_int (config, "broker/queue/word", 0, 0, 100, &number) ==
            BR_REASON_CONFIG_INVALID);
    assert (br_config_int (config, "broker/queue/spaced", 0, 0, 100, &number) ==
            BR_REASON_CONFIG_INVALID);
    assert (br_config_int (config, "node/empty", 0, 0, 100, &number) == BR_REASON_CONFIG_INVALID);
    assert (br_config_int (config, "broker/endpoint", 0, 0, 100, &number) ==
            BR_REASON_CONFIG_INVALID);

    //  Booleans
    bool flag = false;
    assert (br_config_bool (config, "flags/a", false, &flag) == BR_REASON_OK);
    assert (flag);
    assert (br_config_bool (config, "flags/b", true, &flag) == BR_REASON_OK);
    assert (!flag);
    assert (br_config_bool (config, "flags/c", false, &flag) == BR_REASON_OK);
    assert (flag);
    assert (br_config_bool (config, "flags/d", true, &flag) == BR_REASON_OK);
    assert (!flag);
    assert (br_config_bool (config, "flags/missing", true, &flag) == BR_REASON_OK);
    assert (flag);
    assert (br_config_bool (config, "flags/e", false, &flag) == BR_REASON_CONFIG_INVALID);
    assert (br_config_bool (config, "flags/f", false, &flag) == BR_REASON_CONFIG_INVALID);

    br_config_destroy (&config);
    assert (config == NULL);
    br_config_destroy (&config); //  safe twice

    //  Empty text is a valid, empty configuration
    config = br_config_parse ("", &reason);
    assert (config);
    assert (streq (br_config_string (config, "a/b", "fallback"), "fallback"));
    br_config_destroy (&config);

    //  Not ZPL
    assert (br_config_parse ("garbage!!!\n", &reason) == NULL);
    assert (reason == BR_REASON_CONFIG_INVALID);
    assert (br_config_parse ("a\n        b = 1\n", &reason) == NULL);
    assert (reason == BR_REASON_CONFIG_INVALID);
    assert (br_config_parse ("a = \"unterminated\n", &reason) == NULL);
    assert (reason == BR_REASON_CONFIG_INVALID);

    //  Files
    char *tempdir = br_temp_directory ("br_config_test");
    assert (tempdir);

    char *good_path = zsys_sprintf ("%s/good.cfg", tempdir);
    s_test_write_file (good_path, text, strlen (text));
    config = br_config_load (good_path, &reason);
    assert (config);
    assert (reason == BR_REASON_OK);
    assert (streq (br_config_string (config, "broker/endpoint", NULL), "tcp://127.0.0.1:5670"));
    assert (br_config_int (config, "broker/queue/depth", 10, 1, 100000, &number) == BR_REASON_OK);
    assert (number == 1000);
    br_config_destroy (&config);

    char *missing_path = zsys_sprintf ("%s/missing.cfg", tempdir);
    assert (br_config_load (missing_path, &reason) == NULL);
    assert (reason == BR_REASON_IO_ERROR);

    //  A directory is not a configuration file
    assert (br_config_load (tempdir, &reason) == NULL);
    assert (reason == BR_REASON_IO_ERROR);

    //  One byte over the limit is refused before it is read
    char *large_path = zsys_sprintf ("%s/large.cfg", tempdir);
    size_t large_size = BR_CONFIG_MAX_SIZE + 1;
    char *large = (char *) malloc (large_size);
    assert (large);
    memset (large, '#', large_size);
    large[large_size - 1] = '\n';
    s_test_write_file (large_path, large, large_size);
    assert (br_config_load (large_path, &reason) == NULL);
    assert (reason == BR_REASON_TOO_LARGE);
    //  Exactly at the limit is accepted (a comment is valid ZPL)
    assert (truncate (large_path, BR_CONFIG_MAX_SIZE) == 0);
    config = br_config_load (large_path, &reason);
    assert (config);
    assert (reason == BR_REASON_OK);
    br_config_destroy (&config);
    free (large);

    char *bad_path = zsys_sprintf ("%s/bad.cfg", tempdir);
    s_test_write_file (bad_path, "garbage!!!\n", 11);
    assert (br_config_load (bad_path, &reason) == NULL);
    assert (reason == BR_REASON_CONFIG_INVALID);
    //  A NUL byte would hide the rest of the file from the parser
    s_test_write_file (bad_path, "a = 1\n\0b = 2\n", 13);
    assert (br_config_load (bad_path, &reason) == NULL);
    assert (reason == BR_REASON_CONFIG_INVALID);

    assert (unlink (good_path) == 0);
    assert (unlink (large_path) == 0);
    assert (unlink (bad_path) == 0);
    assert (rmdir (tempdir) == 0);
    zstr_free (&good_path);
    zstr_free (&missing_path);
    zstr_free (&large_path);
    zstr_free (&bad_path);
    zstr_free (&tempdir);
    //  A table of settings: read in order, the first bad one named
    br_reason_t table_reason;
    br_config_t *table =
        br_config_parse ("node\n    key = \"a.key\"\n    credit = \"7\"\n", &table_reason);
    assert (table);
    const char *key = NULL, *failed = "unset";
    int64_t credit = 0, window = 0;
    br_config_setting_t settings[] = {{"node/key", &key, NULL, 0, 0, 0},
                                      {"node/credit", NULL, &credit, 1, 1, 100},
                                      {"node/window", NULL, &window, 256, 1, 1000},
                                      {NULL, NULL, NULL, 0, 0, 0}};
    assert (br_config_read (table, settings, &failed) == BR_REASON_OK && failed == NULL);
    assert (streq (key, "a.key") && credit == 7 && window == 256);
    settings[1].max = 5;
    assert (br_config_read (table, settings, &failed) == BR_REASON_CONFIG_INVALID);
    assert (streq (failed, "node/credit"));
    settings[1].max = 100;
    settings[2] = (br_config_setting_t){"node/broker", &key, NULL, 0, 0, 0};
    assert (br_config_read (table, settings, &failed) == BR_REASON_CONFIG_INVALID);
    assert (streq (failed, "node/broker"));
    br_config_destroy (&table);
    //  @end
    if (verbose)
        printf ("OK\n");
}
