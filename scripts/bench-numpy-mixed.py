#!/usr/bin/python3
"""numpy/scipy peer of `saebench resident-solve --precision fp64|mixed` on the host.

    /usr/bin/python3 scripts/bench-numpy-mixed.py --shape sae-2k-2048 [--reps 10]
        [--warmup 2] [--json FILE] [--quiet]

Same fixture as scripts/bench-numpy.py (bit for bit saebench's). Per solve it
times, in one process on the same weight stream, numpy's FP64 forms and a
mixed-precision form, and reports the best FP64 one:

  fp64-dual    (n <= p only) K = X X^T and v = X rhs kept; per solve
               M = K + diag(ridge/w), dpotrf (scipy cho_factor), two dtrsv,
               beta = (rhs - X^T y)/ridge
  fp64-primal  G = (sqrt(w) X)^T (sqrt(w) X) by dsyrk on the transposed
               view (no copy), + ridge I, dpotrf, two dtrsv
  mixed        the same system factored in float32 (spotrf; dual: K kept in
               float32 too), the first solve and every correction by two
               strsv, refined in float64 until LAPACK dsposv's criterion
               max|r| <= max|x| * ||A||_inf * 2^-53 * sqrt(N) (cap 30),
               r from the float64 system: dual dsymv on K, primal two passes
               over X; the factor form (dual/primal) is the one saebench's
               --method auto picks (dual when n <= p)

The triangular solves use BLAS ?trsv, not cho_solve: with one right-hand side
LAPACK ?potrs goes through ?trsm, about 10x slower here; each form gets its
fastest spelling. Prints one line per form (median s, rows/s) and the ratio of
mixed to the best FP64 form; --json writes everything.
"""

import argparse
import importlib.util
import json
import os
import sys
import time

try:
    import numpy as np
    import scipy
    import scipy.linalg
    from scipy.linalg import blas
except ImportError as e:  # pragma: no cover - environment problem
    sys.exit(f"bench-numpy-mixed: {e}; run with /usr/bin/python3 "
             "(Debian python3-numpy python3-scipy: scripts/install-deps.sh)")

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("bench_numpy", os.path.join(HERE, "bench-numpy.py"))
bn = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bn)

EPS = 2.0 ** -53
CAP = 30


def chol_solve(L, b, trsv):
    """b <- L^-T L^-1 b with two BLAS trsv (L lower, Fortran order)."""
    x = trsv(L, b, lower=1, trans=0)
    return trsv(L, x, lower=1, trans=1)


class Dual:
    def __init__(self, X, rhs, ridge):
        self.X, self.rhs, self.ridge = X, rhs, ridge
        self.K = np.asfortranarray(X @ X.T)
        self.v = X @ rhs

    def fp64(self, w):
        M = self.K.copy(order="F")
        M[np.diag_indices_from(M)] += self.ridge / w
        L, _ = scipy.linalg.cho_factor(M, lower=True, overwrite_a=True, check_finite=False)
        y = chol_solve(L, self.v, blas.dtrsv)
        return (self.rhs - self.X.T @ y) / self.ridge


class Primal:
    def __init__(self, X, rhs, ridge):
        self.X, self.rhs, self.ridge = X, rhs, ridge

    def fp64(self, w):
        Xs = self.X * np.sqrt(w)[:, None]
        G = blas.dsyrk(1.0, Xs.T, lower=1)  # Xs.T is Fortran p x n: G = Xs^T Xs
        G[np.diag_indices_from(G)] += self.ridge
        L, _ = scipy.linalg.cho_factor(G, lower=True, overwrite_a=True, check_finite=False)
        return chol_solve(L, self.rhs, blas.dtrsv)


