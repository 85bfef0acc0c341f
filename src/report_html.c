/* saebench report --html DIR: a static dashboard. index.html (inline CSS, no
 * script, works from disk) holds the table and four PNG charts, which gnuplot
 * draws from the data files (*.dat) and the script (charts.gp) written beside
 * it; report.csv is the table as CSV. Described in docs/compare.md
 * ("Related: saebench report"); fields: docs/verdict.md.
 *
 * DIR is a folder saebench owns (docs/safety.md): one it creates, an empty
 * one, or one holding its marker file. The new page is built in a fresh
 * folder beside DIR (DIR.tmp.XXXXXX) and swapped in whole, so an interrupted
 * report leaves the old page as it was, and nothing is ever written through a
 * symlink. Files in DIR that saebench does not write stay where they are. */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "report.h"
#include "verdict.h"

/* ------------------------------------------------------------ helpers */

/* prog found on PATH (an executable regular file), the way execvp looks. */
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

/* Text fit for a gnuplot data file: tab-separated columns, no quotes or '#'
 * (a comment); the terminal is noenhanced so '_' and '^' stay literal. */
static void plot_safe(char *s)
{
    for (char *c = s; *c; c++)
        if (*c == '"' || *c == '#' || *c == '\t' || *c == '\'' || *c == '\\')
            *c = '_';
}

/* A verdict's key as a chart label. */
static void plot_label(const sb_vrec *v, char *buf, size_t len)
{
    snprintf(buf, len, "%s %s %s %s%s", v->workload, v->shape, v->backend, v->device,
             v->engaged == 1 ? " [engaged]" : "");
    plot_safe(buf);
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

/* dir/name holds text (and a final newline), written atomically. */
static sb_rc write_in(const char *dir, const char *name, const char *text, sb_err *err)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
        return sb_fail(err, SB_E_INPUT, "%s: path too long", dir);
    return sb_write_atomic(path, text, err);
}

/* A buffer's text into dir/name; out of memory when it could not be built. */
static sb_rc write_buf(const char *dir, const char *name, sbuf *b, sb_err *err)
{
    const char *t = sb_text(b);
    return t ? write_in(dir, name, t, err) : sb_fail(err, SB_E_RUNTIME, "out of memory");
}

/* ------------------------------------------------------------ chart data */

enum { CHART_THROUGHPUT, CHART_RESIDENCY, CHART_PHASES, CHART_HISTORY, NCHARTS };

