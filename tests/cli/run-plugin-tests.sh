#!/usr/bin/env bash
# Plugin battery (make test-plugin): --backend plugin:PATH.so with the example
# plugins (examples/solver-lapacke/, examples/solver-rust/) and the plugins of
# tests/plugins/ that misbehave on purpose: a wrong answer, an error at a given
# rep, a crash, a hang, an exit(), another ABI version, no entry symbol, a file
# that is not a library, a device claim without the workload, a device claim
# that computes on the host, printing to stdout, a descriptor from before the
# arrow table. resident-solve, and inner-loop and outer-seq through the arrow
# table. docs/plugins.md is the contract.
# And the CUDA example (examples/solver-cuda/) built against the CPU stand-in
# (tests/standin/).
# usage: [SB_RUST_EXAMPLE=PATH|""] tests/cli/run-plugin-tests.sh BINARY BUILD_DIR STANDIN_CUDA_PLUGIN
# BUILD_DIR holds examples/solver-lapacke.so and tests/plugins/tp-*.so;
# STANDIN_CUDA_PLUGIN is build/standin/examples/solver-cuda-standin.so (make examples-standin).
# SB_RUST_EXAMPLE: the Rust example's library, or empty where make found no
# cargo (its tests then print one SKIP line); unset: BUILD_DIR's
# examples/solver-rust.so when there is one.
# Needs jq and /usr/bin/python3 with numpy and jsonschema (Debian packages).
set -u

