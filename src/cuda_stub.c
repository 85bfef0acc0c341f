/* Linked instead of cuda/ when the build has no CUDA (CUDA=0, or no nvcc):
 * the device backend exists and declines, so every command still runs and
 * says why the device is not engaged. */
#include "backend.h"
#include "multiplex.h"

static sb_rc stub_probe(sb_device_info *info, sb_err *why)
{
    (void)info;
    return sb_fail(why, SB_E_NODEVICE, "no device backend in this build (built without CUDA; rebuild with make CUDA=1)");
}

static sb_rc stub_calibrate(sb_ceilings *out, sb_err *err)
{
    (void)out;
    return sb_fail(err, SB_E_NODEVICE, "no device backend in this build");
}

const sb_backend sb_cuda_backend = {
    .name = "cuda",
    .is_device = 1,
    .probe = stub_probe,
    .calibrate = stub_calibrate,
};

sb_rc sb_cuda_free_memory(uint64_t *free_bytes, sb_err *err)
{
    *free_bytes = 0;
    return sb_fail(err, SB_E_NODEVICE, "no device backend in this build");
}
