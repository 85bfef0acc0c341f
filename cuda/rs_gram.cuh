/* The weighted Gram matrix of the primal resident-solve on the FP64 tensor
 * cores: lower(G) = Xt·diag(w)·Xtᵀ + ridge·I = Σ_i w_i x_i x_iᵀ + ridge·I,
 * Xt p×n column-major (column i = x_i = row i of X), G column-major with
 * leading dimension ldg >= p (so it can be the leading p×p block of the
 * tiled factor's bordered (p+1)×(p+1) matrix). Only the lower triangle of G
 * is written; its upper triangle and anything past row p are left alone.
 *
 * Included by cuda/rs_gram.cu (the launcher) and by the host simulation
 * tests/sim/sim_gram.cpp, which runs this exact source with one OS thread per
 * CUDA thread, blocks concurrent and started in four orders, and the
 * tensor-core product emulated lane by lane (sim_cuda.h). No CUDA headers;
 * the only host code is the integer arithmetic of the launch plan at the
 * end, which the launcher and the simulation share.
 *
 * The simulation cannot check its speed, nor its memory ordering under the
 * GPU's memory model (status: docs/status.md).
 *
 * Work split. G's lower triangle is cut into T×T tiles (T = 128), nt =
 * ceil(p/T) tile rows, nt(nt+1)/2 tiles; the n samples (the K dimension)
 * into `nchunks` chunks of kchunk samples (a multiple of KB). One 256-thread
 * block per (tile, chunk), block index = tile·nchunks + chunk. A block
 * streams its chunk through shared memory KB = 16 samples at a time: each
 * thread loads one row of each operand for KB/2 samples into registers
 * (the next slab's loads are in flight while the current one is
 * multiplied), the row operand scaled by w_i as it is loaded (one multiply
 * per element: the weights are fused into the load, the column operand is
 * plain X, so no scaled copy of X exists and √w is never taken). Eight warps
 * as 2×4, each owning a 64×32 block of the tile: per 4 samples a lane
 * reads 8 + 4 operand values from shared memory and issues 32
 * mma.m8n8k4 (rs_mma.cuh), accumulating in FP64 registers in sample order.
 * On a diagonal tile the 8×8 blocks strictly above the diagonal are
 * skipped (whole warps sit idle there: 8 of 36 tiles at p = 1024).
 *
 * Combining the chunks, deterministically and without floating-point
 * atomics: with nchunks > 1 each block stores its partial tile into
 * `partials` (coalesced, in its own register order), fences, and counts
 * itself in counts[tile] with an integer atomicAdd. The block that brings
 * the count to nchunks (whichever finishes last) resets it to 0, so the
 * next launch (a graph replay) starts clean, and sums the tile's partials
 * in chunk order 0, 1, ..., nchunks-1 (its own from registers, the same
 * bits it stored), adds ridge on the diagonal and writes G. The sum's order
 * never depends on which block came last, so G is bit-identical from run to
 * run (for one launch plan: the plan depends on the SM count, so two GPU
 * models may differ in the last bits). With nchunks = 1 a block writes G
 * directly. Loads of partials written by other blocks go through __ldcg
 * (L2), never L1.
 *
 * Launch plan (rs_gram_splits below): nchunks minimises a cost model of
 * (blocks per SM) × (samples per block) plus the partials' round trip. At
 * sae-8k-1024 (n = 8000, p = 1024) on an H100 (132 SMs): 8 tile rows, 36
 * tiles, 7 chunks of 1152 samples, 252 blocks, 33 MB of partials (36·7
 * tiles of 128 KB) and 144 bytes of counters. ptxas (CUDA 13) gives the
 * kernel ~215 registers a thread and no spills (the 64 FP64 accumulators
 * alone take 128) and 33 KB of shared memory: one block per SM, so the 252
 * blocks run as 132 + 120, and the busiest SM does 2 blocks in turn.
 *
 * Time estimate for that shape (H100, from rates, NOT measured):
 *   - tensor work: 28 full tiles + 8 diagonal tiles at 136/256 of a tile =
 *     8.45 GFLOP issued (8.4 useful). At the ~57 TFLOP/s FP64 tensor rate
 *     peers measured (cuBLAS DGEMM) and the plan's balance (the busiest SM
 *     holds 2 blocks × 1152 samples, 6 % above an even share): ~0.16 ms;
 *   - memory: X read once from DRAM (65.5 MB, more if L2 (50 MB) does not
 *     hold a slab between the tiles that share it), partials 33 MB written
 *     and read (mostly L2-resident: a tile's chunks run together), G
 *     4.2 MB written: ~0.03–0.05 ms at ~3 TB/s, largely overlapped with the
 *     multiplies. L2→SM traffic is 64 slab reads of 128×8000 doubles
 *     (0.52 GB), ~0.1 ms at ~5 TB/s, also overlapped;
 *   - so ~0.18–0.22 ms if m8n8k4 issues at the rate cuBLAS reaches. Two
 *     unknowns that only a GPU settles: cuBLAS on sm_90 may use the larger
 *     m16n8k{4,8,16} f64 shapes, and if m8n8k4 reaches only half of that
 *     rate this kernel takes ~0.35 ms; and shared-memory bank conflicts or
 *     register spills (the ~64 accumulators + 16 prefetched values per
 *     thread) would show in Nsight Compute, not here.
 *   Today's path for comparison: the √w-scaled copy (65.5 MB read, 65.5 MB
 *   written, ~0.045 ms) then cuBLAS DSYRK (8.4 GFLOP, at best ~0.15 ms). */
