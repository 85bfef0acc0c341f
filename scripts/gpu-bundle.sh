#!/usr/bin/env bash
# Build an offline bundle for an air-gapped GPU node (Ubuntu 24.04 x86_64,
# nvcc/gcc/make present, no network, no root; the Debian libraries saebench
# links against may be missing there).
#
#   scripts/gpu-bundle.sh [-o DIR]              full bundle (default DIR: bundle/)
#   scripts/gpu-bundle.sh --debs-only [-o DIR]  only the .deb files, directly in DIR
#
# Full bundle layout:
#   DIR/debs/*.deb           the packages listed below (apt-get download)
#   DIR/debs/SHA256SUMS      sha256sum of the debs (checked by gpu-node-setup.sh)
#   DIR/debs/PACKAGES.txt    package, version, size of each deb
#   DIR/src.tar.gz           the working tree (tracked + untracked, not ignored)
#                            under saebench/
#   DIR/MANIFEST             sha256sum-format list of every file above
#                            (check with: cd DIR && sha256sum -c MANIFEST)
#
# On the node:  tar xzf src.tar.gz && cd saebench &&
#               scripts/gpu-node-setup.sh ../debs      (or bundle/debs)
#
# Files of yours in DIR are never deleted or overwritten: DIR/.gpu-bundle-owned lists
# the files this script wrote there (debs, PACKAGES.txt, SHA256SUMS, src.tar.gz,
# MANIFEST), and only those are replaced or, for an old version of a package, removed.
# The debs are downloaded into a fresh folder of its own inside DIR and moved into place
# once their SHA256 is checked. A file of yours where the bundle needs that name, or
# another version of a bundled package that this script did not write (gpu-node-setup.sh
# unpacks every .deb of the folder), is refused before anything changes: move it away.
set -euo pipefail

# ---------------------------------------------------------------- package list
# The libraries saebench builds against (Debian 12 bookworm, amd64).
REQUESTED=(
    libopenblas0-pthread libopenblas-pthread-dev libopenblas-dev libopenblas0
    liblapacke liblapacke-dev liblapack3 libblas3 libgfortran5
    libcjson1 libcjson-dev libcmocka0 libcmocka-dev
)
# Runtime dependencies of the above that a base Ubuntu 24.04 may lack:
#   libtmglib3   - DT_NEEDED by liblapacke.so.3
#   libquadmath0 - DT_NEEDED by libgfortran.so.5 (present wherever gcc is,
#                  bundled anyway: it is 145 kB)
EXTRA_RUNTIME=(libtmglib3 libquadmath0)
FINAL=("${REQUESTED[@]}" "${EXTRA_RUNTIME[@]}")

# Dependencies in the apt closure that are deliberately NOT bundled.
#  base: present on every Ubuntu 24.04 (newer versions than Debian 12's)
EXCLUDE_BASE='^(libc6|libgcc-s1|libstdc\+\+6|gcc-[0-9]+-base|zlib1g|libzstd1|liblzma5|libbz2-1\.0|libcrypt1|libselinux1|libpcre2-8-0|debconf|dpkg|perl-base)$'
#  alternatives not chosen: other BLAS/LAPACK flavours that only appear as the
#  "|" alternatives of libopenblas0 / liblapacke / liblapacke-dev, plus
#  libtmglib-dev (needed only for static linking of lapacke).
EXCLUDE_ALT='^(libatlas.*|libblis.*|libopenblas0-(openmp|serial)|libopenblas-(openmp|serial)-dev|libgomp1|libblas-dev|liblapack-dev|libtmglib-dev)$'

# ---------------------------------------------------------------- arguments
die() { printf 'gpu-bundle: %s\n' "$*" >&2; exit 1; }
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=""
debs_only=0
while [ $# -gt 0 ]; do
    case "$1" in
        -o) [ $# -ge 2 ] || die "-o needs a directory"; out=$2; shift 2 ;;
        -o*) out=${1#-o}; shift ;;
        --debs-only) debs_only=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown argument '$1' (usage: $0 [-o DIR] [--debs-only])" ;;
    esac
