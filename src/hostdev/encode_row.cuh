/* The encode fast path's per-row routine (docs/workloads.md §5), written once
 * as __host__ __device__ code and used by the host fast path
 * (src/host/host_encode.c, C11, OpenMP over rows), the CUDA kernels
 * (cuda/encode_kernels.cuh, one thread per row) and the kernels' CPU
 * simulation (tests/sim/sim_encode.cpp). Plain C: no templates, no classes,
 * no CUDA headers; compiles as C11, C++ and CUDA.
 *
 * Everything is in m-space. Per row the routine receives y = B_k·x (m
 * numbers, from one GEMM over the batch), ‖x‖², the amplitude z and the
 * atom's tables (G = B_kB_kᵀ, S_k, the atlas), and never touches a p-vector:
 *   r = z·B_kᵀΦ(t) − x                       (the p-space residual)
 *   v = B_k·r = z·GΦ − y                     (its m-space image)
 *   ‖r‖² = ‖x‖² + z·(z·ΦᵀGΦ − 2·Φᵀy)
 *   g_a = J_aᵀr = z·∂_aΦᵀv                   (gradient of ½‖r‖²)
 *   H_ab = J_aᵀJ_b + z·Σ_j ∂_a∂_bΦ_j (B_k,j·r)
 *        = z²·∂_aΦᵀG∂_bΦ + z·∂_a∂_bΦᵀv       (full Hessian, not Gauss–Newton)
 *   routing Σ(z·m₁ − x)² = ‖x‖² + z·(z·‖m₁‖² − 2·Φ_cᵀy)      (m₁ = B_kᵀΦ_c)
 *   warm start t̂ = t_c + Minv·(∂Φ_cᵀ(y − z·GΦ_c))/z
 *     (A₁(x − z·m₁)/z with J₁·w = (∂_aΦ_cᵀB_k w)_a and B_k(x − z·m₁) = y − z·GΦ_c).
 * Cost per row O(charts·m + candidates·steps·(d+1)·m²), independent of p.
 *
 * The decisions are the reference's (src/oracle/oracle_encode.c), step for step;
 * the small algebra differs but is equivalent (δ by Cholesky, λ_min in closed
 * form or by Jacobi, sums in m-space), so results agree to rounding: t within
 * ~1e-12 on generated data. Two things can differ without affecting t:
 *   - ‖r‖² is a difference of terms of size ‖x‖², so the m-space ‖r‖ cannot
 *     resolve residuals below ~3e-7·‖x‖ (SB_ENC_ERR2_FLOOR): such rows report
 *     recon_err up to that much off the reference's p-space value;
 *   - when two candidates converge to the same minimum their errors differ by
 *     rounding only, and the one kept (so chart and h, which is taken at
 *     acceptance) can differ from the reference's choice.
 *
 * Layouts (src/encode.h): atlas tables per (atom k, chart c) at index
 * k·charts + c (phi ·m, dphi ·d·m a-major, Minv ·d·d); G per atom m×m; t per
 * row d. */
#ifndef SB_ENCODE_ROW_CUH
#define SB_ENCODE_ROW_CUH

#include <math.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
#include "encode.h"
#ifdef __cplusplus
}
#endif

#if defined(__CUDACC__)
#define SB_HD __host__ __device__
#else
#define SB_HD
#endif
#define SB_ENC_FN static inline SB_HD

#define SB_ENC_TWO_PI 6.283185307179586476925286766559
/* Second-order packing of a ≤ b for d ≤ SB_ENCODE_MAX_D. */
#define SB_ENC_MAX_PAIRS (SB_ENCODE_MAX_D * (SB_ENCODE_MAX_D + 1) / 2)
/* Largest d·m and d(d+1)/2·m over the bases the fast path accepts (d ≤ 4,
 * m ≤ 64): m = C(d+D, d) ≤ 64 means m ≤ 64, 55, 56, 35 for d = 1..4, so
 * d·m ≤ 168 (d = 3, m = 56) and d(d+1)/2·m ≤ 350 (d = 4, m = 35). Sizing the
 * per-point arrays by these rather than d·64 keeps the CUDA kernel's local
 * frame small. */
#define SB_ENC_MAX_DM 168
#define SB_ENC_MAX_PAIRS_M 350
/* Relative resolution of the m-space ‖r‖²: its three terms (‖x‖², z²ΦᵀGΦ,
 * 2zΦᵀy) are each about ‖x‖² near a fit and carry rounding of a few ε·√p
 * relative (y comes from a length-p GEMM), so an ‖r‖² below 1e-13·‖x‖²
 * (‖r‖ ≲ 3e-7·‖x‖) cannot be told from 0. The candidate search stops there
 * as the reference stops at ‖r‖ ≤ 1e-11(1 + ‖x‖): both mean "this candidate
 * fits x to rounding"; they differ only for rows whose true residual lies
 * between the two (none in generated data: its noise is 0 or far above). */
