/* resident-solve --precision mixed on the CUDA backend (see rs_mixed.h and
 * rs_mixed_kernels.cuh for the algorithm and the round structure).
 *
 * Per rep, enqueued by rs_backend.cu on the state's one stream:
 *   build   dual: rsm_dual_shift_f32 (Af from Kf, FP64 diagonal + ridge/w),
 *                 rsm_anrm from the per-frame row sums of |K|;
 *           primal: rsm_scale_cols_sqrtw_f32, cublasSsyrk, rsm_add_diag_f32,
 *                 rsm_abs_sums_tiles_f32, rsm_abs_sums_reduce, rsm_anrm
 *   factor  cusolverDnXpotrf, CUDA_R_32F
 *   rounds  round 0: rsm_start; every round: Xpotrs (FP32, one right side),
 *           rsm_update, the FP64 residual (dual: cublasDsymv; primal:
 *           cublasDgemv ᵀ, rsm_scale, cublasDgemv), rsm_check.
 * Telemetry: each cuBLAS/cuSOLVER call is one library_call, each kernel one
 * own_kernel_launch; the status download adds 8 bytes to d2h_bytes.
 * The kernels are checked by tests/sim/sim_mixed.cpp (blocks concurrent, out
 * of order) and the whole rep by tests/gpu/rs_backend_test.c on a device
 * (status: docs/status.md). */
#include "rs_mixed.h"

#include <stdlib.h>
#include <string.h>

#include <algorithm>

#include "cuda_check.h"
#include "rs_mixed_kernels.cuh"

namespace {

unsigned grid_of(int64_t items)
{
    int64_t blocks = (items + SB_RSM_BLOCK - 1) / SB_RSM_BLOCK;
    return (unsigned)std::min<int64_t>(std::max<int64_t>(blocks, 1), 8192);
}

/* One block per 64×64 tile of a lower triangle of order N (rsm_abs_sums_tiles). */
unsigned sums_tiles(int64_t N)
{
    const int64_t nt = (N + RSM_ST - 1) / RSM_ST;
    return (unsigned)(nt * (nt + 1) / 2);
}

unsigned grid_cols(int64_t cols) { return (unsigned)std::min<int64_t>(std::max<int64_t>(cols, 1), 8192); }

#define RSM_LAUNCHED(err, c)                                                                     \
    do {                                                                                         \
        SB_CUDA_TRY(err, cudaGetLastError());                                                    \
        (c)->tel->own_kernel_launches++;                                                         \
    } while (0)

} // namespace

sb_rc rs_mixed_create(rs_mixed *m, const rs_mixed_ctx *c, sb_err *err)
{
    memset(m, 0, sizeof *m);
    m->rounds = 3; /* the first solve and two corrections; grows to what reps need */
    const size_t N = (size_t)c->N, n = (size_t)c->n, p = (size_t)c->p;
    SB_CUDA_TRY(err, cudaMalloc((void **)&m->Af, N * N * sizeof(float)));
    SB_CUDA_TRY(err, cudaMemsetAsync(m->Af, 0, N * N * sizeof(float), c->stream));
    SB_CUDA_TRY(err, cudaMalloc((void **)&m->c, N * sizeof(float)));
    SB_CUDA_TRY(err, cudaMalloc((void **)&m->x, N * sizeof(double)));
    SB_CUDA_TRY(err, cudaMalloc((void **)&m->r, N * sizeof(double)));
    SB_CUDA_TRY(err, cudaMalloc((void **)&m->sums, N * sizeof(double)));
    SB_CUDA_TRY(err, cudaMalloc((void **)&m->parts, (N + 63) / 64 * N * sizeof(double)));
    SB_CUDA_TRY(err, cudaMalloc((void **)&m->anrm, sizeof(double)));
    SB_CUDA_TRY(err, cudaMalloc((void **)&m->info32, 2 * sizeof(int)));
    SB_CUDA_TRY(err, cudaMemsetAsync(m->info32, 0, 2 * sizeof(int), c->stream));
    SB_CUDA_TRY(err, cudaMalloc((void **)&m->status, SB_RSM_STATUS_INTS * sizeof(int)));
    SB_CUDA_TRY(err, cudaMallocHost((void **)&m->status_pin, SB_RSM_STATUS_INTS * sizeof(int)));
    if (c->dual) {
        SB_CUDA_TRY(err, cudaMalloc((void **)&m->Kf, n * n * sizeof(float)));
    } else {
        SB_CUDA_TRY(err, cudaMalloc((void **)&m->Xsf, n * p * sizeof(float)));
        SB_CUDA_TRY(err, cudaMalloc((void **)&m->t, n * sizeof(double)));
    }
    SB_CUSOLVER_TRY(err, cusolverDnXpotrf_bufferSize(c->solver, c->params, CUBLAS_FILL_MODE_LOWER, c->N,
                                                     CUDA_R_32F, m->Af, c->N, CUDA_R_32F, &m->work_d_bytes,
                                                     &m->work_h_bytes));
    SB_CUDA_TRY(err, cudaMalloc(&m->work_d, std::max(m->work_d_bytes, (size_t)1)));
    if (m->work_h_bytes > 0 && !(m->work_h = malloc(m->work_h_bytes)))
        return sb_fail(err, SB_E_RUNTIME, "out of host memory (cuSOLVER FP32 workspace, %zu B)", m->work_h_bytes);
    return c->dual ? rs_mixed_frame(m, c, err) : SB_OK;
}

