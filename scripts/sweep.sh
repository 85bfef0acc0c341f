#!/usr/bin/env bash
# Run a plan of saebench cells into one sweep directory, then report on it.
#
#   scripts/sweep.sh PLAN [--out DIR] [--dry-run] [--no-html]
#   scripts/sweep.sh PLAN --list                  the cells, one "name<TAB>command" a line
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
#
# Each cell runs from the project root as
#   ./saebench WORKLOAD --shape SHAPE --backend BACKEND [extra...] --out DIR/NAME.json
# (SAEBENCH=PATH picks another binary). A failing cell does not stop the sweep. DIR
# (default results/sweeps/<UTC date>T<H-M-S>/, a dated run set for 'saebench report')
# then holds:
#   plan             the plan as run
#   NAME.json        each cell's verdict (none for a cell that exited 2: usage error)
#   logs/NAME.log    each cell's stderr (its human summary)
#   cells.tsv        cell, command, exit, seconds, host, job, cuda_visible_devices
#                    (exit: saebench's exit code, 0 pass, 1 gate failed, 3 no device, ...)
#   machine.txt      host, cores, load average before and after, saebench --version
#   report.txt       'saebench report DIR' (the merged table)
#   html/index.html  'saebench report DIR --html DIR/html' (skipped with --no-html, or
#                    with a note when gnuplot is not on PATH)
# Progress ("[3/8] inner-loop tiny-arrow host ... exit 0 (1.2 s)") goes to stderr when it
# is a terminal; one summary line goes to stdout.
#
# Exit: 0 every cell ran (whatever its own exit code) and the report was written;
#       2 the plan is unusable (unreadable, a bad line, no cell) or DIR is not empty:
#         nothing is run; 1 the report could not be written (e.g. no cell left a verdict).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ME=sweep
die() { printf '%s: %s\n' "$ME" "$*" >&2; exit 2; }
usage() { sed -n '2,7p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

# ------------------------------------------------------------ the plan
# parse_plan FILE: fills CELL_NAME[], CELL_ARGS[] (the saebench arguments before --out,
# one string, blank-separated) and CELL_TITLE[]; dies (exit 2) on an unusable plan.
CELL_NAME=()
CELL_ARGS=()
CELL_TITLE=()
parse_plan() {
    local plan=$1 line raw n=0 w s b base name k
    CELL_NAME=() CELL_ARGS=() CELL_TITLE=()
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
    done <"$plan"
    [ ${#CELL_NAME[@]} -gt 0 ] || die "$plan: no cell (every line is blank or a comment)"
}

# The binary as the commands show it: ./saebench unless SAEBENCH names another
# (resolved below, from where the sweep was started).
SB=./saebench

cell_command() { # N DIR -> the command line of cell N (1-based), as run from ROOT
    printf '%s %s --out %s/%s.json' "$SB" "${CELL_ARGS[$1 - 1]}" "$2" "${CELL_NAME[$1 - 1]}"
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

# run_cell N DIR: runs cell N, its verdict DIR/NAME.json, its stderr in DIR/logs/NAME.log,
# its row in DIR/cells.d/N.tsv. Sets CELL_RC and CELL_SECONDS.
run_cell() {
    local i=$1 dir=$2 name=${CELL_NAME[$1 - 1]} cmd t0 t1 args=()
    cmd=$(cell_command "$i" "$dir")
    read -r -a args <<<"${CELL_ARGS[$i - 1]}"
    mkdir -p "$dir/logs" "$dir/cells.d" || exit 2
    {
        printf '# %s\n# host %s, %s, Slurm job %s, CUDA_VISIBLE_DEVICES=%s\n' "$cmd" "$(hostname -s 2>/dev/null || echo '?')" \
            "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${SLURM_JOB_ID:-none}" "${CUDA_VISIBLE_DEVICES-unset}"
    } >"$dir/logs/$name.log"
    t0=$(now)
    "$SB" "${args[@]}" --out "$dir/$name.json" </dev/null >>"$dir/logs/$name.log" 2>&1
    CELL_RC=$?
    t1=$(now)
    CELL_SECONDS=$(elapsed "$t0" "$t1")
    local job=-
    if [ -n "${SLURM_ARRAY_JOB_ID:-}" ]; then
        job=${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID:-?}
    elif [ -n "${SLURM_JOB_ID:-}" ]; then
        job=$SLURM_JOB_ID
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$cmd" "$CELL_RC" "$CELL_SECONDS" \
        "$(hostname -s 2>/dev/null || echo -)" "$job" "${CUDA_VISIBLE_DEVICES:--}" >"$dir/cells.d/$i.tsv.tmp" &&
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

# finish DIR: cells.tsv in plan order (a cell with no row: exit and seconds "-"), the report.
finish() {
    local dir=$1 i miss=0 rc
    parse_plan "$dir/plan"
    {
        printf 'cell\tcommand\texit\tseconds\thost\tjob\tcuda_visible_devices\n'
        for i in $(seq 1 ${#CELL_NAME[@]}); do
            if [ -f "$dir/cells.d/$i.tsv" ]; then
                cat "$dir/cells.d/$i.tsv"
            else
                miss=$((miss + 1))
                printf '%s\t%s\t-\t-\t-\t-\t-\n' "${CELL_NAME[$i - 1]}" "$(cell_command "$i" "$dir")"
            fi
        done
    } >"$dir/cells.tsv.tmp" && mv -f "$dir/cells.tsv.tmp" "$dir/cells.tsv" || { echo "$ME: cannot write $dir/cells.tsv" >&2; return 1; }
    [ "$miss" -eq 0 ] || echo "$ME: $miss cell(s) have no result (never ran): see $dir/cells.tsv" >&2
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
    [ "$rc" -eq 0 ] || { echo "$ME: 'saebench report $dir' failed (exit $rc)" >&2; return 1; }
    [ "$miss" -eq 0 ]
}

# ------------------------------------------------------------ arguments
PLAN="" OUT="" DRY=0 NO_HTML=0 LIST=0 CELL="" FINISH=""
while [ $# -gt 0 ]; do
    case "$1" in
        --out) [ $# -ge 2 ] || die "--out needs a directory"; OUT=$2; shift ;;
        --out=*) OUT=${1#--out=} ;;
        --dry-run) DRY=1 ;;
        --no-html) NO_HTML=1 ;;
        --list) LIST=1 ;;
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
[ -z "$OUT" ] || OUT=$(abs "$OUT")
[ -z "$FINISH" ] || FINISH=$(abs "$FINISH")
if [ -n "${SAEBENCH:-}" ]; then
    case "$SAEBENCH" in */*) SB=$(abs "$SAEBENCH") ;; *) SB=$(command -v "$SAEBENCH") || die "SAEBENCH=$SAEBENCH: not found" ;; esac
    case "$SB" in "$ROOT"/*) SB=./${SB#"$ROOT"/} ;; esac
fi
cd "$ROOT" || exit 2

if [ -n "$FINISH" ]; then
    [ -z "$PLAN" ] || die "--finish DIR takes no plan (it reads DIR/plan)"
    [ -d "$FINISH" ] || die "$FINISH: not a directory"
    FINISH=$(rel_dir "$FINISH")
    finish "$FINISH" || exit 1
    machine_info "$FINISH" finish
    echo "$ME: report in $FINISH/report.txt"
    exit 0
fi

[ -n "$PLAN" ] || { usage >&2; exit 2; }
parse_plan "$PLAN"
N=${#CELL_NAME[@]}

if [ -z "$OUT" ]; then
    OUT=results/sweeps/$(date -u +%Y-%m-%dT%H-%M-%S)
else
    OUT=$(rel_dir "$OUT")
fi

if [ "$LIST" -eq 1 ]; then
    for i in $(seq 1 "$N"); do printf '%s\t%s\n' "${CELL_NAME[$i - 1]}" "$(cell_command "$i" "$OUT")"; done
    exit 0
fi

if [ -n "$CELL" ]; then
    [[ $CELL =~ ^[1-9][0-9]*$ ]] && [ "$CELL" -le "$N" ] || die "--cell $CELL: the plan has cells 1 to $N"
    [ -x "$SB" ] || die "$SB: no saebench binary (build it with make, or set SAEBENCH)"
    mkdir -p "$OUT" || exit 2
    run_cell "$CELL" "$OUT"
    echo "$ME: cell $CELL/$N ${CELL_NAME[$CELL - 1]}: exit $CELL_RC (${CELL_SECONDS} s)"
    exit 0
fi

if [ "$DRY" -eq 1 ]; then
    htmlopt=""
    [ "$NO_HTML" -eq 1 ] || htmlopt=" --html $OUT/html"
    echo "# $N cells into $OUT, then: $SB report $OUT --out $OUT/report.txt$htmlopt"
    for i in $(seq 1 "$N"); do cell_command "$i" "$OUT"; echo; done
    exit 0
fi

[ -x "$SB" ] || die "$SB: no saebench binary (build it with make, or set SAEBENCH)"
if [ -e "$OUT" ] && [ -n "$(ls -A "$OUT" 2>/dev/null)" ]; then
    die "$OUT exists and is not empty: a sweep starts in a new directory"
fi
mkdir -p "$OUT/logs" "$OUT/cells.d" || exit 2
cp -- "$PLAN" "$OUT/plan" || exit 2
machine_info "$OUT" start

TTY=0
[ -t 2 ] && TTY=1
declare -A by_rc=()
for i in $(seq 1 "$N"); do
    [ "$TTY" -eq 1 ] && printf '[%d/%d] %s ... ' "$i" "$N" "${CELL_TITLE[$i - 1]}" >&2
    run_cell "$i" "$OUT"
    by_rc[$CELL_RC]=$(( ${by_rc[$CELL_RC]:-0} + 1 ))
    [ "$TTY" -eq 1 ] && printf 'exit %d (%s s)\n' "$CELL_RC" "$CELL_SECONDS" >&2
done
[ "$TTY" -eq 1 ] && printf 'report ... ' >&2
finish "$OUT"
rc=$?
machine_info "$OUT" finish
[ "$TTY" -eq 1 ] && { [ "$rc" -eq 0 ] && echo "done" >&2 || echo "failed" >&2; }
summary=""
for k in $(printf '%s\n' "${!by_rc[@]}" | sort -n); do summary+="${summary:+, }${by_rc[$k]} exit $k"; done
echo "$ME: $N cells ($summary) in $OUT; report $OUT/report.txt$([ -f "$OUT/html/index.html" ] && echo ", $OUT/html/index.html")"
[ "$rc" -eq 0 ] || exit 1
exit 0
