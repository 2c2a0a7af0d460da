# Shared by the load scripts: finds (or installs) oha, and `run NAME EXPECTED_STATUS
# oha-arguments...`, which loads one target for DURATION seconds over CONNECTIONS
# connections, writes oha's JSON to $WORK/NAME.json, prints one summary line and returns 1
# when any response had another status. Source it after `cd` to the repository root, with
# `log`, DURATION, CONNECTIONS and OHA_INSTALL set; `run` needs WORK (scripts/lib/server.sh).

if ! command -v oha >/dev/null 2>&1; then
    if [ -x "$HOME/.cargo/bin/oha" ]; then
        PATH="$HOME/.cargo/bin:$PATH"
    elif [ "$OHA_INSTALL" = 1 ]; then
        log "oha not found: installing it with cargo install oha --locked (a few minutes)"
        cargo install oha --locked >&2
        PATH="$HOME/.cargo/bin:$PATH"
    else
        log "oha not found and OHA_INSTALL=0"
        exit 2
    fi
fi
OHA_HELP="$(oha --help)"
if grep -q -- '--output-format' <<<"$OHA_HELP"; then
    OHA_JSON=(--output-format json)
else
    OHA_JSON=(--json)
fi
OHA_EXTRA=(--no-tui)
# Let requests in flight at the deadline finish instead of counting them as errors.
if grep -q -- '--wait-ongoing-requests-after-deadline' <<<"$OHA_HELP"; then
    OHA_EXTRA+=(--wait-ongoing-requests-after-deadline)
fi

# run NAME EXPECTED_STATUS oha-arguments...: prints one summary line, returns 1 on errors.
run() {
    local name=$1 expected=$2
    shift 2
    local out="$WORK/$name.json"
    timeout --kill-after=10 $((DURATION + 60)) \
        oha "${OHA_JSON[@]}" "${OHA_EXTRA[@]}" -z "${DURATION}s" -c "$CONNECTIONS" "$@" \
        >"$out" 2>"$WORK/$name.err" || {
        log "oha failed for $name:"
        cat "$WORK/$name.err" >&2
        return 1
    }
    python3 - "$out" "$name" "$expected" <<'EOF'
import json, sys

path, name, expected = sys.argv[1], sys.argv[2], sys.argv[3]
r = json.load(open(path))
codes = r.get("statusCodeDistribution") or {}
failures = r.get("errorDistribution") or {}
ok = int(codes.get(expected, 0))
wrong = sum(int(n) for code, n in codes.items() if code != expected)
failed = sum(int(n) for n in failures.values())
p = r.get("latencyPercentiles") or {}
ms = lambda s: (s or 0.0) * 1000.0
print(
    f"{name}: {r['summary']['requestsPerSec']:.0f} req/s, "
    f"p50 {ms(p.get('p50')):.1f} ms, p99 {ms(p.get('p99')):.1f} ms, "
    f"errors {wrong + failed} ({ok} x {expected})"
)
if wrong or failed or ok == 0:
    for code, n in sorted(codes.items()):
        if code != expected:
            print(f"  {name}: {n} responses with status {code}", file=sys.stderr)
    for message, n in sorted(failures.items()):
        print(f"  {name}: {n} x {message}", file=sys.stderr)
    sys.exit(1)
EOF
}

