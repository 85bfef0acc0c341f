/* resident-solve --precision mixed on the CUDA backend: the FP32 system, its
 * cuSOLVER factor and the FP64 refinement rounds on the device
 * (cuda/rs_mixed.cu; kernels in rs_mixed_kernels.cuh). rs_backend.cu owns
 * the FP64 state and lends it through rs_mixed_ctx; this module owns only
 * the FP32 buffers and the refinement state. */
#ifndef SB_RS_MIXED_H
#define SB_RS_MIXED_H

#include <stdint.h>

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusolverDn.h>

#include "rs_mixed_params.h"

extern "C" {
#include "backend.h"
}

/* What the FP64 state lends (device pointers are the FP64 state's). */
struct rs_mixed_ctx {
    cudaStream_t stream;
    cublasHandle_t blas;
    cusolverDnHandle_t solver;
    cusolverDnParams_t params;
    int64_t n, p, N; /* N: order of the system, n (dual) or p (primal) */
    int dual;
    double ridge;
    const double *Xt;  /* p×n column-major */
    const double *w;   /* n, this rep's weights */
    const double *K;   /* dual: X·Xᵀ, n×n lower */
    const double *b;   /* the right-hand side: dual X·rhs (n), primal rhs (p) */
    sb_telemetry *tel; /* counts every call and launch made here */
};

struct rs_mixed {
    float *Af;        /* N×N: the FP32 system, factored in place */
    float *Kf;        /* dual: K in FP32 (per frame) */
    float *Xsf;       /* primal: float(Xt·diag(√w)), p×n */
    float *c;         /* N: the FP32 right-hand side / correction */
    double *x;        /* N: the refined solution */
    double *r;        /* N: the FP64 residual */
    double *t;        /* primal: n, W·(Xtᵀx) */
    double *sums;     /* N: row sums of |K| (dual, per frame) or of |Af| (primal) */
    double *parts;    /* ceil(N/64)·N: their per-tile parts (rsm_abs_sums_tiles) */
    double *anrm;     /* 1: ‖A‖∞ of this solve's system */
    int *info32;      /* 2: Xpotrf's status (FP32), then Xpotrs's scratch */
    int *status;      /* SB_RSM_STATUS_INTS, device */
    int *status_pin;  /* SB_RSM_STATUS_INTS, pinned host */
    void *work_d;
    size_t work_d_bytes;
    void *work_h;
    size_t work_h_bytes;
    int rounds;       /* rounds enqueued per rep before the status is read */
};

/* Allocate (everything, once) and, for the dual form, make the frame. */
sb_rc rs_mixed_create(rs_mixed *m, const rs_mixed_ctx *c, sb_err *err);
/* Dual: Kf = float(K) and the row sums of |K|; after every rebuild of K. */
sb_rc rs_mixed_frame(rs_mixed *m, const rs_mixed_ctx *c, sb_err *err);
/* Enqueue the FP32 system of this rep's w (and ‖A‖∞). */
sb_rc rs_mixed_build(rs_mixed *m, const rs_mixed_ctx *c, sb_err *err);
/* Enqueue the FP32 factorization (status into info32, read by rsm_check). */
sb_rc rs_mixed_factor(rs_mixed *m, const rs_mixed_ctx *c, sb_err *err);
/* Enqueue refinement rounds first..first+count-1 (round 0 starts from b and
 * is the first FP32 solve); each ends with rsm_check. */
sb_rc rs_mixed_rounds(rs_mixed *m, const rs_mixed_ctx *c, int first, int count, sb_err *err);
/* Enqueue the status download into status_pin (read it after a synchronise). */
sb_rc rs_mixed_status(rs_mixed *m, const rs_mixed_ctx *c, sb_err *err);
void rs_mixed_destroy(rs_mixed *m);

#endif
