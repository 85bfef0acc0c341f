/* The smallest correct saebench solver plugin: resident-solve, inner-loop and
 * outer-seq on the host with CBLAS and LAPACKE (include/saebench/solver.h;
 * docs/plugins.md).
 *
 *   cc -O2 -shared -fPIC -I include -o solver-lapacke.so solver_lapacke.c -llapacke -lopenblas
 *   saebench resident-solve --shape tiny-dual --backend plugin:./solver-lapacke.so
 *   saebench inner-loop --shape tiny-arrow --backend plugin:./solver-lapacke.so
 *
 * resident-solve. Primal: G = Xᵀ diag(w) X + ridge·I by one DSYRK of √w-scaled
 * rows, then DPOSV. Dual (n ≤ p): K = XXᵀ and X·rhs once in stage(); per rep
 * DPOSV of K + ridge·diag(1/w) against X·rhs, then β = (rhs − Xᵀy)/ridge.
 * Nothing that depends on w outlives a rep.
 *
 * inner-loop and outer-seq (the arrow table, below the resident-solve one):
 * factor() builds L_i, Y_i and L_S from saebench's blocks, solve() uses them;
 * nothing that depends on r outlives a solve. */
#include <cblas.h>
#include <lapacke.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "saebench/solver.h"

typedef struct lapacke_rs {
    int n, p, dual;
    double ridge;
    const double *X, *rhs; /* saebench's, valid until destroy */
    double *w;             /* this rep's weights (n) */
    double *sys;           /* the matrix factored: p×p or n×n */
    double *work;          /* primal: √w-scaled X (n×p); dual: K (n×n) */
    double *xr;            /* dual: X·rhs (n) */
    double *sol;           /* primal: β; dual: y */
    double *beta;          /* p */
    saebench_telemetry tele;
} lapacke_rs;

static saebench_status fail(saebench_error *err, saebench_status st, const char *what)
{
    snprintf(err->msg, err->msg_cap, "%s", what);
    return st;
}

static void rs_destroy(void *state)
{
    lapacke_rs *s = state;
    free(s->w);
    free(s->sys);
    free(s->work);
    free(s->xr);
    free(s->sol);
    free(s->beta);
    free(s);
}

static saebench_status rs_create(const saebench_rs_problem *prob, void **state, saebench_error *err)
{
    if (prob->n > 46340 || prob->p > 46340) /* n·n and p·p must fit an int for LAPACKE */
        return fail(err, SAEBENCH_ERR_INPUT, "n and p above 46340 are not supported by this example");
    lapacke_rs *s = calloc(1, sizeof *s);
    if (!s)
        return fail(err, SAEBENCH_ERR_RUNTIME, "out of memory");
    s->n = (int)prob->n;
    s->p = (int)prob->p;
    s->dual = prob->method == SAEBENCH_RS_DUAL;
    s->ridge = prob->ridge;
    size_t n = (size_t)s->n, p = (size_t)s->p, N = s->dual ? n : p;
    s->w = malloc(n * sizeof *s->w);
    s->sys = malloc(N * N * sizeof *s->sys);
    s->work = malloc((s->dual ? n * n : n * p) * sizeof *s->work);
    s->xr = malloc(n * sizeof *s->xr);
    s->sol = malloc(N * sizeof *s->sol);
    s->beta = malloc(p * sizeof *s->beta);
    if (!s->w || !s->sys || !s->work || !s->xr || !s->sol || !s->beta) {
        rs_destroy(s);
        return fail(err, SAEBENCH_ERR_RUNTIME, "out of memory");
    }
    *state = s;
    return SAEBENCH_OK;
}

/* X and rhs stay valid until destroy: keep the pointers; the dual's K = XXᵀ
 * and X·rhs depend on them only, so they are made once, here. */
