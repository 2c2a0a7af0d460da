#!/usr/bin/env bash
# A client generated from the served OpenAPI document, used for real: what a broker's
# developer does first. Generates a Python client with openapi-python-client (pinned below)
# from GET /api/v1/openapi.json of a release server on a temporary data directory, then
# runs tests/api-client/journey.py with it: a company's assessment from draft to report, a
# broker's invitation, attachment, portfolio and item, and two refusals read as the
# document's error types. Fails when generation or any step fails.
#
# Usage: bash scripts/api-client.sh
# Installs into target/api-fuzz-venv (shared with scripts/api-fuzz.sh); talks only to the
# server it starts (and to PyPI when installing).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
GENERATOR_VERSION=0.29.1
VENV=target/api-fuzz-venv

log() { echo "api-client: $*" >&2; }

[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
if ! "$VENV/bin/openapi-python-client" --version 2>/dev/null | grep -q "$GENERATOR_VERSION"; then
    log "installing openapi-python-client $GENERATOR_VERSION into $VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "openapi-python-client==$GENERATOR_VERSION"
fi

# shellcheck source=scripts/lib/server.sh
. scripts/lib/server.sh
ADMIN_TOKEN="$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
export SHINDAN_ADMIN_TOKEN="$ADMIN_TOKEN"
SERVER_ARGS=(--peer-snapshot-interval off)
start_server questionnaires

BROKER_TOKEN="$(curl -fsS -X POST "$BASE/api/v1/admin/brokers" \
    -H "authorization: Bearer $ADMIN_TOKEN" -H 'content-type: application/json' \
    -d '{"name": "Client Broker"}' | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')"

curl -fsS "$BASE/api/v1/openapi.json" -o "$WORK/openapi.json"
(
    cd "$WORK"
    "$OLDPWD/$VENV/bin/openapi-python-client" generate --path openapi.json --meta none \
        >generate.log 2>&1 || { cat generate.log >&2; exit 1; }
)
log "generated $(find "$WORK/shindan_api_client" -name '*.py' | wc -l) Python files"
PYTHONPATH="$WORK" "$VENV/bin/python" tests/api-client/journey.py "$BASE" "$BROKER_TOKEN"
log "the generated client works"
server_report
