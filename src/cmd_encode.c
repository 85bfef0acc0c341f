/* encode (docs/workloads.md §5): the certified per-row latent-coordinate
 * encode. This file holds only the workload: the generated problem and its
 * atlas, what one timed rep is (the fast path's encode of the resident
 * batch; and with the rows uploaded), and what the CPU reference compares. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "encode.h"
#include "encode_ops.h"
#include "host/host_info.h"
#include "npy.h"
#include "parity.h"
#include "run.h"
#include "shape.h"

#define EN_DEFAULT_REPS 10
#define EN_DEFAULT_WARMUP 2
/* The reference runs on an evenly strided sample of at most this many rows. */
#define EN_DEFAULT_ORACLE_ROWS 4096

static const sb_gate_def EN_GATES[] = {
    /* Parity (src/parity.h, the per-row rule; docs/verdict.md "Parity"):
     * each reference row's |t - t_ref|_inf against the bound its
     * conditioning allows; the worst row's ratio ≤ 1. */
    {"EN-001", "fast path vs CPU reference: worst per-row ratio |t - t_ref|_inf / bound over the reference's rows", SB_CMP_LE, 1.0, 1, 0, 1, 0},
    {"EN-002", "explained variance of the fast path's reconstruction (column-centred)", SB_CMP_GT, 0.99, 1, 0, 0, 0},
    {"EN-003", "fallback rate of the fast path (rows without a certificate)", SB_CMP_LT, 0.5, 1, 0, 0, 0},
    /* The deployment target, device only. */
    {"EN-004", "device rows/s", SB_CMP_GE, 100000.0, 1, 1, 0, 0},
    /* The verdict/3 rule, opt-in: a fixed absolute coordinate difference,
     * which ill-conditioned rows cannot meet. */
    {"EN-005", "fast path vs CPU reference, the verdict/3 rule: max |coordinate difference| over the reference's rows", SB_CMP_LT, 1e-9, 1, 0, 1, 1},
};

static const sb_workload EN_WORKLOAD = {
    .name = "encode",
    .accepted = SB_OPT_SHAPE | SB_OPT_BACKEND | SB_OPT_REQUIRE_DEVICE | SB_OPT_REPS | SB_OPT_WARMUP | SB_OPT_OUT |
                SB_OPT_GATE | SB_OPT_QUIET | SB_OPT_CALIBRATION | SB_OPT_THREADS | SB_OPT_STOP | SB_OPT_ORACLE_ROWS |
                SB_OPT_DATA | SB_OPT_ENCODE_DATA | SB_OPT_ENCODE_MODEL | SB_OPT_DUMP_COORDS,
    .gates = EN_GATES,
    .ngates = sizeof EN_GATES / sizeof EN_GATES[0],
    .target_gate = "EN-004",
    .target_unit = "rows/s per GPU",
    .rate_unit = "rows",
    .doc = "docs/workloads.md §5",
};

/* Everything one run holds; one owner, freed in en_free. */
typedef struct en_data {
    sb_shape shape;
    sb_encode_params prm;
    sb_encode_problem prob;
    int from_npy;
    int model_flags;             /* the model came from --latent-dim/--degree/--basis */
    int decoders_ndim;           /* the decoders file's: 2 ((K·m)×p) or 3 (K×m×p) */
    char dtypes[4][8];           /* --x, --decoders, --atoms, --amplitudes as written */
    int64_t oracle_rows, stride; /* the reference's evenly strided sample */
    const sb_encode_ops *ops;    /* the chosen backend's */
    const char *who;             /* the backend in messages */
    void *state;                 /* the backend's staged decoders, atlas and rows */
    sb_encode_atlas atlas;
    sb_encode_result fast, fast2, ref; /* fast path resident, with upload; the reference */
    double ref_s;                /* the reference's time (NaN: not run) */
    sb_encode_quality q_all, q_ref, q_refself;
    sb_row_parity parity;        /* EN-001's worst row */
    int have_parity;
} en_data;

static void en_free(en_data *d)
{
    if (d->state)
        d->ops->destroy(d->state);
    sb_encode_result_free(&d->fast);
    sb_encode_result_free(&d->fast2);
    sb_encode_result_free(&d->ref);
    sb_encode_atlas_free(&d->atlas);
    sb_encode_problem_free(&d->prob);
}

