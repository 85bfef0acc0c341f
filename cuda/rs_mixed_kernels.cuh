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
 * tests/sim/sim_mixed.cpp (sim_cuda.h: blocks concurrent and out of order).
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
 * in A (N×N column-major), in two launches with no atomics (a fixed order of
 * summation, so the tolerance it feeds is the same bits every run), every
 * global read coalesced:
 *   rsm_abs_sums_tiles: one block of SB_RSM_BLOCK threads per 64×64 tile
 *     (I, J), I >= J, of the lower triangle (block b = I(I+1)/2 + J). It
 *     writes part[J·N + i] = Σ_{j in tile column J} |A_ij| for the tile's
 *     rows i, and when I > J also part[I·N + j] = Σ_{i in tile row I} |A_ij|
 *     for its columns j (those elements are A_ji). A diagonal tile sums
 *     each row over the whole symmetric tile. So for row i of tile row I,
 *     part[T·N + i] comes from tile (I, T) for T <= I and from (T, I) for
 *     T > I: every entry of part, nt·N of them, written once.
 *   rsm_abs_sums_reduce: sums[i] = Σ_{T < nt} part[T·N + i], T in order.
 * (One thread per row, the former form, read every row's upper half as a
 * column: 32 rows' columns per warp load, uncoalesced, and only N threads.) */
#define RSM_ST 64   /* tile order */
#define RSM_STLD 65 /* its shared-memory leading dimension */
__device__ __forceinline__ int64_t rsm_sums_tiles(int64_t N) { return (N + RSM_ST - 1) / RSM_ST; }

template <typename T>
__device__ __forceinline__ void rsm_abs_sums_tiles_body(const T *A, int64_t N, double *part)
{
    __shared__ double S[RSM_ST * RSM_STLD];
    const int64_t b = blockIdx.x;
    int64_t I = (int64_t)((sqrt(8.0 * (double)b + 1.0) - 1.0) / 2.0);
    while (I * (I + 1) / 2 > b)
        --I;
    while ((I + 1) * (I + 2) / 2 <= b)
        ++I;
    const int64_t J = b - I * (I + 1) / 2;
    const int64_t row0 = I * RSM_ST, col0 = J * RSM_ST;
    const int rows = (int)(N - row0 < RSM_ST ? N - row0 : (int64_t)RSM_ST);
    const int cols = (int)(N - col0 < RSM_ST ? N - col0 : (int64_t)RSM_ST);
    const bool diag = I == J;
    for (int q = threadIdx.x; q < RSM_ST * RSM_ST; q += blockDim.x) {
        const int r = q % RSM_ST, c = q / RSM_ST;
        if (diag && r < c)
            continue; /* the mirror of (c, r), written below */
        const double v = (r < rows && c < cols) ? fabs((double)A[row0 + r + (col0 + c) * N]) : 0.0;
        S[r + c * RSM_STLD] = v;
        if (diag)
            S[c + r * RSM_STLD] = v;
    }
    __syncthreads();
    for (int t = threadIdx.x; t < 2 * RSM_ST; t += blockDim.x) {
        if (t < RSM_ST) { /* row t of the tile over its columns */
            double s = 0.0;
            for (int c = 0; c < RSM_ST; ++c)
                s += S[t + c * RSM_STLD];
            if (t < rows)
                part[J * N + row0 + t] = s;
        } else if (!diag) { /* column t - 64 over the tile's rows */
            const int c = t - RSM_ST;
            double s = 0.0;
            for (int r = 0; r < RSM_ST; ++r)
                s += S[r + c * RSM_STLD];
            if (c < cols)
                part[I * N + col0 + c] = s;
        }
    }
}

__global__ void rsm_abs_sums_tiles_f64(const double *A, int64_t N, double *part) { rsm_abs_sums_tiles_body(A, N, part); }
__global__ void rsm_abs_sums_tiles_f32(const float *A, int64_t N, double *part) { rsm_abs_sums_tiles_body(A, N, part); }

__global__ void rsm_abs_sums_reduce(const double *__restrict__ part, int64_t N, double *__restrict__ sums)
{
    const int64_t nt = rsm_sums_tiles(N);
    RSM_FOR(i, N) {
        double s = 0.0;
        for (int64_t T = 0; T < nt; ++T)
            s += part[T * N + i];
        sums[i] = s;
    }
}

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
