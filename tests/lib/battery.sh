# The start every verdict-checking shell battery shares (tests/cli,
# tests/multiplex): source this, then call
#     sb_battery_setup TAG "PYTHON MODULES"
# It checks jq and the Debian python3's modules (exit 2 with one line if one
# is missing), makes the scratch directory WORK (removed on exit), moves to
# the project root ROOT (named shapes resolve there; nothing is written),
# clears the test hooks so no run inherits them, sets PY, SCHEMA, VALIDATE,
# writes CAL (ceilings given up front, so runs skip measuring the machine)
# and sources tests/lib/harness.sh.
# shellcheck shell=bash
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# sb_battery_bin "$@": the battery's one argument, the binary under test, as BIN
# (an absolute path); a usage line and exit 2 otherwise.
sb_battery_bin() {
    [ $# -eq 1 ] || { echo "usage: $0 BINARY" >&2; exit 2; }
    BIN=$(realpath "$1") || exit 2
    [ -x "$BIN" ] || { echo "$0: $1 is not an executable" >&2; exit 2; }
}

sb_battery_setup() {
    local tag=$1 mods=$2
    PY=/usr/bin/python3
    SCHEMA="$ROOT/docs/verdict.schema.json"
    VALIDATE="$ROOT/tests/cli/validate_schema.py"
    command -v jq >/dev/null || { echo "$0: jq is required" >&2; exit 2; }
    "$PY" -c "import $mods" 2>/dev/null || { echo "$0: $PY needs $mods" >&2; exit 2; }
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/saebench-$tag.XXXXXX") || exit 2
    trap 'chmod -R u+rwx "$WORK" 2>/dev/null; rm -rf "$WORK"' EXIT # the scratch folder made just above
    cd "$ROOT" || exit 2
    unset SAEBENCH_FAKE_DEVICE SAEBENCH_SHAPES
    CAL="$WORK/calibration.json"
    # shellcheck source=tests/lib/standin-shapes.sh
    . "$ROOT/tests/lib/standin-shapes.sh"
    sb_fixed_calibration "$CAL" test
    # shellcheck source=tests/lib/harness.sh
    . "$ROOT/tests/lib/harness.sh"
}

# sb_run_counted LABEL COMMAND...: run a test program that prints ok/FAIL lines; one ok
# line when it exits 0 with some ok lines and no FAIL, else one FAIL line with its first
# FAIL lines; its wall time in both. Its output is kept in WORK.
sb_run_counted() {
    local label=$1
    shift
    local log="$WORK/run-${label//[^A-Za-z0-9_.-]/_}.log" rc n_ok n_bad t0 t
    if [ ! -x "$1" ]; then
        bad "$label: $1 not built (make standin-tests)"
        return
    fi
    t0=$(date +%s)
    "$@" >"$log" 2>&1
    rc=$?
    t=$(($(date +%s) - t0))
    n_ok=$(grep -c '^ok ' "$log")
    n_bad=$(grep -c '^FAIL ' "$log")
    if [ "$rc" -eq 0 ] && [ "$n_bad" -eq 0 ] && [ "$n_ok" -gt 0 ]; then
        ok "$label: exit 0, $n_ok checks pass ($t s)"
    else
        bad "$label: exit $rc, $n_ok ok, $n_bad FAIL ($t s)" "$(grep -m 8 '^FAIL ' "$log"; tail -n 3 "$log")"
    fi
}
