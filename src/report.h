/* What the parts of 'saebench report' share: cmd_report.c (options, loading
 * and ordering the verdicts, dispatch), report_text.c (the table as aligned
 * text, Markdown, CSV or JSON) and report_html.c (the --html dashboard and
 * its gnuplot charts).
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
    COL_EFF, COL_PARITY, COL_GATES, COL_FAILED, COL_VERDICT, COL_NOISY, NCOLS
};

/* One column: its heading, and whether its numbers align right. */
typedef struct sb_report_col {
    const char *head;
    int right;
} sb_report_col;

extern const sb_report_col SB_REPORT_COLS[NCOLS];

/* The size of one rendered cell, NUL included. */
#define SB_REPORT_CELL 320

/* The text of every column of one verdict's row. */
void sb_report_row_cells(const sb_vrec *v, char cells[NCOLS][SB_REPORT_CELL]);

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
