/* The encode fast path's per-row routine (docs/workloads.md §5), written once
 * as __host__ __device__ code and used by the host fast path
 * (src/host/host_encode.c, C11, OpenMP over rows), the CUDA kernels
 * (cuda/encode_kernels.cuh, one thread per row) and the kernels' CPU
 * simulation (tests/gpu/sim_encode.cpp). Plain C: no templates, no classes,
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
 * Rounding: ‖r‖² is a difference of terms of size ‖x‖², so below about
 * 1e-8·‖x‖ the m-space residual norm is rounding noise (SB_ENC_ERR2_FLOOR
 * says how this is used); everything else (t, h) is computed without such
 * cancellation.
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
/* Jacobi sweeps for λ_min at d = 3, 4 (cyclic Jacobi converges quadratically:
 * 6 sweeps reach rounding level for 4×4; the rest is a safety margin). */
#define SB_ENC_JACOBI_SWEEPS 16

/* The atlas and decoder constants the routine reads, as plain pointers (host
 * or device memory: the host fast path fills it from sb_encode_atlas, the
 * CUDA backend with its staged copies). */
typedef struct sb_encode_tables {
    int d, D, m, basis, charts;
    double radius;
    const double *centre; /* charts·d */
    const double *phi;    /* K·charts·m */
    const double *dphi;   /* K·charts·d·m */
    const double *Minv;   /* K·charts·d·d */
    const double *beta_c; /* K·charts */
    const double *m1_sq;  /* K·charts */
    const double *S;      /* K */
    const double *G;      /* K·m·m */
} sb_encode_tables;

/* The tables of a host-resident atlas (basis and degree from the problem). */
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
    return tb;
}

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

/* Π_c f_c where f_c = ∂^{e_c} t_c^{α_c} = α(α−1)…(α−e+1)·t^{α−e} (0 when
 * e > α): a monomial's value (e = 0), first (one e_a = 1) or second
 * derivative. pw[c][k] = t_c^k. */
SB_ENC_FN double sb_enc_monomial_derivative(int d, const int *alpha, const int *e,
                                             const double pw[SB_ENCODE_MAX_D][SB_ENCODE_MAX_M])
{
    double v = 1.0;
    for (int c = 0; c < d; ++c) {
        const int a = alpha[c], k = e[c];
        if (k > a)
            return 0.0;
        double coef = 1.0;
        for (int q = 0; q < k; ++q)
            coef *= (double)(a - q);
        v *= coef * pw[c][a - k];
    }
    return v;
}

SB_ENC_FN void sb_enc_powers(int d, int D, const double *t, double pw[SB_ENCODE_MAX_D][SB_ENCODE_MAX_M])
{
    for (int c = 0; c < d; ++c) {
        pw[c][0] = 1.0;
        for (int k = 1; k <= D; ++k)
            pw[c][k] = pw[c][k - 1] * t[c];
    }
}

/* Φ(t) (m) and, when dphi is non-NULL, ∂_aΦ(t) (d·m, a-major). */
SB_ENC_FN void sb_enc_basis_eval(int basis, int d, int D, const double *t, double *phi, double *dphi)
{
    const int m = sb_enc_basis_size(basis, d, D);
    if (basis == SB_BASIS_PERIODIC) {
        phi[0] = 1.0;
        if (dphi)
            dphi[0] = 0.0;
        for (int f = 1; f <= D; ++f) {
            const double w = SB_ENC_TWO_PI * (double)f, s = sin(w * t[0]), c = cos(w * t[0]);
            phi[2 * f - 1] = s;
            phi[2 * f] = c;
            if (dphi) {
                dphi[2 * f - 1] = w * c;
                dphi[2 * f] = -w * s;
            }
        }
        return;
    }
    double pw[SB_ENCODE_MAX_D][SB_ENCODE_MAX_M];
    sb_enc_powers(d, D, t, pw);
    int alpha[SB_ENCODE_MAX_D], e[SB_ENCODE_MAX_D];
    int j = 0;
    for (int g = 0; g <= D; ++g) {
        alpha[0] = g;
        for (int c = 1; c < d; ++c)
            alpha[c] = 0;
        do {
            for (int c = 0; c < d; ++c)
                e[c] = 0;
            phi[j] = sb_enc_monomial_derivative(d, alpha, e, pw);
            if (dphi)
                for (int a = 0; a < d; ++a) {
                    e[a] = 1;
                    dphi[a * m + j] = sb_enc_monomial_derivative(d, alpha, e, pw);
                    e[a] = 0;
                }
            ++j;
        } while (sb_enc_next_exponent(d, alpha));
    }
}

