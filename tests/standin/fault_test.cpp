/* Injected faults, one per class, each caught by the stand-in with a message
 * that names it (TEST-ONLY; tests/standin/README.md, "Fault tests"). Built
 * by tests/standin/standin-build.mk against the stand-in build of cuda/
 * (the real launchers and backend ops) and libstandin.a; run by
 * tests/standin/run-standin-tests.sh. Nothing in cuda/ changes: a fault is
 * either a minimal program using the same APIs the way cuda/ does, with the
 * one mistake, or the real backend op driven with a stand-in knob
 * (standin_set_fault) that breaks something inside the stand-in.
 * Prints one ok/FAIL line per check and exits nonzero on any failure. */
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "standin_launch.h" /* the launch layer, the simulation; SB_LAUNCH below */

#include <cublas_v2.h>
#include <cusolverDn.h>

extern "C" {
#include "backend.h"
}
#include "arrow_kernels.h"
#include "rs_kernels.h"

/* One ok/FAIL line per check (on sim_cuda.h's counters), the summary, the device probe:
 * the direct GPU tests' own. */
#include "gpu_check.h"

/* The test's own kernels, once per residency slot as the preludes do for
 * cuda/'s (launch/<unit>.h); the stand-in build's copy of the header (its
 * __shared__ declarations counted, tests/standin/shared-notes.sh). */
namespace {
namespace sim_slot0 {
#include "fault_kernels.cuh"
}
#undef SB_FAULT_KERNELS_CUH
namespace sim_slot1 {
#include "fault_kernels.cuh"
}
#undef SB_FAULT_KERNELS_CUH
namespace sim_slot2 {
#include "fault_kernels.cuh"
}
#undef SB_FAULT_KERNELS_CUH
namespace sim_slot3 {
#include "fault_kernels.cuh"
}
} // namespace
using namespace sim_slot0;

/* The last stand-in message containing needle, or "". */
static std::string msg_with(const char *needle)
{
    std::string hit;
    for (const std::string &m : standin_fail_messages())
        if (m.find(needle) != std::string::npos)
            hit = m;
    return hit;
}

static int all_nan(const double *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!std::isnan(a[i]))
            return 0;
    return n > 0;
}

/* A resident-solve problem for the real backend ops. */
struct rs_fixture {
    int64_t n, p;
    std::vector<double> X, w, rhs, beta;
    sb_rs_problem prob;
    rs_fixture(int64_t n_, int64_t p_, sb_method m, const char *factor, int solves)
        : n(n_), p(p_), X((size_t)(n_ * p_)), w((size_t)n_), rhs((size_t)p_), beta((size_t)p_)
    {
        for (size_t i = 0; i < X.size(); i++)
            X[i] = 0.05 * std::cos(0.37 * (double)i + 0.1 * (double)(i % 7));
        for (int64_t i = 0; i < n; i++)
            w[(size_t)i] = 0.5 + 0.25 * std::sin((double)i);
        for (int64_t j = 0; j < p; j++)
            rhs[(size_t)j] = std::cos((double)(j + 1) * 0.03);
        memset(&prob, 0, sizeof prob);
        prob.n = n, prob.p = p, prob.X = X.data(), prob.rhs = rhs.data(), prob.ridge = 1e-3;
        prob.method = m, prob.max_solves = solves, prob.factor = factor;
    }
};

