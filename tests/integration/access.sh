#!/usr/bin/env bash
#   access.sh - the access matrix of Lünen's /v1 API: every route of the
#   route table (node/bn_routes.c, read at run time) for every role, with a
#   record of the caller's own office and one of another office.
#
#   Lünen's Jobcenter and Jugendamt each hold an invented family's case, a
#   consent, a local referral to Lünen's Frühe Hilfen and a transfer to
#   Unna; Unna transfers cases to both. Callers of all six roles act for the
#   Jobcenter only: three API tokens (the integration token names the person
#   it acts for) and three web users. tests/integration/access.py sends the
#   requests: a role the route does not list is refused FORBIDDEN, another
#   office's record OFFICE_NOT_PERMITTED, and neither refusal changes the
#   node's cases, consents, referrals, transfers, events or audit log; a
#   permitted request on the own office succeeds, and the lists it reads
#   hold only the Jobcenter's records. Each path also answers 405 to the
#   methods it does not take and 404 to a segment more. Last, spellings of
#   another office's case and of the audit log (//, a trailing /, %2F,
#   upper case, ..) give 404 or the plain path's 403, never the record.
#
#   Usage: tests/integration/access.sh BUILD_DIR

source "$(dirname "$0")/lib.sh"
it_init access "${1:-}"
command -v python3 >/dev/null || it_skip "no python3"
SOURCE=$(cd "$(dirname "$0")/../.." && pwd)

it_make_county luenen unna
#   Lünen's Jobcenter takes case transfers as well, so that the Jobcenter
#   has incoming transfers of its own to accept and decline
{
    "$BRUECKE" roster add-route --draft "$WORK/roster.zpl" --ags 05978024 --service jobcenter \
        --node luenen &&
        "$BRUECKE" roster sign --draft "$WORK/roster.zpl" --county-key "$KEYS/county.key" \
            --out "$ROSTER"
} >>"$WORK/logs/county.log" 2>&1 || it_fail "cannot route Lünen's Jobcenter (see county.log)"
it_start_county_broker
it_api_node luenen caseworker
it_api_node unna caseworker

#   The callers: each role, acting for the Jobcenter only
TOKENS="$WORK/state/luenen/api-tokens"
USERS="$WORK/state/luenen/web-users"
declare -A TOKEN=()
for role in caseworker integration readonly; do
    TOKEN[$role]=$(it_cli api-token add --tokens "$TOKENS" --name "jobcenter-$role" \
        --role "$role" --offices jobcenter) || it_fail "cannot make the $role token"
done
AUDIT_TOKEN=$(it_cli api-token add --tokens "$TOKENS" --name audit-all --role readonly \
    --offices "${IT_SERVICES[luenen]}") || it_fail "cannot make the audit token"
for role in sachbearbeitung leitung administration; do
    printf 'Zugang-%s-2024\n' "$role" | it_cli web-user add --users "$USERS" \
        --name "jobcenter-$role" --role "$role" --offices jobcenter ||
        it_fail "cannot add the $role user"
done
#   A second administrator asks for the emergency accesses the first approves
printf 'Zugang-zweite-2024\n' | it_cli web-user add --users "$USERS" --name second-administration \
    --role administration || it_fail "cannot add the second administrator"
it_start_node luenen
it_start_node unna
it_wait_connected luenen unna
URL="${API_URL[luenen]}"

#   login ROLE: logs the role's web user in once; sets COOKIE[ROLE], CSRF[ROLE]
declare -A COOKIE=() CSRF=()
login () {
    local role="$1" answer
    answer=$(curl -sS -c "$WORK/$role.jar" -H "Content-Type: application/json" \
        --data "{\"user\": \"jobcenter-$role\", \"password\": \"Zugang-$role-2024\"}" \
        "$URL/ui/login") || it_fail "$role's login failed"
    CSRF[$role]=$(jq -r .csrf <<<"$answer")
    it_assert_match '^[0-9a-f]{64}$' "${CSRF[$role]}" "$role's CSRF token"
    COOKIE[$role]=$(awk '$6 == "bruecke_session" { print $7 }' "$WORK/$role.jar")
    [[ -n "${COOKIE[$role]}" ]] || it_fail "$role's login set no session cookie"
    it_assert_eq jobcenter "$(jq -r '.offices | join(",")' <<<"$answer")" "$role's offices"
}
for role in sachbearbeitung leitung administration; do login "$role"; done
answer=$(curl -sS -c "$WORK/second.jar" -H "Content-Type: application/json" \
    --data '{"user": "second-administration", "password": "Zugang-zweite-2024"}' \
    "$URL/ui/login") || it_fail "the second administrator's login failed"
