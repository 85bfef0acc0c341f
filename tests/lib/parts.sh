#!/usr/bin/env bash
# tests/lib/parts.sh "MAKE" PART...: run each part (a make target) in order, print
# its name and elapsed seconds, then the total. Every part runs even after one
# fails (a CI log then shows all failures at once); exits 1 if any failed.
set -u
make_cmd=$1
shift
start=$(date +%s)
failed=()
summary=()
for part in "$@"; do
    printf '\n==== %s\n' "$part"
    t0=$(date +%s)
    if $make_cmd "$part"; then status=ok; else status=FAILED; failed+=("$part"); fi
    dt=$(($(date +%s) - t0))
    printf '==== %s: %s in %d s\n' "$part" "$status" "$dt"
    summary+=("$(printf '  %-18s %-6s %5d s' "$part" "$status" "$dt")")
done
printf '\n==== make test: %d part(s)\n' "$#"
printf '%s\n' "${summary[@]}"
printf '  %-18s %-6s %5d s\n' total "$([ ${#failed[@]} -eq 0 ] && echo ok || echo FAILED)" $(($(date +%s) - start))
[ ${#failed[@]} -eq 0 ]
