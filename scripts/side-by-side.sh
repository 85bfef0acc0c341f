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

printf '%-34s %-7s %-4s %-22s %-10s %-28s %s\n' verdict engaged exit measured parity target "PyTorch peer"
shopt -s nullglob
for f in "$dir"/rs-*.json; do
    name=$(basename "$f" .json)
    shape=$(jq -r '.shape.name // empty' "$f" 2>/dev/null)
    jq -r --arg n "$name" '
        [$n, (.engaged | tostring), (.exit_code | tostring),
         (if .throughput.measured_rows_per_s then
              ((.throughput.measured_rows_per_s | floor | tostring) + " rows/s"
               + (if .engaged then "" else " (host)" end))
          else "-" end),
         ((.parity.rel_err // "-") | tostring),
         ((.target.value // "-" | tostring) + " " + (.target.status // ""))]
        | @tsv' "$f" 2>/dev/null | {
        IFS=$'\t' read -r n e x m p t || exit 0
        p=$(sci "$p")
        pr=$(peer_of ".resident_solve_torch[\"$shape\"].rows_per_s_resident")
        [ "$pr" = "-" ] || pr="$(printf '%.0f' "$pr") rows/s"
        printf '%-34s %-7s %-4s %-22s %-10s %-28s %s\n' "$n" "$e" "$x" "$m" "$p" "$t" "$pr"
    }
done
for f in "$dir"/il-*.json "$dir"/os-*.json; do
    name=$(basename "$f" .json)
    shape=$(jq -r '.shape.name // empty' "$f" 2>/dev/null)
    jq -r --arg n "$name" '
        [$n, (.engaged | tostring), (.exit_code | tostring),
         (if .timing.median_s then
              ((.timing.median_s * 1e3 * 10000 | round / 10000 | tostring) + " ms/solve"
               + (if .engaged then "" else " (host)" end))
          else "-" end),
         ((.parity.rel_err // "-") | tostring),
         ((.target.value // "-" | tostring) + " " + (.target.status // ""))]
        | @tsv' "$f" 2>/dev/null | {
        IFS=$'\t' read -r n e x m p t || exit 0
        p=$(sci "$p")
        pr=$(peer_of ".arrow_torch[\"$shape\"].s_resident_gradient_solve")
        [ "$pr" = "-" ] || pr="$(awk -v s="$pr" 'BEGIN { printf "%.4f ms/solve", s * 1e3 }')"
        printf '%-34s %-7s %-4s %-22s %-10s %-28s %s\n' "$n" "$e" "$x" "$m" "$p" "$t" "$pr"
    }
done