done
[ -n "$out" ] || out="$ROOT/bundle"

for tool in apt-cache apt-get dpkg sha256sum tar gzip; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found (run this on the Debian 12 build machine)"
done
arch=$(dpkg --print-architecture)
[ "$arch" = amd64 ] || die "this machine is $arch; the GPU node needs amd64 debs"

mkdir -p "$out"
out=$(cd "$out" && pwd)
if [ "$debs_only" -eq 1 ]; then debdir=$out; else debdir=$out/debs; fi
mkdir -p "$debdir"

# ---------------------------------------------------------------- what is ours
# DIR/.gpu-bundle-owned: the names of the files this script wrote in DIR.
OWNED=.gpu-bundle-owned
owned() { [ -f "$1/$OWNED" ] && grep -qxF -- "$2" "$1/$OWNED"; }
# check_ours DIR NAME: NAME may be (re)written: absent, or written by this script
check_ours() {
    if [ -e "$1/$2" ] || [ -L "$1/$2" ]; then
        owned "$1" "$2" || die "$1/$2 exists and was not written by gpu-bundle.sh: move it away (nothing changed)"
    fi
}
# put FILE: stdin into FILE, through a temp file of our own beside it (mktemp), renamed
# over FILE when complete (with the umask's mode, as a plain > would give it)
put() {
    local t
    t=$(mktemp "$(dirname -- "$1")/.$(basename -- "$1").XXXXXX") || return 1
    if cat >"$t" && chmod "$(printf '%o' $((0666 & ~0$(umask))))" "$t" && mv -f -- "$t" "$1"; then return 0; fi
    rm -f -- "$t"   # our temp file
    return 1
}
# record DIR +NAME|-NAME...: add names to, or drop them from, DIR/.gpu-bundle-owned
record() {
    local dir=$1 n
    shift
    {
        [ -f "$dir/$OWNED" ] && cat -- "$dir/$OWNED"
        for n in "$@"; do case "$n" in +*) printf '%s\n' "${n#+}" ;; esac; done
    } | LC_ALL=C sort -u | {
        local drop=()
        for n in "$@"; do case "$n" in -*) drop+=("${n#-}") ;; esac; done
        if [ "${#drop[@]}" -gt 0 ]; then grep -vxF -f <(printf '%s\n' "${drop[@]}") || true; else cat; fi
    } | put "$dir/$OWNED"
}

SUDO=()
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO=(sudo); fi

# ---------------------------------------------------------------- apt lists
if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
    echo "gpu-bundle: apt lists are empty; running apt-get update"
    if [ "$(id -u)" -ne 0 ] && [ "${#SUDO[@]}" -eq 0 ]; then
        die "apt lists are empty and neither root nor sudo is available to run apt-get update"
    fi
    "${SUDO[@]}" apt-get update -q || die "apt-get update failed"
fi

# ---------------------------------------------------------------- closure check
# Recompute the dependency closure and make sure every package in it is either
# bundled or deliberately excluded; an unclassified one means the package set
# changed and the explicit lists above need a look.
closure=$(apt-cache depends --recurse --no-recommends --no-suggests \
    --no-conflicts --no-breaks --no-replaces --no-enhances "${REQUESTED[@]}" \
    | grep -v '^[[:space:]]' | grep -v '^<' | sort -u) \
    || die "apt-cache depends failed"

in_final() { local x; for x in "${FINAL[@]}"; do [ "$x" = "$1" ] && return 0; done; return 1; }

excluded_base=() excluded_alt=() unclassified=()
while IFS= read -r pkg; do
    [ -n "$pkg" ] || continue
    if in_final "$pkg"; then continue
    elif [[ $pkg =~ $EXCLUDE_BASE ]]; then excluded_base+=("$pkg")
    elif [[ $pkg =~ $EXCLUDE_ALT ]]; then excluded_alt+=("$pkg")
    else unclassified+=("$pkg")
    fi
done <<<"$closure"
for pkg in "${FINAL[@]}"; do
    grep -qx -- "$pkg" <<<"$closure" || die "'$pkg' is not in the dependency closure of the requested packages"
