/* Constants and plain structs shared by the resident-solve kernels
 * (cuda/rs_kernels.cuh), their launchers (cuda/rs_kernels.cu), the backend
 * (cuda/cuda_backend.cu) and the host simulation test (tests/gpu/sim_kernels.cpp).
 * No CUDA headers here: the simulation compiles this with a plain C++ compiler. */
#ifndef SB_RS_PARAMS_H
#define SB_RS_PARAMS_H

#include <stdint.h>

/* Width of a diagonal block of the blocked Cholesky and of a row block of the
 * chained triangular solves. 64 doubles square = 32 KB of shared memory. */
#define SB_RS_NB 64
/* Threads of the diagonal-block factorization: 64 rows x 8 column groups. */
#define SB_CHOL_THREADS 512
/* Threads of a triangular-solve block: 64 rows x 4 column groups. */
#define SB_TRSV_THREADS 256

/* info value written into a solve's info slot when a chained triangular-solve
 * block waited past SB_CHAIN_SPIN_CYCLES for its predecessor (a hang guard:
 * the kernel gives up instead of hanging the device). Factorization failures
 * use the LAPACK convention instead: info = k > 0, the leading minor of
 * order k is not positive definite. */
#define SB_INFO_CHAIN_TIMEOUT (-1000001)
/* About 4.8 s at 1.8 GHz; a normal wait is a few microseconds, and several
 * milliseconds under compute-sanitizer. */
#define SB_CHAIN_SPIN_CYCLES (1LL << 33)

/* Cross-block synchronisation of one chained triangular-solve launch.
 * flags[b] >= epoch: row block b of this launch has published its result.
 * Blocks take a ticket from *ticket in the order they start; ticket - ticket_base
 * is the block's logical index, so a block only ever waits on blocks that
 * started before it (no deadlock whatever order the hardware schedules them).
 * Every launch consumes exactly gridDim.x tickets and uses a fresh epoch, so
 * neither counter is ever reset. *abort != 0 after a timeout: waits stop. */
typedef struct sb_chain_sync {
    int *flags;                  /* one per row block, zeroed once at create */
    unsigned long long *ticket;  /* zeroed once at create */
    int *abort;                  /* zeroed once at create */
    unsigned long long ticket_base;
    int epoch;
} sb_chain_sync;

#endif
