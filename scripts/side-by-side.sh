#!/usr/bin/env bash
# One results folder's resident-solve and inner-loop verdicts beside the PyTorch peer's
# numbers from the same GPU call (peer_torch.json there) and the targets: the table a
# GPU session quotes from. Reads only; prints one line per verdict.
#
#   scripts/side-by-side.sh DIR      (DIR: results/<gpu>/ or gpu-results.sh's r/)
#
# Columns: the verdict's name, whether the device was engaged, its exit code, its
# throughput (rows/s for resident-solve, ms per resident solve for inner-loop), the
# parity it reached, the target with its status, then the peer's figure for the same
# shape. A figure from a run that was not engaged is a host figure and is marked so.
set -uo pipefail
dir=${1:?usage: scripts/side-by-side.sh RESULTS_DIR}
[ -d "$dir" ] || { echo "side-by-side: no such folder: $dir" >&2; exit 2; }
command -v jq >/dev/null 2>&1 || { echo "side-by-side: needs jq" >&2; exit 2; }
peer=$dir/peer_torch.json
jq -e 'type == "object"' "$peer" >/dev/null 2>&1 || peer= # missing, empty or not the peer's

# peer FILTER: the peer's figure, or "-" without one
peer_of() {
    local v=
    [ -n "$peer" ] && v=$(jq -r "$1 // \"-\"" "$peer" 2>/dev/null)
    echo "${v:--}"
}

# sci X: a number as %.2e, anything else as it is
sci() { if [[ $1 =~ ^[-+]?[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?$ ]]; then printf '%.2e' "$1"; else printf '%s' "$1"; fi; }

# line FILE FIGURE UNIT PEER_KEY SCALE FORMAT PER: one verdict's line. FIGURE is the jq
# path of the verdict's figure, shown times SCALE, rounded to 1/PER, with UNIT; the peer's
# figure is the value of PEER_KEY for the verdict's shape, printed with awk's FORMAT after
# the same SCALE.
line() {
    local f=$1 figure=$2 unit=$3 key=$4 scale=$5 fmt=$6 per=$7 shape e x m p t pr
    shape=$(jq -r '.shape.name // empty' "$f" 2>/dev/null)
    IFS=$'\t' read -r e x m p t < <(jq -r --arg unit "$unit" --argjson k "$scale" --argjson r "$per" "
        [(.engaged | tostring), (.exit_code | tostring),
         (if $figure then
              (($figure * \$k * \$r | round / \$r | tostring) + \" \" + \$unit
               + (if .engaged then \"\" else \" (host)\" end))
          else \"-\" end),
         ((.parity.rel_err // \"-\") | tostring),
         ((.target.value // \"-\" | tostring) + \" \" + (.target.status // \"\"))] | @tsv" "$f" 2>/dev/null) ||
        return 0
    pr=$(peer_of "${key/SHAPE/$shape}")
    [ "$pr" = "-" ] || pr=$(awk -v s="$pr" -v k="$scale" -v f="$fmt" 'BEGIN { printf f, s * k }')
    printf '%-34s %-7s %-4s %-22s %-10s %-28s %s\n' "$(basename "$f" .json)" "$e" "$x" "$m" "$(sci "$p")" "$t" "$pr"
}

printf '%-34s %-7s %-4s %-22s %-10s %-28s %s\n' verdict engaged exit measured parity target "PyTorch peer"
shopt -s nullglob
for f in "$dir"/rs-*.json; do
    line "$f" .throughput.measured_rows_per_s rows/s '.resident_solve_torch["SHAPE"].rows_per_s_resident' 1 \
        '%.0f rows/s' 1
done
for f in "$dir"/il-*.json "$dir"/os-*.json; do
    line "$f" .timing.median_s ms/solve '.arrow_torch["SHAPE"].s_resident_gradient_solve' 1e3 '%.4f ms/solve' \
        1e4
done
