#!/usr/bin/env bash
# The GPU battery's direct programs at their full sizes, and the device
# calibration, through the CPU stand-in (make test-standin-full; TEST-ONLY,
# tests/standin/README.md). Minutes of CPU, so not part of make test:
#   rs_backend_test        every case (make test-standin runs its quick set)
#   tiled_trace            its default orders 1024, 2000, 4000, 5120 and the
#                          sae-8k-1024 Gram (make test-standin: N=200, 130)
#   saebench calibrate     the device's small branch (4096 DGEMM, 256 MiB
#                          copy), 1 GiB of device memory left free by
#                          STANDIN_DEVICE_FREE_MB; its numbers must be the
#                          CPU's: the same order as the host's own DGEMM
# Each part prints its wall time. Timings are the CPU simulation's, never a
# GPU's.
# usage: tests/standin/run-standin-full.sh STANDIN_BINARY
# Environment: STANDIN_TESTS, the folder of the direct test programs built
# against the stand-in (default: tests/ beside STANDIN_BINARY);
# STANDIN_FULL_TRACE_ARGS, tiled_trace's arguments instead of its defaults
# (e.g. "--gram 200 300 1024 2000": its two smaller orders, minutes instead
# of more than an hour).
set -u

# shellcheck source=tests/lib/battery.sh
. "$(dirname "$0")/../lib/battery.sh"
sb_battery_bin "$1"
TESTS_DIR=$(realpath "${STANDIN_TESTS:-$(dirname "$BIN")/tests}" 2>/dev/null || echo "${STANDIN_TESTS:-}")
sb_battery_setup standin-full numpy

echo "== saebench stand-in, full sizes: $BIN"

sb_run_counted "rs_backend_test (every case)" "$TESTS_DIR/rs_backend_test"
read -r -a trace_args <<<"${STANDIN_FULL_TRACE_ARGS:-}"
trace_lines=5 # the four default orders and the Gram
[ ${#trace_args[@]} -eq 0 ] || trace_lines=2
sb_run_counted "tiled_trace (${STANDIN_FULL_TRACE_ARGS:-default orders and the sae-8k-1024 Gram})" \
    "$TESTS_DIR/tiled_trace" --json "$WORK/tiled-trace.json" "${trace_args[@]}"
if [ -s "$WORK/tiled-trace.json" ] && jq -se "length >= $trace_lines" "$WORK/tiled-trace.json" >/dev/null 2>&1; then
    ok "tiled_trace: one JSON line per order and one for the Gram ($(jq -s length "$WORK/tiled-trace.json") lines)"
else
    bad "tiled_trace: JSON lines missing" "$(head -c 300 "$WORK/tiled-trace.json" 2>/dev/null)"
fi

# ---- calibrate, host and device in one file: the device's small branch ----
cal="$WORK/calibration-standin.json"
t0=$(date +%s)
# the fake NVML (tests/standin/fake_nvml.c) reports another process and, in its second
# reading, a thermal slowdown: both recorded around the device's measurement, both warned of
STANDIN_DEVICE_FREE_MB=1024 SB_FAKE_NVML="others=4242:1048576 reasons=0x1 after-reasons=0x40" \
    expect_exit 0 "calibrate with 1 GiB of device memory free: exit 0" -- "$BIN" calibrate --quiet --out "$cal"
echo "     (calibrate: $(($(date +%s) - t0)) s)"
check "calibrate: the device's conditions before and after its measurement, the tenant and the slowdown warned of" "$cal" \
    '.device.conditions.nvml == "loaded"
     and .device.conditions.before.clock_event_reasons == ["gpu-idle"]
     and (.device.conditions.after.clock_event_reasons | index("hw-thermal-slowdown") != null)
     and .device.conditions.before.other_processes[0].pid == 4242
     and (.device.conditions.cost_s.before >= 0) and (.device.conditions.cost_s.after >= 0)
     and (.device.conditions.warnings | length == 2)
     and (.device.conditions.warnings[0] | test("^WARNING: 1 other process used the GPU during calibration \\(pid 4242\\): the ceilings may be low$"))
     and (.device.conditions.warnings[1] | test("clock-event \\(throttle\\) reasons during calibration: .*thermal"))
     and .host.conditions == null'
check "calibrate: the stand-in device named, the small branch measured (DGEMM 4096, copy 256 MiB)" "$cal" \
    '.schema == "saebench.calibration/1" and .exit_code == 0
     and .device.name == "CPU stand-in for NVIDIA H100 SXM (not a GPU)"
     and .device.ceilings.dgemm_n == 4096 and .device.ceilings.copy_bytes == 268435456'
# measured, not invented: the stand-in's DGEMM is OpenBLAS on this CPU, so its rate is the
# host's DGEMM rate within a factor of 4 (different orders, one thread against the host's),
# nowhere near an H100's tens of TFLOP/s; its copy is a memcpy on this machine
# shellcheck disable=SC2016 # a jq variable
check "calibrate: device numbers are this CPU's (DGEMM $(jq -r '.device.ceilings.fp64_flops / 1e9 | floor' "$cal" 2>/dev/null) GFLOP/s vs host $(jq -r '.host.ceilings.fp64_flops / 1e9 | floor' "$cal" 2>/dev/null); copy $(jq -r '.device.ceilings.mem_bw / 1e9 | floor' "$cal" 2>/dev/null) GB/s)" "$cal" \
    '(.device.ceilings.fp64_flops / .host.ceilings.fp64_flops) as $r | $r > 0.25 and $r < 4
     and .device.ceilings.fp64_flops < 1e12 and .device.ceilings.mem_bw > 1e8 and .device.ceilings.mem_bw < 1e12'
out="$WORK/rs-with-calibration.json"
if expect_exit 0 "resident-solve on the stand-in with that calibration: exit 0" -- \
    "$BIN" resident-solve --shape tiny-primal --backend cuda --require-device --reps 2 --warmup 1 \
    --calibration "$cal" --quiet --out "$out"; then
    check "resident-solve: its roofline uses the file's device ceilings" "$out" \
        ".roofline.ceilings.of == \"device\" and .roofline.ceilings.fp64_flops == $(jq .device.ceilings.fp64_flops "$cal")
         and (.roofline.ceilings.source | endswith(\"calibration-standin.json\"))"
fi

sb_test_summary
