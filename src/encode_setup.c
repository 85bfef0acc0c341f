/* encode setup (docs/workloads.md §5): basis sizes, parameter checks, the
 * fixture, the atlas tables, the Lipschitz bound and the quality metrics.
 * Setup data only: the per-row encode math lives in the reference
 * (src/oracle/oracle_encode.c) and the fast path (src/hostdev/encode_row.cuh), which
 * share none of it with each other or with the basis evaluation below.
 *
 * The fixture — one SplitMix64 stream (src/rs_fixture.h), draw q (0-based) is
 * u_q = sb_splitmix_uniform after q earlier draws, so u_q is a pure function
 * of (seed, q): the generator seeks to a draw by setting the state to
 * seed + q·0x9E3779B97F4A7C15 and fills rows in parallel, bit-identically.
 * Draws, in this order (M = K·m·p):
 *   1. decoders, q = (k·m + j)·p + c for atom k, basis function j, column c:
 *        B_k,j = u/‖u‖ over the p draws of that row (‖u‖ summed c = 0..p−1;
 *        an all-zero row, probability 2^−53p, becomes e_0).
 *   2. per-atom gate constants a_k = u_{M+k}, k = 0..K−1 (drawn for every
 *      gate; softmax ignores them):
 *        IBP       v_k = 1 − (1 + a_k)/(4K) ∈ (1 − 1/(2K), 1],
 *                  π_k = v_0·v_1·…·v_k ∈ [1/2, 1]   (stick-breaking; (1 − 1/(2K))^K ≥ 1/2)
 *        JumpReLU  θ_k = 0.2 + 0.05·(1 + a_k) ∈ [0.2, 0.3)
 *   3. rows i = 0..n−1, W draws each from q = M + K + i·W, W = 1 + d + w_g + p
 *      with w_g = K + 1 (softmax) or 1 (IBP, JumpReLU):
 *        atom      k = min(⌊(1 + u)/2 · K⌋, K − 1)            (uniform over atoms)
 *        t*_a      = 0.45·u (euclidean, a = 0..d−1);  = 0.5·u ∈ [−0.5, 0.5) (periodic)
 *        gate      softmax:  logits ℓ_j = u, j = 0..K−1, then w = 0.5 + 0.25·(1 + u);
 *                            ℓ_k ← log(w/(1 − w)) + log Σ_{j≠k} e^{ℓ_j};
 *                            z = e^{ℓ_k} / (e^{ℓ_k} + Σ_{j≠k} e^{ℓ_j})  (= w ∈ [0.5, 1));
 *                            K = 1: z = 1 (the draws are still consumed)
 *                  IBP:      ℓ = 1.5 + 1.5·u ∈ [0, 3);  z = π_k·σ(ℓ), σ(ℓ) = 1/(1 + e^{−ℓ})  (z ∈ [1/4, 0.953))
 *                  JumpReLU: ℓ = θ_k + (1 − θ_k)·(1 + u)/2 ∈ [θ_k, 1);  z = ℓ
 *                            (every row active: the pre-activation clears the threshold)
 *        x_c       = z·Σ_j Φ_j(t*)·B_k,j,c + noise·u_c,  c = 0..p−1 (Σ_j in order j = 0..m−1)
 * Unit-norm decoder rows make ‖B_k,j‖ = 1 (S = m) and, for p ≫ m, B_k B_kᵀ ≈ I,
 * so the columns B_kᵀ∂_aΦ are well conditioned at every chart. u is uniform in
 * [−1, 1), so the per-entry noise has standard deviation noise/√3. */
#include "encode.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "rs_fixture.h"

#define SPLITMIX_GAMMA 0x9E3779B97F4A7C15ULL

/* ------------------------------- sizes ------------------------------- */
int64_t sb_encode_basis_size(sb_basis_kind basis, int64_t d, int64_t D)
{
    if (d < 1 || D < 1)
        return 0;
    if (basis == SB_BASIS_PERIODIC) {
        if (d != 1 || D > (INT64_MAX - 1) / 2)
            return 0;
        return 2 * D + 1;
    }
    if (basis != SB_BASIS_EUCLIDEAN)
        return 0;
    /* C(D + d, d) = Π_{i=1..d} (D + i)/i, each partial product an integer. */
    int64_t m = 1;
    for (int64_t i = 1; i <= d; i++) {
        if (D > INT64_MAX - i)
            return 0;
        int64_t f = D + i;
        if (m > INT64_MAX / f)
            return 0;
        m = m * f / i;
    }
    return m;
}

static int mul_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    if (a != 0 && b > UINT64_MAX / a)
        return 0;
    *out = a * b;
    return 1;
}

