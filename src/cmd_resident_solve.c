/* resident-solve (docs/workloads.md §1): (XᵀWX + ridge·I)β = rhs with X
 * resident and w changing every rep. This file holds only the workload: its
 * inputs, what one rep is, what the oracle compares. Timing, gates,
 * engagement, target and the verdict's common sections are src/run.c's. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../include/saebench/solver.h"
#include "backend.h"
#include "commands.h"
#include "rs_fixture.h"
#include "host/host_info.h"
#include "isolate.h"
#include "npy.h"
#include "oracle/oracle_rs.h"
#include "plugin.h"
#include "run.h"
#include "shape.h"

#define RS_DEFAULT_REPS 10
#define RS_DEFAULT_WARMUP 2
/* The ridge of --x data when neither --ridge nor a shape gives one. */
#define RS_DEFAULT_RIDGE 1e-3
/* Seed of the weight perturbations for --x data without a shape: the fixture's. */
#define RS_DATA_SEED 0x1412a100deadbeefULL

static const sb_gate_def RS_GATES[] = {
    /* Parity (src/parity.h, docs/verdict.md "Parity"): the ratio
     * max(sr/30, sr_oracle/30, rel_err/(p·κ̂·ε)) ≤ 1 on each system. */
    {"RS-001", "parity of the w0 system: ratio max(sr/30, sr_oracle/30, rel_err/bound)", SB_CMP_LE, 1.0, 1, 0, 1, 0},
    {"RS-002", "parity of the last timed rep's system: ratio max(sr/30, sr_oracle/30, rel_err/bound)", SB_CMP_LE, 1.0, 1, 0, 1, 0},
    /* The deployment target: 100,000 rows/s per GPU. */
    {"RS-003", "device rows/s", SB_CMP_GE, 100000.0, 1, 1, 0, 0},
    /* The verdict/2 rule, opt-in: a fixed forward error on both systems,
     * which holds for well-conditioned systems only. */
    {"RS-004", "absolute forward error of both systems (the verdict/2 rule): max(rel_err_w0, rel_err_last)", SB_CMP_LT, 1e-9, 1, 0, 1, 1},
};

static const sb_workload RS_WORKLOAD = {
    .name = "resident-solve",
    .accepted = SB_OPT_SHAPE | SB_OPT_BACKEND | SB_OPT_REQUIRE_DEVICE | SB_OPT_REPS | SB_OPT_WARMUP | SB_OPT_OUT |
                SB_OPT_GATE | SB_OPT_QUIET | SB_OPT_METHOD | SB_OPT_DATA | SB_OPT_DUMP_BETA | SB_OPT_REUPLOAD |
                SB_OPT_CALIBRATION | SB_OPT_FACTOR | SB_OPT_THREADS | SB_OPT_STOP | SB_OPT_RIDGE | SB_OPT_PRECISION |
                SB_OPT_PLUGIN,
    .device_only_opts = SB_OPT_REUPLOAD | SB_OPT_FACTOR,
    .gates = RS_GATES,
    .ngates = sizeof RS_GATES / sizeof RS_GATES[0],
    .target_gate = "RS-003",
    .target_unit = "rows/s per GPU",
    .rate_unit = "rows",
    .doc = "docs/workloads.md §1",
    .plugin_workload = SAEBENCH_WORKLOAD_RESIDENT_SOLVE,
};

/* Everything one run holds; one owner, freed in rs_free. */
typedef struct rs_data {
    sb_shape shape;
    int64_t n, p;
    double ridge;
    sb_method method;
    int from_npy, shape_given;
    char dtypes[3][8];       /* --x, --w, --rhs as written (converted to float64) */
    double *X, *rhs, *w0;
    double *w;           /* the current rep's weights */
    double *beta;        /* the current rep's β */
    double *w_last, *beta_last; /* the resident phase's last timed rep (oracle) */
    double *beta0, *ref;
    sb_lcg gen;          /* the weight stream: every solve draws a fresh w */
    sb_precision precision;
    /* What the resident phase's solves did (--precision mixed|auto). */
    sb_rs_solve_info w0_info;   /* the w0 solve (auto decides on it) */
    int *iters;          /* refinement iterations of each timed mixed rep */
    int64_t niters, cap_iters;
    int64_t timed_reps, mixed_reps, fallback_reps;
    const char *fallback_why;
} rs_data;

static void rs_free(rs_data *d)
{
    free(d->X);
    free(d->rhs);
    free(d->w0);
    free(d->w);
    free(d->w_last);
    free(d->beta0);
    free(d->beta);
    free(d->beta_last);
    free(d->ref);
    free(d->iters);
}

