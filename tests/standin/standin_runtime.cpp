/* The CUDA runtime part of the CPU stand-in: errors, the reference device,
 * lazily executed streams, events, stream capture and graphs, copies and
 * memsets. TEST-ONLY (tests/standin/README.md).
 *
 * Streams are lazy: queued work runs only when something waits for it
 * (cudaStreamSynchronize, cudaEventSynchronize, cudaDeviceSynchronize, a
 * synchronous call such as cudaMemcpy or cudaFree), on the waiting thread,
 * in stream order, after the work it depends on (the legacy default stream's
 * implicit synchronisation with blocking streams is modelled; non-blocking
 * streams are independent). A host read of a download that was never waited
 * for therefore sees the old bytes. */
#include <atomic>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <thread>

#include "standin_internal.h"

namespace standin {

struct Node {
    std::string what;
    std::function<void()> fn;
    /* A download's host destination, poisoned at each launch of the graph
     * (poison_pending_download) until the replayed copy writes it. */
    void *poison_dst = nullptr;
    size_t poison_pitch = 0, poison_width = 0, poison_height = 0;
    /* An upload's host source (read at each replay): a download of the same
     * graph into it is not poisoned at launch (the upload runs first). */
    const void *read_src = nullptr;
    size_t read_ext = 0;
};
using NodeList = std::vector<Node>;

/* A queued copy's host source (read when the copy runs). A download queued
 * later whose host destination overlaps it snapshots it first (take_host_
 * snapshots), so the poison of the pending download does not reach the
 * earlier upload: stream order, as on the device. */
struct HostRead {
    const unsigned char *src;
    size_t pitch, width, height;
    std::vector<unsigned char> snap;
    bool taken = false, done = false;
};

struct Capture {
    uint64_t id;
    cudaStreamCaptureMode mode;
    std::thread::id thread;
    bool invalidated = false;
    std::string why;
    NodeList nodes;
};

struct Task {
    std::string what;
    std::function<void()> fn;
    std::vector<Prereq> prereqs;
};

struct EventState {
    unsigned flags = 0;
    bool recorded = false;
    bool completed = false;
    uint64_t generation = 0;
    uint64_t stream_id = 0;
    uint64_t seq = 0;
    uint64_t captured_by = 0; /* capture id when last recorded in a capture */
    std::chrono::steady_clock::time_point when;
};

}  // namespace standin

struct CUstream_st {
    uint64_t id = 0;
    unsigned flags = 0;
    bool legacy = false;
    std::deque<standin::Task> q;
    uint64_t enqueued = 0;
    uint64_t done = 0;
    std::unique_ptr<standin::Capture> cap;
};

struct CUevent_st {
    std::shared_ptr<standin::EventState> st;
};

struct CUgraph_st {
    std::shared_ptr<const standin::NodeList> nodes;
};

struct CUgraphExec_st {
    std::shared_ptr<const standin::NodeList> nodes;
    uint64_t last_stream = 0;
    uint64_t last_seq = 0;
};

namespace standin {
namespace {

struct Runtime {
    CUstream_st legacy;
    std::map<CUstream_st *, std::unique_ptr<CUstream_st>> streams;
    std::map<uint64_t, CUstream_st *> by_id;
    std::map<CUevent_st *, std::unique_ptr<CUevent_st>> events;
    std::map<CUgraph_st *, std::unique_ptr<CUgraph_st>> graphs;
    std::map<CUgraphExec_st *, std::unique_ptr<CUgraphExec_st>> execs;
    uint64_t next_stream_id = 2;
    uint64_t next_capture_id = 1;
    int device_mode = STANDIN_DEVICE_OK;

