/* Unit tests for the arrow-Schur system and LM loop (docs/workloads.md §2, §3): fixture
 * values pinned to numbers computed independently (Python, big integers for
 * SplitMix64), the host products against a dense assembly written here, the
 * host solve mode against the dense oracle, and the LM loop's control flow:
 * ridge growth on factor failure, ridge_exceeded, frame reuse bit for bit,
 * and one build per iterate when refactoring every iterate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arrow.h"
#include "rs_fixture.h"

#define COLOR_SEED 0x1017C0102A125EEDULL

static double rel_err(const double *a, const double *b, int64_t len)
{
    double diff = 0, ref = 0;
    for (int64_t k = 0; k < len; k++) {
        double e = fabs(a[k] - b[k]);
        if (!(e <= diff))
            diff = e; /* NaN propagates */
        if (fabs(b[k]) > ref)
            ref = fabs(b[k]);
    }
    return ref > 0 ? diff / ref : diff;
}

static double rel1(double a, double b) { return fabs(a - b) / fmax(fabs(b), 1e-300); }

static void make_system(int64_t n, int64_t p, int64_t d, int64_t nb, uint64_t seed, double shift,
                        sb_arrow_system *sys)
{
    sb_arrow_params prm = {.n = n, .p = p, .d = d, .basis_cols = nb, .seed = seed, .htt_shift = shift};
    sb_err e = {{0}};
    assert_int_equal(sb_arrow_fixture(&prm, sys, &e), SB_OK);
}

/* The full symmetric H (+ ridges), t first then β, row-major: the test's own assembly. */
static double *dense_H(const sb_arrow_system *s, double ridge_t, double ridge_b)
{
    int64_t nd = s->n * s->d, N = nd + s->p, d = s->d, p = s->p;
    double *A = calloc((size_t)(N * N), sizeof *A);
    assert_non_null(A);
    for (int64_t k = 0; k < nd; k++) {
        int64_t i = k / d, r = k % d;
        for (int64_t c = 0; c < d; c++)
            A[k * N + i * d + c] = s->Htt[(i * d + r) * d + c];
        A[k * N + k] += ridge_t;
        for (int64_t j = 0; j < p; j++)
            A[k * N + nd + j] = A[(nd + j) * N + k] = s->B[k * p + j];
    }
    for (int64_t r = 0; r < p; r++) {
        for (int64_t c = 0; c < p; c++)
            A[(nd + r) * N + nd + c] = s->Hbb[r * p + c];
        A[(nd + r) * N + nd + r] += ridge_b;
    }
    return A;
}

typedef struct lm_out {
    sb_lm_result res;
    double *buf;
} lm_out;

static void lm_out_init(lm_out *o, const sb_arrow_system *s)
{
    size_t len = (size_t)(s->n * s->d + s->p);
    memset(o, 0, sizeof *o);
    o->buf = calloc(2 * len, sizeof(double));
    assert_non_null(o->buf);
    o->res.t = o->buf;
    o->res.beta = o->buf + s->n * s->d;
    o->res.dt = o->buf + len;
    o->res.db = o->res.dt + s->n * s->d;
}

/* One sb_lm_run with its own fresh state (and the frame given, or a fresh one). */
static sb_rc lm_run(const sb_arrow_system *s, const double *g_t, const double *g_b, const sb_arrow_ops *ops,
                    int reupload, sb_lm_frame *frame, const sb_lm_opts *opts, lm_out *o, sb_telemetry *tele)
{
    void *state = NULL;
    sb_err e = {{0}};
    assert_int_equal(ops->create(s, reupload, &state, &e), SB_OK);
    sb_lm_frame fresh = {0};
    lm_out_init(o, s);
    sb_rc rc = sb_lm_run(s, g_t, g_b, ops, state, frame ? frame : &fresh, opts, &o->res, &e);
    if (tele)
        ops->telemetry(state, tele);
    ops->destroy(state);
    return rc;
}

