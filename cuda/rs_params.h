/* Constants and plain structs shared by the resident-solve kernels
 * (cuda/rs_kernels.cuh, cuda/rs_tiled.cuh), their launchers
 * (cuda/rs_kernels.cu), the backend (cuda/rs_backend.cu), the direct GPU
 * test (tests/gpu/rs_backend_test.c) and the host simulations
 * (tests/sim/sim_kernels.cpp, tests/sim/sim_tiled.cpp).
 * No CUDA headers here and plain C: the simulations compile this with a C++
 * compiler, the GPU test with a C compiler. */
#ifndef SB_RS_PARAMS_H
#define SB_RS_PARAMS_H

#include <stdint.h>

/* Width of a diagonal block of the blocked Cholesky, of a tile of the tiled
 * Cholesky and of a row block of the chained triangular solves. 64 doubles
 * square = 32 KB of shared memory. */
#define SB_RS_NB 64
/* Threads of the diagonal-block factorization: 64 rows x 8 column groups. */
#define SB_CHOL_THREADS 512
/* Threads of a triangular-solve block: 64 rows x 4 column groups. */
#define SB_TRSV_THREADS 256
/* Threads of a tiled-Cholesky block: 8 warps, warp w owns rows 8w..8w+7 of
 * a 64×64 output tile (rs_tiled.cuh). */
#define SB_TILED_THREADS 256

/* info value written into a solve's info slot when a block of a chained
 * triangular solve or of the tiled factorization waited past its spin limit
 * for work another block owns (a hang guard: the kernel gives up instead of
 * hanging the device). Factorization failures use the LAPACK convention
 * instead: info = k > 0, the leading minor of order k is not positive
 * definite. */
#define SB_INFO_CHAIN_TIMEOUT (-1000001)
/* About 4.8 s at 1.8 GHz; a normal wait is a few microseconds, and several
 * milliseconds under compute-sanitizer. */
#define SB_CHAIN_SPIN_CYCLES (1LL << 33)

/* Cross-block state of one kernel that hands work between its blocks (a
 * chained triangular solve, or the tiled factorization), in device memory,
 * zeroed once when it is allocated and never written by the host again.
 *
 * The protocol, per launch of G blocks (all launches of one state on one
 * stream, so a launch starts after the previous one has ended; replaying a
 * captured CUDA graph is the same sequence of launches):
 *   - at launch start ticket = done = abort = 0 and epoch = E, the number of
 *     launches of this state that have completed (mod 2^32);
 *   - a block takes tickets with atomicAdd(&ticket, 1) in the order it gets
 *     to run: ticket order is start order, so a block only ever waits on work
 *     owned by tickets taken before its own (by blocks already running): no
 *     deadlock whatever order the hardware starts blocks in, nor with fewer
 *     blocks resident than launched;
 *   - a chained solve publishes row block b by storing E + 1 into flags[b]
 *     (after its results are fenced) and waits for flags[b] == E + 1: values
 *     of earlier launches (E or older) never match, so a flag is never reset;
 *   - a block that waits past its spin limit sets abort = 1 and writes
 *     SB_INFO_CHAIN_TIMEOUT into the solve's info slot; a block that sees
 *     abort != 0 stops waiting (chained solves run on with what is in
 *     memory; the tiled factorization stops taking work);
 *   - every block ends with atomicAdd(&done, 1); the block that takes the
 *     last one (done == G - 1: every other block has finished) stores
 *     ticket = done = abort = 0 and epoch = E + 1, and the tiled
 *     factorization also zeroes its tile counters. The next launch starts
 *     from the same state as this one did, whatever happened in this one
 *     (a timeout included), with no host write in between. */
typedef struct sb_chain_ctl {
    unsigned ticket;
    unsigned done;
    unsigned epoch;
    int abort;
} sb_chain_ctl;

/* What a chained-solve launch receives (by value). spin_limit is
 * SB_CHAIN_SPIN_CYCLES in every launch the tool makes; test_start_delay is
 * test-only: when > 0, blocks with blockIdx.x < gridDim.x / 2 spin that many
 * clock64() cycles before they take their ticket, so that a GPU test sees
 * low block indices start last. The tool never sets it (no option or
 * environment variable reaches it): only tests/gpu/rs_backend_test.c and
 * the simulations do. */
