/* The CUDA backend's probe operations (sb_probe_ops, src/backend.h): the SM
 * clock probe around each timed rep and --cold's L2 flush before it. The
 * harness (src/run.c) calls them between reps, never inside a timed one.
 *
 * The probe has its own stream, pinned slots and device slots, allocated
 * once at open; a reading is one kernel (clock_kernels.cuh), one copy back
 * and one synchronisation: a few microseconds on a GPU, outside the clock.
 * The flush writes an L2-sized device buffer with cudaMemsetAsync (as
 * nvbench's l2flush does) and waits for it. */
#include <string.h>

#include "clock.h"
#include "clock_kernels.cuh"
#include "cuda_check.h"

namespace {

struct probe_state {
    cudaStream_t stream;
    int blocks;             /* one per SM, at most SB_CLOCK_MAX_BLOCKS */
    sb_clock_slot *d_slots; /* device */
    sb_clock_slot *h_slots; /* pinned */
    unsigned seq;           /* readings so far */
    void *l2;               /* --cold: the buffer one flush writes */
    size_t l2_bytes;
};

void probe_close(void *state)
{
    probe_state *st = (probe_state *)state;
    if (!st)
        return;
    if (st->stream)
        cudaStreamSynchronize(st->stream);
    cudaFree(st->d_slots);
    cudaFreeHost(st->h_slots);
    cudaFree(st->l2);
    if (st->stream)
        cudaStreamDestroy(st->stream);
    cudaGetLastError();
    delete st;
}

sb_rc probe_open_into(probe_state *st, int cold, sb_err *err)
{
    int dev = 0, sms = 0;
    SB_CUDA_TRY(err, cudaGetDevice(&dev));
    SB_CUDA_TRY(err, cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
    if (sms < 1)
        return sb_fail(err, SB_E_RUNTIME, "the device reports %d SMs", sms);
    st->blocks = sms < SB_CLOCK_MAX_BLOCKS ? sms : SB_CLOCK_MAX_BLOCKS;
    const size_t slot_bytes = (size_t)st->blocks * sizeof(sb_clock_slot);
    SB_CUDA_TRY(err, cudaStreamCreateWithFlags(&st->stream, cudaStreamNonBlocking));
    SB_CUDA_TRY(err, cudaMalloc((void **)&st->d_slots, slot_bytes));
    SB_CUDA_TRY(err, cudaMallocHost((void **)&st->h_slots, slot_bytes));
    memset(st->h_slots, 0, slot_bytes);
    if (cold) {
        int l2 = 0;
        SB_CUDA_TRY(err, cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, dev));
        if (l2 < 1)
            return sb_fail(err, SB_E_RUNTIME, "--cold: the device reports an L2 cache of %d bytes", l2);
        st->l2_bytes = (size_t)l2;
        SB_CUDA_TRY(err, cudaMalloc(&st->l2, st->l2_bytes));
    }
    return SB_OK;
}

sb_rc probe_open(int cold, void **state, size_t *l2_bytes, sb_err *err)
{
    *state = NULL;
    *l2_bytes = 0;
    probe_state *st = new (std::nothrow) probe_state();
    if (!st)
        return sb_fail(err, SB_E_RUNTIME, "out of memory for the SM clock probe");
    sb_rc rc = probe_open_into(st, cold, err);
    if (rc != SB_OK) {
        probe_close(st);
        return rc;
    }
    *state = st;
    *l2_bytes = st->l2_bytes;
    return SB_OK;
}

sb_rc probe_read_clock(void *state, sb_clock_reading *out, sb_err *err)
{
    probe_state *st = (probe_state *)state;
    const unsigned seq = ++st->seq;
    out->nblocks = 0;
    SB_LAUNCH(sb_clock_stamp, (unsigned)st->blocks, 1, 0, st->stream)(st->d_slots, seq);
    SB_CUDA_TRY(err, cudaGetLastError());
    SB_CUDA_TRY(err, cudaMemcpyAsync(st->h_slots, st->d_slots, (size_t)st->blocks * sizeof(sb_clock_slot),
                                     cudaMemcpyDeviceToHost, st->stream));
    SB_CUDA_TRY(err, cudaStreamSynchronize(st->stream));
    for (int b = 0; b < st->blocks; b++) {
        const sb_clock_slot *s = &st->h_slots[b];
        if (s->seq != seq)
            continue; /* a block that did not run (it cannot happen; if it does, it says nothing) */
        out->smid[out->nblocks] = s->smid;
        out->ns[out->nblocks] = s->ns;
        out->cycles[out->nblocks] = s->cycles;
        out->nblocks++;
    }
    return SB_OK;
}

sb_rc probe_flush_l2(void *state, sb_err *err)
{
    probe_state *st = (probe_state *)state;
    if (!st->l2)
        return sb_fail(err, SB_E_RUNTIME, "flush_l2: the probe was opened without --cold");
    SB_CUDA_TRY(err, cudaMemsetAsync(st->l2, 0, st->l2_bytes, st->stream));
    SB_CUDA_TRY(err, cudaStreamSynchronize(st->stream));
    return SB_OK;
}

} // namespace

extern "C" const sb_probe_ops sb_cuda_probe_ops = {
    probe_open,       /* open */
    probe_read_clock, /* read_clock */
    probe_flush_l2,   /* flush_l2 */
    probe_close,      /* close */
};
