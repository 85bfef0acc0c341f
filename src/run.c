/* The run harness (src/run.h): everything a workload run does that is not
 * the workload's own math. */
#include "run.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "compare.h"
#include "host/host_info.h"
#include "plugin.h"
#include "shape.h"

/* Timed reps under --min-time stop at this many unless --max-reps says otherwise. */
#define SB_DEFAULT_MAX_REPS 1000
/* Under --min-time a phase gives up on the noise criterion after this many
 * times the requested time. */
#define SB_TIMEOUT_FACTOR 3.0

static const sb_gate_def *gate_def(const sb_workload *wl, const char *id, int *index)
{
    for (int i = 0; i < wl->ngates; i++)
        if (strcmp(wl->gates[i].id, id) == 0) {
            if (index)
                *index = i;
            return &wl->gates[i];
        }
    return NULL;
}

static void print_help(const sb_workload *wl, void (*help)(void))
{
    if (help)
        help();
    printf("Gates (override a threshold with --gate ID=VALUE):\n");
    for (int i = 0; i < wl->ngates; i++)
        printf("  %s  %s%s%s\n", wl->gates[i].id, wl->gates[i].rule, wl->gates[i].device_only ? " (device runs only)" : "",
               wl->gates[i].opt_in ? " (opt-in: applies when --gate names it)" : "");
    printf("\nWhat is solved, timed and compared: %s. Verdict fields: docs/verdict.md.\n\nOptions:\n", wl->doc);
    sb_print_opts_help(wl->accepted | SB_OPT_DRY_RUN | SB_OPT_REQUIRE_VALID | SB_OPT_CONDITIONS);
}

static int usage_error(sb_run *r, const sb_err *err)
{
    fprintf(stderr, "saebench: %s\n", err->msg);
    sb_run_free(r);
    return SB_EXIT_USAGE;
}

/* Every output path an option names (one table for both checks below). */
typedef struct opt_path {
    const char *opt, *path;
} opt_path;
#define SB_NOUTPUTS 5
static void outputs_of(const sb_opts *o, opt_path out[SB_NOUTPUTS])
{
    const opt_path all[SB_NOUTPUTS] = {{"--out", o->out}, {"--dump-beta", o->dump_beta}, {"--dump-z", o->dump_z},
                                       {"--dump-coords", o->dump_coords}, {"--dump-rows", o->dump_rows}};
    memcpy(out, all, sizeof all);
}

/* An output that is also an input, or two outputs that are one file, by
 * device and inode (or real folder and name), never by spelling. */
static int same_file_error(const sb_opts *o, sb_err *err)
{
    const opt_path in[] = {
        {"--shape", o->shape}, {"--calibration", o->calibration}, {"--x", o->x_path},
        {"--w", o->w_path}, {"--rhs", o->rhs_path}, {"--decoders", o->decoders_path},
        {"--atoms", o->atoms_path}, {"--amplitudes", o->amplitudes_path}, {"--variants", o->variants},
    };
    opt_path out[SB_NOUTPUTS];
    outputs_of(o, out);
    const int nin = (int)(sizeof in / sizeof in[0]), nout = SB_NOUTPUTS;
    for (int i = 0; i < nout; i++) {
        if (!out[i].path)
            continue;
        struct stat st; /* an input names an existing file (else --shape is a shape's name) */
        for (int k = 0; k < nin; k++)
            if (in[k].path && stat(in[k].path, &st) == 0 && sb_same_file(out[i].path, in[k].path)) {
                sb_fail(err, SB_E_INPUT, "%s %s is the %s input: saebench never overwrites its inputs", out[i].opt,
                        out[i].path, in[k].opt);
                return 1;
            }
        /* two writes to one device node (/dev/null) lose nothing */
        int node = stat(out[i].path, &st) == 0 && !S_ISREG(st.st_mode);
        for (int k = i + 1; k < nout && !node; k++)
            if (out[k].path && sb_same_file(out[i].path, out[k].path)) {
                sb_fail(err, SB_E_INPUT, "%s and %s name the same file %s", out[k].opt, out[i].opt, out[i].path);
                return 1;
            }
    }
    return 0;
}

sb_rc sb_run_check_input(const sb_opts *o, const char *input, sb_err *err)
{
    opt_path out[SB_NOUTPUTS];
    outputs_of(o, out);
    for (size_t i = 0; i < SB_NOUTPUTS; i++)
        if (out[i].path && sb_same_file(out[i].path, input))
            return sb_fail(err, SB_E_INPUT, "%s %s is the input %s: saebench never overwrites its inputs", out[i].opt,
                           out[i].path, input);
    return SB_OK;
}

/* --backend plugin:PATH.so: probe the library (src/plugin.c) and hold it
 * to this workload. A plugin that does not implement the workload is an
 * error here, unless --require-device was given: then it cannot engage a
 * device, and sb_run_choose_backend writes the exit-3 verdict, as it does
 * for a device backend without the workload (docs/plugins.md). */
static sb_rc open_plugin(sb_run *r, sb_err *err)
{
    const sb_opts *o = &r->opts;
    double timeout = o->timeout > 0 ? o->timeout : SB_PLUGIN_DEFAULT_TIMEOUT_S;
    if (sb_plugin_open(o->plugin, timeout, &r->plugin, err))
        return SB_E_INPUT;
    r->plugin->threads = o->threads;
    if (!(r->plugin->id.workloads & r->wl->plugin_workload) && !o->require_device)
        return sb_fail(err, SB_E_INPUT, "plugin %s (%s) does not implement %s", r->plugin->path, r->plugin->id.name,
                       r->wl->name);
    return SB_OK;
}

int sb_run_init(sb_run *r, const sb_workload *wl, int argc, char **argv, void (*help)(void))
{
    memset(r, 0, sizeof *r);
    r->wl = wl;
    r->verdict_fd = -1;
    sb_err err = {{0}};
    sb_opts *o = &r->opts;
    if (sb_parse_opts(argc, argv, wl->accepted | SB_OPT_DRY_RUN | SB_OPT_REQUIRE_VALID | SB_OPT_CONDITIONS, o, &err))
        return usage_error(r, &err);
    if (o->help) {
        print_help(wl, help);
        return SB_EXIT_PASS;
    }
    r->gates = calloc((size_t)wl->ngates, sizeof *r->gates);
    if (!r->gates) {
        sb_fail(&err, SB_E_RUNTIME, "out of memory");
        return usage_error(r, &err);
    }
    for (int i = 0; i < wl->ngates; i++)
        r->gates[i].dflt = wl->gates[i].threshold;
    /* Gate ids and thresholds. */
    for (int i = 0; i < o->ngates; i++) {
        const sb_gate_def *g = gate_def(wl, o->gates[i].id, NULL);
        if (!g) {
            char ids[256] = "";
            for (int k = 0; k < wl->ngates; k++)
                snprintf(ids + strlen(ids), sizeof ids - strlen(ids), "%s%s", k ? ", " : "", wl->gates[k].id);
            sb_fail(&err, SB_E_INPUT, "--gate: unknown gate '%s' for %s (%s)", o->gates[i].id, wl->name, ids);
            return usage_error(r, &err);
        }
        if (g->positive && !(o->gates[i].value > 0)) {
            sb_fail(&err, SB_E_INPUT, "--gate %s=%g: the threshold must be positive", g->id, o->gates[i].value);
            return usage_error(r, &err);
        }
    }
    /* Conflicting options. */
    int host = strcmp(o->backend, "host") == 0;
    if (host && o->require_device) {
        sb_fail(&err, SB_E_INPUT, "--backend host and --require-device conflict: the host backend never engages a device");
        return usage_error(r, &err);
    }
    if (host && (wl->device_only_opts & SB_OPT_REUPLOAD) && o->reupload) {
        sb_fail(&err, SB_E_INPUT, "--reupload and --backend host conflict: the re-upload baseline is a device measurement");
        return usage_error(r, &err);
    }
    if (host && (wl->device_only_opts & SB_OPT_FACTOR) && sb_factor_is_own(o->factor)) {
        sb_fail(&err, SB_E_INPUT, "--factor %s and --backend host conflict: the host has only the library factor", o->factor);
        return usage_error(r, &err);
    }
    /* --cold and --throttle-*: the conditions of saebench's own device timing. */
    if (o->given && (host || o->plugin)) {
        sb_fail(&err, SB_E_INPUT, "%s and --backend %s conflict: %s", o->given & SB_GIVEN_COLD ? "--cold" : "--throttle-*",
                host ? "host" : "plugin", host ? "the L2 flush and the SM clock probe are the device's"
                                              : "saebench does not reach into a plugin's device (docs/plugins.md)");
        return usage_error(r, &err);
    }
    if (o->max_reps > 0 && !(o->min_time > 0)) {
        sb_fail(&err, SB_E_INPUT, "--max-reps applies with --min-time (without it exactly --reps timed reps run)");
        return usage_error(r, &err);
    }
    /* Output paths, then the calibration file: parsed once, here. */
    if (o->out && sb_check_writable(o->out, &err))
        return usage_error(r, &err);
    if (o->dump_beta && sb_check_writable(o->dump_beta, &err))
        return usage_error(r, &err);
    if (o->dump_z && sb_check_writable(o->dump_z, &err))
        return usage_error(r, &err);
    if (o->dump_coords && sb_check_writable(o->dump_coords, &err))
        return usage_error(r, &err);
    if (o->dump_rows && sb_check_writable(o->dump_rows, &err))
        return usage_error(r, &err);
    if (same_file_error(o, &err))
        return usage_error(r, &err);
    if (o->calibration) {
        if (sb_calibration_load(o->calibration, &r->cal, &err))
            return usage_error(r, &err);
        if (!r->cal.have_host && !r->cal.have_device) {
            sb_fail(&err, SB_E_INPUT, "%s: no host or device ceilings in this calibration file", o->calibration);
            return usage_error(r, &err);
        }
        r->have_cal = 1;
    }
    if (o->timeout > 0 && !o->plugin) {
        sb_fail(&err, SB_E_INPUT, "--timeout applies with --backend plugin:PATH.so (built-in backends run in saebench's own process)");
        return usage_error(r, &err);
    }
    /* The plugin last: every check that needs no plugin has passed, and the
     * probe loads it in a short-lived child, never here. */
    if (o->plugin && open_plugin(r, &err))
        return usage_error(r, &err);
    r->progress = !o->quiet && isatty(STDERR_FILENO);
    return -1;
}

