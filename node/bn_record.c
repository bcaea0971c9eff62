/*  =========================================================================
    bn_record - typed casework records: protobuf messages shown as JSON
    =========================================================================
*/

#include "bruecke.h"
#include "bn_record.h"

//  How a message is written in JSON (records.proto, top).
typedef enum {
    S_OBJECT,  //  an object of its fields
    S_ITEMS,   //  its one repeated field `items`, as an array
    S_ENTRIES, //  its one map `entries`, as an object
    S_JSON,    //  its one string `json`, as the JSON object it holds
    S_CHOICE   //  the value of its one `as_...` field set
} s_shape_t;

//  True if `field` is a map: a repeated message of `key` and `value`.
static bool
s_is_map (const ProtobufCFieldDescriptor *field)
{
    if (field->label != PROTOBUF_C_LABEL_REPEATED || field->type != PROTOBUF_C_TYPE_MESSAGE)
        return false;
    const ProtobufCMessageDescriptor *entry =
        (const ProtobufCMessageDescriptor *) field->descriptor;
    return entry->n_fields == 2 && streq (entry->fields[0].name, "key") &&
           entry->fields[0].type == PROTOBUF_C_TYPE_STRING &&
           streq (entry->fields[1].name, "value");
}

static s_shape_t
s_shape (const ProtobufCMessageDescriptor *descriptor)
{
    const ProtobufCFieldDescriptor *fields = descriptor->fields;
    if (descriptor->n_fields == 1 && streq (fields[0].name, "items") &&
        fields[0].label == PROTOBUF_C_LABEL_REPEATED && !s_is_map (&fields[0]))
        return S_ITEMS;
    if (descriptor->n_fields == 1 && streq (fields[0].name, "entries") && s_is_map (&fields[0]))
        return S_ENTRIES;
    if (descriptor->n_fields == 1 && streq (fields[0].name, "json") &&
        fields[0].type == PROTOBUF_C_TYPE_STRING && fields[0].label != PROTOBUF_C_LABEL_REPEATED)
        return S_JSON;
    for (unsigned index = 0; index < descriptor->n_fields; index++)
        if (strncmp (fields[index].name, "as_", 3) != 0)
            return S_OBJECT;
    return descriptor->n_fields ? S_CHOICE : S_OBJECT;
}

//  ---- JSON to message ----------------------------------------------------------

//  Notes the first problem of an encoding.
static bool
s_problem (char *problem, const char *name, const char *what)
{
    if (!*problem)
        snprintf (problem, BN_RECORD_PROBLEM_MAX, "%s: %s", name, what);
    return false;
}

static ProtobufCMessage *s_message_in (const ProtobufCMessageDescriptor *descriptor, json_t *json,
                                       const char *name, char *problem);

//  Writes the JSON `value` as one value of `field` into `slot`. Returns
//  true, or false (nothing allocated) and notes the problem.
static bool
s_value_in (const ProtobufCFieldDescriptor *field, json_t *value, void *slot, char *problem)
{
    switch (field->type) {
        case PROTOBUF_C_TYPE_STRING: {
            //  A text, without NUL (the store keeps C strings)
            if (!json_is_string (value) ||
                strlen (json_string_value (value)) != json_string_length (value))
                return s_problem (problem, field->name, "text expected");
            *(char **) slot = strdup (json_string_value (value));
            assert (*(char **) slot);
            return true;
        }
        case PROTOBUF_C_TYPE_INT64:
            if (!json_is_integer (value))
                return s_problem (problem, field->name, "an integer expected");
            *(int64_t *) slot = (int64_t) json_integer_value (value);
            return true;
        case PROTOBUF_C_TYPE_BOOL:
            if (!json_is_boolean (value))
                return s_problem (problem, field->name, "true or false expected");
            *(protobuf_c_boolean *) slot = json_is_true (value);
            return true;
        case PROTOBUF_C_TYPE_MESSAGE: {
            ProtobufCMessage *message =
                s_message_in ((const ProtobufCMessageDescriptor *) field->descriptor, value,
                              field->name, problem);
            *(ProtobufCMessage **) slot = message;
            return message != NULL;
        }
        default:
            return s_problem (problem, field->name, "a type records do not use");
    }
}

