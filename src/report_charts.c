/* The dashboard's charts (saebench report --html): the data files (*.dat)
 * and the gnuplot script (charts.gp) that draws them into PNGs, and what the
 * page says beside each chart. report_html.c runs gnuplot and writes the
 * page. Described in docs/compare.md ("Related: saebench report").
 *
 * Every plotted verdict carries its marks (sb_report_marks: pass or FAIL,
 * noisy, suspect) twice: in its bar's colour or its point's symbol, with a
 * legend, and in words in its label. Bars and points carry the interquartile
 * range of the reps (timing q1_s to q3_s) as whiskers. The history is one
 * chart per key, in run order, on a linear scale around the data, with the
 * change points 'saebench compare' would flag (sb_compare_verdicts). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "report.h"
#include "verdict.h"

/* ------------------------------------------------------------ marks */

/* Each mark's colour (the page's CSS uses the same) and gnuplot point type. */
typedef struct mark_style {
    const char *cls, *word, *rgb;
    int pt;
} mark_style;

static const mark_style MARKS[] = {
    {"pass", "pass", "#2e7d32", 7},        /* filled circle */
    {"noisy", "noisy", "#e08e0b", 9},      /* filled triangle */
    {"suspect", "suspect", "#7b1fa2", 13}, /* filled diamond */
    {"fail", "FAIL", "#c62828", 5},        /* filled square */
};
#define NMARKS (sizeof MARKS / sizeof MARKS[0])

static size_t mark_index(unsigned marks)
{
    const char *cls = sb_report_mark_class(marks);
    for (size_t k = 0; k < NMARKS; k++)
        if (strcmp(MARKS[k].cls, cls) == 0)
            return k;
    return 0;
}

const char *sb_report_mark_rgb(const char *cls)
{
    for (size_t k = 0; k < NMARKS; k++)
        if (strcmp(MARKS[k].cls, cls) == 0)
            return MARKS[k].rgb;
    return "#000000";
}

#define FAIL_RGB "#c62828"

/* ------------------------------------------------------------ text */

/* Text fit for a gnuplot data file: tab-separated columns, no quotes or '#'
 * (a comment); the terminal is noenhanced so '_' and '^' stay literal. */
static void plot_safe(char *s)
{
    for (char *c = s; *c; c++)
        if (*c == '"' || *c == '#' || *c == '\t' || *c == '\'' || *c == '\\')
            *c = '_';
}

/* Text fit for a double-quoted string inside charts.gp, where gnuplot would
 * expand a backquote (a shell command), '@' (a macro) and backslash escapes:
 * only a plain set of characters is kept. */
static void gp_safe(char *s)
{
    for (char *c = s; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              strchr(" ._,:;+-=*/()[]%", *c)))
            *c = '_';
}

/* A verdict's key (workload, shape, backend, device). */
static void key_text(const sb_vrec *v, char *buf, size_t len)
{
    char dev[SB_REPORT_CELL];
    sb_report_device(v, dev, sizeof dev);
    snprintf(buf, len, "%s %s %s %s%s", v->workload, v->shape, v->backend, dev, v->engaged == 1 ? " engaged" : "");
}

/* A plotted verdict's label: its key and its marks in words; when newer
 * verdicts of the key measured nothing (so this one is the latest that
 * did), the newest one's exit code too. */
static void plot_label(const sb_vset *s, const size_t *order, size_t i, char *buf, size_t len)
{
    const sb_vrec *v = &s->items[order[i]];
    char key[600], marks[48], newer[64] = "";
    key_text(v, key, sizeof key);
    sb_report_marks_text(sb_report_marks(v), marks, sizeof marks);
    size_t j = i + 1;
    while (j < s->n && sb_vrec_same_key(v, &s->items[order[j]]))
        j++;
    if (j > i + 1)
        snprintf(newer, sizeof newer, " (newer run: exit %d, nothing measured)", s->items[order[j - 1]].exit_code);
    snprintf(buf, len, "%s [%s]%s", key, marks, newer);
    plot_safe(buf);
}

/* A data cell: the number, or '?' (gnuplot's missing value) unless positive. */
static void dat_num(sbuf *b, double x)
{
    if (isfinite(x) && x > 0)
        sb_printf(b, "\t%.9g", x);
    else
        sb_printf(b, "\t?");
}

/* ------------------------------------------------------------ which verdicts */

