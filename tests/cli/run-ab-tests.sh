#!/usr/bin/env bash
# saebench ab (docs/compare.md "ab"): interleaved A/B runs and the paired
# gate, through the CLI on the host (make test-ab; part of make test).
# usage: tests/cli/run-ab-tests.sh BINARY
#
# Both directions: the same binary on both sides is not a regression; a new
# side several times slower (the same solve by the primal form where the dual
# is cheaper) is one, exit 1. Then a child's own gate failure, a
# crash, and bad input (exit 2, one line, before any run, nothing created).
# Needs jq and /usr/bin/python3 (Debian packages).
set -u

# shellcheck source=tests/lib/battery.sh
. "$(dirname "$0")/../lib/battery.sh"
sb_battery_bin "$@"
sb_battery_setup ab numpy
AB=("$BIN" ab)
TINY=(resident-solve --shape tiny-primal --backend host --reps 6 --warmup 1 --calibration "$CAL")

echo "== saebench ab tests: $BIN"

# ---- the same binary both sides: no regression --------------------------------
D="$WORK/same"
if expect_exit 0 "ab, one binary both sides, the default 6 rounds: exit 0" -- "${AB[@]}" --base "$BIN" --new "$BIN" --out-dir "$D" --quiet -- "${TINY[@]}"; then
    check "ab.json: schema, 6 rounds in ABBA order, not a regression" "$D/ab.json" \
        '.schema == "saebench.ab/1" and (.rounds | length) == 6 and .label != "regression" and .exit_code == 0
         and ([.rounds[].order] == ["base,new", "new,base", "base,new", "new,base", "base,new", "new,base"])
         and .statistic.df == 5 and (.statistic.p | . >= 0 and . <= 1)'
    n=$(find "$D" -name 'r*-*.json' | wc -l)
    [ "$n" -eq 12 ] && ok "every run's verdict kept (12)" || bad "every run's verdict kept (12)" "found $n"
    valid "a round's verdict is schema-valid" "$D/r3-new.json"
    check "the rounds' medians are the verdicts' own" "$D/ab.json" \
        "(.rounds[3].new_median_s == $(jq .timing.median_s "$D/r3-new.json"))"
    if "$BIN" report "$D" >"$WORK/report.txt" 2>&1; then
        ok "report reads the ab folder (ab.json is not a verdict, skipped)"
    else
        bad "report reads the ab folder" "$(head -c 300 "$WORK/report.txt")"
    fi
fi

# ---- a real slowdown: the same solve done the slow way -------------------------
# X 500 x 1000 (n < p): the dual form factors a 500 x 500 system, the primal a
# 1000 x 1000 one (measured 8-10x slower here). Each side is a wrapper adding
# its --method (the arguments name none). One BLAS thread against another is no
# test here: on this 2-vCPU VM one thread is about as fast as two.
"$PY" - "$WORK" <<'EOF'
import sys
import numpy as np
d = sys.argv[1]
rng = np.random.default_rng(5)
np.save(d + "/ab_X.npy", rng.standard_normal((500, 1000)))
np.save(d + "/ab_w.npy", rng.uniform(0.5, 2, 500))
np.save(d + "/ab_rhs.npy", rng.standard_normal(1000))
EOF
printf '#!/bin/sh\nexec "%s" "$@" --method primal\n' "$BIN" >"$WORK/primal"
printf '#!/bin/sh\nexec "%s" "$@" --method dual\n' "$BIN" >"$WORK/dual"
chmod +x "$WORK/primal" "$WORK/dual"
MID=(resident-solve --backend host --x "$WORK/ab_X.npy" --w "$WORK/ab_w.npy" --rhs "$WORK/ab_rhs.npy" --reps 6 --warmup 1 --calibration "$CAL")
D="$WORK/slow"
if expect_exit 1 "ab, new side solving the slow way (primal, several times slower here): regression, exit 1" -- "${AB[@]}" --base "$WORK/dual" --new "$WORK/primal" --rounds 4 --out-dir "$D" --quiet -- "${MID[@]}"; then
    check "ab.json: regression, slower beyond the threshold, p < alpha, the reason says so" "$D/ab.json" \
        '.label == "regression" and .statistic.change > 0.5 and .statistic.p < .statistic.alpha
         and .verdict == "fail" and (.reason | test("slower"))'
fi
D="$WORK/fast"
if expect_exit 0 "ab, the other way round: an improvement passes" -- "${AB[@]}" --base "$WORK/primal" --new "$WORK/dual" --rounds 4 --out-dir "$D" --quiet -- "${MID[@]}"; then
    check "ab.json: improvement" "$D/ab.json" '.label == "improvement" and .statistic.change < -0.3'
