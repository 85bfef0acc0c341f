/* Host launchers of the arrow-Schur kernels (cuda/arrow_kernels.cuh). Each
 * enqueues one kernel on `stream` and returns cudaGetLastError(), so a bad
 * launch configuration is reported at the call site. */
#ifndef SB_ARROW_KERNELS_H
#define SB_ARROW_KERNELS_H

#include <stdint.h>

#include <cuda_runtime.h>

#include "arrow_params.h"

/* L_i = chol(H_tt,i + ridge_t I) per row; row_info[i] (0 or the failing
 * column, 1-based) and row_logdiag[i] = Σ ln diag(L_i). */
cudaError_t sb_launch_arrow_row_chol(const double *Htt, int64_t n, int d, double ridge_t, double *L,
                                     int *row_info, double *row_logdiag, cudaStream_t stream);
/* X_i = L_i⁻¹ R_i for row blocks R_i of d×m (m = p: Y = L⁻¹B; m = 1: u = L⁻¹r_t). */
cudaError_t sb_launch_arrow_row_forward(const double *L, const double *R, int64_t n, int d,
                                        int64_t m, double *X, cudaStream_t stream);
/* out_i = −L_i⁻ᵀ x_i per row. */
cudaError_t sb_launch_arrow_row_backward_neg(const double *L, const double *x, int64_t n, int d,
                                             double *out, cudaStream_t stream);
/* S = Hbb + ridge_b I (p×p, Hbb symmetric). */
cudaError_t sb_launch_arrow_schur_init(const double *Hbb, int64_t p, double ridge_b, double *S,
                                       cudaStream_t stream);
/* status->logdet = 2Σ row_logdiag + 2Σ ln diag(LS), status->rows_bad = #rows
 * with row_info != 0; one block, fixed summation order. */
cudaError_t sb_launch_arrow_logdet_reduce(const int *row_info, const double *row_logdiag,
                                          int64_t n, const double *LS, int64_t p,
                                          sb_arrow_status *status, cudaStream_t stream);

#include "launch.h" /* SB_LAUNCH, at the end: no line above moves */

#endif
