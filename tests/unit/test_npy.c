/* Unit tests for src/npy.c. Inputs are hand-built byte buffers written under
 * a private mkdtemp directory, because a C test cannot call NumPy; the
 * NUMPY_* fixtures are verbatim np.save output, so the reader is also checked
 * against files this file's own builder did not make. */
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

/* np.save(f, np.asfortranarray(np.array(
 *     [[[-32768, 1], [2, -3], [300, 32767]], [[-1, 0], [7, 8], [-9, 10]]],
 *     dtype='>i2'))) with NumPy 1.24.2: 3-D, Fortran order, big-endian. */
static const unsigned char NUMPY_FORTRAN_BE_I2[152] = {
    0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7b, 0x27,
    0x64, 0x65, 0x73, 0x63, 0x72, 0x27, 0x3a, 0x20, 0x27, 0x3e, 0x69, 0x32,
    0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f, 0x72, 0x74, 0x72, 0x61, 0x6e, 0x5f,
    0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x54, 0x72, 0x75, 0x65,
    0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3a, 0x20, 0x28,
    0x32, 0x2c, 0x20, 0x33, 0x2c, 0x20, 0x32, 0x29, 0x2c, 0x20, 0x7d, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a, 0x80, 0x00, 0xff, 0xff,
    0x00, 0x02, 0x00, 0x07, 0x01, 0x2c, 0xff, 0xf7, 0x00, 0x01, 0x00, 0x00,
    0xff, 0xfd, 0x00, 0x08, 0x7f, 0xff, 0x00, 0x0a,
};
static const double NUMPY_FORTRAN_BE_I2_C[12] = {-32768, 1, 2, -3, 300, 32767,
                                                 -1, 0, 7, 8, -9, 10};

/* np.save(f, np.array([0.1, 1/3, -2.5e-40, 3.4e38], dtype='<f4')) with
 * NumPy 1.24.2; the values are float32's, the third subnormal. */
static const unsigned char NUMPY_F4[144] = {
    0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7b, 0x27,
    0x64, 0x65, 0x73, 0x63, 0x72, 0x27, 0x3a, 0x20, 0x27, 0x3c, 0x66, 0x34,
    0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f, 0x72, 0x74, 0x72, 0x61, 0x6e, 0x5f,
    0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x46, 0x61, 0x6c, 0x73,
    0x65, 0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3a, 0x20,
    0x28, 0x34, 0x2c, 0x29, 0x2c, 0x20, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a, 0xcd, 0xcc, 0xcc, 0x3d,
    0xab, 0xaa, 0xaa, 0x3e, 0xe6, 0xb8, 0x02, 0x80, 0x9e, 0xc9, 0x7f, 0x7f,
};
static const double NUMPY_F4_VALUES[4] = {0x1.99999ap-4, 0x1.555556p-2,
                                          -0x1.5c73p-132, 0x1.ff933cp+127};

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
    assert_int_equal(a.ndim, 0); /* all zero, not left half-filled */
    assert_int_equal(a.dtype[0], '\0');
    assert_int_equal(a.integer, 0);
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

/* ---- conversions: every accepted dtype, order and rank ------------------ */

/* Reads name, which must be accepted; returns through a. */
static void read_ok(const char *name, int expect_ndim, sb_npy *a)
{
    char p[512];
    tpath(p, sizeof p, name);
    sb_err err = {{0}};
    sb_rc rc = sb_npy_read(p, expect_ndim, a, &err);
    if (rc != SB_OK) {
        print_error("%s refused: %s\n", name, err.msg);
        fail();
    }
}

/* The size low bytes of u in the given byte order, as a file holds them. */
static void put_uint(unsigned char *p, uint64_t u, size_t size, int big)
{
    for (size_t k = 0; k < size; k++)
        p[big ? size - 1 - k : k] = (unsigned char)(u >> (8 * k));
}

