#!/usr/bin/env bash
#   exchange_cli.sh - the Transferbörse from the shell: 'bruecke exchange'.
#
#   Three town nodes and the broker run on loopback. The towns' prevention
#   staff use only the 'bruecke exchange' commands (with --url and a token
#   file of mode 0600), never JSON: Unna publishes an offer on Frühe Hilfen,
#   Kamen asks for the topic, all three boards show both; the county runs
#   the matching for this quarter; both towns accept, Kamen schedules the
#   day, both sign the completion, and Lünen's copy of the ledger shows the
#   record (Unna +4 h, Kamen -4 h) and verifies. Refusals print
#   'bruecke: REASON: detail' and exit 1; usage errors exit 2.
#
#   Usage: tests/integration/exchange_cli.sh BUILD_DIR

source "$(dirname "$0")/lib.sh"
it_init exchange_cli "${1:-}"

TOWNS=(unna kamen luenen)
QUARTER="$(date -u +%Y)Q$((($(date -u +%-m) - 1) / 3 + 1))"
HOURS=4

it_make_county "${TOWNS[@]}"
it_start_county_broker
declare -A API_URL=()
for town in "${TOWNS[@]}"; do
    mkdir -p -m 0700 "$WORK/state/$town"
    #   The token goes straight into a file only its owner can read
    (umask 077 && it_cli api-token add --tokens "$WORK/state/$town/api-tokens" \
        --name "$town-praevention" --role caseworker >"$WORK/$town.token") ||
        it_fail "cannot make an API token for $town"
    port=$(it_free_port)
    API_URL[$town]="http://127.0.0.1:$port"
    it_write_node_config "$town" "api=127.0.0.1:$port"
done
for town in "${TOWNS[@]}"; do it_start_node "$town"; done
it_wait_connected "${TOWNS[@]}"

#   ex TOWN COMMAND ARGS...: 'bruecke exchange COMMAND' as TOWN's staff.
#   Its stdout is printed; its stderr goes to $WORK/last-stderr and is kept
#   in logs/cli.log (scanned for sanitizer reports).
ex () {
    local town="$1" rc=0
    shift
    "$BRUECKE" exchange "$@" --url "${API_URL[$town]}" --token-file "$WORK/$town.token" \
        2>"$WORK/last-stderr" || rc=$?
    cat "$WORK/last-stderr" >>"$WORK/logs/cli.log"
    return "$rc"
}

#   refused EXIT REASON WHAT TOWN COMMAND ARGS...: the command must exit
#   with EXIT and, for a refusal, print 'bruecke: REASON: ...' on stderr.
refused () {
    local expected="$1" reason="$2" what="$3" rc=0
    shift 3
    ex "$@" >/dev/null || rc=$?
    it_assert_eq "$expected" "$rc" "$what: exit code"
    if [[ -n "$reason" ]]; then
        grep -qE "^bruecke: $reason: " "$WORK/last-stderr" ||
            it_fail "$what: expected 'bruecke: $reason: ...', got: $(cat "$WORK/last-stderr")"
        it_ok "$what: refused with $reason"
    fi
}

#   submitted KIND OUTPUT: the id in "KIND ID submitted as message MESSAGE-ID".
submitted () {
    [[ "$2" =~ ^$1\ ([0-9a-f]{32})\ submitted\ as\ message\ ([0-9a-f]{32})$ ]] ||
        it_fail "'$2' is not '$1 ID submitted as message ID'"
    echo "${BASH_REMATCH[1]}"
}

#   Predicates for waiting: each reads anew every time it is called.
#   board_shows TOWN: TOWN's board lists Unna's offer and Kamen's request.
board_shows () {
    local board
    board=$(ex "$1" board) || return 1
    awk -v offer="$OFFER" -v request="$REQUEST" '
        $1 == "offer" && $2 == offer && $3 == "unna" { found_offer = 1 }
        $1 == "request" && $2 == request && $3 == "kamen" { found_request = 1 }
        END { exit !(found_offer && found_request) }' <<<"$board"
}
#   agreement_line TOWN: TOWN's line for the transfer (its id is $TRANSFER).
agreement_line () { ex "$1" agreements | awk -v id="$TRANSFER" '$1 == id'; }
#   agreement_field TOWN N: word N of that line.
agreement_field () { agreement_line "$1" | awk -v n="$2" '{ print $n }'; }
state_is () { [[ "$(agreement_field "$1" 2)" == "$2" ]]; }
line_has () { [[ "$(agreement_line "$1")" == *"$2"* ]]; }
#   submission_state TOWN MESSAGE-ID: the state of a submission.
submission_state () { ex "$1" submissions | awk -v id="$2" '$5 == id { print $6 }'; }
submission_taken () { [[ "$(submission_state "$1" "$2")" =~ ^(accepted|receipted)$ ]]; }
ledger_done () {
    local ledger
    ledger=$(ex "$1" ledger) || return 1
    [[ $(grep -c '^record ' <<<"$ledger") -eq 1 ]] &&
        grep -qx "record 1 $TRANSFER unna -> kamen fruehe-hilfen $HOURS h completed .*" <<<"$ledger" &&
        grep -qE "^balance unna +\+$HOURS h$" <<<"$ledger" &&
        grep -qE "^balance kamen +-$HOURS h$" <<<"$ledger" &&
        grep -qx "total 0 h" <<<"$ledger" &&
        grep -q "^verified yes " <<<"$ledger"
}