static void en_help(void)
{
    printf("usage: saebench encode --shape NAME|FILE.json [options]\n"
           "       saebench encode --x rows.npy --decoders B.npy --atoms atoms.npy --amplitudes z.npy\n"
           "              --latent-dim d --degree D --basis euclidean|periodic [--dump-coords t.npy] [--dump-rows rows.npy]\n"
           "              (real data: the flags give the model, or --shape MODEL.json instead of them;\n"
           "               n, p and K come from the files)\n\n"
           "Encode every row's latent coordinates with a certificate: the fast path (one\n"
           "GEMM over the batch, then per-row Newton in m-space) on the chosen backend,\n"
           "checked against the straightforward CPU reference over full p-vectors on a\n"
           "sample of rows; quality metrics, gates and the tri-state target decision.\n\n");
}

static sb_rc basis_of(const char *name, const char *origin, sb_basis_kind *out, sb_err *err)
{
    if (strcmp(name, "euclidean") == 0)
        *out = SB_BASIS_EUCLIDEAN;
    else if (strcmp(name, "periodic") == 0)
        *out = SB_BASIS_PERIODIC;
    else
        return sb_fail(err, SB_E_INPUT, "%s: basis \"%s\" is not euclidean or periodic", origin, name);
    return SB_OK;
}

static sb_rc en_params(const sb_shape *s, sb_encode_params *prm, sb_err *err)
{
    memset(prm, 0, sizeof *prm);
    char origin[80];
    snprintf(origin, sizeof origin, "shape %s", s->name);
    sb_rc rc = basis_of(s->basis, origin, &prm->basis, err);
    if (rc)
        return rc;
    if (strcmp(s->gate, "softmax") == 0)
        prm->gate = SB_GATE_SOFTMAX;
    else if (strcmp(s->gate, "ibp") == 0)
        prm->gate = SB_GATE_IBP;
    else if (strcmp(s->gate, "jumprelu") == 0)
        prm->gate = SB_GATE_JUMPRELU;
    else
        return sb_fail(err, SB_E_INPUT, "shape %s: gate \"%s\" is not softmax, ibp or jumprelu", s->name, s->gate);
    prm->n = s->n;
    prm->p = s->p;
    prm->K = s->atoms;
    prm->d = s->d;
    prm->D = s->degree;
    prm->noise = s->noise;
    prm->seed = s->seed;
    return sb_encode_check_params(prm, err);
}

/* The names picked, as a list: "--x, --atoms and --amplitudes". */
static void name_list(const char *const *names, const int *pick, int count, char *out, size_t len)
{
    int total = 0, k = 0;
    for (int i = 0; i < count; i++)
        total += pick[i] != 0;
    out[0] = '\0';
    for (int i = 0; i < count; i++)
        if (pick[i]) {
            k++;
            snprintf(out + strlen(out), len - strlen(out), "%s%s", k == 1 ? "" : k == total ? " and " : ", ", names[i]);
        }
}

static const char *const MODEL_FLAGS[3] = {"--latent-dim", "--degree", "--basis"};

/* The model from --latent-dim, --degree and --basis (real data, no shape).
 * The gate kind only shapes the amplitudes the fixture generator draws; real
 * data brings its own (--amplitudes), so none is asked for: prm->gate is
 * left at softmax, never read, and the verdict's shape names no gate. The
 * model is checked on its own here (d range, D not too large for the
 * per-row routine), before any file is read. */
static sb_rc en_model_flags(const sb_opts *o, sb_encode_params *prm, sb_err *err)
{
    const int absent[3] = {o->latent_dim < 1, o->degree < 1, !o->basis};
    char missing[64];
    name_list(MODEL_FLAGS, absent, 3, missing, sizeof missing);
    if (missing[0])
        return sb_fail(err, SB_E_INPUT, "encode: real data without --shape needs the model (--latent-dim, --degree, --basis): missing %s",
                       missing);
    memset(prm, 0, sizeof *prm);
    sb_rc rc = basis_of(o->basis, "--basis", &prm->basis, err);
    if (rc)
        return rc;
    prm->gate = SB_GATE_SOFTMAX;
    prm->d = o->latent_dim;
    prm->D = o->degree;
    /* n, p and K come from the files; 1 stands in for them here. */
    prm->n = prm->p = prm->K = 1;
    return sb_encode_check_params(prm, err);
}

/* Real data: rows X (n×p), decoders B (K×m×p, or (K·m)×p with row k·m + j
 * B_k's basis row j), each row's atom (integers in [0, K)) and amplitude
 * (> 0). The model (d, degree, basis, so m) is in prm already; n, p and K
 * come from the data. Every check happens here, before any work. */
