/* Solver plugins: opening, probing and binding a library (src/plugin.h). */
#include "plugin.h"

#include <cjson/cJSON.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../include/saebench/solver.h"
#include "isolate.h"
#include "run.h"
#include "safe_io.h"
#include "sha256.h"

static const char *const CALL_NAMES[SB_CALL_COUNT] = {
    NULL, "saebench_solver_v1", "create", "stage", "upload_w", "solve", "download_beta", "telemetry", "destroy", "factor",
};

const char *sb_plugin_call_name(int call)
{
    return call > 0 && call < SB_CALL_COUNT ? CALL_NAMES[call] : NULL;
}

sb_rc sb_plugin_status(int32_t status, int call, char *msg, size_t cap, sb_run_where *where, sb_err *err)
{
    if (status == SAEBENCH_OK) {
        if (where)
            where->call = SB_CALL_NONE;
        return SB_OK;
    }
    char shown[400];
    msg[cap - 1] = '\0';
    sb_printable(msg, shown, sizeof shown);
    const char *code = status == SAEBENCH_ERR_INPUT     ? "SAEBENCH_ERR_INPUT (refused the input)"
                       : status == SAEBENCH_ERR_RUNTIME ? "SAEBENCH_ERR_RUNTIME"
                                                        : "an unknown status";
    return sb_fail(err, SB_E_RUNTIME, "%s returned %s (%d)%s%s", sb_plugin_call_name(call), code, (int)status,
                   shown[0] ? ": " : " with no message", shown);
}

sb_rc sb_plugin_counters(const saebench_telemetry *t, sb_telemetry *out, sb_err *err)
{
    const struct {
        const char *name;
        int64_t v;
    } c[] = {{"h2d_bytes", t->h2d_bytes}, {"d2h_bytes", t->d2h_bytes}, {"factorizations", t->factorizations},
             {"library_calls", t->library_calls}, {"kernel_launches", t->kernel_launches},
             {"handle_creations", t->handle_creations}};
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
        if (c[i].v < 0)
            return sb_fail(err, SB_E_RUNTIME, "telemetry reported %s = %lld: counters are never negative", c[i].name,
                           (long long)c[i].v);
    memset(out, 0, sizeof *out);
    out->h2d_bytes = t->h2d_bytes;
    out->d2h_bytes = t->d2h_bytes;
    out->factorizations = t->factorizations;
    out->library_calls = t->library_calls;
    out->own_kernel_launches = t->kernel_launches;
    out->handle_creations = t->handle_creations;
    return SB_OK;
}

/* ------------------------------------------------ checking a descriptor */

/* 1 when s is 1..max characters of [a-z0-9-], not starting with '-'. */
static int valid_name(const char *s)
{
    size_t n = strnlen(s, SB_PLUGIN_NAME_MAX + 1);
    if (n == 0 || n > SB_PLUGIN_NAME_MAX || s[0] == '-')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return 0;
    return 1;
}

/* 1 when s is 1..max printable ASCII characters. */
static int valid_text(const char *s, size_t max)
{
    size_t n = strnlen(s, max + 1);
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7e)
            return 0;
    return 1;
}

static int bad(char *msg, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(char *msg, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, len, fmt, ap);
    va_end(ap);
    return -1;
}

/* Everything the harness relies on, checked before the plugin does any
 * work; the descriptor's facts copied into id. msg: what is wrong, one line. */
