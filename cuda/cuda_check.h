/* Error checks for CUDA runtime, cuBLAS and cuSOLVER calls. Unlike llm.c's
 * cudaCheck these never exit: a gate tool must still write its verdict, so
 * each macro fills the sb_err named by its first argument with
 * "call: STATUS_NAME (description) (file:line)" and returns SB_E_RUNTIME from
 * the enclosing function (which must return sb_rc). */
#ifndef SB_CUDA_CHECK_H
#define SB_CUDA_CHECK_H

#include <stddef.h>

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusolverDn.h>

extern "C" {
#include "common.h"
}

/* "cudaMalloc(&p, n)" -> "cudaMalloc": the called function's name. */
static inline const char *sb_call_name(const char *expr, char *buf, size_t cap)
{
    size_t i = 0;
    while (expr[i] && expr[i] != '(' && expr[i] != ' ' && i + 1 < cap) {
        buf[i] = expr[i];
        i++;
    }
    buf[i] = '\0';
    return buf;
}

static inline const char *sb_cusolver_status_name(cusolverStatus_t s)
{
    switch (s) {
    case CUSOLVER_STATUS_SUCCESS: return "CUSOLVER_STATUS_SUCCESS";
    case CUSOLVER_STATUS_NOT_INITIALIZED: return "CUSOLVER_STATUS_NOT_INITIALIZED";
    case CUSOLVER_STATUS_ALLOC_FAILED: return "CUSOLVER_STATUS_ALLOC_FAILED";
    case CUSOLVER_STATUS_INVALID_VALUE: return "CUSOLVER_STATUS_INVALID_VALUE";
    case CUSOLVER_STATUS_ARCH_MISMATCH: return "CUSOLVER_STATUS_ARCH_MISMATCH";
    case CUSOLVER_STATUS_MAPPING_ERROR: return "CUSOLVER_STATUS_MAPPING_ERROR";
    case CUSOLVER_STATUS_EXECUTION_FAILED: return "CUSOLVER_STATUS_EXECUTION_FAILED";
    case CUSOLVER_STATUS_INTERNAL_ERROR: return "CUSOLVER_STATUS_INTERNAL_ERROR";
    case CUSOLVER_STATUS_MATRIX_TYPE_NOT_SUPPORTED: return "CUSOLVER_STATUS_MATRIX_TYPE_NOT_SUPPORTED";
    case CUSOLVER_STATUS_NOT_SUPPORTED: return "CUSOLVER_STATUS_NOT_SUPPORTED";
    case CUSOLVER_STATUS_ZERO_PIVOT: return "CUSOLVER_STATUS_ZERO_PIVOT";
    case CUSOLVER_STATUS_INVALID_LICENSE: return "CUSOLVER_STATUS_INVALID_LICENSE";
    case CUSOLVER_STATUS_INVALID_WORKSPACE: return "CUSOLVER_STATUS_INVALID_WORKSPACE";
    default: return "CUSOLVER_STATUS_(other)";
    }
}

#define SB_CUDA_TRY(err, call)                                                                   \
    do {                                                                                         \
        const cudaError_t sb_e_ = (call);                                                        \
        if (sb_e_ != cudaSuccess) {                                                              \
            char sb_n_[64];                                                                      \
            return sb_fail((err), SB_E_RUNTIME, "%s: %s (%s) (%s:%d)",                           \
                           sb_call_name(#call, sb_n_, sizeof sb_n_), cudaGetErrorName(sb_e_),    \
                           cudaGetErrorString(sb_e_), __FILE__, __LINE__);                       \
        }                                                                                        \
    } while (0)

#define SB_CUBLAS_TRY(err, call)                                                                 \
    do {                                                                                         \
        const cublasStatus_t sb_s_ = (call);                                                     \
        if (sb_s_ != CUBLAS_STATUS_SUCCESS) {                                                    \
            char sb_n_[64];                                                                      \
            return sb_fail((err), SB_E_RUNTIME, "%s: %s (%s) (%s:%d)",                           \
                           sb_call_name(#call, sb_n_, sizeof sb_n_), cublasGetStatusName(sb_s_), \
                           cublasGetStatusString(sb_s_), __FILE__, __LINE__);                    \
        }                                                                                        \
    } while (0)

#define SB_CUSOLVER_TRY(err, call)                                                               \
    do {                                                                                         \
        const cusolverStatus_t sb_s_ = (call);                                                   \
        if (sb_s_ != CUSOLVER_STATUS_SUCCESS) {                                                  \
            char sb_n_[64];                                                                      \
            return sb_fail((err), SB_E_RUNTIME, "%s: %s (%s:%d)",                                \
                           sb_call_name(#call, sb_n_, sizeof sb_n_),                             \
                           sb_cusolver_status_name(sb_s_), __FILE__, __LINE__);                  \
        }                                                                                        \
    } while (0)

/* For our own kernels: call is a launcher returning cudaGetLastError(). */
#define SB_LAUNCH_TRY(err, call) SB_CUDA_TRY(err, call)

/* What every device state opens first and closes last: one non-blocking
 * stream with a cuBLAS handle on it (host pointer mode) and, when solver is
 * given, a cuSOLVER handle and its params. Each handle created adds one to
 * *handle_creations (the telemetry counter). close() takes what open() left,
 * whatever it got to; NULL or zero members are skipped. */
static inline sb_rc sb_cuda_lib_open(cudaStream_t *stream, cublasHandle_t *blas, cusolverDnHandle_t *solver,
                                     cusolverDnParams_t *params, long long *handle_creations, sb_err *err)
{
    SB_CUDA_TRY(err, cudaStreamCreateWithFlags(stream, cudaStreamNonBlocking));
    SB_CUBLAS_TRY(err, cublasCreate(blas));
    ++*handle_creations;
    SB_CUBLAS_TRY(err, cublasSetStream(*blas, *stream));
    SB_CUBLAS_TRY(err, cublasSetPointerMode(*blas, CUBLAS_POINTER_MODE_HOST));
    if (!solver)
        return SB_OK;
    SB_CUSOLVER_TRY(err, cusolverDnCreate(solver));
    ++*handle_creations;
    SB_CUSOLVER_TRY(err, cusolverDnSetStream(*solver, *stream));
    SB_CUSOLVER_TRY(err, cusolverDnCreateParams(params));
    return SB_OK;
}

static inline void sb_cuda_lib_close(cudaStream_t stream, cublasHandle_t blas, cusolverDnHandle_t solver,
                                     cusolverDnParams_t params)
{
    if (params)
        cusolverDnDestroyParams(params);
    if (solver)
        cusolverDnDestroy(solver);
    if (blas)
        cublasDestroy(blas);
    if (stream)
        cudaStreamDestroy(stream);
    cudaGetLastError(); /* teardown errors have nowhere to go */
}

#include "launch.h" /* SB_LAUNCH, at the end: no line above moves */

#endif
