#!/usr/bin/env bash
#   web.sh - the web interface's security, through a real node, with curl.
#
#   Lünen's node serves its pages, logins and sessions next to its API. A
#   Sachbearbeitung user and an Administration user log in; each refusal
#   comes with its reason and changes nothing: a wrong password, a user
#   locked after five wrong passwords, a change without the CSRF token, a
#   Sachbearbeitung user reading the audit log, Administration working a
#   case, a page outside the web root. The session cookie is HttpOnly and
#   SameSite=Strict, the pages come with a Content-Security-Policy, and no
#   staff name reaches the log.
#
#   Usage: tests/integration/web.sh BUILD_DIR

source "$(dirname "$0")/lib.sh"
it_init web "${1:-}"

it_make_county luenen unna
it_start_county_broker
it_api_node luenen caseworker
it_api_node unna caseworker web-secure-cookie=true #   as behind a TLS proxy
USERS="$WORK/state/luenen/web-users"
printf 'Sachbearbeitung-Demo-1\n' | it_cli web-user add --users "$USERS" --name erika \
    --role sachbearbeitung --offices jobcenter || it_fail "cannot add a web user"
printf 'Jugendamt-Demo-12\n' | it_cli web-user add --users "$USERS" --name jan \
    --role sachbearbeitung --offices jugendamt || it_fail "cannot add a web user"
printf 'Administration-Demo-1\n' | it_cli web-user add --users "$USERS" --name anna \
    --role administration || it_fail "cannot add a web user"
printf 'Leitung-Demo-1234\n' | it_cli web-user add --users "$USERS" --name lea \
    --role leitung --offices jobcenter,jugendamt || it_fail "cannot add a web user"
printf 'Unna-Demo-Passwort-1\n' | it_cli web-user add --users "$WORK/state/unna/web-users" \
    --name jonas --role sachbearbeitung --offices fruehe-hilfen || it_fail "cannot add a web user"
it_start_node luenen
it_start_node unna
it_wait_connected luenen unna
URL="${API_URL[luenen]}"

