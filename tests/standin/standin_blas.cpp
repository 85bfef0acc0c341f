/* The cuBLAS part of the CPU stand-in: handles and the BLAS routines
 * saebench calls, computed by CBLAS (column-major) when the stream reaches
 * them. TEST-ONLY (tests/standin/README.md).
 *
 * Each routine validates its arguments the way the cuBLAS documentation's
 * return-value table for it lists (cuBLAS Library, section 2.6 "cuBLAS
 * Level-2 Function Reference" and 2.7 "cuBLAS Level-3 Function Reference"),
 * and in addition (stand-in rules, stricter than the hardware):
 *   - every matrix/vector argument must be live device memory covering the
 *     elements the call touches, and alpha/beta must live where the pointer
 *     mode says (host memory for CUBLAS_POINTER_MODE_HOST, device memory for
 *     CUBLAS_POINTER_MODE_DEVICE): CUBLAS_STATUS_INVALID_VALUE otherwise;
 *   - a call on a capturing stream needs a workspace given by
 *     cublasSetWorkspace after the handle's last cublasSetStream:
 *     CUBLAS_STATUS_NOT_SUPPORTED otherwise (and the capture is invalidated).
 * Host-mode scalars are read at the call (their values are captured, as the
 * cuBLAS "CUDA Graphs Support" section says); device-mode scalars when the
 * work runs. */
#include <cblas.h>

#include <cstring>
#include <map>
#include <memory>

#include "cublas_api.h"
#include "standin_internal.h"

struct cublasContext {
    cudaStream_t stream = nullptr;
    cublasPointerMode_t pointer_mode = CUBLAS_POINTER_MODE_HOST;
    void *workspace = nullptr;
    size_t workspace_bytes = 0;
    bool user_workspace = false;
};

