/* libFuzzer harness for the .npy reader (src/npy.c: sb_npy_read).
 *
 * Every input is a whole file. On failure the reader must say why, on one
 * line, and leave out all zero; on success the array must satisfy the
 * contract in npy.h (1-D to 3-D, positive extents with unused ones 1, finite
 * values that the file's dtype can hold, the integer flag matching the
 * dtype) and the ndim filter must agree with what was read. */
#include <math.h>

#include "fuzz_input.h"
#include "npy.h"

static void check_failure(const sb_npy *a, const char *msg)
{
    fuzz_check_message(msg);
    FUZZ_CHECK(strchr(msg, '\n') == NULL, "message of two lines: %s", msg);
    FUZZ_CHECK(a->data == NULL, "failed read left data behind");
    FUZZ_CHECK(a->ndim == 0 && a->dtype[0] == '\0' && a->integer == 0,
               "failed read left fields set");
}

/* Each value is one the file's dtype can hold, so none was rounded or made
 * up on the way to float64. */
static void check_values(const sb_npy *a, size_t count)
{
    char kind = a->dtype[1];
    int size = a->dtype[2] - '0';
    double lo = 0, hi = 0;
    if (kind == 'i') {
        lo = size == 8 ? -0x1p53 : -ldexp(1, 8 * size - 1);
        hi = size == 8 ? 0x1p53 : ldexp(1, 8 * size - 1) - 1;
    } else if (kind == 'u') {
        hi = size == 8 ? 0x1p53 : ldexp(1, 8 * size) - 1;
    }
    for (size_t i = 0; i < count; i++) {
        double v = a->data[i];
        FUZZ_CHECK(isfinite(v), "non-finite value at %zu accepted", i);
        if (kind == 'f' && size == 4)
            FUZZ_CHECK((double)(float)v == v, "'%s' value %a at %zu is no "
                       "float32", a->dtype, v, i);
        if (kind != 'f')
            FUZZ_CHECK(v == trunc(v) && v >= lo && v <= hi,
                       "'%s' value %.17g at %zu out of the type's range",
                       a->dtype, v, i);
    }
}

static void check_array(const sb_npy *a)
{
    FUZZ_CHECK(a->ndim >= 1 && a->ndim <= 3, "ndim %d", a->ndim);
    FUZZ_CHECK(a->data != NULL, "success without data");
    uint64_t count = 1;
    for (int k = 0; k < 3; k++) {
        FUZZ_CHECK(a->shape[k] > 0, "extent %d is %lld", k,
                   (long long)a->shape[k]);
        FUZZ_CHECK(k < a->ndim || a->shape[k] == 1,
                   "%d-D array with shape[%d] %lld", a->ndim, k,
                   (long long)a->shape[k]);
        FUZZ_CHECK(count <= SIZE_MAX / 8 / (uint64_t)a->shape[k],
                   "accepted a shape whose doubles overflow size_t");
        count *= (uint64_t)a->shape[k];
    }
    FUZZ_CHECK(sb_npy_count(a) == (int64_t)count, "sb_npy_count %lld, not %llu",
               (long long)sb_npy_count(a), (unsigned long long)count);

    const char *d = a->dtype;
    FUZZ_CHECK(strlen(d) == 3 && strchr("<>=|", d[0]) && strchr("fiu", d[1]),
               "dtype '%s'", d);
    int size = d[2] - '0';
    FUZZ_CHECK(d[1] == 'f' ? size == 4 || size == 8
                           : size == 1 || size == 2 || size == 4 || size == 8,
               "dtype '%s' has an unsupported size", d);
    FUZZ_CHECK(d[0] != '|' || size == 1, "dtype '%s' accepted", d);
    FUZZ_CHECK(a->integer == (d[1] != 'f'), "integer %d for dtype '%s'",
               a->integer, d);
    check_values(a, (size_t)count);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_input_path(data, size);
    sb_npy a = {0};
    sb_err err = {{0}};
    sb_rc rc = sb_npy_read(path, 0, &a, &err);
    if (rc != SB_OK) {
        check_failure(&a, err.msg);
        return 0;
    }
    check_array(&a);

    /* Asking for the ndim just read must give the same array; asking for
     * either other must be refused. */
    size_t nbytes = (size_t)sb_npy_count(&a) * sizeof(double);
    sb_npy same = {0};
    err.msg[0] = '\0';
    FUZZ_CHECK(sb_npy_read(path, a.ndim, &same, &err) == SB_OK,
               "expect_ndim=%d refused a %d-D file: %s", a.ndim, a.ndim, err.msg);
    FUZZ_CHECK(same.ndim == a.ndim &&
                   memcmp(same.shape, a.shape, sizeof a.shape) == 0 &&
                   strcmp(same.dtype, a.dtype) == 0 &&
                   same.integer == a.integer &&
                   memcmp(same.data, a.data, nbytes) == 0,
               "second read differs");
    for (int other = 1; other <= 3; other++) {
        if (other == a.ndim)
            continue;
        sb_npy wrong = {0};
        err.msg[0] = '\0';
        FUZZ_CHECK(sb_npy_read(path, other, &wrong, &err) == SB_E_INPUT,
                   "expect_ndim=%d accepted a %d-D file", other, a.ndim);
        check_failure(&wrong, err.msg);
    }

    sb_npy_free(&same);
    sb_npy_free(&a);
    return 0;
}
