/* Unit tests for src/npy.c. Malformed inputs are hand-built byte buffers
 * written under a private mkdtemp directory, because a C test cannot call
 * NumPy; the two NUMPY_* fixtures are verbatim np.save output. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "npy.h"

/* Bytes of np.save(f, a) and np.lib.format.write_array(f, a, version=(2, 0))
 * with NumPy 1.24.2, where
 * a = np.array([[1.5, -2.25, 3e300], [1e-310, 0.1, -0.0]]). */
static const unsigned char NUMPY_V1_2X3[176] = {
    0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7b, 0x27,
    0x64, 0x65, 0x73, 0x63, 0x72, 0x27, 0x3a, 0x20, 0x27, 0x3c, 0x66, 0x38,
    0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f, 0x72, 0x74, 0x72, 0x61, 0x6e, 0x5f,
    0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x46, 0x61, 0x6c, 0x73,
    0x65, 0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3a, 0x20,
    0x28, 0x32, 0x2c, 0x20, 0x33, 0x29, 0x2c, 0x20, 0x7d, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0xf8, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xc0,
    0x35, 0x58, 0x00, 0x66, 0x2d, 0xeb, 0x51, 0x7e, 0x2b, 0xe6, 0x70, 0x8b,
    0x68, 0x12, 0x00, 0x00, 0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0xb9, 0x3f,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80,
};
static const unsigned char NUMPY_V2_2X3[176] = {
    0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x02, 0x00, 0x74, 0x00, 0x00, 0x00,
    0x7b, 0x27, 0x64, 0x65, 0x73, 0x63, 0x72, 0x27, 0x3a, 0x20, 0x27, 0x3c,
    0x66, 0x38, 0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f, 0x72, 0x74, 0x72, 0x61,
    0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x46, 0x61,
    0x6c, 0x73, 0x65, 0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27,
    0x3a, 0x20, 0x28, 0x32, 0x2c, 0x20, 0x33, 0x29, 0x2c, 0x20, 0x7d, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0xf8, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xc0,
    0x35, 0x58, 0x00, 0x66, 0x2d, 0xeb, 0x51, 0x7e, 0x2b, 0xe6, 0x70, 0x8b,
    0x68, 0x12, 0x00, 0x00, 0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0xb9, 0x3f,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80,
};
static const double NUMPY_2X3_VALUES[6] = {1.5, -2.25, 3e300, 1e-310, 0.1, -0.0};

static char g_dir[] = "/tmp/test_npy.XXXXXX";

static void tpath(char *buf, size_t n, const char *name)
{
    int k = snprintf(buf, n, "%s/%s", g_dir, name);
    assert_true(k > 0 && (size_t)k < n);
}

