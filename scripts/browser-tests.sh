#!/usr/bin/env bash
# The browser checks, in one place: the Playwright suite of tests/browser (a person's
# journeys clicked in Chromium, in Japanese and English, plus forms posted by other sites'
# pages), then scripts/browser-check.sh (the report pages rendered and printed).
#
# Usage: bash scripts/browser-tests.sh [PYTEST_ARGS...]     e.g. -k broker, -x, -v
#
# What it does:
#   - installs chromium, fonts-noto-cjk, poppler-utils (and python3-venv) with apt-get when
#     missing (as root);
#   - creates the Python virtual environment target/browser-venv and installs
#     tests/browser/requirements.txt in it (again only when that file changes); Playwright
#     drives Debian's /usr/bin/chromium, its own browser download is never used;
#   - builds the release binary (`cargo build --release`); the tests start it themselves on
#     free 127.0.0.1 ports with temporary data directories and stop it afterwards;
#   - runs pytest on tests/browser, then scripts/browser-check.sh, and fails when either does.
# Screenshots, PDFs, CSVs, server logs and the screenshots of failed checks go to
# target/browser-tests/ (failures/ for those of failed tests); browser-check's files to
# target/browser-tests/report-check/.
# Talks only to servers it starts on 127.0.0.1 (and to the package registries when installing).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
START_SECONDS=$SECONDS
VENV=target/browser-venv
OUT=target/browser-tests
REQUIREMENTS=tests/browser/requirements.txt

log() { echo "browser-tests: $*" >&2; }
fail() {
    log "FAIL: $*"
    exit 1
}

# --- what it needs ---------------------------------------------------------------------------
# shellcheck source=scripts/lib/browser-deps.sh
. scripts/lib/browser-deps.sh
ensure_browser_deps

# The virtual environment, rebuilt when requirements.txt changes or it no longer runs.
stamp="$VENV/.requirements.sha256"
want="$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ] ||
    ! "$VENV/bin/python" -c 'import playwright, pytest' >/dev/null 2>&1; then
    log "installing $REQUIREMENTS into $VENV"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    # Playwright's own browsers are never downloaded: the tests use /usr/bin/chromium.
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 timeout 900 "$VENV/bin/pip" install --quiet \
        --disable-pip-version-check -r "$REQUIREMENTS" >&2
    echo "$want" >"$stamp"
fi

# --- the binary under test -------------------------------------------------------------------
log "building the release binary"
cargo build --release --quiet --bin shindan >&2

# --- the suite, then the report rendering check ----------------------------------------------
mkdir -p "$OUT"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export no_proxy=127.0.0.1,localhost NO_PROXY=127.0.0.1,localhost
export PYTHONDONTWRITEBYTECODE=1
status=0
suite_start=$SECONDS
(cd tests/browser && "../../$VENV/bin/python" -m pytest "$@") || status=$?
suite_seconds=$((SECONDS - suite_start))
if [ "$status" != 0 ]; then
    log "the browser suite failed (pytest exit $status); screenshots of the failures in $OUT/failures/"
fi

check_status=0
OUT_DIR="$OUT/report-check" bash scripts/browser-check.sh || check_status=$?
[ "$check_status" = 0 ] || log "scripts/browser-check.sh failed (exit $check_status)"

log "browser suite ${suite_seconds} s, everything $((SECONDS - START_SECONDS)) s; files in $OUT/"
[ "$status" = 0 ] && [ "$check_status" = 0 ]
