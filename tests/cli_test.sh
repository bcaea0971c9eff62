#!/usr/bin/env bash
#   cli_test.sh - drives the bruecke operator CLI as the county's IT staff would
#
#   Usage: tests/cli_test.sh PATH-TO-bruecke
#   Works in a fresh temporary directory; asserts exit codes, reason codes and
#   file modes. Exits non-zero on the first failed expectation.

set -uo pipefail
BRUECKE="$1"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cli_test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1
passed=0

fail () { echo "FAIL: $*" >&2; exit 1; }

#   expect CODE [REASON] -- COMMAND... : runs the command, checks its exit code
#   and, if REASON is given, that stderr names that reason code.
expect () {
    local code="$1" reason=""
    shift
    if [[ "$1" != "--" ]]; then reason="$1"; shift; fi
    shift
    "$BRUECKE" "$@" >out.txt 2>err.txt
    local got=$?
    [[ $got -eq $code ]] || fail "bruecke $* exited $got, expected $code: $(cat err.txt)"
    if [[ -n "$reason" ]]; then
        grep -q "refused: $reason (" err.txt || fail "bruecke $* did not refuse with $reason: $(cat err.txt)"
    fi
    passed=$((passed + 1))
}

# ---- Keys -----------------------------------------------------------------
expect 0 -- county-keygen --dir .
for town in luenen unna kamen; do expect 0 -- keygen --node-id "$town" --dir .; done
expect 0 -- keygen --node-id broker --dir .
[[ $(stat -c %a luenen.key) == 600 ]] || fail "secret key file is not 0600"
[[ $(stat -c %a luenen.pub) == 644 ]] || fail "public key file is not 0644"
expect 1 IO_ERROR -- keygen --node-id luenen --dir .          # never overwrites keys
expect 2 -- keygen --node-id "Not Valid" --dir .
expect 0 -- key show luenen.pub
grep -q "node luenen (public key file)" out.txt || fail "key show did not name the node"
chmod 0644 kamen.key
expect 1 KEY_PERMISSIONS -- key show kamen.key                  # loose permissions refused
chmod 0600 kamen.key

# ---- Roster ---------------------------------------------------------------
expect 0 -- roster init --draft draft.zpl --county-ags 05978 --county-name "Kreis Unna"
expect 1 -- roster init --draft draft.zpl --county-ags 05978 --county-name "Kreis Unna"
expect 2 -- roster init --draft other.zpl --county-ags 0597 --county-name "Kreis Unna"
expect 0 -- roster add-node --draft draft.zpl --pub luenen.pub --name "Lünen" --ags 05978024 \
    --role town --services jobcenter,jugendamt
expect 0 -- roster add-node --draft draft.zpl --pub unna.pub --name Unna --ags 05978036 \
    --role town --services fruehe-hilfen,jugendamt,gesundheitsamt
expect 0 -- roster add-node --draft draft.zpl --pub broker.pub --name "Kreis Unna Koordinierung" \
    --ags 05978 --role broker
expect 1 ROSTER_INVALID -- roster add-node --draft draft.zpl --pub unna.pub --name Unna2 \
    --ags 05978036 --role town
expect 2 -- roster add-node --draft draft.zpl --pub kamen.pub --name Kamen --ags 05978020 --role mayor
expect 0 -- roster add-route --draft draft.zpl --ags 05978036 --service jugendamt --node unna
expect 1 ROSTER_INVALID -- roster add-route --draft draft.zpl --ags 05978036 --service jugendamt \
    --node luenen                                                  # no pair routed twice
expect 1 ROSTER_INVALID -- roster add-route --draft draft.zpl --ags 05978020 --service jugendamt \
    --node kamen                                                   # unknown node
expect 0 -- roster sign --draft draft.zpl --county-key county.key --out roster.bin
grep -q "roster version 1 signed" out.txt || fail "first roster is not version 1"
expect 0 -- roster verify --county-pub county.pub roster.bin
expect 0 -- roster show --county-pub county.pub roster.bin
grep -q "luenen .*05978024 town    Lünen" out.txt || fail "roster show lacks Lünen: $(cat out.txt)"
grep -q "05978036 jugendamt .*-> unna" out.txt || fail "roster show lacks the route"
cp roster.bin roster-v1.bin

# A roster signed by anyone but the county is refused
expect 0 -- keygen --node-id county --dir impostor
expect 1 ROSTER_BAD_SIGNATURE -- roster verify --county-pub impostor/county.pub roster.bin
# A flipped byte is refused
cp roster.bin tampered.bin
printf '\x58' | dd of=tampered.bin bs=1 seek=40 conv=notrunc 2>/dev/null
cmp -s roster.bin tampered.bin && fail "tampering did not change the file"
"$BRUECKE" roster verify --county-pub county.pub tampered.bin >/dev/null 2>err.txt
[[ $? -eq 1 ]] || fail "tampered roster accepted"
grep -qE "refused: (ROSTER_BAD_SIGNATURE|MALFORMED) " err.txt || fail "tampered roster: $(cat err.txt)"
# Garbage
head -c 300 /dev/urandom >garbage.bin
"$BRUECKE" roster verify --county-pub county.pub garbage.bin >/dev/null 2>&1 && fail "garbage roster accepted"

