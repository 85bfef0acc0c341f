/* Unit tests for multiplex (src/multiplex.h, docs/workloads.md §4): the two matrices'
 * seeds and parameters pinned to literal values, the host pool's results bit
 * for bit against the sequential run (2, 4 and more workers than fits, with
 * and without factor failures in the LM loop), failure reporting from the
 * pool, the oracle sample, the memory estimate, and the variants file: a
 * good one, and every kind of corrupted or invalid one refused with one line. */
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

#include "arrow_case.h"
#include "host/host_info.h"
#include "multiplex.h"

/* ------------------------------- seeds ------------------------------- */
static void test_color_arm_variants(void **st)
{
    (void)st;
    sb_mx_matrix m;
    sb_err e = {{0}};
    assert_int_equal(sb_mx_matrix_named("color-arm-variants", 0, 0, &m, &e), SB_OK);
    assert_int_equal(m.nfits, 32);
    assert_string_equal(m.name, "color-arm-variants");
    /* Literal seeds: 0x1017C01000000000 ^ (K<<16) ^ (topology<<8) ^ tag. */
    assert_true(m.fits[0].prm.seed == 0x1017C01000010000ULL);  /* K1 euclidean periodic */
    assert_true(m.fits[1].prm.seed == 0x1017C01000010001ULL);  /* K1 euclidean linear */
    assert_true(m.fits[3].prm.seed == 0x1017C01000010101ULL);  /* K1 circle linear */
    assert_true(m.fits[12].prm.seed == 0x1017C01000020200ULL); /* K2 torus periodic */
    assert_true(m.fits[21].prm.seed == 0x1017C01000030201ULL); /* K3 torus linear */
    assert_true(m.fits[31].prm.seed == 0x1017C01000040301ULL); /* K4 sphere linear */
    assert_string_equal(m.fits[0].name, "K1-euclidean-periodic");
    assert_string_equal(m.fits[21].name, "K3-torus-linear");
    assert_string_equal(m.fits[31].name, "K4-sphere-linear");
    static const char *const topo[] = {"euclidean", "circle", "torus", "sphere"};
    for (int64_t K = 1; K <= 4; K++)
        for (int64_t t = 0; t < 4; t++)
            for (int64_t tag = 0; tag < 2; tag++) {
                const sb_mx_fit *f = &m.fits[((K - 1) * 4 + t) * 2 + tag];
                uint64_t want = 0x1017C01000000000ULL ^ ((uint64_t)K << 16) ^ ((uint64_t)t << 8) ^ (uint64_t)tag;
                assert_true(f->prm.seed == want);
                assert_true(sb_mx_color_arm_seed(K, t, tag) == want);
                assert_int_equal(f->prm.n, 180);
                assert_int_equal(f->prm.p, 5120);
                assert_int_equal(f->prm.d, tag ? 1 : 2);
                assert_int_equal(f->prm.basis_cols, tag ? 2 : 8);
                char name[64];
                snprintf(name, sizeof name, "K%lld-%s-%s", (long long)K, topo[t], tag ? "linear" : "periodic");
                assert_string_equal(f->name, name);
            }
    for (int i = 0; i < 32; i++)
        for (int j = 0; j < i; j++)
            assert_true(m.fits[i].prm.seed != m.fits[j].prm.seed);
    sb_mx_matrix_free(&m);
}

