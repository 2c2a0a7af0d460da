# Shared by the browser scripts: installs, with apt-get and only when missing, what they
# need: chromium, poppler-utils (pdfinfo, pdftoppm, pdftotext), the Noto CJK fonts (without
# them Japanese prints as empty boxes), python3 with venv, and curl. Source it after `cd` to
# the repository root, with `log` and `fail` defined; then call `ensure_browser_deps`.

have_cjk_font() {
    command -v fc-list >/dev/null 2>&1 || return 1
    # No `fc-list | grep -q` here: with pipefail, grep closing the pipe early fails fc-list.
    local families
    families="$(fc-list : family 2>/dev/null || true)"
    grep -qi "Noto Sans CJK" <<<"$families"
}

ensure_browser_deps() {
    local missing=()
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)
    { command -v pdfinfo && command -v pdftoppm && command -v pdftotext; } >/dev/null 2>&1 ||
        missing+=(poppler-utils)
    have_cjk_font || missing+=(fonts-noto-cjk fontconfig)
    command -v python3 >/dev/null 2>&1 || missing+=(python3)
    command -v curl >/dev/null 2>&1 || missing+=(curl)
    if command -v python3 >/dev/null 2>&1 && ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
        missing+=(python3-venv)
    fi
    [ "${#missing[@]}" -gt 0 ] || return 0
    [ "$(id -u)" = 0 ] ||
        fail "missing ${missing[*]}; run as root or: apt-get install -y --no-install-recommends ${missing[*]}"
    log "installing ${missing[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    timeout 600 apt-get update >&2
    timeout 1800 apt-get install -y --no-install-recommends "${missing[@]}" >&2
    command -v chromium >/dev/null 2>&1 || fail "chromium is still missing after apt-get install"
    { command -v pdfinfo && command -v pdftoppm && command -v pdftotext; } >/dev/null 2>&1 ||
        fail "poppler-utils are still missing after apt-get install"
    have_cjk_font || fail "no Noto Sans CJK font after apt-get install fonts-noto-cjk"
}
