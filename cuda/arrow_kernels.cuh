/* Device kernels of the CUDA arrow-Schur solve mode (cuda/arrow_backend.cu).
 *
 * Included by cuda/arrow_kernels.cu (which adds the host launchers) and by
 * the host simulation test tests/sim/sim_arrow.cpp, which runs these exact
 * kernels with one OS thread per CUDA thread and every block of a grid
 * running concurrently, in several start orders. Keep this file free of host
 * code and of CUDA headers.
 *
 * The library does the O(p²·n·d) and O(p³) work (DSYRK for Σ Y_iᵀY_i, potrf /
 * potrs for S); these kernels are the per-row work around it, where every
 * row block is tiny (d = 1..3 in the workloads, at most SB_ARROW_MAX_D) and
 * independent: one thread per row, or per (row, column of B). No kernel here
 * communicates across blocks, and the only reduction (logdet) runs in one
 * block in a fixed order, so every result is deterministic.
 *
 * Layouts (src/arrow.h): row-major throughout.
 *   Htt, L: n blocks of d×d, entry (r, c) of row i at [(i·d + r)·d + c];
 *           L lower with its upper part zero.
 *   B, Y:   n blocks of d×p, entry (r, j) of row i at [(i·d + r)·p + j]; the
 *           stack is an (n·d)×p row-major matrix = p×(n·d) column-major
 *           (leading dimension p) for cuBLAS.
 *   vectors over t (r_t, u, δt): entry r of row i at [i·d + r]. */
#ifndef SB_ARROW_KERNELS_CUH
#define SB_ARROW_KERNELS_CUH

#include "arrow_params.h"

/* L_i = chol(H_tt,i + ρ_t I), one thread per row, Cholesky–Crout (column by
 * column, reading the lower triangle of H_tt,i), the operation order of the
 * host mode's row factorization. row_logdiag[i] = Σ_r ln L_i[r][r].
 * A pivot that is not > 0 (or NaN) sets row_info[i] to its 1-based column
 * (LAPACK convention); the row's L is then the identity and its log-diagonal
 * 0, so everything downstream stays finite (the factorization is reported
 * as failed and its results discarded). */
__global__ void __launch_bounds__(SB_ARROW_THREADS)
arrow_row_chol(const double *__restrict__ Htt, int64_t n, int d, double ridge_t,
               double *__restrict__ L, int *__restrict__ row_info, double *__restrict__ row_logdiag)
{
    const int64_t stride = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        const double *h = Htt + i * d * d;
        double *l = L + i * d * d;
        int info = 0;
        double logdiag = 0.0;
        for (int c = 0; c < d; ++c) {
            double diag = h[c * d + c] + ridge_t;
            for (int k = 0; k < c; ++k)
                diag -= l[c * d + k] * l[c * d + k];
            if (!(diag > 0.0)) {
                info = c + 1;
                break;
            }
            const double lcc = sqrt(diag);
            l[c * d + c] = lcc;
            logdiag += log(lcc);
            for (int r = 0; r < c; ++r)
                l[r * d + c] = 0.0;
            for (int r = c + 1; r < d; ++r) {
                double v = h[r * d + c];
                for (int k = 0; k < c; ++k)
                    v -= l[r * d + k] * l[c * d + k];
                l[r * d + c] = v / lcc;
            }
        }
        if (info != 0) {
            for (int r = 0; r < d; ++r)
                for (int c = 0; c < d; ++c)
                    l[r * d + c] = r == c ? 1.0 : 0.0;
            logdiag = 0.0;
        }
        row_info[i] = info;
        row_logdiag[i] = logdiag;
    }
}

/* X_i = L_i⁻¹ R_i for n row blocks R_i of d×m (row-major, leading dimension
 * m): one thread per (row i, column j), forward substitution down the d
 * entries of that column. Threads of a warp take consecutive j, so the
 * loads and stores of R and X are coalesced. Used with m = p for
 * Y_i = L_i⁻¹B_i and with m = 1 for u_i = L_i⁻¹ r_t,i. */