#ifndef SB_RS_GRAM_CUH
#define SB_RS_GRAM_CUH

#include <stdint.h>

#include "rs_mma.cuh"

/* The device configuration: T×T tiles, WR×WC warps, KB samples per slab. */
enum {
    RS_GRAM_T = 128,
    RS_GRAM_WR = 2,
    RS_GRAM_WC = 4,
    RS_GRAM_KB = 16,
    RS_GRAM_THREADS = 32 * RS_GRAM_WR * RS_GRAM_WC
};

/* Lower-triangle tile number t = bi(bi+1)/2 + bj, bi >= bj. */
__device__ __forceinline__ void rs_gram_tile_of(int t, int &bi, int &bj)
{
    int i = (int)((sqrt(8.0 * t + 1.0) - 1.0) * 0.5);
    while ((int64_t)i * (i + 1) / 2 > t)
        --i;
    while ((int64_t)(i + 1) * (i + 2) / 2 <= t)
        ++i;
    bi = i;
    bj = t - i * (i + 1) / 2;
}

/* One thread's share of a slab: row `row` of Xt (when row_ok) for samples
 * k0 + sk + step·j, j < PER, zero past kend; the A operand scaled by w. */
template <int PER, int STEP>
__device__ __forceinline__ void rs_gram_load(double (&ra)[PER], double (&rb)[PER],
                                             const double *__restrict__ Xt, int64_t p,
                                             const double *__restrict__ w, int ra_row, int rb_row,
                                             bool a_ok, bool b_ok, bool same, int64_t k0, int sk,
                                             int64_t kend)
{
#pragma unroll
    for (int j = 0; j < PER; ++j) {
        const int64_t k = k0 + sk + (int64_t)STEP * j;
        double xa = 0.0, xb = 0.0, wk = 0.0;
        if (k < kend) {
            wk = w[k];
            if (a_ok)
                xa = Xt[ra_row + k * p];
            if (same)
                xb = xa;
            else if (b_ok)
                xb = Xt[rb_row + k * p];
        }
        ra[j] = wk * xa;
        rb[j] = xb;
    }
}

/* Shared memory of one (tile, chunk) task: the two slabs. */
template <int T, int KB> struct rs_gram_smem {
    static constexpr int LD = T + 4, DOUBLES = 2 * KB * LD;
};

/* One (tile, chunk) task of rs_gram_wsyrk for tiles of T×T, WR×WC warps,
 * KB-sample slabs (the simulation also instantiates a smaller
 * configuration): task = tile·nchunks + chunk, smem = rs_gram_smem<T,
 * KB>::DOUBLES doubles of shared memory. Returns true in the block that
 * wrote the tile into G (the last of its chunks, or the only one), false in
 * the others; the same value in every thread. The persistent tiled
 * factorization runs these tasks first when it is given the Gram
 * (rs_tiled.cuh). */
