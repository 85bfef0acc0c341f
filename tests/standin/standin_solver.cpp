/* The cuSOLVER part of the CPU stand-in: dense handles, params, and the
 * 64-bit generic Cholesky routines, computed by LAPACKE (column-major) when
 * the stream reaches them. TEST-ONLY (tests/standin/README.md).
 *
 * Validation follows the cuSOLVER documentation of cusolverDnXpotrf and
 * cusolverDnXpotrs (cuSOLVER Library, "Dense Linear Algebra APIs", 64-bit
 * API): INVALID_VALUE for n < 0, nrhs < 0, lda < max(1, n), ldb < max(1, n);
 * the valid data/compute type combinations are the table's (real
 * CUDA_R_32F/CUDA_R_64F only here: the complex ones give NOT_SUPPORTED). In
 * addition (stand-in rules): A, B, the device workspace and info must be live
 * device memory of the sizes involved and the host workspace must be host
 * memory, else INVALID_VALUE; the workspace sizes passed to Xpotrf must be at
 * least what cusolverDnXpotrf_bufferSize returns for the same n and types,
 * else INVALID_VALUE. info is written to device memory when the work runs:
 * 0, or for Xpotrf k > 0 when the leading minor of order k is not positive
 * definite. */
#include <lapacke.h>

#include <cstring>
#include <map>
#include <memory>

#include "cusolverDn.h"
#include "standin_internal.h"

struct cusolverDnContext {
    cudaStream_t stream = nullptr;
};

struct cusolverDnParams {
    int unused = 0;
};

