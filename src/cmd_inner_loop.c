/* inner-loop (docs/workloads.md §2): the arrow-Schur Levenberg–Marquardt loop
 * with the frame (L_i, Y_i, L_S) resident. This file holds only the
 * workload: the three LM fits (resident, re-upload baseline, dense oracle),
 * what one timed rep of each phase is, and what the oracle compares. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../include/saebench/solver.h"
#include "arrow_case.h"
#include "commands.h"
#include "isolate.h"
#include "run.h"

#define IL_DEFAULT_REPS 10
#define IL_DEFAULT_WARMUP 2

static const sb_gate_def IL_GATES[] = {
    {"IL-001", "parity vs the dense oracle: the worst ratio of the last step, final z, objective and logdet to their bounds", SB_CMP_LE, 1.0, 1, 0, 1, 0},
    /* Default per shape (residency_min: 1.5 color-arm, 1.0 qwen). */
    {"IL-002", "residency speedup: re-upload s per solve / resident s per solve", SB_CMP_GT, 1.0, 1, 0, 0, 0},
    {"IL-003", "the LM loop converged (1 yes, 0 no)", SB_CMP_GE, 1.0, 1, 0, 0, 0},
    /* The shape's device target (target_solve_ms). */
    {"IL-004", "device ms per resident solve", SB_CMP_LE, NAN, 1, 1, 0, 0},
    /* Opt-in: the verdict/3 rule, a fixed tolerance whatever the conditioning. */
    {"IL-005", "worst rel_err of the last step, final z, objective and logdet vs the dense oracle (the verdict/3 rule)", SB_CMP_LT, 1e-9, 1, 0, 1, 1},
};

static const sb_workload IL_WORKLOAD = {
    .name = "inner-loop",
    .accepted = SB_OPT_SHAPE | SB_OPT_SYSTEM | SB_OPT_DUMP_Z | SB_OPT_BACKEND | SB_OPT_REQUIRE_DEVICE | SB_OPT_REPS | SB_OPT_WARMUP | SB_OPT_OUT |
                SB_OPT_GATE | SB_OPT_QUIET | SB_OPT_CALIBRATION | SB_OPT_THREADS | SB_OPT_STOP | SB_OPT_PLUGIN,
    .gates = IL_GATES,
    .ngates = sizeof IL_GATES / sizeof IL_GATES[0],
    .target_gate = "IL-004",
    .target_unit = "ms per resident solve",
    .target_in_ms = 1,
    .rate_unit = "rows",
    .doc = "docs/workloads.md §2",
    .plugin_workload = SAEBENCH_WORKLOAD_INNER_LOOP,
};

static void il_help(void)
{
    printf("usage: saebench inner-loop --shape NAME|FILE.json [options]\n"
           "       saebench inner-loop --system DIR [--shape SETTINGS.json] [--dump-z z.npy] [options]\n"
           "              (your own system: DIR/htt.npy n x d x d, cross.npy n x d x p, hbb.npy p x p,\n"
           "               gt.npy n x d, gb.npy p, optional target_energy.npy; docs/workloads.md §2)\n\n"
           "Run the arrow-Schur Levenberg-Marquardt loop three ways (frame resident, the\n"
           "same loop re-staging and re-factoring every iterate, and a dense LAPACKE\n"
           "oracle), check parity, time a resident gradient-only solve against the\n"
           "re-upload baseline and the frame build, write a verdict.\n\n"
           "--backend plugin:PATH.so runs your own arrow solver (include/saebench/solver.h's\n"
           "arrow table) in a child process, killed after --timeout S; docs/plugins.md.\n\n");
}

/* Everything one run holds; one owner, freed in il_free. */
typedef struct il_data {
    sb_arrow_case c;
    const sb_arrow_ops *ops;     /* the chosen backend's */
    const char *who;             /* the backend as failure messages name it */
    void *state;                 /* the resident fit's: keeps the frame for the timed solves */
    void *rup_state;             /* the re-upload baseline's */
    sb_lm_frame frame;
    sb_lm_result res, rup, orc;  /* the resident, re-upload and oracle fits */
    double fit_s;                /* the resident fit's seconds; NaN when it failed */
    int rup_ok, orc_ok;
    double *r_t, *r_b;           /* the gradient at z = 0 */
    double *zeros, *step;
    sb_lm_parity_t par;          /* parity vs the oracle */
    int par_ok;
} il_data;

/* The backend's states, released once the timed phases are over (in a
 * plugin run's child: before the verdict, so the plugin's destroy runs). */
static void il_release(sb_run *r, il_data *d)
{
    if (d->state || d->rup_state)
        sb_run_at_phase(r, "", "destroy");
    if (d->state)
        d->ops->destroy(d->state);
    if (d->rup_state)
        d->ops->destroy(d->rup_state);
    d->state = d->rup_state = NULL;
}

