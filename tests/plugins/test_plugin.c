/* Test plugins that misbehave on purpose (tests/cli/run-plugin-tests.sh).
 * One source, one library per mode: the Makefile builds
 * build/<config>/tests/plugins/tp-<mode>.so with -DTP_MODE=TP_<MODE>.
 *
 * Every mode that solves at all solves correctly (resident-solve: the primal
 * system, dense DSYRK + DPOSV, methods = primal only; the arrow table, where
 * a mode has one: the dense (n·d + p)² H + R by DPOTRF and DPOTRS) and holds
 * saebench to its side of the contract: each call's error buffer arrives
 * empty and at least 256 bytes, every struct_size is the header's, every
 * solve follows an upload_w of its own (arrow: a factor that succeeded),
 * the ridges are finite and not negative. A breach is returned as an error
 * (exit 4), so the good paths of the battery would fail.
 *
 * resident-solve misbehaves on solve call SBTP_AT (environment; default 3),
 * counting every solve from 0: the w0 solve, then warm-up, then timed reps.
 * The arrow table misbehaves on call SBTP_AT of the operation SBTP_CALL
 * (create, factor or solve; default solve), counting that operation's calls
 * from 0 over the process, every state together (inner-loop's solves: the
 * resident fit's, the re-upload fit's, then the resident phase's warm-up
 * and timed reps). */
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
#define TP_DEVICE_ONLY 9     /* claims a device, implements inner-loop only (the arrow table) */
#define TP_PRINT 10          /* prints to stdout at load and in every call; solves correctly */
#define TP_CLAIMS_DEVICE 11  /* claims a device, computes on the host: engaged by its claim */
#define TP_LOAD_CRASH 12     /* crashes while loading (a constructor): exit 2 */
#define TP_BAD_TELEMETRY 13  /* a negative counter (exit 4) */
#define TP_BAD_NAME 14       /* a name that is not [a-z0-9-] (exit 2) */
#define TP_OLD_DESC 15       /* a descriptor built before the arrow field (struct_size ends at
                                resident_solve) with the then-reserved inner-loop bit set:
                                resident-solve only */

/* The modes with an arrow table: wrong answers, errors, crashes, hangs,
 * exit(), a negative counter, prints, the device claim of TP_DEVICE_ONLY. */
#define TP_HAS_ARROW                                                                                                   \
    (TP_MODE == TP_WRONG || TP_MODE == TP_ERROR || TP_MODE == TP_SEGV || TP_MODE == TP_HANG || TP_MODE == TP_EXIT ||    \
     TP_MODE == TP_PRINT || TP_MODE == TP_BAD_TELEMETRY || TP_MODE == TP_DEVICE_ONLY)

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

/* The mode's misbehaviour, at the chosen call: an error (returned), a
 * crash, a hang or exit(); SAEBENCH_OK for the modes that solve on. */
