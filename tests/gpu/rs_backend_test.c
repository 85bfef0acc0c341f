/* Direct test of the CUDA resident-solve operations (sb_cuda_backend), below
 * the CLI: sizes with partial 64-blocks, many solves on one state (the
 * chained solve's tickets and epochs), exact telemetry, and the failure paths
 * the CLI cannot provoke (a factorization that must fail, reported by check();
 * solves past max_solves; an unknown --factor). Needs a GPU and LAPACKE.
 * Built and run by tests/gpu/run-gpu-tests.sh. Prints one ok/FAIL line per
 * check and exits nonzero on any failure. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lapacke.h>

#include "backend.h"
#include "gpu_check.h"


static uint64_t g_s = 0x1412a100deadbeefull;
static double draw(void)
{
    g_s = g_s * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(g_s >> 11) / 9007199254740992.0 * 2.0 - 1.0;
}

/* β of (XᵀWX + ridge I) β = rhs by dense LAPACKE dposv. */
static int reference(int64_t n, int64_t p, const double *X, const double *w, const double *rhs,
                     double ridge, double *beta)
{
    double *A = calloc((size_t)(p * p), sizeof *A);
    if (!A)
        return -1;
    for (int64_t i = 0; i < n; i++)
        for (int64_t c = 0; c < p; c++) {
            const double xc = w[i] * X[i * p + c];
            for (int64_t r = c; r < p; r++)
                A[r + c * p] += X[i * p + r] * xc;
        }
    for (int64_t j = 0; j < p; j++)
        A[j + j * p] += ridge;
    memcpy(beta, rhs, (size_t)p * sizeof *beta);
    int info = LAPACKE_dposv(LAPACK_COL_MAJOR, 'L', (lapack_int)p, 1, A, (lapack_int)p, beta,
                             (lapack_int)p);
    free(A);
    return info;
}

/* n×p problem, `solves` solve() calls + 1 profile(): parity, check(), telemetry. */
static void run_case(int64_t n, int64_t p, sb_method method, const char *factor, int reupload)
{
    const sb_rs_ops *ops = sb_cuda_backend.resident_solve;
    const int solves = 5;
    const char *mname = method == SB_METHOD_DUAL ? "dual" : "primal";
    char tag[128];
    snprintf(tag, sizeof tag, "n=%lld p=%lld %s %s%s", (long long)n, (long long)p, mname, factor,
             reupload ? " reupload" : "");

    double *X = malloc((size_t)(n * p) * sizeof *X);
    double *w = malloc((size_t)n * sizeof *w);
    double *rhs = malloc((size_t)p * sizeof *rhs);
    double *beta = malloc((size_t)p * sizeof *beta);
    double *ref = malloc((size_t)p * sizeof *ref);
    if (!X || !w || !rhs || !beta || !ref) {
        check(0, "%s: host allocation", tag);
        goto out;
    }
    for (int64_t i = 0; i < n * p; i++)
        X[i] = 0.05 * draw();
    for (int64_t j = 0; j < p; j++)
        rhs[j] = cos((double)(j + 1) * 0.03);

    sb_rs_problem prob;
    memset(&prob, 0, sizeof prob);
    prob.n = n;
    prob.p = p;
    prob.X = X;
    prob.rhs = rhs;
    prob.ridge = 1e-3;
    prob.method = method;
    prob.reupload = reupload;
    prob.max_solves = solves + 1;
    prob.factor = factor;
    void *st = NULL;
    sb_err err = {{0}};
    sb_rc rc = ops->create(&prob, &st, &err);
    check(rc == SB_OK, "%s: create (%s)", tag, err.msg);
    if (rc != SB_OK)
        goto out;

    double worst = 0.0;
    int all_ok = 1;
    for (int s = 0; s <= solves; s++) {
        for (int64_t i = 0; i < n; i++)
            w[i] = fabs(draw()) + 1e-3;
        sb_rs_breakdown bd;
        memset(&bd, 0, sizeof bd);
        rc = s < solves ? ops->solve(st, w, beta, &err) : ops->profile(st, w, beta, &bd, &err);
        if (rc != SB_OK) {
            check(0, "%s: solve %d (%s)", tag, s, err.msg);
            all_ok = 0;
            break;
        }
        if (reference(n, p, X, w, rhs, prob.ridge, ref) != 0) {
            check(0, "%s: LAPACKE reference %d", tag, s);
            all_ok = 0;
            break;
        }
        worst = fmax(worst, rel_err(beta, ref, p));
        if (s == solves)
            /* event resolution is ~0.5 us: tiny phases may read 0 */
            check(bd.factor_ms > 0.0 && bd.build_ms >= 0.0 && bd.solve_ms >= 0.0 &&
                      bd.upload_ms >= 0.0 && bd.download_ms >= 0.0,
                  "%s: profile breakdown upload %.4f build %.4f factor %.4f solve %.4f "
                  "download %.4f ms", tag, bd.upload_ms, bd.build_ms, bd.factor_ms, bd.solve_ms,
                  bd.download_ms);
    }
    if (all_ok)
        check(worst < 1e-9, "%s: %d solves, worst rel err vs LAPACKE %.3g", tag, solves + 1, worst);
    rc = ops->check(st, &err);
    check(rc == SB_OK, "%s: check() (%s)", tag, rc == SB_OK ? "clean" : err.msg);
    rc = ops->check(st, &err); /* a second check downloads nothing new */
    check(rc == SB_OK, "%s: second check()", tag);

    sb_telemetry t;
    ops->telemetry(st, &t);
    const long long total = solves + 1;
    const long long h2d = n * p * 8 + p * 8 + n * 8 * total + (reupload ? n * p * 8 * total : 0);
    const long long d2h = p * 8 * total + 4 * total;
    check(t.h2d_bytes == h2d, "%s: h2d_bytes %lld (expected %lld)", tag, t.h2d_bytes, h2d);
    check(t.d2h_bytes == d2h, "%s: d2h_bytes %lld (expected %lld)", tag, t.d2h_bytes, d2h);
    check(t.factorizations == total, "%s: factorizations %lld (expected %lld)", tag,
          t.factorizations, total);
    check(t.handle_creations == 2, "%s: handle_creations %lld (expected 2)", tag,
          t.handle_creations);
    check(t.frame_builds == (reupload ? 1 + total : 1), "%s: frame_builds %lld", tag,
          t.frame_builds);
    check(t.library_calls > 0, "%s: library_calls %lld", tag, t.library_calls);

    /* one past max_solves must be refused */
    rc = ops->solve(st, w, beta, &err);
    check(rc == SB_E_RUNTIME, "%s: solve past max_solves refused (%s)", tag, err.msg);
    ops->destroy(st);
out:
    free(X);
    free(w);
    free(rhs);
    free(beta);
    free(ref);
}

