#!/usr/bin/env bash
# The CUDA backend (cuda/*.cu, compiled with g++ against the CPU stand-in:
# tests/standin/standin-build.mk) run end to end through the CLI (make
# test-standin; part of make test). Exact telemetry per docs/verdict.md and the
# accounting of tests/gpu/run-gpu-tests.sh; parity gates; the honesty rule (a
# stand-in verdict never reads as a device measurement; the shipped binary
# carries nothing of the stand-in).
# usage: tests/standin/run-standin-tests.sh STANDIN_BINARY [SHIPPED_BINARY]
# Environment: STANDIN_TESTS, the folder of the direct test programs built
# against the stand-in (default: tests/ beside STANDIN_BINARY).
set -u

SHIPPED=${2:-}
# shellcheck source=tests/lib/battery.sh
. "$(dirname "$0")/../lib/battery.sh"
sb_battery_bin "$1"
TESTS_DIR=$(realpath "${STANDIN_TESTS:-$(dirname "$BIN")/tests}" 2>/dev/null || echo "${STANDIN_TESTS:-}")
sb_battery_setup standin numpy
[ -z "$SHIPPED" ] || SHIPPED=$(realpath "$SHIPPED")
REPS=2
WARMUP=1

RS=("$BIN" resident-solve --backend cuda --require-device --reps "$REPS" --warmup "$WARMUP"
    --calibration "$CAL" --quiet)

echo "== saebench stand-in tests: $BIN"

# ---- telemetry accounting (tests/gpu/run-gpu-tests.sh, "the one place to adjust") ----
# Solves per resident-solve run: w0 parity + profile + warm-up + timed.
total_solves() { echo $((1 + 1 + $1 + $2)); }
# h2d: X once (n·p·8) + rhs once (p·8) + w every solve (n·8); --reupload: X every solve.
expected_h2d() { echo $(($1 * $2 * 8 + $2 * 8 + $1 * 8 * $3 + $4 * $1 * $2 * 8 * $3)); }
# d2h: β every solve (p·8) + each solve's 4-byte info slot.
expected_d2h() { echo $(($2 * 8 * $3 + 4 * $3)); }
# Per solve, from cuda/rs_backend.cu (its telemetry comment and the factor ops):
#   build:  primal scale_cols + add_diag (2 own) and DSYRK (1 lib); dual dual_shift (1 own)
#   beta:   dual DGEMV (1 lib)
#   library factor/solve: Xpotrf + Xpotrs (2 lib)
#   blocked (B = ceil(N/64) blocks): B chol_diag (own) + (B-1)·(DTRSM + DSYRK) (lib),
#           chained solve 2 own, rs_info_commit 1 own
#   tiled: one persistent launch factors (primal: builds the Gram too), bwd
#           chained solve, rs_info_commit; dual also dual_shift (own)
#   create: dual DSYRK for K + DGEMV for v (2 lib; with --reupload again every solve)
# own_per METHOD FACTOR N / lib_per METHOD FACTOR N / lib_create METHOD
own_per() {
    local b=$((($3 + 63) / 64)) build=2
    [ "$1" = dual ] && build=1
    case $2 in library) echo "$build" ;; blocked) echo $((build + b + 3)) ;;
    tiled) echo $((build == 2 ? 3 : 4)) ;; esac # primal: tiled_gram (the build), bwd, info_commit
}
lib_per() {
    local b=$((($3 + 63) / 64)) build=1
    [ "$1" = dual ] && build=1 # primal DSYRK, dual DGEMV of beta
    case $2 in library) echo $((build + 2)) ;; blocked) echo $((build + 2 * (b - 1))) ;;
    tiled) if [ "$1" = dual ]; then echo 1; else echo 0; fi ;; esac # the Gram is in the launch
}
lib_create() { if [ "$1" = dual ]; then echo 2; else echo 0; fi; }

