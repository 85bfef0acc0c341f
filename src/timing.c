#include "timing.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double sb_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void sb_sleep_s(double s)
{
    if (!(s > 0))
        return;
    struct timespec ts = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Quantile q of sorted[0..n) by linear interpolation (type 7, as numpy). */
static double quantile(const double *sorted, size_t n, double q)
{
    double h = q * (double)(n - 1);
    size_t lo = (size_t)h;
    if (lo + 1 >= n)
        return sorted[n - 1];
    return sorted[lo] + (h - (double)lo) * (sorted[lo + 1] - sorted[lo]);
}

sb_stats sb_stats_of(const double *samples, size_t count)
{
    sb_stats s = {0};
    if (count == 0)
        return s;
    double *sorted = malloc(count * sizeof *sorted);
    double *dev = malloc(count * sizeof *dev);
    if (!sorted || !dev) {
        free(sorted);
        free(dev);
        return s;
    }
    memcpy(sorted, samples, count * sizeof *sorted);
    qsort(sorted, count, sizeof *sorted, cmp_double);
    s.count = count;
    s.min = sorted[0];
    s.max = sorted[count - 1];
    s.median = quantile(sorted, count, 0.5);
    s.q1 = quantile(sorted, count, 0.25);
    s.q3 = quantile(sorted, count, 0.75);
    double mean = 0, var = 0;
    for (size_t i = 0; i < count; i++)
        mean += sorted[i];
    mean /= (double)count;
    for (size_t i = 0; i < count; i++)
        var += (sorted[i] - mean) * (sorted[i] - mean);
    var = count > 1 ? var / (double)(count - 1) : 0;
    for (size_t i = 0; i < count; i++)
        dev[i] = fabs(sorted[i] - s.median);
    qsort(dev, count, sizeof *dev, cmp_double);
    double sigma = 1.4826 * quantile(dev, count, 0.5);
    for (size_t i = 0; i < count; i++)
        s.outliers += fabs(sorted[i] - s.median) > 3.5 * sigma && sigma > 0;
    if (s.median > 0) {
        s.spread = (s.max - s.min) / s.median;
        s.rel_iqr = (s.q3 - s.q1) / s.median;
        s.rse_median = 1.2533 * sigma / sqrt((double)count) / s.median;
    }
    s.rel_stdev = mean > 0 ? sqrt(var) / mean : 0;
    free(sorted);
    free(dev);
    return s;
}

int sb_stats_noisy(const sb_stats *s, double max_noise)
{
    return s->count < 3 || s->rse_median > max_noise || s->rel_iqr > max_noise;
}
