/* The SM clock probe's kernel (cuda/clock.cu, docs/verdict.md timing.sm_clock).
 *
 * One block of one thread per SM. Each block stamps, into its own slot (no
 * two blocks write one slot, wherever the scheduler puts them), the SM it
 * ran on (%smid), the GPU's global nanosecond timer (%globaltimer) and that
 * SM's cycle counter (clock64()), with the reading's sequence number, so the
 * host tells a fresh slot from a stale one without clearing the buffer.
 * Two readings around a rep give each SM's clock over the rep:
 * Δcycles / Δns (sb_sm_clock_mhz, src/backend.c), as nvbench's cold
 * measurement does with its timestamps kernel (there for SM 0 only).
 *
 * In the stand-in build (TEST-ONLY) the stamp comes from the stand-in's
 * simulated SM clock (standin_sm_stamp, tests/standin/include/standin.h),
 * which a test can slow down to make reps look throttled. */
#ifndef SB_CLOCK_KERNELS_CUH
#define SB_CLOCK_KERNELS_CUH

#include "clock_params.h"

__device__ __forceinline__ void sb_sm_stamp(unsigned seq, unsigned *smid, unsigned long long *ns,
                                            unsigned long long *cycles)
{
#if defined(SB_STANDIN)
    standin_sm_stamp(seq, blockIdx.x, smid, ns, cycles);
#elif defined(__CUDA_ARCH__)
    (void)seq;
    unsigned id;
    unsigned long long t;
    asm volatile("mov.u32 %0, %%smid;" : "=r"(id));
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
    *smid = id;
    *ns = t;
    *cycles = (unsigned long long)clock64();
#else
    (void)seq;
    *smid = 0;
    *ns = 0;
    *cycles = 0;
#endif
}

__global__ void __launch_bounds__(1) sb_clock_stamp(sb_clock_slot *slots, unsigned seq)
{
    unsigned smid = 0;
    unsigned long long ns = 0, cycles = 0;
    sb_sm_stamp(seq, &smid, &ns, &cycles);
    sb_clock_slot *s = &slots[blockIdx.x];
    s->ns = ns;
    s->cycles = cycles;
    s->smid = smid;
    s->seq = seq;
}

#endif
