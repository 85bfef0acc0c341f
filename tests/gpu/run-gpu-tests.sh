#!/usr/bin/env bash
# GPU test battery of the CUDA backend (make test-gpu). Needs an NVIDIA GPU, the
# built ./saebench, jq, the direct test programs make builds from tests/gpu/*.c
# into $BUILD/tests/gpu/, and compute-sanitizer. Prints one "ok"/"FAIL" line per
# check, then "N passed, N failed"; exits 1 if anything failed.
#
#   tests/gpu/run-gpu-tests.sh [SAEBENCH_BINARY]      (make test-gpu passes ./saebench)
# Environment: BUILD (the make build directory, default build), CUDA_HOME,
# COMPUTE_SANITIZER, GPU_TEST_REPS / GPU_TEST_WARMUP,
# GPU_TRACE_JSON (where tiled_trace writes its JSON lines),
# GPU_TESTS_PARTS: which parts run, of "checks trace sanitizer" (default all three):
# the GPU battery (scripts/gpu-results.sh) runs the checks in its stage 4, right after
# running tiled_trace itself, and the sanitizer part in its stage 5, so that no part
# runs twice in its one window. A part left out prints one SKIP line.
# GPU_TESTS_STANDIN=1: this script's dry run on the CPU stand-in (TEST-ONLY: make
# test-standin-gpu-script, part of make test-standin). SAEBENCH_BINARY is then the
# stand-in build and GPU_TESTS_BIN_DIR its direct test programs (run quick: their full
# sizes are test-standin-full's own part); each canonical shape is replaced by its small
# substitute (tests/lib/standin-shapes.sh), the execution path expected is the stand-in's,
# and 2 reps after 1 warm-up are the default. Every assertion is the GPU's.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 2
BIN=${1:-./saebench}
BUILD=${BUILD:-build}
if [ -z "${CUDA_HOME:-}" ]; then
    nvcc_path=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
    CUDA_HOME=${nvcc_path%/bin/nvcc}
fi
SANITIZER=${COMPUTE_SANITIZER:-$(command -v compute-sanitizer || echo "$CUDA_HOME/bin/compute-sanitizer")}
PARTS_SHOWN=${GPU_TESTS_PARTS:-checks trace sanitizer}
PARTS=" $PARTS_SHOWN "
want() { [[ $PARTS == *" $1 "* ]]; }
for part in $PARTS; do
    case $part in checks | trace | sanitizer) ;; *)
        echo "run-gpu-tests: GPU_TESTS_PARTS: unknown part '$part' (checks, trace, sanitizer)" >&2
        exit 2
        ;;
    esac
done
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT # the scratch folder made above with mktemp
STANDIN=${GPU_TESTS_STANDIN:-0}
if [ "$STANDIN" = 1 ]; then
    REPS=${GPU_TEST_REPS:-2}
    WARMUP=${GPU_TEST_WARMUP:-1}
    PATH_EXPECTED=stand-in-gpu-resident-full
    DIRECT_ARGS=(quick)
    # shellcheck source=tests/lib/standin-shapes.sh
    . "$ROOT/tests/lib/standin-shapes.sh"
    CAL_ARGS=(--calibration "$TMP/calibration.json")
    sb_fixed_calibration "$TMP/calibration.json" "dry run: fixed ceilings, not measured"
else
    REPS=${GPU_TEST_REPS:-5}
    WARMUP=${GPU_TEST_WARMUP:-2}
    PATH_EXPECTED=gpu-resident-full
    DIRECT_ARGS=()
    CAL_ARGS=()
fi

# canon NAME: "SHAPE N P" for a canonical shape: NAME itself on a GPU, its small substitute
# on the stand-in; N and P from the shape file, which the verdict's shape must agree with
canon() {
    local path=$1
    if [ "$STANDIN" = 1 ]; then path=$(sb_standin_shape "$ROOT" "$TMP" "$1") || return 1; fi
    local file=$path
    [ -f "$file" ] || file=shapes/$path.json
    echo "$path $(jq -r '"\(.n) \(.p)"' "$file")"
}
# canon_path NAME: the SHAPE of canon
canon_path() { local c; c=$(canon "$1") && echo "${c%% *}"; }