void sb_report_latest(const sb_vset *s, const size_t *order, int *latest)
{
    for (size_t i = 0; i < s->n;) {
        size_t j = i + 1; /* sorted by key then date: [i, j) is one key, oldest first */
        while (j < s->n && sb_vrec_same_key(&s->items[order[i]], &s->items[order[j]]))
            j++;
        for (size_t k = i; k < j; k++)
            latest[k] = 0;
        for (size_t k = j; k-- > i;)
            if (s->items[order[k]].seconds_per_rep > 0) {
                latest[k] = 1;
                break;
            }
        i = j;
    }
}

/* ------------------------------------------------------------ gnuplot */

/* The start of one chart in charts.gp: settings from scratch, the terminal
 * at this size (pngcairo when this gnuplot has it, else libgd's png), and the
 * output file. */
static void gp_begin(sbuf *gp, const char *png, int w, int h)
{
    sb_printf(gp,
              "\n# ---- %s\n"
              "reset\n"
              "if (cairo) {\n"
              "    set terminal pngcairo size %d,%d noenhanced font \"sans,9\"\n"
              "} else {\n"
              "    set terminal png size %d,%d noenhanced\n"
              "}\n"
              "set output \"%s\"\n"
              "set datafile separator \"\\t\"\n"
              "set datafile missing \"?\"\n"
              "set grid ytics\n"
              "set style fill solid 1.0 border -1\n"
              "set format y \"%%.3g\"\n",
              png, w, h, w, h, png);
}

/* The settings of the bar charts: one group of bars per verdict at x = 1, 2,
 * ..., labelled below by its key and marks. */
static void gp_bars(sbuf *gp, int rows)
{
    sb_printf(gp,
              "set key outside top center horizontal\n"
              "set bmargin 14\n"
              "set xtics rotate by -30 left nomirror\n"
              "set xrange [0.4:%d.6]\n",
              rows);
}

/* One clause per mark present (bit k of present: MARKS[k]) plotting
 * value_expr from src (a quoted file name, maybe with its index) only for the
 * rows of that mark (column mark_col), with style. */
static void gp_by_mark(sbuf *gp, const char *src, unsigned present, int mark_col, const char *x_expr,
                       const char *value_expr, const char *style, const char *title_fmt)
{
    for (size_t k = 0; k < NMARKS; k++) {
        if (!(present & (1u << k)))
            continue;
        sb_printf(gp, ", \\\n     %s using %s:(strcol(%d) eq \"%s\" ? %s : NaN) with %s lc rgb \"%s\"", src, x_expr,
                  mark_col, MARKS[k].cls, value_expr, style, MARKS[k].rgb);
        if (strstr(style, "points"))
            sb_printf(gp, " pt %d", MARKS[k].pt);
        sb_printf(gp, " title \"");
        sb_printf(gp, title_fmt, MARKS[k].word);
        sb_printf(gp, "\"");
    }
}

/* Whiskers from column lo to column hi at x_expr, capped cap wide: drawn as
 * lines (gnuplot's errorbars leave a blank ring where their point would be). */
static void gp_whiskers(sbuf *gp, const char *src, const char *x_expr, int lo, int hi, double cap, const char *title)
{
    sb_printf(gp,
              ", \\\n     %s using %s:%d:(0):($%d-$%d) with vectors nohead lw 1.5 lc rgb \"#000000\" title \"%s\""
              ", \\\n     %s using (%s-%.4f):%d:(%.4f):(0) with vectors nohead lw 1.5 lc rgb \"#000000\" notitle"
              ", \\\n     %s using (%s-%.4f):%d:(%.4f):(0) with vectors nohead lw 1.5 lc rgb \"#000000\" notitle",
              src, x_expr, lo, hi, lo, title, src, x_expr, cap / 2, lo, cap, src, x_expr, cap / 2, hi, cap);
}

/* ------------------------------------------------------------ the charts */

/* throughput: the latest verdict of each key with a measured rows/s, its bar
 * coloured by its mark, whiskers over the reps' IQR, beside its roofline
 * bound. Returns the number of bars. */
