/* The tiled Cholesky factorization of the CUDA resident-solve backend
 * (--factor tiled): one persistent launch, lower, column-major, in place.
 *
 * Included by cuda/rs_kernels.cu (the launcher) and by the host simulation
 * tests/gpu/sim_tiled.cpp, which runs this exact source with one OS thread per
 * CUDA thread, blocks concurrent and started in four orders, and the FP64
 * tensor-core multiply emulated lane by lane (sim_cuda.h). Like
 * rs_kernels.cuh: no host code, no CUDA headers.
 *
 * NOT YET RUN ON A GPU: it compiles for sm_80/sm_90 and passes the
 * simulation; its speed, and its memory ordering under the GPU's (weaker
 * than x86) memory model, are unverified.
 *
 * The matrix is cut into 64×64 tiles, nt = ceil(n/64) tile rows. Three kinds
 * of task, each on one tile, each done by one 256-thread block:
 *   D(j)      factor the diagonal tile A_jj = L_jj L_jjᵀ and invert it in the
 *             same sweep, in shared memory; store L_jj and L_jj⁻¹ (the
 *             inverse feeds the panels and, through `linv`, the backward
 *             triangular solve);
 *   P(i, j)   the panel tile L_ij = A_ij · L_jj⁻ᵀ: a 64×64×64 multiply
 *             instead of a triangular solve;
 *   U(i,j,k)  the trailing update A_ij -= L_ik · L_jkᵀ (k < j <= i; SYRK
 *             when i = j, only the lower half computed and stored).
 * Multiplies go through rs_mma_f64_m8n8k4 (the FP64 tensor cores).
 *
 * Scheduling: a grid of about one block per SM loops, each block taking a
 * ticket (sb_chain_ctl.ticket) per task. The ticket → task map is a fixed
 * topological order with look-ahead (sb_tiled_ntasks in rs_params.h):
 *   D(0), P(1..nt-1, 0); then for k = 0..nt-2:
 *     U(k+1..nt-1, k+1, k)  (the next tile column first),
 *     D(k+1), P(k+2..nt-1, k+1),
 *     U(i, j, k) for the remaining j >= k+2, column by column.
 * Every task's inputs are produced by tasks with smaller tickets, and a
 * block takes its next ticket only after finishing its current task; so the
 * unfinished task with the smallest ticket always has its inputs and is held
 * by a running block: no deadlock in any start order, with any grid size
 * and residency. Dependencies are counted per tile: counts[i + j·nt] = the
 * operations finished on tile (i, j) in this launch (k updates, then one
 * D or P). A task waits (thread 0 spinning, with the hang guard of the
 * chained solves) until
 *   D(j):      count(j,j) >= j
 *   P(i,j):    count(i,j) >= j and count(j,j) >= j+1
 *   U(i,j,k):  count(i,j) >= k, count(i,k) >= k+1, count(j,k) >= k+1
 * and publishes with fenced stores, a barrier and atomicAdd(count(i,j), 1).
 * Updates of one tile therefore apply in k order, as in LAPACK's
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
 * Critical path (an estimate from instruction latencies, not a
 * measurement): per tile column one D, one P and one U on the next column
 * and three hand-offs, ~nt·(D + P + U + 3 hand-offs). D is 64 barrier steps
 * of a square root, a reciprocal and <= 16 shared-memory FMAs per thread,
 * ~10-12 us; P and U stage 32 KB and run 1024 mma per tile, ~4-5 us each; a
 * hand-off (fence, atomic, poll) ~1 us. At N = 2000 (nt = 32): ~0.5-0.8 ms,
 * dominated by D: reaching the issue's ~0.2 ms needs a D near 3 us (e.g.
 * warp-level or recursive 16-wide steps with the tensor cores) and staging
 * with cp.async and a bank-conflict-free layout. */
#ifndef SB_RS_TILED_CUH
#define SB_RS_TILED_CUH

#include "rs_kernels.cuh"

