#!/usr/bin/env bash
# Regenerate the verdict fixtures of tests/report/ (checked in; run by hand).
#   tests/report/make-fixtures.sh ./saebench
#   tests/report/make-fixtures.sh --dashboard   only fixtures/dashboard*, from the
#                                               checked-in base and failed (no binary)
# Two real host runs (resident-solve tiny-primal, inner-loop tiny-arrow) and an
# outer-seq run, then copies edited with jq into the cases run-report-tests.sh
# asserts. Timing edits scale the primary timing, its phase, the samples and
# the numbers derived from them together, so every copy stays a consistent
# verdict (docs/verdict.schema.json still validates all but the broken ones).
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 BINARY | --dashboard" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
FX="$HERE/fixtures"
cd "$HERE/../.."

# scale(f): every time of the primary phase (and its copy in timing.phases) x f.
SCALE='
def scale_t(f): .median_s *= f | .min_s *= f | .max_s *= f | .q1_s *= f | .q3_s *= f
                | .samples_s |= map(. * f);
def scale(f): .timing |= scale_t(f)
  | .timing.phases.resident |= scale_t(f)
  | .throughput.measured_rows_per_s /= f
  | .throughput.seconds_per_rep *= f
  | .roofline.efficiency /= f
  | if .residency then .residency.resident_s *= f
      | .residency.speedup = .residency.reupload_s / .residency.resident_s else . end;'

# The dashboard's marks (run-dashboard-test.sh, run-report-tests.sh), as /3
# verdicts with created and tool.git, made from base and failed:
#   dashboard/        resident-solve tiny-primal host: 4 dated runs, the 4th 2.37x
#                     the 3rd's time (+137%, what compare flags) and failing RS-002
#                     (exit 1), the 2nd noisy; inner-loop tiny-arrow: 2 runs, the
#                     newest with roofline efficiency 154.8% (suspect); the exit-3
#                     cuda verdict (device null: nothing ran)
#   dashboard-clean/  the same, but the 4th run 1.01x and passing, and the newest
#                     inner-loop as measured (58% efficiency): no FAIL, no suspect,
#                     no change point on a charted number (the negative control)
dashboard_fixtures() {
    local d day
    rm -rf "$FX/dashboard" "$FX/dashboard-clean" # the two folders this function generates
    # run SRC DAY GIT FILTER: SRC as a /3 verdict created DAY at 10:00, built from GIT.
    run() {
        jq "$SCALE"' .schema = "saebench.verdict/3" | .created = "2026-12-\($day)T10:00:00Z"
            | .tool.git = $git | .tool.dirty = ($git | endswith("-dirty")) | '"$4" \
            --arg day "$2" --arg git "$3" "$1"
    }
    RSB=$FX/base/resident-solve-tiny-primal.json
    ILB=$FX/base/inner-loop-tiny-arrow.json
    for d in dashboard dashboard-clean; do
        for day in 01 02 03 04; do mkdir -p "$FX/$d/2026-12-${day}T10-00-00"; done
        run "$RSB" 01 1111aaaa2222 'scale(1)' > "$FX/$d/2026-12-01T10-00-00/resident-solve-tiny-primal.json"
        run "$RSB" 02 3333bbbb4444 'scale(1.03) | .timing.noisy = true' > "$FX/$d/2026-12-02T10-00-00/resident-solve-tiny-primal.json"
        run "$RSB" 03 3333bbbb4444 'scale(1)' > "$FX/$d/2026-12-03T10-00-00/resident-solve-tiny-primal.json"
        run "$ILB" 01 1111aaaa2222 '.' > "$FX/$d/2026-12-01T10-00-00/inner-loop-tiny-arrow.json"
        run "$FX/failed/resident-solve-tiny-primal-cuda-exit3.json" 04 5555cccc6666-dirty '.' \
            > "$FX/$d/2026-12-04T10-00-00/resident-solve-tiny-primal-cuda-exit3.json"
    done
    d=$FX/dashboard/2026-12-04T10-00-00
    run "$RSB" 04 5555cccc6666-dirty 'scale(2.37)
        | (.gates[] | select(.id == "RS-002")) |= (.value = 2e-9 | .pass = false)
        | .verdict = "fail" | .exit_code = 1' > "$d/resident-solve-tiny-primal.json"
    run "$ILB" 04 5555cccc6666-dirty '.roofline.bound_s = 1.548 * .timing.median_s
        | .roofline.bound_rows_per_s = .roofline.bound_rows_per_s * .roofline.efficiency / 1.548
        | .roofline.efficiency = 1.548 | .roofline.suspect = true' > "$d/inner-loop-tiny-arrow.json"
    d=$FX/dashboard-clean/2026-12-04T10-00-00
    run "$RSB" 04 5555cccc6666-dirty 'scale(1.01)' > "$d/resident-solve-tiny-primal.json"
    run "$ILB" 04 5555cccc6666-dirty '.roofline.suspect = false' > "$d/inner-loop-tiny-arrow.json"
}
if [ "$1" = --dashboard ]; then
    dashboard_fixtures
    echo "fixtures written to $FX/dashboard and $FX/dashboard-clean"
    exit 0
fi

BIN=$(realpath "$1")
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT # the scratch folder made above with mktemp

"$BIN" resident-solve --shape tiny-primal --backend host --reps 8 --quiet --out "$TMP/rs.json"
"$BIN" inner-loop --shape tiny-arrow --backend host --reps 8 --quiet --out "$TMP/il.json"
"$BIN" outer-seq --shape tiny-arrow --backend host --reps 8 --quiet --out "$TMP/os.json"
# No GPU here: --backend cuda writes the exit-3 verdict (nothing ran).
"$BIN" resident-solve --shape tiny-primal --backend cuda --reps 8 --quiet --out "$TMP/rs-cuda.json" || [ $? -eq 3 ]

