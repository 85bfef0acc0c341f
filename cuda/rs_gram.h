/* Host launcher of the primal Gram kernel (cuda/rs_gram.cuh): lower(G) =
 * Xt·diag(w)·Xtᵀ + ridge·I on the FP64 tensor cores, split over the samples
 * with a deterministic combine. Returns cudaGetLastError() after the launch,
 * so a bad configuration is reported at the call site. C linkage, like
 * rs_kernels.h. */
#ifndef SB_RS_GRAM_H
#define SB_RS_GRAM_H

#include <stddef.h>
#include <stdint.h>

#include <cuda_runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Sample chunks per output tile for a Gram of order p over n samples on a
 * device with `sms` SMs (the launch plan of rs_gram.cuh). Fixed for a given
 * (p, n, sms): keep it in the state and pass it to every launch, so results
 * are bit-identical from run to run. */
int sb_gram_splits(int64_t p, int64_t n, int sms);

/* Bytes of the workspace sb_launch_gram_wsyrk needs with `splits`: partial
 * tiles and one counter per tile; 0 when the plan has a single chunk. The
 * caller allocates it once and zeroes it once (cudaMemsetAsync); every
 * launch leaves its counters at zero again, so no per-call reset is needed
 * and launches may be captured in a CUDA graph and replayed. */
size_t sb_gram_work_bytes(int64_t p, int64_t n, int splits);

/* lower(G) = Xt·diag(w)·Xtᵀ + ridge·I. Xt: p×n column-major (column i =
 * row i of X), w: n weights, G: column-major with ldg >= p; only G's lower
 * p×p triangle is written. One launch on `stream`, no allocation, no host
 * synchronisation. work: sb_gram_work_bytes(p, n, splits) bytes (may be
 * NULL when that is 0). cudaErrorInvalidValue on bad sizes. */
cudaError_t sb_launch_gram_wsyrk(const double *Xt, int64_t p, int64_t n, const double *w,
                                 double ridge, double *G, int64_t ldg, int splits, void *work,
                                 cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#include "launch.h" /* SB_LAUNCH, at the end: no line above moves */

#endif
