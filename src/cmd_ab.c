/* saebench ab (docs/compare.md "ab: interleaved A/B"): run a base executable
 * and a new one alternately on the same workload arguments, ABBA by rounds
 * (round r runs base then new when r is even, new then base when odd), and
 * gate on a paired test over the rounds. Drift between runs (clocks,
 * temperature, other tenants) reaches both sides of a round alike and
 * cancels in the round's ratio, where it sinks a comparison of two separate
 * sets of runs. Every run's verdict is kept; ab.json is the summary. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
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
#include "compare.h"
#include "safe_io.h"
#include "verdict.h"
#include "verdict_read.h"

extern char **environ;

#define AB_DEFAULT_ROUNDS 6
#define AB_MAX_ROUNDS 1000
#define AB_DEFAULT_THRESHOLD 0.05
#define AB_DEFAULT_ALPHA 0.05

typedef struct ab_opts {
    const char *base, *new_, *out_dir, *phase;
    int64_t rounds;
    double threshold, alpha;
    int quiet;
    char **wl_argv;   /* WORKLOAD ARGS... (after --) */
    int wl_argc;
} ab_opts;

typedef struct ab_run {
    char path[1200];
    int exit_code;    /* the child's, 4 when it died of a signal */
    int signal;       /* the signal, 0 when it exited */
    double median_s;  /* the phase's median; NaN when the verdict has none */
    char git[64];
} ab_run;

static void ab_help(void)
{
    printf("usage: saebench ab --base EXE --new EXE --out-dir DIR [--rounds N] [--threshold PCT]\n"
           "                   [--alpha A] [--phase NAME] [--quiet] -- WORKLOAD [ARGS...]\n\n"
           "Run EXE WORKLOAD ARGS for the base and the new executable alternately, ABBA by\n"
           "rounds (even rounds base then new, odd rounds new then base), each run writing\n"
           "its verdict to DIR; then a paired Student t test on log(new/base) of each\n"
           "round's medians. A regression (exit 1) when the new side is slower by more than\n"
           "--threshold and p < --alpha. Both executables are checked first with --dry-run.\n"
           "DIR must not exist or be empty; it receives r<k>-base.json, r<k>-new.json and\n"
           "ab.json (the summary). docs/compare.md \"ab\".\n\n"
           "  --rounds N       rounds, 2 to %d (default %d)\n"
           "  --threshold PCT  smallest change claimed, in percent (default %g)\n"
           "  --alpha A        level of the paired test (default %g)\n"
           "  --phase NAME     the timing phase compared (default: the workload's primary)\n",
           AB_MAX_ROUNDS, AB_DEFAULT_ROUNDS, 100 * AB_DEFAULT_THRESHOLD, AB_DEFAULT_ALPHA);
}

static int usage(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "saebench: ab: ");
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    return SB_EXIT_USAGE;
}

static int parse_real(const char *opt, const char *v, double lo, double hi, double *out)
{
    char *end = NULL;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || *end || !(x > lo && x < hi))
        return usage("%s: '%s' is out of range", opt, v);
    *out = x;
    return -1;
}

static int executable(const char *opt, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || access(path, X_OK) != 0)
        return usage("%s %s: not an executable file", opt, path);
    return -1;
}