namespace standin {
namespace {

registry<cublasContext> &handles()
{
    static registry<cublasContext> h;
    return h;
}

bool live(cublasHandle_t h) { return handles().has(h); }

cublasStatus_t blas_fail(cublasStatus_t s, const std::string &msg)
{
    note_failure(msg);
    return s;
}

bool valid_op(cublasOperation_t op) { return op == CUBLAS_OP_N || op == CUBLAS_OP_T || op == CUBLAS_OP_C; }
bool valid_fill(cublasFillMode_t f) { return f == CUBLAS_FILL_MODE_LOWER || f == CUBLAS_FILL_MODE_UPPER; }
int imax1(int v) { return v > 1 ? v : 1; }

const char *op_name(cublasOperation_t op)
{
    switch (op) {
    case CUBLAS_OP_N: return "CUBLAS_OP_N";
    case CUBLAS_OP_T: return "CUBLAS_OP_T";
    case CUBLAS_OP_C: return "CUBLAS_OP_C";
    default: return "(invalid)";
    }
}

CBLAS_TRANSPOSE cb_op(cublasOperation_t op) { return op == CUBLAS_OP_N ? CblasNoTrans : CblasTrans; }
CBLAS_UPLO cb_uplo(cublasFillMode_t f) { return f == CUBLAS_FILL_MODE_LOWER ? CblasLower : CblasUpper; }

/* Bytes a column-major rows x cols matrix with leading dimension ld spans. */
size_t mat_bytes(int rows, int cols, int ld, size_t elem)
{
    if (rows <= 0 || cols <= 0)
        return 0;
    return ((size_t)(cols - 1) * (size_t)ld + (size_t)rows) * elem;
}

/* Bytes a vector of n elements with increment inc spans. */
size_t vec_bytes(int n, int inc, size_t elem)
{
    if (n <= 0)
        return 0;
    const size_t ainc = (size_t)(inc < 0 ? -(long long)inc : inc);
    return ((size_t)(n - 1) * ainc + 1) * elem;
}

/* A matrix/vector operand: live device memory covering bytes. */
cublasStatus_t need_device(const char *api, const char *name, const void *p, size_t bytes, const std::string &shape)
{
    const std::string why = device_range_problem(p, bytes);
    if (why.empty())
        return CUBLAS_STATUS_SUCCESS;
    return blas_fail(CUBLAS_STATUS_INVALID_VALUE,
                     fmt("%s: %s (%s, %zu bytes at %s) %s", api, name, shape.c_str(), bytes, ptr_str(p).c_str(),
                         why.c_str()));
}

/* A scalar per the pointer mode; in host mode its value is copied now. */
template <class T>
cublasStatus_t scalar(const char *api, const char *name, cublasHandle_t h, const T *p, T *value)
{
    if (!p)
        return blas_fail(CUBLAS_STATUS_INVALID_VALUE, fmt("%s: %s is NULL", api, name));
    if (h->pointer_mode == CUBLAS_POINTER_MODE_HOST) {
        if (in_arena(p))
            return blas_fail(CUBLAS_STATUS_INVALID_VALUE,
                             fmt("%s: %s is a %s but the pointer mode is CUBLAS_POINTER_MODE_HOST", api, name,
                                 describe_ptr(p).c_str()));
        *value = *p;
        return CUBLAS_STATUS_SUCCESS;
    }
    const std::string why = device_range_problem(p, sizeof(T));
    if (!why.empty())
        return blas_fail(CUBLAS_STATUS_INVALID_VALUE,
                         fmt("%s: %s %s %s but the pointer mode is CUBLAS_POINTER_MODE_DEVICE", api, name,
                             ptr_str(p).c_str(), why.c_str()));
    return CUBLAS_STATUS_SUCCESS;
}

/* The value of a scalar at execution time. */
template <class T> bool scalar_at_exec(const std::string &what, bool device_mode, const T *p, T host_value, T *out)
{
    if (!device_mode) {
        *out = host_value;
        return true;
    }
    if (!exec_device_ok(p, sizeof(T), what))
        return false;
    *out = *p;
    return true;
}

/* Common preflight: the handle. */
cublasStatus_t need_handle(const char *api, cublasHandle_t h)
{
    if (!live(h))
        return blas_fail(CUBLAS_STATUS_NOT_INITIALIZED,
                         fmt("%s: handle %s was not created by cublasCreate (or was destroyed)", api,
                             ptr_str(h).c_str()));
    return CUBLAS_STATUS_SUCCESS;
}

/* Queues the work on the handle's stream; in capture, only with a user
 * workspace (stand-in rule, see the file comment). */
cublasStatus_t submit(const char *api, cublasHandle_t h, std::function<void()> fn)
{
    const int cs = capture_state(h->stream);
    if (cs == CAPTURE_BAD_STREAM)
        return blas_fail(CUBLAS_STATUS_EXECUTION_FAILED,
                         fmt("%s: the handle's stream %s is no longer a live stream", api, ptr_str(h->stream).c_str()));
    if (cs == CAPTURE_ACTIVE && !h->user_workspace) {
        invalidate_capture(h->stream, fmt("%s captured without cublasSetWorkspace", api));
        return blas_fail(CUBLAS_STATUS_NOT_SUPPORTED,
                         fmt("%s: called while the handle's stream %s is capturing, but the handle has no "
                             "workspace of its own: call cublasSetWorkspace (after cublasSetStream, which resets "
                             "it) before the capture (stand-in rule; see the cuBLAS \"CUDA Graphs Support\" and "
                             "cublasSetWorkspace sections)",
                             api, ptr_str(h->stream).c_str()));
    }
    if (enqueue(h->stream, api, std::move(fn)) != cudaSuccess)
        return blas_fail(CUBLAS_STATUS_EXECUTION_FAILED, fmt("%s: the work could not be queued on stream %s", api,
                                                             ptr_str(h->stream).c_str()));
    return CUBLAS_STATUS_SUCCESS;
}

#define BLAS_REQUIRE(cond, ...)                                              \
    do {                                                                     \
        if (!(cond))                                                         \
            return blas_fail(CUBLAS_STATUS_INVALID_VALUE, fmt(__VA_ARGS__)); \
    } while (0)

#define BLAS_TRY(expr)                                   \
    do {                                                 \
        const cublasStatus_t blas_s_ = (expr);           \
        if (blas_s_ != CUBLAS_STATUS_SUCCESS)            \
            return blas_s_;                              \
    } while (0)

template <class T> struct Blas;
template <> struct Blas<double> {
    static void syrk(CBLAS_UPLO u, CBLAS_TRANSPOSE t, int n, int k, double a, const double *A, int lda, double b,
                     double *C, int ldc)
    {
        cblas_dsyrk(CblasColMajor, u, t, n, k, a, A, lda, b, C, ldc);
    }
};
template <> struct Blas<float> {
    static void syrk(CBLAS_UPLO u, CBLAS_TRANSPOSE t, int n, int k, float a, const float *A, int lda, float b,
                     float *C, int ldc)
    {
        cblas_ssyrk(CblasColMajor, u, t, n, k, a, A, lda, b, C, ldc);
    }
};

/* standin_set_fault("ld_short"): the routine sees lda one smaller. */
int injected_lda(const char *api, int lda)
{
    if (!fault_take(FAULT_LD_SHORT))
        return lda;
    note_failure(fmt("injected fault ld_short: %s lda %d -> %d", api, lda, lda - 1));
    return lda - 1;
}

/* cublas<t>syrk (cuBLAS 2.7.7): C = alpha op(A) op(A)^T + beta C, C n x n
 * (uplo triangle only), op(A) n x k. INVALID_VALUE for n < 0 or k < 0, trans
 * not N/T/C, uplo not LOWER/UPPER, lda < max(1, n) if trans == N else
 * lda < max(1, k), ldc < max(1, n), alpha or beta NULL. */
template <class T>
cublasStatus_t syrk(const char *api, cublasHandle_t h, cublasFillMode_t uplo, cublasOperation_t trans, int n, int k,
                    const T *alpha, const T *A, int lda, const T *beta, T *C, int ldc)
{
    STANDIN_LOCK;
    BLAS_TRY(need_handle(api, h));
    lda = injected_lda(api, lda);
    BLAS_REQUIRE(n >= 0, "%s: n=%d < 0", api, n);
    BLAS_REQUIRE(k >= 0, "%s: k=%d < 0", api, k);
    BLAS_REQUIRE(valid_op(trans), "%s: trans=%d is not CUBLAS_OP_N, CUBLAS_OP_T or CUBLAS_OP_C", api, (int)trans);
    BLAS_REQUIRE(valid_fill(uplo), "%s: uplo=%d is not CUBLAS_FILL_MODE_LOWER or CUBLAS_FILL_MODE_UPPER", api,
                 (int)uplo);
    const int arows = trans == CUBLAS_OP_N ? n : k, acols = trans == CUBLAS_OP_N ? k : n;
    BLAS_REQUIRE(lda >= imax1(arows), "%s: lda=%d < max(1,%s)=%d (trans=%s)", api, lda,
                 trans == CUBLAS_OP_N ? "n" : "k", imax1(arows), op_name(trans));
    BLAS_REQUIRE(ldc >= imax1(n), "%s: ldc=%d < max(1,n)=%d", api, ldc, imax1(n));
    T a = 0, b = 0;
    BLAS_TRY(scalar(api, "alpha", h, alpha, &a));
    BLAS_TRY(scalar(api, "beta", h, beta, &b));
    if (n == 0)
        return CUBLAS_STATUS_SUCCESS;
    const size_t abytes = mat_bytes(arows, acols, lda, sizeof(T)), cbytes = mat_bytes(n, n, ldc, sizeof(T));
    if (k > 0)
        BLAS_TRY(need_device(api, "A", A, abytes, fmt("%d x %d, lda=%d", arows, acols, lda)));
    BLAS_TRY(need_device(api, "C", C, cbytes, fmt("%d x %d, ldc=%d", n, n, ldc)));
    const bool dev = h->pointer_mode == CUBLAS_POINTER_MODE_DEVICE;
    const std::string what = api;
    return submit(api, h, [=]() {
        T av, bv;
        if (!scalar_at_exec(what + " alpha", dev, alpha, a, &av) || !scalar_at_exec(what + " beta", dev, beta, b, &bv))
            return;
        if ((k > 0 && !exec_device_ok(A, abytes, what + " A")) || !exec_device_ok(C, cbytes, what + " C"))
            return;
        Blas<T>::syrk(cb_uplo(uplo), cb_op(trans), n, k, av, k > 0 ? A : C, lda, bv, C, ldc);
    });
}

}  // namespace

void blas_reset() { handles().clear(); }

}  // namespace standin

