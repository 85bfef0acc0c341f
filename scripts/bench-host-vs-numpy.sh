#!/usr/bin/env bash
# saebench's host backend vs the numpy/scipy peer (scripts/bench-numpy.py) on
# the same fixture.
#
#   scripts/bench-host-vs-numpy.sh [SAEBENCH] [--reps N] [--shapes "S1 S2 ..."] [--mixed]
#
#   SAEBENCH  the binary (default ./saebench)
#   --reps    timed reps for both sides (default 10)
#   --shapes  default "sae-2k-2048 sae-8k-1024"
#   --mixed   instead: --precision fp64 and mixed against numpy's best FP64 form and
#             numpy's own mixed form (scripts/bench-numpy-mixed.py); prints
#             shape | saebench fp64 | saebench mixed | refinement iterations (median) |
#             fallback reps | numpy best fp64 | numpy mixed | saebench mixed / numpy best fp64
# Env: PYTHON (default /usr/bin/python3: needs numpy+scipy), OUTDIR (default: a new folder
# made by mktemp -d under ${TMPDIR:-/tmp}, never fixed names in a shared /tmp).
#
# Per shape it runs
#   SAEBENCH resident-solve --shape S --backend host --reps N --out OUTDIR/sbv-S.json --quiet
#   PYTHON scripts/bench-numpy.py --shape S --reps N --json OUTDIR/sbv-S-numpy.json --quiet
# and prints  shape | saebench rows/s | numpy rows/s | ratio  (ratio > 1: saebench faster),
# reading .throughput.measured_rows_per_s and .rows_per_s with jq.
set -euo pipefail

die() { printf 'bench-host-vs-numpy: %s\n' "$*" >&2; exit 2; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
saebench=./saebench
reps=10
shapes="sae-2k-2048 sae-8k-1024"
mixed=0
PYTHON=${PYTHON:-/usr/bin/python3}
while [ $# -gt 0 ]; do
    case "$1" in
        --reps) [ $# -ge 2 ] || die "--reps needs a value"; reps=$2; shift 2 ;;
        --shapes) [ $# -ge 2 ] || die "--shapes needs a value"; shapes=$2; shift 2 ;;
        --mixed) mixed=1; shift ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
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
if [ -z "${OUTDIR:-}" ]; then
    OUTDIR=$(mktemp -d "${TMPDIR:-/tmp}/saebench-bench.XXXXXX") || die "cannot create a folder in ${TMPDIR:-/tmp}"
fi
mkdir -p "$OUTDIR"

if [ "$mixed" = 1 ]; then
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
fi

rows=()
status=0
for s in $shapes; do
    sb_json=$OUTDIR/sbv-$s.json
    np_json=$OUTDIR/sbv-$s-numpy.json
    rm -f -- "$sb_json" "$np_json"

    echo "== $s: saebench (host, $reps reps)" >&2
    sb_rc=0
    "$saebench" resident-solve --shape "$s" --backend host --reps "$reps" \
        --out "$sb_json" --quiet || sb_rc=$?
    # exit 1 is a failed gate: the verdict (and its timing) is still written
    if [ "$sb_rc" -ne 0 ]; then
        echo "   saebench exited $sb_rc" >&2
        status=1
    fi

    echo "== $s: numpy/scipy ($reps reps)" >&2
    np_rc=0
    "$PYTHON" "$HERE/bench-numpy.py" --shape "$s" --reps "$reps" \
        --json "$np_json" --quiet >&2 || np_rc=$?
    if [ "$np_rc" -ne 0 ]; then
        echo "   bench-numpy.py exited $np_rc" >&2
        status=1
    fi

    sb_rows=$(jq -er '.throughput.measured_rows_per_s // empty' "$sb_json" 2>/dev/null || echo NA)
    np_rows=$(jq -er '.rows_per_s // empty' "$np_json" 2>/dev/null || echo NA)
    if [ "$sb_rows" != NA ] && [ "$np_rows" != NA ]; then
        line=$(jq -nr --argjson a "$sb_rows" --argjson b "$np_rows" --arg s "$s" \
            '[$s, ($a | floor | tostring), ($b | floor | tostring),
              (if $b > 0 then ($a / $b | tostring) else "NA" end)] | join("\t")')
    else
        line=$(printf '%s\t%s\t%s\t%s' "$s" "$sb_rows" "$np_rows" NA)
        status=1
    fi
    rows+=("$line")
done

printf '\n%-14s | %16s | %16s | %6s\n' shape "saebench rows/s" "numpy rows/s" ratio
printf '%s\n' "---------------+------------------+------------------+-------"
for line in "${rows[@]}"; do
    IFS=$'\t' read -r s a b r <<<"$line"
    if [ "$r" = NA ]; then
        printf '%-14s | %16s | %16s | %6s\n' "$s" "$a" "$b" "$r"
    else
        printf '%-14s | %16s | %16s | %6.2f\n' "$s" "$a" "$b" "$r"
    fi
done
echo "(ratio = saebench / numpy; verdicts and numpy JSON in $OUTDIR/sbv-*.json)"
exit "$status"