void sb_run_counts(sb_run *r, int64_t shape_reps, int64_t shape_warmup, int64_t dflt_reps, int64_t dflt_warmup)
{
    const sb_opts *o = &r->opts;
    r->reps = o->reps > 0 ? o->reps : (shape_reps > 0 ? shape_reps : dflt_reps);
    r->warmup = o->warmup >= 0 ? o->warmup : (shape_warmup >= 0 ? shape_warmup : dflt_warmup);
    r->max_reps = o->min_time > 0 ? (o->max_reps > 0 ? o->max_reps : SB_DEFAULT_MAX_REPS) : r->reps;
    if (r->max_reps < r->reps)
        r->max_reps = r->reps;
    /* Throttled reps discarded and retaken (timing.sm_clock) come on top. */
    r->retake_limit = o->throttle_retakes >= 0 ? o->throttle_retakes : r->reps;
    r->max_attempts = r->max_reps + r->retake_limit;
}

int sb_run_verdict_init(sb_run *r, const sb_shape *shape, const char *data_label)
{
    sb_err err = {{0}};
    /* --dry-run: every workload calls this once its options, shape and data
     * are loaded and checked, before a backend is chosen or anything runs. */
    if (r->opts.dry_run) {
        if (!r->opts.quiet)
            fprintf(stderr, "saebench %s --dry-run: options, shape %s (%s)%s%s and outputs checked; nothing run\n",
                    r->wl->name, shape->name, data_label ? data_label : "fixture",
                    r->plugin ? ", the loading of " : "", r->plugin ? r->plugin->noun : "");
        return SB_EXIT_PASS;
    }
    if (sb_verdict_init(&r->v, r->wl->name, shape, &err)) {
        fprintf(stderr, "saebench: %s\n", err.msg);
        return SB_EXIT_RUNTIME;
    }
    r->verdict_ready = 1;
    r->shape = shape;
    snprintf(r->data_label, sizeof r->data_label, "%s", data_label ? data_label : "fixture");
    return -1;
}

/* The human form of a decline: the raw library message after " [" stays in
 * the verdict only. */
static void human_reason(const char *why, char *out, size_t len)
{
    snprintf(out, len, "%s", why);
    char *raw = strstr(out, " [");
    if (raw)
        *raw = '\0';
}

static void note_inapplicable_gates(const sb_run *r)
{
    if (r->opts.quiet)
        return;
    for (int i = 0; i < r->opts.ngates; i++) {
        const sb_gate_def *g = gate_def(r->wl, r->opts.gates[i].id, NULL);
        if (g && g->device_only)
            fprintf(stderr, "saebench: note: --gate %s does not apply to this run: %s is checked on an engaged device only\n",
                    g->id, g->id);
    }
}

/* --backend plugin: the plugin's backend, named by the plugin. With
 * --require-device, a plugin that claims the host, or claims a device but
 * does not implement the workload, cannot engage one: exit 3 (written here,
 * by this process, which never loads the plugin). */
static int choose_plugin(sb_run *r, int (*implements)(const sb_backend *b))
{
    const sb_plugin *pl = r->plugin;
    cJSON *root = r->v.root;
    r->backend = &pl->backend;
    cJSON_AddItemToObject(root, "plugin", sb_plugin_json(pl));
    cJSON_AddStringToObject(root, "backend", pl->backend.name);
    if (r->opts.require_device && !(pl->backend.is_device && implements(&pl->backend))) {
        r->declined = 1;
        if (pl->backend.is_device)
            snprintf(r->declined_why, sizeof r->declined_why, "%s claims a device but does not implement %s", pl->noun,
                     r->wl->name);
        else
            snprintf(r->declined_why, sizeof r->declined_why, "%s claims to run on the host", pl->noun);
        cJSON_AddStringToObject(root, "execution_path", "none");
        r->exit_code = SB_EXIT_NO_DEVICE;
        return sb_run_finish(r);
    }
    if (r->have_cal && (pl->backend.is_device ? !r->cal.have_device : !r->cal.have_host)) {
        fprintf(stderr, "saebench: %s: no %s ceilings in this calibration file (%s claims the %s)\n", r->opts.calibration,
                pl->backend.is_device ? "device" : "host", pl->noun, pl->backend.is_device ? "device" : "host");
        sb_run_free(r);
        return SB_EXIT_USAGE;
    }
    if (!pl->backend.is_device)
        note_inapplicable_gates(r);
    /* device stays null: saebench probed no device, the plugin claims one */
    cJSON_AddStringToObject(root, "execution_path", pl->backend.is_device ? "plugin-device-claimed" : "plugin-cpu");
    return -1;
}

int sb_run_choose_backend(sb_run *r, int (*implements)(const sb_backend *b))
{
    const sb_opts *o = &r->opts;
    if (r->plugin)
        return choose_plugin(r, implements);
    int want_device = o->require_device || strcmp(o->backend, "cuda") == 0;
    const sb_backend *dev = sb_backend_by_name("cuda");
    sb_err why = {{0}};
    if (strcmp(o->backend, "host") == 0) {
        r->backend = &sb_host_backend;
    } else if (dev->probe(&r->info, &why) == SB_OK && implements(dev) && !r->workload_declines[0]) {
        r->backend = dev;
    } else {
        if (why.msg[0] == '\0' && r->workload_declines[0] && implements(dev))
            sb_fail(&why, SB_E_NODEVICE, "%s", r->workload_declines);
        if (why.msg[0] == '\0')
            sb_fail(&why, SB_E_NODEVICE, "backend %s does not implement %s yet", dev->name, r->wl->name);
        r->declined = 1;
        snprintf(r->declined_why, sizeof r->declined_why, "%s", why.msg);
        r->backend = want_device ? NULL : &sb_host_backend;
    }
    cJSON *root = r->v.root;
    if (!r->backend) {
        /* The device was asked for and is not there: no run, no host stand-in. */
        r->backend = dev;
        cJSON_AddStringToObject(root, "backend", dev->name);
        cJSON_AddStringToObject(root, "execution_path", "none");
        r->exit_code = SB_EXIT_NO_DEVICE;
        return sb_run_finish(r);
    }
    if (!r->backend->is_device && (r->wl->device_only_opts & SB_OPT_FACTOR) && sb_factor_is_own(o->factor)) {
        /* --backend host was refused in sb_run_init; this is auto falling back. */
        fprintf(stderr, "saebench: --factor %s needs the device, which is not engaged: %s\n", o->factor, r->declined_why);
        sb_run_free(r);
        return SB_EXIT_USAGE;
    }
    if (!r->backend->is_device && o->given) {
        /* --backend host was refused in sb_run_init; this is auto falling back. */
        fprintf(stderr, "saebench: %s needs the device, which is not engaged: %s\n",
                o->given & SB_GIVEN_COLD ? "--cold" : "--throttle-*", r->declined_why);
        sb_run_free(r);
        return SB_EXIT_USAGE;
    }
    if (!r->backend->is_device)
        note_inapplicable_gates(r);
    if (r->have_cal && (r->backend->is_device ? !r->cal.have_device : !r->cal.have_host)) {
        fprintf(stderr, "saebench: %s: no %s ceilings in this calibration file (the %s backend runs)\n",
                o->calibration, r->backend->is_device ? "device" : "host", r->backend->name);
        sb_run_free(r);
        return SB_EXIT_USAGE;
    }
    if (r->backend->is_device)
        sb_verdict_device(&r->v, &r->info);
    cJSON_AddStringToObject(root, "backend", r->backend->name);
    cJSON_AddStringToObject(root, "execution_path", r->backend->is_device ? SB_DEVICE_EXECUTION_PATH : "cpu");
    return -1;
}

