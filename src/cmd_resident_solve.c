/* resident-solve (SPEC 1.1): (XᵀWX + ridge·I)β = rhs with X resident and w
 * changing every rep. Orchestration only: the math is the backend's, the
 * reference is the oracle's, and this file times, gates and reports. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "calibration.h"
#include "cli.h"
#include "commands.h"
#include "fixture.h"
#include "host/host_info.h"
#include "npy.h"
#include "oracle/oracle_dense.h"
#include "shape.h"
#include "timing.h"
#include "verdict.h"

#define RS_ACCEPTED                                                                              \
    (SB_OPT_SHAPE | SB_OPT_BACKEND | SB_OPT_REQUIRE_DEVICE | SB_OPT_REPS | SB_OPT_WARMUP |       \
     SB_OPT_OUT | SB_OPT_GATE | SB_OPT_QUIET | SB_OPT_METHOD | SB_OPT_DATA | SB_OPT_DUMP_BETA |   \
     SB_OPT_REUPLOAD | SB_OPT_CALIBRATION | SB_OPT_FACTOR | SB_OPT_THREADS)

#define RS_DEFAULT_REPS 10
#define RS_DEFAULT_WARMUP 2
/* Parity (SPEC 1.1): ‖β_dev − β_cpu‖∞ / ‖β_cpu‖∞ < 1e-9. */
#define RS_PARITY_TOL 1e-9
/* Deployment target (SPEC 1.1), rows/s per GPU. */
#define RS_TARGET_ROWS_PER_S 100000.0

static const char *const RS_GATE_IDS[] = {"RS-001", "RS-002", "RS-003"};

/* Everything one run holds; one owner, freed in rs_run_free. */
typedef struct rs_run {
    sb_opts opts;
    sb_shape shape;
    int64_t n, p, reps, warmup;
    double ridge;
    sb_method method;
    double *X, *rhs, *w0;
    double *ws;          /* later solves' weights: (warmup + reps + 1 profile) × n */
    double *ws_reupload; /* reupload baseline weights: (warmup + reps) × n */
    double *beta0, *beta_last, *ref;
    double *samples, *samples_reupload;
    const char *data_origin; /* "fixture" or "npy" */
} rs_run;

static void rs_run_free(rs_run *r)
{
    free(r->X);
    free(r->rhs);
    free(r->w0);
    free(r->ws);
    free(r->ws_reupload);
    free(r->beta0);
    free(r->beta_last);
    free(r->ref);
    free(r->samples);
    free(r->samples_reupload);
}

static void rs_help(void)
{
    printf("usage: saebench resident-solve --shape NAME|FILE.json [options]\n\n"
           "Solve (X^T W X + ridge I) beta = rhs with X resident and w changing every rep;\n"
           "time the backend, check parity against a dense LAPACKE oracle, write a verdict.\n"
           "Gates: RS-001 parity of the w0 system, RS-002 parity of the last timed rep,\n"
           "RS-003 device rows/s >= target (100000, device runs only).\n\n");
    sb_print_opts_help(RS_ACCEPTED);
}

static sb_rc check_gate_ids(const sb_opts *o, sb_err *err)
{
    for (int i = 0; i < o->ngates; i++) {
        int known = 0;
        for (size_t k = 0; k < sizeof RS_GATE_IDS / sizeof RS_GATE_IDS[0]; k++)
            known |= strcmp(o->gates[i].id, RS_GATE_IDS[k]) == 0;
        if (!known)
            return sb_fail(err, SB_E_INPUT, "--gate: unknown gate '%s' for resident-solve (RS-001, RS-002, RS-003)", o->gates[i].id);
    }
    return SB_OK;
}

static sb_rc load_npy_inputs(rs_run *r, sb_err *err)
{
    const sb_opts *o = &r->opts;
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
    r->n = x.shape[0];
    r->p = x.shape[1];
    r->X = x.data;
    r->w0 = w.data;
    r->rhs = rhs.data;
    r->data_origin = "npy";
    return SB_OK;
}

