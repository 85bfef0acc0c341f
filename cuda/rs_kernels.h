/* Host launchers of the resident-solve kernels (cuda/rs_kernels.cuh,
 * cuda/rs_tiled.cuh). Each enqueues its kernels on `stream` and returns
 * cudaGetLastError(), so a bad launch configuration is reported at the call
 * site. C linkage: tests/gpu/rs_backend_test.c (plain C) calls them too. */
#ifndef SB_RS_KERNELS_H
#define SB_RS_KERNELS_H

#include <stdint.h>

#include <cuda_runtime.h>

#include "rs_params.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Xs = Xt·diag(sqrt(w)), Xt p×n column-major. */
cudaError_t sb_launch_scale_cols_sqrtw(const double *Xt, int64_t p, int64_t n, const double *w,
                                       double *Xs, cudaStream_t stream);
/* A[i,i] += v, A N×N with leading dimension lda. */
cudaError_t sb_launch_add_diag(double *A, int64_t N, int64_t lda, double v, cudaStream_t stream);
/* lower(M) = lower(K) + diag(ridge / w), n×n; K has leading dimension n, M ldm.
 * border: NULL, or n values written as row n of M (ldm >= n + 1: the bordered
 * matrix of the tiled factorization). */
cudaError_t sb_launch_dual_shift(const double *K, int64_t n, const double *w, double ridge,
                                 double *M, int64_t ldm, const double *border, cudaStream_t stream);
/* count doubles in [-1, 1), none zero. */
cudaError_t sb_launch_fill_pseudorandom(double *a, int64_t count, uint64_t seed,
                                        cudaStream_t stream);
/* slots[*next] = *scratch (if *next < nslots), *scratch = 0, ++*next: one
 * thread, on the device (rs_info_commit in rs_kernels.cuh). */
cudaError_t sb_launch_info_commit(int *slots, int nslots, int *scratch, unsigned *next,
                                  cudaStream_t stream);
/* Factor the jb×jb (jb <= SB_RS_NB) diagonal block at A in place; a
 * non-positive pivot writes col0 + k + 1 into *info (if still 0). */
cudaError_t sb_launch_chol_diag(double *A, int64_t lda, int jb, int col0, int *info,
                                cudaStream_t stream);

/* Device state of the chained triangular solves, owned by the caller:
 * sb_chain_alloc allocates and zeroes it, sb_chain_free frees it. After
 * that no host code writes it: every launch leaves it ready for the next
 * (see sb_chain_ctl in rs_params.h), so launches may be captured in a CUDA
 * graph and replayed. */
typedef struct sb_chain {
    unsigned *flags;      /* nblk_max flags */
    sb_chain_ctl *ctl;
    double *linv;         /* nblk_max · 64·64 doubles: L_ii⁻¹ per row block */
    int nblk_max;
    long long test_start_delay; /* test-only, see sb_chain_sync; 0 in the tool */
} sb_chain;

/* For systems of order up to n_max (row blocks of 64). */
cudaError_t sb_chain_alloc(sb_chain *chain, int n_max, cudaStream_t stream);
void sb_chain_free(sb_chain *chain);

/* b <- L⁻ᵀ L⁻¹ b for the lower Cholesky factor L (N×N, leading dimension lda),
 * two launches (the forward one also stores every L_ii⁻¹ in chain->linv); a
 * waiting block that times out writes SB_INFO_CHAIN_TIMEOUT into *info. */
cudaError_t sb_launch_chol_solve_chained(const double *L, int64_t lda, int N, double *b,
                                         const sb_chain *chain, int *info, cudaStream_t stream);
/* b <- L⁻ᵀ b alone (one launch), with the L_ii⁻¹ already in chain->linv
 * (stored by the tiled factorization, or by a forward solve). */
cudaError_t sb_launch_chol_solve_bwd(const double *L, int64_t lda, int N, double *b,
                                     const sb_chain *chain, int *info, cudaStream_t stream);

/* Device state of the tiled factorization (rs_tiled.cuh), owned by the
 * caller, allocated and zeroed by sb_tiled_alloc for matrices of order up to
 * n_max; like sb_chain, no host write after that. grid: persistent blocks
 * per launch (the device's SM count, at most the number of tasks of n_max). */
typedef struct sb_tiled {
    unsigned *counts;     /* nt_max² tile counters */
    sb_chain_ctl *ctl;
    int nt_max;
    int grid;
    long long test_start_delay; /* test-only, see sb_chain_sync; 0 in the tool */
    sb_tiled_trace_rec *trace;  /* test-only task trace (rs_params.h); NULL in the tool */
} sb_tiled;

cudaError_t sb_tiled_alloc(sb_tiled *tiled, int n_max, int grid, cudaStream_t stream);
void sb_tiled_free(sb_tiled *tiled);

/* In-place lower Cholesky of the n×n matrix A (leading dimension lda, lower
 * triangle read and written), one launch. linv receives L_kk⁻¹ of every
 * 64-tile (the layout of sb_chain.linv: pass chain->linv to solve with
 * sb_launch_chol_solve_bwd afterwards). A non-positive pivot k writes k + 1
 * into *info (LAPACK convention; first failing column), a timeout
 * SB_INFO_CHAIN_TIMEOUT.
 * bordered = 1: A is the (N+1)×(N+1) bordered matrix [M b; bᵀ ·] with
 * n = N + 1: M in the leading N×N block, bᵀ in row N (A[N + c·lda] = b[c],
 * c < N); A[N + N·lda] is ignored. Afterwards the leading N×N block holds
 * the factor L of M, row N holds yᵀ = (L⁻¹b)ᵀ (also written to
 * border_out[0..N-1] when border_out is not NULL), A[N + N·lda] = 1, and
 * info only reports pivots of M. */
cudaError_t sb_launch_chol_tiled(double *A, int64_t lda, int n, int bordered, double *border_out,
                                 double *linv, const sb_tiled *tiled, int *info,
                                 cudaStream_t stream);

/* The primal tiled rep's build and factor in one launch: lower(G) =
 * Xt·diag(w)·Xtᵀ + ridge·I (p×p, Xt p×samples column-major, the Gram tasks
 * of rs_gram.cuh with `splits` as from sb_gram_splits and gram_work of
 * sb_gram_work_bytes bytes, rs_gram.h) into the leading p×p block of the
 * bordered (p+1)×(p+1) matrix A, whose row p already holds the right-hand
 * side, then its tiled factorization as sb_launch_chol_tiled with n = p + 1
 * and bordered = 1. Factor tasks start as soon as the Gram tiles they read
 * are written: the Gram and the factorization overlap. */
cudaError_t sb_launch_chol_tiled_gram(double *A, int64_t lda, const double *Xt, int64_t p,
                                      int64_t samples, const double *w, double ridge, int splits,
                                      void *gram_work, double *border_out, double *linv,
                                      const sb_tiled *tiled, int *info, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#include "launch.h" /* SB_LAUNCH, at the end: no line above moves */

#endif