//  The size of one value of `field` in a repeated field's array.
static size_t
s_value_size (const ProtobufCFieldDescriptor *field)
{
    switch (field->type) {
        case PROTOBUF_C_TYPE_STRING:
            return sizeof (char *);
        case PROTOBUF_C_TYPE_INT64:
            return sizeof (int64_t);
        case PROTOBUF_C_TYPE_BOOL:
            return sizeof (protobuf_c_boolean);
        default:
            return sizeof (void *);
    }
}

//  A new entry message of map `field`: `key` and the JSON `value`.
static ProtobufCMessage *
s_entry_in (const ProtobufCFieldDescriptor *field, const char *key, json_t *value, char *problem)
{
    const ProtobufCMessageDescriptor *descriptor =
        (const ProtobufCMessageDescriptor *) field->descriptor;
    ProtobufCMessage *entry = (ProtobufCMessage *) calloc (1, descriptor->sizeof_message);
    assert (entry);
    descriptor->message_init (entry);
    const ProtobufCFieldDescriptor *key_field = &descriptor->fields[0];
    const ProtobufCFieldDescriptor *value_field = &descriptor->fields[1];
    *(char **) ((uint8_t *) entry + key_field->offset) = strdup (key);
    //  Map values are strings or messages here: no presence flag to set
    assert (value_field->type == PROTOBUF_C_TYPE_STRING ||
            value_field->type == PROTOBUF_C_TYPE_MESSAGE);
    if (!s_value_in (value_field, value, (uint8_t *) entry + value_field->offset, problem)) {
        protobuf_c_message_free_unpacked (entry, NULL);
        return NULL;
    }
    return entry;
}

//  Sets `field` of `message` from the JSON `value`. The message stays
//  whole on failure (what was set is counted), so that it can be freed.
static bool
s_field_in (const ProtobufCFieldDescriptor *field, ProtobufCMessage *message, json_t *value,
            char *problem)
{
    uint8_t *base = (uint8_t *) message;
    if (field->label != PROTOBUF_C_LABEL_REPEATED) {
        if (!s_value_in (field, value, base + field->offset, problem))
            return false;
        if (field->label == PROTOBUF_C_LABEL_OPTIONAL && field->type != PROTOBUF_C_TYPE_STRING &&
            field->type != PROTOBUF_C_TYPE_MESSAGE)
            *(protobuf_c_boolean *) (base + field->quantifier_offset) = 1;
        return true;
    }
    bool map = s_is_map (field);
    if (map ? !json_is_object (value) : !json_is_array (value))
        return s_problem (problem, field->name, map ? "an object expected" : "a list expected");
    size_t *count = (size_t *) (base + field->quantifier_offset);
    size_t size = map ? json_object_size (value) : json_array_size (value);
    uint8_t *array = (uint8_t *) calloc (size ? size : 1, s_value_size (field));
    assert (array);
    *(void **) (base + field->offset) = array;
    if (map) {
        const char *key;
        json_t *item;
        json_object_foreach (value, key, item)
        {
            ProtobufCMessage *entry = s_entry_in (field, key, item, problem);
            if (!entry)
                return false;
            ((ProtobufCMessage **) array)[(*count)++] = entry;
        }
        return true;
    }
    size_t index;
    json_t *item;
    json_array_foreach (value, index, item)
    {
        if (!s_value_in (field, item, array + index * s_value_size (field), problem))
            return false;
        (*count)++;
    }
    return true;
}

