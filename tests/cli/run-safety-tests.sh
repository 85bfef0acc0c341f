#!/usr/bin/env bash
# Nothing saebench did not create is harmed, and nothing hangs (make test-safety;
# part of make test). docs/safety.md states the rules these check.
# usage: tests/cli/run-safety-tests.sh BINARY
#
# Run as root, as CI containers and GPU nodes run it. Device nodes are made by
# mknod in the scratch folder (null c 1 3, full c 1 7), never the real /dev;
# FIFOs with and without a reader run under timeout. Each case asserts the exit
# code, that the node, link or victim file is unchanged, and (expect_exit) that
# no *.tmp.* file is left. Without root (mknod refused) the node cases skip.
set -u

# shellcheck source=tests/lib/battery.sh
. "$(dirname "$0")/../lib/battery.sh"
sb_battery_bin "$@"
sb_battery_setup safety numpy
RS=("$BIN" resident-solve --backend host --reps 2 --warmup 0 --calibration "$CAL" --quiet)
T=(timeout 20)

echo "== saebench safety tests: $BIN"


D="$WORK/nodes"
mkdir "$D"
NODES=0
if mknod "$D/null" c 1 3 2>/dev/null && mknod "$D/full" c 1 7 2>/dev/null; then NODES=1; fi

# ---- device nodes as outputs --------------------------------------------
if [ "$NODES" = 1 ]; then
    before=$(sig "$D/null")
    expect_exit 0 "--out a null device node: the run passes" -- "${RS[@]}" --shape tiny-primal --out "$D/null"
    unchanged "  the null node is still the same character device" "$D/null" "$before"
    before=$(sig "$D/full")
    "${RS[@]}" --shape tiny-primal --out "$D/full" >"$OUTS" 2>"$ERR"
    rc=$?
    if [ $rc -eq 2 ] && grep -q 'No space left' "$ERR"; then ok "--out a full device node: exit 2, says why"; else
        bad "--out a full device node: exit 2, says why" "exit $rc" "stderr: $(cat "$ERR")"; fi
    unchanged "  the full node is still the same character device" "$D/full" "$before"
    ln -s full "$D/to-full"
    before=$(sig "$D/to-full")
    "${RS[@]}" --shape tiny-primal --out "$D/to-full" >/dev/null 2>&1
    rc=$?
    [ $rc -eq 2 ] && ok "--out a symlink to a full node: exit 2" || bad "--out a symlink to a full node: exit 2" "exit $rc"
    unchanged "  the symlink is unchanged" "$D/to-full" "$before"
    full_before=$(sig "$D/full")
    for cmd in "shapes" "--version" "--help" "shapes tiny-primal"; do
        # shellcheck disable=SC2086 # cmd is a word list
        "$BIN" $cmd >"$D/full" 2>"$ERR"
        rc=$?
        [ $rc -ne 0 ] && grep -q 'cannot write to stdout' "$ERR" && ok "saebench $cmd > full node: exit $rc, says so" ||
            bad "saebench $cmd > full node: non-zero exit, says so" "exit $rc" "stderr: $(cat "$ERR")"
    done
    unchanged "  the full node is unchanged after the stdout cases" "$D/full" "$full_before"
else
    echo "skip device-node cases (mknod refused: not root)"
fi

# ---- symlinks -------------------------------------------------------------
echo "a file of the user's" >"$WORK/victim"
ln -s victim "$WORK/to-victim"
link_before=$(readlink "$WORK/to-victim")
if expect_exit 0 "--out a symlink to a regular file: the run passes" -- "${RS[@]}" --shape tiny-primal --out "$WORK/to-victim"; then
    [ -L "$WORK/to-victim" ] && [ "$(readlink "$WORK/to-victim")" = "$link_before" ] &&
        ok "  the link is kept, pointing where it did" || bad "  the link is kept, pointing where it did" "$(sig "$WORK/to-victim")"
    check "  its target now holds the verdict" "$WORK/victim" '.workload == "resident-solve"'
fi
ln -s missing-file "$WORK/dangling"
before=$(sig "$WORK/dangling")
expect_exit 2 "--out a dangling symlink: refused before any work" -- "${RS[@]}" --shape tiny-primal --out "$WORK/dangling"
unchanged "  the dangling link is unchanged" "$WORK/dangling" "$before"

