#!/usr/bin/env bash
#   lib.sh - shared helpers for the integration tests (sourced, not run)
#
#   A test script does:
#       source "$(dirname "$0")/lib.sh"
#       it_init NAME "$1"          # $1 = the build tree with the binaries
#       it_make_county             # keys and a signed roster in $WORK
#       it_start_county_broker     # a broker on a free loopback port
#       it_write_node_config luenen; it_start_node luenen
#       ...
#       it_pass
#
#   Everything lives in a fresh directory under $TMPDIR (ctest sets it to the
#   build tree's tmp/). Every daemon started here is recorded and stopped by
#   an EXIT trap, also when the test fails or is interrupted: no process is
#   left behind. On success the directory is removed; on failure it is kept
#   and the tail of each daemon's log is printed.
#
#   Daemons stopped with SIGTERM must exit 0. The logs of all programs are
#   scanned for sanitizer reports at the end; one is a failure.
#
#   Environment: IT_KEEP=1 keeps the work directory also on success.

set -uo pipefail

#   Knobs the tests share. Small intervals keep the tests fast.
IT_CONSENT_ID="00112233445566778899aabbccddeeff"
IT_PURPOSE="language-support"
IT_CATEGORIES="household,child-age"
IT_SERVICE="fruehe-hilfen"          # a service unna offers
IT_POLL_S=0.2                       # how often wait-until polls
IT_START_TIMEOUT_S=30               # a daemon serves within this
IT_STOP_TIMEOUT_S=30                # a daemon stops within this after SIGTERM

declare -A IT_PID=()                # daemon name -> pid
declare -A IT_CONFIG=()             # daemon name -> config file
declare -A IT_WATCHDOG=()           # daemon name -> pid of its watchdog
declare -A IT_GDB=()                # daemon name -> pid of the gdb armed by it_kill_at
declare -A IT_ENV=()                # daemon name -> extra environment (VAR=value ...)
declare -a IT_CLEANUP_HOOKS=()      # commands run at exit, last first
IT_FAILED=0
IT_PASSED=0

#   it_init NAME BUILD_DIR: sets the binaries, the work directory and the trap.
it_init () {
    IT_NAME="$1"
    local build="${2:-}"
    [[ -n "$build" && -d "$build" ]] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
    BUILD=$(cd "$build" && pwd)
    BRUECKE="$BUILD/bruecke"
    BROKER_BIN="$BUILD/bruecke-broker"
    NODE_BIN="$BUILD/bruecke-node"
    # shellcheck disable=SC2034  # used by attacks.sh
    ATTACK_BIN="$BUILD/bruecke-attack"
    local binary
    for binary in "$BRUECKE" "$BROKER_BIN" "$NODE_BIN"; do
        [[ -x "$binary" ]] || { echo "FAIL: $binary is not built" >&2; exit 1; }
    done
    mkdir -p "${TMPDIR:-/tmp}"
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/it-$IT_NAME.XXXXXX") || exit 1
    mkdir -p "$WORK/logs" "$WORK/state"
    IT_T0=$(date +%s%N)
    trap it_cleanup EXIT
    trap 'it_log "interrupted"; exit 130' INT
    trap 'it_log "terminated"; exit 143' TERM
    #   Sanitizer builds: reports go to the logs, which are scanned at the end
    export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
    export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
    it_log "work directory $WORK"
}

#   Seconds since it_init, with milliseconds.
it_elapsed () {
    local now
    now=$(date +%s%N)
    printf '%d.%03d' $(((now - IT_T0) / 1000000000)) $((((now - IT_T0) / 1000000) % 1000))
}

it_log () { echo "[$IT_NAME $(it_elapsed)s] $*" >&2; }

#   it_fail MESSAGE: reports a failed expectation and ends the test.
it_fail () {
    IT_FAILED=1
    echo "FAIL [$IT_NAME $(it_elapsed)s]: $*" >&2
    exit 1
}

it_ok () { IT_PASSED=$((IT_PASSED + 1)); it_log "ok: $*"; }

#   it_soft_fail MESSAGE: reports a failed expectation but goes on, so that
#   later independent checks still report; the test fails at it_pass.
IT_SOFT_FAILURES=0
it_soft_fail () {
    IT_SOFT_FAILURES=$((IT_SOFT_FAILURES + 1))
    echo "FAIL [$IT_NAME $(it_elapsed)s] (continuing): $*" >&2
}

#   it_skip MESSAGE: the test cannot run here (ctest SKIP_RETURN_CODE 77).
it_skip () {
    echo "SKIP: $*"
    exit 77
}

