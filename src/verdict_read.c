/* Reading verdict files for report and compare (verdict_read.h). Every field
 * taken from a file is checked here: type, finiteness, range, length and no
 * control characters, so a malformed or hostile file gives one line and
 * SB_E_INPUT, never a crash and never a garbled table. */
#include "verdict_read.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "shape.h"

#define SCHEMA_PREFIX "saebench.verdict/"
#define MAX_PHASES 64
#define MAX_GATES 256
/* Results trees are shallow (results/<device>/<date>/x.json); the limit only
 * stops a runaway walk. Symlinked directories are not followed at all. */
#define MAX_DEPTH 16

/* ------------------------------------------------------------ dates */

static int digits(const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static int num(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil), so no time zone or libc locale enters a date. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 ? 28 + leap : dm[m - 1];
}

int sb_parse_date(const char *s, int with_offset, int64_t *epoch)
{
    if (!digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' || !digits(s + 8, 2))
        return 0;
    int y = num(s, 4), mo = num(s + 5, 2), d = num(s + 8, 2), h = 0, mi = 0, se = 0;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return 0;
    const char *p = s + 10;
    if ((*p == 'T' || *p == '_' || *p == ' ') && digits(p + 1, 2)) {
        h = num(p + 1, 2);
        p += 3;
        if (*p == ':' || *p == '-')
            p++;
        if (digits(p, 2)) {
            mi = num(p, 2);
            p += 2;
            if ((*p == ':' || *p == '-') && digits(p + 1, 2)) {
                se = num(p + 1, 2);
                p += 3;
            } else if (digits(p, 2)) {
                se = num(p, 2);
                p += 2;
            }
        }
        if (h > 23 || mi > 59 || se > 60)
            return 0;
    }
    int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
    if (with_offset) {
        if (*p == '.')
            for (p++; *p >= '0' && *p <= '9'; p++)
                ;
        if ((*p == '+' || *p == '-') && digits(p + 1, 2)) {
            int oh = num(p + 1, 2), om = 0;
            const char *q = p + 3;
            if (*q == ':')
                q++;
            if (digits(q, 2))
                om = num(q, 2);
            if (oh > 23 || om > 59)
                return 0;
            /* 10:00+02:00 is 08:00 UTC. */
            t -= (*p == '+' ? 1 : -1) * (int64_t)(oh * 3600 + om * 60);
        }
    }
    *epoch = t;
    return 1;
}

void sb_format_date(int64_t epoch, char *buf, size_t len)
{
    time_t t = (time_t)epoch;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, len, "?");
}

/* ------------------------------------------------------------ field checks */

typedef struct reader {
    const char *origin;
    sb_err *err;
} reader;

static sb_rc bad(const reader *r, const char *field, const char *what)
{
    return sb_fail(r->err, SB_E_INPUT, "%s: %s %s", r->origin, field, what);
}

/* A string field copied into buf: must be a string shorter than cap with no
 * control characters (these end up in aligned tables, CSV and HTML). */
static sb_rc get_string(const reader *r, const cJSON *obj, const char *key, const char *field,
                        int required, char *buf, size_t cap)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    buf[0] = '\0';
    if (!v) {
        return required ? bad(r, field, "is missing") : SB_OK;
    }
    if (!cJSON_IsString(v) || !v->valuestring)
        return bad(r, field, "must be a string");
    size_t n = strlen(v->valuestring);
    if (n >= cap) {
        char what[64];
        snprintf(what, sizeof what, "is longer than %zu characters", cap - 1);
        return bad(r, field, what);
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v->valuestring[i] < 0x20 || v->valuestring[i] == 0x7f)
            return bad(r, field, "contains a control character");
    if (required && n == 0)
        return bad(r, field, "is empty");
    memcpy(buf, v->valuestring, n + 1);
    return SB_OK;
}

enum { NUM_OPTIONAL = 0, NUM_REQUIRED = 1 };
enum { NUM_NO_NULL = 0, NUM_NULL_OK = 1 };

/* A number field: NaN when absent (or null where null is allowed); a value
 * must be finite and >= lo. */