__global__ void __launch_bounds__(SB_ARROW_THREADS)
arrow_row_forward(const double *__restrict__ L, const double *__restrict__ R, int64_t n, int d,
                  int64_t m, double *__restrict__ X)
{
    const int64_t stride = (int64_t)gridDim.x * blockDim.x;
    const int64_t items = n * m;
    for (int64_t idx = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; idx < items; idx += stride) {
        const int64_t i = idx / m, j = idx - i * m;
        const double *l = L + i * d * d;
        const double *rc = R + i * d * m + j;
        double *xc = X + i * d * m + j;
        for (int r = 0; r < d; ++r) {
            double v = rc[r * m];
            for (int k = 0; k < r; ++k)
                v -= l[r * d + k] * xc[k * m];
            xc[r * m] = v / l[r * d + r];
        }
    }
}

/* δt_i = −L_i⁻ᵀ x_i, one thread per row: back substitution on Lᵀ with the
 * sign folded in, δ[r] = (−x[r] − Σ_{k>r} L[k][r]·δ[k]) / L[r][r] (the same
 * rounding as negating the solution afterwards). */
__global__ void __launch_bounds__(SB_ARROW_THREADS)
arrow_row_backward_neg(const double *__restrict__ L, const double *__restrict__ x, int64_t n,
                       int d, double *__restrict__ out)
{
    const int64_t stride = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        const double *l = L + i * d * d;
        const double *xi = x + i * d;
        double *o = out + i * d;
        for (int r = d - 1; r >= 0; --r) {
            double v = -xi[r];
            for (int k = r + 1; k < d; ++k)
                v -= l[k * d + r] * o[k];
            o[r] = v / l[r * d + r];
        }
    }
}

/* S = H_ββ + ρ_β I, p×p. H_ββ is symmetric (src/arrow.h), so its row-major
 * array is also its column-major one and a straight copy is S in cuBLAS's
 * layout. */
__global__ void __launch_bounds__(SB_ARROW_THREADS)
arrow_schur_init(const double *__restrict__ Hbb, int64_t p, double ridge_b, double *__restrict__ S)
{
    const int64_t stride = (int64_t)gridDim.x * blockDim.x;
    const int64_t items = p * p;
    for (int64_t k = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; k < items; k += stride)
        S[k] = Hbb[k] + (k % (p + 1) == 0 ? ridge_b : 0.0);
}

/* One block of SB_ARROW_REDUCE_THREADS threads: thread t sums row_logdiag[k]
 * for k ≡ t and ln L_S[j][j] for j ≡ t (mod the block size), each in index
 * order, then a fixed binary tree over the threads: the same bits on every
 * run. Writes status->logdet = 2·(that sum) and status->rows_bad; leaves
 * status->schur_info (written by potrf) alone. L_S is p×p column-major. */
__global__ void __launch_bounds__(SB_ARROW_REDUCE_THREADS)
arrow_logdet_reduce(const int *__restrict__ row_info, const double *__restrict__ row_logdiag,
                    int64_t n, const double *__restrict__ LS, int64_t p,
                    sb_arrow_status *__restrict__ status)
{
    enum { T = SB_ARROW_REDUCE_THREADS };
    static_assert((T & (T - 1)) == 0, "the tree needs a power of two");
    __shared__ double part[T];
    __shared__ int bad[T];
    const int t = threadIdx.x;
    double s = 0.0;
    int nbad = 0;
    for (int64_t k = t; k < n; k += T) {
        s += row_logdiag[k];
        nbad += row_info[k] != 0;
    }
    for (int64_t j = t; j < p; j += T)
        s += log(LS[j * (p + 1)]);
    part[t] = s;
    bad[t] = nbad;
    __syncthreads();
    for (int w = T / 2; w > 0; w >>= 1) {
        if (t < w) {
            part[t] += part[t + w];
            bad[t] += bad[t + w];
        }
        __syncthreads();
    }
    if (t == 0) {
        status->logdet = 2.0 * part[0];
        status->rows_bad = bad[0];
    }
}

#endif