static void write_raw(const char *name, const void *bytes, size_t len)
{
    char p[512];
    tpath(p, sizeof p, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* A .npy file with the given version and dict text, padded the way NumPy
 * pads, followed by n doubles and `extra` junk bytes. */
static void make_npy(const char *name, int major, const char *dict,
                     const void *data, size_t data_len, size_t extra)
{
    unsigned char buf[4096];
    size_t pre = major == 1 ? 10 : 12;
    size_t dlen = strlen(dict);
    size_t total = (pre + dlen + 1 + 63) / 64 * 64;
    size_t hlen = total - pre;
    assert_true(total + data_len + extra <= sizeof buf);
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    buf[7] = 0;
    buf[8] = (unsigned char)(hlen & 0xff);
    buf[9] = (unsigned char)(hlen >> 8);
    if (major != 1) {
        buf[10] = 0;
        buf[11] = 0;
    }
    memcpy(buf + pre, dict, dlen);
    memset(buf + pre + dlen, ' ', hlen - dlen - 1);
    buf[total - 1] = '\n';
    if (data_len)
        memcpy(buf + total, data, data_len);
    memset(buf + total + data_len, 0xAB, extra);
    write_raw(name, buf, total + data_len + extra);
}

static const char DICT_2X3[] =
    "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }";
static const double SIX[6] = {1, 2, 3, 4, 5, 6};

static int count_tmp_files(void)
{
    DIR *d = opendir(g_dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strstr(e->d_name, ".tmp.") != NULL)
            n++;
    closedir(d);
    return n;
}

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

#define assert_contains(hay, needle)                                        \
    do {                                                                    \
        if (strstr((hay), (needle)) == NULL) {                              \
            print_error("message \"%s\" lacks \"%s\"\n", (hay), (needle));  \
            fail();                                                         \
        }                                                                   \
    } while (0)

/* Reads name, which must be rejected with a one-line message that names the
 * file and contains word1 (and word2 when given). */
static void expect_reject(const char *name, int expect_ndim,
                          const char *word1, const char *word2)
{
    char p[512];
    tpath(p, sizeof p, name);
    sb_npy a;
    memset(&a, 0x5A, sizeof a); /* garbage, to see the reader clear it */
    sb_err err = {{0}};
    sb_rc rc = sb_npy_read(p, expect_ndim, &a, &err);
    assert_int_equal(rc, SB_E_INPUT);
    assert_true(err.msg[0] != '\0');
    assert_null(strchr(err.msg, '\n'));
    assert_contains(err.msg, name);
    assert_contains(err.msg, word1);
    if (word2)
        assert_contains(err.msg, word2);
    assert_null(a.data);
    sb_npy_free(&a); /* must be safe after a failed read */
}

static int group_setup(void **state)
{
    (void)state;
    return mkdtemp(g_dir) == NULL ? -1 : 0;
}

static int group_teardown(void **state)
{
    (void)state;
    DIR *d = opendir(g_dir);
    if (!d)
        return -1;
    struct dirent *e;
    char p[1024];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", g_dir, e->d_name);
        if (unlink(p) != 0)
            rmdir(p);
    }
    closedir(d);
    return rmdir(g_dir);
}

/* ---- round trips ------------------------------------------------------- */

static void test_roundtrip_1d(void **state)
{
    (void)state;
    const double v[7] = {0.1, -0.0, DBL_MAX, DBL_MIN / 4, -1e-300, 42.0,
                         -DBL_TRUE_MIN};
    char p[512];
    tpath(p, sizeof p, "rt1.npy");
    sb_err err = {{0}};
    assert_int_equal(sb_npy_write(p, v, 7, 0, &err), SB_OK);

    sb_npy a;
    assert_int_equal(sb_npy_read(p, 1, &a, &err), SB_OK);
    assert_int_equal(a.ndim, 1);
    assert_int_equal(a.shape[0], 7);
    assert_int_equal(a.shape[1], 1);
    assert_memory_equal(a.data, v, sizeof v); /* bit-exact, keeps -0.0 */
    sb_npy_free(&a);
    assert_null(a.data);

    /* expect_ndim 0 accepts either rank. */
    assert_int_equal(sb_npy_read(p, 0, &a, &err), SB_OK);
    assert_int_equal(a.ndim, 1);
    sb_npy_free(&a);
    assert_int_equal(count_tmp_files(), 0);
}

static void test_roundtrip_2d(void **state)
{
    (void)state;
    enum { R = 3, C = 5 };
    double v[R * C];
    for (int i = 0; i < R * C; i++)
        v[i] = (i - 7) * 1.25 + i * 1e-9;
    char p[512];
    tpath(p, sizeof p, "rt2.npy");
    sb_err err = {{0}};
    assert_int_equal(sb_npy_write(p, v, R, C, &err), SB_OK);

    sb_npy a;
    assert_int_equal(sb_npy_read(p, 2, &a, &err), SB_OK);
    assert_int_equal(a.ndim, 2);
    assert_int_equal(a.shape[0], R);
    assert_int_equal(a.shape[1], C);
    for (int i = 0; i < R * C; i++)
        assert_true(a.data[i] == v[i]);
    assert_memory_equal(a.data, v, sizeof v);
    sb_npy_free(&a);
    assert_int_equal(count_tmp_files(), 0);
}

static void test_roundtrip_2d_single_column(void **state)
{
    (void)state;
    const double v[3] = {1, 2, 3};
    char p[512];
    tpath(p, sizeof p, "col.npy");
    sb_err err = {{0}};
    assert_int_equal(sb_npy_write(p, v, 3, 1, &err), SB_OK);
    sb_npy a;
    assert_int_equal(sb_npy_read(p, 2, &a, &err), SB_OK);
    assert_int_equal(a.ndim, 2); /* (3, 1), not collapsed to 1-D */
    assert_int_equal(a.shape[0], 3);
    assert_int_equal(a.shape[1], 1);
    sb_npy_free(&a);
    expect_reject("col.npy", 1, "expected a 1-D", "(3, 1)");
}

/* Our writer must produce exactly what np.save produces. */
static void test_writer_matches_numpy_bytes(void **state)
{
    (void)state;
    char p[512];
    tpath(p, sizeof p, "mine.npy");
    sb_err err = {{0}};
    assert_int_equal(sb_npy_write(p, NUMPY_2X3_VALUES, 2, 3, &err), SB_OK);
    unsigned char buf[512];
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_int_equal(n, sizeof NUMPY_V1_2X3);
    assert_memory_equal(buf, NUMPY_V1_2X3, sizeof NUMPY_V1_2X3);
}

static void test_writer_header_alignment(void **state)
{
    (void)state;
    static const struct { int64_t r, c; } cases[] = {
        {1, 0}, {5, 0}, {1, 1}, {7, 9}, {64, 0}, {2, 32}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int64_t r = cases[k].r, c = cases[k].c;
        size_t n_vals = (size_t)(r * (c ? c : 1));
        double v[64];
        for (size_t i = 0; i < n_vals; i++)
            v[i] = (double)i;
        char p[512];
        tpath(p, sizeof p, "align.npy");
        sb_err err = {{0}};
        assert_int_equal(sb_npy_write(p, v, r, c, &err), SB_OK);
        unsigned char buf[1024];
        FILE *f = fopen(p, "rb");
        assert_non_null(f);
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        assert_memory_equal(buf, "\x93NUMPY\x01\x00", 8);
        size_t hlen = buf[8] | (size_t)buf[9] << 8;
        assert_int_equal((10 + hlen) % 64, 0);
        assert_int_equal(buf[10 + hlen - 1], '\n');
        assert_int_equal(n, 10 + hlen + n_vals * 8);
        assert_memory_equal(buf + 10,
                            "{'descr': '<f8', 'fortran_order': False, "
                            "'shape': (",
                            51);
        assert_memory_equal(buf + 10 + hlen, v, n_vals * 8);
    }
}

static void test_writer_overwrites_existing(void **state)
{
    (void)state;
    char p[512];
    tpath(p, sizeof p, "over.npy");
    sb_err err = {{0}};
    const double a1[3] = {1, 2, 3}, a2[4] = {9, 8, 7, 6};
    assert_int_equal(sb_npy_write(p, a1, 3, 0, &err), SB_OK);
    assert_int_equal(sb_npy_write(p, a2, 2, 2, &err), SB_OK);
    sb_npy a;
    assert_int_equal(sb_npy_read(p, 0, &a, &err), SB_OK);
    assert_int_equal(a.ndim, 2);
    assert_int_equal(a.shape[0], 2);
    assert_int_equal(a.shape[1], 2);
    assert_memory_equal(a.data, a2, sizeof a2);
    sb_npy_free(&a);
    assert_int_equal(count_tmp_files(), 0);
}

static void test_writer_file_mode_follows_umask(void **state)
{
    (void)state;
    mode_t old = umask(022);
    char p[512];
    tpath(p, sizeof p, "mode.npy");
    sb_err err = {{0}};
    const double v[1] = {1};
    sb_rc rc = sb_npy_write(p, v, 1, 0, &err);
    umask(old);
    assert_int_equal(rc, SB_OK);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644); /* not mkstemp's 0600 */
}

