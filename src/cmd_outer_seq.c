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

#include "arrow_case.h"
#include "commands.h"
#include "host/host_info.h"
#include "run.h"

#define OS_DEFAULT_REPS 6
#define OS_DEFAULT_WARMUP 1
#define OS_DEFAULT_OUTERS 3

static const sb_gate_def OS_GATES[] = {
    {"OS-001", "frame builds over the whole shared-frame sequence", SB_CMP_EQ, 1.0, 1, 0, 0},
    {"OS-002", "outers whose shared-frame result differs in any bit from a fresh-frame run", SB_CMP_EQ, 0.0, 0, 0, 0},
    {"OS-003", "parity vs the dense oracle: worst rel_err over every outer (step, z, objective, logdet)", SB_CMP_LT, 1e-9, 1, 0, 1},
};

static const sb_workload OS_WORKLOAD = {
    .name = "outer-seq",
    .accepted = SB_OPT_SHAPE | SB_OPT_BACKEND | SB_OPT_REQUIRE_DEVICE | SB_OPT_REPS | SB_OPT_WARMUP | SB_OPT_OUT |
                SB_OPT_GATE | SB_OPT_QUIET | SB_OPT_CALIBRATION | SB_OPT_THREADS | SB_OPT_STOP | SB_OPT_OUTERS,
    .gates = OS_GATES,
    .ngates = sizeof OS_GATES / sizeof OS_GATES[0],
    .target_gate = NULL,
    .target_unit = "none",
    .rate_unit = "rows",
    .doc = "docs/workloads.md §3",
};

static void os_help(void)
{
    printf("usage: saebench outer-seq --shape NAME|FILE.json [--outers N] [options]\n\n"
           "Run N outer evaluations (base gradients differ, Hessian blocks shared) on one\n"
           "frame built once; check every outer bit for bit against a fresh-frame run and\n"
           "against a dense LAPACKE oracle; time an outer on the shared frame against an\n"
           "outer that builds its own frame; write a verdict.\n\n");
}

typedef struct os_data {
    sb_arrow_case c;
    int64_t outers;
    double *g;               /* outers × (n·d + p) base gradients */
    sb_lm_result *shared, *fresh, *oracle;
    long long *h2d_after;    /* telemetry after each shared outer */
} os_data;

static const double *g_t_of(const os_data *d, int64_t s) { return d->g + (size_t)s * (size_t)(d->c.nt + d->c.sys.p); }
static const double *g_b_of(const os_data *d, int64_t s) { return g_t_of(d, s) + d->c.nt; }

static void os_free(os_data *d)
{
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
        sb_arrow_outer_gradient(d->c.sys.n, p, d->c.sys.d, s, gt, gt + nt);
    }
    return SB_OK;
}

/* Timed reps: one outer on the shared frame (no rebuild), or one outer that
 * stages and factors its own frame. Outer k mod N. */
typedef struct os_rep {
    os_data *d;
    const sb_arrow_ops *ops;
    void *state;             /* shared phase */
    sb_lm_frame *frame;      /* shared phase */
    sb_lm_result *scratch;
} os_rep;

static sb_rc os_rep_shared(void *ctx, int64_t k, int timed, sb_err *err)
{
    (void)timed;
    os_rep *c = ctx;
    int64_t s = k % c->d->outers;
    return sb_lm_run(&c->d->c.sys, g_t_of(c->d, s), g_b_of(c->d, s), c->ops, c->state, c->frame, &c->d->c.lm, c->scratch, err);
}

static sb_rc os_rep_fresh(void *ctx, int64_t k, int timed, sb_err *err)
{
    (void)timed;
    os_rep *c = ctx;
    int64_t s = k % c->d->outers;
    return sb_arrow_fit(&c->d->c, c->ops, 0, g_t_of(c->d, s), g_b_of(c->d, s), c->scratch, NULL, err);
}

static int implements_arrow(const sb_backend *b) { return b->arrow != NULL; }

