/* Unit tests for 'saebench compare' (src/cmd_compare.c, docs/compare.md):
 * the Mann-Whitney U test pinned to scipy.stats.mannwhitneyu (method
 * "asymptotic", use_continuity=True, two-sided), the decision rule on
 * hand-made samples, the decision for one verdict a side (sb_compare_verdicts,
 * what the dashboard's history marks), and the verdict reader's schema, type
 * and date checks (src/verdict_read.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "compare.h"
#include "verdict_read.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------ Mann-Whitney */

static void test_mw_separated(void **st)
{
    (void)st;
    const double a[] = {1, 2, 3, 4, 5, 6}, b[] = {7, 8, 9, 10, 11, 12};
    sb_mw mw;
    assert_int_equal(sb_mann_whitney(a, N(a), b, N(b), &mw), 1);
    /* scipy: mannwhitneyu(b, a) -> statistic 36.0, pvalue 0.005074868097940253 */
    assert_true(mw.u_b == 36.0);
    assert_true(mw.mu == 18.0);
    assert_true(fabs(mw.sigma - sqrt(39.0)) < 1e-12);
    assert_true(fabs(mw.p - 0.005074868097940253) < 1e-12);
    assert_true(mw.z > 0);
    /* Six a side fully separated is the smallest case that reaches p < 0.01. */
    assert_true(mw.p < SB_COMPARE_ALPHA);
}

static void test_mw_ties(void **st)
{
    (void)st;
    const double a[] = {1, 2, 2, 3, 3, 3}, b[] = {2, 3, 3, 4, 4, 5};
    sb_mw mw;
    assert_int_equal(sb_mann_whitney(a, N(a), b, N(b), &mw), 1);
    /* scipy: statistic 29.0, pvalue 0.07840293453326791 (tie-corrected) */
    assert_true(mw.u_b == 29.0);
    assert_true(fabs(mw.p - 0.07840293453326791) < 1e-12);
}

static void test_mw_unequal_sizes_and_symmetry(void **st)
{
    (void)st;
    const double a[] = {1.05, 1.15, 1.25, 1.35, 1.45, 1.55, 1.65, 1.75};
    const double b[] = {1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6};
    sb_mw ab, ba;
    assert_int_equal(sb_mann_whitney(a, N(a), b, N(b), &ab), 1);
    /* scipy: mannwhitneyu(b, a) -> statistic 21.0, pvalue 0.45191345827907314 */
    assert_true(ab.u_b == 21.0);
    assert_true(fabs(ab.p - 0.45191345827907314) < 1e-12);
    assert_true(ab.z < 0);
    assert_int_equal(sb_mann_whitney(b, N(b), a, N(a), &ba), 1);
    assert_true(fabs(ba.p - ab.p) < 1e-15);
    assert_true(fabs(ba.z + ab.z) < 1e-15);
}

static void test_mw_degenerate(void **st)
{
    (void)st;
    const double same[] = {2, 2, 2, 2, 2, 2};
    sb_mw mw;
    /* Every value tied: no evidence either way. */
    assert_int_equal(sb_mann_whitney(same, N(same), same, N(same), &mw), 1);
    assert_true(mw.p == 1.0 && mw.z == 0.0);
    /* An empty side cannot be tested. */
    assert_int_equal(sb_mann_whitney(same, N(same), same, 0, &mw), 0);
    assert_true(mw.p == 1.0);
}

/* ------------------------------------------------------------ the rule */

static sb_cmp_side side(double median, double rel_iqr, double rse, const double *s, size_t n)
{
    sb_cmp_side x = {median, rel_iqr, rse, s, n};
    return x;
}

static void test_decide_noise_band(void **st)
{
    (void)st;
    sb_cmp_decision d;
    sb_cmp_side b = side(1.0, 0.01, 0.005, NULL, 0), c = side(1.04, 0.01, 0.005, NULL, 0);
    sb_compare_decide(&b, &c, 0.05, 0.01, &d);
    assert_int_equal(d.label, SB_CMP_NOISE);
    assert_true(fabs(d.delta - 0.04) < 1e-12);
    assert_true(d.threshold == 0.05);
    assert_string_equal(d.threshold_from, "max-regression");

    /* The new run's spread widens the band: 10 % slower inside a 20 % IQR. */
    c = side(1.10, 0.20, 0.01, NULL, 0);
    sb_compare_decide(&b, &c, 0.05, 0.01, &d);
    assert_int_equal(d.label, SB_CMP_NOISE);
    assert_true(d.threshold == 0.20);
    assert_string_equal(d.threshold_from, "NEW rel_iqr");

    /* Twice the base median's standard error: 0.07 -> band 0.14. */
    b = side(1.0, 0.01, 0.07, NULL, 0);
    c = side(1.13, 0.01, 0.01, NULL, 0);
    sb_compare_decide(&b, &c, 0.05, 0.01, &d);
    assert_int_equal(d.label, SB_CMP_NOISE);
    assert_true(fabs(d.threshold - 0.14) < 1e-15);
    assert_string_equal(d.threshold_from, "2 x BASE rse_median");
    c.median_s = 1.15;
    sb_compare_decide(&b, &c, 0.05, 0.01, &d);
    assert_int_equal(d.label, SB_CMP_REGRESSION);

    /* Exactly on the band is noise: the rule is delta > threshold. */
    b = side(2.0, NAN, NAN, NULL, 0);
    c = side(2.5, NAN, NAN, NULL, 0);
    sb_compare_decide(&b, &c, 0.25, 0.01, &d);
    assert_true(d.delta == 0.25);
    assert_int_equal(d.label, SB_CMP_NOISE);
}