    Runtime()
    {
        legacy.id = 1;
        legacy.legacy = true;
        by_id[1] = &legacy;
    }
};

Runtime &rt()
{
    static Runtime r;
    return r;
}

struct Messages {
    std::mutex mu;
    std::deque<std::string> list;
};

Messages &messages()
{
    static Messages m;
    return m;
}

thread_local cudaError_t t_last_error = cudaSuccess;
thread_local cudaStreamCaptureMode t_capture_mode = cudaStreamCaptureModeGlobal;
std::atomic<int> g_sticky{cudaSuccess};

bool verbose()
{
    static const bool v = getenv("STANDIN_VERBOSE") && *getenv("STANDIN_VERBOSE") && *getenv("STANDIN_VERBOSE") != '0';
    return v;
}

const char *mode_name(int m)
{
    switch (m) {
    case cudaStreamCaptureModeGlobal: return "cudaStreamCaptureModeGlobal";
    case cudaStreamCaptureModeThreadLocal: return "cudaStreamCaptureModeThreadLocal";
    case cudaStreamCaptureModeRelaxed: return "cudaStreamCaptureModeRelaxed";
    default: return "(invalid mode)";
    }
}

const char *kind_name(int k)
{
    switch (k) {
    case cudaMemcpyHostToHost: return "cudaMemcpyHostToHost";
    case cudaMemcpyHostToDevice: return "cudaMemcpyHostToDevice";
    case cudaMemcpyDeviceToHost: return "cudaMemcpyDeviceToHost";
    case cudaMemcpyDeviceToDevice: return "cudaMemcpyDeviceToDevice";
    case cudaMemcpyDefault: return "cudaMemcpyDefault";
    default: return "(invalid kind)";
    }
}

std::string stream_str(cudaStream_t s)
{
    if (!s || s == cudaStreamLegacy)
        return "0 (the legacy default stream)";
    return ptr_str(s);
}

/* ---- entry checks ----------------------------------------------------- */

/* CUDA_VISIBLE_DEVICES hides the one device when it is set and empty, or
 * names no device the stand-in has ("-1", "1", ...; the runtime stops at the
 * first invalid entry): read once, as the runtime reads it at initialisation. */
bool device_hidden()
{
    static const bool hidden = [] {
        const char *v = getenv("CUDA_VISIBLE_DEVICES");
        if (!v)
            return false;
        while (*v == ' ')
            v++;
        return !(v[0] == '0' && (v[1] == '\0' || v[1] == ',' || v[1] == ' '));
    }();
    return hidden;
}

/* The sticky error, then the simulated missing device/driver. */
cudaError_t entry(const char *api)
{
    if (cudaError_t e = rt_sticky())
        return e;
    if (device_hidden())
        return rt_fail(cudaErrorNoDevice,
                       fmt("%s: no CUDA-capable device is detected (CUDA_VISIBLE_DEVICES hides it)", api));
    if (rt().device_mode == STANDIN_NO_DEVICE)
        return rt_fail(cudaErrorNoDevice, fmt("%s: no CUDA-capable device is detected (standin_set_device_mode)", api));
    if (rt().device_mode == STANDIN_OLD_DRIVER)
        return rt_fail(cudaErrorInsufficientDriver,
                       fmt("%s: CUDA driver version is insufficient for CUDA runtime version (standin_set_device_mode)",
                           api));
    return cudaSuccess;
}

CUstream_st *resolve(cudaStream_t s)
{
    Runtime &r = rt();
    if (!s || s == cudaStreamLegacy)
        return &r.legacy;
    auto it = r.streams.find(s);
    return it == r.streams.end() ? nullptr : it->first;
}

cudaError_t bad_stream(const char *api, cudaStream_t s)
{
    if (s == cudaStreamPerThread)
        return rt_fail(cudaErrorInvalidResourceHandle,
                       fmt("%s: cudaStreamPerThread is not modelled by the stand-in", api));
    return rt_fail(cudaErrorInvalidResourceHandle,
                   fmt("%s: stream %s is not a live stream (never created, or destroyed)", api, stream_str(s).c_str()));
}

void invalidate(CUstream_st *s, const std::string &why)
{
    if (s->cap && !s->cap->invalidated) {
        s->cap->invalidated = true;
        s->cap->why = why;
        note_failure(fmt("stream capture on %s invalidated: %s", stream_str(s->legacy ? nullptr : s).c_str(),
                         why.c_str()));
    }
}

std::vector<CUstream_st *> capturing_streams()
{
    std::vector<CUstream_st *> v;
    for (auto &[p, u] : rt().streams) {
        (void)u;
        if (p->cap)
            v.push_back(p);
    }
    return v;
}

/* "Potentially unsafe" calls during capture (CUDA Runtime API,
 * cudaThreadExchangeStreamCaptureMode): prohibited, per the calling thread's
 * interaction mode, when this thread has an ongoing capture not begun in
 * relaxed mode, or (global mode only) another thread has a global capture.
 * The call fails with cudaErrorStreamCaptureUnsupported and the captures
 * concerned are invalidated. */
cudaError_t unsafe_call(const char *api)
{
    if (t_capture_mode == cudaStreamCaptureModeRelaxed)
        return cudaSuccess;
    const std::thread::id me = std::this_thread::get_id();
    std::vector<CUstream_st *> offending;
    for (CUstream_st *s : capturing_streams()) {
        const Capture &c = *s->cap;
        if (c.thread == me && c.mode != cudaStreamCaptureModeRelaxed)
            offending.push_back(s);
        else if (t_capture_mode == cudaStreamCaptureModeGlobal && c.thread != me &&
                 c.mode == cudaStreamCaptureModeGlobal)
            offending.push_back(s);
    }
    if (offending.empty())
        return cudaSuccess;
    const std::string why = fmt("%s is a potentially unsafe call during stream capture", api);
    for (CUstream_st *s : offending)
        invalidate(s, why);
    return rt_fail(cudaErrorStreamCaptureUnsupported,
                   fmt("%s: potentially unsafe API call while stream %s is capturing in %s (this thread's "
                       "interaction mode: %s); the capture is invalidated",
                       api, stream_str(offending[0]).c_str(), mode_name(offending[0]->cap->mode),
                       mode_name(t_capture_mode)));
}

/* The legacy stream cannot be used while a blocking stream captures. */
cudaError_t legacy_implicit(const char *api)
{
    std::vector<CUstream_st *> blocking;
    for (CUstream_st *s : capturing_streams())
        if (!(s->flags & cudaStreamNonBlocking))
            blocking.push_back(s);
    if (blocking.empty())
        return cudaSuccess;
    for (CUstream_st *s : blocking)
        invalidate(s, fmt("%s used the legacy default stream", api));
    return rt_fail(cudaErrorStreamCaptureImplicit,
                   fmt("%s: the legacy default stream would depend on the capturing blocking stream %s", api,
                       stream_str(blocking[0]).c_str()));
}

/* ---- execution ---------------------------------------------------------- */

void device_fault(const std::string &msg)
{
    note_failure(msg);
    int expected = cudaSuccess;
    g_sticky.compare_exchange_strong(expected, cudaErrorIllegalAddress);
}

void drain(CUstream_st *s, uint64_t upto)
{
    while (s->done < upto && !s->q.empty()) {
        Task t = std::move(s->q.front());
        s->q.pop_front();
        for (const Prereq &p : t.prereqs) {
            auto it = rt().by_id.find(p.stream_id);
            if (it != rt().by_id.end())
                drain(it->second, p.seq);
        }
        if (!sticky_set()) {
            ArenaAccess acc;
            try {
                t.fn();
            } catch (const std::exception &e) {
                device_fault(fmt("%s: failed at execution: %s", t.what.c_str(), e.what()));
            }
        }
        s->done++;
    }
}

void drain_all()
{
    for (auto &[id, s] : rt().by_id) {
        (void)id;
        drain(s, s->enqueued);
    }
}

/* After waiting: the redzones of every live allocation, then the sticky error. */
cudaError_t after_sync(const char *api)
{
    if (!sticky_set()) {
        const std::string rz = check_all_redzones();
        if (!rz.empty())
            device_fault(fmt("%s: %s", api, rz.c_str()));
    }
    return rt_sticky();
}

/* ---- copies ------------------------------------------------------------- */

/* Checks one side of a copy: device sides must be live device memory covering
 * bytes, host sides must not be in the device arena. */
cudaError_t check_side(const char *api, const char *side, const void *p, size_t bytes, bool device,
                       const char *kind)
{
    if (!p)
        return rt_fail(cudaErrorInvalidValue, fmt("%s: %s is NULL", api, side));
    if (device) {
        const std::string why = device_range_problem(p, bytes);
        if (!why.empty())
            return rt_fail(cudaErrorInvalidValue,
                           fmt("%s: kind %s needs device memory at %s, but %s %s", api, kind, side, side, why.c_str()));
    } else if (in_arena(p)) {
        return rt_fail(cudaErrorInvalidValue, fmt("%s: kind %s needs host memory at %s, but %s is a %s", api, kind,
                                                  side, side, describe_ptr(p).c_str()));
    }
    return cudaSuccess;
}

cudaError_t check_copy(const char *api, void *dst, size_t dst_bytes, const void *src, size_t src_bytes,
                       cudaMemcpyKind kind, bool *dst_dev, bool *src_dev)
{
    bool dd, sd;
    switch (kind) {
    case cudaMemcpyHostToHost: dd = false, sd = false; break;
    case cudaMemcpyHostToDevice: dd = true, sd = false; break;
    case cudaMemcpyDeviceToHost: dd = false, sd = true; break;
    case cudaMemcpyDeviceToDevice: dd = true, sd = true; break;
    case cudaMemcpyDefault: dd = in_arena(dst), sd = in_arena(src); break;
    default:
        return rt_fail(cudaErrorInvalidMemcpyDirection,
                       fmt("%s: kind %d is not a cudaMemcpyKind", api, (int)kind));
    }
    if (cudaError_t e = check_side(api, "dst", dst, dst_bytes, dd, kind_name(kind)))
        return e;
    if (cudaError_t e = check_side(api, "src", src, src_bytes, sd, kind_name(kind)))
        return e;
    const uintptr_t d0 = (uintptr_t)dst, s0 = (uintptr_t)src;
    if (d0 < s0 + src_bytes && s0 < d0 + dst_bytes)
        return rt_fail(cudaErrorInvalidValue,
                       fmt("%s: dst [%s, +%zu) and src [%s, +%zu) overlap (the memory areas may not overlap)", api,
                           ptr_str(dst).c_str(), dst_bytes, ptr_str(src).c_str(), src_bytes));
    *dst_dev = dd;
    *src_dev = sd;
    return cudaSuccess;
}

std::function<void()> copy_work(std::string what, void *dst, size_t dpitch, const void *src, size_t spitch,
                                size_t width, size_t height, bool dst_dev, bool src_dev,
                                std::shared_ptr<HostRead> hr = nullptr)
{
    return [=]() {
        const size_t dext = (height - 1) * dpitch + width, sext = (height - 1) * spitch + width;
        if (dst_dev && !exec_device_ok(dst, dext, what + " dst"))
            return;
        if (src_dev && !exec_device_ok(src, sext, what + " src"))
            return;
        /* the host bytes as they were when a later download poisoned them */
        const bool snap = hr && hr->taken;
        const char *from = snap ? (const char *)hr->snap.data() : (const char *)src;
        const size_t fpitch = snap ? width : spitch;
        for (size_t r = 0; r < height; r++)
            memcpy((char *)dst + r * dpitch, from + r * fpitch, width);
        if (hr)
            hr->done = true;
    };
}

void fill_props(cudaDeviceProp *p)
{
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", "CPU stand-in for NVIDIA H100 SXM (not a GPU)");
    p->totalGlobalMem = device_total_bytes();
    p->sharedMemPerBlock = 48 * 1024;
    p->regsPerBlock = 65536;
    p->warpSize = 32;
    p->memPitch = 2147483647;
    p->maxThreadsPerBlock = 1024;
    p->maxThreadsDim[0] = 1024;
    p->maxThreadsDim[1] = 1024;
    p->maxThreadsDim[2] = 64;
    p->maxGridSize[0] = 2147483647;
    p->maxGridSize[1] = 65535;
    p->maxGridSize[2] = 65535;
    p->totalConstMem = 65536;
    p->major = 9;
    p->minor = 0;
    p->textureAlignment = 512;
    p->texturePitchAlignment = 32;
    p->multiProcessorCount = 132;
    p->canMapHostMemory = 1;
    p->concurrentKernels = 1;
    p->ECCEnabled = 1;
    p->asyncEngineCount = 3;
    p->unifiedAddressing = 1;
    p->memoryBusWidth = 5120;
    p->l2CacheSize = 50 * 1024 * 1024;
    p->maxThreadsPerMultiProcessor = 2048;
    p->streamPrioritiesSupported = 1;
    p->globalL1CacheSupported = 1;
    p->localL1CacheSupported = 1;
    p->sharedMemPerMultiprocessor = 228 * 1024;
    p->regsPerMultiprocessor = 65536;
    p->managedMemory = 1;
    p->computePreemptionSupported = 1;
    p->cooperativeLaunch = 1;
    p->sharedMemPerBlockOptin = 227 * 1024;
    p->maxBlocksPerMultiProcessor = 32;
    p->reservedSharedMemPerBlock = 1024;
    p->memoryPoolsSupported = 1;
    p->clusterLaunch = 1;
    p->hostNumaId = -1;
}

}  // namespace

/* ---- shared helpers ----------------------------------------------------- */

std::recursive_mutex &api_mutex()
{
    static std::recursive_mutex m;
    return m;
}

std::string fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    char buf[1024];
    const int n = vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    if (n < (int)sizeof buf)
        return buf;
    std::string s((size_t)n + 1, '\0');
    va_start(ap, f);
    vsnprintf(s.data(), s.size(), f, ap);
    va_end(ap);
    s.resize((size_t)n);
    return s;
}

