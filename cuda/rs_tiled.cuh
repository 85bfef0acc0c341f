/* The tiled Cholesky factorization of the CUDA resident-solve backend
 * (--factor tiled): one persistent launch, lower, column-major, in place.
 * Its cost estimates, the register figures and what is still to be checked
 * by a GPU run are in docs/notes-tiled.md.
 *
 * Included by cuda/rs_kernels.cu (the launcher) and by the host simulation
 * tests/sim/sim_tiled.cpp, which runs this exact source with one OS thread per
 * CUDA thread, blocks concurrent and started in four orders, and the FP64
 * tensor-core multiply emulated lane by lane (sim_cuda.h). Like
 * rs_kernels.cuh: no host code, no CUDA headers.
 *
 * The matrix is cut into 64×64 tiles, nt = ceil(n/64) tile rows. Four kinds
 * of factor task, each on one tile, each done by one 256-thread block:
 *   D(j)      factor the diagonal tile A_jj = L_jj L_jjᵀ and invert it, in
 *             shared memory: four 16-column panels, each factored by one
 *             warp in registers (shuffles and one reciprocal per column,
 *             no barrier) and applied to the rest of the tile on the tensor
 *             cores by all warps; L_jj⁻¹ assembled from the panels' 16×16
 *             inverses by two levels of 2×2 block inversion (tensor cores);
 *             store L_jj and L_jj⁻¹ (the inverse feeds the panels and,
 *             through `linv`, the backward triangular solve);
 *   P(i, j)   the panel tile L_ij = A_ij · L_jj⁻ᵀ: a 64×64×64 multiply
 *             instead of a triangular solve;
 *   U(i,j,k)  the trailing update A_ij -= L_ik · L_jkᵀ (k < j <= i; SYRK
 *             when i = j, only the lower half computed and stored);
 *   C(i)      the critical chain of column i = k + 1 as one task: P(i, k)
 *             (published at once), then U(i, i, k) with L_ik still in
 *             shared memory and D(i) on the updated tile without it
 *             leaving shared memory: one hand-off per tile column instead of
 *             three, and two tile round trips through L2 fewer.
 * Multiplies go through rs_mma_f64_m8n8k4 (the FP64 tensor cores).
 * For the primal form the launch can also build the matrix itself
 * (rs_chol_tiled_gram, sb_launch_chol_tiled_gram): the Gram's (tile, chunk)
 * tasks of rs_gram.cuh take the first tickets; the block that writes a
 * 128×128 Gram tile adds one to the count of each 64×64 factor tile it
 * covers, and every wait of a factor task on a tile row holding Gram rows
 * wants one more, so the factorization starts on the tiles already
 * written. Gram tasks wait for nothing, so the ticket argument below still
 * holds. The Gram launch is its own instantiation, so that the Gram's
 * registers do not make the plain rs_chol_tiled spill.
 *
 * Invariants the code relies on:
 * Scheduling: a grid of about one block per SM loops, each block taking a
 * ticket (sb_chain_ctl.ticket) per task. The ticket → task map is a fixed
 * topological order with look-ahead (sb_tiled_ntasks in rs_params.h):
 *   D(0), P(2..nt-1, 0); then for k = 0..nt-2:
 *     C(k+1)                 (the next diagonal tile first),
 *     U(k+2..nt-1, k+1, k)   (the rest of the next tile column),
 *     P(k+3..nt-1, k+1),
 *     U(i, j, k) for the remaining j >= k+2, column by column.
 * Every task's inputs are produced by tasks with smaller tickets (C(k+1)'s
 * by D(k) or C(k) and by step k-1's updates; the look-ahead updates of
 * column k+1 need P(k+1, k) from C(k+1)), and a block takes its next ticket
 * only after finishing its current task; so the unfinished task with the
 * smallest ticket always has its inputs and is held by a running block: no
 * deadlock in any start order, with any grid size and residency.
 * Dependencies are counted per tile: counts[i + j·nt] = the operations
 * finished on tile (i, j) in this launch (k updates, then one D or P). A
 * task waits (thread 0 spinning, with the hang guard of the chained solves)
 * until
 *   D(j):      count(j,j) >= j
 *   P(i,j):    count(i,j) >= j and count(j,j) >= j+1
 *   U(i,j,k):  count(i,j) >= k, count(i,k) >= k+1, count(j,k) >= k+1
 *   C(i), k = i - 1: count(i,k) >= k, count(k,k) >= k+1, count(i,i) >= k
 * and publishes with fenced stores, a barrier and atomicAdd(count(i,j), 1);
 * C(i) adds 1 to count(i, k) after its panel and 2 to count(i, i) at the
 * end (its update and its diagonal; the intermediate tile has no other
 * reader). Updates of one tile therefore apply in k order, as in LAPACK's
 * right-looking order. The launch's last block zeroes the counters and
 * reopens the sb_chain_ctl (rs_params.h), so a replayed launch starts clean.
 * Loads of data other blocks wrote go through __ldcg (L2), never L1.
 *
 * A pivot that is not > 0 (or NaN) in D(j): info = global column + 1 (the
 * first failing one: no later D can start, its inputs depend on this one),
 * then abort = 1, and every block stops taking tasks and exits.
 *
 * The bordered ("fused forward solve") mode factors [M b; bᵀ ·] of order
 * n = N + 1 (see sb_launch_chol_tiled in rs_kernels.h): row N of the factor
 * is (L⁻¹b)ᵀ, because [L 0; yᵀ δ]·[Lᵀ y; 0 δ] = [M b; bᵀ ·] needs L·y = b.
 * The border's pivot is taken as 1 (never checked), so the last tile and
 * its inverse stay finite and info reports M's pivots only.
 *
 * Shared-memory operands are stored with a leading dimension of 68
 * (RS_TLD) so the tensor-core fragment reads are free of bank conflicts;
 * every global load of a task is issued before the first shared-memory
 * store or mma (register staging; cp.async is not used). */
