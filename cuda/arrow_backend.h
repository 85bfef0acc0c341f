/* The CUDA arrow-Schur solve mode (inner-loop, outer-seq), cuda/arrow_backend.cu;
 * the `arrow` table of sb_cuda_backend. */
#ifndef SB_CUDA_ARROW_BACKEND_H
#define SB_CUDA_ARROW_BACKEND_H

extern "C" {
#include "arrow.h"
}

extern "C" const sb_arrow_ops sb_cuda_arrow_ops;

#endif
