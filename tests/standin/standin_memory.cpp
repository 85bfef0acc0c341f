/* Device memory of the CUDA stand-in: its own mmap'd arena, apart from host
 * memory, with a redzone before and after every allocation.
 *
 *   [256-byte front redzone][user bytes][tail redzone: >= 256 bytes]
 *
 * The user pointer is 256-byte aligned (cudaMalloc's guarantee). Redzones are
 * filled with address-dependent canary bytes, checked at cudaFree and at every
 * synchronisation; under AddressSanitizer they are also poisoned with ASan's
 * manual interface, so an instrumented out-of-bounds access is reported at
 * once. Fresh allocations are filled with 0xFF (cudaMalloc does not clear:
 * doubles and floats read NaN, ints -1); freed blocks with 0xDD, poisoned, and
 * kept in a quarantine before reuse so stale pointers stay invalid for a while.
 * The arena is reserved lazily (MAP_NORESERVE) and, while the host-access
 * guard is on, mapped PROT_NONE except while queued work runs. TEST-ONLY. */
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <shared_mutex>

#include "standin_internal.h"

#if defined(STANDIN_ASAN)
#include <sanitizer/asan_interface.h>
#define STANDIN_POISON(p, n) __asan_poison_memory_region((p), (n))
#define STANDIN_UNPOISON(p, n) __asan_unpoison_memory_region((p), (n))
#else
#define STANDIN_POISON(p, n) ((void)(p), (void)(n))
#define STANDIN_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace standin {
namespace {

constexpr size_t kAlign = 256;
constexpr size_t kFrontRedzone = 256;
constexpr size_t kMinTailRedzone = 256;
constexpr size_t kQuarantineBytes = size_t(64) << 20;
constexpr size_t kQuarantineBlocks = 256;
constexpr unsigned long long kDeviceTotal = 80ULL << 30; /* the reference H100's 80 GB */

struct Alloc {
    uintptr_t block;
    size_t block_size;
    uintptr_t user;
    size_t size;
};

struct Arena {
    unsigned char *base = nullptr;
    size_t size = 0;
    bool guard = true;
    bool protected_now = false;
    int access_depth = 0;
    std::map<uintptr_t, Alloc> live;          /* by user pointer */
    std::map<uintptr_t, size_t> free_blocks;  /* by block start, coalesced */
    std::deque<std::pair<uintptr_t, size_t>> quarantine;
    size_t quarantine_bytes = 0;
    size_t in_use = 0;
    std::map<uintptr_t, size_t> pinned;       /* cudaMallocHost blocks */
    size_t free_cap = 0;                      /* standin_set_device_free; 0: the default */
};

Arena &arena()
{
    static Arena a;
    return a;
}

/* Guards arena().live for readers outside the API lock (the future kernel
 * layer's worker threads call standin_is_device_ptr). */
std::shared_mutex &live_mutex()
{
    static std::shared_mutex m;
    return m;
}

size_t round_up(size_t v, size_t a) { return (v + a - 1) / a * a; }

unsigned char canary(uintptr_t addr) { return (unsigned char)(0xC5u ^ (unsigned)((addr >> 3) & 0x3Fu) ^ (unsigned)(addr & 7u)); }

void set_protection(bool accessible)
{
    Arena &a = arena();
    if (!a.base)
        return;
    const bool want_protected = a.guard && !accessible;
    if (want_protected == a.protected_now)
        return;
    if (mprotect(a.base, a.size, want_protected ? PROT_NONE : PROT_READ | PROT_WRITE) != 0) {
        /* Cannot toggle (e.g. strict overcommit): run without the guard. */
        a.guard = false;
        (void)mprotect(a.base, a.size, PROT_READ | PROT_WRITE);
        a.protected_now = false;
        return;
    }
    a.protected_now = want_protected;
}

bool ensure_arena()
{
    Arena &a = arena();
    if (a.base)
        return true;
    size_t mb = 4096;
    if (const char *e = getenv("STANDIN_ARENA_MB")) {
        char *end = nullptr;
        unsigned long long v = strtoull(e, &end, 10);
        if (end != e && v >= 16)
            mb = (size_t)v;
    }
    a.size = mb << 20;
    void *p = mmap(nullptr, a.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        a.size = 0;
        return false;
    }
    a.base = (unsigned char *)p;
    a.free_blocks[(uintptr_t)a.base] = a.size;
    a.protected_now = false;
    set_protection(a.access_depth > 0);
    return true;
}

/* STANDIN_DEVICE_FREE_MB: the device memory this process may have (the rest
 * of the 80 GiB counts as held by another process), read once; at most the
 * device's total. */
size_t env_free_cap()
{
    static const size_t cap = [] {
        size_t v = (size_t)kDeviceTotal;
        if (const char *e = getenv("STANDIN_DEVICE_FREE_MB")) {
            char *end = nullptr;
            unsigned long long mb = strtoull(e, &end, 10);
            if (end != e && *end == '\0' && mb < (kDeviceTotal >> 20))
                v = (size_t)mb << 20;
        }
        return v;
    }();
    return cap;
}

size_t free_cap()
{
    const Arena &a = arena();
    return a.free_cap ? a.free_cap : env_free_cap();
}

STANDIN_NO_ASAN void fill_bytes(uintptr_t p, size_t n, unsigned char v)
{
    volatile unsigned char *q = (volatile unsigned char *)p;
    for (size_t i = 0; i < n; i++)
        q[i] = v;
}

STANDIN_NO_ASAN void fill_canary(uintptr_t p, size_t n)
{
    volatile unsigned char *q = (volatile unsigned char *)p;
    for (size_t i = 0; i < n; i++)
        q[i] = canary(p + i);
}

/* Offset (from p) of the first byte that is not its canary, or n. */
STANDIN_NO_ASAN size_t first_bad_canary(uintptr_t p, size_t n)
{
    const volatile unsigned char *q = (const volatile unsigned char *)p;
    for (size_t i = 0; i < n; i++)
        if (q[i] != canary(p + i))
            return i;
    return n;
}

std::string redzone_problem(const Alloc &al)
{
    const size_t front = al.user - al.block;
    const size_t tail = al.block + al.block_size - (al.user + al.size);
    size_t bad = first_bad_canary(al.block, front);
    if (bad < front)
        return fmt("out-of-bounds write detected in the front redzone of the device allocation %s (%zu bytes): "
                   "byte %zu before its start was overwritten",
                   ptr_str((void *)al.user).c_str(), al.size, front - bad);
    bad = first_bad_canary(al.user + al.size, tail);
    if (bad < tail)
        return fmt("out-of-bounds write detected in the tail redzone of the device allocation %s (%zu bytes): "
                   "byte at offset %zu (%zu past the end) was overwritten",
                   ptr_str((void *)al.user).c_str(), al.size, al.size + bad, bad + 1);
    return "";
}

const Alloc *find_live(uintptr_t p)
{
    const Arena &a = arena();
    auto it = a.live.upper_bound(p);
    if (it == a.live.begin())
        return nullptr;
    --it;
    const Alloc &al = it->second;
    if (p >= al.user && p <= al.user + al.size)
        return &al;
    return nullptr;
}

void insert_free(uintptr_t start, size_t size)
{
    auto &fb = arena().free_blocks;
    auto next = fb.lower_bound(start);
    if (next != fb.end() && start + size == next->first) {
        size += next->second;
        next = fb.erase(next);
    }
    if (next != fb.begin()) {
        auto prev = std::prev(next);
        if (prev->first + prev->second == start) {
            prev->second += size;
            return;
        }
    }
    fb[start] = size;
}

/* Gives the whole pages inside [b, b+s) back to the kernel (they read 0
 * when used again). Only whole pages: madvise rounds its length up to a page,
 * and the partial pages at either end hold a neighbour's redzone or data. */
void drop_pages(uintptr_t b, size_t s)
{
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    const uintptr_t lo = (b + page - 1) / page * page, hi = (b + s) / page * page;
    if (hi <= lo)
        return;
    STANDIN_UNPOISON((void *)lo, hi - lo);
    (void)madvise((void *)lo, hi - lo, MADV_DONTNEED);
    STANDIN_POISON((void *)lo, hi - lo);
}

void release_block(uintptr_t block, size_t size)
{
    Arena &a = arena();
    a.quarantine.emplace_back(block, size);
    a.quarantine_bytes += size;
    while (a.quarantine_bytes > kQuarantineBytes || a.quarantine.size() > kQuarantineBlocks) {
        auto [b, s] = a.quarantine.front();
        a.quarantine.pop_front();
        a.quarantine_bytes -= s;
        if (s >= (size_t(1) << 20))
            drop_pages(b, s);
        insert_free(b, s);
    }
}

}  // namespace