#ifndef SB_RS_TILED_CUH
#define SB_RS_TILED_CUH

#include "rs_kernels.cuh"
#include "rs_mma.cuh" /* rs_mma_f64_m8n8k4 and its fragment layout */
#define SB_RS_GRAM_BLOCK_ONLY
#include "rs_gram.cuh" /* the Gram's (tile, chunk) tasks, for the primal */
#undef SB_RS_GRAM_BLOCK_ONLY

enum {
    RS_TASK_EXIT = 0,
    RS_TASK_DIAG = 1,
    RS_TASK_PANEL = 2,
    RS_TASK_UPDATE = 3,
    RS_TASK_CHAIN = 4,
    RS_TASK_GRAM = 5
};
/* Shared-memory tile: column-major, leading dimension 64 + 4. A warp's mma
 * fragment read S[x + g + (k + t)·RS_TLD] (g = lane/4, t = lane%4) then hits
 * 8-byte bank (g + 4t) mod 16: 16 distinct banks in each half-warp, no
 * conflict (a leading dimension of 65 gives g + t: up to 4-way conflicts). */
enum { RS_TLD = SB_RS_NB + 4 };
/* D(j): width of a warp-level panel, and the scratch product of the inverse
 * (32×32, leading dimension 32 + 4 for the same bank pattern). */
enum { RS_PW = 16, RS_TTLD = 32 + 4 };
enum { RS_WARPS = SB_TILED_THREADS / 32, RS_PER_THREAD = SB_RS_NB * SB_RS_NB / SB_TILED_THREADS };
static_assert(SB_RS_NB == 64 && SB_TILED_THREADS == 256, "the D(j) phases assume a 64-tile and 8 warps");

/* 1/d, correctly rounded (the same value as 1.0 / d). */
__device__ __forceinline__ double rs_rcp(double d)
{
#if defined(__CUDA_ARCH__) && !defined(SB_SIM_CUDA_H)
    return __drcp_rn(d);
#else
    return 1.0 / d;
#endif
}

/* One warp: C (8×8) += Σ_{k0 <= k < k1} a_at(r, k)·b_at(k, c) on the tensor
 * cores (k0, k1 multiples of 4, the same in every lane); this lane holds
 * d0 = C[g][2t], d1 = C[g][2t + 1] (the mma fragment layout of rs_mma.cuh). */
template <typename AAt, typename BAt>
__device__ __forceinline__ void rs_warp_mma8(double &d0, double &d1, int k0, int k1, AAt a_at,
                                             BAt b_at)
{
    const int lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
    for (int k = k0; k < k1; k += 4)
        rs_mma_f64_m8n8k4(d0, d1, a_at(g, k + t), b_at(k + t, g));
}

/* The GPU's global nanosecond timer, for the test-only task trace. */
__device__ __forceinline__ unsigned long long rs_globaltimer()
{
#if defined(SB_SIM_CUDA_H)
    return sim_globaltimer();
#elif defined(__CUDA_ARCH__)
    unsigned long long t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
    return t;
#else
    return 0;
#endif
}

/* Where a block is in the ticket order: tickets of one block increase, so
 * thread 0 keeps the segment of its previous ticket and only moves forward. */
struct rs_tiled_cursor {
    int seg;        /* -1: column 0; k >= 0: step k */
    long long base; /* first ticket of seg */
};

/* Task of ticket t (t < sb_tiled_ntasks(nt)); see the order above. A chain
 * task C(k+1) comes back as kind RS_TASK_CHAIN, i = j = k + 1, k. */
__device__ __forceinline__ void rs_tiled_decode(long long t, int nt, rs_tiled_cursor &cur, int &kind,
                                                int &i, int &j, int &k)
{
    while (t >= cur.base + sb_tiled_segment_tasks(nt, cur.seg)) {
        cur.base += sb_tiled_segment_tasks(nt, cur.seg);
        cur.seg++;
    }
    long long o = t - cur.base;
    if (cur.seg < 0) { /* D(0), then P(2..nt-1, 0) */
        kind = o == 0 ? RS_TASK_DIAG : RS_TASK_PANEL;
        i = o == 0 ? 0 : (int)o + 1;
        j = k = 0;
        return;
    }
    const int step = cur.seg;
    const int m = nt - step - 1;
    if (o == 0) { /* C(step + 1) */
        kind = RS_TASK_CHAIN;
        i = j = step + 1;
        k = step;
    } else if (o < m) { /* look-ahead: U(step+2.., step+1, step) */
        kind = RS_TASK_UPDATE;
        i = step + 1 + (int)o;
        j = step + 1;
        k = step;
    } else if (o < m + (m >= 2 ? m - 2 : 0)) { /* P(step+3.., step+1) */
        kind = RS_TASK_PANEL;
        i = step + 3 + (int)(o - m);
        j = k = step + 1;
    } else {
        o -= m + (m >= 2 ? m - 2 : 0);
        int col = step + 2;
        while (o >= nt - col) {
            o -= nt - col;
            ++col;
        }
        kind = RS_TASK_UPDATE;
        i = col + (int)o;
        j = col;
        k = step;
    }
}

/* Thread 0: wait until count(i, j) >= want; false after a timeout or abort. */
/* With the Gram in the launch, a tile row holding Gram rows (64·i < p)
 * counts one more operation first: the Gram tile that wrote it. */
