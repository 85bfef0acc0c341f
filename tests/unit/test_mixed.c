/* resident-solve --precision mixed|auto on the host backend: the FP32 factor
 * with FP64 refinement must match the dense FP64 oracle, report its
 * refinement iterations, fall back to FP64 (and say so) on a system too
 * ill-conditioned for single precision, and auto must choose accordingly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "rs_fixture.h"
#include "host/host_rs.h"
#include "oracle/oracle_rs.h"

typedef struct sys {
    int64_t n, p;
    double *X, *w, *w2, *rhs, ridge;
} sys;

/* A random system; ill: X a rank-one matrix plus noise of 1e-5 (nearly
 * collinear columns: no diagonal scaling rescues it), weights spanning
 * 1e-8..1 geometrically and a ridge of 1e-13, which puts cond(A) far beyond
 * 1/ε₃₂ (~1e7) for either form. */
static sys make_sys(int64_t n, int64_t p, uint64_t seed, int ill)
{
    sys s = {n, p, malloc((size_t)(n * p) * sizeof(double)), malloc((size_t)n * sizeof(double)),
             malloc((size_t)n * sizeof(double)), malloc((size_t)p * sizeof(double)), ill ? 1e-13 : 0.1};
    sb_lcg g;
    sb_lcg_seed(&g, seed);
    for (int64_t i = 0; i < n; i++) {
        double u = sb_lcg_uniform(&g);
        for (int64_t j = 0; j < p; j++)
            s.X[i * p + j] = ill ? u * cos(0.1 * (double)j) + 1e-5 * sb_lcg_uniform(&g) : sb_lcg_uniform(&g);
    }
    for (int64_t i = 0; i < n; i++) {
        s.w[i] = ill ? pow(10.0, -8.0 * (double)i / (double)(n - 1)) : 0.01 + fabs(sb_lcg_uniform(&g));
        s.w2[i] = s.w[i] * (1.0 + 0.25 * sb_lcg_uniform(&g));
    }
    for (int64_t j = 0; j < p; j++)
        s.rhs[j] = sb_lcg_uniform(&g);
    return s;
}

static void free_sys(sys *s) { free(s->X), free(s->w), free(s->w2), free(s->rhs); }

static void *create(const sys *s, sb_method m, sb_precision prec)
{
    sb_rs_problem prob = {.n = s->n, .p = s->p, .X = s->X, .rhs = s->rhs, .ridge = s->ridge, .method = m,
                          .max_solves = 4, .precision = prec};
    void *state = NULL;
    sb_err e = {{0}};
    if (sb_host_backend.resident_solve->create(&prob, &state, &e) != SB_OK)
        fail_msg("create: %s", e.msg);
    return state;
}

static sb_rs_solve_info solve(void *state, const double *w, double *beta)
{
    const sb_rs_ops *ops = sb_host_backend.resident_solve;
    sb_err e = {{0}};
    if (ops->solve(state, w, beta, &e) != SB_OK)
        fail_msg("solve: %s", e.msg);
    sb_rs_solve_info info;
    memset(&info, 0xff, sizeof info);
    ops->last_solve(state, &info);
    return info;
}

/* Mixed vs the dense FP64 oracle, two different w in a row. */
static void check_mixed(int64_t n, int64_t p, sb_method m, uint64_t seed)
{
    sys s = make_sys(n, p, seed, 0);
    void *st = create(&s, m, SB_PREC_MIXED);
    double *b = malloc((size_t)p * sizeof *b), *ref = malloc((size_t)p * sizeof *ref);
    const double *ws[2] = {s.w, s.w2};
    sb_err e = {{0}};
    for (int k = 0; k < 2; k++) {
        sb_rs_solve_info info = solve(st, ws[k], b);
        assert_int_equal(info.mixed, 1);
        assert_int_equal(info.fallback, 0);
        assert_null(info.why);
        assert_null(info.auto_choice);
        assert_in_range(info.iterations, 0, SB_REFINE_MAX);
        assert_int_equal(sb_oracle_resident_solve(n, p, s.X, ws[k], s.rhs, s.ridge, ref, &e), SB_OK);
        double rel = sb_rel_inf_err(b, ref, p, NULL);
        if (!(rel < 1e-11))
            fail_msg("n=%lld p=%lld method=%d solve %d: rel err %g after %d iterations", (long long)n, (long long)p,
                     m, k, rel, info.iterations);
    }
    sb_telemetry t;
    sb_host_backend.resident_solve->telemetry(st, &t);
    assert_int_equal(t.factorizations, 2); /* one FP32 factor per solve, no fallback */
    sb_host_backend.resident_solve->destroy(st);
    free(b), free(ref);
    free_sys(&s);
}