static sb_rc get_number(const reader *r, const cJSON *obj, const char *key, const char *field,
                        int required, int null_ok, double lo, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NAN;
    if (!v)
        return required ? bad(r, field, "is missing") : SB_OK;
    if (cJSON_IsNull(v) && null_ok)
        return SB_OK;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return bad(r, field, null_ok ? "must be a finite number or null" : "must be a finite number");
    if (v->valuedouble < lo)
        return bad(r, field, lo == 0 ? "must not be negative" : "is out of range");
    *out = v->valuedouble;
    return SB_OK;
}

/* A boolean: 1/0, or -1 when absent and optional. */
static sb_rc get_bool(const reader *r, const cJSON *obj, const char *key, const char *field,
                      int required, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = -1;
    if (!v)
        return required ? bad(r, field, "is missing") : SB_OK;
    if (!cJSON_IsBool(v))
        return bad(r, field, "must be true or false");
    *out = cJSON_IsTrue(v) ? 1 : 0;
    return SB_OK;
}

/* An optional object member: NULL when absent (or null where allowed). */
static sb_rc get_object(const reader *r, const cJSON *obj, const char *key, const char *field,
                        int required, int null_ok, const cJSON **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    if (!v || (null_ok && cJSON_IsNull(v)))
        return required && !v ? bad(r, field, "is missing") : SB_OK;
    if (!cJSON_IsObject(v))
        return bad(r, field, null_ok ? "must be an object or null" : "must be an object");
    *out = v;
    return SB_OK;
}

static sb_rc read_timing(const reader *r, const cJSON *o, const char *prefix, sb_vtiming *t)
{
    char f[160];
    sb_rc rc;
    t->present = 1;
#define NUMF(key, dst)                                                                  \
    do {                                                                                \
        snprintf(f, sizeof f, "%s.%s", prefix, key);                                    \
        if ((rc = get_number(r, o, key, f, NUM_OPTIONAL, NUM_NO_NULL, 0, dst)) != SB_OK) \
            return rc;                                                                  \
    } while (0)
    snprintf(f, sizeof f, "%s.median_s", prefix);
    if ((rc = get_number(r, o, "median_s", f, NUM_REQUIRED, NUM_NO_NULL, 0, &t->median_s)) != SB_OK)
        return rc;
    NUMF("q1_s", &t->q1_s);
    NUMF("q3_s", &t->q3_s);
    NUMF("rel_iqr", &t->rel_iqr);
    NUMF("rse_median", &t->rse_median);
#undef NUMF
    snprintf(f, sizeof f, "%s.noisy", prefix);
    if ((rc = get_bool(r, o, "noisy", f, 0, &t->noisy)) != SB_OK)
        return rc;
    double reps;
    snprintf(f, sizeof f, "%s.reps", prefix);
    if ((rc = get_number(r, o, "reps", f, NUM_OPTIONAL, NUM_NO_NULL, 0, &reps)) != SB_OK)
        return rc;
    if (!isnan(reps) && (floor(reps) != reps || reps > 1e15))
        return bad(r, f, "must be a whole number");
    t->reps = isnan(reps) ? -1 : (int64_t)reps;

    const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "samples_s");
    snprintf(f, sizeof f, "%s.samples_s", prefix);
    if (s) {
        if (!cJSON_IsArray(s))
            return bad(r, f, "must be an array of seconds");
        int n = cJSON_GetArraySize(s);
        t->samples_s = sb_alloc(n > 0 ? (size_t)n : 1, sizeof(double), r->err);
        if (!t->samples_s)
            return SB_E_RUNTIME;
        const cJSON *it;
        cJSON_ArrayForEach(it, s) {
            if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) || it->valuedouble < 0)
                return bad(r, f, "must hold only finite non-negative numbers");
            t->samples_s[t->nsamples++] = it->valuedouble;
        }
    }
    return SB_OK;
}

static void timing_init(sb_vtiming *t)
{
    memset(t, 0, sizeof *t);
    t->median_s = t->q1_s = t->q3_s = t->rel_iqr = t->rse_median = NAN;
    t->noisy = -1;
    t->reps = -1;
}