static saebench_status rs_stage(void *state, const saebench_rs_data *data, saebench_error *err)
{
    (void)err;
    lapacke_rs *s = state;
    s->X = data->X;
    s->rhs = data->rhs;
    if (s->dual) {
        cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, s->n, s->p, 1.0, s->X, s->p, 0.0, s->work, s->n);
        cblas_dgemv(CblasRowMajor, CblasNoTrans, s->n, s->p, 1.0, s->X, s->p, s->rhs, 1, 0.0, s->xr, 1);
        s->tele.library_calls += 2;
    }
    return SAEBENCH_OK;
}

static saebench_status rs_upload_w(void *state, const double *w, saebench_error *err)
{
    (void)err;
    lapacke_rs *s = state;
    memcpy(s->w, w, (size_t)s->n * sizeof *w);
    return SAEBENCH_OK;
}

static saebench_status rs_solve(void *state, saebench_error *err)
{
    lapacke_rs *s = state;
    size_t n = (size_t)s->n, p = (size_t)s->p;
    int N;
    if (s->dual) { /* M = K + ridge·diag(1/w), M y = X·rhs */
        N = s->n;
        memcpy(s->sys, s->work, n * n * sizeof *s->sys);
        for (size_t i = 0; i < n; i++)
            s->sys[i * n + i] += s->ridge / s->w[i];
        memcpy(s->sol, s->xr, n * sizeof *s->sol);
    } else { /* G = (√w X)ᵀ(√w X) + ridge·I, G β = rhs */
        N = s->p;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < p; j++)
                s->work[i * p + j] = sqrt(s->w[i]) * s->X[i * p + j];
        cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, s->p, s->n, 1.0, s->work, s->p, 0.0, s->sys, s->p);
        for (size_t j = 0; j < p; j++)
            s->sys[j * p + j] += s->ridge;
        memcpy(s->sol, s->rhs, p * sizeof *s->sol);
        s->tele.library_calls++;
    }
    lapack_int info = LAPACKE_dposv(LAPACK_ROW_MAJOR, 'L', N, 1, s->sys, N, s->sol, 1);
    s->tele.library_calls++;
    s->tele.factorizations++;
    if (info != 0)
        return fail(err, SAEBENCH_ERR_RUNTIME, "LAPACKE_dposv: the system is not positive definite");
    if (s->dual) { /* β = (rhs − Xᵀy)/ridge */
        memcpy(s->beta, s->rhs, p * sizeof *s->beta);
        cblas_dgemv(CblasRowMajor, CblasTrans, s->n, s->p, -1.0 / s->ridge, s->X, s->p, s->sol, 1, 1.0 / s->ridge, s->beta, 1);
        s->tele.library_calls++;
    } else {
        memcpy(s->beta, s->sol, p * sizeof *s->beta);
    }
    return SAEBENCH_OK;
}

static saebench_status rs_download_beta(void *state, double *beta, saebench_error *err)
{
    (void)err;
    lapacke_rs *s = state;
    memcpy(beta, s->beta, (size_t)s->p * sizeof *beta);
    return SAEBENCH_OK;
}

static saebench_status rs_telemetry(void *state, saebench_telemetry *t, saebench_error *err)
{
    (void)err;
    const lapacke_rs *s = state;
    if (SAEBENCH_HAS_FIELD(t, saebench_telemetry, factorizations))
        t->factorizations = s->tele.factorizations;
    if (SAEBENCH_HAS_FIELD(t, saebench_telemetry, library_calls))
        t->library_calls = s->tele.library_calls;
    return SAEBENCH_OK; /* on the host: no bytes cross a bus, no kernels */
}

static const saebench_rs_ops_v1 RS_OPS = {
    .struct_size = sizeof(saebench_rs_ops_v1),
    .methods = SAEBENCH_RS_METHOD_BIT(SAEBENCH_RS_PRIMAL) | SAEBENCH_RS_METHOD_BIT(SAEBENCH_RS_DUAL),
    .create = rs_create,
    .stage = rs_stage,
    .upload_w = rs_upload_w,
    .solve = rs_solve,
    .download_beta = rs_download_beta,
    .telemetry = rs_telemetry,
    .destroy = rs_destroy,
};

