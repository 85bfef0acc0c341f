#include "rs_fixture.h"

#include <math.h>

void sb_lcg_seed(sb_lcg *g, uint64_t seed) { g->state = seed; }

double sb_lcg_uniform(sb_lcg *g)
{
    g->state = g->state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(g->state >> 11) / 9007199254740992.0 * 2.0 - 1.0;
}

void sb_splitmix_seed(sb_splitmix *g, uint64_t seed) { g->state = seed; }

uint64_t sb_splitmix_next(sb_splitmix *g)
{
    g->state += 0x9E3779B97F4A7C15ULL;
    uint64_t z = g->state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

double sb_splitmix_uniform(sb_splitmix *g)
{
    return (double)(sb_splitmix_next(g) >> 11) / 9007199254740992.0 * 2.0 - 1.0;
}

void sb_rs_fixture_X(sb_lcg *g, int64_t n, int64_t p, double *X)
{
    int64_t total = n * p;
    for (int64_t k = 0; k < total; k++)
        X[k] = 0.05 * sb_lcg_uniform(g);
}

void sb_rs_fixture_w(sb_lcg *g, int64_t n, double *w)
{
    for (int64_t i = 0; i < n; i++)
        w[i] = fabs(sb_lcg_uniform(g)) + 1e-3;
}

void sb_rs_fixture_rhs(int64_t p, double *rhs)
{
    for (int64_t j = 0; j < p; j++)
        rhs[j] = cos((double)(j + 1) * 0.03);
}
