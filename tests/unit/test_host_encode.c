/* The encode fast path (docs/workloads.md §5): the per-row routine of
 * src/hostdev/encode_row.cuh and the host fast path (src/host/host_encode.c).
 *   - the basis: order and values written out by hand, derivatives against
 *     central differences, agreement with the setup's own basis (the atlas
 *     tables at the chart centres)
 *   - the m-space identities against a direct p-space computation on random
 *     data: ‖r‖², the gradient Jᵀr, the full Hessian JᵀJ + z·Σ_j ∂²Φ_j(B_j·r),
 *     the routing distance Σ(z·m₁ − x)² and the warm start t_c + A₁(x − z·m₁)/z;
 *     and the reference's own basis (every ∂_a∂_bΦ);
 *   - λ_min (closed form, Jacobi) against LAPACKE_dsyev; the Lipschitz bound
 *     against sb_encode_lipschitz bit for bit;
 *   - the host fast path against the CPU reference on tiny shapes, both bases
 *     and all three gates: the same certified rows, coordinates within 1e-9,
 *     and EN-001's per-row parity ratio (src/parity.h) at most 1;
 *   - the host ops: row grouping, batch checks, telemetry, repeatability;
 *   - in a CUDA build, the device ops: the decline below 4096 rows, and
 *     either "no CUDA device" (no GPU) or, on a GPU, the device encode
 *     against the host fast path with its telemetry checked exactly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/hostdev/encode_row.cuh"
#include "encode.h"
#include "backend.h"
#include "encode_ops.h"
#include "host/host_encode.h"
#include "parity.h"


/* SplitMix64 uniform in [−1, 1) for the random data of these tests. */
static double urand(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0 * 2.0 - 1.0;
}

/* ------------------------------- basis ------------------------------- */

static sb_encode_tables basis_tables(int basis, int d, int D)
{
    sb_encode_tables tb;
    memset(&tb, 0, sizeof tb);
    tb.d = d;
    tb.D = D;
    tb.m = sb_enc_basis_size(basis, d, D);
    tb.basis = basis;
    sb_enc_plan(&tb);
    return tb;
}

/* Φ and (dphi non-NULL) ∂Φ through the header's basis. */
static void basis_eval(int basis, int d, int D, const double *t, double *phi, double *dphi)
{
    const sb_encode_tables tb = basis_tables(basis, d, D);
    sb_enc_basis(&tb, t, dphi ? 1 : 0, phi, dphi, NULL);
}

/* hv[a·d + b] = Σ_j ∂_a∂_bΦ_j(t)·v_j from the header's packed ∂²Φ. */
static void hess_dot(int basis, int d, int D, const double *t, const double *v, double *hv)
{
    const sb_encode_tables tb = basis_tables(basis, d, D);
    double phi[SB_ENCODE_MAX_M], dphi[SB_ENCODE_MAX_D * SB_ENCODE_MAX_M], d2[SB_ENC_MAX_PAIRS * SB_ENCODE_MAX_M];
    sb_enc_basis(&tb, t, 2, phi, dphi, d2);
    int q = 0;
    for (int a = 0; a < d; a++)
        for (int b = a; b < d; b++, q++) {
            double s = 0.0;
            for (int j = 0; j < tb.m; j++)
                s += d2[q * tb.m + j] * v[j];
            hv[a * d + b] = hv[b * d + a] = s;
        }
}

static void test_basis_order_and_values(void **unused)
{
    (void)unused;
    /* d = 2, D = 2: 1, t₀, t₁, t₀², t₀t₁, t₁² */
    const double t[2] = {0.3, -0.2};
    double phi[6], dphi[12];
    basis_eval(SB_BASIS_EUCLIDEAN, 2, 2, t, phi, dphi);
    const double want[6] = {1, 0.3, -0.2, 0.09, -0.06, 0.04};
    const double want_d0[6] = {0, 1, 0, 0.6, -0.2, 0}, want_d1[6] = {0, 0, 1, 0, 0.3, -0.4};
    for (int j = 0; j < 6; j++) {
        assert_true(fabs(phi[j] - want[j]) < 1e-15);
        assert_true(fabs(dphi[j] - want_d0[j]) < 1e-15);
        assert_true(fabs(dphi[6 + j] - want_d1[j]) < 1e-15);
    }
    /* second derivatives through hess_dot with unit vectors: ∂₀²(t₀²) = 2, ∂₀∂₁(t₀t₁) = 1, ∂₁²(t₁²) = 2 */
    for (int j = 0; j < 6; j++) {
        double e[6] = {0}, hv[4];
        e[j] = 1.0;
        hess_dot(SB_BASIS_EUCLIDEAN, 2, 2, t, e, hv);
        assert_true(hv[0] == (j == 3 ? 2.0 : 0.0));
        assert_true(hv[1] == (j == 4 ? 1.0 : 0.0) && hv[2] == hv[1]);
        assert_true(hv[3] == (j == 5 ? 2.0 : 0.0));
    }
    /* d = 3, D = 2 degree-2 block: t₀², t₀t₁, t₀t₂, t₁², t₁t₂, t₂² */
    const double t3[3] = {2.0, 3.0, 5.0};
    double p3[10];
    basis_eval(SB_BASIS_EUCLIDEAN, 3, 2, t3, p3, NULL);
    const double w3[10] = {1, 2, 3, 5, 4, 6, 10, 9, 15, 25};
    for (int j = 0; j < 10; j++)
        assert_true(p3[j] == w3[j]);
    /* periodic D = 2: 1, sin 2πt, cos 2πt, sin 4πt, cos 4πt */
    const double tp = 0.125;
    double pp[5], dp[5];
    basis_eval(SB_BASIS_PERIODIC, 1, 2, &tp, pp, dp);
    const double s = sqrt(0.5);
    const double wp[5] = {1, s, s, 1, 0};
    for (int j = 0; j < 5; j++)
        assert_true(fabs(pp[j] - wp[j]) < 1e-15);
    assert_true(fabs(dp[1] - 2 * M_PI * s) < 1e-14 && fabs(dp[4] + 4 * M_PI) < 1e-14);
    assert_int_equal(sb_enc_basis_size(SB_BASIS_EUCLIDEAN, 2, 2), 6);
    assert_int_equal(sb_enc_basis_size(SB_BASIS_EUCLIDEAN, 4, 4), 70);
    assert_int_equal(sb_enc_basis_size(SB_BASIS_PERIODIC, 1, 5), 11);
    for (int d = 1; d <= 4; d++)
        for (int D = 1; D <= 6; D++)
            assert_int_equal(sb_enc_basis_size(SB_BASIS_EUCLIDEAN, d, D),
                             sb_encode_basis_size(SB_BASIS_EUCLIDEAN, d, D));
}