//  A new message of `descriptor` from `json` (the value of member `name`),
//  or NULL with the problem noted.
static ProtobufCMessage *
s_message_in (const ProtobufCMessageDescriptor *descriptor, json_t *json, const char *name,
              char *problem)
{
    ProtobufCMessage *message = (ProtobufCMessage *) calloc (1, descriptor->sizeof_message);
    assert (message);
    descriptor->message_init (message);
    bool done = false;
    switch (s_shape (descriptor)) {
        case S_ITEMS:
            done = json_is_array (json)
                       ? s_field_in (&descriptor->fields[0], message, json, problem)
                       : s_problem (problem, name, "a list expected");
            break;
        case S_ENTRIES:
            done = json_is_object (json)
                       ? s_field_in (&descriptor->fields[0], message, json, problem)
                       : s_problem (problem, name, "an object expected");
            break;
        case S_JSON:
            if (json_is_object (json)) {
                char *text = json_dumps (json, JSON_COMPACT);
                json_t *wrapped = json_string (text);
                done = s_field_in (&descriptor->fields[0], message, wrapped, problem);
                json_decref (wrapped);
                free (text);
            } else
                s_problem (problem, name, "an object expected");
            break;
        case S_CHOICE:
            //  The first field whose type fits; the others' problems are not
            //  this value's
            for (unsigned index = 0; index < descriptor->n_fields && !done; index++) {
                char tried[BN_RECORD_PROBLEM_MAX] = "";
                done = s_field_in (&descriptor->fields[index], message, json, tried);
                if (!done) {
                    protobuf_c_message_free_unpacked (message, NULL);
                    message = (ProtobufCMessage *) calloc (1, descriptor->sizeof_message);
                    assert (message);
                    descriptor->message_init (message);
                }
            }
            if (!done)
                s_problem (problem, name, "a text, integer or list expected");
            break;
        case S_OBJECT:
            if (!json_is_object (json)) {
                s_problem (problem, name, "an object expected");
                break;
            }
            done = true;
            const char *member;
            json_t *value;
            json_object_foreach (json, member, value)
            {
                const ProtobufCFieldDescriptor *field =
                    protobuf_c_message_descriptor_get_field_by_name (descriptor, member);
                done = field ? s_field_in (field, message, value, problem)
                             : s_problem (problem, member, "not a field of this record");
                if (!done)
                    break;
            }
            break;
    }
    if (!done) {
        protobuf_c_message_free_unpacked (message, NULL);
        message = NULL;
    }
    return message;
}

br_reason_t
bn_record_encode (const ProtobufCMessageDescriptor *descriptor, json_t *json, zchunk_t **bytes_p,
                  char problem[BN_RECORD_PROBLEM_MAX])
{
    assert (descriptor && bytes_p && problem);
    *bytes_p = NULL;
    *problem = 0;
    ProtobufCMessage *message = s_message_in (descriptor, json, descriptor->short_name, problem);
    if (!message)
        return BR_REASON_MALFORMED;
    *bytes_p = br_proto_encode (message);
    protobuf_c_message_free_unpacked (message, NULL);
    return BR_REASON_OK;
}

//  ---- Message to JSON ----------------------------------------------------------

static json_t *s_message_out (const ProtobufCMessage *message);

//  One value of `field` at `slot` as JSON, or NULL if it holds no JSON (a
//  string that is no UTF-8 text).
static json_t *
s_value_out (const ProtobufCFieldDescriptor *field, const void *slot)
{
    switch (field->type) {
        case PROTOBUF_C_TYPE_STRING:
            return json_string (*(char *const *) slot);
        case PROTOBUF_C_TYPE_INT64:
            return json_integer ((json_int_t) * (const int64_t *) slot);
        case PROTOBUF_C_TYPE_BOOL:
            return json_boolean (*(const protobuf_c_boolean *) slot);
        case PROTOBUF_C_TYPE_MESSAGE:
            return s_message_out (*(ProtobufCMessage *const *) slot);
        default:
            return NULL;
    }
}