static void rs_help(void)
{
    printf("usage: saebench resident-solve --shape NAME|FILE.json [options]\n"
           "       saebench resident-solve --x X.npy --w w.npy --rhs rhs.npy [--ridge R] [options]\n\n"
           "Solve (X^T W X + ridge I) beta = rhs with X resident and w changing every rep;\n"
           "time the backend, check parity against a dense LAPACKE oracle, write a verdict.\n"
           "--backend plugin:PATH.so times your own solver library (include/saebench/solver.h)\n"
           "in a child process, killed after --timeout S; docs/plugins.md.\n\n");
}

static sb_rc load_npy_inputs(rs_data *d, const sb_opts *o, sb_err *err)
{
    if (!o->x_path || !o->w_path || !o->rhs_path)
        return sb_fail(err, SB_E_INPUT, "--x, --w and --rhs go together: give all three");
    sb_npy x = {0}, w = {0}, rhs = {0};
    sb_rc rc = sb_npy_read(o->x_path, 2, &x, err);
    if (!rc)
        rc = sb_npy_read(o->w_path, 1, &w, err);
    if (!rc)
        rc = sb_npy_read(o->rhs_path, 1, &rhs, err);
    if (!rc && w.shape[0] != x.shape[0])
        rc = sb_fail(err, SB_E_INPUT, "%s: %lld weights for %lld rows of %s", o->w_path, (long long)w.shape[0],
                     (long long)x.shape[0], o->x_path);
    if (!rc && rhs.shape[0] != x.shape[1])
        rc = sb_fail(err, SB_E_INPUT, "%s: length %lld, but %s has %lld columns", o->rhs_path,
                     (long long)rhs.shape[0], o->x_path, (long long)x.shape[1]);
    if (!rc && (x.shape[0] > 2147483647LL || x.shape[1] > 2147483647LL))
        rc = sb_fail(err, SB_E_INPUT, "%s: dimensions beyond 2^31-1 are not supported", o->x_path);
    for (int64_t i = 0; !rc && i < w.shape[0]; i++)
        if (!(w.data[i] > 0))
            rc = sb_fail(err, SB_E_INPUT, "%s: weight %lld is %g; weights must be positive", o->w_path, (long long)i, w.data[i]);
    if (rc) {
        sb_npy_free(&x);
        sb_npy_free(&w);
        sb_npy_free(&rhs);
        return rc;
    }
    d->n = x.shape[0];
    d->p = x.shape[1];
    d->X = x.data;
    d->w0 = w.data;
    d->rhs = rhs.data;
    d->from_npy = 1;
    snprintf(d->dtypes[0], sizeof d->dtypes[0], "%s", x.dtype);
    snprintf(d->dtypes[1], sizeof d->dtypes[1], "%s", w.dtype);
    snprintf(d->dtypes[2], sizeof d->dtypes[2], "%s", rhs.dtype);
    return SB_OK;
}

/* The verdict's shape for .npy data: described by the data itself, built
 * through the shape parser so it obeys the same rules as a shape file. */
static sb_rc shape_of_data(rs_data *d, const sb_opts *o, sb_err *err)
{
    const char *base = strrchr(o->x_path, '/');
    char name[64];
    snprintf(name, sizeof name, "%s", base ? base + 1 : o->x_path);
    char *dot = strrchr(name, '.');
    if (dot && dot != name)
        *dot = '\0';
    char seed[24];
    snprintf(seed, sizeof seed, "0x%016llx", (unsigned long long)(d->shape_given ? d->shape.seed : RS_DATA_SEED));
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "name", name[0] ? name : "data");
    cJSON *wl = cJSON_AddArrayToObject(j, "workloads");
    cJSON_AddItemToArray(wl, cJSON_CreateString("resident-solve"));
    cJSON_AddStringToObject(j, "description", "real data from --x/--w/--rhs");
    cJSON_AddNumberToObject(j, "n", (double)d->n);
    cJSON_AddNumberToObject(j, "p", (double)d->p);
    cJSON_AddNumberToObject(j, "ridge", d->ridge);
    cJSON_AddStringToObject(j, "seed", seed);
    return sb_shape_from_json(j, o->x_path, &d->shape, err);
}

/* Bytes the run needs in host memory, or 0 on overflow. */
static uint64_t rs_host_bytes(int64_t n, int64_t p)
{
    double np = (double)n * (double)p, big = (double)(n > p ? n : p);
    /* X, the oracle's W·X, the backend's scaled copy, three square matrices
     * (backend system + K or Gram, oracle Gram) and a few vectors. */
    double bytes = 8.0 * (3.0 * np + 3.0 * big * big + 8.0 * big);
    return bytes > 1.8e19 ? 0 : (uint64_t)bytes;
}

