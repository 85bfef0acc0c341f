#include "oracle_rs.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

sb_rc sb_oracle_resident_solve(int64_t n, int64_t p, const double *X, const double *w,
                               const double *rhs, double ridge, double *beta, sb_err *err)
{
    size_t np = (size_t)n * (size_t)p, pp = (size_t)p * (size_t)p;
    double *WX = sb_alloc(np, sizeof *WX, err);
    double *G = WX ? sb_alloc(pp, sizeof *G, err) : NULL;
    if (!G) {
        free(WX);
        return SB_E_RUNTIME;
    }
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < p; j++)
            WX[i * p + j] = w[i] * X[i * p + j];
    /* G = Xᵀ (W X), the full matrix, row-major. */
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)p, (int)p, (int)n, 1.0, X, (int)p, WX,
                (int)p, 0.0, G, (int)p);
    for (int64_t j = 0; j < p; j++)
        G[j * p + j] += ridge;
    memcpy(beta, rhs, (size_t)p * sizeof *beta);
    lapack_int info = LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', (lapack_int)p, 1, G, (lapack_int)p, beta, 1);
    free(WX);
    free(G);
    if (info != 0)
        return sb_fail(err, SB_E_RUNTIME, "oracle LAPACKE_dposv: info=%d (system not positive definite)", (int)info);
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
