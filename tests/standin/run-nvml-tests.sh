#!/usr/bin/env bash
# The device's conditions (device.conditions) and the validity block
# (docs/verdict.md) through the stand-in build, whose src/nvml.c opens the fake
# NVML of tests/standin/fake_nvml.c, steered by SB_FAKE_NVML (make
# test-standin-nvml; part of make test-standin). And that the shipped binary
# holds nothing of the fake and opens only libnvidia-ml.so.1.
# usage: tests/standin/run-nvml-tests.sh STANDIN_BINARY [SHIPPED_BINARY]
set -u

SHIPPED=${2:-}
# shellcheck source=tests/lib/battery.sh
. "$(dirname "$0")/../lib/battery.sh"
sb_battery_bin "$1"
sb_battery_setup nvml numpy
[ -z "$SHIPPED" ] || SHIPPED=$(realpath "$SHIPPED")
unset SB_FAKE_NVML

echo "== saebench NVML conditions and validity: $BIN"

# A calibration measured on the stand-in's own device model, and one on another.
CAL_SAME="$WORK/cal-same.json"
jq '.device.name = "CPU stand-in for NVIDIA H100 SXM (not a GPU)"' "$CAL" >"$CAL_SAME"
RS=("$BIN" resident-solve --shape tiny-primal --backend cuda --require-device --reps 6 --warmup 1)
# cond NAME: the jq path of one validity condition
cond() { echo "(.validity.conditions[] | select(.name == \"$1\"))"; }
# every failed condition but device-run (the stand-in's), clean-build (the tree's state) and
# timing-quiet (CPU times on a shared machine)
OTHER_FAILED='[.validity.failed[] | select(. != "device-run" and . != "clean-build" and . != "timing-quiet")]'

# ---- 1. a quiet GPU: both readings recorded, saebench's own process left out ----
out="$WORK/idle.json"
if expect_exit 0 "idle GPU: exit 0" -- "${RS[@]}" --calibration "$CAL_SAME" --out "$out"; then
    check "idle: conditions loaded, before and after read, values from the fake NVML" "$out" \
        '.device.conditions.nvml == "loaded"
         and ([[.device.conditions.before, .device.conditions.after][] | .sm_clock_mhz == 1980 and .mem_clock_mhz == 2619
              and .app_sm_clock_mhz == 1980 and .temperature_c == 41 and .power_w == 120 and .power_limit_w == 700
              and .clock_event_reasons == ["gpu-idle"] and .ecc_enabled == true and .ecc_volatile_corrected == 3
              and .ecc_volatile_uncorrected == 0 and .persistence_mode == true and .mig_mode == false]
         | all)'
    check "idle: saebench's own pid is not another process" "$out" \
        '.device.conditions.before.other_processes == [] and .device.conditions.after.other_processes == []'
    check "idle: no-other-tenants and no-clock-events checked and held; calibration-device held" "$out" \
        "$(cond no-other-tenants).ok == true and $(cond no-other-tenants).value == 0
         and $(cond no-clock-events).ok == true and $(cond no-clock-events).value == []
         and $(cond calibration-device).ok == true and $(cond engaged).ok == true and $(cond parity-passed).ok == true"
    check "idle: a stand-in number is never valid (device-run false, for the stand-in's reason); nothing else failed but the build" "$out" \
        ".validity.valid == false and $(cond device-run).ok == false and ($(cond device-run).note | test(\"stand-in\"))
         and $OTHER_FAILED == [] and .validity.unchecked == []"
    check "idle: each reading's cost recorded, under 50 ms" "$out" \
        '.device.conditions.cost_s | .open < 0.05 and .before < 0.05 and .after < 0.05 and .before > 0'
    valid "idle: verdict validates" "$out"
    if grep -q WARNING "$ERR"; then bad "idle: no warning in the summary" "$(grep WARNING "$ERR")"; else ok "idle: no warning in the summary"; fi
    says "idle: the summary shows validity" "validity: NOT VALID; failed: device-run"
    echo "     NVML cost through the fake library (s): $(jq -c .device.conditions.cost_s "$out")"
fi