std::string ptr_str(const void *p) { return fmt("0x%llx", (unsigned long long)(uintptr_t)p); }

void note_failure(const std::string &msg)
{
    Messages &m = messages();
    std::lock_guard<std::mutex> lk(m.mu);
    m.list.push_back(msg);
    if (verbose())
        fprintf(stderr, "[cuda stand-in] %s\n", msg.c_str());
}

cudaError_t rt_fail(cudaError_t e, const std::string &msg)
{
    note_failure(msg);
    t_last_error = e;
    return e;
}

bool sticky_set() { return g_sticky.load() != cudaSuccess; }

cudaError_t rt_sticky()
{
    const cudaError_t e = (cudaError_t)g_sticky.load();
    if (e != cudaSuccess)
        t_last_error = e;
    return e;
}

int capture_state(cudaStream_t s)
{
    CUstream_st *st = resolve(s);
    if (!st)
        return CAPTURE_BAD_STREAM;
    if (!st->cap)
        return CAPTURE_NONE;
    return st->cap->invalidated ? CAPTURE_INVALIDATED : CAPTURE_ACTIVE;
}

bool stream_valid(cudaStream_t s) { return resolve(s) != nullptr; }

void invalidate_capture(cudaStream_t s, const std::string &why)
{
    if (CUstream_st *st = resolve(s))
        invalidate(st, why);
}

std::vector<std::weak_ptr<HostRead>> g_pending_reads;

void take_host_snapshots(const void *dst, size_t ext)
{
    const uintptr_t d0 = (uintptr_t)dst, d1 = d0 + ext;
    std::vector<std::weak_ptr<HostRead>> keep;
    for (const std::weak_ptr<HostRead> &w : g_pending_reads) {
        std::shared_ptr<HostRead> hr = w.lock();
        if (!hr || hr->done)
            continue;
        keep.push_back(w);
        const uintptr_t s0 = (uintptr_t)hr->src, s1 = s0 + (hr->height - 1) * hr->pitch + hr->width;
        if (hr->taken || s1 <= d0 || d1 <= s0)
            continue;
        hr->snap.resize(hr->height * hr->width);
        for (size_t r = 0; r < hr->height; r++)
            memcpy(hr->snap.data() + r * hr->width, hr->src + r * hr->pitch, hr->width);
        hr->taken = true;
    }
    g_pending_reads.swap(keep);
}

void poison_pending_download(void *dst, size_t pitch, size_t width, size_t height)
{
    take_host_snapshots(dst, (height - 1) * pitch + width);
    for (size_t r = 0; r < height; r++) {
        unsigned char *row = (unsigned char *)dst + r * pitch;
        for (size_t i = 0; i < width; i++) {
            const uintptr_t a = (uintptr_t)(row + i);
            row[i] = (unsigned char)(STANDIN_PENDING_POISON >> (8 * (a & 3))); /* little-endian words */
        }
    }
}

cudaError_t enqueue(cudaStream_t s, const std::string &what, std::function<void()> fn, std::vector<Prereq> extra)
{
    return enqueue_download(s, what, std::move(fn), nullptr, 0, 0, 0, nullptr, std::move(extra));
}

cudaError_t enqueue_download(cudaStream_t s, const std::string &what, std::function<void()> fn, void *dst,
                             size_t pitch, size_t width, size_t height, std::shared_ptr<HostRead> read,
                             std::vector<Prereq> extra)
{
    CUstream_st *st = resolve(s);
    if (!st)
        return bad_stream(what.c_str(), s);
    if (st->cap && !st->cap->invalidated && fault_take(FAULT_SYNC_IN_CAPTURE)) {
        /* injected: the code synchronises the capturing stream before this work */
        note_failure(fmt("injected fault sync_in_capture: cudaStreamSynchronize before %s", what.c_str()));
        cudaStreamSynchronize(s);
    }
    if (st->cap) {
        if (st->cap->invalidated)
            return rt_fail(cudaErrorStreamCaptureInvalidated,
                           fmt("%s: stream %s is capturing and its capture was invalidated (%s)", what.c_str(),
                               stream_str(s).c_str(), st->cap->why.c_str()));
        Node node{what, std::move(fn), dst, pitch, width, height};
        if (read) {
            node.read_src = read->src;
            node.read_ext = (read->height - 1) * read->pitch + read->width;
        }
        st->cap->nodes.push_back(std::move(node));
        return cudaSuccess;
    }
    if (dst)
        poison_pending_download(dst, pitch, width, height);
    if (read)
        g_pending_reads.push_back(read);
    Runtime &r = rt();
    if (st->legacy) {
        if (cudaError_t e = legacy_implicit(what.c_str()))
            return e;
        for (auto &[p, u] : r.streams) {
            (void)u;
            if (!(p->flags & cudaStreamNonBlocking) && p->enqueued > p->done)
                extra.push_back(Prereq{p->id, p->enqueued});
        }
    } else if (!(st->flags & cudaStreamNonBlocking) && r.legacy.enqueued > r.legacy.done) {
        extra.push_back(Prereq{r.legacy.id, r.legacy.enqueued});
    }
    st->q.push_back(Task{what, std::move(fn), std::move(extra)});
    st->enqueued++;
    return cudaSuccess;
}

void drain_all_if_not_capturing()
{
    if (capturing_streams().empty())
        drain_all();
}

bool exec_device_ok(const void *p, size_t bytes, const std::string &what)
{
    const std::string why = device_range_problem(p, bytes);
    if (why.empty())
        return true;
    device_fault(fmt("%s: illegal address at execution: %s (%zu bytes) %s", what.c_str(), ptr_str(p).c_str(), bytes,
                     why.c_str()));
    return false;
}

}  // namespace standin

using namespace standin;

/* ======================================================================= */
/* Errors                                                                   */
/* ======================================================================= */