/* ------------------------------ fixture ------------------------------ */
static void test_arrow_doubles(void **st)
{
    (void)st;
    /* Htt 2·4·4 + B 2·4·3 + Hbb 9 + g_t 8 + g_β 3 */
    assert_true(sb_arrow_doubles(2, 3, 4) == 76);
    assert_true(sb_arrow_doubles((int64_t)1 << 40, (int64_t)1 << 40, 1) == 0);
    assert_true(sb_arrow_doubles(-1, 3, 4) == 0);
}

static void test_arrow_fixture_values(void **st)
{
    (void)st;
    /* Python (fx.py: math.sin/cos, big-integer SplitMix64) over the same formulas. */
    sb_splitmix g;
    sb_splitmix_seed(&g, COLOR_SEED);
    assert_true(sb_splitmix_uniform(&g) == -0.44993710647999574);

    sb_arrow_system s;
    make_system(100, 300, 3, 4, COLOR_SEED, 0.0, &s);
    assert_true(s.n == 100 && s.p == 300 && s.d == 3);
    /* i%97 and j%131 both wrap here */
    assert_true(rel1(s.half_target_energy, 3.857903328371061) < 1e-14);
    const double *H99 = s.Htt + 99 * 9;
    assert_true(rel1(H99[2 * 3 + 2], 3.2276463982678263) < 1e-15);
    assert_true(rel1(H99[2 * 3 + 1], -0.003304115684490599) < 1e-14);
    assert_true(H99[1 * 3 + 2] == H99[2 * 3 + 1]);
    /* B_98[2][280]: j%257 wraps */
    assert_true(rel1(s.B[(98 * 3 + 2) * 300 + 280], -9.654666846650258e-05) < 1e-14);
    assert_true(rel1(s.g_t[98 * 3 + 1], -0.006015860870478491) < 1e-14);
    assert_true(rel1(s.g_b[250], 0.000824320001458684) < 1e-14);  /* j%193 wraps */
    assert_true(s.Hbb[0] == 4.0 && s.Hbb[1] == 0.01 && s.Hbb[2] == 0.0 && s.Hbb[300] == 0.01);
    assert_true(s.Hbb[299 * 300 + 299] == 4.0 && s.Hbb[299 * 300 + 298] == 0.01);
    double off = H99[2 * 3 + 1];
    sb_arrow_free(&s);
    assert_null(s.Htt);

    /* htt_shift moves the diagonal only */
    make_system(100, 300, 3, 4, COLOR_SEED, -0.25, &s);
    H99 = s.Htt + 99 * 9;
    assert_true(rel1(H99[0], 2.777646398267826) < 1e-15);
    assert_true(H99[2 * 3 + 1] == off);
    sb_arrow_free(&s);

    sb_arrow_params bad = {.n = 0, .p = 3, .d = 2, .basis_cols = 1};
    sb_err e = {{0}};
    assert_int_equal(sb_arrow_fixture(&bad, &s, &e), SB_E_INPUT);
    assert_true(strlen(e.msg) > 0);
}

static void test_outer_gradient(void **st)
{
    (void)st;
    enum { N = 600, P = 50, D = 2 };
    double gt[N * D], gb[P];
    sb_arrow_outer_gradient(N, P, D, 2, gt, gb);
    assert_true(rel1(gt[5], 0.00021998225376279772) < 1e-14);   /* 0.01 sin(11·0.002) */
    assert_true(rel1(gb[3], 0.0009997468856785309) < 1e-14);    /* 0.001 cos(25·0.0009) */
    sb_arrow_outer_gradient(N, P, D, 7, gt, gb);
    assert_true(rel1(gt[1000], 0.00891022515375292) < 1e-14);   /* flattened n·d index */
    assert_true(rel1(gb[40], 0.0009944610758461554) < 1e-14);
    sb_arrow_outer_gradient(N, P, D, 0, gt, gb);
    assert_true(gt[0] == 0.0 && gb[0] == 0.001);
}

