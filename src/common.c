#include "common.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The length of the well-formed UTF-8 sequence at s (1 to 4 bytes), or 0
 * where the bytes there are not one (Unicode's table of well-formed byte
 * sequences: no overlong forms, no surrogates, nothing above U+10FFFF; a
 * NUL ends a sequence early). */
static size_t utf8_len(const unsigned char *s)
{
    const unsigned c = s[0];
    size_t n;
    unsigned lo = 0x80, hi = 0xbf; /* the range of the second byte */
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, lo = c == 0xe0 ? 0xa0 : lo, hi = c == 0xed ? 0x9f : hi;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, lo = c == 0xf0 ? 0x90 : lo, hi = c == 0xf4 ? 0x8f : hi;
    else
        return 0;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t k = 2; k < n; k++)
        if ((s[k] & 0xc0) != 0x80)
            return 0;
    return n;
}

/* After a cut at len bytes (s[len] is the NUL): drop a last character the
 * cut left incomplete, the lead byte that utf8_len no longer reads whole. */
static void utf8_trim_cut(char *s, size_t len)
{
    size_t j = len;
    while (j > 0 && len - j < 3 && ((unsigned char)s[j - 1] & 0xc0) == 0x80)
        j--;
    if (j > 0 && (unsigned char)s[j - 1] >= 0xc0 && utf8_len((const unsigned char *)s + j - 1) == 0)
        s[j - 1] = '\0';
}

sb_rc sb_fail(sb_err *err, sb_rc rc, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        const int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        if (n >= (int)sizeof err->msg)
            utf8_trim_cut(err->msg, sizeof err->msg - 1);
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
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0, o = 0;
    while (s[i]) {
        const size_t n = utf8_len(s + i), step = n ? n : 1;
        if (o + step >= len)
            break;
        if (n > 1)
            memcpy(buf + o, s + i, n);
        else
            buf[o] = n == 0 || s[i] < 0x20 || s[i] == 0x7f ? '?' : (char)s[i];
        o += step, i += step;
    }
    buf[o] = '\0';
    return buf;
}