# check_telemetry NAME VERDICT JQ_PATH N P SOLVES REUPLOAD METHOD FACTOR
check_telemetry() {
    local name=$1 out=$2 at=$3 n=$4 p=$5 total=$6 re=$7 method=$8 factor=$9
    local N=$p
    [ "$method" = dual ] && N=$n
    local own=$(($(own_per "$method" "$factor" "$N") * total))
    local lib=$(($(lib_per "$method" "$factor" "$N") * total + $(lib_create "$method")))
    # --reupload, dual: K and v are rebuilt every solve (DSYRK + DGEMV)
    [ "$method" = dual ] && lib=$((lib + re * 2 * total))
    check "$name: telemetry h2d $(expected_h2d "$n" "$p" "$total" "$re") d2h $(expected_d2h "$n" "$p" "$total") factorizations $total handles 2 own $own library $lib" \
        "$out" "$at | .h2d_bytes == $(expected_h2d "$n" "$p" "$total" "$re") and .d2h_bytes == $(expected_d2h "$n" "$p" "$total")
            and .factorizations == $total and .handle_creations == 2 and .own_kernel_launches == $own
            and .library_calls == $lib"
}

# rs_case SHAPE N P METHOD FACTOR [EXTRA ARGS...]
rs_case() {
    local shape=$1 n=$2 p=$3 method=$4 factor=$5
    shift 5
    local tag=${shape##*/}
    tag=${tag%.json}
    local name="$tag $method $factor${*:+ $*}" out="$WORK/rs-$tag-$method-$factor${*:+-x}.json"
    expect_exit 0 "$name: exit 0" -- "${RS[@]}" --shape "$shape" --method "$method" --factor "$factor" "$@" --out "$out" || {
        sed -n '1,6p' "$ERR"
        return
    }
    check "$name: engaged on the stand-in, execution_path says so" "$out" \
        '.engaged == true and .exit_code == 0 and .execution_path == "stand-in-gpu-resident-full"
         and (.device.name | test("stand-in.*not a GPU"))'
    check "$name: parity gates RS-001, RS-002 pass ($(jq -r .parity.rel_err "$out"))" "$out" \
        '.parity.pass == true and .parity.rel_err < 1e-9
         and ([.gates[] | select(.id == "RS-001" or .id == "RS-002") | .applies and .pass] == [true, true])'
    check "$name: shape n=$n p=$p, reps $REPS warmup $WARMUP" "$out" \
        ".shape.n == $n and .shape.p == $p and .timing.reps == $REPS and .timing.warmup == $WARMUP"
    local total
    total=$(total_solves "$WARMUP" "$REPS")
    check_telemetry "$name" "$out" .telemetry "$n" "$p" "$total" 0 "$method" "$factor"
    check "$name: frame_builds 1" "$out" '.telemetry.frame_builds == 1'
    valid "$name: verdict validates" "$out"
}

# ---- 1. resident-solve, FP64, every factor variant ----
for f in library blocked tiled; do
    rs_case tiny-primal 64 32 primal "$f"
    rs_case tiny-dual 32 64 dual "$f"
done

# ---- 1b. mid-size shapes: several 64-row blocks and a partial last one (N = 200:
# 3 full blocks + 8 rows), every factor variant, primal and dual, exact telemetry ----
MID_PRIMAL="$WORK/mid-primal.json"
MID_DUAL="$WORK/mid-dual.json"
jq '.name = "mid-primal" | .n = 300 | .p = 200 | .description = "stand-in test: 4 row blocks of 64, partial last"' \
    shapes/tiny-primal.json >"$MID_PRIMAL"
jq '.name = "mid-dual" | .n = 200 | .p = 300 | .description = "stand-in test: 4 row blocks of 64, partial last"' \
    shapes/tiny-primal.json >"$MID_DUAL"
for f in library blocked tiled; do
    rs_case "$MID_PRIMAL" 300 200 primal "$f"
    rs_case "$MID_DUAL" 200 300 dual "$f"
done

# ---- 2. --reupload: the separate reupload state (warm-up + timed solves, X every solve) ----
reupload_case() {
    local shape=$1 n=$2 p=$3 method=$4 factor=$5
    local tag=${shape##*/}
    tag=${tag%.json}
    local name="$tag $method $factor --reupload" out="$WORK/re-$tag-$method-$factor.json"
    expect_exit 0 "$name: exit 0" -- "${RS[@]}" --shape "$shape" --method "$method" --factor "$factor" --reupload --out "$out" || {
        sed -n '1,6p' "$ERR"
        return
    }
    check "$name: parity passes, residency speedup reported" "$out" \
        '.parity.pass == true and (.residency.speedup | type) == "number" and .residency.speedup > 0'
    check_telemetry "$name (resident state)" "$out" .telemetry "$n" "$p" "$(total_solves "$WARMUP" "$REPS")" 0 "$method" "$factor"
    check_telemetry "$name (reupload state)" "$out" .residency.reupload_telemetry "$n" "$p" $((WARMUP + REPS)) 1 "$method" "$factor"
}
reupload_case tiny-primal 64 32 primal library
reupload_case tiny-dual 32 64 dual blocked
reupload_case "$MID_DUAL" 200 300 dual library

# ---- 3. --precision mixed (FP32 factor, FP64 refinement on the device) ----
mixed_case() {
    local shape=$1 n=$2 p=$3 method=$4
    local tag=${shape##*/}
    tag=${tag%.json}
    local name="$tag $method mixed" out="$WORK/mixed-$tag.json" total
    total=$(total_solves "$WARMUP" "$REPS")
    expect_exit 0 "$name: exit 0" -- "${RS[@]}" --shape "$shape" --method "$method" --precision mixed --out "$out" || {
        sed -n '1,6p' "$ERR"
        return
    }
    check "$name: engaged, parity < 1e-9 ($(jq -r .parity.rel_err "$out")), every timed rep mixed, none fell back" "$out" \
        ".engaged == true and .parity.pass == true and .parity.rel_err < 1e-9 and .precision.used == \"mixed\"
         and .precision.mixed_reps == $REPS and .precision.fallback_reps == 0"
    check "$name: one FP32 factorization per solve, h2d w per solve, d2h beta + info + 8-byte status per solve" "$out" \
        ".telemetry.factorizations == $total and .telemetry.h2d_bytes == $(expected_h2d "$n" "$p" "$total" 0)
         and .telemetry.d2h_bytes == $(expected_d2h "$n" "$p" "$total") + 8 * $total"
}
mixed_case tiny-primal 64 32 primal
mixed_case tiny-dual 32 64 dual
mixed_case "$MID_PRIMAL" 300 200 primal
mixed_case "$MID_DUAL" 200 300 dual

# ---- 4. inner-loop and outer-seq (arrow-Schur kernels) ----
arrow_case() {
    local cmd=$1 shape=${2:-tiny-arrow}
    local tag=${shape##*/}
    tag=${tag%.json}
    local out="$WORK/$cmd-$tag.json"
    expect_exit 0 "$cmd $tag cuda: exit 0" -- "$BIN" "$cmd" --shape "$shape" --backend cuda --require-device \
        --reps "$REPS" --warmup "$WARMUP" --calibration "$CAL" --quiet --out "$out" || {
        sed -n '1,6p' "$ERR"
        return
    }
    check "$cmd $tag: engaged on the stand-in, parity passes, every applicable gate passes" "$out" \
        '.engaged == true and .execution_path == "stand-in-gpu-resident-full" and .parity.pass == true
         and ([.gates[] | select(.applies) | .pass] | all) and .telemetry.own_kernel_launches > 0'
    valid "$cmd $tag: verdict validates" "$out"
}
arrow_case inner-loop
arrow_case outer-seq
# mid-size: n = 150 row blocks (d = 2), a 200 x 200 Schur complement
MID_ARROW="$WORK/mid-arrow.json"
jq '.name = "mid-arrow" | .n = 150 | .p = 200 | .description = "stand-in test: mid-size arrow"' \
    shapes/tiny-arrow.json >"$MID_ARROW"
arrow_case inner-loop "$MID_ARROW"
arrow_case outer-seq "$MID_ARROW"

# ---- 5. encode on the device: parity gates pass; EN-004 (the rows/s target) is a
# device-only gate, which a stand-in run does not apply: its times are CPU times ----
MID_ENCODE="$WORK/mid-encode.json"
jq '.name = "mid-encode" | .n = 4200 | .p = 200 | .atoms = 8 | .description = "stand-in test: partial last row block"' \
    shapes/encode-device-small.json >"$MID_ENCODE"
for eshape in encode-device-small "$MID_ENCODE"; do
etag=${eshape##*/}
etag=${etag%.json}
out="$WORK/encode-$etag.json"
if expect_exit 0 "encode $etag cuda: exit 0" -- "$BIN" encode \
    --shape "$eshape" --backend cuda --require-device --reps "$REPS" --warmup "$WARMUP" \
    --calibration "$CAL" --quiet --out "$out"; then
    check "encode $etag: engaged on the stand-in; EN-001..EN-003 pass; EN-004 does not apply, nor opt-in EN-005; target undetermined" "$out" \
        '.engaged == true and .execution_path == "stand-in-gpu-resident-full"
         and ([.gates[] | select(.id != "EN-004" and .id != "EN-005") | .applies and .pass] | all)
         and ([.gates[] | select(.id == "EN-005") | .applies] == [false])
         and ([.gates[] | select(.id == "EN-004") | .applies] == [false])
         and ([.gates[] | select(.id == "EN-004") | .reason | test("stand-in")] == [true])
         and .target.status == "undetermined" and (.target.reason | test("stand-in"))
         and .telemetry.own_kernel_launches > 0 and .telemetry.handle_creations == 1'
    valid "encode $etag: verdict validates" "$out"
fi
done

# ---- 6. multiplex: one stream per fit in flight. MX-002 (the speedup) measures the
# CPU simulation, so only the bit-for-bit and oracle gates are asserted ----
out="$WORK/multiplex.json"
"$BIN" multiplex --shape tiny-variants --backend cuda --require-device --reps 1 --warmup 0 \
    --calibration "$CAL" --quiet --out "$out" >"$OUTS" 2>"$ERR"
rc=$?
if [ "$rc" -eq 0 ] || [ "$rc" -eq 1 ]; then ok "multiplex tiny-variants cuda: exit $rc"; else
    bad "multiplex tiny-variants cuda: exit $rc, want 0 or 1" "$(head -c 400 "$ERR")"; fi
check "multiplex: engaged on the stand-in; MX-001 (bit for bit) and MX-003 (oracle) pass" "$out" \
    '.engaged == true and .execution_path == "stand-in-gpu-resident-full"
     and ([.gates[] | select(.id == "MX-001" or .id == "MX-003") | .applies and .pass] == [true, true])'

# mid-size: three fits of different shapes (n up to 150, p up to 200, d 1..3)
out="$WORK/multiplex-mid.json"
mx_mid="$WORK/mx-mid-variants.json"
printf '%s\n' '[{"name": "m0", "n": 150, "p": 200, "d": 2, "basis_cols": 3, "seed": 1},' \
    '{"name": "m1", "n": 130, "p": 70, "d": 1, "basis_cols": 2, "seed": 2},' \
    '{"name": "m2", "n": 100, "p": 129, "d": 3, "basis_cols": 3, "seed": 3}]' >"$mx_mid"
"$BIN" multiplex --variants "$mx_mid" --backend cuda --require-device --reps 1 --warmup 0 \
    --calibration "$CAL" --quiet --out "$out" >"$OUTS" 2>"$ERR"
rc=$?
if [ "$rc" -eq 0 ] || [ "$rc" -eq 1 ]; then ok "multiplex mid-size variants cuda: exit $rc"; else
    bad "multiplex mid-size variants cuda: exit $rc, want 0 or 1" "$(head -c 400 "$ERR")"; fi
check "multiplex mid-size: engaged on the stand-in; MX-001 (bit for bit) and MX-003 (oracle) pass" "$out" \
    '.engaged == true and .execution_path == "stand-in-gpu-resident-full"
     and ([.gates[] | select(.id == "MX-001" or .id == "MX-003") | .applies and .pass] == [true, true])'

# ---- 7. the launch layer's checks: a stand-in verdict is labelled ----
check "every stand-in verdict names the stand-in device" "$WORK/rs-tiny-primal-primal-library.json" \
    '.device.name == "CPU stand-in for NVIDIA H100 SXM (not a GPU)"'
# Every engaged run recorded each of its device gates (RS-003, IL-004, EN-004): on the
# stand-in they then do not apply for the stand-in's reason, never "not evaluated".
missed=$(for f in "$WORK"/*.json; do
    jq -r --arg f "$(basename "$f")" 'select(.engaged == true) | .gates[]? | select(.reason == "not evaluated by this run") | "\($f): \(.id)"' "$f" 2>/dev/null
done)
[ -z "$missed" ] && ok "every engaged stand-in run recorded its device gates" || bad "every engaged stand-in run recorded its device gates" "$missed"
check "a stand-in run never meets or misses a device target (RS-003 does not apply, for the stand-in's reason)" "$WORK/rs-tiny-primal-primal-library.json" \
    '.target.status == "undetermined" and ([.gates[] | select(.id == "RS-003") | .applies] == [false])
     and ([.gates[] | select(.id == "RS-003") | .reason | test("stand-in")] == [true])'
check "a stand-in rate is labelled stand-in and is never an engaged device rate" "$WORK/rs-tiny-primal-primal-library.json" \
    '.throughput.measured_of == "stand-in" and .throughput.engaged_rows_per_s == 0 and .throughput.measured_rows_per_s > 0'

# ---- 8. the direct GPU test programs (tests/gpu/*.c) built against the stand-in,
# with their own assertions, and the injected faults (tests/standin/fault_test.cpp) ----
# the direct test programs, their ok/FAIL lines counted (sb_run_counted, tests/lib/battery.sh)
sb_run_counted "rs_backend_test quick" "$TESTS_DIR/rs_backend_test" quick
sb_run_counted "arrow_backend_test quick" "$TESTS_DIR/arrow_backend_test" quick
CUDA_VISIBLE_DEVICES='' sb_run_counted "arrow_backend_test nodevice (CUDA_VISIBLE_DEVICES='')" \
    "$TESTS_DIR/arrow_backend_test" nodevice
sb_run_counted "tiled_trace N=200,130, Gram p=200 n=300" "$TESTS_DIR/tiled_trace" --gram 200 300 200 130
# the backend ops' refusals and failure paths below the CLI (tests/standin/paths_test.cpp)
sb_run_counted "paths_test" "$TESTS_DIR/paths_test"
# one line per injected fault class, each naming what caught it
fault_log="$WORK/run-fault_test.log"
sb_run_counted "fault_test" "$TESTS_DIR/fault_test"
for want in "missing sync (minimal)" "missing sync (rs_backend library" "missing sync (rs_backend blocked" \
    "host pointer to kernel:" "host pointer to kernel (struct member)" "freed pointer to kernel (struct member)" \
    "cuSOLVER workspace one byte short (minimal)" "cuSOLVER workspace one byte short (rs_backend" \
    "cuBLAS ld one too small (minimal)" "cuBLAS ld one too small (rs_backend" \
    "sync inside graph capture (minimal)" "sync inside graph capture (rs_backend" \
    "shared memory over the limit" "static + dynamic shared memory over the limit (first launch" \
    "static + dynamic shared memory over the limit (a later launch" \
    "struct extent past its allocation:" "struct extent past its allocation (struct member)"; do
    if line=$(grep -m 1 -F "ok   $want" "$fault_log" 2>/dev/null); then ok "fault caught: ${line#ok   }"; else
        bad "fault not caught: $want" "$(grep -m 1 -F "$want" "$fault_log" 2>/dev/null)"; fi
done

# ---- 9. calibrate: with all its 80 GiB the stand-in would run the 8192 DGEMM on the CPU
# (minutes; make test-standin-full runs the 4096 one). Here another process holds all but
# 300 MiB (STANDIN_DEVICE_FREE_MB), too little for the three 128 MiB matrices of the 4096
# DGEMM: the device calibration fails at its third cudaMalloc, frees what it took, and says so ----
out="$WORK/calibrate-oom.json"
STANDIN_DEVICE_FREE_MB=300 expect_exit 4 "calibrate, 300 MiB of device memory free: exit 4" -- \
    "$BIN" calibrate --backend cuda --quiet --out "$out"
check "calibrate, 300 MiB free: a calibration file without device ceilings, the failed cudaMalloc named" "$out" \
    '.schema == "saebench.calibration/1" and .host == null and .device == null and .exit_code == 4
     and (.device_reason | test("^cudaMalloc: cudaErrorMemoryAllocation .*\\(cuda/device.cu:[0-9]+\\)$"))'

# ---- 10. the honesty rule: the shipped binary has nothing of the stand-in ----
if [ -n "$SHIPPED" ]; then
    if syms=$(nm "$SHIPPED" 2>&1 | grep -i standin); [ -z "$syms" ]; then
        ok "shipped $SHIPPED: no stand-in symbol (nm | grep -i standin is empty)"
    else
        bad "shipped $SHIPPED carries stand-in symbols" "$(echo "$syms" | head -3)"
    fi
    if strings "$SHIPPED" | grep -qi 'stand-in'; then
        bad "shipped $SHIPPED contains the string stand-in"
    else
        ok "shipped $SHIPPED: no 'stand-in' string"
    fi
fi

sb_test_summary
