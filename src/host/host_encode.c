/* Host encode fast path (docs/workloads.md §5): the CUDA backend's
 * algorithm (cuda/encode_backend.cu) on OpenBLAS, threaded by OpenMP. The
 * per-row routine is src/hostdev/encode_row.cuh, the very code the CUDA kernel runs.
 *
 * encode() of a staged batch (rows grouped by atom at upload: perm, offsets):
 *   1. projection, in chunks of up to `chunk` grouped rows of one atom, the
 *      chunks spread over the OpenMP threads: each chunk's rows are copied
 *      into the thread's cache-sized buffer (read in place when the batch is
 *      already grouped), ‖x‖² per row in the kernel's summation order
 *      (sb_enc_sqnorm_warp_order), and one DGEMM Y = X_chunk·B_kᵀ issued as
 *      the column-major call cuBLAS gets on the device (C = B_k·X_chunkᵀ,
 *      m × rows, op(A) = Aᵀ with A = B_k read as p×m, B = the rows read as
 *      p×rows). OpenBLAS runs single-threaded inside the region (its own
 *      thread pool would fight the OpenMP threads for the cores) and gets
 *      its thread count back afterwards;
 *   2. sb_encode_row per row, OpenMP over rows, results written at the row's
 *      original index.
 * Telemetry: frame_builds = 1 at create; library_calls += one per DGEMM
 * (one per chunk, per encode); no handles, no copies, no kernels. */
#include <cblas.h>
#include <omp.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../hostdev/encode_row.cuh"
#include "../encode_ops.h"
#include "host_encode.h"

int sb_host_encode_chunk_rows = 0;

typedef struct host_encode {
    const sb_encode_problem *prob; /* create's: sizes and B */
    sb_encode_tables tb;
    int64_t cap, p, K, m, d;
    const sb_encode_problem *batch; /* staged by upload, NULL before */
    int32_t *perm;
    int64_t *offset;
    int identity;
    double *moments;   /* charts·4: the chart derivative bounds (tb.moments) */
    int64_t chunk;     /* rows per projection chunk */
    int64_t *chunks;   /* K + 1: chunks before atom k (prefix sums) */
    int nthreads;      /* OpenMP threads the buffers are sized for */
    double *buf;       /* nthreads·chunk·p: each thread's gathered rows */
    double *Y;  /* cap·m */
    double *xx; /* cap */
    sb_telemetry tele;
} host_encode;

/* ------------------------------- helpers ------------------------------- */

sb_rc sb_encode_fast_check(const sb_encode_problem *prob, const sb_encode_atlas *atlas, sb_err *err)
{
    if (!prob || !atlas)
        return sb_fail(err, SB_E_INPUT, "encode: no problem or no atlas");
    if (prob->d < 1 || prob->d > SB_ENCODE_MAX_D)
        return sb_fail(err, SB_E_INPUT, "encode: d = %lld outside 1..%d", (long long)prob->d, SB_ENCODE_MAX_D);
    if (prob->basis != SB_BASIS_EUCLIDEAN && prob->basis != SB_BASIS_PERIODIC)
        return sb_fail(err, SB_E_INPUT, "encode: unknown basis %d", (int)prob->basis);
    if (prob->basis == SB_BASIS_PERIODIC && prob->d != 1)
        return sb_fail(err, SB_E_INPUT, "encode: the periodic basis needs d = 1 (got d = %lld)", (long long)prob->d);
    if (prob->D < 1 || prob->D > SB_ENCODE_MAX_M)
        return sb_fail(err, SB_E_INPUT, "encode: degree D = %lld outside 1..%d", (long long)prob->D, SB_ENCODE_MAX_M);
    const int m = sb_enc_basis_size((int)prob->basis, (int)prob->d, (int)prob->D);
    if (m > SB_ENCODE_MAX_M || prob->m != m)
        return sb_fail(err, SB_E_INPUT, "encode: basis size m = %lld (d = %lld, D = %lld gives %d; at most %d)",
                       (long long)prob->m, (long long)prob->d, (long long)prob->D, m, SB_ENCODE_MAX_M);
    if (prob->n < 1 || prob->p < 1 || prob->K < 1)
        return sb_fail(err, SB_E_INPUT, "encode: n = %lld, p = %lld, K = %lld must be ≥ 1", (long long)prob->n,
                       (long long)prob->p, (long long)prob->K);
    /* BLAS and the row index are int; byte counts must fit size_t with room */
    const double most = (double)SIZE_MAX / sizeof(double) / 4;
    if (prob->n > INT_MAX || prob->p > INT_MAX || (double)prob->n * (double)prob->p > most ||
        (double)prob->K * (double)prob->m * (double)prob->p > most)
        return sb_fail(err, SB_E_INPUT, "encode: n = %lld, p = %lld, K = %lld too large", (long long)prob->n,
                       (long long)prob->p, (long long)prob->K);
    if (!prob->B)
        return sb_fail(err, SB_E_INPUT, "encode: no decoders B");
    if (atlas->K != prob->K || atlas->d != prob->d || atlas->m != prob->m)
        return sb_fail(err, SB_E_INPUT, "encode: atlas K = %lld, d = %lld, m = %lld do not match the problem's %lld, %lld, %lld",
                       (long long)atlas->K, (long long)atlas->d, (long long)atlas->m, (long long)prob->K,
                       (long long)prob->d, (long long)prob->m);
    if (atlas->charts < 1 || atlas->charts > SB_ENCODE_ATLAS_MAX)
        return sb_fail(err, SB_E_INPUT, "encode: %lld charts (1..%d)", (long long)atlas->charts, SB_ENCODE_ATLAS_MAX);
    if (!atlas->centre || !atlas->phi || !atlas->dphi || !atlas->Minv || !atlas->beta_c || !atlas->m1_sq ||
        !atlas->S || !atlas->G)
        return sb_fail(err, SB_E_INPUT, "encode: atlas tables missing");
    if (!(atlas->radius > 0.0))
        return sb_fail(err, SB_E_INPUT, "encode: atlas radius %g not positive", atlas->radius);
    return SB_OK;
}