it_pass () {
    local reports
    reports=$(it_sanitizer_reports)
    [[ -z "$reports" ]] || it_fail "sanitizer reports in: $reports"
    if ((IT_SOFT_FAILURES)); then
        it_fail "$IT_SOFT_FAILURES expectations failed (see above); $IT_PASSED checks passed"
    fi
    it_log "PASS: $IT_PASSED checks in $(it_elapsed) s"
    exit 0
}

#   ---- Assertions ------------------------------------------------------------

#   it_assert_eq EXPECTED ACTUAL WHAT
it_assert_eq () {
    [[ "$1" == "$2" ]] || it_fail "$3: expected '$1', got '$2'"
    it_ok "$3 = $1"
}

#   it_assert_ge MIN ACTUAL WHAT
it_assert_ge () {
    [[ "$2" =~ ^[0-9]+$ && "$2" -ge "$1" ]] || it_fail "$3: expected at least $1, got '$2'"
    it_ok "$3 = $2 (>= $1)"
}

#   it_assert_match REGEX TEXT WHAT
it_assert_match () {
    [[ "$2" =~ $1 ]] || it_fail "$3: '$2' does not match /$1/"
    it_ok "$3 matches /$1/"
}

#   it_assert_log_has NAME REGEX WHAT: daemon NAME's log has a matching line.
it_assert_log_has () {
    grep -qE -- "$2" "$WORK/logs/$1.log" || it_fail "$3: no line /$2/ in the log of $1"
    it_ok "$3"
}

#   ---- Waiting ---------------------------------------------------------------

#   it_wait_until TIMEOUT_S WHAT COMMAND...: runs COMMAND every IT_POLL_S
#   seconds until it succeeds; fails the test after TIMEOUT_S seconds.
it_wait_until () {
    it_try_wait_until "$@" || it_fail "timed out after ${1}s waiting until $2"
}

#   it_try_wait_until TIMEOUT_S WHAT COMMAND...: as it_wait_until, but
#   returns 1 on timeout instead of failing the test.
it_try_wait_until () {
    local timeout="$1" what="$2"
    shift 2
    local deadline=$(($(date +%s%N) + timeout * 1000000000))
    while ! "$@"; do
        if (($(date +%s%N) > deadline)); then
            it_log "timed out after ${timeout}s waiting until $what"
            return 1
        fi
        sleep "$IT_POLL_S"
    done
    it_log "reached: $what"
}

#   ---- Ports -------------------------------------------------------------------

#   Prints a TCP port on 127.0.0.1 that nothing uses now: random ports below
#   the kernel's ephemeral range, checked with ss and a connect attempt.
it_free_port () {
    local low=20000 high=32000 range port _
    if [[ -r /proc/sys/net/ipv4/ip_local_port_range ]]; then
        read -r range _ </proc/sys/net/ipv4/ip_local_port_range
        ((range > low + 2000)) && high=$((range - 1))
    fi
    for _ in $(seq 1 200); do
        port=$((low + (RANDOM * 32768 + RANDOM) % (high - low)))
        if command -v ss >/dev/null; then
            [[ -z "$(ss -Htan "( sport = :$port or dport = :$port )" 2>/dev/null)" ]] || continue
        fi
        #   Something answering there means it is taken
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi
        echo "$port"
        return 0
    done
    it_fail "no free TCP port found"
}

#   ---- The county: keys, roster --------------------------------------------

#   it_cli ARGS...: runs the operator CLI; its stderr goes to logs/cli.log.
it_cli () {
    "$BRUECKE" "$@" 2>>"$WORK/logs/cli.log"
}

