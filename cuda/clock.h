/* The CUDA backend's SM clock probe and L2 flush (clock.cu). */
#ifndef SB_CUDA_CLOCK_H
#define SB_CUDA_CLOCK_H

#include <new>

#include <cuda_runtime.h>

extern "C" {
#include "backend.h"
}

extern "C" const sb_probe_ops sb_cuda_probe_ops;

#endif
