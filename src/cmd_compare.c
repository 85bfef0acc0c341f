/* saebench compare BASE NEW: the regression gate between two sets of
 * verdicts (files or directories). The rule is in docs/compare.md and in
 * compare.h; this file has the rule (sb_compare_decide, the Mann-Whitney
 * test), the matching of verdicts and the two printers. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "common.h"
#include "compare.h"
#include "verdict.h"
#include "verdict_read.h"

/* ------------------------------------------------------------ the rule */

typedef struct ranked {
    double x;
    int from_b;
} ranked;

static int by_value(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;
    return (a->x > b->x) - (a->x < b->x);
}

int sb_mann_whitney(const double *a, size_t na, const double *b, size_t nb, sb_mw *out)
{
    memset(out, 0, sizeof *out);
    out->p = 1.0;
    if (na == 0 || nb == 0)
        return 0;
    size_t n = na + nb;
    ranked *r = malloc(n * sizeof *r);
    if (!r)
        return 0;
    for (size_t i = 0; i < na; i++)
        r[i] = (ranked){a[i], 0};
    for (size_t i = 0; i < nb; i++)
        r[na + i] = (ranked){b[i], 1};
    qsort(r, n, sizeof *r, by_value);
    /* Mid-ranks: a group of t tied values at 1-based ranks i+1..i+t each gets
     * their mean, and adds t^3 - t to the tie term of the variance. */
    double rank_b = 0, ties = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && r[j].x == r[i].x)
            j++;
        double t = (double)(j - i), mid = (double)(i + 1 + j) / 2.0;
        for (size_t k = i; k < j; k++)
            if (r[k].from_b)
                rank_b += mid;
        ties += t * t * t - t;
        i = j;
    }
    free(r);
    double dna = (double)na, dnb = (double)nb, dn = (double)n;
    out->u_b = rank_b - dnb * (dnb + 1) / 2;
    out->mu = dna * dnb / 2;
    double var = dna * dnb / 12.0 * ((dn + 1) - ties / (dn * (dn - 1)));
    out->sigma = var > 0 ? sqrt(var) : 0;
    if (!(out->sigma > 0)) {
        out->z = 0;
        out->p = 1;
        return 1;
    }
    double dev = out->u_b - out->mu;
    double mag = fabs(dev) - 0.5;
    if (mag < 0)
        mag = 0;
    out->z = (dev < 0 ? -mag : mag) / out->sigma;
    out->p = erfc(fabs(out->z) / sqrt(2.0));
    if (out->p > 1)
        out->p = 1;
    return 1;
}

const char *sb_cmp_label_name(sb_cmp_label l)
{
    switch (l) {
    case SB_CMP_NOISE: return "noise";
    case SB_CMP_IMPROVEMENT: return "improvement";
    case SB_CMP_REGRESSION: return "regression";
    case SB_CMP_AMBIGUOUS: return "ambiguous";
    default: return "not-measured";
    }
}

static int measured(double median_s) { return isfinite(median_s) && median_s > 0; }

/* One step of the modified Lentz algorithm with partial numerator aa:
 * updates c and d and returns the factor the continued fraction takes. */
static double lentz_step(double aa, double *c, double *d)
{
    const double tiny = 1e-300;
    *d = 1 + aa * *d;
    if (fabs(*d) < tiny)
        *d = tiny;
    *c = 1 + aa / *c;
    if (fabs(*c) < tiny)
        *c = tiny;
    *d = 1 / *d;
    return *d * *c;
}

/* Continued fraction of the incomplete beta function (modified Lentz), as in
 * Numerical Recipes' betacf; converges fast for x < (a+1)/(a+b+2). */
static double betacf(double a, double b, double x)
{
    const double eps = 1e-15, tiny = 1e-300;
    double qab = a + b, qap = a + 1, qam = a - 1, c = 1, d = 1 - qab * x / qap;
    if (fabs(d) < tiny)
        d = tiny;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= 500; m++) {
        double m2 = 2.0 * m;
        h *= lentz_step(m * (b - m) * x / ((qam + m2) * (a + m2)), &c, &d);
        double del = lentz_step(-(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)), &c, &d);
        h *= del;
        if (fabs(del - 1) < eps)
            break;
    }
    return h;
}

/* The regularized incomplete beta function I_x(a, b). */
static double betai(double a, double b, double x)
{
    if (x <= 0)
        return 0;
    if (x >= 1)
        return 1;
    double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
    if (x < (a + 1) / (a + b + 2))
        return exp(lbt) * betacf(a, b, x) / a;
    return 1 - exp(lbt) * betacf(b, a, 1 - x) / b;
}

double sb_t_pvalue(double t, double df)
{
    if (!(df > 0) || isnan(t))
        return 1;
    if (isinf(t))
        return 0;
    double p = betai(df / 2, 0.5, df / (df + t * t));
    return p < 0 ? 0 : p > 1 ? 1 : p;
}

int sb_t_test_log(const double *a, size_t na, const double *b, size_t nb, double s_floor, sb_ttest *out)
{
    memset(out, 0, sizeof *out);
    out->p = 1;
    if (na == 0 || nb == 0 || na + nb < 3)
        return 0;
    double ma = 0, mb = 0, ss = 0;
    for (size_t i = 0; i < na; i++)
        ma += log(a[i]);
    for (size_t i = 0; i < nb; i++)
        mb += log(b[i]);
    ma /= (double)na;
    mb /= (double)nb;
    for (size_t i = 0; i < na; i++)
        ss += (log(a[i]) - ma) * (log(a[i]) - ma);
    for (size_t i = 0; i < nb; i++)
        ss += (log(b[i]) - mb) * (log(b[i]) - mb);
    out->mean_a = ma;
    out->mean_b = mb;
    out->df = (double)(na + nb - 2);
    out->s_pooled = sqrt(ss / out->df);
    out->s = isfinite(s_floor) && s_floor > out->s_pooled ? s_floor : out->s_pooled;
    out->se = out->s * sqrt(1.0 / (double)na + 1.0 / (double)nb);
    double diff = mb - ma;
    if (out->se > 0)
        out->t = diff / out->se;
    else
        out->t = diff > 0 ? INFINITY : diff < 0 ? -INFINITY : 0;
    out->p = sb_t_pvalue(out->t, out->df);
    return 1;
}