/* --------------------------- host products --------------------------- */
static void test_products_vs_dense(void **st)
{
    (void)st;
    sb_arrow_system s;
    make_system(9, 13, 3, 3, 0x1234ULL, 0.0, &s);
    int64_t nd = 27, N = nd + 13;
    double *z = calloc((size_t)N, sizeof *z), *dz = calloc((size_t)N, sizeof *dz);
    double *r = calloc((size_t)N, sizeof *r), *zd = calloc((size_t)N, sizeof *zd);
    double *g = calloc((size_t)N, sizeof *g);
    sb_lcg rng;
    sb_lcg_seed(&rng, 99);
    for (int64_t k = 0; k < N; k++) {
        z[k] = sb_lcg_uniform(&rng);
        dz[k] = 0.3 * sb_lcg_uniform(&rng);
        zd[k] = z[k] + dz[k];
    }
    memcpy(g, s.g_t, (size_t)nd * sizeof *g);
    memcpy(g + nd, s.g_b, 13 * sizeof *g);

    double *A = dense_H(&s, 0, 0);
    sb_arrow_residual(&s, s.g_t, s.g_b, z, z + nd, r, r + nd);
    double quad = 0, lin = 0;
    for (int64_t k = 0; k < N; k++) {
        double hz = 0;
        for (int64_t c = 0; c < N; c++)
            hz += A[k * N + c] * z[c];
        quad += z[k] * hz;
        lin += g[k] * z[k];
        double want = hz - g[k];
        assert_true(fabs(r[k] - want) < 1e-14 * (1 + fabs(want)));
    }
    double phi = sb_arrow_objective(&s, s.g_t, s.g_b, z, z + nd);
    assert_true(rel1(phi, s.half_target_energy + 0.5 * quad - lin) < 1e-13);
    /* φ is quadratic, so −(rᵀδ + ½δᵀHδ) is exactly φ(z) − φ(z + δ). */
    double pred = sb_arrow_predicted_reduction(&s, r, r + nd, dz, dz + nd);
    double phi_d = sb_arrow_objective(&s, s.g_t, s.g_b, zd, zd + nd);
    assert_true(fabs(pred - (phi - phi_d)) < 1e-12 * fabs(phi));
    assert_true(fabs(pred) > 1e-3); /* not vacuous */
    free(A);
    free(z);
    free(dz);
    free(r);
    free(zd);
    free(g);
    sb_arrow_free(&s);
}

/* The residual's threaded loops give the same bits at any thread count
 * (p > 512 so the β part spans several column blocks). */
static void test_residual_thread_invariant(void **st)
{
    (void)st;
    sb_arrow_system s;
    make_system(13, 1100, 2, 3, 0x77ULL, 0.0, &s);
    int64_t nd = 26, N = nd + 1100;
    double *z = calloc((size_t)N, sizeof *z), *r1 = calloc((size_t)N, sizeof *r1), *rk = calloc((size_t)N, sizeof *rk);
    sb_lcg rng;
    sb_lcg_seed(&rng, 5);
    for (int64_t k = 0; k < N; k++)
        z[k] = sb_lcg_uniform(&rng);
    int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    sb_arrow_residual(&s, s.g_t, s.g_b, z, z + nd, r1, r1 + nd);
    for (int threads = 2; threads <= 5; threads++) {
        omp_set_num_threads(threads);
        sb_arrow_residual(&s, s.g_t, s.g_b, z, z + nd, rk, rk + nd);
        assert_memory_equal(r1, rk, (size_t)N * sizeof *r1);
    }
    omp_set_num_threads(saved);
    free(z);
    free(r1);
    free(rk);
    sb_arrow_free(&s);
}

