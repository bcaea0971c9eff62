/*  =========================================================================
    bb_dashboard - the county dashboard, served by the broker

    See bb_dashboard.h. The page and the metrics are rendered on the
    broker's thread in bb_dashboard_update and sent to the dashboard's own
    actor, which serves the latest it was sent (br_http, in its thread).
    =========================================================================
*/

#include "bruecke.h"
#include "bb_dashboard.h"

#define S_PLOT_WIDTH  640
#define S_PLOT_HEIGHT 160
#define S_PLOT_MARGIN 40

//  One moment of the history.
typedef struct {
    int64_t at_ms;     //  when
    uint64_t queued;   //  messages waiting, all towns
    uint64_t accepted; //  messages stored since start
    uint64_t refused;  //  refusals since start
    size_t online;     //  towns online
} s_sample_t;

struct _bb_dashboard_t {
    zactor_t *server;                         //  serves what it was sent last (s_server)
    uint16_t port;                            //  its port
    char *page;                               //  the page rendered last
    char *metrics;                            //  the metrics rendered last
    s_sample_t history[BB_DASHBOARD_HISTORY]; //  a ring of samples
    size_t samples;                           //  samples taken in all
};

//  ---- Rendering ------------------------------------------------------------------

//  Appends text with HTML's special characters escaped.
static void
s_escaped (zchunk_t *out, const char *text)
{
    for (const char *cursor = text; *cursor; cursor++) {
        const char *entity = *cursor == '<'    ? "&lt;"
                             : *cursor == '>'  ? "&gt;"
                             : *cursor == '&'  ? "&amp;"
                             : *cursor == '"'  ? "&quot;"
                             : *cursor == '\'' ? "&#39;"
                                               : NULL;
        if (entity)
            zchunk_extend (out, entity, strlen (entity));
        else
            zchunk_extend (out, cursor, 1);
    }
}

static void __attribute__ ((format (printf, 2, 3)))
s_append (zchunk_t *out, const char *format, ...)
{
    va_list arguments;
    va_start (arguments, format);
    char *text = zsys_vprintf (format, arguments);
    va_end (arguments);
    zchunk_extend (out, text, strlen (text));
    zstr_free (&text);
}

static const s_sample_t *
s_sample (bb_dashboard_t *self, size_t index)
{
    size_t count = self->samples < BB_DASHBOARD_HISTORY ? self->samples : BB_DASHBOARD_HISTORY;
    size_t first = self->samples - count;
    return &self->history[(first + index) % BB_DASHBOARD_HISTORY];
}

//  The value plotted for sample `index`: queued messages, or messages
//  stored per second since the sample before.
static double
s_plot_value (bb_dashboard_t *self, size_t index, bool throughput)
{
    const s_sample_t *sample = s_sample (self, index);
    if (!throughput)
        return (double) sample->queued;
    if (index == 0)
        return 0;
    const s_sample_t *before = s_sample (self, index - 1);
    double seconds = (double) (sample->at_ms - before->at_ms) / 1000.0;
    return seconds > 0 ? (double) (sample->accepted - before->accepted) / seconds : 0;
}

//  An SVG line plot of the history: queue depth or throughput.
static void
s_plot (bb_dashboard_t *self, zchunk_t *out, bool throughput, const char *title)
{
    size_t count = self->samples < BB_DASHBOARD_HISTORY ? self->samples : BB_DASHBOARD_HISTORY;
    double top = 1;
    for (size_t index = 0; index < count; index++) {
        double value = s_plot_value (self, index, throughput);
        if (value > top)
            top = value;
    }
    int width = S_PLOT_WIDTH - 2 * S_PLOT_MARGIN, height = S_PLOT_HEIGHT - 2 * S_PLOT_MARGIN / 2;
    s_append (out,
              "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" "
              "aria-label=\"%s\" viewBox=\"0 0 %d %d\" class=\"plot\">"
              "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"axis\"/>"
              "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"axis\"/>"
              "<text x=\"2\" y=\"%d\">%.0f</text><text x=\"2\" y=\"%d\">0</text>",
              title, S_PLOT_WIDTH, S_PLOT_HEIGHT, S_PLOT_MARGIN, S_PLOT_MARGIN / 2, S_PLOT_MARGIN,
              S_PLOT_MARGIN / 2 + height, S_PLOT_MARGIN, S_PLOT_MARGIN / 2 + height,
              S_PLOT_MARGIN + width, S_PLOT_MARGIN / 2 + height, S_PLOT_MARGIN / 2 + 4, top,
              S_PLOT_MARGIN / 2 + height);
    if (count > 1) {
        s_append (out, "<polyline class=\"line\" points=\"");
        for (size_t index = 0; index < count; index++) {
            double x = S_PLOT_MARGIN + (double) width * (double) index / (double) (count - 1);
            double y = S_PLOT_MARGIN / 2 + height -
                       (double) height * s_plot_value (self, index, throughput) / top;
            s_append (out, "%.1f,%.1f ", x, y);
        }
        s_append (out, "\"/>");
    }
    const char *span = count > 1 ? "" : " (noch keine Verlaufsdaten)";
    s_append (out, "</svg><figcaption>%s%s</figcaption></figure>\n", title, span);
}

