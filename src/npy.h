/* Reading and writing .npy files (NumPy format 1.0/2.0/3.0).
 * The reader takes what np.save writes for real or integer arrays of 1 to 3
 * dimensions and converts every value to float64 exactly, or refuses the file
 * with one line; the writer writes little-endian float64 ('<f8'), C order. */
#ifndef SB_NPY_H
#define SB_NPY_H

#include <stdint.h>

#include "common.h"

typedef struct sb_npy {
    int ndim;            /* 1, 2 or 3 */
    int64_t shape[3];    /* extents; unused trailing extents are 1 (so shape[1] == 1 when ndim == 1, as today) */
    double *data;        /* every value converted to float64, row-major (C order) */
    char dtype[8];       /* the file's descr as written, NUL-terminated, e.g. "<f8", "<f4", ">i8", "|u1" */
    int integer;         /* 1 when the file held an integer dtype */
} sb_npy;

/* Read path into out. expect_ndim: 1, 2 or 3 to require exactly that many
 * dimensions; 0 accepts any of 1..3.
 *
 * Accepted dtypes, each converted to float64 exactly: float64 and float32
 * ('f8', 'f4'), and signed or unsigned integers of 1, 2, 4 or 8 bytes ('i1'
 * .. 'u8'); byte order '<' (little-endian), '>' (big-endian, byte-swapped),
 * '=' (native, which is little-endian here) or '|' (1-byte types only).
 * fortran_order True is reordered to C order.
 *
 * Rejects, with one clear line in err and SB_E_INPUT (out is then all zero):
 * unreadable file, bad magic, unsupported version, malformed header dict,
 * any other dtype (bool, float16, complex, strings, objects, structured,
 * datetime: the message says how to save the array instead), wrong ndim or
 * more than 3 dimensions, zero or negative extent, size overflow, truncated
 * data, trailing bytes, NaN/Inf values, and 8-byte integers of magnitude
 * above 2^53, which have no exact float64 (both name the first bad index). */
sb_rc sb_npy_read(const char *path, int expect_ndim, sb_npy *out, sb_err *err);

/* Number of values in a: the product of its extents (0 for a freed array). */
int64_t sb_npy_count(const sb_npy *a);

/* Write a 1-D (cols==0) or 2-D float64 array, format 1.0, '<f8', C order.
 * Writes to "path.tmp.XXXXXX" beside path and renames on success, so a failed
 * write leaves no file. SB_E_INPUT when the path is unwritable. */
sb_rc sb_npy_write(const char *path, const double *data, int64_t rows,
                   int64_t cols, sb_err *err);

/* Write a 3-D d0 x d1 x d2 float64 array (C order), as sb_npy_write does. */
sb_rc sb_npy_write3(const char *path, const double *data, int64_t d0,
                    int64_t d1, int64_t d2, sb_err *err);

void sb_npy_free(sb_npy *a);

#endif
