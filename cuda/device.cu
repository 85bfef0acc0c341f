/* The CUDA backend (src/backend.h): the device probe, the device calibration
 * and the table sb_cuda_backend. The workloads' operations live beside it:
 * resident-solve in rs_backend.cu, the arrow-Schur solve (inner-loop,
 * outer-seq) in arrow_backend.cu, encode in encode_backend.cu. Error macros
 * in cuda_check.h (they return SB_E_RUNTIME with "call: STATUS (file:line)").
 *
 * calibrate (docs/workloads.md §0, Rooflines): the FP64 matrix rate from a
 * cuBLAS DGEMM (8192, or 4096 when three such matrices do not fit) and the
 * memory bandwidth from a device-to-device copy (1 GiB, or 256 MiB), each the
 * fastest of kCalibTimed event-timed runs after kCalibWarmup. */
#include <stdio.h>
#include <string.h>

#include <algorithm>

#include "arrow_backend.h"
#include "clock.h"
#include "cuda_check.h"
#include "device.h"
#include "encode_backend.h"
#include "rs_backend.h"
#include "rs_kernels.h"

extern "C" {
#include "backend.h"
}

/* ------------------------------------------------------------------ */
/* probe                                                               */

sb_rc sb_cuda_probe(sb_device_info *info, sb_err *why)
{
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
        cudaGetLastError();
        /* No driver, or a driver without a GPU, reads "insufficient driver"
         * to the runtime: say what a person can act on, keep the raw text. */
        const int absent = e == cudaErrorInsufficientDriver || e == cudaErrorNoDevice;
        return sb_fail(why, SB_E_NODEVICE, "%s [cudaGetDeviceCount: %s]",
                       absent ? "no NVIDIA driver or GPU found" : "the CUDA runtime cannot use a device",
                       cudaGetErrorString(e));
    }
    if (count < 1)
        return sb_fail(why, SB_E_NODEVICE, "no NVIDIA driver or GPU found [cudaGetDeviceCount: 0 devices]");
    if (!info)
        return SB_OK;

    int dev = 0;
    e = cudaGetDevice(&dev);
    if (e != cudaSuccess) {
        cudaGetLastError();
        return sb_fail(why, SB_E_NODEVICE, "no usable CUDA device [cudaGetDevice: %s]",
                       cudaGetErrorString(e));
    }
    cudaDeviceProp prop;
    e = cudaGetDeviceProperties(&prop, dev);
    if (e != cudaSuccess) {
        cudaGetLastError();
        return sb_fail(why, SB_E_NODEVICE, "no usable CUDA device [cudaGetDeviceProperties: %s]",
                       cudaGetErrorString(e));
    }
    memset(info, 0, sizeof *info);
    snprintf(info->name, sizeof info->name, "%s", prop.name);
    info->cc_major = prop.major;
    info->cc_minor = prop.minor;
    info->sm_count = prop.multiProcessorCount;
    info->total_mem = (uint64_t)prop.totalGlobalMem;
    snprintf(info->pci_bus_id, sizeof info->pci_bus_id, "%08x:%02x:%02x.0", (unsigned)prop.pciDomainID,
             (unsigned)prop.pciBusID, (unsigned)prop.pciDeviceID);
    if (cudaDriverGetVersion(&info->driver_version) != cudaSuccess) {
        info->driver_version = 0;
        cudaGetLastError();
    }
    if (cudaRuntimeGetVersion(&info->runtime_version) != cudaSuccess) {
        info->runtime_version = 0;
        cudaGetLastError();
    }
    /* cudaDeviceProp::clockRate is gone in CUDA 13; the attribute remains
     * (kHz) but may be unsupported: then the clock is reported as 0. */
    int khz = 0;
    if (cudaDeviceGetAttribute(&khz, cudaDevAttrClockRate, dev) == cudaSuccess && khz > 0) {
        info->clock_mhz = khz / 1000.0;
    } else {
        info->clock_mhz = 0.0;
        cudaGetLastError();
    }
    return SB_OK;
}