static void test_numpy_fortran_big_endian_3d(void **state)
{
    (void)state;
    write_raw("np_fbe.npy", NUMPY_FORTRAN_BE_I2, sizeof NUMPY_FORTRAN_BE_I2);
    sb_npy a;
    read_ok("np_fbe.npy", 3, &a);
    assert_int_equal(a.ndim, 3);
    assert_int_equal(a.shape[0], 2);
    assert_int_equal(a.shape[1], 3);
    assert_int_equal(a.shape[2], 2);
    assert_int_equal(sb_npy_count(&a), 12);
    assert_string_equal(a.dtype, ">i2");
    assert_int_equal(a.integer, 1);
    for (int i = 0; i < 12; i++)
        assert_true(a.data[i] == NUMPY_FORTRAN_BE_I2_C[i]);
    sb_npy_free(&a);
    assert_int_equal(sb_npy_count(&a), 0);
    assert_string_equal(a.dtype, "");
}

static void test_numpy_f4(void **state)
{
    (void)state;
    write_raw("np_f4.npy", NUMPY_F4, sizeof NUMPY_F4);
    sb_npy a;
    read_ok("np_f4.npy", 1, &a);
    assert_int_equal(a.ndim, 1);
    assert_int_equal(a.shape[0], 4);
    assert_int_equal(a.shape[1], 1);
    assert_int_equal(a.shape[2], 1);
    assert_string_equal(a.dtype, "<f4");
    assert_int_equal(a.integer, 0);
    assert_memory_equal(a.data, NUMPY_F4_VALUES, sizeof NUMPY_F4_VALUES);
    assert_false(a.data[0] == 0.1); /* float32's 0.1, not float64's */
    sb_npy_free(&a);
}

/* Values with no short decimal form, so only an exact conversion matches. */
static void test_f4_exact(void **state)
{
    (void)state;
    const float f[6] = {0.1f, 1.0f / 3.0f, -FLT_TRUE_MIN, FLT_MAX, -0.0f,
                        16777217.0f /* rounds to 2^24 in float32 */};
    make_npy("f4.npy", 1,
             "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", f,
             sizeof f, 0);
    sb_npy a;
    read_ok("f4.npy", 2, &a);
    assert_int_equal(a.ndim, 2);
    assert_int_equal(a.shape[0], 2);
    assert_int_equal(a.shape[1], 3);
    assert_string_equal(a.dtype, "<f4");
    assert_int_equal(a.integer, 0);
    for (int i = 0; i < 6; i++) {
        double want = (double)f[i];
        assert_memory_equal(&a.data[i], &want, sizeof want);
    }
    assert_true(a.data[0] == 0x1.99999ap-4);
    assert_true(a.data[2] == -0x1p-149);
    assert_true(signbit(a.data[4]));
    assert_true(a.data[5] == 16777216.0);
    sb_npy_free(&a);
}

static void test_3d_c_order(void **state)
{
    (void)state;
    enum { D0 = 2, D1 = 3, D2 = 4 };
    double v[D0 * D1 * D2];
    for (int i = 0; i < D0 * D1 * D2; i++)
        v[i] = i * 0.1 - 1.0;
    make_npy("c3.npy", 1,
             "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3, 4), }",
             v, sizeof v, 0);
    sb_npy a;
    read_ok("c3.npy", 3, &a);
    assert_int_equal(a.ndim, 3);
    assert_int_equal(a.shape[0], D0);
    assert_int_equal(a.shape[1], D1);
    assert_int_equal(a.shape[2], D2);
    assert_int_equal(sb_npy_count(&a), D0 * D1 * D2);
    assert_string_equal(a.dtype, "<f8");
    assert_int_equal(a.integer, 0);
    assert_memory_equal(a.data, v, sizeof v);
    sb_npy_free(&a);
    read_ok("c3.npy", 0, &a); /* any rank */
    assert_int_equal(a.ndim, 3);
    sb_npy_free(&a);
    expect_reject("c3.npy", 2, "expected a 2-D", "3-D with shape (2, 3, 4)");
    make_npy("c2.npy", 1, DICT_2X3, SIX, 48, 0);
    expect_reject("c2.npy", 3, "expected a 3-D", "(2, 3)");
}