static sb_rc read_phases(const reader *r, const cJSON *phases, sb_vrec *v)
{
    if (!phases)
        return SB_OK;
    int n = cJSON_GetArraySize(phases);
    if (n > MAX_PHASES)
        return bad(r, "timing.phases", "has more than 64 phases");
    if (n == 0)
        return SB_OK;
    v->phases = sb_alloc((size_t)n, sizeof *v->phases, r->err);
    if (!v->phases)
        return SB_E_RUNTIME;
    const cJSON *it;
    cJSON_ArrayForEach(it, phases) {
        sb_vphase *p = &v->phases[v->nphases];
        timing_init(&p->t);
        v->nphases++;
        const char *name = it->string ? it->string : "";
        size_t len = strlen(name);
        if (len == 0 || len >= sizeof p->name)
            return bad(r, "timing.phases", "has a phase name that is empty or longer than 63 characters");
        for (size_t i = 0; i < len; i++)
            if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
                return bad(r, "timing.phases", "has a phase name with a control character");
        memcpy(p->name, name, len + 1);
        char field[128];
        snprintf(field, sizeof field, "timing.phases.%s", p->name);
        if (!cJSON_IsObject(it))
            return bad(r, field, "must be an object");
        sb_rc rc = read_timing(r, it, field, &p->t);
        if (rc)
            return rc;
    }
    return SB_OK;
}

static sb_rc read_gates(const reader *r, const cJSON *gates, sb_vrec *v)
{
    if (!cJSON_IsArray(gates))
        return bad(r, "gates", gates ? "must be an array" : "is missing");
    int n = cJSON_GetArraySize(gates);
    if (n > MAX_GATES)
        return bad(r, "gates", "has more than 256 entries");
    if (n == 0)
        return SB_OK;
    v->gates = sb_alloc((size_t)n, sizeof *v->gates, r->err);
    if (!v->gates)
        return SB_E_RUNTIME;
    const cJSON *it;
    int k = 0;
    cJSON_ArrayForEach(it, gates) {
        char field[64];
        snprintf(field, sizeof field, "gates[%d]", k++);
        if (!cJSON_IsObject(it))
            return bad(r, field, "must be an object");
        sb_vgate *g = &v->gates[v->ngates++];
        char f[96];
        sb_rc rc;
        snprintf(f, sizeof f, "%s.id", field);
        if ((rc = get_string(r, it, "id", f, 1, g->id, sizeof g->id)) != SB_OK)
            return rc;
        snprintf(f, sizeof f, "%s.applies", field);
        if ((rc = get_bool(r, it, "applies", f, 1, &g->applies)) != SB_OK)
            return rc;
        snprintf(f, sizeof f, "%s.pass", field);
        if ((rc = get_bool(r, it, "pass", f, 1, &g->pass)) != SB_OK)
            return rc;
        /* Gates compare any real value (a log-determinant difference may be
         * negative), so only finiteness is checked. */
        snprintf(f, sizeof f, "%s.value", field);
        if ((rc = get_number(r, it, "value", f, NUM_OPTIONAL, NUM_NULL_OK, -INFINITY, &g->value)) != SB_OK)
            return rc;
        snprintf(f, sizeof f, "%s.threshold", field);
        if ((rc = get_number(r, it, "threshold", f, NUM_OPTIONAL, NUM_NULL_OK, -INFINITY, &g->threshold)) != SB_OK)
            return rc;
    }
    return SB_OK;
}

