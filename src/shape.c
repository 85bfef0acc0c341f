#include "shape.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safe_io.h"

typedef enum { F_STRING, F_INT, F_REAL, F_SEED, F_WORKLOADS } field_type;

/* One row per allowed key. 'needs' lists the workloads that require it,
 * 'allows' those that accept it; a key outside 'allows' of every workload the
 * shape serves is an error, so a typo cannot silently keep a default. */
typedef struct field {
    const char *key;
    field_type type;
    unsigned needs, allows;
    size_t offset;
    double lo, hi;   /* inclusive range for numbers */
} field;

#define ALL_WL (SB_WL_RESIDENT_SOLVE | SB_WL_INNER_LOOP | SB_WL_OUTER_SEQ | SB_WL_MULTIPLEX | SB_WL_ENCODE)
#define ARROW_WL (SB_WL_INNER_LOOP | SB_WL_OUTER_SEQ | SB_WL_MULTIPLEX)
/* Dimensions stay within int so they pass to BLAS/cuBLAS unchanged. */
#define DIM_MAX 2147483647.0

static const field FIELDS[] = {
    {"name", F_STRING, ALL_WL, ALL_WL, offsetof(sb_shape, name), 0, 0},
    {"workloads", F_WORKLOADS, ALL_WL, ALL_WL, offsetof(sb_shape, workloads), 0, 0},
    {"description", F_STRING, 0, ALL_WL, offsetof(sb_shape, description), 0, 0},
    {"n", F_INT, SB_WL_RESIDENT_SOLVE | SB_WL_INNER_LOOP | SB_WL_OUTER_SEQ | SB_WL_ENCODE, ALL_WL, offsetof(sb_shape, n), 1, DIM_MAX},
    {"p", F_INT, SB_WL_RESIDENT_SOLVE | SB_WL_INNER_LOOP | SB_WL_OUTER_SEQ | SB_WL_ENCODE, ALL_WL, offsetof(sb_shape, p), 1, DIM_MAX},
    {"d", F_INT, SB_WL_INNER_LOOP | SB_WL_OUTER_SEQ | SB_WL_ENCODE, ARROW_WL | SB_WL_ENCODE, offsetof(sb_shape, d), 1, 64},
    {"basis_cols", F_INT, SB_WL_INNER_LOOP | SB_WL_OUTER_SEQ, ARROW_WL, offsetof(sb_shape, basis_cols), 1, 4096},
    {"ridge", F_REAL, SB_WL_RESIDENT_SOLVE, SB_WL_RESIDENT_SOLVE, offsetof(sb_shape, ridge), 1e-300, 1e300},
    {"seed", F_SEED, SB_WL_RESIDENT_SOLVE | SB_WL_INNER_LOOP | SB_WL_OUTER_SEQ | SB_WL_ENCODE, ALL_WL, offsetof(sb_shape, seed), 0, 0},
    {"reps", F_INT, 0, ALL_WL, offsetof(sb_shape, reps), 1, 1000000},
    {"warmup", F_INT, 0, ALL_WL, offsetof(sb_shape, warmup), 0, 1000000},
    {"outers", F_INT, 0, SB_WL_OUTER_SEQ, offsetof(sb_shape, outers), 1, 1000000},
    {"matrix", F_STRING, SB_WL_MULTIPLEX, SB_WL_MULTIPLEX, offsetof(sb_shape, matrix), 0, 0},
    {"degree", F_INT, SB_WL_ENCODE, SB_WL_ENCODE, offsetof(sb_shape, degree), 1, 16},
    {"atoms", F_INT, SB_WL_ENCODE, SB_WL_ENCODE, offsetof(sb_shape, atoms), 1, 2147483647.0},
    {"basis", F_STRING, SB_WL_ENCODE, SB_WL_ENCODE, offsetof(sb_shape, basis), 0, 0},
    {"gate", F_STRING, SB_WL_ENCODE, SB_WL_ENCODE, offsetof(sb_shape, gate), 0, 0},
    {"noise", F_REAL, 0, SB_WL_ENCODE, offsetof(sb_shape, noise), 0, 1e6},
    {"htt_shift", F_REAL, 0, ARROW_WL, offsetof(sb_shape, htt_shift), -1e12, 1e12},
    {"residency_min", F_REAL, 0, SB_WL_INNER_LOOP | SB_WL_OUTER_SEQ, offsetof(sb_shape, residency_min), 1e-300, 1e300},
    {"max_iterations", F_INT, 0, ARROW_WL, offsetof(sb_shape, max_iterations), 1, 1000},
    {"target_solve_ms", F_REAL, 0, SB_WL_INNER_LOOP, offsetof(sb_shape, target_solve_ms), 1e-300, 1e300},
};
#define NFIELDS (sizeof FIELDS / sizeof FIELDS[0])