/* ------------------------- host vs dense oracle ------------------------- */
static void check_step_parity(int64_t d)
{
    sb_arrow_system s;
    make_system(7, 11, d, 2, COLOR_SEED ^ (uint64_t)d, 0.0, &s);
    int64_t nd = 7 * d, N = nd + 11;
    double *r = calloc((size_t)N, sizeof *r);
    double *h = calloc((size_t)N, sizeof *h), *o = calloc((size_t)N, sizeof *o), *h2 = calloc((size_t)N, sizeof *h2);
    sb_lcg rng;
    sb_lcg_seed(&rng, (uint64_t)(7 + d));
    for (int64_t k = 0; k < N; k++)
        r[k] = sb_lcg_uniform(&rng);
    const double rt = 0.3, rb = 0.2;
    void *hs = NULL, *os = NULL, *rs = NULL;
    sb_err e = {{0}};
    int pd_h = 0, pd_o = 0, pd_r = 0;
    double ld_h = 0, ld_o = 0, ld_r = 0;

    assert_int_equal(sb_host_arrow_ops.create(&s, 0, &hs, &e), SB_OK);
    assert_int_equal(sb_host_arrow_ops.solve(hs, r, r + nd, h, h + nd, &e), SB_E_RUNTIME); /* no factors yet */
    assert_int_equal(sb_host_arrow_ops.factor(hs, rt, rb, &pd_h, &ld_h, &e), SB_OK);
    assert_int_equal(sb_host_arrow_ops.solve(hs, r, r + nd, h, h + nd, &e), SB_OK);
    assert_int_equal(sb_oracle_arrow_ops.create(&s, 0, &os, &e), SB_OK);
    assert_int_equal(sb_oracle_arrow_ops.factor(os, rt, rb, &pd_o, &ld_o, &e), SB_OK);
    assert_int_equal(sb_oracle_arrow_ops.solve(os, r, r + nd, o, o + nd, &e), SB_OK);
    assert_true(pd_h == 1 && pd_o == 1);
    assert_true(rel_err(h, o, N) < 1e-12);
    assert_true(rel1(ld_h, ld_o) < 1e-12);

    /* The oracle's step solves (H + R)δ = −r (checked with the test's own H). */
    double *A = dense_H(&s, rt, rb);
    for (int64_t k = 0; k < N; k++) {
        double acc = 0;
        for (int64_t c = 0; c < N; c++)
            acc += A[k * N + c] * o[c];
        assert_true(fabs(acc + r[k]) < 1e-12);
    }
    free(A);

    /* The reupload baseline re-stages but computes the same bits. */
    assert_int_equal(sb_host_arrow_ops.create(&s, 1, &rs, &e), SB_OK);
    assert_int_equal(sb_host_arrow_ops.factor(rs, rt, rb, &pd_r, &ld_r, &e), SB_OK);
    assert_int_equal(sb_host_arrow_ops.solve(rs, r, r + nd, h2, h2 + nd, &e), SB_OK);
    assert_true(pd_r == 1 && ld_r == ld_h);
    assert_memory_equal(h, h2, (size_t)N * sizeof *h);

    sb_telemetry t;
    sb_host_arrow_ops.telemetry(hs, &t);
    assert_true(t.factorizations == 1 && t.frame_builds == 1 && t.h2d_bytes == 0 && t.handle_creations == 0);
    sb_oracle_arrow_ops.telemetry(os, &t);
    assert_true(t.factorizations == 1);

    /* An indefinite H + R: pd = 0 with rc SB_OK, and no stale factors to solve with. */
    assert_int_equal(sb_host_arrow_ops.factor(hs, -10.0, rb, &pd_h, &ld_h, &e), SB_OK);
    assert_int_equal(pd_h, 0);
    assert_int_equal(sb_host_arrow_ops.solve(hs, r, r + nd, h, h + nd, &e), SB_E_RUNTIME);
    assert_int_equal(sb_host_arrow_ops.factor(hs, rt, -10.0, &pd_h, &ld_h, &e), SB_OK); /* S fails */
    assert_int_equal(pd_h, 0);
    assert_int_equal(sb_oracle_arrow_ops.factor(os, -10.0, rb, &pd_o, &ld_o, &e), SB_OK);
    assert_int_equal(pd_o, 0);
    sb_host_arrow_ops.telemetry(hs, &t);
    assert_true(t.factorizations == 1);

    sb_host_arrow_ops.destroy(hs);
    sb_host_arrow_ops.destroy(rs);
    sb_oracle_arrow_ops.destroy(os);
    free(r);
    free(h);
    free(h2);
    free(o);
    sb_arrow_free(&s);
}

