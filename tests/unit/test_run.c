/* The run harness (src/run.c): engagement decided from every phase before
 * anything engagement-dependent is written, gates that do not apply, the
 * stop rule, the noise statistics. Drives the harness with a test device
 * backend and rep functions that succeed or fail on purpose. */
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
#include <unistd.h>

#include "run.h"
#include "shape.h"

static const sb_gate_def GATES[] = {
    {"RS-001", "parity", SB_CMP_LT, 1e-9, 1, 0, 0, 0},
    {"RS-003", "device rows/s", SB_CMP_GE, 1000.0, 1, 1, 0, 0},
};
static const sb_workload WL = {
    .name = "resident-solve",
    .accepted = SB_OPT_REPS | SB_OPT_WARMUP | SB_OPT_OUT | SB_OPT_QUIET | SB_OPT_GATE | SB_OPT_STOP | SB_OPT_BACKEND,
    .gates = GATES,
    .ngates = 2,
    .target_gate = "RS-003",
    .target_unit = "rows/s per GPU",
    .rate_unit = "rows",
    .doc = "docs/workloads.md §1",
};

static sb_rc test_calibrate(sb_ceilings *c, sb_err *err)
{
    (void)err;
    c->fp64_flops = 1e12;
    c->mem_bw = 1e11;
    c->dgemm_n = 1;
    c->copy_bytes = 1;
    return SB_OK;
}

static const sb_backend TEST_DEVICE = {.name = "cuda", .is_device = 1, .calibrate = test_calibrate};
static const sb_backend TEST_HOST = {.name = "host", .is_device = 0, .calibrate = test_calibrate};

/* A rep that fails at timed/untimed index fail_at (-1: never). */
typedef struct rep_ctx {
    int64_t fail_at;
    int64_t calls;
} rep_ctx;

static sb_rc rep_run(void *ctx, int64_t k, int timed, sb_err *err)
{
    (void)timed;
    rep_ctx *c = ctx;
    c->calls++;
    if (k == c->fail_at)
        return sb_fail(err, SB_E_RUNTIME, "injected failure at rep %lld", (long long)k);
    return SB_OK;
}

static char out_path[64];

static void start(sb_run *r, const sb_backend *b, const char *extra)
{
    char *argv[16] = {"resident-solve", "--quiet", "--reps", "4", "--warmup", "1", "--out", out_path};
    int argc = 8;
    if (extra)
        argv[argc++] = (char *)extra;
    assert_int_equal(sb_run_init(r, &WL, argc, argv, NULL), -1);
    static sb_shape shape;
    const char *json = "{\"name\":\"t\",\"workloads\":[\"resident-solve\"],\"n\":10,\"p\":4,\"ridge\":1e-3,\"seed\":1}";
    sb_err e = {{0}};
    assert_int_equal(sb_shape_parse(json, strlen(json), "t.json", &shape, &e), SB_OK);
    sb_run_counts(r, -1, -1, 4, 1);
    assert_int_equal(sb_run_verdict_init(r, &shape, "fixture"), -1);
    r->backend = b;
    cJSON_AddStringToObject(r->v.root, "backend", b->name);
    cJSON_AddStringToObject(r->v.root, "execution_path", b->is_device ? "gpu-resident-full" : "cpu");
    sb_run_rate(r, 10);
    sb_run_roofline(r, 1e3, 1e3);
}

