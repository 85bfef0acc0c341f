#include "arrow_case.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host_info.h"
#include "npy.h"
#include "oracle/oracle_rs.h"
#include "parity.h"
#include "timing.h"
#include "verdict.h"

/* The verdict's shape for --system data: the data's n, p, d; the run's
 * settings from the --shape given beside it, if any. */
static sb_rc data_shape(sb_arrow_case *c, const sb_opts *o, unsigned workload_bit, const sb_shape *given, sb_err *err)
{
    const char *end = o->system + strlen(o->system);
    while (end > o->system + 1 && end[-1] == '/')
        end--;
    const char *base = end;
    while (base > o->system && base[-1] != '/')
        base--;
    char name[64], desc[256];
    snprintf(name, sizeof name, "%.*s", (int)(end - base), base);
    snprintf(desc, sizeof desc, "real data from --system %s", o->system);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "name", name[0] ? name : "system");
    cJSON *wl = cJSON_AddArrayToObject(j, "workloads");
    cJSON_AddItemToArray(wl, cJSON_CreateString(workload_bit == SB_WL_INNER_LOOP ? "inner-loop" : "outer-seq"));
    cJSON_AddStringToObject(j, "description", desc);
    cJSON_AddNumberToObject(j, "n", (double)c->sys.n);
    cJSON_AddNumberToObject(j, "p", (double)c->sys.p);
    cJSON_AddNumberToObject(j, "d", (double)c->sys.d);
    if (given && given->reps > 0)
        cJSON_AddNumberToObject(j, "reps", (double)given->reps);
    if (given && given->warmup >= 0)
        cJSON_AddNumberToObject(j, "warmup", (double)given->warmup);
    if (given && given->max_iterations > 0)
        cJSON_AddNumberToObject(j, "max_iterations", (double)given->max_iterations);
    if (given && given->residency_min > 0)
        cJSON_AddNumberToObject(j, "residency_min", given->residency_min);
    if (given && given->target_solve_ms > 0 && workload_bit == SB_WL_INNER_LOOP)
        cJSON_AddNumberToObject(j, "target_solve_ms", given->target_solve_ms);
    return sb_shape_from_json(j, o->system, &c->shape, err);
}

sb_rc sb_arrow_case_load(const sb_opts *o, unsigned workload_bit, sb_arrow_case *c, sb_err *err)
{
    memset(c, 0, sizeof *c);
    const char *wl = workload_bit == SB_WL_INNER_LOOP ? "inner-loop" : "outer-seq";
    if (!o->shape && !o->system)
        return sb_fail(err, SB_E_INPUT, "%s: give --shape NAME (see 'saebench shapes') or --system DIR", wl);
    sb_rc rc;
    if (o->shape) {
        if ((rc = sb_shape_load(o->shape, &c->shape, err)))
            return rc;
        if (!sb_shape_serves(&c->shape, workload_bit))
            return sb_fail(err, SB_E_INPUT, "shape \"%s\" is not an %s shape", c->shape.name, wl);
    }
    if (o->system) {
        sb_shape given = c->shape;
        if ((rc = sb_arrow_case_load_system(o, workload_bit, c, err)))
            return rc;
        if ((rc = data_shape(c, o, workload_bit, o->shape ? &given : NULL, err)))
            return rc;
    }
    const sb_shape *s = &c->shape;
    /* Every LAPACK call takes the dense oracle's order n·d + p as an int. */
    double order = (double)s->n * (double)s->d + (double)s->p;
    if (order > 2147483647.0)
        return sb_fail(err, SB_E_INPUT, "shape %s: n*d + p = %.0f exceeds 2^31-1", s->name, order);
    uint64_t sys = sb_arrow_doubles(s->n, s->p, s->d);
    /* The system, a re-staging copy of its blocks, the factors (Y and S),
     * the dense oracle's (n·d + p)² matrix, and a few vectors. */
    double bytes = 8.0 * (3.0 * (double)sys + 2.0 * (double)s->p * (double)s->p + order * order + 16.0 * order);
    uint64_t have = sb_physical_memory();
    if (sys == 0 || bytes > 1.8e19 || (have && bytes > (double)have))
        return sb_fail(err, SB_E_INPUT, "shape %s (n=%lld p=%lld d=%lld) needs %.1f GiB of host memory; this machine has %.1f GiB",
                       s->name, (long long)s->n, (long long)s->p, (long long)s->d, bytes / 1073741824.0,
                       (double)have / 1073741824.0);
    c->prm = (sb_arrow_params){.n = s->n, .p = s->p, .d = s->d, .basis_cols = s->basis_cols, .seed = s->seed,
                               .htt_shift = s->htt_shift};
    c->nt = s->n * s->d;
    sb_lm_default_opts(&c->lm);
    if (s->max_iterations > 0)
        c->lm.max_iterations = (int)s->max_iterations;
    return SB_OK;
}

