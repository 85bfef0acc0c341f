/* The fake device: linked into the test binary saebench-fake only (make
 * builds it beside saebench; the CLI tests use it), never into the shipped
 * saebench. With SAEBENCH_FAKE_DEVICE set, the name "cuda" resolves to a
 * device backend that wraps the host math so the honesty paths (decline,
 * fail mid-run, a deferred device status) run on machines without a GPU.
 * It can never complete a device run: its check() fails at the end of every
 * phase whatever its parameters, so no verdict from it is ever engaged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"

/* SAEBENCH_FAKE_DEVICE (tests only) selects a device backend that declines or
 * fails on purpose, so the honesty paths run on machines without a GPU:
 *   decline        probe() refuses, as a machine with no usable device does
 *   fail-at=K      the K-th solve() (0-based, counting every solve) fails
 *   bad-info-at=K  every solve returns, but check() after the timed region
 *                  reports solve K's factorization as failed (a deferred
 *                  device info flag)
 *   (anything else, e.g. fail-at=100000: every solve returns and check()
 *   still fails: a completed run through it would put host numbers in
 *   device fields, which this tool must never do) */
typedef struct fake_rs {
    void *inner;
    long solves;
    long fail_at, bad_info_at;
} fake_rs;

static long fake_param(const char *key)
{
    const char *mode = getenv("SAEBENCH_FAKE_DEVICE");
    size_t k = strlen(key);
    if (mode && strncmp(mode, key, k) == 0 && mode[k] == '=')
        return strtol(mode + k + 1, NULL, 10);
    return -1;
}

static sb_rc fake_create(const sb_rs_problem *prob, void **state, sb_err *err)
{
    fake_rs *f = sb_alloc(1, sizeof *f, err);
    if (!f)
        return SB_E_RUNTIME;
    sb_rs_problem host = *prob;
    host.factor = NULL;
    sb_rc rc = sb_host_backend.resident_solve->create(&host, &f->inner, err);
    if (rc) {
        free(f);
        return rc;
    }
    f->fail_at = fake_param("fail-at");
    f->bad_info_at = fake_param("bad-info-at");
    *state = f;
    return SB_OK;
}

static sb_rc fake_solve(void *state, const double *w, double *beta, sb_err *err)
{
    fake_rs *f = state;
    if (f->solves++ == f->fail_at)
        return sb_fail(err, SB_E_RUNTIME, "fake device: injected failure on solve %ld (SAEBENCH_FAKE_DEVICE)", f->solves - 1);
    return sb_host_backend.resident_solve->solve(f->inner, w, beta, err);
}

static sb_rc fake_profile(void *state, const double *w, double *beta, sb_rs_breakdown *bd, sb_err *err)
{
    fake_rs *f = state;
    if (f->solves++ == f->fail_at)
        return sb_fail(err, SB_E_RUNTIME, "fake device: injected failure on solve %ld (SAEBENCH_FAKE_DEVICE)", f->solves - 1);
    return sb_host_backend.resident_solve->profile(f->inner, w, beta, bd, err);
}

static sb_rc fake_check(void *state, sb_err *err)
{
    fake_rs *f = state;
    if (f->bad_info_at >= 0 && f->bad_info_at < f->solves)
        return sb_fail(err, SB_E_RUNTIME, "fake device: factorization failed on solve %ld: info=1 (SAEBENCH_FAKE_DEVICE)", f->bad_info_at);
    return sb_fail(err, SB_E_RUNTIME, "fake device: a fake run never completes as a device run (SAEBENCH_FAKE_DEVICE)");
}

static void fake_telemetry(const void *state, sb_telemetry *t)
{
    sb_host_backend.resident_solve->telemetry(((const fake_rs *)state)->inner, t);
}

static void fake_destroy(void *state)
{
    fake_rs *f = state;
    if (!f)
        return;
    sb_host_backend.resident_solve->destroy(f->inner);
    free(f);
}

static void fake_last_solve(const void *state, sb_rs_solve_info *info)
{
    sb_host_backend.resident_solve->last_solve(((const fake_rs *)state)->inner, info);
}

static const sb_rs_ops FAKE_RS = {
    .create = fake_create,
    .solve = fake_solve,
    .profile = fake_profile,
    .check = fake_check,
    .telemetry = fake_telemetry,
    .last_solve = fake_last_solve,
    .destroy = fake_destroy,
};

static sb_rc fake_probe(sb_device_info *info, sb_err *why)
{
    const char *mode = getenv("SAEBENCH_FAKE_DEVICE");
    if (!mode || strcmp(mode, "decline") == 0)
        return sb_fail(why, SB_E_NODEVICE, "fake device declines (SAEBENCH_FAKE_DEVICE=decline)");
    if (info) {
        memset(info, 0, sizeof *info);
        snprintf(info->name, sizeof info->name, "fake device (SAEBENCH_FAKE_DEVICE test hook, host math)");
    }
    return SB_OK;
}

static sb_rc fake_calibrate(sb_ceilings *out, sb_err *err)
{
    return sb_host_backend.calibrate(out, err);
}

static const sb_backend FAKE_DEVICE = {
    .name = "fake-device",
    .is_device = 1,
    .probe = fake_probe,
    .calibrate = fake_calibrate,
    .resident_solve = &FAKE_RS,
};

const sb_backend *sb_test_device_backend(void)
{
    const char *mode = getenv("SAEBENCH_FAKE_DEVICE");
    return (mode && *mode) ? &FAKE_DEVICE : NULL;
}