static cJSON *load_out(void)
{
    FILE *f = fopen(out_path, "r");
    assert_non_null(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    cJSON *j = cJSON_Parse(buf);
    assert_non_null(j);
    return j;
}

static const cJSON *gate(const cJSON *v, const char *id)
{
    const cJSON *g;
    cJSON_ArrayForEach(g, cJSON_GetObjectItem(v, "gates"))
        if (strcmp(cJSON_GetObjectItem(g, "id")->valuestring, id) == 0)
            return g;
    fail_msg("gate %s missing", id);
    return NULL;
}

static double num(const cJSON *o, const char *path1, const char *path2)
{
    const cJSON *x = cJSON_GetObjectItem(o, path1);
    if (path2)
        x = cJSON_GetObjectItem(x, path2);
    assert_true(cJSON_IsNumber(x));
    return x->valuedouble;
}

/* The reported hole: a resident phase that completes, then a re-upload
 * baseline that fails. Nothing may say engaged, passed or measured. */
static void test_failed_baseline_is_never_engaged(void **st)
{
    (void)st;
    sb_run r;
    start(&r, &TEST_DEVICE, NULL);
    rep_ctx ok = {-1, 0}, bad = {2, 0};
    sb_rep rep_ok = {NULL, rep_run, &ok}, rep_bad = {NULL, rep_run, &bad};
    assert_true(sb_run_time(&r, "resident", &rep_ok)->completed);
    sb_run_gate(&r, "RS-001", 1e-15);
    sb_run_gate(&r, "RS-003", 1e9);
    assert_false(sb_run_time(&r, "reupload", &rep_bad)->completed);
    assert_int_equal(sb_run_finish(&r), SB_EXIT_RUNTIME);
    cJSON *v = load_out();
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(v, "engaged")));
    assert_true(num(v, "throughput", "engaged_rows_per_s") == 0);
    assert_true(num(v, "throughput", "measured_rows_per_s") == 0);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(v, "residency")));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(gate(v, "RS-001"), "pass")));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(gate(v, "RS-003"), "pass")));
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(v, "target"), "status")->valuestring, "undetermined");
    assert_non_null(strstr(cJSON_GetObjectItem(v, "engaged_reason")->valuestring, "reupload"));
    cJSON_Delete(v);
}

/* A deferred device status (info flags) found after the timed reps. */
static void test_deferred_failure_is_never_engaged(void **st)
{
    (void)st;
    sb_run r;
    start(&r, &TEST_DEVICE, NULL);
    rep_ctx ok = {-1, 0};
    sb_rep rep = {NULL, rep_run, &ok};
    assert_true(sb_run_time(&r, "resident", &rep)->completed);
    sb_run_gate(&r, "RS-001", 1e-15);
    sb_run_gate(&r, "RS-003", 1e9);
    sb_run_fail(&r, "device failed: info=3 on solve 2");
    assert_int_equal(sb_run_finish(&r), SB_EXIT_RUNTIME);
    cJSON *v = load_out();
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(v, "engaged")));
    assert_true(num(v, "throughput", "engaged_rows_per_s") == 0);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(gate(v, "RS-003"), "pass")));
    cJSON_Delete(v);
}

/* Everything completes on a device: engaged, measured, target decided. */
static void test_device_run_engaged(void **st)
{
    (void)st;
    sb_run r;
    start(&r, &TEST_DEVICE, NULL);
    rep_ctx ok = {-1, 0}, ok2 = {-1, 0};
    sb_rep rep = {NULL, rep_run, &ok}, rep2 = {NULL, rep_run, &ok2};
    sb_run_time(&r, "resident", &rep);
    sb_run_time(&r, "reupload", &rep2);
    assert_int_equal(ok.calls, 5); /* 1 warm-up + 4 timed */
    sb_run_gate(&r, "RS-001", 1e-15);
    sb_run_gate(&r, "RS-003", 1e9);
    assert_int_equal(sb_run_finish(&r), SB_EXIT_PASS);
    cJSON *v = load_out();
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(v, "engaged")));
    assert_true(num(v, "throughput", "engaged_rows_per_s") > 0);
    assert_true(num(v, "throughput", "engaged_rows_per_s") == num(v, "throughput", "measured_rows_per_s"));
    assert_true(cJSON_IsObject(cJSON_GetObjectItem(v, "residency")));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(gate(v, "RS-003"), "applies")));
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(v, "target"), "status")->valuestring, "met");
    assert_true(num(v, "timing", "reps") == 4);
    cJSON_Delete(v);
}

/* On the host a device-only gate is listed, does not apply, and cannot
 * fail the run; a gate a run never evaluated does not pass either. */
static void test_host_gates_not_applying(void **st)
{
    (void)st;
    sb_run r;
    start(&r, &TEST_HOST, NULL);
    rep_ctx ok = {-1, 0};
    sb_rep rep = {NULL, rep_run, &ok};
    sb_run_time(&r, "resident", &rep);
    sb_run_gate(&r, "RS-003", 1.0); /* far below the threshold: must not fail a host run */
    assert_int_equal(sb_run_finish(&r), SB_EXIT_PASS);
    cJSON *v = load_out();
    const cJSON *g3 = gate(v, "RS-003"), *g1 = gate(v, "RS-001");
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(g3, "applies")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(g3, "value")));
    assert_non_null(strstr(cJSON_GetObjectItem(g3, "reason")->valuestring, "device"));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(g1, "applies"))); /* never recorded */
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(g1, "pass")));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(v, "engaged")));
    assert_true(num(v, "throughput", "measured_rows_per_s") > 0);
    assert_true(num(v, "throughput", "engaged_rows_per_s") == 0);
    cJSON_Delete(v);
}