static void test_decide_without_samples(void **st)
{
    (void)st;
    sb_cmp_decision d;
    sb_cmp_side b = side(1.0, 0.02, 0.01, NULL, 0), c = side(1.3, 0.02, 0.01, NULL, 0);
    sb_compare_decide(&b, &c, 0.05, 0.01, &d);
    assert_int_equal(d.label, SB_CMP_REGRESSION);
    assert_int_equal(d.mw_used, 0);
    c.median_s = 0.7;
    sb_compare_decide(&b, &c, 0.05, 0.01, &d);
    assert_int_equal(d.label, SB_CMP_IMPROVEMENT);
    assert_true(fabs(d.delta + 0.3) < 1e-12);
}

static void test_decide_with_samples(void **st)
{
    (void)st;
    const double base[] = {1.00, 1.01, 0.99, 1.02, 0.98, 1.00, 1.01, 0.99};
    double slow[8], fast[8];
    for (size_t i = 0; i < 8; i++) {
        slow[i] = 1.3 * base[i];
        fast[i] = 0.7 * base[i];
    }
    sb_cmp_decision d;
    sb_cmp_side b = side(1.0, 0.02, 0.005, base, 8), c = side(1.3, 0.02, 0.005, slow, 8);
    sb_compare_decide(&b, &c, 0.05, 0.01, &d);
    assert_int_equal(d.label, SB_CMP_REGRESSION);
    assert_int_equal(d.mw_used, 1);
    assert_true(d.mw.p < 0.01 && d.mw.z > 0);

    c = side(0.7, 0.02, 0.005, fast, 8);
    sb_compare_decide(&b, &c, 0.05, 0.01, &d);
    assert_int_equal(d.label, SB_CMP_IMPROVEMENT);
    assert_true(d.mw.p < 0.01 && d.mw.z < 0);

    /* The median moved 30 % but the samples did not: the test disagrees,
     * so it is ambiguous and does not fail. */
    c = side(1.3, 0.02, 0.005, base, 8);
    sb_compare_decide(&b, &c, 0.05, 0.01, &d);
    assert_int_equal(d.label, SB_CMP_AMBIGUOUS);
    assert_true(d.mw.p > 0.01);

    /* Significant, but in the other direction from the medians: ambiguous. */
    c = side(0.7, 0.02, 0.005, slow, 8);
    sb_compare_decide(&b, &c, 0.05, 0.01, &d);
    assert_int_equal(d.label, SB_CMP_AMBIGUOUS);

    /* Five a side: no test; the band alone decides. */
    c = side(1.3, 0.02, 0.005, base, 5);
    sb_compare_decide(&b, &c, 0.05, 0.01, &d);
    assert_int_equal(d.mw_used, 0);
    assert_int_equal(d.label, SB_CMP_REGRESSION);

    /* A looser alpha is honoured: 6 v 6 separated has p = 0.0051. */
    const double a6[] = {1, 2, 3, 4, 5, 6}, b6[] = {7, 8, 9, 10, 11, 12};
    b = side(3.5, 0.02, 0.005, a6, 6);
    c = side(9.5, 0.02, 0.005, b6, 6);
    sb_compare_decide(&b, &c, 0.05, 0.001, &d);
    assert_int_equal(d.label, SB_CMP_AMBIGUOUS);
    sb_compare_decide(&b, &c, 0.05, 0.01, &d);
    assert_int_equal(d.label, SB_CMP_REGRESSION);
}

static void test_decide_not_measured(void **st)
{
    (void)st;
    sb_cmp_decision d;
    sb_cmp_side b = side(0.0, 0, 0, NULL, 0), c = side(1.0, 0, 0, NULL, 0);
    sb_compare_decide(&b, &c, 0.05, 0.01, &d);
    assert_int_equal(d.label, SB_CMP_NOT_MEASURED);
    assert_true(isnan(d.delta));
    b.median_s = 1.0;
    c.median_s = NAN;
    sb_compare_decide(&b, &c, 0.05, 0.01, &d);
    assert_int_equal(d.label, SB_CMP_NOT_MEASURED);
    assert_string_equal(sb_cmp_label_name(SB_CMP_NOT_MEASURED), "not-measured");
    assert_string_equal(sb_cmp_label_name(SB_CMP_REGRESSION), "regression");
}