/* Bytes the run needs in host memory, or 0 on overflow. */
static uint64_t rs_host_bytes(int64_t n, int64_t p, int64_t solves)
{
    double np = (double)n * (double)p, big = (double)(n > p ? n : p);
    /* X, the oracle's W·X, the backend's scaled copy, three square matrices
     * (backend system + K or Gram, oracle Gram) and the drawn weights. */
    double bytes = 8.0 * (3.0 * np + 3.0 * big * big + (double)solves * (double)n + 8.0 * big);
    return bytes > 1.8e19 ? 0 : (uint64_t)bytes;
}

static sb_rc rs_prepare(rs_run *r, sb_err *err)
{
    const sb_opts *o = &r->opts;
    sb_rc rc;
    if (!o->shape)
        return sb_fail(err, SB_E_INPUT, "resident-solve: --shape is required (see 'saebench shapes')");
    if ((rc = check_gate_ids(o, err)))
        return rc;
    if ((rc = sb_shape_load(o->shape, &r->shape, err)))
        return rc;
    if (!sb_shape_serves(&r->shape, SB_WL_RESIDENT_SOLVE))
        return sb_fail(err, SB_E_INPUT, "shape \"%s\" is not a resident-solve shape", r->shape.name);
    if (o->out && (rc = sb_check_writable(o->out, err)))
        return rc;
    if (o->dump_beta && (rc = sb_check_writable(o->dump_beta, err)))
        return rc;
    if (o->calibration) {
        sb_calibration cal;
        if ((rc = sb_calibration_load(o->calibration, &cal, err)))
            return rc;
    }
    r->reps = o->reps > 0 ? o->reps : (r->shape.reps > 0 ? r->shape.reps : RS_DEFAULT_REPS);
    r->warmup = o->warmup >= 0 ? o->warmup : (r->shape.warmup >= 0 ? r->shape.warmup : RS_DEFAULT_WARMUP);
    r->ridge = r->shape.ridge;
    if (o->x_path || o->w_path || o->rhs_path) {
        if ((rc = load_npy_inputs(r, err)))
            return rc;
    } else {
        r->n = r->shape.n;
        r->p = r->shape.p;
        r->data_origin = "fixture";
    }
    int64_t solves = 2 + 2 * (r->warmup + r->reps);
    uint64_t need = rs_host_bytes(r->n, r->p, solves), have = sb_physical_memory();
    if (need == 0 || (have && need > have))
        return sb_fail(err, SB_E_INPUT, "shape n=%lld p=%lld needs %.1f GiB of host memory; this machine has %.1f GiB",
                       (long long)r->n, (long long)r->p, need ? (double)need / 1073741824.0 : INFINITY,
                       (double)have / 1073741824.0);
    if (strcmp(o->method, "primal") == 0)
        r->method = SB_METHOD_PRIMAL;
    else if (strcmp(o->method, "dual") == 0)
        r->method = SB_METHOD_DUAL;
    else /* auto: the smaller system to factor (n×n when n ≤ p) */
        r->method = r->n <= r->p ? SB_METHOD_DUAL : SB_METHOD_PRIMAL;
    return SB_OK;
}

/* Draw the fixture (or take the .npy data) and every weight vector up front,
 * so no generator runs inside a timed region. */