namespace standin {
namespace {

registry<cusolverDnContext> &handles()
{
    static registry<cusolverDnContext> h;
    return h;
}

registry<cusolverDnParams> &params_set()
{
    static registry<cusolverDnParams> p;
    return p;
}

cusolverStatus_t sol_fail(cusolverStatus_t s, const std::string &msg)
{
    note_failure(msg);
    return s;
}

#define SOL_REQUIRE(cond, ...)                                                  \
    do {                                                                        \
        if (!(cond))                                                            \
            return sol_fail(CUSOLVER_STATUS_INVALID_VALUE, fmt(__VA_ARGS__));   \
    } while (0)

#define SOL_TRY(expr)                                   \
    do {                                                \
        const cusolverStatus_t sol_s_ = (expr);         \
        if (sol_s_ != CUSOLVER_STATUS_SUCCESS)          \
            return sol_s_;                              \
    } while (0)

const char *type_name(cudaDataType t)
{
    switch (t) {
    case CUDA_R_32F: return "CUDA_R_32F";
    case CUDA_R_64F: return "CUDA_R_64F";
    case CUDA_C_32F: return "CUDA_C_32F";
    case CUDA_C_64F: return "CUDA_C_64F";
    default: return "(other cudaDataType)";
    }
}

cusolverStatus_t need_handle(const char *api, cusolverDnHandle_t h)
{
    if (!handles().has(h))
        return sol_fail(CUSOLVER_STATUS_NOT_INITIALIZED,
                        fmt("%s: handle %s was not created by cusolverDnCreate (or was destroyed)", api,
                            ptr_str(h).c_str()));
    return CUSOLVER_STATUS_SUCCESS;
}

cusolverStatus_t need_params(const char *api, cusolverDnParams_t p)
{
    if (!params_set().has(p))
        return sol_fail(CUSOLVER_STATUS_INVALID_VALUE,
                        fmt("%s: params %s was not created by cusolverDnCreateParams (or was destroyed)", api,
                            ptr_str(p).c_str()));
    return CUSOLVER_STATUS_SUCCESS;
}

/* The element size of a supported real type; 0 otherwise (with the status). */
cusolverStatus_t real_type(const char *api, const char *what, cudaDataType data, cudaDataType other,
                           const char *other_what, size_t *elem)
{
    const bool complex_ok = (data == CUDA_C_32F || data == CUDA_C_64F) && other == data;
    if (complex_ok)
        return sol_fail(CUSOLVER_STATUS_NOT_SUPPORTED,
                        fmt("%s: %s=%s is valid but the stand-in implements the real types only", api, what,
                            type_name(data)));
    if ((data != CUDA_R_32F && data != CUDA_R_64F) || other != data)
        return sol_fail(CUSOLVER_STATUS_INVALID_VALUE,
                        fmt("%s: %s=%s with %s=%s is not a valid combination (%s/%s for S, %s/%s for D)", api, what,
                            type_name(data), other_what, type_name(other), "CUDA_R_32F", "CUDA_R_32F", "CUDA_R_64F",
                            "CUDA_R_64F"));
    *elem = data == CUDA_R_64F ? 8 : 4;
    return CUSOLVER_STATUS_SUCCESS;
}

size_t mat_bytes(int64_t rows, int64_t cols, int64_t ld, size_t elem)
{
    if (rows <= 0 || cols <= 0)
        return 0;
    return ((size_t)(cols - 1) * (size_t)ld + (size_t)rows) * elem;
}

cusolverStatus_t need_device(const char *api, const char *name, const void *p, size_t bytes)
{
    const std::string why = device_range_problem(p, bytes);
    if (why.empty())
        return CUSOLVER_STATUS_SUCCESS;
    return sol_fail(CUSOLVER_STATUS_INVALID_VALUE,
                    fmt("%s: %s (%zu bytes at %s) %s", api, name, bytes, ptr_str(p).c_str(), why.c_str()));
}

/* What the stand-in's _bufferSize reports (deterministic in n and the type;
 * never 0, so that callers must honour it). */
size_t potrf_device_bytes(int64_t n, size_t elem) { return (size_t)(64 * (n > 0 ? n : 0) + 256) * elem; }
constexpr size_t kPotrfHostBytes = 64;

cusolverStatus_t potrf_common(const char *api, cusolverDnHandle_t h, cusolverDnParams_t p, cublasFillMode_t uplo,
                              int64_t n, cudaDataType dataTypeA, int64_t lda, cudaDataType computeType, size_t *elem)
{
    SOL_TRY(need_handle(api, h));
    SOL_TRY(need_params(api, p));
    SOL_REQUIRE(uplo == CUBLAS_FILL_MODE_LOWER || uplo == CUBLAS_FILL_MODE_UPPER,
                "%s: uplo=%d is not CUBLAS_FILL_MODE_LOWER or CUBLAS_FILL_MODE_UPPER", api, (int)uplo);
    SOL_REQUIRE(n >= 0, "%s: n=%lld < 0", api, (long long)n);
    SOL_REQUIRE(lda >= (n > 1 ? n : 1), "%s: lda=%lld < max(1,n)=%lld", api, (long long)lda,
                (long long)(n > 1 ? n : 1));
    SOL_REQUIRE(n <= 0x7fffffff && lda <= 0x7fffffff, "%s: n or lda beyond what the stand-in's LAPACKE takes", api);
    return real_type(api, "dataTypeA", dataTypeA, computeType, "computeType", elem);
}

cusolverStatus_t submit(const char *api, cusolverDnHandle_t h, std::function<void()> fn)
{
    if (!stream_valid(h->stream))
        return sol_fail(CUSOLVER_STATUS_EXECUTION_FAILED,
                        fmt("%s: the handle's stream %s is no longer a live stream", api, ptr_str(h->stream).c_str()));
    if (enqueue(h->stream, api, std::move(fn)) != cudaSuccess)
        return sol_fail(CUSOLVER_STATUS_EXECUTION_FAILED,
                        fmt("%s: the work could not be queued on stream %s", api, ptr_str(h->stream).c_str()));
    return CUSOLVER_STATUS_SUCCESS;
}

}  // namespace

void solver_reset()
{
    handles().clear();
    params_set().clear();
}

}  // namespace standin

using namespace standin;

extern "C" cusolverStatus_t cusolverDnCreate(cusolverDnHandle_t *handle)
{
    STANDIN_LOCK;
    if (!handle)
        return sol_fail(CUSOLVER_STATUS_INVALID_VALUE, "cusolverDnCreate: handle is NULL");
    if (!runtime_has_device())
        return sol_fail(CUSOLVER_STATUS_NOT_INITIALIZED, "cusolverDnCreate: the CUDA runtime initialization failed");
    *handle = handles().add();
    return CUSOLVER_STATUS_SUCCESS;
}

extern "C" cusolverStatus_t cusolverDnDestroy(cusolverDnHandle_t handle)
{
    STANDIN_LOCK;
    SOL_TRY(need_handle("cusolverDnDestroy", handle));
    handles().drop(handle);
    return CUSOLVER_STATUS_SUCCESS;
}

extern "C" cusolverStatus_t cusolverDnSetStream(cusolverDnHandle_t handle, cudaStream_t streamId)
{
    STANDIN_LOCK;
    SOL_TRY(need_handle("cusolverDnSetStream", handle));
    if (!stream_valid(streamId))
        return sol_fail(CUSOLVER_STATUS_INVALID_VALUE,
                        fmt("cusolverDnSetStream: stream %s is not a live stream", ptr_str(streamId).c_str()));
    handle->stream = streamId;
    return CUSOLVER_STATUS_SUCCESS;
}