static void
s_time_text (int64_t ms, char *text, size_t size)
{
    if (ms <= 0) {
        snprintf (text, size, "nie");
        return;
    }
    time_t seconds = (time_t) (ms / 1000);
    struct tm local;
    localtime_r (&seconds, &local);
    strftime (text, size, "%d.%m.%Y %H:%M:%S", &local);
}

//  How a town's clock stands against the broker's, in words; `*wrong` is
//  set if it is off so far that its messages are refused (ahead) or may
//  arrive expired (behind).
static void
s_clock_text (const bb_dashboard_town_t *town, char *text, size_t size, bool *wrong)
{
    *wrong = false;
    if (!town->clock_known) {
        snprintf (text, size, "unbekannt");
        return;
    }
    int64_t offset = town->clock_offset_ms;
    int64_t magnitude = offset < 0 ? -offset : offset;
    if (magnitude <= BB_DASHBOARD_CLOCK_RIGHT_MS) {
        snprintf (text, size, "stimmt");
        return;
    }
    *wrong = magnitude > BR_CLOCK_SKEW_MS;
    int64_t seconds = magnitude / 1000;
    const char *way = offset > 0 ? "vor" : "nach";
    if (seconds >= 3600)
        snprintf (text, size, "geht %" PRId64 " h %" PRId64 " min %s", seconds / 3600,
                  seconds % 3600 / 60, way);
    else if (seconds >= 60)
        snprintf (text, size, "geht %" PRId64 " min %" PRId64 " s %s", seconds / 60, seconds % 60,
                  way);
    else
        snprintf (text, size, "geht %" PRId64 " s %s", seconds, way);
}