static void il_free(il_data *d)
{
    if (d->state)
        d->ops->destroy(d->state);
    if (d->rup_state)
        d->ops->destroy(d->rup_state);
    sb_lm_result_free(&d->res);
    sb_lm_result_free(&d->rup);
    sb_lm_result_free(&d->orc);
    free(d->r_t);
    free(d->r_b);
    free(d->zeros);
    free(d->step);
    sb_arrow_case_free(&d->c);
}

/* A timed rep: one gradient-only solve on the resident factors, or the
 * re-upload baseline (re-stage + factor + solve), or a frame build alone. */
typedef struct il_rep {
    const sb_arrow_ops *ops;
    void *state;
    double ridge_t, ridge_b;
    const double *r_t, *r_b;
    double *dt, *db;
    int factor, solve;
} il_rep;

static sb_rc il_rep_run(void *ctx, int64_t k, int timed, sb_err *err)
{
    (void)k, (void)timed;
    il_rep *c = ctx;
    if (c->factor) {
        int pd = 0;
        double logdet = 0;
        sb_rc rc = c->ops->factor(c->state, c->ridge_t, c->ridge_b, &pd, &logdet, err);
        if (rc)
            return rc;
        if (!pd)
            return sb_fail(err, SB_E_RUNTIME, "factor at ridges (%g, %g) is no longer positive definite", c->ridge_t, c->ridge_b);
    }
    return c->solve ? c->ops->solve(c->state, c->r_t, c->r_b, c->dt, c->db, err) : SB_OK;
}

/* The resident solve's work: u (n·d²), Yᵀu and Yδβ (4·n·d·p), δt (n·d²),
 * two triangular solves with L_S (2p²); bytes: Y read twice, L_S's triangle
 * read twice, the L_i, and r in / δ out. */
static void il_roofline(sb_run *r, const sb_arrow_case *c)
{
    double n = (double)c->sys.n, p = (double)c->sys.p, d = (double)c->sys.d;
    double flops = 2.0 * n * d * d + 4.0 * n * d * p + 2.0 * p * p;
    double bytes = 8.0 * (2.0 * n * d * p + p * p + n * d * d + 4.0 * (n * d + p));
    sb_run_roofline(r, flops, bytes);
}

/* The shape and its per-shape gate defaults; exit 2 before any work. */
static int il_load(sb_run *r, il_data *d)
{
    int rc = sb_arrow_run_load(r, SB_WL_INNER_LOOP, &d->c, IL_DEFAULT_REPS, IL_DEFAULT_WARMUP);
    if (rc >= 0)
        return rc;
    const sb_shape *s = &d->c.shape;
    sb_run_gate_default(r, "IL-002", s->residency_min > 0 ? s->residency_min : 1.0);
    sb_run_gate_default(r, "IL-004", s->target_solve_ms > 0 ? s->target_solve_ms : NAN);
    return -1;
}

/* The fixture and the run's buffers (exit 4 when out of memory), and the
 * work one resident rep counts. */
static int il_build(sb_run *r, il_data *d)
{
    sb_arrow_case *c = &d->c;
    const int64_t nt = c->nt, p = c->shape.p;
    sb_err err = {{0}};
    d->ops = r->backend->arrow;
    d->who = sb_run_backend_noun(r);
    d->fit_s = NAN; /* set once the resident fit succeeds (a plugin's: in the run's child) */
    sb_run_progress(r, "building the fixture (n=%lld p=%lld d=%lld)", (long long)c->shape.n, (long long)c->shape.p,
                    (long long)c->shape.d);
    if (sb_arrow_case_build(c, &err) || sb_lm_result_alloc(&d->res, nt, p, &err) || sb_lm_result_alloc(&d->rup, nt, p, &err) ||
        sb_lm_result_alloc(&d->orc, nt, p, &err) || !(d->r_t = sb_alloc((size_t)nt, sizeof(double), &err)) ||
        !(d->r_b = sb_alloc((size_t)p, sizeof(double), &err)) || !(d->zeros = sb_alloc((size_t)(nt + p), sizeof(double), &err)) ||
        !(d->step = sb_alloc((size_t)(nt + p), sizeof(double), &err))) {
        fprintf(stderr, "saebench: %s\n", err.msg);
        return SB_EXIT_RUNTIME;
    }
    sb_run_rate(r, (double)c->shape.n);
    il_roofline(r, c);
    return -1;
}