namespace {

/* ------------------------------------------------------------------ */
/* calibrate                                                           */

const int kCalibWarmup = 2;
const int kCalibTimed = 10;
/* Device memory left free beside the calibration buffers (cuBLAS workspace,
 * context). */
const size_t kCalibSlack = (size_t)256 << 20;

struct calib_bufs {
    cudaStream_t stream;
    cudaEvent_t e0, e1;
    cublasHandle_t blas;
    double *a, *b, *c;
    void *src, *dst;
};

void calib_free(calib_bufs *cb)
{
    if (cb->stream)
        cudaStreamSynchronize(cb->stream);
    cudaFree(cb->a);
    cudaFree(cb->b);
    cudaFree(cb->c);
    cudaFree(cb->src);
    cudaFree(cb->dst);
    if (cb->blas)
        cublasDestroy(cb->blas);
    if (cb->e0)
        cudaEventDestroy(cb->e0);
    if (cb->e1)
        cudaEventDestroy(cb->e1);
    if (cb->stream)
        cudaStreamDestroy(cb->stream);
    cudaGetLastError();
    memset(cb, 0, sizeof *cb);
}

/* The fastest seconds of op over kCalibTimed event-timed runs after
 * kCalibWarmup. A ceiling is the fastest the device was seen to go: noise
 * only slows a run, so a median would understate it and let an honest
 * number look faster than its bound. */
template <typename Op>
sb_rc calib_time(calib_bufs *cb, double *best_s, sb_err *err, Op op)
{
    float t[kCalibTimed];
    for (int i = 0; i < kCalibWarmup + kCalibTimed; ++i) {
        SB_CUDA_TRY(err, cudaEventRecord(cb->e0, cb->stream));
        sb_rc rc = op(err);
        if (rc != SB_OK)
            return rc;
        SB_CUDA_TRY(err, cudaEventRecord(cb->e1, cb->stream));
        SB_CUDA_TRY(err, cudaEventSynchronize(cb->e1));
        float ms = 0.0f;
        SB_CUDA_TRY(err, cudaEventElapsedTime(&ms, cb->e0, cb->e1));
        if (i >= kCalibWarmup)
            t[i - kCalibWarmup] = ms;
    }
    *best_s = *std::min_element(t, t + kCalibTimed) * 1e-3;
    return SB_OK;
}

sb_rc calib_dgemm(calib_bufs *cb, sb_ceilings *out, sb_err *err)
{
    size_t free_b = 0, total_b = 0;
    SB_CUDA_TRY(err, cudaMemGetInfo(&free_b, &total_b));
    int64_t n = 8192;
    if ((size_t)(3 * n * n) * sizeof(double) + kCalibSlack > free_b)
        n = 4096;
    const size_t bytes = (size_t)(n * n) * sizeof(double);
    SB_CUDA_TRY(err, cudaMalloc((void **)&cb->a, bytes));
    SB_CUDA_TRY(err, cudaMalloc((void **)&cb->b, bytes));
    SB_CUDA_TRY(err, cudaMalloc((void **)&cb->c, bytes));
    SB_LAUNCH_TRY(err, sb_launch_fill_pseudorandom(cb->a, n * n, 0x5aeb0001ull, cb->stream));
    SB_LAUNCH_TRY(err, sb_launch_fill_pseudorandom(cb->b, n * n, 0x5aeb0002ull, cb->stream));
    SB_CUDA_TRY(err, cudaMemsetAsync(cb->c, 0, bytes, cb->stream));

    const double one = 1.0, zero = 0.0;
    const int ni = (int)n;
    double s = 0.0;
    sb_rc rc = calib_time(cb, &s, err, [&](sb_err *e) -> sb_rc {
        SB_CUBLAS_TRY(e, cublasDgemm(cb->blas, CUBLAS_OP_N, CUBLAS_OP_N, ni, ni, ni, &one, cb->a,
                                     ni, cb->b, ni, &zero, cb->c, ni));
        return SB_OK;
    });
    if (rc != SB_OK)
        return rc;
    if (!(s > 0.0))
        return sb_fail(err, SB_E_RUNTIME, "calibrate: DGEMM %lld timed as %g s", (long long)n, s);
    out->dgemm_n = (double)n;
    out->fp64_flops = 2.0 * (double)n * (double)n * (double)n / s;

    SB_CUDA_TRY(err, cudaFree(cb->a));
    SB_CUDA_TRY(err, cudaFree(cb->b));
    SB_CUDA_TRY(err, cudaFree(cb->c));
    cb->a = cb->b = cb->c = NULL;
    return SB_OK;
}

sb_rc calib_copy(calib_bufs *cb, sb_ceilings *out, sb_err *err)
{
    size_t free_b = 0, total_b = 0;
    SB_CUDA_TRY(err, cudaMemGetInfo(&free_b, &total_b));
    size_t bytes = (size_t)1 << 30;
    if (2 * bytes + kCalibSlack > free_b)
        bytes = (size_t)256 << 20;
    SB_CUDA_TRY(err, cudaMalloc(&cb->src, bytes));
    SB_CUDA_TRY(err, cudaMalloc(&cb->dst, bytes));
    SB_CUDA_TRY(err, cudaMemsetAsync(cb->src, 0x5a, bytes, cb->stream));
    SB_CUDA_TRY(err, cudaMemsetAsync(cb->dst, 0, bytes, cb->stream));

    double s = 0.0;
    sb_rc rc = calib_time(cb, &s, err, [&](sb_err *e) -> sb_rc {
        SB_CUDA_TRY(e, cudaMemcpyAsync(cb->dst, cb->src, bytes, cudaMemcpyDeviceToDevice, cb->stream));
        return SB_OK;
    });
    if (rc != SB_OK)
        return rc;
    if (!(s > 0.0))
        return sb_fail(err, SB_E_RUNTIME, "calibrate: device copy timed as %g s", s);
    out->copy_bytes = (double)bytes;
    out->mem_bw = 2.0 * (double)bytes / s; /* every byte is read once and written once */
    return SB_OK;
}

sb_rc calib_body(calib_bufs *cb, sb_ceilings *out, sb_err *err)
{
    SB_CUDA_TRY(err, cudaStreamCreateWithFlags(&cb->stream, cudaStreamNonBlocking));
    SB_CUDA_TRY(err, cudaEventCreate(&cb->e0));
    SB_CUDA_TRY(err, cudaEventCreate(&cb->e1));
    SB_CUBLAS_TRY(err, cublasCreate(&cb->blas));
    SB_CUBLAS_TRY(err, cublasSetStream(cb->blas, cb->stream));
    SB_CUBLAS_TRY(err, cublasSetPointerMode(cb->blas, CUBLAS_POINTER_MODE_HOST));
    sb_rc rc = calib_dgemm(cb, out, err);
    if (rc != SB_OK)
        return rc;
    return calib_copy(cb, out, err);
}

sb_rc cuda_calibrate(sb_ceilings *out, sb_err *err)
{
    sb_rc rc = sb_cuda_probe(NULL, err);
    if (rc != SB_OK)
        return rc;
    calib_bufs cb;
    memset(&cb, 0, sizeof cb);
    sb_ceilings got;
    memset(&got, 0, sizeof got);
    rc = calib_body(&cb, &got, err);
    calib_free(&cb);
    if (rc == SB_OK)
        *out = got;
    return rc;
}

} // namespace

extern "C" const sb_backend sb_cuda_backend = {
    "cuda",              /* name */
    1,                   /* is_device */
    sb_cuda_probe,       /* probe */
    cuda_calibrate,      /* calibrate */
    &sb_cuda_rs_ops,     /* resident_solve: rs_backend.cu */
    &sb_cuda_arrow_ops,  /* arrow (inner-loop, outer-seq): arrow_backend.cu */
    &sb_cuda_encode_ops, /* encode: encode_backend.cu */
    &sb_cuda_probe_ops,  /* probe_ops: the SM clock probe, the L2 flush (clock.cu) */
};
