#!/usr/bin/env bash
#   audit_test.sh - `bruecke audit verify` against a real node store on disk
#
#   Usage: tests/audit_test.sh PATH-TO-bruecke PATH-TO-bruecke-audit-fill
#   Fills an audit log, then tampers with copies of the store through LMDB:
#   a record's bytes edited with mdb_dump/mdb_load, a record deleted in the
#   middle and at the end, two records swapped. Each must be found, at the
#   right record, with exit code 1; the intact store must verify with 0.

set -uo pipefail
BRUECKE="$1"
FILL="$2"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/audit_test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1
passed=0
RECORDS=20

fail () { echo "FAIL: $*" >&2; exit 1; }

for tool in mdb_dump mdb_load; do
    command -v "$tool" >/dev/null || fail "$tool is missing (Debian package lmdb-utils)"
done

#   verify CODE DIR : runs `bruecke audit verify --state DIR`, checks the exit code
verify () {
    local code="$1" dir="$2"
    "$BRUECKE" audit verify --state "$dir" >out.txt 2>err.txt
    local got=$?
    [[ $got -eq $code ]] || fail "audit verify $dir exited $got, expected $code: $(cat out.txt err.txt)"
    #   Never a record's contents, only counts, sequence numbers and hashes
    if grep -q -e "test-user" -e "invented" -e "case\." out.txt err.txt; then
        fail "audit verify printed record contents: $(cat out.txt err.txt)"
    fi
    passed=$((passed + 1))
}

#   expect_broken DIR SEQUENCE PROBLEM : verify refuses, naming where and why
expect_broken () {
    verify 1 "$1"
    grep -q "^audit: broken at record $2: $3\$" err.txt ||
        fail "expected 'broken at record $2: $3', got: $(cat err.txt)"
    grep -q "refused: AUDIT_BROKEN (" err.txt || fail "no AUDIT_BROKEN reason: $(cat err.txt)"
}

#   copy NAME : a copy of the intact store's data file, as a new store
copy () {
    mkdir -m 0700 "$1" && cp store/data.mdb "$1/" || fail "cannot copy the store"
}

#   key SEQUENCE : the record key as mdb_dump writes it (8 bytes, hex)
key () { printf ' %016x' "$1"; }

# ---- An intact log --------------------------------------------------------
"$FILL" store "$RECORDS" || fail "cannot fill the store"
verify 0 store
grep -q "^audit: $RECORDS records, chain intact\$" out.txt || fail "unexpected: $(cat out.txt)"
grep -q "^audit head: record $RECORDS, hash [0-9a-f]\{64\}\$" out.txt ||
    fail "no head hash: $(cat out.txt)"

# ---- Usage and a directory without a store -----------------------------------
"$BRUECKE" audit verify >/dev/null 2>&1
[[ $? -eq 2 ]] || fail "audit verify without --state is not a usage error"
passed=$((passed + 1))
mkdir -m 0700 empty
verify 1 empty
grep -q "refused: NOT_FOUND (" err.txt || fail "an empty directory was not refused: $(cat err.txt)"
[[ ! -e empty/data.mdb ]] || fail "audit verify created a store"

# ---- One byte of record 7 edited, with LMDB's own tools ------------------------
copy edited
mdb_dump -s audit edited >dump.txt || fail "mdb_dump failed"
grep -qx -- "$(key 7)" dump.txt || fail "record 7 not in the dump"
#   The line after the key is the value, in hex: flip the lowest bit of one
#   digit in the middle of it
awk -v target="$(key 7)" '
    edit { digit = index("0123456789abcdef", substr($0, 101, 1)) - 1
           flipped = substr("1032547698badcfe", digit + 1, 1)
           $0 = substr($0, 1, 100) flipped substr($0, 102); edit = 0 }
    /^db_pagesize=/ { next }   # a header line this mdb_load does not know
    $0 == target { edit = 1 }
    { print }' dump.txt >edited.txt
cmp -s dump.txt edited.txt && fail "the edit changed nothing"
[[ $(diff dump.txt edited.txt | grep -c '^>') -eq 1 ]] || fail "the edit changed more than a line"
mdb_load -s audit -f edited.txt edited || fail "mdb_load failed"
expect_broken edited 7 "record edited"

# ---- Records deleted: one in the middle, the last one ---------------------------
copy middle
"$FILL" --delete 9 middle || fail "cannot delete record 9"
expect_broken middle 9 "record missing"

copy last
"$FILL" --delete "$RECORDS" last || fail "cannot delete the last record"
expect_broken last "$RECORDS" "record missing"

copy first
"$FILL" --delete 1 first || fail "cannot delete the first record"
expect_broken first 1 "record missing"

# ---- Two records swapped ------------------------------------------------------
copy swapped
"$FILL" --swap 3 swapped || fail "cannot swap records 3 and 4"
expect_broken swapped 3 "record out of place"

# ---- The original is untouched and keeps growing --------------------------------
verify 0 store
"$FILL" store 5 || fail "cannot append to the store"
verify 0 store
grep -q "^audit: $((RECORDS + 5)) records, chain intact\$" out.txt || fail "unexpected: $(cat out.txt)"

echo "audit_test: $passed checks passed"