/* ---- files as NumPy writes them ---------------------------------------- */

static void check_numpy_2x3(const char *name)
{
    char p[512];
    tpath(p, sizeof p, name);
    sb_npy a;
    sb_err err = {{0}};
    assert_int_equal(sb_npy_read(p, 2, &a, &err), SB_OK);
    assert_int_equal(a.ndim, 2);
    assert_int_equal(a.shape[0], 2);
    assert_int_equal(a.shape[1], 3);
    assert_memory_equal(a.data, NUMPY_2X3_VALUES, sizeof NUMPY_2X3_VALUES);
    assert_true(signbit(a.data[5]));
    assert_true(a.data[1] == -2.25);
    sb_npy_free(&a);
}

static void test_numpy_v1_file(void **state)
{
    (void)state;
    write_raw("np_v1.npy", NUMPY_V1_2X3, sizeof NUMPY_V1_2X3);
    check_numpy_2x3("np_v1.npy");
}

static void test_numpy_v2_file(void **state)
{
    (void)state;
    write_raw("np_v2.npy", NUMPY_V2_2X3, sizeof NUMPY_V2_2X3);
    check_numpy_2x3("np_v2.npy");
}

static void test_v3_header(void **state)
{
    (void)state;
    make_npy("v3.npy", 3, DICT_2X3, NUMPY_2X3_VALUES, 48, 0);
    check_numpy_2x3("v3.npy");
}

