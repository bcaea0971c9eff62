# shellcheck shell=bash
#   deploy/lib/packages.sh - the Debian packages bruecke needs, and a function
#   that installs those that are missing. Sourced by tests/run and
#   deploy/local-county; not meant to be run on its own.
#
#   BRUECKE_PACKAGES    the package list (Debian 12 names)
#   ensure_packages [CALLER]
#       installs the packages of BRUECKE_PACKAGES that dpkg does not report as
#       installed, with apt-get (as root, or through sudo). CALLER names the
#       script in messages. Returns 0 when everything is installed, 1 when
#       something is missing and cannot be installed (not root and no sudo,
#       no dpkg, or apt-get failed).

BRUECKE_PACKAGES=(build-essential cmake pkg-config libczmq-dev libzmq3-dev libprotobuf-c-dev
                  protobuf-c-compiler liblmdb-dev libsodium-dev clang libclang-rt-14-dev
                  lmdb-utils libmicrohttpd-dev libjansson-dev curl jq)

ensure_packages () {
    local caller="${1:-bruecke}"
    local package
    local -a missing=() sudo=()
    if ! command -v dpkg-query >/dev/null 2>&1; then
        echo "$caller: dpkg-query not found; this needs Debian 12 (or install by hand:" \
             "${BRUECKE_PACKAGES[*]})" >&2
        return 1
    fi
    for package in "${BRUECKE_PACKAGES[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$package")
        fi
    done
    ((${#missing[@]} == 0)) && return 0
    echo "$caller: installing missing packages: ${missing[*]}"
    if [[ $(id -u) -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo=(sudo)
        else
            echo "$caller: not root and no sudo; please install: ${missing[*]}" >&2
            return 1
        fi
    fi
    if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update; then
        echo "$caller: apt-get update failed" >&2
        return 1
    fi
    if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y --no-install-recommends "${missing[@]}"; then
        echo "$caller: could not install: ${missing[*]}" >&2
        return 1
    fi
    return 0
}
