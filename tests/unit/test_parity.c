/* The parity rule (src/parity.c, docs/verdict.md "Parity"): correct FP64
 * solves of ill-conditioned real-data systems pass, perturbed β are
 * rejected. The systems are the user's recipe of the rule's motivating
 * report: X = randn(150, 300) · uniform(0.1, 3) per column, w ~ uniform(0.05,
 * 2), ridges 1e-3 / 1e-5 / 1e-7 (cond₂(G) 4.8e6 / 4.8e8 / 4.8e10 there),
 * from a fixed-seed generator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "oracle/oracle_rs.h"
#include "parity.h"
#include "rs_fixture.h"

#define N_ROWS 150
#define P_COLS 300

typedef struct sys {
    double X[N_ROWS * P_COLS], w[N_ROWS], rhs[P_COLS];
} sys;

static double uniform01(sb_splitmix *g) { return 0.5 * (sb_splitmix_uniform(g) + 1.0); }

/* Box–Muller normals from SplitMix64; the same recipe as the report. */
static double normal(sb_splitmix *g)
{
    double u1 = uniform01(g), u2 = uniform01(g);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static sys *make_sys(void)
{
    sys *s = malloc(sizeof *s);
    assert_non_null(s);
    sb_splitmix g;
    sb_splitmix_seed(&g, 0x9a417e5ULL);
    double scale[P_COLS];
    for (int j = 0; j < P_COLS; j++)
        scale[j] = 0.1 + 2.9 * uniform01(&g);
    for (int i = 0; i < N_ROWS; i++)
        for (int j = 0; j < P_COLS; j++)
            s->X[i * P_COLS + j] = normal(&g) * scale[j];
    for (int i = 0; i < N_ROWS; i++)
        s->w[i] = 0.05 + 1.95 * uniform01(&g);
    for (int j = 0; j < P_COLS; j++)
        s->rhs[j] = normal(&g);
    return s;
}

/* The host backend's β of the system with this ridge and method. */
static void host_solve(const sys *s, double ridge, sb_method method, double *beta)
{
    sb_rs_problem prob = {.n = N_ROWS, .p = P_COLS, .X = s->X, .rhs = s->rhs, .ridge = ridge, .method = method,
                          .max_solves = 2};
    const sb_rs_ops *ops = sb_host_backend.resident_solve;
    void *state = NULL;
    sb_err e = {{0}};
    assert_int_equal(ops->create(&prob, &state, &e), SB_OK);
    assert_int_equal(ops->solve(state, s->w, beta, &e), SB_OK);
    assert_int_equal(ops->check(state, &e), SB_OK);
    ops->destroy(state);
}

static sb_solve_parity judge(const sys *s, double ridge, const double *beta)
{
    double ref[P_COLS];
    sb_solve_parity sp;
    sb_err e = {{0}};
    assert_int_equal(sb_oracle_rs_check(N_ROWS, P_COLS, s->X, s->w, s->rhs, ridge, beta, ref, &sp, &e), SB_OK);
    return sp;
}

/* (1) The three systems, both methods of the host backend: correct FP64
 * solves pass, including the two the old fixed 1e-9 rule failed. */
static void test_real_data_solves_pass(void **st)
{
    (void)st;
    sys *s = make_sys();
    const double ridges[3] = {1e-3, 1e-5, 1e-7};
    double prev_kappa = 0;
    int old_rule_failures = 0;
    for (int k = 0; k < 3; k++) {
        for (int m = 0; m < 2; m++) {
            double beta[P_COLS];
            host_solve(s, ridges[k], m ? SB_METHOD_DUAL : SB_METHOD_PRIMAL, beta);
            sb_solve_parity sp = judge(s, ridges[k], beta);
            print_message("ridge %g %s: kappa_est %.2e sr %.3g sr_oracle %.3g rel_err %.2e bound %.2e ratio %.3g\n",
                          ridges[k], m ? "dual" : "primal", sp.kappa_est, sp.scaled_residual, sp.scaled_residual_oracle,
                          sp.rel_err, sp.bound, sp.ratio);
            if (!sb_parity_passes(sp.ratio, 1.0))
                fail_msg("ridge %g method %d: a correct solve rejected (ratio %g)", ridges[k], m, sp.ratio);
            assert_true(sp.scaled_residual <= SB_PARITY_RESIDUAL_MAX);
            assert_true(sp.rel_err <= sp.bound);
            old_rule_failures += !(sp.rel_err < 1e-9);
            /* κ̂ grows by ~100 per 100× smaller ridge. */
            assert_true(sp.kappa_est > 10 * prev_kappa);
            if (m == 1)
                prev_kappa = sp.kappa_est;
        }
    }
    /* The motivating report: ridges 1e-5 and 1e-7 failed a fixed 1e-9. */
    assert_true(old_rule_failures >= 4);
    free(s);
}

/* (2) A well-conditioned system (ridge 100): β·(1 + 1e-6·u) is rejected. */
static void test_perturbed_well_conditioned_rejected(void **st)
{
    (void)st;
    sys *s = make_sys();
    double beta[P_COLS];
    host_solve(s, 100.0, SB_METHOD_PRIMAL, beta);
    sb_solve_parity ok = judge(s, 100.0, beta);
    assert_true(sb_parity_passes(ok.ratio, 1.0));
    assert_true(ok.kappa_est < 1e4);
    sb_splitmix g;
    sb_splitmix_seed(&g, 5);
    for (int j = 0; j < P_COLS; j++)
        beta[j] *= 1.0 + 1e-6 * sb_splitmix_uniform(&g);
    sb_solve_parity bad = judge(s, 100.0, beta);
    print_message("perturbed 1e-6: sr %.3g rel_err %.2e bound %.2e ratio %.3g\n", bad.scaled_residual, bad.rel_err,
                  bad.bound, bad.ratio);
    assert_false(sb_parity_passes(bad.ratio, 1.0));
    /* Each half of the rule rejects it on its own. */
    assert_true(bad.scaled_residual > SB_PARITY_RESIDUAL_MAX);
    assert_true(bad.rel_err > bad.bound);
    free(s);
}

/* (3) The ill-conditioned system (ridge 1e-7): a β moved off the solution by
 * a perturbation whose forward error stays far below the bound conditioning
 * allows, but which no backward-stable solve produces: along the LARGEST
 * eigenvector of G, so the residual grows by λ_max·δ. The forward check
 * alone would pass it; the residual rejects it. Along the smallest
 * eigenvector the same forward error leaves the residual small: that one is
 * consistent with a backward-stable solve and passes. */
static void test_ill_conditioned_perturbation(void **st)
{
    (void)st;
    sys *s = make_sys();
    const double ridge = 1e-7;
    /* G = Xᵀ W X + ridge·I and its eigenvectors (ascending eigenvalues). */
    double *G = calloc((size_t)P_COLS * P_COLS, sizeof *G), *ev = malloc(P_COLS * sizeof *ev);
    assert_non_null(G);
    for (int i = 0; i < N_ROWS; i++)
        for (int a = 0; a < P_COLS; a++)
            for (int b = 0; b <= a; b++)
                G[a * P_COLS + b] += s->w[i] * s->X[i * P_COLS + a] * s->X[i * P_COLS + b];
    for (int a = 0; a < P_COLS; a++)
        G[a * P_COLS + a] += ridge;
    assert_int_equal(LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'V', 'L', P_COLS, G, P_COLS, ev), 0);
    double beta[P_COLS], moved[P_COLS];
    host_solve(s, ridge, SB_METHOD_PRIMAL, beta);
    sb_solve_parity ok = judge(s, ridge, beta);
    assert_true(sb_parity_passes(ok.ratio, 1.0));
    double bnorm = 0;
    for (int j = 0; j < P_COLS; j++)
        bnorm = fmax(bnorm, fabs(beta[j]));
    /* δ: a forward error of 1e-3 of the bound, in relative ∞-norm. */
    double delta = 1e-3 * ok.bound * bnorm;
    for (int which = 0; which < 2; which++) {
        int col = which ? 0 : P_COLS - 1; /* largest, then smallest */
        double vmax = 0;
        for (int j = 0; j < P_COLS; j++)
            vmax = fmax(vmax, fabs(G[j * P_COLS + col]));
        for (int j = 0; j < P_COLS; j++)
            moved[j] = beta[j] + delta * G[j * P_COLS + col] / vmax;
        sb_solve_parity sp = judge(s, ridge, moved);
        print_message("along the %s eigenvector (lambda %.2e): sr %.3g rel_err %.2e bound %.2e ratio %.3g\n",
                      which ? "smallest" : "largest", ev[col], sp.scaled_residual, sp.rel_err, sp.bound, sp.ratio);
        assert_true(sp.rel_err < 0.01 * sp.bound); /* the forward check passes it */
        if (which == 0) {
            assert_true(sp.scaled_residual > SB_PARITY_RESIDUAL_MAX);
            assert_false(sb_parity_passes(sp.ratio, 1.0));
        } else {
            assert_true(sb_parity_passes(sp.ratio, 1.0));
        }
    }
    free(G);
    free(ev);
    free(s);
}