#   it_make_county [TOWN...]: county key, broker key, towns (default luenen
#   unna kamen; kreis-unna is the Kreis node), routes for their services, a
#   roster signed with the CLI. Sets KEYS and ROSTER.
it_make_county () {
    local towns=("$@")
    ((${#towns[@]})) || towns=(luenen unna kamen)
    KEYS="$WORK/keys"
    ROSTER="$WORK/roster.bin"
    local draft="$WORK/roster.zpl" out="$WORK/logs/county.log"
    {
        "$BRUECKE" county-keygen --dir "$KEYS" &&
            "$BRUECKE" keygen --node-id broker --dir "$KEYS" &&
            "$BRUECKE" roster init --draft "$draft" --county-ags 05978 --county-name "Kreis Unna" &&
            "$BRUECKE" roster add-node --draft "$draft" --pub "$KEYS/broker.pub" \
                --name "Kreis Unna Koordinierung" --ags 05978 --role broker
    } >>"$out" 2>&1 || it_fail "cannot make the county keys (see $out)"
    local town ags services role service kreis=no
    declare -A town_ags=()
    for town in "${towns[@]}"; do
        role=town
        case "$town" in
            luenen) ags=05978024 services=jobcenter,jugendamt,fruehe-hilfen ;;
            unna) ags=05978036 services=fruehe-hilfen,jugendamt ;;
            kamen) ags=05978020 services=jugendamt,fruehe-hilfen ;;
            kreis-unna) ags=05978 services=gesundheitsamt,jobcenter role=county kreis=yes ;;
            bergkamen) ags=05978004 services=fruehe-hilfen ;;
            boenen) ags=05978008 services=fruehe-hilfen ;;
            froendenberg) ags=05978012 services=fruehe-hilfen ;;
            holzwickede) ags=05978016 services=fruehe-hilfen ;;
            schwerte) ags=05978028 services=fruehe-hilfen,jugendamt ;;
            selm) ags=05978032 services=fruehe-hilfen ;;
            werne) ags=05978040 services=fruehe-hilfen ;;
            *) it_fail "no AGS known for $town" ;;
        esac
        [[ $role == town ]] && town_ags[$town]=$ags
        IT_SERVICES[$town]=$services
        {
            "$BRUECKE" keygen --node-id "$town" --dir "$KEYS" &&
                "$BRUECKE" roster add-node --draft "$draft" --pub "$KEYS/$town.pub" \
                    --name "$town" --ags "$ags" --role "$role" --services "$services"
        } >>"$out" 2>&1 || it_fail "cannot enrol $town (see $out)"
    done
    #   Routes: a town's own services to the town, county-wide ones to the Kreis
    for town in "${!town_ags[@]}"; do
        case "$town" in
            luenen) services=jugendamt,fruehe-hilfen ;;
            unna) services=fruehe-hilfen,jugendamt ;;
            kamen) services=jugendamt,fruehe-hilfen ;;
            *) services="" ;;
        esac
        for service in ${services//,/ }; do
            "$BRUECKE" roster add-route --draft "$draft" --ags "${town_ags[$town]}" \
                --service "$service" --node "$town" >>"$out" 2>&1 ||
                it_fail "cannot route $service in $town (see $out)"
        done
        [[ $kreis == yes ]] || continue
        for service in gesundheitsamt jobcenter; do
            "$BRUECKE" roster add-route --draft "$draft" --ags "${town_ags[$town]}" \
                --service "$service" --node kreis-unna >>"$out" 2>&1 ||
                it_fail "cannot route $service in $town (see $out)"
        done
    done
    "$BRUECKE" roster sign --draft "$draft" --county-key "$KEYS/county.key" --out "$ROSTER" \
        >>"$out" 2>&1 || it_fail "cannot sign the roster (see $out)"
    it_log "county made: broker ${towns[*]}"
}

#   ---- Configuration ------------------------------------------------------------

#   it_write_broker_config PORT [KEY=VALUE...]: writes $WORK/broker.zpl. The
#   state directory is $BROKER_STATE (default $WORK/state/broker).
it_write_broker_config () {
    local port="$1"
    shift
    BROKER_PORT="$port"
    BROKER_ENDPOINT="tcp://127.0.0.1:$port"
    BROKER_STATE="${BROKER_STATE:-$WORK/state/broker}"
    local config="$WORK/broker.zpl" setting
    {
        echo "broker"
        echo "    key = \"$KEYS/broker.key\""
        echo "    county-public = \"$KEYS/county.pub\""
        echo "    roster = \"$ROSTER\""
        echo "    endpoint = \"$BROKER_ENDPOINT\""
        echo "    state = \"$BROKER_STATE\""
        echo "    heartbeat-ms = \"1000\""
        echo "    offline-after-ms = \"5000\""
        echo "    expiry-scan-ms = \"1000\""
        echo "    redeliver-ms = \"2000\""
        for setting in "$@"; do echo "    ${setting%%=*} = \"${setting#*=}\""; done
        #   Further sections, e.g. the Transferbörse's "exchange", as ZPL text
        [[ -z "${IT_BROKER_EXTRA:-}" ]] || printf '%s\n' "$IT_BROKER_EXTRA"
    } >"$config"
    IT_CONFIG[broker]="$config"
}

#   it_write_node_config NAME [KEY=VALUE...]: writes $WORK/NAME.zpl, state in
#   $WORK/state/NAME, connecting to $BROKER_ENDPOINT.
it_write_node_config () {
    local name="$1"
    shift
    local config="$WORK/$name.zpl" setting
    {
        echo "node"
        echo "    key = \"$KEYS/$name.key\""
        echo "    county-public = \"$KEYS/county.pub\""
        echo "    roster = \"$ROSTER\""
        echo "    broker = \"$BROKER_ENDPOINT\""
        echo "    state = \"$WORK/state/$name\""
        echo "    retransmit-ms = \"2000\""
        echo "    heartbeat-ms = \"1000\""
        for setting in "$@"; do echo "    ${setting%%=*} = \"${setting#*=}\""; done
    } >"$config"
    IT_CONFIG[$name]="$config"
}