namespace {
struct ErrInfo {
    cudaError_t e;
    const char *name;
    const char *text;
};
const ErrInfo kErrors[] = {
    {cudaSuccess, "cudaSuccess", "no error"},
    {cudaErrorInvalidValue, "cudaErrorInvalidValue", "invalid argument"},
    {cudaErrorMemoryAllocation, "cudaErrorMemoryAllocation", "out of memory"},
    {cudaErrorInitializationError, "cudaErrorInitializationError", "initialization error"},
    {cudaErrorInvalidConfiguration, "cudaErrorInvalidConfiguration", "invalid configuration argument"},
    {cudaErrorInvalidDeviceFunction, "cudaErrorInvalidDeviceFunction", "invalid device function"},
    {cudaErrorInvalidPitchValue, "cudaErrorInvalidPitchValue", "invalid pitch argument"},
    {cudaErrorInvalidDevicePointer, "cudaErrorInvalidDevicePointer", "invalid device pointer"},
    {cudaErrorInvalidMemcpyDirection, "cudaErrorInvalidMemcpyDirection", "invalid copy direction for memcpy"},
    {cudaErrorInsufficientDriver, "cudaErrorInsufficientDriver",
     "CUDA driver version is insufficient for CUDA runtime version"},
    {cudaErrorNoDevice, "cudaErrorNoDevice", "no CUDA-capable device is detected"},
    {cudaErrorInvalidDevice, "cudaErrorInvalidDevice", "invalid device ordinal"},
    {cudaErrorInvalidResourceHandle, "cudaErrorInvalidResourceHandle", "invalid resource handle"},
    {cudaErrorIllegalState, "cudaErrorIllegalState", "the operation cannot be performed in the present state"},
    {cudaErrorNotReady, "cudaErrorNotReady", "device not ready"},
    {cudaErrorIllegalAddress, "cudaErrorIllegalAddress", "an illegal memory access was encountered"},
    {cudaErrorLaunchFailure, "cudaErrorLaunchFailure", "unspecified launch failure"},
    {cudaErrorNotPermitted, "cudaErrorNotPermitted", "operation not permitted"},
    {cudaErrorNotSupported, "cudaErrorNotSupported", "operation not supported"},
    {cudaErrorStreamCaptureUnsupported, "cudaErrorStreamCaptureUnsupported",
     "operation not permitted when stream is capturing"},
    {cudaErrorStreamCaptureInvalidated, "cudaErrorStreamCaptureInvalidated",
     "operation failed due to a previous error during capture"},
    {cudaErrorStreamCaptureMerge, "cudaErrorStreamCaptureMerge",
     "operation would result in a merge of separate capture sequences"},
    {cudaErrorStreamCaptureUnmatched, "cudaErrorStreamCaptureUnmatched",
     "capture was not ended in the same stream as it began"},
    {cudaErrorStreamCaptureUnjoined, "cudaErrorStreamCaptureUnjoined", "capturing stream has unjoined work"},
    {cudaErrorStreamCaptureIsolation, "cudaErrorStreamCaptureIsolation",
     "dependency created on uncaptured work in another stream"},
    {cudaErrorStreamCaptureImplicit, "cudaErrorStreamCaptureImplicit",
     "operation would make the legacy stream depend on a capturing blocking stream"},
    {cudaErrorCapturedEvent, "cudaErrorCapturedEvent",
     "operation not permitted on an event last recorded in a capturing stream"},
    {cudaErrorStreamCaptureWrongThread, "cudaErrorStreamCaptureWrongThread",
     "attempt to terminate a thread-local capture sequence from another thread"},
    {cudaErrorUnknown, "cudaErrorUnknown", "unknown error"},
};
const ErrInfo *err_info(cudaError_t e)
{
    for (const ErrInfo &i : kErrors)
        if (i.e == e)
            return &i;
    return nullptr;
}
}  // namespace

extern "C" cudaError_t cudaGetLastError(void)
{
    const cudaError_t sticky = (cudaError_t)g_sticky.load();
    if (sticky != cudaSuccess)
        return sticky;
    const cudaError_t e = t_last_error;
    t_last_error = cudaSuccess;
    return e;
}

extern "C" cudaError_t cudaPeekAtLastError(void)
{
    const cudaError_t sticky = (cudaError_t)g_sticky.load();
    return sticky != cudaSuccess ? sticky : t_last_error;
}

extern "C" const char *cudaGetErrorName(cudaError_t error)
{
    const ErrInfo *i = err_info(error);
    return i ? i->name : "cudaErrorUnknown";
}

extern "C" const char *cudaGetErrorString(cudaError_t error)
{
    const ErrInfo *i = err_info(error);
    return i ? i->text : "unrecognized error code";
}

/* ======================================================================= */
/* Device                                                                   */
/* ======================================================================= */

extern "C" cudaError_t cudaGetDeviceCount(int *count)
{
    STANDIN_LOCK;
    if (!count)
        return rt_fail(cudaErrorInvalidValue, "cudaGetDeviceCount: count is NULL");
    *count = 0;
    if (cudaError_t e = entry("cudaGetDeviceCount"))
        return e;
    *count = 1;
    return cudaSuccess;
}

bool standin::runtime_has_device()
{
    int n = 0;
    return cudaGetDeviceCount(&n) == cudaSuccess && n > 0;
}

extern "C" cudaError_t cudaGetDevice(int *device)
{
    STANDIN_LOCK;
    if (cudaError_t e = entry("cudaGetDevice"))
        return e;
    if (!device)
        return rt_fail(cudaErrorInvalidValue, "cudaGetDevice: device is NULL");
    *device = 0;
    return cudaSuccess;
}

extern "C" cudaError_t cudaSetDevice(int device)
{
    STANDIN_LOCK;
    if (cudaError_t e = entry("cudaSetDevice"))
        return e;
    if (device != 0)
        return rt_fail(cudaErrorInvalidDevice, fmt("cudaSetDevice: device %d does not exist (one device: 0)", device));
    return cudaSuccess;
}

extern "C" cudaError_t cudaGetDeviceProperties(struct cudaDeviceProp *prop, int device)
{
    STANDIN_LOCK;
    if (cudaError_t e = entry("cudaGetDeviceProperties"))
        return e;
    if (!prop)
        return rt_fail(cudaErrorInvalidValue, "cudaGetDeviceProperties: prop is NULL");
    if (device != 0)
        return rt_fail(cudaErrorInvalidDevice,
                       fmt("cudaGetDeviceProperties: device %d does not exist (one device: 0)", device));
    fill_props(prop);
    return cudaSuccess;
}

extern "C" cudaError_t cudaDeviceGetAttribute(int *value, enum cudaDeviceAttr attr, int device)
{
    STANDIN_LOCK;
    if (cudaError_t e = entry("cudaDeviceGetAttribute"))
        return e;
    if (!value)
        return rt_fail(cudaErrorInvalidValue, "cudaDeviceGetAttribute: value is NULL");
    if (device != 0)
        return rt_fail(cudaErrorInvalidDevice,
                       fmt("cudaDeviceGetAttribute: device %d does not exist (one device: 0)", device));
    cudaDeviceProp p;
    fill_props(&p);
    int v;
    switch (attr) {
    case cudaDevAttrMaxThreadsPerBlock: v = p.maxThreadsPerBlock; break;
    case cudaDevAttrMaxBlockDimX: v = p.maxThreadsDim[0]; break;
    case cudaDevAttrMaxBlockDimY: v = p.maxThreadsDim[1]; break;
    case cudaDevAttrMaxBlockDimZ: v = p.maxThreadsDim[2]; break;
    case cudaDevAttrMaxGridDimX: v = p.maxGridSize[0]; break;
    case cudaDevAttrMaxGridDimY: v = p.maxGridSize[1]; break;
    case cudaDevAttrMaxGridDimZ: v = p.maxGridSize[2]; break;
    case cudaDevAttrMaxSharedMemoryPerBlock: v = (int)p.sharedMemPerBlock; break;
    case cudaDevAttrTotalConstantMemory: v = (int)p.totalConstMem; break;
    case cudaDevAttrWarpSize: v = p.warpSize; break;
    case cudaDevAttrMaxPitch: v = (int)p.memPitch; break;
    case cudaDevAttrMaxRegistersPerBlock: v = p.regsPerBlock; break;
    case cudaDevAttrClockRate: v = 1980000; break; /* kHz: 1980 MHz */
    case cudaDevAttrMultiProcessorCount: v = p.multiProcessorCount; break;
    case cudaDevAttrIntegrated: v = p.integrated; break;
    case cudaDevAttrConcurrentKernels: v = p.concurrentKernels; break;
    case cudaDevAttrEccEnabled: v = p.ECCEnabled; break;
    case cudaDevAttrMemoryClockRate: v = 2619000; break; /* kHz */
    case cudaDevAttrGlobalMemoryBusWidth: v = p.memoryBusWidth; break;
    case cudaDevAttrL2CacheSize: v = p.l2CacheSize; break;
    case cudaDevAttrMaxThreadsPerMultiProcessor: v = p.maxThreadsPerMultiProcessor; break;
    case cudaDevAttrAsyncEngineCount: v = p.asyncEngineCount; break;
    case cudaDevAttrUnifiedAddressing: v = p.unifiedAddressing; break;
    case cudaDevAttrComputeCapabilityMajor: v = p.major; break;
    case cudaDevAttrComputeCapabilityMinor: v = p.minor; break;
    case cudaDevAttrMaxSharedMemoryPerMultiprocessor: v = (int)p.sharedMemPerMultiprocessor; break;
    case cudaDevAttrMaxRegistersPerMultiprocessor: v = p.regsPerMultiprocessor; break;
    case cudaDevAttrManagedMemory: v = p.managedMemory; break;
    case cudaDevAttrCooperativeLaunch: v = p.cooperativeLaunch; break;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin: v = (int)p.sharedMemPerBlockOptin; break;
    case cudaDevAttrMaxBlocksPerMultiprocessor: v = p.maxBlocksPerMultiProcessor; break;
    case cudaDevAttrReservedSharedMemoryPerBlock: v = (int)p.reservedSharedMemPerBlock; break;
    default:
        return rt_fail(cudaErrorInvalidValue,
                       fmt("cudaDeviceGetAttribute: attribute %d is not modelled by the stand-in", (int)attr));
    }
    *value = v;
    return cudaSuccess;
}

