#!/usr/bin/env bash
#   casework.sh - the county's scenario, end to end, through the JSON API.
#
#   A Jobcenter caseworker in Lünen (the town's case software, with an
#   integration token) records an invented family and the mother's written
#   consent, and refers the family to Frühe Hilfen in Unna and to the
#   Gesundheitsamt (the Kreis node). Unna accepts, assigns a Lotse, reports
#   progress and the outcome; Lünen sees every step. The mother withdraws
#   consent for the Gesundheitsamt while its referral still waits at the
#   broker: the broker drops it and tells Lünen, the Kreis never sees it.
#   The family moves to Kamen: the Jugendamt case goes there under SGB VIII
#   §86c, Lünen keeps a minimal record. Refusals are checked on the way:
#   nothing it_refused is stored or sent. Finally no name of the family is in
#   the broker's state, the nodes' LMDB files or any log, and the audit
#   logs verify.
#
#   Usage: tests/integration/casework.sh BUILD_DIR

source "$(dirname "$0")/lib.sh"
it_init casework "${1:-}"

TOWNS=(luenen unna kamen kreis-unna)
it_make_county "${TOWNS[@]}"
it_start_county_broker
for town in "${TOWNS[@]}"; do
    role=caseworker
    [[ $town == luenen ]] && role=integration # the town's case software
    it_api_node "$town" "$role"
done
for town in "${TOWNS[@]}"; do it_start_node "$town"; done
it_wait_connected "${TOWNS[@]}"


#   state_is TOWN KIND ID STATE: true if the record's state is STATE.
state_is () { [[ "$(it_field "$1" "/v1/$2/$3" .state)" == "$4" ]]; }

outbox () { it_field "$1" /v1/status .outbox; }

NOW_MS=$(($(date +%s) * 1000))
DAY_MS=86400000
EVIDENCE=$(printf 'Einverständniserklärung, unterschrieben (erfunden)' | sha256sum | cut -d' ' -f1)

#   ---- Lünen: the case and the consent ---------------------------------------------
case_json=$(it_api luenen POST /v1/cases '{
    "kind": "family", "service": "jobcenter", "caseworker": "Team Jobcenter Lünen",
    "members": [{"name": "Aylin Beispielfrau", "role": "mother", "age": 29,
                 "custody_for": ["Deniz Beispielfrau"]},
                {"name": "Deniz Beispielfrau", "role": "child", "age": 5}],
    "needs": ["Kita-Platz", "Sprachförderung"],
    "details": {"language": {"child": "spricht noch kein Deutsch"},
                "childcare": {"kita": "kein Platz"}}}') || it_fail "case: $(cat "$WORK/last-refusal")"
CASE=$(jq -r .id <<<"$case_json")
it_assert_match '^[0-9a-f]{32}$' "$CASE" "case id"

consent_body () { # PURPOSE FROM UNTIL
    cat <<EOF
{"case_id": "$CASE", "grantor": "Aylin Beispielfrau",
 "subjects": ["Aylin Beispielfrau", "Deniz Beispielfrau"], "purpose": "$1",
 "categories": ["household", "child-age", "language", "childcare"],
 "recipients": [{"ags": "05978036", "service": "fruehe-hilfen"},
                {"ags": "05978036", "service": "gesundheitsamt"}],
 "valid_from_ms": $2, "valid_until_ms": $3, "form": "written",
 "evidence_sha256": "$EVIDENCE", "health_data": false}
EOF
}
CONSENT=$(it_api luenen POST /v1/consents "$(consent_body language-support $NOW_MS $((NOW_MS + 180 * DAY_MS)))" |
    jq -r .id) || it_fail "consent: $(cat "$WORK/last-refusal")"
it_assert_eq "unna kreis-unna" "$(it_field luenen "/v1/consents/$CONSENT" '[.recipients[].node] | join(" ")')" \
    "the consent's recipients resolved through the roster"
#   A consent that ran out two seconds from now, for the expiry check below
SHORT_UNTIL=$(($(date +%s%3N) + 2000))
SHORT=$(it_api luenen POST /v1/consents "$(consent_body language-support $NOW_MS $SHORT_UNTIL)" |
    jq -r .id) || it_fail "short consent: $(cat "$WORK/last-refusal")"

#   ---- Refused referrals: nothing stored, nothing sent -----------------------------
referral_body () { # BASIS AGS SERVICE CATEGORIES [PURPOSE]
    cat <<EOF
{"case_id": "$CASE", "service": "jobcenter", "purpose": "${5:-language-support}", $1
 "recipient": {"ags": "$2", "service": "$3"}, "categories": [$4],
 "note": "Mutter kommt mit Kind zu den Terminen; bitte Kontakt aufnehmen."}
EOF
}
WITH="\"consent_id\": \"$CONSENT\","
it_refused luenen POST /v1/referrals "$(referral_body "" 05978036 fruehe-hilfen '"household"')" \
    CONSENT_MISSING "a referral with no consent"