const char *sb_run_backend_noun(const sb_run *r)
{
    if (r->plugin)
        return r->plugin->noun;
    return r->backend && r->backend->is_device ? "device" : "host backend";
}

void sb_run_at(sb_run *r, const char *stage, int64_t rep)
{
    sb_run_where *w = r->where;
    if (!w)
        return;
    snprintf(w->stage, sizeof w->stage, "%s", stage);
    w->rep = rep;
}

void sb_run_at_phase(sb_run *r, const char *phase, const char *stage)
{
    if (r->where)
        snprintf(r->where->phase, sizeof r->where->phase, "%s", phase);
    sb_run_at(r, stage, -1);
}

void sb_run_device_declines(sb_run *r, const char *reason)
{
    snprintf(r->workload_declines, sizeof r->workload_declines, "%s", reason);
}

void sb_run_progress(const sb_run *r, const char *fmt, ...)
{
    if (!r->progress)
        return;
    char line[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\r  %-70.70s", line);
    fflush(stderr);
}

static void progress_clear(const sb_run *r)
{
    if (r->progress)
        fprintf(stderr, "\r%*s\r", 74, "");
}

void sb_run_fail(sb_run *r, const char *fmt, ...)
{
    if (r->failed)
        return; /* the first failure is the reason */
    r->failed = 1;
    if (r->where)
        r->failed_at = *r->where; /* where it happened, before later steps move on */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->failure, sizeof r->failure, fmt, ap);
    va_end(ap);
}

static int push_sample(sb_phase *ph, double s, double mhz)
{
    if (ph->count == ph->cap) {
        int64_t cap = ph->cap ? 2 * ph->cap : 64;
        double *grown = realloc(ph->samples, (size_t)cap * sizeof *grown);
        if (!grown)
            return -1;
        ph->samples = grown;
        grown = realloc(ph->mhz, (size_t)cap * sizeof *grown);
        if (!grown)
            return -1;
        ph->mhz = grown;
        ph->cap = cap;
    }
    ph->mhz[ph->count] = mhz;
    ph->samples[ph->count++] = s;
    return 0;
}

/* The SM clock probe and the L2 flush (backend->probe_ops, docs/verdict.md
 * timing.sm_clock): opened once, before the first timed rep, for saebench's
 * own device backend. A probe that cannot open or read leaves the clock
 * unmeasured, with the reason; it never fails the run (only --cold's flush,
 * which the user asked for, does). */
static void probe_open(sb_run *r)
{
    if (r->probe_tried)
        return;
    r->probe_tried = 1;
    const sb_backend *b = r->backend;
    if (!b || !b->is_device || r->plugin) {
        snprintf(r->probe_why, sizeof r->probe_why, "%s", !b || !b->is_device ? "not a device run"
                                                          : "a plugin's device: saebench does not reach into it");
        return;
    }
    if (!b->probe_ops) {
        snprintf(r->probe_why, sizeof r->probe_why, "the %s backend has no SM clock probe", b->name);
        return;
    }
    sb_err err = {{0}};
    if (b->probe_ops->open(r->opts.cold, &r->probe, &r->l2_bytes, &err)) {
        r->probe = NULL;
        snprintf(r->probe_why, sizeof r->probe_why, "the SM clock probe did not open: %.200s", err.msg);
        return;
    }
    r->default_mhz = r->info.clock_mhz;
    r->threshold_mhz = r->opts.throttle_threshold > 0 && r->default_mhz > 0 ? r->opts.throttle_threshold * r->default_mhz : 0;
    r->retakes_left = r->retake_limit;
}

static void probe_close(sb_run *r)
{
    if (r->probe)
        r->backend->probe_ops->close(r->probe);
    r->probe = NULL;
}

/* Before a timed rep: --cold's flush, then the first clock reading. SB_OK
 * unless the flush failed (err). */
static sb_rc probe_before(sb_run *r, sb_clock_reading *before, double *cost, sb_err *err)
{
    before->nblocks = 0;
    *cost = 0;
    if (!r->probe) {
        if (r->opts.cold)
            return sb_fail(err, SB_E_RUNTIME, "--cold: no L2 flush (%s)", r->probe_why);
        return SB_OK;
    }
    double t0 = sb_now_s();
    if (r->opts.cold && r->backend->probe_ops->flush_l2(r->probe, err))
        return SB_E_RUNTIME;
    sb_err perr = {{0}};
    if (r->backend->probe_ops->read_clock(r->probe, before, &perr)) {
        before->nblocks = 0;
        snprintf(r->probe_why, sizeof r->probe_why, "the SM clock probe failed: %.200s", perr.msg);
    }
    *cost = sb_now_s() - t0;
    return SB_OK;
}

/* After a timed rep: the second reading; the SM clock over the rep in MHz,
 * or NAN (not measured). */
static double probe_after(sb_run *r, const sb_clock_reading *before, double cost_before)
{
    if (!r->probe || before->nblocks == 0)
        return NAN;
    static sb_clock_reading after; /* 12 KB: not on the stack of every rep */
    double t0 = sb_now_s();
    sb_err perr = {{0}};
    double mhz = NAN;
    if (r->backend->probe_ops->read_clock(r->probe, &after, &perr) == SB_OK) {
        int nsm = 0;
        mhz = sb_sm_clock_mhz(before, &after, &nsm);
        if (nsm == 0)
            snprintf(r->probe_why, sizeof r->probe_why, "no SM was seen in both readings around a rep");
    } else {
        snprintf(r->probe_why, sizeof r->probe_why, "the SM clock probe failed: %.200s", perr.msg);
    }
    double cost = sb_now_s() - t0 + cost_before;
    r->probe_cost_s += cost;
    r->probe_reps++;
    if (cost > r->probe_cost_max_s)
        r->probe_cost_max_s = cost;
    return mhz;
}

/* A throttled rep discarded (it will be retaken): recorded per phase. */
static void note_discarded(sb_phase *ph, int64_t attempt, double seconds, double mhz)
{
    if (!ph->discarded)
        ph->discarded = cJSON_CreateArray();
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "attempt", (double)attempt);
    cJSON_AddNumberToObject(o, "seconds", seconds);
    cJSON_AddNumberToObject(o, "sm_clock_mhz", mhz);
    cJSON_AddItemToArray(ph->discarded, o);
    ph->ndiscarded++;
}

/* The device's conditions through NVML (src/nvml.h): before the first
 * timed rep of the run (first: 1) and after each phase (the last phase's
 * reading stays), for the built-in device backend only: the host has no GPU
 * to read and a plugin's device is not saebench's to name. Never inside a
 * timed interval; the cost of each reading is written beside it. */
static void conditions_read(sb_run *r, int first)
{
    if (!r->backend || !r->backend->is_device || r->plugin || (first && r->cond.tried))
        return;
    sb_conditions_read(&r->cond, r->info.pci_bus_id, first);
}