/* File value at Fortran position a + d0*(b + d1*c) is element [a][b][c]. */
static void test_3d_fortran(void **state)
{
    (void)state;
    enum { D0 = 2, D1 = 3, D2 = 4 };
    double file[D0 * D1 * D2];
    for (int a = 0; a < D0; a++)
        for (int b = 0; b < D1; b++)
            for (int c = 0; c < D2; c++)
                file[a + D0 * (b + D1 * c)] = 100 * a + 10 * b + c;
    make_npy("f3.npy", 1,
             "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3, 4), }",
             file, sizeof file, 0);
    sb_npy arr;
    read_ok("f3.npy", 3, &arr);
    assert_int_equal(arr.ndim, 3);
    assert_int_equal(arr.shape[0], D0);
    assert_int_equal(arr.shape[1], D1);
    assert_int_equal(arr.shape[2], D2);
    for (int a = 0; a < D0; a++)
        for (int b = 0; b < D1; b++)
            for (int c = 0; c < D2; c++)
                assert_true(arr.data[(a * D1 + b) * D2 + c] ==
                            100 * a + 10 * b + c);
    sb_npy_free(&arr);
}

static void test_2d_fortran(void **state)
{
    (void)state;
    /* Column-major (2, 3): columns (1, 4), (2, 5), (3, 6). */
    const double file[6] = {1, 4, 2, 5, 3, 6};
    make_npy("f2.npy", 1,
             "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }",
             file, sizeof file, 0);
    sb_npy a;
    read_ok("f2.npy", 2, &a);
    assert_int_equal(a.ndim, 2);
    assert_int_equal(a.shape[0], 2);
    assert_int_equal(a.shape[1], 3);
    assert_memory_equal(a.data, SIX, sizeof SIX);
    sb_npy_free(&a);
    /* 1-D is the same either way. */
    make_npy("f1.npy", 1,
             "{'descr': '<f8', 'fortran_order': True, 'shape': (6,), }", SIX,
             sizeof SIX, 0);
    read_ok("f1.npy", 1, &a);
    assert_memory_equal(a.data, SIX, sizeof SIX);
    sb_npy_free(&a);
    /* Fortran-ordered float32, big-endian: reorder and swap together. */
    unsigned char be[6 * 4];
    for (int i = 0; i < 6; i++) {
        float f = (float)file[i] / 3.0f;
        uint32_t u;
        memcpy(&u, &f, 4);
        put_uint(be + 4 * i, u, 4, 1);
    }
    make_npy("f2be.npy", 1,
             "{'descr': '>f4', 'fortran_order': True, 'shape': (2, 3), }", be,
             sizeof be, 0);
    read_ok("f2be.npy", 2, &a);
    for (int i = 0; i < 6; i++)
        assert_true(a.data[i] == (double)((float)SIX[i] / 3.0f));
    assert_string_equal(a.dtype, ">f4");
    sb_npy_free(&a);
}

/* Every integer width, signed and unsigned, in both byte orders, with each
 * type's extremes; 8-byte types up to the exact limit of 2^53. */
