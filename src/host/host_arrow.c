/* Host arrow-Schur solve mode (docs/workloads.md §2 Newton step): the structured factorisation the
 * device path runs, on OpenBLAS + LAPACKE, with the per-row d×d work threaded
 * by OpenMP. The factors (L_i, Y_i, L_S) stay in the state between factor()
 * and the solves that follow, which is the host's "resident frame".
 *
 * Layouts: L is n blocks of d×d, row-major lower (upper part zero). Y stacks
 * the Y_i = L_i⁻¹B_i as an (n·d)×p row-major matrix, i.e. the column-major
 * p×(n·d) matrix A = Yᵀ, so Σ Y_iᵀY_i = AAᵀ is one DSYRK with no transpose.
 * S is p×p column-major with L_S in its lower triangle. */
#include <cblas.h>
#include <lapacke.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../arrow.h"

typedef struct host_arrow {
    const sb_arrow_system *sys;
    int reupload;
    int n, p, d, nd;
    const double *Htt, *B, *Hbb;     /* the operator factored: sys's, or the copies below */
    double *Htt_own, *B_own, *Hbb_own; /* reupload: re-packed every factor() */
    double *L, *Y, *S;
    double *u, *w;                   /* n·d: L⁻¹r_t, then Y δβ */
    int factored;                    /* the last factor() succeeded */
    sb_telemetry tele;
} host_arrow;

static void host_arrow_destroy(void *state)
{
    host_arrow *s = state;
    if (!s)
        return;
    free(s->Htt_own);
    free(s->B_own);
    free(s->Hbb_own);
    free(s->L);
    free(s->Y);
    free(s->S);
    free(s->u);
    free(s->w);
    free(s);
}

static sb_rc host_arrow_create(const sb_arrow_system *sys, int reupload, void **state, sb_err *err)
{
    *state = NULL;
    if (sys->n < 1 || sys->p < 1 || sys->d < 1 || sys->n * sys->d > INT_MAX || sys->p > INT_MAX)
        return sb_fail(err, SB_E_INPUT, "host arrow: n·d=%lld and p=%lld must be in [1, %d]",
                       (long long)(sys->n * sys->d), (long long)sys->p, INT_MAX);
    host_arrow *s = sb_alloc(1, sizeof *s, err);
    if (!s)
        return SB_E_RUNTIME;
    s->sys = sys;
    s->reupload = reupload;
    s->n = (int)sys->n;
    s->p = (int)sys->p;
    s->d = (int)sys->d;
    s->nd = s->n * s->d;
    size_t nd = (size_t)s->nd, p = (size_t)s->p, d = (size_t)s->d;
    s->L = sb_alloc(nd * d, sizeof(double), err);
    s->Y = s->L ? sb_alloc(nd * p, sizeof(double), err) : NULL;
    s->S = s->Y ? sb_alloc(p * p, sizeof(double), err) : NULL;
    s->u = s->S ? sb_alloc(nd, sizeof(double), err) : NULL;
    s->w = s->u ? sb_alloc(nd, sizeof(double), err) : NULL;
    if (!s->w)
        goto oom;
    if (reupload) {
        s->Htt_own = sb_alloc(nd * d, sizeof(double), err);
        s->B_own = s->Htt_own ? sb_alloc(nd * p, sizeof(double), err) : NULL;
        s->Hbb_own = s->B_own ? sb_alloc(p * p, sizeof(double), err) : NULL;
        if (!s->Hbb_own)
            goto oom;
        s->Htt = s->Htt_own;
        s->B = s->B_own;
        s->Hbb = s->Hbb_own;
    } else {
        s->Htt = sys->Htt;
        s->B = sys->B;
        s->Hbb = sys->Hbb;
    }
    /* A frame is staged data, as on the device: the operator is the caller's
     * (or, re-uploading, copied again by every factor()). */
    s->tele.frame_builds = 1;
    *state = s;
    return SB_OK;
oom:
    host_arrow_destroy(s);
    return SB_E_RUNTIME;
}

/* L_i = chol(H_tt,i + ρ I) in place (row-major lower, upper zeroed) and
 * Y_i = L_i⁻¹ B_i by forward substitution over the d rows. 0 if not PD. */
static int row_factor(const double *H, const double *Bi, double ridge, int d, int p, double *L, double *Yi)
{
    for (int r = 0; r < d; r++)
        for (int c = 0; c < d; c++)
            L[r * d + c] = c <= r ? H[r * d + c] + (r == c ? ridge : 0.0) : 0.0;
    for (int j = 0; j < d; j++) {
        double diag = L[j * d + j];
        for (int k = 0; k < j; k++)
            diag -= L[j * d + k] * L[j * d + k];
        if (!(diag > 0.0) || !isfinite(diag))
            return 0;
        diag = sqrt(diag);
        L[j * d + j] = diag;
        for (int r = j + 1; r < d; r++) {
            double v = L[r * d + j];
            for (int k = 0; k < j; k++)
                v -= L[r * d + k] * L[j * d + k];
            L[r * d + j] = v / diag;
        }
    }
    for (int r = 0; r < d; r++) {
        double *yr = Yi + (size_t)r * (size_t)p;
        memcpy(yr, Bi + (size_t)r * (size_t)p, (size_t)p * sizeof *yr);
        for (int k = 0; k < r; k++) {
            const double *yk = Yi + (size_t)k * (size_t)p;
            double l = L[r * d + k];
            for (int j = 0; j < p; j++)
                yr[j] -= l * yk[j];
        }
        double inv = L[r * d + r];
        for (int j = 0; j < p; j++)
            yr[j] /= inv;
    }
    return 1;
}

