#!/usr/bin/env bash
# HTTP load test of brokers' portfolios: 100,000 assessments across 100 brokers (seven in
# ten submitted), then the first page of one broker's portfolio as JSON, a page deep in
# it, a page of 100, the dashboard page with its thumbnails, a name search, and /healthz
# for reference, each for DURATION seconds on CONNECTIONS connections.
#
# Usage: scripts/load-broker.sh            (from anywhere; works in the repository root)
#   BROKERS=100 PER_BROKER=1000   the size of the seeded data
#   DURATION=10 CONNECTIONS=4     seconds of load per target, concurrent connections
#   OHA_INSTALL=1                 install oha with `cargo install oha --locked` if missing
#
# The server runs with --token-rate raised so that the per-broker rate limit (which would
# answer these few brokers with 429) does not cut the load short.
# Prints one line per target and exits non-zero if any response was not 200 or the first
# page's p99 is over the 5 ms target.
set -euo pipefail

BROKERS="${BROKERS:-100}"
PER_BROKER="${PER_BROKER:-1000}"
DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-4}"
OHA_INSTALL="${OHA_INSTALL:-1}"
for v in BROKERS PER_BROKER DURATION CONNECTIONS; do
    case "${!v}" in '' | *[!0-9]*) echo "$v must be a whole number" >&2; exit 2 ;; esac
done

cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { echo "load-broker: $*" >&2; }

# shellcheck source=scripts/lib/oha.sh
. scripts/lib/oha.sh
# shellcheck source=scripts/lib/server.sh
. scripts/lib/server.sh

# --- the data ----------------------------------------------------------------------------
log "building the seeding program"
cargo build --release --quiet --example seed_portfolios >&2
log "seeding $((BROKERS * PER_BROKER)) assessments across $BROKERS brokers"
started=$(date +%s)
target/release/examples/seed_portfolios "$WORK/data" "$BROKERS" "$PER_BROKER" >"$WORK/tokens"
log "seeded in $(($(date +%s) - started)) s; data directory $(du -sh "$WORK/data" | cut -f1)"
TOKEN="$(sed -n "$(((BROKERS + 1) / 2))p" "$WORK/tokens")"

SERVER_ARGS=(--token-rate 1000000 --login-rate 1000000)
start_server questionnaires 60
AUTH=(-H "Authorization: Bearer $TOKEN")

# A cursor deep in the portfolio: walk 30 pages of 25 first.
CURSOR=""
for _ in $(seq 1 30); do
    CURSOR="$(curl -fsS --max-time 5 "${AUTH[@]}" \
        "$BASE/api/v1/broker/assessments?cursor=$CURSOR" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["next_cursor"] or "")')"
    [ -n "$CURSOR" ] || break
done

# A session cookie for the dashboard, signed in as a browser does: the form's cookie and
# its hidden anti-forgery field go back with the token.
JAR="$WORK/login.cookies"
CSRF="$(curl -fsS --max-time 5 -c "$JAR" "$BASE/broker/login" |
    sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -n 1)"
COOKIE="$(curl -fsS --max-time 5 -b "$JAR" -o /dev/null -D - --data-urlencode "token=$TOKEN" \
    --data-urlencode "csrf=$CSRF" "$BASE/broker/login" |
    sed -n 's/^[Ss]et-[Cc]ookie: \(shindan_broker=[^;]*\).*/\1/p')"
[ -n "$COOKIE" ] || { log "sign-in failed"; exit 1; }

log "load: ${CONNECTIONS} connections, ${DURATION} s per target"
failed=0
run first-page 200 "${AUTH[@]}" "$BASE/api/v1/broker/assessments" || failed=1
run deep-page 200 "${AUTH[@]}" "$BASE/api/v1/broker/assessments?cursor=$CURSOR" || failed=1
run page-of-100 200 "${AUTH[@]}" "$BASE/api/v1/broker/assessments?limit=100" || failed=1
run dashboard 200 -H "Cookie: $COOKIE" "$BASE/broker" || failed=1
run name-search 200 "${AUTH[@]}" \
    "$BASE/api/v1/broker/assessments?q=%E3%83%86%E3%82%B9%E3%83%880042" || failed=1
run healthz 200 "$BASE/healthz" || failed=1

python3 - "$WORK/first-page.json" <<'PY' || failed=1
import json, sys
p99 = json.load(open(sys.argv[1]))["latencyPercentiles"]["p99"] * 1000
print(f"first page p99: {p99:.2f} ms (target at most 5 ms)")
sys.exit(0 if p99 <= 5 else 1)
PY

server_report || failed=1
exit "$failed"
