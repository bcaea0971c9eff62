/*  =========================================================================
    bc_exchange - the bruecke CLI's commands for the Transferbörse
    =========================================================================
*/

#include "bc_exchange.h"
#include "bc_api.h"

//  A text member of `object` for printing: "" if missing or not a text.
static const char *
s_json_text (json_t *object, const char *name)
{
    const char *text = json_string_value (json_object_get (object, name));
    return text ? text : "";
}

static long long
s_json_integer (json_t *object, const char *name)
{
    return (long long) json_integer_value (json_object_get (object, name));
}

//  Sets `name` in `object` to `text`, if given. False if it is not UTF-8.
static bool
s_json_set_text (json_t *object, const char *name, const char *text)
{
    return !text || json_object_set_new (object, name, json_string (text)) == 0;
}

//  True if `text` is an id of the board or of an agreement (32 hex digits).
static bool
s_exchange_id_valid (const char *text)
{
    uint8_t id[BR_BOARD_ID_SIZE];
    return text && br_hex_decode (text, id, sizeof (id)) == 0;
}

//  The id argument of a command; NULL (with a usage message) if it is none.
static const char *
s_exchange_id_argument (const bc_command_t *command, zlist_t *arguments)
{
    const char *id = (const char *) zlist_first (arguments);
    if (s_exchange_id_valid (id))
        return id;
    char words[BC_COMMAND_WORDS_SIZE];
    bc_command_words (command, words, sizeof (words));
    fprintf (stderr,
             "bruecke %s: ID is %d hex digits, as 'bruecke exchange board' or 'agreements' show\n",
             words, 2 * BR_BOARD_ID_SIZE);
    return NULL;
}

//  Formats Unix milliseconds as a day "YYYY-MM-DD" (UTC) into `text`.
static void
s_format_day (long long time_ms, char text[BR_TIME_TEXT_SIZE])
{
    br_time_format (time_ms, text);
    char *letter_t = strchr (text, 'T');
    if (letter_t)
        *letter_t = '\0';
}

//  Parses a day "YYYY-MM-DD" as its midnight UTC, in Unix milliseconds.
static bool
s_parse_day (const char *text, int64_t *time_ms)
{
    int year = 0, month = 0, day = 0;
    char extra;
    if (strlen (text) != 10 || sscanf (text, "%4d-%2d-%2d%c", &year, &month, &day, &extra) != 3 ||
        year < 1970)
        return false;
    struct tm fields = {.tm_year = year - 1900, .tm_mon = month - 1, .tm_mday = day};
    time_t seconds = timegm (&fields);
    //  No 2026-02-30: the day must come back as given
    struct tm check;
    if (seconds == (time_t) -1 || !gmtime_r (&seconds, &check) || check.tm_year != year - 1900 ||
        check.tm_mon != month - 1 || check.tm_mday != day)
        return false;
    *time_ms = (int64_t) seconds * 1000;
    return true;
}

//  Prints what a POST submitted: "KIND ID submitted as message MESSAGE-ID".
//  The broker decides later; 'bruecke exchange submissions' tells.
static int
s_exchange_submit (const bc_command_t *command, zhash_t *options, const char *path, json_t *body,
                   const char *kind)
{
    int rc;
    json_t *answer = bc_api_call (command, options, "POST", path, body, &rc);
    if (answer)
        printf ("%s %s submitted as message %s\n", kind, s_json_text (answer, "id"),
                s_json_text (answer, "message_id"));
    json_decref (answer);
    return rc;
}

static int
s_exchange_topics (const bc_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    int rc;
    json_t *answer = bc_api_call (command, options, "GET", "/v1/exchange/topics", NULL, &rc);
    size_t index;
    json_t *entry;
    json_array_foreach (json_object_get (answer, "topics"), index, entry)
        printf ("topic %-28s %s\n", s_json_text (entry, "code"), s_json_text (entry, "label"));
    json_array_foreach (json_object_get (answer, "cancel_reasons"), index, entry) printf (
        "cancel-reason %-20s %s\n", s_json_text (entry, "code"), s_json_text (entry, "label"));
    json_decref (answer);
    return rc;
}

