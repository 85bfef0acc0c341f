#!/usr/bin/env bash
# The GPU battery's dry run (make test-battery-dryrun): scripts/gpu-results.sh --standin
# on the CPU stand-in build, and its archive. Checks that the archive holds COMMIT, COMMANDS
# and STAGES, appended after every stage; that every saebench run of stages 2-4 has its
# verdict there, schema-valid, engaged, on the stand-in's execution path (the CUDA example
# plugin's smoke run: engaged by its claim of the stand-in's device), and that stages 3
# and 4 ran every canonical shape through its substitute; that a battery cut off by a small
# limit still leaves an archive with what was done and STAGES saying what was cut or skipped;
# that nothing is written outside OUTDIR; and that no verdict under results/ comes from the
# stand-in.
# usage: tests/standin/run-battery-dryrun.sh   (needs build/standin/saebench-standin)
set -u

# shellcheck source=tests/lib/battery.sh
. "$(dirname "$0")/../lib/battery.sh"
sb_battery_setup battery-dryrun jsonschema
SCRIPT=$ROOT/scripts/gpu-results.sh
STANDIN=$ROOT/build/standin/saebench-standin
[ -x "$STANDIN" ] || { echo "$0: $STANDIN is not built (make standin-saebench)" >&2; exit 2; }
# the saebench runs each stage makes (scripts/gpu-results.sh): calibrate is not run on
# the stand-in; stage 2: 6 and the CUDA example plugin; stage 3: 5 resident-solve, 4 arrow,
# 3 encode, 2 multiplex; stage 4: 10 + 3
declare -A RUNS=([2-smoke]=7 [3-canonical]=14 [4-variants]=13)
CANONICAL="battery color-arm color-arm-variants encode-color encode-device-small encode-qwen qwen sae-2k-2048 sae-4k-4096 sae-8k-1024"

echo "== GPU battery dry run: $SCRIPT --standin"

# holds DESC TEST...: one test that the test command succeeds; DETAIL, when set, explains a failure
holds() {
    local desc=$1
    shift
    if "$@"; then ok "$desc"; else bad "$desc" ${DETAIL:+"$DETAIL"}; fi
}
# entries DIR: the names in DIR, one a line
entries() { find "$1" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort; }