extern "C" cudaError_t cudaDeviceSynchronize(void)
{
    STANDIN_LOCK;
    if (cudaError_t e = entry("cudaDeviceSynchronize"))
        return e;
    std::vector<CUstream_st *> cap = capturing_streams();
    if (!cap.empty()) {
        for (CUstream_st *s : cap)
            invalidate(s, "cudaDeviceSynchronize during capture");
        return rt_fail(cudaErrorStreamCaptureUnsupported,
                       fmt("cudaDeviceSynchronize: not permitted while stream %s is capturing; the capture is "
                           "invalidated",
                           stream_str(cap[0]).c_str()));
    }
    drain_all();
    return after_sync("cudaDeviceSynchronize");
}

extern "C" cudaError_t cudaRuntimeGetVersion(int *runtimeVersion)
{
    STANDIN_LOCK;
    if (!runtimeVersion)
        return rt_fail(cudaErrorInvalidValue, "cudaRuntimeGetVersion: runtimeVersion is NULL");
    *runtimeVersion = CUDART_VERSION;
    return cudaSuccess;
}

extern "C" cudaError_t cudaDriverGetVersion(int *driverVersion)
{
    STANDIN_LOCK;
    if (!driverVersion)
        return rt_fail(cudaErrorInvalidValue, "cudaDriverGetVersion: driverVersion is NULL");
    *driverVersion = rt().device_mode == STANDIN_OLD_DRIVER ? 12000 : CUDART_VERSION;
    return cudaSuccess;
}

/* ======================================================================= */
/* Memory                                                                   */
/* ======================================================================= */

extern "C" cudaError_t cudaMalloc(void **devPtr, size_t size)
{
    STANDIN_LOCK;
    if (cudaError_t e = entry("cudaMalloc"))
        return e;
    if (cudaError_t e = unsafe_call("cudaMalloc"))
        return e;
    if (!devPtr)
        return rt_fail(cudaErrorInvalidValue, "cudaMalloc: devPtr is NULL");
    *devPtr = nullptr;
    if (size == 0)
        return cudaSuccess;
    return arena_alloc(devPtr, size);
}

extern "C" cudaError_t cudaFree(void *devPtr)
{
    STANDIN_LOCK;
    if (cudaError_t e = entry("cudaFree"))
        return e;
    if (cudaError_t e = unsafe_call("cudaFree"))
        return e;
    if (!devPtr)
        return cudaSuccess;
    drain_all(); /* cudaFree synchronises implicitly */
    std::string why, redzone;
    if (!arena_free(devPtr, &why, &redzone))
        return rt_fail(cudaErrorInvalidValue, "cudaFree: " + why);
    if (!redzone.empty()) {
        device_fault("cudaFree: " + redzone);
        return rt_sticky();
    }
    return after_sync("cudaFree");
}

extern "C" cudaError_t standin_malloc_host_flags(void **ptr, size_t size, unsigned int flags)
{
    STANDIN_LOCK;
    if (cudaError_t e = entry("cudaMallocHost"))
        return e;
    if (cudaError_t e = unsafe_call("cudaMallocHost"))
        return e;
    if (!ptr)
        return rt_fail(cudaErrorInvalidValue, "cudaMallocHost: ptr is NULL");
    *ptr = nullptr;
    if (flags != 0)
        return rt_fail(cudaErrorInvalidValue,
                       fmt("cudaMallocHost: flags 0x%x are not modelled by the stand-in (0 only)", flags));
    return pinned_alloc(ptr, size);
}

extern "C" cudaError_t cudaMallocHost(void **ptr, size_t size) { return standin_malloc_host_flags(ptr, size, 0); }

extern "C" cudaError_t cudaFreeHost(void *ptr)
{
    STANDIN_LOCK;
    if (cudaError_t e = entry("cudaFreeHost"))
        return e;
    if (cudaError_t e = unsafe_call("cudaFreeHost"))
        return e;
    if (!ptr)
        return cudaSuccess;
    drain_all(); /* queued copies may still read or write it */
    if (!pinned_free(ptr))
        return rt_fail(cudaErrorInvalidValue,
                       fmt("cudaFreeHost: %s was not returned by cudaMallocHost (or was freed already)",
                           describe_ptr(ptr).c_str()));
    return after_sync("cudaFreeHost");
}

extern "C" cudaError_t cudaMemGetInfo(size_t *free_bytes, size_t *total)
{
    STANDIN_LOCK;
    if (cudaError_t e = entry("cudaMemGetInfo"))
        return e;
    if (!free_bytes || !total)
        return rt_fail(cudaErrorInvalidValue, "cudaMemGetInfo: free or total is NULL");
    *total = device_total_bytes();
    *free_bytes = device_bytes_free();
    return cudaSuccess;
}

extern "C" cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t count, enum cudaMemcpyKind kind,
                                       cudaStream_t stream)
{
    STANDIN_LOCK;
    if (cudaError_t e = entry("cudaMemcpyAsync"))
        return e;
    if (!stream_valid(stream))
        return bad_stream("cudaMemcpyAsync", stream);
    if (kind < cudaMemcpyHostToHost || kind > cudaMemcpyDefault)
        return rt_fail(cudaErrorInvalidMemcpyDirection,
                       fmt("cudaMemcpyAsync: kind %d is not a cudaMemcpyKind", (int)kind));
    if (count == 0)
        return cudaSuccess;
    bool dd, sd;
    if (cudaError_t e = check_copy("cudaMemcpyAsync", dst, count, src, count, kind, &dd, &sd))
        return e;
    std::shared_ptr<HostRead> read;
    if (!sd)
        read = std::make_shared<HostRead>(HostRead{(const unsigned char *)src, count, count, 1, {}});
    return enqueue_download(stream, fmt("cudaMemcpyAsync(%s)", kind_name(kind)),
                            copy_work(fmt("cudaMemcpyAsync(%s)", kind_name(kind)), dst, count, src, count, count, 1,
                                      dd, sd, read),
                            !dd && sd ? dst : nullptr, count, count, 1, read);
}

extern "C" cudaError_t cudaMemcpy(void *dst, const void *src, size_t count, enum cudaMemcpyKind kind)
{
    STANDIN_LOCK;
    if (cudaError_t e = entry("cudaMemcpy"))
        return e;
    if (cudaError_t e = unsafe_call("cudaMemcpy"))
        return e;
    if (kind < cudaMemcpyHostToHost || kind > cudaMemcpyDefault)
        return rt_fail(cudaErrorInvalidMemcpyDirection, fmt("cudaMemcpy: kind %d is not a cudaMemcpyKind", (int)kind));
    if (count == 0)
        return cudaSuccess;
    bool dd, sd;
    if (cudaError_t e = check_copy("cudaMemcpy", dst, count, src, count, kind, &dd, &sd))
        return e;
    if (cudaError_t e = enqueue(nullptr, fmt("cudaMemcpy(%s)", kind_name(kind)),
                                copy_work(fmt("cudaMemcpy(%s)", kind_name(kind)), dst, count, src, count, count, 1,
                                          dd, sd)))
        return e;
    drain(&rt().legacy, rt().legacy.enqueued);
    return after_sync("cudaMemcpy");
}