using namespace standin;

/* ---- helper functions (cuBLAS 2.4) ---------------------------------------- */

extern "C" cublasStatus_t cublasCreate_v2(cublasHandle_t *handle)
{
    STANDIN_LOCK;
    if (!handle)
        return blas_fail(CUBLAS_STATUS_INVALID_VALUE, "cublasCreate: handle is NULL");
    if (!runtime_has_device())
        return blas_fail(CUBLAS_STATUS_NOT_INITIALIZED, "cublasCreate: the CUDA runtime initialization failed");
    *handle = handles().add();
    return CUBLAS_STATUS_SUCCESS;
}

extern "C" cublasStatus_t cublasDestroy_v2(cublasHandle_t handle)
{
    STANDIN_LOCK;
    BLAS_TRY(need_handle("cublasDestroy", handle));
    /* "the release of those resources by calling cublasDestroy() will
     * implicitly call cudaDeviceSynchronize()" (cuBLAS 2.4.2) */
    drain_all_if_not_capturing();
    handles().drop(handle);
    return CUBLAS_STATUS_SUCCESS;
}

extern "C" cublasStatus_t cublasSetStream_v2(cublasHandle_t handle, cudaStream_t streamId)
{
    STANDIN_LOCK;
    BLAS_TRY(need_handle("cublasSetStream", handle));
    if (!stream_valid(streamId))
        return blas_fail(CUBLAS_STATUS_INVALID_VALUE,
                         fmt("cublasSetStream: stream %s is not a live stream", ptr_str(streamId).c_str()));
    handle->stream = streamId;
    /* "unconditionally resets the cuBLAS library workspace back to the
     * default workspace pool" (cuBLAS 2.4.7 cublasSetStream). */
    handle->workspace = nullptr;
    handle->workspace_bytes = 0;
    handle->user_workspace = false;
    return CUBLAS_STATUS_SUCCESS;
}