typedef struct sb_chain_sync {
    unsigned *flags;     /* one per row block */
    sb_chain_ctl *ctl;
    long long spin_limit;
    long long test_start_delay;
} sb_chain_sync;

/* One task of the tiled factorization as a trace records it (test-only,
 * sb_tiled_sync.trace): written by the block's thread 0 at index = the
 * task's ticket. Times are the GPU's global nanosecond timer (%globaltimer,
 * one clock for every SM; the simulation's steady clock on the CPU):
 *   take_ns   just before the ticket was taken,
 *   ready_ns  when every input had been published (the waits ended),
 *   done_ns   when the outputs were written and fenced and the block's
 *             barrier passed, just before the tile's count is published.
 * kind is 1 diagonal, 2 panel, 3 update, 4 chain (rs_tiled.cuh), on tile
 * (i, j) with step k (a chain task C(i): i = j = k + 1). The analysis and
 * its checks are in rs_tiled_trace.h. */
typedef struct sb_tiled_trace_rec {
    unsigned long long take_ns, ready_ns, done_ns;
    unsigned long long mid_ns;   /* chain task: when its panel tile was published */
    unsigned long long early_ns; /* chain task: when A_ik and A_ii were ready (it loads
                                    them, then waits for L_kk⁻¹ until ready_ns);
                                    other tasks: ready_ns */
    int block, kind, i, j, k;
} sb_tiled_trace_rec;

/* What the tiled factorization receives (by value); see rs_tiled.cuh.
 * counts[i + j·nt] counts the operations finished on tile (i, j) in this
 * launch (zeroed by the launch's last block, see sb_chain_ctl). trace is
 * test-only like test_start_delay (NULL in every launch the tool makes):
 * when set, one sb_tiled_trace_rec per task of the factorization,
 * sb_tiled_ntasks(nt) of them (a launch's Gram tasks are not recorded). */
typedef struct sb_tiled_sync {
    unsigned *counts;
    sb_chain_ctl *ctl;
    long long spin_limit;
    long long test_start_delay;
    sb_tiled_trace_rec *trace;
    /* gram_p > 0: the launch first computes the primal Gram lower(G) =
     * Xt·diag(w)·Xtᵀ + ridge·I (p×p, rs_gram.cuh's (tile, chunk) tasks) into
     * the leading p×p block of A, n = p + 1 (bordered); its workspace is
     * sb_gram_work_bytes(p, samples, splits) as for the standalone kernel. */
    const double *gram_Xt, *gram_w;
    double gram_ridge;
    double *gram_partials;
    unsigned *gram_counts;
    int gram_p, gram_samples, gram_nchunks, gram_kchunk;
} sb_tiled_sync;

/* Tasks of the tiled factorization of a matrix with nt = ceil(n / 64) tile
 * rows, in ticket order (rs_tiled.cuh): for column 0, its diagonal tile and
 * the panels below it but the first (1 + max(nt - 2, 0)); then for each
 * step k = 0..nt-2, with m = nt - k - 1: the chain task of column k + 1
 * (panel (k+1, k), update (k+1, k+1, k), diagonal k + 1), the m - 1 other
 * updates of tile column k + 1, its panels but the first (max(m - 2, 0)),
 * and the m(m-1)/2 remaining updates of step k. Host and device code both
 * use it. */
#if defined(__CUDACC__)
#define SB_HOST_DEVICE __host__ __device__
#else
#define SB_HOST_DEVICE
#endif
static inline SB_HOST_DEVICE long long sb_tiled_segment_tasks(int nt, int seg)
{
    if (seg < 0)
        return nt >= 2 ? nt - 1 : 1;
    const long long m = nt - seg - 1;
    return 1 + (m - 1) + (m >= 2 ? m - 2 : 0) + m * (m - 1) / 2;
}
static inline SB_HOST_DEVICE long long sb_tiled_ntasks(int nt)
{
    long long total = 0;
    for (int seg = -1; seg <= nt - 2; ++seg)
        total += sb_tiled_segment_tasks(nt, seg);
    return total;
}

#endif