static void test_step_parity(void **st)
{
    (void)st;
    check_step_parity(1);
    check_step_parity(2);
    check_step_parity(3);
}

/* ------------------------------ the LM loop ------------------------------ */
static void check_lm_parity(int64_t d)
{
    sb_arrow_system s;
    make_system(30, 40, d, 3, COLOR_SEED, 0.0, &s);
    int64_t nd = 30 * d, N = nd + 40;
    sb_lm_opts opts;
    sb_lm_default_opts(&opts);
    assert_true(opts.max_iterations == 16 && opts.tolerance == 1e-9 && opts.grow == 4.0 &&
                opts.shrink == 0.5 && opts.max_ridge == 1e9 && opts.ridge_t0 == 0.0 && opts.ridge_b0 == 0.0);
    lm_out h, o;
    sb_lm_frame fo = {.refactor_every_iterate = 1};
    assert_int_equal(lm_run(&s, s.g_t, s.g_b, &sb_host_arrow_ops, 0, NULL, &opts, &h, NULL), SB_OK);
    assert_int_equal(lm_run(&s, s.g_t, s.g_b, &sb_oracle_arrow_ops, 0, &fo, &opts, &o, NULL), SB_OK);
    assert_true(h.res.converged && o.res.converged);
    assert_true(!h.res.ridge_exceeded && h.res.factor_failures == 0);
    /* One exact Newton step at zero ridge, then the convergence check passes. */
    assert_int_equal(h.res.iterations, 1);
    assert_int_equal(h.res.accepted, 1);
    assert_int_equal(o.res.iterations, 1);
    assert_true(h.res.solves == 1 && h.res.ridge_t == 0.0 && h.res.ridge_b == 0.0);
    assert_true(rel_err(h.res.t, o.res.t, N) < 1e-9);
    assert_true(rel_err(h.res.dt, o.res.dt, N) < 1e-9);
    assert_true(rel1(h.res.objective, o.res.objective) < 1e-9);
    assert_true(rel1(h.res.logdet, o.res.logdet) < 1e-9);
    assert_true(h.res.logdet != 0.0);
    assert_true(rel1(h.res.gradient_norm, o.res.gradient_norm) < 1e-12);
    /* the final iterate is stationary, and below φ(0) */
    assert_true(h.res.final_gradient_norm < 1e-9 * (1 + 1));
    double zero[200] = {0};
    assert_true(h.res.objective < sb_arrow_objective(&s, s.g_t, s.g_b, zero, zero) - 1e-9);
    /* step = final z (from z = 0 in one step) */
    assert_memory_equal(h.res.t, h.res.dt, (size_t)N * sizeof(double));
    free(h.buf);
    free(o.buf);
    sb_arrow_free(&s);
}

static void test_lm_host_vs_oracle(void **st)
{
    (void)st;
    check_lm_parity(1);
    check_lm_parity(2);
    check_lm_parity(3);
}

static void test_lm_factor_failure_grows_ridge(void **st)
{
    (void)st;
    /* shift −3.05 on n=7, d=2, basis_cols=2: λ_min(H_tt,i) ≈ −0.03002 (neg.py),
     * so ridges 0, 1e-6, …, 1e-6·4⁷ fail (9 failures) and 1e-6·4⁸ factors. */
    sb_arrow_system s;
    make_system(7, 11, 2, 2, COLOR_SEED, -3.05, &s);
    sb_lm_opts opts;
    sb_lm_default_opts(&opts);
    opts.max_iterations = 10;
    lm_out o;
    sb_lm_frame f = {0};
    sb_telemetry t;
    assert_int_equal(lm_run(&s, s.g_t, s.g_b, &sb_host_arrow_ops, 0, &f, &opts, &o, &t), SB_OK);
    double first_ok = 1e-6;
    for (int k = 0; k < 8; k++)
        first_ok *= 4.0;
    assert_int_equal(o.res.factor_failures, 9);
    assert_int_equal(o.res.iterations, 10);
    assert_true(o.res.solves == 1 && f.builds == 1 && t.factorizations == 1);
    assert_true(f.valid && f.ridge_t == first_ok && f.ridge_b == first_ok);
    assert_int_equal(o.res.accepted + o.res.rejected, 1);
    double next = o.res.accepted ? 0.5 * first_ok : 4.0 * first_ok;
    assert_true(o.res.ridge_t == next && o.res.ridge_b == next);
    assert_true(!o.res.converged && !o.res.ridge_exceeded);
    free(o.buf);

    /* The full default loop keeps going and stays a gate result, not an error. */
    sb_lm_default_opts(&opts);
    assert_int_equal(lm_run(&s, s.g_t, s.g_b, &sb_host_arrow_ops, 0, NULL, &opts, &o, NULL), SB_OK);
    assert_true(o.res.factor_failures >= 9 && o.res.iterations == 16 && o.res.ridge_t > 0.0);
    free(o.buf);
    sb_arrow_free(&s);
}

