#!/usr/bin/env bash
#   exchange.sh - the Transferbörse with all ten towns of Kreis Unna, through
#   real daemons, from offer to ledger entry.
#
#   Ten town nodes and the broker run on loopback. The towns publish
#   invented offers and requests through their JSON API; Werne is offline
#   while ten of those board changes happen and catches up on reconnect.
#   The county runs the matching for this quarter under a staged plan (one
#   topic opens only next year) and its balance limits; every proposal
#   reaches both towns. One transfer goes the whole way: both accept, it is
#   scheduled, the provider signs the completion (the ledger stays empty:
#   one signature is not enough), a forged completion and one from a town
#   that is no party are refused, then the receiver signs and the record
#   reaches all ten ledgers, balanced and verified. Another transfer is
#   cancelled with a reason. Refusals come with their reason codes, and the
#   daemons keep serving.
#
#   Usage: tests/integration/exchange.sh BUILD_DIR

source "$(dirname "$0")/lib.sh"
it_init exchange "${1:-}"

TOWNS=(bergkamen boenen froendenberg holzwickede kamen luenen schwerte selm unna werne)
YEAR=$(date -u +%Y)
QUARTER="${YEAR}Q$((($(date -u +%-m) - 1) / 3 + 1))"
QUARTER_NUMBER="${QUARTER/Q/}"
NEXT_YEAR=$((YEAR + 1))

it_make_county "${TOWNS[@]}"
#   The staged plan: everything open from this quarter, Quartiersarbeit
#   only next year. Limits: at most 12 hours given or received net.
IT_BROKER_EXTRA="exchange
    floor = \"-12\"
    ceiling = \"12\"
    plan
        fruehe-hilfen = \"${QUARTER_NUMBER}\"
        sprachfoerderung = \"${QUARTER_NUMBER}\"
        elternbildung = \"${QUARTER_NUMBER}\"
        kinderschutz = \"${QUARTER_NUMBER}\"
        uebergang-kita-grundschule = \"${QUARTER_NUMBER}\"
        uebergang-schule-beruf = \"${QUARTER_NUMBER}\"
        gesundheitsfoerderung = \"${QUARTER_NUMBER}\"
        quartiersarbeit = \"${NEXT_YEAR}1\""
DASHBOARD_PORT=$(it_free_port)
it_start_county_broker "dashboard=127.0.0.1:$DASHBOARD_PORT"
for town in "${TOWNS[@]}"; do it_api_node "$town" caseworker; done
for town in "${TOWNS[@]}"; do it_start_node "$town"; done
it_wait_connected "${TOWNS[@]}"

board_head () { it_field "$1" /v1/exchange/board .head; }
#   Predicates for waiting: they read anew each time they are called.
head_is () { [[ "$(board_head "$1")" == "$2" ]]; }
head_at_least () { (($(board_head "$1") >= $2)); }
field_is () { [[ "$(it_field "$1" "$2" "$3")" == "$4" ]]; }
state_is () { field_is "$1" "/v1/exchange/agreements/$2" .state "$3"; }
records_are () { field_is "$1" /v1/exchange/ledger '.records | length' "$2"; }
not_on_board () { field_is "$1" /v1/exchange/board "[.offers[].id] | index(\"$2\") == null" true; }
#   The board as a town sees it: ids, towns and titles, sorted.
board_digest () {
    it_api "$1" GET /v1/exchange/board |
        jq -r '[.offers[], .requests[]] | map("\(.id) \(.town) \(.title // .topic // .offer_id)") | sort | .[]'
}
submission_state () {
    it_field "$1" /v1/exchange/submissions ".submissions[] | select(.message_id == \"$2\") | .state"
}

