/* The backend interface: the operations each workload needs from a compute
 * backend. Timing, gates, engagement and the verdict are written once, in
 * src/run.c; each src/cmd_<workload>.c says what one rep is and what the
 * oracle compares; src/host/ and cuda/ implement these tables. A backend
 * leaves a workload's table NULL when it does not implement it, and the
 * device then counts as declined for that workload. */
#ifndef SB_BACKEND_H
#define SB_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

/* Counters a verdict reports so a reader can audit residency. */
typedef struct sb_telemetry {
    long long handle_creations;  /* cuBLAS/cuSOLVER handles (0 on host) */
    long long factorizations;    /* Cholesky factorizations performed */
    long long frame_builds;      /* resident frames built (X staged, K formed) */
    long long h2d_bytes;         /* bytes copied host -> device */
    long long d2h_bytes;         /* bytes copied device -> host */
    long long library_calls;     /* cuBLAS/cuSOLVER or BLAS/LAPACKE calls issued (one
                                    library call may launch many device kernels) */
    long long own_kernel_launches; /* kernels of ours launched (0 on the host) */
} sb_telemetry;

typedef struct sb_device_info {
    char name[256];
    int cc_major, cc_minor;
    int driver_version;   /* CUDA driver API version, e.g. 13000 */
    int runtime_version;  /* CUDA runtime version */
    int sm_count;
    uint64_t total_mem;
    double clock_mhz;
    char pci_bus_id[32];  /* "00000000:17:00.0" (domain:bus:device.function): finds the device in NVML */
} sb_device_info;

/* Measured ceilings of one machine (saebench calibrate). */
typedef struct sb_ceilings {
    double fp64_flops;    /* FP64 matrix rate, FLOP/s (large DGEMM) */
    double mem_bw;        /* memory bandwidth, bytes/s (read + write of a large copy) */
    double dgemm_n;       /* size of the square DGEMM measured */
    double copy_bytes;    /* bytes of the buffer copied */
} sb_ceilings;

/* --------------------------- resident-solve --------------------------- */
typedef enum { SB_METHOD_PRIMAL = 0, SB_METHOD_DUAL = 1 } sb_method;

/* --precision (docs/workloads.md §1, Precision). MIXED: factor the system in FP32,
 * then refine β (dual: y) in FP64 against the FP64 system until LAPACK
 * dsposv's criterion holds, ‖r‖∞ ≤ ‖x‖∞·‖A‖∞·ε·√N with ε = 2⁻⁵³, or
 * SB_REFINE_MAX iterations pass; a solve whose FP32 factor fails or whose
 * refinement does not converge re-factors in FP64 on the same backend (a
 * fallback, counted). AUTO: the state's first solve runs MIXED; if it
 * converged within SB_REFINE_AUTO_MAX iterations without a fallback, every
 * later solve is MIXED, otherwise FP64. */
typedef enum { SB_PREC_FP64 = 0, SB_PREC_MIXED = 1, SB_PREC_AUTO = 2 } sb_precision;
#define SB_REFINE_MAX 30
#define SB_REFINE_AUTO_MAX 5

/* What the latest solve did. */
typedef struct sb_rs_solve_info {
    const char *factor; /* the factorization variant that ran ("library", "blocked", "tiled"); NULL: the requested one */
    const char *factor_why; /* --factor auto: why that variant (static), else NULL */
    int mixed;          /* 1: the FP32 factor + FP64 refinement ran (even if it then fell back) */
    int iterations;     /* refinement iterations: FP64 residuals computed after the first FP32 solve */
    int fallback;       /* 1: the solve re-factored in FP64 */
    const char *why;    /* fallback: why (a static string), else NULL */
    const char *auto_choice; /* AUTO, on the deciding solve only: what was chosen and why (static) */
} sb_rs_solve_info;

/* (XᵀWX + ridge·I)β = rhs. Primal: factor the p×p Gram per solve.
 * Dual (Woodbury, n ≤ p): keep K = XXᵀ and X·rhs resident, per solve factor
 * K + ridge·diag(1/w) (n×n), y = that⁻¹·(X·rhs), β = (rhs − Xᵀy)/ridge. */
typedef struct sb_rs_problem {
    int64_t n, p;
    const double *X;    /* n×p, row-major; owned by the caller, outlives the state */
    const double *rhs;  /* p */
    double ridge;
    sb_method method;
    int reupload;       /* 1: re-stage X every solve (the residency baseline) */
    int max_solves;     /* upper bound on solve()+profile() calls (sizes per-solve info arrays) */
    const char *factor; /* factorization variant: NULL or "library" (cuSOLVER/LAPACKE),
                           or a backend's own (cuda: "blocked"); unknown -> SB_E_INPUT */
    sb_precision precision;
    int threads;        /* --threads N (0: the default): passed to a plugin as a hint */
} sb_rs_problem;

/* Milliseconds per phase of one solve (measured in an untimed profiling solve). */
typedef struct sb_rs_breakdown {
    double upload_ms;  /* w (and X when re-uploading) host -> device */
    double build_ms;   /* Gram (primal) or K + ridge/w (dual) */
    double factor_ms;  /* Cholesky */
    double solve_ms;   /* triangular solves (+ the Xᵀy recovery for dual) */
    double download_ms;/* β device -> host */
} sb_rs_breakdown;

/* --factor auto on a device (src/rs_auto.c): the variant the committed
 * GPU measurements favour for this device generation, method and order N of
 * the factored system ("library" while none does); *why says which. */