#   ---- A node's JSON API ------------------------------------------------------------

declare -A API_URL=() API_TOKEN=() # node -> its API's URL, a token for it
declare -A API_ON_BEHALF=()         # node -> the person its integration token acts for
declare -A IT_SERVICES=()           # node -> its offices (services), comma-separated

#   it_api_node NAME ROLE [SETTING...]: makes an API token of ROLE
#   (caseworker, integration, readonly) for node NAME, acting for all its
#   offices ($IT_OFFICES if set; an integration token for the first), picks
#   a port for its API and writes its configuration with it and the
#   SETTINGs (instead of it_write_node_config).
it_api_node () {
    local name="$1" role="$2" port offices="${IT_OFFICES:-${IT_SERVICES[$1]}}"
    shift 2
    [[ $role == integration ]] && offices="${offices%%,*}" API_ON_BEHALF[$name]="Testperson $name"
    mkdir -p -m 0700 "$WORK/state/$name"
    API_TOKEN[$name]=$(it_cli api-token add --tokens "$WORK/state/$name/api-tokens" \
        --name "$name-$role" --role "$role" --offices "$offices") ||
        it_fail "cannot make an API token for $name"
    port=$(it_free_port)
    API_URL[$name]="http://127.0.0.1:$port"
    it_write_node_config "$name" "api=127.0.0.1:$port" "$@"
}

#   it_api NODE METHOD PATH [JSON]: calls NODE's API; prints the response
#   body. Exit status 0 on 2xx; otherwise 1, the refusal in $WORK/last-refusal.
it_api () {
    local node="$1" method="$2" path="$3" data="${4:-}"
    local -a extra=()
    [[ -n "$data" ]] && extra=(--data "$data")
    [[ -n "${API_ON_BEHALF[$node]:-}" ]] && extra+=(--on-behalf "${API_ON_BEHALF[$node]}")
    "$BRUECKE" api "$method" "$path" "${extra[@]}" --url "${API_URL[$node]}" \
        --token "${API_TOKEN[$node]}" 2>"$WORK/last-refusal"
}

#   it_audit_records NODE: NODE's audit log as JSON, read with a readonly
#   token (made on first use, kept in $WORK: calls may run in subshells):
#   the audit log is not the caseworkers'.
it_audit_records () {
    local node="$1" file="$WORK/audit-token-$1"
    if [[ ! -s "$file" ]]; then
        (umask 077 && it_cli api-token add --tokens "$WORK/state/$node/api-tokens" \
            --name "$node-audit" --role readonly >"$file") ||
            it_fail "cannot make an audit token for $node"
    fi
    "$BRUECKE" api GET /v1/audit --url "${API_URL[$node]}" --token-file "$file" \
        2>"$WORK/last-refusal"
}

#   it_refused NODE METHOD PATH JSON REASON WHAT: the call must be refused
#   with REASON.
it_refused () {
    local node="$1" method="$2" path="$3" data="$4" reason="$5" what="$6"
    if it_api "$node" "$method" "$path" "$data" >/dev/null; then
        it_fail "$what: accepted, expected $reason"
    fi
    grep -q "$reason" "$WORK/last-refusal" ||
        it_fail "$what: expected $reason, got: $(cat "$WORK/last-refusal")"
    it_ok "$what: refused with $reason"
}

#   it_field NODE PATH JQ: one value of a GET, as jq -r prints it.
it_field () { it_api "$1" GET "$2" | jq -r "$3"; }

#   ---- Processes ---------------------------------------------------------------

#   True if PID runs (and is not a zombie waiting to be reaped).
it_alive () {
    local pid="$1" state
    [[ -r "/proc/$pid/stat" ]] || return 1
    state=$(sed -E 's/^[0-9]+ \(.*\) (.).*/\1/' "/proc/$pid/stat" 2>/dev/null) || return 1
    [[ -n "$state" && "$state" != Z && "$state" != X ]]
}

#   it_launch NAME BINARY: starts a daemon with NAME's config, its output
#   appended to logs/NAME.log; records the pid. A watchdog kills the daemon
#   should this script die without its exit trap (SIGKILL).
it_launch () {
    local name="$1" binary="$2"
    [[ -z "${IT_PID[$name]:-}" ]] || it_fail "$name runs already"
    echo "==== start $(date +%T.%N) ====" >>"$WORK/logs/$name.log"
    local -a environment=()
    # shellcheck disable=SC2206  # one VAR=value per word
    [[ -n "${IT_ENV[$name]:-}" ]] && environment=(${IT_ENV[$name]})
    env "${environment[@]}" "$binary" --config "${IT_CONFIG[$name]}" >>"$WORK/logs/$name.log" 2>&1 &
    IT_PID[$name]=$!
    it_watch "${IT_PID[$name]}" "${IT_CONFIG[$name]}"
    IT_WATCHDOG[$name]=$!
}

