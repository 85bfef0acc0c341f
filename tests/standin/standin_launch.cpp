/* The launch checks behind tests/standin/include/standin_launch.h (the
 * template half lives there). TEST-ONLY (README.md). */
#include "standin_internal.h"

using namespace standin;

#include <cxxabi.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>

namespace {
unsigned g_launch_orders;
constexpr size_t kDefaultSmem = 48 * 1024;      /* sharedMemPerBlock: static + dynamic by default */
constexpr size_t kOptInSmem = 227 * 1024;       /* sharedMemPerBlockOptin */
/* cudaFuncAttributeMaxDynamicSharedMemorySize per kernel entry (absent: not set) */
std::map<const void *, size_t> g_max_dynamic_smem;

/* Static shared memory per kernel entry, measured from the __shared__
 * variables its threads passed (SIM_SHARED_NOTE), per residency slot: each
 * slot is its own copy of the kernel header, so one slot's distinct
 * variables are one block's static shared memory. A property of the
 * compiled kernel, kept across standin_reset. Guarded by g_shared_mutex, not
 * the API lock: the kernel's threads note while the thread that runs the
 * queue holds the API lock and waits for them. */
struct kernel_shared {
    std::map<int, std::map<const void *, size_t>> slots;
    size_t bytes = 0; /* the largest per-slot sum */
    bool measured = false;
    std::string name; /* the kernel's name at its launches */
};
std::mutex g_shared_mutex;
std::map<const void *, kernel_shared> g_shared;
kernel_shared *g_running; /* the launch being simulated, between begin and end */

/* The measured static size of func (0 before its first run). */
size_t static_smem(const void *func)
{
    std::lock_guard<std::mutex> lk(g_shared_mutex);
    auto it = g_shared.find(func);
    return it == g_shared.end() ? 0 : it->second.bytes;
}

/* "" when static + smem bytes of shared memory fit func's limit, else why
 * not (CUDA Programming Guide, shared memory; cudaFuncSetAttribute: the
 * dynamic maximum plus the static size may not exceed
 * sharedMemPerBlockOptin). */
std::string smem_problem(const void *func, size_t stat, size_t smem)
{
    const std::string st = stat ? fmt("static %zu (measured) + ", stat) : std::string();
    if (stat > kDefaultSmem)
        return fmt("static shared memory %zu bytes (measured) above 48 KiB (%zu; nvcc refuses such a kernel)", stat,
                   kDefaultSmem);
    auto it = g_max_dynamic_smem.find(func);
    if (it == g_max_dynamic_smem.end()) {
        if (stat + smem > kDefaultSmem)
            return stat ? fmt("shared memory %sdynamic %zu = %zu bytes above the 48 KiB default (%zu) and no "
                              "cudaFuncSetAttribute(cudaFuncAttributeMaxDynamicSharedMemorySize) raised it",
                              st.c_str(), smem, stat + smem, kDefaultSmem)
                        : fmt("dynamic shared memory %zu bytes above the 48 KiB default (%zu) and no "
                              "cudaFuncSetAttribute(cudaFuncAttributeMaxDynamicSharedMemorySize) raised it",
                              smem, kDefaultSmem);
        return "";
    }
    if (smem > it->second)
        return fmt("dynamic shared memory %zu bytes above the %zu set by "
                   "cudaFuncSetAttribute(cudaFuncAttributeMaxDynamicSharedMemorySize)",
                   smem, it->second);
    if (stat + it->second > kOptInSmem)
        return fmt("shared memory %sthe %zu set by cudaFuncSetAttribute(cudaFuncAttributeMaxDynamicSharedMemorySize) "
                   "= %zu bytes above the 227 KiB opt-in (%zu, sharedMemPerBlockOptin)",
                   st.c_str(), it->second, stat + it->second, kOptInSmem);
    return "";
}

std::string demangled(const char *mangled)
{
    int status = 0;
    char *d = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
    std::string out = status == 0 && d ? d : mangled;
    free(d);
    return out;
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
    if (!why && !(limit = smem_problem(func, static_smem(func), smem)).empty())
        why = limit.c_str();
    if (why)
        return rt_fail(cudaErrorInvalidConfiguration,
                       fmt("kernel %s<<<%lld, %lld, %zu>>> at %s:%d: %s", kernel, grid, block, smem, file, line, why));
    if (!stream_valid(stream))
        return rt_fail(cudaErrorInvalidResourceHandle,
                       fmt("kernel %s at %s:%d: invalid stream %s", kernel, file, line, ptr_str(stream).c_str()));
    return cudaSuccess;
}

extern "C" cudaError_t standin_launch_ptr_arg(const char *kernel, int index, const void *p, const char *field,
                                              size_t bytes, const char *type, const char *file, int line)
{
    STANDIN_LOCK;
    if (!p || device_range_problem(p, 0).empty()) {
        if (!p || bytes == 0)
            return cudaSuccess;
        /* inside an allocation: a struct must lie in it whole */
        const std::string why = device_range_problem(p, bytes);
        if (why.empty())
            return cudaSuccess;
        return rt_fail(cudaErrorInvalidValue,
                       fmt("struct pointer passed to kernel %s (argument %d%s%s: %s, %zu bytes: %s) at %s:%d", kernel,
                           index, field ? ", member " : "", field ? field : "",
                           type ? demangled(type).c_str() : "struct", bytes, why.c_str(), file, line));
    }
    return rt_fail(cudaErrorInvalidValue,
                   fmt("%s passed to kernel %s (argument %d%s%s: %s) at %s:%d",
                       in_arena(p) ? "device pointer outside every live allocation" : "host pointer", kernel, index,
                       field ? ", member " : "", field ? field : "", describe_ptr(p).c_str(), file, line));
}

extern "C" void standin_shared_begin(const void *func)
{
    std::lock_guard<std::mutex> lk(g_shared_mutex);
    g_running = &g_shared[func];
}

extern "C" void standin_shared_note(const void *var, size_t bytes, int slot)
{
    std::lock_guard<std::mutex> lk(g_shared_mutex);
    if (g_running)
        g_running->slots[slot].emplace(var, bytes);
}

extern "C" void standin_shared_end(const void *func, const char *kernel, long long grid, long long block, size_t smem,
                                   const char *file, int line)
{
    size_t bytes = 0, before = 0;
    bool first = false;
    {
        std::lock_guard<std::mutex> lk(g_shared_mutex);
        kernel_shared &ks = g_shared[func];
        before = ks.bytes;
        first = !ks.measured;
        for (const auto &[slot, vars] : ks.slots) {
            (void)slot;
            size_t sum = 0;
            for (const auto &[var, b] : vars) {
                (void)var;
                sum += b;
            }
            bytes = std::max(bytes, sum);
        }
        ks.bytes = bytes;
        ks.measured = true;
        ks.name = kernel;
        g_running = nullptr;
    }
    /* a launch checked before this size was known (or while it was smaller) */
    if (!first && bytes == before)
        return;
    const std::string why = smem_problem(func, bytes, smem);
    if (!why.empty())
        standin_device_fault(fmt("kernel %s<<<%lld, %lld, %zu>>> at %s:%d: %s: the launch would have failed "
                                 "(cudaErrorInvalidConfiguration)",
                                 kernel, grid, block, smem, file, line, why.c_str())
                                 .c_str());
}

extern "C" long long standin_kernel_static_smem(const char *kernel)
{
    std::lock_guard<std::mutex> lk(g_shared_mutex);
    long long bytes = -1;
    for (const auto &[func, ks] : g_shared) {
        (void)func;
        if (ks.measured && ks.name == kernel)
            bytes = std::max(bytes, (long long)ks.bytes);
    }
    return bytes;
}

/* cudaFuncSetAttribute (CUDA Runtime API 6.9): only
 * cudaFuncAttributeMaxDynamicSharedMemorySize is modelled (0..227 KiB minus
 * the kernel's static shared memory, as measured so far: a kernel that has
 * not run yet is checked again at its launches);
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
        if (value < 0 || (size_t)value + static_smem(func) > kOptInSmem)
            return rt_fail(cudaErrorInvalidValue,
                           fmt("cudaFuncSetAttribute: cudaFuncAttributeMaxDynamicSharedMemorySize=%d outside "
                               "0..%zu (sharedMemPerBlockOptin %zu less the kernel's static %zu)",
                               value, kOptInSmem - static_smem(func), kOptInSmem, static_smem(func)));
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
