#!/usr/bin/env bash
# shellcheck shell=bash
#   tests/faults/lib.sh - the fault harness's building blocks (sourced by run)
#
#   Topology: network namespaces, veth pairs and a bridge in a "switch"
#   namespace; the county's daemons, each in its own namespace with its
#   state on a tmpfs and its wall clock behind libfaketime; the towns'
#   traffic drivers; the faults themselves; quiescence and the checks.
#   Needs tests/integration/lib.sh (it_* helpers) sourced first, and the
#   settings of run (FH_* variables).
#
#   Random choices use bash's $RANDOM, seeded from --seed, and only in the
#   main shell: helpers return random values in REPLY, never through $( ),
#   whose subshell would not advance the parent's sequence.

#   ---- Fixed settings ------------------------------------------------------------

FH_TOWNS=(luenen unna kamen kreis-unna)   # the county's nodes (kreis-unna: the Kreis)
FH_DAEMONS=(broker "${FH_TOWNS[@]}")
FH_SUBNET=10.213.57                        # private, only inside this run's namespaces
declare -A FH_ADDRESS=([broker]=1 [luenen]=11 [unna]=12 [kamen]=13 [kreis-unna]=14)
#   The service a test note to a town is addressed to (one it offers; as traffic.py)
declare -A FH_NOTE_SERVICE=([luenen]=jugendamt [unna]=fruehe-hilfen [kamen]=jugendamt
                            [kreis-unna]=gesundheitsamt)
FH_BROKER_PORT=5570                        # inside the broker's namespace
FH_API_PORT=8080                           # 127.0.0.1 inside each node's namespace
FH_TMPFS_MB=256                            # each daemon's state directory
FH_MAPSIZE_MB=224                          # the broker's LMDB map, below the tmpfs size
FH_FAKETIME_LIB=$(compgen -G "/usr/lib/*/faketime/libfaketime.so.1" | head -n 1)
FH_FAKETIME_CACHE_S=1                      # a rewritten clock file counts within 1 s
FH_START_TIMEOUT_S=30                      # a daemon serves within this
FH_STOP_TIMEOUT_S=30                       # and stops within this after SIGTERM
FH_DRIVER_STOP_TIMEOUT_S=30                # a traffic driver ends within this
FH_TRAFFIC_RATE=3                          # driver steps per second per town
FH_MATCH_INTERVAL_S=10                     # the county's matching runs this often
FH_SLOW_RATE=64kbit                        # slow-link: token bucket rate ...
FH_SLOW_BURST=4kb                          # ... bucket size ...
FH_SLOW_LATENCY=3s                         # ... and the longest a packet may queue
FH_CLOCK_OFF=+330s                         # clock-step: a node starting 5 min 30 s ahead
FH_BURST_NOTES=40                          # disk-full: large notes sent while the disk is full
FH_BURST_TEXT_BYTES=3800                   # ... each this large (a node allows 4096)
FH_SANITIZER_PATTERN="ERROR: (AddressSanitizer|LeakSanitizer)|runtime error|WARNING: ThreadSanitizer"

declare -A FH_PID=()        # daemon -> pid (also in IT_PID for lib.sh's exit trap)
declare -A FH_DOWN=()       # daemon -> 1 while deliberately not running
declare -A FH_PAUSED=()     # daemon -> 1 while SIGSTOPped
declare -A FH_DRIVER=()     # town -> pid of its traffic driver
declare -a FH_CRASHES=()    # what died on its own in this scenario
declare -a FH_ACTIVE=()     # faults injected and not yet healed: "kind target"

#   ---- Small helpers -----------------------------------------------------------------

#   fh_rand MIN MAX: a random integer in [MIN, MAX] in REPLY.
fh_rand () { REPLY=$(($1 + RANDOM % ($2 - $1 + 1))); }

#   fh_rand_s MIN_MS MAX_MS: random seconds in [MIN_MS, MAX_MS] ms, as "S.mmm", in REPLY.
fh_rand_s () {
    local ms=$(($1 + (RANDOM * 32768 + RANDOM) % ($2 - $1 + 1)))
    REPLY=$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))
}