sb_phase *sb_run_time(sb_run *r, const char *name, const sb_rep *rep)
{
    sb_phase *ph = &r->phases[r->nphases < SB_RUN_MAX_PHASES ? r->nphases++ : SB_RUN_MAX_PHASES - 1];
    memset(ph, 0, sizeof *ph);
    ph->name = name;
    sb_err err = {{0}};
    const double min_time = r->opts.min_time;
    if (r->where)
        snprintf(r->where->phase, sizeof r->where->phase, "%s", name);
    for (int64_t k = 0; k < r->warmup; k++) {
        sb_run_at(r, "warm-up", k);
        sb_run_progress(r, "%s: warm-up %lld/%lld", name, (long long)(k + 1), (long long)r->warmup);
        if ((rep->prepare && rep->prepare(rep->ctx, k, 0, &err)) || rep->run(rep->ctx, k, 0, &err))
            goto failed;
    }
    conditions_read(r, 1);
    probe_open(r);
    ph->have_clock = r->probe != NULL;
    double spent = 0, start = sb_now_s();
    /* k counts attempts: a throttled rep that is discarded is retaken as the
     * next attempt, with its own inputs (prepare(k)). */
    for (int64_t k = 0;; k++) {
        sb_run_at(r, "timed", k);
        if (rep->prepare && rep->prepare(rep->ctx, r->warmup + k, 1, &err))
            goto failed;
        static sb_clock_reading before; /* 12 KB: not on the stack of every rep */
        double cost = 0;
        if (probe_before(r, &before, &cost, &err))
            goto failed;
        double t0 = sb_now_s();
        sb_rc rc = rep->run(rep->ctx, r->warmup + k, 1, &err);
        double dt = sb_now_s() - t0;
        if (rc)
            goto failed;
        double mhz = probe_after(r, &before, cost);
        /* NAN (not measured) is never below the threshold. */
        int throttled = r->threshold_mhz > 0 && mhz < r->threshold_mhz;
        if (throttled && r->retakes_left > 0) {
            r->retakes_left--;
            note_discarded(ph, k, dt, mhz);
            sb_run_progress(r, "%s: attempt %lld throttled (%.0f MHz): discarded, retaken", name, (long long)(k + 1), mhz);
            sb_sleep_s(r->opts.throttle_recovery);
            continue;
        }
        ph->throttled_kept += throttled;
        if (push_sample(ph, dt, mhz)) {
            sb_fail(&err, SB_E_RUNTIME, "out of memory recording samples");
            goto failed;
        }
        spent += dt;
        /* Progress between reps, outside every timed interval. */
        if (min_time > 0)
            sb_run_progress(r, "%s: rep %lld  %.3f ms  (%.1f of %.1f s)", name, (long long)(k + 1), dt * 1e3, spent, min_time);
        else
            sb_run_progress(r, "%s: rep %lld/%lld  %.3f ms", name, (long long)(k + 1), (long long)r->reps, dt * 1e3);
        if (ph->count < r->reps)
            continue;
        if (!(min_time > 0)) {
            ph->stop_reason = "reps";
            break;
        }
        if (ph->count >= r->max_reps) {
            ph->stop_reason = "max-reps";
            break;
        }
        if (sb_now_s() - start > SB_TIMEOUT_FACTOR * min_time) {
            ph->stop_reason = "timeout";
            break;
        }
        /* The stop rule is checked every rep early on, then every 16 reps. */
        if (spent >= min_time && (ph->count < 256 || ph->count % 16 == 0)) {
            sb_stats s = sb_stats_of(ph->samples, (size_t)ph->count);
            if (!sb_stats_noisy(&s, r->opts.max_noise)) {
                ph->stop_reason = "noise-criterion";
                break;
            }
        }
    }
    progress_clear(r);
    conditions_read(r, 0);
    ph->stats = sb_stats_of(ph->samples, (size_t)ph->count);
    ph->noisy = sb_stats_noisy(&ph->stats, r->opts.max_noise);
    ph->completed = 1;
    return ph;
failed:
    progress_clear(r);
    conditions_read(r, 0);
    ph->stop_reason = "failed";
    sb_run_fail(r, "%s failed in the %s phase: %s", sb_run_backend_noun(r), name, err.msg);
    return ph;
}

void sb_run_phase_telemetry(sb_phase *ph, const sb_telemetry *t)
{
    ph->tele = *t;
    ph->have_tele = 1;
}

void sb_run_rate(sb_run *r, double units_per_rep) { r->rate_units = units_per_rep; }

void sb_run_roofline(sb_run *r, double flops_per_rep, double bytes_per_rep)
{
    r->flops = flops_per_rep;
    r->bytes = bytes_per_rep;
    r->have_roofline = 1;
}

void sb_run_no_roofline(sb_run *r, const char *why)
{
    r->have_roofline = 0;
    r->roofline_why = why;
}

static sb_gate_rec *gate_rec(sb_run *r, const char *id)
{
    int i = -1;
    if (!gate_def(r->wl, id, &i)) {
        fprintf(stderr, "saebench: internal error: gate %s is not declared by %s\n", id, r->wl->name);
        abort();
    }
    return &r->gates[i];
}

void sb_run_gate(sb_run *r, const char *id, double value)
{
    sb_gate_rec *g = gate_rec(r, id);
    g->recorded = 1;
    g->na = 0;
    g->value = value;
}

void sb_run_gate_na(sb_run *r, const char *id, const char *reason)
{
    sb_gate_rec *g = gate_rec(r, id);
    g->recorded = 1;
    g->na = 1;
    snprintf(g->na_reason, sizeof g->na_reason, "%s", reason);
}

double sb_run_threshold(const sb_run *r, const char *id)
{
    int i = -1;
    return gate_def(r->wl, id, &i) ? sb_gate_threshold(&r->opts, id, r->gates[i].dflt) : NAN;
}

void sb_run_gate_default(sb_run *r, const char *id, double threshold)
{
    gate_rec(r, id)->dflt = threshold;
}

cJSON *sb_run_parity(sb_run *r, const char *oracle)
{
    r->parity = cJSON_AddObjectToObject(r->v.root, "parity");
    cJSON_AddStringToObject(r->parity, "oracle", oracle);
    for (int i = 0; i < r->wl->ngates; i++)
        if (r->wl->gates[i].parity) {
            cJSON_AddNumberToObject(r->parity, "tolerance", sb_run_threshold(r, r->wl->gates[i].id));
            break;
        }
    return r->parity;
}

void sb_run_note(sb_run *r, const char *fmt, ...)
{
    if (r->nnotes == SB_RUN_MAX_NOTES)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->notes[r->nnotes++], sizeof r->notes[0], fmt, ap);
    va_end(ap);
}

void sb_run_late_input_error(sb_run *r, const char *msg)
{
    fprintf(stderr, "saebench: %s\n", msg);
    r->late_exit = SB_EXIT_USAGE;
    if (!r->late_error[0])
        snprintf(r->late_error, sizeof r->late_error, "%s", msg);
}

cJSON *sb_telemetry_json(const sb_telemetry *t)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "handle_creations", (double)t->handle_creations);
    cJSON_AddNumberToObject(o, "factorizations", (double)t->factorizations);
    cJSON_AddNumberToObject(o, "frame_builds", (double)t->frame_builds);
    cJSON_AddNumberToObject(o, "h2d_bytes", (double)t->h2d_bytes);
    cJSON_AddNumberToObject(o, "d2h_bytes", (double)t->d2h_bytes);
    cJSON_AddNumberToObject(o, "library_calls", (double)t->library_calls);
    cJSON_AddNumberToObject(o, "own_kernel_launches", (double)t->own_kernel_launches);
    return o;
}

cJSON *sb_stats_json(const sb_phase *ph, int64_t warmup)
{
    const sb_stats *s = &ph->stats;
    int ok = ph->completed;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "reps", (double)(ok ? ph->count : 0));
    cJSON_AddNumberToObject(o, "warmup", (double)warmup);
    cJSON_AddNumberToObject(o, "median_s", ok ? s->median : 0);
    cJSON_AddNumberToObject(o, "min_s", ok ? s->min : 0);
    cJSON_AddNumberToObject(o, "max_s", ok ? s->max : 0);
    cJSON_AddNumberToObject(o, "q1_s", ok ? s->q1 : 0);
    cJSON_AddNumberToObject(o, "q3_s", ok ? s->q3 : 0);
    cJSON_AddNumberToObject(o, "spread", ok ? s->spread : 0);
    cJSON_AddNumberToObject(o, "rel_iqr", ok ? s->rel_iqr : 0);
    cJSON_AddNumberToObject(o, "rel_stdev", ok ? s->rel_stdev : 0);
    cJSON_AddNumberToObject(o, "rse_median", ok ? s->rse_median : 0);
    cJSON_AddNumberToObject(o, "outliers", ok ? (double)s->outliers : 0);
    cJSON_AddBoolToObject(o, "noisy", ok ? ph->noisy : 1);
    cJSON_AddStringToObject(o, "stop_reason", ph->stop_reason ? ph->stop_reason : "not-run");
    /* 'saebench compare' tests one run against one with Mann-Whitney on the
     * reps, which needs SB_MW_MIN_SAMPLES a side (docs/compare.md). */
    cJSON_AddBoolToObject(o, "too_few_for_compare", !ok || ph->count < SB_MW_MIN_SAMPLES);
    cJSON *arr = cJSON_AddArrayToObject(o, "samples_s");
    for (int64_t k = 0; ok && k < ph->count; k++)
        cJSON_AddItemToArray(arr, cJSON_CreateNumber(ph->samples[k]));
    /* The SM clock of each kept rep, beside samples_s (null: not measured). */
    if (ph->have_clock) {
        cJSON *mhz = cJSON_AddArrayToObject(o, "sm_clock_mhz");
        for (int64_t k = 0; ok && k < ph->count; k++)
            cJSON_AddItemToArray(mhz, sb_json_number(ph->mhz[k]));
        cJSON_AddNumberToObject(o, "throttled_kept", (double)ph->throttled_kept);
        cJSON_AddNumberToObject(o, "throttled_discarded", (double)ph->ndiscarded);
        cJSON_AddItemToObject(o, "discarded", ph->discarded ? cJSON_Duplicate(ph->discarded, 1) : cJSON_CreateArray());
    }
    return o;
}

static int gate_passes(sb_cmp cmp, double v, double t)
{
    switch (cmp) {
    case SB_CMP_LT: return v < t;
    case SB_CMP_LE: return v <= t;
    case SB_CMP_GT: return v > t;
    case SB_CMP_GE: return v >= t;
    default: return v == t;
    }
}