static int add_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    if (b > UINT64_MAX - a)
        return 0;
    *out = a + b;
    return 1;
}

/* Doubles of B, X, z, t_true and bytes of atom; 0 on overflow or bad sizes. */
uint64_t sb_encode_problem_bytes(const sb_encode_params *prm)
{
    int64_t m = sb_encode_basis_size(prm->basis, prm->d, prm->D);
    if (m == 0 || prm->n < 1 || prm->p < 1 || prm->K < 1)
        return 0;
    uint64_t n = (uint64_t)prm->n, p = (uint64_t)prm->p, K = (uint64_t)prm->K, d = (uint64_t)prm->d;
    uint64_t km, kmp, np, nd, doubles, bytes, atom_bytes;
    if (!mul_u64(K, (uint64_t)m, &km) || !mul_u64(km, p, &kmp) || !mul_u64(n, p, &np) ||
        !mul_u64(n, d, &nd) || !add_u64(kmp, np, &doubles) || !add_u64(doubles, nd, &doubles) ||
        !add_u64(doubles, n, &doubles) || !mul_u64(doubles, sizeof(double), &bytes) ||
        !mul_u64(n, sizeof(int32_t), &atom_bytes) || !add_u64(bytes, atom_bytes, &bytes))
        return 0;
    if (bytes > (uint64_t)SIZE_MAX)
        return 0;
    return bytes;
}

sb_rc sb_encode_check_params(const sb_encode_params *prm, sb_err *err)
{
    if (prm->basis != SB_BASIS_EUCLIDEAN && prm->basis != SB_BASIS_PERIODIC)
        return sb_fail(err, SB_E_INPUT, "encode: unknown basis kind %d", (int)prm->basis);
    if (prm->gate != SB_GATE_SOFTMAX && prm->gate != SB_GATE_IBP && prm->gate != SB_GATE_JUMPRELU)
        return sb_fail(err, SB_E_INPUT, "encode: unknown gate kind %d", (int)prm->gate);
    if (prm->n < 1)
        return sb_fail(err, SB_E_INPUT, "encode: rows n must be >= 1 (got %lld)", (long long)prm->n);
    if (prm->p < 1)
        return sb_fail(err, SB_E_INPUT, "encode: width p must be >= 1 (got %lld)", (long long)prm->p);
    if (prm->K < 1)
        return sb_fail(err, SB_E_INPUT, "encode: atoms K must be >= 1 (got %lld)", (long long)prm->K);
    if (prm->K > INT32_MAX)
        return sb_fail(err, SB_E_INPUT, "encode: atoms K = %lld exceeds %d", (long long)prm->K, INT32_MAX);
    if (prm->d < 1 || prm->d > SB_ENCODE_MAX_D)
        return sb_fail(err, SB_E_INPUT, "encode: latent dimension d must be in [1, %d] (got %lld)",
                       SB_ENCODE_MAX_D, (long long)prm->d);
    if (prm->D < 1)
        return sb_fail(err, SB_E_INPUT, "encode: degree D must be >= 1 (got %lld)", (long long)prm->D);
    if (prm->basis == SB_BASIS_PERIODIC && prm->d != 1)
        return sb_fail(err, SB_E_INPUT, "encode: the periodic basis needs d = 1 (got d = %lld)",
                       (long long)prm->d);
    int64_t m = sb_encode_basis_size(prm->basis, prm->d, prm->D);
    if (m == 0 || m > SB_ENCODE_MAX_M)
        return sb_fail(err, SB_E_INPUT,
                       "encode: D too large: d = %lld, D = %lld gives %s%lld basis functions, more than %d",
                       (long long)prm->d, (long long)prm->D, m == 0 ? "over " : "",
                       (long long)(m == 0 ? INT64_MAX : m), SB_ENCODE_MAX_M);
    if (isnan(prm->noise) || prm->noise < 0 || isinf(prm->noise))
        return sb_fail(err, SB_E_INPUT, "encode: noise must be finite and >= 0 (got %g)", prm->noise);
    if (sb_encode_problem_bytes(prm) == 0)
        return sb_fail(err, SB_E_INPUT, "encode: n = %lld, p = %lld, K = %lld: storage size overflows",
                       (long long)prm->n, (long long)prm->p, (long long)prm->K);
    return SB_OK;
}

/* --------------------------- basis (setup) --------------------------- */
/* Exponents of the euclidean basis in the order of docs/workloads.md §5: graded by total degree,
 * then lexicographic with t₀'s exponent descending (d = 2, D = 2: 1, t₀, t₁,
 * t₀², t₀t₁, t₁²). alpha: m·d. The next composition of degree g after e is
 * found by moving one unit from the last nonzero e_i (i < d − 1) to e_{i+1}
 * and gathering the tail there. */
