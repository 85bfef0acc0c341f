/* saebench solver plugins: the public, versioned interface (ABI version 1).
 *
 * A plugin is a shared library that exports one entry symbol per ABI version
 * it speaks. Version 1's is
 *
 *     const saebench_solver_desc_v1 *saebench_solver_v1(void);
 *
 * saebench runs it with
 *
 *     saebench resident-solve --shape tiny-dual --backend plugin:./libmysolver.so --out v.json
 *
 * and does everything else itself: the inputs (a fixture or .npy data), the
 * warm-up, the clock around each rep, the stop rule, the dense LAPACKE
 * oracle and the parity gates, the verdict and the exit code. The plugin
 * only solves. docs/plugins.md walks through the contract call by call;
 * examples/solver-lapacke/ is the smallest correct plugin.
 *
 * Plain C, no dependency beyond <stddef.h> and <stdint.h>.
 *
 * Versioning. Three rules keep old and new sides working together:
 *   1. The entry symbol carries the ABI version (saebench_solver_v1,
 *      later saebench_solver_v2, ...), so one library can export several
 *      versions and a saebench picks the newest it knows.
 *   2. The descriptor's api_version must equal SAEBENCH_SOLVER_API_VERSION
 *      of the header saebench was built with; any other value is refused,
 *      loudly (exit 2, one line naming both versions), before any work.
 *   3. Every struct that crosses the boundary starts with struct_size, set
 *      by the side that allocated it to sizeof the struct as that side was
 *      compiled. Within one ABI version fields are only appended, never
 *      removed, reordered or retyped; a reader uses a field only when
 *      struct_size covers it (SAEBENCH_HAS_FIELD), so a plugin built
 *      against an older or newer header of the same version still works.
 *
 * Memory. Whoever allocates frees: the plugin never frees or keeps a
 * pointer saebench passed except where a field says it may (X and rhs stay
 * valid until destroy), and saebench never frees what the plugin returns
 * (the descriptor, its tables and strings live as long as the library is
 * loaded; the state is the plugin's, released by destroy).
 *
 * Threads. saebench calls a plugin from one thread, one call at a time.
 * The plugin may use threads of its own inside a call.
 *
 * Isolation. saebench loads the plugin only in child processes: one that
 * checks the descriptor, then one that runs the workload. A crash, a hang
 * past --timeout, or an exit() from the plugin ends that child, and the
 * parent still writes the verdict (exit 4). The plugin's stdout goes to
 * saebench's stderr.
 */
#ifndef SAEBENCH_SOLVER_H
#define SAEBENCH_SOLVER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI version this header describes. */
#define SAEBENCH_SOLVER_API_VERSION 1u

/* The entry symbol of ABI version 1, as dlsym looks it up. */
#define SAEBENCH_SOLVER_ENTRY_V1 "saebench_solver_v1"

/* Mark the entry function for export from a library built with
 * -fvisibility=hidden. */
#if defined(__GNUC__)
#define SAEBENCH_SOLVER_EXPORT __attribute__((visibility("default")))
#else
#define SAEBENCH_SOLVER_EXPORT
#endif

/* 1 when the struct at p (with a struct_size first) was built with field. */
#define SAEBENCH_HAS_FIELD(p, type, field) \
    ((p)->struct_size >= offsetof(type, field) + sizeof(((type *)0)->field))

/* ------------------------------------------------------------------ status */

/* What every fallible call returns. Any value other than SAEBENCH_OK ends
 * the run: saebench reports the call, the code and the message (exit 4,
 * engaged false). An unknown code counts as SAEBENCH_ERR_RUNTIME. */
typedef int32_t saebench_status;
#define SAEBENCH_OK 0
/* The plugin refuses these inputs (a size, a method or a ridge it does
 * not support). */
#define SAEBENCH_ERR_INPUT 1
/* The call failed (out of memory, a factorization that was not positive
 * definite, a device error). */
#define SAEBENCH_ERR_RUNTIME 2

/* Where a failing call says why. saebench owns the buffer: msg points to
 * msg_cap bytes (at least 256), msg[0] is '\0' when the call starts. The
 * plugin writes one line of text, NUL-terminated within msg_cap bytes (as
 * snprintf(err->msg, err->msg_cap, ...) does), and never keeps the pointer.
 * saebench shows control bytes as '?' and cuts at msg_cap - 1 bytes. */