/* ------------------------------------------------------------ runs as the unit */

static void test_t_pvalue(void **st)
{
    (void)st;
    /* Closed forms: df = 1 (Cauchy) p = 1 - 2 atan|t| / pi; df = 2: p = 1 - |t| / sqrt(t^2 + 2). */
    for (double t = 0.25; t < 40; t *= 1.7) {
        assert_true(fabs(sb_t_pvalue(t, 1) - (1 - 2 * atan(t) / M_PI)) < 1e-12);
        assert_true(fabs(sb_t_pvalue(-t, 2) - (1 - t / sqrt(t * t + 2))) < 1e-12);
    }
    /* Tables (and mpmath.betainc(df/2, 1/2, 0, df/(df+t^2), regularized=True)). */
    assert_true(fabs(sb_t_pvalue(2.776445105197799, 4) - 0.05) < 1e-12);
    assert_true(fabs(sb_t_pvalue(4.604094871415897, 4) - 0.01) < 1e-12);
    assert_true(fabs(sb_t_pvalue(1.5, 3) - 0.23058386524482302) < 1e-12);
    assert_true(fabs(sb_t_pvalue(0.3, 7) - 0.7728900504021344) < 1e-12);
    assert_true(fabs(sb_t_pvalue(3.2, 10) - 0.009491695795303848) < 1e-12);
    /* Many degrees of freedom: the normal's 1.96. */
    assert_true(fabs(sb_t_pvalue(1.959963984540054, 1e7) - 0.05) < 1e-6);
    assert_true(sb_t_pvalue(0, 4) == 1.0);
    assert_true(sb_t_pvalue(INFINITY, 4) == 0.0);
    assert_true(sb_t_pvalue(2, 0) == 1.0);
}

static void test_t_test_log(void **st)
{
    (void)st;
    sb_ttest t;
    const double a[] = {0.130, 0.135, 0.128}, b[] = {0.26, 0.27, 0.255};
    assert_int_equal(sb_t_test_log(a, 3, b, 3, 0, &t), 1);
    /* By hand (python, math.log and mpmath): t = 30.00745, df 4, p = 7.3456e-06. */
    assert_true(t.df == 4);
    assert_true(fabs(t.t - 30.007450405190948) < 1e-9);
    assert_true(fabs(t.p - 7.3455832973781234e-06) / 7.3455832973781234e-06 < 1e-9);
    assert_true(fabs(t.s_pooled - 0.02823734107236424) < 1e-12);
    /* A floor above the pooled spread replaces it. */
    assert_int_equal(sb_t_test_log(a, 3, b, 3, 0.5, &t), 1);
    assert_true(t.s == 0.5 && t.s_pooled < 0.5 && t.t < 2);
    /* One value a side: no degrees of freedom. */
    assert_int_equal(sb_t_test_log(a, 1, b, 1, 0, &t), 0);
    assert_true(t.p == 1.0);
}

static sb_cmp_opts rule_opts(void)
{
    sb_cmp_opts o = {SB_COMPARE_MAX_REGRESSION, SB_COMPARE_ALPHA, SB_COMPARE_RUN_ALPHA,
                     SB_COMPARE_SINGLE_RUN_THRESHOLD};
    return o;
}

/* k runs with the given medians, each tight inside (rel_iqr 2 %, rse 0.5 %)
 * and 8 samples at 0.99..1.02 x its median. */
static double g_samples[16][8];
static void runs_of(sb_cmp_side *out, const double *med, size_t k, size_t first)
{
    static const double shape[8] = {1.00, 1.01, 0.99, 1.02, 0.98, 1.00, 1.01, 0.99};
    for (size_t i = 0; i < k; i++) {
        for (size_t j = 0; j < 8; j++)
            g_samples[first + i][j] = med[i] * shape[j];
        out[i] = side(med[i], 0.02, 0.005, g_samples[first + i], 8);
    }
}

/* The issue: one binary, run after run, medians 0.132 .. 0.220 s, each run
 * tight inside. Within-run evidence alone calls a pair a regression; runs as
 * the unit do not. */