extern "C" cublasStatus_t cublasGetStream_v2(cublasHandle_t handle, cudaStream_t *streamId)
{
    STANDIN_LOCK;
    BLAS_TRY(need_handle("cublasGetStream", handle));
    if (!streamId)
        return blas_fail(CUBLAS_STATUS_INVALID_VALUE, "cublasGetStream: streamId is NULL");
    *streamId = handle->stream;
    return CUBLAS_STATUS_SUCCESS;
}

extern "C" cublasStatus_t cublasSetWorkspace_v2(cublasHandle_t handle, void *workspace, size_t workspaceSizeInBytes)
{
    STANDIN_LOCK;
    BLAS_TRY(need_handle("cublasSetWorkspace", handle));
    /* cuBLAS 2.4.8: INVALID_VALUE when the pointer is not 256-byte aligned. */
    if ((uintptr_t)workspace % 256 != 0)
        return blas_fail(CUBLAS_STATUS_INVALID_VALUE,
                         fmt("cublasSetWorkspace: workspace %s is not aligned to 256 bytes", ptr_str(workspace).c_str()));
    if (workspaceSizeInBytes > 0) {
        const std::string why = device_range_problem(workspace, workspaceSizeInBytes);
        if (!why.empty())
            return blas_fail(CUBLAS_STATUS_INVALID_VALUE,
                             fmt("cublasSetWorkspace: workspace %s (%zu bytes) %s", ptr_str(workspace).c_str(),
                                 workspaceSizeInBytes, why.c_str()));
    }
    handle->workspace = workspace;
    handle->workspace_bytes = workspaceSizeInBytes;
    handle->user_workspace = true;
    return CUBLAS_STATUS_SUCCESS;
}

extern "C" cublasStatus_t cublasSetPointerMode_v2(cublasHandle_t handle, cublasPointerMode_t mode)
{
    STANDIN_LOCK;
    BLAS_TRY(need_handle("cublasSetPointerMode", handle));
    if (mode != CUBLAS_POINTER_MODE_HOST && mode != CUBLAS_POINTER_MODE_DEVICE)
        return blas_fail(CUBLAS_STATUS_INVALID_VALUE,
                         fmt("cublasSetPointerMode: mode %d is not CUBLAS_POINTER_MODE_HOST or "
                             "CUBLAS_POINTER_MODE_DEVICE",
                             (int)mode));
    handle->pointer_mode = mode;
    return CUBLAS_STATUS_SUCCESS;
}

extern "C" cublasStatus_t cublasGetPointerMode_v2(cublasHandle_t handle, cublasPointerMode_t *mode)
{
    STANDIN_LOCK;
    BLAS_TRY(need_handle("cublasGetPointerMode", handle));
    if (!mode)
        return blas_fail(CUBLAS_STATUS_INVALID_VALUE, "cublasGetPointerMode: mode is NULL");
    *mode = handle->pointer_mode;
    return CUBLAS_STATUS_SUCCESS;
}

extern "C" const char *cublasGetStatusName(cublasStatus_t status)
{
    switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    case CUBLAS_STATUS_LICENSE_ERROR: return "CUBLAS_STATUS_LICENSE_ERROR";
    }
    return "CUBLAS_STATUS_UNKNOWN";
}

extern "C" const char *cublasGetStatusString(cublasStatus_t status)
{
    switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "the operation completed successfully";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "the library was not initialized";
    case CUBLAS_STATUS_ALLOC_FAILED: return "the resource allocation failed";
    case CUBLAS_STATUS_INVALID_VALUE: return "an invalid numeric value was used as an argument";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "an absent device architectural feature is required";
    case CUBLAS_STATUS_MAPPING_ERROR: return "an access to GPU memory space failed";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "the GPU program failed to execute";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "an internal operation failed";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "the functionality requested is not supported";
    case CUBLAS_STATUS_LICENSE_ERROR: return "error detected trying to check the license";
    }
    return "unknown error";
}

/* ---- Level 1 ---------------------------------------------------------------- */

/* cublas<t>axpy (cuBLAS Level-1 Function Reference): y = alpha x + y over n
 * elements, x[k·incx] and y[k·incy] (a negative increment walks from the
 * end, as in BLAS). n <= 0 does nothing. INVALID_VALUE for alpha NULL. */