static void test_header_variants(void **state)
{
    (void)state;
    static const char *dicts[] = {
        "{'shape': (2,3,), 'fortran_order': False, 'descr': '<f8'}",
        "{ \"descr\" :\t'<f8' ,\n 'shape':( 2 , 3 ) , 'fortran_order':False }",
        "{'descr':'<f8','fortran_order':False,'shape':(2L, 3L),}",
        "{'fortran_order': False, 'shape': (2, 3), 'descr': '<f8', }",
    };
    for (size_t i = 0; i < sizeof dicts / sizeof dicts[0]; i++) {
        make_npy("var.npy", 1, dicts[i], NUMPY_2X3_VALUES, 48, 0);
        check_numpy_2x3("var.npy");
    }
}

static void test_1d_handbuilt(void **state)
{
    (void)state;
    make_npy("h1.npy", 1,
             "{'descr': '<f8', 'fortran_order': False, 'shape': (6,), }", SIX,
             48, 0);
    char p[512];
    tpath(p, sizeof p, "h1.npy");
    sb_npy a;
    sb_err err = {{0}};
    assert_int_equal(sb_npy_read(p, 1, &a, &err), SB_OK);
    assert_int_equal(a.ndim, 1);
    assert_int_equal(a.shape[0], 6);
    assert_int_equal(a.shape[1], 1);
    assert_true(a.data[5] == 6.0);
    sb_npy_free(&a);
}

/* ---- rejections -------------------------------------------------------- */

static void test_reject_f4(void **state)
{
    (void)state;
    const float f[6] = {1, 2, 3, 4, 5, 6};
    make_npy("f4.npy", 1,
             "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", f,
             sizeof f, 0);
    expect_reject("f4.npy", 2, "dtype '<f4'", "'<f8'");
}

static void test_reject_big_endian(void **state)
{
    (void)state;
    make_npy("be.npy", 1,
             "{'descr': '>f8', 'fortran_order': False, 'shape': (2, 3), }",
             SIX, 48, 0);
    expect_reject("be.npy", 2, "dtype '>f8'", "big-endian");
}

static void test_reject_structured_dtype(void **state)
{
    (void)state;
    make_npy("rec.npy", 1,
             "{'descr': [('a', '<f8')], 'fortran_order': False, "
             "'shape': (2, 3), }",
             SIX, 48, 0);
    expect_reject("rec.npy", 2, "dtype", "structured");
}

static void test_reject_fortran(void **state)
{
    (void)state;
    make_npy("fo.npy", 1,
             "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }",
             SIX, 48, 0);
    expect_reject("fo.npy", 2, "fortran_order", "ascontiguousarray");
}

static void test_reject_3d(void **state)
{
    (void)state;
    make_npy("3d.npy", 1,
             "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2, 3), }",
             SIX, 48, 0);
    expect_reject("3d.npy", 0, "3-D", "(1, 2, 3)");
}

static void test_reject_0d(void **state)
{
    (void)state;
    make_npy("0d.npy", 1,
             "{'descr': '<f8', 'fortran_order': False, 'shape': (), }", SIX,
             8, 0);
    expect_reject("0d.npy", 0, "0-D", NULL);
}

static void test_reject_ndim_mismatch(void **state)
{
    (void)state;
    make_npy("two.npy", 1, DICT_2X3, SIX, 48, 0);
    expect_reject("two.npy", 1, "expected a 1-D", "(2, 3)");
    make_npy("one.npy", 1,
             "{'descr': '<f8', 'fortran_order': False, 'shape': (6,), }", SIX,
             48, 0);
    expect_reject("one.npy", 2, "expected a 2-D", "(6,)");
}

