/* Host backend: OpenBLAS (threaded) + LAPACKE. The same algorithm as the
 * device path (SPEC 1.1) so the two are comparable operation for operation:
 * primal = dsyrk of sqrt(w)-scaled X, dpotrf, dpotrs; dual = K = XXᵀ and X·rhs
 * kept, per solve dpotrf of K + ridge·diag(1/w). X (row-major n×p) is read as
 * the column-major p×n matrix A = Xᵀ, so no transposes are ever made. */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../arrow.h"
#include "../backend.h"
#include "../encode_ops.h"
#include "../timing.h"
#include "host_backend.h"
#include "host_info.h"

int sb_host_gram_chunk_rows = 0;

typedef struct host_rs {
    sb_rs_problem prob;
    int n, p;
    double *scaled;   /* primal: sqrt(w)·X for one chunk of rows, chunk×p */
    int chunk;        /* primal: rows per Gram update */
    double *sys;      /* the matrix factored: p×p (primal) or n×n (dual) */
    double *K;        /* dual: XXᵀ, n×n (lower) */
    double *v;        /* dual: X·rhs (n), then y */
    double *y;        /* dual: solution of the n×n system */
    sb_telemetry tele;
} host_rs;

static void host_rs_destroy(void *state)
{
    host_rs *s = state;
    if (!s)
        return;
    free(s->scaled);
    free(s->sys);
    free(s->K);
    free(s->v);
    free(s->y);
    free(s);
}

static sb_rc host_rs_create(const sb_rs_problem *prob, void **state, sb_err *err)
{
    if (prob->factor && strcmp(prob->factor, "library") != 0)
        return sb_fail(err, SB_E_INPUT, "--factor %s: the host backend has only 'library' (LAPACKE)", prob->factor);
    host_rs *s = sb_alloc(1, sizeof *s, err);
    if (!s)
        return SB_E_RUNTIME;
    s->prob = *prob;
    s->n = (int)prob->n;
    s->p = (int)prob->p;
    size_t n = (size_t)s->n, p = (size_t)s->p;
    if (prob->method == SB_METHOD_PRIMAL) {
        /* ~4 MiB of scaled rows per DSYRK update: cache-resident, and a
         * rank-k update with k in the hundreds keeps the BLAS kernel efficient. */
        size_t rows = sb_host_gram_chunk_rows > 0 ? (size_t)sb_host_gram_chunk_rows : ((size_t)4 << 20) / (8 * p);
        if (sb_host_gram_chunk_rows <= 0 && rows < 64)
            rows = 64;
        s->chunk = (int)(rows > n ? n : rows);
        s->scaled = sb_alloc((size_t)s->chunk * p, sizeof(double), err);
        s->sys = s->scaled ? sb_alloc(p * p, sizeof(double), err) : NULL;
        if (!s->sys)
            goto oom;
    } else {
        s->K = sb_alloc(n * n, sizeof(double), err);
        s->sys = s->K ? sb_alloc(n * n, sizeof(double), err) : NULL;
        s->v = s->sys ? sb_alloc(n, sizeof(double), err) : NULL;
        s->y = s->v ? sb_alloc(n, sizeof(double), err) : NULL;
        if (!s->y)
            goto oom;
        /* K = AᵀA (A = Xᵀ, p×n col-major) and v = Aᵀ·rhs, once: the resident frame. */
        cblas_dsyrk(CblasColMajor, CblasLower, CblasTrans, s->n, s->p, 1.0, prob->X, s->p, 0.0, s->K, s->n);
        cblas_dgemv(CblasColMajor, CblasTrans, s->p, s->n, 1.0, prob->X, s->p, prob->rhs, 1, 0.0, s->v, 1);
        s->tele.library_calls += 2;
    }
    s->tele.frame_builds = 1;
    *state = s;
    return SB_OK;
oom:
    host_rs_destroy(s);
    return SB_E_RUNTIME;
}