# standin_verdicts DIR: the verdicts under DIR that come from the stand-in (its execution
# path, or a device, probed or claimed by a plugin, that says it is not a GPU)
standin_verdicts() {
    local f
    while IFS= read -r -d '' f; do
        jq -e '((.schema // "") | tostring | startswith("saebench.verdict/"))
               and (.execution_path == "stand-in-gpu-resident-full"
                    or ((.device.name // "") | tostring | test("not a GPU"))
                    or ((.plugin.device_claimed // "") | tostring | test("not a GPU")))' "$f" >/dev/null 2>&1 && echo "$f"
    done < <(find "$1" -name '*.json' -type f -print0)
}
count_verdicts() {
    local f n=0
    while IFS= read -r -d '' f; do
        jq -e '(.schema // "") | tostring | startswith("saebench.verdict/")' "$f" >/dev/null 2>&1 && n=$((n + 1))
    done < <(find "$1" -name '*.json' -type f -print0)
    echo "$n"
}

# ---- 1. results/ holds device results only: no verdict of the stand-in ----
found=$(standin_verdicts "$ROOT/results")
if [ -z "$found" ]; then
    ok "results/: none of its $(count_verdicts "$ROOT/results") verdicts comes from the stand-in"
else
    bad "results/ holds stand-in verdicts (execution_path stand-in-gpu-resident-full or 'not a GPU')" "$found"
fi

# stage_of STAGES NAME: the status column of NAME's line
stage_of() { awk -F'\t' -v s="$2" '$1 == s { print $4 }' "$1"; }
# outs_of COMMANDS STAGE: the --out file of each saebench run of STAGE
outs_of() {
    awk -F'\t' -v s="$2" '$1 == s && / --out / { sub(/.* --out /, "", $2); sub(/ .*/, "", $2); print $2 }' "$1"
}
# check_verdicts LABEL FILE...: one schema run for all; each engaged on the stand-in's path
check_verdicts() {
    local label=$1 f got
    shift
    [ $# -gt 0 ] || { bad "$label: no verdict to check"; return; }
    got=$("$PY" "$VALIDATE" "$SCHEMA" "$@" 2>&1)
    for f in "$@"; do
        if grep -qxF "ok $f" <<<"$got"; then ok "$label: ${f##*/} validates"; else
            bad "$label: ${f##*/} does not validate" "$(grep -A3 -F "FAIL $f" <<<"$got" | head -n 4)"; fi
    done
    for f in "$@"; do
        if [ "$(jq -r .execution_path "$f")" = plugin-device-claimed ]; then
            check "$label: ${f##*/} engaged by the CUDA example's claim, the device it claims not a GPU" "$f" \
                '.engaged == true and .backend == "plugin-cuda-example" and (.plugin.device_claimed | test("not a GPU"))'
            continue
        fi
        check "$label: ${f##*/} engaged, execution_path stand-in-gpu-resident-full, device not a GPU" "$f" \
            '.engaged == true and .execution_path == "stand-in-gpu-resident-full" and (.device.name | test("not a GPU"))'
    done
}
# no_strays LABEL SCRATCH: SCRATCH (the run's parent folder) holds out/ with battery.tar
# alone, and the run's TMPDIR stayed empty
no_strays() {
    local label=$1 s=$2
    DETAIL=$(entries "$s/out" | head -n 5) holds "$label: OUTDIR holds battery.tar alone (its work folder removed)" \
        [ "$(entries "$s/out")" = battery.tar ]
    DETAIL=$(entries "$s/tmp" | head -n 5) holds "$label: nothing written to TMPDIR" [ -z "$(entries "$s/tmp")" ]
}

# ---- 2. the whole dry run ----
S=$WORK/full
mkdir -p "$S/tmp"
touch "$WORK/marker"
t0=$(date +%s)
TMPDIR=$S/tmp "$SCRIPT" --standin "$S/out" >"$S/console.log" 2>&1
rc=$?
dt=$(($(date +%s) - t0))
if [ "$rc" -eq 0 ]; then ok "dry run: exit 0 in $dt s"; else bad "dry run: exit $rc after $dt s, want 0" "$(tail -n 8 "$S/console.log")"; fi
no_strays "dry run" "$S"
# the project tree: nothing new or changed but the build (make standin-saebench, examples-standin)
changed=$(find "$ROOT" \( -path "$ROOT/build" -o -path "$ROOT/.git" \) -prune -o -newer "$WORK/marker" -print | grep -vxF "$ROOT")
if [ -z "$changed" ]; then ok "dry run: nothing written in the project tree outside build/"; else
    bad "dry run: wrote in the project tree" "$(head -n 5 <<<"$changed")"; fi

mkdir -p "$S/x"
if tar -xf "$S/out/battery.tar" -C "$S/x" 2>"$ERR"; then ok "dry run: battery.tar unpacks"; else
    bad "dry run: battery.tar does not unpack" "$(head -c 300 "$ERR")"; fi
A=$S/x/r
for f in COMMIT COMMANDS STAGES CONDITIONS BUILD run.log calibration.json side-by-side.txt stage-1-build.log \
    stage-2-smoke.log stage-3-canonical.log stage-4-variants.log; do
    if [ -s "$A/$f" ]; then ok "archive holds r/$f"; else bad "archive lacks r/$f"; fi
done
# appended after every stage: the first copy at the start, then one per stage
copies=$(tar -tf "$S/out/battery.tar" | grep -cx r/STAGES)
if [ "$copies" -eq 6 ]; then ok "STAGES appended at the start and after each of the 5 stages"; else
    bad "STAGES appended $copies times, want 6"; fi
DETAIL=$(cat "$A/STAGES") holds "STAGES: 1-build exit 0" [ "$(stage_of "$A/STAGES" 1-build)" = "exit 0" ]
for st in 2-smoke 3-canonical 4-variants; do
    DETAIL=$(cat "$A/STAGES") holds "STAGES: $st exit 0" [ "$(stage_of "$A/STAGES" "$st")" = "exit 0" ]
done
want="skipped: compute-sanitizer does not run on the CPU stand-in"
DETAIL=$(cat "$A/STAGES") holds "STAGES: 5-sanitizers $want" [ "$(stage_of "$A/STAGES" 5-sanitizers)" = "$want" ]
for want in "3-canonical:peer_torch: skipped" "4-variants:tiled_trace: skipped" "4-variants:make test-gpu: skipped"; do
    if grep -qF "${want#*:}" "$A/stage-${want%%:*}.log"; then ok "stage ${want%%:*} log: ${want#*:}"; else
        bad "stage ${want%%:*} log does not say '${want#*:}'"; fi
done

verdicts=()
for st in 2-smoke 3-canonical 4-variants; do
    mapfile -t outs < <(outs_of "$A/COMMANDS" "$st")
    if [ "${#outs[@]}" -eq "${RUNS[$st]}" ]; then ok "COMMANDS: $st ran ${RUNS[$st]} saebench commands"; else
        bad "COMMANDS: $st ran ${#outs[@]} saebench commands, want ${RUNS[$st]}"; fi
    missing=()
    for o in "${outs[@]}"; do
        if [ -f "$A/$o" ]; then verdicts+=("$A/$o"); else missing+=("$o"); fi
    done
    if [ ${#missing[@]} -eq 0 ]; then ok "archive: every $st command has its verdict"; else
        bad "archive: $st verdicts missing" "${missing[*]}"; fi
done
check_verdicts "dry run" "${verdicts[@]}"
n=$(count_verdicts "$A")
holds "archive: $n verdicts, as many as commands (${#verdicts[@]})" [ "$n" -eq "${#verdicts[@]}" ]
got=$(jq -rs 'map(.tool.git) | unique | join(" ")' "${verdicts[@]}")
holds "COMMIT ($(cat "$A/COMMIT")) names the commit of every verdict ($got)" [ "$got" = "$(cat "$A/COMMIT")" ]

# CONDITIONS: one line per verdict with its SM clock, throttling, cache, NVML and validity
nc=$(grep -vc '^#' "$A/CONDITIONS")
holds "CONDITIONS: one line per verdict ($nc for $n)" [ "$nc" -eq "$n" ]
bad_lines=$(grep -v '^#' "$A/CONDITIONS" | awk -F'\t' '$1 !~ /plugin/ && (NF != 8 || $4 !~ /^1980(\.0)?\/19[0-9][0-9]/ || $5 != "0/0" || $7 !~ /others/ || $8 !~ /^not valid: .*device-run/)')
plugin_lines=$(grep -v '^#' "$A/CONDITIONS" | awk -F'\t' '$1 ~ /plugin/ && $4 ~ /plugin/ && $7 == "-"' | wc -l)
holds "CONDITIONS: the plugin's run, no clock or NVML of saebench's, said so" [ "$plugin_lines" -ge 1 ]
DETAIL=$bad_lines holds "CONDITIONS: each engaged stand-in verdict at 1980 MHz, nothing throttled, NVML read, not valid (the stand-in)" \
    [ -z "$bad_lines" ]
grep -qF "== conditions (CONDITIONS: $n verdicts):" "$A/run.log" && ok "run.log prints the conditions" || bad "run.log lacks the conditions"

# stages 3 and 4 name each canonical shape through its substitute, and nothing else differs
subs=$(awk -F'\t' '$1 == "3-canonical" || $1 == "4-variants" { print $2 }' "$A/COMMANDS" |
    grep -o -- '--shape [^ ]*' | sort -u | sed 's/^--shape //')
names=$(sed -n 's/^standin-\(.*\)\.json$/\1/p' <<<"$subs" | sort | tr '\n' ' ')
if [ "${names% }" = "$CANONICAL" ] && [ "$(wc -l <<<"$subs")" -eq 10 ]; then
    ok "stages 3-4: every canonical shape as its substitute standin-NAME.json"
else
    bad "stages 3-4: shapes named: $(tr '\n' ' ' <<<"$subs")" "want standin-NAME.json for: $CANONICAL"
fi
for nm in $CANONICAL; do
    check "substitute standin-$nm.json: its name, reps 2 or fewer, the workloads of $nm" "$A/standin-$nm.json" \
        ".name == \"standin-$nm\" and .reps <= 2 and .workloads == $(jq -c .workloads "$ROOT/shapes/$nm.json")"
done

# the check of part 1 finds stand-in verdicts where there are some
found=$(standin_verdicts "$A" | wc -l)
holds "the results/ check flags $found of the ${#verdicts[@]} dry-run verdicts: all" [ "$found" -eq "${#verdicts[@]}" ]

# ---- 3. cut off: a 24 s battery whose stage 3 may take 2 s (its 14 runs take longer
# anywhere), so that stage 4 no longer fits ----
S=$WORK/cut
mkdir -p "$S/tmp"
TMPDIR=$S/tmp SB_BATTERY_LIMIT_S=24 SB_BATTERY_STAGE_S="3-canonical=2" "$SCRIPT" --standin "$S/out" >"$S/console.log" 2>&1
rc=$?
DETAIL=$(tail -n 8 "$S/console.log") holds "cut-off run: exit 1 (got $rc)" [ "$rc" -eq 1 ]
no_strays "cut-off run" "$S"
mkdir -p "$S/x"
tar -xf "$S/out/battery.tar" -C "$S/x" 2>/dev/null
A=$S/x/r
for f in COMMIT COMMANDS STAGES stage-1-build.log stage-2-smoke.log stage-3-canonical.log; do
    if [ -s "$A/$f" ]; then ok "cut-off archive holds r/$f"; else bad "cut-off archive lacks r/$f"; fi
done
for st in 1-build 2-smoke; do
    DETAIL=$(cat "$A/STAGES") holds "cut-off STAGES: $st exit 0" [ "$(stage_of "$A/STAGES" "$st")" = "exit 0" ]
done
DETAIL=$(cat "$A/STAGES") holds "cut-off STAGES: 3-canonical cut off at its limit (2 s), naming the run it stopped" \
    grep -qP '^3-canonical\t[^\t]*\t[0-9]+\tcut off at its limit \(2 s\)\t.*running: [a-z]' "$A/STAGES"
got=$(stage_of "$A/STAGES" 4-variants)
holds "cut-off STAGES: 4-variants: $got" grep -qE "^skipped: [0-9]+ s left of the battery's 24 s, the stage needs at least 20 s$" <<<"$got"
# every smoke run left its verdict, and so did each stage 3 run that ended before the cut; every
# verdict in the archive is whole (one that ended as the stage was cut may be there too)
outs=()
mapfile -t outs < <(outs_of "$A/COMMANDS" 2-smoke)
verdicts=()
missing=()
for o in "${outs[@]}"; do if [ -f "$A/$o" ]; then verdicts+=("$A/$o"); else missing+=("$o"); fi; done
holds "cut-off COMMANDS: 2-smoke ran ${#outs[@]} saebench commands, all ${RUNS[2-smoke]}" [ ${#outs[@]} -eq "${RUNS[2-smoke]}" ]
DETAIL="missing: ${missing[*]}" holds "cut-off archive: the verdicts of all ${#outs[@]} smoke runs" [ ${#missing[@]} -eq 0 ]
ended=$(sed -n 's/^   \([a-z0-9-]*\): exit [01]$/\1/p' "$A/stage-3-canonical.log")
n3=0
for r in $ended; do
    n3=$((n3 + 1))
    if [ -f "$A/$r.json" ]; then verdicts+=("$A/$r.json"); else missing+=("$r.json"); fi
done
DETAIL="missing: ${missing[*]}" holds "cut-off archive: the verdicts of the $n3 stage 3 runs that ended before the cut" \
    [ ${#missing[@]} -eq 0 ]
mapfile -t verdicts < <(find "$A" -name '*.json' ! -name calibration.json ! -name 'standin-*.json' | sort)
check_verdicts "cut-off run" "${verdicts[@]}"
if tar -tf "$S/out/battery.tar" | grep -q '\.tmp\.'; then bad "cut-off archive holds a temporary file"; else
    ok "cut-off archive: no temporary file"; fi
left=""
for p in /proc/[0-9]*; do
    case "$(readlink "$p/cwd" 2>/dev/null)" in "$S"*) left+=" ${p#/proc/}" ;; esac
done
DETAIL="processes:$left" holds "cut-off run: no process of the cut stage left running" [ -z "$left" ]

# ---- 4. refusals, before anything is written ----
# refused DESC CMD...: exit 2 and one line on stderr that says what was wrong
refused() {
    local desc=$1
    shift
    "$@" >"$OUTS" 2>"$ERR" # OUTS, ERR: tests/lib/harness.sh
    local rc=$? lines
    lines=$(wc -l <"$ERR")
    if [ "$rc" -eq 2 ] && [ "$lines" -eq 1 ] && grep -qE '^(gpu-results: |usage: )' "$ERR"; then ok "$desc"; else
        bad "$desc" "exit $rc, $lines lines on stderr: $(head -c 300 "$ERR")"; fi
}
S=$WORK/full
before=$(sig "$S/out/battery.tar")
refused "an OUTDIR that holds battery.tar: exit 2, one line" "$SCRIPT" --standin "$S/out"
says "  ... saying the archive exists" "battery.tar exists"
unchanged "  ... the archive untouched" "$S/out/battery.tar" "$before"
holds "  ... no folder made in OUTDIR" [ "$(entries "$S/out")" = battery.tar ]
# battery.tar a dangling link, a FIFO: refused, nothing written through them
mkdir -p "$WORK/link" "$WORK/fifo"
ln -s "$WORK/victim" "$WORK/link/battery.tar"
mkfifo "$WORK/fifo/battery.tar"
refused "an OUTDIR whose battery.tar is a dangling link: exit 2, one line" "$SCRIPT" --standin "$WORK/link"
holds "  ... nothing created where the link points" [ ! -e "$WORK/victim" ]
holds "  ... no folder made in OUTDIR" [ "$(entries "$WORK/link")" = battery.tar ]
refused "an OUTDIR whose battery.tar is a FIFO: exit 2, one line" timeout 20 "$SCRIPT" --standin "$WORK/fifo"
holds "  ... still a FIFO" [ -p "$WORK/fifo/battery.tar" ]
holds "  ... no folder made in OUTDIR" [ "$(entries "$WORK/fifo")" = battery.tar ]
refused "no OUTDIR: exit 2, the usage line" "$SCRIPT" --standin
SB_BATTERY_LIMIT_S=9m refused "SB_BATTERY_LIMIT_S=9m: exit 2, one line" "$SCRIPT" --standin "$WORK/limit"
holds "  ... OUTDIR not created" [ ! -e "$WORK/limit" ]
SB_BATTERY_STAGE_S="6-extra=5" refused "SB_BATTERY_STAGE_S with an unknown stage: exit 2, one line" \
    "$SCRIPT" --standin "$WORK/stage"
holds "  ... OUTDIR not created" [ ! -e "$WORK/stage" ]

sb_test_summary
