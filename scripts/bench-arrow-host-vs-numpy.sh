#!/usr/bin/env bash
# saebench's host arrow-Schur resident solve vs the numpy/scipy peer
# (scripts/bench-arrow-numpy.py) on the same fixture and machine.
#
#   scripts/bench-arrow-host-vs-numpy.sh [SHAPE...]     (default: qwen color-arm)
#
# Expects ./saebench (builds nothing). Env: PYTHON (default /usr/bin/python3,
# Debian's numpy+scipy), OUTDIR (default: a new folder made by mktemp -d under
# ${TMPDIR:-/tmp}, never fixed names in a shared /tmp). Per shape it runs
#   ./saebench inner-loop --shape S --backend host --quiet --out OUTDIR/sbarrow-S.json
#   PYTHON scripts/bench-arrow-numpy.py --shape S
# and prints  shape | saebench ms | numpy ms | ratio  (ratio > 1: numpy slower).
set -euo pipefail

die() { printf 'bench-arrow-host-vs-numpy: %s\n' "$*" >&2; exit 2; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PYTHON=${PYTHON:-/usr/bin/python3}
[ $# -gt 0 ] || set -- qwen color-arm
[ -x ./saebench ] || die "no ./saebench here (build it: make)"
command -v jq >/dev/null 2>&1 || die "jq not found (scripts/install-deps.sh)"
if [ -z "${OUTDIR:-}" ]; then
    OUTDIR=$(mktemp -d "${TMPDIR:-/tmp}/saebench-bench.XXXXXX") || die "cannot create a folder in ${TMPDIR:-/tmp}"
fi
mkdir -p "$OUTDIR"

# Both sides share the CPU with whatever else runs: record the load so a
# reader can judge the numbers.
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)  cpus: $(nproc)" >&2

status=0
table=$(printf '%-12s | %12s | %12s | %6s | %s\n' shape "saebench ms" "numpy ms" ratio "numpy parity")
for s in "$@"; do
    sb_json=$OUTDIR/sbarrow-$s.json
    rm -f -- "$sb_json"
    # exit 1 is a failed gate: the verdict and its timing are still written
    ./saebench inner-loop --shape "$s" --backend host --quiet --out "$sb_json" || status=1
    np_line=$("$PYTHON" "$HERE/bench-arrow-numpy.py" --shape "$s") || status=1
    sb_ms=$(jq -er '.timing.phases.resident.median_s * 1e3' "$sb_json" 2>/dev/null || echo NA)
    np_ms=$(jq -er '.resident_solve_ms_median' <<<"$np_line" 2>/dev/null || echo NA)
    parity=$(jq -r '.parity_rel_err' <<<"$np_line" 2>/dev/null || echo NA)
    ratio=NA
    [ "$sb_ms" = NA ] || [ "$np_ms" = NA ] || ratio=$(jq -nr "$np_ms / $sb_ms")
    table+=$'\n'$(printf '%-12s | %12.4f | %12.4f | %6.2f | %s' "$s" "$sb_ms" "$np_ms" "$ratio" "$parity" 2>/dev/null \
        || printf '%-12s | %12s | %12s | %6s | %s' "$s" "$sb_ms" "$np_ms" "$ratio" "$parity")
done
echo "load average at end:   $(cut -d' ' -f1-3 /proc/loadavg)" >&2
printf '%s\n' "$table"
echo "(ms per resident solve, median; ratio = numpy / saebench; verdicts in $OUTDIR/sbarrow-*.json)"
exit "$status"