/* Options up to "--", then the workload's arguments. -1 to go on. */
static int ab_parse(int argc, char **argv, ab_opts *o)
{
    memset(o, 0, sizeof *o);
    o->rounds = AB_DEFAULT_ROUNDS;
    o->threshold = AB_DEFAULT_THRESHOLD;
    o->alpha = AB_DEFAULT_ALPHA;
    int i = 1, rc = -1;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            ab_help();
            return SB_EXIT_PASS;
        }
        if (strcmp(a, "--quiet") == 0) {
            o->quiet = 1;
            continue;
        }
        const char **slot = strcmp(a, "--base") == 0      ? &o->base
                            : strcmp(a, "--new") == 0     ? &o->new_
                            : strcmp(a, "--out-dir") == 0 ? &o->out_dir
                            : strcmp(a, "--phase") == 0   ? &o->phase
                                                          : NULL;
        int is_num = strcmp(a, "--rounds") == 0 || strcmp(a, "--threshold") == 0 || strcmp(a, "--alpha") == 0;
        if (!slot && !is_num)
            return usage("unknown option '%s'%s (see 'saebench ab --help')", a, "");
        if (!v || !*v)
            return usage("%s needs a value%s", a, "");
        i++;
        if (slot) {
            if (*slot)
                return usage("%s given twice%s", a, "");
            *slot = v;
        } else if (strcmp(a, "--rounds") == 0) {
            double r = 0;
            if ((rc = parse_real(a, v, 1.5, AB_MAX_ROUNDS + 0.5, &r)) >= 0)
                return rc;
            if (r != floor(r))
                return usage("--rounds: '%s' is not a whole number%s", v, "");
            o->rounds = (int64_t)r;
        } else if (strcmp(a, "--threshold") == 0) {
            if ((rc = parse_real(a, v, 0, 1000, &o->threshold)) >= 0)
                return rc;
            o->threshold /= 100.0;
        } else if ((rc = parse_real(a, v, 0, 1, &o->alpha)) >= 0) {
            return rc;
        }
    }
    if (!o->base || !o->new_ || !o->out_dir)
        return usage("--base, --new and --out-dir are required%s%s", "", "");
    if (i >= argc - 1)
        return usage("give the workload and its arguments after '--'%s%s", "", "");
    o->wl_argv = argv + i + 1;
    o->wl_argc = argc - i - 1;
    for (int k = 1; k < o->wl_argc; k++) {
        char name[64];
        const char *arg = o->wl_argv[k];
        sb_opt_split(arg, name, sizeof name);
        if (sb_opt_names_output(name) || strcmp(name, "--quiet") == 0 || strcmp(name, "--dry-run") == 0)
            return usage("'%s' after '--': ab names each run's outputs itself%s", arg, "");
    }
    if ((rc = executable("--base", o->base)) >= 0 || (rc = executable("--new", o->new_)) >= 0)
        return rc;
    return -1;
}

/* DIR: created here, or an existing empty folder (nothing in it to lose). */
static int claim_dir(const char *dir)
{
    if (mkdir(dir, 0777) == 0)
        return -1;
    if (errno != EEXIST)
        return usage("--out-dir %s: %s", dir, strerror(errno));
    struct stat st;
    if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return usage("--out-dir %s: exists and is not a folder%s", dir, "");
    char probe[1200];
    snprintf(probe, sizeof probe, "%s/ab.json", dir);
    if (access(probe, F_OK) == 0 || rmdir(dir) != 0 || mkdir(dir, 0777) != 0)
        return usage("--out-dir %s: not empty; give a new folder%s", dir, "");
    return -1;
}

/* EXE WORKLOAD ARGS [extra...], its exit code (4 and *sig when a signal
 * ended it); stderr to err_path when given (the dry run), else inherited. */