static const char *cmp_text(sb_cmp cmp)
{
    static const char *const T[] = {"<", "<=", ">", ">=", "=="};
    return T[cmp];
}

/* ------------------------------- finish ------------------------------- */

/* Engagement, decided once from everything that happened. */
static const char *decide(sb_run *r, char *buf, size_t len)
{
    const sb_backend *b = r->backend;
    if (r->exit_code == SB_EXIT_NO_DEVICE) {
        snprintf(buf, len, "device not engaged: %s",
                 r->declined_why[0] ? r->declined_why : "the device was required and is not available");
        return buf;
    }
    int all_done = r->nphases > 0;
    for (int i = 0; i < r->nphases; i++)
        all_done &= r->phases[i].completed;
    r->engaged = b->is_device && all_done && !r->failed;
    if (r->failed) {
        snprintf(buf, len, "%s", r->failure);
        return buf;
    }
    if (r->declined) {
        snprintf(buf, len, "device not engaged (ran the host backend): %s", r->declined_why);
        return buf;
    }
    if (!b->is_device && r->plugin) {
        snprintf(buf, len, "%s claims to run on the host: a host number is never a device number", r->plugin->noun);
        return buf;
    }
    if (!b->is_device)
        return "host backend selected: a host number is never a device number";
    return NULL;
}

/* --gate named this id. */
static int gate_named(const sb_run *r, const char *id)
{
    for (int i = 0; i < r->opts.ngates; i++)
        if (strcmp(r->opts.gates[i].id, id) == 0)
            return 1;
    return 0;
}

static void write_gates(sb_run *r)
{
    cJSON *root = r->v.root;
    cJSON_DeleteItemFromObjectCaseSensitive(root, "gates");
    cJSON *arr = cJSON_AddArrayToObject(root, "gates");
    r->v.gates = arr;
    r->v.gates_failed = 0;
    if (r->exit_code == SB_EXIT_NO_DEVICE)
        return; /* nothing ran, nothing to gate */
    int parity_pass = 1;
    for (int i = 0; i < r->wl->ngates; i++) {
        const sb_gate_def *d = &r->wl->gates[i];
        const sb_gate_rec *g = &r->gates[i];
        double thr = sb_run_threshold(r, d->id);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", d->id);
        char rule[256];
        snprintf(rule, sizeof rule, "%s %s threshold", d->rule, cmp_text(d->cmp));
        cJSON_AddStringToObject(o, "rule", rule);
        const char *na = NULL;
        if (r->failed)
            na = NULL; /* a failed run evaluates nothing: every gate fails below */
        else if (d->device_only && !r->engaged)
            na = "applies to an engaged device run only";
        else if (d->device_only && !g->na && !g->recorded)
            /* an engaged run that never recorded its device gate: shown as such
             * on the stand-in too, whose engaged runs go down this path */
            na = "not evaluated by this run";
        else if (d->device_only && !SB_DEVICE_TIMES_MEASURED)
            na = SB_NO_DEVICE_TIMES;
        else if (d->opt_in && !gate_named(r, d->id))
            na = "opt-in: applies when --gate names it";
        else if (g->na)
            na = g->na_reason;
        else if (!g->recorded)
            na = "not evaluated by this run";
        int applies = r->failed || !na;
        int pass = !r->failed && applies && g->recorded && gate_passes(d->cmp, g->value, thr);
        cJSON_AddItemToObject(o, "value", r->failed || !applies ? cJSON_CreateNull() : sb_json_number(g->value));
        cJSON_AddItemToObject(o, "threshold", sb_json_number(thr));
        cJSON_AddBoolToObject(o, "applies", applies);
        cJSON_AddBoolToObject(o, "pass", pass);
        if (r->failed)
            cJSON_AddStringToObject(o, "reason", "not evaluated: the run failed");
        else if (!applies)
            cJSON_AddStringToObject(o, "reason", na);
        cJSON_AddItemToArray(arr, o);
        if (applies && !pass)
            r->v.gates_failed++;
        if (d->parity && !(d->opt_in && !applies))
            parity_pass &= applies && pass;
    }
    if (r->parity)
        cJSON_AddBoolToObject(r->parity, "pass", parity_pass);
}

/* Throttled reps kept and discarded, over every phase. */
static void throttle_totals(const sb_run *r, int64_t *kept, int64_t *discarded)
{
    *kept = *discarded = 0;
    for (int i = 0; i < r->nphases; i++) {
        *kept += r->phases[i].throttled_kept;
        *discarded += r->phases[i].ndiscarded;
    }
}

/* timing.sm_clock (docs/verdict.md): how the SM clock was measured around
 * each timed rep, the throttle rule, what it found over every phase, and
 * what the probe cost outside the timed reps. */
static cJSON *sm_clock_json(const sb_run *r)
{
    cJSON *o = cJSON_CreateObject();
    int measured = r->probe_tried && r->probe_reps > 0;
    cJSON_AddBoolToObject(o, "measured", measured);
    if (!measured) {
        cJSON_AddStringToObject(o, "why", r->probe_why[0] ? r->probe_why : !r->probe_tried ? "nothing was timed" : "no timed rep");
        return o;
    }
    cJSON_AddStringToObject(o, "method", "a kernel of one block per SM stamps %globaltimer and clock64() before and after "
                                         "each timed rep (outside it); per SM Δcycles/Δns, the median over the SMs");
    if (r->probe_why[0])
        cJSON_AddStringToObject(o, "note", r->probe_why);
    cJSON_AddItemToObject(o, "default_mhz", r->default_mhz > 0 ? cJSON_CreateNumber(r->default_mhz) : cJSON_CreateNull());
    cJSON_AddNumberToObject(o, "throttle_threshold", r->opts.throttle_threshold);
    cJSON_AddItemToObject(o, "threshold_mhz", r->threshold_mhz > 0 ? cJSON_CreateNumber(r->threshold_mhz) : cJSON_CreateNull());
    if (!(r->threshold_mhz > 0))
        cJSON_AddStringToObject(o, "check", r->opts.throttle_threshold > 0 ? "off: the device reports no default SM clock"
                                                                          : "off: --throttle-threshold 0");
    cJSON_AddNumberToObject(o, "recovery_delay_s", r->opts.throttle_recovery);
    cJSON_AddNumberToObject(o, "retake_limit", (double)r->retake_limit);
    /* the primary phase's kept reps */
    const sb_phase *main = r->nphases ? &r->phases[0] : NULL;
    double lo = NAN, *v = main && main->count ? malloc((size_t)main->count * sizeof *v) : NULL;
    size_t n = 0;
    for (int64_t k = 0; v && k < main->count; k++)
        if (isfinite(main->mhz[k])) {
            v[n++] = main->mhz[k];
            lo = isnan(lo) || main->mhz[k] < lo ? main->mhz[k] : lo;
        }
    sb_stats st = sb_stats_of(v, n);
    free(v);
    cJSON_AddItemToObject(o, "median_mhz", n ? cJSON_CreateNumber(st.median) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "min_mhz", n ? cJSON_CreateNumber(lo) : cJSON_CreateNull());
    int64_t kept = 0, discarded = 0;
    throttle_totals(r, &kept, &discarded);
    cJSON_AddNumberToObject(o, "throttled_kept", (double)kept);
    cJSON_AddNumberToObject(o, "throttled_discarded", (double)discarded);
    cJSON *cost = cJSON_AddObjectToObject(o, "cost_s");
    cJSON_AddStringToObject(cost, "of", r->opts.cold ? "the L2 flush and both clock readings, per timed attempt, outside its clock"
                                                     : "both clock readings, per timed attempt, outside its clock");
    cJSON_AddNumberToObject(cost, "mean", r->probe_cost_s / (double)r->probe_reps);
    cJSON_AddNumberToObject(cost, "max", r->probe_cost_max_s);
    cJSON_AddNumberToObject(cost, "attempts", (double)r->probe_reps);
    return o;
}

