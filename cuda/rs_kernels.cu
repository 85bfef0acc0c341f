/* Host launchers of the resident-solve kernels; the kernels themselves and
 * the reasoning behind them are in rs_kernels.cuh. */
#include "rs_kernels.h"

#include "rs_kernels.cuh"

namespace {

/* Grid-stride kernels: enough blocks to fill any current GPU several times. */
const int64_t kMaxBlocks = 8192;
const int kThreads = 256;

unsigned grid_for(int64_t items, int64_t per_block)
{
    int64_t blocks = (items + per_block - 1) / per_block;
    if (blocks < 1)
        blocks = 1;
    if (blocks > kMaxBlocks)
        blocks = kMaxBlocks;
    return (unsigned)blocks;
}

} // namespace

cudaError_t sb_launch_scale_cols_sqrtw(const double *Xt, int64_t p, int64_t n, const double *w,
                                       double *Xs, cudaStream_t stream)
{
    rs_scale_cols_sqrtw<<<grid_for(n, 1), kThreads, 0, stream>>>(Xt, p, n, w, Xs);
    return cudaGetLastError();
}

cudaError_t sb_launch_add_diag(double *A, int64_t N, double v, cudaStream_t stream)
{
    rs_add_diag<<<grid_for(N, kThreads), kThreads, 0, stream>>>(A, N, v);
    return cudaGetLastError();
}

cudaError_t sb_launch_dual_shift(const double *K, int64_t n, const double *w, double ridge,
                                 double *M, cudaStream_t stream)
{
    rs_dual_shift<<<grid_for(n, 1), kThreads, 0, stream>>>(K, n, w, ridge, M);
    return cudaGetLastError();
}

cudaError_t sb_launch_fill_pseudorandom(double *a, int64_t count, uint64_t seed,
                                        cudaStream_t stream)
{
    rs_fill_pseudorandom<<<grid_for(count, kThreads), kThreads, 0, stream>>>(a, count, seed);
    return cudaGetLastError();
}

cudaError_t sb_launch_chol_diag(double *A, int64_t lda, int jb, int col0, int *info,
                                cudaStream_t stream)
{
    if (jb < 1 || jb > SB_RS_NB)
        return cudaErrorInvalidValue;
    rs_chol_diag<<<1, SB_CHOL_THREADS, 0, stream>>>(A, lda, jb, col0, info);
    return cudaGetLastError();
}

cudaError_t sb_launch_chol_solve_chained(const double *L, int64_t lda, int N, double *b,
                                         sb_chain *chain, int *info, cudaStream_t stream)
{
    const int nblk = (N + SB_RS_NB - 1) / SB_RS_NB;
    if (N < 1 || nblk > chain->nblk_max)
        return cudaErrorInvalidValue;
    sb_chain_sync cs;
    cs.flags = chain->flags;
    cs.ticket = chain->ticket;
    cs.abort = chain->abort;

    cs.ticket_base = chain->ticket_base;
    cs.epoch = ++chain->epoch;
    rs_trsv_lower_fwd<<<nblk, SB_TRSV_THREADS, 0, stream>>>(L, lda, N, b, chain->linv, cs, info);
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess)
        return e;
    chain->ticket_base += (unsigned long long)nblk;

    cs.ticket_base = chain->ticket_base;
    cs.epoch = ++chain->epoch;
    rs_trsv_lower_bwd<<<nblk, SB_TRSV_THREADS, 0, stream>>>(L, lda, N, b, chain->linv, cs, info);
    e = cudaGetLastError();
    if (e != cudaSuccess)
        return e;
    chain->ticket_base += (unsigned long long)nblk;
    return cudaSuccess;
}