sb_rc sb_arrow_case_build(sb_arrow_case *c, sb_err *err)
{
    return c->from_npy ? SB_OK : sb_arrow_fixture(&c->prm, &c->sys, err);
}

void sb_arrow_case_free(sb_arrow_case *c)
{
    sb_arrow_free(&c->sys);
    free(c->g_outer);
    c->g_outer = NULL;
}

void sb_arrow_case_verdict_shape(cJSON *root, const sb_arrow_case *c)
{
    cJSON *shape = cJSON_GetObjectItemCaseSensitive(root, "shape");
    if (!shape)
        return;
    cJSON_AddStringToObject(shape, "data", c->from_npy ? "npy" : "fixture");
    if (!c->from_npy)
        return;
    cJSON_AddStringToObject(shape, "system", c->shape.path);
    cJSON *dt = cJSON_AddObjectToObject(shape, "dtypes");
    static const char *const keys[6] = {"htt", "cross", "hbb", "gt", "gb", "target_energy"};
    for (int k = 0; k < 6; k++)
        if (c->files[k][0])
            cJSON_AddStringToObject(dt, keys[k], c->dtypes[k]);
}

int sb_arrow_run_load(sb_run *r, unsigned workload_bit, sb_arrow_case *c, int64_t dflt_reps, int64_t dflt_warmup)
{
    sb_err err = {{0}};
    if (sb_arrow_case_load(&r->opts, workload_bit, c, &err)) {
        fprintf(stderr, "saebench: %s\n", err.msg);
        return SB_EXIT_USAGE;
    }
    sb_run_counts(r, c->shape.reps, c->shape.warmup, dflt_reps, dflt_warmup);
    return -1;
}

static int implements_arrow(const sb_backend *b) { return b->arrow != NULL; }

int sb_arrow_run_begin(sb_run *r, const sb_arrow_case *c)
{
    sb_host_set_threads(r->opts.threads);
    int rc = sb_run_verdict_init(r, &c->shape, c->from_npy ? "npy" : "fixture");
    return rc >= 0 ? rc : sb_run_choose_backend(r, implements_arrow);
}

void sb_arrow_dump_z(sb_run *r, const sb_lm_result *res, int64_t count, int as_rows, int64_t nt, int64_t p)
{
    if (!r->opts.dump_z)
        return;
    sb_err err = {{0}};
    const int64_t len = nt + p;
    double *z = sb_alloc((size_t)(count * len), sizeof(double), &err);
    if (!z) {
        sb_run_fail(r, "--dump-z: %s", err.msg);
        return;
    }
    for (int64_t s = 0; s < count; s++) {
        memcpy(z + s * len, res[s].t, (size_t)nt * sizeof(double));
        memcpy(z + s * len + nt, res[s].beta, (size_t)p * sizeof(double));
    }
    if (sb_npy_write(r->opts.dump_z, z, as_rows ? count : len, as_rows ? len : 0, &err))
        sb_run_late_input_error(r, err.msg);
    free(z);
}

