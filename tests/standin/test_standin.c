/* Unit tests of the CPU stand-in for the CUDA runtime, cuBLAS and cuSOLVER
 * (tests/standin/). Written from NVIDIA's documentation, not from saebench's
 * call sites: each test names the documentation section whose rule it checks.
 *   "CUDA Runtime API"  = the CUDA Runtime API reference (its text is also the
 *                         doxygen of cuda_runtime_api.h / driver_types.h);
 *   "Programming Guide" = CUDA C++ Programming Guide, "CUDA Graphs" > "Stream
 *                         Capture" (Prohibited and Unhandled Operations,
 *                         Invalidation, Capture Interaction Modes);
 *   "cuBLAS x.y.z"      = cuBLAS Library documentation section numbers;
 *   "cuSOLVER"          = cuSOLVER Library, dense 64-bit API (cusolverDnXpotrf,
 *                         cusolverDnXpotrs).
 * Rules the documentation leaves open and the stand-in makes strict are
 * marked "stand-in rule". Every test starts from standin_reset(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cblas.h>
#include <lapacke.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cublas_v2.h"
#include "cuda_runtime.h"
#include "cusolverDn.h"
#include "standin.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define TEST_ASAN 1
#endif

/* ---- helpers ------------------------------------------------------------ */

static void dump_messages(void)
{
    for (size_t i = 0; i < standin_fail_count(); i++)
        print_message("  stand-in message %zu: %s\n", i, standin_fail_message(i));
}

#define CUDA_OK(x) assert_int_equal((int)(x), (int)cudaSuccess)
#define BLAS_OK(x) assert_int_equal((int)(x), (int)CUBLAS_STATUS_SUCCESS)
#define SOL_OK(x) assert_int_equal((int)(x), (int)CUSOLVER_STATUS_SUCCESS)
#define EXPECT_MSG(needle)                                                        \
    do {                                                                          \
        if (!standin_fail_contains(needle)) {                                     \
            dump_messages();                                                      \
            fail_msg("no stand-in message contains \"%s\"", (needle));            \
        }                                                                         \
    } while (0)

static int setup(void **state)
{
    (void)state;
    standin_reset();
    return 0;
}

static void *dmalloc(size_t n)
{
    void *p = NULL;
    CUDA_OK(cudaMalloc(&p, n));
    assert_non_null(p);
    return p;
}

static void h2d(void *d, const void *h, size_t n) { CUDA_OK(cudaMemcpy(d, h, n, cudaMemcpyHostToDevice)); }
static void d2h(void *h, const void *d, size_t n) { CUDA_OK(cudaMemcpy(h, d, n, cudaMemcpyDeviceToHost)); }

static unsigned long long g_rng = 88172645463325252ULL;
static double rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (double)(g_rng % 2001) / 1000.0 - 1.0;
}

static double *rnd_mat(size_t n)
{
    double *a = malloc(n * sizeof *a);
    assert_non_null(a);
    for (size_t i = 0; i < n; i++)
        a[i] = rnd();
    return a;
}

static double *dev_copy(const double *h, size_t n)
{
    double *d = dmalloc(n * sizeof *d);
    h2d(d, h, n * sizeof *d);
    return d;
}

static void assert_close(const double *got, const double *want, size_t n, double tol)
{
    for (size_t i = 0; i < n; i++) {
        const double d = got[i] - want[i];
        if (!(d <= tol * (1 + (want[i] < 0 ? -want[i] : want[i])) && -d <= tol * (1 + (want[i] < 0 ? -want[i] : want[i]))))
            fail_msg("element %zu: got %.17g, want %.17g", i, got[i], want[i]);
    }
}

/* Writes one byte bypassing ASan (the redzone is poisoned on purpose) and the
 * host-access guard (switched off by the caller). */
__attribute__((no_sanitize_address)) static void poke(void *p, unsigned char v) { *(volatile unsigned char *)p = v; }

/* ======================================================================= */
/* Device and errors                                                       */
/* ======================================================================= */

/* CUDA Runtime API, cudaGetDeviceProperties / cudaDeviceGetAttribute: the
 * reference H100 SXM; cudaDevAttrClockRate is in kilohertz ("Peak clock
 * frequency in kilohertz"). The name must not claim a real GPU. */
static void test_device_properties(void **state)
{
    (void)state;
    int n = -1, dev = -1, v = 0;
    CUDA_OK(cudaGetDeviceCount(&n));
    assert_int_equal(n, 1);
    CUDA_OK(cudaGetDevice(&dev));
    assert_int_equal(dev, 0);
    struct cudaDeviceProp p;
    CUDA_OK(cudaGetDeviceProperties(&p, 0));
    assert_string_equal(p.name, "CPU stand-in for NVIDIA H100 SXM (not a GPU)");
    assert_int_equal(p.major, 9);
    assert_int_equal(p.minor, 0);
    assert_int_equal(p.multiProcessorCount, 132);
    assert_true(p.totalGlobalMem == 80ULL << 30);
    assert_int_equal(p.sharedMemPerBlock, 48 * 1024);
    assert_int_equal(p.sharedMemPerBlockOptin, 227 * 1024);
    assert_int_equal(p.sharedMemPerMultiprocessor, 228 * 1024);
    assert_int_equal(p.maxThreadsPerBlock, 1024);
    CUDA_OK(cudaDeviceGetAttribute(&v, cudaDevAttrMultiProcessorCount, 0));
    assert_int_equal(v, 132);
    CUDA_OK(cudaDeviceGetAttribute(&v, cudaDevAttrClockRate, 0));
    assert_int_equal(v, 1980000);
    CUDA_OK(cudaDeviceGetAttribute(&v, cudaDevAttrMaxSharedMemoryPerBlockOptin, 0));
    assert_int_equal(v, 227 * 1024);
    /* cudaErrorInvalidDevice: "device ordinal ... does not correspond to a valid CUDA device" */
    assert_int_equal(cudaGetDeviceProperties(&p, 1), cudaErrorInvalidDevice);
    assert_int_equal(cudaDeviceGetAttribute(&v, cudaDevAttrClockRate, 1), cudaErrorInvalidDevice);
    int rtv = 0, drv = 0;
    CUDA_OK(cudaRuntimeGetVersion(&rtv));
    CUDA_OK(cudaDriverGetVersion(&drv));
    assert_int_equal(rtv, 13000);
    assert_true(drv >= rtv);
}

/* CUDA Runtime API, cudaMemGetInfo: free and total device memory (total is
 * the reference 80 GiB; free drops by what cudaMalloc took). */
static void test_mem_get_info(void **state)
{
    (void)state;
    size_t f0, t0, f1, t1;
    CUDA_OK(cudaMemGetInfo(&f0, &t0));
    assert_true(t0 == 80ULL << 30);
    void *p = dmalloc(1 << 20);
    CUDA_OK(cudaMemGetInfo(&f1, &t1));
    assert_true(t1 == t0 && f1 == f0 - (1 << 20));
    CUDA_OK(cudaFree(p));
    assert_int_equal(cudaMemGetInfo(NULL, &t1), cudaErrorInvalidValue);
}

/* The stand-in's free-memory cap (standin_set_device_free, as
 * STANDIN_DEVICE_FREE_MB): cudaMemGetInfo's free is the cap less what is
 * allocated, total stays 80 GiB, a cudaMalloc beyond it is
 * cudaErrorMemoryAllocation naming the cap; standin_reset lifts it. */
static void test_device_free_cap(void **state)
{
    (void)state;
    size_t f, t;
    standin_set_device_free((size_t)3 << 20);
    CUDA_OK(cudaMemGetInfo(&f, &t));
    assert_true(f == (size_t)3 << 20 && t == 80ULL << 30);
    void *p = dmalloc((size_t)2 << 20), *q = NULL;
    CUDA_OK(cudaMemGetInfo(&f, &t));
    assert_true(f == (size_t)1 << 20);
    assert_int_equal(cudaMalloc(&q, ((size_t)1 << 20) + 1), cudaErrorMemoryAllocation);
    assert_true(standin_fail_contains("1048576 free (3 MiB of the device's 80 GiB left to this process"));
    assert_int_equal(cudaGetLastError(), cudaErrorMemoryAllocation);
    CUDA_OK(cudaMalloc(&q, (size_t)1 << 20));
    CUDA_OK(cudaFree(q));
    CUDA_OK(cudaFree(p));
    standin_reset();
    CUDA_OK(cudaMemGetInfo(&f, &t));
    assert_true(f == 80ULL << 30);
}

/* CUDA Runtime API, cudaGetDeviceCount: cudaErrorNoDevice /
 * cudaErrorInsufficientDriver (simulated); cuBLAS 2.4.1 cublasCreate:
 * CUBLAS_STATUS_NOT_INITIALIZED when "the CUDA Runtime initialization failed". */
static void test_no_device_modes(void **state)
{
    (void)state;
    int n = 7;
    standin_set_device_mode(STANDIN_NO_DEVICE);
    assert_int_equal(cudaGetDeviceCount(&n), cudaErrorNoDevice);
    assert_int_equal(n, 0);
    cublasHandle_t h;
    assert_int_equal(cublasCreate(&h), CUBLAS_STATUS_NOT_INITIALIZED);
    standin_set_device_mode(STANDIN_OLD_DRIVER);
    assert_int_equal(cudaGetDeviceCount(&n), cudaErrorInsufficientDriver);
    void *p;
    assert_int_equal(cudaMalloc(&p, 16), cudaErrorInsufficientDriver);
    standin_set_device_mode(STANDIN_DEVICE_OK);
    CUDA_OK(cudaGetDeviceCount(&n));
    assert_int_equal(n, 1);
}

/* CUDA Runtime API, cudaGetLastError: "Returns the last error that has been
 * produced by any of the runtime calls in the same instance of the CUDA
 * Runtime library in the host thread and resets it to cudaSuccess";
 * cudaPeekAtLastError does not reset it. cudaGetErrorName/String. */
static void test_last_error(void **state)
{
    (void)state;
    CUDA_OK(cudaGetLastError());
    assert_int_equal(cudaMalloc(NULL, 16), cudaErrorInvalidValue);
    assert_int_equal(cudaPeekAtLastError(), cudaErrorInvalidValue);
    assert_int_equal(cudaGetLastError(), cudaErrorInvalidValue);
    CUDA_OK(cudaGetLastError());
    assert_string_equal(cudaGetErrorName(cudaErrorStreamCaptureInvalidated), "cudaErrorStreamCaptureInvalidated");
    assert_string_equal(cudaGetErrorName(cudaErrorIllegalAddress), "cudaErrorIllegalAddress");
    assert_string_equal(cudaGetErrorString(cudaErrorInvalidValue), "invalid argument");
    EXPECT_MSG("cudaMalloc: devPtr is NULL");
}

/* ======================================================================= */
/* Device memory                                                            */
/* ======================================================================= */

/* CUDA Runtime API, cudaMalloc ("suitably aligned for any kind of variable.
 * The memory is not cleared") and cudaFree ("If cudaFree(devPtr) has already
 * been called before, an error is returned. If devPtr is 0, no operation is
 * performed"; cudaErrorInvalidValue). Stand-in rules: 256-byte alignment,
 * fresh memory reads 0xFF, a host or interior pointer cannot be freed. */
static void test_malloc_free(void **state)
{
    (void)state;
    unsigned char *p = dmalloc(1000);
    assert_int_equal((uintptr_t)p % 256, 0);
    assert_true(standin_is_device_ptr(p, 1000));
    assert_false(standin_is_device_ptr(p, 1001));
    assert_false(standin_is_device_ptr(p + 500, 501));
    assert_true(standin_is_device_ptr(p + 1000, 0));
    unsigned char h[1000];
    d2h(h, p, sizeof h);
    for (size_t i = 0; i < sizeof h; i++)
        assert_int_equal(h[i], 0xFF);
    assert_false(standin_is_device_ptr(h, 1));
    assert_int_equal(cudaFree(p + 8), cudaErrorInvalidValue);
    EXPECT_MSG("not the start of an allocation");
    assert_int_equal(cudaFree(h), cudaErrorInvalidValue);
    EXPECT_MSG("host pointer");
    CUDA_OK(cudaFree(NULL));
    CUDA_OK(cudaFree(p));
    assert_false(standin_is_device_ptr(p, 1));
    assert_int_equal(cudaFree(p), cudaErrorInvalidValue);
    EXPECT_MSG("double free");
    void *z = (void *)1;
    CUDA_OK(cudaMalloc(&z, 0));
    assert_null(z);
    /* cudaMallocHost / cudaFreeHost: page-locked host memory, not device memory. */
    void *pin = NULL;
    CUDA_OK(cudaMallocHost(&pin, 64));
    assert_false(standin_is_device_ptr(pin, 1));
    void *d = dmalloc(64);
    assert_int_equal(cudaFreeHost(d), cudaErrorInvalidValue);
    assert_int_equal(cudaFree(pin), cudaErrorInvalidValue);
    CUDA_OK(cudaFreeHost(pin));
    CUDA_OK(cudaFree(d));
}