__device__ __forceinline__ bool rs_tiled_wait(const sb_tiled_sync &ts, int nt, int i, int j,
                                              unsigned want, int *info)
{
    want += ts.gram_p > 0 && SB_RS_NB * i < ts.gram_p ? 1u : 0u;
    return rs_spin_until(ts.counts + i + (int64_t)j * nt, [want](unsigned v) { return v >= want; },
                         ts.ctl, ts.spin_limit, info);
}

/* Gram tasks of a launch: rs_gram.cuh's (tile, chunk) pairs, 0 without. */
__device__ __forceinline__ long long rs_tiled_gram_tasks(const sb_tiled_sync &ts)
{
    if (ts.gram_p <= 0)
        return 0;
    const long long t = (ts.gram_p + RS_GRAM_T - 1) / RS_GRAM_T;
    return t * (t + 1) / 2 * ts.gram_nchunks;
}

/* A Gram task: the (tile, chunk) task of rs_gram.cuh into A; the block that
 * wrote the 128-tile publishes the 64-tiles of the factorization it covers
 * (lower ones holding Gram rows), one count each. */
__device__ __noinline__ void rs_tiled_gram(double *A, int64_t lda, int nt, int task,
                                              const sb_tiled_sync &ts, double *smem)
{
    const bool wrote = rs_gram_wsyrk_block<RS_GRAM_T, RS_GRAM_WR, RS_GRAM_WC, RS_GRAM_KB>(
        ts.gram_Xt, ts.gram_p, ts.gram_samples, ts.gram_w, ts.gram_ridge, A, lda, ts.gram_nchunks,
        ts.gram_kchunk, ts.gram_partials, ts.gram_counts, task, smem);
    if (!wrote)
        return;
    __threadfence();
    __syncthreads();
    if (threadIdx.x == 0) {
        int bi, bj;
        rs_gram_tile_of(task / ts.gram_nchunks, bi, bj);
        const int per = RS_GRAM_T / SB_RS_NB;
        for (int ii = per * bi; ii < per * (bi + 1); ++ii)
            for (int jj = per * bj; jj < per * (bj + 1); ++jj)
                if (jj <= ii && SB_RS_NB * ii < ts.gram_p)
                    atomicAdd(ts.counts + ii + (int64_t)jj * nt, 1u);
    }
}

__device__ __forceinline__ bool rs_tiled_wait_inputs(const sb_tiled_sync &ts, int nt, int kind,
                                                     int i, int j, int k, int *info)
{
    if (kind == RS_TASK_DIAG)
        return rs_tiled_wait(ts, nt, j, j, (unsigned)j, info);
    if (kind == RS_TASK_PANEL)
        return rs_tiled_wait(ts, nt, i, j, (unsigned)j, info) &&
               rs_tiled_wait(ts, nt, j, j, (unsigned)j + 1, info);
    if (kind == RS_TASK_CHAIN) /* A_ik and A_ii only: the block loads them while
                                  thread 0 waits for L_kk⁻¹ (rs_chol_tiled_body) */
        return rs_tiled_wait(ts, nt, i, k, (unsigned)k, info) &&
               rs_tiled_wait(ts, nt, i, i, (unsigned)k, info);
    return rs_tiled_wait(ts, nt, i, j, (unsigned)k, info) &&
           rs_tiled_wait(ts, nt, i, k, (unsigned)k + 1, info) &&
           rs_tiled_wait(ts, nt, j, k, (unsigned)k + 1, info);
}

/* S[r + c·RS_TLD] = B[r + c·ldb] for r < rows, c < cols, else 0; with
 * lower_only also 0 for r < c without reading B there (B is known to hold
 * zeros there: a tile inverse). All loads are issued before the first
 * shared-memory store: the compiler cannot tell a global load from a shared
 * store apart as aliases, so a load-store loop would wait out one L2 latency
 * per element. */
__device__ __forceinline__ void rs_tile_stage(double *S, const double *B, int64_t ldb, int rows,
                                              int cols, bool lower_only = false)
{
    double v[RS_PER_THREAD];
#pragma unroll
    for (int m = 0; m < RS_PER_THREAD; ++m) {
        const int q = (int)threadIdx.x + m * SB_TILED_THREADS;
        const int r = q % SB_RS_NB, c = q / SB_RS_NB;
        v[m] = (r < rows && c < cols && (!lower_only || r >= c)) ? __ldcg(B + r + (int64_t)c * ldb)
                                                                  : 0.0;
    }
#pragma unroll
    for (int m = 0; m < RS_PER_THREAD; ++m) {
        const int q = (int)threadIdx.x + m * SB_TILED_THREADS;
        S[q % SB_RS_NB + (q / SB_RS_NB) * RS_TLD] = v[m];
    }
}

/* This lane's A fragments of the warp's 8×64 strip of a 64×64 product, all
 * loaded before the first mma (sixteen loads in flight, one L2 latency):
 * a[s] = sign·A[8w + g][4s + t] (rows >= arows read as 0), A in global memory
 * with leading dimension lda. */
__device__ __forceinline__ void rs_tile_load_afrag(double (&a)[SB_RS_NB / 4], const double *A,
                                                   int64_t lda, int arows, double sign)
{
    const int lane = threadIdx.x % 32, w = threadIdx.x / 32;
    const int ar = 8 * w + lane / 4;
#pragma unroll
    for (int s = 0; s < SB_RS_NB / 4; ++s) {
        const int kk = 4 * s + lane % 4;
        a[s] = ar < arows ? sign * __ldcg(A + ar + (int64_t)kk * lda) : 0.0;
    }
}

/* This lane's accumulator fragments of a 64×64 tile in global memory (the
 * D layout of rs_tile_mma_nt): acc[cb][e] = A[8w + g][8cb + 2t + e], 0
 * outside rows × cols and, with lower_only, above the diagonal. */