sb_rc sb_encode_batch_check(const sb_encode_problem *prob, const sb_encode_problem *batch, sb_err *err)
{
    if (!batch || !batch->X || !batch->atom || !batch->z)
        return sb_fail(err, SB_E_INPUT, "encode: batch without X, atom or z");
    if (batch->p != prob->p || batch->K != prob->K || batch->d != prob->d || batch->D != prob->D ||
        batch->m != prob->m || batch->basis != prob->basis)
        return sb_fail(err, SB_E_INPUT, "encode: batch shape (p, K, d, D, m, basis) differs from the staged decoders'");
    if (batch->n < 1 || batch->n > prob->n)
        return sb_fail(err, SB_E_INPUT, "encode: batch of %lld rows (1..%lld, the size the state was created for)",
                       (long long)batch->n, (long long)prob->n);
    return SB_OK;
}

sb_rc sb_encode_group_rows(const sb_encode_problem *batch, int64_t K, int32_t *perm, int64_t *offset,
                           int *identity, sb_err *err)
{
    const int64_t n = batch->n;
    for (int64_t k = 0; k <= K; ++k)
        offset[k] = 0;
    for (int64_t i = 0; i < n; ++i) {
        const int32_t k = batch->atom[i];
        if (k < 0 || k >= K)
            return sb_fail(err, SB_E_INPUT, "encode: row %lld has atom %d outside [0, %lld)", (long long)i, (int)k,
                           (long long)K);
        if (!(batch->z[i] > 0.0) || !isfinite(batch->z[i]))
            return sb_fail(err, SB_E_INPUT, "encode: row %lld: amplitude z = %g is not finite and > 0", (long long)i,
                           batch->z[i]);
        offset[k + 1]++;
    }
    for (int64_t k = 0; k < K; ++k)
        offset[k + 1] += offset[k];
    /* stable placement; offset[k] walks forward and is restored after */
    int same = 1;
    for (int64_t i = 0; i < n; ++i) {
        const int64_t r = offset[batch->atom[i]]++;
        perm[r] = (int32_t)i;
        same &= r == i;
    }
    for (int64_t k = K; k > 0; --k)
        offset[k] = offset[k - 1];
    offset[0] = 0;
    *identity = same;
    return SB_OK;
}

/* ------------------------------- the ops ------------------------------- */

static void host_encode_destroy(void *state)
{
    host_encode *s = state;
    if (!s)
        return;
    free(s->perm);
    free(s->offset);
    free(s->chunks);
    free(s->moments);
    free(s->buf);
    free(s->Y);
    free(s->xx);
    free(s);
}

static sb_rc host_encode_create(const sb_encode_problem *prob, const sb_encode_atlas *atlas, void **state,
                                sb_err *err)
{
    *state = NULL;
    sb_rc rc = sb_encode_fast_check(prob, atlas, err);
    if (rc != SB_OK)
        return rc;
    host_encode *s = sb_alloc(1, sizeof *s, err);
    if (!s)
        return SB_E_RUNTIME;
    s->prob = prob;
    s->tb = sb_encode_tables_of(atlas, (int)prob->basis, (int)prob->D);
    s->cap = prob->n;
    s->p = prob->p;
    s->K = prob->K;
    s->m = prob->m;
    s->d = prob->d;
    const size_t cap = (size_t)s->cap;
    if (!(s->perm = sb_alloc(cap, sizeof *s->perm, err)) ||
        !(s->offset = sb_alloc((size_t)s->K + 1, sizeof *s->offset, err)) ||
        !(s->chunks = sb_alloc((size_t)s->K + 1, sizeof *s->chunks, err)) ||
        !(s->moments = sb_alloc((size_t)atlas->charts * 4, sizeof *s->moments, err)) ||
        !(s->Y = sb_alloc(cap * (size_t)s->m, sizeof *s->Y, err)) || !(s->xx = sb_alloc(cap, sizeof *s->xx, err))) {
        host_encode_destroy(s);
        return SB_E_RUNTIME;
    }
    /* ~256 KiB of rows per chunk: the copy stays in the core's cache for the DGEMM */
    int64_t chunk = ((int64_t)256 << 10) / (8 * s->p);
    chunk = chunk < 8 ? 8 : chunk > 512 ? 512 : chunk;
    if (sb_host_encode_chunk_rows > 0)
        chunk = sb_host_encode_chunk_rows;
    s->chunk = chunk < s->cap ? chunk : s->cap;
    s->nthreads = omp_get_max_threads();
    if (!(s->buf = sb_alloc((size_t)s->nthreads * (size_t)s->chunk, (size_t)s->p * sizeof(double), err))) {
        host_encode_destroy(s);
        return SB_E_RUNTIME;
    }
    sb_enc_moments_fill(&s->tb, s->moments);
    s->tb.moments = s->moments;
    s->tele.frame_builds = 1;
    *state = s;
    return SB_OK;
}