#   web JAR METHOD PATH [JSON] [CSRF]: a request with the cookie jar JAR;
#   prints "STATUS BODY" (headers in $WORK/headers).
web () {
    local jar="$1" method="$2" path="$3" data="${4:-}" csrf="${5:-}"
    local -a extra=()
    [[ -n "$data" ]] && extra+=(-H "Content-Type: application/json" --data "$data")
    [[ -n "$csrf" ]] && extra+=(-H "X-CSRF-Token: $csrf")
    curl -sS --path-as-is -X "$method" -b "$WORK/$jar.jar" -c "$WORK/$jar.jar" \
        -D "$WORK/headers" -o "$WORK/body" -w '%{http_code}' "${extra[@]}" "$URL$path" ||
        it_fail "curl $method $path failed"
    printf ' %s' "$(cat "$WORK/body")"
}
#   expect WHAT STATUS ERROR ANSWER: ANSWER ("STATUS BODY") has STATUS and,
#   if ERROR is given, that reason code.
expect () {
    local what="$1" status="$2" error="$3" answer="$4"
    [[ "${answer%% *}" == "$status" ]] || it_fail "$what: expected HTTP $status, got: $answer"
    if [[ -n "$error" ]]; then
        [[ "$(jq -r .error <<<"${answer#* }")" == "$error" ]] ||
            it_fail "$what: expected $error, got: $answer"
    fi
    it_ok "$what: HTTP $status${error:+ $error}"
}
cases () { it_field luenen /v1/cases '.cases | length'; }

#   ---- Pages ---------------------------------------------------------------------------
expect "/ leads to the pages" 302 "" "$(web anon GET /)"
grep -qi '^location: /ui/' "$WORK/headers" || it_fail "no redirection to /ui/"
expect "the start page" 200 "" "$(web anon GET /ui/)"
grep -qi "^content-type: text/html" "$WORK/headers" || it_fail "the start page is not HTML"
grep -qi "^content-security-policy: default-src 'self'" "$WORK/headers" ||
    it_fail "the start page comes without a Content-Security-Policy"
grep -qi "^x-frame-options: DENY" "$WORK/headers" || it_fail "no X-Frame-Options"
expect "a file outside the pages" 404 NOT_FOUND "$(web anon GET /ui/../web-users)"
expect "a hidden file" 404 NOT_FOUND "$(web anon GET /ui/.htaccess)"
expect "no session yet" 401 UNAUTHORIZED "$(web anon GET /ui/session)"
expect "the API without login or token" 401 UNAUTHORIZED "$(web anon GET /v1/cases)"

#   ---- Logins --------------------------------------------------------------------------
expect "a wrong password" 401 UNAUTHORIZED \
    "$(web erika POST /ui/login '{"user": "erika", "password": "falsches-Passwort"}')"
answer=$(web erika POST /ui/login '{"user": "erika", "password": "Sachbearbeitung-Demo-1"}')
expect "Erika's login" 200 "" "$answer"
grep -i '^set-cookie: bruecke_session=' "$WORK/headers" | grep -qi 'HttpOnly' ||
    it_fail "the session cookie is not HttpOnly"
grep -i '^set-cookie: bruecke_session=' "$WORK/headers" | grep -qi 'SameSite=Strict' ||
    it_fail "the session cookie is not SameSite=Strict"
grep -i '^set-cookie: bruecke_session=' "$WORK/headers" | grep -qi 'Secure' &&
    it_fail "the session cookie is Secure on a node without TLS in front"
#   Unna runs behind TLS (web-secure-cookie): its cookie is Secure
status=$(curl -sS -D "$WORK/unna-headers" -o /dev/null -w '%{http_code}' \
    -H "Content-Type: application/json" --data '{"user": "jonas", "password": "Unna-Demo-Passwort-1"}' \
    "${API_URL[unna]}/ui/login")
it_assert_eq 200 "$status" "Jonas's login in Unna"
grep -i '^set-cookie: bruecke_session=' "$WORK/unna-headers" | grep -qi '; Secure' ||
    it_fail "the session cookie is not Secure behind TLS"
it_ok "the session cookie is Secure where the node is configured behind TLS"
CSRF=$(jq -r .csrf <<<"${answer#* }")
it_assert_match '^[0-9a-f]{64}$' "$CSRF" "the CSRF token"
it_assert_eq sachbearbeitung "$(jq -r .role <<<"${answer#* }")" "Erika's role"
answer=$(web erika GET /ui/session)
expect "Erika's session" 200 "" "$answer"
it_assert_eq "$CSRF" "$(jq -r .csrf <<<"${answer#* }")" "the session's CSRF token"
#   A user locked after five wrong passwords, also for the right one
for attempt in 1 2 3 4; do
    expect "Lea's wrong password $attempt" 401 UNAUTHORIZED \
        "$(web lea POST /ui/login '{"user": "lea", "password": "falsches-Passwort"}')"
done
expect "Lea's fifth wrong password" 429 TOO_MANY_ATTEMPTS \
    "$(web lea POST /ui/login '{"user": "lea", "password": "falsches-Passwort"}')"
expect "Lea, locked, with the right password" 429 TOO_MANY_ATTEMPTS \
    "$(web lea POST /ui/login '{"user": "lea", "password": "Leitung-Demo-1234"}')"

#   ---- Changes need the CSRF token ------------------------------------------------------
CASE='{"kind": "family", "service": "jobcenter", "members": [{"name": "Erika Beispielfrau", "role": "mother", "age": 30}]}'
expect "a case without the CSRF token" 403 FORBIDDEN "$(web erika POST /v1/cases "$CASE")"
expect "a case with a wrong CSRF token" 403 FORBIDDEN \
    "$(web erika POST /v1/cases "$CASE" 0000000000000000000000000000000000000000000000000000000000000000)"
it_assert_eq 0 "$(cases)" "cases after the refusals"
expect "a case with the CSRF token" 201 "" "$(web erika POST /v1/cases "$CASE" "$CSRF")"
it_assert_eq 1 "$(cases)" "cases after Erika's"
#   The audit log names the web user who did it
it_assert_eq erika "$(it_audit_records luenen | jq -r '[.records[] | select(.action == "case.create")][0].actor')" \
    "the audit log's actor"
CASE_ID=$(it_field luenen /v1/cases '.cases[0].id')

#   ---- Need-to-know: the Jugendamt does not see the Jobcenter's case ------------------------
answer=$(web jan POST /ui/login '{"user": "jan", "password": "Jugendamt-Demo-12"}')
expect "Jan's login (Jugendamt)" 200 "" "$answer"
JAN_CSRF=$(jq -r .csrf <<<"${answer#* }")
it_assert_eq jugendamt "$(jq -r '.offices | join(",")' <<<"${answer#* }")" "Jan's offices in his session"
answer=$(web jan GET /v1/cases)
expect "Jan listing the cases" 200 "" "$answer"
it_assert_eq 0 "$(jq '.cases | length' <<<"${answer#* }")" "Jobcenter cases in Jan's list"
answer=$(web jan GET "/v1/cases?name=Beispielfrau")
it_assert_eq 0 "$(jq '.cases | length' <<<"${answer#* }")" "Jan's search for the family's name"
expect "Jan reading the Jobcenter's case" 403 OFFICE_NOT_PERMITTED "$(web jan GET "/v1/cases/$CASE_ID")"
expect "Jan making a Jobcenter case" 403 OFFICE_NOT_PERMITTED \
    "$(web jan POST /v1/cases "$CASE" "$JAN_CSRF")"
it_assert_eq 1 "$(cases)" "cases after Jan's attempt"
answer=$(web erika GET "/v1/cases?name=beispielfrau")
it_assert_eq 1 "$(jq '.cases | length' <<<"${answer#* }")" "Erika's search for the family's name"
search=$(it_audit_records luenen | jq -r '[.records[] | select(.action == "cases.search")][-1].detail')
it_assert_match '^search [0-9a-f]{32}$' "$search" "the audit log records a search by a keyed digest"
it_audit_records luenen | grep -qi beispielfrau && it_fail "a searched name is in the audit log"
#   Methods a path does not take; spellings of a path that are not it
expect "PUT on a case" 405 METHOD_NOT_ALLOWED "$(web erika PUT "/v1/cases/$CASE_ID" "$CASE" "$CSRF")"
grep -qi '^allow: GET' "$WORK/headers" || it_fail "the 405 names no allowed method"
expect "DELETE on the cases" 405 METHOD_NOT_ALLOWED "$(web erika DELETE /v1/cases '' "$CSRF")"
for spelling in "/v1//cases/$CASE_ID" "/v1/cases/$CASE_ID/" "/v1/Cases/$CASE_ID" "/v1/cases%2F$CASE_ID"; do
    answer=$(web jan GET "$spelling")
    [[ "${answer%% *}" == 404 || "${answer%% *}" == 403 ]] ||
        it_fail "Jan reading $spelling: expected 404 or 403, got $answer"
done
it_ok "no spelling of the path gives Jan the case"

#   ---- Roles -----------------------------------------------------------------------------
expect "Sachbearbeitung reading the audit log" 403 FORBIDDEN "$(web erika GET /v1/audit)"
answer=$(web admin POST /ui/login '{"user": "anna", "password": "Administration-Demo-1"}')
expect "the administration's login" 200 "" "$answer"
ADMIN_CSRF=$(jq -r .csrf <<<"${answer#* }")
expect "the administration reading the audit log" 200 "" "$(web admin GET /v1/audit)"
expect "the administration verifying the audit log" 200 "" "$(web admin GET /v1/audit/verify)"
expect "Sachbearbeitung reading the reports" 403 FORBIDDEN "$(web erika GET /v1/reports)"
answer=$(web admin GET /v1/reports)
expect "the administration reading the reports" 200 "" "$answer"
it_assert_eq 1 "$(jq -r '.cases["jobcenter open"]' <<<"${answer#* }")" "open Jobcenter cases in the report"
expect "the administration working a case" 403 FORBIDDEN \
    "$(web admin POST /v1/cases "$CASE" "$ADMIN_CSRF")"
it_assert_eq 1 "$(cases)" "cases after the administration's attempt"

#   ---- The administration manages users and API tokens ---------------------------------
expect "Sachbearbeitung listing the users" 403 FORBIDDEN "$(web erika GET /ui/admin/users)"
answer=$(web admin GET /ui/admin/users)
expect "the administration listing the users" 200 "" "$answer"
it_assert_eq "anna erika jan lea" "$(jq -r '[.users[].name] | sort | join(" ")' <<<"${answer#* }")" \
    "the web users"
it_assert_eq "jobcenter,jugendamt" "$(jq -r '.users[] | select(.name == "lea") | .offices | join(",")' <<<"${answer#* }")" \
    "Lea's offices in the list"
expect "the administration giving Jan the Jobcenter" 200 "" \
    "$(web admin POST /ui/admin/users/jan/offices '{"offices": ["jugendamt", "jobcenter"]}' "$ADMIN_CSRF")"
answer=$(web jan GET "/v1/cases/$CASE_ID")
expect "Jan reading the case once he acts for the Jobcenter" 200 "" "$answer"
expect "offices outside the catalogue" 400 MALFORMED \
    "$(web admin POST /ui/admin/users/jan/offices '{"offices": ["polizei"]}' "$ADMIN_CSRF")"
expect "adding a user without the CSRF token" 403 FORBIDDEN \
    "$(web admin POST /ui/admin/users '{"name": "neu", "role": "sachbearbeitung", "password": "Neues-Passwort-1", "offices": ["jobcenter"]}')"
expect "adding a user with a short password" 400 MALFORMED \
    "$(web admin POST /ui/admin/users '{"name": "neu", "role": "sachbearbeitung", "password": "kurz", "offices": []}' "$ADMIN_CSRF")"
expect "a path whose name is no name, with an add's body" 404 NOT_FOUND \
    "$(web admin POST /ui/admin/users/Neu/remove '{"name": "neu", "role": "sachbearbeitung", "password": "Neues-Passwort-1", "offices": ["jobcenter"]}' "$ADMIN_CSRF")"
expect "a path with more after it" 404 NOT_FOUND \
    "$(web admin POST /ui/admin/users/neu/remove/jetzt '{}' "$ADMIN_CSRF")"
expect "nothing was added: no login" 401 UNAUTHORIZED \
    "$(web neu0 POST /ui/login '{"user": "neu", "password": "Neues-Passwort-1"}')"
expect "adding a user" 201 "" \
    "$(web admin POST /ui/admin/users '{"name": "neu", "role": "sachbearbeitung", "password": "Neues-Passwort-1", "offices": ["jobcenter"]}' "$ADMIN_CSRF")"
expect "the new user's login" 200 "" \
    "$(web neu POST /ui/login '{"user": "neu", "password": "Neues-Passwort-1"}')"
expect "the administration removing itself" 409 INVALID_STATE \
    "$(web admin POST /ui/admin/users/anna/remove '{}' "$ADMIN_CSRF")"
expect "removing the new user" 200 "" "$(web admin POST /ui/admin/users/neu/remove '{}' "$ADMIN_CSRF")"
expect "the removed user's login" 401 UNAUTHORIZED \
    "$(web neu2 POST /ui/login '{"user": "neu", "password": "Neues-Passwort-1"}')"
expect "an integration token for two offices" 400 MALFORMED \
    "$(web admin POST /ui/admin/tokens '{"name": "fachverfahren", "role": "integration", "offices": ["jobcenter", "jugendamt"]}' "$ADMIN_CSRF")"
answer=$(web admin POST /ui/admin/tokens '{"name": "fachverfahren", "role": "integration", "offices": ["jobcenter"]}' "$ADMIN_CSRF")
expect "making an API token" 201 "" "$answer"
TOKEN=$(jq -r .token <<<"${answer#* }")
status=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL/v1/status")
it_assert_eq 400 "$status" "the new token at the API without naming the person it acts for"
status=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
    -H "X-On-Behalf-Of: Erika Beispiel" "$URL/v1/status")
it_assert_eq 200 "$status" "the new token at the API"
expect "revoking the token" 200 "" "$(web admin POST /ui/admin/tokens/fachverfahren/remove '{}' "$ADMIN_CSRF")"
status=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
    -H "X-On-Behalf-Of: Erika Beispiel" "$URL/v1/status")
it_assert_eq 401 "$status" "the revoked token at the API"

#   ---- Logout ----------------------------------------------------------------------------
expect "a logout without the CSRF token" 403 FORBIDDEN "$(web erika POST /ui/logout '{}')"
expect "Erika's logout" 200 "" "$(web erika POST /ui/logout '{}' "$CSRF")"
expect "Erika's session after the logout" 401 UNAUTHORIZED "$(web erika GET /ui/session)"
expect "the API after the logout" 401 UNAUTHORIZED "$(web erika GET /v1/cases)"

#   ---- The log names roles, not staff ---------------------------------------------------
if grep -qw -e erika -e anna -e lea -e Beispielfrau "$WORK/logs/luenen.log"; then
    it_fail "a staff or family name is in the node's log"
fi
it_assert_log_has luenen "POST /ui/login 200 web:sachbearbeitung" "the log names the role"
it_check_alive luenen unna broker
it_pass
