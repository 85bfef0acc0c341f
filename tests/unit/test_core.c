/* Unit tests for the plumbing and the resident-solve math: fixture values
 * pinned to independently computed numbers, shape loader errors, option
 * parsing, gates and target logic, atomic writes, and host backend parity
 * against the dense oracle on small random systems (both methods). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "cli.h"
#include "rs_fixture.h"
#include "host/host_rs.h"
#include "oracle/oracle_rs.h"
#include "shape.h"
#include "timing.h"
#include "verdict.h"

/* ------------------------------ fixture ------------------------------ */
static void test_lcg_first_draws(void **st)
{
    (void)st;
    /* Computed with Python big integers from the LCG recurrence (docs/workloads.md §0 Generators). */
    sb_lcg g;
    sb_lcg_seed(&g, 0x1412a100deadbeefULL);
    assert_true(fabs(sb_lcg_uniform(&g) - (-0.74274409544382802)) == 0.0);
    assert_true(fabs(sb_lcg_uniform(&g) - 0.84496621889665624) == 0.0);
    assert_true(fabs(sb_lcg_uniform(&g) - 0.9508408936510091) == 0.0);
    assert_true(g.state == 0xf9b52786f71a93d4ULL);
}

static void test_splitmix_first_draws(void **st)
{
    (void)st;
    sb_splitmix g;
    sb_splitmix_seed(&g, 0x1017C0102A125EEDULL);
    assert_true(sb_splitmix_next(&g) == 0x466875fd34ada1f8ULL);
    assert_true(sb_splitmix_next(&g) == 0x9b42d95b70c491f8ULL);
}

static void test_rs_fixture_layout(void **st)
{
    (void)st;
    /* X takes the first n·p draws row-major, then w0 the next n. */
    enum { N = 3, P = 2 };
    double X[N * P], w[N], rhs[P];
    sb_lcg g, h;
    sb_lcg_seed(&g, 0x1412a100deadbeefULL);
    sb_lcg_seed(&h, 0x1412a100deadbeefULL);
    sb_rs_fixture_X(&g, N, P, X);
    sb_rs_fixture_w(&g, N, w);
    sb_rs_fixture_rhs(P, rhs);
    assert_true(X[0] == 0.05 * -0.74274409544382802);
    assert_true(X[1] == 0.05 * 0.84496621889665624);
    for (int k = 0; k < N * P; k++)
        assert_true(X[k] == 0.05 * sb_lcg_uniform(&h));
    for (int i = 0; i < N; i++) {
        assert_true(w[i] == fabs(sb_lcg_uniform(&h)) + 1e-3);
        assert_true(w[i] >= 1e-3 && w[i] <= 1.001);
    }
    assert_true(rhs[0] == cos(0.03));
    assert_true(rhs[1] == cos(0.06));
}

/* ------------------------------- stats ------------------------------- */
static void test_stats(void **st)
{
    (void)st;
    double s[] = {4.0, 1.0, 3.0, 2.0};
    sb_stats x = sb_stats_of(s, 4);
    assert_true(x.median == 2.5 && x.min == 1.0 && x.max == 4.0);
    assert_true(fabs(x.spread - 3.0 / 2.5) < 1e-15);
    assert_true(s[0] == 4.0); /* input untouched */
    double odd[] = {5.0, 9.0, 7.0};
    assert_true(sb_stats_of(odd, 3).median == 7.0);
    assert_true(sb_stats_of(odd, 0).count == 0);
}

/* ------------------------------- shapes ------------------------------ */
static sb_rc parse(const char *json, sb_shape *s, sb_err *e)
{
    return sb_shape_parse(json, strlen(json), "t.json", s, e);
}