int sb_cmd_outer_seq(int argc, char **argv)
{
    sb_run r;
    int rc = sb_run_init(&r, &OS_WORKLOAD, argc, argv, os_help);
    if (rc >= 0)
        return rc;
    os_data d;
    memset(&d, 0, sizeof d);
    sb_err err = {{0}};
    if (sb_arrow_case_load(&r.opts, SB_WL_OUTER_SEQ, &d.c, &err)) {
        fprintf(stderr, "saebench: %s\n", err.msg);
        sb_run_free(&r);
        return SB_EXIT_USAGE;
    }
    d.outers = r.opts.outers > 0 ? r.opts.outers : d.c.shape.outers > 0 ? d.c.shape.outers : OS_DEFAULT_OUTERS;
    sb_run_counts(&r, d.c.shape.reps, d.c.shape.warmup, OS_DEFAULT_REPS, OS_DEFAULT_WARMUP);
    sb_host_set_threads(r.opts.threads);
    if ((rc = sb_run_verdict_init(&r, &d.c.shape, "fixture")) >= 0) {
        sb_run_free(&r);
        return rc;
    }
    if ((rc = sb_run_choose_backend(&r, implements_arrow)) >= 0)
        return rc;
    const sb_arrow_ops *ops = r.backend->arrow;
    const int64_t nt = d.c.nt, p = d.c.shape.p, N = d.outers;
    const char *who = r.backend->is_device ? "device" : "host backend";
    sb_lm_result scratch = {0};
    void *state = NULL;
    sb_run_progress(&r, "building the fixture");
    if (sb_arrow_case_build(&d.c, &err) || os_alloc(&d, &err) || sb_lm_result_alloc(&scratch, nt, p, &err)) {
        fprintf(stderr, "saebench: %s\n", err.msg);
        sb_run_free(&r);
        sb_lm_result_free(&scratch);
        os_free(&d);
        return SB_EXIT_RUNTIME;
    }
    sb_run_rate(&r, (double)d.c.shape.n);
    cJSON *root = r.v.root;

    /* 1. Every outer on one state and one frame. */
    sb_lm_frame frame = {0};
    sb_telemetry tele = {0};
    int64_t done = 0;
    if (ops->create(&d.c.sys, 0, &state, &err)) {
        sb_run_fail(&r, "%s failed staging the frame: %s", who, err.msg);
        state = NULL;
    }
    for (int64_t s = 0; state && !r.failed && s < N; s++) {
        sb_run_progress(&r, "outer %lld/%lld on the shared frame", (long long)(s + 1), (long long)N);
        if (sb_lm_run(&d.c.sys, g_t_of(&d, s), g_b_of(&d, s), ops, state, &frame, &d.c.lm, &d.shared[s], &err)) {
            sb_run_fail(&r, "%s failed in outer %lld: %s", who, (long long)s, err.msg);
            break;
        }
        ops->telemetry(state, &tele);
        d.h2d_after[s] = tele.h2d_bytes;
        done++;
    }
    long long builds = frame.builds;
    /* 2. Each outer again with a fresh state and frame, and 3. the oracle. */
    int64_t differ = 0, first_differ = -1;
    const char *what = NULL;
    double worst = 0, parts[4];
    for (int64_t s = 0; !r.failed && s < N; s++) {
        sb_run_progress(&r, "outer %lld/%lld on a fresh frame, then the dense oracle", (long long)(s + 1), (long long)N);
        if (sb_arrow_fit(&d.c, ops, 0, g_t_of(&d, s), g_b_of(&d, s), &d.fresh[s], NULL, &err)) {
            sb_run_fail(&r, "%s failed in fresh-frame outer %lld: %s", who, (long long)s, err.msg);
            break;
        }
        const char *w = NULL;
        if (!sb_lm_identical(&d.shared[s], &d.fresh[s], nt, p, &w)) {
            if (first_differ < 0) {
                first_differ = s;
                what = w;
            }
            differ++;
        }
        if (sb_arrow_fit(&d.c, &sb_oracle_arrow_ops, 1, g_t_of(&d, s), g_b_of(&d, s), &d.oracle[s], NULL, &err)) {
            sb_run_fail(&r, "the dense oracle failed in outer %lld: %s", (long long)s, err.msg);
            break;
        }
        double e = sb_lm_parity(&d.shared[s], &d.oracle[s], nt, p, parts);
        worst = isnan(e) || isnan(worst) ? NAN : fmax(worst, e);
    }

    /* Timed: an outer on the shared frame vs an outer building its own. */
    if (!r.failed) {
        os_rep sh = {&d, ops, state, &frame, &scratch};
        sb_rep rep = {NULL, os_rep_shared, &sh};
        sb_phase *ph = sb_run_time(&r, "shared", &rep);
        ops->telemetry(state, &tele);
        sb_run_phase_telemetry(ph, &tele);
        os_rep fr = {&d, ops, NULL, NULL, &scratch};
        sb_rep rep2 = {NULL, os_rep_fresh, &fr};
        if (!r.failed)
            sb_run_time(&r, "reupload", &rep2);
    } else if (state) {
        ops->telemetry(state, &tele);
    }

    if (!r.failed) {
        sb_run_gate(&r, "OS-001", (double)builds);
        sb_run_gate(&r, "OS-002", (double)differ);
        sb_run_gate(&r, "OS-003", worst);
        sb_run_note(&r, "%lld outers on one frame: %lld frame build(s); %lld differ from a fresh frame; worst oracle rel_err %.2e",
                    (long long)N, builds, (long long)differ, worst);
    }
    cJSON_AddNumberToObject(root, "outers", (double)N);
    cJSON_AddNumberToObject(root, "frame_builds", (double)builds);
    cJSON *parity = sb_run_parity(&r, "the same LM loop per outer with a dense LAPACKE dpotrf/dpotrs of the full (n*d+p)^2 H + R, float64");
    cJSON_AddItemToObject(parity, "rel_err", r.failed ? cJSON_CreateNull() : sb_json_number(worst));
    cJSON_AddItemToObject(parity, "max_abs_err", cJSON_CreateNull());
    cJSON *bit = cJSON_AddObjectToObject(root, "bit_identity");
    cJSON_AddNumberToObject(bit, "outers_differing", (double)differ);
    if (first_differ >= 0) {
        cJSON_AddNumberToObject(bit, "first_outer", (double)first_differ);
        cJSON_AddStringToObject(bit, "first_field", what);
    }
    /* Per-outer traffic: what crossed to the device during each outer after
     * the first (the first also stages the frame). O(n·d + p) per solve. */
    cJSON *outs = cJSON_AddArrayToObject(root, "per_outer");
    for (int64_t s = 0; s < done; s++) {
        cJSON *o = sb_lm_result_json(&d.shared[s], s == 0 ? builds : 0);
        long long before = s == 0 ? 0 : d.h2d_after[s - 1];
        cJSON_AddNumberToObject(o, "h2d_bytes", (double)(d.h2d_after[s] - before));
        cJSON_AddNumberToObject(o, "gradient_bytes_per_solve", 8.0 * (double)(nt + p));
        cJSON_AddItemToArray(outs, o);
    }
    cJSON_AddStringToObject(root, "scope", "outer evaluations on one frame built once, against outers that each build their own frame");

    rc = sb_run_finish(&r);
    if (state)
        ops->destroy(state);
    sb_lm_result_free(&scratch);
    os_free(&d);
    return rc;
}
