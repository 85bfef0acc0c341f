/* .npy reader and writer (see npy.h for the contract).
 *
 * saebench compares numbers bit for bit against references, so the reader
 * never rounds. It converts to float64 only what has an exact float64 image:
 * float64 and float32 values and integers of 1 to 8 bytes, in either byte
 * order and either memory order. Everything else is refused with a message
 * that says how to fix the file, rather than converted behind the user's
 * back: an 8-byte integer beyond 2^53, a NaN or an Inf (named by index), and
 * every other dtype (bool, float16, complex, strings, objects, records,
 * datetimes), which np.save can as easily write as float64. */
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

/* The writer, and the reader for '<f8' in C order, copy data bytes straight
 * between the file and double arrays, and the reader takes '=' (native) to
 * mean '<'; that is only right on a little-endian host with 8-byte IEEE
 * doubles. Refuse to build elsewhere when the compiler can tell us; otherwise
 * host_is_little_endian() catches it. */
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__)
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "npy.c assumes a little-endian host"
#endif
#endif
_Static_assert(sizeof(double) == 8, "npy.c assumes 8-byte doubles");

static const unsigned char NPY_MAGIC[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

/* A real header is about 120 bytes; the cap only stops a corrupt
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
    int64_t dims[3];   /* first three entries; more are only counted */
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
        if (h->ndim < 3)
            h->dims[h->ndim] = v;
        /* Saturate: only "more than three" matters, and it keeps an absurd
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
                               "%s: dtype is a structured (record) type, which "
                               "is not supported; save each field as its own "
                               "float64 array with np.save(path, "
                               "a[name].astype(np.float64))",
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

/* ---- dtypes -------------------------------------------------------------- */

typedef struct {
    char kind;   /* 'f' (IEEE float), 'i' (signed) or 'u' (unsigned) */
    size_t size; /* bytes per value: 4 or 8 for 'f'; 1, 2, 4 or 8 otherwise */
    int big;     /* big-endian in the file */
} dtype_info;

_Static_assert(sizeof(float) == 4, "npy.c assumes 4-byte floats");

/* What an unsupported descr holds, for the refusal; "" when it is no dtype
 * NumPy writes at all. */
static const char *dtype_what(const char *d, size_t len)
{
    if (len < 2)
        return "";
    switch (d[1]) {
    case 'b': return " (bool)";
    case 'f':
        if (len == 3 && d[2] == '2')
            return " (float16)";
        if (len == 4 && (memcmp(d + 2, "12", 2) == 0 ||
                         memcmp(d + 2, "16", 2) == 0))
            return " (long double)";
        return "";
    case 'c': return " (complex)";
    case 'S':
    case 'a': return " (byte string)";
    case 'U': return " (unicode string)";
    case 'O': return " (Python object)";
    case 'V': return " (raw bytes)";
    case 'M': return " (datetime)";
    case 'm': return " (timedelta)";
    default: return "";
    }
}

/* Accepts exactly "<kind><size>" behind a byte-order mark, as NumPy writes
 * it: f4 f8 i1 i2 i4 i8 u1 u2 u4 u8. */
static sb_rc parse_dtype(const char *d, size_t len, dtype_info *dt,
                         const char *path, sb_err *err)
{
    int w = (int)(len > 40 ? 40 : len);
    if (len == 3 && (d[0] == '<' || d[0] == '>' || d[0] == '=' ||
                     d[0] == '|')) {
        char kind = d[1];
        size_t size = d[2] >= '0' && d[2] <= '9' ? (size_t)(d[2] - '0') : 0;
        int known = kind == 'f' ? size == 4 || size == 8
                    : kind == 'i' || kind == 'u'
                        ? size == 1 || size == 2 || size == 4 || size == 8
                        : 0;
        if (known && d[0] == '|' && size != 1)
            return sb_fail(err, SB_E_INPUT,
                           "%s: dtype '%.*s' gives no byte order ('|' is only "
                           "for 1-byte types); save float64 with "
                           "np.save(path, a.astype(np.float64))",
                           path, w, d);
        if (known) {
            dt->kind = kind;
            dt->size = size;
            dt->big = d[0] == '>';
            return SB_OK;
        }
    }
    return sb_fail(err, SB_E_INPUT,
                   "%s: dtype '%.*s'%s is not supported; save float64 with "
                   "np.save(path, a.astype(np.float64))",
                   path, w, d, dtype_what(d, len));
}

/* The size bytes at p as an unsigned integer of that width, in the file's
 * byte order whatever the host's. */
static uint64_t load_bits(const unsigned char *p, size_t size, int big)
{
    uint64_t u = 0;
    for (size_t k = 0; k < size; k++)
        u |= (uint64_t)p[k] << (8 * (big ? size - 1 - k : k));
    return u;
}

/* Integers of magnitude up to 2^53 are exactly doubles; beyond it some are
 * not, and refusing all of them keeps the rule one line long. */
#define NPY_EXACT_INT ((uint64_t)1 << 53)

/* The first (lowest C-order index) 8-byte integer beyond NPY_EXACT_INT. */
typedef struct {
    int found;
    size_t index;
    char text[24]; /* its value in decimal */
} inexact_int;

/* One value as float64, or 0 with bad->text set when it has no exact
 * float64. */
static double load_value(const unsigned char *p, const dtype_info *dt,
                         inexact_int *bad)
{
    uint64_t u = load_bits(p, dt->size, dt->big);
    if (dt->kind == 'f') {
        if (dt->size == 8) {
            double d;
            memcpy(&d, &u, sizeof d);
            return d;
        }
        uint32_t u32 = (uint32_t)u;
        float f;
        memcpy(&f, &u32, sizeof f);
        return (double)f;
    }
    if (dt->kind == 'u') {
        if (u > NPY_EXACT_INT) {
            snprintf(bad->text, sizeof bad->text, "%llu",
                     (unsigned long long)u);
            return 0;
        }
        return (double)u;
    }
    unsigned bits = 8 * (unsigned)dt->size;
    if (bits < 64 && (u >> (bits - 1)) & 1)
        u |= ~(uint64_t)0 << bits; /* sign-extend */
    /* Two's complement without the implementation-defined cast. */
    int64_t v = u <= (uint64_t)INT64_MAX ? (int64_t)u : -(int64_t)~u - 1;
    if (v > (int64_t)NPY_EXACT_INT || v < -(int64_t)NPY_EXACT_INT) {
        snprintf(bad->text, sizeof bad->text, "%lld", (long long)v);
        return 0;
    }
    return (double)v;
}

/* Converts the values in raw (file order: C, or Fortran when fortran) into
 * data in C order. raw may be data itself when fortran is 0: the loop runs
 * from the last value down, and value i (bytes [i*size, (i+1)*size)) is read
 * before data[i] overwrites bytes [8i, 8i+8), which hold only values >= i.
 * Running backwards, the last inexact integer met is the first in C order. */
static void convert_values(const unsigned char *raw, const dtype_info *dt,
                           const int64_t shape[3], int fortran, double *data,
                           inexact_int *bad)
{
    size_t d0 = (size_t)shape[0], d1 = (size_t)shape[1],
           d2 = (size_t)shape[2];
    size_t i = d0 * d1 * d2;
    inexact_int one;
    for (size_t a = d0; a-- > 0;)
        for (size_t b = d1; b-- > 0;)
            for (size_t c = d2; c-- > 0;) {
                i--;
                size_t src = fortran ? a + d0 * (b + d1 * c) : i;
                one.text[0] = '\0';
                double v = load_value(raw + src * dt->size, dt, &one);
                if (one.text[0] != '\0') {
                    bad->found = 1;
                    bad->index = i;
                    memcpy(bad->text, one.text, sizeof bad->text);
                }
                data[i] = v;
            }
}

/* Where C-order index i lies, for messages: "" for 1-D, " (row r, col c)"
 * for 2-D, " (position [i, j, k])" for 3-D. */
static void format_where(char *buf, size_t n, size_t i, int ndim,
                         const int64_t shape[3])
{
    size_t d1 = (size_t)shape[1], d2 = (size_t)shape[2];
    if (ndim == 2)
        snprintf(buf, n, " (row %zu, col %zu)", i / d1, i % d1);
    else if (ndim == 3)
        snprintf(buf, n, " (position [%zu, %zu, %zu])", i / (d1 * d2),
                 i / d2 % d1, i % d2);
    else
        buf[0] = '\0';
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
    unsigned char *raw = NULL;

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

    /* A NumPy header is pure ASCII; anything else (including a NUL, which
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

    dtype_info dt = {0};
    if ((rc = parse_dtype(h.descr, h.descr_len, &dt, path, err)) != SB_OK)
        goto done;
    int shape_w = (int)(h.shape_len > 80 ? 80 : h.shape_len);
    if (h.ndim == 0 || h.ndim > 3) {
        rc = sb_fail(err, SB_E_INPUT,
                     "%s: shape %.*s is %d-D; only 1-D, 2-D or 3-D arrays "
                     "are accepted",
                     path, shape_w, h.shape_txt, h.ndim);
        goto done;
    }
    if (expect_ndim != 0 && h.ndim != expect_ndim) {
        rc = sb_fail(err, SB_E_INPUT,
                     "%s: expected a %d-D array, found %d-D with shape %.*s",
                     path, expect_ndim, h.ndim, shape_w, h.shape_txt);
        goto done;
    }
    int64_t shape[3] = {1, 1, 1};
    for (int k = 0; k < h.ndim; k++) {
        shape[k] = h.dims[k];
        if (shape[k] == 0) {
            rc = sb_fail(err, SB_E_INPUT,
                         "%s: shape %.*s has a zero extent; empty arrays are "
                         "not accepted",
                         path, shape_w, h.shape_txt);
            goto done;
        }
    }

    /* count values: nbytes in the file, dbytes as doubles. */
    size_t count = 1, nbytes, dbytes;
    int fits = 1;
    for (int k = 0; k < 3 && fits; k++)
        fits = (uint64_t)shape[k] <= SIZE_MAX &&
               sb_mul_ok(count, (size_t)shape[k], &count);
    if (!fits || !sb_mul_ok(count, sizeof(double), &dbytes)) {
        rc = sb_fail(err, SB_E_INPUT,
                     "%s: shape %.*s is too large: its size in bytes "
                     "overflows",
                     path, shape_w, h.shape_txt);
        goto done;
    }
    nbytes = count * dt.size; /* <= dbytes */

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
    /* Fortran order needs the file's values apart while they are reordered;
     * C order converts in place (convert_values). */
    int fortran = h.fortran && h.ndim > 1;
    if (data && fortran)
        raw = sb_alloc(nbytes, 1, err);
    if (!data || (fortran && !raw)) {
        rc = sb_fail(err, SB_E_INPUT,
                     "%s: out of memory: cannot allocate %zu bytes for shape "
                     "%.*s",
                     path, fortran ? dbytes + nbytes : dbytes, shape_w,
                     h.shape_txt);
        goto done;
    }
    unsigned char *dst = fortran ? raw : (unsigned char *)data;
    if ((rc = read_exact(f, dst, dt.size, count, path, "data", err)) !=
        SB_OK)
        goto done;
    /* The file may have grown since fstat. */
    if (fgetc(f) != EOF) {
        rc = sb_fail(err, SB_E_INPUT,
                     "%s: trailing bytes after the %zu data bytes (file "
                     "changed while reading?)",
                     path, nbytes);
        goto done;
    }

    /* '<f8' in C order is already what data must hold. */
    inexact_int bad = {0};
    if (fortran || dt.kind != 'f' || dt.size != 8 || dt.big)
        convert_values(dst, &dt, shape, fortran, data, &bad);

    char where[64];
    if (bad.found) {
        format_where(where, sizeof where, bad.index, h.ndim, shape);
        rc = sb_fail(err, SB_E_INPUT,
                     "%s: integer %s at index %zu%s is beyond 2^53 in "
                     "magnitude and has no exact float64; convert with "
                     "a.astype(np.float64) if rounding it is acceptable",
                     path, bad.text, bad.index, where);
        goto done;
    }
    for (size_t i = 0; dt.kind == 'f' && i < count; i++) {
        double v = data[i];
        if (isfinite(v))
            continue;
        const char *what = isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf";
        format_where(where, sizeof where, i, h.ndim, shape);
        rc = sb_fail(err, SB_E_INPUT, "%s: %s at index %zu%s", path, what, i,
                     where);
        goto done;
    }

    out->ndim = h.ndim;
    memcpy(out->shape, shape, sizeof shape);
    out->data = data;
    memcpy(out->dtype, h.descr, h.descr_len); /* 3 characters: parse_dtype */
    out->dtype[h.descr_len] = '\0';
    out->integer = dt.kind != 'f';
    data = NULL;

done:
    free(raw);
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
    if (expect_ndim < 0 || expect_ndim > 3)
        return sb_fail(err, SB_E_INPUT,
                       "%s: internal error: expect_ndim %d is not 0, 1, 2 or "
                       "3",
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

int64_t sb_npy_count(const sb_npy *a)
{
    if (!a || a->ndim < 1)
        return 0;
    return a->shape[0] * a->shape[1] * a->shape[2];
}

/* ---- writing ----------------------------------------------------------- */

/* Bytes of a C-order float64 array of the given extents (each >= 1); 0 when
 * that overflows size_t. */
static size_t f8_bytes(int ndim, const int64_t dims[3])
{
    size_t count = 1, nbytes;
    for (int k = 0; k < ndim; k++)
        if ((uint64_t)dims[k] > SIZE_MAX ||
            !sb_mul_ok(count, (size_t)dims[k], &count))
            return 0;
    return sb_mul_ok(count, sizeof(double), &nbytes) ? nbytes : 0;
}

/* Header and data of a '<f8' C-order array whose extents the caller has
 * checked (all >= 1, nbytes from f8_bytes). */
static sb_rc write_f8(const char *path, const double *data, int ndim,
                      const int64_t dims[3], size_t nbytes, sb_err *err)
{
    if (!host_is_little_endian())
        return sb_fail(err, SB_E_INPUT,
                       "cannot write %s: big-endian host is not supported",
                       path);
    char tuple[80];
    if (ndim == 1)
        snprintf(tuple, sizeof tuple, "(%lld,)", (long long)dims[0]);
    else if (ndim == 2)
        snprintf(tuple, sizeof tuple, "(%lld, %lld)", (long long)dims[0],
                 (long long)dims[1]);
    else
        snprintf(tuple, sizeof tuple, "(%lld, %lld, %lld)",
                 (long long)dims[0], (long long)dims[1], (long long)dims[2]);

    /* Same text NumPy writes, so files diff cleanly against np.save output.
     * Three 19-digit extents keep this under 128 bytes: one 128-byte
     * block. */
    char head[256];
    memcpy(head, NPY_MAGIC, sizeof NPY_MAGIC);
    head[6] = 1;
    head[7] = 0;
    int dict_len = snprintf(head + 10, sizeof head - 10,
                            "{'descr': '<f8', 'fortran_order': False, "
                            "'shape': %s, }",
                            tuple);
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

sb_rc sb_npy_write(const char *path, const double *data, int64_t rows,
                   int64_t cols, sb_err *err)
{
    if (!path)
        return sb_fail(err, SB_E_INPUT, "sb_npy_write: NULL path");
    if (!data)
        return sb_fail(err, SB_E_INPUT, "cannot write %s: no data", path);
    /* The reader refuses empty arrays, so never produce one. */
    if (rows < 1 || cols < 0)
        return sb_fail(err, SB_E_INPUT,
                       "cannot write %s: invalid shape (%lld, %lld); extents "
                       "must be positive",
                       path, (long long)rows, (long long)cols);
    const int64_t dims[3] = {rows, cols, 1};
    int ndim = cols == 0 ? 1 : 2;
    size_t nbytes = f8_bytes(ndim, dims);
    if (nbytes == 0)
        return sb_fail(err, SB_E_INPUT,
                       "cannot write %s: shape (%lld, %lld) is too large",
                       path, (long long)rows, (long long)cols);
    return write_f8(path, data, ndim, dims, nbytes, err);
}

sb_rc sb_npy_write3(const char *path, const double *data, int64_t d0,
                    int64_t d1, int64_t d2, sb_err *err)
{
    if (!path)
        return sb_fail(err, SB_E_INPUT, "sb_npy_write3: NULL path");
    if (!data)
        return sb_fail(err, SB_E_INPUT, "cannot write %s: no data", path);
    if (d0 < 1 || d1 < 1 || d2 < 1)
        return sb_fail(err, SB_E_INPUT,
                       "cannot write %s: invalid shape (%lld, %lld, %lld); "
                       "extents must be positive",
                       path, (long long)d0, (long long)d1, (long long)d2);
    const int64_t dims[3] = {d0, d1, d2};
    size_t nbytes = f8_bytes(3, dims);
    if (nbytes == 0)
        return sb_fail(err, SB_E_INPUT,
                       "cannot write %s: shape (%lld, %lld, %lld) is too large",
                       path, (long long)d0, (long long)d1, (long long)d2);
    return write_f8(path, data, 3, dims, nbytes, err);
}

void sb_npy_free(sb_npy *a)
{
    if (!a)
        return;
    free(a->data);
    memset(a, 0, sizeof *a);
}