#   it_watch PID CONFIG: a background watchdog that SIGKILLs daemon PID once
#   this script is gone, if PID is still the daemon run with CONFIG.
it_watch () {
    local daemon="$1" config="$2" script=$$
    (
        exec </dev/null >/dev/null 2>&1
        while kill -0 "$script" && it_alive "$daemon"; do sleep 1; done
        if ! kill -0 "$script" && grep -qaF -- "$config" "/proc/$daemon/cmdline"; then
            kill -KILL "$daemon"
        fi
    ) &
}

#   Ends NAME's watchdog (NAME has stopped).
it_unwatch () {
    local pid="${IT_WATCHDOG[$1]:-}"
    [[ -n "$pid" ]] || return 0
    it_kill_tree "$pid"
    wait "$pid" 2>/dev/null
    unset "IT_WATCHDOG[$1]"
}

#   Counts lines matching REGEX in NAME's log.
it_log_count () {
    local count
    count=$(grep -cE -- "$2" "$WORK/logs/$1.log" 2>/dev/null) || true
    echo "${count:-0}"
}

#   it_start_broker: starts the broker with $WORK/broker.zpl and waits until
#   it serves. Returns 1 (and reaps it) if it could not bind its port.
it_start_broker () {
    local before
    before=$(it_log_count broker "serving on")
    it_launch broker "$BROKER_BIN"
    local pid="${IT_PID[broker]}" deadline=$(($(date +%s) + IT_START_TIMEOUT_S))
    while (($(it_log_count broker "serving on") <= before)); do
        if ! it_alive "$pid"; then
            wait "$pid"
            local rc=$?
            unset "IT_PID[broker]"
            it_unwatch broker
            if grep -q "cannot bind" "$WORK/logs/broker.log"; then return 1; fi
            it_fail "the broker exited with $rc while starting: $(tail -n 5 "$WORK/logs/broker.log")"
        fi
        (($(date +%s) < deadline)) || it_fail "the broker did not start within ${IT_START_TIMEOUT_S}s"
        sleep 0.05
    done
    it_log "broker serves on port $BROKER_PORT (pid $pid)"
}

#   it_start_county_broker [KEY=VALUE...]: picks a free port, writes the
#   broker's config and starts it; tries other ports if one is taken meanwhile.
it_start_county_broker () {
    local _
    for _ in 1 2 3 4 5; do
        it_write_broker_config "$(it_free_port)" "$@"
        it_start_broker && return 0
        it_log "port $BROKER_PORT was taken; trying another"
    done
    it_fail "the broker could not bind any port"
}

#   it_start_node NAME: starts node NAME and waits until its control socket
#   answers (not until it is connected: see it_wait_connected).
#   If another process took its API port meanwhile (the tests run two at a
#   time), it moves the API to another free port and starts it again.
it_start_node () {
    local name="$1" taken port
    taken=$(it_log_count "$name" "Address already in use")
    it_launch "$name" "$NODE_BIN"
    local pid="${IT_PID[$name]}" deadline=$(($(date +%s) + IT_START_TIMEOUT_S))
    while ! it_cli node status --state "$WORK/state/$name" >/dev/null; do
        if ! it_alive "$pid"; then
            wait "$pid"
            local rc=$?
            unset "IT_PID[$name]"
            it_unwatch "$name"
            if (($(it_log_count "$name" "Address already in use") > taken)) &&
                grep -q '^ *api = "127.0.0.1:' "${IT_CONFIG[$name]}" &&
                ((${IT_PORT_RETRIES:-0} < 5)); then
                port=$(it_free_port)
                it_log "the API port of $name was taken; trying $port"
                sed -i "s|^\( *api = \"127.0.0.1:\)[0-9]*\"|\1$port\"|" "${IT_CONFIG[$name]}"
                [[ -n "${API_URL[$name]:-}" ]] && API_URL[$name]="http://127.0.0.1:$port"
                IT_PORT_RETRIES=$((${IT_PORT_RETRIES:-0} + 1)) it_start_node "$name"
                return
            fi
            it_fail "node $name exited with $rc while starting: $(tail -n 5 "$WORK/logs/$name.log")"
        fi
        (($(date +%s) < deadline)) || it_fail "node $name did not start within ${IT_START_TIMEOUT_S}s"
        sleep 0.05
    done
    it_log "node $name runs (pid $pid)"
}

