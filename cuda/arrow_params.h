/* Constants and plain structs shared by the arrow-Schur kernels
 * (cuda/arrow_kernels.cuh), their launchers (cuda/arrow_kernels.cu), the
 * solve mode (cuda/arrow_backend.cu) and the host simulation test
 * (tests/sim/sim_arrow.cpp). No CUDA headers here: the simulation compiles
 * this with a plain C++ compiler. */
#ifndef SB_ARROW_PARAMS_H
#define SB_ARROW_PARAMS_H

#include <stdint.h>

/* Largest row block d. One thread owns a row's d×d factor, so the per-row
 * work grows as d³; the workloads have d = 1..3. */
#define SB_ARROW_MAX_D 64
/* Threads per block of the per-row and per-(row, column) kernels. */
#define SB_ARROW_THREADS 128
/* Grid-stride kernels use at most this many blocks (enough to fill any
 * current GPU several times). */
#define SB_ARROW_MAX_BLOCKS 8192
/* Threads of the one-block logdet reduction (a power of two). */
#define SB_ARROW_REDUCE_THREADS 128

/* What factor() downloads, in one 16-byte copy. */
typedef struct sb_arrow_status {
    double logdet;  /* 2Σ ln diag(L_i) + 2Σ ln diag(L_S), in a fixed order */
    int rows_bad;   /* rows whose H_tt,i + ρ_t I is not positive definite */
    int schur_info; /* potrf info of S (written by cuSOLVER): 0, or k > 0 */
} sb_arrow_status;

/* Blocks of SB_ARROW_THREADS threads for a grid-stride loop over `items`. */
static inline unsigned sb_arrow_grid(int64_t items)
{
    int64_t blocks = (items + SB_ARROW_THREADS - 1) / SB_ARROW_THREADS;
    if (blocks < 1)
        blocks = 1;
    if (blocks > SB_ARROW_MAX_BLOCKS)
        blocks = SB_ARROW_MAX_BLOCKS;
    return (unsigned)blocks;
}

#endif