static int spawn_wait(const char *exe, const ab_opts *o, const char *const *extra, int nextra, const char *err_path,
                      int *sig)
{
    int n = o->wl_argc + nextra + 2;
    char **av = calloc((size_t)n, sizeof *av);
    if (!av)
        return SB_EXIT_RUNTIME;
    av[0] = (char *)exe;
    for (int k = 0; k < o->wl_argc; k++)
        av[1 + k] = o->wl_argv[k];
    for (int k = 0; k < nextra; k++)
        av[1 + o->wl_argc + k] = (char *)extra[k];
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (err_path)
        posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid;
    int rc = posix_spawn(&pid, exe, &fa, NULL, av, environ);
    posix_spawn_file_actions_destroy(&fa);
    free(av);
    *sig = 0;
    if (rc != 0)
        return SB_EXIT_RUNTIME;
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return SB_EXIT_RUNTIME;
    if (WIFSIGNALED(status)) {
        *sig = WTERMSIG(status);
        return SB_EXIT_RUNTIME;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : SB_EXIT_RUNTIME;
}

/* Both executables accept the arguments (--dry-run), before any work. */
static int dry_runs(const ab_opts *o)
{
    char err_path[] = "/tmp/saebench-ab-XXXXXX";
    int fd = mkstemp(err_path);
    if (fd < 0)
        return usage("cannot create a scratch file in /tmp: %s%s", strerror(errno), "");
    close(fd);
    const char *extra[] = {"--dry-run", "--quiet"};
    const char *sides[2] = {o->base, o->new_}, *names[2] = {"--base", "--new"};
    int result = -1;
    for (int s = 0; s < 2 && result < 0; s++) {
        int sig = 0, rc = spawn_wait(sides[s], o, extra, 2, err_path, &sig);
        if (rc == 0)
            continue;
        char line[512] = "";
        FILE *f = fopen(err_path, "r");
        if (f) {
            if (!fgets(line, sizeof line, f))
                line[0] = '\0';
            fclose(f);
        }
        line[strcspn(line, "\n")] = '\0';
        /* A saebench from before --dry-run: its first run checks the arguments. */
        if (rc == SB_EXIT_USAGE && strstr(line, "unknown option '--dry-run'")) {
            if (!o->quiet)
                fprintf(stderr, "ab: %s %s has no --dry-run (an older saebench): its first run checks the arguments\n",
                        names[s], sides[s]);
            continue;
        }
        fprintf(stderr, "saebench: ab: %s %s refuses the arguments (--dry-run exit %d): %s\n", names[s], sides[s], rc,
                line[0] ? line : "no message");
        result = SB_EXIT_USAGE;
    }
    unlink(err_path); /* the scratch file made by mkstemp above */
    return result;
}

/* The phase's median from a verdict; NaN when absent. */
static void read_run(ab_run *run, const char *phase)
{
    run->median_s = NAN;
    sb_vrec v;
    int found = 0;
    sb_err err = {{0}};
    if (sb_vrec_read(run->path, NULL, &v, &found, &err) != SB_OK || !found)
        return;
    if (!phase)
        run->median_s = v.timing.median_s;
    for (size_t k = 0; phase && k < v.nphases; k++)
        if (strcmp(v.phases[k].name, phase) == 0)
            run->median_s = v.phases[k].t.median_s;
    snprintf(run->git, sizeof run->git, "%s", v.git);
    sb_vrec_free(&v);
}

typedef struct ab_stat {
    int64_t n;
    double mean, sd, t, df, p, change;
    sb_cmp_label label;
} ab_stat;

/* The paired test on d_r = ln(new_r / base_r): t = mean / (sd/√n), df = n − 1. */
static void paired_test(const ab_run *base, const ab_run *new_, int64_t rounds, const ab_opts *o, ab_stat *st)
{
    memset(st, 0, sizeof *st);
    double sum = 0, ss = 0;
    for (int64_t r = 0; r < rounds; r++)
        sum += log(new_[r].median_s / base[r].median_s);
    st->n = rounds;
    st->mean = sum / (double)rounds;
    for (int64_t r = 0; r < rounds; r++) {
        double e = log(new_[r].median_s / base[r].median_s) - st->mean;
        ss += e * e;
    }
    st->sd = sqrt(ss / (double)(rounds - 1));
    st->df = (double)(rounds - 1);
    st->t = st->sd > 0 ? st->mean / (st->sd / sqrt((double)rounds)) : (st->mean == 0 ? 0 : copysign(INFINITY, st->mean));
    st->p = sb_t_pvalue(st->t, st->df);
    st->change = exp(st->mean) - 1;
    double band = log1p(o->threshold);
    if (!isfinite(st->mean))
        st->label = SB_CMP_NOT_MEASURED;
    else if (fabs(st->mean) <= band)
        st->label = SB_CMP_NOISE;
    else if (st->p >= o->alpha)
        st->label = SB_CMP_AMBIGUOUS;
    else
        st->label = st->mean > 0 ? SB_CMP_REGRESSION : SB_CMP_IMPROVEMENT;
}

static cJSON *side_json(const char *exe, const ab_run *runs, int64_t n)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "executable", exe);
    cJSON_AddStringToObject(o, "git", n > 0 ? runs[0].git : "");
    return o;
}