/* The schema check. 1: a /2, /3 or /4 verdict; 0: not a verdict; an error for any other /N. */
static sb_rc check_schema(const reader *r, const cJSON *root, int *is_verdict)
{
    *is_verdict = 0;
    const cJSON *s = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "schema") : NULL;
    if (!cJSON_IsString(s) || !s->valuestring)
        return SB_OK;
    const char *name = s->valuestring;
    if (strncmp(name, SCHEMA_PREFIX, strlen(SCHEMA_PREFIX)) != 0)
        return SB_OK;
    const char *ver = name + strlen(SCHEMA_PREFIX);
    size_t nd = strspn(ver, "0123456789");
    char shown[48];
    snprintf(shown, sizeof shown, "%.40s", name);
    for (char *c = shown; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    if (nd == 0 || nd > 6 || ver[nd] != '\0')
        return sb_fail(r->err, SB_E_INPUT, "%s: unknown verdict schema \"%s\" (this saebench reads %s%d to %s%d)",
                       r->origin, shown, SCHEMA_PREFIX, SB_VERDICT_READ_OLDEST, SCHEMA_PREFIX, SB_VERDICT_READ_VERSION);
    long n = strtol(ver, NULL, 10);
    if (n > SB_VERDICT_READ_VERSION)
        return sb_fail(r->err, SB_E_INPUT,
                       "%s: verdict schema %s is a newer schema version than this saebench %s reads (%s%d); use a newer saebench",
                       r->origin, shown, SB_VERSION, SCHEMA_PREFIX, SB_VERDICT_READ_VERSION);
    if (n < SB_VERDICT_READ_OLDEST)
        return sb_fail(r->err, SB_E_INPUT, "%s: verdict schema %s is older than %s%d and not read",
                       r->origin, shown, SCHEMA_PREFIX, SB_VERDICT_READ_OLDEST);
    *is_verdict = 1;
    return SB_OK;
}

