#!/usr/bin/env bash
# The GPU battery in ONE device call (a call lasts 10 minutes at most): five stages in
# priority order, each under its own time limit inside the battery's own overall limit
# (SB_BATTERY_LIMIT_S, 540 s by default), and after every stage its verdicts and logs
# appended to one archive, OUTDIR/battery.tar, so that a battery cut off at its limit still
# leaves everything done until then.
#
#   scripts/gpu-results.sh [--standin] OUTDIR
#
# Here, before the device call:
#   scripts/gpu-bundle.sh --debs-only -o bundle/debs
#   mkdir -p .anchors && cp ../shared/anchors/*.py .anchors/   (.anchors/ is git-ignored)
# The device call (carry bundle/debs and .anchors, timeout_s 600), naming the commit it runs:
#   SB_GIT_REV=<git rev-parse --short=12 HEAD, typed here> scripts/gpu-results.sh "$OUT"
# Back here: tar -xf battery.tar && mv r results/<gpu>, then commit that folder
# (results/README.md says what it holds).
#
# The stages (STAGE_TABLE below gives each one's limit and the least time worth starting it):
#   1-build       setup from the offline bundle (scripts/gpu-node-setup.sh --no-build), then one
#                 make for the node's SM only (nvidia-smi's compute_cap as CUDA_ARCH) building
#                 ./saebench and the GPU test programs together
#   2-smoke       calibrate, then every workload on a tiny shape with --require-device; then the
#                 example plugins built (here, so that they cannot stop the battery) and the
#                 CUDA one (examples/solver-cuda/) run on tiny-dual
#   3-canonical   the canonical shapes with the library factor (resident-solve gated at the
#                 H100 performance targets), inner-loop, outer-seq, encode, multiplex; then the
#                 PyTorch peer (.anchors/peer_torch.py, when present) and side-by-side.txt
#   4-variants    the own factors (blocked, tiled), --precision mixed, tests/gpu/tiled_trace,
#                 then the GPU test battery's checks (make test-gpu GPU_TESTS_PARTS=checks:
#                 tiled_trace has just run, its sanitizer part is stage 5's)
#   5-sanitizers  compute-sanitizer memcheck, then racecheck, on a tiny resident-solve and a
#                 tiny inner-loop (when compute-sanitizer is there), then the GPU test
#                 battery's sanitizer part (GPU_TESTS_PARTS=sanitizer: the direct test
#                 programs under memcheck, racecheck, synccheck and initcheck)
# A stage runs under min(its limit, the time left) and is skipped, with the reason, when less
# than its least is left or when stage 1 did not build; every command in it has a limit too.
#
# SB_BATTERY_STAGE_S="NAME=SECONDS ..." gives a stage another limit (and then a least of at
# most that), e.g. "4-variants=300".
#
# --standin (or SB_BATTERY_STANDIN=1): the dry run, for a machine without a GPU. The same
# stages against the CPU stand-in build (build/standin/saebench-standin, tests/standin/):
# stage 1 is `make standin-saebench` (build it beforehand: a first build takes minutes),
# stages 2-4 run the same commands with the canonical shapes replaced by the small ones of
# tests/lib/standin-shapes.sh (the one difference), and calibrate, the peer, tiled_trace, make test-gpu
# and stage 5 are skipped with the reason. Overall limit 240 s by default. Its verdicts say
# execution_path stand-in-gpu-resident-full and are never results: nothing of it goes into
# results/ (make test-battery-dryrun checks both).
#
# The archive holds r/: every verdict (NAME.json), COMMIT, COMMANDS (each command run, one
# a line: its stage, a tab, the command as run in r/ with SAEBENCH_SHAPES naming the
# project's shapes/), STAGES (one line a stage: name, start (UTC), seconds, "exit N" or
# "cut off at its limit (N s)" or "skipped: reason", and which commands exited how),
# stage-NAME.log (each stage's whole output, e.g. stage-3-canonical.log), run.log (this script's lines), BUILD (the
# node's GPU and CUDA_ARCH), calibration.json, tiled-trace.json, test-gpu.log, test-gpu-sanitizer.log,
# peer_torch.json, side-by-side.txt. A file that changed is appended again: tar keeps
# both and the later one wins when unpacked.
#
# Output safety: OUTDIR/battery.tar must not exist (refused up front); results are gathered
# in r/ inside a fresh folder this run creates in OUTDIR (mktemp -d), and only that folder is
# removed afterwards: nothing in OUTDIR that this run did not create.
#
# Exit status: 0 when every stage that ran exited 0 (a verdict's failed gate is a result,
# not a failure: a run counts as failed only for an exit status other than 0 and 1),
# 1 when one failed or was cut off, 2 for a usage error or a refused OUTDIR.
set -uo pipefail

