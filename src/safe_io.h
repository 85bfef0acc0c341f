/* Every file saebench reads or writes goes through here (docs/safety.md).
 *
 * Reading: sb_open_input opens without blocking (a FIFO with no writer
 * cannot hang the tool) and refuses anything that is not a regular file.
 *
 * Writing: one writer for verdicts, dumps, reports, calibration and plots.
 *   - "-" is stdout; a failed or short write is an error.
 *   - A new path, or an existing regular file, is written to a temp file in
 *     the same folder, fsync'ed, renamed over the target, and the folder is
 *     fsync'ed: a crash leaves the old file or the new one, never half.
 *   - A symlink to a regular file keeps the link; its target is replaced.
 *   - An existing path that is not a regular file (a character device, a
 *     FIFO, a socket, or a symlink to one) is written in place: no temp
 *     file, no rename, nothing created or removed. A FIFO with no reader
 *     and a write that fails (ENOSPC on /dev/full) are errors.
 *   - A directory or a dangling symlink is refused.
 *   - An output checked at the start of the run (sb_check_writable) that
 *     another process wrote before this run's write (two runs, one --out) is
 *     left as it is, and the write is an error: the later run never replaces
 *     a verdict the earlier one reported.
 * Errors are SB_E_INPUT (exit 2) with one line naming the path. */
#ifndef SB_SAFE_IO_H
#define SB_SAFE_IO_H

#include <stddef.h>
#include <stdio.h>

#include "common.h"

/* Open path for reading ("rb"): regular files only, never blocking on open. */
sb_rc sb_open_input(const char *path, FILE **f, sb_err *err);
/* The same, for callers that word their own errors: 0 with *f open, -1 for
 * "not a regular file", else the errno of the failure. */
int sb_open_regular(const char *path, FILE **f);

/* Fail early (exit 2) when path cannot be written as sb_write_file would:
 * its folder must exist and take a new file, or the existing node must open
 * for writing now. "-" (stdout) always passes. */
sb_rc sb_check_writable(const char *path, sb_err *err);

/* One piece of the bytes to write. */
typedef struct sb_wpart {
    const void *data;
    size_t len;
} sb_wpart;

/* Write the parts, in order, to path under the rules above. */
sb_rc sb_write_parts(const char *path, const sb_wpart *parts, int nparts, sb_err *err);

/* text plus a final newline (verdicts, reports, calibration). */
sb_rc sb_write_atomic(const char *path, const char *text, sb_err *err);

/* 1 when a and b name the same file: the same device and inode when both
 * exist, else the same real folder and base name (another spelling of a
 * path not yet written). "-" is never the same as anything. */
int sb_same_file(const char *a, const char *b);

#endif
