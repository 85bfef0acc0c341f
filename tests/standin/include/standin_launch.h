/* The stand-in's kernel-launch layer (SB_LAUNCH of cuda/launch.h under
 * -DSB_STANDIN). TEST-ONLY: never part of the shipped saebench.
 *
 * A launch SB_LAUNCH(k, grid, block, smem, stream)(args...) becomes
 * standin_launch(SIM_KERNEL(k), "k", grid, block, smem, stream, file, line)(args...):
 *   1. the configuration is checked as the runtime would at launch
 *      (cudaErrorInvalidConfiguration: grid 1..2^31-1, block 1..1024 threads,
 *      static + dynamic shared memory <= 48 KiB, or dynamic up to the
 *      kernel's cudaFuncAttributeMaxDynamicSharedMemorySize set by
 *      cudaFuncSetAttribute with static + that <= 227 KiB). The static size
 *      is measured: the stand-in compiles each kernel header with
 *      SIM_SHARED_NOTE(name) after every __shared__ declaration
 *      (tests/standin/shared-notes.sh), and the declarations a launch's
 *      threads pass are summed per residency slot; a kernel whose measured
 *      size breaks its limit at the end of its first run is a device fault
 *      (standin_device_fault), every later launch fails the check above;
 *   2. every raw pointer argument that is not NULL must point into a live
 *      cudaMalloc allocation (standin_is_device_ptr), otherwise
 *      cudaErrorInvalidValue with "host pointer passed to kernel k ...";
 *      a pointer to a struct must have sizeof the struct inside that one
 *      allocation; argument types may add their own checks through an
 *      overload of standin_kernel_arg_ptrs(const T &, std::vector<standin_arg_ptr> &)
 *      (pointer members, with the same rules: standin_arg_ptr_of);
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
#include <typeinfo>
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
 * NULL, or the name of the struct member that holds it); bytes > 0 (a
 * pointer to a struct: its sizeof; type its mangled name, typeid) must lie
 * in one live allocation from p on. */
cudaError_t standin_launch_ptr_arg(const char *kernel, int index, const void *p, const char *field, size_t bytes,
                                   const char *type, const char *file, int line);
/* The start order for the next simulated launch (rotates). */
int standin_launch_next_order(void);

/* Static shared memory accounting. A simulated launch of func runs between
 * begin and end (one at a time: queued work runs under the stand-in's lock);
 * its threads report each __shared__ variable they pass (SIM_SHARED_NOTE:
 * the variable's address and size, and the residency slot whose copy of the
 * kernel header the thread runs). end takes the largest per-slot sum as the
 * kernel's static size and, when that and smem break the kernel's limit,
 * reports a device fault naming the launch. */
void standin_shared_begin(const void *func);
void standin_shared_note(const void *var, size_t bytes, int slot);
void standin_shared_end(const void *func, const char *kernel, long long grid, long long block, size_t smem,
                        const char *file, int line);
/* The static shared memory measured so far (bytes) of the kernel launched
 * under that name (SB_LAUNCH's first argument), or -1 before its first
 * simulated launch. */
long long standin_kernel_static_smem(const char *kernel);
}

/* After each __shared__ declaration of a kernel header compiled for the
 * stand-in (inserted by tests/standin/shared-notes.sh; see above). */
#define SIM_SHARED_NOTE(name) standin_shared_note((const void *)&(name), sizeof(name), sim_slot_now)

/* A pointer carried inside a by-value struct argument, the member's name,
 * and for a pointer to a struct its size and type (standin_arg_ptr_of). */
struct standin_arg_ptr {
    const void *p;
    const char *field;
    size_t bytes;
    const char *type;
};
/* What a pointer to T must cover: a struct all of it, anything else (an
 * array's element, whose count the launch does not know) nothing beyond p. */
template <class T> constexpr size_t standin_pointee_extent()
{
    using U = std::remove_cv_t<T>;
    if constexpr (std::is_class_v<U>)
        return sizeof(U);
    else
        return 0;
}
template <class T> inline standin_arg_ptr standin_arg_ptr_of(const T *p, const char *field)
{
    return {(const void *)p, field, standin_pointee_extent<T>(),
            standin_pointee_extent<T>() ? typeid(std::remove_cv_t<T>).name() : nullptr};
}
/* Pointers carried inside a by-value struct argument: none unless overloaded
 * (a non-template overload for the struct type, declared before the launch
 * site's unit instantiates the launcher: the preludes in launch/, e.g.
 * sb_chain_sync and sb_tiled_sync in launch/rs_kernels.h). */
template <class T> inline void standin_kernel_arg_ptrs(const T &, std::vector<standin_arg_ptr> &) {}

template <class T> inline cudaError_t standin_check_kernel_arg(const char *kernel, int index, const T &a,
                                                               const char *file, int line)
{
    if constexpr (std::is_pointer_v<T>) {
        const standin_arg_ptr p = standin_arg_ptr_of(a, nullptr);
        return standin_launch_ptr_arg(kernel, index, p.p, nullptr, p.bytes, p.type, file, line);
    } else {
        std::vector<standin_arg_ptr> ptrs;
        standin_kernel_arg_ptrs(a, ptrs);
        for (const standin_arg_ptr &p : ptrs)
            if (cudaError_t e = standin_launch_ptr_arg(kernel, index, p.p, p.field, p.bytes, p.type, file, line))
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
        const standin_launcher at = *this;
        standin_enqueue(
            stream,
            [kernel, g, b, saved, at]() {
                sim_set_order((sim_order)standin_launch_next_order(), 0x5ba7c4u);
                g_sim.resident = SIM_SLOTS; /* persistent kernels want every slot */
                g_sim.fibers = sim_fibers_available();
                standin_shared_begin((const void *)kernel[0]);
                std::apply([&](P... a) { sim_launch(kernel, g, b, a...); }, saved);
                standin_shared_end((const void *)kernel[0], at.name, at.grid, at.block, at.smem, at.file, at.line);
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