/* A failing gate fails the run with exit 1. */
static void test_gate_failure_exit_1(void **st)
{
    (void)st;
    sb_run r;
    start(&r, &TEST_HOST, NULL);
    rep_ctx ok = {-1, 0};
    sb_rep rep = {NULL, rep_run, &ok};
    sb_run_time(&r, "resident", &rep);
    sb_run_gate(&r, "RS-001", 1e-3);
    assert_int_equal(sb_run_finish(&r), SB_EXIT_GATE_FAIL);
}

/* --min-time with --max-reps: the cap stops the phase and says so. */
static void test_stop_rule_max_reps(void **st)
{
    (void)st;
    sb_run r;
    char *argv[] = {"resident-solve", "--quiet", "--reps", "3", "--warmup", "0", "--min-time", "100", "--max-reps", "9", "--out", out_path};
    assert_int_equal(sb_run_init(&r, &WL, 12, argv, NULL), -1);
    sb_run_counts(&r, -1, -1, 4, 1);
    assert_int_equal(r.max_reps, 9);
    r.backend = &TEST_HOST;
    rep_ctx ok = {-1, 0};
    sb_rep rep = {NULL, rep_run, &ok};
    sb_phase *ph = sb_run_time(&r, "resident", &rep);
    assert_int_equal(ph->count, 9);
    assert_string_equal(ph->stop_reason, "max-reps");
    sb_run_free(&r);
}

/* Options the harness refuses before any work. */
static void test_init_refusals(void **st)
{
    (void)st;
    sb_run r;
    char *a1[] = {"resident-solve", "--gate", "RS-001=0"};
    assert_int_equal(sb_run_init(&r, &WL, 3, a1, NULL), SB_EXIT_USAGE);
    char *a2[] = {"resident-solve", "--gate", "XX-001=1"};
    assert_int_equal(sb_run_init(&r, &WL, 3, a2, NULL), SB_EXIT_USAGE);
    char *a3[] = {"resident-solve", "--max-reps", "5"};
    assert_int_equal(sb_run_init(&r, &WL, 3, a3, NULL), SB_EXIT_USAGE);
    char *a4[] = {"resident-solve", "--reps", "3", "--reps", "3"};
    assert_int_equal(sb_run_init(&r, &WL, 5, a4, NULL), SB_EXIT_USAGE);
}

static void test_noise_statistics(void **st)
{
    (void)st;
    double s[] = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 100.0};
    sb_stats x = sb_stats_of(s, 10);
    assert_true(x.median == 5.5);
    assert_true(fabs(x.q1 - 3.25) < 1e-12 && fabs(x.q3 - 7.75) < 1e-12); /* numpy's default quantiles */
    assert_true(fabs(x.rel_iqr - 4.5 / 5.5) < 1e-12);
    /* MAD = 2.5: rse = 1.2533·1.4826·2.5/√10/5.5 */
    assert_true(fabs(x.rse_median - 1.2533 * 1.4826 * 2.5 / sqrt(10.0) / 5.5) < 1e-12);
    assert_int_equal(x.outliers, 1); /* 100 is > 3.5 robust sigmas out; one slow rep */
    assert_true(sb_stats_noisy(&x, 0.05));
    double q[] = {1.0, 1.001, 0.999, 1.0, 1.0005, 0.9995, 1.0, 1.0};
    sb_stats y = sb_stats_of(q, 8);
    assert_false(sb_stats_noisy(&y, 0.05));
    assert_true(sb_stats_noisy(&y, 1e-6));
    assert_true(sb_stats_noisy(&y, 0.05) == 0 && sb_stats_of(q, 2).count == 2 && sb_stats_noisy(&(sb_stats){.count = 2}, 0.05));
}

int main(void)
{
    snprintf(out_path, sizeof out_path, "/tmp/saebench-test-run-%d.json", (int)getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failed_baseline_is_never_engaged),
        cmocka_unit_test(test_deferred_failure_is_never_engaged),
        cmocka_unit_test(test_device_run_engaged),
        cmocka_unit_test(test_host_gates_not_applying),
        cmocka_unit_test(test_gate_failure_exit_1),
        cmocka_unit_test(test_stop_rule_max_reps),
        cmocka_unit_test(test_init_refusals),
        cmocka_unit_test(test_noise_statistics),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    unlink(out_path);
    return rc;
}