static int write_summary(const ab_opts *o, const ab_run *base, const ab_run *new_, int64_t done, const ab_stat *st,
                         int exit_code, const char *reason)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema", "saebench.ab/1");
    char created[32];
    time_t now = time(NULL);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    cJSON_AddStringToObject(root, "created", created);
    cJSON_AddItemToObject(root, "command", sb_verdict_command_json());
    cJSON_AddItemToObject(root, "base", side_json(o->base, base, done));
    cJSON_AddItemToObject(root, "new", side_json(o->new_, new_, done));
    cJSON *args = cJSON_AddArrayToObject(root, "workload_args");
    for (int k = 0; k < o->wl_argc; k++)
        cJSON_AddItemToArray(args, cJSON_CreateString(o->wl_argv[k]));
    cJSON_AddStringToObject(root, "phase", o->phase ? o->phase : "primary");
    cJSON *rounds = cJSON_AddArrayToObject(root, "rounds");
    for (int64_t r = 0; r < done; r++) {
        cJSON *x = cJSON_CreateObject();
        cJSON_AddNumberToObject(x, "round", (double)r);
        cJSON_AddStringToObject(x, "order", r % 2 == 0 ? "base,new" : "new,base");
        cJSON_AddStringToObject(x, "base_verdict", base[r].path);
        cJSON_AddStringToObject(x, "new_verdict", new_[r].path);
        cJSON_AddNumberToObject(x, "base_exit", base[r].exit_code);
        cJSON_AddNumberToObject(x, "new_exit", new_[r].exit_code);
        cJSON_AddItemToObject(x, "base_median_s", sb_json_number(base[r].median_s));
        cJSON_AddItemToObject(x, "new_median_s", sb_json_number(new_[r].median_s));
        cJSON_AddItemToObject(x, "log_ratio", sb_json_number(log(new_[r].median_s / base[r].median_s)));
        cJSON_AddItemToArray(rounds, x);
    }
    cJSON *s = cJSON_AddObjectToObject(root, "statistic");
    cJSON_AddStringToObject(s, "test", "paired Student t on d = ln(new/base) of each round's medians, two-sided");
    cJSON_AddNumberToObject(s, "rounds", (double)st->n);
    cJSON_AddItemToObject(s, "mean_log_ratio", sb_json_number(st->mean));
    cJSON_AddItemToObject(s, "sd_log_ratio", sb_json_number(st->sd));
    cJSON_AddItemToObject(s, "t", sb_json_number(st->t));
    cJSON_AddItemToObject(s, "df", sb_json_number(st->df));
    cJSON_AddItemToObject(s, "p", sb_json_number(st->p));
    cJSON_AddItemToObject(s, "change", sb_json_number(st->change));
    cJSON_AddNumberToObject(s, "threshold", o->threshold);
    cJSON_AddNumberToObject(s, "alpha", o->alpha);
    cJSON_AddStringToObject(root, "label", sb_cmp_label_name(st->label));
    cJSON_AddStringToObject(root, "verdict", exit_code == 0 ? "pass" : "fail");
    cJSON_AddNumberToObject(root, "exit_code", exit_code);
    cJSON_AddItemToObject(root, "reason", reason ? cJSON_CreateString(reason) : cJSON_CreateNull());
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    char path[1200];
    snprintf(path, sizeof path, "%s/ab.json", o->out_dir);
    sb_err err = {{0}};
    sb_rc rc = text ? sb_write_atomic(path, text, &err) : sb_fail(&err, SB_E_RUNTIME, "out of memory");
    cJSON_free(text);
    if (rc) {
        fprintf(stderr, "saebench: ab: %s\n", err.msg);
        return SB_EXIT_RUNTIME;
    }
    return exit_code;
}

