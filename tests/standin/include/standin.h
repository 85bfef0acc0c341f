/* The stand-in's own API: test hooks and the layer below the future kernel
 * launcher. TEST-ONLY: never part of the shipped saebench (README.md). */
#ifndef SAEBENCH_STANDIN_H
#define SAEBENCH_STANDIN_H

#include <stddef.h>

#include "cuda_runtime_api.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when [p, p+bytes) lies inside one live cudaMalloc allocation (its user
 * bytes, not its redzones); bytes == 0 asks whether p points into or one past
 * the end of one. */
int standin_is_device_ptr(const void *p, size_t bytes);
/* 1 when p lies anywhere in the device arena (live, freed or redzone). */
int standin_in_device_arena(const void *p);
/* Base and size of the live allocation holding p; 0 when there is none. */
int standin_device_alloc_info(const void *p, void **base, size_t *size);

/* Every failure's human-readable message, oldest first ("cublasDgemm: lda=3 <
 * max(1,m)=4"). standin_fail_message(i) is valid until the next clear/reset. */
size_t standin_fail_count(void);
const char *standin_fail_message(size_t i);
/* 1 when some recorded message contains needle. */
int standin_fail_contains(const char *needle);
void standin_fail_clear(void);

/* Drops every stream, event, graph, handle and allocation, the sticky and the
 * last error, and the messages: each test starts from a clean device. */
void standin_reset(void);

/* Simulated device situation: 0 normal, STANDIN_NO_DEVICE (cudaGetDeviceCount
 * -> cudaErrorNoDevice), STANDIN_OLD_DRIVER (-> cudaErrorInsufficientDriver). */
#define STANDIN_DEVICE_OK 0
#define STANDIN_NO_DEVICE 1
#define STANDIN_OLD_DRIVER 2
void standin_set_device_mode(int mode);

/* Device memory left to this process (the rest of the reference 80 GiB
 * counts as held by another process): cudaMemGetInfo's free is at most this
 * less what is allocated, and a cudaMalloc beyond it fails with
 * cudaErrorMemoryAllocation. 0 restores the default: STANDIN_DEVICE_FREE_MB
 * from the environment, else the whole device. standin_reset restores it. */
void standin_set_device_free(size_t bytes);

/* The host-access guard (default on): outside queued work the device arena
 * is mapped PROT_NONE, so host code dereferencing a device pointer faults as
 * it would on a GPU. */
void standin_set_host_access_guard(int on);

/* Enqueues fn(arg) on stream (or records it when the stream is capturing):
 * the C form of standin_enqueue. what names the work in messages. */
cudaError_t standin_enqueue_c(cudaStream_t stream, const char *what, void (*fn)(void *), void *arg);

/* Called from queued work that finds an error at execution time (an
 * out-of-bounds access, say): makes cudaErrorIllegalAddress sticky, as a
 * device fault is on a GPU, and records the message. */
void standin_device_fault(const char *message);

cudaError_t standin_malloc_host_flags(void **ptr, size_t size, unsigned int flags);

/* The host destination of a device-to-host cudaMemcpyAsync/cudaMemcpy2DAsync
 * (and of each such copy in a graph, at every cudaGraphLaunch) is filled with
 * this 32-bit word, repeated at 4-byte-aligned addresses, when the copy is
 * queued, until the copy runs at the synchronisation: a host read of a
 * pending download sees a NaN (double and float) or 2146816672 (int).
 * standin_is_pending_poison says whether [p, p+bytes) holds it. */
#define STANDIN_PENDING_POISON 0x7FF5D2A0u
int standin_is_pending_poison(const void *p, size_t bytes);

/* Fault injection into the stand-in itself (the code under test unchanged),
 * for the fault tests: name is armed for `uses` uses (-1: until cleared;
 * "none" or NULL clears all; standin_reset clears all). 0, or -1 for an
 * unknown name.
 *   skip_sync        cudaStreamSynchronize returns cudaSuccess without
 *                    waiting (a missing synchronisation)
 *   workspace_short  cusolverDnXpotrf_bufferSize reports one byte less on the
 *                    device than cusolverDnXpotrf requires
 *   ld_short         a cuBLAS routine sees its first leading dimension (lda)
 *                    one smaller than passed
 *   sync_in_capture  work queued on a capturing stream is preceded by a
 *                    cudaStreamSynchronize of that stream */
int standin_set_fault(const char *name, int uses);

/* What the SM clock probe's kernel (cuda/clock_kernels.cuh) reads in block
 * `block` of the reading numbered seq: the SM it "ran" on, %globaltimer and
 * the simulated clock64(). The clock runs at 1980 MHz times the percentage
 * STANDIN_SM_CLOCK_PCT gives for the interval after each reading
 * (standin_clock.cpp), so a test can make timed reps look throttled. */
void standin_sm_stamp(unsigned seq, unsigned block, unsigned *smid, unsigned long long *ns,
                      unsigned long long *cycles);

#ifdef __cplusplus
}

#include <functional>
#include <string>
#include <vector>

/* Queues fn on stream: it runs when something waits on the stream (or, when
 * the stream is capturing, is recorded into the graph and runs at each
 * replay). For the kernel-launch layer. */
cudaError_t standin_enqueue(cudaStream_t stream, std::function<void()> fn, const char *what = "work");
std::vector<std::string> standin_fail_messages();
#endif

#endif
