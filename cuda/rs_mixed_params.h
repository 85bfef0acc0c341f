/* Constants shared by the mixed-precision resident-solve kernels
 * (cuda/rs_mixed_kernels.cuh), their driver (cuda/rs_mixed.cu) and the CPU
 * simulation (tests/sim/sim_mixed.cpp). No CUDA headers here. */
#ifndef SB_RS_MIXED_PARAMS_H
#define SB_RS_MIXED_PARAMS_H

/* Threads of the single-block kernels (rsm_anrm, rsm_check): a power of two. */
#define SB_RSM_THREADS 512
/* Threads of the grid-stride kernels. */
#define SB_RSM_BLOCK 256

/* The status word of a mixed solve: two ints in device memory. */
enum {
    SB_RSM_STATE = 0,      /* one of the states below */
    SB_RSM_ITERATIONS = 1, /* the round that settled the solve (corrections applied) */
    SB_RSM_STATUS_INTS = 2
};
enum { SB_RSM_REFINING = 0, SB_RSM_CONVERGED = 1, SB_RSM_FAILED = 2 };

#endif
