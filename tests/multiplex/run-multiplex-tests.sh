#!/usr/bin/env bash
# multiplex through the CLI on the host (make test-multiplex; part of make test).
# usage: tests/multiplex/run-multiplex-tests.sh BINARY
#
# Good runs on the tiny matrices assert values in the verdict (schema-valid,
# the three MX gates, every fit bit-identical, the oracle sample, concurrency
# and thread counts); bad input asserts exit 2 with exactly one "saebench: ..."
# line on stderr, before any work, and no output file left behind.
# Needs jq and /usr/bin/python3 with jsonschema (Debian packages).
set -u

# shellcheck source=tests/lib/battery.sh
. "$(dirname "$0")/../lib/battery.sh"
sb_battery_bin "$@"
sb_battery_setup mx jsonschema
# A tiny fit is microseconds: starting worker threads costs more than it
# saves, so the speedup gate gets a threshold every run meets (MX-002 is
# checked below with one it cannot).
FAST=(--backend host --reps 3 --warmup 1 --calibration "$CAL" --gate MX-002=1e-6)
MX=("$BIN" multiplex)

echo "== saebench multiplex tests: $BIN"

# ---- good runs ------------------------------------------------------------
V="$WORK/tiny-variants.json"
if expect_exit 0 "tiny-variants, 2 workers, passes" -- "${MX[@]}" --shape tiny-variants --concurrency 2 "${FAST[@]}" --out "$V"; then
    valid "tiny-variants verdict is schema-valid" "$V"
    check "workload, backend, not engaged" "$V" '.workload == "multiplex" and .backend == "host" and .engaged == false'
    check "gates MX-001..003 present, applied, passed; MX-004 opt-in" "$V" \
        '[.gates[] | .id] == ["MX-001", "MX-002", "MX-003", "MX-004"] and all(.gates[0:3][]; .applies and .pass) and .gates[3].applies == false'
    check "MX-001: no fit differs" "$V" '(.gates[] | select(.id == "MX-001") | .value) == 0 and .bit_identity.fits_differing == 0'
    check "MX-003: worst oracle parity ratio <= 1 (rel_err < 1e-9)" "$V" '(.gates[] | select(.id == "MX-003") | .value) <= 1 and .parity.rel_err < 1e-9 and .parity.kappa_est >= 1 and .parity.pass'
    check "32 fits, each bit-identical, converged, with both times" "$V" \
        '(.fits | length) == 32 and all(.fits[]; .bit_identical and .results.converged and .sequential_fit_s > 0 and .multiplexed_fit_s > 0)'
    check "tiny matrix: every fit checked against the oracle" "$V" \
        '.parity.sampled == 32 and all(.fits[]; .oracle_rel_err != null and .oracle_rel_err < 1e-9 and .oracle_ratio <= 1 and .oracle_kappa_est >= 1)'
    check "fit seeds and parameters of the color-arm-variants rule" "$V" \
        '.fits[0].seed == "0x1017c01000010000" and .fits[31].seed == "0x1017c01000040301" and .fits[31].name == "K4-sphere-linear"
         and .fits[31].d == 1 and .fits[31].basis_cols == 2 and .fits[0].d == 2 and .fits[0].basis_cols == 8
         and all(.fits[]; .n == 12 and .p == 16)'
    check "concurrency 2, 1 BLAS and 1 OpenMP thread per fit, host.threads 1" "$V" \
        '.concurrency == 2 and .multiplexing.concurrency == 2 and .multiplexing.concurrency_from == "--concurrency"
         and .multiplexing.blas_threads_per_fit == 1 and .multiplexing.omp_threads_per_fit == 1 and .host.threads == 1
         and .multiplexing.streams == 0'
    check "phases multiplexed (primary) and sequential, 3 reps each" "$V" \
        '(.timing.phases | keys_unsorted) == ["multiplexed", "sequential"] and .timing.phases.multiplexed.reps == 3
         and .timing.phases.sequential.reps == 3 and .timing.median_s == .timing.phases.multiplexed.median_s'
    check "speedup = sequential / multiplexed median; fits/s = 32 / median" "$V" \
        '(.cross_fit_speedup - .timing.phases.sequential.median_s / .timing.phases.multiplexed.median_s | fabs) < 1e-9 * .cross_fit_speedup
         and ((.fits_per_s.multiplexed * .timing.phases.multiplexed.median_s) - 32 | fabs) < 1e-9
         and ((.fits_per_s.sequential * .timing.phases.sequential.median_s) - 32 | fabs) < 1e-9'
    check "throughput counts every fit's rows per sweep (32 x 12)" "$V" \
        '.matrix.rows_per_sweep == 384 and ((.throughput.measured_rows_per_s * .timing.median_s) - 384 | fabs) < 1e-6
         and .throughput.engaged_rows_per_s == 0'
    check "memory estimate: systems + results + 2 fits in flight + oracle" "$V" \
        '.memory.host_bytes_estimate == .memory.host_systems_bytes + .memory.host_results_bytes + 2 * .memory.host_bytes_per_fit_in_flight + .memory.oracle_bytes
         and .memory.host_systems_bytes > 0'
    check "telemetry sums the fits: 32 frames, 32 factorizations" "$V" '.telemetry.frame_builds == 32 and .telemetry.factorizations == 32'
    check "roofline beside the throughput" "$V" '.roofline.bound_s > 0 and .roofline.efficiency > 0'