//  `field` of `message` as JSON, or NULL if it is absent (an empty
//  repeated field is absent unless `always`).
static json_t *
s_field_out (const ProtobufCFieldDescriptor *field, const ProtobufCMessage *message, bool always)
{
    const uint8_t *base = (const uint8_t *) message;
    if (field->label != PROTOBUF_C_LABEL_REPEATED) {
        if (field->type == PROTOBUF_C_TYPE_STRING || field->type == PROTOBUF_C_TYPE_MESSAGE) {
            if (!*(void *const *) (base + field->offset))
                return NULL;
        } else if (field->label == PROTOBUF_C_LABEL_OPTIONAL &&
                   !*(const protobuf_c_boolean *) (base + field->quantifier_offset))
            return NULL;
        return s_value_out (field, base + field->offset);
    }
    size_t count = *(const size_t *) (base + field->quantifier_offset);
    const uint8_t *array = *(const uint8_t *const *) (base + field->offset);
    if (count == 0 && !always)
        return NULL;
    bool map = s_is_map (field);
    json_t *json = map ? json_object () : json_array ();
    for (size_t index = 0; index < count; index++) {
        if (map) {
            const ProtobufCMessage *entry = ((ProtobufCMessage *const *) array)[index];
            const ProtobufCFieldDescriptor *key = &entry->descriptor->fields[0];
            const ProtobufCFieldDescriptor *value = &entry->descriptor->fields[1];
            const char *name = *(char *const *) ((const uint8_t *) entry + key->offset);
            json_t *item = s_field_out (value, entry, true);
            //  A key that is no UTF-8 text is refused (set_new takes the item)
            if (!name || !item || json_object_set_new (json, name, item) != 0) {
                if (!name)
                    json_decref (item);
                json_decref (json);
                return NULL;
            }
        } else {
            json_t *item = s_value_out (field, array + index * s_value_size (field));
            if (!item) {
                json_decref (json);
                return NULL;
            }
            json_array_append_new (json, item);
        }
    }
    return json;
}

//  `message` as JSON, or NULL if it does not make JSON (a `json` text that
//  is not a JSON object, an empty choice).
static json_t *
s_message_out (const ProtobufCMessage *message)
{
    const ProtobufCMessageDescriptor *descriptor = message->descriptor;
    switch (s_shape (descriptor)) {
        case S_ITEMS:
        case S_ENTRIES:
            return s_field_out (&descriptor->fields[0], message, true);
        case S_JSON: {
            const char *text =
                *(char *const *) ((const uint8_t *) message + descriptor->fields[0].offset);
            json_t *json = text ? json_loads (text, 0, NULL) : NULL;
            if (json && !json_is_object (json)) {
                json_decref (json);
                json = NULL;
            }
            return json;
        }
        case S_CHOICE:
            for (unsigned index = 0; index < descriptor->n_fields; index++) {
                json_t *json = s_field_out (&descriptor->fields[index], message, true);
                if (json)
                    return json;
            }
            return NULL;
        case S_OBJECT:
            break;
    }
    json_t *json = json_object ();
    for (unsigned index = 0; index < descriptor->n_fields; index++) {
        const ProtobufCFieldDescriptor *field = &descriptor->fields[index];
        json_t *value = s_field_out (field, message, false);
        bool present =
            field->label == PROTOBUF_C_LABEL_REPEATED
                ? *(const size_t *) ((const uint8_t *) message + field->quantifier_offset) > 0
            : field->type == PROTOBUF_C_TYPE_STRING || field->type == PROTOBUF_C_TYPE_MESSAGE
                ? *(void *const *) ((const uint8_t *) message + field->offset) != NULL
                : *(const protobuf_c_boolean *) ((const uint8_t *) message +
                                                 field->quantifier_offset);
        if (present && !value) {
            json_decref (json);
            return NULL;
        }
        if (value)
            json_object_set_new (json, field->name, value);
    }
    return json;
}

