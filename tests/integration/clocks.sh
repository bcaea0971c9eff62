#!/usr/bin/env bash
#   clocks.sh - wall clocks that are off, or step, stop nobody
#
#   Every daemon runs with its own wall clock (libfaketime; the monotonic
#   clock stays real, as with a real clock step). Expected (issue 11):
#     - a recipient whose clock is 2 s behind the sender's takes every test
#       note (an attestation valid "from now" is accepted up to the
#       protocol's 5 minutes early); 6 minutes behind, it refuses one with
#       CONSENT_EXPIRED: the tolerance has its bound;
#     - the broker's clock stepping forward by more than the offline limit,
#       and a node's clock stepping back by as much, mark nobody offline:
#       delivery goes on;
#     - a message created 6 minutes before the broker's now (it waited in
#       its sender's outbox) is taken: only a time ahead is skew;
#     - a node that starts with its clock more than 5 minutes ahead is
#       online all the same and shows its offset (node status, broker
#       status); the broker refuses what it sends with CLOCK_SKEW, which the
#       node keeps ("queued"), never gives up; once its clock is right, all
#       of it arrives, in its order;
#     - a broker whose clock is 6 minutes behind makes every town's message
#       look ahead: refused with CLOCK_SKEW and kept; once the broker's clock
#       is right, all of it arrives, in order, and none was given up.
#
#   Skips (77) without libfaketime (Debian package faketime).
#
#   Usage: tests/integration/clocks.sh BUILD_DIR

source "$(dirname "$0")/lib.sh"
it_init clocks "${1:-}"
it_need_faketime

it_make_county
for daemon in broker luenen unna kamen; do it_fake_clock "$daemon"; done
it_fake_clock kamen +320s # 20 s beyond the tolerated skew
it_start_county_broker
it_write_node_config luenen
it_write_node_config unna
it_write_node_config kamen
it_start_node luenen
it_start_node unna
it_wait_connected luenen unna

receipted () { [[ "$(it_sent_state "$1" "$2")" == "receipted OK" ]]; }
all_receipted () { it_all_sent_in "$1" receipted "$2"; }
refused_with () { [[ "$(it_sent_state "$1" "$2")" == "refused $3" ]]; }

#   in_order RECIPIENT SENDER: the sender's messages in the recipient's
#   inbox came in increasing sequence order.
in_order () {
    it_inbox "$1" | awk -v sender="$2" '$2 == sender {
        if ($4 <= last) bad = 1
        last = $4
    } END { exit bad }'
}

#   ---- A recipient 2 s behind: validity has the protocol's tolerance ---------
it_set_clock unna -2s
for i in 1 2 3 4 5; do
    it_send_test luenen unna "Notiz $i an eine Uhr, die nachgeht, erfunden" >/dev/null ||
        it_fail "luenen cannot queue note $i"
done
it_wait_until 30 "all five notes receipted by unna, whose clock is 2 s behind" all_receipted luenen 5
it_assert_eq 0 "$(it_log_count unna "CONSENT_EXPIRED")" "unna refused none as CONSENT_EXPIRED"

#   ... and 6 minutes behind, beyond the tolerance: refused
it_set_clock unna -6m
late=$(it_send_test luenen unna "Notiz an eine Uhr, die 6 Minuten nachgeht, erfunden") ||
    it_fail "luenen cannot queue"
it_wait_until 30 "unna, 6 min behind, refuses the note with CONSENT_EXPIRED" \
    refused_with luenen "$late" CONSENT_EXPIRED
it_set_clock unna +0

#   ---- The broker's clock forward, a node's back: nobody goes offline -------
it_set_clock broker +10s
it_set_clock unna -10s
sleep 7 # longer than offline-after-ms (5 s): the old wall-clock timers struck here
it_assert_eq 0 "$(it_log_count broker "offline \(silent\)")" \
    "after the clock steps, the broker marked no town offline"
it_send_and_deliver luenen unna "Nach dem Sprung der Uhren, erfunden" >/dev/null
it_set_clock unna +0

