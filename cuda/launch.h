/* The kernel-launch layer. Every kernel launch in cuda/ is written
 *     SB_LAUNCH(kernel, grid, block, smem, stream)(args...);
 * on the line the <<<>>> expression had (one line for one line, so __LINE__
 * and the objects nvcc makes are unchanged). Under nvcc it is exactly
 *     kernel<<<grid, block, smem, stream>>>(args...)
 * Under -DSB_STANDIN (the TEST-ONLY g++ build of cuda/ against the CPU
 * stand-in, tests/standin/README.md, never the shipped saebench) the launch is
 * checked (configuration, pointer arguments) and queued on the stream, to run
 * through the block simulation of tests/sim/sim_cuda.h when the stream is
 * synchronised; tests/standin/include/standin_launch.h. */
#ifndef SB_LAUNCH_H
#define SB_LAUNCH_H

#if defined(SB_STANDIN)
/* standin_launch and SIM_KERNEL come from the translation unit's prelude
 * (tests/standin/launch/<tu>.h, force-included by tests/standin/standin-build.mk). */
#define SB_LAUNCH(kernel, grid, block, smem, stream)                                             \
    standin_launch(SIM_KERNEL(kernel), #kernel, (grid), (block), (smem), (stream), __FILE__, __LINE__)
#else
#define SB_LAUNCH(kernel, grid, block, smem, stream) kernel<<<grid, block, smem, stream>>>
#endif

#endif
