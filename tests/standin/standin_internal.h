/* Internals shared by the stand-in's translation units. TEST-ONLY. */
#ifndef SAEBENCH_STANDIN_INTERNAL_H
#define SAEBENCH_STANDIN_INTERNAL_H

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cuda_runtime_api.h"
#include "standin.h"

#if defined(__SANITIZE_ADDRESS__)
#define STANDIN_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define STANDIN_ASAN 1
#endif
#endif

#if defined(STANDIN_ASAN)
#define STANDIN_NO_ASAN __attribute__((no_sanitize_address))
#else
#define STANDIN_NO_ASAN
#endif

namespace standin {

/* The live objects of one handle type (cuBLAS and cuSOLVER handles, cuSOLVER
 * params): the stand-in owns them, so a handle never created, or already
 * destroyed, is recognised. */
template <class T> struct registry {
    std::map<T *, std::unique_ptr<T>> live;
    T *add()
    {
        auto o = std::make_unique<T>();
        T *p = o.get();
        live[p] = std::move(o);
        return p;
    }
    bool has(T *p) const { return p && live.count(p); }
    void drop(T *p) { live.erase(p); }
    void clear() { live.clear(); }
};

/* The CUDA runtime has a device: what cublasCreate and cusolverDnCreate need. */
bool runtime_has_device();

/* ---- messages and errors --------------------------------------------- */
std::string fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
void note_failure(const std::string &msg);
std::string ptr_str(const void *p);

/* One lock for the whole API: every public entry point holds it, and queued
 * work runs under it (on the thread that waits). */
std::recursive_mutex &api_mutex();
#define STANDIN_LOCK std::lock_guard<std::recursive_mutex> standin_lock_(::standin::api_mutex())

/* Runtime-API failure: records msg, sets the thread's last error, returns e. */
cudaError_t rt_fail(cudaError_t e, const std::string &msg);
/* The sticky error (a device fault), or cudaSuccess. A non-success value is
 * also recorded as the thread's last error. */
cudaError_t rt_sticky();
bool sticky_set();

/* ---- device memory (standin_memory.cpp) ------------------------------- */
bool in_arena(const void *p);
/* "" when [p, p+bytes) lies in one live allocation, else why not. */
std::string device_range_problem(const void *p, size_t bytes);
/* What p is: "host pointer 0x..", "device pointer 0x.. (offset ...)", ... */
std::string describe_ptr(const void *p);
bool is_pinned_host(const void *p);
size_t device_bytes_in_use();
/* What this process may still allocate: the free-memory cap (standin_set_device_free,
 * STANDIN_DEVICE_FREE_MB; default the whole device) less what is in use. */
size_t device_bytes_free();
/* Checks every live allocation's redzones; "" or the first problem found. */
std::string check_all_redzones();
void memory_reset();
cudaError_t arena_alloc(void **out, size_t size);
bool arena_free(void *p, std::string *why, std::string *redzone);
cudaError_t pinned_alloc(void **out, size_t size);
bool pinned_free(void *p);
size_t device_total_bytes();
/* Host access to the arena is enabled while one of these lives (the guard
 * maps the arena PROT_NONE otherwise). */
struct ArenaAccess {
    ArenaAccess();
    ~ArenaAccess();
    ArenaAccess(const ArenaAccess &) = delete;
    ArenaAccess &operator=(const ArenaAccess &) = delete;
};

/* ---- streams, capture, queues (standin_runtime.cpp) -------------------- */
struct Prereq {
    uint64_t stream_id;
    uint64_t seq;
};
enum CaptureState { CAPTURE_BAD_STREAM = -1, CAPTURE_NONE = 0, CAPTURE_ACTIVE = 1, CAPTURE_INVALIDATED = 2 };
int capture_state(cudaStream_t s);
bool stream_valid(cudaStream_t s);
void invalidate_capture(cudaStream_t s, const std::string &why);
/* Queues (or, in capture, records) fn on s. Fails with the runtime's error
 * (invalid handle, invalidated capture, legacy-stream implicit dependency). */
cudaError_t enqueue(cudaStream_t s, const std::string &what, std::function<void()> fn,
                    std::vector<Prereq> extra = {});
/* enqueue for a copy whose host destination dst (height rows of width bytes,
 * pitch apart; nullptr: none) is written when it runs: the destination is
 * filled with STANDIN_PENDING_POISON now (at each graph launch when the
 * stream captures), so a host read before the synchronisation sees NaN;
 * earlier queued copies that read those host bytes are given a snapshot
 * first. read: the copy's own host source, if any (registered for that). */
struct HostRead;
cudaError_t enqueue_download(cudaStream_t s, const std::string &what, std::function<void()> fn, void *dst,
                             size_t pitch, size_t width, size_t height, std::shared_ptr<HostRead> read = nullptr,
                             std::vector<Prereq> extra = {});
void poison_pending_download(void *dst, size_t pitch, size_t width, size_t height);
/* Runs every queue, as an implicit cudaDeviceSynchronize does (nothing while
 * a capture is active). */
void drain_all_if_not_capturing();
/* For execution-time checks inside queued work: "" when fine; otherwise the
 * fault is made sticky (cudaErrorIllegalAddress) with the message and false
 * is returned. */
bool exec_device_ok(const void *p, size_t bytes, const std::string &what);

/* ---- injected faults (standin_set_fault) ------------------------------ */
enum Fault { FAULT_SKIP_SYNC, FAULT_WORKSPACE_SHORT, FAULT_LD_SHORT, FAULT_SYNC_IN_CAPTURE, FAULT_COUNT };
/* true (and one use consumed) when fault f is armed. */
bool fault_take(Fault f);
void faults_reset();

/* ---- launch layer (standin_launch.cpp) ---------------------------------- */
extern "C" void standin_launch_reset(void);

/* ---- library resets ---------------------------------------------------- */
void blas_reset();
void solver_reset();

}  // namespace standin

#endif