# ---- FIFOs ------------------------------------------------------------------
mkfifo "$WORK/fifo" "$WORK/fifo.json" "$WORK/fifo.npy"
before=$(sig "$WORK/fifo")
"${T[@]}" "${RS[@]}" --shape tiny-primal --out "$WORK/fifo" >/dev/null 2>"$ERR"
rc=$?
[ $rc -eq 2 ] && grep -q 'no reader' "$ERR" && ok "--out a FIFO with no reader: exit 2, no hang" ||
    bad "--out a FIFO with no reader: exit 2, no hang" "exit $rc (124: hung)" "stderr: $(cat "$ERR")"
unchanged "  the FIFO is still a FIFO" "$WORK/fifo" "$before"
timeout 20 cat "$WORK/fifo" >"$WORK/from-fifo" &
reader=$!
sleep 0.3
"${T[@]}" "${RS[@]}" --shape tiny-primal --out "$WORK/fifo" >/dev/null 2>"$ERR"
rc=$?
wait $reader
[ $rc -eq 0 ] && jq -e '.workload == "resident-solve"' "$WORK/from-fifo" >/dev/null 2>&1 &&
    ok "--out a FIFO with a reader: exit 0, the reader gets the verdict" ||
    bad "--out a FIFO with a reader: exit 0, the reader gets the verdict" "exit $rc" "stderr: $(cat "$ERR")"
unchanged "  the FIFO is still a FIFO" "$WORK/fifo" "$before"

# Readers: a FIFO with no writer as any input is refused at once.
"$PY" -c "
import numpy as np
rng = np.random.default_rng(1)
np.save('$WORK/X.npy', rng.standard_normal((20, 6)))
np.save('$WORK/w.npy', rng.uniform(0.5, 2.0, 20))
np.save('$WORK/rhs.npy', rng.standard_normal(6))
"
DATA=(--x "$WORK/X.npy" --w "$WORK/w.npy" --rhs "$WORK/rhs.npy")
expect_exit 2 "--shape a FIFO: refused, no hang" -- "${T[@]}" "${RS[@]}" --shape "$WORK/fifo.json"
expect_exit 2 "--x a FIFO: refused, no hang" -- "${T[@]}" "${RS[@]}" --x "$WORK/fifo.npy" --w "$WORK/w.npy" --rhs "$WORK/rhs.npy"
expect_exit 2 "--calibration a FIFO: refused, no hang" -- "${T[@]}" "$BIN" resident-solve --backend host --shape tiny-primal --calibration "$WORK/fifo.json"
expect_exit 2 "report a FIFO: refused, no hang" -- "${T[@]}" "$BIN" report "$WORK/fifo.json"
expect_exit 2 "compare with a FIFO: refused, no hang" -- "${T[@]}" "$BIN" compare "$WORK/fifo.json" "$WORK/fifo.json"
mkdir "$WORK/shapes-fifo"
mkfifo "$WORK/shapes-fifo/odd.json"
cp shapes/tiny-primal.json "$WORK/shapes-fifo/"
"${T[@]}" env SAEBENCH_SHAPES="$WORK/shapes-fifo" "$BIN" shapes >/dev/null 2>&1
rc=$?
[ $rc -ne 124 ] && ok "shapes with a FIFO in SAEBENCH_SHAPES: no hang (exit $rc)" || bad "shapes with a FIFO in SAEBENCH_SHAPES: no hang" "timed out"