fi

V="$WORK/tiny-4.json"
if expect_exit 0 "tiny-variants, 4 workers, 3 oracle fits" -- "${MX[@]}" --shape tiny-variants --concurrency 4 --oracle-sample 3 "${FAST[@]}" --out "$V"; then
    valid "4-worker verdict is schema-valid" "$V"
    check "concurrency 4, MX-001 0" "$V" '.concurrency == 4 and .bit_identity.fits_differing == 0'
    check "3 oracle fits, evenly spaced: 0, 16, 31" "$V" \
        '.parity.sampled_fits == ["K1-euclidean-periodic", "K3-euclidean-periodic", "K4-sphere-linear"]
         and ([.fits[] | select(.oracle_rel_err != null) | .index] == [0, 16, 31])'
fi

# the battery rule, through a shape file (n, p override the color-arm size)
cat >"$WORK/tiny-battery.json" <<'EOF'
{"name": "tiny-battery", "workloads": ["multiplex"], "matrix": "battery", "n": 12, "p": 16}
EOF
V="$WORK/battery.json"
if expect_exit 0 "tiny battery via --threads 3" -- "${MX[@]}" --shape "$WORK/tiny-battery.json" --threads 3 "${FAST[@]}" --out "$V"; then
    valid "battery verdict is schema-valid" "$V"
    check "12 fits, battery seeds, --threads sets the workers" "$V" \
        '(.fits | length) == 12 and .fits[0].seed == "0x1017004000000104" and .fits[11].seed == "0x101700400000040c"
         and .fits[11].name == "K4-basis12" and .concurrency == 3 and .multiplexing.concurrency_from == "--threads"
         and .matrix.name == "battery" and .shape.matrix == "battery"'
fi

# ridge growth: H_tt indefinite at zero ridge, factor failures in every fit
cat >"$WORK/tiny-indefinite.json" <<'EOF'
{"name": "tiny-indefinite-variants", "workloads": ["multiplex"], "matrix": "color-arm-variants", "n": 12, "p": 16,
 "htt_shift": -3.5}
EOF
V="$WORK/indefinite.json"
if expect_exit 0 "factor failures and ridge growth, still bit-identical" -- "${MX[@]}" --shape "$WORK/tiny-indefinite.json" --concurrency 2 "${FAST[@]}" --out "$V"; then
    check "every fit grew its ridge; none differs" "$V" \
        'all(.fits[]; .results.factor_failures > 0) and .bit_identity.fits_differing == 0'
fi

# a user's matrix
cat >"$WORK/my-fits.json" <<'EOF'
[ {"name": "small", "n": 12, "p": 16, "d": 2, "basis_cols": 3, "seed": "0x1017000000000001"},
  {"name": "d3",    "n": 7,  "p": 11, "d": 3, "basis_cols": 5, "seed": "0x1017000000000003"},
  {"name": "d1",    "n": 9,  "p": 30, "d": 1, "basis_cols": 2, "seed": 77} ]
EOF
V="$WORK/my.json"
if expect_exit 0 "--variants FILE" -- "${MX[@]}" --variants "$WORK/my-fits.json" "${FAST[@]}" --out "$V"; then
    valid "--variants verdict is schema-valid" "$V"
    check "the file's fits, in order, named by the file" "$V" \
        '[.fits[] | .name] == ["small", "d3", "d1"] and .fits[1].d == 3 and .fits[2].seed == "0x000000000000004d"
         and .matrix.name == "my-fits" and .shape.name == "my-fits" and .parity.sampled == 3 and .concurrency <= 3'
fi

