/* outer-seq (docs/workloads.md §3): a sequence of outer evaluations that share
 * the Hessian blocks and differ only in the base gradient g₀, run on one
 * frame built once. This file holds only the workload: the shared-frame
 * sequence, the fresh-frame runs it must match bit for bit, the oracle, and
 * what one timed rep of each phase is. */
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

#define OS_DEFAULT_REPS 6
#define OS_DEFAULT_WARMUP 1
#define OS_DEFAULT_OUTERS 3

static const sb_gate_def OS_GATES[] = {
    {"OS-001", "frame builds over the whole shared-frame sequence", SB_CMP_EQ, 1.0, 1, 0, 0, 0},
    {"OS-002", "outers whose shared-frame result differs in any bit from a fresh-frame run", SB_CMP_EQ, 0.0, 0, 0, 0, 0},
    {"OS-003", "parity vs the dense oracle: the worst ratio over every outer (step, z, objective, logdet to their bounds)", SB_CMP_LE, 1.0, 1, 0, 1, 0},
    /* Opt-in: the verdict/3 rule, a fixed tolerance whatever the conditioning. */
    {"OS-004", "worst rel_err over every outer vs the dense oracle (the verdict/3 rule)", SB_CMP_LT, 1e-9, 1, 0, 1, 1},
};

static const sb_workload OS_WORKLOAD = {
    .name = "outer-seq",
    .accepted = SB_OPT_SHAPE | SB_OPT_SYSTEM | SB_OPT_DUMP_Z | SB_OPT_BACKEND | SB_OPT_REQUIRE_DEVICE | SB_OPT_REPS | SB_OPT_WARMUP | SB_OPT_OUT |
                SB_OPT_GATE | SB_OPT_QUIET | SB_OPT_CALIBRATION | SB_OPT_THREADS | SB_OPT_STOP | SB_OPT_OUTERS | SB_OPT_PLUGIN,
    .gates = OS_GATES,
    .ngates = sizeof OS_GATES / sizeof OS_GATES[0],
    .target_gate = NULL,
    .target_unit = "none",
    .rate_unit = "rows",
    .doc = "docs/workloads.md §3",
    .plugin_workload = SAEBENCH_WORKLOAD_INNER_LOOP, /* the arrow table serves both */
};

static void os_help(void)
{
    printf("usage: saebench outer-seq --shape NAME|FILE.json [--outers N] [options]\n"
           "       saebench outer-seq --system DIR [--shape SETTINGS.json] [--dump-z z.npy] [options]\n"
           "              (inner-loop's files; gt.npy S x n x d and gb.npy S x p give S outers)\n\n"
           "Run N outer evaluations (base gradients differ, Hessian blocks shared) on one\n"
           "frame built once; check every outer bit for bit against a fresh-frame run and\n"
           "against a dense LAPACKE oracle; time an outer on the shared frame against an\n"
           "outer that builds its own frame; write a verdict.\n\n"
           "--backend plugin:PATH.so runs your own arrow solver (include/saebench/solver.h's\n"
           "arrow table) in a child process, killed after --timeout S; docs/plugins.md.\n\n");
}

/* Everything one run holds; one owner, freed in os_free. */
typedef struct os_data {
    sb_arrow_case c;
    int64_t outers;
    double *g;               /* outers × (n·d + p) base gradients */
    sb_lm_result *shared, *fresh, *oracle;
    long long *h2d_after;    /* telemetry after each shared outer */
    sb_lm_result scratch;    /* the timed reps' results */
    const sb_arrow_ops *ops; /* the chosen backend's */
    const char *who;         /* the backend as failure messages name it */
    void *state;             /* the shared frame's, kept for the timed shared outers */
    sb_lm_frame frame;
    int64_t done;            /* outers the shared-frame sequence completed */
    long long builds;        /* frame builds over that sequence */
    int64_t differ, first_differ; /* outers differing from a fresh frame; the first (-1: none) */
    const char *what;        /* the first differing field */
    sb_lm_parity_t par;      /* parity of the worst outer against the oracle */
    int64_t par_outer;       /* which outer (-1: none checked) */
} os_data;

static const double *g_t_of(const os_data *d, int64_t s) { return d->g + (size_t)s * (size_t)(d->c.nt + d->c.sys.p); }
static const double *g_b_of(const os_data *d, int64_t s) { return g_t_of(d, s) + d->c.nt; }