static sb_rc rs_make_inputs(rs_run *r, sb_err *err)
{
    size_t n = (size_t)r->n, p = (size_t)r->p;
    size_t later = (size_t)(r->warmup + r->reps + 1), base = (size_t)(r->warmup + r->reps);
    sb_lcg g;
    sb_lcg_seed(&g, r->shape.seed);
    if (!r->X) {
        r->X = sb_alloc(n * p, sizeof *r->X, err);
        r->w0 = r->X ? sb_alloc(n, sizeof *r->w0, err) : NULL;
        r->rhs = r->w0 ? sb_alloc(p, sizeof *r->rhs, err) : NULL;
        if (!r->rhs)
            return SB_E_RUNTIME;
        sb_rs_fixture_X(&g, r->n, r->p, r->X);
        sb_rs_fixture_w(&g, r->n, r->w0);
        sb_rs_fixture_rhs(r->p, r->rhs);
    }
    r->ws = sb_alloc(later * n, sizeof *r->ws, err);
    r->ws_reupload = r->ws && r->opts.reupload ? sb_alloc(base * n, sizeof *r->ws, err) : NULL;
    r->beta0 = r->ws ? sb_alloc(p, sizeof(double), err) : NULL;
    r->beta_last = r->beta0 ? sb_alloc(p, sizeof(double), err) : NULL;
    r->ref = r->beta_last ? sb_alloc(p, sizeof(double), err) : NULL;
    r->samples = r->ref ? sb_alloc((size_t)r->reps, sizeof(double), err) : NULL;
    r->samples_reupload = r->samples ? sb_alloc((size_t)r->reps, sizeof(double), err) : NULL;
    if (!r->samples_reupload || (r->opts.reupload && !r->ws_reupload))
        return SB_E_RUNTIME;
    if (strcmp(r->data_origin, "fixture") == 0) {
        sb_rs_fixture_w(&g, r->n * (int64_t)later, r->ws);
        if (r->ws_reupload)
            sb_rs_fixture_w(&g, r->n * (int64_t)base, r->ws_reupload);
    } else {
        /* Real data: later solves perturb the given w by a factor in
         * [0.75, 1.25] from the shape's stream, so no rep reuses a factor. */
        for (size_t k = 0; k < later * n; k++)
            r->ws[k] = r->w0[k % n] * (1.0 + 0.25 * sb_lcg_uniform(&g));
        for (size_t k = 0; r->ws_reupload && k < base * n; k++)
            r->ws_reupload[k] = r->w0[k % n] * (1.0 + 0.25 * sb_lcg_uniform(&g));
    }
    return SB_OK;
}

/* Result of timing one state (resident or reupload). */
typedef struct rs_timed {
    sb_rc rc;
    sb_err err;
    sb_stats stats;
    sb_telemetry tele;
    sb_rs_breakdown bd;
    int completed;     /* every timed solve returned and check() passed */
} rs_timed;

/* Stage, solve w0 (untimed, parity), warm up, time reps, check the device's
 * deferred status, then one profiled solve for the phase breakdown. */
static void rs_time_state(rs_run *r, const sb_rs_ops *ops, int reupload, rs_timed *t)
{
    size_t n = (size_t)r->n;
    const double *ws = reupload ? r->ws_reupload : r->ws;
    double *samples = reupload ? r->samples_reupload : r->samples;
    double *scratch = reupload ? r->ref : r->beta_last;
    memset(t, 0, sizeof *t);
    const int progress = !r->opts.quiet && isatty(STDERR_FILENO);
    sb_rs_problem prob = {
        .n = r->n, .p = r->p, .X = r->X, .rhs = r->rhs, .ridge = r->ridge, .method = r->method,
        .reupload = reupload, .max_solves = (int)(r->warmup + r->reps + 2), .factor = r->opts.factor,
    };
    void *state = NULL;
    if ((t->rc = ops->create(&prob, &state, &t->err)))
        return;
    if (!reupload && (t->rc = ops->solve(state, r->w0, r->beta0, &t->err)))
        goto out;
    for (int64_t k = 0; k < r->warmup; k++)
        if ((t->rc = ops->solve(state, ws + (size_t)k * n, scratch, &t->err)))
            goto out;
    for (int64_t k = 0; k < r->reps; k++) {
        const double *w = ws + (size_t)(r->warmup + k) * n;
        double t0 = sb_now_s();
        t->rc = ops->solve(state, w, scratch, &t->err);
        samples[k] = sb_now_s() - t0;
        if (t->rc)
            goto out;
        if (progress) /* between reps, outside every timed interval */
            fprintf(stderr, "\r  %s rep %lld/%lld  %.3f ms ", reupload ? "reupload" : "resident",
                    (long long)(k + 1), (long long)r->reps, samples[k] * 1e3);
    }
    if (progress)
        fprintf(stderr, "\r%*s\r", 48, "");
    if ((t->rc = ops->check(state, &t->err)))
        goto out;
    t->stats = sb_stats_of(samples, (size_t)r->reps);
    t->completed = 1;
    if (!reupload) {
        /* Profiling solve: its own fresh w, after the timed region. Its β is
         * not used, so the last timed rep's β stays in beta_last. */
        const double *w = ws + (size_t)(r->warmup + r->reps) * n;
        if ((t->rc = ops->profile(state, w, r->ref, &t->bd, &t->err)) == SB_OK)
            t->rc = ops->check(state, &t->err);
        if (t->rc)
            t->completed = 0;
    }
out:
    ops->telemetry(state, &t->tele);
    ops->destroy(state);
}

