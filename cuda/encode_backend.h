/* The CUDA encode (cuda/encode_backend.cu): the device implementation of
 * the encode interface in src/encode_ops.h. */
#ifndef SB_CUDA_ENCODE_BACKEND_H
#define SB_CUDA_ENCODE_BACKEND_H

extern "C" {
#include "encode_ops.h"
}

extern "C" const sb_encode_ops sb_cuda_encode_ops;

#endif