typedef struct saebench_error {
    size_t struct_size; /* set by saebench */
    char *msg;          /* owned by saebench */
    size_t msg_cap;     /* bytes at msg */
} saebench_error;

/* --------------------------------------------------------------- workloads */

/* Bits of saebench_solver_desc_v1.workloads. Each set bit promises the
 * matching ops table; saebench refuses a plugin whose bits and tables
 * disagree. Bits saebench does not know are ignored. */
#define SAEBENCH_WORKLOAD_RESIDENT_SOLVE (1u << 0) /* docs/workloads.md §1 */
#define SAEBENCH_WORKLOAD_INNER_LOOP (1u << 1)     /* reserved: no table in ABI 1 yet */

/* Counters over the state's life (from create), filled by the plugin in
 * telemetry(). saebench zeroes the struct and sets struct_size; the plugin
 * writes the fields it knows (SAEBENCH_HAS_FIELD) and leaves the rest 0.
 * They go to the verdict's telemetry as they are: a reader audits residency
 * with them (one rep should move n doubles up and p doubles down).
 * Negative values are refused (exit 4). */
typedef struct saebench_telemetry {
    size_t struct_size;       /* set by saebench */
    int64_t h2d_bytes;        /* bytes copied host -> device (0 on the host) */
    int64_t d2h_bytes;        /* bytes copied device -> host (0 on the host) */
    int64_t factorizations;   /* matrix factorizations performed */
    int64_t library_calls;    /* calls into vendor libraries (BLAS, LAPACK, cuBLAS, cuSOLVER) */
    int64_t kernel_launches;  /* device kernels of the plugin's own launched */
    int64_t handle_creations; /* library handles created (cuBLAS, cuSOLVER) */
} saebench_telemetry;

/* ----------------------------------------------------------- resident-solve */

/* (XᵀWX + ridge·I)β = rhs, X resident, w new every rep (docs/workloads.md §1). */

/* The system saebench asks to be factored; bits of saebench_rs_ops_v1.methods. */
#define SAEBENCH_RS_PRIMAL 0 /* the p×p Gram XᵀWX + ridge·I */
#define SAEBENCH_RS_DUAL 1   /* Woodbury, n ≤ p: K + ridge·diag(1/w) with K = XXᵀ */
#define SAEBENCH_RS_METHOD_BIT(m) (1u << (m))

/* create()'s argument: the sizes, fixed for the state's life. */
typedef struct saebench_rs_problem {
    size_t struct_size;  /* set by saebench */
    int64_t n;           /* rows of X, ≥ 1 */
    int64_t p;           /* columns of X, ≥ 1 */
    double ridge;        /* > 0, finite */
    int32_t method;      /* SAEBENCH_RS_PRIMAL or SAEBENCH_RS_DUAL: one the plugin declared
                            in methods. The verdict's roofline counts that method's work */
    int32_t threads;     /* host threads the user asked for (--threads N), 0: the plugin's
                            own default. A hint; saebench's BLAS threads are set already */
    int64_t max_solves;  /* at most this many solves follow (w0, warm-up, timed, profiled):
                            an upper bound for sizing per-solve records */
} saebench_rs_problem;

/* stage()'s argument: the resident data. */
typedef struct saebench_rs_data {
    size_t struct_size;  /* set by saebench */
    const double *X;     /* n×p, row-major, float64; owned by saebench, unchanged and
                            valid until destroy() returns: the plugin may keep the pointer */
    const double *rhs;   /* p; the same ownership as X */
} saebench_rs_data;

/* The operations saebench calls, in this order:
 *
 *   create                          untimed
 *   stage                           untimed, once
 *   upload_w, solve, download_beta  the untimed w0 solve (checked by the oracle)
 *   upload_w, solve, download_beta  per warm-up rep (untimed)
 *   upload_w, solve, download_beta  per timed rep: ONE interval of saebench's clock
 *                                   (CLOCK_MONOTONIC) from before upload_w to after
 *                                   download_beta returns
 *   upload_w, solve, download_beta  one profiled solve (untimed reps; each call timed
 *                                   alone for timing.breakdown_ms)
 *   telemetry                       after the reps, any number of times
 *   destroy                         last, also after any failure once create succeeded
 *
 * Between reps the plugin may keep anything that depends on X and rhs only
 * (X on the device, K = XXᵀ, X·rhs, workspaces, handles): that is the point
 * of residency. It must keep nothing that depends on w: every rep's w is
 * new, and a rep that reused an earlier factor would time less than a
 * solve. The oracle checks the w0 system and the last timed rep's.
 *
 * Every call is synchronous in effect: when download_beta returns, β is in
 * saebench's buffer and every error of this rep has been reported. Work may
 * be queued asynchronously between upload_w and download_beta. */