rm -rf "$FX" # the fixture folder this script generates (tracked; regenerated whole)
mkdir -p "$FX"/{base,regression,improvement,noise,gate-flipped,missing,failed,broken}
mkdir -p "$FX/history/2026-11-20T10-00-00" "$FX/history/2026-11-24T10-00-00"

cp "$TMP/rs.json" "$FX/base/resident-solve-tiny-primal.json"
cp "$TMP/il.json" "$FX/base/inner-loop-tiny-arrow.json"
# Not a verdict, in the same directory: skipped by the reader.
printf '{\n  "schema": "saebench.calibration/1",\n  "host": {"ceilings": {"fp64_flops": 1.0e11, "mem_bw": 2.4e10, "dgemm_n": 2048, "copy_bytes": 268435456}}\n}\n' \
    > "$FX/base/calibration.json"

# 30 % slower, samples as tight as the base's: a regression.
jq "$SCALE scale(1.3)" "$TMP/rs.json" > "$FX/regression/resident-solve-tiny-primal.json"
cp "$TMP/il.json" "$FX/regression/inner-loop-tiny-arrow.json"
# 30 % faster: an improvement.
jq "$SCALE scale(0.7)" "$TMP/rs.json" > "$FX/improvement/resident-solve-tiny-primal.json"
# 5 % slower, but this run's own spread is 20 % (rel_iqr): noise. The samples
# are spread so that their quartiles and MAD give the recorded noise fields.
jq "$SCALE scale(1.05)"'
  | .timing.median_s as $m
  | .timing.samples_s = ([0.85, 1.1, 0.9, 1.02, 1.15, 0.9, 0.98, 1.1] | map(. * $m))
  | .timing.min_s = 0.85 * $m | .timing.max_s = 1.15 * $m
  | .timing.q1_s = 0.9 * $m | .timing.q3_s = 1.1 * $m
  | .timing.spread = 0.3 | .timing.rel_iqr = 0.2
  | .timing.rse_median = (1.2533 * 1.4826 * 0.1 / (8 | sqrt))
  | .timing.rel_stdev = 0.1069 | .timing.outliers = 0 | .timing.noisy = true
  | .timing.phases.resident = (.timing | del(.phases, .breakdown_ms, .clock, .max_noise, .min_time_s))' \
    "$TMP/rs.json" > "$FX/noise/resident-solve-tiny-primal.json"
# IL-002 (residency speedup > 1) passed in BASE and fails here: a gate flipped.
jq "$SCALE"' (0.9 * .residency.resident_s / .residency.reupload_s) as $f
  | .timing.phases.reupload |= scale_t($f)
  | .residency.reupload_s = .timing.phases.reupload.median_s
  | .residency.speedup = .residency.reupload_s / .residency.resident_s
  | (.gates[] | select(.id == "IL-002")) |= (.value = 0.9 | .pass = false)
  | .verdict = "fail" | .exit_code = 1' "$TMP/il.json" > "$FX/gate-flipped/inner-loop-tiny-arrow.json"
# inner-loop missing on this side, outer-seq only on this side.
cp "$TMP/rs.json" "$FX/missing/resident-solve-tiny-primal.json"
cp "$TMP/os.json" "$FX/missing/outer-seq-tiny-arrow.json"
# Runs that measured nothing: exit 3 (device required, none), and a host run
# that failed (exit 4) after BASE had measured it.
cp "$TMP/rs-cuda.json" "$FX/failed/resident-solve-tiny-primal-cuda-exit3.json"
jq "$SCALE"' scale(1) | .timing |= (.reps = 0 | .median_s = 0 | .min_s = 0 | .max_s = 0 | .q1_s = 0 | .q3_s = 0
        | .samples_s = [] | .stop_reason = "failed" | .noisy = true | del(.phases))
  | .throughput.measured_rows_per_s = 0 | .throughput.seconds_per_rep = 0 | .roofline.efficiency = null
  | .gates |= map(if .applies then .value = null | .pass = false | .reason = "not evaluated: the run failed" else . end)
  | .verdict = "fail" | .exit_code = 4' "$TMP/rs.json" > "$FX/failed/resident-solve-tiny-primal-exit4.json"

# Two dated run sets: the history chart and the run column.
jq "$SCALE scale(1.1)"' | .created = "2026-11-20T10:00:00Z"' "$TMP/rs.json" \
    > "$FX/history/2026-11-20T10-00-00/resident-solve-tiny-primal.json"
cp "$TMP/il.json" "$FX/history/2026-11-20T10-00-00/inner-loop-tiny-arrow.json"
cp "$TMP/rs.json" "$FX/history/2026-11-24T10-00-00/resident-solve-tiny-primal.json"
jq "$SCALE scale(0.95)" "$TMP/il.json" > "$FX/history/2026-11-24T10-00-00/inner-loop-tiny-arrow.json"

# Unusable input: cut short, a newer schema, a wrong type, a non-finite number.
head -c 700 "$TMP/rs.json" > "$FX/broken/malformed.json"
jq '.schema = "saebench.verdict/5"' "$TMP/rs.json" > "$FX/broken/schema-v5.json"
jq '.timing.median_s = "fast"' "$TMP/rs.json" > "$FX/broken/bad-type.json"
jq -c . "$TMP/rs.json" | sed 's/"rel_iqr":[0-9.e+-]*/"rel_iqr":1e999/' > "$FX/broken/not-finite.json"
dashboard_fixtures
echo "fixtures written to $FX"