br_reason_t
bn_record_decode (const ProtobufCMessageDescriptor *descriptor, const uint8_t *data, size_t size,
                  json_t **json_p)
{
    assert (descriptor && json_p);
    *json_p = NULL;
    br_reason_t reason;
    ProtobufCMessage *message = br_proto_decode (descriptor, data, size, BN_RECORD_MAX, &reason);
    if (!message)
        return reason;
    *json_p = s_message_out (message);
    br_proto_free (&message);
    return *json_p ? BR_REASON_OK : BR_REASON_MALFORMED;
}

//  ---- Self test ----------------------------------------------------------------------

//  Encodes `text` as a `descriptor` record and decodes it again; returns the
//  JSON it gave back, or NULL with the reason in *reason.
static json_t *
s_test_round (const ProtobufCMessageDescriptor *descriptor, const char *text, br_reason_t *reason,
              char problem[BN_RECORD_PROBLEM_MAX])
{
    json_t *json = json_loads (text, JSON_ALLOW_NUL, NULL);
    assert (json);
    zchunk_t *bytes = NULL;
    *reason = bn_record_encode (descriptor, json, &bytes, problem);
    json_decref (json);
    json_t *back = NULL;
    if (*reason == BR_REASON_OK)
        *reason = bn_record_decode (descriptor, zchunk_data (bytes), zchunk_size (bytes), &back);
    zchunk_destroy (&bytes);
    return back;
}

