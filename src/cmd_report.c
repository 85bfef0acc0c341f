/* saebench report FILE.json|DIR...: every verdict given, merged into one
 * table (aligned text, Markdown, CSV or JSON), and with --html DIR a static
 * dashboard: index.html (inline CSS, no script, works from disk) with the
 * table and PNG charts drawn by gnuplot from data files written beside it
 * (docs/compare.md, "Related: saebench report").
 *
 * This file has the options, the loading and ordering of the verdicts and
 * the dispatch; the printers are in report_text.c and report_html.c
 * (report.h). Every printer renders the same rows read by verdict_read.c;
 * nothing here knows the list of workloads, shapes or phases. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "common.h"
#include "report.h"
#include "verdict.h"
#include "verdict_read.h"

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
    "                       is a run set; a key with several verdicts gets a history chart\n"
    "  --format FMT         the table: text (aligned, default), md, csv or json\n"
    "  --out FILE|-         where the table goes (default - : stdout)\n"
    "  --html DIR           also write DIR/index.html with the table and PNG charts (needs gnuplot;\n"
    "                       Debian: gnuplot-nox): throughput vs roofline, residency speedup,\n"
    "                       per-phase medians (IQR whiskers), and a history chart per key in run\n"
    "                       order with compare's change points; every charted verdict is marked\n"
    "                       pass, FAIL, noisy or suspect (docs/compare.md)\n"
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

/* Rows in key order (workload, shape, backend, device), then by created (else
 * the dated directory; never the file's mtime), then path, so a merged table reads the same whatever order the files came in. */
static const sb_vset *g_sort_set;
static int by_key_date(const void *pa, const void *pb)
{
    const sb_vrec *a = &g_sort_set->items[*(const size_t *)pa], *b = &g_sort_set->items[*(const size_t *)pb];
    int c;
    if ((c = strcmp(a->workload, b->workload)) || (c = strcmp(a->shape, b->shape)) ||
        (c = strcmp(a->backend, b->backend)) || (c = strcmp(a->device, b->device)))
        return c;
    return sb_vrec_order(a, b); /* created, else the dated directory, then path: never mtime */
}

/* The indices of set's rows in by_key_date order; NULL when out of memory. */
static size_t *sorted_rows(const sb_vset *set, sb_err *err)
{
    size_t *order = sb_alloc(set->n, sizeof *order, err);
    if (!order)
        return NULL;
    for (size_t i = 0; i < set->n; i++)
        order[i] = i;
    g_sort_set = set;
    qsort(order, set->n, sizeof *order, by_key_date);
    g_sort_set = NULL;
    return order;
}

/* The table in the chosen format, written to o->out. */
static sb_rc write_table(const report_opts *o, const sb_vset *set, const size_t *order, sb_err *err)
{
    sbuf b = {0};
    char *json = NULL;
    const char *text = NULL;
    switch (o->format) {
    case FMT_TEXT: sb_report_table(&b, set, order, 0); text = sb_text(&b); break;
    case FMT_MD: sb_report_table(&b, set, order, 1); text = sb_text(&b); break;
    case FMT_CSV: sb_report_csv(&b, set, order); text = sb_text(&b); break;
    case FMT_JSON: text = json = sb_report_json(set, order); break;
    }
    sb_rc rc = text ? sb_write_atomic(o->out, text, err) : sb_fail(err, SB_E_RUNTIME, "out of memory rendering the report");
    free(b.p);
    cJSON_free(json);
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
    if (rc == SB_OK && o.html)
        rc = sb_report_html_check(o.html, &err);
    for (int i = 0; rc == SB_OK && i < o.npaths; i++)
        rc = sb_vset_load(o.paths[i], &set, &err);
    if (rc == SB_OK) {
        order = sorted_rows(&set, &err);
        rc = order ? SB_OK : SB_E_RUNTIME;
    }
    if (rc == SB_OK && o.html)
        rc = sb_report_html(o.html, o.paths, o.npaths, &set, order, &err);
    if (rc == SB_OK)
        rc = write_table(&o, &set, order, &err);
    free(order);
    free(o.paths);
    sb_vset_free(&set);
    if (rc) {
        fprintf(stderr, "saebench: %s\n", err.msg);
        return rc == SB_E_RUNTIME ? SB_EXIT_RUNTIME : SB_EXIT_USAGE;
    }
    return SB_EXIT_PASS;
}
