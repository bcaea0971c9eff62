#!/usr/bin/env bash
#   store_migration.sh - a node starts on a store the previous release wrote.
#
#   tests/fixtures/store-v3.tar.gz is Lünen's node state as release fbd873b
#   (casework schema 3: records as JSON, sealed bound to table and id) left
#   it after tests/fixtures/make-store-v3.sh drove it through every kind of
#   record: cases open, closed, reopened, transferred; consents with a signed
#   form and withdrawn; local and county referrals in every direction;
#   transfers both ways; emergency accesses. This build's node starts on it:
#   it migrates the store to typed records (schema 4) and answers every
#   record as the old node did (tests/fixtures/store-v3.json), the signed
#   form included. It writes to the migrated records, starts again without
#   migrating twice, and its audit log and record inventory verify.
#
#   Controls: the same store with a data key that is not the store's is
#   refused at start, naming what could not be migrated; and one record put
#   back (with LMDB's own tools) from a copy taken before a change still
#   opens, but the node reports that its records are not those it wrote.
#
#   Usage: tests/integration/store_migration.sh BUILD_DIR

source "$(dirname "$0")/lib.sh"
it_init store_migration "${1:-}"
FIXTURES="$(cd "$(dirname "$0")/../fixtures" && pwd)"
JSON="$FIXTURES/store-v3.json"
for tool in mdb_dump mdb_load; do
    command -v "$tool" >/dev/null || it_fail "$tool is missing (lmdb-utils)"
done

#   unpack NAME: the fixture in $WORK/NAME, its config rewritten for it and
#   free ports; sets IT_CONFIG, API_URL and API_TOKEN of node NAME.
unpack () {
    local name="$1" port
    mkdir -p "$WORK/$name"
    tar -xzf "$FIXTURES/store-v3.tar.gz" -C "$WORK/$name"
    port=$(it_free_port)
    sed -i -e "s|$(jq -r .config.made_in "$JSON")|$WORK/$name|g" \
        -e "s|^\( *api = \).*|\1\"127.0.0.1:$port\"|" \
        -e "s|^\( *broker = \).*|\1\"tcp://127.0.0.1:$(it_free_port)\"|" "$WORK/$name/luenen.zpl"
    mkdir -p "$WORK/state"
    ln -s "$WORK/$name/state/luenen" "$WORK/state/$name" #   where lib.sh looks
    IT_CONFIG[$name]="$WORK/$name/luenen.zpl"
    API_URL[$name]="http://127.0.0.1:$port"
    API_TOKEN[$name]=$(jq -r .tokens.all_offices.token "$JSON")
    #   The audit log is for the readonly role, not the caseworkers
    API_URL[$name-audit]="${API_URL[$name]}"
    API_TOKEN[$name-audit]=$(jq -r .tokens.readonly_all_offices.token "$JSON")
}

#   ---- Control: a data key that is not the store's ----------------------------------
unpack stranger
rm "$WORK/stranger/state/luenen/data.key" #   the node makes a new one
it_launch stranger "$NODE_BIN"
it_wait_until 20 "the node with another data key exits" bash -c "! kill -0 ${IT_PID[stranger]} 2>/dev/null"
wait "${IT_PID[stranger]}"
rc=$?
unset "IT_PID[stranger]"
it_unwatch stranger
[[ $rc -ne 0 ]] || it_fail "a node whose data key opens none of its records started"
it_assert_log_has stranger "a record of cases could not be migrated from schema 3 \(DECRYPT_FAILED\)" \
    "with another data key the store is refused, naming the table"

#   ---- The migration ------------------------------------------------------------------
unpack luenen
STATE="$WORK/luenen/state/luenen"
it_start_node luenen
it_assert_log_has luenen "casework: store migrated from schema 3 to 4" "the store is migrated to schema 4"

#   Every record as the old node answered it; `actions` is what the caller
#   may do now, and an emergency access only asked for has expired since
#   the fixture was made
same=0
while IFS=$'\t' read -r name path; do
    answer=$(it_api luenen GET "$path") || it_fail "GET $path ($name): $(cat "$WORK/last-refusal")"
    expected=$(jq -c --arg name "$name" '.records[] | select(.name == $name) | .answer' "$JSON")
    [[ "$(jq -S 'del(.actions)' <<<"$answer")" == "$(jq -S 'del(.actions)' <<<"$expected")" ]] ||
        it_fail "$name ($path) differs: $(diff <(jq -S . <<<"$expected") <(jq -S . <<<"$answer") | head -n 20)"
    same=$((same + 1))
