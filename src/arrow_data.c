/* A team's own arrow system from .npy files (--system DIR, docs/workloads.md
 * §2 "Your own data"): loaded and checked in full before any work. */
#include "arrow_case.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "npy.h"

/* Off-diagonal pairs may differ by this much relative to the block's
 * largest entry (numpy products are symmetric to a few ulps); the pair is
 * then replaced by its mean, so every solve mode sees one symmetric matrix. */
#define SB_ARROW_SYMMETRY_TOL 1e-10

enum { F_HTT, F_CROSS, F_HBB, F_GT, F_GB, F_TARGET, NFILES };
static const char *const FILES[NFILES] = {"htt.npy", "cross.npy", "hbb.npy", "gt.npy", "gb.npy", "target_energy.npy"};

static sb_rc read_one(const sb_opts *o, int k, int expect_ndim, sb_arrow_case *c, sb_npy *a, sb_err *err)
{
    char path[sizeof c->files[0]];
    int len = snprintf(path, sizeof path, "%s/%s", o->system, FILES[k]);
    if (len < 0 || (size_t)len >= sizeof path)
        return sb_fail(err, SB_E_INPUT, "--system %s: path too long", o->system);
    sb_rc rc = sb_run_check_input(o, path, err);
    if (!rc)
        rc = sb_npy_read(path, expect_ndim, a, err);
    if (!rc) {
        snprintf(c->files[k], sizeof c->files[k], "%s", path);
        snprintf(c->dtypes[k], sizeof c->dtypes[k], "%s", a->dtype);
    }
    return rc;
}

/* Each d×d block of m (count blocks) symmetric to the tolerance, then exactly. */
static sb_rc symmetrize(double *m, int64_t count, int64_t d, const char *path, sb_err *err)
{
    for (int64_t b = 0; b < count; b++) {
        double *h = m + b * d * d, big = 0;
        for (int64_t k = 0; k < d * d; k++)
            big = fmax(big, fabs(h[k]));
        for (int64_t r = 0; r < d; r++)
            for (int64_t c = r + 1; c < d; c++) {
                double x = h[r * d + c], y = h[c * d + r];
                if (fabs(x - y) > SB_ARROW_SYMMETRY_TOL * big)
                    return sb_fail(err, SB_E_INPUT,
                                   "%s: block %lld is not symmetric: [%lld, %lld] = %.17g but [%lld, %lld] = %.17g "
                                   "(tolerance %g of the block's largest entry)",
                                   path, (long long)b, (long long)r, (long long)c, x, (long long)c, (long long)r, y,
                                   SB_ARROW_SYMMETRY_TOL);
                h[r * d + c] = h[c * d + r] = 0.5 * (x + y);
            }
    }
    return SB_OK;
}

static sb_rc extent_error(const char *path, const sb_npy *a, const char *want, sb_err *err)
{
    char got[96];
    if (a->ndim == 1)
        snprintf(got, sizeof got, "(%lld,)", (long long)a->shape[0]);
    else if (a->ndim == 2)
        snprintf(got, sizeof got, "(%lld, %lld)", (long long)a->shape[0], (long long)a->shape[1]);
    else
        snprintf(got, sizeof got, "(%lld, %lld, %lld)", (long long)a->shape[0], (long long)a->shape[1],
                 (long long)a->shape[2]);
    return sb_fail(err, SB_E_INPUT, "%s: shape %s, expected %s", path, got, want);
}

/* The gradients: inner-loop one g₀ (gt n×d, gb p); outer-seq also S of
 * them (gt S×n×d, gb S×p), one outer each. */
