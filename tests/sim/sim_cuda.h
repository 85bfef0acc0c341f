/* CPU stand-ins for the CUDA built-ins our kernels use, and a grid launcher
 * that runs thread blocks concurrently and out of order. Shared by the kernel
 * simulations under tests/gpu/ (each runs kernel headers of cuda/).
 *
 * The model (the default; g_sim.fibers switches to fiber mode, see "fiber
 * mode" below, for the large sizes):
 *   - every CUDA thread is an OS thread; __syncthreads() is a std::barrier over
 *     the block's threads; warp shuffles go through a per-warp exchange buffer
 *     between two barriers; __syncwarp() is a barrier over the warp's 32
 *     threads; the FP64 tensor-core product mma.m8n8k4 (sim_mma_f64_m8n8k4)
 *     is emulated with the PTX per-lane fragment layout: each lane hands in
 *     the one A and one B element and gets back the two D elements the
 *     hardware would give it, so a kernel that feeds wrong elements fails;
 *   - every block of a grid is a group of OS threads, and up to SIM_SLOTS
 *     blocks are resident at once, all running concurrently. The launcher
 *     starts the blocks in one of four orders (forward, reversed, shuffled
 *     with a fixed seed, shuffled with random sleeps of 0–200 µs before each
 *     block and before each barrier and while spinning), each block waiting
 *     for a free residency slot as on a GPU whose SMs are full;
 *   - __shared__ memory must be per block, yet `__shared__ T x[..]` in the
 *     kernel source can only become a function-local `static`. So a
 *     simulation includes the kernel header once per residency slot, each
 *     copy in its own namespace (sim_slot0 .. sim_slot3): the statics of copy
 *     k are the shared memory of whichever block holds slot k. A block that
 *     takes over a slot finds the previous block's shared-memory contents, as
 *     on the device (shared memory is not cleared between blocks);
 *   - global memory is ordinary host memory shared by every thread. Atomics
 *     are std::atomic_ref read-modify-writes (seq_cst); __threadfence() is a
 *     seq_cst read-modify-write on one global word (ThreadSanitizer does not
 *     model std::atomic_thread_fence, and on x86 a locked RMW is a full
 *     fence); __ldcg is a seq_cst atomic load; clock64() is a nanosecond
 *     clock that also yields the CPU, since the only loops that read it are
 *     spin-waits (two cores, hundreds of threads: a spinning thread must let
 *     the thread it waits for run).
 *
 * Usage: include this, then the kernel header SIM_SLOTS times:
 *     namespace sim_slot0 {
 *     #include "x_kernels.cuh"
 *     }
 *     #undef SB_X_KERNELS_CUH
 *     namespace sim_slot1 { ... }   (and so on up to SIM_SLOTS - 1)
 * and launch with sim_launch(SIM_KERNEL(name), grid, block, args...).
 * Plain headers the kernel header includes (its params header, <cmath>) must
 * be included before the first namespace, so their guards keep them global. */
#ifndef SB_SIM_CUDA_H
#define SB_SIM_CUDA_H

#include <algorithm>
#include <array>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

/* ---------------------------- CUDA shims ---------------------------- */
struct sim_dim3 {
    unsigned x = 0, y = 1, z = 1;
};
static thread_local sim_dim3 threadIdx, blockIdx;
static sim_dim3 blockDim, gridDim; /* set before a grid's threads start */

#define __global__
#define __device__
#define __forceinline__ inline
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(x)
#define __shared__ static

#define SIM_SLOTS 4

enum sim_order { SIM_FORWARD, SIM_REVERSED, SIM_SHUFFLED, SIM_SHUFFLED_DELAYS, SIM_NORDERS };

static inline const char *sim_order_name(sim_order o)
{
    switch (o) {
    case SIM_FORWARD: return "forward";
    case SIM_REVERSED: return "reversed";
    case SIM_SHUFFLED: return "shuffled";
    case SIM_SHUFFLED_DELAYS: return "shuffled+delays";
    default: return "?";
    }
}

/* How the next launches run. Residency differs per order so that both full
 * concurrency and blocks queued behind full slots are exercised. */
struct sim_config {
    sim_order order = SIM_FORWARD;
    int resident = SIM_SLOTS; /* blocks resident at once, 1..SIM_SLOTS */
    uint64_t seed = 0x51a0c0de5eedull;
    bool fibers = false; /* a block's threads as fibers on one OS thread (below) */
};
static sim_config g_sim;
static std::atomic<unsigned long long> g_sim_launches{0};