/* Stand-in rule: redzones around every allocation; a write past the end is
 * reported at cudaFree (cudaErrorIllegalAddress, sticky like a device fault)
 * and one before the start at the next synchronisation. Under ASan the
 * redzones are also poisoned. */
static void test_redzone_detected_at_free(void **state)
{
    (void)state;
    unsigned char *p = dmalloc(100);
#ifdef TEST_ASAN
    assert_true(__asan_address_is_poisoned(p + 100));
    assert_true(__asan_address_is_poisoned(p - 1));
    assert_false(__asan_address_is_poisoned(p + 99));
#endif
    standin_set_host_access_guard(0);
    poke(p + 100, 0x00); /* one byte past the end */
    standin_set_host_access_guard(1);
    assert_int_equal(cudaFree(p), cudaErrorIllegalAddress);
    EXPECT_MSG("tail redzone");
    /* sticky, as a device fault is */
    assert_int_equal(cudaGetLastError(), cudaErrorIllegalAddress);
    void *q;
    assert_int_equal(cudaMalloc(&q, 8), cudaErrorIllegalAddress);
}

/* A large freed block leaving the quarantine gives its pages back to the
 * kernel, but only whole pages: the allocation placed right after it (its
 * redzone in the freed block's last, partial page) stays intact. */
static void test_quarantine_release_keeps_neighbour(void **state)
{
    (void)state;
    void *big = dmalloc((size_t)65 << 20); /* over the 64 MiB quarantine: released at once */
    void *next = dmalloc(64);
    CUDA_OK(cudaFree(big));
    CUDA_OK(cudaFree(next));
    assert_int_equal(standin_fail_count(), 0);
}

static void test_redzone_detected_at_sync(void **state)
{
    (void)state;
    unsigned char *p = dmalloc(64);
    standin_set_host_access_guard(0);
    poke(p - 3, 0x11); /* before the start */
    standin_set_host_access_guard(1);
    assert_int_equal(cudaStreamSynchronize(0), cudaErrorIllegalAddress);
    EXPECT_MSG("front redzone");
}

/* Stand-in rule: device memory is not host memory. Outside queued work the
 * arena is mapped PROT_NONE, so a host dereference of a device pointer
 * faults, as it does with a GPU. */
static void test_host_deref_of_device_memory_faults(void **state)
{
    (void)state;
    double *d = dmalloc(64);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* the default action, not cmocka's or ASan's handler */
        signal(SIGSEGV, SIG_DFL);
        signal(SIGBUS, SIG_DFL);
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0)
            dup2(fd, 2);
        volatile double x = d[0];
        (void)x;
        _exit(0); /* not reached when the guard works */
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_false(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CUDA_OK(cudaFree(d));
}

/* CUDA Runtime API, cudaMemcpyAsync / cudaMemcpy: kind "must be one of"
 * the cudaMemcpyKind values (else cudaErrorInvalidMemcpyDirection); pointers
 * that do not match the direction are undefined behaviour on the hardware,
 * cudaErrorInvalidValue here (stand-in rule), as are out-of-bounds device
 * ranges and overlapping areas ("The memory areas may not overlap"). */
static void test_memcpy_kind_checks(void **state)
{
    (void)state;
    double h[8] = {1, 2, 3, 4, 5, 6, 7, 8}, g[8];
    double *d = dmalloc(sizeof h), *e = dmalloc(sizeof h);
    assert_int_equal(cudaMemcpy(d, e, sizeof h, cudaMemcpyHostToDevice), cudaErrorInvalidValue);
    EXPECT_MSG("needs host memory at src");
    assert_int_equal(cudaMemcpy(h, g, sizeof h, cudaMemcpyHostToDevice), cudaErrorInvalidValue);
    EXPECT_MSG("needs device memory at dst");
    assert_int_equal(cudaMemcpyAsync(g, h, sizeof h, cudaMemcpyDeviceToHost, 0), cudaErrorInvalidValue);
    assert_int_equal(cudaMemcpyAsync(d, h, sizeof h, (enum cudaMemcpyKind)7, 0), cudaErrorInvalidMemcpyDirection);
    assert_int_equal(cudaMemcpyAsync(d, h, sizeof h + 1, cudaMemcpyHostToDevice, 0), cudaErrorInvalidValue);
    EXPECT_MSG("past its end");
    assert_int_equal(cudaMemcpyAsync(d + 1, d, 2 * sizeof(double), cudaMemcpyDeviceToDevice, 0),
                     cudaErrorInvalidValue);
    EXPECT_MSG("overlap");
    assert_int_equal(cudaMemsetAsync(h, 0, sizeof h, 0), cudaErrorInvalidValue);
    /* cudaMemcpyDefault infers the direction from the pointers. */
    CUDA_OK(cudaMemcpy(d, h, sizeof h, cudaMemcpyDefault));
    CUDA_OK(cudaMemcpy(e, d, sizeof h, cudaMemcpyDefault));
    CUDA_OK(cudaMemcpy(g, e, sizeof h, cudaMemcpyDefault));
    assert_memory_equal(g, h, sizeof h);
    CUDA_OK(cudaFree(d));
    CUDA_OK(cudaFree(e));
}

/* CUDA Runtime API, cudaMemcpy2DAsync: "width must not exceed either dpitch
 * or spitch" (cudaErrorInvalidPitchValue); height rows of width bytes. */
static void test_memcpy2d(void **state)
{
    (void)state;
    double host[4 * 3], back[4 * 3];
    for (int i = 0; i < 12; i++)
        host[i] = i + 1;
    const size_t dpitch = 6 * sizeof(double);
    double *d = dmalloc(dpitch * 3);
    cudaStream_t s;
    CUDA_OK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    CUDA_OK(cudaMemsetAsync(d, 0, dpitch * 3, s));
    CUDA_OK(cudaMemcpy2DAsync(d, dpitch, host, 4 * sizeof(double), 4 * sizeof(double), 3, cudaMemcpyHostToDevice, s));
    CUDA_OK(cudaMemcpy2DAsync(back, 4 * sizeof(double), d, dpitch, 4 * sizeof(double), 3, cudaMemcpyDeviceToHost, s));
    CUDA_OK(cudaStreamSynchronize(s));
    assert_memory_equal(back, host, sizeof host);
    assert_int_equal(cudaMemcpy2DAsync(d, 2 * sizeof(double), host, 4 * sizeof(double), 4 * sizeof(double), 3,
                                       cudaMemcpyHostToDevice, s),
                     cudaErrorInvalidPitchValue);
    /* the last row would run past the allocation */
    assert_int_equal(cudaMemcpy2DAsync(d, dpitch, host, 4 * sizeof(double), 4 * sizeof(double), 4,
                                       cudaMemcpyHostToDevice, s),
                     cudaErrorInvalidValue);
    CUDA_OK(cudaStreamDestroy(s));
    CUDA_OK(cudaFree(d));
}

/* ======================================================================= */
/* Streams and events                                                       */
/* ======================================================================= */

/* CUDA Runtime API, cudaMemcpyAsync: "asynchronous with respect to the host,
 * so the call may return before the copy is complete". Stand-in rule: work
 * runs only when waited for, so reading a download before
 * cudaStreamSynchronize sees the pending-download poison (NaN). */
static void test_lazy_stream(void **state)
{
    (void)state;
    double src[16], dst[16];
    for (int i = 0; i < 16; i++)
        src[i] = i * 0.5, dst[i] = -1;
    double *d = dmalloc(sizeof src);
    cudaStream_t s;
    CUDA_OK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    CUDA_OK(cudaMemcpyAsync(d, src, sizeof src, cudaMemcpyHostToDevice, s));
    CUDA_OK(cudaMemcpyAsync(dst, d, sizeof dst, cudaMemcpyDeviceToHost, s));
    /* nothing has waited yet: the destination holds the pending-download
     * poison (a NaN per double), not the data, nor its old bytes */
    assert_true(standin_is_pending_poison(dst, sizeof dst));
    for (int i = 0; i < 16; i++)
        assert_true(dst[i] != dst[i]);
    CUDA_OK(cudaStreamSynchronize(s));
    assert_memory_equal(dst, src, sizeof src);
    /* a memset followed by a download: same story */
    CUDA_OK(cudaMemsetAsync(d, 0, sizeof src, s));
    CUDA_OK(cudaMemcpyAsync(dst, d, sizeof dst, cudaMemcpyDeviceToHost, s));
    assert_true(standin_is_pending_poison(dst, sizeof dst));
    CUDA_OK(cudaStreamSynchronize(s));
    for (int i = 0; i < 16; i++)
        assert_true(dst[i] == 0);
    CUDA_OK(cudaStreamDestroy(s));
    assert_int_equal(cudaStreamSynchronize(s), cudaErrorInvalidResourceHandle);
    CUDA_OK(cudaFree(d));
}

/* One pinned buffer used both ways (as cuda/arrow_backend.cu does): the
 * upload queued first reads the data, not the later download's poison; the
 * same in a graph, replayed. */
static void test_pending_poison_stream_order(void **state)
{
    (void)state;
    double *h = NULL, *d = dmalloc(8 * sizeof(double)), *d2 = dmalloc(8 * sizeof(double));
    CUDA_OK(cudaMallocHost((void **)&h, 8 * sizeof(double)));
    cudaStream_t s;
    CUDA_OK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    for (int i = 0; i < 8; i++)
        h[i] = i + 1.0;
    CUDA_OK(cudaMemcpyAsync(d, h, 8 * sizeof(double), cudaMemcpyHostToDevice, s));
    CUDA_OK(cudaMemcpyAsync(h, d2, 8 * sizeof(double), cudaMemcpyDeviceToHost, s));
    assert_true(standin_is_pending_poison(h, 8 * sizeof(double)));
    CUDA_OK(cudaMemcpyAsync(h, d, 8 * sizeof(double), cudaMemcpyDeviceToHost, s));
    CUDA_OK(cudaStreamSynchronize(s));
    for (int i = 0; i < 8; i++)
        assert_true(h[i] == i + 1.0); /* the upload saw the data, not the poison */
    /* the same in a graph: upload from h, then download into h */
    cudaGraph_t g = NULL;
    cudaGraphExec_t ge = NULL;
    CUDA_OK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
    CUDA_OK(cudaMemcpyAsync(d, h, 8 * sizeof(double), cudaMemcpyHostToDevice, s));
    CUDA_OK(cudaMemcpyAsync(h, d, 8 * sizeof(double), cudaMemcpyDeviceToHost, s));
    CUDA_OK(cudaStreamEndCapture(s, &g));
    CUDA_OK(cudaGraphInstantiate(&ge, g, 0));
    for (int r = 0; r < 2; r++) {
        CUDA_OK(cudaGraphLaunch(ge, s));
        assert_false(standin_is_pending_poison(h, 8 * sizeof(double)));
        CUDA_OK(cudaStreamSynchronize(s));
        for (int i = 0; i < 8; i++)
            assert_true(h[i] == i + 1.0);
    }
    /* a graph that only downloads: poisoned at each launch */
    cudaGraph_t g2 = NULL;
    cudaGraphExec_t ge2 = NULL;
    CUDA_OK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
    CUDA_OK(cudaMemcpyAsync(h, d, 8 * sizeof(double), cudaMemcpyDeviceToHost, s));
    CUDA_OK(cudaStreamEndCapture(s, &g2));
    CUDA_OK(cudaGraphInstantiate(&ge2, g2, 0));
    CUDA_OK(cudaGraphLaunch(ge2, s));
    assert_true(standin_is_pending_poison(h, 8 * sizeof(double)));
    CUDA_OK(cudaStreamSynchronize(s));
    assert_true(h[7] == 8.0);
    CUDA_OK(cudaGraphExecDestroy(ge));
    CUDA_OK(cudaGraphDestroy(g));
    CUDA_OK(cudaGraphExecDestroy(ge2));
    CUDA_OK(cudaGraphDestroy(g2));
    CUDA_OK(cudaStreamDestroy(s));
    CUDA_OK(cudaFreeHost(h));
    CUDA_OK(cudaFree(d));
    CUDA_OK(cudaFree(d2));
}

/* driver_types.h, cudaStreamNonBlocking: "Stream does not synchronize with
 * stream 0 (the NULL stream)"; a blocking stream does. Waiting on the legacy
 * stream therefore runs earlier work of blocking streams only. */
