#!/usr/bin/env bash
# Everything a lent GPU session needs, in ONE device call (device time is scarce):
# offline setup from the bundle, CUDA=1 build, GPU tests, calibrate, resident-solve on
# the canonical shapes (both methods where they apply, every factor variant, with the
# reupload baseline; --precision mixed beside fp64), inner-loop and outer-seq on qwen and color-arm, encode on its
# canonical shapes (gated at the 20 M rows/s H100 target), and the PyTorch peer.
#
# Here, before the call:
#   scripts/gpu-bundle.sh --debs-only -o bundle/debs
#   mkdir -p .anchors && cp ../shared/anchors/*.py .anchors/   (.anchors/ is git-ignored)
# Device call (carry bundle/debs and .anchors), naming the commit it runs:
#   SB_GIT_REV=<git rev-parse --short=12 HEAD, typed here> scripts/gpu-results.sh "$OUT" [all|tests|bench]
# A device call may last 10 minutes at most. The whole battery may not fit in one, so it
# splits in two: `tests` (setup, build, the GPU test battery) then `bench` (setup, which
# reuses the build while the machine stays warm, calibrate, every workload, the peer).
# `all` (the default) runs both in one call.
# Back here: unpack $OUT/results.tar.gz into results/<gpu>/ and commit with this command.
# The results are gathered in r/ inside a fresh folder this run creates in OUTDIR
# (mktemp -d), packed as r/ into OUTDIR/results.tar.gz (refused up front if that exists),
# and only that folder is removed afterwards: nothing in OUTDIR that this run did not create.
set -uo pipefail
out=${1:?usage: scripts/gpu-results.sh OUTDIR [all|tests|bench]}
part=${2:-all}
case "$part" in all|tests|bench) ;; *) echo "gpu-results: part must be all, tests or bench, not '$part'" >&2; exit 2 ;; esac
mkdir -p -- "$out" || exit 2
out=$(cd -- "$out" && pwd) || exit 2
[ ! -e "$out/results.tar.gz" ] && [ ! -L "$out/results.tar.gz" ] ||
    { echo "gpu-results: $out/results.tar.gz exists: give an OUTDIR without one" >&2; exit 2; }
work=$(mktemp -d "$out/gpu-results.XXXXXX") || { echo "gpu-results: cannot create a folder in $out" >&2; exit 2; }
R=$work/r
mkdir -- "$R" || exit 2
# pack WORK/r into OUTDIR/results.tar.gz, then remove WORK: the mktemp folder of this run
pack() {
    tar -C "$work" -czf "$out/results.tar.gz" r && rm -rf -- "$work"   # made by mktemp -d above
}
log="$R/run.log"
exec > >(tee -a "$log") 2>&1

echo "== setup $(date -u +%FT%TZ)"
# The node's copy has no .git: the caller names the commit (SB_GIT_REV=<hash> in the
# device command); the build stamps it into --version and every verdict's tool.git.
rev=${SB_GIT_REV:-$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)}
export SB_GIT_REV=$rev
echo "$rev" > "$R/COMMIT"
echo "commit $rev"
# Debian 12's OpenBLAS does not recognise every server CPU and then runs a generic
# kernel (slow oracles, so a longer call). Name the kernel family the CPU supports
# unless the caller chose one. Host numbers from the node are still not quoted.
if [ -z "${OPENBLAS_CORETYPE:-}" ]; then
    has() { grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | grep -qw "$1"; }
    if has avx512f && has avx512dq && has avx512bw && has avx512vl; then
        export OPENBLAS_CORETYPE=SkylakeX
    elif has avx2 && has fma; then
        export OPENBLAS_CORETYPE=Haswell
    fi
fi
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset, OpenBLAS picks}"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv || true
scripts/gpu-node-setup.sh bundle/debs .deps || { echo "setup/build failed"; exit 1; }
# shellcheck disable=SC1091
. .deps/env.sh
./saebench --version

