/* Direct test of the CUDA arrow-Schur solve mode (sb_cuda_backend.arrow,
 * cuda/arrow_backend.cu), below the CLI: factor + solve against the host
 * structured mode and the dense LAPACKE oracle on the inner-loop fixture
 * (docs/workloads.md §2; tiny systems with d = 1, 2, 3 and the qwen and
 * color-arm dimensions),
 * exact telemetry, pd = 0 on indefinite systems (a row block, and the Schur
 * complement) with solve() refused afterwards, the reupload baseline's
 * telemetry and bit-identical results, bit-identical repeats, an LM fit
 * against the host's, and input validation. Needs a GPU. Built and run by
 * tests/gpu/run-gpu-tests.sh. Prints one ok/FAIL line per check and exits
 * nonzero on any failure.
 *
 *   arrow_backend_test            everything
 *   arrow_backend_test quick      tiny systems only (for compute-sanitizer)
 *   arrow_backend_test nodevice   create() must say SB_E_NODEVICE (run it
 *                                 with CUDA_VISIBLE_DEVICES= ) */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arrow.h"
#include "backend.h"
#include "gpu_check.h"


static double rel1(double a, double b) { return fabs(a - b) / fmax(fabs(b), 1e-300); }

/* The per-call costs documented in cuda/arrow_backend.cu. */
enum { FACTOR_OWN = 4, FACTOR_LIB = 2, FACTOR_D2H = 16, SOLVE_OWN = 2, SOLVE_LIB = 3 };

static long long frame_bytes(const sb_arrow_system *s)
{
    return (s->n * s->d * s->d + s->n * s->d * s->p + s->p * s->p) * 8;
}

/* The telemetry after `factors` factor() calls (`good` of them pd = 1) and
 * `solves` solve() calls. */
static void check_telemetry(const char *tag, const sb_arrow_ops *ops, void *st,
                            const sb_arrow_system *s, int reupload, long long factors,
                            long long good, long long solves)
{
    sb_telemetry t;
    ops->telemetry(st, &t);
    const long long io = (s->n * s->d + s->p) * 8;
    const long long frames = 1 + (reupload ? factors : 0);
    const long long h2d = frames * frame_bytes(s) + solves * io;
    const long long d2h = factors * FACTOR_D2H + solves * io;
    check(t.handle_creations == 2, "%s: handle_creations %lld (expected 2)", tag, t.handle_creations);
    check(t.frame_builds == frames, "%s: frame_builds %lld (expected %lld)", tag, t.frame_builds, frames);
    check(t.factorizations == good, "%s: factorizations %lld (expected %lld)", tag, t.factorizations, good);
    check(t.h2d_bytes == h2d, "%s: h2d_bytes %lld (expected %lld)", tag, t.h2d_bytes, h2d);
    check(t.d2h_bytes == d2h, "%s: d2h_bytes %lld (expected %lld)", tag, t.d2h_bytes, d2h);
    check(t.library_calls == factors * FACTOR_LIB + solves * SOLVE_LIB,
          "%s: library_calls %lld (expected %lld)", tag, t.library_calls,
          factors * FACTOR_LIB + solves * SOLVE_LIB);
    check(t.own_kernel_launches == factors * FACTOR_OWN + solves * SOLVE_OWN,
          "%s: own_kernel_launches %lld (expected %lld)", tag, t.own_kernel_launches,
          factors * FACTOR_OWN + solves * SOLVE_OWN);
}

typedef struct shape {
    const char *name;
    int64_t n, p, d, basis_cols;
    uint64_t seed;
    int dense_oracle; /* the (n·d + p)² oracle is affordable */
} shape;

/* A mode's step at the given ridges: factor, then solve r. */
static int mode_step(const sb_arrow_ops *ops, const sb_arrow_system *s, double rt, double rb,
                     const double *r, double *delta, double *logdet, const char *tag)
{
    void *st = NULL;
    sb_err err = {{0}};
    int pd = 0;
    const int64_t nd = s->n * s->d;
    sb_rc rc = ops->create(s, 0, &st, &err);
    if (rc == SB_OK)
        rc = ops->factor(st, rt, rb, &pd, logdet, &err);
    if (rc == SB_OK && pd)
        rc = ops->solve(st, r, r + nd, delta, delta + nd, &err);
    if (st)
        ops->destroy(st);
    if (rc != SB_OK || !pd) {
        check(0, "%s: reference step (rc %d, pd %d: %s)", tag, (int)rc, pd, err.msg);
        return 0;
    }
    return 1;
}