static char *
s_render_page (bb_dashboard_t *self, const bb_dashboard_figures_t *figures)
{
    zchunk_t *out = zchunk_new (NULL, 16384);
    size_t online = 0, queued = 0, clocks_wrong = 0;
    for (size_t index = 0; index < figures->town_count; index++) {
        online += figures->towns[index].online;
        queued += figures->towns[index].queued;
        char text[64];
        bool wrong;
        s_clock_text (&figures->towns[index], text, sizeof (text), &wrong);
        clocks_wrong += wrong;
    }
    char now[32];
    s_time_text (figures->now_ms, now, sizeof (now));
    s_append (out,
              "<!doctype html>\n<html lang=\"de\"><head><meta charset=\"utf-8\">"
              "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
              "<meta http-equiv=\"refresh\" content=\"%d\">"
              "<title>Kreis-Dashboard bruecke</title><style>"
              "body{font-family:sans-serif;margin:1rem;line-height:1.4;color:#111}"
              "table{border-collapse:collapse;margin:.5rem 0 1.5rem}"
              "th,td{border:1px solid #999;padding:.25rem .6rem;text-align:left}"
              "td.n{text-align:right}.online{color:#05620f}.offline{color:#a40000}"
              ".plot{max-width:40rem;width:100%%;height:auto}.axis{stroke:#555}"
              ".line{fill:none;stroke:#0050a0;stroke-width:2}"
              "</style></head><body><main>\n"
              "<h1>Kreis-Dashboard</h1><p>Stand: %s. Die Seite erneuert sich alle %d "
              "Sekunden. Alle Zahlen sind Anzahlen, keine Personendaten.</p>\n",
              BB_DASHBOARD_REFRESH_S, now, BB_DASHBOARD_REFRESH_S);

    s_append (out, "<h2>Städte</h2><p>%zu von %zu online; %zu Nachrichten warten.</p>", online,
              figures->town_count, queued);
    if (clocks_wrong) {
        char towns[32] = "einer Stadt";
        if (clocks_wrong > 1)
            snprintf (towns, sizeof (towns), "%zu Städten", clocks_wrong);
        s_append (out,
                  "<p class=\"offline\">Bei %s weicht die Uhr um mehr als %d Minuten von der "
                  "des Kreises ab. Geht sie vor, nimmt der Kreis ihre Nachrichten erst an, wenn "
                  "die Uhr gestellt ist; die Stadt behält sie bis dahin. Bitte die "
                  "Zeitsynchronisation (NTP) der Server prüfen.</p>",
                  towns, BR_CLOCK_SKEW_MS / 60000);
    }
    s_append (out, "<table><thead><tr><th scope=\"col\">Stadt</th><th scope=\"col\">Knoten</th>"
                   "<th scope=\"col\">Zustand</th><th scope=\"col\">Letzter Kontakt</th>"
                   "<th scope=\"col\">Uhr</th>"
                   "<th scope=\"col\">Warteschlange</th></tr></thead><tbody>\n");
    for (size_t index = 0; index < figures->town_count; index++) {
        const bb_dashboard_town_t *town = &figures->towns[index];
        char seen[32], clock[64];
        bool clock_wrong;
        s_time_text (town->last_seen_ms, seen, sizeof (seen));
        s_clock_text (town, clock, sizeof (clock), &clock_wrong);
        s_append (out, "<tr><td>");
        s_escaped (out, town->name);
        s_append (out, "</td><td>");
        s_escaped (out, town->node_id);
        s_append (out,
                  "</td><td class=\"%s\">%s</td><td>%s</td><td%s>%s</td>"
                  "<td class=\"n\">%zu</td></tr>\n",
                  town->online ? "online" : "offline", town->online ? "online" : "offline", seen,
                  clock_wrong ? " class=\"offline\"" : "", clock, town->queued);
    }
    s_append (out, "</tbody></table>\n<h2>Verlauf</h2>\n");
    s_plot (self, out, false, "Wartende Nachrichten");
    s_plot (self, out, true, "Durchsatz (gespeicherte Nachrichten pro Sekunde)");

    uint64_t refused = 0;
    for (int reason = 0; reason < BB_DASHBOARD_REASONS; reason++)
        refused += figures->refusals[reason];
    s_append (out,
              "<h2>Ablehnungen nach Grund</h2><p>%" PRIu64 " gespeichert, %" PRIu64
              " abgelehnt seit Beginn der Aufzeichnung.</p><table><thead><tr>"
              "<th scope=\"col\">Grund</th><th scope=\"col\">Code</th>"
              "<th scope=\"col\">Anzahl</th></tr></thead><tbody>\n",
              figures->accepted, refused);
    for (int reason = 1; reason < BB_DASHBOARD_REASONS; reason++)
        if (figures->refusals[reason])
            s_append (out,
                      "<tr><td>%s</td><td class=\"n\">%d</td><td class=\"n\">%" PRIu64
                      "</td></tr>\n",
                      br_reason_name ((br_reason_t) reason), reason, figures->refusals[reason]);
    if (refused == 0)
        s_append (out, "<tr><td colspan=\"3\">keine</td></tr>\n");
    s_append (out, "</tbody></table>\n");

    s_append (out,
              "<h2>Überweisungen zwischen Städten</h2><p>Anzahl der Überweisungen "
              "(REFERRAL) je Weg. Felder mit weniger als %d sind unterdrückt.</p>"
              "<table><thead><tr><th scope=\"col\">von</th><th scope=\"col\">an</th>"
              "<th scope=\"col\">Anzahl</th></tr></thead><tbody>\n",
              BB_DASHBOARD_SUPPRESS_BELOW);
    for (size_t index = 0; index < figures->flow_count; index++) {
        const bb_dashboard_flow_t *flow = &figures->flows[index];
        s_append (out, "<tr><td>");
        s_escaped (out, flow->from);
        s_append (out, "</td><td>");
        s_escaped (out, flow->to);
        if (flow->count < BB_DASHBOARD_SUPPRESS_BELOW)
            s_append (out, "</td><td class=\"n\">&lt; %d</td></tr>\n", BB_DASHBOARD_SUPPRESS_BELOW);
        else
            s_append (out, "</td><td class=\"n\">%" PRIu64 "</td></tr>\n", flow->count);
    }
    s_append (out, "</tbody></table>\n");

    s_append (out,
              "<h2>Transferbörse</h2><p>Börse bei Änderung %" PRIu64 "; Hauptbuch: %" PRIu64
              " Einträge, Summe %" PRId64 " Stunden, Kette %s.</p>"
              "<table><thead><tr><th scope=\"col\">Stadt</th>"
              "<th scope=\"col\">Saldo (Stunden gegeben minus erhalten)</th></tr></thead><tbody>\n",
              figures->board_head, figures->ledger_records, figures->ledger_total,
              figures->ledger_verified ? "geprüft und in Ordnung" : "FEHLERHAFT");
    for (size_t index = 0; index < figures->town_count; index++) {
        const bb_dashboard_town_t *town = &figures->towns[index];
        s_append (out, "<tr><td>");
        s_escaped (out, town->name);
        s_append (out, "</td><td class=\"n\">%+" PRId64 "</td></tr>\n", town->balance);
    }
    s_append (out, "</tbody></table>\n<p><a href=\"/metrics\">Kennzahlen für Prometheus</a></p>"
                   "</main></body></html>\n");
    char *page = strndup ((const char *) zchunk_data (out), zchunk_size (out));
    zchunk_destroy (&out);
    return page;
}

