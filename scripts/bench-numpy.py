#!/usr/bin/python3
"""numpy/scipy peer of `saebench resident-solve --backend host`.

Run with the Debian interpreter (the one that has numpy and scipy):

    /usr/bin/python3 scripts/bench-numpy.py --shape sae-2k-2048 [--reps 10]
        [--warmup 2] [--json FILE]

It rebuilds saebench's fixture bit for bit (src/rs_fixture.c): an LCG seeded with
0x1412a100deadbeef; each draw advances
    s = s*6364136223846793005 + 1442695040888963407  (mod 2^64)
and yields u = (s>>11)/2^53*2 - 1. Draw order: X = 0.05*u (n*p draws,
row-major), w0_i = |u| + 1e-3 (n draws), then one fresh w (n draws, same
formula) per later solve: warmup solves first, then the timed reps.
rhs_j = cos((j+1)*0.03), ridge = 1e-3.

Each solve is timed the way a numpy user would write it:
    G = X.T @ (X * w[:, None]); G[diag] += ridge
    beta = scipy.linalg.solve(G, rhs, assume_a='pos')
np.linalg.solve(G, rhs) on the same G is timed alongside, for reference
(reported as build time + np.linalg.solve time).

Prints median/min/max seconds per solve, rows/s = n / median, and the first
3 values of beta for the w0 system (compare with saebench --dump-beta).
"""

import argparse
import contextlib
import ctypes
import io
import json
import os
import platform
import sys
import time

try:
    import numpy as np
    import scipy
    import scipy.linalg
except ImportError as e:  # pragma: no cover - environment problem
    sys.exit(f"bench-numpy: {e}; run with /usr/bin/python3 "
             "(Debian python3-numpy python3-scipy: scripts/install-deps.sh)")

SHAPES = {
    "sae-2k-2048": (2000, 2048),
    "sae-8k-1024": (8000, 1024),
    "sae-4k-4096": (4000, 4096),
}
SEED = 0x1412A100DEADBEEF
LCG_A = 6364136223846793005
LCG_C = 1442695040888963407
RIDGE = 1e-3
MASK64 = (1 << 64) - 1


class Lcg:
    """saebench's LCG, vectorised with a jump-ahead table.

    mul[k] = a^(k+1) and add[k] = c*(a^k + ... + 1) (mod 2^64), so the k-th
    state after s is mul[k]*s + add[k]; uint64 arithmetic in numpy wraps
    mod 2^64, exactly like C's uint64_t.
    """

    def __init__(self, seed, block=1 << 20):
        self.state = seed & MASK64
        mul = np.empty(block, dtype=np.uint64)
        add = np.empty(block, dtype=np.uint64)
        mul[0] = LCG_A
        add[0] = LCG_C
        m = 1
        with np.errstate(over="ignore"):
            while m < block:  # doubling: states m+1 .. m+k from states 1..k
                k = min(m, block - m)
                mul[m:m + k] = mul[:k] * mul[m - 1]
                add[m:m + k] = mul[:k] * add[m - 1] + add[:k]
                m += k
        self.mul, self.add, self.block = mul, add, block

    def uniform(self, count, out=None):
        """count draws of u in [-1, 1) (float64), advancing the stream."""
        if out is None:
            out = np.empty(count, dtype=np.float64)
        pos = 0
        with np.errstate(over="ignore"):
            while pos < count:
                c = min(self.block, count - pos)
                s = self.mul[:c] * np.uint64(self.state) + self.add[:c]
                self.state = int(s[-1])
                # (s>>11) < 2^53 converts exactly; /2^53*2-1 as in C
                u = (s >> np.uint64(11)).astype(np.float64)
                u /= 9007199254740992.0
                u *= 2.0
                u -= 1.0
                out[pos:pos + c] = u
                pos += c
        return out

    def weights(self, n):
        """w_i = |u| + 1e-3."""
        w = self.uniform(n)
        np.abs(w, out=w)
        w += 1e-3
        return w


def make_fixture(n, p, later):
    g = Lcg(SEED)
    X = g.uniform(n * p).reshape(n, p)
    X *= 0.05
    w0 = g.weights(n)
    ws = [g.weights(n) for _ in range(later)]
    rhs = np.cos(np.arange(1, p + 1, dtype=np.float64) * 0.03)
    return X, w0, ws, rhs