static int throughput_chart(sbuf *dat, sbuf *gp, sbuf *plotted, const sb_vset *s, const size_t *order, const int *latest)
{
    char label[800];
    int rows = 0;
    unsigned present = 0;
    sb_printf(dat, "# saebench report: the latest verdict of each key that measured rows/s\n"
                   "# x\tlabel\tmark\tmeasured rows/s\tIQR low (rows per rep / q3_s)\tIQR high (/ q1_s)"
                   "\troofline bound rows/s\n");
    for (size_t i = 0; i < s->n; i++) {
        const sb_vrec *v = &s->items[order[i]];
        if (!latest[i] || !(v->measured_rows_per_s > 0))
            continue;
        size_t m = mark_index(sb_report_marks(v));
        present |= 1u << m;
        plot_label(s, order, i, label, sizeof label);
        sb_printf(plotted, "%s%s", plotted->n ? "; " : "", label);
        /* rows per rep = rows/s x s/rep; slower reps (q3) give fewer rows/s. */
        double rows_per_rep = v->measured_rows_per_s * v->seconds_per_rep;
        double bound = isfinite(v->bound_s) && v->bound_s > 0 ? rows_per_rep / v->bound_s : NAN;
        sb_printf(dat, "%d\t%s\t%s", ++rows, label, MARKS[m].cls);
        dat_num(dat, v->measured_rows_per_s);
        dat_num(dat, rows_per_rep / v->timing.q3_s);
        dat_num(dat, rows_per_rep / v->timing.q1_s);
        dat_num(dat, bound);
        sb_printf(dat, "\n");
    }
    if (!rows)
        return 0;
    gp_begin(gp, "throughput.png", 1100, 640);
    gp_bars(gp, rows);
    sb_printf(gp,
              "set title \"rows/s of the latest verdict of each key, coloured by its mark, against its roofline bound\"\n"
              "set ylabel \"rows/s (log scale)\"\n"
              "set logscale y\n"
              "set boxwidth 0.36 absolute\n"
              "plot \"throughput.dat\" using 1:(NaN):xtic(2) notitle");
    gp_by_mark(gp, "\"throughput.dat\"", present, 3, "($1-0.19)", "$4", "boxes", "measured rows/s: %s");
    sb_printf(gp, ", \\\n     \"throughput.dat\" using ($1+0.19):7 with boxes lc rgb \"#c8c8c8\" title \"roofline bound rows/s\"");
    gp_whiskers(gp, "\"throughput.dat\"", "($1-0.19)", 5, 6, 0.12, "IQR of the reps (q1 to q3)");
    sb_printf(gp, "\n");
    return rows;
}

/* residency: the latest verdict of each key with a residency speedup, its
 * bar coloured by its mark. */
static int residency_chart(sbuf *dat, sbuf *gp, sbuf *plotted, const sb_vset *s, const size_t *order, const int *latest)
{
    char label[800];
    int rows = 0;
    unsigned present = 0;
    sb_printf(dat, "# saebench report: the latest verdict of each key; residency speedup (re-upload s / resident s)\n"
                   "# x\tlabel\tmark\tspeedup\n");
    for (size_t i = 0; i < s->n; i++) {
        const sb_vrec *v = &s->items[order[i]];
        if (!latest[i] || !(isfinite(v->residency_speedup) && v->residency_speedup > 0))
            continue;
        size_t m = mark_index(sb_report_marks(v));
        present |= 1u << m;
        plot_label(s, order, i, label, sizeof label);
        sb_printf(plotted, "%s%s", plotted->n ? "; " : "", label);
        sb_printf(dat, "%d\t%s\t%s", ++rows, label, MARKS[m].cls);
        dat_num(dat, v->residency_speedup);
        sb_printf(dat, "\n");
    }
    if (!rows)
        return 0;
    gp_begin(gp, "residency.png", 1100, 640);
    gp_bars(gp, rows);
    sb_printf(gp,
              "set title \"residency speedup: re-upload s/rep over resident s/rep (1 = no gain), coloured by the verdict's mark\"\n"
              "set ylabel \"speedup (x)\"\n"
              "set yrange [0:*]\n"
              "set boxwidth 0.6 absolute\n"
              "set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead dashtype 2 lc rgb \"#a03030\"\n"
              "plot \"residency.dat\" using 1:(NaN):xtic(2) notitle");
    gp_by_mark(gp, "\"residency.dat\"", present, 3, "1", "$4", "boxes", "speedup: %s");
    sb_printf(gp, "\n");
    return rows;
}

#define MAX_PHASES 64

/* Every phase name of the latest verdicts, in order of first appearance (at
 * most MAX_PHASES). Returns how many. */
static size_t phase_names(const sb_vset *s, const size_t *order, const int *latest, const char **names)
{
    size_t nnames = 0;
    for (size_t i = 0; i < s->n; i++) {
        const sb_vrec *v = &s->items[order[i]];
        if (!latest[i])
            continue;
        for (size_t k = 0; k < v->nphases; k++) {
            size_t j = 0;
            while (j < nnames && strcmp(names[j], v->phases[k].name) != 0)
                j++;
            if (j == nnames && nnames < MAX_PHASES)
                names[nnames++] = v->phases[k].name;
        }
    }
    return nnames;
}