static void run_shape(const shape *sh)
{
    const sb_arrow_ops *ops = sb_cuda_backend.arrow;
    sb_arrow_params prm = {.n = sh->n, .p = sh->p, .d = sh->d, .basis_cols = sh->basis_cols,
                           .seed = sh->seed, .htt_shift = 0.0};
    sb_arrow_system s;
    sb_err err = {{0}};
    if (sb_arrow_fixture(&prm, &s, &err) != SB_OK) {
        check(0, "%s: fixture (%s)", sh->name, err.msg);
        return;
    }
    const int64_t nd = s.n * s.d, N = nd + s.p;
    double *r = malloc((size_t)N * sizeof *r);
    double *r2 = malloc((size_t)N * sizeof *r2);
    double *dev = malloc((size_t)N * sizeof *dev);
    double *dev2 = malloc((size_t)N * sizeof *dev2);
    double *host = malloc((size_t)N * sizeof *host);
    double *orc = malloc((size_t)N * sizeof *orc);
    void *st = NULL, *re = NULL;
    if (!r || !r2 || !dev || !dev2 || !host || !orc) {
        check(0, "%s: host allocation", sh->name);
        goto out;
    }
    /* r(0) = −g₀, and an outer-seq gradient for a second right-hand side */
    for (int64_t k = 0; k < nd; k++)
        r[k] = -s.g_t[k];
    for (int64_t j = 0; j < s.p; j++)
        r[nd + j] = -s.g_b[j];
    sb_arrow_outer_gradient(s.n, s.p, s.d, 1, r2, r2 + nd);

    sb_rc rc = ops->create(&s, 0, &st, &err);
    check(rc == SB_OK, "%s: create (%s)", sh->name, rc == SB_OK ? "staged" : err.msg);
    if (rc != SB_OK)
        goto out;
    check_telemetry(sh->name, ops, st, &s, 0, 0, 0, 0);

    static const double ridges[][2] = {{0.0, 0.0}, {1e-3, 2e-3}};
    long long factors = 0, good = 0, solves = 0;
    for (int k = 0; k < 2; k++) {
        const double rt = ridges[k][0], rb = ridges[k][1];
        int pd = 0;
        double ld = 0.0, ld_again = 0.0, ld_host = 0.0, ld_orc = 0.0;
        rc = ops->factor(st, rt, rb, &pd, &ld, &err);
        factors++;
        good += rc == SB_OK && pd;
        check(rc == SB_OK && pd == 1, "%s ridge (%g, %g): factor pd=%d (%s)", sh->name, rt, rb, pd,
              rc == SB_OK ? "ok" : err.msg);
        if (rc != SB_OK || !pd)
            goto out;
        rc = ops->solve(st, r, r + nd, dev, dev + nd, &err);
        solves++;
        check(rc == SB_OK, "%s ridge (%g, %g): solve (%s)", sh->name, rt, rb,
              rc == SB_OK ? "ok" : err.msg);
        if (rc != SB_OK)
            goto out;

        /* the same factor again: the same bits (fixed-order logdet), and the
         * same step from a second solve */
        rc = ops->factor(st, rt, rb, &pd, &ld_again, &err);
        factors++;
        good += rc == SB_OK && pd;
        rc = rc == SB_OK ? ops->solve(st, r, r + nd, dev2, dev2 + nd, &err) : rc;
        solves++;
        check(rc == SB_OK && memcmp(&ld, &ld_again, sizeof ld) == 0 &&
                  memcmp(dev, dev2, (size_t)N * sizeof *dev) == 0,
              "%s ridge (%g, %g): refactor + re-solve bit-identical (logdet %.17g)", sh->name, rt,
              rb, ld);

        if (mode_step(&sb_host_arrow_ops, &s, rt, rb, r, host, &ld_host, sh->name)) {
            const double e = rel_err(dev, host, N);
            check(e < 1e-12, "%s ridge (%g, %g): step vs host structured, rel %.3g", sh->name, rt,
                  rb, e);
            check(rel1(ld, ld_host) < 1e-12, "%s ridge (%g, %g): logdet %.15g vs host %.15g",
                  sh->name, rt, rb, ld, ld_host);
        }
        if (sh->dense_oracle &&
            mode_step(&sb_oracle_arrow_ops, &s, rt, rb, r, orc, &ld_orc, sh->name)) {
            const double e = rel_err(dev, orc, N);
            check(e < 1e-12, "%s ridge (%g, %g): step vs dense oracle, rel %.3g", sh->name, rt, rb,
                  e);
            check(rel1(ld, ld_orc) < 1e-12, "%s ridge (%g, %g): logdet %.15g vs dense oracle %.15g",
                  sh->name, rt, rb, ld, ld_orc);
        }
    }
    /* a second right-hand side on the factors held (the outer-seq pattern) */
    rc = ops->solve(st, r2, r2 + nd, dev, dev + nd, &err);
    solves++;
    {
        double ld_host = 0.0;
        if (rc == SB_OK &&
            mode_step(&sb_host_arrow_ops, &s, ridges[1][0], ridges[1][1], r2, host, &ld_host, sh->name)) {
            const double e = rel_err(dev, host, N);
            check(e < 1e-12, "%s: outer gradient s=1 on the held factors vs host, rel %.3g", sh->name, e);
        } else if (rc != SB_OK) {
            check(0, "%s: second right-hand side (%s)", sh->name, err.msg);
        }
    }
    check_telemetry(sh->name, ops, st, &s, 0, factors, good, solves);

    /* the reupload baseline: the frame again every factor, the same bits */
    rc = ops->create(&s, 1, &re, &err);
    check(rc == SB_OK, "%s reupload: create (%s)", sh->name, rc == SB_OK ? "staged" : err.msg);
    if (rc == SB_OK) {
        int pd = 0;
        double ld_re = 0.0, ld_res = 0.0;
        const int reps = 3;
        for (int k = 0; k < reps && rc == SB_OK; k++) {
            rc = ops->factor(re, ridges[1][0], ridges[1][1], &pd, &ld_re, &err);
            if (rc == SB_OK && pd)
                rc = ops->solve(re, r, r + nd, dev2, dev2 + nd, &err);
        }
        check(rc == SB_OK && pd, "%s reupload: %d factor + solve (%s)", sh->name, reps,
              rc == SB_OK ? "ok" : err.msg);
        /* the resident state's step at the same ridges */
        int pd2 = 0;
        rc = ops->factor(st, ridges[1][0], ridges[1][1], &pd2, &ld_res, &err);
        factors++;
        good += rc == SB_OK && pd2;
        rc = rc == SB_OK ? ops->solve(st, r, r + nd, dev, dev + nd, &err) : rc;
        solves++;
        check(rc == SB_OK && memcmp(dev, dev2, (size_t)N * sizeof *dev) == 0 &&
                  memcmp(&ld_re, &ld_res, sizeof ld_re) == 0,
              "%s reupload: step and logdet bit-identical to the resident state's", sh->name);
        char tag[96];
        snprintf(tag, sizeof tag, "%s reupload", sh->name);
        check_telemetry(tag, ops, re, &s, 1, reps, reps, reps);
        check_telemetry(sh->name, ops, st, &s, 0, factors, good, solves);
    }

out:
    if (st)
        ops->destroy(st);
    if (re)
        ops->destroy(re);
    free(r);
    free(r2);
    free(dev);
    free(dev2);
    free(host);
    free(orc);
    sb_arrow_free(&s);
}