__device__ __forceinline__ void rs_tile_load_acc(double (&acc)[8][2], const double *A, int64_t lda,
                                                 int rows, int cols, bool lower_only)
{
    const int lane = threadIdx.x % 32;
    const int r = 8 * (int)(threadIdx.x / 32) + lane / 4;
#pragma unroll
    for (int cb = 0; cb < 8; ++cb)
#pragma unroll
        for (int e = 0; e < 2; ++e) {
            const int c = 8 * cb + 2 * (lane % 4) + e;
            acc[cb][e] = (r < rows && c < cols && (!lower_only || r >= c))
                             ? __ldcg(A + r + (int64_t)c * lda)
                             : 0.0;
        }
}

/* The warp's 8×64 strip of a 64×64 product: warp w holds the rows 8w..8w+7,
 * acc[cb][e] = C[8w + g][8cb + 2t + e] (the D fragment layout, g = lane/4,
 * t = lane%4). acc += A·Bᵀ over all 64 k, A as fragments from
 * rs_tile_load_afrag, B in shared memory (Bs[c + kk·RS_TLD] = B[c][kk], read
 * without bank conflicts, see RS_TLD). Column blocks cb > cb_max are skipped
 * (the strictly upper 8×8 blocks of a diagonal tile). With b_lower (B is
 * lower triangular, B[c][kk] = 0 for kk > c: a tile inverse) the products
 * of an 8-column block and a 4-wide k slice lying wholly above B's diagonal
 * are skipped too: a warp issues 72 products instead of 128. Only exact zeros are
 * left out, so for finite operands the result is the full product's (up to
 * the sign of a zero). */
__device__ __forceinline__ void rs_tile_mma_nt(double (&acc)[8][2], const double (&a)[SB_RS_NB / 4],
                                               const double *Bs, int cb_max, bool b_lower = false)
{
    const int lane = threadIdx.x % 32;
    /* fully unrolled: a[] must stay in registers (a partial unroll indexes
     * it dynamically, which puts it in local memory) */
#pragma unroll
    for (int s = 0; s < SB_RS_NB / 4; ++s) {
        const int kk = 4 * s + lane % 4;
#pragma unroll
        for (int cb = 0; cb < 8; ++cb)
            if (cb <= cb_max && (!b_lower || 8 * cb + 7 >= 4 * s))
                rs_mma_f64_m8n8k4(acc[cb][0], acc[cb][1], a[s], Bs[8 * cb + lane / 4 + kk * RS_TLD]);
    }
}

/* D(j), warp 0: factor the panel of columns c0..c0+15 (rows c0..63) of S,
 * whose earlier panels' updates are applied, and invert its 16×16 diagonal
 * block, in registers. Lane l owns rows ra = c0 + l and rb = c0 + l + 32
 * (those below 64): va[q], vb[q] = their entries in column c0 + q, and xa[q]
 * = X̃[ra][c0 + q] (lanes l < 16, the diagonal block). Step q (kk = c0 + q)
 * keeps the columns unscaled (LDLᵀ form):
 *   d = a_kk (lane q's va[q], one shuffle), one reciprocal, m_r = a_rk / d,
 *   a_rc -= m_r·a_ck            (kk < c, a_ck = lane c's va[q]: a shuffle),
 *   X̃[r][c] -= m_r·X̃[kk][c]    (c <= kk, r > kk in the diagonal block;
 *                                X̃[kk][c] = lane q's xa[c]: a shuffle),
 * X̃ the unit lower inverse (X̃[kk][kk] = 1). A lane at or above the pivot
 * row also updates its entries right of its diagonal; those are never read
 * nor stored. The chain from one pivot to the next is a shuffle, the
 * reciprocal, a multiply, an FMA (lane q + 1's own entry) and the next
 * shuffle: no shared-memory round trip and no __syncwarp per step. After the
 * 16 steps the square roots: xd[c] = 1/sqrt(d_c), column c of L scaled by
 * xd[c], L_cc = sqrt(d_c), row r of X = L⁻¹ = D^-1/2·X̃ scaled by xd[r]; then
 * L's panel goes back to S and X̃ to S's strict upper triangle (X̃[r][c] at
 * S[c + r·RS_TLD]). The operations and their order per element are those of
 * the shared-memory form this replaced, so the results are the same bits.
 * Rows/columns past the matrix edge hold the identity; the border's pivot is
 * taken as 1. Returns 0, or the failing local column + 1 (the same in every
 * lane: the pivot is a broadcast). */
