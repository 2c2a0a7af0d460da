# Shared by the API scripts: a Python virtual environment in target/ holding one pinned
# package. Source it after `cd` to the repository root, with `log` defined; then call
#   ensure_venv VENV PACKAGE VERSION COMMAND
# which installs python3, python3-venv and curl with apt-get when missing (as root),
# (re)creates VENV when it does not run, and installs PACKAGE==VERSION into it unless
# `VENV/bin/COMMAND --version` already names VERSION.

ensure_venv() {
    local venv=$1 package=$2 version=$3 command=$4
    local missing=()
    command -v python3 >/dev/null 2>&1 || missing+=(python3)
    command -v curl >/dev/null 2>&1 || missing+=(curl)
    if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
        missing+=(python3-venv)
    fi
    if [ "${#missing[@]}" -gt 0 ]; then
        if [ "$(id -u)" != 0 ]; then
            log "missing ${missing[*]}; run as root or: apt-get install -y --no-install-recommends ${missing[*]}"
            return 1
        fi
        log "installing ${missing[*]} with apt-get"
        export DEBIAN_FRONTEND=noninteractive
        timeout 600 apt-get update >&2
        timeout 1800 apt-get install -y --no-install-recommends "${missing[@]}" >&2
    fi
    if "$venv/bin/$command" --version 2>/dev/null | grep -qF "$version"; then
        return 0
    fi
    if ! "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
        rm -rf "$venv"
        python3 -m venv "$venv"
    fi
    log "installing $package $version into $venv"
    timeout 900 "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        "$package==$version"
}
