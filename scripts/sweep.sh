#!/usr/bin/env bash
# Run a plan of saebench cells into one sweep directory, then report on it.
#
#   scripts/sweep.sh PLAN [--out DIR] [--dry-run] [--no-html]
#   scripts/sweep.sh PLAN --check                 check the plan against the binary; run nothing
#   scripts/sweep.sh PLAN --list                  the cells, one "name<TAB>command" a line
#   scripts/sweep.sh PLAN --prepare [--out DIR]   create the sweep directory, print its path (slurm/submit)
#   scripts/sweep.sh PLAN --cell N --out DIR      run only cell N (1-based; what a Slurm array task runs)
#   scripts/sweep.sh --finish DIR [--no-html]     write DIR/cells.tsv and the report (the merge job)
#
# The plan: one cell per line, fields separated by blanks,
#
#   workload shape backend [extra saebench options...]
#
#   # tiny host cells
#   resident-solve tiny-primal host --reps 3 --warmup 1
#   inner-loop     tiny-arrow  host --reps 3 --warmup 1   # a comment may end a line
#
# '#' starts a comment (to the end of the line); blank lines are ignored. No quoting: an
# option value cannot contain a blank. shape is a name from 'saebench shapes' or a path to
# a shape file (relative paths, here and in options, are from the project root, where
# every cell runs); backend is auto, cuda or host. The sweep adds --out itself, so a cell must
# not give --out, --shape or --backend. A cell is named workload-shape-backend (a shape
# file by its base name without .json); a name that repeats gets -2, -3, ... in plan order.
# Before anything runs (and for --dry-run and --check) every cell is checked against the
# binary: the workload ('saebench WORKLOAD --help'), the shape and that it is one of the
# workload's ('saebench shapes SHAPE'), every option against the workload's --help list
# (known, a value where one is needed, not given twice), then the whole cell by
# 'saebench WORKLOAD ... --dry-run' (the shape and data files read, gates and option
# conflicts checked, nothing run); a bad cell is refused (exit 2, one line naming it), as
# the run itself would refuse it.
#
# Each cell runs from the project root as
#   ./saebench WORKLOAD --shape SHAPE --backend BACKEND [extra...] --out DIR/NAME.json
# (SAEBENCH=PATH picks another binary). Commands are shown shell-quoted (printf %q), safe to
# paste. A failing cell does not stop the sweep. DIR (default
# ${SAEBENCH_SWEEPS_DIR:-results/sweeps}/<UTC date>T<H-M-S>/, a dated run set for 'saebench
# report'; -2, -3, ... appended when a sweep started in the same second has that name) is
# created by this sweep (mkdir, never reused: an explicit --out DIR must not exist or be
# empty, and is claimed by creating DIR/logs, so two sweeps never share one) and then holds:
#   plan             the plan as run
#   NAME.json        each cell's verdict (none for a cell that exited 2: usage error)
#   logs/NAME.log    each cell's stderr (its human summary)
#   cells.tsv        cell, command, exit, seconds, host, job, cuda_visible_devices, status
#                    (exit: saebench's exit code, 0 pass, 1 gate failed, 2 usage error,
#                    3 no device, ...; "-" for a cell that never ran; status: empty for a
#                    cell that ran to its end, "interrupted" (exit 130 or 143) for the cell
#                    that was stopped when the sweep got SIGINT or SIGTERM)
#   machine.txt      host, cores, load average before and after, saebench --version
#   report.txt       'saebench report DIR' (the merged table), then a list of the cells
#                    that left no verdict, if any
#   html/index.html  'saebench report DIR --html DIR/html' (skipped with --no-html, or
#                    with a note when gnuplot is not on PATH)
# Progress ("[3/8] inner-loop tiny-arrow host ... exit 0 (1.2 s)") goes to stderr when it
# is a terminal; one summary line goes to stdout.
#
# SIGINT or SIGTERM (Ctrl-C, timeout, scancel): the running cell is stopped (SIGTERM, then
# SIGKILL after 5 s) and waited for, recorded as interrupted; cells.tsv and the report are
# written for what ran; the sweep exits 130 (INT) or 143 (TERM).
#
# Exit: 0 every cell ran to a verdict of its own (exit 0, 1 or 3: a gate's or a device's
#         answer, in the report) and the report was written;
#       2 the plan is unusable (unreadable, a bad line, no cell, a cell the binary refuses)
#         or DIR is not empty: nothing is run; or a cell exited 2 (usage or input error:
#         the plan is wrong) -- the report of the others is still written;
#       4 a cell failed at run time (exit 4: CUDA, LAPACK, out of memory) -- the report
#         is written and names it;
#       1 the report could not be written (e.g. no cell left a verdict), or a cell has no
#         result; 130/143 stopped by SIGINT/SIGTERM.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ME=sweep
die() { printf '%s: %s\n' "$ME" "$*" >&2; exit 2; }
usage() { sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

# ------------------------------------------------------------ the plan
# parse_plan FILE: fills CELL_NAME[], CELL_ARGS[] (the saebench arguments before --out,
# one string, blank-separated), CELL_TITLE[] and CELL_LINE[]; dies (exit 2) on an unusable plan.
CELL_NAME=()
CELL_ARGS=()
CELL_TITLE=()
CELL_LINE=()
parse_plan() {
    local plan=$1 line raw n=0 w s b base name k
    CELL_NAME=() CELL_ARGS=() CELL_TITLE=() CELL_LINE=()
    [ -f "$plan" ] && [ -r "$plan" ] || die "$plan: cannot read the plan"
    declare -A seen=()
    while IFS= read -r raw || [ -n "$raw" ]; do
        n=$((n + 1))
        line=${raw%%#*}
        local f=()
        read -r -a f <<<"$line"
        [ ${#f[@]} -eq 0 ] && continue
        [ ${#f[@]} -ge 3 ] || die "$plan:$n: needs 'workload shape backend [options...]', got '${line%"${line##*[![:space:]]}"}'"
        w=${f[0]} s=${f[1]} b=${f[2]}
        [[ $w =~ ^[a-z][a-z0-9-]*$ ]] || die "$plan:$n: '$w' is not a workload name"
        [[ $s != -* ]] || die "$plan:$n: shape '$s' looks like an option"
        case "$b" in auto|cuda|host) ;; *) die "$plan:$n: backend '$b' is not auto, cuda or host" ;; esac
        for k in "${f[@]:3}"; do
            case "$k" in
                --out|--out=*|--shape|--shape=*|--backend|--backend=*)
                    die "$plan:$n: '$k': the sweep gives --shape, --backend and --out itself" ;;
            esac
        done
        base=${s##*/}
        base=${base%.json}
        name=$(printf '%s-%s-%s' "$w" "$base" "$b" | tr -c 'A-Za-z0-9._+-' '_')
        seen[$name]=$(( ${seen[$name]:-0} + 1 ))
        [ "${seen[$name]}" -gt 1 ] && name="$name-${seen[$name]}"
        CELL_NAME+=("$name")
        CELL_ARGS+=("$w --shape $s --backend $b${f[3]:+ ${f[*]:3}}")
        CELL_TITLE+=("$w $s $b${f[3]:+ ${f[*]:3}}")
        CELL_LINE+=("$n")
    done <"$plan"
    [ ${#CELL_NAME[@]} -gt 0 ] || die "$plan: no cell (every line is blank or a comment)"
}

# check_plan PLAN: every cell as the binary would take it (run from ROOT, before any cell
# runs): the workload exists, the shape exists and is one of the workload's, and the options
# are the workload's (from 'saebench WORKLOAD --help': "  --name  METAVAR  text" takes a
# value, "  --name  <15 blanks>text" does not). Dies (exit 2, one line naming the cell).
check_plan() {
    local plan=$1 i w s where tok name args=() j
    declare -A opts=() shape_ok=() wl_ok=() given=()
    local help shape_out wls
    for i in "${!CELL_NAME[@]}"; do
        read -r -a args <<<"${CELL_ARGS[$i]}"
        w=${args[0]} s=${args[2]}
        where="$plan:${CELL_LINE[$i]}: cell ${CELL_NAME[$i]}"
        if [ -z "${wl_ok[$w]:-}" ]; then
            help=$("$SB" "$w" --help 2>/dev/null) || die "$where: '$w' is not a workload of $SB (see '$SB --help')"
            # name<TAB>1 (takes a value) or name<TAB>0, from the option table 'saebench W --help' prints
            while IFS=$'\t' read -r name j; do opts["$w $name"]=$j; done < <(printf '%s\n' "$help" | awk '
                /^  --[a-z][a-z0-9-]*( |$)/ {
                    name = $1; rest = substr($0, 3 + length(name) + 1)
                    pad = 16 - length(name); if (pad > 0) rest = substr(rest, pad + 1)
                    print name "\t" ((rest ~ /^               / || rest == "") ? 0 : 1)
                }')
            wl_ok[$w]=1
        fi
        if [ -z "${shape_ok[$w $s]:-}" ]; then
            shape_out=$("$SB" shapes "$s" 2>/dev/null) || die "$where: unknown shape '$s' (see '$SB shapes')"
            wls=$(printf '%s\n' "$shape_out" | grep -m1 '"workloads"' || true)
            if [ -n "$wls" ] && [[ $wls != *"\"$w\""* ]]; then
                die "$where: shape '$s' is not for $w (its workloads: $(printf '%s' "$wls" | sed 's/.*\[//; s/\].*//; s/"//g'))"
            fi
            shape_ok[$w $s]=1
        fi
        given=()
        j=5 # after: workload --shape S --backend B
        while [ "$j" -lt "${#args[@]}" ]; do
            tok=${args[$j]}
            case "$tok" in
                --help|-h) die "$where: '$tok' in a cell runs nothing" ;;
                --*) ;;
                *) die "$where: unexpected argument '$tok' (an option value follows its option)" ;;
            esac
            name=${tok%%=*}
            [ -n "${opts["$w $name"]:-}" ] || die "$where: unknown option '$name' for $w (see '$SB $w --help')"
            if [ "$name" != --gate ]; then
                [ -z "${given[$name]:-}" ] || die "$where: $name given twice"
                given[$name]=1
            fi
            if [ "${opts["$w $name"]}" = 1 ]; then
                if [ "$tok" = "$name" ]; then
                    j=$((j + 1))
                    [ "$j" -lt "${#args[@]}" ] || die "$where: $name needs a value"
                fi
            elif [ "$tok" != "$name" ]; then
                die "$where: $name takes no value"
            fi
            j=$((j + 1))
        done
        # Then the binary itself: every workload's --dry-run reads the shape and the data
        # files and checks every option and gate as the run will, and runs nothing.
        local why
        if ! why=$("$SB" "${args[@]}" --dry-run --quiet 2>&1 >/dev/null); then
            die "$where: refused by '$w --dry-run': ${why#saebench: }"
        fi
    done
}

# The binary as the commands show it: ./saebench unless SAEBENCH names another
# (resolved below, from where the sweep was started).
SB=./saebench

# shell-quoted words, blank-separated: safe to paste into a shell
qwords() {
    local w q out=""
    for w in "$@"; do printf -v q '%q' "$w"; out+="${out:+ }$q"; done
    printf '%s' "$out"
}

cell_command() { # N DIR -> the command line of cell N (1-based), as run from ROOT, shell-quoted
    local args=()
    read -r -a args <<<"${CELL_ARGS[$1 - 1]}"
    qwords "$SB" "${args[@]}" --out "$2/${CELL_NAME[$1 - 1]}.json"
}

# DIR relative to ROOT when it lies inside it (so recorded commands read ./saebench ... --out results/...).
rel_dir() {
    local abs
    abs=$(realpath -m -- "$1") || return 1
    case "$abs" in
        "$ROOT") printf '.' ;;
        "$ROOT"/*) printf '%s' "${abs#"$ROOT"/}" ;;
        *) printf '%s' "$abs" ;;
    esac
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# ------------------------------------------------------------ signals
# catch_signals: from here on SIGINT/SIGTERM only set STOP (the number the sweep exits
# with); a wait for the running cell returns at once, and run_cell then stops the cell and
# records it as interrupted. (Set for the modes that run cells or write the report; the
# others end at once on a signal, as any command does.)
STOP="" STOPPED_AT=""
on_signal() { [ -n "$STOP" ] || STOP=$1; }
catch_signals() {
    trap 'on_signal 130' INT
    trap 'on_signal 143' TERM
}

# stop_pid PID: SIGTERM, up to 5 s, then SIGKILL; waits until it is gone.
stop_pid() {
    local pid=$1 n=0
    kill -TERM "$pid" 2>/dev/null
    while kill -0 "$pid" 2>/dev/null && [ "$n" -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    while kill -0 "$pid" 2>/dev/null; do wait "$pid" 2>/dev/null; done
    wait "$pid" 2>/dev/null
}

# run_cell N DIR: runs cell N, its verdict DIR/NAME.json, its stderr in DIR/logs/NAME.log,
# its row in DIR/cells.d/N.tsv. Sets CELL_RC, CELL_SECONDS and CELL_STATUS ("" or
# "interrupted": the sweep got SIGINT/SIGTERM while the cell ran; it was stopped).
run_cell() {
    local i=$1 dir=$2 name=${CELL_NAME[$1 - 1]} cmd t0 t1 args=() pid
    cmd=$(cell_command "$i" "$dir")
    read -r -a args <<<"${CELL_ARGS[$i - 1]}"
    mkdir -p "$dir/logs" "$dir/cells.d" || exit 2
    {
        printf '# %s\n# host %s, %s, Slurm job %s, CUDA_VISIBLE_DEVICES=%s\n' "$cmd" "$(hostname -s 2>/dev/null || echo '?')" \
            "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${SLURM_JOB_ID:-none}" "${CUDA_VISIBLE_DEVICES-unset}"
    } >"$dir/logs/$name.log"
    t0=$(now)
    CELL_STATUS=""
    # in the background, so that a signal to the sweep is handled while the cell runs
    "$SB" "${args[@]}" --out "$dir/$name.json" </dev/null >>"$dir/logs/$name.log" 2>&1 &
    pid=$!
    local r stopped=0
    wait "$pid"
    r=$?
    # 'wait' returns early when the sweep gets a signal: the cell may still run
    while kill -0 "$pid" 2>/dev/null; do
        if [ -n "$STOP" ]; then stop_pid "$pid"; stopped=1; break; fi
        wait "$pid"
        r=$?
    done
    if [ "$stopped" -eq 0 ] && [ -n "$STOP" ] && [ "$r" -gt 128 ]; then
        # the signal cut the wait short as the cell ended (its own status is still there
        # to collect), or the cell got the same signal (sent to the whole process group)
        wait "$pid" 2>/dev/null
        local r2=$?
        [ "$r2" -eq 127 ] || r=$r2
        [ "$r" -gt 128 ] && stopped=1
    fi
    CELL_RC=$r
    if [ "$stopped" -eq 1 ]; then
        CELL_RC=$STOP
        CELL_STATUS=interrupted
        STOPPED_AT=$i
        printf '# interrupted: the sweep got SIG%s; the cell was stopped\n' "$([ "$STOP" = 130 ] && echo INT || echo TERM)" \
            >>"$dir/logs/$name.log"
        # a verdict the stopped cell was writing (saebench's temp file beside it): ours to remove
        rm -f -- "$dir/$name.json".tmp.*
    fi
    t1=$(now)
    CELL_SECONDS=$(elapsed "$t0" "$t1")
    local job=-
    if [ -n "${SLURM_ARRAY_JOB_ID:-}" ]; then
        job=${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID:-?}
    elif [ -n "${SLURM_JOB_ID:-}" ]; then
        job=$SLURM_JOB_ID
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s%s\n' "$name" "$cmd" "$CELL_RC" "$CELL_SECONDS" \
        "$(hostname -s 2>/dev/null || echo -)" "$job" "${CUDA_VISIBLE_DEVICES:--}" "${CELL_STATUS:+$'\t'$CELL_STATUS}" \
        >"$dir/cells.d/$i.tsv.tmp" &&
        mv -f "$dir/cells.d/$i.tsv.tmp" "$dir/cells.d/$i.tsv"
}

machine_info() { # DIR WHEN
    {
        printf '%s: %s UTC, load average (1, 5, 15 min) %s\n' "$2" "$(date -u +%Y-%m-%dT%H:%M:%S)" \
            "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
        if [ "$2" = start ]; then
            printf 'host: %s (%s), %s cores, %s\n' "$(hostname -s 2>/dev/null || echo '?')" "$(uname -srm)" \
                "$(nproc 2>/dev/null || echo '?')" "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)"
            printf 'saebench: %s\n' "$("$SB" --version 2>&1 | tr '\n' ' ' | sed 's/ *$//')"
        fi
    } >>"$1/machine.txt"
}

# finish DIR: cells.tsv in plan order (a cell with no row: exit and seconds "-"), the report
# and, after it, the cells that left no verdict or failed at run time. Returns 0; 1 the
# report could not be written or a cell has no result (never ran, or was interrupted); 2 a
# cell exited 2; 4 a cell exited 4.
finish() {
    local dir=$1 i miss=0 rc usage=0 runtime=0 row name cell_rc status why
    local noverdict=() failed=()
    parse_plan "$dir/plan"
    {
        printf 'cell\tcommand\texit\tseconds\thost\tjob\tcuda_visible_devices\tstatus\n'
        for i in $(seq 1 ${#CELL_NAME[@]}); do
            name=${CELL_NAME[$i - 1]}
            if [ -f "$dir/cells.d/$i.tsv" ]; then
                row=$(cat "$dir/cells.d/$i.tsv")
                printf '%s\n' "$row"
                cell_rc=$(printf '%s' "$row" | cut -f3)
                status=$(printf '%s' "$row" | cut -f8)
                [ "$cell_rc" = 2 ] && usage=$((usage + 1))
                if [ "$cell_rc" = 4 ]; then
                    runtime=$((runtime + 1))
                    failed+=("$name")
                fi
                [ "$status" = interrupted ] && miss=$((miss + 1))
                if [ ! -f "$dir/$name.json" ]; then
                    why=$(grep -m1 '^saebench: ' "$dir/logs/$name.log" 2>/dev/null | cut -c1-160)
                    noverdict+=("$name (exit $cell_rc${status:+, $status}${why:+: $why})")
                fi
            else
                miss=$((miss + 1))
                noverdict+=("$name (never ran)")
                printf '%s\t%s\t-\t-\t-\t-\t-\n' "$name" "$(cell_command "$i" "$dir")"
            fi
        done
    } >"$dir/cells.tsv.tmp" && mv -f "$dir/cells.tsv.tmp" "$dir/cells.tsv" || { echo "$ME: cannot write $dir/cells.tsv" >&2; return 1; }
    [ "$miss" -eq 0 ] || echo "$ME: $miss cell(s) have no result (never ran or interrupted): see $dir/cells.tsv" >&2
    local html=()
    if [ "$NO_HTML" -eq 0 ]; then
        if command -v gnuplot >/dev/null 2>&1; then
            html=(--html "$dir/html")
        else
            echo "$ME: gnuplot is not on PATH: no $dir/html (Debian: gnuplot-nox)" >&2
        fi
    fi
    "$SB" report "$dir" --out "$dir/report.txt" "${html[@]}"
    rc=$?
    NOVERDICT=${#noverdict[@]}
    if [ ${#noverdict[@]} -gt 0 ]; then
        echo "$ME: no verdict from ${#noverdict[@]} cell(s): $(printf '%s; ' "${noverdict[@]}" | sed 's/; $//') (cells.tsv, logs/)" >&2
        if [ "$rc" -eq 0 ]; then
            {
                printf '\n# %d cell(s) left no verdict (exit codes in cells.tsv, stderr in logs/NAME.log):\n' "${#noverdict[@]}"
                for i in "${noverdict[@]}"; do printf '#   %s\n' "$i"; done
            } >>"$dir/report.txt"
        fi
    fi
    if [ ${#failed[@]} -gt 0 ] && [ "$rc" -eq 0 ]; then
        printf '\n# %d cell(s) failed at run time (exit 4; their verdicts say why): %s\n' "${#failed[@]}" "${failed[*]}" >>"$dir/report.txt"
    fi
    [ "$rc" -eq 0 ] || { echo "$ME: 'saebench report $dir' failed (exit $rc)" >&2; [ "$usage" -eq 0 ] && [ "$runtime" -eq 0 ] && return 1; }
    [ "$usage" -eq 0 ] || { echo "$ME: $usage cell(s) exited 2 (usage or input error: the plan is wrong)" >&2; return 2; }
    [ "$runtime" -eq 0 ] || { echo "$ME: $runtime cell(s) failed at run time (exit 4): ${failed[*]}" >&2; return 4; }
    [ "$miss" -eq 0 ]
}

# claim_dir: creates the sweep directory OUT atomically (mkdir, never -p for the last
# component) and DIR/logs in it; sets OUT to what was created. Without --out: the dated
# name, or NAME-2, NAME-3, ... when that name exists (another sweep in the same second).
# With --out DIR: DIR may exist only empty; creating DIR/logs is the claim (a sweep started
# at the same time into the same DIR loses it). Dies (exit 2) when DIR is not empty.
claim_dir() {
    local base d n=1
    if [ "$OUT_GIVEN" -eq 0 ]; then
        mkdir -p -- "$(dirname -- "$OUT")" || die "cannot create $(dirname -- "$OUT")"
        base=$OUT d=$OUT
        until mkdir -- "$d" 2>/dev/null; do
            [ -e "$d" ] || [ -L "$d" ] || die "cannot create $d"
            n=$((n + 1))
            [ "$n" -le 1000 ] || die "$base-2 to $base-1000 all exist"
            d=$base-$n
        done
        OUT=$d
    else
        mkdir -p -- "$(dirname -- "$OUT")" || die "cannot create $(dirname -- "$OUT")"
        if ! mkdir -- "$OUT" 2>/dev/null; then
            [ -d "$OUT" ] || die "cannot create $OUT"
            [ -z "$(ls -A -- "$OUT" 2>/dev/null)" ] || die "$OUT exists and is not empty: a sweep starts in a new directory"
        fi
    fi
    mkdir -- "$OUT/logs" 2>/dev/null || die "$OUT exists and is not empty: a sweep starts in a new directory"
    mkdir -- "$OUT/cells.d" || die "cannot create $OUT/cells.d"
    cp -- "$PLAN" "$OUT/plan" || die "cannot copy the plan to $OUT/plan"
}

# ------------------------------------------------------------ arguments
PLAN="" OUT="" DRY=0 NO_HTML=0 LIST=0 CELL="" FINISH="" CHECK=0 PREPARE=0
while [ $# -gt 0 ]; do
    case "$1" in
        --out) [ $# -ge 2 ] || die "--out needs a directory"; OUT=$2; shift ;;
        --out=*) OUT=${1#--out=} ;;
        --dry-run) DRY=1 ;;
        --no-html) NO_HTML=1 ;;
        --list) LIST=1 ;;
        --check) CHECK=1 ;;
        --prepare) PREPARE=1 ;;
        --cell) [ $# -ge 2 ] || die "--cell needs a number"; CELL=$2; shift ;;
        --finish) [ $# -ge 2 ] || die "--finish needs the sweep directory"; FINISH=$2; shift ;;
        -h|--help) usage; exit 0 ;;
        -*) die "unknown option '$1' (see $0 --help)" ;;
        *) [ -z "$PLAN" ] || die "one plan only ('$PLAN' and '$1')"; PLAN=$1 ;;
    esac
    shift
done

# Paths as given, from where they were given; then everything runs from the project root.
abs() { realpath -m -- "$1"; }
[ -z "$PLAN" ] || PLAN=$(abs "$PLAN")
OUT_GIVEN=0
[ -z "$OUT" ] || { OUT=$(abs "$OUT"); OUT_GIVEN=1; }
[ -z "$FINISH" ] || FINISH=$(abs "$FINISH")
SWEEPS=$(abs "${SAEBENCH_SWEEPS_DIR:-$ROOT/results/sweeps}")
if [ -n "${SAEBENCH:-}" ]; then
    case "$SAEBENCH" in */*) SB=$(abs "$SAEBENCH") ;; *) SB=$(command -v "$SAEBENCH") || die "SAEBENCH=$SAEBENCH: not found" ;; esac
    case "$SB" in "$ROOT"/*) SB=./${SB#"$ROOT"/} ;; esac
fi
cd "$ROOT" || exit 2
NOVERDICT=0

if [ -n "$FINISH" ]; then
    [ -z "$PLAN" ] || die "--finish DIR takes no plan (it reads DIR/plan)"
    [ -d "$FINISH" ] || die "$FINISH: not a directory"
    FINISH=$(rel_dir "$FINISH")
    catch_signals
    finish "$FINISH"
    rc=$?
    machine_info "$FINISH" finish
    [ -z "$STOP" ] || exit "$STOP"
    [ "$rc" -eq 0 ] || exit "$rc"
    echo "$ME: report in $FINISH/report.txt"
    exit 0
fi

[ -n "$PLAN" ] || { usage >&2; exit 2; }
parse_plan "$PLAN"
N=${#CELL_NAME[@]}

if [ "$OUT_GIVEN" -eq 0 ]; then
    OUT=$SWEEPS/$(date -u +%Y-%m-%dT%H-%M-%S)
fi
OUT=$(rel_dir "$OUT")

if [ "$LIST" -eq 1 ]; then
    for i in $(seq 1 "$N"); do printf '%s\t%s\n' "${CELL_NAME[$i - 1]}" "$(cell_command "$i" "$OUT")"; done
    exit 0
fi

if [ -n "$CELL" ]; then
    [[ $CELL =~ ^[1-9][0-9]*$ ]] && [ "$CELL" -le "$N" ] || die "--cell $CELL: the plan has cells 1 to $N"
    [ -x "$SB" ] || die "$SB: no saebench binary (build it with make, or set SAEBENCH)"
    mkdir -p "$OUT" || exit 2
    catch_signals
    run_cell "$CELL" "$OUT"
    echo "$ME: cell $CELL/$N ${CELL_NAME[$CELL - 1]}: exit $CELL_RC (${CELL_SECONDS} s)${CELL_STATUS:+, $CELL_STATUS}"
    [ -z "$STOP" ] || exit "$STOP"
    exit 0
fi

if [ "$PREPARE" -eq 1 ]; then
    claim_dir
    realpath -- "$OUT"
    exit 0
fi

# Every cell checked against the binary before anything is run (and for --dry-run).
[ -x "$SB" ] || die "$SB: no saebench binary to check the plan with (build it with make, or set SAEBENCH)"
check_plan "$PLAN"

if [ "$CHECK" -eq 1 ]; then
    echo "$ME: $N cells of $PLAN checked against $SB"
    exit 0
fi

if [ "$DRY" -eq 1 ]; then
    html=()
    [ "$NO_HTML" -eq 1 ] || html=(--html "$OUT/html")
    echo "# $N cells into $(qwords "$OUT"), then: $(qwords "$SB" report "$OUT" --out "$OUT/report.txt" "${html[@]}")"
    for i in $(seq 1 "$N"); do cell_command "$i" "$OUT"; echo; done
    exit 0
fi

catch_signals
claim_dir
machine_info "$OUT" start

TTY=0
[ -t 2 ] && TTY=1
declare -A by_rc=()
for i in $(seq 1 "$N"); do
    [ -z "$STOP" ] || break
    [ "$TTY" -eq 1 ] && printf '[%d/%d] %s ... ' "$i" "$N" "${CELL_TITLE[$i - 1]}" >&2
    run_cell "$i" "$OUT"
    by_rc[$CELL_RC]=$(( ${by_rc[$CELL_RC]:-0} + 1 ))
    [ "$TTY" -eq 1 ] && printf 'exit %d (%s s)%s\n' "$CELL_RC" "$CELL_SECONDS" "${CELL_STATUS:+, $CELL_STATUS}" >&2
done
[ -z "$STOP" ] || echo "$ME: stopped by SIG$([ "$STOP" = 130 ] && echo INT || echo TERM) ${STOPPED_AT:+at cell $STOPPED_AT/$N }after $((i - 1)) of $N cells; writing cells.tsv and the report for what ran" >&2
[ "$TTY" -eq 1 ] && printf 'report ... ' >&2
finish "$OUT"
rc=$?
machine_info "$OUT" finish
[ "$TTY" -eq 1 ] && { [ "$rc" -eq 0 ] && echo "done" >&2 || echo "failed" >&2; }
summary=""
for k in $(printf '%s\n' "${!by_rc[@]}" | sort -n); do summary+="${summary:+, }${by_rc[$k]} exit $k"; done
[ -n "$summary" ] || summary="none ran"
[ "$NOVERDICT" -eq 0 ] || summary+="; $NOVERDICT without a verdict"
echo "$ME: $N cells ($summary) in $OUT; report $OUT/report.txt$([ -f "$OUT/html/index.html" ] && echo ", $OUT/html/index.html")"
[ -z "$STOP" ] || exit "$STOP"
[ "$rc" -eq 0 ] || exit "$rc"
exit 0
