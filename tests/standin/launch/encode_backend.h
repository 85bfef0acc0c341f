/* Prelude of cuda/encode_backend.cu in the stand-in build (TEST-ONLY, force-included by
 * tests/standin/standin-build.mk): the launch layer, then the kernel header once
 * per residency slot, so each slot has its own __shared__ statics (the
 * pattern of tests/sim/sim_encode.cpp). */
#include "standin_launch.h"

#include "hostdev/encode_row.cuh" /* no shared memory: one global copy */
/* Everything that touches the simulation's per-translation-unit statics
 * (thread-locals, the fiber scheduler, __shared__) has internal linkage: an
 * inline or template function of a kernel header compiled into two units
 * (rs_gram.cuh: rs_gram.cu and rs_tiled.cuh) would otherwise be merged by the
 * linker and run with the other unit's statics. */
namespace {
namespace sim_slot0 {
#include "encode_kernels.cuh"
}
#undef SB_ENCODE_KERNELS_CUH
namespace sim_slot1 {
#include "encode_kernels.cuh"
}
#undef SB_ENCODE_KERNELS_CUH
namespace sim_slot2 {
#include "encode_kernels.cuh"
}
#undef SB_ENCODE_KERNELS_CUH
namespace sim_slot3 {
#include "encode_kernels.cuh"
}
} // namespace
using namespace sim_slot0; /* the host code's use of the header's constants and helpers */