__device__ __forceinline__ int rs_diag_panel(double *S, double *xd, int c0, int border)
{
    const unsigned full = 0xffffffffu;
    const int lane = threadIdx.x % 32;
    const int ra = c0 + lane, rb = c0 + lane + 32;
    double va[RS_PW], vb[RS_PW], xa[RS_PW];
#pragma unroll
    for (int q = 0; q < RS_PW; ++q) {
        va[q] = ra < SB_RS_NB ? S[ra + (c0 + q) * RS_TLD] : 0.0;
        vb[q] = rb < SB_RS_NB ? S[rb + (c0 + q) * RS_TLD] : 0.0;
        xa[q] = 0.0;
    }
#pragma unroll
    for (int q = 0; q < RS_PW; ++q) {
        const int kk = c0 + q;
        double d = __shfl_sync(full, va[q], q);
        if (kk == border)
            d = 1.0;
        if (!(d > 0.0))
            return kk + 1;
        const double rinv = rs_rcp(d);
        const double ma = va[q] * rinv, mb = vb[q] * rinv;
#pragma unroll
        for (int c = q + 1; c < RS_PW; ++c) {
            const double col = __shfl_sync(full, va[q], c);
            va[c] -= ma * col;
            vb[c] -= mb * col;
        }
        const bool below = lane > q;
#pragma unroll
        for (int c = 0; c < q; ++c) {
            const double xrow = __shfl_sync(full, xa[c], q);
            if (below)
                xa[c] -= ma * xrow;
        }
        if (below)
            xa[q] -= ma;
    }
    /* this lane's pivot (lanes < 16), selected without a dynamic register index */
    double dl = 1.0;
#pragma unroll
    for (int q = 0; q < RS_PW; ++q)
        if (q == lane)
            dl = va[q];
    if (ra == border)
        dl = 1.0;
    const double sq = sqrt(dl), xdl = 1.0 / sq;
#pragma unroll
    for (int c = 0; c < RS_PW; ++c) {
        const double xdc = __shfl_sync(full, xdl, c);
        if (c < lane)
            va[c] *= xdc;
        else if (c == lane)
            va[c] = sq;
        vb[c] *= xdc;
        if (c < lane)
            xa[c] *= xdl;
    }
    if (lane < RS_PW)
        xd[ra] = xdl;
#pragma unroll
    for (int c = 0; c < RS_PW; ++c) {
        if (ra < SB_RS_NB && c <= lane)
            S[ra + (c0 + c) * RS_TLD] = va[c];
        if (rb < SB_RS_NB)
            S[rb + (c0 + c) * RS_TLD] = vb[c];
        if (c < lane && lane < RS_PW)
            S[(c0 + c) + ra * RS_TLD] = xa[c];
    }
    return 0;
}

/* D(j): see the file comment. The 64×64 tile in S is factored in four
 * warp-level panels of 16 columns (rs_diag_panel), each followed by the
 * update of the trailing lower triangle with it on the tensor cores (all
 * eight warps, 8×8 output blocks, k = 16). Then X = L⁻¹ from the panels'
 * 16×16 diagonal inverses X_qq by two levels of the 2×2 block inverse
 *   [L11 0; L21 L22]⁻¹ = [X11 0; -X22·(L21·X11) X22],
 * at 16 (blocks (1,0) and (3,2) together) and at 32, each level two
 * tensor-core products through the scratch T. X is kept transposed in S's
 * strict upper triangle with its diagonal in xd, as rs_diag_panel leaves it.
 * On the critical path: 64 warp-synchronous steps and 11 block barriers,
 * instead of 64 block-barrier steps. Returns false after a pivot failure
 * (info = global column + 1, abort). */