/* The pieces: NaN fails, zero residual is 0, the bound's constant, the
 * threshold scales the rule. */
static void test_rule_pieces(void **st)
{
    (void)st;
    assert_true(sb_parity_scaled_residual(0, 1, 1, 10) == 0);
    assert_true(isinf(sb_parity_scaled_residual(1, 0, 1, 10)));
    assert_true(isnan(sb_parity_scaled_residual(NAN, 1, 1, 10)));
    assert_true(fabs(sb_parity_scaled_residual(100 * 0x1p-53, 1, 1, 100) - 1.0) < 1e-12);
    assert_true(fabs(sb_parity_bound(1e6, 100) - 10 * 10 * 1e6 * 0x1p-53) < 1e-20);
    sb_solve_parity sp = {.order = 100, .kappa_est = 1e6, .scaled_residual = 3, .scaled_residual_oracle = 1,
                          .rel_err = 5e-9};
    sb_parity_judge(&sp);
    assert_true(sb_parity_passes(sp.ratio, 1.0));
    assert_true(fabs(sp.ratio - 5e-9 / sp.bound) < 1e-12); /* 0.45: above sr/30 = 0.1 */
    sp.scaled_residual_oracle = 45; /* the oracle's own residual counts */
    sb_parity_judge(&sp);
    assert_false(sb_parity_passes(sp.ratio, 1.0));
    assert_true(sb_parity_passes(sp.ratio, 2.0)); /* --gate RS-001=2 doubles every constant */
    sp.scaled_residual_oracle = 1;
    sp.rel_err = NAN;
    sb_parity_judge(&sp);
    assert_true(isnan(sp.ratio));
    assert_false(sb_parity_passes(sp.ratio, 1.0));
    /* fe = 0 against a singular estimate is 0, not NaN */
    sp.rel_err = 0;
    sp.kappa_est = INFINITY;
    sb_parity_judge(&sp);
    assert_true(sp.ratio == 3.0 / 30.0); /* sr/30 */
}

