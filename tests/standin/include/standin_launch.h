/* The stand-in's kernel-launch layer (SB_LAUNCH of cuda/launch.h under
 * -DSB_STANDIN). TEST-ONLY: never part of the shipped saebench.
 *
 * A launch SB_LAUNCH(k, grid, block, smem, stream)(args...) becomes
 * standin_launch(SIM_KERNEL(k), "k", grid, block, smem, stream, file, line)(args...):
 *   1. the configuration is checked as the runtime would at launch
 *      (cudaErrorInvalidConfiguration: grid 1..2^31-1, block 1..1024 threads,
 *      dynamic shared memory <= 48 KiB, or up to the kernel's
 *      cudaFuncAttributeMaxDynamicSharedMemorySize set by cudaFuncSetAttribute
 *      (at most 227 KiB); static shared memory is not measured, the kernels'
 *      __shared__ arrays being statics of the simulation);
 *   2. every raw pointer argument that is not NULL must point into a live
 *      cudaMalloc allocation (standin_is_device_ptr), otherwise
 *      cudaErrorInvalidValue with "host pointer passed to kernel k ...";
 *      argument types may add their own checks through an overload of
 *      standin_kernel_arg_ptrs(const T &, std::vector<const void *> &);
 *   3. the kernel is queued on the stream (recorded when it captures) with its
 *      arguments copied, and runs when the stream is synchronised: sim_launch
 *      of tests/sim/sim_cuda.h, the blocks concurrent (4 residency slots, each
 *      with its own copy of the kernel header's __shared__ statics), the
 *      start order rotating per launch (forward, reversed, shuffled), each
 *      block's threads as fibers (x86-64) or OS threads.
 * A failed check sets the thread's last error (cudaGetLastError after the
 * launch returns it) and records the message (standin_fail_messages).
 *
 * A translation unit with launches is compiled with a prelude that includes
 * this, then its kernel header once per residency slot (namespaces
 * sim_slot0..3) and `using namespace sim_slot0` for the host code's use of the
 * header's constants and helpers: tests/standin/launch/<tu>.h. */
#ifndef SAEBENCH_STANDIN_LAUNCH_H
#define SAEBENCH_STANDIN_LAUNCH_H

#include <array>
#include <cstddef>
#include <math.h> /* the kernels call isfinite, sqrt, ... unqualified, as CUDA has them */
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "cuda_runtime.h"
#include "sim_cuda.h"
#include "standin.h"

extern "C" {
/* Checks a launch configuration; cudaSuccess, or the error (also the thread's
 * last error, and the message recorded). Also returns a sticky fault. */
cudaError_t standin_launch_config(const void *func, const char *kernel, long long grid, long long block,
                                  size_t smem, cudaStream_t stream, const char *file, int line);
/* Checks pointer argument index of kernel: NULL or device memory (field:
 * NULL, or the name of the struct member that holds it). */
cudaError_t standin_launch_ptr_arg(const char *kernel, int index, const void *p, const char *field,
                                   const char *file, int line);
/* The start order for the next simulated launch (rotates). */
int standin_launch_next_order(void);
}

/* A pointer carried inside a by-value struct argument, and the member's name. */
struct standin_arg_ptr {
    const void *p;
    const char *field;
};
/* Pointers carried inside a by-value struct argument: none unless overloaded
 * (a non-template overload for the struct type, declared before the launch
 * site's unit instantiates the launcher: the preludes in launch/, e.g.
 * sb_chain_sync and sb_tiled_sync in launch/rs_kernels.h). */
template <class T> inline void standin_kernel_arg_ptrs(const T &, std::vector<standin_arg_ptr> &) {}

template <class T> inline cudaError_t standin_check_kernel_arg(const char *kernel, int index, const T &a,
                                                               const char *file, int line)
{
    if constexpr (std::is_pointer_v<T>) {
        return standin_launch_ptr_arg(kernel, index, (const void *)a, nullptr, file, line);
    } else {
        std::vector<standin_arg_ptr> ptrs;
        standin_kernel_arg_ptrs(a, ptrs);
        for (const standin_arg_ptr &p : ptrs)
            if (cudaError_t e = standin_launch_ptr_arg(kernel, index, p.p, p.field, file, line))
                return e;
        return cudaSuccess;
    }
}

template <class... P> struct standin_launcher {
    std::array<void (*)(P...), SIM_SLOTS> k;
    const char *name;
    long long grid, block;
    size_t smem;
    cudaStream_t stream;
    const char *file;
    int line;

    void operator()(P... args) const
    {
        if (standin_launch_config((const void *)k[0], name, grid, block, smem, stream, file, line) != cudaSuccess)
            return;
        int index = 0;
        cudaError_t e = cudaSuccess;
        ((e = e ? e : standin_check_kernel_arg(name, index++, args, file, line)), ...);
        if (e != cudaSuccess)
            return;
        const auto kernel = k;
        const unsigned g = (unsigned)grid, b = (unsigned)block;
        const std::tuple<P...> saved(args...);
        standin_enqueue(
            stream,
            [kernel, g, b, saved]() {
                sim_set_order((sim_order)standin_launch_next_order(), 0x5ba7c4u);
                g_sim.resident = SIM_SLOTS; /* persistent kernels want every slot */
                g_sim.fibers = sim_fibers_available();
                std::apply([&](P... a) { sim_launch(kernel, g, b, a...); }, saved);
            },
            name);
    }
};

template <class... P>
inline standin_launcher<P...> standin_launch(const std::array<void (*)(P...), SIM_SLOTS> &k, const char *name,
                                             long long grid, long long block, size_t smem,
                                             cudaStream_t stream, const char *file, int line)
{
    return standin_launcher<P...>{k, name, grid, block, smem, stream, file, line};
}

#endif