static void monomial_exponents(int64_t d, int64_t D, int *alpha)
{
    int64_t j = 0;
    int e[SB_ENCODE_MAX_D];
    for (int64_t g = 0; g <= D; g++) {
        memset(e, 0, sizeof e);
        e[0] = (int)g;
        for (;;) {
            memcpy(alpha + j * d, e, (size_t)d * sizeof(int));
            j++;
            int64_t i = d - 2;
            while (i >= 0 && e[i] == 0)
                i--;
            if (i < 0)
                break;
            int tail = 0;
            for (int64_t b = i + 1; b < d; b++) {
                tail += e[b];
                e[b] = 0;
            }
            e[i]--;
            e[i + 1] = tail + 1;
        }
    }
}

/* The basis of one problem: kind, sizes and (euclidean) exponent table. */
typedef struct setup_basis {
    sb_basis_kind kind;
    int64_t d, D, m;
    int alpha[SB_ENCODE_MAX_M * SB_ENCODE_MAX_D];
} setup_basis;

static void setup_basis_init(setup_basis *b, sb_basis_kind kind, int64_t d, int64_t D, int64_t m)
{
    b->kind = kind;
    b->d = d;
    b->D = D;
    b->m = m;
    if (kind == SB_BASIS_EUCLIDEAN)
        monomial_exponents(d, D, b->alpha);
}

/* Φ(t) (m) and, when dphi is non-NULL, ∂_aΦ(t) (d·m, a-major). */
static void setup_basis_eval(const setup_basis *b, const double *t, double *phi, double *dphi)
{
    const int64_t d = b->d, m = b->m;
    if (b->kind == SB_BASIS_PERIODIC) {
        phi[0] = 1.0;
        if (dphi)
            dphi[0] = 0.0;
        for (int64_t nu = 1; nu <= b->D; nu++) {
            double w = 2.0 * M_PI * (double)nu, s = sin(w * t[0]), c = cos(w * t[0]);
            phi[2 * nu - 1] = s;
            phi[2 * nu] = c;
            if (dphi) {
                dphi[2 * nu - 1] = w * c;
                dphi[2 * nu] = -w * s;
            }
        }
        return;
    }
    double pw[SB_ENCODE_MAX_D][SB_ENCODE_MAX_M + 1];
    for (int64_t a = 0; a < d; a++) {
        pw[a][0] = 1.0;
        for (int64_t e = 1; e <= b->D; e++)
            pw[a][e] = pw[a][e - 1] * t[a];
    }
    for (int64_t j = 0; j < m; j++) {
        const int *al = b->alpha + j * d;
        double v = 1.0;
        for (int64_t a = 0; a < d; a++)
            v *= pw[a][al[a]];
        phi[j] = v;
        if (!dphi)
            continue;
        for (int64_t a = 0; a < d; a++) {
            double g = 0.0;
            if (al[a] > 0) {
                g = (double)al[a];
                for (int64_t c = 0; c < d; c++)
                    g *= pw[c][c == a ? al[c] - 1 : al[c]];
            }
            dphi[a * m + j] = g;
        }
    }
}

/* ------------------------------ fixture ------------------------------ */
void sb_encode_problem_free(sb_encode_problem *prob)
{
    if (!prob)
        return;
    free(prob->B);
    free(prob->X);
    free(prob->atom);
    free(prob->z);
    free(prob->t_true);
    memset(prob, 0, sizeof *prob);
}

static void seek(sb_splitmix *g, uint64_t seed, uint64_t q)
{
    sb_splitmix_seed(g, seed + q * SPLITMIX_GAMMA);
}

