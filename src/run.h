/* The run harness, written once for every workload (STYLE: one loop that
 * measures, one stop rule, one verdict every printer renders from).
 *
 * A workload command (src/cmd_<workload>.c) holds only its own logic: its
 * options and inputs, what one rep is, what the oracle compares. Everything
 * else is here: option checks, backend choice and why, warm-up and timed
 * reps under the stop rule, statistics and noise, gates with stable ids,
 * the engagement decision, throughput, roofline, target, the verdict's
 * common sections, the human summary and the exit code.
 *
 * The honesty rules live in one place, sb_run_finish(): engagement is decided
 * there from every phase and every reported device failure, and only then
 * are throughput, gates and target written. Before it, a workload can only
 * record values; nothing engagement-dependent reaches the verdict.
 *
 * Life of a run:
 *   sb_run_init            parse and check options (exit 2 before any work);
 *                          --backend plugin: probe the library in a child
 *   (workload)             load the shape / data, validate every input
 *   sb_run_verdict_init    common verdict sections for the shape
 *   sb_run_choose_backend  pick the backend; exit 3 written here when the
 *                          device was required and is not there
 *   sb_run_time            per phase: warm-up, timed reps, stop rule
 *   sb_run_gate ...        record gate values (pass computed here)
 *   sb_run_finish          decide, write, print, return the exit code
 *
 * A plugin run (--backend plugin:PATH.so, docs/plugins.md) does the same in
 * two processes: the parent goes as far as the inputs and the backend
 * choice, then sb_run_isolated (src/isolate.h) forks; the child times the
 * phases and finishes, and hands its verdict to the parent, which writes
 * it, or its own exit-4 verdict when the child crashed or hung. */
#ifndef SB_RUN_H
#define SB_RUN_H

#include <stdint.h>

#include "backend.h"
#include "calibration.h"
#include "cli.h"
#include "common.h"
#include "nvml.h"
#include "timing.h"
#include "verdict.h"

struct cJSON;
struct sb_plugin;
struct sb_shape;

typedef enum { SB_CMP_LT, SB_CMP_LE, SB_CMP_GT, SB_CMP_GE, SB_CMP_EQ } sb_cmp;

typedef struct sb_gate_def {
    const char *id;          /* stable: RS-001, IL-002, ... */
    const char *rule;        /* what is compared, in words */
    sb_cmp cmp;              /* passes when value <cmp> threshold */
    double threshold;        /* default; --gate ID=VALUE overrides */
    int positive;            /* a threshold must be > 0 (tolerances, speedups) */
    int device_only;         /* applies only to an engaged device run */
    int parity;              /* a parity gate: the verdict's parity.pass is the AND of these */
    int opt_in;              /* applies only when --gate names it (an old or stricter rule
                                kept reachable); otherwise listed as not applying and left
                                out of parity.pass */
} sb_gate_def;

typedef struct sb_workload {
    const char *name;        /* "resident-solve" */
    unsigned accepted;       /* SB_OPT_* the command takes */
    unsigned device_only_opts; /* options meaningless on the host (--backend host refuses them) */
    const sb_gate_def *gates;
    int ngates;
    const char *target_gate; /* id whose threshold is the deployment target, or NULL */
    const char *target_unit; /* "rows/s per GPU", "ms per resident solve" */
    int target_in_ms;        /* 1: the target bounds the primary phase's median in ms
                                (met when ≤); 0: it bounds the rate (met when ≥) */
    const char *rate_unit;   /* what throughput counts per second: "rows" */
    const char *doc;         /* "docs/workloads.md §1" */
    uint64_t plugin_workload; /* SAEBENCH_WORKLOAD_* bit of include/saebench/solver.h: the
                                 workload takes --backend plugin:PATH.so (0: not yet) */
} sb_workload;

#define SB_RUN_MAX_PHASES 4
#define SB_RUN_MAX_NOTES 12