static void test_shape_ok(void **st)
{
    (void)st;
    sb_shape s;
    sb_err e = {{0}};
    assert_int_equal(parse("{\"name\":\"x\",\"workloads\":[\"resident-solve\"],\"n\":5,\"p\":7,"
                           "\"ridge\":0.5,\"seed\":\"0x1412a100deadbeef\"}", &s, &e), SB_OK);
    assert_int_equal(s.n, 5);
    assert_int_equal(s.p, 7);
    assert_true(s.ridge == 0.5);
    assert_true(s.seed == 0x1412a100deadbeefULL);
    assert_int_equal(s.reps, -1); /* absent: the command decides */
    assert_true(sb_shape_serves(&s, SB_WL_RESIDENT_SOLVE));
    assert_false(sb_shape_serves(&s, SB_WL_INNER_LOOP));
}

static void expect_shape_error(const char *json, const char *needle)
{
    sb_shape s;
    sb_err e = {{0}};
    assert_int_equal(parse(json, &s, &e), SB_E_INPUT);
    if (!strstr(e.msg, needle))
        fail_msg("error '%s' lacks '%s'", e.msg, needle);
}

static void test_shape_errors(void **st)
{
    (void)st;
    const char *head = "{\"name\":\"x\",\"workloads\":[\"resident-solve\"],\"ridge\":1e-3,\"seed\":1,";
    char buf[512];
#define WITH(tail) (snprintf(buf, sizeof buf, "%s%s", head, tail), buf)
    expect_shape_error("{\"name\":", "malformed JSON");
    expect_shape_error("[1,2]", "JSON object");
    expect_shape_error("{} trailing", "malformed JSON");
    expect_shape_error(WITH("\"n\":5}"), "missing required field \"p\"");
    expect_shape_error(WITH("\"n\":5,\"p\":3,\"colour\":1}"), "unknown field \"colour\"");
    expect_shape_error(WITH("\"n\":0,\"p\":3}"), "out of range");
    expect_shape_error(WITH("\"n\":-4,\"p\":3}"), "out of range");
    expect_shape_error(WITH("\"n\":2.5,\"p\":3}"), "integer");
    expect_shape_error(WITH("\"n\":3000000000,\"p\":3}"), "out of range");
    expect_shape_error(WITH("\"n\":\"5\",\"p\":3}"), "integer");
    expect_shape_error(WITH("\"n\":5,\"p\":3,\"d\":2}"), "unknown field \"d\""); /* d is not a resident-solve field */
    expect_shape_error("{\"name\":\"x\",\"workloads\":[\"solve\"]}", "unknown workload");
    expect_shape_error("{\"name\":\"x\",\"n\":1}", "missing required field \"workloads\"");
    expect_shape_error("{\"name\":\"x\",\"workloads\":[\"resident-solve\"],\"n\":5,\"p\":3,\"ridge\":1e-3,\"seed\":\"zz\"}", "seed");
    expect_shape_error("{\"name\":\"x\",\"workloads\":[\"resident-solve\"],\"n\":5,\"p\":3,\"ridge\":-1,\"seed\":1}", "positive");
    expect_shape_error("{\"name\":\"x\",\"workloads\":[\"multiplex\"]}", "missing required field \"matrix\"");
    /* A key or workload name holding a newline still gives one error line. */
    expect_shape_error("{\"workloads\":[\"resident-solve\"],\"na\\nme\":1}", "unknown field \"na?me\"");
    expect_shape_error("{\"workloads\":[\"resident\\n-solve\"]}", "unknown workload \"resident?-solve\"");
#undef WITH
}