done < <(jq -r '.records[] | [.name, .get] | @tsv' "$JSON")
it_assert_eq "$(jq '.records | length' "$JSON")" "$same" "every record answered as the old node did"
[[ $same -ge 20 ]] || it_fail "the fixture holds only $same records"
it_assert_eq "$(jq -r '[.lists.cases.cases[].id] | sort | join(" ")' "$JSON")" \
    "$(it_api luenen GET /v1/cases | jq -r '[.cases[].id] | sort | join(" ")')" "GET /v1/cases lists the same cases"
FORM=$(jq -r .ids.consent_with_form "$JSON")
it_assert_eq "$(jq -r '.records[] | select(.name == "form_of_consent_with_form") | .answer.sha256' "$JSON")" \
    "$(it_field luenen "/v1/consents/$FORM/form" .sha256)" "the signed form is the one stored"
#   The emergency accesses, as an administrator of the fixture reads them
#   (one only asked for has expired since: its state is left aside)
answer=$(curl -sS -c "$WORK/admin.jar" -H "Content-Type: application/json" \
    --data "$(jq -c '{user: .web_users[0].name, password: .web_users[0].password}' "$JSON")" \
    "${API_URL[luenen]}/ui/login") || it_fail "the administrator's login"
[[ "$(jq -r .csrf <<<"$answer")" =~ ^[0-9a-f]{64}$ ]] || it_fail "the administrator's login: $answer"
EMERGENCY='[.emergency[] | del(.actions) | if .state == "ended" then . else del(.state) end] | sort_by(.id)'
it_assert_eq "$(jq -cS ".emergency[\"GET /v1/emergency as verwaltung-eins\"] | $EMERGENCY" "$JSON")" \
    "$(curl -sS -b "$WORK/admin.jar" "${API_URL[luenen]}/v1/emergency" | jq -cS "$EMERGENCY")" \
    "the emergency accesses are those of before"
verify=$(it_api luenen-audit GET /v1/audit/verify) || it_fail "audit verify: $(cat "$WORK/last-refusal")"
it_assert_eq "true true" "$(jq -r '"\(.intact) \(.records_intact)"' <<<"$verify")" \
    "the audit log and the record inventory verify"

#   ---- Written to, started again ----------------------------------------------------
CASE=$(jq -r .ids.case_open "$JSON")
LOTSE_BEFORE=$(it_field luenen "/v1/cases/$CASE" .lotse)
it_stop luenen
mdb_dump -s cases "$STATE" >"$WORK/cases-before.txt" || it_fail "mdb_dump of the cases"
it_start_node luenen
it_api luenen PATCH "/v1/cases/$CASE" '{"lotse": "Herr Neu (erfunden)"}' >/dev/null ||
    it_fail "PATCH a migrated case: $(cat "$WORK/last-refusal")"
it_api luenen POST "/v1/cases/$CASE/notes" '{"text": "Nach dem Update: Termin vereinbart."}' >/dev/null ||
    it_fail "a note on a migrated case: $(cat "$WORK/last-refusal")"
it_assert_eq "Herr Neu (erfunden)|$LOTSE_BEFORE|Nach dem Update: Termin vereinbart." \
    "$(it_field luenen "/v1/cases/$CASE" '"\(.lotse)|\(.history[-1].previous)|\(.journal[-1].text)"')" \
    "a migrated case is changed, with its history"
it_stop luenen
it_start_node luenen
it_assert_eq 1 "$(it_log_count luenen "store migrated")" "the second start migrates nothing"
it_assert_eq "true" "$(it_field luenen-audit /v1/audit/verify .records_intact)" "the inventory verifies after the changes"
it_stop luenen

#   ---- Control: one record put back from the earlier copy ------------------------------
KEY=" $CASE"
grep -qx -- "$KEY" "$WORK/cases-before.txt" || it_fail "the case is not in the dump"
awk -v key="$KEY" '
    /^db_pagesize=/ { next }     # a header line this mdb_load does not know
    header { print; if ($0 == "HEADER=END") header = 0; next }
    take { print; take = 0; next }
    $0 == key { print; take = 1 }
    $0 == "DATA=END" { print }' header=1 "$WORK/cases-before.txt" >"$WORK/case-before.txt"
[[ $(grep -c '^ ' "$WORK/case-before.txt") -eq 2 ]] || it_fail "the dump of one case has not two lines"
mdb_load -s cases -f "$WORK/case-before.txt" "$STATE" || it_fail "mdb_load of the earlier case"
it_start_node luenen
it_assert_eq "$LOTSE_BEFORE" "$(it_field luenen "/v1/cases/$CASE" .lotse)" "the earlier copy of the case opens"
it_assert_eq "true false" "$(it_field luenen-audit /v1/audit/verify '"\(.intact) \(.records_intact)"')" \
    "but the node reports its records are not those it wrote"
it_assert_log_has luenen "the records are not those this node wrote last" "and says so in its log"
it_stop luenen
it_pass