sb_rc sb_lm_result_alloc(sb_lm_result *res, int64_t nt, int64_t p, sb_err *err)
{
    memset(res, 0, sizeof *res);
    res->t = sb_alloc((size_t)nt, sizeof(double), err);
    res->dt = res->t ? sb_alloc((size_t)nt, sizeof(double), err) : NULL;
    res->beta = res->dt ? sb_alloc((size_t)p, sizeof(double), err) : NULL;
    res->db = res->beta ? sb_alloc((size_t)p, sizeof(double), err) : NULL;
    res->step_r = res->db ? sb_alloc((size_t)(nt + p), sizeof(double), err) : NULL;
    if (!res->step_r) {
        sb_lm_result_free(res);
        return SB_E_RUNTIME;
    }
    return SB_OK;
}

void sb_lm_result_free(sb_lm_result *res)
{
    free(res->t);
    free(res->dt);
    free(res->beta);
    free(res->db);
    free(res->step_r);
    res->t = res->dt = res->beta = res->db = res->step_r = NULL;
}

/* ‖a − b‖∞ and ‖b‖∞ over two concatenated pieces (t, then β). */
static void diff_pair(const double *a1, const double *b1, int64_t n1, const double *a2, const double *b2, int64_t n2,
                      double *num, double *den)
{
    *num = *den = 0;
    for (int64_t i = 0; i < n1; i++) {
        *num = fmax(*num, fabs(a1[i] - b1[i]));
        *den = fmax(*den, fabs(b1[i]));
    }
    for (int64_t i = 0; i < n2; i++) {
        *num = fmax(*num, fabs(a2[i] - b2[i]));
        *den = fmax(*den, fabs(b2[i]));
    }
    if (!isfinite(*num) || !isfinite(*den))
        *num = NAN;
}

/* ‖a − b‖∞ / ‖b‖∞, 0/0 counting as 0 (the verdict/3 relative errors). */
static double rel_of(double num, double den) { return den > 0 ? num / den : num; }

static double rel_scalar(double a, double b)
{
    double d = fabs(a - b), m = fabs(b);
    return m > 0 ? d / m : d;
}

static double norm_inf(const double *v, int64_t n)
{
    double m = 0;
    for (int64_t i = 0; i < n; i++)
        m = fmax(m, fabs(v[i]));
    return m;
}

/* The scaled residual of a result's last accepted step in its own system:
 * ‖(H + R_step)δ + r_step‖∞ / (‖H + R_step‖∞ ‖δ‖∞ N ε). */
static double step_scaled_residual(const sb_arrow_system *sys, const sb_lm_result *a, double *scratch)
{
    const int64_t nt = sys->n * sys->d, p = sys->p;
    double *neg = scratch, *out = scratch + nt + p;
    for (int64_t k = 0; k < nt + p; k++)
        neg[k] = -a->step_r[k];
    /* Hδ − (−r_step) = Hδ + r_step, then the ridges' part */
    sb_arrow_residual(sys, neg, neg + nt, a->dt, a->db, out, out + nt);
    for (int64_t k = 0; k < nt; k++)
        out[k] += a->step_ridge_t * a->dt[k];
    for (int64_t j = 0; j < p; j++)
        out[nt + j] += a->step_ridge_b * a->db[j];
    double x = fmax(norm_inf(a->dt, nt), norm_inf(a->db, p));
    return sb_parity_scaled_residual(norm_inf(out, nt + p), sb_arrow_norm_inf(sys, a->step_ridge_t, a->step_ridge_b), x,
                                     nt + p);
}

