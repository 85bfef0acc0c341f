#!/usr/bin/env bash
# The Slurm sweep scripts on a real one-node Slurm, started here by hand (make test-slurm).
#
#   tests/slurm/run-slurm-test.sh [BINARY] [--host-only]
#
# BINARY (default ./saebench) is what the cells run. Steps:
#  1. installs what is missing of slurmctld slurmd slurm-client munge (apt-get,
#     --no-install-recommends; apt's output in a log file, one line here). Needs root
#     (or passwordless sudo: the script re-runs itself under sudo).
#  2. in a fresh temporary directory: a munge key (mungekey), munged run as the munge
#     user on its own socket; a slurm.conf (this host on 127.0.0.1, auth/munge, linuxproc, cons_tres CR_Core,
#     jobcomp/filetxt as the completion log, free ports, no gres); slurmctld and slurmd
#     started in the foreground in the background, their PIDs recorded; ready when
#     'srun true' succeeds (60 s at most).
#  3. host phase: scripts/slurm/submit plans/tiny.plan --no-gpu (a gres request would be
#     refused: the node has none), squeue polled until the array and the merge are gone.
#     Asserts: every array task and the merge job ended COMPLETED (the completion log, and
#     'scontrol show job'), the merge started at or after every task's end, no task asked
#     for gres, cells.tsv has one row per cell in plan order with exit 0 and its array
#     task's job id, every verdict was written, report.txt lists every cell, and
#     html/index.html exists with a table and every chart it references. Then the same
#     plan with a binary that does not exist: the tasks FAIL and the merge is CANCELLED
#     (afterok never holds, --kill-on-invalid-dep), so no report of a partial sweep.
#  4. GPU phase (skipped with --host-only): the daemons restarted with two fake GPUs
#     (GresTypes=gpu, Gres=gpu:2, gres.conf File=/dev/null,/dev/zero), plans/gpu.plan
#     submitted as is (its --require-device cells ask for --gres=gpu:1). Asserts the same
#     job states and order, that each task had CUDA_VISIBLE_DEVICES 0 or 1, and that each
#     cell ran to a verdict (exit 3 without a real device, 0 or 1 with one).
#  5. stops slurmd, slurmctld and munged by their PIDs (trap: also on failure) and
#     removes the temporary directory (kept on failure, for its logs).
#
# Exit 0: passed, or "skip: ..." when the daemons cannot be started here (not root and no
# sudo, no apt-get, the packages cannot be installed, a daemon does not come up);
# SAEBENCH_REQUIRE_SLURM=1 turns a skip into a failure. Exit 1: anything after that failed.
# About 30 to 60 s on 2 cores, plus ~10 s for the packages the first time.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HOST_ONLY=0
BIN=
for a in "$@"; do
    case "$a" in
        --host-only) HOST_ONLY=1 ;;
        -*) echo "usage: $0 [BINARY] [--host-only]" >&2; exit 2 ;;
        *) BIN=$a ;;
    esac
done
BIN=$(realpath -- "${BIN:-$ROOT/saebench}" 2>/dev/null) && [ -x "$BIN" ] ||
    { echo "slurm-test: no saebench binary (make)" >&2; exit 2; }
export SAEBENCH=$BIN # what every cell runs (sweep.sh; the jobs inherit the environment)

say() { echo "slurm-test: $*"; }
skip() {
    echo "skip: slurm test: $*"
    [ "${SAEBENCH_REQUIRE_SLURM:-0}" = 1 ] && { echo "slurm-test: SAEBENCH_REQUIRE_SLURM=1: a skip is a failure"; exit 1; }
    exit 0
}

# ---------------------------------------------------------------- root, packages
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        exec sudo -n env "PATH=$PATH" "SAEBENCH_REQUIRE_SLURM=${SAEBENCH_REQUIRE_SLURM:-0}" "$0" "$BIN" "$@"
    fi
    skip "not root and no passwordless sudo: cannot start munged, slurmctld and slurmd"
