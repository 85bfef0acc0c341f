/* Deterministic fixtures (docs/workloads.md §0 Generators, §1 and §2 Fixture).
 * Exact formulas: tests pin values. */
#ifndef SB_FIXTURE_H
#define SB_FIXTURE_H

#include <stdint.h>

/* The resident-solve LCG: each draw advances
 * s <- s*6364136223846793005 + 1442695040888963407 (mod 2^64), then yields
 * u = (s>>11)/2^53*2 - 1 in [-1, 1). */
typedef struct sb_lcg {
    uint64_t state;
} sb_lcg;

void sb_lcg_seed(sb_lcg *g, uint64_t seed);
double sb_lcg_uniform(sb_lcg *g);

/* SplitMix64 (docs/workloads.md §0 Generators), u = (next>>11)/2^53*2 - 1. */
typedef struct sb_splitmix {
    uint64_t state;
} sb_splitmix;

void sb_splitmix_seed(sb_splitmix *g, uint64_t seed);
uint64_t sb_splitmix_next(sb_splitmix *g);
double sb_splitmix_uniform(sb_splitmix *g);

/* resident-solve system: X = 0.05*u row-major (n*p draws), then
 * w0_i = |u| + 1e-3 (n draws); rhs_j = cos((j+1)*0.03). The generator is left
 * positioned after w0 so every later solve draws a fresh w from the stream. */
void sb_rs_fixture_X(sb_lcg *g, int64_t n, int64_t p, double *X);
void sb_rs_fixture_w(sb_lcg *g, int64_t n, double *w);
void sb_rs_fixture_rhs(int64_t p, double *rhs);

#endif
