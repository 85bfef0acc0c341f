/* What the direct GPU tests (rs_backend_test.c, arrow_backend_test.c) share:
 * one "ok"/"FAIL" line per check with counters, and the relative error they
 * compare device results by. Header-only: each test is one translation unit. */
#ifndef SB_GPU_CHECK_H
#define SB_GPU_CHECK_H

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

static int g_pass, g_fail;

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

#endif
