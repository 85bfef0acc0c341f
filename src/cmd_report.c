/* saebench report FILE.json|DIR...: every verdict given, merged into one
 * table (aligned text, Markdown, CSV or JSON), and with --html DIR a static
 * dashboard: index.html (inline CSS, no script, works from disk) with the
 * table and PNG charts drawn by gnuplot from data files written beside it.
 *
 * Every printer renders the same rows (row_cells) read by verdict_read.c;
 * nothing here knows the list of workloads, shapes or phases. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "common.h"
#include "verdict.h"
#include "verdict_read.h"

/* ------------------------------------------------------------ text buffer */

typedef struct sbuf {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->n;
        int w = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? room : 0, fmt, ap);
        va_end(ap);
        if (w < 0) {
            b->oom = 1;
            return;
        }
        if (b->p && (size_t)w < room) {
            b->n += (size_t)w;
            return;
        }
        size_t cap = b->cap ? b->cap : 4096;
        while (cap - b->n <= (size_t)w)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
}

/* The buffer's text without its last newline (sb_write_atomic adds one). */
static const char *sb_text(sbuf *b)
{
    if (!b->p)
        sb_printf(b, "%s", "");
    if (b->oom)
        return NULL;
    if (b->n && b->p[b->n - 1] == '\n')
        b->p[--b->n] = '\0';
    return b->p;
}

/* ------------------------------------------------------------ options */

typedef enum { FMT_TEXT, FMT_MD, FMT_CSV, FMT_JSON } report_format;

typedef struct report_opts {
    const char **paths;
    int npaths;
    report_format format;
    const char *html;
    const char *out;
    int help;
} report_opts;

static const char USAGE[] =
    "usage: saebench report FILE.json|DIR... [--format text|md|csv|json] [--html DIR] [--out FILE|-]\n"
    "  FILE.json|DIR        verdicts; a directory is read recursively (*.json; other JSON such as\n"
    "                       calibration files is skipped). A dated directory (results/2026-11-24T10-00-00/)\n"
    "                       is a run set: several of them give the history chart\n"
    "  --format FMT         the table: text (aligned, default), md, csv or json\n"
    "  --out FILE|-         where the table goes (default - : stdout)\n"
    "  --html DIR           also write DIR/index.html with the table and PNG charts (needs gnuplot;\n"
    "                       Debian: gnuplot-nox): throughput vs roofline, residency speedup,\n"
    "                       per-phase medians, and s/rep across runs\n"
    "Columns: workload, shape, backend, device, rows/s and what measured it (host, device, or\n"
    "engaged), s/rep, roofline efficiency, parity rel_err, gates passed/applied and failed ids,\n"
    "verdict, noisy. Fields: docs/verdict.md\n";

static sb_rc parse_args(int argc, char **argv, report_opts *o, sb_err *err)
{
    memset(o, 0, sizeof *o);
    o->out = "-";
    o->paths = calloc((size_t)argc, sizeof *o->paths);
    if (!o->paths)
        return sb_fail(err, SB_E_RUNTIME, "out of memory");
    int seen_fmt = 0, seen_html = 0, seen_out = 0, only_paths = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_paths && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
            o->help = 1;
            return SB_OK;
        }
        if (!only_paths && strcmp(a, "--") == 0) {
            only_paths = 1;
            continue;
        }
        if (only_paths || strncmp(a, "--", 2) != 0) {
            if (*a == '\0')
                return sb_fail(err, SB_E_INPUT, "report: empty path");
            o->paths[o->npaths++] = a;
            continue;
        }
        char name[40];
        const char *v = sb_opt_split(a, name, sizeof name);
        int *seen = strcmp(name, "--format") == 0 ? &seen_fmt
                    : strcmp(name, "--html") == 0 ? &seen_html
                    : strcmp(name, "--out") == 0  ? &seen_out
                                                  : NULL;
        if (!seen)
            return sb_fail(err, SB_E_INPUT, "report: unknown option '%s' (see 'saebench report --help')", a);
        if ((*seen)++)
            return sb_fail(err, SB_E_INPUT, "%s given twice", name);
        if (!v) {
            if (i + 1 >= argc)
                return sb_fail(err, SB_E_INPUT, "%s needs a value", name);
            v = argv[++i];
        }
        if (*v == '\0')
            return sb_fail(err, SB_E_INPUT, "%s: empty value", name);
        if (strcmp(name, "--format") == 0) {
            if (strcmp(v, "text") == 0) o->format = FMT_TEXT;
            else if (strcmp(v, "md") == 0) o->format = FMT_MD;
            else if (strcmp(v, "csv") == 0) o->format = FMT_CSV;
            else if (strcmp(v, "json") == 0) o->format = FMT_JSON;
            else return sb_fail(err, SB_E_INPUT, "--format: '%s' is not text, md, csv or json", v);
        } else if (strcmp(name, "--html") == 0) {
            o->html = v;
        } else {
            o->out = v;
        }
    }
    if (o->npaths == 0)
        return sb_fail(err, SB_E_INPUT, "report: needs at least one verdict file or directory (see 'saebench report --help')");
    return SB_OK;
}

