/* The parity rule: how a solve is judged against the dense oracle, decided
 * here once for every workload that solves a symmetric positive definite
 * system (docs/verdict.md "Parity"), and below it the per-row rule of a small
 * nonlinear solve (encode's coordinates) built from the same pieces. Modelled on the LAPACK and MAGMA
 * testers (dpot02/dpot05, testing_dposv): a solve is judged by its backward
 * error (a scaled residual), and its forward error against the oracle is
 * held to the bound its conditioning allows, not to a fixed tolerance.
 *
 * For a system A x = b of order N solved as x̂ (A symmetric positive
 * definite, every norm the ∞-norm; ‖A‖∞ = ‖A‖₁ as A is symmetric):
 *
 *   scaled residual  sr   = ‖b − A x̂‖∞ / (‖A‖∞ · ‖x̂‖∞ · N · ε)
 *   condition        κ̂    = 1 / rcond, rcond by LAPACK's 1-norm estimator
 *                           (dlacn2, as dpocon; src/oracle sb_oracle_kappa_chol) on the
 *                           oracle's Cholesky factor and ‖A‖₁ (dlansy)
 *   forward error    fe   = ‖x̂ − x_oracle‖∞ / ‖x_oracle‖∞
 *   bound            bnd  = c · κ̂ · ε with c = 10·√N
 *   ε = 2^-53 (LAPACK dlamch('E'), the unit roundoff)
 *
 *   ratio = max(sr / 30, sr_oracle / 30, fe / bnd)     passes when ≤ 1
 *
 * 30 is the LAPACK/MAGMA testers' threshold on scaled residuals (MAGMA's
 * testing_dposv divides by N as here). The forward bound follows the LAPACK
 * Users' Guide ("Error bounds for linear equation solving": forward error ≲
 * κ · backward error, approximated there as p(N)·ε/rcond with p(N) "a
 * modestly growing function of N") and LAPACK's dget04 tester, which holds
 * ‖x̂ − x‖/(‖x‖·κ·ε) to 30. c = 10·√N: √N is the growth of a blocked
 * Cholesky solve's rounding errors in practice (and the √N of dsposv's own
 * refinement criterion, which --precision mixed stops on); 10 covers the two
 * solves compared (backend and oracle each err by up to ~κ·ε) and the estimator's
 * estimate (a lower bound of κ₁, rarely off by more than 3×). On the
 * 150×300 real-data systems of tests/unit/test_parity.c the observed
 * fe/bnd is ~1e-4 (κ̂ is κ₁, ~30× κ₂ there). Loose on purpose: the
 * residual is what rejects a wrong β; the forward check catches an oracle
 * disagreement no residual explains.
 * The oracle's own residual enters the ratio: a comparison with an oracle
 * that did not solve its system to 30 scaled ulps establishes nothing.
 * There is no absolute floor on fe: κ̂ ≥ 1 makes bnd ≥ 10·√N·ε, and the
 * old fixed 1e-9 stays reachable as an opt-in gate (resident-solve RS-004). A NaN anywhere
 * gives a NaN ratio, which fails every gate. */
#ifndef SB_PARITY_H
#define SB_PARITY_H

#include <stdint.h>

#define SB_PARITY_EPS 0x1p-53            /* LAPACK dlamch('E') */
#define SB_PARITY_RESIDUAL_MAX 30.0      /* the testers' threshold on sr */
#define SB_PARITY_BOUND_C 10.0           /* c = SB_PARITY_BOUND_C · √N */

struct cJSON;

/* What one solve's parity is made of. The checker fills every field. */
typedef struct sb_solve_parity {
    int64_t order;                 /* N */
    double norm_inf;               /* ‖A‖∞ */
    double kappa_est;              /* κ̂ = 1/rcond (∞ when rcond = 0) */
    double scaled_residual;        /* sr of the solve under test */
    double scaled_residual_oracle; /* sr of the oracle's solve */
    double rel_err, abs_err;       /* forward error against the oracle */
    double bound;                  /* c·κ̂·ε */
    double ratio;                  /* max(sr/30, sr_oracle/30, fe/bound) */
    double estimate_s;             /* seconds spent on the norm, κ̂ and both residuals */
} sb_solve_parity;

/* sr from the pieces: ‖r‖∞, ‖A‖∞, ‖x̂‖∞, N. 0 when r = 0; ∞ when r ≠ 0 and
 * ‖A‖·‖x̂‖ = 0; NaN when any input is NaN. */
double sb_parity_scaled_residual(double res_inf, double a_norm_inf, double x_norm_inf, int64_t order);

/* bnd = 10 · √N · κ̂ · ε. */
double sb_parity_bound(double kappa_est, int64_t order);

/* Fill bound and ratio from order, kappa_est, the two scaled residuals and
 * rel_err (the one place the rule is applied). */
void sb_parity_judge(sb_solve_parity *s);

/* One part of a ratio: err / bound, 0 when err = 0 (even against bound = ∞). */
double sb_parity_part(double err, double bound);

/* The largest of n parts (0 for none), NaN when any part is NaN: a NaN
 * anywhere fails every gate. */
double sb_parity_worst(const double *parts, int n);

/* max(sr/30, sr_oracle/30, fe/bound), NaN when any part is NaN. */
double sb_parity_ratio3(double sr, double sr_oracle, double fe, double bound);

