/* Wall-clock timing and summary statistics over repeated measurements. */
#ifndef SB_TIMING_H
#define SB_TIMING_H

#include <stddef.h>

double sb_now_s(void);   /* CLOCK_MONOTONIC seconds */
void sb_sleep_s(double s); /* sleep s seconds (≤ 0: return at once) */

typedef struct sb_stats {
    size_t count;
    double median, min, max;
    double q1, q3;        /* quartiles (linear interpolation between order statistics) */
    double spread;        /* (max - min) / median: the whole range, one outlier sets it */
    double rel_iqr;       /* (q3 - q1) / median */
    double rel_stdev;     /* sample standard deviation / mean */
    /* Relative standard error of the median: 1.2533 · 1.4826·MAD / √count / median.
     * 1.4826·MAD estimates σ robustly (one slow rep barely moves it), and the
     * median of n draws has standard error ≈ 1.2533·σ/√n (normal model). */
    double rse_median;
    size_t outliers;      /* samples with |x − median| > 3.5 · 1.4826·MAD */
} sb_stats;

/* Summarise samples (not modified). count 0 gives all zeros. */
sb_stats sb_stats_of(const double *samples, size_t count);

/* The noise criterion: the run is noisy when the median's relative standard
 * error or the relative interquartile range exceeds max_noise (a fraction).
 * Fewer than 3 samples cannot show their noise and count as noisy. */
int sb_stats_noisy(const sb_stats *s, double max_noise);

#endif