void sb_compare_decide(const sb_cmp_side *base, const sb_cmp_side *cur, double max_regression,
                       double alpha, sb_cmp_decision *d)
{
    memset(d, 0, sizeof *d);
    d->mw.p = 1;
    d->t.p = 1;
    d->delta = d->threshold = d->single_run_threshold = NAN;
    d->threshold_from = "";
    d->why = "";
    d->rule = SB_RULE_SINGLE_RUN;
    d->center_base = base->median_s;
    d->center_new = cur->median_s;
    d->runs_base = measured(base->median_s);
    d->runs_new = measured(cur->median_s);
    if (!measured(base->median_s) || !measured(cur->median_s)) {
        d->label = SB_CMP_NOT_MEASURED;
        return;
    }
    d->delta = cur->median_s / base->median_s - 1.0;
    /* The runs' own noise widens the band: a change smaller than either run's
     * interquartile spread, or than two standard errors of either median,
     * is not distinguishable from the noise that run already showed. */
    const struct { double v; const char *from; } terms[] = {
        {max_regression, "max-regression"},
        {base->rel_iqr, "BASE rel_iqr"},
        {cur->rel_iqr, "NEW rel_iqr"},
        {2 * base->rse_median, "2 x BASE rse_median"},
        {2 * cur->rse_median, "2 x NEW rse_median"},
    };
    d->threshold = 0;
    d->threshold_from = "max-regression";
    for (size_t k = 0; k < sizeof terms / sizeof terms[0]; k++)
        if (isfinite(terms[k].v) && terms[k].v > d->threshold) {
            d->threshold = terms[k].v;
            d->threshold_from = terms[k].from;
        }
    d->mw_used = base->samples_s && cur->samples_s && base->nsamples >= SB_MW_MIN_SAMPLES &&
                 cur->nsamples >= SB_MW_MIN_SAMPLES &&
                 sb_mann_whitney(base->samples_s, base->nsamples, cur->samples_s, cur->nsamples, &d->mw);
    if (fabs(d->delta) <= d->threshold) {
        d->label = SB_CMP_NOISE;
        return;
    }
    int slower = d->delta > 0;
    int agrees = !d->mw_used || (d->mw.p < alpha && (slower ? d->mw.z > 0 : d->mw.z < 0));
    d->label = !agrees ? SB_CMP_AMBIGUOUS : slower ? SB_CMP_REGRESSION : SB_CMP_IMPROVEMENT;
    if (!agrees)
        d->why = "Mann-Whitney does not agree";
}

void sb_compare_decide_runs(const sb_cmp_side *base, size_t kb, const sb_cmp_side *cur, size_t kn,
                            const sb_cmp_opts *o, sb_cmp_decision *d)
{
    /* The measured runs of each side. */
    size_t mb = 0, mn = 0, ib = 0, in = 0;
    for (size_t i = 0; i < kb; i++)
        if (measured(base[i].median_s)) {
            if (!mb++)
                ib = i;
        }
    for (size_t i = 0; i < kn; i++)
        if (measured(cur[i].median_s)) {
            if (!mn++)
                in = i;
        }
    if (mb <= 1 && mn <= 1) {
        static const sb_cmp_side none = {NAN, NAN, NAN, NULL, 0};
        sb_compare_decide(mb ? &base[ib] : &none, mn ? &cur[in] : &none, o->max_regression, o->alpha, d);
        if (d->label == SB_CMP_NOT_MEASURED)
            return;
        /* One run a side: the within-run evidence cannot see drift between
         * runs, so only a change beyond the wide threshold is claimed. */
        /* The wide threshold is the drift between runs on a quiet machine;
         * the runs' own band (their spread) shows how far from quiet the
         * machine was, and is added on top, in log terms:
         * 1 + thr = (1 + single_run_threshold)(1 + band). */
        d->single_run_threshold = expm1(log1p(o->single_run_threshold) + log1p(d->threshold));
        double lr = log1p(d->delta), lw = log1p(d->single_run_threshold);
        if ((d->label == SB_CMP_REGRESSION && !(lr > lw)) || (d->label == SB_CMP_IMPROVEMENT && !(lr < -lw))) {
            d->label = SB_CMP_AMBIGUOUS;
            d->why = "one run per side";
        }
        return;
    }
    memset(d, 0, sizeof *d);
    d->mw.p = 1;
    d->t.p = 1;
    d->rule = SB_RULE_RUNS;
    d->delta = d->threshold = d->single_run_threshold = NAN;
    d->center_base = d->center_new = NAN;
    d->threshold_from = "";
    d->why = "";
    d->runs_base = mb;
    d->runs_new = mn;
    if (mb == 0 || mn == 0) {
        d->label = SB_CMP_NOT_MEASURED;
        return;
    }
    double *xb = malloc((mb + mn) * sizeof *xb), *xn = xb ? xb + mb : NULL;
    if (!xb) {
        d->label = SB_CMP_AMBIGUOUS;
        d->why = "out of memory";
        return;
    }
    /* The floor of the between-run spread: a run median has at least its own
     * sampling error, rse_median (root mean square over the runs). */
    double rse2 = 0;
    size_t nrse = 0, k = 0;
    for (size_t i = 0; i < kb; i++)
        if (measured(base[i].median_s)) {
            xb[k++] = base[i].median_s;
            if (isfinite(base[i].rse_median)) {
                rse2 += base[i].rse_median * base[i].rse_median;
                nrse++;
            }
        }
    k = 0;
    for (size_t i = 0; i < kn; i++)
        if (measured(cur[i].median_s)) {
            xn[k++] = cur[i].median_s;
            if (isfinite(cur[i].rse_median)) {
                rse2 += cur[i].rse_median * cur[i].rse_median;
                nrse++;
            }
        }
    double floor_s = nrse ? sqrt(rse2 / (double)nrse) : 0;
    d->t_used = sb_t_test_log(xb, mb, xn, mn, floor_s, &d->t);
    free(xb);
    d->center_base = exp(d->t.mean_a);
    d->center_new = exp(d->t.mean_b);
    d->delta = exp(d->t.mean_b - d->t.mean_a) - 1;
    double between = expm1(d->t.s);
    d->threshold = o->max_regression;
    d->threshold_from = "max-regression";
    if (between > d->threshold) {
        d->threshold = between;
        d->threshold_from = d->t.s > d->t.s_pooled ? "runs' rse_median (floor of the between-run sd)"
                                                   : "pooled between-run sd";
    }
    if (fabs(d->delta) <= d->threshold) {
        d->label = SB_CMP_NOISE;
        return;
    }
    int slower = d->delta > 0;
    int agrees = d->t_used && d->t.p < o->run_alpha && (slower ? d->t.t > 0 : d->t.t < 0);
    d->label = !agrees ? SB_CMP_AMBIGUOUS : slower ? SB_CMP_REGRESSION : SB_CMP_IMPROVEMENT;
    if (!agrees)
        d->why = "t test on run medians does not agree";
}

sb_cmp_side sb_cmp_side_of(const sb_vtiming *t)
{
    sb_cmp_side s = {NAN, NAN, NAN, NULL, 0};
    if (t && t->present) {
        s.median_s = t->median_s;
        s.rel_iqr = t->rel_iqr;
        s.rse_median = t->rse_median;
        s.samples_s = t->samples_s;
        s.nsamples = t->nsamples;
    }
    return s;
}

