/* Prelude of cuda/encode_backend.cu in the stand-in build (TEST-ONLY, force-included by
 * tests/standin/standin-build.mk): the launch layer, then the kernel header once
 * per residency slot, so each slot has its own __shared__ statics (the
 * pattern of tests/sim/sim_encode.cpp). */
#include "standin_launch.h"

#include "hostdev/encode_row.cuh" /* no shared memory: one global copy */

/* The table pointers inside encode_rows' by-value sb_encode_tables (each
 * checked like a pointer argument: NULL or live device memory). */
inline void standin_kernel_arg_ptrs(const sb_encode_tables &tb, std::vector<standin_arg_ptr> &out)
{
    out.push_back(standin_arg_ptr_of(tb.centre, "sb_encode_tables.centre"));
    out.push_back(standin_arg_ptr_of(tb.phi, "sb_encode_tables.phi"));
    out.push_back(standin_arg_ptr_of(tb.dphi, "sb_encode_tables.dphi"));
    out.push_back(standin_arg_ptr_of(tb.Minv, "sb_encode_tables.Minv"));
    out.push_back(standin_arg_ptr_of(tb.beta_c, "sb_encode_tables.beta_c"));
    out.push_back(standin_arg_ptr_of(tb.m1_sq, "sb_encode_tables.m1_sq"));
    out.push_back(standin_arg_ptr_of(tb.S, "sb_encode_tables.S"));
    out.push_back(standin_arg_ptr_of(tb.G, "sb_encode_tables.G"));
    out.push_back(standin_arg_ptr_of(tb.moments, "sb_encode_tables.moments"));
}
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
