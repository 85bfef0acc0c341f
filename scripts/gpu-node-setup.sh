#!/usr/bin/env bash
# On the air-gapped GPU node (no root, no network): unpack the bundled Debian
# 12 packages into a private prefix, write PREFIX/env.sh, and build saebench.
#
#   scripts/gpu-node-setup.sh [--no-build] [DEBS_DIR] [PREFIX]
#
#   DEBS_DIR  directory of .deb files from scripts/gpu-bundle.sh
#             (default: bundle/debs under the project root)
#   PREFIX    where to unpack (default: .deps under the project root)
#   --no-build  only unpack and write env.sh; otherwise then runs
#               . PREFIX/env.sh && make -j$(nproc) CUDA=1 SB_PREFIX=PREFIX   (project root)
#
# Re-running is cheap: the unpack is skipped while PREFIX/.sb-debs.sha256
# matches the sha256 list of DEBS_DIR/*.deb.
#
# Afterwards, in any shell:  . PREFIX/env.sh
#   exports SB_PREFIX, SB_CFLAGS, SB_LDFLAGS, CPATH, C_INCLUDE_PATH,
#   LIBRARY_PATH, LD_LIBRARY_PATH, PKG_CONFIG_PATH.
set -euo pipefail

die() { printf 'gpu-node-setup: %s\n' "$*" >&2; exit 1; }
say() { printf 'gpu-node-setup: %s\n' "$*"; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=1
pos=()
while [ $# -gt 0 ]; do
    case "$1" in
        --no-build) build=0 ;;
        -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        --) shift; pos+=("$@"); break ;;
        -*) die "unknown option '$1' (usage: $0 [--no-build] [DEBS_DIR] [PREFIX])" ;;
        *) pos+=("$1") ;;
    esac
    shift
done
[ "${#pos[@]}" -le 2 ] || die "too many arguments (usage: $0 [--no-build] [DEBS_DIR] [PREFIX])"
debs=${pos[0]:-$ROOT/bundle/debs}
prefix=${pos[1]:-$ROOT/.deps}

command -v dpkg-deb >/dev/null 2>&1 || die "dpkg-deb not found (needed to unpack .deb files)"
command -v sha256sum >/dev/null 2>&1 || die "sha256sum not found"

[ -d "$debs" ] || die "no such directory: $debs (copy bundle/debs from the build machine)"
debs=$(cd "$debs" && pwd)
mkdir -p "$prefix" || die "cannot create $prefix"
prefix=$(cd "$prefix" && pwd)
case "$prefix" in *[[:space:]:]*) die "PREFIX must not contain spaces or ':' ($prefix)" ;; esac