/* ------------------------------------------------------------ options */

typedef struct compare_opts {
    const char *base, *cur;
    sb_cmp_opts rule;
    int json, require_all, help;
} compare_opts;

static const char USAGE[] =
    "usage: saebench compare BASE NEW [--max-regression PCT] [--alpha A] [--run-alpha A]\n"
    "                        [--single-run-threshold PCT] [--require-all] [--format text|json]\n"
    "  BASE, NEW           a verdict file, or a directory of them (read recursively); several verdicts\n"
    "                      of one key and one build/host/threads/options on a side are repeated runs\n"
    "  --max-regression PCT smallest slowdown that can fail (default 5)\n"
    "  --alpha A           Mann-Whitney level on the reps, one run a side, >= 6 reps a side (default 0.01)\n"
    "  --run-alpha A       level of the t test on the run medians, several runs (default 0.05)\n"
    "  --single-run-threshold PCT  with one run a side, the change (either way, as a ratio) that is\n"
    "                      claimed at all; smaller ones are 'ambiguous (one run per side)' (default 100)\n"
    "  --require-all       a verdict without a counterpart on the other side fails the comparison\n"
    "  --format text|json  the report on stdout (default text)\n"
    "Verdicts are matched by (workload, shape, backend, device). With several runs on a side the run\n"
    "medians are the evidence: regression when the geometric-mean ratio - 1 exceeds max(PCT, the pooled\n"
    "between-run spread) and a t test on the log run medians agrees. With one run a side only a change\n"
    "beyond --single-run-threshold (and the within-run band and Mann-Whitney) fails. A gate that passed in\n"
    "BASE and fails in NEW fails too. Exit 1 on a regression; 0 otherwise; 2 on unusable input.\n"
    "The rule in full: docs/compare.md.  CI: saebench compare results/baseline results/new || exit 1\n";

static sb_rc parse_real_opt(const char *opt, const char *v, double lo, double hi, double *out, sb_err *err)
{
    char *end = NULL;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || *end != '\0' || !isfinite(x))
        return sb_fail(err, SB_E_INPUT, "compare: %s: '%s' is not a finite number", opt, v);
    if (!(x > lo) || x > hi)
        return sb_fail(err, SB_E_INPUT, "compare: %s: %g is out of range (%g, %g]", opt, x, lo, hi);
    *out = x;
    return SB_OK;
}

static sb_rc parse_args(int argc, char **argv, compare_opts *o, sb_err *err)
{
    memset(o, 0, sizeof *o);
    o->rule = sb_cmp_opts_default();
    int seen_reg = 0, seen_alpha = 0, seen_ralpha = 0, seen_single = 0, seen_fmt = 0, npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            o->help = 1;
            return SB_OK;
        }
        if (strncmp(a, "--", 2) != 0 || strcmp(a, "--") == 0) {
            if (strcmp(a, "--") == 0)
                a = i + 1 < argc ? argv[++i] : "";
            if (*a == '\0')
                return sb_fail(err, SB_E_INPUT, "compare: empty path");
            if (npos == 0) o->base = a;
            else if (npos == 1) o->cur = a;
            else return sb_fail(err, SB_E_INPUT, "compare: takes exactly two paths, BASE and NEW (got '%s' too)", a);
            npos++;
            continue;
        }
        char name[40];
        const char *v = sb_opt_split(a, name, sizeof name);
        int takes = strcmp(name, "--max-regression") == 0 || strcmp(name, "--alpha") == 0 ||
                    strcmp(name, "--run-alpha") == 0 || strcmp(name, "--single-run-threshold") == 0 ||
                    strcmp(name, "--format") == 0;
        if (!takes && strcmp(name, "--require-all") != 0)
            return sb_fail(err, SB_E_INPUT, "compare: unknown option '%s' (see 'saebench compare --help')", a);
        if (takes && !v) {
            if (i + 1 >= argc)
                return sb_fail(err, SB_E_INPUT, "%s needs a value", name);
            v = argv[++i];
        } else if (!takes && v) {
            return sb_fail(err, SB_E_INPUT, "%s takes no value", name);
        }
        sb_rc rc = SB_OK;
        if (strcmp(name, "--max-regression") == 0) {
            if (seen_reg++)
                return sb_fail(err, SB_E_INPUT, "--max-regression given twice");
            /* 0 would call every measurable slowdown a regression; the runs'
             * noise still widens the band, but a positive floor is meant. */
            rc = parse_real_opt(name, v, 0, 1000, &o->rule.max_regression, err);
            o->rule.max_regression /= 100.0;
        } else if (strcmp(name, "--alpha") == 0) {
            if (seen_alpha++)
                return sb_fail(err, SB_E_INPUT, "--alpha given twice");
            rc = parse_real_opt(name, v, 0, 0.5, &o->rule.alpha, err);
        } else if (strcmp(name, "--run-alpha") == 0) {
            if (seen_ralpha++)
                return sb_fail(err, SB_E_INPUT, "--run-alpha given twice");
            rc = parse_real_opt(name, v, 0, 0.5, &o->rule.run_alpha, err);
        } else if (strcmp(name, "--single-run-threshold") == 0) {
            if (seen_single++)
                return sb_fail(err, SB_E_INPUT, "--single-run-threshold given twice");
            rc = parse_real_opt(name, v, 0, 100000, &o->rule.single_run_threshold, err);
            o->rule.single_run_threshold /= 100.0;
        } else if (strcmp(name, "--format") == 0) {
            if (seen_fmt++)
                return sb_fail(err, SB_E_INPUT, "--format given twice");
            if (strcmp(v, "json") == 0) o->json = 1;
            else if (strcmp(v, "text") != 0)
                return sb_fail(err, SB_E_INPUT, "--format: '%s' is not text or json", v);
        } else {
            o->require_all = 1;
        }
        if (rc)
            return rc;
    }
    if (npos != 2)
        return sb_fail(err, SB_E_INPUT, "compare: needs BASE and NEW (see 'saebench compare --help')");
    return SB_OK;
}

/* ------------------------------------------------------------ matching */

/* Per verdict of a side: head[i] is the newest verdict of its key (created,
 * else the dated directory, else load order; never mtime). use[i] is 1 when i
 * is a run of that newest configuration (same tool.git, host.hostname,
 * host.threads and options: sb_vrec_same_config), 0 when it is superseded. */