/* Not positive definite: a shifted H_tt (rows), then S (ρ_β = −10). */
static void run_indefinite(void)
{
    const sb_arrow_ops *ops = sb_cuda_backend.arrow;
    sb_arrow_params prm = {.n = 9, .p = 13, .d = 2, .basis_cols = 8, .seed = 0x1017C0102A125EEDull,
                           .htt_shift = -10.0};
    sb_arrow_system s;
    sb_err err = {{0}};
    if (sb_arrow_fixture(&prm, &s, &err) != SB_OK) {
        check(0, "indefinite: fixture (%s)", err.msg);
        return;
    }
    const int64_t nd = s.n * s.d, N = nd + s.p;
    double *r = calloc((size_t)N, sizeof *r), *dev = calloc((size_t)N, sizeof *dev);
    double *host = calloc((size_t)N, sizeof *host);
    void *st = NULL;
    if (!r || !dev || !host) {
        check(0, "indefinite: host allocation");
        goto out;
    }
    for (int64_t k = 0; k < nd; k++)
        r[k] = -s.g_t[k];
    for (int64_t j = 0; j < s.p; j++)
        r[nd + j] = -s.g_b[j];
    sb_rc rc = ops->create(&s, 0, &st, &err);
    check(rc == SB_OK, "indefinite: create (%s)", rc == SB_OK ? "staged" : err.msg);
    if (rc != SB_OK)
        goto out;
    int pd = 1;
    double ld = 1.0;
    long long factors = 0, good = 0, solves = 0;

    rc = ops->factor(st, 0.0, 0.0, &pd, &ld, &err);
    factors++;
    check(rc == SB_OK && pd == 0 && ld == 0.0, "indefinite rows: factor rc %d pd %d logdet %g",
          (int)rc, pd, ld);
    rc = ops->solve(st, r, r + nd, dev, dev + nd, &err);
    check(rc == SB_E_RUNTIME && strstr(err.msg, "without a successful factor"),
          "indefinite rows: solve refused: %s", err.msg);

    /* a ridge past the shift makes it positive definite again */
    rc = ops->factor(st, 12.0, 0.0, &pd, &ld, &err);
    factors++;
    good += rc == SB_OK && pd;
    check(rc == SB_OK && pd == 1, "indefinite rows + ridge 12: factor pd %d (%s)", pd,
          rc == SB_OK ? "ok" : err.msg);
    if (rc == SB_OK && pd) {
        rc = ops->solve(st, r, r + nd, dev, dev + nd, &err);
        solves++;
        double ld_host = 0.0;
        if (rc == SB_OK && mode_step(&sb_host_arrow_ops, &s, 12.0, 0.0, r, host, &ld_host, "indefinite"))
            check(rel_err(dev, host, N) < 1e-12 && rel1(ld, ld_host) < 1e-12,
                  "indefinite rows + ridge 12: step vs host rel %.3g, logdet %.15g vs %.15g",
                  rel_err(dev, host, N), ld, ld_host);
    }

    /* S indefinite */
    rc = ops->factor(st, 12.0, -10.0, &pd, &ld, &err);
    factors++;
    check(rc == SB_OK && pd == 0 && ld == 0.0, "indefinite Schur complement: factor rc %d pd %d",
          (int)rc, pd);
    rc = ops->solve(st, r, r + nd, dev, dev + nd, &err);
    check(rc == SB_E_RUNTIME, "indefinite Schur complement: solve refused: %s", err.msg);
    check_telemetry("indefinite", ops, st, &s, 0, factors, good, solves);
out:
    if (st)
        ops->destroy(st);
    free(r);
    free(dev);
    free(host);
    sb_arrow_free(&s);
}

