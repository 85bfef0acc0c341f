/* resident-solve on the host (host_rs.c): the operations table the host
 * backend (host_backend.c) points at, and its one tuning knob. */
#ifndef SB_HOST_RS_H
#define SB_HOST_RS_H

#include "../backend.h"

extern const sb_rs_ops sb_host_rs_ops;

/* Rows of √w-scaled X per DSYRK update in the primal Gram; 0 (the default)
 * picks ~4 MiB worth. Tests set it small to exercise the chunking. */
extern int sb_host_gram_chunk_rows;

#endif
