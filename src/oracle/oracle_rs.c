#include "oracle_rs.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../timing.h"

/* G = Xᵀ diag(w) X + ridge·I, the full matrix (symmetric: row- and
 * column-major alike), from a general DGEMM through the row-major interface. */
static double *oracle_gram(int64_t n, int64_t p, const double *X, const double *w, double ridge, sb_err *err)
{
    size_t np = (size_t)n * (size_t)p, pp = (size_t)p * (size_t)p;
    double *WX = sb_alloc(np, sizeof *WX, err);
    double *G = WX ? sb_alloc(pp, sizeof *G, err) : NULL;
    if (!G) {
        free(WX);
        return NULL;
    }
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < p; j++)
            WX[i * p + j] = w[i] * X[i * p + j];
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)p, (int)p, (int)n, 1.0, X, (int)p, WX,
                (int)p, 0.0, G, (int)p);
    free(WX);
    for (int64_t j = 0; j < p; j++)
        G[j * p + j] += ridge;
    return G;
}

/* The oracle's solve: G formed, ref = G⁻¹ rhs by LAPACKE dposv (column-major,
 * 'U': G is symmetric, so this is the same matrix; the factor goes into the
 * upper triangle and the strictly lower one keeps G). On success *G_out holds
 * it for the caller to free. With norm (the parity check), ‖G‖₁ and G's
 * diagonal are taken before the factor overwrites them, and *norm_s is the
 * time that took. */
static sb_rc oracle_solve(int64_t n, int64_t p, const double *X, const double *w, const double *rhs, double ridge,
                          double *ref, double **G_out, double *norm, double *diag, double *norm_s, sb_err *err)
{
    double *G = oracle_gram(n, p, X, w, ridge, err);
    if (!G)
        return SB_E_RUNTIME;
    if (norm) {
        double t0 = sb_now_s();
        /* ‖G‖₁ = ‖G‖∞ (symmetric), before the factor overwrites a triangle. */
        *norm = LAPACKE_dlansy(LAPACK_COL_MAJOR, '1', 'U', (lapack_int)p, G, (lapack_int)p);
        for (int64_t j = 0; j < p; j++)
            diag[j] = G[j * p + j];
        *norm_s = sb_now_s() - t0;
    }
    memcpy(ref, rhs, (size_t)p * sizeof *ref);
    lapack_int info = LAPACKE_dposv(LAPACK_COL_MAJOR, 'U', (lapack_int)p, 1, G, (lapack_int)p, ref, (lapack_int)p);
    if (info != 0) {
        free(G);
        return sb_fail(err, SB_E_RUNTIME, "oracle LAPACKE_dposv: info=%d (system not positive definite)", (int)info);
    }
    *G_out = G;
    return SB_OK;
}

sb_rc sb_oracle_resident_solve(int64_t n, int64_t p, const double *X, const double *w,
                               const double *rhs, double ridge, double *beta, sb_err *err)
{
    double *G = NULL;
    sb_rc rc = oracle_solve(n, p, X, w, rhs, ridge, beta, &G, NULL, NULL, NULL, err);
    free(G);
    return rc;
}

/* ‖rhs − G x‖∞ with G's original matrix read from what dposv left: the
 * strictly lower triangle (column-major) untouched, the diagonal in diag.
 * The factor's diagonal is swapped out for the symv and back. */
static double resid_inf(int64_t p, double *G, const double *diag, double *fdiag, const double *x,
                        const double *rhs, double *r)
{
    for (int64_t j = 0; j < p; j++) {
        fdiag[j] = G[j * p + j];
        G[j * p + j] = diag[j];
    }
    memcpy(r, rhs, (size_t)p * sizeof *r);
    cblas_dsymv(CblasColMajor, CblasLower, (int)p, -1.0, G, (int)p, x, 1, 1.0, r, 1);
    for (int64_t j = 0; j < p; j++)
        G[j * p + j] = fdiag[j];
    double m = 0;
    for (int64_t j = 0; j < p; j++) {
        if (isnan(r[j]))
            return NAN;
        m = fmax(m, fabs(r[j]));
    }
    return m;
}