static void test_runs_drift_is_not_a_regression(void **st)
{
    (void)st;
    const sb_cmp_opts o = rule_opts();
    const double bm[] = {0.132, 0.180, 0.220}, nm[] = {0.150, 0.200, 0.170};
    sb_cmp_side b[3], c[3];
    runs_of(b, bm, 3, 0);
    runs_of(c, nm, 3, 3);
    sb_cmp_decision d;
    /* The old rule on one pair (0.132 -> 0.220): a "regression" of +67 %. */
    sb_compare_decide(&b[0], &b[2], o.max_regression, o.alpha, &d);
    assert_int_equal(d.label, SB_CMP_REGRESSION);
    /* The same pair as one run a side: ambiguous, not beyond the 2x threshold. */
    sb_compare_decide_runs(&b[0], 1, &b[2], 1, &o, &d);
    assert_int_equal(d.rule, SB_RULE_SINGLE_RUN);
    assert_int_equal(d.label, SB_CMP_AMBIGUOUS);
    assert_string_equal(d.why, "one run per side");
    assert_true(fabs(d.single_run_threshold - (2.0 * 1.05 - 1)) < 1e-12);
    /* 3 v 3: the between-run spread is the band; noise. */
    sb_compare_decide_runs(b, 3, c, 3, &o, &d);
    assert_int_equal(d.rule, SB_RULE_RUNS);
    assert_int_equal(d.label, SB_CMP_NOISE);
    assert_int_equal((int)d.runs_base, 3);
    assert_true(fabs(d.delta + 0.008178116469507168) < 1e-12);
    assert_true(fabs(d.threshold - 0.23197163109781718) < 1e-12);
    assert_string_equal(d.threshold_from, "pooled between-run sd");
    /* 2 v 3 too (df 3). */
    const double b2[] = {0.132, 0.220};
    runs_of(b, b2, 2, 0);
    sb_compare_decide_runs(b, 2, c, 3, &o, &d);
    assert_int_equal(d.label, SB_CMP_NOISE);
    assert_true(d.t.df == 3);
}

static void test_runs_real_slowdown_both_directions(void **st)
{
    (void)st;
    const sb_cmp_opts o = rule_opts();
    const double bm[] = {0.130, 0.135, 0.128}, nm[] = {0.26, 0.27, 0.255};
    sb_cmp_side b[3], c[3];
    runs_of(b, bm, 3, 0);
    runs_of(c, nm, 3, 3);
    sb_cmp_decision d;
    sb_compare_decide_runs(b, 3, c, 3, &o, &d);
    assert_int_equal(d.label, SB_CMP_REGRESSION);
    assert_true(fabs(d.delta - 0.9973924351135035) < 1e-12);
    assert_true(d.t_used && d.t.p < o.run_alpha && d.t.t > 0);
    /* The band here is the floor, max-regression: the runs agree well. */
    assert_string_equal(d.threshold_from, "max-regression");
    /* The mirror: NEW twice as fast is an improvement. */
    sb_compare_decide_runs(c, 3, b, 3, &o, &d);
    assert_int_equal(d.label, SB_CMP_IMPROVEMENT);
    assert_true(d.t.t < 0 && d.t.p < o.run_alpha);
    /* A stricter level than the evidence: ambiguous, not a regression. */
    sb_cmp_opts strict = o;
    strict.run_alpha = 1e-6;
    sb_compare_decide_runs(b, 3, c, 3, &strict, &d);
    assert_int_equal(d.label, SB_CMP_AMBIGUOUS);
    /* One run a side, +99.7 %: within the single-run threshold (1 + 100 %)(1 + 5 %) - 1 = 110 %. */
    sb_compare_decide_runs(&b[0], 1, &c[0], 1, &o, &d);
    assert_int_equal(d.label, SB_CMP_AMBIGUOUS);
    /* With --single-run-threshold 50 the single pair is claimed, both ways. */
    sb_cmp_opts wide = o;
    wide.single_run_threshold = 0.5;
    sb_compare_decide_runs(&b[0], 1, &c[0], 1, &wide, &d);
    assert_int_equal(d.label, SB_CMP_REGRESSION);
    assert_true(d.mw_used && d.mw.z > 0);
    sb_compare_decide_runs(&c[0], 1, &b[0], 1, &wide, &d);
    assert_int_equal(d.label, SB_CMP_IMPROVEMENT);
}

static void test_runs_beyond_band_not_significant(void **st)
{
    (void)st;
    const sb_cmp_opts o = rule_opts();
    /* logs -0.223, 0, +0.223: pooled sd 0.223, band e^0.223 - 1 = 25 %; NEW
     * 35 % slower is beyond the band but t = 1.65, p = 0.17: ambiguous. */
    const double bm[] = {1 / 1.25, 1.0, 1.25}, nm[] = {1.35 / 1.25, 1.35, 1.35 * 1.25};
    sb_cmp_side b[3], c[3];
    runs_of(b, bm, 3, 0);
    runs_of(c, nm, 3, 3);
    sb_cmp_decision d;
    sb_compare_decide_runs(b, 3, c, 3, &o, &d);
    assert_true(fabs(d.delta - 0.35) < 1e-12);
    assert_true(fabs(d.threshold - 0.25) < 1e-12);
    assert_int_equal(d.label, SB_CMP_AMBIGUOUS);
    assert_true(d.t.p > 0.1 && d.t.p < 0.25);
    assert_string_equal(d.why, "t test on run medians does not agree");
}