/* The per-row rule of a small nonlinear solve (encode's EN-001): bound =
 * 10·√N·β·ε·G + 2·s, ratio = fe/bound through the solve rule's
 * sb_parity_part. */
static void test_row_rule_pieces(void **st)
{
    (void)st;
    assert_true(sb_parity_part(0, NAN) == 0 && sb_parity_part(0, INFINITY) == 0);
    assert_true(isnan(sb_parity_part(NAN, 1)) && isnan(sb_parity_part(1, NAN)));
    assert_true(sb_parity_part(2, 4) == 0.5);
    /* N = 64: 10·8·β·ε·G */
    const double b = sb_parity_row_bound(1e6, 2.0, 1e-12, 64);
    assert_true(fabs(b - (80.0 * 1e6 * 0x1p-53 * 2.0 + 2e-12)) < 1e-25);
    sb_row_parity r = {.row = 7, .order = 64, .beta = 1e6, .grad_scale = 2.0, .stop = 1e-12, .abs_err = 5e-9};
    sb_parity_row_judge(&r);
    assert_true(r.bound == b && fabs(r.ratio - 5e-9 / b) < 1e-15);
    assert_true(sb_parity_passes(r.ratio, 1.0)); /* 5e-9 against 1.8e-8; a fixed 1e-9 would fail it */
    r.abs_err = 2e-8;
    sb_parity_row_judge(&r);
    assert_false(sb_parity_passes(r.ratio, 1.0));
    assert_true(sb_parity_passes(r.ratio, 2.0)); /* --gate EN-001=2 doubles the bound */
    /* a well-conditioned row: the stopping term dominates, 1e-7 fails by far */
    r = (sb_row_parity){.order = 2048, .beta = 1.0, .grad_scale = 3.0, .stop = 1.5e-12, .abs_err = 1e-7};
    sb_parity_row_judge(&r);
    assert_true(r.ratio > 1e4);
    /* H not positive definite at the reference's t (β NaN): any difference fails, none passes */
    r.beta = NAN;
    sb_parity_row_judge(&r);
    assert_true(isnan(r.ratio) && !sb_parity_passes(r.ratio, 1.0));
    r.abs_err = 0;
    sb_parity_row_judge(&r);
    assert_true(r.ratio == 0);
}

