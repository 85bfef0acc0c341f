# The CPU stand-in's substitutes for the canonical shapes (sourced by bash; TEST-ONLY):
# the GPU battery's dry run (scripts/gpu-results.sh --standin) and the GPU test battery's
# (tests/gpu/run-gpu-tests.sh with GPU_TESTS_STANDIN=1) run every command they would run on
# a GPU, with each canonical shape swapped for a small one. The CPU stand-in simulates every
# GPU thread, so a substitute is small: resident-solve N = 130, 140, 200, 210 (two or three
# 64-row blocks and a partial last one), arrow frames of 60 and 20 row blocks, encode at the
# 4096 rows the device path takes at least, multiplex with every fit of its matrix at
# 16 x 24. Each run takes a few seconds on the stand-in.

# Each canonical shape and the jq edit that makes its substitute standin-NAME.json from
# shapes/NAME.json (after SB_STANDIN_EDIT_ALL).
SB_STANDIN_EDIT_ALL='.reps = 2 | .warmup = 1'
SB_STANDIN_SHAPES=(
    "sae-2k-2048          .n = 130 | .p = 140"
    "sae-4k-4096          .n = 200 | .p = 210"
    "sae-8k-1024          .n = 300 | .p = 130"
    "qwen                 .n = 60 | .p = 100"
    "color-arm            .n = 20 | .p = 200"
    "encode-device-small  ."
    "encode-qwen          .n = 4096 | .p = 128 | .atoms = 8"
    "encode-color         .n = 4096 | .p = 128 | .atoms = 4"
    "color-arm-variants   .n = 16 | .p = 24 | .reps = 1 | .warmup = 0"
    "battery              .n = 16 | .p = 24 | .reps = 1 | .warmup = 0"
)

# sb_standin_shape ROOT DIR NAME: write NAME's substitute as DIR/standin-NAME.json (once)
# from ROOT/shapes/NAME.json and print its path; 1, with a line on stderr, when NAME has none.
sb_standin_shape() {
    local root=$1 dir=$2 want=$3 row name edit=""
    for row in "${SB_STANDIN_SHAPES[@]}"; do
        read -r name row <<<"$row"
        [ "$name" = "$want" ] && edit=$row
    done
    [ -n "$edit" ] || { echo "no stand-in substitute for $want in SB_STANDIN_SHAPES (tests/lib/standin-shapes.sh)" >&2; return 1; }
    if [ ! -s "$dir/standin-$want.json" ]; then
        jq --arg n "$want" "$SB_STANDIN_EDIT_ALL | $edit"' | .name = "standin-" + $n
            | .description = "dry-run substitute for " + $n + " (CPU stand-in only)"' \
            "$root/shapes/$want.json" >"$dir/standin-$want.json" || return 1
    fi
    echo "$dir/standin-$want.json"
}

# sb_fixed_calibration FILE LABEL: ceilings given up front, named LABEL (host cpu and device
# name), for runs that must not measure the machine: a run without --calibration measures
# its backend's at its start, and the stand-in's device calibration is an 8192 DGEMM through
# the CPU, minutes (the dry runs; tests/lib/battery.sh's CAL).
sb_fixed_calibration() {
    jq -n --arg l "$2" '{
      schema: "saebench.calibration/1",
      host: {cpu: $l, ceilings: {fp64_flops: 5e10, mem_bw: 2e10, dgemm_n: 2048, copy_bytes: 268435456}},
      device: {name: $l, ceilings: {fp64_flops: 5e13, mem_bw: 3e12, dgemm_n: 8192, copy_bytes: 1073741824}}
    }' >"$1"
}