/* ------------------------------------------------------------ rows */

/* Rows in key order (workload, shape, backend, device), then by date, then
 * path, so a merged table reads the same whatever order the files came in. */
static const sb_vset *g_sort_set;
static int by_key_date(const void *pa, const void *pb)
{
    const sb_vrec *a = &g_sort_set->items[*(const size_t *)pa], *b = &g_sort_set->items[*(const size_t *)pb];
    int c;
    if ((c = strcmp(a->workload, b->workload)) || (c = strcmp(a->shape, b->shape)) ||
        (c = strcmp(a->backend, b->backend)) || (c = strcmp(a->device, b->device)))
        return c;
    if (a->date_epoch != b->date_epoch)
        return a->date_epoch < b->date_epoch ? -1 : 1;
    return strcmp(a->path, b->path);
}

enum {
    COL_RUN, COL_WORKLOAD, COL_SHAPE, COL_BACKEND, COL_DEVICE, COL_ROWS, COL_OF, COL_SREP,
    COL_EFF, COL_PARITY, COL_GATES, COL_FAILED, COL_VERDICT, COL_NOISY, NCOLS
};
static const struct { const char *head; int right; } COLS[NCOLS] = {
    {"run", 0}, {"workload", 0}, {"shape", 0}, {"backend", 0}, {"device", 0}, {"rows/s", 1},
    {"of", 0}, {"s/rep", 1}, {"roofline eff", 1}, {"parity rel_err", 1}, {"gates", 1},
    {"failed gates", 0}, {"verdict", 0}, {"noisy", 0},
};
#define CELL 320

static void fmt_g(double x, const char *fmt, char *buf)
{
    if (isnan(x))
        snprintf(buf, CELL, "-");
    else
        snprintf(buf, CELL, fmt, x);
}

/* "engaged" for an engaged device number, else what measured it. A device
 * that did not engage has no number to show (docs/verdict.md: throughput). */
static const char *measured_by(const sb_vrec *v)
{
    if (v->engaged == 1)
        return "engaged";
    return v->measured_of[0] ? v->measured_of : "-";
}

static void failed_gates(const sb_vrec *v, char *buf, size_t len, const char *sep)
{
    buf[0] = '\0';
    size_t used = 0;
    for (size_t i = 0; i < v->ngates; i++) {
        if (!(v->gates[i].applies == 1 && v->gates[i].pass == 0))
            continue;
        int w = snprintf(buf + used, len - used, "%s%s", used ? sep : "", v->gates[i].id);
        if (w < 0 || (size_t)w >= len - used) {
            snprintf(buf + (len > 4 ? len - 4 : 0), len > 4 ? 4 : len, "...");
            return;
        }
        used += (size_t)w;
    }
}

static void row_cells(const sb_vrec *v, char cells[NCOLS][CELL])
{
    snprintf(cells[COL_RUN], CELL, "%s", v->run);
    snprintf(cells[COL_WORKLOAD], CELL, "%s", v->workload);
    snprintf(cells[COL_SHAPE], CELL, "%s", v->shape);
    snprintf(cells[COL_BACKEND], CELL, "%s", v->backend);
    snprintf(cells[COL_DEVICE], CELL, "%s", v->device);
    fmt_g(v->measured_rows_per_s, "%.4g", cells[COL_ROWS]);
    snprintf(cells[COL_OF], CELL, "%s", measured_by(v));
    fmt_g(v->seconds_per_rep, "%.4g", cells[COL_SREP]);
    fmt_g(100 * v->efficiency, "%.1f%%", cells[COL_EFF]);
    fmt_g(v->parity_rel_err, "%.2e", cells[COL_PARITY]);
    size_t applied, passed;
    sb_vrec_gate_counts(v, &applied, &passed);
    snprintf(cells[COL_GATES], CELL, "%zu/%zu", passed, applied);
    failed_gates(v, cells[COL_FAILED], CELL, ",");
    if (!cells[COL_FAILED][0])
        snprintf(cells[COL_FAILED], CELL, "-");
    snprintf(cells[COL_VERDICT], CELL, "%s", v->verdict);
    snprintf(cells[COL_NOISY], CELL, "%s", v->timing.noisy == 1 ? "NOISY" : v->timing.noisy == 0 ? "no" : "-");
}

/* The run column only when the rows come from more than one run set. */
static int several_runs(const sb_vset *s)
{
    for (size_t i = 1; i < s->n; i++)
        if (strcmp(s->items[i].run, s->items[0].run) != 0)
            return 1;
    return 0;
}