/* The three LM fits; a failure fails the run and skips the fits after it. */
static void il_fits(sb_run *r, il_data *d)
{
    sb_arrow_case *c = &d->c;
    sb_err err = {{0}};
    /* 1. The resident LM fit; its state keeps the frame for the timed solves. */
    sb_run_progress(r, "LM loop, frame resident");
    sb_run_at_phase(r, "", "resident-fit");
    double t0 = sb_now_s();
    if (d->ops->create(&c->sys, 0, &d->state, &err) ||
        sb_lm_run(&c->sys, c->sys.g_t, c->sys.g_b, d->ops, d->state, &d->frame, &c->lm, &d->res, &err)) {
        sb_run_fail(r, "%s failed in the resident LM loop: %s", d->who, err.msg);
    } else {
        d->fit_s = sb_now_s() - t0;
        sb_run_note(r, "LM: %d iterations (%d accepted), %s, objective %.15g, logdet %.15g, ridges (%g, %g)",
                    d->res.iterations, d->res.accepted, d->res.converged ? "converged" : "NOT converged", d->res.objective,
                    d->res.logdet, d->res.ridge_t, d->res.ridge_b);
    }
    /* 2. The same loop re-staging and re-factoring every iterate. */
    if (!r->failed) {
        sb_run_progress(r, "LM loop, re-upload baseline");
        sb_run_at_phase(r, "", "reupload-fit");
        if (sb_arrow_fit(c, d->ops, 1, c->sys.g_t, c->sys.g_b, &d->rup, NULL, &err))
            sb_run_fail(r, "%s failed in the re-upload LM loop: %s", d->who, err.msg);
        else
            d->rup_ok = 1;
    }
    /* 3. The dense LAPACKE oracle: same loop, independent solves. */
    if (!r->failed) {
        sb_run_progress(r, "LM loop, dense LAPACKE oracle (order %lld)", (long long)(c->nt + c->shape.p));
        sb_run_at_phase(r, "", "oracle-fit");
        if (sb_arrow_fit(c, &sb_oracle_arrow_ops, 1, c->sys.g_t, c->sys.g_b, &d->orc, NULL, &err))
            sb_run_fail(r, "the dense oracle failed: %s", err.msg);
        else
            d->orc_ok = 1;
    }
}

/* Timed phases at the frame's ridges, with the gradient at z = 0: the
 * resident solve, the re-upload baseline, the frame build alone. */
static void il_phases(sb_run *r, il_data *d)
{
    if (r->failed)
        return;
    if (!d->frame.valid) {
        sb_run_note(r, "no valid frame after the LM loop (ridge limit): nothing to time");
        return;
    }
    const sb_arrow_ops *ops = d->ops;
    const int64_t nt = d->c.nt;
    sb_err err = {{0}};
    sb_arrow_residual(&d->c.sys, d->c.sys.g_t, d->c.sys.g_b, d->zeros, d->zeros + nt, d->r_t, d->r_b);
    il_rep res_rep = {ops, d->state, d->frame.ridge_t, d->frame.ridge_b, d->r_t, d->r_b, d->step, d->step + nt, 0, 1};
    sb_rep rep = {NULL, il_rep_run, &res_rep};
    sb_phase *ph = sb_run_time(r, "resident", &rep);
    sb_telemetry tele = {0};
    sb_run_at_phase(r, "resident", "check");
    if (!r->failed && sb_arrow_read_telemetry(ops, d->state, &tele, &err))
        sb_run_fail(r, "%s failed in the resident phase: %s", d->who, err.msg);
    sb_run_phase_telemetry(ph, &tele);
    sb_run_at_phase(r, "reupload", "create");
    if (!r->failed && ops->create(&d->c.sys, 1, &d->rup_state, &err))
        sb_run_fail(r, "%s failed staging the re-upload baseline: %s", d->who, err.msg);
    if (r->failed)
        return;
    il_rep up = {ops, d->rup_state, d->frame.ridge_t, d->frame.ridge_b, d->r_t, d->r_b, d->step, d->step + nt, 1, 1};
    sb_rep rep2 = {NULL, il_rep_run, &up};
    sb_phase *ph2 = sb_run_time(r, "reupload", &rep2);
    il_rep fb = up;
    fb.solve = 0;
    sb_rep rep3 = {NULL, il_rep_run, &fb};
    if (!r->failed)
        sb_run_time(r, "frame_build", &rep3);
    sb_telemetry t2 = {0};
    sb_run_at_phase(r, "frame_build", "check");
    if (!r->failed && sb_arrow_read_telemetry(ops, d->rup_state, &t2, &err))
        sb_run_fail(r, "%s failed in the frame_build phase: %s", d->who, err.msg);
    sb_run_phase_telemetry(ph2, &t2);
}

/* Gate values: parity and convergence from the fits, residency and the
 * target from the resident and re-upload phases. */
