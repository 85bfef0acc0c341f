/* Test plugins that misbehave on purpose (tests/cli/run-plugin-tests.sh).
 * One source, one library per mode: the Makefile builds
 * build/<config>/tests/plugins/tp-<mode>.so with -DTP_MODE=TP_<MODE>.
 *
 * Every mode that solves at all solves correctly (the primal system, dense
 * DSYRK + DPOSV: methods = primal only) and holds saebench to its side of
 * the contract: each call's error buffer arrives empty and at least 256
 * bytes, every struct_size is the header's, and every solve follows an
 * upload_w of its own. A breach is returned as an error (exit 4), so the
 * good paths of the battery would fail.
 *
 * The misbehaviour happens on solve call SBTP_AT (environment; default 3),
 * counting every solve from 0: the w0 solve, then warm-up, then timed reps. */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "saebench/solver.h"

#define TP_WRONG 1           /* β off by 1e-3 relative in every solve: parity fails (exit 1) */
#define TP_ERROR 2           /* solve returns SAEBENCH_ERR_RUNTIME with a message (exit 4) */
#define TP_SEGV 3            /* solve writes through a NULL pointer (SIGSEGV, exit 4) */
#define TP_HANG 4            /* solve never returns (--timeout, exit 4) */
#define TP_EXIT 5            /* solve calls exit(0) (exit 4: no verdict from the child) */
#define TP_ABI 6             /* api_version 99 (exit 2) */
#define TP_NOSYM 7           /* no entry symbol (exit 2) */
#define TP_NEWER 8           /* only saebench_solver_v2 (exit 2, "newer ABI") */
#define TP_DEVICE_ONLY 9     /* claims a device, implements no resident-solve */
#define TP_PRINT 10          /* prints to stdout at load and in every call; solves correctly */
#define TP_CLAIMS_DEVICE 11  /* claims a device, computes on the host: engaged by its claim */
#define TP_LOAD_CRASH 12     /* crashes while loading (a constructor): exit 2 */
#define TP_BAD_TELEMETRY 13  /* a negative counter (exit 4) */
#define TP_BAD_NAME 14       /* a name that is not [a-z0-9-] (exit 2) */

#ifndef TP_MODE
#error "build with -DTP_MODE=TP_<MODE>"
#endif

typedef struct tp_rs {
    int n, p;
    double ridge;
    const double *X, *rhs;
    double *w, *scaled, *gram, *beta;
    int fresh_w;      /* an upload_w since the last solve */
    long solves;      /* solve calls so far */
    long at;          /* SBTP_AT */
    long long factorizations;
} tp_rs;

static saebench_status fail(saebench_error *err, saebench_status st, const char *fmt, long k)
{
    snprintf(err->msg, err->msg_cap, fmt, k);
    return st;
}

/* saebench's side of the contract, checked on every call. */
static saebench_status contract(saebench_error *err)
{
    if (err->struct_size != sizeof *err || err->msg_cap < 256 || err->msg[0] != '\0')
        return fail(err, SAEBENCH_ERR_RUNTIME, "test plugin: the error buffer broke the contract (%ld)", 0);
    if (TP_MODE == TP_PRINT) {
        printf("test plugin: printing to stdout inside a call\n");
        fflush(stdout);
    }
    return SAEBENCH_OK;
}

static void tp_destroy(void *state)
{
    tp_rs *s = state;
    free(s->w);
    free(s->scaled);
    free(s->gram);
    free(s->beta);
    free(s);
}

static saebench_status tp_create(const saebench_rs_problem *prob, void **state, saebench_error *err)
{
    saebench_status st = contract(err);
    if (st)
        return st;
    if (prob->struct_size != sizeof *prob || prob->method != SAEBENCH_RS_PRIMAL || !(prob->ridge > 0))
        return fail(err, SAEBENCH_ERR_INPUT, "test plugin: a problem it does not take (%ld)", 0);
    tp_rs *s = calloc(1, sizeof *s);
    if (!s)
        return fail(err, SAEBENCH_ERR_RUNTIME, "out of memory (%ld)", 0);
    s->n = (int)prob->n;
    s->p = (int)prob->p;
    s->ridge = prob->ridge;
    const char *at = getenv("SBTP_AT");
    s->at = at ? strtol(at, NULL, 10) : 3;
    size_t n = (size_t)s->n, p = (size_t)s->p;
    s->w = malloc(n * sizeof(double));
    s->scaled = malloc(n * p * sizeof(double));
    s->gram = malloc(p * p * sizeof(double));
    s->beta = malloc(p * sizeof(double));
    if (!s->w || !s->scaled || !s->gram || !s->beta) {
        tp_destroy(s);
        return fail(err, SAEBENCH_ERR_RUNTIME, "out of memory (%ld)", 0);
    }
    *state = s;
    return SAEBENCH_OK;
}

static saebench_status tp_stage(void *state, const saebench_rs_data *data, saebench_error *err)
{
    saebench_status st = contract(err);
    if (st)
        return st;
    if (data->struct_size != sizeof *data || !data->X || !data->rhs)
        return fail(err, SAEBENCH_ERR_RUNTIME, "test plugin: stage without data (%ld)", 0);
    tp_rs *s = state;
    s->X = data->X;
    s->rhs = data->rhs;
    return SAEBENCH_OK;
}