/* ---- 1. a missing stream synchronisation before a host read of a download ---- */
static void fault_missing_sync(void)
{
    standin_reset();
    const int n = 64;
    std::vector<double> src(n), h(n, -1.0);
    for (int i = 0; i < n; i++)
        src[(size_t)i] = i + 1.0;
    double *d = nullptr;
    cudaStream_t s = nullptr;
    cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking);
    cudaMalloc(&d, n * sizeof(double));
    cudaMemcpy(d, src.data(), n * sizeof(double), cudaMemcpyHostToDevice);
    cudaMemcpyAsync(h.data(), d, n * sizeof(double), cudaMemcpyDeviceToHost, s);
    /* the fault: h read here, no cudaStreamSynchronize(s) */
    const int poisoned = standin_is_pending_poison(h.data(), n * sizeof(double)) && all_nan(h.data(), n);
    check(poisoned, "missing sync (minimal): host read of a pending download sees the pending-download poison: "
                    "h[0] = %g (NaN), not %g",
          h[0], src[0]);
    cudaStreamSynchronize(s);
    check(memcmp(h.data(), src.data(), n * sizeof(double)) == 0,
          "missing sync (minimal): after cudaStreamSynchronize the download is there (h[0] = %g)", h[0]);
    cudaFree(d);
    cudaStreamDestroy(s);

    /* the real backend: solve() with its synchronisation before the beta read
     * skipped (skip_sync). library: a stream download; blocked: a download
     * inside the replayed rep graph (poisoned at each cudaGraphLaunch). */
    const char *factors[] = {"library", "blocked"};
    for (const char *factor : factors) {
        standin_reset();
        const sb_rs_ops *ops = sb_cuda_backend.resident_solve;
        rs_fixture f(150, 100, SB_METHOD_PRIMAL, factor, 4);
        void *st = nullptr;
        sb_err err = {{0}};
        if (ops->create(&f.prob, &st, &err) != SB_OK) {
            check(0, "missing sync (rs_backend %s): create: %s", factor, err.msg);
            continue;
        }
        sb_rc rc = SB_OK;
        for (int k = 0; k < 2 && rc == SB_OK; k++) /* blocked: solve 1 captures and launches the graph */
            rc = ops->solve(st, f.w.data(), f.beta.data(), &err);
        const int clean = rc == SB_OK && !std::isnan(f.beta[0]);
        standin_set_fault("skip_sync", 1);
        rc = ops->solve(st, f.w.data(), f.beta.data(), &err);
        const int nan = all_nan(f.beta.data(), (size_t)f.p) && standin_is_pending_poison(f.beta.data(), 8);
        check(clean && rc == SB_OK && nan,
              "missing sync (rs_backend %s, standin_set_fault skip_sync): beta read before its download ran is the "
              "pending-download poison: beta[0] = %g (NaN)",
              factor, f.beta[0]);
        rc = ops->solve(st, f.w.data(), f.beta.data(), &err);
        check(rc == SB_OK && !std::isnan(f.beta[0]), "missing sync (rs_backend %s): the next solve is clean (%g)",
              factor, f.beta[0]);
        ops->destroy(st);
    }
}