/* One timed phase (resident, reupload, ...). */
typedef struct sb_phase {
    const char *name;
    double *samples;
    int64_t count, cap;
    sb_stats stats;
    int completed;           /* every rep returned and the phase was not failed afterwards */
    int noisy;
    const char *stop_reason; /* reps | noise-criterion | max-reps | timeout */
    sb_telemetry tele;
    int have_tele;
    /* The SM clock over each kept rep (timing.sm_clock): mhz[k] beside
     * samples[k], NAN where not measured; reps kept below the threshold;
     * throttled reps discarded (and retaken), as JSON {attempt, seconds,
     * sm_clock_mhz}. */
    double *mhz;
    int have_clock;
    int64_t throttled_kept, ndiscarded;
    struct cJSON *discarded;
} sb_phase;

/* What one rep is. prepare() is untimed (draw the rep's inputs); run() is the
 * timed, synchronous rep. k counts from 0 over warm-up then timed reps. */
typedef struct sb_rep {
    sb_rc (*prepare)(void *ctx, int64_t k, int timed, sb_err *err);
    sb_rc (*run)(void *ctx, int64_t k, int timed, sb_err *err);
    void *ctx;
} sb_rep;

/* Where a run is, for a parent process watching it (src/isolate.c): after
 * a crash or a hang the parent's verdict names the phase, the stage, the
 * rep and the plugin call. Lives in memory shared with the parent; written
 * outside every timed interval except call (one int store per plugin call). */
typedef struct sb_run_where {
    char phase[24];          /* the timed phase ("resident"), "" before it */
    char stage[24];          /* create, w0, warm-up, timed, check, profile, telemetry, destroy,
                                oracle, finish */
    int64_t rep;             /* warm-up and timed: the rep from 0 within the stage, else -1 */
    int call;                /* the plugin call running (sb_plugin_call, src/plugin.h), 0: none */
} sb_run_where;

typedef struct sb_gate_rec {
    int recorded, na;
    double value;
    char na_reason[160];
    double dflt;             /* the default threshold for this run */
} sb_gate_rec;

typedef struct sb_run {
    const sb_workload *wl;
    sb_opts opts;
    int64_t reps, warmup, max_reps;
    int64_t retake_limit;    /* throttled reps that may be discarded and retaken, over the run */
    int64_t max_attempts;    /* timed rep attempts at most in a phase: max_reps + retake_limit */
    int progress;            /* stderr is a terminal and not --quiet */

    sb_calibration cal;      /* --calibration, parsed once up front */
    int have_cal;

    sb_verdict v;
    int verdict_ready;
    const struct sb_shape *shape;
    char data_label[96];     /* "fixture", "npy", ... for the summary */

    const sb_backend *backend; /* what runs (on exit 3: what was asked for) */
    struct sb_plugin *plugin;  /* --backend plugin:PATH.so: the probed library, else NULL */
    sb_run_where *where;       /* a watching parent's record (src/isolate.c), else NULL */
    int verdict_fd;            /* > 0: sb_run_finish hands the verdict here instead of
                                  writing --out (a plugin run's child to its parent) */
    sb_device_info info;
    int declined;            /* a device was probed and declined */
    char declined_why[512];
    char workload_declines[256]; /* sb_run_device_declines */

    sb_phase phases[SB_RUN_MAX_PHASES];
    int nphases;
    int failed;              /* a phase or a check failed: exit 4 */
    sb_run_where failed_at;  /* with a watching parent: where the first failure happened */
    char failure[600];
    int late_exit;           /* an input error found after the reps (exit 2 with a verdict) */
    char late_error[300];    /* its one line, written to the verdict as "output_error" */

    double rate_units;       /* units (rows) per rep of the primary phase */
    double flops, bytes;     /* per rep, for the roofline */
    int have_roofline;
    const char *roofline_why; /* no roofline: why (static), written as roofline.note */

    sb_gate_rec *gates;      /* one per wl->gates */
    struct cJSON *timing_extra; /* merged into "timing" */
    struct cJSON *parity;    /* the verdict's parity section (sb_run_parity), or NULL */
    char notes[SB_RUN_MAX_NOTES][200];
    int nnotes;

    /* The device's conditions (device.conditions): read through NVML before
     * the first timed rep and after each phase's last, outside every timed
     * interval; a built-in device backend only. */
    sb_conditions cond;

    /* The SM clock probe and --cold's L2 flush (backend->probe_ops): opened
     * before the first timed rep of a built-in device run; between reps
     * only. */
    void *probe;
    int probe_tried;
    char probe_why[300];     /* no clock: why (not a device run, the probe failed, ...) */
    double default_mhz;      /* the device's default SM clock (cudaDevAttrClockRate) */
    double threshold_mhz;    /* throttled below this; 0: no check */
    int64_t retakes_left;    /* throttled reps that may still be discarded and retaken */
    size_t l2_bytes;         /* --cold: bytes one flush writes */
    int64_t probe_reps;      /* timed attempts the probe ran around */
    double probe_cost_s, probe_cost_max_s; /* the probe's (and flush's) time per attempt: sum, max */

    /* Filled by sb_run_finish. */
    int engaged;
    int exit_code;
} sb_run;

