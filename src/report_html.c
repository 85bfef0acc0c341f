/* saebench report --html DIR: a static dashboard. index.html (inline CSS, no
 * script, works from disk) holds the table, each row with its marks, and the
 * PNG charts, which gnuplot draws from the data files (*.dat) and the script
 * (charts.gp) that report_charts.c writes beside it; report.csv is the table
 * as CSV. Described in docs/compare.md
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

/* ------------------------------------------------------------ gnuplot */

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

/* Every chart listed has a non-empty PNG in dir. */
static sb_rc check_pngs(const char *dir, const sb_charts *charts, sb_err *err)
{
    for (size_t k = 0; k < charts->n; k++) {
        char png[8192];
        struct stat st;
        snprintf(png, sizeof png, "%s/%s", dir, charts->items[k].png);
        if (stat(png, &st) != 0 || st.st_size == 0)
            return sb_fail(err, SB_E_RUNTIME, "gnuplot wrote no %s (see %s/gnuplot.log)", png, dir);
    }
    return SB_OK;
}

/* ------------------------------------------------------------ the page */

/* A verdict's marks as badges: "pass" or "FAIL", then "noisy", "suspect";
 * classes m-pass, m-fail, m-noisy, m-suspect (coloured as in the charts). */
static void html_marks(sbuf *b, unsigned marks)
{
    sb_printf(b, "<span class=\"m-%s\">%s</span>", marks & SB_MARK_FAIL ? "fail" : "pass",
              marks & SB_MARK_FAIL ? "FAIL" : "pass");
    if (marks & SB_MARK_NOISY)
        sb_printf(b, " <span class=\"m-noisy\">noisy</span>");
    if (marks & SB_MARK_SUSPECT)
        sb_printf(b, " <span class=\"m-suspect\">suspect</span>");
}

/* The table, with a first column the text formats do not have: each row's
 * marks, and "charted" on the row the bar charts plot for its key. */
static void html_table(sbuf *b, const sb_vset *s, const size_t *order, const int *latest)
{
    int first = sb_report_several_runs(s) ? COL_RUN : COL_WORKLOAD;
    char cells[NCOLS][SB_REPORT_CELL];
    sb_printf(b, "<div class=\"tablewrap\"><table>\n<thead><tr><th>mark</th>");
    for (int c = first; c < NCOLS; c++) {
        sb_printf(b, "<th%s>", SB_REPORT_COLS[c].right ? " class=\"num\"" : "");
        html_escape(b, SB_REPORT_COLS[c].head);
        sb_printf(b, "</th>");
    }
    sb_printf(b, "</tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < s->n; i++) {
        const sb_vrec *v = &s->items[order[i]];
        unsigned marks = sb_report_marks(v);
        sb_report_row_cells(v, cells);
        sb_printf(b, "<tr class=\"%s%s%s%s\" title=\"", marks & SB_MARK_FAIL ? "fail" : "pass",
                  marks & SB_MARK_NOISY ? " noisy" : "", marks & SB_MARK_SUSPECT ? " suspect" : "",
                  latest[i] ? " charted" : "");
        html_escape(b, v->path);
        sb_printf(b, "\"><td class=\"mark\">");
        html_marks(b, marks);
        if (latest[i])
            sb_printf(b, " <span class=\"charted\">charted</span>");
        sb_printf(b, "</td>");
        for (int c = first; c < NCOLS; c++) {
            const char *cls = SB_REPORT_COLS[c].right ? "num" : "";
            if (c == COL_EFF && (marks & SB_MARK_SUSPECT))
                cls = "num warn";
            if (c == COL_DEVICE && v->device_null && strcmp(v->backend, "host") != 0)
                cls = "warn";
            sb_printf(b, "<td%s%s%s>", *cls ? " class=\"" : "", cls, *cls ? "\"" : "");
            html_escape(b, cells[c]);
            sb_printf(b, "</td>");
        }
        sb_printf(b, "</tr>\n");
    }
    sb_printf(b, "</tbody>\n</table></div>\n");
}

/* The page's head (inline CSS) and its opening note: what was read, when,
 * and how to read rows/s and the marks. */