static sb_rc read_verdict(const reader *r, const cJSON *root, sb_vrec *v)
{
    sb_rc rc;
    const cJSON *o;
    if ((rc = get_string(r, root, "workload", "workload", 1, v->workload, sizeof v->workload)))
        return rc;
    if ((rc = get_object(r, root, "shape", "shape", 1, 0, &o)))
        return rc;
    if ((rc = get_string(r, o, "name", "shape.name", 1, v->shape, sizeof v->shape)))
        return rc;
    if ((rc = get_string(r, root, "backend", "backend", 1, v->backend, sizeof v->backend)))
        return rc;
    if ((rc = get_object(r, root, "device", "device", 0, 1, &o)))
        return rc;
    if (o) {
        if ((rc = get_string(r, o, "name", "device.name", 1, v->device, sizeof v->device)))
            return rc;
    } else {
        snprintf(v->device, sizeof v->device, "host");
        v->device_null = 1;
    }
    if ((rc = get_string(r, root, "execution_path", "execution_path", 0, v->execution_path,
                         sizeof v->execution_path)))
        return rc;
    /* A plugin that claims a device names no device saebench probed: the device
     * is its claim, marked as one and in its words (plugin.device_claimed), so
     * report shows and compare keys the claimed device, a CPU stand-in's too. */
    if (!o && strcmp(v->execution_path, "plugin-device-claimed") == 0) {
        const cJSON *pl;
        char claimed[sizeof v->device] = "";
        if ((rc = get_object(r, root, "plugin", "plugin", 0, 1, &pl)))
            return rc;
        const cJSON *dc = pl ? cJSON_GetObjectItemCaseSensitive(pl, "device_claimed") : NULL;
        if (dc && !cJSON_IsNull(dc) &&
            (rc = get_string(r, pl, "device_claimed", "plugin.device_claimed", 0, claimed, sizeof claimed)))
            return rc;
        if (claimed[0])
            snprintf(v->device, sizeof v->device, "claimed by plugin: %.108s", claimed);
        else
            snprintf(v->device, sizeof v->device, "claimed by plugin");
    }
    if ((rc = get_bool(r, root, "engaged", "engaged", 1, &v->engaged)))
        return rc;

    double code;
    if ((rc = get_number(r, root, "exit_code", "exit_code", NUM_REQUIRED, NUM_NO_NULL, 0, &code)))
        return rc;
    if (code > 4 || floor(code) != code)
        return bad(r, "exit_code", "must be a whole number from 0 to 4");
    v->exit_code = (int)code;
    if ((rc = get_string(r, root, "verdict", "verdict", 1, v->verdict, sizeof v->verdict)))
        return rc;
    if (strcmp(v->verdict, "pass") != 0 && strcmp(v->verdict, "fail") != 0)
        return bad(r, "verdict", "must be \"pass\" or \"fail\"");
    if ((strcmp(v->verdict, "pass") == 0) != (v->exit_code == 0))
        return bad(r, "verdict", "must be \"pass\" exactly when exit_code is 0");

    /* A run that got as far as gating (exit 0 or 1) has its measurements. */
    int measured = v->exit_code <= 1;
    if ((rc = get_object(r, root, "throughput", "throughput", measured, 0, &o)))
        return rc;
    if (o) {
        if ((rc = get_number(r, o, "measured_rows_per_s", "throughput.measured_rows_per_s", NUM_REQUIRED,
                             NUM_NO_NULL, 0, &v->measured_rows_per_s)))
            return rc;
        if ((rc = get_number(r, o, "engaged_rows_per_s", "throughput.engaged_rows_per_s", NUM_REQUIRED,
                             NUM_NO_NULL, 0, &v->engaged_rows_per_s)))
            return rc;
        if ((rc = get_number(r, o, "seconds_per_rep", "throughput.seconds_per_rep", NUM_OPTIONAL,
                             NUM_NO_NULL, 0, &v->seconds_per_rep)))
            return rc;
        if ((rc = get_string(r, o, "measured_of", "throughput.measured_of", 0, v->measured_of,
                             sizeof v->measured_of)))
            return rc;
    }
    if ((rc = get_object(r, root, "timing", "timing", measured, 0, &o)))
        return rc;
    if (o) {
        if ((rc = read_timing(r, o, "timing", &v->timing)))
            return rc;
        if ((rc = get_string(r, o, "cache", "timing.cache", 0, v->cache, sizeof v->cache)))
            return rc;
        const cJSON *ph;
        if ((rc = get_object(r, o, "phases", "timing.phases", 0, 0, &ph)))
            return rc;
        if ((rc = read_phases(r, ph, v)))
            return rc;
    }
    /* seconds_per_rep is the primary median; older files may lack the copy. */
    if (isnan(v->seconds_per_rep) && v->timing.present)
        v->seconds_per_rep = v->timing.median_s;

    if ((rc = get_object(r, root, "residency", "residency", 0, 1, &o)))
        return rc;
    if (o && (rc = get_number(r, o, "speedup", "residency.speedup", NUM_OPTIONAL, NUM_NO_NULL, 0,
                              &v->residency_speedup)))
        return rc;
    if ((rc = get_object(r, root, "roofline", "roofline", 0, 0, &o)))
        return rc;
    if (o) {
        if ((rc = get_number(r, o, "bound_s", "roofline.bound_s", NUM_OPTIONAL, NUM_NULL_OK, 0, &v->bound_s)))
            return rc;
        if ((rc = get_number(r, o, "efficiency", "roofline.efficiency", NUM_OPTIONAL, NUM_NULL_OK, 0,
                             &v->efficiency)))
            return rc;
        if ((rc = get_bool(r, o, "suspect", "roofline.suspect", 0, &v->roofline_suspect)))
            return rc;
    }
    if ((rc = get_object(r, root, "validity", "validity", 0, 0, &o)))
        return rc;
    if (o && (rc = get_bool(r, o, "valid", "validity.valid", 0, &v->valid)))
        return rc;
    if ((rc = get_object(r, root, "parity", "parity", 0, 0, &o)))
        return rc;
    if (o) {
        if ((rc = get_number(r, o, "rel_err", "parity.rel_err", NUM_OPTIONAL, NUM_NULL_OK, 0, &v->parity_rel_err)))
            return rc;
        if ((rc = get_bool(r, o, "pass", "parity.pass", 0, &v->parity_pass)))
            return rc;
    }
    if ((rc = read_gates(r, cJSON_GetObjectItemCaseSensitive(root, "gates"), v)))
        return rc;
    if ((rc = get_object(r, root, "target", "target", 0, 0, &o)))
        return rc;
    if (o && (rc = get_string(r, o, "status", "target.status", 0, v->target_status, sizeof v->target_status)))
        return rc;
    if ((rc = get_object(r, root, "tool", "tool", 0, 0, &o)))
        return rc;
    if (o && (rc = get_string(r, o, "git", "tool.git", 0, v->git, sizeof v->git)))
        return rc;
    if (o && (rc = get_bool(r, o, "dirty", "tool.dirty", 0, &v->dirty)))
        return rc;
    if ((rc = get_object(r, root, "host", "host", 0, 0, &o)))
        return rc;
    if (o) {
        if ((rc = get_string(r, o, "hostname", "host.hostname", 0, v->hostname, sizeof v->hostname)))
            return rc;
        double th;
        if ((rc = get_number(r, o, "threads", "host.threads", NUM_OPTIONAL, NUM_NO_NULL, 0, &th)))
            return rc;
        if (!isnan(th) && (floor(th) != th || th > 1e9))
            return bad(r, "host.threads", "must be a whole number");
        v->host_threads = isnan(th) ? -1 : (int64_t)th;
    }

    const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(root, "command");
    if (cmd) {
        if (!cJSON_IsArray(cmd))
            return bad(r, "command", "must be an array of strings");
        const cJSON *it;
        int k = 0, skip = 0;
        size_t len = 0;
        cJSON_ArrayForEach(it, cmd) {
            if (!cJSON_IsString(it) || !it->valuestring)
                return bad(r, "command", "must be an array of strings");
            const char *a = it->valuestring;
            if (k++ == 0 || skip) { /* the program's name; an output option's value */
                skip = 0;
                continue;
            }
            /* the options that only name an output: with their value, or as --opt=value */
            char name[64];
            int inline_value = sb_opt_split(a, name, sizeof name) != NULL;
            if (sb_opt_names_output(name)) {
                skip = !inline_value;
                continue;
            }
            if (strcmp(a, "--quiet") == 0)
                continue;
            int n = snprintf(v->args + len, sizeof v->args - len, "%s%s", len ? "\x1f" : "", a);
            if (n < 0 || (size_t)n >= sizeof v->args - len)
                return bad(r, "command", "is longer than the reader keeps (2047 characters)");
            len += (size_t)n;
        }
    }

    char created[64];
    if ((rc = get_string(r, root, "created", "created", 0, created, sizeof created)))
        return rc;
    if (created[0]) {
        if (!sb_parse_date(created, 1, &v->date_epoch))
            return bad(r, "created", "must be an ISO 8601 date-time such as 2026-11-24T10:00:00Z");
        sb_format_date(v->date_epoch, v->date, sizeof v->date);
        snprintf(v->date_from, sizeof v->date_from, "created");
        v->order_epoch = v->date_epoch;
    }
    return SB_OK;
}

