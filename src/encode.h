/* encode (docs/workloads.md §5): the certified per-row latent-coordinate
 * encode. Shared data structures only; the math lives in three places that
 * share none of it:
 *   src/encode_setup.c        generator (decoders, rows), basis sizes, atlas
 *                             tables (chart centres and per-(atom, chart)
 *                             constants), metrics. Setup data, not per-row math.
 *   src/oracle/oracle_encode.c   the CPU reference: the straightforward per-row
 *                             algorithm over full p-vectors (the oracle).
 *   src/hostdev/encode_row.cuh       the fast path's per-row routine, written once as
 *                             __host__ __device__ code over m-space quantities
 *                             (B_k·x and G_k = B_k·B_kᵀ); used by the host
 *                             fast path (src/host/host_encode.c, threaded over
 *                             rows) and the CUDA kernel (cuda/encode_backend.cu).
 *
 * Model: atom k has a decoder B_k (m×p) over a basis Φ(t), t ∈ [−0.5, 0.5]^d:
 *   euclidean: monomials Π t_a^α_a with |α| ≤ D, graded by total degree, then
 *              lexicographic with t₀'s exponent descending (d=2, D=2: 1, t₀, t₁,
 *              t₀², t₀t₁, t₁²); m = C(d+D, D);
 *   periodic:  d = 1 only: 1, sin 2πt, cos 2πt, sin 4πt, cos 4πt, … up to
 *              frequency D; m = 2D + 1.
 * A row x (p) with active atom k and amplitude z > 0: find t minimising
 * ½‖z·B_kᵀΦ(t) − x‖² with a Kantorovich certificate (docs/workloads.md §5).
 * Row-major throughout: B[(k*m + j)*p + c], X[i*p + c], T[i*d + a]. */
#ifndef SB_ENCODE_H
#define SB_ENCODE_H

#include <stdint.h>

#include "common.h"

struct sb_row_parity; /* src/parity.h */

typedef enum { SB_BASIS_EUCLIDEAN = 0, SB_BASIS_PERIODIC = 1 } sb_basis_kind;
typedef enum { SB_GATE_SOFTMAX = 0, SB_GATE_IBP = 1, SB_GATE_JUMPRELU = 2 } sb_gate_kind;

/* Atlas limits (docs/workloads.md §5). */
#define SB_ENCODE_ATLAS_POINTS 16    /* points per axis over [−0.5, 0.5], both ends */
#define SB_ENCODE_ATLAS_MAX 512      /* at most this many chart centres */
#define SB_ENCODE_CANDIDATES 4       /* charts tried per row */
#define SB_ENCODE_REFINE 2           /* Newton refinement steps after certification */
#define SB_ENCODE_REFINE_TOL 1e-12   /* a refinement step is skipped once ‖δ‖ ≤ this·(1 + ‖t‖₂) */
#define SB_ENCODE_MAX_NEWTON 32      /* Newton steps per candidate before giving up */
#define SB_ENCODE_MAX_D 4
#define SB_ENCODE_MAX_M 64           /* the per-row routine keeps m-vectors in registers */

/* Generator parameters (a shape's encode fields). */
typedef struct sb_encode_params {
    int64_t n, p, K, d, D;
    sb_basis_kind basis;
    sb_gate_kind gate;
    double noise;            /* standard deviation-like scale of the additive noise */
    uint64_t seed;
} sb_encode_params;

/* The problem: decoders and rows with their atom and amplitude. */
typedef struct sb_encode_problem {
    int64_t n, p, K, d, D, m;
    sb_basis_kind basis;
    double *B;               /* K·m·p */
    double *X;               /* n·p */
    int32_t *atom;           /* n, in [0, K) */
    double *z;               /* n, > 0 */
    double *t_true;          /* n·d ground truth (generator), or NULL (real data) */
} sb_encode_problem;

/* The atlas: chart centres shared by every atom, and per (atom, chart)
 * constants computed once from the decoders (setup, not per-row math). */