if [ "$part" != bench ]; then
    echo "== GPU tests"
    GPU_TRACE_JSON="$R/tiled-trace.json" \
        make --no-print-directory test-gpu SB_PREFIX="$SB_PREFIX" CUDA=1 2>&1 | tee "$R/test-gpu.log" | tail -40
    if [ "$part" = tests ]; then
        pack
        exit 0
    fi
fi

echo "== calibrate"
./saebench calibrate --out "$R/calibration.json"
cal=(--calibration "$R/calibration.json")
[ -s "$R/calibration.json" ] || cal=()

run_wl() { # workload, name, args...
    local wl=$1 name=$2; shift 2
    echo "-- $name: ./saebench $wl $* ${cal[*]} --out $name.json" | tee -a "$R/COMMANDS"
    ./saebench "$wl" "$@" "${cal[@]}" --out "$R/$name.json"
    echo "   exit $?"
}
# resident-solve gated at the H100 performance targets (docs/workloads.md §1: 5 M,
# 2.5 M, 20 M rows/s) instead of the 100 000 rows/s deployment target, so each
# verdict's target section says met or unmet against them.
perf() { case "$1" in sae-2k-2048) echo 5e6 ;; sae-4k-4096) echo 2.5e6 ;; sae-8k-1024) echo 2e7 ;; esac; }
run() { run_wl resident-solve "$@"; }
for factor in library blocked tiled; do
    for shape in sae-2k-2048 sae-4k-4096; do
        run "rs-$shape-dual-$factor" --shape "$shape" --require-device --method dual --factor "$factor" --reupload --gate "RS-003=$(perf "$shape")"
        run "rs-$shape-primal-$factor" --shape "$shape" --require-device --method primal --factor "$factor" --gate "RS-003=$(perf "$shape")"
    done
    run "rs-sae-8k-1024-primal-$factor" --shape sae-8k-1024 --require-device --method primal --factor "$factor" --reupload --gate "RS-003=$(perf sae-8k-1024)"
done
# --precision mixed (FP32 factor, FP64 refinement on the device) beside the fp64
# library runs above, method auto as those shapes' defaults.
for shape in sae-2k-2048 sae-4k-4096 sae-8k-1024; do
    run "rs-$shape-mixed" --shape "$shape" --require-device --precision mixed --gate "RS-003=$(perf "$shape")"
done

for shape in qwen color-arm; do
    run_wl inner-loop "il-$shape" --shape "$shape" --require-device
    run_wl outer-seq "os-$shape" --shape "$shape" --require-device
done
for shape in encode-device-small encode-qwen encode-color; do
    run_wl encode "en-$shape" --shape "$shape" --require-device --gate EN-004=2e7
done
run_wl multiplex mx-color-arm-variants --shape color-arm-variants --require-device
run_wl multiplex mx-battery --shape battery --require-device

echo "== PyTorch peer"
if [ -f .anchors/peer_torch.py ]; then
    PYTHONUNBUFFERED=1 timeout 240 python3 .anchors/peer_torch.py > "$R/peer_torch.json" || echo "peer_torch failed: $?"
fi

echo "== summary"
for f in "$R"/rs-*.json "$R"/il-*.json "$R"/os-*.json "$R"/en-*.json; do
    jq -r --arg f "$(basename "$f" .json)" \
      '[$f, .exit_code, .engaged, ((.throughput.measured_rows_per_s // 0) | floor),
        (if .timing.median_s then (.timing.median_s * 1e3 | tostring + " ms") else "-" end),
        (.parity.rel_err // "null"), (.residency.speedup // "-"),
        ([.gates[]? | select(.applies and (.pass | not)) | .id] | join(","))] | @tsv' "$f" 2>/dev/null
done
echo "== side by side (scripts/side-by-side.sh)"
scripts/side-by-side.sh "$R" | tee "$R/side-by-side.txt"
pack
