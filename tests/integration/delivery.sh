#!/usr/bin/env bash
#   delivery.sh - test notes from luenen through the broker to unna, and
#   the receipts back.
#
#   Three notes are queued while the broker is not running yet (they wait in
#   luenen's durable outbox), three more once everything runs. Each must
#   reach unna's inbox with its text, in the order sent, and come back as
#   receipted in luenen's sent list.
#
#   Usage: tests/integration/delivery.sh BUILD_DIR

source "$(dirname "$0")/lib.sh"
it_init delivery "${1:-}"

it_make_county
it_write_broker_config "$(it_free_port)"
it_write_node_config luenen
it_write_node_config unna

#   ---- Queued while the broker is away ----------------------------------------------
it_start_node luenen
text="Testnachricht Lünen an Unna, erfunden"
ids=()
for n in 1 2 3; do
    id=$(it_send_test luenen unna "$text $n") || it_fail "luenen did not queue note $n"
    ids+=("$id")
done
it_assert_eq no "$(it_status_field luenen connected)" "luenen connected without a broker"
it_assert_eq 3 "$(it_status_field luenen outbox)" "luenen's outbox without a broker"
it_assert_eq 3 "$(it_sent_count luenen queued)" "notes queued in luenen's sent list"
it_assert_eq 3 "$(it_sent luenen | awk '{ print $1 }' | sort -u | wc -l)" \
    "distinct sequence numbers of the queued notes"

#   ---- The broker and unna come up -----------------------------------------------
it_start_broker || it_fail "the broker could not bind port $BROKER_PORT"
it_start_node unna
it_wait_connected luenen unna

#   ---- Three more with everything running -------------------------------------------
for n in 4 5 6; do
    id=$(it_send_test luenen unna "$text $n") || it_fail "luenen did not queue note $n"
    ids+=("$id")
done

#   Delivered: in unna's inbox, from luenen, with the text, opened by unna
for n in 1 2 3 4 5 6; do
    id=${ids[$((n - 1))]}
    it_wait_until 30 "unna has note $n ($id)" it_inbox_has unna "$id"
    read -r _ sender type _ _ received <<<"$(it_inbox unna | awk -v id="$id" '$5 == id')"
    it_assert_eq "luenen TEST_NOTE $text $n" "$sender $type $received" "note $n at unna"
done
inbox=$(it_inbox_notes unna)
it_assert_eq 6 "$(wc -l <<<"$inbox")" "notes in unna's inbox"
it_assert_eq "${ids[*]}" "$(awk '{ print $5 }' <<<"$inbox" | xargs)" "inbox order vs send order"
disorder=$(awk '{ if (seen && $4 <= last) { print NR": "$4" after "last; exit }
                  last = $4; seen = 1 }' <<<"$inbox")
it_assert_eq "" "$disorder" "first out-of-order sequence in unna's inbox"

#   The receipts come back: luenen's sent list says receipted
for n in 1 2 3 4 5 6; do
    id=${ids[$((n - 1))]}
    it_wait_until 30 "luenen's note $n is receipted" \
        eval '[[ "$(it_sent_state luenen "$id")" == "receipted OK" ]]'
done
it_assert_eq 0 "$(it_status_field luenen outbox)" "luenen's outbox"
#   The receipts themselves are in luenen's inbox, from unna
it_assert_eq 6 "$(it_inbox luenen | awk '$2 == "unna" && $3 == "RECEIPT"' | wc -l)" \
    "receipts in luenen's inbox"
#   The broker's queues are empty again
it_wait_until 10 "the broker's queue for unna is empty" eval '[[ "$(it_broker_queue unna)" == 0 ]]'
it_wait_until 10 "the broker's queue for luenen is empty" eval '[[ "$(it_broker_queue luenen)" == 0 ]]'
#   The broker cannot read the notes: its store holds no plain text
if grep -rqa "Testnachricht" "$BROKER_STATE"; then it_fail "the broker's store holds plain text"; fi
it_ok "the broker's store holds no plain text"

it_stop luenen
it_stop unna
it_stop broker
it_pass
