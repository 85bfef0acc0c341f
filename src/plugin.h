/* Solver plugins from saebench's side (include/saebench/solver.h is the
 * plugin's side; docs/plugins.md the contract and the isolation design).
 *
 * The process that parses the command line never loads a plugin: it opens
 * the library file (hashing it, keeping the descriptor open), and a
 * short-lived child loads it through that descriptor, checks the ABI and
 * the descriptor and reports what it read (sb_plugin_open). The run's own
 * child (src/isolate.c) loads it again, through the same descriptor, and
 * binds its tables (sb_plugin_bind); sb_plugin_rs_ops (src/plugin_rs.c) and
 * sb_plugin_arrow_ops (src/plugin_arrow.c) then drive them as the backend's
 * sb_rs_ops and sb_arrow_ops. */
#ifndef SB_PLUGIN_H
#define SB_PLUGIN_H

#include <stdint.h>
#include <stdio.h>

#include "backend.h"

struct cJSON;
struct sb_run_where;

#define SB_PLUGIN_NAME_MAX 48
#define SB_PLUGIN_VERSION_MAX 64
#define SB_PLUGIN_DEVICE_MAX 127
/* --timeout when not given: long enough for any canonical shape's run. */
#define SB_PLUGIN_DEFAULT_TIMEOUT_S 600.0

/* What the probe read from the descriptor (copied out of the child). */
typedef struct sb_plugin_id {
    char name[SB_PLUGIN_NAME_MAX + 1];
    char version[SB_PLUGIN_VERSION_MAX + 1];
    char device[SB_PLUGIN_DEVICE_MAX + 1]; /* the device claimed in words, "" for none */
    int claims_device;
    uint32_t abi_version;
    uint64_t workloads;                    /* SAEBENCH_WORKLOAD_* bits (inner-loop's only with an
                                              arrow table in the descriptor) */
    uint32_t rs_methods;                   /* SAEBENCH_RS_METHOD_BIT(...) bits; 0 without resident-solve */
} sb_plugin_id;

/* One plugin library; one owner (sb_run), freed by sb_plugin_close. */
typedef struct sb_plugin {
    char path[4096];         /* as given on the command line */
    char resolved[4096];     /* its real path */
    char sha256[65];         /* of the file's bytes, read through file */
    uint64_t size;
    FILE *file;              /* open for the whole run; children load the library through it,
                                so the file hashed is the file loaded */
    double timeout_s;        /* --timeout: for the probe and for the run's child */
    int threads;             /* --threads N (0: the default): the arrow create's hint */
    sb_plugin_id id;
    char backend_name[8 + SB_PLUGIN_NAME_MAX]; /* "plugin-" + name: the verdict's backend */
    char noun[8 + SB_PLUGIN_NAME_MAX];         /* "plugin " + name, for messages */
    sb_backend backend;      /* name, is_device (the claim), calibrate, resident_solve, arrow */
} sb_plugin;

/* The plugin calls, for sb_run_where.call and the verdict. */
typedef enum {
    SB_CALL_NONE = 0,
    SB_CALL_ENTRY, SB_CALL_CREATE, SB_CALL_STAGE, SB_CALL_UPLOAD_W, SB_CALL_SOLVE,
    SB_CALL_DOWNLOAD_BETA, SB_CALL_TELEMETRY, SB_CALL_DESTROY, SB_CALL_FACTOR,
    SB_CALL_COUNT
} sb_plugin_call;
/* "solve", ...; NULL for SB_CALL_NONE or an unknown value. */
const char *sb_plugin_call_name(int call);

/* A plugin call's saebench_status as the harness's rc: SB_OK, or
 * SB_E_RUNTIME with "CALL returned CODE (N): MESSAGE" in err, msg being the
 * call's error buffer (cap bytes, shown printable). where->call (when
 * where is not NULL) is cleared on success and kept on failure: the
 * verdict's plugin.failure.call. Both adapters' calls end here. */
sb_rc sb_plugin_status(int32_t status, int call, char *msg, size_t cap, struct sb_run_where *where, sb_err *err);

/* The counters a plugin's telemetry() filled, as the harness's (its
 * kernel_launches are own_kernel_launches; frame_builds 0, saebench's to
 * count); SB_E_RUNTIME naming the first negative one, which the contract
 * forbids. */
struct saebench_telemetry;
sb_rc sb_plugin_counters(const struct saebench_telemetry *t, sb_telemetry *out, sb_err *err);

/* Open path (a regular file), hash it and probe it in a child process:
 * load, find saebench_solver_v1, check the ABI version and the descriptor.
 * Every failure is SB_E_INPUT with one line naming the path (not a shared
 * library, no entry symbol, another ABI version, a bad descriptor, a crash
 * or a hang while loading). Nothing of the plugin runs in this process. */
sb_rc sb_plugin_open(const char *path, double timeout_s, sb_plugin **out, sb_err *err);
void sb_plugin_close(sb_plugin *pl);

/* In the run's child process: load the library (as the probe did), check
 * that it still says what the probe read, and bind its tables to the
 * backend's ops; where receives the call in progress. */
sb_rc sb_plugin_bind(sb_plugin *pl, struct sb_run_where *where, sb_err *err);

/* The verdict's "plugin" section (docs/verdict.md). */
struct cJSON *sb_plugin_json(const sb_plugin *pl);

/* Why a plugin run is or is not engaged, in words (the verdict's
 * plugin.engagement). */
const char *sb_plugin_engagement(const sb_plugin *pl, char *buf, size_t len);

/* The resident-solve ops over the bound plugin (src/plugin_rs.c). One
 * plugin is bound per process: the run's child. */
extern const sb_rs_ops sb_plugin_rs_ops;
/* Bind (src/plugin.c calls it): the plugin's table and the record. */
struct saebench_rs_ops_v1;
void sb_plugin_rs_bind(const struct saebench_rs_ops_v1 *ops, struct sb_run_where *where);

/* The arrow-Schur ops of inner-loop and outer-seq over the bound plugin
 * (src/plugin_arrow.c); condition is NULL (κ̂ is the oracle's). Bound the
 * the same way, with the --threads hint for create. */
struct sb_arrow_ops;
extern const struct sb_arrow_ops sb_plugin_arrow_ops;
struct saebench_arrow_ops_v1;
void sb_plugin_arrow_bind(const struct saebench_arrow_ops_v1 *ops, int threads, struct sb_run_where *where);

#endif
