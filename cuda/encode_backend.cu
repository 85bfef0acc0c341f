/* The CUDA encode (docs/workloads.md §5): sb_cuda_encode_ops, the interface
 * of src/encode_ops.h. Kernels in encode_kernels.cuh, the per-row routine in
 * encode_row.cuh (the host fast path runs the same code); error macros in
 * cuda_check.h. Batches below SB_ENCODE_DEVICE_MIN_ROWS (4096) rows are
 * declined with SB_E_NODEVICE: the device path is only for batches that can
 * fill a GPU.
 *
 * create(prob, atlas): one stream and a cuBLAS handle; every device buffer
 *   for up to prob->n rows; stages the resident part once: B (K·m·p), the
 *   atlas tables (centre, phi, dphi, Minv, beta_c, m1_sq, S, G) and the
 *   chart derivative bounds M_0..M_3 (sb_enc_moments_fill, charts·4).
 * upload(batch): groups the rows by atom on the host (counting sort: perm,
 *   offsets; O(n)), then copies X (n·p), atom (n), z (n) and perm (n) up,
 *   and synchronises.
 * encode(out), one stream, in order:
 *   encode_gather_sqnorm   X grouped by atom (skipped copy when the batch is
 *                          already grouped) and ‖x‖² per row;
 *   cublasDgemm × atoms    Y_k = X_k·B_kᵀ for each atom with rows (column
 *                          major: C = B_k·X_kᵀ, m × n_k, op(A) = Aᵀ with
 *                          A = B_k read as p×m, B = X_k read as p×n_k, C row
 *                          major n_k×m);
 *   encode_rows            the per-row routine, results at original indices
 *                          into one packed buffer (t | h | err | chart | steps);
 *   one download of that buffer and a synchronisation.
 *
 * Telemetry (exact, per state):
 *   create:  handle_creations = 1 (cuBLAS); frame_builds = 1;
 *            h2d += 8·(K·m·p + charts·d + K·charts·(m + d·m + d·d + 2) + K + K·m·m
 *                      + charts·4) (B, the atlas tables, the chart moments).
 *   upload:  h2d += n·(8p + 4 + 8 + 4) (X, atom, z, perm).
 *   encode:  own_kernel_launches += 2 (gather_sqnorm, rows);
 *            library_calls += number of atoms with rows in the batch (DGEMMs);
 *            d2h += n·(8d + 8 + 8 + 4 + 4).
 *   run:     upload + encode.
 *   Not counted: handle/stream set-up, device-to-device traffic. A call that
 *   fails before issuing something does not count it. */
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_check.h"
#include "encode_backend.h"
#include "encode_kernels.cuh"

namespace {

struct encode_state {
    const sb_encode_problem *prob;
    const sb_encode_atlas *atlas;
    int64_t cap, p, K, m, d, charts;

    cudaStream_t stream;
    cublasHandle_t blas;

    /* resident */
    double *B_d;
    double *tables_d; /* centre | phi | dphi | Minv | beta_c | m1_sq | S | G | moments */
    sb_encode_tables tb; /* pointers into tables_d */

    /* the staged batch */
    int64_t n;      /* rows staged, 0 before the first upload */
    int identity;   /* rows already grouped: the GEMM reads X_d */
    double *X_d;    /* cap·p as uploaded */
    double *Xg_d;   /* cap·p grouped; allocated by the first upload that needs it */
    int32_t *atom_d, *perm_d;
    double *z_d;
    int32_t *perm_h;
    int64_t *offset_h; /* K + 1 */
    double *moments_h; /* charts·4, staged with the tables */

    /* per encode */
    double *Y_d;    /* cap·m */
    double *xx_d;   /* cap */
    void *res_d;    /* cap·(8d + 24) bytes: t | h | err | chart | steps */
    void *res_pin;