static inline void sim_set_order(sim_order o, uint64_t seed)
{
    static const int resident[SIM_NORDERS] = {SIM_SLOTS, 2, 3, SIM_SLOTS};
    g_sim.order = o;
    g_sim.resident = resident[o];
    g_sim.seed = seed;
}

static inline uint64_t sim_mix(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

struct sim_warp {
    std::barrier<> bar{32};
    double slot[32];
    double mma[2][32][2]; /* double-buffered (a, b) fragments, see sim_mma_f64_m8n8k4 */
};
static thread_local std::barrier<> *sim_block_barrier;
static thread_local sim_warp *sim_this_warp;
static thread_local std::minstd_rand *sim_rng; /* only set in delay mode */
/* The residency slot whose copy of the kernel header this thread runs
 * (-1 outside a launch): a block's shared memory is slot sim_slot_now's
 * statics. Read by the stand-in's shared-memory accounting
 * (tests/standin/include/standin_launch.h, SIM_SHARED_NOTE). */
static thread_local int sim_slot_now = -1;
static thread_local unsigned sim_mma_calls;      /* this thread's mma count: the buffer parity */

/* 0..200 µs, only in SIM_SHUFFLED_DELAYS */
static inline void sim_maybe_sleep()
{
    if (sim_rng)
        std::this_thread::sleep_for(std::chrono::microseconds((*sim_rng)() % 201));
}

/* Fiber mode (g_sim.fibers): the launcher runs each block on one OS thread
 * and its CUDA threads as fibers on it (sim_fiber_* below); a barrier
 * arrival then switches to the block's scheduler instead of blocking. */
enum sim_wait { SIM_F_RUN, SIM_F_WARP, SIM_F_BLOCK, SIM_F_DONE };
struct sim_fiber_block;
static thread_local sim_fiber_block *sim_fb; /* non-null while a fiber block runs */
static inline void sim_fiber_wait(sim_wait kind);

static inline void sim_block_sync()
{
    if (sim_fb)
        sim_fiber_wait(SIM_F_BLOCK);
    else
        sim_block_barrier->arrive_and_wait();
}
static inline void sim_warp_sync()
{
    if (sim_fb)
        sim_fiber_wait(SIM_F_WARP);
    else
        sim_this_warp->bar.arrive_and_wait();
}

static inline void __syncthreads()
{
    if (!sim_fb) /* fiber mode sleeps at block granularity (sim_fiber_release) */
        sim_maybe_sleep();
    sim_block_sync();
}

static inline double __shfl_xor_sync(unsigned mask, double v, int lane_mask)
{
    (void)mask; /* the kernels only use full-warp shuffles */
    sim_warp *w = sim_this_warp;
    const unsigned lane = threadIdx.x % 32;
    w->slot[lane] = v;
    sim_warp_sync();
    const double got = w->slot[lane ^ (unsigned)lane_mask];
    sim_warp_sync();
    return got;
}

/* __shfl_sync: every lane reads lane src's v (the same exchange buffer). */
static inline double __shfl_sync(unsigned mask, double v, int src)
{
    (void)mask;
    sim_warp *w = sim_this_warp;
    const unsigned lane = threadIdx.x % 32;
    w->slot[lane] = v;
    sim_warp_sync();
    const double got = w->slot[(unsigned)src % 32u];
    sim_warp_sync();
    return got;
}

static inline void __syncwarp(unsigned mask = 0xffffffffu)
{
    (void)mask; /* the kernels only synchronise full warps */
    sim_warp_sync();
}

/* mma.sync.aligned.m8n8k4.row.col.f64.f64.f64.f64 {d0,d1}, {a}, {b}, {d0,d1}
 * for the calling warp (all 32 lanes call it together). PTX fragment layout,
 * g = lane >> 2, t = lane % 4: lane holds a = A[g][t], b = B[t][g] and
 * d0 = D[g][2t], d1 = D[g][2t+1]. So A[row][k] is lane 4·row + k's a and
 * B[k][col] is lane 4·col + k's b. One barrier per call: a lane writes
 * buffer p again only two calls later, after every lane has passed the
 * barrier of the call in between and so has finished reading buffer p. */
static inline void sim_mma_f64_m8n8k4(double &d0, double &d1, double a, double b)
{
    sim_warp *w = sim_this_warp;
    const unsigned lane = threadIdx.x % 32;
    const unsigned p = sim_mma_calls++ & 1u;
    w->mma[p][lane][0] = a;
    w->mma[p][lane][1] = b;
    sim_warp_sync();
    const unsigned g = lane >> 2, t = lane & 3u;
    double *d[2] = {&d0, &d1};
    for (unsigned e = 0; e < 2; ++e) {
        const unsigned col = 2 * t + e;
        double s = *d[e];
        for (unsigned k = 0; k < 4; ++k)
            s = std::fma(w->mma[p][4 * g + k][0], w->mma[p][4 * col + k][1], s);
        *d[e] = s;
    }
}

static inline unsigned atomicAdd(unsigned *p, unsigned v)
{
    return std::atomic_ref<unsigned>(*p).fetch_add(v, std::memory_order_seq_cst);
}
static inline unsigned atomicExch(unsigned *p, unsigned v)
{
    return std::atomic_ref<unsigned>(*p).exchange(v, std::memory_order_seq_cst);
}
static inline unsigned long long atomicAdd(unsigned long long *p, unsigned long long v)
{
    return std::atomic_ref<unsigned long long>(*p).fetch_add(v, std::memory_order_seq_cst);
}
static inline int atomicCAS(int *p, int expected, int desired)
{
    std::atomic_ref<int>(*p).compare_exchange_strong(expected, desired, std::memory_order_seq_cst);
    return expected;
}
static inline int atomicExch(int *p, int v)
{
    return std::atomic_ref<int>(*p).exchange(v, std::memory_order_seq_cst);
}
/* ld.acquire.gpu (rs_load_acquire) */
static inline unsigned sim_load_acquire(const unsigned *p)
{
    return std::atomic_ref<unsigned>(*const_cast<unsigned *>(p)).load(std::memory_order_seq_cst);
}
static std::atomic<int> sim_fence_word;
static inline void __threadfence() { sim_fence_word.fetch_add(0, std::memory_order_seq_cst); }
static inline double __ldcg(const double *p)
{
    return std::atomic_ref<double>(*const_cast<double *>(p)).load(std::memory_order_seq_cst);
}
/* Spin-wait iterations observed (clock64 is read once per wait and once per
 * spin), so a test can tell whether cross-block waits actually waited. */
static std::atomic<long long> g_sim_clock_reads{0};
static inline void sim_fiber_yield();
static inline long long clock64()
{
    g_sim_clock_reads.fetch_add(1, std::memory_order_relaxed);
    if (sim_fb)
        sim_fiber_yield(); /* a spinning thread lets its block's other threads run */
    if (sim_rng && (*sim_rng)() % 8 == 0)
        sim_maybe_sleep();
    else
        std::this_thread::yield();
    return (long long)std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}


/* ------------------------------ fiber mode ------------------------------ */
/* With g_sim.fibers set, each block of a launch is still its own OS thread,
 * concurrent with the other resident blocks and started in the configured
 * order (cross-block hand-offs are exercised exactly as before), but its
 * CUDA threads are fibers on that OS thread: a barrier arrival (block or
 * warp, and so every shuffle and emulated mma) records the wait and switches
 * to the block's scheduler, which releases a barrier when every live thread
 * of its group has arrived and runs the runnable threads in an order that
 * changes every pass (forward, reversed, rotated by a random offset). A
 * switch costs a few nanoseconds instead of a futex round trip among
 * hundreds of OS threads on two cores, which is what makes N = 2000 and
 * N = 4000 factorizations affordable. A spinning thread (clock64) hands the
 * OS thread to the block's other threads before it yields the CPU. In
 * SIM_SHUFFLED_DELAYS the block sleeps 0–200 µs at the start, at one block
 * barrier in eight and while spinning, not at every arrival. A pass in which
 * no thread can run is a barrier deadlock: reported, then abort().
 * Within a block this is weaker than the OS-thread mode (threads interleave
 * only at barriers), so the small sizes keep running in that mode; fibers
 * are for the large sizes. Not built under AddressSanitizer (it cannot
 * follow a hand-written stack switch): sim_fibers_available() says so. */
#if defined(__SANITIZE_ADDRESS__)
#define SIM_FIBERS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SIM_FIBERS 0
#endif
#endif
#if !defined(SIM_FIBERS) && defined(__x86_64__)
#define SIM_FIBERS 1
#endif
#ifndef SIM_FIBERS
#define SIM_FIBERS 0
#endif

static inline bool sim_fibers_available() { return SIM_FIBERS != 0; }

#if SIM_FIBERS
/* sim_ctx_switch(save, to): push the callee-saved registers (System V
 * x86-64), store the stack pointer in *save, continue on stack `to` (which
 * holds the same six registers and a return address). */
extern "C" void sim_ctx_switch(void **save, void *to);
asm(R"(
    .text
    .p2align 4
    .weak sim_ctx_switch
    .type sim_ctx_switch, @function
sim_ctx_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size sim_ctx_switch, .-sim_ctx_switch
)");
#else
static inline void sim_ctx_switch(void **, void *) { std::abort(); }
#endif

enum { SIM_FIBER_STACK = 64 * 1024 };
struct sim_fiber {
    void *sp = nullptr;
    std::unique_ptr<char[]> stack;
    unsigned tid = 0;
    sim_wait state = SIM_F_RUN;
    unsigned mma_calls = 0;
};
struct sim_fiber_block {
    std::vector<sim_fiber> f;
    std::vector<int> warp_live, warp_arrived;
    int live = 0, block_arrived = 0;
    void *sched_sp = nullptr;
    sim_fiber *cur = nullptr;
    void (*body)(void *) = nullptr; /* runs the kernel for threadIdx */
    void *body_arg = nullptr;
    std::minstd_rand rng;
    bool delays = false;
};

/* Back to the scheduler; returns when the scheduler runs this fiber again. */
static inline void sim_fiber_to_sched()
{
    sim_fiber_block *fb = sim_fb;
    sim_ctx_switch(&fb->cur->sp, fb->sched_sp);
}

/* Release a group whose live members have all arrived. */
static inline void sim_fiber_release(sim_fiber_block *fb, sim_wait kind, unsigned warp)
{
    if (kind == SIM_F_WARP) {
        if (fb->warp_arrived[warp] < fb->warp_live[warp])
            return;
        fb->warp_arrived[warp] = 0;
        for (unsigned l = 0; l < 32 && 32 * warp + l < fb->f.size(); ++l)
            if (fb->f[32 * warp + l].state == SIM_F_WARP)
                fb->f[32 * warp + l].state = SIM_F_RUN;
    } else {
        if (fb->block_arrived < fb->live)
            return;
        fb->block_arrived = 0;
        for (auto &x : fb->f)
            if (x.state == SIM_F_BLOCK)
                x.state = SIM_F_RUN;
        if (fb->delays && fb->rng() % 8 == 0)
            std::this_thread::sleep_for(std::chrono::microseconds(fb->rng() % 201));
    }
}

static inline void sim_fiber_wait(sim_wait kind)
{
    sim_fiber_block *fb = sim_fb;
    sim_fiber *me = fb->cur;
    const unsigned warp = me->tid / 32;
    me->state = kind;
    if (kind == SIM_F_WARP)
        fb->warp_arrived[warp]++;
    else
        fb->block_arrived++;
    sim_fiber_release(fb, kind, warp);
    sim_fiber_to_sched();
}

static inline void sim_fiber_yield()
{
    sim_fiber_to_sched(); /* state stays SIM_F_RUN */
}

/* First code of every fiber (entered by sim_ctx_switch's ret). */
static void sim_fiber_entry()
{
    sim_fiber_block *fb = sim_fb;
    fb->body(fb->body_arg);
    sim_fiber *me = fb->cur;
    const unsigned warp = me->tid / 32;
    me->state = SIM_F_DONE;
    fb->live--;
    fb->warp_live[warp]--;
    /* an exited thread no longer counts at its group's barriers */
    sim_fiber_release(fb, SIM_F_WARP, warp);
    sim_fiber_release(fb, SIM_F_BLOCK, 0);
    for (;;)
        sim_fiber_to_sched();
}

/* Runs one block's `block` threads as fibers on the calling OS thread until
 * all have returned. body(arg) is the kernel call; the thread-locals the
 * shims read (threadIdx, the warp, the mma parity) are switched with the
 * fiber. */
static inline void sim_fiber_run_block(unsigned b, unsigned block, sim_warp *warps, uint64_t seed,
                                       bool delays, void (*body)(void *), void *arg)
{
    sim_fiber_block fb;
    fb.f.resize(block);
    fb.warp_live.assign((block + 31) / 32, 0);
    fb.warp_arrived.assign((block + 31) / 32, 0);
    fb.live = (int)block;
    fb.body = body;
    fb.body_arg = arg;
    fb.rng.seed((uint32_t)sim_mix(seed ^ ((uint64_t)b << 24) ^ 0xf1be5ull));
    fb.delays = delays;
    for (unsigned t = 0; t < block; ++t) {
        sim_fiber &x = fb.f[t];
        x.tid = t;
        x.stack.reset(new char[SIM_FIBER_STACK]);
        uintptr_t top = ((uintptr_t)x.stack.get() + SIM_FIBER_STACK) & ~(uintptr_t)15;
        void **sp = (void **)top;
        *--sp = nullptr;                         /* the entry function's return address */
        *--sp = (void *)&sim_fiber_entry;        /* where sim_ctx_switch returns to */
        for (int r = 0; r < 6; ++r)
            *--sp = nullptr;                     /* rbp rbx r12 r13 r14 r15 */
        x.sp = sp;
        fb.warp_live[t / 32]++;
    }
    blockIdx.x = b;
    sim_rng = delays ? &fb.rng : nullptr; /* clock64's sleeps while spinning */
    sim_fb = &fb;
    std::vector<unsigned> order(block);
    for (unsigned pass = 0; fb.live > 0; ++pass) {
        const unsigned mode = pass % 3, rot = (unsigned)(fb.rng() % block);
        bool ran = false;
        for (unsigned q = 0; q < block; ++q) {
            const unsigned t = mode == 0 ? q : mode == 1 ? block - 1 - q : (q + rot) % block;
            sim_fiber &x = fb.f[t];
            if (x.state != SIM_F_RUN)
                continue;
            threadIdx.x = t;
            sim_this_warp = &warps[t / 32];
            sim_mma_calls = x.mma_calls;
            fb.cur = &x;
            sim_ctx_switch(&fb.sched_sp, x.sp);
            x.mma_calls = sim_mma_calls;
            ran = true;
        }
        if (!ran) {
            std::fprintf(stderr, "sim: block %u: barrier deadlock (%d threads live, none can run)\n", b,
                         fb.live);
            std::abort();
        }
        if (delays && fb.rng() % 64 == 0)
            std::this_thread::yield();
    }
    sim_fb = nullptr;
    sim_rng = nullptr;
}

/* %globaltimer: one nanosecond clock for every block (CLOCK_MONOTONIC). */
static inline unsigned long long sim_globaltimer()
{
    return (unsigned long long)std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

/* ----------------------------- the launcher ----------------------------- */
#define SIM_KERNEL(name)                                                                         \
    (std::array<decltype(&sim_slot0::name), SIM_SLOTS>{&sim_slot0::name, &sim_slot1::name,       \
                                                       &sim_slot2::name, &sim_slot3::name})

static inline std::vector<unsigned> sim_block_order(unsigned grid, sim_order o, uint64_t seed)
{
    std::vector<unsigned> v(grid);
    for (unsigned b = 0; b < grid; ++b)
        v[b] = b;
    if (o == SIM_REVERSED)
        std::reverse(v.begin(), v.end());
    else if (o == SIM_SHUFFLED || o == SIM_SHUFFLED_DELAYS)
        std::shuffle(v.begin(), v.end(), std::mt19937_64(seed));
    return v;
}

/* Runs kernel<<<grid, block>>>(args...) to completion: blocks start in the
 * configured order as residency slots free up, and run concurrently. */
template <typename Fn, typename... Args>
static inline void sim_launch(const std::array<Fn, SIM_SLOTS> &kernel, unsigned grid, unsigned block,
                       Args... args)
{
    gridDim.x = grid;
    blockDim.x = block;
    const sim_config cfg = g_sim;
    const uint64_t launch = g_sim_launches.fetch_add(1);
    const uint64_t seed = sim_mix(cfg.seed ^ sim_mix(launch));
    const bool delays = cfg.order == SIM_SHUFFLED_DELAYS;
    const int resident = std::clamp(cfg.resident, 1, SIM_SLOTS);

    std::mutex m;
    std::condition_variable cv;
    std::vector<int> free_slots;
    for (int s = resident - 1; s >= 0; --s)
        free_slots.push_back(s);
    std::vector<std::thread> runners;
    runners.reserve(grid);
    for (unsigned b : sim_block_order(grid, cfg.order, seed)) {
        int slot;
        {
            std::unique_lock<std::mutex> lk(m);
            cv.wait(lk, [&] { return !free_slots.empty(); });
            slot = free_slots.back();
            free_slots.pop_back();
        }
        runners.emplace_back([&, b, slot] {
            if (delays) {
                std::minstd_rand r((uint32_t)sim_mix(seed + b));
                std::this_thread::sleep_for(std::chrono::microseconds(r() % 201));
            }
            std::unique_ptr<sim_warp[]> warps(new sim_warp[(block + 31) / 32]);
            sim_slot_now = slot;
            if (cfg.fibers) {
                auto call = [&]() { kernel[slot](args...); };
                sim_fiber_run_block(b, block, warps.get(), seed, delays,
                                    [](void *c) { (*(decltype(call) *)c)(); }, &call);
            } else {
            std::barrier<> bar((std::ptrdiff_t)block);
            std::vector<std::thread> threads;
            threads.reserve(block);
            for (unsigned t = 0; t < block; ++t)
                threads.emplace_back([&, t] {
                    threadIdx.x = t;
                    blockIdx.x = b;
                    sim_slot_now = slot;
                    sim_block_barrier = &bar;
                    sim_this_warp = &warps[t / 32];
                    std::minstd_rand rng((uint32_t)sim_mix(seed ^ ((uint64_t)b << 20) ^ t));
                    sim_rng = delays ? &rng : nullptr;
                    kernel[slot](args...);
                    sim_rng = nullptr;
                });
            for (auto &th : threads)
                th.join();
            }
            {
                std::lock_guard<std::mutex> lk(m);
                free_slots.push_back(slot);
            }
            cv.notify_one();
        });
    }
    for (auto &r : runners)
        r.join();
}

/* ------------------ checks shared by the simulations ------------------ */
#include <string>

static int g_pass, g_fail;

/* One "ok"/"FAIL" line tagged with the launch order in force; counted. */
static inline void sim_report(bool ok, const std::string &what)
{
    std::printf("%s [%s%s] %s\n", ok ? "ok  " : "FAIL", sim_order_name(g_sim.order),
                g_sim.fibers ? ", fibers" : "", what.c_str());
    (ok ? g_pass : g_fail)++;
}

/* The same with a measured value appended, "what (value)". */
static inline void sim_report(bool ok, const char *what, double value)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, " (%.3g)", value);
    sim_report(ok, std::string(what) + buf);
}

