/* Shared error plumbing and exit codes. Every fallible function returns an
 * sb_rc and writes one human line into an sb_err; nothing below main() exits. */
#ifndef SB_COMMON_H
#define SB_COMMON_H

#include <stddef.h>
#include <stdint.h>

#define SB_VERSION "0.1.0"

/* Exit codes (docs/workloads.md §0; README.md "Exit codes"). */
enum {
    SB_EXIT_PASS = 0,        /* every gate passed */
    SB_EXIT_GATE_FAIL = 1,   /* a gate failed */
    SB_EXIT_USAGE = 2,       /* usage or input error */
    SB_EXIT_NO_DEVICE = 3,   /* device required but not engaged */
    SB_EXIT_RUNTIME = 4      /* CUDA/LAPACK failure; verdict still written */
};

/* Return codes of library functions; map 1:1 onto the exit codes above. */
typedef enum {
    SB_OK = 0,
    SB_E_INPUT = SB_EXIT_USAGE,      /* bad input: exit 2 */
    SB_E_NODEVICE = SB_EXIT_NO_DEVICE,
    SB_E_RUNTIME = SB_EXIT_RUNTIME
} sb_rc;

typedef struct sb_err {
    char msg[512];
} sb_err;

/* printf-style: fill err (if non-NULL) and return rc. A message cut to fit
 * never ends inside a UTF-8 character. */
sb_rc sb_fail(sb_err *err, sb_rc rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Allocation that reports failure through err instead of aborting. */
void *sb_alloc(size_t count, size_t size, sb_err *err);

/* count*size without overflow; 0 on overflow. */
int sb_mul_ok(size_t a, size_t b, size_t *out);

/* A user's text for an error line or a verdict string: control bytes and
 * bytes that are not valid UTF-8 (a plugin's message cut mid-character, a
 * Latin-1 name) shown as '?', so the line stays one line and the JSON stays
 * valid UTF-8 whatever the text holds; at most len - 1 bytes, never ending
 * inside a character. */
const char *sb_printable(const char *text, char *buf, size_t len);

/* Physical memory of this machine in bytes (0 if unknown). */
uint64_t sb_physical_memory(void);

#endif