#define SB_ENC_ERR2_FLOOR 1e-13
/* Jacobi sweeps for λ_min at d = 3, 4 (cyclic Jacobi converges quadratically:
 * 6 sweeps reach rounding level for 4×4; the rest is a safety margin). */
#define SB_ENC_JACOBI_SWEEPS 16

/* The atlas and decoder constants the routine reads, as plain pointers (host
 * or device memory: the host fast path fills it from sb_encode_atlas, the
 * CUDA backend with its staged copies). */
typedef struct sb_encode_tables {
    int d, D, m, basis, charts;
    double radius;
    /* euclidean basis plan (sb_enc_plan): monomial j ≥ 1 is
     * t[axis[j]]·(monomial parent[j]), its first nonzero axis times the
     * monomial one degree lower; derivatives follow by the product rule. */
    unsigned char parent[SB_ENCODE_MAX_M], axis[SB_ENCODE_MAX_M];
    const double *centre; /* charts·d */
    const double *phi;    /* K·charts·m */
    const double *dphi;   /* K·charts·d·m */
    const double *Minv;   /* K·charts·d·d */
    const double *beta_c; /* K·charts */
    const double *m1_sq;  /* K·charts */
    const double *S;      /* K */
    const double *G;      /* K·m·m */
    const double *moments; /* charts·4: M_0..M_3 per chart (sb_enc_moments_fill) */
} sb_encode_tables;

/* One row's outcome. */
typedef struct sb_encode_row_out {
    double t[SB_ENCODE_MAX_D];
    double h, err;
    int32_t chart, steps;
} sb_encode_row_out;

/* ------------------------------- basis ------------------------------- */

SB_ENC_FN int sb_enc_basis_size(int basis, int d, int D)
{
    if (basis == SB_BASIS_PERIODIC)
        return 2 * D + 1;
    long c = 1; /* C(d + D, d), exact at every step */
    for (int i = 1; i <= d; ++i)
        c = c * (D + i) / i;
    return (int)c;
}

/* Next exponent vector of the same total degree in lexicographic order with
 * t₀'s exponent descending ((2,0,0) (1,1,0) (1,0,1) (0,2,0) (0,1,1) (0,0,2));
 * 0 when alpha was the last one. */
SB_ENC_FN int sb_enc_next_exponent(int d, int *alpha)
{
    int i = d - 2;
    while (i >= 0 && alpha[i] == 0)
        --i;
    if (i < 0)
        return 0;
    int rest = 0;
    for (int q = i + 1; q < d; ++q) {
        rest += alpha[q];
        alpha[q] = 0;
    }
    alpha[i] -= 1;
    alpha[i + 1] = rest + 1;
    return 1;
}

/* The plan of the euclidean basis of tb (d, D, m set): for each monomial
 * j ≥ 1, its first nonzero axis a and the index of the monomial with that
 * exponent lowered by one. Built once per atlas on the host (O(m²·d)). */
SB_ENC_FN void sb_enc_plan(sb_encode_tables *tb)
{
    int alpha[SB_ENCODE_MAX_M][SB_ENCODE_MAX_D], deg[SB_ENCODE_MAX_M];
    for (int j = 0; j < SB_ENCODE_MAX_M; ++j)
        tb->parent[j] = tb->axis[j] = 0;
    if (tb->basis == SB_BASIS_PERIODIC)
        return;
    const int d = tb->d;
    int e[SB_ENCODE_MAX_D], j = 0;
    for (int g = 0; g <= tb->D && j < SB_ENCODE_MAX_M; ++g) {
        e[0] = g;
        for (int c = 1; c < d; ++c)
            e[c] = 0;
        do {
            for (int c = 0; c < d; ++c)
                alpha[j][c] = e[c];
            deg[j] = g;
            ++j;
        } while (j < SB_ENCODE_MAX_M && sb_enc_next_exponent(d, e));
    }
    for (int q = 1; q < j; ++q) {
        int a = 0;
        while (alpha[q][a] == 0)
            ++a;
        for (int r = 0; r < q; ++r) {
            if (deg[r] != deg[q] - 1)
                continue;
            int same = 1;
            for (int c = 0; c < d; ++c)
                same &= alpha[r][c] == alpha[q][c] - (c == a);
            if (same) {
                tb->parent[q] = (unsigned char)r;
                tb->axis[q] = (unsigned char)a;
                break;
            }
        }
    }
}

