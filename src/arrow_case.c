#include "arrow_case.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host_info.h"
#include "oracle/oracle_rs.h"
#include "verdict.h"

sb_rc sb_arrow_case_load(const sb_opts *o, unsigned workload_bit, sb_arrow_case *c, sb_err *err)
{
    memset(c, 0, sizeof *c);
    const char *wl = workload_bit == SB_WL_INNER_LOOP ? "inner-loop" : "outer-seq";
    if (!o->shape)
        return sb_fail(err, SB_E_INPUT, "%s: --shape is required (see 'saebench shapes')", wl);
    sb_rc rc = sb_shape_load(o->shape, &c->shape, err);
    if (rc)
        return rc;
    const sb_shape *s = &c->shape;
    if (!sb_shape_serves(s, workload_bit))
        return sb_fail(err, SB_E_INPUT, "shape \"%s\" is not an %s shape", s->name, wl);
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

sb_rc sb_arrow_case_build(sb_arrow_case *c, sb_err *err) { return sb_arrow_fixture(&c->prm, &c->sys, err); }

void sb_arrow_case_free(sb_arrow_case *c) { sb_arrow_free(&c->sys); }

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
    int rc = sb_run_verdict_init(r, &c->shape, "fixture");
    return rc >= 0 ? rc : sb_run_choose_backend(r, implements_arrow);
}

sb_rc sb_lm_result_alloc(sb_lm_result *res, int64_t nt, int64_t p, sb_err *err)
{
    memset(res, 0, sizeof *res);
    res->t = sb_alloc((size_t)nt, sizeof(double), err);
    res->dt = res->t ? sb_alloc((size_t)nt, sizeof(double), err) : NULL;
    res->beta = res->dt ? sb_alloc((size_t)p, sizeof(double), err) : NULL;
    res->db = res->beta ? sb_alloc((size_t)p, sizeof(double), err) : NULL;
    if (!res->db) {
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
    res->t = res->dt = res->beta = res->db = NULL;
}

/* ‖a − b‖∞ / ‖b‖∞ over two concatenated pieces (0/0 counts as 0). */
static double rel_pair(const double *a1, const double *b1, int64_t n1, const double *a2, const double *b2, int64_t n2)
{
    double num = 0, den = 0;
    for (int64_t i = 0; i < n1; i++) {
        num = fmax(num, fabs(a1[i] - b1[i]));
        den = fmax(den, fabs(b1[i]));
    }
    for (int64_t i = 0; i < n2; i++) {
        num = fmax(num, fabs(a2[i] - b2[i]));
        den = fmax(den, fabs(b2[i]));
    }
    if (!isfinite(num) || !isfinite(den))
        return NAN;
    return den > 0 ? num / den : num;
}

static double rel_scalar(double a, double b)
{
    double d = fabs(a - b), m = fabs(b);
    return m > 0 ? d / m : d;
}

double sb_lm_parity(const sb_lm_result *a, const sb_lm_result *ref, int64_t nt, int64_t p, double parts[4])
{
    parts[0] = rel_pair(a->dt, ref->dt, nt, a->db, ref->db, p);
    parts[1] = rel_pair(a->t, ref->t, nt, a->beta, ref->beta, p);
    parts[2] = rel_scalar(a->objective, ref->objective);
    parts[3] = rel_scalar(a->logdet, ref->logdet);
    double worst = 0;
    for (int i = 0; i < 4; i++)
        worst = isnan(parts[i]) || isnan(worst) ? NAN : fmax(worst, parts[i]);
    return worst;
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
    if (tele)
        ops->telemetry(state, tele);
    ops->destroy(state);
    return rc;
}