# ---- 2. the calibration file from another device model ----
out="$WORK/othercal.json"
if expect_exit 0 "calibration from another device: exit 0" -- "${RS[@]}" --calibration "$CAL" --out "$out"; then
    check "calibration from another device: calibration-device false, its name in value and note" "$out" \
        "$(cond calibration-device).ok == false and $(cond calibration-device).value == \"test\"
         and ($(cond calibration-device).note | test(\"H100\")) and $OTHER_FAILED == [\"calibration-device\"]"
fi

# ---- 2b. a calibration whose device measurement was warned of: the run's summary says so ----
CAL_WARNED="$WORK/cal-warned.json"
jq '.device.conditions = {"nvml": "loaded", "warnings": ["WARNING: 1 other process used the GPU during calibration (pid 4242): the ceilings may be low"]}' \
    "$CAL_SAME" >"$CAL_WARNED"
if expect_exit 0 "a calibration measured under a warning: exit 0" -- "${RS[@]}" --calibration "$CAL_WARNED" --out "$WORK/cal-warned-rs.json"; then
    says "a calibration measured under a warning: the summary passes it on" \
        "WARNING: the calibration's device ceilings were measured under 1 warning (1 other process used the GPU during calibration (pid 4242)"
fi
expect_exit 0 "the same run with the unwarned calibration: exit 0" -- "${RS[@]}" --calibration "$CAL_SAME" --out "$WORK/cal-plain-rs.json"
if grep -q "calibration's device ceilings were measured under" "$OUTS" "$ERR"; then
    bad "an unwarned calibration: no such warning" "$(grep "calibration's device" "$OUTS" "$ERR")"
else
    ok "an unwarned calibration: no such warning"
fi

# ---- 3. another tenant: warned, not valid, --require-valid exits 1 ----
out="$WORK/tenant.json"
if SB_FAKE_NVML="others=4242:1048576,4343" expect_exit 0 "another tenant: exit 0 without --require-valid" -- \
    "${RS[@]}" --calibration "$CAL_SAME" --out "$out"; then
    says "another tenant: the summary warns, naming the pids" "WARNING: 2 other processes used the GPU during timing (pid 4242, 4343)"
    check "another tenant: listed by pid and memory (unknown memory null), own pid left out" "$out" \
        '.device.conditions.before.other_processes == [{"pid": 4242, "used_memory_bytes": 1048576}, {"pid": 4343, "used_memory_bytes": null}]'
    check "another tenant: no-other-tenants false (value 2), valid false for it" "$out" \
        "$(cond no-other-tenants).ok == false and $(cond no-other-tenants).value == 2
         and .validity.valid == false and $OTHER_FAILED == [\"no-other-tenants\"]"
    valid "another tenant: verdict validates" "$out"
fi
SB_FAKE_NVML="others=4242:1048576" expect_exit 1 "another tenant, --require-valid: exit 1" -- \
    "${RS[@]}" --calibration "$CAL_SAME" --require-valid --out "$WORK/tenant-rv.json"
says "--require-valid: the summary says why the exit is 1" "(--require-valid: exit 1)"
check "--require-valid: the verdict says fail, exit_code 1, gates still pass" "$WORK/tenant-rv.json" \
    '.verdict == "fail" and .exit_code == 1 and ([.gates[] | select(.applies) | .pass] | all)'

# ---- 4. throttling: a power cap before, a thermal slowdown only after ----
out="$WORK/power.json"
if SB_FAKE_NVML="reasons=0x5" expect_exit 0 "power cap: exit 0" -- "${RS[@]}" --calibration "$CAL_SAME" --out "$out"; then
    says "power cap: the summary warns" "WARNING: the GPU reported clock-event (throttle) reasons during timing: sw-power-cap"
    check "power cap: decoded into words, no-clock-events false with gpu-idle left out" "$out" \
        ".device.conditions.before.clock_event_reasons == [\"gpu-idle\", \"sw-power-cap\"]
         and $(cond no-clock-events).ok == false and $(cond no-clock-events).value == [\"sw-power-cap\"]
         and $OTHER_FAILED == [\"no-clock-events\"]"
fi
out="$WORK/thermal.json"
if SB_FAKE_NVML="reasons=0x1 after-reasons=0x40" expect_exit 0 "thermal slowdown after timing: exit 0" -- \
    "${RS[@]}" --calibration "$CAL_SAME" --out "$out"; then
    check "thermal slowdown after: seen in the after reading only, and still not valid" "$out" \
        '.device.conditions.before.clock_event_reasons == ["gpu-idle"]
         and .device.conditions.after.clock_event_reasons == ["hw-thermal-slowdown"]
         and ((.validity.conditions[] | select(.name == "no-clock-events")) | .ok == false and .value == ["hw-thermal-slowdown"])'
fi

# ---- 5. NVML absent: null with the reason, unchecked (never held), no crash ----
out="$WORK/absent.json"
if SB_FAKE_NVML="init=fail" expect_exit 0 "NVML absent (nvmlInit_v2 fails): exit 0" -- "${RS[@]}" --calibration "$CAL_SAME" --out "$out"; then
    check "NVML absent: nvml says why, before and after null" "$out" \
        '.device.conditions.nvml == "absent: nvmlInit_v2: Driver Not Loaded"
         and .device.conditions.before == null and .device.conditions.after == null'
    check "NVML absent: tenants and clock events unchecked (ok null), so not valid" "$out" \
        "$(cond no-other-tenants).ok == null and $(cond no-clock-events).ok == null
         and .validity.unchecked == [\"no-other-tenants\", \"no-clock-events\"] and .validity.valid == false
         and $OTHER_FAILED == []"
    says "NVML absent: the summary notes it" "the device's conditions were not read (NVML absent: nvmlInit_v2"
    valid "NVML absent: verdict validates" "$out"
fi
out="$WORK/noecc.json"
if SB_FAKE_NVML="ecc=unsupported" expect_exit 0 "ECC not supported: exit 0" -- "${RS[@]}" --calibration "$CAL_SAME" --out "$out"; then
    check "ECC not supported: ecc fields null, the rest read" "$out" \
        '.device.conditions.before | .ecc_enabled == null and .ecc_volatile_corrected == null and .sm_clock_mhz == 1980'
fi

# ---- 6. the harness is one for every workload; the host backend records none ----
out="$WORK/inner-loop.json"
if SB_FAKE_NVML="others=77" expect_exit 0 "inner-loop on the stand-in: exit 0" -- "$BIN" inner-loop --shape tiny-arrow \
    --backend cuda --require-device --reps 2 --warmup 1 --calibration "$CAL_SAME" --quiet --out "$out"; then
    check "inner-loop: conditions recorded, the tenant seen" "$out" \
        '.device.conditions.nvml == "loaded" and .device.conditions.after.other_processes[0].pid == 77
         and ((.validity.conditions[] | select(.name == "no-other-tenants")) | .ok == false)'
fi
out="$WORK/host.json"
if SB_FAKE_NVML="others=77" expect_exit 0 "host backend in the stand-in build: exit 0" -- "$BIN" resident-solve \
    --shape tiny-primal --backend host --reps 2 --warmup 1 --calibration "$CAL" --quiet --out "$out"; then
    check "host backend: no device, so no conditions; device-run false, the device conditions unchecked" "$out" \
        ".device == null and $(cond device-run).ok == false and $(cond device-run).value == \"host\"
         and $(cond no-other-tenants).ok == null and .validity.valid == false"
fi

# ---- 7. the shipped binary: nothing of the fake NVML, only libnvidia-ml.so.1 ----
if [ -n "$SHIPPED" ]; then
    if syms=$(nm "$SHIPPED" 2>&1 | grep -E ' [TtDdBb] nvml'); [ -z "$syms" ]; then
        ok "shipped $SHIPPED: no NVML symbol defined (nm)"
    else
        bad "shipped $SHIPPED defines NVML symbols" "$(echo "$syms" | head -3)"
    fi
    if ldd "$SHIPPED" 2>/dev/null | grep -q nvidia-ml; then bad "shipped $SHIPPED links NVML"; else ok "shipped $SHIPPED: NVML not linked (ldd)"; fi
    if strings "$SHIPPED" | grep -q 'fake-nvml'; then bad "shipped $SHIPPED names the fake NVML"; else
        ok "shipped $SHIPPED: no fake-nvml string"; fi
    if strings "$SHIPPED" | grep -q 'libnvidia-ml\.so\.1'; then ok "shipped $SHIPPED opens libnvidia-ml.so.1"; else
        bad "shipped $SHIPPED does not name libnvidia-ml.so.1"; fi
fi

sb_test_summary