static void test_lm_ridge_exceeded(void **st)
{
    (void)st;
    /* H_tt ≈ −1e12·I: no ridge up to 1e9 helps. Failures at 0, 1e-6·4^k (k = 0..24);
     * the 26th growth gives 1e-6·4²⁵ ≈ 1.1e9 > 1e9. */
    sb_arrow_system s;
    make_system(5, 6, 2, 2, COLOR_SEED, -1e12, &s);
    sb_lm_opts opts;
    sb_lm_default_opts(&opts);
    opts.max_iterations = 64;
    lm_out o;
    sb_lm_frame f = {0};
    assert_int_equal(lm_run(&s, s.g_t, s.g_b, &sb_host_arrow_ops, 0, &f, &opts, &o, NULL), SB_OK);
    assert_int_equal(o.res.ridge_exceeded, 1);
    assert_int_equal(o.res.converged, 0);
    assert_int_equal(o.res.factor_failures, 26);
    assert_int_equal(o.res.iterations, 26);
    assert_true(o.res.solves == 0 && f.builds == 0 && !f.valid);
    assert_true(o.res.ridge_t > 1e9 && o.res.ridge_t < 1.2e9);
    /* z stays 0, so φ = φ(0) = ½‖target‖² */
    assert_true(o.res.objective == s.half_target_energy);
    assert_true(o.res.final_gradient_norm > 0.0);
    free(o.buf);

    /* With the default 16 iterations the loop runs out first: not exceeded. */
    sb_lm_default_opts(&opts);
    assert_int_equal(lm_run(&s, s.g_t, s.g_b, &sb_oracle_arrow_ops, 0, NULL, &opts, &o, NULL), SB_OK);
    assert_true(o.res.ridge_exceeded == 0 && o.res.iterations == 16 && o.res.factor_failures == 16);
    free(o.buf);
    sb_arrow_free(&s);
}

static void assert_results_identical(const lm_out *a, const lm_out *b, int64_t N)
{
    assert_memory_equal(a->res.t, b->res.t, (size_t)N * sizeof(double));
    assert_memory_equal(a->res.dt, b->res.dt, (size_t)N * sizeof(double));
    assert_memory_equal(&a->res.objective, &b->res.objective, sizeof(double));
    assert_memory_equal(&a->res.logdet, &b->res.logdet, sizeof(double));
    assert_memory_equal(&a->res.gradient_norm, &b->res.gradient_norm, sizeof(double));
    assert_memory_equal(&a->res.final_gradient_norm, &b->res.final_gradient_norm, sizeof(double));
    assert_int_equal(a->res.iterations, b->res.iterations);
    assert_int_equal(a->res.accepted, b->res.accepted);
}