static void group_runs(const sb_vset *s, size_t *head, int *use)
{
    for (size_t i = 0; i < s->n; i++) {
        size_t h = i;
        for (size_t j = 0; j < s->n; j++)
            if (sb_vrec_same_key(&s->items[i], &s->items[j]) && sb_vrec_order(&s->items[j], &s->items[h]) > 0)
                h = j;
        head[i] = h;
    }
    for (size_t i = 0; i < s->n; i++)
        use[i] = sb_vrec_same_config(&s->items[i], &s->items[head[i]]);
}

typedef struct metric {
    char name[96];
    double base, cur;
    const char *label; /* a phase's own label (informational), or NULL */
} metric;

typedef struct flip {
    const char *id;
    double value_base, value_new, thr_base, thr_new;
} flip;

typedef struct pair {
    const sb_vrec *base, *cur;  /* the newest run of each side */
    const sb_vrec **bruns, **cruns;
    size_t nb, nc;
    sb_cmp_decision d;
    size_t lost;         /* NEW runs that measured nothing while BASE measured (a failed or skipped run) */
    flip *flipped;
    size_t nflipped;
    int regression;
    metric *metrics;
    size_t nmetrics;
} pair;

static int add_metric(pair *p, size_t cap, const char *name, double b, double c, const char *label)
{
    if (p->nmetrics == cap)
        return 0;
    metric *m = &p->metrics[p->nmetrics++];
    snprintf(m->name, sizeof m->name, "%s", name);
    m->base = b;
    m->cur = c;
    m->label = label;
    return 1;
}

static int by_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

/* The median over a side's runs of the double at offset off of sb_vrec (NaN
 * values skipped; NaN when none). */
static double runs_median(const sb_vrec **runs, size_t n, size_t off)
{
    double v[64];
    size_t k = 0;
    for (size_t i = 0; i < n && k < sizeof v / sizeof v[0]; i++) {
        double x = *(const double *)((const char *)runs[i] + off);
        if (isfinite(x))
            v[k++] = x;
    }
    if (!k)
        return NAN;
    qsort(v, k, sizeof v[0], by_double);
    return k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
}

static const sb_vgate *find_gate(const sb_vrec *v, const char *id)
{
    for (size_t j = 0; j < v->ngates; j++)
        if (strcmp(v->gates[j].id, id) == 0)
            return &v->gates[j];
    return NULL;
}

/* The rule on one phase (NULL: the primary) over every run of both sides. */
static sb_rc decide_phase(const pair *p, const char *phase, const compare_opts *o, sb_cmp_decision *d, sb_err *err)
{
    sb_cmp_side *sides = sb_alloc(p->nb + p->nc, sizeof *sides, err);
    if (!sides)
        return SB_E_RUNTIME;
    for (size_t i = 0; i < p->nb + p->nc; i++) {
        const sb_vrec *v = i < p->nb ? p->bruns[i] : p->cruns[i - p->nb];
        sides[i] = sb_cmp_side_of(phase ? sb_vrec_phase(v, phase) : &v->timing);
    }
    sb_compare_decide_runs(sides, p->nb, sides + p->nb, p->nc, &o->rule, d);
    free(sides);
    return SB_OK;
}

static sb_rc build_pair(pair *p, const compare_opts *o, sb_err *err)
{
    const sb_vrec *b = p->base, *c = p->cur;
    sb_rc rc = decide_phase(p, NULL, o, &p->d, err);
    if (rc)
        return rc;
    size_t base_measured = 0;
    for (size_t i = 0; i < p->nb; i++)
        base_measured += measured(p->bruns[i]->timing.median_s);
    for (size_t i = 0; i < p->nc && base_measured; i++)
        p->lost += !measured(p->cruns[i]->timing.median_s);

    /* A gate flipped: applied and passed in every BASE run that has it, and
     * applied and failed in a NEW run (the newest such is shown). */
    p->flipped = sb_alloc(b->ngates ? b->ngates : 1, sizeof *p->flipped, err);
    size_t cap = 8 + b->nphases + c->nphases;
    p->metrics = sb_alloc(cap, sizeof *p->metrics, err);
    if (!p->flipped || !p->metrics)
        return SB_E_RUNTIME;
    for (size_t i = 0; i < b->ngates; i++) {
        const sb_vgate *gb = &b->gates[i];
        int passed = gb->applies == 1 && gb->pass == 1;
        for (size_t r = 0; r < p->nb && passed; r++) {
            const sb_vgate *g = find_gate(p->bruns[r], gb->id);
            passed = !g || (g->applies == 1 && g->pass == 1);
        }
        if (!passed)
            continue;
        const sb_vgate *failed = NULL;
        for (size_t r = 0; r < p->nc; r++) {
            const sb_vgate *g = find_gate(p->cruns[r], gb->id);
            if (g && g->applies == 1 && g->pass == 0)
                failed = g; /* runs are in order: the last is the newest */
        }
        if (failed)
            p->flipped[p->nflipped++] = (flip){gb->id, gb->value, failed->value, gb->threshold, failed->threshold};
    }
    p->regression = p->d.label == SB_CMP_REGRESSION || p->lost || p->nflipped > 0;

    add_metric(p, cap, "median_s", p->d.center_base, p->d.center_new, NULL);
    add_metric(p, cap, "measured_rows_per_s", runs_median(p->bruns, p->nb, offsetof(sb_vrec, measured_rows_per_s)),
               runs_median(p->cruns, p->nc, offsetof(sb_vrec, measured_rows_per_s)), NULL);
    if (b->engaged_rows_per_s > 0 || c->engaged_rows_per_s > 0)
        add_metric(p, cap, "engaged_rows_per_s", runs_median(p->bruns, p->nb, offsetof(sb_vrec, engaged_rows_per_s)),
                   runs_median(p->cruns, p->nc, offsetof(sb_vrec, engaged_rows_per_s)), NULL);
    /* Every phase of either newest run, BASE's order first. */
    for (int side = 0; side < 2; side++) {
        const sb_vrec *v = side ? c : b, *other = side ? b : c;
        for (size_t i = 0; i < v->nphases; i++) {
            const char *name = v->phases[i].name;
            if (side == 1 && sb_vrec_phase(other, name))
                continue;
            sb_cmp_decision pd;
            if ((rc = decide_phase(p, name, o, &pd, err)))
                return rc;
            char mname[96];
            snprintf(mname, sizeof mname, "phase %s median_s", name);
            add_metric(p, cap, mname, pd.center_base, pd.center_new, sb_cmp_label_name(pd.label));
        }
    }
    double rb = runs_median(p->bruns, p->nb, offsetof(sb_vrec, residency_speedup));
    double rc_ = runs_median(p->cruns, p->nc, offsetof(sb_vrec, residency_speedup));
    if (isfinite(rb) || isfinite(rc_))
        add_metric(p, cap, "residency.speedup", rb, rc_, NULL);
    add_metric(p, cap, "roofline.efficiency", runs_median(p->bruns, p->nb, offsetof(sb_vrec, efficiency)),
               runs_median(p->cruns, p->nc, offsetof(sb_vrec, efficiency)), NULL);
    add_metric(p, cap, "parity.rel_err", runs_median(p->bruns, p->nb, offsetof(sb_vrec, parity_rel_err)),
               runs_median(p->cruns, p->nc, offsetof(sb_vrec, parity_rel_err)), NULL);
    return SB_OK;
}

