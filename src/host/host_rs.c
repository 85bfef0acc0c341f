/* Host backend: OpenBLAS (threaded) + LAPACKE. The same algorithm as the
 * device path (docs/workloads.md §1 System) so the two are comparable operation for operation:
 * primal = dsyrk of sqrt(w)-scaled X, dpotrf, dpotrs; dual = K = XXᵀ and X·rhs
 * kept, per solve dpotrf of K + ridge·diag(1/w). X (row-major n×p) is read as
 * the column-major p×n matrix A = Xᵀ, so no transposes are ever made. */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../backend.h"
#include "../timing.h"
#include "host_rs.h"
#include "host_info.h"

int sb_host_gram_chunk_rows = 0;

typedef struct host_rs {
    sb_rs_problem prob;
    int n, p;
    double *scaled;   /* primal: sqrt(w)·X for one chunk of rows, chunk×p */
    int chunk;        /* primal: rows per Gram update (and per residual pass) */
    double *sys;      /* the matrix factored: p×p (primal) or n×n (dual) */
    double *K;        /* dual: XXᵀ, n×n (lower) */
    double *v;        /* dual: X·rhs (n), then y */
    double *y;        /* dual: solution of the n×n system */
    /* --precision mixed|auto */
    int mixed;        /* solves run mixed now (auto: until the first solve decides) */
    int decided;      /* auto: the first solve has decided */
    float *sysf;      /* the FP32 system, factored in place: N×N (lower) */
    float *Kf;        /* dual: K in FP32, made once */
    float *scaledf;   /* primal: sqrt(w)·X in FP32 for one chunk of rows */
    float *cf;        /* the FP32 correction (N) */
    double *r;        /* the FP64 residual (N) */
    double *t;        /* primal: X·β for one chunk of rows */
    double *kabs;     /* dual: row sums of |K| (‖A‖∞ = max_i kabs_i + ridge/w_i) */
    sb_rs_solve_info last;
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
    free(s->sysf);
    free(s->Kf);
    free(s->scaledf);
    free(s->cf);
    free(s->r);
    free(s->t);
    free(s->kabs);
    free(s);
}

/* Dual: β = (rhs − Xᵀy)/ridge = rhs/ridge − (A·y)/ridge. */
static void host_rs_dual_beta(host_rs *s, double *beta)
{
    const sb_rs_problem *pr = &s->prob;
    memcpy(beta, pr->rhs, (size_t)s->p * sizeof *beta);
    cblas_dgemv(CblasColMajor, CblasNoTrans, s->p, s->n, -1.0 / pr->ridge, pr->X, s->p, s->y, 1, 1.0 / pr->ridge, beta, 1);
}

/* --precision mixed|auto: the FP32 system and the refinement buffers; for
 * the dual form also K in FP32 and the row sums of |K|, made once. */
static sb_rc host_rs_mixed_alloc(host_rs *s, sb_err *err)
{
    size_t n = (size_t)s->n, p = (size_t)s->p;
    size_t N = s->prob.method == SB_METHOD_PRIMAL ? p : n;
    s->sysf = sb_alloc(N * N, sizeof(float), err);
    s->cf = s->sysf ? sb_alloc(N, sizeof(float), err) : NULL;
    s->r = s->cf ? sb_alloc(N, sizeof(double), err) : NULL;
    if (!s->r)
        return SB_E_RUNTIME;
    if (s->prob.method == SB_METHOD_PRIMAL) {
        s->scaledf = sb_alloc((size_t)s->chunk * p, sizeof(float), err);
        s->t = s->scaledf ? sb_alloc((size_t)s->chunk, sizeof(double), err) : NULL;
        return s->t ? SB_OK : SB_E_RUNTIME;
    }
    s->Kf = sb_alloc(n * n, sizeof(float), err);
    s->kabs = s->Kf ? sb_alloc(n, sizeof(double), err) : NULL;
    if (!s->kabs)
        return SB_E_RUNTIME;
    for (size_t c = 0; c < n; c++) {
        const double *kc = s->K + c * n;
        s->kabs[c] += fabs(kc[c]);
        s->Kf[c * n + c] = (float)kc[c];
        for (size_t r = c + 1; r < n; r++) {
            s->Kf[c * n + r] = (float)kc[r];
            s->kabs[r] += fabs(kc[r]);
            s->kabs[c] += fabs(kc[r]);
        }
    }
    return SB_OK;
}