SELF=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
ROOT=$(cd "$(dirname "$SELF")/.." && pwd)

# ------------------------------------------------------------------------ the tables
# stage         on a GPU: limit least    dry run: limit least   (seconds)
STAGE_TABLE=(
    "1-build                200   90              120   10"
    "2-smoke                 60   20               40    5"
    "3-canonical            200   60               90   20"
    "4-variants             240   60               90   20"
    "5-sanitizers           120   40               60   10"
)
# Kept back for the last append and the clean-up: GPU / dry run.
RESERVE_GPU=10
RESERVE_DRY=3
# One command's limit (GPU / dry run); the peer's, on a GPU.
CMD_LIMIT_GPU=120
CMD_LIMIT_DRY=30
PEER_LIMIT=120

# The dry run's shapes: each canonical shape that stages 3 and 4 name has a small
# substitute, from the one table in tests/lib/standin-shapes.sh (shared with make test-gpu's
# own dry run), read by the dry run only (standin_lib).
standin_lib() {
    # shellcheck source=tests/lib/standin-shapes.sh
    declare -F sb_standin_shape >/dev/null || . "$ROOT/tests/lib/standin-shapes.sh"
}

# resident-solve gated at the H100 performance targets (docs/workloads.md §1: 5 M, 2.5 M,
# 20 M rows/s) instead of the 100 000 rows/s deployment target, so each verdict's target
# section says met or unmet against them.
perf() { case "$1" in sae-2k-2048) echo 5e6 ;; sae-4k-4096) echo 2.5e6 ;; sae-8k-1024) echo 2e7 ;; esac; }

# ============================================================ one stage (--stage N)
# Started by the driver under timeout, in r/, with the SBB_* variables it exports. Output
# goes to the stage's log. Exits 0 when every command exited 0 (a saebench run: 0 or 1, its
# verdict written), else 1. SBB_NOTE gets the tally after every command, so a stage cut off
# still says what ran.

declare -A EXITS=() # exit status -> the names of the commands that ended with it
CAL=()              # --calibration calibration.json once stage 2 wrote a good one
WRAP=()             # a prefix for sb's runs (stage 5: compute-sanitizer)
FAILED=0
LAST_RC=0
VERDICT_RUN=""
MAKE_GPU=()

tally() { # [RUNNING]: the note: how the commands so far ended, and which one runs now
    local code names s=""
    for code in $(printf '%s\n' "${!EXITS[@]}" | sort -n); do
        names=${EXITS[$code]}
        if [ "$code" -eq 0 ]; then
            s+="${s:+; }exit 0 x$(wc -w <<<"$names")"
        else
            s+="${s:+; }exit $code x$(wc -w <<<"$names") ($names)"
        fi
    done
    printf '%s%s\n' "${s:-no command ended}" "${1:+; running: $1}" >"$SBB_NOTE"
}

