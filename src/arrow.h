/* The arrow-Schur system of inner-loop and outer-seq (docs/workloads.md §2, §3) and the
 * Levenberg–Marquardt loop written once over every solve mode.
 *
 * Unknowns z = (t, β): n row blocks t_i ∈ R^d and a shared border β ∈ R^p.
 * H is arrow-shaped: per-row H_tt,i (d×d SPD), per-row cross B_i = H_tβ,i (d×p),
 * shared H_ββ (p×p). φ(z) = ½‖target‖² + ½ zᵀHz − g₀ᵀz, r(z) = Hz − g₀.
 *
 * Who does what:
 *   - this module (src/arrow.c): the system, its fixture, the host-side
 *     products the loop needs (r(z), φ(z), Hδ for the predicted reduction)
 *     and the LM control flow. The same code drives every solve mode, so the
 *     modes differ only in how (H + R)δ = −r is solved.
 *   - a solve mode (sb_arrow_ops): stages the Hessian blocks, factors H + R at
 *     given ridges, and solves with the factors it keeps. Host
 *     (src/host/host_arrow.c), CUDA (cuda/), a solver plugin's arrow table
 *     (src/plugin_arrow.c), and the dense LAPACKE oracle
 *     (src/oracle/oracle_arrow.c, which shares no math with the backends).
 *
 * Layouts are row-major throughout:
 *   Htt: n blocks of d×d        (Htt[(i*d + r)*d + c])
 *   B:   n blocks of d×p        (B[(i*d + r)*p + j])
 *   Hbb: p×p, symmetric          (Hbb[r*p + c])
 *   t, g_t, δt: n·d (t[i*d + r]);  β, g_β, δβ: p
 */
#ifndef SB_ARROW_H
#define SB_ARROW_H

#include <stdint.h>

#include "backend.h"
#include "common.h"

typedef struct sb_arrow_system {
    int64_t n, p, d;
    double *Htt, *B, *Hbb;   /* the operator: n·d·d, n·d·p, p·p */
    double *g_t, *g_b;       /* the base gradient g₀: n·d, p */
    double half_target_energy; /* ½‖target_x‖² (a constant of φ) */
} sb_arrow_system;

/* Fixture parameters (a shape's inner-loop fields). */
typedef struct sb_arrow_params {
    int64_t n, p, d, basis_cols;
    uint64_t seed;
    /* Added to every diagonal entry of every H_tt,i after the fixture's formulas
     * (0 for the canonical shapes). A negative shift makes H_tt indefinite at
     * zero ridge, so the LM loop's factor-failure → ridge-growth path runs. */
    double htt_shift;
} sb_arrow_params;

/* Doubles the system holds (for memory checks before allocating); 0 on overflow. */
uint64_t sb_arrow_doubles(int64_t n, int64_t p, int64_t d);

/* Allocate and fill the inner-loop fixture (docs/workloads.md §2 Fixture):
 * SplitMix64 from seed, target_x[i,j] = 0.02·sin((i%97)·0.013 + (j%131)·0.007)
 * + 0.001·u drawn row-major (only its ½‖·‖² is kept), basis
 * b[i,a] = cos((i+1)(a+1)·0.003), gates 1, bsum_i = Σ_a b[i,a];
 * H_tt[r][r] = 3 + 0.01|bsum| + 0.1r (+ htt_shift), off-diagonal
 * 0.02·sin(bsum + r + c)/d symmetrised by averaging;
 * B_i[r][j] = 1e-4·sin(bsum + r)·cos((j%257)·0.011); g_t[i][r] = 0.01·sin(bsum + r);
 * H_ββ tridiagonal 4 / 0.01; g_β[j] = 0.001·sin((j%193)·0.017). */
sb_rc sb_arrow_fixture(const sb_arrow_params *prm, sb_arrow_system *sys, sb_err *err);
void sb_arrow_free(sb_arrow_system *sys);

/* outer-seq (docs/workloads.md §3 System): the base gradient of outer s, over the flattened n·d
 * entries g_t[k] = 0.01·sin((k + 3s)·0.002) and g_β[j] = 0.001·cos((j + 11s)·0.0009). */
void sb_arrow_outer_gradient(int64_t n, int64_t p, int64_t d, int64_t s, double *g_t, double *g_b);

/* Host-side products, exact and deterministic (fixed summation order). */
/* r = Hz − g₀ for z = (t, β); g_t/g_b are the base gradient to use. */
void sb_arrow_residual(const sb_arrow_system *sys, const double *g_t, const double *g_b,
                       const double *t, const double *beta, double *r_t, double *r_b);
/* φ(z) = ½‖target‖² + ½ zᵀHz − g₀ᵀz */
double sb_arrow_objective(const sb_arrow_system *sys, const double *g_t, const double *g_b,
                          const double *t, const double *beta);
/* ‖H + diag(ρ_t on t, ρ_β on β)‖∞: the largest absolute row sum. */
double sb_arrow_norm_inf(const sb_arrow_system *sys, double ridge_t, double ridge_b);
/* Predicted reduction of the bare quadratic model: −(rᵀδ + ½ δᵀHδ) (no ridge). */
double sb_arrow_predicted_reduction(const sb_arrow_system *sys, const double *r_t, const double *r_b,
                                    const double *dt, const double *db);