# a matrix mixing generated fits and a team's own systems ({name, system}:
# inner-loop's --system files, relative to the variants file's folder)
mkdir -p "$WORK/mixed"
"$PY" tests/cli/arrow_system.py make "$WORK/mixed/sysA" 8 2 6 3
"$PY" tests/cli/arrow_system.py make "$WORK/mixed/sysB" 5 1 9 4
cat >"$WORK/mixed/fits.json" <<EOF
[ {"name": "gen", "n": 12, "p": 16, "d": 2, "basis_cols": 3, "seed": "0x1017000000000001"},
  {"name": "A", "system": "sysA"},
  {"name": "B", "system": "$WORK/mixed/sysB"} ]
EOF
V="$WORK/mixed.json"
if expect_exit 0 "--variants with data fits {name, system}" -- "${MX[@]}" --variants "$WORK/mixed/fits.json" "${FAST[@]}" --out "$V"; then
    valid "mixed --variants verdict is schema-valid" "$V"
    check "data fits take n, p, d from their files and name their folder" "$V" \
        '[.fits[] | [.n, .p, .d]] == [[12, 16, 2], [8, 6, 2], [5, 9, 1]] and .fits[1].data == "npy"
         and (.fits[1].system | endswith("mixed/sysA")) and (.fits[1] | has("seed") | not) and .fits[0].seed != null'
    check "every fit bit-identical and within the parity bound" "$V" \
        'all(.fits[]; .bit_identical and .oracle_ratio <= 1) and .parity.pass and .parity.sampled == 3'
fi
printf '%s' '[{"name": "A", "system": "sysA", "n": 8}]' >"$WORK/mixed/extra.json"
expect_exit 2 "a data fit with generator fields too" -- "${MX[@]}" --variants "$WORK/mixed/extra.json" "${FAST[@]}" --out "$WORK/nope.json"
printf '%s' '[{"name": "A", "system": "no-such-dir"}]' >"$WORK/mixed/missing.json"
expect_exit 2 "a data fit whose folder does not exist" -- "${MX[@]}" --variants "$WORK/mixed/missing.json" "${FAST[@]}" --out "$WORK/nope.json"
printf '%s' '[{"name": "A", "system": ""}]' >"$WORK/mixed/empty.json"
expect_exit 2 "a data fit with an empty system path" -- "${MX[@]}" --variants "$WORK/mixed/empty.json" "${FAST[@]}" --out "$WORK/nope.json"

# the speedup gate can fail: a threshold no run meets
V="$WORK/slow.json"
if expect_exit 1 "MX-002 above any speedup: exit 1" -- "${MX[@]}" --shape tiny-variants --backend host --reps 2 --warmup 0 --calibration "$CAL" --gate MX-002=1000 --out "$V"; then
    check "only MX-002 fails (of the gates that apply)" "$V" '[.gates[] | select(.applies and (.pass | not)) | .id] == ["MX-002"] and .verdict == "fail"'
fi

if expect_exit 0 "multiplex --help" -- "${MX[@]}" --help; then
    if grep -q "MX-003" "$OUTS" && grep -q -- "--concurrency" "$OUTS" && grep -q -- "--variants" "$OUTS" && grep -q -- "--oracle-sample" "$OUTS"; then
        ok "--help names the gates and the multiplex options"
    else
        bad "--help names the gates and the multiplex options" "$(head -c 300 "$OUTS")"
    fi
fi

# no device: --backend cuda exits 3 with a verdict (devices hidden, so this
# holds on a GPU node too)
V="$WORK/nodev.json"
if expect_exit 3 "--backend cuda without a device: exit 3" -- env CUDA_VISIBLE_DEVICES= "${MX[@]}" --shape tiny-variants --backend cuda --calibration "$CAL" --out "$V"; then
    valid "exit-3 verdict is schema-valid" "$V"
    check "exit-3 verdict: not engaged" "$V" '.engaged == false and .exit_code == 3'
fi

# ---- bad input: exit 2, one line, before any work ---------------------------
OUT="$WORK/never.json"
printf '[{"name": "a", "n": 12, "p": 16, "d": 2, "basis_cols"' >"$WORK/truncated.json"
expect_exit 2 "corrupted --variants file (truncated JSON)" -- "${MX[@]}" --variants "$WORK/truncated.json" "${FAST[@]}" --out "$OUT" &&
    says "names the file and malformed JSON" "truncated.json: malformed JSON"