/* ---- ArenaAccess ------------------------------------------------------- */
ArenaAccess::ArenaAccess()
{
    if (arena().access_depth++ == 0)
        set_protection(true);
}

ArenaAccess::~ArenaAccess()
{
    if (--arena().access_depth == 0)
        set_protection(false);
}

/* ---- queries ----------------------------------------------------------- */
bool in_arena(const void *p)
{
    const Arena &a = arena();
    return a.base && (const unsigned char *)p >= a.base && (const unsigned char *)p < a.base + a.size;
}

bool is_pinned_host(const void *p)
{
    const auto &pin = arena().pinned;
    auto it = pin.upper_bound((uintptr_t)p);
    if (it == pin.begin())
        return false;
    --it;
    return (uintptr_t)p < it->first + it->second;
}

std::string describe_ptr(const void *p)
{
    if (!p)
        return "a NULL pointer";
    if (!in_arena(p))
        return fmt("%s %s", is_pinned_host(p) ? "pinned host pointer" : "host pointer", ptr_str(p).c_str());
    std::shared_lock<std::shared_mutex> lk(live_mutex());
    const Alloc *al = find_live((uintptr_t)p);
    if (!al)
        return fmt("device-arena pointer %s outside any live allocation (freed, redzone or never allocated)",
                   ptr_str(p).c_str());
    return fmt("device pointer %s (offset %zu in the %zu-byte allocation at %s)", ptr_str(p).c_str(),
               (size_t)((uintptr_t)p - al->user), al->size, ptr_str((void *)al->user).c_str());
}