static const struct {
    const char *name;
    unsigned bit;
} WORKLOADS[] = {
    {"resident-solve", SB_WL_RESIDENT_SOLVE}, {"inner-loop", SB_WL_INNER_LOOP},
    {"outer-seq", SB_WL_OUTER_SEQ},           {"multiplex", SB_WL_MULTIPLEX},
    {"encode", SB_WL_ENCODE},
};
#define NWORKLOADS (sizeof WORKLOADS / sizeof WORKLOADS[0])


static sb_rc parse_shape(const char *text, size_t len, const char *origin, int of_data, sb_shape *out, sb_err *err);

sb_rc sb_shape_from_json(struct cJSON *j, const char *path, sb_shape *out, sb_err *err)
{
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (!text)
        return sb_fail(err, SB_E_RUNTIME, "out of memory");
    sb_shape s;
    sb_rc rc = parse_shape(text, strlen(text), path, 1, &s, err);
    cJSON_free(text);
    if (rc)
        return rc;
    snprintf(s.path, sizeof s.path, "%s", path);
    *out = s;
    return SB_OK;
}

unsigned sb_workload_bit(const char *workload)
{
    for (size_t i = 0; i < NWORKLOADS; i++)
        if (strcmp(WORKLOADS[i].name, workload) == 0)
            return WORKLOADS[i].bit;
    return 0;
}

int sb_shape_serves(const sb_shape *s, unsigned bit) { return (s->workloads & bit) != 0; }

sb_rc sb_read_file(const char *path, char **text, size_t *len, sb_err *err)
{
    FILE *f = NULL;
    sb_rc rc = sb_open_input(path, &f, err);
    if (rc)
        return rc;
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return sb_fail(err, SB_E_INPUT, "cannot read %s: not a regular file", path);
    }
    if (st.st_size > (64 << 20)) {
        fclose(f);
        return sb_fail(err, SB_E_INPUT, "%s: larger than 64 MiB, not a shape or verdict", path);
    }
    size_t size = (size_t)st.st_size;
    char *buf = malloc(size + 1);
    if (!buf) {
        fclose(f);
        return sb_fail(err, SB_E_RUNTIME, "out of memory reading %s", path);
    }
    size_t got = fread(buf, 1, size, f);
    int bad = ferror(f);
    fclose(f);
    if (bad || got != size) {
        free(buf);
        return sb_fail(err, SB_E_INPUT, "cannot read %s: short read", path);
    }
    buf[size] = '\0';
    *text = buf;
    *len = size;
    return SB_OK;
}

