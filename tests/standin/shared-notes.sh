#!/usr/bin/env bash
# A kernel header as the stand-in build compiles it (TEST-ONLY; README.md,
# "Static shared memory"): the same text with SIM_SHARED_NOTE(name); after
# each block-scope `__shared__ T name[...];` declaration, on the same line, so
# the launch layer learns each kernel's static shared memory from the
# declarations its threads pass (tests/standin/include/standin_launch.h), and
# a #line so that every message and __FILE__ still name the source. A
# __shared__ declaration the pattern cannot rewrite fails the build: the
# accounting is never silently short.
# usage: tests/standin/shared-notes.sh SOURCE.cuh OUT.cuh
set -eu
src=$1 out=$2
mkdir -p "$(dirname "$out")"
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
sed -E 's/^([[:space:]]+__shared__[[:space:]][^;]*[^A-Za-z0-9_;])([A-Za-z_][A-Za-z0-9_]*)([[:space:]]*(\[[^;]*\])?[[:space:]]*;)/\1\2\3 SIM_SHARED_NOTE(\2);/' \
    "$src" >"$tmp"
# every declaration line (not a comment's mention, not extern dynamic shared memory) rewritten,
# each declaring one name (a comma outside [...] and <...> would declare more than the one noted)
missed=$(grep -nE '^[[:space:]]*__shared__[[:space:]]' "$tmp" | while IFS= read -r l; do
    one=$(printf '%s\n' "$l" | sed -E 's/\[[^]]*\]//g; s/<[^>]*>//g')
    case $l in *'SIM_SHARED_NOTE('*) ;; *) printf '    line %s\n' "$l"; continue ;; esac
    if printf '%s\n' "$one" | grep -qE '^[^;]*,[^;]*;'; then printf '    line %s\n' "$l"; fi
done)
if [ -n "$missed" ]; then
    echo "$src: cannot register this __shared__ declaration for the stand-in's static shared-memory count" \
        "(one block-scope 'T name[...];' per line is understood):" >&2
    echo "$missed" >&2
    exit 1
fi
{
    printf '#line 1 "%s"\n' "$src"
    cat "$tmp"
} >"$out"