sb_rc sb_encode_generate(const sb_encode_params *prm, sb_encode_problem *prob, sb_err *err)
{
    memset(prob, 0, sizeof *prob);
    sb_rc rc = sb_encode_check_params(prm, err);
    if (rc != SB_OK)
        return rc;
    const int64_t n = prm->n, p = prm->p, K = prm->K, d = prm->d, D = prm->D;
    const int64_t m = sb_encode_basis_size(prm->basis, d, D);
    prob->n = n;
    prob->p = p;
    prob->K = K;
    prob->d = d;
    prob->D = D;
    prob->m = m;
    prob->basis = prm->basis;
    prob->B = sb_alloc((size_t)(K * m) * (size_t)p, sizeof(double), err);
    prob->X = prob->B ? sb_alloc((size_t)n * (size_t)p, sizeof(double), err) : NULL;
    prob->atom = prob->X ? sb_alloc((size_t)n, sizeof(int32_t), err) : NULL;
    prob->z = prob->atom ? sb_alloc((size_t)n, sizeof(double), err) : NULL;
    prob->t_true = prob->z ? sb_alloc((size_t)(n * d), sizeof(double), err) : NULL;
    double *gate_a = prob->t_true ? sb_alloc((size_t)K, sizeof(double), err) : NULL;
    double *pi = gate_a ? sb_alloc((size_t)K, sizeof(double), err) : NULL;
    if (!pi) {
        free(gate_a);
        sb_encode_problem_free(prob);
        return SB_E_RUNTIME;
    }
    const uint64_t seed = prm->seed;

    /* 1. decoders */
    double *B = prob->B;
#pragma omp parallel for schedule(static)
    for (int64_t row = 0; row < K * m; row++) {
        sb_splitmix g;
        seek(&g, seed, (uint64_t)row * (uint64_t)p);
        double *b = B + row * p, ss = 0.0;
        for (int64_t c = 0; c < p; c++) {
            b[c] = sb_splitmix_uniform(&g);
            ss += b[c] * b[c];
        }
        if (ss > 0) {
            double norm = sqrt(ss);
            for (int64_t c = 0; c < p; c++)
                b[c] /= norm;
        } else {
            b[0] = 1.0;
        }
    }

    /* 2. per-atom gate constants */
    const uint64_t M = (uint64_t)(K * m) * (uint64_t)p;
    {
        sb_splitmix g;
        seek(&g, seed, M);
        double prod = 1.0;
        for (int64_t k = 0; k < K; k++) {
            gate_a[k] = sb_splitmix_uniform(&g);
            prod *= 1.0 - (1.0 + gate_a[k]) / (4.0 * (double)K);
            pi[k] = prod;
        }
    }

    /* 3. rows */
    const int64_t wg = prm->gate == SB_GATE_SOFTMAX ? K + 1 : 1;
    const uint64_t W = (uint64_t)(1 + d + wg + p), row_q0 = M + (uint64_t)K;
    setup_basis basis;
    setup_basis_init(&basis, prm->basis, d, D, m);
    const double noise = prm->noise, tscale = prm->basis == SB_BASIS_PERIODIC ? 0.5 : 0.45;
    const sb_gate_kind gate = prm->gate;
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) {
        sb_splitmix g;
        seek(&g, seed, row_q0 + (uint64_t)i * W);
        int64_t k = (int64_t)((1.0 + sb_splitmix_uniform(&g)) * 0.5 * (double)K);
        if (k > K - 1)
            k = K - 1;
        double *t = prob->t_true + i * d;
        for (int64_t a = 0; a < d; a++)
            t[a] = tscale * sb_splitmix_uniform(&g);
        double z;
        if (gate == SB_GATE_SOFTMAX) {
            double rest = 0.0;
            for (int64_t j = 0; j < K; j++) {
                double l = sb_splitmix_uniform(&g);
                if (j != k)
                    rest += exp(l);
            }
            double w = 0.5 + 0.25 * (1.0 + sb_splitmix_uniform(&g));
            if (K == 1) {
                z = 1.0;
            } else {
                double ek = exp(log(w / (1.0 - w)) + log(rest));
                z = ek / (ek + rest);
            }
        } else if (gate == SB_GATE_IBP) {
            double l = 1.5 + 1.5 * sb_splitmix_uniform(&g);
            z = pi[k] / (1.0 + exp(-l));
        } else {
            double theta = 0.2 + 0.05 * (1.0 + gate_a[k]);
            z = theta + (1.0 - theta) * (1.0 + sb_splitmix_uniform(&g)) * 0.5;
        }
        prob->atom[i] = (int32_t)k;
        prob->z[i] = z;
        double phi[SB_ENCODE_MAX_M];
        setup_basis_eval(&basis, t, phi, NULL);
        const double *Bk = B + k * m * p;
        double *x = prob->X + i * p;
        for (int64_t c = 0; c < p; c++) {
            double v = 0.0;
            for (int64_t j = 0; j < m; j++)
                v += phi[j] * Bk[j * p + c];
            x[c] = z * v + noise * sb_splitmix_uniform(&g);
        }
    }
    free(gate_a);
    free(pi);
    return SB_OK;
}

/* ------------------------------- atlas ------------------------------- */
int64_t sb_encode_atlas_points(int64_t d)
{
    int64_t P = SB_ENCODE_ATLAS_POINTS;
    for (;;) {
        int64_t c = 1;
        for (int64_t a = 0; a < d; a++)
            c *= P;
        if (c <= SB_ENCODE_ATLAS_MAX || P == 1)
            return P;
        P--;
    }
}

