/* Prelude of cuda/rs_gram.cu in the stand-in build (TEST-ONLY, force-included by
 * tests/standin/standin-build.mk): the launch layer, then the kernel header once
 * per residency slot, so each slot has its own __shared__ statics (the
 * pattern of tests/sim/sim_gram.cpp). */
#include <stdint.h>

#include "standin_launch.h"

namespace { /* internal linkage: see below */
#include "rs_mma.cuh"
}
/* Everything that touches the simulation's per-translation-unit statics
 * (thread-locals, the fiber scheduler, __shared__) has internal linkage: an
 * inline or template function of a kernel header compiled into two units
 * (rs_gram.cuh: rs_gram.cu and rs_tiled.cuh) would otherwise be merged by the
 * linker and run with the other unit's statics. */
namespace {
namespace sim_slot0 {
#include "rs_gram.cuh"
}
#undef SB_RS_GRAM_CUH
namespace sim_slot1 {
#include "rs_gram.cuh"
}
#undef SB_RS_GRAM_CUH
namespace sim_slot2 {
#include "rs_gram.cuh"
}
#undef SB_RS_GRAM_CUH
namespace sim_slot3 {
#include "rs_gram.cuh"
}
} // namespace
using namespace sim_slot0; /* the host code's use of the header's constants and helpers */