pass=0
fail=0
ok() { printf 'ok   %s\n' "$*"; pass=$((pass + 1)); }
bad() { printf 'FAIL %s\n' "$*"; fail=$((fail + 1)); }
# expect DESCRIPTION COMMAND...: ok if the command succeeds
expect() { local d=$1; shift; if "$@"; then ok "$d"; else bad "$d"; fi; }
# jqt FILE FILTER: true if FILTER yields true on FILE
jqt() { jq -e "$2" "$1" >/dev/null 2>&1; }
last_err() { tail -n 3 "$1" 2>/dev/null | tr '\n' ' '; }

# The direct test programs are built by make (make test-gpu: $BUILD/tests/gpu/NAME,
# with the Makefile's flags, against the objects ./saebench was built from).
GPU_BIN=${GPU_TESTS_BIN_DIR:-$BUILD/tests/gpu}
build_gpu_test() {
    [ -x "$GPU_BIN/$1" ] || { echo "no $GPU_BIN/$1 (run make test-gpu, which builds it)"; return 1; }
}

# ---------------- telemetry accounting: the one place to adjust ----------------
# Solves per resident-solve run: the w0 parity solve + the profile solve +
# the warm-up solves + the timed solves.
total_solves() { local warmup=$1 reps=$2; echo $((1 + 1 + warmup + reps)); }
# h2d: X once (n·p·8) + rhs once (p·8) + w every solve (n·8);
#      --reupload: X again every solve (n·p·8).
expected_h2d() {
    local n=$1 p=$2 total=$3 reupload=$4
    echo $((n * p * 8 + p * 8 + n * 8 * total + reupload * n * p * 8 * total))
}
# d2h: β every solve (p·8) + each solve's 4-byte info slot, downloaded once by check().
expected_d2h() {
    local n=$1 p=$2 total=$3
    echo $((p * 8 * total + 4 * total))
}
# cuBLAS + cuSOLVER handle, once per run
EXPECTED_HANDLES=2
# With --reupload the orchestrator also times a separate reupload state
# (verdict .residency.reupload_telemetry): warm-up + timed solves only (no w0,
# no profile solve), and X is re-sent every solve.
total_solves_reupload() { local warmup=$1 reps=$2; echo $((warmup + reps)); }
# --------------------------------------------------------------------------------

# name n p (the verdict's .shape.n/.shape.p must agree)
SHAPES=(
    "tiny-primal 64 32"
    "tiny-dual 32 64"
)
for s in sae-2k-2048 sae-4k-4096 sae-8k-1024; do SHAPES+=("$(canon "$s")"); done
read -r SAE_2K N_2K P_2K <<<"$(canon sae-2k-2048)"
read -r SAE_8K N_8K P_8K <<<"$(canon sae-8k-1024)"
FACTORS=(library blocked)
# Mid-sized shapes from tiny-primal.json: several 64-row blocks with a partial
# last one (N = 200), cheap enough for compute-sanitizer.
MID_PRIMAL="$TMP/gpu-mid-primal.json"
MID_DUAL="$TMP/gpu-mid-dual.json"
jq '.name = "gpu-mid-primal" | .n = 300 | .p = 200 | .description = "GPU test: 4 row blocks of 64, partial last"' shapes/tiny-primal.json >"$MID_PRIMAL" 2>/dev/null
jq '.name = "gpu-mid-dual" | .n = 200 | .p = 300 | .description = "GPU test: 4 row blocks of 64, partial last"' shapes/tiny-primal.json >"$MID_DUAL" 2>/dev/null
SHAPES+=("$MID_PRIMAL 300 200" "$MID_DUAL 200 300")

command -v jq >/dev/null || bad "setup: jq not found"
if [ ! -x "$BIN" ]; then
    bad "setup: $BIN not built"
    printf '%d passed, %d failed\n' "$pass" "$fail"
    exit 1
fi