static void test_reject_truncated(void **state)
{
    (void)state;
    make_npy("trunc.npy", 1, DICT_2X3, SIX, 40, 0);
    expect_reject("trunc.npy", 2, "truncated",
                  "expected 48 data bytes, found 40");
    /* Cut inside the preamble. */
    write_raw("short.npy", "\x93NUMPY\x01", 7);
    expect_reject("short.npy", 0, "truncated", NULL);
}

static void test_reject_trailing(void **state)
{
    (void)state;
    make_npy("trail.npy", 1, DICT_2X3, SIX, 48, 3);
    expect_reject("trail.npy", 2, "3 trailing bytes", NULL);
}

static void test_reject_bad_magic(void **state)
{
    (void)state;
    unsigned char b[sizeof NUMPY_V1_2X3];
    memcpy(b, NUMPY_V1_2X3, sizeof b);
    b[5] = 'X';
    write_raw("magic.npy", b, sizeof b);
    expect_reject("magic.npy", 2, "magic", NULL);
    write_raw("empty.npy", "", 0);
    expect_reject("empty.npy", 0, "magic", NULL);
    write_raw("text.npy", "1,2,3\n", 6);
    expect_reject("text.npy", 0, "magic", NULL);
}

static void test_reject_version(void **state)
{
    (void)state;
    unsigned char b[sizeof NUMPY_V1_2X3];
    memcpy(b, NUMPY_V1_2X3, sizeof b);
    b[6] = 4;
    write_raw("v4.npy", b, sizeof b);
    expect_reject("v4.npy", 2, "version 4.0", NULL);
    b[6] = 1;
    b[7] = 1;
    write_raw("v11.npy", b, sizeof b);
    expect_reject("v11.npy", 2, "version 1.1", NULL);
}

static void test_reject_header_past_eof(void **state)
{
    (void)state;
    unsigned char b[sizeof NUMPY_V1_2X3];
    memcpy(b, NUMPY_V1_2X3, sizeof b);
    b[8] = 0xe8; /* 1000 */
    b[9] = 0x03;
    write_raw("hlen.npy", b, sizeof b);
    expect_reject("hlen.npy", 2, "header length 1000", "past the end");
    /* Same with a 4-byte v2 length far beyond the file. */
    memcpy(b, NUMPY_V2_2X3, sizeof b);
    b[11] = 0x7f;
    write_raw("hlen2.npy", b, sizeof b);
    expect_reject("hlen2.npy", 2, "past the end", NULL);
}

static void test_reject_nan(void **state)
{
    (void)state;
    double v[6] = {1, 2, 3, 4, NAN, 6};
    make_npy("nan.npy", 1, DICT_2X3, v, sizeof v, 0);
    expect_reject("nan.npy", 2, "NaN", "index 4 (row 1, col 1)");
    double w[6] = {1, 2, 3, NAN, 5, 6};
    make_npy("nan1.npy", 1,
             "{'descr': '<f8', 'fortran_order': False, 'shape': (6,), }", w,
             sizeof w, 0);
    expect_reject("nan1.npy", 1, "NaN at index 3", NULL);
}

static void test_reject_inf(void **state)
{
    (void)state;
    double v[6] = {INFINITY, 2, 3, 4, 5, 6};
    make_npy("inf.npy", 1, DICT_2X3, v, sizeof v, 0);
    expect_reject("inf.npy", 2, "+Inf", "index 0 (row 0, col 0)");
    double w[6] = {1, 2, 3, 4, 5, -INFINITY};
    make_npy("ninf.npy", 1, DICT_2X3, w, sizeof w, 0);
    expect_reject("ninf.npy", 2, "-Inf", "index 5 (row 1, col 2)");
}

