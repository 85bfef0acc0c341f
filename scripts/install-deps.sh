#!/usr/bin/env bash
# Install the Debian packages saebench needs to build and test.
#
#   scripts/install-deps.sh           build + test packages: install whatever is missing
#   scripts/install-deps.sh --build   only what building and running need (make demo)
#   scripts/install-deps.sh --check   list what is missing; exit 1 if anything is
#
# Build:      gcc g++ make pkg-config libopenblas-dev liblapacke-dev libcjson-dev libcmocka-dev
# Test/tools: python3-numpy python3-scipy python3-jsonschema jq clang libclang-rt-14-dev gnuplot-nox cargo
# apt's output goes to a new log file (mktemp, named on the first line); one line says
# what is installed.
set -euo pipefail

BUILD_PKGS=(gcc g++ make pkg-config libopenblas-dev liblapacke-dev libcjson-dev libcmocka-dev)
TEST_PKGS=(python3-numpy python3-scipy python3-jsonschema jq clang libclang-rt-14-dev gnuplot-nox cargo)

die() { printf 'install-deps: %s\n' "$*" >&2; exit 1; }

check_only=0
PKGS=("${BUILD_PKGS[@]}" "${TEST_PKGS[@]}")
case "${1:-}" in
    "") ;;
    --build) PKGS=("${BUILD_PKGS[@]}") ;;
    --check) check_only=1 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (usage: $0 [--build|--check])" ;;
esac
[ $# -le 1 ] || die "too many arguments (usage: $0 [--build|--check])"

command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: this script supports Debian/Ubuntu only"

# One dpkg-query call for all packages (fast path: well under a second).
# Packages dpkg has never heard of produce no line (error goes to /dev/null).
declare -A status=()
while IFS=' ' read -r name st; do
    status["${name%%:*}"]="$st"
done < <(dpkg-query -W -f='${Package} ${Status}\n' "${PKGS[@]}" 2>/dev/null || true)

missing=()
for p in "${PKGS[@]}"; do
    case "${status[$p]:-}" in
        *" ok installed") ;;
        *) missing+=("$p") ;;
    esac
done

if [ "${#missing[@]}" -eq 0 ]; then
    if [ "$check_only" -eq 1 ]; then
        echo "install-deps: all ${#PKGS[@]} packages present"
    fi
    exit 0
fi

if [ "$check_only" -eq 1 ]; then
    echo "install-deps: missing: ${missing[*]}"
    exit 1
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        die "need root to install ${missing[*]} (not root and sudo not found)"
    fi
fi

# A new file of our own (mktemp: O_EXCL, mode 0600), never a fixed name in a shared /tmp
# where a planted link would be followed as root.
LOG=$(mktemp "${TMPDIR:-/tmp}/saebench-install-deps.XXXXXX") || die "cannot create a log file in ${TMPDIR:-/tmp}"
echo "install-deps: installing ${missing[*]} (apt output in $LOG)"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update >"$LOG" 2>&1 \
    || { tail -n 5 "$LOG" >&2; die "apt-get update failed (see $LOG)"; }
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}" >>"$LOG" 2>&1 \
    || { tail -n 5 "$LOG" >&2; die "apt-get install failed for: ${missing[*]} (see $LOG)"; }
echo "install-deps: done"