extern "C" cusolverStatus_t cusolverDnGetStream(cusolverDnHandle_t handle, cudaStream_t *streamId)
{
    STANDIN_LOCK;
    SOL_TRY(need_handle("cusolverDnGetStream", handle));
    if (!streamId)
        return sol_fail(CUSOLVER_STATUS_INVALID_VALUE, "cusolverDnGetStream: streamId is NULL");
    *streamId = handle->stream;
    return CUSOLVER_STATUS_SUCCESS;
}

extern "C" cusolverStatus_t cusolverDnCreateParams(cusolverDnParams_t *params)
{
    STANDIN_LOCK;
    if (!params)
        return sol_fail(CUSOLVER_STATUS_INVALID_VALUE, "cusolverDnCreateParams: params is NULL");
    *params = params_set().add();
    return CUSOLVER_STATUS_SUCCESS;
}

extern "C" cusolverStatus_t cusolverDnDestroyParams(cusolverDnParams_t params)
{
    STANDIN_LOCK;
    SOL_TRY(need_params("cusolverDnDestroyParams", params));
    params_set().drop(params);
    return CUSOLVER_STATUS_SUCCESS;
}

extern "C" cusolverStatus_t cusolverDnXpotrf_bufferSize(cusolverDnHandle_t handle, cusolverDnParams_t params,
                                                        cublasFillMode_t uplo, int64_t n, cudaDataType dataTypeA,
                                                        const void *A, int64_t lda, cudaDataType computeType,
                                                        size_t *workspaceInBytesOnDevice,
                                                        size_t *workspaceInBytesOnHost)
{
    const char *api = "cusolverDnXpotrf_bufferSize";
    STANDIN_LOCK;
    size_t elem = 0;
    SOL_TRY(potrf_common(api, handle, params, uplo, n, dataTypeA, lda, computeType, &elem));
    SOL_REQUIRE(workspaceInBytesOnDevice && workspaceInBytesOnHost, "%s: a workspace-size pointer is NULL", api);
    (void)A; /* only its type matters for the query */
    *workspaceInBytesOnDevice = potrf_device_bytes(n, elem);
    if (fault_take(FAULT_WORKSPACE_SHORT)) { /* injected: the query under-reports by one byte */
        *workspaceInBytesOnDevice -= 1;
        note_failure(fmt("injected fault workspace_short: %s reports %zu bytes, %zu needed", api,
                         *workspaceInBytesOnDevice, *workspaceInBytesOnDevice + 1));
    }
    *workspaceInBytesOnHost = kPotrfHostBytes;
    return CUSOLVER_STATUS_SUCCESS;
}

extern "C" cusolverStatus_t cusolverDnXpotrf(cusolverDnHandle_t handle, cusolverDnParams_t params,
                                             cublasFillMode_t uplo, int64_t n, cudaDataType dataTypeA, void *A,
                                             int64_t lda, cudaDataType computeType, void *bufferOnDevice,
                                             size_t workspaceInBytesOnDevice, void *bufferOnHost,
                                             size_t workspaceInBytesOnHost, int *info)
{
    const char *api = "cusolverDnXpotrf";
    STANDIN_LOCK;
    size_t elem = 0;
    SOL_TRY(potrf_common(api, handle, params, uplo, n, dataTypeA, lda, computeType, &elem));
    const size_t need_dev = potrf_device_bytes(n, elem);
    SOL_REQUIRE(workspaceInBytesOnDevice >= need_dev,
                "%s: workspaceInBytesOnDevice=%zu < %zu returned by cusolverDnXpotrf_bufferSize", api,
                workspaceInBytesOnDevice, need_dev);
    SOL_REQUIRE(workspaceInBytesOnHost >= kPotrfHostBytes,
                "%s: workspaceInBytesOnHost=%zu < %zu returned by cusolverDnXpotrf_bufferSize", api,
                workspaceInBytesOnHost, kPotrfHostBytes);
    SOL_TRY(need_device(api, "bufferOnDevice", bufferOnDevice, workspaceInBytesOnDevice));
    SOL_REQUIRE(bufferOnHost && !in_arena(bufferOnHost), "%s: bufferOnHost must be host memory, but it is %s", api,
                describe_ptr(bufferOnHost).c_str());
    SOL_TRY(need_device(api, "info", info, sizeof(int)));
    const size_t abytes = mat_bytes(n, n, lda, elem);
    if (n > 0)
        SOL_TRY(need_device(api, "A", A, abytes));
    const char u = uplo == CUBLAS_FILL_MODE_LOWER ? 'L' : 'U';
    const bool dbl = elem == 8;
    return submit(api, handle, [=]() {
        if (!exec_device_ok(info, sizeof(int), "cusolverDnXpotrf info") ||
            !exec_device_ok(bufferOnDevice, workspaceInBytesOnDevice, "cusolverDnXpotrf bufferOnDevice"))
            return;
        if (n > 0 && !exec_device_ok(A, abytes, "cusolverDnXpotrf A"))
            return;
        /* The workspaces are scribbled over, as the library may. */
        memset(bufferOnDevice, 0xEE, workspaceInBytesOnDevice);
        memset(bufferOnHost, 0xEE, workspaceInBytesOnHost);
        lapack_int r = 0;
        if (n > 0)
            r = dbl ? LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, u, (lapack_int)n, (double *)A, (lapack_int)lda)
                    : LAPACKE_spotrf_work(LAPACK_COL_MAJOR, u, (lapack_int)n, (float *)A, (lapack_int)lda);
        *info = (int)r;
    });
}