void
bn_record_test (bool verbose)
{
    if (verbose)
        printf (" * bn_record: ");
    char problem[BN_RECORD_PROBLEM_MAX];
    br_reason_t reason;

    //  A case with every shape of field comes back as it went in
    const char *whole =
        "{\"id\":\"00112233445566778899aabbccddeeff\",\"kind\":\"family\",\"state\":\"open\","
        "\"members\":[{\"name\":\"Aylin Beispiel\",\"role\":\"mother\",\"age\":29,"
        "\"custody_for\":[\"Deniz Beispiel\"]},{\"name\":\"Deniz Beispiel\",\"role\":\"child\","
        "\"age\":5}],\"needs\":[\"Kita-Platz\"],"
        "\"details\":{\"language\":{\"Kind\":\"spricht wenig Deutsch\"},\"contact\":{}},"
        "\"follow_up_ms\":-1,\"history\":[{\"change\":\"caseworker\",\"at_ms\":7,\"by\":\"a\","
        "\"previous\":\"Frau Muster\"},{\"change\":\"follow_up_ms\",\"previous\":42},"
        "{\"change\":\"needs\",\"previous\":[]},{\"change\":\"members\",\"previous\":"
        "[{\"name\":\"Aylin Beispiel\",\"age\":0}]},{\"change\":\"lotse\"}],"
        "\"transferred_from\":{\"node\":\"unna\"}}";
    json_t *in = json_loads (whole, 0, NULL);
    json_t *back = s_test_round (&bruecke__store__case_record__descriptor, whole, &reason, problem);
    assert (reason == BR_REASON_OK && back);
    assert (json_equal (in, back));
    json_decref (back);
    json_decref (in);

    //  Received sections keep the sender's JSON objects, unknown members too
    const char *referral = "{\"sections\":{\"household\":{\"kind\":\"family\",\"members\":[{"
                           "\"name\":\"X\",\"age\":3,\"shoe\":[1,{\"a\":null}]}]},"
                           "\"language\":{}},\"processing_stopped\":false}";
    in = json_loads (referral, 0, NULL);
    back = s_test_round (&bruecke__store__referral_record__descriptor, referral, &reason, problem);
    assert (reason == BR_REASON_OK && json_equal (in, back));
    json_decref (back);
    json_decref (in);

    //  An empty list is an absent field; an empty record an empty object
    back =
        s_test_round (&bruecke__store__case_record__descriptor, "{\"needs\":[]}", &reason, problem);
    assert (reason == BR_REASON_OK && json_object_size (back) == 0);
    json_decref (back);

    //  Nothing untyped gets in: each refusal names the member
    struct {
        const char *json;    //  a case
        const char *problem; //  what encoding says
    } refused[] = {
        {"{\"shoe\":1}", "shoe: not a field of this record"},
        {"{\"lotse\":12}", "lotse: text expected"},
        {"{\"lotse\":null}", "lotse: text expected"},
        {"{\"lotse\":\"a\\u0000b\"}", "lotse: text expected"},
        {"{\"follow_up_ms\":\"morgen\"}", "follow_up_ms: an integer expected"},
        {"{\"follow_up_ms\":1.5}", "follow_up_ms: an integer expected"},
        {"{\"needs\":\"Kita\"}", "needs: a list expected"},
        {"{\"needs\":[\"Kita\",3]}", "needs: text expected"},
        {"{\"members\":[{\"name\":\"A\",\"age\":\"5\"}]}", "age: an integer expected"},
        {"{\"members\":[{\"name\":\"A\",\"hair\":\"red\"}]}", "hair: not a field of this record"},
        {"{\"details\":[]}", "details: an object expected"},
        {"{\"details\":{\"language\":{\"Kind\":5}}}", "value: text expected"},
        {"{\"details\":{\"language\":\"Deutsch\"}}", "value: an object expected"},
        {"{\"history\":[{\"previous\":true}]}", "previous: a text, integer or list expected"},
        {"{\"history\":[{\"previous\":[1]}]}", "previous: a text, integer or list expected"},
        {"[]", "CaseRecord: an object expected"},
    };
    for (size_t index = 0; index < sizeof (refused) / sizeof (refused[0]); index++) {
        back = s_test_round (&bruecke__store__case_record__descriptor, refused[index].json, &reason,
                             problem);
        if (reason != BR_REASON_MALFORMED || !streq (problem, refused[index].problem))
            fprintf (stderr, "bn_record: %s gave '%s'\n", refused[index].json, problem);
        assert (reason == BR_REASON_MALFORMED && !back);
        assert (streq (problem, refused[index].problem));
    }
    //  A section whose text is not a JSON object does not decode
    Bruecke__Store__JsonObject section = BRUECKE__STORE__JSON_OBJECT__INIT;
    section.json = (char *) "[1]";
    zchunk_t *bytes = br_proto_encode (&section.base);
    assert (bn_record_decode (&bruecke__store__json_object__descriptor, zchunk_data (bytes),
                              zchunk_size (bytes), &back) == BR_REASON_MALFORMED);
    zchunk_destroy (&bytes);
    //  Nor do texts that are no UTF-8, as a value or as a key
    Bruecke__Store__TextMap__EntriesEntry entry = BRUECKE__STORE__TEXT_MAP__ENTRIES_ENTRY__INIT;
    Bruecke__Store__TextMap__EntriesEntry *entries[] = {&entry};
    Bruecke__Store__TextMap texts = BRUECKE__STORE__TEXT_MAP__INIT;
    texts.entries = entries;
    texts.n_entries = 1;
    const char *pairs[][2] = {
        {"Kind", "spricht\xff"}, {"Kind\xf2", "spricht"}, {"Kind", "spricht"}};
    for (size_t index = 0; index < 3; index++) {
        entry.key = (char *) pairs[index][0];
        entry.value = (char *) pairs[index][1];
        bytes = br_proto_encode (&texts.base);
        reason = bn_record_decode (&bruecke__store__text_map__descriptor, zchunk_data (bytes),
                                   zchunk_size (bytes), &back);
        assert (reason == (index < 2 ? BR_REASON_MALFORMED : BR_REASON_OK));
        json_decref (back);
        zchunk_destroy (&bytes);
    }
    //  Bytes that are no record do not decode
    const uint8_t garbage[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f};
    assert (bn_record_decode (&bruecke__store__case_record__descriptor, garbage, sizeof (garbage),
                              &back) == BR_REASON_MALFORMED);
    if (verbose)
        printf ("OK\n");
}
