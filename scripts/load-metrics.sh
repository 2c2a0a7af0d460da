#!/usr/bin/env bash
# What Prometheus metrics cost: durable submissions (`POST /api/v1/assessments` with
# `"submit": true`, each fsynced before its 201) and `GET /healthz`, with metrics on and
# off, in one run. Each of ROUNDS rounds starts a fresh release server (new data directory)
# with `--metrics on` (and a `--metrics-bind` listener, scraped after the load to prove
# that the requests were counted) and one with `--metrics off`, in alternating order, and
# runs wrk with CONNECTIONS connections for DURATION s against each target. Prints every
# run, then the medians of throughput and of the server's CPU time per request, on and off
# (on a shared machine the disk's fdatasync time varies from run to run, and with it the
# submissions' throughput; their CPU time per request does not).
#
# Usage: scripts/load-metrics.sh           (from anywhere; works in the repository root)
#   DURATION=5      seconds of load per target and run
#   CONNECTIONS=32  concurrent connections
#   ROUNDS=3        servers started per setting (the medians are over these)
#
# Prints, for example:
#   round 1, metrics on: submit 5900 req/s (310.2 µs CPU each), healthz 98000 req/s (...)
#   ...
#   submit: median 5900 req/s on, 6000 req/s off: throughput -1.7% with metrics (target under 5%)
#   submit: median 310.2 µs server CPU per request on, 305.0 off: +1.7% with metrics
#   healthz: ...
# and exits non-zero when a request failed or did not get its expected status.
# Installs wrk with apt-get when it is missing (as root). Talks only to servers it starts
# on 127.0.0.1, which it stops, removing their data. The servers run with --create-rate
# raised, as every request comes from one address.
set -euo pipefail

DURATION="${DURATION:-5}"
CONNECTIONS="${CONNECTIONS:-32}"
ROUNDS="${ROUNDS:-3}"
for v in DURATION CONNECTIONS ROUNDS; do
    case "${!v}" in '' | *[!0-9]* | 0) echo "$v must be a whole number above 0" >&2; exit 2 ;; esac
done

cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { echo "load-metrics: $*" >&2; }

if ! command -v wrk >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        log "installing wrk with apt-get"
        apt-get install -y --no-install-recommends wrk >&2 ||
            { apt-get update >&2 && apt-get install -y --no-install-recommends wrk >&2; }
    else
        log "wrk is missing: apt-get install -y wrk"
        exit 2
    fi
fi

# shellcheck source=scripts/lib/server.sh
. scripts/lib/server.sh

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wrk's summary as one JSON line; requests that got 4xx/5xx count as errors.
cat >"$WORK/report.lua" <<'LUA'
function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        '{"requests": %d, "seconds": %.3f, "p50_ms": %.2f, "p99_ms": %.2f, "errors": %d}\n',
        summary.requests, summary.duration / 1e6,
        latency:percentile(50) / 1000, latency:percentile(99) / 1000,
        e.connect + e.read + e.write + e.timeout + e.status))
end
LUA

# wrk needs at least one connection per thread.
THREADS=$((CONNECTIONS < 2 ? CONNECTIONS : 2))

# The server's CPU time so far (user + system), in clock ticks.
CLK_TCK="$(getconf CLK_TCK)"
server_cpu() {
    awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat"
}

# load NAME wrk-arguments...: appends "NAME requests/s p50 p99 cpu-µs-per-request" to
# $WORK/results, returns 1 on errors. The server's CPU time per request does not depend
# on how fast a shared disk syncs that moment, so it shows the cost where throughput is
# noisy.
load() {
    local name=$1 cpu_before cpu_after
    shift
    cpu_before="$(server_cpu)"
    wrk -t "$THREADS" -c "$CONNECTIONS" -d "${DURATION}s" --timeout 10s "$@" \
        >"$WORK/$name.out" 2>&1 || { log "wrk failed for $name:"; cat "$WORK/$name.out" >&2; return 1; }
    cpu_after="$(server_cpu)"
    python3 - "$WORK/$name.out" "$name" $((cpu_after - cpu_before)) "$CLK_TCK" >>"$WORK/results" <<'PY'
import json, sys
lines = [l for l in open(sys.argv[1]) if l.startswith("{")]
if not lines:
    print(f"{sys.argv[2]}: wrk printed no summary:\n" + open(sys.argv[1]).read(), file=sys.stderr)
    sys.exit(1)
r = json.loads(lines[-1])
cpu_us = int(sys.argv[3]) / int(sys.argv[4]) * 1e6 / max(r["requests"], 1)
print(f"{sys.argv[2]} {r['requests'] / r['seconds']:.0f} {r['p50_ms']:.2f} {r['p99_ms']:.2f} "
      f"{cpu_us:.1f}")
if r["errors"]:
    print(f"{sys.argv[2]}: {r['errors']} errors", file=sys.stderr)
sys.exit(1 if r["errors"] else 0)
PY
}

