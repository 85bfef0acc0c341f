/* Device kernels of the CUDA encode (cuda/encode_backend.cu, docs/workloads.md
 * §5). Included by cuda/encode_backend.cu and by the host simulation
 * tests/sim/sim_encode.cpp, which runs these exact kernels with one OS thread
 * per CUDA thread and the blocks of a grid concurrently, in four start orders.
 * Keep this file free of host code and of CUDA headers.
 *
 * Around them the backend issues one cuBLAS DGEMM per atom with rows
 * (Y_k = X_k·B_kᵀ over the rows grouped by atom); these kernels are the
 * per-row work:
 *   encode_gather_sqnorm  one warp per grouped row r: copies row perm[r] of
 *                         the uploaded X to row r of the grouped copy (unless
 *                         the batch is already grouped: Xg == NULL) and
 *                         writes xx[r] = ‖x‖² in a fixed order (lane l sums
 *                         the columns ≡ l mod 32 in increasing order, then an
 *                         xor butterfly: sb_enc_sqnorm_warp_order is the same
 *                         order on the host);
 *   encode_rows           one thread per grouped row: sb_encode_row
 *                         (src/hostdev/encode_row.cuh) on Y[r], xx[r], writing the
 *                         results at the row's original index perm[r].
 * Neither communicates across threads except the warp's butterfly, so every
 * result is independent of the block order. */
#ifndef SB_ENCODE_KERNELS_CUH
#define SB_ENCODE_KERNELS_CUH

#include "hostdev/encode_row.cuh"

/* Threads per block (a multiple of 32: the gather uses whole warps). */
#define SB_ENCODE_THREADS 128
/* Grid-stride kernels use at most this many blocks. */
#define SB_ENCODE_MAX_BLOCKS 8192

/* Blocks of SB_ENCODE_THREADS threads for `items` work items of `per_item`
 * threads each. */
static inline unsigned sb_encode_grid(int64_t items, int per_item)
{
    const int64_t per_block = SB_ENCODE_THREADS / per_item;
    int64_t blocks = (items + per_block - 1) / per_block;
    if (blocks < 1)
        blocks = 1;
    if (blocks > SB_ENCODE_MAX_BLOCKS)
        blocks = SB_ENCODE_MAX_BLOCKS;
    return (unsigned)blocks;
}

__global__ void __launch_bounds__(SB_ENCODE_THREADS)
encode_gather_sqnorm(const double *__restrict__ X, const int32_t *__restrict__ perm, int64_t n, int64_t p,
                     double *__restrict__ Xg, double *__restrict__ xx)
{
    const int lane = (int)(threadIdx.x % 32);
    const int64_t warps = (int64_t)gridDim.x * (blockDim.x / 32);
    for (int64_t r = ((int64_t)blockIdx.x * blockDim.x + threadIdx.x) / 32; r < n; r += warps) {
        const double *x = X + (int64_t)perm[r] * p;
        double *dst = Xg ? Xg + r * p : (double *)0;
        double s = 0.0;
        for (int64_t c = lane; c < p; c += 32) {
            const double v = x[c];
            if (dst)
                dst[c] = v;
            s += v * v;
        }
        for (int off = 16; off >= 1; off /= 2)
            s += __shfl_xor_sync(0xffffffffu, s, off);
        if (lane == 0)
            xx[r] = s;
    }
}

__global__ void __launch_bounds__(SB_ENCODE_THREADS)
encode_rows(sb_encode_tables tb, const int32_t *__restrict__ perm, const int32_t *__restrict__ atom,
            const double *__restrict__ z, const double *__restrict__ Y, const double *__restrict__ xx, int64_t n,
            double *__restrict__ t_out, double *__restrict__ h_out, double *__restrict__ err_out,
            int32_t *__restrict__ chart_out, int32_t *__restrict__ steps_out)
{
    const int64_t stride = (int64_t)gridDim.x * blockDim.x;
    const int d = tb.d;
    for (int64_t r = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; r < n; r += stride) {
        const int64_t i = perm[r];
        sb_encode_row_out o;
        sb_encode_row(&tb, atom[i], z[i], Y + r * tb.m, xx[r], &o);
        for (int a = 0; a < d; ++a)
            t_out[i * d + a] = o.t[a];
        h_out[i] = o.h;
        err_out[i] = o.err;
        chart_out[i] = o.chart;
        steps_out[i] = o.steps;
    }
}

#endif