/* --backend plugin: what a plugin is not asked to do, and the method among
 * those it implements (--method auto: the smaller system of those). */
static sb_rc rs_plugin_inputs(rs_data *d, const sb_run *r, sb_err *err)
{
    const sb_opts *o = &r->opts;
    const sb_plugin *pl = r->plugin;
    if (o->reupload)
        return sb_fail(err, SB_E_INPUT, "--reupload and --backend plugin conflict: the re-upload baseline is a built-in "
                                        "device measurement");
    if (o->factor)
        return sb_fail(err, SB_E_INPUT, "--factor and --backend plugin conflict: a plugin factors as it chooses");
    if (strcmp(o->precision, "fp64") != 0)
        return sb_fail(err, SB_E_INPUT, "--precision %s and --backend plugin conflict: a plugin chooses its own "
                                        "arithmetic, and parity judges its answers", o->precision);
    uint32_t m = pl->id.rs_methods;
    if (m == 0) /* no resident-solve at all: --require-device's exit 3 comes next */
        return SB_OK;
    int primal = (m & SAEBENCH_RS_METHOD_BIT(SAEBENCH_RS_PRIMAL)) != 0, dual = (m & SAEBENCH_RS_METHOD_BIT(SAEBENCH_RS_DUAL)) != 0;
    if (strcmp(o->method, "auto") == 0)
        d->method = (d->method == SB_METHOD_DUAL && dual) || !primal ? SB_METHOD_DUAL : SB_METHOD_PRIMAL;
    else if (!(d->method == SB_METHOD_DUAL ? dual : primal))
        return sb_fail(err, SB_E_INPUT, "--method %s: %s implements only the %s method", o->method, pl->noun,
                       primal ? "primal" : "dual");
    return SB_OK;
}

/* Load the shape and data and check every input, before any work. */
static sb_rc rs_prepare(rs_data *d, sb_run *r, sb_err *err)
{
    const sb_opts *o = &r->opts;
    sb_rc rc;
    int data = o->x_path || o->w_path || o->rhs_path;
    if (!o->shape && !data)
        return sb_fail(err, SB_E_INPUT, "resident-solve: give --shape NAME (see 'saebench shapes') or --x/--w/--rhs data");
    if (o->shape) {
        if ((rc = sb_shape_load(o->shape, &d->shape, err)))
            return rc;
        if (!sb_shape_serves(&d->shape, SB_WL_RESIDENT_SOLVE))
            return sb_fail(err, SB_E_INPUT, "shape \"%s\" is not a resident-solve shape", d->shape.name);
        d->shape_given = 1;
    }
    d->ridge = o->ridge > 0 ? o->ridge : d->shape_given ? d->shape.ridge : RS_DEFAULT_RIDGE;
    if (data) {
        if ((rc = load_npy_inputs(d, o, err)) || (rc = shape_of_data(d, o, err)))
            return rc;
    } else {
        d->n = d->shape.n;
        d->p = d->shape.p;
        if (o->ridge > 0) {
            d->shape.ridge = d->ridge; /* the verdict's shape says what ran */
        }
    }
    uint64_t need = rs_host_bytes(d->n, d->p), have = sb_physical_memory();
    if (need == 0 || (have && need > have))
        return sb_fail(err, SB_E_INPUT, "shape n=%lld p=%lld needs %.1f GiB of host memory; this machine has %.1f GiB",
                       (long long)d->n, (long long)d->p, need ? (double)need / 1073741824.0 : INFINITY,
                       (double)have / 1073741824.0);
    if (strcmp(o->method, "primal") == 0)
        d->method = SB_METHOD_PRIMAL;
    else if (strcmp(o->method, "dual") == 0)
        d->method = SB_METHOD_DUAL;
    else /* auto: the smaller system to factor (n×n when n ≤ p) */
        d->method = d->n <= d->p ? SB_METHOD_DUAL : SB_METHOD_PRIMAL;
    if (r->plugin && (rc = rs_plugin_inputs(d, r, err)))
        return rc;
    d->precision = strcmp(o->precision, "mixed") == 0 ? SB_PREC_MIXED
                 : strcmp(o->precision, "auto") == 0 ? SB_PREC_AUTO : SB_PREC_FP64;
    if (d->precision != SB_PREC_FP64 && sb_factor_is_own(o->factor))
        return sb_fail(err, SB_E_INPUT, "--precision %s factors in FP32 with the library (cuSOLVER, LAPACKE): it does not combine with --factor %s",
                       o->precision, o->factor);
    sb_run_counts(r, d->shape.reps, d->shape.warmup, RS_DEFAULT_REPS, RS_DEFAULT_WARMUP);
    return SB_OK;
}

