/* Shared by the libFuzzer harnesses: hand a fuzz input to a reader that only
 * takes a path. The bytes go into one anonymous in-memory file (memfd) that
 * lives for the whole fuzzing process and is rewritten for every input; the
 * reader opens it as /proc/self/fd/N, which is a regular file, so the readers'
 * "not a regular file" checks pass exactly as for a file on disk. Nothing
 * touches the real filesystem, so millions of inputs leave no litter. */
#ifndef SB_FUZZ_INPUT_H
#define SB_FUZZ_INPUT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

/* A harness bug, not a finding in project code: stop loudly so it is not
 * mistaken for one (libFuzzer reports the abort with this line above it). */
#define FUZZ_CHECK(cond, ...)                                               \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "fuzz invariant failed at %s:%d: ", __FILE__,   \
                    __LINE__);                                              \
            fprintf(stderr, __VA_ARGS__);                                   \
            fputc('\n', stderr);                                            \
            abort();                                                        \
        }                                                                   \
    } while (0)

/* Writes data into the process-wide memfd and returns its path (static
 * storage). Aborts only when the kernel refuses memfd_create or the write,
 * which would make every result meaningless. */
static inline const char *fuzz_input_path(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("saebench-fuzz-input", MFD_CLOEXEC);
        FUZZ_CHECK(fd >= 0, "memfd_create failed");
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    FUZZ_CHECK(ftruncate(fd, 0) == 0, "ftruncate failed");
    size_t done = 0;
    while (done < size) {
        ssize_t w = pwrite(fd, data + done, size - done, (off_t)done);
        FUZZ_CHECK(w > 0, "pwrite failed");
        done += (size_t)w;
    }
    return path;
}

/* An error must come with its one line; an empty message means a failure
 * path that forgot to say why. */
static inline void fuzz_check_message(const char *msg)
{
    FUZZ_CHECK(msg[0] != '\0', "reader failed without an error message");
    FUZZ_CHECK(strnlen(msg, 512) < 512, "error message not NUL-terminated");
}

#endif
