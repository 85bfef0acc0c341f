/* Unit tests for encode (docs/workloads.md §5): basis sizes and
 * order (the setup's and the reference's independent evaluations against
 * the documented order and against each other), every parameter check, the
 * fixture pinned to values computed independently (Python, big-integer SplitMix64),
 * the atlas tables, the Lipschitz bound L against sampled Hessian
 * differences, the reference's derivatives against finite differences,
 * Newton's quadratic convergence, hand-made certificate and fallback rows,
 * ground-truth recovery on tiny shapes for every basis and gate, the
 * metrics on hand-made results, and EN-001's per-row parity (src/parity.h):
 * β and G on a hand-made row, the host fast path's answer passing, and wrong
 * answers (a well-conditioned row moved by 1e-6 relative, a certification
 * disagreement, a NaN) rejected and named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <lapacke.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode.h"
#include "host/host_encode.h"
#include "parity.h"
#include "rs_fixture.h"

/* ------------------------------ helpers ------------------------------ */
static void gen(int64_t n, int64_t p, int64_t K, int64_t d, int64_t D, sb_basis_kind basis, sb_gate_kind gate,
                double noise, uint64_t seed, sb_encode_problem *prob, sb_encode_atlas *atlas)
{
    sb_encode_params prm = {.n = n, .p = p, .K = K, .d = d, .D = D, .basis = basis, .gate = gate,
                            .noise = noise, .seed = seed};
    sb_err e = {{0}};
    assert_int_equal(sb_encode_generate(&prm, prob, &e), SB_OK);
    if (atlas)
        assert_int_equal(sb_encode_atlas_build(prob, atlas, &e), SB_OK);
}

static void encode_all(const sb_encode_problem *prob, const sb_encode_atlas *atlas, sb_encode_result *res)
{
    sb_err e = {{0}};
    assert_int_equal(sb_encode_result_alloc(res, prob->n, prob->d, &e), SB_OK);
    assert_int_equal(sb_encode_reference(prob, atlas, 0, prob->n, 1, res, &e), SB_OK);
}

/* ‖A‖₂ of a symmetric d×d matrix. */
static double sym_norm2(const double *A, int64_t d)
{
    double W[SB_ENCODE_MAX_D * SB_ENCODE_MAX_D], w[SB_ENCODE_MAX_D];
    memcpy(W, A, (size_t)(d * d) * sizeof(double));
    assert_int_equal(LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'N', 'U', (lapack_int)d, W, (lapack_int)d, w), 0);
    return fmax(fabs(w[0]), fabs(w[d - 1]));
}

static double uniform01(sb_splitmix *g) { return 0.5 * (1.0 + sb_splitmix_uniform(g)); }

/* z·B_kᵀΦ(t) with the reference's basis, into x (p). */
static void decode(const sb_encode_problem *prob, int64_t k, double z, const double *t, double *x)
{
    double phi[SB_ENCODE_MAX_M];
    sb_encode_ref_basis(prob->basis, prob->d, prob->D, t, phi, NULL, NULL);
    for (int64_t c = 0; c < prob->p; c++) {
        double v = 0.0;
        for (int64_t j = 0; j < prob->m; j++)
            v += phi[j] * prob->B[(k * prob->m + j) * prob->p + c];
        x[c] = z * v;
    }
}

/* A hand-made problem with one atom and B = I (p = m). */
static void identity_problem(sb_encode_problem *prob, sb_basis_kind basis, int64_t d, int64_t D, int64_t n)
{
    memset(prob, 0, sizeof *prob);
    const int64_t m = sb_encode_basis_size(basis, d, D);
    prob->n = n, prob->p = m, prob->K = 1, prob->d = d, prob->D = D, prob->m = m, prob->basis = basis;
    prob->B = calloc((size_t)(m * m), sizeof(double));
    prob->X = calloc((size_t)(n * m), sizeof(double));
    prob->atom = calloc((size_t)n, sizeof(int32_t));
    prob->z = calloc((size_t)n, sizeof(double));
    assert_non_null(prob->z);
    for (int64_t j = 0; j < m; j++)
        prob->B[j * m + j] = 1.0;
}

/* ---------------------------- basis sizes ---------------------------- */
static void test_basis_sizes(void **state)
{
    (void)state;
    assert_int_equal(sb_encode_basis_size(SB_BASIS_EUCLIDEAN, 1, 1), 2);
    assert_int_equal(sb_encode_basis_size(SB_BASIS_EUCLIDEAN, 1, 3), 4);
    assert_int_equal(sb_encode_basis_size(SB_BASIS_EUCLIDEAN, 2, 2), 6);
    assert_int_equal(sb_encode_basis_size(SB_BASIS_EUCLIDEAN, 2, 3), 10);
    assert_int_equal(sb_encode_basis_size(SB_BASIS_EUCLIDEAN, 3, 2), 10);
    assert_int_equal(sb_encode_basis_size(SB_BASIS_EUCLIDEAN, 4, 2), 15);
    assert_int_equal(sb_encode_basis_size(SB_BASIS_EUCLIDEAN, 4, 4), 70);
    assert_int_equal(sb_encode_basis_size(SB_BASIS_EUCLIDEAN, 2, 9), 55);
    assert_int_equal(sb_encode_basis_size(SB_BASIS_PERIODIC, 1, 1), 3);
    assert_int_equal(sb_encode_basis_size(SB_BASIS_PERIODIC, 1, 8), 17);
    assert_int_equal(sb_encode_basis_size(SB_BASIS_PERIODIC, 2, 2), 0);
    assert_int_equal(sb_encode_basis_size(SB_BASIS_EUCLIDEAN, 0, 2), 0);
    assert_int_equal(sb_encode_basis_size(SB_BASIS_EUCLIDEAN, 2, 0), 0);
    assert_int_equal(sb_encode_basis_size(SB_BASIS_EUCLIDEAN, 4, INT64_MAX / 2), 0);
    assert_int_equal(sb_encode_basis_size(SB_BASIS_PERIODIC, 1, INT64_MAX / 2), INT64_MAX);
    assert_int_equal(sb_encode_basis_size(SB_BASIS_PERIODIC, 1, INT64_MAX / 2 + 1), 0);
    assert_int_equal(sb_encode_basis_size((sb_basis_kind)7, 1, 2), 0);
    assert_int_equal(sb_encode_atlas_points(1), 16);
    assert_int_equal(sb_encode_atlas_points(2), 16);
    assert_int_equal(sb_encode_atlas_points(3), 8);
    assert_int_equal(sb_encode_atlas_points(4), 4);
}

/* ---------------------------- basis order ---------------------------- */
static void test_basis_order_reference(void **state)
{
    (void)state;
    const double t[2] = {0.3, -0.7};
    double phi[6], dphi[12], d2[24];
    sb_encode_ref_basis(SB_BASIS_EUCLIDEAN, 2, 2, t, phi, dphi, d2);
    const double want[6] = {1, 0.3, -0.7, 0.09, -0.21, 0.49};
    const double want_d0[6] = {0, 1, 0, 0.6, -0.7, 0}, want_d1[6] = {0, 0, 1, 0, 0.3, -1.4};
    const double want_00[6] = {0, 0, 0, 2, 0, 0}, want_01[6] = {0, 0, 0, 0, 1, 0}, want_11[6] = {0, 0, 0, 0, 0, 2};
    for (int j = 0; j < 6; j++) {
        assert_true(fabs(phi[j] - want[j]) < 1e-15);
        assert_true(fabs(dphi[j] - want_d0[j]) < 1e-15);
        assert_true(fabs(dphi[6 + j] - want_d1[j]) < 1e-15);
        assert_true(fabs(d2[0 * 6 + j] - want_00[j]) < 1e-15);
        assert_true(fabs(d2[1 * 6 + j] - want_01[j]) < 1e-15);
        assert_true(fabs(d2[2 * 6 + j] - want_01[j]) < 1e-15);
        assert_true(fabs(d2[3 * 6 + j] - want_11[j]) < 1e-15);
    }
    /* d = 3, D = 2: 1, t0, t1, t2, t0², t0t1, t0t2, t1², t1t2, t2² */
    const double t3[3] = {2, 3, 5};
    double p3[10];
    sb_encode_ref_basis(SB_BASIS_EUCLIDEAN, 3, 2, t3, p3, NULL, NULL);
    const double w3[10] = {1, 2, 3, 5, 4, 6, 10, 9, 15, 25};
    for (int j = 0; j < 10; j++)
        assert_true(p3[j] == w3[j]);
    /* d = 2, D = 3: cubic block t0³, t0²t1, t0t1², t1³ */
    const double t2[2] = {2, 3};
    double p2[10];
    sb_encode_ref_basis(SB_BASIS_EUCLIDEAN, 2, 3, t2, p2, NULL, NULL);
    const double w2[10] = {1, 2, 3, 4, 6, 9, 8, 12, 18, 27};
    for (int j = 0; j < 10; j++)
        assert_true(p2[j] == w2[j]);
    /* periodic: 1, sin 2πt, cos 2πt, sin 4πt, cos 4πt */
    const double tp = 0.1;
    double pp[5], dp[5], d2p[5];
    sb_encode_ref_basis(SB_BASIS_PERIODIC, 1, 2, &tp, pp, dp, d2p);
    const double w = 2 * M_PI;
    const double wp[5] = {1, sin(w * tp), cos(w * tp), sin(2 * w * tp), cos(2 * w * tp)};
    const double wd[5] = {0, w * cos(w * tp), -w * sin(w * tp), 2 * w * cos(2 * w * tp), -2 * w * sin(2 * w * tp)};
    for (int j = 0; j < 5; j++) {
        assert_true(fabs(pp[j] - wp[j]) < 1e-15);
        assert_true(fabs(dp[j] - wd[j]) < 1e-13);
        double want2 = -(double)((j + 1) / 2) * (double)((j + 1) / 2) * w * w * wp[j];
        assert_true(fabs(d2p[j] - want2) < 1e-12);
    }
}