/* The whole LM loop on the device against the host's (IL-001's bound: rel < 1e-9). */
static void run_lm(const shape *sh)
{
    sb_arrow_params prm = {.n = sh->n, .p = sh->p, .d = sh->d, .basis_cols = sh->basis_cols,
                           .seed = sh->seed, .htt_shift = 0.0};
    sb_arrow_system s;
    sb_err err = {{0}};
    if (sb_arrow_fixture(&prm, &s, &err) != SB_OK) {
        check(0, "%s LM: fixture (%s)", sh->name, err.msg);
        return;
    }
    const int64_t nd = s.n * s.d, N = nd + s.p;
    const sb_arrow_ops *modes[2] = {sb_cuda_backend.arrow, &sb_host_arrow_ops};
    sb_lm_result res[2];
    double *buf = calloc((size_t)(4 * N * 2), sizeof *buf);
    int ok = buf != NULL;
    sb_lm_opts opts;
    sb_lm_default_opts(&opts);
    for (int m = 0; m < 2 && ok; m++) {
        double *b = buf + (size_t)(4 * N * m);
        memset(&res[m], 0, sizeof res[m]);
        res[m].t = b;
        res[m].beta = b + nd;
        res[m].dt = b + N;
        res[m].db = b + N + nd;
        void *st = NULL;
        sb_lm_frame frame;
        memset(&frame, 0, sizeof frame);
        sb_rc rc = modes[m]->create(&s, 0, &st, &err);
        if (rc == SB_OK)
            rc = sb_lm_run(&s, s.g_t, s.g_b, modes[m], st, &frame, &opts, &res[m], &err);
        if (st)
            modes[m]->destroy(st);
        if (rc != SB_OK) {
            check(0, "%s LM (%s): %s", sh->name, m ? "host" : "cuda", err.msg);
            ok = 0;
        }
    }
    if (ok) {
        const double ez = fmax(rel_err(res[0].t, res[1].t, nd), rel_err(res[0].beta, res[1].beta, s.p));
        check(res[0].converged && res[1].converged && res[0].iterations == res[1].iterations &&
                  ez < 1e-9 && rel1(res[0].objective, res[1].objective) < 1e-9 &&
                  rel1(res[0].logdet, res[1].logdet) < 1e-9,
              "%s LM: cuda vs host: converged %d/%d, iterations %d/%d, z rel %.3g, objective %.15g "
              "vs %.15g, logdet %.15g vs %.15g",
              sh->name, res[0].converged, res[1].converged, res[0].iterations, res[1].iterations, ez,
              res[0].objective, res[1].objective, res[0].logdet, res[1].logdet);
    }
    free(buf);
    sb_arrow_free(&s);
}