static void test_shape_files(void **st)
{
    (void)st;
    /* Every committed shape loads, and the canonical ones carry the sizes of
     * docs/workloads.md §1 and §2 (Targets, Shapes). */
    struct {
        const char *name;
        int64_t n, p;
    } canon[] = {{"sae-2k-2048", 2000, 2048}, {"sae-4k-4096", 4000, 4096}, {"sae-8k-1024", 8000, 1024},
                 {"qwen", 2000, 2048},        {"color-arm", 180, 5120}};
    for (size_t i = 0; i < sizeof canon / sizeof canon[0]; i++) {
        sb_shape s;
        sb_err e = {{0}};
        assert_int_equal(sb_shape_load(canon[i].name, &s, &e), SB_OK);
        assert_string_equal(s.name, canon[i].name);
        assert_int_equal(s.n, canon[i].n);
        assert_int_equal(s.p, canon[i].p);
    }
    sb_shape s;
    sb_err e = {{0}};
    assert_int_equal(sb_shape_load("qwen", &s, &e), SB_OK);
    assert_true(s.seed == 0x10170003D3A15EEDULL && s.d == 2 && s.basis_cols == 8);
    assert_int_equal(sb_shape_load("color-arm", &s, &e), SB_OK);
    assert_true(s.seed == 0x1017C0102A125EEDULL && s.basis_cols == 9);
    assert_int_equal(sb_shape_load("no-such-shape", &s, &e), SB_E_INPUT);
    assert_non_null(strstr(e.msg, "unknown shape"));
    assert_int_equal(sb_shape_load("../etc/passwd", &s, &e), SB_E_INPUT);
}

/* ------------------------------ options ------------------------------ */
static sb_rc opts(sb_opts *o, sb_err *e, int argc, ...)
{
    char *argv[16];
    va_list ap;
    va_start(ap, argc);
    for (int i = 0; i < argc; i++)
        argv[i] = va_arg(ap, char *);
    va_end(ap);
    return sb_parse_opts(argc, argv, ~0u, o, e);
}

static void test_options(void **st)
{
    (void)st;
    sb_opts o;
    sb_err e = {{0}};
    assert_int_equal(opts(&o, &e, 6, "resident-solve", "--shape", "tiny", "--reps=7", "--gate", "RS-001=1e-12"), SB_OK);
    assert_string_equal(o.shape, "tiny");
    assert_int_equal(o.reps, 7);
    assert_true(sb_gate_threshold(&o, "RS-001", 1e-9) == 1e-12);
    assert_true(sb_gate_threshold(&o, "RS-002", 1e-9) == 1e-9);
    assert_int_equal(opts(&o, &e, 5, "x", "--gate", "RS-001=1", "--gate", "RS-001=1e-30"), SB_OK);
    assert_true(sb_gate_threshold(&o, "RS-001", 1e-9) == 1e-30); /* the last one wins */
    assert_int_equal(opts(&o, &e, 3, "x", "--reps", "0"), SB_E_INPUT);
    assert_int_equal(opts(&o, &e, 3, "x", "--reps", "abc"), SB_E_INPUT);
    assert_int_equal(opts(&o, &e, 3, "x", "--reps", "5x"), SB_E_INPUT);
    assert_int_equal(opts(&o, &e, 2, "x", "--reps"), SB_E_INPUT);
    assert_non_null(strstr(e.msg, "needs a value"));
    assert_int_equal(opts(&o, &e, 3, "x", "--warmup", "-1"), SB_E_INPUT);
    assert_int_equal(opts(&o, &e, 3, "x", "--backend", "gpu"), SB_E_INPUT);
    assert_int_equal(opts(&o, &e, 3, "x", "--method", "lu"), SB_E_INPUT);
    assert_int_equal(opts(&o, &e, 3, "x", "--gate", "RS-001"), SB_E_INPUT);
    assert_int_equal(opts(&o, &e, 3, "x", "--gate", "RS-001=nan"), SB_E_INPUT);
    assert_int_equal(opts(&o, &e, 2, "x", "--frobnicate"), SB_E_INPUT);
    assert_int_equal(opts(&o, &e, 2, "x", "--quiet=1"), SB_E_INPUT);
    /* An option the subcommand does not accept is refused. */
    char *argv[] = {"calibrate", "--shape", "x"};
    assert_int_equal(sb_parse_opts(3, argv, SB_OPT_OUT, &o, &e), SB_E_INPUT);
}