static double vec_inf(const double *x, int64_t p)
{
    double m = 0;
    for (int64_t j = 0; j < p; j++) {
        if (isnan(x[j]))
            return NAN;
        m = fmax(m, fabs(x[j]));
    }
    return m;
}

double sb_oracle_kappa_chol(char uplo, int64_t n, const double *factor, int64_t ld, double anorm)
{
    if (isnan(anorm))
        return NAN;
    if (n < 1 || anorm == 0)
        return INFINITY;
    double *v = malloc(2 * (size_t)n * sizeof *v);
    lapack_int *isgn = malloc((size_t)n * sizeof *isgn);
    if (!v || !isgn) {
        free(v);
        free(isgn);
        return NAN;
    }
    double *x = v + n, est = 0;
    lapack_int kase = 0, isave[3] = {0, 0, 0};
    const CBLAS_UPLO ul = uplo == 'U' ? CblasUpper : CblasLower;
    /* A = UᵀU: solve Uᵀy = x, then Ux = y; A = LLᵀ: L then Lᵀ. A⁻¹ is
     * symmetric, so kase 1 (A⁻¹x) and kase 2 (A⁻ᵀx) are one solve. */
    const CBLAS_TRANSPOSE first = uplo == 'U' ? CblasTrans : CblasNoTrans;
    const CBLAS_TRANSPOSE second = uplo == 'U' ? CblasNoTrans : CblasTrans;
    for (;;) {
        LAPACKE_dlacn2_work((lapack_int)n, v, x, isgn, &est, &kase, isave);
        if (kase == 0)
            break;
        cblas_dtrsv(CblasColMajor, ul, first, CblasNonUnit, (int)n, factor, (int)ld, x, 1);
        cblas_dtrsv(CblasColMajor, ul, second, CblasNonUnit, (int)n, factor, (int)ld, x, 1);
        for (int64_t k = 0; k < n; k++)
            if (!isfinite(x[k])) {
                free(v);
                free(isgn);
                return INFINITY;
            }
    }
    free(v);
    free(isgn);
    return est > 0 ? anorm * est : INFINITY;
}

sb_rc sb_oracle_rs_check(int64_t n, int64_t p, const double *X, const double *w, const double *rhs, double ridge,
                         const double *beta, double *ref, sb_solve_parity *out, sb_err *err)
{
    memset(out, 0, sizeof *out);
    out->order = p;
    double *work = sb_alloc(3 * (size_t)p, sizeof *work, err);
    if (!work)
        return SB_E_RUNTIME;
    double *diag = work, *fdiag = work + p, *r = work + 2 * p;
    /* Untimed by the run, timed here for the verdict: the norm, κ̂ and
     * both residuals, everything the rule adds to the oracle's solve. */
    double *G = NULL, anorm = 0, spent = 0;
    sb_rc rc = oracle_solve(n, p, X, w, rhs, ridge, ref, &G, &anorm, diag, &spent, err);
    if (rc) {
        free(work);
        return rc;
    }
    double t0 = sb_now_s();
    out->norm_inf = anorm;
    out->kappa_est = sb_oracle_kappa_chol('U', p, G, p, anorm);
    out->scaled_residual = sb_parity_scaled_residual(resid_inf(p, G, diag, fdiag, beta, rhs, r), anorm, vec_inf(beta, p), p);
    out->scaled_residual_oracle = sb_parity_scaled_residual(resid_inf(p, G, diag, fdiag, ref, rhs, r), anorm, vec_inf(ref, p), p);
    out->estimate_s = spent + (sb_now_s() - t0);
    free(G);
    free(work);
    out->rel_err = sb_rel_inf_err(beta, ref, p, &out->abs_err);
    sb_parity_judge(out);
    return SB_OK;
}

double sb_rel_inf_err(const double *a, const double *b, int64_t len, double *abs_err)
{
    double diff = 0, ref = 0;
    for (int64_t k = 0; k < len; k++) {
        double d = fabs(a[k] - b[k]);
        if (isnan(d))
            diff = NAN;
        else if (d > diff)
            diff = d;
        if (fabs(b[k]) > ref)
            ref = fabs(b[k]);
    }
    if (abs_err)
        *abs_err = diff;
    if (isnan(diff))
        return NAN;
    return ref > 0 ? diff / ref : diff;
}