static void test_mixed_matches_oracle(void **unused)
{
    (void)unused;
    check_mixed(40, 17, SB_METHOD_PRIMAL, 11);
    check_mixed(17, 40, SB_METHOD_DUAL, 12);
    check_mixed(40, 17, SB_METHOD_DUAL, 13);
    check_mixed(1, 1, SB_METHOD_PRIMAL, 14);
    check_mixed(1, 9, SB_METHOD_DUAL, 15);
    check_mixed(300, 120, SB_METHOD_PRIMAL, 16);
    check_mixed(120, 300, SB_METHOD_DUAL, 17);
    /* The primal residual in row chunks: uneven (7 + ... + 5) and of one row. */
    sb_host_gram_chunk_rows = 7;
    check_mixed(40, 17, SB_METHOD_PRIMAL, 18);
    sb_host_gram_chunk_rows = 1;
    check_mixed(9, 5, SB_METHOD_PRIMAL, 19);
    sb_host_gram_chunk_rows = 0;
}

/* Refinement must actually refine: the FP32 solve alone is ~1e-6 off, so
 * a well-conditioned but not trivial system needs at least one iteration. */
static void test_mixed_iterates(void **unused)
{
    (void)unused;
    sys s = make_sys(200, 150, 21, 0);
    void *st = create(&s, SB_METHOD_PRIMAL, SB_PREC_MIXED);
    double *b = malloc((size_t)s.p * sizeof *b);
    sb_rs_solve_info info = solve(st, s.w, b);
    assert_true(info.iterations >= 1);
    sb_host_backend.resident_solve->destroy(st);
    free(b);
    free_sys(&s);
}

/* Ill-conditioned: every mixed solve falls back, says why, and its β is
 * exactly the FP64 path's (the same code on the same inputs). */
static void check_fallback(sb_method m)
{
    sys s = make_sys(60, 40, 31, 1);
    void *mixed = create(&s, m, SB_PREC_MIXED), *fp64 = create(&s, m, SB_PREC_FP64);
    double *b = malloc((size_t)s.p * sizeof *b), *b64 = malloc((size_t)s.p * sizeof *b64);
    const double *ws[2] = {s.w, s.w2};
    for (int k = 0; k < 2; k++) {
        sb_rs_solve_info info = solve(mixed, ws[k], b);
        assert_int_equal(info.mixed, 1);
        assert_int_equal(info.fallback, 1);
        assert_non_null(info.why);
        sb_rs_solve_info i64 = solve(fp64, ws[k], b64);
        assert_int_equal(i64.mixed, 0);
        assert_int_equal(i64.fallback, 0);
        assert_memory_equal(b, b64, (size_t)s.p * sizeof *b);
    }
    sb_telemetry t;
    sb_host_backend.resident_solve->telemetry(mixed, &t);
    assert_int_equal(t.factorizations, 4); /* FP32 then FP64, per solve */
    sb_host_backend.resident_solve->destroy(mixed);
    sb_host_backend.resident_solve->destroy(fp64);
    free(b), free(b64);
    free_sys(&s);
}

static void test_mixed_falls_back(void **unused)
{
    (void)unused;
    check_fallback(SB_METHOD_PRIMAL);
    check_fallback(SB_METHOD_DUAL);
}

/* auto: the first solve decides, later solves follow. */
static void check_auto(int ill, sb_method m)
{
    sys s = make_sys(60, 40, 41, ill);
    void *st = create(&s, m, SB_PREC_AUTO);
    double *b = malloc((size_t)s.p * sizeof *b);
    sb_rs_solve_info first = solve(st, s.w, b);
    assert_int_equal(first.mixed, 1);
    assert_non_null(first.auto_choice);
    assert_true(strncmp(first.auto_choice, ill ? "fp64:" : "mixed:", ill ? 5 : 6) == 0);
    sb_rs_solve_info second = solve(st, s.w2, b);
    assert_int_equal(second.mixed, !ill);
    assert_null(second.auto_choice);
    sb_host_backend.resident_solve->destroy(st);
    free(b);
    free_sys(&s);
}

static void test_auto_decides_on_first_solve(void **unused)
{
    (void)unused;
    check_auto(0, SB_METHOD_PRIMAL);
    check_auto(0, SB_METHOD_DUAL);
    check_auto(1, SB_METHOD_PRIMAL);
    check_auto(1, SB_METHOD_DUAL);
}

static void test_fp64_reports_no_refinement(void **unused)
{
    (void)unused;
    sys s = make_sys(40, 17, 51, 0);
    void *st = create(&s, SB_METHOD_PRIMAL, SB_PREC_FP64);
    double *b = malloc((size_t)s.p * sizeof *b);
    sb_rs_solve_info info = solve(st, s.w, b);
    assert_int_equal(info.mixed, 0);
    assert_int_equal(info.iterations, 0);
    assert_int_equal(info.fallback, 0);
    sb_host_backend.resident_solve->destroy(st);
    free(b);
    free_sys(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mixed_matches_oracle),
        cmocka_unit_test(test_mixed_iterates),
        cmocka_unit_test(test_mixed_falls_back),
        cmocka_unit_test(test_auto_decides_on_first_solve),
        cmocka_unit_test(test_fp64_reports_no_refinement),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