static double rs_flops(const rs_run *r)
{
    double n = (double)r->n, p = (double)r->p;
    if (r->method == SB_METHOD_PRIMAL) /* syrk n·p² + potrf p³/3 + potrs 2p² */
        return n * p * p + p * p * p / 3.0 + 2.0 * p * p;
    return n * n * n / 3.0 + 2.0 * n * n + 2.0 * n * p; /* potrf + potrs + Xᵀy */
}

static double rs_bytes(const rs_run *r)
{
    double n = (double)r->n, p = (double)r->p;
    if (r->method == SB_METHOD_PRIMAL) /* read X and w, write the p×p factor once, β */
        return 8.0 * (n * p + n + p * p + p);
    return 8.0 * (n * n + n * p + 2.0 * n + p); /* read K, X (for Xᵀy), w, y; write β */
}

static cJSON *stats_json(const sb_stats *s, const double *samples, int64_t reps, int64_t warmup)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "reps", (double)reps);
    cJSON_AddNumberToObject(o, "warmup", (double)warmup);
    cJSON_AddNumberToObject(o, "median_s", s->median);
    cJSON_AddNumberToObject(o, "min_s", s->min);
    cJSON_AddNumberToObject(o, "max_s", s->max);
    cJSON_AddNumberToObject(o, "spread", s->spread);
    cJSON *arr = cJSON_AddArrayToObject(o, "samples_s");
    for (int64_t k = 0; samples && k < reps; k++)
        cJSON_AddItemToArray(arr, cJSON_CreateNumber(samples[k]));
    return o;
}

static cJSON *telemetry_json(const sb_telemetry *t)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "handle_creations", (double)t->handle_creations);
    cJSON_AddNumberToObject(o, "factorizations", (double)t->factorizations);
    cJSON_AddNumberToObject(o, "frame_builds", (double)t->frame_builds);
    cJSON_AddNumberToObject(o, "h2d_bytes", (double)t->h2d_bytes);
    cJSON_AddNumberToObject(o, "d2h_bytes", (double)t->d2h_bytes);
    cJSON_AddNumberToObject(o, "kernel_launches", (double)t->kernel_launches);
    return o;
}