/* Φ(t) (m); with order ≥ 1 also ∂_aΦ (d·m, a-major); with order 2 also
 * ∂_a∂_bΦ for a ≤ b packed row by row (pair q = 0 for (0,0), 1 for (0,1), …;
 * d(d+1)/2·m). Euclidean: the plan's recursion Φ_j = t_a·Φ_P,
 * ∂_bΦ_j = t_a·∂_bΦ_P + [b = a]·Φ_P,
 * ∂_b∂_cΦ_j = t_a·∂_b∂_cΦ_P + [b = a]·∂_cΦ_P + [c = a]·∂_bΦ_P.
 * Periodic: sin/cos(2πνt) and their derivatives directly. */
SB_ENC_FN void sb_enc_basis(const sb_encode_tables *tb, const double *t, int order, double *phi, double *dphi,
                            double *d2phi)
{
    const int d = tb->d, m = tb->m;
    if (tb->basis == SB_BASIS_PERIODIC) {
        phi[0] = 1.0;
        if (order >= 1)
            dphi[0] = 0.0;
        if (order >= 2)
            d2phi[0] = 0.0;
        for (int f = 1; f <= tb->D; ++f) {
            const double w = SB_ENC_TWO_PI * (double)f, s = sin(w * t[0]), c = cos(w * t[0]);
            phi[2 * f - 1] = s;
            phi[2 * f] = c;
            if (order >= 1) {
                dphi[2 * f - 1] = w * c;
                dphi[2 * f] = -w * s;
            }
            if (order >= 2) {
                d2phi[2 * f - 1] = -w * w * s;
                d2phi[2 * f] = -w * w * c;
            }
        }
        return;
    }
    phi[0] = 1.0;
    for (int j = 1; j < m; ++j)
        phi[j] = t[tb->axis[j]] * phi[tb->parent[j]];
    if (order < 1)
        return;
    for (int b = 0; b < d; ++b) {
        double *db = dphi + b * m;
        db[0] = 0.0;
        for (int j = 1; j < m; ++j) {
            const int a = tb->axis[j], P = tb->parent[j];
            db[j] = t[a] * db[P] + (b == a ? phi[P] : 0.0);
        }
    }
    if (order < 2)
        return;
    int q = 0;
    for (int b = 0; b < d; ++b)
        for (int c = b; c < d; ++c, ++q) {
            double *dq = d2phi + q * m;
            const double *db = dphi + b * m, *dc = dphi + c * m;
            dq[0] = 0.0;
            for (int j = 1; j < m; ++j) {
                const int a = tb->axis[j], P = tb->parent[j];
                dq[j] = t[a] * dq[P] + (b == a ? dc[P] : 0.0) + (c == a ? db[P] : 0.0);
            }
        }
}

/* The tables of a host-resident atlas (basis and degree from the problem),
 * the basis plan included. moments is left NULL: the caller owns that table
 * (charts·4 doubles, sb_enc_moments_fill). */
static inline sb_encode_tables sb_encode_tables_of(const sb_encode_atlas *atlas, int basis, int D)
{
    sb_encode_tables tb;
    tb.d = (int)atlas->d;
    tb.D = D;
    tb.m = (int)atlas->m;
    tb.basis = basis;
    tb.charts = (int)atlas->charts;
    tb.radius = atlas->radius;
    tb.centre = atlas->centre;
    tb.phi = atlas->phi;
    tb.dphi = atlas->dphi;
    tb.Minv = atlas->Minv;
    tb.beta_c = atlas->beta_c;
    tb.m1_sq = atlas->m1_sq;
    tb.S = atlas->S;
    tb.G = atlas->G;
    tb.moments = (const double *)0;
    sb_enc_plan(&tb);
    return tb;
}

/* -------------------------- small dense algebra -------------------------- */

/* Cholesky A = LLᵀ (d×d row-major, lower part read); 0 when A is not
 * positive definite (a pivot ≤ 0 or NaN). */
SB_ENC_FN int sb_enc_chol(int d, const double *A, double *L)
{
    for (int c = 0; c < d; ++c) {
        double diag = A[c * d + c];
        for (int k = 0; k < c; ++k)
            diag -= L[c * d + k] * L[c * d + k];
        if (!(diag > 0.0))
            return 0;
        const double lcc = sqrt(diag);
        L[c * d + c] = lcc;
        for (int r = 0; r < c; ++r)
            L[r * d + c] = 0.0;
        for (int r = c + 1; r < d; ++r) {
            double v = A[r * d + c];
            for (int k = 0; k < c; ++k)
                v -= L[r * d + k] * L[c * d + k];
            L[r * d + c] = v / lcc;
        }
    }
    return 1;
}