/* The reference's derivatives against central differences of its Φ. */
static void test_basis_derivatives_fd(void **state)
{
    (void)state;
    struct { sb_basis_kind b; int64_t d, D; } cases[] = {
        {SB_BASIS_EUCLIDEAN, 1, 4}, {SB_BASIS_EUCLIDEAN, 2, 3}, {SB_BASIS_EUCLIDEAN, 3, 3},
        {SB_BASIS_EUCLIDEAN, 4, 2}, {SB_BASIS_PERIODIC, 1, 3}};
    for (size_t q = 0; q < sizeof cases / sizeof cases[0]; q++) {
        const int64_t d = cases[q].d, D = cases[q].D, m = sb_encode_basis_size(cases[q].b, d, D);
        double t[4] = {0.31, -0.22, 0.13, -0.41}, phi[64], dphi[256], d2[1024], pp[64], pm[64], dp[256], dm[256];
        sb_encode_ref_basis(cases[q].b, d, D, t, phi, dphi, d2);
        const double h = 1e-6;
        for (int64_t a = 0; a < d; a++) {
            double tp[4], tm[4];
            memcpy(tp, t, sizeof t);
            memcpy(tm, t, sizeof t);
            tp[a] += h;
            tm[a] -= h;
            sb_encode_ref_basis(cases[q].b, d, D, tp, pp, dp, NULL);
            sb_encode_ref_basis(cases[q].b, d, D, tm, pm, dm, NULL);
            for (int64_t j = 0; j < m; j++) {
                assert_true(fabs((pp[j] - pm[j]) / (2 * h) - dphi[a * m + j]) < 1e-7);
                for (int64_t b = 0; b < d; b++)
                    assert_true(fabs((dp[b * m + j] - dm[b * m + j]) / (2 * h) - d2[(a * d + b) * m + j]) < 1e-6);
            }
        }
    }
}

/* The setup's basis (atlas phi, dphi) in the order of docs/workloads.md §5
 * and equal to the reference's own evaluation at every chart centre. */
static void test_basis_order_setup(void **state)
{
    (void)state;
    struct { sb_basis_kind b; int64_t d, D; } cases[] = {
        {SB_BASIS_EUCLIDEAN, 2, 2}, {SB_BASIS_EUCLIDEAN, 1, 3}, {SB_BASIS_EUCLIDEAN, 3, 3},
        {SB_BASIS_EUCLIDEAN, 4, 2}, {SB_BASIS_PERIODIC, 1, 4}};
    for (size_t q = 0; q < sizeof cases / sizeof cases[0]; q++) {
        sb_encode_problem prob;
        sb_encode_atlas at;
        gen(4, 32, 2, cases[q].d, cases[q].D, cases[q].b, SB_GATE_SOFTMAX, 0.0, 5, &prob, &at);
        const int64_t d = prob.d, m = prob.m;
        for (int64_t k = 0; k < 2; k++)
            for (int64_t c = 0; c < at.charts; c++) {
                double phi[64], dphi[256];
                sb_encode_ref_basis(prob.basis, d, prob.D, at.centre + c * d, phi, dphi, NULL);
                for (int64_t j = 0; j < m; j++) {
                    assert_true(fabs(at.phi[(k * at.charts + c) * m + j] - phi[j]) <= 1e-15 * (1 + fabs(phi[j])));
                    for (int64_t a = 0; a < d; a++)
                        assert_true(fabs(at.dphi[((k * at.charts + c) * d + a) * m + j] - dphi[a * m + j]) <=
                                    1e-13 * (1 + fabs(dphi[a * m + j])));
                }
            }
        if (cases[q].d == 2 && cases[q].D == 2) {
            /* chart 17 = grid (1, 1): t = (−0.5 + 1/15, −0.5 + 1/15) */
            const double s = -0.5 + 1.0 / 15.0;
            const double want[6] = {1, s, s, s * s, s * s, s * s};
            for (int j = 0; j < 6; j++)
                assert_true(fabs(at.phi[17 * 6 + j] - want[j]) < 1e-15);
            /* chart 1 = grid (0, 1): t = (−0.5, −0.5 + 1/15): 1, t0, t1, t0², t0t1, t1² */
            const double w1[6] = {1, -0.5, s, 0.25, -0.5 * s, s * s};
            for (int j = 0; j < 6; j++)
                assert_true(fabs(at.phi[1 * 6 + j] - w1[j]) < 1e-15);
        }
        sb_encode_atlas_free(&at);
        sb_encode_problem_free(&prob);
    }
}

/* ------------------------------ params ------------------------------ */
static void expect_bad(sb_encode_params prm, const char *needle)
{
    sb_err e = {{0}};
    assert_int_equal(sb_encode_check_params(&prm, &e), SB_E_INPUT);
    if (!strstr(e.msg, needle)) {
        fprintf(stderr, "message \"%s\" lacks \"%s\"\n", e.msg, needle);
        fail();
    }
    assert_null(strchr(e.msg, '\n'));
    sb_encode_problem prob;
    assert_int_equal(sb_encode_generate(&prm, &prob, &e), SB_E_INPUT);
    assert_null(prob.B);
    sb_encode_problem_free(&prob);
}

static void test_check_params(void **state)
{
    (void)state;
    const sb_encode_params ok = {.n = 8, .p = 16, .K = 3, .d = 2, .D = 2, .basis = SB_BASIS_EUCLIDEAN,
                                 .gate = SB_GATE_SOFTMAX, .noise = 0.01, .seed = 1};
    sb_err e = {{0}};
    assert_int_equal(sb_encode_check_params(&ok, &e), SB_OK);
    sb_encode_params p;
    p = ok, p.basis = (sb_basis_kind)2, expect_bad(p, "basis");
    p = ok, p.gate = (sb_gate_kind)3, expect_bad(p, "gate");
    p = ok, p.n = 0, expect_bad(p, "rows n");
    p = ok, p.n = -5, expect_bad(p, "rows n");
    p = ok, p.p = 0, expect_bad(p, "width p");
    p = ok, p.p = -1, expect_bad(p, "width p");
    p = ok, p.K = 0, expect_bad(p, "atoms K");
    p = ok, p.K = (int64_t)INT32_MAX + 1, expect_bad(p, "atoms K");
    p = ok, p.d = 0, expect_bad(p, "dimension d");
    p = ok, p.d = SB_ENCODE_MAX_D + 1, expect_bad(p, "dimension d");
    p = ok, p.D = 0, expect_bad(p, "degree D");
    p = ok, p.basis = SB_BASIS_PERIODIC, expect_bad(p, "periodic basis needs d = 1");
    p = ok, p.d = 4, p.D = 4, expect_bad(p, "D too large"); /* m = 70 */
    p = ok, p.d = 2, p.D = 10, expect_bad(p, "D too large"); /* m = 66 */
    p = ok, p.d = 1, p.D = 64, expect_bad(p, "D too large"); /* m = 65 */
    p = ok, p.d = 1, p.D = 32, p.basis = SB_BASIS_PERIODIC, expect_bad(p, "D too large"); /* m = 65 */
    p = ok, p.d = 4, p.D = INT64_MAX / 2, expect_bad(p, "D too large");
    p = ok, p.noise = -1e-3, expect_bad(p, "noise");
    p = ok, p.noise = NAN, expect_bad(p, "noise");
    p = ok, p.noise = INFINITY, expect_bad(p, "noise");
    p = ok, p.n = INT64_MAX / 2, p.p = 1 << 20, expect_bad(p, "overflows");
    p = ok, p.K = INT32_MAX, p.p = INT64_MAX / 4, expect_bad(p, "overflows");
    /* boundaries that are fine */
    p = ok, p.d = 1, p.D = 63;
    assert_int_equal(sb_encode_check_params(&p, &e), SB_OK); /* m = 64 */
    p = ok, p.d = 1, p.D = 31, p.basis = SB_BASIS_PERIODIC;
    assert_int_equal(sb_encode_check_params(&p, &e), SB_OK); /* m = 63 */
    p = ok, p.d = 4, p.D = 3, p.noise = 0;
    assert_int_equal(sb_encode_check_params(&p, &e), SB_OK); /* m = 35 */
    p = ok, p.K = 1, p.n = 1, p.p = 1;
    assert_int_equal(sb_encode_check_params(&p, &e), SB_OK);
    assert_int_equal(sb_encode_problem_bytes(&ok), (uint64_t)((3 * 6 * 16 + 8 * 16 + 8 * 2 + 8) * 8 + 8 * 4));
}

/* ------------------------------ fixture ------------------------------ */
/* Values from an independent Python implementation (big-integer SplitMix64,
 * the formulas of docs/workloads.md §5) for n = 3, p = 4, K = 2, d = 1,
 * D = 2, euclidean, noise 0.1, seed 0x1234. */
static void test_fixture_pinned(void **state)
{
    (void)state;
    const double B0 = -0.4797348981207276, B5_3 = 0.3677411845148801;
    struct { int atom; double t, z, x0, x3; } want[3][3] = {
        {{0, -0.3026442535901843, 0.7262694160367089, -0.3062363565084885, 0.3970444175759217},
         {0, -0.41243133479554805, 0.692204078777005, -0.4880140034467343, 0.3835502763096915},
         {1, 0.03309802384802736, 0.5369057437050957, 0.2941663670535813, -0.09221068014858655}},
        {{0, -0.3026442535901843, 0.7310879313253801, -0.4161798903746993, 0.39264178630164304},
         {0, -0.20130472990962398, 0.5824047893651944, -0.38689347167639493, 0.34786317667128286},
         {0, -0.12674170230920498, 0.45296430024415135, -0.22984268963051244, 0.3101271979521841}},
        {{0, -0.3026442535901843, 0.7433992211976197, -0.4228358129864302, 0.40013055943560816},
         {0, -0.20130472990962398, 0.4704179098579914, -0.3301232698440948, 0.2765295160354118},
         {0, -0.12674170230920498, 0.3076899362071872, -0.15855707540769662, 0.21552156066002745}}};
    for (int gate = 0; gate < 3; gate++) {
        sb_encode_problem prob;
        gen(3, 4, 2, 1, 2, SB_BASIS_EUCLIDEAN, (sb_gate_kind)gate, 0.1, 0x1234, &prob, NULL);
        assert_true(fabs(prob.B[0] - B0) <= 1e-15);
        assert_true(fabs(prob.B[5 * 4 + 3] - B5_3) <= 1e-15);
        for (int i = 0; i < 3; i++) {
            assert_int_equal(prob.atom[i], want[gate][i].atom);
            assert_true(fabs(prob.t_true[i] - want[gate][i].t) <= 1e-15);
            assert_true(fabs(prob.z[i] - want[gate][i].z) <= 1e-15);
            assert_true(fabs(prob.X[i * 4] - want[gate][i].x0) <= 1e-15);
            assert_true(fabs(prob.X[i * 4 + 3] - want[gate][i].x3) <= 1e-15);
        }
        sb_encode_problem_free(&prob);
    }
}