shopt -s nullglob
deb_files=("$debs"/*.deb)
shopt -u nullglob
[ "${#deb_files[@]}" -gt 0 ] || die "no .deb files in $debs"

# ------------------------------------------------------------------ verify
if [ -f "$debs/SHA256SUMS" ]; then
    (cd "$debs" && sha256sum -c --quiet SHA256SUMS) \
        || die "checksum mismatch in $debs (see SHA256SUMS); re-copy the bundle"
fi

# ------------------------------------------------------------------ unpack
stamp=$prefix/.sb-debs.sha256
want=$(cd "$debs" && sha256sum -- *.deb | LC_ALL=C sort -k2)

LIB=$prefix/usr/lib/x86_64-linux-gnu
INC=$prefix/usr/include
OB=$LIB/openblas-pthread

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f "$prefix/env.sh" ]; then
    say "prefix $prefix is up to date (${#deb_files[@]} debs); skipping unpack"
else
    if [ -f "$stamp" ]; then
        # an earlier run of ours unpacked here: start clean so no stale
        # versions of a library linger
        say "deb set changed; re-unpacking into $prefix"
        rm -rf -- "${prefix:?}/usr" "$stamp" "$prefix/env.sh"
    fi
    for f in "${deb_files[@]}"; do
        say "unpacking $(basename "$f")"
        dpkg-deb -x "$f" "$prefix" || die "dpkg-deb -x failed for $f"
    done

    for d in "$LIB" "$OB" "$INC"; do
        [ -d "$d" ] || die "expected $d after unpacking; is the bundle complete?"
    done

    # Debian alternatives: on an installed system these names are symlinks
    # into /etc/alternatives, created by postinst scripts that dpkg -x does not
    # run. Point them straight at the openblas-pthread flavour.
    link() {  # link TARGET NAME   (TARGET relative to NAME's directory)
        local target=$1 name=$2
        [ -e "$(dirname "$name")/$target" ] || die "missing $(dirname "$name")/$target"
        if [ -L "$name" ] && [ ! -e "$name" ]; then rm -f -- "$name"; fi   # dangling
        if [ ! -e "$name" ]; then ln -s -- "$target" "$name"; fi
    }
    link openblas-pthread/libblas.so.3          "$LIB/libblas.so.3"
    link openblas-pthread/liblapack.so.3        "$LIB/liblapack.so.3"
    link openblas-pthread/libopenblas.so.0      "$LIB/libopenblas.so.0"
    link openblas-pthread/libblas.so            "$LIB/libblas.so"
    link openblas-pthread/liblapack.so          "$LIB/liblapack.so"
    link openblas-pthread/libopenblas.so        "$LIB/libopenblas.so"
    link openblas-pthread/cblas.h               "$INC/x86_64-linux-gnu/cblas.h"
    link openblas-pthread/cblas.h               "$INC/x86_64-linux-gnu/cblas-openblas.h"
    link openblas-pthread/f77blas.h             "$INC/x86_64-linux-gnu/f77blas.h"
    link openblas-pthread/openblas_config.h     "$INC/x86_64-linux-gnu/openblas_config.h"
    mkdir -p "$LIB/pkgconfig"
    link ../openblas-pthread/pkgconfig/blas-openblas.pc   "$LIB/pkgconfig/blas.pc"
    link ../openblas-pthread/pkgconfig/lapack-openblas.pc "$LIB/pkgconfig/lapack.pc"
    link ../openblas-pthread/pkgconfig/openblas.pc        "$LIB/pkgconfig/openblas.pc"

    # Unversioned dev links (normally shipped by the -dev packages; made here
    # in case a bundle carried only the runtime packages).
    for lib in libopenblas liblapacke libcjson libcmocka; do
        [ -e "$LIB/$lib.so" ] && continue
        soname=""
        for cand in "$LIB/$lib".so.*; do
            [ -e "$cand" ] || continue
            c=$(basename "$cand")
            if [ -z "$soname" ] || [ "${#c}" -lt "${#soname}" ]; then soname=$c; fi
        done
        [ -n "$soname" ] || die "no $lib.so.* in $LIB; is its package in $debs?"
        ln -s -- "$soname" "$LIB/$lib.so"
    done

    # pkg-config files carry absolute /usr paths: rewrite them into the prefix.
    esc=$(printf '%s' "$prefix" | sed 's/[\\&#]/\\&/g')
    while IFS= read -r -d '' pc; do
        sed -E -i "s#(^|[=[:space:]]|-I|-L)/usr(/|\$|[[:space:]])#\\1${esc}/usr\\2#g" "$pc"
    done < <(find "$prefix/usr" -name '*.pc' -type f -print0)

    # Every library we link must exist now.
    for f in "$LIB/libopenblas.so" "$LIB/liblapacke.so" "$LIB/libcjson.so" "$LIB/libcmocka.so" \
             "$LIB/libblas.so.3" "$LIB/liblapack.so.3" "$LIB/libgfortran.so.5" \
             "$INC/x86_64-linux-gnu/cblas.h" "$INC/lapacke.h" "$INC/cjson/cJSON.h" "$INC/cmocka.h"; do
        [ -e "$f" ] || die "missing $f after unpacking"
    done

    # ---------------------------------------------------------------- env.sh
    cat >"$prefix/env.sh.tmp" <<EOF
# Generated by scripts/gpu-node-setup.sh -- source it: . $prefix/env.sh
# POSIX sh; safe to source more than once (paths are not duplicated).
# shellcheck shell=sh disable=SC2154
# Libraries unpacked from Debian 12 packages; the x86_64-linux-gnu dir holds
# direct links for the alternatives (libblas.so.3, liblapack.so.3,
# libopenblas.so*, cblas.h) to the openblas-pthread flavour.
SB_PREFIX='$prefix'
export SB_PREFIX
_sb_lib="\$SB_PREFIX/usr/lib/x86_64-linux-gnu"
_sb_inc="\$SB_PREFIX/usr/include"
# _sb_prepend VAR DIR...: put DIRs (in order) in front of \$VAR, no duplicates,
# no empty element (an empty element means "current directory").
_sb_prepend() {
    _sb_var=\$1; shift
    eval "_sb_val=\\\${\$_sb_var:-}"
    _sb_new=
    for _sb_d in "\$@"; do
        case ":\$_sb_val:" in *":\$_sb_d:"*) continue ;; esac
        _sb_new=\${_sb_new:+\$_sb_new:}\$_sb_d
    done
    if [ -n "\$_sb_new" ]; then
        eval "\$_sb_var=\\\${_sb_new}\\\${_sb_val:+:\\\$_sb_val}"
    fi
    eval "export \$_sb_var"
    unset _sb_var _sb_val _sb_new _sb_d
}
_sb_prepend CPATH          "\$_sb_inc" "\$_sb_inc/x86_64-linux-gnu"
_sb_prepend C_INCLUDE_PATH "\$_sb_inc" "\$_sb_inc/x86_64-linux-gnu"
_sb_prepend LIBRARY_PATH    "\$_sb_lib" "\$_sb_lib/openblas-pthread" "\$_sb_lib/lapack" "\$_sb_lib/blas"
_sb_prepend LD_LIBRARY_PATH "\$_sb_lib" "\$_sb_lib/openblas-pthread" "\$_sb_lib/lapack" "\$_sb_lib/blas"
_sb_prepend PKG_CONFIG_PATH "\$_sb_lib/pkgconfig" "\$_sb_lib/openblas-pthread/pkgconfig"
# Explicit flags: use these. gcc searches LIBRARY_PATH only AFTER its system
# dirs (/usr/lib/x86_64-linux-gnu ...), so with LIBRARY_PATH alone a system
# copy of a library, where one exists, wins over the prefix's; -L comes first.
# The rpath lets the binary run without LD_LIBRARY_PATH; it is an old-style
# DT_RPATH (--disable-new-dtags) because a DT_RUNPATH would not be searched
# for the libraries' own dependencies (libgfortran.so.5 of libopenblas.so.0,
# libtmglib.so.3 of liblapacke.so.3), which the node may not have.
SB_CFLAGS="-I\$_sb_inc -I\$_sb_inc/x86_64-linux-gnu"
SB_LDFLAGS="-L\$_sb_lib -L\$_sb_lib/openblas-pthread -Wl,--disable-new-dtags -Wl,-rpath,\$_sb_lib -Wl,-rpath,\$_sb_lib/openblas-pthread"
export SB_CFLAGS SB_LDFLAGS
unset _sb_lib _sb_inc
unset -f _sb_prepend
EOF
    mv -f -- "$prefix/env.sh.tmp" "$prefix/env.sh"
    printf '%s\n' "$want" >"$stamp"
    say "unpacked ${#deb_files[@]} debs into $prefix; wrote $prefix/env.sh"
fi

# ------------------------------------------------------------------ build
if [ "$build" -eq 0 ]; then
    say "--no-build: done. Use: . $prefix/env.sh"
    exit 0
fi
command -v make >/dev/null 2>&1 || die "make not found"
[ -f "$ROOT/Makefile" ] || die "no Makefile in $ROOT"
say "building: make CUDA=1 SB_PREFIX=$prefix (in $ROOT)"
jobs=$(nproc 2>/dev/null || echo 2)
# shellcheck disable=SC1091
(cd "$ROOT" && . "$prefix/env.sh" && make -j"$jobs" CUDA=1 SB_PREFIX="$prefix") || die "build failed"
say "build done"
