/* Device kernels of the CUDA resident-solve backend.
 *
 * Included by cuda/rs_kernels.cu (which adds the host launchers) and by the
 * host simulation test tests/sim/sim_kernels.cpp, which runs these exact
 * kernels with one OS thread per CUDA thread and a real barrier per
 * __syncthreads() (so indexing and intra-block synchronisation are tested
 * without a GPU). Keep this file free of host code and of CUDA headers.
 *
 * Why own kernels at all (docs/notes-resident-solve.md, "Where the library
 * time goes"): cuSOLVER's potrf costs ~0.43 us per column at every size and
 * potrs with one right-hand side is latency-bound the same way. The blocked
 * factorization here (driven from cuda/rs_backend.cu) keeps
 * the column-sequential work inside one thread block in shared memory
 * (rs_chol_diag: one barrier per column, 64 columns per launch) and gives the
 * O(N^3) work to cuBLAS DTRSM/DSYRK. The triangular solves are two single
 * launches each (rs_trsv_lower_fwd, rs_trsv_lower_bwd) whose row blocks hand
 * their results to each other through flags in global memory ("chained"
 * solve), instead of one launch per block. Their cross-block state lives in
 * device memory and each launch's last block resets it for the next
 * (sb_chain_ctl in rs_params.h), so captured graphs replay correctly. The
 * tiled factorization (--factor tiled), which reuses the ticket, wait and
 * reset helpers below, is in rs_tiled.cuh.
 *
 * All matrices are column-major; only the lower triangle of a factored matrix
 * is ever read or written. */
#ifndef SB_RS_KERNELS_CUH
#define SB_RS_KERNELS_CUH

#include "rs_params.h"

/* ------------------------------------------------------------------------ */
/* Elementwise kernels of the per-solve build.                              */

/* Xs = Xt·diag(sqrt(w)): Xt is p×n column-major (= X n×p row-major), so
 * column i of Xt is row i of X. Then Xs·Xsᵀ = Xᵀ W X. Blocks stride over
 * columns, threads over the p contiguous entries of a column. */
__global__ void rs_scale_cols_sqrtw(const double *__restrict__ Xt, int64_t p, int64_t n,
                                    const double *__restrict__ w, double *__restrict__ Xs)
{
    for (int64_t i = blockIdx.x; i < n; i += gridDim.x) {
        const double s = sqrt(w[i]);
        const double *src = Xt + i * p;
        double *dst = Xs + i * p;
        for (int64_t j = threadIdx.x; j < p; j += blockDim.x)
            dst[j] = s * src[j];
    }
}

/* A[i,i] += v for an N×N matrix with leading dimension lda. */
__global__ void rs_add_diag(double *A, int64_t N, int64_t lda, double v)
{
    const int64_t stride = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < N; i += stride)
        A[i + i * lda] += v;
}

/* Dual form: lower(M) = lower(K) + diag(ridge / w), n×n, K with leading
 * dimension n, M with ldm (n, or n + 1 for the bordered matrix of the fused
 * tiled factor). Blocks stride over columns, threads over the rows c..n-1.
 * border (the bordered matrix, ldm >= n + 1; NULL otherwise): also
 * M[n + c·ldm] = border[c], the right-hand side as row n. */
__global__ void rs_dual_shift(const double *__restrict__ K, int64_t n, const double *__restrict__ w,
                              double ridge, double *__restrict__ M, int64_t ldm,
                              const double *__restrict__ border)
{
    for (int64_t c = blockIdx.x; c < n; c += gridDim.x) {
        const double *kc = K + c * n;
        double *mc = M + c * ldm;
        if (border && threadIdx.x == 0)
            mc[n] = border[c];
        for (int64_t r = c + threadIdx.x; r < n; r += blockDim.x) {
            double v = kc[r];
            if (r == c)
                v += ridge / w[c];
            mc[r] = v;
        }
    }
}

/* SplitMix64 of (seed + i) mapped to [-1, 1), never zero: the calibration
 * DGEMM runs on non-trivial data. */