static sb_rc host_rs_create(const sb_rs_problem *prob, void **state, sb_err *err)
{
    if (sb_factor_is_own(prob->factor))
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
    if (prob->precision != SB_PREC_FP64 && host_rs_mixed_alloc(s, err))
        goto oom;
    s->mixed = prob->precision != SB_PREC_FP64;
    s->decided = prob->precision != SB_PREC_AUTO;
    s->tele.frame_builds = 1;
    *state = s;
    return SB_OK;
oom:
    host_rs_destroy(s);
    return SB_E_RUNTIME;
}

/* b <- L⁻ᵀL⁻¹b for the lower Cholesky factor in L (N×N): two DTRSV. With one
 * right-hand side, LAPACKE_dpotrs goes through DTRSM and measured ~10× slower
 * here (OpenBLAS 0.3.21, N = 2000: 4 ms against 0.4 ms). */
static void host_chol_solve(int N, const double *L, double *b)
{
    cblas_dtrsv(CblasColMajor, CblasLower, CblasNoTrans, CblasNonUnit, N, L, N, b, 1);
    cblas_dtrsv(CblasColMajor, CblasLower, CblasTrans, CblasNonUnit, N, L, N, b, 1);
}

/* Rows i0 .. i0+rows-1 of X (n×p, row-major) times √w_i, into dst64 (FP64)
 * or dst32 (FP32, rounded from the FP64 product), rows×p: the primal Gram's
 * operand for one cache-sized chunk. */
static void scale_rows_sqrtw(const double *X, const double *w, int i0, int rows, int p, double *dst64,
                             float *dst32)
{
    for (int i = 0; i < rows; i++) {
        const double r = sqrt(w[i0 + i]);
        const double *src = X + (size_t)(i0 + i) * (size_t)p;
        const size_t o = (size_t)i * (size_t)p;
        if (dst64)
            for (int j = 0; j < p; j++)
                dst64[o + j] = r * src[j];
        else
            for (int j = 0; j < p; j++)
                dst32[o + j] = (float)(r * src[j]);
    }
}

/* The FP64 solve, optionally recording the phase times (t: build, factor, solve end). */
static sb_rc host_rs_fp64(host_rs *s, const double *w, double *beta, double t[3], sb_err *err)
{
    const sb_rs_problem *pr = &s->prob;
    int n = s->n, p = s->p;
    lapack_int info;
    if (pr->method == SB_METHOD_PRIMAL) {
        /* Gram = A·diag(w)·Aᵀ with A = Xᵀ, lower triangle only, accumulated
         * over row chunks whose √w-scaled copy stays in cache (a whole
         * scaled copy of X would cost one more pass over memory). */
        for (int i0 = 0; i0 < n; i0 += s->chunk) {
            int rows = n - i0 < s->chunk ? n - i0 : s->chunk;
            scale_rows_sqrtw(pr->X, w, i0, rows, p, s->scaled, NULL);
            cblas_dsyrk(CblasColMajor, CblasLower, CblasNoTrans, p, rows, 1.0, s->scaled, p,
                        i0 == 0 ? 0.0 : 1.0, s->sys, p);
            s->tele.library_calls++;
        }
        for (int j = 0; j < p; j++)
            s->sys[(size_t)j * (size_t)p + (size_t)j] += pr->ridge;
        t[0] = sb_now_s();
        info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', p, s->sys, p);
        t[1] = sb_now_s();
        s->tele.factorizations++;
        if (info != 0)
            return sb_fail(err, SB_E_RUNTIME, "LAPACKE_dpotrf (p=%d): info=%d, Gram not positive definite", p, (int)info);
        memcpy(beta, pr->rhs, (size_t)p * sizeof *beta);
        host_chol_solve(p, s->sys, beta);
        s->tele.library_calls += 3;
    } else {
        memcpy(s->sys, s->K, (size_t)n * (size_t)n * sizeof *s->sys);
        for (int i = 0; i < n; i++)
            s->sys[(size_t)i * (size_t)n + (size_t)i] += pr->ridge / w[i];
        t[0] = sb_now_s();
        info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', n, s->sys, n);
        t[1] = sb_now_s();
        s->tele.factorizations++;
        if (info != 0)
            return sb_fail(err, SB_E_RUNTIME, "LAPACKE_dpotrf (n=%d): info=%d, K + ridge/w not positive definite", n, (int)info);
        memcpy(s->y, s->v, (size_t)n * sizeof *s->y);
        host_chol_solve(n, s->sys, s->y);
        host_rs_dual_beta(s, beta);
        s->tele.library_calls += 4;
    }
    t[2] = sb_now_s();
    return SB_OK;
}

