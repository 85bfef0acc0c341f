/* Host launcher of the primal Gram kernel; the kernel, its launch plan and
 * the reasoning behind both are in rs_gram.cuh. */
#include "rs_gram.h"

#include <limits.h>

#include "rs_gram.cuh"

int sb_gram_splits(int64_t p, int64_t n, int sms)
{
    if (p < 1 || n < 1)
        return 1;
    return rs_gram_splits(p, n, sms);
}

size_t sb_gram_work_bytes(int64_t p, int64_t n, int splits)
{
    if (p < 1 || n < 1 || splits < 1)
        return 0;
    const int nchunks = rs_gram_nchunks(n, rs_gram_kchunk(n, splits, RS_GRAM_KB));
    if (nchunks < 2)
        return 0;
    return (size_t)rs_gram_partials(p, nchunks, RS_GRAM_T) * sizeof(double) +
           (size_t)rs_gram_ntiles(p, RS_GRAM_T) * sizeof(unsigned);
}

cudaError_t sb_launch_gram_wsyrk(const double *Xt, int64_t p, int64_t n, const double *w,
                                 double ridge, double *G, int64_t ldg, int splits, void *work,
                                 cudaStream_t stream)
{
    if (p < 1 || n < 1 || p > INT_MAX || n > INT_MAX || ldg < p || splits < 1)
        return cudaErrorInvalidValue;
    const int64_t kchunk = rs_gram_kchunk(n, splits, RS_GRAM_KB);
    const int nchunks = rs_gram_nchunks(n, kchunk);
    const int64_t blocks = rs_gram_ntiles(p, RS_GRAM_T) * nchunks;
    if (kchunk > INT_MAX || blocks > INT_MAX || (nchunks > 1 && !work))
        return cudaErrorInvalidValue;
    double *partials = nchunks > 1 ? (double *)work : NULL;
    unsigned *counts =
        nchunks > 1 ? (unsigned *)(partials + rs_gram_partials(p, nchunks, RS_GRAM_T)) : NULL;
    SB_LAUNCH(rs_gram_wsyrk, (unsigned)blocks, RS_GRAM_THREADS, 0, stream)(
        Xt, (int)p, (int)n, w, ridge, G, ldg, nchunks, (int)kchunk, partials, counts);
    return cudaGetLastError();
}
