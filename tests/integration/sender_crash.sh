#!/usr/bin/env bash
#   sender_crash.sh - the sending node is killed (SIGKILL) in the middle of
#   a stream, twice, and restarted on its state.
#
#   luenen sends a stream of test notes to unna (online) from a background
#   loop of 'bruecke node send-test' calls. Crash 1: luenen is killed while
#   the stream flows, at the first moment its outbox is seen non-empty.
#   Crash 2: the broker is frozen (SIGSTOP), so that luenen's outbox fills
#   with unacknowledged notes; luenen is killed with them in flight, the
#   broker resumes, luenen restarts and retransmits.
#   Expected: every note send-test reported as queued arrives at unna
#   exactly once; no id arrives twice; luenen's sequence numbers increase
#   in unna's inbox; every queued note ends receipted. A call that was
#   answered by no one (the node was dead) has an unknown outcome: its note
#   may or may not arrive, but never twice.
#
#   Usage: tests/integration/sender_crash.sh BUILD_DIR

source "$(dirname "$0")/lib.sh"
it_init sender_crash "${1:-}"

COUNT=${IT_COUNT:-400}
CRASH1_AT=$((COUNT / 4))
CRASH2_AT=$((COUNT / 2))

it_make_county
it_start_county_broker
it_write_node_config luenen
it_write_node_config unna
it_start_node luenen
it_start_node unna
it_wait_connected luenen unna

queued="$WORK/queued.txt"
failed="$WORK/failed.txt"
finished="$WORK/stream.done"
: >"$queued"
: >"$failed"

#   The stream: one send-test call per note. A call to a dead node fails
#   after the CLI's timeout; the loop goes on.
(
    for ((i = 1; i <= COUNT; i++)); do
        if id=$(it_send_test luenen unna "Strom $i, erfunden"); then
            echo "$id" >>"$queued"
        else
            echo "$i" >>"$failed"
        fi
    done
    touch "$finished"
) &
stream=$!

queued_count () { wc -l <"$queued"; }

#   Crash 1: kill luenen mid-stream, as soon as its outbox holds something
it_wait_until 60 "$CRASH1_AT notes are queued" eval '(($(queued_count) >= CRASH1_AT))'
seen=0
deadline=$(($(date +%s) + 10))
while (($(date +%s) < deadline)); do
    seen=$(it_status_field luenen outbox)
    [[ "$seen" =~ ^[0-9]+$ ]] && ((seen > 0)) && break
done
it_kill luenen KILL
it_log "crash 1: luenen killed after $(queued_count) queued notes, outbox last seen at $seen"
it_start_node luenen

#   Crash 2: freeze the broker so the outbox fills, then kill luenen
it_wait_until 60 "$CRASH2_AT notes are queued" eval '(($(queued_count) >= CRASH2_AT))'
kill -STOP "${IT_PID[broker]}"
it_log "broker frozen (SIGSTOP)"
it_try_wait_until 30 "luenen's outbox holds 5 notes" eval '(($(it_status_field luenen outbox) >= 5))' ||
    it_fail "luenen's outbox does not fill while the broker is frozen: outbox" \
        "$(it_status_field luenen outbox), $(it_sent_count luenen queued) queued in its sent list," \
        "sequence numbers used more than once: $(it_sent luenen | awk '{ print $1 }' | sort -n | uniq -d | head -n 3 | xargs)"
in_outbox=$(it_status_field luenen outbox)
it_kill luenen KILL
it_log "crash 2: luenen killed after $(queued_count) queued notes with $in_outbox in its outbox"
kill -CONT "${IT_PID[broker]}"
it_log "broker resumed (SIGCONT)"
it_start_node luenen
it_assert_ge 1 "$in_outbox" "notes in luenen's outbox when it was killed"

it_wait_until 120 "the stream of $COUNT calls is done" test -e "$finished"
wait "$stream"
it_log "stream done: $(queued_count) queued, $(wc -l <"$failed") calls unanswered"
it_assert_ge $((COUNT - 10)) "$(queued_count)" "notes reported queued"

#   Everything queued arrives, once
it_wait_connected luenen
it_wait_until 90 "unna has every queued note" \
    eval '[[ -z "$(comm -23 <(sort "$queued") <(it_inbox_notes unna luenen | awk "{ print \$5 }" | sort))" ]]'
sleep 2 #   room for stray duplicates to show up
inbox="$WORK/unna-inbox.txt"
it_inbox_notes unna luenen >"$inbox"
it_assert_eq "" "$(comm -23 <(sort "$queued") <(awk '{ print $5 }' "$inbox" | sort))" \
    "queued notes missing at unna"
it_assert_eq "" "$(awk '{ print $5 }' "$inbox" | sort | uniq -d)" "ids received twice"
extra=$(comm -13 <(sort "$queued") <(awk '{ print $5 }' "$inbox" | sort) | wc -l)
unanswered=$(wc -l <"$failed")
((extra <= unanswered)) ||
    it_fail "$extra notes arrived that send-test did not report, but only $unanswered calls were unanswered"
it_ok "$extra received notes came from the $unanswered unanswered calls"
disorder=$(awk '{ if (seen && $4 <= last) { print NR": "$4" after "last; exit }
                  last = $4; seen = 1 }' "$inbox")
it_assert_eq "" "$disorder" "first out-of-order sequence of luenen's in unna's inbox"
#   The sequence numbers of the notes luenen queued are all distinct
it_assert_eq "" "$(it_sent luenen | awk '{ print $1 }' | sort | uniq -d | head -n 3)" \
    "sequence numbers luenen used twice"

#   luenen learns the fate of everything it queued
it_wait_until 60 "all queued notes are receipted at luenen" \
    eval '[[ -z "$(comm -23 <(sort "$queued") <(it_sent luenen | awk "\$4 == \"receipted\" { print \$2 }" | sort))" ]]'
it_ok "every queued note is receipted at luenen"
it_wait_until 30 "luenen's outbox is empty" eval '[[ "$(it_status_field luenen outbox)" == 0 ]]'

it_check_alive broker luenen unna
it_stop luenen
it_stop unna
it_stop broker
it_pass