static char *
s_render_metrics (const bb_dashboard_figures_t *figures)
{
    zchunk_t *out = zchunk_new (NULL, 8192);
    s_append (out, "# HELP bruecke_town_online Whether the town's node is connected.\n"
                   "# TYPE bruecke_town_online gauge\n");
    for (size_t index = 0; index < figures->town_count; index++)
        s_append (out, "bruecke_town_online{node=\"%s\"} %d\n", figures->towns[index].node_id,
                  figures->towns[index].online);
    s_append (out, "# HELP bruecke_town_clock_offset_seconds The town's clock minus the broker's.\n"
                   "# TYPE bruecke_town_clock_offset_seconds gauge\n");
    for (size_t index = 0; index < figures->town_count; index++)
        if (figures->towns[index].clock_known)
            s_append (out, "bruecke_town_clock_offset_seconds{node=\"%s\"} %.3f\n",
                      figures->towns[index].node_id,
                      (double) figures->towns[index].clock_offset_ms / 1000.0);
    s_append (out, "# HELP bruecke_town_last_seen_seconds Unix time of the town's last message.\n"
                   "# TYPE bruecke_town_last_seen_seconds gauge\n");
    for (size_t index = 0; index < figures->town_count; index++)
        s_append (out, "bruecke_town_last_seen_seconds{node=\"%s\"} %" PRId64 "\n",
                  figures->towns[index].node_id, figures->towns[index].last_seen_ms / 1000);
    s_append (out, "# HELP bruecke_queue_depth Messages waiting for the town.\n"
                   "# TYPE bruecke_queue_depth gauge\n");
    for (size_t index = 0; index < figures->town_count; index++)
        s_append (out, "bruecke_queue_depth{node=\"%s\"} %zu\n", figures->towns[index].node_id,
                  figures->towns[index].queued);
    s_append (out,
              "# HELP bruecke_messages_stored_total Messages stored since the broker started.\n"
              "# TYPE bruecke_messages_stored_total counter\nbruecke_messages_stored_total %" PRIu64
              "\n# HELP bruecke_refusals_total Refusals by reason code.\n"
              "# TYPE bruecke_refusals_total counter\n",
              figures->accepted);
    for (int reason = 1; reason < BB_DASHBOARD_REASONS; reason++)
        if (figures->refusals[reason])
            s_append (out, "bruecke_refusals_total{reason=\"%s\"} %" PRIu64 "\n",
                      br_reason_name ((br_reason_t) reason), figures->refusals[reason]);
    s_append (out,
              "# HELP bruecke_referrals_total Referrals from town to town; flows under %d "
              "are left out.\n# TYPE bruecke_referrals_total counter\n",
              BB_DASHBOARD_SUPPRESS_BELOW);
    for (size_t index = 0; index < figures->flow_count; index++)
        if (figures->flows[index].count >= BB_DASHBOARD_SUPPRESS_BELOW)
            s_append (out, "bruecke_referrals_total{from=\"%s\",to=\"%s\"} %" PRIu64 "\n",
                      figures->flows[index].from, figures->flows[index].to,
                      figures->flows[index].count);
    s_append (out, "# HELP bruecke_exchange_balance_hours Transferbörse balance of the town.\n"
                   "# TYPE bruecke_exchange_balance_hours gauge\n");
    for (size_t index = 0; index < figures->town_count; index++)
        s_append (out, "bruecke_exchange_balance_hours{node=\"%s\"} %" PRId64 "\n",
                  figures->towns[index].node_id, figures->towns[index].balance);
    s_append (
        out,
        "# HELP bruecke_exchange_ledger_records Records in the Transferbörse ledger.\n"
        "# TYPE bruecke_exchange_ledger_records gauge\nbruecke_exchange_ledger_records %" PRIu64
        "\n# HELP bruecke_exchange_ledger_verified Whether the ledger's chain verifies.\n"
        "# TYPE bruecke_exchange_ledger_verified gauge\nbruecke_exchange_ledger_verified %d\n",
        figures->ledger_records, figures->ledger_verified);
    char *text = strndup ((const char *) zchunk_data (out), zchunk_size (out));
    zchunk_destroy (&out);
    return text;
}

