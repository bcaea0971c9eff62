#!/usr/bin/env bash
#   node_disk_full.sh - a recipient's disk fills up, then has room again
#
#   Unna's state directory is a small tmpfs. While Lünen sends a steady
#   stream of notes, the tmpfs is filled until Unna cannot store a batch of
#   deliveries, then emptied at once. Unna drops that batch and asks for it
#   again with a new HELLO; the broker meanwhile still sends newer notes.
#   Those must not be stored before the dropped ones (issue 11, bug 2: it
#   found "sequence 25 after 51"). Expected:
#     - Unna keeps running and logs that it cannot store;
#     - every note arrives exactly once, and Unna's inbox holds Lünen's
#       notes in Lünen's sequence order;
#     - every note ends receipted at Lünen.
#
#   Needs permission to mount a tmpfs (root); skips (77) otherwise. Runs in
#   a private mount namespace where it may, as disk_full.sh does.
#
#   Usage: tests/integration/node_disk_full.sh BUILD_DIR

if [[ -z "${IT_MOUNT_NAMESPACE:-}" ]] && unshare --mount --propagation private true 2>/dev/null; then
    IT_MOUNT_NAMESPACE=1 exec unshare --mount --propagation private "$0" "$@"
fi
source "$(dirname "$0")/lib.sh"
it_init node_disk_full "${1:-}"

NOTES=${IT_NOTES:-400}     # notes Lünen sends in all
FILL_AFTER=40              # the disk fills after this many
TEXT_PAD=$(printf 'x%.0s' $(seq 1 2000))

UNNA_STATE="$WORK/state/unna"
it_mount_tmpfs "$UNNA_STATE" 48m

it_make_county
it_start_county_broker
it_write_node_config luenen
it_write_node_config unna
it_start_node luenen
it_start_node unna
it_wait_connected luenen unna

cannot_store () { (($(it_log_count unna "cannot store deliveries") > 0)); }

#   fill DIR: writes a filler file until the file system is full.
fill () {
    dd if=/dev/zero of="$1/filler" bs=64k status=none 2>/dev/null
    sync
}

#   ---- A stream of notes; the disk fills in the middle, and is emptied -------------
ids="$WORK/sent-ids.txt"
: >"$ids"
filled=0
for ((i = 1; i <= NOTES; i++)); do
    id=$(it_send_test luenen unna "Notiz $i, erfunden $TEXT_PAD") || it_fail "luenen cannot queue $i"
    echo "$id" >>"$ids"
    if ((i == FILL_AFTER)); then
        fill "$UNNA_STATE"
        filled=1
        it_log "unna's disk is full: $(df -h --output=used,avail "$UNNA_STATE" | tail -n 1)"
    fi
    if ((filled == 1)) && cannot_store; then
        rm -f "$UNNA_STATE/filler"
        filled=2
        it_log "unna could not store a batch after note $i; its disk has room again"
    fi
done
((filled == 2)) || it_fail "unna never failed to store (the disk did not fill)"
it_assert_log_has unna "cannot store deliveries: STORE_(FULL|FAILED)" "unna said why it could not store"

#   ---- Every note once, in order, receipted --------------------------------------
it_wait_until 120 "all $NOTES notes receipted at luenen" it_all_sent_in luenen receipted "$NOTES"
notes_at_unna=$(it_inbox_notes unna luenen)
it_assert_eq "$NOTES" "$(echo "$notes_at_unna" | wc -l)" "notes in unna's inbox"
it_assert_eq "$NOTES" "$(echo "$notes_at_unna" | awk '{ print $5 }' | sort -u | wc -l)" \
    "distinct notes in unna's inbox (none twice)"
out_of_order=$(echo "$notes_at_unna" | awk '$4 <= last { print "sequence " $4 " after " last } { last = $4 }')
[[ -z "$out_of_order" ]] || it_fail "luenen's notes reached unna out of order: $out_of_order"
it_ok "luenen's $NOTES notes reached unna in luenen's sequence order"

it_check_alive broker luenen unna
it_stop luenen
it_stop unna
it_stop broker
it_pass