/* x = −(LLᵀ)⁻¹b */
SB_ENC_FN void sb_enc_chol_solve_neg(int d, const double *L, const double *b, double *x)
{
    double w[SB_ENCODE_MAX_D];
    for (int r = 0; r < d; ++r) {
        double v = b[r];
        for (int k = 0; k < r; ++k)
            v -= L[r * d + k] * w[k];
        w[r] = v / L[r * d + r];
    }
    for (int r = d - 1; r >= 0; --r) {
        double v = w[r];
        for (int k = r + 1; k < d; ++k)
            v -= L[k * d + r] * x[k];
        x[r] = v / L[r * d + r];
    }
    for (int r = 0; r < d; ++r)
        x[r] = -x[r];
}

/* Smallest eigenvalue of a symmetric d×d matrix (d ≤ 4): closed form for
 * d = 1, 2 (the small root as det/λ_max, which keeps its relative accuracy
 * when the two roots differ greatly), cyclic Jacobi for d = 3, 4. */
SB_ENC_FN double sb_enc_lambda_min(int d, const double *A)
{
    if (d == 1)
        return A[0];
    if (d == 2) {
        const double a = A[0], b = A[1], c = A[3];
        const double mean = 0.5 * (a + c), half = 0.5 * (a - c);
        const double rad = sqrt(half * half + b * b);
        if (mean > 0.0)
            return (a * c - b * b) / (mean + rad);
        return mean - rad;
    }
    double s[SB_ENCODE_MAX_D][SB_ENCODE_MAX_D];
    double scale = 0.0;
    for (int r = 0; r < d; ++r)
        for (int c = 0; c < d; ++c) {
            s[r][c] = 0.5 * (A[r * d + c] + A[c * d + r]);
            scale += s[r][c] * s[r][c];
        }
    for (int sweep = 0; sweep < SB_ENC_JACOBI_SWEEPS; ++sweep) {
        double off = 0.0;
        for (int p = 0; p < d; ++p)
            for (int q = p + 1; q < d; ++q)
                off += s[p][q] * s[p][q];
        if (!(off > 1e-36 * scale)) /* off-diagonal below rounding of the entries */
            break;
        for (int p = 0; p < d; ++p)
            for (int q = p + 1; q < d; ++q) {
                const double apq = s[p][q];
                if (apq == 0.0)
                    continue;
                const double theta = (s[q][q] - s[p][p]) / (2.0 * apq);
                const double tt = (theta >= 0.0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1.0));
                const double c = 1.0 / sqrt(tt * tt + 1.0), sn = tt * c;
                s[p][p] -= tt * apq;
                s[q][q] += tt * apq;
                s[p][q] = s[q][p] = 0.0;
                for (int r = 0; r < d; ++r) {
                    if (r == p || r == q)
                        continue;
                    const double arp = s[r][p], arq = s[r][q];
                    s[r][p] = s[p][r] = c * arp - sn * arq;
                    s[r][q] = s[q][r] = sn * arp + c * arq;
                }
            }
    }
    double lo = s[0][0];
    for (int r = 1; r < d; ++r)
        lo = s[r][r] < lo ? s[r][r] : lo;
    return lo;
}

SB_ENC_FN double sb_enc_norm2(int d, const double *v)
{
    double s = 0.0;
    for (int a = 0; a < d; ++a)
        s += v[a] * v[a];
    return sqrt(s);
}

/* ‖x‖² of a p-vector in the CUDA kernel's order (encode_gather_sqnorm: one
 * warp per row; lane l sums x_c² for c ≡ l mod 32 in increasing c, then an
 * xor butterfly over the 32 lanes), so the host fast path and the kernel's
 * simulation produce the same bits. */
SB_ENC_FN double sb_enc_sqnorm_warp_order(const double *x, int64_t p)
{
    double lane[32];
    for (int l = 0; l < 32; ++l)
        lane[l] = 0.0;
    int64_t c = 0;
    for (; c + 32 <= p; c += 32)
        for (int l = 0; l < 32; ++l)
            lane[l] += x[c + l] * x[c + l];
    for (int l = 0; c + l < p; ++l)
        lane[l] += x[c + l] * x[c + l];
    for (int off = 16; off >= 1; off /= 2) {
        double next[32];
        for (int l = 0; l < 32; ++l)
            next[l] = lane[l] + lane[l ^ off];
        for (int l = 0; l < 32; ++l)
            lane[l] = next[l];
    }
    return lane[0];
}

/* ------------------------- certificate constants ------------------------- */

/* Derivative bounds M_0..M_3 of the chart centred at tc, re-implemented from
 * sb_encode_lipschitz_moments (src/encode_setup.c, which derives them): with
 * ρ = ‖t_c‖∞ + R,
 *   euclidean  M_g = dᵍ·Dᵍ·max(ρ^(D−g), 1)
 *   periodic   M_g = (2πD)^g.
 * Same operations in the same order as the setup's, so the same bits. They
 * depend on the chart only: the fast path tabulates them once per atlas
 * (tb->moments) instead of 8 pow() per candidate. */