/* ---- 2. a host pointer handed to a kernel (the real launchers of cuda/) ---- */
static void fault_host_pointer(void)
{
    standin_reset();
    const int N = 100;
    std::vector<double> A_host((size_t)N * N, 1.0);
    cudaStream_t s = nullptr;
    cudaStreamCreate(&s);
    cudaError_t e = sb_launch_add_diag(A_host.data(), N, N, 1.0, s);
    std::string m = msg_with("host pointer passed to kernel rs_add_diag");
    check(e == cudaErrorInvalidValue && m.find("(argument 0") != std::string::npos, /* the launcher's cudaGetLastError */
          "host pointer to kernel: sb_launch_add_diag(host A) -> %s: %s", cudaGetErrorName(e), m.c_str());

    /* inside a by-value struct argument: sb_chain_sync.flags (the chained solve) */
    double *L = nullptr, *b = nullptr;
    int *info = nullptr;
    cudaMalloc(&L, (size_t)N * N * sizeof(double));
    cudaMalloc(&b, N * sizeof(double));
    cudaMalloc(&info, sizeof(int));
    sb_chain chain = {};
    sb_tiled tiled = {};
    if (sb_chain_alloc(&chain, N, s) != cudaSuccess || sb_tiled_alloc(&tiled, N + 1, 132, s) != cudaSuccess) {
        check(0, "host pointer to kernel: sb_chain_alloc / sb_tiled_alloc");
        return;
    }
    cudaStreamSynchronize(s);
    std::vector<unsigned> host_flags(64);
    unsigned *dev_flags = chain.flags;
    chain.flags = host_flags.data();
    standin_fail_clear();
    e = sb_launch_chol_solve_chained(L, N, N, b, &chain, info, s);
    m = msg_with("host pointer passed to kernel rs_trsv_lower_fwd");
    check(e == cudaErrorInvalidValue && m.find("member sb_chain_sync.flags") != std::string::npos,
          "host pointer to kernel (struct member): sb_launch_chol_solve_chained, chain.flags on the host -> %s: %s",
          cudaGetErrorName(e), m.c_str());
    chain.flags = dev_flags;
    cudaGetLastError();

    /* sb_tiled_sync.counts freed: a device pointer outside every live allocation */
    unsigned *counts = tiled.counts;
    unsigned *gone = nullptr;
    cudaMalloc(&gone, 64);
    cudaFree(gone);
    tiled.counts = gone;
    standin_fail_clear();
    e = sb_launch_chol_tiled(L, N + 1, N + 1, 1, b, chain.linv, &tiled, info, s);
    m = msg_with("passed to kernel rs_chol_tiled");
    check(e == cudaErrorInvalidValue && m.find("member sb_tiled_sync.counts") != std::string::npos &&
              m.find("device pointer outside every live allocation") != std::string::npos,
          "freed pointer to kernel (struct member): sb_launch_chol_tiled, tiled.counts freed -> %s: %s",
          cudaGetErrorName(e), m.c_str());
    tiled.counts = counts;
    cudaGetLastError();
    /* the same launches with device pointers are accepted */
    e = sb_launch_chol_solve_chained(L, N, N, b, &chain, info, s);
    check(e == cudaSuccess, "host pointer to kernel: the same chained launch with device pointers is accepted (%s)",
          cudaGetErrorName(e));
    sb_chain_free(&chain);
    sb_tiled_free(&tiled);
    cudaFree(L), cudaFree(b), cudaFree(info);
    cudaStreamDestroy(s);
}

/* ---- 3. a cuSOLVER workspace one byte short ---- */
static void fault_workspace_short(void)
{
    standin_reset();
    const int n = 40;
    cusolverDnHandle_t h = nullptr;
    cusolverDnParams_t prm = nullptr;
    cusolverDnCreate(&h);
    cusolverDnCreateParams(&prm);
    double *A = nullptr;
    int *info = nullptr;
    cudaMalloc(&A, (size_t)n * n * sizeof(double));
    cudaMalloc(&info, sizeof(int));
    size_t dws = 0, hws = 0;
    cusolverDnXpotrf_bufferSize(h, prm, CUBLAS_FILL_MODE_LOWER, n, CUDA_R_64F, A, n, CUDA_R_64F, &dws, &hws);
    void *dw = nullptr;
    cudaMalloc(&dw, dws);
    std::vector<char> hw(hws);
    cusolverStatus_t st = cusolverDnXpotrf(h, prm, CUBLAS_FILL_MODE_LOWER, n, CUDA_R_64F, A, n, CUDA_R_64F, dw,
                                           dws - 1, hw.data(), hws, info);
    std::string m = msg_with("workspaceInBytesOnDevice=");
    check(st == CUSOLVER_STATUS_INVALID_VALUE && !m.empty(),
          "cuSOLVER workspace one byte short (minimal): Xpotrf with %zu of %zu bytes -> status %d: %s", dws - 1, dws,
          (int)st, m.c_str());
    cudaFree(dw), cudaFree(A), cudaFree(info);
    cusolverDnDestroyParams(prm);
    cusolverDnDestroy(h);

    /* the real backend: the size query under-reports by one byte */
    standin_reset();
    standin_set_fault("workspace_short", -1);
    const sb_rs_ops *ops = sb_cuda_backend.resident_solve;
    rs_fixture f(70, 40, SB_METHOD_PRIMAL, "library", 2);
    void *sp = nullptr;
    sb_err err = {{0}};
    sb_rc rc = ops->create(&f.prob, &sp, &err);
    if (rc == SB_OK) {
        rc = ops->solve(sp, f.w.data(), f.beta.data(), &err);
        ops->destroy(sp);
    }
    m = msg_with("workspaceInBytesOnDevice=");
    check(rc != SB_OK && !m.empty(),
          "cuSOLVER workspace one byte short (rs_backend library, standin_set_fault workspace_short): the op fails "
          "(%s), the stand-in says: %s",
          err.msg, m.c_str());
}