/* --------------------------- verdict, gates -------------------------- */
static void test_target_decision(void **st)
{
    (void)st;
    assert_int_equal(sb_target_decide(1, 1, 2e5, 1e5), SB_TARGET_MET);
    assert_int_equal(sb_target_decide(1, 1, 5e4, 1e5), SB_TARGET_UNMET);
    /* A host number never meets a device target, however large. */
    assert_int_equal(sb_target_decide(0, 0, 1e9, 1e5), SB_TARGET_UNDETERMINED);
    assert_int_equal(sb_target_decide(1, 0, 1e9, 1e5), SB_TARGET_UNDETERMINED);
    assert_int_equal(sb_target_decide(1, 1, 0, 1e5), SB_TARGET_UNDETERMINED);
    assert_string_equal(sb_target_name(SB_TARGET_UNMET), "unmet");
}

static void test_verdict_gates(void **st)
{
    (void)st;
    sb_verdict v;
    sb_err e = {{0}};
    assert_int_equal(sb_verdict_init(&v, "resident-solve", NULL, &e), SB_OK);
    sb_verdict_gate(&v, "RS-001", "parity", 1e-14, 1e-9, 1);
    assert_int_equal(v.gates_failed, 0);
    sb_verdict_gate(&v, "RS-002", "parity", NAN, 1e-9, 0);
    assert_int_equal(v.gates_failed, 1);
    sb_verdict_finish(&v, 1);
    cJSON *g = cJSON_GetArrayItem(cJSON_GetObjectItem(v.root, "gates"), 1);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(g, "value"))); /* NaN is not JSON */
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(g, "pass")));
    assert_string_equal(cJSON_GetObjectItem(v.root, "verdict")->valuestring, "fail");
    assert_int_equal(cJSON_GetObjectItem(v.root, "exit_code")->valueint, 1);
    assert_string_equal(cJSON_GetObjectItem(v.root, "schema")->valuestring, SB_VERDICT_SCHEMA);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(v.root, "device")));
    sb_verdict_finish(&v, 0); /* finishing twice keeps one field each */
    assert_string_equal(cJSON_GetObjectItem(v.root, "verdict")->valuestring, "pass");
    sb_verdict_free(&v);
}

static void test_atomic_write(void **st)
{
    (void)st;
    char dir[] = "/tmp/sbtestXXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/v.json", dir);
    sb_err e = {{0}};
    assert_int_equal(sb_write_atomic(path, "{\"a\":1}", &e), SB_OK);
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(sb_read_file(path, &text, &len, &e), SB_OK);
    assert_string_equal(text, "{\"a\":1}\n");
    free(text);
    char bad[160];
    snprintf(bad, sizeof bad, "%s/missing/v.json", dir);
    assert_int_equal(sb_write_atomic(bad, "{}", &e), SB_E_INPUT);
    assert_int_equal(sb_check_writable(dir, &e), SB_E_INPUT); /* a directory */
    assert_non_null(strstr(e.msg, "directory"));
    /* /proc refuses new files even to root, whom access() would wave through. */
    assert_int_equal(sb_check_writable("/proc/sb-verdict.json", &e), SB_E_INPUT);
    unlink(path);
    assert_int_equal(rmdir(dir), 0); /* nothing left behind, no temp files */
}

/* ---------------------- host backend vs the oracle -------------------- */
static void random_system(int64_t n, int64_t p, uint64_t seed, double *X, double *w, double *rhs)
{
    sb_lcg g;
    sb_lcg_seed(&g, seed);
    for (int64_t k = 0; k < n * p; k++)
        X[k] = sb_lcg_uniform(&g);
    for (int64_t i = 0; i < n; i++)
        w[i] = 0.01 + fabs(sb_lcg_uniform(&g));
    for (int64_t j = 0; j < p; j++)
        rhs[j] = sb_lcg_uniform(&g);
}