# resident_case SHAPE N P METHOD FACTOR REUPLOAD(0|1)
resident_case() {
    local shape=$1 n=$2 p=$3 method=$4 factor=$5 reupload=$6
    local name="${shape##*/} $method $factor" path=$PATH_EXPECTED
    local args=(--shape "$shape" --backend cuda --method "$method" --factor "$factor"
        --require-device --reps "$REPS" --warmup "$WARMUP")
    if [ "$reupload" = 1 ]; then
        name="$name reupload"
        args+=(--reupload)
    fi
    local tag=${name// /_}
    local out="$TMP/$tag.json" err="$TMP/$tag.err"
    "$BIN" resident-solve "${args[@]}" "${CAL_ARGS[@]}" --out "$out" --quiet 2>"$err"
    local rc=$?
    if [ "$rc" -ne 0 ]; then
        bad "$name: exit $rc, want 0: $(last_err "$err")"
        return
    fi
    if [ ! -s "$out" ]; then
        bad "$name: exit 0 but no verdict at $out"
        return
    fi
    local rows
    rows=$(jq -r '.throughput.measured_rows_per_s // "?"' "$out" 2>/dev/null)
    ok "$name: exit 0 ($rows rows/s)"
    expect "$name: engaged" jqt "$out" '.engaged == true'
    expect "$name: exit_code 0 in verdict" jqt "$out" '.exit_code == 0'
    expect "$name: parity pass, rel_err < 1e-9 ($(jq -r '.parity.rel_err' "$out"))" \
        jqt "$out" '.parity.pass == true and (.parity.rel_err | type) == "number" and .parity.rel_err < 1e-9'
    expect "$name: execution_path $path ($(jq -r '.execution_path' "$out"))" \
        jqt "$out" ".execution_path == \"$path\""
    expect "$name: shape n=$n p=$p" jqt "$out" ".shape.n == $n and .shape.p == $p"
    expect "$name: timing reps=$REPS warmup=$WARMUP" \
        jqt "$out" ".timing.reps == $REPS and .timing.warmup == $WARMUP"

    check_telemetry "$name" "$out" .telemetry "$n" "$p" "$(total_solves "$WARMUP" "$REPS")" 0
    if [ "$reupload" = 1 ]; then
        expect "$name: residency speedup reported ($(jq -r '.residency.speedup' "$out"))" \
            jqt "$out" '(.residency.speedup | type) == "number" and .residency.speedup > 0'
        check_telemetry "$name (reupload state)" "$out" .residency.reupload_telemetry "$n" "$p" \
            "$(total_solves_reupload "$WARMUP" "$REPS")" 1
    fi
}

# check_telemetry NAME VERDICT JQ_PATH N P SOLVES REUPLOAD(0|1)
check_telemetry() {
    local name=$1 out=$2 at=$3 n=$4 p=$5 total=$6 reupload=$7
    local h2d d2h got
    h2d=$(expected_h2d "$n" "$p" "$total" "$reupload")
    d2h=$(expected_d2h "$n" "$p" "$total")
    got=$(jq -r "$at.h2d_bytes" "$out")
    if [ "$got" = "$h2d" ]; then ok "$name: h2d_bytes $got"; else
        bad "$name: h2d_bytes $got, expected $h2d (n=$n p=$p solves=$total reupload=$reupload)"; fi
    got=$(jq -r "$at.d2h_bytes" "$out")
    if [ "$got" = "$d2h" ]; then ok "$name: d2h_bytes $got"; else
        bad "$name: d2h_bytes $got, expected $d2h (n=$n p=$p solves=$total)"; fi
    got=$(jq -r "$at.factorizations" "$out")
    if [ "$got" = "$total" ]; then ok "$name: factorizations $got"; else
        bad "$name: factorizations $got, expected $total"; fi
    got=$(jq -r "$at.handle_creations" "$out")
    if [ "$got" = "$EXPECTED_HANDLES" ]; then ok "$name: handle_creations $got"; else
        bad "$name: handle_creations $got, expected $EXPECTED_HANDLES"; fi
}

if want checks; then
# ---- 1. every shape × method × factor on the device ----
for entry in "${SHAPES[@]}"; do
    read -r shape n p <<<"$entry"
    for factor in "${FACTORS[@]}"; do
        resident_case "$shape" "$n" "$p" primal "$factor" 0
        if [ "$n" -le "$p" ]; then
            resident_case "$shape" "$n" "$p" dual "$factor" 0
        fi
    done
done
# the residency baseline beside the resident run: X re-sent every solve
resident_case "$SAE_2K" "$N_2K" "$P_2K" primal library 1
resident_case "$SAE_2K" "$N_2K" "$P_2K" dual blocked 1
resident_case "$MID_DUAL" 200 300 dual library 1

# ---- 1b. --precision mixed: FP32 factor, FP64 refinement on the device ----
# mixed_case SHAPE N P METHOD
mixed_case() {
    local shape=$1 n=$2 p=$3 method=$4
    local name="${shape##*/} $method mixed" tag="${shape##*/}_${method}_mixed"
    local out="$TMP/$tag.json" err="$TMP/$tag.err"
    "$BIN" resident-solve --shape "$shape" --backend cuda --method "$method" --precision mixed \
        --require-device --reps "$REPS" --warmup "$WARMUP" "${CAL_ARGS[@]}" --out "$out" --quiet 2>"$err"
    local rc=$?
    if [ "$rc" -ne 0 ] || [ ! -s "$out" ]; then
        bad "$name: exit $rc, want 0 and a verdict: $(last_err "$err")"
        return
    fi
    ok "$name: exit 0 ($(jq -r '.throughput.measured_rows_per_s' "$out") rows/s)"
    expect "$name: engaged, parity vs the FP64 oracle < 1e-9 ($(jq -r '.parity.rel_err' "$out"))" \
        jqt "$out" '.engaged == true and .parity.pass == true and .parity.rel_err < 1e-9'
    expect "$name: every timed rep ran mixed, none fell back ($(jq -c '.precision.refinement_iterations' "$out"))" \
        jqt "$out" ".precision.used == \"mixed\" and .precision.mixed_reps == $REPS and .precision.fallback_reps == 0"
    local total
    total=$(total_solves "$WARMUP" "$REPS")
    expect "$name: one FP32 factorization per solve, no FP64 one" \
        jqt "$out" ".telemetry.factorizations == $total"
    expect "$name: h2d is w per solve only ($(jq -r '.telemetry.h2d_bytes' "$out"))" \
        jqt "$out" ".telemetry.h2d_bytes == $(expected_h2d "$n" "$p" "$total" 0)"
    expect "$name: d2h is beta and the 8-byte status per solve ($(jq -r '.telemetry.d2h_bytes' "$out"))" \
        jqt "$out" ".telemetry.d2h_bytes >= $(expected_d2h "$n" "$p" "$total") + 8 * $total"
}
mixed_case tiny-primal 64 32 primal
mixed_case tiny-dual 32 64 dual
mixed_case "$MID_PRIMAL" 300 200 primal
mixed_case "$MID_DUAL" 200 300 dual
mixed_case "$SAE_2K" "$N_2K" "$P_2K" dual
mixed_case "$SAE_8K" "$N_8K" "$P_8K" primal

# ---- 2. no device visible ----
# hidden NAME WANT_EXIT ARGS...: run tiny-primal with no device visible; the
# verdict path is left in HIDDEN_OUT
HIDDEN_OUT=
hidden() {
    local name=$1 want=$2; shift 2
    HIDDEN_OUT="$TMP/hidden-$name.json"
    local err="$TMP/hidden-$name.err"
    CUDA_VISIBLE_DEVICES='' "$BIN" resident-solve --shape tiny-primal "$@" "${CAL_ARGS[@]}" --out "$HIDDEN_OUT" --quiet \
        2>"$err"
    local rc=$?
    if [ "$rc" -eq "$want" ]; then ok "hidden device, $name: exit $rc"; else
        bad "hidden device, $name: exit $rc, want $want: $(last_err "$err")"; fi
}
hidden require-device 3 --require-device
expect "hidden device, --require-device: verdict says engaged false" jqt "$HIDDEN_OUT" '.engaged == false'
hidden cuda-require-device 3 --backend cuda --require-device
expect "hidden device, --backend cuda --require-device: engaged false" jqt "$HIDDEN_OUT" '.engaged == false'
hidden auto 0 --backend auto
expect "hidden device, --backend auto: ran on host ($(jq -r '.backend' "$HIDDEN_OUT" 2>/dev/null))" \
    jqt "$HIDDEN_OUT" '.backend == "host"'

# ---- 3. direct backend test (partial blocks, failure paths, exact telemetry) ----
# run_counted LABEL COMMAND...: relay a test program's ok/FAIL lines into the totals
run_counted() {
    local label=$1; shift
    local log="$TMP/${label// /_}.log"
    "$@" >"$log" 2>&1
    local rc=$?
    while IFS= read -r line; do
        case $line in
        "ok "*) ok "$label: ${line#ok }" ;;
        "FAIL "*) bad "$label: ${line#FAIL }" ;;
        esac
    done <"$log"
    if [ "$rc" -eq 0 ]; then ok "$label: exit 0"; else bad "$label: exit $rc: $(last_err "$log")"; fi
}
for prog in rs_backend_test arrow_backend_test; do
    if build_gpu_test "$prog" >"$TMP/build-$prog.log" 2>&1; then
        ok "$prog: built"
        run_counted "$prog" "$GPU_BIN/$prog" "${DIRECT_ARGS[@]}"
    else
        bad "$prog: build failed: $(last_err "$TMP/build-$prog.log")"
    fi
