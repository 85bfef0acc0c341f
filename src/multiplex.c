/* The fit matrices, the variants file, memory estimates and the two runners
 * of multiplex (src/multiplex.h says why the runners agree bit for bit). */
#include "multiplex.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arrow_case.h"
#include "host/host_info.h"
#include "shape.h"
#include "timing.h"

/* ------------------------------ matrices ------------------------------ */
uint64_t sb_mx_color_arm_seed(int64_t K, int64_t topology, int64_t tag)
{
    return 0x1017C01000000000ULL ^ ((uint64_t)K << 16) ^ ((uint64_t)topology << 8) ^ (uint64_t)tag;
}

uint64_t sb_mx_battery_seed(int64_t K, int64_t basis_cols)
{
    return 0x1017004000000000ULL ^ ((uint64_t)K << 8) ^ (uint64_t)basis_cols;
}

void sb_mx_matrix_free(sb_mx_matrix *m)
{
    free(m->fits);
    m->fits = NULL;
    m->nfits = 0;
}

static const char *const TOPOLOGY[] = {"euclidean", "circle", "torus", "sphere"};
static const struct {
    const char *name;
    int64_t d, basis_cols;
} FAMILY[] = {{"periodic", 2, 8}, {"linear", 1, 2}}; /* tag 0, 1 */
static const int64_t BATTERY_BASIS[] = {4, 8, 12};

sb_rc sb_mx_matrix_named(const char *matrix, int64_t n, int64_t p, sb_mx_matrix *m, sb_err *err)
{
    memset(m, 0, sizeof *m);
    if (n <= 0)
        n = SB_MX_DEFAULT_N;
    if (p <= 0)
        p = SB_MX_DEFAULT_P;
    int colour = strcmp(matrix, "color-arm-variants") == 0, battery = strcmp(matrix, "battery") == 0;
    if (!colour && !battery)
        return sb_fail(err, SB_E_INPUT, "unknown multiplex matrix \"%.64s\" (color-arm-variants or battery)", matrix);
    /* Every LAPACK call takes the dense oracle's order n·d + p (d ≤ 2 here) as an int. */
    if (2.0 * (double)n + (double)p > INT_MAX)
        return sb_fail(err, SB_E_INPUT, "matrix %s at n=%lld p=%lld: n*d + p exceeds 2^31-1", matrix, (long long)n,
                       (long long)p);
    int64_t count = colour ? 4 * 4 * 2 : 4 * 3;
    m->fits = sb_alloc((size_t)count, sizeof *m->fits, err);
    if (!m->fits)
        return SB_E_RUNTIME;
    snprintf(m->name, sizeof m->name, "%s", matrix);
    int64_t f = 0;
    for (int64_t K = 1; K <= 4; K++) {
        if (colour) {
            for (int64_t topo = 0; topo < 4; topo++)
                for (int64_t tag = 0; tag < 2; tag++, f++) {
                    sb_mx_fit *x = &m->fits[f];
                    snprintf(x->name, sizeof x->name, "K%lld-%s-%s", (long long)K, TOPOLOGY[topo], FAMILY[tag].name);
                    x->prm = (sb_arrow_params){.n = n, .p = p, .d = FAMILY[tag].d, .basis_cols = FAMILY[tag].basis_cols,
                                               .seed = sb_mx_color_arm_seed(K, topo, tag)};
                }
        } else {
            for (int b = 0; b < 3; b++, f++) {
                sb_mx_fit *x = &m->fits[f];
                snprintf(x->name, sizeof x->name, "K%lld-basis%lld", (long long)K, (long long)BATTERY_BASIS[b]);
                x->prm = (sb_arrow_params){.n = n, .p = p, .d = 2, .basis_cols = BATTERY_BASIS[b],
                                           .seed = sb_mx_battery_seed(K, BATTERY_BASIS[b])};
            }
        }
    }
    m->nfits = count;
    return SB_OK;
}

/* --------------------------- variants file --------------------------- */
static const char *const VARIANT_KEYS[] = {"name", "n", "p", "d", "basis_cols", "seed"};
#define NVARIANT_KEYS (sizeof VARIANT_KEYS / sizeof VARIANT_KEYS[0])