__device__ __forceinline__ bool rs_tiled_diag(double *A, int64_t lda, int n, int j, int bordered,
                                              double *border_out, double *linv, double *S,
                                              double *xd, double *T, int *s_fail, int *info,
                                              sb_chain_ctl *ctl, bool staged)
{
    const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
    const int g = lane / 4, t = lane % 4;
    const int col0 = SB_RS_NB * j;
    const int rb = rs_imin(SB_RS_NB, n - col0);
    double *Ajj = A + col0 + (int64_t)col0 * lda;
    if (!staged) { /* else the chain task left the updated tile in S (rs_tiled_chain_update) */
        double v[RS_PER_THREAD];
#pragma unroll
        for (int m = 0; m < RS_PER_THREAD; ++m) {
            const int q = tid + m * SB_TILED_THREADS;
            const int r = q % SB_RS_NB, c = q / SB_RS_NB;
            v[m] = 0.0;
            if (r >= c)
                v[m] = (r < rb && c < rb) ? __ldcg(Ajj + r + (int64_t)c * lda) : (r == c ? 1.0 : 0.0);
        }
#pragma unroll
        for (int m = 0; m < RS_PER_THREAD; ++m) {
            const int q = tid + m * SB_TILED_THREADS;
            S[q % SB_RS_NB + (q / SB_RS_NB) * RS_TLD] = v[m];
        }
        __syncthreads();
    }

    const int border = bordered ? n - 1 - col0 : -1; /* local index of the border pivot */
    auto Lat = [S](int r, int c) { return S[r + c * RS_TLD]; };
    auto Xat = [S, xd](int r, int c) { return r > c ? S[c + r * RS_TLD] : r == c ? xd[r] : 0.0; };
    for (int c0 = 0; c0 < SB_RS_NB; c0 += RS_PW) {
        if (warp == 0) {
            const int fail = rs_diag_panel(S, xd, c0, border);
            if (lane == 0)
                *s_fail = fail;
        }
        __syncthreads();
        const int fail = *s_fail;
        if (fail) {
            if (tid == 0) {
                atomicCAS(info, 0, col0 + fail);
                __threadfence();
                atomicExch(&ctl->abort, 1);
            }
            return false;
        }
        const int cend = c0 + RS_PW;
        if (cend == SB_RS_NB)
            break;
        /* A22 -= L21·L21ᵀ, lower 8×8 blocks (bi >= bj) of rows/columns cend.. */
        const int nb8 = (SB_RS_NB - cend) / 8;
        for (int b = warp; b < nb8 * (nb8 + 1) / 2; b += RS_WARPS) {
            int bi = 0, bj = b;
            while (bj > bi) {
                bj -= bi + 1;
                ++bi;
            }
            const int R = cend + 8 * bi, C = cend + 8 * bj;
            double *o0 = S + R + g + (C + 2 * t) * RS_TLD;
            double d0 = o0[0], d1 = o0[RS_TLD];
            rs_warp_mma8(d0, d1, 0, RS_PW, [&](int r, int k) { return -Lat(R + r, c0 + k); },
                         [&](int k, int c) { return Lat(C + c, c0 + k); });
            if (bi != bj || g >= 2 * t)
                o0[0] = d0;
            if (bi != bj || g >= 2 * t + 1)
                o0[RS_TLD] = d1;
        }
        __syncthreads();
    }

    /* L_jj is final in S's lower triangle, which the inverse below leaves
     * alone: store it now, so the stores drain while the inverse is formed
     * (only L_jj⁻¹ is read by other tasks, and the end-of-task fence waits
     * for every store). */
#pragma unroll 4
    for (int m = 0; m < RS_PER_THREAD; ++m) {
        const int q = tid + m * SB_TILED_THREADS;
        const int rr = q % SB_RS_NB, c = q / SB_RS_NB;
        if (rr < rb && c < rb && rr >= c)
            Ajj[rr + (int64_t)c * lda] = S[rr + c * RS_TLD];
        if (border_out && rr == border && c < rr)
            border_out[col0 + c] = S[rr + c * RS_TLD];
    }

    /* X = L⁻¹: level h = 16 (two products at once, p = 0 and 2), then 32. */
    for (int h = RS_PW; h < SB_RS_NB; h *= 2) {
        const int nprod = SB_RS_NB / (2 * h);  /* 2, then 1 */
        const int nblk = (h / 8) * (h / 8);    /* 8×8 output blocks per product */
        /* T_p = L21·X11 (X11 lower: k >= the block's first column) */
        for (int b = warp; b < nprod * nblk; b += RS_WARPS) {
            const int pp = b / nblk, bi = (b % nblk) / (h / 8), bj = b % (h / 8);
            const int o = 2 * h * pp; /* first row/column of X11 */
            double d0 = 0.0, d1 = 0.0;
            rs_warp_mma8(d0, d1, 8 * bj, h, [&](int r, int k) { return Lat(o + h + 8 * bi + r, o + k); },
                         [&](int k, int c) { return Xat(o + k, o + 8 * bj + c); });
            double *o0 = T + h * pp + 8 * bi + g + (8 * bj + 2 * t) * RS_TTLD;
            o0[0] = d0;
            o0[RS_TTLD] = d1;
        }
        __syncthreads();
        /* X21 = -X22·T_p (X22 lower: k <= the block's last row) */
        for (int b = warp; b < nprod * nblk; b += RS_WARPS) {
            const int pp = b / nblk, bi = (b % nblk) / (h / 8), bj = b % (h / 8);
            const int o = 2 * h * pp;
            double d0 = 0.0, d1 = 0.0;
            rs_warp_mma8(d0, d1, 0, 8 * bi + 8,
                         [&](int r, int k) { return -Xat(o + h + 8 * bi + r, o + h + k); },
                         [&](int k, int c) { return T[h * pp + k + (8 * bj + c) * RS_TTLD]; });
            /* X[o + h + 8bi + g][o + 8bj + 2t + e], stored transposed */
            double *o0 = S + o + 8 * bj + 2 * t + (o + h + 8 * bi + g) * RS_TLD;
            o0[0] = d0;
            o0[1] = d1;
        }
        __syncthreads();
    }

    double *Xj = linv + (int64_t)j * SB_RS_NB * SB_RS_NB;
#pragma unroll 4
    for (int m = 0; m < RS_PER_THREAD; ++m) {
        const int q = tid + m * SB_TILED_THREADS;
        const int rr = q % SB_RS_NB, c = q / SB_RS_NB;
        Xj[q] = rr < rb && c < rb ? Xat(rr, c) : 0.0;
    }
    return true;
}

/* This lane's fragments of A_ij (i, j tile indices), the A operand of P(i, j). */
__device__ __forceinline__ void rs_tiled_panel_load(double (&a)[SB_RS_NB / 4], const double *A,
                                                    int64_t lda, int n, int i, int j)
{
    const int row0 = SB_RS_NB * i;
    rs_tile_load_afrag(a, A + row0 + (int64_t)SB_RS_NB * j * lda, lda, rs_imin(SB_RS_NB, n - row0),
                       1.0);
}

/* P(i, j): L_ij = A_ij · L_jj⁻ᵀ, in place, with a = rs_tiled_panel_load's
 * fragments of A_ij. keep (the chain task): L_ij is also left in S
 * (S[r + c·RS_TLD] = L_ij[r][c], rows past the edge 0). */
__device__ __forceinline__ void rs_tiled_panel(double *A, int64_t lda, int n, int i, int j,
                                               int bordered, double *border_out,
                                               const double *linv, double *S, bool keep,
                                               const double (&a)[SB_RS_NB / 4])
{
    const int row0 = SB_RS_NB * i, col0 = SB_RS_NB * j;
    const int rows = rs_imin(SB_RS_NB, n - row0);
    double *Aij = A + row0 + (int64_t)col0 * lda;
    /* L_jj⁻¹ is lower triangular (D(j) stores its upper triangle as zeros):
     * load its lower half only, skip the products with its upper zeros */
    rs_tile_stage(S, linv + (int64_t)j * SB_RS_NB * SB_RS_NB, SB_RS_NB, SB_RS_NB, SB_RS_NB, true);
    __syncthreads();
    double acc[8][2] = {};
    rs_tile_mma_nt(acc, a, S, 7, true);
    /* the mma.sync steps consumed every lane's loads of this warp's rows
     * before any lane overwrites them; no other warp touches these rows */
    __syncwarp();
    const int lane = threadIdx.x % 32, w = threadIdx.x / 32;
    const int r = 8 * w + lane / 4;
    const int border = bordered ? n - 1 - row0 : -1;
    if (keep) {
        __syncthreads(); /* every warp is done reading L_jj⁻¹ from S */
#pragma unroll
        for (int cb = 0; cb < 8; ++cb)
#pragma unroll
            for (int e = 0; e < 2; ++e)
                S[r + (8 * cb + 2 * (lane % 4) + e) * RS_TLD] = acc[cb][e];
    }
    if (r < rows) {
#pragma unroll
        for (int cb = 0; cb < 8; ++cb)
#pragma unroll
            for (int e = 0; e < 2; ++e) {
                const int c = 8 * cb + 2 * (lane % 4) + e;
                Aij[r + (int64_t)c * lda] = acc[cb][e];
                if (border_out && r == border)
                    border_out[col0 + c] = acc[cb][e];
            }
    }
}