static sb_rc parse_seed(const cJSON *v, const char *origin, uint64_t *out, sb_err *err)
{
    /* Seeds are 64-bit; JSON numbers are doubles, so a string keeps every bit. */
    if (cJSON_IsString(v)) {
        const char *s = v->valuestring;
        char *end = NULL;
        errno = 0;
        unsigned long long x = strtoull(s, &end, 0);
        if (errno || end == s || *end != '\0' || s[0] == '-')
            return sb_fail(err, SB_E_INPUT, "%s: \"seed\" must be a 64-bit integer like \"0x1412a100deadbeef\", got \"%s\"", origin, s);
        *out = (uint64_t)x;
        return SB_OK;
    }
    if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 9007199254740992.0 &&
        floor(v->valuedouble) == v->valuedouble) {
        *out = (uint64_t)v->valuedouble;
        return SB_OK;
    }
    return sb_fail(err, SB_E_INPUT, "%s: \"seed\" must be a non-negative integer (use a hex string for 64-bit seeds)", origin);
}

static sb_rc parse_workloads(const cJSON *v, const char *origin, unsigned *out, sb_err *err)
{
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0)
        return sb_fail(err, SB_E_INPUT, "%s: \"workloads\" must be a non-empty array of workload names", origin);
    unsigned bits = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, v) {
        unsigned b = cJSON_IsString(it) ? sb_workload_bit(it->valuestring) : 0;
        char name[80];
        if (!b)
            return sb_fail(err, SB_E_INPUT, "%s: unknown workload %s%s%s in \"workloads\"", origin,
                           cJSON_IsString(it) ? "\"" : "",
                           cJSON_IsString(it) ? sb_printable(it->valuestring, name, sizeof name) : "(not a string)",
                           cJSON_IsString(it) ? "\"" : "");
        bits |= b;
    }
    *out = bits;
    return SB_OK;
}

static sb_rc parse_field(const field *f, const cJSON *v, const char *origin, sb_shape *s, sb_err *err)
{
    char *base = (char *)s;
    switch (f->type) {
    case F_STRING: {
        if (!cJSON_IsString(v))
            return sb_fail(err, SB_E_INPUT, "%s: \"%s\" must be a string", origin, f->key);
        size_t cap = (f->offset == offsetof(sb_shape, description)) ? sizeof s->description
                     : (f->offset == offsetof(sb_shape, name))      ? sizeof s->name
                     : (f->offset == offsetof(sb_shape, basis))     ? sizeof s->basis
                     : (f->offset == offsetof(sb_shape, gate))      ? sizeof s->gate
                                                                    : sizeof s->matrix;
        if (strlen(v->valuestring) >= cap)
            return sb_fail(err, SB_E_INPUT, "%s: \"%s\" is longer than %zu characters", origin, f->key, cap - 1);
        memcpy(base + f->offset, v->valuestring, strlen(v->valuestring) + 1);
        return SB_OK;
    }
    case F_INT: {
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || floor(v->valuedouble) != v->valuedouble)
            return sb_fail(err, SB_E_INPUT, "%s: \"%s\" must be an integer", origin, f->key);
        if (v->valuedouble < f->lo || v->valuedouble > f->hi)
            return sb_fail(err, SB_E_INPUT, "%s: \"%s\" = %.17g is out of range [%.0f, %.0f]", origin, f->key,
                           v->valuedouble, f->lo, f->hi);
        *(int64_t *)(base + f->offset) = (int64_t)v->valuedouble;
        return SB_OK;
    }
    case F_REAL:
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
            return sb_fail(err, SB_E_INPUT, "%s: \"%s\" must be a finite number", origin, f->key);
        if (v->valuedouble < f->lo || v->valuedouble > f->hi)
            return f->lo > 0 ? sb_fail(err, SB_E_INPUT, "%s: \"%s\" = %g must be positive", origin, f->key, v->valuedouble)
                             : sb_fail(err, SB_E_INPUT, "%s: \"%s\" = %g is out of range [%g, %g]", origin, f->key,
                                       v->valuedouble, f->lo, f->hi);
        *(double *)(base + f->offset) = v->valuedouble;
        return SB_OK;
    case F_SEED:
        return parse_seed(v, origin, (uint64_t *)(base + f->offset), err);
    case F_WORKLOADS:
        return parse_workloads(v, origin, (unsigned *)(base + f->offset), err);
    }
    return sb_fail(err, SB_E_INPUT, "%s: internal: bad field type", origin);
}