#   ---- The catalogue and the token ---------------------------------------------------
topics=$(ex unna topics) || it_fail "exchange topics: $(cat "$WORK/last-stderr")"
grep -qE "^topic +fruehe-hilfen +[^ ]" <<<"$topics" || it_fail "no topic fruehe-hilfen: $topics"
grep -qE "^cancel-reason +schedule-conflict +[^ ]" <<<"$topics" ||
    it_fail "no cancellation reason schedule-conflict: $topics"
it_ok "the catalogue lists topics and cancellation reasons with their labels"
cp "$WORK/unna.token" "$WORK/open.token"
chmod 0644 "$WORK/open.token"
rc=0
"$BRUECKE" exchange board --url "${API_URL[unna]}" --token-file "$WORK/open.token" \
    >/dev/null 2>"$WORK/last-stderr" || rc=$?
cat "$WORK/last-stderr" >>"$WORK/logs/cli.log"
it_assert_eq 1 "$rc" "a token file others can read: exit code"
grep -q KEY_PERMISSIONS "$WORK/last-stderr" ||
    it_fail "a token file others can read: $(cat "$WORK/last-stderr")"
it_ok "a token file others can read is refused with KEY_PERMISSIONS"

#   ---- Unna offers, Kamen asks ------------------------------------------------------------
out=$(ex unna offer --title "Lotsendienst Frühe Hilfen" --topics fruehe-hilfen \
    --target-group "Familien mit Kindern unter drei Jahren (erfunden)" \
    --results "Mehr Familien erreicht (erfundene Zahlen)" --success-factors "Feste Lotsinnen" \
    --pitfalls "Datenschutz früh klären" --presentation --documents \
    --hours "$HOURS" --capacity 8) || it_fail "unna's offer: $(cat "$WORK/last-stderr")"