/* Ranges, unit decoder rows, noise-free rows on the model, thread count. */
static void test_fixture_properties(void **state)
{
    (void)state;
    for (int basis = 0; basis < 2; basis++)
        for (int gate = 0; gate < 3; gate++) {
            const int64_t n = 400, p = 24, K = 5, d = basis ? 1 : 2, D = 2;
            sb_encode_problem prob, again, noisy;
            gen(n, p, K, d, D, (sb_basis_kind)basis, (sb_gate_kind)gate, 0.0, 77, &prob, NULL);
            assert_int_equal(prob.m, basis ? 5 : 6);
            for (int64_t r = 0; r < K * prob.m; r++) {
                double ss = 0;
                for (int64_t c = 0; c < p; c++)
                    ss += prob.B[r * p + c] * prob.B[r * p + c];
                assert_true(fabs(ss - 1.0) < 1e-14);
            }
            int seen[5] = {0};
            double zmin = 1e300, zmax = -1e300, x[24];
            for (int64_t i = 0; i < n; i++) {
                assert_true(prob.atom[i] >= 0 && prob.atom[i] < K);
                seen[prob.atom[i]] = 1;
                zmin = fmin(zmin, prob.z[i]);
                zmax = fmax(zmax, prob.z[i]);
                for (int64_t a = 0; a < d; a++) {
                    double t = prob.t_true[i * d + a];
                    assert_true(basis ? (t >= -0.5 && t < 0.5) : fabs(t) <= 0.45);
                }
                decode(&prob, prob.atom[i], prob.z[i], prob.t_true + i * d, x);
                for (int64_t c = 0; c < p; c++)
                    assert_true(fabs(x[c] - prob.X[i * p + c]) < 1e-14);
            }
            for (int k = 0; k < K; k++)
                assert_true(seen[k]);
            if (gate == SB_GATE_SOFTMAX)
                assert_true(zmin >= 0.5 - 1e-12 && zmax < 1.0);
            else if (gate == SB_GATE_IBP)
                assert_true(zmin >= 0.25 && zmax < 0.953);
            else
                assert_true(zmin >= 0.2 && zmax < 1.0);
            assert_true(zmax - zmin > 0.2); /* the amplitude varies */

            /* bit-identical for any thread count */
            int threads = omp_get_max_threads();
            omp_set_num_threads(1);
            gen(n, p, K, d, D, (sb_basis_kind)basis, (sb_gate_kind)gate, 0.0, 77, &again, NULL);
            omp_set_num_threads(threads);
            assert_memory_equal(prob.X, again.X, (size_t)(n * p) * sizeof(double));
            assert_memory_equal(prob.B, again.B, (size_t)(K * prob.m * p) * sizeof(double));
            assert_memory_equal(prob.z, again.z, (size_t)n * sizeof(double));
            /* the noise level changes only x, by noise·u, |u| ≤ 1 */
            gen(n, p, K, d, D, (sb_basis_kind)basis, (sb_gate_kind)gate, 0.01, 77, &noisy, NULL);
            assert_memory_equal(prob.t_true, noisy.t_true, (size_t)(n * d) * sizeof(double));
            assert_memory_equal(prob.z, noisy.z, (size_t)n * sizeof(double));
            double dmax = 0;
            for (int64_t q = 0; q < n * p; q++)
                dmax = fmax(dmax, fabs(noisy.X[q] - prob.X[q]));
            assert_true(dmax <= 0.01 + 1e-15 && dmax > 0.009);
            sb_encode_problem_free(&prob);
            sb_encode_problem_free(&again);
            sb_encode_problem_free(&noisy);
        }
}

/* ------------------------------- atlas ------------------------------- */
static void test_atlas_tables(void **state)
{
    (void)state;
    sb_encode_problem prob;
    sb_encode_atlas at;
    gen(4, 40, 3, 2, 2, SB_BASIS_EUCLIDEAN, SB_GATE_SOFTMAX, 0.0, 9, &prob, &at);
    const int64_t m = 6, p = 40, d = 2;
    assert_int_equal(at.points, 16);
    assert_int_equal(at.charts, 256);
    assert_true(at.radius == 1.0 / 16.0);
    assert_true(at.centre[0] == -0.5 && at.centre[1] == -0.5);
    assert_true(at.centre[255 * 2] == 0.5 && at.centre[255 * 2 + 1] == 0.5);
    assert_true(at.centre[16 * 2] == -0.5 + 1.0 / 15.0 && at.centre[16 * 2 + 1] == -0.5); /* axis 0 slowest */
    for (int64_t k = 0; k < 3; k++) {
        assert_true(fabs(at.S[k] - 6.0) < 1e-13); /* unit rows */
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < m; j++) {
                double s = 0;
                for (int64_t c = 0; c < p; c++)
                    s += prob.B[(k * m + i) * p + c] * prob.B[(k * m + j) * p + c];
                assert_true(fabs(at.G[(k * m + i) * m + j] - s) < 1e-14);
            }
        for (int64_t c = 0; c < at.charts; c += 7) {
            const int64_t kc = k * at.charts + c;
            /* J₁ over p, then J₁J₁ᵀ + 1e-9 I against Minv and β_c */
            double J[2][40], m1[40], A[4], m1sq = 0;
            for (int64_t col = 0; col < p; col++) {
                m1[col] = 0;
                for (int64_t a = 0; a < d; a++)
                    J[a][col] = 0;
                for (int64_t j = 0; j < m; j++) {
                    double b = prob.B[(k * m + j) * p + col];
                    m1[col] += at.phi[kc * m + j] * b;
                    for (int64_t a = 0; a < d; a++)
                        J[a][col] += at.dphi[(kc * d + a) * m + j] * b;
                }
                m1sq += m1[col] * m1[col];
            }
            assert_true(fabs(at.m1_sq[kc] - m1sq) < 1e-13 * m1sq);
            for (int64_t a = 0; a < d; a++)
                for (int64_t b = 0; b < d; b++) {
                    double s = 0;
                    for (int64_t col = 0; col < p; col++)
                        s += J[a][col] * J[b][col];
                    A[a * d + b] = s + (a == b ? 1e-9 : 0);
                }
            for (int64_t a = 0; a < d; a++)
                for (int64_t b = 0; b < d; b++) {
                    double s = 0;
                    for (int64_t e = 0; e < d; e++)
                        s += at.Minv[kc * 4 + a * d + e] * A[e * d + b];
                    assert_true(fabs(s - (a == b)) < 1e-12);
                }
            double lmin = 0.5 * (A[0] + A[3]) - sqrt(0.25 * (A[0] - A[3]) * (A[0] - A[3]) + A[1] * A[1]);
            assert_true(fabs(at.beta_c[kc] - 1.0 / lmin) < 1e-11 * at.beta_c[kc]);
            assert_true(at.beta_c[kc] > 0 && at.beta_c[kc] < 50); /* well conditioned */
        }
    }
    sb_encode_atlas_free(&at);
    sb_encode_problem_free(&prob);

    /* d = 3: 8 points, R = 1/8, 512 charts; d = 4: 4 points, R = 1/4 */
    gen(2, 16, 1, 3, 2, SB_BASIS_EUCLIDEAN, SB_GATE_IBP, 0.0, 3, &prob, &at);
    assert_int_equal(at.points, 8);
    assert_int_equal(at.charts, 512);
    assert_true(at.radius == 0.125);
    assert_true(at.centre[1 * 3 + 2] == -0.5 + 1.0 / 7.0 && at.centre[1 * 3 + 1] == -0.5);
    sb_encode_atlas_free(&at);
    sb_encode_problem_free(&prob);
    gen(2, 16, 1, 4, 2, SB_BASIS_EUCLIDEAN, SB_GATE_IBP, 0.0, 3, &prob, &at);
    assert_int_equal(at.points, 4);
    assert_int_equal(at.charts, 256);
    assert_true(at.radius == 0.25);
    sb_encode_atlas_free(&at);
    sb_encode_problem_free(&prob);
    gen(2, 16, 1, 1, 3, SB_BASIS_PERIODIC, SB_GATE_IBP, 0.0, 3, &prob, &at);
    assert_int_equal(at.charts, 16);
    assert_true(at.centre[0] == -0.5 && at.centre[15] == 0.5);
    sb_encode_atlas_free(&at);
    sb_encode_problem_free(&prob);
}

/* ----------------------------- Lipschitz ----------------------------- */
static void test_lipschitz_formula(void **state)
{
    (void)state;
    sb_encode_problem prob;
    sb_encode_atlas at;
    gen(2, 16, 2, 2, 2, SB_BASIS_EUCLIDEAN, SB_GATE_SOFTMAX, 0.0, 4, &prob, &at);
    /* chart 17: ρ = 0.5 − 1/15 + 1/16; d·D = 4 */
    const double rho = 0.5 - 1.0 / 15.0 + 1.0 / 16.0;
    double M[4];
    sb_encode_lipschitz_moments(&at, 17, 2, M);
    assert_true(fabs(M[0] - 1.0) < 1e-15 && fabs(M[1] - 4.0) < 1e-15 && fabs(M[2] - 16.0) < 1e-15);
    assert_true(fabs(M[3] - 64.0 / rho) < 1e-12);
    const double S = at.S[1], Z = 0.7, T = 2.5;
    const double L = 3 * (Z * S * 4) * (Z * S * 16) + (T + Z * S) * (Z * S * 64 / rho);
    assert_true(fabs(sb_encode_lipschitz(&at, 1, 17, 2, Z, T) - L) < 1e-12 * L);
    assert_true(sb_encode_lipschitz_region(&at, 17, 2) == 1.0);
    /* a D that fits neither basis: no bound */
    sb_encode_lipschitz_moments(&at, 17, 5, M);
    assert_true(isinf(M[0]) && isinf(M[3]));
    assert_true(isinf(sb_encode_lipschitz(&at, 1, 17, 5, Z, T)));
    sb_encode_atlas_free(&at);
    sb_encode_problem_free(&prob);

    gen(2, 16, 2, 1, 3, SB_BASIS_PERIODIC, SB_GATE_SOFTMAX, 0.0, 4, &prob, &at);
    sb_encode_lipschitz_moments(&at, 3, 3, M);
    const double w = 6 * M_PI;
    assert_true(M[0] == 1.0 && fabs(M[1] - w) < 1e-13 && fabs(M[2] - w * w) < 1e-11 && fabs(M[3] - w * w * w) < 1e-9);
    assert_true(isinf(sb_encode_lipschitz_region(&at, 3, 3)));
    sb_encode_atlas_free(&at);
    sb_encode_problem_free(&prob);
}