//  One line for an offer or a request on the board.
static void
s_print_board_item (json_t *item)
{
    const char *note = s_json_text (item, "note");
    if (streq (s_json_text (item, "kind"), "offer")) {
        printf ("offer   %s %-12s topics ", s_json_text (item, "id"), s_json_text (item, "town"));
        size_t index;
        json_t *topic;
        json_array_foreach (json_object_get (item, "topics"), index, topic) printf (
            "%s%s", index ? "," : "", json_string_value (topic) ? json_string_value (topic) : "");
        printf ("  %lld h  capacity %lld h/quarter  \"%s\"\n",
                s_json_integer (item, "coaching_hours"),
                s_json_integer (item, "capacity_per_quarter"), s_json_text (item, "title"));
    } else if (json_object_get (item, "offer_id"))
        printf ("request %s %-12s offer %s%s%s%s\n", s_json_text (item, "id"),
                s_json_text (item, "town"), s_json_text (item, "offer_id"), *note ? "  \"" : "",
                note, *note ? "\"" : "");
    else
        printf ("request %s %-12s topic %s%s%s%s\n", s_json_text (item, "id"),
                s_json_text (item, "town"), s_json_text (item, "topic"), *note ? "  \"" : "", note,
                *note ? "\"" : "");
}

static int
s_exchange_board (const bc_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    const char *topic = bc_option (options, "topic");
    if (topic && !br_catalogue_topic (topic)) {
        fprintf (stderr,
                 "bruecke exchange board: '%s' is no topic; 'bruecke exchange topics' "
                 "lists them\n",
                 topic);
        return BC_EXIT_USAGE;
    }
    //  A catalogue code is [a-z-]: it needs no escaping in the query
    char *path =
        topic ? zsys_sprintf ("/v1/exchange/board?topic=%s", topic) : strdup ("/v1/exchange/board");
    int rc;
    json_t *answer = bc_api_call (command, options, "GET", path, NULL, &rc);
    zstr_free (&path);
    if (answer) {
        json_t *offers = json_object_get (answer, "offers");
        json_t *requests = json_object_get (answer, "requests");
        printf ("board at sequence %lld%s%s: %zu offer%s, %zu request%s\n",
                s_json_integer (answer, "head"), topic ? ", topic " : "", topic ? topic : "",
                json_array_size (offers), json_array_size (offers) == 1 ? "" : "s",
                json_array_size (requests), json_array_size (requests) == 1 ? "" : "s");
        size_t index;
        json_t *item;
        json_array_foreach (offers, index, item) s_print_board_item (item);
        json_array_foreach (requests, index, item) s_print_board_item (item);
    }
    json_decref (answer);
    return rc;
}