extern "C" cublasStatus_t cublasDaxpy_v2(cublasHandle_t handle, int n, const double *alpha, const double *x,
                                         int incx, double *y, int incy)
{
    const char *api = "cublasDaxpy";
    STANDIN_LOCK;
    BLAS_TRY(need_handle(api, handle));
    double a = 0;
    BLAS_TRY(scalar(api, "alpha", handle, alpha, &a));
    if (n <= 0)
        return CUBLAS_STATUS_SUCCESS;
    const size_t xb = vec_bytes(n, incx, 8), yb = vec_bytes(n, incy, 8);
    BLAS_TRY(need_device(api, "x", x, xb, fmt("%d elements, incx=%d", n, incx)));
    BLAS_TRY(need_device(api, "y", y, yb, fmt("%d elements, incy=%d", n, incy)));
    const bool dev = handle->pointer_mode == CUBLAS_POINTER_MODE_DEVICE;
    return submit(api, handle, [=]() {
        double av;
        if (!scalar_at_exec<double>("cublasDaxpy alpha", dev, alpha, a, &av))
            return;
        if (!exec_device_ok(x, xb, "cublasDaxpy x") || !exec_device_ok(y, yb, "cublasDaxpy y"))
            return;
        cblas_daxpy(n, av, x, incx, y, incy);
    });
}

/* ---- Level 2 ---------------------------------------------------------------- */

/* cublas<t>gemv (cuBLAS 2.6.2): y = alpha op(A) x + beta y, A m x n.
 * INVALID_VALUE for m < 0 or n < 0, incx == 0 or incy == 0, trans not
 * N/T/C, lda < max(1, m), alpha or beta NULL. */
extern "C" cublasStatus_t cublasDgemv_v2(cublasHandle_t handle, cublasOperation_t trans, int m, int n,
                                         const double *alpha, const double *A, int lda, const double *x, int incx,
                                         const double *beta, double *y, int incy)
{
    const char *api = "cublasDgemv";
    STANDIN_LOCK;
    BLAS_TRY(need_handle(api, handle));
    lda = injected_lda(api, lda);
    BLAS_REQUIRE(m >= 0, "%s: m=%d < 0", api, m);
    BLAS_REQUIRE(n >= 0, "%s: n=%d < 0", api, n);
    BLAS_REQUIRE(incx != 0, "%s: incx=0", api);
    BLAS_REQUIRE(incy != 0, "%s: incy=0", api);
    BLAS_REQUIRE(valid_op(trans), "%s: trans=%d is not CUBLAS_OP_N, CUBLAS_OP_T or CUBLAS_OP_C", api, (int)trans);
    BLAS_REQUIRE(lda >= imax1(m), "%s: lda=%d < max(1,m)=%d", api, lda, imax1(m));
    double a = 0, b = 0;
    BLAS_TRY(scalar(api, "alpha", handle, alpha, &a));
    BLAS_TRY(scalar(api, "beta", handle, beta, &b));
    if (m == 0 || n == 0)
        return CUBLAS_STATUS_SUCCESS;
    const int xl = trans == CUBLAS_OP_N ? n : m, yl = trans == CUBLAS_OP_N ? m : n;
    const size_t ab = mat_bytes(m, n, lda, 8), xb = vec_bytes(xl, incx, 8), yb = vec_bytes(yl, incy, 8);
    BLAS_TRY(need_device(api, "A", A, ab, fmt("%d x %d, lda=%d", m, n, lda)));
    BLAS_TRY(need_device(api, "x", x, xb, fmt("%d elements, incx=%d", xl, incx)));
    BLAS_TRY(need_device(api, "y", y, yb, fmt("%d elements, incy=%d", yl, incy)));
    const bool dev = handle->pointer_mode == CUBLAS_POINTER_MODE_DEVICE;
    return submit(api, handle, [=]() {
        double av, bv;
        if (!scalar_at_exec<double>("cublasDgemv alpha", dev, alpha, a, &av) ||
            !scalar_at_exec<double>("cublasDgemv beta", dev, beta, b, &bv))
            return;
        if (!exec_device_ok(A, ab, "cublasDgemv A") || !exec_device_ok(x, xb, "cublasDgemv x") ||
            !exec_device_ok(y, yb, "cublasDgemv y"))
            return;
        cblas_dgemv(CblasColMajor, cb_op(trans), m, n, av, A, lda, x, incx, bv, y, incy);
    });
}

/* cublas<t>symv (cuBLAS 2.6.8): y = alpha A x + beta y, A n x n symmetric
 * (uplo triangle). INVALID_VALUE for n < 0, incx == 0 or incy == 0, uplo not
 * LOWER/UPPER, lda < max(1, n), alpha or beta NULL. */
