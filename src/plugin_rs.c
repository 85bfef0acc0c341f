/* resident-solve through a plugin (include/saebench/solver.h): the
 * backend's sb_rs_ops over the plugin's saebench_rs_ops_v1, in the run's
 * child process only (src/plugin.h). One rep of the harness, timed around
 * solve() here, is the plugin's upload_w, solve and download_beta. */
#include <stdlib.h>
#include <string.h>

#include "../include/saebench/solver.h"
#include "plugin.h"
#include "run.h"
#include "timing.h"

/* The plugin bound in this process (sb_plugin_bind): one per child. */
static const saebench_rs_ops_v1 *g_ops;
static sb_run_where *g_where;

void sb_plugin_rs_bind(const saebench_rs_ops_v1 *ops, sb_run_where *where)
{
    g_ops = ops;
    g_where = where;
}

typedef struct plugin_rs {
    void *state;           /* the plugin's */
    int64_t n, p;
    char msg[512];         /* the error buffer saebench owns (saebench_error.msg) */
    saebench_error perr;
    sb_telemetry tele;     /* the latest counters read, checked */
} plugin_rs;

/* The call in progress, for a parent watching (one int store). */
static void at_call(int call)
{
    if (g_where)
        g_where->call = call;
}

/* A call's status as the harness's (sb_plugin_status). */
static sb_rc status_of(plugin_rs *s, saebench_status st, int call, sb_err *err)
{
    return sb_plugin_status(st, call, s->msg, sizeof s->msg, g_where, err);
}

/* The call's error buffer, empty at its start. */
static saebench_error *fresh(plugin_rs *s)
{
    s->msg[0] = '\0';
    return &s->perr;
}

static void plugin_rs_destroy(void *state)
{
    plugin_rs *s = state;
    if (!s)
        return;
    if (s->state) {
        at_call(SB_CALL_DESTROY);
        g_ops->destroy(s->state);
        at_call(SB_CALL_NONE);
    }
    free(s);
}

static sb_rc plugin_rs_create(const sb_rs_problem *prob, void **state, sb_err *err)
{
    if (!g_ops)
        return sb_fail(err, SB_E_RUNTIME, "no plugin is bound in this process");
    plugin_rs *s = sb_alloc(1, sizeof *s, err);
    if (!s)
        return SB_E_RUNTIME;
    s->n = prob->n;
    s->p = prob->p;
    s->perr = (saebench_error){.struct_size = sizeof s->perr, .msg = s->msg, .msg_cap = sizeof s->msg};
    saebench_rs_problem pp = {
        .struct_size = sizeof pp, .n = prob->n, .p = prob->p, .ridge = prob->ridge,
        .method = prob->method == SB_METHOD_DUAL ? SAEBENCH_RS_DUAL : SAEBENCH_RS_PRIMAL,
        .threads = prob->threads, .max_solves = prob->max_solves,
    };
    at_call(SB_CALL_CREATE);
    sb_rc rc = status_of(s, g_ops->create(&pp, &s->state, fresh(s)), SB_CALL_CREATE, err);
    if (rc) {
        s->state = NULL; /* a failed create leaves nothing to destroy */
        plugin_rs_destroy(s);
        return rc;
    }
    saebench_rs_data data = {.struct_size = sizeof data, .X = prob->X, .rhs = prob->rhs};
    at_call(SB_CALL_STAGE);
    if ((rc = status_of(s, g_ops->stage(s->state, &data, fresh(s)), SB_CALL_STAGE, err))) {
        plugin_rs_destroy(s);
        return rc;
    }
    s->tele.frame_builds = 1; /* staged once */
    *state = s;
    return SB_OK;
}

/* One rep: up, solve, down. The harness's clock is around this call. */
static sb_rc plugin_rs_solve(void *state, const double *w, double *beta, sb_err *err)
{
    plugin_rs *s = state;
    sb_rc rc;
    at_call(SB_CALL_UPLOAD_W);
    if ((rc = status_of(s, g_ops->upload_w(s->state, w, fresh(s)), SB_CALL_UPLOAD_W, err)))
        return rc;
    at_call(SB_CALL_SOLVE);
    if ((rc = status_of(s, g_ops->solve(s->state, fresh(s)), SB_CALL_SOLVE, err)))
        return rc;
    at_call(SB_CALL_DOWNLOAD_BETA);
    return status_of(s, g_ops->download_beta(s->state, beta, fresh(s)), SB_CALL_DOWNLOAD_BETA, err);
}

/* The profiled solve: each call timed alone. The plugin's build and factor
 * happen inside its solve() and are not seen apart: both are 0. */
static sb_rc plugin_rs_profile(void *state, const double *w, double *beta, sb_rs_breakdown *bd, sb_err *err)
{
    plugin_rs *s = state;
    sb_rc rc;
    double t0 = sb_now_s();
    at_call(SB_CALL_UPLOAD_W);
    if ((rc = status_of(s, g_ops->upload_w(s->state, w, fresh(s)), SB_CALL_UPLOAD_W, err)))
        return rc;
    double t1 = sb_now_s();
    at_call(SB_CALL_SOLVE);
    if ((rc = status_of(s, g_ops->solve(s->state, fresh(s)), SB_CALL_SOLVE, err)))
        return rc;
    double t2 = sb_now_s();
    at_call(SB_CALL_DOWNLOAD_BETA);
    if ((rc = status_of(s, g_ops->download_beta(s->state, beta, fresh(s)), SB_CALL_DOWNLOAD_BETA, err)))
        return rc;
    double t3 = sb_now_s();
    *bd = (sb_rs_breakdown){.upload_ms = (t1 - t0) * 1e3, .solve_ms = (t2 - t1) * 1e3, .download_ms = (t3 - t2) * 1e3};
    return SB_OK;
}

/* After the timed reps (and after the profiled solve): read the plugin's
 * counters and hold them to the contract (none negative). */
static sb_rc plugin_rs_check(void *state, sb_err *err)
{
    plugin_rs *s = state;
    saebench_telemetry t;
    memset(&t, 0, sizeof t);
    t.struct_size = sizeof t;
    sb_rc rc;
    at_call(SB_CALL_TELEMETRY);
    if ((rc = status_of(s, g_ops->telemetry(s->state, &t, fresh(s)), SB_CALL_TELEMETRY, err)))
        return rc;
    long long staged = s->tele.frame_builds;
    if ((rc = sb_plugin_counters(&t, &s->tele, err))) {
        at_call(SB_CALL_TELEMETRY); /* the failing call, for the verdict */
        return rc;
    }
    s->tele.frame_builds = staged;
    return SB_OK;
}

static void plugin_rs_telemetry(const void *state, sb_telemetry *t) { *t = ((const plugin_rs *)state)->tele; }

/* The plugin's arithmetic is its own: nothing to report per solve. */
static void plugin_rs_last_solve(const void *state, sb_rs_solve_info *info)
{
    (void)state;
    memset(info, 0, sizeof *info);
}

const sb_rs_ops sb_plugin_rs_ops = {
    .create = plugin_rs_create,
    .solve = plugin_rs_solve,
    .profile = plugin_rs_profile,
    .check = plugin_rs_check,
    .telemetry = plugin_rs_telemetry,
    .last_solve = plugin_rs_last_solve,
    .destroy = plugin_rs_destroy,
};