/* Parse options and check everything that needs no input file: gate ids and
 * thresholds, conflicting options, output paths, the calibration file.
 * Returns -1 to go on, or the exit code to return now (0 after --help, 2
 * after a usage error, which it has printed). help() prints the command's
 * own usage before the option list. */
int sb_run_init(sb_run *r, const sb_workload *wl, int argc, char **argv, void (*help)(void));

/* Reps and warm-up: the CLI's, else the shape's, else the workload default. */
void sb_run_counts(sb_run *r, int64_t shape_reps, int64_t shape_warmup, int64_t dflt_reps, int64_t dflt_warmup);

/* Common verdict sections for the shape (after the workload validated its
 * inputs). The workload may then edit the "shape" object. Returns exit code
 * 4 on out of memory, else -1. data_label names the data in the summary. */
int sb_run_verdict_init(sb_run *r, const struct sb_shape *shape, const char *data_label);

/* Pick the backend: --backend host → host; cuda/auto → the device when it
 * probes fine and implements the workload (implements(b) != 0), else the
 * host for auto, else nothing; plugin → the plugin's backend (its claim
 * decides is_device; the verdict gains its "plugin" section). When the
 * device was required (--backend cuda, --require-device) and is not there
 * (a plugin: it claims the host, or a device without the workload), writes
 * the exit-3 verdict and returns 3; a calibration file without the
 * ceilings the chosen backend needs returns 2 (printed). Returns -1 to go on. */
int sb_run_choose_backend(sb_run *r, int (*implements)(const sb_backend *b));

/* Before sb_run_choose_backend: the workload declines the device for these
 * inputs (e.g. encode below 4096 rows). The device then counts as declined
 * with this reason: exit 3 when it was required, the host under auto. */
void sb_run_device_declines(sb_run *r, const char *reason);

/* What ran, in words, for messages: "device", "host backend", "plugin NAME". */
const char *sb_run_backend_noun(const sb_run *r);

/* Record where the run is (stage, rep; -1: no rep) for a watching parent;
 * nothing without one. Never inside a timed interval. */
void sb_run_at(sb_run *r, const char *stage, int64_t rep);
/* The same outside the timed phases, naming the phase a step belongs to
 * ("" for none: an LM fit, the oracle) and its stage; no rep. */
void sb_run_at_phase(sb_run *r, const char *phase, const char *stage);

