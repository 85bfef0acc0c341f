/* The table of 'saebench report' as aligned text, Markdown, CSV and JSON
 * (report.h), and the cells every printer shares, the dashboard's included.
 * Nothing here knows the list of workloads, shapes or phases: every row is
 * what verdict_read.c read. Fields: docs/verdict.md. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "verdict.h"

/* ------------------------------------------------------------ cells */

const sb_report_col SB_REPORT_COLS[NCOLS] = {
    {"run", 0}, {"workload", 0}, {"shape", 0}, {"backend", 0}, {"device", 0}, {"rows/s", 1},
    {"of", 0}, {"s/rep", 1}, {"roofline eff", 1}, {"parity rel_err", 1}, {"gates", 1},
    {"failed gates", 0}, {"verdict", 0}, {"noisy", 0}, {"valid", 0},
};

#define CELL SB_REPORT_CELL

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

/* The ids of the gates that applied and failed, joined by sep; "..." at the
 * end when they do not fit in len. */
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

int sb_report_suspect(const sb_vrec *v)
{
    return v->roofline_suspect == 1 || (v->roofline_suspect == -1 && v->efficiency > 1);
}

unsigned sb_report_marks(const sb_vrec *v)
{
    return (strcmp(v->verdict, "pass") != 0 ? SB_MARK_FAIL : 0u) | (v->timing.noisy == 1 ? SB_MARK_NOISY : 0u) |
           (sb_report_suspect(v) ? SB_MARK_SUSPECT : 0u);
}

void sb_report_marks_text(unsigned marks, char *buf, size_t len)
{
    snprintf(buf, len, "%s%s%s", marks & SB_MARK_FAIL ? "FAIL" : "pass", marks & SB_MARK_NOISY ? " noisy" : "",
             marks & SB_MARK_SUSPECT ? " suspect" : "");
}

const char *sb_report_mark_class(unsigned marks)
{
    return marks & SB_MARK_FAIL ? "fail" : marks & SB_MARK_SUSPECT ? "suspect" : marks & SB_MARK_NOISY ? "noisy" : "pass";
}

/* The device that ran; a run that asked for a device and got none has no
 * device to name, and "host" would read as if the host had run it. On exit 3
 * the backend is the one asked for and nothing ran (docs/verdict.md). A
 * plugin that ran names what it claims: "host", or "claimed by plugin: ...". */
void sb_report_device(const sb_vrec *v, char *buf, size_t len)
{
    if (v->device_null && strcmp(v->backend, "host") != 0 && strncmp(v->execution_path, "plugin-", 7) != 0)
        snprintf(buf, len, "%s requested, not engaged%s", v->backend, v->exit_code == 3 ? ": nothing ran" : "");
    else
        snprintf(buf, len, "%s", v->device);
}

void sb_report_row_cells(const sb_vrec *v, char cells[NCOLS][CELL])
{
    snprintf(cells[COL_RUN], CELL, "%s", v->run);
    snprintf(cells[COL_WORKLOAD], CELL, "%s", v->workload);
    snprintf(cells[COL_SHAPE], CELL, "%s", v->shape);
    snprintf(cells[COL_BACKEND], CELL, "%s%s", v->backend, strcmp(v->cache, "cold") == 0 ? " cold" : "");
    sb_report_device(v, cells[COL_DEVICE], CELL);
    fmt_g(v->measured_rows_per_s, "%.4g", cells[COL_ROWS]);
    snprintf(cells[COL_OF], CELL, "%s", measured_by(v));
    fmt_g(v->seconds_per_rep, "%.4g", cells[COL_SREP]);
    /* Above 100% is faster than the bound: a ceiling or a timing is wrong. */
    fmt_g(100 * v->efficiency, sb_report_suspect(v) ? "%.1f%% (suspect: above the roofline bound)" : "%.1f%%",
          cells[COL_EFF]);
    fmt_g(v->parity_rel_err, "%.2e", cells[COL_PARITY]);
    size_t applied, passed;
    sb_vrec_gate_counts(v, &applied, &passed);
    snprintf(cells[COL_GATES], CELL, "%zu/%zu", passed, applied);
    failed_gates(v, cells[COL_FAILED], CELL, ",");
    if (!cells[COL_FAILED][0])
        snprintf(cells[COL_FAILED], CELL, "-");
    snprintf(cells[COL_VERDICT], CELL, "%s", v->verdict);
    snprintf(cells[COL_NOISY], CELL, "%s", v->timing.noisy == 1 ? "NOISY" : v->timing.noisy == 0 ? "no" : "-");
    /* validity.valid (docs/verdict.md); "-" for verdicts written before it */
    snprintf(cells[COL_VALID], CELL, "%s", v->valid == 1 ? "valid" : v->valid == 0 ? "no" : "-");
}

int sb_report_several_runs(const sb_vset *s)
{
    for (size_t i = 1; i < s->n; i++)
        if (strcmp(s->items[i].run, s->items[0].run) != 0)
            return 1;
    return 0;
}

/* ------------------------------------------------------------ text and Markdown */