static sb_rc en_load_data(const sb_opts *o, sb_encode_params *prm, sb_encode_problem *prob, int *decoders_ndim,
                          char dtypes[4][8], sb_err *err)
{
    if (o->w_path || o->rhs_path)
        return sb_fail(err, SB_E_INPUT, "encode: --w and --rhs are resident-solve's; encode takes --x, --decoders, --atoms, --amplitudes");
    const char *const names[4] = {"--x", "--decoders", "--atoms", "--amplitudes"};
    const int absent[4] = {!o->x_path, !o->decoders_path, !o->atoms_path, !o->amplitudes_path};
    if (absent[0] || absent[1] || absent[2] || absent[3]) {
        char missing[64];
        name_list(names, absent, 4, missing, sizeof missing);
        return sb_fail(err, SB_E_INPUT, "encode: --x, --decoders, --atoms and --amplitudes go together: missing %s", missing);
    }
    const int64_t m = sb_encode_basis_size(prm->basis, prm->d, prm->D);
    const char *basis = prm->basis == SB_BASIS_PERIODIC ? "periodic" : "euclidean";
    sb_npy x = {0}, b = {0}, a = {0}, z = {0};
    sb_rc rc = sb_npy_read(o->x_path, 2, &x, err);
    if (!rc)
        rc = sb_npy_read(o->decoders_path, 0, &b, err);
    if (!rc)
        rc = sb_npy_read(o->atoms_path, 1, &a, err);
    if (!rc)
        rc = sb_npy_read(o->amplitudes_path, 1, &z, err);
    /* decoders: K×m×p, or (K·m)×p with row k·m + j atom k's basis row j (the same bytes) */
    const int64_t b_cols = b.ndim == 3 ? b.shape[2] : b.shape[1];
    if (!rc && b.ndim == 1)
        rc = sb_fail(err, SB_E_INPUT, "%s: a 1-D array; the decoders are K x m x p, or (K*m) x p", o->decoders_path);
    if (!rc && b_cols != x.shape[1])
        rc = sb_fail(err, SB_E_INPUT, "%s: %lld columns, but the rows in %s have %lld", o->decoders_path,
                     (long long)b_cols, o->x_path, (long long)x.shape[1]);
    if (!rc && b.ndim == 3 && b.shape[1] != m)
        rc = sb_fail(err, SB_E_INPUT, "%s: K x m x p with m = %lld, but d = %lld, D = %lld (%s) has m = %lld basis functions",
                     o->decoders_path, (long long)b.shape[1], (long long)prm->d, (long long)prm->D, basis, (long long)m);
    if (!rc && b.ndim == 2 && (m < 1 || b.shape[0] % m != 0))
        rc = sb_fail(err, SB_E_INPUT, "%s: %lld rows is not a whole number of atoms of m = %lld basis rows (d = %lld, D = %lld, %s)",
                     o->decoders_path, (long long)b.shape[0], (long long)m, (long long)prm->d, (long long)prm->D, basis);
    if (!rc && (a.shape[0] != x.shape[0] || z.shape[0] != x.shape[0]))
        rc = sb_fail(err, SB_E_INPUT, "%s and %s need one entry per row of %s (%lld)", o->atoms_path, o->amplitudes_path,
                     o->x_path, (long long)x.shape[0]);
    const int64_t K = rc ? 0 : b.ndim == 3 ? b.shape[0] : b.shape[0] / m;
    /* atoms: any integer dtype (exact), or floats that hold integers */
    for (int64_t i = 0; !rc && i < a.shape[0]; i++) {
        if (floor(a.data[i]) != a.data[i])
            rc = sb_fail(err, SB_E_INPUT, "%s: row %lld's atom %.17g is not an integer", o->atoms_path, (long long)i,
                         a.data[i]);
        else if (!(a.data[i] >= 0 && a.data[i] < (double)K))
            rc = sb_fail(err, SB_E_INPUT, "%s: row %lld's atom %.17g is outside [0, %lld) (K = %lld atoms in %s)",
                         o->atoms_path, (long long)i, a.data[i], (long long)K, (long long)K, o->decoders_path);
    }
    for (int64_t i = 0; !rc && i < z.shape[0]; i++)
        if (!(z.data[i] > 0))
            rc = sb_fail(err, SB_E_INPUT, "%s: row %lld's amplitude %g is not positive", o->amplitudes_path, (long long)i,
                         z.data[i]);
    int32_t *atom = NULL;
    if (!rc) {
        prm->n = x.shape[0];
        prm->p = x.shape[1];
        prm->K = K;
        rc = sb_encode_check_params(prm, err);
    }
    if (!rc && !(atom = sb_alloc((size_t)prm->n, sizeof *atom, err)))
        rc = SB_E_RUNTIME;
    if (rc) {
        sb_npy_free(&x);
        sb_npy_free(&b);
        sb_npy_free(&a);
        sb_npy_free(&z);
        return rc;
    }
    for (int64_t i = 0; i < prm->n; i++)
        atom[i] = (int32_t)a.data[i];
    *decoders_ndim = b.ndim;
    const sb_npy *files[4] = {&x, &b, &a, &z};
    for (int k = 0; k < 4; k++)
        snprintf(dtypes[k], sizeof dtypes[k], "%s", files[k]->dtype);
    sb_npy_free(&a);
    *prob = (sb_encode_problem){.n = prm->n, .p = prm->p, .K = K, .d = prm->d, .D = prm->D, .m = m,
                                .basis = prm->basis, .B = b.data, .X = x.data, .atom = atom, .z = z.data};
    return SB_OK;
}