/* hv[a·d + b] = Σ_j ∂_a∂_bΦ_j(t)·v_j, symmetric, without storing ∂²Φ. */
SB_ENC_FN void sb_enc_basis_hess_dot(int basis, int d, int D, const double *t, const double *v, double *hv)
{
    if (basis == SB_BASIS_PERIODIC) {
        double acc = 0.0;
        for (int f = 1; f <= D; ++f) {
            const double w = SB_ENC_TWO_PI * (double)f, s = sin(w * t[0]), c = cos(w * t[0]);
            acc += (-w * w * s) * v[2 * f - 1] + (-w * w * c) * v[2 * f];
        }
        hv[0] = acc;
        return;
    }
    double pw[SB_ENCODE_MAX_D][SB_ENCODE_MAX_M];
    sb_enc_powers(d, D, t, pw);
    double acc[SB_ENC_MAX_PAIRS];
    for (int q = 0; q < SB_ENC_MAX_PAIRS; ++q)
        acc[q] = 0.0;
    int alpha[SB_ENCODE_MAX_D], e[SB_ENCODE_MAX_D];
    int j = 0;
    for (int g = 0; g <= D; ++g) {
        alpha[0] = g;
        for (int c = 1; c < d; ++c)
            alpha[c] = 0;
        do {
            if (g >= 2) {
                int q = 0;
                for (int a = 0; a < d; ++a)
                    for (int b = a; b < d; ++b, ++q) {
                        for (int c = 0; c < d; ++c)
                            e[c] = 0;
                        e[a] += 1;
                        e[b] += 1;
                        acc[q] += sb_enc_monomial_derivative(d, alpha, e, pw) * v[j];
                    }
            }
            ++j;
        } while (sb_enc_next_exponent(d, alpha));
    }
    int q = 0;
    for (int a = 0; a < d; ++a)
        for (int b = a; b < d; ++b, ++q)
            hv[a * d + b] = hv[b * d + a] = acc[q];
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
    for (int l = 0; l < 32; ++l) {
        double s = 0.0;
        for (int64_t c = l; c < p; c += 32)
            s += x[c] * x[c];
        lane[l] = s;
    }
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

/* Hessian-Lipschitz bound of the chart centred at tc, re-implemented from
 * sb_encode_lipschitz (src/encode_setup.c, which derives it): with
 * ρ = ‖t_c‖∞ + R the basis derivative bounds are
 *   euclidean  M_g = dᵍ·Dᵍ·max(ρ^(D−g), 1)
 *   periodic   M_g = (2πD)^g
 * and L = 3(Z·S·M₁)(Z·S·M₂) + (T + Z·S·M₀)(Z·S·M₃) with the row's own
 * Z = z and T = ‖x‖ (the per-row choice the reference uses). Same operations
 * in the same order as the setup's, so the same bits on the host. */
SB_ENC_FN double sb_enc_lipschitz(int basis, int d, int D, const double *tc, double R, double S, double Z,
                                  double T)
{
    double M[4];
    if (basis == SB_BASIS_PERIODIC) {
        const double w = SB_ENC_TWO_PI * (double)D;
        M[0] = 1.0;
        M[1] = w;
        M[2] = w * w;
        M[3] = w * w * w;
    } else {
        double rho = 0.0;
        for (int a = 0; a < d; ++a)
            rho = fmax(rho, fabs(tc[a]));
        rho += R;
        const double dD = (double)d * (double)D;
        for (int g = 0; g < 4; ++g)
            M[g] = pow(dD, (double)g) * fmax(pow(rho, (double)(D - g)), 1.0);
    }
    return 3.0 * (Z * S * M[1]) * (Z * S * M[2]) + (T + Z * S * M[0]) * (Z * S * M[3]);
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

/* ------------------------------ one point ------------------------------ */

/* Everything the navigation needs at one t: ‖r‖², gradient, Hessian. */
typedef struct sb_enc_point {
    double err2;
    double g[SB_ENCODE_MAX_D];
    double H[SB_ENCODE_MAX_D * SB_ENCODE_MAX_D];
} sb_enc_point;

/* err2 (and, with pt->g/H wanted, the gradient and full Hessian) at t. */
SB_ENC_FN void sb_enc_point_eval(const sb_encode_tables *tb, const double *G, double z, const double *y,
                                 double xx, const double *t, int want_derivatives, sb_enc_point *pt)
{
    const int d = tb->d, m = tb->m;
    double phi[SB_ENCODE_MAX_M], dphi[SB_ENCODE_MAX_D * SB_ENCODE_MAX_M], v[SB_ENCODE_MAX_M];
    sb_enc_basis_eval(tb->basis, d, tb->D, t, phi, want_derivatives ? dphi : (double *)0);
    double phi_G_phi = 0.0, phi_y = 0.0;
    for (int i = 0; i < m; ++i) {
        double u = 0.0; /* (GΦ)_i */
        for (int j = 0; j < m; ++j)
            u += G[i * m + j] * phi[j];
        phi_G_phi += phi[i] * u;
        phi_y += phi[i] * y[i];
        v[i] = z * u - y[i];
    }
    pt->err2 = xx + z * (z * phi_G_phi - 2.0 * phi_y);
    if (!want_derivatives)
        return;
    for (int a = 0; a < d; ++a) {
        double s = 0.0;
        for (int j = 0; j < m; ++j)
            s += dphi[a * m + j] * v[j];
        pt->g[a] = z * s;
    }
    double JJ[SB_ENCODE_MAX_D * SB_ENCODE_MAX_D];
    for (int q = 0; q < d * d; ++q)
        JJ[q] = 0.0;
    for (int i = 0; i < m; ++i) {
        double w[SB_ENCODE_MAX_D]; /* (G∂_bΦ)_i */
        for (int b = 0; b < d; ++b) {
            double s = 0.0;
            for (int j = 0; j < m; ++j)
                s += G[i * m + j] * dphi[b * m + j];
            w[b] = s;
        }
        for (int a = 0; a < d; ++a)
            for (int b = a; b < d; ++b)
                JJ[a * d + b] += dphi[a * m + i] * w[b];
    }
    double hv[SB_ENCODE_MAX_D * SB_ENCODE_MAX_D];
    sb_enc_basis_hess_dot(tb->basis, d, tb->D, t, v, hv);
    for (int a = 0; a < d; ++a)
        for (int b = a; b < d; ++b)
            pt->H[a * d + b] = pt->H[b * d + a] = z * z * JJ[a * d + b] + z * hv[a * d + b];
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

/* Encode one row: atom k, amplitude z, y = B_k·x, xx = ‖x‖². */
SB_ENC_FN void sb_encode_row(const sb_encode_tables *tb, int k, double z, const double *y, double xx,
                             sb_encode_row_out *out)
{
    const int d = tb->d, m = tb->m, charts = tb->charts;
    const double xnorm = sqrt(xx);
    for (int a = 0; a < d; ++a)
        out->t[a] = 0.0;
    out->h = INFINITY;
    out->err = xnorm;
    out->chart = -1;
    out->steps = 0;
    if (!(z > 0.0) || !(z < INFINITY))
        return;
    const double *G = tb->G + (int64_t)k * m * m;
    const double S = tb->S[k];

    /* route: the SB_ENCODE_CANDIDATES smallest distances, ties to the lower chart */
    int cand[SB_ENCODE_CANDIDATES];
    double cdist[SB_ENCODE_CANDIDATES];
    int ncand = 0;
    for (int c = 0; c < charts; ++c) {
        const double dist = sb_enc_route_dist(tb, (int64_t)k * charts + c, z, y, xx);
        int pos = ncand;
        while (pos > 0 && dist < cdist[pos - 1])
            --pos;
        if (pos >= SB_ENCODE_CANDIDATES)
            continue;
        const int last = ncand < SB_ENCODE_CANDIDATES ? ncand : SB_ENCODE_CANDIDATES - 1;
        for (int q = last; q > pos; --q) {
            cand[q] = cand[q - 1];
            cdist[q] = cdist[q - 1];
        }
        cand[pos] = c;
        cdist[pos] = dist;
        if (ncand < SB_ENCODE_CANDIDATES)
            ++ncand;
    }

    const double stop_err = 1e-11 * (1.0 + xnorm);
    double best_err2 = INFINITY;
    int32_t total_steps = 0;
    for (int ci = 0; ci < ncand; ++ci) {
        const int c = cand[ci];
        const int64_t kc = (int64_t)k * charts + c;
        const double *tc = tb->centre + (int64_t)c * d;
        const double *phic = tb->phi + kc * m;
        const double *dphic = tb->dphi + kc * d * m;
        const double *Minv = tb->Minv + kc * d * d;

        /* warm start */
        double t[SB_ENCODE_MAX_D], rhs[SB_ENCODE_MAX_D];
        for (int a = 0; a < d; ++a)
            rhs[a] = 0.0;
        for (int i = 0; i < m; ++i) {
            double u = 0.0;
            for (int j = 0; j < m; ++j)
                u += G[i * m + j] * phic[j];
            const double w = y[i] - z * u;
            for (int a = 0; a < d; ++a)
                rhs[a] += dphic[a * m + i] * w;
        }
        for (int a = 0; a < d; ++a) {
            double s = 0.0;
            for (int b = 0; b < d; ++b)
                s += Minv[a * d + b] * rhs[b];
            t[a] = tc[a] + s / z;
        }
        const double L = sb_enc_lipschitz(tb->basis, d, tb->D, tc, tb->radius, S, z, xnorm);

        /* navigation */
        double delta[SB_ENCODE_MAX_D], Lf[SB_ENCODE_MAX_D * SB_ENCODE_MAX_D];
        double h = INFINITY, h_prev = INFINITY, eta_prev = INFINITY;
        int certified = 0;
        sb_enc_point pt;
        for (int it = 0; it < SB_ENCODE_MAX_NEWTON; ++it) {
            sb_enc_point_eval(tb, G, z, y, xx, t, 1, &pt);
            if (!sb_enc_chol(d, pt.H, Lf))
                break;
            sb_enc_chol_solve_neg(d, Lf, pt.g, delta);
            const double eta = sb_enc_norm2(d, delta);
            const double lmin = sb_enc_lambda_min(d, pt.H);
            h = lmin > 0.0 ? eta * L / lmin : INFINITY;
            int inside = 1;
            for (int a = 0; a < d; ++a)
                inside &= fabs(t[a] - tc[a]) <= tb->radius;
            if (h <= 0.5 && inside) {
                certified = 1;
                break;
            }
            if (it > 0 && !(h <= (63.0 / 64.0) * h_prev || eta <= eta_prev * eta_prev))
                break;
            for (int a = 0; a < d; ++a)
                t[a] += delta[a];
            ++total_steps;
            h_prev = h;
            eta_prev = eta;
        }
        if (!certified)
            continue;
        const double h_cert = h;
        /* refine: the certified step, then one more; stop when the step is negligible */
        for (int r = 0; r < SB_ENCODE_REFINE; ++r) {
            if (r > 0) {
                sb_enc_point_eval(tb, G, z, y, xx, t, 1, &pt);
                if (!sb_enc_chol(d, pt.H, Lf))
                    break;
                sb_enc_chol_solve_neg(d, Lf, pt.g, delta);
            }
            for (int a = 0; a < d; ++a)
                t[a] += delta[a];
            ++total_steps;
            if (sb_enc_norm2(d, delta) <= 1e-12 * (1.0 + sb_enc_norm2(d, t)))
                break;
        }
        sb_enc_point_eval(tb, G, z, y, xx, t, 0, &pt);
        const double e2 = pt.err2 > 0.0 ? pt.err2 : 0.0;
        if (e2 < best_err2) {
            best_err2 = e2;
            for (int a = 0; a < d; ++a)
                out->t[a] = t[a];
            out->h = h_cert;
            out->err = sqrt(e2);
            out->chart = c;
        }
        if (sqrt(best_err2) <= stop_err)
            break;
    }
    out->steps = total_steps;
}

#endif