typedef struct saebench_rs_ops_v1 {
    size_t struct_size;  /* sizeof(saebench_rs_ops_v1) as the plugin was compiled */
    uint32_t methods;    /* SAEBENCH_RS_METHOD_BIT(...) of the methods it implements, ≥ 1 bit.
                            --method auto picks the smaller system among these */

    /* Make a state for prob (saebench's, valid only during the call).
     * *state is the plugin's: saebench passes it back and never reads,
     * writes or frees it. On failure *state is not used and destroy is not
     * called: release what was made. */
    saebench_status (*create)(const saebench_rs_problem *prob, void **state, saebench_error *err);

    /* Stage the resident data (X, rhs; see saebench_rs_data): copy X to a
     * device, form K = XXᵀ for the dual, anything that depends on X and rhs
     * only. Untimed. Called once, before the first upload_w. */
    saebench_status (*stage)(void *state, const saebench_rs_data *data, saebench_error *err);

    /* This rep's weights: n doubles, every one positive and finite
     * (saebench checks them where they enter the tool). w is valid only
     * during the call: copy what the solve needs. */
    saebench_status (*upload_w)(void *state, const double *w, saebench_error *err);

    /* Solve (XᵀWX + ridge·I)β = rhs for the w of the latest upload_w, in the
     * method create() was given. */
    saebench_status (*solve)(void *state, saebench_error *err);

    /* Write β of the latest solve into beta (saebench's buffer, p doubles,
     * valid only during the call). When it returns the rep is over. */
    saebench_status (*download_beta)(void *state, double *beta, saebench_error *err);

    /* Fill t (see saebench_telemetry). */
    saebench_status (*telemetry)(void *state, saebench_telemetry *t, saebench_error *err);

    /* Release everything the state holds. state is never NULL here. */
    void (*destroy)(void *state);
} saebench_rs_ops_v1;

/* ------------------------------------------------------------- descriptor */

/* What saebench_solver_v1() returns: who the plugin is and what it implements.
 * Static in the library: saebench reads it and never frees or writes it. */
typedef struct saebench_solver_desc_v1 {
    size_t struct_size;    /* sizeof(saebench_solver_desc_v1) as the plugin was compiled */
    uint32_t api_version;  /* SAEBENCH_SOLVER_API_VERSION: saebench refuses any other */

    /* The plugin's name, 1 to 48 characters of [a-z0-9-], starting with a
     * letter or digit: the verdict's backend is "plugin-" + name, and
     * 'saebench compare' matches verdicts by it. */
    const char *name;
    /* The plugin's own version, 1 to 64 printable ASCII characters
     * ("1.4.0", "2024-11 build 7f3c"): the verdict records it. */
    const char *version;

    /* 1: the plugin claims its solves run on a device (a GPU); 0: on the
     * host. saebench cannot see where a call runs: a device claim makes a
     * completed run engaged *by the plugin's claim*, and the verdict says so
     * in words (execution_path "plugin-device-claimed"); a host claim is
     * never engaged and never a device number. */
    int32_t claims_device;
    /* The device it claims, in words ("NVIDIA H100 80GB HBM3"), at most 127
     * printable characters, or NULL. Recorded as claimed, not checked. */
    const char *device;

    /* SAEBENCH_WORKLOAD_* bits it implements. */
    uint64_t workloads;
    /* The resident-solve table: non-NULL exactly when the
     * SAEBENCH_WORKLOAD_RESIDENT_SOLVE bit is set. */
    const saebench_rs_ops_v1 *resident_solve;
    /* Later tables (inner-loop, ...) are appended here. */
} saebench_solver_desc_v1;

/* The entry symbol of ABI version 1. Called once per load, before anything
 * else; it must not fail, block or print (it returns static data). */
typedef const saebench_solver_desc_v1 *(*saebench_solver_v1_fn)(void);
SAEBENCH_SOLVER_EXPORT const saebench_solver_desc_v1 *saebench_solver_v1(void);

#ifdef __cplusplus
}
#endif

#endif
