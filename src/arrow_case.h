/* What inner-loop and outer-seq share: loading and checking an arrow shape,
 * the start of a run (verdict and backend), building its fixture, LM results
 * and how they are compared and reported.
 * The LM loop and the solve modes are src/arrow.h's; timing and verdict are
 * src/run.h's. */
#ifndef SB_ARROW_CMD_H
#define SB_ARROW_CMD_H

#include "arrow.h"
#include "run.h"
#include "shape.h"

struct cJSON;

typedef struct sb_arrow_case {
    sb_shape shape;
    sb_arrow_params prm;
    sb_arrow_system sys;
    sb_lm_opts lm;
    int64_t nt;              /* n·d */
    /* --system DIR: the system came from .npy files (src/arrow_data.c) */
    int from_npy;
    char files[6][1100];     /* the paths read: htt, cross, hbb, gt, gb, target_energy ("" when absent) */
    char dtypes[6][8];       /* each file's dtype as written */
    double *g_outer;         /* data_outers × (n·d + p): each outer's g₀ (t then β) */
    int64_t data_outers;     /* 1, or S from S×n×d gradients (outer-seq) */
} sb_arrow_case;

/* Load --shape and/or --system DIR for the workload bit and check them
 * before any work: the shape serves the workload, n·d + p fits a LAPACK int,
 * the host has the memory (system, backend factors twice, the dense oracle).
 * With --system the data decides n, p, d; a --shape beside it gives only the
 * run's settings (reps, warm-up, max_iterations, gate defaults). */
sb_rc sb_arrow_case_load(const sb_opts *o, unsigned workload_bit, sb_arrow_case *c, sb_err *err);
/* --system DIR: read DIR/{htt,cross,hbb,gt,gb}.npy and the optional
 * target_energy.npy into c->sys and c->g_outer, every check first
 * (src/arrow_data.c; docs/workloads.md §2 Your own data). */
sb_rc sb_arrow_case_load_system(const sb_opts *o, unsigned workload_bit, sb_arrow_case *c, sb_err *err);
/* The verdict's shape.data ("fixture" | "npy") and, for data, shape.system
 * and shape.dtypes (each file's dtype as written). */
void sb_arrow_case_verdict_shape(struct cJSON *root, const sb_arrow_case *c);
sb_rc sb_arrow_case_build(sb_arrow_case *c, sb_err *err);
void sb_arrow_case_free(sb_arrow_case *c);

/* The start of an arrow command's run, after sb_run_init. Each returns -1
 * to go on, else the exit code; on every path the command's one cleanup at
 * its end frees the run and the case.
 * sb_arrow_run_load: sb_arrow_case_load, an error printed and exit 2 before
 * any work; then reps and warm-up (the CLI's, the shape's, else these).
 * sb_arrow_run_begin, once the workload set its shape-dependent defaults:
 * host threads, the verdict's common sections, and a backend that
 * implements the arrow ops (exit 3 written by the harness). */
int sb_arrow_run_load(sb_run *r, unsigned workload_bit, sb_arrow_case *c, int64_t dflt_reps, int64_t dflt_warmup);
int sb_arrow_run_begin(sb_run *r, const sb_arrow_case *c);

/* --dump-z: the final z = (t row-major, then β) of count results, as one
 * vector (as_rows 0, count 1) or one row per result; a write failure is a
 * late input error (exit 2, the verdict still written). */
void sb_arrow_dump_z(sb_run *r, const sb_lm_result *res, int64_t count, int as_rows, int64_t nt, int64_t p);

/* An LM result with its buffers (t, β, δt, δβ). */
sb_rc sb_lm_result_alloc(sb_lm_result *res, int64_t nt, int64_t p, sb_err *err);
void sb_lm_result_free(sb_lm_result *res);