/* Phases are told apart by colour; none of these is a mark's colour. */
static const char *const PHASE_RGB[] = {"#3b6ea5", "#8fb8de", "#2a9d8f", "#9a9a9a",
                                        "#264653", "#c9b79c", "#5e81ac", "#d0d7e2"};
#define NPHASE_RGB (sizeof PHASE_RGB / sizeof PHASE_RGB[0])

/* phases: per latest verdict with timing.phases, every phase's median s/rep
 * (whiskers q1_s to q3_s), coloured by phase, side by side around the
 * group's x, and the verdict's mark as a symbol above its group.
 * phases.dat: block 0 the groups (x, label, mark, y of the mark), block 1
 * the bars (x, phase number, median, q1, q3). Returns the number of groups. */
static int phases_chart(sbuf *dat, sbuf *gp, sbuf *plotted, const sb_vset *s, const size_t *order, const int *latest)
{
    const char *names[MAX_PHASES];
    size_t np = phase_names(s, order, latest, names);
    char label[800];
    int rows = 0;
    size_t widest = 1;
    unsigned present = 0;
    sbuf bars = {0};
    sb_printf(dat, "# saebench report: the latest verdict of each key with timing.phases\n"
                   "# x\tlabel\tmark\ty of the mark\n");
    sb_printf(&bars, "\n\n# one bar per phase: x\tphase (");
    for (size_t j = 0; j < np; j++) {
        char n[64];
        snprintf(n, sizeof n, "%s", names[j]);
        plot_safe(n);
        sb_printf(&bars, "%s%zu %s", j ? ", " : "", j, n);
    }
    sb_printf(&bars, ")\tmedian s/rep\tq1_s\tq3_s\n");
    for (size_t i = 0; i < s->n && np; i++) {
        const sb_vrec *v = &s->items[order[i]];
        if (!latest[i] || v->nphases == 0)
            continue;
        size_t m = mark_index(sb_report_marks(v));
        present |= 1u << m;
        plot_label(s, order, i, label, sizeof label);
        sb_printf(plotted, "%s%s", plotted->n ? "; " : "", label);
        rows++;
        double top = 0;
        for (size_t k = 0; k < v->nphases; k++) {
            const sb_vtiming *t = &v->phases[k].t;
            top = fmax(top, fmax(isfinite(t->median_s) ? t->median_s : 0, isfinite(t->q3_s) ? t->q3_s : 0));
        }
        sb_printf(dat, "%d\t%s\t%s", rows, label, MARKS[m].cls);
        dat_num(dat, 2 * top); /* above the group's tallest whisker (log scale) */
        sb_printf(dat, "\n");
        widest = v->nphases > widest ? v->nphases : widest;
    }
    /* The bars of a group: its own phases only, in the order of names, side
     * by side within 0.8 of the group's x. */
    double w = 0.8 / (double)widest;
    for (size_t i = 0, g = 0; i < s->n && np; i++) {
        const sb_vrec *v = &s->items[order[i]];
        if (!latest[i] || v->nphases == 0)
            continue;
        g++;
        size_t k = 0;
        for (size_t j = 0; j < np; j++) {
            const sb_vtiming *t = sb_vrec_phase(v, names[j]);
            if (!t)
                continue;
            sb_printf(&bars, "%.4f\t%zu", (double)g + ((double)k++ - (double)(v->nphases - 1) / 2) * w, j);
            dat_num(&bars, t->median_s);
            dat_num(&bars, t->q1_s);
            dat_num(&bars, t->q3_s);
            sb_printf(&bars, "\n");
        }
    }
    sb_printf(dat, "%s", bars.p ? bars.p : "");
    dat->oom |= bars.oom;
    free(bars.p);
    if (!rows)
        return 0;
    gp_begin(gp, "phases.png", 1100, 640);
    gp_bars(gp, rows);
    sb_printf(gp,
              "set title \"median s/rep of each timed phase (timing.phases) of the latest verdict of each key; "
              "the symbol above a group is its verdict's mark\"\n"
              "set ylabel \"s/rep (log scale)\"\n"
              "set logscale y\n"
              "set boxwidth %.4f absolute\n"
              "plot \"phases.dat\" index 0 using 1:(NaN):xtic(2) notitle",
              0.95 * w);
    for (size_t j = 0; j < np; j++) {
        char n[64];
        snprintf(n, sizeof n, "%s", names[j]);
        gp_safe(n);
        sb_printf(gp, ", \\\n     \"phases.dat\" index 1 using 1:($2 == %zu ? $3 : NaN) with boxes lc rgb \"%s\" title \"%s\"",
                  j, PHASE_RGB[j % NPHASE_RGB], n);
    }
    gp_whiskers(gp, "\"phases.dat\" index 1", "($1)", 4, 5, 0.4 * w, "IQR of the reps (q1 to q3)");
    gp_by_mark(gp, "\"phases.dat\" index 0", present, 3, "1", "$4", "points ps 1.8", "verdict: %s");
    sb_printf(gp, "\n");
    return rows;
}