extern "C" cudaError_t cudaMemcpy2DAsync(void *dst, size_t dpitch, const void *src, size_t spitch, size_t width,
                                         size_t height, enum cudaMemcpyKind kind, cudaStream_t stream)
{
    STANDIN_LOCK;
    if (cudaError_t e = entry("cudaMemcpy2DAsync"))
        return e;
    if (!stream_valid(stream))
        return bad_stream("cudaMemcpy2DAsync", stream);
    if (kind < cudaMemcpyHostToHost || kind > cudaMemcpyDefault)
        return rt_fail(cudaErrorInvalidMemcpyDirection,
                       fmt("cudaMemcpy2DAsync: kind %d is not a cudaMemcpyKind", (int)kind));
    if (width > dpitch || width > spitch)
        return rt_fail(cudaErrorInvalidPitchValue,
                       fmt("cudaMemcpy2DAsync: width %zu exceeds dpitch %zu or spitch %zu", width, dpitch, spitch));
    if (width == 0 || height == 0)
        return cudaSuccess;
    const size_t dext = (height - 1) * dpitch + width, sext = (height - 1) * spitch + width;
    bool dd, sd;
    if (cudaError_t e = check_copy("cudaMemcpy2DAsync", dst, dext, src, sext, kind, &dd, &sd))
        return e;
    std::shared_ptr<HostRead> read;
    if (!sd)
        read = std::make_shared<HostRead>(HostRead{(const unsigned char *)src, spitch, width, height, {}});
    return enqueue_download(stream, fmt("cudaMemcpy2DAsync(%s)", kind_name(kind)),
                            copy_work(fmt("cudaMemcpy2DAsync(%s)", kind_name(kind)), dst, dpitch, src, spitch, width,
                                      height, dd, sd, read),
                            !dd && sd ? dst : nullptr, dpitch, width, height, read);
}

extern "C" cudaError_t cudaMemsetAsync(void *devPtr, int value, size_t count, cudaStream_t stream)
{
    STANDIN_LOCK;
    if (cudaError_t e = entry("cudaMemsetAsync"))
        return e;
    if (!stream_valid(stream))
        return bad_stream("cudaMemsetAsync", stream);
    if (count == 0)
        return cudaSuccess;
    const std::string why = device_range_problem(devPtr, count);
    if (!why.empty())
        return rt_fail(cudaErrorInvalidValue,
                       fmt("cudaMemsetAsync: devPtr %s (%zu bytes) %s", ptr_str(devPtr).c_str(), count, why.c_str()));
    return enqueue(stream, "cudaMemsetAsync", [devPtr, value, count]() {
        if (exec_device_ok(devPtr, count, "cudaMemsetAsync"))
            memset(devPtr, (unsigned char)value, count);
    });
}

/* cudaMemset: on the legacy default stream, as the runtime does (the memory
 * is set before later work of the legacy stream and of blocking streams). */
extern "C" cudaError_t cudaMemset(void *devPtr, int value, size_t count)
{
    return cudaMemsetAsync(devPtr, value, count, nullptr);
}

/* ======================================================================= */
/* Streams and capture                                                      */
/* ======================================================================= */

extern "C" cudaError_t cudaStreamCreateWithFlags(cudaStream_t *pStream, unsigned int flags)
{
    STANDIN_LOCK;
    if (cudaError_t e = entry("cudaStreamCreateWithFlags"))
        return e;
    if (!pStream)
        return rt_fail(cudaErrorInvalidValue, "cudaStreamCreateWithFlags: pStream is NULL");
    if (flags & ~(unsigned)cudaStreamNonBlocking)
        return rt_fail(cudaErrorInvalidValue, fmt("cudaStreamCreateWithFlags: invalid flags 0x%x", flags));
    Runtime &r = rt();
    auto s = std::make_unique<CUstream_st>();
    s->id = r.next_stream_id++;
    s->flags = flags;
    CUstream_st *p = s.get();
    r.by_id[p->id] = p;
    r.streams[p] = std::move(s);
    *pStream = p;
    return cudaSuccess;
}

extern "C" cudaError_t cudaStreamCreate(cudaStream_t *pStream) { return cudaStreamCreateWithFlags(pStream, 0); }

extern "C" cudaError_t cudaStreamDestroy(cudaStream_t stream)
{
    STANDIN_LOCK;
    if (cudaError_t e = entry("cudaStreamDestroy"))
        return e;
    Runtime &r = rt();
    auto it = r.streams.find(stream);
    if (it == r.streams.end())
        return rt_fail(cudaErrorInvalidResourceHandle,
                       fmt("cudaStreamDestroy: %s is not a stream created by cudaStreamCreate*",
                           stream_str(stream).c_str()));
    if (stream->cap) {
        invalidate(stream, "cudaStreamDestroy on the capturing stream");
        return rt_fail(cudaErrorStreamCaptureUnsupported,
                       fmt("cudaStreamDestroy: stream %s is capturing; end the capture first",
                           stream_str(stream).c_str()));
    }
    drain(stream, stream->enqueued); /* its queued work completes, then the stream goes */
    r.by_id.erase(stream->id);
    r.streams.erase(it);
    return rt_sticky();
}

extern "C" cudaError_t cudaStreamSynchronize(cudaStream_t stream)
{
    STANDIN_LOCK;
    if (cudaError_t e = entry("cudaStreamSynchronize"))
        return e;
    CUstream_st *s = resolve(stream);
    if (!s)
        return bad_stream("cudaStreamSynchronize", stream);
    if (s->cap) {
        invalidate(s, "cudaStreamSynchronize on the capturing stream");
        return rt_fail(cudaErrorStreamCaptureUnsupported,
                       fmt("cudaStreamSynchronize: stream %s is capturing (synchronizing a capturing stream is "
                           "invalid); the capture is invalidated",
                           stream_str(stream).c_str()));
    }
    if (s->legacy)
        if (cudaError_t e = legacy_implicit("cudaStreamSynchronize"))
            return e;
    if (fault_take(FAULT_SKIP_SYNC)) /* injected: the caller "forgot" this synchronisation */
        return cudaSuccess;
    drain(s, s->enqueued);
    return after_sync("cudaStreamSynchronize");
}

extern "C" cudaError_t cudaStreamBeginCapture(cudaStream_t stream, enum cudaStreamCaptureMode mode)
{
    STANDIN_LOCK;
    if (cudaError_t e = entry("cudaStreamBeginCapture"))
        return e;
    CUstream_st *s = resolve(stream);
    if (!s)
        return bad_stream("cudaStreamBeginCapture", stream);
    if (s->legacy)
        return rt_fail(cudaErrorInvalidValue,
                       "cudaStreamBeginCapture: capture may not be initiated on the legacy default stream");
    if (mode != cudaStreamCaptureModeGlobal && mode != cudaStreamCaptureModeThreadLocal &&
        mode != cudaStreamCaptureModeRelaxed)
        return rt_fail(cudaErrorInvalidValue, fmt("cudaStreamBeginCapture: invalid mode %d", (int)mode));
    if (s->cap)
        return rt_fail(cudaErrorInvalidValue,
                       fmt("cudaStreamBeginCapture: stream %s is already capturing", stream_str(stream).c_str()));
    auto c = std::make_unique<Capture>();
    c->id = rt().next_capture_id++;
    c->mode = mode;
    c->thread = std::this_thread::get_id();
    s->cap = std::move(c);
    return cudaSuccess;
}

extern "C" cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t *pGraph)
{
    STANDIN_LOCK;
    if (cudaError_t e = entry("cudaStreamEndCapture"))
        return e;
    CUstream_st *s = resolve(stream);
    if (!s)
        return bad_stream("cudaStreamEndCapture", stream);
    if (!pGraph)
        return rt_fail(cudaErrorInvalidValue, "cudaStreamEndCapture: pGraph is NULL");
    if (!s->cap)
        return rt_fail(cudaErrorInvalidValue,
                       fmt("cudaStreamEndCapture: stream %s is not capturing", stream_str(stream).c_str()));
    if (s->cap->mode != cudaStreamCaptureModeRelaxed && s->cap->thread != std::this_thread::get_id())
        return rt_fail(cudaErrorStreamCaptureWrongThread,
                       fmt("cudaStreamEndCapture: the capture on %s was begun in %s by another thread",
                           stream_str(stream).c_str(), mode_name(s->cap->mode)));
    std::unique_ptr<Capture> c = std::move(s->cap);
    *pGraph = nullptr;
    if (c->invalidated)
        return rt_fail(cudaErrorStreamCaptureInvalidated,
                       fmt("cudaStreamEndCapture: the capture on %s was invalidated (%s); no graph",
                           stream_str(stream).c_str(), c->why.c_str()));
    auto g = std::make_unique<CUgraph_st>();
    g->nodes = std::make_shared<const NodeList>(std::move(c->nodes));
    CUgraph_st *gp = g.get();
    rt().graphs[gp] = std::move(g);
    *pGraph = gp;
    return cudaSuccess;
}

