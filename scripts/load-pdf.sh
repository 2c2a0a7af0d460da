#!/usr/bin/env bash
# HTTP load test of the PDF report, as brokers' systems fetching reports would: wrk with
# CONNECTIONS connections for DURATION s against `GET /r/{token}.pdf?lang=`, each request
# a report not asked for before (so each one is typeset: nothing comes from the cache),
# then the same PDF over and over (served from the cache), then `GET /healthz`.
#
# Usage: scripts/load-pdf.sh               (from anywhere; works in the repository root)
#   DURATION=10      seconds of load per target
#   CONNECTIONS=4    concurrent connections
#   REPORTS=2000     submitted assessments seeded first (two PDFs each: ja and en); the
#                    typesetting run must not reach their number, or it says so and fails
#
# Prints, for example:
#   pdf-typeset: 150 PDFs/s, p50 25.1 ms, p99 60.2 ms, 1500 requests, errors 0
#   pdf-cached: 9000 PDFs/s, ...
#   healthz: ...
#   server VmHWM: 90 MiB
# and exits non-zero when a request failed or did not answer 200.
# Installs wrk with apt-get when it is missing (as root). Talks only to a server it starts
# on 127.0.0.1, which it stops on exit, removing its data.
set -euo pipefail

DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-4}"
REPORTS="${REPORTS:-2000}"
for v in DURATION CONNECTIONS REPORTS; do
    case "${!v}" in '' | *[!0-9]* | 0) echo "$v must be a whole number above 0" >&2; exit 2 ;; esac
done

cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { echo "load-pdf: $*" >&2; }

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
SERVER_ARGS=(--create-rate 100000000 --token-rate 100000000)
start_server questionnaires

# --- REPORTS submitted assessments, their PDF paths alternating ja and en -----------------
log "seeding $REPORTS submitted assessments"
python3 - "$BASE" "$REPORTS" >"$WORK/paths.txt" <<'PY'
import json, sys, urllib.request

base, count = sys.argv[1], int(sys.argv[2])
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
q = json.load(opener.open(base + "/api/v1/questionnaires/it-liability"))
values = {"text": "株式会社負荷試験", "number": 30, "date": "2027-04-01"}
for n in range(count):
    profile = {}
    for field in q["profile"]:
        kind = field["kind"]
        if kind == "select":
            profile[field["id"]] = field["options"][n % len(field["options"])]["id"]
        elif kind == "multiselect":
            profile[field["id"]] = [field["options"][0]["id"]]
        else:
            profile[field["id"]] = values[kind]
    profile["company_name"] = f"株式会社負荷試験{n}"
    answers = {
        question["id"]: question["options"][(i + n) % len(question["options"])]["id"]
        for i, question in enumerate(q["questions"])
    }
    body = json.dumps({"questionnaire": q["id"], "submit": True,
                       "profile": profile, "answers": answers}).encode()
    req = urllib.request.Request(base + "/api/v1/assessments", data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    created = json.load(opener.open(req))
    # ja, en, en, ja, ja, en...: a thread taking every second path alternates languages.
    langs = ("ja", "en") if n % 2 == 0 else ("en", "ja")
    for lang in langs:
        print(f"/r/{created['report_token']}.pdf?lang={lang}")
PY

# Each wrk thread walks the list from its own offset with a stride of the thread count, so
# that no path is asked for twice; a thread that comes to the end of the list says so.
cat >"$WORK/paths.lua" <<'LUA'
threads = {}
function setup(thread)
    thread:set("offset", #threads)
    table.insert(threads, thread)
end
function init(args)
    paths = {}
    for line in io.lines(args[1]) do paths[#paths + 1] = line end
    stride = tonumber(args[2])
    i = offset
    wrapped = 0
end
function request()
    if i >= #paths then wrapped = 1 end
    local path = paths[(i % #paths) + 1]
    i = i + stride
    return wrk.format("GET", path)
end
LUA
cat >"$WORK/report.lua" <<'LUA'
function done(summary, latency, requests)
    local e = summary.errors
    local wrapped = 0
    for _, t in ipairs(threads or {}) do wrapped = wrapped + (t:get("wrapped") or 0) end
    io.write(string.format(
        '{"requests": %d, "seconds": %.3f, "p50_ms": %.2f, "p99_ms": %.2f, "errors": %d, "wrapped": %d}\n',
        summary.requests, summary.duration / 1e6,
        latency:percentile(50) / 1000, latency:percentile(99) / 1000,
        e.connect + e.read + e.write + e.timeout + e.status, wrapped))
end
LUA
cat "$WORK/paths.lua" "$WORK/report.lua" >"$WORK/typeset.lua"

# wrk needs at least one connection per thread.
THREADS=$((CONNECTIONS < 2 ? CONNECTIONS : 2))
run() {
    local name=$1 unit=$2
    shift 2
    wrk -t "$THREADS" -c "$CONNECTIONS" -d "${DURATION}s" --timeout 10s "$@" \
        >"$WORK/$name.out" 2>&1 || { log "wrk failed for $name:"; cat "$WORK/$name.out" >&2; return 1; }
    python3 - "$WORK/$name.out" "$name" "$unit" <<'PY'
import json, sys
lines = [l for l in open(sys.argv[1]) if l.startswith("{")]
if not lines:
    print(f"{sys.argv[2]}: wrk printed no summary:\n" + open(sys.argv[1]).read(), file=sys.stderr)
    sys.exit(1)
r = json.loads(lines[-1])
rate = r["requests"] / r["seconds"]
print(f"{sys.argv[2]}: {rate:.0f} {sys.argv[3]}/s, p50 {r['p50_ms']:.1f} ms, "
      f"p99 {r['p99_ms']:.1f} ms, {r['requests']} requests, errors {r['errors']}")
if r["wrapped"]:
    print(f"{sys.argv[2]}: the paths were used up, so some PDFs came from the cache: "
          "raise REPORTS", file=sys.stderr)
sys.exit(1 if r["errors"] or r["wrapped"] else 0)
PY
}

log "load: ${CONNECTIONS} connections, ${DURATION} s per target"
failed=0
run pdf-typeset PDFs -s "$WORK/typeset.lua" "$BASE" -- "$WORK/paths.txt" "$THREADS" || failed=1
first="$(head -n 1 "$WORK/paths.txt")"
run pdf-cached PDFs -s "$WORK/report.lua" "$BASE$first" || failed=1
run healthz req -s "$WORK/report.lua" "$BASE/healthz" || failed=1

server_report || failed=1
exit "$failed"