/* ∂Φ and ∂²Φ against central differences of Φ and ∂Φ. */
static void check_basis_fd(int basis, int d, int D, uint64_t *seed)
{
    const int m = sb_enc_basis_size(basis, d, D);
    double t[SB_ENCODE_MAX_D], tp[SB_ENCODE_MAX_D], tm[SB_ENCODE_MAX_D];
    for (int a = 0; a < d; a++)
        t[a] = 0.5 * urand(seed);
    double phi[SB_ENCODE_MAX_M], dphi[SB_ENCODE_MAX_D * SB_ENCODE_MAX_M];
    double pp[SB_ENCODE_MAX_M], pm[SB_ENCODE_MAX_M];
    double dp[SB_ENCODE_MAX_D * SB_ENCODE_MAX_M], dm[SB_ENCODE_MAX_D * SB_ENCODE_MAX_M];
    basis_eval(basis, d, D, t, phi, dphi);
    double v[SB_ENCODE_MAX_M] = {0}, hv[SB_ENCODE_MAX_D * SB_ENCODE_MAX_D];
    for (int j = 0; j < m; j++)
        v[j] = urand(seed);
    hess_dot(basis, d, D, t, v, hv);
    const double h = 1e-5;
    for (int b = 0; b < d; b++) {
        for (int a = 0; a < d; a++)
            tp[a] = tm[a] = t[a];
        tp[b] += h;
        tm[b] -= h;
        basis_eval(basis, d, D, tp, pp, dp);
        basis_eval(basis, d, D, tm, pm, dm);
        for (int j = 0; j < m; j++) {
            const double fd = (pp[j] - pm[j]) / (2 * h);
            assert_true(fabs(fd - dphi[b * m + j]) < 1e-7 * (1 + fabs(fd)));
        }
        for (int a = 0; a < d; a++) {
            double fd = 0.0; /* Σ_j v_j ∂_b(∂_aΦ_j) */
            for (int j = 0; j < m; j++)
                fd += v[j] * (dp[a * m + j] - dm[a * m + j]) / (2 * h);
            assert_true(fabs(fd - hv[a * d + b]) < 1e-6 * (1 + fabs(fd)));
        }
    }
}

static void test_basis_derivatives_fd(void **unused)
{
    (void)unused;
    uint64_t seed = 11;
    for (int d = 1; d <= 4; d++)
        for (int D = 1; D <= 4; D++)
            if (sb_enc_basis_size(SB_BASIS_EUCLIDEAN, d, D) <= SB_ENCODE_MAX_M)
                check_basis_fd(SB_BASIS_EUCLIDEAN, d, D, &seed);
    for (int D = 1; D <= 5; D++)
        check_basis_fd(SB_BASIS_PERIODIC, 1, D, &seed);
}

static void make_problem(int64_t n, int64_t p, int64_t K, int64_t d, int64_t D, sb_basis_kind basis,
                         sb_gate_kind gate, double noise, uint64_t seed, sb_encode_problem *pr, sb_encode_atlas *at)
{
    sb_encode_params prm = {.n = n, .p = p, .K = K, .d = d, .D = D, .basis = basis, .gate = gate,
                            .noise = noise, .seed = seed};
    sb_err e = {{0}};
    assert_int_equal(sb_encode_generate(&prm, pr, &e), SB_OK);
    assert_int_equal(sb_encode_atlas_build(pr, at, &e), SB_OK);
}

/* The setup's basis (encode_setup.c) and the header's are separate code: the
 * atlas tables at the centres must agree with the header's evaluation. */
static void test_basis_matches_setup_tables(void **unused)
{
    (void)unused;
    const struct {
        int64_t d, D;
        sb_basis_kind basis;
    } cases[] = {{1, 3, SB_BASIS_EUCLIDEAN}, {2, 3, SB_BASIS_EUCLIDEAN}, {3, 2, SB_BASIS_EUCLIDEAN},
                 {4, 2, SB_BASIS_EUCLIDEAN}, {1, 3, SB_BASIS_PERIODIC}};
    for (size_t q = 0; q < sizeof cases / sizeof cases[0]; q++) {
        sb_encode_problem pr;
        sb_encode_atlas at;
        make_problem(8, 32, 2, cases[q].d, cases[q].D, cases[q].basis, SB_GATE_SOFTMAX, 0.0, 77 + q, &pr, &at);
        const int d = (int)at.d, m = (int)at.m;
        for (int64_t c = 0; c < at.charts; c++) {
            double phi[SB_ENCODE_MAX_M], dphi[SB_ENCODE_MAX_D * SB_ENCODE_MAX_M];
            basis_eval((int)pr.basis, d, (int)pr.D, at.centre + c * d, phi, dphi);
            for (int j = 0; j < m; j++) {
                assert_true(fabs(phi[j] - at.phi[c * m + j]) <= 1e-15 * (1 + fabs(phi[j])));
                for (int a = 0; a < d; a++)
                    assert_true(fabs(dphi[a * m + j] - at.dphi[(c * d + a) * m + j]) <=
                                1e-14 * (1 + fabs(dphi[a * m + j])));
            }
        }
        sb_encode_atlas_free(&at);
        sb_encode_problem_free(&pr);
    }
}

/* The reference's basis (src/oracle/oracle_encode.c, its own code) gives the
 * same Φ, ∂Φ and every ∂_a∂_bΦ at random points. */
static void test_basis_matches_reference_basis(void **unused)
{
    (void)unused;
    uint64_t seed = 31;
    for (int basis = 0; basis <= 1; basis++)
        for (int d = 1; d <= (basis ? 1 : 4); d++)
            for (int D = 1; D <= 5; D++) {
                const sb_encode_tables tb = basis_tables(basis, d, D);
                if (tb.m > SB_ENCODE_MAX_M)
                    continue;
                const int m = tb.m;
                for (int rep = 0; rep < 5; rep++) {
                    double t[SB_ENCODE_MAX_D];
                    for (int a = 0; a < d; a++)
                        t[a] = 0.6 * urand(&seed);
                    double phi[SB_ENCODE_MAX_M], dphi[SB_ENCODE_MAX_D * SB_ENCODE_MAX_M];
                    double d2[SB_ENC_MAX_PAIRS * SB_ENCODE_MAX_M];
                    double rphi[SB_ENCODE_MAX_M], rdphi[SB_ENCODE_MAX_D * SB_ENCODE_MAX_M];
                    double rd2[SB_ENCODE_MAX_D * SB_ENCODE_MAX_D * SB_ENCODE_MAX_M];
                    sb_enc_basis(&tb, t, 2, phi, dphi, d2);
                    sb_encode_ref_basis((sb_basis_kind)basis, d, D, t, rphi, rdphi, rd2);
                    for (int j = 0; j < m; j++) {
                        assert_true(fabs(phi[j] - rphi[j]) <= 1e-15 * (1 + fabs(rphi[j])));
                        for (int a = 0; a < d; a++)
                            assert_true(fabs(dphi[a * m + j] - rdphi[a * m + j]) <= 1e-14 * (1 + fabs(rdphi[a * m + j])));
                        int q = 0;
                        for (int a = 0; a < d; a++)
                            for (int b = a; b < d; b++, q++) {
                                const double w = rd2[(a * d + b) * m + j];
                                assert_true(fabs(d2[q * m + j] - w) <= 1e-13 * (1 + fabs(w)));
                                assert_true(rd2[(b * d + a) * m + j] == w);
                            }
                    }
                }
            }
}

