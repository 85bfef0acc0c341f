/* CPU stand-in for <cuda_runtime.h>. TEST-ONLY (tests/standin/README.md).
 * The C API lives in cuda_runtime_api.h; this adds the C++ conveniences the
 * real header has (typed cudaMalloc/cudaMallocHost, cudaEventCreate with
 * flags). The kernel-launch layer (__global__, dim3, <<<>>>) is not here yet. */
#ifndef SAEBENCH_STANDIN_CUDA_RUNTIME_H
#define SAEBENCH_STANDIN_CUDA_RUNTIME_H

#include "cuda_runtime_api.h"

#ifdef __cplusplus
template <class T> static inline cudaError_t cudaMalloc(T **devPtr, size_t size)
{
    return ::cudaMalloc((void **)(void *)devPtr, size);
}

extern "C" cudaError_t standin_malloc_host_flags(void **ptr, size_t size, unsigned int flags);

template <class T> static inline cudaError_t cudaMallocHost(T **ptr, size_t size, unsigned int flags = 0)
{
    return standin_malloc_host_flags((void **)(void *)ptr, size, flags);
}

static inline cudaError_t cudaEventCreate(cudaEvent_t *event, unsigned int flags)
{
    return ::cudaEventCreateWithFlags(event, flags);
}

template <class T> static inline cudaError_t cudaFuncSetAttribute(T *entry, enum cudaFuncAttribute attr, int value)
{
    return ::cudaFuncSetAttribute((const void *)entry, attr, value);
}
#endif

#endif