static void test_runs_rse_floor_and_unmeasured(void **st)
{
    (void)st;
    const sb_cmp_opts o = rule_opts();
    /* Runs that agree exactly: the pooled sd is 0, but each median is only
     * known to its rse (10 %), which floors the spread. */
    sb_cmp_side b[2] = {side(1.0, 0.3, 0.10, NULL, 0), side(1.0, 0.3, 0.10, NULL, 0)};
    sb_cmp_side c[2] = {side(1.15, 0.3, 0.10, NULL, 0), side(1.15, 0.3, 0.10, NULL, 0)};
    sb_cmp_decision d;
    sb_compare_decide_runs(b, 2, c, 2, &o, &d);
    assert_true(d.t.s_pooled == 0 && fabs(d.t.s - 0.10) < 1e-15);
    /* +15 % is beyond the band e^0.1 - 1 = 10.5 %, but t = ln 1.15 / 0.1 = 1.40,
     * df 2, p = 0.30: ambiguous. Without the floor t would be infinite. */
    assert_true(fabs(d.threshold - expm1(0.10)) < 1e-15);
    assert_string_equal(d.threshold_from, "runs' rse_median (floor of the between-run sd)");
    assert_int_equal(d.label, SB_CMP_AMBIGUOUS);
    assert_true(fabs(d.t.p - (1 - log(1.15) / 0.1 / sqrt(pow(log(1.15) / 0.1, 2) + 2))) < 1e-12);

    /* Unmeasured runs are left out; none measured on a side: not-measured. */
    sb_cmp_side none[2] = {side(0.0, 0, 0, NULL, 0), side(NAN, 0, 0, NULL, 0)};
    sb_compare_decide_runs(b, 2, none, 2, &o, &d);
    assert_int_equal(d.label, SB_CMP_NOT_MEASURED);
    sb_cmp_side mixed[2] = {side(1.0, 0.02, 0.005, NULL, 0), side(0.0, 0, 0, NULL, 0)};
    const double nm[] = {1.0, 1.01, 0.99};
    sb_cmp_side c3[3];
    runs_of(c3, nm, 3, 0);
    sb_compare_decide_runs(mixed, 2, c3, 3, &o, &d);
    assert_int_equal((int)d.runs_base, 1);
    assert_int_equal(d.rule, SB_RULE_RUNS);
    assert_true(d.t.df == 2);
    assert_int_equal(d.label, SB_CMP_NOISE);
}

/* ------------------------------------------------------------ the reader */

static const char MINIMAL[] =
    "{\"schema\": \"saebench.verdict/2\", \"workload\": \"resident-solve\", \"shape\": {\"name\": \"s\"},"
    " \"backend\": \"host\", \"device\": null, \"engaged\": false, \"gates\": [{\"id\": \"RS-001\","
    " \"applies\": true, \"pass\": true, \"value\": 1e-15, \"threshold\": 1e-9}],"
    " \"timing\": {\"median_s\": 0.5, \"rel_iqr\": 0.1, \"samples_s\": [0.4, 0.5, 0.6],"
    " \"phases\": {\"resident\": {\"median_s\": 0.5}}},"
    " \"throughput\": {\"measured_rows_per_s\": 10, \"engaged_rows_per_s\": 0},"
    " \"roofline\": {\"bound_s\": 0.25, \"efficiency\": 0.5, \"suspect\": false},"
    " \"created\": \"2026-11-24T12:00:00+02:00\", \"verdict\": \"pass\", \"exit_code\": 0}";

static int parse(const char *text, sb_vrec *v, int *found, sb_err *err)
{
    return (int)sb_vrec_parse(text, strlen(text), "t.json", v, found, err);
}

static void test_reader_minimal(void **st)
{
    (void)st;
    sb_vrec v;
    int found = 0;
    sb_err err = {{0}};
    assert_int_equal(parse(MINIMAL, &v, &found, &err), SB_OK);
    assert_int_equal(found, 1);
    assert_string_equal(v.device, "host");
    assert_int_equal(v.device_null, 1); /* "host" as a key, but no device ran */
    assert_int_equal(v.roofline_suspect, 0);
    assert_true(v.timing.median_s == 0.5 && v.timing.nsamples == 3);
    assert_true(v.seconds_per_rep == 0.5); /* from the median when throughput lacks it */
    assert_true(isnan(v.timing.rse_median));
    assert_int_equal(v.nphases, 1);
    assert_non_null(sb_vrec_phase(&v, "resident"));
    assert_int_equal(v.ngates, 1);
    assert_string_equal(v.date_from, "created");
    assert_string_equal(v.date, "2026-11-24T10:00:00Z");
    assert_true(v.order_epoch == v.date_epoch); /* created orders */
    sb_vrec_free(&v);
    /* /3 (the parity rule's version) reads the same fields. */
    char v3[2048];
    const char *at = strstr(MINIMAL, "verdict/2");
    assert_non_null(at);
    for (int ver = 3; ver <= 4; ver++) { /* /4: the arrow and encode parity rules */
        snprintf(v3, sizeof v3, "%.*sverdict/%d%s", (int)(at - MINIMAL), MINIMAL, ver, at + strlen("verdict/2"));
        found = 0;
        assert_int_equal(parse(v3, &v, &found, &err), SB_OK);
        assert_int_equal(found, 1);
        assert_int_equal(v.ngates, 1);
        sb_vrec_free(&v);
    }
}