static void test_battery(void **st)
{
    (void)st;
    sb_mx_matrix m;
    sb_err e = {{0}};
    assert_int_equal(sb_mx_matrix_named("battery", 0, 0, &m, &e), SB_OK);
    assert_int_equal(m.nfits, 12);
    /* Literal seeds: 0x1017004000000000 ^ (K<<8) ^ basis_cols. */
    assert_true(m.fits[0].prm.seed == 0x1017004000000104ULL);  /* K1 basis 4 */
    assert_true(m.fits[1].prm.seed == 0x1017004000000108ULL);  /* K1 basis 8 */
    assert_true(m.fits[7].prm.seed == 0x1017004000000308ULL);  /* K3 basis 8 */
    assert_true(m.fits[11].prm.seed == 0x101700400000040CULL); /* K4 basis 12 */
    static const int64_t basis[] = {4, 8, 12};
    for (int64_t K = 1; K <= 4; K++)
        for (int b = 0; b < 3; b++) {
            const sb_mx_fit *f = &m.fits[(K - 1) * 3 + b];
            assert_true(f->prm.seed == (0x1017004000000000ULL ^ ((uint64_t)K << 8) ^ (uint64_t)basis[b]));
            assert_true(sb_mx_battery_seed(K, basis[b]) == f->prm.seed);
            assert_int_equal(f->prm.d, 2);
            assert_int_equal(f->prm.basis_cols, basis[b]);
            assert_int_equal(f->prm.n, 180);
            assert_int_equal(f->prm.p, 5120);
        }
    assert_string_equal(m.fits[11].name, "K4-basis12");
    sb_mx_matrix_free(&m);
    /* n, p overrides (the tiny test shapes), and an unknown matrix */
    assert_int_equal(sb_mx_matrix_named("battery", 12, 16, &m, &e), SB_OK);
    assert_true(m.fits[5].prm.n == 12 && m.fits[5].prm.p == 16 && m.fits[5].prm.seed == 0x101700400000020CULL);
    sb_mx_matrix_free(&m);
    assert_int_equal(sb_mx_matrix_named("colour-arm", 0, 0, &m, &e), SB_E_INPUT);
    assert_non_null(strstr(e.msg, "unknown multiplex matrix"));
    assert_null(m.fits);
}

/* ------------------------------- runners ------------------------------- */
typedef struct tiny_run {
    sb_mx_matrix m;
    sb_arrow_case *cases;
    sb_lm_result *res;
} tiny_run;

static void tiny_build(tiny_run *t, const char *matrix, double htt_shift)
{
    sb_err e = {{0}};
    assert_int_equal(sb_mx_matrix_named(matrix, 12, 16, &t->m, &e), SB_OK);
    t->cases = calloc((size_t)t->m.nfits, sizeof *t->cases);
    assert_non_null(t->cases);
    for (int64_t f = 0; f < t->m.nfits; f++) {
        sb_arrow_case *c = &t->cases[f];
        c->prm = t->m.fits[f].prm;
        c->prm.htt_shift = htt_shift;
        c->nt = c->prm.n * c->prm.d;
        sb_lm_default_opts(&c->lm);
        assert_int_equal(sb_arrow_case_build(c, &e), SB_OK);
    }
}

static sb_lm_result *results_alloc(const tiny_run *t)
{
    sb_err e = {{0}};
    sb_lm_result *r = calloc((size_t)t->m.nfits, sizeof *r);
    assert_non_null(r);
    for (int64_t f = 0; f < t->m.nfits; f++)
        assert_int_equal(sb_lm_result_alloc(&r[f], t->cases[f].nt, t->cases[f].prm.p, &e), SB_OK);
    return r;
}

static void results_free(const tiny_run *t, sb_lm_result *r)
{
    for (int64_t f = 0; f < t->m.nfits; f++)
        sb_lm_result_free(&r[f]);
    free(r);
}

static void tiny_free(tiny_run *t)
{
    for (int64_t f = 0; f < t->m.nfits; f++)
        sb_arrow_case_free(&t->cases[f]);
    free(t->cases);
    sb_mx_matrix_free(&t->m);
}

static void assert_all_identical(const tiny_run *t, const sb_lm_result *a, const sb_lm_result *b)
{
    for (int64_t f = 0; f < t->m.nfits; f++) {
        const char *what = NULL;
        int same = sb_lm_identical(&a[f], &b[f], t->cases[f].nt, t->cases[f].prm.p, &what);
        if (!same)
            fail_msg("fit %lld (%s) differs in %s", (long long)f, t->m.fits[f].name, what);
    }
}

/* The host pool (2, 4, and more workers than fits) against the sequential
 * run, which itself matches each fit run on its own. shift < 0 makes H_tt
 * indefinite at zero ridge: factor failures, ridge growth, several iterations. */