done
if [ -x "$GPU_BIN/arrow_backend_test" ]; then
    CUDA_VISIBLE_DEVICES='' run_counted "arrow_backend_test nodevice" "$GPU_BIN/arrow_backend_test" nodevice
fi

# ---- 3b. inner-loop and outer-seq through the CLI on the device ----
# Exit 0, or 1 when only a performance gate failed (IL-002 residency speedup,
# which a tiny frame need not reach, or IL-004, the ms target); never 2/3
# (input, no device). The gates named per shape must pass.
# gate_pass VERDICT ID: the gate applies and passes
gate_pass() { jqt "$1" ".gates[] | select(.id == \"$2\") | .applies and .pass"; }
arrow_cli_case() {
    local cmd=$1 shape=$2; shift 2
    local name="$cmd ${shape##*/} cuda" out="$TMP/$cmd-${shape##*/}.json" err="$TMP/$cmd-${shape##*/}.err"
    "$BIN" "$cmd" --shape "$shape" --backend cuda --require-device --reps "$REPS" --warmup "$WARMUP" \
        "${CAL_ARGS[@]}" --out "$out" --quiet 2>"$err"
    local rc=$?
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
        bad "$name: exit $rc, want 0 or 1: $(last_err "$err")"
        return
    fi
    ok "$name: exit $rc"
    expect "$name: engaged" jqt "$out" '.engaged == true'
    local g
    for g in "$@"; do
        expect "$name: gate $g passes" gate_pass "$out" "$g"
    done
    if [ "$rc" -eq 1 ]; then
        expect "$name: exit 1 only from a performance gate" \
            jqt "$out" '[.gates[] | select(.applies and (.pass | not)) | .id] - ["IL-002", "IL-004"] == []'
    fi
}
for shp in tiny-arrow tiny-arrow-d1 tiny-arrow-d3; do
    arrow_cli_case inner-loop "$shp" IL-001 IL-003
    arrow_cli_case outer-seq "$shp" OS-001 OS-002 OS-003