static void render_table(sbuf *b, const sb_vset *s, const size_t *order, int md)
{
    int first = several_runs(s) ? COL_RUN : COL_WORKLOAD;
    size_t width[NCOLS];
    char (*cells)[NCOLS][CELL] = malloc((s->n ? s->n : 1) * sizeof *cells);
    if (!cells) {
        b->oom = 1;
        return;
    }
    for (int c = 0; c < NCOLS; c++)
        width[c] = strlen(COLS[c].head);
    for (size_t i = 0; i < s->n; i++) {
        row_cells(&s->items[order[i]], cells[i]);
        for (int c = 0; c < NCOLS; c++)
            if (strlen(cells[i][c]) > width[c])
                width[c] = strlen(cells[i][c]);
    }
    if (md) {
        sb_printf(b, "|");
        for (int c = first; c < NCOLS; c++)
            sb_printf(b, " %s |", COLS[c].head);
        sb_printf(b, "\n|");
        for (int c = first; c < NCOLS; c++)
            sb_printf(b, "%s|", COLS[c].right ? "---:" : "---");
        sb_printf(b, "\n");
        for (size_t i = 0; i < s->n; i++) {
            sb_printf(b, "|");
            for (int c = first; c < NCOLS; c++) {
                sb_printf(b, " ");
                for (const char *q = cells[i][c]; *q; q++) {
                    if (*q == '|')
                        sb_printf(b, "\\|");
                    else
                        sb_printf(b, "%c", *q);
                }
                sb_printf(b, " |");
            }
            sb_printf(b, "\n");
        }
    } else {
        /* Left-aligned columns padded to their width, except the last (no trailing blanks). */
        for (size_t i = 0; i <= s->n; i++) {
            for (int c = first; c < NCOLS; c++) {
                const char *text = i == 0 ? COLS[c].head : cells[i - 1][c];
                int w = COLS[c].right ? (int)width[c] : c == NCOLS - 1 ? 0 : -(int)width[c];
                sb_printf(b, "%s%*s", c == first ? "" : "  ", w, text);
            }
            sb_printf(b, "\n");
        }
    }
    free(cells);
}

/* RFC 4180: a field with a comma, quote or space-sensitive content is quoted. */
static void csv_field(sbuf *b, const char *s, int last)
{
    if (strpbrk(s, ",\"\n\r")) {
        sb_printf(b, "\"");
        for (; *s; s++) {
            if (*s == '"')
                sb_printf(b, "\"\"");
            else
                sb_printf(b, "%c", *s);
        }
        sb_printf(b, "\"");
    } else {
        sb_printf(b, "%s", s);
    }
    sb_printf(b, last ? "\n" : ",");
}

static void csv_num(sbuf *b, double x)
{
    if (isnan(x))
        sb_printf(b, ",");
    else
        sb_printf(b, "%.17g,", x);
}

static const char CSV_HEADER[] =
    "run,date,path,workload,shape,backend,device,execution_path,engaged,measured_of,measured_rows_per_s,"
    "engaged_rows_per_s,seconds_per_rep,median_s,q1_s,q3_s,rel_iqr,rse_median,reps,noisy,roofline_bound_s,"
    "roofline_efficiency,residency_speedup,parity_rel_err,parity_pass,gates_passed,gates_applied,gates_failed,"
    "target_status,verdict,exit_code,git\n";

static const char *tri(int x) { return x == 1 ? "true" : x == 0 ? "false" : ""; }

static void render_csv(sbuf *b, const sb_vset *s, const size_t *order)
{
    sb_printf(b, "%s", CSV_HEADER);
    for (size_t i = 0; i < s->n; i++) {
        const sb_vrec *v = &s->items[order[i]];
        csv_field(b, v->run, 0);
        csv_field(b, v->date, 0);
        csv_field(b, v->path, 0);
        csv_field(b, v->workload, 0);
        csv_field(b, v->shape, 0);
        csv_field(b, v->backend, 0);
        csv_field(b, v->device, 0);
        csv_field(b, v->execution_path, 0);
        csv_field(b, tri(v->engaged), 0);
        csv_field(b, v->measured_of, 0);
        csv_num(b, v->measured_rows_per_s);
        csv_num(b, v->engaged_rows_per_s);
        csv_num(b, v->seconds_per_rep);
        csv_num(b, v->timing.median_s);
        csv_num(b, v->timing.q1_s);
        csv_num(b, v->timing.q3_s);
        csv_num(b, v->timing.rel_iqr);
        csv_num(b, v->timing.rse_median);
        if (v->timing.reps >= 0)
            sb_printf(b, "%lld,", (long long)v->timing.reps);
        else
            sb_printf(b, ",");
        csv_field(b, tri(v->timing.noisy), 0);
        csv_num(b, v->bound_s);
        csv_num(b, v->efficiency);
        csv_num(b, v->residency_speedup);
        csv_num(b, v->parity_rel_err);
        csv_field(b, tri(v->parity_pass), 0);
        size_t applied, passed;
        sb_vrec_gate_counts(v, &applied, &passed);
        sb_printf(b, "%zu,%zu,", passed, applied);
        char failed[CELL];
        failed_gates(v, failed, sizeof failed, " ");
        csv_field(b, failed, 0);
        csv_field(b, v->target_status, 0);
        csv_field(b, v->verdict, 0);
        sb_printf(b, "%d,", v->exit_code);
        csv_field(b, v->git, 1);
    }
}

