"""Arrow systems saved with numpy, as a team would bring them (--system DIR,
docs/workloads.md §2 "Your own data"), and numpy's dense check of --dump-z.

  arrow_system.py make DIR n d p seed [S] [--f32 hbb]   write DIR/{htt,cross,hbb,gt,gb}.npy
  arrow_system.py check DIR z.npy TOL                    max rel error of z vs numpy, <= TOL

A random SPD system, not the fixture: H_tt,i = A Aᵀ + d·I, B_i ~ 0.1·N(0,1),
H_ββ = M Mᵀ/p + I + Σ B_iᵀ H_tt,i⁻¹ B_i (so H is SPD); g₀ ~ N(0,1); S > 0 gives
S gradients (outer-seq). The check solves the dense (n·d+p)² system H z = g₀
(ridges 0, so the LM loop's one step is exactly this solve) for every row.
"""
import os
import sys

import numpy as np


def make(dirn, n, d, p, seed, S=0, f32=()):
    rng = np.random.default_rng(seed)
    os.makedirs(dirn, exist_ok=True)
    A = rng.standard_normal((n, d, d))
    htt = A @ A.transpose(0, 2, 1) + d * np.eye(d)
    cross = 0.1 * rng.standard_normal((n, d, p))
    M = rng.standard_normal((p, p))
    hbb = M @ M.T / p + np.eye(p) + sum(cross[i].T @ np.linalg.solve(htt[i], cross[i]) for i in range(n))
    hbb = 0.5 * (hbb + hbb.T)
    gt = rng.standard_normal((S, n, d) if S else (n, d))
    gb = rng.standard_normal((S, p) if S else p)
    for name, v in dict(htt=htt, cross=cross, hbb=hbb, gt=gt, gb=gb).items():
        np.save(os.path.join(dirn, name + ".npy"), v.astype(np.float32) if name in f32 else v)


def dense(dirn):
    load = lambda k: np.load(os.path.join(dirn, k + ".npy")).astype(np.float64)
    htt, cross, hbb = load("htt"), load("cross"), load("hbb")
    n, d, p = cross.shape
    N = n * d + p
    H = np.zeros((N, N))
    for i in range(n):
        s = slice(i * d, (i + 1) * d)
        H[s, s] = htt[i]
        H[s, n * d:] = cross[i]
        H[n * d:, s] = cross[i].T
    H[n * d:, n * d:] = hbb
    gt, gb = load("gt"), load("gb")
    G = np.concatenate([gt.reshape(-1, n * d), gb.reshape(-1, p)], axis=1)
    return H, G


def check(dirn, zpath, tol):
    H, G = dense(dirn)
    Z = np.linalg.solve(H, G.T).T
    got = np.load(zpath).reshape(Z.shape)
    err = max(np.abs(got[k] - Z[k]).max() / np.abs(Z[k]).max() for k in range(len(Z)))
    print("%.3g" % err)
    return err <= tol


if __name__ == "__main__":
    if sys.argv[1] == "make":
        f32 = sys.argv[sys.argv.index("--f32") + 1].split(",") if "--f32" in sys.argv else ()
        args = [a for a in sys.argv[2:] if not a.startswith("--") and a not in f32]
        make(args[0], int(args[1]), int(args[2]), int(args[3]), int(args[4]), int(args[5]) if len(args) > 5 else 0, f32)
    else:
        sys.exit(0 if check(sys.argv[2], sys.argv[3], float(sys.argv[4])) else 1)