static int check_descriptor(const saebench_solver_desc_v1 *d, sb_plugin_id *id, char *msg, size_t len)
{
    if (!d)
        return bad(msg, len, "saebench_solver_v1() returned NULL");
    if (d->api_version != SAEBENCH_SOLVER_API_VERSION)
        return bad(msg, len, "ABI version %u, but this saebench speaks version %u (include/saebench/solver.h): "
                                  "rebuild the plugin against this saebench's header",
                        (unsigned)d->api_version, SAEBENCH_SOLVER_API_VERSION);
    size_t need = offsetof(saebench_solver_desc_v1, resident_solve) + sizeof d->resident_solve;
    if (d->struct_size < need)
        return bad(msg, len, "descriptor struct_size %zu is smaller than ABI 1's %zu bytes", d->struct_size, need);
    if (!d->name || !valid_name(d->name))
        return bad(msg, len, "name must be 1 to %d characters of [a-z0-9-], not starting with '-'", SB_PLUGIN_NAME_MAX);
    if (!d->version || !valid_text(d->version, SB_PLUGIN_VERSION_MAX))
        return bad(msg, len, "version must be 1 to %d printable ASCII characters", SB_PLUGIN_VERSION_MAX);
    if (d->claims_device != 0 && d->claims_device != 1)
        return bad(msg, len, "claims_device is %d: 0 (host) or 1 (device)", (int)d->claims_device);
    if (d->device && !valid_text(d->device, SB_PLUGIN_DEVICE_MAX))
        return bad(msg, len, "device must be NULL or 1 to %d printable ASCII characters", SB_PLUGIN_DEVICE_MAX);
    /* The arrow table came later in ABI 1: a descriptor without the field
     * implements neither inner-loop nor outer-seq, whatever its bits say. */
    int has_arrow_field = SAEBENCH_HAS_FIELD(d, saebench_solver_desc_v1, arrow);
    uint64_t workloads = d->workloads;
    if (!has_arrow_field)
        workloads &= ~(uint64_t)SAEBENCH_WORKLOAD_INNER_LOOP;
    int has_rs = (d->workloads & SAEBENCH_WORKLOAD_RESIDENT_SOLVE) != 0;
    if (has_rs != (d->resident_solve != NULL))
        return bad(msg, len, "the resident-solve bit of workloads is %d but its table is %s", has_rs,
                        d->resident_solve ? "set" : "NULL");
    uint32_t methods = 0;
    if (has_rs) {
        const saebench_rs_ops_v1 *o = d->resident_solve;
        size_t need_ops = offsetof(saebench_rs_ops_v1, destroy) + sizeof o->destroy;
        if (o->struct_size < need_ops)
            return bad(msg, len, "resident-solve table struct_size %zu is smaller than ABI 1's %zu bytes", o->struct_size,
                            need_ops);
        if (!o->create || !o->stage || !o->upload_w || !o->solve || !o->download_beta || !o->telemetry || !o->destroy)
            return bad(msg, len, "the resident-solve table has a NULL operation (every one of create, stage, "
                                      "upload_w, solve, download_beta, telemetry, destroy is needed)");
        const uint32_t known = SAEBENCH_RS_METHOD_BIT(SAEBENCH_RS_PRIMAL) | SAEBENCH_RS_METHOD_BIT(SAEBENCH_RS_DUAL);
        if (o->methods == 0 || (o->methods & ~known))
            return bad(msg, len, "resident-solve methods is 0x%x: set the primal bit, the dual bit or both", (unsigned)o->methods);
        methods = o->methods;
    }
    int has_arrow = (workloads & SAEBENCH_WORKLOAD_INNER_LOOP) != 0;
    if (has_arrow_field && has_arrow != (d->arrow != NULL))
        return bad(msg, len, "the inner-loop bit of workloads is %d but its arrow table is %s", has_arrow,
                        d->arrow ? "set" : "NULL");
    if (has_arrow) {
        const saebench_arrow_ops_v1 *a = d->arrow;
        size_t need_ops = offsetof(saebench_arrow_ops_v1, destroy) + sizeof a->destroy;
        if (a->struct_size < need_ops)
            return bad(msg, len, "arrow table struct_size %zu is smaller than ABI 1's %zu bytes", a->struct_size, need_ops);
        if (!a->create || !a->factor || !a->solve || !a->telemetry || !a->destroy)
            return bad(msg, len, "the arrow table has a NULL operation (every one of create, factor, solve, telemetry, "
                                      "destroy is needed)");
    }
    memset(id, 0, sizeof *id);
    snprintf(id->name, sizeof id->name, "%s", d->name);
    snprintf(id->version, sizeof id->version, "%s", d->version);
    snprintf(id->device, sizeof id->device, "%s", d->device ? d->device : "");
    id->claims_device = d->claims_device;
    id->abi_version = d->api_version;
    id->workloads = workloads;
    id->rs_methods = methods;
    return 0;
}