static void check_pool_identity(const char *matrix, double shift)
{
    tiny_run t;
    tiny_build(&t, matrix, shift);
    sb_err e = {{0}};
    sb_lm_result *seq = results_alloc(&t), *mux = results_alloc(&t), *alone = results_alloc(&t);
    double *fit_s = calloc((size_t)t.m.nfits, sizeof *fit_s);
    int *worker = calloc((size_t)t.m.nfits, sizeof *worker);
    assert_true(fit_s && worker);
    omp_set_num_threads(2);
    sb_mx_job job = {.cases = t.cases, .nfits = t.m.nfits, .matrix = &t.m, .ops = &sb_host_arrow_ops, .res = seq,
                     .fit_s = fit_s};
    assert_int_equal(sb_mx_run_sequential(&job, &e), SB_OK);
    assert_int_equal(omp_get_max_threads(), 2); /* restored */
    assert_int_equal(sb_host_threads(), 1);     /* OpenBLAS at 1, process-wide */
    for (int64_t f = 0; f < t.m.nfits; f++) {
        assert_true(fit_s[f] > 0);
        assert_int_equal(sb_arrow_fit(&t.cases[f], &sb_host_arrow_ops, 0, t.cases[f].sys.g_t, t.cases[f].sys.g_b,
                                      &alone[f], NULL, &e), SB_OK);
    }
    assert_all_identical(&t, seq, alone);
    int any_failures = 0;
    for (int64_t f = 0; f < t.m.nfits; f++)
        any_failures |= seq[f].factor_failures > 0;
    assert_int_equal(any_failures, shift < 0);
    const int workers[] = {2, 4, 64};
    for (size_t w = 0; w < sizeof workers / sizeof workers[0]; w++) {
        for (int64_t f = 0; f < t.m.nfits; f++)
            worker[f] = -1;
        sb_mx_job mj = {.cases = t.cases, .nfits = t.m.nfits, .matrix = &t.m, .ops = &sb_host_arrow_ops, .res = mux,
                        .worker = worker};
        assert_int_equal(sb_mx_run_multiplexed(&mj, workers[w], &e), SB_OK);
        assert_all_identical(&t, mux, seq);
        for (int64_t f = 0; f < t.m.nfits; f++)
            assert_true(worker[f] >= 0 && worker[f] < workers[w] && worker[f] < t.m.nfits);
    }
    free(fit_s);
    free(worker);
    results_free(&t, seq);
    results_free(&t, mux);
    results_free(&t, alone);
    tiny_free(&t);
}

static void test_pool_bit_identical(void **st)
{
    (void)st;
    check_pool_identity("color-arm-variants", 0.0);
    check_pool_identity("battery", 0.0);
}

static void test_pool_bit_identical_ridge_growth(void **st)
{
    (void)st;
    check_pool_identity("color-arm-variants", -3.5);
}

/* A solve mode that refuses systems with d == 1 (the linear fits of
 * color-arm-variants: fits 1, 3, 5, ...) and is the host mode otherwise. */
static sb_rc refusing_create(const sb_arrow_system *sys, int reupload, void **state, sb_err *err)
{
    if (sys->d == 1)
        return sb_fail(err, SB_E_RUNTIME, "refused (test)");
    return sb_host_arrow_ops.create(sys, reupload, state, err);
}

