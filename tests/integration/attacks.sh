#!/usr/bin/env bash
#   attacks.sh - hostile connections and envelopes against a running broker
#
#   bruecke-attack (tests/integration/attack.c) connects to the broker and
#   does one bad thing per run; it prints what the broker answered. After
#   every attack a normal note from luenen must still reach unna: the
#   daemons keep serving the others.
#
#   Usage: tests/integration/attacks.sh BUILD_DIR

source "$(dirname "$0")/lib.sh"
it_init attacks "${1:-}"
[[ -x "$ATTACK_BIN" ]] || it_fail "$ATTACK_BIN is not built"

it_make_county
it_start_county_broker
it_write_node_config luenen
it_write_node_config unna
it_start_node luenen
it_start_node unna
it_wait_connected luenen unna

#   attack ARGS...: runs the attack tool against the broker; prints its verdict.
attack () {
    echo "---- bruecke-attack $*" >>"$WORK/logs/attack.log"
    "$ATTACK_BIN" --endpoint "$BROKER_ENDPOINT" --roster "$ROSTER" --county-pub "$KEYS/county.pub" \
        "$@" 2>>"$WORK/logs/attack.log"
}

#   A fresh random message id.
new_id () { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }

#   still_serves WHAT: the broker and the towns still work after an attack.
checks=0
still_serves () {
    checks=$((checks + 1))
    it_check_alive broker luenen unna
    it_send_and_deliver luenen unna "Kontrolle $checks nach: $1" >/dev/null ||
        it_fail "luenen -> unna no longer works after: $1"
    it_ok "luenen -> unna still delivered after: $1"
}

#   not_delivered ID WHAT: ID never reached unna.
not_delivered () {
    if it_inbox_has unna "$1"; then it_fail "$2: message $1 reached unna"; fi
    it_ok "$2: message $1 not delivered"
}

#   expect VERDICT-REGEX WHAT ARGS...: runs an attack, checks its verdict.
expect () {
    local pattern="$1" what="$2" verdict
    shift 2
    verdict=$(attack "$@")
    case $? in
        0) ;;
        3) #   The tool itself hung (its stacks are in the log): once more
            it_log "$what: the attack tool hung before its verdict; once more"
            verdict=$(attack "$@") || it_fail "$what: the attack tool failed twice (see logs/attack.log)"
            ;;
        *) it_fail "$what: the attack tool failed (see logs/attack.log)" ;;
    esac
    it_assert_match "$pattern" "$verdict" "$what: the broker's answer"
}

kamen=(--key "$KEYS/kamen.key")

#   ---- Connections the broker must not admit -----------------------------------

id=$(new_id)
expect '^NO_CONNECTION$' "transport key not in the roster" \
    --random-key --sign-key "$KEYS/luenen.key" --id "$id" --wait-ms 2000 note
it_assert_log_has broker "zap: refused CURVE key .* not in roster" "the broker logged the unknown key"
still_serves "unknown transport key"
not_delivered "$id" "unknown transport key"

id=$(new_id)
expect '^NO_CONNECTION$' "NULL mechanism" \
    --mechanism null --sign-key "$KEYS/luenen.key" --id "$id" --wait-ms 2000 note
still_serves "NULL mechanism"
not_delivered "$id" "NULL mechanism"

id=$(new_id)
expect '^NO_CONNECTION$' "PLAIN mechanism" \
    --mechanism plain --sign-key "$KEYS/luenen.key" --id "$id" --wait-ms 2000 note
still_serves "PLAIN mechanism"
not_delivered "$id" "PLAIN mechanism"

#   ---- A valid node (kamen) speaking for another --------------------------------

id=$(new_id)
expect '^REFUSAL SENDER_MISMATCH ' "kamen signs as luenen with a made-up key" \
    "${kamen[@]}" --forge-signer luenen --id "$id" note
still_serves "signer luenen with a made-up key"
not_delivered "$id" "signer luenen with a made-up key"