static void il_gates(sb_run *r, il_data *d)
{
    sb_err err = {{0}};
    if (d->orc_ok && !r->failed) {
        if (sb_lm_parity(&d->c.sys, d->c.sys.g_t, d->c.sys.g_b, &d->res, &d->orc, &d->par, &err)) {
            sb_run_fail(r, "parity: %s", err.msg);
            return;
        }
        d->par_ok = 1;
        sb_run_gate(r, "IL-001", d->par.ratio);
        sb_run_gate(r, "IL-005", sb_lm_parity_rel(&d->par));
        sb_run_gate(r, "IL-003", d->res.converged ? 1.0 : 0.0);
        sb_lm_parity_note(r, &d->par);
    }
    if (r->nphases >= 2 && r->phases[0].completed && r->phases[1].completed) {
        sb_run_gate(r, "IL-002", r->phases[1].stats.median / r->phases[0].stats.median);
        if (isfinite(sb_run_threshold(r, "IL-004")))
            sb_run_gate(r, "IL-004", r->phases[0].stats.median * 1e3);
        else
            sb_run_gate_na(r, "IL-004", "the shape sets no target_solve_ms");
    }
}

/* Each fit's result; the re-upload fit must match the resident bit for bit. */
static void il_results_json(cJSON *root, il_data *d)
{
    cJSON *results = cJSON_AddObjectToObject(root, "results");
    if (!isnan(d->fit_s)) {
        cJSON *j = sb_lm_result_json(&d->res, d->frame.builds);
        cJSON_AddNumberToObject(j, "fit_s", d->fit_s);
        cJSON_AddItemToObject(results, "resident", j);
    }
    if (d->rup_ok) {
        const char *what = NULL;
        int same = sb_lm_identical(&d->res, &d->rup, d->c.nt, d->c.shape.p, &what);
        cJSON *j = sb_lm_result_json(&d->rup, d->rup.iterations);
        cJSON_AddBoolToObject(j, "bit_identical_to_resident", same);
        if (!same)
            cJSON_AddStringToObject(j, "first_difference", what);
        cJSON_AddItemToObject(results, "reupload", j);
    }
    if (d->orc_ok)
        cJSON_AddItemToObject(results, "oracle", sb_lm_result_json(&d->orc, d->orc.iterations));
}

/* The workload's own verdict sections: parity figures, results, traffic, scope. */
static void il_verdict_extras(sb_run *r, il_data *d)
{
    cJSON *root = r->v.root;
    const int64_t nt = d->c.nt, p = d->c.shape.p;
    cJSON *parity = sb_run_parity(r, "the same LM loop with a dense LAPACKE dpotrf/dpotrs of the full (n*d+p)^2 H + R, float64");
    sb_lm_parity_verdict(parity, d->par_ok ? &d->par : NULL, "H + R at the last accepted step's ridges", -1);
    sb_arrow_case_verdict_shape(root, &d->c);
    il_results_json(root, d);
    if (!isnan(d->fit_s))
        sb_arrow_dump_z(r, &d->res, 1, 0, nt, p);
    if (r->nphases >= 3 && r->phases[2].completed)
        cJSON_AddNumberToObject(root, "frame_build_s", r->phases[2].stats.median);
    cJSON_AddNumberToObject(root, "per_solve_upload_bytes", 8.0 * (double)(nt + p));
    cJSON_AddNumberToObject(root, "per_solve_download_bytes", 8.0 * (double)(nt + p));
    cJSON_AddStringToObject(root, "scope", "the resident gradient-only solve of one LM iterate, the re-upload baseline and the frame build");
}

/* What runs the backend (in a plugin run's child): the fits and the timed
 * phases, then the states released; and what reads only their results
 * (also the parent's, after a plugin's crash: then nothing ran). */
static void il_work(sb_run *r, void *ctx)
{
    il_data *d = ctx;
    il_fits(r, d);
    il_phases(r, d);
    il_release(r, d);
}

static void il_extras(sb_run *r, void *ctx)
{
    il_data *d = ctx;
    il_gates(r, d);
    il_verdict_extras(r, d);
}

/* Each step returns -1 to go on, else the exit code; one cleanup for every path. */
int sb_cmd_inner_loop(int argc, char **argv)
{
    sb_run r;
    il_data d;
    memset(&d, 0, sizeof d);
    int rc = sb_run_init(&r, &IL_WORKLOAD, argc, argv, il_help);
    if (rc < 0)
        rc = il_load(&r, &d);
    if (rc < 0)
        rc = sb_arrow_run_begin(&r, &d.c);
    if (rc < 0)
        rc = il_build(&r, &d);
    if (rc < 0 && r.plugin) { /* the backend's work in a child process; this one writes the verdict */
        rc = sb_run_isolated(&r, il_work, il_extras, &d);
    } else if (rc < 0) {
        il_work(&r, &d);
        il_extras(&r, &d);
        rc = sb_run_finish(&r);
    }
    sb_run_free(&r);
    il_free(&d);
    return rc;
}