    sb_telemetry tel;
    int broken; /* a runtime failure left device work in an unknown state */
};

size_t result_bytes(int64_t n, int64_t d) { return (size_t)n * (size_t)(8 * d + 8 + 8 + 4 + 4); }

void encode_destroy(void *state)
{
    encode_state *st = (encode_state *)state;
    if (!st)
        return;
    if (st->stream)
        cudaStreamSynchronize(st->stream);
    cudaFree(st->B_d);
    cudaFree(st->tables_d);
    cudaFree(st->X_d);
    cudaFree(st->Xg_d);
    cudaFree(st->atom_d);
    cudaFree(st->perm_d);
    cudaFree(st->z_d);
    cudaFree(st->Y_d);
    cudaFree(st->xx_d);
    cudaFree(st->res_d);
    cudaFreeHost(st->res_pin);
    free(st->perm_h);
    free(st->offset_h);
    free(st->moments_h);
    sb_cuda_lib_close(st->stream, st->blas, NULL, NULL);
    free(st);
}

/* One atlas table up into the next part of tables_d; *where gets its device address. */
sb_rc stage_piece(encode_state *st, double **q, const double *src, size_t count, const double **where, sb_err *err)
{
    SB_CUDA_TRY(err, cudaMemcpyAsync(*q, src, count * sizeof(double), cudaMemcpyHostToDevice, st->stream));
    st->tel.h2d_bytes += (long long)(count * sizeof(double));
    *where = *q;
    *q += count;
    return SB_OK;
}

sb_rc encode_create_body(encode_state *st, sb_err *err)
{
    const sb_encode_problem *prob = st->prob;
    const sb_encode_atlas *at = st->atlas;
    const size_t K = (size_t)st->K, m = (size_t)st->m, d = (size_t)st->d, p = (size_t)st->p;
    const size_t C = (size_t)st->charts, cap = (size_t)st->cap, D8 = sizeof(double);

    sb_rc rc = sb_cuda_lib_open(&st->stream, &st->blas, NULL, NULL, &st->tel.handle_creations, err);
    if (rc != SB_OK)
        return rc;

    st->perm_h = (int32_t *)malloc(cap * sizeof(int32_t));
    st->offset_h = (int64_t *)malloc((K + 1) * sizeof(int64_t));
    st->moments_h = (double *)malloc(C * 4 * sizeof(double));
    if (!st->perm_h || !st->offset_h || !st->moments_h)
        return sb_fail(err, SB_E_RUNTIME, "out of host memory (cuda encode permutation, %zu rows)", cap);

    /* the table layout, in doubles */
    const size_t n_centre = C * d, n_phi = K * C * m, n_dphi = K * C * d * m, n_minv = K * C * d * d;
    const size_t n_beta = K * C, n_m1 = K * C, n_S = K, n_G = K * m * m, n_mom = C * 4;
    const size_t n_tables = n_centre + n_phi + n_dphi + n_minv + n_beta + n_m1 + n_S + n_G + n_mom;

    SB_CUDA_TRY(err, cudaMalloc((void **)&st->B_d, K * m * p * D8));
    SB_CUDA_TRY(err, cudaMalloc((void **)&st->tables_d, n_tables * D8));
    SB_CUDA_TRY(err, cudaMalloc((void **)&st->X_d, cap * p * D8));
    SB_CUDA_TRY(err, cudaMalloc((void **)&st->atom_d, cap * sizeof(int32_t)));
    SB_CUDA_TRY(err, cudaMalloc((void **)&st->perm_d, cap * sizeof(int32_t)));
    SB_CUDA_TRY(err, cudaMalloc((void **)&st->z_d, cap * D8));
    SB_CUDA_TRY(err, cudaMalloc((void **)&st->Y_d, cap * m * D8));
    SB_CUDA_TRY(err, cudaMalloc((void **)&st->xx_d, cap * D8));
    SB_CUDA_TRY(err, cudaMalloc(&st->res_d, result_bytes(st->cap, st->d)));
    SB_CUDA_TRY(err, cudaMallocHost(&st->res_pin, result_bytes(st->cap, st->d)));

    SB_CUDA_TRY(err, cudaMemcpyAsync(st->B_d, prob->B, K * m * p * D8, cudaMemcpyHostToDevice, st->stream));
    st->tel.h2d_bytes += (long long)(K * m * p * D8);
    st->tb = sb_encode_tables_of(at, (int)prob->basis, (int)prob->D);
    sb_enc_moments_fill(&st->tb, st->moments_h); /* from the host centres, before tb points at the device */
    double *q = st->tables_d;
    rc = SB_OK;
    if ((rc = stage_piece(st, &q, at->centre, n_centre, &st->tb.centre, err)) != SB_OK ||
        (rc = stage_piece(st, &q, at->phi, n_phi, &st->tb.phi, err)) != SB_OK ||
        (rc = stage_piece(st, &q, at->dphi, n_dphi, &st->tb.dphi, err)) != SB_OK ||
        (rc = stage_piece(st, &q, at->Minv, n_minv, &st->tb.Minv, err)) != SB_OK ||
        (rc = stage_piece(st, &q, at->beta_c, n_beta, &st->tb.beta_c, err)) != SB_OK ||
        (rc = stage_piece(st, &q, at->m1_sq, n_m1, &st->tb.m1_sq, err)) != SB_OK ||
        (rc = stage_piece(st, &q, at->S, n_S, &st->tb.S, err)) != SB_OK ||
        (rc = stage_piece(st, &q, at->G, n_G, &st->tb.G, err)) != SB_OK ||
        (rc = stage_piece(st, &q, st->moments_h, n_mom, &st->tb.moments, err)) != SB_OK)
        return rc;
    st->tel.frame_builds++;
    SB_CUDA_TRY(err, cudaStreamSynchronize(st->stream));
    return SB_OK;
}

sb_rc device_count_ok(sb_err *err)
{
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
        cudaGetLastError();
        return sb_fail(err, SB_E_NODEVICE, "no CUDA device: cudaGetDeviceCount: %s", cudaGetErrorString(e));
    }
    if (count < 1)
        return sb_fail(err, SB_E_NODEVICE, "no CUDA device: cudaGetDeviceCount found 0 devices");
    return SB_OK;
}