if [ $# -ne 3 ]; then
    echo "usage: $0 BINARY BUILD_DIR STANDIN_CUDA_PLUGIN" >&2
    exit 2
fi
BIN=$(realpath "$1") || exit 2
BUILD=$(realpath "$2") || exit 2
CU=$(realpath "$3") || exit 2
[ -x "$BIN" ] || { echo "$0: $1 is not an executable" >&2; exit 2; }
EX="$BUILD/examples/solver-lapacke.so"
TP="$BUILD/tests/plugins"
for f in "$EX" "$CU" "$TP"/tp-{wrong,error,segv,hang,exit,abi,nosym,newer,device-only,print,claims-device,load-crash,bad-telemetry,bad-name,old-desc}.so; do
    [ -f "$f" ] || { echo "$0: $f is missing (make test-plugin builds it)" >&2; exit 2; }
done
# shellcheck source=tests/lib/battery.sh
. "$(dirname "$0")/../lib/battery.sh"
sb_battery_setup plugin "numpy, jsonschema"
RS=("$BIN" resident-solve)
FAST=(--reps 4 --warmup 1 --calibration "$CAL")
unset SBTP_AT

echo "== saebench plugin tests: $BIN"

# ---- the example: a correct host plugin -----------------------------------
V="$WORK/example-dual.json"
if expect_exit 0 "the LAPACKE example passes tiny-dual" -- "${RS[@]}" --shape tiny-dual --backend "plugin:$EX" "${FAST[@]}" --out "$V"; then
    valid "example verdict is schema-valid" "$V"
    check "backend names the plugin, execution_path plugin-cpu" "$V" '.backend == "plugin-lapacke-example" and .execution_path == "plugin-cpu" and .device == null'
    check "a host claim is never engaged, and says so in words" "$V" \
        '.engaged == false and (.engaged_reason | test("claims to run on the host: a host number is never a device number")) and (.plugin.engagement | startswith("never:"))'
    check "a host claim is never a device number" "$V" \
        '.throughput.measured_of == "host" and .throughput.measured_rows_per_s > 0 and .throughput.engaged_rows_per_s == 0 and .target.status == "undetermined"'
    check "the plugin section names it: name, version, path, ABI, entry" "$V" \
        ".plugin.name == \"lapacke-example\" and .plugin.version == \"1.1.0\" and .plugin.path == \"$EX\" and .plugin.abi_version == 1 and .plugin.entry == \"saebench_solver_v1\" and .plugin.claims_device == false and .plugin.failure == null and .plugin.methods == [\"primal\", \"dual\"]"
    sum=$(sha256sum "$EX" | cut -c1-64)
    check "plugin.sha256 is the library file's (sha256sum)" "$V" ".plugin.sha256 == \"$sum\" and .plugin.size_bytes == $(stat -c %s "$EX")"
    check "parity gates apply and pass; RS-003 does not apply" "$V" \
        '.parity.pass == true and ([.gates[] | select(.id == "RS-001" or .id == "RS-002") | .applies and .pass] == [true, true]) and ([.gates[] | select(.id == "RS-003")][0].applies == false)'
    check "dual by --method auto; factor and precision are the plugin's" "$V" '.method == "dual" and .factor == "plugin" and .precision.requested == "fp64" and (.precision | has("used") | not) and (.precision.note | test("plugin"))'
    check "saebench's clock: exactly --reps samples, warm-up untimed" "$V" '.timing.reps == 4 and .timing.warmup == 1 and (.timing.samples_s | length) == 4 and .timing.stop_reason == "reps"'
    # w0 + 1 warm-up + 4 timed + 1 profiled solve, staged once
    check "telemetry is the plugin's: 7 factorizations, staged once" "$V" '.telemetry.factorizations == 7 and .telemetry.frame_builds == 1 and .telemetry.library_calls > 0 and .telemetry.h2d_bytes == 0'
    check "breakdown: the plugin's solve call timed alone, build and factor not seen" "$V" '.timing.breakdown_ms.solve > 0 and .timing.breakdown_ms.build == 0 and .timing.breakdown_ms.factor == 0'
fi

V="$WORK/example-primal.json"
if expect_exit 0 "the LAPACKE example passes tiny-primal" -- "${RS[@]}" --shape tiny-primal --backend "plugin:$EX" "${FAST[@]}" --out "$V"; then
    valid "tiny-primal example verdict is schema-valid" "$V"
    check "primal by --method auto, parity passes" "$V" '.method == "primal" and .parity.pass == true and .parity.rel_err < 1e-9'
fi

V="$WORK/example-dual-as-primal.json"
if expect_exit 0 "--method primal on tiny-dual runs the primal in the plugin" -- "${RS[@]}" --shape tiny-dual --method primal --backend "plugin:$EX" "${FAST[@]}" --quiet --out "$V"; then
    check "--method primal is what the plugin was asked for" "$V" '.method == "primal" and .parity.pass == true'
fi

# Real data from .npy files: the plugin gets the harness's inputs like any backend.
"$PY" - "$WORK" <<'EOF'
import sys
import numpy as np
d = sys.argv[1]
rng = np.random.default_rng(11)
np.save(d + "/X.npy", rng.standard_normal((40, 24)).astype(np.float32))
np.save(d + "/w.npy", rng.uniform(0.5, 2.0, 40))
np.save(d + "/rhs.npy", rng.standard_normal(24))
EOF
V="$WORK/example-npy.json"
if expect_exit 0 "the example passes on .npy data" -- "${RS[@]}" --x "$WORK/X.npy" --w "$WORK/w.npy" --rhs "$WORK/rhs.npy" --backend "plugin:$EX" "${FAST[@]}" --quiet --out "$V" --dump-beta "$WORK/beta.npy"; then
    valid ".npy verdict is schema-valid" "$V"
    check ".npy data recorded, parity passes" "$V" '.shape.data == "npy" and .shape.dtypes.x == "<f4" and .parity.pass == true'
    if got=$("$PY" - "$WORK" 2>&1 <<'EOF'
import sys
import numpy as np
d = sys.argv[1]
X, w, rhs, b = (np.load(d + f).astype(np.float64) for f in ("/X.npy", "/w.npy", "/rhs.npy", "/beta.npy"))
ref = np.linalg.solve(X.T @ (w[:, None] * X) + 1e-3 * np.eye(X.shape[1]), rhs)
rel = np.abs(b - ref).max() / np.abs(ref).max()
assert rel < 1e-9, rel
print("rel err %.2g" % rel)
EOF
    ); then ok "--dump-beta from the plugin's w0 solve matches numpy ($got)"; else bad "--dump-beta from the plugin's w0 solve matches numpy" "$got"; fi
fi

# ---- wrong answers, errors, crashes, hangs: the verdict is always written --
V="$WORK/wrong.json"
if expect_exit 1 "a wrong answer fails the parity gate (exit 1)" -- "${RS[@]}" --shape tiny-primal --backend "plugin:$TP/tp-wrong.so" "${FAST[@]}" --out "$V"; then
    valid "wrong-answer verdict is schema-valid" "$V"
    check "RS-001 and RS-002 apply and fail, parity.pass false" "$V" \
        '([.gates[] | select(.id == "RS-001" or .id == "RS-002") | .applies == true and .pass == false] == [true, true]) and .parity.pass == false and .verdict == "fail" and .plugin.failure == null'
fi

# Solve calls count from 0: the w0 solve, warm-up 0, then timed 0, 1, ...
V="$WORK/error.json"
if SBTP_AT=3 expect_exit 4 "an error at solve call 3 is exit 4" -- "${RS[@]}" --shape tiny-primal --backend "plugin:$TP/tp-error.so" "${FAST[@]}" --out "$V"; then
    valid "error verdict is schema-valid" "$V"
    check "not engaged, the plugin's message in engaged_reason" "$V" '.engaged == false and (.engaged_reason | test("solve returned SAEBENCH_ERR_RUNTIME \\(2\\): test plugin: injected failure at solve call 3"))'
    check "plugin.failure: an error in solve at timed rep 1" "$V" \
        '.plugin.failure.kind == "error" and .plugin.failure.stage == "timed" and .plugin.failure.rep == 1 and .plugin.failure.call == "solve" and .plugin.failure.phase == "resident" and (.plugin.failure.message | test("injected failure"))'
    # the message's whole characters kept, the two bytes of its cut '€' shown as '?': the
    # verdict and the error line are valid UTF-8 (iconv refuses a stray byte; jq would not)
    check "the plugin's cut UTF-8 message: whole characters kept, the cut one's bytes as '?'" "$V" \
        '(.plugin.failure.message | endswith("call 3: déjà vu ??")) and (.engaged_reason | endswith("déjà vu ??"))'
    if iconv -f UTF-8 -t UTF-8 "$V" >/dev/null 2>&1 && iconv -f UTF-8 -t UTF-8 "$ERR" >/dev/null 2>&1 &&
        grep -q 'déjà vu ??' "$ERR"; then
        ok "verdict and error line are valid UTF-8"
    else
        bad "verdict or error line is not valid UTF-8" "$(grep -a 'vu' "$ERR" | od -c | tail -n 4)"
    fi
    check "nothing measured, every gate not evaluated" "$V" '.timing.reps == 0 and .throughput.measured_rows_per_s == 0 and ([.gates[] | .pass] | any | not) and ([.gates[] | .reason] | all(. == "not evaluated: the run failed"))'
fi
V="$WORK/error-warmup.json"
if SBTP_AT=1 expect_exit 4 "an error at solve call 1 is in the warm-up" -- "${RS[@]}" --shape tiny-primal --backend "plugin:$TP/tp-error.so" "${FAST[@]}" --quiet --out "$V"; then
    check "plugin.failure: warm-up rep 0" "$V" '.plugin.failure.stage == "warm-up" and .plugin.failure.rep == 0'
fi
V="$WORK/error-w0.json"
if SBTP_AT=0 expect_exit 4 "an error at solve call 0 is in the w0 solve" -- "${RS[@]}" --shape tiny-primal --backend "plugin:$TP/tp-error.so" "${FAST[@]}" --quiet --out "$V"; then
    check "plugin.failure: the w0 solve, no rep" "$V" '.plugin.failure.stage == "w0" and .plugin.failure.rep == null and (.engaged_reason | test("w0 solve"))'
fi

V="$WORK/segv.json"
if expect_exit 4 "a segfault is exit 4" -- "${RS[@]}" --shape tiny-primal --backend "plugin:$TP/tp-segv.so" "${FAST[@]}" --out "$V"; then
    valid "segfault verdict (written by the parent) is schema-valid" "$V"
    check "plugin.failure names the signal, the rep and the call" "$V" \
        '.plugin.failure.kind == "signal" and .plugin.failure.signal == 11 and .plugin.failure.signal_name == "SIGSEGV" and .plugin.failure.stage == "timed" and .plugin.failure.rep == 1 and .plugin.failure.call == "solve"'
    check "engaged_reason says crashed, where, in words" "$V" '.engaged == false and (.engaged_reason | test("crashed: SIGSEGV .* during timed rep 1 of the resident phase, in the plugin.s solve\\(\\)"))'
    check "the crashed run's verdict carries the common sections" "$V" '.workload == "resident-solve" and .method == "primal" and .exit_code == 4 and .verdict == "fail" and (.gates | length) == 4'
fi
says "the summary names the crash" "crashed: SIGSEGV"

V="$WORK/hang.json"
t0=$(date +%s)
if expect_exit 4 "a hang is killed after --timeout 2 (exit 4)" -- "${RS[@]}" --shape tiny-primal --backend "plugin:$TP/tp-hang.so" "${FAST[@]}" --timeout 2 --out "$V"; then
    dt=$(($(date +%s) - t0))
    if [ "$dt" -ge 2 ] && [ "$dt" -le 10 ]; then ok "the hang ended after the timeout ($dt s)"; else bad "the hang ended after the timeout" "took $dt s"; fi
    valid "timeout verdict is schema-valid" "$V"
    check "plugin.failure: timeout, SIGKILL, in solve at timed rep 1" "$V" \
        '.plugin.failure.kind == "timeout" and .plugin.failure.signal_name == "SIGKILL" and .plugin.failure.call == "solve" and .plugin.failure.rep == 1 and .plugin.timeout_s == 2 and (.engaged_reason | test("--timeout 2 s"))'
fi
if pgrep -f "plugin:$TP/tp-hang.so" >/dev/null; then bad "no process of the hung plugin is left" "$(pgrep -af "plugin:$TP/tp-hang.so")"; else ok "no process of the hung plugin is left"; fi

V="$WORK/exit.json"
if expect_exit 4 "a plugin that calls exit(0) mid-run is exit 4" -- "${RS[@]}" --shape tiny-primal --backend "plugin:$TP/tp-exit.so" "${FAST[@]}" --quiet --out "$V"; then
    valid "exit verdict is schema-valid" "$V"
    check "plugin.failure: exit, before the verdict was complete" "$V" '.plugin.failure.kind == "exit" and (.engaged_reason | test("exit status 0")) and .plugin.failure.call == "solve"'
fi

V="$WORK/bad-telemetry.json"
if expect_exit 4 "a negative telemetry counter is exit 4" -- "${RS[@]}" --shape tiny-primal --backend "plugin:$TP/tp-bad-telemetry.so" "${FAST[@]}" --quiet --out "$V"; then
    check "the counter named" "$V" '(.engaged_reason | test("h2d_bytes = -1")) and .plugin.failure.call == "telemetry"'
fi

# ---- loading errors: exit 2, one line, no verdict --------------------------
expect_exit 2 "an ABI version mismatch is refused" -- "${RS[@]}" --shape tiny-primal --backend "plugin:$TP/tp-abi.so" --out "$WORK/no.json" &&
    says "it names both versions" "ABI version 99, but this saebench speaks version 1"
expect_exit 2 "a library without the entry symbol is refused" -- "${RS[@]}" --shape tiny-primal --backend "plugin:$TP/tp-nosym.so" --out "$WORK/no.json" &&
    says "it names the symbol" "no saebench_solver_v1 symbol"
expect_exit 2 "a library of a newer ABI only is refused" -- "${RS[@]}" --shape tiny-primal --backend "plugin:$TP/tp-newer.so" --out "$WORK/no.json" &&
    says "it says newer" "exports saebench_solver_v2 but not saebench_solver_v1"
printf 'not a library\n' >"$WORK/text.so"
expect_exit 2 "a file that is not a shared library is refused" -- "${RS[@]}" --shape tiny-primal --backend "plugin:$WORK/text.so" --out "$WORK/no.json" &&
    says "it says why" "cannot load it as a shared library"
expect_exit 2 "a missing library is refused" -- "${RS[@]}" --shape tiny-primal --backend "plugin:$WORK/none.so" --out "$WORK/no.json"
expect_exit 2 "a directory is refused" -- "${RS[@]}" --shape tiny-primal --backend "plugin:$WORK" --out "$WORK/no.json"
mkfifo "$WORK/fifo.so"
expect_exit 2 "a FIFO is refused without hanging" -- timeout 10 "${RS[@]}" --shape tiny-primal --backend "plugin:$WORK/fifo.so" --out "$WORK/no.json"
expect_exit 2 "a crash while loading is refused" -- "${RS[@]}" --shape tiny-primal --backend "plugin:$TP/tp-load-crash.so" --out "$WORK/no.json" &&
    says "it says crashed while loading" "crashed while loading: SIGSEGV"
expect_exit 2 "a bad name is refused" -- "${RS[@]}" --shape tiny-primal --backend "plugin:$TP/tp-bad-name.so" --out "$WORK/no.json"
expect_exit 2 "a plugin without resident-solve is refused" -- "${RS[@]}" --shape tiny-primal --backend "plugin:$TP/tp-device-only.so" --out "$WORK/no.json" &&
    says "it says what is missing" "does not implement resident-solve"
expect_exit 2 "--backend plugin: on a workload without plugin support" -- "$BIN" multiplex --shape tiny-arrow --backend "plugin:$EX" --out "$WORK/no.json" &&
    says "it names the workload" "multiplex has no plugin support yet"
expect_exit 2 "--backend plugin: with no path" -- "${RS[@]}" --shape tiny-primal --backend plugin: --out "$WORK/no.json"
expect_exit 2 "--timeout without a plugin" -- "${RS[@]}" --shape tiny-primal --timeout 5 --out "$WORK/no.json"
expect_exit 2 "--timeout 0" -- "${RS[@]}" --shape tiny-primal --backend "plugin:$EX" --timeout 0 --out "$WORK/no.json"
expect_exit 2 "--precision mixed with a plugin" -- "${RS[@]}" --shape tiny-primal --backend "plugin:$EX" --precision mixed --out "$WORK/no.json"
expect_exit 2 "--factor with a plugin" -- "${RS[@]}" --shape tiny-primal --backend "plugin:$EX" --factor library --out "$WORK/no.json"
expect_exit 2 "--reupload with a plugin" -- "${RS[@]}" --shape tiny-primal --backend "plugin:$EX" --reupload --out "$WORK/no.json"
expect_exit 2 "--method dual with a primal-only plugin" -- "${RS[@]}" --shape tiny-dual --method dual --backend "plugin:$TP/tp-claims-device.so" --out "$WORK/no.json" &&
    says "it names the methods" "implements only the primal method"
expect_exit 0 "--dry-run loads the plugin in a child and runs nothing" -- "${RS[@]}" --shape tiny-dual --backend "plugin:$EX" --dry-run --out "$WORK/dry.json" &&
    says "it says the plugin loaded" "the loading of plugin lapacke-example"
if [ -e "$WORK/dry.json" ]; then bad "--dry-run writes no verdict" "$WORK/dry.json exists"; else ok "--dry-run writes no verdict"; fi
expect_exit 2 "--dry-run refuses a plugin of another ABI" -- "${RS[@]}" --shape tiny-dual --backend "plugin:$TP/tp-abi.so" --dry-run

# ---- device claims ----------------------------------------------------------
V="$WORK/device-only.json"
if expect_exit 3 "--require-device: a device claim without resident-solve is exit 3" -- "${RS[@]}" --shape tiny-primal --backend "plugin:$TP/tp-device-only.so" --require-device --out "$V"; then
    valid "exit-3 verdict is schema-valid" "$V"
    check "nothing ran: execution_path none, no gates, the reason in words" "$V" \
        '.execution_path == "none" and .gates == [] and .backend == "plugin-test-plugin" and .engaged == false and (.engaged_reason | test("claims a device but does not implement resident-solve")) and .plugin.claims_device == true'
fi
V="$WORK/host-required.json"
if expect_exit 3 "--require-device: a host claim is exit 3" -- "${RS[@]}" --shape tiny-dual --backend "plugin:$EX" --require-device --out "$V"; then
    valid "host-claim exit-3 verdict is schema-valid" "$V"
    check "it says the plugin claims the host" "$V" '(.engaged_reason | test("claims to run on the host")) and .execution_path == "none"'
fi

V="$WORK/claims-device.json"
# RS-003 (device rows/s) is judged on a device claim; its 100000 rows/s is a GPU's rate, which
# this host computation reaches only on an idle machine: the gate at 1 row/s keeps the test
# about the claim, not the load.
if expect_exit 0 "a device claim that completes passes" -- "${RS[@]}" --shape tiny-dual --backend "plugin:$TP/tp-claims-device.so" "${FAST[@]}" --require-device --gate RS-003=1 --out "$V"; then
    valid "device-claim verdict is schema-valid" "$V"
    check "engaged by the plugin's claim, said in words" "$V" \
        '.engaged == true and .execution_path == "plugin-device-claimed" and .device == null and (.plugin.engagement | startswith("by the plugin'"'"'s claim only")) and .plugin.device_claimed == "test device (really the host)"'
    check "the device number is saebench's measurement; the target is decided on it" "$V" \
        '.throughput.measured_of == "device" and .throughput.engaged_rows_per_s == .throughput.measured_rows_per_s and .throughput.engaged_rows_per_s > 0 and (.target.status == "met" or .target.status == "unmet")'
    check "--method auto picks among the plugin's methods (primal only)" "$V" '.method == "primal" and .plugin.methods == ["primal"]'
fi
says "the summary says the claim, and the device claimed in the plugin's words" \
    "device engaged: yes — by the claim of plugin test-plugin that it ran on \"test device (really the host)\""

# ---- stdout belongs to --out - ------------------------------------------------
if expect_exit 0 "a plugin that prints to stdout passes" -- "${RS[@]}" --shape tiny-primal --backend "plugin:$TP/tp-print.so" "${FAST[@]}" --quiet --out -; then
    if jq -e '.backend == "plugin-test-plugin" and .exit_code == 0' "$OUTS" >/dev/null 2>&1; then ok "--out - stays one valid JSON verdict"; else bad "--out - stays one valid JSON verdict" "stdout: $(head -c 300 "$OUTS")"; fi
    cp "$OUTS" "$WORK/print.json"
    valid "--out - verdict is schema-valid" "$WORK/print.json"
    says "the plugin's prints went to stderr" "test plugin: printing to stdout inside a call"
fi
if expect_exit 0 "with --out FILE, stdout stays empty" -- "${RS[@]}" --shape tiny-primal --backend "plugin:$TP/tp-print.so" "${FAST[@]}" --quiet --out "$WORK/print-file.json"; then
    if [ -s "$OUTS" ]; then bad "nothing on stdout" "stdout: $(head -c 200 "$OUTS")"; else ok "nothing on stdout"; fi
fi

# ---- report and compare read plugin verdicts like any other ----------------
mkdir -p "$WORK/set-a" "$WORK/set-b"
cp "$WORK/example-dual.json" "$WORK/print-file.json" "$WORK/claims-device.json" "$WORK/set-a/"
cp "$WORK/example-dual.json" "$WORK/segv.json" "$WORK/set-b/"
if expect_exit 0 "report reads plugin verdicts" -- "$BIN" report "$WORK/set-a" "$WORK/set-b" --format json; then
    check "report: 5 verdicts, the plugin backends, the failed run" "$OUTS" \
        '.verdicts == 5 and ([.rows[].backend] | unique) == ["plugin-lapacke-example", "plugin-test-plugin"] and ([.rows[] | select(.exit_code == 4)] | length) == 1'
    check "report: a device claim is named as one" "$OUTS" '[.rows[] | select(.execution_path == "plugin-device-claimed")][0] | .device == "claimed by plugin: test device (really the host)" and .engaged == true'
fi
if expect_exit 0 "report's text table reads them too" -- "$BIN" report "$WORK/set-a"; then
    # a plugin that ran is not "requested, not engaged": its device is what it claims
    if ! grep -q "requested, not engaged" "$OUTS" && [ "$(grep -c '^resident-solve .* host ' "$OUTS")" -eq 2 ] &&
        grep -q "claimed by plugin: test device (really the host)" "$OUTS"; then
        ok "report's text: host plugins on the host, the device claim in its words"
    else bad "report's text: host plugins on the host, the device claim in its words" "stdout: $(head -c 800 "$OUTS")"; fi
fi
expect_exit 0 "compare: a plugin set against itself is no regression" -- "$BIN" compare "$WORK/set-a" "$WORK/set-a"
if expect_exit 1 "compare: the plugin's crash after its good run is a regression" -- "$BIN" compare "$WORK/set-a" "$WORK/set-b"; then
    if grep -q "tiny-primal plugin-test-plugin host: REGRESSION" "$OUTS"; then ok "compare names the plugin's key"; else bad "compare names the plugin's key" "stdout: $(head -c 400 "$OUTS")"; fi
fi

# ---- inner-loop and outer-seq: the arrow table -------------------------------------
# The same harness as --backend host: the three LM fits, the oracle, IL-001's arrow parity, the
# resident, reupload and frame_build phases; the plugin's calls in the run's child process.
IL=("$BIN" inner-loop)
OSQ=("$BIN" outer-seq)
# zrel A.npy B.npy: the largest difference of two --dump-z files relative to B's largest entry,
# which must be under 1e-12
zrel() {
    "$PY" - "$1" "$2" <<'EOF'
import sys
import numpy as np
a, b = (np.load(f) for f in sys.argv[1:])
rel = np.abs(a - b).max() / np.abs(b).max()
assert a.shape == b.shape and rel < 1e-12, (a.shape, b.shape, rel)
print("rel diff %.2g" % rel)
EOF
}
sum=$(sha256sum "$EX" | cut -c1-64)
for shape in tiny-arrow tiny-arrow-d3; do
    V="$WORK/il-$shape.json"
    expect_exit 0 "inner-loop $shape: the LAPACKE example passes" -- "${IL[@]}" --shape "$shape" --backend "plugin:$EX" "${FAST[@]}" \
        --out "$V" --dump-z "$WORK/il-$shape.npy" || continue
    valid "inner-loop $shape: verdict is schema-valid" "$V"
    check "inner-loop $shape: backend plugin-lapacke-example, a host claim, never engaged" "$V" \
        '.backend == "plugin-lapacke-example" and .execution_path == "plugin-cpu" and .device == null and .engaged == false and (.engaged_reason | test("claims to run on the host: a host number is never a device number")) and .throughput.measured_of == "host"'
    check "inner-loop $shape: IL-001 (arrow parity) and IL-003 apply and pass" "$V" \
        '.parity.pass == true and ([.gates[] | select(.id == "IL-001" or .id == "IL-003") | .applies and .pass] == [true, true])'
    check "inner-loop $shape: the plugin section (name, version, sha256, workloads, no failure)" "$V" \
        ".plugin.name == \"lapacke-example\" and .plugin.version == \"1.1.0\" and .plugin.sha256 == \"$sum\" and .plugin.workloads == [\"resident-solve\", \"inner-loop\", \"outer-seq\"] and .plugin.failure == null"
    check "inner-loop $shape: resident, reupload and frame_build, --reps reps each on saebench's clock" "$V" \
        '(.timing.phases | keys) == ["frame_build", "resident", "reupload"] and ([.timing.phases[] | .reps] == [4, 4, 4]) and .residency.speedup > 0'
    # the resident fit: one factor at ridge 0, then only solves; the re-upload state: one factor
    # per rep of the reupload and frame_build phases (1 warm-up + 4 each), each re-staged
    check "inner-loop $shape: telemetry is the plugin's, frame_builds saebench's" "$V" \
        '.telemetry.factorizations == 1 and .telemetry.frame_builds == 1 and .telemetry.library_calls > 0 and .residency.reupload_telemetry.factorizations == 10 and .residency.reupload_telemetry.frame_builds == 11'
    check "inner-loop $shape: the re-upload fit matches the resident one bit for bit" "$V" '.results.reupload.bit_identical_to_resident == true and .results.resident.converged == true'
    expect_exit 0 "inner-loop $shape: --backend host, for its z" -- "${IL[@]}" --shape "$shape" --backend host "${FAST[@]}" --quiet \
        --out "$WORK/il-host-$shape.json" --dump-z "$WORK/il-host-$shape.npy" || continue
    if got=$(zrel "$WORK/il-$shape.npy" "$WORK/il-host-$shape.npy" 2>&1); then ok "inner-loop $shape: the plugin's z agrees with --backend host's ($got)"; else
        bad "inner-loop $shape: the plugin's z agrees with --backend host's" "$got"; fi
done

V="$WORK/os-tiny-arrow.json"
if expect_exit 0 "outer-seq tiny-arrow: the LAPACKE example passes" -- "${OSQ[@]}" --shape tiny-arrow --backend "plugin:$EX" "${FAST[@]}" \
    --out "$V" --dump-z "$WORK/os.npy"; then
    valid "outer-seq: verdict is schema-valid" "$V"
    check "outer-seq: OS-001 (one frame build), OS-002 (bit identity with fresh frames), OS-003 (parity) pass" "$V" \
        '([.gates[] | select(.id == "OS-001" or .id == "OS-002" or .id == "OS-003") | .applies and .pass] == [true, true, true]) and .frame_builds == 1 and .bit_identity.outers_differing == 0 and .backend == "plugin-lapacke-example" and .engaged == false and .plugin.failure == null'
    check "outer-seq: the shared and reupload phases" "$V" '(.timing.phases | keys) == ["reupload", "shared"]'
    says "the summary says the host claim" "device engaged: no — plugin lapacke-example claims to run on the host"
    if expect_exit 0 "outer-seq tiny-arrow: --backend host, for its z" -- "${OSQ[@]}" --shape tiny-arrow --backend host "${FAST[@]}" --quiet \
        --out "$WORK/os-host.json" --dump-z "$WORK/os-host.npy"; then
        if got=$(zrel "$WORK/os.npy" "$WORK/os-host.npy" 2>&1); then ok "outer-seq: every outer's z agrees with --backend host's ($got)"; else
            bad "outer-seq: every outer's z agrees with --backend host's" "$got"; fi
    fi
fi

V="$WORK/il-wrong.json"
if expect_exit 1 "inner-loop: steps 0.1 % too long fail IL-001 (exit 1)" -- "${IL[@]}" --shape tiny-arrow --backend "plugin:$TP/tp-wrong.so" "${FAST[@]}" --out "$V"; then
    valid "inner-loop wrong-answer verdict is schema-valid" "$V"
    check "IL-001 applies and fails; the loop still converged; no plugin failure" "$V" \
        '([.gates[] | select(.id == "IL-001")][0] | .applies and (.pass | not)) and .parity.pass == false and .verdict == "fail" and .results.resident.converged == true and .plugin.failure == null'
fi
V="$WORK/os-wrong.json"
if expect_exit 1 "outer-seq: steps 0.1 % too long fail OS-003 (exit 1)" -- "${OSQ[@]}" --shape tiny-arrow --backend "plugin:$TP/tp-wrong.so" "${FAST[@]}" --quiet --out "$V"; then
    check "OS-003 applies and fails" "$V" '([.gates[] | select(.id == "OS-003")][0] | .applies and (.pass | not)) and .parity.pass == false'
fi

# The arrow table's calls count from 0 per operation over the run: solve 0 is the resident fit's,
# 1 the re-upload fit's, 2 the resident phase's warm-up, 3 its timed rep 0; factor 0 and 1 are
# the fits', 2 the reupload phase's warm-up, 3 its timed rep 0.
V="$WORK/il-error-factor.json"
if SBTP_CALL=factor SBTP_AT=3 expect_exit 4 "inner-loop: an error in factor call 3 is exit 4" -- "${IL[@]}" --shape tiny-arrow --backend "plugin:$TP/tp-error.so" "${FAST[@]}" --out "$V"; then
    valid "inner-loop error verdict is schema-valid" "$V"
    check "plugin.failure: factor, timed rep 0 of the reupload phase, the message" "$V" \
        '.plugin.failure.kind == "error" and .plugin.failure.call == "factor" and .plugin.failure.phase == "reupload" and .plugin.failure.stage == "timed" and .plugin.failure.rep == 0 and (.engaged_reason | test("factor returned SAEBENCH_ERR_RUNTIME \\(2\\): test plugin: injected failure at factor call 3")) and .engaged == false'
    check "nothing judged: every gate not evaluated" "$V" '([.gates[] | .pass] | any | not) and ([.gates[] | .reason] | all(. == "not evaluated: the run failed"))'
fi
V="$WORK/il-error-solve.json"
if SBTP_CALL=solve SBTP_AT=0 expect_exit 4 "inner-loop: an error in solve call 0 is exit 4" -- "${IL[@]}" --shape tiny-arrow --backend "plugin:$TP/tp-error.so" "${FAST[@]}" --quiet --out "$V"; then
    check "plugin.failure: solve, in the resident LM fit" "$V" \
        '.plugin.failure.call == "solve" and .plugin.failure.stage == "resident-fit" and .plugin.failure.rep == null and (.engaged_reason | test("failed in the resident LM loop: solve returned"))'
fi
V="$WORK/il-error-create.json"
if SBTP_CALL=create SBTP_AT=2 expect_exit 4 "inner-loop: an error in create call 2 (the re-upload state) is exit 4" -- "${IL[@]}" --shape tiny-arrow --backend "plugin:$TP/tp-error.so" "${FAST[@]}" --quiet --out "$V"; then
    check "plugin.failure: create, for the reupload phase" "$V" \
        '.plugin.failure.call == "create" and .plugin.failure.phase == "reupload" and .plugin.failure.stage == "create" and (.engaged_reason | test("staging the re-upload baseline: create returned"))'
fi
V="$WORK/il-segv.json"
if expect_exit 4 "inner-loop: a segfault in solve is exit 4" -- "${IL[@]}" --shape tiny-arrow --backend "plugin:$TP/tp-segv.so" "${FAST[@]}" --quiet --out "$V"; then
    valid "inner-loop segfault verdict (written by the parent) is schema-valid" "$V"
    check "plugin.failure: SIGSEGV in solve at timed rep 0 of the resident phase, said in words" "$V" \
        '.plugin.failure.kind == "signal" and .plugin.failure.signal_name == "SIGSEGV" and .plugin.failure.call == "solve" and .plugin.failure.phase == "resident" and .plugin.failure.rep == 0 and (.engaged_reason | test("during timed rep 0 of the resident phase, in the plugin.s solve\\(\\)")) and .workload == "inner-loop" and .exit_code == 4'
fi
V="$WORK/os-segv.json"
if expect_exit 4 "outer-seq: a segfault in solve is exit 4" -- "${OSQ[@]}" --shape tiny-arrow --backend "plugin:$TP/tp-segv.so" "${FAST[@]}" --quiet --out "$V"; then
    valid "outer-seq segfault verdict is schema-valid" "$V"
    # solves 0-2: the three outers on the shared frame; 3: outer 0 on a fresh frame
    check "plugin.failure: in an outer's LM fit on a fresh frame, in solve()" "$V" \
        '.plugin.failure.stage == "fresh-fit" and .plugin.failure.call == "solve" and (.engaged_reason | test("during an outer.s LM fit on a fresh frame, in the plugin.s solve\\(\\)"))'
fi
V="$WORK/il-bad-telemetry.json"
if expect_exit 4 "inner-loop: a negative telemetry counter is exit 4" -- "${IL[@]}" --shape tiny-arrow --backend "plugin:$TP/tp-bad-telemetry.so" "${FAST[@]}" --quiet --out "$V"; then
    check "the counter and the call named" "$V" '(.engaged_reason | test("d2h_bytes = -2")) and .plugin.failure.call == "telemetry" and .plugin.failure.stage == "check"'
fi

expect_exit 2 "inner-loop: a plugin without the arrow table is refused" -- "${IL[@]}" --shape tiny-arrow --backend "plugin:$TP/tp-claims-device.so" --out "$WORK/no.json" &&
    says "it says what is missing" "does not implement inner-loop"
expect_exit 2 "outer-seq: a plugin without the arrow table is refused" -- "${OSQ[@]}" --shape tiny-arrow --backend "plugin:$TP/tp-claims-device.so" --out "$WORK/no.json" &&
    says "it says what is missing" "does not implement outer-seq"
expect_exit 2 "inner-loop: a descriptor from before the arrow field does not implement it" -- "${IL[@]}" --shape tiny-arrow --backend "plugin:$TP/tp-old-desc.so" --out "$WORK/no.json" &&
    says "it says what is missing" "does not implement inner-loop"
if expect_exit 0 "the older descriptor still runs resident-solve" -- "${RS[@]}" --shape tiny-primal --backend "plugin:$TP/tp-old-desc.so" "${FAST[@]}" --quiet --out "$WORK/old-desc.json"; then
    check "its inner-loop bit ignored: resident-solve only" "$WORK/old-desc.json" '.plugin.workloads == ["resident-solve"] and .parity.pass == true'
fi
V="$WORK/il-device-no-arrow.json"
if expect_exit 3 "inner-loop --require-device: a device claim without the arrow table is exit 3" -- "${IL[@]}" --shape tiny-arrow --backend "plugin:$TP/tp-claims-device.so" --require-device --out "$V"; then
    valid "inner-loop exit-3 verdict is schema-valid" "$V"
    check "nothing ran, the reason in words" "$V" '.execution_path == "none" and .gates == [] and (.engaged_reason | test("claims a device but does not implement inner-loop"))'
fi
V="$WORK/il-device-claim.json"
if expect_exit 0 "inner-loop --require-device: a device claim with the arrow table runs" -- "${IL[@]}" --shape tiny-arrow --backend "plugin:$TP/tp-device-only.so" --require-device "${FAST[@]}" --quiet --out "$V"; then
    valid "inner-loop device-claim verdict is schema-valid" "$V"
    check "engaged by the plugin's claim; IL-001 passes; IL-004 without a target does not apply" "$V" \
        '.engaged == true and .execution_path == "plugin-device-claimed" and .throughput.measured_of == "device" and .parity.pass == true and ([.gates[] | select(.id == "IL-004")][0].applies == false)'
fi
expect_exit 0 "inner-loop --dry-run loads the plugin in a child and runs nothing" -- "${IL[@]}" --shape tiny-arrow --backend "plugin:$EX" --dry-run --out "$WORK/dry-il.json" &&
    says "it says the plugin loaded" "the loading of plugin lapacke-example"
if [ -e "$WORK/dry-il.json" ]; then bad "inner-loop --dry-run writes no verdict" "$WORK/dry-il.json exists"; else ok "inner-loop --dry-run writes no verdict"; fi
expect_exit 0 "outer-seq --dry-run loads the plugin" -- "${OSQ[@]}" --shape tiny-arrow --backend "plugin:$EX" --dry-run &&
    says "it says the plugin loaded" "the loading of plugin lapacke-example"

# ---- the CUDA example on the CPU stand-in -------------------------------------
# examples/solver-cuda/ compiled against tests/standin/ (cuBLAS, cuSOLVER and the runtime on
# the CPU, stricter than a GPU: streams run only when waited for, a download nothing waited
# for reads NaN, device pointers, leading dimensions and workspace sizes are checked).
# saebench cannot see where a plugin runs: the stand-in's device name is the one thing that
# says "not a GPU", so it must show in the verdict, the summary and report. The stand-in's
# CPU rate is no device rate: RS-003 is lowered to 1 row/s so that it never decides the exit.
STANDIN_NAME="CPU stand-in for NVIDIA H100 SXM (not a GPU)"
CU_RUN=(--backend "plugin:$CU" --require-device --reps 4 --warmup 1 --gate RS-003=1 --calibration "$CAL")
MID="$WORK/mid-primal.json"
jq '.name = "mid-primal" | .n = 1999 | .p = 1201 | .description = "plugin test: mid-size primal"' \
    shapes/tiny-primal.json >"$MID"
mkdir -p "$WORK/cuda-a"
# cuda_case SHAPE N P METHOD: one run (7 solves: w0, 1 warm-up, 4 timed, 1 profiled), its
# telemetry exactly as examples/solver-cuda/solver_cuda.c counts it
cuda_case() {
    local shape=$1 n=$2 p=$3 method=$4 total=7 tag=${1##*/}
    tag=${tag%.json}
    local V="$WORK/cuda-a/$tag.json" t0=$SECONDS
    expect_exit 0 "cuda example on the stand-in: $tag ($method) exit 0" -- "${RS[@]}" --shape "$shape" "${CU_RUN[@]}" --out "$V" || return
    echo "     ($tag: $((SECONDS - t0)) s)"
    valid "cuda example $tag: verdict is schema-valid" "$V"
    check "cuda example $tag: engaged by the plugin's claim, the stand-in named as the device claimed" "$V" \
        ".engaged == true and .execution_path == \"plugin-device-claimed\" and .backend == \"plugin-cuda-example\"
         and .device == null and .plugin.claims_device == true and .plugin.device_claimed == \"$STANDIN_NAME\"
         and (.plugin.engagement | contains(\"$STANDIN_NAME\")) and .method == \"$method\""
    check "cuda example $tag: parity passes (RS-001, RS-002), rel_err $(jq -r .parity.rel_err "$V") < 1e-9" "$V" \
        '.parity.pass == true and .parity.rel_err < 1e-9
         and ([.gates[] | select(.id == "RS-001" or .id == "RS-002") | .applies and .pass] == [true, true])'
    # h2d: X and rhs once (primal also p ones), w every solve; d2h: beta and Xpotrf's 4-byte
    # info every solve; library calls: dual DSYRK + DGEMV once, then per solve primal
    # DGMM DSYRK DAXPY Xpotrf Xpotrs (5), dual DAXPY Xpotrf Xpotrs DGEMV (4)
    local ones=$p per=5 once=0
    [ "$method" = dual ] && ones=0 per=4 once=2
    local h2d=$((8 * n * p + 8 * p + 8 * ones + total * 8 * n)) d2h=$((total * (8 * p + 4))) lib=$((once + total * per))
    check "cuda example $tag: telemetry h2d $h2d d2h $d2h factorizations $total library_calls $lib handles 2, no own kernels" "$V" \
        ".telemetry | .h2d_bytes == $h2d and .d2h_bytes == $d2h and .factorizations == $total and .library_calls == $lib
         and .handle_creations == 2 and .own_kernel_launches == 0 and .frame_builds == 1"
    says "cuda example $tag: the summary names the device claimed" \
        "device engaged: yes — by the claim of plugin cuda-example that it ran on \"$STANDIN_NAME\""
}
cuda_case tiny-primal 64 32 primal
cuda_case tiny-dual 32 64 dual
cuda_case "$MID" 1999 1201 primal

if expect_exit 0 "report reads the cuda example's verdicts" -- "$BIN" report "$WORK/cuda-a" --format json; then
    check "report: 3 verdicts, each engaged, the device the stand-in by the plugin's claim" "$OUTS" \
        ".verdicts == 3 and ([.rows[] | select(.engaged and .execution_path == \"plugin-device-claimed\"
          and .device == \"claimed by plugin: $STANDIN_NAME\")] | length) == 3"
fi
if expect_exit 0 "report's text table names the stand-in as the device" -- "$BIN" report "$WORK/cuda-a"; then
    if [ "$(grep -c "claimed by plugin: $STANDIN_NAME" "$OUTS")" -eq 3 ]; then ok "report's text: 3 rows name it"; else
        bad "report's text: 3 rows name it" "$(head -c 600 "$OUTS")"; fi
fi
if expect_exit 0 "compare: the cuda example's set against itself" -- "$BIN" compare "$WORK/cuda-a" "$WORK/cuda-a"; then
    if [ "$(grep -c "^resident-solve .* plugin-cuda-example claimed by plugin: $STANDIN_NAME: ok" "$OUTS")" -eq 3 ]; then
        ok "compare: 3 keys with the claimed device, each ok"
    else bad "compare: 3 keys with the claimed device, each ok" "stdout: $(head -c 600 "$OUTS")"; fi
fi

# No device: the stand-in then reports none (CUDA_VISIBLE_DEVICES empty), the descriptor names
# no device, and create() fails with the runtime's error in saebench's buffer (no exit()).
V="$WORK/cuda-nodevice.json"
if CUDA_VISIBLE_DEVICES='' expect_exit 4 "cuda example without a device: exit 4" -- "${RS[@]}" --shape tiny-dual "${CU_RUN[@]}" --quiet --out "$V"; then
    check "the failure is create()'s error, the runtime's words in it" "$V" \
        '.engaged == false and .plugin.failure.kind == "error" and .plugin.failure.call == "create"
         and (.plugin.failure.message | test("cudaStreamCreateWithFlags.*cudaErrorNoDevice")) and .plugin.device_claimed == null'
fi

# ---- the Rust example: the same contract from a cdylib, its own Cholesky ---------------
RX=${SB_RUST_EXAMPLE-$BUILD/examples/solver-rust.so}
if [ -n "${SB_RUST_EXAMPLE-}" ] && [ ! -f "$RX" ]; then
    bad "the Rust example was built" "$RX is missing"
elif [ -z "$RX" ] || [ ! -f "$RX" ]; then
    echo "SKIP the Rust example (examples/solver-rust/): not built, no cargo (make deps installs Debian's)"
else
    RX=$(realpath "$RX")
    for shape in tiny-dual tiny-primal; do
        V="$WORK/rust-$shape.json"
        expect_exit 0 "the Rust example passes $shape" -- "${RS[@]}" --shape "$shape" --backend "plugin:$RX" "${FAST[@]}" \
            --out "$V" --dump-beta "$WORK/rust-$shape.npy" || continue
        valid "Rust $shape verdict is schema-valid" "$V"
        check "Rust $shape: backend names it, parity gates apply and pass" "$V" \
            '.backend == "plugin-rust-example" and .execution_path == "plugin-cpu" and .device == null and .parity.pass == true and ([.gates[] | select(.id == "RS-001" or .id == "RS-002") | .applies and .pass] == [true, true])'
        check "Rust $shape: a host claim, never engaged, said in words" "$V" \
            '.engaged == false and (.engaged_reason | test("plugin rust-example claims to run on the host: a host number is never a device number")) and (.plugin.engagement | startswith("never: plugin rust-example claims to run on the host")) and .throughput.measured_of == "host"'
        sum=$(sha256sum "$RX" | cut -c1-64)
        check "Rust $shape: the plugin section names it (name, version, sha256, ABI)" "$V" \
            ".plugin.name == \"rust-example\" and .plugin.version == \"1.0.0\" and .plugin.path == \"$RX\" and .plugin.sha256 == \"$sum\" and .plugin.abi_version == 1 and .plugin.entry == \"saebench_solver_v1\" and .plugin.claims_device == false and .plugin.methods == [\"primal\", \"dual\"] and .plugin.failure == null"
        # w0 + 1 warm-up + 4 timed + 1 profiled solve; no vendor library, nothing crosses a bus
        check "Rust $shape: telemetry, 7 factorizations, no library calls" "$V" \
            '.telemetry.factorizations == 7 and .telemetry.library_calls == 0 and .telemetry.h2d_bytes == 0 and .telemetry.frame_builds == 1'
        expect_exit 0 "the LAPACKE example on $shape, for its beta" -- "${RS[@]}" --shape "$shape" --backend "plugin:$EX" "${FAST[@]}" \
            --quiet --out "$WORK/lapacke-$shape.json" --dump-beta "$WORK/lapacke-$shape.npy" || continue
        if got=$("$PY" - "$WORK/rust-$shape.npy" "$WORK/lapacke-$shape.npy" 2>&1 <<'EOF'
import sys
import numpy as np
rust, lapacke = (np.load(f) for f in sys.argv[1:])
rel = np.abs(rust - lapacke).max() / np.abs(lapacke).max()
assert rust.shape == lapacke.shape and rel < 1e-11, (rust.shape, rel)
print("rel diff %.2g" % rel)
EOF
        ); then ok "Rust $shape: its w0 beta agrees with the LAPACKE example's ($got)"; else bad "Rust $shape: its w0 beta agrees with the LAPACKE example's" "$got"; fi
    done
    check "tiny-dual ran the dual" "$WORK/rust-tiny-dual.json" '.method == "dual"'
    check "tiny-primal ran the primal" "$WORK/rust-tiny-primal.json" '.method == "primal"'
    # the other method on each shape: both code paths on both shapes
    expect_exit 0 "the Rust example's primal on tiny-dual passes" -- "${RS[@]}" --shape tiny-dual --method primal --backend "plugin:$RX" "${FAST[@]}" --quiet --out "$WORK/rust-dual-as-primal.json" &&
        check "--method primal, parity passes" "$WORK/rust-dual-as-primal.json" '.method == "primal" and .parity.pass == true'
    expect_exit 0 "the Rust example's dual on tiny-primal passes" -- "${RS[@]}" --shape tiny-primal --method dual --backend "plugin:$RX" "${FAST[@]}" --quiet --out "$WORK/rust-primal-as-dual.json" &&
        check "--method dual, parity passes" "$WORK/rust-primal-as-dual.json" '.method == "dual" and .parity.pass == true'
    expect_exit 0 "--dry-run loads the Rust example" -- "${RS[@]}" --shape tiny-dual --backend "plugin:$RX" --dry-run &&
        says "it says the plugin loaded" "the loading of plugin rust-example"

    # report and compare read its verdicts like any other
    mkdir -p "$WORK/rust-a" "$WORK/rust-b"
    cp "$WORK/rust-tiny-dual.json" "$WORK/rust-tiny-primal.json" "$WORK/example-dual.json" "$WORK/rust-a/"
    cp "$WORK/rust-a/"*.json "$WORK/rust-b/"
    if expect_exit 0 "report reads the Rust example's verdicts" -- "$BIN" report "$WORK/rust-a" --format json; then
        check "report: two Rust rows beside the LAPACKE example's, host, not engaged" "$OUTS" \
            '.verdicts == 3 and ([.rows[] | select(.backend == "plugin-rust-example") | [.shape, .execution_path, .engaged, .exit_code]] | sort) == [["tiny-dual", "plugin-cpu", false, 0], ["tiny-primal", "plugin-cpu", false, 0]]'
    fi
    if expect_exit 0 "compare: the Rust example's set against itself is no regression" -- "$BIN" compare "$WORK/rust-a" "$WORK/rust-b"; then
        if grep -q "tiny-dual plugin-rust-example host" "$OUTS"; then ok "compare names the Rust example's key"; else bad "compare names the Rust example's key" "stdout: $(head -c 400 "$OUTS")"; fi
    fi
fi

sb_test_summary
