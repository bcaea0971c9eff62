#!/usr/bin/env bash
#   offline_crash.sh - 1,000 notes for a town that is offline, with a broker
#   crash (SIGKILL) in the middle of the stream.
#
#   unna is not running. luenen queues 1,000 test notes with the operator
#   CLI (node send-test, one call per note: the real API). After note
#   FREEZE_AT the broker is frozen (SIGSTOP), so that what luenen sends next
#   is in flight, unacknowledged; after note KILL_AT it is killed with
#   SIGKILL; after note RESTART_AT it is started again on the same port and
#   state. Then unna comes online.
#   Expected: unna receives exactly the 1,000 notes luenen queued, each once,
#   luenen's in increasing sequence order, and every one is receipted.
#
#   Usage: tests/integration/offline_crash.sh BUILD_DIR

source "$(dirname "$0")/lib.sh"
it_init offline_crash "${1:-}"

COUNT=${IT_COUNT:-1000}
FREEZE_AT=$((COUNT * 7 / 20))
KILL_AT=$((COUNT * 2 / 5))
RESTART_AT=$((COUNT / 2))

it_make_county
it_start_county_broker
it_write_node_config luenen
it_write_node_config unna
it_start_node luenen
it_wait_connected luenen

ids="$WORK/queued.txt"
: >"$ids"
started=$(date +%s%N)
for ((i = 1; i <= COUNT; i++)); do
    id=$(it_send_test luenen unna "Notiz $i von $COUNT, erfunden") ||
        it_fail "luenen did not queue note $i"
    echo "$id" >>"$ids"
    if ((i == FREEZE_AT)); then
        it_log "$i notes queued; freezing the broker (SIGSTOP)"
        kill -STOP "${IT_PID[broker]}"
    elif ((i == KILL_AT)); then
        in_flight=$(it_status_field luenen outbox)
        it_log "$i notes queued; $in_flight in luenen's outbox; killing the frozen broker"
        it_assert_ge 1 "$in_flight" "notes in flight when the broker is killed"
        it_kill broker KILL
    elif ((i == RESTART_AT)); then
        it_log "$i notes queued; restarting the broker"
        it_start_broker || it_fail "the broker could not bind port $BROKER_PORT again"
    fi
done
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
it_log "queued $COUNT notes with 'bruecke node send-test' in $elapsed_ms ms" \
    "($((elapsed_ms / COUNT)) ms per call)"
it_assert_eq "$COUNT" "$(sort -u "$ids" | wc -l)" "distinct ids luenen reported queued"
it_assert_eq "$COUNT" "$(it_sent luenen | awk '{ print $1 }' | sort -u | wc -l)" \
    "distinct sequence numbers in luenen's sent list"

#   The broker takes everything from luenen's outbox, with unna still offline
it_wait_connected luenen
it_wait_until 90 "luenen's outbox is empty" eval '[[ "$(it_status_field luenen outbox)" == 0 ]]'
it_assert_eq "$COUNT" "$(it_broker_queue unna)" "broker queue for unna before unna starts"
it_assert_eq 0 "$(it_sent_count luenen receipted)" "receipted before unna started"

#   unna comes online and receives all of them
it_start_node unna
it_wait_until 120 "unna has $COUNT notes" it_inbox_has_count unna "$COUNT"
#   Give stray redeliveries a moment to show up as duplicates, if any
sleep 2
inbox="$WORK/unna-inbox.txt"
it_inbox_notes unna >"$inbox"
it_assert_eq "$COUNT" "$(wc -l <"$inbox")" "notes in unna's inbox"
it_assert_eq "$COUNT" "$(awk '{ print $5 }' "$inbox" | sort -u | wc -l)" "distinct ids in unna's inbox"
it_assert_eq "" "$(comm -3 <(sort "$ids") <(awk '{ print $5 }' "$inbox" | sort))" \
    "difference between queued and received ids"
#   Per-sender order: luenen's sequence numbers strictly increase in inbox order
disorder=$(awk '$2 == "luenen" { if (seen && $4 <= last) { print NR": "$4" after "last; exit }
                                  last = $4; seen = 1 }' "$inbox")
it_assert_eq "" "$disorder" "first out-of-order sequence in unna's inbox"
#   Inbox order is the order luenen queued them in
it_assert_eq "" "$(diff <(awk '{ print $5 }' "$inbox") "$ids" | head -n 5)" \
    "difference between queue order and inbox order"

#   Every note is receipted at luenen, and the broker's queue is empty
it_wait_until 90 "all $COUNT notes are receipted at luenen" it_all_sent_in luenen receipted "$COUNT"
it_ok "luenen's sent list: $COUNT receipted"
it_wait_until 30 "the broker's queue for unna is empty" eval '[[ "$(it_broker_queue unna)" == 0 ]]'

it_assert_log_has broker "serving on" "the broker logged its restart"
it_check_alive broker luenen unna
it_stop unna
it_stop luenen
it_stop broker
it_pass