/* The unit a history chart shows s/rep in: its numbers read without
 * exponents. */
static void time_unit(double max_s, const char **unit, double *scale)
{
    if (max_s >= 1) {
        *unit = "s";
        *scale = 1;
    } else if (max_s >= 1e-3) {
        *unit = "ms";
        *scale = 1e3;
    } else if (max_s >= 1e-6) {
        *unit = "us";
        *scale = 1e6;
    } else {
        *unit = "ns";
        *scale = 1e9;
    }
}

/* tool.git as a tick: the first 7 characters of the commit, '*' when it was
 * built from a modified tree. An explicit tick label is a format to gnuplot,
 * so no '%' either. */
static void short_commit(const sb_vrec *v, char *buf, size_t len)
{
    size_t n = strcspn(v->git, "-");
    int dirty = v->dirty == 1 || strstr(v->git, "-dirty") != NULL;
    if (!v->git[0])
        snprintf(buf, len, "no git");
    else
        snprintf(buf, len, "%.*s%s", (int)(n < 7 ? n : 7), v->git, dirty ? "*" : "");
    gp_safe(buf);
    for (char *c = buf; *c; c++)
        if (*c == '%')
            *c = '_';
}

/* The date of a run as its tick shows it; a date from the file's mtime says
 * nothing about the run (a copy or a checkout resets it). */
static void run_date(const sb_vrec *v, char *buf, size_t len)
{
    if (strcmp(v->date_from, "mtime") == 0)
        snprintf(buf, len, "undated");
    else
        snprintf(buf, len, "%.10s", v->date);
}

static int measured(const sb_vrec *v) { return isfinite(v->timing.median_s) && v->timing.median_s > 0; }

/* What compare flags from run prev to run cur, in a few words for the chart
 * ("+137%") and in a sentence for the caption; 0 when it flags nothing. */
static sb_rc change_point(const sb_vrec *prev, const sb_vrec *cur, const sb_cmp_opts *o, char *brief, size_t blen,
                          sbuf *why, int *flagged, sb_err *err)
{
    sb_cmp_verdicts c;
    sb_rc rc = sb_compare_verdicts(prev, cur, o, &c, err);
    *flagged = !rc && c.regression;
    if (!*flagged)
        return rc;
    const char *sep = "";
    brief[0] = '\0';
    if (c.timing.label == SB_CMP_REGRESSION) {
        snprintf(brief, blen, "%+.0f%%", 100 * c.timing.delta);
        sb_printf(why, "slower %+.1f%% (beyond %.1f%%)", 100 * c.timing.delta,
                  100 * (isfinite(c.timing.single_run_threshold) ? c.timing.single_run_threshold : c.timing.threshold));
        sep = ", ";
    }
    if (c.lost) {
        snprintf(brief + strlen(brief), blen - strlen(brief), "%snothing measured", brief[0] ? ", " : "");
        sb_printf(why, "%snothing measured where the run before measured", sep);
        sep = ", ";
    }
    if (c.gates_flipped) {
        snprintf(brief + strlen(brief), blen - strlen(brief), "%sgate flipped", brief[0] ? ", " : "");
        sb_printf(why, "%s%zu gate%s flipped from pass to fail", sep, c.gates_flipped, c.gates_flipped == 1 ? "" : "s");
    }
    return SB_OK;
}

/* Room for one more chart in out. */
static sb_chart *chart_add(sb_charts *out, sb_err *err)
{
    if (out->n == out->cap) {
        size_t cap = out->cap ? 2 * out->cap : 8;
        sb_chart *grown = realloc(out->items, cap * sizeof *grown);
        if (!grown) {
            sb_fail(err, SB_E_RUNTIME, "out of memory listing the charts");
            return NULL;
        }
        out->items = grown;
        out->cap = cap;
    }
    sb_chart *c = &out->items[out->n++];
    memset(c, 0, sizeof *c);
    return c;
}

/* One history chart: the runs [i, j) of one key (oldest first) as block
 * `block` of history.dat and history-NNN.png, x the run order, y the primary
 * median (whiskers q1 to q3) linear around the data, each point's symbol its
 * verdict's mark, and a dashed line where compare flags a regression from
 * the run before. */