/* ‖H(t₁) − H(t₂)‖₂ ≤ L‖t₁ − t₂‖ for pairs sampled in charts, H the
 * reference's full Hessian; rows on the model and far from it (large ‖x‖,
 * where the T term carries the bound), several atoms, charts, amplitudes. */
static void test_lipschitz_bound(void **state)
{
    (void)state;
    struct { sb_basis_kind b; int64_t d, D; } cases[] = {
        {SB_BASIS_EUCLIDEAN, 1, 2}, {SB_BASIS_EUCLIDEAN, 1, 5}, {SB_BASIS_EUCLIDEAN, 2, 2},
        {SB_BASIS_EUCLIDEAN, 2, 4}, {SB_BASIS_EUCLIDEAN, 3, 3}, {SB_BASIS_PERIODIC, 1, 1},
        {SB_BASIS_PERIODIC, 1, 4}};
    sb_splitmix g;
    sb_splitmix_seed(&g, 2024);
    sb_err e = {{0}};
    for (size_t q = 0; q < sizeof cases / sizeof cases[0]; q++) {
        sb_encode_problem prob;
        sb_encode_atlas at;
        const int64_t p = 20, K = 3;
        gen(4, p, K, cases[q].d, cases[q].D, cases[q].b, SB_GATE_SOFTMAX, 0.0, 11 + q, &prob, &at);
        const int64_t d = prob.d;
        double worst = 0;
        for (int trial = 0; trial < 60; trial++) {
            const int64_t k = trial % K;
            const int64_t c = (int64_t)(uniform01(&g) * (double)at.charts) % at.charts;
            const double z = trial % 3 == 0 ? 0.05 : 0.3 + 0.7 * uniform01(&g);
            double x[20], tt[4];
            for (int64_t a = 0; a < d; a++)
                tt[a] = 0.45 * sb_splitmix_uniform(&g);
            decode(&prob, k, z, tt, x);
            const double scale = trial % 2 ? 0.0 : 3.0 + 10.0 * uniform01(&g);
            double xn = 0;
            for (int64_t col = 0; col < p; col++) {
                x[col] += scale * sb_splitmix_uniform(&g);
                xn += x[col] * x[col];
            }
            xn = sqrt(xn);
            const double L = sb_encode_lipschitz(&at, k, c, prob.D, z, xn);
            assert_true(isfinite(L) && L > 0);
            for (int pair = 0; pair < 20; pair++) {
                double t1[4], t2[4], H1[16], H2[16], g1[4], g2[4], dt = 0, dH[16];
                for (int64_t a = 0; a < d; a++) {
                    t1[a] = at.centre[c * d + a] + at.radius * sb_splitmix_uniform(&g);
                    /* near pairs too: a local constant is what L must bound */
                    double r = pair % 2 ? 1e-3 * at.radius : at.radius;
                    t2[a] = fmin(fmax(t1[a] + r * sb_splitmix_uniform(&g), at.centre[c * d + a] - at.radius),
                                 at.centre[c * d + a] + at.radius);
                    dt += (t1[a] - t2[a]) * (t1[a] - t2[a]);
                }
                dt = sqrt(dt);
                if (dt == 0)
                    continue;
                assert_int_equal(sb_encode_ref_objective(&prob, k, z, x, t1, NULL, g1, H1, &e), SB_OK);
                assert_int_equal(sb_encode_ref_objective(&prob, k, z, x, t2, NULL, g2, H2, &e), SB_OK);
                for (int64_t i = 0; i < d * d; i++)
                    dH[i] = H1[i] - H2[i];
                double ratio = sym_norm2(dH, d) / (L * dt);
                assert_true(ratio <= 1.0);
                worst = fmax(worst, ratio);
            }
        }
        assert_true(worst > 0); /* the Hessian does vary: the check compared something */
        sb_encode_atlas_free(&at);
        sb_encode_problem_free(&prob);
    }
}

/* ------------------------ reference derivatives ------------------------ */
static void test_reference_derivatives_fd(void **state)
{
    (void)state;
    struct { sb_basis_kind b; int64_t d, D; } cases[] = {
        {SB_BASIS_EUCLIDEAN, 1, 3}, {SB_BASIS_EUCLIDEAN, 2, 2}, {SB_BASIS_EUCLIDEAN, 3, 2}, {SB_BASIS_PERIODIC, 1, 3}};
    sb_err e = {{0}};
    for (size_t q = 0; q < sizeof cases / sizeof cases[0]; q++) {
        sb_encode_problem prob;
        gen(6, 30, 2, cases[q].d, cases[q].D, cases[q].b, SB_GATE_IBP, 0.2, 21, &prob, NULL);
        const int64_t d = prob.d;
        for (int64_t i = 0; i < prob.n; i++) {
            const double *x = prob.X + i * prob.p;
            double t[4], f, g[4], H[16];
            for (int64_t a = 0; a < d; a++)
                t[a] = prob.t_true[i * d + a] + 0.05;
            assert_int_equal(sb_encode_ref_objective(&prob, prob.atom[i], prob.z[i], x, t, &f, g, H, &e), SB_OK);
            const double h = 1e-5;
            for (int64_t b = 0; b < d; b++) {
                double tp[4], tm[4], fp, fm, gp[4], gm[4], Hs[16];
                memcpy(tp, t, sizeof t);
                memcpy(tm, t, sizeof t);
                tp[b] += h;
                tm[b] -= h;
                sb_encode_ref_objective(&prob, prob.atom[i], prob.z[i], x, tp, &fp, gp, Hs, &e);
                sb_encode_ref_objective(&prob, prob.atom[i], prob.z[i], x, tm, &fm, gm, Hs, &e);
                assert_true(fabs((fp - fm) / (2 * h) - g[b]) < 1e-7 * (1 + fabs(g[b])));
                for (int64_t a = 0; a < d; a++)
                    assert_true(fabs((gp[a] - gm[a]) / (2 * h) - H[a * d + b]) < 1e-6 * (1 + fabs(H[a * d + b])));
            }
        }
        sb_encode_problem_free(&prob);
    }
}

/* Newton with the reference's full Hessian converges quadratically: on a
 * clean row to t*, and on a noisy row (nonzero residual at the minimiser,
 * where Gauss–Newton would only converge linearly) to its minimiser. */
static void test_newton_quadratic(void **state)
{
    (void)state;
    sb_err e = {{0}};
    for (int noisy = 0; noisy < 2; noisy++) {
        sb_encode_problem prob;
        gen(4, 48, 2, 2, 3, SB_BASIS_EUCLIDEAN, SB_GATE_SOFTMAX, noisy ? 0.3 : 0.0, 31, &prob, NULL);
        const int64_t d = 2, i = 1;
        const double *x = prob.X + i * prob.p;
        double target[2] = {prob.t_true[i * d], prob.t_true[i * d + 1]};
        if (noisy) {
            /* the minimiser, by Newton to convergence from t* */
            double t[2] = {target[0], target[1]}, g[2], H[4];
            for (int it = 0; it < 30; it++) {
                sb_encode_ref_objective(&prob, prob.atom[i], prob.z[i], x, t, NULL, g, H, &e);
                double det = H[0] * H[3] - H[1] * H[2];
                t[0] -= (H[3] * g[0] - H[1] * g[1]) / det;
                t[1] -= (-H[2] * g[0] + H[0] * g[1]) / det;
            }
            sb_encode_ref_objective(&prob, prob.atom[i], prob.z[i], x, t, NULL, g, H, &e);
            assert_true(fabs(g[0]) + fabs(g[1]) < 1e-13);
            double dist = hypot(t[0] - target[0], t[1] - target[1]);
            assert_true(dist > 1e-3); /* the noise moved the minimiser: residual is not zero */
            target[0] = t[0], target[1] = t[1];
        }
        double t[2] = {target[0] + 0.04, target[1] - 0.03}, err[8];
        int steps = 0;
        err[0] = hypot(t[0] - target[0], t[1] - target[1]);
        while (steps < 7 && err[steps] > 1e-14) {
            double g[2], H[4];
            sb_encode_ref_objective(&prob, prob.atom[i], prob.z[i], x, t, NULL, g, H, &e);
            double det = H[0] * H[3] - H[1] * H[2];
            t[0] -= (H[3] * g[0] - H[1] * g[1]) / det;
            t[1] -= (-H[2] * g[0] + H[0] * g[1]) / det;
            steps++;
            err[steps] = hypot(t[0] - target[0], t[1] - target[1]);
        }
        assert_true(err[steps] <= 1e-14);
        assert_true(steps <= 5);
        for (int s = 0; s + 1 <= steps; s++)
            if (err[s] > 1e-6) /* above rounding: e_{k+1} ≤ C·e_k² */
                assert_true(err[s + 1] <= 10.0 * err[s] * err[s]);
        sb_encode_problem_free(&prob);
    }
}

/* ------------------------- certificate cases ------------------------- */
/* A noise-free row exactly at a chart centre: routed to that chart, the warm
 * start is the centre, certified with no Newton step at all. */