/* Parity of an LM result against the oracle's, by the rule of src/parity.h
 * (docs/verdict.md "Parity"), with κ̂ of H + R at the oracle's last accepted
 * step (N = n·d + p):
 *   step       max(sr/30, sr_oracle/30, fe_step/bound): sr the scaled residual
 *              of each side's last step in its own system (H + R_step)δ = −r_step,
 *              fe_step = ‖δ − δ_o‖∞ / max(‖δ_o‖∞, ‖z_o‖∞)
 *   z          ‖z − z_o‖∞/‖z_o‖∞ / bound
 *   objective  |φ − φ_o| / sb_parity_value_bound(κ̂, N, M_φ),
 *              M_φ = ½‖target‖² + |z_oᵀHz_o| + |g₀ᵀz_o|
 *   logdet     |ld − ld_o| / sb_parity_logdet_bound(κ̂, N, ld_o)
 * ratio is the worst part. */
typedef struct sb_lm_parity_t {
    int64_t order;
    double kappa_est, bound;
    double sr, sr_oracle, fe_step, fe_z;
    double err_objective, magnitude_objective, bound_objective;
    double err_logdet, bound_logdet;
    double part[4];          /* step, z, objective, logdet ratios */
    double ratio;            /* the worst part: the gate value */
    double rel[4];           /* the verdict/3 relative errors of the same four */
    double estimate_s;       /* seconds spent here (outside any timed region) */
} sb_lm_parity_t;

/* g_t, g_b: the fit's base gradient. SB_E_RUNTIME only when out of memory. */
sb_rc sb_lm_parity(const sb_arrow_system *sys, const double *g_t, const double *g_b, const sb_lm_result *a,
                   const sb_lm_result *ref, sb_lm_parity_t *out, sb_err *err);
/* The worst of the verdict/3 relative errors (the opt-in absolute gates). */
double sb_lm_parity_rel(const sb_lm_parity_t *pa);
/* The verdict's per-fit parity object. */
struct cJSON *sb_lm_parity_json(const sb_lm_parity_t *pa);

/* The rule in words (the verdict's parity.rule for the arrow workloads). */
extern const char SB_LM_PARITY_RULE[];
/* Keep in *worst the part with the larger ratio (NaN counts as the worst;
 * *worst_index < 0: nothing kept yet). */
void sb_lm_parity_fold(sb_lm_parity_t *worst, int64_t *worst_index, const sb_lm_parity_t *x, int64_t index);
/* The summary's parity line. */
void sb_lm_parity_note(sb_run *r, const sb_lm_parity_t *pa);
/* Fill the verdict's parity section (after sb_run_parity): the rule, κ̂,
 * residuals, ratio, the verdict/3 rel_err, and the worst fit's figures
 * ("worst", with its index when index ≥ 0). pa NULL: not run, nulls. */
void sb_lm_parity_verdict(struct cJSON *parity, const sb_lm_parity_t *pa, const char *system, int64_t index);

/* 1 when every reported number of a and b is bit-identical (the doubles'
 * bytes, iterations and flags). On a mismatch, what names the first field. */
int sb_lm_identical(const sb_lm_result *a, const sb_lm_result *b, int64_t nt, int64_t p, const char **what);

/* A result as JSON: objective, gradient norms, logdet, iterations, ridges, … */
struct cJSON *sb_lm_result_json(const sb_lm_result *res, long long frame_builds);

/* A state's counters: the mode's check first, where it has one (a plugin's
 * telemetry() is read and checked there), then its telemetry. */
sb_rc sb_arrow_read_telemetry(const sb_arrow_ops *ops, void *state, sb_telemetry *t, sb_err *err);

/* Run one LM fit of a solve mode on a fresh state (and frame). reupload: the
 * re-staging state with a factor every iterate. */
sb_rc sb_arrow_fit(const sb_arrow_case *c, const sb_arrow_ops *ops, int reupload, const double *g_t,
                   const double *g_b, sb_lm_result *res, sb_telemetry *tele, sb_err *err);

#endif
