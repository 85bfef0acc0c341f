/* multiplex (src/multiplex.h): the device memory free now, so a run can refuse
 * a concurrency whose fits in flight cannot all be resident, before any work. */
#include "cuda_check.h"

extern "C" {
#include "multiplex.h"
}

extern "C" sb_rc sb_cuda_free_memory(uint64_t *free_bytes, sb_err *err)
{
    *free_bytes = 0;
    size_t free_now = 0, total = 0;
    SB_CUDA_TRY(err, cudaMemGetInfo(&free_now, &total));
    *free_bytes = (uint64_t)free_now;
    return SB_OK;
}