SECOND_CSRF=$(jq -r .csrf <<<"$answer")
SECOND_COOKIE=$(awk '$6 == "bruecke_session" { print $7 }' "$WORK/second.jar")
[[ -n "$SECOND_COOKIE" ]] || it_fail "the second administrator's login set no session cookie"

jq -n --arg url "$URL" --arg admin "${API_TOKEN[luenen]}" --arg audit "$AUDIT_TOKEN" \
    --arg unna_url "${API_URL[unna]}" --arg unna "${API_TOKEN[unna]}" \
    --arg routes_c "$SOURCE/node/bn_routes.c" --arg routes_h "$SOURCE/node/bn_routes.h" \
    --arg fixtures "$WORK/fixtures.json" \
    --arg caseworker "${TOKEN[caseworker]}" --arg integration "${TOKEN[integration]}" \
    --arg readonly "${TOKEN[readonly]}" \
    --arg sb_cookie "${COOKIE[sachbearbeitung]}" --arg sb_csrf "${CSRF[sachbearbeitung]}" \
    --arg l_cookie "${COOKIE[leitung]}" --arg l_csrf "${CSRF[leitung]}" \
    --arg a_cookie "${COOKIE[administration]}" --arg a_csrf "${CSRF[administration]}" \
    --arg s_cookie "$SECOND_COOKIE" --arg s_csrf "$SECOND_CSRF" \
    '{url: $url, admin_token: $admin, audit_token: $audit, unna_url: $unna_url,
      second_admin: {cookie: $s_cookie, csrf: $s_csrf},
      unna_token: $unna, routes_c: $routes_c, routes_h: $routes_h, fixtures: $fixtures,
      callers: {caseworker: {token: $caseworker},
                integration: {token: $integration, on_behalf: "Erika Musterfrau (Jobcenter)"},
                readonly: {token: $readonly},
                sachbearbeitung: {cookie: $sb_cookie, csrf: $sb_csrf},
                leitung: {cookie: $l_cookie, csrf: $l_csrf},
                administration: {cookie: $a_cookie, csrf: $a_csrf}}}' >"$WORK/access.json"

#   ---- The matrix -------------------------------------------------------------------
RESULTS="$WORK/access-results.tsv"
summary=$(python3 "$(dirname "$0")/access.py" "$WORK/access.json" "$RESULTS" \
    2>"$WORK/logs/access-py.log") ||
    it_fail "access.py could not run the matrix: $(tail -n 5 "$WORK/logs/access-py.log")"
read -r routes sent <<<"$summary"
it_assert_ge 1 "$routes" "routes in the table"
while IFS=$'\t' read -r verdict role method pattern variant status error expected note; do
    [[ $verdict == ok ]] && continue
    it_soft_fail "$role $method $pattern ($variant): HTTP $status $error, expected $expected. $note"
done <"$RESULTS"
it_assert_eq "$sent" "$(wc -l <"$RESULTS")" "result lines"
#   Every route of the table, for every role
covered=$(awk -F'\t' '$5 != "method" && $5 != "path" { print $3, $4, $2 }' "$RESULTS" |
    sort -u | wc -l)
it_assert_eq $((routes * 6)) "$covered" "routes × roles in the matrix"
#   The matrix proper (route × role × office), then the 405 and 404 checks
matrix=$(awk -F'\t' '$5 != "method" && $5 != "path"' "$RESULTS" | wc -l)
refused=$(awk -F'\t' '$1 == "ok" && ($8 == "FORBIDDEN" || $8 == "OFFICE_NOT_PERMITTED")' \
    "$RESULTS" | wc -l)
by_office=$(awk -F'\t' '$1 == "ok" && $8 == "OFFICE_NOT_PERMITTED"' "$RESULTS" | wc -l)
done_ok=$(awk -F'\t' '$1 == "ok" && $6 ~ /^2/' "$RESULTS" | wc -l)
it_assert_ge 1 "$by_office" "refusals for another office's records"
it_log "access matrix: $routes routes, $matrix requests, $refused refused as expected" \
    "($by_office for another office), $done_ok carried out;" \
    "$((sent - matrix)) requests with other methods and paths answered 405 and 404"
