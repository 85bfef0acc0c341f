/* The launch checks behind tests/standin/include/standin_launch.h (the
 * template half lives there). TEST-ONLY (README.md). */
#include "standin_internal.h"

using namespace standin;

namespace {
unsigned g_launch_orders;
}

extern "C" cudaError_t standin_launch_config(const char *kernel, long long grid, long long block, size_t smem,
                                             cudaStream_t stream, const char *file, int line)
{
    STANDIN_LOCK;
    if (cudaError_t e = rt_sticky())
        return e;
    const char *why = nullptr;
    if (grid < 1 || grid > 2147483647LL)
        why = "grid outside 1..2^31-1";
    else if (block < 1 || block > 1024)
        why = "block outside 1..1024 threads";
    else if (smem > 48 * 1024)
        why = "dynamic shared memory above the 48 KiB default (cudaFuncSetAttribute is not modelled)";
    if (why)
        return rt_fail(cudaErrorInvalidConfiguration,
                       fmt("kernel %s<<<%lld, %lld, %zu>>> at %s:%d: %s", kernel, grid, block, smem, file, line, why));
    if (!stream_valid(stream))
        return rt_fail(cudaErrorInvalidResourceHandle,
                       fmt("kernel %s at %s:%d: invalid stream %s", kernel, file, line, ptr_str(stream).c_str()));
    return cudaSuccess;
}

extern "C" cudaError_t standin_launch_ptr_arg(const char *kernel, int index, const void *p, const char *file,
                                              int line)
{
    STANDIN_LOCK;
    if (!p || device_range_problem(p, 0).empty())
        return cudaSuccess;
    return rt_fail(cudaErrorInvalidValue,
                   fmt("%s passed to kernel %s (argument %d: %s) at %s:%d",
                       in_arena(p) ? "device pointer outside every live allocation" : "host pointer", kernel, index,
                       describe_ptr(p).c_str(), file, line));
}

/* forward, reversed, shuffled: every kernel sees each order in turn. */
extern "C" int standin_launch_next_order(void)
{
    static const int orders[3] = {0, 1, 2};
    STANDIN_LOCK;
    return orders[g_launch_orders++ % 3];
}