#   it_stop NAME: SIGTERM, then expects a clean exit with code 0.
it_stop () {
    local name="$1" pid="${IT_PID[$1]:-}"
    [[ -n "$pid" ]] || it_fail "it_stop: $name does not run"
    kill -TERM "$pid" 2>/dev/null
    local deadline=$(($(date +%s) + IT_STOP_TIMEOUT_S))
    while it_alive "$pid"; do
        if (($(date +%s) > deadline)); then
            kill -KILL "$pid" 2>/dev/null
            wait "$pid" 2>/dev/null
            unset "IT_PID[$name]"
            it_fail "$name did not stop within ${IT_STOP_TIMEOUT_S}s of SIGTERM"
        fi
        sleep 0.05
    done
    wait "$pid"
    local rc=$?
    unset "IT_PID[$name]"
    it_unwatch "$name"
    [[ $rc -eq 0 ]] || it_fail "$name exited with $rc after SIGTERM: $(tail -n 20 "$WORK/logs/$name.log")"
    it_ok "$name stopped cleanly (exit 0)"
}

#   it_kill NAME [SIGNAL]: kills NAME (default SIGKILL) and reaps it.
it_kill () {
    local name="$1" signal="${2:-KILL}" pid="${IT_PID[$1]:-}"
    [[ -n "$pid" ]] || it_fail "it_kill: $name does not run"
    kill "-$signal" "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    unset "IT_PID[$name]"
    it_unwatch "$name"
    echo "==== killed with SIG$signal $(date +%T.%N) ====" >>"$WORK/logs/$name.log"
    it_log "$name killed with SIG$signal"
}

#   it_kill_at NAME FUNCTION: arms a debugger on daemon NAME that kills it
#   with SIGKILL the moment its thread enters FUNCTION (a symbol of the
#   binary), so that a test stops it at one exact point. Returns at once;
#   it_kill_at_wait waits until the daemon is dead. Skips (77) without gdb
#   or where the kernel refuses to let it attach.
it_kill_at () {
    local name="$1" function="$2" pid="${IT_PID[$1]:-}"
    [[ -n "$pid" ]] || it_fail "it_kill_at: $name does not run"
    command -v gdb >/dev/null || it_skip "no gdb to stop $name at $function"
    gdb -q -batch -p "$pid" -ex "break $function" -ex "echo armed\n" -ex continue \
        -ex "signal SIGKILL" >"$WORK/logs/$name.gdb.log" 2>&1 &
    IT_GDB[$name]=$!
    local deadline=$(($(date +%s) + 20))
    until grep -q '^armed' "$WORK/logs/$name.gdb.log"; do
        it_alive "${IT_GDB[$name]}" || it_skip "gdb cannot attach to $name: $(tail -n 3 "$WORK/logs/$name.gdb.log")"
        (($(date +%s) < deadline)) || it_fail "gdb did not attach to $name within 20 s"
        sleep 0.05
    done
}

#   it_kill_at_wait NAME: waits (up to 30 s) until it_kill_at has killed NAME.
it_kill_at_wait () {
    local name="$1" pid="${IT_PID[$1]:-}"
    wait "${IT_GDB[$name]}" 2>/dev/null
    unset "IT_GDB[$name]"
    local deadline=$(($(date +%s) + 30))
    while it_alive "$pid"; do
        (($(date +%s) < deadline)) || it_fail "$name was not stopped by the debugger"
        sleep 0.05
    done
    wait "$pid" 2>/dev/null
    unset "IT_PID[$name]"
    it_unwatch "$name"
    echo "==== killed with SIGKILL by gdb $(date +%T.%N) ====" >>"$WORK/logs/$name.log"
    it_log "$name killed with SIGKILL where gdb stopped it"
}

#   ---- Disks ---------------------------------------------------------------------

#   it_mount_tmpfs DIR SIZE: a fresh tmpfs of SIZE (e.g. 48m) on DIR, made
#   if need be, unmounted at exit (after the daemons stopped); skips (77)
#   where mounting is not allowed. Run the test in a private mount
#   namespace where it may, so that the tmpfs goes with its processes.
it_mount_tmpfs () {
    local dir="$1" size="$2"
    mkdir -p "$dir"
    if ! mount -t tmpfs -o "size=$size,mode=0700" tmpfs "$dir" 2>"$WORK/logs/mount.log"; then
        it_skip "cannot mount tmpfs ($(cat "$WORK/logs/mount.log"))"
    fi
    it_on_exit "umount '$dir' 2>/dev/null || umount -l '$dir'"
}

#   ---- Clocks ------------------------------------------------------------------

#   libfaketime, for daemons whose wall clock a test steps (Debian: faketime)
IT_FAKETIME_LIB=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -n 1)