# run_server ROUND on|off: a fresh server, one request by hand, then the load.
run_server() {
    local round=$1 mode=$2 metrics_port=""
    SERVER_DATA="$WORK/data-$round-$mode"
    SERVER_ARGS=(--create-rate 100000000 --metrics "$mode")
    if [ "$mode" = on ]; then
        metrics_port="$(free_port)"
        SERVER_ARGS+=(--metrics-bind "127.0.0.1:$metrics_port")
    fi
    start_server questionnaires
    if [ ! -s "$WORK/body.json" ]; then
        curl -fsS --max-time 5 "$BASE/api/v1/questionnaires/it-liability" >"$WORK/questionnaire.json"
        python3 scripts/lib/submit_body.py "$WORK/questionnaire.json" >"$WORK/body.json"
        {
            echo 'wrk.method = "POST"'
            echo 'wrk.headers["Content-Type"] = "application/json"'
            echo "wrk.body = io.open(\"$WORK/body.json\"):read(\"*a\")"
            cat "$WORK/report.lua"
        } >"$WORK/submit.lua"
    fi
    # One request by hand first, so a bad body fails with the server's own message.
    local status
    status="$(curl -sS --max-time 5 -o "$WORK/first.json" -w '%{http_code}' \
        -H 'Content-Type: application/json' --data-binary "@$WORK/body.json" \
        "$BASE/api/v1/assessments")"
    if [ "$status" != 201 ]; then
        log "POST /api/v1/assessments answered $status, expected 201:"
        cat "$WORK/first.json" >&2
        return 1
    fi
    local failed=0
    load "submit-$mode" -s "$WORK/submit.lua" "$BASE/api/v1/assessments" || failed=1
    load "healthz-$mode" -s "$WORK/report.lua" "$BASE/healthz" || failed=1
    if [ "$mode" = on ]; then
        # The load was counted: the submissions and the /healthz requests are in /metrics.
        curl -fsS --max-time 5 "http://127.0.0.1:$metrics_port/metrics" >"$WORK/metrics.txt"
        if ! grep -Eq '^shindan_submissions_total [1-9]' "$WORK/metrics.txt" ||
            ! grep -q 'route="/healthz",status="200"' "$WORK/metrics.txt"; then
            log "the metrics listener did not count the load:"
            grep '^shindan_' "$WORK/metrics.txt" | head -n 20 >&2
            failed=1
        fi
    fi
    server_report >/dev/null || failed=1
    stop_running_server
    rm -rf "$SERVER_DATA"
    tail -n 2 "$WORK/results" | awk -v r="$round" -v m="$mode" \
        '{ a[NR] = $1 " " $2 " req/s (" $5 " µs CPU each)" }
         END { sub(/-(on|off)/, "", a[1]); sub(/-(on|off)/, "", a[2]);
               print "round " r ", metrics " m ": " a[1] ", " a[2] }'
    return "$failed"
}

log "load: ${ROUNDS} rounds, ${CONNECTIONS} connections, ${DURATION} s per target and run"
failed=0
: >"$WORK/results"
for round in $(seq 1 "$ROUNDS"); do
    # Alternate which setting goes first, so that a drift of the machine favours neither.
    if [ $((round % 2)) = 1 ]; then order="on off"; else order="off on"; fi
    for mode in $order; do
        run_server "$round" "$mode" || failed=1
    done
done

python3 - "$WORK/results" <<'PY'
import statistics, sys
runs, cpu = {}, {}
for line in open(sys.argv[1]):
    name, rate, _, _, us = line.split()
    runs.setdefault(name, []).append(float(rate))
    cpu.setdefault(name, []).append(float(us))
for target, note in (("submit", " (target under 5%)"), ("healthz", "")):
    on = statistics.median(runs[f"{target}-on"])
    off = statistics.median(runs[f"{target}-off"])
    cost = (off - on) / off * 100
    print(f"{target}: median {on:.0f} req/s on, {off:.0f} req/s off: "
          f"throughput {-cost:+.1f}% with metrics{note}")
    on = statistics.median(cpu[f"{target}-on"])
    off = statistics.median(cpu[f"{target}-off"])
    print(f"{target}: median {on:.1f} µs server CPU per request on, {off:.1f} off: "
          f"{(on - off) / off * 100:+.1f}% with metrics")
PY
exit "$failed"
