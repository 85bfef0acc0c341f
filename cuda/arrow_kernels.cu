/* Host launchers of the arrow-Schur kernels; the kernels themselves and the
 * reasoning behind them are in arrow_kernels.cuh. */
#include "arrow_kernels.h"

#include "arrow_kernels.cuh"

cudaError_t sb_launch_arrow_row_chol(const double *Htt, int64_t n, int d, double ridge_t, double *L,
                                     int *row_info, double *row_logdiag, cudaStream_t stream)
{
    if (d < 1 || d > SB_ARROW_MAX_D)
        return cudaErrorInvalidValue;
    SB_LAUNCH(arrow_row_chol, sb_arrow_grid(n), SB_ARROW_THREADS, 0, stream)(Htt, n, d, ridge_t, L,
                                                                       row_info, row_logdiag);
    return cudaGetLastError();
}

cudaError_t sb_launch_arrow_row_forward(const double *L, const double *R, int64_t n, int d,
                                        int64_t m, double *X, cudaStream_t stream)
{
    if (d < 1 || d > SB_ARROW_MAX_D)
        return cudaErrorInvalidValue;
    SB_LAUNCH(arrow_row_forward, sb_arrow_grid(n * m), SB_ARROW_THREADS, 0, stream)(L, R, n, d, m, X);
    return cudaGetLastError();
}

cudaError_t sb_launch_arrow_row_backward_neg(const double *L, const double *x, int64_t n, int d,
                                             double *out, cudaStream_t stream)
{
    if (d < 1 || d > SB_ARROW_MAX_D)
        return cudaErrorInvalidValue;
    SB_LAUNCH(arrow_row_backward_neg, sb_arrow_grid(n), SB_ARROW_THREADS, 0, stream)(L, x, n, d, out);
    return cudaGetLastError();
}

cudaError_t sb_launch_arrow_schur_init(const double *Hbb, int64_t p, double ridge_b, double *S,
                                       cudaStream_t stream)
{
    SB_LAUNCH(arrow_schur_init, sb_arrow_grid(p * p), SB_ARROW_THREADS, 0, stream)(Hbb, p, ridge_b, S);
    return cudaGetLastError();
}

cudaError_t sb_launch_arrow_logdet_reduce(const int *row_info, const double *row_logdiag,
                                          int64_t n, const double *LS, int64_t p,
                                          sb_arrow_status *status, cudaStream_t stream)
{
    SB_LAUNCH(arrow_logdet_reduce, 1, SB_ARROW_REDUCE_THREADS, 0, stream)(row_info, row_logdiag, n, LS, p,
                                                                   status);
    return cudaGetLastError();
}
