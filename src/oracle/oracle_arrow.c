/* Dense oracle for the arrow-Schur solve (docs/workloads.md §2 Oracle): assemble
 * the whole (n·d+p)² matrix H + R, unknowns ordered t then β, and factor it
 * with one LAPACKE dpotrf; solve with two BLAS triangular solves. No block
 * structure, no Schur complement: nothing is shared with a backend's math. */
#include <cblas.h>
#include <lapacke.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../arrow.h"
#include "oracle_rs.h"

typedef struct oracle_arrow {
    const sb_arrow_system *sys;
    int N;          /* n·d + p */
    double *A;      /* N×N; after factor, U (A = UᵀU) in the upper triangle, row-major */
    double *x;      /* N: −r, then δ */
    int factored;
    double anorm;   /* ‖A‖₁ of the last assembled H + R (dlansy), for κ̂ */
    long long factorizations;
} oracle_arrow;

static void oracle_arrow_destroy(void *state)
{
    oracle_arrow *s = state;
    if (!s)
        return;
    free(s->A);
    free(s->x);
    free(s);
}

static sb_rc oracle_arrow_create(const sb_arrow_system *sys, int reupload, void **state, sb_err *err)
{
    (void)reupload; /* the oracle assembles everything on every factor() anyway */
    *state = NULL;
    int64_t N = sys->n * sys->d + sys->p;
    if (sys->n < 1 || sys->p < 1 || sys->d < 1 || N > INT_MAX)
        return sb_fail(err, SB_E_INPUT, "arrow oracle: n·d + p = %lld out of range", (long long)N);
    oracle_arrow *s = sb_alloc(1, sizeof *s, err);
    if (!s)
        return SB_E_RUNTIME;
    s->sys = sys;
    s->N = (int)N;
    s->A = sb_alloc((size_t)N * (size_t)N, sizeof(double), err);
    s->x = s->A ? sb_alloc((size_t)N, sizeof(double), err) : NULL;
    if (!s->x) {
        oracle_arrow_destroy(s);
        return SB_E_RUNTIME;
    }
    *state = s;
    return SB_OK;
}

static sb_rc oracle_arrow_factor(void *state, double ridge_t, double ridge_b, int *pd, double *logdet, sb_err *err)
{
    oracle_arrow *s = state;
    const sb_arrow_system *sys = s->sys;
    const int64_t n = sys->n, p = sys->p, d = sys->d, nd = n * d;
    const size_t N = (size_t)s->N;
    double *A = s->A;
    s->factored = 0;
    *pd = 0;
    *logdet = 0.0;
    memset(A, 0, N * N * sizeof *A);
    for (int64_t i = 0; i < n; i++)
        for (int64_t r = 0; r < d; r++) {
            size_t row = (size_t)(i * d + r);
            for (int64_t c = 0; c < d; c++)
                A[row * N + (size_t)(i * d + c)] = sys->Htt[(i * d + r) * d + c];
            A[row * N + row] += ridge_t;
            for (int64_t j = 0; j < p; j++) {
                double b = sys->B[(i * d + r) * p + j];
                A[row * N + (size_t)(nd + j)] = b;
                A[(size_t)(nd + j) * N + row] = b;
            }
        }
    for (int64_t r = 0; r < p; r++) {
        memcpy(A + (size_t)(nd + r) * N + (size_t)nd, sys->Hbb + r * p, (size_t)p * sizeof *A);
        A[(size_t)(nd + r) * N + (size_t)(nd + r)] += ridge_b;
    }
    /* A is symmetric, so its row-major storage is also its column-major
     * storage: the column-major lower factor L (A = LLᵀ) lands as the
     * row-major upper U = Lᵀ, with no transposed copy of N² doubles. */
    s->anorm = LAPACKE_dlansy(LAPACK_COL_MAJOR, '1', 'L', s->N, A, s->N);
    lapack_int info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', s->N, A, s->N);
    if (info > 0)
        return SB_OK;
    if (info < 0)
        return sb_fail(err, SB_E_RUNTIME, "arrow oracle LAPACKE_dpotrf: info=%d", (int)info);
    double ld = 0.0;
    for (size_t k = 0; k < N; k++)
        ld += 2.0 * log(A[k * N + k]);
    *logdet = ld;
    *pd = 1;
    s->factored = 1;
    s->factorizations++;
    return SB_OK;
}

static sb_rc oracle_arrow_solve(void *state, const double *r_t, const double *r_b, double *dt, double *db, sb_err *err)
{
    oracle_arrow *s = state;
    const int64_t nd = s->sys->n * s->sys->d, p = s->sys->p;
    if (!s->factored)
        return sb_fail(err, SB_E_RUNTIME, "arrow oracle: solve without a successful factor");
    for (int64_t k = 0; k < nd; k++)
        s->x[k] = -r_t[k];
    for (int64_t j = 0; j < p; j++)
        s->x[nd + j] = -r_b[j];
    /* UᵀU δ = −r */
    cblas_dtrsv(CblasRowMajor, CblasUpper, CblasTrans, CblasNonUnit, s->N, s->A, s->N, s->x, 1);
    cblas_dtrsv(CblasRowMajor, CblasUpper, CblasNoTrans, CblasNonUnit, s->N, s->A, s->N, s->x, 1);
    memcpy(dt, s->x, (size_t)nd * sizeof *dt);
    memcpy(db, s->x + nd, (size_t)p * sizeof *db);
    return SB_OK;
}

/* κ̂₁ of the H + R last factored: the 1-norm estimate on its factor
 * (sb_oracle_kappa_chol) and the ‖·‖₁ taken before factoring; O(N²) per
 * solve beside the factor's N³/3. */
static double oracle_arrow_condition(void *state)
{
    oracle_arrow *s = state;
    return s->factored ? sb_oracle_kappa_chol('L', s->N, s->A, s->N, s->anorm) : NAN;
}

static void oracle_arrow_telemetry(const void *state, sb_telemetry *t)
{
    const oracle_arrow *s = state;
    memset(t, 0, sizeof *t);
    t->factorizations = s->factorizations;
    t->frame_builds = s->factorizations;
}

const sb_arrow_ops sb_oracle_arrow_ops = {
    .create = oracle_arrow_create,
    .factor = oracle_arrow_factor,
    .solve = oracle_arrow_solve,
    .condition = oracle_arrow_condition,
    .telemetry = oracle_arrow_telemetry,
    .destroy = oracle_arrow_destroy,
};