/* r = b − A·x for the FP64 system A of this solve; returns ‖r‖∞.
 * Dual: A = K + diag(ridge/w), one DSYMV on the resident K.
 * Primal: A = XᵀWX + ridge·I applied as two passes over X per row chunk
 * (t = X_c·x, t ⊙= w_c, r −= X_cᵀ·t), the chunk still in cache for the
 * second pass: the FP64 Gram is never formed. */
static double host_rs_residual(host_rs *s, const double *w, const double *b, const double *x)
{
    const sb_rs_problem *pr = &s->prob;
    int n = s->n, p = s->p;
    int N = pr->method == SB_METHOD_PRIMAL ? p : n;
    memcpy(s->r, b, (size_t)N * sizeof *s->r);
    if (pr->method == SB_METHOD_PRIMAL) {
        for (int j = 0; j < p; j++)
            s->r[j] -= pr->ridge * x[j];
        for (int i0 = 0; i0 < n; i0 += s->chunk) {
            int rows = n - i0 < s->chunk ? n - i0 : s->chunk;
            const double *Ac = pr->X + (size_t)i0 * (size_t)p;
            cblas_dgemv(CblasColMajor, CblasTrans, p, rows, 1.0, Ac, p, x, 1, 0.0, s->t, 1);
            for (int i = 0; i < rows; i++)
                s->t[i] *= w[i0 + i];
            cblas_dgemv(CblasColMajor, CblasNoTrans, p, rows, -1.0, Ac, p, s->t, 1, 1.0, s->r, 1);
            s->tele.library_calls += 2;
        }
    } else {
        cblas_dsymv(CblasColMajor, CblasLower, n, -1.0, s->K, n, x, 1, 1.0, s->r, 1);
        s->tele.library_calls++;
        for (int i = 0; i < n; i++)
            s->r[i] -= pr->ridge / w[i] * x[i];
    }
    double m = 0;
    for (int i = 0; i < N; i++)
        m = fmax(m, fabs(s->r[i]));
    return m;
}

/* x += A_f⁻¹·r with the FP32 factor in sysf (r rounded to FP32). */
static void host_rs_correct(host_rs *s, int N, const double *r, double *x)
{
    for (int i = 0; i < N; i++)
        s->cf[i] = (float)r[i];
    cblas_strsv(CblasColMajor, CblasLower, CblasNoTrans, CblasNonUnit, N, s->sysf, N, s->cf, 1);
    cblas_strsv(CblasColMajor, CblasLower, CblasTrans, CblasNonUnit, N, s->sysf, N, s->cf, 1);
    s->tele.library_calls += 2;
    for (int i = 0; i < N; i++)
        x[i] += (double)s->cf[i];
}

/* The mixed solve: FP32 system, SPOTRF, then FP64 refinement (see
 * sb_precision). Returns SB_OK with s->last.fallback set when the FP32
 * factor failed or the refinement did not converge: the caller re-solves
 * in FP64. t: build, factor, solve end. */