extern "C" cudaError_t cudaStreamIsCapturing(cudaStream_t stream, enum cudaStreamCaptureStatus *pCaptureStatus)
{
    STANDIN_LOCK;
    if (cudaError_t e = entry("cudaStreamIsCapturing"))
        return e;
    CUstream_st *s = resolve(stream);
    if (!s)
        return bad_stream("cudaStreamIsCapturing", stream);
    if (!pCaptureStatus)
        return rt_fail(cudaErrorInvalidValue, "cudaStreamIsCapturing: pCaptureStatus is NULL");
    if (s->legacy) {
        for (CUstream_st *c : capturing_streams())
            if (!(c->flags & cudaStreamNonBlocking))
                return rt_fail(cudaErrorStreamCaptureImplicit,
                               "cudaStreamIsCapturing: queried the legacy stream while a blocking stream captures");
        *pCaptureStatus = cudaStreamCaptureStatusNone;
        return cudaSuccess;
    }
    *pCaptureStatus = !s->cap ? cudaStreamCaptureStatusNone
                      : s->cap->invalidated ? cudaStreamCaptureStatusInvalidated
                                            : cudaStreamCaptureStatusActive;
    return cudaSuccess;
}

extern "C" cudaError_t cudaThreadExchangeStreamCaptureMode(enum cudaStreamCaptureMode *mode)
{
    STANDIN_LOCK;
    if (!mode || (*mode != cudaStreamCaptureModeGlobal && *mode != cudaStreamCaptureModeThreadLocal &&
                  *mode != cudaStreamCaptureModeRelaxed))
        return rt_fail(cudaErrorInvalidValue, "cudaThreadExchangeStreamCaptureMode: mode is NULL or invalid");
    const cudaStreamCaptureMode old = t_capture_mode;
    t_capture_mode = *mode;
    *mode = old;
    return cudaSuccess;
}

/* ======================================================================= */
/* Graphs                                                                   */
/* ======================================================================= */

extern "C" cudaError_t cudaGraphInstantiate(cudaGraphExec_t *pGraphExec, cudaGraph_t graph, unsigned long long flags)
{
    STANDIN_LOCK;
    if (cudaError_t e = entry("cudaGraphInstantiate"))
        return e;
    if (!pGraphExec)
        return rt_fail(cudaErrorInvalidValue, "cudaGraphInstantiate: pGraphExec is NULL");
    auto it = rt().graphs.find(graph);
    if (it == rt().graphs.end())
        return rt_fail(cudaErrorInvalidValue,
                       fmt("cudaGraphInstantiate: %s is not a live graph", ptr_str(graph).c_str()));
    if (flags != 0)
        return rt_fail(cudaErrorInvalidValue,
                       fmt("cudaGraphInstantiate: flags 0x%llx are not modelled by the stand-in (0 only)", flags));
    auto x = std::make_unique<CUgraphExec_st>();
    x->nodes = graph->nodes; /* a snapshot: later changes to graph do not affect it */
    CUgraphExec_st *xp = x.get();
    rt().execs[xp] = std::move(x);
    *pGraphExec = xp;
    return cudaSuccess;
}

extern "C" cudaError_t cudaGraphLaunch(cudaGraphExec_t graphExec, cudaStream_t stream)
{
    STANDIN_LOCK;
    if (cudaError_t e = entry("cudaGraphLaunch"))
        return e;
    auto it = rt().execs.find(graphExec);
    if (it == rt().execs.end())
        return rt_fail(cudaErrorInvalidValue,
                       fmt("cudaGraphLaunch: %s is not a live executable graph", ptr_str(graphExec).c_str()));
    CUstream_st *s = resolve(stream);
    if (!s)
        return bad_stream("cudaGraphLaunch", stream);
    std::shared_ptr<const NodeList> nodes = graphExec->nodes;
    /* Each launch is ordered after the previous launch of the same graphExec. */
    std::vector<Prereq> extra;
    if (graphExec->last_stream)
        extra.push_back(Prereq{graphExec->last_stream, graphExec->last_seq});
    const bool capturing = s->cap != nullptr;
    if (!capturing)
        for (const Node &n : *nodes) {
            if (!n.poison_dst)
                continue;
            const uintptr_t d0 = (uintptr_t)n.poison_dst,
                            d1 = d0 + (n.poison_height - 1) * n.poison_pitch + n.poison_width;
            bool read_by_graph = false; /* an upload of this graph reads it first: leave it */
            for (const Node &u : *nodes)
                read_by_graph |= u.read_src && (uintptr_t)u.read_src < d1 && d0 < (uintptr_t)u.read_src + u.read_ext;
            if (!read_by_graph)
                poison_pending_download(n.poison_dst, n.poison_pitch, n.poison_width, n.poison_height);
        }
    cudaError_t e = enqueue(stream, "cudaGraphLaunch", [nodes]() {
        for (const Node &n : *nodes)
            if (!sticky_set())
                n.fn();
    }, extra);
    if (e == cudaSuccess && !capturing) {
        graphExec->last_stream = s->id;
        graphExec->last_seq = s->enqueued;
    }
    return e;
}

extern "C" cudaError_t cudaGraphExecDestroy(cudaGraphExec_t graphExec)
{
    STANDIN_LOCK;
    if (cudaError_t e = entry("cudaGraphExecDestroy"))
        return e;
    if (!rt().execs.erase(graphExec))
        return rt_fail(cudaErrorInvalidValue,
                       fmt("cudaGraphExecDestroy: %s is not a live executable graph", ptr_str(graphExec).c_str()));
    return cudaSuccess;
}

extern "C" cudaError_t cudaGraphDestroy(cudaGraph_t graph)
{
    STANDIN_LOCK;
    if (cudaError_t e = entry("cudaGraphDestroy"))
        return e;
    if (!rt().graphs.erase(graph))
        return rt_fail(cudaErrorInvalidValue,
                       fmt("cudaGraphDestroy: %s is not a live graph", ptr_str(graph).c_str()));
    return cudaSuccess;
}

/* ======================================================================= */
/* Events                                                                   */
/* ======================================================================= */

namespace {
CUevent_st *find_event(cudaEvent_t e)
{
    auto it = rt().events.find(e);
    return it == rt().events.end() ? nullptr : it->first;
}

cudaError_t bad_event(const char *api, cudaEvent_t e)
{
    return rt_fail(cudaErrorInvalidResourceHandle,
                   fmt("%s: %s is not a live event", api, ptr_str(e).c_str()));
}

/* An event last recorded in a capture: not permitted (cudaErrorCapturedEvent);
 * a capture still running is invalidated. */
cudaError_t captured_event(const char *api, EventState &st)
{
    for (CUstream_st *s : capturing_streams())
        if (s->cap->id == st.captured_by)
            invalidate(s, fmt("%s on an event recorded in the capture", api));
    return rt_fail(cudaErrorCapturedEvent,
                   fmt("%s: the event was last recorded in a capturing stream (not permitted)", api));
}
}  // namespace

extern "C" cudaError_t cudaEventCreateWithFlags(cudaEvent_t *event, unsigned int flags)
{
    STANDIN_LOCK;
    if (cudaError_t e = entry("cudaEventCreateWithFlags"))
        return e;
    if (!event)
        return rt_fail(cudaErrorInvalidValue, "cudaEventCreate: event is NULL");
    if (flags & ~(unsigned)(cudaEventBlockingSync | cudaEventDisableTiming))
        return rt_fail(cudaErrorInvalidValue, fmt("cudaEventCreateWithFlags: flags 0x%x not modelled", flags));
    auto ev = std::make_unique<CUevent_st>();
    ev->st = std::make_shared<EventState>();
    ev->st->flags = flags;
    CUevent_st *p = ev.get();
    rt().events[p] = std::move(ev);
    *event = p;
    return cudaSuccess;
}

extern "C" cudaError_t cudaEventCreate(cudaEvent_t *event) { return cudaEventCreateWithFlags(event, 0); }