__global__ void rs_fill_pseudorandom(double *a, int64_t count, uint64_t seed)
{
    const int64_t stride = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < count; i += stride) {
        uint64_t z = seed + 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        double u = (double)(z >> 11) * (1.0 / 9007199254740992.0) * 2.0 - 1.0;
        if (u > -1.0 / 1024 && u < 1.0 / 1024)
            u = 0.5;
        a[i] = u;
    }
}

/* One thread: slots[*next] = *scratch (when *next < nslots), *scratch = 0,
 * ++*next. The end of a rep whose factorization and solves write their
 * status into the fixed word *scratch (a captured CUDA graph has fixed
 * pointers): the status lands in the rep's own slot, counted on the device,
 * and the next rep starts from a clean scratch word. */
__global__ void rs_info_commit(int *slots, int nslots, int *scratch, unsigned *next)
{
    if (threadIdx.x == 0 && blockIdx.x == 0) {
        const unsigned k = *next;
        if (k < (unsigned)nslots)
            slots[k] = *scratch;
        *scratch = 0;
        *next = k + 1u;
    }
}

/* ------------------------------------------------------------------------ */
/* Diagonal block of the blocked Cholesky (lower).                          */

/* Factors the jb×jb (jb <= 64) diagonal block at A (leading dimension lda) in
 * place, A = L·Lᵀ, in shared memory with 512 threads: thread (r, g) owns row r
 * and the columns c ≡ g (mod 8).
 *
 * Right-looking, one barrier per column: in step k every thread updates the
 * trailing lower triangle with the *unscaled* column k,
 *     a[r][c] -= a[r][k]·a[c][k] / d_k,  k < c <= r,   d_k = a[k][k],
 * which equals a[r][c] -= l[r][k]·l[c][k]. Column k itself is scaled by
 * 1/sqrt(d_k) (and its diagonal set to sqrt(d_k)) one step later, in step k+1,
 * when nobody reads it any more; so each step reads only column k and writes
 * only columns k-1 and > k, and one barrier per step suffices.
 *
 * A pivot d_k that is not > 0 (or NaN) stops the factorization: info gets
 * col0 + k + 1 (LAPACK convention, 1-based global column) unless an earlier
 * failure is already recorded, and the block is not written back. */
__global__ void __launch_bounds__(SB_CHOL_THREADS)
rs_chol_diag(double *A, int64_t lda, int jb, int col0, int *info)
{
    enum { NB = SB_RS_NB, G = SB_CHOL_THREADS / SB_RS_NB };
    static_assert(SB_CHOL_THREADS % NB == 0 && (G & (G - 1)) == 0, "G must be a power of two");
    __shared__ double S[NB * NB]; /* S[c*NB + r] = a[r][c] */
    const int tid = threadIdx.x;
    const int r = tid % NB;
    const int g = tid / NB;

    for (int c = g; c < NB; c += G)
        S[c * NB + r] = (r < jb && c < jb && r >= c) ? A[r + (int64_t)c * lda] : 0.0;
    __syncthreads();

    double lprev = 0.0;     /* sqrt(d_{k-1}) */
    double lprev_inv = 0.0; /* 1 / sqrt(d_{k-1}) */
    int k = 0;
    for (; k < jb; ++k) {
        /* Every thread reads the same pivot after the same barrier, so the
         * break below is taken by all threads or by none. */
        const double d = S[k * NB + k];
        if (!(d > 0.0))
            break;
        if (k > 0 && g == 0 && r >= k - 1 && r < jb)
            S[(k - 1) * NB + r] = (r == k - 1) ? lprev : S[(k - 1) * NB + r] * lprev_inv;
        if (r > k && r < jb) {
            const double f = S[k * NB + r] / d;
            /* first column c > k with c ≡ g (mod G) */
            for (int c = k + 1 + ((g - k - 1) & (G - 1)); c <= r; c += G)
                S[c * NB + r] -= f * S[k * NB + c];
        }
        lprev = sqrt(d);
        lprev_inv = 1.0 / lprev;
        __syncthreads();
    }
    if (k < jb) {
        if (tid == 0)
            atomicCAS(info, 0, col0 + k + 1);
        return;
    }
    /* the last column has only its diagonal left to finish */
    if (tid == 0 && jb > 0)
        S[(jb - 1) * NB + (jb - 1)] = lprev;
    __syncthreads();
    for (int c = g; c < jb; c += G)
        if (r < jb && r >= c)
            A[r + (int64_t)c * lda] = S[c * NB + r];
}

