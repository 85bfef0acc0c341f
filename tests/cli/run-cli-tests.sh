#!/usr/bin/env bash
# CLI test battery: run by 'make test' (./saebench) and 'make test-asan'
# (./build-asan/saebench). usage: tests/cli/run-cli-tests.sh BINARY FAKE_BINARY
# FAKE_BINARY is the test build with the fake device linked in (make builds it
# as build/<config>/saebench-fake); the shipped BINARY must ignore the hook.
#
# Every check below can fail: good runs assert values in the verdict (schema,
# parity, honesty fields), bad input asserts exit 2 with exactly one
# "saebench: ..." line on stderr and no output file left behind.
# Needs jq and /usr/bin/python3 with numpy and jsonschema (Debian packages).
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 BINARY FAKE_BINARY" >&2
    exit 2
fi
BIN=$(realpath "$1") || exit 2
FAKE_BIN=$(realpath "$2") || exit 2
[ -x "$BIN" ] || { echo "$0: $1 is not an executable" >&2; exit 2; }
[ -x "$FAKE_BIN" ] || { echo "$0: $2 is not an executable" >&2; exit 2; }
# shellcheck source=tests/lib/battery.sh
. "$(dirname "$0")/../lib/battery.sh"
# Good runs get the ceilings in CAL; one run below still measures at run time.
sb_battery_setup cli "numpy, jsonschema"
FAST=(--reps 3 --warmup 1 --calibration "$CAL")
RS=("$BIN" resident-solve)
FRS=("$FAKE_BIN" resident-solve)

echo "== saebench CLI tests: $BIN"

# ---- the verdict schema itself ------------------------------------------
if "$PY" "$VALIDATE" "$SCHEMA" "$CAL" >/dev/null 2>&1; then
    bad "schema rejects a file that is not a verdict" "a calibration file validated as a verdict"
else
    ok "schema rejects a file that is not a verdict"
fi

# ---- good runs ------------------------------------------------------------
V="$WORK/tiny-primal.json"
if expect_exit 0 "tiny-primal on the host passes" -- "${RS[@]}" --shape tiny-primal --backend host --reps 4 --warmup 1 --calibration "$CAL" --out "$V"; then
    valid "tiny-primal verdict is schema-valid" "$V"
    check "tiny-primal parity rel_err < 1e-9" "$V" '.parity.rel_err < 1e-9 and .parity.pass == true'
    check "host run is not engaged" "$V" '.engaged == false'
    check "backend recorded as host" "$V" '.backend == "host"'
    check "execution_path is cpu" "$V" '.execution_path == "cpu"'
    check "host run leaves the target undetermined" "$V" '.target.status == "undetermined"'
    check "gates RS-001 and RS-002 pass" "$V" '([.gates[] | select(.id == "RS-001" or .id == "RS-002") | .pass] == [true, true])'
    check "RS-003 listed as not applying on the host, with a reason" "$V" '[.gates[] | select(.id == "RS-003")][0] | .applies == false and .pass == false and .value == null and (.reason | test("device"))'
    check "RS-001/RS-002 apply" "$V" '[.gates[] | select(.id == "RS-001" or .id == "RS-002") | .applies] == [true, true]'
    check "RS-004 (the verdict/2 rule) is opt-in: listed, not applied" "$V" '[.gates[] | select(.id == "RS-004")][0] | .applies == false and (.reason | test("opt-in"))'
    check "parity records kappa_est, scaled residuals and the bound of each system" "$V" \
        '.parity.kappa_est >= 1 and .parity.scaled_residual <= 30 and .parity.scaled_residual_oracle <= 30 and .parity.w0.bound > 0 and .parity.last.ratio <= 1 and .parity.tolerance == 1'
    check "timing reports noise statistics" "$V" '.timing.rel_iqr >= 0 and .timing.rse_median >= 0 and (.timing.noisy | type) == "boolean" and .timing.stop_reason == "reps" and .timing.q1_s <= .timing.median_s and .timing.median_s <= .timing.q3_s'
    check "telemetry names library calls and own kernels" "$V" '.telemetry.library_calls > 0 and .telemetry.own_kernel_launches == 0 and (.telemetry | has("kernel_launches") | not)'
    check "timing.reps equals --reps" "$V" '.timing.reps == 4 and .timing.warmup == 1 and (.timing.samples_s | length) == 4'
    check "host throughput is measured, engaged is 0" "$V" '.throughput.measured_rows_per_s > 0 and .throughput.engaged_rows_per_s == 0'
    check "roofline uses the given calibration" "$V" ".roofline.ceilings.source == \"$CAL\" and .roofline.ceilings.fp64_flops == 5e10 and .roofline.bound_s > 0"
    check "verdict pass, exit_code 0" "$V" '.verdict == "pass" and .exit_code == 0'
    check "shape records the fixture" "$V" '.shape.data == "fixture" and .shape.n == 64 and .shape.p == 32'
fi

V="$WORK/tiny-dual.json"
if expect_exit 0 "tiny-dual on the host passes" -- "${RS[@]}" --shape tiny-dual --backend host "${FAST[@]}" --out "$V"; then
    valid "tiny-dual verdict is schema-valid" "$V"
    check "tiny-dual default method is dual" "$V" '.method == "dual"'
    check "tiny-dual parity passes" "$V" '.parity.pass == true and .parity.rel_err < 1e-9'
fi

V="$WORK/tiny-dual-primal.json"
if expect_exit 0 "tiny-dual --method primal passes" -- "${RS[@]}" --shape tiny-dual --method primal "${FAST[@]}" --out "$V"; then
    valid "tiny-dual --method primal verdict is schema-valid" "$V"
    check "--method primal is recorded" "$V" '.method == "primal"'
    check "--method primal parity passes" "$V" '.parity.pass == true and .parity.rel_err < 1e-9'
fi

if expect_exit 0 "--out - writes the verdict on stdout" -- "${RS[@]}" --shape tiny-primal --backend host "${FAST[@]}" --quiet --out -; then
    check "stdout verdict parses and is resident-solve" "$OUTS" '.schema == "saebench.verdict/4" and .workload == "resident-solve"'
    cp "$OUTS" "$WORK/stdout-verdict.json"
    valid "stdout verdict is schema-valid" "$WORK/stdout-verdict.json"
fi

if expect_exit 0 "--quiet run succeeds" -- "${RS[@]}" --shape tiny-primal --backend host "${FAST[@]}" --quiet --out "$WORK/quiet.json"; then
    if [ -s "$ERR" ]; then bad "--quiet prints nothing on stderr" "stderr: $(head -c 300 "$ERR")"; else ok "--quiet prints nothing on stderr"; fi
fi

if expect_exit 0 "a run without --out writes a human summary" -- "${RS[@]}" --shape tiny-primal --backend host "${FAST[@]}"; then
    if grep -q "parity" "$ERR" && [ ! -s "$OUTS" ]; then ok "summary on stderr, nothing on stdout"; else bad "summary on stderr, nothing on stdout" "stderr: $(head -c 300 "$ERR")"; fi
fi

V="$WORK/measured.json"
if expect_exit 0 "roofline ceilings measured at run time" -- "${RS[@]}" --shape tiny-primal --backend host --reps 3 --warmup 1 --quiet --out "$V"; then
    check "measured-at-run ceilings are positive" "$V" '.roofline.ceilings.source == "measured-at-run" and .roofline.ceilings.fp64_flops > 0 and .roofline.ceilings.mem_bw > 0'
fi

V="$WORK/gatefail.json"
if expect_exit 1 "--gate RS-001=1e-30 fails the gate" -- "${RS[@]}" --shape tiny-primal --backend host "${FAST[@]}" --gate RS-001=1e-30 --out "$V"; then
    valid "gate-fail verdict is schema-valid" "$V"
    check "gate-fail verdict says fail" "$V" '.verdict == "fail" and .exit_code == 1'
    check "RS-001 fails at threshold 1e-30" "$V" '[.gates[] | select(.id == "RS-001")][0] | .pass == false and .threshold == 1e-30'
fi