it_refused luenen POST /v1/referrals "$(referral_body "$WITH" 05978036 fruehe-hilfen '"household"' early-help)" \
    PURPOSE_MISMATCH "a referral for another purpose"
it_refused luenen POST /v1/referrals "$(referral_body "$WITH" 05978020 jugendamt '"household"')" \
    RECIPIENT_MISMATCH "a referral to a recipient the consent does not name"
it_refused luenen POST /v1/referrals "$(referral_body "$WITH" 05978036 fruehe-hilfen '"household", "employment"')" \
    CATEGORY_NOT_COVERED "a category the consent does not cover"
it_refused luenen POST /v1/referrals "$(referral_body "$WITH" 05978036 schulsozialarbeit '"household"')" \
    NO_ROUTE "an unknown (AGS, service) route"
past_short () { (($(date +%s%3N) > SHORT_UNTIL)); }
it_wait_until 10 "the short consent to expire" past_short
it_refused luenen POST /v1/referrals "$(referral_body "\"consent_id\": \"$SHORT\"," 05978036 fruehe-hilfen '"household"')" \
    CONSENT_EXPIRED "a referral after the consent expired"
it_assert_eq 0 "$(it_field luenen /v1/referrals '.referrals | length')" "referrals stored after refusals"
it_assert_eq 0 "$(outbox luenen)" "messages in luenen's outbox after refusals"

#   ---- The referrals ------------------------------------------------------------
#   The Kreis node is away: its referral waits at the broker
it_stop kreis-unna
FH=$(it_api luenen POST /v1/referrals "$(referral_body "$WITH" 05978036 fruehe-hilfen '"household", "child-age", "language", "childcare"')" |
    jq -r .id) || it_fail "referral to Frühe Hilfen: $(cat "$WORK/last-refusal")"
GA=$(it_api luenen POST /v1/referrals "$(referral_body "$WITH" 05978036 gesundheitsamt '"household", "child-age"')" |
    jq -r .id) || it_fail "referral to the Gesundheitsamt: $(cat "$WORK/last-refusal")"
it_wait_until 30 "unna to receive the referral" state_is unna referrals "$FH" received
it_wait_until 30 "luenen to see it received" state_is luenen referrals "$FH" received
received=$(it_api unna GET "/v1/referrals/$FH")
it_assert_eq "luenen jobcenter" "$(jq -r '.peer.node + " " + .peer.service' <<<"$received")" \
    "who referred, as unna sees it"
it_assert_eq "5" "$(jq -r '.sections["child-age"].children_ages[0]' <<<"$received")" \
    "the child's age, opened at unna"
it_assert_eq "kein Platz" "$(jq -r '.sections.childcare.kita' <<<"$received")" \
    "the childcare situation, opened at unna"

#   ---- Unna works the referral; Lünen sees each step -----------------------------
STATUS="/v1/referrals/$FH/status"
it_refused luenen POST "$STATUS" '{"state": "accepted"}' FORBIDDEN "the sender accepting"
it_refused unna POST "$STATUS" '{"state": "cancelled"}' FORBIDDEN "the recipient cancelling"
it_refused unna POST "$STATUS" '{"state": "completed", "text": "zu früh"}' INVALID_STATE \
    "completing before accepting"
it_api unna POST "$STATUS" '{"state": "accepted", "lotse": "Frau Lotse (Frühe Hilfen Unna)"}' >/dev/null ||
    it_fail "unna accepting: $(cat "$WORK/last-refusal")"
it_api unna POST "$STATUS" '{"state": "in_progress", "text": "Erstgespräch geführt, Kita-Anmeldung läuft"}' \
    >/dev/null || it_fail "unna reporting progress: $(cat "$WORK/last-refusal")"
it_wait_until 30 "luenen to see the progress" state_is luenen referrals "$FH" in_progress
seen=$(it_api luenen GET "/v1/referrals/$FH")
it_assert_eq "Frau Lotse (Frühe Hilfen Unna)" "$(jq -r .lotse <<<"$seen")" "the Lotse, seen at luenen"
it_assert_eq "requested received accepted in_progress" "$(jq -r '[.history[].state] | join(" ")' <<<"$seen")" \
    "luenen's history of the referral"
it_assert_eq "$(it_api unna GET "/v1/referrals/$FH" | jq -c '[.history[] | {state, text}]')" \
    "$(jq -c '[.history[] | {state, text}]' <<<"$seen")" "both towns keep the same history"

#   ---- The mother withdraws consent for the Gesundheitsamt --------------------------
it_api luenen POST "/v1/consents/$CONSENT/withdraw" \
    '{"recipients": [{"ags": "05978036", "service": "gesundheitsamt"}]}' >/dev/null ||
    it_fail "withdrawal: $(cat "$WORK/last-refusal")"
