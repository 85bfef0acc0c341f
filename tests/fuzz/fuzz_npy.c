/* libFuzzer harness for the .npy reader (src/npy.c: sb_npy_read).
 *
 * Every input is a whole file. On failure the reader must say why; on success
 * the array must satisfy the contract in npy.h (1-D or 2-D, positive extents,
 * finite values) and the ndim filter must agree with what was read. */
#include <math.h>

#include "fuzz_input.h"
#include "npy.h"

static void check_array(const sb_npy *a)
{
    FUZZ_CHECK(a->ndim == 1 || a->ndim == 2, "ndim %d", a->ndim);
    FUZZ_CHECK(a->shape[0] > 0 && a->shape[1] > 0, "extent %lld x %lld",
               (long long)a->shape[0], (long long)a->shape[1]);
    FUZZ_CHECK(a->ndim == 2 || a->shape[1] == 1, "1-D array with shape[1] %lld",
               (long long)a->shape[1]);
    FUZZ_CHECK(a->data != NULL, "success without data");
    size_t count = (size_t)a->shape[0] * (size_t)a->shape[1];
    for (size_t i = 0; i < count; i++)
        FUZZ_CHECK(isfinite(a->data[i]), "non-finite value at %zu accepted", i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_input_path(data, size);
    sb_npy a = {0};
    sb_err err = {{0}};
    sb_rc rc = sb_npy_read(path, 0, &a, &err);
    if (rc != SB_OK) {
        fuzz_check_message(err.msg);
        FUZZ_CHECK(a.data == NULL, "failed read left data behind");
        return 0;
    }
    check_array(&a);

    /* Asking for the ndim just read must give the same array; asking for the
     * other must be refused. */
    int other = a.ndim == 1 ? 2 : 1;
    sb_npy same = {0}, wrong = {0};
    err.msg[0] = '\0';
    FUZZ_CHECK(sb_npy_read(path, a.ndim, &same, &err) == SB_OK,
               "expect_ndim=%d refused a %d-D file: %s", a.ndim, a.ndim, err.msg);
    FUZZ_CHECK(same.ndim == a.ndim && same.shape[0] == a.shape[0] &&
                   same.shape[1] == a.shape[1] &&
                   memcmp(same.data, a.data,
                          (size_t)a.shape[0] * (size_t)a.shape[1] * sizeof(double)) == 0,
               "second read differs");
    err.msg[0] = '\0';
    FUZZ_CHECK(sb_npy_read(path, other, &wrong, &err) == SB_E_INPUT,
               "expect_ndim=%d accepted a %d-D file", other, a.ndim);
    fuzz_check_message(err.msg);

    sb_npy_free(&wrong);
    sb_npy_free(&same);
    sb_npy_free(&a);
    return 0;
}
