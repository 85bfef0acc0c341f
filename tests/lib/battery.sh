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
    cat >"$CAL" <<'JSON'
{
  "schema": "saebench.calibration/1",
  "host": {"cpu": "test", "ceilings": {"fp64_flops": 5e10, "mem_bw": 2e10, "dgemm_n": 2048, "copy_bytes": 268435456}},
  "device": {"name": "test", "ceilings": {"fp64_flops": 5e13, "mem_bw": 3e12, "dgemm_n": 8192, "copy_bytes": 1073741824}}
}
JSON
    # shellcheck source=tests/lib/harness.sh
    . "$ROOT/tests/lib/harness.sh"
}