id=$(new_id)
expect '^REFUSAL SENDER_MISMATCH ' "kamen's connection, envelope validly signed by luenen" \
    "${kamen[@]}" --sign-key "$KEYS/luenen.key" --id "$id" note
still_serves "luenen's envelope on kamen's connection"
not_delivered "$id" "luenen's envelope on kamen's connection"

#   ---- Forged, replayed, duplicated -----------------------------------------------

id=$(new_id)
expect '^REFUSAL BAD_SIGNATURE ' "a flipped signature byte" "${kamen[@]}" --id "$id" bad-signature
still_serves "a flipped signature byte"
not_delivered "$id" "a flipped signature byte"

#   A valid note first, then the same id with other content
id=$(new_id)
expect "^ACCEPTED $id\$" "kamen's valid note" "${kamen[@]}" --id "$id" --text "Original, erfunden" note
it_wait_until 30 "unna has kamen's note $id" it_inbox_has unna "$id"
expect "^REFUSAL REPLAYED $id\$" "the same id with other content" \
    "${kamen[@]}" --id "$id" --text "Fälschung, erfunden" note
still_serves "a replayed id"
it_assert_eq "Original, erfunden" "$(it_inbox unna | awk -v id="$id" '$5 == id' | cut -d' ' -f6-)" \
    "the text unna holds for $id"

#   The exact same bytes again: acknowledged again, delivered once
id=$(new_id)
expect "^ACCEPTED $id\$" "kamen's note, saved" "${kamen[@]}" --id "$id" --save "$WORK/dup.bin" \
    --text "Einmal, erfunden" note
it_wait_until 30 "unna has kamen's note $id" it_inbox_has unna "$id"
expect "^ACCEPTED $id\$" "the exact duplicate" "${kamen[@]}" --file "$WORK/dup.bin" raw
expect "^ACCEPTED $id\$" "the exact duplicate, again" "${kamen[@]}" --file "$WORK/dup.bin" raw
still_serves "an exact duplicate"
it_assert_eq 1 "$(it_inbox unna | awk -v id="$id" '$5 == id' | wc -l)" \
    "times the duplicated note is in unna's inbox"

#   ---- Oversized, unattested, undecodable, unroutable -----------------------------

id=$(new_id)
expect '^DISCONNECTED$' "an envelope over 1 MiB" "${kamen[@]}" --id "$id" --wait-ms 2000 oversize
grep -q "disconnected by the broker" "$WORK/logs/attack.log" ||
    it_fail "the broker did not drop the connection that sent more than 1 MiB"
it_ok "the broker dropped the connection that sent more than 1 MiB"
still_serves "an envelope over 1 MiB"
not_delivered "$id" "an envelope over 1 MiB"

id=$(new_id)
expect "^REFUSAL ATTESTATION_MISSING $id\$" "a test note without attestation" \
    "${kamen[@]}" --id "$id" no-attestation
still_serves "a test note without attestation"
not_delivered "$id" "a test note without attestation"

head -c 300 /dev/urandom >"$WORK/garbage.bin"
expect '^REFUSAL MALFORMED -$' "300 random bytes" "${kamen[@]}" --file "$WORK/garbage.bin" raw
still_serves "random bytes"

id=$(new_id)
expect "^REFUSAL NO_ROUTE $id\$" "a note for a service unna does not offer" \
    "${kamen[@]}" --id "$id" --service jobcenter note
still_serves "a note for a service the recipient does not offer"
not_delivered "$id" "a note for a service the recipient does not offer"

#   The broker counted the refusals, and unna holds only what was accepted:
#   the control notes, the original and the duplicated note
refused=$(it_broker_status | awk '$1 == "refused" { print $2 }')
it_assert_ge 7 "$refused" "refusals the broker counted"
it_assert_eq $((checks + 2)) "$(it_inbox_count unna)" "notes in unna's inbox"

it_check_alive broker luenen unna
it_stop luenen
it_stop unna
it_stop broker
it_pass
