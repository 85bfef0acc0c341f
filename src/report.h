/* What the parts of 'saebench report' share: cmd_report.c (options, loading
 * and ordering the verdicts, dispatch), report_text.c (the table as aligned
 * text, Markdown, CSV or JSON), report_charts.c (the dashboard's chart data
 * and gnuplot script) and report_html.c (the --html dashboard: the page, its
 * folder, running gnuplot).
 *
 * Every printer takes the loaded set and `order`, the indices of its rows in
 * key order (workload, shape, backend, device), then date, then path, and
 * renders the same cells (sb_report_row_cells). Fields: docs/verdict.md. */
#ifndef SB_REPORT_H
#define SB_REPORT_H

#include <stddef.h>

#include "common.h"
#include "strbuf.h"
#include "verdict_read.h"

/* The table's columns, in order; COL_RUN is shown only when the rows come
 * from more than one run set (sb_report_several_runs). */
enum {
    COL_RUN, COL_WORKLOAD, COL_SHAPE, COL_BACKEND, COL_DEVICE, COL_ROWS, COL_OF, COL_SREP,
    COL_EFF, COL_PARITY, COL_GATES, COL_FAILED, COL_VERDICT, COL_NOISY, COL_VALID, NCOLS
};

/* One column: its heading, and whether its numbers align right. */
typedef struct sb_report_col {
    const char *head;
    int right;
} sb_report_col;

extern const sb_report_col SB_REPORT_COLS[NCOLS];

/* The size of one rendered cell, NUL included. */
#define SB_REPORT_CELL 320

/* The text of every column of one verdict's row. The device of a run that
 * asked for a device and got none (device null, backend not host) reads
 * "cuda requested, not engaged", never "host"; a suspect roofline efficiency
 * carries its warning. */
void sb_report_row_cells(const sb_vrec *v, char cells[NCOLS][SB_REPORT_CELL]);

/* The device cell: device.name, or what was asked for when no device ran. */
void sb_report_device(const sb_vrec *v, char *buf, size_t len);

/* A verdict's marks, which the dashboard puts on every number it plots and on
 * its table rows (docs/compare.md, "Related: saebench report"). */
enum { SB_MARK_FAIL = 1, SB_MARK_NOISY = 2, SB_MARK_SUSPECT = 4 };

/* roofline.suspect; for a file without the field, efficiency above 1 (what
 * suspect means, docs/verdict.md). */
int sb_report_suspect(const sb_vrec *v);

/* FAIL: verdict "fail"; NOISY: timing.noisy; SUSPECT: sb_report_suspect. */
unsigned sb_report_marks(const sb_vrec *v);

/* The marks as words: "pass" or "FAIL", then "noisy", "suspect"
 * ("FAIL noisy"). */
void sb_report_marks_text(unsigned marks, char *buf, size_t len);

/* The one mark a chart colours a bar or point by: "fail", else "suspect",
 * else "noisy", else "pass". */
const char *sb_report_mark_class(unsigned marks);

/* 1 when the set's rows come from more than one run set. */
int sb_report_several_runs(const sb_vset *s);

/* report_text.c: the table appended to b, aligned text (md = 0) or Markdown. */
void sb_report_table(sbuf *b, const sb_vset *s, const size_t *order, int md);

/* report_text.c: every field of every row as CSV, with a header line
 * (also the dashboard's report.csv). */
void sb_report_csv(sbuf *b, const sb_vset *s, const size_t *order);

/* report_text.c: the rows as JSON (schema saebench.report/1); the caller
 * frees the text with cJSON_free. NULL when out of memory. */
char *sb_report_json(const sb_vset *s, const size_t *order);

/* ------------------------------------------------------------ the dashboard's charts (report_charts.c) */

/* The page's chart sections, in the page's order. */
enum { SB_CHART_THROUGHPUT, SB_CHART_RESIDENCY, SB_CHART_PHASES, SB_CHART_HISTORY, SB_NCHART_SECTIONS };

typedef struct sb_chart_section {
    const char *title;
    const char *how;  /* how to read its charts: what each colour, symbol and line means */
    const char *none; /* the page's note when there is nothing to draw (HTML) */
} sb_chart_section;

extern const sb_chart_section SB_CHART_SECTIONS[SB_NCHART_SECTIONS];

/* One PNG that charts.gp draws. */
typedef struct sb_chart {
    int section;       /* SB_CHART_* */
    char png[32];      /* its file name in the page's folder */
    char heading[600]; /* the key of a history chart; "" for the others */
    char alt[800];
    char *caption;     /* plain text under it (a history's runs and change points), owned; or NULL */
} sb_chart;

typedef struct sb_charts {
    sb_chart *items;
    size_t n, cap;
    char *single; /* the keys with one verdict (no history), "; "-separated, owned */
} sb_charts;

/* latest[i] = 1 for order[i] when it is the newest verdict of its key that
 * measured something (the bar charts' "where we are now"), else 0. */
void sb_report_latest(const sb_vset *s, const size_t *order, int *latest);

/* Writes the charts' data (*.dat) and charts.gp into dir and lists the PNGs
 * that running gnuplot on charts.gp there draws. Free out with
 * sb_charts_free. */
sb_rc sb_report_charts(const char *dir, const sb_vset *s, const size_t *order, const int *latest, sb_charts *out,
                       sb_err *err);
void sb_charts_free(sb_charts *c);

/* 1 when name is a file the charts write besides the fixed ones
 * (history-NNN.png). */
int sb_report_chart_file(const char *name);

/* The colour of a mark class ("pass", "noisy", "suspect", "fail"), the same
 * in the charts and on the page. */
const char *sb_report_mark_rgb(const char *cls);

/* --html DIR is one saebench may write (it owns it or can create it), before
 * any work; sb_report_html checks again. */
sb_rc sb_report_html_check(const char *dir, sb_err *err);

/* report_html.c: DIR/index.html with the table and the PNG charts, the
 * charts' data (*.dat), charts.gp and report.csv beside it, the charts drawn
 * by running gnuplot there. paths are the arguments the verdicts came from,
 * named on the page. */
sb_rc sb_report_html(const char *dir, const char *const *paths, int npaths, const sb_vset *s,
                     const size_t *order, sb_err *err);

#endif