sb_rc sb_lm_parity(const sb_arrow_system *sys, const double *g_t, const double *g_b, const sb_lm_result *a,
                   const sb_lm_result *ref, sb_lm_parity_t *out, sb_err *err)
{
    const int64_t nt = sys->n * sys->d, p = sys->p, N = nt + p;
    double t0 = sb_now_s();
    memset(out, 0, sizeof *out);
    out->order = N;
    out->kappa_est = ref->kappa_est;
    out->bound = sb_parity_bound(ref->kappa_est, N);

    double num, den, zden;
    /* The verdict/3 relative errors, still reported (and the opt-in gate's value). */
    diff_pair(a->dt, ref->dt, nt, a->db, ref->db, p, &num, &den);
    out->rel[0] = rel_of(num, den);
    double step_num = num, step_den = den;
    diff_pair(a->t, ref->t, nt, a->beta, ref->beta, p, &num, &zden);
    out->rel[1] = rel_of(num, zden);
    out->rel[2] = rel_scalar(a->objective, ref->objective);
    out->rel[3] = rel_scalar(a->logdet, ref->logdet);

    if (a->accepted == 0 || ref->accepted == 0) {
        /* No step on a side: both must have stayed at z = 0 (g₀ = 0, or no
         * positive definite ridge), where every figure is exact. */
        int same = a->accepted == ref->accepted && num == 0 && a->objective == ref->objective;
        for (int i = 0; i < 4; i++)
            out->part[i] = same ? 0 : INFINITY;
        out->ratio = same ? 0 : INFINITY;
        out->estimate_s = sb_now_s() - t0;
        return SB_OK;
    }

    double *scratch = sb_alloc((size_t)(2 * N), sizeof(double), err);
    if (!scratch)
        return SB_E_RUNTIME;
    /* The step: its backward error in its own system, and its forward error
     * against the oracle's step relative to max(‖δ‖, ‖z‖) — a step taken
     * from an iterate that already carries the iterate's own error carries
     * that error too. */
    out->sr = step_scaled_residual(sys, a, scratch);
    out->sr_oracle = step_scaled_residual(sys, ref, scratch);
    out->fe_step = rel_of(step_num, fmax(step_den, zden));
    out->fe_z = out->rel[1];
    /* The objective: its difference against the magnitude of the terms it
     * sums, M_φ = ½‖target‖² + |zᵀHz| + |g₀ᵀz| at the oracle's z. */
    sb_arrow_residual(sys, g_t, g_b, ref->t, ref->beta, scratch, scratch + nt); /* Hz − g₀ */
    double zhz = 0, gz = 0;
    for (int64_t k = 0; k < nt; k++) {
        zhz += ref->t[k] * (scratch[k] + g_t[k]);
        gz += ref->t[k] * g_t[k];
    }
    for (int64_t j = 0; j < p; j++) {
        zhz += ref->beta[j] * (scratch[nt + j] + g_b[j]);
        gz += ref->beta[j] * g_b[j];
    }
    free(scratch);
    out->magnitude_objective = fabs(sys->half_target_energy) + fabs(zhz) + fabs(gz);
    out->err_objective = fabs(a->objective - ref->objective);
    out->err_logdet = fabs(a->logdet - ref->logdet);
    out->bound_objective = sb_parity_value_bound(ref->kappa_est, N, out->magnitude_objective);
    out->bound_logdet = sb_parity_logdet_bound(ref->kappa_est, N, ref->logdet);

    out->part[0] = sb_parity_ratio3(out->sr, out->sr_oracle, out->fe_step, out->bound);
    out->part[1] = sb_parity_part(out->fe_z, out->bound);
    out->part[2] = sb_parity_part(out->err_objective, out->bound_objective);
    out->part[3] = sb_parity_part(out->err_logdet, out->bound_logdet);
    out->ratio = sb_parity_worst(out->part, 4);
    out->estimate_s = sb_now_s() - t0;
    return SB_OK;
}

double sb_lm_parity_rel(const sb_lm_parity_t *pa) { return sb_parity_worst(pa->rel, 4); }