#   offer TOWN TITLE TOPICS HOURS CAPACITY: publishes an offer; prints its id.
offer () {
    local town="$1" title="$2" topics="$3" hours="$4" capacity="$5"
    it_api "$town" POST /v1/exchange/offers "$(jq -n --arg title "$title" --argjson topics "$topics" \
        --argjson hours "$hours" --argjson capacity "$capacity" '{
            title: $title, topics: $topics,
            target_group: "Familien mit Kindern unter drei Jahren (erfunden)",
            results: "Mehr Familien erreicht, weniger Abbrüche (erfundene Zahlen)",
            success_factors: "Feste Ansprechpersonen, kurze Wege",
            pitfalls: "Datenschutzfragen früh klären",
            presentation: true, documents: true,
            coaching_hours: $hours, capacity_per_quarter: $capacity}')" | jq -r .id
}
#   request TOWN TOPIC: asks for a topic; prints the request's id.
request () {
    it_api "$1" POST /v1/exchange/requests "{\"topic\": \"$2\", \"note\": \"Start im nächsten Halbjahr\"}" |
        jq -r .id
}

#   ---- The board: offers and requests, Werne offline for ten changes ---------------
O_UNNA=$(offer unna "Lotsendienst Frühe Hilfen" '["fruehe-hilfen"]' 4 8) || it_fail "offer unna"
O_KAMEN=$(offer kamen "Sprachcafé für Eltern" '["sprachfoerderung", "elternbildung"]' 3 9) ||
    it_fail "offer kamen"
it_wait_until 30 "werne sees the first two offers" head_at_least werne 2
it_stop werne
it_ok "werne goes offline at board sequence $(board_head werne)"
O_LUENEN=$(offer luenen "Kita-Einstieg begleiten" '["uebergang-kita-grundschule"]' 4 4) ||
    it_fail "offer luenen"
O_SCHWERTE=$(offer schwerte "Kinderschutz-Netzwerk" '["kinderschutz"]' 5 10) || it_fail "offer schwerte"
O_BERGKAMEN=$(offer bergkamen "Quartiersbüro" '["quartiersarbeit"]' 2 4) || it_fail "offer bergkamen"
R_SELM=$(request selm fruehe-hilfen) || it_fail "request selm"
R_BOENEN=$(request boenen sprachfoerderung) || it_fail "request boenen"
R_HOLZWICKEDE=$(request holzwickede kinderschutz) || it_fail "request holzwickede"
R_FROENDENBERG=$(request froendenberg uebergang-kita-grundschule) || it_fail "request froendenberg"
R_UNNA=$(request unna quartiersarbeit) || it_fail "request unna (not in this quarter's plan)"
R_LUENEN=$(request luenen elternbildung) || it_fail "request luenen"
#   A request for one offer, by its id
R_KAMEN=$(it_api kamen POST /v1/exchange/requests "{\"offer_id\": \"$O_UNNA\"}" | jq -r .id) ||
    it_fail "request kamen"
EXPECTED_HEAD=12
for town in "${TOWNS[@]}"; do
    [[ $town == werne ]] && continue
    it_wait_until 30 "$town holds board sequence $EXPECTED_HEAD" head_is "$town" "$EXPECTED_HEAD"
done
it_ok "nine towns hold the board at sequence $EXPECTED_HEAD: 5 offers, 7 requests"
REFERENCE=$(board_digest unna)
it_assert_eq 5 "$(it_field unna /v1/exchange/board '.offers | length')" "offers on the board"
it_assert_eq 7 "$(it_field unna /v1/exchange/board '.requests | length')" "requests on the board"

#   Werne comes back after ten changes and catches up
it_start_node werne
it_wait_connected werne
it_wait_until 30 "werne catches up to sequence $EXPECTED_HEAD" head_is werne "$EXPECTED_HEAD"
it_assert_eq "$REFERENCE" "$(board_digest werne)" "werne's board after catching up"
it_ok "werne missed 10 board changes while offline and caught up on reconnect"

#   ---- Refusals on the board -----------------------------------------------------------
it_refused unna POST /v1/exchange/offers '{"title": "Ohne Thema", "topics": ["jugendamt"], "coaching_hours": 2}' \
    MALFORMED "an offer on a topic not in the catalogue"
it_refused unna POST /v1/exchange/offers '{"title": "Zu viel", "topics": ["kinderschutz"], "coaching_hours": 5000}' \
    MALFORMED "an offer with more coaching hours than the board allows"