static sb_rc variant_int(const cJSON *v, const char *origin, int64_t k, const char *key, double lo, double hi,
                         int64_t *out, sb_err *err)
{
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || floor(v->valuedouble) != v->valuedouble)
        return sb_fail(err, SB_E_INPUT, "%s: fit %lld: \"%s\" must be an integer", origin, (long long)k, key);
    if (v->valuedouble < lo || v->valuedouble > hi)
        return sb_fail(err, SB_E_INPUT, "%s: fit %lld: \"%s\" = %.17g is out of range [%.0f, %.0f]", origin, (long long)k,
                       key, v->valuedouble, lo, hi);
    *out = (int64_t)v->valuedouble;
    return SB_OK;
}

/* As a shape's seed: a string keeps all 64 bits; a JSON number only 53. */
static sb_rc variant_seed(const cJSON *v, const char *origin, int64_t k, uint64_t *out, sb_err *err)
{
    if (cJSON_IsString(v)) {
        const char *s = v->valuestring;
        char *end = NULL, buf[40];
        errno = 0;
        unsigned long long x = strtoull(s, &end, 0);
        if (errno || end == s || *end != '\0' || s[0] == '-' || s[0] == '+' || s[0] == ' ')
            return sb_fail(err, SB_E_INPUT, "%s: fit %lld: \"seed\" must be a 64-bit integer like \"0x1017c01000000000\", got \"%s\"",
                           origin, (long long)k, sb_printable(s, buf, sizeof buf));
        *out = (uint64_t)x;
        return SB_OK;
    }
    if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 9007199254740992.0 &&
        floor(v->valuedouble) == v->valuedouble) {
        *out = (uint64_t)v->valuedouble;
        return SB_OK;
    }
    return sb_fail(err, SB_E_INPUT, "%s: fit %lld: \"seed\" must be a non-negative integer (a hex string for 64-bit seeds)",
                   origin, (long long)k);
}

/* {name, system}: the fit's data directory, relative to origin's folder. */
static sb_rc parse_system_variant(const cJSON *item, const char *origin, int64_t k, sb_mx_fit *fit, sb_err *err)
{
    const cJSON *v, *sys = cJSON_GetObjectItemCaseSensitive(item, "system");
    char key[64];
    cJSON_ArrayForEach(v, item)
        if (strcmp(v->string, "name") != 0 && strcmp(v->string, "system") != 0)
            return sb_fail(err, SB_E_INPUT, "%s: fit %lld: \"%s\" with \"system\": a data fit is exactly {name, system}",
                           origin, (long long)k, sb_printable(v->string, key, sizeof key));
    if (!cJSON_IsString(sys) || sys->valuestring[0] == '\0')
        return sb_fail(err, SB_E_INPUT, "%s: fit %lld: \"system\" must be a directory path", origin, (long long)k);
    const char *slash = strrchr(origin, '/');
    int n = sys->valuestring[0] == '/' || !slash
                ? snprintf(fit->system, sizeof fit->system, "%s", sys->valuestring)
                : snprintf(fit->system, sizeof fit->system, "%.*s/%s", (int)(slash - origin), origin, sys->valuestring);
    if (n < 0 || (size_t)n >= sizeof fit->system - 32)
        return sb_fail(err, SB_E_INPUT, "%s: fit %lld: \"system\" path too long", origin, (long long)k);
    return SB_OK;
}