static void html_head(sbuf *b, const char *const *paths, int npaths, size_t nverdicts)
{
    static const char *const cls[] = {"pass", "noisy", "suspect", "fail"};
    char now[32];
    sb_format_date((int64_t)time(NULL), now, sizeof now);
    sb_printf(b,
              "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
              "<title>saebench report</title>\n<style>\n"
              "body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1300px; color: #222; padding: 0 1em; }\n"
              "h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ddd; }\n"
              "table { border-collapse: collapse; font: 12px/1.3 ui-monospace, monospace; }\n"
              "th, td { padding: 3px 8px; border-bottom: 1px solid #e4e4e4; text-align: left; white-space: nowrap; }\n"
              "th { background: #f3f3f3; } td.num, th.num { text-align: right; }\n"
              "tr.fail td { background: #fbe9e9; } tr.noisy td:last-child { color: %s; font-weight: bold; }\n"
              ".tablewrap { overflow-x: auto; }\n"
              "td.warn { color: %s; font-weight: bold; }\n"
              ".mark span { font-weight: bold; } .charted { color: #555; font-weight: normal !important; }\n",
              sb_report_mark_rgb("noisy"), sb_report_mark_rgb("suspect"));
    for (size_t k = 0; k < sizeof cls / sizeof cls[0]; k++)
        sb_printf(b, ".m-%s { color: %s; }\n", cls[k], sb_report_mark_rgb(cls[k]));
    sb_printf(b,
              "img { max-width: 100%%; border: 1px solid #ddd; } .note { color: #555; }\n"
              ".history { display: grid; grid-template-columns: repeat(auto-fill, minmax(600px, 1fr)); gap: 1em; }\n"
              "figure { margin: 0; } figcaption { font-size: 12px; color: #444; }\n"
              "figcaption b { display: block; color: #222; }\n"
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
              "The table as CSV: <a href=\"report.csv\">report.csv</a>.</p>\n"
              "<p class=\"note\">Marks, in the table and on every charted number: ");
    html_marks(b, 0);
    sb_printf(b, " the verdict passed; ");
    html_marks(b, SB_MARK_FAIL);
    sb_printf(b, " it failed (a gate, or nothing measured); <span class=\"m-noisy\">noisy</span> its timing is "
                 "noisy (timing.noisy); <span class=\"m-suspect\">suspect</span> its roofline efficiency is above "
                 "100%%, faster than its bound, so a ceiling or a timing is wrong (roofline.suspect). "
                 "<span class=\"charted\">charted</span>: the row the bar charts plot for its key (the newest that "
                 "measured something).</p>\n");
}

/* One section per chart kind: how to read it, then its images (or why there
 * are none); then the page's end. */
static void html_charts(sbuf *b, const sb_charts *charts)
{
    for (int k = 0; k < SB_NCHART_SECTIONS; k++) {
        const sb_chart_section *sec = &SB_CHART_SECTIONS[k];
        size_t shown = 0;
        sb_printf(b, "<h2>%s</h2>\n", sec->title);
        for (size_t i = 0; i < charts->n; i++)
            shown += charts->items[i].section == k;
        if (!shown) {
            sb_printf(b, "<p class=\"note\">%s</p>\n", sec->none);
            continue;
        }
        sb_printf(b, "<p class=\"note\">");
        html_escape(b, sec->how);
        sb_printf(b, "</p>\n%s", k == SB_CHART_HISTORY ? "<div class=\"history\">\n" : "");
        for (size_t i = 0; i < charts->n; i++) {
            const sb_chart *c = &charts->items[i];
            if (c->section != k)
                continue;
            sb_printf(b, "<figure id=\"%.*s\"><img src=\"%s\" alt=\"", (int)(strlen(c->png) - 4), c->png, c->png);
            html_escape(b, c->alt);
            sb_printf(b, "\">");
            if (c->heading[0] || c->caption) {
                sb_printf(b, "<figcaption>");
                if (c->heading[0]) {
                    sb_printf(b, "<b>");
                    html_escape(b, c->heading);
                    sb_printf(b, "</b>");
                }
                if (c->caption)
                    html_escape(b, c->caption);
                sb_printf(b, "</figcaption>");
            }
            sb_printf(b, "</figure>\n");
        }
        if (k == SB_CHART_HISTORY) {
            sb_printf(b, "</div>\n");
            if (charts->single && charts->single[0]) {
                sb_printf(b, "<p class=\"note\">One verdict only, no history: ");
                html_escape(b, charts->single);
                sb_printf(b, ".</p>\n");
            }
        }
    }
    sb_printf(b, "<p class=\"note\">Charts drawn by gnuplot from <code>*.dat</code> with <code>charts.gp</code> "
                 "in this directory.</p>\n</body>\n</html>\n");
}

/* The marker that says saebench made the folder, and every file it writes
 * besides the history charts (sb_report_chart_file); history.png is an older
 * page's, removed when a new page replaces it. */
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
    return sb_report_chart_file(name);
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

/* Remove the staging folder and what saebench wrote in it (its files, each
 * checked to be a regular file; the folder stays if anything else is left). */
static void html_unstage(const char *stage)
{
    DIR *d = opendir(stage);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char p[8192];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", stage, e->d_name);
        if (report_file(e->d_name) && lstat(p, &st) == 0 && S_ISREG(st.st_mode))
            unlink(p);
    }
    if (d)
        closedir(d);
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
    int *latest = sb_alloc(s->n, sizeof *latest, err);
    if (!latest)
        return SB_E_RUNTIME;
    sb_report_latest(s, order, latest);
    sb_charts charts = {0};
    sb_rc rc = sb_report_charts(dir, s, order, latest, &charts, err);
    if (!rc) {
        sbuf csv = {0};
        sb_report_csv(&csv, s, order);
        rc = write_buf(dir, "report.csv", &csv, err);
        free(csv.p);
    }
    if (!rc)
        rc = run_gnuplot(dir, err);
    if (!rc)
        rc = check_pngs(dir, &charts, err);
    if (!rc) {
        sbuf page = {0};
        html_head(&page, paths, npaths, s->n);
        html_table(&page, s, order, latest);
        html_charts(&page, &charts);
        rc = write_buf(dir, "index.html", &page, err);
        free(page.p);
    }
    sb_charts_free(&charts);
    free(latest);
    return rc;
}