it_refused unna POST "/v1/exchange/items/$O_KAMEN/withdraw" '{}' FORBIDDEN "withdrawing another town's offer"
it_refused unna POST /v1/exchange/requests '{"topic": "kinderschutz", "offer_id": "00"}' MALFORMED \
    "a request with both topic and offer"
#   A request for an offer that is not on the board: the broker refuses it
missing_json=$(it_api selm POST /v1/exchange/requests '{"offer_id": "0123456789abcdef0123456789abcdef"}') ||
    it_fail "the request was not even queued"
missing_message=$(jq -r .message_id <<<"$missing_json")
refused_submission () { [[ "$(submission_state "$1" "$2")" == refused ]]; }
it_wait_until 30 "the broker refuses the request for a missing offer" \
    refused_submission selm "$missing_message"
it_assert_eq NOT_FOUND \
    "$(it_field selm /v1/exchange/submissions ".submissions[] | select(.message_id == \"$missing_message\") | .reason")" \
    "the broker's reason for the request for a missing offer"
it_ok "the broker it_refused a request for an offer not on the board with NOT_FOUND"

#   ---- The county runs the matching -------------------------------------------------------
"$BRUECKE" broker match --state "$BROKER_STATE" --quarter "$QUARTER" >"$WORK/match.txt" 2>&1 ||
    it_fail "the matching failed: $(cat "$WORK/match.txt")"
it_log "matching: $(head -n 1 "$WORK/match.txt")"
PROPOSED=$(awk 'NR == 1 { print $2 }' "$WORK/match.txt")
it_assert_ge 5 "$PROPOSED" "proposals for this quarter"
grep -q "unmatched unna quartiersarbeit (not-in-plan)" "$WORK/match.txt" ||
    it_fail "Unna's request for Quartiersarbeit should wait for next year's plan: $(cat "$WORK/match.txt")"
it_ok "the staged plan held back Quartiersarbeit until $NEXT_YEAR"
grep -q "proposed unna -> kamen fruehe-hilfen 4 h" "$WORK/match.txt" ||
    it_fail "Kamen's request for Unna's offer should be proposed: $(cat "$WORK/match.txt")"
#   Every proposal reaches both of its towns
agreement_count () { it_field "$1" /v1/exchange/agreements '.agreements | length'; }
total_agreements () {
    local town total=0
    for town in "${TOWNS[@]}"; do total=$((total + $(agreement_count "$town"))); done
    echo "$total"
}
all_delivered () { (($(total_agreements) == 2 * PROPOSED)); }
it_wait_until 30 "every proposal reached both towns" all_delivered
it_ok "$PROPOSED proposals reached both towns each"
#   Each says why it was made
why=$(it_field kamen /v1/exchange/agreements '.agreements[] | select(.provider == "unna") | .why')
[[ -n "$why" ]] || it_fail "a proposal without a reason"
it_ok "a proposal says why: $why"
#   Nothing proposed exceeds a town's balance limits
for town in "${TOWNS[@]}"; do
    net=$(it_api "$town" GET /v1/exchange/agreements |
        jq '[.agreements[] | if .role == "provider" then .hours else -.hours end] | add // 0')
    ((net >= -12 && net <= 12)) || it_fail "$town would end at $net hours, outside -12..12"
done
it_ok "no town's proposals break the balance limits -12..12"

#   ---- One transfer the whole way: Unna coaches Kamen in Frühe Hilfen ----------------------
T=$(it_field kamen /v1/exchange/agreements '.agreements[] | select(.provider == "unna" and .topic == "fruehe-hilfen") | .id')
[[ -n "$T" ]] || it_fail "no agreement between Unna and Kamen"
state_of () { it_field "$1" "/v1/exchange/agreements/$T" .state; }
it_api unna POST "/v1/exchange/agreements/$T/accept" '{}' >/dev/null || it_fail "unna accept"
it_wait_until 30 "unna's acceptance reaches kamen" \
    field_is kamen "/v1/exchange/agreements/$T" .provider_accepted true
