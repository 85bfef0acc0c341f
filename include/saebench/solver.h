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
 * (or inner-loop / outer-seq, with --shape tiny-arrow) and does everything
 * else itself: the inputs (a fixture or .npy data), the warm-up, the clock
 * around each rep, the stop rule, the dense LAPACKE oracle and the parity
 * gates, the verdict and the exit code. The plugin only solves.
 * docs/plugins.md walks through the contract call by call;
 * examples/solver-lapacke/ is the smallest correct plugin (both tables).
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
 * pointer saebench passed except where a field says it may (X and rhs, the
 * arrow blocks Htt, B and Hbb stay valid until destroy), and saebench
 * never frees what the plugin returns
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
 * saebench shows control bytes and bytes that are not well-formed UTF-8 as
 * '?', and cuts at msg_cap - 1 bytes. */
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
#define SAEBENCH_WORKLOAD_INNER_LOOP (1u << 1)     /* docs/workloads.md §2 and §3 (outer-seq): the
                                                      arrow table */

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

/* --------------------------------------------------------------- inner-loop */

/* The arrow-Schur system of inner-loop and outer-seq (docs/workloads.md §2,
 * §3). Unknowns z = (t, β): n row blocks t_i of d entries and a shared border
 * β of p. H is arrow-shaped: per row a d×d symmetric block H_tt,i and a d×p
 * cross block B_i; one shared p×p symmetric block H_ββ. At ridges ρ_t (on the
 * t entries) and ρ_β (on β) the step solves (H + R)δ = −r without forming H:
 *
 *   L_i = chol(H_tt,i + ρ_t I)        Y_i = L_i⁻¹ B_i
 *   S   = H_ββ + ρ_β I − Σ_i Y_iᵀY_i    L_S = chol(S)
 *   u_i = L_i⁻¹ r_t,i
 *   δβ  = S⁻¹(−r_β + Σ_i Y_iᵀu_i)       δt_i = −L_i⁻ᵀ(u_i + Y_i δβ)
 *   logdet(H + R) = 2 Σ_i Σ ln diag(L_i) + 2 Σ ln diag(L_S)
 *
 * How the plugin gets there is its own; the dense oracle judges δ, the
 * final z, φ and logdet (gate IL-001, OS-003).
 *
 * Layouts, float64, row-major, exactly as saebench holds them:
 *   Htt  n blocks of d×d, one after another: H_tt,i[r][c] at Htt[(i·d + r)·d + c]
 *   B    n blocks of d×p:                   B_i[r][j]     at B[(i·d + r)·p + j]
 *   Hbb  p×p:                               H_ββ[r][c]    at Hbb[r·p + c]
 *   r_t, δt  n·d: entry r of row block i at [i·d + r];   r_β, δβ  p */

/* create()'s argument: the sizes and the blocks, fixed for the state's life. */
typedef struct saebench_arrow_problem {
    size_t struct_size;  /* set by saebench */
    int64_t n;           /* row blocks, ≥ 1 */
    int64_t d;           /* rows of each block, ≥ 1 (n·d + p < 2³¹) */
    int64_t p;           /* the border, ≥ 1 */
    const double *Htt;   /* n·d·d; each block symmetric. Htt, B and Hbb are owned by
                            saebench, unchanged and valid until destroy() returns: the
                            plugin may keep the pointers */
    const double *B;     /* n·d·p */
    const double *Hbb;   /* p·p, symmetric */
    int32_t reupload;    /* 1: the residency baseline's state: every factor() stages the
                            blocks again from these arrays (re-reads them, copies them to
                            the device again) as if it had kept nothing derived from them.
                            0: stage once, keep the staged blocks */
    int32_t threads;     /* host threads the user asked for (--threads N), 0: the plugin's
                            own default. A hint; saebench's BLAS threads are set already */
} saebench_arrow_problem;