/* Runs of one configuration: same git, host, threads and options (outputs aside). */
static void test_reader_config(void **st)
{
    (void)st;
    static const char head[] =
        "{\"schema\": \"saebench.verdict/2\", \"workload\": \"resident-solve\", \"shape\": {\"name\": \"s\"},"
        " \"backend\": \"host\", \"device\": null, \"engaged\": false, \"gates\": [],"
        " \"timing\": {\"median_s\": 0.5}, \"throughput\": {\"measured_rows_per_s\": 10, \"engaged_rows_per_s\": 0},"
        " \"verdict\": \"pass\", \"exit_code\": 0, \"tool\": {\"name\": \"saebench\", \"version\": \"0.1.0\","
        " \"git\": \"abc-dirty\", \"dirty\": true}, \"host\": {\"cpu\": \"x\", \"threads\": 2, \"blas\": \"b\","
        " \"hostname\": \"vm\"}, ";
    const char *tails[] = {
        "\"command\": [\"./saebench\", \"resident-solve\", \"--shape\", \"s\", \"--out\", \"a/v.json\"]}",
        "\"command\": [\"/x/saebench\", \"resident-solve\", \"--shape\", \"s\", \"--quiet\", \"--out=b/v.json\"]}",
        "\"command\": [\"./saebench\", \"resident-solve\", \"--shape\", \"s\", \"--threads\", \"1\"]}",
        "\"command\": [\"./saebench\", 3]}",
    };
    sb_vrec v[3];
    sb_err err = {{0}};
    int found = 0;
    for (int i = 0; i < 4; i++) {
        char text[2048];
        snprintf(text, sizeof text, "%s%s", head, tails[i]);
        if (i == 3) {
            sb_vrec bad;
            assert_int_equal(parse(text, &bad, &found, &err), SB_E_INPUT);
            assert_non_null(strstr(err.msg, "command"));
            continue;
        }
        assert_int_equal(parse(text, &v[i], &found, &err), SB_OK);
    }
    assert_int_equal(v[0].dirty, 1);
    assert_string_equal(v[0].hostname, "vm");
    assert_true(v[0].host_threads == 2);
    assert_string_equal(v[0].args, "resident-solve\x1f--shape\x1fs");
    assert_true(sb_vrec_same_config(&v[0], &v[1]));  /* only the outputs and the program path differ */
    assert_false(sb_vrec_same_config(&v[0], &v[2])); /* --threads 1 */
    v[1].git[0] = 'x';
    assert_false(sb_vrec_same_config(&v[0], &v[1]));
    /* No created, no dated directory: the order is the path's, never mtime. */
    assert_true(v[0].order_epoch == 0);
    for (int i = 0; i < 3; i++)
        sb_vrec_free(&v[i]);
}

static void test_reader_rejects(void **st)
{
    (void)st;
    struct { const char *from, *to, *msg; } cases[] = {
        {"\"saebench.verdict/2\"", "\"saebench.verdict/5\"", "newer schema version"},
        {"\"saebench.verdict/2\"", "\"saebench.verdict/1\"", "older"},
        {"\"saebench.verdict/2\"", "\"saebench.verdict/2x\"", "unknown verdict schema"},
        {"\"median_s\": 0.5,", "\"median_s\": \"fast\",", "timing.median_s"},
        {"\"median_s\": 0.5,", "\"median_s\": 1e999,", "timing.median_s"},
        {"\"median_s\": 0.5,", "\"median_s\": -1,", "must not be negative"},
        {"[0.4, 0.5, 0.6]", "[0.4, null]", "timing.samples_s"},
        {"\"applies\": true", "\"applies\": 1", "gates[0].applies"},
        {"\"exit_code\": 0", "\"exit_code\": 1", "pass\" exactly when"},
        {"\"exit_code\": 0", "\"exit_code\": 7", "exit_code"},
        {"\"name\": \"s\"", "\"name\": \"a\\u0001b\"", "control character"},
        {"\"created\": \"2026-11-24T12:00:00+02:00\"", "\"created\": \"yesterday\"", "created"},
        {"\"throughput\"", "\"throughput_gone\"", "throughput is missing"},
        {"\"device\": null", "\"device\": {\"name\": 5}", "device.name"},
        {"\"suspect\": false", "\"suspect\": \"no\"", "roofline.suspect"},
        {"\"suspect\": false", "\"suspect\": 0", "roofline.suspect"},
    };
    for (size_t k = 0; k < N(cases); k++) {
        char text[2048];
        const char *at = strstr(MINIMAL, cases[k].from);
        assert_non_null(at);
        snprintf(text, sizeof text, "%.*s%s%s", (int)(at - MINIMAL), MINIMAL, cases[k].to,
                 at + strlen(cases[k].from));
        sb_vrec v;
        int found = 0;
        sb_err err = {{0}};
        int rc = parse(text, &v, &found, &err);
        if (rc != SB_E_INPUT || !strstr(err.msg, cases[k].msg))
            fail_msg("case %zu (%s): rc %d, message '%s'", k, cases[k].to, rc, err.msg);
        assert_int_equal(found, 0);
        assert_non_null(strstr(err.msg, "t.json: "));
    }
}

