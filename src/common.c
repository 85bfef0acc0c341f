#include "common.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

sb_rc sb_fail(sb_err *err, sb_rc rc, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return rc;
}

int sb_mul_ok(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return 0;
    *out = a * b;
    return 1;
}

void *sb_alloc(size_t count, size_t size, sb_err *err)
{
    size_t bytes;
    if (!sb_mul_ok(count, size, &bytes)) {
        sb_fail(err, SB_E_INPUT, "allocation of %zu x %zu bytes overflows", count, size);
        return NULL;
    }
    void *p = calloc(bytes ? bytes : 1, 1);
    if (!p)
        sb_fail(err, SB_E_RUNTIME, "out of memory allocating %zu bytes", bytes);
    return p;
}

uint64_t sb_physical_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES);
    long page = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page <= 0)
        return 0;
    return (uint64_t)pages * (uint64_t)page;
}

const char *sb_printable(const char *text, char *buf, size_t len)
{
    size_t i = 0;
    for (; text[i] && i + 1 < len; i++)
        buf[i] = (unsigned char)text[i] < 0x20 || text[i] == 0x7f ? '?' : text[i];
    buf[i] = '\0';
    return buf;
}
