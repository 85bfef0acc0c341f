/* Host launchers of the resident-solve kernels and the allocation of their
 * cross-block state; the kernels themselves and the reasoning behind them
 * are in rs_kernels.cuh and rs_tiled.cuh. */
#include "rs_kernels.h"

#include <limits.h>

#include <string.h>

#include "rs_tiled.cuh"

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
    SB_LAUNCH(rs_scale_cols_sqrtw, grid_for(n, 1), kThreads, 0, stream)(Xt, p, n, w, Xs);
    return cudaGetLastError();
}

cudaError_t sb_launch_add_diag(double *A, int64_t N, int64_t lda, double v, cudaStream_t stream)
{
    SB_LAUNCH(rs_add_diag, grid_for(N, kThreads), kThreads, 0, stream)(A, N, lda, v);
    return cudaGetLastError();
}

cudaError_t sb_launch_dual_shift(const double *K, int64_t n, const double *w, double ridge,
                                 double *M, int64_t ldm, const double *border, cudaStream_t stream)
{
    if (border && ldm < n + 1)
        return cudaErrorInvalidValue;
    SB_LAUNCH(rs_dual_shift, grid_for(n, 1), kThreads, 0, stream)(K, n, w, ridge, M, ldm, border);
    return cudaGetLastError();
}

cudaError_t sb_launch_fill_pseudorandom(double *a, int64_t count, uint64_t seed,
                                        cudaStream_t stream)
{
    SB_LAUNCH(rs_fill_pseudorandom, grid_for(count, kThreads), kThreads, 0, stream)(a, count, seed);
    return cudaGetLastError();
}

cudaError_t sb_launch_info_commit(int *slots, int nslots, int *scratch, unsigned *next,
                                  cudaStream_t stream)
{
    SB_LAUNCH(rs_info_commit, 1, 32, 0, stream)(slots, nslots, scratch, next);
    return cudaGetLastError();
}

cudaError_t sb_launch_chol_diag(double *A, int64_t lda, int jb, int col0, int *info,
                                cudaStream_t stream)
{
    if (jb < 1 || jb > SB_RS_NB)
        return cudaErrorInvalidValue;
    SB_LAUNCH(rs_chol_diag, 1, SB_CHOL_THREADS, 0, stream)(A, lda, jb, col0, info);
    return cudaGetLastError();
}

cudaError_t sb_chain_alloc(sb_chain *chain, int n_max, cudaStream_t stream)
{
    memset(chain, 0, sizeof *chain);
    if (n_max < 1)
        return cudaErrorInvalidValue;
    const size_t nblk = ((size_t)n_max + SB_RS_NB - 1) / SB_RS_NB;
    const size_t linv_bytes = nblk * SB_RS_NB * SB_RS_NB * sizeof(double);
    chain->nblk_max = (int)nblk;
    cudaError_t e;
    if ((e = cudaMalloc((void **)&chain->flags, nblk * sizeof(unsigned))) != cudaSuccess ||
        (e = cudaMemsetAsync(chain->flags, 0, nblk * sizeof(unsigned), stream)) != cudaSuccess ||
        (e = cudaMalloc((void **)&chain->ctl, sizeof(sb_chain_ctl))) != cudaSuccess ||
        (e = cudaMemsetAsync(chain->ctl, 0, sizeof(sb_chain_ctl), stream)) != cudaSuccess ||
        (e = cudaMalloc((void **)&chain->linv, linv_bytes)) != cudaSuccess ||
        (e = cudaMemsetAsync(chain->linv, 0, linv_bytes, stream)) != cudaSuccess)
        return e;
    return cudaSuccess;
}

void sb_chain_free(sb_chain *chain)
{
    cudaFree(chain->flags);
    cudaFree(chain->ctl);
    cudaFree(chain->linv);
    memset(chain, 0, sizeof *chain);
}

namespace {

sb_chain_sync chain_sync(const sb_chain *chain)
{
    sb_chain_sync cs;
    cs.flags = chain->flags;
    cs.ctl = chain->ctl;
    cs.spin_limit = SB_CHAIN_SPIN_CYCLES;
    cs.test_start_delay = chain->test_start_delay;
    return cs;
}

} // namespace

/* No host-side state changes between or inside these launches: the device
 * state carries everything (sb_chain_ctl), so a captured graph replays them. */
cudaError_t sb_launch_chol_solve_chained(const double *L, int64_t lda, int N, double *b,
                                         const sb_chain *chain, int *info, cudaStream_t stream)
{
    const int nblk = (N + SB_RS_NB - 1) / SB_RS_NB;
    if (N < 1 || nblk > chain->nblk_max)
        return cudaErrorInvalidValue;
    const sb_chain_sync cs = chain_sync(chain);
    SB_LAUNCH(rs_trsv_lower_fwd, nblk, SB_TRSV_THREADS, 0, stream)(L, lda, N, b, chain->linv, cs, info);
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess)
        return e;
    SB_LAUNCH(rs_trsv_lower_bwd, nblk, SB_TRSV_THREADS, 0, stream)(L, lda, N, b, chain->linv, cs, info);
    return cudaGetLastError();
}