done
[ "${#unclassified[@]}" -eq 0 ] \
    || die "unclassified dependencies: ${unclassified[*]} (add them to EXTRA_RUNTIME or an EXCLUDE list in $0)"

echo "gpu-bundle: excluded (base system): ${excluded_base[*]:-none}"
echo "gpu-bundle: excluded (alternatives / static-only): ${excluded_alt[*]:-none}"

# ---------------------------------------------------------------- download
# Candidate version, pool file name and SHA256 of each package (one apt-cache
# call: each one costs about a second here).
declare -A want_file=() want_sha=() want_ver=() want_size=()
quals=()
for pkg in "${FINAL[@]}"; do quals+=("$pkg:$arch"); done
records=$(apt-cache show --no-all-versions "${quals[@]}") || die "apt-cache show failed (package unknown?)"
while read -r pkg ver size file sha; do
    want_ver[$pkg]=$ver want_size[$pkg]=$size want_file[$pkg]=${file##*/} want_sha[$pkg]=$sha
done < <(awk '/^Package:/{p=$2} /^Version:/{v=$2} /^Size:/{z=$2} /^Filename:/{f=$2} /^SHA256:/{h=$2}
              /^$/{if (p != "") print p, v, z, f, h; p=""}
              END{if (p != "") print p, v, z, f, h}' <<<"$records")
for pkg in "${FINAL[@]}"; do
    if [ -z "${want_file[$pkg]:-}" ] || [ -z "${want_sha[$pkg]:-}" ]; then
        die "no Filename/SHA256 for $pkg in apt-cache show"
    fi
done

sha_of() { sha256sum -- "$1" | cut -d' ' -f1; }

# Everything checked before anything changes: the other versions of a package (removed
# only when this script wrote them), a file of the wanted name (kept when its SHA256 is the
# wanted one, replaced only when this script wrote it), the lists this script writes.
to_fetch=() stale=()
for pkg in "${FINAL[@]}"; do
    f=$debdir/${want_file[$pkg]}
    for old in "$debdir/${pkg}"_*.deb; do
        [ -e "$old" ] || continue
        [ "$old" = "$f" ] && continue
        owned "$debdir" "$(basename "$old")" ||
            die "$old: another version of $pkg, not written by gpu-bundle.sh; gpu-node-setup.sh unpacks every .deb in $debdir: move it away (nothing changed)"
        stale+=("$old")
    done
    if [ -f "$f" ] && [ "$(sha_of "$f")" = "${want_sha[$pkg]}" ]; then
        continue
    fi
    check_ours "$debdir" "${want_file[$pkg]}"
    to_fetch+=("$pkg")
done
check_ours "$debdir" PACKAGES.txt
check_ours "$debdir" SHA256SUMS
if [ "$debs_only" -eq 0 ]; then
    check_ours "$out" src.tar.gz
    check_ours "$out" MANIFEST
fi

for old in "${stale[@]}"; do
    echo "gpu-bundle: removing stale $(basename "$old") (written by an earlier run)"
    rm -f -- "$old"
    record "$debdir" "-$(basename "$old")"
done

if [ "${#to_fetch[@]}" -gt 0 ]; then
    echo "gpu-bundle: downloading ${#to_fetch[@]} package(s): ${to_fetch[*]}"
    tmp=$(mktemp -d "$debdir/.dl.XXXXXX")
    trap 'rm -rf -- "$tmp"' EXIT   # the mktemp folder of this run, and nothing else
    sandbox=()
    # as root, apt drops to _apt, which cannot write to a mktemp directory
    [ "$(id -u)" -eq 0 ] && sandbox=(-o APT::Sandbox::User=root)
    pins=()
    for pkg in "${to_fetch[@]}"; do pins+=("$pkg:$arch=${want_ver[$pkg]}"); done
    (cd "$tmp" && apt-get download -q "${sandbox[@]}" "${pins[@]}") \
        || die "apt-get download failed (no network to the Debian mirror?)"
    for pkg in "${to_fetch[@]}"; do
        got=""
        for cand in "$tmp/${pkg}"_*.deb; do [ -e "$cand" ] && got=$cand; done
        [ -n "$got" ] || die "apt-get download produced no file for $pkg"
        [ "$(sha_of "$got")" = "${want_sha[$pkg]}" ] || die "sha256 mismatch for $(basename "$got")"
        record "$debdir" "+${want_file[$pkg]}"
        mv -f -- "$got" "$debdir/${want_file[$pkg]}"
    done
    rm -rf -- "$tmp"   # the mktemp folder of this run (empty by now)
    trap - EXIT
fi

# ---------------------------------------------------------------- lists
record "$debdir" +PACKAGES.txt +SHA256SUMS
{
    printf '# package version size file (Debian 12 bookworm, %s)\n' "$arch"
    for pkg in "${FINAL[@]}"; do
        printf '%s %s %s %s\n' "$pkg" "${want_ver[$pkg]}" "${want_size[$pkg]}" "${want_file[$pkg]}"
    done
} | put "$debdir/PACKAGES.txt"
(cd "$debdir" && for pkg in "${FINAL[@]}"; do
    printf '%s  %s\n' "${want_sha[$pkg]}" "${want_file[$pkg]}"
done) | put "$debdir/SHA256SUMS"

echo "gpu-bundle: final package list (${#FINAL[@]} debs):"
total=0
for pkg in "${FINAL[@]}"; do
    printf '  %-26s %-22s %9s bytes\n' "$pkg" "${want_ver[$pkg]}" "${want_size[$pkg]}"
    total=$((total + want_size[$pkg]))
done
printf '  %-49s %9s bytes\n' "total" "$total"

if [ "$debs_only" -eq 1 ]; then
    echo "gpu-bundle: debs written to $debdir"
    exit 0
fi

# ---------------------------------------------------------------- sources
command -v git >/dev/null 2>&1 || die "git not found"
git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1 || die "$ROOT is not a git work tree"

# Paths (relative to ROOT) never put in the source tarball: the bundle itself
# and the unpacked dependency prefix.
skip_out=""
case "$out/" in "$ROOT"/*) skip_out=${out#"$ROOT"/} ;; esac

list=$(mktemp)
trap 'rm -f -- "$list"' EXIT
# tracked (incl. uncommitted edits) + untracked-but-not-ignored files that exist
(cd "$ROOT" && git ls-files -z -co --exclude-standard \
    | while IFS= read -r -d '' f; do
        [ -e "$f" ] || [ -L "$f" ] || continue          # deleted in the work tree
        case "$f" in .deps/*|bundle/*) continue ;; esac
        if [ -n "$skip_out" ]; then case "$f" in "$skip_out"/*) continue ;; esac; fi
        printf '%s\0' "$f"
    done | LC_ALL=C sort -z) >"$list"
[ -s "$list" ] || die "no source files found"
head=$(git -C "$ROOT" rev-parse --verify -q HEAD 2>/dev/null || echo "none (no commits yet)")
nfiles=$(tr -cd '\0' <"$list" | wc -c)
record "$out" +src.tar.gz +MANIFEST
(cd "$ROOT" && tar -c -f - --no-recursion --owner=0 --group=0 --numeric-owner \
    --transform 's,^,saebench/,S' --null -T "$list") | gzip -n -9 | put "$out/src.tar.gz"
echo "gpu-bundle: src.tar.gz: $nfiles files (HEAD $head + working tree)"

# ---------------------------------------------------------------- manifest
(cd "$out" && {
    sha256sum -- src.tar.gz debs/PACKAGES.txt debs/SHA256SUMS
    for pkg in "${FINAL[@]}"; do sha256sum -- "debs/${want_file[$pkg]}"; done
}) | put "$out/MANIFEST"

bytes=$(du -sb "$out" | cut -f1)
echo "gpu-bundle: bundle at $out ($(du -sh "$out" | cut -f1), $bytes bytes); verify with: (cd $out && sha256sum -c MANIFEST)"