# Revoke Lünen: version 2; version 1 is then a rollback
expect 0 -- roster revoke --draft draft.zpl --node luenen
expect 1 NOT_FOUND -- roster revoke --draft draft.zpl --node werne
expect 0 -- roster sign --draft draft.zpl --county-key county.key --out roster.bin
grep -q "roster version 2 signed" out.txt || fail "second roster is not version 2"
expect 0 -- roster verify --county-pub county.pub --current roster-v1.bin roster.bin
expect 1 ROSTER_ROLLBACK -- roster verify --county-pub county.pub --current roster.bin roster-v1.bin
expect 0 -- roster show --county-pub county.pub roster.bin
grep -q "(REVOKED)" out.txt || fail "revocation not shown"
# Signing again never repeats a version, even from an edited-back draft
sed -i 's/version = "3"/version = "1"/' draft.zpl
expect 0 -- roster sign --draft draft.zpl --county-key county.key --out roster.bin
grep -q "roster version 3 signed" out.txt || fail "signing repeated an old version: $(cat out.txt)"

# ---- Envelopes ------------------------------------------------------------
expect 0 -- envelope create --key unna.key --roster roster-v1.bin --county-pub county.pub \
    --to luenen --service jugendamt --text "Testnachricht, erfunden" --purpose case-transfer \
    --categories household --statute "SGB VIII §86c" --out note.bin
grep -q "Testnachricht" note.bin && fail "test note is not sealed"
expect 0 -- envelope verify --roster roster-v1.bin --county-pub county.pub --key luenen.key note.bin
grep -q "text: Testnachricht, erfunden" out.txt || fail "recipient could not open the note"
grep -q "legal basis: statute SGB VIII §86c" out.txt || fail "attestation not shown"
expect 1 DECRYPT_FAILED -- envelope verify --roster roster-v1.bin --county-pub county.pub \
    --key unna.key note.bin                                        # only the recipient opens it
expect 1 CLOCK_SKEW -- envelope verify --roster roster-v1.bin --county-pub county.pub \
    --at-ms 946684800000 note.bin                                  # checked in 2000: from the future
expect 1 EXPIRED -- envelope verify --roster roster-v1.bin --county-pub county.pub \
    --at-ms 4102444800000 note.bin                                 # checked in 2100: long expired
# The roster of version 3 revokes Lünen... the note's signer is Unna, still valid;
# one signed by Lünen is refused under it.
expect 0 -- envelope create --key luenen.key --roster roster-v1.bin --county-pub county.pub \
    --to unna --service fruehe-hilfen --text "erfunden" --purpose language-support \
    --categories household,child-age --consent-id 00112233445566778899aabbccddeeff --out from-luenen.bin
expect 0 -- envelope verify --roster roster-v1.bin --county-pub county.pub from-luenen.bin
expect 1 NODE_REVOKED -- envelope verify --roster roster.bin --county-pub county.pub from-luenen.bin
# Kamen is in no roster
expect 1 UNKNOWN_NODE -- envelope create --key unna.key --roster roster-v1.bin --county-pub county.pub \
    --to kamen --service jugendamt --text x --purpose p --categories household --statute "SGB VIII §86c" \
    --out x.bin
# Each flipped byte of an envelope is refused
size=$(stat -c %s note.bin)
for offset in $(seq 0 17 $((size - 1))); do
    cp note.bin flipped.bin
    byte=$(od -An -tu1 -j "$offset" -N1 note.bin | tr -d ' ')
    printf "\\x$(printf %02x $(((byte + 1) % 256)))" | dd of=flipped.bin bs=1 seek="$offset" conv=notrunc 2>/dev/null
    "$BRUECKE" envelope verify --roster roster-v1.bin --county-pub county.pub --key luenen.key \
        flipped.bin >/dev/null 2>err.txt && fail "flipped byte at $offset accepted"
    grep -q "refused: " err.txt || fail "flipped byte at $offset: no reason code: $(cat err.txt)"
done
passed=$((passed + 1))
expect 2 -- envelope create --key unna.key --roster roster-v1.bin --county-pub county.pub \
    --to luenen --service jugendamt --text x --purpose p --categories household --out y.bin

# ---- Help and usage ---------------------------------------------------------
expect 0 -- --help
for command in "keygen" "county-keygen" "key show" "roster init" "roster add-node" "roster add-route" \
               "roster revoke" "roster sign" "roster verify" "roster show" "envelope create" \
               "envelope verify"; do
    # shellcheck disable=SC2086
    expect 0 -- $command --help
    grep -q "^usage: bruecke $command" out.txt || fail "$command --help shows no usage"
done
expect 2 -- roster frobnicate
expect 2 -- roster sign --draft draft.zpl --bogus x

echo "cli_test: $passed passed, 0 failed"