OFFER=$(submitted offer "$out") || exit 1
OFFER_MESSAGE=${out##* }
it_ok "unna offers $OFFER (message $OFFER_MESSAGE)"
out=$(ex kamen request --topic fruehe-hilfen --note "Start im nächsten Halbjahr") ||
    it_fail "kamen's request: $(cat "$WORK/last-stderr")"
REQUEST=$(submitted request "$out") || exit 1
it_ok "kamen asks for fruehe-hilfen: $REQUEST"
for town in "${TOWNS[@]}"; do
    it_wait_until 30 "$town's board shows the offer and the request" board_shows "$town"
done
board=$(ex luenen board) || it_fail "luenen's board"
it_assert_match "^board at sequence 2: 1 offer, 1 request" "$board" "luenen's board heading"
offer_line=$(awk -v id="$OFFER" '$1 == "offer" && $2 == id' <<<"$board")
it_assert_eq "offer   $OFFER unna         topics fruehe-hilfen  $HOURS h  capacity 8 h/quarter  \"Lotsendienst Frühe Hilfen\"" \
    "$offer_line" "the offer's line on luenen's board"
request_line=$(awk -v id="$REQUEST" '$1 == "request" && $2 == id' <<<"$board")
it_assert_eq "request $REQUEST kamen        topic fruehe-hilfen  \"Start im nächsten Halbjahr\"" \
    "$request_line" "the request's line on luenen's board"
other=$(ex luenen board --topic sprachfoerderung) || it_fail "board --topic"
it_assert_eq "board at sequence 2, topic sprachfoerderung: 0 offers, 0 requests" "$other" \
    "the board on another topic"
it_wait_until 30 "the broker took unna's offer" submission_taken unna "$OFFER_MESSAGE"
it_assert_match "^[0-9TZ:-]+ offer +$OFFER message $OFFER_MESSAGE (accepted|receipted)$" \
    "$(ex unna submissions | grep " $OFFER_MESSAGE ")" "unna's submission of the offer"

#   ---- The county runs the matching ---------------------------------------------------------
"$BRUECKE" broker match --state "$BROKER_STATE" --quarter "$QUARTER" >"$WORK/match.txt" 2>&1 ||
    it_fail "the matching failed: $(cat "$WORK/match.txt")"
cat "$WORK/match.txt" >>"$WORK/logs/cli.log"
grep -q "^proposed unna -> kamen fruehe-hilfen $HOURS h" "$WORK/match.txt" ||
    it_fail "no proposal unna -> kamen: $(cat "$WORK/match.txt")"
it_ok "the matching for $QUARTER proposes unna -> kamen"
kamen_transfer () {
    TRANSFER=$(ex kamen agreements |
        awk '$3 == "receiver" && $4 == "from" && $5 == "unna" && $6 == "fruehe-hilfen" { print $1 }')
    [[ -n "$TRANSFER" ]]
}
it_wait_until 30 "kamen holds the proposal" kamen_transfer
it_wait_until 30 "unna holds the proposal" state_is unna proposed
line=$(agreement_line unna)
it_assert_match "^$TRANSFER proposed +provider for kamen +fruehe-hilfen $HOURS h ${QUARTER}  accepted by -  signed by -  why: .+" \
    "$line" "unna's line for the proposal"
it_assert_eq "no agreements" "$(ex luenen agreements)" "luenen's agreements (no party)"

#   ---- Both accept; a refusal on the way ------------------------------------------------------
out=$(ex unna accept "$TRANSFER") || it_fail "unna accept: $(cat "$WORK/last-stderr")"
it_assert_match "^accept $TRANSFER submitted as message [0-9a-f]{32}$" "$out" "unna's acceptance"
it_wait_until 30 "kamen sees unna's acceptance" line_has kamen "accepted by unna  "
#   Accepting again while proposed is allowed (PROTOCOL.md 16.6)
out=$(ex unna accept "$TRANSFER") || it_fail "unna accepting again: $(cat "$WORK/last-stderr")"
it_assert_match "^accept $TRANSFER submitted as message [0-9a-f]{32}$" "$out" "unna's second acceptance"
out=$(ex kamen accept "$TRANSFER") || it_fail "kamen accept: $(cat "$WORK/last-stderr")"
for town in unna kamen; do
    it_wait_until 30 "$town sees the transfer accepted" state_is "$town" accepted
done
it_assert_match "accepted by unna,kamen  signed by -" "$(agreement_line kamen)" "who accepted"
refused 1 MALFORMED "a cancellation without a known reason" kamen cancel "$TRANSFER" --reason keine-lust
refused 2 "" "a day that does not exist" kamen schedule "$TRANSFER" --at 2026-02-30
refused 2 "" "an id that is none" kamen accept not-an-id
it_assert_eq accepted "$(agreement_field kamen 2)" "the state after the refusals"

#   ---- Kamen schedules, both sign -------------------------------------------------------------
DAY=$(date -u -d "-1 day" +%F) # the coaching took place yesterday
out=$(ex kamen schedule "$TRANSFER" --at "$DAY") || it_fail "schedule: $(cat "$WORK/last-stderr")"
it_assert_match "^schedule $TRANSFER submitted as message [0-9a-f]{32}$" "$out" "the scheduling"
for town in unna kamen; do
    it_wait_until 30 "$town sees the transfer scheduled" state_is "$town" scheduled
done
it_assert_match "  scheduled for $DAY  " "$(agreement_line unna)" "the day unna sees"
ex unna complete "$TRANSFER" >/dev/null || it_fail "unna complete: $(cat "$WORK/last-stderr")"
#   Kamen signs what Unna signed (its completion time): it waits for Unna's signature
it_wait_until 30 "kamen sees unna's signature" line_has kamen "signed by unna  "
ex kamen complete "$TRANSFER" >/dev/null || it_fail "kamen complete: $(cat "$WORK/last-stderr")"
it_wait_until 30 "luenen's ledger holds the record, balanced and verified" ledger_done luenen
ledger=$(ex luenen ledger) || it_fail "luenen's ledger exits $?: $(cat "$WORK/last-stderr")"
it_log "luenen's ledger: $(tr '\n' ';' <<<"$ledger")"
it_assert_eq 1 "$(grep -c '^record ' <<<"$ledger")" "records in luenen's ledger"
for town in unna kamen; do
    it_wait_until 30 "$town sees the transfer completed" state_is "$town" completed
    it_wait_until 30 "$town's ledger holds the record" ledger_done "$town"
done
it_assert_match "accepted by unna,kamen  signed by unna,kamen  scheduled for $DAY  completed " \
    "$(agreement_line unna)" "unna's line for the completed transfer"
it_assert_eq "$TRANSFER" "$(ex kamen agreements --state completed | awk '{ print $1 }')" \
    "kamen's completed agreements"
it_assert_eq "no agreements in state proposed" "$(ex kamen agreements --state proposed)" \
    "kamen's proposed agreements"
refused 1 INVALID_STATE "cancelling a completed transfer" kamen cancel "$TRANSFER" \
    --reason schedule-conflict
it_ok "a transfer went from offer to ledger with 'bruecke exchange' alone"

#   ---- Withdrawing --------------------------------------------------------------------------
refused 1 FORBIDDEN "withdrawing another town's offer" kamen withdraw "$OFFER"
out=$(ex unna withdraw "$OFFER") || it_fail "withdraw: $(cat "$WORK/last-stderr")"
it_assert_match "^withdrawal of $OFFER submitted as message [0-9a-f]{32}$" "$out" "the withdrawal"
offer_gone () {
    local board
    board=$(ex "$1" board) || return 1
    ! awk -v id="$OFFER" '$2 == id { found = 1 } END { exit !found }' <<<"$board"
}
for town in "${TOWNS[@]}"; do
    it_wait_until 30 "$town's board no longer lists the offer" offer_gone "$town"
done

for town in "${TOWNS[@]}"; do it_check_alive "$town"; done
it_check_alive broker
it_pass