static void test_reject_zero_extent(void **state)
{
    (void)state;
    make_npy("z0.npy", 1,
             "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 3), }",
             NULL, 0, 0);
    expect_reject("z0.npy", 2, "zero extent", NULL);
    make_npy("z1.npy", 1,
             "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 0), }",
             NULL, 0, 0);
    expect_reject("z1.npy", 2, "zero extent", NULL);
    make_npy("z2.npy", 1,
             "{'descr': '<f8', 'fortran_order': False, 'shape': (0,), }",
             NULL, 0, 0);
    expect_reject("z2.npy", 1, "zero extent", NULL);
}

static void test_reject_size_overflow(void **state)
{
    (void)state;
    make_npy("big.npy", 1,
             "{'descr': '<f8', 'fortran_order': False, "
             "'shape': (4611686018427387904, 4), }",
             SIX, 48, 0);
    expect_reject("big.npy", 2, "overflows", NULL);
    /* rows*cols fits but *8 does not. */
    make_npy("big8.npy", 1,
             "{'descr': '<f8', 'fortran_order': False, "
             "'shape': (2305843009213693952, 2), }",
             SIX, 48, 0);
    expect_reject("big8.npy", 2, "overflows", NULL);
    make_npy("big64.npy", 1,
             "{'descr': '<f8', 'fortran_order': False, "
             "'shape': (99999999999999999999,), }",
             SIX, 48, 0);
    expect_reject("big64.npy", 1, "64 bits", NULL);
    /* Plausible size, but the file lacks the data: must not allocate 8 GB
     * first; it is simply truncated. */
    make_npy("huge.npy", 1,
             "{'descr': '<f8', 'fortran_order': False, "
             "'shape': (1000000, 1000), }",
             SIX, 48, 0);
    expect_reject("huge.npy", 2, "truncated", "expected 8000000000");
}

static void test_reject_malformed_header(void **state)
{
    (void)state;
    static const struct { const char *dict, *word; } cases[] = {
        {"{'descr': '<f8', 'fortran_order': False, }", "missing key 'shape'"},
        {"{'descr': '<f8', 'shape': (2, 3), }", "missing key 'fortran_order'"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), "
         "'extra': 1}",
         "unexpected key 'extra'"},
        {"{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, "
         "'shape': (2, 3)}",
         "duplicate key"},
        {"hello", "malformed header"},
        {"{'descr': '<f8' 'fortran_order': False, 'shape': (2, 3)}",
         "expected ',' or '}'"},
        {"{'descr': '<f8', 'fortran_order': maybe, 'shape': (2, 3)}",
         "True or False"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (-1, 3)}",
         "negative"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': [2, 3]}",
         "must be a tuple"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (2; 3)}",
         "expected ',' or ')'"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3)} x",
         "after '}'"},
        {"{'descr': '<f8, 'fortran_order': False, 'shape': (2, 3)}",
         "malformed header"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        make_npy("bad.npy", 1, cases[i].dict, SIX, 48, 0);
        expect_reject("bad.npy", 2, cases[i].word, NULL);
    }
}

static void test_reject_nonascii_header(void **state)
{
    (void)state;
    unsigned char b[sizeof NUMPY_V1_2X3];
    memcpy(b, NUMPY_V1_2X3, sizeof b);
    b[80] = 0; /* a NUL in the padding */
    write_raw("nul.npy", b, sizeof b);
    expect_reject("nul.npy", 2, "0x00", "printable");
}

static void test_reject_nonexistent(void **state)
{
    (void)state;
    expect_reject("does_not_exist.npy", 0, "cannot open",
                  "No such file or directory");
}

static void test_reject_directory(void **state)
{
    (void)state;
    char p[512];
    tpath(p, sizeof p, "adir.npy");
    assert_int_equal(mkdir(p, 0700), 0);
    expect_reject("adir.npy", 0, "not a regular file", NULL);
    assert_int_equal(rmdir(p), 0);
}

/* ---- writer failures --------------------------------------------------- */

static void expect_write_fails(const char *p, const char *word)
{
    const double v[2] = {1, 2};
    sb_err err = {{0}};
    assert_int_equal(sb_npy_write(p, v, 2, 0, &err), SB_E_INPUT);
    assert_contains(err.msg, "cannot write");
    assert_contains(err.msg, p);
    assert_contains(err.msg, word);
    assert_null(strchr(err.msg, '\n'));
}