fi

# ---- a base from before --dry-run: checked by its first run ----------------------
OLD="$WORK/old-saebench"
printf '#!/bin/sh\ncase "$*" in *--dry-run*) echo "saebench: resident-solve: unknown option '"'"'--dry-run'"'"' (see '"'"'saebench resident-solve --help'"'"')" >&2; exit 2 ;; esac\nexec "%s" "$@"\n' "$BIN" >"$OLD"
chmod +x "$OLD"
D="$WORK/old"
if expect_exit 0 "ab against a base without --dry-run: runs, says so" -- "${AB[@]}" --base "$OLD" --new "$BIN" --rounds 2 --out-dir "$D" -- "${TINY[@]}"; then
    says "  says the base has no --dry-run" "has no --dry-run (an older saebench)"
    check "  both sides ran" "$D/ab.json" '(.rounds | length) == 2'
fi

# ---- a run's own gate fails; a crash -------------------------------------------
D="$WORK/gate"
if expect_exit 1 "ab: a run's own gate fails: exit 1" -- "${AB[@]}" --base "$BIN" --new "$BIN" --rounds 2 --out-dir "$D" --quiet -- "${TINY[@]}" --gate RS-001=1e-30; then
    check "ab.json says a run's gates failed" "$D/ab.json" '.exit_code == 1 and (.reason | test("gates failed")) and .rounds[0].base_exit == 1'
fi
CRASH="$WORK/crash"
printf '#!/bin/sh\ncase "$*" in *--dry-run*) exec "%s" "$@" ;; esac\nkill -SEGV $$\n' "$BIN" >"$CRASH"
chmod +x "$CRASH"
D="$WORK/crashed"
if expect_exit 4 "ab: the new side crashes: exit 4, summary still written" -- "${AB[@]}" --base "$BIN" --new "$CRASH" --rounds 2 --out-dir "$D" --quiet -- "${TINY[@]}"; then
    check "ab.json names the signal and the round" "$D/ab.json" '.exit_code == 4 and (.reason | test("round 0, new: killed by signal 11"))'
fi

# ---- bad input: exit 2, one line, nothing created ------------------------------
N="$WORK/never"
expect_exit 2 "ab: no --base" -- "${AB[@]}" --new "$BIN" --out-dir "$N" -- "${TINY[@]}"
expect_exit 2 "ab: --base not executable" -- "${AB[@]}" --base "$CAL" --new "$BIN" --out-dir "$N" -- "${TINY[@]}"
expect_exit 2 "ab: no workload after --" -- "${AB[@]}" --base "$BIN" --new "$BIN" --out-dir "$N" --
expect_exit 2 "ab: --rounds 1" -- "${AB[@]}" --base "$BIN" --new "$BIN" --rounds 1 --out-dir "$N" -- "${TINY[@]}"
expect_exit 2 "ab: --threshold 0" -- "${AB[@]}" --base "$BIN" --new "$BIN" --threshold 0 --out-dir "$N" -- "${TINY[@]}"
expect_exit 2 "ab: --out in the workload's arguments" -- "${AB[@]}" --base "$BIN" --new "$BIN" --out-dir "$N" -- "${TINY[@]}" --out "$WORK/x.json"
expect_exit 2 "ab: a dump option (--dump-rows=) in the workload's arguments" -- "${AB[@]}" --base "$BIN" --new "$BIN" --out-dir "$N" -- encode --shape tiny-encode --dump-rows="$WORK/rows.npy"
expect_exit 2 "ab: an unknown shape, refused by the dry run" -- "${AB[@]}" --base "$BIN" --new "$BIN" --out-dir "$N" -- resident-solve --shape no-such-shape
says "the dry run's reason is passed on" "unknown shape"
expect_exit 2 "ab: an unknown option for the workload" -- "${AB[@]}" --base "$BIN" --new "$BIN" --out-dir "$N" -- resident-solve --shape tiny-primal --bogus
[ ! -e "$N" ] && ok "no --out-dir created by a refused ab" || bad "no --out-dir created by a refused ab"
mkdir "$WORK/full" && echo keep >"$WORK/full/mine.txt"
expect_exit 2 "ab: --out-dir not empty" -- "${AB[@]}" --base "$BIN" --new "$BIN" --out-dir "$WORK/full" -- "${TINY[@]}"
[ "$(cat "$WORK/full/mine.txt")" = keep ] && ok "  the folder's file untouched" || bad "  the folder's file untouched"

sb_test_summary