/* The verdict's shape for real data given with the model flags: described by
 * the data (sb_shape_from_json: no gate or seed, the amplitudes are given
 * and nothing is drawn). */
static sb_rc shape_of_data(en_data *d, const sb_opts *o, sb_err *err)
{
    const char *base = strrchr(o->x_path, '/');
    char name[64];
    snprintf(name, sizeof name, "%s", base ? base + 1 : o->x_path);
    char *dot = strrchr(name, '.');
    if (dot && dot != name)
        *dot = '\0';
    const sb_encode_params *prm = &d->prm;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "name", name[0] ? name : "data");
    cJSON *wl = cJSON_AddArrayToObject(j, "workloads");
    cJSON_AddItemToArray(wl, cJSON_CreateString("encode"));
    cJSON_AddStringToObject(j, "description", "real data from --x/--decoders/--atoms/--amplitudes; the model from --latent-dim/--degree/--basis");
    cJSON_AddNumberToObject(j, "n", (double)prm->n);
    cJSON_AddNumberToObject(j, "p", (double)prm->p);
    cJSON_AddNumberToObject(j, "atoms", (double)prm->K);
    cJSON_AddNumberToObject(j, "d", (double)prm->d);
    cJSON_AddNumberToObject(j, "degree", (double)prm->D);
    cJSON_AddStringToObject(j, "basis", prm->basis == SB_BASIS_PERIODIC ? "periodic" : "euclidean");
    return sb_shape_from_json(j, o->x_path, &d->shape, err);
}

/* The model: --shape (a fixture, or the model of --x data) or the flags
 * (--x data only), never both. */
static sb_rc en_model(const sb_opts *o, en_data *d, sb_err *err)
{
    const int flags = o->latent_dim > 0 || o->degree > 0 || o->basis;
    if (o->shape && flags) {
        const int given[3] = {o->latent_dim > 0, o->degree > 0, o->basis != NULL};
        char which[64];
        name_list(MODEL_FLAGS, given, 3, which, sizeof which);
        return sb_fail(err, SB_E_INPUT, "encode: --shape conflicts with %s: the shape gives the model (d, degree, basis); give one or the other",
                       which);
    }
    if (o->shape) {
        sb_rc rc = sb_shape_load(o->shape, &d->shape, err);
        if (rc)
            return rc;
        if (!sb_shape_serves(&d->shape, SB_WL_ENCODE))
            return sb_fail(err, SB_E_INPUT, "shape \"%s\" is not an encode shape", d->shape.name);
        return en_params(&d->shape, &d->prm, err);
    }
    if (!d->from_npy)
        return sb_fail(err, SB_E_INPUT,
                       flags ? "encode: --latent-dim, --degree and --basis describe real data: give --x, --decoders, --atoms and --amplitudes too (or --shape NAME for a generated fixture)"
                             : "encode: give --shape NAME (see 'saebench shapes'), or real data: --x, --decoders, --atoms, --amplitudes with --latent-dim, --degree, --basis");
    d->model_flags = 1;
    return en_model_flags(o, &d->prm, err);
}

/* Timed reps on a state holding the decoders and atlas: encode the resident
 * batch, or upload the rows and encode them. */
typedef struct en_rep {
    const sb_encode_ops *ops;
    void *state;
    const sb_encode_problem *prob;
    sb_encode_result *out;
    int with_upload;
} en_rep;

static sb_rc en_rep_run(void *ctx, int64_t k, int timed, sb_err *err)
{
    (void)k, (void)timed;
    en_rep *c = ctx;
    return c->with_upload ? c->ops->run(c->state, c->prob, c->out, err) : c->ops->encode(c->state, c->out, err);
}

/* Real data has no ground-truth coordinates: its verdict says so. */
#define EN_NO_TRUTH "none: real data has no ground-truth coordinates t*, so max_coord_err_vs_truth is null"