/* ---- 4. a leading dimension one too small to cuBLAS ---- */
static void fault_ld_short(void)
{
    standin_reset();
    const int m = 5, n = 4, k = 3;
    cublasHandle_t h = nullptr;
    cublasCreate(&h);
    double *A = nullptr, *B = nullptr, *C = nullptr;
    cudaMalloc(&A, m * k * sizeof(double));
    cudaMalloc(&B, k * n * sizeof(double));
    cudaMalloc(&C, m * n * sizeof(double));
    const double one = 1.0, zero = 0.0;
    cublasStatus_t st = cublasDgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &one, A, m - 1, B, k, &zero, C, m);
    std::string msg = msg_with("cublasDgemm: lda=");
    check(st == CUBLAS_STATUS_INVALID_VALUE && msg.find("lda=4 < max(1,m)=5") != std::string::npos,
          "cuBLAS ld one too small (minimal): Dgemm lda=m-1 -> %s: %s", cublasGetStatusName(st), msg.c_str());
    cudaFree(A), cudaFree(B), cudaFree(C);
    cublasDestroy(h);

    /* the real backend: create() of the dual form runs DSYRK (K = X Xᵀ);
     * its lda seen one smaller */
    standin_reset();
    standin_set_fault("ld_short", 1);
    const sb_rs_ops *ops = sb_cuda_backend.resident_solve;
    rs_fixture f(40, 70, SB_METHOD_DUAL, "library", 2);
    void *sp = nullptr;
    sb_err err = {{0}};
    sb_rc rc = ops->create(&f.prob, &sp, &err);
    if (rc == SB_OK)
        ops->destroy(sp);
    msg = msg_with(": lda=");
    check(rc != SB_OK && !msg.empty(),
          "cuBLAS ld one too small (rs_backend dual create, standin_set_fault ld_short): the op fails (%s), the "
          "stand-in says: %s",
          err.msg, msg.c_str());
}

/* ---- 5. a synchronisation inside graph capture ---- */
static void fault_sync_in_capture(void)
{
    standin_reset();
    const int N = 50;
    double *A = nullptr;
    cudaStream_t s = nullptr;
    cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking);
    cudaMalloc(&A, (size_t)N * N * sizeof(double));
    cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal);
    sb_launch_add_diag(A, N, N, 1.0, s);
    cudaError_t e = cudaStreamSynchronize(s); /* the fault */
    cudaGraph_t g = nullptr;
    cudaError_t e2 = cudaStreamEndCapture(s, &g);
    std::string m = msg_with("cudaStreamSynchronize: stream");
    check(e == cudaErrorStreamCaptureUnsupported && e2 == cudaErrorStreamCaptureInvalidated && g == nullptr &&
              m.find("is capturing") != std::string::npos,
          "sync inside graph capture (minimal): cudaStreamSynchronize -> %s, cudaStreamEndCapture -> %s: %s",
          cudaGetErrorName(e), cudaGetErrorName(e2), m.c_str());
    cudaGetLastError();
    cudaFree(A);
    cudaStreamDestroy(s);

    /* the real backend: blocked solve 1 captures the rep graph; the first
     * work queued in that capture is preceded by a synchronisation */
    standin_reset();
    const sb_rs_ops *ops = sb_cuda_backend.resident_solve;
    rs_fixture f(150, 100, SB_METHOD_PRIMAL, "blocked", 4);
    void *sp = nullptr;
    sb_err err = {{0}};
    sb_rc rc = ops->create(&f.prob, &sp, &err);
    if (rc == SB_OK)
        rc = ops->solve(sp, f.w.data(), f.beta.data(), &err);
    if (rc != SB_OK) {
        check(0, "sync inside graph capture (rs_backend blocked): setup: %s", err.msg);
        return;
    }
    standin_set_fault("sync_in_capture", 1);
    rc = ops->solve(sp, f.w.data(), f.beta.data(), &err);
    m = msg_with("cudaStreamSynchronize: stream");
    check(rc != SB_OK && m.find("is capturing") != std::string::npos,
          "sync inside graph capture (rs_backend blocked, standin_set_fault sync_in_capture): the capturing solve "
          "fails (%s), the stand-in says: %s",
          err.msg, m.c_str());
    ops->destroy(sp);
}