#   fh_pick WORD...: one of the words, at random, in REPLY.
fh_pick () { local -a words=("$@"); REPLY=${words[RANDOM % ${#words[@]}]}; }

fh_ns () { echo "${FH_PREFIX}$1"; }               # a daemon's namespace
fh_state () { echo "$WORK/state/$1"; }            # a daemon's state directory (tmpfs)
fh_log_file () { echo "$FH_SCENARIO_DIR/logs/$1.log"; }
fh_note () { echo "==== $* $(date +%T.%N) ====" >>"$(fh_log_file "$2")"; } # KIND NAME: a mark in NAME's log

#   fh_node_cli TOWN ARGS...: `bruecke node ARGS --state` for TOWN.
fh_node_cli () { local town="$1" command="$2"; shift 2; it_cli node "$command" --state "$(fh_state "$town")" "$@"; }

#   fh_api TOWN METHOD PATH: the town's API, called inside its namespace.
fh_api () {
    timeout 20 ip netns exec "$(fh_ns "$1")" "$BRUECKE" api "$2" "$3" \
        --url "http://127.0.0.1:$FH_API_PORT" --token-file "$WORK/tokens/$1.token" \
        2>>"$WORK/logs/cli.log"
}

#   ---- Topology ----------------------------------------------------------------------

#   fh_topology_up: a private /run/netns (so namespace names never show
#   outside this mount namespace), the switch namespace with a bridge, and
#   one namespace per daemon linked to it by a veth pair.
fh_topology_up () {
    mkdir -p /run/netns
    mount -t tmpfs -o size=1m,mode=0755 tmpfs /run/netns || return 1
    local switch name ns
    switch=$(fh_ns sw)
    ip netns add "$switch" || return 1
    ip -n "$switch" link add br0 type bridge || return 1
    ip -n "$switch" link set br0 up
    ip -n "$switch" link set lo up
    for name in "${FH_DAEMONS[@]}"; do
        ns=$(fh_ns "$name")
        ip netns add "$ns" || return 1
        ip -n "$switch" link add "v-$name" type veth peer name eth0 netns "$ns" || return 1
        ip -n "$switch" link set "v-$name" master br0 up
        ip -n "$ns" link set lo up
        ip -n "$ns" addr add "$FH_SUBNET.${FH_ADDRESS[$name]}/24" dev eth0
        ip -n "$ns" link set eth0 up
    done
    it_log "namespaces ${FH_PREFIX}{sw,${FH_DAEMONS[*]}} on $FH_SUBNET.0/24"
}

#   fh_topology_down: deletes every namespace of this run (veths and qdiscs
#   go with them) and says whether any is left.
fh_topology_down () {
    local ns
    for ns in $(ip netns list 2>/dev/null | awk -v prefix="$FH_PREFIX" 'index($1, prefix) == 1 { print $1 }'); do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
        ip netns delete "$ns" 2>/dev/null || echo "cleanup: cannot delete namespace $ns" >&2
    done
    local left
    left=$(ip netns list 2>/dev/null | awk -v prefix="$FH_PREFIX" 'index($1, prefix) == 1' | wc -l)
    umount /run/netns 2>/dev/null
    ((left == 0)) || { echo "cleanup: $left namespaces of this run are left" >&2; return 1; }
}

#   ---- Configuration and state ----------------------------------------------------------

#   fh_timer_settings DAEMON: the interval settings of --timers fast (as
#   the integration tests set them); none for production (shipped defaults).
fh_timer_settings () {
    [[ $FH_TIMERS == fast ]] || return 0
    if [[ $1 == broker ]]; then
        printf '    %s = "%s"\n' heartbeat-ms 1000 offline-after-ms 5000 expiry-scan-ms 1000 \
            redeliver-ms 2000
    else
        printf '    %s = "%s"\n' retransmit-ms 2000 heartbeat-ms 1000
    fi
}

#   fh_write_configs: the broker's and every node's configuration.
fh_write_configs () {
    local name
    {
        echo "broker"
        echo "    key = \"$KEYS/broker.key\""
        echo "    county-public = \"$KEYS/county.pub\""
        echo "    roster = \"$ROSTER\""
        echo "    endpoint = \"tcp://$FH_SUBNET.${FH_ADDRESS[broker]}:$FH_BROKER_PORT\""
        echo "    state = \"$(fh_state broker)\""
        echo "    mapsize-mb = \"$FH_MAPSIZE_MB\""
        fh_timer_settings broker
    } >"$WORK/broker.zpl"
    for name in "${FH_TOWNS[@]}"; do
        {
            echo "node"
            echo "    key = \"$KEYS/$name.key\""
            echo "    county-public = \"$KEYS/county.pub\""
            echo "    roster = \"$ROSTER\""
            echo "    broker = \"tcp://$FH_SUBNET.${FH_ADDRESS[broker]}:$FH_BROKER_PORT\""
            echo "    state = \"$(fh_state "$name")\""
            echo "    api = \"127.0.0.1:$FH_API_PORT\""
            fh_timer_settings "$name"
        } >"$WORK/$name.zpl"
    done
}

#   fh_fresh_state: a new, empty tmpfs for every daemon's state, an API
#   token for every node, every clock at +0.
fh_fresh_state () {
    local name state
    mkdir -p "$WORK/tokens" "$WORK/clock"
    for name in "${FH_DAEMONS[@]}"; do
        state=$(fh_state "$name")
        mkdir -p "$state"
        umount "$state" 2>/dev/null
        mount -t tmpfs -o "size=${FH_TMPFS_MB}m,mode=0700" tmpfs "$state" || return 1
        echo "+0" >"$WORK/clock/$name"
        [[ $name == broker ]] && continue
        (umask 077 && it_cli api-token add --tokens "$state/api-tokens" --name "faults-$name" \
            --role caseworker --offices "${IT_SERVICES[$name]}" >"$WORK/tokens/$name.token") ||
            return 1
    done
}

#   ---- Daemons ---------------------------------------------------------------------------

#   fh_launch NAME: starts daemon NAME in its namespace, its wall clock
#   under libfaketime (its own clock file), output appended to its log.
fh_launch () {
    local name="$1" binary="$NODE_BIN"
    [[ $name == broker ]] && binary="$BROKER_BIN"
    fh_note start "$name"
    ip netns exec "$(fh_ns "$name")" env LD_PRELOAD="$FH_FAKETIME_LIB" \
        FAKETIME_TIMESTAMP_FILE="$WORK/clock/$name" FAKETIME_DONT_FAKE_MONOTONIC=1 \
        FAKETIME_CACHE_DURATION="$FH_FAKETIME_CACHE_S" \
        ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
        "$binary" --config "$WORK/$name.zpl" >>"$(fh_log_file "$name")" 2>&1 &
    FH_PID[$name]=$!
    #   lib.sh's associative arrays: its exit trap stops what they list
    # shellcheck disable=SC2034,SC2004
    IT_PID[$name]=$!
    it_watch "$!" "$WORK/$name.zpl"
    # shellcheck disable=SC2034,SC2004
    IT_WATCHDOG[$name]=$!
    unset "FH_DOWN[$name]" "FH_PAUSED[$name]"
}

#   fh_ready NAME: true once daemon NAME serves (broker: its log says so
#   since this start; node: its control socket answers).
fh_ready () {
    if [[ $1 == broker ]]; then
        #   Read forward, whole: a pipe that ends early (tac | awk) would
        #   fail under pipefail once the log outgrows the pipe's buffer
        awk '/^==== start/ { served = 0 } /serving on/ { served = 1 } END { exit !served }' \
            "$(fh_log_file broker)"
    else
        fh_node_cli "$1" status >/dev/null
    fi
}

#   fh_start NAME: launches NAME and waits until it serves. Returns 1 (and
#   records a crash) if it exits or does not serve in time.
fh_start () {
    local name="$1" deadline=$((SECONDS + FH_START_TIMEOUT_S))
    fh_launch "$name"
    while ! fh_ready "$name"; do
        if ! it_alive "${FH_PID[$name]}" || ((SECONDS > deadline)); then
            fh_reap "$name" "did not start"
            return 1
        fi
        sleep 0.05
    done
}

#   fh_reap NAME WHAT: NAME is gone on its own (or will not start): records
#   a crash with its exit status and the tail of its log.
fh_reap () {
    local name="$1" what="$2" pid="${FH_PID[$1]}" rc
    it_alive "$pid" && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    rc=$?
    it_unwatch "$name"
    unset "IT_PID[$name]"
    FH_DOWN[$name]=1
    FH_CRASHES+=("$name $what (exit status $rc): $(tail -n 3 "$(fh_log_file "$name")" | tr '\n' '|')")
    it_log "CRASH: $name $what (exit status $rc)"
}

#   fh_kill NAME: SIGKILL, reaped.
fh_kill () {
    local name="$1" pid="${FH_PID[$1]}"
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    it_unwatch "$name"
    unset "IT_PID[$name]" "FH_PAUSED[$name]"
    FH_DOWN[$name]=1
    fh_note "killed with SIGKILL" "$name"
}

#   fh_check_alive: every daemon that should run does; one that exited on
#   its own is recorded as a crash and started again.
fh_check_alive () {
    local name
    for name in "${FH_DAEMONS[@]}"; do
        [[ -n "${FH_DOWN[$name]:-}" ]] && continue
        if ! it_alive "${FH_PID[$name]}"; then
            fh_reap "$name" "exited on its own"
            fh_start "$name"
        fi
    done
}

#   fh_connected TOWN: the node says it is connected and the broker sees it online.
fh_connected () {
    [[ "$(fh_node_cli "$1" status | awk '$1 == "connected" { print $2 }')" == yes ]] &&
        [[ "$(it_cli broker status --state "$(fh_state broker)" |
            awk -v node="$1" '$1 == "node" && $2 == node { print $3 }')" == online ]]
}

#   fh_county_up: fresh state, every daemon started, every town connected.
fh_county_up () {
    fh_fresh_state || return 1
    fh_start broker || return 1
    local town
    for town in "${FH_TOWNS[@]}"; do fh_start "$town" || return 1; done
    for town in "${FH_TOWNS[@]}"; do
        it_try_wait_until 30 "$town is connected" fh_connected "$town" || return 1
    done
}

#   fh_county_down: stops every daemon with SIGTERM; one that does not exit
#   0 in time counts as a crash. Then the state tmpfs are unmounted.
fh_county_down () {
    local name pid rc deadline
    for name in "${FH_DAEMONS[@]}"; do
        [[ -n "${FH_DOWN[$name]:-}" ]] && continue
        kill -CONT "${FH_PID[$name]}" 2>/dev/null
        kill -TERM "${FH_PID[$name]}" 2>/dev/null
    done
    for name in "${FH_DAEMONS[@]}"; do
        [[ -n "${FH_DOWN[$name]:-}" ]] && continue
        pid="${FH_PID[$name]}"
        deadline=$((SECONDS + FH_STOP_TIMEOUT_S))
        while it_alive "$pid" && ((SECONDS < deadline)); do sleep 0.05; done
        if it_alive "$pid"; then
            fh_reap "$name" "did not stop within ${FH_STOP_TIMEOUT_S}s of SIGTERM"
            continue
        fi
        wait "$pid"
        rc=$?
        it_unwatch "$name"
        unset "IT_PID[$name]"
        FH_DOWN[$name]=1
        ((rc == 0)) || FH_CRASHES+=("$name exited with $rc after SIGTERM: $(tail -n 3 "$(fh_log_file "$name")" | tr '\n' '|')")
    done
}

#   fh_unmount_state: the state tmpfs go (after fh_county_down).
fh_unmount_state () {
    local name
    for name in "${FH_DAEMONS[@]}"; do umount "$(fh_state "$name")" 2>/dev/null; done
    return 0
}

#   ---- Traffic ------------------------------------------------------------------------------

#   fh_traffic_start SEED MAX_SECONDS: one driver per town, in the town's namespace.
fh_traffic_start () {
    local seed="$1" max_seconds="$2" town index=0
    rm -f "$FH_SCENARIO_DIR/stop"
    for town in "${FH_TOWNS[@]}"; do
        index=$((index + 1))
        ip netns exec "$(fh_ns "$town")" python3 "$FH_DIR/traffic.py" --town "$town" \
            --api "http://127.0.0.1:$FH_API_PORT" --token-file "$WORK/tokens/$town.token" \
            --state "$(fh_state "$town")" --bruecke "$BRUECKE" --stop-file "$FH_SCENARIO_DIR/stop" \
            --stats "$FH_SCENARIO_DIR/traffic-$town.json" --seed $((seed * 10 + index)) \
            --rate "$FH_TRAFFIC_RATE" --max-seconds "$max_seconds" --parent $$ \
            >>"$FH_SCENARIO_DIR/logs/traffic-$town.log" 2>&1 &
        FH_DRIVER[$town]=$!
    done
}

#   fh_traffic_stop: asks every driver to stop and waits; kills a straggler.
fh_traffic_stop () {
    touch "$FH_SCENARIO_DIR/stop"
    local town pid deadline=$((SECONDS + FH_DRIVER_STOP_TIMEOUT_S))
    for town in "${!FH_DRIVER[@]}"; do
        pid="${FH_DRIVER[$town]}"
        while it_alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
        if it_alive "$pid"; then
            it_log "traffic driver of $town did not stop; killing it"
            kill -KILL "$pid" 2>/dev/null
        fi
        wait "$pid" 2>/dev/null || it_log "traffic driver of $town ended with $?"
        unset "FH_DRIVER[$town]"
    done
}

#   fh_match_maybe: the county's matching for this quarter, at most every
#   FH_MATCH_INTERVAL_S, when the broker runs and is not paused.
FH_LAST_MATCH=0
fh_match_maybe () {
    ((SECONDS - FH_LAST_MATCH >= FH_MATCH_INTERVAL_S)) || return 0
    [[ -z "${FH_DOWN[broker]:-}" && -z "${FH_PAUSED[broker]:-}" ]] || return 0
    FH_LAST_MATCH=$SECONDS
    local quarter
    quarter="$(date -u +%Y)Q$((($(date -u +%-m) - 1) / 3 + 1))"
    if it_cli broker match --state "$(fh_state broker)" --quarter "$quarter" \
        >>"$FH_SCENARIO_DIR/logs/match.log" 2>&1; then
        FH_MATCHES=$((FH_MATCHES + 1))
    fi
}

#   ---- Faults ------------------------------------------------------------------------------
#
#   A fault is KIND TARGET; fh_inject starts it, fh_heal ends it, and
#   fh_hold_time says how long it lasts (in REPLY). Kinds:
#     kill         SIGKILL; healed by a restart
#     pause        SIGSTOP; healed by SIGCONT (lasts longer than the offline limit)
#     partition    the target's link in the switch goes down (longer than the offline limit)
#     slow         a token bucket (tc tbf) on both ends of the target's link
#     disk-full    a filler file fills the target's state tmpfs; healed by deleting it
#     clock-back   the target's wall clock steps back by more than the offline limit
#     clock-fwd    ... forward by more than the offline limit; healed by stepping back
#     clock-start  the node restarts with its clock FH_CLOCK_OFF off; healed by
#                  correcting the clock while it runs

#   fh_hold_time KIND: how long the fault lasts, in seconds, in REPLY.
fh_hold_time () {
    local offline_ms=$((FH_OFFLINE_S * 1000))
    case "$1" in
        kill) fh_rand_s 50 $((FH_OFFLINE_S * 100)) ;;
        pause | partition | clock-back | clock-fwd | clock-start)
            fh_rand_s $((offline_ms + 1000)) $((offline_ms + offline_ms / 2 + 1000)) ;;
        slow) fh_rand_s $((offline_ms / 2 + 2000)) $((offline_ms + 3000)) ;;
        disk-full) fh_rand_s 3000 $((offline_ms / 2 + 3000)) ;;
        *) REPLY=1 ;;
    esac
}