static cJSON *quality_json(const sb_encode_quality *q)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "rows", (double)q->rows);
    cJSON_AddNumberToObject(o, "certified_rows", (double)q->certified_rows);
    cJSON_AddItemToObject(o, "fallback_rate", sb_json_number(q->fallback_rate));
    cJSON_AddItemToObject(o, "explained_variance", sb_json_number(q->explained_variance));
    cJSON_AddItemToObject(o, "max_coord_err_vs_truth", q->has_truth ? sb_json_number(q->max_coord_err_vs_truth) : cJSON_CreateNull());
    if (q->has_ref) {
        cJSON_AddItemToObject(o, "support_agreement", sb_json_number(q->support_agreement));
        cJSON_AddItemToObject(o, "max_coord_abs_err", sb_json_number(q->max_coord_abs_err));
        cJSON_AddItemToObject(o, "max_coord_abs_err_certified", sb_json_number(q->max_coord_abs_err_certified));
        cJSON_AddItemToObject(o, "max_reconstruction_abs_err", sb_json_number(q->max_reconstruction_abs_err));
        cJSON_AddItemToObject(o, "max_reconstruction_abs_err_certified",
                              sb_json_number(q->max_reconstruction_abs_err_certified));
    }
    return o;
}

static int implements_encode(const sb_backend *b) { return b->encode != NULL; }

/* The model (--shape or the flags), the data files when given, and host
 * memory, checked before any work: exit 2. */
static int en_load(sb_run *r, en_data *d)
{
    const sb_opts *o = &r->opts;
    sb_err err = {{0}};
    d->from_npy = o->x_path || o->decoders_path || o->atoms_path || o->amplitudes_path || o->w_path || o->rhs_path;
    if (en_model(o, d, &err) == SB_OK && d->from_npy &&
        en_load_data(o, &d->prm, &d->prob, &d->decoders_ndim, d->dtypes, &err) == SB_OK && d->model_flags)
        shape_of_data(d, o, &err);
    if (err.msg[0]) {
        fprintf(stderr, "saebench: %s\n", err.msg);
        return SB_EXIT_USAGE;
    }
    /* Memory: the problem, a second copy of the rows for the device staging
     * or the GEMM, two results and the atlas (small beside them). */
    const sb_encode_params *prm = &d->prm;
    uint64_t need = sb_encode_problem_bytes(prm), have = sb_physical_memory();
    double total = 2.0 * (double)need + 8.0 * (double)prm->n * (double)prm->p;
    if (need == 0 || (have && total > (double)have)) {
        fprintf(stderr, "saebench: shape %s (n=%lld p=%lld K=%lld) needs %.1f GiB of host memory; this machine has %.1f GiB\n",
                d->shape.name, (long long)prm->n, (long long)prm->p, (long long)prm->K, total / 1073741824.0,
                (double)have / 1073741824.0);
        return SB_EXIT_USAGE;
    }
    d->oracle_rows = o->oracle_rows > 0 ? o->oracle_rows : EN_DEFAULT_ORACLE_ROWS;
    if (d->oracle_rows > prm->n)
        d->oracle_rows = prm->n;
    d->stride = prm->n / d->oracle_rows;
    sb_run_counts(r, d->shape.reps, d->shape.warmup, EN_DEFAULT_REPS, EN_DEFAULT_WARMUP);
    return -1;
}

/* The verdict and the backend. Returns -1 to go on, else the harness's exit code. */
static int en_start(sb_run *r, en_data *d)
{
    const sb_encode_params *prm = &d->prm;
    sb_host_set_threads(r->opts.threads);
    if (prm->n < SB_ENCODE_DEVICE_MIN_ROWS) {
        char why[160];
        snprintf(why, sizeof why, "the device path runs only for batches of at least %d rows (this batch: %lld)",
                 SB_ENCODE_DEVICE_MIN_ROWS, (long long)prm->n);
        sb_run_device_declines(r, why);
    }
    const char *label = !d->from_npy ? "fixture" : d->model_flags ? "npy; the model from --latent-dim/--degree/--basis"
                                                                  : "npy; the shape gives the model only";
    int rc = sb_run_verdict_init(r, &d->shape, label);
    if (rc >= 0)
        return rc;
    cJSON *shape_json = cJSON_GetObjectItemCaseSensitive(r->v.root, "shape");
    cJSON_AddStringToObject(shape_json, "data", d->from_npy ? "npy" : "fixture");
    if (d->from_npy) {
        cJSON_ReplaceItemInObjectCaseSensitive(shape_json, "n", cJSON_CreateNumber((double)prm->n));
        cJSON_ReplaceItemInObjectCaseSensitive(shape_json, "p", cJSON_CreateNumber((double)prm->p));
        cJSON_ReplaceItemInObjectCaseSensitive(shape_json, "atoms", cJSON_CreateNumber((double)prm->K));
        cJSON_AddStringToObject(shape_json, "x", r->opts.x_path);
        cJSON_AddStringToObject(shape_json, "decoders", r->opts.decoders_path);
        cJSON_AddStringToObject(shape_json, "atoms_file", r->opts.atoms_path);
        cJSON_AddStringToObject(shape_json, "amplitudes", r->opts.amplitudes_path);
        cJSON_AddStringToObject(shape_json, "decoders_layout", d->decoders_ndim == 3 ? "K x m x p" : "(K*m) x p");
        cJSON *dt = cJSON_AddObjectToObject(shape_json, "dtypes");
        static const char *const keys[4] = {"x", "decoders", "atoms", "amplitudes"};
        for (int k = 0; k < 4; k++)
            cJSON_AddStringToObject(dt, keys[k], d->dtypes[k]);
    }
    return sb_run_choose_backend(r, implements_encode);
}