static const field *find_field(const char *key)
{
    for (size_t i = 0; i < NFIELDS; i++)
        if (strcmp(FIELDS[i].key, key) == 0)
            return &FIELDS[i];
    return NULL;
}

cJSON *sb_json_parse(const char *text, size_t len, const char *origin, sb_err *err)
{
    if (memchr(text, '\0', len)) {
        sb_fail(err, SB_E_INPUT, "%s: malformed JSON (NUL byte at %zu)", origin, (size_t)((const char *)memchr(text, '\0', len) - text));
        return NULL;
    }
    /* text[len] is the terminating NUL; counting it lets cJSON insist that
     * nothing but whitespace follows the value. */
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len + 1, &end, 1);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        sb_fail(err, SB_E_INPUT, "%s: malformed JSON near byte %zu", origin, at && at >= text && at <= text + len ? (size_t)(at - text) : len);
    }
    return root;
}

/* of_data: a shape describing a user's data (sb_shape_from_json): the
 * fixture's parameters (seed, basis_cols, gate, ...) are not required, as
 * nothing is generated; every field given is checked as in a shape file. */
static sb_rc parse_shape(const char *text, size_t len, const char *origin, int of_data, sb_shape *out, sb_err *err)
{
    memset(out, 0, sizeof *out);
    out->reps = out->warmup = out->outers = -1; /* absent: the command's default */
    cJSON *root = sb_json_parse(text, len, origin, err);
    if (!root)
        return SB_E_INPUT;
    sb_rc rc = SB_OK;
    if (!cJSON_IsObject(root)) {
        rc = sb_fail(err, SB_E_INPUT, "%s: a shape must be a JSON object", origin);
        goto done;
    }
    /* Workloads first: they decide which keys are allowed and required. */
    const cJSON *wl = cJSON_GetObjectItemCaseSensitive(root, "workloads");
    if (!wl) {
        rc = sb_fail(err, SB_E_INPUT, "%s: missing required field \"workloads\"", origin);
        goto done;
    }
    if ((rc = parse_workloads(wl, origin, &out->workloads, err)) != SB_OK)
        goto done;
    const cJSON *item;
    cJSON_ArrayForEach(item, root) {
        const field *f = find_field(item->string);
        if (!f || !(f->allows & out->workloads)) {
            char key[80];
            rc = sb_fail(err, SB_E_INPUT, "%s: unknown field \"%s\" for workloads of this shape", origin,
                         sb_printable(item->string, key, sizeof key));
            goto done;
        }
        unsigned bit = 1u << (unsigned)(f - FIELDS);
        if (out->present & bit) {
            rc = sb_fail(err, SB_E_INPUT, "%s: field \"%s\" given twice", origin, f->key);
            goto done;
        }
        if ((rc = parse_field(f, item, origin, out, err)) != SB_OK)
            goto done;
        out->present |= bit;
    }
    for (size_t i = 0; i < NFIELDS && !of_data; i++) {
        if ((FIELDS[i].needs & out->workloads) && !(out->present & (1u << i))) {
            rc = sb_fail(err, SB_E_INPUT, "%s: missing required field \"%s\"", origin, FIELDS[i].key);
            goto done;
        }
    }
    if (out->name[0] == '\0')
        rc = sb_fail(err, SB_E_INPUT, "%s: \"name\" must not be empty", origin);
done:
    cJSON_Delete(root);
    return rc;
}