static void test_integers(void **state)
{
    (void)state;
    static const struct {
        const char *descr;
        size_t size;
        int64_t v[4];
    } cases[] = {
        {"|i1", 1, {-128, -1, 0, 127}},
        {"|u1", 1, {0, 1, 200, 255}},
        {"<i2", 2, {-32768, -2, 1, 32767}},
        {">i2", 2, {-32768, -2, 1, 32767}},
        {"<u2", 2, {0, 256, 40000, 65535}},
        {">u2", 2, {0, 256, 40000, 65535}},
        {"<i4", 4, {INT32_MIN, -70000, 3, INT32_MAX}},
        {">i4", 4, {INT32_MIN, -70000, 3, INT32_MAX}},
        {"<u4", 4, {0, 65536, 3000000000, UINT32_MAX}},
        {">u4", 4, {0, 65536, 3000000000, UINT32_MAX}},
        {"<i8", 8, {-(INT64_C(1) << 53), -5, (INT64_C(1) << 53) - 1,
                    INT64_C(1) << 53}},
        {">i8", 8, {-(INT64_C(1) << 53), -5, (INT64_C(1) << 53) - 1,
                    INT64_C(1) << 53}},
        {"<u8", 8, {0, 4294967296, (INT64_C(1) << 53) - 1, INT64_C(1) << 53}},
        {">u8", 8, {0, 4294967296, (INT64_C(1) << 53) - 1, INT64_C(1) << 53}},
        {"<u1", 1, {0, 1, 128, 255}}, /* byte order means nothing at 1 byte */
        {">i1", 1, {-128, -1, 0, 127}},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        unsigned char buf[4 * 8];
        for (int i = 0; i < 4; i++)
            put_uint(buf + i * cases[k].size, (uint64_t)cases[k].v[i],
                     cases[k].size, cases[k].descr[0] == '>');
        char dict[128];
        snprintf(dict, sizeof dict,
                 "{'descr': '%s', 'fortran_order': False, 'shape': (4,), }",
                 cases[k].descr);
        make_npy("int.npy", 1, dict, buf, 4 * cases[k].size, 0);
        sb_npy a;
        read_ok("int.npy", 1, &a);
        assert_string_equal(a.dtype, cases[k].descr);
        assert_int_equal(a.integer, 1);
        assert_int_equal(a.shape[0], 4);
        for (int i = 0; i < 4; i++)
            if (a.data[i] != (double)cases[k].v[i]) {
                print_error("%s value %d: read %.17g, wrote %lld\n",
                            cases[k].descr, i, a.data[i],
                            (long long)cases[k].v[i]);
                fail();
            }
        sb_npy_free(&a);
    }
}

static void test_big_endian(void **state)
{
    (void)state;
    unsigned char be[6 * 8];
    for (int i = 0; i < 6; i++) {
        uint64_t u;
        memcpy(&u, &NUMPY_2X3_VALUES[i], 8);
        put_uint(be + 8 * i, u, 8, 1);
    }
    make_npy("be.npy", 1,
             "{'descr': '>f8', 'fortran_order': False, 'shape': (2, 3), }",
             be, sizeof be, 0);
    sb_npy a;
    read_ok("be.npy", 2, &a);
    assert_string_equal(a.dtype, ">f8");
    assert_int_equal(a.integer, 0);
    assert_memory_equal(a.data, NUMPY_2X3_VALUES, sizeof NUMPY_2X3_VALUES);
    sb_npy_free(&a);

    const float f[3] = {0.1f, -3.5f, 1e-40f};
    unsigned char bf[3 * 4];
    for (int i = 0; i < 3; i++) {
        uint32_t u;
        memcpy(&u, &f[i], 4);
        put_uint(bf + 4 * i, u, 4, 1);
    }
    make_npy("bef4.npy", 1,
             "{'descr': '>f4', 'fortran_order': False, 'shape': (3,), }", bf,
             sizeof bf, 0);
    read_ok("bef4.npy", 1, &a);
    assert_string_equal(a.dtype, ">f4");
    for (int i = 0; i < 3; i++)
        assert_true(a.data[i] == (double)f[i]);
    sb_npy_free(&a);
}

