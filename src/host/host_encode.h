/* Host encode fast path (docs/workloads.md §5): sb_host_encode_ops (the
 * interface in src/encode_ops.h) and a one-call form. */
#ifndef SB_HOST_ENCODE_H
#define SB_HOST_ENCODE_H

#include "../encode.h"
#include "../encode_ops.h"

/* Encode every row of prob (create, run, destroy of sb_host_encode_ops):
 * fills out (sized for prob->n rows). Synchronous. */
sb_rc sb_host_encode(const sb_encode_problem *prob, const sb_encode_atlas *atlas, sb_encode_result *out,
                     sb_err *err);

#endif