cudaError_t sb_launch_chol_solve_bwd(const double *L, int64_t lda, int N, double *b,
                                     const sb_chain *chain, int *info, cudaStream_t stream)
{
    const int nblk = (N + SB_RS_NB - 1) / SB_RS_NB;
    if (N < 1 || nblk > chain->nblk_max)
        return cudaErrorInvalidValue;
    SB_LAUNCH(rs_trsv_lower_bwd, nblk, SB_TRSV_THREADS, 0, stream)(L, lda, N, b, chain->linv,
                                                            chain_sync(chain), info);
    return cudaGetLastError();
}

cudaError_t sb_tiled_alloc(sb_tiled *tiled, int n_max, int grid, cudaStream_t stream)
{
    memset(tiled, 0, sizeof *tiled);
    if (n_max < 1 || grid < 1)
        return cudaErrorInvalidValue;
    const int nt = (n_max + SB_RS_NB - 1) / SB_RS_NB;
    const size_t count_bytes = (size_t)nt * (size_t)nt * sizeof(unsigned);
    tiled->nt_max = nt;
    const long long tasks = sb_tiled_ntasks(nt);
    tiled->grid = (int)(grid < tasks ? grid : tasks);
    cudaError_t e;
    if ((e = cudaMalloc((void **)&tiled->counts, count_bytes)) != cudaSuccess ||
        (e = cudaMemsetAsync(tiled->counts, 0, count_bytes, stream)) != cudaSuccess ||
        (e = cudaMalloc((void **)&tiled->ctl, sizeof(sb_chain_ctl))) != cudaSuccess ||
        (e = cudaMemsetAsync(tiled->ctl, 0, sizeof(sb_chain_ctl), stream)) != cudaSuccess)
        return e;
    return cudaSuccess;
}

void sb_tiled_free(sb_tiled *tiled)
{
    cudaFree(tiled->counts);
    cudaFree(tiled->ctl);
    memset(tiled, 0, sizeof *tiled);
}

/* The launch state of a tiled factorization, without the Gram. */
static sb_tiled_sync tiled_sync(const sb_tiled *tiled)
{
    sb_tiled_sync ts;
    memset(&ts, 0, sizeof ts);
    ts.counts = tiled->counts;
    ts.ctl = tiled->ctl;
    ts.spin_limit = SB_CHAIN_SPIN_CYCLES;
    ts.test_start_delay = tiled->test_start_delay;
    ts.trace = tiled->trace;
    return ts;
}

cudaError_t sb_launch_chol_tiled(double *A, int64_t lda, int n, int bordered, double *border_out,
                                 double *linv, const sb_tiled *tiled, int *info,
                                 cudaStream_t stream)
{
    const int nt = (n + SB_RS_NB - 1) / SB_RS_NB;
    if (n < 1 || lda < n || nt > tiled->nt_max || (bordered && n < 2))
        return cudaErrorInvalidValue;
    const sb_tiled_sync ts = tiled_sync(tiled);
    SB_LAUNCH(rs_chol_tiled, tiled->grid, SB_TILED_THREADS, 0, stream)(A, lda, n, bordered ? 1 : 0,
                                                                border_out, linv, ts, info);
    return cudaGetLastError();
}

cudaError_t sb_launch_chol_tiled_gram(double *A, int64_t lda, const double *Xt, int64_t p,
                                      int64_t samples, const double *w, double ridge, int splits,
                                      void *gram_work, double *border_out, double *linv,
                                      const sb_tiled *tiled, int *info, cudaStream_t stream)
{
    const int64_t n = p + 1;
    const int nt = (int)((n + SB_RS_NB - 1) / SB_RS_NB);
    if (p < 1 || samples < 1 || p >= INT_MAX || samples > INT_MAX || lda < n || splits < 1 ||
        nt > tiled->nt_max)
        return cudaErrorInvalidValue;
    const int64_t kchunk = rs_gram_kchunk(samples, splits, RS_GRAM_KB);
    const int nchunks = rs_gram_nchunks(samples, kchunk);
    if (kchunk > INT_MAX || (nchunks > 1 && !gram_work))
        return cudaErrorInvalidValue;
    sb_tiled_sync ts = tiled_sync(tiled);
    ts.gram_Xt = Xt;
    ts.gram_w = w;
    ts.gram_ridge = ridge;
    ts.gram_partials = nchunks > 1 ? (double *)gram_work : NULL;
    ts.gram_counts = nchunks > 1 ? (unsigned *)(ts.gram_partials + rs_gram_partials(p, nchunks, RS_GRAM_T))
                                 : NULL;
    ts.gram_p = (int)p;
    ts.gram_samples = (int)samples;
    ts.gram_nchunks = nchunks;
    ts.gram_kchunk = (int)kchunk;
    SB_LAUNCH(rs_chol_tiled_gram, tiled->grid, SB_TILED_THREADS, 0, stream)(A, lda, (int)n, 1, border_out,
                                                                     linv, ts, info);
    return cudaGetLastError();
}