SB_ENC_FN void sb_enc_chart_moments(int basis, int d, int D, const double *tc, double R, double *M)
{
    if (basis == SB_BASIS_PERIODIC) {
        const double w = SB_ENC_TWO_PI * (double)D;
        M[0] = 1.0;
        M[1] = w;
        M[2] = w * w;
        M[3] = w * w * w;
        return;
    }
    double rho = 0.0;
    for (int a = 0; a < d; ++a)
        rho = fmax(rho, fabs(tc[a]));
    rho += R;
    const double dD = (double)d * (double)D;
    for (int g = 0; g < 4; ++g)
        M[g] = pow(dD, (double)g) * fmax(pow(rho, (double)(D - g)), 1.0);
}

/* L = 3(Z·S·M₁)(Z·S·M₂) + (T + Z·S·M₀)(Z·S·M₃) (sb_encode_lipschitz): a
 * Lipschitz constant of the Hessian on the chart, with the row's own Z = z
 * and T = ‖x‖ (the per-row choice the reference uses). */
SB_ENC_FN double sb_enc_lipschitz_of(const double *M, double S, double Z, double T)
{
    return 3.0 * (Z * S * M[1]) * (Z * S * M[2]) + (T + Z * S * M[0]) * (Z * S * M[3]);
}

SB_ENC_FN double sb_enc_lipschitz(int basis, int d, int D, const double *tc, double R, double S, double Z,
                                  double T)
{
    double M[4];
    sb_enc_chart_moments(basis, d, D, tc, R, M);
    return sb_enc_lipschitz_of(M, S, Z, T);
}

/* tb->moments for every chart (charts·4), on the host. */
static inline void sb_enc_moments_fill(const sb_encode_tables *tb, double *moments)
{
    for (int c = 0; c < tb->charts; ++c)
        sb_enc_chart_moments(tb->basis, tb->d, tb->D, tb->centre + (int64_t)c * tb->d, tb->radius, moments + 4 * c);
}

/* Half-width ρ̄ of the box ‖t‖∞ ≤ ρ̄ on which the chart's L holds
 * (sb_encode_lipschitz_region): euclidean max(ρ, 1), periodic unbounded. */
SB_ENC_FN double sb_enc_lipschitz_region(int basis, int d, const double *tc, double R)
{
    if (basis == SB_BASIS_PERIODIC)
        return INFINITY;
    double rho = 0.0;
    for (int a = 0; a < d; ++a)
        rho = fmax(rho, fabs(tc[a]));
    return fmax(rho + R, 1.0);
}

/* out = G·x (m×m row-major), four rows per pass (then two, then one):
 * independent dot products, each summed in j order from 0 (the same bits as
 * one row at a time). */
SB_ENC_FN void sb_enc_gemv(int m, const double *G, const double *x, double *out)
{
    int i = 0;
    for (; i + 4 <= m; i += 4) {
        const double *g0 = G + i * m, *g1 = g0 + m, *g2 = g1 + m, *g3 = g2 + m;
        double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
        for (int j = 0; j < m; ++j) {
            const double xj = x[j];
            s0 += g0[j] * xj;
            s1 += g1[j] * xj;
            s2 += g2[j] * xj;
            s3 += g3[j] * xj;
        }
        out[i] = s0;
        out[i + 1] = s1;
        out[i + 2] = s2;
        out[i + 3] = s3;
    }
    if (i + 2 <= m) {
        const double *g0 = G + i * m, *g1 = g0 + m;
        double s0 = 0.0, s1 = 0.0;
        for (int j = 0; j < m; ++j) {
            s0 += g0[j] * x[j];
            s1 += g1[j] * x[j];
        }
        out[i] = s0;
        out[i + 1] = s1;
        i += 2;
    }
    if (i < m) {
        const double *gi = G + i * m;
        double s = 0.0;
        for (int j = 0; j < m; ++j)
            s += gi[j] * x[j];
        out[i] = s;
    }
}

/* ------------------------------ one point ------------------------------ */

/* Everything the navigation needs at one t: ‖r‖², gradient, Hessian. */
typedef struct sb_enc_point {
    double err2;
    double g[SB_ENCODE_MAX_D];
    double H[SB_ENCODE_MAX_D * SB_ENCODE_MAX_D];
} sb_enc_point;