/* One solve, optionally recording the phase times. */
static sb_rc host_rs_run(host_rs *s, const double *w, double *beta, sb_rs_breakdown *bd, sb_err *err)
{
    const sb_rs_problem *pr = &s->prob;
    int n = s->n, p = s->p;
    double t0 = sb_now_s(), t1, t2, t3;
    lapack_int info;
    if (pr->method == SB_METHOD_PRIMAL) {
        /* Gram = A·diag(w)·Aᵀ with A = Xᵀ, lower triangle only, accumulated
         * over row chunks whose √w-scaled copy stays in cache (a whole
         * scaled copy of X would cost one more pass over memory). */
        for (int i0 = 0; i0 < n; i0 += s->chunk) {
            int rows = n - i0 < s->chunk ? n - i0 : s->chunk;
            for (int i = 0; i < rows; i++) {
                double r = sqrt(w[i0 + i]);
                const double *src = pr->X + (size_t)(i0 + i) * (size_t)p;
                double *dst = s->scaled + (size_t)i * (size_t)p;
                for (int j = 0; j < p; j++)
                    dst[j] = r * src[j];
            }
            cblas_dsyrk(CblasColMajor, CblasLower, CblasNoTrans, p, rows, 1.0, s->scaled, p,
                        i0 == 0 ? 0.0 : 1.0, s->sys, p);
            s->tele.library_calls++;
        }
        for (int j = 0; j < p; j++)
            s->sys[(size_t)j * (size_t)p + (size_t)j] += pr->ridge;
        t1 = sb_now_s();
        info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', p, s->sys, p);
        t2 = sb_now_s();
        if (info != 0)
            return sb_fail(err, SB_E_RUNTIME, "LAPACKE_dpotrf (p=%d): info=%d, Gram not positive definite", p, (int)info);
        memcpy(beta, pr->rhs, (size_t)p * sizeof *beta);
        info = LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'L', p, 1, s->sys, p, beta, p);
        if (info != 0)
            return sb_fail(err, SB_E_RUNTIME, "LAPACKE_dpotrs: info=%d", (int)info);
        s->tele.library_calls += 2;
    } else {
        memcpy(s->sys, s->K, (size_t)n * (size_t)n * sizeof *s->sys);
        for (int i = 0; i < n; i++)
            s->sys[(size_t)i * (size_t)n + (size_t)i] += pr->ridge / w[i];
        t1 = sb_now_s();
        info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', n, s->sys, n);
        t2 = sb_now_s();
        if (info != 0)
            return sb_fail(err, SB_E_RUNTIME, "LAPACKE_dpotrf (n=%d): info=%d, K + ridge/w not positive definite", n, (int)info);
        memcpy(s->y, s->v, (size_t)n * sizeof *s->y);
        info = LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'L', n, 1, s->sys, n, s->y, n);
        if (info != 0)
            return sb_fail(err, SB_E_RUNTIME, "LAPACKE_dpotrs: info=%d", (int)info);
        /* β = (rhs − Xᵀy)/ridge = rhs/ridge − (A·y)/ridge */
        memcpy(beta, pr->rhs, (size_t)p * sizeof *beta);
        cblas_dgemv(CblasColMajor, CblasNoTrans, p, n, -1.0 / pr->ridge, pr->X, p, s->y, 1, 1.0 / pr->ridge, beta, 1);
        s->tele.library_calls += 3;
    }
    t3 = sb_now_s();
    s->tele.factorizations++;
    if (bd) {
        bd->upload_ms = 0;
        bd->build_ms = (t1 - t0) * 1e3;
        bd->factor_ms = (t2 - t1) * 1e3;
        bd->solve_ms = (t3 - t2) * 1e3;
        bd->download_ms = 0;
    }
    return SB_OK;
}

static sb_rc host_rs_solve(void *state, const double *w, double *beta, sb_err *err)
{
    return host_rs_run(state, w, beta, NULL, err);
}

static sb_rc host_rs_profile(void *state, const double *w, double *beta, sb_rs_breakdown *bd, sb_err *err)
{
    return host_rs_run(state, w, beta, bd, err);
}

static sb_rc host_rs_check(void *state, sb_err *err)
{
    (void)state;
    (void)err;
    return SB_OK;   /* LAPACKE info is checked synchronously in every solve */
}

static void host_rs_telemetry(const void *state, sb_telemetry *t) { *t = ((const host_rs *)state)->tele; }

static const sb_rs_ops HOST_RS = {
    .create = host_rs_create,
    .solve = host_rs_solve,
    .profile = host_rs_profile,
    .check = host_rs_check,
    .telemetry = host_rs_telemetry,
    .destroy = host_rs_destroy,
};

static sb_rc host_probe(sb_device_info *info, sb_err *why)
{
    (void)info;
    (void)why;
    return SB_OK;
}

/* Host ceilings: a threaded DGEMM of size 2048 and a 256 MiB memcpy, median of
 * a few repeats each; both on non-zero data. */
static sb_rc host_calibrate(sb_ceilings *out, sb_err *err)
{
    const int N = 2048;
    const size_t copy_n = (size_t)32 << 20; /* doubles: 256 MiB */
    double *a = sb_alloc((size_t)N * N, sizeof *a, err);
    double *b = a ? sb_alloc((size_t)N * N, sizeof *b, err) : NULL;
    double *c = b ? sb_alloc((size_t)N * N, sizeof *c, err) : NULL;
    double *src = c ? sb_alloc(copy_n, sizeof *src, err) : NULL;
    double *dst = src ? sb_alloc(copy_n, sizeof *dst, err) : NULL;
    sb_rc rc = SB_OK;
    if (!dst) {
        rc = SB_E_RUNTIME;
        goto done;
    }
    for (size_t k = 0; k < (size_t)N * N; k++) {
        a[k] = 1.0 + (double)(k % 7) * 0.125;
        b[k] = 0.5 - (double)(k % 5) * 0.0625;
    }
    for (size_t k = 0; k < copy_n; k++)
        src[k] = (double)(k & 1023);
    double best[5];
    for (int r = 0; r < 5; r++) {
        double t0 = sb_now_s();
        cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, N, N, N, 1.0, a, N, b, N, 0.0, c, N);
        best[r] = sb_now_s() - t0;
    }
    sb_stats g = sb_stats_of(best + 1, 4);
    for (int r = 0; r < 5; r++) {
        double t0 = sb_now_s();
        memcpy(dst, src, copy_n * sizeof *src);
        best[r] = sb_now_s() - t0;
    }
    sb_stats m = sb_stats_of(best + 1, 4);
    out->dgemm_n = N;
    out->fp64_flops = 2.0 * N * (double)N * N / g.median;
    out->copy_bytes = (double)(copy_n * sizeof *src);
    out->mem_bw = 2.0 * out->copy_bytes / m.median;
done:
    free(a);
    free(b);
    free(c);
    free(src);
    free(dst);
    return rc;
}

const sb_backend sb_host_backend = {
    .name = "host",
    .is_device = 0,
    .probe = host_probe,
    .calibrate = host_calibrate,
    .resident_solve = &HOST_RS,
    .arrow = &sb_host_arrow_ops,
    .encode = &sb_host_encode_ops,
};