/* --------------------------- m-space identities --------------------------- */

/* One random case: B (m×p, not normalised), x, z, t; p-space quantities
 * computed directly and compared with the m-space routine. */
static void check_identities(int basis, int d, int D, int p, uint64_t *seed)
{
    const int m = sb_enc_basis_size(basis, d, D);
    double *B = malloc((size_t)(m * p) * sizeof *B), *x = malloc((size_t)p * sizeof *x);
    double *r = malloc((size_t)p * sizeof *r), *J = malloc((size_t)(d * p) * sizeof *J);
    assert_non_null(B);
    assert_non_null(x);
    assert_non_null(r);
    assert_non_null(J);
    for (int q = 0; q < m * p; q++)
        B[q] = urand(seed) / sqrt((double)p);
    double G[SB_ENCODE_MAX_M * SB_ENCODE_MAX_M], y[SB_ENCODE_MAX_M], xx = 0.0;
    for (int c = 0; c < p; c++) {
        x[c] = 0.3 * urand(seed);
        xx += x[c] * x[c];
    }
    for (int i = 0; i < m; i++) {
        y[i] = 0.0;
        for (int c = 0; c < p; c++)
            y[i] += B[i * p + c] * x[c];
        for (int j = 0; j < m; j++) {
            double s = 0.0;
            for (int c = 0; c < p; c++)
                s += B[i * p + c] * B[j * p + c];
            G[i * m + j] = s;
        }
    }
    const double z = 0.5 + 0.5 * fabs(urand(seed));
    double t[SB_ENCODE_MAX_D];
    for (int a = 0; a < d; a++)
        t[a] = 0.45 * urand(seed);

    /* p-space: r = z·BᵀΦ − x, J_a = z·Bᵀ∂_aΦ, w = B·r */
    double phi[SB_ENCODE_MAX_M], dphi[SB_ENCODE_MAX_D * SB_ENCODE_MAX_M], w[SB_ENCODE_MAX_M];
    basis_eval(basis, d, D, t, phi, dphi);
    double rr = 0.0;
    for (int c = 0; c < p; c++) {
        double v = 0.0;
        for (int j = 0; j < m; j++)
            v += phi[j] * B[j * p + c];
        r[c] = z * v - x[c];
        rr += r[c] * r[c];
        for (int a = 0; a < d; a++) {
            double u = 0.0;
            for (int j = 0; j < m; j++)
                u += dphi[a * m + j] * B[j * p + c];
            J[a * p + c] = z * u;
        }
    }
    for (int j = 0; j < m; j++) {
        w[j] = 0.0;
        for (int c = 0; c < p; c++)
            w[j] += B[j * p + c] * r[c];
    }
    double hw[SB_ENCODE_MAX_D * SB_ENCODE_MAX_D];
    hess_dot(basis, d, D, t, w, hw);

    sb_encode_tables tb = basis_tables(basis, d, D);
    sb_enc_point pt;
    sb_enc_point_eval(&tb, G, z, y, xx, t, 1, &pt);
    const double scale = xx + rr;
    assert_true(fabs(pt.err2 - rr) <= 1e-13 * scale);
    double gscale = 0.0, hscale = 0.0;
    for (int a = 0; a < d; a++) {
        double g = 0.0;
        for (int c = 0; c < p; c++)
            g += J[a * p + c] * r[c];
        gscale = fmax(gscale, fabs(g));
        assert_true(fabs(pt.g[a] - g) <= 1e-12 * (1 + fabs(g)));
        for (int b = 0; b < d; b++) {
            double jj = 0.0;
            for (int c = 0; c < p; c++)
                jj += J[a * p + c] * J[b * p + c];
            const double H = jj + z * hw[a * d + b];
            hscale = fmax(hscale, fabs(H));
            assert_true(fabs(pt.H[a * d + b] - H) <= 1e-12 * (1 + fabs(H)));
            assert_true(pt.H[a * d + b] == pt.H[b * d + a]);
        }
    }
    assert_true(hscale > 0.0);

    /* routing distance and warm start at a "chart" centred at t (unit-amplitude J₁) */
    double m1sq = 0.0, dist = 0.0;
    for (int c = 0; c < p; c++) {
        double v = 0.0;
        for (int j = 0; j < m; j++)
            v += phi[j] * B[j * p + c];
        m1sq += v * v;
        dist += (z * v - x[c]) * (z * v - x[c]);
    }
    double A[SB_ENCODE_MAX_D * SB_ENCODE_MAX_D], ev[SB_ENCODE_MAX_D], Minv[SB_ENCODE_MAX_D * SB_ENCODE_MAX_D];
    for (int a = 0; a < d; a++)
        for (int b = 0; b < d; b++) {
            double s = 0.0;
            for (int c = 0; c < p; c++)
                s += J[a * p + c] * J[b * p + c] / (z * z);
            A[a * d + b] = s + (a == b ? 1e-9 : 0.0);
        }
    assert_int_equal(LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'V', 'U', d, A, d, ev), 0);
    for (int a = 0; a < d; a++)
        for (int b = 0; b < d; b++) {
            double s = 0.0;
            for (int e = 0; e < d; e++)
                s += A[a * d + e] * A[b * d + e] / ev[e];
            Minv[a * d + b] = s;
        }
    const double beta = 1.0 / ev[0], one = 1.0;
    sb_encode_tables tc = basis_tables(basis, d, D);
    tc.charts = 1;
    tc.radius = 1.0 / 16;
    tc.centre = t;
    tc.phi = phi;
    tc.dphi = dphi;
    tc.Minv = Minv;
    tc.beta_c = &beta;
    tc.m1_sq = &m1sq;
    tc.S = &one;
    tc.G = G;
    const double got = sb_enc_route_dist(&tc, 0, z, y, xx);
    assert_true(fabs(got - dist) <= 1e-13 * (xx + dist));
    /* t̂ = t_c + A₁(x − z·m₁)/z, A₁ = Minv·J₁ in p-space */
    double that[SB_ENCODE_MAX_D];
    for (int a = 0; a < d; a++) {
        double s = 0.0;
        for (int b = 0; b < d; b++) {
            double jr = 0.0; /* J₁,b·(x − z·m₁) = −J_b·r/z */
            for (int c = 0; c < p; c++)
                jr += J[b * p + c] / z * (-r[c]);
            s += Minv[a * d + b] * jr;
        }
        that[a] = t[a] + s / z;
    }
    double ws[SB_ENCODE_MAX_D];
    sb_enc_warm_start(&tc, 0, 0, G, z, y, ws);
    for (int a = 0; a < d; a++)
        assert_true(fabs(ws[a] - that[a]) <= 1e-11 * (1 + fabs(that[a])));
    free(B);
    free(x);
    free(r);
    free(J);
}