template <int T, int WR, int WC, int KB>
__device__ __forceinline__ bool rs_gram_wsyrk_block(const double *__restrict__ Xt, int p, int n,
                                                    const double *__restrict__ w, double ridge,
                                                    double *__restrict__ G, int64_t ldg,
                                                    int nchunks, int kchunk, double *partials,
                                                    unsigned *counts, int task, double *smem)
{
    constexpr int NTH = 32 * WR * WC;
    constexpr int MI = T / (8 * WR), NI = T / (8 * WC); /* 8×8 blocks per warp */
    /* slab row stride: lanes (g, t) read S[(4s + t)·LD + 8m + g]; LD ≡ 4
     * (mod 16) puts the 16 doubles of a half-warp in distinct bank pairs */
    constexpr int LD = rs_gram_smem<T, KB>::LD;
    constexpr int STEP = NTH / T;  /* samples one pass of the block loads */
    constexpr int PER = KB / STEP; /* values per thread per operand per slab */
    static_assert(T % (8 * WR) == 0 && T % (8 * WC) == 0, "warp blocks of whole 8x8 products");
    static_assert(NTH % T == 0 && KB % STEP == 0 && KB % 4 == 0, "slab loads must tile the slab");
    double *const As = smem;           /* As[k·LD + r] = w_k · Xt[r0 + r, k0 + k] */
    double *const Bs = smem + KB * LD; /* Bs[k·LD + c] = Xt[c0 + c, k0 + k] */
    __shared__ int s_last;

    const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
    const int g = lane / 4, t4 = lane % 4;
    const int wr = warp / WC, wc = warp % WC;
    const int tile = task / nchunks;
    const int chunk = task % nchunks;
    int bi, bj;
    rs_gram_tile_of(tile, bi, bj);
    const bool diag = bi == bj;
    const int r0 = T * bi, c0 = T * bj;
    const int64_t kbeg = (int64_t)chunk * kchunk;
    const int64_t kend = kbeg + kchunk < n ? kbeg + kchunk : n;

    const int sr = tid % T, sk = tid / T;
    const bool a_ok = r0 + sr < p, b_ok = c0 + sr < p;
    double ra[PER], rb[PER];
    rs_gram_load<PER, STEP>(ra, rb, Xt, p, w, r0 + sr, c0 + sr, a_ok, b_ok, diag, kbeg, sk, kend);

    double acc[MI][NI][2];
#pragma unroll
    for (int mi = 0; mi < MI; ++mi)
#pragma unroll
        for (int ni = 0; ni < NI; ++ni)
            acc[mi][ni][0] = acc[mi][ni][1] = 0.0;

    const int arow = wr * (T / WR) + g, bcol = wc * (T / WC) + g;
    for (int64_t k0 = kbeg; k0 < kend; k0 += KB) {
        __syncthreads(); /* every warp is done with the previous slab */
#pragma unroll
        for (int j = 0; j < PER; ++j) {
            As[(sk + STEP * j) * LD + sr] = ra[j];
            Bs[(sk + STEP * j) * LD + sr] = rb[j];
        }
        __syncthreads();
        if (k0 + KB < kend)
            rs_gram_load<PER, STEP>(ra, rb, Xt, p, w, r0 + sr, c0 + sr, a_ok, b_ok, diag, k0 + KB,
                                    sk, kend);
#pragma unroll
        for (int s = 0; s < KB / 4; ++s) {
            const int kk = 4 * s + t4;
            double a[MI], b[NI];
#pragma unroll
            for (int mi = 0; mi < MI; ++mi)
                a[mi] = As[kk * LD + arow + 8 * mi];
#pragma unroll
            for (int ni = 0; ni < NI; ++ni)
                b[ni] = Bs[kk * LD + bcol + 8 * ni];
#pragma unroll
            for (int mi = 0; mi < MI; ++mi)
#pragma unroll
                for (int ni = 0; ni < NI; ++ni)
                    if (!diag || wc * NI + ni <= wr * MI + mi) /* warp-uniform */
                        rs_mma_f64_m8n8k4(acc[mi][ni][0], acc[mi][ni][1], a[mi], b[ni]);
        }
    }

    /* element f = (mi·NI + ni)·2 + e of thread tid is partial[f·NTH + tid] */
    if (nchunks > 1) {
        double *mine = partials + (int64_t)task * (T * T);
#pragma unroll
        for (int mi = 0; mi < MI; ++mi)
#pragma unroll
            for (int ni = 0; ni < NI; ++ni)
#pragma unroll
                for (int e = 0; e < 2; ++e)
                    mine[((mi * NI + ni) * 2 + e) * NTH + tid] = acc[mi][ni][e];
        __threadfence();
        __syncthreads();
        if (tid == 0) {
            const unsigned before = atomicAdd(counts + tile, 1u);
            const int last = before == (unsigned)nchunks - 1u;
            if (last) {
                atomicExch(counts + tile, 0u);
                __threadfence();
            }
            s_last = last;
        }
        __syncthreads();
        if (!s_last)
            return false;
    }
    const double *parts = nchunks > 1 ? partials + (int64_t)tile * nchunks * (T * T) : nullptr;
    const int row = r0 + arow, col = c0 + wc * (T / WC) + 2 * t4;
#pragma unroll
    for (int mi = 0; mi < MI; ++mi)
#pragma unroll
        for (int ni = 0; ni < NI; ++ni)
#pragma unroll
            for (int e = 0; e < 2; ++e) {
                const int f = ((mi * NI + ni) * 2 + e) * NTH + tid;
                double v = acc[mi][ni][e];
                if (parts) {
                    v = chunk == 0 ? acc[mi][ni][e] : __ldcg(parts + f);
                    for (int c = 1; c < nchunks; ++c)
                        v += c == chunk ? acc[mi][ni][e] : __ldcg(parts + (int64_t)c * (T * T) + f);
                }
                const int r = row + 8 * mi, c = col + 8 * ni + e;
                if (r < p && c < p && r >= c)
                    G[r + (int64_t)c * ldg] = r == c ? v + ridge : v;
            }
    return true;
}