extern "C" cublasStatus_t cublasDsymv_v2(cublasHandle_t handle, cublasFillMode_t uplo, int n, const double *alpha,
                                         const double *A, int lda, const double *x, int incx, const double *beta,
                                         double *y, int incy)
{
    const char *api = "cublasDsymv";
    STANDIN_LOCK;
    BLAS_TRY(need_handle(api, handle));
    lda = injected_lda(api, lda);
    BLAS_REQUIRE(n >= 0, "%s: n=%d < 0", api, n);
    BLAS_REQUIRE(incx != 0, "%s: incx=0", api);
    BLAS_REQUIRE(incy != 0, "%s: incy=0", api);
    BLAS_REQUIRE(valid_fill(uplo), "%s: uplo=%d is not CUBLAS_FILL_MODE_LOWER or CUBLAS_FILL_MODE_UPPER", api,
                 (int)uplo);
    BLAS_REQUIRE(lda >= imax1(n), "%s: lda=%d < max(1,n)=%d", api, lda, imax1(n));
    double a = 0, b = 0;
    BLAS_TRY(scalar(api, "alpha", handle, alpha, &a));
    BLAS_TRY(scalar(api, "beta", handle, beta, &b));
    if (n == 0)
        return CUBLAS_STATUS_SUCCESS;
    const size_t ab = mat_bytes(n, n, lda, 8), xb = vec_bytes(n, incx, 8), yb = vec_bytes(n, incy, 8);
    BLAS_TRY(need_device(api, "A", A, ab, fmt("%d x %d, lda=%d", n, n, lda)));
    BLAS_TRY(need_device(api, "x", x, xb, fmt("%d elements, incx=%d", n, incx)));
    BLAS_TRY(need_device(api, "y", y, yb, fmt("%d elements, incy=%d", n, incy)));
    const bool dev = handle->pointer_mode == CUBLAS_POINTER_MODE_DEVICE;
    return submit(api, handle, [=]() {
        double av, bv;
        if (!scalar_at_exec<double>("cublasDsymv alpha", dev, alpha, a, &av) ||
            !scalar_at_exec<double>("cublasDsymv beta", dev, beta, b, &bv))
            return;
        if (!exec_device_ok(A, ab, "cublasDsymv A") || !exec_device_ok(x, xb, "cublasDsymv x") ||
            !exec_device_ok(y, yb, "cublasDsymv y"))
            return;
        cblas_dsymv(CblasColMajor, cb_uplo(uplo), n, av, A, lda, x, incx, bv, y, incy);
    });
}

/* ---- Level 3 ---------------------------------------------------------------- */

/* cublas<t>gemm (cuBLAS 2.7.1): C = alpha op(A) op(B) + beta C, C m x n,
 * op(A) m x k, op(B) k x n. INVALID_VALUE for m, n or k < 0, transa/transb
 * not N/T/C, lda < max(1, m) if transa == N else lda < max(1, k),
 * ldb < max(1, k) if transb == N else ldb < max(1, n), ldc < max(1, m),
 * alpha or beta NULL (C NULL when C must be scaled: C is always required here). */
extern "C" cublasStatus_t cublasDgemm_v2(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb,
                                         int m, int n, int k, const double *alpha, const double *A, int lda,
                                         const double *B, int ldb, const double *beta, double *C, int ldc)
{
    const char *api = "cublasDgemm";
    STANDIN_LOCK;
    BLAS_TRY(need_handle(api, handle));
    lda = injected_lda(api, lda);
    BLAS_REQUIRE(m >= 0, "%s: m=%d < 0", api, m);
    BLAS_REQUIRE(n >= 0, "%s: n=%d < 0", api, n);
    BLAS_REQUIRE(k >= 0, "%s: k=%d < 0", api, k);
    BLAS_REQUIRE(valid_op(transa), "%s: transa=%d is not CUBLAS_OP_N, CUBLAS_OP_T or CUBLAS_OP_C", api, (int)transa);
    BLAS_REQUIRE(valid_op(transb), "%s: transb=%d is not CUBLAS_OP_N, CUBLAS_OP_T or CUBLAS_OP_C", api, (int)transb);
    const int arows = transa == CUBLAS_OP_N ? m : k, acols = transa == CUBLAS_OP_N ? k : m;
    const int brows = transb == CUBLAS_OP_N ? k : n, bcols = transb == CUBLAS_OP_N ? n : k;
    BLAS_REQUIRE(lda >= imax1(arows), "%s: lda=%d < max(1,%s)=%d (transa=%s)", api, lda,
                 transa == CUBLAS_OP_N ? "m" : "k", imax1(arows), op_name(transa));
    BLAS_REQUIRE(ldb >= imax1(brows), "%s: ldb=%d < max(1,%s)=%d (transb=%s)", api, ldb,
                 transb == CUBLAS_OP_N ? "k" : "n", imax1(brows), op_name(transb));
    BLAS_REQUIRE(ldc >= imax1(m), "%s: ldc=%d < max(1,m)=%d", api, ldc, imax1(m));
    double a = 0, b = 0;
    BLAS_TRY(scalar(api, "alpha", handle, alpha, &a));
    BLAS_TRY(scalar(api, "beta", handle, beta, &b));
    if (m == 0 || n == 0)
        return CUBLAS_STATUS_SUCCESS;
    const size_t ab = mat_bytes(arows, acols, lda, 8), bb = mat_bytes(brows, bcols, ldb, 8),
                 cb = mat_bytes(m, n, ldc, 8);
    if (k > 0) {
        BLAS_TRY(need_device(api, "A", A, ab, fmt("%d x %d, lda=%d", arows, acols, lda)));
        BLAS_TRY(need_device(api, "B", B, bb, fmt("%d x %d, ldb=%d", brows, bcols, ldb)));
    }
    BLAS_TRY(need_device(api, "C", C, cb, fmt("%d x %d, ldc=%d", m, n, ldc)));
    const bool dev = handle->pointer_mode == CUBLAS_POINTER_MODE_DEVICE;
    return submit(api, handle, [=]() {
        double av, bv;
        if (!scalar_at_exec<double>("cublasDgemm alpha", dev, alpha, a, &av) ||
            !scalar_at_exec<double>("cublasDgemm beta", dev, beta, b, &bv))
            return;
        if (k > 0 && (!exec_device_ok(A, ab, "cublasDgemm A") || !exec_device_ok(B, bb, "cublasDgemm B")))
            return;
        if (!exec_device_ok(C, cb, "cublasDgemm C"))
            return;
        /* With k == 0, C = beta C: CBLAS is given C itself as a dummy A/B. */
        cblas_dgemm(CblasColMajor, cb_op(transa), cb_op(transb), m, n, k, av, k > 0 ? A : C, lda, k > 0 ? B : C, ldb,
                    bv, C, ldc);
    });
}