static void test_m_space_identities(void **unused)
{
    (void)unused;
    uint64_t seed = 2024;
    for (int rep = 0; rep < 3; rep++) {
        for (int d = 1; d <= 4; d++)
            for (int D = 1; D <= 3; D++)
                check_identities(SB_BASIS_EUCLIDEAN, d, D, 97 + 31 * rep, &seed);
        for (int D = 1; D <= 4; D++)
            check_identities(SB_BASIS_PERIODIC, 1, D, 61 + 17 * rep, &seed);
    }
}

/* ---------------------------- small algebra ---------------------------- */

static void test_lambda_min_vs_lapack(void **unused)
{
    (void)unused;
    uint64_t seed = 99;
    for (int d = 1; d <= 4; d++)
        for (int rep = 0; rep < 200; rep++) {
            double A[16], W[16], w[4];
            /* random symmetric; every 4th nearly singular, every 5th indefinite */
            for (int a = 0; a < d; a++)
                for (int b = 0; b <= a; b++)
                    A[a * d + b] = A[b * d + a] = urand(&seed);
            if (rep % 4 == 0) {
                double v[4];
                for (int a = 0; a < d; a++)
                    v[a] = urand(&seed);
                for (int a = 0; a < d; a++)
                    for (int b = 0; b < d; b++)
                        A[a * d + b] = v[a] * v[b] + (a == b ? 1e-10 : 0.0);
            } else if (rep % 5 != 0) {
                for (int a = 0; a < d; a++)
                    A[a * d + a] += 2.0 * d;
            }
            memcpy(W, A, sizeof A);
            assert_int_equal(LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'N', 'U', d, W, d, w), 0);
            double norm = 0.0;
            for (int q = 0; q < d * d; q++)
                norm = fmax(norm, fabs(A[q]));
            const double got = sb_enc_lambda_min(d, A);
            assert_true(fabs(got - w[0]) <= 1e-14 * d * norm + 1e-300);
        }
}

static void test_cholesky_solve(void **unused)
{
    (void)unused;
    uint64_t seed = 5;
    for (int d = 1; d <= 4; d++) {
        double A[16], L[16], b[4], x[4];
        for (int a = 0; a < d; a++)
            for (int c = 0; c <= a; c++)
                A[a * d + c] = A[c * d + a] = 0.3 * urand(&seed) + (a == c ? 2.0 : 0.0);
        for (int a = 0; a < d; a++)
            b[a] = urand(&seed);
        assert_int_equal(sb_enc_chol(d, A, L), 1);
        sb_enc_chol_solve_neg(d, L, b, x);
        for (int a = 0; a < d; a++) {
            double s = 0.0;
            for (int c = 0; c < d; c++)
                s += A[a * d + c] * x[c];
            assert_true(fabs(s + b[a]) < 1e-14);
        }
        A[0] = -1.0; /* not positive definite */
        assert_int_equal(sb_enc_chol(d, A, L), 0);
    }
}

static void test_lipschitz_matches_setup(void **unused)
{
    (void)unused;
    const struct {
        int64_t d, D;
        sb_basis_kind basis;
    } cases[] = {{1, 4, SB_BASIS_EUCLIDEAN}, {2, 3, SB_BASIS_EUCLIDEAN}, {3, 2, SB_BASIS_EUCLIDEAN},
                 {4, 1, SB_BASIS_EUCLIDEAN}, {1, 1, SB_BASIS_EUCLIDEAN}, {1, 4, SB_BASIS_PERIODIC}};
    for (size_t q = 0; q < sizeof cases / sizeof cases[0]; q++) {
        sb_encode_problem pr;
        sb_encode_atlas at;
        make_problem(8, 16, 3, cases[q].d, cases[q].D, cases[q].basis, SB_GATE_IBP, 0.0, 5 + q, &pr, &at);
        for (int64_t k = 0; k < at.K; k++)
            for (int64_t c = 0; c < at.charts; c++) {
                const double Z = 0.25 + 0.1 * (double)c / (double)at.charts, T = 0.5 + (double)k;
                const double want = sb_encode_lipschitz(&at, k, c, pr.D, Z, T);
                const double got = sb_enc_lipschitz((int)pr.basis, (int)at.d, (int)pr.D, at.centre + c * at.d,
                                                    at.radius, at.S[k], Z, T);
                assert_true(got == want);
                assert_true(sb_enc_lipschitz_region((int)pr.basis, (int)at.d, at.centre + c * at.d, at.radius) ==
                            sb_encode_lipschitz_region(&at, c, pr.D));
            }
        sb_encode_atlas_free(&at);
        sb_encode_problem_free(&pr);
    }
}

static void test_sqnorm_order(void **unused)
{
    (void)unused;
    uint64_t seed = 3;
    const int64_t ps[] = {1, 31, 32, 33, 100, 2048};
    for (size_t q = 0; q < sizeof ps / sizeof ps[0]; q++) {
        double x[2048], plain = 0.0;
        for (int64_t c = 0; c < ps[q]; c++) {
            x[c] = urand(&seed);
            plain += x[c] * x[c];
        }
        assert_true(fabs(sb_enc_sqnorm_warp_order(x, ps[q]) - plain) <= 1e-14 * plain);
    }
}

/* A row with no usable amplitude falls back: t = 0, h = ∞, chart −1, err = ‖x‖. */
static void test_row_fallback(void **unused)
{
    (void)unused;
    sb_encode_problem pr;
    sb_encode_atlas at;
    make_problem(4, 16, 1, 2, 2, SB_BASIS_EUCLIDEAN, SB_GATE_SOFTMAX, 0.0, 8, &pr, &at);
    const sb_encode_tables tb = sb_encode_tables_of(&at, (int)pr.basis, (int)pr.D);
    const double y[SB_ENCODE_MAX_M] = {0.1, 0.2};
    const double zs[] = {0.0, -1.0, NAN, INFINITY};
    for (size_t q = 0; q < sizeof zs / sizeof zs[0]; q++) {
        sb_encode_row_out o;
        sb_encode_row(&tb, 0, zs[q], y, 4.0, &o);
        assert_int_equal(o.chart, -1);
        assert_true(isinf(o.h) && o.h > 0);
        assert_true(o.err == 2.0);
        assert_true(o.t[0] == 0.0 && o.t[1] == 0.0);
        assert_int_equal(o.steps, 0);
    }
    sb_encode_atlas_free(&at);
    sb_encode_problem_free(&pr);
}

