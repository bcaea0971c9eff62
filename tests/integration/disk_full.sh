#!/usr/bin/env bash
#   disk_full.sh - the broker's disk fills up
#
#   The broker's state directory is a 2 MiB tmpfs; its LMDB map (mapsize-mb)
#   is far larger, so the disk (ENOSPC), not the map, is what fills. unna is
#   offline; luenen sends large notes until the broker's group commit fails
#   for lack of room. Expected then:
#     - the broker keeps running and logs the failed group commit;
#     - it refuses with a retry reason, STORE_FULL (at least sometimes: see
#       store_full below): luenen keeps those notes in its outbox ("queued"
#       in node sent), none is given up;
#     - what the broker had accepted before is still delivered to unna
#       when unna comes online;
#     - once the disk has room again (remount with a larger size), luenen's
#       retransmissions are accepted, every note arrives exactly once and
#       in luenen's sequence order (also when a small note still fitted
#       while an earlier large one was refused), and every note ends
#       receipted.
#
#   Needs permission to mount a tmpfs (root); skips (exit 77) otherwise.
#   Where it may, the test runs in a private mount namespace (unshare), so
#   the tmpfs vanishes with the test's processes even if the test itself is
#   killed; otherwise an exit trap unmounts it.
#
#   Usage: tests/integration/disk_full.sh BUILD_DIR

if [[ -z "${IT_MOUNT_NAMESPACE:-}" ]] && unshare --mount --propagation private true 2>/dev/null; then
    IT_MOUNT_NAMESPACE=1 exec unshare --mount --propagation private "$0" "$@"
fi
source "$(dirname "$0")/lib.sh"
it_init disk_full "${1:-}"

MAX_NOTES=${IT_MAX_NOTES:-1500}
#   Large notes fill the disk quickly (the node allows 4096 characters)
TEXT_PAD=$(printf 'x%.0s' $(seq 1 3800))

BROKER_STATE="$WORK/state/broker"
it_mount_tmpfs "$BROKER_STATE" 2m
it_log "broker state on a 2 MiB tmpfs: $(df -h --output=size,avail "$BROKER_STATE" | tail -n 1)" \
    "${IT_MOUNT_NAMESPACE:+(private mount namespace)}"

it_make_county
it_start_county_broker mapsize-mb=64
it_write_node_config luenen
it_write_node_config unna
it_start_node luenen
it_wait_connected luenen

#   The broker's group commit failed for lack of room. LMDB reports a write
#   that the full disk cut short as EIO, which the store maps to
#   STORE_FAILED; both are retry reasons, so both count as "full" here, and
#   whether STORE_FULL was said is checked separately below.
store_full () {
    (($(it_log_count broker "group commit of [0-9]+ messages failed: STORE_(FULL|FAILED)") > 0))
}

#   ---- Fill the disk -------------------------------------------------------------
ids="$WORK/queued.txt"
: >"$ids"
for ((i = 1; i <= MAX_NOTES; i++)); do
    id=$(it_send_test luenen unna "Großnotiz $i, erfunden $TEXT_PAD") ||
        it_fail "luenen did not queue note $i"
    echo "$id" >>"$ids"
    if ((i == 20)); then
        #   Each note needs its own place in the outbox, or nothing fills up
        it_assert_eq 20 "$(it_sent luenen | awk '{ print $1 }' | sort -u | wc -l)" \
            "distinct sequence numbers of luenen's first 20 notes"
    fi
    if ((i % 10 == 0)) && store_full; then break; fi
done
store_full || it_fail "the broker's store never filled up after $MAX_NOTES notes"
it_log "the broker's disk is full after $i notes: $(df -h --output=used,avail "$BROKER_STATE" | tail -n 1)"
#   A few more while full, so that the refusals are steady state: large
#   ones, then small ones that may still fit where the large ones did not.
#   Per-sender order must hold all the same (checked at the end).
for text in "Großnotiz voll 1, erfunden $TEXT_PAD" "Großnotiz voll 2, erfunden $TEXT_PAD" \
    "Großnotiz voll 3, erfunden $TEXT_PAD" "Kleine Notiz 1" "Kleine Notiz 2" "Kleine Notiz 3"; do
    id=$(it_send_test luenen unna "$text") ||
        it_fail "luenen did not queue a note while the broker is full"
    echo "$id" >>"$ids"
done
sleep 3 #   a retransmission round (retransmit-ms is 2000)