static void os_free(os_data *d)
{
    if (d->state)
        d->ops->destroy(d->state);
    sb_lm_result_free(&d->scratch);
    for (int64_t s = 0; s < d->outers; s++) {
        if (d->shared)
            sb_lm_result_free(&d->shared[s]);
        if (d->fresh)
            sb_lm_result_free(&d->fresh[s]);
        if (d->oracle)
            sb_lm_result_free(&d->oracle[s]);
    }
    free(d->shared);
    free(d->fresh);
    free(d->oracle);
    free(d->g);
    free(d->h2d_after);
    sb_arrow_case_free(&d->c);
}

static sb_rc os_alloc(os_data *d, sb_err *err)
{
    int64_t nt = d->c.nt, p = d->c.sys.p, N = d->outers;
    d->g = sb_alloc((size_t)N * (size_t)(nt + p), sizeof(double), err);
    d->shared = d->g ? sb_alloc((size_t)N, sizeof *d->shared, err) : NULL;
    d->fresh = d->shared ? sb_alloc((size_t)N, sizeof *d->fresh, err) : NULL;
    d->oracle = d->fresh ? sb_alloc((size_t)N, sizeof *d->oracle, err) : NULL;
    d->h2d_after = d->oracle ? sb_alloc((size_t)N, sizeof *d->h2d_after, err) : NULL;
    if (!d->h2d_after)
        return SB_E_RUNTIME;
    for (int64_t s = 0; s < N; s++) {
        if (sb_lm_result_alloc(&d->shared[s], nt, p, err) || sb_lm_result_alloc(&d->fresh[s], nt, p, err) ||
            sb_lm_result_alloc(&d->oracle[s], nt, p, err))
            return SB_E_RUNTIME;
        double *gt = d->g + (size_t)s * (size_t)(nt + p);
        if (d->c.from_npy)
            memcpy(gt, d->c.g_outer + s * (nt + p), (size_t)(nt + p) * sizeof *gt);
        else
            sb_arrow_outer_gradient(d->c.sys.n, p, d->c.sys.d, s, gt, gt + nt);
    }
    return SB_OK;
}

/* Timed reps: one outer on the shared frame (no rebuild), or one outer that
 * stages and factors its own frame. Outer k mod N. */
static sb_rc os_rep_shared(void *ctx, int64_t k, int timed, sb_err *err)
{
    (void)timed;
    os_data *d = ctx;
    int64_t s = k % d->outers;
    return sb_lm_run(&d->c.sys, g_t_of(d, s), g_b_of(d, s), d->ops, d->state, &d->frame, &d->c.lm, &d->scratch, err);
}

static sb_rc os_rep_fresh(void *ctx, int64_t k, int timed, sb_err *err)
{
    (void)timed;
    os_data *d = ctx;
    int64_t s = k % d->outers;
    return sb_arrow_fit(&d->c, d->ops, 0, g_t_of(d, s), g_b_of(d, s), &d->scratch, NULL, err);
}

/* The shape and the number of outers; exit 2 before any work. */
static int os_load(sb_run *r, os_data *d)
{
    int rc = sb_arrow_run_load(r, SB_WL_OUTER_SEQ, &d->c, OS_DEFAULT_REPS, OS_DEFAULT_WARMUP);
    if (rc >= 0)
        return rc;
    if (d->c.from_npy && r->opts.outers > 0 && r->opts.outers != d->c.data_outers) {
        fprintf(stderr, "saebench: --outers %lld: %s holds %lld gradient(s), one outer each\n", (long long)r->opts.outers,
                d->c.files[3], (long long)d->c.data_outers);
        return SB_EXIT_USAGE;
    }
    if (d->c.from_npy)
        d->outers = d->c.data_outers;
    else
        d->outers = r->opts.outers > 0 ? r->opts.outers : d->c.shape.outers > 0 ? d->c.shape.outers : OS_DEFAULT_OUTERS;
    return -1;
}

/* The fixture, the base gradients and the results (exit 4 when out of memory). */
static int os_build(sb_run *r, os_data *d)
{
    sb_err err = {{0}};
    d->ops = r->backend->arrow;
    d->who = sb_run_backend_noun(r);
    d->par_outer = -1; /* none checked yet (a plugin's: checked in the run's child) */
    d->first_differ = -1;
    sb_run_progress(r, "building the fixture");
    if (sb_arrow_case_build(&d->c, &err) || os_alloc(d, &err) || sb_lm_result_alloc(&d->scratch, d->c.nt, d->c.shape.p, &err)) {
        fprintf(stderr, "saebench: %s\n", err.msg);
        return SB_EXIT_RUNTIME;
    }
    sb_run_rate(r, (double)d->c.shape.n);
    return -1;
}

