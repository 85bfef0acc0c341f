/* cuda/rs_tiled.cuh (with the rs_kernels.cuh and rs_gram.cuh it includes) once
 * per residency slot, each copy in its own namespace so each slot has its own
 * __shared__ statics (tests/sim/sim_cuda.h, "Usage"). Included by the tiled
 * simulation (tests/sim/sim_tiled.cpp) and by the stand-in build's prelude of
 * cuda/rs_kernels.cu (tests/standin/launch/rs_kernels.h); no include guard:
 * it is meant to be included where the slots are wanted. */
namespace sim_slot0 {
#include "rs_tiled.cuh"
}
#undef SB_RS_TILED_CUH
#undef SB_RS_KERNELS_CUH
#undef SB_RS_GRAM_CUH
namespace sim_slot1 {
#include "rs_tiled.cuh"
}
#undef SB_RS_TILED_CUH
#undef SB_RS_KERNELS_CUH
#undef SB_RS_GRAM_CUH
namespace sim_slot2 {
#include "rs_tiled.cuh"
}
#undef SB_RS_TILED_CUH
#undef SB_RS_KERNELS_CUH
#undef SB_RS_GRAM_CUH
namespace sim_slot3 {
#include "rs_tiled.cuh"
}
