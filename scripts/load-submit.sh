#!/usr/bin/env bash
# HTTP load test of durable submissions: many concurrent `POST /api/v1/assessments` with
# `"submit": true` (each one validated, scored, written to sled and fsynced before its 201),
# compared with `GET /healthz` and the report page `GET /r/{token}` on the same server.
#
# Usage: scripts/load-submit.sh            (from anywhere; works in the repository root)
#   DURATION=10     seconds of load per target
#   CONNECTIONS=32  concurrent connections
#   OHA_INSTALL=1   install oha with `cargo install oha --locked` when it is missing (0: fail)
#
# Prints, for example:
#   submit: 4321 req/s, p50 3.1 ms, p99 12.0 ms, errors 0
#   healthz: 40000 req/s, p50 0.7 ms, p99 2.0 ms, errors 0
#   server VmHWM: 38 MiB
# and exits non-zero when any request did not get its expected status (201 / 200).
# Talks only to a server it starts on 127.0.0.1, which it stops on exit, removing its data.
# The server runs with --create-rate raised, as every request comes from one address that
# the per-address limit on new assessments would otherwise answer with 429.
set -euo pipefail

DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-32}"
OHA_INSTALL="${OHA_INSTALL:-1}"
case "$DURATION" in '' | *[!0-9]*) echo "DURATION must be whole seconds" >&2; exit 2 ;; esac
case "$CONNECTIONS" in '' | *[!0-9]*) echo "CONNECTIONS must be a number" >&2; exit 2 ;; esac

cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { echo "load-submit: $*" >&2; }

# shellcheck source=scripts/lib/oha.sh
. scripts/lib/oha.sh

# --- the server --------------------------------------------------------------------------
# shellcheck source=scripts/lib/server.sh
. scripts/lib/server.sh
SERVER_ARGS=(--create-rate 100000000)
start_server questionnaires

# --- the request body, from the served questionnaire -------------------------------------
curl -fsS --max-time 5 "$BASE/api/v1/questionnaires/it-liability" >"$WORK/questionnaire.json"
python3 scripts/lib/submit_body.py "$WORK/questionnaire.json" >"$WORK/body.json"

# One request by hand first, so a bad body fails with the server's own message.
status="$(curl -sS --max-time 5 -o "$WORK/first.json" -w '%{http_code}' \
    -H 'Content-Type: application/json' --data-binary "@$WORK/body.json" \
    "$BASE/api/v1/assessments")"
if [ "$status" != 201 ]; then
    log "POST /api/v1/assessments answered $status, expected 201:"
    cat "$WORK/first.json" >&2
    echo >&2
    exit 1
fi

# --- the load ----------------------------------------------------------------------------
log "load: ${CONNECTIONS} connections, ${DURATION} s per target"
failed=0
run submit 201 -m POST -T application/json -D "$WORK/body.json" \
    "$BASE/api/v1/assessments" || failed=1
run healthz 200 "$BASE/healthz" || failed=1
# The report page of the first submission, rendered in full each time (no If-None-Match).
# No peer snapshot is taken, so it shows no peers (a snapshot changes only which cached
# body is served, not the cost of serving it).
REPORT_URL="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["report_url"])' "$WORK/first.json")"
run report 200 "$BASE$REPORT_URL?lang=ja" || failed=1
python3 - "$WORK/healthz.json" "$WORK/report.json" <<'EOF'
import json, sys
h = json.load(open(sys.argv[1]))["summary"]["requestsPerSec"]
r = json.load(open(sys.argv[2]))["summary"]["requestsPerSec"]
print(f"report/healthz: {r / h:.2f} (target at least 0.25)")
EOF

server_report || failed=1
exit "$failed"
