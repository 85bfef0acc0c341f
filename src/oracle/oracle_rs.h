/* Independent dense references. These never share code with a backend's math:
 * the oracle forms the full Gram with a general DGEMM through the row-major
 * interface and calls LAPACKE dposv, where backends use dsyrk/potrf/potrs on
 * triangles (or the dual form). Agreement is therefore evidence, not echo. */
#ifndef SB_ORACLE_DENSE_H
#define SB_ORACLE_DENSE_H

#include <stdint.h>

#include "../common.h"
#include "../parity.h"

/* β of (Xᵀ diag(w) X + ridge·I) β = rhs, X n×p row-major. */
sb_rc sb_oracle_resident_solve(int64_t n, int64_t p, const double *X, const double *w,
                               const double *rhs, double ridge, double *beta, sb_err *err);

/* The oracle's β of the same system into ref, and the parity of beta
 * against it (src/parity.h): both scaled residuals on the oracle's G, κ̂ from
 * dpocon on its factor, the forward error, bound and ratio. O(p²) beyond the
 * oracle's own solve; nothing beyond the matrix it forms. */
sb_rc sb_oracle_rs_check(int64_t n, int64_t p, const double *X, const double *w, const double *rhs, double ridge,
                         const double *beta, double *ref, sb_solve_parity *out, sb_err *err);

/* κ̂₁ = ‖A‖₁·est(‖A⁻¹‖₁) of an SPD A from its Cholesky factor (column-major,
 * uplo 'U': A = UᵀU, 'L': A = LLᵀ, leading dimension ld): Hager–Higham's
 * 1-norm estimator (LAPACK dlacn2, as dpocon uses it) with each A⁻¹x as two
 * BLAS triangular solves — dpocon's own solves are dlatrs, scaled against
 * overflow and unblocked, about 3× the time. ∞ when a solve overflows or
 * rcond is 0; NaN when anorm is NaN. O(n²) per solve, 2 to 11 solves. */
double sb_oracle_kappa_chol(char uplo, int64_t n, const double *factor, int64_t ld, double anorm);

/* ‖a − b‖∞ / ‖b‖∞ and ‖a − b‖∞ (abs may be NULL). NaN anywhere gives NaN. */
double sb_rel_inf_err(const double *a, const double *b, int64_t len, double *abs_err);

#endif
