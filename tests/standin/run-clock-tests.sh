#!/usr/bin/env bash
# The SM clock of every timed rep, throttled reps discarded and retaken, and
# --cold (docs/verdict.md timing.sm_clock, timing.cache) through the stand-in
# build, whose SM clock a test slows with STANDIN_SM_CLOCK_PCT
# (tests/standin/standin_clock.cpp: entry 2k is the k-th timed attempt's rate
# in percent of 1980 MHz, entry 2k+1 the gap after it). And that neither the
# shipped binary nor the host backend takes --cold or --throttle-* (make
# test-standin-clock; part of make test-standin).
# usage: tests/standin/run-clock-tests.sh STANDIN_BINARY [SHIPPED_BINARY]
set -u

SHIPPED=${2:-}
# shellcheck source=tests/lib/battery.sh
. "$(dirname "$0")/../lib/battery.sh"
sb_battery_bin "$1"
sb_battery_setup clock numpy
[ -z "$SHIPPED" ] || SHIPPED=$(realpath "$SHIPPED")
unset STANDIN_SM_CLOCK_PCT

echo "== saebench SM clock, throttling and --cold: $BIN"

RS0=("$BIN" resident-solve --shape tiny-primal --backend cuda --require-device --warmup 1 --calibration "$CAL")
RS=("${RS0[@]}" --reps 6)
cond() { echo "(.validity.conditions[] | select(.name == \"$1\"))"; }
# |x - want| < 1 MHz
near() { echo "(($1) - $2 | fabs) < 1"; }

# ---- 1. an unthrottled device: every kept rep's clock, nothing discarded ----
out="$WORK/steady.json"
if expect_exit 0 "steady clock: exit 0" -- "${RS[@]}" --out "$out"; then
    check "steady: sm_clock measured, 1980 MHz default, threshold 0.75 x = 1485 MHz, retake limit = --reps" "$out" \
        '.timing.sm_clock | .measured == true and .default_mhz == 1980 and .throttle_threshold == 0.75
         and .threshold_mhz == 1485 and .retake_limit == 6 and .recovery_delay_s == 0.05'
    check "steady: one clock per kept rep beside samples_s, each 1980 MHz; none throttled or discarded" "$out" \
        ".timing.phases.resident as \$p | (\$p.sm_clock_mhz | length) == (\$p.samples_s | length) and \$p.reps == 6
         and ([\$p.sm_clock_mhz[] | $(near . 1980)] | all) and \$p.throttled_kept == 0 and \$p.throttled_discarded == 0
         and \$p.discarded == [] and $(near .timing.sm_clock.median_mhz 1980)"
    check "steady: warm cache, no flush; the probe's cost per attempt recorded (6 attempts)" "$out" \
        '.timing.cache == "warm" and (.timing | has("l2_flush_bytes") | not)
         and .timing.sm_clock.cost_s.attempts == 6 and .timing.sm_clock.cost_s.mean > 0
         and .timing.sm_clock.cost_s.max >= .timing.sm_clock.cost_s.mean'
    check "steady: no-throttled-reps checked and held (value 0)" "$out" \
        "$(cond no-throttled-reps).ok == true and $(cond no-throttled-reps).value == 0"
    valid "steady: verdict validates" "$out"
    echo "     probe cost per timed attempt through the stand-in (s): $(jq -c .timing.sm_clock.cost_s "$out")"
fi

# ---- 2. two attempts at 60 %: discarded, retaken, the kept reps all full speed ----
out="$WORK/retaken.json"
if STANDIN_SM_CLOCK_PCT=100,100,60,100,60 expect_exit 0 "two throttled attempts: exit 0" -- "${RS[@]}" --out "$out"; then
    check "retaken: attempts 1 and 2 discarded at 1188 MHz (60 %), six reps kept at 1980" "$out" \
        ".timing.phases.resident as \$p | \$p.reps == 6 and \$p.throttled_discarded == 2 and \$p.throttled_kept == 0
         and [\$p.discarded[].attempt] == [1, 2] and ([\$p.discarded[].sm_clock_mhz | $(near . 1188)] | all)
         and ([\$p.discarded[].seconds | . > 0] | all) and ([\$p.sm_clock_mhz[] | $(near . 1980)] | all)"
    check "retaken: counted in timing.sm_clock; no-throttled-reps held" "$out" \
        ".timing.sm_clock.throttled_discarded == 2 and .timing.sm_clock.throttled_kept == 0
         and .timing.sm_clock.cost_s.attempts == 8 and $(cond no-throttled-reps).ok == true"
    says "retaken: the summary says so" "note: 2 throttled reps (SM clock below 1485 MHz) discarded and retaken"
    valid "retaken: verdict validates" "$out"
fi

