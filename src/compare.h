/* The decision rule of 'saebench compare' (docs/compare.md), separate from
 * its printing so that it can be tested on hand-made samples. Implemented in
 * src/cmd_compare.c. */
#ifndef SB_COMPARE_H
#define SB_COMPARE_H

#include <stddef.h>

#include "verdict_read.h"

/* The Mann-Whitney test is used only with at least this many samples a side:
 * below it the normal approximation is poor and, at 5 a side, even two
 * completely separated sets cannot reach p < 0.01. */
#define SB_MW_MIN_SAMPLES 6
#define SB_COMPARE_ALPHA 0.01
#define SB_COMPARE_MAX_REGRESSION 0.05

/* Two-sided Mann-Whitney U test of b against a, normal approximation with
 * the tie correction and a continuity correction of 1/2:
 *   U_b = R_b - n_b(n_b+1)/2 (R_b: sum of b's mid-ranks in the pooled sample),
 *   mu = n_a n_b / 2,
 *   sigma^2 = n_a n_b / 12 * ((N+1) - sum(t^3 - t) / (N(N-1))),  N = n_a + n_b,
 *             t running over the sizes of the groups of tied values,
 *   z = sign(U_b - mu) * max(0, |U_b - mu| - 1/2) / sigma,  p = erfc(|z|/sqrt 2).
 * z > 0 means b tends to be larger. When every value is tied (sigma = 0)
 * z = 0 and p = 1. Returns 0 (and p = 1) when a side is empty. */
typedef struct sb_mw {
    double u_b, mu, sigma, z, p;
} sb_mw;
int sb_mann_whitney(const double *a, size_t na, const double *b, size_t nb, sb_mw *out);

typedef enum {
    SB_CMP_NOISE,         /* |delta| within the threshold */
    SB_CMP_IMPROVEMENT,   /* faster beyond the threshold (and significant) */
    SB_CMP_REGRESSION,    /* slower beyond the threshold (and significant): fails */
    SB_CMP_AMBIGUOUS,     /* beyond the threshold, but the Mann-Whitney test does not agree */
    SB_CMP_NOT_MEASURED   /* a side has no positive finite median */
} sb_cmp_label;

const char *sb_cmp_label_name(sb_cmp_label l);

/* One side of a comparison: a phase's timing. */
typedef struct sb_cmp_side {
    double median_s, rel_iqr, rse_median; /* NaN noise terms count as 0 */
    const double *samples_s;
    size_t nsamples;
} sb_cmp_side;

typedef struct sb_cmp_decision {
    sb_cmp_label label;
    double delta;          /* median_new / median_base - 1: slower is positive */
    double threshold;      /* max(max_regression, rel_iqr x2 sides, 2 rse_median x2 sides) */
    const char *threshold_from; /* which term set it: "max-regression", "base rel_iqr", ... */
    int mw_used;           /* both sides had >= SB_MW_MIN_SAMPLES samples */
    sb_mw mw;
} sb_cmp_decision;

/* The rule (docs/compare.md):
 *   delta = median_new / median_base - 1
 *   thr   = max(max_regression, base.rel_iqr, new.rel_iqr, 2 base.rse_median, 2 new.rse_median)
 *   |delta| <= thr                     -> noise
 *   delta > thr  (new slower)          -> regression, or ambiguous when mw_used and the
 *                                         test does not give p < alpha with z > 0
 *   delta < -thr (new faster)          -> improvement, or ambiguous when mw_used and the
 *                                         test does not give p < alpha with z < 0 */
void sb_compare_decide(const sb_cmp_side *base, const sb_cmp_side *cur, double max_regression,
                       double alpha, sb_cmp_decision *d);

/* A verdict's timing as a comparison side. */
sb_cmp_side sb_cmp_side_of(const sb_vtiming *t);

#endif