const char *sb_factor_auto(int cc_major, sb_method method, int64_t N, const char **why);
/* 1 for a backend's own variant (blocked, tiled): not library, not auto. */
int sb_factor_is_own(const char *factor);

/* --precision auto, after the state's first (mixed) solve: 1 to keep mixed,
 * 0 for fp64; records the choice and why in first->auto_choice. One rule for
 * every backend. */
int sb_precision_auto_decide(sb_rs_solve_info *first);

typedef struct sb_rs_ops {
    /* Stage X (and for dual: K, X·rhs). err names the reason on failure. */
    sb_rc (*create)(const sb_rs_problem *prob, void **state, sb_err *err);
    /* One solve: w (n, every entry positive and finite: the caller validates
     * inputs where they enter the tool) in, β (p) out. Synchronous: when it returns, β is in
     * host memory, so a host clock around the call times the whole rep.
     * A device backend may defer its factorization-status check to check(). */
    sb_rc (*solve)(void *state, const double *w, double *beta, sb_err *err);
    /* An untimed solve that also measures the per-phase breakdown. */
    sb_rc (*profile)(void *state, const double *w, double *beta,
                     sb_rs_breakdown *bd, sb_err *err);
    /* After the timed region: verify every solve so far produced a valid
     * result (device info flags). SB_OK or SB_E_RUNTIME. */
    sb_rc (*check)(void *state, sb_err *err);
    void (*telemetry)(const void *state, sb_telemetry *t);
    /* What the latest solve() or profile() did (precision, refinement). */
    void (*last_solve)(const void *state, sb_rs_solve_info *info);
    void (*destroy)(void *state);
} sb_rs_ops;

/* ------------------- the clock of the SMs, the L2 --------------------- */
/* One reading of the SMs' clocks (docs/verdict.md, timing.sm_clock): a tiny
 * kernel, one block per SM, each block stamping its SM id, %globaltimer (ns)
 * and clock64() (SM cycles). Two readings around a rep give the SM clock over
 * the rep, per SM (sb_sm_clock_mhz, src/timing.h). */
#define SB_CLOCK_MAX_BLOCKS 512
typedef struct sb_clock_reading {
    int nblocks;                              /* blocks that stamped (≤ SB_CLOCK_MAX_BLOCKS) */
    unsigned smid[SB_CLOCK_MAX_BLOCKS];
    unsigned long long ns[SB_CLOCK_MAX_BLOCKS];
    unsigned long long cycles[SB_CLOCK_MAX_BLOCKS];
} sb_clock_reading;

/* What the harness runs between timed reps on a device, never inside one:
 * the SM clock probe around each rep, and --cold's L2 flush before it. */
typedef struct sb_probe_ops {
    /* The probe's buffers (an L2-sized one only when cold), its stream.
     * *l2_bytes: the bytes one flush writes (0 when not cold). */
    sb_rc (*open)(int cold, void **state, size_t *l2_bytes, sb_err *err);
    /* One reading: the kernel, its copy back, a synchronisation. */
    sb_rc (*read_clock)(void *state, sb_clock_reading *out, sb_err *err);
    /* Write the L2-sized buffer (a device memset) and wait for it. */
    sb_rc (*flush_l2)(void *state, sb_err *err);
    void (*close)(void *state);
} sb_probe_ops;

/* The SM clock over the interval between two readings, in MHz: per SM seen
 * in both (its first block in each), Δclock64 / Δ%globaltimer; the median
 * over those SMs. *nsm (may be NULL): how many SMs it is taken over. NAN
 * when no SM was seen in both readings with an advancing timer. */
double sb_sm_clock_mhz(const sb_clock_reading *before, const sb_clock_reading *after, int *nsm);

/* ------------------------------ a backend ----------------------------- */
typedef struct sb_backend {
    const char *name;     /* "host", "cuda" */
    int is_device;        /* 1: its numbers are device numbers */
    /* SB_OK if usable now; otherwise why names the reason in words ("no
     * NVIDIA driver or GPU found"), with the raw library message, if any,
     * in a bracketed tail (" [cudaGetDeviceCount: ...]") that the verdict
     * keeps and the human summary leaves out. info may be NULL; when
     * non-NULL and the backend is a device, it is filled. */
    sb_rc (*probe)(sb_device_info *info, sb_err *why);
    /* Measure this backend's FP64 matrix rate and memory bandwidth. */
    sb_rc (*calibrate)(sb_ceilings *out, sb_err *err);
    const sb_rs_ops *resident_solve;
    /* inner-loop and outer-seq (src/arrow.h): the arrow-Schur factor/solve;
     * NULL means "not implemented by this backend". */
    const struct sb_arrow_ops *arrow; /* multiplex runs it too, several fits in flight */
    /* encode (src/encode_ops.h): the fast path's create/upload/encode. */
    const struct sb_encode_ops *encode;
    /* The SM clock probe and the L2 flush (a device backend of ours; NULL:
     * none, and timing.sm_clock says so). */
    const sb_probe_ops *probe_ops;
} sb_backend;

/* The registry (src/backend.c). */
extern const sb_backend sb_host_backend;
extern const sb_backend sb_cuda_backend;   /* cuda/ when built with CUDA, else a stub */
/* The test binary saebench-fake links tests/fake/fake_device.c, which
 * defines sb_test_device_backend(); the shipped saebench does not. */

/* "host" | "cuda" -> backend (NULL if unknown). */
const sb_backend *sb_backend_by_name(const char *name);

#endif