#   fh_fill DIR: fills the tmpfs at DIR with filler files until ENOSPC.
fh_fill () {
    local dir="$1" avail
    avail=$(df --output=avail -k "$dir" | tail -n 1)
    fallocate -l "$((avail > 64 ? avail - 64 : 1))k" "$dir/filler" 2>/dev/null
    dd if=/dev/zero of="$dir/filler-rest" bs=4096 2>/dev/null
    it_log "filled $dir: $(df --output=avail -k "$dir" | tail -n 1) KiB left"
}

#   fh_burst TARGET: FH_BURST_NOTES large test notes that must be written
#   at TARGET while its disk is full (to the town; through the broker), so
#   that the stores have to grow; sent with the CLI, recorded like all traffic.
fh_burst () {
    local target="$1" from to pad index
    pad=$(printf 'x%.0s' $(seq 1 "$FH_BURST_TEXT_BYTES"))
    for ((index = 1; index <= FH_BURST_NOTES; index++)); do
        fh_pick "${FH_TOWNS[@]}"
        from=$REPLY
        [[ $from == "$target" ]] && continue
        to=$target
        if [[ $target == broker ]]; then fh_pick "${FH_TOWNS[@]}"; to=$REPLY; fi
        [[ $to == "$from" ]] && continue
        [[ -n "${FH_DOWN[$from]:-}${FH_PAUSED[$from]:-}" ]] && continue
        fh_node_cli "$from" send-test --to "$to" --service "${FH_NOTE_SERVICE[$to]}" \
            --text "Großnotiz $index, erfunden $pad" --purpose language-support \
            --categories household,child-age --consent-id 00112233445566778899aabbccddeeff \
            >/dev/null 2>&1 && FH_BURST_SENT=$((FH_BURST_SENT + 1))
    done
}

