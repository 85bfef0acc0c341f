/* Independent dense references. These never share code with a backend's math:
 * the oracle forms the full Gram with a general DGEMM through the row-major
 * interface and calls LAPACKE dposv, where backends use dsyrk/potrf/potrs on
 * triangles (or the dual form). Agreement is therefore evidence, not echo. */
#ifndef SB_ORACLE_DENSE_H
#define SB_ORACLE_DENSE_H

#include <stdint.h>

#include "../common.h"

/* β of (Xᵀ diag(w) X + ridge·I) β = rhs, X n×p row-major. */
sb_rc sb_oracle_resident_solve(int64_t n, int64_t p, const double *X, const double *w,
                               const double *rhs, double ridge, double *beta, sb_err *err);

/* ‖a − b‖∞ / ‖b‖∞ and ‖a − b‖∞ (abs may be NULL). NaN anywhere gives NaN. */
double sb_rel_inf_err(const double *a, const double *b, int64_t len, double *abs_err);

#endif