/* roofline.suspect absent (older files) is -1; true is kept; a named device is not null. */
static void test_reader_suspect_and_device(void **st)
{
    (void)st;
    struct { const char *from, *to; int suspect, device_null; } cases[] = {
        {"\"suspect\": false", "\"suspect\": true", 1, 1},
        {", \"suspect\": false", "", -1, 1},
        {"\"device\": null", "\"device\": {\"name\": \"GPU\"}", 0, 0},
    };
    for (size_t k = 0; k < N(cases); k++) {
        char text[2048];
        const char *at = strstr(MINIMAL, cases[k].from);
        assert_non_null(at);
        snprintf(text, sizeof text, "%.*s%s%s", (int)(at - MINIMAL), MINIMAL, cases[k].to, at + strlen(cases[k].from));
        sb_vrec v;
        int found = 0;
        sb_err err = {{0}};
        assert_int_equal(parse(text, &v, &found, &err), SB_OK);
        assert_int_equal(v.roofline_suspect, cases[k].suspect);
        assert_int_equal(v.device_null, cases[k].device_null);
        sb_vrec_free(&v);
    }
}

/* ------------------------------------------------------------ one verdict a side */

/* A verdict of one key: 8 reps around 10 ms x f (no reps and median 0 when
 * exit_code is 4: nothing measured), its gate RS-001 passing or not. */
static void one_verdict(sb_vrec *v, double f, int gate_pass, int exit_code)
{
    static const double spread[8] = {0.98, 0.99, 1.0, 1.0, 1.01, 1.02, 0.995, 1.005};
    char samples[512] = "", text[2048];
    size_t used = 0;
    for (size_t i = 0; i < 8 && exit_code != 4; i++)
        used += (size_t)snprintf(samples + used, sizeof samples - used, "%s%.17g", i ? ", " : "", 0.01 * f * spread[i]);
    snprintf(text, sizeof text,
             "{\"schema\": \"saebench.verdict/3\", \"workload\": \"resident-solve\", \"shape\": {\"name\": \"s\"},"
             " \"backend\": \"host\", \"device\": null, \"engaged\": false,"
             " \"gates\": [{\"id\": \"RS-001\", \"applies\": true, \"pass\": %s, \"value\": 1e-15, \"threshold\": 1e-9}],"
             " \"timing\": {\"median_s\": %.17g, \"rel_iqr\": 0.02, \"rse_median\": 0.005, \"samples_s\": [%s]},"
             " \"throughput\": {\"measured_rows_per_s\": 10, \"engaged_rows_per_s\": 0},"
             " \"verdict\": \"%s\", \"exit_code\": %d}",
             gate_pass ? "true" : "false", exit_code == 4 ? 0 : 0.01 * f, samples, exit_code ? "fail" : "pass",
             exit_code);
    int found = 0;
    sb_err err = {{0}};
    assert_int_equal(parse(text, v, &found, &err), SB_OK);
    assert_int_equal(found, 1);
}

/* sb_compare_verdicts is compare's own decision for one run a side: the
 * timing rule with the single-run threshold, a flipped gate, a lost
 * measurement; and it matches sb_compare_decide_runs on the timing. */
