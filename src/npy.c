/* .npy reader and writer (see npy.h for the contract).
 *
 * The reader is deliberately strict: saebench compares numbers bit for bit
 * against references, so anything it cannot read exactly as little-endian,
 * C-ordered float64 is refused with a message that says how to fix the file,
 * rather than converted behind the user's back. */
#include "npy.h"
#include "safe_io.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* Data bytes are copied straight into double arrays, which is only right on a
 * little-endian host with 8-byte IEEE doubles. Refuse to build elsewhere when
 * the compiler can tell us; otherwise host_is_little_endian() catches it. */
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__)
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "npy.c assumes a little-endian host"
#endif
#endif
_Static_assert(sizeof(double) == 8, "npy.c assumes 8-byte doubles");

static const unsigned char NPY_MAGIC[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

/* A real '<f8' header is about 120 bytes; the cap only stops a corrupt
 * length field from making us allocate gigabytes before failing. */
#define NPY_MAX_HEADER (1u << 20)

/* Only the writer's alignment; readers accept any header length. */
#define NPY_ALIGN 64

static int host_is_little_endian(void)
{
    const uint16_t probe = 1;
    unsigned char first;
    memcpy(&first, &probe, 1);
    return first == 1;
}

/* ---- header dict parsing ------------------------------------------------
 * The header is a Python dict literal. We accept exactly the three keys NumPy
 * writes, in any order, with any Python whitespace, but nothing that would
 * need a real Python evaluator (escapes, expressions, comments). */

typedef struct {
    const char *s; /* NUL-terminated header text */
    size_t pos;
} cursor;

typedef struct {
    int have_descr, have_fortran, have_shape;
    const char *descr; /* points into the header text, not terminated */
    size_t descr_len;
    int fortran;
    int ndim;          /* number of entries in the shape tuple */
    int64_t dims[2];   /* first two entries; more are only counted */
    const char *shape_txt; /* the tuple as written, for messages */
    size_t shape_len;
} header_info;

static int is_py_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
}

static void skip_ws(cursor *c)
{
    while (is_py_space(c->s[c->pos]))
        c->pos++;
}

/* Quotes the start of the header; read_open has already made it printable
 * single-line ASCII, so it is safe to echo. */
static sb_rc malformed(sb_err *err, const char *path, const cursor *c,
                       const char *what)
{
    size_t n = strlen(c->s);
    while (n > 0 && c->s[n - 1] == ' ')
        n--; /* the padding only adds noise */
    if (n > 60)
        n = 60;
    return sb_fail(err, SB_E_INPUT,
                   "%s: malformed header: %s at offset %zu in \"%.*s\"", path,
                   what, c->pos, (int)n, c->s);
}

/* Python string literal without escapes; str and len get its contents. */
static sb_rc parse_string(cursor *c, const char **str, size_t *len,
                          const char *path, sb_err *err)
{
    char q = c->s[c->pos];
    if (q != '\'' && q != '"')
        return malformed(err, path, c, "expected a quoted string");
    size_t start = c->pos + 1;
    size_t i = start;
    while (c->s[i] != '\0' && c->s[i] != q) {
        if (c->s[i] == '\\') {
            c->pos = i;
            return malformed(err, path, c,
                             "escape sequences in strings are not supported");
        }
        i++;
    }
    if (c->s[i] != q)
        return malformed(err, path, c, "unterminated string");
    *str = c->s + start;
    *len = i - start;
    c->pos = i + 1;
    return SB_OK;
}

static sb_rc parse_bool(cursor *c, int *out, const char *path, sb_err *err)
{
    const char *p = c->s + c->pos;
    size_t n = 0;
    while ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z') ||
           (p[n] >= '0' && p[n] <= '9') || p[n] == '_')
        n++;
    if (n == 4 && memcmp(p, "True", 4) == 0)
        *out = 1;
    else if (n == 5 && memcmp(p, "False", 5) == 0)
        *out = 0;
    else
        return malformed(err, path, c,
                         "'fortran_order' must be True or False");
    c->pos += n;
    return SB_OK;
}