/* One run of one side in round r; -1 to go on, else the exit code that ends ab. */
static int run_side(const ab_opts *o, int64_t r, int is_new, ab_run *run, int *gate_failed, char *reason, size_t len)
{
    const char *exe = is_new ? o->new_ : o->base, *side = is_new ? "new" : "base";
    snprintf(run->path, sizeof run->path, "%s/r%lld-%s.json", o->out_dir, (long long)r, side);
    const char *extra[] = {"--out", run->path, "--quiet"};
    run->exit_code = spawn_wait(exe, o, extra, 3, NULL, &run->signal);
    read_run(run, o->phase);
    if (!o->quiet)
        fprintf(stderr, "ab: round %lld %-4s exit %d  median %.6g s\n", (long long)r, side, run->exit_code, run->median_s);
    if (run->exit_code == SB_EXIT_GATE_FAIL)
        *gate_failed = 1;
    if (run->exit_code > SB_EXIT_GATE_FAIL || !(run->median_s > 0)) {
        if (run->signal)
            snprintf(reason, len, "round %lld, %s: killed by signal %d", (long long)r, side, run->signal);
        else if (run->exit_code > SB_EXIT_GATE_FAIL)
            snprintf(reason, len, "round %lld, %s: exit %d", (long long)r, side, run->exit_code);
        else
            snprintf(reason, len, "round %lld, %s: no %.64s median in %.1200s", (long long)r, side,
                     o->phase ? o->phase : "primary", run->path);
        return run->exit_code > SB_EXIT_GATE_FAIL ? run->exit_code : SB_EXIT_RUNTIME;
    }
    return -1;
}

int sb_cmd_ab(int argc, char **argv)
{
    ab_opts o;
    int rc = ab_parse(argc, argv, &o);
    if (rc < 0)
        rc = dry_runs(&o);
    if (rc < 0)
        rc = claim_dir(o.out_dir);
    if (rc >= 0)
        return rc;
    ab_run *base = calloc((size_t)o.rounds, sizeof *base), *new_ = calloc((size_t)o.rounds, sizeof *new_);
    if (!base || !new_) {
        free(base);
        free(new_);
        fprintf(stderr, "saebench: ab: out of memory\n");
        return SB_EXIT_RUNTIME;
    }
    int gate_failed = 0, stop = -1;
    char reason[1400] = "";
    int64_t done = 0;
    for (int64_t r = 0; r < o.rounds && stop < 0; r++) {
        int first_new = r % 2 == 1; /* ABBA: base,new then new,base */
        stop = run_side(&o, r, first_new, first_new ? &new_[r] : &base[r], &gate_failed, reason, sizeof reason);
        if (stop < 0)
            stop = run_side(&o, r, !first_new, first_new ? &base[r] : &new_[r], &gate_failed, reason, sizeof reason);
        if (stop < 0)
            done = r + 1;
    }
    ab_stat st;
    memset(&st, 0, sizeof st);
    st.label = SB_CMP_NOT_MEASURED;
    if (stop < 0)
        paired_test(base, new_, done, &o, &st);
    int exit_code = stop >= 0 ? stop : (st.label == SB_CMP_REGRESSION || gate_failed) ? SB_EXIT_GATE_FAIL : SB_EXIT_PASS;
    if (stop < 0 && gate_failed)
        snprintf(reason, sizeof reason, "a run's own gates failed (see the rounds' exit codes)");
    if (stop < 0 && st.label == SB_CMP_REGRESSION) {
        /* both can hold: say both, the gates first */
        size_t at = gate_failed ? strlen(reason) : 0;
        snprintf(reason + at, sizeof reason - at, "%snew slower by %+.1f%% (threshold %.1f%%), paired t p=%.2g < %.2g over %lld rounds",
                 at ? "; and " : "", 100 * st.change, 100 * o.threshold, st.p, o.alpha, (long long)done);
    }
    if (!o.quiet && stop < 0)
        fprintf(stderr, "ab: %s  new/base %+.1f%%  paired t %.3g (df %.0f) p=%.3g  threshold %.1f%%  alpha %.3g\n",
                sb_cmp_label_name(st.label), 100 * st.change, st.t, st.df, st.p, 100 * o.threshold, o.alpha);
    rc = write_summary(&o, base, new_, done, &st, exit_code, reason[0] ? reason : NULL);
    if (!o.quiet)
        fprintf(stderr, "ab: verdict %s (exit %d)%s%s; %s/ab.json\n", rc == 0 ? "pass" : "fail", rc, reason[0] ? ": " : "",
                reason, o.out_dir);
    free(base);
    free(new_);
    return rc;
}