static void json_num(cJSON *o, const char *key, double x) { cJSON_AddItemToObject(o, key, sb_json_number(x)); }

static void json_tri(cJSON *o, const char *key, int x)
{
    if (x < 0)
        cJSON_AddNullToObject(o, key);
    else
        cJSON_AddBoolToObject(o, key, x);
}

static char *render_json(const sb_vset *s, const size_t *order)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema", "saebench.report/1");
    cJSON_AddNumberToObject(root, "verdicts", (double)s->n);
    cJSON_AddNumberToObject(root, "skipped_non_verdict_json", (double)s->skipped);
    cJSON *rows = cJSON_AddArrayToObject(root, "rows");
    for (size_t i = 0; i < s->n; i++) {
        const sb_vrec *v = &s->items[order[i]];
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "run", v->run);
        cJSON_AddStringToObject(r, "date", v->date);
        cJSON_AddStringToObject(r, "date_from", v->date_from);
        cJSON_AddStringToObject(r, "path", v->path);
        cJSON_AddStringToObject(r, "workload", v->workload);
        cJSON_AddStringToObject(r, "shape", v->shape);
        cJSON_AddStringToObject(r, "backend", v->backend);
        cJSON_AddStringToObject(r, "device", v->device);
        cJSON_AddStringToObject(r, "execution_path", v->execution_path);
        cJSON_AddBoolToObject(r, "engaged", v->engaged == 1);
        cJSON_AddStringToObject(r, "measured_of", v->measured_of);
        json_num(r, "measured_rows_per_s", v->measured_rows_per_s);
        json_num(r, "engaged_rows_per_s", v->engaged_rows_per_s);
        json_num(r, "seconds_per_rep", v->seconds_per_rep);
        cJSON *t = cJSON_AddObjectToObject(r, "timing");
        json_num(t, "median_s", v->timing.median_s);
        json_num(t, "q1_s", v->timing.q1_s);
        json_num(t, "q3_s", v->timing.q3_s);
        json_num(t, "rel_iqr", v->timing.rel_iqr);
        json_num(t, "rse_median", v->timing.rse_median);
        json_num(t, "reps", v->timing.reps >= 0 ? (double)v->timing.reps : NAN);
        json_tri(t, "noisy", v->timing.noisy);
        cJSON *ph = cJSON_AddObjectToObject(r, "phases_median_s");
        for (size_t k = 0; k < v->nphases; k++)
            json_num(ph, v->phases[k].name, v->phases[k].t.median_s);
        json_num(r, "residency_speedup", v->residency_speedup);
        json_num(r, "roofline_bound_s", v->bound_s);
        json_num(r, "roofline_efficiency", v->efficiency);
        json_num(r, "parity_rel_err", v->parity_rel_err);
        json_tri(r, "parity_pass", v->parity_pass);
        size_t applied, passed;
        sb_vrec_gate_counts(v, &applied, &passed);
        cJSON_AddNumberToObject(r, "gates_passed", (double)passed);
        cJSON_AddNumberToObject(r, "gates_applied", (double)applied);
        cJSON *failed = cJSON_AddArrayToObject(r, "gates_failed");
        for (size_t k = 0; k < v->ngates; k++)
            if (v->gates[k].applies == 1 && v->gates[k].pass == 0)
                cJSON_AddItemToArray(failed, cJSON_CreateString(v->gates[k].id));
        cJSON_AddStringToObject(r, "target_status", v->target_status);
        cJSON_AddStringToObject(r, "verdict", v->verdict);
        cJSON_AddNumberToObject(r, "exit_code", v->exit_code);
        cJSON_AddStringToObject(r, "git", v->git);
        cJSON_AddItemToArray(rows, r);
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    return text;
}

/* ------------------------------------------------------------ --html */

/* gnuplot found on PATH (an executable regular file), the way execvp looks. */
static int on_path(const char *prog)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        return 0;
    while (*path) {
        const char *colon = strchr(path, ':');
        size_t n = colon ? (size_t)(colon - path) : strlen(path);
        char full[4096];
        if (n > 0 && n + strlen(prog) + 2 < sizeof full) {
            snprintf(full, sizeof full, "%.*s/%s", (int)n, path, prog);
            struct stat st;
            if (stat(full, &st) == 0 && S_ISREG(st.st_mode) && access(full, X_OK) == 0)
                return 1;
        }
        path += n + (colon ? 1 : 0);
    }
    return 0;
}

/* A label in a gnuplot data file: tab-separated columns, no quotes or '#'
 * (a comment), and the terminal is noenhanced so '_' and '^' stay literal. */