/* sb_oracle_kappa_chol gives dpocon's estimate (the same dlacn2 iteration,
 * faster solves) on the real-data Grams at each ridge, from either factor. */
static void test_kappa_matches_dpocon(void **st)
{
    (void)st;
    sys *s = make_sys();
    double *G = malloc(sizeof(double) * P_COLS * P_COLS), *L = malloc(sizeof(double) * P_COLS * P_COLS);
    assert_true(G && L);
    const double ridges[] = {1e-1, 1e-3, 1e-5, 1e-7};
    for (size_t k = 0; k < sizeof ridges / sizeof ridges[0]; k++) {
        /* G = Xᵀ W X + ridge I, column-major (symmetric: either order) */
        for (int a = 0; a < P_COLS; a++)
            for (int b = 0; b <= a; b++) {
                double v = 0;
                for (int i = 0; i < N_ROWS; i++)
                    v += s->X[i * P_COLS + a] * s->w[i] * s->X[i * P_COLS + b];
                G[a * P_COLS + b] = G[b * P_COLS + a] = v + (a == b ? ridges[k] : 0.0);
            }
        memcpy(L, G, sizeof(double) * P_COLS * P_COLS);
        double anorm = LAPACKE_dlansy(LAPACK_COL_MAJOR, '1', 'U', P_COLS, G, P_COLS);
        assert_int_equal(LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'U', P_COLS, G, P_COLS), 0);
        assert_int_equal(LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', P_COLS, L, P_COLS), 0);
        double rcond = 0;
        assert_int_equal(LAPACKE_dpocon(LAPACK_COL_MAJOR, 'U', P_COLS, G, P_COLS, anorm, &rcond), 0);
        double ku = sb_oracle_kappa_chol('U', P_COLS, G, P_COLS, anorm);
        double kl = sb_oracle_kappa_chol('L', P_COLS, L, P_COLS, anorm);
        print_message("ridge %g: dpocon %.6g, estimate U %.6g, L %.6g\n", ridges[k], 1 / rcond, ku, kl);
        assert_true(fabs(ku * rcond - 1) < 1e-6);
        assert_true(fabs(kl * rcond - 1) < 1e-6);
    }
    assert_true(isnan(sb_oracle_kappa_chol('U', P_COLS, G, P_COLS, NAN)));
    free(G);
    free(L);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_data_solves_pass),
        cmocka_unit_test(test_perturbed_well_conditioned_rejected),
        cmocka_unit_test(test_ill_conditioned_perturbation),
        cmocka_unit_test(test_rule_pieces),
        cmocka_unit_test(test_row_rule_pieces),
        cmocka_unit_test(test_kappa_matches_dpocon),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
