/* inner-loop and outer-seq through a plugin (include/saebench/solver.h): the
 * backend's sb_arrow_ops over the plugin's saebench_arrow_ops_v1, in the
 * run's child process only (src/plugin.h). Each op is one plugin call, so
 * the LM loop (src/arrow.c) and the commands' timed reps drive the plugin
 * exactly as they drive the host and CUDA modes; which of its calls fall
 * inside saebench's clock is the commands' (docs/plugins.md, "inner-loop and
 * outer-seq"). condition stays NULL: parity takes κ̂ from the oracle. */
#include <stdlib.h>
#include <string.h>

#include "../include/saebench/solver.h"
#include "arrow.h"
#include "plugin.h"
#include "run.h"

/* The plugin bound in this process (sb_plugin_bind): one per child. */
static const saebench_arrow_ops_v1 *g_ops;
static int g_threads;
static sb_run_where *g_where;

void sb_plugin_arrow_bind(const saebench_arrow_ops_v1 *ops, int threads, sb_run_where *where)
{
    g_ops = ops;
    g_threads = threads;
    g_where = where;
}

typedef struct plugin_arrow {
    void *state;           /* the plugin's */
    int reupload;          /* the plugin re-stages the blocks in every factor() */
    char msg[512];         /* the error buffer saebench owns (saebench_error.msg) */
    saebench_error perr;
    sb_telemetry tele;     /* the latest counters read (check), with saebench's frame_builds */
} plugin_arrow;

/* The call in progress, for a parent watching (one int store). */
static void at_call(int call)
{
    if (g_where)
        g_where->call = call;
}

/* One plugin call's status, its error buffer emptied before the call. */
static saebench_error *fresh(plugin_arrow *s)
{
    s->msg[0] = '\0';
    return &s->perr;
}

static sb_rc status_of(plugin_arrow *s, saebench_status st, int call, sb_err *err)
{
    return sb_plugin_status(st, call, s->msg, sizeof s->msg, g_where, err);
}

static void plugin_arrow_destroy(void *state)
{
    plugin_arrow *s = state;
    if (!s)
        return;
    if (s->state) {
        at_call(SB_CALL_DESTROY);
        g_ops->destroy(s->state);
        at_call(SB_CALL_NONE);
    }
    free(s);
}

static sb_rc plugin_arrow_create(const sb_arrow_system *sys, int reupload, void **state, sb_err *err)
{
    *state = NULL;
    if (!g_ops)
        return sb_fail(err, SB_E_RUNTIME, "no plugin with an arrow table is bound in this process");
    plugin_arrow *s = sb_alloc(1, sizeof *s, err);
    if (!s)
        return SB_E_RUNTIME;
    s->reupload = reupload;
    s->perr = (saebench_error){.struct_size = sizeof s->perr, .msg = s->msg, .msg_cap = sizeof s->msg};
    saebench_arrow_problem prob = {
        .struct_size = sizeof prob, .n = sys->n, .d = sys->d, .p = sys->p,
        .Htt = sys->Htt, .B = sys->B, .Hbb = sys->Hbb,
        .reupload = reupload ? 1 : 0, .threads = g_threads,
    };
    at_call(SB_CALL_CREATE);
    sb_rc rc = status_of(s, g_ops->create(&prob, &s->state, fresh(s)), SB_CALL_CREATE, err);
    if (rc) {
        s->state = NULL; /* a failed create leaves nothing to destroy */
        plugin_arrow_destroy(s);
        return rc;
    }
    s->tele.frame_builds = 1; /* the blocks staged once */
    *state = s;
    return SB_OK;
}

static sb_rc plugin_arrow_factor(void *state, double ridge_t, double ridge_b, int *pd, double *logdet, sb_err *err)
{
    plugin_arrow *s = state;
    int32_t positive = 0;
    double ld = 0.0;
    *pd = 0;
    *logdet = 0.0;
    if (s->reupload)
        s->tele.frame_builds++; /* the plugin was asked to stage the blocks again */
    at_call(SB_CALL_FACTOR);
    sb_rc rc = status_of(s, g_ops->factor(s->state, ridge_t, ridge_b, &positive, &ld, fresh(s)), SB_CALL_FACTOR, err);
    if (rc)
        return rc;
    if (positive != 0 && positive != 1) {
        at_call(SB_CALL_FACTOR);
        return sb_fail(err, SB_E_RUNTIME, "factor set *positive_definite to %d: 1 (factored) or 0 (not positive definite)",
                       (int)positive);
    }
    *pd = positive;
    *logdet = positive ? ld : 0.0;
    return SB_OK;
}

static sb_rc plugin_arrow_solve(void *state, const double *r_t, const double *r_b, double *dt, double *db, sb_err *err)
{
    plugin_arrow *s = state;
    at_call(SB_CALL_SOLVE);
    return status_of(s, g_ops->solve(s->state, r_t, r_b, dt, db, fresh(s)), SB_CALL_SOLVE, err);
}

/* Read the plugin's counters and hold them to the contract (none negative). */
static sb_rc plugin_arrow_check(void *state, sb_err *err)
{
    plugin_arrow *s = state;
    saebench_telemetry t;
    memset(&t, 0, sizeof t);
    t.struct_size = sizeof t;
    at_call(SB_CALL_TELEMETRY);
    sb_rc rc = status_of(s, g_ops->telemetry(s->state, &t, fresh(s)), SB_CALL_TELEMETRY, err);
    if (rc)
        return rc;
    long long builds = s->tele.frame_builds;
    if ((rc = sb_plugin_counters(&t, &s->tele, err))) {
        at_call(SB_CALL_TELEMETRY); /* the failing call, for the verdict */
        return rc;
    }
    s->tele.frame_builds = builds;
    return SB_OK;
}

static void plugin_arrow_telemetry(const void *state, sb_telemetry *t) { *t = ((const plugin_arrow *)state)->tele; }

const sb_arrow_ops sb_plugin_arrow_ops = {
    .create = plugin_arrow_create,
    .factor = plugin_arrow_factor,
    .solve = plugin_arrow_solve,
    .check = plugin_arrow_check,
    .telemetry = plugin_arrow_telemetry,
    .destroy = plugin_arrow_destroy,
};