static sb_rc history_chart(sbuf *dat, sbuf *gp, const sb_vset *s, const size_t *order, size_t i, size_t j,
                           int block, sb_chart *c, sb_err *err)
{
    const sb_vrec *first = &s->items[order[i]];
    size_t n = j - i;
    double max_s = 0, lo = INFINITY, hi = 0;
    for (size_t k = i; k < j; k++) {
        const sb_vrec *v = &s->items[order[k]];
        if (!measured(v))
            continue;
        const sb_vtiming *t = &v->timing;
        double a = isfinite(t->q1_s) && t->q1_s > 0 ? t->q1_s : t->median_s;
        double b = isfinite(t->q3_s) && t->q3_s > 0 ? t->q3_s : t->median_s;
        lo = fmin(lo, fmin(a, t->median_s));
        hi = fmax(hi, fmax(b, t->median_s));
        max_s = fmax(max_s, t->median_s);
    }
    const char *unit;
    double scale;
    time_unit(max_s, &unit, &scale);
    /* Linear, around the data: the range of the whiskers with a margin (more
     * on top, for the change-point labels), never from zero unless the data
     * reach it. */
    double span = hi - lo > 1e-3 * hi ? hi - lo : 0.1 * hi;
    double ylo = fmax(0, lo - 0.15 * span), yhi = hi + 0.3 * span;

    char key[600], title[600];
    key_text(first, key, sizeof key);
    snprintf(title, sizeof title, "%s", key);
    gp_safe(title);
    snprintf(c->png, sizeof c->png, "history-%03d.png", block + 1);
    snprintf(c->heading, sizeof c->heading, "%s", key);
    snprintf(c->alt, sizeof c->alt,
             "line chart: primary median %s/rep of %s over its %zu runs in run order, 1 the oldest", unit, key, n);

    sb_printf(dat, "%s# %s\n# run\tmark\tmedian %s/rep\tq1\tq3\tnothing measured (y of its mark)\n", block ? "\n\n" : "",
              key, unit);
    gp_begin(gp, c->png, 640, 380);
    sb_printf(gp,
              "set title \"%s\"\n"
              "set ylabel \"primary median %s/rep\"\n"
              "set key outside top center horizontal\n"
              "set bmargin 5\n"
              "set xrange [0.5:%zu.5]\n"
              "set yrange [%.9g:%.9g]\n"
              "set format y \"%%.4g\"\n"
              "set xtics nomirror font \",8\" (",
              title, unit, n, ylo * scale, yhi * scale);
    /* Every run is a tick; with many runs only every step-th is labelled. */
    size_t step = n <= 12 ? 1 : (n + 11) / 12;
    unsigned present = 0;
    int lost = 0, flags = 0;
    sbuf runs = {0}, changes = {0};
    sb_cmp_opts o = sb_cmp_opts_default();
    sb_rc rc = SB_OK;
    for (size_t k = i; k < j && !rc; k++) {
        const sb_vrec *v = &s->items[order[k]];
        size_t run = k - i + 1;
        char date[32], commit[32], marks[48];
        run_date(v, date, sizeof date);
        short_commit(v, commit, sizeof commit);
        unsigned mk = sb_report_marks(v);
        sb_report_marks_text(mk, marks, sizeof marks);
        if ((run - 1) % step == 0 || run == n)
            sb_printf(gp, "%s\"%zu\\n%s\\n%s\" %zu", run > 1 ? ", " : "", run, date, commit, run);
        else
            sb_printf(gp, "%s\"\" %zu", run > 1 ? ", " : "", run);
        sb_printf(&runs, "%s%zu %s (%s, %s)", run > 1 ? "; " : "Runs, oldest first: ", run, marks, date, commit);

        size_t m = mark_index(mk);
        sb_printf(dat, "%zu\t%s", run, MARKS[m].cls);
        if (measured(v)) {
            present |= 1u << m;
            dat_num(dat, v->timing.median_s * scale);
            dat_num(dat, v->timing.q1_s * scale);
            dat_num(dat, v->timing.q3_s * scale);
            sb_printf(dat, "\t?\n");
        } else {
            lost = 1;
            sb_printf(dat, "\t?\t?\t?\t%.9g\n", (ylo + 0.05 * (yhi - ylo)) * scale);
        }
        if (k > i) {
            char brief[96];
            int flagged = 0;
            sbuf why = {0};
            rc = change_point(&s->items[order[k - 1]], v, &o, brief, sizeof brief, &why, &flagged, err);
            if (!rc && flagged) {
                flags++;
                gp_safe(brief);
                /* Drawn after the tick list is closed: kept in changes. */
                sb_printf(&changes,
                          "set arrow %d from first %zu.5, graph 0 to first %zu.5, graph 1 nohead dashtype 2 lw 2 lc rgb \"%s\"\n"
                          "set label %d \"%s\" at first %zu.5, graph 0.95 left offset 0.5,0 front textcolor rgb \"%s\"\n",
                          flags, run - 1, run - 1, FAIL_RGB, flags, brief, run - 1, FAIL_RGB);
                const char *w = sb_text(&why);
                sb_printf(&runs, " [compare flags a regression from run %zu to run %zu: %s]", run - 1, run, w ? w : "");
            }
            free(why.p);
        }
    }
    sb_printf(gp, ")\n%s", changes.p ? changes.p : "");
    char src[48];
    snprintf(src, sizeof src, "\"history.dat\" index %d", block);
    sb_printf(gp, "plot %s using 1:3 with lines lc rgb \"#9e9e9e\" notitle", src);
    gp_whiskers(gp, src, "($1)", 4, 5, 0.12, "IQR (q1 to q3)");
    for (size_t m = 0; m < NMARKS; m++) {
        if (!(present & (1u << m)))
            continue;
        sb_printf(gp, ", \\\n     \"history.dat\" index %d using 1:(strcol(2) eq \"%s\" ? $3 : NaN) with points pt %d ps 1.5"
                      " lc rgb \"%s\" title \"%s\"",
                  block, MARKS[m].cls, MARKS[m].pt, MARKS[m].rgb, MARKS[m].word);
    }
    if (lost)
        sb_printf(gp, ", \\\n     \"history.dat\" index %d using 1:6 with points pt 2 ps 2 lw 2 lc rgb \"%s\""
                      " title \"nothing measured\"",
                  block, FAIL_RGB);
    if (flags)
        sb_printf(gp, ", \\\n     NaN with lines dashtype 2 lw 2 lc rgb \"%s\" title \"compare: regression\"", FAIL_RGB);
    sb_printf(gp, "\n");

    sb_printf(&runs, ".%s", flags ? "" : " No change between consecutive runs that saebench compare flags as a regression.");
    const char *text = sb_text(&runs);
    if (!rc && !text)
        rc = sb_fail(err, SB_E_RUNTIME, "out of memory writing the history");
    if (!rc) {
        c->caption = runs.p;
        runs.p = NULL;
    }
    free(runs.p);
    free(changes.p);
    return rc;
}