#   it_need_faketime: skips the test (77) where libfaketime is missing.
it_need_faketime () {
    [[ -n "$IT_FAKETIME_LIB" && -r "$IT_FAKETIME_LIB" ]] ||
        it_skip "libfaketime is not installed (Debian package faketime)"
}

#   it_fake_clock NAME [OFFSET]: daemon NAME (started later) runs with its
#   own wall clock, OFFSET from the real one (libfaketime syntax: +0, -40s,
#   +6m). Its monotonic clock stays real, as with a real clock step.
it_fake_clock () {
    local name="$1" offset="${2:-+0}"
    mkdir -p "$WORK/clocks"
    echo "$offset" >"$WORK/clocks/$name"
    #   The file is read again at every call (NO_CACHE), so a step takes
    #   effect at once; the sanitizers accept a preloaded library before them
    IT_ENV[$name]="LD_PRELOAD=$IT_FAKETIME_LIB FAKETIME_TIMESTAMP_FILE=$WORK/clocks/$name \
FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1 \
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
}

#   it_set_clock NAME OFFSET: steps daemon NAME's wall clock to OFFSET from
#   the real one, at once.
it_set_clock () {
    echo "$2" >"$WORK/clocks/$1.new" && mv "$WORK/clocks/$1.new" "$WORK/clocks/$1"
    it_log "$1's clock set to real time $2"
}

#   it_running NAME: true if NAME was started here and still runs.
it_running () { [[ -n "${IT_PID[$1]:-}" ]] && it_alive "${IT_PID[$1]}"; }

#   Fails the test if a recorded daemon died on its own.
it_check_alive () {
    local name
    for name in "$@"; do
        it_running "$name" || it_fail "$name died: $(tail -n 20 "$WORK/logs/$name.log")"
    done
}

#   Prints PID and all its descendants, parents first.
it_process_tree () {
    local child
    echo "$1"
    for child in $(pgrep -P "$1" 2>/dev/null); do it_process_tree "$child"; done
}

#   it_kill_tree PID: SIGTERM to PID and all its descendants (a background
#   loop of this script and what it runs now). All are listed before the
#   first is signalled, so none is missed.
it_kill_tree () {
    local pids
    pids=$(it_process_tree "$1")
    # shellcheck disable=SC2086  # one word per pid
    kill -TERM $pids 2>/dev/null
}

#   it_on_exit COMMAND: runs COMMAND (a string, eval'ed) at exit, last first.
it_on_exit () { IT_CLEANUP_HOOKS+=("$1"); }

#   Lines that report sanitizer findings, in all logs.
it_sanitizer_reports () {
    grep -lE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error|WARNING: ThreadSanitizer" \
        "$WORK"/logs/*.log 2>/dev/null
}