/* D = A·B + D on the FP64 tensor cores, one 8×8×4 product per warp: PTX
 * mma.sync.aligned.m8n8k4.row.col.f64.f64.f64.f64 (sm_80 and later). All 32
 * lanes call it together. Fragment layout (PTX ISA, "Matrix Fragments for
 * mma.m8n8k4 with .f64 floating point type"), g = lane >> 2, t = lane % 4:
 *   a  = A[g][t]             (A 8×4, row-major)
 *   b  = B[t][g]             (B 4×8, column-major)
 *   d0 = D[g][2t], d1 = D[g][2t + 1]
 * The simulation (sim_cuda.h sim_mma_f64_m8n8k4) exchanges the lanes'
 * fragments with exactly this layout, so a kernel that feeds the wrong
 * elements fails its parity checks there. */
__device__ __forceinline__ void rs_mma_f64_m8n8k4(double &d0, double &d1, double a, double b)
{
#if defined(SB_SIM_CUDA_H)
    sim_mma_f64_m8n8k4(d0, d1, a, b);
#elif defined(__CUDA_ARCH__)
    asm volatile("mma.sync.aligned.m8n8k4.row.col.f64.f64.f64.f64 {%0,%1}, {%2}, {%3}, {%0,%1};"
                 : "+d"(d0), "+d"(d1)
                 : "d"(a), "d"(b));
#else
    (void)d0;
    (void)d1;
    (void)a;
    (void)b;
#endif
}

enum { RS_TASK_EXIT = 0, RS_TASK_DIAG = 1, RS_TASK_PANEL = 2, RS_TASK_UPDATE = 3 };
/* Shared-memory tile: column-major, one pad column of doubles per column. */
enum { RS_TLD = SB_RS_NB + 1 };

/* Where a block is in the ticket order: tickets of one block increase, so
 * thread 0 keeps the segment of its previous ticket and only moves forward. */
struct rs_tiled_cursor {
    int seg;        /* -1: column 0; k >= 0: step k */
    long long base; /* first ticket of seg */
};

