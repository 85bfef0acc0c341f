/* Device kernels of resident-solve --precision mixed on the CUDA backend
 * (cuda/rs_mixed.cu drives them; docs/workloads.md §1, Precision).
 *
 * The solve factors the system in FP32 (cuSOLVER Xpotrf, CUDA_R_32F) and
 * refines x in FP64 on the device. One refinement round is
 *     Xpotrs(FP32) on c  ->  rsm_update: x += c; r = b − σ·x
 *     -> the FP64 residual products (dual: DSYMV with K; primal: DGEMV Xtᵀx,
 *        rsm_scale, DGEMV Xt·t)  ->  rsm_check
 * and rsm_check either declares convergence (LAPACK dsposv's criterion
 * max|r| ≤ max|x|·‖A‖∞·2⁻⁵³·√N), after which it writes c = 0 so that any
 * further scheduled round leaves x unchanged, or writes c = float(r) for the
 * next round. The host enqueues a fixed number of rounds per rep and reads
 * the status word together with β at the end, so a converging rep makes no
 * extra round trip.
 *
 * Included by cuda/rs_mixed.cu and by the CPU simulation
 * tests/gpu/sim_mixed.cpp (sim_cuda.h: blocks concurrent and out of order).
 * No host code and no CUDA headers here. Column-major, lower triangles. */
#ifndef SB_RS_MIXED_KERNELS_CUH
#define SB_RS_MIXED_KERNELS_CUH

#include "rs_mixed_params.h"

/* Grid-stride over count elements. */
#define RSM_FOR(i, count)                                                                       \
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (count);               \
         i += (int64_t)gridDim.x * blockDim.x)

/* dst = float(src), count entries (K -> Kf once per frame). */
__global__ void rsm_to_f32(const double *__restrict__ src, int64_t count, float *__restrict__ dst)
{
    RSM_FOR(i, count)
        dst[i] = (float)src[i];
}

/* Dual: lower(Af) = lower(Kf), diagonal float(K_cc + ridge/w_c) from the FP64 K.
 * Blocks stride over columns, threads over the rows c..n-1 of a column. */
__global__ void rsm_dual_shift_f32(const float *__restrict__ Kf, const double *__restrict__ K, int64_t n,
                                   const double *__restrict__ w, double ridge, float *__restrict__ Af)
{
    for (int64_t c = blockIdx.x; c < n; c += gridDim.x) {
        const float *kc = Kf + c * n;
        float *ac = Af + c * n;
        for (int64_t r = c + threadIdx.x; r < n; r += blockDim.x)
            ac[r] = r == c ? (float)(K[c + c * n] + ridge / w[c]) : kc[r];
    }
}

/* Primal: Xsf = float(Xt·diag(√w)), Xt p×n column-major. */
__global__ void rsm_scale_cols_sqrtw_f32(const double *__restrict__ Xt, int64_t p, int64_t n,
                                         const double *__restrict__ w, float *__restrict__ Xsf)
{
    for (int64_t i = blockIdx.x; i < n; i += gridDim.x) {
        const double s = sqrt(w[i]);
        const double *src = Xt + i * p;
        float *dst = Xsf + i * p;
        for (int64_t j = threadIdx.x; j < p; j += blockDim.x)
            dst[j] = (float)(s * src[j]);
    }
}

/* A[i,i] += v (FP32, N×N, leading dimension N). */
__global__ void rsm_add_diag_f32(float *A, int64_t N, double v)
{
    RSM_FOR(i, N)
        A[i + i * N] = (float)((double)A[i + i * N] + v);
}

/* sums[i] = Σ_j |A_ij| of the symmetric matrix whose lower triangle is stored
 * in A (N×N column-major): Σ_{j<i} |A[i + j·N]| + Σ_{j≥i} |A[j + i·N]|. One
 * thread per row; the first sum is coalesced across the threads of a block. */
template <typename T>
__device__ __forceinline__ void rsm_row_abs_sums_body(const T *A, int64_t N, double *sums)
{
    RSM_FOR(i, N) {
        double s = 0.0;
        for (int64_t j = 0; j < i; ++j)
            s += fabs((double)A[i + j * N]);
        for (int64_t j = i; j < N; ++j)
            s += fabs((double)A[j + i * N]);
        sums[i] = s;
    }
}

__global__ void rsm_row_abs_sums_f64(const double *A, int64_t N, double *sums) { rsm_row_abs_sums_body(A, N, sums); }
__global__ void rsm_row_abs_sums_f32(const float *A, int64_t N, double *sums) { rsm_row_abs_sums_body(A, N, sums); }

/* Max over the threads of one block; every thread gets the result. red is
 * blockDim.x doubles of shared memory. */