sb_rc rs_mixed_frame(rs_mixed *m, const rs_mixed_ctx *c, sb_err *err)
{
    if (!c->dual)
        return SB_OK;
    SB_LAUNCH(rsm_to_f32, grid_of(c->n * c->n), SB_RSM_BLOCK, 0, c->stream)(c->K, c->n * c->n, m->Kf);
    RSM_LAUNCHED(err, c);
    SB_LAUNCH(rsm_abs_sums_tiles_f64, sums_tiles(c->n), SB_RSM_BLOCK, 0, c->stream)(c->K, c->n, m->parts);
    RSM_LAUNCHED(err, c);
    SB_LAUNCH(rsm_abs_sums_reduce, grid_of(c->n), SB_RSM_BLOCK, 0, c->stream)(m->parts, c->n, m->sums);
    RSM_LAUNCHED(err, c);
    return SB_OK;
}

sb_rc rs_mixed_build(rs_mixed *m, const rs_mixed_ctx *c, sb_err *err)
{
    if (c->dual) {
        SB_LAUNCH(rsm_dual_shift_f32, grid_cols(c->n), SB_RSM_BLOCK, 0, c->stream)(m->Kf, c->K, c->n, c->w, c->ridge, m->Af);
        RSM_LAUNCHED(err, c);
    } else {
        const float one = 1.0f, zero = 0.0f;
        SB_LAUNCH(rsm_scale_cols_sqrtw_f32, grid_cols(c->n), SB_RSM_BLOCK, 0, c->stream)(c->Xt, c->p, c->n, c->w, m->Xsf);
        RSM_LAUNCHED(err, c);
        SB_CUBLAS_TRY(err, cublasSsyrk(c->blas, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_N, (int)c->p, (int)c->n, &one,
                                       m->Xsf, (int)c->p, &zero, m->Af, (int)c->p));
        c->tel->library_calls++;
        SB_LAUNCH(rsm_add_diag_f32, grid_of(c->p), SB_RSM_BLOCK, 0, c->stream)(m->Af, c->p, c->ridge);
        RSM_LAUNCHED(err, c);
        SB_LAUNCH(rsm_abs_sums_tiles_f32, sums_tiles(c->p), SB_RSM_BLOCK, 0, c->stream)(m->Af, c->p, m->parts);
        RSM_LAUNCHED(err, c);
        SB_LAUNCH(rsm_abs_sums_reduce, grid_of(c->p), SB_RSM_BLOCK, 0, c->stream)(m->parts, c->p, m->sums);
        RSM_LAUNCHED(err, c);
    }
    SB_LAUNCH(rsm_anrm, 1, SB_RSM_THREADS, 0, c->stream)(m->sums, c->w, c->ridge, c->dual, c->N, m->anrm);
    RSM_LAUNCHED(err, c);
    return SB_OK;
}

