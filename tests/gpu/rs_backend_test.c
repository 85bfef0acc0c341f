/* Direct test of the CUDA resident-solve operations (sb_cuda_backend), below
 * the CLI: sizes with partial 64-blocks, many solves on one state (the
 * chained solve's device state carried from launch to launch), exact
 * telemetry, every --factor variant (library, blocked, tiled, auto), and the
 * failure paths the CLI cannot provoke (a factorization that must fail,
 * reported by check(); solves past max_solves; an unknown --factor). Below
 * the backend, through the launchers (rs_kernels.h): the chained solve and
 * the tiled factor + backward solve captured in a CUDA graph and replayed,
 * with the test-only start delay that makes low block indices start last;
 * and the whole rep as one CUDA graph (blocked, tiled) through the backend:
 * parity after every replay, per-solve telemetry equal to the stream path's,
 * a factorization failure inside a replay reported for that solve.
 * --precision mixed|auto: parity, refinement and fallback on an
 * ill-conditioned system, auto's choice, FP32 + FP64 factorization counts.
 * Needs a GPU and LAPACKE. The tiled and mixed kernels are also run on the
 * CPU by tests/sim/sim_tiled.cpp and tests/sim/sim_mixed.cpp (status:
 * docs/status.md).
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
#include "rs_fixture.h"
#include "gpu_check.h"
#include "rs_kernels.h"


/* The project's fixture generator (src/rs_fixture.h), one stream for the file. */
static sb_lcg g_s = {0x1412a100deadbeefull};
static double draw(void) { return sb_lcg_uniform(&g_s); }

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

/* The host side of one test problem: X n×p = 0.05·u and rhs_j = cos((j+1)·0.03)
 * as the fixture draws them, w, beta and ref allocated. 0 on allocation failure
 * (what was allocated is freed by bufs_free either way). */
typedef struct host_bufs {
    double *X, *w, *rhs, *beta, *ref;
} host_bufs;

static int bufs_alloc(host_bufs *b, int64_t n, int64_t p)
{
    b->X = malloc((size_t)(n * p) * sizeof *b->X);
    b->w = malloc((size_t)n * sizeof *b->w);
    b->rhs = malloc((size_t)p * sizeof *b->rhs);
    b->beta = malloc((size_t)p * sizeof *b->beta);
    b->ref = malloc((size_t)p * sizeof *b->ref);
    if (!b->X || !b->w || !b->rhs || !b->beta || !b->ref)
        return 0;
    for (int64_t i = 0; i < n * p; i++)
        b->X[i] = 0.05 * draw();
    for (int64_t j = 0; j < p; j++)
        b->rhs[j] = cos((double)(j + 1) * 0.03);
    return 1;
}

static void bufs_free(host_bufs *b) { free(b->X), free(b->w), free(b->rhs), free(b->beta), free(b->ref); }

/* n×p problem, `solves` solve() calls + 1 profile(): parity, check(), telemetry. */
static void run_case(int64_t n, int64_t p, sb_method method, const char *factor, int reupload)
{
    const sb_rs_ops *ops = sb_cuda_backend.resident_solve;
    const int solves = 5;
    const char *mname = method == SB_METHOD_DUAL ? "dual" : "primal";
    char tag[128];
    snprintf(tag, sizeof tag, "n=%lld p=%lld %s %s%s", (long long)n, (long long)p, mname, factor,
             reupload ? " reupload" : "");

    host_bufs hb;
    if (!bufs_alloc(&hb, n, p)) {
        check(0, "%s: host allocation", tag);
        goto out;
    }
    double *X = hb.X, *w = hb.w, *rhs = hb.rhs, *beta = hb.beta, *ref = hb.ref;

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
    /* tiled primal: Gram, factor and solve are all own kernels (the variant
     * that ran: --factor auto may pick tiled once a measurement says so) */
    sb_rs_solve_info ran = {0};
    ops->last_solve(st, &ran);
    const char *variant = ran.factor ? ran.factor : factor;
    const int own_only = method == SB_METHOD_PRIMAL && strcmp(variant, "tiled") == 0;
    check(own_only ? t.library_calls == 0 : t.library_calls > 0, "%s: library_calls %lld", tag,
          t.library_calls);

    /* one past max_solves must be refused */
    rc = ops->solve(st, w, beta, &err);
    check(rc == SB_E_RUNTIME, "%s: solve past max_solves refused (%s)", tag, err.msg);
    ops->destroy(st);
out:
    bufs_free(&hb);
}