__device__ __forceinline__ double rsm_block_max(double v, double *red)
{
    red[threadIdx.x] = v;
    __syncthreads();
    for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s)
            red[threadIdx.x] = fmax(red[threadIdx.x], red[threadIdx.x + s]);
        __syncthreads();
    }
    const double m = red[0];
    __syncthreads();
    return m;
}

/* One block of SB_RSM_THREADS: *anrm = max_i (sums_i + dual·ridge/w_i), the
 * ∞-norm of the system (dual: row sums of |K| plus the shift, exact since
 * K's diagonal is ≥ 0; primal: row sums of the FP32 Gram, shift included). */
__global__ void __launch_bounds__(SB_RSM_THREADS)
rsm_anrm(const double *__restrict__ sums, const double *__restrict__ w, double ridge, int dual, int64_t N,
         double *anrm)
{
    __shared__ double red[SB_RSM_THREADS];
    double m = 0.0;
    for (int64_t i = threadIdx.x; i < N; i += blockDim.x)
        m = fmax(m, sums[i] + (dual ? ridge / w[i] : 0.0));
    m = rsm_block_max(m, red);
    if (threadIdx.x == 0)
        *anrm = m;
}

/* Start of a mixed solve: c = float(b), x = 0, status = {refining, 0}. */
__global__ void rsm_start(const double *__restrict__ b, int64_t N, float *__restrict__ c, double *__restrict__ x,
                          int *status)
{
    RSM_FOR(i, N) {
        c[i] = (float)b[i];
        x[i] = 0.0;
    }
    if (blockIdx.x == 0 && threadIdx.x == 0) {
        status[SB_RSM_STATE] = SB_RSM_REFINING;
        status[SB_RSM_ITERATIONS] = 0;
    }
}

/* x += c; r = b − sigma·x (sigma: the ridge for the primal, 0 for the dual). */
__global__ void rsm_update(const float *__restrict__ c, const double *__restrict__ b, double sigma, int64_t N,
                           double *__restrict__ x, double *__restrict__ r)
{
    RSM_FOR(i, N) {
        const double xi = x[i] + (double)c[i];
        x[i] = xi;
        r[i] = b[i] - sigma * xi;
    }
}

/* t_i *= w_i (primal residual: W·(Xtᵀx)). */
__global__ void rsm_scale(double *__restrict__ t, const double *__restrict__ w, int64_t n)
{
    RSM_FOR(i, n)
        t[i] *= w[i];
}

/* One block of SB_RSM_THREADS, after the residual products of round `round`
 * (0: the first FP32 solve). Dual: r −= (ridge/w)⊙x first. Then, unless an
 * earlier round already settled the solve:
 *   - the FP32 factorization failed (*info32 != 0) or r or x is not finite:
 *     state FAILED (the host re-solves in FP64);
 *   - max|r| ≤ max|x|·anrm·2⁻⁵³·√N: state CONVERGED, iterations = round;
 *   - else c = float(r) for the next correction.
 * A settled solve gets c = 0, so later scheduled rounds change nothing. */
__global__ void __launch_bounds__(SB_RSM_THREADS)
rsm_check(double *__restrict__ r, const double *__restrict__ x, const double *__restrict__ w, double ridge,
          int dual, int64_t N, const double *anrm, const int *info32, int round, int *status,
          float *__restrict__ c)
{
    __shared__ double red[SB_RSM_THREADS];
    __shared__ int settled;
    if (threadIdx.x == 0)
        settled = status[SB_RSM_STATE] != SB_RSM_REFINING;
    __syncthreads();
    const bool was_settled = settled != 0;
    double rn = 0.0, xn = 0.0, bad = 0.0;
    if (!was_settled) {
        for (int64_t i = threadIdx.x; i < N; i += blockDim.x) {
            double ri = r[i];
            if (dual) {
                ri -= ridge / w[i] * x[i];
                r[i] = ri;
            }
            if (!isfinite(ri) || !isfinite(x[i]))
                bad = 1.0;
            rn = fmax(rn, fabs(ri));
            xn = fmax(xn, fabs(x[i]));
        }
    }
    rn = rsm_block_max(rn, red);
    xn = rsm_block_max(xn, red);
    bad = rsm_block_max(bad, red);
    if (threadIdx.x == 0 && !was_settled) {
        if (*info32 != 0 || bad != 0.0) {
            status[SB_RSM_STATE] = SB_RSM_FAILED;
            status[SB_RSM_ITERATIONS] = round;
            settled = 1;
        } else if (rn <= xn * (*anrm * 0x1p-53 * sqrt((double)N))) {
            status[SB_RSM_STATE] = SB_RSM_CONVERGED;
            status[SB_RSM_ITERATIONS] = round;
            settled = 1;
        }
    }
    __syncthreads();
    const bool now_settled = settled != 0;
    for (int64_t i = threadIdx.x; i < N; i += blockDim.x)
        c[i] = now_settled ? 0.0f : (float)r[i];
}

#undef RSM_FOR

#endif