sb_rc decline_small(int64_t n, sb_err *err)
{
    if (n >= SB_ENCODE_DEVICE_MIN_ROWS)
        return SB_OK;
    return sb_fail(err, SB_E_NODEVICE, "device path only for batches ≥ %d rows (this batch has %lld)",
                   SB_ENCODE_DEVICE_MIN_ROWS, (long long)n);
}

sb_rc encode_create(const sb_encode_problem *prob, const sb_encode_atlas *atlas, void **state, sb_err *err)
{
    *state = NULL;
    sb_rc rc = sb_encode_fast_check(prob, atlas, err);
    if (rc == SB_OK)
        rc = decline_small(prob->n, err);
    if (rc == SB_OK)
        rc = device_count_ok(err);
    if (rc != SB_OK)
        return rc;
    encode_state *st = (encode_state *)calloc(1, sizeof *st);
    if (!st)
        return sb_fail(err, SB_E_RUNTIME, "out of host memory (cuda encode state)");
    st->prob = prob;
    st->atlas = atlas;
    st->cap = prob->n;
    st->p = prob->p;
    st->K = prob->K;
    st->m = prob->m;
    st->d = prob->d;
    st->charts = atlas->charts;
    rc = encode_create_body(st, err);
    if (rc != SB_OK) {
        encode_destroy(st);
        return rc;
    }
    *state = st;
    return SB_OK;
}

sb_rc encode_upload_body(encode_state *st, const sb_encode_problem *b, sb_err *err)
{
    const size_t n = (size_t)b->n, p = (size_t)st->p, D8 = sizeof(double);
    if (!st->identity && !st->Xg_d)
        SB_CUDA_TRY(err, cudaMalloc((void **)&st->Xg_d, (size_t)st->cap * p * D8));
    SB_CUDA_TRY(err, cudaMemcpyAsync(st->X_d, b->X, n * p * D8, cudaMemcpyHostToDevice, st->stream));
    st->tel.h2d_bytes += (long long)(n * p * D8);
    SB_CUDA_TRY(err, cudaMemcpyAsync(st->atom_d, b->atom, n * sizeof(int32_t), cudaMemcpyHostToDevice, st->stream));
    st->tel.h2d_bytes += (long long)(n * sizeof(int32_t));
    SB_CUDA_TRY(err, cudaMemcpyAsync(st->z_d, b->z, n * D8, cudaMemcpyHostToDevice, st->stream));
    st->tel.h2d_bytes += (long long)(n * D8);
    SB_CUDA_TRY(err, cudaMemcpyAsync(st->perm_d, st->perm_h, n * sizeof(int32_t), cudaMemcpyHostToDevice,
                                     st->stream));
    st->tel.h2d_bytes += (long long)(n * sizeof(int32_t));
    SB_CUDA_TRY(err, cudaStreamSynchronize(st->stream));
    st->n = b->n;
    return SB_OK;
}

sb_rc encode_upload(void *state, const sb_encode_problem *batch, sb_err *err)
{
    encode_state *st = (encode_state *)state;
    if (st->broken)
        return sb_fail(err, SB_E_RUNTIME, "cuda encode: state unusable after an earlier device failure");
    st->n = 0;
    sb_rc rc = sb_encode_batch_check(st->prob, batch, err);
    if (rc == SB_OK)
        rc = decline_small(batch->n, err);
    if (rc == SB_OK)
        rc = sb_encode_group_rows(batch, st->K, st->perm_h, st->offset_h, &st->identity, err);
    if (rc != SB_OK)
        return rc;
    rc = encode_upload_body(st, batch, err);
    if (rc == SB_E_RUNTIME)
        st->broken = 1;
    return rc;
}