# --dump-beta: compare with numpy solving the w0 system rebuilt from the LCG.
B="$WORK/beta.npy"
if expect_exit 0 "--dump-beta writes beta" -- "${RS[@]}" --shape tiny-primal --backend host "${FAST[@]}" --quiet --dump-beta "$B"; then
    if got=$("$PY" - "$B" 2>&1 <<'EOF'
import sys
import numpy as np
n, p, ridge, s = 64, 32, 1e-3, 0x1412a100deadbeef
def draws(k):
    global s
    out = np.empty(k)
    for i in range(k):
        s = (s * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        out[i] = (s >> 11) / 2.0**53 * 2 - 1
    return out
X = 0.05 * draws(n * p).reshape(n, p)
w0 = np.abs(draws(n)) + 1e-3
rhs = np.cos((np.arange(p) + 1) * 0.03)
ref = np.linalg.solve(X.T @ (w0[:, None] * X) + ridge * np.eye(p), rhs)
beta = np.load(sys.argv[1])
assert beta.dtype == np.float64, beta.dtype
assert beta.shape == (p,), beta.shape
rel = np.abs(beta - ref).max() / np.abs(ref).max()
assert rel < 1e-9, "rel err %g" % rel
print("rel err %.3g" % rel)
EOF
    ); then ok "dumped beta matches numpy on the w0 system ($got)"; else bad "dumped beta matches numpy on the w0 system" "$got"; fi
fi

# Real data from .npy files.
"$PY" - "$WORK" <<'EOF'
import sys
import numpy as np
d = sys.argv[1]
rng = np.random.default_rng(7)
X = rng.standard_normal((64, 32))
w = rng.uniform(0.5, 2.0, 64)
rhs = rng.standard_normal(32)
np.save(d + "/X.npy", X)
np.save(d + "/w.npy", w)
np.save(d + "/rhs.npy", rhs)
np.save(d + "/X_f32.npy", X.astype(np.float32))
np.save(d + "/X_fortran.npy", np.asfortranarray(X))
np.save(d + "/X_be.npy", X.astype(">f8"))
np.save(d + "/X_complex.npy", X.astype(np.complex128))
np.save(d + "/X_3d.npy", X.reshape(64, 32, 1))
raw = open(d + "/X.npy", "rb").read()
open(d + "/X_trunc.npy", "wb").write(raw[: len(raw) // 2])
Xn = X.copy(); Xn[3, 4] = np.nan; np.save(d + "/X_nan.npy", Xn)
wi = w.copy(); wi[5] = np.inf; np.save(d + "/w_inf.npy", wi)
np.save(d + "/w_short.npy", w[:63])
np.save(d + "/rhs_long.npy", np.append(rhs, 1.0))
wn = w.copy(); wn[9] = -1.0; np.save(d + "/w_neg.npy", wn)
open(d + "/text_X.npy", "w").write("this is not an npy file\n")
EOF
NPY=(--x "$WORK/X.npy" --w "$WORK/w.npy" --rhs "$WORK/rhs.npy")
V="$WORK/npy.json"
if expect_exit 0 "real data from .npy passes" -- "${RS[@]}" --shape tiny-primal --backend host "${FAST[@]}" "${NPY[@]}" --out "$V"; then
    valid "npy verdict is schema-valid" "$V"
    check "npy run parity passes" "$V" '.parity.pass == true and .parity.rel_err < 1e-9'
    check "npy run records shape.data npy" "$V" '.shape.data == "npy" and .shape.n == 64 and .shape.p == 32'
fi
# The reader converts Fortran order and big-endian bytes to the same doubles,
# so the solve gives the same beta, bit for bit (one thread: same sums).
expect_exit 0 "C-order X: beta" -- "${RS[@]}" --shape tiny-primal --backend host "${FAST[@]}" "${NPY[@]}" --threads 1 --quiet --dump-beta "$WORK/beta_c.npy"
for form in fortran be; do
    if expect_exit 0 "$form X is read" -- "${RS[@]}" --shape tiny-primal --backend host "${FAST[@]}" --x "$WORK/X_$form.npy" --w "$WORK/w.npy" --rhs "$WORK/rhs.npy" --threads 1 --quiet --dump-beta "$WORK/beta_$form.npy"; then
        if cmp -s "$WORK/beta_c.npy" "$WORK/beta_$form.npy"; then ok "$form X gives C-order X's beta bit for bit"; else bad "$form X gives C-order X's beta bit for bit" "$(cmp "$WORK/beta_c.npy" "$WORK/beta_$form.npy" 2>&1)"; fi
    fi
done
V="$WORK/npy-f32.json"
if expect_exit 0 "float32 X is read (each value converted exactly)" -- "${RS[@]}" --shape tiny-primal --backend host "${FAST[@]}" --x "$WORK/X_f32.npy" --w "$WORK/w.npy" --rhs "$WORK/rhs.npy" --out "$V"; then
    check "float32 X run passes parity; the verdict records each input's dtype" "$V" '.shape.n == 64 and .shape.p == 32 and .parity.pass == true and .shape.dtypes == {"x": "<f4", "w": "<f8", "rhs": "<f8"}'
fi

# ---- real data, ill-conditioned by per-column scales (the parity rule) ------
# The report that motivated verdict/3: X = randn(150,300)·uniform(0.1,3) per
# column, w ~ uniform(0.05,2), ridge 1e-5 (cond₂ ~5e8). A correct FP64 solve
# misses a fixed 1e-9 forward error; under the parity rule it passes, with κ̂.
"$PY" - "$WORK" <<'EOF'
import sys
import numpy as np
d = sys.argv[1]
rng = np.random.default_rng(7)
n, p = 150, 300
np.save(d + "/cs_X.npy", rng.standard_normal((n, p)) * rng.uniform(0.1, 3, p))
np.save(d + "/cs_w.npy", rng.uniform(0.05, 2, n))
np.save(d + "/cs_rhs.npy", rng.standard_normal(p))
EOF
V="$WORK/colscale.json"
if expect_exit 0 "column-scaled real data, ridge 1e-5: a correct FP64 solve passes" -- "${RS[@]}" --backend host --reps 3 --warmup 0 --calibration "$CAL" \
    --x "$WORK/cs_X.npy" --w "$WORK/cs_w.npy" --rhs "$WORK/cs_rhs.npy" --ridge 1e-5 --out "$V"; then
    valid "column-scaled verdict is schema-valid" "$V"
    check "column-scaled: kappa_est > 1e8 in the verdict, forward error beyond 1e-9 yet within the bound" "$V" \
        '.parity.kappa_est > 1e8 and .parity.rel_err > 1e-9 and .parity.w0.rel_err <= .parity.w0.bound and .parity.last.rel_err <= .parity.last.bound and .parity.scaled_residual <= 30 and .parity.pass'
    says "column-scaled: the summary prints κ̂ beside parity" "κ̂ "
fi

cp shapes/tiny-primal.json "$WORK/my-shape.json"
V="$WORK/path-shape.json"
if expect_exit 0 "a shape given as a file path" -- "${RS[@]}" --shape "$WORK/my-shape.json" --backend host "${FAST[@]}" --out "$V"; then
    check "shape path is recorded" "$V" ".shape.name == \"tiny-primal\" and .shape.path == \"$WORK/my-shape.json\""
fi

# ---- other commands -------------------------------------------------------
if expect_exit 0 "saebench shapes lists shapes" -- "$BIN" shapes; then
    missing=""
    for s in sae-2k-2048 sae-4k-4096 sae-8k-1024 qwen color-arm; do
        grep -qE "^$s([[:space:]]|$)" "$OUTS" || missing="$missing $s"
    done
    if [ -z "$missing" ]; then ok "shapes lists the canonical shapes"; else bad "shapes lists the canonical shapes" "missing:$missing"; fi
fi
if expect_exit 0 "saebench shapes qwen" -- "$BIN" shapes qwen; then
    check "shapes qwen prints JSON with d == 2" "$OUTS" '.name == "qwen" and .d == 2'
fi
if expect_exit 0 "--version" -- "$BIN" --version; then
    if grep -qE '^saebench [0-9]+\.[0-9]+' "$OUTS"; then ok "--version prints the version"; else bad "--version prints the version" "$(head -c 200 "$OUTS")"; fi
fi
if expect_exit 0 "--help" -- "$BIN" --help; then
    if grep -q -- "resident-solve" "$OUTS" && grep -q -- "--shape" "$OUTS"; then ok "--help names the commands and --shape"; else bad "--help names the commands and --shape" "$(head -c 300 "$OUTS")"; fi
fi
if expect_exit 0 "resident-solve --help" -- "${RS[@]}" --help; then
    if grep -q -- "--shape" "$OUTS" && grep -q "RS-001" "$OUTS"; then ok "resident-solve --help mentions --shape and the gates"; else bad "resident-solve --help mentions --shape and the gates" "$(head -c 300 "$OUTS")"; fi
fi
# multiplex itself: tests/multiplex/run-multiplex-tests.sh (make test-multiplex)
if expect_exit 0 "multiplex --help" -- "$BIN" multiplex --help; then
    if grep -q "MX-001" "$OUTS"; then ok "multiplex --help names its gates"; else bad "multiplex --help names its gates" "$(head -c 300 "$OUTS")"; fi
fi
expect_exit 2 "unknown command" -- "$BIN" frobnicate

# ---- device honesty -------------------------------------------------------
V="$WORK/require.json"
if expect_exit 3 "--require-device without a device exits 3" -- "${RS[@]}" --shape tiny-primal --require-device "${FAST[@]}" --out "$V"; then
    valid "--require-device verdict is schema-valid" "$V"
    check "--require-device: not engaged, no engaged number" "$V" '.engaged == false and (.throughput == null or .throughput.engaged_rows_per_s == 0)'
    check "--require-device: target undetermined, reason given" "$V" '.target.status == "undetermined" and (.engaged_reason | length) > 0'
    check "--require-device: verdict fail, exit_code 3" "$V" '.verdict == "fail" and .exit_code == 3'
fi

V="$WORK/decline-cuda.json"
if SAEBENCH_FAKE_DEVICE=decline expect_exit 3 "declining device with --backend cuda exits 3" -- "${FRS[@]}" --shape tiny-primal --backend cuda "${FAST[@]}" --out "$V"; then
    valid "declined-device verdict is schema-valid" "$V"
    check "declined device: no host stand-in" "$V" '.engaged == false and .execution_path == "none" and .throughput == null and .timing == null'
fi

V="$WORK/decline-auto.json"
if SAEBENCH_FAKE_DEVICE=decline expect_exit 0 "declining device with --backend auto runs the host" -- "${FRS[@]}" --shape tiny-primal --backend auto "${FAST[@]}" --out "$V"; then
    valid "auto-fallback verdict is schema-valid" "$V"
    check "auto fallback labelled host, not engaged" "$V" '.backend == "host" and .execution_path == "cpu" and .engaged == false and .device == null'
    check "auto fallback says why" "$V" '.engaged_reason | test("declin")'
    check "auto fallback: engaged rows/s is 0" "$V" '.throughput.engaged_rows_per_s == 0 and .throughput.measured_of == "host"'
fi

for mode in fail-at=3 bad-info-at=2 fail-at=100000 bogus; do
    V="$WORK/fake-$mode.json"
    if SAEBENCH_FAKE_DEVICE=$mode expect_exit 4 "fake device ($mode) never completes a device run: exits 4" -- "${FRS[@]}" --shape tiny-primal --backend cuda --reps 4 --warmup 1 --calibration "$CAL" --out "$V"; then
        valid "$mode verdict is schema-valid" "$V"
        check "$mode: not engaged, both rates 0" "$V" '.engaged == false and .throughput.measured_rows_per_s == 0 and .throughput.engaged_rows_per_s == 0'
        check "$mode: engaged_reason names the failure" "$V" '.engaged_reason | test("fail")'
        check "$mode: target undetermined, verdict fail" "$V" '.target.status == "undetermined" and .verdict == "fail" and .exit_code == 4'
        check "$mode: no gate passes on a failed run" "$V" '[.gates[] | select(.pass)] == []'
        check "$mode: no residency, no target" "$V" '.residency == null and .target.status == "undetermined"'
    fi
done
V="$WORK/fake-reupload.json"
if SAEBENCH_FAKE_DEVICE=fail-at=100000 expect_exit 4 "fake device with --reupload exits 4" -- "${FRS[@]}" --shape tiny-primal --backend cuda --reupload --reps 3 --warmup 1 --calibration "$CAL" --out "$V"; then
    valid "fake --reupload verdict is schema-valid" "$V"
    check "fake --reupload: nothing engaged, no speedup, no passing gate" "$V" '.engaged == false and .residency == null and .throughput.engaged_rows_per_s == 0 and .throughput.measured_rows_per_s == 0 and ([.gates[] | select(.pass)] == [])'
fi

# No environment variable can make the shipped binary report a device number.
for mode in fail-at=100000 bad-info-at=100000 decline anything; do
    V="$WORK/shipped-$mode.json"
    SAEBENCH_FAKE_DEVICE=$mode "${RS[@]}" --shape tiny-primal --backend cuda --require-device "${FAST[@]}" --quiet --out "$V" >/dev/null 2>&1
    rc=$?
    if [ "$rc" -eq 3 ] || { [ "$rc" -eq 0 ] && jq -e '.backend == "cuda" and (.device.name | test("fake") | not)' "$V" >/dev/null 2>&1; }; then
        ok "shipped binary ignores SAEBENCH_FAKE_DEVICE=$mode (exit $rc)"
    else
        bad "shipped binary ignores SAEBENCH_FAKE_DEVICE=$mode" "exit $rc"
    fi
    [ -f "$V" ] && check "shipped binary under SAEBENCH_FAKE_DEVICE=$mode: never a fake device" "$V" '.backend != "fake-device" and ((.device == null) or (.device.name | test("fake") | not))'
done

# ---- bad input: exit 2, one line, no output file ---------------------------
OUT="$WORK/should-not-exist.json"
bad_shape() { # bad_shape DESC FILE-CONTENT
    local f="$WORK/shape-$((PASSED + FAILED)).json"
    printf '%s' "$2" >"$f"
    expect_exit 2 "$1" -- "${RS[@]}" --shape "$f" "${FAST[@]}" --out "$OUT"
}
SHAPE_HEAD='"name": "t", "workloads": ["resident-solve"], "ridge": 1e-3, "seed": "0x1412a100deadbeef"'
expect_exit 2 "unknown shape" -- "${RS[@]}" --shape no-such-shape "${FAST[@]}" --out "$OUT"
expect_exit 2 "missing --shape" -- "${RS[@]}" "${FAST[@]}" --out "$OUT"
bad_shape "malformed shape JSON" '{"name": "t", "workloads": ["resident-solve"], "n": 64 "p": 32}'
full=$(cat shapes/tiny-primal.json)
bad_shape "truncated shape JSON" "${full:0:$((${#full} / 2))}"
bad_shape "shape with an unknown field" "{$SHAPE_HEAD, \"n\": 64, \"p\": 32, \"colour\": 1}"
bad_shape "shape missing p" "{$SHAPE_HEAD, \"n\": 64}"
bad_shape "shape with n = 0" "{$SHAPE_HEAD, \"n\": 0, \"p\": 32}"
bad_shape "shape with n = -5" "{$SHAPE_HEAD, \"n\": -5, \"p\": 32}"
bad_shape "shape with p = 1e12 (exceeds memory)" "{$SHAPE_HEAD, \"n\": 64, \"p\": 1e12}"
bad_shape "shape with n = 3000000000 (beyond int)" "{$SHAPE_HEAD, \"n\": 3000000000, \"p\": 32}"
bad_shape "shape with n = 2.5" "{$SHAPE_HEAD, \"n\": 2.5, \"p\": 32}"
bad_shape "shape with a huge n*p that fits int per dim" "{$SHAPE_HEAD, \"n\": 2000000000, \"p\": 2000000000}"
bad_shape "shape with a malformed seed" '{"name": "t", "workloads": ["resident-solve"], "ridge": 1e-3, "seed": "0xZZ", "n": 64, "p": 32}'
bad_shape "shape naming an unknown workload" '{"name": "t", "workloads": ["resident-solve", "bogus"], "ridge": 1e-3, "seed": "0x1", "n": 64, "p": 32}'
bad_shape "shape that is a JSON array" '[1, 2, 3]'
bad_shape "empty shape file" ''
expect_exit 2 "an inner-loop shape given to resident-solve" -- "${RS[@]}" --shape qwen "${FAST[@]}" --out "$OUT"
expect_exit 2 "--reps 0" -- "${RS[@]}" --shape tiny-primal --reps 0 --out "$OUT"
expect_exit 2 "--reps abc" -- "${RS[@]}" --shape tiny-primal --reps abc --out "$OUT"
expect_exit 2 "--reps without a value" -- "${RS[@]}" --shape tiny-primal --out "$OUT" --reps
expect_exit 2 "--warmup -1" -- "${RS[@]}" --shape tiny-primal --warmup -1 --out "$OUT"
expect_exit 2 "--backend gpu" -- "${RS[@]}" --shape tiny-primal --backend gpu --out "$OUT"
expect_exit 2 "--method foo" -- "${RS[@]}" --shape tiny-primal --method foo --out "$OUT"
expect_exit 2 "--gate without =" -- "${RS[@]}" --shape tiny-primal --gate RS-001 --out "$OUT"
expect_exit 2 "--gate with an unknown id" -- "${RS[@]}" --shape tiny-primal --gate XX-999=1 --out "$OUT"
expect_exit 2 "--gate with a non-number" -- "${RS[@]}" --shape tiny-primal --gate RS-001=abc --out "$OUT"
expect_exit 2 "unknown option --frobnicate" -- "${RS[@]}" --shape tiny-primal --frobnicate --out "$OUT"
expect_exit 2 "--out into a non-existent directory" -- "${RS[@]}" --shape tiny-primal "${FAST[@]}" --out "$WORK/no/such/dir/v.json"
mkdir -p "$WORK/outdir"
expect_exit 2 "--out is a directory" -- "${RS[@]}" --shape tiny-primal "${FAST[@]}" --out "$WORK/outdir"
# Unwritable even for root.
expect_exit 2 "--out unwritable (/proc/x.json)" -- "${RS[@]}" --shape tiny-primal "${FAST[@]}" --out /proc/x.json
expect_exit 2 "--dump-beta into a non-existent directory" -- "${RS[@]}" --shape tiny-primal "${FAST[@]}" --dump-beta "$WORK/no/such/b.npy" --out "$OUT"

X=(--w "$WORK/w.npy" --rhs "$WORK/rhs.npy")
expect_exit 2 "complex X" -- "${RS[@]}" --shape tiny-primal "${FAST[@]}" --x "$WORK/X_complex.npy" "${X[@]}" --out "$OUT" &&
    says "complex X: names the dtype and the fix" "dtype '<c16' (complex) is not supported; save float64 with np.save(path, a.astype(np.float64))"
expect_exit 2 "3-D X" -- "${RS[@]}" --shape tiny-primal "${FAST[@]}" --x "$WORK/X_3d.npy" "${X[@]}" --out "$OUT" &&
    says "3-D X: names the rank wanted" "expected a 2-D array, found 3-D"
expect_exit 2 "truncated X" -- "${RS[@]}" --shape tiny-primal "${FAST[@]}" --x "$WORK/X_trunc.npy" "${X[@]}" --out "$OUT"
expect_exit 2 "NaN in X" -- "${RS[@]}" --shape tiny-primal "${FAST[@]}" --x "$WORK/X_nan.npy" "${X[@]}" --out "$OUT"
expect_exit 2 "Inf in w" -- "${RS[@]}" --shape tiny-primal "${FAST[@]}" --x "$WORK/X.npy" --w "$WORK/w_inf.npy" --rhs "$WORK/rhs.npy" --out "$OUT"
expect_exit 2 "w of the wrong length" -- "${RS[@]}" --shape tiny-primal "${FAST[@]}" --x "$WORK/X.npy" --w "$WORK/w_short.npy" --rhs "$WORK/rhs.npy" --out "$OUT"
expect_exit 2 "rhs of the wrong length" -- "${RS[@]}" --shape tiny-primal "${FAST[@]}" --x "$WORK/X.npy" --w "$WORK/w.npy" --rhs "$WORK/rhs_long.npy" --out "$OUT"
expect_exit 2 "negative weight" -- "${RS[@]}" --shape tiny-primal "${FAST[@]}" --x "$WORK/X.npy" --w "$WORK/w_neg.npy" --rhs "$WORK/rhs.npy" --out "$OUT"
expect_exit 2 "--x without --w and --rhs" -- "${RS[@]}" --shape tiny-primal "${FAST[@]}" --x "$WORK/X.npy" --out "$OUT"
expect_exit 2 "non-existent --x file" -- "${RS[@]}" --shape tiny-primal "${FAST[@]}" --x "$WORK/nope.npy" "${X[@]}" --out "$OUT"
expect_exit 2 "a text file named X.npy" -- "${RS[@]}" --shape tiny-primal "${FAST[@]}" --x "$WORK/text_X.npy" "${X[@]}" --out "$OUT"

printf '{"schema": "saebench.calibration/1", "host": ' >"$WORK/cal-bad.json"
expect_exit 2 "--calibration with malformed JSON" -- "${RS[@]}" --shape tiny-primal --reps 3 --warmup 1 --calibration "$WORK/cal-bad.json" --out "$OUT"
echo '{"schema": "saebench.verdict/2", "host": {}}' >"$WORK/cal-other.json"
expect_exit 2 "--calibration that is not a calibration file" -- "${RS[@]}" --shape tiny-primal --reps 3 --warmup 1 --calibration "$WORK/cal-other.json" --out "$OUT"
expect_exit 2 "--calibration that does not exist" -- "${RS[@]}" --shape tiny-primal --reps 3 --warmup 1 --calibration "$WORK/nope-cal.json" --out "$OUT"



# ---- --precision mixed|auto (docs/workloads.md §1, Precision) -----------------------
for sh in sae-2k-2048 sae-8k-1024; do
    V="$WORK/mixed-$sh.json"
    if expect_exit 0 "$sh --precision mixed on the host passes" -- "${RS[@]}" --shape "$sh" --backend host --precision mixed --reps 2 --warmup 0 --calibration "$CAL" --out "$V"; then
        valid "$sh mixed verdict is schema-valid" "$V"
        check "$sh mixed: parity vs the FP64 oracle < 1e-9 on both systems" "$V" '.parity.rel_err_w0 < 1e-9 and .parity.rel_err_last < 1e-9 and .gates[0].pass and .gates[1].pass'
        check "$sh mixed: the timed reps ran mixed, none fell back, iterations reported" "$V" \
            '.precision.requested == "mixed" and .precision.used == "mixed" and .precision.mixed_reps == 2 and .precision.fallback_reps == 0 and .precision.refinement_iterations.max >= 1 and .precision.refinement_iterations.max <= 30'
        check "$sh mixed: no FP64 roofline claimed for an FP32 factor" "$V" '.roofline.bound_s == null and (.roofline.note | test("FP64"))'
        says "$sh mixed: the summary reports the refinement" "refinement iterations median"
    fi
done
V="$WORK/fp64-default.json"
if expect_exit 0 "default precision is fp64" -- "${RS[@]}" --shape tiny-primal --backend host "${FAST[@]}" --out "$V"; then
    check "fp64 verdict: requested and used fp64, no refinement fields" "$V" '.precision == {"requested": "fp64", "used": "fp64"}'
fi
expect_exit 2 "--precision fp16 is refused" -- "${RS[@]}" --shape tiny-primal --precision fp16 "${FAST[@]}" --out "$OUT"
says "--precision fp16: one clear line" "--precision: 'fp16' is not fp64, mixed or auto"
expect_exit 2 "--precision given twice is refused" -- "${RS[@]}" --shape tiny-primal --precision mixed --precision fp64 "${FAST[@]}" --out "$OUT"
expect_exit 2 "--precision is resident-solve's only" -- "$BIN" inner-loop --shape tiny-arrow --precision mixed --out "$OUT"
# Ill-conditioned data: X rank one plus 1e-5 noise, weights 1e-8..1, ridge 1e-13:
# cond(A) far beyond 1/ε₃₂, and beyond what even FP64 solves to a fixed 1e-9.
# The parity rule (verdict/3) judges the FP64 solve by its residual and holds
# its forward error to the bound κ̂ allows: it passes; the opt-in verdict/2
# rule (RS-004=1e-9) still fails it. The test is that mixed falls back, says
# so, and then gives exactly the fp64 run's answer.
"$PY" - "$WORK" <<'EOF'
import sys
import numpy as np
d = sys.argv[1]
rng = np.random.default_rng(11)
n, p = 60, 40
X = np.outer(rng.uniform(-1, 1, n), np.cos(0.1 * np.arange(p))) + 1e-5 * rng.uniform(-1, 1, (n, p))
np.save(d + "/ill_X.npy", X)
np.save(d + "/ill_w.npy", 10.0 ** (-8.0 * np.arange(n) / (n - 1)))
np.save(d + "/ill_rhs.npy", rng.uniform(-1, 1, p))
EOF
ILL=(--x "$WORK/ill_X.npy" --w "$WORK/ill_w.npy" --rhs "$WORK/ill_rhs.npy" --ridge 1e-13 --reps 3 --warmup 0 --calibration "$CAL")
V="$WORK/ill-mixed.json"
expect_exit 0 "ill-conditioned data, --precision fp64: a correct FP64 solve passes the parity rule" -- "${RS[@]}" --backend host --precision fp64 "${ILL[@]}" --out "$WORK/ill-fp64.json"
check "ill-conditioned fp64: kappa_est beyond 1e9, residual small, forward error within the bound" "$WORK/ill-fp64.json" \
    '.parity.kappa_est > 1e9 and .parity.scaled_residual <= 30 and .parity.w0.rel_err <= .parity.w0.bound and .parity.pass'
expect_exit 1 "ill-conditioned data, opt-in RS-004=1e-9 (the verdict/2 rule): exit 1" -- "${RS[@]}" --backend host --precision fp64 "${ILL[@]}" --gate RS-004=1e-9 --out "$WORK/ill-rs004.json"
check "ill-conditioned RS-004: applies, fails, and parity.pass says so" "$WORK/ill-rs004.json" \
    '([.gates[] | select(.id == "RS-004")][0] | .applies and (.pass | not)) and (.parity.pass | not) and ([.gates[] | select(.id == "RS-001")][0].pass)'
expect_exit 0 "ill-conditioned data, --precision mixed: falls back and passes" -- "${RS[@]}" --backend host --precision mixed "${ILL[@]}" --out "$V"
check "ill-conditioned mixed: the fallback's answer is the fp64 run's" "$V" \
    ".parity.rel_err_w0 == $(jq .parity.rel_err_w0 "$WORK/ill-fp64.json") and .parity.rel_err_last == $(jq .parity.rel_err_last "$WORK/ill-fp64.json")"
check "ill-conditioned mixed: every timed rep fell back to FP64, with the reason" "$V" \
    '.precision.used == "mixed" and .precision.mixed_reps == 3 and .precision.fallback_reps == 3 and (.precision.fallback_reason | length > 0) and .precision.w0_solve.fallback == true'
says "ill-conditioned mixed: the summary says so" "3 of 3 timed reps fell back to FP64"
V="$WORK/ill-auto.json"
expect_exit 0 "ill-conditioned data, --precision auto: passes" -- "${RS[@]}" --backend host --precision auto "${ILL[@]}" --out "$V"
check "ill-conditioned auto: chose fp64 after the w0 probe, no timed rep ran mixed" "$V" \
    '.precision.used == "fp64" and .precision.mixed_reps == 0 and (.precision.auto_choice | startswith("fp64:"))'
V="$WORK/auto-ok.json"
if expect_exit 0 "well-conditioned data with --precision auto passes" -- "${RS[@]}" --shape tiny-dual --backend host --precision auto "${FAST[@]}" --out "$V"; then
    check "well-conditioned auto: chose mixed" "$V" '.precision.used == "mixed" and (.precision.auto_choice | startswith("mixed:")) and .parity.pass'
fi

# ---- inner-loop / outer-seq ---------------------------------------------------
IL=("$BIN" inner-loop)
OSQ=("$BIN" outer-seq)
IFAST=(--reps 3 --warmup 1 --calibration "$CAL")
V="$WORK/il-tiny.json"
if expect_exit 0 "inner-loop tiny-arrow on the host passes" -- "${IL[@]}" --shape tiny-arrow --backend host "${IFAST[@]}" --out "$V"; then
    valid "inner-loop verdict is schema-valid" "$V"
    check "inner-loop lists IL-001..IL-005 in order" "$V" '[.gates[].id] == ["IL-001", "IL-002", "IL-003", "IL-004", "IL-005"]'
    check "IL-001..003 apply and pass, IL-004 is device-only, IL-005 opt-in" "$V" '([.gates[0:3][] | .applies and .pass] | all) and (.gates[3].applies == false) and (.gates[4].applies == false and (.gates[4].reason | test("opt-in")))'
    check "inner-loop parity: ratio <= 1 over step, z, objective, logdet, with kappa_est" "$V" '.parity.ratio <= 1 and .parity.kappa_est >= 1 and ([.parity.worst.ratios[]] | length) == 4 and all(.parity.worst.ratios[]; . <= 1) and .parity.tolerance == 1 and .parity.pass'
    check "inner-loop: the verdict/3 relative error still reported (< 1e-9 here)" "$V" '.parity.rel_err < 1e-9 and .parity.worst.rel_err_step < 1e-9'
    check "inner-loop: three LM fits reported, converged" "$V" '.results.resident.converged and .results.reupload.converged and .results.oracle.converged and .results.resident.iterations >= 1'
    check "inner-loop: the re-upload fit is bit-identical to the resident fit" "$V" '.results.reupload.bit_identical_to_resident == true'
    check "inner-loop: resident, reupload and frame_build phases timed" "$V" '(.timing.phases | keys) == ["frame_build", "resident", "reupload"] and .timing.phases.resident.reps == 3'
    check "inner-loop: residency speedup reported" "$V" '.residency.speedup > 0 and .residency.resident_s == .timing.median_s and .frame_build_s > 0'
    check "inner-loop: host run not engaged, target undetermined" "$V" '.engaged == false and .throughput.engaged_rows_per_s == 0 and .target.status == "undetermined"'
    check "inner-loop: one frame built by the resident fit" "$V" '.results.resident.frame_builds == 1'
fi
for shp in tiny-arrow-d1 tiny-arrow-d3; do
    V="$WORK/il-$shp.json"
    if expect_exit 0 "inner-loop $shp passes" -- "${IL[@]}" --shape "$shp" --backend host "${IFAST[@]}" --out "$V"; then
        check "inner-loop $shp parity ratio <= 1 (rel_err < 1e-9)" "$V" '.parity.ratio <= 1 and .parity.rel_err < 1e-9 and .results.resident.converged'
    fi
done
V="$WORK/il-indef.json"
if expect_exit 1 "inner-loop on an indefinite H_tt fails IL-003, no crash" -- "${IL[@]}" --shape tiny-arrow-indefinite --backend host "${IFAST[@]}" --out "$V"; then
    valid "indefinite-shape verdict is schema-valid" "$V"
    check "indefinite: factor failures grew the ridge" "$V" '.results.resident.factor_failures > 0 and .results.resident.ridge_t > 0 and .results.resident.converged == false'
    check "indefinite: IL-003 fails, parity still holds" "$V" '([.gates[] | select(.id == "IL-003")][0].pass == false) and .parity.ratio <= 1 and .parity.pass'
fi
V="$WORK/il-ridge.json"
if expect_exit 1 "inner-loop past the ridge limit fails a gate, no crash" -- "${IL[@]}" --shape tiny-arrow-ridge-limit --backend host "${IFAST[@]}" --out "$V"; then
    valid "ridge-limit verdict is schema-valid" "$V"
    check "ridge limit: ridge_exceeded, not converged, nothing timed" "$V" '.results.resident.ridge_exceeded == true and .results.resident.converged == false and .timing.phases == {} and .timing.stop_reason == "not-run"'
fi
V="$WORK/os-tiny.json"
if expect_exit 0 "outer-seq tiny-arrow on the host passes" -- "${OSQ[@]}" --shape tiny-arrow --backend host "${IFAST[@]}" --out "$V"; then
    valid "outer-seq verdict is schema-valid" "$V"
    check "outer-seq: one frame build for every outer (OS-001)" "$V" '.frame_builds == 1 and ([.gates[] | select(.id == "OS-001")][0] | .value == 1 and .pass)'
    check "outer-seq: every outer bit-identical to a fresh frame (OS-002)" "$V" '.bit_identity.outers_differing == 0 and ([.gates[] | select(.id == "OS-002")][0].pass)'
    check "outer-seq: oracle parity (OS-003), the worst outer named" "$V" '.parity.ratio <= 1 and .parity.rel_err < 1e-9 and ([.gates[] | select(.id == "OS-003")][0].pass) and (.parity.worst.index | . >= 0 and . < 3)'
    check "outer-seq: three outers reported, host moves nothing" "$V" '.outers == 3 and (.per_outer | length) == 3 and ([.per_outer[].h2d_bytes] | add) == 0'
fi
V="$WORK/os-5.json"
if expect_exit 0 "outer-seq --outers 5" -- "${OSQ[@]}" --shape tiny-arrow-d3 --backend host --outers 5 "${IFAST[@]}" --out "$V"; then
    check "--outers 5: five outers, one build" "$V" '.outers == 5 and (.per_outer | length) == 5 and .frame_builds == 1'
fi
# ---- --dry-run: every workload checks everything and runs nothing -----------
DRY="$WORK/dry.json"
for cmd in "resident-solve --shape tiny-primal" "inner-loop --shape tiny-arrow" "outer-seq --shape tiny-arrow" \
    "multiplex --shape tiny-variants" "encode --shape tiny-encode"; do
    read -r -a c <<<"$cmd"
    if expect_exit 0 "${c[0]} --dry-run: exit 0" -- "$BIN" "${c[@]}" --backend host --dry-run --out "$DRY"; then
        [ ! -e "$DRY" ] && ok "  ${c[0]} --dry-run wrote no verdict" || { bad "  ${c[0]} --dry-run wrote no verdict"; rm -f "$DRY"; }
        says "  ${c[0]} --dry-run says nothing ran" "nothing run"
    fi
done
expect_exit 2 "--dry-run still refuses an unknown shape" -- "$BIN" resident-solve --shape no-such --dry-run --out "$DRY"
expect_exit 2 "--dry-run still refuses an unknown gate" -- "$BIN" inner-loop --shape tiny-arrow --gate XX-001=1 --dry-run --out "$DRY"
expect_exit 2 "--dry-run still refuses an unwritable --out" -- "$BIN" encode --shape tiny-encode --dry-run --out "$WORK/no/such/v.json"
expect_exit 2 "--dry-run reads the data files: a NaN in --x" -- "$BIN" resident-solve --x "$WORK/X_nan.npy" --w "$WORK/w.npy" --rhs "$WORK/rhs.npy" --dry-run
expect_exit 2 "--dry-run is not calibrate's" -- "$BIN" calibrate --dry-run

# ---- your own arrow system: --system DIR, --dump-z (docs/workloads.md §2) ----
# Random SPD systems saved with numpy (not the fixture); ridges 0, so the LM
# loop converges in one step to numpy's dense solve H⁻¹g₀.
ASYS=tests/cli/arrow_system.py
for d in 1 2 3; do
    S="$WORK/sys-d$d"
    "$PY" "$ASYS" make "$S" 9 "$d" 7 "$d"
    V="$WORK/il-sys-d$d.json"
    if expect_exit 0 "inner-loop --system (numpy system, d=$d) passes" -- "${IL[@]}" --system "$S" --backend host "${IFAST[@]}" --dump-z "$WORK/z-d$d.npy" --out "$V"; then
        valid "--system d=$d verdict is schema-valid" "$V"
        check "--system d=$d: the shape describes the data" "$V" ".shape.data == \"npy\" and .shape.n == 9 and .shape.p == 7 and .shape.d == $d and .shape.system == \"$S\" and .shape.dtypes.htt == \"<f8\" and (.shape | has(\"basis_cols\") | not)"
        check "--system d=$d: kappa_est reported, parity ratio <= 1, converged in one step" "$V" '.parity.kappa_est >= 1 and .parity.ratio <= 1 and .results.resident.accepted == 1 and .results.resident.converged'
        if got=$("$PY" "$ASYS" check "$S" "$WORK/z-d$d.npy" "$(jq '.parity.worst.bound' "$V")"); then
            ok "--dump-z d=$d equals numpy's dense solve within the parity bound (rel $got)"
        else
            bad "--dump-z d=$d equals numpy's dense solve within the parity bound" "$got"
        fi
    fi
done
S="$WORK/sys-outer"
"$PY" "$ASYS" make "$S" 6 2 5 11 3 --f32 hbb
V="$WORK/os-sys.json"
if expect_exit 0 "outer-seq --system with S=3 gradients (float32 H_bb) passes" -- "${OSQ[@]}" --system "$S" --backend host "${IFAST[@]}" --dump-z "$WORK/z-outer.npy" --out "$V"; then
    check "outer-seq --system: three outers from the data, H_bb's dtype recorded" "$V" '.outers == 3 and (.per_outer | length) == 3 and .shape.dtypes.hbb == "<f4" and .shape.data == "npy" and .parity.pass'
    if got=$("$PY" "$ASYS" check "$S" "$WORK/z-outer.npy" 1e-12); then
        ok "outer-seq --dump-z: one row per outer, each numpy's dense solve (rel $got)"
    else
        bad "outer-seq --dump-z: one row per outer, each numpy's dense solve" "$got"
    fi
fi
V="$WORK/il-sys-shape.json"
printf '%s' '{"name": "settings", "workloads": ["inner-loop"], "n": 1, "p": 1, "d": 1, "basis_cols": 1, "seed": "0x1", "reps": 4, "max_iterations": 3}' >"$WORK/settings.json"
if expect_exit 0 "inner-loop --system with a --shape for its settings" -- "${IL[@]}" --system "$WORK/sys-d2" --shape "$WORK/settings.json" --backend host --warmup 0 --calibration "$CAL" --out "$V"; then
    check "the settings come from the shape (reps 4, max_iterations 3), the sizes from the data" "$V" '.shape.n == 9 and .shape.reps == 4 and .timing.reps == 4 and .shape.max_iterations == 3 and .shape.name == "sys-d2"'
fi
# bad systems: one line, exit 2, nothing written
BS="$WORK/badsys"
mkbad() { rm -rf "$BS"; cp -r "$WORK/sys-d2" "$BS"; "$PY" -c "import numpy as np; $1"; }
OUTZ=(--out "$WORK/nope.json" --dump-z "$WORK/nope.npy")
mkbad "import os; os.remove('$BS/hbb.npy')"
expect_exit 2 "--system: a missing hbb.npy" -- "${IL[@]}" --system "$BS" --backend host "${OUTZ[@]}"
says "names the missing file" "hbb.npy"
mkbad "np.save('$BS/cross.npy', np.zeros((9, 2, 6)))"
expect_exit 2 "--system: H_bb and cross disagree on p" -- "${IL[@]}" --system "$BS" --backend host "${OUTZ[@]}"
mkbad "h = np.load('$BS/htt.npy'); h[3, 0, 1] += 1e-3; np.save('$BS/htt.npy', h)"
expect_exit 2 "--system: an asymmetric H_tt block" -- "${IL[@]}" --system "$BS" --backend host "${OUTZ[@]}"
says "names the block" "block 3 is not symmetric"
mkbad "g = np.load('$BS/gt.npy'); g[2, 1] = np.nan; np.save('$BS/gt.npy', g)"
expect_exit 2 "--system: a NaN in g_t" -- "${IL[@]}" --system "$BS" --backend host "${OUTZ[@]}"
mkbad "np.save('$BS/htt.npy', np.ones((9, 2, 3)))"
expect_exit 2 "--system: H_tt blocks not square" -- "${IL[@]}" --system "$BS" --backend host "${OUTZ[@]}"
mkbad "np.save('$BS/gt.npy', np.zeros((2, 9, 2))); np.save('$BS/gb.npy', np.zeros((2, 7)))"
expect_exit 2 "inner-loop --system: S gradients are outer-seq's" -- "${IL[@]}" --system "$BS" --backend host "${OUTZ[@]}"
mkbad "np.save('$BS/target_energy.npy', [1.0, 2.0])"
expect_exit 2 "--system: target_energy with two values" -- "${IL[@]}" --system "$BS" --backend host "${OUTZ[@]}"
expect_exit 2 "outer-seq --system with --outers other than the data's" -- "${OSQ[@]}" --system "$WORK/sys-outer" --outers 5 --backend host "${OUTZ[@]}"
expect_exit 2 "--system: a directory that does not exist" -- "${IL[@]}" --system "$WORK/no-such-dir" --backend host "${OUTZ[@]}"
expect_exit 2 "--dump-z onto an input of --system" -- "${IL[@]}" --system "$WORK/sys-d2" --backend host --dump-z "$WORK/sys-d2/gb.npy"
says "never overwrites its inputs" "never overwrites its inputs"
expect_exit 2 "--dump-z into a missing directory" -- "${IL[@]}" --system "$WORK/sys-d2" --backend host --dump-z "$WORK/no/such/z.npy"
expect_exit 2 "inner-loop with neither --shape nor --system" -- "${IL[@]}" --backend host "${OUTZ[@]}"
expect_exit 2 "--dump-z is not resident-solve's" -- "${RS[@]}" --shape tiny-primal --dump-z "$WORK/nope.npy"
expect_exit 3 "inner-loop --require-device without a device exits 3" -- "${IL[@]}" --shape tiny-arrow --require-device "${IFAST[@]}" --out "$WORK/il-req.json"
check "inner-loop exit 3: nothing ran" "$WORK/il-req.json" '.engaged == false and .execution_path == "none" and .gates == []'
V="$WORK/il-fake.json"
if SAEBENCH_FAKE_DEVICE=fail-at=100000 expect_exit 0 "a device without inner-loop falls back to the host under --backend auto" -- "$FAKE_BIN" inner-loop --shape tiny-arrow "${IFAST[@]}" --out "$V"; then
    check "fallback names why" "$V" '.backend == "host" and .engaged == false and (.engaged_reason | test("does not implement inner-loop"))'
fi
expect_exit 2 "outer-seq --outers 0" -- "${OSQ[@]}" --shape tiny-arrow --outers 0 "${IFAST[@]}" --out "$OUT"
expect_exit 2 "inner-loop does not take --outers" -- "${IL[@]}" --shape tiny-arrow --outers 2 "${IFAST[@]}" --out "$OUT"
expect_exit 2 "inner-loop does not take --reupload" -- "${IL[@]}" --shape tiny-arrow --reupload "${IFAST[@]}" --out "$OUT"
expect_exit 2 "inner-loop with a resident-solve shape" -- "${IL[@]}" --shape tiny-primal "${IFAST[@]}" --out "$OUT"
expect_exit 2 "outer-seq with an inner-loop-only shape" -- "${OSQ[@]}" --shape tiny-arrow-indefinite "${IFAST[@]}" --out "$OUT"
expect_exit 2 "inner-loop without --shape" -- "${IL[@]}" "${IFAST[@]}" --out "$OUT"
expect_exit 2 "inner-loop --gate IL-002=0" -- "${IL[@]}" --shape tiny-arrow --gate IL-002=0 "${IFAST[@]}" --out "$OUT"
expect_exit 2 "inner-loop --gate RS-001=1 (another workload's gate)" -- "${IL[@]}" --shape tiny-arrow --gate RS-001=1 "${IFAST[@]}" --out "$OUT"
ARROW_HEAD='"name": "t", "workloads": ["inner-loop"], "seed": "0x1"'
bad_arrow() { # bad_arrow DESC JSON
    local f="$WORK/arrow-$((PASSED + FAILED)).json"
    printf '%s' "$2" >"$f"
    expect_exit 2 "$1" -- "${IL[@]}" --shape "$f" "${IFAST[@]}" --out "$OUT"
}
bad_arrow "arrow shape with d = 0" "{$ARROW_HEAD, \"n\": 7, \"p\": 11, \"d\": 0, \"basis_cols\": 2}"
bad_arrow "arrow shape with basis_cols = 0" "{$ARROW_HEAD, \"n\": 7, \"p\": 11, \"d\": 2, \"basis_cols\": 0}"
bad_arrow "arrow shape with d = 65" "{$ARROW_HEAD, \"n\": 7, \"p\": 11, \"d\": 65, \"basis_cols\": 2}"
bad_arrow "arrow shape whose n*d + p overflows int" "{$ARROW_HEAD, \"n\": 2000000000, \"p\": 11, \"d\": 64, \"basis_cols\": 2}"
bad_arrow "arrow shape beyond memory" "{$ARROW_HEAD, \"n\": 1000000, \"p\": 100000, \"d\": 2, \"basis_cols\": 2}"
bad_arrow "arrow shape missing basis_cols" "{$ARROW_HEAD, \"n\": 7, \"p\": 11, \"d\": 2}"
bad_arrow "arrow shape with a ridge field" "{$ARROW_HEAD, \"n\": 7, \"p\": 11, \"d\": 2, \"basis_cols\": 2, \"ridge\": 1}"
bad_arrow "arrow shape with max_iterations 0" "{$ARROW_HEAD, \"n\": 7, \"p\": 11, \"d\": 2, \"basis_cols\": 2, \"max_iterations\": 0}"
bad_arrow "arrow shape with NaN-like htt_shift" "{$ARROW_HEAD, \"n\": 7, \"p\": 11, \"d\": 2, \"basis_cols\": 2, \"htt_shift\": \"nan\"}"

# ---- encode ---------------------------------------------------------------------
EN=("$BIN" encode)
V="$WORK/en-tiny.json"
if expect_exit 0 "encode tiny-encode on the host passes" -- "${EN[@]}" --shape tiny-encode --backend host "${IFAST[@]}" --out "$V"; then
    valid "encode verdict is schema-valid" "$V"
    check "encode lists EN-001..EN-005, EN-004 device-only, EN-005 opt-in" "$V" '[.gates[].id] == ["EN-001", "EN-002", "EN-003", "EN-004", "EN-005"] and .gates[3].applies == false and ([.gates[0:3][] | .applies and .pass] | all) and (.gates[4] | .applies == false and (.reason | test("opt-in")))'
    check "encode: fast path agrees with the reference < 1e-9 on every sampled row" "$V" '.quality.fast_path_vs_reference.max_coord_abs_err < 1e-9 and .quality.fast_path_vs_reference.support_agreement == 1 and .parity.pass'
    check "encode: EN-001 is the worst per-row ratio, with that row's beta and bound" "$V" \
        '.gates[0].value == .parity.ratio and .parity.ratio <= 1 and .parity.tolerance == 1 and .parity.worst_row.ratio == .parity.ratio and .parity.worst_row.beta > 0 and .parity.worst_row.bound > 0 and .parity.worst_row.abs_err <= .parity.worst_row.bound and (.parity.rule | test("beta"))'
    check "encode: quality metrics reported" "$V" '.quality.fast_path.explained_variance > 0.99 and .quality.fast_path.fallback_rate < 0.5 and .quality.fast_path.certified_rows > 0 and (.quality.fast_path.max_coord_err_vs_truth | type) == "number"'
    says "encode: the summary prints the error against the generator's t*" "max |t - t*|"
    check "encode: reference rows/s and the fast path's speedup reported" "$V" '.reference.rows_per_s > 0 and .reference.fast_path_speedup > 0'
    check "encode: resident and upload phases timed" "$V" '(.timing.phases | keys) == ["encode", "upload_encode"]'
fi
V="$WORK/en-small-dev.json"
if expect_exit 3 "encode below 4096 rows declines a required device" -- "${EN[@]}" --shape tiny-encode --require-device "${IFAST[@]}" --out "$V"; then
    check "the decline says why" "$V" '.engaged == false and (.engaged_reason | length) > 0'
fi
if SAEBENCH_FAKE_DEVICE=fail-at=100000 expect_exit 0 "encode: a device without encode falls back under auto" -- "$FAKE_BIN" encode --shape tiny-encode "${IFAST[@]}" --out "$WORK/en-fake.json"; then
    check "encode fallback: host, not engaged, target undetermined" "$WORK/en-fake.json" '.backend == "host" and .engaged == false and .target.status == "undetermined"'
fi
# encode on real data: the shape gives the model, the files give everything else.
"$PY" - "$WORK" <<'EOF'
import sys
import numpy as np
d = sys.argv[1]
rng = np.random.default_rng(11)
K, m, p, n = 3, 6, 40, 96
B = rng.standard_normal((K, m, p)) / np.sqrt(p)
t = rng.uniform(-0.45, 0.45, (n, 2))
atoms = rng.integers(0, K, n)
z = rng.uniform(0.5, 1.0, n)
phi = np.stack([np.ones(n), t[:, 0], t[:, 1], t[:, 0] ** 2, t[:, 0] * t[:, 1], t[:, 1] ** 2], axis=1)
X = z[:, None] * np.einsum("ij,ijc->ic", phi, B[atoms])
np.save(d + "/en_X.npy", X)
np.save(d + "/en_B.npy", B.reshape(K * m, p))
np.save(d + "/en_atoms.npy", atoms.astype(np.float64))
np.save(d + "/en_atoms_int.npy", atoms)
np.save(d + "/en_z.npy", z)
np.save(d + "/en_B_bad.npy", B.reshape(K * m, p)[:-1])
bad = atoms.astype(np.float64); bad[4] = K; np.save(d + "/en_atoms_range.npy", bad)
bad = atoms.astype(np.float64); bad[4] = 0.5; np.save(d + "/en_atoms_frac.npy", bad)
bad = z.copy(); bad[7] = -1; np.save(d + "/en_z_neg.npy", bad)
np.save(d + "/en_z_short.npy", z[:-1])
EOF
ENPY=(--x "$WORK/en_X.npy" --decoders "$WORK/en_B.npy" --atoms "$WORK/en_atoms.npy" --amplitudes "$WORK/en_z.npy")
V="$WORK/en-npy.json"
if expect_exit 0 "encode on real .npy data" -- "${EN[@]}" --shape tiny-encode --backend host "${IFAST[@]}" "${ENPY[@]}" --out "$V"; then
    valid "encode npy verdict is schema-valid" "$V"
    check "encode npy: sizes from the data, every row certified, EV ~ 1" "$V" '.shape.data == "npy" and .shape.n == 96 and .shape.p == 40 and .shape.atoms == 3 and .quality.fast_path.certified_rows == 96 and .quality.fast_path.explained_variance > 0.9999 and .parity.pass'
fi
V="$WORK/en-npy-int.json"
if expect_exit 0 "encode data: integer atoms as np.save writes them (int64)" -- "${EN[@]}" --shape tiny-encode --backend host "${IFAST[@]}" --x "$WORK/en_X.npy" --decoders "$WORK/en_B.npy" --atoms "$WORK/en_atoms_int.npy" --amplitudes "$WORK/en_z.npy" --out "$V"; then
    check "encode data: int64 atoms give the same certified rows" "$V" '.shape.atoms == 3 and .quality.fast_path.certified_rows == 96 and .parity.pass'
fi
V="$WORK/en-en005.json"
if expect_exit 0 "encode: --gate EN-005=1e-9 opts in the old absolute rule" -- "${EN[@]}" --shape tiny-encode --backend host "${IFAST[@]}" --gate EN-005=1e-9 --out "$V"; then
    check "EN-005 applies, passes and counts in parity.pass" "$V" '(.gates[] | select(.id == "EN-005") | .applies and .pass and .threshold == 1e-9) and .parity.pass'
fi
V="$WORK/en-en001.json"
if expect_exit 1 "encode: EN-001 below the observed ratio fails the run" -- "${EN[@]}" --shape tiny-encode --backend host "${IFAST[@]}" --gate EN-001=1e-6 --out "$V"; then
    check "EN-001 failed, parity.pass false" "$V" '(.gates[0] | .id == "EN-001" and .applies and (.pass | not)) and (.parity.pass | not)'
fi
expect_exit 2 "encode data: decoders not a whole number of atoms" -- "${EN[@]}" --shape tiny-encode "${IFAST[@]}" --x "$WORK/en_X.npy" --decoders "$WORK/en_B_bad.npy" --atoms "$WORK/en_atoms.npy" --amplitudes "$WORK/en_z.npy" --out "$OUT"
expect_exit 2 "encode data: an atom out of range" -- "${EN[@]}" --shape tiny-encode "${IFAST[@]}" --x "$WORK/en_X.npy" --decoders "$WORK/en_B.npy" --atoms "$WORK/en_atoms_range.npy" --amplitudes "$WORK/en_z.npy" --out "$OUT"
expect_exit 2 "encode data: a fractional atom" -- "${EN[@]}" --shape tiny-encode "${IFAST[@]}" --x "$WORK/en_X.npy" --decoders "$WORK/en_B.npy" --atoms "$WORK/en_atoms_frac.npy" --amplitudes "$WORK/en_z.npy" --out "$OUT"
expect_exit 2 "encode data: a negative amplitude" -- "${EN[@]}" --shape tiny-encode "${IFAST[@]}" --x "$WORK/en_X.npy" --decoders "$WORK/en_B.npy" --atoms "$WORK/en_atoms.npy" --amplitudes "$WORK/en_z_neg.npy" --out "$OUT"
expect_exit 2 "encode data: amplitudes of the wrong length" -- "${EN[@]}" --shape tiny-encode "${IFAST[@]}" --x "$WORK/en_X.npy" --decoders "$WORK/en_B.npy" --atoms "$WORK/en_atoms.npy" --amplitudes "$WORK/en_z_short.npy" --out "$OUT"
expect_exit 2 "encode data: --x without the decoders" -- "${EN[@]}" --shape tiny-encode "${IFAST[@]}" --x "$WORK/en_X.npy" --out "$OUT"
expect_exit 2 "encode data: resident-solve's --w" -- "${EN[@]}" --shape tiny-encode "${IFAST[@]}" "${ENPY[@]}" --w "$WORK/w.npy" --out "$OUT"
expect_exit 2 "encode data: NaN in the rows" -- "${EN[@]}" --shape tiny-encode "${IFAST[@]}" --x "$WORK/X_nan.npy" --decoders "$WORK/en_B.npy" --atoms "$WORK/en_atoms.npy" --amplitudes "$WORK/en_z.npy" --out "$OUT"
# A team's own data with no shape: the model from --latent-dim/--degree/--basis,
# decoders K x m x p, int64 atoms; coordinates dumped and checked in numpy.
"$PY" - "$WORK" <<'EOF'
import sys
import numpy as np
d = sys.argv[1]
rng = np.random.default_rng(23)
K, m, p, n = 4, 6, 48, 120
B = rng.standard_normal((K, m, p)) / np.sqrt(p)
t = rng.uniform(-0.45, 0.45, (n, 2))
atoms = rng.integers(0, K, n)
z = rng.uniform(0.5, 1.0, n)
# the basis of docs/workloads.md §5, d = 2, D = 2: 1, t0, t1, t0^2, t0 t1, t1^2
phi = np.stack([np.ones(n), t[:, 0], t[:, 1], t[:, 0] ** 2, t[:, 0] * t[:, 1], t[:, 1] ** 2], axis=1)
X = z[:, None] * np.einsum("ij,ijc->ic", phi, B[atoms])
np.save(d + "/own_X.npy", X)
np.save(d + "/own_B.npy", B)
np.save(d + "/own_atoms.npy", atoms)
np.save(d + "/own_z.npy", z)
np.save(d + "/own_t.npy", t)
np.save(d + "/own_B4.npy", B[None])
np.save(d + "/own_B_m5.npy", B[:, :5, :])
bad = atoms.astype(np.float64); bad[9] = 1.5; np.save(d + "/own_atoms_frac.npy", bad)
bad = atoms.copy(); bad[9] = K; np.save(d + "/own_atoms_range.npy", bad)
EOF
OWN=(--x "$WORK/own_X.npy" --decoders "$WORK/own_B.npy" --atoms "$WORK/own_atoms.npy" --amplitudes "$WORK/own_z.npy")
MODEL=(--latent-dim 2 --degree 2 --basis euclidean)
V="$WORK/en-own.json"
if expect_exit 0 "encode own data: the model from flags, no shape" -- "${EN[@]}" --backend host "${IFAST[@]}" "${OWN[@]}" "${MODEL[@]}" \
    --dump-coords "$WORK/own_tfit.npy" --dump-rows "$WORK/own_rows.npy" --out "$V"; then
    valid "encode own data: verdict is schema-valid" "$V"
    check "encode own data: every row certified, EV > 0.999999, EN-001 passes" "$V" \
        '.quality.fast_path.certified_rows == 120 and .quality.fast_path.explained_variance > 0.999999 and .parity.pass and .parity.ratio <= 1'
    check "encode own data: the shape is the data's (sizes, layout, dtypes), with no gate or seed" "$V" \
        '.shape.data == "npy" and .shape.n == 120 and .shape.p == 48 and .shape.atoms == 4 and .shape.d == 2 and .shape.degree == 2 and .shape.basis == "euclidean" and .shape.decoders_layout == "K x m x p" and .shape.dtypes == {"x": "<f8", "decoders": "<f8", "atoms": "<i8", "amplitudes": "<f8"} and (.shape | has("gate") or has("seed") | not)'
    check "encode own data: no ground truth, so the t* figure is null with a reason" "$V" \
        '([.quality.fast_path, .quality.fast_path_vs_reference, .quality.reference][] | .max_coord_err_vs_truth == null) and (.quality.truth | test("none"))'
    if grep -qF 't*' "$ERR"; then bad "encode own data: the summary prints no t* figure" "stderr: $(head -c 400 "$ERR")"; else ok "encode own data: the summary prints no t* figure"; fi
    if "$PY" - "$WORK" <<'EOF'
import sys
import numpy as np
d = sys.argv[1]
X, B, atoms, z = (np.load(d + f) for f in ("/own_X.npy", "/own_B.npy", "/own_atoms.npy", "/own_z.npy"))
t, rows, t_gen = np.load(d + "/own_tfit.npy"), np.load(d + "/own_rows.npy"), np.load(d + "/own_t.npy")
assert t.shape == (120, 2) and t.dtype == np.float64, t.shape
assert rows.shape == (120, 2) and (rows[:, 0] == 1).all() and (rows[:, 1] >= 0).all() and (rows[:, 1] == np.round(rows[:, 1])).all()
phi = np.stack([np.ones(len(t)), t[:, 0], t[:, 1], t[:, 0] ** 2, t[:, 0] * t[:, 1], t[:, 1] ** 2], axis=1)
Xr = z[:, None] * np.einsum("ij,ijc->ic", phi, B[atoms])
err = np.abs(Xr - X).max() / np.abs(X).max()
assert err < 1e-9, err
assert np.abs(t - t_gen).max() < 1e-9, np.abs(t - t_gen).max()
EOF
    then ok "encode own data: the dumped coordinates reproduce every row (numpy)"; else bad "encode own data: the dumped coordinates reproduce every row (numpy)"; fi
fi
expect_exit 2 "encode own data: --shape with a model flag conflicts" -- "${EN[@]}" --shape tiny-encode "${IFAST[@]}" "${OWN[@]}" --degree 2 --dump-coords "$WORK/own_t2.npy" --out "$OUT"
says "the conflict names both" "--shape conflicts with --degree"
expect_exit 2 "encode own data: --degree missing" -- "${EN[@]}" "${IFAST[@]}" "${OWN[@]}" --latent-dim 2 --basis euclidean --dump-coords "$WORK/own_t2.npy" --out "$OUT"
says "the line names what is missing" "missing --degree"
expect_exit 2 "encode own data: model flags without data" -- "${EN[@]}" "${IFAST[@]}" "${MODEL[@]}" --out "$OUT"
expect_exit 2 "encode own data: m of K x m x p does not match the basis" -- "${EN[@]}" "${IFAST[@]}" --x "$WORK/own_X.npy" --decoders "$WORK/own_B_m5.npy" --atoms "$WORK/own_atoms.npy" --amplitudes "$WORK/own_z.npy" "${MODEL[@]}" --dump-coords "$WORK/own_t2.npy" --out "$OUT"
says "the m mismatch names both sizes" "m = 5, but d = 2, D = 2 (euclidean) has m = 6"
expect_exit 2 "encode own data: a non-integer atom" -- "${EN[@]}" "${IFAST[@]}" --x "$WORK/own_X.npy" --decoders "$WORK/own_B.npy" --atoms "$WORK/own_atoms_frac.npy" --amplitudes "$WORK/own_z.npy" "${MODEL[@]}" --dump-coords "$WORK/own_t2.npy" --out "$OUT"
says "the bad atom is named by row" "row 9's atom 1.5 is not an integer"
expect_exit 2 "encode own data: an int64 atom out of range" -- "${EN[@]}" "${IFAST[@]}" --x "$WORK/own_X.npy" --decoders "$WORK/own_B.npy" --atoms "$WORK/own_atoms_range.npy" --amplitudes "$WORK/own_z.npy" "${MODEL[@]}" --dump-coords "$WORK/own_t2.npy" --out "$OUT"
says "the out-of-range atom is named by row" "row 9's atom 4 is outside [0, 4)"
expect_exit 2 "encode own data: 4-D decoders" -- "${EN[@]}" "${IFAST[@]}" --x "$WORK/own_X.npy" --decoders "$WORK/own_B4.npy" --atoms "$WORK/own_atoms.npy" --amplitudes "$WORK/own_z.npy" "${MODEL[@]}" --dump-coords "$WORK/own_t2.npy" --out "$OUT"
expect_exit 2 "encode own data: --dump-coords into a missing folder" -- "${EN[@]}" "${IFAST[@]}" "${OWN[@]}" "${MODEL[@]}" --dump-coords "$WORK/no/such/t.npy" --out "$OUT"
expect_exit 2 "encode own data: --dump-rows into a missing folder" -- "${EN[@]}" "${IFAST[@]}" "${OWN[@]}" "${MODEL[@]}" --dump-rows "$WORK/no/such/rows.npy" --out "$OUT"
IN_SUM=$(sha256sum "$WORK/own_X.npy" "$WORK/own_B.npy")
expect_exit 2 "encode own data: --dump-coords over the --x input" -- "${EN[@]}" "${IFAST[@]}" "${OWN[@]}" "${MODEL[@]}" --dump-coords "$WORK/./own_X.npy" --out "$OUT"
expect_exit 2 "encode own data: --dump-rows over the --decoders input" -- "${EN[@]}" "${IFAST[@]}" "${OWN[@]}" "${MODEL[@]}" --dump-rows "$WORK/own_B.npy" --out "$OUT"
if [ "$(sha256sum "$WORK/own_X.npy" "$WORK/own_B.npy")" = "$IN_SUM" ]; then ok "encode own data: the inputs are untouched"; else bad "encode own data: the inputs are untouched"; fi
expect_exit 2 "encode own data: --dump-coords and --dump-rows one file" -- "${EN[@]}" "${IFAST[@]}" "${OWN[@]}" "${MODEL[@]}" --dump-coords "$WORK/own_same.npy" --dump-rows "$WORK/own_same.npy" --out "$OUT"
ENC_HEAD='"name": "t", "workloads": ["encode"], "seed": "0x1", "n": 64, "p": 40, "atoms": 3'
bad_encode() { # bad_encode DESC JSON-TAIL
    local f="$WORK/encode-$((PASSED + FAILED)).json"
    printf '{%s, %s}' "$ENC_HEAD" "$2" >"$f"
    expect_exit 2 "$1" -- "${EN[@]}" --shape "$f" "${IFAST[@]}" --out "$OUT"
}
bad_encode "encode shape with d = 0" '"d": 0, "degree": 2, "basis": "euclidean", "gate": "softmax"'
bad_encode "encode shape with D too large for the per-row routine" '"d": 4, "degree": 9, "basis": "euclidean", "gate": "softmax"'
bad_encode "encode shape with an unknown basis" '"d": 2, "degree": 2, "basis": "spline", "gate": "softmax"'
bad_encode "encode shape with an unknown gate" '"d": 2, "degree": 2, "basis": "euclidean", "gate": "relu"'
bad_encode "periodic basis with d = 2" '"d": 2, "degree": 2, "basis": "periodic", "gate": "softmax"'
bad_encode "encode shape with negative noise" '"d": 2, "degree": 2, "basis": "euclidean", "gate": "softmax", "noise": -1'
bad_encode "encode shape without a gate" '"d": 2, "degree": 2, "basis": "euclidean"'
f="$WORK/encode-k0.json"; printf '{"name": "t", "workloads": ["encode"], "seed": "0x1", "n": 64, "p": 40, "atoms": 0, "d": 2, "degree": 2, "basis": "euclidean", "gate": "softmax"}' >"$f"
expect_exit 2 "encode shape with K = 0" -- "${EN[@]}" --shape "$f" "${IFAST[@]}" --out "$OUT"
expect_exit 2 "encode --oracle-rows 0" -- "${EN[@]}" --shape tiny-encode --oracle-rows 0 "${IFAST[@]}" --out "$OUT"
expect_exit 2 "encode with an inner-loop shape" -- "${EN[@]}" --shape tiny-arrow "${IFAST[@]}" --out "$OUT"

# ---- conflicting options, thresholds, duplicates: exit 2 before any work ----
expect_exit 2 "--backend host with --require-device conflict" -- "${RS[@]}" --shape tiny-primal --backend host --require-device "${FAST[@]}" --out "$OUT"
expect_exit 2 "--reupload with --backend host conflict" -- "${RS[@]}" --shape tiny-primal --backend host --reupload "${FAST[@]}" --out "$OUT"
expect_exit 2 "--factor blocked with --backend host conflict" -- "${RS[@]}" --shape tiny-primal --backend host --factor blocked "${FAST[@]}" --out "$OUT"
if SAEBENCH_FAKE_DEVICE=decline expect_exit 2 "--factor blocked when --backend auto falls back to the host" -- "${FRS[@]}" --shape tiny-primal --factor blocked "${FAST[@]}" --out "$OUT"; then
    says "the refusal says the device is needed" "needs the device"
fi
expect_exit 2 "--factor tiled with --backend host conflict" -- "${RS[@]}" --shape tiny-primal --backend host --factor tiled "${FAST[@]}" --out "$OUT"
expect_exit 2 "--factor frobnicated is refused" -- "${RS[@]}" --shape tiny-primal --factor frobnicated "${FAST[@]}" --out "$OUT"
V="$WORK/factor-auto.json"
if expect_exit 0 "--factor auto on the host runs the library" -- "${RS[@]}" --shape tiny-primal --backend host --factor auto "${FAST[@]}" --out "$V"; then
    check "--factor auto: the verdict names the variant that ran and why" "$V" '.factor == "library" and (.factor_choice | test("only the library"))'
    says "--factor auto: the summary says what ran" "--factor auto ran library"
fi
expect_exit 2 "--precision mixed with --factor blocked conflict" -- "${FRS[@]}" --shape tiny-primal --precision mixed --factor blocked "${FAST[@]}" --out "$OUT"
expect_exit 2 "--precision auto with --factor tiled conflict" -- "${FRS[@]}" --shape tiny-primal --precision auto --factor tiled "${FAST[@]}" --out "$OUT"
expect_exit 2 "--gate RS-001=0 (a zero tolerance)" -- "${RS[@]}" --shape tiny-primal --gate RS-001=0 "${FAST[@]}" --out "$OUT"
expect_exit 2 "--gate RS-002=-1e-9 (a negative tolerance)" -- "${RS[@]}" --shape tiny-primal --gate RS-002=-1e-9 "${FAST[@]}" --out "$OUT"
expect_exit 2 "--out given twice" -- "${RS[@]}" --shape tiny-primal "${FAST[@]}" --out "$OUT" --out "$WORK/other.json"
expect_exit 2 "--reps given twice" -- "${RS[@]}" --shape tiny-primal --reps 3 --reps 4 --out "$OUT"
expect_exit 2 "--shape given twice" -- "${RS[@]}" --shape tiny-primal --shape tiny-dual "${FAST[@]}" --out "$OUT"
expect_exit 2 "--ridge 0" -- "${RS[@]}" --shape tiny-primal --ridge 0 "${FAST[@]}" --out "$OUT"
expect_exit 2 "--ridge -1" -- "${RS[@]}" --shape tiny-primal --ridge -1 "${FAST[@]}" --out "$OUT"
expect_exit 2 "--ridge nan" -- "${RS[@]}" --shape tiny-primal --ridge nan "${FAST[@]}" --out "$OUT"
expect_exit 2 "--max-noise 0" -- "${RS[@]}" --shape tiny-primal --max-noise 0 "${FAST[@]}" --out "$OUT"
expect_exit 2 "--min-time -1" -- "${RS[@]}" --shape tiny-primal --min-time -1 "${FAST[@]}" --out "$OUT"
expect_exit 2 "--max-reps without --min-time" -- "${RS[@]}" --shape tiny-primal --max-reps 50 "${FAST[@]}" --out "$OUT"
expect_exit 2 "--dump-beta and --out the same file" -- "${RS[@]}" --shape tiny-primal "${FAST[@]}" --out "$WORK/same.npy" --dump-beta "$WORK/same.npy"
expect_exit 2 "neither --shape nor data" -- "${RS[@]}" --reps 3 --out "$OUT"

# A calibration file without the ceilings this run needs is refused up front.
cat >"$WORK/cal-nohost.json" <<'EOF2'
{"schema": "saebench.calibration/1", "host": null, "device": null}
EOF2
expect_exit 2 "--calibration with no ceilings at all" -- "${RS[@]}" --shape tiny-primal --backend host --reps 3 --calibration "$WORK/cal-nohost.json" --out "$OUT"
cat >"$WORK/cal-devonly.json" <<'EOF2'
{"schema": "saebench.calibration/1", "host": null, "device": {"name": "x", "ceilings": {"fp64_flops": 5e13, "mem_bw": 3e12, "dgemm_n": 8192, "copy_bytes": 1073741824}}}
EOF2
expect_exit 2 "--calibration with device ceilings only, host run" -- "${RS[@]}" --shape tiny-primal --backend host --reps 3 --calibration "$WORK/cal-devonly.json" --out "$OUT"
if grep -q "no host ceilings" "$ERR"; then ok "calibration refusal names the missing ceilings"; else bad "calibration refusal names the missing ceilings" "$(cat "$ERR")"; fi

# A device-only gate override on the host: the run says it does not apply.
if expect_exit 0 "--gate RS-003 on the host runs" -- "${RS[@]}" --shape tiny-primal --backend host --gate RS-003=5e5 "${FAST[@]}" --out "$WORK/rs003.json"; then
    if grep -q "RS-003 does not apply" "$ERR"; then ok "--gate RS-003 on the host says it does not apply"; else bad "--gate RS-003 on the host says it does not apply" "$(head -c 300 "$ERR")"; fi
    check "RS-003 threshold recorded, not applied" "$WORK/rs003.json" '[.gates[] | select(.id == "RS-003")][0] | .threshold == 5e5 and .applies == false'
fi

# ---- real data without a shape; --ridge -------------------------------------
V="$WORK/npy-noshape.json"
if expect_exit 0 "real data without --shape" -- "${RS[@]}" --backend host --reps 3 --warmup 1 --calibration "$CAL" "${NPY[@]}" --out "$V"; then
    valid "shape-less npy verdict is schema-valid" "$V"
    check "shape-less npy: shape from the data" "$V" ".shape.name == \"X\" and .shape.n == 64 and .shape.p == 32 and .shape.data == \"npy\" and .shape.x == \"$WORK/X.npy\" and .ridge == 1e-3"
    check "shape-less npy: parity passes" "$V" '.parity.pass == true'
    if grep -q "shape X (n=64 p=32, npy" "$ERR"; then ok "summary names the data, not a shape"; else bad "summary names the data, not a shape" "$(head -n 1 "$ERR")"; fi
fi
V="$WORK/npy-ridge.json"
B2="$WORK/beta-ridge.npy"
if expect_exit 0 "real data with --ridge 0.5" -- "${RS[@]}" --backend host --reps 3 --warmup 1 --calibration "$CAL" "${NPY[@]}" --ridge 0.5 --dump-beta "$B2" --out "$V"; then
    check "--ridge recorded" "$V" '.ridge == 0.5 and .shape.ridge == 0.5'
    if got=$("$PY" - "$WORK" "$B2" 2>&1 <<'EOF2'
import sys
import numpy as np
d = sys.argv[1]
X = np.load(d + "/X.npy"); w = np.load(d + "/w.npy"); rhs = np.load(d + "/rhs.npy")
ref = np.linalg.solve(X.T @ (w[:, None] * X) + 0.5 * np.eye(X.shape[1]), rhs)
beta = np.load(sys.argv[2])
rel = np.abs(beta - ref).max() / np.abs(ref).max()
assert rel < 1e-9, "rel err %g" % rel
print("rel err %.3g" % rel)
EOF2
    ); then ok "--ridge 0.5 beta matches numpy ($got)"; else bad "--ridge 0.5 beta matches numpy" "$got"; fi
fi
V="$WORK/npy-shape-defaults.json"
if expect_exit 0 "real data with a --shape for defaults" -- "${RS[@]}" --shape tiny-dual --backend host --warmup 1 --calibration "$CAL" "${NPY[@]}" --out "$V"; then
    check "data with --shape: data dims, defaults_from recorded" "$V" '.shape.n == 64 and .shape.p == 32 and .shape.defaults_from == "tiny-dual"'
    if grep -q "supplied reps" "$ERR"; then ok "summary says the shape only supplied defaults"; else bad "summary says the shape only supplied defaults" "$(head -n 1 "$ERR")"; fi
fi
V="$WORK/shape-ridge.json"
if expect_exit 0 "--ridge overrides a shape's ridge" -- "${RS[@]}" --shape tiny-primal --backend host --ridge 0.25 "${FAST[@]}" --out "$V"; then
    check "--ridge 0.25 recorded in shape and run" "$V" '.ridge == 0.25 and .shape.ridge == 0.25 and .parity.pass == true'
fi

# ---- noise: --min-time / --max-reps ------------------------------------------
V="$WORK/mintime.json"
if expect_exit 0 "--min-time with --max-reps stops at the cap" -- "${RS[@]}" --shape tiny-primal --backend host --reps 3 --warmup 1 --calibration "$CAL" --min-time 30 --max-reps 7 --out "$V"; then
    check "--max-reps 7: 7 reps, stop_reason max-reps" "$V" '.timing.reps == 7 and .timing.stop_reason == "max-reps" and (.timing.samples_s | length) == 7'
fi
V="$WORK/mintime2.json"
if expect_exit 0 "--min-time 0.05 runs until the time is spent" -- "${RS[@]}" --shape tiny-primal --backend host --reps 3 --warmup 1 --calibration "$CAL" --min-time 0.05 --max-reps 1000000 --max-noise 50 --out "$V"; then
    check "--min-time 0.05: timed time >= 0.05 s, stopped by the criterion" "$V" '([.timing.samples_s[]] | add) >= 0.05 and .timing.stop_reason == "noise-criterion" and .timing.noisy == false and .timing.max_noise == 0.5'
fi
V="$WORK/noisy.json"
if expect_exit 0 "a 2-rep run is reported noisy" -- "${RS[@]}" --shape tiny-primal --backend host --reps 2 --warmup 0 --calibration "$CAL" --out "$V"; then
    check "2 reps cannot show their noise: noisy true" "$V" '.timing.noisy == true'
    if grep -q "NOISY" "$ERR"; then ok "the summary warns about noise"; else bad "the summary warns about noise" "$(head -c 400 "$ERR")"; fi
fi

# Progress covers every phase on a terminal (script(1) gives the run a pty), and
# nothing of it reaches a log or a --quiet run.
if command -v script >/dev/null; then
    prog=$(script -qec "'$BIN' resident-solve --shape tiny-primal --backend host --reps 3 --warmup 1" /dev/null 2>&1 | tr '\r' '\n')
    missing=""
    for phase in "staging X" "warm-up 1/1" "rep 3/3" "oracle: dense LAPACKE" "measuring this machine's ceilings"; do
        grep -q "$phase" <<<"$prog" || missing="$missing [$phase]"
    done
    if [ -z "$missing" ]; then ok "progress on a terminal covers every phase"; else bad "progress on a terminal covers every phase" "missing:$missing"; fi
    prog=$(script -qec "'$BIN' resident-solve --shape tiny-primal --backend host --reps 3 --warmup 1 --quiet" /dev/null 2>&1)
    if [ -z "$prog" ]; then ok "--quiet on a terminal prints nothing"; else bad "--quiet on a terminal prints nothing" "${prog:0:200}"; fi
    "${RS[@]}" --shape tiny-primal --backend host "${FAST[@]}" 2>"$WORK/log.txt" >/dev/null
    if grep -q "warm-up\|staging" "$WORK/log.txt"; then bad "no progress lines in a log" "$(head -c 200 "$WORK/log.txt")"; else ok "no progress lines in a log"; fi
else
    echo "skip progress tests (script(1) not found)"
fi

# A number faster than its roofline bound is flagged, never passed off silently.
cat >"$WORK/cal-low.json" <<'EOF2'
{"schema": "saebench.calibration/1", "host": {"cpu": "x", "ceilings": {"fp64_flops": 1e3, "mem_bw": 1e3, "dgemm_n": 64, "copy_bytes": 1024}}, "device": null}
EOF2
V="$WORK/suspect.json"
if expect_exit 0 "ceilings far too low: the run completes" -- "${RS[@]}" --shape tiny-primal --backend host --reps 3 --warmup 1 --calibration "$WORK/cal-low.json" --out "$V"; then
    check "efficiency above 1 is marked suspect" "$V" '.roofline.efficiency > 1 and .roofline.suspect == true'
    if grep -q "WARNING: efficiency" "$ERR"; then ok "the summary warns about an impossible efficiency"; else bad "the summary warns about an impossible efficiency" "$(head -c 400 "$ERR")"; fi
fi
check "an honest run is not suspect" "$WORK/tiny-primal.json" '.roofline.suspect == false'

# ---- saying what is happening -------------------------------------------------
if expect_exit 0 "--version names git and the build" -- "$BIN" --version; then
    if grep -q "^git " "$OUTS" && grep -q "^build: CUDA \(on\|off\)" "$OUTS" && grep -q "^BLAS: " "$OUTS"; then ok "--version prints git, CUDA build and BLAS"; else bad "--version prints git, CUDA build and BLAS" "$(cat "$OUTS")"; fi
fi
if expect_exit 0 "resident-solve --help cites the docs" -- "${RS[@]}" --help; then
    if grep -q "docs/workloads.md" "$OUTS" && ! grep -q "shared" "$OUTS"; then ok "--help cites docs/workloads.md, nothing outside the repo"; else bad "--help cites docs/workloads.md" "$(cat "$OUTS")"; fi
fi
if "$BIN" --version | grep -q "build: CUDA on"; then
    V="$WORK/nodriver.json"
    if expect_exit 0 "--backend auto on a CUDA build without a GPU runs the host" -- "${RS[@]}" --shape tiny-primal "${FAST[@]}" --out "$V"; then
        if grep -q "no NVIDIA driver or GPU found" "$ERR" && ! grep -qi "insufficient" "$ERR"; then ok "no GPU: the summary says so in words"; else bad "no GPU: the summary says so in words" "$(grep engaged "$ERR")"; fi
        check "no GPU: the raw CUDA message stays in the verdict" "$V" '.engaged_reason | test("no NVIDIA driver or GPU found \\[cudaGetDeviceCount")'
    fi
else
    echo "skip no-GPU wording (binary built without CUDA)"
fi
# No device ran, so no NVML reading: device (and with it device.conditions) is null,
# in a CUDA build without a GPU and in one without CUDA alike.
V="$WORK/noconditions.json"
if expect_exit 0 "--backend auto without a GPU: no device conditions" -- "${RS[@]}" --shape tiny-primal "${FAST[@]}" --out "$V"; then
    check "no GPU: device null (no conditions), the device declined in words" "$V" \
        '.device == null and (.engaged_reason | test("no NVIDIA driver or GPU found|no device backend in this build"))'
fi

# ---- validity (docs/verdict.md): a host number is never a valid device number ----
V="$WORK/validity-host.json"
if expect_exit 0 "validity on the host: exit unchanged without --require-valid" -- "${RS[@]}" --shape tiny-primal --backend host "${FAST[@]}" --out "$V"; then
    check "validity on the host: valid false, device-run false with the reason, device conditions unchecked" "$V" \
        '.validity.valid == false and (.validity.failed | index("device-run")) != null
         and ((.validity.conditions[] | select(.name == "device-run")) | .value == "host" and (.note | test("never a valid device number")))
         and ((.validity.conditions[] | select(.name == "no-other-tenants")) | .ok == null)
         and ([.validity.conditions[].name] == ["device-run", "engaged", "parity-passed", "timing-quiet", "no-other-tenants", "no-clock-events", "no-throttled-reps", "calibration-device", "clean-build"])'
    says "validity on the host: the summary says not valid" "validity: NOT VALID; failed: device-run"
    valid "validity on the host: verdict validates" "$V"
fi
expect_exit 1 "--require-valid on the host: exit 1" -- "${RS[@]}" --shape tiny-primal --backend host "${FAST[@]}" --require-valid --out "$WORK/validity-rv.json"
check "--require-valid: verdict fail, exit_code 1" "$WORK/validity-rv.json" '.verdict == "fail" and .exit_code == 1'
expect_exit 3 "--require-valid does not change exit 3" -- "${RS[@]}" --shape tiny-primal --backend cuda "${FAST[@]}" --require-valid --out "$WORK/validity-3.json"
check "exit 3: validity still written, device-run false (nothing ran)" "$WORK/validity-3.json" \
    '.validity.valid == false and ((.validity.conditions[] | select(.name == "device-run")) | .value == "none" and .ok == false)'

if [ "$(id -u)" -ne 0 ]; then
    cp shapes/tiny-primal.json "$WORK/unreadable.json"
    chmod 000 "$WORK/unreadable.json"
    expect_exit 2 "unreadable shape file" -- "${RS[@]}" --shape "$WORK/unreadable.json" "${FAST[@]}" --out "$OUT"
else
    echo "skip unreadable shape file (running as root, which reads anyway)"
fi

sb_test_summary