static void test_legacy_stream_semantics(void **state)
{
    (void)state;
    unsigned char hb[32], hn[32];
    memset(hb, 0x77, sizeof hb);
    memset(hn, 0x77, sizeof hn);
    unsigned char *db = dmalloc(32), *dn = dmalloc(32);
    cudaStream_t blocking, nonblocking;
    CUDA_OK(cudaStreamCreate(&blocking));
    CUDA_OK(cudaStreamCreateWithFlags(&nonblocking, cudaStreamNonBlocking));
    CUDA_OK(cudaMemsetAsync(db, 1, 32, blocking));
    CUDA_OK(cudaMemsetAsync(dn, 2, 32, nonblocking));
    CUDA_OK(cudaMemcpyAsync(hb, db, 32, cudaMemcpyDeviceToHost, 0));
    CUDA_OK(cudaStreamSynchronize(0));
    for (int i = 0; i < 32; i++)
        assert_int_equal(hb[i], 1); /* the blocking stream's memset ran first */
    CUDA_OK(cudaMemcpyAsync(hn, dn, 32, cudaMemcpyDeviceToHost, 0));
    CUDA_OK(cudaStreamSynchronize(0));
    for (int i = 0; i < 32; i++)
        assert_int_equal(hn[i], 0xFF); /* the non-blocking stream's memset has not */
    CUDA_OK(cudaStreamSynchronize(nonblocking));
    CUDA_OK(cudaStreamDestroy(blocking));
    CUDA_OK(cudaStreamDestroy(nonblocking));
    CUDA_OK(cudaFree(db));
    CUDA_OK(cudaFree(dn));
}

/* CUDA Runtime API, cudaEventElapsedTime: "If cudaEventRecord() has not been
 * called on either event, then cudaErrorInvalidResourceHandle is returned. If
 * cudaEventRecord() has been called on both events but one or both of them
 * has not yet been completed ..., cudaErrorNotReady is returned. If either
 * event was created with the cudaEventDisableTiming flag, then this function
 * will return cudaErrorInvalidResourceHandle." */
static void test_events(void **state)
{
    (void)state;
    cudaStream_t s;
    cudaEvent_t e0, e1, never, notime;
    float ms = -1;
    CUDA_OK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    CUDA_OK(cudaEventCreate(&e0));
    CUDA_OK(cudaEventCreate(&e1));
    CUDA_OK(cudaEventCreate(&never));
    CUDA_OK(cudaEventCreateWithFlags(&notime, cudaEventDisableTiming));
    void *d = dmalloc(1 << 16);
    CUDA_OK(cudaEventRecord(e0, s));
    CUDA_OK(cudaMemsetAsync(d, 3, 1 << 16, s));
    CUDA_OK(cudaEventRecord(e1, s));
    assert_int_equal(cudaEventElapsedTime(&ms, e0, e1), cudaErrorNotReady);
    assert_int_equal(cudaEventElapsedTime(&ms, e0, never), cudaErrorInvalidResourceHandle);
    CUDA_OK(cudaEventSynchronize(never)); /* never recorded: returns at once */
    CUDA_OK(cudaEventSynchronize(e1));
    CUDA_OK(cudaEventElapsedTime(&ms, e0, e1));
    assert_true(ms >= 0);
    CUDA_OK(cudaEventRecord(notime, s));
    CUDA_OK(cudaEventSynchronize(notime));
    assert_int_equal(cudaEventElapsedTime(&ms, e0, notime), cudaErrorInvalidResourceHandle);
    assert_int_equal(cudaEventElapsedTime(NULL, e0, e1), cudaErrorInvalidValue);
    CUDA_OK(cudaEventDestroy(e0));
    assert_int_equal(cudaEventRecord(e0, s), cudaErrorInvalidResourceHandle);
    CUDA_OK(cudaEventDestroy(e1));
    CUDA_OK(cudaEventDestroy(never));
    CUDA_OK(cudaEventDestroy(notime));
    CUDA_OK(cudaStreamDestroy(s));
    CUDA_OK(cudaFree(d));
}

/* The layer below the future kernel launcher: standin_enqueue_c work is
 * lazy like any other. */
static void bump(void *arg) { ++*(int *)arg; }

static void test_enqueue_api(void **state)
{
    (void)state;
    int counter = 0;
    cudaStream_t s;
    CUDA_OK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    CUDA_OK(standin_enqueue_c(s, "bump", bump, &counter));
    CUDA_OK(standin_enqueue_c(s, "bump", bump, &counter));
    assert_int_equal(counter, 0);
    CUDA_OK(cudaStreamSynchronize(s));
    assert_int_equal(counter, 2);
    assert_int_equal(standin_enqueue_c((cudaStream_t)&counter, "bump", bump, &counter), cudaErrorInvalidResourceHandle);
    CUDA_OK(cudaStreamDestroy(s));
}

/* The headers from C++ (test_standin_cxx.cpp): templates, default
 * arguments, standin_enqueue with a lambda, standin_fail_messages(). */
int standin_cxx_smoke(void);

static void test_cxx_headers(void **state)
{
    (void)state;
    const int line = standin_cxx_smoke();
    if (line != 0) {
        dump_messages();
        fail_msg("test_standin_cxx.cpp: check at line %d failed", line);
    }
}

/* ======================================================================= */
/* Stream capture and graphs                                                */
/* ======================================================================= */

/* CUDA Runtime API, cudaStreamBeginCapture: "all operations pushed into the
 * stream will not be executed, but will instead be captured into a graph";
 * cudaGraphLaunch replays it (and can be launched again). */
static void test_capture_replay_twice(void **state)
{
    (void)state;
    int counter = 0;
    cudaStream_t s;
    cudaGraph_t g;
    cudaGraphExec_t x;
    CUDA_OK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    /* y += A x captured with cuBLAS (workspace set, see the cuBLAS test) */
    double A[6] = {1, 2, 3, 4, 5, 6}, xv[3] = {1, 1, 1}, y0[2] = {10, 20}, y[2];
    double *dA = dev_copy(A, 6), *dx = dev_copy(xv, 3), *dy = dev_copy(y0, 2);
    void *ws = dmalloc(1 << 16);
    cublasHandle_t h;
    BLAS_OK(cublasCreate(&h));
    BLAS_OK(cublasSetStream(h, s));
    BLAS_OK(cublasSetWorkspace(h, ws, 1 << 16));
    const double one = 1.0;
    CUDA_OK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
    enum cudaStreamCaptureStatus cs;
    CUDA_OK(cudaStreamIsCapturing(s, &cs));
    assert_int_equal(cs, cudaStreamCaptureStatusActive);
    CUDA_OK(standin_enqueue_c(s, "bump", bump, &counter));
    BLAS_OK(cublasDgemv(h, CUBLAS_OP_N, 2, 3, &one, dA, 2, dx, 1, &one, dy, 1));
    CUDA_OK(cudaStreamEndCapture(s, &g));
    assert_non_null(g);
    CUDA_OK(cudaGraphInstantiate(&x, g, 0));
    CUDA_OK(cudaStreamSynchronize(s));
    assert_int_equal(counter, 0); /* captured, not executed */
    CUDA_OK(cudaGraphLaunch(x, s));
    CUDA_OK(cudaGraphLaunch(x, s));
    assert_int_equal(counter, 0); /* launched, not yet waited for */
    CUDA_OK(cudaStreamSynchronize(s));
    assert_int_equal(counter, 2);
    d2h(y, dy, sizeof y);
    /* A x = (1+3+5, 2+4+6) = (9, 12), twice */
    assert_true(y[0] == 10 + 2 * 9 && y[1] == 20 + 2 * 12);
    /* The exec survives the graph (a snapshot). */
    CUDA_OK(cudaGraphDestroy(g));
    CUDA_OK(cudaGraphLaunch(x, s));
    CUDA_OK(cudaStreamSynchronize(s));
    assert_int_equal(counter, 3);
    CUDA_OK(cudaGraphExecDestroy(x));
    assert_int_equal(cudaGraphLaunch(x, s), cudaErrorInvalidValue);
    assert_int_equal(cudaGraphDestroy(g), cudaErrorInvalidValue);
    BLAS_OK(cublasDestroy(h));
    CUDA_OK(cudaStreamDestroy(s));
}

/* Programming Guide, Stream Capture, Prohibited and Unhandled Operations: "It
 * is invalid to synchronize or query the execution status of a stream which
 * is being captured"; Invalidation: "any associated capture graphs are
 * invalidated"; cudaStreamEndCapture: "If capture was invalidated ... a NULL
 * graph will be returned" (cudaErrorStreamCaptureInvalidated). */
static void test_capture_sync_invalidates(void **state)
{
    (void)state;
    cudaStream_t s;
    cudaGraph_t g = (cudaGraph_t)1;
    void *d = dmalloc(64);
    CUDA_OK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    CUDA_OK(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal));
    CUDA_OK(cudaMemsetAsync(d, 0, 64, s));
    assert_int_equal(cudaStreamSynchronize(s), cudaErrorStreamCaptureUnsupported);
    enum cudaStreamCaptureStatus cs;
    CUDA_OK(cudaStreamIsCapturing(s, &cs));
    assert_int_equal(cs, cudaStreamCaptureStatusInvalidated);
    assert_int_equal(cudaMemsetAsync(d, 0, 64, s), cudaErrorStreamCaptureInvalidated);
    assert_int_equal(cudaStreamEndCapture(s, &g), cudaErrorStreamCaptureInvalidated);
    assert_null(g);
    CUDA_OK(cudaStreamIsCapturing(s, &cs));
    assert_int_equal(cs, cudaStreamCaptureStatusNone);
    /* cudaStreamBeginCapture: "Capture may not be initiated if stream is
     * cudaStreamLegacy" (cudaErrorInvalidValue). */
    assert_int_equal(cudaStreamBeginCapture(0, cudaStreamCaptureModeGlobal), cudaErrorInvalidValue);
    /* cudaStreamEndCapture on a stream that is not capturing. */
    assert_int_equal(cudaStreamEndCapture(s, &g), cudaErrorInvalidValue);
    CUDA_OK(cudaStreamDestroy(s));
    CUDA_OK(cudaFree(d));
}

/* CUDA Runtime API, cudaThreadExchangeStreamCaptureMode: in global and
 * thread-local mode "potentially unsafe API calls" such as cudaMalloc are
 * prohibited while this thread has a capture not begun in relaxed mode
 * (cudaErrorStreamCaptureUnsupported, the capture invalidated); relaxed mode
 * allows them. */
static void test_capture_unsafe_calls(void **state)
{
    (void)state;
    cudaStream_t s;
    cudaGraph_t g;
    void *p = NULL;
    CUDA_OK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    const enum cudaStreamCaptureMode modes[2] = {cudaStreamCaptureModeGlobal, cudaStreamCaptureModeThreadLocal};
    for (int i = 0; i < 2; i++) {
        CUDA_OK(cudaStreamBeginCapture(s, modes[i]));
        assert_int_equal(cudaMalloc(&p, 64), cudaErrorStreamCaptureUnsupported);
        EXPECT_MSG("potentially unsafe");
        assert_int_equal(cudaGetLastError(), cudaErrorStreamCaptureUnsupported);
        assert_int_equal(cudaStreamEndCapture(s, &g), cudaErrorStreamCaptureInvalidated);
    }
    void *d = dmalloc(64);
    CUDA_OK(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal));
    assert_int_equal(cudaFree(d), cudaErrorStreamCaptureUnsupported);
    assert_int_equal(cudaStreamEndCapture(s, &g), cudaErrorStreamCaptureInvalidated);
    /* synchronous cudaMemcpy is potentially unsafe too */
    double h = 1;
    CUDA_OK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
    assert_int_equal(cudaMemcpy(d, &h, sizeof h, cudaMemcpyHostToDevice), cudaErrorStreamCaptureUnsupported);
    assert_int_equal(cudaStreamEndCapture(s, &g), cudaErrorStreamCaptureInvalidated);
    /* relaxed: allowed */
    CUDA_OK(cudaStreamBeginCapture(s, cudaStreamCaptureModeRelaxed));
    CUDA_OK(cudaMalloc(&p, 64));
    CUDA_OK(cudaStreamEndCapture(s, &g));
    assert_non_null(g);
    CUDA_OK(cudaGraphDestroy(g));
    CUDA_OK(cudaFree(p));
    /* the thread's own interaction mode set to relaxed also allows it */
    enum cudaStreamCaptureMode m = cudaStreamCaptureModeRelaxed;
    CUDA_OK(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal));
    CUDA_OK(cudaThreadExchangeStreamCaptureMode(&m));
    assert_int_equal(m, cudaStreamCaptureModeGlobal);
    CUDA_OK(cudaMalloc(&p, 64));
    CUDA_OK(cudaThreadExchangeStreamCaptureMode(&m));
    CUDA_OK(cudaStreamEndCapture(s, &g));
    CUDA_OK(cudaGraphDestroy(g));
    CUDA_OK(cudaFree(p));
    CUDA_OK(cudaFree(d));
    CUDA_OK(cudaStreamDestroy(s));
}