static void write_measurements(sb_run *r, double *rate_out)
{
    cJSON *root = r->v.root;
    const sb_phase *main = r->nphases ? &r->phases[0] : NULL;
    int main_ok = main && main->completed && !r->failed;
    /* Timing: the first phase at the top, every phase under "phases". */
    sb_phase none_run = {.name = "none", .stop_reason = "not-run"};
    cJSON *timing = sb_stats_json(main ? main : &none_run, r->warmup);
    if (main_ok && main->count < SB_MW_MIN_SAMPLES)
        sb_run_note(r, "note: %lld timed reps: too few for 'saebench compare' to test this run against another "
                       "(Mann-Whitney needs %d a side; --reps %d)", (long long)main->count, SB_MW_MIN_SAMPLES,
                    SB_MW_MIN_SAMPLES);
    cJSON_AddStringToObject(timing, "clock", "host CLOCK_MONOTONIC around each synchronous rep (inputs up to results down)");
    cJSON_AddNumberToObject(timing, "max_noise", r->opts.max_noise);
    /* warm (the default) or cold: L2 flushed before each timed rep (docs/verdict.md, timing.cache) */
    cJSON_AddStringToObject(timing, "cache", r->opts.cold ? "cold" : "warm");
    if (r->opts.cold)
        cJSON_AddNumberToObject(timing, "l2_flush_bytes", (double)r->l2_bytes);
    cJSON_AddItemToObject(timing, "sm_clock", sm_clock_json(r));
    cJSON_AddNumberToObject(timing, "min_time_s", r->opts.min_time);
    cJSON *phases = cJSON_AddObjectToObject(timing, "phases");
    for (int i = 0; i < r->nphases; i++)
        cJSON_AddItemToObject(phases, r->phases[i].name, sb_stats_json(&r->phases[i], r->warmup));
    if (r->timing_extra) {
        cJSON *it = r->timing_extra->child;
        while (it) {
            cJSON *next = it->next;
            cJSON_AddItemToObject(timing, it->string, cJSON_DetachItemViaPointer(r->timing_extra, it));
            it = next;
        }
    }
    cJSON_AddItemToObject(root, "timing", timing);
    int64_t kept = 0, discarded = 0;
    throttle_totals(r, &kept, &discarded);
    if (kept)
        sb_run_note(r, "WARNING: %lld timed rep%s ran below the throttle threshold (%.0f MHz SM clock) and %s kept: "
                       "the times are of a throttled GPU", (long long)kept, kept == 1 ? "" : "s", r->threshold_mhz,
                    kept == 1 ? "was" : "were");
    if (discarded)
        sb_run_note(r, "note: %lld throttled rep%s (SM clock below %.0f MHz) discarded and retaken", (long long)discarded,
                    discarded == 1 ? "" : "s", r->threshold_mhz);

    /* Throughput: a failed device run measured nothing. */
    double rate = main_ok && main->stats.median > 0 && r->rate_units > 0 ? r->rate_units / main->stats.median : 0;
    cJSON *thr = cJSON_AddObjectToObject(root, "throughput");
    cJSON_AddNumberToObject(thr, "measured_rows_per_s", rate);
    cJSON_AddNumberToObject(thr, "engaged_rows_per_s", r->engaged && SB_DEVICE_TIMES_MEASURED ? rate : 0);
    cJSON_AddStringToObject(thr, "measured_of", r->backend->is_device ? SB_DEVICE_MEASURED_OF : "host");
    cJSON_AddNumberToObject(thr, "seconds_per_rep", main_ok ? main->stats.median : 0);
    cJSON_AddStringToObject(thr, "unit", r->wl->rate_unit);
    *rate_out = rate;

    /* Residency: resident (first phase) against the re-upload baseline. */
    const sb_phase *rup = NULL;
    for (int i = 1; i < r->nphases; i++)
        if (strcmp(r->phases[i].name, "reupload") == 0)
            rup = &r->phases[i];
    if (rup && rup->completed && main_ok) {
        cJSON *res = cJSON_AddObjectToObject(root, "residency");
        cJSON_AddNumberToObject(res, "resident_s", main->stats.median);
        cJSON_AddNumberToObject(res, "reupload_s", rup->stats.median);
        cJSON_AddNumberToObject(res, "speedup", rup->stats.median / main->stats.median);
        cJSON_AddStringToObject(res, "measured_of", r->backend->is_device ? SB_DEVICE_MEASURED_OF : "host");
        if (rup->have_tele)
            cJSON_AddItemToObject(res, "reupload_telemetry", sb_telemetry_json(&rup->tele));
    } else {
        cJSON_AddNullToObject(root, "residency");
    }
    sb_telemetry none = {0};
    cJSON_AddItemToObject(root, "telemetry", sb_telemetry_json(main && main->have_tele ? &main->tele : &none));

    /* Roofline from measured ceilings (the calibration file, or measured now). */
    cJSON *roof = cJSON_AddObjectToObject(root, "roofline");
    cJSON_AddNumberToObject(roof, "flops", r->flops);
    cJSON_AddNumberToObject(roof, "bytes", r->bytes);
    sb_ceilings c = {0};
    char source[512] = "";
    sb_err cerr = {{0}};
    int have = 0;
    if (main_ok && r->have_roofline) {
        if (r->have_cal) {
            c = r->backend->is_device ? r->cal.device : r->cal.host;
            snprintf(source, sizeof source, "%s", r->opts.calibration);
            have = 1;
            if (r->backend->is_device && r->cal.device_warnings)
                sb_run_note(r, "WARNING: the calibration's device ceilings were measured under %d warning%s (%.90s): "
                               "the roofline bound may be loose",
                            r->cal.device_warnings, r->cal.device_warnings == 1 ? "" : "s", r->cal.device_warning);
        } else {
            sb_run_progress(r, "measuring this machine's ceilings for the roofline");
            have = r->backend->calibrate(&c, &cerr) == SB_OK;
            progress_clear(r);
            snprintf(source, sizeof source, "measured-at-run");
        }
    }
    if (have) {
        double bound = sb_roofline_bound_s(r->flops, r->bytes, &c);
        double bound_rate = bound > 0 ? r->rate_units / bound : 0;
        cJSON *cj = sb_ceilings_json(&c);
        cJSON_AddStringToObject(cj, "of", r->backend->is_device ? "device" : "host");
        cJSON_AddStringToObject(cj, "source", source);
        cJSON_AddItemToObject(roof, "ceilings", cj);
        cJSON_AddNumberToObject(roof, "bound_s", bound);
        cJSON_AddNumberToObject(roof, "bound_rows_per_s", bound_rate);
        cJSON_AddItemToObject(roof, "efficiency", sb_json_number(bound / main->stats.median));
        /* Faster than the bound is impossible: a ceiling (e.g. measured at run
         * start on a loaded machine) or a timing is wrong. Say so, loudly. */
        int suspect = bound > main->stats.median;
        cJSON_AddBoolToObject(roof, "suspect", suspect);
        if (suspect)
            sb_run_note(r, "WARNING: efficiency %.0f%% is above the roofline: the ceilings (%.60s) are too low or a timing is wrong",
                        100.0 * bound / main->stats.median, source);
    } else {
        cJSON_AddNullToObject(roof, "ceilings");
        cJSON_AddNullToObject(roof, "bound_s");
        cJSON_AddNullToObject(roof, "bound_rows_per_s");
        cJSON_AddNullToObject(roof, "efficiency");
        if (r->roofline_why)
            cJSON_AddStringToObject(roof, "note", r->roofline_why);
        else if (cerr.msg[0])
            cJSON_AddStringToObject(roof, "note", cerr.msg);
        else if (!main_ok)
            cJSON_AddStringToObject(roof, "note", "nothing measured");
    }
}

/* device.conditions (docs/verdict.md), and the summary's warnings about
 * them. Written only when a built-in device backend timed a phase. */
static void write_conditions(sb_run *r)
{
    cJSON *dev = cJSON_GetObjectItemCaseSensitive(r->v.root, "device");
    if (!r->cond.tried || !cJSON_IsObject(dev))
        return;
    cJSON_AddItemToObject(dev, "conditions", sb_conditions_json(&r->cond));
    if (!r->cond.nvml.ok) {
        sb_run_note(r, "note: the device's conditions were not read (NVML %s)", r->cond.nvml.absent);
        return;
    }
    char warn[2][256];
    const int nwarn = sb_conditions_warnings(&r->cond, "timing", "the times may be shared", warn);
    for (int i = 0; i < nwarn; i++)
        sb_run_note(r, "%s", warn[i]);
}

/* One condition of the validity block: ok is 1, 0, or -1 for "nobody could
 * check" (written null, and never counted as held). */
static int add_condition(cJSON *arr, const char *name, cJSON *value, int ok, const char *note)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddItemToObject(o, "value", value ? value : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "ok", ok < 0 ? cJSON_CreateNull() : cJSON_CreateBool(ok));
    if (note && *note)
        cJSON_AddStringToObject(o, "note", note);
    cJSON_AddItemToArray(arr, o);
    return ok;
}

/* The validity block (docs/verdict.md, validity; after MLPerf LoadGen's
 * result_validity): is this a device number that can be quoted? valid only
 * when every condition was checked and held. Returns valid. */
