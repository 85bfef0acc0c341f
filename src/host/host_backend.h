/* Host backend knobs (the backend itself is sb_host_backend in backend.h). */
#ifndef SB_HOST_BACKEND_H
#define SB_HOST_BACKEND_H

/* Rows of √w-scaled X per DSYRK update in the primal Gram; 0 (the default)
 * picks ~4 MiB worth. Tests set it small to exercise the chunking. */
extern int sb_host_gram_chunk_rows;

#endif
