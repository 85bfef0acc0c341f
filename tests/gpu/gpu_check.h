/* What the direct GPU tests (rs_backend_test.c, arrow_backend_test.c) and the
 * stand-in's own (fault_test.cpp, paths_test.cpp) share: one "ok"/"FAIL" line
 * per check with counters, the relative error they compare device results by,
 * and the device probe they start with. Header-only: each test is one translation unit. */
#ifndef SB_GPU_CHECK_H
#define SB_GPU_CHECK_H

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#ifndef SB_SIM_CUDA_H /* the block simulation's own counters when a test runs kernels through it */
static int g_pass, g_fail;
#endif

static void check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void check(int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s ", ok ? "ok  " : "FAIL");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    if (ok)
        g_pass++;
    else
        g_fail++;
}

/* max|a − ref| / max|ref| (max|a − ref| when ref is 0); a NaN in a makes it NaN. */
static double rel_err(const double *a, const double *ref, int64_t m)
{
    double d = 0.0, r = 0.0;
    for (int64_t i = 0; i < m; i++) {
        const double e = fabs(a[i] - ref[i]);
        if (!(e <= d))
            d = e;
        r = fmax(r, fabs(ref[i]));
    }
    return r > 0.0 ? d / r : d;
}

/* The last line of a test and its exit status. */
static int check_summary(void)
{
    printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}

#ifdef SB_BACKEND_H
/* The CUDA backend's device, probed: 1, or 0 after a FAIL line and the summary
 * of a test that cannot start (its main returns 1). Needs backend.h first. */
static int check_device(sb_device_info *info)
{
    sb_err why = {{0}};
    if (sb_cuda_backend.probe(info, &why) == SB_OK)
        return 1;
    printf("FAIL probe: %s\n0 passed, 1 failed\n", why.msg);
    return 0;
}
#endif

#endif