void
bb_dashboard_update (bb_dashboard_t *self, const bb_dashboard_figures_t *figures)
{
    assert (self && figures);
    s_sample_t *sample = &self->history[self->samples % BB_DASHBOARD_HISTORY];
    memset (sample, 0, sizeof (*sample));
    sample->at_ms = figures->now_ms;
    sample->accepted = figures->accepted;
    for (size_t index = 0; index < figures->town_count; index++) {
        sample->queued += figures->towns[index].queued;
        sample->online += figures->towns[index].online;
    }
    for (int reason = 0; reason < BB_DASHBOARD_REASONS; reason++)
        sample->refused += figures->refusals[reason];
    self->samples++;
    free (self->page);
    free (self->metrics);
    self->page = s_render_page (self, figures);
    self->metrics = s_render_metrics (figures);
    zstr_sendm (self->server, "UPDATE");
    zstr_sendm (self->server, self->page);
    zstr_send (self->server, self->metrics);
}

char *
bb_dashboard_page (bb_dashboard_t *self)
{
    assert (self);
    return strdup (self->page);
}

char *
bb_dashboard_metrics (bb_dashboard_t *self)
{
    assert (self);
    return strdup (self->metrics);
}

//  ---- Serving --------------------------------------------------------------------

//  What the server actor serves: the texts it was sent last.
typedef struct {
    char *page;    //  the page
    char *metrics; //  the metrics
} s_served_t;

