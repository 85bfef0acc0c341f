/* Backend registry. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"

/* Defined only by the test binary saebench-fake (tests/fake/fake_device.c);
 * the shipped saebench has no such symbol, so no environment variable can
 * put a stand-in behind the name "cuda" there. */
extern const sb_backend *sb_test_device_backend(void) __attribute__((weak));

const sb_backend *sb_backend_by_name(const char *name)
{
    if (strcmp(name, "host") == 0)
        return &sb_host_backend;
    if (strcmp(name, "cuda") == 0) {
        const sb_backend *fake = sb_test_device_backend ? sb_test_device_backend() : NULL;
        return fake ? fake : &sb_cuda_backend;
    }
    return NULL;
}

static int cmp_mhz(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* SM ids are small (below %nsmid, a few hundred at most); an id at or above
 * this is ignored rather than trusted as an index. */
#define SB_CLOCK_MAX_SMID 1024

double sb_sm_clock_mhz(const sb_clock_reading *before, const sb_clock_reading *after, int *nsm)
{
    /* The first block of each reading that ran on an SM speaks for it. */
    static const int none = -1;
    int first_a[SB_CLOCK_MAX_SMID], first_b[SB_CLOCK_MAX_SMID];
    for (int i = 0; i < SB_CLOCK_MAX_SMID; i++)
        first_a[i] = first_b[i] = none;
    for (int i = before->nblocks - 1; i >= 0; i--)
        if (before->smid[i] < SB_CLOCK_MAX_SMID)
            first_a[before->smid[i]] = i;
    for (int i = after->nblocks - 1; i >= 0; i--)
        if (after->smid[i] < SB_CLOCK_MAX_SMID)
            first_b[after->smid[i]] = i;
    double mhz[SB_CLOCK_MAX_BLOCKS];
    int n = 0;
    for (int s = 0; s < SB_CLOCK_MAX_SMID && n < SB_CLOCK_MAX_BLOCKS; s++) {
        if (first_a[s] == none || first_b[s] == none)
            continue;
        int a = first_a[s], b = first_b[s];
        if (after->ns[b] <= before->ns[a] || after->cycles[b] < before->cycles[a])
            continue; /* a timer that did not advance (or a counter that wrapped) says nothing */
        mhz[n++] = (double)(after->cycles[b] - before->cycles[a]) / (double)(after->ns[b] - before->ns[a]) * 1e3;
    }
    if (nsm)
        *nsm = n;
    if (n == 0)
        return NAN;
    qsort(mhz, (size_t)n, sizeof *mhz, cmp_mhz);
    return n % 2 ? mhz[n / 2] : 0.5 * (mhz[n / 2 - 1] + mhz[n / 2]);
}