/* The fixture (unless the data came from files), the atlas and the result
 * buffers; then what one rep's work is. Returns -1 to go on, or 4 (printed,
 * no verdict) when any of them fails. */
static int en_build(sb_run *r, en_data *d)
{
    const sb_encode_params *prm = &d->prm;
    sb_err err = {{0}};
    d->ops = r->backend->encode;
    d->who = r->backend->is_device ? "device" : "host fast path";
    sb_run_progress(r, "generating %lld rows of width %lld over %lld atoms", (long long)prm->n, (long long)prm->p,
                    (long long)prm->K);
    if ((!d->from_npy && sb_encode_generate(prm, &d->prob, &err)) || (sb_run_progress(r, "building the atlas"), 0) ||
        sb_encode_atlas_build(&d->prob, &d->atlas, &err) || sb_encode_result_alloc(&d->fast, prm->n, prm->d, &err) ||
        sb_encode_result_alloc(&d->fast2, prm->n, prm->d, &err) || sb_encode_result_alloc(&d->ref, prm->n, prm->d, &err)) {
        fprintf(stderr, "saebench: %s\n", err.msg);
        return SB_EXIT_RUNTIME;
    }
    const int64_t m = d->prob.m;
    sb_run_rate(r, (double)prm->n);
    /* Per batch: the GEMM Y = X·B_kᵀ (2·n·m·p) dominates the flops, and
     * reading X once (8·n·p bytes) the traffic. */
    sb_run_roofline(r, 2.0 * (double)prm->n * (double)m * (double)prm->p,
                    8.0 * (double)prm->n * (double)prm->p + 8.0 * (double)prm->K * (double)m * (double)prm->p);
    return -1;
}

/* The fast path: the batch staged once, then timed encodes of it, then
 * timed uploads + encodes. */
static void en_phases(sb_run *r, en_data *d)
{
    sb_err err = {{0}};
    sb_run_progress(r, "%s: staging decoders, atlas and rows", d->who);
    if (d->ops->create(&d->prob, &d->atlas, &d->state, &err) || d->ops->upload(d->state, &d->prob, &err)) {
        sb_run_fail(r, "%s failed staging the batch: %s", d->who, err.msg);
        return;
    }
    en_rep e1 = {d->ops, d->state, &d->prob, &d->fast, 0};
    sb_rep rep = {NULL, en_rep_run, &e1};
    sb_phase *ph = sb_run_time(r, "encode", &rep);
    if (!r->failed) {
        en_rep e2 = {d->ops, d->state, &d->prob, &d->fast2, 1};
        sb_rep rep2 = {NULL, en_rep_run, &e2};
        sb_run_time(r, "upload_encode", &rep2);
    }
    sb_telemetry t = {0};
    d->ops->telemetry(d->state, &t);
    sb_run_phase_telemetry(ph, &t);
}

/* The CPU reference on an evenly strided sample, timed once; then the
 * quality of the fast path over every row and against the reference. */