static void test_lm_frame_reuse(void **st)
{
    (void)st;
    sb_arrow_system s;
    make_system(20, 30, 2, 9, COLOR_SEED, 0.0, &s);
    int64_t nd = 40, N = 70;
    double gt[3][40], gb[3][30];
    for (int k = 0; k < 3; k++)
        sb_arrow_outer_gradient(20, 30, 2, k, gt[k], gb[k]);
    sb_lm_opts opts;
    sb_lm_default_opts(&opts);
    sb_err e = {{0}};

    /* outer-seq: one state, one frame, three outers */
    void *state = NULL;
    assert_int_equal(sb_host_arrow_ops.create(&s, 0, &state, &e), SB_OK);
    sb_lm_frame shared = {0};
    lm_out seq[3];
    for (int k = 0; k < 3; k++) {
        lm_out_init(&seq[k], &s);
        assert_int_equal(sb_lm_run(&s, gt[k], gb[k], &sb_host_arrow_ops, state, &shared, &opts, &seq[k].res, &e),
                         SB_OK);
        assert_true(seq[k].res.converged);
        assert_true(shared.builds == 1); /* built by the first outer, reused after */
    }
    sb_telemetry t;
    sb_host_arrow_ops.telemetry(state, &t);
    assert_true(t.factorizations == 1 && t.frame_builds == 1);
    sb_host_arrow_ops.destroy(state);

    for (int k = 0; k < 3; k++) {
        lm_out fresh, orc;
        sb_lm_frame f = {0};
        assert_int_equal(lm_run(&s, gt[k], gb[k], &sb_host_arrow_ops, 0, &f, &opts, &fresh, NULL), SB_OK);
        assert_true(f.builds == 1);
        assert_results_identical(&seq[k], &fresh, N);
        assert_int_equal(lm_run(&s, gt[k], gb[k], &sb_oracle_arrow_ops, 0, NULL, &opts, &orc, NULL), SB_OK);
        assert_true(rel_err(seq[k].res.t, orc.res.t, N) < 1e-9);
        assert_true(rel1(seq[k].res.objective, orc.res.objective) < 1e-9);
        free(fresh.buf);
        free(orc.buf);
    }
    /* the outers really differ */
    assert_true(fabs(seq[1].res.t[0] - seq[0].res.t[0]) > 1e-6);
    assert_true(fabs(seq[2].res.beta[0] - seq[1].res.beta[0]) > 1e-8);
    (void)nd;
    for (int k = 0; k < 3; k++)
        free(seq[k].buf);
    sb_arrow_free(&s);
}

static void test_lm_refactor_every_iterate(void **st)
{
    (void)st;
    sb_arrow_system s;
    make_system(15, 25, 2, 8, COLOR_SEED, 0.0, &s);
    sb_lm_opts opts;
    sb_lm_default_opts(&opts);
    opts.tolerance = 0.0;   /* never converge: run all 16 iterations */
    lm_out every, once;
    sb_lm_frame fe = {.refactor_every_iterate = 1}, fo = {0};
    sb_telemetry te, to;
    assert_int_equal(lm_run(&s, s.g_t, s.g_b, &sb_host_arrow_ops, 1, &fe, &opts, &every, &te), SB_OK);
    assert_int_equal(lm_run(&s, s.g_t, s.g_b, &sb_host_arrow_ops, 0, &fo, &opts, &once, &to), SB_OK);
    assert_int_equal(every.res.iterations, 16);
    assert_int_equal(every.res.factor_failures, 0);
    assert_true(fe.builds == 16 && te.factorizations == 16 && te.frame_builds == 1 + 16); /* staged at create, then every factor */
    assert_true(fo.builds == 1 && to.factorizations == 1);
    assert_true(!every.res.converged && every.res.solves == 16);
    /* re-factoring at an unchanged ridge changes the cost, never the numbers */
    assert_results_identical(&every, &once, 15 * 2 + 25);
    free(every.buf);
    free(once.buf);
    sb_arrow_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arrow_doubles),
        cmocka_unit_test(test_arrow_fixture_values),
        cmocka_unit_test(test_outer_gradient),
        cmocka_unit_test(test_products_vs_dense),
        cmocka_unit_test(test_residual_thread_invariant),
        cmocka_unit_test(test_step_parity),
        cmocka_unit_test(test_lm_host_vs_oracle),
        cmocka_unit_test(test_lm_factor_failure_grows_ridge),
        cmocka_unit_test(test_lm_ridge_exceeded),
        cmocka_unit_test(test_lm_frame_reuse),
        cmocka_unit_test(test_lm_refactor_every_iterate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
