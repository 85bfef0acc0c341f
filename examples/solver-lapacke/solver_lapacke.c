/* The smallest correct saebench solver plugin: resident-solve on the host
 * with CBLAS and LAPACKE (include/saebench/solver.h; docs/plugins.md).
 *
 *   cc -O2 -shared -fPIC -I include -o solver-lapacke.so solver_lapacke.c -llapacke -lopenblas
 *   saebench resident-solve --shape tiny-dual --backend plugin:./solver-lapacke.so
 *
 * Primal: G = Xᵀ diag(w) X + ridge·I by one DSYRK of √w-scaled rows, then
 * DPOSV. Dual (n ≤ p): K = XXᵀ and X·rhs once in stage(); per rep DPOSV of
 * K + ridge·diag(1/w) against X·rhs, then β = (rhs − Xᵀy)/ridge. Nothing that
 * depends on w outlives a rep. */
#include <cblas.h>
#include <lapacke.h>
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

static const saebench_solver_desc_v1 DESC = {
    .struct_size = sizeof(saebench_solver_desc_v1),
    .api_version = SAEBENCH_SOLVER_API_VERSION,
    .name = "lapacke-example",
    .version = "1.0.0",
    .claims_device = 0,
    .device = NULL,
    .workloads = SAEBENCH_WORKLOAD_RESIDENT_SOLVE,
    .resident_solve = &RS_OPS,
};

SAEBENCH_SOLVER_EXPORT const saebench_solver_desc_v1 *saebench_solver_v1(void) { return &DESC; }