head -c 300 /dev/urandom >"$WORK/random.json"
expect_exit 2 "corrupted --variants file (random bytes)" -- "${MX[@]}" --variants "$WORK/random.json" "${FAST[@]}" --out "$OUT"
printf '[{"name": "a", "n": 12, "p": 16, "d": 0, "basis_cols": 3, "seed": 1}]' >"$WORK/bad-d.json"
expect_exit 2 "invalid --variants file (d = 0)" -- "${MX[@]}" --variants "$WORK/bad-d.json" "${FAST[@]}" --out "$OUT" &&
    says "names the fit and field" 'fit 0: "d" = 0 is out of range'
printf '{"name": "a"}' >"$WORK/object.json"
expect_exit 2 "--variants file that is not an array" -- "${MX[@]}" --variants "$WORK/object.json" "${FAST[@]}" --out "$OUT"
printf '[{"name": "a", "n": 12, "p": 16, "d": 2, "basis_cols": 3, "seed": 1, "colour": 2}]' >"$WORK/extra.json"
expect_exit 2 "--variants fit with an unknown field" -- "${MX[@]}" --variants "$WORK/extra.json" "${FAST[@]}" --out "$OUT"
expect_exit 2 "missing --variants file" -- "${MX[@]}" --variants "$WORK/absent.json" "${FAST[@]}" --out "$OUT"

# --concurrency that host memory cannot hold: four fits, each system about an
# eighth of this machine's memory (H_ββ is p x p); one in flight fits, four do not.
mem_bytes=$(awk '/^MemTotal:/ {print $2 * 1024}' /proc/meminfo)
p_big=$(awk -v m="$mem_bytes" 'BEGIN {printf "%d", sqrt(m / 64)}')
{
    printf '['
    for i in 0 1 2 3; do
        [ "$i" -gt 0 ] && printf ','
        printf '{"name": "big%d", "n": 1, "p": %d, "d": 1, "basis_cols": 1, "seed": %d}' "$i" "$p_big" "$i"
    done
    printf ']'
} >"$WORK/big.json"
expect_exit 2 "--concurrency 4 too large for host memory" -- "${MX[@]}" --variants "$WORK/big.json" --backend host --concurrency 4 --oracle-sample 1 --calibration "$CAL" --out "$OUT" &&
    says "names --concurrency and host memory" "--concurrency 4: 4 fits in flight need"
says "the refusal says host memory" "of host memory"

expect_exit 2 "--oracle-sample 0" -- "${MX[@]}" --shape tiny-variants --oracle-sample 0 "${FAST[@]}" --out "$OUT"
expect_exit 2 "--concurrency 0" -- "${MX[@]}" --shape tiny-variants --concurrency 0 "${FAST[@]}" --out "$OUT"
expect_exit 2 "--concurrency not a number" -- "${MX[@]}" --shape tiny-variants --concurrency many "${FAST[@]}" --out "$OUT"
expect_exit 2 "--concurrency and --threads together" -- "${MX[@]}" --shape tiny-variants --concurrency 2 --threads 2 "${FAST[@]}" --out "$OUT"
expect_exit 2 "unknown option" -- "${MX[@]}" --shape tiny-variants --frobnicate "${FAST[@]}" --out "$OUT"
expect_exit 2 "another workload's option (--outers)" -- "${MX[@]}" --shape tiny-variants --outers 3 "${FAST[@]}" --out "$OUT"
expect_exit 2 "unknown gate" -- "${MX[@]}" --shape tiny-variants "${FAST[@]}" --gate MX-009=1 --out "$OUT"
expect_exit 2 "--shape and --variants together" -- "${MX[@]}" --shape tiny-variants --variants "$WORK/my-fits.json" "${FAST[@]}" --out "$OUT"
expect_exit 2 "neither --shape nor --variants" -- "${MX[@]}" "${FAST[@]}" --out "$OUT"
expect_exit 2 "not a multiplex shape" -- "${MX[@]}" --shape tiny-arrow "${FAST[@]}" --out "$OUT"
printf '{"name": "x", "workloads": ["multiplex"], "matrix": "colour-arm"}' >"$WORK/bad-matrix.json"
expect_exit 2 "unknown matrix in a shape" -- "${MX[@]}" --shape "$WORK/bad-matrix.json" "${FAST[@]}" --out "$OUT" &&
    says "names the matrix" 'unknown multiplex matrix "colour-arm"'
printf '{"name": "x", "workloads": ["multiplex"], "matrix": "battery", "d": 3}' >"$WORK/with-d.json"
expect_exit 2 "a named matrix's shape that sets d" -- "${MX[@]}" --shape "$WORK/with-d.json" "${FAST[@]}" --out "$OUT"
expect_exit 2 "--backend host with --require-device" -- "${MX[@]}" --shape tiny-variants --backend host --require-device --out "$OUT"

sb_test_summary