/* saebench's LCG: the next uniform draw in [-1, 1) from state s. */
static inline double sim_lcg_uniform(uint64_t &s)
{
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(s >> 11) / 9007199254740992.0 * 2.0 - 1.0;
}

/* An SPD test matrix shaped like the resident-solve systems, XᵀWX + ridge·I
 * (N×N, column-major, both triangles), from n = N + extra rows drawn from s:
 * X = 0.05·u, w = |u| + 1e-3. */
static inline std::vector<double> sim_spd_matrix(int N, int extra, double ridge, uint64_t &s)
{
    const int n = N + extra;
    std::vector<double> X((size_t)n * N), A((size_t)N * N, 0.0), w(n);
    for (auto &x : X)
        x = 0.05 * sim_lcg_uniform(s);
    for (auto &x : w)
        x = std::fabs(sim_lcg_uniform(s)) + 1e-3;
    /* rank-one updates, row by row of X: contiguous inner loop (N = 4000 in
     * seconds, not minutes) */
    for (int i = 0; i < n; ++i) {
        const double *xi = &X[(size_t)i * N];
        for (int c = 0; c < N; ++c) {
            const double s = w[i] * xi[c];
            double *Ac = &A[(size_t)c * N];
            for (int r = c; r < N; ++r)
                Ac[r] += xi[r] * s;
        }
    }
    for (int c = 0; c < N; ++c) { /* exactly symmetric */
        A[c + (size_t)c * N] += ridge;
        for (int r = c + 1; r < N; ++r)
            A[c + (size_t)r * N] = A[r + (size_t)c * N];
    }
    return A;
}

/* A matrix that is not positive definite exactly at column bad_col (N×N,
 * column-major, lower triangle): 2 on the diagonal, 0.5 below it, and -1 at
 * (bad_col, bad_col). LAPACK's dpotrf reports info = bad_col + 1. */
static inline std::vector<double> sim_not_spd_matrix(int N, int bad_col)
{
    std::vector<double> A((size_t)N * N, 0.0);
    for (int i = 0; i < N; ++i)
        A[i + (size_t)i * N] = 2.0;
    for (int i = 1; i < N; ++i)
        A[i + (size_t)(i - 1) * N] = 0.5;
    A[bad_col + (size_t)bad_col * N] = -1.0;
    return A;
}

#endif