cJSON *sb_lm_parity_json(const sb_lm_parity_t *pa)
{
    static const char *const names[4] = {"step", "z", "objective", "logdet"};
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "kappa_est", sb_json_number(pa->kappa_est));
    cJSON_AddNumberToObject(o, "order", (double)pa->order);
    cJSON_AddItemToObject(o, "bound", sb_json_number(pa->bound));
    cJSON_AddItemToObject(o, "scaled_residual", sb_json_number(pa->sr));
    cJSON_AddItemToObject(o, "scaled_residual_oracle", sb_json_number(pa->sr_oracle));
    cJSON_AddItemToObject(o, "rel_err_step", sb_json_number(pa->fe_step));
    cJSON_AddItemToObject(o, "rel_err_z", sb_json_number(pa->fe_z));
    cJSON_AddItemToObject(o, "abs_err_objective", sb_json_number(pa->err_objective));
    cJSON_AddItemToObject(o, "magnitude_objective", sb_json_number(pa->magnitude_objective));
    cJSON_AddItemToObject(o, "bound_objective", sb_json_number(pa->bound_objective));
    cJSON_AddItemToObject(o, "abs_err_logdet", sb_json_number(pa->err_logdet));
    cJSON_AddItemToObject(o, "bound_logdet", sb_json_number(pa->bound_logdet));
    cJSON *parts = cJSON_AddObjectToObject(o, "ratios");
    for (int i = 0; i < 4; i++)
        cJSON_AddItemToObject(parts, names[i], sb_json_number(pa->part[i]));
    cJSON_AddItemToObject(o, "ratio", sb_json_number(pa->ratio));
    cJSON_AddItemToObject(o, "rel_err", sb_json_number(sb_lm_parity_rel(pa)));
    cJSON_AddItemToObject(o, "estimate_s", sb_json_number(pa->estimate_s));
    return o;
}

const char SB_LM_PARITY_RULE[] =
    "ratio = max(step, z, objective, logdet) <= threshold (1); step = max(sr/30, sr_oracle/30, "
    "||dz - dz_o||_inf / max(||dz_o||_inf, ||z_o||_inf) / bound), sr of each side's last step in its own system; "
    "z = (||z - z_o||_inf/||z_o||_inf) / bound; objective = |phi - phi_o| / ((bound + N eps) M_phi), "
    "M_phi = |1/2 ||target||^2| + |z'Hz| + |g0'z|; logdet = |ld - ld_o| / (10 sqrt(N) eps (N kappa_est + |ld_o|)); "
    "bound = 10 sqrt(N) kappa_est eps, kappa_est = 1/rcond (LAPACK's 1-norm estimator dlacn2, as in dpocon, on the dense oracle's factor of H + R), eps = 2^-53";

void sb_lm_parity_fold(sb_lm_parity_t *worst, int64_t *worst_index, const sb_lm_parity_t *x, int64_t index)
{
    if (*worst_index < 0 || isnan(x->ratio) || (!isnan(worst->ratio) && x->ratio > worst->ratio)) {
        *worst = *x;
        *worst_index = index;
    }
}

void sb_lm_parity_note(sb_run *r, const sb_lm_parity_t *pa)
{
    sb_run_note(r, "parity vs dense LAPACKE: ratio %.2e (step %.2e  z %.2e  objective %.2e  logdet %.2e), kappa_est %.2e",
                pa->ratio, pa->part[0], pa->part[1], pa->part[2], pa->part[3], pa->kappa_est);
}

void sb_lm_parity_verdict(cJSON *parity, const sb_lm_parity_t *pa, const char *system, int64_t index)
{
    cJSON_AddStringToObject(parity, "rule", SB_LM_PARITY_RULE);
    cJSON_AddStringToObject(parity, "system", system);
    cJSON_AddNumberToObject(parity, "residual_limit", SB_PARITY_RESIDUAL_MAX);
    cJSON_AddNumberToObject(parity, "eps", SB_PARITY_EPS);
    cJSON_AddItemToObject(parity, "kappa_est", pa ? sb_json_number(pa->kappa_est) : cJSON_CreateNull());
    cJSON_AddItemToObject(parity, "scaled_residual", pa ? sb_json_number(pa->sr) : cJSON_CreateNull());
    cJSON_AddItemToObject(parity, "scaled_residual_oracle", pa ? sb_json_number(pa->sr_oracle) : cJSON_CreateNull());
    cJSON_AddItemToObject(parity, "ratio", pa ? sb_json_number(pa->ratio) : cJSON_CreateNull());
    cJSON_AddItemToObject(parity, "rel_err", pa ? sb_json_number(sb_lm_parity_rel(pa)) : cJSON_CreateNull());
    cJSON_AddItemToObject(parity, "max_abs_err", cJSON_CreateNull());
    if (!pa)
        return;
    cJSON *w = sb_lm_parity_json(pa);
    if (index >= 0)
        cJSON_AddNumberToObject(w, "index", (double)index);
    cJSON_AddItemToObject(parity, "worst", w);
}