# run_cmd NAME LIMIT [--log FILE | --stdout FILE] ARGV...: run ARGV under LIMIT seconds
# (0: only the stage's limit), record it in COMMANDS, count its exit status. --log: its
# output also into FILE; --stdout: its standard output into FILE.
run_cmd() {
    local name=$1 lim=$2 log="" stdout="" a line rc shown=()
    shift 2
    case "$1" in --log) log=$2; shift 2 ;; --stdout) stdout=$2; shift 2 ;; esac
    for a in "$@"; do # the binary as named; the project's paths relative to its root
        case "$a" in "$SBB_BIN") a=$SBB_BIN_SHOWN ;; "$ROOT") a=. ;; *"$ROOT"/*) a=${a//"$ROOT"\//} ;; esac
        shown+=("$a")
    done
    line=$(printf '%q ' "${shown[@]}")
    line=${line% }${stdout:+ > $stdout}
    printf '%s\t%s\n' "$SBB_STAGE" "$line" >>"$SBB_R/COMMANDS"
    echo "-- $name: $line"
    tally "$name"
    # --foreground: the command stays in the stage's process group, so the stage's own
    # limit ends it too
    if [ -n "$log" ]; then
        timeout --foreground -k 5 "$lim" "$@" 2>&1 | tee "$log"
        rc=${PIPESTATUS[0]}
    elif [ -n "$stdout" ]; then
        timeout --foreground -k 5 "$lim" "$@" >"$stdout"
        rc=$?
    else
        timeout --foreground -k 5 "$lim" "$@"
        rc=$?
    fi
    if [ "$lim" -gt 0 ] && { [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; }; then
        echo "   $name: cut off at its limit ($lim s)"
    fi
    echo "   $name: exit $rc"
    EXITS[$rc]+="${EXITS[$rc]:+ }$name"
    LAST_RC=$rc
    [ "$rc" -eq 0 ] || { [ "$rc" -eq 1 ] && [ -n "$VERDICT_RUN" ]; } || FAILED=1
    tally
}

# sb NAME ARGS...: one saebench run here in r/, its verdict NAME.json. Exit 1 (a gate
# failed, the verdict written) is a result; any other command fails the stage with it.
sb() {
    local name=$1
    shift
    VERDICT_RUN=1
    run_cmd "$name" "$SBB_CMD_LIMIT" "${WRAP[@]}" "$SBB_BIN" "$@" "${CAL[@]}" --out "$name.json"
    VERDICT_RUN=
}

# shape NAME: the shape a stage 3 or 4 command names: NAME on a GPU; in the dry run its
# substitute (tests/lib/standin-shapes.sh), written here as standin-NAME.json
shape() {
    [ "$SBB_MODE" = standin ] || { echo "$1"; return 0; }
    local path
    standin_lib || return 1
    path=$(sb_standin_shape "$ROOT" . "$1") || return 1
    echo "${path#./}"
}

# cuda_plugin: the CUDA example plugin stage 1 built: its CUDA build, or in the dry run its
# stand-in build (make examples-standin: tests/standin/standin-build.mk)
cuda_plugin() {
    if [ "$SBB_MODE" = standin ]; then echo "$ROOT/build/standin/examples/solver-cuda-standin.so"; else
        echo "$ROOT/build/cuda/examples/solver-cuda.so"; fi
}

# cuda_arch: the CUDA_ARCH stage 1 chose (r/BUILD), empty for the Makefile's default
cuda_arch() { sed -n 's/^CUDA_ARCH //p' "$SBB_R/BUILD" 2>/dev/null; }

# MAKE_GPU: make in the project root with the CUDA build's variables, the same for every call
# (another CUDA_ARCH or SB_PREFIX is another build configuration)
make_gpu_cmd() {
    local arch
    arch=$(cuda_arch)
    MAKE_GPU=(make -C "$ROOT" --no-print-directory CUDA=1 ${arch:+CUDA_ARCH="$arch"} SB_PREFIX="${SB_PREFIX:-}")
}

# rs_runs FACTOR: resident-solve on the canonical shapes (both methods where they apply,
# the reupload baseline beside the dual runs and sae-8k-1024), gated at the performance targets
rs_runs() {
    local f=$1 s
    for s in sae-2k-2048 sae-4k-4096; do
        sb "rs-$s-dual-$f" resident-solve --shape "$(shape "$s")" --require-device --method dual \
            --factor "$f" --reupload --gate "RS-003=$(perf "$s")"
        sb "rs-$s-primal-$f" resident-solve --shape "$(shape "$s")" --require-device --method primal \
            --factor "$f" --gate "RS-003=$(perf "$s")"
    done
    sb "rs-sae-8k-1024-primal-$f" resident-solve --shape "$(shape sae-8k-1024)" --require-device \
        --method primal --factor "$f" --reupload --gate "RS-003=$(perf sae-8k-1024)"
}

side_by_side() { "$ROOT/scripts/side-by-side.sh" . >side-by-side.txt && cat side-by-side.txt; }

stage_1_build() {
    if [ "$SBB_MODE" = standin ]; then
        local jobs=(-j2)
        case " ${MAKEFLAGS:-} " in *jobserver*) jobs=() ;; esac # inside make: its job slots
        run_cmd build 0 make -C "$ROOT" --no-print-directory "${jobs[@]}" standin-saebench
        printf 'binary %s\nCUDA_ARCH none (the CPU stand-in)\n' "$SBB_BIN_SHOWN" >BUILD
    else
        nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,compute_cap --format=csv ||
            echo "nvidia-smi: none, or it failed"
        [ -x "$SBB_NVCC" ] && "$SBB_NVCC" --version | tail -n 2
        # the node's SM only ("9.0" -> 90): one gencode instead of the Makefile's two
        local cap arch="" c
        cap=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | tr -d '. ' | sort -u)
        for c in $cap; do [[ $c =~ ^[0-9]+$ ]] && arch+="${arch:+ }$c"; done
        {
            nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | sed -n '1s/^/gpu /p'
            if [ -n "$arch" ]; then printf 'CUDA_ARCH %s\n' "$arch"; else echo "# no compute_cap from nvidia-smi: the Makefile's CUDA_ARCH"; fi
        } >BUILD
        cat BUILD
        cd "$ROOT" || return # the setup and the build run in the project root, as by hand
        run_cmd setup 0 "$ROOT/scripts/gpu-node-setup.sh" --no-build "$ROOT/bundle/debs" "$ROOT/.deps"
        if [ "$LAST_RC" -ne 0 ] || [ ! -f "$ROOT/.deps/env.sh" ]; then
            echo "setup: no .deps/env.sh, nothing to build against"
            FAILED=1
            return
        fi
        # shellcheck disable=SC1091
        . "$ROOT/.deps/env.sh"
        make_gpu_cmd
        run_cmd build 0 "${MAKE_GPU[@]}" -j"$(nproc)" saebench test-gpu-build
        cd "$SBB_R" || return
    fi
    [ -x "$SBB_BIN" ] && run_cmd version 30 "$SBB_BIN" --version
}

stage_2_smoke() {
    if [ "$SBB_MODE" = standin ]; then
        # measuring would run a device DGEMM of n = 8192 through the simulation (minutes)
        echo "calibrate: skipped on the CPU stand-in (its device DGEMM of n = 8192 takes minutes);" \
            "calibration.json holds fixed ceilings, not measured"
        standin_lib && sb_fixed_calibration calibration.json "dry run: fixed ceilings, not measured"
    else
        run_cmd calibrate "$SBB_CMD_LIMIT" "$SBB_BIN" calibrate --require-device --out calibration.json
    fi
    use_calibration
    sb smoke-rs-tiny-primal resident-solve --shape tiny-primal --require-device --method primal --reps 3 --warmup 1
    sb smoke-rs-tiny-dual resident-solve --shape tiny-dual --require-device --method dual --reps 3 --warmup 1
    sb smoke-il-tiny-arrow inner-loop --shape tiny-arrow --require-device --reps 3 --warmup 1
    sb smoke-os-tiny-arrow outer-seq --shape tiny-arrow --require-device --reps 3 --warmup 1
    sb smoke-mx-tiny-variants multiplex --shape tiny-variants --require-device --reps 1 --warmup 0
    # the smallest batch the device encode takes
    sb smoke-en-encode-device-small encode --shape encode-device-small --require-device --reps 2 --warmup 1
    # the CUDA example plugin, engaged by its claim, its device in its words (docs/plugins.md);
    # built here: a failure to build it fails this stage only
    if [ "$SBB_MODE" = standin ]; then
        run_cmd build-plugins "$SBB_CMD_LIMIT" make -C "$ROOT" --no-print-directory examples-standin
    else
        make_gpu_cmd
        run_cmd build-plugins "$SBB_CMD_LIMIT" "${MAKE_GPU[@]}" examples
    fi
    [ "$LAST_RC" -ne 0 ] ||
        sb smoke-rs-tiny-dual-plugin-cuda resident-solve --shape tiny-dual --require-device --reps 3 --warmup 1 \
            --backend "plugin:$(cuda_plugin)"
}

stage_3_canonical() {
    local s
    rs_runs library
    for s in qwen color-arm; do
        sb "il-$s" inner-loop --shape "$(shape "$s")" --require-device
        sb "os-$s" outer-seq --shape "$(shape "$s")" --require-device
    done
    for s in encode-device-small encode-qwen encode-color; do
        sb "en-$s" encode --shape "$(shape "$s")" --require-device --gate EN-004=2e7
    done
    sb mx-color-arm-variants multiplex --shape "$(shape color-arm-variants)" --require-device
    sb mx-battery multiplex --shape "$(shape battery)" --require-device
    if [ "$SBB_MODE" = standin ]; then
        echo "peer_torch: skipped: the PyTorch peer needs a GPU"
    elif [ ! -f "$ROOT/.anchors/peer_torch.py" ]; then
        echo "peer_torch: skipped: no .anchors/peer_torch.py (carry .anchors)"
    else
        export PYTHONUNBUFFERED=1
        run_cmd peer_torch "$PEER_LIMIT" --stdout peer_torch.json python3 "$ROOT/.anchors/peer_torch.py"
    fi
    side_by_side
}

stage_4_variants() {
    local s
    rs_runs blocked
    rs_runs tiled
    # --precision mixed (FP32 factor, FP64 refinement on the device) beside the fp64 library
    # runs of stage 3, method auto as those shapes' defaults
    for s in sae-2k-2048 sae-4k-4096 sae-8k-1024; do
        sb "rs-$s-mixed" resident-solve --shape "$(shape "$s")" --require-device --precision mixed --gate "RS-003=$(perf "$s")"
    done
    side_by_side
    if [ "$SBB_MODE" = standin ]; then
        echo "tiled_trace: skipped: its sizes (N up to 5120) take minutes on the CPU stand-in (make test-standin runs it small)"
        echo "make test-gpu: skipped: the GPU test battery needs a GPU"
        return
    fi
    run_cmd tiled_trace "$SBB_CMD_LIMIT" "$ROOT/build/cuda/tests/gpu/tiled_trace" --json tiled-trace.json
    make_gpu_cmd
    run_cmd test-gpu 0 --log test-gpu.log "${MAKE_GPU[@]}" GPU_TESTS_PARTS=checks test-gpu
}

stage_5_sanitizers() {
    local tool
    for tool in memcheck racecheck; do
        WRAP=("$SBB_SANITIZER" --tool "$tool" --error-exitcode 9)
        sb "san-$tool-rs-tiny-primal" resident-solve --shape tiny-primal --require-device --reps 2 --warmup 1
        sb "san-$tool-il-tiny-arrow" inner-loop --shape tiny-arrow --require-device --reps 2 --warmup 1
    done
    if [ "$SBB_MODE" = standin ]; then
        echo "make test-gpu (its sanitizer part): skipped: the GPU test battery needs a GPU"
        return
    fi
    make_gpu_cmd
    run_cmd test-gpu-sanitizer 0 --log test-gpu-sanitizer.log "${MAKE_GPU[@]}" GPU_TESTS_PARTS=sanitizer \
        COMPUTE_SANITIZER="$SBB_SANITIZER" test-gpu
}

use_calibration() {
    CAL=()
    if jq -e '.schema == "saebench.calibration/1" and (.device | type) == "object"' calibration.json >/dev/null 2>&1; then
        CAL=(--calibration calibration.json)
    fi
}

stage_main() {
    cd "$SBB_R" || exit 1
    echo "== stage $SBB_STAGE $(date -u +%FT%TZ)"
    if [ "$SBB_MODE" = gpu ] && [ -f "$ROOT/.deps/env.sh" ]; then
        # shellcheck disable=SC1091
        . "$ROOT/.deps/env.sh"
    fi
    use_calibration
    tally
    case "$SBB_STAGE" in
        1-build) stage_1_build ;;
        2-smoke) stage_2_smoke ;;
        3-canonical) stage_3_canonical ;;
        4-variants) stage_4_variants ;;
        5-sanitizers) stage_5_sanitizers ;;
    esac
    echo "== stage $SBB_STAGE done: $(cat "$SBB_NOTE")"
    exit "$FAILED"
}

if [ "${1:-}" = --stage ]; then
    [ -n "${SBB_R:-}" ] || { echo "gpu-results: --stage is the driver's, not an option" >&2; exit 2; }
    stage_main
fi

# ============================================================ the driver
usage() { echo "usage: scripts/gpu-results.sh [--standin] OUTDIR" >&2; exit 2; }
mode=gpu
[ "${SB_BATTERY_STANDIN:-0}" = 1 ] && mode=standin
out=""
while [ $# -gt 0 ]; do
    case "$1" in
        --standin) mode=standin ;;
        -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$SELF"; exit 0 ;;
        -*) usage ;;
        *) [ -z "$out" ] || usage; out=$1 ;;
    esac
    shift
done
[ -n "$out" ] || usage
if [ "$mode" = standin ]; then limit=240 reserve=$RESERVE_DRY; else limit=540 reserve=$RESERVE_GPU; fi
limit=${SB_BATTERY_LIMIT_S:-$limit}
[[ $limit =~ ^[1-9][0-9]*$ ]] || { echo "gpu-results: SB_BATTERY_LIMIT_S must be a whole number of seconds, not '$limit'" >&2; exit 2; }

# SB_BATTERY_STAGE_S="NAME=SECONDS ...": another limit for a stage (its least then at most that)
declare -A stage_s=()
for kv in ${SB_BATTERY_STAGE_S:-}; do
    k=${kv%%=*} v=${kv#*=} known=""
    for row in "${STAGE_TABLE[@]}"; do [ "${row%% *}" = "$k" ] && known=1; done
    if [ -z "$known" ] || ! [[ $v =~ ^[1-9][0-9]*$ ]]; then
        echo "gpu-results: SB_BATTERY_STAGE_S: '$kv' is not STAGE=SECONDS with a stage of STAGE_TABLE" >&2
        exit 2
    fi
    stage_s[$k]=$v
done

mkdir -p -- "$out" || exit 2
out=$(cd -- "$out" && pwd) || exit 2
archive=$out/battery.tar
# the archive is created here, empty, and refused if anything has its name (a file, a link, a
# FIFO: noclobber alone would open a FIFO or a device); afterwards it must be the new file
if [ -e "$archive" ] || [ -L "$archive" ] || ! (set -o noclobber && : >"$archive") 2>/dev/null ||
    [ -L "$archive" ] || [ ! -f "$archive" ] || [ -s "$archive" ]; then
    echo "gpu-results: $archive exists: give an OUTDIR without one" >&2
    exit 2
fi
work=$(mktemp -d "$out/gpu-results.XXXXXX") || { echo "gpu-results: cannot create a folder in $out" >&2; exit 2; }
R=$work/r
mkdir -- "$R" || exit 2
cd "$ROOT" || exit 2

say() { printf '%s\n' "$*" | tee -a "$R/run.log"; }

# archive_new: append to the archive every file of r/ that is new or changed since the last
# append (not the temporary files of a run that was cut off)
declare -A ARCHIVED=()
archive_new() {
    local rel sig list=()
    while IFS=$'\t' read -r -d '' rel sig; do
        [ "${ARCHIVED[$rel]:-}" = "$sig" ] && continue
        ARCHIVED[$rel]=$sig
        list+=("r/$rel")
    done < <(find "$R" -type f ! -name '*.tmp.*' -printf '%P\t%s:%T@\0' | sort -z)
    [ ${#list[@]} -eq 0 ] || tar -C "$work" -rf "$archive" -- "${list[@]}" ||
        say "gpu-results: appending to $archive failed"
}

# The node's copy has no .git: the caller names the commit (SB_GIT_REV=<hash> in the device
# command); the build stamps it into --version and every verdict's tool.git. Without it, the
# revision as the Makefile computes it (a -dirty tree included), so make rebuilds nothing.
if [ -z "${SB_GIT_REV:-}" ]; then
    SB_GIT_REV=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
    git diff --quiet HEAD 2>/dev/null || [ "$SB_GIT_REV" = unknown ] || SB_GIT_REV+=-dirty
fi
export SB_GIT_REV
echo "$SB_GIT_REV" >"$R/COMMIT"
# Debian 12's OpenBLAS does not recognise every server CPU and then runs a generic kernel
# (slow oracles, so a longer call). Name the kernel family the CPU supports unless the
# caller chose one. Host numbers from the node are still not quoted.
if [ -z "${OPENBLAS_CORETYPE:-}" ]; then
    has() { grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | grep -qw "$1"; }
    if has avx512f && has avx512dq && has avx512bw && has avx512vl; then
        export OPENBLAS_CORETYPE=SkylakeX
    elif has avx2 && has fma; then
        export OPENBLAS_CORETYPE=Haswell
    fi
fi
unset SAEBENCH_FAKE_DEVICE

export SBB_MODE=$mode SBB_R=$R SAEBENCH_SHAPES=$ROOT/shapes
if [ "$mode" = standin ]; then
    export SBB_BIN=$ROOT/build/standin/saebench-standin SBB_BIN_SHOWN=build/standin/saebench-standin
    export SBB_CMD_LIMIT=$CMD_LIMIT_DRY
else
    export SBB_BIN=$ROOT/saebench SBB_BIN_SHOWN=./saebench SBB_CMD_LIMIT=$CMD_LIMIT_GPU
    # nvcc as the Makefile finds it; compute-sanitizer on PATH, else beside that nvcc
    SBB_NVCC=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
    SBB_SANITIZER=$(command -v compute-sanitizer || echo "${SBB_NVCC%/nvcc}/compute-sanitizer")
    [ -x "$SBB_SANITIZER" ] || SBB_SANITIZER=
    export SBB_NVCC SBB_SANITIZER
fi
{
    echo "# each line: the stage, a tab, the command. Commands run in r/ with SAEBENCH_SHAPES naming"
    echo "# the project's shapes/; a relative path is in r/ (the run's own files) or else under the"
    echo "# project root ($SBB_BIN_SHOWN, scripts/, .anchors/, build/)."
} >"$R/COMMANDS"
printf '# %s mode, overall limit %d s; stage, started (UTC), seconds, status, how its commands ended\n' \
    "$mode" "$limit" >"$R/STAGES"
say "gpu-results: $mode battery, commit $SB_GIT_REV, overall limit $limit s, archive $archive"
say "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset, OpenBLAS picks}"
archive_new

status=0
built=""
build_result="not run"
for row in "${STAGE_TABLE[@]}"; do
    read -r name glim gmin dlim dmin <<<"$row"
    if [ "$mode" = standin ]; then slim=$dlim smin=$dmin; else slim=$glim smin=$gmin; fi
    [ -z "${stage_s[$name]:-}" ] || slim=${stage_s[$name]} smin=$((smin < slim ? smin : slim))
    left=$((limit - SECONDS - reserve))
    skip=""
    if [ "$name" != 1-build ] && [ -z "$built" ]; then
        skip="needs $SBB_BIN_SHOWN from stage 1-build ($build_result)"
    elif [ "$name" = 5-sanitizers ] && [ "$mode" = standin ]; then
        skip="compute-sanitizer does not run on the CPU stand-in"
    elif [ "$name" = 5-sanitizers ] && [ -z "$SBB_SANITIZER" ]; then
        skip="compute-sanitizer is not on PATH (nor beside nvcc)"
    elif [ "$left" -lt "$smin" ]; then
        skip="$left s left of the battery's $limit s, the stage needs at least $smin s"
    fi
    if [ -n "$skip" ]; then
        case "$name:$skip" in 5-sanitizers:compute-sanitizer*) ;; *) status=1 ;; esac # by design: no
        [ "$name" = 1-build ] && build_result="skipped"
        say "== $name: skipped: $skip"
        printf '%s\t-\t-\tskipped: %s\t\n' "$name" "$skip" >>"$R/STAGES"
        archive_new
        continue
    fi
    lim=$((slim < left ? slim : left))
    log=$R/stage-$name.log
    started=$(date -u +%FT%TZ)
    t0=$SECONDS
    say "== $name: started $started, limit $lim s ($((limit - SECONDS)) s of the battery left)"
    export SBB_STAGE=$name SBB_NOTE=$work/note
    # timeout leads its own process group: at the limit the whole stage ends, every command in it
    timeout -k 5 "$lim" bash "$SELF" --stage >"$log" 2>&1 &
    pid=$!
    wait "$pid"
    rc=$?
    dt=$((SECONDS - t0))
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        kill -KILL -- "-$pid" 2>/dev/null # what is left of that group, if anything
        result="cut off at its limit ($lim s)"
        status=1
    else
        result="exit $rc"
        [ "$rc" -eq 0 ] || status=1
    fi
    if [ "$name" = 1-build ]; then
        build_result=$result
        [ "$rc" -eq 0 ] && [ -x "$SBB_BIN" ] && built=1
    fi
    note=$(cat "$SBB_NOTE" 2>/dev/null)
    tail -n 12 "$log"
    say "== $name: $result after $dt s: $note"
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$started" "$dt" "$result" "$note" >>"$R/STAGES"
    archive_new
done
rm -f -- "$work/note"
# Under what conditions each verdict was taken (docs/verdict.md: timing.sm_clock,
# device.conditions, validity): one line per verdict, in CONDITIONS and the log.
conditions_summary() {
    local f
    printf '# verdict\texit\tengaged\tSM clock MHz median/min\tthrottled kept/discarded\tcache\tNVML: other processes, clock events\tvalidity\n'
    for f in "$R"/*.json; do
        [ -f "$f" ] || continue
        jq -r --arg n "$(basename "$f" .json)" '
            select((.schema // "") | startswith("saebench.verdict/")) |
            def num: if . == null then "-" else (. * 10 | round / 10 | tostring) end;
            (.timing.sm_clock // {}) as $c | (.device.conditions // {}) as $d |
            [$n, (.exit_code | tostring), (.engaged | tostring),
             (if $c.measured then "\($c.median_mhz | num)/\($c.min_mhz | num)" else "- (\($c.why // "not recorded"))" end),
             (if $c.measured then "\($c.throttled_kept)/\($c.throttled_discarded)" else "-" end),
             (.timing.cache // "warm"),
             (if ($d | has("nvml")) | not then "-"
              elif $d.nvml != "loaded" then $d.nvml
              else "\([$d.before, $d.after | select(. != null) | .other_processes | length] | max // 0) others, \(
                    [$d.before, $d.after | select(. != null) | .clock_event_reasons[]?] | unique | join(",") | if . == "" then "none" else . end)" end),
             (if .validity.valid then "valid" else "not valid: " + (.validity.failed + [.validity.unchecked[] | . + "?"] | join(",")) end)
            ] | join("\t")' "$f" 2>/dev/null
    done
    # the device calibration's own conditions, when it measured (a comment line: not a verdict)
    [ -f "$R/calibration.json" ] && jq -r '
        select(.device.conditions.nvml != null) | .device.conditions as $d |
        "# calibration.json: NVML \($d.nvml); warnings: \(($d.warnings // []) | if length == 0 then "none" else join("; ") end)"
        ' "$R/calibration.json" 2>/dev/null
    true
}
conditions_summary >"$R/CONDITIONS"
say "== conditions (CONDITIONS: $(grep -vc '^#' "$R/CONDITIONS") verdicts):"
if command -v column >/dev/null; then column -t -s $'\t' "$R/CONDITIONS"; else cat "$R/CONDITIONS"; fi | tee -a "$R/run.log"
say "== stages ($SECONDS s in all):"
grep -v '^#' "$R/STAGES" | tee -a "$R/run.log"
archive_new
rm -rf -- "$work" # the mktemp folder of this run, made above
echo "archive: $archive"
exit "$status"
