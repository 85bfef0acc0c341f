/* The host backend: its probe (always usable), its calibration (the measured
 * ceilings of this machine) and its table. Each workload's host operations
 * are in their own file: host_rs.c, host_arrow.c, host_encode.c. */
#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "../arrow.h"
#include "../backend.h"
#include "../encode_ops.h"
#include "../timing.h"
#include "host_rs.h"

static sb_rc host_probe(sb_device_info *info, sb_err *why)
{
    (void)info;
    (void)why;
    return SB_OK;
}

/* Host ceilings: a threaded DGEMM of size 2048 and a 256 MiB memcpy, the
 * fastest of four repeats each after one untimed; both on non-zero data. A
 * ceiling is the fastest the machine was seen to go: noise (a loaded or
 * shared machine) only slows a repeat, so a median understated it and let
 * an honest run look faster than its bound (seen here: 55 vs 102 GFLOP/s
 * from one run to the next on a 2-core VM). */
static sb_rc host_calibrate(sb_ceilings *out, sb_err *err)
{
    const int N = 2048;
    const size_t copy_n = (size_t)32 << 20; /* doubles: 256 MiB */
    double *a = sb_alloc((size_t)N * N, sizeof *a, err);
    double *b = a ? sb_alloc((size_t)N * N, sizeof *b, err) : NULL;
    double *c = b ? sb_alloc((size_t)N * N, sizeof *c, err) : NULL;
    double *src = c ? sb_alloc(copy_n, sizeof *src, err) : NULL;
    double *dst = src ? sb_alloc(copy_n, sizeof *dst, err) : NULL;
    sb_rc rc = SB_OK;
    if (!dst) {
        rc = SB_E_RUNTIME;
        goto done;
    }
    for (size_t k = 0; k < (size_t)N * N; k++) {
        a[k] = 1.0 + (double)(k % 7) * 0.125;
        b[k] = 0.5 - (double)(k % 5) * 0.0625;
    }
    for (size_t k = 0; k < copy_n; k++)
        src[k] = (double)(k & 1023);
    double best[5];
    for (int r = 0; r < 5; r++) {
        double t0 = sb_now_s();
        cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, N, N, N, 1.0, a, N, b, N, 0.0, c, N);
        best[r] = sb_now_s() - t0;
    }
    const double g = sb_stats_of(best + 1, 4).min;
    for (int r = 0; r < 5; r++) {
        double t0 = sb_now_s();
        memcpy(dst, src, copy_n * sizeof *src);
        best[r] = sb_now_s() - t0;
    }
    const double m = sb_stats_of(best + 1, 4).min;
    out->dgemm_n = N;
    out->fp64_flops = 2.0 * N * (double)N * N / g;
    out->copy_bytes = (double)(copy_n * sizeof *src);
    out->mem_bw = 2.0 * out->copy_bytes / m;
done:
    free(a);
    free(b);
    free(c);
    free(src);
    free(dst);
    return rc;
}

const sb_backend sb_host_backend = {
    .name = "host",
    .is_device = 0,
    .probe = host_probe,
    .calibrate = host_calibrate,
    .resident_solve = &sb_host_rs_ops,
    .arrow = &sb_host_arrow_ops,
    .encode = &sb_host_encode_ops,
};