static void check_host_parity(int64_t n, int64_t p, sb_method method, uint64_t seed)
{
    double *X = malloc((size_t)(n * p) * sizeof *X), *w = malloc((size_t)n * sizeof *w);
    double *w2 = malloc((size_t)n * sizeof *w2);
    double *rhs = malloc((size_t)p * sizeof *rhs), *b = malloc((size_t)p * sizeof *b);
    double *ref = malloc((size_t)p * sizeof *ref);
    random_system(n, p, seed, X, w, rhs);
    for (int64_t i = 0; i < n; i++)
        w2[i] = w[n - 1 - i];
    sb_rs_problem prob = {.n = n, .p = p, .X = X, .rhs = rhs, .ridge = 0.1, .method = method, .max_solves = 4};
    const sb_rs_ops *ops = sb_host_backend.resident_solve;
    void *state = NULL;
    sb_err e = {{0}};
    assert_int_equal(ops->create(&prob, &state, &e), SB_OK);
    /* Two different w in a row: the second must not reuse the first factor. */
    const double *ws[2] = {w, w2};
    for (int k = 0; k < 2; k++) {
        assert_int_equal(ops->solve(state, ws[k], b, &e), SB_OK);
        assert_int_equal(sb_oracle_resident_solve(n, p, X, ws[k], rhs, 0.1, ref, &e), SB_OK);
        double rel = sb_rel_inf_err(b, ref, p, NULL);
        if (!(rel < 1e-11))
            fail_msg("n=%lld p=%lld method=%d solve %d: rel err %g", (long long)n, (long long)p, method, k, rel);
    }
    assert_int_equal(ops->check(state, &e), SB_OK);
    sb_telemetry t;
    ops->telemetry(state, &t);
    assert_int_equal(t.factorizations, 2);
    assert_int_equal(t.frame_builds, 1);
    ops->destroy(state);
    free(X), free(w), free(w2), free(rhs), free(b), free(ref);
}

static void test_host_parity(void **st)
{
    (void)st;
    check_host_parity(40, 17, SB_METHOD_PRIMAL, 1);
    check_host_parity(17, 40, SB_METHOD_DUAL, 2);
    check_host_parity(17, 40, SB_METHOD_PRIMAL, 3);
    check_host_parity(40, 17, SB_METHOD_DUAL, 4);  /* dual also holds for n > p */
    check_host_parity(1, 1, SB_METHOD_PRIMAL, 5);
    check_host_parity(1, 9, SB_METHOD_DUAL, 6);
    /* The primal Gram in row chunks: uneven (7 + 7 + ... + 5) and of one row. */
    sb_host_gram_chunk_rows = 7;
    check_host_parity(40, 17, SB_METHOD_PRIMAL, 7);
    sb_host_gram_chunk_rows = 1;
    check_host_parity(9, 5, SB_METHOD_PRIMAL, 8);
    sb_host_gram_chunk_rows = 0;
}

static void test_oracle_known_answer(void **st)
{
    (void)st;
    /* X = I (2×2), w = (1, 3), ridge 1: (diag(2, 4)) β = (2, 8) → β = (1, 2). */
    double X[] = {1, 0, 0, 1}, w[] = {1, 3}, rhs[] = {2, 8}, b[2];
    sb_err e = {{0}};
    assert_int_equal(sb_oracle_resident_solve(2, 2, X, w, rhs, 1.0, b, &e), SB_OK);
    assert_true(fabs(b[0] - 1.0) < 1e-15 && fabs(b[1] - 2.0) < 1e-15);
    double a[] = {1, 2, 3}, c[] = {1, 2, 4}, abs_err;
    assert_true(sb_rel_inf_err(a, c, 3, &abs_err) == 0.25 && abs_err == 1.0);
    double nan_a[] = {NAN, 2, 4};
    assert_true(isnan(sb_rel_inf_err(nan_a, c, 3, NULL)));
}

static void test_host_rejects_unknown_factor(void **st)
{
    (void)st;
    double X[] = {1}, rhs[] = {1};
    sb_rs_problem prob = {.n = 1, .p = 1, .X = X, .rhs = rhs, .ridge = 1, .factor = "blocked", .max_solves = 1};
    void *state = NULL;
    sb_err e = {{0}};
    assert_int_equal(sb_host_backend.resident_solve->create(&prob, &state, &e), SB_E_INPUT);
    assert_null(state);
}