sb_rc rs_mixed_factor(rs_mixed *m, const rs_mixed_ctx *c, sb_err *err)
{
    SB_CUSOLVER_TRY(err, cusolverDnXpotrf(c->solver, c->params, CUBLAS_FILL_MODE_LOWER, c->N, CUDA_R_32F, m->Af,
                                          c->N, CUDA_R_32F, m->work_d, m->work_d_bytes, m->work_h,
                                          m->work_h_bytes, m->info32));
    c->tel->library_calls++;
    c->tel->factorizations++;
    return SB_OK;
}

sb_rc rs_mixed_rounds(rs_mixed *m, const rs_mixed_ctx *c, int first, int count, sb_err *err)
{
    const int64_t N = c->N;
    const double one = 1.0, minus_one = -1.0, zero = 0.0;
    for (int round = first; round < first + count; ++round) {
        if (round == 0) {
            SB_LAUNCH(rsm_start, grid_of(N), SB_RSM_BLOCK, 0, c->stream)(c->b, N, m->c, m->x, m->status);
            RSM_LAUNCHED(err, c);
        }
        /* potrs reports only argument errors (its return status does too):
         * its info goes to a scratch word, not info32 */
        SB_CUSOLVER_TRY(err, cusolverDnXpotrs(c->solver, c->params, CUBLAS_FILL_MODE_LOWER, N, 1, CUDA_R_32F, m->Af,
                                              N, CUDA_R_32F, m->c, N, m->info32 + 1));
        c->tel->library_calls++;
        SB_LAUNCH(rsm_update, grid_of(N), SB_RSM_BLOCK, 0, c->stream)(m->c, c->b, c->dual ? 0.0 : c->ridge, N, m->x, m->r);
        RSM_LAUNCHED(err, c);
        if (c->dual) {
            SB_CUBLAS_TRY(err, cublasDsymv(c->blas, CUBLAS_FILL_MODE_LOWER, (int)N, &minus_one, c->K, (int)N, m->x, 1,
                                           &one, m->r, 1));
            c->tel->library_calls++;
        } else {
            SB_CUBLAS_TRY(err, cublasDgemv(c->blas, CUBLAS_OP_T, (int)c->p, (int)c->n, &one, c->Xt, (int)c->p, m->x,
                                           1, &zero, m->t, 1));
            c->tel->library_calls++;
            SB_LAUNCH(rsm_scale, grid_of(c->n), SB_RSM_BLOCK, 0, c->stream)(m->t, c->w, c->n);
            RSM_LAUNCHED(err, c);
            SB_CUBLAS_TRY(err, cublasDgemv(c->blas, CUBLAS_OP_N, (int)c->p, (int)c->n, &minus_one, c->Xt, (int)c->p,
                                           m->t, 1, &one, m->r, 1));
            c->tel->library_calls++;
        }
        SB_LAUNCH(rsm_check, 1, SB_RSM_THREADS, 0, c->stream)(m->r, m->x, c->w, c->ridge, c->dual, N, m->anrm, m->info32,
                                                      round, m->status, m->c);
        RSM_LAUNCHED(err, c);
    }
    return SB_OK;
}

sb_rc rs_mixed_status(rs_mixed *m, const rs_mixed_ctx *c, sb_err *err)
{
    SB_CUDA_TRY(err, cudaMemcpyAsync(m->status_pin, m->status, SB_RSM_STATUS_INTS * sizeof(int),
                                     cudaMemcpyDeviceToHost, c->stream));
    c->tel->d2h_bytes += SB_RSM_STATUS_INTS * (long long)sizeof(int);
    return SB_OK;
}

void rs_mixed_destroy(rs_mixed *m)
{
    cudaFree(m->Af);
    cudaFree(m->Kf);
    cudaFree(m->Xsf);
    cudaFree(m->c);
    cudaFree(m->x);
    cudaFree(m->r);
    cudaFree(m->t);
    cudaFree(m->sums);
    cudaFree(m->parts);
    cudaFree(m->anrm);
    cudaFree(m->info32);
    cudaFree(m->status);
    cudaFreeHost(m->status_pin);
    cudaFree(m->work_d);
    free(m->work_h);
    memset(m, 0, sizeof *m);
}