static int
s_exchange_offer (const bc_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    int64_t hours = 0, capacity = 0;
    if (!bc_parse_number (bc_option (options, "hours"), 1, BR_BOARD_HOURS_MAX, &hours) ||
        !bc_parse_number (bc_option (options, "capacity"), 0, BR_BOARD_CAPACITY_MAX, &capacity)) {
        fprintf (stderr,
                 "bruecke exchange offer: --hours (coaching hours per transfer) is 1 to %d, "
                 "--capacity (coaching hours per quarter) 0 to %d\n",
                 BR_BOARD_HOURS_MAX, BR_BOARD_CAPACITY_MAX);
        return BC_EXIT_USAGE;
    }
    const char *id = bc_option (options, "id");
    if (id && !s_exchange_id_valid (id)) {
        fprintf (stderr, "bruecke exchange offer: --id is %d hex digits (the offer replaced)\n",
                 2 * BR_BOARD_ID_SIZE);
        return BC_EXIT_USAGE;
    }
    json_t *body = json_object ();
    json_t *topics = json_array ();
    json_object_set_new (body, "topics", topics);
    char *list = strdup (bc_option (options, "topics"));
    char *saved = NULL;
    bool valid = true;
    for (char *code = strtok_r (list, ",", &saved); code; code = strtok_r (NULL, ",", &saved))
        valid &= json_array_append_new (topics, json_string (code)) == 0;
    free (list);
    //  The texts, under their API names
    const char *texts[][2] = {{"title", "title"},
                              {"target-group", "target_group"},
                              {"results", "results"},
                              {"success-factors", "success_factors"},
                              {"pitfalls", "pitfalls"}};
    for (size_t index = 0; index < sizeof (texts) / sizeof (texts[0]); index++)
        valid &= s_json_set_text (body, texts[index][1], bc_option (options, texts[index][0]));
    valid &= s_json_set_text (body, "id", id);
    json_object_set_new (body, "presentation",
                         json_boolean (bc_option (options, "presentation") != NULL));
    json_object_set_new (body, "documents",
                         json_boolean (bc_option (options, "documents") != NULL));
    json_object_set_new (body, "coaching_hours", json_integer (hours));
    json_object_set_new (body, "capacity_per_quarter", json_integer (capacity));
    int rc = BC_EXIT_USAGE;
    if (valid)
        rc = s_exchange_submit (command, options, "/v1/exchange/offers", body, "offer");
    else
        fprintf (stderr, "bruecke exchange offer: the texts must be UTF-8\n");
    json_decref (body);
    return rc;
}

static int
s_exchange_request (const bc_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    const char *topic = bc_option (options, "topic");
    const char *offer = bc_option (options, "offer");
    if (!topic == !offer || (offer && !s_exchange_id_valid (offer))) {
        fprintf (stderr,
                 "bruecke exchange request: give --topic CODE or --offer ID (%d hex "
                 "digits), not both\n",
                 2 * BR_BOARD_ID_SIZE);
        return BC_EXIT_USAGE;
    }
    json_t *body = json_object ();
    bool valid = s_json_set_text (body, "topic", topic) &&
                 s_json_set_text (body, "offer_id", offer) &&
                 s_json_set_text (body, "note", bc_option (options, "note"));
    int rc = BC_EXIT_USAGE;
    if (valid)
        rc = s_exchange_submit (command, options, "/v1/exchange/requests", body, "request");
    else
        fprintf (stderr, "bruecke exchange request: the texts must be UTF-8\n");
    json_decref (body);
    return rc;
}

static int
s_exchange_withdraw (const bc_command_t *command, zhash_t *options, zlist_t *arguments)
{
    const char *id = s_exchange_id_argument (command, arguments);
    if (!id)
        return BC_EXIT_USAGE;
    char *path = zsys_sprintf ("/v1/exchange/items/%s/withdraw", id);
    json_t *body = json_object ();
    int rc = s_exchange_submit (command, options, path, body, "withdrawal of");
    json_decref (body);
    zstr_free (&path);
    return rc;
}

//  Orders submissions by the time they were sent.
static int
s_compare_sent_at (const void *left, const void *right)
{
    long long left_at = s_json_integer (*(json_t *const *) left, "at_ms");
    long long right_at = s_json_integer (*(json_t *const *) right, "at_ms");
    return (left_at > right_at) - (left_at < right_at);
}