/* err2 (and, with want_derivatives, the gradient and full Hessian) at t. */
SB_ENC_FN void sb_enc_point_eval(const sb_encode_tables *tb, const double *G, double z, const double *y,
                                 double xx, const double *t, int want_derivatives, sb_enc_point *pt)
{
    const int d = tb->d, m = tb->m;
    double phi[SB_ENCODE_MAX_M], dphi[SB_ENC_MAX_DM], d2phi[SB_ENC_MAX_PAIRS_M], v[SB_ENCODE_MAX_M];
    sb_enc_basis(tb, t, want_derivatives ? 2 : 0, phi, dphi, d2phi);
    double phi_G_phi = 0.0, phi_y = 0.0, w[SB_ENCODE_MAX_M];
    sb_enc_gemv(m, G, phi, w); /* GΦ */
    for (int i = 0; i < m; ++i) {
        const double u = w[i];
        phi_G_phi += phi[i] * u;
        phi_y += phi[i] * y[i];
        v[i] = z * u - y[i];
    }
    pt->err2 = xx + z * (z * phi_G_phi - 2.0 * phi_y);
    if (!want_derivatives)
        return;
    /* JJ_ab = ∂_aΦᵀ·(G∂_bΦ), one matrix-vector product per b */
    double JJ[SB_ENCODE_MAX_D * SB_ENCODE_MAX_D];
    for (int b = 0; b < d; ++b) {
        sb_enc_gemv(m, G, dphi + b * m, w); /* G∂_bΦ */
        for (int a = 0; a <= b; ++a) {
            const double *da = dphi + a * m;
            double s = 0.0;
            for (int i = 0; i < m; ++i)
                s += da[i] * w[i];
            JJ[a * d + b] = s;
        }
    }
    for (int a = 0; a < d; ++a) {
        double s = 0.0;
        for (int j = 0; j < m; ++j)
            s += dphi[a * m + j] * v[j];
        pt->g[a] = z * s;
    }
    int q = 0;
    for (int a = 0; a < d; ++a)
        for (int b = a; b < d; ++b, ++q) {
            double hv = 0.0; /* Σ_j ∂_a∂_bΦ_j v_j */
            for (int j = 0; j < m; ++j)
                hv += d2phi[q * m + j] * v[j];
            pt->H[a * d + b] = pt->H[b * d + a] = z * z * JJ[a * d + b] + z * hv;
        }
}

/* ------------------------------- the row ------------------------------- */

SB_ENC_FN double sb_enc_route_dist(const sb_encode_tables *tb, int64_t kc, double z, const double *y, double xx)
{
    const int m = tb->m;
    const double *phi = tb->phi + kc * m;
    double py = 0.0;
    for (int j = 0; j < m; ++j)
        py += phi[j] * y[j];
    return xx + z * (z * tb->m1_sq[kc] - 2.0 * py);
}

/* t̂ = t_c + Minv·(∂Φ_cᵀ(y − z·GΦ_c))/z for chart c of atom k. */
SB_ENC_FN void sb_enc_warm_start(const sb_encode_tables *tb, int k, int c, const double *G, double z, const double *y,
                                 double *t)
{
    const int d = tb->d, m = tb->m;
    const int64_t kc = (int64_t)k * tb->charts + c;
    const double *tc = tb->centre + (int64_t)c * d;
    const double *phic = tb->phi + kc * m, *dphic = tb->dphi + kc * d * m, *Minv = tb->Minv + kc * d * d;
    double rhs[SB_ENCODE_MAX_D], w[SB_ENCODE_MAX_M];
    sb_enc_gemv(m, G, phic, w);
    for (int i = 0; i < m; ++i)
        w[i] = y[i] - z * w[i]; /* B_k(x − z·m₁) */
    for (int a = 0; a < d; ++a) {
        const double *da = dphic + a * m;
        double s = 0.0;
        for (int i = 0; i < m; ++i)
            s += da[i] * w[i];
        rhs[a] = s;
    }
    for (int a = 0; a < d; ++a) {
        double s = 0.0;
        for (int b = 0; b < d; ++b)
            s += Minv[a * d + b] * rhs[b];
        t[a] = tc[a] + s / z;
    }
}

/* The Newton iterate of one candidate. */
typedef struct sb_enc_iter {
    double t[SB_ENCODE_MAX_D], delta[SB_ENCODE_MAX_D];
    double eta, h;
} sb_enc_iter;

/* Newton step at it->t: δ = −H⁻¹g (Cholesky), η = ‖δ‖₂, β = 1/λ_min(H),
 * h = β·η·L. 0 (abandon the candidate) when t or h is not finite or H is not
 * positive definite: no certificate exists there and δ is not a descent
 * direction. */