void sb_encode_atlas_free(sb_encode_atlas *atlas)
{
    if (!atlas)
        return;
    free(atlas->centre);
    free(atlas->phi);
    free(atlas->dphi);
    free(atlas->Minv);
    free(atlas->beta_c);
    free(atlas->m1_sq);
    free(atlas->S);
    free(atlas->G);
    memset(atlas, 0, sizeof *atlas);
}

sb_rc sb_encode_atlas_build(const sb_encode_problem *prob, sb_encode_atlas *atlas, sb_err *err)
{
    memset(atlas, 0, sizeof *atlas);
    const int64_t K = prob->K, d = prob->d, m = prob->m, p = prob->p;
    if (K < 1 || p < 1 || d < 1 || d > SB_ENCODE_MAX_D || m < 1 || m > SB_ENCODE_MAX_M ||
        m != sb_encode_basis_size(prob->basis, d, prob->D))
        return sb_fail(err, SB_E_INPUT, "encode atlas: bad problem sizes (K=%lld p=%lld d=%lld D=%lld m=%lld)",
                       (long long)K, (long long)p, (long long)d, (long long)prob->D, (long long)m);
    if (p > INT32_MAX)
        return sb_fail(err, SB_E_INPUT, "encode atlas: p = %lld exceeds BLAS's int", (long long)p);
    const int64_t P = sb_encode_atlas_points(d);
    int64_t charts = 1;
    for (int64_t a = 0; a < d; a++)
        charts *= P;
    atlas->K = K;
    atlas->d = d;
    atlas->m = m;
    atlas->points = P;
    atlas->charts = charts;
    atlas->radius = 1.0 / (double)P;
    const size_t kc = (size_t)(K * charts);
    atlas->centre = sb_alloc((size_t)(charts * d), sizeof(double), err);
    atlas->phi = atlas->centre ? sb_alloc(kc * (size_t)m, sizeof(double), err) : NULL;
    atlas->dphi = atlas->phi ? sb_alloc(kc * (size_t)(d * m), sizeof(double), err) : NULL;
    atlas->Minv = atlas->dphi ? sb_alloc(kc * (size_t)(d * d), sizeof(double), err) : NULL;
    atlas->beta_c = atlas->Minv ? sb_alloc(kc, sizeof(double), err) : NULL;
    atlas->m1_sq = atlas->beta_c ? sb_alloc(kc, sizeof(double), err) : NULL;
    atlas->S = atlas->m1_sq ? sb_alloc((size_t)K, sizeof(double), err) : NULL;
    atlas->G = atlas->S ? sb_alloc((size_t)(K * m * m), sizeof(double), err) : NULL;
    if (!atlas->G) {
        sb_encode_atlas_free(atlas);
        return SB_E_RUNTIME;
    }
    for (int64_t c = 0; c < charts; c++) {
        int64_t rest = c;
        for (int64_t a = d - 1; a >= 0; a--) {
            atlas->centre[c * d + a] = -0.5 + (double)(rest % P) / (double)(P - 1);
            rest /= P;
        }
    }
    for (int64_t k = 0; k < K; k++) {
        const double *Bk = prob->B + k * m * p;
        double *Gk = atlas->G + k * m * m, S = 0.0;
        for (int64_t j = 0; j < m; j++) {
            double ss = 0.0;
            for (int64_t c = 0; c < p; c++)
                ss += Bk[j * p + c] * Bk[j * p + c];
            S += sqrt(ss);
        }
        atlas->S[k] = S;
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)m, (int)p, 1.0, Bk, (int)p, 0.0, Gk, (int)m);
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < i; j++)
                Gk[i * m + j] = Gk[j * m + i];
    }
    setup_basis basis;
    setup_basis_init(&basis, prob->basis, d, prob->D, m);
    for (int64_t k = 0; k < K; k++) {
        const double *Gk = atlas->G + k * m * m;
        for (int64_t c = 0; c < charts; c++) {
            const int64_t kc1 = k * charts + c;
            double *phi = atlas->phi + kc1 * m, *dphi = atlas->dphi + kc1 * d * m;
            setup_basis_eval(&basis, atlas->centre + c * d, phi, dphi);
            /* Gv = G·v for v = φ and each ∂_aΦ; J₁J₁ᵀ_ab = ∂_aΦᵀ G ∂_bΦ, ‖m₁‖² = φᵀGφ. */
            double Gd[SB_ENCODE_MAX_D][SB_ENCODE_MAX_M], Gphi[SB_ENCODE_MAX_M];
            for (int64_t i = 0; i < m; i++) {
                double s = 0.0;
                for (int64_t j = 0; j < m; j++)
                    s += Gk[i * m + j] * phi[j];
                Gphi[i] = s;
                for (int64_t a = 0; a < d; a++) {
                    double u = 0.0;
                    for (int64_t j = 0; j < m; j++)
                        u += Gk[i * m + j] * dphi[a * m + j];
                    Gd[a][i] = u;
                }
            }
            double m1 = 0.0;
            for (int64_t i = 0; i < m; i++)
                m1 += phi[i] * Gphi[i];
            atlas->m1_sq[kc1] = m1;
            double A[SB_ENCODE_MAX_D * SB_ENCODE_MAX_D], w[SB_ENCODE_MAX_D];
            for (int64_t a = 0; a < d; a++)
                for (int64_t b = 0; b < d; b++) {
                    double s = 0.0;
                    for (int64_t i = 0; i < m; i++)
                        s += dphi[a * m + i] * Gd[b][i];
                    A[a * d + b] = s + (a == b ? 1e-9 : 0.0);
                }
            lapack_int info = LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'V', 'U', (lapack_int)d, A, (lapack_int)d, w);
            if (info != 0) {
                sb_encode_atlas_free(atlas);
                return sb_fail(err, SB_E_RUNTIME, "encode atlas: LAPACKE_dsyev info=%d (atom %lld, chart %lld)",
                               (int)info, (long long)k, (long long)c);
            }
            double *Minv = atlas->Minv + kc1 * d * d;
            if (!(w[0] > 0)) {
                atlas->beta_c[kc1] = INFINITY;
                memset(Minv, 0, (size_t)(d * d) * sizeof(double));
                continue;
            }
            atlas->beta_c[kc1] = 1.0 / w[0];
            /* A now holds the eigenvectors as columns: Minv = V diag(1/w) Vᵀ. */
            for (int64_t a = 0; a < d; a++)
                for (int64_t b = 0; b < d; b++) {
                    double s = 0.0;
                    for (int64_t e = 0; e < d; e++)
                        s += A[a * d + e] * A[b * d + e] / w[e];
                    Minv[a * d + b] = s;
                }
        }
    }
    return SB_OK;
}