static void test_certificate_at_centre(void **state)
{
    (void)state;
    struct { sb_basis_kind b; int64_t d, D, chart; } cases[] = {
        {SB_BASIS_EUCLIDEAN, 2, 2, 17}, {SB_BASIS_EUCLIDEAN, 2, 2, 130}, {SB_BASIS_EUCLIDEAN, 1, 3, 5},
        {SB_BASIS_EUCLIDEAN, 3, 2, 300}, {SB_BASIS_PERIODIC, 1, 3, 9}};
    sb_err e = {{0}};
    for (size_t q = 0; q < sizeof cases / sizeof cases[0]; q++) {
        sb_encode_problem prob;
        sb_encode_atlas at;
        gen(3, 64, 2, cases[q].d, cases[q].D, cases[q].b, SB_GATE_JUMPRELU, 0.0, 41, &prob, &at);
        const int64_t d = prob.d, i = 2, c = cases[q].chart;
        decode(&prob, prob.atom[i], prob.z[i], at.centre + c * d, prob.X + i * prob.p);
        sb_encode_result res;
        assert_int_equal(sb_encode_result_alloc(&res, prob.n, d, &e), SB_OK);
        assert_int_equal(sb_encode_reference(&prob, &at, i, 1, 1, &res, &e), SB_OK);
        assert_int_equal(res.chart[i], c);
        assert_int_equal(res.steps[i], 0);
        assert_true(res.h[i] < 1e-8);
        assert_true(res.recon_err[i] < 1e-14);
        for (int64_t a = 0; a < d; a++)
            assert_true(fabs(res.t[i * d + a] - at.centre[c * d + a]) < 1e-14);
        /* rows outside the set untouched */
        assert_int_equal(res.chart[0], -1);
        assert_true(isinf(res.h[0]));
        sb_encode_result_free(&res);
        sb_encode_atlas_free(&at);
        sb_encode_problem_free(&prob);
    }
}

static void expect_fallback(const sb_encode_problem *prob, const sb_encode_atlas *at, int64_t i)
{
    sb_err e = {{0}};
    sb_encode_result res;
    assert_int_equal(sb_encode_result_alloc(&res, prob->n, prob->d, &e), SB_OK);
    res.chart[i] = 99, res.t[i * prob->d] = 7, res.h[i] = 1; /* must be overwritten */
    assert_int_equal(sb_encode_reference(prob, at, i, 1, 1, &res, &e), SB_OK);
    assert_int_equal(res.chart[i], -1);
    assert_true(isinf(res.h[i]) && res.h[i] > 0);
    for (int64_t a = 0; a < prob->d; a++)
        assert_true(res.t[i * prob->d + a] == 0.0);
    double xn = 0;
    for (int64_t c = 0; c < prob->p; c++)
        xn += prob->X[i * prob->p + c] * prob->X[i * prob->p + c];
    assert_true(fabs(res.recon_err[i] - sqrt(xn)) < 1e-14 * sqrt(xn));
    assert_true(res.steps[i] >= 0 && res.steps[i] <= SB_ENCODE_CANDIDATES * (SB_ENCODE_MAX_NEWTON + SB_ENCODE_REFINE));
    sb_encode_result_free(&res);
}

/* A noise-free row a little off a chart centre: the linearised warm start
 * t_c + A₁(x − z·m₁)/z is already certified (no navigation step; at most
 * the SB_ENCODE_REFINE refining steps), for small amplitudes too. */
static void test_warm_start_near_centre(void **state)
{
    (void)state;
    sb_err e = {{0}};
    sb_encode_problem prob;
    sb_encode_atlas at;
    gen(12, 64, 3, 2, 2, SB_BASIS_EUCLIDEAN, SB_GATE_JUMPRELU, 0.0, 43, &prob, &at);
    const int64_t d = 2;
    for (int64_t i = 0; i < prob.n; i++) {
        const int64_t c = 20 + 17 * i;
        double t[2] = {at.centre[c * d] + 0.002 * (i % 2 ? 1 : -1), at.centre[c * d + 1] + 0.0015};
        prob.t_true[i * d] = t[0], prob.t_true[i * d + 1] = t[1];
        decode(&prob, prob.atom[i], prob.z[i], t, prob.X + i * prob.p);
    }
    sb_encode_result res;
    encode_all(&prob, &at, &res);
    double zmin = 1;
    for (int64_t i = 0; i < prob.n; i++) {
        assert_int_equal(res.chart[i], 20 + 17 * i);
        assert_true(res.steps[i] <= SB_ENCODE_REFINE);
        assert_true(fabs(res.t[i * d] - prob.t_true[i * d]) < 1e-11);
        zmin = fmin(zmin, prob.z[i]);
    }
    assert_true(zmin < 0.5); /* the 1/z of the warm start matters */
    sb_encode_result_free(&res);
    sb_encode_atlas_free(&at);
    sb_encode_problem_free(&prob);
    (void)e;
}

/* Acceptance needs the iterate inside the chart: with charts shrunk to a
 * radius of 1e-3, a row at a centre still certifies, a row 0.02 away from
 * every centre falls back. */
static void test_inside_chart_rule(void **state)
{
    (void)state;
    sb_encode_problem prob;
    sb_encode_atlas at;
    gen(2, 32, 1, 1, 2, SB_BASIS_EUCLIDEAN, SB_GATE_SOFTMAX, 0.0, 44, &prob, &at);
    at.radius = 1e-3;
    const double t0 = at.centre[5], t1 = at.centre[5] + 0.02;
    decode(&prob, 0, prob.z[0], &t0, prob.X);
    decode(&prob, 0, prob.z[1], &t1, prob.X + prob.p);
    sb_encode_result res;
    encode_all(&prob, &at, &res);
    assert_int_equal(res.chart[0], 5);
    assert_true(fabs(res.t[0] - t0) < 1e-14);
    assert_int_equal(res.chart[1], -1);
    assert_true(isinf(res.h[1]) && res.t[1] == 0.0);
    sb_encode_result_free(&res);
    sb_encode_atlas_free(&at);
    sb_encode_problem_free(&prob);
}

/* A candidate whose warm start is a local maximum: B = I, Φ = (1, t, t²),
 * z = 1, x = (1, a, 2) with a = t_c + 2t_c(t_c² − 2), so f' (t_c) = 0 and
 * f'' = 6t_c² − 3 < 0. The warm start is t_c exactly (x − z·m₁ ⟂ J₁), the
 * Newton step is zero, and only λ_min(H) ≤ 0 stands between it and a
 * "certificate" with η = 0. The same chart with x = (1, a', 0.2), a'
 * making t_c a minimum (f'' = 6t_c² + 0.6 > 0), certifies in 0 steps. */
static void test_candidate_at_maximum(void **state)
{
    (void)state;
    sb_err e = {{0}};
    sb_encode_problem prob;
    sb_encode_atlas at;
    identity_problem(&prob, SB_BASIS_EUCLIDEAN, 1, 2, 2);
    assert_int_equal(sb_encode_atlas_build(&prob, &at, &e), SB_OK);
    const int64_t c = 8;
    const double tc = at.centre[c];
    prob.z[0] = prob.z[1] = 1.0;
    const double x0[3] = {1, tc + 2 * tc * (tc * tc - 2), 2}, x1[3] = {1, tc + 2 * tc * (tc * tc - 0.2), 0.2};
    memcpy(prob.X, x0, sizeof x0);
    memcpy(prob.X + 3, x1, sizeof x1);
    int cert;
    double t = 99, h = 0, recon = 0;
    int32_t steps = -1;
    assert_int_equal(sb_encode_ref_candidate(&prob, &at, 0, c, &cert, &t, &h, &recon, &steps, &e), SB_OK);
    assert_false(cert);
    assert_int_equal(steps, 0);
    assert_true(t == 99);
    assert_int_equal(sb_encode_ref_candidate(&prob, &at, 1, c, &cert, &t, &h, &recon, &steps, &e), SB_OK);
    assert_true(cert);
    assert_int_equal(steps, 0);
    assert_true(fabs(t - tc) < 1e-15 && h < 1e-12);
    /* the rest of the row set: out-of-range row or chart */
    assert_int_equal(sb_encode_ref_candidate(&prob, &at, 2, c, &cert, &t, &h, &recon, &steps, &e), SB_E_INPUT);
    assert_int_equal(sb_encode_ref_candidate(&prob, &at, 0, 16, &cert, &t, &h, &recon, &steps, &e), SB_E_INPUT);
    sb_encode_atlas_free(&at);
    sb_encode_problem_free(&prob);
}

/* Two local minima: x = z·(0.51·Φ(t₁) + 0.49·Φ(t₂)) for the periodic basis
 * (D = 2, B = I, so ‖Φ‖² = 3 and f = const − z·Φ(t)·x) with t₁ = −0.4
 * between two charts and t₂ = 0.1 on one. The t₂ chart is routed first
 * (0.51·k(0.5) + 0.49·k(0) = 1.98 beats 1.93 for t₁'s neighbours, k(Δ) =
 * 1 + cos 2πΔ + cos 4πΔ), yet the minimum at t₁ reconstructs better
 * (0.49 against 0.51 of ‖Φ(t₁) − Φ(t₂)‖): the smaller error is kept. */
static void test_keeps_best_candidate(void **state)
{
    (void)state;
    sb_encode_problem prob;
    identity_problem(&prob, SB_BASIS_PERIODIC, 1, 2, 1);
    prob.z[0] = 0.8;
    const double t1 = -0.4, t2 = 0.1;
    double v1[5], v2[5];
    sb_encode_ref_basis(SB_BASIS_PERIODIC, 1, 2, &t1, v1, NULL, NULL);
    sb_encode_ref_basis(SB_BASIS_PERIODIC, 1, 2, &t2, v2, NULL, NULL);
    double gap = 0;
    for (int j = 0; j < 5; j++) {
        prob.X[j] = 0.8 * (0.51 * v1[j] + 0.49 * v2[j]);
        gap += (v1[j] - v2[j]) * (v1[j] - v2[j]);
    }
    gap = sqrt(gap);
    sb_err e = {{0}};
    sb_encode_atlas at;
    assert_int_equal(sb_encode_atlas_build(&prob, &at, &e), SB_OK);
    sb_encode_result res;
    encode_all(&prob, &at, &res);
    assert_true(res.chart[0] == 1 || res.chart[0] == 2);
    assert_true(fabs(res.t[0] - t1) < 1e-12);
    assert_true(fabs(res.recon_err[0] - 0.8 * 0.49 * gap) < 1e-12);
    sb_encode_result_free(&res);
    sb_encode_atlas_free(&at);
    sb_encode_problem_free(&prob);
}

