#!/usr/bin/env bash
#   browser.sh - the caseworker web interface in a real browser, through real
#   daemons: headless Chromium (Debian's chromium) driven by playwright-core
#   (tests/browser/scenario.mjs).
#
#   A county with Lünen, Unna and Kamen runs on loopback, each node with its
#   web users (invented names and demo passwords). The scenario clicks
#   through a referral from Lünen to Unna's Frühe Hilfen and back, one
#   Transferbörse agreement between Unna and Kamen, and the refusals, as the
#   caseworkers would; screenshots of each main page go to
#   BUILD_DIR/browser-screenshots/<name>.png.
#
#   Skips (exit 77) if node, chromium or tests/browser/node_modules is
#   missing: tests/run installs them (deploy/lib/packages.sh, npm ci).
#
#   Environment: BRUECKE_CHROMIUM (default /usr/bin/chromium), IT_KEEP=1
#   keeps the work directory, BROWSER_HEADED=1 shows the browser (needs a
#   display), BROWSER_SLOWMO=MS slows each action down.
#
#   Usage: tests/browser/browser.sh BUILD_DIR

HERE=$(cd "$(dirname "$0")" && pwd)
CHROMIUM="${BRUECKE_CHROMIUM:-/usr/bin/chromium}"

#   ---- Can it run here? -----------------------------------------------------------------
skip () { echo "SKIP: $* (tests/run installs it)"; exit 77; }
command -v node >/dev/null 2>&1 || skip "node (Node.js) is not installed"
[[ -x "$CHROMIUM" ]] || skip "no Chromium at $CHROMIUM (Debian package chromium)"
[[ -f "$HERE/node_modules/playwright-core/package.json" ]] ||
    skip "playwright-core is not installed in tests/browser (npm ci --prefix tests/browser)"

# shellcheck source=tests/integration/lib.sh
source "$HERE/../integration/lib.sh"
it_init browser "${1:-}"

SHOTS="$BUILD/browser-screenshots"
rm -rf "$SHOTS"
mkdir -p "$SHOTS"

YEAR=$(date -u +%Y)
QUARTER="${YEAR}Q$((($(date -u +%-m) - 1) / 3 + 1))"

#   ---- The county: three towns, each with its web users -----------------------------------
it_make_county luenen unna kamen
DASHBOARD_PORT=$(it_free_port)
it_start_county_broker "dashboard=127.0.0.1:$DASHBOARD_PORT"
#   Lünen prints its consent forms with a letterhead (invented); Unna and
#   Kamen have none configured
LUENEN_LETTERHEAD='Stadt Lünen (erfunden)'
it_api_node luenen caseworker "letterhead-name=$LUENEN_LETTERHEAD" \
    'letterhead-address=Musterplatz 1, 44532 Lünen' \
    'letterhead-contact=Telefon 02306 000-0, familienbuero@luenen.example' \
    'letterhead-dpo=Datenschutzbeauftragte der Stadt Lünen, Musterplatz 1, 44532 Lünen, datenschutz@luenen.example'
for town in unna kamen; do it_api_node "$town" caseworker; done

#   web_user TOWN NAME ROLE PASSWORD [OFFICES]: a web user of TOWN's node,
#   acting for OFFICES (comma-separated service codes), by default for all
#   its offices (the administration for none).
web_user () {
    local offices="${IT_SERVICES[$1]}"
    [[ $3 == administration ]] && offices=""
    (($# >= 5)) && offices="$5"
    printf '%s\n' "$4" | it_cli web-user add --users "$WORK/state/$1/web-users" --name "$2" \
        --role "$3" --offices "$offices" >/dev/null || it_fail "cannot add web user $2 to $1"
}
#   Invented people, demo passwords
web_user luenen erika sachbearbeitung 'Luenen-Demo-Erika-1'
web_user luenen anna administration 'Luenen-Demo-Admin-1'
web_user luenen greta sachbearbeitung 'Luenen-Demo-Greta-1' jugendamt
#   A second administrator (approves Anna's emergency access) and the
#   Leitung of Lünen's Jobcenter (sees it)
web_user luenen bernd administration 'Luenen-Demo-Bernd-1'
web_user luenen lea leitung 'Luenen-Demo-Lea-1' jobcenter
web_user unna jonas sachbearbeitung 'Unna-Demo-Jonas-1'
web_user kamen mira sachbearbeitung 'Kamen-Demo-Mira-1'
for town in luenen unna kamen; do it_start_node "$town"; done
it_wait_connected luenen unna kamen

#   ---- The scenario -------------------------------------------------------------------------
export BR_CHROMIUM="$CHROMIUM"
export BR_SCREENSHOTS="$SHOTS"
export BR_WORK="$WORK"
export BR_BRUECKE="$BRUECKE"
export BR_BROKER_STATE="$BROKER_STATE"
export BR_QUARTER="$QUARTER"
export BR_DASHBOARD_URL="http://127.0.0.1:$DASHBOARD_PORT/"
export BR_LUENEN_LETTERHEAD="$LUENEN_LETTERHEAD"
export BR_LUENEN_URL="${API_URL[luenen]}" BR_LUENEN_TOKEN="${API_TOKEN[luenen]}"
export BR_UNNA_URL="${API_URL[unna]}" BR_UNNA_TOKEN="${API_TOKEN[unna]}"
export BR_KAMEN_URL="${API_URL[kamen]}" BR_KAMEN_TOKEN="${API_TOKEN[kamen]}"
export BR_LUENEN_USER=erika BR_LUENEN_PASSWORD='Luenen-Demo-Erika-1'
export BR_LUENEN_ADMIN=anna BR_LUENEN_ADMIN_PASSWORD='Luenen-Demo-Admin-1'
export BR_LUENEN_JUGENDAMT=greta BR_LUENEN_JUGENDAMT_PASSWORD='Luenen-Demo-Greta-1'
export BR_LUENEN_ADMIN2=bernd BR_LUENEN_ADMIN2_PASSWORD='Luenen-Demo-Bernd-1'
export BR_LUENEN_LEITUNG=lea BR_LUENEN_LEITUNG_PASSWORD='Luenen-Demo-Lea-1'
export BR_UNNA_USER=jonas BR_UNNA_PASSWORD='Unna-Demo-Jonas-1'
export BR_KAMEN_USER=mira BR_KAMEN_PASSWORD='Kamen-Demo-Mira-1'

it_log "scenario: node $(node --version), $("$CHROMIUM" --version 2>/dev/null | head -n 1)"
node "$HERE/scenario.mjs" 2>&1 | tee "$WORK/logs/scenario.txt" >&2
status=${PIPESTATUS[0]}
((status == 0)) || it_fail "the browser scenario failed (exit $status; screenshots in $SHOTS)"
it_ok "the browser scenario passed; screenshots in $SHOTS"

it_check_alive luenen unna kamen broker
it_pass