static sb_rc parse_variant(const cJSON *item, const char *origin, int64_t k, sb_mx_fit *fit, sb_err *err)
{
    if (!cJSON_IsObject(item))
        return sb_fail(err, SB_E_INPUT, "%s: fit %lld must be an object {name, n, p, d, basis_cols, seed} or {name, system}",
                       origin, (long long)k);
    int data = cJSON_GetObjectItemCaseSensitive(item, "system") != NULL;
    unsigned seen = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, item) {
        if (data)
            break;
        size_t i = 0;
        while (i < NVARIANT_KEYS && strcmp(VARIANT_KEYS[i], v->string) != 0)
            i++;
        char key[64];
        if (i == NVARIANT_KEYS)
            return sb_fail(err, SB_E_INPUT, "%s: fit %lld: unknown field \"%s\" (name, n, p, d, basis_cols, seed)", origin,
                           (long long)k, sb_printable(v->string, key, sizeof key));
        if (seen & (1u << i))
            return sb_fail(err, SB_E_INPUT, "%s: fit %lld: field \"%s\" given twice", origin, (long long)k, VARIANT_KEYS[i]);
        seen |= 1u << i;
    }
    for (size_t i = 0; i < NVARIANT_KEYS && !data; i++)
        if (!(seen & (1u << i)))
            return sb_fail(err, SB_E_INPUT, "%s: fit %lld: missing field \"%s\"", origin, (long long)k, VARIANT_KEYS[i]);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(item, "name");
    if (!cJSON_IsString(name) || name->valuestring[0] == '\0' || strlen(name->valuestring) >= sizeof fit->name)
        return sb_fail(err, SB_E_INPUT, "%s: fit %lld: \"name\" must be a string of 1 to %zu characters", origin,
                       (long long)k, sizeof fit->name - 1);
    for (const char *c = name->valuestring; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            return sb_fail(err, SB_E_INPUT, "%s: fit %lld: \"name\" holds a control character", origin, (long long)k);
    snprintf(fit->name, sizeof fit->name, "%s", name->valuestring);
    sb_arrow_params *prm = &fit->prm;
    memset(prm, 0, sizeof *prm);
    if (data)
        return parse_system_variant(item, origin, k, fit, err);
    sb_rc rc;
    if ((rc = variant_int(cJSON_GetObjectItemCaseSensitive(item, "n"), origin, k, "n", 1, INT_MAX, &prm->n, err)) ||
        (rc = variant_int(cJSON_GetObjectItemCaseSensitive(item, "p"), origin, k, "p", 1, INT_MAX, &prm->p, err)) ||
        (rc = variant_int(cJSON_GetObjectItemCaseSensitive(item, "d"), origin, k, "d", 1, 64, &prm->d, err)) ||
        (rc = variant_int(cJSON_GetObjectItemCaseSensitive(item, "basis_cols"), origin, k, "basis_cols", 1, 4096,
                          &prm->basis_cols, err)) ||
        (rc = variant_seed(cJSON_GetObjectItemCaseSensitive(item, "seed"), origin, k, &prm->seed, err)))
        return rc;
    /* Every LAPACK call takes the dense oracle's order n·d + p as an int. */
    double order = (double)prm->n * (double)prm->d + (double)prm->p;
    if (order > INT_MAX || sb_arrow_doubles(prm->n, prm->p, prm->d) == 0)
        return sb_fail(err, SB_E_INPUT, "%s: fit %lld (\"%s\"): n*d + p = %.0f exceeds 2^31-1", origin, (long long)k,
                       fit->name, order);
    return SB_OK;
}

sb_rc sb_mx_variants_parse(const char *text, size_t len, const char *origin, sb_mx_matrix *m, sb_err *err)
{
    memset(m, 0, sizeof *m);
    cJSON *root = sb_json_parse(text, len, origin, err);
    if (!root)
        return SB_E_INPUT;
    sb_rc rc = SB_OK;
    int count = cJSON_IsArray(root) ? cJSON_GetArraySize(root) : -1;
    if (count < 1 || count > SB_MX_MAX_FITS) {
        rc = count < 0 ? sb_fail(err, SB_E_INPUT, "%s: a variants file is a JSON array of fits {name, n, p, d, basis_cols, seed}", origin)
                       : sb_fail(err, SB_E_INPUT, "%s: %d fits; a variants file holds 1 to %d", origin, count, SB_MX_MAX_FITS);
        goto done;
    }
    m->fits = sb_alloc((size_t)count, sizeof *m->fits, err);
    if (!m->fits) {
        rc = SB_E_RUNTIME;
        goto done;
    }
    int64_t k = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, root) {
        if ((rc = parse_variant(item, origin, k, &m->fits[k], err)))
            goto done;
        for (int64_t j = 0; j < k; j++)
            if (strcmp(m->fits[j].name, m->fits[k].name) == 0) {
                char nm[64];
                rc = sb_fail(err, SB_E_INPUT, "%s: fits %lld and %lld are both named \"%s\"", origin, (long long)j,
                             (long long)k, sb_printable(m->fits[k].name, nm, sizeof nm));
                goto done;
            }
        k++;
    }
    m->nfits = k;
    /* The matrix is named after the file: its base name without ".json". */
    const char *base = strrchr(origin, '/');
    snprintf(m->name, sizeof m->name, "%s", base ? base + 1 : origin);
    char *dot = strrchr(m->name, '.');
    if (dot && dot != m->name && strcmp(dot, ".json") == 0)
        *dot = '\0';