done
# The residency gate (IL-002, docs/workloads.md §2 Gates) applies to the canonical shapes
for shp in qwen color-arm; do
    shp=$(canon_path "$shp")
    arrow_cli_case inner-loop "$shp" IL-001 IL-002 IL-003
    arrow_cli_case outer-seq "$shp" OS-001 OS-002 OS-003
done

# ---- 3c. multiplex through the CLI on the device ----
# One host thread and one stream per fit in flight. Every fit must match its
# sequential run bit for bit (MX-001) and the dense oracle (MX-003); exit 1
# only from MX-002, the speedup (microsecond fits of the tiny matrix need not
# gain; color-arm-variants is gated at the H100 target, 3x).
# mx_cli_case SHAPE TAG REPS WARMUP [ARGS...]: one rep is a whole-matrix sweep
mx_cli_case() {
    local shape=$1 tag=$2 reps=$3 warmup=$4; shift 4
    local name="multiplex ${shape##*/} cuda $tag" out="$TMP/multiplex-${shape##*/}-$tag.json"
    local err="$TMP/multiplex-${shape##*/}-$tag.err"
    "$BIN" multiplex --shape "$shape" --backend cuda --require-device --reps "$reps" --warmup "$warmup" "$@" \
        "${CAL_ARGS[@]}" --out "$out" --quiet 2>"$err"
    local rc=$?
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
        bad "$name: exit $rc, want 0 or 1: $(last_err "$err")"
        return
    fi
    ok "$name: exit $rc"
    expect "$name: engaged" jqt "$out" '.engaged == true'
    expect "$name: gate MX-001 passes (every fit bit-identical)" gate_pass "$out" MX-001
    expect "$name: gate MX-003 passes (dense oracle)" gate_pass "$out" MX-003
    expect "$name: one host thread and one stream per fit in flight" \
        jqt "$out" '.concurrency >= 1 and .multiplexing.streams == .concurrency and .multiplexing.host_threads == .concurrency'
    expect "$name: device memory estimate within the free memory" \
        jqt "$out" '.memory.device_bytes_estimate <= .memory.device_free_bytes_at_start'
    if [ "$rc" -eq 1 ]; then
        expect "$name: exit 1 only from MX-002" \
            jqt "$out" '[.gates[] | select(.applies and (.pass | not)) | .id] - ["MX-002"] == []'
    fi
}
mx_cli_case tiny-variants default "$REPS" "$WARMUP"
mx_cli_case tiny-variants c8 "$REPS" "$WARMUP" --concurrency 8
mx_cli_case "$(canon_path color-arm-variants)" target 2 1 --gate MX-002=3
# fits in flight that device memory cannot hold are refused before any work:
# 24 fits with a 20000 x 20000 H_bb (3.2 GB each: 77 GB of host memory) need
# about 6.5 GB each on the device: 24 in flight (156 GB) fit neither an H100 nor an H200.
# On the stand-in, whose machine may have less host memory than that: 4000 x 4000 (3 GB
# of host memory in all) against 1 GiB of device memory left free (STANDIN_DEVICE_FREE_MB)
if [ "$STANDIN" = 1 ]; then MX_BIG_P=4000 MX_BIG_ENV=(STANDIN_DEVICE_FREE_MB=1024); else MX_BIG_P=20000 MX_BIG_ENV=(); fi
mx_big="$TMP/mx-big.json"
{
    printf '['
    for i in $(seq 0 23); do
        [ "$i" -gt 0 ] && printf ','
        printf '{"name": "big%d", "n": 1, "p": %d, "d": 1, "basis_cols": 1, "seed": %d}' "$i" "$MX_BIG_P" "$i"
    done
    printf ']'
} >"$mx_big"
env "${MX_BIG_ENV[@]}" "$BIN" multiplex --variants "$mx_big" --backend cuda --require-device --concurrency 24 \
    --oracle-sample 1 --out "$TMP/mx-big-verdict.json" 2>"$TMP/mx-big.err"