static sb_rc read_gradients(const sb_opts *o, unsigned workload_bit, sb_arrow_case *c, sb_npy *gt, sb_npy *gb,
                            sb_err *err)
{
    const int64_t n = c->sys.n, d = c->sys.d, p = c->sys.p, nt = n * d;
    sb_rc rc = read_one(o, F_GT, 0, c, gt, err);
    if (!rc)
        rc = read_one(o, F_GB, 0, c, gb, err);
    if (rc)
        return rc;
    char want[96];
    int many = gt->ndim == 3;
    if (many && workload_bit != SB_WL_OUTER_SEQ)
        return sb_fail(err, SB_E_INPUT, "%s: S x n x d gradients are outer-seq's; inner-loop takes one g_t of shape (%lld, %lld)",
                       c->files[F_GT], (long long)n, (long long)d);
    if (many ? gt->shape[1] != n || gt->shape[2] != d : gt->ndim != 2 || gt->shape[0] != n || gt->shape[1] != d) {
        snprintf(want, sizeof want, "(%s%lld, %lld)", many ? "S, " : "", (long long)n, (long long)d);
        return extent_error(c->files[F_GT], gt, want, err);
    }
    int64_t S = many ? gt->shape[0] : 1;
    if (many ? gb->ndim != 2 || gb->shape[0] != S || gb->shape[1] != p : gb->ndim != 1 || gb->shape[0] != p) {
        if (many)
            snprintf(want, sizeof want, "(%lld, %lld) to match %s", (long long)S, (long long)p, FILES[F_GT]);
        else
            snprintf(want, sizeof want, "(%lld,)", (long long)p);
        return extent_error(c->files[F_GB], gb, want, err);
    }
    c->data_outers = S;
    c->g_outer = sb_alloc((size_t)S * (size_t)(nt + p), sizeof(double), err);
    c->sys.g_t = sb_alloc((size_t)nt, sizeof(double), err);
    c->sys.g_b = sb_alloc((size_t)p, sizeof(double), err);
    if (!c->g_outer || !c->sys.g_t || !c->sys.g_b)
        return SB_E_RUNTIME;
    for (int64_t s = 0; s < S; s++) {
        memcpy(c->g_outer + s * (nt + p), gt->data + s * nt, (size_t)nt * sizeof(double));
        memcpy(c->g_outer + s * (nt + p) + nt, gb->data + s * p, (size_t)p * sizeof(double));
    }
    memcpy(c->sys.g_t, c->g_outer, (size_t)nt * sizeof(double));
    memcpy(c->sys.g_b, c->g_outer + nt, (size_t)p * sizeof(double));
    return SB_OK;
}

sb_rc sb_arrow_case_load_system(const sb_opts *o, unsigned workload_bit, sb_arrow_case *c, sb_err *err)
{
    sb_npy a[NFILES];
    memset(a, 0, sizeof a);
    sb_rc rc = read_one(o, F_HTT, 3, c, &a[F_HTT], err);
    if (!rc && a[F_HTT].shape[1] != a[F_HTT].shape[2])
        rc = extent_error(c->files[F_HTT], &a[F_HTT], "(n, d, d)", err);
    if (!rc && a[F_HTT].shape[1] > 64)
        rc = sb_fail(err, SB_E_INPUT, "%s: d = %lld; row blocks of at most 64 are supported", c->files[F_HTT],
                     (long long)a[F_HTT].shape[1]);
    const int64_t n = a[F_HTT].shape[0], d = a[F_HTT].shape[1];
    if (!rc)
        rc = read_one(o, F_CROSS, 3, c, &a[F_CROSS], err);
    if (!rc && (a[F_CROSS].shape[0] != n || a[F_CROSS].shape[1] != d)) {
        char want[64];
        snprintf(want, sizeof want, "(%lld, %lld, p) to match %s", (long long)n, (long long)d, FILES[F_HTT]);
        rc = extent_error(c->files[F_CROSS], &a[F_CROSS], want, err);
    }
    const int64_t p = a[F_CROSS].shape[2];
    if (!rc)
        rc = read_one(o, F_HBB, 2, c, &a[F_HBB], err);
    if (!rc && (a[F_HBB].shape[0] != p || a[F_HBB].shape[1] != p)) {
        char want[64];
        snprintf(want, sizeof want, "(%lld, %lld) to match %s", (long long)p, (long long)p, FILES[F_CROSS]);
        rc = extent_error(c->files[F_HBB], &a[F_HBB], want, err);
    }
    if (!rc)
        rc = symmetrize(a[F_HTT].data, n, d, c->files[F_HTT], err);
    if (!rc)
        rc = symmetrize(a[F_HBB].data, 1, p, c->files[F_HBB], err);
    if (!rc) {
        c->sys.n = n, c->sys.p = p, c->sys.d = d;
        rc = read_gradients(o, workload_bit, c, &a[F_GT], &a[F_GB], err);
    }
    /* ½‖target‖²: optional, one value, default 0. */
    char tpath[sizeof c->files[0]];
    snprintf(tpath, sizeof tpath, "%s/%s", o->system, FILES[F_TARGET]);
    if (!rc && access(tpath, F_OK) == 0) {
        rc = read_one(o, F_TARGET, 0, c, &a[F_TARGET], err);
        if (!rc && sb_npy_count(&a[F_TARGET]) != 1)
            rc = sb_fail(err, SB_E_INPUT, "%s: %lld values; ½‖target‖² is one number (np.save(path, [e]))", tpath,
                         (long long)sb_npy_count(&a[F_TARGET]));
        if (!rc)
            c->sys.half_target_energy = a[F_TARGET].data[0];
    }
    if (!rc) {
        c->sys.Htt = a[F_HTT].data, a[F_HTT].data = NULL;
        c->sys.B = a[F_CROSS].data, a[F_CROSS].data = NULL;
        c->sys.Hbb = a[F_HBB].data, a[F_HBB].data = NULL;
        c->from_npy = 1;
    }
    for (int k = 0; k < NFILES; k++)
        sb_npy_free(&a[k]);
    return rc;
}