extern "C" cusolverStatus_t cusolverDnXpotrs(cusolverDnHandle_t handle, cusolverDnParams_t params,
                                             cublasFillMode_t uplo, int64_t n, int64_t nrhs, cudaDataType dataTypeA,
                                             const void *A, int64_t lda, cudaDataType dataTypeB, void *B, int64_t ldb,
                                             int *info)
{
    const char *api = "cusolverDnXpotrs";
    STANDIN_LOCK;
    SOL_TRY(need_handle(api, handle));
    SOL_TRY(need_params(api, params));
    SOL_REQUIRE(uplo == CUBLAS_FILL_MODE_LOWER || uplo == CUBLAS_FILL_MODE_UPPER,
                "%s: uplo=%d is not CUBLAS_FILL_MODE_LOWER or CUBLAS_FILL_MODE_UPPER", api, (int)uplo);
    SOL_REQUIRE(n >= 0, "%s: n=%lld < 0", api, (long long)n);
    SOL_REQUIRE(nrhs >= 0, "%s: nrhs=%lld < 0", api, (long long)nrhs);
    SOL_REQUIRE(lda >= (n > 1 ? n : 1), "%s: lda=%lld < max(1,n)=%lld", api, (long long)lda,
                (long long)(n > 1 ? n : 1));
    SOL_REQUIRE(ldb >= (n > 1 ? n : 1), "%s: ldb=%lld < max(1,n)=%lld", api, (long long)ldb,
                (long long)(n > 1 ? n : 1));
    SOL_REQUIRE(n <= 0x7fffffff && nrhs <= 0x7fffffff && lda <= 0x7fffffff && ldb <= 0x7fffffff,
                "%s: sizes beyond what the stand-in's LAPACKE takes", api);
    size_t elem = 0;
    SOL_TRY(real_type(api, "dataTypeA", dataTypeA, dataTypeB, "dataTypeB", &elem));
    SOL_TRY(need_device(api, "info", info, sizeof(int)));
    const size_t abytes = mat_bytes(n, n, lda, elem), bbytes = mat_bytes(n, nrhs, ldb, elem);
    if (n > 0)
        SOL_TRY(need_device(api, "A", A, abytes));
    if (n > 0 && nrhs > 0)
        SOL_TRY(need_device(api, "B", B, bbytes));
    const char u = uplo == CUBLAS_FILL_MODE_LOWER ? 'L' : 'U';
    const bool dbl = elem == 8;
    return submit(api, handle, [=]() {
        if (!exec_device_ok(info, sizeof(int), "cusolverDnXpotrs info"))
            return;
        if (n > 0 && !exec_device_ok(A, abytes, "cusolverDnXpotrs A"))
            return;
        if (n > 0 && nrhs > 0 && !exec_device_ok(B, bbytes, "cusolverDnXpotrs B"))
            return;
        lapack_int r = 0;
        if (n > 0 && nrhs > 0)
            r = dbl ? LAPACKE_dpotrs_work(LAPACK_COL_MAJOR, u, (lapack_int)n, (lapack_int)nrhs, (const double *)A,
                                          (lapack_int)lda, (double *)B, (lapack_int)ldb)
                    : LAPACKE_spotrs_work(LAPACK_COL_MAJOR, u, (lapack_int)n, (lapack_int)nrhs, (const float *)A,
                                          (lapack_int)lda, (float *)B, (lapack_int)ldb);
        *info = (int)r;
    });
}