static enum MHD_Result
s_handle (void *argument, struct MHD_Connection *connection, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size, void **state_p)
{
    (void) version;
    (void) upload_data;
    s_served_t *served = (s_served_t *) argument;
    if (!*state_p) {
        *state_p = served; //  the headers are in; answer once the request is
        return MHD_YES;
    }
    if (*upload_data_size) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    int status = MHD_HTTP_OK;
    const char *type = "text/html; charset=utf-8";
    char *text = NULL;
    if (!streq (method, "GET")) {
        status = MHD_HTTP_METHOD_NOT_ALLOWED;
        text = strdup ("only GET\n");
        type = "text/plain; charset=utf-8";
    } else if (streq (url, "/"))
        text = strdup (served->page);
    else if (streq (url, "/metrics")) {
        text = strdup (served->metrics);
        type = "text/plain; version=0.0.4; charset=utf-8";
    } else {
        status = MHD_HTTP_NOT_FOUND;
        text = strdup ("not found\n");
        type = "text/plain; charset=utf-8";
    }
    struct MHD_Response *response =
        MHD_create_response_from_buffer (strlen (text), text, MHD_RESPMEM_MUST_FREE);
    if (!response) {
        free (text);
        return MHD_NO;
    }
    MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header (response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header (response, "Content-Security-Policy",
                             "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
                             "frame-ancestors 'none'");
    MHD_add_response_header (response, "X-Content-Type-Options", "nosniff");
    enum MHD_Result result = MHD_queue_response (connection, (unsigned int) status, response);
    MHD_destroy_response (response);
    return result;
}

//  "UPDATE" page metrics: serve these from now on.
static void
s_update (void *argument, const char *name, zmsg_t *message)
{
    s_served_t *served = (s_served_t *) argument;
    if (!streq (name, "UPDATE") || zmsg_size (message) != 2)
        return;
    zstr_free (&served->page);
    zstr_free (&served->metrics);
    served->page = zmsg_popstr (message);
    served->metrics = zmsg_popstr (message);
}

//  How the server actor is started and what it tells its starter.
typedef struct {
    const char *address; //  where to listen
    br_reason_t reason;  //  OK if it listens
    uint16_t port;       //  then its port
} s_start_t;

//  The server actor: listens, then serves until $TERM.
static void
s_server (zsock_t *pipe, void *args)
{
    s_start_t *start = (s_start_t *) args;
    s_served_t served = {
        strdup ("<!doctype html><title>Kreis-Dashboard</title><p>Wird erstellt ...</p>\n"),
        strdup ("")};
    const struct MHD_OptionItem options[] = {
        {MHD_OPTION_CONNECTION_LIMIT, BB_DASHBOARD_CONNECTION_MAX, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, BB_DASHBOARD_TIMEOUT_SECONDS, NULL},
        {MHD_OPTION_END, 0, NULL}};
    br_http_t *http =
        br_http_new ("dashboard", start->address, s_handle, &served, options, &start->reason);
    if (http) {
        start->port = br_http_port (http);
        if (!br_http_loopback (http))
            zsys_warning ("dashboard: listening on %s, reachable beyond this machine: put it "
                          "behind TLS and a login",
                          start->address);
        zsys_info ("dashboard: on %s (port %u)", start->address, (unsigned) start->port);
    }
    zsock_signal (pipe, 0);
    if (http)
        br_http_serve (http, pipe, s_update, &served);
    br_http_destroy (&http);
    zstr_free (&served.page);
    zstr_free (&served.metrics);
}

bb_dashboard_t *
bb_dashboard_new (const char *address, br_reason_t *reason)
{
    assert (address && reason);
    s_start_t start = {.address = address};
    zactor_t *server = zactor_new (s_server, &start);
    *reason = start.reason;
    if (start.reason != BR_REASON_OK) {
        zactor_destroy (&server);
        return NULL;
    }
    bb_dashboard_t *self = (bb_dashboard_t *) zmalloc (sizeof (bb_dashboard_t));
    assert (self);
    self->server = server;
    self->port = start.port;
    self->page = strdup ("");
    self->metrics = strdup ("");
    return self;
}

void
bb_dashboard_destroy (bb_dashboard_t **self_p)
{
    assert (self_p);
    bb_dashboard_t *self = *self_p;
    if (!self)
        return;
    zactor_destroy (&self->server);
    free (self->page);
    free (self->metrics);
    free (self);
    *self_p = NULL;
}

uint16_t
bb_dashboard_port (bb_dashboard_t *self)
{
    assert (self);
    return self->port;
}

//  --------------------------------------------------------------------------
//  Selftest

//  GETs `path` from the dashboard on `port`; returns the answer's body, or
//  the empty string (the caller frees it).
static char *
s_test_get (uint16_t port, const char *path)
{
    int client = socket (AF_INET, SOCK_STREAM, 0);
    assert (client >= 0);
    struct sockaddr_in address = {.sin_family = AF_INET,
                                  .sin_port = htons (port),
                                  .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
    assert (connect (client, (struct sockaddr *) &address, sizeof (address)) == 0);
    char *request = zsys_sprintf ("GET %s HTTP/1.0\r\n\r\n", path);
    assert (send (client, request, strlen (request), MSG_NOSIGNAL) == (ssize_t) strlen (request));
    zstr_free (&request);
    zchunk_t *answer = zchunk_new (NULL, 0);
    char buffer[4096];
    ssize_t size;
    while ((size = recv (client, buffer, sizeof (buffer), 0)) > 0)
        zchunk_extend (answer, buffer, (size_t) size);
    close (client);
    zchunk_extend (answer, "", 1);
    const char *body = strstr ((const char *) zchunk_data (answer), "\r\n\r\n");
    char *text = strdup (body ? body + 4 : "");
    zchunk_destroy (&answer);
    return text;
}

void
bb_dashboard_test (bool verbose)
{
    if (verbose)
        printf (" * bb_dashboard: ");
    //  @selftest
    br_reason_t reason;
    assert (!bb_dashboard_new ("nowhere", &reason) && reason == BR_REASON_CONFIG_INVALID);
    bb_dashboard_t *dashboard = bb_dashboard_new ("127.0.0.1:0", &reason);
    assert (dashboard && bb_dashboard_port (dashboard) > 0);
    bb_dashboard_town_t towns[2] = {{.node_id = "luenen",
                                     .name = "L\xc3\xbcnen <Stadt>",
                                     .online = true,
                                     .queued = 3,
                                     .balance = 4,
                                     .last_seen_ms = 1790000000000LL,
                                     .clock_known = true,
                                     .clock_offset_ms = 7LL * 60 * 1000 + 12000},
                                    {.node_id = "unna",
                                     .name = "Unna",
                                     .online = false,
                                     .queued = 0,
                                     .balance = -4,
                                     .clock_known = true,
                                     .clock_offset_ms = -300}};
    bb_dashboard_flow_t flows[2] = {{"luenen", "unna", 12}, {"unna", "luenen", 2}};
    bb_dashboard_figures_t figures = {.now_ms = 1790000000000LL,
                                      .towns = towns,
                                      .town_count = 2,
                                      .accepted = 100,
                                      .flows = flows,
                                      .flow_count = 2,
                                      .ledger_records = 1,
                                      .ledger_verified = true};
    figures.refusals[BR_REASON_BAD_SIGNATURE] = 7;
    for (int tick = 0; tick < 3; tick++) {
        figures.now_ms += 5000;
        figures.accepted += 50;
        bb_dashboard_update (dashboard, &figures);
    }
    char *page = bb_dashboard_page (dashboard);
    //  Names are escaped; small flows suppressed; the plot has its line
    assert (strstr (page, "L\xc3\xbcnen &lt;Stadt&gt;") && !strstr (page, "<Stadt>"));
    assert (strstr (page, "<td class=\"n\">12</td>") && strstr (page, "&lt; 5"));
    assert (!strstr (page, "<td class=\"n\">2</td>"));
    assert (strstr (page, "<polyline") && strstr (page, "BAD_SIGNATURE"));
    assert (strstr (page, "geprüft und in Ordnung"));
    //  Lünen's clock is 7 min 12 s ahead: shown, and the county is told;
    //  Unna's 0.3 s behind is right
    assert (strstr (page, "<td class=\"offline\">geht 7 min 12 s vor</td>"));
    assert (strstr (page, "Bei einer Stadt weicht die Uhr"));
    assert (strstr (page, "<td>stimmt</td>"));
    char *metrics = bb_dashboard_metrics (dashboard);
    assert (strstr (metrics, "bruecke_town_online{node=\"luenen\"} 1\n"));
    assert (strstr (metrics, "bruecke_refusals_total{reason=\"BAD_SIGNATURE\"} 7\n"));
    assert (strstr (metrics, "bruecke_referrals_total{from=\"luenen\",to=\"unna\"} 12\n"));
    assert (!strstr (metrics, "to=\"luenen\""));
    assert (strstr (metrics, "bruecke_exchange_balance_hours{node=\"unna\"} -4\n"));
    assert (strstr (metrics, "bruecke_town_clock_offset_seconds{node=\"luenen\"} 432.000\n"));
    assert (strstr (metrics, "bruecke_town_clock_offset_seconds{node=\"unna\"} -0.300\n"));
    //  Its actor serves the latest rendering (sent to it: wait for it)
    char *served = NULL;
    for (int attempt = 0; attempt < 100; attempt++) {
        zstr_free (&served);
        served = s_test_get (bb_dashboard_port (dashboard), "/");
        if (streq (served, page))
            break;
        zclock_sleep (20);
    }
    assert (streq (served, page));
    zstr_free (&served);
    served = s_test_get (bb_dashboard_port (dashboard), "/metrics");
    assert (streq (served, metrics));
    zstr_free (&served);
    served = s_test_get (bb_dashboard_port (dashboard), "/anderswo");
    assert (streq (served, "not found\n"));
    zstr_free (&served);
    zstr_free (&page);
    zstr_free (&metrics);
    bb_dashboard_destroy (&dashboard);
    bb_dashboard_destroy (&dashboard);
    //  @end
    if (verbose)
        printf ("OK\n");
}