/* 1. Every outer on one state and one frame. */
static void os_fit_shared(sb_run *r, os_data *d)
{
    const int64_t N = d->outers;
    sb_err err = {{0}};
    sb_run_at_phase(r, "", "create");
    if (d->ops->create(&d->c.sys, 0, &d->state, &err)) {
        sb_run_fail(r, "%s failed staging the frame: %s", d->who, err.msg);
        d->state = NULL;
    }
    for (int64_t s = 0; d->state && !r->failed && s < N; s++) {
        sb_run_progress(r, "outer %lld/%lld on the shared frame", (long long)(s + 1), (long long)N);
        sb_run_at_phase(r, "", "shared-fit");
        if (sb_lm_run(&d->c.sys, g_t_of(d, s), g_b_of(d, s), d->ops, d->state, &d->frame, &d->c.lm, &d->shared[s], &err)) {
            sb_run_fail(r, "%s failed in outer %lld: %s", d->who, (long long)s, err.msg);
            break;
        }
        sb_telemetry tele = {0};
        sb_run_at_phase(r, "", "check");
        if (sb_arrow_read_telemetry(d->ops, d->state, &tele, &err)) {
            sb_run_fail(r, "%s failed after outer %lld: %s", d->who, (long long)s, err.msg);
            break;
        }
        d->h2d_after[s] = tele.h2d_bytes;
        d->done++;
    }
    d->builds = d->frame.builds;
}

/* 2. Each outer again with a fresh state and frame, and 3. the oracle. */
static void os_fit_fresh_and_oracle(sb_run *r, os_data *d)
{
    const int64_t nt = d->c.nt, p = d->c.shape.p, N = d->outers;
    sb_err err = {{0}};
    for (int64_t s = 0; !r->failed && s < N; s++) {
        sb_run_progress(r, "outer %lld/%lld on a fresh frame, then the dense oracle", (long long)(s + 1), (long long)N);
        sb_run_at_phase(r, "", "fresh-fit");
        if (sb_arrow_fit(&d->c, d->ops, 0, g_t_of(d, s), g_b_of(d, s), &d->fresh[s], NULL, &err)) {
            sb_run_fail(r, "%s failed in fresh-frame outer %lld: %s", d->who, (long long)s, err.msg);
            break;
        }
        const char *w = NULL;
        if (!sb_lm_identical(&d->shared[s], &d->fresh[s], nt, p, &w)) {
            if (d->first_differ < 0) {
                d->first_differ = s;
                d->what = w;
            }
            d->differ++;
        }
        sb_run_at_phase(r, "", "oracle-fit");
        if (sb_arrow_fit(&d->c, &sb_oracle_arrow_ops, 1, g_t_of(d, s), g_b_of(d, s), &d->oracle[s], NULL, &err)) {
            sb_run_fail(r, "the dense oracle failed in outer %lld: %s", (long long)s, err.msg);
            break;
        }
        sb_lm_parity_t pa;
        if (sb_lm_parity(&d->c.sys, g_t_of(d, s), g_b_of(d, s), &d->shared[s], &d->oracle[s], &pa, &err)) {
            sb_run_fail(r, "parity of outer %lld: %s", (long long)s, err.msg);
            break;
        }
        sb_lm_parity_fold(&d->par, &d->par_outer, &pa, s);
    }
}

/* Timed: an outer on the shared frame vs an outer building its own. */
static void os_phases(sb_run *r, os_data *d)
{
    if (r->failed)
        return;
    sb_err err = {{0}};
    sb_rep rep = {NULL, os_rep_shared, d};
    sb_phase *ph = sb_run_time(r, "shared", &rep);
    sb_telemetry tele = {0};
    sb_run_at_phase(r, "shared", "check");
    if (!r->failed && sb_arrow_read_telemetry(d->ops, d->state, &tele, &err))
        sb_run_fail(r, "%s failed in the shared phase: %s", d->who, err.msg);
    sb_run_phase_telemetry(ph, &tele);
    sb_rep rep2 = {NULL, os_rep_fresh, d};
    if (!r->failed)
        sb_run_time(r, "reupload", &rep2);
}