static void plot_label(const sb_vrec *v, char *buf, size_t len)
{
    snprintf(buf, len, "%s %s %s %s%s", v->workload, v->shape, v->backend, v->device,
             v->engaged == 1 ? " [engaged]" : "");
    for (char *c = buf; *c; c++)
        if (*c == '"' || *c == '#' || *c == '\t' || *c == '\'' || *c == '\\')
            *c = '_';
}

static void html_escape(sbuf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': sb_printf(b, "&amp;"); break;
        case '<': sb_printf(b, "&lt;"); break;
        case '>': sb_printf(b, "&gt;"); break;
        case '"': sb_printf(b, "&quot;"); break;
        case '\'': sb_printf(b, "&#39;"); break;
        default: sb_printf(b, "%c", *s);
        }
    }
}

static sb_rc write_in(const char *dir, const char *name, const char *text, sb_err *err)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
        return sb_fail(err, SB_E_INPUT, "%s: path too long", dir);
    return sb_write_atomic(path, text, err);
}

typedef struct chart {
    const char *png, *title, *alt;
    int made;
} chart;

/* The newest verdict of each key that measured something (the charts of
 * "where we are now"; a failed run has nothing to draw and is in the table). */
static void newest_per_key(const sb_vset *s, const size_t *order, int *latest)
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

static double bound_rows_per_s(const sb_vrec *v)
{
    /* rows per rep = measured rows/s x s/rep; the bound is rows per rep / bound_s. */
    double rows = v->measured_rows_per_s * v->seconds_per_rep;
    return isfinite(rows) && rows > 0 && isfinite(v->bound_s) && v->bound_s > 0 ? rows / v->bound_s : NAN;
}

static void dat_num(sbuf *b, double x)
{
    if (isfinite(x) && x > 0)
        sb_printf(b, "\t%.9g", x);
    else
        sb_printf(b, "\t?");
}

