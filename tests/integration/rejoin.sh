#!/usr/bin/env bash
#   rejoin.sh - a town the broker once marked offline comes back by itself
#
#   The broker marks a node offline after offline-after-ms of silence and
#   delivers nothing to it until the node says HELLO again. A node that was
#   only paused (a VM stalled, a machine swapping) still has its connection,
#   so it never made a new handshake and never said HELLO: it kept sending,
#   said "connected yes", and silently received nothing more (issue 11,
#   bug 1). Expected now:
#     - a node paused (SIGSTOP) longer than the offline limit is online
#       again at the broker soon after it resumes, receives what was sent
#       to it meanwhile and afterwards, and its senders get the receipts;
#     - a broker paused longer than the offline limit serves every town
#       again after it resumes;
#     - the node never needed a new connection for it (no reconnect in
#       its log).
#
#   Usage: tests/integration/rejoin.sh BUILD_DIR

source "$(dirname "$0")/lib.sh"
it_init rejoin "${1:-}"

PAUSE_S=8 # longer than the tests' offline-after-ms (5 s)

it_make_county
it_start_county_broker
it_write_node_config luenen
it_write_node_config unna
it_start_node luenen
it_start_node unna
it_wait_connected luenen unna

it_send_and_deliver luenen unna "Vor der Pause, erfunden" >/dev/null

unna_offline () { ! it_broker_online unna; }
receipted () { [[ "$(it_sent_state luenen "$1")" == "receipted OK" ]]; }

#   ---- The node pauses -----------------------------------------------------------
kill -STOP "${IT_PID[unna]}"
it_log "unna paused for ${PAUSE_S} s"
it_wait_until 20 "the broker marks the paused unna offline" unna_offline
during=$(it_send_test luenen unna "Während der Pause, erfunden") || it_fail "luenen cannot queue"
sleep $((PAUSE_S - 5))
kill -CONT "${IT_PID[unna]}"
it_log "unna resumed"
it_wait_until 20 "the broker sees unna online again" it_broker_online unna
it_wait_until 20 "unna received the note sent during its pause" it_inbox_has unna "$during"
after=$(it_send_and_deliver luenen unna "Nach der Pause, erfunden")
it_wait_until 20 "luenen has unna's receipt for the note sent during the pause" receipted "$during"
it_wait_until 20 "luenen has unna's receipt for the note sent after the pause" receipted "$after"
it_assert_eq 0 "$(it_log_count unna "disconnected from the broker")" \
    "unna's connection was never lost (it came back on the same one)"
it_assert_log_has unna "saying HELLO again" "unna was asked for (or noticed the need of) a HELLO"

#   ---- The broker pauses -----------------------------------------------------------
kill -STOP "${IT_PID[broker]}"
it_log "the broker paused for ${PAUSE_S} s"
sleep "$PAUSE_S"
kill -CONT "${IT_PID[broker]}"
it_log "the broker resumed"
it_send_and_deliver luenen unna "Nach der Pause des Kreises, erfunden" >/dev/null
IT_SERVICE=jugendamt it_send_and_deliver unna luenen "Antwort nach der Pause des Kreises, erfunden" \
    >/dev/null
it_wait_connected luenen unna

it_check_alive broker luenen unna
it_stop luenen
it_stop unna
it_stop broker
it_pass