static int
s_exchange_submissions (const bc_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    int rc;
    json_t *answer = bc_api_call (command, options, "GET", "/v1/exchange/submissions", NULL, &rc);
    json_t *list = json_object_get (answer, "submissions");
    size_t count = json_array_size (list);
    json_t **entries = (json_t **) calloc (count + 1, sizeof (json_t *));
    assert (entries);
    for (size_t index = 0; index < count; index++)
        entries[index] = json_array_get (list, index);
    qsort (entries, count, sizeof (json_t *), s_compare_sent_at);
    for (size_t index = 0; index < count; index++) {
        json_t *entry = entries[index];
        char at[BR_TIME_TEXT_SIZE];
        br_time_format (s_json_integer (entry, "at_ms"), at);
        printf ("%s %-8s %s message %s %s%s%s\n", at, s_json_text (entry, "kind"),
                s_json_text (entry, "subject_id"), s_json_text (entry, "message_id"),
                s_json_text (entry, "state"), json_object_get (entry, "reason") ? " " : "",
                s_json_text (entry, "reason"));
    }
    if (answer && count == 0)
        printf ("nothing sent to the Transferbörse yet\n");
    free (entries);
    json_decref (answer);
    return rc;
}

//  One line for an agreement: id, state, role and partner, topic, hours,
//  quarter, who accepted and signed, dates, and why it was proposed.
static void
s_print_agreement (json_t *agreement)
{
    const char *provider = s_json_text (agreement, "provider");
    const char *receiver = s_json_text (agreement, "receiver");
    bool providing = streq (s_json_text (agreement, "role"), "provider");
    long long quarter = s_json_integer (agreement, "quarter");
    char accepted[2 * (BR_NODE_ID_MAX + 1)], signed_by[2 * (BR_NODE_ID_MAX + 1)];
    snprintf (accepted, sizeof (accepted), "%s%s%s",
              json_is_true (json_object_get (agreement, "provider_accepted")) ? provider : "",
              json_is_true (json_object_get (agreement, "provider_accepted")) &&
                      json_is_true (json_object_get (agreement, "receiver_accepted"))
                  ? ","
                  : "",
              json_is_true (json_object_get (agreement, "receiver_accepted")) ? receiver : "");
    snprintf (signed_by, sizeof (signed_by), "%s%s%s",
              json_is_true (json_object_get (agreement, "provider_signed")) ? provider : "",
              json_is_true (json_object_get (agreement, "provider_signed")) &&
                      json_is_true (json_object_get (agreement, "receiver_signed"))
                  ? ","
                  : "",
              json_is_true (json_object_get (agreement, "receiver_signed")) ? receiver : "");
    printf ("%s %-9s %s %s %-12s %s %lld h %lldQ%lld  accepted by %s  signed by %s",
            s_json_text (agreement, "id"), s_json_text (agreement, "state"),
            providing ? "provider" : "receiver", providing ? "for" : "from",
            providing ? receiver : provider, s_json_text (agreement, "topic"),
            s_json_integer (agreement, "hours"), quarter / 10, quarter % 10,
            *accepted ? accepted : "-", *signed_by ? signed_by : "-");
    char day[BR_TIME_TEXT_SIZE];
    if (s_json_integer (agreement, "scheduled_for_ms") > 0) {
        s_format_day (s_json_integer (agreement, "scheduled_for_ms"), day);
        printf ("  scheduled for %s", day);
    }
    if (s_json_integer (agreement, "completed_ms") > 0) {
        s_format_day (s_json_integer (agreement, "completed_ms"), day);
        printf ("  completed %s", day);
    }
    if (json_object_get (agreement, "cancel_reason"))
        printf ("  cancelled by %s (%s)", s_json_text (agreement, "cancelled_by"),
                s_json_text (agreement, "cancel_reason"));
    printf ("  why: %s\n", s_json_text (agreement, "why"));
}