/* Task of ticket t (t < sb_tiled_ntasks(nt)); see the order above. */
__device__ __forceinline__ void rs_tiled_decode(long long t, int nt, rs_tiled_cursor &cur, int &kind,
                                                int &i, int &j, int &k)
{
    while (t >= cur.base + sb_tiled_segment_tasks(nt, cur.seg)) {
        cur.base += sb_tiled_segment_tasks(nt, cur.seg);
        cur.seg++;
    }
    long long o = t - cur.base;
    if (cur.seg < 0) {
        kind = o == 0 ? RS_TASK_DIAG : RS_TASK_PANEL;
        i = (int)o;
        j = k = 0;
        return;
    }
    const int step = cur.seg;
    const int m = nt - step - 1;
    if (o < m) { /* look-ahead: column step + 1 */
        kind = RS_TASK_UPDATE;
        i = step + 1 + (int)o;
        j = step + 1;
        k = step;
    } else if (o < 2 * m) {
        o -= m;
        kind = o == 0 ? RS_TASK_DIAG : RS_TASK_PANEL;
        i = step + 1 + (int)o;
        j = k = step + 1;
    } else {
        o -= 2 * m;
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
__device__ __forceinline__ bool rs_tiled_wait(const sb_tiled_sync &ts, int nt, int i, int j,
                                              unsigned want, int *info)
{
    return rs_spin_until(ts.counts + i + (int64_t)j * nt, [want](unsigned v) { return v >= want; },
                         ts.ctl, ts.spin_limit, info);
}

__device__ __forceinline__ bool rs_tiled_wait_inputs(const sb_tiled_sync &ts, int nt, int kind,
                                                     int i, int j, int k, int *info)
{
    if (kind == RS_TASK_DIAG)
        return rs_tiled_wait(ts, nt, j, j, (unsigned)j, info);
    if (kind == RS_TASK_PANEL)
        return rs_tiled_wait(ts, nt, i, j, (unsigned)j, info) &&
               rs_tiled_wait(ts, nt, j, j, (unsigned)j + 1, info);
    return rs_tiled_wait(ts, nt, i, j, (unsigned)k, info) &&
           rs_tiled_wait(ts, nt, i, k, (unsigned)k + 1, info) &&
           rs_tiled_wait(ts, nt, j, k, (unsigned)k + 1, info);
}

/* S[r + c·RS_TLD] = B[r + c·ldb] for r < rows, c < cols, else 0. */
__device__ __forceinline__ void rs_tile_stage(double *S, const double *B, int64_t ldb, int rows,
                                              int cols)
{
    for (int q = threadIdx.x; q < SB_RS_NB * SB_RS_NB; q += blockDim.x) {
        const int r = q % SB_RS_NB, c = q / SB_RS_NB;
        S[r + c * RS_TLD] = (r < rows && c < cols) ? __ldcg(B + r + (int64_t)c * ldb) : 0.0;
    }
}

/* The warp's 8×64 strip of a 64×64 product: warp w holds the rows 8w..8w+7,
 * acc[cb][e] = C[8w + g][8cb + 2t + e] (the D fragment layout, g = lane/4,
 * t = lane%4). acc += sign · A·Bᵀ over all 64 k, A (64×64, rows >= arows
 * read as 0) in global memory with leading dimension lda, B in shared memory
 * (Bs[c + kk·RS_TLD] = B[c][kk]). Column blocks cb > cb_max are skipped
 * (the strictly upper 8×8 blocks of a diagonal tile). */
__device__ __forceinline__ void rs_tile_mma_nt(double (&acc)[8][2], const double *A, int64_t lda,
                                               int arows, const double *Bs, double sign,
                                               int cb_max)
{
    const int lane = threadIdx.x % 32, w = threadIdx.x / 32;
    const int ar = 8 * w + lane / 4;
#pragma unroll 4
    for (int s = 0; s < SB_RS_NB / 4; ++s) {
        const int kk = 4 * s + lane % 4;
        const double a = ar < arows ? sign * __ldcg(A + ar + (int64_t)kk * lda) : 0.0;
#pragma unroll
        for (int cb = 0; cb < 8; ++cb)
            if (cb <= cb_max)
                rs_mma_f64_m8n8k4(acc[cb][0], acc[cb][1], a, Bs[8 * cb + lane / 4 + kk * RS_TLD]);
    }
}

/* D(j): see the file comment. S holds the tile; the inverse X = L⁻¹ is
 * built in the same 64 steps by applying each elimination step to the
 * identity (row r -= (a_rk/d_k)·row k, then row k scaled by 1/sqrt(d_k)),
 * stored transposed in S's strict upper triangle (X[r][c], r > c, at
 * S[c + r·RS_TLD]) with its diagonal in xd[]. Step k:
 *   d = a_kk (unscaled), rs = 1/sqrt(d) (the one reciprocal), m_r = a_rk·rs²;
 *   a_rc -= m_r·a_ck (k < c <= r),  X[r][c] -= m_r·X[k][c] (c <= k);
 * column k of L and row k of X are scaled one step later (step k+1), when
 * nobody reads them: one barrier per step. Rows/columns past the matrix
 * edge are padded with the identity. Returns false after a pivot failure. */
__device__ __forceinline__ bool rs_tiled_diag(double *A, int64_t lda, int n, int j, int bordered,
                                              double *border_out, double *linv, double *S,
                                              double *xd, int *info, sb_chain_ctl *ctl)
{
    const int tid = threadIdx.x;
    const int col0 = SB_RS_NB * j;
    const int rb = rs_imin(SB_RS_NB, n - col0);
    double *Ajj = A + col0 + (int64_t)col0 * lda;
    for (int q = tid; q < SB_RS_NB * SB_RS_NB; q += blockDim.x) {
        const int r = q % SB_RS_NB, c = q / SB_RS_NB;
        double v = 0.0;
        if (r >= c)
            v = (r < rb && c < rb) ? __ldcg(Ajj + r + (int64_t)c * lda) : (r == c ? 1.0 : 0.0);
        S[r + c * RS_TLD] = v;
    }
    if (tid < SB_RS_NB)
        xd[tid] = 1.0;
    __syncthreads();

    enum { G = SB_TILED_THREADS / SB_RS_NB };
    static_assert(G == 4, "thread (r, g): 64 rows x 4 column groups");
    const int r = tid % SB_RS_NB, g = tid / SB_RS_NB;
    const int border = bordered ? n - 1 - col0 : -1; /* local index of the border pivot */
    double rs_prev = 0.0, sq_prev = 0.0;
    int failed = 0;
    for (int k = 0; k <= SB_RS_NB; ++k) {
        if (k > 0) { /* finish column k-1 of L and row k-1 of X */
            const int q = k - 1;
            if (g == 0 && r >= q)
                S[r + q * RS_TLD] = r == q ? sq_prev : S[r + q * RS_TLD] * rs_prev;
            if (g == 1 && r <= q) {
                if (r == q)
                    xd[q] *= rs_prev;
                else
                    S[r + q * RS_TLD] *= rs_prev;
            }
        }
        if (k == SB_RS_NB)
            break;
        /* every thread reads the same pivot after the same barrier, so the
         * break is taken by all threads or by none */
        double d = S[k + k * RS_TLD];
        if (k == border)
            d = 1.0;
        if (!(d > 0.0)) {
            failed = k + 1;
            break;
        }
        const double rs = 1.0 / sqrt(d);
        if (r > k) {
            const double m = S[r + k * RS_TLD] * (rs * rs);
            for (int c = k + 1 + ((g - k - 1) & (G - 1)); c <= r; c += G)
                S[r + c * RS_TLD] -= m * S[c + k * RS_TLD];
            for (int c = g; c <= k; c += G)
                S[c + r * RS_TLD] -= m * (c < k ? S[c + k * RS_TLD] : xd[k]);
        }
        rs_prev = rs;
        sq_prev = d * rs;
        __syncthreads();
    }
    if (failed) {
        if (tid == 0) {
            atomicCAS(info, 0, col0 + failed);
            __threadfence();
            atomicExch(&ctl->abort, 1);
        }
        return false;
    }
    __syncthreads();
    double *Xj = linv + (int64_t)j * SB_RS_NB * SB_RS_NB;
    for (int q = tid; q < SB_RS_NB * SB_RS_NB; q += blockDim.x) {
        const int rr = q % SB_RS_NB, c = q / SB_RS_NB;
        const bool in = rr < rb && c < rb;
        if (in && rr >= c)
            Ajj[rr + (int64_t)c * lda] = S[rr + c * RS_TLD];
        Xj[q] = !in ? 0.0 : rr > c ? S[c + rr * RS_TLD] : rr == c ? xd[rr] : 0.0;
        if (border_out && rr == border && c < rr)
            border_out[col0 + c] = S[rr + c * RS_TLD];
    }
    return true;
}

/* P(i, j): L_ij = A_ij · L_jj⁻ᵀ, in place. */
__device__ __forceinline__ void rs_tiled_panel(double *A, int64_t lda, int n, int i, int j,
                                               int bordered, double *border_out,
                                               const double *linv, double *S)
{
    rs_tile_stage(S, linv + (int64_t)j * SB_RS_NB * SB_RS_NB, SB_RS_NB, SB_RS_NB, SB_RS_NB);
    __syncthreads();
    const int row0 = SB_RS_NB * i, col0 = SB_RS_NB * j;
    const int rows = rs_imin(SB_RS_NB, n - row0);
    double *Aij = A + row0 + (int64_t)col0 * lda;
    double acc[8][2] = {};
    rs_tile_mma_nt(acc, Aij, lda, rows, S, 1.0, 7);
    /* the mma.sync steps consumed every lane's loads of this warp's rows
     * before any lane overwrites them; no other warp touches these rows */
    __syncwarp();
    const int lane = threadIdx.x % 32, w = threadIdx.x / 32;
    const int r = 8 * w + lane / 4;
    const int border = bordered ? n - 1 - row0 : -1;
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

/* U(i, j, k): A_ij -= L_ik · L_jkᵀ (lower half only when i = j). */
__device__ __forceinline__ void rs_tiled_update(double *A, int64_t lda, int n, int i, int j, int k,
                                                double *S)
{
    const int row0 = SB_RS_NB * i, col0 = SB_RS_NB * j, kc0 = SB_RS_NB * k;
    const int rows = rs_imin(SB_RS_NB, n - row0), cols = rs_imin(SB_RS_NB, n - col0);
    rs_tile_stage(S, A + col0 + (int64_t)kc0 * lda, lda, cols, SB_RS_NB);
    __syncthreads();
    const int lane = threadIdx.x % 32, w = threadIdx.x / 32;
    const int r = 8 * w + lane / 4;
    const bool diag = i == j;
    double *Aij = A + row0 + (int64_t)col0 * lda;
    double acc[8][2];
#pragma unroll
    for (int cb = 0; cb < 8; ++cb)
#pragma unroll
        for (int e = 0; e < 2; ++e) {
            const int c = 8 * cb + 2 * (lane % 4) + e;
            acc[cb][e] = (r < rows && c < cols) ? __ldcg(Aij + r + (int64_t)c * lda) : 0.0;
        }
    rs_tile_mma_nt(acc, A + row0 + (int64_t)kc0 * lda, lda, rows, S, -1.0, diag ? w : 7);
#pragma unroll
    for (int cb = 0; cb < 8; ++cb)
#pragma unroll
        for (int e = 0; e < 2; ++e) {
            const int c = 8 * cb + 2 * (lane % 4) + e;
            if (r < rows && c < cols && (!diag || r >= c))
                Aij[r + (int64_t)c * lda] = acc[cb][e];
        }
}

/* The persistent tiled factorization; see the file comment and
 * sb_launch_chol_tiled (rs_kernels.h) for the arguments. */
__global__ void __launch_bounds__(SB_TILED_THREADS)
rs_chol_tiled(double *A, int64_t lda, int n, int bordered, double *border_out, double *linv,
              sb_tiled_sync ts, int *info)
{
    __shared__ double S[SB_RS_NB * RS_TLD];
    __shared__ double xd[SB_RS_NB];
    __shared__ int s_task[4];
    const int nt = (n + SB_RS_NB - 1) / SB_RS_NB;
    const long long ntasks = sb_tiled_ntasks(nt);
    rs_tiled_cursor cur = {-1, 0}; /* thread 0's */
    if (threadIdx.x == 0)
        rs_test_start_delay(ts.test_start_delay);
    for (;;) {
        if (threadIdx.x == 0) {
            int kind = RS_TASK_EXIT, i = 0, j = 0, k = 0;
            if (rs_load_volatile(&ts.ctl->abort) == 0) {
                const long long t = atomicAdd(&ts.ctl->ticket, 1u);
                if (t < ntasks) {
                    rs_tiled_decode(t, nt, cur, kind, i, j, k);
                    if (!rs_tiled_wait_inputs(ts, nt, kind, i, j, k, info))
                        kind = RS_TASK_EXIT;
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
        if (kind == RS_TASK_DIAG) {
            if (!rs_tiled_diag(A, lda, n, j, bordered, border_out, linv, S, xd, info, ts.ctl))
                break;
        } else if (kind == RS_TASK_PANEL) {
            rs_tiled_panel(A, lda, n, i, j, bordered, border_out, linv, S);
        } else {
            rs_tiled_update(A, lda, n, i, j, k, S);
        }
        __threadfence();
        __syncthreads();
        if (threadIdx.x == 0)
            atomicAdd(ts.counts + i + (int64_t)j * nt, 1u);
    }
    if (rs_chain_is_last(ts.ctl)) {
        for (int q = threadIdx.x; q < nt * nt; q += blockDim.x)
            ts.counts[q] = 0u;
        __threadfence();
        rs_chain_reopen(ts.ctl);
    }
}

#endif