typedef struct sb_encode_atlas {
    int64_t K, d, m, charts, points;
    double radius;           /* R = 1/points (1/16 unless reduced) */
    double *centre;          /* charts·d */
    /* per (k, c), index k*charts + c: */
    double *phi;             /* ·m     Φ(t_c) */
    double *dphi;            /* ·d·m   ∂_aΦ(t_c), a-major */
    double *Minv;            /* ·d·d   (J₁J₁ᵀ + 1e-9 I)⁻¹ with J₁ = (B_kᵀ∂_aΦ(t_c))_a (unit amplitude) */
    double *beta_c;          /* ·1     1/λ_min(J₁J₁ᵀ + 1e-9 I) */
    double *m1_sq;           /* ·1     ‖B_kᵀΦ(t_c)‖² */
    /* per atom k: */
    double *S;               /* K      Σ_j ‖B_k,j‖ (row norms of B_k) */
    double *G;               /* K·m·m  B_k·B_kᵀ */
} sb_encode_atlas;

/* Per-row result of an encode (reference or fast path). */
typedef struct sb_encode_result {
    double *t;               /* n·d coordinates (0 when not certified) */
    double *h;               /* n   Kantorovich quantity at acceptance (INFINITY when not certified) */
    double *recon_err;       /* n   ‖z·B_kᵀΦ(t) − x‖ (‖x‖ when not certified) */
    int32_t *chart;          /* n   chart of the kept candidate, −1 when not certified */
    int32_t *steps;          /* n   Newton steps taken (navigation + refine) */
} sb_encode_result;

/* ---------------------- setup: src/encode_setup.c ---------------------- */

/* m, the number of basis functions: euclidean C(d+D, D), periodic 2D + 1.
 * 0 when invalid: d < 1, D < 1, periodic with d != 1, an unknown kind, or a
 * count that overflows int64. */
int64_t sb_encode_basis_size(sb_basis_kind basis, int64_t d, int64_t D);

/* SB_OK, or SB_E_INPUT with one line naming the first bad parameter: an
 * unknown basis or gate, n, p or K < 1, K above INT32_MAX, d outside
 * [1, SB_ENCODE_MAX_D], D < 1, periodic with d != 1, m > SB_ENCODE_MAX_M
 * ("D too large"), noise negative, NaN or infinite, storage that overflows. */
sb_rc sb_encode_check_params(const sb_encode_params *prm, sb_err *err);

/* Bytes the generated problem holds (B, X, atom, z, t_true); 0 on overflow.
 * For a caller's memory check; the atlas is small beside it. */
uint64_t sb_encode_problem_bytes(const sb_encode_params *prm);

/* The fixture (docs/workloads.md §5 "Fixture"): one SplitMix64 stream from
 * prm->seed, exactly as documented there and in encode_setup.c; a pure
 * function of *prm (bit-identical for any thread count). Checks prm first.
 * On failure *prob is empty (safe to free). */
sb_rc sb_encode_generate(const sb_encode_params *prm, sb_encode_problem *prob, sb_err *err);
void sb_encode_problem_free(sb_encode_problem *prob);

/* Points per axis of the chart grid: 16, fewer while points^d > 512
 * (d = 1, 2: 16; d = 3: 8; d = 4: 4). */
int64_t sb_encode_atlas_points(int64_t d);

/* The atlas of prob (every field of sb_encode_atlas). Charts are numbered
 * row-major over the grid, axis 0 slowest: chart c has grid index i_a =
 * (c / P^(d-1-a)) % P and centre t_c,a = −0.5 + i_a/(P − 1). A chart is the
 * ∞-norm ball ‖t − t_c‖∞ ≤ R. beta_c = INFINITY and Minv = 0 where
 * λ_min(J₁J₁ᵀ + 1e-9 I) ≤ 0 in floating point (a degenerate decoder).
 * On failure *atlas is empty (safe to free). */
sb_rc sb_encode_atlas_build(const sb_encode_problem *prob, sb_encode_atlas *atlas, sb_err *err);
void sb_encode_atlas_free(sb_encode_atlas *atlas);

