#!/usr/bin/env bash
# The CUDA backend (cuda/*.cu, compiled with g++ against the CPU stand-in:
# tests/standin/standin-build.mk) run end to end through the CLI (make
# test-standin; part of make test). Exact telemetry per docs/verdict.md and the
# accounting of tests/gpu/run-gpu-tests.sh; parity gates; the honesty rule (a
# stand-in verdict never reads as a device measurement; the shipped binary
# carries nothing of the stand-in).
# usage: tests/standin/run-standin-tests.sh STANDIN_BINARY [SHIPPED_BINARY]
set -u

SHIPPED=${2:-}
# shellcheck source=tests/lib/battery.sh
. "$(dirname "$0")/../lib/battery.sh"
sb_battery_bin "$1"
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
#   create: dual DSYRK for K + DGEMV for v (2 lib)
# own_per METHOD FACTOR N / lib_per METHOD FACTOR N / lib_create METHOD
own_per() {
    local b=$((($3 + 63) / 64)) build=2
    [ "$1" = dual ] && build=1
    case $2 in library) echo "$build" ;; blocked) echo $((build + b + 3)) ;; esac
}
lib_per() {
    local b=$((($3 + 63) / 64)) build=1
    [ "$1" = dual ] && build=1 # primal DSYRK, dual DGEMV of beta
    case $2 in library) echo $((build + 2)) ;; blocked) echo $((build + 2 * (b - 1))) ;; esac
}
lib_create() { if [ "$1" = dual ]; then echo 2; else echo 0; fi; }

# check_telemetry NAME VERDICT JQ_PATH N P SOLVES REUPLOAD METHOD FACTOR
check_telemetry() {
    local name=$1 out=$2 at=$3 n=$4 p=$5 total=$6 re=$7 method=$8 factor=$9
    local N=$p
    [ "$method" = dual ] && N=$n
    local own=$(($(own_per "$method" "$factor" "$N") * total))
    local lib=$(($(lib_per "$method" "$factor" "$N") * total + $(lib_create "$method")))
    check "$name: telemetry h2d $(expected_h2d "$n" "$p" "$total" "$re") d2h $(expected_d2h "$n" "$p" "$total") factorizations $total handles 2 own $own library $lib" \
        "$out" "$at | .h2d_bytes == $(expected_h2d "$n" "$p" "$total" "$re") and .d2h_bytes == $(expected_d2h "$n" "$p" "$total")
            and .factorizations == $total and .handle_creations == 2 and .own_kernel_launches == $own
            and .library_calls == $lib"
}

# rs_case SHAPE N P METHOD FACTOR [EXTRA ARGS...]
rs_case() {
    local shape=$1 n=$2 p=$3 method=$4 factor=$5
    shift 5
    local name="$shape $method $factor${*:+ $*}" out="$WORK/rs-$shape-$method-$factor${*:+-x}.json"
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

# ---- 1. resident-solve, FP64 ----
rs_case tiny-primal 64 32 primal library
rs_case tiny-dual 32 64 dual library
rs_case tiny-primal 64 32 primal blocked
rs_case tiny-dual 32 64 dual blocked

# ---- 9. the honesty rule: the shipped binary has nothing of the stand-in ----
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