/* ------------------------------------------------------------------------ */
/* Chained triangular solves with one right-hand side.                      */
/*
 * L·y = b (rs_trsv_lower_fwd) and then Lᵀ·x = y (rs_trsv_lower_bwd), in place
 * on b, L lower N×N. One launch each, one thread block per 64-row block.
 * Blocks are numbered by ticket (start order), not blockIdx.
 * Block i (forward) first inverts its own diagonal block L_ii in shared memory
 * (off the critical path: it runs while earlier blocks are still solving) and
 * stores the inverse for the backward launch; then for j = 0..i-1 it waits for
 * block j's flag, reads y_j and accumulates L_ij·y_j (the L_ij tile is loaded
 * before the wait, so the wait hides its latency); finally
 *   y_i = L_ii⁻¹ (b_i − Σ_j L_ij y_j)
 * is one 64×64 product, written, fenced, and flagged. The critical path is
 * therefore ~N/64 short hand-offs instead of N dependent column steps.
 * The backward launch is the mirror image (blocks from the bottom, tiles
 * L_ji for j > i read transposed, x_i = L_ii⁻ᵀ (y_i − Σ_j L_jiᵀ x_j)).
 */

__device__ __forceinline__ int rs_imin(int a, int b) { return a < b ? a : b; }

__device__ __forceinline__ unsigned rs_load_volatile(const unsigned *p)
{
    return *(const volatile unsigned *)p;
}
__device__ __forceinline__ int rs_load_volatile(const int *p)
{
    return *(const volatile int *)p;
}

/* An acquire load at GPU scope (ld.acquire.gpu): reads and writes after it
 * in this thread, and, through the __syncthreads that follows every wait,
 * in the rest of its block, are ordered after it, so they see everything
 * the publishing block wrote before its fence and atomicAdd. It replaces a
 * relaxed poll followed by a full __threadfence (the pattern of CUTLASS's
 * inter-block semaphore). The simulation's stand-in is a seq_cst atomic
 * load; x86 cannot show a missing acquire, only a GPU can. */
__device__ __forceinline__ unsigned rs_load_acquire(const unsigned *p)
{
#if defined(SB_SIM_CUDA_H)
    return sim_load_acquire(p);
#elif defined(__CUDA_ARCH__)
    unsigned v;
    asm volatile("ld.acquire.gpu.global.u32 %0, [%1];" : "=r"(v) : "l"(p) : "memory");
    return v;
#else
    return *(const volatile unsigned *)p;
#endif
}

/* Test-only start skew (sb_chain_sync.test_start_delay): the low half of
 * the block indices spin before they take a ticket. */
__device__ __forceinline__ void rs_test_start_delay(long long cycles)
{
    if (cycles > 0 && blockIdx.x < gridDim.x / 2) {
        const long long t0 = clock64();
        while (clock64() - t0 < cycles) {
        }
    }
}

/* A block's place in one chained-solve launch: its logical index (the order
 * in which blocks of this launch started) and the flag value this launch
 * publishes (epoch E + 1, see sb_chain_ctl in rs_params.h). */
struct rs_chain_pos {
    int blk;
    unsigned epoch;
};

__device__ __forceinline__ rs_chain_pos rs_chain_ticket(const sb_chain_sync &cs)
{
    __shared__ int s_ticket;
    __shared__ unsigned s_epoch;
    if (threadIdx.x == 0) {
        rs_test_start_delay(cs.test_start_delay);
        s_ticket = (int)atomicAdd(&cs.ctl->ticket, 1u);
        s_epoch = rs_load_volatile(&cs.ctl->epoch) + 1u;
    }
    __syncthreads();
    rs_chain_pos pos;
    pos.blk = s_ticket;
    pos.epoch = s_epoch;
    return pos;
}

