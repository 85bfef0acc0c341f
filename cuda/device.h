/* The CUDA device probe (cuda/device.cu): the probe of sb_cuda_backend, and
 * what the resident-solve create() (cuda/rs_backend.cu) runs first, so that
 * without a usable device it fails with the same SB_E_NODEVICE and reason. */
#ifndef SB_CUDA_DEVICE_H
#define SB_CUDA_DEVICE_H

extern "C" {
#include "backend.h"
}

/* SB_OK when a device is usable; info may be NULL, else it is filled. */
sb_rc sb_cuda_probe(sb_device_info *info, sb_err *why);

#endif