static saebench_status tp_upload_w(void *state, const double *w, saebench_error *err)
{
    saebench_status st = contract(err);
    if (st)
        return st;
    tp_rs *s = state;
    memcpy(s->w, w, (size_t)s->n * sizeof *w);
    s->fresh_w = 1;
    return SAEBENCH_OK;
}

static saebench_status tp_solve(void *state, saebench_error *err)
{
    saebench_status st = contract(err);
    if (st)
        return st;
    tp_rs *s = state;
    long k = s->solves++;
    if (!s->fresh_w)
        return fail(err, SAEBENCH_ERR_RUNTIME, "test plugin: solve %ld without an upload_w of its own", k);
    s->fresh_w = 0;
    if (k == s->at) {
        if (TP_MODE == TP_ERROR)
            return fail(err, SAEBENCH_ERR_RUNTIME, "test plugin: injected failure at solve call %ld", k);
        if (TP_MODE == TP_SEGV) {
            volatile int *volatile nowhere = NULL;
            *nowhere = 1;
        }
        if (TP_MODE == TP_HANG)
            for (;;)
                sleep(1);
        if (TP_MODE == TP_EXIT)
            exit(0);
    }
    size_t n = (size_t)s->n, p = (size_t)s->p;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < p; j++)
            s->scaled[i * p + j] = sqrt(s->w[i]) * s->X[i * p + j];
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, s->p, s->n, 1.0, s->scaled, s->p, 0.0, s->gram, s->p);
    for (size_t j = 0; j < p; j++)
        s->gram[j * p + j] += s->ridge;
    memcpy(s->beta, s->rhs, p * sizeof *s->beta);
    if (LAPACKE_dposv(LAPACK_ROW_MAJOR, 'L', s->p, 1, s->gram, s->p, s->beta, 1) != 0)
        return fail(err, SAEBENCH_ERR_RUNTIME, "test plugin: not positive definite at solve %ld", k);
    s->factorizations++;
    if (TP_MODE == TP_WRONG)
        s->beta[0] *= 1.0 + 1e-3;
    return SAEBENCH_OK;
}

static saebench_status tp_download_beta(void *state, double *beta, saebench_error *err)
{
    saebench_status st = contract(err);
    if (st)
        return st;
    tp_rs *s = state;
    memcpy(beta, s->beta, (size_t)s->p * sizeof *beta);
    return SAEBENCH_OK;
}

static saebench_status tp_telemetry(void *state, saebench_telemetry *t, saebench_error *err)
{
    saebench_status st = contract(err);
    if (st)
        return st;
    if (t->struct_size != sizeof *t)
        return fail(err, SAEBENCH_ERR_RUNTIME, "test plugin: telemetry struct_size (%ld)", (long)t->struct_size);
    const tp_rs *s = state;
    t->factorizations = s->factorizations;
    t->library_calls = 2 * s->factorizations;
    if (TP_MODE == TP_BAD_TELEMETRY)
        t->h2d_bytes = -1;
    return SAEBENCH_OK;
}

static const saebench_rs_ops_v1 RS_OPS = {
    .struct_size = sizeof(saebench_rs_ops_v1),
    .methods = SAEBENCH_RS_METHOD_BIT(SAEBENCH_RS_PRIMAL),
    .create = tp_create,
    .stage = tp_stage,
    .upload_w = tp_upload_w,
    .solve = tp_solve,
    .download_beta = tp_download_beta,
    .telemetry = tp_telemetry,
    .destroy = tp_destroy,
};

static const saebench_solver_desc_v1 DESC = {
    .struct_size = sizeof(saebench_solver_desc_v1),
    .api_version = TP_MODE == TP_ABI ? 99 : SAEBENCH_SOLVER_API_VERSION,
    .name = TP_MODE == TP_BAD_NAME ? "Test Plugin" : "test-plugin",
    .version = "0.0.1-test",
    .claims_device = TP_MODE == TP_DEVICE_ONLY || TP_MODE == TP_CLAIMS_DEVICE,
    .device = TP_MODE == TP_CLAIMS_DEVICE ? "test device (really the host)" : NULL,
    .workloads = TP_MODE == TP_DEVICE_ONLY ? SAEBENCH_WORKLOAD_INNER_LOOP : SAEBENCH_WORKLOAD_RESIDENT_SOLVE,
    .resident_solve = TP_MODE == TP_DEVICE_ONLY ? NULL : &RS_OPS,
};

#if TP_MODE == TP_PRINT
__attribute__((constructor)) static void tp_loaded(void)
{
    printf("test plugin: printing to stdout while loading\n");
}
#endif

#if TP_MODE == TP_LOAD_CRASH
__attribute__((constructor)) static void tp_loaded(void)
{
    volatile int *volatile nowhere = NULL;
    *nowhere = 1;
}
#endif

#if TP_MODE == TP_NOSYM
SAEBENCH_SOLVER_EXPORT const saebench_solver_desc_v1 *not_the_entry(void) { return &DESC; }
#elif TP_MODE == TP_NEWER
SAEBENCH_SOLVER_EXPORT const saebench_solver_desc_v1 *saebench_solver_v2(void);
SAEBENCH_SOLVER_EXPORT const saebench_solver_desc_v1 *saebench_solver_v2(void) { return &DESC; }
#else
SAEBENCH_SOLVER_EXPORT const saebench_solver_desc_v1 *saebench_solver_v1(void) { return &DESC; }
#endif
