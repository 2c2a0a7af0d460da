#!/usr/bin/env bash
# A client generated from the served OpenAPI document, used for real: what a broker's
# developer does first. Generates a Python client with openapi-python-client (pinned below)
# from GET /api/v1/openapi.json of a release server on a temporary data directory, then
# runs tests/api-client/journey.py with it: a company's assessment from draft to report, a
# broker's invitation, attachment, portfolio and item, and two refusals read as the
# document's error types. Fails when generation or any step fails.
#
# Usage: bash scripts/api-client.sh
# Installs into target/api-client-venv (and python3-venv with apt-get, as root); talks only
# to the server it starts (and to PyPI when installing).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
GENERATOR_VERSION=0.29.1
VENV=target/api-client-venv

log() { echo "api-client: $*" >&2; }

# shellcheck source=scripts/lib/python-venv.sh
. scripts/lib/python-venv.sh
ensure_venv "$VENV" openapi-python-client "$GENERATOR_VERSION" openapi-python-client

# shellcheck source=scripts/lib/server.sh
. scripts/lib/server.sh
ADMIN_TOKEN="$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
export SHINDAN_ADMIN_TOKEN="$ADMIN_TOKEN"
SERVER_ARGS=(--peer-snapshot-interval off)
start_server questionnaires

# Tokens go to curl in a header file and to the journey in the environment, never on a
# command line (visible to `ps`).
printf 'Authorization: Bearer %s\n' "$ADMIN_TOKEN" >"$WORK/admin.header"
BROKER_TOKEN="$(curl -fsS -X POST "$BASE/api/v1/admin/brokers" \
    -H @"$WORK/admin.header" -H 'content-type: application/json' \
    -d '{"name": "Client Broker"}' | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')"

curl -fsS "$BASE/api/v1/openapi.json" -o "$WORK/openapi.json"
(
    cd "$WORK"
    "$OLDPWD/$VENV/bin/openapi-python-client" generate --path openapi.json --meta none \
        >generate.log 2>&1 || { cat generate.log >&2; exit 1; }
)
log "generated $(find "$WORK/shindan_api_client" -name '*.py' | wc -l) Python files"
SHINDAN_BROKER_TOKEN="$BROKER_TOKEN" PYTHONPATH="$WORK" "$VENV/bin/python" tests/api-client/journey.py "$BASE"
log "the generated client works"
server_report