static void test_compare_verdicts(void **st)
{
    (void)st;
    struct {
        double f;
        int gate_pass, exit_code, base_exit;
        sb_cmp_label label;
        int regression, lost;
        size_t flipped;
    } cases[] = {
        {2.5, 1, 0, 0, SB_CMP_REGRESSION, 1, 0, 0},  /* +150%: beyond (1 + 100%)(1 + 5%) - 1 */
        {1.5, 1, 0, 0, SB_CMP_AMBIGUOUS, 0, 0, 0},   /* +50%: inside the single-run threshold */
        {0.3, 1, 0, 0, SB_CMP_IMPROVEMENT, 0, 0, 0}, /* faster never fails */
        {1.0, 0, 1, 0, SB_CMP_NOISE, 1, 0, 1},       /* RS-001 flipped pass -> fail */
        {1.0, 0, 4, 0, SB_CMP_NOT_MEASURED, 1, 1, 1}, /* nothing measured where the base did */
        {1.0, 1, 0, 4, SB_CMP_NOT_MEASURED, 0, 0, 0}, /* the base measured nothing: nothing lost */
    };
    sb_cmp_opts o = sb_cmp_opts_default();
    assert_true(o.max_regression == SB_COMPARE_MAX_REGRESSION && o.single_run_threshold == SB_COMPARE_SINGLE_RUN_THRESHOLD);
    for (size_t k = 0; k < N(cases); k++) {
        sb_vrec base, cur;
        one_verdict(&base, 1.0, 1, cases[k].base_exit);
        one_verdict(&cur, cases[k].f, cases[k].gate_pass, cases[k].exit_code);
        sb_cmp_verdicts c;
        sb_err err = {{0}};
        assert_int_equal(sb_compare_verdicts(&base, &cur, &o, &c, &err), SB_OK);
        if (c.timing.label != cases[k].label || c.regression != cases[k].regression || c.lost != cases[k].lost ||
            c.gates_flipped != cases[k].flipped)
            fail_msg("case %zu: label %s regression %d lost %d flipped %zu", k, sb_cmp_label_name(c.timing.label),
                     c.regression, c.lost, c.gates_flipped);
        sb_cmp_side b = sb_cmp_side_of(&base.timing), n = sb_cmp_side_of(&cur.timing);
        sb_cmp_decision d;
        sb_compare_decide_runs(&b, 1, &n, 1, &o, &d);
        assert_int_equal(d.label, c.timing.label);
        assert_true((isnan(d.delta) && isnan(c.timing.delta)) || d.delta == c.timing.delta);
        sb_vrec_free(&base);
        sb_vrec_free(&cur);
    }
}

static void test_reader_not_a_verdict(void **st)
{
    (void)st;
    const char *others[] = {"{\"schema\": \"saebench.calibration/1\"}", "[1, 2]", "{}", "3"};
    for (size_t k = 0; k < N(others); k++) {
        sb_vrec v;
        int found = 1;
        sb_err err = {{0}};
        assert_int_equal(parse(others[k], &v, &found, &err), SB_OK);
        assert_int_equal(found, 0);
    }
    sb_vrec v;
    int found = 1;
    sb_err err = {{0}};
    assert_int_equal(parse("{\"schema\": ", &v, &found, &err), SB_E_INPUT);
    assert_non_null(strstr(err.msg, "malformed JSON"));
}

static void test_dates(void **st)
{
    (void)st;
    int64_t t;
    char buf[32];
    assert_int_equal(sb_parse_date("2026-11-24T10-00-00", 0, &t), 1);
    sb_format_date(t, buf, sizeof buf);
    assert_string_equal(buf, "2026-11-24T10:00:00Z");
    assert_int_equal(sb_parse_date("2026-11-24", 0, &t), 1);
    assert_true(t == 1795478400); /* date -u -d 2026-11-24 +%s */
    assert_int_equal(sb_parse_date("2024-02-29_1230", 0, &t), 1);
    sb_format_date(t, buf, sizeof buf);
    assert_string_equal(buf, "2024-02-29T12:30:00Z");
    assert_int_equal(sb_parse_date("2026-11-24T10:00:00.5-01:30", 1, &t), 1);
    sb_format_date(t, buf, sizeof buf);
    assert_string_equal(buf, "2026-11-24T11:30:00Z");
    assert_int_equal(sb_parse_date("2023-02-29", 0, &t), 0);
    assert_int_equal(sb_parse_date("results", 0, &t), 0);
    assert_int_equal(sb_parse_date("2026-13-01", 0, &t), 0);
    assert_int_equal(sb_parse_date("2026-11-24T25:00", 0, &t), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mw_separated),
        cmocka_unit_test(test_mw_ties),
        cmocka_unit_test(test_mw_unequal_sizes_and_symmetry),
        cmocka_unit_test(test_mw_degenerate),
        cmocka_unit_test(test_decide_noise_band),
        cmocka_unit_test(test_decide_without_samples),
        cmocka_unit_test(test_decide_with_samples),
        cmocka_unit_test(test_decide_not_measured),
        cmocka_unit_test(test_t_pvalue),
        cmocka_unit_test(test_t_test_log),
        cmocka_unit_test(test_runs_drift_is_not_a_regression),
        cmocka_unit_test(test_runs_real_slowdown_both_directions),
        cmocka_unit_test(test_runs_beyond_band_not_significant),
        cmocka_unit_test(test_runs_rse_floor_and_unmeasured),
        cmocka_unit_test(test_reader_minimal),
        cmocka_unit_test(test_reader_config),
        cmocka_unit_test(test_reader_rejects),
        cmocka_unit_test(test_reader_suspect_and_device),
        cmocka_unit_test(test_compare_verdicts),
        cmocka_unit_test(test_reader_not_a_verdict),
        cmocka_unit_test(test_dates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
