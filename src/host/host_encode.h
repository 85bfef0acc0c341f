/* Host encode fast path (docs/workloads.md §5): sb_host_encode_ops (the
 * interface in src/encode_ops.h) and a one-call form. */
#ifndef SB_HOST_ENCODE_H
#define SB_HOST_ENCODE_H

#include "../encode.h"
#include "../encode_ops.h"

/* Rows per projection chunk (one DGEMM each); 0 (the default) picks ~256 KiB
 * of rows. A value ≥ the rows of every atom makes one DGEMM per atom, the
 * calls the CUDA backend makes (the kernel simulation compares bits that way);
 * tests set it small to exercise the chunking. Read at create. */
extern int sb_host_encode_chunk_rows;

/* Encode every row of prob (create, run, destroy of sb_host_encode_ops):
 * fills out (sized for prob->n rows). Synchronous. */
sb_rc sb_host_encode(const sb_encode_problem *prob, const sb_encode_atlas *atlas, sb_encode_result *out,
                     sb_err *err);

#endif