static int write_validity(sb_run *r)
{
    cJSON *root = r->v.root;
    cJSON *vb = cJSON_AddObjectToObject(root, "validity");
    cJSON *arr = cJSON_CreateArray();
    int all = 1;
    char note[240];
#define SB_COND(name, value, ok, note_)                                                                              \
    do {                                                                                                             \
        int ok_ = add_condition(arr, name, value, ok, note_);                                                        \
        all &= ok_ == 1;                                                                                             \
    } while (0)
    const sb_backend *b = r->backend;
    int ran = r->exit_code != SB_EXIT_NO_DEVICE;
    int own_device = ran && b && b->is_device && !r->plugin;
    /* device-run: the number is a device number saebench itself measured */
    if (!ran)
        SB_COND("device-run", cJSON_CreateString("none"), 0, "nothing ran");
    else if (!b->is_device)
        SB_COND("device-run", cJSON_CreateString("host"), 0, "not a device run: a host number is never a valid device number");
    else if (r->plugin)
        SB_COND("device-run", cJSON_CreateString("plugin-device-claimed"), -1,
                "a plugin's device claim: saebench cannot see where it ran");
    else
        SB_COND("device-run", cJSON_CreateString(SB_DEVICE_MEASURED_OF), SB_DEVICE_TIMES_MEASURED, SB_NO_DEVICE_TIMES);
    SB_COND("engaged", cJSON_CreateBool(r->engaged), r->engaged, "");
    const cJSON *pp = r->parity ? cJSON_GetObjectItemCaseSensitive(r->parity, "pass") : NULL;
    SB_COND("parity-passed", pp ? cJSON_CreateBool(cJSON_IsTrue(pp)) : NULL, cJSON_IsTrue(pp), pp ? "" : "no parity check ran");
    /* timing-quiet: no timed phase is noisy (timing.noisy, per phase) */
    char noisy[120] = "";
    int quiet = r->nphases > 0;
    for (int i = 0; i < r->nphases; i++)
        if (!r->phases[i].completed || r->phases[i].noisy) {
            quiet = 0;
            size_t at = strlen(noisy);
            snprintf(noisy + at, sizeof noisy - at, "%s%s", at ? ", " : "", r->phases[i].name);
        }
    if (noisy[0])
        snprintf(note, sizeof note, "noisy or incomplete: %s", noisy);
    SB_COND("timing-quiet", r->nphases ? cJSON_CreateBool(quiet) : NULL, quiet, noisy[0] ? note : r->nphases ? "" : "nothing timed");
    /* no-other-tenants, no-clock-events: from NVML's readings, or unchecked */
    const sb_conditions *cd = &r->cond;
    const sb_nvml_snap *snaps[2] = {cd->have_before ? &cd->before : NULL, cd->have_after ? &cd->after : NULL};
    const char *why_unread = !own_device        ? "not a device run"
                             : cd->nvml.ok      ? ""
                             : cd->nvml.absent[0] ? cd->nvml.absent
                                                : "not read";
    int have_procs = (snaps[0] || snaps[1]) && (!snaps[0] || snaps[0]->have_procs) && (!snaps[1] || snaps[1]->have_procs);
    if (own_device && cd->nvml.ok && have_procs) {
        int most = 0, trunc = 0;
        for (int s = 0; s < 2; s++)
            if (snaps[s]) {
                most = snaps[s]->nprocs > most ? snaps[s]->nprocs : most;
                trunc |= snaps[s]->procs_truncated;
            }
        SB_COND("no-other-tenants", cJSON_CreateNumber(most), most == 0 && !trunc,
                most || trunc ? "other compute processes on the GPU (device.conditions)" : "");
    } else {
        SB_COND("no-other-tenants", NULL, -1, why_unread[0] ? why_unread : "NVML could not list the GPU's processes");
    }
    int have_reasons = (snaps[0] || snaps[1]) && (!snaps[0] || snaps[0]->have_reasons) && (!snaps[1] || snaps[1]->have_reasons);
    if (own_device && cd->nvml.ok && have_reasons) {
        unsigned long long busy = (snaps[0] ? sb_nvml_busy_reasons(snaps[0]) : 0) | (snaps[1] ? sb_nvml_busy_reasons(snaps[1]) : 0);
        cJSON *names = cJSON_CreateArray();
        char words[200];
        sb_nvml_reasons_text(busy, words, sizeof words);
        for (char *tok = strtok(words, ", "); tok; tok = strtok(NULL, ", "))
            cJSON_AddItemToArray(names, cJSON_CreateString(tok));
        SB_COND("no-clock-events", names, busy == 0, busy ? "clock-event (throttle) reasons other than gpu-idle" : "");
    } else {
        SB_COND("no-clock-events", NULL, -1, why_unread[0] ? why_unread : "NVML could not read the clock-event reasons");
    }
    /* no-throttled-reps: no timed rep kept below the SM clock threshold */
    int64_t kept = 0, discarded = 0;
    throttle_totals(r, &kept, &discarded);
    if (!own_device || !(r->probe_tried && r->probe_reps > 0))
        SB_COND("no-throttled-reps", NULL, -1, !own_device ? "not a device run" : r->probe_why[0] ? r->probe_why : "the SM clock was not measured");
    else if (!(r->threshold_mhz > 0))
        SB_COND("no-throttled-reps", NULL, -1, r->opts.throttle_threshold > 0 ? "the device reports no default SM clock"
                                                                               : "the throttle check is off (--throttle-threshold 0)");
    else
        SB_COND("no-throttled-reps", cJSON_CreateNumber((double)kept), kept == 0,
                kept ? "timed reps below the throttle threshold were kept (timing.sm_clock)" : "");
    /* calibration-device: ceilings from a file measured on this device model */
    if (!own_device) {
        SB_COND("calibration-device", NULL, -1, "not a device run");
    } else if (!r->have_cal) {
        SB_COND("calibration-device", NULL, 1, "no calibration file: any ceilings were measured at run");
    } else if (!r->cal.device_name[0]) {
        SB_COND("calibration-device", NULL, -1, "the calibration file names no device");
    } else {
        int same = strcmp(r->cal.device_name, r->info.name) == 0;
        snprintf(note, sizeof note, "the calibration file was measured on \"%.80s\", this run's device is \"%.80s\"",
                 r->cal.device_name, r->info.name);
        SB_COND("calibration-device", cJSON_CreateString(r->cal.device_name), same, same ? "" : note);
    }
    /* clean-build: tool.dirty false, from a known commit */
    const cJSON *tool = cJSON_GetObjectItemCaseSensitive(root, "tool");
    const cJSON *dirty = cJSON_GetObjectItemCaseSensitive(tool, "dirty");
    const cJSON *git = cJSON_GetObjectItemCaseSensitive(tool, "git");
    if (cJSON_IsString(git) && strcmp(git->valuestring, "unknown") != 0)
        SB_COND("clean-build", cJSON_CreateBool(!cJSON_IsTrue(dirty)), !cJSON_IsTrue(dirty),
                cJSON_IsTrue(dirty) ? "built from a tree with local changes (tool.git ends in -dirty)" : "");
    else
        SB_COND("clean-build", NULL, -1, "the build's commit is unknown");
#undef SB_COND
    cJSON_AddBoolToObject(vb, "valid", all);
    cJSON_AddItemToObject(vb, "conditions", arr);
    /* the names that failed, then those nobody could check, for the summary and report */
    cJSON *failed = cJSON_AddArrayToObject(vb, "failed");
    cJSON *unch = cJSON_AddArrayToObject(vb, "unchecked");
    for (const cJSON *c = arr->child; c; c = c->next) {
        const cJSON *ok = cJSON_GetObjectItemCaseSensitive(c, "ok");
        const char *name = cJSON_GetObjectItemCaseSensitive(c, "name")->valuestring;
        if (cJSON_IsFalse(ok))
            cJSON_AddItemToArray(failed, cJSON_CreateString(name));
        else if (cJSON_IsNull(ok))
            cJSON_AddItemToArray(unch, cJSON_CreateString(name));
    }
    return all;
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static double jnum(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* The human summary, rendered from the verdict itself. */
static void print_summary(const sb_run *r)
{
    if (r->opts.quiet)
        return;
    const cJSON *root = r->v.root;
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(root, "shape");
    fprintf(stderr, "saebench %s  shape %s (", r->wl->name, jstr(shape, "name"));
    const char *dims[] = {"n", "p", "d"};
    for (int i = 0, first = 1; i < 3; i++) {
        double x = jnum(shape, dims[i]);
        if (isfinite(x)) {
            fprintf(stderr, "%s%s=%.0f", first ? "" : " ", dims[i], x);
            first = 0;
        }
    }
    fprintf(stderr, ", %s)  backend %s\n", r->data_label, jstr(root, "backend"));
    const cJSON *timing = cJSON_GetObjectItemCaseSensitive(root, "timing");
    const cJSON *phases = cJSON_GetObjectItemCaseSensitive(timing, "phases");
    for (const cJSON *ph = phases ? phases->child : NULL; ph; ph = ph->next) {
        if (jnum(ph, "reps") > 0)
            fprintf(stderr, "  %-9s %.4f ms median (q1 %.4f, q3 %.4f, min %.4f, max %.4f; rse %.1f%%, iqr %.1f%%; %.0f reps, stop: %s)%s\n",
                    ph->string, jnum(ph, "median_s") * 1e3, jnum(ph, "q1_s") * 1e3, jnum(ph, "q3_s") * 1e3,
                    jnum(ph, "min_s") * 1e3, jnum(ph, "max_s") * 1e3, jnum(ph, "rse_median") * 100,
                    jnum(ph, "rel_iqr") * 100, jnum(ph, "reps"), jstr(ph, "stop_reason"),
                    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ph, "noisy")) ? "  NOISY" : "");
    }
    const cJSON *thr = cJSON_GetObjectItemCaseSensitive(root, "throughput");
    const cJSON *roof = cJSON_GetObjectItemCaseSensitive(root, "roofline");
    if (thr && jnum(thr, "measured_rows_per_s") > 0) {
        fprintf(stderr, "  throughput %.0f %s/s (%s)", jnum(thr, "measured_rows_per_s"), jstr(thr, "unit"), jstr(thr, "measured_of"));
        if (isfinite(jnum(roof, "bound_rows_per_s")))
            fprintf(stderr, "   roofline %.0f %s/s, efficiency %.1f%%", jnum(roof, "bound_rows_per_s"), jstr(thr, "unit"),
                    jnum(roof, "efficiency") * 100);
        fprintf(stderr, "\n");
    }
    for (int i = 0; i < r->nnotes; i++)
        fprintf(stderr, "  %s\n", r->notes[i]);
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(root, "residency");
    if (cJSON_IsObject(res))
        fprintf(stderr, "  residency: resident %.4f ms, re-upload %.4f ms, speedup %.2fx\n", jnum(res, "resident_s") * 1e3,
                jnum(res, "reupload_s") * 1e3, jnum(res, "speedup"));
    const cJSON *gates = cJSON_GetObjectItemCaseSensitive(root, "gates");
    for (const cJSON *g = gates ? gates->child : NULL; g; g = g->next) {
        int applies = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(g, "applies"));
        if (applies && !r->failed)
            fprintf(stderr, "  %s %s  %.3g (threshold %.3g)  %s\n", jstr(g, "id"),
                    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(g, "pass")) ? "pass" : "FAIL", jnum(g, "value"),
                    jnum(g, "threshold"), jstr(g, "rule"));
        else
            fprintf(stderr, "  %s n/a   %s\n", jstr(g, "id"), jstr(g, "reason"));
    }
    char human[600] = "";
    const char *why = jstr(root, "engaged_reason");
    human_reason(why, human, sizeof human);
    /* the claimed device in the plugin's words: a CPU stand-in's name says it is not a GPU */
    if (r->plugin && r->engaged && r->plugin->id.device[0])
        snprintf(human, sizeof human, "by the claim of %s that it ran on \"%s\": saebench timed its calls but "
                 "cannot see where they ran", r->plugin->noun, r->plugin->id.device);
    else if (r->plugin && r->engaged)
        snprintf(human, sizeof human, "by the claim of %s: saebench timed its calls but cannot see where they ran",
                 r->plugin->noun);
    fprintf(stderr, "  device engaged: %s%s%s\n", r->engaged ? "yes" : "no", *human ? " — " : "", human);
    const cJSON *vb = cJSON_GetObjectItemCaseSensitive(root, "validity");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(vb, "valid"))) {
        fprintf(stderr, "  validity: valid (every condition checked and held)\n");
    } else if (vb) {
        fprintf(stderr, "  validity: NOT VALID");
        const char *lists[2] = {"failed", "unchecked"};
        for (int l = 0; l < 2; l++) {
            const cJSON *names = cJSON_GetObjectItemCaseSensitive(vb, lists[l]);
            int first = 1;
            for (const cJSON *nm = names ? names->child : NULL; nm; nm = nm->next, first = 0)
                fprintf(stderr, "%s%s", first ? (l ? "; unchecked: " : "; failed: ") : ", ", nm->valuestring);
        }
        fprintf(stderr, "%s\n", r->opts.require_valid ? " (--require-valid: exit 1)" : "");
    }
    const cJSON *tg = cJSON_GetObjectItemCaseSensitive(root, "target");
    if (tg && isfinite(jnum(tg, "value")))
        fprintf(stderr, "  target %g %s: %s\n", jnum(tg, "value"), jstr(tg, "unit"), jstr(tg, "status"));
    else if (tg)
        fprintf(stderr, "  target: %s (%s)\n", jstr(tg, "status"), jstr(tg, "reason"));
    fprintf(stderr, "  verdict: %s (exit %d)%s%s\n", r->exit_code == 0 ? "pass" : "fail", r->exit_code,
            r->opts.out && strcmp(r->opts.out, "-") != 0 ? ", written to " : "",
            r->opts.out && strcmp(r->opts.out, "-") != 0 ? r->opts.out : "");
}

