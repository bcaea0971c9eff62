#!/usr/bin/env bash
#   casework_attacks.sh - casework messages whose legal basis does not hold,
#   sent straight to the broker by a node that skips its own checks.
#
#   The broker refuses what the attestation does not cover (wrong recipient,
#   expired, purpose not allowed, withdrawn consent); the recipient refuses
#   data categories the attestation does not cover, and stores nothing of
#   it. A well-formed referral gets through, so the refusals are not the
#   tool failing. After each refusal a note from luenen still reaches unna.
#
#   Usage: tests/integration/casework_attacks.sh BUILD_DIR

source "$(dirname "$0")/lib.sh"
it_init casework_attacks "${1:-}"
[[ -x "$ATTACK_BIN" ]] || it_fail "$ATTACK_BIN is not built"

it_make_county luenen unna kamen
it_start_county_broker
mkdir -p -m 0700 "$WORK/state/unna"
TOKEN=$(it_cli api-token add --tokens "$WORK/state/unna/api-tokens" --name unna-desk \
    --role readonly --offices fruehe-hilfen,jugendamt) || it_fail "cannot make an API token"
API_PORT=$(it_free_port)
it_write_node_config luenen
it_write_node_config unna "api=127.0.0.1:$API_PORT"
it_start_node luenen
it_start_node unna
it_wait_connected luenen unna

#   attack ARGS...: kamen's keys, a referral to unna's Frühe Hilfen; prints the verdict.
attack () {
    echo "---- bruecke-attack $*" >>"$WORK/logs/attack.log"
    "$ATTACK_BIN" --endpoint "$BROKER_ENDPOINT" --roster "$ROSTER" --county-pub "$KEYS/county.pub" \
        --key "$KEYS/kamen.key" --wait-ms 10000 "$@" 2>>"$WORK/logs/attack.log"
}

checks=0
still_serves () {
    checks=$((checks + 1))
    it_check_alive broker luenen unna
    it_send_and_deliver luenen unna "Kontrolle $checks nach: $1" >/dev/null ||
        it_fail "luenen -> unna no longer works after: $1"
}

#   expect VERDICT-REGEX WHAT ARGS...: runs an attack, checks its verdict.
expect () {
    local pattern="$1" what="$2" verdict
    shift 2
    verdict=$(attack "$@") || it_fail "$what: the attack tool failed (see logs/attack.log)"
    it_assert_match "$pattern" "$verdict" "$what"
    still_serves "$what"
}

unna_referrals () {
    "$BRUECKE" api GET /v1/referrals --url "http://127.0.0.1:$API_PORT" --token "$TOKEN" |
        jq '.referrals | length'
}

consent () { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }

#   ---- The broker refuses what the attestation does not cover -----------------------
expect '^REFUSAL RECIPIENT_MISMATCH ' "an attestation naming another recipient" \
    referral --attest-to luenen
expect '^REFUSAL CONSENT_EXPIRED ' "an expired attestation" referral --valid-ms -60000
expect '^REFUSAL PURPOSE_MISMATCH ' "a referral under the case-transfer purpose" \
    referral --purpose case-transfer
expect '^REFUSAL PURPOSE_MISMATCH ' "a purpose outside the catalogue" referral --purpose shopping
WITHDRAWN=$(consent)
expect '^ACCEPTED ' "a consent withdrawal passes" withdrawal --consent "$WITHDRAWN"
expect '^REFUSAL CONSENT_WITHDRAWN ' "a referral under the withdrawn consent" \
    referral --consent "$WITHDRAWN"
it_assert_eq 0 "$(unna_referrals)" "referrals at unna after the broker's refusals"

#   ---- The recipient refuses categories the attestation does not cover ---------------
expect '^RECIPIENT REFUSAL CATEGORY_NOT_COVERED$' "health data under a household attestation" \
    referral --consent "$(consent)" --section health --await-recipient
it_assert_eq 0 "$(unna_referrals)" "referrals stored at unna after the recipient's refusal"

#   ---- A referral whose basis holds gets through ----------------------------------------
expect '^RECIPIENT RECEIPT$' "a covered referral" referral --consent "$(consent)" --await-recipient
it_assert_eq 1 "$(unna_referrals)" "referrals at unna after a covered one"
it_pass