/* U(i, j, k): A_ij -= L_ik · L_jkᵀ (lower half only when i = j). The
 * accumulator and the A fragments are loaded before the staging of L_jk, so
 * the three sets of loads overlap. */
__device__ __forceinline__ void rs_tiled_update(double *A, int64_t lda, int n, int i, int j, int k,
                                                double *S)
{
    const int row0 = SB_RS_NB * i, col0 = SB_RS_NB * j, kc0 = SB_RS_NB * k;
    const int rows = rs_imin(SB_RS_NB, n - row0), cols = rs_imin(SB_RS_NB, n - col0);
    const int lane = threadIdx.x % 32, w = threadIdx.x / 32;
    const int r = 8 * w + lane / 4;
    const bool diag = i == j;
    double *Aij = A + row0 + (int64_t)col0 * lda;
    double acc[8][2];
    rs_tile_load_acc(acc, Aij, lda, rows, cols, false);
    double a[SB_RS_NB / 4];
    rs_tile_load_afrag(a, A + row0 + (int64_t)kc0 * lda, lda, rows, -1.0);
    rs_tile_stage(S, A + col0 + (int64_t)kc0 * lda, lda, cols, SB_RS_NB);
    __syncthreads();
    rs_tile_mma_nt(acc, a, S, diag ? w : 7);
#pragma unroll
    for (int cb = 0; cb < 8; ++cb)
#pragma unroll
        for (int e = 0; e < 2; ++e) {
            const int c = 8 * cb + 2 * (lane % 4) + e;
            if (r < rows && c < cols && (!diag || r >= c))
                Aij[r + (int64_t)c * lda] = acc[cb][e];
        }
}

/* This lane's accumulator fragments of the diagonal tile A_ii (lower half),
 * the chain task's U(i, i, k) input. */
__device__ __forceinline__ void rs_tiled_chain_load(double (&acc)[8][2], const double *A,
                                                    int64_t lda, int n, int i)
{
    const int row0 = SB_RS_NB * i;
    const int rb = rs_imin(SB_RS_NB, n - row0);
    rs_tile_load_acc(acc, A + row0 + (int64_t)row0 * lda, lda, rb, rb, true);
}

/* The chain task's update U(i, i, k) = A_ii - L_ik·L_ikᵀ with acc =
 * rs_tiled_chain_load's fragments of A_ii and L_ik in S (left there by its
 * panel step), written back into S as D(i)'s input: the lower triangle of
 * the updated tile, the identity past the matrix edge, zeros above the
 * diagonal (what rs_tiled_diag loads from global memory otherwise). Nothing
 * goes to global memory: the tile's only reader is this block. */
__device__ __forceinline__ void rs_tiled_chain_update(double (&acc)[8][2], int n, int i, double *S)
{
    const int row0 = SB_RS_NB * i;
    const int rb = rs_imin(SB_RS_NB, n - row0);
    const int lane = threadIdx.x % 32, w = threadIdx.x / 32;
    const int r = 8 * w + lane / 4;
    double a[SB_RS_NB / 4];
#pragma unroll
    for (int q = 0; q < SB_RS_NB / 4; ++q)
        a[q] = -S[r + (4 * q + lane % 4) * RS_TLD];
    rs_tile_mma_nt(acc, a, S, w);
    __syncthreads(); /* every warp is done reading L_ik from S */
#pragma unroll
    for (int cb = 0; cb < 8; ++cb)
#pragma unroll
        for (int e = 0; e < 2; ++e) {
            const int c = 8 * cb + 2 * (lane % 4) + e;
            S[r + c * RS_TLD] = r < c ? 0.0 : (r < rb && c < rb) ? acc[cb][e] : (r == c ? 1.0 : 0.0);
        }
    __syncthreads();
}

/* The persistent tiled factorization; see the file comment and
 * sb_launch_chol_tiled (rs_kernels.h) for the arguments. kGram: the launch
 * also runs the Gram's tasks (ts.gram_p > 0, sb_launch_chol_tiled_gram);
 * its own instantiation, so the plain factorization keeps its registers
 * (ptxas, sm_90: 251 without spills; with the Gram 255, see above). */
