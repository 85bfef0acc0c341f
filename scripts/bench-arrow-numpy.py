#!/usr/bin/python3
"""numpy/scipy peer of `saebench inner-loop --backend host` (docs/workloads.md §2).

    /usr/bin/python3 scripts/bench-arrow-numpy.py --shape qwen [--reps 10]
        [--warmup 2] [--build-reps 3]

Times the same thing as saebench's `timing.phases.resident`: one gradient-only
solve (H)δ = -r on a frame factored once at ridge 0, with r = -g0 (the gradient
at z = 0), written the way a numpy/scipy user would. Prints one JSON line.

The fixture is src/arrow.c's. SplitMix64 only feeds target_x, which enters φ
as a constant and never the solve, so no draws are made here and the seed is
unused. numpy's sin/cos may differ from glibc's by an ulp; that moves the
system by ~1e-16 relative, far below anything the timing or parity can see.
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import scipy.linalg as sla

HERE = os.path.dirname(os.path.abspath(__file__))
DENSE_MAX = 7000  # n·d + p up to this: the dense parity check fits (~390 MB)


def load_shape(name):
    path = name if name.endswith(".json") else os.path.join(HERE, "..", "shapes", name + ".json")
    with open(path) as f:
        s = json.load(f)
    return s.get("name", name), s["n"], s["p"], s["d"], s["basis_cols"], float(s.get("htt_shift", 0.0))


def fixture(n, p, d, nb, shift):
    ip1 = np.arange(1, n + 1, dtype=np.float64)
    # bsum summed a = 0, 1, ... in order (np.sum's pairwise order would not
    # be the C loop's); (i+1)*(a+1)*0.003 associates left to right as in C.
    bsum = np.zeros(n)
    for a in range(nb):
        bsum += np.cos(ip1 * float(a + 1) * 0.003)
    r = np.arange(d, dtype=np.float64)
    rc = r[:, None] + r[None, :]
    H = 0.02 * np.sin(bsum[:, None, None] + rc) / float(d)
    H = 0.5 * (H + H.transpose(0, 2, 1))  # C's averaging; exact (already symmetric)
    H[:, np.arange(d), np.arange(d)] = (3.0 + 0.01 * np.abs(bsum))[:, None] + 0.1 * r + shift
    sr = bsum[:, None] + r  # (n, d)
    feature = np.cos((np.arange(p) % 257) * 0.011)
    B = (1.0e-4 * np.sin(sr))[:, :, None] * feature  # (n, d, p)
    g_t = 0.01 * np.sin(sr)
    Hbb = 4.0 * np.eye(p) + 0.01 * (np.eye(p, k=1) + np.eye(p, k=-1))
    g_b = 0.001 * np.sin((np.arange(p) % 193) * 0.017)
    return H, B, Hbb, g_t, g_b


def build_frame(H, B, Hbb):
    # L_i and Y_i = L_i⁻¹B_i batched over rows: scipy's solve_triangular does
    # not broadcast (scipy < 1.15) and a Python loop over n rows would time
    # the interpreter, so Y uses np.linalg.solve (LU of each tiny L_i).
    L = np.linalg.cholesky(H)
    Y = np.linalg.solve(L, B)
    n, d, p = B.shape
    Y2 = Y.reshape(n * d, p)  # stacked Y: ΣYᵢᵀYᵢ is one matmul
    S = Hbb - Y2.T @ Y2
    return L, Y2, sla.cho_factor(S, lower=True)


def solve(L, Y2, LS, r_t, r_b):
    # u_i = L_i⁻¹r_t,i; δβ = S⁻¹(-r_β + Yᵀu); δt_i = -L_i⁻ᵀ(u_i + Y_iδβ)
    n, d = r_t.shape
    u = np.linalg.solve(L, r_t[:, :, None])[:, :, 0]
    db = sla.cho_solve(LS, Y2.T @ u.ravel() - r_b)
    w = u + (Y2 @ db).reshape(n, d)
    dt = -np.linalg.solve(L.transpose(0, 2, 1), w[:, :, None])[:, :, 0]
    return dt, db


def timed(fn, warmup, reps):
    out, ts = None, []
    for k in range(warmup + reps):
        t0 = time.perf_counter()
        out = fn()
        if k >= warmup:
            ts.append(time.perf_counter() - t0)
    return out, 1e3 * float(np.median(ts)), 1e3 * min(ts)


def dense_delta(H, B, Hbb, g_t, g_b):
    # The full (n·d+p)² matrix, no arrow structure: an independent answer.
    n, d, p = B.shape
    nd = n * d
    A = np.zeros((nd + p, nd + p))
    for i in range(n):
        A[i * d:(i + 1) * d, i * d:(i + 1) * d] = H[i]
    A[:nd, nd:] = B.reshape(nd, p)
    A[nd:, :nd] = A[:nd, nd:].T
    A[nd:, nd:] = Hbb
    return sla.solve(A, np.concatenate([g_t.ravel(), g_b]), assume_a="pos")


def blas_lib():
    # The BLAS numpy really loaded (show_config only says "blas").
    try:
        with open("/proc/self/maps") as f:
            libs = {os.path.realpath(l.split()[-1]) for l in f if "libblas" in l}
        return ", ".join(sorted(libs)) or None
    except OSError:
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shape", default="qwen", help="name in shapes/ or a .json path")
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--build-reps", type=int, default=3)
    a = ap.parse_args()
    if a.reps < 1 or a.warmup < 0 or a.build_reps < 1:
        ap.error("--reps/--build-reps must be >= 1 and --warmup >= 0")
    name, n, p, d, nb, shift = load_shape(a.shape)
    H, B, Hbb, g_t, g_b = fixture(n, p, d, nb, shift)
    try:
        (L, Y2, LS), fb_med, _ = timed(lambda: build_frame(H, B, Hbb), 1, a.build_reps)
    except np.linalg.LinAlgError as e:
        sys.exit(f"bench-arrow-numpy: {name} is not positive definite at ridge 0 ({e}); "
                 "only shapes saebench times at ridge 0 are supported")
    r_t, r_b = -g_t, -g_b  # r(0) = H·0 - g0
    (dt, db), med, mn = timed(lambda: solve(L, Y2, LS, r_t, r_b), a.warmup, a.reps)

    rel = None
    if n * d + p <= DENSE_MAX:
        ref = dense_delta(H, B, Hbb, g_t, g_b)
        rel = float(np.linalg.norm(np.concatenate([dt.ravel(), db]) - ref) / np.linalg.norm(ref))
    print(json.dumps({
        "peer": "numpy", "shape": name, "n": n, "p": p, "d": d,
        "resident_solve_ms_median": med, "resident_solve_ms_min": mn,
        "frame_build_ms_median": fb_med, "parity_rel_err": rel,
        "reps": a.reps, "warmup": a.warmup, "build_reps": a.build_reps,
        "method": "batched np.linalg.solve for L_i (LU of each L_i), Y stacked (n*d, p), "
                  "S = Hbb - Y.T@Y, scipy.linalg.cho_factor/cho_solve",
        "numpy": np.__version__, "blas": blas_lib(), "threads": os.cpu_count(),
    }))
    if rel is not None and not rel < 1e-9:
        sys.exit(f"bench-arrow-numpy: parity {rel:.3e} >= 1e-9 against the dense solve")


if __name__ == "__main__":
    main()