sb_rc sb_shape_parse(const char *text, size_t len, const char *origin, sb_shape *out, sb_err *err)
{
    return parse_shape(text, len, origin, 0, out, err);
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

sb_rc sb_shapes_dir(char *dir, size_t len, sb_err *err)
{
    const char *env = getenv("SAEBENCH_SHAPES");
    if (env && *env) {
        if (!is_dir(env))
            return sb_fail(err, SB_E_INPUT, "SAEBENCH_SHAPES=%s is not a directory", env);
        snprintf(dir, len, "%s", env);
        return SB_OK;
    }
    if (is_dir("shapes")) {
        snprintf(dir, len, "shapes");
        return SB_OK;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            char cand[PATH_MAX + 16];
            snprintf(cand, sizeof cand, "%s/shapes", exe);
            if (is_dir(cand)) {
                snprintf(dir, len, "%s", cand);
                return SB_OK;
            }
        }
    }
    return sb_fail(err, SB_E_INPUT, "no shapes directory: run from the project root or set SAEBENCH_SHAPES");
}

static int looks_like_path(const char *s)
{
    size_t n = strlen(s);
    return strchr(s, '/') != NULL || (n > 5 && strcmp(s + n - 5, ".json") == 0);
}

sb_rc sb_shape_load(const char *name_or_path, sb_shape *out, sb_err *err)
{
    char path[sizeof out->path];
    if (looks_like_path(name_or_path)) {
        if (strlen(name_or_path) >= sizeof path)
            return sb_fail(err, SB_E_INPUT, "shape path too long");
        snprintf(path, sizeof path, "%s", name_or_path);
    } else {
        for (const char *c = name_or_path; *c; c++)
            if (!(isalnum((unsigned char)*c) || *c == '-' || *c == '_' || *c == '.'))
                return sb_fail(err, SB_E_INPUT, "bad shape name \"%s\"", name_or_path);
        char dir[sizeof out->path - 80];
        sb_rc rc = sb_shapes_dir(dir, sizeof dir, err);
        if (rc)
            return rc;
        if (strlen(name_or_path) > 64)
            return sb_fail(err, SB_E_INPUT, "unknown shape \"%.64s...\"", name_or_path);
        snprintf(path, sizeof path, "%s/%s.json", dir, name_or_path);
        if (access(path, F_OK) != 0)
            return sb_fail(err, SB_E_INPUT, "unknown shape \"%s\" (see 'saebench shapes')", name_or_path);
    }
    char *text = NULL;
    size_t len = 0;
    sb_rc rc = sb_read_file(path, &text, &len, err);
    if (rc)
        return rc;
    rc = sb_shape_parse(text, len, path, out, err);
    free(text);
    if (rc == SB_OK)
        snprintf(out->path, sizeof out->path, "%s", path);
    return rc;
}

cJSON *sb_shape_to_json(const sb_shape *s)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "name", s->name);
    cJSON_AddStringToObject(o, "path", s->path);
    if (s->description[0])
        cJSON_AddStringToObject(o, "description", s->description);
    cJSON *wl = cJSON_AddArrayToObject(o, "workloads");
    for (size_t i = 0; i < NWORKLOADS; i++)
        if (s->workloads & WORKLOADS[i].bit)
            cJSON_AddItemToArray(wl, cJSON_CreateString(WORKLOADS[i].name));
    for (size_t i = 0; i < NFIELDS; i++) {
        const field *f = &FIELDS[i];
        if (!(s->present & (1u << i)))
            continue;
        const char *base = (const char *)s;
        char buf[32];
        switch (f->type) {
        case F_INT:
            cJSON_AddNumberToObject(o, f->key, (double)*(const int64_t *)(base + f->offset));
            break;
        case F_REAL:
            cJSON_AddNumberToObject(o, f->key, *(const double *)(base + f->offset));
            break;
        case F_SEED:
            snprintf(buf, sizeof buf, "0x%016llx", (unsigned long long)*(const uint64_t *)(base + f->offset));
            cJSON_AddStringToObject(o, f->key, buf);
            break;
        case F_STRING:
            if (f->offset == offsetof(sb_shape, matrix) || f->offset == offsetof(sb_shape, basis) ||
                f->offset == offsetof(sb_shape, gate))
                cJSON_AddStringToObject(o, f->key, base + f->offset);
            break;
        case F_WORKLOADS:
            break;
        }
    }
    return o;
}
