/* A plugin run in a child process (src/isolate.h; docs/plugins.md,
 * "Isolation"). */
#include "isolate.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "plugin.h"
#include "timing.h"
#include "verdict.h"

void sb_child_setup(pid_t parent)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) /* the parent was gone before prctl took effect */
        _exit(SB_EXIT_RUNTIME);
    setpgid(0, 0);
    dup2(STDERR_FILENO, STDOUT_FILENO);
}

int sb_child_wait(pid_t pid, double timeout_s, int *status)
{
    const double end = sb_now_s() + timeout_s;
    int pfd = -1;
#ifdef SYS_pidfd_open
    pfd = (int)syscall(SYS_pidfd_open, pid, 0); /* readable when the child ends */
#endif
    for (;;) {
        pid_t got = waitpid(pid, status, WNOHANG);
        if (got == pid || (got < 0 && errno != EINTR)) {
            if (pfd >= 0)
                close(pfd);
            if (got < 0)
                *status = 0; /* not ours to wait for (cannot happen): ended, nothing known */
            return 0;
        }
        double left = end - sb_now_s();
        if (left <= 0)
            break;
        if (pfd >= 0) {
            struct pollfd p = {.fd = pfd, .events = POLLIN};
            (void)poll(&p, 1, left > 1e6 ? 1000000000 : (int)(left * 1e3) + 1);
        } else {
            /* no pidfd (a kernel before 5.3): look every 10 ms */
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    if (pfd >= 0)
        close(pfd);
    kill(-pid, SIGKILL); /* its process group: helpers the plugin started */
    kill(pid, SIGKILL);
    while (waitpid(pid, status, 0) < 0 && errno == EINTR)
        ;
    return 1;
}

const char *sb_signal_name(int sig, char *buf, size_t len)
{
    static const struct {
        int sig;
        const char *name;
    } names[] = {
        {SIGSEGV, "SIGSEGV"}, {SIGBUS, "SIGBUS"}, {SIGILL, "SIGILL"}, {SIGFPE, "SIGFPE"}, {SIGABRT, "SIGABRT"},
        {SIGKILL, "SIGKILL"}, {SIGTERM, "SIGTERM"}, {SIGINT, "SIGINT"}, {SIGHUP, "SIGHUP"}, {SIGQUIT, "SIGQUIT"},
        {SIGPIPE, "SIGPIPE"}, {SIGTRAP, "SIGTRAP"}, {SIGSYS, "SIGSYS"}, {SIGXCPU, "SIGXCPU"}, {SIGXFSZ, "SIGXFSZ"},
        {SIGALRM, "SIGALRM"}, {SIGUSR1, "SIGUSR1"}, {SIGUSR2, "SIGUSR2"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].sig == sig) {
            snprintf(buf, len, "%s", names[i].name);
            return buf;
        }
    snprintf(buf, len, "signal %d", sig);
    return buf;
}

/* The arrow workloads' untimed LM fits (src/cmd_inner_loop.c, cmd_outer_seq.c), in words. */
static const char *fit_words(const char *stage)
{
    static const struct {
        const char *stage, *words;
    } fits[] = {
        {"resident-fit", "the resident LM fit"},  {"reupload-fit", "the re-upload LM fit"},
        {"oracle-fit", "the oracle's LM fit"},    {"shared-fit", "an outer's LM fit on the shared frame"},
        {"fresh-fit", "an outer's LM fit on a fresh frame"},
    };
    for (size_t i = 0; i < sizeof fits / sizeof fits[0]; i++)
        if (strcmp(stage, fits[i].stage) == 0)
            return fits[i].words;
    return stage;
}

/* "timed rep 2 of the resident phase, in the plugin's solve()" and the like. */
static void where_words(const sb_run_where *w, char *buf, size_t len)
{
    char stage[32], phase[32];
    sb_printable(w->stage, stage, sizeof stage);
    sb_printable(w->phase, phase, sizeof phase);
    const char *call = sb_plugin_call_name(w->call);
    int n;
    if (!stage[0])
        n = snprintf(buf, len, "before the plugin was loaded");
    else if (strcmp(stage, "warm-up") == 0 || strcmp(stage, "timed") == 0)
        n = snprintf(buf, len, "%s rep %lld of the %s phase", stage, (long long)w->rep, phase);
    else if (phase[0] && strcmp(stage, "oracle") != 0 && strcmp(stage, "finish") != 0 && strcmp(stage, "load") != 0)
        n = snprintf(buf, len, "%s of the %s phase", stage, phase);
    else
        n = snprintf(buf, len, "%s", strcmp(stage, "oracle") == 0 ? "the oracle check, after the plugin's reps"
                                     : strcmp(stage, "finish") == 0 ? "the verdict, after the plugin's reps"
                                     : strcmp(stage, "load") == 0   ? "loading"
                                                                    : fit_words(stage));
    if (call && n > 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, ", in the plugin's %s()", call);
}

/* plugin.failure: what happened (kind: error, signal, timeout, exit) and where. */
static void failure_json(sb_run *r, const char *kind, int sig, const char *message, const sb_run_where *w)
{
    cJSON *pl = cJSON_GetObjectItemCaseSensitive(r->v.root, "plugin");
    if (!pl)
        return;
    cJSON *f = cJSON_CreateObject();
    char text[32];
    cJSON_AddStringToObject(f, "kind", kind);
    if (sig > 0) {
        cJSON_AddNumberToObject(f, "signal", sig);
        cJSON_AddStringToObject(f, "signal_name", sb_signal_name(sig, text, sizeof text));
    }
    cJSON_AddStringToObject(f, "message", message);
    cJSON_AddStringToObject(f, "phase", sb_printable(w->phase, text, sizeof text));
    cJSON_AddStringToObject(f, "stage", sb_printable(w->stage, text, sizeof text));
    cJSON_AddItemToObject(f, "rep", w->rep >= 0 ? cJSON_CreateNumber((double)w->rep) : cJSON_CreateNull());
    const char *call = sb_plugin_call_name(w->call);
    cJSON_AddItemToObject(f, "call", call ? cJSON_CreateString(call) : cJSON_CreateNull());
    cJSON_ReplaceItemInObjectCaseSensitive(pl, "failure", f);
}

/* The child: bind the plugin, run, finish, hand the verdict over. */
static void child_run(sb_run *r, pid_t parent, sb_run_where *where, int fd, sb_run_step work, sb_run_step extras,
                      void *ctx)
{
    sb_child_setup(parent);
    r->where = where;
    r->verdict_fd = fd;
    sb_err err = {{0}};
    sb_run_at(r, "load", -1);
    if (sb_plugin_bind(r->plugin, where, &err))
        sb_run_fail(r, "%s", err.msg);
    else
        work(r, ctx);
    sb_run_at(r, "oracle", -1);
    extras(r, ctx);
    if (r->failed)
        failure_json(r, "error", 0, r->failure, &r->failed_at);
    sb_run_at(r, "finish", -1);
    int code = sb_run_finish(r);
    fflush(stdout);
    fflush(stderr);
    _exit(code); /* no atexit handlers or library destructors of the plugin's */
}

/* The child's verdict, when it is a whole verdict of this run whose
 * exit_code is the child's exit status; NULL otherwise. */
static cJSON *child_verdict(int fd, int exit_status)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size <= 0 || st.st_size > (off_t)1 << 30 || lseek(fd, 0, SEEK_SET) != 0)
        return NULL;
    size_t len = (size_t)st.st_size;
    char *text = malloc(len + 1);
    if (!text)
        return NULL;
    size_t got = 0;
    while (got < len) {
        ssize_t k = read(fd, text + got, len - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    text[got] = '\0';
    cJSON *v = got == len ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(v, "schema");
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(v, "exit_code");
    if (!cJSON_IsString(schema) || strcmp(schema->valuestring, SB_VERDICT_SCHEMA) != 0 || !cJSON_IsNumber(code) ||
        code->valuedouble != exit_status) {
        cJSON_Delete(v);
        return NULL;
    }
    return v;
}

/* The file the child writes its verdict into: memory only where it can. */
static int verdict_file(FILE **tmp)
{
    *tmp = NULL;
    int fd = memfd_create("saebench-verdict", MFD_CLOEXEC);
    if (fd >= 0)
        return fd;
    *tmp = tmpfile();
    return *tmp ? fileno(*tmp) : -1;
}

int sb_run_isolated(sb_run *r, sb_run_step work, sb_run_step extras, void *ctx)
{
    const sb_plugin *pl = r->plugin;
    sb_run_where *where = mmap(NULL, sizeof *where, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    FILE *tmp = NULL;
    int fd = where == MAP_FAILED ? -1 : verdict_file(&tmp);
    pid_t pid = -1;
    if (fd >= 0) {
        memset(where, 0, sizeof *where);
        where->rep = -1;
        fflush(stdout);
        fflush(stderr);
        pid_t parent = getpid();
        pid = fork();
        if (pid == 0)
            child_run(r, parent, where, fd, work, extras, ctx);
    }
    if (pid < 0) {
        sb_run_fail(r, "cannot start the process that runs %s: %s", pl->noun, strerror(errno));
        extras(r, ctx);
        if (where != MAP_FAILED)
            munmap(where, sizeof *where);
        if (tmp)
            fclose(tmp);
        else if (fd >= 0)
            close(fd);
        return sb_run_finish(r);
    }
    int status = 0;
    int timed_out = sb_child_wait(pid, pl->timeout_s, &status);
    int code = SB_EXIT_RUNTIME;
    cJSON *v = !timed_out && WIFEXITED(status) ? child_verdict(fd, WEXITSTATUS(status)) : NULL;
    if (tmp)
        fclose(tmp);
    else
        close(fd);
    if (v) {
        /* The child finished and printed its summary: write what it measured. */
        code = WEXITSTATUS(status);
        char *text = cJSON_Print(v);
        sb_err err = {{0}};
        if (!text) {
            fprintf(stderr, "saebench: out of memory rendering the verdict\n");
            code = SB_EXIT_RUNTIME;
        } else if (r->opts.out && sb_write_atomic(r->opts.out, text, &err)) {
            fprintf(stderr, "saebench: %s\n", err.msg);
            code = SB_EXIT_USAGE;
        }
        cJSON_free(text);
        cJSON_Delete(v);
        munmap(where, sizeof *where);
        sb_run_free(r);
        return code;
    }
    /* It crashed, hung or ended without its verdict: this process writes one. */
    sb_run_where w = *where;
    munmap(where, sizeof *where);
    char at[200], sig[32], msg[600];
    where_words(&w, at, sizeof at);
    const char *kind;
    int signo = 0;
    if (timed_out) {
        kind = "timeout";
        signo = SIGKILL;
        snprintf(msg, sizeof msg, "%s did not finish within --timeout %g s and was killed (SIGKILL) during %s", pl->noun,
                 pl->timeout_s, at);
    } else if (WIFSIGNALED(status)) {
        kind = "signal";
        signo = WTERMSIG(status);
        snprintf(msg, sizeof msg, "%s crashed: %s (%s) during %s", pl->noun, sb_signal_name(signo, sig, sizeof sig),
                 strsignal(signo), at);
    } else {
        kind = "exit";
        snprintf(msg, sizeof msg, "%s ended its process (exit status %d) during %s, before the verdict was complete",
                 pl->noun, WIFEXITED(status) ? WEXITSTATUS(status) : -1, at);
    }
    sb_run_fail(r, "%s", msg);
    extras(r, ctx);
    failure_json(r, kind, signo, msg, &w);
    return sb_run_finish(r);
}