extern "C" cublasStatus_t cublasSsyrk_v2(cublasHandle_t handle, cublasFillMode_t uplo, cublasOperation_t trans, int n,
                                         int k, const float *alpha, const float *A, int lda, const float *beta,
                                         float *C, int ldc)
{
    return syrk<float>("cublasSsyrk", handle, uplo, trans, n, k, alpha, A, lda, beta, C, ldc);
}

extern "C" cublasStatus_t cublasDsyrk_v2(cublasHandle_t handle, cublasFillMode_t uplo, cublasOperation_t trans, int n,
                                         int k, const double *alpha, const double *A, int lda, const double *beta,
                                         double *C, int ldc)
{
    return syrk<double>("cublasDsyrk", handle, uplo, trans, n, k, alpha, A, lda, beta, C, ldc);
}

/* cublas<t>trsm (cuBLAS 2.7.11): solves op(A) X = alpha B (side LEFT) or
 * X op(A) = alpha B (side RIGHT); X overwrites B (m x n). INVALID_VALUE for
 * m < 0 or n < 0, side not LEFT/RIGHT, uplo not LOWER/UPPER, trans not N/T/C,
 * diag not NON_UNIT/UNIT, lda < max(1, m) if side == LEFT else
 * lda < max(1, n), ldb < max(1, m), alpha NULL. */
extern "C" cublasStatus_t cublasDtrsm_v2(cublasHandle_t handle, cublasSideMode_t side, cublasFillMode_t uplo,
                                         cublasOperation_t trans, cublasDiagType_t diag, int m, int n,
                                         const double *alpha, const double *A, int lda, double *B, int ldb)
{
    const char *api = "cublasDtrsm";
    STANDIN_LOCK;
    BLAS_TRY(need_handle(api, handle));
    lda = injected_lda(api, lda);
    BLAS_REQUIRE(m >= 0, "%s: m=%d < 0", api, m);
    BLAS_REQUIRE(n >= 0, "%s: n=%d < 0", api, n);
    BLAS_REQUIRE(side == CUBLAS_SIDE_LEFT || side == CUBLAS_SIDE_RIGHT,
                 "%s: side=%d is not CUBLAS_SIDE_LEFT or CUBLAS_SIDE_RIGHT", api, (int)side);
    BLAS_REQUIRE(valid_fill(uplo), "%s: uplo=%d is not CUBLAS_FILL_MODE_LOWER or CUBLAS_FILL_MODE_UPPER", api,
                 (int)uplo);
    BLAS_REQUIRE(valid_op(trans), "%s: trans=%d is not CUBLAS_OP_N, CUBLAS_OP_T or CUBLAS_OP_C", api, (int)trans);
    BLAS_REQUIRE(diag == CUBLAS_DIAG_NON_UNIT || diag == CUBLAS_DIAG_UNIT,
                 "%s: diag=%d is not CUBLAS_DIAG_NON_UNIT or CUBLAS_DIAG_UNIT", api, (int)diag);
    const int order = side == CUBLAS_SIDE_LEFT ? m : n;
    BLAS_REQUIRE(lda >= imax1(order), "%s: lda=%d < max(1,%s)=%d (side=%s)", api, lda,
                 side == CUBLAS_SIDE_LEFT ? "m" : "n", imax1(order),
                 side == CUBLAS_SIDE_LEFT ? "CUBLAS_SIDE_LEFT" : "CUBLAS_SIDE_RIGHT");
    BLAS_REQUIRE(ldb >= imax1(m), "%s: ldb=%d < max(1,m)=%d", api, ldb, imax1(m));
    double a = 0;
    BLAS_TRY(scalar(api, "alpha", handle, alpha, &a));
    if (m == 0 || n == 0)
        return CUBLAS_STATUS_SUCCESS;
    const size_t ab = mat_bytes(order, order, lda, 8), bb = mat_bytes(m, n, ldb, 8);
    BLAS_TRY(need_device(api, "A", A, ab, fmt("%d x %d, lda=%d", order, order, lda)));
    BLAS_TRY(need_device(api, "B", B, bb, fmt("%d x %d, ldb=%d", m, n, ldb)));
    const bool dev = handle->pointer_mode == CUBLAS_POINTER_MODE_DEVICE;
    return submit(api, handle, [=]() {
        double av;
        if (!scalar_at_exec<double>("cublasDtrsm alpha", dev, alpha, a, &av))
            return;
        if (!exec_device_ok(A, ab, "cublasDtrsm A") || !exec_device_ok(B, bb, "cublasDtrsm B"))
            return;
        cblas_dtrsm(CblasColMajor, side == CUBLAS_SIDE_LEFT ? CblasLeft : CblasRight, cb_uplo(uplo), cb_op(trans),
                    diag == CUBLAS_DIAG_UNIT ? CblasUnit : CblasNonUnit, m, n, av, A, lda, B, ldb);
    });
}