static void test_pool_failure_names_lowest_fit(void **st)
{
    (void)st;
    sb_arrow_ops ops = sb_host_arrow_ops;
    ops.create = refusing_create;
    tiny_run t;
    tiny_build(&t, "color-arm-variants", 0.0);
    sb_lm_result *res = results_alloc(&t);
    sb_err e = {{0}};
    sb_mx_job job = {.cases = t.cases, .nfits = t.m.nfits, .matrix = &t.m, .ops = &ops, .res = res};
    for (int w = 1; w <= 4; w++) {
        memset(&e, 0, sizeof e);
        assert_int_equal(sb_mx_run_multiplexed(&job, w, &e), SB_E_RUNTIME);
        assert_non_null(strstr(e.msg, "fit 1 K1-euclidean-linear"));
        assert_non_null(strstr(e.msg, "refused (test)"));
    }
    memset(&e, 0, sizeof e);
    assert_int_equal(sb_mx_run_sequential(&job, &e), SB_E_RUNTIME);
    assert_non_null(strstr(e.msg, "fit 1 K1-euclidean-linear: refused (test)"));
    assert_int_equal(sb_mx_run_multiplexed(&job, 0, &e), SB_E_INPUT);
    results_free(&t, res);
    tiny_free(&t);
}

/* ------------------------- oracle sample, memory ------------------------- */
static void test_oracle_sample(void **st)
{
    (void)st;
    int64_t idx[64];
    assert_int_equal(sb_mx_oracle_sample(32, 2, idx), 2);
    assert_true(idx[0] == 0 && idx[1] == 31);
    assert_int_equal(sb_mx_oracle_sample(32, 3, idx), 3);
    assert_true(idx[0] == 0 && idx[1] == 16 && idx[2] == 31);
    assert_int_equal(sb_mx_oracle_sample(12, 1, idx), 1);
    assert_true(idx[0] == 0);
    assert_int_equal(sb_mx_oracle_sample(5, 40, idx), 5); /* clamped: every fit */
    for (int i = 0; i < 5; i++)
        assert_int_equal(idx[i], i);
    assert_int_equal(sb_mx_oracle_sample(5, 0, idx), 0);

    sb_mx_matrix m;
    sb_err e = {{0}};
    assert_int_equal(sb_mx_matrix_named("color-arm-variants", 0, 0, &m, &e), SB_OK);
    assert_int_equal(sb_mx_default_oracle_sample(&m), 2); /* (n·d+p)² ≈ 5480²: seconds per fit */
    sb_mx_matrix_free(&m);
    assert_int_equal(sb_mx_matrix_named("color-arm-variants", 12, 16, &m, &e), SB_OK);
    assert_int_equal(sb_mx_default_oracle_sample(&m), 32); /* tiny: every fit */
    sb_mx_matrix_free(&m);
    const char *eight = "[{\"name\":\"a\",\"n\":180,\"p\":5120,\"d\":2,\"basis_cols\":8,\"seed\":1},"
                        "{\"name\":\"b\",\"n\":180,\"p\":5120,\"d\":2,\"basis_cols\":8,\"seed\":2}]";
    assert_int_equal(sb_mx_variants_parse(eight, strlen(eight), "two.json", &m, &e), SB_OK);
    assert_int_equal(sb_mx_default_oracle_sample(&m), 2); /* ≤ 8 fits: every fit */
    sb_mx_matrix_free(&m);
}

static void test_memory_estimate(void **st)
{
    (void)st;
    const char *one = "[{\"name\":\"a\",\"n\":10,\"p\":20,\"d\":3,\"basis_cols\":2,\"seed\":\"0x5\"}]";
    sb_mx_matrix m;
    sb_err e = {{0}};
    assert_int_equal(sb_mx_variants_parse(one, strlen(one), "one.json", &m, &e), SB_OK);
    int64_t s = 0;
    sb_mx_memory host, dev;
    sb_mx_memory_of(&m, 0, &s, 1, &host);
    sb_mx_memory_of(&m, 1, &s, 1, &dev);
    /* n·d = 30, order 50: system 30·3 + 30·20 + 400 + 30 + 20 = 1140 doubles */
    assert_true(host.systems == 8.0 * 1140);
    /* host: L 90 + Y 600 + S 400 + u, w 60, LM scratch 150 */
    assert_true(host.per_fit_host == 8.0 * (90 + 600 + 400 + 60 + 150));
    /* device: host holds the LM scratch and pinned I/O (50 + 16) */
    assert_true(dev.per_fit_host == 8.0 * (150 + 66));
    assert_true(dev.per_fit_device == 8.0 * (2 * (90 + 600 + 400) + 20 + 30 + 50) + SB_MX_DEVICE_HANDLE_BYTES);
    assert_true(host.oracle == 8.0 * (50 * 50 + 200));
    assert_true(host.results == 8.0 * (3 * 100 + 100));
    assert_true(sb_mx_host_bytes(&host, 3) == host.systems + host.results + host.oracle + 3 * host.per_fit_host);
    sb_mx_memory none;
    sb_mx_memory_of(&m, 0, NULL, 0, &none);
    assert_true(none.oracle == 0);
    sb_mx_matrix_free(&m);
}