/* Non-negative decimal extent. The 'L' suffix is what Python 2 era NumPy
 * wrote for longs, and such files are still around. */
static sb_rc parse_extent(cursor *c, int64_t *out, const char *path,
                          sb_err *err)
{
    const char *p = c->s;
    if (p[c->pos] == '-')
        return sb_fail(err, SB_E_INPUT,
                       "%s: shape has a negative extent at header offset %zu",
                       path, c->pos);
    if (p[c->pos] < '0' || p[c->pos] > '9')
        return malformed(err, path, c, "expected an integer extent in shape");
    int64_t v = 0;
    while (p[c->pos] >= '0' && p[c->pos] <= '9') {
        int d = p[c->pos] - '0';
        if (v > (INT64_MAX - d) / 10)
            return sb_fail(err, SB_E_INPUT,
                           "%s: shape extent at header offset %zu does not "
                           "fit in 64 bits",
                           path, c->pos);
        v = v * 10 + d;
        c->pos++;
    }
    if (p[c->pos] == 'L' || p[c->pos] == 'l')
        c->pos++;
    *out = v;
    return SB_OK;
}

/* "(a, b, ...)" with an optional trailing comma; "()" is 0-D. */
static sb_rc parse_shape(cursor *c, header_info *h, const char *path,
                         sb_err *err)
{
    sb_rc rc;
    if (c->s[c->pos] != '(')
        return malformed(err, path, c, "'shape' must be a tuple");
    size_t start = c->pos;
    c->pos++;
    h->ndim = 0;
    skip_ws(c);
    while (c->s[c->pos] != ')') {
        int64_t v = 0;
        if ((rc = parse_extent(c, &v, path, err)) != SB_OK)
            return rc;
        if (h->ndim < 2)
            h->dims[h->ndim] = v;
        /* Saturate: only "more than two" matters, and it keeps an absurd
         * tuple from overflowing the counter. */
        if (h->ndim < 1000)
            h->ndim++;
        skip_ws(c);
        if (c->s[c->pos] == ',') {
            c->pos++;
            skip_ws(c);
        } else if (c->s[c->pos] != ')') {
            return malformed(err, path, c, "expected ',' or ')' in shape");
        }
    }
    c->pos++;
    h->shape_txt = c->s + start;
    h->shape_len = c->pos - start;
    return SB_OK;
}

static sb_rc parse_header(const char *text, header_info *h, const char *path,
                          sb_err *err)
{
    cursor c = {text, 0};
    sb_rc rc;
    memset(h, 0, sizeof *h);

    skip_ws(&c);
    if (text[c.pos] != '{')
        return malformed(err, path, &c, "expected '{'");
    c.pos++;
    for (;;) {
        skip_ws(&c);
        if (text[c.pos] == '}')
            break;
        const char *key;
        size_t klen;
        size_t key_pos = c.pos;
        if ((rc = parse_string(&c, &key, &klen, path, err)) != SB_OK)
            return rc;
        skip_ws(&c);
        if (text[c.pos] != ':')
            return malformed(err, path, &c, "expected ':' after key");
        c.pos++;
        skip_ws(&c);

        int *seen;
        if (klen == 5 && memcmp(key, "descr", 5) == 0) {
            seen = &h->have_descr;
        } else if (klen == 13 && memcmp(key, "fortran_order", 13) == 0) {
            seen = &h->have_fortran;
        } else if (klen == 5 && memcmp(key, "shape", 5) == 0) {
            seen = &h->have_shape;
        } else {
            return sb_fail(err, SB_E_INPUT,
                           "%s: malformed header: unexpected key '%.*s' "
                           "(only 'descr', 'fortran_order', 'shape' allowed)",
                           path, (int)(klen > 40 ? 40 : klen), key);
        }
        if (*seen) {
            c.pos = key_pos;
            return malformed(err, path, &c, "duplicate key");
        }
        *seen = 1;

        if (seen == &h->have_descr) {
            if (text[c.pos] == '[')
                return sb_fail(err, SB_E_INPUT,
                               "%s: dtype is a structured (record) type, not "
                               "float64 ('<f8')",
                               path);
            rc = parse_string(&c, &h->descr, &h->descr_len, path, err);
        } else if (seen == &h->have_fortran) {
            rc = parse_bool(&c, &h->fortran, path, err);
        } else {
            rc = parse_shape(&c, h, path, err);
        }
        if (rc != SB_OK)
            return rc;

        skip_ws(&c);
        if (text[c.pos] == ',') {
            c.pos++;
        } else if (text[c.pos] != '}') {
            return malformed(err, path, &c, "expected ',' or '}'");
        }
    }
    c.pos++;
    skip_ws(&c);
    if (text[c.pos] != '\0')
        return malformed(err, path, &c, "unexpected text after '}'");

    if (!h->have_descr || !h->have_fortran || !h->have_shape)
        return sb_fail(err, SB_E_INPUT, "%s: malformed header: missing key '%s'",
                       path,
                       !h->have_descr     ? "descr"
                       : !h->have_fortran ? "fortran_order"
                                          : "shape");
    return SB_OK;
}