mx_rc=$?
if [ "$mx_rc" -eq 2 ] && grep -q "of device memory" "$TMP/mx-big.err" && [ ! -e "$TMP/mx-big-verdict.json" ]; then
    ok "multiplex --concurrency 24 beyond device memory: exit 2, no verdict"
else
    bad "multiplex --concurrency 24 beyond device memory: exit $mx_rc: $(last_err "$TMP/mx-big.err")"
fi

else
    echo "SKIP the checks (sections 1 to 3c): GPU_TESTS_PARTS is '$PARTS_SHOWN'"
fi

# ---- 3d. tiled_trace ----
# The tiled factor at N = 1024, 2000 and 4000 beside cuSOLVER Xpotrf, parity, and one
# traced launch (tests/gpu/tiled_trace.c); the JSON lines go to $GPU_TRACE_JSON
# (scripts/gpu-results.sh runs tiled_trace itself first and keeps its JSON under results/).
if ! want trace; then
    echo "SKIP tiled_trace: GPU_TESTS_PARTS is '$PARTS_SHOWN'"
elif build_gpu_test tiled_trace >"$TMP/build-tiled_trace.log" 2>&1; then
    ok "tiled_trace: built"
    run_counted "tiled_trace" "$GPU_BIN/tiled_trace" --json "${GPU_TRACE_JSON:-$TMP/tiled-trace.json}"
    grep -E '^     (N=|gram )' "$TMP/tiled_trace.log"