/* The fixture (or the .npy data) and the weight stream. */
static sb_rc rs_make_inputs(rs_data *d, sb_err *err)
{
    size_t n = (size_t)d->n, p = (size_t)d->p;
    sb_lcg_seed(&d->gen, d->shape.seed);
    if (!d->X) {
        d->X = sb_alloc(n * p, sizeof *d->X, err);
        d->w0 = d->X ? sb_alloc(n, sizeof *d->w0, err) : NULL;
        d->rhs = d->w0 ? sb_alloc(p, sizeof *d->rhs, err) : NULL;
        if (!d->rhs)
            return SB_E_RUNTIME;
        sb_rs_fixture_X(&d->gen, d->n, d->p, d->X);
        sb_rs_fixture_w(&d->gen, d->n, d->w0);
        sb_rs_fixture_rhs(d->p, d->rhs);
    }
    d->w = sb_alloc(n, sizeof *d->w, err);
    d->w_last = d->w ? sb_alloc(n, sizeof *d->w_last, err) : NULL;
    d->beta0 = d->w_last ? sb_alloc(p, sizeof(double), err) : NULL;
    d->beta = d->beta0 ? sb_alloc(p, sizeof(double), err) : NULL;
    d->beta_last = d->beta ? sb_alloc(p, sizeof(double), err) : NULL;
    d->ref = d->beta_last ? sb_alloc(p, sizeof(double), err) : NULL;
    return d->ref ? SB_OK : SB_E_RUNTIME;
}

/* The next fresh w of the stream. Fixture: |u| + 1e-3 as w0 was drawn.
 * Real data: the given w scaled by a factor in [0.75, 1.25]. */
static void rs_draw_w(rs_data *d, double *w)
{
    if (!d->from_npy) {
        sb_rs_fixture_w(&d->gen, d->n, w);
        return;
    }
    for (int64_t i = 0; i < d->n; i++)
        w[i] = d->w0[i] * (1.0 + 0.25 * sb_lcg_uniform(&d->gen));
}

/* One rep: the backend's synchronous solve with this rep's w. */
typedef struct rs_rep_ctx {
    rs_data *d;
    const sb_rs_ops *ops;
    void *state;
    int record;          /* the resident phase: keep what each timed rep did */
} rs_rep_ctx;

/* Keep what a timed rep did (a struct copy: nothing here costs time). */
static void rs_record_solve(rs_data *d, const sb_rs_ops *ops, const void *state)
{
    sb_rs_solve_info info = {0};
    if (ops->last_solve)
        ops->last_solve(state, &info);
    d->timed_reps++;
    if (!info.mixed)
        return;
    d->mixed_reps++;
    if (info.fallback) {
        d->fallback_reps++;
        d->fallback_why = info.why;
    }
    if (d->niters < d->cap_iters)
        d->iters[d->niters++] = info.iterations;
}

static sb_rc rs_rep_prepare(void *ctx, int64_t k, int timed, sb_err *err)
{
    (void)k, (void)timed, (void)err;
    rs_rep_ctx *c = ctx;
    rs_draw_w(c->d, c->d->w);
    return SB_OK;
}

static sb_rc rs_rep_run(void *ctx, int64_t k, int timed, sb_err *err)
{
    (void)k, (void)timed;
    rs_rep_ctx *c = ctx;
    sb_rc rc = c->ops->solve(c->state, c->d->w, c->d->beta, err);
    if (!rc && timed && c->record)
        rs_record_solve(c->d, c->ops, c->state);
    return rc;
}

static double rs_flops(const rs_data *d)
{
    double n = (double)d->n, p = (double)d->p;
    if (d->method == SB_METHOD_PRIMAL) /* syrk n·p² + potrf p³/3 + potrs 2p² */
        return n * p * p + p * p * p / 3.0 + 2.0 * p * p;
    return n * n * n / 3.0 + 2.0 * n * n + 2.0 * n * p; /* potrf + potrs + Xᵀy */
}

static double rs_bytes(const rs_data *d)
{
    double n = (double)d->n, p = (double)d->p;
    if (d->method == SB_METHOD_PRIMAL) /* read X and w, write the p×p factor once, β */
        return 8.0 * (n * p + n + p * p + p);
    return 8.0 * (n * n + n * p + 2.0 * n + p); /* read K, X (for Xᵀy), w, y; write β */
}