/* Other threads (cudaThreadExchangeStreamCaptureMode): with the default
 * (global) interaction mode a thread is prohibited from unsafe calls while
 * "any other thread has a concurrent capture sequence initiated with
 * cudaStreamCaptureModeGlobal"; a thread-local capture is ignored by other
 * threads. cudaStreamEndCapture from another thread of a non-relaxed capture
 * gives cudaErrorStreamCaptureWrongThread. */
struct thread_result {
    cudaError_t malloc_err;
    cudaError_t end_err;
    cudaStream_t stream;
};

static void *other_thread(void *arg)
{
    struct thread_result *r = arg;
    void *p = NULL;
    r->malloc_err = cudaMalloc(&p, 64);
    if (r->malloc_err == cudaSuccess)
        cudaFree(p);
    cudaGraph_t g;
    r->end_err = cudaStreamEndCapture(r->stream, &g);
    return NULL;
}

static void test_capture_other_threads(void **state)
{
    (void)state;
    cudaStream_t s;
    cudaGraph_t g;
    pthread_t t;
    struct thread_result r;
    CUDA_OK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));

    CUDA_OK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
    r.stream = s;
    assert_int_equal(pthread_create(&t, NULL, other_thread, &r), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(r.malloc_err, cudaSuccess);
    assert_int_equal(r.end_err, cudaErrorStreamCaptureWrongThread);
    CUDA_OK(cudaStreamEndCapture(s, &g)); /* still valid */
    CUDA_OK(cudaGraphDestroy(g));

    CUDA_OK(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal));
    assert_int_equal(pthread_create(&t, NULL, other_thread, &r), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(r.malloc_err, cudaErrorStreamCaptureUnsupported);
    assert_int_equal(cudaStreamEndCapture(s, &g), cudaErrorStreamCaptureInvalidated);
    CUDA_OK(cudaStreamDestroy(s));
}

/* Programming Guide, Prohibited and Unhandled Operations: synchronizing "a
 * captured event" is invalid (cudaErrorCapturedEvent: "The operation is not
 * permitted on an event which was last recorded in a capturing stream"), and
 * invalidates the capture. cudaStreamIsCapturing / cudaErrorStreamCaptureImplicit:
 * "When a blocking stream is capturing, the legacy stream is in an unusable
 * state until the blocking stream capture is terminated." */
static void test_capture_events_and_legacy(void **state)
{
    (void)state;
    cudaStream_t s, b;
    cudaEvent_t e;
    cudaGraph_t g;
    void *d = dmalloc(64);
    CUDA_OK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    CUDA_OK(cudaEventCreate(&e));
    CUDA_OK(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal));
    CUDA_OK(cudaEventRecord(e, s));
    assert_int_equal(cudaEventSynchronize(e), cudaErrorCapturedEvent);
    assert_int_equal(cudaStreamEndCapture(s, &g), cudaErrorStreamCaptureInvalidated);

    CUDA_OK(cudaStreamCreate(&b)); /* blocking */
    CUDA_OK(cudaStreamBeginCapture(b, cudaStreamCaptureModeGlobal));
    assert_int_equal(cudaMemsetAsync(d, 0, 64, 0), cudaErrorStreamCaptureImplicit);
    assert_int_equal(cudaStreamEndCapture(b, &g), cudaErrorStreamCaptureInvalidated);
    /* a non-blocking capture leaves the legacy stream usable */
    CUDA_OK(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal));
    CUDA_OK(cudaMemsetAsync(d, 0, 64, 0));
    CUDA_OK(cudaStreamEndCapture(s, &g));
    CUDA_OK(cudaGraphDestroy(g));
    /* cudaDeviceSynchronize during a capture: invalid (a device handle
     * "encompasses an active stream capture") */
    CUDA_OK(cudaStreamBeginCapture(s, cudaStreamCaptureModeRelaxed));
    assert_int_equal(cudaDeviceSynchronize(), cudaErrorStreamCaptureUnsupported);
    assert_int_equal(cudaStreamEndCapture(s, &g), cudaErrorStreamCaptureInvalidated);
    CUDA_OK(cudaEventDestroy(e));
    CUDA_OK(cudaStreamDestroy(s));
    CUDA_OK(cudaStreamDestroy(b));
    CUDA_OK(cudaFree(d));
}

/* Stand-in rule: captured work re-checks its device memory at every replay;
 * memory freed after the capture makes the replay an illegal address, sticky
 * like a device fault (cudaErrorIllegalAddress: "an illegal memory access was
 * encountered"). */
static void test_replay_after_free_faults(void **state)
{
    (void)state;
    cudaStream_t s;
    cudaGraph_t g;
    cudaGraphExec_t x;
    void *d = dmalloc(64);
    CUDA_OK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    CUDA_OK(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal));
    CUDA_OK(cudaMemsetAsync(d, 1, 64, s));
    CUDA_OK(cudaStreamEndCapture(s, &g));
    CUDA_OK(cudaGraphInstantiate(&x, g, 0));
    CUDA_OK(cudaFree(d));
    CUDA_OK(cudaGraphLaunch(x, s));
    assert_int_equal(cudaStreamSynchronize(s), cudaErrorIllegalAddress);
    EXPECT_MSG("illegal address at execution");
}

/* ======================================================================= */
/* cuBLAS                                                                   */
/* ======================================================================= */

/* cuBLAS 2.4.1 cublasCreate (INVALID_VALUE: handle is NULL), 2.4.2
 * cublasDestroy / 2.4.7 cublasSetStream (NOT_INITIALIZED: the library was not
 * initialized), 2.4.11 cublasSetPointerMode (INVALID_VALUE: mode not HOST or
 * DEVICE), 2.4.8 cublasSetWorkspace (INVALID_VALUE: "The workspace pointer
 * wasn't aligned to at least 256 bytes"; stand-in rule: it must be device
 * memory of the size given), 2.4.5/2.4.6 cublasGetStatusName/String. */
static void test_cublas_helpers(void **state)
{
    (void)state;
    cublasHandle_t h;
    assert_int_equal(cublasCreate(NULL), CUBLAS_STATUS_INVALID_VALUE);
    BLAS_OK(cublasCreate(&h));
    assert_int_equal(cublasSetPointerMode(h, (cublasPointerMode_t)2), CUBLAS_STATUS_INVALID_VALUE);
    unsigned char *ws = dmalloc(4096);
    assert_int_equal(cublasSetWorkspace(h, ws + 8, 1024), CUBLAS_STATUS_INVALID_VALUE);
    EXPECT_MSG("not aligned to 256 bytes");
    static _Alignas(256) unsigned char host_ws[1024];
    assert_int_equal(cublasSetWorkspace(h, host_ws, sizeof host_ws), CUBLAS_STATUS_INVALID_VALUE);
    EXPECT_MSG("host pointer");
    assert_int_equal(cublasSetWorkspace(h, ws, 8192), CUBLAS_STATUS_INVALID_VALUE);
    BLAS_OK(cublasSetWorkspace(h, ws, 4096));
    BLAS_OK(cublasSetWorkspace(h, NULL, 0));
    BLAS_OK(cublasDestroy(h));
    assert_int_equal(cublasSetStream(h, 0), CUBLAS_STATUS_NOT_INITIALIZED);
    assert_int_equal(cublasDestroy(h), CUBLAS_STATUS_NOT_INITIALIZED);
    assert_string_equal(cublasGetStatusName(CUBLAS_STATUS_INVALID_VALUE), "CUBLAS_STATUS_INVALID_VALUE");
    assert_string_equal(cublasGetStatusName(CUBLAS_STATUS_NOT_SUPPORTED), "CUBLAS_STATUS_NOT_SUPPORTED");
    assert_non_null(cublasGetStatusString(CUBLAS_STATUS_EXECUTION_FAILED));
    CUDA_OK(cudaFree(ws));
}

/* cuBLAS 2.7.1 cublas<t>gemm(): C = alpha op(A) op(B) + beta C, column-major;
 * checked against CBLAS for every transpose combination, with leading
 * dimensions larger than the rows, in both pointer modes. */
static void test_dgemm_correct(void **state)
{
    (void)state;
    const int m = 4, n = 3, k = 5;
    cublasHandle_t h;
    BLAS_OK(cublasCreate(&h));
    const cublasOperation_t ops[2] = {CUBLAS_OP_N, CUBLAS_OP_T};
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            const int ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k, bc = tb ? k : n;
            const int lda = ar + 2, ldb = br + 1, ldc = m + 3;
            double *A = rnd_mat((size_t)lda * ac), *B = rnd_mat((size_t)ldb * bc), *C = rnd_mat((size_t)ldc * n);
            double *got = malloc(sizeof(double) * ldc * n);
            double *dA = dev_copy(A, (size_t)lda * ac), *dB = dev_copy(B, (size_t)ldb * bc),
                   *dC = dev_copy(C, (size_t)ldc * n);
            const double alpha = 1.5, beta = -0.5;
            BLAS_OK(cublasDgemm(h, ops[ta], ops[tb], m, n, k, &alpha, dA, lda, dB, ldb, &beta, dC, ldc));
            d2h(got, dC, sizeof(double) * ldc * n);
            cblas_dgemm(CblasColMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, alpha,
                        A, lda, B, ldb, beta, C, ldc);
            assert_close(got, C, (size_t)ldc * n, 1e-13);
            CUDA_OK(cudaFree(dA));
            CUDA_OK(cudaFree(dB));
            CUDA_OK(cudaFree(dC));
            free(A), free(B), free(C), free(got);
        }
    /* CUBLAS_POINTER_MODE_DEVICE: alpha and beta read from device memory */
    double *A = rnd_mat(m * k), *B = rnd_mat(k * n), *C = rnd_mat(m * n), got[12];
    double *dA = dev_copy(A, m * k), *dB = dev_copy(B, k * n), *dC = dev_copy(C, m * n);
    const double ab[2] = {2.0, 0.25};
    double *dab = dev_copy(ab, 2);
    BLAS_OK(cublasSetPointerMode(h, CUBLAS_POINTER_MODE_DEVICE));
    BLAS_OK(cublasDgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, dab, dA, m, dB, k, dab + 1, dC, m));
    d2h(got, dC, sizeof got);
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, m, n, k, 2.0, A, m, B, k, 0.25, C, m);
    assert_close(got, C, 12, 1e-13);
    BLAS_OK(cublasDestroy(h));
    free(A), free(B), free(C);
}

/* cuBLAS 2.7.1 cublas<t>gemm(), return values: CUBLAS_STATUS_INVALID_VALUE
 * "If m < 0 or n < 0 or k < 0, or if transa or transb != CUBLAS_OP_N,
 * CUBLAS_OP_C, CUBLAS_OP_T, or if lda < max(1, m) if transa == CUBLAS_OP_N
 * and lda < max(1, k) otherwise, or if ldb < max(1, k) if transb ==
 * CUBLAS_OP_N and ldb < max(1, n) otherwise, or if ldc < max(1, m), or if
 * alpha or beta == NULL"; CUBLAS_STATUS_NOT_INITIALIZED "the library was not
 * initialized". Stand-in rule: operands must be device memory. */
