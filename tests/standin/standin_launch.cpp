/* The launch checks behind tests/standin/include/standin_launch.h (the
 * template half lives there). TEST-ONLY (README.md). */
#include "standin_internal.h"

using namespace standin;

#include <map>

namespace {
unsigned g_launch_orders;
constexpr size_t kDefaultDynamicSmem = 48 * 1024;
constexpr int kOptInDynamicSmem = 227 * 1024;
/* cudaFuncAttributeMaxDynamicSharedMemorySize per kernel entry */
std::map<const void *, size_t> g_max_dynamic_smem;

size_t func_max_dynamic_smem(const void *func)
{
    auto it = g_max_dynamic_smem.find(func);
    return it == g_max_dynamic_smem.end() ? kDefaultDynamicSmem : it->second;
}
}

extern "C" cudaError_t standin_launch_config(const void *func, const char *kernel, long long grid, long long block,
                                             size_t smem, cudaStream_t stream, const char *file, int line)
{
    STANDIN_LOCK;
    if (cudaError_t e = rt_sticky())
        return e;
    const char *why = nullptr;
    if (grid < 1 || grid > 2147483647LL)
        why = "grid outside 1..2^31-1";
    else if (block < 1 || block > 1024)
        why = "block outside 1..1024 threads";
    std::string limit;
    const size_t max_smem = func_max_dynamic_smem(func);
    if (!why && smem > max_smem) {
        limit = max_smem == kDefaultDynamicSmem
                    ? fmt("dynamic shared memory %zu bytes above the 48 KiB default (%zu) and no "
                          "cudaFuncSetAttribute(cudaFuncAttributeMaxDynamicSharedMemorySize) raised it",
                          smem, max_smem)
                    : fmt("dynamic shared memory %zu bytes above the %zu set by "
                          "cudaFuncSetAttribute(cudaFuncAttributeMaxDynamicSharedMemorySize)",
                          smem, max_smem);
        why = limit.c_str();
    }
    if (why)
        return rt_fail(cudaErrorInvalidConfiguration,
                       fmt("kernel %s<<<%lld, %lld, %zu>>> at %s:%d: %s", kernel, grid, block, smem, file, line, why));
    if (!stream_valid(stream))
        return rt_fail(cudaErrorInvalidResourceHandle,
                       fmt("kernel %s at %s:%d: invalid stream %s", kernel, file, line, ptr_str(stream).c_str()));
    return cudaSuccess;
}

extern "C" cudaError_t standin_launch_ptr_arg(const char *kernel, int index, const void *p, const char *field,
                                              const char *file, int line)
{
    STANDIN_LOCK;
    if (!p || device_range_problem(p, 0).empty())
        return cudaSuccess;
    return rt_fail(cudaErrorInvalidValue,
                   fmt("%s passed to kernel %s (argument %d%s%s: %s) at %s:%d",
                       in_arena(p) ? "device pointer outside every live allocation" : "host pointer", kernel, index,
                       field ? ", member " : "", field ? field : "", describe_ptr(p).c_str(), file, line));
}

/* cudaFuncSetAttribute (CUDA Runtime API 6.9): only
 * cudaFuncAttributeMaxDynamicSharedMemorySize is modelled (0..227 KiB minus
 * static shared memory, which is not measured here: 0..227 KiB);
 * cudaFuncAttributePreferredSharedMemoryCarveout is accepted (0..100 or -1)
 * and ignored; anything else is cudaErrorInvalidValue. func is the kernel's
 * entry (in the stand-in build, the slot-0 simulation function: the kernel's
 * name at a launch site resolves to it). */
extern "C" cudaError_t cudaFuncSetAttribute(const void *func, enum cudaFuncAttribute attr, int value)
{
    STANDIN_LOCK;
    if (cudaError_t e = rt_sticky())
        return e;
    if (!func)
        return rt_fail(cudaErrorInvalidDeviceFunction, "cudaFuncSetAttribute: func is NULL");
    switch (attr) {
    case cudaFuncAttributeMaxDynamicSharedMemorySize:
        if (value < 0 || value > kOptInDynamicSmem)
            return rt_fail(cudaErrorInvalidValue,
                           fmt("cudaFuncSetAttribute: cudaFuncAttributeMaxDynamicSharedMemorySize=%d outside "
                               "0..%d (sharedMemPerBlockOptin)",
                               value, kOptInDynamicSmem));
        g_max_dynamic_smem[func] = (size_t)value;
        return cudaSuccess;
    case cudaFuncAttributePreferredSharedMemoryCarveout:
        if (value < -1 || value > 100)
            return rt_fail(cudaErrorInvalidValue,
                           fmt("cudaFuncSetAttribute: cudaFuncAttributePreferredSharedMemoryCarveout=%d outside "
                               "-1..100",
                               value));
        return cudaSuccess;
    default:
        return rt_fail(cudaErrorInvalidValue,
                       fmt("cudaFuncSetAttribute: attribute %d is not modelled by the stand-in", (int)attr));
    }
}

extern "C" void standin_launch_reset(void)
{
    STANDIN_LOCK;
    g_max_dynamic_smem.clear();
}

/* forward, reversed, shuffled: every kernel sees each order in turn. */
extern "C" int standin_launch_next_order(void)
{
    static const int orders[3] = {0, 1, 2};
    STANDIN_LOCK;
    return orders[g_launch_orders++ % 3];
}
