/* C++ use of the stand-in's headers, as the cuda/ sources will use them: the typed
 * cudaMalloc/cudaMallocHost templates, cudaEventCreate with flags, the default
 * stream arguments, the cublas_v2.h macros, standin_enqueue with a lambda and
 * standin_fail_messages(). Called from test_standin.c. TEST-ONLY. */
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusolverDn.h>

#include "standin.h"

#define CHECK(c)                     \
    do {                             \
        if (!(c))                    \
            return __LINE__;         \
    } while (0)

extern "C" int standin_cxx_smoke(void)
{
    double *d = nullptr;
    int *pin = nullptr;
    CHECK(cudaMalloc(&d, 4 * sizeof(double)) == cudaSuccess);
    CHECK(cudaMallocHost(&pin, sizeof(int)) == cudaSuccess);
    CHECK(cudaMallocHost(&pin, sizeof(int), 1u) == cudaErrorInvalidValue);
    cudaStream_t s;
    CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking) == cudaSuccess);
    cudaEvent_t e;
    CHECK(cudaEventCreate(&e, cudaEventDisableTiming) == cudaSuccess);

    /* queued work may touch device memory; host code may not (guard) */
    CHECK(standin_enqueue(s, [d]() { d[0] = 42.0; }, "kernel-like") == cudaSuccess);
    double h = 0;
    CHECK(cudaMemcpyAsync(&h, d, sizeof h, cudaMemcpyDeviceToHost, s) == cudaSuccess);
    CHECK(cudaEventRecord(e, s) == cudaSuccess);
    CHECK(standin_is_pending_poison(&h, sizeof h) && h != h); /* pending: the poison, a NaN */
    CHECK(cudaEventSynchronize(e) == cudaSuccess);
    CHECK(h == 42.0);

    /* default stream argument: the legacy stream */
    CHECK(cudaMemsetAsync(d, 0, sizeof(double)) == cudaSuccess);
    CHECK(cudaMemcpyAsync(&h, d, sizeof h, cudaMemcpyDeviceToHost) == cudaSuccess);
    CHECK(cudaStreamSynchronize(0) == cudaSuccess);
    CHECK(h == 0.0);

    cublasHandle_t b;
    CHECK(cublasCreate(&b) == CUBLAS_STATUS_SUCCESS);
    CHECK(cublasSetStream(b, s) == CUBLAS_STATUS_SUCCESS);
    CHECK(cublasDestroy(b) == CUBLAS_STATUS_SUCCESS);
    cusolverDnHandle_t sol;
    CHECK(cusolverDnCreate(&sol) == CUSOLVER_STATUS_SUCCESS);
    CHECK(cusolverDnDestroy(sol) == CUSOLVER_STATUS_SUCCESS);

    standin_fail_clear();
    CHECK(cudaFree(d + 1) == cudaErrorInvalidValue);
    const std::vector<std::string> msgs = standin_fail_messages();
    CHECK(msgs.size() == 1 && msgs[0].find("not the start of an allocation") != std::string::npos);

    CHECK(cudaEventDestroy(e) == cudaSuccess);
    CHECK(cudaStreamDestroy(s) == cudaSuccess);
    CHECK(cudaFreeHost(pin) == cudaSuccess);
    CHECK(cudaFree(d) == cudaSuccess);
    return 0;
}