static void test_dgemm_invalid(void **state)
{
    (void)state;
    cublasHandle_t h;
    BLAS_OK(cublasCreate(&h));
    double *A = dmalloc(8 * 64), *B = dmalloc(8 * 64), *C = dmalloc(8 * 64);
    const double one = 1, zero = 0;
    const cublasOperation_t N = CUBLAS_OP_N, T = CUBLAS_OP_T;
#define GEMM(ta, tb, m, n, k, lda, ldb, ldc) cublasDgemm(h, ta, tb, m, n, k, &one, A, lda, B, ldb, &zero, C, ldc)
    BLAS_OK(GEMM(N, N, 4, 3, 2, 4, 2, 4));
    assert_int_equal(GEMM(N, N, -1, 3, 2, 4, 2, 4), CUBLAS_STATUS_INVALID_VALUE);
    EXPECT_MSG("cublasDgemm: m=-1 < 0");
    assert_int_equal(GEMM(N, N, 4, -1, 2, 4, 2, 4), CUBLAS_STATUS_INVALID_VALUE);
    assert_int_equal(GEMM(N, N, 4, 3, -1, 4, 2, 4), CUBLAS_STATUS_INVALID_VALUE);
    assert_int_equal(GEMM(CUBLAS_OP_CONJG, N, 4, 3, 2, 4, 2, 4), CUBLAS_STATUS_INVALID_VALUE);
    assert_int_equal(GEMM(N, (cublasOperation_t)9, 4, 3, 2, 4, 2, 4), CUBLAS_STATUS_INVALID_VALUE);
    assert_int_equal(GEMM(N, N, 4, 3, 2, 3, 2, 4), CUBLAS_STATUS_INVALID_VALUE);
    EXPECT_MSG("cublasDgemm: lda=3 < max(1,m)=4");
    assert_int_equal(GEMM(T, N, 4, 3, 5, 4, 5, 4), CUBLAS_STATUS_INVALID_VALUE);
    EXPECT_MSG("cublasDgemm: lda=4 < max(1,k)=5");
    BLAS_OK(GEMM(T, N, 4, 3, 5, 5, 5, 4));
    assert_int_equal(GEMM(N, N, 4, 3, 2, 4, 1, 4), CUBLAS_STATUS_INVALID_VALUE);
    EXPECT_MSG("ldb=1 < max(1,k)=2");
    assert_int_equal(GEMM(N, T, 4, 3, 2, 4, 2, 4), CUBLAS_STATUS_INVALID_VALUE);
    EXPECT_MSG("ldb=2 < max(1,n)=3");
    assert_int_equal(GEMM(N, N, 4, 3, 2, 4, 2, 3), CUBLAS_STATUS_INVALID_VALUE);
    EXPECT_MSG("ldc=3 < max(1,m)=4");
    /* lda >= max(1, m) also when m == 0 */
    assert_int_equal(GEMM(N, N, 0, 3, 2, 0, 2, 1), CUBLAS_STATUS_INVALID_VALUE);
    assert_int_equal(cublasDgemm(h, N, N, 4, 3, 2, NULL, A, 4, B, 2, &zero, C, 4), CUBLAS_STATUS_INVALID_VALUE);
    assert_int_equal(cublasDgemm(h, N, N, 4, 3, 2, &one, A, 4, B, 2, NULL, C, 4), CUBLAS_STATUS_INVALID_VALUE);
    /* stand-in rule: a host pointer where device memory is wanted */
    double hostA[8];
    assert_int_equal(cublasDgemm(h, N, N, 4, 3, 2, &one, hostA, 4, B, 2, &zero, C, 4), CUBLAS_STATUS_INVALID_VALUE);
    EXPECT_MSG("cublasDgemm: A (4 x 2, lda=4, 64 bytes at");
    EXPECT_MSG("is a host pointer, not device memory");
    /* ... an operand running past its allocation */
    assert_int_equal(GEMM(N, N, 8, 9, 2, 8, 2, 8), CUBLAS_STATUS_INVALID_VALUE);
    EXPECT_MSG("past its end");
    /* ... a device-resident alpha in host pointer mode */
    assert_int_equal(cublasDgemm(h, N, N, 4, 3, 2, C, A, 4, B, 2, &zero, C, 4), CUBLAS_STATUS_INVALID_VALUE);
    EXPECT_MSG("CUBLAS_POINTER_MODE_HOST");
    BLAS_OK(cublasDestroy(h));
    assert_int_equal(GEMM(N, N, 4, 3, 2, 4, 2, 4), CUBLAS_STATUS_NOT_INITIALIZED);
#undef GEMM
}

/* cuBLAS 2.6.2 cublas<t>gemv(): y = alpha op(A) x + beta y, A m x n.
 * INVALID_VALUE "If m < 0 or n < 0 or incx == 0 or incy == 0, or if trans !=
 * CUBLAS_OP_N, CUBLAS_OP_C, CUBLAS_OP_T, or if lda < max(1, m), or if alpha
 * or beta == NULL". Negative increments walk the vector backwards, as in BLAS. */
static void test_dgemv(void **state)
{
    (void)state;
    cublasHandle_t h;
    BLAS_OK(cublasCreate(&h));
    const int m = 5, n = 3, lda = 7;
    double *A = rnd_mat(lda * n), *x = rnd_mat(2 * m), *y = rnd_mat(3 * m), got[15];
    double *dA = dev_copy(A, lda * n), *dx = dev_copy(x, 2 * m), *dy = dev_copy(y, 3 * m);
    const double alpha = 0.75, beta = 2.0;
    BLAS_OK(cublasDgemv(h, CUBLAS_OP_N, m, n, &alpha, dA, lda, dx, 2, &beta, dy, 3));
    d2h(got, dy, sizeof(double) * 3 * m);
    cblas_dgemv(CblasColMajor, CblasNoTrans, m, n, alpha, A, lda, x, 2, beta, y, 3);
    assert_close(got, y, 3 * m, 1e-13);
    BLAS_OK(cublasDgemv(h, CUBLAS_OP_T, m, n, &alpha, dA, lda, dx, -1, &beta, dy, 1));
    d2h(got, dy, sizeof(double) * 3 * m);
    cblas_dgemv(CblasColMajor, CblasTrans, m, n, alpha, A, lda, x, -1, beta, y, 1);
    assert_close(got, y, 3 * m, 1e-13);
    const double one = 1;
    assert_int_equal(cublasDgemv(h, CUBLAS_OP_N, -1, n, &one, dA, lda, dx, 1, &one, dy, 1), CUBLAS_STATUS_INVALID_VALUE);
    assert_int_equal(cublasDgemv(h, CUBLAS_OP_N, m, -1, &one, dA, lda, dx, 1, &one, dy, 1), CUBLAS_STATUS_INVALID_VALUE);
    assert_int_equal(cublasDgemv(h, CUBLAS_OP_N, m, n, &one, dA, lda, dx, 0, &one, dy, 1), CUBLAS_STATUS_INVALID_VALUE);
    EXPECT_MSG("cublasDgemv: incx=0");
    assert_int_equal(cublasDgemv(h, CUBLAS_OP_N, m, n, &one, dA, lda, dx, 1, &one, dy, 0), CUBLAS_STATUS_INVALID_VALUE);
    assert_int_equal(cublasDgemv(h, (cublasOperation_t)3, m, n, &one, dA, lda, dx, 1, &one, dy, 1),
                     CUBLAS_STATUS_INVALID_VALUE);
    assert_int_equal(cublasDgemv(h, CUBLAS_OP_N, m, n, &one, dA, 4, dx, 1, &one, dy, 1), CUBLAS_STATUS_INVALID_VALUE);
    EXPECT_MSG("cublasDgemv: lda=4 < max(1,m)=5");
    assert_int_equal(cublasDgemv(h, CUBLAS_OP_N, m, n, NULL, dA, lda, dx, 1, &one, dy, 1), CUBLAS_STATUS_INVALID_VALUE);
    assert_int_equal(cublasDgemv(h, CUBLAS_OP_N, m, n, &one, dA, lda, dx, 1, NULL, dy, 1), CUBLAS_STATUS_INVALID_VALUE);
    /* x has 2m elements: with trans = N it needs n at stride 5 -> 11 elements: too many */
    assert_int_equal(cublasDgemv(h, CUBLAS_OP_N, m, n, &one, dA, lda, dx, 5, &one, dy, 1), CUBLAS_STATUS_INVALID_VALUE);
    EXPECT_MSG("cublasDgemv: x (3 elements, incx=5");
    BLAS_OK(cublasDestroy(h));
    free(A), free(x), free(y);
}

/* cuBLAS 2.6.8 cublas<t>symv(): y = alpha A x + beta y, A symmetric, only the
 * uplo triangle referenced. INVALID_VALUE "If n < 0 or incx == 0 or incy ==
 * 0, or if uplo != CUBLAS_FILL_MODE_UPPER, CUBLAS_FILL_MODE_LOWER, or if lda
 * < max(1, n), or if alpha or beta == NULL". */
static void test_dsymv(void **state)
{
    (void)state;
    cublasHandle_t h;
    BLAS_OK(cublasCreate(&h));
    const int n = 4, lda = 6;
    double *A = rnd_mat(lda * n), *x = rnd_mat(n), *y = rnd_mat(n), got[4];
    double *dA = dev_copy(A, lda * n), *dx = dev_copy(x, n), *dy = dev_copy(y, n);
    const double alpha = -1.25, beta = 0.5;
    const cublasFillMode_t fm[2] = {CUBLAS_FILL_MODE_LOWER, CUBLAS_FILL_MODE_UPPER};
    for (int u = 0; u < 2; u++) {
        BLAS_OK(cublasDsymv(h, fm[u], n, &alpha, dA, lda, dx, 1, &beta, dy, 1));
        d2h(got, dy, sizeof got);
        cblas_dsymv(CblasColMajor, u ? CblasUpper : CblasLower, n, alpha, A, lda, x, 1, beta, y, 1);
        assert_close(got, y, n, 1e-13);
    }
    const double one = 1;
    assert_int_equal(cublasDsymv(h, CUBLAS_FILL_MODE_LOWER, -1, &one, dA, lda, dx, 1, &one, dy, 1),
                     CUBLAS_STATUS_INVALID_VALUE);
    assert_int_equal(cublasDsymv(h, CUBLAS_FILL_MODE_FULL, n, &one, dA, lda, dx, 1, &one, dy, 1),
                     CUBLAS_STATUS_INVALID_VALUE);
    EXPECT_MSG("cublasDsymv: uplo=2");
    assert_int_equal(cublasDsymv(h, CUBLAS_FILL_MODE_LOWER, n, &one, dA, 3, dx, 1, &one, dy, 1),
                     CUBLAS_STATUS_INVALID_VALUE);
    EXPECT_MSG("cublasDsymv: lda=3 < max(1,n)=4");
    assert_int_equal(cublasDsymv(h, CUBLAS_FILL_MODE_LOWER, n, &one, dA, lda, dx, 0, &one, dy, 1),
                     CUBLAS_STATUS_INVALID_VALUE);
    assert_int_equal(cublasDsymv(h, CUBLAS_FILL_MODE_LOWER, n, &one, dA, lda, dx, 1, &one, dy, 0),
                     CUBLAS_STATUS_INVALID_VALUE);
    assert_int_equal(cublasDsymv(h, CUBLAS_FILL_MODE_LOWER, n, &one, dA, lda, dx, 1, NULL, dy, 1),
                     CUBLAS_STATUS_INVALID_VALUE);
    BLAS_OK(cublasDestroy(h));
    free(A), free(x), free(y);
}

/* cuBLAS Level-1 cublas<t>axpy(): y = alpha x + y, n elements at strides incx
 * and incy (here a diagonal: incy = ld + 1); negative strides walk from the
 * end as in BLAS; n <= 0 does nothing; INVALID_VALUE for alpha NULL. */
static void test_daxpy(void **state)
{
    (void)state;
    cublasHandle_t h;
    BLAS_OK(cublasCreate(&h));
    const int n = 4, ld = 6;
    double *M = rnd_mat(ld * n), *x = rnd_mat(2 * n), got[24];
    double *dM = dev_copy(M, ld * n), *dx = dev_copy(x, 2 * n);
    const double alpha = 1.5;
    BLAS_OK(cublasDaxpy(h, n, &alpha, dx, 2, dM, ld + 1));
    d2h(got, dM, sizeof(double) * ld * n);
    cblas_daxpy(n, alpha, x, 2, M, ld + 1);
    assert_close(got, M, ld * n, 1e-15);
    BLAS_OK(cublasDaxpy(h, n, &alpha, dx, -1, dM, 1));
    d2h(got, dM, sizeof(double) * ld * n);
    cblas_daxpy(n, alpha, x, -1, M, 1);
    assert_close(got, M, ld * n, 1e-15);
    BLAS_OK(cublasDaxpy(h, 0, &alpha, NULL, 1, NULL, 1));
    assert_int_equal(cublasDaxpy(h, n, NULL, dx, 1, dM, 1), CUBLAS_STATUS_INVALID_VALUE);
    EXPECT_MSG("cublasDaxpy: alpha is NULL");
    /* stand-in rule: the diagonal of a 6 x 6 matrix at stride 7 runs past a 6 x 4 one */
    assert_int_equal(cublasDaxpy(h, ld, &alpha, dx, 1, dM, ld + 1), CUBLAS_STATUS_INVALID_VALUE);
    EXPECT_MSG("cublasDaxpy: y (6 elements, incy=7");
    assert_int_equal(cublasDaxpy(h, n, &alpha, x, 1, dM, 1), CUBLAS_STATUS_INVALID_VALUE);
    EXPECT_MSG("cublasDaxpy: x (4 elements, incx=1");
    BLAS_OK(cublasDestroy(h));
    free(M), free(x);
}