/* ------------------------------------------------------------ the arrow table */

/* Everything row-major, as saebench's blocks are: L holds the n blocks
 * L_i = chol(H_tt,i + ρ_t I) (d×d, lower), Y the blocks Y_i = L_i⁻¹B_i
 * stacked (n·d × p), S the p×p Schur complement and then L_S (lower). */
typedef struct lapacke_arrow {
    int n, d, p, nd;
    const double *Htt, *B, *Hbb; /* saebench's, valid until destroy */
    double *L, *Y, *S;
    double *u;                   /* n·d: L⁻¹r_t, then u + Yδβ */
    int factored;                /* the latest factor() produced L_i, Y_i, L_S */
    saebench_telemetry tele;
} lapacke_arrow;

static void arrow_destroy(void *state)
{
    lapacke_arrow *s = state;
    free(s->L);
    free(s->Y);
    free(s->S);
    free(s->u);
    free(s);
}

/* The blocks stay valid until destroy: keep the pointers. factor() reads
 * them afresh every time, so a reupload state (re-stage in every factor)
 * needs nothing more on the host. */
static saebench_status arrow_create(const saebench_arrow_problem *prob, void **state, saebench_error *err)
{
    if (prob->n * prob->d > INT_MAX || prob->p > 46340) /* p·p must fit an int for LAPACKE */
        return fail(err, SAEBENCH_ERR_INPUT, "n·d above 2147483647 or p above 46340 are not supported by this example");
    lapacke_arrow *s = calloc(1, sizeof *s);
    if (!s)
        return fail(err, SAEBENCH_ERR_RUNTIME, "out of memory");
    s->n = (int)prob->n;
    s->d = (int)prob->d;
    s->p = (int)prob->p;
    s->nd = s->n * s->d;
    s->Htt = prob->Htt;
    s->B = prob->B;
    s->Hbb = prob->Hbb;
    size_t nd = (size_t)s->nd, d = (size_t)s->d, p = (size_t)s->p;
    s->L = malloc(nd * d * sizeof *s->L);
    s->Y = malloc(nd * p * sizeof *s->Y);
    s->S = malloc(p * p * sizeof *s->S);
    s->u = malloc(nd * sizeof *s->u);
    if (!s->L || !s->Y || !s->S || !s->u) {
        arrow_destroy(s);
        return fail(err, SAEBENCH_ERR_RUNTIME, "out of memory");
    }
    *state = s;
    return SAEBENCH_OK;
}

/* L_i = chol(H_tt,i + ρ_t I), Y_i = L_i⁻¹B_i, S = H_ββ + ρ_β I − Σ Y_iᵀY_i,
 * L_S = chol(S). A block that is not positive definite is a result. */
static saebench_status arrow_factor(void *state, double ridge_t, double ridge_b, int32_t *positive_definite,
                                    double *logdet, saebench_error *err)
{
    (void)err;
    lapacke_arrow *s = state;
    const int d = s->d, p = s->p;
    s->factored = 0;
    *positive_definite = 0;
    double ld = 0.0;
    for (int i = 0; i < s->n; i++) {
        double *Li = s->L + (size_t)i * d * d, *Yi = s->Y + (size_t)i * d * p;
        memcpy(Li, s->Htt + (size_t)i * d * d, (size_t)d * d * sizeof *Li);
        for (int r = 0; r < d; r++)
            Li[r * d + r] += ridge_t;
        s->tele.library_calls++;
        if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', d, Li, d) != 0)
            return SAEBENCH_OK;
        memcpy(Yi, s->B + (size_t)i * d * p, (size_t)d * p * sizeof *Yi);
        cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, d, p, 1.0, Li, d, Yi, p);
        s->tele.library_calls++;
        for (int r = 0; r < d; r++)
            ld += log(Li[r * d + r]);
    }
    memcpy(s->S, s->Hbb, (size_t)p * p * sizeof *s->S);
    for (int j = 0; j < p; j++)
        s->S[(size_t)j * p + j] += ridge_b;
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, p, s->nd, -1.0, s->Y, p, 1.0, s->S, p);
    s->tele.library_calls += 2;
    if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', p, s->S, p) != 0)
        return SAEBENCH_OK;
    for (int j = 0; j < p; j++)
        ld += log(s->S[(size_t)j * p + j]);
    *logdet = 2.0 * ld;
    *positive_definite = 1;
    s->factored = 1;
    s->tele.factorizations++;
    return SAEBENCH_OK;
}

