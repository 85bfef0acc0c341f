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
} sb_arrow_case;

/* Load --shape for the workload bit and check it before any work: the
 * shape serves the workload, n·d + p fits a LAPACK int, the host has the
 * memory (system, backend factors twice, the dense oracle). */
sb_rc sb_arrow_case_load(const sb_opts *o, unsigned workload_bit, sb_arrow_case *c, sb_err *err);
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

/* An LM result with its buffers (t, β, δt, δβ). */
sb_rc sb_lm_result_alloc(sb_lm_result *res, int64_t nt, int64_t p, sb_err *err);
void sb_lm_result_free(sb_lm_result *res);

/* Parity of a result against the oracle's: the worst relative error over
 * the last step, the final z, the objective and the logdet. Each part is
 * written to parts[4] (step, z, objective, logdet). */
double sb_lm_parity(const sb_lm_result *a, const sb_lm_result *ref, int64_t nt, int64_t p, double parts[4]);

/* 1 when every reported number of a and b is bit-identical (the doubles'
 * bytes, iterations and flags). On a mismatch, what names the first field. */
int sb_lm_identical(const sb_lm_result *a, const sb_lm_result *b, int64_t nt, int64_t p, const char **what);

/* A result as JSON: objective, gradient norms, logdet, iterations, ridges, … */
struct cJSON *sb_lm_result_json(const sb_lm_result *res, long long frame_builds);

/* Run one LM fit of a solve mode on a fresh state (and frame). reupload: the
 * re-staging state with a factor every iterate. */
sb_rc sb_arrow_fit(const sb_arrow_case *c, const sb_arrow_ops *ops, int reupload, const double *g_t,
                   const double *g_b, sb_lm_result *res, sb_telemetry *tele, sb_err *err);

#endif