# ---- 3. --throttle-retakes 0: kept and marked; not valid; --require-valid exits 1 ----
out="$WORK/kept.json"
if STANDIN_SM_CLOCK_PCT=100,100,60,100,60 expect_exit 0 "throttled reps kept: exit 0" -- "${RS[@]}" \
    --throttle-retakes 0 --out "$out"; then
    check "kept: reps 1 and 2 at 1188 MHz kept, none discarded" "$out" \
        ".timing.phases.resident as \$p | \$p.throttled_kept == 2 and \$p.throttled_discarded == 0
         and $(near '$p.sm_clock_mhz[1]' 1188) and $(near '$p.sm_clock_mhz[2]' 1188) and $(near '$p.sm_clock_mhz[3]' 1980)
         and $(near .timing.sm_clock.min_mhz 1188)"
    check "kept: no-throttled-reps false (value 2), so not valid" "$out" \
        "$(cond no-throttled-reps).ok == false and $(cond no-throttled-reps).value == 2
         and (.validity.failed | index(\"no-throttled-reps\")) != null and .validity.valid == false"
    says "kept: the summary warns" "WARNING: 2 timed reps ran below the throttle threshold (1485 MHz SM clock) and were kept"
fi
STANDIN_SM_CLOCK_PCT=100,100,60 expect_exit 1 "a throttled rep kept, --require-valid: exit 1" -- "${RS[@]}" \
    --throttle-retakes 0 --require-valid --out "$WORK/kept-rv.json"

# ---- 4. the retake limit: every attempt throttled, two retakes, then kept ----
out="$WORK/limit.json"
if STANDIN_SM_CLOCK_PCT=60,60,60,60,60,60,60,60,60,60,60,60 expect_exit 0 "always throttled, --throttle-retakes 2: exit 0" -- \
    "${RS0[@]}" --reps 3 --throttle-retakes 2 --throttle-recovery-delay 0 --out "$out"; then
    check "limit: two discarded, then three kept throttled" "$out" \
        '.timing.phases.resident | .throttled_discarded == 2 and .throttled_kept == 3 and .reps == 3'
    check "limit: the verdict records the limit and the delay" "$out" \
        '.timing.sm_clock.retake_limit == 2 and .timing.sm_clock.recovery_delay_s == 0'
fi

# ---- 5. --throttle-threshold 0: the clock recorded, no check ----
out="$WORK/nocheck.json"
if STANDIN_SM_CLOCK_PCT=100,100,60 expect_exit 0 "--throttle-threshold 0: exit 0" -- "${RS[@]}" \
    --throttle-threshold 0 --out "$out"; then
    check "no check: clocks recorded, nothing marked or discarded, threshold null, the check off" "$out" \
        ".timing.sm_clock.threshold_mhz == null and .timing.sm_clock.check == \"off: --throttle-threshold 0\"
         and .timing.phases.resident.throttled_kept == 0 and .timing.phases.resident.throttled_discarded == 0
         and $(near .timing.phases.resident.sm_clock_mhz[1] 1188)"
    check "no check: no-throttled-reps unchecked (ok null), with the reason" "$out" \
        "$(cond no-throttled-reps).ok == null and ($(cond no-throttled-reps).note | test(\"throttle-threshold 0\"))"
fi

# ---- 6. --cold: the L2 (50 MiB on the stand-in's H100) flushed before each rep ----
out="$WORK/cold.json"
warm="$WORK/steady.json"
if expect_exit 0 "--cold: exit 0" -- "${RS[@]}" --cold --out "$out"; then
    check "cold: timing.cache cold, 52428800 bytes per flush, the flush in the probe's cost" "$out" \
        '.timing.cache == "cold" and .timing.l2_flush_bytes == 52428800
         and (.timing.sm_clock.cost_s.of | test("L2 flush")) and .parity.pass == true'
    if [ -f "$warm" ]; then
        check "cold: the workload's telemetry is the warm run's (the flush is not the workload's)" "$out" \
            ".telemetry == $(jq -c .telemetry "$warm")"
    fi
    valid "cold: verdict validates" "$out"
fi

# ---- 7. every workload: the harness is one ----
for wl in "inner-loop --shape tiny-arrow" "outer-seq --shape tiny-arrow" "encode --shape encode-device-small"; do
    set -- $wl
    out="$WORK/$1.json"
    if STANDIN_SM_CLOCK_PCT=100,100,60 expect_exit 0 "$1 on the stand-in: exit 0" -- "$BIN" "$@" --backend cuda \
        --require-device --reps 3 --warmup 0 --calibration "$CAL" --quiet --out "$out"; then
        check "$1: a clock per kept rep, the throttled attempt discarded" "$out" \
            '(.timing.phases | to_entries[0].value) as $p | ($p.sm_clock_mhz | length) == $p.reps
             and $p.throttled_discarded == 1 and .timing.sm_clock.measured == true'
    fi
done

# ---- 8. where the options do not apply: exit 2 with one line, before any work ----
expect_exit 2 "--cold --backend host: exit 2" -- "$BIN" resident-solve --shape tiny-primal --backend host --cold --out "$WORK/x.json"
says "--cold --backend host: says why" "--cold and --backend host conflict"
expect_exit 2 "--throttle-threshold --backend host: exit 2" -- "$BIN" resident-solve --shape tiny-primal --backend host \
    --throttle-threshold 0.5
expect_exit 2 "--throttle-threshold 1.5: exit 2" -- "${RS[@]}" --throttle-threshold 1.5
says "--throttle-threshold 1.5: names the range" "out of range"
expect_exit 2 "--throttle-recovery-delay -1: exit 2" -- "${RS[@]}" --throttle-recovery-delay -1
expect_exit 2 "--throttle-retakes x: exit 2" -- "${RS[@]}" --throttle-retakes x
out="$WORK/host.json"
if expect_exit 0 "host backend: exit 0" -- "$BIN" resident-solve --shape tiny-primal --backend host --reps 2 --warmup 0 \
    --calibration "$CAL" --quiet --out "$out"; then
    check "host backend: no clock measured (why: not a device run), no-throttled-reps unchecked" "$out" \
        ".timing.sm_clock == {\"measured\": false, \"why\": \"not a device run\"} and .timing.cache == \"warm\"
         and $(cond no-throttled-reps).ok == null"
fi
if [ -n "$SHIPPED" ]; then
    # No GPU here: auto falls back to the host, which cannot keep --cold's promise.
    expect_exit 2 "shipped binary, no GPU, --cold: exit 2" -- "$SHIPPED" resident-solve --shape tiny-primal --cold \
        --out "$WORK/shipped.json"
    says "shipped binary, no GPU, --cold: says why" "--cold needs the device, which is not engaged"
fi

sb_test_summary