/* Rows whose basin holds no certificate fall back: t = 0, h = ∞, chart −1. */
static void test_fallback_rows(void **state)
{
    (void)state;
    sb_encode_problem prob;
    sb_encode_atlas at;
    gen(4, 64, 2, 1, 2, SB_BASIS_EUCLIDEAN, SB_GATE_SOFTMAX, 0.0, 51, &prob, &at);
    /* (a) a row on the decoder's curve far outside the atlas: its only
     * minimiser is at t = 3, the other critical points are maxima */
    const double far = 3.0;
    decode(&prob, prob.atom[0], prob.z[0], &far, prob.X);
    expect_fallback(&prob, &at, 0);
    /* (b) a tiny amplitude against a large linear coefficient: the minimiser
     * sits near t = (1/(2z))^(1/3) ≈ 8 */
    prob.z[1] = 1e-3;
    for (int64_t c = 0; c < prob.p; c++)
        prob.X[prob.p + c] = prob.B[(prob.atom[1] * prob.m + 1) * prob.p + c];
    expect_fallback(&prob, &at, 1);
    /* (c) for contrast: x orthogonal to the decoder's range is not a fallback
     * case — ½‖z·B_kᵀΦ(t)‖² + ½‖x‖² has a certified minimiser (where ‖B_kᵀΦ‖
     * is smallest), reconstruction error above ‖x‖ */
    sb_splitmix g;
    sb_splitmix_seed(&g, 5);
    double *x = prob.X + 2 * prob.p, xn2 = 0;
    for (int64_t c = 0; c < prob.p; c++)
        x[c] = sb_splitmix_uniform(&g);
    const double *Bk = prob.B + prob.atom[2] * prob.m * prob.p;
    /* project out the span of B_k's (unit, nearly orthogonal) rows by cycling
     * the projections x ← x − (x·b_j)b_j to convergence (von Neumann) */
    for (int rep = 0; rep < 60; rep++)
        for (int64_t j = 0; j < prob.m; j++) {
            double s = 0;
            for (int64_t c = 0; c < prob.p; c++)
                s += x[c] * Bk[j * prob.p + c];
            for (int64_t c = 0; c < prob.p; c++)
                x[c] -= s * Bk[j * prob.p + c];
        }
    for (int64_t j = 0; j < prob.m; j++) {
        double s = 0;
        for (int64_t c = 0; c < prob.p; c++)
            s += x[c] * Bk[j * prob.p + c];
        assert_true(fabs(s) < 1e-12);
    }
    for (int64_t c = 0; c < prob.p; c++)
        xn2 += x[c] * x[c];
    sb_err e = {{0}};
    sb_encode_result res;
    assert_int_equal(sb_encode_result_alloc(&res, prob.n, 1, &e), SB_OK);
    assert_int_equal(sb_encode_reference(&prob, &at, 2, 1, 1, &res, &e), SB_OK);
    assert_true(res.chart[2] >= 0);
    assert_true(res.h[2] <= 0.5);
    assert_true(res.recon_err[2] > sqrt(xn2));
    double tt = res.t[2], fval, grad, H;
    assert_int_equal(sb_encode_ref_objective(&prob, prob.atom[2], prob.z[2], x, &tt, &fval, &grad, &H, &e), SB_OK);
    assert_true(fabs(grad) < 1e-12 && H > 0);
    sb_encode_result_free(&res);
    sb_encode_atlas_free(&at);
    sb_encode_problem_free(&prob);

    /* With B = I (p = m = 3, Φ = (1, t, t²)) and z = 1:
     * (d) x = (1, 0, 2): f = ½[t² + (t² − 2)²], f'' = 6t² − 3 < 0 on the
     * whole atlas, its minima at ±√1.5 outside it: no certificate;
     * (e) x = (1, 0, ½): f = ½t⁴ + const, a degenerate minimum at 0 (no
     * chart centre there): Newton only contracts by 2/3 while λ_min(H) = 6t²
     * shrinks by 4/9, so h grows — each candidate stops after one step by
     * the (63/64) rule instead of running to SB_ENCODE_MAX_NEWTON. */
    identity_problem(&prob, SB_BASIS_EUCLIDEAN, 1, 2, 2);
    prob.z[0] = prob.z[1] = 1.0;
    const double xd[3] = {1, 0, 2}, xe[3] = {1, 0, 0.5};
    memcpy(prob.X, xd, sizeof xd);
    memcpy(prob.X + 3, xe, sizeof xe);
    sb_err e0 = {{0}};
    assert_int_equal(sb_encode_atlas_build(&prob, &at, &e0), SB_OK);
    expect_fallback(&prob, &at, 0);
    expect_fallback(&prob, &at, 1);
    {
        sb_encode_result r2;
        encode_all(&prob, &at, &r2);
        assert_true(r2.steps[1] >= 1 && r2.steps[1] <= SB_ENCODE_CANDIDATES);
        sb_encode_result_free(&r2);
    }
    sb_encode_atlas_free(&at);
    sb_encode_problem_free(&prob);
}

/* ------------------------- ground truth, tiny ------------------------- */
static void test_recover_truth(void **state)
{
    (void)state;
    struct { sb_basis_kind b; int64_t d, D; } cases[] = {
        {SB_BASIS_EUCLIDEAN, 1, 2}, {SB_BASIS_EUCLIDEAN, 1, 4}, {SB_BASIS_EUCLIDEAN, 2, 2},
        {SB_BASIS_EUCLIDEAN, 2, 3}, {SB_BASIS_EUCLIDEAN, 3, 2}, {SB_BASIS_PERIODIC, 1, 2}, {SB_BASIS_PERIODIC, 1, 5}};
    sb_err e = {{0}};
    for (size_t q = 0; q < sizeof cases / sizeof cases[0]; q++)
        for (int gate = 0; gate < 3; gate++) {
            sb_encode_problem prob;
            sb_encode_atlas at;
            const int64_t n = cases[q].d == 3 ? 60 : 150;
            gen(n, 48, 4, cases[q].d, cases[q].D, cases[q].b, (sb_gate_kind)gate, 0.0, 100 + 3 * q + gate, &prob,
                &at);
            sb_encode_result res;
            encode_all(&prob, &at, &res);
            sb_encode_quality qual;
            assert_int_equal(sb_encode_metrics(&prob, &res, NULL, 0, n, 1, &qual, &e), SB_OK);
            if (qual.certified_rows != n || !(qual.max_coord_err_vs_truth < 1e-9))
                fprintf(stderr, "case %zu gate %d: certified %lld/%lld, truth err %g\n", q, gate,
                        (long long)qual.certified_rows, (long long)n, qual.max_coord_err_vs_truth);
            assert_int_equal(qual.certified_rows, n);
            assert_true(qual.fallback_rate == 0.0);
            assert_true(qual.max_coord_err_vs_truth < 1e-9);
            assert_true(qual.explained_variance > 1.0 - 1e-15);
            int64_t steps = 0;
            for (int64_t i = 0; i < n; i++) {
                assert_true(res.h[i] <= 0.5);
                /* refinement stops at ‖δ‖ ≤ 1e-12(1 + ‖t‖), and ‖J‖ reaches
                 * z·2π·√55 ≈ 47 (periodic D = 5): a residual of a few 1e-11 */
                assert_true(res.recon_err[i] <= 1e-9);
                steps += res.steps[i];
                if (prob.basis == SB_BASIS_PERIODIC)
                    assert_true(res.t[i] >= -0.5 && res.t[i] < 0.5);
            }
            assert_true((double)steps / (double)n < 5.0); /* a clean row: a few Newton steps */
            sb_encode_result_free(&res);
            sb_encode_atlas_free(&at);
            sb_encode_problem_free(&prob);
        }
}

/* Noisy tiny rows: certified, near the truth, EV high; the reference does
 * not depend on the thread count; a strided sample equals the full run. */
static void test_reference_noisy_and_sampled(void **state)
{
    (void)state;
    sb_err e = {{0}};
    for (int basis = 0; basis < 2; basis++) {
        sb_encode_problem prob;
        sb_encode_atlas at;
        const int64_t n = 200;
        gen(n, 256, 6, basis ? 1 : 2, basis ? 3 : 2, (sb_basis_kind)basis, SB_GATE_SOFTMAX, 1e-3, 61, &prob, &at);
        sb_encode_result res, one, part;
        encode_all(&prob, &at, &res);
        sb_encode_quality qual;
        assert_int_equal(sb_encode_metrics(&prob, &res, NULL, 0, n, 1, &qual, &e), SB_OK);
        assert_true(qual.fallback_rate < 0.05);
        assert_true(qual.explained_variance > 0.99);
        assert_true(qual.max_coord_err_vs_truth < 0.02);
        int threads = omp_get_max_threads();
        omp_set_num_threads(1);
        encode_all(&prob, &at, &one);
        omp_set_num_threads(threads);
        assert_memory_equal(res.t, one.t, (size_t)(n * prob.d) * sizeof(double));
        assert_memory_equal(res.h, one.h, (size_t)n * sizeof(double));
        assert_memory_equal(res.chart, one.chart, (size_t)n * sizeof(int32_t));
        assert_memory_equal(res.steps, one.steps, (size_t)n * sizeof(int32_t));
        assert_int_equal(sb_encode_result_alloc(&part, n, prob.d, &e), SB_OK);
        assert_int_equal(sb_encode_reference(&prob, &at, 3, 40, 5, &part, &e), SB_OK);
        for (int64_t i = 0; i < n; i++) {
            if (i >= 3 && (i - 3) % 5 == 0 && i < 3 + 40 * 5) {
                assert_int_equal(part.chart[i], res.chart[i]);
                assert_true(part.t[i * prob.d] == res.t[i * prob.d]);
                assert_true(part.recon_err[i] == res.recon_err[i]);
            } else {
                assert_int_equal(part.chart[i], -1);
                assert_int_equal(part.steps[i], 0);
            }
        }
        /* the metrics of the reference against itself */
        assert_int_equal(sb_encode_metrics(&prob, &res, &one, 0, n, 1, &qual, &e), SB_OK);
        assert_true(qual.support_agreement == 1.0 && qual.max_coord_abs_err == 0.0 &&
                    qual.max_reconstruction_abs_err == 0.0);
        sb_encode_result_free(&res);
        sb_encode_result_free(&one);
        sb_encode_result_free(&part);
        sb_encode_atlas_free(&at);
        sb_encode_problem_free(&prob);
    }
}