/* -------------------------- host vs reference -------------------------- */

/* The host fast path against the CPU reference: the same rows certified,
 * coordinates within 1e-9 (on the circle for the periodic basis), and for
 * rows both certify the same h to rounding unless another candidate of the
 * same minimum was kept (its error equal to rounding). */
static void check_vs_reference(int64_t n, int64_t p, int64_t K, int64_t d, int64_t D, sb_basis_kind basis,
                               sb_gate_kind gate, double noise, uint64_t seed)
{
    sb_encode_problem pr;
    sb_encode_atlas at;
    make_problem(n, p, K, d, D, basis, gate, noise, seed, &pr, &at);
    sb_err e = {{0}};
    sb_encode_result fast, ref;
    assert_int_equal(sb_encode_result_alloc(&fast, n, d, &e), SB_OK);
    assert_int_equal(sb_encode_result_alloc(&ref, n, d, &e), SB_OK);
    assert_int_equal(sb_host_encode(&pr, &at, &fast, &e), SB_OK);
    assert_int_equal(sb_encode_reference(&pr, &at, 0, n, 1, &ref, &e), SB_OK);
    sb_encode_quality q;
    assert_int_equal(sb_encode_metrics(&pr, &fast, &ref, 0, n, 1, &q, &e), SB_OK);
    if (q.agree_rows != n || !(q.max_coord_abs_err < 1e-9))
        fail_msg("d=%lld D=%lld basis=%d gate=%d noise=%g: %lld of %lld rows agree, max |t - t_ref| %.3g",
                 (long long)d, (long long)D, (int)basis, (int)gate, noise, (long long)q.agree_rows, (long long)n,
                 q.max_coord_abs_err);
    /* EN-001's per-row rule (src/parity.h) passes every one of them */
    sb_row_parity worst;
    assert_int_equal(sb_encode_ref_parity(&pr, &fast, &ref, 0, n, 1, &worst, &e), SB_OK);
    if (!(worst.ratio <= 1.0))
        fail_msg("d=%lld D=%lld basis=%d gate=%d noise=%g: row %lld |dt| %.3g, bound %.3g: ratio %.3g", (long long)d,
                 (long long)D, (int)basis, (int)gate, noise, (long long)worst.row, worst.abs_err, worst.bound, worst.ratio);
    assert_true(q.certified_rows > 0);
    for (int64_t i = 0; i < n; i++) {
        if (fast.chart[i] < 0) {
            assert_true(isinf(fast.h[i]));
            assert_true(fabs(fast.recon_err[i] - ref.recon_err[i]) <= 1e-12 * ref.recon_err[i]);
            continue;
        }
        /* the m-space ‖r‖ resolves down to ~3e-7·‖x‖ (SB_ENC_ERR2_FLOOR) */
        assert_true(fabs(fast.recon_err[i] - ref.recon_err[i]) <= 1e-9 + 1e-6 * ref.recon_err[i] + 1e-6);
        /* h = β·η·L at acceptance: η, a Newton step near convergence, carries
         * the rounding of the gradient (absolute ~1e-16·‖J‖‖x‖), so compare
         * with an absolute part; h ≤ ½ here */
        if (fast.chart[i] == ref.chart[i] && !(fabs(fast.h[i] - ref.h[i]) <= 1e-6 * ref.h[i] + 1e-8))
            fail_msg("row %lld chart %d: h %.17g vs reference %.17g", (long long)i, fast.chart[i], fast.h[i],
                     ref.h[i]);
    }
    sb_encode_result_free(&fast);
    sb_encode_result_free(&ref);
    sb_encode_atlas_free(&at);
    sb_encode_problem_free(&pr);
}

static void test_host_vs_reference(void **unused)
{
    (void)unused;
    const sb_gate_kind gates[] = {SB_GATE_SOFTMAX, SB_GATE_IBP, SB_GATE_JUMPRELU};
    for (int g = 0; g < 3; g++) {
        check_vs_reference(120, 48, 3, 2, 3, SB_BASIS_EUCLIDEAN, gates[g], 1e-3, 100 + g);
        check_vs_reference(80, 40, 2, 1, 3, SB_BASIS_PERIODIC, gates[g], 1e-3, 200 + g);
        check_vs_reference(80, 40, 2, 1, 4, SB_BASIS_PERIODIC, gates[g], 0.0, 300 + g);
    }
    check_vs_reference(60, 36, 2, 1, 5, SB_BASIS_EUCLIDEAN, SB_GATE_IBP, 0.0, 401);
    check_vs_reference(60, 36, 3, 3, 2, SB_BASIS_EUCLIDEAN, SB_GATE_JUMPRELU, 1e-2, 402);
    check_vs_reference(40, 30, 2, 4, 2, SB_BASIS_EUCLIDEAN, SB_GATE_SOFTMAX, 1e-3, 403);
    check_vs_reference(100, 40, 3, 2, 3, SB_BASIS_EUCLIDEAN, SB_GATE_SOFTMAX, 0.3, 7); /* with fallbacks */
}

/* EN-001 on an ill-conditioned row (d = 2, D = 1, so Φ = (1, t₀, t₁): a
 * linear least-squares row). The decoder rows of t₀ and t₁ are nearly
 * parallel (‖b₂ − b₁‖ ≈ 1e-5), so λ_min(H) ≈ 1e-10 and β ≈ 1e10. The exact
 * minimiser t* comes from modified Gram–Schmidt in long double (error
 * ≲ κ(J)·2^-64 ≈ 1e-14); the fast path's own m-space arithmetic
 * (sb_enc_point_eval: y = B·x and G = B·Bᵀ, each rounded on its own, then
 * one Newton step by its Cholesky) lands where FP64 lets it: more than 1e-9
 * from t* — the old absolute rule (EN-005) would fail this correct answer —
 * and within the per-row bound c·β·ε·G, which grows with β. A 1e-3 relative
 * error on the same row still fails. */