static int
s_exchange_agreements (const bc_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    const char *state = bc_option (options, "state");
    bool known = !state;
    for (int value = BRUECKE__AGREEMENT_STATE__AGREEMENT_PROPOSED;
         value <= BRUECKE__AGREEMENT_STATE__AGREEMENT_CANCELLED && !known; value++)
        known = streq (state, br_ledger_state_name (value));
    if (!known) {
        fprintf (stderr, "bruecke exchange agreements: --state is proposed, accepted, scheduled, "
                         "completed or cancelled\n");
        return BC_EXIT_USAGE;
    }
    //  A state name is [a-z]: it needs no escaping in the query
    char *path = state ? zsys_sprintf ("/v1/exchange/agreements?state=%s", state)
                       : strdup ("/v1/exchange/agreements");
    int rc;
    json_t *answer = bc_api_call (command, options, "GET", path, NULL, &rc);
    zstr_free (&path);
    size_t index;
    json_t *agreement;
    json_array_foreach (json_object_get (answer, "agreements"), index, agreement)
        s_print_agreement (agreement);
    if (answer && json_array_size (json_object_get (answer, "agreements")) == 0)
        printf ("no agreements%s%s\n", state ? " in state " : "", state ? state : "");
    json_decref (answer);
    return rc;
}

//  Sends one step on agreement ID (the argument) with `body` (borrowed).
static int
s_exchange_step (const bc_command_t *command, zhash_t *options, zlist_t *arguments, json_t *body)
{
    const char *id = s_exchange_id_argument (command, arguments);
    if (!id)
        return BC_EXIT_USAGE;
    char *path = zsys_sprintf ("/v1/exchange/agreements/%s/%s", id, command->name);
    int rc = s_exchange_submit (command, options, path, body, command->name);
    zstr_free (&path);
    return rc;
}

//  'bruecke exchange accept' and 'complete': a step with nothing to add. The
//  node signs a completion now; the other town's time if it signed first.
static int
s_exchange_plain_step (const bc_command_t *command, zhash_t *options, zlist_t *arguments)
{
    json_t *body = json_object ();
    int rc = s_exchange_step (command, options, arguments, body);
    json_decref (body);
    return rc;
}

static int
s_exchange_schedule (const bc_command_t *command, zhash_t *options, zlist_t *arguments)
{
    int64_t time_ms = 0;
    if (!s_parse_day (bc_option (options, "at"), &time_ms)) {
        fprintf (stderr, "bruecke exchange schedule: --at is a day such as 2026-11-03\n");
        return BC_EXIT_USAGE;
    }
    json_t *body = json_pack ("{sI}", "scheduled_for_ms", (json_int_t) time_ms);
    int rc = s_exchange_step (command, options, arguments, body);
    json_decref (body);
    return rc;
}

static int
s_exchange_cancel (const bc_command_t *command, zhash_t *options, zlist_t *arguments)
{
    //  The node checks the code against the catalogue
    json_t *body = json_object ();
    int rc = BC_EXIT_USAGE;
    if (s_json_set_text (body, "reason", bc_option (options, "reason")))
        rc = s_exchange_step (command, options, arguments, body);
    else
        fprintf (stderr, "bruecke exchange cancel: --reason must be UTF-8\n");
    json_decref (body);
    return rc;
}

//  Orders balance lines by town.
static int
s_compare_texts (const void *left, const void *right)
{
    return strcmp (*(const char *const *) left, *(const char *const *) right);
}