/* cuBLAS BLAS-like extension cublas<t>dgmm(): C = A diag(x) (CUBLAS_SIDE_RIGHT)
 * or diag(x) A (CUBLAS_SIDE_LEFT), A and C m x n, x of n or m elements at
 * stride incx (a negative stride from the end). INVALID_VALUE "if m < 0 or
 * n < 0, or if mode != CUBLAS_SIDE_LEFT, CUBLAS_SIDE_RIGHT, or if lda <
 * max(1, m) or ldc < max(1, m)". In place when C is A. */
static void test_dgmm(void **state)
{
    (void)state;
    cublasHandle_t h;
    BLAS_OK(cublasCreate(&h));
    const int m = 3, n = 4, lda = 5, ldc = 4;
    double *A = rnd_mat(lda * n), *x = rnd_mat(2 * n), want[20], got[20];
    double *dA = dev_copy(A, lda * n), *dx = dev_copy(x, 2 * n), *dC = dmalloc(sizeof(double) * ldc * n);
    /* side, incx, C's leading dimension: out of place (ldc), then in place (C = A, lda) */
    const struct { cublasSideMode_t side; int incx, in_place; } cases[3] = {
        {CUBLAS_SIDE_RIGHT, 2, 0}, {CUBLAS_SIDE_LEFT, -1, 0}, {CUBLAS_SIDE_RIGHT, 1, 1}};
    for (int c = 0; c < 3; c++) {
        double *dOut = cases[c].in_place ? dA : dC;
        const int ld = cases[c].in_place ? lda : ldc, xl = cases[c].side == CUBLAS_SIDE_RIGHT ? n : m;
        BLAS_OK(cublasDdgmm(h, cases[c].side, m, n, dA, lda, dx, cases[c].incx, dOut, ld));
        d2h(got, dOut, sizeof(double) * ld * n);
        for (int j = 0; j < n; j++) { /* rows m..ld-1 are not written: only the m x n entries */
            for (int i = 0; i < m; i++) {
                const int k = cases[c].side == CUBLAS_SIDE_RIGHT ? j : i;
                want[i] = A[j * lda + i] * x[cases[c].incx < 0 ? xl - 1 - k : k * cases[c].incx];
            }
            assert_close(&got[j * ld], want, m, 1e-15);
        }
    }
    assert_int_equal(cublasDdgmm(h, CUBLAS_SIDE_RIGHT, -1, n, dA, lda, dx, 1, dC, ldc), CUBLAS_STATUS_INVALID_VALUE);
    assert_int_equal(cublasDdgmm(h, CUBLAS_SIDE_RIGHT, m, -1, dA, lda, dx, 1, dC, ldc), CUBLAS_STATUS_INVALID_VALUE);
    assert_int_equal(cublasDdgmm(h, (cublasSideMode_t)2, m, n, dA, lda, dx, 1, dC, ldc), CUBLAS_STATUS_INVALID_VALUE);
    EXPECT_MSG("cublasDdgmm: mode=2");
    assert_int_equal(cublasDdgmm(h, CUBLAS_SIDE_RIGHT, m, n, dA, 2, dx, 1, dC, ldc), CUBLAS_STATUS_INVALID_VALUE);
    EXPECT_MSG("cublasDdgmm: lda=2 < max(1,m)=3");
    assert_int_equal(cublasDdgmm(h, CUBLAS_SIDE_RIGHT, m, n, dA, lda, dx, 1, dC, 2), CUBLAS_STATUS_INVALID_VALUE);
    EXPECT_MSG("cublasDdgmm: ldc=2 < max(1,m)=3");
    /* stand-in rule: x must cover n elements at stride 3 (10 > 8 allocated) */
    assert_int_equal(cublasDdgmm(h, CUBLAS_SIDE_RIGHT, m, n, dA, lda, dx, 3, dC, ldc), CUBLAS_STATUS_INVALID_VALUE);
    EXPECT_MSG("cublasDdgmm: x (4 elements, incx=3");
    assert_int_equal(cublasDdgmm(h, CUBLAS_SIDE_RIGHT, m, n, A, lda, dx, 1, dC, ldc), CUBLAS_STATUS_INVALID_VALUE);
    BLAS_OK(cublasDestroy(h));
    free(A), free(x);
}

/* cuBLAS 2.7.7 cublas<t>syrk(): C = alpha op(A) op(A)^T + beta C; only the
 * uplo triangle of C is written. INVALID_VALUE "If n < 0 or k < 0, or if trans
 * != CUBLAS_OP_N, CUBLAS_OP_C, CUBLAS_OP_T, or if uplo !=
 * CUBLAS_FILL_MODE_LOWER, CUBLAS_FILL_MODE_UPPER, or if lda < max(1, n) if
 * trans == CUBLAS_OP_N and lda < max(1, k) otherwise, or if ldc < max(1, n),
 * or if alpha or beta == NULL". Double and single precision. */
static void test_syrk(void **state)
{
    (void)state;
    cublasHandle_t h;
    BLAS_OK(cublasCreate(&h));
    const int n = 4, k = 3;
    for (int t = 0; t < 2; t++)
        for (int u = 0; u < 2; u++) {
            const int ar = t ? k : n, ac = t ? n : k, lda = ar + 1, ldc = n + 2;
            double *A = rnd_mat(lda * ac), *C = rnd_mat(ldc * n), got[6 * 4];
            double *dA = dev_copy(A, lda * ac), *dC = dev_copy(C, ldc * n);
            const double alpha = 0.5, beta = 1.5;
            BLAS_OK(cublasDsyrk(h, u ? CUBLAS_FILL_MODE_UPPER : CUBLAS_FILL_MODE_LOWER, t ? CUBLAS_OP_T : CUBLAS_OP_N,
                                n, k, &alpha, dA, lda, &beta, dC, ldc));
            d2h(got, dC, sizeof(double) * ldc * n);
            double *want = malloc(sizeof(double) * ldc * n);
            memcpy(want, C, sizeof(double) * ldc * n);
            cblas_dsyrk(CblasColMajor, u ? CblasUpper : CblasLower, t ? CblasTrans : CblasNoTrans, n, k, alpha, A,
                        lda, beta, want, ldc);
            assert_close(got, want, ldc * n, 1e-13);
            /* the other triangle is untouched */
            for (int j = 0; j < n; j++)
                for (int i = 0; i < n; i++)
                    if ((u && i > j) || (!u && i < j))
                        assert_true(got[i + j * ldc] == C[i + j * ldc]);
            free(A), free(C), free(want);
        }
    /* single precision */
    float Af[12], Cf[16], wantf[16], gotf[16];
    for (int i = 0; i < 12; i++)
        Af[i] = (float)rnd();
    for (int i = 0; i < 16; i++)
        Cf[i] = wantf[i] = (float)rnd();
    float *dAf = dmalloc(sizeof Af), *dCf = dmalloc(sizeof Cf);
    h2d(dAf, Af, sizeof Af);
    h2d(dCf, Cf, sizeof Cf);
    const float af = 2.0f, bf = -1.0f;
    BLAS_OK(cublasSsyrk(h, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_N, 4, 3, &af, dAf, 4, &bf, dCf, 4));
    d2h(gotf, dCf, sizeof gotf);
    cblas_ssyrk(CblasColMajor, CblasLower, CblasNoTrans, 4, 3, af, Af, 4, bf, wantf, 4);
    for (int i = 0; i < 16; i++)
        assert_true(gotf[i] == wantf[i]);
    /* invalid arguments */
    const double one = 1;
    double *dA = dmalloc(8 * 64), *dC = dmalloc(8 * 64);
    assert_int_equal(cublasDsyrk(h, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_N, -1, 3, &one, dA, 4, &one, dC, 4),
                     CUBLAS_STATUS_INVALID_VALUE);
    assert_int_equal(cublasDsyrk(h, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_N, 4, -1, &one, dA, 4, &one, dC, 4),
                     CUBLAS_STATUS_INVALID_VALUE);
    assert_int_equal(cublasDsyrk(h, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_CONJG, 4, 3, &one, dA, 4, &one, dC, 4),
                     CUBLAS_STATUS_INVALID_VALUE);
    assert_int_equal(cublasDsyrk(h, CUBLAS_FILL_MODE_FULL, CUBLAS_OP_N, 4, 3, &one, dA, 4, &one, dC, 4),
                     CUBLAS_STATUS_INVALID_VALUE);
    assert_int_equal(cublasDsyrk(h, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_N, 4, 3, &one, dA, 3, &one, dC, 4),
                     CUBLAS_STATUS_INVALID_VALUE);
    EXPECT_MSG("cublasDsyrk: lda=3 < max(1,n)=4");
    assert_int_equal(cublasDsyrk(h, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_T, 4, 6, &one, dA, 5, &one, dC, 4),
                     CUBLAS_STATUS_INVALID_VALUE);
    EXPECT_MSG("cublasDsyrk: lda=5 < max(1,k)=6");
    BLAS_OK(cublasDsyrk(h, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_T, 4, 6, &one, dA, 6, &one, dC, 4));
    assert_int_equal(cublasDsyrk(h, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_N, 4, 3, &one, dA, 4, &one, dC, 3),
                     CUBLAS_STATUS_INVALID_VALUE);
    EXPECT_MSG("cublasDsyrk: ldc=3 < max(1,n)=4");
    assert_int_equal(cublasDsyrk(h, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_N, 4, 3, NULL, dA, 4, &one, dC, 4),
                     CUBLAS_STATUS_INVALID_VALUE);
    assert_int_equal(cublasSsyrk(h, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_N, 4, 3, &af, dAf, 4, NULL, dCf, 4),
                     CUBLAS_STATUS_INVALID_VALUE);
    EXPECT_MSG("cublasSsyrk: beta is NULL");
    BLAS_OK(cublasDestroy(h));
}

/* cuBLAS 2.7.11 cublas<t>trsm(): op(A) X = alpha B (left) or X op(A) = alpha
 * B (right), X overwriting B. INVALID_VALUE "If m < 0 or n < 0, or if trans
 * != CUBLAS_OP_N, CUBLAS_OP_C, CUBLAS_OP_T, or if uplo !=
 * CUBLAS_FILL_MODE_LOWER, CUBLAS_FILL_MODE_UPPER, or if side !=
 * CUBLAS_SIDE_LEFT, CUBLAS_SIDE_RIGHT, or if diag != CUBLAS_DIAG_NON_UNIT,
 * CUBLAS_DIAG_UNIT, or if lda < max(1, m) if side == CUBLAS_SIDE_LEFT and lda
 * < max(1, n) otherwise, or if ldb < max(1, m), or if alpha == NULL". */
