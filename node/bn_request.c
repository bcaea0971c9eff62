/*  =========================================================================
    bn_request - one request to the node's API, as the domain sees it
    =========================================================================
*/

#include "bruecke.h"
#include "bn_request.h"

//  ---- Helpers for dispatchers ------------------------------------------------

br_reason_t
bn_request_refuse (bn_request_t *request, br_reason_t reason, const char *format, ...)
{
    va_list arguments;
    va_start (arguments, format);
    vsnprintf (request->detail, sizeof (request->detail), format, arguments);
    va_end (arguments);
    return reason;
}

const char *
bn_request_text (json_t *object, const char *name, size_t max)
{
    const char *text = json_string_value (json_object_get (object, name));
    return text && br_line_valid (text, max) ? text : NULL;
}

//  True if `value` is text of `type` (LINE or NOTE) of at most `max` characters.
static bool
s_text_of (json_t *value, bn_field_type_t type, size_t max)
{
    const char *text = json_string_value (value);
    return type == BN_FIELD_NOTE ? br_note_valid (text, max) : br_line_valid (text, max);
}

//  True if `value` is what `field` asks for.
static bool
s_field_valid (const bn_field_t *field, json_t *value)
{
    size_t index;
    json_t *item;
    switch (field->type) {
        case BN_FIELD_LINE:
        case BN_FIELD_NOTE:
            return s_text_of (value, field->type, field->max);
        case BN_FIELD_INTEGER:
            return json_is_integer (value);
        case BN_FIELD_BOOLEAN:
            return json_is_boolean (value);
        case BN_FIELD_OBJECT:
            return json_is_object (value);
        default:
            break;
    }
    if (!json_is_array (value) || json_array_size (value) > field->max)
        return false;
    json_array_foreach (value, index, item)
    {
        bool valid =
            field->type == BN_FIELD_OBJECTS
                ? json_is_object (item)
                : s_text_of (item, field->type == BN_FIELD_NOTES ? BN_FIELD_NOTE : BN_FIELD_LINE,
                             field->item_max);
        if (!valid)
            return false;
    }
    return true;
}

//  What `field` must be, in words for a refusal's detail.
static void
s_field_wanted (const bn_field_t *field, char *text, size_t size)
{
    switch (field->type) {
        case BN_FIELD_LINE:
            snprintf (text, size, "one line of 1 to %zu characters", field->max);
            break;
        case BN_FIELD_NOTE:
            snprintf (text, size, "text of 1 to %zu characters", field->max);
            break;
        case BN_FIELD_INTEGER:
            snprintf (text, size, "an integer");
            break;
        case BN_FIELD_BOOLEAN:
            snprintf (text, size, "true or false");
            break;
        case BN_FIELD_OBJECT:
            snprintf (text, size, "an object");
            break;
        case BN_FIELD_OBJECTS:
            snprintf (text, size, "a list of at most %zu objects", field->max);
            break;
        default:
            snprintf (text, size, "a list of at most %zu texts of 1 to %zu characters", field->max,
                      field->item_max);
            break;
    }
}