/* ------------------------------ solve modes ------------------------------ */
typedef struct sb_arrow_ops {
    /* Stage the operator (Htt, B, Hbb; sys outlives the state). reupload: the
     * residency baseline, where every factor() re-packs and re-uploads the
     * blocks instead of reusing staged ones. */
    sb_rc (*create)(const sb_arrow_system *sys, int reupload, void **state, sb_err *err);
    /* Factor H + diag(ρ_t on t, ρ_β on β): L_i = chol(H_tt,i + ρ_t I),
     * Y_i = L_i⁻¹B_i, S = H_ββ + ρ_β I − Σ Y_iᵀY_i, L_S = chol(S).
     * *pd = 0 (rc SB_OK) when a block is not positive definite: the LM loop
     * then grows the ridge. *logdet = 2Σ ln diag(L_i) + 2Σ ln diag(L_S).
     * rc != SB_OK only for a real failure (out of memory, CUDA error). */
    sb_rc (*factor)(void *state, double ridge_t, double ridge_b, int *pd, double *logdet, sb_err *err);
    /* (H + R)δ = −r with the factors of the last factor(), which must have
     * succeeded (after pd = 0 the factors are gone and solve() refuses):
     * u_i = L_i⁻¹ r_t,i, δβ = S⁻¹(−r_β + Σ Y_iᵀu_i), δt_i = −L_i⁻ᵀ(u_i + Y_i δβ).
     * Moves r (n·d + p doubles) in and δ out; nothing else. */
    sb_rc (*solve)(void *state, const double *r_t, const double *r_b, double *dt, double *db, sb_err *err);
    /* κ̂ = 1/rcond of the H + R last factored (1-norm estimate), or NULL for a
     * mode that does not estimate it. Only the oracle does: parity takes
     * the condition from the independent implementation. */
    double (*condition)(void *state);
    void (*telemetry)(const void *state, sb_telemetry *t);
    void (*destroy)(void *state);
    /* Outside every timed interval, before telemetry() is read: confirm
     * what the state reported so far, SB_OK or SB_E_RUNTIME. A plugin's
     * counters are read here and held to the contract (none negative).
     * NULL: nothing to check (the built-in modes). */
    sb_rc (*check)(void *state, sb_err *err);
} sb_arrow_ops;

extern const sb_arrow_ops sb_host_arrow_ops;    /* src/host/host_arrow.c */
extern const sb_arrow_ops sb_oracle_arrow_ops;  /* src/oracle/oracle_arrow.c: dense (n·d+p)² */
/* --backend plugin: sb_plugin_arrow_ops (src/plugin_arrow.c, declared in src/plugin.h) */

/* ------------------------------ the LM loop ------------------------------ */
typedef struct sb_lm_opts {
    int max_iterations;       /* 16 */
    double tolerance;         /* converge when ‖r‖/(1+‖z‖) < 1e-9 */
    double grow, shrink;      /* 4, 0.5 */
    double max_ridge;         /* 1e9: fail when either ridge exceeds it */
    double ridge_t0, ridge_b0;/* 0, 0 */
} sb_lm_opts;

void sb_lm_default_opts(sb_lm_opts *o);

/* Which factors a mode holds, keyed by the ridges they were built at. Shared
 * across calls (outer-seq shares one frame over every outer). */
typedef struct sb_lm_frame {
    int valid;
    double ridge_t, ridge_b;
    double logdet;          /* of the factors held */
    long long builds;       /* successful factor() calls over the frame's life */
    int refactor_every_iterate; /* reupload baseline / oracle: factor every iterate */
} sb_lm_frame;

typedef struct sb_lm_result {
    double *t, *beta;         /* final iterate (caller allocates n·d and p) */
    double *dt, *db;          /* last accepted step (caller allocates) */
    double objective;         /* φ at the final iterate */
    double gradient_norm;     /* ‖r‖ at the last accepted iterate's start */
    double final_gradient_norm; /* ‖r‖ at the final iterate */
    double logdet;            /* of H + R at the last accepted step's ridges */
    double ridge_t, ridge_b;  /* ridges when the loop stopped */
    int iterations, accepted, rejected, factor_failures;
    int converged;
    int ridge_exceeded;       /* 1: stopped because a ridge passed max_ridge */
    long long solves;         /* ops->solve calls */
    /* The last accepted step's system (H + R_step)·δ = −r_step, kept for
     * parity (src/arrow_case.h sb_lm_parity): its ridges, r_step (n·d + p:
     * r_t then r_β; caller allocates) and, when the mode has a condition
     * op, κ̂ of H + R_step (NaN otherwise or before any accepted step). */
    double step_ridge_t, step_ridge_b;
    double *step_r;
    double kappa_est;
} sb_lm_result;

/* Run the loop from z = 0 with base gradient (g_t, g_b). A mode failure
 * (rc != SB_OK from ops) is returned as is; a ridge past max_ridge returns
 * SB_OK with res->ridge_exceeded = 1 and converged = 0 (a failed gate, not
 * a crash). */
sb_rc sb_lm_run(const sb_arrow_system *sys, const double *g_t, const double *g_b,
                const sb_arrow_ops *ops, void *state, sb_lm_frame *frame,
                const sb_lm_opts *opts, sb_lm_result *res, sb_err *err);

#endif