std::string device_range_problem(const void *p, size_t bytes)
{
    if (!p)
        return "is NULL";
    if (!in_arena(p))
        return fmt("is a %s, not device memory", is_pinned_host(p) ? "pinned host pointer" : "host pointer");
    std::shared_lock<std::shared_mutex> lk(live_mutex());
    const Alloc *al = find_live((uintptr_t)p);
    if (!al)
        return fmt("(%s) is not in a live device allocation (freed, redzone or never allocated)",
                   ptr_str(p).c_str());
    const size_t off = (uintptr_t)p - al->user;
    if (bytes > al->size - off)
        return fmt("needs %zu bytes from offset %zu of the %zu-byte device allocation at %s (%zu past its end)",
                   bytes, off, al->size, ptr_str((void *)al->user).c_str(), bytes - (al->size - off));
    return "";
}

size_t device_bytes_in_use() { return arena().in_use; }

size_t device_bytes_free()
{
    const size_t cap = free_cap();
    return cap > arena().in_use ? cap - arena().in_use : 0;
}

std::string check_all_redzones()
{
    ArenaAccess acc;
    for (const auto &[u, al] : arena().live) {
        (void)u;
        std::string why = redzone_problem(al);
        if (!why.empty())
            return why;
    }
    return "";
}

void memory_reset()
{
    Arena &a = arena();
    std::unique_lock<std::shared_mutex> lk(live_mutex());
    for (auto &[p, n] : a.pinned) {
        (void)n;
        free((void *)p);
    }
    a.pinned.clear();
    a.live.clear();
    a.quarantine.clear();
    a.quarantine_bytes = 0;
    a.free_blocks.clear();
    a.in_use = 0;
    a.guard = true;
    a.free_cap = 0;
    if (a.base) {
        set_protection(true);
        STANDIN_UNPOISON(a.base, a.size);
        (void)madvise(a.base, a.size, MADV_DONTNEED);
        a.free_blocks[(uintptr_t)a.base] = a.size;
        set_protection(a.access_depth > 0);
    }
}

}  // namespace standin

using namespace standin;

/* ---- public API ---------------------------------------------------------- */
extern "C" int standin_is_device_ptr(const void *p, size_t bytes)
{
    if (!p || !in_arena(p))
        return 0;
    std::shared_lock<std::shared_mutex> lk(live_mutex());
    const Alloc *al = find_live((uintptr_t)p);
    return al && bytes <= al->size - ((uintptr_t)p - al->user);
}

extern "C" int standin_in_device_arena(const void *p) { return in_arena(p) ? 1 : 0; }

extern "C" int standin_device_alloc_info(const void *p, void **base, size_t *size)
{
    if (!p || !in_arena(p))
        return 0;
    std::shared_lock<std::shared_mutex> lk(live_mutex());
    const Alloc *al = find_live((uintptr_t)p);
    if (!al)
        return 0;
    if (base)
        *base = (void *)al->user;
    if (size)
        *size = al->size;
    return 1;
}

extern "C" void standin_set_device_free(size_t bytes)
{
    STANDIN_LOCK;
    arena().free_cap = bytes < kDeviceTotal ? bytes : (size_t)kDeviceTotal;
}

extern "C" void standin_set_host_access_guard(int on)
{
    STANDIN_LOCK;
    Arena &a = arena();
    a.guard = on != 0;
    set_protection(a.access_depth > 0);
}

/* The allocation half of cudaMalloc/cudaFree; the API checks (capture, sticky
 * errors, implicit synchronisation) are in standin_runtime.cpp. */
