# shellcheck shell=bash
#   deploy/lib/packages.sh - the Debian packages bruecke needs, and functions
#   that install those that are missing. Sourced by tests/run and
#   deploy/local-county; not meant to be run on its own.
#
#   BRUECKE_PACKAGES        what the build and a local county need (Debian 12 names)
#   BRUECKE_TEST_PACKAGES   what only the tests need on top: the browser tests'
#                           headless Chromium (tests/browser), and fonts for its
#                           screenshots; libfaketime for the daemons' stepped
#                           clocks, iproute2 for the fault harness's network
#                           namespaces and python3 for its traffic and checker
#                           (tests/faults); gdb, which stops a daemon at a chosen
#                           function so a test can kill it exactly there. Node.js and npm (for playwright-core)
#                           are added by ensure_test_packages only if the
#                           machine has no `node` or no `npm` at all, so that a
#                           Node.js installed from elsewhere is left alone.
#   ensure_packages [CALLER]
#       installs the packages of BRUECKE_PACKAGES that dpkg does not report as
#       installed, with apt-get (as root, or through sudo). CALLER names the
#       script in messages. Returns 0 when everything is installed, 1 when
#       something is missing and cannot be installed (not root and no sudo,
#       no dpkg, or apt-get failed).
#   ensure_test_packages [CALLER]
#       the same for BRUECKE_TEST_PACKAGES (and nodejs, npm where missing).

BRUECKE_PACKAGES=(build-essential cmake pkg-config libczmq-dev libzmq3-dev libprotobuf-c-dev
                  protobuf-c-compiler liblmdb-dev libsodium-dev clang libclang-rt-14-dev
                  lmdb-utils libmicrohttpd-dev libjansson-dev curl jq)

BRUECKE_TEST_PACKAGES=(chromium fonts-dejavu-core faketime iproute2 python3 gdb)

ensure_packages () {
    bruecke_install_missing "${1:-bruecke}" "${BRUECKE_PACKAGES[@]}"
}

ensure_test_packages () {
    local -a packages=("${BRUECKE_TEST_PACKAGES[@]}")
    command -v node >/dev/null 2>&1 || packages+=(nodejs)
    command -v npm >/dev/null 2>&1 || packages+=(npm)
    bruecke_install_missing "${1:-bruecke}" "${packages[@]}"
}

#   bruecke_install_missing CALLER PACKAGE...: installs those of the PACKAGEs
#   that dpkg does not report as installed. Returns 0 or 1 as ensure_packages.
bruecke_install_missing () {
    local caller="$1"
    shift
    local package
    local -a missing=() sudo=()
    if ! command -v dpkg-query >/dev/null 2>&1; then
        echo "$caller: dpkg-query not found; this needs Debian 12 (or install by hand:" \
             "$*)" >&2
        return 1
    fi
    for package in "$@"; do
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
