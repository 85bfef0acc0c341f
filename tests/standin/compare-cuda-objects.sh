#!/usr/bin/env bash
# Are two builds' CUDA objects the same code? nvcc names its temporaries
# (tmpxft_*) into symbol names, so two builds of one source are not
# byte-identical objects. This compares, per object: the host code
# (objdump -d -r --no-show-raw-insn: instructions and relocations, the
# temporaries' names masked) and the contents of every section that has
# bytes, the device code's .nv_fatbin (the cubins: SASS for each target)
# included. cuobjdump is not installed here; the fatbin bytes are stricter.
# usage: tests/standin/compare-cuda-objects.sh DIR_A DIR_B   (the *.o of build/cuda/cuda)
set -u
a=$1 b=$2 differ=0
mask() { sed -E 's/tmpxft_[0-9a-f]+_[0-9a-f]+(-[0-9]+)?_?/tmpxft_X/g; s/__nv_module_id[A-Za-z0-9_]*/__nv_module_id_X/g'; }
host() { objdump -d -r --no-show-raw-insn "$1" | tail -n +3 | mask; }
sections() { readelf -SW "$1" | sed -n 's/^ *\[ *[0-9]*\] \([^ ]*\).*/\1/p'; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in "$a"/*.o; do
    o=$(basename "$f")
    h=same s=same fat="no .nv_fatbin"
    cmp -s <(host "$f") <(host "$b/$o") || h=DIFFERENT
    for sec in $(sections "$f"); do
        objcopy -O binary --only-section="$sec" "$f" "$tmp/a" 2>/dev/null
        objcopy -O binary --only-section="$sec" "$b/$o" "$tmp/b" 2>/dev/null
        cmp -s "$tmp/a" "$tmp/b" || s="DIFFERENT ($sec)"
        [ "$sec" = .nv_fatbin ] && fat=".nv_fatbin $(stat -c %s "$tmp/a") bytes"
    done
    printf '%-18s host code %-9s section contents %-9s (%s)\n' "$o" "$h" "$s" "$fat"
    [ "$h$s" = samesame ] || differ=1
done
[ "$differ" = 0 ] && echo "all objects: same code" || echo "SOME OBJECTS DIFFER"
exit $differ