static saebench_status misbehave(saebench_error *err, const char *call, long k)
{
    if (TP_MODE == TP_ERROR) {
        /* it ends inside a '€' (E2 82 AC), as a C plugin's snprintf leaves a
         * UTF-8 message it had to cut: saebench must not pass the stray bytes on */
        snprintf(err->msg, err->msg_cap, "test plugin: injected failure at %s call %ld: d\xc3\xa9j\xc3\xa0 vu \xe2\x82",
                 call, k);
        return SAEBENCH_ERR_RUNTIME;
    }
    if (TP_MODE == TP_SEGV) {
        volatile int *volatile nowhere = NULL;
        *nowhere = 1;
    }
    if (TP_MODE == TP_HANG)
        for (;;)
            sleep(1);
    if (TP_MODE == TP_EXIT)
        exit(0);
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
    if (k == s->at && (st = misbehave(err, "solve", k)))
        return st;
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

#if TP_HAS_ARROW
/* ------------------------------------------------------------ the arrow table */

typedef struct tp_arrow {
    int n, d, p, N;           /* N = n·d + p */
    const double *Htt, *B, *Hbb;
    double *A;                /* the dense H + R, then its Cholesky factor (row-major lower) */
    int factored;             /* the latest factor succeeded */
    long long factorizations;
} tp_arrow;

static long g_calls[3];       /* create, factor, solve calls over the process */

/* 1 when this is call SBTP_AT of the operation SBTP_CALL (counting it). */
static int arrow_at(int op, const char *name, long *k)
{
    *k = g_calls[op]++;
    const char *at = getenv("SBTP_AT"), *call = getenv("SBTP_CALL");
    return *k == (at ? strtol(at, NULL, 10) : 3) && strcmp(call ? call : "solve", name) == 0;
}

static void tp_arrow_destroy(void *state)
{
    tp_arrow *s = state;
    free(s->A);
    free(s);
}

static saebench_status tp_arrow_create(const saebench_arrow_problem *prob, void **state, saebench_error *err)
{
    saebench_status st = contract(err);
    if (st)
        return st;
    long k;
    if (arrow_at(0, "create", &k) && (st = misbehave(err, "create", k)))
        return st;
    if (prob->struct_size != sizeof *prob || prob->n < 1 || prob->d < 1 || prob->p < 1 || !prob->Htt || !prob->B ||
        !prob->Hbb || (prob->reupload != 0 && prob->reupload != 1) || prob->threads < 0)
        return fail(err, SAEBENCH_ERR_INPUT, "test plugin: an arrow problem that breaks the contract (%ld)", 0);
    tp_arrow *s = calloc(1, sizeof *s);
    if (!s)
        return fail(err, SAEBENCH_ERR_RUNTIME, "out of memory (%ld)", 0);
    s->n = (int)prob->n;
    s->d = (int)prob->d;
    s->p = (int)prob->p;
    s->N = s->n * s->d + s->p;
    s->Htt = prob->Htt;
    s->B = prob->B;
    s->Hbb = prob->Hbb;
    s->A = malloc((size_t)s->N * (size_t)s->N * sizeof *s->A);
    if (!s->A) {
        tp_arrow_destroy(s);
        return fail(err, SAEBENCH_ERR_RUNTIME, "out of memory (%ld)", 0);
    }
    *state = s;
    return SAEBENCH_OK;
}

/* The dense H + R from the blocks (t unknowns first, then β), factored whole. */
static saebench_status tp_arrow_factor(void *state, double ridge_t, double ridge_b, int32_t *positive_definite,
                                       double *logdet, saebench_error *err)
{
    saebench_status st = contract(err);
    if (st)
        return st;
    long k;
    if (arrow_at(1, "factor", &k) && (st = misbehave(err, "factor", k)))
        return st;
    if (!positive_definite || !logdet || !(ridge_t >= 0 && ridge_b >= 0) || !isfinite(ridge_t) || !isfinite(ridge_b))
        return fail(err, SAEBENCH_ERR_RUNTIME, "test plugin: factor call %ld broke the contract", k);
    tp_arrow *s = state;
    const size_t d = (size_t)s->d, p = (size_t)s->p, nd = (size_t)s->n * d, N = (size_t)s->N;
    memset(s->A, 0, N * N * sizeof *s->A);
    for (size_t i = 0; i < (size_t)s->n; i++)
        for (size_t r = 0; r < d; r++) {
            size_t row = i * d + r;
            for (size_t c = 0; c < d; c++)
                s->A[row * N + i * d + c] = s->Htt[(i * d + r) * d + c] + (r == c ? ridge_t : 0.0);
            for (size_t j = 0; j < p; j++)
                s->A[(nd + j) * N + row] = s->B[(i * d + r) * p + j]; /* the lower triangle only */
        }
    for (size_t r = 0; r < p; r++)
        for (size_t c = 0; c <= r; c++)
            s->A[(nd + r) * N + nd + c] = s->Hbb[r * p + c] + (r == c ? ridge_b : 0.0);
    s->factored = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', s->N, s->A, s->N) == 0;
    *positive_definite = s->factored;
    *logdet = 0.0;
    if (s->factored) {
        for (size_t j = 0; j < N; j++)
            *logdet += 2.0 * log(s->A[j * N + j]);
        s->factorizations++;
    }
    return SAEBENCH_OK;
}

static saebench_status tp_arrow_solve(void *state, const double *r_t, const double *r_b, double *dt, double *db,
                                      saebench_error *err)
{
    saebench_status st = contract(err);
    if (st)
        return st;
    long k;
    if (arrow_at(2, "solve", &k) && (st = misbehave(err, "solve", k)))
        return st;
    tp_arrow *s = state;
    if (!s->factored)
        return fail(err, SAEBENCH_ERR_RUNTIME, "test plugin: solve call %ld without a factor that succeeded", k);
    const size_t nd = (size_t)(s->N - s->p);
    for (size_t i = 0; i < nd; i++)
        dt[i] = -r_t[i];
    for (size_t j = 0; j < (size_t)s->p; j++)
        db[j] = -r_b[j];
    /* δ is (δt, δβ) in saebench's two buffers: solve with L, then Lᵀ, over both */
    double *x = malloc((size_t)s->N * sizeof *x);
    if (!x)
        return fail(err, SAEBENCH_ERR_RUNTIME, "out of memory (%ld)", k);
    memcpy(x, dt, nd * sizeof *x);
    memcpy(x + nd, db, (size_t)s->p * sizeof *x);
    lapack_int info = LAPACKE_dpotrs(LAPACK_ROW_MAJOR, 'L', s->N, 1, s->A, s->N, x, 1);
    memcpy(dt, x, nd * sizeof *x);
    memcpy(db, x + nd, (size_t)s->p * sizeof *x);
    free(x);
    if (info != 0)
        return fail(err, SAEBENCH_ERR_RUNTIME, "test plugin: LAPACKE_dpotrs failed at solve call %ld", k);
    if (TP_MODE == TP_WRONG) { /* a step 0.1 % too long: the LM loop still converges, parity fails */
        for (size_t i = 0; i < nd; i++)
            dt[i] *= 1.001;
        for (size_t j = 0; j < (size_t)s->p; j++)
            db[j] *= 1.001;
    }
    return SAEBENCH_OK;
}

static saebench_status tp_arrow_telemetry(void *state, saebench_telemetry *t, saebench_error *err)
{
    saebench_status st = contract(err);
    if (st)
        return st;
    if (t->struct_size != sizeof *t)
        return fail(err, SAEBENCH_ERR_RUNTIME, "test plugin: telemetry struct_size (%ld)", (long)t->struct_size);
    const tp_arrow *s = state;
    t->factorizations = s->factorizations;
    if (TP_MODE == TP_BAD_TELEMETRY)
        t->d2h_bytes = -2;
    return SAEBENCH_OK;
}

static const saebench_arrow_ops_v1 ARROW_OPS = {
    .struct_size = sizeof(saebench_arrow_ops_v1),
    .create = tp_arrow_create,
    .factor = tp_arrow_factor,
    .solve = tp_arrow_solve,
    .telemetry = tp_arrow_telemetry,
    .destroy = tp_arrow_destroy,
};
#endif

static const saebench_solver_desc_v1 DESC = {
    /* TP_OLD_DESC: as compiled before the arrow field was appended */
    .struct_size = TP_MODE == TP_OLD_DESC ? offsetof(saebench_solver_desc_v1, arrow) : sizeof(saebench_solver_desc_v1),
    .api_version = TP_MODE == TP_ABI ? 99 : SAEBENCH_SOLVER_API_VERSION,
    .name = TP_MODE == TP_BAD_NAME ? "Test Plugin" : "test-plugin",
    .version = "0.0.1-test",
    .claims_device = TP_MODE == TP_DEVICE_ONLY || TP_MODE == TP_CLAIMS_DEVICE,
    .device = TP_MODE == TP_CLAIMS_DEVICE ? "test device (really the host)" : NULL,
    .workloads = (TP_MODE == TP_DEVICE_ONLY ? 0 : SAEBENCH_WORKLOAD_RESIDENT_SOLVE) |
                 (TP_HAS_ARROW || TP_MODE == TP_OLD_DESC ? SAEBENCH_WORKLOAD_INNER_LOOP : 0),
    .resident_solve = TP_MODE == TP_DEVICE_ONLY ? NULL : &RS_OPS,
#if TP_HAS_ARROW
    .arrow = &ARROW_OPS,
#endif
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