static void print_summary(const rs_run *r, const sb_backend *b, int engaged, const rs_timed *t,
                          double rows, double bound_rows, double rel0, double rel_last, int exit_code,
                          const char *why)
{
    if (r->opts.quiet)
        return;
    fprintf(stderr, "saebench resident-solve  shape %s (n=%lld p=%lld, %s)  backend %s  method %s\n",
            r->shape.name, (long long)r->n, (long long)r->p, r->data_origin, b ? b->name : "none",
            r->method == SB_METHOD_PRIMAL ? "primal" : "dual");
    if (t && t->completed)
        fprintf(stderr, "  %.4f ms/solve median (min %.4f, max %.4f, spread %.1f%%, %lld reps)  %.0f rows/s  roofline %.0f rows/s\n",
                t->stats.median * 1e3, t->stats.min * 1e3, t->stats.max * 1e3, t->stats.spread * 100,
                (long long)r->reps, rows, bound_rows);
    if (t && t->completed)
        fprintf(stderr, "  breakdown ms: build %.3f  factor %.3f  solve %.3f  (upload %.3f download %.3f)\n",
                t->bd.build_ms, t->bd.factor_ms, t->bd.solve_ms, t->bd.upload_ms, t->bd.download_ms);
    if (isfinite(rel0) || isfinite(rel_last))
        fprintf(stderr, "  parity vs LAPACKE dposv: w0 %.2e  last rep %.2e  (tolerance %.0e)\n", rel0, rel_last,
                sb_gate_threshold(&r->opts, "RS-001", RS_PARITY_TOL));
    fprintf(stderr, "  device engaged: %s%s%s\n", engaged ? "yes" : "no", why && *why ? " — " : "", why ? why : "");
    fprintf(stderr, "  verdict: %s (exit %d)%s%s\n", exit_code == 0 ? "pass" : "fail", exit_code,
            r->opts.out ? ", written to " : "", r->opts.out ? r->opts.out : "");
}

/* Pick the backend; on decline fill why. Never silently swaps a requested device for the host. */
static const sb_backend *rs_pick_backend(const sb_opts *o, sb_device_info *info, int *declined, sb_err *why)
{
    *declined = 0;
    if (strcmp(o->backend, "host") == 0)
        return &sb_host_backend;
    const sb_backend *dev = sb_backend_by_name("cuda");
    if (dev->probe(info, why) == SB_OK && dev->resident_solve)
        return dev;
    if (dev->resident_solve == NULL && why->msg[0] == '\0')
        sb_fail(why, SB_E_NODEVICE, "backend %s does not implement resident-solve", dev->name);
    *declined = 1;
    return strcmp(o->backend, "auto") == 0 ? &sb_host_backend : NULL;
}