/* ----------------------------------------------------------- loading */

/* In a child only: dlopen the library through pl->file (the bytes hashed),
 * find the entry, check the descriptor. *desc stays valid while loaded. */
static int load_library(const sb_plugin *pl, sb_run_where *where, const saebench_solver_desc_v1 **desc, sb_plugin_id *id,
                        char *msg, size_t len)
{
    char via[64];
    snprintf(via, sizeof via, "/proc/self/fd/%d", fileno(pl->file));
    const char *load = access(via, F_OK) == 0 ? via : pl->resolved; /* no /proc: the real path */
    dlerror();
    void *h = dlopen(load, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        e = e ? e : "unknown dlopen error";
        size_t k = strlen(load);
        if (strncmp(e, load, k) == 0 && strncmp(e + k, ": ", 2) == 0)
            e += k + 2; /* the loader names the path it was given: ours is the user's */
        snprintf(msg, len, "cannot load it as a shared library: %s", e);
        return -1;
    }
    dlerror();
    void *sym = dlsym(h, SAEBENCH_SOLVER_ENTRY_V1);
    if (!sym) {
        for (int v = 9; v >= 2; v--) {
            char name[32];
            snprintf(name, sizeof name, "saebench_solver_v%d", v);
            if (dlsym(h, name)) {
                snprintf(msg, len, "it exports %s but not %s: it speaks a newer ABI than this saebench (version %u)", name,
                         SAEBENCH_SOLVER_ENTRY_V1, SAEBENCH_SOLVER_API_VERSION);
                return -1;
            }
        }
        snprintf(msg, len, "no %s symbol: not a saebench solver plugin (include/saebench/solver.h)", SAEBENCH_SOLVER_ENTRY_V1);
        return -1;
    }
    saebench_solver_v1_fn entry;
    memcpy(&entry, &sym, sizeof entry); /* POSIX: dlsym's object pointer is the function's address */
    if (where)
        where->call = SB_CALL_ENTRY;
    const saebench_solver_desc_v1 *d = entry();
    if (where)
        where->call = SB_CALL_NONE;
    if (check_descriptor(d, id, msg, len))
        return -1;
    *desc = d;
    return 0;
}

/* What the probe child hands back, in memory shared with the parent. */
typedef struct probe_rec {
    int done;          /* the child got to the end */
    int failed;
    char msg[480];
    sb_plugin_id id;
} probe_rec;