namespace standin {

cudaError_t arena_alloc(void **out, size_t size)
{
    Arena &a = arena();
    if (size > device_bytes_free())
        return rt_fail(cudaErrorMemoryAllocation,
                       free_cap() < kDeviceTotal
                           ? fmt("cudaMalloc: %zu bytes requested, %zu free (%zu MiB of the device's 80 GiB "
                                 "left to this process: STANDIN_DEVICE_FREE_MB or standin_set_device_free)",
                                 size, device_bytes_free(), free_cap() >> 20)
                           : fmt("cudaMalloc: %zu bytes requested, %zu of the device's 80 GiB free", size,
                                 device_bytes_free()));
    if (!ensure_arena())
        return rt_fail(cudaErrorMemoryAllocation, fmt("cudaMalloc: could not reserve the stand-in arena (%s)",
                                                      strerror(errno)));
    const size_t tail = round_up(size, kAlign) - size + kMinTailRedzone;
    const size_t need = kFrontRedzone + size + tail;
    if (size > a.size || need > a.size)
        return rt_fail(cudaErrorMemoryAllocation,
                       fmt("cudaMalloc: %zu bytes exceed the stand-in arena of %zu MiB (set STANDIN_ARENA_MB)", size,
                           a.size >> 20));
    auto it = a.free_blocks.begin();
    for (; it != a.free_blocks.end(); ++it)
        if (it->second >= need)
            break;
    if (it == a.free_blocks.end()) {
        /* Give the quarantine back before giving up. */
        while (!a.quarantine.empty()) {
            insert_free(a.quarantine.front().first, a.quarantine.front().second);
            a.quarantine_bytes -= a.quarantine.front().second;
            a.quarantine.pop_front();
        }
        for (it = a.free_blocks.begin(); it != a.free_blocks.end(); ++it)
            if (it->second >= need)
                break;
        if (it == a.free_blocks.end())
            return rt_fail(cudaErrorMemoryAllocation,
                           fmt("cudaMalloc: no room for %zu bytes in the stand-in arena of %zu MiB "
                               "(%zu bytes in use; set STANDIN_ARENA_MB)",
                               size, a.size >> 20, a.in_use));
    }
    const uintptr_t block = it->first;
    const size_t have = it->second;
    a.free_blocks.erase(it);
    if (have > need)
        a.free_blocks[block + need] = have - need;

    Alloc al{block, need, block + kFrontRedzone, size};
    {
        ArenaAccess acc;
        STANDIN_UNPOISON((void *)block, need);
        fill_canary(block, kFrontRedzone);
        fill_bytes(al.user, size, 0xFF);
        fill_canary(al.user + size, tail);
        STANDIN_POISON((void *)block, kFrontRedzone);
        STANDIN_POISON((void *)(al.user + size), tail);
    }
    {
        std::unique_lock<std::shared_mutex> lk(live_mutex());
        a.live[al.user] = al;
    }
    a.in_use += size;
    *out = (void *)al.user;
    return cudaSuccess;
}

/* Frees a live allocation; returns false (with why) for anything else. A
 * corrupted redzone is reported through *redzone (the block is freed anyway). */
bool arena_free(void *p, std::string *why, std::string *redzone)
{
    Arena &a = arena();
    if (!in_arena(p)) {
        *why = fmt("%s was not returned by cudaMalloc", describe_ptr(p).c_str());
        return false;
    }
    Alloc al;
    {
        std::unique_lock<std::shared_mutex> lk(live_mutex());
        auto it = a.live.find((uintptr_t)p);
        if (it == a.live.end()) {
            lk.unlock();
            const std::string d = describe_ptr(p);
            *why = d.rfind("device pointer", 0) == 0
                       ? fmt("%s is not the start of an allocation", d.c_str())
                       : fmt("%s: double free, or never allocated", d.c_str());
            return false;
        }
        al = it->second;
        a.live.erase(it);
    }
    ArenaAccess acc;
    *redzone = redzone_problem(al);
    STANDIN_UNPOISON((void *)al.block, al.block_size);
    fill_bytes(al.block, al.block_size, 0xDD);
    STANDIN_POISON((void *)al.block, al.block_size);
    a.in_use -= al.size;
    release_block(al.block, al.block_size);
    return true;
}

cudaError_t pinned_alloc(void **out, size_t size)
{
    void *p = nullptr;
    if (posix_memalign(&p, kAlign, size ? size : 1) != 0)
        return rt_fail(cudaErrorMemoryAllocation, fmt("cudaMallocHost: %zu bytes: out of host memory", size));
    memset(p, 0xFF, size);
    arena().pinned[(uintptr_t)p] = size ? size : 1;
    *out = p;
    return cudaSuccess;
}

bool pinned_free(void *p)
{
    auto &pin = arena().pinned;
    auto it = pin.find((uintptr_t)p);
    if (it == pin.end())
        return false;
    pin.erase(it);
    free(p);
    return true;
}

size_t device_total_bytes() { return (size_t)kDeviceTotal; }

}  // namespace standin