int sb_cmd_resident_solve(int argc, char **argv)
{
    rs_run r = {0};
    sb_err err = {{0}};
    sb_rc rc = sb_parse_opts(argc, argv, RS_ACCEPTED, &r.opts, &err);
    if (rc == SB_OK && r.opts.help) {
        rs_help();
        return SB_EXIT_PASS;
    }
    if (rc == SB_OK)
        rc = rs_prepare(&r, &err);
    if (rc) {
        fprintf(stderr, "saebench: %s\n", err.msg);
        rs_run_free(&r);
        return SB_EXIT_USAGE;
    }
    sb_host_set_threads(r.opts.threads);

    sb_device_info info;
    memset(&info, 0, sizeof info);
    sb_err why = {{0}};
    int declined = 0;
    const sb_backend *b = rs_pick_backend(&r.opts, &info, &declined, &why);
    int device_wanted = r.opts.require_device || strcmp(r.opts.backend, "cuda") == 0;

    sb_verdict v;
    if (sb_verdict_init(&v, "resident-solve", &r.shape, &err)) {
        fprintf(stderr, "saebench: %s\n", err.msg);
        rs_run_free(&r);
        return SB_EXIT_RUNTIME;
    }
    cJSON *root = v.root;
    cJSON *shape_json = cJSON_GetObjectItemCaseSensitive(root, "shape");
    cJSON_ReplaceItemInObjectCaseSensitive(shape_json, "n", cJSON_CreateNumber((double)r.n));
    cJSON_ReplaceItemInObjectCaseSensitive(shape_json, "p", cJSON_CreateNumber((double)r.p));
    cJSON_AddStringToObject(shape_json, "data", r.data_origin);
    if (strcmp(r.data_origin, "npy") == 0) {
        cJSON_AddStringToObject(shape_json, "x", r.opts.x_path);
        cJSON_AddStringToObject(shape_json, "w", r.opts.w_path);
        cJSON_AddStringToObject(shape_json, "rhs", r.opts.rhs_path);
    }
    cJSON_AddStringToObject(root, "scope",
                            "component: the resident penalized normal-equations inner solve, not the full SAE encode");
    cJSON_AddStringToObject(root, "method", r.method == SB_METHOD_PRIMAL ? "primal" : "dual");
    cJSON_AddStringToObject(root, "factor", r.opts.factor ? r.opts.factor : "library");

    int exit_code = SB_EXIT_PASS, engaged = 0;
    rs_timed res = {0}, rup = {0};
    double rows = 0, rel0 = NAN, rel_last = NAN, abs0 = NAN, abs_last = NAN, bound_rows = 0;
    const char *reason = NULL;
    char reason_buf[700] = "";

    if (b && b->is_device && !(device_wanted && declined))
        sb_verdict_device(&v, &info);
    if (!b || (device_wanted && (declined || !b->is_device))) {
        /* The device was asked for and is not there: no run, no host stand-in. */
        snprintf(reason_buf, sizeof reason_buf, "device not engaged: %s",
                 why.msg[0] ? why.msg : "--backend host cannot satisfy --require-device");
        reason = reason_buf;
        exit_code = SB_EXIT_NO_DEVICE;
        b = sb_backend_by_name("cuda"); /* what was asked for, not what could have run */
        cJSON_AddStringToObject(root, "backend", b->name);
        cJSON_AddStringToObject(root, "execution_path", "none");
        goto finish;
    }
    cJSON_AddStringToObject(root, "backend", b->name);
    cJSON_AddStringToObject(root, "execution_path", b->is_device ? "gpu-resident-full" : "cpu");
    if (declined) {
        snprintf(reason_buf, sizeof reason_buf, "device not engaged (ran the host backend): %s", why.msg);
        reason = reason_buf;
    } else if (!b->is_device) {
        reason = "host backend selected: a host number is never a device number";
    }

    if ((rc = rs_make_inputs(&r, &err))) {
        fprintf(stderr, "saebench: %s\n", err.msg);
        sb_verdict_free(&v);
        rs_run_free(&r);
        return rc == SB_E_INPUT ? SB_EXIT_USAGE : SB_EXIT_RUNTIME;
    }

    rs_time_state(&r, b->resident_solve, 0, &res);
    if (res.rc == SB_E_INPUT) { /* a backend rejected an option (--factor) */
        fprintf(stderr, "saebench: %s\n", res.err.msg);
        sb_verdict_free(&v);
        rs_run_free(&r);
        return SB_EXIT_USAGE;
    }
    if (res.completed && r.opts.reupload && b->is_device)
        rs_time_state(&r, b->resident_solve, 1, &rup);
    engaged = b->is_device && res.completed;
    if (!res.completed) {
        snprintf(reason_buf, sizeof reason_buf, "%s failed: %s", b->is_device ? "device" : "host backend", res.err.msg);
        reason = reason_buf;
        exit_code = SB_EXIT_RUNTIME;
    }
    rows = res.completed && res.stats.median > 0 ? (double)r.n / res.stats.median : 0;

    /* Parity against the independent dense oracle: the w0 system (its β was
     * computed before any timed rep) and the last timed rep's system. */
    double tol0 = sb_gate_threshold(&r.opts, "RS-001", RS_PARITY_TOL);
    double tol1 = sb_gate_threshold(&r.opts, "RS-002", RS_PARITY_TOL);
    cJSON *parity = cJSON_CreateObject();
    cJSON_AddStringToObject(parity, "oracle", "LAPACKE dposv on the full Gram from DGEMM (row-major), float64");
    cJSON_AddNumberToObject(parity, "tolerance", tol0);
    cJSON_AddNumberToObject(parity, "tolerance_last", tol1);
    if (res.completed) {
        sb_err oerr;
        const double *w_last = r.ws + (size_t)(r.warmup + r.reps - 1) * (size_t)r.n;
        if (sb_oracle_resident_solve(r.n, r.p, r.X, r.w0, r.rhs, r.ridge, r.ref, &oerr) == SB_OK)
            rel0 = sb_rel_inf_err(r.beta0, r.ref, r.p, &abs0);
        if (sb_oracle_resident_solve(r.n, r.p, r.X, w_last, r.rhs, r.ridge, r.ref, &oerr) == SB_OK)
            rel_last = sb_rel_inf_err(r.beta_last, r.ref, r.p, &abs_last);
        sb_verdict_gate(&v, "RS-001", "parity of the w0 system: rel_err < tolerance", rel0, tol0, rel0 < tol0);
        sb_verdict_gate(&v, "RS-002", "parity of the last timed rep: rel_err < tolerance", rel_last, tol1, rel_last < tol1);
    }
    double worst_rel = fmax(rel0, rel_last), worst_abs = fmax(abs0, abs_last);
    cJSON_AddItemToObject(parity, "max_abs_err", sb_json_number(worst_abs));
    cJSON_AddItemToObject(parity, "rel_err", sb_json_number(worst_rel));
    cJSON_AddItemToObject(parity, "rel_err_w0", sb_json_number(rel0));
    cJSON_AddItemToObject(parity, "rel_err_last", sb_json_number(rel_last));
    cJSON_AddBoolToObject(parity, "pass", res.completed && rel0 < tol0 && rel_last < tol1);
    cJSON_AddItemToObject(root, "parity", parity);

    double target = sb_gate_threshold(&r.opts, "RS-003", RS_TARGET_ROWS_PER_S);
    if (engaged)
        sb_verdict_gate(&v, "RS-003", "device rows/s >= deployment target", rows, target, rows >= target);

    if (r.opts.dump_beta && res.completed) {
        sb_err derr;
        if (sb_npy_write(r.opts.dump_beta, r.beta0, r.p, 0, &derr)) {
            fprintf(stderr, "saebench: %s\n", derr.msg);
            exit_code = SB_EXIT_USAGE;
        }
    }

    /* Roofline from measured ceilings. */
    sb_ceilings ceil = {0};
    char source[512] = "";
    sb_err cerr = {{0}};
    cJSON *roof = cJSON_CreateObject();
    cJSON_AddNumberToObject(roof, "flops", rs_flops(&r));
    cJSON_AddNumberToObject(roof, "bytes", rs_bytes(&r));
    if (res.completed && sb_ceilings_for(r.opts.calibration, b, &ceil, source, sizeof source, &cerr) == SB_OK) {
        double bound = sb_roofline_bound_s(rs_flops(&r), rs_bytes(&r), &ceil);
        bound_rows = bound > 0 ? (double)r.n / bound : 0;
        cJSON *c = sb_ceilings_json(&ceil);
        cJSON_AddStringToObject(c, "of", b->is_device ? "device" : "host");
        cJSON_AddStringToObject(c, "source", source);
        cJSON_AddItemToObject(roof, "ceilings", c);
        cJSON_AddNumberToObject(roof, "bound_s", bound);
        cJSON_AddNumberToObject(roof, "bound_rows_per_s", bound_rows);
        cJSON_AddItemToObject(roof, "efficiency", sb_json_number(bound / res.stats.median));
    } else {
        if (cerr.msg[0] && r.opts.calibration) {
            fprintf(stderr, "saebench: %s\n", cerr.msg);
            exit_code = SB_EXIT_USAGE;
        }
        cJSON_AddNullToObject(roof, "ceilings");
        cJSON_AddNullToObject(roof, "bound_s");
        cJSON_AddNullToObject(roof, "bound_rows_per_s");
        cJSON_AddNullToObject(roof, "efficiency");
        if (cerr.msg[0])
            cJSON_AddStringToObject(roof, "note", cerr.msg);
    }
    cJSON_AddItemToObject(root, "roofline", roof);

    cJSON *timing = stats_json(&res.stats, res.completed ? r.samples : NULL, r.reps, r.warmup);
    cJSON_AddStringToObject(timing, "clock", "host CLOCK_MONOTONIC around each synchronous solve (w upload to beta download)");
    cJSON *bd = cJSON_AddObjectToObject(timing, "breakdown_ms");
    cJSON_AddNumberToObject(bd, "upload", res.bd.upload_ms);
    cJSON_AddNumberToObject(bd, "build", res.bd.build_ms);
    cJSON_AddNumberToObject(bd, "factor", res.bd.factor_ms);
    cJSON_AddNumberToObject(bd, "solve", res.bd.solve_ms);
    cJSON_AddNumberToObject(bd, "download", res.bd.download_ms);
    cJSON_AddItemToObject(root, "timing", timing);

    cJSON *thr = cJSON_AddObjectToObject(root, "throughput");
    cJSON_AddNumberToObject(thr, "measured_rows_per_s", rows);
    cJSON_AddNumberToObject(thr, "engaged_rows_per_s", engaged ? rows : 0);
    cJSON_AddStringToObject(thr, "measured_of", b->is_device ? "device" : "host");

    if (b->is_device && rup.completed) {
        cJSON *resid = cJSON_AddObjectToObject(root, "residency");
        cJSON_AddNumberToObject(resid, "resident_s", res.stats.median);
        cJSON_AddNumberToObject(resid, "reupload_s", rup.stats.median);
        cJSON_AddNumberToObject(resid, "speedup", rup.stats.median / res.stats.median);
        cJSON_AddItemToObject(resid, "reupload_timing", stats_json(&rup.stats, r.samples_reupload, r.reps, r.warmup));
        cJSON_AddItemToObject(resid, "reupload_telemetry", telemetry_json(&rup.tele));
    } else {
        cJSON_AddNullToObject(root, "residency");
        if (r.opts.reupload && !b->is_device)
            cJSON_AddStringToObject(root, "residency_note", "--reupload applies to device backends; the host holds X in its own memory");
        else if (r.opts.reupload && rup.rc)
            cJSON_AddStringToObject(root, "residency_note", rup.err.msg);
    }
    cJSON_AddItemToObject(root, "telemetry", telemetry_json(&res.tele));
    if (r.opts.reupload && b->is_device && rup.rc && exit_code == SB_EXIT_PASS) {
        snprintf(reason_buf, sizeof reason_buf, "device failed in the reupload baseline: %s", rup.err.msg);
        reason = reason_buf;
        exit_code = SB_EXIT_RUNTIME;
        engaged = 0;
    }

finish:
    cJSON_AddBoolToObject(root, "engaged", engaged);
    cJSON_AddItemToObject(root, "engaged_reason", reason ? cJSON_CreateString(reason) : cJSON_CreateNull());
    {
        sb_target_status ts = sb_target_decide(b && b->is_device, engaged, rows, sb_gate_threshold(&r.opts, "RS-003", RS_TARGET_ROWS_PER_S));
        cJSON *tg = cJSON_AddObjectToObject(root, "target");
        cJSON_AddNumberToObject(tg, "value", sb_gate_threshold(&r.opts, "RS-003", RS_TARGET_ROWS_PER_S));
        cJSON_AddStringToObject(tg, "unit", "rows/s per GPU");
        cJSON_AddStringToObject(tg, "status", sb_target_name(ts));
        cJSON_AddStringToObject(tg, "reason", ts == SB_TARGET_MET ? "measured device rows/s meet the target"
                                              : ts == SB_TARGET_UNMET ? "measured device rows/s fall short of the target"
                                              : (reason ? reason : "no device measurement"));
    }
    if (exit_code == SB_EXIT_PASS && v.gates_failed)
        exit_code = SB_EXIT_GATE_FAIL;
    if (exit_code == SB_EXIT_PASS && r.opts.require_device && !engaged)
        exit_code = SB_EXIT_NO_DEVICE;
    sb_verdict_finish(&v, exit_code);
    if (r.opts.out && sb_verdict_write(&v, r.opts.out, &err)) {
        fprintf(stderr, "saebench: %s\n", err.msg);
        exit_code = SB_EXIT_USAGE;
    } else {
        print_summary(&r, b, engaged, &res, rows, bound_rows, rel0, rel_last, exit_code, reason);
    }
    sb_verdict_free(&v);
    rs_run_free(&r);
    return exit_code;
}