/* Writes the data files and the gnuplot script; marks which charts have data. */
static sb_rc write_plot_inputs(const char *dir, const sb_vset *s, const size_t *order, const int *latest,
                               chart *charts, sb_err *err)
{
    sbuf thr = {0}, res = {0}, ph = {0}, hist = {0}, gp = {0};
    char label[600];
    /* throughput.dat: label, measured rows/s, roofline bound rows/s */
    sb_printf(&thr, "# saebench report: latest verdict per key; rows/s measured and its roofline bound\n");
    sb_printf(&res, "# saebench report: latest verdict per key; residency speedup (re-upload s / resident s)\n");
    int nthr = 0, nres = 0;
    /* phases.dat: one column per phase name seen, in order of first appearance. */
    const char *names[64];
    size_t nnames = 0;
    for (size_t i = 0; i < s->n; i++) {
        const sb_vrec *v = &s->items[order[i]];
        if (!latest[i])
            continue;
        plot_label(v, label, sizeof label);
        if (v->measured_rows_per_s > 0) {
            sb_printf(&thr, "%s", label);
            dat_num(&thr, v->measured_rows_per_s);
            dat_num(&thr, bound_rows_per_s(v));
            sb_printf(&thr, "\n");
            nthr++;
        }
        if (isfinite(v->residency_speedup) && v->residency_speedup > 0) {
            sb_printf(&res, "%s", label);
            dat_num(&res, v->residency_speedup);
            sb_printf(&res, "\n");
            nres++;
        }
        for (size_t k = 0; k < v->nphases; k++) {
            size_t j = 0;
            while (j < nnames && strcmp(names[j], v->phases[k].name) != 0)
                j++;
            if (j == nnames && nnames < 64)
                names[nnames++] = v->phases[k].name;
        }
    }
    int nph = 0;
    sb_printf(&ph, "verdict");
    for (size_t j = 0; j < nnames; j++) {
        char n[64];
        snprintf(n, sizeof n, "%s", names[j]);
        for (char *c = n; *c; c++)
            if (*c == '"' || *c == '#' || *c == '\t' || *c == '\'' || *c == '\\')
                *c = '_';
        sb_printf(&ph, "\t%s", n);
    }
    sb_printf(&ph, "\n");
    for (size_t i = 0; i < s->n && nnames; i++) {
        const sb_vrec *v = &s->items[order[i]];
        if (!latest[i] || v->nphases == 0)
            continue;
        plot_label(v, label, sizeof label);
        sb_printf(&ph, "%s", label);
        for (size_t j = 0; j < nnames; j++) {
            const sb_vtiming *t = sb_vrec_phase(v, names[j]);
            dat_num(&ph, t ? t->median_s : NAN);
        }
        sb_printf(&ph, "\n");
        nph++;
    }
    /* history.dat: one block per key measured in at least two run sets, each
     * block "date<TAB>key" then epoch seconds and s/rep, oldest first. */
    int nhist = 0;
    for (size_t i = 0; i < s->n;) {
        size_t j = i + 1;
        while (j < s->n && sb_vrec_same_key(&s->items[order[i]], &s->items[order[j]]))
            j++;
        int points = 0, runs = 0;
        for (size_t k = i; k < j; k++) {
            const sb_vrec *v = &s->items[order[k]];
            points += v->seconds_per_rep > 0;
            runs += k == i || strcmp(v->run, s->items[order[k - 1]].run) != 0 ||
                    v->date_epoch != s->items[order[k - 1]].date_epoch;
        }
        if (points >= 2 && runs >= 2) {
            plot_label(&s->items[order[i]], label, sizeof label);
            sb_printf(&hist, "%sdate\t%s\n", nhist ? "\n\n" : "", label);
            for (size_t k = i; k < j; k++) {
                const sb_vrec *v = &s->items[order[k]];
                if (v->seconds_per_rep > 0)
                    sb_printf(&hist, "%lld\t%.9g\n", (long long)v->date_epoch, v->seconds_per_rep);
            }
            nhist++;
        }
        i = j;
    }

    charts[0].made = nthr > 0;
    charts[1].made = nres > 0;
    charts[2].made = nph > 0 && nnames > 0;
    charts[3].made = nhist > 0;
    /* pngcairo when this gnuplot has it (Debian's gnuplot-nox does), else libgd's png. */
    sb_printf(&gp,
              "# Written by saebench report --html; rerun with: gnuplot charts.gp (in this directory)\n"
              "if (strstrt(GPVAL_TERMINALS, \"pngcairo\") > 0) {\n"
              "    set terminal pngcairo size 1100,600 noenhanced font \"sans,9\"\n"
              "} else {\n"
              "    set terminal png size 1100,600 noenhanced\n"
              "}\n"
              "set datafile separator \"\\t\"\n"
              "set datafile missing \"?\"\n"
              "set grid ytics\n"
              "set key top left opaque\n"
              "set bmargin 12\n"
              "set style fill solid 0.85 border -1\n"
              "set xtics rotate by -30 left nomirror\n"
              "set format y \"%%.3g\"\n");
    if (charts[0].made)
        sb_printf(&gp,
                  "set output \"throughput.png\"\n"
                  "set title \"rows/s per shape and backend (latest verdict of each) against its roofline bound\"\n"
                  "set ylabel \"rows/s (log scale)\"\n"
                  "set logscale y\n"
                  "set style data histograms\n"
                  "set style histogram clustered gap 1\n"
                  "plot \"throughput.dat\" using 2:xtic(1) title \"measured rows/s\" lc rgb \"#3b6ea5\", "
                  "\"\" using 3 title \"roofline bound rows/s\" lc rgb \"#c8c8c8\"\n"
                  "unset logscale y\n");
    if (charts[1].made)
        sb_printf(&gp,
                  "set output \"residency.png\"\n"
                  "set title \"residency speedup: re-upload s/rep over resident s/rep (1 = no gain)\"\n"
                  "set ylabel \"speedup (x)\"\n"
                  "set yrange [0:*]\n"
                  "set style data histograms\n"
                  "set style histogram clustered gap 1\n"
                  "set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead dashtype 2 lc rgb \"#a03030\"\n"
                  "plot \"residency.dat\" using 2:xtic(1) title \"speedup\" lc rgb \"#4a9a5a\"\n"
                  "unset arrow 1\n"
                  "set yrange [*:*]\n");
    if (charts[2].made)
        sb_printf(&gp,
                  "set output \"phases.png\"\n"
                  "set title \"median seconds per rep of each timed phase (latest verdict of each)\"\n"
                  "set ylabel \"s/rep (log scale)\"\n"
                  "set logscale y\n"
                  "set style data histograms\n"
                  "set style histogram clustered gap 1\n"
                  "plot for [i=2:%zu] \"phases.dat\" using i:xtic(1) title columnhead(i)\n"
                  "unset logscale y\n",
                  nnames + 1);
    if (charts[3].made)
        sb_printf(&gp,
                  "set output \"history.png\"\n"
                  "set title \"primary median s/rep across runs\"\n"
                  "set ylabel \"s/rep (log scale)\"\n"
                  "set logscale y\n"
                  "set xdata time\n"
                  "set timefmt \"%%s\"\n"
                  "set format x \"%%Y-%%m-%%d %%H:%%M\"\n"
                  "set bmargin 9\n"
                  "set key outside right top\n"
                  "set offsets graph 0.03, graph 0.03, 0, 0\n"
                  "plot for [i=0:%d] \"history.dat\" index i using 1:2 with linespoints pt 7 title columnhead(2)\n",
                  nhist - 1);
    sb_printf(&gp, "set output\n");

    sb_rc rc = SB_OK;
    if (!sb_text(&thr) || !sb_text(&res) || !sb_text(&ph) || !sb_text(&hist) || !sb_text(&gp))
        rc = sb_fail(err, SB_E_RUNTIME, "out of memory writing the chart data");
    if (!rc) rc = write_in(dir, "throughput.dat", thr.p, err);
    if (!rc) rc = write_in(dir, "residency.dat", res.p, err);
    if (!rc) rc = write_in(dir, "phases.dat", ph.p, err);
    if (!rc) rc = write_in(dir, "history.dat", hist.p, err);
    if (!rc) rc = write_in(dir, "charts.gp", gp.p, err);
    free(thr.p);
    free(res.p);
    free(ph.p);
    free(hist.p);
    free(gp.p);
    return rc;
}