/* w = 0 and ridge = 0 make the primal Gram exactly zero: the factorization
 * must fail at column 1 and check() must say so. */
static void run_failure(const char *factor)
{
    const sb_rs_ops *ops = sb_cuda_backend.resident_solve;
    const int64_t n = 100, p = 90;
    double *X = malloc((size_t)(n * p) * sizeof *X);
    double *w = calloc((size_t)n, sizeof *w);
    double *rhs = malloc((size_t)p * sizeof *rhs);
    double *beta = malloc((size_t)p * sizeof *beta);
    if (!X || !w || !rhs || !beta) {
        check(0, "failure path %s: host allocation", factor);
        goto out;
    }
    for (int64_t i = 0; i < n * p; i++)
        X[i] = draw();
    for (int64_t j = 0; j < p; j++)
        rhs[j] = 1.0;
    sb_rs_problem prob;
    memset(&prob, 0, sizeof prob);
    prob.n = n;
    prob.p = p;
    prob.X = X;
    prob.rhs = rhs;
    prob.ridge = 0.0;
    prob.method = SB_METHOD_PRIMAL;
    prob.max_solves = 2;
    prob.factor = factor;
    void *st = NULL;
    sb_err err = {{0}};
    sb_rc rc = ops->create(&prob, &st, &err);
    check(rc == SB_OK, "failure path %s: create (%s)", factor, err.msg);
    if (rc != SB_OK)
        goto out;
    rc = ops->solve(st, w, beta, &err);
    check(rc == SB_OK, "failure path %s: solve() itself does not sync on info (%s)", factor,
          rc == SB_OK ? "returned" : err.msg);
    rc = ops->check(st, &err);
    check(rc == SB_E_RUNTIME && strstr(err.msg, "solve 0") && strstr(err.msg, "info=1"),
          "failure path %s: check() reports it: %s", factor, err.msg);
    ops->destroy(st);
out:
    free(X);
    free(w);
    free(rhs);
    free(beta);
}

int main(int argc, char **argv)
{
    /* "quick": only the multi-block blocked cases, for the slow compute-sanitizer tools */
    const int quick = argc > 1 && strcmp(argv[1], "quick") == 0;
    sb_err why = {{0}};
    sb_device_info info;
    if (sb_cuda_backend.probe(&info, &why) != SB_OK) {
        printf("FAIL probe: %s\n", why.msg);
        printf("0 passed, 1 failed\n");
        return 1;
    }
    printf("device: %s, cc %d.%d, %d SMs, driver %d, runtime %d, %.0f MHz\n", info.name,
           info.cc_major, info.cc_minor, info.sm_count, info.driver_version, info.runtime_version,
           info.clock_mhz);

    {
        sb_rs_problem prob;
        memset(&prob, 0, sizeof prob);
        double x = 1.0, r = 1.0;
        prob.n = prob.p = 1;
        prob.X = &x;
        prob.rhs = &r;
        prob.ridge = 1.0;
        prob.max_solves = 1;
        prob.factor = "qr";
        void *st = NULL;
        sb_rc rc = sb_cuda_backend.resident_solve->create(&prob, &st, &why);
        check(rc == SB_E_INPUT && st == NULL &&
                  strcmp(why.msg, "unknown --factor 'qr' (cuda: library|blocked)") == 0,
              "unknown factor refused: %s", why.msg);
    }

    if (quick) {
        run_case(300, 200, SB_METHOD_PRIMAL, "blocked", 0);
        run_case(200, 300, SB_METHOD_DUAL, "blocked", 0);
        run_failure("blocked");
        return check_summary();
    }
    static const int64_t sizes[][2] = {{70, 40}, {300, 200}, {200, 300}, {130, 129}, {64, 64},
                                       {1, 1},   {33, 1},    {500, 1000}};
    static const char *factors[] = {"library", "blocked"};
    for (size_t f = 0; f < 2; f++)
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            run_case(sizes[s][0], sizes[s][1], SB_METHOD_PRIMAL, factors[f], 0);
            run_case(sizes[s][0], sizes[s][1], SB_METHOD_DUAL, factors[f], 0);
        }
    run_case(200, 300, SB_METHOD_PRIMAL, "blocked", 1);
    run_case(200, 300, SB_METHOD_DUAL, "blocked", 1);
    run_case(200, 300, SB_METHOD_DUAL, "library", 1);
    run_failure("library");
    run_failure("blocked");

    return check_summary();
}