#   fh_clock NAME OFFSET: sets NAME's wall clock offset (libfaketime: +0, -40s, +10m).
fh_clock () { echo "$2" >"$WORK/clock/$1"; fh_note "clock $2" "$1"; }

#   fh_tbf NAMESPACE DEVICE: a slow token bucket on DEVICE's egress.
fh_tbf () {
    tc -n "$1" qdisc replace dev "$2" root tbf rate "$FH_SLOW_RATE" burst "$FH_SLOW_BURST" \
        latency "$FH_SLOW_LATENCY"
}

#   fh_inject KIND TARGET: starts a fault.
fh_inject () {
    local kind="$1" target="$2" step=$((2 * FH_OFFLINE_S + 2))
    FH_ACTIVE+=("$kind $target")
    it_log "inject $kind $target"
    case "$kind" in
        kill) fh_kill "$target" ;;
        pause) kill -STOP "${FH_PID[$target]}"; FH_PAUSED[$target]=1; fh_note SIGSTOP "$target" ;;
        partition) ip -n "$(fh_ns sw)" link set "v-$target" down ;;
        slow) fh_tbf "$(fh_ns sw)" "v-$target"; fh_tbf "$(fh_ns "$target")" eth0 ;;
        disk-full) fh_fill "$(fh_state "$target")"; fh_burst "$target" ;;
        clock-back) fh_clock "$target" "-${step}s" ;;
        clock-fwd) fh_clock "$target" "+${step}s" ;;
        clock-start)
            [[ -z "${FH_DOWN[$target]:-}" ]] && fh_kill "$target"
            fh_clock "$target" "$FH_CLOCK_OFF"
            fh_start "$target" ;;
    esac
}