static void pair_free(pair *p)
{
    free(p->flipped);
    free(p->metrics);
    free(p->bruns);
}

sb_cmp_opts sb_cmp_opts_default(void)
{
    return (sb_cmp_opts){SB_COMPARE_MAX_REGRESSION, SB_COMPARE_ALPHA, SB_COMPARE_RUN_ALPHA,
                         SB_COMPARE_SINGLE_RUN_THRESHOLD};
}

sb_rc sb_compare_verdicts(const sb_vrec *base, const sb_vrec *cur, const sb_cmp_opts *o, sb_cmp_verdicts *out,
                          sb_err *err)
{
    /* The pair compare builds for one run a side, so the answer is compare's own. */
    const sb_vrec *runs[2] = {base, cur};
    pair p = {.base = base, .cur = cur, .bruns = runs, .cruns = runs + 1, .nb = 1, .nc = 1};
    compare_opts co = {.rule = *o};
    sb_rc rc = build_pair(&p, &co, err);
    memset(out, 0, sizeof *out);
    if (!rc) {
        out->timing = p.d;
        out->gates_flipped = p.nflipped;
        out->lost = p.lost > 0;
        out->regression = p.regression;
    }
    free(p.flipped);
    free(p.metrics);
    return rc;
}

/* ------------------------------------------------------------ printing */

static void fmt_num(double x, char *buf, size_t len)
{
    if (isnan(x))
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%.4g", x);
}

static void fmt_change(double b, double c, char *buf, size_t len)
{
    if (isfinite(b) && isfinite(c) && b > 0)
        snprintf(buf, len, "%+.1f%%", 100.0 * (c / b - 1.0));
    else
        snprintf(buf, len, "-");
}

static void print_key(FILE *f, const sb_vrec *v)
{
    fprintf(f, "%s %s %s %s", v->workload, v->shape, v->backend, v->device);
}

/* The fewest samples of a side's runs. */
static size_t min_samples(const sb_vrec **runs, size_t n)
{
    size_t m = SIZE_MAX;
    for (size_t i = 0; i < n; i++)
        if (runs[i]->timing.nsamples < m)
            m = runs[i]->timing.nsamples;
    return n ? m : 0;
}

/* The timing decision in one line: the label, the change, the band and its
 * source, and the statistic with its p-value. */
static void print_decision(FILE *f, const pair *p, const compare_opts *o)
{
    const sb_cmp_decision *d = &p->d;
    if (d->label == SB_CMP_NOT_MEASURED) {
        if (p->lost)
            fprintf(f, "timing not-measured: NEW did not measure in %zu of %zu run%s (BASE did)", p->lost, p->nc,
                    p->nc == 1 ? "" : "s");
        else
            fprintf(f, "timing not-measured: no timing to compare");
        return;
    }
    fprintf(f, "timing %s", sb_cmp_label_name(d->label));
    if (d->why[0])
        fprintf(f, " (%s)", d->why);
    fprintf(f, " %+.1f%%", 100 * d->delta);
    if (d->rule == SB_RULE_RUNS) {
        fprintf(f, " %s the band %.1f%% (%s, %zu+%zu runs)", fabs(d->delta) <= d->threshold ? "within" : "beyond",
                100 * d->threshold, d->threshold_from, d->runs_base, d->runs_new);
        if (d->t_used)
            fprintf(f, "; Student t on log run medians t=%+.2f df=%.0f p=%.2g (run-alpha %g)", d->t.t, d->t.df, d->t.p,
                    o->rule.run_alpha);
        return;
    }
    if (fabs(d->delta) <= d->threshold)
        fprintf(f, " within the band %.1f%% (%s; one run a side)", 100 * d->threshold, d->threshold_from);
    else
        fprintf(f, ": beyond the band %.1f%% (%s), %s the single-run threshold %.1f%% = (1 + %.0f%%)(1 + band) - 1",
                100 * d->threshold, d->threshold_from,
                fabs(log1p(d->delta)) > log1p(d->single_run_threshold) ? "beyond" : "within",
                100 * d->single_run_threshold, 100 * o->rule.single_run_threshold);
    if (d->mw_used)
        fprintf(f, "; Mann-Whitney U on reps p=%.2g z=%+.2f (%zu/%zu samples, alpha %g)", d->mw.p, d->mw.z,
                p->base->timing.nsamples, p->cur->timing.nsamples, o->rule.alpha);
    else
        fprintf(f, "; no Mann-Whitney: too few samples (BASE %zu, NEW %zu; the test needs %d a side)",
                p->base->timing.nsamples, p->cur->timing.nsamples, SB_MW_MIN_SAMPLES);
}