SB_ENC_FN int sb_enc_iterate_eval(const sb_encode_tables *tb, const double *G, double z, const double *y, double xx,
                                  double L, sb_enc_iter *it)
{
    const int d = tb->d;
    for (int a = 0; a < d; ++a)
        if (!(fabs(it->t[a]) < INFINITY))
            return 0;
    sb_enc_point pt;
    double Lf[SB_ENCODE_MAX_D * SB_ENCODE_MAX_D];
    sb_enc_point_eval(tb, G, z, y, xx, it->t, 1, &pt);
    if (!sb_enc_chol(d, pt.H, Lf))
        return 0;
    const double lmin = sb_enc_lambda_min(d, pt.H);
    if (!(lmin > 0.0))
        return 0;
    sb_enc_chol_solve_neg(d, Lf, pt.g, it->delta);
    it->eta = sb_enc_norm2(d, it->delta);
    it->h = (1.0 / lmin) * it->eta * L;
    return fabs(it->h) < INFINITY;
}

SB_ENC_FN double sb_enc_norminf(int d, const double *v)
{
    double s = 0.0;
    for (int a = 0; a < d; ++a)
        s = fmax(s, fabs(v[a]));
    return s;
}

/* One candidate chart c (docs/workloads.md §5, step for step as the
 * reference src/oracle/oracle_encode.c): warm start; navigate until accepted
 * (h ≤ ½, ‖t − t_c‖∞ ≤ R and the Kantorovich ball B(t, 2η) inside the box
 * where L holds) or abandoned (no progress: neither h_new ≤ (63/64)·h nor
 * quadratic convergence η < 1, η_new ≤ η²; an accepted-quality iterate whose
 * limit lies outside the chart, ‖t − t_c‖∞ > R + 2η; SB_ENCODE_MAX_NEWTON
 * steps; a failed evaluation); refine with SB_ENCODE_REFINE Newton steps,
 * skipped once ‖δ‖ ≤ 1e-12(1 + ‖t‖₂). *steps counts every update applied.
 * 1 when certified, with the refined t, h at acceptance and ‖r‖². */
SB_ENC_FN int sb_enc_candidate(const sb_encode_tables *tb, int k, int c, const double *G, double S, double z,
                               const double *y, double xx, double xnorm, double *t_out, double *h_accept,
                               double *err2, int32_t *steps)
{
    const int d = tb->d;
    const double *tc = tb->centre + (int64_t)c * d, R = tb->radius;
    sb_enc_iter it;
    sb_enc_warm_start(tb, k, c, G, z, y, it.t);
    const double L = sb_enc_lipschitz_of(tb->moments + 4 * c, S, z, xnorm);
    const double region = sb_enc_lipschitz_region(tb->basis, d, tc, R);
    if (!sb_enc_iterate_eval(tb, G, z, y, xx, L, &it))
        return 0;
    for (int nav = 0;; ++nav) {
        double off = 0.0;
        for (int a = 0; a < d; ++a)
            off = fmax(off, fabs(it.t[a] - tc[a]));
        const int ball_ok = sb_enc_norminf(d, it.t) + 2.0 * it.eta <= region;
        if (it.h <= 0.5 && ball_ok && off <= R)
            break;
        if (it.h <= 0.5 && ball_ok && off > R + 2.0 * it.eta)
            return 0;
        if (nav == SB_ENCODE_MAX_NEWTON)
            return 0;
        sb_enc_iter next = it;
        for (int a = 0; a < d; ++a)
            next.t[a] = it.t[a] + it.delta[a];
        ++*steps;
        if (!sb_enc_iterate_eval(tb, G, z, y, xx, L, &next))
            return 0;
        const int progress = next.h <= (63.0 / 64.0) * it.h || (it.eta < 1.0 && next.eta <= it.eta * it.eta);
        if (!progress)
            return 0;
        it = next;
    }
    *h_accept = it.h;
    for (int r = 0; r < SB_ENCODE_REFINE; ++r) {
        if (it.eta <= SB_ENCODE_REFINE_TOL * (1.0 + sb_enc_norm2(d, it.t)))
            break;
        for (int a = 0; a < d; ++a)
            it.t[a] += it.delta[a];
        ++*steps;
        if (r + 1 < SB_ENCODE_REFINE && !sb_enc_iterate_eval(tb, G, z, y, xx, L, &it))
            break;
    }
    sb_enc_point pt;
    sb_enc_point_eval(tb, G, z, y, xx, it.t, 0, &pt);
    *err2 = pt.err2 > 0.0 ? pt.err2 : 0.0;
    for (int a = 0; a < d; ++a)
        t_out[a] = it.t[a];
    return fabs(*err2) < INFINITY;
}