/* Thread 0 spins until *word satisfies ready(); false after a timeout or an
 * abort (which it then records: abort = 1, info = SB_INFO_CHAIN_TIMEOUT
 * unless info already holds a failure). Only thread 0 calls this, and a
 * __syncthreads follows before the block reads what it waited for: the
 * polls are acquire loads (rs_load_acquire), so no fence is needed after. */
template <typename Ready>
__device__ __forceinline__ bool rs_spin_until(const unsigned *word, Ready ready,
                                              sb_chain_ctl *ctl, long long spin_limit, int *info)
{
    const long long t0 = clock64();
    while (!ready(rs_load_acquire(word))) {
        if (rs_load_volatile(&ctl->abort) != 0 || clock64() - t0 > spin_limit) {
            atomicCAS(info, 0, SB_INFO_CHAIN_TIMEOUT);
            __threadfence();
            atomicExch(&ctl->abort, 1);
            return false;
        }
    }
    return true;
}

/* All threads call this; thread 0 waits for row block `blk` of this launch,
 * then the barrier releases the others. A wait past the spin limit (or an
 * earlier timeout anywhere: abort) marks the solve failed in *info and lets
 * the block run on with whatever is in memory, so the launch always ends. */
__device__ __forceinline__ void rs_chain_wait(const sb_chain_sync &cs, rs_chain_pos pos, int blk,
                                              int *info)
{
    if (threadIdx.x == 0) {
        const unsigned want = pos.epoch;
        rs_spin_until(cs.flags + blk, [want](unsigned v) { return v == want; }, cs.ctl,
                      cs.spin_limit, info);
    }
    __syncthreads();
}

/* Called by all threads after the writers fenced their stores and a barrier:
 * row block `blk` of this launch is published. */
__device__ __forceinline__ void rs_chain_publish(const sb_chain_sync &cs, rs_chain_pos pos, int blk)
{
    if (threadIdx.x == 0) {
        __threadfence();
        atomicExch(cs.flags + blk, pos.epoch);
    }
}

/* The end of every block of a launch on a sb_chain_ctl (see rs_params.h):
 * the last block to finish resets the state for the next launch. Returns
 * true in every thread of that last block (after a barrier), so the caller
 * can reset launch-private state too before calling rs_chain_reopen. */
__device__ __forceinline__ bool rs_chain_is_last(sb_chain_ctl *ctl)
{
    __shared__ int s_last;
    __syncthreads();
    if (threadIdx.x == 0) {
        __threadfence();
        s_last = atomicAdd(&ctl->done, 1u) == gridDim.x - 1;
    }
    __syncthreads();
    return s_last != 0;
}

/* Thread 0 of the last block: ticket = done = abort = 0, epoch + 1. Stores
 * made before this by the block are ordered by the barrier and the fence. */
__device__ __forceinline__ void rs_chain_reopen(sb_chain_ctl *ctl)
{
    __syncthreads();
    if (threadIdx.x == 0) {
        __threadfence();
        atomicExch(&ctl->ticket, 0u);
        atomicExch(&ctl->done, 0u);
        atomicExch(&ctl->abort, 0);
        atomicAdd(&ctl->epoch, 1u);
    }
}

__device__ __forceinline__ void rs_chain_finish(const sb_chain_sync &cs)
{
    if (rs_chain_is_last(cs.ctl))
        rs_chain_reopen(cs.ctl);
}

/* The last step of both triangular solves: x_i = T·vs (T the block's 64×64
 * tile in shared memory, vs its right-hand side, both complete after a
 * barrier), written to b and then published to the blocks waiting on it. */
template <int NB, int TG, int LDT, int PER>
__device__ __forceinline__ void rs_tile_apply_publish(const double *T, const double *vs,
                                                      double (*red)[NB], double *b, int row0,
                                                      int rb, int bi, const sb_chain_sync &cs,
                                                      rs_chain_pos pos)
{
    const int tid = threadIdx.x, r = tid % NB, g = tid / NB;
    double xp = 0.0;
#pragma unroll
    for (int m = 0; m < PER; ++m)
        xp += T[(g + TG * m) * LDT + r] * vs[g + TG * m];
    red[g][r] = xp;
    __syncthreads();
    if (tid < rb) {
        double s = 0.0;
        for (int q = 0; q < TG; ++q)
            s += red[q][tid];
        b[row0 + tid] = s;
        __threadfence();
    }
    __syncthreads();
    rs_chain_publish(cs, pos, bi);
}