it_check_alive broker luenen
it_assert_log_has broker "group commit of [0-9]+ messages failed: STORE_(FULL|FAILED)" \
    "the broker logged the failed group commit"
it_assert_log_has luenen "broker refused a message: STORE_(FULL|FAILED)" \
    "luenen heard a retry refusal"
sent="$WORK/sent-full.txt"
it_sent luenen >"$sent"
outbox=$(it_status_field luenen outbox)
queued_count=$(awk '$4 == "queued"' "$sent" | wc -l)
accepted="$WORK/accepted.txt"
awk '$4 == "accepted" { print $2 }' "$sent" >"$accepted"
it_log "luenen: $(wc -l <"$accepted") accepted, $queued_count queued, outbox $outbox"
it_assert_ge 1 "$outbox" "notes in luenen's outbox while the broker is full"
it_assert_ge 1 "$queued_count" "notes luenen's sent list shows queued"
it_assert_eq 0 "$(awk '$4 == "refused"' "$sent" | wc -l)" "notes luenen gave up (refused)"
it_assert_ge 10 "$(wc -l <"$accepted")" "notes the broker accepted before it was full"
#   The broker may accept a retransmission meanwhile, never lose one
it_assert_ge "$(wc -l <"$accepted")" "$(it_broker_queue unna)" "broker queue for unna"

#   ---- unna comes online: what was accepted is delivered -------------------------------
it_start_node unna
it_wait_connected unna
it_wait_until 60 "unna has every note the broker accepted" \
    eval '[[ -z "$(comm -23 <(sort "$accepted") <(it_inbox_notes unna | awk "{ print \$5 }" | sort))" ]]'
it_ok "unna received all $(wc -l <"$accepted") notes the broker had accepted"
it_assert_eq "" "$(it_inbox_notes unna | awk '{ print $5 }' | sort | uniq -d)" "ids unna received twice"
it_check_alive broker luenen unna

#   A full disk is STORE_FULL (PROTOCOL.md section 12), at least sometimes
full=$(it_log_count broker "group commit of [0-9]+ messages failed: STORE_FULL")
failed=$(it_log_count broker "group commit of [0-9]+ messages failed: STORE_FAILED")
if ((full == 0)); then
    it_soft_fail "the disk is full, but the broker said STORE_FULL for none of its" \
        "$failed failed group commits (all STORE_FAILED)"
else
    it_ok "the broker said STORE_FULL ($full failed group commits; $failed said STORE_FAILED)"
fi

#   ---- Room again: everything arrives, exactly once --------------------------------
mount -o remount,size=32m "$BROKER_STATE" || it_fail "cannot grow the tmpfs"
it_log "tmpfs grown: $(df -h --output=size,avail "$BROKER_STATE" | tail -n 1)"
total=$(wc -l <"$ids")
it_wait_until 90 "luenen's outbox is empty" eval '[[ "$(it_status_field luenen outbox)" == 0 ]]'
it_wait_until 90 "unna has all $total notes" it_inbox_has_count unna "$total" luenen
sleep 1
inbox="$WORK/unna-inbox.txt"
it_inbox_notes unna luenen >"$inbox"
it_assert_eq "$total" "$(wc -l <"$inbox")" "notes in unna's inbox"
it_assert_eq "" "$(comm -3 <(sort "$ids") <(awk '{ print $5 }' "$inbox" | sort))" \
    "difference between queued and received ids"
#   These two are independent; both are reported
disorder=$(awk '{ if (seen && $4 <= last) { print NR": "$4" after "last; exit }
                  last = $4; seen = 1 }' "$inbox")
if [[ -n "$disorder" ]]; then
    it_soft_fail "luenen's notes reached unna out of sequence order (inbox line $disorder)"
else
    it_ok "luenen's sequence numbers increase in unna's inbox"
fi
if it_try_wait_until 30 "all $total notes are receipted at luenen" \
    it_all_sent_in luenen receipted "$total"; then
    it_ok "luenen's sent list: $total receipted"
    it_wait_until 30 "the broker's queue for unna is empty" eval '[[ "$(it_broker_queue unna)" == 0 ]]'
else
    it_soft_fail "only $(it_sent_count luenen receipted) of $total notes receipted at luenen;" \
        "broker queue for unna: $(it_broker_queue unna);" \
        "receipts the broker refused: $(it_log_count broker 'refused .* from unna: STORE_')"
fi

it_check_alive broker luenen unna
it_stop luenen
it_stop unna
it_stop broker
it_pass