br_reason_t
bn_request_fields (bn_request_t *request, json_t *object, const char *where,
                   const bn_field_t *fields)
{
    assert (request && where && fields);
    const char *dot = *where ? "." : "";
    const char *name;
    json_t *value;
    json_object_foreach (object, name, value)
    {
        const bn_field_t *field = fields;
        while (field->name && !streq (field->name, name))
            field++;
        if (!field->name) {
            //  Named if it looks like a member's name, so that a misspelling shows
            bool plain = strlen (name) <= 40 &&
                         strspn (name, "abcdefghijklmnopqrstuvwxyz"
                                       "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == strlen (name);
            return bn_request_refuse (request, BR_REASON_MALFORMED,
                                      "%s%s%s: not a member of this "
                                      "operation's input",
                                      where, dot, plain ? name : "(a member)");
        }
        char wanted[96];
        s_field_wanted (field, wanted, sizeof (wanted));
        if (!s_field_valid (field, value) && !(field->nullable && json_is_null (value)))
            return bn_request_refuse (request, BR_REASON_MALFORMED, "%s%s%s: %s", where, dot,
                                      field->name, wanted);
    }
    for (const bn_field_t *field = fields; field->name; field++)
        if (field->required && !json_object_get (object, field->name))
            return bn_request_refuse (request, BR_REASON_MALFORMED, "%s%s%s is required", where,
                                      dot, field->name);
    return BR_REASON_OK;
}

json_int_t
bn_request_integer (json_t *object, const char *name, json_int_t fallback)
{
    json_t *value = json_object_get (object, name);
    return json_is_integer (value) ? json_integer_value (value) : fallback;
}

br_reason_t
bn_request_route (bn_request_t *request, char id[BN_ROUTES_ID_MAX + 1])
{
    assert (request && request->method && request->path && id);
    char allow[BN_ROUTES_ALLOW_SIZE];
    br_reason_t reason;
    request->route = bn_routes_match (request->method, request->path, id, allow, &reason);
    request->id = id;
    return reason;
}

//  ---- Self test ----------------------------------------------------------------

void
bn_request_test (bool verbose)
{
    if (verbose)
        printf (" * bn_request: ");
    //  @selftest
    bn_request_t request;
    memset (&request, 0, sizeof (request));
    assert (bn_request_refuse (&request, BR_REASON_NOT_FOUND, "no such %s", "case") ==
            BR_REASON_NOT_FOUND);
    assert (streq (request.detail, "no such case"));

    //  A route for a request made without HTTP
    char id[BN_ROUTES_ID_MAX + 1];
    request.method = "GET";
    request.path = "/v1/cases/00112233445566778899aabbccddeeff";
    assert (bn_request_route (&request, id) == BR_REASON_OK && request.route);
    assert (streq (request.id, "00112233445566778899aabbccddeeff"));
    request.method = "PUT";
    assert (bn_request_route (&request, id) == BR_REASON_METHOD_NOT_ALLOWED && !request.route);
    request.method = "GET";
    request.path = "/v1/nirgends";
    assert (bn_request_route (&request, id) == BR_REASON_NOT_FOUND);

    //  A body against its fields: types, sizes, required, unknown members
    const bn_field_t fields[] = {{"name", BN_FIELD_LINE, 10, 0, true, false},
                                 {"count", BN_FIELD_INTEGER, 0, 0, false, false},
                                 {"tags", BN_FIELD_LINES, 2, 5, false, true},
                                 {NULL, BN_FIELD_LINE, 0, 0, false, false}};
    json_error_t error;
    json_t *body =
        json_loads ("{\"name\": \"Lotse\", \"count\": 3, \"tags\": [\"a\", \"b\"]}", 0, &error);
    assert (bn_request_fields (&request, body, "", fields) == BR_REASON_OK);
    assert (streq (bn_request_text (body, "name", 10), "Lotse"));
    assert (!bn_request_text (body, "name", 3) && !bn_request_text (body, "count", 10));
    assert (bn_request_integer (body, "count", 0) == 3 && bn_request_integer (body, "x", 7) == 7);
    json_decref (body);
    const char *bad[] = {"{\"count\": 3}",                                     //  name missing
                         "{\"name\": \"zu lang fuer zehn\"}",                  //  too long
                         "{\"name\": \"x\", \"count\": \"3\"}",                //  not an integer
                         "{\"name\": \"x\", \"tags\": [\"a\", \"b\", \"c\"]}", //  too many
                         "{\"name\": \"x\", \"other\": 1}",                    //  unknown member
                         NULL};
    for (size_t index = 0; bad[index]; index++) {
        body = json_loads (bad[index], 0, &error);
        assert (body);
        assert (bn_request_fields (&request, body, "", fields) == BR_REASON_MALFORMED);
        assert (strlen (request.detail) > 0);
        json_decref (body);
    }
    body = json_loads ("{\"name\": \"x\", \"tags\": null}", 0, &error);
    assert (bn_request_fields (&request, body, "", fields) == BR_REASON_OK); //  nullable
    json_decref (body);
    //  @end
    if (verbose)
        printf ("OK\n");
}
