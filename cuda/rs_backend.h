/* The CUDA resident-solve operations (cuda/rs_backend.cu): the
 * `resident_solve` table of sb_cuda_backend. */
#ifndef SB_CUDA_RS_BACKEND_H
#define SB_CUDA_RS_BACKEND_H

extern "C" {
#include "backend.h"
}

extern "C" const sb_rs_ops sb_cuda_rs_ops;

#endif