it_ok "access matrix: $matrix requests, $refused refused as expected"

#   ---- Spellings of a path ------------------------------------------------------------
#   As the Jobcenter's Sachbearbeitung, with curl --path-as-is: another
#   office's case and the audit log, each spelling 404 or the plain 403
OTHER_CASE=$(jq -r .jugendamt.case "$WORK/fixtures.json")
it_assert_match '^[0-9a-f]{32}$' "$OTHER_CASE" "the Jugendamt's case"
UPPER_CASE=$(tr 'a-f' 'A-F' <<<"$OTHER_CASE")
#   spelling PATH: "STATUS ERROR" of a GET as the Sachbearbeitung; the body in $WORK/body
spelling () {
    local status
    status=$(curl -sS --path-as-is -b "$WORK/sachbearbeitung.jar" -o "$WORK/body" \
        -w '%{http_code}' "$URL$1") || it_fail "curl GET $1 failed"
    echo "$status $(jq -r '.error // "-"' "$WORK/body" 2>/dev/null || echo -)"
}
plain_case=$(spelling "/v1/cases/$OTHER_CASE")
it_assert_eq "403 OFFICE_NOT_PERMITTED" "$plain_case" "the Jugendamt's case, plainly"
plain_audit=$(spelling /v1/audit)
it_assert_eq "403 FORBIDDEN" "$plain_audit" "the audit log, plainly"
case_spellings=(
    "/v1//cases/$OTHER_CASE" "//v1/cases/$OTHER_CASE" "/v1/cases//$OTHER_CASE"
    "/v1/cases/$OTHER_CASE/" "/v1/cases/$OTHER_CASE//" "/v1/cases%2F$OTHER_CASE"
    "/v1%2Fcases%2F$OTHER_CASE" "/v1/cases%2f$OTHER_CASE" "/V1/cases/$OTHER_CASE"
    "/v1/Cases/$OTHER_CASE" "/v1/CASES/$OTHER_CASE" "/v1/cases/$UPPER_CASE"
    "/v1/cases/../cases/$OTHER_CASE" "/v1/cases/./$OTHER_CASE" "/v1/./cases/$OTHER_CASE"
    "/v1/audit/../cases/$OTHER_CASE" "/v1/cases/$OTHER_CASE/." "/v1/cases/$OTHER_CASE%20"
    "/v1/cases/%20$OTHER_CASE" "/v1/cases/$OTHER_CASE%00" "/v1/cases/$OTHER_CASE%00xyz"
    "/v1/cases/$OTHER_CASE;x"
    "/v1/cases/${OTHER_CASE}00" "/v1/cases/0$OTHER_CASE")
audit_spellings=(
    "/v1//audit" "//v1/audit" "/v1/audit/" "/v1/audit//" "/v1%2Faudit" "/v1%2faudit"
    "/V1/audit" "/v1/Audit" "/v1/AUDIT" "/v1/cases/../audit" "/v1/./audit" "/v1/audit/."
    "/v1/audit/verify/.." "/v1/audit%00" "/v1/audit%00xyz" "/v1/audit%20" "/v1/audit;x"
    "/v1/audit/verify/"
    "/v1/Audit/verify")
spelled=0
check_spelling () { # PATH PLAIN WHAT
    local answer
    answer=$(spelling "$1")
    spelled=$((spelled + 1))
    it_log "GET $1: $answer"
    if [[ "${answer%% *}" == 200 ]] || grep -q 'Beispielhaft' "$WORK/body"; then
        it_soft_fail "$3 as $1 gave the record: $answer"
    elif [[ "$answer" != "404 NOT_FOUND" && "$answer" != "$2" ]]; then
        it_soft_fail "$3 as $1: expected 404 NOT_FOUND or $2, got $answer"
    fi
}
for path in "${case_spellings[@]}"; do
    check_spelling "$path" "$plain_case" "the Jugendamt's case"
done
for path in "${audit_spellings[@]}"; do check_spelling "$path" "$plain_audit" "the audit log"; done
it_ok "$spelled spellings of another office's case and of the audit log: 404 or the plain 403"

it_check_alive luenen unna broker
it_pass