sb_rc encode_encode_body(encode_state *st, sb_encode_result *out, sb_err *err)
{
    const int64_t n = st->n, p = st->p, m = st->m, d = st->d;
    const double one = 1.0, zero = 0.0;
    const double *Xsrc = st->identity ? st->X_d : st->Xg_d;

    SB_LAUNCH(encode_gather_sqnorm, sb_encode_grid(n, 32), SB_ENCODE_THREADS, 0, st->stream)(
        st->X_d, st->perm_d, n, p, st->identity ? (double *)NULL : st->Xg_d, st->xx_d);
    SB_LAUNCH_TRY(err, cudaGetLastError());
    st->tel.own_kernel_launches++;

    for (int64_t k = 0; k < st->K; ++k) {
        const int64_t o = st->offset_h[k], nk = st->offset_h[k + 1] - o;
        if (nk == 0)
            continue;
        SB_CUBLAS_TRY(err, cublasDgemm(st->blas, CUBLAS_OP_T, CUBLAS_OP_N, (int)m, (int)nk, (int)p, &one,
                                       st->B_d + k * m * p, (int)p, Xsrc + o * p, (int)p, &zero,
                                       st->Y_d + o * m, (int)m));
        st->tel.library_calls++;
    }

    char *res = (char *)st->res_d;
    double *t_d = (double *)res, *h_d = t_d + n * d, *err_d = h_d + n;
    int32_t *chart_d = (int32_t *)(err_d + n), *steps_d = chart_d + n;
    SB_LAUNCH(encode_rows, sb_encode_grid(n, 1), SB_ENCODE_THREADS, 0, st->stream)(
        st->tb, st->perm_d, st->atom_d, st->z_d, st->Y_d, st->xx_d, n, t_d, h_d, err_d, chart_d, steps_d);
    SB_LAUNCH_TRY(err, cudaGetLastError());
    st->tel.own_kernel_launches++;

    const size_t bytes = result_bytes(n, d);
    SB_CUDA_TRY(err, cudaMemcpyAsync(st->res_pin, st->res_d, bytes, cudaMemcpyDeviceToHost, st->stream));
    st->tel.d2h_bytes += (long long)bytes;
    SB_CUDA_TRY(err, cudaStreamSynchronize(st->stream));

    const double *tp = (const double *)st->res_pin, *hp = tp + n * d, *ep = hp + n;
    const int32_t *cp = (const int32_t *)(ep + n), *sp = cp + n;
    memcpy(out->t, tp, (size_t)(n * d) * sizeof(double));
    memcpy(out->h, hp, (size_t)n * sizeof(double));
    memcpy(out->recon_err, ep, (size_t)n * sizeof(double));
    memcpy(out->chart, cp, (size_t)n * sizeof(int32_t));
    memcpy(out->steps, sp, (size_t)n * sizeof(int32_t));
    return SB_OK;
}

sb_rc encode_encode(void *state, sb_encode_result *out, sb_err *err)
{
    encode_state *st = (encode_state *)state;
    if (st->broken)
        return sb_fail(err, SB_E_RUNTIME, "cuda encode: state unusable after an earlier device failure");
    if (st->n == 0)
        return sb_fail(err, SB_E_RUNTIME, "cuda encode: encode without a staged batch");
    if (!out || !out->t || !out->h || !out->recon_err || !out->chart || !out->steps)
        return sb_fail(err, SB_E_INPUT, "cuda encode: result arrays missing");
    sb_rc rc = encode_encode_body(st, out, err);
    if (rc == SB_E_RUNTIME)
        st->broken = 1;
    return rc;
}

sb_rc encode_run(void *state, const sb_encode_problem *batch, sb_encode_result *out, sb_err *err)
{
    sb_rc rc = encode_upload(state, batch, err);
    return rc != SB_OK ? rc : encode_encode(state, out, err);
}

void encode_telemetry(const void *state, sb_telemetry *t) { *t = ((const encode_state *)state)->tel; }

} // namespace

extern "C" const sb_encode_ops sb_cuda_encode_ops = {
    encode_create,    /* create */
    encode_upload,    /* upload */
    encode_encode,    /* encode */
    encode_run,       /* run */
    encode_telemetry, /* telemetry */
    encode_destroy,   /* destroy */
};