/* Progress on a terminal (never in CI logs or under --quiet): "  label". */
void sb_run_progress(const sb_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Time one phase: warm-up reps (untimed), then at least r->reps timed reps;
 * with --min-time, more until the stop rule holds. A failing rep stops the
 * phase (completed 0) and fails the run with its message. Returns the
 * phase (never NULL). */
sb_phase *sb_run_time(sb_run *r, const char *name, const sb_rep *rep);

/* A failure found outside the timed loop (a deferred device status, a
 * profiling solve, a baseline): the run is not engaged and exits 4. */
void sb_run_fail(sb_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Telemetry of a phase (the first phase's is the verdict's "telemetry"). */
void sb_run_phase_telemetry(sb_phase *ph, const sb_telemetry *t);

/* Units per rep of the first phase (rows/s = units / median s) and the
 * roofline's work per rep. */
void sb_run_rate(sb_run *r, double units_per_rep);
void sb_run_roofline(sb_run *r, double flops_per_rep, double bytes_per_rep);
/* No roofline for this run, and why (a static string): where the measured
 * ceilings do not bound the work (an FP32 factor against FP64 ceilings). */
void sb_run_no_roofline(sb_run *r, const char *why);

/* Record a gate's value (pass decided at finish against the threshold), or
 * say why it does not apply to this run. Unknown ids abort (a bug). */
void sb_run_gate(sb_run *r, const char *id, double value);
void sb_run_gate_na(sb_run *r, const char *id, const char *reason);
double sb_run_threshold(const sb_run *r, const char *id);
/* A default threshold that depends on the shape (e.g. IL-002 per shape);
 * --gate still wins. */
void sb_run_gate_default(sb_run *r, const char *id, double threshold);

/* The verdict's parity section: the oracle in words and "tolerance", the
 * threshold of the workload's first parity gate. The workload adds its own
 * error figures to the object returned; "pass" is written by sb_run_finish,
 * from the gates alone: every parity gate applied and passed (one rule, for
 * every workload). */
struct cJSON *sb_run_parity(sb_run *r, const char *oracle);

/* An extra line for the human summary (workload results). */
void sb_run_note(sb_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* An input file a workload found itself (e.g. inside --system DIR) against
 * every output path: SB_E_INPUT when one of them is that file. */
sb_rc sb_run_check_input(const sb_opts *o, const char *input, sb_err *err);

/* A late input error (e.g. --dump-beta could not be written): exit 2, verdict still written. */
void sb_run_late_input_error(sb_run *r, const char *msg);

/* JSON helpers shared by workloads. */
struct cJSON *sb_telemetry_json(const sb_telemetry *t);
struct cJSON *sb_stats_json(const sb_phase *ph, int64_t warmup);

/* Decide engagement, write timing, throughput, residency, roofline, gates,
 * target, verdict and exit code; write the file; print the summary; free.
 * Returns the process exit code. */
int sb_run_finish(sb_run *r);

/* Free without finishing (the exit paths after sb_run_init that come before
 * sb_run_finish). On a run already freed (by sb_run_finish, or by
 * sb_run_init or sb_run_choose_backend returning an exit code) it does
 * nothing, so a command may end with one cleanup that calls it on every path. */
void sb_run_free(sb_run *r);

/* The verdict's execution_path of an engaged device run. The test-only build
 * of cuda/ against the CPU stand-in (-DSB_STANDIN, tests/standin/) says so, so
 * that its verdicts are never read as device measurements. At the end of the
 * file: no line above moves. */
#ifdef SB_STANDIN
#define SB_DEVICE_EXECUTION_PATH "stand-in-gpu-resident-full"
#else
#define SB_DEVICE_EXECUTION_PATH "gpu-resident-full"
#endif
/* A stand-in run's times are CPU times: its device-only gates (throughput
 * targets) do not apply and its target stays undetermined. */
#ifdef SB_STANDIN
#define SB_DEVICE_TIMES_MEASURED 0
#define SB_NO_DEVICE_TIMES "the CPU stand-in measures no device time (tests/standin/)"
#define SB_DEVICE_MEASURED_OF "stand-in"
#else
#define SB_DEVICE_TIMES_MEASURED 1
#define SB_NO_DEVICE_TIMES ""
#define SB_DEVICE_MEASURED_OF "device"
#endif

#endif
