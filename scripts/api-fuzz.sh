#!/usr/bin/env bash
# Schemathesis against the API's own OpenAPI document: every /api/v1 operation is called with
# generated requests (valid and invalid), and every answer is checked against the document:
# no server error, a documented status, content type and headers, and a body that matches
# the schema. The stateful phase follows the document's links (create -> read, change,
# submit, report; invite -> item, PDF, new link).
#
# Usage: bash scripts/api-fuzz.sh [EXTRA_ST_ARGS...]
#
# What it does:
#   - creates the Python virtual environment target/api-fuzz-venv with schemathesis
#     (pinned below) when missing (and python3-venv with apt-get, as root);
#   - starts the release server (scripts/lib/server.sh) on a free 127.0.0.1 port with a
#     temporary data directory, an admin token and rate limits high enough that the fuzzer
#     meets the logic rather than 429s;
#   - adds a broker through the admin API, submits one assessment (so that attaching has a
#     report to find) and hands both tokens to schemathesis in a config file;
#   - runs `st run` with a fixed seed and 100 examples per operation (about a minute on a
#     2-core machine) and fails when any check fails.
# Talks only to the server it starts (and to PyPI when installing).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
SCHEMATHESIS_VERSION=4.32.5
VENV=target/api-fuzz-venv
SEED=${SHINDAN_FUZZ_SEED:-20261203}
EXAMPLES=${SHINDAN_FUZZ_EXAMPLES:-100}

log() { echo "api-fuzz: $*" >&2; }

# shellcheck source=scripts/lib/python-venv.sh
. scripts/lib/python-venv.sh
ensure_venv "$VENV" schemathesis "$SCHEMATHESIS_VERSION" st

# shellcheck source=scripts/lib/server.sh
. scripts/lib/server.sh
ADMIN_TOKEN="$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
export SHINDAN_ADMIN_TOKEN="$ADMIN_TOKEN"
SERVER_ARGS=(--create-rate 1000000 --login-rate 1000000 --token-rate 1000000 --peer-snapshot-interval off)
start_server questionnaires

json_field() { python3 -c "import json, sys; print(json.load(sys.stdin)['$1'])"; }

# The admin token goes to curl in a header file, not on its command line (visible to `ps`).
printf 'Authorization: Bearer %s\n' "$ADMIN_TOKEN" >"$WORK/admin.header"
BROKER_TOKEN="$(curl -fsS -X POST "$BASE/api/v1/admin/brokers" \
    -H @"$WORK/admin.header" -H 'content-type: application/json' \
    -d '{"name": "Fuzz Broker"}' | json_field token)"
log "added a broker"

# One submitted assessment, so that attaching a report has one to find
# (scripts/lib/submit_body.py: every required field and question answered).
curl -fsS "$BASE/api/v1/questionnaires/it-liability" -o "$WORK/questionnaire.json"
REPORT_TOKEN="$(python3 scripts/lib/submit_body.py "$WORK/questionnaire.json" |
    curl -fsS -X POST "$BASE/api/v1/assessments" -H 'content-type: application/json' --data-binary @- |
    json_field report_token)"
log "submitted an assessment"

# The tokens, and values that lead most generated requests to a real questionnaire and
# report (and the rest to unknown ones).
cat >"$WORK/schemathesis.toml" <<EOF
[auth.openapi.broker_token]
bearer = "$BROKER_TOKEN"

[auth.openapi.admin_token]
bearer = "$ADMIN_TOKEN"

[dictionaries.questionnaires]
values = ["it-liability"]

[dictionaries.versions]
values = ["2026.2", "2026.1"]

[dictionaries.reports]
values = ["$REPORT_TOKEN"]

[parameters]
"body.questionnaire" = { dictionary = "questionnaires", probability = 0.9 }
"body.version" = { dictionary = "versions", probability = 0.9 }
"body.report_token" = { dictionary = "reports", probability = 0.8 }

[[operations]]
include-name = "GET /api/v1/questionnaires/{id}"
parameters = { "path.id" = { dictionary = "questionnaires", probability = 0.8 } }
EOF

# The admin operations run last, on their own: they may rotate or revoke the broker whose
# token the other operations use.
fuzz() {
    (
        cd "$WORK"
        "$OLDPWD/$VENV/bin/st" run "$BASE/api/v1/openapi.json" \
            --checks "${SHINDAN_FUZZ_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance}" \
            --seed "$SEED" \
            --max-examples "$EXAMPLES" \
            --no-color \
            "$@"
    )
}
started=$SECONDS
log "every operation but the admin API's"
fuzz --exclude-path-regex "^/api/v1/admin/" "$@"
log "the admin API"
fuzz --include-path-regex '^/api/v1/admin/' "$@"
log "schemathesis passed in $((SECONDS - started)) s"
server_report
