/* Prelude of cuda/rs_kernels.cu in the stand-in build (TEST-ONLY, force-included by
 * tests/standin/standin-build.mk): the launch layer, then the kernel header once
 * per residency slot, so each slot has its own __shared__ statics (the
 * pattern of tests/sim/sim_tiled.cpp). */
#include "standin_launch.h"

#include "rs_params.h"

/* The pointers inside the by-value struct arguments (the launch layer checks
 * each like a pointer argument: NULL or live device memory, a struct's whole
 * sizeof: standin_arg_ptr_of). Non-template
 * overloads, found by argument-dependent lookup when the launcher is
 * instantiated below. */
inline void standin_kernel_arg_ptrs(const sb_chain_sync &cs, std::vector<standin_arg_ptr> &out)
{
    out.push_back(standin_arg_ptr_of(cs.flags, "sb_chain_sync.flags"));
    out.push_back(standin_arg_ptr_of(cs.ctl, "sb_chain_sync.ctl"));
}
inline void standin_kernel_arg_ptrs(const sb_tiled_sync &ts, std::vector<standin_arg_ptr> &out)
{
    out.push_back(standin_arg_ptr_of(ts.counts, "sb_tiled_sync.counts"));
    out.push_back(standin_arg_ptr_of(ts.ctl, "sb_tiled_sync.ctl"));
    out.push_back(standin_arg_ptr_of(ts.trace, "sb_tiled_sync.trace"));
    out.push_back(standin_arg_ptr_of(ts.gram_Xt, "sb_tiled_sync.gram_Xt"));
    out.push_back(standin_arg_ptr_of(ts.gram_w, "sb_tiled_sync.gram_w"));
    out.push_back(standin_arg_ptr_of(ts.gram_partials, "sb_tiled_sync.gram_partials"));
    out.push_back(standin_arg_ptr_of(ts.gram_counts, "sb_tiled_sync.gram_counts"));
}
namespace { /* internal linkage: see below */
#include "rs_mma.cuh"
}
#include "rs_tiled_trace.h"
/* Everything that touches the simulation's per-translation-unit statics
 * (thread-locals, the fiber scheduler, __shared__) has internal linkage: an
 * inline or template function of a kernel header compiled into two units
 * (rs_gram.cuh: rs_gram.cu and rs_tiled.cuh) would otherwise be merged by the
 * linker and run with the other unit's statics. */
namespace {
#include "sim_slots_rs_tiled.h"
} // namespace
using namespace sim_slot0; /* the host code's use of the header's constants and helpers */