static void test_reference_bad_input(void **state)
{
    (void)state;
    sb_encode_problem prob, other;
    sb_encode_atlas at, at2;
    gen(5, 16, 2, 2, 2, SB_BASIS_EUCLIDEAN, SB_GATE_SOFTMAX, 0.0, 71, &prob, &at);
    gen(5, 16, 2, 1, 2, SB_BASIS_EUCLIDEAN, SB_GATE_SOFTMAX, 0.0, 71, &other, &at2);
    sb_encode_result res;
    sb_err e = {{0}};
    assert_int_equal(sb_encode_result_alloc(&res, 5, 2, &e), SB_OK);
    assert_int_equal(sb_encode_reference(&prob, &at, 0, 6, 1, &res, &e), SB_E_INPUT);
    assert_int_equal(sb_encode_reference(&prob, &at, 5, 1, 1, &res, &e), SB_E_INPUT);
    assert_int_equal(sb_encode_reference(&prob, &at, 1, 3, 2, &res, &e), SB_E_INPUT); /* rows 1, 3, 5 */
    assert_int_equal(sb_encode_reference(&prob, &at, 0, 0, 1, &res, &e), SB_E_INPUT);
    assert_int_equal(sb_encode_reference(&prob, &at, 0, 1, 0, &res, &e), SB_E_INPUT);
    assert_int_equal(sb_encode_reference(&prob, &at2, 0, 1, 1, &res, &e), SB_E_INPUT);
    assert_non_null(strstr(e.msg, "atlas"));
    prob.z[2] = 0.0;
    assert_int_equal(sb_encode_reference(&prob, &at, 0, 5, 1, &res, &e), SB_E_INPUT);
    assert_non_null(strstr(e.msg, "row 2"));
    prob.z[2] = NAN;
    assert_int_equal(sb_encode_reference(&prob, &at, 0, 5, 1, &res, &e), SB_E_INPUT);
    prob.z[2] = 0.7;
    prob.atom[3] = 2;
    assert_int_equal(sb_encode_reference(&prob, &at, 0, 5, 1, &res, &e), SB_E_INPUT);
    assert_non_null(strstr(e.msg, "atom"));
    prob.atom[3] = 1;
    assert_int_equal(sb_encode_reference(&prob, &at, 0, 3, 2, &res, &e), SB_OK); /* rows 0, 2, 4 */
    sb_encode_result_free(&res);
    sb_encode_atlas_free(&at);
    sb_encode_atlas_free(&at2);
    sb_encode_problem_free(&prob);
    sb_encode_problem_free(&other);
}

/* ------------------------------ metrics ------------------------------ */
/* A hand-made problem: p = 2, one atom with B = I over Φ = (1, t), so
 * x̂ = z·(1, t). */
static void handmade(sb_encode_problem *prob, sb_basis_kind basis, int64_t n)
{
    memset(prob, 0, sizeof *prob);
    prob->n = n, prob->p = 2, prob->K = 1, prob->d = 1, prob->D = 1;
    prob->basis = basis;
    prob->m = basis == SB_BASIS_PERIODIC ? 3 : 2;
    prob->B = calloc((size_t)(prob->m * 2), sizeof(double));
    prob->X = calloc((size_t)(n * 2), sizeof(double));
    prob->atom = calloc((size_t)n, sizeof(int32_t));
    prob->z = calloc((size_t)n, sizeof(double));
    prob->t_true = calloc((size_t)n, sizeof(double));
    assert_non_null(prob->t_true);
    prob->B[0] = 1, prob->B[3] = 1; /* rows (1, 0), (0, 1) */
}

static void test_metrics_handmade(void **state)
{
    (void)state;
    sb_err e = {{0}};
    sb_encode_problem prob;
    handmade(&prob, SB_BASIS_EUCLIDEAN, 3);
    const double X[6] = {1, 0.2, 0.5, -0.1, 2, 2}, z[3] = {1, 0.5, 1}, tt[3] = {0.2, -0.2, 0.4};
    memcpy(prob.X, X, sizeof X);
    memcpy(prob.z, z, sizeof z);
    memcpy(prob.t_true, tt, sizeof tt);
    sb_encode_result a, b;
    assert_int_equal(sb_encode_result_alloc(&a, 3, 1, &e), SB_OK);
    assert_int_equal(sb_encode_result_alloc(&b, 3, 1, &e), SB_OK);
    /* a: row 0 exact, row 1 at t = −0.1 (x̂ = (0.5, −0.05)), row 2 fallback */
    a.chart[0] = 3, a.t[0] = 0.2, a.h[0] = 0.1;
    a.chart[1] = 4, a.t[1] = -0.1, a.h[1] = 0.1;
    /* b: row 0 off by 1e-10, rows 1 and 2 fallbacks */
    b.chart[0] = 3, b.t[0] = 0.2 + 1e-10, b.h[0] = 0.1;
    sb_encode_quality q;
    assert_int_equal(sb_encode_metrics(&prob, &a, &b, 0, 3, 1, &q, &e), SB_OK);
    assert_int_equal(q.rows, 3);
    assert_int_equal(q.certified_rows, 2);
    assert_true(fabs(q.fallback_rate - 1.0 / 3.0) < 1e-15);
    const double m0 = 3.5 / 3, m1 = 2.1 / 3;
    const double den = (1 - m0) * (1 - m0) + (0.2 - m1) * (0.2 - m1) + (0.5 - m0) * (0.5 - m0) +
                       (-0.1 - m1) * (-0.1 - m1) + (2 - m0) * (2 - m0) + (2 - m1) * (2 - m1);
    const double num = 0 + 0.05 * 0.05 + 8;
    assert_true(fabs(q.explained_variance - (1 - num / den)) < 1e-14);
    assert_true(q.has_truth);
    assert_true(fabs(q.max_coord_err_vs_truth - 0.1) < 1e-15);
    assert_true(q.has_ref);
    assert_int_equal(q.agree_rows, 2);
    assert_int_equal(q.both_certified_rows, 1);
    assert_true(fabs(q.support_agreement - 2.0 / 3.0) < 1e-15);
    assert_true(fabs(q.max_coord_abs_err - 0.1) < 1e-15);
    assert_true(fabs(q.max_coord_abs_err_certified - 1e-10) < 1e-16);
    assert_true(fabs(q.max_reconstruction_abs_err - 0.5) < 1e-15);
    assert_true(fabs(q.max_reconstruction_abs_err_certified - 1e-10) < 1e-16);

    /* the other way round: b certifies one row, a two; they agree on two */
    assert_int_equal(sb_encode_metrics(&prob, &b, &a, 0, 3, 1, &q, &e), SB_OK);
    assert_int_equal(q.certified_rows, 1);
    assert_int_equal(q.agree_rows, 2);
    assert_int_equal(q.both_certified_rows, 1);
    assert_true(fabs(q.max_coord_abs_err - 0.1) < 1e-15);

    /* the row set: rows 0 and 2 only (stride 2) */
    assert_int_equal(sb_encode_metrics(&prob, &a, NULL, 0, 2, 2, &q, &e), SB_OK);
    assert_int_equal(q.rows, 2);
    assert_int_equal(q.certified_rows, 1);
    assert_true(q.fallback_rate == 0.5);
    assert_false(q.has_ref);
    assert_true(q.support_agreement == 0.0 && q.max_coord_abs_err == 0.0);
    /* x̄ = (1.5, 1.1): Σ‖x − x̄‖² = 2·(0.25 + 0.81); Σ‖x − x̂‖² = 0 + 8 */
    assert_true(fabs(q.explained_variance - (1 - 8 / (2 * (0.25 + 0.81)))) < 1e-14);
    assert_true(q.max_coord_err_vs_truth == 0.0);

    /* a NaN coordinate shows */
    a.t[0] = NAN;
    assert_int_equal(sb_encode_metrics(&prob, &a, &b, 0, 3, 1, &q, &e), SB_OK);
    assert_true(isnan(q.max_coord_abs_err) && isnan(q.max_coord_err_vs_truth));
    /* bad row sets */
    assert_int_equal(sb_encode_metrics(&prob, &a, &b, 0, 4, 1, &q, &e), SB_E_INPUT);
    assert_int_equal(sb_encode_metrics(&prob, &a, &b, 1, 2, 2, &q, &e), SB_E_INPUT);
    assert_int_equal(sb_encode_metrics(&prob, &a, &b, -1, 1, 1, &q, &e), SB_E_INPUT);
    assert_int_equal(sb_encode_metrics(&prob, &a, &b, 0, 1, 0, &q, &e), SB_E_INPUT);
    /* every row identical: no variance to explain */
    for (int i = 0; i < 6; i++)
        prob.X[i] = 1.0;
    assert_int_equal(sb_encode_metrics(&prob, &a, NULL, 1, 2, 1, &q, &e), SB_OK);
    assert_true(isnan(q.explained_variance));
    sb_encode_result_free(&a);
    sb_encode_result_free(&b);
    sb_encode_problem_free(&prob);

    /* periodic: coordinates compared on the circle; no ground truth */
    handmade(&prob, SB_BASIS_PERIODIC, 2);
    free(prob.t_true);
    prob.t_true = NULL;
    prob.z[0] = prob.z[1] = 1;
    assert_int_equal(sb_encode_result_alloc(&a, 2, 1, &e), SB_OK);
    assert_int_equal(sb_encode_result_alloc(&b, 2, 1, &e), SB_OK);
    a.chart[0] = b.chart[0] = 0, a.t[0] = 0.49, b.t[0] = -0.49;
    a.chart[1] = b.chart[1] = 1, a.t[1] = 0.1, b.t[1] = 0.125;
    assert_int_equal(sb_encode_metrics(&prob, &a, &b, 0, 2, 1, &q, &e), SB_OK);
    assert_false(q.has_truth);
    assert_true(q.max_coord_err_vs_truth == 0.0);
    assert_true(fabs(q.max_coord_abs_err - 0.025) < 1e-15);
    assert_true(q.support_agreement == 1.0);
    /* x̂ = (1, sin 2πt) with B's rows (1, 0, ·), (0, 1, ·), row 2 zero */
    const double re = fmax(fabs(sin(2 * M_PI * 0.49) - sin(-2 * M_PI * 0.49)), fabs(sin(2 * M_PI * 0.1) - sin(2 * M_PI * 0.125)));
    assert_true(fabs(q.max_reconstruction_abs_err - re) < 1e-15);
    sb_encode_result_free(&a);
    sb_encode_result_free(&b);
    sb_encode_problem_free(&prob);
}