/* The operations saebench calls. Every call is synchronous in effect: when
 * it returns, its outputs are in saebench's memory and its errors reported.
 *
 * inner-loop (docs/workloads.md §2), in this order:
 *   create (reupload 0)   untimed: the resident state
 *   factor, solve         the resident LM fit, untimed: factor at each new pair of
 *                         ridges, solve for each iterate's step
 *   create (reupload 1), factor + solve per iterate, destroy
 *                         the re-upload LM fit, untimed, on a state of its own
 *   solve                 per warm-up and timed rep of the resident phase, on the
 *                         resident state (the fit's last factors, r = the gradient at
 *                         z = 0): each timed rep is ONE interval of saebench's clock
 *                         (CLOCK_MONOTONIC) around the one solve() call
 *   create (reupload 1)   untimed: the state of the two phases below
 *   factor, solve         per rep of the reupload phase: one interval around both
 *   factor                per rep of the frame_build phase: one interval around it
 *   telemetry             after each phase, untimed
 *   destroy               each state, untimed; also after any failure once its
 *                         create succeeded
 *
 * outer-seq (§3): create (reupload 0) once, untimed; then per outer the LM
 * loop's factor and solve calls on that one state, untimed, and again as the
 * timed reps of the shared phase (one interval per outer: its factor() calls
 * where the ridges changed, its solve() calls and saebench's own products
 * between them). Each outer is also run on a fresh state (create, the loop,
 * destroy), untimed, and as the timed reps of the reupload phase (one
 * interval around create to destroy). OS-002 requires the fresh state's
 * results to equal the shared one's bit for bit: the same calls must give
 * the same bits whatever the state did before.
 *
 * Between calls the plugin may keep anything that depends on the blocks
 * only (them on a device, workspaces, handles: that is residency), and the
 * factors of the latest successful factor(), which the solves that follow
 * use. It must keep nothing that depends on r (every solve's r is new) and
 * reuse no factors across factor() calls: each factor() factors at the
 * ridges it is given, even the same ridges as before (the frame_build phase
 * times exactly that). With reupload = 1, nothing derived from the blocks
 * outlives a factor() either. Two states may be alive at once (the
 * resident one and a re-upload one); calls never overlap. */
typedef struct saebench_arrow_ops_v1 {
    size_t struct_size;  /* sizeof(saebench_arrow_ops_v1) as the plugin was compiled */

    /* Make a state for prob (saebench's struct, valid only during the call;
     * the blocks it points to, until destroy). Stage the blocks here: copy
     * them to a device, allocate workspaces, create handles. *state is the
     * plugin's: saebench passes it back and never reads, writes or frees it.
     * On failure *state is not used and destroy is not called. */
    saebench_status (*create)(const saebench_arrow_problem *prob, void **state, saebench_error *err);

    /* Factor H + R at ridges ridge_t, ridge_b (each ≥ 0, finite): L_i, Y_i,
     * S and L_S, kept for the solves that follow. *positive_definite: 1 when
     * every L_i and L_S exists, with *logdet = logdet(H + R); 0 when a block
     * or S is not positive definite: a result, not an error (return
     * SAEBENCH_OK; the LM loop grows the ridges, and no solve() comes before
     * a factor() that succeeds). Errors are for real failures only. */
    saebench_status (*factor)(void *state, double ridge_t, double ridge_b, int32_t *positive_definite,
                              double *logdet, saebench_error *err);

    /* δ = −(H + R)⁻¹ r with the factors of the latest factor(). r_t (n·d)
     * and r_b (p) are saebench's, valid only during the call; write δt (n·d)
     * and δβ (p) into saebench's buffers dt and db. */
    saebench_status (*solve)(void *state, const double *r_t, const double *r_b, double *dt, double *db,
                             saebench_error *err);

    /* Fill t (see saebench_telemetry): factorizations counts the factor()
     * calls that produced factors; a gradient-only solve on a device moves
     * n·d + p doubles each way. */
    saebench_status (*telemetry)(void *state, saebench_telemetry *t, saebench_error *err);

    /* Release everything the state holds. state is never NULL here. */
    void (*destroy)(void *state);
} saebench_arrow_ops_v1;

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
    /* The arrow table of inner-loop and outer-seq: non-NULL exactly when the
     * SAEBENCH_WORKLOAD_INNER_LOOP bit is set. Appended to ABI 1: a
     * descriptor whose struct_size does not cover it (built against an
     * older header) implements neither, and its inner-loop bit is ignored. */
    const saebench_arrow_ops_v1 *arrow;
    /* Later tables are appended here. */
} saebench_solver_desc_v1;

/* The entry symbol of ABI version 1. Called once per load, before anything
 * else; it must not fail, block or print (it returns static data). */
typedef const saebench_solver_desc_v1 *(*saebench_solver_v1_fn)(void);
SAEBENCH_SOLVER_EXPORT const saebench_solver_desc_v1 *saebench_solver_v1(void);

#ifdef __cplusplus
}
#endif

#endif