def gram(X, w, ridge):
    G = X.T @ (X * w[:, None])
    G[np.diag_indices_from(G)] += ridge
    return G


def stats(samples):
    a = np.asarray(samples, dtype=np.float64)
    return {"median_s": float(np.median(a)), "min_s": float(a.min()),
            "max_s": float(a.max()), "samples_s": [float(x) for x in a]}


def blas_info():
    """Which BLAS/LAPACK numpy and scipy actually run on."""
    info = {}
    try:
        import threadpoolctl  # optional
        info["threadpoolctl"] = threadpoolctl.threadpool_info()
    except ImportError:
        pass
    # Libraries mapped into this process (after numpy/scipy imported them).
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1] if len(line.split()) >= 6 else ""
                base = os.path.basename(path)
                if "cpython" in base or ".so" not in base:
                    continue  # scipy's own extension modules (_fblas, ...)
                if any(k in base for k in ("blas", "lapack", "mkl", "blis", "gfortran")):
                    libs.add(path)
    except OSError:
        pass
    info["loaded"] = sorted(libs)
    info["loaded_realpath"] = sorted({os.path.realpath(p) for p in libs})
    for path in sorted(libs):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        if hasattr(lib, "openblas_get_config"):
            lib.openblas_get_config.restype = ctypes.c_char_p
            info["openblas_config"] = lib.openblas_get_config().decode(errors="replace")
            if hasattr(lib, "openblas_get_num_threads"):
                info["openblas_num_threads"] = int(lib.openblas_get_num_threads())
            break
    # numpy's build-time configuration, condensed to sections that name a
    # library (numpy < 1.25: "blas_opt_info:" + "libraries = [...]"; newer:
    # "Build Dependencies:" / "blas:" / "name: ...").
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf):
            np.show_config()
        summary, section = {}, None
        for ln in buf.getvalue().splitlines():
            t = ln.strip()
            if not t:
                continue
            if t.endswith(":") and "=" not in t:
                section = t[:-1]
            elif section and t.startswith(("libraries", "name", "version", "found")):
                summary.setdefault(section, []).append(t)
        info["numpy_show_config"] = summary
    except Exception as e:  # show_config's format varies across versions
        info["numpy_show_config"] = {"unavailable": [str(e)]}
    info["env"] = {k: os.environ[k] for k in
                   ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
                   if k in os.environ}
    return info


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shape", choices=sorted(SHAPES), default="sae-2k-2048")
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--json", metavar="FILE", help="write the results as JSON")
    ap.add_argument("--n", type=int, help="override n (testing)")
    ap.add_argument("--p", type=int, help="override p (testing)")
    ap.add_argument("--quiet", action="store_true", help="only the summary line")
    a = ap.parse_args(argv)
    if a.reps < 1 or a.warmup < 0:
        ap.error("--reps must be >= 1 and --warmup >= 0")
    n, p = SHAPES[a.shape]
    n, p = a.n or n, a.p or p
    shape = a.shape if (n, p) == SHAPES[a.shape] else f"custom-{n}x{p}"

    say = (lambda *x, **k: None) if a.quiet else print
    blas = blas_info()
    say(f"bench-numpy: python {platform.python_version()} numpy {np.__version__} "
        f"scipy {scipy.__version__}  cpus {os.cpu_count()}")
    if "openblas_config" in blas:
        say(f"  BLAS: {blas['openblas_config']} "
            f"(threads {blas.get('openblas_num_threads', '?')})")
    for sec in ("blas_opt_info", "lapack_opt_info", "blas", "lapack"):
        if sec in blas["numpy_show_config"]:
            say(f"  numpy show_config {sec}: {'; '.join(blas['numpy_show_config'][sec])}")
    for lib in blas["loaded_realpath"]:
        say(f"  loaded: {lib}")
    if "threadpoolctl" in blas:
        for d in blas["threadpoolctl"]:
            say(f"  threadpoolctl: {d.get('internal_api')} {d.get('version')} "
                f"threads={d.get('num_threads')} {d.get('filepath')}")

    t0 = time.perf_counter()
    X, w0, ws, rhs = make_fixture(n, p, a.warmup + a.reps)
    t_fix = time.perf_counter() - t0
    say(f"  shape {shape}: n={n} p={p} ridge={RIDGE:g}  fixture drawn in {t_fix:.2f} s "
        f"({n * p + n * (1 + a.warmup + a.reps)} LCG draws)")

    # w0 system: untimed, its beta is the one to compare with saebench's.
    G0 = gram(X, w0, RIDGE)
    beta0 = scipy.linalg.solve(G0, rhs, assume_a="pos")
    beta0_np = np.linalg.solve(G0, rhs)
    resid0 = float(np.linalg.norm(G0 @ beta0 - rhs) / np.linalg.norm(rhs))
    del G0

    total, build, solve, solve_np = [], [], [], []
    beta = None
    for k in range(a.warmup + a.reps):
        w = ws[k]
        t0 = time.perf_counter()
        G = X.T @ (X * w[:, None])
        G[np.diag_indices_from(G)] += RIDGE
        t1 = time.perf_counter()
        beta = scipy.linalg.solve(G, rhs, assume_a="pos")
        t2 = time.perf_counter()
        beta_np = np.linalg.solve(G, rhs)  # reference, outside the main timing
        t3 = time.perf_counter()
        if k >= a.warmup:
            total.append(t2 - t0)
            build.append(t1 - t0)
            solve.append(t2 - t1)
            solve_np.append(t3 - t2)
        del G, beta_np

    st = stats(total)
    st_np = stats([b + s for b, s in zip(build, solve_np)])
    rows = n / st["median_s"]
    rows_np = n / st_np["median_s"]
    rel_np = float(np.linalg.norm(beta0 - beta0_np) / np.linalg.norm(beta0))

    say(f"  per solve (scipy.linalg.solve assume_a='pos'), {a.reps} reps after {a.warmup} warmup:")
    say(f"    median {st['median_s']:.6f} s  min {st['min_s']:.6f} s  max {st['max_s']:.6f} s"
        f"   [build G {np.median(build):.6f} s + solve {np.median(solve):.6f} s]")
    say(f"    rows/s {rows:,.0f}")
    say(f"  reference (same G, np.linalg.solve): median {st_np['median_s']:.6f} s"
        f"  [solve {np.median(solve_np):.6f} s]  rows/s {rows_np:,.0f}")
    say(f"  beta0[0:3] = {' '.join(f'{v:.17g}' for v in beta0[:3])}"
        f"   (w0 system; rel resid {resid0:.2e}, |scipy-np|/|b| {rel_np:.2e})")
    say(f"  beta_last[0:3] = {' '.join(f'{v:.17g}' for v in beta[:3])}   (last timed rep)")
    print(f"bench-numpy {shape}: median {st['median_s']:.6f} s/solve  rows/s {rows:.1f}")

    if a.json:
        out = {
            "tool": "bench-numpy", "shape": shape, "n": n, "p": p, "ridge": RIDGE,
            "seed": hex(SEED), "reps": a.reps, "warmup": a.warmup,
            "method": "G = X.T @ (X*w[:,None]) + ridge*I; scipy.linalg.solve(assume_a='pos')",
            "timing": st, "rows_per_s": rows,
            "build_median_s": float(np.median(build)),
            "solve_median_s": float(np.median(solve)),
            "np_linalg_solve": dict(st_np, rows_per_s=rows_np,
                                    solve_median_s=float(np.median(solve_np))),
            "beta0_head": [float(v) for v in beta0[:3]],
            "beta_last_head": [float(v) for v in beta[:3]],
            "beta0_rel_residual": resid0, "beta0_scipy_vs_numpy_rel": rel_np,
            "fixture_s": t_fix,
            "versions": {"python": platform.python_version(), "numpy": np.__version__,
                         "scipy": scipy.__version__},
            "cpus": os.cpu_count(), "blas": blas,
        }
        with open(a.json, "w") as f:
            json.dump(out, f, indent=2)
            f.write("\n")
        say(f"  wrote {a.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