static void vrec_init(sb_vrec *v)
{
    memset(v, 0, sizeof *v);
    timing_init(&v->timing);
    v->measured_rows_per_s = v->engaged_rows_per_s = v->seconds_per_rep = NAN;
    v->residency_speedup = v->bound_s = v->efficiency = v->parity_rel_err = NAN;
    v->parity_pass = -1;
    v->roofline_suspect = -1;
    v->valid = -1;
    v->dirty = -1;
    v->host_threads = -1;
}

sb_rc sb_vrec_parse(const char *text, size_t len, const char *origin, sb_vrec *out, int *found,
                    sb_err *err)
{
    *found = 0;
    cJSON *root = sb_json_parse(text, len, origin, err);
    if (!root)
        return SB_E_INPUT;
    reader r = {origin, err};
    int is_verdict = 0;
    sb_rc rc = check_schema(&r, root, &is_verdict);
    if (rc || !is_verdict) {
        cJSON_Delete(root);
        return rc;
    }
    sb_vrec v;
    vrec_init(&v);
    rc = read_verdict(&r, root, &v);
    cJSON_Delete(root);
    if (rc) {
        sb_vrec_free(&v);
        return rc;
    }
    *out = v;
    *found = 1;
    return SB_OK;
}

void sb_vrec_free(sb_vrec *v)
{
    free(v->timing.samples_s);
    for (size_t i = 0; i < v->nphases; i++)
        free(v->phases[i].t.samples_s);
    free(v->phases);
    free(v->gates);
    v->timing.samples_s = NULL;
    v->phases = NULL;
    v->gates = NULL;
    v->nphases = v->ngates = 0;
}