/* ---- 6. a kernel over its shared-memory limit ---- */
static void fault_smem(void)
{
    standin_reset();
    const int n = 256;
    double *out = nullptr;
    cudaStream_t s = nullptr;
    cudaStreamCreate(&s);
    cudaMalloc(&out, n * sizeof(double));
    const size_t big = 64 * 1024;
    SB_LAUNCH(fault_fill, 2, 128, big, s)(out, n);
    cudaError_t e = cudaGetLastError();
    std::string m = msg_with("kernel fault_fill<<<2, 128, 65536>>>");
    check(e == cudaErrorInvalidConfiguration && m.find("above the 48 KiB default") != std::string::npos,
          "shared memory over the limit: 64 KiB dynamic without cudaFuncSetAttribute -> %s: %s",
          cudaGetErrorName(e), m.c_str());
    e = cudaFuncSetAttribute(fault_fill, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)big);
    SB_LAUNCH(fault_fill, 2, 128, big, s)(out, n);
    cudaError_t e2 = cudaGetLastError();
    std::vector<double> h(n);
    cudaMemcpy(h.data(), out, n * sizeof(double), cudaMemcpyDeviceToHost);
    check(e == cudaSuccess && e2 == cudaSuccess && h[255] == 127.5,
          "shared memory: after cudaFuncSetAttribute(MaxDynamicSharedMemorySize, 65536) the launch runs (%s, %s, "
          "out[255] = %g)",
          cudaGetErrorName(e), cudaGetErrorName(e2), h[255]);
    SB_LAUNCH(fault_fill, 2, 128, big + 8, s)(out, n);
    e = cudaGetLastError();
    m = msg_with("set by cudaFuncSetAttribute");
    check(e == cudaErrorInvalidConfiguration && !m.empty(), "shared memory: 8 bytes above the raised limit -> %s: %s",
          cudaGetErrorName(e), m.c_str());
    e = cudaFuncSetAttribute(fault_fill, cudaFuncAttributeMaxDynamicSharedMemorySize, 228 * 1024);
    m = msg_with("sharedMemPerBlockOptin");
    check(e == cudaErrorInvalidValue && !m.empty(), "shared memory: a limit above the 227 KiB opt-in -> %s: %s",
          cudaGetErrorName(e), m.c_str());
    cudaGetLastError();
    cudaFree(out);
    cudaStreamDestroy(s);
}