/* Time one state (resident, or X re-uploaded every rep). The resident phase
 * also solves the w0 system first (its β is checked) and, after the timed
 * reps, one profiling solve for the per-phase breakdown. */
static void rs_phase(sb_run *r, rs_data *d, int reupload)
{
    const char *name = reupload ? "reupload" : "resident";
    sb_rs_problem prob = {
        .n = d->n, .p = d->p, .X = d->X, .rhs = d->rhs, .ridge = d->ridge, .method = d->method,
        .reupload = reupload, .max_solves = (int)(r->warmup + r->max_attempts + 2), .factor = r->opts.factor,
    };
    prob.precision = d->precision;
    prob.threads = r->opts.threads;
    rs_rep_ctx c = {d, r->backend->resident_solve, NULL, !reupload};
    sb_err err = {{0}};
    const char *who = sb_run_backend_noun(r);
    if (r->where)
        snprintf(r->where->phase, sizeof r->where->phase, "%s", name);
    sb_run_at(r, "create", -1);
    sb_run_progress(r, "%s: staging X (%lld x %lld)", name, (long long)d->n, (long long)d->p);
    if (c.ops->create(&prob, &c.state, &err)) {
        sb_run_fail(r, "%s failed staging the %s phase: %s", who, name, err.msg);
        return;
    }
    sb_run_at(r, "w0", -1);
    if (!reupload && c.ops->solve(c.state, d->w0, d->beta0, &err)) {
        sb_run_fail(r, "%s failed on the w0 solve: %s", who, err.msg);
    } else {
        if (!reupload && c.ops->last_solve)
            c.ops->last_solve(c.state, &d->w0_info);
        sb_rep rep = {rs_rep_prepare, rs_rep_run, &c};
        sb_phase *ph = sb_run_time(r, name, &rep);
        if (ph->completed && !reupload) {
            /* The last timed rep's system and β, kept for the oracle. */
            memcpy(d->w_last, d->w, (size_t)d->n * sizeof(double));
            memcpy(d->beta_last, d->beta, (size_t)d->p * sizeof(double));
        }
        /* Deferred device status of every solve so far (info flags). */
        sb_run_at(r, "check", -1);
        if (ph->completed && c.ops->check(c.state, &err))
            sb_run_fail(r, "%s failed in the %s phase: %s", r->plugin ? who : "device", name, err.msg);
        if (ph->completed && !reupload && !r->failed) {
            sb_rs_breakdown bd = {0};
            rs_draw_w(d, d->w);
            sb_run_at(r, "profile", -1);
            if (c.ops->profile(c.state, d->w, d->beta, &bd, &err) || c.ops->check(c.state, &err))
                sb_run_fail(r, "%s failed in the profiling solve: %s", r->plugin ? who : "device", err.msg);
            cJSON *b = cJSON_CreateObject();
            cJSON_AddNumberToObject(b, "upload", bd.upload_ms);
            cJSON_AddNumberToObject(b, "build", bd.build_ms);
            cJSON_AddNumberToObject(b, "factor", bd.factor_ms);
            cJSON_AddNumberToObject(b, "solve", bd.solve_ms);
            cJSON_AddNumberToObject(b, "download", bd.download_ms);
            if (!r->timing_extra)
                r->timing_extra = cJSON_CreateObject();
            cJSON_AddItemToObject(r->timing_extra, "breakdown_ms", b);
            sb_run_note(r, "breakdown ms: build %.3f  factor %.3f  solve %.3f  (upload %.3f download %.3f)", bd.build_ms,
                        bd.factor_ms, bd.solve_ms, bd.upload_ms, bd.download_ms);
        }
        sb_telemetry t = {0};
        c.ops->telemetry(c.state, &t);
        sb_run_phase_telemetry(ph, &t);
    }
    sb_run_at(r, "destroy", -1);
    c.ops->destroy(c.state);
}

/* Parity of the w0 system and of the last timed rep's against the oracle,
 * judged by the one rule of src/parity.h. */