#ifndef SB_RS_GRAM_BLOCK_ONLY /* rs_tiled.cuh runs the tasks inside its own kernel */
/* lower(G) = Xt·diag(w)·Xtᵀ + ridge·I; see the file comment and
 * sb_launch_gram_wsyrk (rs_gram.h). Grid: rs_gram_ntiles(p) · nchunks. */
__global__ void __launch_bounds__(RS_GRAM_THREADS)
rs_gram_wsyrk(const double *__restrict__ Xt, int p, int n, const double *__restrict__ w,
              double ridge, double *__restrict__ G, int64_t ldg, int nchunks, int kchunk,
              double *partials, unsigned *counts)
{
    __shared__ double smem[rs_gram_smem<RS_GRAM_T, RS_GRAM_KB>::DOUBLES];
    rs_gram_wsyrk_block<RS_GRAM_T, RS_GRAM_WR, RS_GRAM_WC, RS_GRAM_KB>(
        Xt, p, n, w, ridge, G, ldg, nchunks, kchunk, partials, counts, (int)blockIdx.x, smem);
}
#endif

/* --------------- the launch plan (host arithmetic only) --------------- */

/* Tiles of G's lower triangle for T×T tiles. */
static inline int64_t rs_gram_ntiles(int64_t p, int T)
{
    const int64_t nt = (p + T - 1) / T;
    return nt * (nt + 1) / 2;
}
/* Samples per chunk when n is cut into about `splits` chunks: a multiple of
 * KB, so only the last chunk ends inside a slab. */
static inline int64_t rs_gram_kchunk(int64_t n, int splits, int KB)
{
    const int64_t c = (n + splits - 1) / splits;
    return (c + KB - 1) / KB * KB;
}
/* Chunks actually launched (<= splits). */
static inline int rs_gram_nchunks(int64_t n, int64_t kchunk)
{
    return (int)((n + kchunk - 1) / kchunk);
}
/* Doubles of partial tiles for nchunks > 1 (the counters follow them). */
static inline int64_t rs_gram_partials(int64_t p, int nchunks, int T)
{
    return nchunks > 1 ? rs_gram_ntiles(p, T) * nchunks * (int64_t)T * T : 0;
}

/* Chunks for the device configuration on a GPU with `sms` SMs: minimises
 *   7·(blocks on the busiest SM)·kchunk + 8·(partial tiles, if any),
 * in units of T² × ~0.67 ps: one sample of one tile is 2T² flops at the
 * per-SM tensor rate (57 TFLOP/s / 132 SMs, ~4.7·T² ps), and one partial
 * tile stored and read back is 16·T² bytes at ~3 TB/s (~5.3·T² ps), hence
 * 7 : 8. Only counts that cut n into exactly that many chunks, at most 64.
 * A pure function of (p, n, sms): every launch of a state uses one plan. */
static inline int rs_gram_splits(int64_t p, int64_t n, int sms)
{
    if (sms < 1)
        sms = 1;
    const int64_t ntiles = rs_gram_ntiles(p, RS_GRAM_T);
    int best = 1;
    int64_t best_cost = -1;
    for (int s = 1; s <= 64; ++s) {
        const int64_t kc = rs_gram_kchunk(n, s, RS_GRAM_KB);
        if (rs_gram_nchunks(n, kc) != s)
            continue;
        const int64_t busiest = (ntiles * s + sms - 1) / sms;
        const int64_t cost = 7 * busiest * kc + (s > 1 ? 8 * ntiles * s : 0);
        if (best_cost < 0 || cost < best_cost) {
            best = s;
            best_cost = cost;
        }
    }
    return best;
}

#endif