/* gnuplot charts.gp in dir, its output in dir/gnuplot.log. */
static sb_rc run_gnuplot(const char *dir, sb_err *err)
{
    char log[4096];
    if ((size_t)snprintf(log, sizeof log, "%s/gnuplot.log", dir) >= sizeof log)
        return sb_fail(err, SB_E_INPUT, "%s: path too long", dir);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return sb_fail(err, SB_E_RUNTIME, "cannot start gnuplot: %s", strerror(errno));
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (chdir(dir) != 0)
            _exit(126);
        execlp("gnuplot", "gnuplot", "charts.gp", (char *)NULL);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return sb_fail(err, SB_E_RUNTIME, "waiting for gnuplot: %s", strerror(errno));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return sb_fail(err, SB_E_RUNTIME, "gnuplot failed (%s %d); its output is in %s",
                       WIFEXITED(status) ? "exit" : "signal",
                       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), log);
    return SB_OK;
}

static void html_table(sbuf *b, const sb_vset *s, const size_t *order)
{
    int first = several_runs(s) ? COL_RUN : COL_WORKLOAD;
    char cells[NCOLS][CELL];
    sb_printf(b, "<table>\n<thead><tr>");
    for (int c = first; c < NCOLS; c++) {
        sb_printf(b, "<th%s>", COLS[c].right ? " class=\"num\"" : "");
        html_escape(b, COLS[c].head);
        sb_printf(b, "</th>");
    }
    sb_printf(b, "</tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < s->n; i++) {
        const sb_vrec *v = &s->items[order[i]];
        row_cells(v, cells);
        sb_printf(b, "<tr class=\"%s%s\" title=\"", strcmp(v->verdict, "pass") == 0 ? "pass" : "fail",
                  v->timing.noisy == 1 ? " noisy" : "");
        html_escape(b, v->path);
        sb_printf(b, "\">");
        for (int c = first; c < NCOLS; c++) {
            sb_printf(b, "<td%s>", COLS[c].right ? " class=\"num\"" : "");
            html_escape(b, cells[c]);
            sb_printf(b, "</td>");
        }
        sb_printf(b, "</tr>\n");
    }
    sb_printf(b, "</tbody>\n</table>\n");
}