/* --------------------------- variants file --------------------------- */
static const char *GOOD =
    "[ {\"name\": \"small\", \"n\": 12, \"p\": 16, \"d\": 2, \"basis_cols\": 3, \"seed\": \"0x1017000000000001\"},\n"
    "  {\"name\": \"wide\",  \"n\": 7,  \"p\": 40, \"d\": 1, \"basis_cols\": 9, \"seed\": 12345} ]";

static void test_variants_good(void **st)
{
    (void)st;
    sb_mx_matrix m;
    sb_err e = {{0}};
    assert_int_equal(sb_mx_variants_parse(GOOD, strlen(GOOD), "dir/my-fits.json", &m, &e), SB_OK);
    assert_int_equal(m.nfits, 2);
    assert_string_equal(m.name, "my-fits");
    assert_string_equal(m.fits[0].name, "small");
    assert_true(m.fits[0].prm.n == 12 && m.fits[0].prm.p == 16 && m.fits[0].prm.d == 2 && m.fits[0].prm.basis_cols == 3);
    assert_true(m.fits[0].prm.seed == 0x1017000000000001ULL);
    assert_true(m.fits[1].prm.seed == 12345 && m.fits[1].prm.d == 1 && m.fits[1].prm.p == 40);
    assert_true(m.fits[1].prm.htt_shift == 0);
    sb_mx_matrix_free(&m);
    /* through a file */
    char path[] = "/tmp/test_multiplex_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(GOOD, f);
    fclose(f);
    assert_int_equal(sb_mx_variants_load(path, &m, &e), SB_OK);
    assert_int_equal(m.nfits, 2);
    sb_mx_matrix_free(&m);
    remove(path);
    assert_int_equal(sb_mx_variants_load(path, &m, &e), SB_E_INPUT); /* gone */
    assert_non_null(strstr(e.msg, "cannot read"));
}

static void expect_variants_error(const char *text, size_t len, const char *needle)
{
    sb_mx_matrix m;
    sb_err e = {{0}};
    sb_rc rc = sb_mx_variants_parse(text, len, "v.json", &m, &e);
    if (rc != SB_E_INPUT)
        fail_msg("accepted (rc %d): %.80s", (int)rc, text);
    assert_null(m.fits);
    if (!strstr(e.msg, needle))
        fail_msg("error \"%s\" does not mention \"%s\"", e.msg, needle);
    assert_null(strchr(e.msg, '\n'));
    assert_non_null(strstr(e.msg, "v.json"));
}

#define BAD(text, needle) expect_variants_error(text, strlen(text), needle)
#define FIT(extra) "[{\"name\":\"a\",\"n\":12,\"p\":16,\"d\":2,\"basis_cols\":3" extra "}]"

