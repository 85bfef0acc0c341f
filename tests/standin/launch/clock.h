/* Prelude of cuda/clock.cu in the stand-in build (TEST-ONLY, force-included by
 * tests/standin/standin-build.mk): the launch layer, then the probe's kernel
 * header once per residency slot (the pattern of the other preludes). */
#include "standin_launch.h"

#include "clock_params.h"
namespace {
namespace sim_slot0 {
#include "clock_kernels.cuh"
}
#undef SB_CLOCK_KERNELS_CUH
namespace sim_slot1 {
#include "clock_kernels.cuh"
}
#undef SB_CLOCK_KERNELS_CUH
namespace sim_slot2 {
#include "clock_kernels.cuh"
}
#undef SB_CLOCK_KERNELS_CUH
namespace sim_slot3 {
#include "clock_kernels.cuh"
}
} // namespace
using namespace sim_slot0;
