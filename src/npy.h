/* Reading and writing .npy files (NumPy format 1.0/2.0/3.0), float64 only.
 * saebench accepts little-endian float64 ('<f8'), C order, nothing else. */
#ifndef SB_NPY_H
#define SB_NPY_H

#include <stdint.h>

#include "common.h"

typedef struct sb_npy {
    int ndim;            /* 1 or 2 */
    int64_t shape[2];    /* shape[1] == 1 when ndim == 1 */
    double *data;        /* ndim==1: shape[0] values; ndim==2: row-major */
} sb_npy;

/* Read path into out. expect_ndim: 1 or 2 (0: either). Rejects, with one
 * clear line in err and SB_E_INPUT: unreadable file, bad magic, unsupported
 * version, malformed header dict, dtype other than '<f8', fortran_order
 * True, wrong ndim, zero or negative extent, size overflow, truncated data,
 * trailing bytes, NaN/Inf values (names the first bad index). */
sb_rc sb_npy_read(const char *path, int expect_ndim, sb_npy *out, sb_err *err);

/* Write a 1-D (cols==0) or 2-D float64 array, format 1.0, '<f8', C order.
 * Writes to "path.tmp.XXXXXX" beside path and renames on success, so a failed
 * write leaves no file. SB_E_INPUT when the path is unwritable. */
sb_rc sb_npy_write(const char *path, const double *data, int64_t rows,
                   int64_t cols, sb_err *err);

void sb_npy_free(sb_npy *a);

#endif