static int
s_exchange_ledger (const bc_command_t *command, zhash_t *options, zlist_t *arguments)
{
    (void) arguments;
    int rc;
    json_t *answer = bc_api_call (command, options, "GET", "/v1/exchange/ledger", NULL, &rc);
    if (!answer)
        return rc;
    size_t index;
    json_t *record;
    json_array_foreach (json_object_get (answer, "records"), index, record)
    {
        char completed[BR_TIME_TEXT_SIZE];
        br_time_format (s_json_integer (record, "completed_ms"), completed);
        printf ("record %lld %s %s -> %s %s %lld h completed %s\n",
                s_json_integer (record, "sequence"), s_json_text (record, "transfer_id"),
                s_json_text (record, "provider"), s_json_text (record, "receiver"),
                s_json_text (record, "topic"), s_json_integer (record, "hours"), completed);
    }
    json_t *balances = json_object_get (answer, "balances");
    size_t count = json_object_size (balances);
    const char **towns = (const char **) calloc (count + 1, sizeof (const char *));
    assert (towns);
    const char *town;
    json_t *balance;
    count = 0;
    json_object_foreach (balances, town, balance) towns[count++] = town;
    qsort (towns, count, sizeof (const char *), s_compare_texts);
    for (index = 0; index < count; index++)
        printf ("balance %-12s %+lld h\n", towns[index], s_json_integer (balances, towns[index]));
    free (towns);
    printf ("total %lld h\n", s_json_integer (answer, "total"));
    long long checked = s_json_integer (answer, "checked");
    if (json_is_true (json_object_get (answer, "verified")))
        printf ("verified yes (%lld record%s checked)\n", checked, checked == 1 ? "" : "s");
    else {
        printf ("verified no (%lld record%s checked): %s\n", checked, checked == 1 ? "" : "s",
                s_json_text (answer, "problem"));
        fprintf (stderr, "bruecke: %s: the ledger does not verify: %s\n",
                 br_reason_name (BR_REASON_AUDIT_BROKEN), s_json_text (answer, "problem"));
        rc = BC_EXIT_REFUSED;
    }
    json_decref (answer);
    return rc;
}

//  ---- The group's rows of the command table (columns: bc_command_t) -------

const bc_command_t bc_exchange_commands[] = {
    {"exchange", "topics", BC_API_USAGE,
     "Lists the Transferbörse's topic codes and cancellation reasons, with their labels.\n"
     "The Transferbörse is where the towns of the Kreis trade prevention measures and coaching.\n"
     "Every 'bruecke exchange' command calls the node's JSON API as 'bruecke api' does (same\n"
     "--url, --token-file and --token, same defaults); a refusal exits 1 with\n"
     "'bruecke: REASON: detail' on stderr.",
     BC_API_OPTIONS, "", "", 0, s_exchange_topics},
    {"exchange", "board", "[--topic CODE] " BC_API_USAGE,
     "Shows the Transferbörse's board: one line per offer and per request.\n"
     "As this town's node holds it: offers with id, town, topics, coaching hours per transfer,\n"
     "capacity (hours per quarter) and title; requests with id, town, the topic or the offer\n"
     "asked for, and note. --topic shows only items on that topic.",
     "topic " BC_API_OPTIONS, "", "", 0, s_exchange_board},
    {"exchange", "offer",
     "--title TEXT --topics CODE,CODE --hours N --capacity N\n"
     "       [--target-group TEXT] [--results TEXT] [--success-factors TEXT] [--pitfalls TEXT]\n"
     "       [--presentation] [--documents] [--id ID] " BC_API_USAGE,
     "Publishes an offer of this town on the Transferbörse's board; prints its id.\n"
     "The offer is a measure on 1 to 8 topics, with --hours of coaching per transfer and\n"
     "--capacity hours of coaching a quarter (the matching gives the town at most the sum over\n"
     "its offers); --presentation and --documents say that a presentation and documents come\n"
     "with it. --id replaces the town's offer ID. Prints the offer's id and the message id;\n"
     "the broker decides ('bruecke exchange submissions').",
     "title topics hours capacity target-group results success-factors pitfalls id " BC_API_OPTIONS,
     "presentation documents", "title topics hours capacity", 0, s_exchange_offer},
    {"exchange", "request", "(--topic CODE | --offer ID) [--note TEXT]\n       " BC_API_USAGE,
     "Asks on the board for coaching on a topic, or for one offer; prints its id.\n"
     "Prints the request's id and the message id; the county's matching proposes a partner.",
     "topic offer note " BC_API_OPTIONS, "", "", 0, s_exchange_request},
    {"exchange", "withdraw", "ID " BC_API_USAGE,
     "Withdraws an offer or request of this town from the board.", BC_API_OPTIONS, "", "", 1,
     s_exchange_withdraw},
    {"exchange", "submissions", BC_API_USAGE,
     "Lists what this town sent to the Transferbörse and what became of it.\n"
     "Oldest first: time, kind, the item or agreement, the message id and its state (queued,\n"
     "accepted, receipted; refused or dead with the reason).",
     BC_API_OPTIONS, "", "", 0, s_exchange_submissions},
    {"exchange", "agreements",
     "[--state proposed|accepted|scheduled|completed|cancelled]\n       " BC_API_USAGE,
     "Lists this town's Transferbörse agreements, one line each.\n"
     "Each with id, state, role and partner town, topic, hours, quarter, the towns that\n"
     "accepted and that signed the completion, dates, and why the matching proposed it.",
     "state " BC_API_OPTIONS, "", "", 0, s_exchange_agreements},
    {"exchange", "accept", "ID " BC_API_USAGE,
     "Accepts a proposed agreement for this town; it holds once both towns accepted.",
     BC_API_OPTIONS, "", "", 1, s_exchange_plain_step},
    {"exchange", "schedule", "ID --at YYYY-MM-DD " BC_API_USAGE,
     "Sets the day (midnight UTC) an accepted transfer takes place.", "at " BC_API_OPTIONS, "",
     "at", 1, s_exchange_schedule},
    {"exchange", "complete", "ID " BC_API_USAGE,
     "Signs, for this town, that a scheduled transfer took place.\n"
     "Once both towns signed, the broker enters it in the ledger.",
     BC_API_OPTIONS, "", "", 1, s_exchange_plain_step},
    {"exchange", "cancel", "ID --reason CODE " BC_API_USAGE,
     "Cancels an open agreement with a reason code ('bruecke exchange topics' lists them).",
     "reason " BC_API_OPTIONS, "", "reason", 1, s_exchange_cancel},
    {"exchange", "ledger", BC_API_USAGE,
     "Shows the Transferbörse's ledger; exit 1 if it does not verify.\n"
     "As this town's node holds it: each completed transfer, each town's balance of hours\n"
     "(given +, received -), the total (always 0) and whether the hash chain and both towns'\n"
     "signatures on every record verify.",
     BC_API_OPTIONS, "", "", 0, s_exchange_ledger},
    {.name = NULL}, //  the end
};

