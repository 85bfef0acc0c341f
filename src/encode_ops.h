/* The encode fast path's interface (docs/workloads.md §5), implemented by the
 * host (sb_host_encode_ops, src/host/host_encode.c) and the CUDA backend
 * (sb_cuda_encode_ops, cuda/encode_backend.cu, only in CUDA builds), so the
 * command times both the same way. The per-row math of both is
 * src/hostdev/encode_row.cuh; the CPU reference (src/oracle/oracle_encode.c) shares
 * none of it.
 *
 * Life of a state:
 *   create(prob, atlas)  the resident part: the decoders B (K·m·p) and the
 *                        atlas tables (centres, phi, dphi, Minv, beta_c,
 *                        m1_sq, S, G). Buffers for up to prob->n rows are
 *                        allocated here, once; encode() allocates
 *                        nothing (the CUDA backend allocates its grouped
 *                        copy of X at the first upload of a batch that is
 *                        not already grouped by atom).
 *                        prob and atlas must outlive the state.
 *   upload(batch)        stage a batch: X (n·p), atom (n), z (n) from batch
 *                        (batch->n ≤ create's prob->n; p, K, d, D, m, basis
 *                        equal to create's; batch->B is not read: the
 *                        decoders are create's). Checks every atom index
 *                        and amplitude (SB_E_INPUT naming the first bad row). The batch's
 *                        arrays must stay valid until the next upload.
 *   encode(out)          encode the staged batch and fill out (every array of
 *                        out sized for batch->n rows). Synchronous: when it
 *                        returns the results are in host memory. It does all
 *                        per-batch work (grouping rows by atom, ‖x‖², the
 *                        GEMM Y = X·B_kᵀ, the per-row routine), so a timed
 *                        encode() of a resident batch is a full encode.
 *   run(batch, out)      upload + encode: a batch from host memory.
 * Calling encode() twice on one upload gives the same bits.
 *
 * A device implementation declines (SB_E_NODEVICE, with the reason) batches
 * below SB_ENCODE_DEVICE_MIN_ROWS rows. */
#ifndef SB_ENCODE_OPS_H
#define SB_ENCODE_OPS_H

#include "backend.h"
#include "common.h"
#include "encode.h"

/* The device path runs only for batches of at least this many rows
 * (docs/workloads.md §5, The fast path). */
#define SB_ENCODE_DEVICE_MIN_ROWS 4096

typedef struct sb_encode_ops {
    sb_rc (*create)(const sb_encode_problem *prob, const sb_encode_atlas *atlas, void **state,
                    sb_err *err);
    sb_rc (*upload)(void *state, const sb_encode_problem *batch, sb_err *err);
    sb_rc (*encode)(void *state, sb_encode_result *out, sb_err *err);
    sb_rc (*run)(void *state, const sb_encode_problem *batch, sb_encode_result *out, sb_err *err);
    void (*telemetry)(const void *state, sb_telemetry *t);
    void (*destroy)(void *state);
} sb_encode_ops;

extern const sb_encode_ops sb_host_encode_ops; /* src/host/host_encode.c */

/* Helpers both implementations use (src/host/host_encode.c). */
/* The fast path's limits: 1 ≤ d ≤ SB_ENCODE_MAX_D, periodic only with d = 1,
 * m = the basis size ≤ SB_ENCODE_MAX_M, n ≥ 1, p ≥ 1, K ≥ 1, the atlas of the
 * same K, d, m with 1..SB_ENCODE_ATLAS_MAX charts, sizes within BLAS's int,
 * and every array present. SB_E_INPUT naming the first violation. */
sb_rc sb_encode_fast_check(const sb_encode_problem *prob, const sb_encode_atlas *atlas, sb_err *err);
/* A batch for a state created with prob: same p, K, d, D, m, basis;
 * 1 ≤ n ≤ prob->n; X, atom, z present. SB_E_INPUT otherwise. */
sb_rc sb_encode_batch_check(const sb_encode_problem *prob, const sb_encode_problem *batch, sb_err *err);
/* Group a batch's rows by atom (stable counting sort): perm[r] is the
 * original index of the r-th row in atom order, rows of atom k at
 * r ∈ [offset[k], offset[k+1]) (offset has K+1 entries); *identity = 1 when
 * perm is the identity (the batch is already grouped). SB_E_INPUT naming the
 * first row whose atom is outside [0, K) or whose z is not finite and > 0. */
sb_rc sb_encode_group_rows(const sb_encode_problem *batch, int64_t K, int32_t *perm, int64_t *offset,
                           int *identity, sb_err *err);
/* sb_cuda_encode_ops: cuda/encode_backend.h (CUDA builds only). */

#endif