/* ---- 7. a kernel over its static + dynamic shared-memory limit ---- */
static void fault_static_smem_limit(void)
{
    /* the measured static sizes of cuda/'s own kernels (the blocked solves
     * of fault_missing_sync ran them): __shared__ arrays of the kernel and
     * of the device functions it calls, each counted once per block */
    const long long chol = standin_kernel_static_smem("rs_chol_diag");
    const long long fwd = standin_kernel_static_smem("rs_trsv_lower_fwd");
    const long long want_chol = SB_RS_NB * SB_RS_NB * 8;
    /* T, dinv, red, vs; rs_chain_ticket's s_ticket and s_epoch, rs_chain_is_last's s_last */
    const long long want_fwd = (SB_RS_NB * (SB_RS_NB + 1) + SB_RS_NB + SB_TRSV_THREADS + SB_RS_NB) * 8 + 3 * 4;
    check(chol == want_chol && fwd == want_fwd,
          "static shared memory measured: rs_chol_diag %lld bytes (expected %lld), rs_trsv_lower_fwd %lld (expected "
          "%lld), rs_trsv_lower_bwd %lld, rs_add_diag %lld",
          chol, want_chol, fwd, want_fwd, standin_kernel_static_smem("rs_trsv_lower_bwd"),
          standin_kernel_static_smem("rs_add_diag"));

    standin_reset();
    const int n = FAULT_STATIC_DOUBLES, blocks = 2;
    const size_t stat = n * sizeof(double), dyn = 16 * 1024;
    std::vector<double> ones((size_t)n, 1.0), h(blocks, 0.0);
    double *in = nullptr, *out = nullptr;
    cudaStream_t s = nullptr;
    cudaStreamCreate(&s);
    cudaMalloc(&in, n * sizeof(double));
    cudaMalloc(&out, blocks * sizeof(double));
    cudaMemcpy(in, ones.data(), n * sizeof(double), cudaMemcpyHostToDevice);
    /* its first launch: the static size is learnt as it runs, so the
     * launch is accepted and its end reports the fault */
    SB_LAUNCH(fault_static_smem, blocks, 128, dyn, s)(in, out);
    cudaError_t e = cudaGetLastError();
    cudaError_t e2 = cudaStreamSynchronize(s);
    std::string m = msg_with("kernel fault_static_smem<<<2, 128, 16384>>>");
    check(e == cudaSuccess && e2 == cudaErrorIllegalAddress &&
              m.find("static 40960 (measured) + dynamic 16384 = 57344 bytes above the 48 KiB default") !=
                  std::string::npos,
          "static + dynamic shared memory over the limit (first launch: at its end) -> %s, %s: %s",
          cudaGetErrorName(e), cudaGetErrorName(e2), m.c_str());

    standin_reset(); /* the sticky fault goes; the kernel's measured size stays */
    cudaStreamCreate(&s);
    cudaMalloc(&in, n * sizeof(double));
    cudaMalloc(&out, blocks * sizeof(double));
    cudaMemcpy(in, ones.data(), n * sizeof(double), cudaMemcpyHostToDevice);
    SB_LAUNCH(fault_static_smem, blocks, 128, dyn, s)(in, out);
    e = cudaGetLastError();
    m = msg_with("kernel fault_static_smem<<<2, 128, 16384>>>");
    check(e == cudaErrorInvalidConfiguration && standin_kernel_static_smem("fault_static_smem") == (long long)stat &&
              m.find("static 40960 (measured) + dynamic 16384") != std::string::npos,
          "static + dynamic shared memory over the limit (a later launch: at the launch) -> %s: %s",
          cudaGetErrorName(e), m.c_str());
    SB_LAUNCH(fault_static_smem, blocks, 128, 48 * 1024 - stat, s)(in, out);
    e = cudaGetLastError();
    cudaMemcpy(h.data(), out, blocks * sizeof(double), cudaMemcpyDeviceToHost);
    check(e == cudaSuccess && h[0] == n && h[1] == n,
          "static shared memory: exactly 48 KiB with the dynamic part runs (%s, out = %g %g)", cudaGetErrorName(e),
          h[0], h[1]);
    e = cudaFuncSetAttribute(fault_static_smem, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)dyn);
    SB_LAUNCH(fault_static_smem, blocks, 128, dyn, s)(in, out);
    e2 = cudaGetLastError();
    cudaStreamSynchronize(s);
    check(e == cudaSuccess && e2 == cudaSuccess && standin_fail_count() == 1,
          "static shared memory: after cudaFuncSetAttribute(MaxDynamicSharedMemorySize, 16384) the launch runs (%s, "
          "%s)",
          cudaGetErrorName(e), cudaGetErrorName(e2));
    e = cudaFuncSetAttribute(fault_static_smem, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)(227 * 1024 - stat + 8));
    m = msg_with("less the kernel's static 40960");
    check(e == cudaErrorInvalidValue && !m.empty(),
          "static shared memory: a dynamic limit 8 bytes above 227 KiB less the static size -> %s: %s",
          cudaGetErrorName(e), m.c_str());
    cudaGetLastError();
    cudaFree(in), cudaFree(out);
    cudaStreamDestroy(s);
}