int sb_run_finish(sb_run *r)
{
    cJSON *root = r->v.root;
    char buf[900];
    const char *reason = decide(r, buf, sizeof buf);
    double rate = 0;
    if (r->exit_code != SB_EXIT_NO_DEVICE)
        write_measurements(r, &rate);
    write_conditions(r);
    cJSON_AddBoolToObject(root, "engaged", r->engaged);
    cJSON_AddItemToObject(root, "engaged_reason", reason ? cJSON_CreateString(reason) : cJSON_CreateNull());
    write_gates(r);

    cJSON *tg = cJSON_AddObjectToObject(root, "target");
    double target = r->wl->target_gate ? sb_run_threshold(r, r->wl->target_gate) : NAN;
    sb_target_status ts = SB_TARGET_UNDETERMINED;
    if (r->wl->target_gate && isfinite(target) && SB_DEVICE_TIMES_MEASURED) {
        if (r->wl->target_in_ms) {
            /* Lower is better: decide on the rate 1/ms against 1/target. */
            double ms = r->nphases && rate > 0 ? r->phases[0].stats.median * 1e3 : 0;
            ts = sb_target_decide(r->backend->is_device, r->engaged, ms > 0 ? 1.0 / ms : 0, 1.0 / target);
        } else {
            ts = sb_target_decide(r->backend->is_device, r->engaged, rate, target);
        }
    }
    cJSON_AddItemToObject(tg, "value", sb_json_number(target));
    cJSON_AddStringToObject(tg, "unit", r->wl->target_unit ? r->wl->target_unit : "");
    cJSON_AddStringToObject(tg, "status", sb_target_name(ts));
    cJSON_AddStringToObject(tg, "reason", ts == SB_TARGET_MET     ? "measured device rate meets the target"
                                          : ts == SB_TARGET_UNMET ? "measured device rate falls short of the target"
                                          : reason                ? reason
                                          : !SB_DEVICE_TIMES_MEASURED ? SB_NO_DEVICE_TIMES
                                          : r->wl->target_gate && !isfinite(target) ? "no target for this shape"
                                          : r->wl->target_gate    ? "no device measurement"
                                                                  : "this workload has no throughput target");

    int valid = write_validity(r);
    int exit_code = r->exit_code;
    if (exit_code == SB_EXIT_PASS && r->failed)
        exit_code = SB_EXIT_RUNTIME;
    if (exit_code == SB_EXIT_PASS && r->late_exit)
        exit_code = r->late_exit;
    if (r->late_error[0])
        cJSON_AddStringToObject(root, "output_error", r->late_error);
    if (exit_code == SB_EXIT_PASS && r->v.gates_failed)
        exit_code = SB_EXIT_GATE_FAIL;
    if (exit_code == SB_EXIT_PASS && r->opts.require_device && !r->engaged)
        exit_code = SB_EXIT_NO_DEVICE;
    if (exit_code == SB_EXIT_PASS && r->opts.require_valid && !valid)
        exit_code = SB_EXIT_GATE_FAIL; /* --require-valid: an invalid result fails like a gate */
    r->exit_code = exit_code;
    sb_verdict_finish(&r->v, exit_code);
    sb_err err = {{0}};
    if (r->verdict_fd >= 0) {
        /* a plugin run's child: the parent writes --out (src/isolate.c) */
        if (sb_verdict_write_fd(&r->v, r->verdict_fd, &err)) {
            fprintf(stderr, "saebench: %s\n", err.msg);
            exit_code = SB_EXIT_RUNTIME;
        } else {
            print_summary(r);
        }
    } else if (r->opts.out && sb_verdict_write(&r->v, r->opts.out, &err)) {
        fprintf(stderr, "saebench: %s\n", err.msg);
        exit_code = SB_EXIT_USAGE;
    } else {
        print_summary(r);
    }
    sb_run_free(r);
    return exit_code;
}

void sb_run_free(sb_run *r)
{
    if (r->verdict_ready)
        sb_verdict_free(&r->v);
    r->verdict_ready = 0;
    for (int i = 0; i < r->nphases; i++) {
        free(r->phases[i].samples);
        free(r->phases[i].mhz);
        cJSON_Delete(r->phases[i].discarded);
    }
    r->nphases = 0;
    probe_close(r);
    free(r->gates);
    r->gates = NULL;
    cJSON_Delete(r->timing_extra);
    r->timing_extra = NULL;
    sb_plugin_close(r->plugin);
    r->plugin = NULL;
    sb_conditions_close(&r->cond);
}