fi

PKGS=(slurmctld slurmd slurm-client munge)
missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q ' ok installed$' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    command -v apt-get >/dev/null 2>&1 || skip "${missing[*]} not installed and no apt-get to install them"
    LOG=$(mktemp "${TMPDIR:-/tmp}/saebench-slurm-apt.XXXXXX") || skip "cannot create a log file"
    say "installing ${missing[*]} (apt output in $LOG)"
    { DEBIAN_FRONTEND=noninteractive apt-get update &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"; } >"$LOG" 2>&1 ||
        skip "apt-get could not install ${missing[*]} (see $LOG)"
fi
for c in munged mungekey munge unmunge slurmctld slurmd srun sbatch squeue scontrol; do
    command -v "$c" >/dev/null 2>&1 || skip "$c not found after installing ${PKGS[*]}"
done
id munge >/dev/null 2>&1 || skip "no munge user (the munge package creates it)"
command -v gnuplot >/dev/null 2>&1 || { echo "FAIL slurm-test: gnuplot is not on PATH (the merge writes html/; scripts/install-deps.sh installs gnuplot-nox)"; exit 1; }

# ---------------------------------------------------------------- the cluster
T=$(mktemp -d "${TMPDIR:-/tmp}/saebench-slurm.XXXXXX") || exit 1
chmod 755 "$T" # munged (the munge user) reaches its directory through it
HOST=$(hostname -s)
NCPU=$(nproc)
export SLURM_CONF=$T/etc/slurm.conf
PID_MUNGED="" PID_CTLD="" PID_SLURMD="" JOBS=()
KEEP=1

stop_pid() { # PID: SIGTERM, wait up to 10 s, then SIGKILL
    local pid=$1 i
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
}
stop_slurm() {
    local j
    for j in "${JOBS[@]}"; do scancel "$j" >/dev/null 2>&1; done
    JOBS=()
    stop_pid "$PID_SLURMD"
    stop_pid "$PID_CTLD"
    wait "$PID_SLURMD" "$PID_CTLD" 2>/dev/null
    PID_SLURMD="" PID_CTLD=""
}
cleanup() {
    stop_slurm
    stop_pid "$PID_MUNGED"
    if [ "$KEEP" -eq 1 ]; then
        echo "slurm-test: logs kept in $T"
    else
        rm -rf "$T" # the scratch folder this test made with mktemp
    fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

FAILED=0
PASSED=0
ok() { PASSED=$((PASSED + 1)); echo "ok   $1"; }
bad() {
    FAILED=$((FAILED + 1))
    echo "FAIL $1"
    shift
    local l
    for l in "$@"; do echo "     $l"; done
}
fatal() { # a failure after which nothing else can be checked
    bad "$@"
    for f in "$T"/slurmctld.log "$T"/slurmd.log; do
        [ -f "$f" ] && { echo "     --- tail $f"; tail -n 15 "$f" | sed 's/^/     /'; }
    done
    echo "slurm-test: $PASSED passed, $FAILED failed"
    exit 1
}

# munge: its own key, socket, pid, log and seed under $T/munge
# (key, log and seed in a private directory; the socket's directory must be reachable by all)
mkdir -p "$T/munge" "$T/munge-run" "$T/etc" || exit 1
mungekey -c -f -k "$T/munge/munge.key" >/dev/null 2>&1 || skip "mungekey could not create a key"
chown -R munge:munge "$T/munge" "$T/munge-run" && chmod 700 "$T/munge" && chmod 755 "$T/munge-run" &&
    chmod 400 "$T/munge/munge.key" || exit 1
SOCK=$T/munge-run/munge.socket
runuser -u munge -- munged --socket="$SOCK" --key-file="$T/munge/munge.key" --pid-file="$T/munge-run/munged.pid" \
    --log-file="$T/munge/munged.log" --seed-file="$T/munge/munged.seed" >"$T/munged.out" 2>&1 ||
    skip "munged did not start: $(tail -n 1 "$T/munged.out")"
for _ in $(seq 1 50); do [ -s "$T/munge-run/munged.pid" ] && break; sleep 0.1; done
PID_MUNGED=$(cat "$T/munge-run/munged.pid" 2>/dev/null)
munge -n -S "$SOCK" 2>/dev/null | unmunge -S "$SOCK" >/dev/null 2>&1 || skip "munged does not answer on $SOCK"

free_port() { # a port nothing listens on, with the next one free too
    local p i
    for i in $(seq 1 50); do
        p=$((20000 + RANDOM % 20000))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
        (exec 3<>"/dev/tcp/127.0.0.1/$((p + 1))") 2>/dev/null && continue
        echo "$p"
        return 0
    done
    return 1
}

# write_conf GPUS: slurm.conf (and gres.conf with GPUS fake GPUs when GPUS > 0)
write_conf() {
    local gpus=$1 port
    port=$(free_port) || fatal "no free port for slurmctld"
    rm -rf "$T/state" "$T/spool" # Slurm state under this test's own scratch folder
    mkdir -p "$T/state" "$T/spool"
    : >"$T/jobcomp.log"
    cat >"$SLURM_CONF" <<EOF
# written by tests/slurm/run-slurm-test.sh
ClusterName=saebench-test
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SOCK
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$T/jobcomp.log
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerParameters=batch_sched_delay=0
MailProg=/bin/true
ReturnToService=2
MinJobAge=600
EOF
    if [ "$gpus" -gt 0 ]; then
        local files=/dev/null,/dev/zero
        echo "GresTypes=gpu" >>"$SLURM_CONF"
        echo "NodeName=$HOST Name=gpu File=$files" >"$T/etc/gres.conf"
        echo "NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$NCPU RealMemory=1000 Gres=gpu:$gpus State=UNKNOWN" >>"$SLURM_CONF"
    else
        rm -f "$T/etc/gres.conf"
        echo "NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$NCPU RealMemory=1000 State=UNKNOWN" >>"$SLURM_CONF"
    fi
    echo "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP" >>"$SLURM_CONF"
}

# start_slurm: slurmctld and slurmd in the foreground, in the background; ready on 'srun true'
start_slurm() {
    slurmctld -D -f "$SLURM_CONF" >"$T/slurmctld.out" 2>&1 &
    PID_CTLD=$!
    slurmd -D -f "$SLURM_CONF" -N "$HOST" >"$T/slurmd.out" 2>&1 &
    PID_SLURMD=$!
    local t0=$SECONDS
    while :; do
        kill -0 "$PID_CTLD" 2>/dev/null || { echo "     $(tail -n 3 "$T/slurmctld.log" "$T/slurmctld.out" 2>/dev/null)"; return 1; }
        kill -0 "$PID_SLURMD" 2>/dev/null || { echo "     $(tail -n 3 "$T/slurmd.log" "$T/slurmd.out" 2>/dev/null)"; return 1; }
        timeout 15 srun -N1 -n1 --time=1 true >"$T/srun.out" 2>&1 && return 0
        [ $((SECONDS - t0)) -lt 60 ] || { echo "     srun: $(tail -n 2 "$T/srun.out")"; return 1; }
        sleep 0.5
    done
}

# ---------------------------------------------------------------- one sweep
# job_field JOBID FIELD: FIELD=value from 'scontrol show job -o JOBID' (first record)
job_field() { scontrol show job -o "$1" 2>/dev/null | head -n 1 | tr ' ' '\n' | sed -n "s/^$2=//p"; }
epoch() { date -d "$1" +%s 2>/dev/null || echo -1; }

# sweep NAME PLAN SUBMIT_OPTIONS...: submits, waits, asserts. CHECK_EXIT: allowed cell exits.
sweep() {
    local name=$1 plan=$2
    shift 2
    local out=$T/sweep-$name sub A M N t0 i
    say "$name: submitting $plan"
    sub=$("$ROOT/scripts/slurm/submit" "$plan" --out "$out" "$@" 2>&1) || fatal "$name: submit $plan $*" "$sub"
    A=$(printf '%s\n' "$sub" | awk '$1 == "array" && $2 == "job:" { print $3 }')
    M=$(printf '%s\n' "$sub" | awk '$1 == "merge" && $2 == "job:" { print $3 }')
    [[ $A =~ ^[0-9]+$ && $M =~ ^[0-9]+$ ]] || fatal "$name: submit printed no job ids" "$sub"
    JOBS+=("$A" "$M")
    ok "$name: submitted array job $A and merge job $M"
    N=$("$ROOT/scripts/sweep.sh" "$plan" --list | wc -l)

    # no task asked for gres unless this is the GPU phase
    local tres
    tres=$(scontrol show job -o "$A" 2>/dev/null | grep -o 'TresPerNode=[^ ]*' | sort -u | tr '\n' ' ')
    if [ "$name" = host ]; then
        [ -z "$tres" ] && ok "$name: the array asks for no gres" || bad "$name: the array asks for no gres" "$tres"
    else
        [[ $tres == *gpu:1* ]] && ok "$name: every array task asks for one GPU ($tres)" || bad "$name: the array asks for gres/gpu:1" "got '$tres'"
    fi

    t0=$SECONDS
    while [ -n "$(squeue -h -j "$A,$M" 2>/dev/null)" ]; do
        [ $((SECONDS - t0)) -lt 300 ] || fatal "$name: array $A and merge $M not done after 300 s" "$(squeue -j "$A,$M" 2>&1)"
        sleep 0.5
    done
    ok "$name: array and merge left the queue after $((SECONDS - t0)) s"
    sleep 0.3 # the completion log is written as the job is purged from the queue

    # every array task COMPLETED, in the completion log and in scontrol; the merge after all of them
    local last_end=0 st en e
    for i in $(seq 1 "$N"); do
        st=$(scontrol show job -o "${A}_$i" 2>/dev/null | head -n 1 | grep -o 'JobState=[A-Z_]*' | cut -d= -f2)
        en=$(scontrol show job -o "${A}_$i" 2>/dev/null | head -n 1 | grep -o 'EndTime=[^ ]*' | cut -d= -f2)
        e=$(epoch "$en")
        [ "$e" -gt "$last_end" ] && last_end=$e
        [ "$st" = COMPLETED ] || bad "$name: array task ${A}_$i COMPLETED" "scontrol: JobState=$st"
    done
    # jobcomp/filetxt: one line per ended job, "JobId=... JobState=... StartTime=... EndTime=..."
    local comp_tasks comp_done
    comp_tasks=$(grep -c "ArrayJobId=$A " "$T/jobcomp.log" 2>/dev/null)
    comp_done=$(grep "ArrayJobId=$A " "$T/jobcomp.log" 2>/dev/null | grep -c "JobState=COMPLETED")
    if [ "$comp_tasks" -eq "$N" ] && [ "$comp_done" -eq "$N" ]; then
        ok "$name: all $N array tasks COMPLETED (completion log and scontrol)"
    else
        bad "$name: all $N array tasks COMPLETED in the completion log" "$comp_tasks lines for array $A, $comp_done COMPLETED" \
            "$(grep "ArrayJobId=$A " "$T/jobcomp.log" | cut -c1-300)"
    fi
    local mline ms
    mline=$(grep "^JobId=$M " "$T/jobcomp.log")
    ms=$(epoch "$(printf '%s' "$mline" | grep -o 'StartTime=[^ ]*' | cut -d= -f2)")
    [[ $mline == *JobState=COMPLETED* ]] && ok "$name: merge job $M COMPLETED" ||
        bad "$name: merge job $M COMPLETED" "${mline:-no line for $M in the completion log}" "$(cat "$out"/logs/slurm-merge-*.out 2>/dev/null)"
    # the array tasks' end times from the completion log too (the later of the two readings)
    for en in $(grep "ArrayJobId=$A " "$T/jobcomp.log" | grep -o 'EndTime=[^ ]*' | cut -d= -f2); do
        e=$(epoch "$en")
        [ "$e" -gt "$last_end" ] && last_end=$e
    done
    if [ "$ms" -ge "$last_end" ] && [ "$last_end" -gt 0 ]; then
        ok "$name: the merge started ($(date -d "@$ms" +%T)) after every task ended (last $(date -d "@$last_end" +%T))"
    else
        bad "$name: the merge started after every task ended" "merge start $ms, last task end $last_end"
    fi

    # what the sweep wrote
    local rows
    rows=$(tail -n +2 "$out/cells.tsv" 2>/dev/null | wc -l)
    [ "$rows" -eq "$N" ] && ok "$name: cells.tsv has $N rows" || bad "$name: cells.tsv has $N rows" "$rows rows" "$(cat "$out/cells.tsv" 2>&1)"
    local cell cmd rc secs host job gpus bad_rows=() want_name
    i=0
    while IFS=$'\t' read -r cell cmd rc secs host job gpus; do
        i=$((i + 1))
        want_name=$("$ROOT/scripts/sweep.sh" "$plan" --list | sed -n "${i}p" | cut -f1)
        [ "$cell" = "$want_name" ] || bad_rows+=("row $i: cell '$cell', plan order says '$want_name'")
        [ "$job" = "${A}_$i" ] || bad_rows+=("$cell: job '$job', expected ${A}_$i")
        [ "$host" = "$HOST" ] || bad_rows+=("$cell: host '$host', expected $HOST")
        [[ $secs =~ ^[0-9]+\.[0-9]$ ]] || bad_rows+=("$cell: seconds '$secs'")
        [[ $cmd == "./saebench "* || $cmd == "$BIN "* ]] || bad_rows+=("$cell: command '$cmd'")
        case " $CHECK_EXIT " in *" $rc "*) ;; *) bad_rows+=("$cell: exit '$rc', expected one of: $CHECK_EXIT") ;; esac
        [ -f "$out/$cell.json" ] || bad_rows+=("$cell: no verdict $out/$cell.json")
        if [ "$name" = gpu ]; then
            case "$gpus" in 0|1) ;; *) bad_rows+=("$cell: CUDA_VISIBLE_DEVICES '$gpus', expected 0 or 1") ;; esac
        else
            [ "$gpus" = - ] || bad_rows+=("$cell: CUDA_VISIBLE_DEVICES '$gpus' on a host task")
        fi
    done < <(tail -n +2 "$out/cells.tsv" 2>/dev/null)
    if [ ${#bad_rows[@]} -eq 0 ]; then
        ok "$name: every row in plan order with its command, task's job id, host, seconds, an allowed exit ($CHECK_EXIT) and a verdict"
    else
        bad "$name: cells.tsv rows" "${bad_rows[@]}"
    fi

    # report.txt: one line per cell (workload, shape, backend as the plan gives them)
    local w s b missing_rows=()
    while read -r w s b _; do
        [ -n "$w" ] || continue
        grep -Eq "^$w +$s +$b " "$out/report.txt" 2>/dev/null || missing_rows+=("$w $s $b")
    done < <(sed 's/#.*//' "$plan")
    if [ -f "$out/report.txt" ] && [ ${#missing_rows[@]} -eq 0 ]; then
        ok "$name: report.txt lists all $N cells"
    else
        bad "$name: report.txt lists every cell" "missing: ${missing_rows[*]:-report.txt}" "$(cat "$out/report.txt" 2>&1 | head -n 20)"
    fi
    local idx=$out/html/index.html imgs img missing_imgs=()
    if [ -f "$idx" ] && grep -q '<table>' "$idx"; then
        imgs=$(grep -o '<img src="[^"]*"' "$idx" | sed 's/<img src="//; s/"$//')
        for img in $imgs; do [ -s "$out/html/$img" ] || missing_imgs+=("$img"); done
        # a sweep where no cell measured anything (exit 3 everywhere: no device) has no chart
        local measured=0
        cut -f3 "$out/cells.tsv" | grep -qx '[01]' && measured=1
        if [ ${#missing_imgs[@]} -gt 0 ]; then
            bad "$name: html/index.html's charts exist" "missing: ${missing_imgs[*]}"
        elif [ -z "$imgs" ] && [ "$measured" -eq 1 ]; then
            bad "$name: html/index.html has charts" "no <img> although cells measured"
        else
            ok "$name: html/index.html with its table and $(printf '%s' "$imgs" | grep -c .) charts, each written"
        fi
    else
        bad "$name: html/index.html with a table" "$(ls "$out/html" 2>&1)"
    fi
}

# A task that cannot run its cell (no binary) fails; the merge's afterok then never holds and
# --kill-on-invalid-dep cancels it: no report from a partial sweep.
sweep_broken() {
    local out=$T/sweep-broken sub A M t0 mst
    sub=$(SAEBENCH=/nonexistent/saebench "$ROOT/scripts/slurm/submit" "$ROOT/plans/tiny.plan" --no-gpu --out "$out" 2>&1) ||
        fatal "broken: submit" "$sub"
    A=$(printf '%s\n' "$sub" | awk '$1 == "array" && $2 == "job:" { print $3 }')
    M=$(printf '%s\n' "$sub" | awk '$1 == "merge" && $2 == "job:" { print $3 }')
    JOBS+=("$A" "$M")
    t0=$SECONDS
    while [ -n "$(squeue -h -j "$A,$M" 2>/dev/null)" ]; do
        [ $((SECONDS - t0)) -lt 120 ] || fatal "broken: array $A and merge $M still queued after 120 s" "$(squeue -j "$A,$M" 2>&1)"
        sleep 0.5
    done
    mst=$(scontrol show job -o "$M" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2)
    if [ "$mst" = CANCELLED ] && [ ! -e "$out/report.txt" ] && [ "$(grep "ArrayJobId=$A " "$T/jobcomp.log" | grep -c 'JobState=FAILED')" -eq 4 ]; then
        ok "broken: the 4 tasks that cannot run FAILED, the merge was CANCELLED (afterok never held), no report"
    else
        bad "broken: failed tasks cancel the merge" "merge JobState=$mst, report.txt $([ -e "$out/report.txt" ] && echo exists || echo absent)" \
            "$(grep "ArrayJobId=$A " "$T/jobcomp.log" | grep -o 'JobState=[A-Z]*' | sort | uniq -c | tr '\n' ' ')"
    fi
}

write_conf 0
say "starting munged, slurmctld and slurmd in $T (no gres)"
t_start=$SECONDS
start_slurm || skip "slurmctld/slurmd did not come up (srun true failed for 60 s); logs in $T"
ok "slurm up: srun true answered after $((SECONDS - t_start)) s (slurmctld $PID_CTLD, slurmd $PID_SLURMD, munged $PID_MUNGED)"

CHECK_EXIT="0"
sweep host "$ROOT/plans/tiny.plan" --no-gpu
sweep_broken

if [ "$HOST_ONLY" -eq 0 ]; then
    stop_slurm
    write_conf 2
    say "restarting slurmctld and slurmd with two fake GPUs (gres.conf File=/dev/null,/dev/zero)"
    t_start=$SECONDS
    start_slurm || fatal "slurm with fake GPUs: slurmctld/slurmd did not come up"
    ok "slurm with gres gpu:2 up after $((SECONDS - t_start)) s"
    CHECK_EXIT="0 1 3"
    sweep gpu "$ROOT/plans/gpu.plan"
fi

echo "slurm-test: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ] || exit 1
KEEP=0
exit 0