int sb_lm_identical(const sb_lm_result *a, const sb_lm_result *b, int64_t nt, int64_t p, const char **what)
{
#define SAME_BYTES(x, len, name)                                                                                     \
    if (memcmp(a->x, b->x, (size_t)(len) * sizeof(double)) != 0) {                                               \
        *what = name;                                                                                            \
        return 0;                                                                                                \
    }
    SAME_BYTES(t, nt, "t")
    SAME_BYTES(beta, p, "beta")
    SAME_BYTES(dt, nt, "step t")
    SAME_BYTES(db, p, "step beta")
#undef SAME_BYTES
    const double sa[] = {a->objective, a->gradient_norm, a->final_gradient_norm, a->logdet, a->ridge_t, a->ridge_b};
    const double sbv[] = {b->objective, b->gradient_norm, b->final_gradient_norm, b->logdet, b->ridge_t, b->ridge_b};
    static const char *const names[] = {"objective", "gradient_norm", "final_gradient_norm", "logdet", "ridge_t", "ridge_b"};
    for (int i = 0; i < 6; i++)
        if (memcmp(&sa[i], &sbv[i], sizeof(double)) != 0) {
            *what = names[i];
            return 0;
        }
    if (a->iterations != b->iterations || a->accepted != b->accepted || a->converged != b->converged) {
        *what = "iterations";
        return 0;
    }
    *what = NULL;
    return 1;
}

cJSON *sb_lm_result_json(const sb_lm_result *res, long long frame_builds)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "objective", sb_json_number(res->objective));
    cJSON_AddItemToObject(o, "gradient_norm", sb_json_number(res->gradient_norm));
    cJSON_AddItemToObject(o, "final_gradient_norm", sb_json_number(res->final_gradient_norm));
    cJSON_AddItemToObject(o, "logdet", sb_json_number(res->logdet));
    cJSON_AddNumberToObject(o, "iterations", res->iterations);
    cJSON_AddNumberToObject(o, "accepted", res->accepted);
    cJSON_AddNumberToObject(o, "rejected", res->rejected);
    cJSON_AddNumberToObject(o, "factor_failures", res->factor_failures);
    cJSON_AddBoolToObject(o, "converged", res->converged);
    cJSON_AddBoolToObject(o, "ridge_exceeded", res->ridge_exceeded);
    cJSON_AddItemToObject(o, "ridge_t", sb_json_number(res->ridge_t));
    cJSON_AddItemToObject(o, "ridge_beta", sb_json_number(res->ridge_b));
    cJSON_AddNumberToObject(o, "solves", (double)res->solves);
    cJSON_AddNumberToObject(o, "frame_builds", (double)frame_builds);
    return o;
}

sb_rc sb_arrow_read_telemetry(const sb_arrow_ops *ops, void *state, sb_telemetry *t, sb_err *err)
{
    sb_rc rc = ops->check ? ops->check(state, err) : SB_OK;
    if (rc == SB_OK)
        ops->telemetry(state, t);
    return rc;
}

sb_rc sb_arrow_fit(const sb_arrow_case *c, const sb_arrow_ops *ops, int reupload, const double *g_t,
                   const double *g_b, sb_lm_result *res, sb_telemetry *tele, sb_err *err)
{
    void *state = NULL;
    sb_rc rc = ops->create(&c->sys, reupload, &state, err);
    if (rc)
        return rc;
    sb_lm_frame frame = {0};
    frame.refactor_every_iterate = reupload;
    rc = sb_lm_run(&c->sys, g_t, g_b, ops, state, &frame, &c->lm, res, err);
    if (tele && rc == SB_OK)
        rc = sb_arrow_read_telemetry(ops, state, tele, err);
    else if (tele)
        ops->telemetry(state, tele); /* what it counted before it failed */
    ops->destroy(state);
    return rc;
}