typedef struct chart {
    const char *png, *title, *alt;
    const char *none; /* the page's note when there is nothing to draw */
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

/* A data cell: the number, or '?' (gnuplot's missing value) unless positive. */
static void dat_num(sbuf *b, double x)
{
    if (isfinite(x) && x > 0)
        sb_printf(b, "\t%.9g", x);
    else
        sb_printf(b, "\t?");
}

/* throughput.dat: label, measured rows/s, roofline bound rows/s of each
 * latest verdict that has a measured rows/s. Returns the number of rows. */
static int throughput_dat(sbuf *b, const sb_vset *s, const size_t *order, const int *latest)
{
    char label[600];
    int rows = 0;
    sb_printf(b, "# saebench report: latest verdict per key; rows/s measured and its roofline bound\n");
    for (size_t i = 0; i < s->n; i++) {
        const sb_vrec *v = &s->items[order[i]];
        if (!latest[i] || !(v->measured_rows_per_s > 0))
            continue;
        plot_label(v, label, sizeof label);
        sb_printf(b, "%s", label);
        dat_num(b, v->measured_rows_per_s);
        dat_num(b, bound_rows_per_s(v));
        sb_printf(b, "\n");
        rows++;
    }
    return rows;
}

/* residency.dat: label, residency speedup of each latest verdict that has one. */
static int residency_dat(sbuf *b, const sb_vset *s, const size_t *order, const int *latest)
{
    char label[600];
    int rows = 0;
    sb_printf(b, "# saebench report: latest verdict per key; residency speedup (re-upload s / resident s)\n");
    for (size_t i = 0; i < s->n; i++) {
        const sb_vrec *v = &s->items[order[i]];
        if (!latest[i] || !(isfinite(v->residency_speedup) && v->residency_speedup > 0))
            continue;
        plot_label(v, label, sizeof label);
        sb_printf(b, "%s", label);
        dat_num(b, v->residency_speedup);
        sb_printf(b, "\n");
        rows++;
    }
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

/* phases.dat: a header line naming the phases, then per latest verdict with
 * phases its label and each phase's median s/rep. Returns the number of rows. */
static int phases_dat(sbuf *b, const sb_vset *s, const size_t *order, const int *latest, const char **names,
                      size_t nnames)
{
    char label[600];
    int rows = 0;
    sb_printf(b, "verdict");
    for (size_t j = 0; j < nnames; j++) {
        char n[64];
        snprintf(n, sizeof n, "%s", names[j]);
        plot_safe(n);
        sb_printf(b, "\t%s", n);
    }
    sb_printf(b, "\n");
    for (size_t i = 0; i < s->n && nnames; i++) {
        const sb_vrec *v = &s->items[order[i]];
        if (!latest[i] || v->nphases == 0)
            continue;
        plot_label(v, label, sizeof label);
        sb_printf(b, "%s", label);
        for (size_t j = 0; j < nnames; j++) {
            const sb_vtiming *t = sb_vrec_phase(v, names[j]);
            dat_num(b, t ? t->median_s : NAN);
        }
        sb_printf(b, "\n");
        rows++;
    }
    return rows;
}

/* history.dat: one block per key measured in at least two run sets, each
 * block "date<TAB>key" then epoch seconds and s/rep, oldest first. Returns
 * the number of blocks. */
static int history_dat(sbuf *b, const sb_vset *s, const size_t *order)
{
    char label[600];
    int blocks = 0;
    for (size_t i = 0; i < s->n;) {
        size_t j = i + 1; /* [i, j) is one key, oldest first */
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
            sb_printf(b, "%sdate\t%s\n", blocks ? "\n\n" : "", label);
            for (size_t k = i; k < j; k++) {
                const sb_vrec *v = &s->items[order[k]];
                if (v->seconds_per_rep > 0)
                    sb_printf(b, "%lld\t%.9g\n", (long long)v->date_epoch, v->seconds_per_rep);
            }
            blocks++;
        }
        i = j;
    }
    return blocks;
}

/* ------------------------------------------------------------ gnuplot */

/* charts.gp: one PNG per chart that has data. nphases is phases.dat's number
 * of phase columns, nhist history.dat's number of blocks. */
static void charts_gp(sbuf *gp, const chart *charts, size_t nphases, int nhist)
{
    /* pngcairo when this gnuplot has it (Debian's gnuplot-nox does), else libgd's png. */
    sb_printf(gp,
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
    if (charts[CHART_THROUGHPUT].made)
        sb_printf(gp,
                  "set output \"throughput.png\"\n"
                  "set title \"rows/s per shape and backend (latest verdict of each) against its roofline bound\"\n"
                  "set ylabel \"rows/s (log scale)\"\n"
                  "set logscale y\n"
                  "set style data histograms\n"
                  "set style histogram clustered gap 1\n"
                  "plot \"throughput.dat\" using 2:xtic(1) title \"measured rows/s\" lc rgb \"#3b6ea5\", "
                  "\"\" using 3 title \"roofline bound rows/s\" lc rgb \"#c8c8c8\"\n"
                  "unset logscale y\n");
    if (charts[CHART_RESIDENCY].made)
        sb_printf(gp,
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
    if (charts[CHART_PHASES].made)
        sb_printf(gp,
                  "set output \"phases.png\"\n"
                  "set title \"median seconds per rep of each timed phase (latest verdict of each)\"\n"
                  "set ylabel \"s/rep (log scale)\"\n"
                  "set logscale y\n"
                  "set style data histograms\n"
                  "set style histogram clustered gap 1\n"
                  "plot for [i=2:%zu] \"phases.dat\" using i:xtic(1) title columnhead(i)\n"
                  "unset logscale y\n",
                  nphases + 1);
    if (charts[CHART_HISTORY].made)
        sb_printf(gp,
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
    sb_printf(gp, "set output\n");
}

/* Writes the data files and the gnuplot script; marks which charts have data. */
static sb_rc write_plot_inputs(const char *dir, const sb_vset *s, const size_t *order, const int *latest,
                               chart *charts, sb_err *err)
{
    enum { THR, RES, PH, HIST, GP, NFILES };
    static const char *const file[NFILES] = {"throughput.dat", "residency.dat", "phases.dat", "history.dat",
                                             "charts.gp"};
    sbuf b[NFILES] = {{0}};
    const char *names[MAX_PHASES];
    size_t nnames = phase_names(s, order, latest, names);
    int nthr = throughput_dat(&b[THR], s, order, latest);
    int nres = residency_dat(&b[RES], s, order, latest);
    int nph = phases_dat(&b[PH], s, order, latest, names, nnames);
    int nhist = history_dat(&b[HIST], s, order);
    charts[CHART_THROUGHPUT].made = nthr > 0;
    charts[CHART_RESIDENCY].made = nres > 0;
    charts[CHART_PHASES].made = nph > 0 && nnames > 0;
    charts[CHART_HISTORY].made = nhist > 0;
    charts_gp(&b[GP], charts, nnames, nhist);

    sb_rc rc = SB_OK;
    for (int f = 0; f < NFILES && !rc; f++)
        if (!sb_text(&b[f]))
            rc = sb_fail(err, SB_E_RUNTIME, "out of memory writing the chart data");
    for (int f = 0; f < NFILES && !rc; f++)
        rc = write_in(dir, file[f], b[f].p, err);
    for (int f = 0; f < NFILES; f++)
        free(b[f].p);
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
        /* gnuplot never outlives saebench (a killed report leaves no
         * process drawing into the folder afterwards). */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() == 1)
            _exit(126);
        int fd = open(log, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
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

/* Every chart with data has a non-empty PNG in dir. */
static sb_rc check_pngs(const char *dir, const chart *charts, sb_err *err)
{
    for (int k = 0; k < NCHARTS; k++) {
        char png[8192];
        struct stat st;
        snprintf(png, sizeof png, "%s/%s", dir, charts[k].png);
        if (charts[k].made && (stat(png, &st) != 0 || st.st_size == 0))
            return sb_fail(err, SB_E_RUNTIME, "gnuplot wrote no %s (see %s/gnuplot.log)", png, dir);
    }
    return SB_OK;
}

/* ------------------------------------------------------------ the page */

static void html_table(sbuf *b, const sb_vset *s, const size_t *order)
{
    int first = sb_report_several_runs(s) ? COL_RUN : COL_WORKLOAD;
    char cells[NCOLS][SB_REPORT_CELL];
    sb_printf(b, "<table>\n<thead><tr>");
    for (int c = first; c < NCOLS; c++) {
        sb_printf(b, "<th%s>", SB_REPORT_COLS[c].right ? " class=\"num\"" : "");
        html_escape(b, SB_REPORT_COLS[c].head);
        sb_printf(b, "</th>");
    }
    sb_printf(b, "</tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < s->n; i++) {
        const sb_vrec *v = &s->items[order[i]];
        sb_report_row_cells(v, cells);
        sb_printf(b, "<tr class=\"%s%s\" title=\"", strcmp(v->verdict, "pass") == 0 ? "pass" : "fail",
                  v->timing.noisy == 1 ? " noisy" : "");
        html_escape(b, v->path);
        sb_printf(b, "\">");
        for (int c = first; c < NCOLS; c++) {
            sb_printf(b, "<td%s>", SB_REPORT_COLS[c].right ? " class=\"num\"" : "");
            html_escape(b, cells[c]);
            sb_printf(b, "</td>");
        }
        sb_printf(b, "</tr>\n");
    }
    sb_printf(b, "</tbody>\n</table>\n");
}

/* The page's head (inline CSS) and its opening note: what was read, when,
 * and how to read rows/s. */
static void html_head(sbuf *b, const char *const *paths, int npaths, size_t nverdicts)
{
    char now[32];
    sb_format_date((int64_t)time(NULL), now, sizeof now);
    sb_printf(b,
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
    sb_printf(b, "%zu verdict%s from ", nverdicts, nverdicts == 1 ? "" : "s");
    for (int i = 0; i < npaths; i++) {
        sb_printf(b, "%s<code>", i ? ", " : "");
        html_escape(b, paths[i]);
        sb_printf(b, "</code>");
    }
    sb_printf(b, "; written %s by saebench %s. ", now, SB_VERSION);
    sb_printf(b,
              "rows/s is labelled by what measured it: <em>engaged</em> is a device number from an engaged run; "
              "<em>host</em> is a host measurement and never a device number. Fields: docs/verdict.md. "
              "The table as CSV: <a href=\"report.csv\">report.csv</a>.</p>\n");
}

/* One section per chart: its image, or why there is none; then the page's end. */
static void html_charts(sbuf *b, const chart *charts)
{
    for (int k = 0; k < NCHARTS; k++) {
        sb_printf(b, "<h2>%s</h2>\n", charts[k].title);
        if (charts[k].made)
            sb_printf(b, "<p><img src=\"%s\" alt=\"%s\"></p>\n", charts[k].png, charts[k].alt);
        else
            sb_printf(b, "<p class=\"note\">%s</p>\n", charts[k].none);
    }
    sb_printf(b, "<p class=\"note\">Charts drawn by gnuplot from <code>*.dat</code> with <code>charts.gp</code> "
                 "in this directory.</p>\n</body>\n</html>\n");
}

/* The marker that says saebench made the folder, and every file it writes. */
#define REPORT_MARKER ".saebench-report"
static const char *const REPORT_FILES[] = {
    REPORT_MARKER, "index.html", "report.csv", "throughput.dat", "residency.dat", "phases.dat", "history.dat",
    "charts.gp", "gnuplot.log", "throughput.png", "residency.png", "phases.png", "history.png",
};
#define NREPORT_FILES (sizeof REPORT_FILES / sizeof REPORT_FILES[0])

static int report_file(const char *name)
{
    for (size_t i = 0; i < NREPORT_FILES; i++)
        if (strcmp(name, REPORT_FILES[i]) == 0)
            return 1;
    return 0;
}

sb_rc sb_report_html_check(const char *dir, sb_err *err)
{
    if (!on_path("gnuplot"))
        return sb_fail(err, SB_E_INPUT,
                       "report --html needs gnuplot, which is not on PATH (Debian: apt-get install gnuplot-nox)");
    if (strlen(dir) > 3000)
        return sb_fail(err, SB_E_INPUT, "--html %s: path too long", dir);
    struct stat st;
    if (lstat(dir, &st) != 0) {
        if (errno != ENOENT)
            return sb_fail(err, SB_E_INPUT, "--html %s: %s", dir, strerror(errno));
        char parent[4096];
        snprintf(parent, sizeof parent, "%s", dir);
        char *slash = strrchr(parent, '/');
        if (slash)
            *(slash == parent ? slash + 1 : slash) = '\0';
        else
            snprintf(parent, sizeof parent, ".");
        if (stat(parent, &st) != 0 || !S_ISDIR(st.st_mode))
            return sb_fail(err, SB_E_INPUT, "--html %s: cannot create the directory: %s does not exist", dir, parent);
        return SB_OK;
    }
    if (S_ISLNK(st.st_mode))
        return sb_fail(err, SB_E_INPUT, "--html %s: is a symlink; give the folder itself", dir);
    if (!S_ISDIR(st.st_mode))
        return sb_fail(err, SB_E_INPUT, "--html %s: exists and is not a directory", dir);
    DIR *d = opendir(dir);
    if (!d)
        return sb_fail(err, SB_E_INPUT, "--html %s: %s", dir, strerror(errno));
    int entries = 0, marked = 0;
    char odd[256] = "";
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        entries++;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        int regular = lstat(p, &st) == 0 && S_ISREG(st.st_mode);
        marked |= regular && strcmp(e->d_name, REPORT_MARKER) == 0;
        if (!regular && report_file(e->d_name) && !odd[0])
            snprintf(odd, sizeof odd, "%s", e->d_name);
    }
    closedir(d);
    if (entries > 0 && !marked)
        return sb_fail(err, SB_E_INPUT,
                       "--html %s: a folder saebench did not make (no %s in it); give a new or empty folder", dir,
                       REPORT_MARKER);
    if (odd[0])
        return sb_fail(err, SB_E_INPUT, "--html %s: %s there is not a regular file; saebench writes only files it made",
                       dir, odd);
    return SB_OK;
}

/* A fresh folder beside dir for the new page. */
static sb_rc html_stage(const char *dir, char *stage, size_t len, sb_err *err)
{
    char d[3600];
    snprintf(d, sizeof d, "%s", dir);
    size_t n = strlen(d);
    while (n > 1 && d[n - 1] == '/')
        d[--n] = '\0';
    snprintf(stage, len, "%s.tmp.XXXXXX", d);
    if (!mkdtemp(stage))
        return sb_fail(err, SB_E_INPUT, "--html %s: cannot create a folder beside it: %s", dir, strerror(errno));
    mode_t um = umask(0);
    umask(um);
    (void)chmod(stage, 0777 & ~um);
    return write_in(stage, REPORT_MARKER, "saebench report folder: saebench replaces its files here", err);
}

/* Remove the staging folder and what saebench wrote in it. */
static void html_unstage(const char *stage)
{
    for (size_t i = 0; i < NREPORT_FILES; i++) {
        char p[8192];
        snprintf(p, sizeof p, "%s/%s", stage, REPORT_FILES[i]);
        unlink(p);
    }
    rmdir(stage);
}

/* Put the built page in place of dir: files of the user's move into the new
 * folder first, then one exchange of the two folders, then the old page's
 * files (saebench's own, checked regular) go. */
static sb_rc html_swap(const char *dir, const char *stage, sb_err *err)
{
    struct stat st;
    if (lstat(dir, &st) != 0) {
        if (rename(stage, dir) != 0)
            return sb_fail(err, SB_E_INPUT, "--html %s: cannot put the page in place: %s", dir, strerror(errno));
        return SB_OK;
    }
    DIR *d = opendir(dir);
    if (!d)
        return sb_fail(err, SB_E_INPUT, "--html %s: %s", dir, strerror(errno));
    struct dirent *e;
    sb_rc rc = SB_OK;
    while (!rc && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 || report_file(e->d_name))
            continue;
        char from[8192], to[8192];
        snprintf(from, sizeof from, "%s/%s", dir, e->d_name);
        snprintf(to, sizeof to, "%s/%s", stage, e->d_name);
        if (rename(from, to) != 0)
            rc = sb_fail(err, SB_E_INPUT, "--html %s: cannot carry %s over: %s", dir, e->d_name, strerror(errno));
    }
    closedir(d);
    if (!rc && renameat2(AT_FDCWD, stage, AT_FDCWD, dir, RENAME_EXCHANGE) != 0)
        rc = sb_fail(err, SB_E_INPUT, "--html %s: cannot swap the new page in: %s", dir, strerror(errno));
    if (!rc)
        html_unstage(stage); /* now the old page */
    return rc;
}

/* ------------------------------------------------------------ --html */

static sb_rc html_build(const char *dir, const char *const *paths, int npaths, const sb_vset *s,
                        const size_t *order, sb_err *err);

sb_rc sb_report_html(const char *dir, const char *const *paths, int npaths, const sb_vset *s,
                     const size_t *order, sb_err *err)
{
    char stage[4096];
    sb_rc rc = sb_report_html_check(dir, err);
    if (!rc && (rc = html_stage(dir, stage, sizeof stage, err)) == SB_OK) {
        rc = html_build(stage, paths, npaths, s, order, err);
        if (!rc)
            rc = html_swap(dir, stage, err);
        if (rc)
            html_unstage(stage);
    }
    return rc;
}

/* Every file of the page, in dir. */
static sb_rc html_build(const char *dir, const char *const *paths, int npaths, const sb_vset *s,
                        const size_t *order, sb_err *err)
{
    sb_rc rc;
    int *latest = sb_alloc(s->n, sizeof *latest, err);
    if (!latest)
        return SB_E_RUNTIME;
    newest_per_key(s, order, latest);
    chart charts[NCHARTS] = {
        [CHART_THROUGHPUT] = {"throughput.png", "Throughput against the roofline",
                              "bar chart: measured rows/s and the roofline bound rows/s of each shape and backend",
                              "No verdict has a measured rows/s.", 0},
        [CHART_RESIDENCY] = {"residency.png", "Residency speedup", "bar chart: re-upload over resident seconds per rep",
                             "No verdict has a residency speedup (a re-upload phase).", 0},
        [CHART_PHASES] = {"phases.png", "Per-phase breakdown", "bar chart: median seconds per rep of each timed phase",
                          "No verdict has timing.phases.", 0},
        [CHART_HISTORY] = {"history.png", "History across runs",
                           "line chart: primary median seconds per rep of each key over run dates",
                           "Only one run of each key: give several dated result sets "
                           "(results/&lt;date&gt;/...) for a history.", 0},
    };
    rc = write_plot_inputs(dir, s, order, latest, charts, err);
    free(latest);
    if (!rc) {
        sbuf csv = {0};
        sb_report_csv(&csv, s, order);
        rc = write_buf(dir, "report.csv", &csv, err);
        free(csv.p);
    }
    if (!rc)
        rc = run_gnuplot(dir, err);
    if (!rc)
        rc = check_pngs(dir, charts, err);
    if (rc)
        return rc;

    sbuf page = {0};
    html_head(&page, paths, npaths, s->n);
    html_table(&page, s, order);
    html_charts(&page, charts);
    rc = write_buf(dir, "index.html", &page, err);
    free(page.p);
    return rc;
}
