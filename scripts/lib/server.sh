# Shared by the scripts in scripts/: start the release server on a free 127.0.0.1 port with
# a work folder, wait until it answers /healthz, and stop it and remove the folder on exit.
# Source it after `cd` to the repository root, with `log` defined; then call
#   start_server QUESTIONNAIRES_DIR [WAIT_SECONDS]
# which sets WORK (a temporary folder; the data lives in $WORK/data, or in SERVER_DATA when
# set), SERVER_PID and BASE. Extra `shindan serve` arguments go in the array SERVER_ARGS.
# `stop_running_server` stops it (gracefully) so that another can be started.
# The binary is taken from CARGO_TARGET_DIR when that is set, as cargo builds it there.

# Never send the local traffic through a proxy.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export no_proxy=127.0.0.1 NO_PROXY=127.0.0.1

WORK="$(mktemp -d "${TMPDIR:-/tmp}/shindan-script.XXXXXX")"
SERVER_PID=""

stop_running_server() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        # Graceful stop first; then no mercy.
        kill "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=""
}

stop_server() {
    local status=$?
    stop_running_server
    rm -rf "$WORK"
    exit "$status"
}
trap stop_server EXIT
trap 'exit 130' INT TERM

start_server() {
    local questionnaires=$1 wait_seconds=${2:-10}
    local data="${SERVER_DATA:-$WORK/data}"
    log "building the release binary"
    cargo build --release --quiet --bin shindan >&2
    mkdir -p -m 700 "$data"
    local port
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
    BASE="http://127.0.0.1:$port"
    SHINDAN_LOG="${SHINDAN_LOG:-warn}" "${CARGO_TARGET_DIR:-target}/release/shindan" serve \
        --bind "127.0.0.1:$port" \
        --data-dir "$data" \
        --questionnaires "$questionnaires" \
        ${SERVER_ARGS[@]+"${SERVER_ARGS[@]}"} \
        >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    local ready=""
    for _ in $(seq 1 $((wait_seconds * 10))); do
        kill -0 "$SERVER_PID" 2>/dev/null || break
        if [ "$(curl -fsS --max-time 1 "$BASE/healthz" 2>/dev/null || true)" = ok ]; then
            ready=1
            break
        fi
        sleep 0.1
    done
    if [ -z "$ready" ]; then
        log "the server did not answer $BASE/healthz within $wait_seconds s; its log:"
        cat "$WORK/server.log" >&2
        exit 1
    fi
    log "server pid $SERVER_PID on $BASE"
}

# Prints the server's peak memory (VmHWM) and the tail of its log, and returns 1 when the
# server died during the load (after printing its whole log). Call it after the load.
server_report() {
    if kill -0 "$SERVER_PID" 2>/dev/null; then
        local hwm_kb
        hwm_kb="$(awk '/^VmHWM:/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || true)"
        echo "server VmHWM: $(( ${hwm_kb:-0} / 1024 )) MiB"
        if [ -s "$WORK/server.log" ]; then
            log "server log (warnings and errors, last 20 lines):"
            tail -n 20 "$WORK/server.log" >&2
        fi
    else
        log "the server died during the load; its log:"
        cat "$WORK/server.log" >&2
        return 1
    fi
}