static sb_rc host_encode_upload(void *state, const sb_encode_problem *batch, sb_err *err)
{
    host_encode *s = state;
    s->batch = NULL;
    sb_rc rc = sb_encode_batch_check(s->prob, batch, err);
    if (rc == SB_OK)
        rc = sb_encode_group_rows(batch, s->K, s->perm, s->offset, &s->identity, err);
    if (rc != SB_OK)
        return rc;
    s->chunks[0] = 0;
    for (int64_t k = 0; k < s->K; ++k)
        s->chunks[k + 1] = s->chunks[k] + (s->offset[k + 1] - s->offset[k] + s->chunk - 1) / s->chunk;
    s->batch = batch;
    return SB_OK;
}

static sb_rc host_encode_encode(void *state, sb_encode_result *out, sb_err *err)
{
    host_encode *s = state;
    const sb_encode_problem *b = s->batch;
    if (!b)
        return sb_fail(err, SB_E_RUNTIME, "host encode: encode without a staged batch");
    if (!out || !out->t || !out->h || !out->recon_err || !out->chart || !out->steps)
        return sb_fail(err, SB_E_INPUT, "host encode: result arrays missing");
    const int64_t n = b->n, p = s->p, m = s->m, d = s->d, nchunks = s->chunks[s->K];

    const int blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
#pragma omp parallel num_threads(s->nthreads)
    {
        double *buf = s->buf + (size_t)omp_get_thread_num() * (size_t)s->chunk * (size_t)p;
#pragma omp for schedule(dynamic, 1)
        for (int64_t q = 0; q < nchunks; ++q) {
            int64_t k = 0;
            while (s->chunks[k + 1] <= q)
                ++k;
            const int64_t r0 = s->offset[k] + (q - s->chunks[k]) * s->chunk;
            const int64_t r1 = r0 + s->chunk < s->offset[k + 1] ? r0 + s->chunk : s->offset[k + 1];
            const double *src = s->identity ? b->X + r0 * p : buf;
            for (int64_t r = r0; r < r1; ++r) {
                const double *x = b->X + (int64_t)s->perm[r] * p;
                if (!s->identity)
                    memcpy(buf + (r - r0) * p, x, (size_t)p * sizeof(double));
                s->xx[r] = sb_enc_sqnorm_warp_order(x, p);
            }
            cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, (int)m, (int)(r1 - r0), (int)p, 1.0,
                        s->prob->B + k * m * p, (int)p, src, (int)p, 0.0, s->Y + r0 * m, (int)m);
        }
    }
    openblas_set_num_threads(blas_threads);
    s->tele.library_calls += nchunks;

    const sb_encode_tables tb = s->tb;
#pragma omp parallel for schedule(dynamic, 16)
    for (int64_t r = 0; r < n; ++r) {
        const int64_t i = s->perm[r];
        sb_encode_row_out o;
        sb_encode_row(&tb, b->atom[i], b->z[i], s->Y + r * m, s->xx[r], &o);
        for (int64_t a = 0; a < d; ++a)
            out->t[i * d + a] = o.t[a];
        out->h[i] = o.h;
        out->recon_err[i] = o.err;
        out->chart[i] = o.chart;
        out->steps[i] = o.steps;
    }
    return SB_OK;
}

static sb_rc host_encode_run(void *state, const sb_encode_problem *batch, sb_encode_result *out, sb_err *err)
{
    sb_rc rc = host_encode_upload(state, batch, err);
    return rc != SB_OK ? rc : host_encode_encode(state, out, err);
}

static void host_encode_telemetry(const void *state, sb_telemetry *t) { *t = ((const host_encode *)state)->tele; }

const sb_encode_ops sb_host_encode_ops = {
    .create = host_encode_create,
    .upload = host_encode_upload,
    .encode = host_encode_encode,
    .run = host_encode_run,
    .telemetry = host_encode_telemetry,
    .destroy = host_encode_destroy,
};

sb_rc sb_host_encode(const sb_encode_problem *prob, const sb_encode_atlas *atlas, sb_encode_result *out,
                     sb_err *err)
{
    void *state = NULL;
    sb_rc rc = sb_host_encode_ops.create(prob, atlas, &state, err);
    if (rc == SB_OK)
        rc = sb_host_encode_ops.run(state, prob, out, err);
    sb_host_encode_ops.destroy(state);
    return rc;
}
