#!/usr/bin/env bash
# The shell scripts harm nothing they did not create, run nothing that came from a path,
# and leave no half result behind (scripts/sweep.sh, scripts/slurm/submit,
# scripts/gpu-node-setup.sh, scripts/gpu-bundle.sh, scripts/gpu-results.sh,
# scripts/install-deps.sh).
# usage: tests/cli/run-script-safety-tests.sh BINARY
#
# Run as root, as CI containers and GPU nodes run it. Everything happens in the scratch
# folder; the tools a script would use on the network or on the system (apt-get,
# apt-cache, dpkg-query, sbatch, make) are stand-ins on PATH there, and the .deb files are
# tiny fakes built with dpkg-deb. Each case asserts exit codes, that the user's victim
# files and links are unchanged, and that no *.tmp.* file is left. About 30 s on 2 cores
# (the two concurrent sweeps of plans/tiny.plan are most of it).
set -u

# shellcheck source=tests/lib/battery.sh
. "$(dirname "$0")/../lib/battery.sh"
sb_battery_bin "$@"
sb_battery_setup script-safety numpy
SW=$ROOT/scripts/sweep.sh
SUBMIT=$ROOT/scripts/slurm/submit
export SAEBENCH=$BIN
unset SAEBENCH_SWEEPS_DIR
sweeps_before=$(ls -A "$ROOT/results/sweeps" 2>/dev/null)

echo "== saebench script safety tests: $BIN"

