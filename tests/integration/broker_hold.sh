#!/usr/bin/env bash
#   broker_hold.sh - after the broker's disk was full, no sender is held for ever
#
#   To keep a sender's order, the broker refuses the sender's later content
#   with BUSY once it refused one of its messages for a retry reason, until
#   that one comes again (PROTOCOL.md 9, step 2). If a failed group commit
#   held a sender at a message the broker had stored and acknowledged
#   before (a go-back-N retransmission in the same batch), that message
#   never came again, and the sender was refused BUSY for ever (issue 11,
#   bug 4). Here, acting as Lünen with bruecke-attack:
#     1. note A (sequence 5) is accepted;
#     2. the broker's disk is filled;
#     3. a large new note B (sequence 6) and A again (a retransmission) go
#        out on one connection, one right after the other, so that the
#        broker takes them in one group commit; it fails: B is refused
#        with a retry reason;
#     4. the disk is emptied; B comes again: it must be accepted (before
#        the fix: BUSY), and so must a later note C (sequence 7).
#   Whether A and B land in one commit depends on timing, so the round runs
#   several times, each with new notes; every round must pass.
#
#   Needs permission to mount a tmpfs (root); skips (77) otherwise.
#
#   Usage: tests/integration/broker_hold.sh BUILD_DIR

if [[ -z "${IT_MOUNT_NAMESPACE:-}" ]] && unshare --mount --propagation private true 2>/dev/null; then
    IT_MOUNT_NAMESPACE=1 exec unshare --mount --propagation private "$0" "$@"
fi
source "$(dirname "$0")/lib.sh"
it_init broker_hold "${1:-}"
[[ -x "$ATTACK_BIN" ]] || it_fail "$ATTACK_BIN is not built"

ROUNDS=${IT_ROUNDS:-6}
BIG_TEXT_BYTES=600000 # needs new pages: no commit finds room for it among freed ones

BROKER_STATE="$WORK/state/broker"
it_mount_tmpfs "$BROKER_STATE" 64m

it_make_county
it_start_county_broker mapsize-mb=256

#   attack ARGS...: bruecke-attack as Lünen; prints its verdict line.
attack () {
    "$ATTACK_BIN" --endpoint "$BROKER_ENDPOINT" --roster "$ROSTER" --county-pub "$KEYS/county.pub" \
        --key "$KEYS/luenen.key" --to unna --service fruehe-hilfen "$@" 2>>"$WORK/logs/attack.log"
}

sequence=100
for ((round = 1; round <= ROUNDS; round++)); do
    a="$WORK/a-$round.bin" b="$WORK/b-$round.bin"
    sequence=$((sequence + 10))
    verdict=$(attack note --sequence "$sequence" --text "Notiz A, Runde $round, erfunden" --save "$a")
    [[ "$verdict" == ACCEPTED* ]] || it_fail "round $round: note A: $verdict"
    attack oversize --size "$BIG_TEXT_BYTES" --sequence $((sequence + 1)) --save "$b" \
        --build-only >/dev/null || it_fail "round $round: cannot build note B"
    dd if=/dev/zero of="$BROKER_STATE/filler" bs=64k status=none 2>/dev/null
    verdict=$(attack raw --file "$b" --then "$a")
    [[ "$verdict" =~ ^REFUSAL\ (STORE_FULL|STORE_FAILED|IO_ERROR) ]] ||
        it_fail "round $round: with a full disk, note B got: $verdict"
    rm -f "$BROKER_STATE/filler"
    verdict=$(attack raw --file "$b")
    [[ "$verdict" == ACCEPTED* ]] ||
        it_fail "round $round: note B sent again once the disk has room: $verdict (held for ever?)"
    verdict=$(attack note --sequence $((sequence + 2)) --text "Notiz C, Runde $round, erfunden")
    [[ "$verdict" == ACCEPTED* ]] || it_fail "round $round: the later note C: $verdict"
    it_ok "round $round: B refused on the full disk, then B and C accepted"
done
#   The attacker never said HELLO: the broker, holding no session for
#   Lünen, asked it for one on every connection (at most once a second)
grep -q "the broker asks for HELLO" "$WORK/logs/attack.log" ||
    it_fail "the broker never asked the connection without a session for HELLO"
it_ok "the broker asked Lünen's connection without a session for HELLO"
it_log "group commits that failed: $(it_log_count broker "group commit of [0-9]+ messages failed")," \
    "of them with 2 messages: $(it_log_count broker "group commit of 2 messages failed")"

it_check_alive broker
it_stop broker
it_pass