/* ----------------------------- Lipschitz ----------------------------- */
/* Derivation (the bound of docs/workloads.md §5 Certificate). With v(t) = B_kᵀΦ(t) = Σ_j Φ_j(t) b_j and
 * r = z·v − x, H = z²·DvᵀDv + z·⟨D²v, r⟩, so along a unit direction e
 *   ‖dH/ds‖ ≤ 3z²‖Dv‖‖D²v‖ + z‖D³v‖‖r‖,
 * and ‖D^g v‖ ≤ Σ_j ‖b_j‖·‖∇^gΦ_j‖ ≤ S·M_g, ‖r‖ ≤ ‖x‖ + z·S·M₀: that is
 * L = 3(Z·S·M₁)(Z·S·M₂) + (T + Z·S·M₀)(Z·S·M₃) for any z ≤ Z, ‖x‖ ≤ T.
 * M_g must bound the g-linear form ∇^gΦ_j (Euclidean unit vectors) on the
 * box: for a monomial of degree q each partial of order g ≤ q is at most
 * q^g·|t|∞^(q−g), and a g-linear form with those entries has norm at most
 * d^(g/2) times the largest entry, so d^g·D^g·max(ρ^(D−g), 1) bounds it on
 * ‖t‖∞ ≤ max(ρ, 1) (higher orders vanish). For sin/cos(2πνt), ν ≤ D, every
 * g-th derivative is at most (2πD)^g everywhere (M₀ = 1). */
static int atlas_is_periodic(const sb_encode_atlas *atlas, int64_t D)
{
    if (atlas->d == 1 && D >= 1 && atlas->m == 2 * D + 1)
        return 1;
    if (atlas->m == sb_encode_basis_size(SB_BASIS_EUCLIDEAN, atlas->d, D))
        return 0;
    return -1;
}

static double chart_rho(const sb_encode_atlas *atlas, int64_t c)
{
    double r = 0.0;
    for (int64_t a = 0; a < atlas->d; a++)
        r = fmax(r, fabs(atlas->centre[c * atlas->d + a]));
    return r + atlas->radius;
}

void sb_encode_lipschitz_moments(const sb_encode_atlas *atlas, int64_t c, int64_t D, double M[4])
{
    int kind = atlas_is_periodic(atlas, D);
    if (kind < 0) {
        for (int g = 0; g < 4; g++)
            M[g] = INFINITY;
        return;
    }
    if (kind == 1) {
        double w = 2.0 * M_PI * (double)D;
        M[0] = 1.0;
        M[1] = w;
        M[2] = w * w;
        M[3] = w * w * w;
        return;
    }
    const double rho = chart_rho(atlas, c), dD = (double)atlas->d * (double)D;
    for (int g = 0; g < 4; g++)
        M[g] = pow(dD, g) * fmax(pow(rho, (double)(D - g)), 1.0);
}