# tree DIR: every path under DIR with its sig (a folder's state, to compare)
tree() { (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | while IFS= read -r p; do printf '%s %s\n' "$p" "$(sig "$p")"; done); }
same_tree() {
    local now
    now=$(tree "$2")
    if [ "$now" = "$3" ]; then ok "$1"; else bad "$1" "$(diff <(printf '%s\n' "$3") <(printf '%s\n' "$now") | head -n 8)"; fi
}
# run_rc WANT DESC PREFIX -- cmd...: one test of the exit code; for WANT 2 and a PREFIX
# (a refusal) also exactly one stderr line, starting with PREFIX; no *.tmp.* left in WORK.
# stdout in $OUTS, stderr in $ERR.
run_rc() {
    local want=$1 desc=$2 prefix=$3 rc problems=() left
    shift 4
    "$@" >"$OUTS" 2>"$ERR"
    rc=$?
    [ "$rc" -eq "$want" ] || problems+=("exit $rc, expected $want")
    if [ "$want" -eq 2 ] && [ -n "$prefix" ]; then
        [ "$(wc -l <"$ERR")" -eq 1 ] || problems+=("stderr has $(wc -l <"$ERR") lines, expected 1")
        [[ $(head -n 1 "$ERR") == "$prefix"?* ]] || problems+=("stderr does not start with '$prefix'")
    fi
    left=$(find "$WORK" -name '*.tmp.*' 2>/dev/null | head -n 3)
    [ -z "$left" ] || problems+=("temporary files left: ${left//$'\n'/ }")
    if [ ${#problems[@]} -eq 0 ]; then ok "$desc"; return 0; fi
    bad "$desc" "command: $*" "${problems[@]}" "stderr: $(head -c 600 "$ERR")"
    return 1
}
no_tmp() {
    local left
    left=$(find "$WORK" \( -name '*.tmp.*' -o -name '.dl.*' -o -name '.saebench-stage.*' -o -name 'gpu-results.??????' \) 2>/dev/null | head -n 3)
    [ -z "$left" ] && ok "$1" || bad "$1" "left: ${left//$'\n'/ }"
}
# alive PID: the process exists and is not a zombie waiting for a reaper
alive() { [ -e "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
rows() { tail -n +2 "$1" 2>/dev/null | wc -l; }

FAKE=$WORK/bin # stand-ins put first on PATH by the cases that need them
mkdir "$FAKE"
# sbatch: records its arguments (one per line, a new file per call) and prints a job id
cat >"$FAKE/sbatch" <<'EOF'
#!/bin/bash
n=$(ls "$SBATCH_LOG".* 2>/dev/null | wc -l)
printf '%s\n' "$@" >"$(mktemp "$SBATCH_LOG.XXXXXX")"
echo "$((1000 + n));cluster"
EOF
chmod +x "$FAKE/sbatch"
FASTCAL=(--reps 2 --warmup 0 --calibration "$CAL")

# ================================================================ sweeps: one folder each
# Two sweeps started in the same second with the same --out-less command end in two
# folders (NAME and NAME-2), each with only its own cells. Started at the top of a second,
# so both name the same one; tried again (in a new parent) if they did not.
plan=$ROOT/plans/tiny.plan
collided=0
for try in 1 2 3; do
    P=$WORK/sweeps-$try
    while [ "$(date +%N | cut -c1)" -ge 3 ]; do sleep 0.05; done
    SAEBENCH_SWEEPS_DIR=$P "$SW" "$plan" --no-html >"$WORK/sw1.out" 2>"$WORK/sw1.err" &
    p1=$!
    SAEBENCH_SWEEPS_DIR=$P "$SW" "$plan" --no-html >"$WORK/sw2.out" 2>"$WORK/sw2.err" &
    p2=$!
    wait $p1
    rc1=$?
    wait $p2
    rc2=$?
    mapfile -t dirs < <(ls "$P" 2>/dev/null)
    if [ ${#dirs[@]} -eq 2 ] && [ "${dirs[1]}" = "${dirs[0]}-2" ]; then collided=1; break; fi
    [ ${#dirs[@]} -eq 2 ] || break
    echo "     (try $try: the two sweeps named different seconds: ${dirs[*]}; again)"
done
if [ "$rc1" -eq 0 ] && [ "$rc2" -eq 0 ] && [ "$collided" -eq 1 ]; then
    ok "two sweeps in the same second: both exit 0, in ${dirs[0]} and ${dirs[0]}-2"
else
    bad "two sweeps in the same second: both exit 0, two folders NAME and NAME-2" "exits $rc1 $rc2, folders: ${dirs[*]:-none}" \
        "$(cat "$WORK/sw1.err" "$WORK/sw2.err" | head -n 6)"
fi

problems=()
for d in "${dirs[@]}"; do
    D=$P/$d
    [ "$(rows "$D/cells.tsv")" -eq 4 ] || problems+=("$d: $(rows "$D/cells.tsv") rows in cells.tsv")
    [ "$(cut -f3 "$D/cells.tsv" | tail -n +2 | sort -u)" = 0 ] || problems+=("$d: exits $(cut -f3 "$D/cells.tsv" | tail -n +2 | tr '\n' ' ')")
    [ "$(grep -c -- "--out $D/" "$D/cells.tsv")" -eq 4 ] || problems+=("$d: not every command writes into $d")
    [ "$(ls "$D"/*.json 2>/dev/null | wc -l)" -eq 4 ] || problems+=("$d: $(ls "$D"/*.json 2>/dev/null | wc -l) verdicts")
    [ "$(ls "$D/logs" | wc -l)" -eq 4 ] || problems+=("$d: $(ls "$D/logs" | wc -l) logs")
    [ "$(grep -c '^start:' "$D/machine.txt")" -eq 1 ] || problems+=("$d: machine.txt has $(grep -c '^start:' "$D/machine.txt") start lines")
    [ "$(grep -cE '^(resident-solve|inner-loop|outer-seq) ' "$D/report.txt")" -eq 4 ] || problems+=("$d: report.txt rows: $(grep -cE '^(resident-solve|inner-loop|outer-seq) ' "$D/report.txt")")
    cmp -s "$D/plan" "$plan" || problems+=("$d: plan is not the plan")
done
[ ${#problems[@]} -eq 0 ] && [ ${#dirs[@]} -eq 2 ] && ok "  each folder has only its own 4 cells: rows, verdicts, logs, one machine.txt start, a 4-row report" ||
    { bad "  each folder has only its own 4 cells" "${problems[@]}"; }
o1=$(grep -o 'in [^;]*; report' "$WORK/sw1.out")
o2=$(grep -o 'in [^;]*; report' "$WORK/sw2.out")
[ -n "$o1" ] && [ "$o1" != "$o2" ] && ok "  the two summaries name different folders" || bad "  the two summaries name different folders" "'$o1' '$o2'"

# --out DIR: an existing non-empty DIR is refused; DIR unchanged, nothing run
X=$WORK/taken
mkdir "$X"
echo "the user's notes" >"$X/notes.txt"
before=$(tree "$X")
run_rc 2 "sweep --out an existing non-empty folder: exit 2, one line" "sweep: " -- "$SW" "$plan" --out "$X"
same_tree "  the folder is unchanged" "$X" "$before"
mkdir "$WORK/taken2"
mkdir "$WORK/taken2/logs"
run_rc 2 "sweep --out a folder another sweep claimed (has logs/): exit 2" "sweep: " -- "$SW" "$plan" --out "$WORK/taken2"

# submit: the same claim (stand-in sbatch); two submits in one second get two folders
export SBATCH_LOG=$WORK/sbatch-args
run_rc 2 "submit --out an existing non-empty folder: exit 2, one line" "sweep: " -- env PATH="$FAKE:$PATH" "$SUBMIT" "$plan" --no-gpu --out "$X"
same_tree "  the folder is unchanged" "$X" "$before"
[ -z "$(ls "$SBATCH_LOG".* 2>/dev/null)" ] && ok "  nothing was submitted" || bad "  nothing was submitted" "$(ls "$SBATCH_LOG".*)"
for try in 1 2 3; do
    P=$WORK/submits-$try
    while [ "$(date +%N | cut -c1)" -ge 5 ]; do sleep 0.05; done
    SAEBENCH_SWEEPS_DIR=$P PATH="$FAKE:$PATH" "$SUBMIT" "$plan" --no-gpu >"$WORK/sub1.out" 2>&1 &
    p1=$!
    SAEBENCH_SWEEPS_DIR=$P PATH="$FAKE:$PATH" "$SUBMIT" "$plan" --no-gpu >"$WORK/sub2.out" 2>&1 &
    p2=$!
    wait $p1
    rc1=$?
    wait $p2
    rc2=$?
    mapfile -t dirs < <(ls "$P" 2>/dev/null)
    [ ${#dirs[@]} -eq 2 ] && [ "${dirs[1]}" = "${dirs[0]}-2" ] && break
done
d1=$(sed -n 's/^sweep dir: //p' "$WORK/sub1.out")
d2=$(sed -n 's/^sweep dir: //p' "$WORK/sub2.out")
if [ "$rc1" -eq 0 ] && [ "$rc2" -eq 0 ] && [ ${#dirs[@]} -eq 2 ] && [ "${dirs[1]}" = "${dirs[0]}-2" ] && [ "$d1" != "$d2" ] &&
    [ -f "$d1/plan" ] && [ -d "$d1/logs" ] && [ -d "$d1/cells.d" ] && [ -f "$d2/plan" ] && [ -d "$d2/cells.d" ]; then
    ok "two submits in the same second: two folders (${dirs[0]}, -2), each with plan, logs/, cells.d/"
else
    bad "two submits in the same second: two folders" "exits $rc1 $rc2; folders ${dirs[*]:-none}; '$d1' '$d2'" "$(head -n 3 "$WORK/sub1.out" "$WORK/sub2.out")"
fi
[ "$(grep -lxF -- "$d1" "$SBATCH_LOG".* 2>/dev/null | wc -l)" -ge 2 ] && [ "$(grep -lxF -- "$d2" "$SBATCH_LOG".* 2>/dev/null | wc -l)" -ge 2 ] &&
    ok "  each submit's jobs were given its own folder" || bad "  each submit's jobs were given its own folder" "$(cat "$SBATCH_LOG".* 2>/dev/null | grep -F "$WORK" | sort -u)"
rm -f "$SBATCH_LOG".* # the stand-in's records, written in this run

# ================================================================ signals
# A saebench whose tiny-dual cell hangs (records its pid, then becomes a sleep); cell 1 is
# a real, quick one. SIGTERM/SIGINT to the sweep alone, while cell 2 runs. The plan's
# check (every cell's --dry-run) is the real binary's.
cat >"$WORK/slow-saebench" <<EOF
#!/bin/bash
case " \$* " in *" --dry-run "*) exec "$BIN" "\$@" ;; esac
if [ "\$1" != shapes ]; then
    for a in "\$@"; do [ "\$a" = tiny-dual ] && { echo \$\$ >"\$SLOW_PID"; exec sleep 60; }; done
fi
exec "$BIN" "\$@"
EOF
chmod +x "$WORK/slow-saebench"
printf 'resident-solve tiny-primal host %s\nresident-solve tiny-dual host %s\ninner-loop tiny-arrow host %s\n' \
    "${FASTCAL[*]}" "${FASTCAL[*]}" "${FASTCAL[*]}" >"$WORK/slow.plan"
for s in TERM INT; do
    want=$([ $s = TERM ] && echo 143 || echo 130)
    D=$WORK/sig-$s
    export SLOW_PID=$WORK/slow-$s.pid
    set -m # the sweep in its own process group, SIGINT not ignored (as in a terminal)
    SAEBENCH=$WORK/slow-saebench "$SW" "$WORK/slow.plan" --no-html --out "$D" >"$WORK/sig.out" 2>"$WORK/sig.err" &
    sp=$!
    set +m
    for _ in $(seq 1 200); do [ -s "$SLOW_PID" ] && break; sleep 0.05; done
    cell=$(cat "$SLOW_PID" 2>/dev/null)
    t0=$(date +%s%N)
    kill -$s "$sp"
    # wait at most 10 s for the sweep
    for _ in $(seq 1 100); do kill -0 "$sp" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$sp" 2>/dev/null; then kill -KILL "$sp"; fi
    wait "$sp"
    rc=$?
    ms=$((($(date +%s%N) - t0) / 1000000))
    [ "$rc" -eq "$want" ] && [ "$ms" -lt 6000 ] && ok "SIG$s to a sweep while a cell runs: exit $want after $ms ms" ||
        bad "SIG$s to a sweep while a cell runs: exit $want within a few seconds" "exit $rc after $ms ms" "$(head -c 400 "$WORK/sig.err")"
    [ -n "$cell" ] && ! alive "$cell" && ok "  the running cell (pid $cell) is gone" ||
        { bad "  the running cell is gone" "pid ${cell:-none} $(alive "${cell:-0}" && echo alive)"; [ -n "$cell" ] && kill "$cell" 2>/dev/null; }
    r1=$(sed -n 2p "$D/cells.tsv" 2>/dev/null | cut -f1,3)
    r2=$(sed -n 3p "$D/cells.tsv" 2>/dev/null | cut -f1,3,8)
    r3=$(sed -n 4p "$D/cells.tsv" 2>/dev/null | cut -f1,3)
    [ "$r1" = "resident-solve-tiny-primal-host	0" ] && [ "$r2" = "resident-solve-tiny-dual-host	$want	interrupted" ] &&
        [ "$r3" = "inner-loop-tiny-arrow-host	-" ] && [ "$(rows "$D/cells.tsv")" -eq 3 ] &&
        ok "  cells.tsv: cell 1 exit 0, cell 2 exit $want interrupted, cell 3 never ran" ||
        bad "  cells.tsv: cell 1 exit 0, cell 2 exit $want interrupted, cell 3 never ran" "$(cat "$D/cells.tsv" 2>&1 | cut -f1,3,8)"
    grep -q '^resident-solve  *tiny-primal  *host ' "$D/report.txt" 2>/dev/null &&
        grep -q 'resident-solve-tiny-dual-host (exit '"$want"', interrupted' "$D/report.txt" &&
        ok "  report.txt has the cell that ran and names the interrupted one" ||
        bad "  report.txt has the cell that ran and names the interrupted one" "$(cat "$D/report.txt" 2>&1 | head -n 8)"
    no_tmp "  no temporary file left"
done
# a Slurm array task (--cell N) stopped the same way: its row is written, marked interrupted
export SLOW_PID=$WORK/slow-cell.pid
mkdir "$WORK/sig-cell"
set -m
SAEBENCH=$WORK/slow-saebench "$SW" "$WORK/slow.plan" --cell 2 --out "$WORK/sig-cell" >/dev/null 2>&1 &
sp=$!
set +m
for _ in $(seq 1 200); do [ -s "$SLOW_PID" ] && break; sleep 0.05; done
cell=$(cat "$SLOW_PID" 2>/dev/null)
kill -TERM "$sp"
wait "$sp"
rc=$?
[ "$rc" -eq 143 ] && [ "$(cut -f3,8 "$WORK/sig-cell/cells.d/2.tsv" 2>/dev/null)" = "143	interrupted" ] && ! alive "${cell:-0}" &&
    ok "SIGTERM to a --cell task: exit 143, cells.d/2.tsv marked interrupted, the cell gone" ||
    { bad "SIGTERM to a --cell task: exit 143, row interrupted, cell gone" "exit $rc, row '$(cat "$WORK/sig-cell/cells.d/2.tsv" 2>&1)'"
      [ -n "$cell" ] && kill "$cell" 2>/dev/null; }
unset SLOW_PID

# ================================================================ a cell that exits 2
# --reps 0 is now refused by the plan check (the cell's --dry-run), before anything runs
printf 'resident-solve tiny-primal host %s\nresident-solve tiny-dual host --reps 0 --calibration %s\n' "${FASTCAL[*]}" "$CAL" >"$WORK/reps0.plan"
run_rc 2 "a cell with --reps 0: refused by its --dry-run before any cell runs" "sweep: " -- "$SW" "$WORK/reps0.plan" --no-html --out "$WORK/reps0"
[ ! -e "$WORK/reps0" ] && ok "  no sweep folder was created" || bad "  no sweep folder was created" "$(ls -A "$WORK/reps0")"
# a cell that passes the check and exits 2 at run time all the same (a saebench that
# does so for tiny-dual, after its real --dry-run)
cat >"$WORK/exit2-saebench" <<EOF
#!/bin/bash
case " \$* " in *" --dry-run "*) exec "$BIN" "\$@" ;; esac
[ "\$1" = shapes ] || case " \$* " in *" tiny-dual "*) echo "saebench: a late input error" >&2; exit 2 ;; esac
exec "$BIN" "\$@"
EOF
chmod +x "$WORK/exit2-saebench"
printf 'resident-solve tiny-primal host %s\nresident-solve tiny-dual host %s\n' "${FASTCAL[*]}" "${FASTCAL[*]}" >"$WORK/usage.plan"
run_rc 2 "a cell that exits 2 at run time: the sweep exits 2" "" -- env SAEBENCH="$WORK/exit2-saebench" "$SW" "$WORK/usage.plan" --no-html --out "$WORK/usage"
grep -q '^resident-solve  *tiny-primal ' "$WORK/usage/report.txt" 2>/dev/null && grep -q '#   resident-solve-tiny-dual-host (exit 2' "$WORK/usage/report.txt" &&
    ok "  report.txt has the other cell and names the one without a verdict" || bad "  report.txt names the cell without a verdict" "$(cat "$WORK/usage/report.txt" 2>&1)"
grep -q '1 without a verdict' "$OUTS" && ok "  the summary line counts it" || bad "  the summary line counts it" "$(cat "$OUTS")"
run_rc 2 "the merge (--finish) of a sweep with a cell that exited 2: exit 2" "" -- "$SW" --finish "$WORK/usage" --no-html
# a cell that fails at run time (exit 4, its verdict written): the sweep exits 4 and says so
cat >"$WORK/exit4-saebench" <<EOF
#!/bin/bash
case " \$* " in *" --dry-run "*) exec "$BIN" "\$@" ;; esac
[ "\$1" = shapes ] && exec "$BIN" "\$@"
"$BIN" "\$@" || exit \$?
case " \$* " in *" tiny-dual "*) exit 4 ;; esac
EOF
chmod +x "$WORK/exit4-saebench"
run_rc 4 "a cell that exits 4 at run time: the sweep exits 4" "" -- env SAEBENCH="$WORK/exit4-saebench" "$SW" "$WORK/usage.plan" --no-html --out "$WORK/rt4"
grep -q '# 1 cell(s) failed at run time (exit 4; their verdicts say why): resident-solve-tiny-dual-host' "$WORK/rt4/report.txt" 2>/dev/null &&
    ok "  report.txt names the cell that failed at run time" || bad "  report.txt names the cell that failed at run time" "$(tail -n 3 "$WORK/rt4/report.txt" 2>&1)"
grep -q 'failed at run time (exit 4): resident-solve-tiny-dual-host' "$ERR" && ok "  stderr says so" || bad "  stderr says so" "$(cat "$ERR")"

# ================================================================ dry runs
# The output path holds command substitutions, quoted, unquoted and in double quotes: the
# printed commands are shell-quoted, so pasting them runs none and passes the path intact.
PAY="a'\$(touch PWNED)'b\$(touch PWNED)c\"\$(touch PWNED)\"d"
PO=$WORK/dry/$PAY
PASTE=$WORK/paste
mkdir -p "$PASTE"
run_rc 0 "sweep --dry-run with \$(...) in the output path" "" -- "$SW" "$plan" --dry-run --out "$PO"
cp "$OUTS" "$WORK/dry-sweep.txt"
[ ! -e "$WORK/dry" ] && ok "  creates nothing" || bad "  creates nothing" "$(ls -A "$WORK/dry")"
bash -n "$WORK/dry-sweep.txt" 2>"$ERR" && ok "  the printed text parses (bash -n)" || bad "  the printed text parses (bash -n)" "$(cat "$ERR")"
# pasted into bash in a scratch folder whose ./saebench records its arguments
printf '#!/bin/bash\nprintf "%%s\\n" "$@" >>"%s/argv"\n' "$PASTE" >"$PASTE/saebench"
chmod +x "$PASTE/saebench"
(cd "$PASTE" && bash -c "$(cat "$WORK/dry-sweep.txt")") >/dev/null 2>&1
[ -z "$(find "$WORK" "$ROOT" -name PWNED 2>/dev/null)" ] && ok "  pasted into bash: no PWNED anywhere" ||
    bad "  pasted into bash: no PWNED anywhere" "$(find "$WORK" "$ROOT" -name PWNED)"
grep -qxF -- "$PO/resident-solve-tiny-primal-host.json" "$PASTE/argv" 2>/dev/null &&
    [ "$(grep -c '^resident-solve$\|^inner-loop$\|^outer-seq$' "$PASTE/argv")" -eq 4 ] &&
    ok "  pasted: 4 cells ran, each --out the path intact" || bad "  pasted: 4 cells, each --out the path intact" "$(grep -F -- "$WORK" "$PASTE/argv" | head -n 2)"

run_rc 0 "submit --dry-run with \$(...) in the output path" "" -- "$SUBMIT" "$plan" --dry-run --no-gpu --out "$PO"
cp "$OUTS" "$WORK/dry-submit.txt"
[ ! -e "$WORK/dry" ] && ok "  creates nothing" || bad "  creates nothing" "$(ls -A "$WORK/dry")"
bash -n "$WORK/dry-submit.txt" 2>"$ERR" && ok "  the printed text parses (bash -n)" || bad "  the printed text parses (bash -n)" "$(cat "$ERR")"
export SBATCH_LOG=$PASTE/sbatch
(cd "$PASTE" && PATH="$FAKE:$PATH" bash -c "$(cat "$WORK/dry-submit.txt")") >/dev/null 2>&1
[ -z "$(find "$WORK" "$ROOT" -name PWNED 2>/dev/null)" ] && ok "  pasted into bash: no PWNED anywhere" ||
    bad "  pasted into bash: no PWNED anywhere" "$(find "$WORK" "$ROOT" -name PWNED)"
merge_args=$(grep -lxF -- "--dependency=afterok:1000" "$SBATCH_LOG".* 2>/dev/null)
grep -qxF -- "--output=$PO/logs/slurm-%A_%a.out" "$SBATCH_LOG".* 2>/dev/null && [ -n "$merge_args" ] &&
    grep -qxF -- "$PO" "$merge_args" && [ -f "$PO/plan" ] &&
    ok "  pasted: both sbatch calls get the path intact, the merge depends on the array job" ||
    bad "  pasted: both sbatch calls get the path intact" "$(cat "$SBATCH_LOG".* 2>&1 | head -n 30)"
unset SBATCH_LOG

# a plan the binary would refuse fails the dry run, naming the cell, as a run would
printf 'resident-solve tiny-primal host --reps 2\nresident-solve no-such-shape host --reps 2\n' >"$WORK/bad-shape.plan"
printf 'resident-solve tiny-primal host --reps 2\ninner-loop tiny-arrow host --bogus-option 3\n' >"$WORK/bad-opt.plan"
printf 'inner-loop tiny-primal host\n' >"$WORK/bad-pair.plan"
# what only the binary knows: a gate id, an option conflict
printf 'resident-solve tiny-primal host --reps 2\ninner-loop tiny-arrow host --gate XX-001=1\n' >"$WORK/bad-gate.plan"
printf 'resident-solve tiny-primal host --require-device\n' >"$WORK/bad-conflict.plan"
for tool in sweep submit; do
    if [ $tool = sweep ]; then cmd=("$SW"); else cmd=("$SUBMIT"); fi
    run_rc 2 "$tool --dry-run, a plan with an unknown shape: exit 2" "sweep: " -- "${cmd[@]}" "$WORK/bad-shape.plan" --dry-run --out "$WORK/never"
    grep -q 'resident-solve-no-such-shape-host' "$ERR" && ok "  the line names the cell" || bad "  the line names the cell" "$(cat "$ERR")"
    run_rc 2 "$tool --dry-run, a plan with --bogus-option: exit 2" "sweep: " -- "${cmd[@]}" "$WORK/bad-opt.plan" --dry-run --out "$WORK/never"
    grep -q "inner-loop-tiny-arrow-host: unknown option '--bogus-option'" "$ERR" && ok "  the line names the cell and the option" || bad "  the line names the cell and the option" "$(cat "$ERR")"
    run_rc 2 "$tool --dry-run, a cell with an unknown gate (the binary's --dry-run): exit 2" "sweep: " -- "${cmd[@]}" "$WORK/bad-gate.plan" --dry-run --out "$WORK/never"
    grep -q "inner-loop-tiny-arrow-host: refused by 'inner-loop --dry-run': --gate: unknown gate 'XX-001'" "$ERR" && ok "  the line names the cell and the binary's reason" || bad "  the line names the cell and the binary's reason" "$(cat "$ERR")"
    run_rc 2 "$tool --dry-run, a cell whose options conflict: exit 2" "sweep: " -- "${cmd[@]}" "$WORK/bad-conflict.plan" --dry-run --out "$WORK/never"
done
run_rc 2 "sweep --dry-run, a shape of another workload: exit 2" "sweep: " -- "$SW" "$WORK/bad-pair.plan" --dry-run
run_rc 2 "sweep (a real run), a plan with an unknown shape: exit 2, nothing run" "sweep: " -- "$SW" "$WORK/bad-shape.plan" --out "$WORK/never"
[ ! -e "$WORK/never" ] && ok "  no sweep folder was created" || bad "  no sweep folder was created" "$(ls -A "$WORK/never")"

# ================================================================ gpu-node-setup.sh
GNS=$ROOT/scripts/gpu-node-setup.sh
# mkdebs DIR VERSION [broken]: a one-package fake deb set with every file the setup checks
# (broken: without cmocka.h, so the setup's check fails)
mkdebs() {
    local dir=$1 ver=$2 broken=${3:-} r f
    r=$(mktemp -d "$WORK/pkg.XXXXXX")
    local L=$r/usr/lib/x86_64-linux-gnu I=$r/usr/include
    mkdir -p "$r/DEBIAN" "$L/openblas-pthread/pkgconfig" "$I/x86_64-linux-gnu/openblas-pthread" "$I/cjson" "$dir"
    for f in libblas.so.3 liblapack.so.3 libopenblas.so.0 libblas.so liblapack.so libopenblas.so; do echo "$f $ver" >"$L/openblas-pthread/$f"; done
    for f in blas-openblas lapack-openblas openblas; do
        printf 'prefix=/usr\nlibdir=${prefix}/lib\nLibs: -L/usr/lib -lopenblas\n' >"$L/openblas-pthread/pkgconfig/$f.pc"
    done
    for f in cblas.h f77blas.h openblas_config.h; do echo "/* $f */" >"$I/x86_64-linux-gnu/openblas-pthread/$f"; done
    echo "lapacke $ver" >"$L/liblapacke.so.3.$ver"
    echo cjson >"$L/libcjson.so.1"
    echo cmocka >"$L/libcmocka.so.0"
    echo gfortran >"$L/libgfortran.so.5"
    echo '/* lapacke */' >"$I/lapacke.h"
    echo '/* cjson */' >"$I/cjson/cJSON.h"
    [ "$broken" = broken ] || echo '/* cmocka */' >"$I/cmocka.h"
    printf 'Package: saebench-fake-libs\nVersion: 1.%s\nArchitecture: amd64\nMaintainer: test <test@example.invalid>\nDescription: fake\n' "$ver" >"$r/DEBIAN/control"
    dpkg-deb --root-owner-group -Zgzip --build "$r" "$dir/saebench-fake-libs_1.${ver}_amd64.deb" >/dev/null 2>&1
    local rc=$?
    rm -rf -- "$r" # the mktemp folder made just above
    return $rc
}
if command -v dpkg-deb >/dev/null 2>&1 && mkdebs "$WORK/debs1" 1 && mkdebs "$WORK/debs2" 2 && mkdebs "$WORK/debs3" 3 broken; then
    PF=$WORK/prefix
    U=$PF/usr/lib/x86_64-linux-gnu/pkgconfig
    mkdir -p "$U"
    echo "the user's notes" >"$PF/usr/my-notes.txt"
    printf 'prefix=/usr\nLibs: -L/usr/lib -lmine\n' >"$U/mine.pc"
    notes=$(sig "$PF/usr/my-notes.txt")
    minepc=$(sig "$U/mine.pc")
    run_rc 0 "gpu-node-setup: first unpack into a prefix with the user's files in usr/" "" -- "$GNS" --no-build "$WORK/debs1" "$PF"
    [ -s "$PF/.saebench-manifest" ] && grep -qx 'usr/lib/x86_64-linux-gnu/liblapacke.so.3.1' "$PF/.saebench-manifest" &&
        ! grep -q 'my-notes\|mine.pc' "$PF/.saebench-manifest" && ok "  .saebench-manifest lists what it unpacked, not the user's files" ||
        bad "  .saebench-manifest lists what it unpacked" "$(head -n 5 "$PF/.saebench-manifest" 2>&1)"
    unchanged "  the user's .pc file is not rewritten" "$U/mine.pc" "$minepc"
    grep -q "^prefix=$PF/usr\$" "$PF/usr/lib/x86_64-linux-gnu/openblas-pthread/pkgconfig/openblas.pc" &&
        ok "  its own .pc files are rewritten into the prefix" || bad "  its own .pc files are rewritten" "$(cat "$PF/usr/lib/x86_64-linux-gnu/openblas-pthread/pkgconfig/openblas.pc")"
    run_rc 0 "gpu-node-setup: re-run with a changed deb set" "" -- "$GNS" --no-build "$WORK/debs2" "$PF"
    unchanged "  the user's file in PREFIX/usr is intact" "$PF/usr/my-notes.txt" "$notes"
    unchanged "  the user's .pc file is intact" "$U/mine.pc" "$minepc"
    [ ! -e "$PF/usr/lib/x86_64-linux-gnu/liblapacke.so.3.1" ] && [ -f "$PF/usr/lib/x86_64-linux-gnu/liblapacke.so.3.2" ] &&
        ok "  the old set's own file is removed, the new one is there" || bad "  old file removed, new one there" "$(ls "$PF/usr/lib/x86_64-linux-gnu")"
    good=$(tree "$PF")
    run_rc 1 "gpu-node-setup: a new bundle that fails its check: exit 1" "" -- "$GNS" --no-build "$WORK/debs3" "$PF"
    same_tree "  the working prefix is exactly as it was (files, manifest, env.sh, stamp)" "$PF" "$good"
    # a file of the user's where the bundle has a path: refused, nothing changed
    echo "the user's own lapacke" >"$PF/usr/lib/x86_64-linux-gnu/liblapacke.so.3.1"
    good=$(tree "$PF")
    run_rc 1 "gpu-node-setup: a user's file at a path of the new bundle: refused" "" -- "$GNS" --no-build "$WORK/debs1" "$PF"
    same_tree "  the prefix is unchanged" "$PF" "$good"
    # a file of the user's where the bundle has a folder: refused, nothing changed
    PD=$WORK/prefix-dir
    mkdir -p "$PD/usr/include"
    echo "the user's file named like a folder" >"$PD/usr/include/cjson"
    good=$(tree "$PD")
    run_rc 1 "gpu-node-setup: a user's file where the bundle has a folder: refused" "" -- "$GNS" --no-build "$WORK/debs1" "$PD"
    same_tree "  the prefix is unchanged" "$PD" "$good"
    no_tmp "  no staging folder or temporary file left"
    # a prefix set up by the older script (stamp, no manifest): the user's file survives
    PL=$WORK/prefix-legacy
    "$GNS" --no-build "$WORK/debs1" "$PL" >/dev/null 2>&1 && rm -f "$PL/.saebench-manifest"
    echo "the user's notes" >"$PL/usr/my-notes.txt"
    lnotes=$(sig "$PL/usr/my-notes.txt")
    run_rc 0 "gpu-node-setup: a prefix of the older script, changed deb set" "" -- "$GNS" --no-build "$WORK/debs2" "$PL"
    unchanged "  the user's file in PREFIX/usr is intact" "$PL/usr/my-notes.txt" "$lnotes"

    # env.sh of a prefix with command substitutions in its name
    PQ="$WORK/q'\$(touch\${IFS}PWNED)'\$(touch\${IFS}PWNED)"
    mkdir -p "$WORK/src-here"
    run_rc 0 "gpu-node-setup --no-build into a prefix with \$(...) in its name" "" -- "$GNS" --no-build "$WORK/debs1" "$PQ"
    got=$(cd "$WORK/src-here" && bash -c '. "$1/env.sh" && printf %s "$SB_PREFIX"' _ "$PQ" 2>&1)
    [ "$got" = "$PQ" ] && ok "  bash: sourcing env.sh gives SB_PREFIX the path, intact" || bad "  bash: sourcing env.sh gives SB_PREFIX the path" "got: $got"
    got=$(cd "$WORK/src-here" && sh -c '. "$1/env.sh" && printf %s "$SB_PREFIX"' _ "$PQ" 2>&1)
    [ "$got" = "$PQ" ] && ok "  sh: sourcing env.sh gives SB_PREFIX the path, intact" || bad "  sh: sourcing env.sh gives SB_PREFIX the path" "got: $got"
    [ -z "$(find "$WORK" "$ROOT" -name PWNED 2>/dev/null)" ] && ok "  no PWNED anywhere" || bad "  no PWNED anywhere" "$(find "$WORK" "$ROOT" -name PWNED)"
    run_rc 1 "gpu-node-setup (with the build) refuses that prefix: make would run it" "" -- "$GNS" "$WORK/debs1" "$PQ"
    # the writer alone, sourced: any prefix (blanks too) comes back intact from env.sh
    got=$(cd "$WORK/src-here" && bash -c '
        . "$1"
        case $- in *e*) echo "sourcing set -e"; exit 1 ;; esac
        write_env_sh "$2" env-test.sh && . ./env-test.sh && printf %s "$SB_PREFIX"' _ "$GNS" "/x y/'\$(touch PWNED)'\`touch PWNED\`\"\$(touch PWNED)\"" 2>&1)
    [ "$got" = "/x y/'\$(touch PWNED)'\`touch PWNED\`\"\$(touch PWNED)\"" ] && [ -z "$(find "$WORK" -name PWNED)" ] &&
        ok "write_env_sh (the script sourced, no option changed): a prefix with blanks and \$(...) sourced back intact, nothing run" ||
        bad "write_env_sh: a prefix with blanks and \$(...) sourced back intact" "got: $got"
else
    echo "skip gpu-node-setup cases (no dpkg-deb to build the fake debs)"
fi

# ================================================================ gpu-bundle.sh --debs-only
# apt-cache and apt-get stand-ins: the closure is the packages asked for, each "download"
# is a small file whose SHA256 apt-cache show gives.
mkdir "$WORK/aptbin"
cat >"$WORK/aptbin/apt-cache" <<'EOF'
#!/bin/bash
case "$1" in
    depends)
        shift
        for a in "$@"; do case "$a" in -*) ;; *) echo "$a"; echo "  Depends: libc6" ;; esac; done
        printf '%s\n' libc6 libtmglib3 libquadmath0 ;;
    show)
        shift
        for a in "$@"; do
            case "$a" in -*) continue ;; esac
            p=${a%%:*} v=1.${FAKE_APT_VER:-1}
            sha=$(printf 'fake %s %s\n' "$p" "$v" | sha256sum | cut -d' ' -f1)
            printf 'Package: %s\nVersion: %s\nSize: 20\nFilename: pool/main/%s_%s_amd64.deb\nSHA256: %s\n\n' "$p" "$v" "$p" "$v" "$sha"
        done ;;
    *) exit 1 ;;
esac
EOF
cat >"$WORK/aptbin/apt-get" <<'EOF'
#!/bin/bash
[ "$1" = download ] || exit 0
shift
while [ $# -gt 0 ]; do
    case "$1" in
        -o) shift ;;
        -*) ;;
        *:*=*) p=${1%%:*} v=${1##*=}; printf 'fake %s %s\n' "$p" "$v" >"${p}_${v}_amd64.deb" ;;
    esac
    shift
done
EOF
chmod +x "$WORK/aptbin/"*
# (as root only: for another user with empty apt lists the script would sudo the real apt-get)
if [ "$(id -u)" -eq 0 ] && [ "$(dpkg --print-architecture 2>/dev/null)" = amd64 ]; then
    GB=$ROOT/scripts/gpu-bundle.sh
    B=$WORK/bundle-debs
    mkdir "$B"
    echo "the user's own package" >"$B/mytool_1.0_all.deb"
    mine=$(sig "$B/mytool_1.0_all.deb")
    run_rc 0 "gpu-bundle --debs-only -o DIR with a user's .deb in DIR" "" -- env PATH="$WORK/aptbin:$PATH" "$GB" --debs-only -o "$B"
    unchanged "  the user's .deb is kept, unchanged" "$B/mytool_1.0_all.deb" "$mine"
    [ "$(ls "$B"/*_1.1_amd64.deb | wc -l)" -eq 15 ] && grep -qx libcjson1_1.1_amd64.deb "$B/.gpu-bundle-owned" &&
        ! grep -q mytool "$B/.gpu-bundle-owned" && ok "  15 debs downloaded, recorded as its own (the user's is not)" ||
        bad "  15 debs downloaded and recorded" "$(ls -A "$B")"
    run_rc 0 "gpu-bundle again with newer versions" "" -- env FAKE_APT_VER=2 PATH="$WORK/aptbin:$PATH" "$GB" --debs-only -o "$B"
    unchanged "  the user's .deb is kept, unchanged" "$B/mytool_1.0_all.deb" "$mine"
    [ "$(ls "$B"/*_1.1_amd64.deb 2>/dev/null | wc -l)" -eq 0 ] && [ "$(ls "$B"/*_1.2_amd64.deb | wc -l)" -eq 15 ] &&
        ok "  its own old versions are replaced" || bad "  its own old versions are replaced" "$(ls "$B")"
    echo "the user's own libcjson1" >"$B/libcjson1_0.9_amd64.deb"
    before=$(tree "$B")
    run_rc 1 "gpu-bundle with a user's other version of a bundled package in DIR: refused" "" -- env FAKE_APT_VER=3 PATH="$WORK/aptbin:$PATH" "$GB" --debs-only -o "$B"
    same_tree "  DIR is unchanged (the user's debs kept, nothing downloaded or removed)" "$B" "$before"
    no_tmp "  no download folder or temporary file left"
else
    echo "skip gpu-bundle cases (not root, or not an amd64 dpkg system)"
fi

# ================================================================ gpu-results.sh
# In a scratch checkout with stand-ins for the setup, the binary, tiled_trace, make and
# compute-sanitizer; OUTDIR already holds a folder r/ of the user's: it is neither removed
# nor archived.
G=$WORK/gr-root
mkdir -p "$G/scripts" "$G/build/cuda/tests/gpu" "$WORK/gr-out/r" "$WORK/grbin"
cp "$ROOT/scripts/gpu-results.sh" "$ROOT/scripts/side-by-side.sh" "$G/scripts/"
printf '#!/bin/sh\nmkdir -p .deps && echo "SB_PREFIX=$PWD/.deps" >.deps/env.sh\n' >"$G/scripts/gpu-node-setup.sh"
printf '#!/bin/sh\necho "saebench stand-in $*"\n' >"$G/saebench"
printf '#!/bin/sh\necho "tiled_trace stand-in $*"\n' >"$G/build/cuda/tests/gpu/tiled_trace"
printf '#!/bin/sh\necho "make stand-in $*"\n' >"$WORK/grbin/make"
printf '#!/bin/sh\nshift 4\nexec "$@"\n' >"$WORK/grbin/compute-sanitizer"
chmod +x "$G/scripts/gpu-node-setup.sh" "$G/saebench" "$G/build/cuda/tests/gpu/tiled_trace" "$WORK/grbin/"*
echo "the user's results" >"$WORK/gr-out/r/keep.txt"
keep=$(sig "$WORK/gr-out/r/keep.txt")
run_rc 0 "gpu-results.sh OUTDIR, OUTDIR holding a folder r/ of the user's" "" -- \
    bash -c 'cd "$1" && PATH="$2:$PATH" SB_GIT_REV=test scripts/gpu-results.sh "$3"' _ "$G" "$WORK/grbin" "$WORK/gr-out"
unchanged "  the user's r/keep.txt is intact" "$WORK/gr-out/r/keep.txt" "$keep"
list=$(tar -tf "$WORK/gr-out/battery.tar" 2>/dev/null)
grep -qx 'r/COMMIT' <<<"$list" && grep -qx 'r/STAGES' <<<"$list" && grep -qx 'r/stage-5-sanitizers.log' <<<"$list" &&
    ! grep -q keep.txt <<<"$list" &&
    ok "  battery.tar holds r/ of this run only" || bad "  battery.tar holds r/ of this run only" "$list"
no_tmp "  its own work folder is gone"
run_rc 2 "gpu-results.sh into an OUTDIR that has battery.tar: refused" "gpu-results: " -- \
    bash -c 'cd "$1" && PATH="$2:$PATH" scripts/gpu-results.sh "$3"' _ "$G" "$WORK/grbin" "$WORK/gr-out"

# ================================================================ install-deps.sh
# dpkg-query says one package is missing; apt-get is a stand-in. A symlink planted at the
# old fixed log path (TMPDIR/saebench-install-deps.log) points at a victim file.
mkdir "$WORK/idbin" "$WORK/idtmp"
printf '#!/bin/bash\nfor a in "$@"; do case "$a" in -*) ;; make) ;; *) echo "$a install ok installed" ;; esac; done\n' >"$WORK/idbin/dpkg-query"
printf '#!/bin/bash\necho "apt-get stand-in: $*"\n' >"$WORK/idbin/apt-get"
chmod +x "$WORK/idbin/"*
echo "a file the planted link points at" >"$WORK/id-victim"
ln -s "$WORK/id-victim" "$WORK/idtmp/saebench-install-deps.log"
victim=$(sig "$WORK/id-victim")
link=$(sig "$WORK/idtmp/saebench-install-deps.log")
run_rc 1 "install-deps.sh --check with a package missing: exit 1" "" -- env PATH="$WORK/idbin:$PATH" TMPDIR="$WORK/idtmp" "$ROOT/scripts/install-deps.sh" --check
[ "$(ls -A "$WORK/idtmp" | wc -l)" -eq 1 ] && ok "  --check writes no log" || bad "  --check writes no log" "$(ls -A "$WORK/idtmp")"
if [ "$(id -u)" -ne 0 ]; then
    echo "skip install-deps.sh install case (not root: it would sudo the real apt-get)"
else
run_rc 0 "install-deps.sh --build with a link planted at the old log path" "" -- env PATH="$WORK/idbin:$PATH" TMPDIR="$WORK/idtmp" "$ROOT/scripts/install-deps.sh" --build
unchanged "  the link's victim is unchanged" "$WORK/id-victim" "$victim"
unchanged "  the planted link is unchanged" "$WORK/idtmp/saebench-install-deps.log" "$link"
log=$(sed -n 's/.*(apt output in \(.*\))$/\1/p' "$OUTS")
[ -n "$log" ] && [ "$log" != "$WORK/idtmp/saebench-install-deps.log" ] && [ -f "$log" ] && [ ! -L "$log" ] &&
    grep -q 'apt-get stand-in: install' "$log" && ok "  apt's output went to a new file of its own ($(basename "$log"))" ||
    bad "  apt's output went to a new file of its own" "log '$log'" "$(cat "$OUTS")"
fi

# ================================================================ recursive removes
# Every rm -rf in scripts/ and in this test says, on its line, which folder of its own it is.
uncommented=$(grep -rn 'rm -rf' "$ROOT/scripts" "$0" | grep -v '^[^:]*:[0-9]*:[[:space:]]*#' | grep -v 'rm -rf[^#]*#' | grep -v "grep -rn 'rm -rf'")
[ -z "$uncommented" ] && ok "every recursive remove in scripts/ and this test carries a comment naming its own folder" ||
    bad "every recursive remove carries a comment" "$uncommented"

[ "$(ls -A "$ROOT/results/sweeps" 2>/dev/null)" = "$sweeps_before" ] && ok "nothing was written to results/sweeps of the checkout" ||
    bad "nothing was written to results/sweeps of the checkout"
sb_test_summary