/* '=' is the host's order, which is little-endian wherever saebench builds. */
static void test_native_order(void **state)
{
    (void)state;
    make_npy("eq.npy", 1,
             "{'descr': '=f8', 'fortran_order': False, 'shape': (2, 3), }",
             NUMPY_2X3_VALUES, 48, 0);
    sb_npy a;
    read_ok("eq.npy", 2, &a);
    assert_string_equal(a.dtype, "=f8");
    assert_memory_equal(a.data, NUMPY_2X3_VALUES, sizeof NUMPY_2X3_VALUES);
    sb_npy_free(&a);
    const int32_t iv[3] = {-7, 0, 123456789};
    make_npy("eqi.npy", 1,
             "{'descr': '=i4', 'fortran_order': False, 'shape': (3,), }", iv,
             sizeof iv, 0);
    read_ok("eqi.npy", 1, &a);
    assert_string_equal(a.dtype, "=i4");
    assert_int_equal(a.integer, 1);
    assert_true(a.data[0] == -7 && a.data[1] == 0 && a.data[2] == 123456789);
    sb_npy_free(&a);
}

static void test_write3_roundtrip(void **state)
{
    (void)state;
    double v[2 * 1 * 3] = {0.1, -0.0, DBL_MAX, -DBL_TRUE_MIN, 5, 6};
    char p[512];
    tpath(p, sizeof p, "w3.npy");
    sb_err err = {{0}};
    assert_int_equal(sb_npy_write3(p, v, 2, 1, 3, &err), SB_OK);
    unsigned char buf[256];
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_int_equal(n, 128 + sizeof v);
    assert_memory_equal(buf + 10,
                        "{'descr': '<f8', 'fortran_order': False, "
                        "'shape': (2, 1, 3), }",
                        62);
    sb_npy a;
    read_ok("w3.npy", 3, &a);
    assert_int_equal(a.shape[0], 2);
    assert_int_equal(a.shape[1], 1);
    assert_int_equal(a.shape[2], 3);
    assert_memory_equal(a.data, v, sizeof v);
    sb_npy_free(&a);
    assert_int_equal(sb_npy_write3(p, v, 2, 0, 3, &err), SB_E_INPUT);
    assert_contains(err.msg, "invalid shape (2, 0, 3)");
    assert_int_equal(sb_npy_write3(p, v, INT64_MAX, 2, 2, &err), SB_E_INPUT);
    assert_contains(err.msg, "too large");
    assert_int_equal(count_tmp_files(), 0);
}

/* ---- rejections -------------------------------------------------------- */