/* --precision mixed|auto (rs_mixed.cu). ill = 0: a well-conditioned system,
 * every solve mixed, parity with LAPACKE < 1e-9, one FP32 factorization per
 * solve, the status word downloaded with β. ill = 1: X rank one plus 1e-5
 * noise, w spanning 1e-8..1, ridge 1e-13: every mixed solve falls back to
 * FP64 on the device (two factorizations) and gives the fp64 state's answer;
 * auto then chooses fp64 after its first solve.
 * One exception, a 1×1 system (N = 1): there dsposv's criterion,
 * |r| ≤ |x|·|a|·2⁻⁵³, is below one ulp of b unless the residual is formed
 * exactly, so the refinement converges only when fl(a·x) rounds to b, which
 * depends on the data and on how the device rounds the product (an FMA forms
 * it exactly). LAPACK's dsposv falls back there too. A well-conditioned 1×1
 * solve may therefore fall back, for that reason only (the iteration cap);
 * its answer is checked like every other, and each fallback is one more
 * FP64 factorization. */
static void run_mixed(int64_t n, int64_t p, sb_method method, sb_precision prec, int ill, int reupload)
{
    const sb_rs_ops *ops = sb_cuda_backend.resident_solve;
    const int total = 6;
    char tag[128];
    snprintf(tag, sizeof tag, "mixed n=%lld p=%lld %s %s%s%s", (long long)n, (long long)p,
             method == SB_METHOD_DUAL ? "dual" : "primal", prec == SB_PREC_AUTO ? "auto" : "mixed",
             ill ? " ill-conditioned" : "", reupload ? " reupload" : "");
    void *st = NULL, *st64 = NULL;
    host_bufs hb;
    if (!bufs_alloc(&hb, n, p)) {
        check(0, "%s: host allocation", tag);
        goto out;
    }
    double *X = hb.X, *w = hb.w, *rhs = hb.rhs, *beta = hb.beta, *ref = hb.ref;
    for (int64_t i = 0; ill && i < n; i++) { /* nearly collinear columns */
        const double u = draw();
        for (int64_t j = 0; j < p; j++)
            X[i * p + j] = u * cos(0.1 * (double)j) + 1e-5 * draw();
    }
    sb_rs_problem prob;
    memset(&prob, 0, sizeof prob);
    prob.n = n, prob.p = p, prob.X = X, prob.rhs = rhs, prob.ridge = ill ? 1e-13 : 1e-3;
    prob.method = method, prob.max_solves = total, prob.precision = prec, prob.reupload = reupload;
    sb_err err = {{0}};
    sb_rc rc = ops->create(&prob, &st, &err);
    check(rc == SB_OK, "%s: create (%s)", tag, err.msg);
    prob.precision = SB_PREC_FP64;
    if (rc == SB_OK) {
        rc = ops->create(&prob, &st64, &err);
        check(rc == SB_OK, "%s: fp64 twin create (%s)", tag, err.msg);
    }
    if (rc != SB_OK)
        goto out;
    double worst = 0.0, worst_twin = 0.0;
    int as_expected = 1, most_iters = 0, tiny_fallbacks = 0;
    const int tiny = !ill && (method == SB_METHOD_DUAL ? n : p) == 1;
    static const char cap_why[] = "the FP64 refinement did not converge within the iteration cap";
    for (int s = 0; s < total; s++) {
        for (int64_t i = 0; i < n; i++)
            w[i] = ill ? pow(10.0, -8.0 * (double)i / (double)(n > 1 ? n - 1 : 1)) * (1.0 + 0.1 * draw())
                       : fabs(draw()) + 1e-3;
        if (ops->solve(st, w, beta, &err) != SB_OK || ops->solve(st64, w, ref, &err) != SB_OK) {
            check(0, "%s: solve %d (%s)", tag, s, err.msg);
            as_expected = 0;
            break;
        }
        worst_twin = fmax(worst_twin, rel_err(beta, ref, p));
        sb_rs_solve_info info;
        memset(&info, 0, sizeof info);
        ops->last_solve(st, &info);
        const int want_mixed = !(prec == SB_PREC_AUTO && ill && s > 0);
        const int tiny_fallback = tiny && prec == SB_PREC_MIXED && info.fallback && info.why &&
                                  strcmp(info.why, cap_why) == 0;
        tiny_fallbacks += tiny_fallback;
        if (info.mixed != want_mixed || (info.fallback != (ill && want_mixed) && !tiny_fallback) ||
            (info.fallback && !info.why) ||
            (prec == SB_PREC_AUTO && (s == 0) != (info.auto_choice != NULL))) {
            check(0, "%s: solve %d: mixed %d fallback %d (%s) iterations %d auto %s", tag, s, info.mixed,
                  info.fallback, info.why ? info.why : "-", info.iterations,
                  info.auto_choice ? info.auto_choice : "-");
            as_expected = 0;
        }
        if (info.mixed && !info.fallback)
            most_iters = info.iterations > most_iters ? info.iterations : most_iters;
        if (!ill) {
            if (reference(n, p, X, w, rhs, prob.ridge, ref) != 0) {
                check(0, "%s: LAPACKE reference %d", tag, s);
                as_expected = 0;
                break;
            }
            worst = fmax(worst, rel_err(beta, ref, p));
        }
    }
    check(as_expected, "%s: every solve ran as expected (most refinement iterations %d%s)", tag, most_iters,
          tiny_fallbacks ? "; at N = 1 some fell back at the iteration cap, as dsposv's rule does" : "");
    if (tiny)
        printf("     %s: %d of %d solves fell back to FP64 at the iteration cap\n", tag, tiny_fallbacks, total);
    if (!ill)
        check(worst < 1e-9, "%s: worst rel err vs LAPACKE %.3g", tag, worst);
    check(worst_twin < (ill ? 1e-12 : 1e-9), "%s: worst rel err vs the fp64 state %.3g", tag, worst_twin);
    rc = ops->check(st, &err);
    check(rc == SB_OK, "%s: check() (%s)", tag, rc == SB_OK ? "clean" : err.msg);
    sb_telemetry t;
    ops->telemetry(st, &t);
    const long long fp32 = (prec == SB_PREC_AUTO && ill) ? 1 : total;
    const long long fp64 = (ill ? total : 0) + tiny_fallbacks;
    check(t.factorizations == fp32 + fp64, "%s: factorizations %lld (expected %lld FP32 + %lld FP64)", tag,
          t.factorizations, fp32, fp64);
    check(t.d2h_bytes >= p * 8LL * total + 4LL * total + 8LL * fp32, "%s: d2h_bytes %lld (beta, info, status)", tag,
          t.d2h_bytes);
out:
    if (st)
        ops->destroy(st);
    if (st64)
        ops->destroy(st64);
    bufs_free(&hb);
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

/* The rep as one CUDA graph (blocked, tiled): profile() first (the stream
 * path, with events), then `graphed` solve() calls, the first of which
 * captures the graph and all of which launch it. Parity with LAPACKE after
 * every solve; every solve's telemetry increment equal to the profile's
 * (h2d n·8, d2h p·8, one factorization) and, for the dual form, the exact
 * own-kernel and library-call counts (own_dual, lib_dual below). Solve fail_at (>= 1, a graph replay) has w = 0 with
 * ridge 0 (primal: a zero Gram, not positive definite): check() must name
 * exactly that solve with info=1, and the solves after it are exact again. */
static void run_graph_rep(int64_t n, int64_t p, sb_method method, const char *factor, int fail_at)
{
    const sb_rs_ops *ops = sb_cuda_backend.resident_solve;
    const int graphed = 7;
    char tag[160];
    snprintf(tag, sizeof tag, "rep graph n=%lld p=%lld %s %s%s", (long long)n, (long long)p,
             method == SB_METHOD_DUAL ? "dual" : "primal", factor, fail_at > 0 ? " failing solve" : "");
    void *st = NULL;
    host_bufs hb;
    if (!bufs_alloc(&hb, n, p)) {
        check(0, "%s: host allocation", tag);
        goto out;
    }
    double *X = hb.X, *w = hb.w, *rhs = hb.rhs, *beta = hb.beta, *ref = hb.ref;
    sb_rs_problem prob;
    memset(&prob, 0, sizeof prob);
    prob.n = n, prob.p = p, prob.X = X, prob.rhs = rhs, prob.method = method;
    prob.ridge = fail_at > 0 ? 0.0 : 1e-3;
    prob.max_solves = 1 + graphed;
    prob.factor = factor;
    sb_err err = {{0}};
    sb_rc rc = ops->create(&prob, &st, &err);
    check(rc == SB_OK, "%s: create (%s)", tag, err.msg);
    if (rc != SB_OK)
        goto out;
    /* dual, per solve: tiled: shift, factor, backward solve, commit + the
     * DGEMV of β; blocked: shift, one diagonal kernel per 64-block, the two
     * chained solves, commit + DTRSM and DSYRK per block but the last + DGEMV */
    const int tiled = strcmp(factor, "tiled") == 0;
    const long long nblk = (n + 63) / 64;
    const long long own_dual = tiled ? 4 : 1 + nblk + 2 + 1;
    const long long lib_dual = tiled ? 1 : 2 * (nblk - 1) + 1;
    /* primal tiled: the Gram + factor (one launch), backward solve, commit */
    const long long own_primal_tiled = 3, lib_primal_tiled = 0;
    sb_telemetry t0, t1, per = {0};
    int parity_ok = 1, tel_ok = 1;
    double worst = 0.0;
    for (int s = 0; s <= graphed; s++) {
        const int failing = fail_at > 0 && s == fail_at;
        for (int64_t i = 0; i < n; i++)
            w[i] = failing ? 0.0 : fabs(draw()) + 1e-3;
        ops->telemetry(st, &t0);
        sb_rs_breakdown bd;
        rc = s == 0 ? ops->profile(st, w, beta, &bd, &err) : ops->solve(st, w, beta, &err);
        if (rc != SB_OK) {
            check(0, "%s: %s %d (%s)", tag, s == 0 ? "profile" : "solve", s, err.msg);
            parity_ok = tel_ok = 0;
            break;
        }
        ops->telemetry(st, &t1);
        const sb_telemetry d = {t1.handle_creations - t0.handle_creations,
                                t1.factorizations - t0.factorizations,
                                t1.frame_builds - t0.frame_builds,
                                t1.h2d_bytes - t0.h2d_bytes,
                                t1.d2h_bytes - t0.d2h_bytes,
                                t1.library_calls - t0.library_calls,
                                t1.own_kernel_launches - t0.own_kernel_launches};
        if (s == 0)
            per = d;
        if (memcmp(&d, &per, sizeof d) != 0 || d.h2d_bytes != n * 8 || d.d2h_bytes != p * 8 ||
            d.factorizations != 1 || d.handle_creations != 0 || d.frame_builds != 0 ||
            (method == SB_METHOD_DUAL && (d.own_kernel_launches != own_dual || d.library_calls != lib_dual)) ||
            (method == SB_METHOD_PRIMAL && tiled &&
             (d.own_kernel_launches != own_primal_tiled || d.library_calls != lib_primal_tiled))) {
            check(0, "%s: solve %d telemetry: h2d %lld d2h %lld factorizations %lld own %lld library %lld "
                     "(profile: own %lld library %lld)", tag, s, d.h2d_bytes, d.d2h_bytes, d.factorizations,
                  d.own_kernel_launches, d.library_calls, per.own_kernel_launches, per.library_calls);
            tel_ok = 0;
        }
        if (failing)
            continue;
        if (reference(n, p, X, w, rhs, prob.ridge, ref) != 0) {
            check(0, "%s: LAPACKE reference %d", tag, s);
            parity_ok = 0;
            break;
        }
        const double e = rel_err(beta, ref, p);
        worst = fmax(worst, e);
        if (!(e < 1e-9)) {
            check(0, "%s: solve %d rel err vs LAPACKE %.3g", tag, s, e);
            parity_ok = 0;
        }
    }
    check(parity_ok, "%s: profile + %d graphed solves, each vs LAPACKE, worst rel err %.3g", tag, graphed,
          worst);
    check(tel_ok && per.own_kernel_launches + per.library_calls > 0,
          "%s: every solve's telemetry equals the profile's (own %lld, library %lld per solve)", tag,
          per.own_kernel_launches, per.library_calls);
    rc = ops->check(st, &err);
    if (fail_at > 0) {
        char want[64];
        snprintf(want, sizeof want, "solve %d:", fail_at);
        check(rc == SB_E_RUNTIME && strstr(err.msg, want) && strstr(err.msg, "info=1"),
              "%s: check() names the graphed solve that failed: %s", tag, err.msg);
    } else {
        check(rc == SB_OK, "%s: check() (%s)", tag, rc == SB_OK ? "clean" : err.msg);
    }
    ops->telemetry(st, &t1);
    check(t1.d2h_bytes == (p * 8 + 4) * (1 + graphed), "%s: d2h_bytes %lld (beta + one info word per solve)",
          tag, t1.d2h_bytes);
out:
    if (st)
        ops->destroy(st);
    bufs_free(&hb);
}

#define GR_TRY(call)                                                                             \
    do {                                                                                         \
        cudaError_t e_ = (call);                                                                 \
        if (e_ != cudaSuccess) {                                                                 \
            check(0, "%s: %s: %s", tag, #call, cudaGetErrorString(e_));                          \
            goto out;                                                                            \
        }                                                                                        \
    } while (0)

/* The chained solve (forward + backward) and the tiled factor of the bordered
 * matrix + backward solve, each captured once in a CUDA graph (with the copy
 * that restores its input) and replayed `reps` times: every replay must match
 * LAPACKE with info 0, although no host code touches the device state
 * between replays (sb_chain_ctl, rs_params.h). delay: the test-only start
 * delay, in clock cycles, of the low half of the block indices. */
static void run_graph_replay(int N, long long delay)
{
    const int reps = 4;
    char tag[96];
    snprintf(tag, sizeof tag, "graph replay N=%d start delay %lld", N, delay);
    const int64_t ld = N + 1;
    double *A = malloc((size_t)N * N * sizeof *A), *L = malloc((size_t)N * N * sizeof *L);
    double *B = calloc((size_t)(ld * ld), sizeof *B);
    double *b = malloc((size_t)N * sizeof *b), *x = malloc((size_t)N * sizeof *x);
    double *xr = malloc((size_t)N * sizeof *xr);
    double *L_d = NULL, *B_d = NULL, *B0_d = NULL, *b_d = NULL, *b0_d = NULL;
    int *info_d = NULL;
    cudaStream_t s = NULL;
    cudaGraph_t g1 = NULL, g2 = NULL;
    cudaGraphExec_t e1 = NULL, e2 = NULL;
    sb_chain chain = {0};
    sb_tiled tiled = {0};
    if (!A || !L || !B || !b || !x || !xr) {
        check(0, "%s: host allocation", tag);
        goto out;
    }
    /* SPD: XᵀX/m + I/10, X m×N */
    {
        const int m = N + 5;
        double *X = malloc((size_t)m * N * sizeof *X);
        if (!X) {
            check(0, "%s: host allocation", tag);
            goto out;
        }
        for (int64_t i = 0; i < (int64_t)m * N; i++)
            X[i] = draw();
        for (int c = 0; c < N; c++)
            for (int r = 0; r < N; r++) {
                double acc = 0.0;
                for (int i = 0; i < m; i++)
                    acc += X[(int64_t)i * N + r] * X[(int64_t)i * N + c];
                A[r + (int64_t)c * N] = acc / m + (r == c ? 0.1 : 0.0);
            }
        free(X);
    }
    memcpy(L, A, (size_t)N * N * sizeof *L);
    if (LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', N, L, N) != 0) {
        check(0, "%s: LAPACKE dpotrf", tag);
        goto out;
    }
    for (int j = 0; j < N; j++)
        b[j] = cos(0.02 * (j + 1));
    memcpy(xr, b, (size_t)N * sizeof *xr);
    LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'L', N, 1, L, N, xr, N);
    for (int c = 0; c < N; c++) {
        memcpy(B + c * ld, A + (int64_t)c * N, (size_t)N * sizeof *B);
        B[N + c * ld] = b[c];
    }

    int dev = 0, sms = 0;
    GR_TRY(cudaGetDevice(&dev));
    GR_TRY(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
    GR_TRY(cudaStreamCreate(&s));
    GR_TRY(cudaMalloc((void **)&L_d, (size_t)N * N * sizeof *L_d));
    GR_TRY(cudaMalloc((void **)&B_d, (size_t)(ld * ld) * sizeof *B_d));
    GR_TRY(cudaMalloc((void **)&B0_d, (size_t)(ld * ld) * sizeof *B0_d));
    GR_TRY(cudaMalloc((void **)&b_d, (size_t)N * sizeof *b_d));
    GR_TRY(cudaMalloc((void **)&b0_d, (size_t)N * sizeof *b0_d));
    GR_TRY(cudaMalloc((void **)&info_d, sizeof *info_d));
    GR_TRY(cudaMemset(info_d, 0, sizeof *info_d));
    GR_TRY(cudaMemcpy(L_d, L, (size_t)N * N * sizeof *L, cudaMemcpyHostToDevice));
    GR_TRY(cudaMemcpy(B0_d, B, (size_t)(ld * ld) * sizeof *B, cudaMemcpyHostToDevice));
    GR_TRY(cudaMemcpy(b0_d, b, (size_t)N * sizeof *b, cudaMemcpyHostToDevice));
    GR_TRY(sb_chain_alloc(&chain, N + 1, s));
    GR_TRY(sb_tiled_alloc(&tiled, N + 1, sms, s));
    chain.test_start_delay = delay;
    tiled.test_start_delay = delay;

    /* graph 1: b = b0; b <- A⁻¹b with LAPACKE's factor (chained solve) */
    GR_TRY(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
    GR_TRY(cudaMemcpyAsync(b_d, b0_d, (size_t)N * sizeof *b_d, cudaMemcpyDeviceToDevice, s));
    GR_TRY(sb_launch_chol_solve_chained(L_d, N, N, b_d, &chain, info_d, s));
    GR_TRY(cudaStreamEndCapture(s, &g1));
    GR_TRY(cudaGraphInstantiate(&e1, g1, 0));
    /* graph 2: B = [A b; bᵀ 0]; tiled factor (row N -> b_d); backward solve */
    GR_TRY(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
    GR_TRY(cudaMemcpyAsync(B_d, B0_d, (size_t)(ld * ld) * sizeof *B_d, cudaMemcpyDeviceToDevice, s));
    GR_TRY(sb_launch_chol_tiled(B_d, ld, N + 1, 1, b_d, chain.linv, &tiled, info_d, s));
    GR_TRY(sb_launch_chol_solve_bwd(B_d, ld, N, b_d, &chain, info_d, s));
    GR_TRY(cudaStreamEndCapture(s, &g2));
    GR_TRY(cudaGraphInstantiate(&e2, g2, 0));

    for (int graph = 0; graph < 2; graph++) {
        double worst = 0.0;
        int info = 0, bad_info = 0;
        for (int r = 0; r < reps; r++) {
            GR_TRY(cudaGraphLaunch(graph ? e2 : e1, s));
            GR_TRY(cudaStreamSynchronize(s));
            GR_TRY(cudaMemcpy(x, b_d, (size_t)N * sizeof *x, cudaMemcpyDeviceToHost));
            GR_TRY(cudaMemcpy(&info, info_d, sizeof info, cudaMemcpyDeviceToHost));
            bad_info |= info != 0;
            worst = fmax(worst, rel_err(x, xr, N));
        }
        check(!bad_info && worst < 1e-10, "%s: %s, %d replays vs LAPACKE dpotrs, worst rel err %.3g%s",
              tag, graph ? "tiled factor + backward solve" : "chained solve", reps, worst,
              bad_info ? ", info set" : "");
    }
out:
    if (e1)
        cudaGraphExecDestroy(e1);
    if (e2)
        cudaGraphExecDestroy(e2);
    if (g1)
        cudaGraphDestroy(g1);
    if (g2)
        cudaGraphDestroy(g2);
    sb_chain_free(&chain);
    sb_tiled_free(&tiled);
    cudaFree(L_d);
    cudaFree(B_d);
    cudaFree(B0_d);
    cudaFree(b_d);
    cudaFree(b0_d);
    cudaFree(info_d);
    if (s)
        cudaStreamDestroy(s);
    free(A);
    free(L);
    free(B);
    free(b);
    free(x);
    free(xr);
}

#undef GR_TRY

int main(int argc, char **argv)
{
    /* "quick": only the multi-block blocked cases, for the slow compute-sanitizer tools */
    const int quick = argc > 1 && strcmp(argv[1], "quick") == 0;
    sb_device_info info;
    if (!check_device(&info))
        return 1;
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
        sb_err why = {{0}};
        sb_rc rc = sb_cuda_backend.resident_solve->create(&prob, &st, &why);
        check(rc == SB_E_INPUT && st == NULL &&
                  strcmp(why.msg, "unknown --factor 'qr' (cuda: library|blocked|tiled|auto)") == 0,
              "unknown factor refused: %s", why.msg);
    }

    if (quick) {
        run_case(300, 200, SB_METHOD_PRIMAL, "blocked", 0);
        run_case(200, 300, SB_METHOD_DUAL, "blocked", 0);
        run_failure("blocked");
        run_case(300, 200, SB_METHOD_PRIMAL, "tiled", 0);
        run_case(200, 300, SB_METHOD_DUAL, "tiled", 0);
        run_failure("tiled");
        run_graph_replay(200, 0);
        run_graph_rep(300, 200, SB_METHOD_PRIMAL, "tiled", 0);
        run_graph_rep(200, 300, SB_METHOD_DUAL, "tiled", 0);
        return check_summary();
    }
    static const int64_t sizes[][2] = {{70, 40}, {300, 200}, {200, 300}, {130, 129}, {64, 64},
                                       {1, 1},   {33, 1},    {500, 1000}};
    static const char *factors[] = {"library", "blocked", "tiled", "auto"};
    for (size_t f = 0; f < sizeof factors / sizeof factors[0]; f++)
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            run_case(sizes[s][0], sizes[s][1], SB_METHOD_PRIMAL, factors[f], 0);
            run_case(sizes[s][0], sizes[s][1], SB_METHOD_DUAL, factors[f], 0);
        }
    run_case(200, 300, SB_METHOD_PRIMAL, "blocked", 1);
    run_case(200, 300, SB_METHOD_DUAL, "blocked", 1);
    run_case(200, 300, SB_METHOD_DUAL, "library", 1);
    run_case(200, 300, SB_METHOD_PRIMAL, "tiled", 1);
    run_case(200, 300, SB_METHOD_DUAL, "tiled", 1);
    run_case(2000, 2048, SB_METHOD_DUAL, "tiled", 0);
    run_case(2048, 2000, SB_METHOD_PRIMAL, "tiled", 0);
    run_failure("library");
    run_failure("blocked");
    run_failure("tiled");
    run_graph_rep(300, 200, SB_METHOD_PRIMAL, "tiled", 0);
    run_graph_rep(200, 300, SB_METHOD_DUAL, "tiled", 0);
    run_graph_rep(2000, 2048, SB_METHOD_DUAL, "tiled", 0);
    run_graph_rep(130, 129, SB_METHOD_DUAL, "blocked", 0);
    run_graph_rep(300, 200, SB_METHOD_PRIMAL, "tiled", 3);
    run_graph_rep(300, 200, SB_METHOD_PRIMAL, "blocked", 3);
    run_mixed(300, 200, SB_METHOD_PRIMAL, SB_PREC_MIXED, 0, 0);
    run_mixed(200, 300, SB_METHOD_DUAL, SB_PREC_MIXED, 0, 0);
    run_mixed(200, 300, SB_METHOD_DUAL, SB_PREC_MIXED, 0, 1);
    run_mixed(2000, 2048, SB_METHOD_DUAL, SB_PREC_MIXED, 0, 0);
    run_mixed(4000, 512, SB_METHOD_PRIMAL, SB_PREC_MIXED, 0, 0);
    run_mixed(1, 1, SB_METHOD_PRIMAL, SB_PREC_MIXED, 0, 0);
    run_mixed(60, 40, SB_METHOD_PRIMAL, SB_PREC_MIXED, 1, 0);
    run_mixed(40, 60, SB_METHOD_DUAL, SB_PREC_MIXED, 1, 0);
    run_mixed(60, 40, SB_METHOD_PRIMAL, SB_PREC_AUTO, 1, 0);
    run_mixed(200, 300, SB_METHOD_DUAL, SB_PREC_AUTO, 0, 0);
    /* low block indices spinning ~50 us before their first ticket: blocks
     * start out of index order on the device */
    for (int delay = 0; delay < 2; delay++) {
        run_graph_replay(63, delay ? 100000 : 0);
        run_graph_replay(200, delay ? 100000 : 0);
        run_graph_replay(1000, delay ? 100000 : 0);
    }

    return check_summary();
}