/* The derivative bounds M_0..M_3 of chart c: with ρ = ‖t_c‖∞ + R,
 *   euclidean  M_g = d^g·D^g·max(ρ^(D−g), 1)  (docs/workloads.md §5)
 *   periodic   M_g = (2πD)^g                   (|∂^g sin/cos(2πνt)| ≤ (2πν)^g, ν ≤ D)
 * The basis is periodic iff atlas->d == 1 and atlas->m == 2D + 1 (euclidean
 * d = 1 has m = D + 1). All four are INFINITY when m fits neither. */
void sb_encode_lipschitz_moments(const sb_encode_atlas *atlas, int64_t c, int64_t D, double M[4]);

/* L = 3(Z·S·M₁)(Z·S·M₂) + (T + Z·S·M₀)(Z·S·M₃), S = atlas->S[k]: a Lipschitz
 * constant (spectral norm) of the full Hessian H(t) of ½‖z·B_kᵀΦ(t) − x‖²
 * for every z ≤ Z and ‖x‖ ≤ T, valid on the box ‖t‖∞ ≤
 * sb_encode_lipschitz_region(). The per-row choice Z = z_i, T = ‖x_i‖ is the
 * tightest rigorous one, and the one the reference uses. */
double sb_encode_lipschitz(const sb_encode_atlas *atlas, int64_t k, int64_t c, int64_t D, double Z, double T);

/* Half-width of the box ‖t‖∞ ≤ ρ̄ on which chart c's M_g (so L) bound the
 * basis derivatives: euclidean ρ̄ = max(ρ, 1) (for |t_a| ≤ 1 every monomial
 * derivative of order g ≤ |α| is ≤ |α|^g ≤ D^g); periodic INFINITY. A
 * Kantorovich ball B(t, 2η) inside this box makes the certificate rigorous. */
double sb_encode_lipschitz_region(const sb_encode_atlas *atlas, int64_t c, int64_t D);

/* Result arrays for n rows of dimension d, initialised to "not certified":
 * t = 0, h = INFINITY, recon_err = 0, chart = −1, steps = 0. */
sb_rc sb_encode_result_alloc(sb_encode_result *res, int64_t n, int64_t d, sb_err *err);
void sb_encode_result_free(sb_encode_result *res);

/* Quality of a result over a row set (row0, row0 + stride, …, rows rows) and
 * its agreement with a second result (ref; may be NULL). A row is certified
 * iff chart ≥ 0. Reconstructions x̂ = z·B_kᵀΦ(t) for certified rows, 0 for
 * fallbacks, recomputed here from t (the results' recon_err is not trusted).
 * Coordinate differences are per coordinate, max over coordinates; on the
 * circle (|Δ − round(Δ)|) for the periodic basis. */
typedef struct sb_encode_quality {
    int64_t rows;                      /* rows in the set */
    int64_t certified_rows;            /* rows res certified */
    double fallback_rate;              /* 1 − certified_rows/rows */
    double explained_variance;         /* 1 − Σ‖x − x̂‖²/Σ‖x − x̄‖², x̄ the column mean over the set; NaN when Σ‖x − x̄‖² = 0 */
    int has_truth;                     /* the problem carries t_true */
    double max_coord_err_vs_truth;     /* max over rows res certified of |t − t*|; 0 when none */
    int has_ref;                       /* ref given: the fields below are set (else 0) */
    int64_t agree_rows;                /* rows where both certify or both fall back */
    int64_t both_certified_rows;
    double support_agreement;          /* agree_rows/rows */
    double max_coord_abs_err;          /* all rows, stored coordinates (0 for a fallback) */
    double max_coord_abs_err_certified;/* rows both certified only */
    double max_reconstruction_abs_err; /* all rows: max_c |x̂_res,c − x̂_ref,c| (x̂ = 0 for a fallback) */
    double max_reconstruction_abs_err_certified; /* rows both certified only */
} sb_encode_quality;

sb_rc sb_encode_metrics(const sb_encode_problem *prob, const sb_encode_result *res,
                        const sb_encode_result *ref, int64_t row0, int64_t rows, int64_t stride,
                        sb_encode_quality *q, sb_err *err);

/* ----------------- the CPU reference: src/oracle/oracle_encode.c ----------------- */