static void test_reject_unsupported_dtypes(void **state)
{
    (void)state;
    static const struct { const char *descr, *what; } cases[] = {
        {"|b1", "(bool)"},          {"<f2", "(float16)"},
        {">f2", "(float16)"},       {"<f16", "(long double)"},
        {"<c8", "(complex)"},       {"<c16", "(complex)"},
        {">c16", "(complex)"},      {"|S5", "(byte string)"},
        {"<U3", "(unicode string)"}, {"|O", "(Python object)"},
        {"|V16", "(raw bytes)"},    {"<M8[ns]", "(datetime)"},
        {"<m8[s]", "(timedelta)"},  {"f8", "not supported"},
        {"<i3", "not supported"},   {"<i16", "not supported"},
        {"<f8 ", "not supported"},  {"", "not supported"},
        {">f12", "(long double)"},  {"<f3", "not supported"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char dict[128], word[32];
        snprintf(dict, sizeof dict,
                 "{'descr': '%s', 'fortran_order': False, 'shape': (2, 3), }",
                 cases[i].descr);
        make_npy("dt.npy", 1, dict, SIX, 48, 0);
        snprintf(word, sizeof word, "dtype '%s'", cases[i].descr);
        expect_reject("dt.npy", 2, word, cases[i].what);
        expect_reject("dt.npy", 2, "not supported",
                      "np.save(path, a.astype(np.float64))");
    }
    /* '|' (no byte order) only makes sense for 1-byte types. */
    make_npy("bar.npy", 1,
             "{'descr': '|f8', 'fortran_order': False, 'shape': (2, 3), }",
             SIX, 48, 0);
    expect_reject("bar.npy", 2, "dtype '|f8'", "only for 1-byte types");
    make_npy("bar2.npy", 1,
             "{'descr': '|i4', 'fortran_order': False, 'shape': (2, 3), }",
             SIX, 24, 0);
    expect_reject("bar2.npy", 2, "dtype '|i4'", "astype(np.float64)");
}

static void test_reject_structured_dtype(void **state)
{
    (void)state;
    make_npy("rec.npy", 1,
             "{'descr': [('a', '<f8')], 'fortran_order': False, "
             "'shape': (2, 3), }",
             SIX, 48, 0);
    expect_reject("rec.npy", 2, "dtype", "structured");
    expect_reject("rec.npy", 2, "not supported", "astype(np.float64)");
}

/* 8-byte integers beyond 2^53 have no exact float64: refused by first index
 * in C order, whatever the file's order. */
static void test_reject_inexact_integers(void **state)
{
    (void)state;
    static const struct {
        const char *descr;
        uint64_t bits;
        const char *text;
    } cases[] = {
        {"<i8", (UINT64_C(1) << 53) + 1, "integer 9007199254740993 at"},
        {">i8", (UINT64_C(1) << 53) + 1, "integer 9007199254740993 at"},
        {"<i8", (uint64_t)(-(INT64_C(1) << 53) - 1),
         "integer -9007199254740993 at"},
        {"<i8", UINT64_C(1) << 63, "integer -9223372036854775808 at"},
        {"<i8", (uint64_t)INT64_MAX, "integer 9223372036854775807 at"},
        {"<u8", (UINT64_C(1) << 53) + 1, "integer 9007199254740993 at"},
        {">u8", UINT64_MAX, "integer 18446744073709551615 at"},
        /* Even where the double happens to be exact (2^53 + 2), for one
         * simple rule. */
        {"<u8", (UINT64_C(1) << 53) + 2, "integer 9007199254740994 at"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        unsigned char buf[6 * 8];
        for (int i = 0; i < 6; i++)
            put_uint(buf + 8 * i, i == 4 ? cases[k].bits : (uint64_t)i, 8,
                     cases[k].descr[0] == '>');
        char dict[128];
        snprintf(dict, sizeof dict,
                 "{'descr': '%s', 'fortran_order': False, 'shape': (2, 3), }",
                 cases[k].descr);
        make_npy("i8.npy", 1, dict, buf, sizeof buf, 0);
        expect_reject("i8.npy", 2, cases[k].text, "index 4 (row 1, col 1)");
        expect_reject("i8.npy", 2, "2^53", "astype(np.float64)");
    }

    /* Two bad values: the first in C order is named, also when the file is
     * in Fortran order, where it comes second. (2, 2, 2): C index 1 is
     * [0, 0, 1], at Fortran position 4; C index 4 is [1, 0, 0], at 1. */
    int64_t file[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    file[4] = INT64_C(1) << 60;
    file[1] = -(INT64_C(1) << 60);
    make_npy("i8f.npy", 1,
             "{'descr': '<i8', 'fortran_order': True, 'shape': (2, 2, 2), }",
             file, sizeof file, 0);
    expect_reject("i8f.npy", 3, "integer 1152921504606846976",
                  "at index 1 (position [0, 0, 1])");
    make_npy("i8c.npy", 1,
             "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 2, 2), }",
             file, sizeof file, 0);
    expect_reject("i8c.npy", 3, "integer -1152921504606846976",
                  "at index 1 (position [0, 0, 1])");
    make_npy("i8v.npy", 1,
             "{'descr': '<i8', 'fortran_order': False, 'shape': (8,), }",
             file, sizeof file, 0);
    expect_reject("i8v.npy", 1, "-1152921504606846976 at index 1 is", NULL);
}

static void test_reject_4d(void **state)
{
    (void)state;
    make_npy("4d.npy", 1,
             "{'descr': '<f8', 'fortran_order': False, "
             "'shape': (1, 2, 3, 1), }",
             SIX, 48, 0);
    expect_reject("4d.npy", 0, "4-D", "only 1-D, 2-D or 3-D");
    expect_reject("4d.npy", 0, "(1, 2, 3, 1)", NULL);
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
    /* Sizes count the file's dtype, not float64. */
    make_npy("trunc4.npy", 1,
             "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
             SIX, 20, 0);
    expect_reject("trunc4.npy", 2, "truncated",
                  "expected 24 data bytes, found 20");
    /* Cut inside the preamble. */
    write_raw("short.npy", "\x93NUMPY\x01", 7);
    expect_reject("short.npy", 0, "truncated", NULL);
}

static void test_reject_trailing(void **state)
{
    (void)state;
    make_npy("trail.npy", 1, DICT_2X3, SIX, 48, 3);
    expect_reject("trail.npy", 2, "3 trailing bytes", NULL);
    make_npy("trail2.npy", 1,
             "{'descr': '<i2', 'fortran_order': False, 'shape': (3,), }", SIX,
             8, 0);
    expect_reject("trail2.npy", 1, "2 trailing bytes after the 6 data bytes",
                  NULL);
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
    double c3[24];
    for (int i = 0; i < 24; i++)
        c3[i] = i;
    c3[17] = NAN; /* 17 = 1*12 + 1*4 + 1 */
    c3[20] = INFINITY;
    make_npy("nan3.npy", 1,
             "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3, 4), }",
             c3, sizeof c3, 0);
    expect_reject("nan3.npy", 3, "NaN at index 17 (position [1, 1, 1])",
                  NULL);
    const float f[6] = {1, 2, 3, 4, 5, NAN};
    make_npy("nanf4.npy", 1,
             "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", f,
             sizeof f, 0);
    expect_reject("nanf4.npy", 2, "NaN", "index 5 (row 1, col 2)");
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
    /* Named by C-order index: file position 1 of a Fortran (2, 3) array is
     * row 1, col 0; position 2 (row 0, col 1) comes later in the file but
     * first in C order. */
    double fo[6] = {1, -INFINITY, INFINITY, 4, 5, 6};
    make_npy("inff.npy", 1,
             "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", fo,
             sizeof fo, 0);
    expect_reject("inff.npy", 2, "+Inf", "index 1 (row 0, col 1)");
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
    make_npy("z3.npy", 1,
             "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3, 0), }",
             NULL, 0, 0);
    expect_reject("z3.npy", 3, "zero extent", "(2, 3, 0)");
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
    make_npy("big3.npy", 1,
             "{'descr': '<f8', 'fortran_order': False, "
             "'shape': (4294967296, 4294967296, 2), }",
             SIX, 48, 0);
    expect_reject("big3.npy", 3, "overflows", NULL);
    /* The file's float32 bytes fit in size_t, but not the doubles they
     * become. */
    make_npy("big4.npy", 1,
             "{'descr': '<f4', 'fortran_order': False, "
             "'shape': (1152921504606846976, 2), }",
             SIX, 48, 0);
    expect_reject("big4.npy", 2, "overflows", NULL);
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
        cmocka_unit_test(test_numpy_fortran_big_endian_3d),
        cmocka_unit_test(test_numpy_f4),
        cmocka_unit_test(test_f4_exact),
        cmocka_unit_test(test_3d_c_order),
        cmocka_unit_test(test_3d_fortran),
        cmocka_unit_test(test_2d_fortran),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_big_endian),
        cmocka_unit_test(test_native_order),
        cmocka_unit_test(test_write3_roundtrip),
        cmocka_unit_test(test_reject_unsupported_dtypes),
        cmocka_unit_test(test_reject_structured_dtype),
        cmocka_unit_test(test_reject_inexact_integers),
        cmocka_unit_test(test_reject_4d),
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
