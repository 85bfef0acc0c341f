#!/usr/bin/env bash
# saebench --precision fp64 and mixed on the host vs numpy/scipy's FP64 forms
# and numpy's own mixed-precision form (scripts/bench-numpy-mixed.py), same
# fixture, one after the other on the same machine.
#
#   scripts/bench-mixed-vs-numpy.sh [SAEBENCH] [--reps N] [--shapes "S1 S2 ..."]
#
#   SAEBENCH  the binary (default ./saebench)
#   --reps    timed reps for every side (default 10)
#   --shapes  default "sae-2k-2048 sae-8k-1024"
# Env: PYTHON (default /usr/bin/python3: needs numpy+scipy), OUTDIR (default /tmp).
#
# Prints per shape: saebench fp64 and mixed rows/s (with the mixed run's
# refinement iterations and fallback reps), numpy's best FP64 form and its
# mixed form, and saebench mixed / numpy best FP64 (the #18 target is >= 1.5).
# Exit 1 when a run failed or a verdict is missing.
set -euo pipefail

die() { printf 'bench-mixed-vs-numpy: %s\n' "$*" >&2; exit 2; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
saebench=./saebench
reps=10
shapes="sae-2k-2048 sae-8k-1024"
PYTHON=${PYTHON:-/usr/bin/python3}
OUTDIR=${OUTDIR:-/tmp}

while [ $# -gt 0 ]; do
    case "$1" in
        --reps) [ $# -ge 2 ] || die "--reps needs a value"; reps=$2; shift 2 ;;
        --shapes) [ $# -ge 2 ] || die "--shapes needs a value"; shapes=$2; shift 2 ;;
        -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) die "unknown option '$1'" ;;
        *) saebench=$1; shift ;;
    esac
done
case "$reps" in ''|*[!0-9]*) die "--reps must be a positive integer" ;; esac
[ "$reps" -ge 1 ] || die "--reps must be >= 1"
[ -x "$saebench" ] || die "no executable saebench at '$saebench' (build it: make)"
command -v jq >/dev/null 2>&1 || die "jq not found (scripts/install-deps.sh)"
"$PYTHON" -c 'import numpy, scipy' 2>/dev/null \
    || die "$PYTHON lacks numpy/scipy (set PYTHON=, or scripts/install-deps.sh)"
mkdir -p "$OUTDIR"

status=0
printf 'shape\tsaebench_fp64\tsaebench_mixed\titers_med\tfallback_reps\tnumpy_best_fp64\tnumpy_mixed\tmixed_vs_numpy_best\n'
for s in $shapes; do
    for prec in fp64 mixed; do
        echo "== $s: saebench --precision $prec (host, $reps reps)" >&2
        "$saebench" resident-solve --shape "$s" --backend host --precision "$prec" --reps "$reps" \
            --out "$OUTDIR/sbm-$s-$prec.json" --quiet || status=1
    done
    echo "== $s: numpy/scipy forms ($reps reps)" >&2
    "$PYTHON" "$HERE/bench-numpy-mixed.py" --shape "$s" --reps "$reps" \
        --json "$OUTDIR/sbm-$s-numpy.json" --quiet >&2 || status=1
    jq -nr --arg s "$s" \
        --slurpfile f "$OUTDIR/sbm-$s-fp64.json" --slurpfile m "$OUTDIR/sbm-$s-mixed.json" \
        --slurpfile np "$OUTDIR/sbm-$s-numpy.json" '
        ($np[0].forms[$np[0].best_fp64].rows_per_s) as $best
        | [$s, ($f[0].throughput.measured_rows_per_s | floor), ($m[0].throughput.measured_rows_per_s | floor),
           $m[0].precision.refinement_iterations.median, $m[0].precision.fallback_reps,
           "\($best | floor) (\($np[0].best_fp64))", ($np[0].forms.mixed.rows_per_s | floor),
           ($m[0].throughput.measured_rows_per_s / $best * 100 | round / 100)]
        | map(tostring) | join("\t")' || status=1
done
exit "$status"