static void print_text(FILE *f, const compare_opts *o, const sb_vset *bs, const sb_vset *cs, pair *pairs,
                       size_t npairs, const int *used_b, const int *used_c, const int *use_b, const int *use_c,
                       int exit_code)
{
    fprintf(f, "saebench compare  BASE %s (%zu verdict%s)  NEW %s (%zu verdict%s)\n", o->base, bs->n,
            bs->n == 1 ? "" : "s", o->cur, cs->n, cs->n == 1 ? "" : "s");
    fprintf(f, "rule: several runs a side: regression when the ratio of the geometric means of the run medians - 1 > "
               "max(%.1f%%, pooled between-run sd) and a Student t test on the log run medians gives p < %g;\n",
            100 * o->rule.max_regression, o->rule.run_alpha);
    fprintf(f, "      one run a side: only beyond the single-run threshold %.0f%%, max(%.1f%%, rel_iqr, 2 x rse_median) "
               "and, with >= %d samples a side, Mann-Whitney p < %g; or a gate that passed in BASE fails in NEW\n",
            100 * o->rule.single_run_threshold, 100 * o->rule.max_regression, SB_MW_MIN_SAMPLES, o->rule.alpha);
    for (size_t i = 0; i < npairs; i++) {
        const pair *p = &pairs[i];
        fprintf(f, "\n");
        print_key(f, p->base);
        fprintf(f, ": %s  ", p->regression ? "REGRESSION" : "ok");
        print_decision(f, p, o);
        fprintf(f, "\n");
        for (size_t k = 0; k < p->nflipped; k++) {
            const flip *fl = &p->flipped[k];
            char vb[32], vn[32], tb[32], tn[32];
            fmt_num(fl->value_base, vb, sizeof vb);
            fmt_num(fl->value_new, vn, sizeof vn);
            fmt_num(fl->thr_base, tb, sizeof tb);
            fmt_num(fl->thr_new, tn, sizeof tn);
            fprintf(f, "  gate flipped pass -> fail: %s (value %s -> %s; threshold %s -> %s)\n", fl->id, vb, vn, tb, tn);
        }
        size_t fb = min_samples(p->bruns, p->nb), fc = min_samples(p->cruns, p->nc);
        if (p->d.rule == SB_RULE_RUNS && (fb < SB_MW_MIN_SAMPLES || fc < SB_MW_MIN_SAMPLES))
            fprintf(f, "  note: a run has fewer than %d samples (BASE min %zu, NEW min %zu): too few for a single-run comparison\n",
                    SB_MW_MIN_SAMPLES, fb, fc);
        if (p->d.label != SB_CMP_NOT_MEASURED && (p->base->timing.noisy == 1 || p->cur->timing.noisy == 1))
            fprintf(f, "  noisy: %s%s (the band includes their noise)\n", p->base->timing.noisy == 1 ? "BASE " : "",
                    p->cur->timing.noisy == 1 ? "NEW" : "");
        fprintf(f, "  %-28s %12s %12s %9s%s\n", "metric", "base", "new", "change",
                p->nb > 1 || p->nc > 1 ? "  (median_s: geometric mean of run medians; others: median over runs)" : "");
        for (size_t k = 0; k < p->nmetrics; k++) {
            const metric *m = &p->metrics[k];
            char b[32], c[32], ch[32];
            fmt_num(m->base, b, sizeof b);
            fmt_num(m->cur, c, sizeof c);
            fmt_change(m->base, m->cur, ch, sizeof ch);
            fprintf(f, "  %-28s %12s %12s %9s", m->name, b, c, ch);
            if (m->label)
                fprintf(f, "  %s (not gated)", m->label);
            fprintf(f, "\n");
        }
        size_t ab, pb_, ac, pc;
        sb_vrec_gate_counts(p->base, &ab, &pb_);
        sb_vrec_gate_counts(p->cur, &ac, &pc);
        char gb[32], gc[32];
        snprintf(gb, sizeof gb, "%zu/%zu", pb_, ab);
        snprintf(gc, sizeof gc, "%zu/%zu", pc, ac);
        fprintf(f, "  %-28s %12s %12s\n", "gates passed/applied (newest)", gb, gc);
        for (int side = 0; side < 2; side++) {
            const sb_vrec **runs = side ? p->cruns : p->bruns;
            size_t n = side ? p->nc : p->nb;
            for (size_t r = 0; r < n; r++)
                fprintf(f, "  %s %s%s\n", side ? "new " : "base", runs[r]->path, r + 1 == n && n > 1 ? "  (newest)" : "");
        }
    }
    size_t only_b = 0, only_c = 0;
    for (int side = 0; side < 2; side++) {
        const sb_vset *s = side ? cs : bs;
        const int *used = side ? used_c : used_b, *use = side ? use_c : use_b;
        int header = 0;
        for (size_t i = 0; i < s->n; i++) {
            if (!use[i] || used[i])
                continue;
            if (!header++)
                fprintf(f, "\nonly in %s (%s):\n", side ? "NEW" : "BASE",
                        o->require_all ? "a failure under --require-all" : "listed, not a failure");
            fprintf(f, "  ");
            print_key(f, &s->items[i]);
            fprintf(f, "  %s\n", s->items[i].path);
            *(side ? &only_c : &only_b) += 1;
        }
    }
    int header = 0;
    for (int side = 0; side < 2; side++) {
        const sb_vset *s = side ? cs : bs;
        const int *use = side ? use_c : use_b;
        for (size_t i = 0; i < s->n; i++) {
            if (use[i])
                continue;
            if (!header++)
                fprintf(f, "\nsuperseded (a newer verdict of the key was built or run differently: tool.git, "
                           "host.hostname, host.threads or the command's options; not compared):\n");
            const sb_vrec *v = &s->items[i];
            fprintf(f, "  %s ", side ? "NEW " : "BASE");
            print_key(f, v);
            fprintf(f, "  %s (git %s, host %s, %lld threads)\n", v->path, v->git[0] ? v->git : "-",
                    v->hostname[0] ? v->hostname : "-", (long long)v->host_threads);
        }
    }
    size_t n[5] = {0}, reg = 0, flips = 0, lost = 0, single = 0;
    for (size_t i = 0; i < npairs; i++) {
        n[pairs[i].d.label]++;
        reg += pairs[i].regression;
        flips += pairs[i].nflipped > 0;
        lost += pairs[i].lost > 0;
        single += pairs[i].d.label == SB_CMP_AMBIGUOUS && strcmp(pairs[i].d.why, "one run per side") == 0;
    }
    fprintf(f, "\nsummary: %zu matched: %zu regressed (%zu slower, %zu gate flipped, %zu not measured in NEW), "
               "%zu improvement, %zu noise, %zu ambiguous (%zu one run per side); %zu only in BASE, %zu only in NEW -> exit %d\n",
            npairs, reg, n[SB_CMP_REGRESSION], flips, lost, n[SB_CMP_IMPROVEMENT], n[SB_CMP_NOISE], n[SB_CMP_AMBIGUOUS],
            single, only_b, only_c, exit_code);
}

static cJSON *key_json(const sb_vrec *v)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "workload", v->workload);
    cJSON_AddStringToObject(o, "shape", v->shape);
    cJSON_AddStringToObject(o, "backend", v->backend);
    cJSON_AddStringToObject(o, "device", v->device);
    cJSON_AddStringToObject(o, "path", v->path);
    return o;
}