/* history: one chart per key with at least two verdicts, one of them
 * measured. The keys with one verdict are named in out->single. */
static sb_rc history_charts(sbuf *dat, sbuf *gp, const sb_vset *s, const size_t *order, sb_charts *out, sb_err *err)
{
    int block = 0;
    sbuf single = {0};
    sb_rc rc = SB_OK;
    for (size_t i = 0; i < s->n && !rc;) {
        size_t j = i + 1, nmeasured = 0; /* [i, j) is one key, oldest first */
        while (j < s->n && sb_vrec_same_key(&s->items[order[i]], &s->items[order[j]]))
            j++;
        for (size_t k = i; k < j; k++)
            nmeasured += measured(&s->items[order[k]]);
        if (j - i >= 2 && nmeasured > 0) {
            sb_chart *c = chart_add(out, err);
            if (!c)
                rc = SB_E_RUNTIME;
            else {
                c->section = SB_CHART_HISTORY;
                rc = history_chart(dat, gp, s, order, i, j, block++, c, err);
            }
        } else {
            char key[600];
            key_text(&s->items[order[i]], key, sizeof key);
            sb_printf(&single, "%s%s", single.n ? "; " : "", key);
        }
        i = j;
    }
    const char *t = sb_text(&single);
    if (!rc && !t)
        rc = sb_fail(err, SB_E_RUNTIME, "out of memory writing the history");
    if (!rc) {
        out->single = single.p;
        single.p = NULL;
    }
    free(single.p);
    return rc;
}

/* ------------------------------------------------------------ all of them */