static void test_dtrsm(void **state)
{
    (void)state;
    cublasHandle_t h;
    BLAS_OK(cublasCreate(&h));
    const int m = 4, n = 3;
    for (int side = 0; side < 2; side++)
        for (int u = 0; u < 2; u++)
            for (int t = 0; t < 2; t++)
                for (int dg = 0; dg < 2; dg++) {
                    const int ord = side ? n : m, lda = ord + 1, ldb = m + 2;
                    double *A = rnd_mat(lda * ord), *B = rnd_mat(ldb * n), got[6 * 3];
                    for (int i = 0; i < ord; i++)
                        A[i + i * lda] += 4.0; /* well conditioned */
                    double *dA = dev_copy(A, lda * ord), *dB = dev_copy(B, ldb * n);
                    const double alpha = 1.25;
                    BLAS_OK(cublasDtrsm(h, side ? CUBLAS_SIDE_RIGHT : CUBLAS_SIDE_LEFT,
                                        u ? CUBLAS_FILL_MODE_UPPER : CUBLAS_FILL_MODE_LOWER,
                                        t ? CUBLAS_OP_T : CUBLAS_OP_N, dg ? CUBLAS_DIAG_UNIT : CUBLAS_DIAG_NON_UNIT, m,
                                        n, &alpha, dA, lda, dB, ldb));
                    d2h(got, dB, sizeof(double) * ldb * n);
                    cblas_dtrsm(CblasColMajor, side ? CblasRight : CblasLeft, u ? CblasUpper : CblasLower,
                                t ? CblasTrans : CblasNoTrans, dg ? CblasUnit : CblasNonUnit, m, n, alpha, A, lda, B,
                                ldb);
                    assert_close(got, B, ldb * n, 1e-12);
                    CUDA_OK(cudaFree(dA));
                    CUDA_OK(cudaFree(dB));
                    free(A), free(B);
                }
    double *dA = dmalloc(8 * 64), *dB = dmalloc(8 * 64);
    const double one = 1;
    const cublasSideMode_t L = CUBLAS_SIDE_LEFT, R = CUBLAS_SIDE_RIGHT;
    const cublasFillMode_t LO = CUBLAS_FILL_MODE_LOWER;
    const cublasDiagType_t NU = CUBLAS_DIAG_NON_UNIT;
    assert_int_equal(cublasDtrsm(h, L, LO, CUBLAS_OP_N, NU, -1, 3, &one, dA, 4, dB, 4), CUBLAS_STATUS_INVALID_VALUE);
    assert_int_equal(cublasDtrsm(h, L, LO, CUBLAS_OP_N, NU, 4, -1, &one, dA, 4, dB, 4), CUBLAS_STATUS_INVALID_VALUE);
    assert_int_equal(cublasDtrsm(h, (cublasSideMode_t)2, LO, CUBLAS_OP_N, NU, 4, 3, &one, dA, 4, dB, 4),
                     CUBLAS_STATUS_INVALID_VALUE);
    assert_int_equal(cublasDtrsm(h, L, CUBLAS_FILL_MODE_FULL, CUBLAS_OP_N, NU, 4, 3, &one, dA, 4, dB, 4),
                     CUBLAS_STATUS_INVALID_VALUE);
    assert_int_equal(cublasDtrsm(h, L, LO, CUBLAS_OP_CONJG, NU, 4, 3, &one, dA, 4, dB, 4), CUBLAS_STATUS_INVALID_VALUE);
    assert_int_equal(cublasDtrsm(h, L, LO, CUBLAS_OP_N, (cublasDiagType_t)2, 4, 3, &one, dA, 4, dB, 4),
                     CUBLAS_STATUS_INVALID_VALUE);
    EXPECT_MSG("cublasDtrsm: diag=2");
    assert_int_equal(cublasDtrsm(h, L, LO, CUBLAS_OP_N, NU, 4, 3, &one, dA, 3, dB, 4), CUBLAS_STATUS_INVALID_VALUE);
    EXPECT_MSG("cublasDtrsm: lda=3 < max(1,m)=4");
    assert_int_equal(cublasDtrsm(h, R, LO, CUBLAS_OP_N, NU, 4, 5, &one, dA, 4, dB, 4), CUBLAS_STATUS_INVALID_VALUE);
    EXPECT_MSG("cublasDtrsm: lda=4 < max(1,n)=5");
    BLAS_OK(cublasDtrsm(h, R, LO, CUBLAS_OP_N, NU, 4, 5, &one, dA, 5, dB, 4));
    assert_int_equal(cublasDtrsm(h, L, LO, CUBLAS_OP_N, NU, 4, 3, &one, dA, 4, dB, 3), CUBLAS_STATUS_INVALID_VALUE);
    EXPECT_MSG("cublasDtrsm: ldb=3 < max(1,m)=4");
    assert_int_equal(cublasDtrsm(h, L, LO, CUBLAS_OP_N, NU, 4, 3, NULL, dA, 4, dB, 4), CUBLAS_STATUS_INVALID_VALUE);
    BLAS_OK(cublasDestroy(h));
}

/* cuBLAS 2.1.12 "CUDA Graphs Support" / 2.4.8 cublasSetWorkspace: without a
 * user workspace cuBLAS records its own allocations into the graph; the
 * stand-in forbids that (stand-in rule: CUBLAS_STATUS_NOT_SUPPORTED, capture
 * invalidated). cublasSetStream "unconditionally resets the cuBLAS library
 * workspace back to the default workspace pool" (2.4.7), so the workspace must
 * be set after the stream. */
static void test_cublas_capture_needs_workspace(void **state)
{
    (void)state;
    cudaStream_t s;
    cudaGraph_t g;
    cublasHandle_t h;
    CUDA_OK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    BLAS_OK(cublasCreate(&h));
    double *A = dmalloc(8 * 16), *B = dmalloc(8 * 16), *C = dmalloc(8 * 16);
    void *ws = dmalloc(1 << 16);
    const double one = 1;
    BLAS_OK(cublasSetStream(h, s));
    CUDA_OK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
    assert_int_equal(cublasDgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, &one, A, 4, B, 4, &one, C, 4),
                     CUBLAS_STATUS_NOT_SUPPORTED);
    EXPECT_MSG("cublasSetWorkspace");
    assert_int_equal(cudaStreamEndCapture(s, &g), cudaErrorStreamCaptureInvalidated);
    /* workspace then stream: the stream resets it */
    BLAS_OK(cublasSetWorkspace(h, ws, 1 << 16));
    BLAS_OK(cublasSetStream(h, s));
    CUDA_OK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
    assert_int_equal(cublasDgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, &one, A, 4, B, 4, &one, C, 4),
                     CUBLAS_STATUS_NOT_SUPPORTED);
    assert_int_equal(cudaStreamEndCapture(s, &g), cudaErrorStreamCaptureInvalidated);
    /* stream then workspace: fine */
    BLAS_OK(cublasSetWorkspace(h, ws, 1 << 16));
    CUDA_OK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
    BLAS_OK(cublasDgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, &one, A, 4, B, 4, &one, C, 4));
    CUDA_OK(cudaStreamEndCapture(s, &g));
    CUDA_OK(cudaGraphDestroy(g));
    BLAS_OK(cublasDestroy(h));
    CUDA_OK(cudaStreamDestroy(s));
}

/* cuBLAS 2.1.5 "Scalar Parameters" and 2.1.12: with CUBLAS_POINTER_MODE_HOST
 * the scalar's value is taken at the call (the host variable may change or go
 * away before the work runs); with CUBLAS_POINTER_MODE_DEVICE it is read from
 * device memory when the work runs. */
static void test_cublas_scalar_timing(void **state)
{
    (void)state;
    cudaStream_t s;
    cublasHandle_t h;
    CUDA_OK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    BLAS_OK(cublasCreate(&h));
    BLAS_OK(cublasSetStream(h, s));
    const double A[1] = {3}, x[1] = {1}, y0[1] = {0};
    double *dA = dev_copy(A, 1), *dx = dev_copy(x, 1), *dy = dev_copy(y0, 1), y;
    double alpha = 2, beta = 0;
    BLAS_OK(cublasDgemv(h, CUBLAS_OP_N, 1, 1, &alpha, dA, 1, dx, 1, &beta, dy, 1));
    alpha = 100;
    CUDA_OK(cudaStreamSynchronize(s));
    d2h(&y, dy, sizeof y);
    assert_true(y == 6); /* alpha was 2 at the call */
    double *dalpha = dev_copy(&alpha, 1), *dbeta = dev_copy(&beta, 1); /* device alpha = 100 */
    BLAS_OK(cublasSetPointerMode(h, CUBLAS_POINTER_MODE_DEVICE));
    const double five = 5;
    CUDA_OK(cudaMemcpyAsync(dalpha, &five, sizeof five, cudaMemcpyHostToDevice, s)); /* queued before the gemv */
    BLAS_OK(cublasDgemv(h, CUBLAS_OP_N, 1, 1, dalpha, dA, 1, dx, 1, dbeta, dy, 1));
    CUDA_OK(cudaStreamSynchronize(s));
    d2h(&y, dy, sizeof y);
    assert_true(y == 15); /* alpha read when the gemv ran, after the queued update: 5, not 100 */
    /* host scalar in device mode: stand-in rule */
    assert_int_equal(cublasDgemv(h, CUBLAS_OP_N, 1, 1, &alpha, dA, 1, dx, 1, dbeta, dy, 1), CUBLAS_STATUS_INVALID_VALUE);
    EXPECT_MSG("CUBLAS_POINTER_MODE_DEVICE");
    BLAS_OK(cublasDestroy(h));
    CUDA_OK(cudaStreamDestroy(s));
}

/* ======================================================================= */
/* cuSOLVER                                                                 */
/* ======================================================================= */

static void spd(double *a, int n, int lda)
{
    double *m = rnd_mat((size_t)n * n);
    for (int j = 0; j < n; j++)
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int l = 0; l < n; l++)
                s += m[i + l * n] * m[j + l * n];
            a[i + j * lda] = s + (i == j ? n : 0);
        }
    free(m);
}

struct solver {
    cusolverDnHandle_t h;
    cusolverDnParams_t p;
    cudaStream_t s;
};

static void solver_open(struct solver *sv)
{
    SOL_OK(cusolverDnCreate(&sv->h));
    SOL_OK(cusolverDnCreateParams(&sv->p));
    CUDA_OK(cudaStreamCreateWithFlags(&sv->s, cudaStreamNonBlocking));
    SOL_OK(cusolverDnSetStream(sv->h, sv->s));
}

/* cuSOLVER cusolverDnXpotrf: Cholesky factor of a symmetric positive
 * definite A (lower: A = L L^H; upper: A = U^H U), the other triangle left
 * untouched; "info = 0" on success, written to device memory when the work
 * runs; workspaces of the sizes cusolverDnXpotrf_bufferSize returns.
 * cusolverDnXpotrs solves A X = B with the factor. Checked against LAPACKE,
 * in double (CUDA_R_64F) and single (CUDA_R_32F) precision. */
static void test_potrf_potrs_correct(void **state)
{
    (void)state;
    struct solver sv;
    solver_open(&sv);
    const int n = 6, lda = 8, nrhs = 2, ldb = 7;
    for (int u = 0; u < 2; u++) {
        const cublasFillMode_t fm = u ? CUBLAS_FILL_MODE_UPPER : CUBLAS_FILL_MODE_LOWER;
        double A[8 * 6], B[7 * 2], gotA[8 * 6], gotB[7 * 2];
        for (int i = 0; i < lda * n; i++)
            A[i] = 99;
        spd(A, n, lda);
        for (int i = 0; i < ldb * nrhs; i++)
            B[i] = rnd();
        double *dA = dev_copy(A, lda * n), *dB = dev_copy(B, ldb * nrhs);
        int *dinfo = dmalloc(sizeof(int)), info = 12345;
        h2d(dinfo, &info, sizeof info);
        size_t dws = 0, hws = 0;
        SOL_OK(cusolverDnXpotrf_bufferSize(sv.h, sv.p, fm, n, CUDA_R_64F, dA, lda, CUDA_R_64F, &dws, &hws));
        void *dw = dmalloc(dws), *hw = malloc(hws);
        SOL_OK(cusolverDnXpotrf(sv.h, sv.p, fm, n, CUDA_R_64F, dA, lda, CUDA_R_64F, dw, dws, hw, hws, dinfo));
        int early = -7;
        CUDA_OK(cudaMemcpyAsync(&early, dinfo, sizeof early, cudaMemcpyDeviceToHost, sv.s));
        /* nothing has waited: neither info nor the download exists yet (the pending-download poison) */
        assert_int_equal(early, (int)STANDIN_PENDING_POISON);
        CUDA_OK(cudaStreamSynchronize(sv.s));
        assert_int_equal(early, 0);
        d2h(gotA, dA, sizeof gotA);
        assert_int_equal(LAPACKE_dpotrf(LAPACK_COL_MAJOR, u ? 'U' : 'L', n, A, lda), 0);
        assert_close(gotA, A, lda * n, 1e-12);
        SOL_OK(cusolverDnXpotrs(sv.h, sv.p, fm, n, nrhs, CUDA_R_64F, dA, lda, CUDA_R_64F, dB, ldb, dinfo));
        CUDA_OK(cudaStreamSynchronize(sv.s));
        d2h(gotB, dB, sizeof gotB);
        d2h(&info, dinfo, sizeof info);
        assert_int_equal(info, 0);
        assert_int_equal(LAPACKE_dpotrs(LAPACK_COL_MAJOR, u ? 'U' : 'L', n, nrhs, A, lda, B, ldb), 0);
        assert_close(gotB, B, ldb * nrhs, 1e-12);
        free(hw);
    }
    /* single precision */
    float Af[16], Aref[16];
    double Ad[16];
    spd(Ad, 4, 4);
    for (int i = 0; i < 16; i++)
        Af[i] = Aref[i] = (float)Ad[i];
    float *dAf = dmalloc(sizeof Af);
    int *dinfo = dmalloc(sizeof(int)), info = -1;
    h2d(dAf, Af, sizeof Af);
    size_t dws, hws;
    SOL_OK(cusolverDnXpotrf_bufferSize(sv.h, sv.p, CUBLAS_FILL_MODE_LOWER, 4, CUDA_R_32F, dAf, 4, CUDA_R_32F, &dws,
                                       &hws));
    void *dw = dmalloc(dws), *hw = malloc(hws);
    SOL_OK(cusolverDnXpotrf(sv.h, sv.p, CUBLAS_FILL_MODE_LOWER, 4, CUDA_R_32F, dAf, 4, CUDA_R_32F, dw, dws, hw, hws,
                            dinfo));
    CUDA_OK(cudaStreamSynchronize(sv.s));
    d2h(Af, dAf, sizeof Af);
    d2h(&info, dinfo, sizeof info);
    assert_int_equal(info, 0);
    assert_int_equal(LAPACKE_spotrf(LAPACK_COL_MAJOR, 'L', 4, Aref, 4), 0);
    for (int i = 0; i < 16; i++)
        assert_true(Af[i] == Aref[i]);
    free(hw);
}