static void rs_parity(sb_run *r, rs_data *d)
{
    sb_solve_parity s0, sl;
    int ok0 = 0, okl = 0;
    int ran = r->nphases > 0 && r->phases[0].completed;
    if (ran) {
        sb_err oerr = {{0}};
        sb_run_progress(r, "oracle: dense LAPACKE solve of the w0 system");
        ok0 = sb_oracle_rs_check(d->n, d->p, d->X, d->w0, d->rhs, d->ridge, d->beta0, d->ref, &s0, &oerr) == SB_OK;
        sb_run_progress(r, "oracle: dense LAPACKE solve of the last rep's system");
        okl = sb_oracle_rs_check(d->n, d->p, d->X, d->w_last, d->rhs, d->ridge, d->beta_last, d->ref, &sl, &oerr) == SB_OK;
        sb_run_gate(r, "RS-001", ok0 ? s0.ratio : NAN);
        sb_run_gate(r, "RS-002", okl ? sl.ratio : NAN);
        sb_run_gate(r, "RS-004", ok0 && okl ? fmax(s0.rel_err, sl.rel_err) : NAN);
        sb_run_gate(r, "RS-003", (double)d->n / r->phases[0].stats.median); /* rows per second of the timed reps */
    }
    double rel0 = ok0 ? s0.rel_err : NAN, rel_last = okl ? sl.rel_err : NAN;
    double abs0 = ok0 ? s0.abs_err : NAN, abs_last = okl ? sl.abs_err : NAN;
    cJSON *parity = sb_run_parity(r, "LAPACKE dposv on the full Gram from DGEMM (row-major), float64");
    cJSON_AddStringToObject(parity, "rule", SB_PARITY_RULE);
    cJSON_AddStringToObject(parity, "system", "primal: A = X^T W X + ridge I, N = p, b = rhs; infinity norms");
    cJSON_AddNumberToObject(parity, "residual_limit", SB_PARITY_RESIDUAL_MAX);
    cJSON_AddNumberToObject(parity, "eps", SB_PARITY_EPS);
    cJSON_AddNumberToObject(parity, "tolerance_last", sb_run_threshold(r, "RS-002"));
    cJSON_AddItemToObject(parity, "max_abs_err", sb_json_number(fmax(abs0, abs_last)));
    cJSON_AddItemToObject(parity, "rel_err", sb_json_number(fmax(rel0, rel_last)));
    cJSON_AddItemToObject(parity, "rel_err_w0", sb_json_number(rel0));
    cJSON_AddItemToObject(parity, "rel_err_last", sb_json_number(rel_last));
    cJSON_AddItemToObject(parity, "kappa_est", sb_json_number(ok0 && okl ? fmax(s0.kappa_est, sl.kappa_est) : NAN));
    cJSON_AddItemToObject(parity, "scaled_residual",
                          sb_json_number(ok0 && okl ? fmax(s0.scaled_residual, sl.scaled_residual) : NAN));
    cJSON_AddItemToObject(parity, "scaled_residual_oracle",
                          sb_json_number(ok0 && okl ? fmax(s0.scaled_residual_oracle, sl.scaled_residual_oracle) : NAN));
    cJSON_AddItemToObject(parity, "ratio", sb_json_number(ok0 && okl ? fmax(s0.ratio, sl.ratio) : NAN));
    if (ok0)
        cJSON_AddItemToObject(parity, "w0", sb_parity_json(&s0));
    if (okl)
        cJSON_AddItemToObject(parity, "last", sb_parity_json(&sl));
    if (ran)
        sb_run_note(r, "parity vs LAPACKE dposv: w0 %.2e  last rep %.2e  κ̂ %.1e, bound %.1e, sr %.2g (≤ %g)  ratio %.2g (pass ≤ %g)",
                    rel0, rel_last, ok0 && okl ? fmax(s0.kappa_est, sl.kappa_est) : NAN, ok0 && okl ? fmax(s0.bound, sl.bound) : NAN,
                    ok0 && okl ? fmax(s0.scaled_residual, sl.scaled_residual) : NAN, SB_PARITY_RESIDUAL_MAX,
                    ok0 && okl ? fmax(s0.ratio, sl.ratio) : NAN, sb_run_threshold(r, "RS-001"));
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* The verdict's precision section: what was asked, what the timed reps ran,
 * their refinement iterations and fallbacks (docs/workloads.md §1, Precision). */
static const char *const PREC_NAMES[] = {"fp64", "mixed", "auto"};

static void rs_precision_json(sb_run *r, rs_data *d)
{
    cJSON *pj = cJSON_GetObjectItemCaseSensitive(r->v.root, "precision");
    if (r->nphases == 0)
        return;
    if (r->plugin) { /* its arithmetic is its own; the parity gates judge the answers */
        cJSON_AddStringToObject(pj, "note", "the plugin's own arithmetic, not seen by saebench: the parity gates judge its answers");
        return;
    }
    cJSON_AddStringToObject(pj, "used", d->mixed_reps > 0 ? "mixed" : "fp64");
    if (d->precision != SB_PREC_FP64) {
        const sb_rs_solve_info *w0 = &d->w0_info;
        cJSON_AddStringToObject(pj, "factor_precision", "fp32, refined in fp64");
        cJSON_AddStringToObject(pj, "residual", d->method == SB_METHOD_PRIMAL
                                                    ? "fp64: rhs - ridge*beta - X^T(w*(X beta)), two passes over X per row chunk"
                                                    : "fp64: v - (K + diag(ridge/w)) y, one symmetric matrix-vector product with the resident K");
        cJSON_AddStringToObject(pj, "criterion", "LAPACK dsposv: max|r| <= max|x| * ||A||_inf * 2^-53 * sqrt(N)");
        cJSON_AddNumberToObject(pj, "iteration_cap", SB_REFINE_MAX);
        cJSON_AddNumberToObject(pj, "timed_reps", (double)d->timed_reps);
        cJSON_AddNumberToObject(pj, "mixed_reps", (double)d->mixed_reps);
        cJSON_AddNumberToObject(pj, "fallback_reps", (double)d->fallback_reps);
        cJSON_AddItemToObject(pj, "fallback_reason", d->fallback_why ? cJSON_CreateString(d->fallback_why) : cJSON_CreateNull());
        cJSON *it = cJSON_CreateObject();
        if (d->niters > 0) {
            qsort(d->iters, (size_t)d->niters, sizeof *d->iters, cmp_int);
            int64_t m = d->niters;
            double med = m % 2 ? d->iters[m / 2] : 0.5 * (d->iters[m / 2 - 1] + d->iters[m / 2]);
            cJSON_AddNumberToObject(it, "median", med);
            cJSON_AddNumberToObject(it, "min", d->iters[0]);
            cJSON_AddNumberToObject(it, "max", d->iters[m - 1]);
        } else {
            cJSON_AddNullToObject(it, "median");
            cJSON_AddNullToObject(it, "min");
            cJSON_AddNullToObject(it, "max");
        }
        cJSON_AddItemToObject(pj, "refinement_iterations", it);
        cJSON *w0j = cJSON_CreateObject();
        cJSON_AddBoolToObject(w0j, "mixed", w0->mixed);
        cJSON_AddNumberToObject(w0j, "iterations", w0->iterations);
        cJSON_AddBoolToObject(w0j, "fallback", w0->fallback);
        cJSON_AddItemToObject(pj, "w0_solve", w0j);
        if (d->precision == SB_PREC_AUTO)
            cJSON_AddStringToObject(pj, "auto_choice", w0->auto_choice ? w0->auto_choice : "not decided: the w0 solve did not run");
        if (d->niters > 0)
            sb_run_note(r, "precision %s: refinement iterations median %g (max %d); %lld of %lld timed reps fell back to FP64%s%s",
                        PREC_NAMES[d->precision], cJSON_GetObjectItem(it, "median")->valuedouble, d->iters[d->niters - 1],
                        (long long)d->fallback_reps, (long long)d->timed_reps, d->fallback_why ? ": " : "",
                        d->fallback_why ? d->fallback_why : "");
        if (d->precision == SB_PREC_AUTO && w0->auto_choice)
            sb_run_note(r, "precision auto chose %s", w0->auto_choice);
    }
}

static int implements_rs(const sb_backend *b) { return b->resident_solve != NULL; }

/* Load and check every input: exit 2 before any work, else -1. */
static int rs_load(sb_run *r, rs_data *d)
{
    sb_err err = {{0}};
    if (rs_prepare(d, r, &err)) {
        fprintf(stderr, "saebench: %s\n", err.msg);
        return SB_EXIT_USAGE;
    }
    return -1;
}

/* The verdict's workload sections before the run, then the backend. */
static int rs_start(sb_run *r, rs_data *d)
{
    sb_host_set_threads(r->opts.threads);
    char label[96];
    snprintf(label, sizeof label, "%s, method %s%s", d->from_npy ? "npy" : "fixture",
             d->method == SB_METHOD_PRIMAL ? "primal" : "dual",
             d->from_npy && d->shape_given ? "; --shape supplied reps, warm-up and seed only" : "");
    int rc = sb_run_verdict_init(r, &d->shape, label);
    if (rc >= 0)
        return rc;
    cJSON *root = r->v.root;
    cJSON *shape_json = cJSON_GetObjectItemCaseSensitive(root, "shape");
    cJSON_AddStringToObject(shape_json, "data", d->from_npy ? "npy" : "fixture");
    if (d->from_npy) {
        cJSON_AddStringToObject(shape_json, "x", r->opts.x_path);
        cJSON_AddStringToObject(shape_json, "w", r->opts.w_path);
        cJSON_AddStringToObject(shape_json, "rhs", r->opts.rhs_path);
        cJSON *dt = cJSON_AddObjectToObject(shape_json, "dtypes");
        cJSON_AddStringToObject(dt, "x", d->dtypes[0]);
        cJSON_AddStringToObject(dt, "w", d->dtypes[1]);
        cJSON_AddStringToObject(dt, "rhs", d->dtypes[2]);
        if (d->shape_given)
            cJSON_AddStringToObject(shape_json, "defaults_from", r->opts.shape);
    }
    cJSON_AddStringToObject(root, "scope", "component: the resident penalized normal-equations inner solve, not the full SAE encode");
    cJSON_AddStringToObject(root, "method", d->method == SB_METHOD_PRIMAL ? "primal" : "dual");
    /* what runs: a backend's own variant as asked, else the library until
     * the backend says otherwise (auto; replaced after the run) */
    cJSON_AddStringToObject(root, "factor", r->plugin ? "plugin" : sb_factor_is_own(r->opts.factor) ? r->opts.factor : "library");
    cJSON_AddNumberToObject(root, "ridge", d->ridge);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(root, "precision"), "requested", PREC_NAMES[d->precision]);
    return sb_run_choose_backend(r, implements_rs);
}