static sb_rc host_arrow_factor(void *state, double ridge_t, double ridge_b, int *pd, double *logdet, sb_err *err)
{
    host_arrow *s = state;
    const sb_arrow_system *sys = s->sys;
    const int n = s->n, p = s->p, d = s->d, nd = s->nd;
    const size_t pp = (size_t)p * (size_t)p;
    s->factored = 0;
    *pd = 0;
    *logdet = 0.0;
    if (s->reupload) {
        /* The residency baseline: stage the whole operator again. */
        memcpy(s->Htt_own, sys->Htt, (size_t)nd * (size_t)d * sizeof(double));
        memcpy(s->B_own, sys->B, (size_t)nd * (size_t)p * sizeof(double));
        memcpy(s->Hbb_own, sys->Hbb, pp * sizeof(double));
        s->tele.frame_builds++;
    }

    int bad = 0;
#pragma omp parallel for schedule(static) reduction(| : bad)
    for (int i = 0; i < n; i++) {
        size_t off = (size_t)i * (size_t)d;
        if (!row_factor(s->Htt + off * (size_t)d, s->B + off * (size_t)p, ridge_t, d, p,
                        s->L + off * (size_t)d, s->Y + off * (size_t)p))
            bad |= 1;
    }
    if (bad)
        return SB_OK;

    /* S = H_ββ + ρ_β I − YᵀY (lower triangle, column-major; H_ββ is symmetric). */
    memcpy(s->S, s->Hbb, pp * sizeof(double));
    for (int j = 0; j < p; j++)
        s->S[(size_t)j * (size_t)p + (size_t)j] += ridge_b;
    cblas_dsyrk(CblasColMajor, CblasLower, CblasNoTrans, p, nd, -1.0, s->Y, p, 1.0, s->S, p);
    lapack_int info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', p, s->S, p);
    if (info > 0)
        return SB_OK;
    if (info < 0)
        return sb_fail(err, SB_E_RUNTIME, "host arrow LAPACKE_dpotrf: info=%d", (int)info);

    /* 2 Σ ln diag(L_i) + 2 Σ ln diag(L_S), summed in index order */
    double ld = 0.0;
    for (int k = 0; k < nd; k++) {
        int r = k % d;
        ld += log(s->L[(size_t)k * (size_t)d + (size_t)r]);
    }
    for (int j = 0; j < p; j++)
        ld += log(s->S[(size_t)j * (size_t)p + (size_t)j]);
    *logdet = 2.0 * ld;
    *pd = 1;
    s->factored = 1;
    s->tele.factorizations++;
    return SB_OK;
}

static sb_rc host_arrow_solve(void *state, const double *r_t, const double *r_b, double *dt, double *db, sb_err *err)
{
    host_arrow *s = state;
    const int n = s->n, p = s->p, d = s->d, nd = s->nd;
    if (!s->factored)
        return sb_fail(err, SB_E_RUNTIME, "host arrow: solve without a successful factor");

    /* u_i = L_i⁻¹ r_t,i. The solve's per-row loops are O(n·d²), too little
     * to thread: an OpenMP team here leaves its idle workers spinning while
     * OpenBLAS's threads run the DGEMVs and DPOTRS on the same cores
     * (measured on 2 cores: qwen 12.1 ms threaded vs 9.4 ms with passive
     * waiting). Only the factor's O(n·d²·p) loops are threaded. */
    for (int i = 0; i < n; i++) {
        const double *L = s->L + (size_t)i * (size_t)(d * d);
        const double *ri = r_t + (size_t)i * (size_t)d;
        double *ui = s->u + (size_t)i * (size_t)d;
        for (int r = 0; r < d; r++) {
            double v = ri[r];
            for (int k = 0; k < r; k++)
                v -= L[r * d + k] * ui[k];
            ui[r] = v / L[r * d + r];
        }
    }
    /* δβ = S⁻¹(−r_β + Yᵀu) */
    for (int j = 0; j < p; j++)
        db[j] = -r_b[j];
    cblas_dgemv(CblasColMajor, CblasNoTrans, p, nd, 1.0, s->Y, p, s->u, 1, 1.0, db, 1);
    lapack_int info = LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'L', p, 1, s->S, p, db, p);
    if (info != 0)
        return sb_fail(err, SB_E_RUNTIME, "host arrow LAPACKE_dpotrs: info=%d", (int)info);
    /* δt_i = −L_i⁻ᵀ(u_i + Y_i δβ) */
    cblas_dgemv(CblasColMajor, CblasTrans, p, nd, 1.0, s->Y, p, db, 1, 0.0, s->w, 1);
    for (int i = 0; i < n; i++) {
        const double *L = s->L + (size_t)i * (size_t)(d * d);
        const double *ui = s->u + (size_t)i * (size_t)d, *wi = s->w + (size_t)i * (size_t)d;
        double *x = dt + (size_t)i * (size_t)d;
        for (int r = d - 1; r >= 0; r--) {
            double v = ui[r] + wi[r];
            for (int k = r + 1; k < d; k++)
                v -= L[k * d + r] * x[k];
            x[r] = v / L[r * d + r];
        }
        for (int r = 0; r < d; r++)
            x[r] = -x[r];
    }
    return SB_OK;
}

static void host_arrow_telemetry(const void *state, sb_telemetry *t)
{
    const host_arrow *s = state;
    memset(t, 0, sizeof *t);
    t->factorizations = s->tele.factorizations;
    t->frame_builds = s->tele.frame_builds;
}

const sb_arrow_ops sb_host_arrow_ops = {
    .create = host_arrow_create,
    .factor = host_arrow_factor,
    .solve = host_arrow_solve,
    .telemetry = host_arrow_telemetry,
    .destroy = host_arrow_destroy,
};