/* Encode rows row0, row0 + stride, …  (rows of them) with the reference
 * algorithm (the header of oracle_encode.c says it step by step), writing only
 * those rows of res (allocated for prob->n rows, e.g. sb_encode_result_alloc).
 * Per row: t (periodic wrapped to [−0.5, 0.5)), h at acceptance, recon_err
 * ‖z·B_kᵀΦ(t) − x‖, chart, steps = Newton updates over every candidate tried;
 * no certificate: t = 0, h = INFINITY, recon_err = ‖x‖, chart = −1.
 * SB_E_INPUT for a row set outside the problem, an atlas of another problem,
 * an atom outside [0, K) or z not finite and > 0. Threaded over rows; the
 * result does not depend on the thread count. */
sb_rc sb_encode_reference(const sb_encode_problem *prob, const sb_encode_atlas *atlas, int64_t row0, int64_t rows,
                          int64_t stride, sb_encode_result *res, sb_err *err);

/* The reference's own basis evaluation (for tests): Φ (m), ∂_aΦ (d·m,
 * a-major), ∂_a∂_bΦ (d·d·m, index (a·d + b)·m + j); any may be NULL. Writes
 * nothing for sizes the basis does not support. */
void sb_encode_ref_basis(sb_basis_kind basis, int64_t d, int64_t D, const double *t, double *phi, double *dphi,
                         double *d2phi);

/* The reference's objective at t for atom k, amplitude z and row x (p): f =
 * ½‖z·B_kᵀΦ(t) − x‖², gradient (d) and full Hessian H (d·d), all over p.
 * f may be NULL. */
sb_rc sb_encode_ref_objective(const sb_encode_problem *prob, int64_t k, double z, const double *x, const double *t,
                              double *f, double *grad, double *H, sb_err *err);

/* The reference's conditioning of row i at coordinates t (d): beta = 1/λ_min(H(t)) of the full Hessian over p (NaN when H is
 * not positive definite or not finite) and grad_scale G = max_a Σ_c
 * (Σ_j |z·∂_aΦ_j(t)·B_k,jc|)·(Σ_j |z·Φ_j(t)·B_k,jc| + |x_c|), the magnitude
 * of the terms that form the gradient (src/parity.h, the per-row rule).
 * SB_E_INPUT for a row outside the problem or a bad atom or amplitude. */
sb_rc sb_encode_ref_conditioning(const sb_encode_problem *prob, int64_t i, const double *t, double *beta,
                                 double *grad_scale, sb_err *err);

/* EN-001's per-row parity (src/parity.h, docs/verdict.md "Parity"): over
 * rows row0, row0 + stride, … (rows of them) compare res's coordinates with
 * ref's (the reference's). A row judged: fe = max_a |Δt_a| (on the circle
 * for the periodic basis; a row one certifies and the other does not
 * compares the certified coordinates with 0, as the metrics do; a row
 * neither certifies has fe = 0), β and G at the reference's t, or at res's
 * where only res certified, s = SB_ENCODE_REFINE_TOL·(1 + ‖t‖₂), N = p.
 * worst is the row of the largest ratio (a NaN ratio counts as the worst;
 * the earliest row on ties, so the first row when every ratio is 0; a row
 * neither certifies has NaN β, G, s and bound and ratio 0). Threaded over
 * rows; *worst is untouched on failure. */
sb_rc sb_encode_ref_parity(const sb_encode_problem *prob, const sb_encode_result *res, const sb_encode_result *ref,
                           int64_t row0, int64_t rows, int64_t stride, struct sb_row_parity *worst, sb_err *err);

/* One candidate of the reference, for tests and for diagnosing a
 * disagreement with the fast path: row i from chart c's warm start through
 * navigation and refinement. *certified = 1 with t (d, not wrapped), h at
 * acceptance and the reconstruction error, else 0 (t untouched); steps =
 * Newton updates applied. */
sb_rc sb_encode_ref_candidate(const sb_encode_problem *prob, const sb_encode_atlas *atlas, int64_t i, int64_t c,
                              int *certified, double *t, double *h, double *recon_err, int32_t *steps, sb_err *err);

#endif