static void test_row_parity_ill_conditioned(void **unused)
{
    (void)unused;
    enum { P = 64, M = 3 };
    const double z = 0.8, t_gen[2] = {0.3, -0.2}, delta = 1e-5;
    double B[M * P], X[P];
    uint64_t seed = 77;
    double u[P];
    for (int j = 0; j < 2; j++) {
        double ss = 0.0;
        for (int c = 0; c < P; c++) {
            B[j * P + c] = urand(&seed);
            ss += B[j * P + c] * B[j * P + c];
        }
        for (int c = 0; c < P; c++)
            B[j * P + c] /= sqrt(ss);
    }
    for (int c = 0; c < P; c++)
        u[c] = urand(&seed);
    for (int c = 0; c < P; c++)
        B[2 * P + c] = B[P + c] + delta * u[c]; /* b₂ ≈ b₁ */
    for (int c = 0; c < P; c++)
        X[c] = z * (B[c] + t_gen[0] * B[P + c] + t_gen[1] * B[2 * P + c]);

    /* t* = argmin ‖z·(b₀ + t₀b₁ + t₁b₂) − x‖: A = z·[b₁ b₂], w = x − z·b₀, by MGS */
    long double a1[P], a2[P], w[P], n1 = 0, q12 = 0, n2 = 0, w1 = 0, w2 = 0;
    for (int c = 0; c < P; c++) {
        a1[c] = (long double)z * B[P + c];
        a2[c] = (long double)z * B[2 * P + c];
        w[c] = (long double)X[c] - (long double)z * B[c];
        n1 += a1[c] * a1[c];
    }
    n1 = sqrtl(n1);
    for (int c = 0; c < P; c++)
        q12 += a1[c] / n1 * a2[c];
    for (int c = 0; c < P; c++) {
        a2[c] -= q12 * a1[c] / n1;
        n2 += a2[c] * a2[c];
    }
    n2 = sqrtl(n2);
    for (int c = 0; c < P; c++) {
        w1 += a1[c] / n1 * w[c];
        w2 += a2[c] / n2 * w[c];
    }
    const long double s1 = w2 / n2;
    const double t_exact[2] = {(double)((w1 - q12 * s1) / n1), (double)s1};

    /* the fast path's Newton step from t*, in m-space */
    double G[M * M], y[M], xx = 0.0;
    for (int i = 0; i < M; i++) {
        double s = 0.0;
        for (int c = 0; c < P; c++)
            s += B[i * P + c] * X[c];
        y[i] = s;
        for (int j = 0; j < M; j++) {
            double g = 0.0;
            for (int c = 0; c < P; c++)
                g += B[i * P + c] * B[j * P + c];
            G[i * M + j] = g;
        }
    }
    for (int c = 0; c < P; c++)
        xx += X[c] * X[c];
    const sb_encode_tables tb = basis_tables(SB_BASIS_EUCLIDEAN, 2, 1);
    sb_enc_point pt;
    sb_enc_point_eval(&tb, G, z, y, xx, t_exact, 1, &pt);
    double L[4] = {0}, step[2];
    assert_int_equal(sb_enc_chol(2, pt.H, L), 1);
    sb_enc_chol_solve_neg(2, L, pt.g, step);
    const double t_fast[2] = {t_exact[0] + step[0], t_exact[1] + step[1]};

    /* one row, both "certified" (chart 0), the exact answer as the reference */
    int32_t atom = 0;
    double zz = z;
    sb_encode_problem pr = {.n = 1, .p = P, .K = 1, .d = 2, .D = 1, .m = M, .basis = SB_BASIS_EUCLIDEAN,
                            .B = B, .X = X, .atom = &atom, .z = &zz};
    sb_err e = {{0}};
    sb_encode_result ref, res;
    assert_int_equal(sb_encode_result_alloc(&ref, 1, 2, &e), SB_OK);
    assert_int_equal(sb_encode_result_alloc(&res, 1, 2, &e), SB_OK);
    ref.chart[0] = res.chart[0] = 0;
    memcpy(ref.t, t_exact, sizeof t_exact);
    memcpy(res.t, t_fast, sizeof t_fast);
    sb_row_parity w0;
    assert_int_equal(sb_encode_ref_parity(&pr, &res, &ref, 0, 1, 1, &w0, &e), SB_OK);
    if (!(w0.beta > 1e9 && w0.abs_err > 1e-9 && w0.ratio <= 1.0))
        fail_msg("beta %.3g G %.3g |dt| %.3g bound %.3g ratio %.3g", w0.beta, w0.grad_scale, w0.abs_err, w0.bound,
                 w0.ratio);
    /* β·G·ε·c dominates the bound here, not the stopping term */
    assert_true(w0.bound > 100.0 * 2.0 * w0.stop);
    /* a wrong answer on the same row: 1e-3 relative */
    res.t[0] = t_exact[0] * (1.0 + 1e-3);
    res.t[1] = t_exact[1];
    assert_int_equal(sb_encode_ref_parity(&pr, &res, &ref, 0, 1, 1, &w0, &e), SB_OK);
    assert_true(w0.ratio > 1.0);
    sb_encode_result_free(&ref);
    sb_encode_result_free(&res);
}

/* ------------------------------- host ops ------------------------------- */

static void test_group_rows(void **unused)
{
    (void)unused;
    int32_t atom[7] = {2, 0, 2, 1, 0, 2, 0};
    double z[7] = {0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5};
    sb_encode_problem b = {.n = 7, .K = 4, .atom = atom, .z = z};
    int32_t perm[7];
    int64_t off[5];
    int identity = -1;
    sb_err e = {{0}};
    assert_int_equal(sb_encode_group_rows(&b, 4, perm, off, &identity, &e), SB_OK);
    const int32_t want[7] = {1, 4, 6, 3, 0, 2, 5};
    const int64_t woff[5] = {0, 3, 4, 7, 7};
    for (int r = 0; r < 7; r++)
        assert_int_equal(perm[r], want[r]);
    for (int k = 0; k < 5; k++)
        assert_int_equal(off[k], woff[k]);
    assert_int_equal(identity, 0);
    int32_t sorted[5] = {0, 0, 1, 3, 3};
    sb_encode_problem s = {.n = 5, .K = 4, .atom = sorted, .z = z};
    assert_int_equal(sb_encode_group_rows(&s, 4, perm, off, &identity, &e), SB_OK);
    assert_int_equal(identity, 1);
    atom[5] = 4;
    assert_int_equal(sb_encode_group_rows(&b, 4, perm, off, &identity, &e), SB_E_INPUT);
    assert_non_null(strstr(e.msg, "row 5"));
    atom[5] = -1;
    assert_int_equal(sb_encode_group_rows(&b, 4, perm, off, &identity, &e), SB_E_INPUT);
    atom[5] = 2;
    const double bad_z[] = {0.0, -1.0, NAN, INFINITY};
    for (size_t q = 0; q < sizeof bad_z / sizeof bad_z[0]; q++) {
        z[3] = bad_z[q];
        assert_int_equal(sb_encode_group_rows(&b, 4, perm, off, &identity, &e), SB_E_INPUT);
        assert_non_null(strstr(e.msg, "row 3"));
    }
}

