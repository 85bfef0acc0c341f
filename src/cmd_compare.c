/* saebench compare BASE NEW: the regression gate between two sets of
 * verdicts (files or directories). The rule is in docs/compare.md and in
 * compare.h; this file has the rule (sb_compare_decide, the Mann-Whitney
 * test), the matching of verdicts and the two printers. */
#include <cjson/cJSON.h>
#include <errno.h>
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

void sb_compare_decide(const sb_cmp_side *base, const sb_cmp_side *cur, double max_regression,
                       double alpha, sb_cmp_decision *d)
{
    memset(d, 0, sizeof *d);
    d->mw.p = 1;
    d->delta = d->threshold = NAN;
    d->threshold_from = "";
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
    double max_regression, alpha;
    int json, require_all, help;
} compare_opts;

static const char USAGE[] =
    "usage: saebench compare BASE NEW [--max-regression PCT] [--alpha A] [--require-all] [--format text|json]\n"
    "  BASE, NEW           a verdict file, or a directory of them (read recursively)\n"
    "  --max-regression PCT smallest slowdown of the primary median that can fail (default 5)\n"
    "  --alpha A           Mann-Whitney significance level, used with >= 6 samples a side (default 0.01)\n"
    "  --require-all       a verdict without a counterpart on the other side fails the comparison\n"
    "  --format text|json  the report on stdout (default text)\n"
    "Verdicts are matched by (workload, shape, backend, device). Exit 1 when a pair regressed (slower\n"
    "than max(PCT, both runs' rel_iqr, 2 x rse_median), the test agreeing) or a gate that passed in\n"
    "BASE fails in NEW; 0 otherwise; 2 on unusable input. The rule in full: docs/compare.md\n"
    "CI: saebench compare results/baseline results/new || exit 1\n";

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
    o->max_regression = SB_COMPARE_MAX_REGRESSION;
    o->alpha = SB_COMPARE_ALPHA;
    int seen_reg = 0, seen_alpha = 0, seen_fmt = 0, npos = 0;
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
            rc = parse_real_opt(name, v, 0, 1000, &o->max_regression, err);
            o->max_regression /= 100.0;
        } else if (strcmp(name, "--alpha") == 0) {
            if (seen_alpha++)
                return sb_fail(err, SB_E_INPUT, "--alpha given twice");
            rc = parse_real_opt(name, v, 0, 0.5, &o->alpha, err);
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

/* The verdict a side uses for each key: the newest (by date; the later file
 * in load order on a tie). The others are listed as superseded. */
static void pick_newest(const sb_vset *s, int *use)
{
    for (size_t i = 0; i < s->n; i++) {
        use[i] = 1;
        for (size_t j = 0; j < s->n; j++) {
            if (j == i || !sb_vrec_same_key(&s->items[i], &s->items[j]))
                continue;
            int64_t ti = s->items[i].date_epoch, tj = s->items[j].date_epoch;
            if (tj > ti || (tj == ti && j > i)) {
                use[i] = 0;
                break;
            }
        }
    }
}

typedef struct metric {
    char name[96];
    double base, cur;
    const char *label; /* a phase's own label (informational), or NULL */
} metric;

typedef struct pair {
    const sb_vrec *base, *cur;
    sb_cmp_decision d;
    int lost;           /* BASE measured, NEW did not (a failed or skipped run) */
    const char **flipped;
    size_t nflipped;
    int regression;
    metric *metrics;
    size_t nmetrics;
    sb_cmp_decision *phase_d; /* one per metric (used for phase metrics) */
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

static sb_rc build_pair(pair *p, const compare_opts *o, sb_err *err)
{
    const sb_vrec *b = p->base, *c = p->cur;
    sb_cmp_side sb = sb_cmp_side_of(&b->timing), sc = sb_cmp_side_of(&c->timing);
    sb_compare_decide(&sb, &sc, o->max_regression, o->alpha, &p->d);
    p->lost = measured(b->timing.median_s) && !measured(c->timing.median_s);

    p->flipped = sb_alloc(b->ngates ? b->ngates : 1, sizeof *p->flipped, err);
    size_t cap = 8 + b->nphases + c->nphases;
    p->metrics = sb_alloc(cap, sizeof *p->metrics, err);
    p->phase_d = sb_alloc(cap, sizeof *p->phase_d, err);
    if (!p->flipped || !p->metrics || !p->phase_d)
        return SB_E_RUNTIME;
    for (size_t i = 0; i < b->ngates; i++) {
        const sb_vgate *gb = &b->gates[i];
        if (!(gb->applies == 1 && gb->pass == 1))
            continue;
        for (size_t j = 0; j < c->ngates; j++)
            if (strcmp(c->gates[j].id, gb->id) == 0 && c->gates[j].applies == 1 && c->gates[j].pass == 0) {
                p->flipped[p->nflipped++] = gb->id;
                break;
            }
    }
    p->regression = p->d.label == SB_CMP_REGRESSION || p->lost || p->nflipped > 0;

    add_metric(p, cap, "median_s", b->timing.median_s, c->timing.median_s, NULL);
    add_metric(p, cap, "measured_rows_per_s", b->measured_rows_per_s, c->measured_rows_per_s, NULL);
    if (b->engaged_rows_per_s > 0 || c->engaged_rows_per_s > 0)
        add_metric(p, cap, "engaged_rows_per_s", b->engaged_rows_per_s, c->engaged_rows_per_s, NULL);
    /* Every phase of either side, BASE's order first. */
    for (int side = 0; side < 2; side++) {
        const sb_vrec *v = side ? c : b, *other = side ? b : c;
        for (size_t i = 0; i < v->nphases; i++) {
            const char *name = v->phases[i].name;
            if (side == 1 && sb_vrec_phase(other, name))
                continue;
            const sb_vtiming *tb = sb_vrec_phase(b, name), *tc = sb_vrec_phase(c, name);
            sb_cmp_side pb = sb_cmp_side_of(tb), pc = sb_cmp_side_of(tc);
            sb_cmp_decision *pd = &p->phase_d[p->nmetrics];
            sb_compare_decide(&pb, &pc, o->max_regression, o->alpha, pd);
            char mname[96];
            snprintf(mname, sizeof mname, "phase %s median_s", name);
            add_metric(p, cap, mname, pb.median_s, pc.median_s, sb_cmp_label_name(pd->label));
        }
    }
    if (isfinite(b->residency_speedup) || isfinite(c->residency_speedup))
        add_metric(p, cap, "residency.speedup", b->residency_speedup, c->residency_speedup, NULL);
    add_metric(p, cap, "roofline.efficiency", b->efficiency, c->efficiency, NULL);
    add_metric(p, cap, "parity.rel_err", b->parity_rel_err, c->parity_rel_err, NULL);
    return SB_OK;
}

static void pair_free(pair *p)
{
    free(p->flipped);
    free(p->metrics);
    free(p->phase_d);
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

static void print_text(FILE *f, const compare_opts *o, const sb_vset *bs, const sb_vset *cs, pair *pairs,
                       size_t npairs, const int *used_b, const int *used_c, const int *use_b, const int *use_c,
                       int exit_code)
{
    fprintf(f, "saebench compare  BASE %s (%zu verdict%s)  NEW %s (%zu verdict%s)\n", o->base, bs->n,
            bs->n == 1 ? "" : "s", o->cur, cs->n, cs->n == 1 ? "" : "s");
    fprintf(f, "rule: regression when median_new/median_base - 1 > max(%.1f%%, both runs' rel_iqr, 2 x rse_median)",
            100 * o->max_regression);
    fprintf(f, " and, with >= %d samples a side, Mann-Whitney p < %g; or a gate that passed in BASE fails in NEW\n",
            SB_MW_MIN_SAMPLES, o->alpha);
    for (size_t i = 0; i < npairs; i++) {
        const pair *p = &pairs[i];
        char head[256];
        if (p->d.label == SB_CMP_NOT_MEASURED)
            snprintf(head, sizeof head, "%s", p->lost ? "NEW did not measure (BASE did)" : "no timing to compare");
        else
            snprintf(head, sizeof head, "%+.1f%% (threshold %.1f%% from %s)", 100 * p->d.delta, 100 * p->d.threshold,
                     p->d.threshold_from);
        fprintf(f, "\n");
        print_key(f, p->base);
        fprintf(f, ": %s  timing %s %s", p->regression ? "REGRESSION" : "ok", sb_cmp_label_name(p->d.label), head);
        if (p->d.mw_used)
            fprintf(f, "; Mann-Whitney p=%.2g z=%+.2f (%zu/%zu samples)", p->d.mw.p, p->d.mw.z,
                    p->base->timing.nsamples, p->cur->timing.nsamples);
        else if (p->d.label != SB_CMP_NOT_MEASURED)
            fprintf(f, "; no Mann-Whitney (fewer than %d samples a side)", SB_MW_MIN_SAMPLES);
        fprintf(f, "\n");
        if (p->nflipped) {
            fprintf(f, "  gate flipped pass -> fail:");
            for (size_t k = 0; k < p->nflipped; k++)
                fprintf(f, " %s", p->flipped[k]);
            fprintf(f, "\n");
        }
        if (p->d.label != SB_CMP_NOT_MEASURED && (p->base->timing.noisy == 1 || p->cur->timing.noisy == 1))
            fprintf(f, "  noisy: %s%s (the threshold includes their noise)\n",
                    p->base->timing.noisy == 1 ? "BASE " : "", p->cur->timing.noisy == 1 ? "NEW" : "");
        fprintf(f, "  %-28s %12s %12s %9s\n", "metric", "base", "new", "change");
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
        fprintf(f, "  %-28s %12s %12s\n", "gates passed/applied", gb, gc);
        fprintf(f, "  base %s\n  new  %s\n", p->base->path, p->cur->path);
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
    for (int side = 0; side < 2; side++) {
        const sb_vset *s = side ? cs : bs;
        const int *use = side ? use_c : use_b;
        for (size_t i = 0; i < s->n; i++)
            if (!use[i]) {
                fprintf(f, "note: %s has a newer verdict for ", side ? "NEW" : "BASE");
                print_key(f, &s->items[i]);
                fprintf(f, "; not compared: %s\n", s->items[i].path);
            }
    }
    size_t n[5] = {0}, reg = 0, flips = 0, lost = 0;
    for (size_t i = 0; i < npairs; i++) {
        n[pairs[i].d.label]++;
        reg += pairs[i].regression;
        flips += pairs[i].nflipped > 0;
        lost += pairs[i].lost;
    }
    fprintf(f, "\nsummary: %zu matched: %zu regressed (%zu slower, %zu gate flipped, %zu not measured in NEW), "
               "%zu improvement, %zu noise, %zu ambiguous; %zu only in BASE, %zu only in NEW -> exit %d\n",
            npairs, reg, n[SB_CMP_REGRESSION], flips, lost, n[SB_CMP_IMPROVEMENT], n[SB_CMP_NOISE], n[SB_CMP_AMBIGUOUS],
            only_b, only_c, exit_code);
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
    cJSON_AddItemToObject(o, "delta", sb_json_number(d->delta));
    cJSON_AddItemToObject(o, "threshold", sb_json_number(d->threshold));
    if (d->threshold_from[0])
        cJSON_AddStringToObject(o, "threshold_from", d->threshold_from);
    else
        cJSON_AddNullToObject(o, "threshold_from");
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
    return o;
}

static char *render_json(const compare_opts *o, const sb_vset *bs, const sb_vset *cs, pair *pairs, size_t npairs,
                         const int *used_b, const int *used_c, const int *use_b, const int *use_c, int exit_code)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema", "saebench.compare/1");
    cJSON_AddStringToObject(root, "base", o->base);
    cJSON_AddStringToObject(root, "new", o->cur);
    cJSON_AddNumberToObject(root, "max_regression", o->max_regression);
    cJSON_AddNumberToObject(root, "alpha", o->alpha);
    cJSON_AddNumberToObject(root, "mann_whitney_min_samples", SB_MW_MIN_SAMPLES);
    cJSON_AddBoolToObject(root, "require_all", o->require_all);
    cJSON *arr = cJSON_AddArrayToObject(root, "pairs");
    size_t n[5] = {0}, reg = 0, flips = 0, lost = 0;
    for (size_t i = 0; i < npairs; i++) {
        const pair *p = &pairs[i];
        n[p->d.label]++;
        reg += p->regression;
        flips += p->nflipped > 0;
        lost += p->lost;
        cJSON *it = key_json(p->base);
        cJSON_DeleteItemFromObject(it, "path");
        cJSON_AddStringToObject(it, "base_path", p->base->path);
        cJSON_AddStringToObject(it, "new_path", p->cur->path);
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
        cJSON *fl = cJSON_AddArrayToObject(it, "gates_flipped");
        for (size_t k = 0; k < p->nflipped; k++)
            cJSON_AddItemToArray(fl, cJSON_CreateString(p->flipped[k]));
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
    pair *pairs = NULL;
    size_t npairs = 0;
    int exit_code = SB_EXIT_PASS;
    if (rc == SB_OK) {
        use_b = sb_alloc(bs.n, sizeof *use_b, &err);
        use_c = sb_alloc(cs.n, sizeof *use_c, &err);
        used_b = sb_alloc(bs.n, sizeof *used_b, &err);
        used_c = sb_alloc(cs.n, sizeof *used_c, &err);
        pairs = sb_alloc(bs.n, sizeof *pairs, &err);
        rc = use_b && use_c && used_b && used_c && pairs ? SB_OK : SB_E_RUNTIME;
    }
    if (rc == SB_OK) {
        pick_newest(&bs, use_b);
        pick_newest(&cs, use_c);
        for (size_t i = 0; i < bs.n && rc == SB_OK; i++) {
            if (!use_b[i])
                continue;
            for (size_t j = 0; j < cs.n; j++)
                if (use_c[j] && sb_vrec_same_key(&bs.items[i], &cs.items[j])) {
                    used_b[i] = used_c[j] = 1;
                    pair *p = &pairs[npairs++];
                    p->base = &bs.items[i];
                    p->cur = &cs.items[j];
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
    sb_vset_free(&bs);
    sb_vset_free(&cs);
    if (rc) {
        fprintf(stderr, "saebench: %s\n", err.msg);
        return rc == SB_E_RUNTIME ? SB_EXIT_RUNTIME : SB_EXIT_USAGE;
    }
    return exit_code;
}