done:
    if (rc)
        sb_mx_matrix_free(m);
    cJSON_Delete(root);
    return rc;
}

sb_rc sb_mx_variants_load(const char *path, sb_mx_matrix *m, sb_err *err)
{
    memset(m, 0, sizeof *m);
    char *text = NULL;
    size_t len = 0;
    sb_rc rc = sb_read_file(path, &text, &len, err);
    if (rc)
        return rc;
    rc = sb_mx_variants_parse(text, len, path, m, err);
    free(text);
    return rc;
}

/* ------------------------------- oracle ------------------------------- */
int64_t sb_mx_oracle_sample(int64_t nfits, int64_t k, int64_t *idx)
{
    if (k > nfits)
        k = nfits;
    if (k < 1)
        return 0;
    if (k == 1) {
        idx[0] = 0;
        return 1;
    }
    /* round(j·(F−1)/(k−1)) in integers: strictly increasing for k ≤ F. */
    for (int64_t j = 0; j < k; j++)
        idx[j] = (2 * j * (nfits - 1) + (k - 1)) / (2 * (k - 1));
    return k;
}

int64_t sb_mx_default_oracle_sample(const sb_mx_matrix *m)
{
    int small = 1;
    for (int64_t f = 0; f < m->nfits; f++)
        small &= (double)m->fits[f].prm.n * (double)m->fits[f].prm.d + (double)m->fits[f].prm.p <= 1000.0;
    return m->nfits <= 8 || small ? m->nfits : 2;
}

/* ------------------------------- memory ------------------------------- */
void sb_mx_memory_of(const sb_mx_matrix *m, int device, const int64_t *sample, int64_t nsample, sb_mx_memory *mem)
{
    memset(mem, 0, sizeof *mem);
    double largest_order = 0;
    for (int64_t f = 0; f < m->nfits; f++) {
        const sb_arrow_params *x = &m->fits[f].prm;
        double n = (double)x->n, p = (double)x->p, d = (double)x->d, nd = n * d, order = nd + p;
        mem->systems += 8.0 * (double)sb_arrow_doubles(x->n, x->p, x->d);
        mem->results += 3.0 * 8.0 * 2.0 * order; /* t, β, δt, δβ per result */
        /* The LM loop's scratch (r, step, trial iterate) is on the host for every backend. */
        double scratch = 3.0 * order;
        /* Host solve mode: L (n·d·d), Y (n·d·p), S (p²), u and w (n·d). A device
         * mode: pinned I/O (n·d + p) and its status on the host. */
        double state = device ? order + 16.0 : nd * d + nd * p + p * p + 2.0 * nd;
        mem->per_fit_host = fmax(mem->per_fit_host, 8.0 * (scratch + state));
        /* Device: the staged frame (H_tt, B, H_ββ), the factors (L, Y, S),
         * per-row status and log-diagonals, u and the I/O vector. */
        double dev = nd * d + nd * p + p * p + nd * d + nd * p + p * p + 2.0 * n + nd + order;
        mem->per_fit_device = fmax(mem->per_fit_device, 8.0 * dev + SB_MX_DEVICE_HANDLE_BYTES);
        largest_order = fmax(largest_order, order);
    }
    mem->results += 8.0 * 2.0 * largest_order;
    for (int64_t s = 0; s < nsample; s++) {
        const sb_arrow_params *x = &m->fits[sample[s]].prm;
        double order = (double)x->n * (double)x->d + (double)x->p;
        /* the dense (n·d+p)² matrix, its vector and the LM scratch */
        mem->oracle = fmax(mem->oracle, 8.0 * (order * order + 4.0 * order));
    }
}

double sb_mx_host_bytes(const sb_mx_memory *mem, int64_t concurrency)
{
    return mem->systems + mem->results + (double)concurrency * mem->per_fit_host + mem->oracle;
}

/* ------------------------------- runners ------------------------------- */
void sb_mx_blas_single_thread(void) { sb_host_set_threads(1); }