# ---- an output that is an input, by any spelling ----------------------------
x_before=$(sig "$WORK/X.npy")
w_before=$(sig "$WORK/w.npy")
ln -s X.npy "$WORK/X-link.npy"
expect_exit 2 "--dump-beta over --x by another spelling: refused" -- "${RS[@]}" "${DATA[@]}" --dump-beta "$WORK/./X.npy"
expect_exit 2 "--dump-beta over --x through a symlink: refused" -- "${RS[@]}" "${DATA[@]}" --dump-beta "$WORK/X-link.npy"
expect_exit 2 "--out over --w: refused" -- "${RS[@]}" "${DATA[@]}" --out "$WORK/../$(basename "$WORK")/w.npy"
unchanged "  X.npy unchanged" "$WORK/X.npy" "$x_before"
unchanged "  w.npy unchanged" "$WORK/w.npy" "$w_before"
cp shapes/tiny-primal.json "$WORK/my-shape.json"
s_before=$(sig "$WORK/my-shape.json")
expect_exit 2 "--out over the --shape file: refused" -- "${RS[@]}" --shape "$WORK/my-shape.json" --out "$WORK/./my-shape.json"
unchanged "  the shape file unchanged" "$WORK/my-shape.json" "$s_before"
c_before=$(sig "$CAL")
expect_exit 2 "--out over the --calibration file: refused" -- "${RS[@]}" --shape tiny-primal --out "$CAL"
unchanged "  the calibration file unchanged" "$CAL" "$c_before"
expect_exit 2 "--out and --dump-beta one file by two spellings: refused" -- "${RS[@]}" "${DATA[@]}" --out "$WORK/same.x" --dump-beta "$WORK/./same.x"
# --system DIR: every file in it is an input too, by any spelling
/usr/bin/python3 tests/cli/arrow_system.py make "$WORK/sys" 5 2 4 1
IL=("$BIN" inner-loop --backend host --calibration "$CAL" --quiet --reps 2 --warmup 0 --system "$WORK/sys")
gb_before=$(sig "$WORK/sys/gb.npy")
ln -s sys/hbb.npy "$WORK/hbb-link.npy"
hbb_before=$(sig "$WORK/sys/hbb.npy")
expect_exit 2 "--dump-z over a --system file: refused" -- "${IL[@]}" --dump-z "$WORK/sys/./gb.npy"
expect_exit 2 "--out over a --system file through a symlink: refused" -- "${IL[@]}" --out "$WORK/hbb-link.npy"
unchanged "  gb.npy unchanged" "$WORK/sys/gb.npy" "$gb_before"
unchanged "  hbb.npy unchanged" "$WORK/sys/hbb.npy" "$hbb_before"
expect_exit 2 "--out and --dump-z one file by two spellings: refused" -- "${IL[@]}" --out "$WORK/same.z" --dump-z "$WORK/./same.z"
mkfifo "$WORK/sys-fifo.npy"
mkdir "$WORK/sysf" && cp "$WORK"/sys/*.npy "$WORK/sysf/" && rm "$WORK/sysf/htt.npy" && ln -s ../sys-fifo.npy "$WORK/sysf/htt.npy"
expect_exit 2 "--system with a FIFO for htt.npy: refused, no hang" -- "${T[@]}" "$BIN" inner-loop --backend host --quiet --system "$WORK/sysf"
expect_exit 0 "--shape NAME beside an --out of that name: no false refusal" -- "${RS[@]}" --shape tiny-primal --out "$WORK/tiny-primal"

# ---- two runs, one --out: the later never replaces what the earlier reported --
C="$WORK/shared.json"
"$BIN" resident-solve --backend host --calibration "$CAL" --quiet --shape sae-2k-2048 --reps 3 --out "$C" >/dev/null 2>"$WORK/slow.err" &
slow=$!
sleep 0.5
"${RS[@]}" --shape tiny-primal --out "$C" >/dev/null 2>&1
fast_rc=$?
wait $slow
slow_rc=$?
if [ $fast_rc -eq 0 ] && [ $slow_rc -eq 2 ] && grep -q 'another process wrote it' "$WORK/slow.err" &&
    [ "$(jq -r .shape.name "$C")" = tiny-primal ]; then
    ok "two runs with one --out: the first to finish keeps the file and exit 0; the later exits 2, says why"
else
    bad "two runs with one --out: the first to finish keeps the file and exit 0; the later exits 2, says why" \
        "fast exit $fast_rc, slow exit $slow_rc, file holds $(jq -r .shape.name "$C" 2>&1)" "slow stderr: $(cat "$WORK/slow.err")"
fi

# ---- a late output failure says so in the verdict ----------------------------
if [ "$NODES" = 1 ]; then
    V="$WORK/late.json"
    "${RS[@]}" "${DATA[@]}" --dump-beta "$D/full" --out "$V" >/dev/null 2>"$ERR"
    rc=$?
    [ $rc -eq 2 ] && ok "--dump-beta to a full node: exit 2" || bad "--dump-beta to a full node: exit 2" "exit $rc"
    check "  the verdict records the lost output and exit 2" "$V" \
        '.exit_code == 2 and .verdict == "fail" and (.output_error | test("cannot write .*full"))'
    unchanged "  the full node is unchanged" "$D/full" "$full_before"
fi

# ---- report --html writes only into a folder it owns ------------------------
if command -v gnuplot >/dev/null; then
    FIX=tests/report/fixtures/base
    H="$WORK/dash"
    expect_exit 0 "report --html into a new folder" -- "$BIN" report "$FIX" --html "$H" --out "$WORK/r1.txt"
    [ -f "$H/.saebench-report" ] && [ -s "$H/index.html" ] && ok "  the folder has the page and saebench's marker" ||
        bad "  the folder has the page and saebench's marker" "$(ls -A "$H" 2>&1)"
    echo "the user's notes" >"$H/notes.txt"
    notes_before=$(sig "$H/notes.txt")
    expect_exit 0 "report --html again into its own folder" -- "$BIN" report "$FIX" --html "$H" --out "$WORK/r2.txt"
    unchanged "  a file of the user's in it stays, unchanged" "$H/notes.txt" "$notes_before"
    mkdir "$WORK/foreign"
    echo "mine" >"$WORK/foreign/index.html"
    f_before=$(sig "$WORK/foreign/index.html")
    expect_exit 2 "report --html into a folder saebench did not make: refused" -- "$BIN" report "$FIX" --html "$WORK/foreign"
    unchanged "  its index.html unchanged" "$WORK/foreign/index.html" "$f_before"
    echo "victim" >"$WORK/png-victim"
    rm -f "$H/throughput.png"
    ln -s ../png-victim "$H/throughput.png"
    v_before=$(sig "$WORK/png-victim")
    expect_exit 2 "report --html with a chart name symlinked out of the folder: refused" -- "$BIN" report "$FIX" --html "$H"
    unchanged "  the link's victim unchanged" "$WORK/png-victim" "$v_before"
    rm -f "$H/throughput.png"
    ln -s dash "$WORK/dash-link"
    expect_exit 2 "report --html through a symlinked folder: refused" -- "$BIN" report "$FIX" --html "$WORK/dash-link"
    # An interrupted report: gnuplot (a stand-in that records its pid and
    # sleeps) is running when saebench gets SIGTERM. The old page stays, and
    # gnuplot does not outlive saebench.
    "$BIN" report "$FIX" --html "$H" >/dev/null 2>&1
    page_before=$(sig "$H/index.html")
    mkdir "$WORK/slowbin"
    printf '#!/bin/sh
echo $$ > "%s/gnuplot.pid"
sleep 30
' "$WORK" >"$WORK/slowbin/gnuplot"
    chmod +x "$WORK/slowbin/gnuplot"
    PATH="$WORK/slowbin:$PATH" "$BIN" report "$FIX" --html "$H" >/dev/null 2>&1 &
    rep=$!
    for _ in $(seq 50); do [ -s "$WORK/gnuplot.pid" ] && break; sleep 0.1; done
    kill -TERM $rep
    wait $rep 2>/dev/null
    sleep 0.3
    gp=$(cat "$WORK/gnuplot.pid" 2>/dev/null)
    # alive: the process exists and is not a zombie waiting for a reaper
    alive() { [ -e "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
    [ -n "$gp" ] && ! alive "$gp" && ok "report killed while gnuplot runs: gnuplot does not outlive it" ||
        { bad "report killed while gnuplot runs: gnuplot does not outlive it" "pid ${gp:-none}"; [ -n "$gp" ] && kill "$gp"; }
    unchanged "  the old page is intact" "$H/index.html" "$page_before"
    rm -rf "$WORK"/dash.tmp.* # the interrupted report's own staging folder (this test made it happen)
else
    echo "skip report --html cases (no gnuplot)"
fi

sb_test_summary
