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
/* Level of the run-level test (Student t on the log run medians,
 * --run-alpha): see docs/compare.md for the choice. */
#define SB_COMPARE_RUN_ALPHA 0.05
/* --single-run-threshold: with one run a side the between-run noise is
 * unknown, and only a change beyond this (as a ratio, both ways) is claimed. */
#define SB_COMPARE_SINGLE_RUN_THRESHOLD 1.0

/* Two-sided p-value of Student's t with df degrees of freedom (df > 0):
 * p = I_{df/(df+t^2)}(df/2, 1/2), the regularized incomplete beta function
 * by its continued fraction. p = 1 at t = 0, 0 for |t| infinite. */
double sb_t_pvalue(double t, double df);

/* Student's t test with pooled variance of the logs of a (BASE) and b (NEW),
 * every value > 0: xa, xb the means of the logs, df = na + nb - 2,
 * s_pooled^2 = (SS_a + SS_b) / df, and s = max(s_pooled, s_floor) (a floor
 * the caller knows the spread cannot be under), se = s sqrt(1/na + 1/nb),
 * t = (xb - xa) / se (t > 0: b larger). Returns 0 when df < 1. s == 0 with
 * different means gives t = +-inf, p = 0; equal means p = 1. */
typedef struct sb_ttest {
    double mean_a, mean_b; /* means of the logs */
    double s_pooled, s, se, t, df, p;
} sb_ttest;
int sb_t_test_log(const double *a, size_t na, const double *b, size_t nb, double s_floor, sb_ttest *out);

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

typedef enum {
    SB_RULE_SINGLE_RUN,   /* one run a side: within-run evidence, widened by --single-run-threshold */
    SB_RULE_RUNS          /* several runs on a side: the run medians are the evidence */
} sb_cmp_rule;

typedef struct sb_cmp_decision {
    sb_cmp_label label;
    sb_cmp_rule rule;
    size_t runs_base, runs_new; /* measured runs used on each side */
    double center_base, center_new; /* what delta compares: the median (one run) or the
                                       geometric mean of the run medians */
    const char *why;       /* "" or a short reason: "one run per side", "t test does not agree", ... */
    double single_run_threshold; /* the wide threshold applied (single-run rule):
                                    (1 + opts.single_run_threshold)(1 + threshold) - 1; else NaN */
    int t_used;            /* the run-level t test was computed */
    sb_ttest t;
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

typedef struct sb_cmp_opts {
    double max_regression, alpha, run_alpha, single_run_threshold;
} sb_cmp_opts;

/* The rule on sets of runs (docs/compare.md, "The decision rule"): base[0..kb)
 * and cur[0..kn) are the runs of one key on each side (unmeasured runs are
 * skipped).
 *   one measured run a side: sb_compare_decide (within-run band and
 *     Mann-Whitney on the reps); a regression or improvement stands only when
 *     |ln(1 + delta)| > ln(1 + single_run_threshold) + ln(1 + band), else it
 *     is ambiguous ("one run per side").
 *   otherwise (df = runs_base + runs_new - 2 >= 1): delta is the ratio of the
 *     geometric means of the run medians - 1; the between-run spread is
 *     s = max(pooled sd of the log run medians, rms of the runs' rse_median);
 *     band = max(max_regression, e^s - 1); |delta| <= band -> noise; beyond
 *     it, regression / improvement when sb_t_test_log gives p < run_alpha
 *     in delta's direction, else ambiguous. */
void sb_compare_decide_runs(const sb_cmp_side *base, size_t kb, const sb_cmp_side *cur, size_t kn,
                            const sb_cmp_opts *o, sb_cmp_decision *d);

/* A verdict's timing as a comparison side. */
sb_cmp_side sb_cmp_side_of(const sb_vtiming *t);

/* The options 'saebench compare' runs with when none is given. */
sb_cmp_opts sb_cmp_opts_default(void);

/* What 'saebench compare BASE NEW' decides for one verdict a side, base and
 * cur of one key (the dashboard's history asks it of consecutive runs): the
 * primary timing's decision, how many gates flipped from pass to fail,
 * whether NEW measured nothing where BASE did, and regression: what makes
 * compare exit 1 for the pair (a regression label, a flipped gate, or a lost
 * measurement). SB_E_RUNTIME only when out of memory. */
typedef struct sb_cmp_verdicts {
    sb_cmp_decision timing;
    size_t gates_flipped;
    int lost;
    int regression;
} sb_cmp_verdicts;
sb_rc sb_compare_verdicts(const sb_vrec *base, const sb_vrec *cur, const sb_cmp_opts *o, sb_cmp_verdicts *out,
                          sb_err *err);

#endif
