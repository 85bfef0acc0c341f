#!/usr/bin/env bash
# Line coverage of the host code of cuda/*.cu by a coverage build of the
# stand-in (TEST-ONLY; tests/standin/README.md, "Coverage"): per file and in
# total, the lines gcov reports for each .cu itself (its kernel headers and
# the simulation are not counted). The build and the run come first:
#   find build/standin-cov -name '*.gcda' -delete
#   make STANDIN_BUILD=build/standin-cov STANDIN_SANFLAGS=--coverage STANDIN_OPT="-O0 -g" test-standin
#   tests/standin/coverage.sh build/standin-cov [--uncovered]
# --uncovered also lists each file's lines never run.
# usage: tests/standin/coverage.sh STANDIN_BUILD_DIR [--uncovered]
set -eu
cd "$(dirname "$0")/../.."
obj=$1/obj/cuda
list=${2:-}
[ -d "$obj" ] || { echo "$0: no $obj (build with --coverage first)" >&2; exit 2; }
total=0 hit=0
for f in cuda/*.cu; do
    # gcov -t: the annotated source on stdout, every source the object touched; keep f's part
    ann=$(gcov -t -o "$obj" "$f" 2>/dev/null | awk -v want="$f" '/^ *-: *0:Source:/ { on = ($0 ~ ("Source:" want "$")) } on')
    # executable lines, and those never run (a line run by one template instantiation is run)
    read -r n miss < <(printf '%s\n' "$ann" | awk -F: '
        $1 ~ /^ *-$/ || $2 + 0 <= 0 { next }
        { line = $2 + 0; seen[line] = 1; if ($1 !~ /#####/) run[line] = 1 }
        END { for (l in seen) { n++; if (!(l in run)) m++ } print n, m + 0 }')
    printf '%-20s %5d / %5d  %6.2f %%\n' "${f#cuda/}" $((n - miss)) "$n" \
        "$(awk -v a=$((n - miss)) -v b="$n" 'BEGIN { print b ? 100 * a / b : 100 }')"
    if [ "$list" = --uncovered ] && [ "$miss" -gt 0 ]; then
        printf '%s\n' "$ann" | awk -F: '
            $1 ~ /^ *-$/ || $2 + 0 <= 0 { next }
            { line = $2 + 0; seen[line] = 1; if ($1 !~ /#####/) run[line] = 1 }
            END { for (l in seen) if (!(l in run)) print l }' | sort -n | paste -sd' ' | fold -s -w 96 | sed 's/^/    not run: /'
    fi
    total=$((total + n)) hit=$((hit + n - miss))
done
printf '%-20s %5d / %5d  %6.2f %%\n' total "$hit" "$total" "$(awk -v a="$hit" -v b="$total" 'BEGIN { print 100 * a / b }')"