void
bc_exchange_test (bool verbose)
{
    if (verbose)
        printf (" * bc_exchange: ");
    //  @selftest
    int64_t time_ms = 0;
    assert (s_parse_day ("2026-11-03", &time_ms) && time_ms == 1793664000000LL);
    assert (s_parse_day ("1970-01-01", &time_ms) && time_ms == 0);
    assert (s_parse_day ("2028-02-29", &time_ms));
    time_ms = 7;
    assert (!s_parse_day ("2026-02-29", &time_ms)); //  no such day
    assert (!s_parse_day ("2026-02-30", &time_ms));
    assert (!s_parse_day ("2026-13-01", &time_ms));
    assert (!s_parse_day ("2026-2-3", &time_ms));
    assert (!s_parse_day ("2026-02-3x", &time_ms));
    assert (!s_parse_day ("1969-12-31", &time_ms));
    assert (!s_parse_day ("", &time_ms));
    assert (time_ms == 7);
    char day[BR_TIME_TEXT_SIZE];
    s_format_day (1793664000000LL + 3600 * 1000, day);
    assert (streq (day, "2026-11-03"));

    assert (s_exchange_id_valid ("00112233445566778899aabbccddeeff"));
    assert (!s_exchange_id_valid ("00112233445566778899aabbccddeef"));
    assert (!s_exchange_id_valid ("00112233445566778899aabbccddeefg"));
    assert (!s_exchange_id_valid (NULL));

    //  Every command of the group takes the API's options and has a handler
    for (const bc_command_t *command = bc_exchange_commands; command->name; command++) {
        assert (streq (command->group, "exchange"));
        assert (strstr (command->options, BC_API_OPTIONS));
        assert (strstr (command->usage, BC_API_USAGE));
        assert (command->handler);
    }
    //  @end
    if (verbose)
        printf ("OK\n");
}