static void test_variants_corrupted(void **st)
{
    (void)st;
    BAD("", "malformed JSON");
    BAD("[{\"name\":\"a\",\"n\":12", "malformed JSON");        /* truncated */
    BAD(FIT(",\"seed\":1") " trailing", "malformed JSON");
    expect_variants_error("[{\"name\":\"a\"\0}]", 15, "NUL byte");
    BAD("{\"name\":\"a\"}", "JSON array");
    BAD("[]", "0 fits");
    BAD("[1]", "fit 0 must be an object");
    BAD(FIT(""), "missing field \"seed\"");
    BAD(FIT(",\"seed\":1,\"htt_shift\":2"), "unknown field \"htt_shift\"");
    BAD(FIT(",\"seed\":1,\"d\":2"), "field \"d\" given twice");
    BAD("[{\"name\":\"a\",\"n\":\"12\",\"p\":16,\"d\":2,\"basis_cols\":3,\"seed\":1}]", "\"n\" must be an integer");
    BAD("[{\"name\":\"a\",\"n\":0,\"p\":16,\"d\":2,\"basis_cols\":3,\"seed\":1}]", "\"n\" = 0 is out of range");
    BAD("[{\"name\":\"a\",\"n\":12,\"p\":16.5,\"d\":2,\"basis_cols\":3,\"seed\":1}]", "\"p\" must be an integer");
    BAD("[{\"name\":\"a\",\"n\":12,\"p\":16,\"d\":65,\"basis_cols\":3,\"seed\":1}]", "\"d\" = 65 is out of range");
    BAD("[{\"name\":\"a\",\"n\":12,\"p\":16,\"d\":2,\"basis_cols\":0,\"seed\":1}]", "\"basis_cols\" = 0");
    BAD(FIT(",\"seed\":\"0xZZ\""), "\"seed\" must be a 64-bit integer");
    BAD(FIT(",\"seed\":\"-1\""), "\"seed\" must be a 64-bit integer");
    BAD(FIT(",\"seed\":\"0x10000000000000000\""), "\"seed\" must be a 64-bit integer");
    BAD(FIT(",\"seed\":-1"), "\"seed\" must be a non-negative integer");
    BAD(FIT(",\"seed\":1.5"), "\"seed\" must be a non-negative integer");
    BAD(FIT(",\"seed\":null"), "\"seed\" must be a non-negative integer");
    BAD("[{\"name\":\"\",\"n\":12,\"p\":16,\"d\":2,\"basis_cols\":3,\"seed\":1}]", "\"name\" must be a string");
    BAD("[{\"name\":7,\"n\":12,\"p\":16,\"d\":2,\"basis_cols\":3,\"seed\":1}]", "\"name\" must be a string");
    BAD("[{\"name\":\"a\\nb\",\"n\":12,\"p\":16,\"d\":2,\"basis_cols\":3,\"seed\":1}]", "control character");
    BAD("[" FIT(",\"seed\":1") "," FIT(",\"seed\":2") "]", "fit 0 must be an object"); /* nested array */
    BAD("[{\"name\":\"a\",\"n\":12,\"p\":16,\"d\":2,\"basis_cols\":3,\"seed\":1},"
        " {\"name\":\"a\",\"n\":12,\"p\":16,\"d\":2,\"basis_cols\":3,\"seed\":2}]",
        "both named \"a\"");
    BAD("[{\"name\":\"a\",\"n\":2000000000,\"p\":2000000000,\"d\":1,\"basis_cols\":3,\"seed\":1}]", "exceeds 2^31-1");
    BAD("[{\"name\":\"a\",\"n\":12,\"p\":16,\"d\":2,\"basis_cols\":3,\"seed\":1}, 5]", "fit 1 must be an object");
    /* more fits than a matrix holds */
    size_t cap = (size_t)(SB_MX_MAX_FITS + 1) * 4 + 8;
    char *many = malloc(cap);
    assert_non_null(many);
    size_t off = 0;
    many[off++] = '[';
    for (int i = 0; i <= SB_MX_MAX_FITS; i++)
        off += (size_t)snprintf(many + off, cap - off, "%s1", i ? "," : "");
    many[off++] = ']';
    many[off] = '\0';
    expect_variants_error(many, off, "4097 fits");
    free(many);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_color_arm_variants),
        cmocka_unit_test(test_battery),
        cmocka_unit_test(test_pool_bit_identical),
        cmocka_unit_test(test_pool_bit_identical_ridge_growth),
        cmocka_unit_test(test_pool_failure_names_lowest_fit),
        cmocka_unit_test(test_oracle_sample),
        cmocka_unit_test(test_memory_estimate),
        cmocka_unit_test(test_variants_good),
        cmocka_unit_test(test_variants_corrupted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