const sb_chart_section SB_CHART_SECTIONS[SB_NCHART_SECTIONS] = {
    [SB_CHART_THROUGHPUT] = {"Throughput against the roofline",
                             "Each bar is the latest verdict of its key that measured rows/s, coloured by its mark "
                             "(the first of FAIL, suspect, noisy, else pass; its label lists them all in brackets). "
                             "Whiskers: the interquartile range of the reps (q1_s to q3_s as rows/s). Grey: the "
                             "roofline bound.",
                             "No verdict has a measured rows/s."},
    [SB_CHART_RESIDENCY] = {"Residency speedup",
                            "Re-upload s/rep over resident s/rep of the latest verdict of each key, coloured by its "
                            "mark; the dashed line is 1 (no gain).",
                            "No verdict has a residency speedup (a re-upload phase)."},
    [SB_CHART_PHASES] = {"Per-phase breakdown",
                         "Every timed phase of the latest verdict of each key (timing.phases), median s/rep with "
                         "whiskers from q1_s to q3_s, coloured by phase; the symbol above a group is its verdict's "
                         "mark, and its label lists the marks.",
                         "No verdict has timing.phases."},
    [SB_CHART_HISTORY] = {"History across runs",
                          "One chart per key with more than one verdict. x: the run order (1 the oldest; each tick "
                          "gives the date and the commit, * for a modified tree); y: the primary median s/rep on a "
                          "linear scale around the data, whiskers q1 to q3; each point's symbol is its verdict's "
                          "mark. A red dashed line is where saebench compare (default options) flags a regression "
                          "from the run before: slower beyond its threshold, nothing measured, or a gate flipped.",
                          "Only one verdict of each key: give several result sets (dated directories, "
                          "results/&lt;date&gt;/...) for a history."},
};

sb_rc sb_report_charts(const char *dir, const sb_vset *s, const size_t *order, const int *latest, sb_charts *out,
                       sb_err *err)
{
    enum { THR, RES, PH, HIST, GP, NFILES };
    static const char *const file[NFILES] = {"throughput.dat", "residency.dat", "phases.dat", "history.dat",
                                             "charts.gp"};
    static const char *const png[3] = {"throughput.png", "residency.png", "phases.png"};
    sbuf b[NFILES] = {{0}};
    memset(out, 0, sizeof *out);
    sb_printf(&b[GP], "# Written by saebench report --html; rerun with: gnuplot charts.gp (in this directory)\n"
                      "cairo = strstrt(GPVAL_TERMINALS, \"pngcairo\") > 0\n");
    /* The bar charts' plotted verdicts, each "key [marks]", in the caption. */
    sbuf plotted[3] = {{0}};
    int made[3];
    made[0] = throughput_chart(&b[THR], &b[GP], &plotted[0], s, order, latest);
    made[1] = residency_chart(&b[RES], &b[GP], &plotted[1], s, order, latest);
    made[2] = phases_chart(&b[PH], &b[GP], &plotted[2], s, order, latest);
    sb_rc rc = SB_OK;
    for (int k = 0; k < 3 && !rc; k++) {
        if (!made[k])
            continue;
        sb_chart *c = chart_add(out, err);
        sbuf cap = {0};
        const char *list = sb_text(&plotted[k]);
        sb_printf(&cap, "Plotted, each with its marks in brackets: %s.", list ? list : "");
        if (!c || !list || !sb_text(&cap)) {
            free(cap.p);
            rc = c ? sb_fail(err, SB_E_RUNTIME, "out of memory listing the charts") : SB_E_RUNTIME;
            break;
        }
        c->section = k; /* SB_CHART_THROUGHPUT, _RESIDENCY, _PHASES in that order */
        snprintf(c->png, sizeof c->png, "%s", png[k]);
        snprintf(c->alt, sizeof c->alt, "bar chart: %s", SB_CHART_SECTIONS[k].title);
        c->caption = cap.p;
    }
    for (int k = 0; k < 3; k++)
        free(plotted[k].p);
    if (!rc)
        rc = history_charts(&b[HIST], &b[GP], s, order, out, err);
    sb_printf(&b[GP], "set output\n");
    for (int f = 0; f < NFILES && !rc; f++)
        if (!sb_text(&b[f]))
            rc = sb_fail(err, SB_E_RUNTIME, "out of memory writing the chart data");
    for (int f = 0; f < NFILES && !rc; f++) {
        char path[4096];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, file[f]) >= sizeof path)
            rc = sb_fail(err, SB_E_INPUT, "%s: path too long", dir);
        else
            rc = sb_write_atomic(path, b[f].p, err);
    }
    for (int f = 0; f < NFILES; f++)
        free(b[f].p);
    if (rc)
        sb_charts_free(out);
    return rc;
}

void sb_charts_free(sb_charts *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->items[i].caption);
    free(c->items);
    free(c->single);
    memset(c, 0, sizeof *c);
}

int sb_report_chart_file(const char *name)
{
    /* history-NNN.png, one per key */
    if (strncmp(name, "history-", 8) != 0)
        return 0;
    size_t d = strspn(name + 8, "0123456789");
    return d > 0 && strcmp(name + 8 + d, ".png") == 0;
}