/* cuSOLVER cusolverDnXpotrf: "If Cholesky factorization failed, i.e. some
 * leading minor of A is not positive definite ... The output parameter info
 * would indicate smallest leading minor of A which is not positive definite"
 * (the call itself returns CUSOLVER_STATUS_SUCCESS). */
static void test_potrf_not_positive_definite(void **state)
{
    (void)state;
    struct solver sv;
    solver_open(&sv);
    const int n = 4;
    double A[16];
    spd(A, n, n);
    A[2 + 2 * n] = -50; /* the leading minor of order 3 is not positive definite */
    double *dA = dev_copy(A, 16);
    int *dinfo = dmalloc(sizeof(int)), info = 0;
    size_t dws, hws;
    SOL_OK(cusolverDnXpotrf_bufferSize(sv.h, sv.p, CUBLAS_FILL_MODE_LOWER, n, CUDA_R_64F, dA, n, CUDA_R_64F, &dws,
                                       &hws));
    void *dw = dmalloc(dws), *hw = malloc(hws);
    SOL_OK(cusolverDnXpotrf(sv.h, sv.p, CUBLAS_FILL_MODE_LOWER, n, CUDA_R_64F, dA, n, CUDA_R_64F, dw, dws, hw, hws,
                            dinfo));
    CUDA_OK(cudaStreamSynchronize(sv.s));
    d2h(&info, dinfo, sizeof info);
    assert_int_equal(info, 3);
    assert_true(standin_is_device_ptr(dinfo, sizeof(int)));
    free(hw);
}

/* Stand-in rules on the workspaces (the documentation says the sizes "are
 * returned by cusolverDnXpotrf_bufferSize"): one byte less than that, a
 * device buffer smaller than the size claimed, or a host workspace in device
 * memory gives CUSOLVER_STATUS_INVALID_VALUE, and nothing is queued. */
static void test_potrf_workspace_rules(void **state)
{
    (void)state;
    struct solver sv;
    solver_open(&sv);
    const int n = 5;
    double *dA = dmalloc(8 * n * n);
    int *dinfo = dmalloc(sizeof(int));
    size_t dws = 0, hws = 0;
    SOL_OK(cusolverDnXpotrf_bufferSize(sv.h, sv.p, CUBLAS_FILL_MODE_LOWER, n, CUDA_R_64F, dA, n, CUDA_R_64F, &dws,
                                       &hws));
    assert_true(dws > 0);
    void *dw = dmalloc(dws), *hw = malloc(hws > 0 ? hws : 1);
    assert_int_equal(cusolverDnXpotrf(sv.h, sv.p, CUBLAS_FILL_MODE_LOWER, n, CUDA_R_64F, dA, n, CUDA_R_64F, dw,
                                      dws - 1, hw, hws, dinfo),
                     CUSOLVER_STATUS_INVALID_VALUE);
    EXPECT_MSG("workspaceInBytesOnDevice");
    if (hws > 0) {
        assert_int_equal(cusolverDnXpotrf(sv.h, sv.p, CUBLAS_FILL_MODE_LOWER, n, CUDA_R_64F, dA, n, CUDA_R_64F, dw,
                                          dws, hw, hws - 1, dinfo),
                         CUSOLVER_STATUS_INVALID_VALUE);
        EXPECT_MSG("workspaceInBytesOnHost");
    }
    void *small = dmalloc(dws - 8);
    assert_int_equal(cusolverDnXpotrf(sv.h, sv.p, CUBLAS_FILL_MODE_LOWER, n, CUDA_R_64F, dA, n, CUDA_R_64F, small, dws,
                                      hw, hws, dinfo),
                     CUSOLVER_STATUS_INVALID_VALUE);
    EXPECT_MSG("bufferOnDevice");
    assert_int_equal(cusolverDnXpotrf(sv.h, sv.p, CUBLAS_FILL_MODE_LOWER, n, CUDA_R_64F, dA, n, CUDA_R_64F, dw, dws, dw,
                                      hws, dinfo),
                     CUSOLVER_STATUS_INVALID_VALUE);
    EXPECT_MSG("bufferOnHost must be host memory");
    free(hw);
}

/* cuSOLVER cusolverDnXpotrf / cusolverDnXpotrs status returned:
 * CUSOLVER_STATUS_NOT_INITIALIZED "The library was not initialized";
 * CUSOLVER_STATUS_INVALID_VALUE "Invalid parameters were passed (n<0 or
 * lda<max(1,n))" (Xpotrs also nrhs<0, ldb<max(1,n)); the data/compute type
 * combinations of the table. Stand-in rules: params from
 * cusolverDnCreateParams, info and A in device memory. */
static void test_potrf_potrs_invalid(void **state)
{
    (void)state;
    struct solver sv;
    solver_open(&sv);
    const int n = 4;
    double *dA = dmalloc(8 * 64), *dB = dmalloc(8 * 64);
    int *dinfo = dmalloc(sizeof(int)), hinfo = 0;
    size_t dws, hws;
    const cublasFillMode_t LO = CUBLAS_FILL_MODE_LOWER;
    SOL_OK(cusolverDnXpotrf_bufferSize(sv.h, sv.p, LO, n, CUDA_R_64F, dA, n, CUDA_R_64F, &dws, &hws));
    void *dw = dmalloc(dws), *hw = malloc(hws);
#define POTRF(h, p, u, nn, ta, a, ld, tc, info) cusolverDnXpotrf(h, p, u, nn, ta, a, ld, tc, dw, dws, hw, hws, info)
    assert_int_equal(POTRF(NULL, sv.p, LO, n, CUDA_R_64F, dA, n, CUDA_R_64F, dinfo), CUSOLVER_STATUS_NOT_INITIALIZED);
    assert_int_equal(POTRF(sv.h, sv.p, LO, -1, CUDA_R_64F, dA, n, CUDA_R_64F, dinfo), CUSOLVER_STATUS_INVALID_VALUE);
    EXPECT_MSG("cusolverDnXpotrf: n=-1 < 0");
    assert_int_equal(POTRF(sv.h, sv.p, LO, n, CUDA_R_64F, dA, 3, CUDA_R_64F, dinfo), CUSOLVER_STATUS_INVALID_VALUE);
    EXPECT_MSG("cusolverDnXpotrf: lda=3 < max(1,n)=4");
    assert_int_equal(POTRF(sv.h, sv.p, CUBLAS_FILL_MODE_FULL, n, CUDA_R_64F, dA, n, CUDA_R_64F, dinfo),
                     CUSOLVER_STATUS_INVALID_VALUE);
    assert_int_equal(POTRF(sv.h, sv.p, LO, n, CUDA_R_64F, dA, n, CUDA_R_32F, dinfo), CUSOLVER_STATUS_INVALID_VALUE);
    EXPECT_MSG("not a valid combination");
    assert_int_equal(POTRF(sv.h, sv.p, LO, n, CUDA_C_64F, dA, n, CUDA_C_64F, dinfo), CUSOLVER_STATUS_NOT_SUPPORTED);
    assert_int_equal(POTRF(sv.h, sv.p, LO, n, CUDA_R_64F, dA, n, CUDA_R_64F, &hinfo), CUSOLVER_STATUS_INVALID_VALUE);
    EXPECT_MSG("cusolverDnXpotrf: info");
    double hA[16];
    assert_int_equal(POTRF(sv.h, sv.p, LO, n, CUDA_R_64F, hA, n, CUDA_R_64F, dinfo), CUSOLVER_STATUS_INVALID_VALUE);
    EXPECT_MSG("is a host pointer, not device memory");
    assert_int_equal(cusolverDnXpotrf_bufferSize(sv.h, sv.p, LO, n, CUDA_R_64F, dA, 2, CUDA_R_64F, &dws, &hws),
                     CUSOLVER_STATUS_INVALID_VALUE);
    cusolverDnParams_t gone;
    SOL_OK(cusolverDnCreateParams(&gone));
    SOL_OK(cusolverDnDestroyParams(gone));
    assert_int_equal(POTRF(sv.h, gone, LO, n, CUDA_R_64F, dA, n, CUDA_R_64F, dinfo), CUSOLVER_STATUS_INVALID_VALUE);
#undef POTRF
    assert_int_equal(cusolverDnXpotrs(sv.h, sv.p, LO, n, -1, CUDA_R_64F, dA, n, CUDA_R_64F, dB, n, dinfo),
                     CUSOLVER_STATUS_INVALID_VALUE);
    EXPECT_MSG("nrhs=-1 < 0");
    assert_int_equal(cusolverDnXpotrs(sv.h, sv.p, LO, n, 2, CUDA_R_64F, dA, n, CUDA_R_64F, dB, 3, dinfo),
                     CUSOLVER_STATUS_INVALID_VALUE);
    EXPECT_MSG("cusolverDnXpotrs: ldb=3 < max(1,n)=4");
    assert_int_equal(cusolverDnXpotrs(sv.h, sv.p, LO, n, 2, CUDA_R_64F, dA, 2, CUDA_R_64F, dB, n, dinfo),
                     CUSOLVER_STATUS_INVALID_VALUE);
    assert_int_equal(cusolverDnXpotrs(sv.h, sv.p, LO, n, 2, CUDA_R_64F, dA, n, CUDA_R_32F, dB, n, dinfo),
                     CUSOLVER_STATUS_INVALID_VALUE);
    assert_int_equal(cusolverDnXpotrs(NULL, sv.p, LO, n, 2, CUDA_R_64F, dA, n, CUDA_R_64F, dB, n, dinfo),
                     CUSOLVER_STATUS_NOT_INITIALIZED);
    SOL_OK(cusolverDnDestroy(sv.h));
    assert_int_equal(cusolverDnSetStream(sv.h, sv.s), CUSOLVER_STATUS_NOT_INITIALIZED);
    free(hw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_device_properties, setup),
        cmocka_unit_test_setup(test_mem_get_info, setup),
        cmocka_unit_test_setup(test_device_free_cap, setup),
        cmocka_unit_test_setup(test_no_device_modes, setup),
        cmocka_unit_test_setup(test_last_error, setup),
        cmocka_unit_test_setup(test_malloc_free, setup),
        cmocka_unit_test_setup(test_redzone_detected_at_free, setup),
        cmocka_unit_test_setup(test_quarantine_release_keeps_neighbour, setup),
        cmocka_unit_test_setup(test_redzone_detected_at_sync, setup),
        cmocka_unit_test_setup(test_host_deref_of_device_memory_faults, setup),
        cmocka_unit_test_setup(test_memcpy_kind_checks, setup),
        cmocka_unit_test_setup(test_memcpy2d, setup),
        cmocka_unit_test_setup(test_lazy_stream, setup),
        cmocka_unit_test_setup(test_pending_poison_stream_order, setup),
        cmocka_unit_test_setup(test_legacy_stream_semantics, setup),
        cmocka_unit_test_setup(test_events, setup),
        cmocka_unit_test_setup(test_enqueue_api, setup),
        cmocka_unit_test_setup(test_cxx_headers, setup),
        cmocka_unit_test_setup(test_capture_replay_twice, setup),
        cmocka_unit_test_setup(test_capture_sync_invalidates, setup),
        cmocka_unit_test_setup(test_capture_unsafe_calls, setup),
        cmocka_unit_test_setup(test_capture_other_threads, setup),
        cmocka_unit_test_setup(test_capture_events_and_legacy, setup),
        cmocka_unit_test_setup(test_replay_after_free_faults, setup),
        cmocka_unit_test_setup(test_cublas_helpers, setup),
        cmocka_unit_test_setup(test_dgemm_correct, setup),
        cmocka_unit_test_setup(test_dgemm_invalid, setup),
        cmocka_unit_test_setup(test_dgemv, setup),
        cmocka_unit_test_setup(test_dsymv, setup),
        cmocka_unit_test_setup(test_daxpy, setup),
        cmocka_unit_test_setup(test_dgmm, setup),
        cmocka_unit_test_setup(test_syrk, setup),
        cmocka_unit_test_setup(test_dtrsm, setup),
        cmocka_unit_test_setup(test_cublas_capture_needs_workspace, setup),
        cmocka_unit_test_setup(test_cublas_scalar_timing, setup),
        cmocka_unit_test_setup(test_potrf_potrs_correct, setup),
        cmocka_unit_test_setup(test_potrf_not_positive_definite, setup),
        cmocka_unit_test_setup(test_potrf_workspace_rules, setup),
        cmocka_unit_test_setup(test_potrf_potrs_invalid, setup),
    };
    return cmocka_run_group_tests_name("cuda stand-in", tests, NULL, NULL);
}