/* u_i = L_i⁻¹r_t,i; δβ = S⁻¹(−r_β + Yᵀu); δt_i = −L_i⁻ᵀ(u_i + Y_i δβ). */
static saebench_status arrow_solve(void *state, const double *r_t, const double *r_b, double *dt, double *db,
                                   saebench_error *err)
{
    lapacke_arrow *s = state;
    const int d = s->d, p = s->p;
    if (!s->factored)
        return fail(err, SAEBENCH_ERR_RUNTIME, "solve without a successful factor");
    memcpy(s->u, r_t, (size_t)s->nd * sizeof *s->u);
    for (int i = 0; i < s->n; i++)
        cblas_dtrsv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, d, s->L + (size_t)i * d * d, d, s->u + (size_t)i * d, 1);
    for (int j = 0; j < p; j++)
        db[j] = -r_b[j];
    cblas_dgemv(CblasRowMajor, CblasTrans, s->nd, p, 1.0, s->Y, p, s->u, 1, 1.0, db, 1);
    cblas_dtrsv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, p, s->S, p, db, 1);
    cblas_dtrsv(CblasRowMajor, CblasLower, CblasTrans, CblasNonUnit, p, s->S, p, db, 1);
    cblas_dgemv(CblasRowMajor, CblasNoTrans, s->nd, p, 1.0, s->Y, p, db, 1, 1.0, s->u, 1);
    for (int i = 0; i < s->n; i++)
        cblas_dtrsv(CblasRowMajor, CblasLower, CblasTrans, CblasNonUnit, d, s->L + (size_t)i * d * d, d, s->u + (size_t)i * d, 1);
    for (int k = 0; k < s->nd; k++)
        dt[k] = -s->u[k];
    s->tele.library_calls += 2 * s->n + 4;
    return SAEBENCH_OK;
}

static saebench_status arrow_telemetry(void *state, saebench_telemetry *t, saebench_error *err)
{
    (void)err;
    const lapacke_arrow *s = state;
    if (SAEBENCH_HAS_FIELD(t, saebench_telemetry, factorizations))
        t->factorizations = s->tele.factorizations;
    if (SAEBENCH_HAS_FIELD(t, saebench_telemetry, library_calls))
        t->library_calls = s->tele.library_calls;
    return SAEBENCH_OK;
}

static const saebench_arrow_ops_v1 ARROW_OPS = {
    .struct_size = sizeof(saebench_arrow_ops_v1),
    .create = arrow_create,
    .factor = arrow_factor,
    .solve = arrow_solve,
    .telemetry = arrow_telemetry,
    .destroy = arrow_destroy,
};

static const saebench_solver_desc_v1 DESC = {
    .struct_size = sizeof(saebench_solver_desc_v1),
    .api_version = SAEBENCH_SOLVER_API_VERSION,
    .name = "lapacke-example",
    .version = "1.1.0",
    .claims_device = 0,
    .device = NULL,
    .workloads = SAEBENCH_WORKLOAD_RESIDENT_SOLVE | SAEBENCH_WORKLOAD_INNER_LOOP,
    .resident_solve = &RS_OPS,
    .arrow = &ARROW_OPS,
};

SAEBENCH_SOLVER_EXPORT const saebench_solver_desc_v1 *saebench_solver_v1(void) { return &DESC; }