/* ---- reading ----------------------------------------------------------- */

/* fread that tells a read error from a file that shrank under us. */
static sb_rc read_exact(FILE *f, void *buf, size_t size, size_t count,
                        const char *path, const char *what, sb_err *err)
{
    errno = 0;
    size_t got = fread(buf, size, count, f);
    if (got == count)
        return SB_OK;
    if (ferror(f))
        return sb_fail(err, SB_E_INPUT, "%s: read error in %s: %s", path, what,
                       strerror(errno ? errno : EIO));
    return sb_fail(err, SB_E_INPUT,
                   "%s: truncated: file ended inside the %s", path, what);
}

/* Everything after fopen, so that sb_npy_read opens and closes the FILE in
 * one place. Fills out only on success; out then owns the array. */
static sb_rc read_open(FILE *f, const char *path, int expect_ndim,
                       sb_npy *out, sb_err *err)
{
    sb_rc rc = SB_OK;
    char *hdr = NULL;
    double *data = NULL;

    struct stat st;
    if (fstat(fileno(f), &st) != 0)
        return sb_fail(err, SB_E_INPUT, "%s: cannot stat: %s", path,
                       strerror(errno));
    /* The size checks below rely on st_size, which means nothing for pipes
     * and devices. */
    if (!S_ISREG(st.st_mode))
        return sb_fail(err, SB_E_INPUT, "%s: not a regular file", path);
    uint64_t fsize = (uint64_t)st.st_size;

    unsigned char pre[12];
    size_t want = fsize < 10 ? (size_t)fsize : 10;
    if ((rc = read_exact(f, pre, 1, want, path, "preamble", err)) != SB_OK)
        return rc;
    if (want < sizeof NPY_MAGIC || memcmp(pre, NPY_MAGIC, sizeof NPY_MAGIC))
        return sb_fail(err, SB_E_INPUT,
                       "%s: not a .npy file (bad magic; expected "
                       "\"\\x93NUMPY\")",
                       path);
    if (want < 10)
        return sb_fail(err, SB_E_INPUT,
                       "%s: truncated: file is only %llu bytes, too short "
                       "for a .npy preamble",
                       path, (unsigned long long)fsize);

    unsigned major = pre[6], minor = pre[7];
    size_t preamble;
    uint64_t hlen;
    if (major == 1 && minor == 0) {
        preamble = 10;
        hlen = (uint64_t)pre[8] | (uint64_t)pre[9] << 8;
    } else if ((major == 2 || major == 3) && minor == 0) {
        preamble = 12;
        if (fsize < preamble)
            return sb_fail(err, SB_E_INPUT,
                           "%s: truncated: file is only %llu bytes, too short "
                           "for a version %u.0 preamble",
                           path, (unsigned long long)fsize, major);
        if ((rc = read_exact(f, pre + 10, 1, 2, path, "preamble", err)) !=
            SB_OK)
            return rc;
        hlen = (uint64_t)pre[8] | (uint64_t)pre[9] << 8 |
               (uint64_t)pre[10] << 16 | (uint64_t)pre[11] << 24;
    } else {
        return sb_fail(err, SB_E_INPUT,
                       "%s: unsupported .npy format version %u.%u (expected "
                       "1.0, 2.0 or 3.0)",
                       path, major, minor);
    }

    if (hlen > fsize - preamble)
        return sb_fail(err, SB_E_INPUT,
                       "%s: header length %llu runs past the end of the file "
                       "(only %llu bytes follow the preamble)",
                       path, (unsigned long long)hlen,
                       (unsigned long long)(fsize - preamble));
    if (hlen == 0)
        return sb_fail(err, SB_E_INPUT, "%s: malformed header: length is 0",
                       path);
    if (hlen > NPY_MAX_HEADER)
        return sb_fail(err, SB_E_INPUT,
                       "%s: header length %llu is implausibly large (limit %u)",
                       path, (unsigned long long)hlen, NPY_MAX_HEADER);

    hdr = sb_alloc((size_t)hlen + 1, 1, err);
    if (!hdr)
        return sb_fail(err, SB_E_INPUT, "%s: out of memory reading header",
                       path);
    if ((rc = read_exact(f, hdr, 1, (size_t)hlen, path, "header", err)) !=
        SB_OK)
        goto done;
    hdr[hlen] = '\0';

    /* A '<f8' header is pure ASCII; anything else (including a NUL, which
     * would silently end the parse) means a corrupt or foreign file.
     * Folding all whitespace to ' ' changes nothing Python would see outside
     * strings, and lets messages quote the header on a single line. */
    for (size_t i = 0; i < (size_t)hlen; i++) {
        unsigned char ch = (unsigned char)hdr[i];
        if (is_py_space((char)ch)) {
            hdr[i] = ' ';
        } else if (ch < 0x20 || ch > 0x7e) {
            rc = sb_fail(err, SB_E_INPUT,
                         "%s: malformed header: byte 0x%02x at offset %zu is "
                         "not printable ASCII",
                         path, ch, i);
            goto done;
        }
    }

    header_info h;
    if ((rc = parse_header(hdr, &h, path, err)) != SB_OK)
        goto done;

    if (!(h.descr_len == 3 && memcmp(h.descr, "<f8", 3) == 0)) {
        if (h.descr_len == 3 && memcmp(h.descr, ">f8", 3) == 0)
            rc = sb_fail(err, SB_E_INPUT,
                         "%s: dtype '>f8' is big-endian; saebench needs "
                         "little-endian float64 ('<f8'); convert with "
                         "a.astype('<f8')",
                         path);
        else
            rc = sb_fail(err, SB_E_INPUT,
                         "%s: dtype '%.*s' is not float64 ('<f8')", path,
                         (int)(h.descr_len > 40 ? 40 : h.descr_len), h.descr);
        goto done;
    }
    if (h.fortran) {
        rc = sb_fail(err, SB_E_INPUT,
                     "%s: fortran_order arrays are not accepted; save with "
                     "np.ascontiguousarray",
                     path);
        goto done;
    }
    int shape_w = (int)(h.shape_len > 80 ? 80 : h.shape_len);
    if (h.ndim == 0 || h.ndim > 2) {
        rc = sb_fail(err, SB_E_INPUT,
                     "%s: shape %.*s is %d-D; only 1-D or 2-D arrays are "
                     "accepted",
                     path, shape_w, h.shape_txt, h.ndim);
        goto done;
    }
    if (expect_ndim != 0 && h.ndim != expect_ndim) {
        rc = sb_fail(err, SB_E_INPUT,
                     "%s: expected a %d-D array, found %d-D with shape %.*s",
                     path, expect_ndim, h.ndim, shape_w, h.shape_txt);
        goto done;
    }
    int64_t rows = h.dims[0];
    int64_t cols = h.ndim == 2 ? h.dims[1] : 1;
    if (rows == 0 || cols == 0) {
        rc = sb_fail(err, SB_E_INPUT,
                     "%s: shape %.*s has a zero extent; empty arrays are not "
                     "accepted",
                     path, shape_w, h.shape_txt);
        goto done;
    }

    size_t count, nbytes;
#if SIZE_MAX < INT64_MAX
    if ((uint64_t)rows > SIZE_MAX || (uint64_t)cols > SIZE_MAX) {
        rc = sb_fail(err, SB_E_INPUT,
                     "%s: shape %.*s is too large: rows*cols*8 overflows",
                     path, shape_w, h.shape_txt);
        goto done;
    }
#endif
    if (!sb_mul_ok((size_t)rows, (size_t)cols, &count) ||
        !sb_mul_ok(count, sizeof(double), &nbytes)) {
        rc = sb_fail(err, SB_E_INPUT,
                     "%s: shape %.*s is too large: rows*cols*8 overflows",
                     path, shape_w, h.shape_txt);
        goto done;
    }

    /* Checked against the file size before allocating, so a corrupt shape
     * reports "truncated" instead of exhausting memory. */
    uint64_t avail = fsize - preamble - hlen;
    if (avail < (uint64_t)nbytes) {
        rc = sb_fail(err, SB_E_INPUT,
                     "%s: truncated: expected %zu data bytes, found %llu",
                     path, nbytes, (unsigned long long)avail);
        goto done;
    }
    if (avail > (uint64_t)nbytes) {
        rc = sb_fail(err, SB_E_INPUT,
                     "%s: %llu trailing bytes after the %zu data bytes of "
                     "shape %.*s",
                     path, (unsigned long long)(avail - nbytes), nbytes,
                     shape_w, h.shape_txt);
        goto done;
    }

    data = sb_alloc(count, sizeof(double), err);
    if (!data) {
        rc = sb_fail(err, SB_E_INPUT,
                     "%s: out of memory: cannot allocate %zu bytes for shape "
                     "%.*s",
                     path, nbytes, shape_w, h.shape_txt);
        goto done;
    }
    if ((rc = read_exact(f, data, sizeof(double), count, path, "data",
                         err)) != SB_OK)
        goto done;
    /* The file may have grown since fstat. */
    if (fgetc(f) != EOF) {
        rc = sb_fail(err, SB_E_INPUT,
                     "%s: trailing bytes after the %zu data bytes (file "
                     "changed while reading?)",
                     path, nbytes);
        goto done;
    }

    for (size_t i = 0; i < count; i++) {
        double v = data[i];
        if (isfinite(v))
            continue;
        const char *what = isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf";
        if (h.ndim == 2)
            rc = sb_fail(err, SB_E_INPUT,
                         "%s: %s at index %zu (row %zu, col %zu)", path, what,
                         i, i / (size_t)cols, i % (size_t)cols);
        else
            rc = sb_fail(err, SB_E_INPUT, "%s: %s at index %zu", path, what,
                         i);
        goto done;
    }

    out->ndim = h.ndim;
    out->shape[0] = rows;
    out->shape[1] = cols;
    out->data = data;
    data = NULL;

done:
    free(data);
    free(hdr);
    return rc;
}