it_cleanup () {
    local rc=$? name pid
    trap - EXIT INT TERM
    [[ $rc -ne 0 && $rc -ne 77 ]] && IT_FAILED=1
    #   Stop what still runs: SIGTERM first, SIGKILL after 5 s
    for name in "${!IT_PID[@]}"; do kill -TERM "${IT_PID[$name]}" 2>/dev/null; done
    local deadline=$(($(date +%s) + 5))
    for name in "${!IT_PID[@]}"; do
        pid="${IT_PID[$name]}"
        while it_alive "$pid" && (($(date +%s) < deadline)); do sleep 0.05; done
        if it_alive "$pid"; then
            echo "cleanup: $name (pid $pid) ignored SIGTERM; killing it" >&2
            kill -KILL "$pid" 2>/dev/null
        fi
        wait "$pid" 2>/dev/null
    done
    #   Anything else this script started (background loops)
    local job
    for job in $(jobs -p); do it_kill_tree "$job"; wait "$job" 2>/dev/null; done
    local index
    for ((index = ${#IT_CLEANUP_HOOKS[@]} - 1; index >= 0; index--)); do
        eval "${IT_CLEANUP_HOOKS[$index]}" || echo "cleanup: '${IT_CLEANUP_HOOKS[$index]}' failed" >&2
    done
    local reports
    reports=$(it_sanitizer_reports)
    if [[ -n "$reports" ]]; then
        echo "FAIL [$IT_NAME]: sanitizer reports in: $reports" >&2
        local file
        for file in $reports; do
            grep -B2 -A30 -E "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error" "$file" |
                head -n 60 >&2
        done
        IT_FAILED=1
    fi
    if ((IT_FAILED)); then
        echo "---- $IT_NAME failed; work directory kept: $WORK" >&2
        local log
        for log in "$WORK"/logs/*.log; do
            [[ -s "$log" && "$log" != */county.log ]] || continue
            echo "---- tail of $log" >&2
            tail -n 25 "$log" >&2
        done
        [[ $rc -eq 0 ]] && rc=1
    elif [[ -n "${IT_KEEP:-}" ]]; then
        echo "---- IT_KEEP is set; work directory kept: $WORK" >&2
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}

#   ---- Talking to the daemons ------------------------------------------------

#   it_status NAME: the node's status lines ("connected yes", "outbox 3", ...).
it_status () { it_cli node status --state "$WORK/state/$1"; }

#   it_status_field NAME FIELD: one value from the node's status.
it_status_field () { it_status "$1" | awk -v field="$2" '$1 == field { print $2 }'; }

it_broker_status () { it_cli broker status --state "$BROKER_STATE"; }

#   it_broker_queue NODE: the broker's queue depth for NODE.
it_broker_queue () { it_broker_status | awk -v node="$1" '$1 == "node" && $2 == node { print $5 }'; }

#   it_broker_online NODE: true if the broker sees NODE online.
it_broker_online () {
    [[ "$(it_broker_status | awk -v node="$1" '$1 == "node" && $2 == node { print $3 }')" == online ]]
}

#   it_connected NAME: true if node NAME is connected to the broker.
it_connected () { [[ "$(it_status_field "$1" connected)" == yes ]]; }

#   it_wait_connected NAME...: waits until each node is connected and the
#   broker has seen its HELLO.
it_wait_connected () {
    local name
    for name in "$@"; do
        it_wait_until 30 "$name is connected" it_connected "$name"
        it_wait_until 30 "the broker sees $name online" it_broker_online "$name"
    done
}

#   it_inbox NAME: "<counter> <sender> <type> <sequence> <id> <text>" lines.
it_inbox () { it_cli node inbox --state "$WORK/state/$1"; }

#   it_sent NAME: "<sequence> <id> <recipient> <state> <reason>" lines.
it_sent () { it_cli node sent --state "$WORK/state/$1"; }

#   it_inbox_notes NAME [SENDER]: the TEST_NOTE lines of NAME's inbox.
it_inbox_notes () {
    it_inbox "$1" | awk -v sender="${2:-}" '$3 == "TEST_NOTE" && (sender == "" || $2 == sender)'
}

#   it_inbox_count NAME [SENDER]: how many test notes NAME has received.
it_inbox_count () { it_inbox_notes "$@" | wc -l; }

#   it_inbox_has NAME ID: true if a message with ID is in NAME's inbox.
it_inbox_has () { it_inbox "$1" | awk -v id="$2" '$5 == id { found = 1 } END { exit !found }'; }

#   it_inbox_has_count NAME MIN [SENDER]: true once NAME has MIN test notes.
it_inbox_has_count () { (($(it_inbox_count "$1" "${3:-}") >= $2)); }

#   it_sent_state NAME ID: the state of sent message ID (queued, accepted,
#   receipted, refused, dead) and its reason.
it_sent_state () { it_sent "$1" | awk -v id="$2" '$2 == id { print $4, $5 }'; }

#   it_sent_count NAME STATE: how many sent messages are in STATE.
it_sent_count () { it_sent "$1" | awk -v state="$2" '$4 == state { n++ } END { print n + 0 }'; }

#   it_all_sent_in NAME STATE COUNT: true if COUNT sent messages are all in STATE.
it_all_sent_in () {
    local total in_state
    total=$(it_sent "$1" | wc -l)
    in_state=$(it_sent_count "$1" "$2")
    [[ $total -eq $3 && $in_state -eq $3 ]]
}

#   it_send_test FROM TO TEXT [OPTIONS...]: queues a test note at node FROM
#   for TO (service IT_SERVICE, consent basis). Prints the message id;
#   returns non-zero if the node did not queue it.
it_send_test () {
    local from="$1" to="$2" text="$3" out
    shift 3
    out=$(it_cli node send-test --state "$WORK/state/$from" --to "$to" --service "$IT_SERVICE" \
        --text "$text" --purpose "$IT_PURPOSE" --categories "$IT_CATEGORIES" \
        --consent-id "$IT_CONSENT_ID" "$@") || return 1
    [[ "$out" =~ ^queued\ ([0-9a-f]{32})$ ]] || return 1
    echo "${BASH_REMATCH[1]}"
}

#   it_send_and_deliver FROM TO TEXT: sends one note and waits until TO has
#   it; prints its id. The daemons' health check after an attack.
it_send_and_deliver () {
    local id
    id=$(it_send_test "$1" "$2" "$3") || it_fail "$1 could not queue a note"
    it_wait_until 30 "$2 received '$3' ($id)" it_inbox_has "$2" "$id"
    echo "$id"
}