template <bool kGram>
__device__ __forceinline__ void rs_chol_tiled_body(double *A, int64_t lda, int n, int bordered,
                                                   double *border_out, double *linv,
                                                   sb_tiled_sync ts, int *info)
{
    /* S and T of the factorization's tasks, or a Gram task's two slabs */
    constexpr int kFactorSmem = SB_RS_NB * RS_TLD + 32 * RS_TTLD;
    constexpr int kGramSmem = rs_gram_smem<RS_GRAM_T, RS_GRAM_KB>::DOUBLES;
    __shared__ double smem[kFactorSmem > kGramSmem ? kFactorSmem : kGramSmem];
    double *const S = smem, *const T = smem + SB_RS_NB * RS_TLD;
    __shared__ double xd[SB_RS_NB];
    __shared__ int s_task[4];
    __shared__ int s_fail;
    __shared__ int s_ready; /* a chain task's wait for L_kk⁻¹ succeeded */
    const int nt = (n + SB_RS_NB - 1) / SB_RS_NB;
    if (!kGram)
        ts.gram_p = 0;
    const long long ngram = rs_tiled_gram_tasks(ts);
    const long long ntasks = ngram + sb_tiled_ntasks(nt);
    rs_tiled_cursor cur = {-1, 0}; /* thread 0's */
    sb_tiled_trace_rec *rec = nullptr; /* thread 0's: this task's trace record */
    if (threadIdx.x == 0)
        rs_test_start_delay(ts.test_start_delay);
    for (;;) {
        if (threadIdx.x == 0) {
            int kind = RS_TASK_EXIT, i = 0, j = 0, k = 0;
            if (rs_load_volatile(&ts.ctl->abort) == 0) {
                const unsigned long long take = ts.trace ? rs_globaltimer() : 0ull;
                const long long t = atomicAdd(&ts.ctl->ticket, 1u);
                if (t < ngram) { /* a Gram task: no inputs to wait for */
                    kind = RS_TASK_GRAM;
                    i = (int)t;
                } else if (t < ntasks) {
                    rs_tiled_decode(t - ngram, nt, cur, kind, i, j, k);
                    if (!rs_tiled_wait_inputs(ts, nt, kind, i, j, k, info))
                        kind = RS_TASK_EXIT;
                    if (ts.trace) { /* the factorization's tasks only, by their own ticket */
                        rec = ts.trace + (t - ngram);
                        rec->take_ns = take;
                        rec->ready_ns = rec->early_ns = rs_globaltimer();
                        rec->mid_ns = 0ull;
                        rec->done_ns = 0ull;
                        rec->block = (int)blockIdx.x;
                        rec->kind = kind;
                        rec->i = i;
                        rec->j = j;
                        rec->k = k;
                    }
                }
            }
            s_task[0] = kind;
            s_task[1] = i;
            s_task[2] = j;
            s_task[3] = k;
        }
        __syncthreads();
        const int kind = s_task[0], i = s_task[1], j = s_task[2], k = s_task[3];
        if (kind == RS_TASK_EXIT)
            break;
        if (kGram && kind == RS_TASK_GRAM) {
            rs_tiled_gram(A, lda, nt, i, ts, smem);
            continue;
        }
        if (kind == RS_TASK_DIAG) {
            if (!rs_tiled_diag(A, lda, n, j, bordered, border_out, linv, S, xd, T, &s_fail, info,
                               ts.ctl, false))
                break;
        } else if (kind == RS_TASK_PANEL) {
            double a[SB_RS_NB / 4];
            rs_tiled_panel_load(a, A, lda, n, i, j);
            rs_tiled_panel(A, lda, n, i, j, bordered, border_out, linv, S, false, a);
        } else if (kind == RS_TASK_CHAIN) {
            /* C(i), i = k + 1. A_ik and A_ii are final long before L_kk⁻¹
             * (C(k), the previous link of the chain): load them into
             * registers first, while thread 0 waits for C(k), so the chain
             * loads only L_kk⁻¹ after its hand-off. Then P(i, k), published
             * at once (the look-ahead updates of column i wait for it),
             * U(i, i, k) and D(i) on the tile in shared memory, published
             * together below (+2). */
            double a[SB_RS_NB / 4], acc[8][2];
            rs_tiled_panel_load(a, A, lda, n, i, k);
            rs_tiled_chain_load(acc, A, lda, n, i);
            if (threadIdx.x == 0) {
                s_ready = rs_tiled_wait(ts, nt, k, k, (unsigned)k + 1, info) ? 1 : 0;
                if (rec) {
                    rec->ready_ns = rs_globaltimer();
                    if (!s_ready) /* recorded as a block that stopped, like a failed first wait */
                        rec->kind = RS_TASK_EXIT;
                }
            }
            __syncthreads();
            if (!s_ready)
                break;
            rs_tiled_panel(A, lda, n, i, k, bordered, border_out, linv, S, true, a);
            __threadfence();
            __syncthreads();
            if (threadIdx.x == 0) {
                if (rec)
                    rec->mid_ns = rs_globaltimer();
                atomicAdd(ts.counts + i + (int64_t)k * nt, 1u);
            }
            rs_tiled_chain_update(acc, n, i, S);
            if (!rs_tiled_diag(A, lda, n, i, bordered, border_out, linv, S, xd, T, &s_fail, info,
                               ts.ctl, true))
                break;
        } else {
            rs_tiled_update(A, lda, n, i, j, k, S);
        }
        __threadfence();
        __syncthreads();
        if (threadIdx.x == 0) {
            if (rec)
                rec->done_ns = rs_globaltimer();
            atomicAdd(ts.counts + i + (int64_t)j * nt, kind == RS_TASK_CHAIN ? 2u : 1u);
        }
    }
    if (rs_chain_is_last(ts.ctl)) {
        for (int q = threadIdx.x; q < nt * nt; q += blockDim.x)
            ts.counts[q] = 0u;
        __threadfence();
        rs_chain_reopen(ts.ctl);
    }
}

__global__ void __launch_bounds__(SB_TILED_THREADS)
rs_chol_tiled(double *A, int64_t lda, int n, int bordered, double *border_out, double *linv,
              sb_tiled_sync ts, int *info)
{
    rs_chol_tiled_body<false>(A, lda, n, bordered, border_out, linv, ts, info);
}

__global__ void __launch_bounds__(SB_TILED_THREADS)
rs_chol_tiled_gram(double *A, int64_t lda, int n, int bordered, double *border_out, double *linv,
                   sb_tiled_sync ts, int *info)
{
    rs_chol_tiled_body<true>(A, lda, n, bordered, border_out, linv, ts, info);
}

#endif