static int results_equal(const sb_encode_result *a, const sb_encode_result *b, int64_t n, int64_t d)
{
    return memcmp(a->t, b->t, (size_t)(n * d) * sizeof(double)) == 0 &&
           memcmp(a->h, b->h, (size_t)n * sizeof(double)) == 0 &&
           memcmp(a->recon_err, b->recon_err, (size_t)n * sizeof(double)) == 0 &&
           memcmp(a->chart, b->chart, (size_t)n * sizeof(int32_t)) == 0 &&
           memcmp(a->steps, b->steps, (size_t)n * sizeof(int32_t)) == 0;
}

static void test_host_ops(void **unused)
{
    (void)unused;
    sb_encode_problem pr;
    sb_encode_atlas at;
    make_problem(300, 48, 5, 2, 2, SB_BASIS_EUCLIDEAN, SB_GATE_SOFTMAX, 1e-3, 41, &pr, &at);
    sb_err e = {{0}};
    sb_encode_result r1, r2, r3;
    assert_int_equal(sb_encode_result_alloc(&r1, pr.n, pr.d, &e), SB_OK);
    assert_int_equal(sb_encode_result_alloc(&r2, pr.n, pr.d, &e), SB_OK);
    assert_int_equal(sb_encode_result_alloc(&r3, pr.n, pr.d, &e), SB_OK);
    const sb_encode_ops *ops = &sb_host_encode_ops;
    void *st = NULL;
    assert_int_equal(ops->create(&pr, &at, &st, &e), SB_OK);
    assert_int_equal(ops->encode(st, &r1, &e), SB_E_RUNTIME); /* nothing staged */
    assert_int_equal(ops->run(st, &pr, &r1, &e), SB_OK);
    assert_int_equal(ops->encode(st, &r2, &e), SB_OK);
    assert_true(results_equal(&r1, &r2, pr.n, pr.d));
    int atoms_used = 0;
    for (int64_t k = 0; k < pr.K; k++) {
        int used = 0;
        for (int64_t i = 0; i < pr.n; i++)
            used |= pr.atom[i] == k;
        atoms_used += used;
    }
    sb_telemetry t;
    ops->telemetry(st, &t);
    assert_int_equal(t.frame_builds, 1);
    assert_int_equal(t.library_calls, 2 * atoms_used);
    assert_int_equal(t.handle_creations + t.h2d_bytes + t.d2h_bytes + t.own_kernel_launches, 0);

    /* the same rows already grouped by atom (the no-copy path): the same per-row results */
    sb_encode_problem g = pr;
    int32_t *perm = malloc((size_t)pr.n * sizeof *perm);
    int64_t *off = malloc((size_t)(pr.K + 1) * sizeof *off);
    g.X = malloc((size_t)(pr.n * pr.p) * sizeof(double));
    g.atom = malloc((size_t)pr.n * sizeof(int32_t));
    g.z = malloc((size_t)pr.n * sizeof(double));
    assert_true(perm && off && g.X && g.atom && g.z);
    int identity;
    assert_int_equal(sb_encode_group_rows(&pr, pr.K, perm, off, &identity, &e), SB_OK);
    assert_int_equal(identity, 0);
    for (int64_t r = 0; r < pr.n; r++) {
        memcpy((double *)g.X + r * pr.p, pr.X + perm[r] * pr.p, (size_t)pr.p * sizeof(double));
        g.atom[r] = pr.atom[perm[r]];
        g.z[r] = pr.z[perm[r]];
    }
    assert_int_equal(ops->run(st, &g, &r3, &e), SB_OK);
    for (int64_t r = 0; r < pr.n; r++) {
        const int64_t i = perm[r];
        assert_int_equal(r3.chart[r], r1.chart[i]);
        assert_int_equal(r3.steps[r], r1.steps[i]);
        assert_true(r3.h[r] == r1.h[i] || (isinf(r3.h[r]) && isinf(r1.h[i])));
        for (int64_t a = 0; a < pr.d; a++)
            assert_true(r3.t[r * pr.d + a] == r1.t[i * pr.d + a]);
    }

    /* batch checks */
    sb_encode_problem bad = pr;
    bad.n = pr.n + 1;
    assert_int_equal(ops->upload(st, &bad, &e), SB_E_INPUT);
    bad = pr;
    bad.p = pr.p + 1;
    assert_int_equal(ops->upload(st, &bad, &e), SB_E_INPUT);
    assert_int_equal(ops->encode(st, &r2, &e), SB_E_RUNTIME); /* the failed upload unstaged the batch */
    ops->destroy(st);

    /* small projection chunks (several DGEMMs per atom, a partial one last):
     * the same rows certified, coordinates equal to rounding */
    sb_host_encode_chunk_rows = 7;
    assert_int_equal(ops->create(&pr, &at, &st, &e), SB_OK);
    sb_host_encode_chunk_rows = 0;
    assert_int_equal(ops->run(st, &pr, &r2, &e), SB_OK);
    ops->telemetry(st, &t);
    long long want_calls = 0;
    for (int64_t k = 0; k < pr.K; k++) {
        int64_t nk = 0;
        for (int64_t i = 0; i < pr.n; i++)
            nk += pr.atom[i] == k;
        want_calls += (nk + 6) / 7;
    }
    assert_int_equal(t.library_calls, want_calls);
    for (int64_t i = 0; i < pr.n; i++) {
        assert_int_equal(r2.chart[i] >= 0, r1.chart[i] >= 0);
        for (int64_t a = 0; a < pr.d; a++)
            assert_true(fabs(r2.t[i * pr.d + a] - r1.t[i * pr.d + a]) < 1e-12);
    }
    ops->destroy(st);

    /* create checks */
    sb_encode_problem wrong = pr;
    wrong.m = pr.m + 1;
    assert_int_equal(ops->create(&wrong, &at, &st, &e), SB_E_INPUT);
    assert_null(st);

    free(perm);
    free(off);
    free((double *)g.X);
    free(g.atom);
    free(g.z);
    sb_encode_result_free(&r1);
    sb_encode_result_free(&r2);
    sb_encode_result_free(&r3);
    sb_encode_atlas_free(&at);
    sb_encode_problem_free(&pr);
}

/* The device encode (sb_cuda_backend's encode table: cuda/encode_backend.cu
 * in a CUDA build, absent in a host build) declines batches under 4096 rows
 * before touching a device, so this runs without a GPU. */