static void en_oracle(sb_run *r, en_data *d)
{
    sb_err err = {{0}};
    d->ref_s = NAN;
    if (!r->failed) {
        sb_run_progress(r, "CPU reference: %lld rows over full p-vectors", (long long)d->oracle_rows);
        double t0 = sb_now_s();
        if (sb_encode_reference(&d->prob, &d->atlas, 0, d->oracle_rows, d->stride, &d->ref, &err))
            sb_run_fail(r, "the CPU reference failed: %s", err.msg);
        else
            d->ref_s = sb_now_s() - t0;
    }
    if (!r->failed && (sb_encode_metrics(&d->prob, &d->fast, NULL, 0, d->prm.n, 1, &d->q_all, &err) ||
                       sb_encode_metrics(&d->prob, &d->fast, &d->ref, 0, d->oracle_rows, d->stride, &d->q_ref, &err) ||
                       sb_encode_metrics(&d->prob, &d->ref, NULL, 0, d->oracle_rows, d->stride, &d->q_refself, &err)))
        sb_run_fail(r, "metrics: %s", err.msg);
    if (!r->failed) {
        if (sb_encode_ref_parity(&d->prob, &d->fast, &d->ref, 0, d->oracle_rows, d->stride, &d->parity, &err))
            sb_run_fail(r, "parity: %s", err.msg);
        else
            d->have_parity = 1;
    }
}

static void en_gates(sb_run *r, en_data *d)
{
    const sb_encode_params *prm = &d->prm;
    if (!r->failed) {
        /* The two fast-path results (resident and with upload) must agree bit for bit. */
        int same = memcmp(d->fast.t, d->fast2.t, (size_t)(prm->n * prm->d) * sizeof(double)) == 0 &&
                   memcmp(d->fast.chart, d->fast2.chart, (size_t)prm->n * sizeof(int32_t)) == 0;
        if (!same)
            sb_run_fail(r, "%s: encoding the same rows twice gave different coordinates", d->who);
    }
    if (r->failed)
        return;
    const sb_encode_quality *q_all = &d->q_all, *q_ref = &d->q_ref;
    const sb_row_parity *w = &d->parity;
    sb_run_gate(r, "EN-001", w->ratio);
    sb_run_gate(r, "EN-002", q_all->explained_variance);
    sb_run_gate(r, "EN-003", q_all->fallback_rate);
    if (r->nphases && r->phases[0].completed)
        sb_run_gate(r, "EN-004", (double)prm->n / r->phases[0].stats.median);
    sb_run_gate(r, "EN-005", q_ref->max_coord_abs_err);
    /* Only generated data has a ground truth t*: real data prints no t* figure. */
    char truth[48] = "";
    if (q_all->has_truth)
        snprintf(truth, sizeof truth, ", max |t - t*| %.2e", q_all->max_coord_err_vs_truth);
    sb_run_note(r, "quality: %lld/%lld rows certified, EV %.6f%s; vs reference (%lld rows): max |dt| %.2e, support agreement %.4f",
                (long long)q_all->certified_rows, (long long)q_all->rows, q_all->explained_variance, truth,
                (long long)d->oracle_rows, q_ref->max_coord_abs_err, q_ref->support_agreement);
    sb_run_note(r, "parity, worst row %lld: |dt| %.2e, bound %.2e (beta %.2e, G %.2e), ratio %.2g (pass <= %g)",
                (long long)w->row, w->abs_err, w->bound, w->beta, w->grad_scale, w->ratio, sb_run_threshold(r, "EN-001"));
}

/* The workload's own verdict sections: quality, the parity figures, the
 * reference beside the fast path, the model. */