else
    bad "tiled_trace: build failed: $(last_err "$TMP/build-tiled_trace.log")"
fi

# ---- 4. compute-sanitizer ----
sanitize() {
    local tool=$1 name=$2; shift 2
    local log="$TMP/san-$tool-${name// /_}.log"
    "$SANITIZER" --tool "$tool" --error-exitcode 9 "$@" >"$log" 2>&1
    local rc=$?
    if [ "$rc" -eq 0 ]; then ok "compute-sanitizer $tool, $name: exit 0"; else
        bad "compute-sanitizer $tool, $name: exit $rc: $(grep -m 2 -E 'ERROR|=========' "$log" | tr '\n' ' ')$(last_err "$log")"; fi
}
if ! want sanitizer; then
    echo "SKIP compute-sanitizer: GPU_TESTS_PARTS is '$PARTS_SHOWN'"
elif [ -x "$SANITIZER" ]; then
    small=(--backend cuda --reps 2 --warmup 1 --quiet --out "$TMP/san.json")
    sanitize memcheck "tiny-primal" "$BIN" resident-solve --shape tiny-primal "${small[@]}"
    sanitize memcheck "tiny-dual dual" "$BIN" resident-solve --shape tiny-dual --method dual "${small[@]}"
    sanitize memcheck "tiny-primal blocked" "$BIN" resident-solve --shape tiny-primal --factor blocked "${small[@]}"
    sanitize memcheck "tiny-dual dual blocked" "$BIN" resident-solve --shape tiny-dual --method dual --factor blocked "${small[@]}"
    # several chained row blocks, partial last block
    sanitize memcheck "mid primal blocked" "$BIN" resident-solve --shape "$MID_PRIMAL" --method primal --factor blocked "${small[@]}"
    sanitize memcheck "mid dual blocked" "$BIN" resident-solve --shape "$MID_DUAL" --method dual --factor blocked "${small[@]}"
    # the tiled factor (chain tasks, partial last tile) and the Gram kernel, both methods
    sanitize memcheck "mid primal tiled" "$BIN" resident-solve --shape "$MID_PRIMAL" --method primal --factor tiled "${small[@]}"
    sanitize memcheck "mid dual tiled" "$BIN" resident-solve --shape "$MID_DUAL" --method dual --factor tiled "${small[@]}"
    sanitize racecheck "mid dual tiled" "$BIN" resident-solve --shape "$MID_DUAL" --method dual --factor tiled "${small[@]}"
    # 32 chained row blocks, partial last block
    sanitize memcheck "sae-2k-2048 dual blocked" "$BIN" resident-solve --shape "$SAE_2K" --method dual \
        --factor blocked --backend cuda --reps 1 --warmup 0 --quiet --out "$TMP/san.json"
    if [ -x "$GPU_BIN/rs_backend_test" ]; then
        sanitize memcheck "rs_backend_test quick" "$GPU_BIN/rs_backend_test" quick
        sanitize racecheck "rs_backend_test quick" "$GPU_BIN/rs_backend_test" quick
        sanitize synccheck "rs_backend_test quick" "$GPU_BIN/rs_backend_test" quick
    fi
    if [ -x "$GPU_BIN/arrow_backend_test" ]; then
        sanitize memcheck "arrow_backend_test quick" "$GPU_BIN/arrow_backend_test" quick
        sanitize racecheck "arrow_backend_test quick" "$GPU_BIN/arrow_backend_test" quick
        sanitize synccheck "arrow_backend_test quick" "$GPU_BIN/arrow_backend_test" quick
        sanitize initcheck "arrow_backend_test quick" "$GPU_BIN/arrow_backend_test" quick
    fi
else
    bad "compute-sanitizer not found (set COMPUTE_SANITIZER)"
fi

printf '%d passed, %d failed\n' "$pass" "$fail"
[ "$fail" -eq 0 ]