static void test_device_declines_small_batches(void **unused)
{
    (void)unused;
    const sb_backend *cuda = sb_backend_by_name("cuda");
    const sb_encode_ops *ops = cuda ? cuda->encode : NULL;
    if (!ops) {
        skip();
        return;
    }
    assert_ptr_equal(sb_backend_by_name("host")->encode, &sb_host_encode_ops);
    sb_encode_problem pr;
    sb_encode_atlas at;
    make_problem(SB_ENCODE_DEVICE_MIN_ROWS - 1, 8, 1, 1, 2, SB_BASIS_EUCLIDEAN, SB_GATE_SOFTMAX, 0.0, 1, &pr, &at);
    sb_err e = {{0}};
    void *st = (void *)1;
    assert_int_equal(ops->create(&pr, &at, &st, &e), SB_E_NODEVICE);
    assert_null(st);
    assert_non_null(strstr(e.msg, "device path only for batches"));
    assert_non_null(strstr(e.msg, "4096"));
    assert_non_null(strstr(e.msg, "4095"));
    sb_encode_atlas_free(&at);
    sb_encode_problem_free(&pr);
}

/* A batch the device path takes (≥ 4096 rows): without a GPU (here) create
 * says there is none; with one, the device encode must certify the rows the
 * host fast path certifies, with coordinates within 1e-9 (the device
 * contracts to FMA, so the bits differ), repeat its own bits, take an
 * already-grouped batch, decline a small batch at upload, and account its
 * traffic exactly as cuda/encode_backend.cu documents. */
static void test_device_encode_or_no_device(void **unused)
{
    (void)unused;
    const sb_backend *cuda = sb_backend_by_name("cuda");
    const sb_encode_ops *ops = cuda ? cuda->encode : NULL;
    if (!ops) {
        skip();
        return;
    }
    sb_encode_problem pr;
    sb_encode_atlas at;
    make_problem(SB_ENCODE_DEVICE_MIN_ROWS + 37, 64, 5, 2, 3, SB_BASIS_EUCLIDEAN, SB_GATE_IBP, 1e-3, 91, &pr, &at);
    sb_err e = {{0}};
    void *st = NULL;
    sb_rc rc = ops->create(&pr, &at, &st, &e);
    if (rc == SB_E_NODEVICE) {
        assert_null(st);
        assert_non_null(strstr(e.msg, "no CUDA device"));
        sb_encode_atlas_free(&at);
        sb_encode_problem_free(&pr);
        return;
    }
    assert_int_equal(rc, SB_OK);
    const int64_t n = pr.n, p = pr.p, K = pr.K, m = pr.m, d = pr.d, C = at.charts;
    sb_encode_result dev, again, host;
    assert_int_equal(sb_encode_result_alloc(&dev, n, d, &e), SB_OK);
    assert_int_equal(sb_encode_result_alloc(&again, n, d, &e), SB_OK);
    assert_int_equal(sb_encode_result_alloc(&host, n, d, &e), SB_OK);
    assert_int_equal(ops->run(st, &pr, &dev, &e), SB_OK);
    assert_int_equal(ops->encode(st, &again, &e), SB_OK);
    assert_true(results_equal(&dev, &again, n, d));
    assert_int_equal(sb_host_encode(&pr, &at, &host, &e), SB_OK);
    sb_encode_quality q;
    assert_int_equal(sb_encode_metrics(&pr, &dev, &host, 0, n, 1, &q, &e), SB_OK);
    assert_int_equal(q.agree_rows, n);
    assert_true(q.certified_rows > n / 2);
    assert_true(q.max_coord_abs_err < 1e-9);

    int64_t atoms_used = 0;
    for (int64_t k = 0; k < K; k++) {
        int used = 0;
        for (int64_t i = 0; i < n; i++)
            used |= pr.atom[i] == k;
        atoms_used += used;
    }
    const long long resident = 8LL * (K * m * p + C * d + K * C * (m + d * m + d * d + 2) + K + K * m * m + C * 4);
    const long long upload = n * (8LL * p + 4 + 8 + 4), download = n * (8LL * d + 8 + 8 + 4 + 4);
    sb_telemetry t;
    ops->telemetry(st, &t);
    assert_int_equal(t.handle_creations, 1);
    assert_int_equal(t.frame_builds, 1);
    assert_int_equal(t.h2d_bytes, resident + upload);
    assert_int_equal(t.d2h_bytes, 2 * download);
    assert_int_equal(t.library_calls, 2 * atoms_used);
    assert_int_equal(t.own_kernel_launches, 4);

    /* the same rows grouped by atom: the copy is skipped, the results are the same per row */
    sb_encode_problem g = pr;
    int32_t *perm = malloc((size_t)n * sizeof *perm);
    int64_t *off = malloc((size_t)(K + 1) * sizeof *off);
    g.X = malloc((size_t)(n * p) * sizeof(double));
    g.atom = malloc((size_t)n * sizeof(int32_t));
    g.z = malloc((size_t)n * sizeof(double));
    assert_true(perm && off && g.X && g.atom && g.z);
    int identity;
    assert_int_equal(sb_encode_group_rows(&pr, K, perm, off, &identity, &e), SB_OK);
    for (int64_t r = 0; r < n; r++) {
        memcpy((double *)g.X + r * p, pr.X + perm[r] * p, (size_t)p * sizeof(double));
        g.atom[r] = pr.atom[perm[r]];
        g.z[r] = pr.z[perm[r]];
    }
    assert_int_equal(ops->run(st, &g, &again, &e), SB_OK);
    for (int64_t r = 0; r < n; r++) {
        assert_int_equal(again.chart[r], dev.chart[perm[r]]);
        for (int64_t a = 0; a < d; a++)
            assert_true(again.t[r * d + a] == dev.t[perm[r] * d + a]);
    }
    /* a batch under 4096 rows is declined at upload too */
    sb_encode_problem small = pr;
    small.n = SB_ENCODE_DEVICE_MIN_ROWS - 1;
    assert_int_equal(ops->upload(st, &small, &e), SB_E_NODEVICE);
    assert_non_null(strstr(e.msg, "4096"));
    ops->destroy(st);
    free(perm);
    free(off);
    free((double *)g.X);
    free(g.atom);
    free(g.z);
    sb_encode_result_free(&dev);
    sb_encode_result_free(&again);
    sb_encode_result_free(&host);
    sb_encode_atlas_free(&at);
    sb_encode_problem_free(&pr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basis_order_and_values),
        cmocka_unit_test(test_basis_derivatives_fd),
        cmocka_unit_test(test_basis_matches_setup_tables),
        cmocka_unit_test(test_basis_matches_reference_basis),
        cmocka_unit_test(test_m_space_identities),
        cmocka_unit_test(test_lambda_min_vs_lapack),
        cmocka_unit_test(test_cholesky_solve),
        cmocka_unit_test(test_lipschitz_matches_setup),
        cmocka_unit_test(test_sqnorm_order),
        cmocka_unit_test(test_row_fallback),
        cmocka_unit_test(test_host_vs_reference),
        cmocka_unit_test(test_row_parity_ill_conditioned),
        cmocka_unit_test(test_group_rows),
        cmocka_unit_test(test_host_ops),
        cmocka_unit_test(test_device_declines_small_batches),
        cmocka_unit_test(test_device_encode_or_no_device),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