/* sb_printable: control bytes and bytes that are not well-formed UTF-8
 * become '?'; whole characters pass; a cut never ends inside a character. */
static void test_printable(void **st)
{
    (void)st;
    char buf[64];
    assert_string_equal(sb_printable("a\tb\nc\x7f", buf, sizeof buf), "a?b?c?");
    /* é (2 bytes), € (3), 😀 (4) pass whole */
    assert_string_equal(sb_printable("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", buf, sizeof buf),
                        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    /* a plugin's message cut inside € and inside 😀: each stray byte is '?' */
    assert_string_equal(sb_printable("x\xe2\x82", buf, sizeof buf), "x??");
    assert_string_equal(sb_printable("x\xf0\x9f\x98", buf, sizeof buf), "x???");
    /* Latin-1 é, a lone continuation byte, an overlong '/', a surrogate, above U+10FFFF, 0xff */
    assert_string_equal(sb_printable("caf\xe9", buf, sizeof buf), "caf?");
    assert_string_equal(sb_printable("\x80", buf, sizeof buf), "?");
    assert_string_equal(sb_printable("\xc0\xaf", buf, sizeof buf), "??");
    assert_string_equal(sb_printable("\xe0\x80\xaf", buf, sizeof buf), "???");
    assert_string_equal(sb_printable("\xed\xa0\x80", buf, sizeof buf), "???");
    assert_string_equal(sb_printable("\xf4\x90\x80\x80", buf, sizeof buf), "????");
    assert_string_equal(sb_printable("\xff", buf, sizeof buf), "?");
    /* the edges that are well formed */
    assert_string_equal(sb_printable("\xe0\xa0\x80\xed\x9f\xbf\xf4\x8f\xbf\xbf", buf, sizeof buf),
                        "\xe0\xa0\x80\xed\x9f\xbf\xf4\x8f\xbf\xbf");
    /* room for 4 bytes: "ab" then € (3 bytes) does not fit, so it stops at "ab" */
    char small[5];
    assert_string_equal(sb_printable("ab\xe2\x82\xac", small, sizeof small), "ab");
    assert_string_equal(sb_printable("abcdef", small, sizeof small), "abcd");
    char one[1];
    assert_string_equal(sb_printable("abc", one, sizeof one), "");
}

/* sb_fail cuts a long message to sb_err's 511 bytes, never inside a
 * character: a '€' (3 bytes) with one or two of its bytes past the end goes
 * whole; one that fits stays. */
static void test_fail_cut(void **st)
{
    (void)st;
    sb_err err;
    char a[512];
    for (int before = 507; before <= 510; before++) {
        memset(a, 'a', (size_t)before);
        a[before] = '\0';
        assert_int_equal(sb_fail(&err, SB_E_INPUT, "%s\xe2\x82\xac", a), SB_E_INPUT);
        const size_t want = before + 3 <= 511 ? (size_t)before + 3 : (size_t)before;
        assert_int_equal(strlen(err.msg), want);
        assert_memory_equal(err.msg, a, (size_t)before);
        if (want > (size_t)before)
            assert_memory_equal(err.msg + before, "\xe2\x82\xac", 3);
    }
    memset(a, 'b', 511);
    a[511] = '\0';
    sb_fail(&err, SB_E_INPUT, "%sccc", a); /* an ASCII cut keeps all 511 bytes */
    assert_int_equal(strlen(err.msg), 511);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lcg_first_draws),
        cmocka_unit_test(test_printable),
        cmocka_unit_test(test_fail_cut),
        cmocka_unit_test(test_splitmix_first_draws),
        cmocka_unit_test(test_rs_fixture_layout),
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_shape_ok),
        cmocka_unit_test(test_shape_errors),
        cmocka_unit_test(test_shape_files),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_target_decision),
        cmocka_unit_test(test_verdict_gates),
        cmocka_unit_test(test_atomic_write),
        cmocka_unit_test(test_host_parity),
        cmocka_unit_test(test_oracle_known_answer),
        cmocka_unit_test(test_host_rejects_unknown_factor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