it_assert_eq cancelled "$(it_field luenen "/v1/referrals/$GA" .state)" \
    "the Gesundheitsamt referral at luenen after the withdrawal"
it_assert_eq in_progress "$(it_field luenen "/v1/referrals/$FH" .state)" \
    "the Frühe Hilfen referral goes on"
ga_message=$(it_field luenen "/v1/referrals/$GA" .message_id)
dead_sent () { it_sent luenen | awk -v id="$ga_message" '$2 == id { print $4, $5 }' | grep -q "dead CONSENT_WITHDRAWN"; }
it_wait_until 30 "the broker to drop the queued referral and tell luenen" dead_sent
it_ok "the broker dropped the undelivered referral under the withdrawn consent"
it_refused luenen POST /v1/referrals "$(referral_body "$WITH" 05978036 gesundheitsamt '"household"')" \
    CONSENT_WITHDRAWN "a new referral to the withdrawn recipient"
it_start_node kreis-unna
it_wait_connected kreis-unna
withdrawn_seen () { [[ "$(it_audit_actions kreis-unna)" == *consent.withdrawn* ]]; }
it_audit_actions () { it_audit_records "$1" | jq -r '[.records[].action] | join(" ")'; }
it_wait_until 30 "the Kreis to receive the withdrawal" withdrawn_seen
it_assert_eq 0 "$(it_field kreis-unna /v1/referrals '.referrals | length')" \
    "referrals that reached the Gesundheitsamt"

#   ---- The outcome ----------------------------------------------------------------
it_api unna POST "$STATUS" '{"state": "completed", "text": "Kita-Platz ab August, Sprachkurs gebucht"}' \
    >/dev/null || it_fail "unna completing: $(cat "$WORK/last-refusal")"
it_wait_until 30 "luenen to see the outcome" state_is luenen referrals "$FH" completed
it_assert_eq "Kita-Platz ab August, Sprachkurs gebucht" "$(it_field luenen "/v1/referrals/$FH" .outcome)" \
    "the outcome at luenen"
it_refused unna POST "$STATUS" '{"state": "in_progress"}' INVALID_STATE "a change after completion"

#   ---- The family moves to Kamen: the case follows (SGB VIII §86c) ------------------
TRANSFER=$(it_api luenen POST "/v1/cases/$CASE/transfer" '{"ags": "05978020"}' | jq -r .id) ||
    it_fail "transfer: $(cat "$WORK/last-refusal")"
it_assert_eq "$TRANSFER" "$(it_api luenen POST "/v1/cases/$CASE/transfer" '{"ags": "05978020"}' | jq -r .id)" \
    "a repeated transfer is the same transfer"
transfer_arrived () { state_is kamen transfers "$TRANSFER" requested; }
it_wait_until 30 "kamen to receive the case" transfer_arrived
it_refused luenen POST "/v1/transfers/$TRANSFER/accept" '{}' FORBIDDEN "the old town accepting"
KAMEN_CASE=$(it_api kamen POST "/v1/transfers/$TRANSFER/accept" '{}' | jq -r .case_id) ||
    it_fail "kamen accepting: $(cat "$WORK/last-refusal")"
it_assert_eq "Aylin Beispielfrau Deniz Beispielfrau" \
    "$(it_field kamen "/v1/cases/$KAMEN_CASE" '[.members[].name] | join(" ")')" "the case at kamen"
it_wait_until 30 "luenen to hand the case over" state_is luenen cases "$CASE" transferred
minimal=$(it_api luenen GET "/v1/cases/$CASE")
it_assert_eq "kamen null null" "$(jq -r '[.transferred_to, .members, .needs] | map(tostring) | join(" ")' <<<"$minimal")" \
    "luenen keeps what, when and to whom, nothing more"
it_assert_eq 1 "$(it_field kamen /v1/transfers '.transfers | length')" "transfers at kamen after the repeat"

#   ---- Nothing in clear: state, LMDB files, logs -----------------------------------
for town in "${TOWNS[@]}"; do it_stop "$town"; done
it_stop broker
stores=("$WORK"/state/*/data.mdb)
it_assert_eq 5 "${#stores[@]}" "LMDB stores to search (four nodes and the broker)"
#   The search works: what is stored in clear (node ids in the broker's log) is found
[[ -n "$(grep -rl -- luenen "$BROKER_STATE")" ]] || it_fail "grep found no node id in the broker state"
for name in Beispielfrau Aylin Deniz "Kita-Platz"; do
    found=$(grep -rl -- "$name" "$BROKER_STATE" "$WORK"/state/*/data.mdb "$WORK"/logs 2>/dev/null ||
        true)
    it_assert_eq "" "$found" "files holding '$name' in clear"
done
for town in "${TOWNS[@]}"; do
    it_cli audit verify --state "$WORK/state/$town" >/dev/null || it_fail "the audit log of $town"
done
it_ok "every node's audit log verifies"
it_pass
