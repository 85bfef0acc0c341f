#include "timing.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

double sb_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

sb_stats sb_stats_of(const double *samples, size_t count)
{
    sb_stats s = {0};
    if (count == 0)
        return s;
    double *sorted = malloc(count * sizeof *sorted);
    if (!sorted)
        return s;
    memcpy(sorted, samples, count * sizeof *sorted);
    qsort(sorted, count, sizeof *sorted, cmp_double);
    s.count = count;
    s.min = sorted[0];
    s.max = sorted[count - 1];
    s.median = (count % 2) ? sorted[count / 2]
                           : 0.5 * (sorted[count / 2 - 1] + sorted[count / 2]);
    s.spread = s.median > 0 ? (s.max - s.min) / s.median : 0.0;
    free(sorted);
    return s;
}