/* The deepest directory component of path that starts with a date: that
 * directory is a run set (results/2026-11-24T10-00-00/...). */
static int dated_component(const char *path, char *name, size_t cap, int64_t *epoch)
{
    int found = 0;
    const char *p = path;
    for (;;) {
        const char *slash = strchr(p, '/');
        if (!slash)
            break; /* the last component is the file itself */
        size_t n = (size_t)(slash - p);
        char comp[256];
        if (n > 0 && n < sizeof comp) {
            memcpy(comp, p, n);
            comp[n] = '\0';
            int64_t t;
            if (sb_parse_date(comp, 0, &t)) {
                snprintf(name, cap, "%s", comp);
                *epoch = t;
                found = 1;
            }
        }
        p = slash + 1;
    }
    return found;
}

sb_rc sb_vrec_read(const char *path, const char *run_label, sb_vrec *out, int *found, sb_err *err)
{
    *found = 0;
    if (strlen(path) >= sizeof out->path)
        return sb_fail(err, SB_E_INPUT, "%.200s...: path too long", path);
    char *text = NULL;
    size_t len = 0;
    sb_rc rc = sb_read_file(path, &text, &len, err);
    if (rc)
        return rc;
    rc = sb_vrec_parse(text, len, path, out, found, err);
    free(text);
    if (rc || !*found)
        return rc;
    snprintf(out->path, sizeof out->path, "%s", path);
    int64_t dir_epoch = 0;
    if (dated_component(path, out->run, sizeof out->run, &dir_epoch)) {
        if (!out->date_from[0]) {
            out->date_epoch = out->order_epoch = dir_epoch;
            snprintf(out->date_from, sizeof out->date_from, "directory");
        }
    } else {
        snprintf(out->run, sizeof out->run, "%s", run_label ? run_label : path);
    }
    for (char *c = out->run; *c; c++) /* the run label is shown in tables like any other field */
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    if (!out->date_from[0]) {
        struct stat st;
        out->date_epoch = stat(path, &st) == 0 ? (int64_t)st.st_mtime : 0;
        snprintf(out->date_from, sizeof out->date_from, "mtime");
    }
    sb_format_date(out->date_epoch, out->date, sizeof out->date);
    return SB_OK;
}

const sb_vtiming *sb_vrec_phase(const sb_vrec *v, const char *name)
{
    for (size_t i = 0; i < v->nphases; i++)
        if (strcmp(v->phases[i].name, name) == 0)
            return &v->phases[i].t;
    return NULL;
}

int sb_vrec_same_key(const sb_vrec *a, const sb_vrec *b)
{
    /* A cold run (--cold) times first touch: never the same series as a warm one. */
    int cold_a = strcmp(a->cache, "cold") == 0, cold_b = strcmp(b->cache, "cold") == 0;
    return strcmp(a->workload, b->workload) == 0 && strcmp(a->shape, b->shape) == 0 &&
           strcmp(a->backend, b->backend) == 0 && strcmp(a->device, b->device) == 0 && cold_a == cold_b;
}

int sb_vrec_same_config(const sb_vrec *a, const sb_vrec *b)
{
    return strcmp(a->git, b->git) == 0 && strcmp(a->hostname, b->hostname) == 0 && a->host_threads == b->host_threads &&
           strcmp(a->args, b->args) == 0;
}

int sb_vrec_order(const sb_vrec *a, const sb_vrec *b)
{
    if (a->order_epoch != b->order_epoch)
        return a->order_epoch < b->order_epoch ? -1 : 1;
    return strcmp(a->path, b->path);
}

void sb_vrec_gate_counts(const sb_vrec *v, size_t *applied, size_t *passed)
{
    *applied = *passed = 0;
    for (size_t i = 0; i < v->ngates; i++) {
        *applied += v->gates[i].applies == 1;
        *passed += v->gates[i].applies == 1 && v->gates[i].pass == 1;
    }
}