/* ---- 8. a struct pointer whose extent crosses the end of its allocation ---- */
static void fault_struct_extent(void)
{
    standin_reset();
    const int n = 4, p = 3;
    cudaStream_t s = nullptr;
    cudaStreamCreate(&s);
    int *row_info = nullptr;
    double *row_logdiag = nullptr, *LS = nullptr;
    char *buf = nullptr;
    cudaMalloc(&row_info, n * sizeof(int));
    cudaMalloc(&row_logdiag, n * sizeof(double));
    cudaMalloc(&LS, p * p * sizeof(double));
    cudaMalloc(&buf, sizeof(sb_arrow_status) + 8);
    /* the status struct starts inside the allocation, its last 8 bytes past the end */
    sb_arrow_status *status = (sb_arrow_status *)(buf + 16);
    cudaError_t e = sb_launch_arrow_logdet_reduce(row_info, row_logdiag, n, LS, p, status, s);
    std::string m = msg_with("struct pointer passed to kernel arrow_logdet_reduce");
    check(e == cudaErrorInvalidValue && m.find("(argument 5: sb_arrow_status, 16 bytes: needs 16 bytes from offset "
                                               "16 of the 24-byte device allocation") != std::string::npos,
          "struct extent past its allocation: sb_launch_arrow_logdet_reduce, status 8 bytes short -> %s: %s",
          cudaGetErrorName(e), m.c_str());
    cudaGetLastError();
    e = sb_launch_arrow_logdet_reduce(row_info, row_logdiag, n, LS, p, (sb_arrow_status *)buf, s);
    check(e == cudaSuccess, "struct extent: the same launch with the whole struct inside is accepted (%s)",
          cudaGetErrorName(e));
    cudaStreamSynchronize(s);

    /* a member of a by-value struct argument: sb_chain_sync.ctl in 8 bytes of a 16-byte sb_chain_ctl */
    const int N = 100;
    double *L = nullptr, *b = nullptr;
    int *info = nullptr;
    cudaMalloc(&L, (size_t)N * N * sizeof(double));
    cudaMalloc(&b, N * sizeof(double));
    cudaMalloc(&info, sizeof(int));
    sb_chain chain = {};
    if (sb_chain_alloc(&chain, N, s) != cudaSuccess) {
        check(0, "struct extent: sb_chain_alloc");
        return;
    }
    sb_chain_ctl *ctl = chain.ctl, *half = nullptr;
    cudaMalloc(&half, 8);
    chain.ctl = half;
    standin_fail_clear();
    e = sb_launch_chol_solve_chained(L, N, N, b, &chain, info, s);
    m = msg_with("struct pointer passed to kernel rs_trsv_lower_fwd");
    check(e == cudaErrorInvalidValue &&
              m.find("member sb_chain_sync.ctl: sb_chain_ctl, 16 bytes: needs 16 bytes from offset 0 of the "
                     "8-byte device allocation") != std::string::npos,
          "struct extent past its allocation (struct member): sb_launch_chol_solve_chained, chain.ctl in 8 bytes "
          "-> %s: %s",
          cudaGetErrorName(e), m.c_str());
    chain.ctl = ctl;
    cudaGetLastError();
    sb_chain_free(&chain);
    cudaFree(half), cudaFree(L), cudaFree(b), cudaFree(info);
    cudaFree(row_info), cudaFree(row_logdiag), cudaFree(LS), cudaFree(buf);
    cudaStreamDestroy(s);
}

int main(void)
{
    sb_device_info info;
    if (!check_device(&info))
        return 1;
    fault_missing_sync();
    fault_host_pointer();
    fault_workspace_short();
    fault_ld_short();
    fault_sync_in_capture();
    fault_smem();
    fault_static_smem_limit();
    fault_struct_extent();
    return check_summary();
}