static void os_gates(sb_run *r, const os_data *d)
{
    if (r->failed)
        return;
    sb_run_gate(r, "OS-001", (double)d->builds);
    sb_run_gate(r, "OS-002", (double)d->differ);
    sb_run_gate(r, "OS-003", d->par.ratio);
    sb_run_gate(r, "OS-004", sb_lm_parity_rel(&d->par));
    sb_run_note(r, "%lld outers on one frame: %lld frame build(s); %lld differ from a fresh frame; worst parity: outer %lld",
                (long long)d->outers, d->builds, (long long)d->differ, (long long)d->par_outer);
    sb_lm_parity_note(r, &d->par);
}

/* The workload's own verdict sections: parity figures, bit identity, the
 * per-outer results and traffic, scope. */
static void os_verdict_extras(sb_run *r, const os_data *d)
{
    cJSON *root = r->v.root;
    const int64_t nt = d->c.nt, p = d->c.shape.p;
    sb_arrow_case_verdict_shape(root, &d->c);
    cJSON_AddNumberToObject(root, "outers", (double)d->outers);
    cJSON_AddNumberToObject(root, "frame_builds", (double)d->builds);
    cJSON *parity = sb_run_parity(r, "the same LM loop per outer with a dense LAPACKE dpotrf/dpotrs of the full (n*d+p)^2 H + R, float64");
    sb_lm_parity_verdict(parity, !r->failed && d->par_outer >= 0 ? &d->par : NULL,
                         "per outer, H + R at the last accepted step's ridges; the worst outer", d->par_outer);
    cJSON *bit = cJSON_AddObjectToObject(root, "bit_identity");
    cJSON_AddNumberToObject(bit, "outers_differing", (double)d->differ);
    if (d->first_differ >= 0) {
        cJSON_AddNumberToObject(bit, "first_outer", (double)d->first_differ);
        cJSON_AddStringToObject(bit, "first_field", d->what);
    }
    /* Per-outer traffic: what crossed to the device during each outer after
     * the first (the first also stages the frame). O(n·d + p) per solve. */
    cJSON *outs = cJSON_AddArrayToObject(root, "per_outer");
    for (int64_t s = 0; s < d->done; s++) {
        cJSON *o = sb_lm_result_json(&d->shared[s], s == 0 ? d->builds : 0);
        long long before = s == 0 ? 0 : d->h2d_after[s - 1];
        cJSON_AddNumberToObject(o, "h2d_bytes", (double)(d->h2d_after[s] - before));
        cJSON_AddNumberToObject(o, "gradient_bytes_per_solve", 8.0 * (double)(nt + p));
        cJSON_AddItemToArray(outs, o);
    }
    cJSON_AddStringToObject(root, "scope", "outer evaluations on one frame built once, against outers that each build their own frame");
    if (d->done == d->outers)
        sb_arrow_dump_z(r, d->shared, d->outers, 1, nt, p);
}

/* What runs the backend (in a plugin run's child): the fits and the timed
 * phases, then the shared state released; and what reads only their results
 * (also the parent's, after a plugin's crash: then nothing ran). */
static void os_work(sb_run *r, void *ctx)
{
    os_data *d = ctx;
    os_fit_shared(r, d);
    os_fit_fresh_and_oracle(r, d);
    os_phases(r, d);
    if (d->state) {
        sb_run_at_phase(r, "", "destroy");
        d->ops->destroy(d->state);
        d->state = NULL;
    }
}

static void os_extras(sb_run *r, void *ctx)
{
    os_data *d = ctx;
    os_gates(r, d);
    os_verdict_extras(r, d);
}

/* Each step returns -1 to go on, else the exit code; one cleanup for every path. */
int sb_cmd_outer_seq(int argc, char **argv)
{
    sb_run r;
    os_data d;
    memset(&d, 0, sizeof d);
    int rc = sb_run_init(&r, &OS_WORKLOAD, argc, argv, os_help);
    if (rc < 0)
        rc = os_load(&r, &d);
    if (rc < 0)
        rc = sb_arrow_run_begin(&r, &d.c);
    if (rc < 0)
        rc = os_build(&r, &d);
    if (rc < 0 && r.plugin) { /* the backend's work in a child process; this one writes the verdict */
        rc = sb_run_isolated(&r, os_work, os_extras, &d);
    } else if (rc < 0) {
        os_work(&r, &d);
        os_extras(&r, &d);
        rc = sb_run_finish(&r);
    }
    sb_run_free(&r);
    os_free(&d);
    return rc;
}