/* ------------------------- EN-001: per-row parity ------------------------- */

static void copy_result(const sb_encode_result *from, int64_t n, int64_t d, sb_encode_result *to)
{
    sb_err e = {{0}};
    assert_int_equal(sb_encode_result_alloc(to, n, d, &e), SB_OK);
    memcpy(to->t, from->t, (size_t)(n * d) * sizeof(double));
    memcpy(to->h, from->h, (size_t)n * sizeof(double));
    memcpy(to->recon_err, from->recon_err, (size_t)n * sizeof(double));
    memcpy(to->chart, from->chart, (size_t)n * sizeof(int32_t));
    memcpy(to->steps, from->steps, (size_t)n * sizeof(int32_t));
}

/* The per-row rule (src/parity.h) on a generated problem, the host fast path
 * against the reference: the correct answer passes (ratio ≤ 1); one
 * well-conditioned row's coordinates moved by 1e-6 relative are rejected and
 * named as the worst row; a row the fast path leaves uncertified where the
 * reference certifies it is rejected (its coordinates compared with 0, as
 * EN-005 and the metrics do). The reference against itself has ratio 0. */
static void test_row_parity_rejects_wrong_answers(void **unused)
{
    (void)unused;
    const int64_t n = 48, d = 2;
    sb_encode_problem prob;
    sb_encode_atlas atlas;
    gen(n, 64, 3, d, 2, SB_BASIS_EUCLIDEAN, SB_GATE_SOFTMAX, 1e-3, 0x5eedULL, &prob, &atlas);
    sb_encode_result ref, fast, bad;
    sb_err e = {{0}};
    encode_all(&prob, &atlas, &ref);
    assert_int_equal(sb_encode_result_alloc(&fast, n, d, &e), SB_OK);
    assert_int_equal(sb_host_encode(&prob, &atlas, &fast, &e), SB_OK);

    sb_row_parity w;
    assert_int_equal(sb_encode_ref_parity(&prob, &ref, &ref, 0, n, 1, &w, &e), SB_OK);
    assert_true(w.ratio == 0.0 && w.row == 0);
    assert_int_equal(sb_encode_ref_parity(&prob, &fast, &ref, 0, n, 1, &w, &e), SB_OK);
    assert_true(w.ratio <= 1.0);
    assert_true(w.bound > 0 && w.beta > 0 && w.grad_scale > 0 && w.order == 64);

    /* a well-conditioned row (β·G ≤ 10) with a coordinate of at least 0.1 */
    int64_t row = -1;
    for (int64_t i = 0; i < n && row < 0; i++) {
        double beta, G;
        if (ref.chart[i] < 0 || fast.chart[i] < 0 || fmax(fabs(ref.t[i * d]), fabs(ref.t[i * d + 1])) < 0.1)
            continue;
        assert_int_equal(sb_encode_ref_conditioning(&prob, i, ref.t + i * d, &beta, &G, &e), SB_OK);
        if (beta * G <= 10.0)
            row = i;
    }
    assert_true(row >= 0);
    copy_result(&fast, n, d, &bad);
    for (int64_t a = 0; a < d; a++)
        bad.t[row * d + a] *= 1.0 + 1e-6;
    assert_int_equal(sb_encode_ref_parity(&prob, &bad, &ref, 0, n, 1, &w, &e), SB_OK);
    assert_int_equal(w.row, row);
    assert_true(w.abs_err >= 1e-7 && w.ratio > 1e3);
    /* the rule's own numbers: bound = 10·√p·β·ε·G + 2·1e-12·(1 + ‖t_ref‖₂) */
    const double tn = sqrt(ref.t[row * d] * ref.t[row * d] + ref.t[row * d + 1] * ref.t[row * d + 1]);
    assert_true(fabs(w.stop - 1e-12 * (1.0 + tn)) <= 1e-27);
    assert_true(fabs(w.bound - (10.0 * 8.0 * w.beta * 0x1p-53 * w.grad_scale + 2.0 * w.stop)) <= 1e-12 * w.bound);
    /* judged on a sample that leaves the row out, it passes again */
    assert_int_equal(sb_encode_ref_parity(&prob, &bad, &ref, row + 1, n - row - 1, 1, &w, &e), SB_OK);
    assert_true(w.ratio <= 1.0);
    sb_encode_result_free(&bad);

    /* certification disagreement: the fast path falls back where the reference certified */
    copy_result(&fast, n, d, &bad);
    bad.chart[row] = -1;
    bad.t[row * d] = bad.t[row * d + 1] = 0.0;
    bad.h[row] = INFINITY;
    assert_int_equal(sb_encode_ref_parity(&prob, &bad, &ref, 0, n, 1, &w, &e), SB_OK);
    assert_int_equal(w.row, row);
    assert_true(w.abs_err >= 0.1 && w.ratio > 1e9);
    /* and the other way: only the fast path certifies (β, G at its t) */
    assert_int_equal(sb_encode_ref_parity(&prob, &ref, &bad, 0, n, 1, &w, &e), SB_OK);
    assert_int_equal(w.row, row);
    assert_true(w.beta > 0 && w.ratio > 1e9);
    /* a NaN coordinate fails */
    bad.chart[row] = fast.chart[row];
    bad.t[row * d] = NAN;
    assert_int_equal(sb_encode_ref_parity(&prob, &bad, &ref, 0, n, 1, &w, &e), SB_OK);
    assert_true(isnan(w.ratio) && w.row == row);
    /* bad row sets */
    assert_int_equal(sb_encode_ref_parity(&prob, &fast, &ref, 0, n + 1, 1, &w, &e), SB_E_INPUT);
    assert_int_equal(sb_encode_ref_parity(&prob, &fast, &ref, 0, 1, 0, &w, &e), SB_E_INPUT);
    sb_encode_result_free(&bad);
    sb_encode_result_free(&fast);
    sb_encode_result_free(&ref);
    sb_encode_atlas_free(&atlas);
    sb_encode_problem_free(&prob);
}

/* β and G at a hand-made point: one atom, d = 1, D = 1 (Φ = (1, t)),
 * decoder rows b₀ = (1, 0), b₁ = (0, 2), z = 0.5, x = (0.5, 0.2), t = 0.3:
 * J = z·b₁ = (0, 1), r = z(b₀ + t·b₁) − x = (0, 0.1), H = JᵀJ = 1 (D = 1: no
 * second-order term) so β = 1; |J| = (0, 1), |v| = (0.5, 0.3), |x| = (0.5,
 * 0.2): G = 0·1 + 1·(0.3 + 0.2) = 0.5. */
static void test_row_conditioning_handmade(void **unused)
{
    (void)unused;
    double B[4] = {1, 0, 0, 2}, X[2] = {0.5, 0.2}, z = 0.5, t = 0.3, beta, G;
    int32_t atom = 0;
    sb_encode_problem prob = {.n = 1, .p = 2, .K = 1, .d = 1, .D = 1, .m = 2, .basis = SB_BASIS_EUCLIDEAN,
                              .B = B, .X = X, .atom = &atom, .z = &z};
    sb_err e = {{0}};
    assert_int_equal(sb_encode_ref_conditioning(&prob, 0, &t, &beta, &G, &e), SB_OK);
    assert_true(fabs(beta - 1.0) < 1e-15);
    assert_true(fabs(G - 0.5) < 1e-15);
    /* b₁ = 0: H = 0 is not positive definite, β is NaN */
    B[3] = 0;
    assert_int_equal(sb_encode_ref_conditioning(&prob, 0, &t, &beta, &G, &e), SB_OK);
    assert_true(isnan(beta));
    assert_int_equal(sb_encode_ref_conditioning(&prob, 1, &t, &beta, &G, &e), SB_E_INPUT);
    z = -1;
    assert_int_equal(sb_encode_ref_conditioning(&prob, 0, &t, &beta, &G, &e), SB_E_INPUT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basis_sizes),
        cmocka_unit_test(test_basis_order_reference),
        cmocka_unit_test(test_basis_derivatives_fd),
        cmocka_unit_test(test_basis_order_setup),
        cmocka_unit_test(test_check_params),
        cmocka_unit_test(test_fixture_pinned),
        cmocka_unit_test(test_fixture_properties),
        cmocka_unit_test(test_atlas_tables),
        cmocka_unit_test(test_lipschitz_formula),
        cmocka_unit_test(test_lipschitz_bound),
        cmocka_unit_test(test_reference_derivatives_fd),
        cmocka_unit_test(test_newton_quadratic),
        cmocka_unit_test(test_certificate_at_centre),
        cmocka_unit_test(test_warm_start_near_centre),
        cmocka_unit_test(test_inside_chart_rule),
        cmocka_unit_test(test_candidate_at_maximum),
        cmocka_unit_test(test_keeps_best_candidate),
        cmocka_unit_test(test_fallback_rows),
        cmocka_unit_test(test_recover_truth),
        cmocka_unit_test(test_reference_noisy_and_sampled),
        cmocka_unit_test(test_reference_bad_input),
        cmocka_unit_test(test_metrics_handmade),
        cmocka_unit_test(test_row_parity_rejects_wrong_answers),
        cmocka_unit_test(test_row_conditioning_handmade),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