#   ---- A message 6 minutes old is no skew: it may have waited in an outbox ----
#   (the broker's clock 6 min ahead makes every message look that old; before,
#   the broker refused it with CLOCK_SKEW and the town gave it up)
it_set_clock broker +6m
old_note=$(it_send_and_deliver luenen unna "Eine Notiz, die im Postausgang wartete, erfunden")
it_wait_until 20 "luenen has the receipt of the note 6 min 'old'" receipted luenen "$old_note"
it_set_clock broker +0

#   ---- A node 5 min 20 s ahead: online, told, its messages kept ---------------
it_start_node kamen
it_wait_connected kamen
offset=$(it_status_field kamen clock-offset-ms)
[[ "$offset" =~ ^\+3[12][0-9]{4}$ ]] || it_fail "kamen's status shows clock offset '$offset'"
it_ok "kamen's status shows its clock $offset ms ahead"
broker_offset=$(it_broker_status | awk '$1 == "node" && $2 == "kamen" { print $6 }')
[[ "$broker_offset" =~ ^\+3[12][0-9]{4}$ ]] ||
    it_fail "the broker's status shows kamen's clock offset '$broker_offset'"
it_ok "the broker's status shows kamen's clock $broker_offset ms ahead"
ahead1=$(it_send_test kamen unna "Notiz 1 einer Uhr, die vorgeht, erfunden") || it_fail "kamen queue"
ahead2=$(it_send_test kamen unna "Notiz 2 einer Uhr, die vorgeht, erfunden") || it_fail "kamen queue"
it_wait_until 20 "the broker refused kamen's note with CLOCK_SKEW" \
    grep -q "refused [0-9a-f]* from kamen: CLOCK_SKEW" "$WORK/logs/broker.log"
sleep 3 # a retransmission or two: the notes must stay with kamen
it_assert_eq "queued OK" "$(it_sent_state kamen "$ahead1")" "kamen keeps its first note"
it_assert_eq "queued OK" "$(it_sent_state kamen "$ahead2")" "kamen keeps its second note"
it_assert_log_has kamen "clock is \+3[0-9]{2} s off the broker's" "kamen's log names its wrong clock"
it_set_clock kamen +0
ahead3=$(it_send_test kamen unna "Notiz 3, die Uhr geht wieder richtig, erfunden") ||
    it_fail "kamen queue"
it_wait_until 60 "unna has kamen's three notes, once its clock is right" all_receipted kamen 3
in_order unna kamen || it_fail "kamen's notes reached unna out of order: $(it_inbox unna)"
it_ok "kamen's notes reached unna in kamen's order"
for id in "$ahead1" "$ahead2" "$ahead3"; do
    it_wait_until 10 "unna has kamen's note $id" it_inbox_has unna "$id"
done

#   ---- A broker 6 min behind: every town's message looks ahead, and is kept --
it_set_clock broker -6m
kept1=$(it_send_test luenen unna "Notiz 1 an einen Kreis, dessen Uhr nachgeht, erfunden") ||
    it_fail "luenen queue"
kept2=$(it_send_test luenen unna "Notiz 2 an einen Kreis, dessen Uhr nachgeht, erfunden") ||
    it_fail "luenen queue"
it_wait_until 20 "the broker refused luenen's note with CLOCK_SKEW" \
    grep -q "refused [0-9a-f]* from luenen: CLOCK_SKEW" "$WORK/logs/broker.log"
sleep 3
it_assert_eq "queued OK" "$(it_sent_state luenen "$kept1")" "luenen keeps its first note"
it_assert_eq "queued OK" "$(it_sent_state luenen "$kept2")" "luenen keeps its second note"
it_set_clock broker +0
it_wait_until 30 "unna has luenen's first note once the broker's clock is right" \
    receipted luenen "$kept1"
it_wait_until 30 "... and the second" receipted luenen "$kept2"
in_order unna luenen || it_fail "luenen's notes reached unna out of order: $(it_inbox unna)"
it_ok "luenen's notes reached unna in luenen's order"
it_assert_eq 0 "$(it_sent_count luenen refused | awk '{ print $1 - 1 }')" \
    "luenen gave up nothing but the note to the 6-min-late unna"

it_check_alive broker luenen unna kamen
for daemon in luenen unna kamen broker; do it_stop "$daemon"; done
it_pass