it_assert_eq proposed "$(state_of kamen)" "the state after one acceptance"
#   Accepting again while proposed is allowed (PROTOCOL.md 16.6): it changes nothing but the version
it_api unna POST "/v1/exchange/agreements/$T/accept" '{}' >/dev/null || it_fail "unna accepting again"
it_assert_eq proposed "$(state_of unna)" "the state after accepting twice"
it_refused unna POST "/v1/exchange/agreements/$T/complete" '{}' INVALID_STATE "completing before acceptance"
it_api kamen POST "/v1/exchange/agreements/$T/accept" '{}' >/dev/null || it_fail "kamen accept"
it_wait_until 30 "unna sees the transfer accepted" state_is unna "$T" accepted
it_wait_until 30 "kamen sees the transfer accepted" state_is kamen "$T" accepted
#   Scheduled for next week, it cannot be confirmed yet; moved to yesterday,
#   when the coaching took place, it can
NEXT_WEEK_MS=$(($(date +%s) * 1000 + 7 * 86400000))
it_api kamen POST "/v1/exchange/agreements/$T/schedule" "{\"scheduled_for_ms\": $NEXT_WEEK_MS}" \
    >/dev/null || it_fail "schedule"
it_wait_until 30 "unna sees the transfer scheduled" state_is unna "$T" scheduled
it_refused unna POST "/v1/exchange/agreements/$T/complete" '{}' TOO_EARLY \
    "confirming a transfer before its date"
SCHEDULED_MS=$(($(date +%s) * 1000 - 86400000))
it_api kamen POST "/v1/exchange/agreements/$T/schedule" "{\"scheduled_for_ms\": $SCHEDULED_MS}" \
    >/dev/null || it_fail "schedule"
it_wait_until 30 "unna sees the new date" \
    field_is unna "/v1/exchange/agreements/$T" .scheduled_for_ms "$SCHEDULED_MS"
#   The provider signs the completion; one signature does not enter the ledger
it_api unna POST "/v1/exchange/agreements/$T/complete" '{}' >/dev/null || it_fail "unna complete"
it_wait_until 30 "kamen sees unna's signature" \
    field_is kamen "/v1/exchange/agreements/$T" .provider_signed true
it_assert_eq scheduled "$(state_of kamen)" "the state with one signature"
it_assert_eq 0 "$(it_field unna /v1/exchange/ledger '.records | length')" "ledger records with one signature"
it_ok "a completion signed by the provider alone does not enter the ledger"
COMPLETED_MS=$(it_field kamen "/v1/exchange/agreements/$T" .completed_ms)
STATEMENT="unna,kamen,fruehe-hilfen,4,$COMPLETED_MS"
#   Forged: Kamen's connection sends a completion signed with Schwerte's key
attack () {
    "$BUILD/bruecke-attack" --endpoint "$BROKER_ENDPOINT" --roster "$ROSTER" \
        --county-pub "$KEYS/county.pub" "$@" 2>>"$WORK/logs/attack.log"
}
verdict=$(attack --key "$KEYS/kamen.key" --completion-key "$KEYS/schwerte.key" \
    --transfer "$T" --completion "$STATEMENT" completion)
it_assert_match "^REFUSAL BAD_SIGNATURE" "$verdict" "a completion for Kamen signed with another key"
#   ... a town that is no party
verdict=$(attack --key "$KEYS/schwerte.key" --transfer "$T" --completion "$STATEMENT" completion)
it_assert_match "^REFUSAL FORBIDDEN" "$verdict" "a completion from a town that is no party"
#   ... another completion time than the one Unna signed
verdict=$(attack --key "$KEYS/kamen.key" --transfer "$T" \
    --completion "unna,kamen,fruehe-hilfen,4,$((COMPLETED_MS - 1000))" completion)
it_assert_match "^REFUSAL INVALID_STATE" "$verdict" "a completion of another time"
it_assert_eq 0 "$(it_field unna /v1/exchange/ledger '.records | length')" "ledger records after the forgeries"
it_assert_eq scheduled "$(state_of kamen)" "the state after the forgeries"
it_ok "forged completions are it_refused and do not enter the ledger"
#   Kamen signs: the record reaches every town's ledger
it_api kamen POST "/v1/exchange/agreements/$T/complete" '{}' >/dev/null || it_fail "kamen complete"
for town in "${TOWNS[@]}"; do
    it_wait_until 30 "$town holds the ledger record" records_are "$town" 1