#   fh_heal KIND TARGET: ends a fault.
fh_heal () {
    local kind="$1" target="$2"
    it_log "heal $kind $target"
    case "$kind" in
        kill) [[ -n "${FH_DOWN[$target]:-}" ]] && fh_start "$target" ;;
        pause) kill -CONT "${FH_PID[$target]}" 2>/dev/null; unset "FH_PAUSED[$target]"
               fh_note SIGCONT "$target" ;;
        partition) ip -n "$(fh_ns sw)" link set "v-$target" up ;;
        slow) tc -n "$(fh_ns sw)" qdisc del dev "v-$target" root 2>/dev/null
              tc -n "$(fh_ns "$target")" qdisc del dev eth0 root 2>/dev/null ;;
        disk-full) rm -f "$(fh_state "$target")"/filler* ;;
        clock-back | clock-fwd | clock-start) fh_clock "$target" "+0" ;;
    esac
    local index
    for index in "${!FH_ACTIVE[@]}"; do
        [[ "${FH_ACTIVE[$index]}" == "$kind $target" ]] && unset "FH_ACTIVE[$index]"
    done
    FH_ACTIVE=("${FH_ACTIVE[@]}")
}

#   fh_heal_all: ends every fault still active, last first.
fh_heal_all () {
    local index
    for ((index = ${#FH_ACTIVE[@]} - 1; index >= 0; index--)); do
        # shellcheck disable=SC2086  # "kind target"
        fh_heal ${FH_ACTIVE[$index]}
    done
}

#   fh_cycle FAULT...: one cycle: a moment of traffic, inject each "kind
#   target", hold the longest of their times, heal them in reverse order,
#   check every daemon lives.
fh_cycle () {
    local fault hold=0.000
    fh_match_maybe
    fh_rand_s "$FH_PRE_MIN_MS" "$FH_PRE_MAX_MS"
    sleep "$REPLY"
    for fault in "$@"; do
        # shellcheck disable=SC2086  # "kind target"
        fh_inject $fault
        fh_hold_time "${fault%% *}"
        ((10#${REPLY/./} > 10#${hold/./})) && hold=$REPLY
    done
    sleep "$hold"
    fh_heal_all
    fh_check_alive
}

#   ---- Quiescence and the checks ---------------------------------------------------------

#   fh_pending: prints what keeps the county from being quiet (empty if quiet).
fh_pending () {
    local town
    for town in "${FH_TOWNS[@]}"; do
        fh_node_cli "$town" status | awk -v town="$town" '$1 == "outbox" && $2 != 0 { print town " outbox " $2 }'
        #   "<sequence> <id> <recipient> <state> <reason>"; the recipient is
        #   empty for the Transferbörse's messages to the broker
        fh_node_cli "$town" sent | awk -F '[ ]' -v town="$town" '
            $4 == "queued" || ($4 == "accepted" && $3 != "") { n[$4 " to " ($3 == "" ? "broker" : $3)]++ }
            END { for (k in n) print town " sent " n[k] " " k }'
    done
    it_cli broker status --state "$(fh_state broker)" |
        awk '$1 == "node" && $5 != 0 { print "broker queue for " $2 " " $5 " (" $3 ")" }'
}

#   fh_quiet TIMEOUT_S: waits until nothing is pending; 1 on timeout (a hang).
fh_quiet () {
    local deadline=$((SECONDS + $1)) pending
    while :; do
        pending=$(fh_pending 2>&1)
        [[ -z "$pending" ]] && return 0
        if ((SECONDS > deadline)); then
            echo "$pending" >"$FH_SCENARIO_DIR/pending.txt"
            return 1
        fi
        sleep 1
    done
}

#   fh_collect: every node's sent list and inbox, for the checker.
fh_collect () {
    local town
    for town in "${FH_TOWNS[@]}"; do
        fh_node_cli "$town" sent >"$FH_SCENARIO_DIR/sent-$town.txt"
        fh_node_cli "$town" inbox >"$FH_SCENARIO_DIR/inbox-$town.txt"
    done
}

#   fh_serving: every daemon runs, its control socket answers, every node's
#   API answers /v1/status. Prints what does not.
fh_serving () {
    local name
    for name in "${FH_DAEMONS[@]}"; do
        if [[ -n "${FH_DOWN[$name]:-}" ]] || ! it_alive "${FH_PID[$name]}"; then
            echo "$name does not run"
        elif [[ $name == broker ]]; then
            it_cli broker status --state "$(fh_state broker)" >/dev/null ||
                echo "the broker's control socket does not answer"
        else
            fh_node_cli "$name" status >/dev/null || echo "$name's control socket does not answer"
            fh_api "$name" GET /v1/status >/dev/null || echo "$name's API does not answer /v1/status"
        fi
    done
}

#   fh_ledger_problems: every node's ledger copy verifies, and all towns
#   hold the same board head and ledger length (waits a little for the
#   copies to catch up). Prints what is wrong.
fh_ledger_problems () {
    local town deadline=$((SECONDS + 20)) answer problems heads
    while :; do
        problems="" heads=""
        for town in "${FH_TOWNS[@]}"; do
            answer=$(fh_api "$town" GET /v1/exchange/ledger) || { problems+="$town: no ledger answer; "; continue; }
            [[ "$(jq -r .verified <<<"$answer")" == true ]] ||
                problems+="$town: ledger does not verify ($(jq -r '.problem // ""' <<<"$answer")); "
            heads+="$town $(jq -r '.records | length' <<<"$answer") $(fh_api "$town" GET /v1/exchange/board | jq -r .head)|"
        done
        if [[ $(tr '|' '\n' <<<"$heads" | awk 'NF { print $2, $3 }' | sort -u | wc -l) -gt 1 ]]; then
            problems+="copies differ (town, ledger records, board head): $heads"
        fi
        [[ -z "$problems" ]] || ((SECONDS > deadline)) && break
        sleep 1
    done
    [[ -n "$problems" ]] && echo "$problems"
}

#   fh_audit_problems: every node's audit chain verifies (daemons stopped).
fh_audit_problems () {
    local town
    for town in "${FH_TOWNS[@]}"; do
        it_cli audit verify --state "$(fh_state "$town")" >/dev/null ||
            echo "$town: the audit log does not verify"
    done
}

#   fh_sanitizer_logs: the scenario's logs with sanitizer reports.
fh_sanitizer_logs () { grep -lE "$FH_SANITIZER_PATTERN" "$FH_SCENARIO_DIR"/logs/*.log 2>/dev/null; }
