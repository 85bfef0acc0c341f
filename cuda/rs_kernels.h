/* Host launchers of the resident-solve kernels (cuda/rs_kernels.cuh). Each
 * enqueues one kernel on `stream` and returns cudaGetLastError(), so a bad
 * launch configuration is reported at the call site. */
#ifndef SB_RS_KERNELS_H
#define SB_RS_KERNELS_H

#include <stdint.h>

#include <cuda_runtime.h>

#include "rs_params.h"

/* Xs = Xt·diag(sqrt(w)), Xt p×n column-major. */
cudaError_t sb_launch_scale_cols_sqrtw(const double *Xt, int64_t p, int64_t n, const double *w,
                                       double *Xs, cudaStream_t stream);
/* A[i,i] += v, A N×N with leading dimension N. */
cudaError_t sb_launch_add_diag(double *A, int64_t N, double v, cudaStream_t stream);
/* lower(M) = lower(K) + diag(ridge / w), n×n. */
cudaError_t sb_launch_dual_shift(const double *K, int64_t n, const double *w, double ridge,
                                 double *M, cudaStream_t stream);
/* count doubles in [-1, 1), none zero. */
cudaError_t sb_launch_fill_pseudorandom(double *a, int64_t count, uint64_t seed,
                                        cudaStream_t stream);
/* Factor the jb×jb (jb <= SB_RS_NB) diagonal block at A in place; a
 * non-positive pivot writes col0 + k + 1 into *info (if still 0). */
cudaError_t sb_launch_chol_diag(double *A, int64_t lda, int jb, int col0, int *info,
                                cudaStream_t stream);

/* Device state of the chained triangular solves, owned by the caller. */
typedef struct sb_chain {
    int *flags;                  /* ceil(N_max / SB_RS_NB) ints, zeroed */
    unsigned long long *ticket;  /* zeroed */
    int *abort;                  /* zeroed */
    double *linv;                /* ceil(N_max / SB_RS_NB) · 64·64 doubles */
    int nblk_max;
    unsigned long long ticket_base; /* tickets consumed by earlier launches */
    int epoch;                      /* epoch of the latest launch */
} sb_chain;

/* b <- L⁻ᵀ L⁻¹ b for the lower Cholesky factor L (N×N, leading dimension lda),
 * two launches; a waiting block that times out writes SB_INFO_CHAIN_TIMEOUT
 * into *info. */
cudaError_t sb_launch_chol_solve_chained(const double *L, int64_t lda, int N, double *b,
                                         sb_chain *chain, int *info, cudaStream_t stream);

#endif