class Mixed:
    """float32 factor, float64 refinement (saebench's --precision mixed)."""

    def __init__(self, X, rhs, ridge, dual):
        self.X, self.rhs, self.ridge, self.dual = X, rhs, ridge, dual
        if dual:
            K = X @ X.T
            self.K = np.asfortranarray(K)
            self.Kf = np.asfortranarray(K, dtype=np.float32)
            self.kabs = np.abs(K).sum(axis=1)
            self.v = X @ rhs
        self.iterations = []

    def solve(self, w):
        if self.dual:
            d = self.ridge / w
            Mf = self.Kf.copy(order="F")
            Mf[np.diag_indices_from(Mf)] += d.astype(np.float32)
            anrm = float((self.kabs + d).max())
            b = self.v

            def residual(x):
                return b - blas.dsymv(1.0, self.K, x, lower=1) - d * x
        else:
            Xs = (self.X * np.sqrt(w)[:, None]).astype(np.float32)
            Mf = blas.ssyrk(1.0, Xs.T, lower=1)
            Mf[np.diag_indices_from(Mf)] += np.float32(self.ridge)
            low = np.tril(Mf)
            anrm = float((np.abs(low).sum(axis=0) + np.abs(low).sum(axis=1) - np.abs(np.diag(Mf))).max())
            b = self.rhs

            def residual(x):
                return b - self.ridge * x - self.X.T @ (w * (self.X @ x))
        Lf, info = scipy.linalg.lapack.spotrf(Mf, lower=1, overwrite_a=1, clean=0)
        if info != 0:
            return None
        n = Lf.shape[0]
        tol = anrm * EPS * np.sqrt(n)
        x = chol_solve(Lf, b.astype(np.float32), blas.strsv).astype(np.float64)
        for it in range(CAP + 1):
            r = residual(x)
            if np.abs(r).max() <= np.abs(x).max() * tol:
                self.iterations.append(it)
                break
            if it == CAP:
                return None
            x += chol_solve(Lf, r.astype(np.float32), blas.strsv)
        if self.dual:
            return (self.rhs - self.X.T @ x) / self.ridge
        return x


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shape", choices=sorted(bn.SHAPES), default="sae-2k-2048")
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--json", metavar="FILE", help="write the results as JSON")
    ap.add_argument("--quiet", action="store_true", help="only the summary lines")
    a = ap.parse_args(argv)
    if a.reps < 1 or a.warmup < 0:
        ap.error("--reps must be >= 1 and --warmup >= 0")
    n, p = bn.SHAPES[a.shape]
    say = (lambda *x, **k: None) if a.quiet else print
    X, w0, ws, rhs = bn.make_fixture(n, p, a.warmup + a.reps)
    ridge = bn.RIDGE
    dual = n <= p
    forms = {}
    if dual:
        forms["fp64-dual"] = Dual(X, rhs, ridge).fp64
    forms["fp64-primal"] = Primal(X, rhs, ridge).fp64
    mixed = Mixed(X, rhs, ridge, dual)
    forms["mixed"] = mixed.solve

    # Parity of every form against a dense float64 solve of the w0 system.
    G0 = bn.gram(X, w0, ridge)
    ref = scipy.linalg.solve(G0, rhs, assume_a="pos")
    del G0
    parity = {}
    for name, f in forms.items():
        beta = f(w0)
        parity[name] = None if beta is None else float(np.abs(beta - ref).max() / np.abs(ref).max())
    mixed.iterations.clear()

    times = {name: [] for name in forms}
    fallbacks = 0
    for k in range(a.warmup + a.reps):
        for name, f in forms.items():  # interleaved: every form sees the same load
            t0 = time.perf_counter()
            beta = f(ws[k])
            t1 = time.perf_counter()
            if beta is None:
                fallbacks += 1
            if k >= a.warmup:
                times[name].append(t1 - t0)
    res = {}
    for name, t in times.items():
        st = bn.stats(t)
        res[name] = dict(st, rows_per_s=n / st["median_s"], parity_w0=parity[name])
    best = min((nm for nm in res if nm.startswith("fp64")), key=lambda nm: res[nm]["median_s"])
    ratio = res[best]["median_s"] / res["mixed"]["median_s"]
    it = mixed.iterations[a.warmup:] if len(mixed.iterations) > a.warmup else mixed.iterations
    say(f"bench-numpy-mixed {a.shape}: n={n} p={p}  {a.reps} reps after {a.warmup} warm-up, forms interleaved")
    for name, r in res.items():
        print(f"  {name:12s} median {r['median_s']:.6f} s  rows/s {r['rows_per_s']:10.1f}"
              f"  parity vs dense fp64 {r['parity_w0'] if r['parity_w0'] is not None else float('nan'):.2e}")
    print(f"  mixed vs best fp64 ({best}): {ratio:.2f}x  refinement iterations median "
          f"{float(np.median(it)) if it else float('nan'):g} max {max(it) if it else 'n/a'}, "
          f"non-converged solves {fallbacks}")
    if a.json:
        out = {"tool": "bench-numpy-mixed", "shape": a.shape, "n": n, "p": p, "ridge": ridge,
               "reps": a.reps, "warmup": a.warmup, "forms": res, "best_fp64": best,
               "mixed_vs_best_fp64": ratio, "mixed_iterations": it, "mixed_not_converged": fallbacks,
               "criterion": "max|r| <= max|x| * ||A||_inf * 2^-53 * sqrt(N), cap 30",
               "versions": {"numpy": np.__version__, "scipy": scipy.__version__},
               "cpus": os.cpu_count(), "blas": bn.blas_info()}
        with open(a.json, "w") as f:
            json.dump(out, f, indent=2)
            f.write("\n")
        say(f"  wrote {a.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