static const char *fit_name(const sb_mx_job *job, int64_t f)
{
    return job->matrix && f < job->matrix->nfits ? job->matrix->fits[f].name : "";
}

static sb_rc run_fit(const sb_mx_job *job, int64_t f, int worker, sb_err *err)
{
    const sb_arrow_case *c = &job->cases[f];
    sb_telemetry tele;
    memset(&tele, 0, sizeof tele);
    double t0 = sb_now_s();
    sb_rc rc = sb_arrow_fit(c, job->ops, 0, c->sys.g_t, c->sys.g_b, &job->res[f], &tele, err);
    if (job->fit_s)
        job->fit_s[f] = sb_now_s() - t0;
    if (job->tele)
        job->tele[f] = tele;
    if (job->worker)
        job->worker[f] = worker;
    return rc;
}

sb_rc sb_mx_run_sequential(const sb_mx_job *job, sb_err *err)
{
    sb_mx_blas_single_thread();
    int omp_saved = omp_get_max_threads();
    omp_set_num_threads(1);
    sb_rc rc = SB_OK;
    for (int64_t f = 0; f < job->nfits && rc == SB_OK; f++) {
        sb_err e = {{0}};
        if ((rc = run_fit(job, f, 0, &e)))
            sb_fail(err, rc, "fit %lld %s: %s", (long long)f, fit_name(job, f), e.msg);
    }
    omp_set_num_threads(omp_saved);
    return rc;
}

typedef struct mx_pool {
    const sb_mx_job *job;
    atomic_llong next;       /* the next fit to start */
    atomic_int stop;         /* a fit failed: start no more */
} mx_pool;

typedef struct mx_worker {
    mx_pool *pool;
    int index;
    pthread_t thread;
    int started;
    sb_rc rc;
    int64_t failed_fit;
    sb_err err;
} mx_worker;

static void *worker_main(void *arg)
{
    mx_worker *w = arg;
    mx_pool *pool = w->pool;
    /* Per thread: this worker's OpenMP regions run as a team of one, as the
     * sequential run's do. */
    omp_set_num_threads(1);
    while (!atomic_load(&pool->stop)) {
        long long f = atomic_fetch_add(&pool->next, 1);
        if (f >= pool->job->nfits)
            break;
        sb_rc rc = run_fit(pool->job, f, w->index, &w->err);
        if (rc) {
            w->rc = rc;
            w->failed_fit = f;
            atomic_store(&pool->stop, 1);
            break;
        }
    }
    return NULL;
}

sb_rc sb_mx_run_multiplexed(const sb_mx_job *job, int workers, sb_err *err)
{
    if (workers < 1)
        return sb_fail(err, SB_E_INPUT, "multiplexed run: %d workers", workers);
    if ((int64_t)workers > job->nfits)
        workers = (int)job->nfits;
    sb_mx_blas_single_thread();
    mx_worker *w = sb_alloc((size_t)workers, sizeof *w, err);
    if (!w)
        return SB_E_RUNTIME;
    mx_pool pool;
    pool.job = job;
    atomic_init(&pool.next, 0);
    atomic_init(&pool.stop, 0);
    sb_rc rc = SB_OK;
    for (int i = 0; i < workers; i++) {
        w[i].pool = &pool;
        w[i].index = i;
        int e = pthread_create(&w[i].thread, NULL, worker_main, &w[i]);
        if (e) {
            atomic_store(&pool.stop, 1);
            rc = sb_fail(err, SB_E_RUNTIME, "cannot start worker thread %d of %d: %s", i + 1, workers, strerror(e));
            break;
        }
        w[i].started = 1;
    }
    for (int i = 0; i < workers; i++)
        if (w[i].started)
            pthread_join(w[i].thread, NULL);
    /* Report the failing fit with the lowest index, whichever worker ran it. */
    const mx_worker *first = NULL;
    for (int i = 0; i < workers; i++)
        if (w[i].rc && (!first || w[i].failed_fit < first->failed_fit))
            first = &w[i];
    if (first && rc == SB_OK)
        rc = sb_fail(err, first->rc, "fit %lld %s (worker %d): %s", (long long)first->failed_fit,
                     fit_name(job, first->failed_fit), first->index, first->err.msg);
    free(w);
    return rc;
}