/* ---- BLAS-like extension ------------------------------------------------------ */

/* cublas<t>dgmm (cuBLAS BLAS-like Extension): C = A diag(x) (mode
 * CUBLAS_SIDE_RIGHT, x of n elements) or diag(x) A (CUBLAS_SIDE_LEFT, x of m
 * elements), A and C m x n; x's element k is x[k·incx], or counted from the
 * end for a negative incx. In place when C is A with ldc == lda.
 * INVALID_VALUE for m < 0 or n < 0, mode not LEFT/RIGHT, lda < max(1, m),
 * ldc < max(1, m). (No _v2 name: cuBLAS has only this one.) */
extern "C" cublasStatus_t cublasDdgmm(cublasHandle_t handle, cublasSideMode_t mode, int m, int n, const double *A,
                                      int lda, const double *x, int incx, double *C, int ldc)
{
    const char *api = "cublasDdgmm";
    STANDIN_LOCK;
    BLAS_TRY(need_handle(api, handle));
    lda = injected_lda(api, lda);
    BLAS_REQUIRE(m >= 0, "%s: m=%d < 0", api, m);
    BLAS_REQUIRE(n >= 0, "%s: n=%d < 0", api, n);
    BLAS_REQUIRE(mode == CUBLAS_SIDE_LEFT || mode == CUBLAS_SIDE_RIGHT,
                 "%s: mode=%d is not CUBLAS_SIDE_LEFT or CUBLAS_SIDE_RIGHT", api, (int)mode);
    BLAS_REQUIRE(lda >= imax1(m), "%s: lda=%d < max(1,m)=%d", api, lda, imax1(m));
    BLAS_REQUIRE(ldc >= imax1(m), "%s: ldc=%d < max(1,m)=%d", api, ldc, imax1(m));
    if (m == 0 || n == 0)
        return CUBLAS_STATUS_SUCCESS;
    const int xl = mode == CUBLAS_SIDE_RIGHT ? n : m;
    const size_t ab = mat_bytes(m, n, lda, 8), xb = vec_bytes(xl, incx, 8), cb = mat_bytes(m, n, ldc, 8);
    BLAS_TRY(need_device(api, "A", A, ab, fmt("%d x %d, lda=%d", m, n, lda)));
    BLAS_TRY(need_device(api, "x", x, xb, fmt("%d elements, incx=%d", xl, incx)));
    BLAS_TRY(need_device(api, "C", C, cb, fmt("%d x %d, ldc=%d", m, n, ldc)));
    return submit(api, handle, [=]() {
        if (!exec_device_ok(A, ab, "cublasDdgmm A") || !exec_device_ok(x, xb, "cublasDdgmm x") ||
            !exec_device_ok(C, cb, "cublasDdgmm C"))
            return;
        const size_t step = (size_t)(incx < 0 ? -(long long)incx : incx);
        for (int j = 0; j < n; j++)
            for (int i = 0; i < m; i++) {
                const int k = mode == CUBLAS_SIDE_RIGHT ? j : i;
                const double xk = x[(size_t)(incx < 0 ? xl - 1 - k : k) * step];
                C[(size_t)j * ldc + i] = A[(size_t)j * lda + i] * xk;
            }
    });
}