/* A scalar computed from the solution (an objective), whose terms sum to
 * the magnitude M: its difference against the oracle's is held to
 * (bound + N·ε)·M — the solution's relative forward error moves each term by
 * at most about that much, and N·ε·M is the rounding of the sum itself. */
double sb_parity_value_bound(double kappa_est, int64_t order, double magnitude);

/* log det(A) from a Cholesky factor, 2·Σ ln diag(L): the factor is exact for
 * A + ΔA with ‖ΔA‖ ≲ N·ε·‖A‖ (a backward-stable factorization), which moves
 * log det by tr(A⁻¹ΔA) ≤ N·κ·ε; the sum of N logs adds ε·|log det|. The
 * difference of two factorizations' log det is held to
 * c·ε·(N·κ̂ + |log det|), c = 10·√N as for the forward bound. */
double sb_parity_logdet_bound(double kappa_est, int64_t order, double logdet);

/* ratio ≤ threshold (1 by default; --gate ID=VALUE scales every constant). */
int sb_parity_passes(double ratio, double threshold);

/* The verdict's per-system object: kappa_est, scaled_residual,
 * scaled_residual_oracle, rel_err, max_abs_err, bound, ratio, estimate_s. */
struct cJSON *sb_parity_json(const sb_solve_parity *s);

/* The rule in words (the verdict's parity.rule). */
extern const char SB_PARITY_RULE[];

/* ------------------- the per-row rule (a small nonlinear solve) -------------------
 * For one row solved as a minimiser t̂ of a smooth least-squares objective
 * f(t) = ½‖r(t)‖², r: Rᵈ → R^N (encode, docs/workloads.md §5: N = p, the
 * row's width), compared with the reference's t_ref by the absolute forward
 * error fe = ‖t̂ − t_ref‖∞ (there is no relative form: a coordinate near 0
 * is as accurate as one near 0.5).
 *
 *   β   = 1/λ_min(H(t_ref)), H the full Hessian of f (the row's certificate
 *         quantity: the Kantorovich h is β·η·L)
 *   G   = max_a Σ_c |J|_a,c · (|v|_c + |x|_c): the magnitude of the terms
 *         that form the gradient g = Jᵀr, r = v − x, where |J| and |v| take
 *         the absolute value of every term of the sums that form J and v
 *         (encode: |J|_a,c = Σ_j |z·∂_aΦ_j·B_k,jc|, |v|_c = Σ_j |z·Φ_j·B_k,jc|)
 *   s   = the solver's stopping distance: each solve may stop this far from
 *         the exact minimiser (encode: τ·(1 + ‖t_ref‖₂), τ the refinement's
 *         step tolerance SB_ENCODE_REFINE_TOL)
 *   bnd = c·β·ε·G + 2·s,  c = 10·√N
 *   ratio = fe/bnd        (sb_parity_part) passes when ≤ threshold (1)
 *
 * Derivation. Evaluating g in floating point, by either order of the sums
 * (over p as the reference does, or through B_k·x and B_k·B_kᵀ in m-space as
 * the fast path does), errs by at most γ·G per component with γ ≈ N·ε in
 * the worst case and √N·ε in practice (the same growth as the solve rule's
 * √N). Newton stops once the step it computes is at the level of that error
 * or below s, so the true gradient at each answer is ≲ γ·G, and the answer
 * is within ‖H⁻¹‖·‖δg‖ ≤ β·√d·γ·G (+ s) of the exact minimiser. Two answers
 * each err that much: fe ≤ 2·√d·√N·β·ε·G + 2·s, and d ≤ 4 gives 2·√d ≤ 4;
 * c = 10·√N (SB_PARITY_BOUND_C·√N, as in the solve rule) leaves room for the
 * m-space sums and the Hessian's own rounding. β·G is invariant under a
 * scaling of the row, the decoders or the amplitude, so the bound is too.
 * The stopping term is not a tolerance on rounding: a fast path that stops
 * early by design still has to land within its own stopping rule of the
 * minimiser. β is NaN when H(t_ref) is not positive definite: a certified
 * answer at a point that is not a minimum then fails (unless fe = 0). */
typedef struct sb_row_parity {
    int64_t row;        /* the row's index in the problem */
    int64_t order;      /* N */
    double beta;        /* 1/λ_min(H(t_ref)); NaN when H is not positive definite */
    double grad_scale;  /* G */
    double stop;        /* s */
    double abs_err;     /* fe = ‖t̂ − t_ref‖∞ */
    double bound;       /* c·β·ε·G + 2·s */
    double ratio;       /* fe/bound */
} sb_row_parity;

/* bnd = 10·√N·β·ε·G + 2·s. */
double sb_parity_row_bound(double beta, double grad_scale, double stop, int64_t order);

/* Fill bound and ratio from order, beta, grad_scale, stop and abs_err. */
void sb_parity_row_judge(sb_row_parity *s);

/* The verdict's object for one row: row, beta, grad_scale, stop, abs_err,
 * bound, ratio. */
struct cJSON *sb_parity_row_json(const sb_row_parity *s);

/* The per-row rule in words (the verdict's parity.rule for encode). */
extern const char SB_PARITY_ROW_RULE[];

#endif