/* Forward: b <- L⁻¹ b; linv receives L_ii⁻¹ of every row block i as a 64×64
 * column-major tile at linv + i·64·64 (zero outside the block's rb×rb). */
__global__ void __launch_bounds__(SB_TRSV_THREADS)
rs_trsv_lower_fwd(const double *__restrict__ L, int64_t lda, int N, double *b,
                  double *__restrict__ linv, sb_chain_sync cs, int *info)
{
    enum { NB = SB_RS_NB, TG = SB_TRSV_THREADS / SB_RS_NB, LDT = SB_RS_NB + 1, PER = NB / TG };
    static_assert(SB_TRSV_THREADS % NB == 0 && NB % TG == 0, "thread layout");
    __shared__ double T[NB * LDT]; /* T[c*LDT + r]: becomes L_ii⁻¹ (r, c) */
    __shared__ double dinv[NB];
    __shared__ double red[TG][NB];
    __shared__ double vs[NB];
    const int tid = threadIdx.x;
    const int r = tid % NB;
    const int g = tid / NB;

    const rs_chain_pos pos = rs_chain_ticket(cs);
    const int bi = pos.blk;
    const int row0 = bi * NB;
    const int rb = rs_imin(NB, N - row0);
    const double *Lii = L + row0 + (int64_t)row0 * lda;

    /* 1. T = L_ii⁻¹ by substitution on all 64 unit columns at once. Invariant
     * before step k, rows q >= k: T[q][c] = δ_qc − Σ_{m<k} L[q][m]·X[m][c],
     * so X[k][c] = T[k][c]/L[k][k]. Step k subtracts L[q][k]·X[k][c] from
     * the rows q > k; row k itself is divided one step later (step k+1)
     * when nobody reads it, so one barrier per step suffices. */
    for (int c = g; c < NB; c += TG)
        T[c * LDT + r] = (r == c && r < rb) ? 1.0 : 0.0;
    if (tid < NB)
        dinv[tid] = tid < rb ? 1.0 / Lii[tid + (int64_t)tid * lda] : 0.0;
    __syncthreads();
    for (int k = 0; k < rb; ++k) {
        if (k > 0 && r == k - 1)
            for (int c = g; c <= k - 1; c += TG)
                T[c * LDT + r] *= dinv[k - 1];
        if (r > k && r < rb) {
            const double lrk = Lii[r + (int64_t)k * lda];
            const double dk = dinv[k];
            for (int c = g; c <= k; c += TG)
                T[c * LDT + r] -= lrk * (T[c * LDT + k] * dk);
        }
        __syncthreads();
    }
    if (rb > 0 && r == rb - 1)
        for (int c = g; c <= rb - 1; c += TG)
            T[c * LDT + r] *= dinv[rb - 1];
    __syncthreads();
    {
        double *Xo = linv + (int64_t)bi * NB * NB;
        for (int c = g; c < NB; c += TG)
            Xo[c * NB + r] = T[c * LDT + r];
    }

    /* 2. acc = row r of Σ_{j<i} L_ij·y_j over this thread's columns. */
    double acc = 0.0;
    for (int bj = 0; bj < bi; ++bj) {
        const double *Lij = L + row0 + (int64_t)bj * NB * lda;
        double lt[PER];
#pragma unroll
        for (int m = 0; m < PER; ++m)
            lt[m] = r < rb ? Lij[r + (int64_t)(g + TG * m) * lda] : 0.0;
        rs_chain_wait(cs, pos, bj, info);
        if (tid < NB)
            vs[tid] = __ldcg(b + (int64_t)bj * NB + tid); /* bj < bi: a full block */
        __syncthreads();
#pragma unroll
        for (int m = 0; m < PER; ++m)
            acc += lt[m] * vs[g + TG * m];
    }

    /* 3. y_i = L_ii⁻¹ (b_i − acc) */
    red[g][r] = acc;
    __syncthreads();
    if (tid < NB) {
        double v = 0.0;
        if (tid < rb)
            {
            double s = 0.0;
            for (int q = 0; q < TG; ++q)
                s += red[q][tid];
            v = b[row0 + tid] - s;
        }
        vs[tid] = v;
    }
    __syncthreads();
    rs_tile_apply_publish<NB, TG, LDT, PER>(T, vs, red, b, row0, rb, bi, cs, pos);
    rs_chain_finish(cs);
}