extern "C" cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream)
{
    STANDIN_LOCK;
    if (cudaError_t e = entry("cudaEventRecord"))
        return e;
    CUevent_st *ev = find_event(event);
    if (!ev)
        return bad_event("cudaEventRecord", event);
    CUstream_st *s = resolve(stream);
    if (!s)
        return bad_stream("cudaEventRecord", stream);
    std::shared_ptr<EventState> st = ev->st;
    if (s->cap) {
        if (s->cap->invalidated)
            return rt_fail(cudaErrorStreamCaptureInvalidated,
                           fmt("cudaEventRecord: stream %s is capturing and its capture was invalidated (%s)",
                               stream_str(stream).c_str(), s->cap->why.c_str()));
        /* In capture the record is not a graph node: the event becomes a
         * "captured event" until it is recorded again outside a capture. */
        st->captured_by = s->cap->id;
        st->recorded = false;
        st->completed = false;
        st->generation++;
        return cudaSuccess;
    }
    const uint64_t gen = ++st->generation;
    cudaError_t e = enqueue(stream, "cudaEventRecord", [st, gen]() {
        if (st->generation == gen) {
            st->when = std::chrono::steady_clock::now();
            st->completed = true;
        }
    });
    if (e != cudaSuccess)
        return e;
    st->captured_by = 0;
    st->recorded = true;
    st->completed = false;
    st->stream_id = s->id;
    st->seq = s->enqueued;
    return cudaSuccess;
}

extern "C" cudaError_t cudaEventSynchronize(cudaEvent_t event)
{
    STANDIN_LOCK;
    if (cudaError_t e = entry("cudaEventSynchronize"))
        return e;
    CUevent_st *ev = find_event(event);
    if (!ev)
        return bad_event("cudaEventSynchronize", event);
    EventState &st = *ev->st;
    if (st.captured_by)
        return captured_event("cudaEventSynchronize", st);
    if (!st.recorded)
        return cudaSuccess; /* never recorded: returns at once */
    auto it = rt().by_id.find(st.stream_id);
    if (it != rt().by_id.end())
        drain(it->second, st.seq);
    return after_sync("cudaEventSynchronize");
}

extern "C" cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t start, cudaEvent_t end)
{
    STANDIN_LOCK;
    if (cudaError_t e = entry("cudaEventElapsedTime"))
        return e;
    if (!ms)
        return rt_fail(cudaErrorInvalidValue, "cudaEventElapsedTime: ms is NULL");
    CUevent_st *a = find_event(start), *b = find_event(end);
    if (!a)
        return bad_event("cudaEventElapsedTime", start);
    if (!b)
        return bad_event("cudaEventElapsedTime", end);
    for (CUevent_st *x : {a, b})
        if (x->st->captured_by)
            return captured_event("cudaEventElapsedTime", *x->st);
    for (CUevent_st *x : {a, b}) {
        if (x->st->flags & cudaEventDisableTiming)
            return rt_fail(cudaErrorInvalidResourceHandle,
                           fmt("cudaEventElapsedTime: event %s was created with cudaEventDisableTiming",
                               ptr_str(x).c_str()));
        if (!x->st->recorded)
            return rt_fail(cudaErrorInvalidResourceHandle,
                           fmt("cudaEventElapsedTime: cudaEventRecord has not been called on event %s",
                               ptr_str(x).c_str()));
    }
    for (CUevent_st *x : {a, b})
        if (!x->st->completed)
            return rt_fail(cudaErrorNotReady,
                           fmt("cudaEventElapsedTime: event %s has been recorded but has not completed "
                               "(nothing has waited for it)",
                               ptr_str(x).c_str()));
    *ms = std::chrono::duration<float, std::milli>(b->st->when - a->st->when).count();
    return cudaSuccess;
}

extern "C" cudaError_t cudaEventDestroy(cudaEvent_t event)
{
    STANDIN_LOCK;
    if (cudaError_t e = entry("cudaEventDestroy"))
        return e;
    if (!rt().events.erase(event))
        return bad_event("cudaEventDestroy", event);
    return cudaSuccess;
}

/* ======================================================================= */
/* The stand-in's own API                                                   */
/* ======================================================================= */

extern "C" size_t standin_fail_count(void)
{
    Messages &m = messages();
    std::lock_guard<std::mutex> lk(m.mu);
    return m.list.size();
}

extern "C" const char *standin_fail_message(size_t i)
{
    Messages &m = messages();
    std::lock_guard<std::mutex> lk(m.mu);
    return i < m.list.size() ? m.list[i].c_str() : nullptr;
}

extern "C" int standin_fail_contains(const char *needle)
{
    Messages &m = messages();
    std::lock_guard<std::mutex> lk(m.mu);
    for (const std::string &s : m.list)
        if (s.find(needle) != std::string::npos)
            return 1;
    return 0;
}

extern "C" void standin_fail_clear(void)
{
    Messages &m = messages();
    std::lock_guard<std::mutex> lk(m.mu);
    m.list.clear();
}

std::vector<std::string> standin_fail_messages()
{
    Messages &m = messages();
    std::lock_guard<std::mutex> lk(m.mu);
    return std::vector<std::string>(m.list.begin(), m.list.end());
}

extern "C" void standin_device_fault(const char *message) { device_fault(message ? message : "device fault"); }

extern "C" void standin_set_device_mode(int mode)
{
    STANDIN_LOCK;
    rt().device_mode = mode;
}

extern "C" void standin_reset(void)
{
    STANDIN_LOCK;
    Runtime &r = rt();
    r.execs.clear();
    r.graphs.clear();
    r.events.clear();
    r.streams.clear();
    r.by_id.clear();
    r.legacy.q.clear();
    r.legacy.enqueued = r.legacy.done = 0;
    r.legacy.cap.reset();
    r.by_id[r.legacy.id] = &r.legacy;
    r.device_mode = STANDIN_DEVICE_OK;
    blas_reset();
    solver_reset();
    memory_reset();
    g_sticky = cudaSuccess;
    t_last_error = cudaSuccess;
    t_capture_mode = cudaStreamCaptureModeGlobal;
    faults_reset();
    g_pending_reads.clear();
    standin_launch_reset();
    standin_fail_clear();
}

cudaError_t standin_enqueue(cudaStream_t stream, std::function<void()> fn, const char *what)
{
    STANDIN_LOCK;
    if (cudaError_t e = entry(what ? what : "standin_enqueue"))
        return e;
    if (!fn)
        return rt_fail(cudaErrorInvalidValue, "standin_enqueue: empty function");
    return enqueue(stream, what ? what : "work", std::move(fn));
}

extern "C" cudaError_t standin_enqueue_c(cudaStream_t stream, const char *what, void (*fn)(void *), void *arg)
{
    if (!fn) {
        STANDIN_LOCK;
        return rt_fail(cudaErrorInvalidValue, "standin_enqueue_c: fn is NULL");
    }
    return standin_enqueue(stream, [fn, arg]() { fn(arg); }, what);
}

/* ======================================================================= */
/* Injected faults (standin_set_fault)                                      */
/* ======================================================================= */

namespace standin {
namespace {
/* Remaining uses of each fault: 0 off, -1 until cleared. */
int g_faults[FAULT_COUNT];
const char *const g_fault_names[FAULT_COUNT] = {"skip_sync", "workspace_short", "ld_short", "sync_in_capture"};
}  // namespace

bool fault_take(Fault f)
{
    STANDIN_LOCK;
    if (!g_faults[f])
        return false;
    if (g_faults[f] > 0)
        g_faults[f]--;
    return true;
}

void faults_reset()
{
    STANDIN_LOCK;
    for (int &f : g_faults)
        f = 0;
}
}  // namespace standin

extern "C" int standin_set_fault(const char *name, int uses)
{
    STANDIN_LOCK;
    if (!name || !*name || strcmp(name, "none") == 0) {
        faults_reset();
        return 0;
    }
    for (int f = 0; f < FAULT_COUNT; f++)
        if (strcmp(name, g_fault_names[f]) == 0) {
            g_faults[f] = uses;
            return 0;
        }
    return -1;
}

extern "C" int standin_is_pending_poison(const void *p, size_t bytes)
{
    if (!p || bytes == 0)
        return 0;
    for (size_t i = 0; i < bytes; i++) {
        const uintptr_t a = (uintptr_t)p + i;
        if (((const unsigned char *)p)[i] != (unsigned char)(STANDIN_PENDING_POISON >> (8 * (a & 3))))
            return 0;
    }
    return 1;
}