typedef char row_text[NCOLS][CELL];

/* Markdown: a header row, the alignment row, '|' in a cell escaped. */
static void table_md(sbuf *b, const row_text *cells, size_t n, int first)
{
    sb_printf(b, "|");
    for (int c = first; c < NCOLS; c++)
        sb_printf(b, " %s |", SB_REPORT_COLS[c].head);
    sb_printf(b, "\n|");
    for (int c = first; c < NCOLS; c++)
        sb_printf(b, "%s|", SB_REPORT_COLS[c].right ? "---:" : "---");
    sb_printf(b, "\n");
    for (size_t i = 0; i < n; i++) {
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
}

/* Columns padded to their widest cell, numbers to the right, the last column
 * unpadded (no trailing blanks). */
static void table_aligned(sbuf *b, const row_text *cells, size_t n, int first)
{
    size_t width[NCOLS];
    for (int c = 0; c < NCOLS; c++)
        width[c] = strlen(SB_REPORT_COLS[c].head);
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < NCOLS; c++)
            if (strlen(cells[i][c]) > width[c])
                width[c] = strlen(cells[i][c]);
    for (size_t i = 0; i <= n; i++) {
        for (int c = first; c < NCOLS; c++) {
            const char *text = i == 0 ? SB_REPORT_COLS[c].head : cells[i - 1][c];
            int w = SB_REPORT_COLS[c].right ? (int)width[c] : c == NCOLS - 1 ? 0 : -(int)width[c];
            sb_printf(b, "%s%*s", c == first ? "" : "  ", w, text);
        }
        sb_printf(b, "\n");
    }
}

void sb_report_table(sbuf *b, const sb_vset *s, const size_t *order, int md)
{
    int first = sb_report_several_runs(s) ? COL_RUN : COL_WORKLOAD;
    row_text *cells = malloc((s->n ? s->n : 1) * sizeof *cells);
    if (!cells) {
        b->oom = 1;
        return;
    }
    for (size_t i = 0; i < s->n; i++)
        sb_report_row_cells(&s->items[order[i]], cells[i]);
    if (md)
        table_md(b, cells, s->n, first);
    else
        table_aligned(b, cells, s->n, first);
    free(cells);
}

/* ------------------------------------------------------------ CSV */

/* A field holding a comma, a quote or a line break is quoted, its quotes doubled. */
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

/* A number in full precision; empty when absent. */
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
    "target_status,verdict,exit_code,git,roofline_suspect,cache\n";

static const char *tri(int x) { return x == 1 ? "true" : x == 0 ? "false" : ""; }

/* One verdict as a CSV line, in CSV_HEADER's order. */
static void csv_row(sbuf *b, const sb_vrec *v)
{
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
    csv_field(b, v->git, 0);
    csv_field(b, tri(v->roofline_suspect), 0);
    csv_field(b, v->cache[0] ? v->cache : "warm", 1);
}

void sb_report_csv(sbuf *b, const sb_vset *s, const size_t *order)
{
    sb_printf(b, "%s", CSV_HEADER);
    for (size_t i = 0; i < s->n; i++)
        csv_row(b, &s->items[order[i]]);
}

/* ------------------------------------------------------------ JSON */

static void json_num(cJSON *o, const char *key, double x) { cJSON_AddItemToObject(o, key, sb_json_number(x)); }

/* A flag: true, false, or null when not recorded. */
static void json_tri(cJSON *o, const char *key, int x)
{
    if (x < 0)
        cJSON_AddNullToObject(o, key);
    else
        cJSON_AddBoolToObject(o, key, x);
}

/* The primary timing and every phase's median, added to the row r. */
static void json_timing(cJSON *r, const sb_vrec *v)
{
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
}

static cJSON *json_row(const sb_vrec *v)
{
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
    cJSON_AddStringToObject(r, "cache", v->cache[0] ? v->cache : "warm");
    cJSON_AddBoolToObject(r, "engaged", v->engaged == 1);
    cJSON_AddStringToObject(r, "measured_of", v->measured_of);
    json_num(r, "measured_rows_per_s", v->measured_rows_per_s);
    json_num(r, "engaged_rows_per_s", v->engaged_rows_per_s);
    json_num(r, "seconds_per_rep", v->seconds_per_rep);
    json_timing(r, v);
    json_num(r, "residency_speedup", v->residency_speedup);
    json_num(r, "roofline_bound_s", v->bound_s);
    json_num(r, "roofline_efficiency", v->efficiency);
    json_tri(r, "roofline_suspect", v->roofline_suspect);
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
    return r;
}

char *sb_report_json(const sb_vset *s, const size_t *order)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema", "saebench.report/1");
    cJSON_AddNumberToObject(root, "verdicts", (double)s->n);
    cJSON_AddNumberToObject(root, "skipped_non_verdict_json", (double)s->skipped);
    cJSON *rows = cJSON_AddArrayToObject(root, "rows");
    for (size_t i = 0; i < s->n; i++)
        cJSON_AddItemToArray(rows, json_row(&s->items[order[i]]));
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    return text;
}