static sb_rc host_rs_mixed(host_rs *s, const double *w, double *beta, double t[3])
{
    const sb_rs_problem *pr = &s->prob;
    int n = s->n, p = s->p;
    int primal = pr->method == SB_METHOD_PRIMAL;
    int N = primal ? p : n;
    size_t Nz = (size_t)N;
    double anrm = 0;
    if (primal) {
        for (int i0 = 0; i0 < n; i0 += s->chunk) {
            int rows = n - i0 < s->chunk ? n - i0 : s->chunk;
            scale_rows_sqrtw(pr->X, w, i0, rows, p, NULL, s->scaledf);
            cblas_ssyrk(CblasColMajor, CblasLower, CblasNoTrans, p, rows, 1.0f, s->scaledf, p,
                        i0 == 0 ? 0.0f : 1.0f, s->sysf, p);
            s->tele.library_calls++;
        }
        for (int j = 0; j < p; j++)
            s->sysf[(size_t)j * Nz + (size_t)j] += (float)pr->ridge;
        /* ‖A‖∞ from the FP32 Gram (within ~1e-7 of the FP64 one's: it only
         * scales the stopping tolerance). */
        for (int j = 0; j < p; j++)
            s->r[j] = 0;
        for (int c = 0; c < p; c++) {
            const float *col = s->sysf + (size_t)c * Nz;
            s->r[c] += fabs((double)col[c]);
            for (int r = c + 1; r < p; r++) {
                double a = fabs((double)col[r]);
                s->r[r] += a;
                s->r[c] += a;
            }
        }
        for (int j = 0; j < p; j++)
            anrm = fmax(anrm, s->r[j]);
    } else {
        for (int c = 0; c < n; c++) {
            memcpy(s->sysf + (size_t)c * Nz + (size_t)c, s->Kf + (size_t)c * Nz + (size_t)c,
                   (Nz - (size_t)c) * sizeof(float));
            double d = pr->ridge / w[c];
            s->sysf[(size_t)c * Nz + (size_t)c] = (float)((double)s->Kf[(size_t)c * Nz + (size_t)c] + d);
            anrm = fmax(anrm, s->kabs[c] + d);
        }
    }
    t[0] = sb_now_s();
    lapack_int info = LAPACKE_spotrf(LAPACK_COL_MAJOR, 'L', N, s->sysf, N);
    t[1] = sb_now_s();
    s->tele.factorizations++;
    s->tele.library_calls++;
    s->last.mixed = 1;
    if (info != 0) {
        s->last.fallback = 1;
        s->last.why = "the FP32 factorization failed (not positive definite in single precision)";
        return SB_OK;
    }
    const double *b = primal ? pr->rhs : s->v;
    double *x = primal ? beta : s->y;
    memset(x, 0, Nz * sizeof *x);
    host_rs_correct(s, N, b, x);
    const double tol = anrm * 0x1p-53 * sqrt((double)N);
    for (int it = 0;; it++) {
        double rn = host_rs_residual(s, w, b, x);
        double xn = 0;
        for (int i = 0; i < N; i++)
            xn = fmax(xn, fabs(x[i]));
        if (rn <= xn * tol) {
            s->last.iterations = it;
            break;
        }
        if (it == SB_REFINE_MAX || !isfinite(rn)) {
            s->last.iterations = it;
            s->last.fallback = 1;
            s->last.why = "the FP64 refinement did not converge within the iteration cap";
            return SB_OK;
        }
        host_rs_correct(s, N, s->r, x);
    }
    if (!primal) {
        host_rs_dual_beta(s, beta);
        s->tele.library_calls++;
    }
    t[2] = sb_now_s();
    return SB_OK;
}

/* One solve in the state's precision, optionally recording the phase times. */
static sb_rc host_rs_run(host_rs *s, const double *w, double *beta, sb_rs_breakdown *bd, sb_err *err)
{
    double t0 = sb_now_s(), t[3] = {t0, t0, t0};
    sb_rs_solve_info fresh = {.factor = "library"};
    if (s->prob.factor && strcmp(s->prob.factor, "auto") == 0)
        fresh.factor_why = "auto: the host has only the library factor (LAPACKE)";
    s->last = fresh;
    sb_rc rc = SB_OK;
    if (s->mixed)
        host_rs_mixed(s, w, beta, t);
    if (!s->mixed || s->last.fallback)
        rc = host_rs_fp64(s, w, beta, t, err);
    if (!s->decided) {
        s->decided = 1;
        s->mixed = sb_precision_auto_decide(&s->last);
    }
    if (rc)
        return rc;
    if (bd) {
        bd->upload_ms = 0;
        bd->build_ms = (t[0] - t0) * 1e3;
        bd->factor_ms = (t[1] - t[0]) * 1e3;
        bd->solve_ms = (t[2] - t[1]) * 1e3;
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

static void host_rs_last_solve(const void *state, sb_rs_solve_info *info) { *info = ((const host_rs *)state)->last; }

const sb_rs_ops sb_host_rs_ops = {
    .create = host_rs_create,
    .solve = host_rs_solve,
    .profile = host_rs_profile,
    .check = host_rs_check,
    .telemetry = host_rs_telemetry,
    .last_solve = host_rs_last_solve,
    .destroy = host_rs_destroy,
};
