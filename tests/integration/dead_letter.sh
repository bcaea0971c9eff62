#!/usr/bin/env bash
#   dead_letter.sh - a message for a town that stays offline expires at the
#   broker: it moves to the dead letters and the sender gets a signed notice.
#
#   luenen sends kamen (never started) two notes that live 3 seconds and one
#   that lives a day. The broker's expiry scan moves the short-lived ones to
#   its dead-letter store; luenen receives a DEAD_LETTER notice for each and
#   its sent list says "dead EXPIRED". The long-lived note stays queued.
#   Then kamen comes online and receives only the long-lived note.
#
#   Usage: tests/integration/dead_letter.sh BUILD_DIR

source "$(dirname "$0")/lib.sh"
it_init dead_letter "${1:-}"

it_make_county
it_start_county_broker
it_write_node_config luenen
it_start_node luenen
it_wait_connected luenen

short1=$(it_send_test luenen kamen "kurzlebig 1, erfunden" --valid-seconds 3) ||
    it_fail "luenen did not queue the first short-lived note"
short2=$(it_send_test luenen kamen "kurzlebig 2, erfunden" --valid-seconds 3) ||
    it_fail "luenen did not queue the second short-lived note"
long=$(it_send_test luenen kamen "langlebig, erfunden") || it_fail "luenen did not queue the long note"

#   Conditions to wait for
queued_for_kamen () { [[ "$(it_broker_queue kamen)" == "$1" ]]; }
state_at_luenen () { [[ "$(it_sent_state luenen "$1" | awk '{ print $1 }')" == "$2" ]]; }

it_wait_until 10 "the broker holds three notes for kamen" queued_for_kamen 3

#   Expiry: both short-lived notes become dead letters, luenen hears of each
it_wait_until 20 "luenen's first note is dead" state_at_luenen "$short1" dead
it_wait_until 10 "luenen's second note is dead" state_at_luenen "$short2" dead
it_assert_eq "dead EXPIRED" "$(it_sent_state luenen "$short1")" "luenen's first short-lived note"
it_assert_eq "dead EXPIRED" "$(it_sent_state luenen "$short2")" "luenen's second short-lived note"
it_assert_eq "accepted OK" "$(it_sent_state luenen "$long")" "luenen's long-lived note"
it_assert_eq 2 "$(it_broker_status | awk '$1 == "dead" { print $2 }')" "dead letters at the broker"
it_assert_eq 2 "$(it_inbox luenen | awk '$3 == "DEAD_LETTER"' | wc -l)" \
    "DEAD_LETTER notices in luenen's inbox"
it_assert_eq 1 "$(it_broker_queue kamen)" "notes still queued for kamen"

#   kamen comes online: only the long-lived note is delivered
it_write_node_config kamen
it_start_node kamen
it_wait_until 20 "kamen received the long-lived note" it_inbox_has kamen "$long"
it_wait_until 20 "the long-lived note is receipted" state_at_luenen "$long" receipted
it_assert_eq 1 "$(it_inbox_count kamen)" "notes in kamen's inbox"

it_stop luenen
it_stop kamen
it_stop broker
it_pass