double sb_encode_lipschitz(const sb_encode_atlas *atlas, int64_t k, int64_t c, int64_t D, double Z, double T)
{
    double M[4];
    sb_encode_lipschitz_moments(atlas, c, D, M);
    const double S = atlas->S[k];
    return 3.0 * (Z * S * M[1]) * (Z * S * M[2]) + (T + Z * S * M[0]) * (Z * S * M[3]);
}

double sb_encode_lipschitz_region(const sb_encode_atlas *atlas, int64_t c, int64_t D)
{
    int kind = atlas_is_periodic(atlas, D);
    if (kind < 0)
        return 0.0;
    if (kind == 1)
        return INFINITY;
    return fmax(chart_rho(atlas, c), 1.0);
}

/* ------------------------------ results ------------------------------ */
void sb_encode_result_free(sb_encode_result *res)
{
    if (!res)
        return;
    free(res->t);
    free(res->h);
    free(res->recon_err);
    free(res->chart);
    free(res->steps);
    memset(res, 0, sizeof *res);
}

sb_rc sb_encode_result_alloc(sb_encode_result *res, int64_t n, int64_t d, sb_err *err)
{
    memset(res, 0, sizeof *res);
    if (n < 1 || d < 1)
        return sb_fail(err, SB_E_INPUT, "encode result: n and d must be >= 1 (got %lld, %lld)", (long long)n,
                       (long long)d);
    size_t nd;
    if (!sb_mul_ok((size_t)n, (size_t)d, &nd))
        return sb_fail(err, SB_E_INPUT, "encode result: n·d overflows");
    res->t = sb_alloc(nd, sizeof(double), err);
    res->h = res->t ? sb_alloc((size_t)n, sizeof(double), err) : NULL;
    res->recon_err = res->h ? sb_alloc((size_t)n, sizeof(double), err) : NULL;
    res->chart = res->recon_err ? sb_alloc((size_t)n, sizeof(int32_t), err) : NULL;
    res->steps = res->chart ? sb_alloc((size_t)n, sizeof(int32_t), err) : NULL;
    if (!res->steps) {
        sb_rc rc = res->t ? SB_E_RUNTIME : SB_E_INPUT;
        sb_encode_result_free(res);
        return rc;
    }
    for (int64_t i = 0; i < n; i++) {
        res->h[i] = INFINITY;
        res->chart[i] = -1;
    }
    return SB_OK;
}

/* ------------------------------ metrics ------------------------------ */
/* max that keeps a NaN: a broken coordinate must show in the metric. */
static double max_nan(double a, double b)
{
    if (isnan(a) || isnan(b))
        return NAN;
    return a > b ? a : b;
}

static double coord_diff(double a, double b, int periodic)
{
    double e = a - b;
    if (periodic)
        e -= round(e);
    return fabs(e);
}

/* x̂_c for row i from coordinates t (certified), into out (p). */
static void reconstruct(const sb_encode_problem *prob, const setup_basis *basis, int64_t i, const double *t,
                        double *out)
{
    const int64_t m = prob->m, p = prob->p;
    double phi[SB_ENCODE_MAX_M];
    setup_basis_eval(basis, t, phi, NULL);
    const double *Bk = prob->B + (int64_t)prob->atom[i] * m * p, z = prob->z[i];
    for (int64_t c = 0; c < p; c++) {
        double v = 0.0;
        for (int64_t j = 0; j < m; j++)
            v += phi[j] * Bk[j * p + c];
        out[c] = z * v;
    }
}