/* The data, the per-rep record and the work per rep: exit 4 when out of memory. */
static int rs_build(sb_run *r, rs_data *d)
{
    sb_err err = {{0}};
    d->cap_iters = r->max_reps;
    if (rs_make_inputs(d, &err) || !(d->iters = sb_alloc((size_t)d->cap_iters, sizeof *d->iters, &err))) {
        fprintf(stderr, "saebench: %s\n", err.msg);
        return SB_EXIT_RUNTIME;
    }
    sb_run_rate(r, (double)d->n);
    sb_run_roofline(r, rs_flops(d), rs_bytes(d));
    if (d->precision != SB_PREC_FP64)
        sb_run_no_roofline(r, "none for --precision mixed|auto: the ceilings are FP64 rates, which do not bound an FP32 factorization");
    return -1;
}

/* The resident phase, and the re-upload baseline when asked on a device. */
static void rs_phases(sb_run *r, rs_data *d)
{
    rs_phase(r, d, 0);
    if (r->opts.reupload && !r->failed) {
        if (r->backend->is_device)
            rs_phase(r, d, 1);
        else
            cJSON_AddStringToObject(r->v.root, "residency_note", "--reupload applies to device backends; the host holds X in its own memory");
    }
}

/* What ran (the factor variant, precision), parity, and the --dump-beta file. */
static void rs_verdict_extras(sb_run *r, rs_data *d)
{
    cJSON *root = r->v.root;
    if (d->w0_info.factor) /* the variant that ran, as the backend names it */
        cJSON_ReplaceItemInObjectCaseSensitive(root, "factor", cJSON_CreateString(d->w0_info.factor));
    if (d->w0_info.factor_why) {
        cJSON_AddStringToObject(root, "factor_choice", d->w0_info.factor_why);
        sb_run_note(r, "--factor auto ran %s: %s", d->w0_info.factor ? d->w0_info.factor : "library", d->w0_info.factor_why);
    }
    rs_precision_json(r, d);
    rs_parity(r, d);
    if (r->opts.dump_beta && r->nphases && r->phases[0].completed) {
        sb_err derr = {{0}};
        if (sb_npy_write(r->opts.dump_beta, d->beta0, d->p, 0, &derr))
            sb_run_late_input_error(r, derr.msg);
    }
}

/* The two steps as sb_run_isolated takes them (--backend plugin). */
static void rs_phases_step(sb_run *r, void *d) { rs_phases(r, d); }
static void rs_verdict_extras_step(sb_run *r, void *d) { rs_verdict_extras(r, d); }

int sb_cmd_resident_solve(int argc, char **argv)
{
    sb_run r;
    int rc = sb_run_init(&r, &RS_WORKLOAD, argc, argv, rs_help);
    if (rc >= 0)
        return rc;
    rs_data d;
    memset(&d, 0, sizeof d);
    if ((rc = rs_load(&r, &d)) < 0 && (rc = rs_start(&r, &d)) < 0 && (rc = rs_build(&r, &d)) < 0) {
        if (r.plugin) { /* the reps in a child process; this one writes the verdict */
            rc = sb_run_isolated(&r, rs_phases_step, rs_verdict_extras_step, &d);
        } else {
            rs_phases(&r, &d);
            rs_verdict_extras(&r, &d);
            rc = sb_run_finish(&r);
        }
    }
    sb_run_free(&r); /* nothing left to free after sb_run_finish or choose_backend's exit */
    rs_free(&d);
    return rc;
}