/* Backward: b <- L⁻ᵀ b, using the L_ii⁻¹ tiles the forward launch stored. */
__global__ void __launch_bounds__(SB_TRSV_THREADS)
rs_trsv_lower_bwd(const double *__restrict__ L, int64_t lda, int N, double *b,
                  const double *__restrict__ linv, sb_chain_sync cs, int *info)
{
    enum { NB = SB_RS_NB, TG = SB_TRSV_THREADS / SB_RS_NB, LDT = SB_RS_NB + 1, PER = NB / TG,
           WARPS = SB_TRSV_THREADS / 32 };
    /* the rows of column group g are exactly warps 2g and 2g+1 */
    static_assert(NB == 64 && SB_TRSV_THREADS % NB == 0, "row block must be two warps");
    __shared__ double T[NB * LDT]; /* T[c*LDT + r] = L_ii⁻¹ (c, r): T = L_ii⁻ᵀ */
    __shared__ double redw[WARPS][PER];
    __shared__ double red[TG][NB];
    __shared__ double vs[NB];
    const int tid = threadIdx.x;
    const int r = tid % NB;
    const int g = tid / NB;
    const int nblk = (N + NB - 1) / NB;

    const rs_chain_pos pos = rs_chain_ticket(cs);
    const int bi = nblk - 1 - pos.blk;
    const int row0 = bi * NB;
    const int rb = rs_imin(NB, N - row0);
    {
        const double *Xi = linv + (int64_t)bi * NB * NB;
        for (int c = g; c < NB; c += TG)
            T[r * LDT + c] = Xi[c * NB + r];
    }

    /* acc[m] = Σ_{j>i} L[row r of block j][column g+4m of block i] · x_j[r];
     * thread (r, g) walks down the rows, so the tile loads are coalesced. */
    double acc[PER];
#pragma unroll
    for (int m = 0; m < PER; ++m)
        acc[m] = 0.0;
    for (int bj = nblk - 1; bj > bi; --bj) {
        const int rowj = bj * NB;
        const int rbj = rs_imin(NB, N - rowj);
        const double *Lji = L + rowj + (int64_t)row0 * lda;
        double lt[PER];
#pragma unroll
        for (int m = 0; m < PER; ++m) {
            const int c = g + TG * m;
            lt[m] = (r < rbj && c < rb) ? Lji[r + (int64_t)c * lda] : 0.0;
        }
        rs_chain_wait(cs, pos, bj, info);
        if (tid < NB)
            vs[tid] = tid < rbj ? __ldcg(b + rowj + tid) : 0.0;
        __syncthreads();
        const double xr = vs[r];
#pragma unroll
        for (int m = 0; m < PER; ++m)
            acc[m] += lt[m] * xr;
    }

    /* Sum acc over the 64 rows: the rows of group g are warps 2g and 2g+1. */
#pragma unroll
    for (int m = 0; m < PER; ++m) {
        double v = acc[m];
#pragma unroll
        for (int off = 16; off > 0; off >>= 1)
            v += __shfl_xor_sync(0xffffffffu, v, off);
        acc[m] = v;
    }
    const int warp = tid / 32;
    if (tid % 32 == 0) {
#pragma unroll
        for (int m = 0; m < PER; ++m)
            redw[warp][m] = acc[m];
    }
    __syncthreads();
    if (tid < NB) {
        const int c = tid;
        const int gc = c % TG;
        const int mc = c / TG;
        double v = 0.0;
        if (c < rb)
            v = b[row0 + c] - (redw[2 * gc][mc] + redw[2 * gc + 1][mc]);
        vs[c] = v;
    }
    __syncthreads();
    rs_tile_apply_publish<NB, TG, LDT, PER>(T, vs, red, b, row0, rb, bi, cs, pos);
    rs_chain_finish(cs);
}

#endif