static cJSON *decision_json(const sb_cmp_decision *d, size_t nb, size_t nc)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "label", sb_cmp_label_name(d->label));
    if (d->why[0])
        cJSON_AddStringToObject(o, "why", d->why);
    else
        cJSON_AddNullToObject(o, "why");
    cJSON_AddStringToObject(o, "rule", d->rule == SB_RULE_RUNS ? "runs" : "single-run");
    cJSON_AddNumberToObject(o, "runs_base", (double)d->runs_base);
    cJSON_AddNumberToObject(o, "runs_new", (double)d->runs_new);
    cJSON_AddItemToObject(o, "center_base", sb_json_number(d->center_base));
    cJSON_AddItemToObject(o, "center_new", sb_json_number(d->center_new));
    cJSON_AddItemToObject(o, "delta", sb_json_number(d->delta));
    cJSON_AddItemToObject(o, "threshold", sb_json_number(d->threshold));
    if (d->threshold_from[0])
        cJSON_AddStringToObject(o, "threshold_from", d->threshold_from);
    else
        cJSON_AddNullToObject(o, "threshold_from");
    cJSON_AddItemToObject(o, "single_run_threshold", sb_json_number(d->single_run_threshold));
    if (d->mw_used) {
        cJSON *mw = cJSON_AddObjectToObject(o, "mann_whitney");
        cJSON_AddNumberToObject(mw, "n_base", (double)nb);
        cJSON_AddNumberToObject(mw, "n_new", (double)nc);
        cJSON_AddItemToObject(mw, "u_new", sb_json_number(d->mw.u_b));
        cJSON_AddItemToObject(mw, "z", sb_json_number(d->mw.z));
        cJSON_AddItemToObject(mw, "p", sb_json_number(d->mw.p));
    } else {
        cJSON_AddNullToObject(o, "mann_whitney");
    }
    if (d->t_used) {
        cJSON *t = cJSON_AddObjectToObject(o, "t_test");
        cJSON_AddStringToObject(t, "statistic", "Student t, pooled variance, on log run medians");
        cJSON_AddItemToObject(t, "t", sb_json_number(d->t.t));
        cJSON_AddNumberToObject(t, "df", d->t.df);
        cJSON_AddItemToObject(t, "p", sb_json_number(d->t.p));
        cJSON_AddItemToObject(t, "s_pooled", sb_json_number(d->t.s_pooled));
        cJSON_AddItemToObject(t, "s", sb_json_number(d->t.s));
    } else {
        cJSON_AddNullToObject(o, "t_test");
    }
    return o;
}

static char *render_json(const compare_opts *o, const sb_vset *bs, const sb_vset *cs, pair *pairs, size_t npairs,
                         const int *used_b, const int *used_c, const int *use_b, const int *use_c, int exit_code)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema", "saebench.compare/1");
    cJSON_AddStringToObject(root, "base", o->base);
    cJSON_AddStringToObject(root, "new", o->cur);
    cJSON_AddNumberToObject(root, "max_regression", o->rule.max_regression);
    cJSON_AddNumberToObject(root, "alpha", o->rule.alpha);
    cJSON_AddNumberToObject(root, "run_alpha", o->rule.run_alpha);
    cJSON_AddNumberToObject(root, "single_run_threshold", o->rule.single_run_threshold);
    cJSON_AddNumberToObject(root, "mann_whitney_min_samples", SB_MW_MIN_SAMPLES);
    cJSON_AddBoolToObject(root, "require_all", o->require_all);
    cJSON *arr = cJSON_AddArrayToObject(root, "pairs");
    size_t n[5] = {0}, reg = 0, flips = 0, lost = 0;
    for (size_t i = 0; i < npairs; i++) {
        const pair *p = &pairs[i];
        n[p->d.label]++;
        reg += p->regression;
        flips += p->nflipped > 0;
        lost += p->lost > 0;
        cJSON *it = key_json(p->base);
        cJSON_DeleteItemFromObject(it, "path");
        cJSON_AddStringToObject(it, "base_path", p->base->path);
        cJSON_AddStringToObject(it, "new_path", p->cur->path);
        for (int side = 0; side < 2; side++) {
            cJSON *lst = cJSON_AddArrayToObject(it, side ? "new_runs" : "base_runs");
            const sb_vrec **runs = side ? p->cruns : p->bruns;
            for (size_t r = 0; r < (side ? p->nc : p->nb); r++)
                cJSON_AddItemToArray(lst, cJSON_CreateString(runs[r]->path));
        }
        cJSON_AddBoolToObject(it, "regression", p->regression);
        cJSON *why = cJSON_AddArrayToObject(it, "reasons");
        if (p->d.label == SB_CMP_REGRESSION)
            cJSON_AddItemToArray(why, cJSON_CreateString("slower"));
        if (p->nflipped)
            cJSON_AddItemToArray(why, cJSON_CreateString("gate-flipped"));
        if (p->lost)
            cJSON_AddItemToArray(why, cJSON_CreateString("not-measured-in-new"));
        cJSON_AddItemToObject(it, "timing", decision_json(&p->d, p->base->timing.nsamples, p->cur->timing.nsamples));
        cJSON_AddBoolToObject(it, "noisy", p->base->timing.noisy == 1 || p->cur->timing.noisy == 1);
        cJSON_AddBoolToObject(it, "too_few_samples", min_samples(p->bruns, p->nb) < SB_MW_MIN_SAMPLES ||
                                                         min_samples(p->cruns, p->nc) < SB_MW_MIN_SAMPLES);
        cJSON *fl = cJSON_AddArrayToObject(it, "gates_flipped");
        cJSON *fd = cJSON_AddArrayToObject(it, "gates_flipped_detail");
        for (size_t k = 0; k < p->nflipped; k++) {
            const flip *g = &p->flipped[k];
            cJSON_AddItemToArray(fl, cJSON_CreateString(g->id));
            cJSON *go = cJSON_CreateObject();
            cJSON_AddStringToObject(go, "id", g->id);
            cJSON_AddItemToObject(go, "value_base", sb_json_number(g->value_base));
            cJSON_AddItemToObject(go, "value_new", sb_json_number(g->value_new));
            cJSON_AddItemToObject(go, "threshold_base", sb_json_number(g->thr_base));
            cJSON_AddItemToObject(go, "threshold_new", sb_json_number(g->thr_new));
            cJSON_AddItemToArray(fd, go);
        }
        cJSON *ms = cJSON_AddArrayToObject(it, "metrics");
        for (size_t k = 0; k < p->nmetrics; k++) {
            const metric *m = &p->metrics[k];
            cJSON *mo = cJSON_CreateObject();
            cJSON_AddStringToObject(mo, "name", m->name);
            cJSON_AddItemToObject(mo, "base", sb_json_number(m->base));
            cJSON_AddItemToObject(mo, "new", sb_json_number(m->cur));
            double ch = isfinite(m->base) && isfinite(m->cur) && m->base > 0 ? m->cur / m->base - 1 : NAN;
            cJSON_AddItemToObject(mo, "change", sb_json_number(ch));
            if (m->label)
                cJSON_AddStringToObject(mo, "label", m->label);
            cJSON_AddItemToArray(ms, mo);
        }
        cJSON_AddItemToArray(arr, it);
    }
    size_t only[2] = {0, 0};
    for (int side = 0; side < 2; side++) {
        const sb_vset *s = side ? cs : bs;
        const int *used = side ? used_c : used_b, *use = side ? use_c : use_b;
        cJSON *lst = cJSON_AddArrayToObject(root, side ? "only_in_new" : "only_in_base");
        for (size_t i = 0; i < s->n; i++)
            if (use[i] && !used[i]) {
                cJSON_AddItemToArray(lst, key_json(&s->items[i]));
                only[side]++;
            }
    }
    cJSON *sup = cJSON_AddArrayToObject(root, "superseded");
    for (int side = 0; side < 2; side++) {
        const sb_vset *s = side ? cs : bs;
        const int *use = side ? use_c : use_b;
        for (size_t i = 0; i < s->n; i++)
            if (!use[i])
                cJSON_AddItemToArray(sup, cJSON_CreateString(s->items[i].path));
    }
    cJSON *sum = cJSON_AddObjectToObject(root, "summary");
    cJSON_AddNumberToObject(sum, "matched", (double)npairs);
    cJSON_AddNumberToObject(sum, "regressed", (double)reg);
    cJSON_AddNumberToObject(sum, "slower", (double)n[SB_CMP_REGRESSION]);
    cJSON_AddNumberToObject(sum, "gate_flipped", (double)flips);
    cJSON_AddNumberToObject(sum, "not_measured_in_new", (double)lost);
    cJSON_AddNumberToObject(sum, "improvement", (double)n[SB_CMP_IMPROVEMENT]);
    cJSON_AddNumberToObject(sum, "noise", (double)n[SB_CMP_NOISE]);
    cJSON_AddNumberToObject(sum, "ambiguous", (double)n[SB_CMP_AMBIGUOUS]);
    cJSON_AddNumberToObject(sum, "only_in_base", (double)only[0]);
    cJSON_AddNumberToObject(sum, "only_in_new", (double)only[1]);
    cJSON_AddNumberToObject(root, "exit_code", exit_code);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    return text;
}

