/* Backend registry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"

/* Defined only by the test binary saebench-fake (tests/fake/fake_device.c);
 * the shipped saebench has no such symbol, so no environment variable can
 * put a stand-in behind the name "cuda" there. */
extern const sb_backend *sb_test_device_backend(void) __attribute__((weak));

const sb_backend *sb_backend_by_name(const char *name)
{
    if (strcmp(name, "host") == 0)
        return &sb_host_backend;
    if (strcmp(name, "cuda") == 0) {
        const sb_backend *fake = sb_test_device_backend ? sb_test_device_backend() : NULL;
        return fake ? fake : &sb_cuda_backend;
    }
    return NULL;
}