done
ledger=$(it_api werne GET /v1/exchange/ledger)
it_assert_eq true "$(jq -r .verified <<<"$ledger")" "werne's ledger verifies"
it_assert_eq 0 "$(jq -r .total <<<"$ledger")" "the ledger's sum"
it_assert_eq 4 "$(jq -r .balances.unna <<<"$ledger")" "unna's balance"
it_assert_eq -4 "$(jq -r .balances.kamen <<<"$ledger")" "kamen's balance"
it_assert_eq "$T" "$(jq -r ".records[0].transfer_id" <<<"$ledger")" "the record's transfer"
it_wait_until 30 "unna sees the transfer completed" state_is unna "$T" completed
it_wait_until 30 "kamen sees the transfer completed" state_is kamen "$T" completed
it_ok "a transfer went from offer to ledger entry; all ten ledgers hold it, balanced and verified"

#   ---- A cancellation carries its reason ---------------------------------------------------
C=$(it_field boenen /v1/exchange/agreements '.agreements[] | select(.state == "proposed") | .id' | head -n 1)
[[ -n "$C" ]] || it_fail "no proposal for Bönen to cancel"
provider=$(it_field boenen "/v1/exchange/agreements/$C" .provider)
it_refused boenen POST "/v1/exchange/agreements/$C/cancel" '{"reason": "keine-lust"}' MALFORMED \
    "a cancellation without a known reason"
it_api boenen POST "/v1/exchange/agreements/$C/cancel" '{"reason": "schedule-conflict"}' >/dev/null ||
    it_fail "cancel"
it_wait_until 30 "$provider sees the cancellation" state_is "$provider" "$C" cancelled
it_assert_eq schedule-conflict "$(it_field "$provider" "/v1/exchange/agreements/$C" .cancel_reason)" \
    "the cancellation's reason"
it_assert_eq boenen "$(it_field "$provider" "/v1/exchange/agreements/$C" .cancelled_by)" "who cancelled"
it_ok "a cancellation reached the other town with its reason"

#   ---- Withdrawing an offer ---------------------------------------------------------------
it_api bergkamen POST "/v1/exchange/items/$O_BERGKAMEN/withdraw" '{}' >/dev/null || it_fail "withdraw"
for town in "${TOWNS[@]}"; do
    it_wait_until 30 "$town no longer lists Bergkamen's offer" not_on_board "$town" "$O_BERGKAMEN"
done
it_ok "a withdrawn offer left every town's board"

#   ---- The county dashboard shows the towns, balances and the ledger -------------------
metrics () { curl -sS "http://127.0.0.1:$DASHBOARD_PORT/metrics"; }
dashboard_has () { metrics | grep -qF "$1"; }
it_wait_until 30 "the dashboard shows Unna's balance" \
    dashboard_has 'bruecke_exchange_balance_hours{node="unna"} 4'
dashboard_has 'bruecke_exchange_balance_hours{node="kamen"} -4' ||
    it_fail "the dashboard lacks Kamen's balance"
dashboard_has 'bruecke_exchange_ledger_verified 1' || it_fail "the dashboard's ledger does not verify"
dashboard_has 'bruecke_town_online{node="werne"} 1' || it_fail "the dashboard does not see Werne online"
page=$(curl -sS "http://127.0.0.1:$DASHBOARD_PORT/")
[[ "$page" == *"Kreis-Dashboard"* && "$page" == *"<svg"* && "$page" == *"Transferbörse"* ]] ||
    it_fail "the dashboard page lacks its parts"
[[ "$page" != *"Lotsendienst"* ]] || it_fail "the dashboard shows more than counts"
curl -sS "http://127.0.0.1:$DASHBOARD_PORT/" -o "$BUILD/dashboard.html" || true
it_ok "the county dashboard shows towns online, balances +4/-4 and a verified ledger"

for town in "${TOWNS[@]}"; do it_check_alive "$town"; done
it_check_alive broker
it_pass