/* ------------------------------------------------------------ the command */

/* The runs of key head on a side, oldest first (sb_vrec_order). */
static size_t collect_runs(const sb_vset *s, const size_t *head, const int *use, size_t h, const sb_vrec **out)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        if (use[i] && head[i] == h)
            out[n++] = &s->items[i];
    /* insertion sort by order: few runs */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && sb_vrec_order(out[j - 1], out[j]) > 0; j--) {
            const sb_vrec *t = out[j];
            out[j] = out[j - 1];
            out[j - 1] = t;
        }
    return n;
}

int sb_cmd_compare(int argc, char **argv)
{
    compare_opts o;
    sb_err err = {{0}};
    if (parse_args(argc, argv, &o, &err)) {
        fprintf(stderr, "saebench: %s\n", err.msg);
        return SB_EXIT_USAGE;
    }
    if (o.help) {
        fputs(USAGE, stdout);
        return SB_EXIT_PASS;
    }
    sb_vset bs = {0}, cs = {0};
    sb_rc rc = sb_vset_load(o.base, &bs, &err);
    if (rc == SB_OK)
        rc = sb_vset_load(o.cur, &cs, &err);
    int *use_b = NULL, *use_c = NULL, *used_b = NULL, *used_c = NULL;
    size_t *head_b = NULL, *head_c = NULL;
    pair *pairs = NULL;
    size_t npairs = 0;
    int exit_code = SB_EXIT_PASS;
    if (rc == SB_OK) {
        use_b = sb_alloc(bs.n, sizeof *use_b, &err);
        use_c = sb_alloc(cs.n, sizeof *use_c, &err);
        used_b = sb_alloc(bs.n, sizeof *used_b, &err);
        used_c = sb_alloc(cs.n, sizeof *used_c, &err);
        head_b = sb_alloc(bs.n, sizeof *head_b, &err);
        head_c = sb_alloc(cs.n, sizeof *head_c, &err);
        pairs = sb_alloc(bs.n, sizeof *pairs, &err);
        rc = use_b && use_c && used_b && used_c && head_b && head_c && pairs ? SB_OK : SB_E_RUNTIME;
    }
    if (rc == SB_OK) {
        group_runs(&bs, head_b, use_b);
        group_runs(&cs, head_c, use_c);
        for (size_t i = 0; i < bs.n && rc == SB_OK; i++) {
            if (head_b[i] != i)
                continue;
            for (size_t j = 0; j < cs.n; j++)
                if (head_c[j] == j && sb_vrec_same_key(&bs.items[i], &cs.items[j])) {
                    pair *p = &pairs[npairs++];
                    p->bruns = sb_alloc(bs.n + cs.n, sizeof *p->bruns, &err);
                    if (!p->bruns) {
                        rc = SB_E_RUNTIME;
                        break;
                    }
                    p->nb = collect_runs(&bs, head_b, use_b, i, p->bruns);
                    p->cruns = p->bruns + p->nb;
                    p->nc = collect_runs(&cs, head_c, use_c, j, p->cruns);
                    p->base = &bs.items[i];
                    p->cur = &cs.items[j];
                    for (size_t k = 0; k < bs.n; k++)
                        used_b[k] |= use_b[k] && head_b[k] == i;
                    for (size_t k = 0; k < cs.n; k++)
                        used_c[k] |= use_c[k] && head_c[k] == j;
                    rc = build_pair(p, &o, &err);
                    break;
                }
        }
    }
    if (rc == SB_OK) {
        for (size_t i = 0; i < npairs; i++)
            if (pairs[i].regression)
                exit_code = SB_EXIT_GATE_FAIL;
        if (o.require_all) {
            for (size_t i = 0; i < bs.n; i++)
                if (use_b[i] && !used_b[i])
                    exit_code = SB_EXIT_GATE_FAIL;
            for (size_t j = 0; j < cs.n; j++)
                if (use_c[j] && !used_c[j])
                    exit_code = SB_EXIT_GATE_FAIL;
        }
        if (o.json) {
            char *text = render_json(&o, &bs, &cs, pairs, npairs, used_b, used_c, use_b, use_c, exit_code);
            if (!text || sb_write_atomic("-", text, &err))
                rc = text ? SB_E_INPUT : sb_fail(&err, SB_E_RUNTIME, "out of memory rendering the comparison");
            cJSON_free(text);
        } else {
            print_text(stdout, &o, &bs, &cs, pairs, npairs, used_b, used_c, use_b, use_c, exit_code);
            if (fflush(stdout) != 0)
                rc = sb_fail(&err, SB_E_INPUT, "cannot write to stdout: %s", strerror(errno));
        }
    }
    for (size_t i = 0; i < npairs; i++)
        pair_free(&pairs[i]);
    free(pairs);
    free(use_b);
    free(use_c);
    free(used_b);
    free(used_c);
    free(head_b);
    free(head_c);
    sb_vset_free(&bs);
    sb_vset_free(&cs);
    if (rc) {
        fprintf(stderr, "saebench: %s\n", err.msg);
        return rc == SB_E_RUNTIME ? SB_EXIT_RUNTIME : SB_EXIT_USAGE;
    }
    return exit_code;
}