/* ------------------------------------------------------------ sets */

static sb_rc set_push(sb_vset *set, const sb_vrec *v, sb_err *err)
{
    if (set->n == set->cap) {
        size_t cap = set->cap ? 2 * set->cap : 16;
        sb_vrec *grown = realloc(set->items, cap * sizeof *grown);
        if (!grown)
            return sb_fail(err, SB_E_RUNTIME, "out of memory holding %zu verdicts", set->n);
        set->items = grown;
        set->cap = cap;
    }
    set->items[set->n++] = *v;
    return SB_OK;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Byte order, whatever the locale, so every machine walks a tree alike. */
static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static sb_rc walk(const char *dir, const char *arg, int depth, sb_vset *set, sb_err *err)
{
    if (depth > MAX_DEPTH)
        return sb_fail(err, SB_E_INPUT, "%s: directories nested deeper than %d levels", dir, MAX_DEPTH);
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, by_name);
    if (n < 0)
        return sb_fail(err, SB_E_INPUT, "cannot read directory %s: %s", dir, strerror(errno));
    sb_rc rc = SB_OK;
    for (int i = 0; i < n && rc == SB_OK; i++) {
        const char *name = names[i]->d_name;
        /* Hidden entries (., .., .git) and an atomic write's temporary
         * (x.json.tmp.AbC123) are never verdicts. */
        if (name[0] == '.' || strstr(name, ".tmp."))
            continue;
        char path[1024];
        int len = snprintf(path, sizeof path, "%s%s%s", dir, ends_with(dir, "/") ? "" : "/", name);
        if (len < 0 || (size_t)len >= sizeof path) {
            rc = sb_fail(err, SB_E_INPUT, "%s/%s: path too long", dir, name);
            break;
        }
        struct stat lst, st;
        if (lstat(path, &lst) != 0) {
            rc = sb_fail(err, SB_E_INPUT, "cannot read %s: %s", path, strerror(errno));
            break;
        }
        if (S_ISDIR(lst.st_mode)) {
            rc = walk(path, arg, depth + 1, set, err);
            continue;
        }
        if (!ends_with(name, ".json"))
            continue;
        /* A symlink to a file is read; a symlink to a directory is not
         * followed (no loops), and a dangling one is an error below. */
        if (S_ISLNK(lst.st_mode) && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            continue;
        sb_vrec v;
        int found = 0;
        rc = sb_vrec_read(path, arg, &v, &found, err);
        if (rc == SB_OK && found)
            rc = set_push(set, &v, err);
        else if (rc == SB_OK)
            set->skipped++;
        if (rc && found)
            sb_vrec_free(&v);
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

sb_rc sb_vset_load(const char *arg, sb_vset *set, sb_err *err)
{
    struct stat st;
    if (stat(arg, &st) != 0)
        return sb_fail(err, SB_E_INPUT, "cannot read %s: %s", arg, strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        size_t before = set->n;
        sb_rc rc = walk(arg, arg, 0, set, err);
        if (rc == SB_OK && set->n == before)
            rc = sb_fail(err, SB_E_INPUT, "%s: no verdict files here (*.json with \"schema\": \"%s%d\")", arg,
                         SCHEMA_PREFIX, SB_VERDICT_READ_VERSION);
        return rc;
    }
    sb_vrec v;
    int found = 0;
    sb_rc rc = sb_vrec_read(arg, arg, &v, &found, err);
    if (rc)
        return rc;
    if (!found)
        return sb_fail(err, SB_E_INPUT, "%s: not a saebench verdict (no \"schema\": \"%s%d\")", arg, SCHEMA_PREFIX,
                       SB_VERDICT_READ_VERSION);
    rc = set_push(set, &v, err);
    if (rc)
        sb_vrec_free(&v);
    return rc;
}

void sb_vset_free(sb_vset *set)
{
    for (size_t i = 0; i < set->n; i++)
        sb_vrec_free(&set->items[i]);
    free(set->items);
    memset(set, 0, sizeof *set);
}