sb_rc sb_npy_read(const char *path, int expect_ndim, sb_npy *out, sb_err *err)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!path || !out)
        return sb_fail(err, SB_E_INPUT, "sb_npy_read: NULL %s",
                       !path ? "path" : "output");
    if (expect_ndim < 0 || expect_ndim > 2)
        return sb_fail(err, SB_E_INPUT,
                       "%s: internal error: expect_ndim %d is not 0, 1 or 2",
                       path, expect_ndim);
    if (!host_is_little_endian())
        return sb_fail(err, SB_E_INPUT,
                       "%s: cannot read .npy on a big-endian host", path);

    FILE *f = NULL;
    int e = sb_open_regular(path, &f);
    if (e < 0)
        return sb_fail(err, SB_E_INPUT, "%s: not a regular file", path);
    if (e > 0)
        return sb_fail(err, SB_E_INPUT, "%s: cannot open: %s", path,
                       strerror(e));
    sb_rc rc = read_open(f, path, expect_ndim, out, err);
    /* Nothing was written, so a close error cannot lose data. */
    (void)fclose(f);
    return rc;
}

/* ---- writing ----------------------------------------------------------- */

sb_rc sb_npy_write(const char *path, const double *data, int64_t rows,
                   int64_t cols, sb_err *err)
{
    if (!path)
        return sb_fail(err, SB_E_INPUT, "sb_npy_write: NULL path");
    if (!data)
        return sb_fail(err, SB_E_INPUT, "cannot write %s: no data", path);
    if (!host_is_little_endian())
        return sb_fail(err, SB_E_INPUT,
                       "cannot write %s: big-endian host is not supported",
                       path);
    /* The reader refuses empty arrays, so never produce one. */
    if (rows < 1 || cols < 0)
        return sb_fail(err, SB_E_INPUT,
                       "cannot write %s: invalid shape (%lld, %lld); extents "
                       "must be positive",
                       path, (long long)rows, (long long)cols);

    size_t count, nbytes;
#if SIZE_MAX < INT64_MAX
    if ((uint64_t)rows > SIZE_MAX || (uint64_t)cols > SIZE_MAX)
        return sb_fail(err, SB_E_INPUT,
                       "cannot write %s: shape (%lld, %lld) is too large",
                       path, (long long)rows, (long long)cols);
#endif
    if (!sb_mul_ok((size_t)rows, cols == 0 ? 1 : (size_t)cols, &count) ||
        !sb_mul_ok(count, sizeof(double), &nbytes))
        return sb_fail(err, SB_E_INPUT,
                       "cannot write %s: shape (%lld, %lld) is too large",
                       path, (long long)rows, (long long)cols);

    /* Same text NumPy writes, so files diff cleanly against np.save output.
     * Two 19-digit extents keep this under 120 bytes: one 128-byte block. */
    char head[256];
    memcpy(head, NPY_MAGIC, sizeof NPY_MAGIC);
    head[6] = 1;
    head[7] = 0;
    int dict_len;
    if (cols == 0)
        dict_len = snprintf(head + 10, sizeof head - 10,
                            "{'descr': '<f8', 'fortran_order': False, "
                            "'shape': (%lld,), }",
                            (long long)rows);
    else
        dict_len = snprintf(head + 10, sizeof head - 10,
                            "{'descr': '<f8', 'fortran_order': False, "
                            "'shape': (%lld, %lld), }",
                            (long long)rows, (long long)cols);
    /* +1 for the '\n' that must end the padded header. */
    size_t total = 10 + (size_t)dict_len + 1;
    total = (total + NPY_ALIGN - 1) / NPY_ALIGN * NPY_ALIGN;
    size_t hlen = total - 10;
    memset(head + 10 + dict_len, ' ', hlen - (size_t)dict_len - 1);
    head[total - 1] = '\n';
    head[8] = (char)(hlen & 0xff);
    head[9] = (char)(hlen >> 8);

    sb_wpart parts[2] = {{head, total}, {data, nbytes}};
    return sb_write_parts(path, parts, 2, err);
}

void sb_npy_free(sb_npy *a)
{
    if (!a)
        return;
    free(a->data);
    a->data = NULL;
    a->ndim = 0;
    a->shape[0] = a->shape[1] = 0;
}