/* Encode one row: atom k, amplitude z, y = B_k·x, xx = ‖x‖². The result is
 * the reference's (src/oracle/oracle_encode.c) computed in m-space: route to the
 * SB_ENCODE_CANDIDATES nearest charts (ties to the lower chart), try them
 * nearest first, keep the certified candidate with the smallest ‖r‖ (ties to
 * the earlier), stop once that is ≤ 1e-11(1 + ‖x‖) or below the m-space
 * formula's resolution (SB_ENC_ERR2_FLOOR). Periodic t is wrapped to
 * [−0.5, 0.5). No certificate: t = 0, h = ∞, err = ‖x‖, chart = −1; steps
 * counts the Newton updates over every candidate tried. */
SB_ENC_FN void sb_encode_row(const sb_encode_tables *tb, int k, double z, const double *y, double xx,
                             sb_encode_row_out *out)
{
    const int d = tb->d, charts = tb->charts;
    const double xnorm = sqrt(xx);
    for (int a = 0; a < d; ++a)
        out->t[a] = 0.0;
    out->h = INFINITY;
    out->err = xnorm;
    out->chart = -1;
    out->steps = 0;
    if (!(z > 0.0) || !(z < INFINITY))
        return;
    const double *G = tb->G + (int64_t)k * tb->m * tb->m;
    const double S = tb->S[k];

    int cand[SB_ENCODE_CANDIDATES];
    double cdist[SB_ENCODE_CANDIDATES];
    int ncand = 0;
    /* eight charts per pass: independent dot products (the same sums, in
     * the same order, as one chart at a time) */
    const int m = tb->m;
    const double *phik = tb->phi + (int64_t)k * charts * m, *m1k = tb->m1_sq + (int64_t)k * charts;
    for (int c0 = 0; c0 < charts; c0 += 8) {
        double py[8];
        const int nc = charts - c0 < 8 ? charts - c0 : 8;
        const double *p0 = phik + (int64_t)c0 * m;
        if (nc == 8) {
            double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0, s4 = 0.0, s5 = 0.0, s6 = 0.0, s7 = 0.0;
            for (int j = 0; j < m; ++j) {
                const double yj = y[j];
                s0 += p0[j] * yj;
                s1 += p0[m + j] * yj;
                s2 += p0[2 * m + j] * yj;
                s3 += p0[3 * m + j] * yj;
                s4 += p0[4 * m + j] * yj;
                s5 += p0[5 * m + j] * yj;
                s6 += p0[6 * m + j] * yj;
                s7 += p0[7 * m + j] * yj;
            }
            py[0] = s0;
            py[1] = s1;
            py[2] = s2;
            py[3] = s3;
            py[4] = s4;
            py[5] = s5;
            py[6] = s6;
            py[7] = s7;
        } else {
            for (int q = 0; q < nc; ++q) {
                double s = 0.0;
                for (int j = 0; j < m; ++j)
                    s += p0[q * m + j] * y[j];
                py[q] = s;
            }
        }
        for (int q = 0; q < nc; ++q) {
            const int c = c0 + q;
            const double dist = xx + z * (z * m1k[c] - 2.0 * py[q]);
            int pos = ncand;
            while (pos > 0 && dist < cdist[pos - 1])
                --pos;
            if (pos >= SB_ENCODE_CANDIDATES)
                continue;
            if (ncand < SB_ENCODE_CANDIDATES)
                ++ncand;
            for (int r = ncand - 1; r > pos; --r) {
                cand[r] = cand[r - 1];
                cdist[r] = cdist[r - 1];
            }
            cand[pos] = c;
            cdist[pos] = dist;
        }
    }

    const double stop = 1e-11 * (1.0 + xnorm);
    const double stop2 = fmax(stop * stop, SB_ENC_ERR2_FLOOR * xx);
    double best_err2 = INFINITY, best_h = INFINITY, best_t[SB_ENCODE_MAX_D];
    int best_chart = -1;
    int32_t steps = 0;
    for (int q = 0; q < ncand; ++q) {
        double t[SB_ENCODE_MAX_D], h, e2;
        if (!sb_enc_candidate(tb, k, cand[q], G, S, z, y, xx, xnorm, t, &h, &e2, &steps))
            continue;
        if (e2 < best_err2) {
            best_err2 = e2;
            best_h = h;
            best_chart = cand[q];
            for (int a = 0; a < d; ++a)
                best_t[a] = t[a];
        }
        if (best_err2 <= stop2)
            break;
    }
    out->steps = steps;
    if (best_chart < 0)
        return;
    for (int a = 0; a < d; ++a)
        out->t[a] = tb->basis == SB_BASIS_PERIODIC ? best_t[a] - floor(best_t[a] + 0.5) : best_t[a];
    out->h = best_h;
    out->err = sqrt(best_err2);
    out->chart = best_chart;
}

#endif