static sb_rc probe(sb_plugin *pl, sb_err *err)
{
    probe_rec *rec = mmap(NULL, sizeof *rec, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (rec == MAP_FAILED)
        return sb_fail(err, SB_E_INPUT, "plugin %s: cannot map memory for the loading check: %s", pl->path, strerror(errno));
    memset(rec, 0, sizeof *rec);
    fflush(stdout);
    fflush(stderr);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        munmap(rec, sizeof *rec);
        return sb_fail(err, SB_E_INPUT, "plugin %s: cannot start the loading check: %s", pl->path, strerror(errno));
    }
    if (pid == 0) {
        sb_child_setup(parent);
        const saebench_solver_desc_v1 *d = NULL;
        rec->failed = load_library(pl, NULL, &d, &rec->id, rec->msg, sizeof rec->msg) != 0;
        rec->done = 1;
        fflush(stdout); /* what it printed while loading, to stderr */
        _exit(0);       /* no atexit handlers, no library destructors: nothing more of the plugin runs */
    }
    int status = 0;
    int timed_out = sb_child_wait(pid, pl->timeout_s, &status);
    char sig[32], shown[480];
    sb_rc rc = SB_OK;
    if (timed_out)
        rc = sb_fail(err, SB_E_INPUT, "plugin %s: did not finish loading within --timeout %g s (killed)", pl->path, pl->timeout_s);
    else if (WIFSIGNALED(status))
        rc = sb_fail(err, SB_E_INPUT, "plugin %s: crashed while loading: %s", pl->path,
                     sb_signal_name(WTERMSIG(status), sig, sizeof sig));
    else if (!rec->done)
        rc = sb_fail(err, SB_E_INPUT, "plugin %s: ended the process while loading (exit status %d)", pl->path,
                     WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    else if (rec->failed) {
        rec->msg[sizeof rec->msg - 1] = '\0';
        rc = sb_fail(err, SB_E_INPUT, "plugin %s: %s", pl->path, sb_printable(rec->msg, shown, sizeof shown));
    } else {
        pl->id = rec->id;
    }
    munmap(rec, sizeof *rec);
    return rc;
}

sb_rc sb_plugin_open(const char *path, double timeout_s, sb_plugin **out, sb_err *err)
{
    char shown[512];
    sb_printable(path, shown, sizeof shown);
    if (strlen(path) >= sizeof((sb_plugin *)0)->path)
        return sb_fail(err, SB_E_INPUT, "plugin %s: path too long", shown);
    sb_plugin *pl = sb_alloc(1, sizeof *pl, err);
    if (!pl)
        return SB_E_INPUT;
    snprintf(pl->path, sizeof pl->path, "%s", shown);
    pl->timeout_s = timeout_s;
    /* A regular file only, opened without blocking (a FIFO cannot hang us). */
    int e = sb_open_regular(path, &pl->file);
    if (e) {
        free(pl);
        return e < 0 ? sb_fail(err, SB_E_INPUT, "plugin %s: not a regular file", shown)
                     : sb_fail(err, SB_E_INPUT, "plugin %s: %s", shown, strerror(e));
    }
    char *real = realpath(path, NULL);
    snprintf(pl->resolved, sizeof pl->resolved, "%s", real ? real : path);
    free(real);
    if ((e = sb_sha256_file(pl->file, pl->sha256, &pl->size))) {
        sb_plugin_close(pl);
        return sb_fail(err, SB_E_INPUT, "plugin %s: cannot read it: %s", shown, strerror(e));
    }
    if (probe(pl, err)) {
        sb_plugin_close(pl);
        return SB_E_INPUT;
    }
    snprintf(pl->backend_name, sizeof pl->backend_name, "plugin-%s", pl->id.name);
    snprintf(pl->noun, sizeof pl->noun, "plugin %s", pl->id.name);
    pl->backend.name = pl->backend_name;
    pl->backend.is_device = pl->id.claims_device;
    /* Ceilings for the roofline: those of what the plugin claims to run on. */
    pl->backend.calibrate = pl->id.claims_device ? sb_cuda_backend.calibrate : sb_host_backend.calibrate;
    pl->backend.resident_solve = (pl->id.workloads & SAEBENCH_WORKLOAD_RESIDENT_SOLVE) ? &sb_plugin_rs_ops : NULL;
    pl->backend.arrow = (pl->id.workloads & SAEBENCH_WORKLOAD_INNER_LOOP) ? &sb_plugin_arrow_ops : NULL;
    *out = pl;
    return SB_OK;
}

void sb_plugin_close(sb_plugin *pl)
{
    if (!pl)
        return;
    if (pl->file)
        fclose(pl->file);
    free(pl);
}

static int same_id(const sb_plugin_id *a, const sb_plugin_id *b)
{
    return strcmp(a->name, b->name) == 0 && strcmp(a->version, b->version) == 0 && strcmp(a->device, b->device) == 0 &&
           a->claims_device == b->claims_device && a->abi_version == b->abi_version && a->workloads == b->workloads &&
           a->rs_methods == b->rs_methods;
}

sb_rc sb_plugin_bind(sb_plugin *pl, sb_run_where *where, sb_err *err)
{
    const saebench_solver_desc_v1 *d = NULL;
    sb_plugin_id again;
    char msg[480], shown[480];
    if (load_library(pl, where, &d, &again, msg, sizeof msg))
        return sb_fail(err, SB_E_RUNTIME, "%s failed to load in the run's process: %s", pl->noun,
                       sb_printable(msg, shown, sizeof shown));
    if (!same_id(&again, &pl->id))
        return sb_fail(err, SB_E_RUNTIME, "%s described itself differently when loaded again (name, version, claim, "
                                          "workloads or methods changed)", pl->noun);
    sb_plugin_rs_bind(d->resident_solve, where);
    sb_plugin_arrow_bind((pl->id.workloads & SAEBENCH_WORKLOAD_INNER_LOOP) ? d->arrow : NULL, pl->threads, where);
    return SB_OK;
}

/* ------------------------------------------------------------ verdict */

const char *sb_plugin_engagement(const sb_plugin *pl, char *buf, size_t len)
{
    if (pl->id.claims_device)
        snprintf(buf, len, "by the plugin's claim only: %s says its solves run on a device%s%s%s; saebench timed each rep "
                           "around the plugin's synchronous calls and checked the answers against its oracle, but cannot "
                           "see where the calls ran. engaged is true when every rep completed",
                 pl->noun, pl->id.device[0] ? " (" : "", pl->id.device, pl->id.device[0] ? ")" : "");
    else
        snprintf(buf, len, "never: %s claims to run on the host; saebench timed its calls and checked its answers, and a "
                           "host number is never a device number", pl->noun);
    return buf;
}

cJSON *sb_plugin_json(const sb_plugin *pl)
{
    cJSON *o = cJSON_CreateObject();
    char words[600];
    cJSON_AddStringToObject(o, "name", pl->id.name);
    cJSON_AddStringToObject(o, "version", pl->id.version);
    cJSON_AddStringToObject(o, "path", pl->path);
    cJSON_AddStringToObject(o, "resolved_path", pl->resolved);
    cJSON_AddStringToObject(o, "sha256", pl->sha256);
    cJSON_AddNumberToObject(o, "size_bytes", (double)pl->size);
    cJSON_AddNumberToObject(o, "abi_version", pl->id.abi_version);
    cJSON_AddStringToObject(o, "entry", SAEBENCH_SOLVER_ENTRY_V1);
    cJSON_AddBoolToObject(o, "claims_device", pl->id.claims_device);
    cJSON_AddItemToObject(o, "device_claimed", pl->id.device[0] ? cJSON_CreateString(pl->id.device) : cJSON_CreateNull());
    cJSON *wl = cJSON_AddArrayToObject(o, "workloads");
    if (pl->id.workloads & SAEBENCH_WORKLOAD_RESIDENT_SOLVE)
        cJSON_AddItemToArray(wl, cJSON_CreateString("resident-solve"));
    if (pl->id.workloads & SAEBENCH_WORKLOAD_INNER_LOOP) { /* one arrow table serves both */
        cJSON_AddItemToArray(wl, cJSON_CreateString("inner-loop"));
        cJSON_AddItemToArray(wl, cJSON_CreateString("outer-seq"));
    }
    cJSON *m = cJSON_AddArrayToObject(o, "methods");
    if (pl->id.rs_methods & SAEBENCH_RS_METHOD_BIT(SAEBENCH_RS_PRIMAL))
        cJSON_AddItemToArray(m, cJSON_CreateString("primal"));
    if (pl->id.rs_methods & SAEBENCH_RS_METHOD_BIT(SAEBENCH_RS_DUAL))
        cJSON_AddItemToArray(m, cJSON_CreateString("dual"));
    cJSON_AddStringToObject(o, "engagement", sb_plugin_engagement(pl, words, sizeof words));
    snprintf(words, sizeof words, "loaded and run only in child processes (the saebench process that writes the verdict "
                                  "loads nothing of it); killed after --timeout %g s", pl->timeout_s);
    cJSON_AddStringToObject(o, "isolation", words);
    cJSON_AddNumberToObject(o, "timeout_s", pl->timeout_s);
    cJSON_AddNullToObject(o, "failure");
    return o;
}