static void test_write_missing_directory(void **state)
{
    (void)state;
    char p[512];
    tpath(p, sizeof p, "no_such_dir/x.npy");
    expect_write_fails(p, "No such file or directory");
    assert_false(exists(p));
    tpath(p, sizeof p, "no_such_dir");
    assert_false(exists(p));
    assert_int_equal(count_tmp_files(), 0);
}

static void test_write_proc(void **state)
{
    (void)state;
    expect_write_fails("/proc/nonexistent/x.npy", "No such file or directory");
    assert_false(exists("/proc/nonexistent/x.npy"));
}

static void test_write_parent_is_file(void **state)
{
    (void)state;
    write_raw("plain", "x", 1);
    char p[512];
    tpath(p, sizeof p, "plain/x.npy");
    expect_write_fails(p, "Not a directory");
}

/* rename onto a directory fails after the data is written: the temp file
 * must still be removed. */
static void test_write_onto_directory(void **state)
{
    (void)state;
    char p[512];
    tpath(p, sizeof p, "target_dir");
    assert_int_equal(mkdir(p, 0700), 0);
    expect_write_fails(p, "directory");
    assert_int_equal(count_tmp_files(), 0);
    assert_int_equal(rmdir(p), 0);
}

static void test_write_invalid_shape(void **state)
{
    (void)state;
    const double v[1] = {1};
    char p[512];
    tpath(p, sizeof p, "empty_out.npy");
    sb_err err = {{0}};
    assert_int_equal(sb_npy_write(p, v, 0, 3, &err), SB_E_INPUT);
    assert_contains(err.msg, "invalid shape");
    assert_int_equal(sb_npy_write(p, v, 2, -1, &err), SB_E_INPUT);
    assert_int_equal(sb_npy_write(p, v, INT64_MAX, 2, &err), SB_E_INPUT);
    assert_contains(err.msg, "too large");
    assert_false(exists(p));
    assert_int_equal(count_tmp_files(), 0);
}

static void test_free_is_idempotent(void **state)
{
    (void)state;
    sb_npy a = {0};
    sb_npy_free(&a);
    sb_npy_free(&a);
    sb_npy_free(NULL);
    assert_null(a.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_1d),
        cmocka_unit_test(test_roundtrip_2d),
        cmocka_unit_test(test_roundtrip_2d_single_column),
        cmocka_unit_test(test_writer_matches_numpy_bytes),
        cmocka_unit_test(test_writer_header_alignment),
        cmocka_unit_test(test_writer_overwrites_existing),
        cmocka_unit_test(test_writer_file_mode_follows_umask),
        cmocka_unit_test(test_numpy_v1_file),
        cmocka_unit_test(test_numpy_v2_file),
        cmocka_unit_test(test_v3_header),
        cmocka_unit_test(test_header_variants),
        cmocka_unit_test(test_1d_handbuilt),
        cmocka_unit_test(test_reject_f4),
        cmocka_unit_test(test_reject_big_endian),
        cmocka_unit_test(test_reject_structured_dtype),
        cmocka_unit_test(test_reject_fortran),
        cmocka_unit_test(test_reject_3d),
        cmocka_unit_test(test_reject_0d),
        cmocka_unit_test(test_reject_ndim_mismatch),
        cmocka_unit_test(test_reject_truncated),
        cmocka_unit_test(test_reject_trailing),
        cmocka_unit_test(test_reject_bad_magic),
        cmocka_unit_test(test_reject_version),
        cmocka_unit_test(test_reject_header_past_eof),
        cmocka_unit_test(test_reject_nan),
        cmocka_unit_test(test_reject_inf),
        cmocka_unit_test(test_reject_zero_extent),
        cmocka_unit_test(test_reject_size_overflow),
        cmocka_unit_test(test_reject_malformed_header),
        cmocka_unit_test(test_reject_nonascii_header),
        cmocka_unit_test(test_reject_nonexistent),
        cmocka_unit_test(test_reject_directory),
        cmocka_unit_test(test_write_missing_directory),
        cmocka_unit_test(test_write_proc),
        cmocka_unit_test(test_write_parent_is_file),
        cmocka_unit_test(test_write_onto_directory),
        cmocka_unit_test(test_write_invalid_shape),
        cmocka_unit_test(test_free_is_idempotent),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