static sb_rc write_html(const report_opts *o, const sb_vset *s, const size_t *order, sb_err *err)
{
    const char *dir = o->html;
    if (!on_path("gnuplot"))
        return sb_fail(err, SB_E_INPUT,
                       "report --html needs gnuplot, which is not on PATH (Debian: apt-get install gnuplot-nox)");
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            return sb_fail(err, SB_E_INPUT, "--html %s: exists and is not a directory", dir);
    } else if (mkdir(dir, 0777) != 0) {
        return sb_fail(err, SB_E_INPUT, "--html %s: cannot create the directory: %s", dir, strerror(errno));
    }
    int *latest = sb_alloc(s->n, sizeof *latest, err);
    if (!latest)
        return SB_E_RUNTIME;
    newest_per_key(s, order, latest);
    chart charts[4] = {
        {"throughput.png", "Throughput against the roofline",
         "bar chart: measured rows/s and the roofline bound rows/s of each shape and backend", 0},
        {"residency.png", "Residency speedup", "bar chart: re-upload over resident seconds per rep", 0},
        {"phases.png", "Per-phase breakdown", "bar chart: median seconds per rep of each timed phase", 0},
        {"history.png", "History across runs", "line chart: primary median seconds per rep of each key over run dates", 0},
    };
    sb_rc rc = write_plot_inputs(dir, s, order, latest, charts, err);
    free(latest);
    sbuf csv = {0};
    if (!rc) {
        render_csv(&csv, s, order);
        const char *t = sb_text(&csv);
        rc = t ? write_in(dir, "report.csv", t, err) : sb_fail(err, SB_E_RUNTIME, "out of memory");
    }
    free(csv.p);
    if (!rc)
        rc = run_gnuplot(dir, err);
    for (int k = 0; k < 4 && !rc; k++) {
        char png[4096];
        snprintf(png, sizeof png, "%s/%s", dir, charts[k].png);
        if (charts[k].made && (stat(png, &st) != 0 || st.st_size == 0))
            rc = sb_fail(err, SB_E_RUNTIME, "gnuplot wrote no %s (see %s/gnuplot.log)", png, dir);
    }
    if (rc)
        return rc;

    sbuf b = {0};
    char now[32];
    sb_format_date((int64_t)time(NULL), now, sizeof now);
    sb_printf(&b,
              "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
              "<title>saebench report</title>\n<style>\n"
              "body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; padding: 0 1em; }\n"
              "h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ddd; }\n"
              "table { border-collapse: collapse; font: 12px/1.3 ui-monospace, monospace; }\n"
              "th, td { padding: 3px 8px; border-bottom: 1px solid #e4e4e4; text-align: left; white-space: nowrap; }\n"
              "th { background: #f3f3f3; } td.num, th.num { text-align: right; }\n"
              "tr.fail td { background: #fbe9e9; } tr.noisy td:last-child { color: #a05a00; font-weight: bold; }\n"
              "img { max-width: 100%%; border: 1px solid #ddd; } .note { color: #555; }\n"
              "</style>\n</head>\n<body>\n<h1>saebench report</h1>\n<p class=\"note\">");
    sb_printf(&b, "%zu verdict%s from ", s->n, s->n == 1 ? "" : "s");
    for (int i = 0; i < o->npaths; i++) {
        sb_printf(&b, "%s<code>", i ? ", " : "");
        html_escape(&b, o->paths[i]);
        sb_printf(&b, "</code>");
    }
    sb_printf(&b, "; written %s by saebench %s. ", now, SB_VERSION);
    sb_printf(&b,
              "rows/s is labelled by what measured it: <em>engaged</em> is a device number from an engaged run; "
              "<em>host</em> is a host measurement and never a device number. Fields: docs/verdict.md. "
              "The table as CSV: <a href=\"report.csv\">report.csv</a>.</p>\n");
    html_table(&b, s, order);
    for (int k = 0; k < 4; k++) {
        sb_printf(&b, "<h2>%s</h2>\n", charts[k].title);
        if (charts[k].made)
            sb_printf(&b, "<p><img src=\"%s\" alt=\"%s\"></p>\n", charts[k].png, charts[k].alt);
        else
            sb_printf(&b, "<p class=\"note\">%s</p>\n",
                      k == 0 ? "No verdict has a measured rows/s."
                      : k == 1 ? "No verdict has a residency speedup (a re-upload phase)."
                      : k == 2 ? "No verdict has timing.phases."
                               : "Only one run of each key: give several dated result sets "
                                 "(results/&lt;date&gt;/...) for a history.");
    }
    sb_printf(&b, "<p class=\"note\">Charts drawn by gnuplot from <code>*.dat</code> with <code>charts.gp</code> "
                  "in this directory.</p>\n</body>\n</html>\n");
    const char *t = sb_text(&b);
    rc = t ? write_in(dir, "index.html", t, err) : sb_fail(err, SB_E_RUNTIME, "out of memory");
    free(b.p);
    return rc;
}

/* ------------------------------------------------------------ the command */

int sb_cmd_report(int argc, char **argv)
{
    report_opts o;
    sb_err err = {{0}};
    sb_rc rc = parse_args(argc, argv, &o, &err);
    if (rc == SB_OK && o.help) {
        fputs(USAGE, stdout);
        free(o.paths);
        return SB_EXIT_PASS;
    }
    sb_vset set = {0};
    size_t *order = NULL;
    if (rc == SB_OK && strcmp(o.out, "-") != 0)
        rc = sb_check_writable(o.out, &err); /* before any work, as the workloads do */
    for (int i = 0; rc == SB_OK && i < o.npaths; i++)
        rc = sb_vset_load(o.paths[i], &set, &err);
    if (rc == SB_OK) {
        order = sb_alloc(set.n, sizeof *order, &err);
        rc = order ? SB_OK : SB_E_RUNTIME;
    }
    if (rc == SB_OK) {
        for (size_t i = 0; i < set.n; i++)
            order[i] = i;
        g_sort_set = &set;
        qsort(order, set.n, sizeof *order, by_key_date);
        g_sort_set = NULL;
        if (o.html)
            rc = write_html(&o, &set, order, &err);
    }
    if (rc == SB_OK) {
        sbuf b = {0};
        char *json = NULL;
        const char *text = NULL;
        switch (o.format) {
        case FMT_TEXT: render_table(&b, &set, order, 0); text = sb_text(&b); break;
        case FMT_MD: render_table(&b, &set, order, 1); text = sb_text(&b); break;
        case FMT_CSV: render_csv(&b, &set, order); text = sb_text(&b); break;
        case FMT_JSON: text = json = render_json(&set, order); break;
        }
        rc = text ? sb_write_atomic(o.out, text, &err) : sb_fail(&err, SB_E_RUNTIME, "out of memory rendering the report");
        free(b.p);
        cJSON_free(json);
    }
    free(order);
    free(o.paths);
    sb_vset_free(&set);
    if (rc) {
        fprintf(stderr, "saebench: %s\n", err.msg);
        return rc == SB_E_RUNTIME ? SB_EXIT_RUNTIME : SB_EXIT_USAGE;
    }
    return SB_EXIT_PASS;
}