static void en_verdict_extras(sb_run *r, const en_data *d)
{
    cJSON *root = r->v.root;
    const sb_encode_params *prm = &d->prm;
    const int64_t m = d->prob.m;
    cJSON *qj = cJSON_AddObjectToObject(root, "quality");
    cJSON_AddItemToObject(qj, "fast_path", quality_json(&d->q_all));
    cJSON_AddItemToObject(qj, "fast_path_vs_reference", quality_json(&d->q_ref));
    cJSON_AddItemToObject(qj, "reference", quality_json(&d->q_refself));
    cJSON_AddStringToObject(qj, "truth", d->prob.t_true ? "the generator's t* (fixture)" : EN_NO_TRUTH);
    cJSON *parity = sb_run_parity(r, "the CPU reference encode over full p-vectors (src/oracle/oracle_encode.c), on an evenly strided sample of rows");
    cJSON_AddItemToObject(parity, "max_abs_err", r->failed ? cJSON_CreateNull() : sb_json_number(d->q_ref.max_coord_abs_err));
    cJSON_AddItemToObject(parity, "rel_err", cJSON_CreateNull());
    cJSON_AddNumberToObject(parity, "rows", (double)d->oracle_rows);
    cJSON_AddNumberToObject(parity, "stride", (double)d->stride);
    cJSON_AddStringToObject(parity, "rule", SB_PARITY_ROW_RULE);
    cJSON_AddNumberToObject(parity, "eps", SB_PARITY_EPS);
    cJSON_AddItemToObject(parity, "ratio", sb_json_number(d->have_parity ? d->parity.ratio : NAN));
    if (d->have_parity)
        cJSON_AddItemToObject(parity, "worst_row", sb_parity_row_json(&d->parity));
    cJSON *refj = cJSON_AddObjectToObject(root, "reference");
    cJSON_AddNumberToObject(refj, "rows", (double)d->oracle_rows);
    cJSON_AddItemToObject(refj, "seconds", sb_json_number(d->ref_s));
    cJSON_AddItemToObject(refj, "rows_per_s", sb_json_number((double)d->oracle_rows / d->ref_s));
    if (!r->failed && r->nphases && r->phases[0].completed && isfinite(d->ref_s)) {
        double fast_rate = (double)prm->n / r->phases[0].stats.median, ref_rate = (double)d->oracle_rows / d->ref_s;
        cJSON_AddNumberToObject(refj, "fast_path_speedup", fast_rate / ref_rate);
        cJSON_AddNumberToObject(refj, "p_over_m", (double)prm->p / (double)m);
        sb_run_note(r, "reference %.0f rows/s; the fast path is %.1fx faster (p/m = %.0f)", ref_rate, fast_rate / ref_rate,
                    (double)prm->p / (double)m);
    }
    cJSON *mj = cJSON_AddObjectToObject(root, "model");
    cJSON_AddNumberToObject(mj, "m", (double)m);
    cJSON_AddNumberToObject(mj, "charts", (double)d->atlas.charts);
    cJSON_AddNumberToObject(mj, "chart_radius", d->atlas.radius);
    cJSON_AddNumberToObject(mj, "device_min_rows", SB_ENCODE_DEVICE_MIN_ROWS);
    cJSON_AddStringToObject(root, "scope", "the full certified per-row encode of a batch: GEMM, routing, Newton, certificate, refine");
}

/* --dump-coords (n×d, NaN where a row has no certificate: there are no
 * coordinates to give) and --dump-rows (n×2: certified 1/0, chart or −1):
 * the fast path's resident encode, written when that phase completed, as
 * --dump-beta is. Both paths were checked before any work (writable, not an
 * input, not another output); a write that fails now is exit 2 with the
 * verdict still written. */
static void en_dump(sb_run *r, const en_data *d)
{
    const sb_opts *o = &r->opts;
    if ((!o->dump_coords && !o->dump_rows) || !r->nphases || !r->phases[0].completed)
        return;
    const int64_t n = d->prm.n, dim = d->prm.d, cols = dim > 2 ? dim : 2;
    sb_err err = {{0}};
    double *buf = sb_alloc((size_t)n, (size_t)cols * sizeof(double), &err);
    if (!buf) {
        sb_run_fail(r, "--dump-coords/--dump-rows: %s", err.msg);
        return;
    }
    if (o->dump_coords) {
        for (int64_t i = 0; i < n; i++)
            for (int64_t a = 0; a < dim; a++)
                buf[i * dim + a] = d->fast.chart[i] >= 0 ? d->fast.t[i * dim + a] : NAN;
        if (sb_npy_write(o->dump_coords, buf, n, dim, &err))
            sb_run_late_input_error(r, err.msg);
    }
    if (o->dump_rows && !err.msg[0]) {
        for (int64_t i = 0; i < n; i++) {
            buf[i * 2] = d->fast.chart[i] >= 0 ? 1.0 : 0.0;
            buf[i * 2 + 1] = (double)d->fast.chart[i];
        }
        if (sb_npy_write(o->dump_rows, buf, n, 2, &err))
            sb_run_late_input_error(r, err.msg);
    }
    free(buf);
}

int sb_cmd_encode(int argc, char **argv)
{
    sb_run r;
    int rc = sb_run_init(&r, &EN_WORKLOAD, argc, argv, en_help);
    if (rc >= 0)
        return rc;
    en_data d;
    memset(&d, 0, sizeof d);
    if ((rc = en_load(&r, &d)) < 0 && (rc = en_start(&r, &d)) < 0 && (rc = en_build(&r, &d)) < 0) {
        en_phases(&r, &d);
        en_oracle(&r, &d);
        en_gates(&r, &d);
        en_verdict_extras(&r, &d);
        en_dump(&r, &d);
        rc = sb_run_finish(&r);
    }
    /* sb_run_free does nothing where the harness already freed the run
     * (sb_run_finish, and sb_run_choose_backend's exits). */
    sb_run_free(&r);
    en_free(&d);
    return rc;
}
