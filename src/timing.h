/* Wall-clock timing and summary statistics over repeated measurements. */
#ifndef SB_TIMING_H
#define SB_TIMING_H

#include <stddef.h>

double sb_now_s(void);   /* CLOCK_MONOTONIC seconds */

typedef struct sb_stats {
    size_t count;
    double median, min, max;
    double spread;   /* (max - min) / median: how much to trust the median */
} sb_stats;

/* Summarise samples (not modified). count 0 gives all zeros. */
sb_stats sb_stats_of(const double *samples, size_t count);

#endif
