/* --factor auto and --precision auto for resident-solve: which factorization
 * variant a device runs for a shape class, decided by committed GPU
 * measurements, never by a guess, and whether the first solve keeps mixed
 * precision. Each row of the factor table names the verdicts under results/
 * that showed the variant faster than the library, engaged and at parity, on
 * that class; a class with no row runs the library. The table is empty until
 * a GPU session commits such a measurement (docs/workloads.md §1). */
#include <stddef.h>
#include <string.h>

#include "backend.h"

typedef struct factor_row {
    int cc_major;         /* the device generation measured (9: Hopper) */
    sb_method method;
    int64_t n_lo, n_hi;   /* order of the factored system, inclusive */
    const char *variant;  /* "blocked" | "tiled" */
    const char *evidence; /* the committed verdicts, library and variant side by side */
} factor_row;

static const factor_row ROWS[] = {
    /* none yet: no variant has been measured on a GPU */
    {0, SB_METHOD_PRIMAL, 0, 0, NULL, NULL},
};

const char *sb_factor_auto(int cc_major, sb_method method, int64_t N, const char **why)
{
    for (size_t k = 0; k < sizeof ROWS / sizeof ROWS[0]; k++) {
        const factor_row *r = &ROWS[k];
        if (r->variant && r->cc_major == cc_major && r->method == method && N >= r->n_lo && N <= r->n_hi) {
            *why = r->evidence;
            return r->variant;
        }
    }
    *why = "auto: no committed GPU measurement shows a variant faster than the library for this shape class";
    return "library";
}

int sb_factor_is_own(const char *factor)
{
    return factor && strcmp(factor, "library") != 0 && strcmp(factor, "auto") != 0;
}

int sb_precision_auto_decide(sb_rs_solve_info *first)
{
    const int mixed = !first->fallback && first->iterations <= SB_REFINE_AUTO_MAX;
    first->auto_choice = mixed ? "mixed: the first solve's refinement converged within the auto limit"
                         : first->fallback ? "fp64: the first solve fell back to FP64"
                                           : "fp64: the first solve's refinement needed more iterations than the auto limit";
    return mixed;
}