sb_rc sb_encode_metrics(const sb_encode_problem *prob, const sb_encode_result *res,
                        const sb_encode_result *ref, int64_t row0, int64_t rows, int64_t stride,
                        sb_encode_quality *q, sb_err *err)
{
    memset(q, 0, sizeof *q);
    const int64_t n = prob->n, p = prob->p, d = prob->d;
    if (row0 < 0 || rows < 1 || stride < 1 || row0 >= n || (rows - 1) > (n - 1 - row0) / stride)
        return sb_fail(err, SB_E_INPUT, "encode metrics: row set (row0 %lld, rows %lld, stride %lld) outside %lld rows",
                       (long long)row0, (long long)rows, (long long)stride, (long long)n);
    const int periodic = prob->basis == SB_BASIS_PERIODIC, has_ref = ref != NULL;
    const int64_t m = prob->m;
    if (m < 1 || m > SB_ENCODE_MAX_M || d < 1 || d > SB_ENCODE_MAX_D)
        return sb_fail(err, SB_E_INPUT, "encode metrics: bad problem sizes (d=%lld m=%lld)", (long long)d,
                       (long long)m);
    enum { NUM, DEN, TRUTH, CO_ALL, CO_CERT, RE_ALL, RE_CERT, NSTAT };
    const int nthreads = omp_get_max_threads();
    double *xbar = sb_alloc((size_t)p, sizeof(double), err);
    double *stat = xbar ? sb_alloc((size_t)rows * NSTAT, sizeof(double), err) : NULL;
    double *work = stat ? sb_alloc((size_t)nthreads * 2, (size_t)p * sizeof(double), err) : NULL;
    if (!work) {
        free(xbar);
        free(stat);
        return SB_E_RUNTIME;
    }
    for (int64_t r = 0; r < rows; r++) {
        const double *x = prob->X + (row0 + r * stride) * p;
        for (int64_t c = 0; c < p; c++)
            xbar[c] += x[c];
    }
    for (int64_t c = 0; c < p; c++)
        xbar[c] /= (double)rows;
    setup_basis basis;
    setup_basis_init(&basis, prob->basis, d, prob->D, m);

#pragma omp parallel num_threads(nthreads)
    {
        double *xh = work + (size_t)omp_get_thread_num() * 2 * (size_t)p, *xr = xh + p;
#pragma omp for schedule(static)
        for (int64_t r = 0; r < rows; r++) {
            const int64_t i = row0 + r * stride;
            const double *x = prob->X + i * p;
            double *st = stat + r * NSTAT;
            const int cert = res->chart[i] >= 0;
            if (cert)
                reconstruct(prob, &basis, i, res->t + i * d, xh);
            else
                memset(xh, 0, (size_t)p * sizeof(double));
            double num = 0.0, den = 0.0;
            for (int64_t c = 0; c < p; c++) {
                num += (x[c] - xh[c]) * (x[c] - xh[c]);
                den += (x[c] - xbar[c]) * (x[c] - xbar[c]);
            }
            st[NUM] = num;
            st[DEN] = den;
            st[TRUTH] = 0.0;
            if (cert && prob->t_true)
                for (int64_t a = 0; a < d; a++)
                    st[TRUTH] = max_nan(st[TRUTH], coord_diff(res->t[i * d + a], prob->t_true[i * d + a], periodic));
            if (!has_ref)
                continue;
            const int rcert = ref->chart[i] >= 0;
            if (rcert)
                reconstruct(prob, &basis, i, ref->t + i * d, xr);
            else
                memset(xr, 0, (size_t)p * sizeof(double));
            double co = 0.0, re = 0.0;
            for (int64_t a = 0; a < d; a++)
                co = max_nan(co, coord_diff(res->t[i * d + a], ref->t[i * d + a], periodic));
            for (int64_t c = 0; c < p; c++)
                re = max_nan(re, fabs(xh[c] - xr[c]));
            st[CO_ALL] = co;
            st[RE_ALL] = re;
            st[CO_CERT] = cert && rcert ? co : 0.0;
            st[RE_CERT] = cert && rcert ? re : 0.0;
        }
    }

    double num = 0.0, den = 0.0;
    q->rows = rows;
    q->has_truth = prob->t_true != NULL;
    q->has_ref = has_ref;
    for (int64_t r = 0; r < rows; r++) {
        const int64_t i = row0 + r * stride;
        const double *st = stat + r * NSTAT;
        const int cert = res->chart[i] >= 0;
        num += st[NUM];
        den += st[DEN];
        q->certified_rows += cert;
        q->max_coord_err_vs_truth = max_nan(q->max_coord_err_vs_truth, st[TRUTH]);
        if (!has_ref)
            continue;
        const int rcert = ref->chart[i] >= 0;
        q->agree_rows += cert == rcert;
        q->both_certified_rows += cert && rcert;
        q->max_coord_abs_err = max_nan(q->max_coord_abs_err, st[CO_ALL]);
        q->max_coord_abs_err_certified = max_nan(q->max_coord_abs_err_certified, st[CO_CERT]);
        q->max_reconstruction_abs_err = max_nan(q->max_reconstruction_abs_err, st[RE_ALL]);
        q->max_reconstruction_abs_err_certified = max_nan(q->max_reconstruction_abs_err_certified, st[RE_CERT]);
    }
    q->fallback_rate = 1.0 - (double)q->certified_rows / (double)rows;
    q->explained_variance = den > 0 ? 1.0 - num / den : NAN;
    if (has_ref)
        q->support_agreement = (double)q->agree_rows / (double)rows;
    free(xbar);
    free(stat);
    free(work);
    return SB_OK;
}
