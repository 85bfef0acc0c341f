/* Unit tests for 'saebench compare' (src/cmd_compare.c, docs/compare.md):
 * the Mann-Whitney U test pinned to scipy.stats.mannwhitneyu (method
 * "asymptotic", use_continuity=True, two-sided), the decision rule on
 * hand-made samples, and the verdict reader's schema, type and date checks
 * (src/verdict_read.c). */
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

/* ------------------------------------------------------------ the reader */

static const char MINIMAL[] =
    "{\"schema\": \"saebench.verdict/2\", \"workload\": \"resident-solve\", \"shape\": {\"name\": \"s\"},"
    " \"backend\": \"host\", \"device\": null, \"engaged\": false, \"gates\": [{\"id\": \"RS-001\","
    " \"applies\": true, \"pass\": true, \"value\": 1e-15, \"threshold\": 1e-9}],"
    " \"timing\": {\"median_s\": 0.5, \"rel_iqr\": 0.1, \"samples_s\": [0.4, 0.5, 0.6],"
    " \"phases\": {\"resident\": {\"median_s\": 0.5}}},"
    " \"throughput\": {\"measured_rows_per_s\": 10, \"engaged_rows_per_s\": 0},"
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
    assert_true(v.timing.median_s == 0.5 && v.timing.nsamples == 3);
    assert_true(v.seconds_per_rep == 0.5); /* from the median when throughput lacks it */
    assert_true(isnan(v.timing.rse_median));
    assert_int_equal(v.nphases, 1);
    assert_non_null(sb_vrec_phase(&v, "resident"));
    assert_int_equal(v.ngates, 1);
    assert_string_equal(v.date_from, "created");
    assert_string_equal(v.date, "2026-11-24T10:00:00Z");
    sb_vrec_free(&v);
    /* /3 (the parity rule's version) reads the same fields. */
    char v3[2048];
    const char *at = strstr(MINIMAL, "verdict/2");
    assert_non_null(at);
    snprintf(v3, sizeof v3, "%.*sverdict/3%s", (int)(at - MINIMAL), MINIMAL, at + strlen("verdict/2"));
    found = 0;
    assert_int_equal(parse(v3, &v, &found, &err), SB_OK);
    assert_int_equal(found, 1);
    assert_int_equal(v.ngates, 1);
    sb_vrec_free(&v);
}

static void test_reader_rejects(void **st)
{
    (void)st;
    struct { const char *from, *to, *msg; } cases[] = {
        {"\"saebench.verdict/2\"", "\"saebench.verdict/4\"", "newer schema version"},
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
        cmocka_unit_test(test_reader_minimal),
        cmocka_unit_test(test_reader_rejects),
        cmocka_unit_test(test_reader_not_a_verdict),
        cmocka_unit_test(test_dates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