static void run_validation(void)
{
    const sb_arrow_ops *ops = sb_cuda_backend.arrow;
    double one = 1.0;
    sb_arrow_system s = {.n = 1, .p = 1, .d = 65, .Htt = &one, .B = &one, .Hbb = &one};
    void *st = (void *)&s;
    sb_err err = {{0}};
    sb_rc rc = ops->create(&s, 0, &st, &err);
    check(rc == SB_E_INPUT && st == NULL, "d=65 refused: %s", err.msg);
    s.d = 1;
    s.p = 0;
    rc = ops->create(&s, 0, &st, &err);
    check(rc == SB_E_INPUT && st == NULL, "p=0 refused: %s", err.msg);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (!sb_cuda_backend.arrow) {
        printf("FAIL sb_cuda_backend.arrow is NULL (built without CUDA?)\n0 passed, 1 failed\n");
        return 1;
    }
    if (strcmp(mode, "nodevice") == 0) {
        double one = 1.0;
        sb_arrow_system s = {.n = 1, .p = 1, .d = 1, .Htt = &one, .B = &one, .Hbb = &one};
        void *st = NULL;
        sb_err err = {{0}};
        sb_rc rc = sb_cuda_backend.arrow->create(&s, 0, &st, &err);
        check(rc == SB_E_NODEVICE && st == NULL && strstr(err.msg, "no CUDA device"),
              "no device: create says SB_E_NODEVICE: %s", err.msg);
        return check_summary();
    }
    sb_device_info info;
    if (!check_device(&info))
        return 1;
    printf("device: %s, cc %d.%d, %d SMs\n", info.name, info.cc_major, info.cc_minor, info.sm_count);

    static const shape tiny[] = {
        {"tiny d=1", 7, 11, 1, 2, 0x10170003D3A15EEDull, 1},
        {"tiny d=2", 7, 11, 2, 8, 0x10170003D3A15EEDull, 1},
        {"tiny d=3", 37, 29, 3, 9, 0x1017C0102A125EEDull, 1},
    };
    static const shape big[] = {
        {"qwen", 2000, 2048, 2, 8, 0x10170003D3A15EEDull, 1},
        {"color-arm", 180, 5120, 2, 9, 0x1017C0102A125EEDull, 1},
    };
    run_validation();
    for (size_t k = 0; k < sizeof tiny / sizeof tiny[0]; k++)
        run_shape(&tiny[k]);
    run_indefinite();
    run_lm(&tiny[1]);
    if (strcmp(mode, "quick") != 0) {
        for (size_t k = 0; k < sizeof big / sizeof big[0]; k++) {
            run_shape(&big[k]);
            run_lm(&big[k]);
        }
    }
    return check_summary();
}
