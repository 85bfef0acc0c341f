/* The CUDA backend's refusals and failure paths, driven through the stand-in
 * (TEST-ONLY; tests/standin/README.md, "Failure paths"). Built by
 * tests/standin/standin-build.mk against the stand-in build of cuda/ and
 * libstandin.a like fault_test.cpp; run by tests/standin/run-standin-tests.sh.
 * Below the CLI, which refuses most of these inputs before a backend sees
 * them: each backend op's own input checks, no device, device memory running
 * out inside create() (everything it took is given back), a device failure
 * leaving a state unusable (standin_set_fault ld_short: one cuBLAS call
 * fails), the launchers' argument checks, --factor auto, --precision auto,
 * and the mixed solve's extra refinement rounds and its FP64 fallback.
 * Nothing in cuda/ changes for a test. Prints one ok/FAIL line per check and
 * exits nonzero on any failure. */
#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "cuda_runtime.h"
#include "standin.h"

extern "C" {
#include "arrow.h"
#include "backend.h"
#include "encode.h"
#include "encode_ops.h"
#include "rs_fixture.h"
}
#include "arrow_kernels.h"
#include "rs_gram.h"
#include "rs_kernels.h"

/* One ok/FAIL line per check, the counters and the summary: the direct GPU tests' own. */
#include "gpu_check.h"

static bool has(const sb_err &err, const char *needle) { return strstr(err.msg, needle) != nullptr; }

/* Device memory allocated right now (the free-memory cap less what is free). */
static size_t device_in_use(size_t cap)
{
    size_t free_b = 0, total = 0;
    cudaMemGetInfo(&free_b, &total);
    return cap - free_b;
}

/* A resident-solve problem (X row-major, n×p). */
struct rs_problem {
    std::vector<double> X, w, rhs, beta;
    sb_rs_problem prob;
    rs_problem(int64_t n, int64_t p, sb_method m, const char *factor)
        : X((size_t)(n * p)), w((size_t)n), rhs((size_t)p), beta((size_t)p)
    {
        for (size_t i = 0; i < X.size(); i++)
            X[i] = 0.05 * std::cos(0.37 * (double)i + 0.1 * (double)(i % 7));
        for (int64_t i = 0; i < n; i++)
            w[(size_t)i] = 0.5 + 0.25 * std::sin((double)i);
        for (int64_t j = 0; j < p; j++)
            rhs[(size_t)j] = std::cos((double)(j + 1) * 0.03);
        memset(&prob, 0, sizeof prob);
        prob.n = n, prob.p = p, prob.X = X.data(), prob.rhs = rhs.data(), prob.ridge = 1e-3;
        prob.method = m, prob.max_solves = 4, prob.factor = factor;
    }
};

/* Create f's state, run `solves` solves and read each one's info into
 * info[0 .. solves-1] (zeroed from a failed call on; err says which). The
 * state is destroyed. */
static sb_rc rs_solve_info(const sb_rs_ops *ops, rs_problem &f, int solves, sb_rs_solve_info *info, sb_err *err)
{
    memset(info, 0, (size_t)solves * sizeof *info);
    void *st = nullptr;
    sb_rc rc = ops->create(&f.prob, &st, err);
    for (int k = 0; k < solves && rc == SB_OK; k++)
        if ((rc = ops->solve(st, f.w.data(), f.beta.data(), err)) == SB_OK)
            ops->last_solve(st, &info[k]);
    if (st)
        ops->destroy(st);
    return rc;
}

/* ---- the launchers' argument checks: cudaErrorInvalidValue, nothing queued ---- */
static void launcher_checks(void)
{
    standin_reset();
    cudaStream_t s = nullptr;
    cudaStreamCreate(&s);
    double *A = nullptr, *b = nullptr;
    int *info = nullptr;
    cudaMalloc(&A, 130 * 130 * sizeof(double));
    cudaMalloc(&b, 130 * sizeof(double));
    cudaMalloc(&info, sizeof(int));
    sb_chain chain = {}, no_chain = {};
    sb_tiled tiled = {}, no_tiled = {};
    const cudaError_t ca = sb_chain_alloc(&chain, 64, s), ta = sb_tiled_alloc(&tiled, 64, 4, s);
    const cudaError_t inval = cudaErrorInvalidValue;
    struct {
        const char *what;
        cudaError_t got;
    } cases[] = {
        {"sb_launch_chol_diag jb=0", sb_launch_chol_diag(A, 64, 0, 0, info, s)},
        {"sb_launch_chol_diag jb=65", sb_launch_chol_diag(A, 65, 65, 0, info, s)},
        {"sb_chain_alloc n_max=0", sb_chain_alloc(&no_chain, 0, s)},
        {"sb_launch_chol_solve_chained N=0", sb_launch_chol_solve_chained(A, 64, 0, b, &chain, info, s)},
        {"sb_launch_chol_solve_chained N=65 > the chain's 64",
         sb_launch_chol_solve_chained(A, 65, 65, b, &chain, info, s)},
        {"sb_launch_chol_solve_bwd N=65 > the chain's 64", sb_launch_chol_solve_bwd(A, 65, 65, b, &chain, info, s)},
        {"sb_tiled_alloc grid=0", sb_tiled_alloc(&no_tiled, 64, 0, s)},
        {"sb_launch_chol_tiled lda < n", sb_launch_chol_tiled(A, 10, 20, 0, b, chain.linv, &tiled, info, s)},
        {"sb_launch_chol_tiled bordered n=1", sb_launch_chol_tiled(A, 1, 1, 1, b, chain.linv, &tiled, info, s)},
        {"sb_launch_chol_tiled_gram p=0",
         sb_launch_chol_tiled_gram(A, 2, b, 0, 10, b, 1.0, 1, nullptr, b, chain.linv, &tiled, info, s)},
        {"sb_launch_chol_tiled_gram split samples without a workspace",
         sb_launch_chol_tiled_gram(A, 64, b, 32, 4096, b, 1.0, 4, nullptr, b, chain.linv, &tiled, info, s)},
        {"sb_launch_dual_shift border with ldm < n+1", sb_launch_dual_shift(A, 10, b, 1.0, A, 10, b, s)},
        {"sb_launch_gram_wsyrk ldg < p", sb_launch_gram_wsyrk(A, 20, 20, b, 1.0, A, 10, 1, nullptr, s)},
        {"sb_launch_gram_wsyrk split samples without a workspace",
         sb_launch_gram_wsyrk(A, 32, 4096, b, 1.0, A, 32, 4, nullptr, s)},
        {"sb_launch_arrow_row_chol d=0", sb_launch_arrow_row_chol(A, 4, 0, 0.0, A, info, b, s)},
        {"sb_launch_arrow_row_forward d=SB_ARROW_MAX_D+1",
         sb_launch_arrow_row_forward(A, A, 4, SB_ARROW_MAX_D + 1, 1, A, s)},
        {"sb_launch_arrow_row_backward_neg d=0", sb_launch_arrow_row_backward_neg(A, b, 4, 0, b, s)},
    };
    int refused = 0;
    std::string which;
    for (const auto &c : cases) {
        if (c.got == inval)
            refused++;
        else
            which += std::string(" ") + c.what + " -> " + cudaGetErrorName(c.got) + ";";
    }
    check(ca == cudaSuccess && ta == cudaSuccess && refused == (int)(sizeof cases / sizeof cases[0]),
          "launchers: %d of %zu invalid calls refused with cudaErrorInvalidValue%s", refused,
          sizeof cases / sizeof cases[0], which.c_str());
    check(sb_gram_splits(0, 10, 132) == 1 && sb_gram_work_bytes(0, 10, 1) == 0 && sb_gram_work_bytes(32, 64, 1) == 0 &&
              sb_gram_work_bytes(32, 4096, 4) > 0,
          "launchers: sb_gram_splits(p=0) = %d (1); sb_gram_work_bytes: p=0 %zu, one chunk %zu (0), four %zu (> 0)",
          sb_gram_splits(0, 10, 132), sb_gram_work_bytes(0, 10, 1), sb_gram_work_bytes(32, 64, 1),
          sb_gram_work_bytes(32, 4096, 4));

    /* calibrate's data: SplitMix64 in [-1, 1), never within 1/1024 of zero */
    const int64_t count = 1000;
    double *d = nullptr;
    cudaMalloc(&d, count * sizeof(double));
    cudaError_t e = sb_launch_fill_pseudorandom(d, count, 0x5aeb0001ull, s);
    cudaError_t e0 = sb_launch_fill_pseudorandom(d, 0, 1, s); /* no item: one block, nothing written */
    std::vector<double> h((size_t)count);
    cudaMemcpy(h.data(), d, count * sizeof(double), cudaMemcpyDeviceToHost);
    int good = 0;
    double lo = 1.0, hi = -1.0;
    for (double v : h) {
        good += v >= -1.0 && v < 1.0 && std::fabs(v) >= 1.0 / 1024;
        lo = std::fmin(lo, v), hi = std::fmax(hi, v);
    }
    check(e == cudaSuccess && e0 == cudaSuccess && good == count && lo < -0.9 && hi > 0.9,
          "sb_launch_fill_pseudorandom: %d of %lld values in [-1, 1) and away from 0 (min %.3f, max %.3f)", good,
          (long long)count, lo, hi);
    cudaFree(d);
    sb_chain_free(&chain);
    sb_tiled_free(&tiled);
    cudaFree(A), cudaFree(b), cudaFree(info);
    cudaStreamDestroy(s);
}

/* ---- resident-solve ---- */
static void rs_refusals(void)
{
    standin_reset();
    const sb_rs_ops *ops = sb_cuda_backend.resident_solve;
    ops->destroy(nullptr);
    struct {
        const char *what, *want;
        sb_rc rc;
        void (*edit)(sb_rs_problem *);
    } cases[] = {
        {"no X", "no problem data", SB_E_INPUT, [](sb_rs_problem *q) { q->X = nullptr; }},
        {"n=0", "out of range", SB_E_INPUT, [](sb_rs_problem *q) { q->n = 0; }},
        {"max_solves=0", "max_solves=0", SB_E_INPUT, [](sb_rs_problem *q) { q->max_solves = 0; }},
        {"method 7", "unknown method 7", SB_E_INPUT, [](sb_rs_problem *q) { q->method = (sb_method)7; }},
        {"ridge NaN", "must be finite", SB_E_INPUT, [](sb_rs_problem *q) { q->ridge = NAN; }},
        {"dual, ridge 0", "divides by ridge", SB_E_INPUT,
         [](sb_rs_problem *q) { q->method = SB_METHOD_DUAL, q->ridge = 0.0; }},
        {"mixed with --factor blocked", "does not combine with --factor blocked", SB_E_INPUT,
         [](sb_rs_problem *q) { q->precision = SB_PREC_MIXED, q->factor = "blocked"; }},
        {"n = p = 2^30", "too large", SB_E_INPUT, [](sb_rs_problem *q) { q->n = q->p = (int64_t)1 << 30; }},
    };
    for (const auto &c : cases) {
        rs_problem f(40, 20, SB_METHOD_PRIMAL, "library");
        c.edit(&f.prob);
        void *st = (void *)&f;
        sb_err err = {{0}};
        const sb_rc rc = ops->create(&f.prob, &st, &err);
        check(rc == c.rc && st == nullptr && has(err, c.want), "resident-solve create refuses %s: %s", c.what,
              err.msg);
    }
    const int modes[] = {STANDIN_NO_DEVICE, STANDIN_OLD_DRIVER};
    for (int mode : modes) {
        standin_set_device_mode(mode);
        rs_problem f(40, 20, SB_METHOD_PRIMAL, "library");
        void *st = nullptr;
        sb_err err = {{0}};
        const sb_rc rc = ops->create(&f.prob, &st, &err);
        check(rc == SB_E_NODEVICE && st == nullptr && has(err, "no NVIDIA driver or GPU found [cudaGetDeviceCount:"),
              "resident-solve create without a device (%s): %s",
              mode == STANDIN_NO_DEVICE ? "no device" : "old driver", err.msg);
        standin_set_device_mode(STANDIN_DEVICE_OK);
    }
}

/* --factor auto: FP64 takes sb_factor_auto's choice for the device; mixed
 * and auto precision always the library */
static void rs_factor_auto(void)
{
    standin_reset();
    const sb_rs_ops *ops = sb_cuda_backend.resident_solve;
    const sb_precision precs[] = {SB_PREC_FP64, SB_PREC_MIXED};
    for (sb_precision prec : precs) {
        rs_problem f(40, 20, SB_METHOD_PRIMAL, "auto");
        f.prob.precision = prec;
        void *st = nullptr;
        sb_err err = {{0}};
        sb_rc rc = ops->create(&f.prob, &st, &err);
        if (rc == SB_OK)
            rc = ops->solve(st, f.w.data(), f.beta.data(), &err);
        sb_rs_solve_info info;
        memset(&info, 0, sizeof info);
        if (rc == SB_OK)
            ops->last_solve(st, &info);
        const char *why_auto = nullptr;
        const char *want = prec == SB_PREC_FP64 ? sb_factor_auto(9, SB_METHOD_PRIMAL, 20, &why_auto) : "library";
        check(rc == SB_OK && info.factor && strcmp(info.factor, want) == 0 && info.factor_why &&
                  (prec == SB_PREC_FP64 ? strcmp(info.factor_why, why_auto) == 0
                                        : strstr(info.factor_why, "--precision mixed|auto") != nullptr),
              "resident-solve --factor auto, %s: ran %s (%s) (%s)", prec == SB_PREC_FP64 ? "fp64" : "mixed",
              info.factor ? info.factor : "-", info.factor_why ? info.factor_why : "-", rc == SB_OK ? "ok" : err.msg);
        if (st)
            ops->destroy(st);
    }
}

/* The stand-in's message of the cudaMalloc that just failed for want of
 * memory: the bytes it requested and the bytes free. */
static bool last_malloc_refusal(size_t *requested, size_t *free_b)
{
    for (size_t i = standin_fail_count(); i-- > 0;)
        if (sscanf(standin_fail_message(i), "cudaMalloc: %zu bytes requested, %zu free", requested, free_b) == 2)
            return true;
    return false;
}

/* Device memory running out at each cudaMalloc of a create() in turn: the
 * free-memory cap starts at 1 byte and, after each failure, grows by what
 * the failing cudaMalloc asked for, so the next attempt fails at the next
 * allocation, until create() succeeds. Every failing create() returns
 * SB_E_RUNTIME naming cudaErrorMemoryAllocation, leaves *state NULL and
 * nothing allocated (its partial state freed). create(st, err) and
 * destroy(st) wrap one backend op. */
template <class Create, class Destroy> static void oom_scan(const char *what, Create create, Destroy destroy)
{
    standin_reset();
    std::set<std::string> sites;
    std::string bad;
    size_t cap = 1;
    int failures = 0;
    for (;;) {
        standin_fail_clear();
        standin_set_device_free(cap);
        void *st = (void *)&sites;
        sb_err err = {{0}};
        const sb_rc rc = create(&st, &err);
        if (rc == SB_OK) {
            destroy(st);
            break;
        }
        failures++;
        const size_t left = device_in_use(cap);
        const char *at = strstr(err.msg, "(cuda/");
        size_t requested = 0, free_b = 0;
        if (rc != SB_E_RUNTIME || st != nullptr || !has(err, "cudaErrorMemoryAllocation") || left != 0 || !at ||
            !last_malloc_refusal(&requested, &free_b) || failures > 100) {
            bad = std::string(" FIRST BAD: cap ") + std::to_string(cap) + ": rc " + std::to_string((int)rc) + ", " +
                  std::to_string(left) + " bytes left allocated, " + err.msg;
            break;
        }
        sites.insert(std::string(at + 1, strcspn(at + 1, ")")));
        cap = (cap - free_b) + requested; /* what was in use when it failed, and its request */
    }
    standin_set_device_free(0);
    std::string where;
    for (const std::string &x : sites)
        where += " " + x;
    check(bad.empty() && failures > 1,
          "%s: device memory runs out at each of create()'s %d cudaMalloc calls in turn, then it succeeds: each "
          "failure is cudaErrorMemoryAllocation and leaves nothing allocated (sites:%s)%s",
          what, failures, where.c_str(), bad.c_str());
}

static void rs_out_of_memory(void)
{
    const sb_rs_ops *ops = sb_cuda_backend.resident_solve;
    struct {
        const char *what;
        int64_t n, p;
        sb_method method;
        const char *factor;
        sb_precision prec;
        int reupload;
    } cases[] = {
        {"resident-solve primal library", 100, 70, SB_METHOD_PRIMAL, "library", SB_PREC_FP64, 0},
        {"resident-solve dual blocked --reupload", 70, 100, SB_METHOD_DUAL, "blocked", SB_PREC_FP64, 1},
        {"resident-solve primal tiled", 100, 70, SB_METHOD_PRIMAL, "tiled", SB_PREC_FP64, 0},
        {"resident-solve dual mixed", 70, 100, SB_METHOD_DUAL, "library", SB_PREC_MIXED, 0},
    };
    for (const auto &c : cases) {
        rs_problem f(c.n, c.p, c.method, c.factor);
        f.prob.precision = c.prec;
        f.prob.reupload = c.reupload;
        oom_scan(
            c.what, [&](void **st, sb_err *err) { return ops->create(&f.prob, st, err); },
            [&](void *st) { ops->destroy(st); });
    }
}

/* A device failure in a solve (standin_set_fault ld_short: the first cuBLAS
 * call of the solve refused) leaves the state unusable: every later op says
 * so. One case per place a solve's first cuBLAS call sits. */
static void rs_broken_state(void)
{
    const sb_rs_ops *ops = sb_cuda_backend.resident_solve;
    struct {
        const char *what;
        int64_t n, p;
        sb_method method;
        const char *factor;
        sb_precision prec;
        int reupload, profile;
        const char *call;
    } cases[] = {
        {"primal library: the build's DSYRK", 60, 40, SB_METHOD_PRIMAL, "library", SB_PREC_FP64, 0, 0, "cublasDsyrk"},
        {"dual library: beta's DGEMV", 40, 60, SB_METHOD_DUAL, "library", SB_PREC_FP64, 0, 0, "cublasDgemv"},
        {"dual library --reupload: K's DSYRK", 40, 60, SB_METHOD_DUAL, "library", SB_PREC_FP64, 1, 0, "cublasDsyrk"},
        {"primal mixed: the FP32 build's SSYRK", 60, 40, SB_METHOD_PRIMAL, "library", SB_PREC_MIXED, 0, 0,
         "cublasSsyrk"},
        {"primal blocked, profiled: the build's DSYRK", 100, 70, SB_METHOD_PRIMAL, "blocked", SB_PREC_FP64, 0, 1,
         "cublasDsyrk"},
    };
    for (const auto &c : cases) {
        standin_reset();
        rs_problem f(c.n, c.p, c.method, c.factor);
        f.prob.precision = c.prec;
        f.prob.reupload = c.reupload;
        void *st = nullptr;
        sb_err err = {{0}};
        if (ops->create(&f.prob, &st, &err) != SB_OK) {
            check(0, "resident-solve broken state, %s: create: %s", c.what, err.msg);
            continue;
        }
        sb_rs_breakdown bd;
        standin_set_fault("ld_short", 1);
        const sb_rc rc = c.profile ? ops->profile(st, f.w.data(), f.beta.data(), &bd, &err)
                                   : ops->solve(st, f.w.data(), f.beta.data(), &err);
        const std::string first = err.msg;
        sb_err err2 = {{0}}, err3 = {{0}};
        const sb_rc rc2 = ops->solve(st, f.w.data(), f.beta.data(), &err2);
        const sb_rc rc3 = ops->profile(st, f.w.data(), f.beta.data(), &bd, &err3);
        check(rc == SB_E_RUNTIME && first.find(c.call) != std::string::npos && rc2 == SB_E_RUNTIME &&
                  rc3 == SB_E_RUNTIME && has(err2, "state unusable after an earlier device failure") &&
                  has(err3, "state unusable"),
              "resident-solve, %s refused (%s): the state is unusable after it: solve: %s; profile: %s", c.what,
              first.c_str(), err2.msg, err3.msg);
        ops->destroy(st);
    }
}

/* --precision auto: the first solve runs mixed and decides (auto_choice) */
static void rs_precision_auto(void)
{
    standin_reset();
    const sb_rs_ops *ops = sb_cuda_backend.resident_solve;
    rs_problem f(60, 40, SB_METHOD_PRIMAL, "library");
    f.prob.precision = SB_PREC_AUTO;
    sb_err err = {{0}};
    sb_rs_solve_info info[2];
    const sb_rc rc = rs_solve_info(ops, f, 2, info, &err);
    const sb_rs_solve_info &first = info[0], &second = info[1];
    check(rc == SB_OK && first.mixed && first.auto_choice && second.mixed && !second.auto_choice,
          "resident-solve --precision auto: the first solve runs mixed and decides (%s), the next runs mixed (%s)",
          first.auto_choice ? first.auto_choice : "-", rc == SB_OK ? "ok" : err.msg);
}

/* --precision mixed below the CLI: the dual reupload rep (K rebuilt every
 * solve, then its FP32 copy); a system that needs more refinement rounds
 * than scheduled (read back round by round, then β again); one whose FP32
 * factorization fails (the FP64 fallback, with its reason) */
static void rs_mixed_paths(void)
{
    standin_reset();
    const sb_rs_ops *ops = sb_cuda_backend.resident_solve;
    {
        rs_problem f(40, 60, SB_METHOD_DUAL, "library");
        f.prob.precision = SB_PREC_MIXED;
        f.prob.reupload = 1;
        sb_err err = {{0}};
        sb_rs_solve_info infos[2];
        const sb_rc rc = rs_solve_info(ops, f, 2, infos, &err);
        const sb_rs_solve_info &info = infos[1];
        check(rc == SB_OK && info.mixed && !info.fallback, "mixed dual --reupload: solves run mixed (%s)",
              rc == SB_OK ? "ok" : err.msg);
    }
    /* nearly collinear columns: cond grows as the noise shrinks; ridge tiny */
    struct {
        double noise, ridge;
        bool fallback;
    } sys[] = {{1e-2, 1e-6, false}, {1e-3, 1e-9, true}};
    for (const auto &c : sys) {
        const int64_t n = 60, p = 40;
        rs_problem f(n, p, SB_METHOD_PRIMAL, "library");
        f.prob.precision = SB_PREC_MIXED;
        f.prob.ridge = c.ridge;
        sb_lcg g;
        sb_lcg_seed(&g, 0x51a7e5u);
        for (int64_t i = 0; i < n; i++) {
            const double a = sb_lcg_uniform(&g);
            for (int64_t j = 0; j < p; j++)
                f.X[(size_t)(i * p + j)] = a * std::cos(0.1 * (double)j) + c.noise * sb_lcg_uniform(&g);
        }
        sb_err err = {{0}};
        sb_rs_solve_info info;
        const sb_rc rc = rs_solve_info(ops, f, 1, &info, &err);
        if (c.fallback)
            check(rc == SB_OK && info.mixed && info.fallback && info.why,
                  "mixed, nearly collinear columns, ridge 1e-9: falls back to FP64 (%s) (%s)", info.why ? info.why : "-",
                  rc == SB_OK ? "ok" : err.msg);
        else
            check(rc == SB_OK && info.mixed && !info.fallback && info.iterations > 3,
                  "mixed, ill-conditioned: converges after %d refinement iterations, more than the 3 rounds "
                  "scheduled (%s)",
                  info.iterations, rc == SB_OK ? "ok" : err.msg);
    }
}

/* ---- inner-loop / outer-seq: the arrow backend ---- */
static void arrow_paths(void)
{
    standin_reset();
    const sb_arrow_ops *ops = sb_cuda_backend.arrow;
    ops->destroy(nullptr);
    sb_arrow_params prm;
    memset(&prm, 0, sizeof prm);
    prm.n = 30, prm.p = 20, prm.d = 2, prm.basis_cols = 3, prm.seed = 7;
    sb_arrow_system sys;
    sb_err err = {{0}};
    if (sb_arrow_fixture(&prm, &sys, &err) != SB_OK) {
        check(0, "arrow: fixture: %s", err.msg);
        return;
    }
    void *st = (void *)&sys;
    sb_rc rc = ops->create(nullptr, 0, &st, &err);
    check(rc == SB_E_INPUT && st == nullptr && has(err, "no system"), "arrow create refuses no system: %s", err.msg);
    sb_arrow_system bad = sys;
    bad.d = SB_ARROW_MAX_D + 1;
    rc = ops->create(&bad, 0, &st, &err);
    check(rc == SB_E_INPUT && has(err, "out of range"), "arrow create refuses d=%d: %s", SB_ARROW_MAX_D + 1,
          err.msg);
    bad = sys;
    bad.n = INT_MAX;
    rc = ops->create(&bad, 0, &st, &err);
    check(rc == SB_E_INPUT && has(err, "too large"), "arrow create refuses n·d > INT_MAX: %s", err.msg);
    standin_set_device_mode(STANDIN_NO_DEVICE);
    rc = ops->create(&sys, 0, &st, &err);
    standin_set_device_mode(STANDIN_DEVICE_OK);
    check(rc == SB_E_NODEVICE && has(err, "no CUDA device: cudaGetDeviceCount:"), "arrow create without a device: %s",
          err.msg);

    oom_scan(
        "arrow", [&](void **s, sb_err *e) { return ops->create(&sys, 0, s, e); }, [&](void *s) { ops->destroy(s); });
    standin_reset();

    rc = ops->create(&sys, 0, &st, &err);
    if (rc != SB_OK) {
        check(0, "arrow broken state: create: %s", err.msg);
        sb_arrow_free(&sys);
        return;
    }
    const int64_t nd = sys.n * sys.d;
    std::vector<double> dt((size_t)nd), db((size_t)sys.p);
    int pd = 0;
    double logdet = 0.0;
    standin_set_fault("ld_short", 1); /* the Schur complement's DSYRK */
    rc = ops->factor(st, 1e-3, 1e-3, &pd, &logdet, &err);
    const std::string first = err.msg;
    sb_err e2 = {{0}}, e3 = {{0}};
    const sb_rc rc2 = ops->factor(st, 1e-3, 1e-3, &pd, &logdet, &e2);
    const sb_rc rc3 = ops->solve(st, sys.g_t, sys.g_b, dt.data(), db.data(), &e3);
    check(rc == SB_E_RUNTIME && first.find("cublasDsyrk") != std::string::npos && rc2 == SB_E_RUNTIME &&
              rc3 == SB_E_RUNTIME && has(e2, "state unusable") && has(e3, "state unusable"),
          "arrow: a failed factor (%s) leaves the state unusable: factor: %s; solve: %s", first.c_str(), e2.msg,
          e3.msg);
    ops->destroy(st);

    /* a failed solve: the same */
    if (ops->create(&sys, 0, &st, &err) == SB_OK) {
        rc = ops->factor(st, 1e-3, 1e-3, &pd, &logdet, &err);
        standin_set_fault("ld_short", 1);
        const sb_rc rs = ops->solve(st, sys.g_t, sys.g_b, dt.data(), db.data(), &e2);
        const sb_rc rs2 = ops->solve(st, sys.g_t, sys.g_b, dt.data(), db.data(), &e3);
        check(rc == SB_OK && pd == 1 && rs == SB_E_RUNTIME && rs2 == SB_E_RUNTIME && has(e3, "state unusable"),
              "arrow: a failed solve (%s) leaves the state unusable: solve: %s", e2.msg, e3.msg);
        ops->destroy(st);
    } else {
        check(0, "arrow failed solve: create: %s", err.msg);
    }
    sb_arrow_free(&sys);
}

/* ---- encode: the device fast path ---- */
static void encode_paths(void)
{
    standin_reset();
    const sb_encode_ops *ops = sb_cuda_backend.encode;
    ops->destroy(nullptr);
    sb_encode_params prm;
    memset(&prm, 0, sizeof prm);
    prm.n = SB_ENCODE_DEVICE_MIN_ROWS, prm.p = 16, prm.K = 2, prm.d = 1, prm.D = 2;
    prm.basis = SB_BASIS_EUCLIDEAN, prm.gate = SB_GATE_JUMPRELU, prm.noise = 1e-3, prm.seed = 11;
    sb_encode_problem prob;
    sb_encode_atlas atlas;
    sb_encode_result res;
    memset(&prob, 0, sizeof prob), memset(&atlas, 0, sizeof atlas), memset(&res, 0, sizeof res);
    sb_err err = {{0}};
    if (sb_encode_generate(&prm, &prob, &err) != SB_OK || sb_encode_atlas_build(&prob, &atlas, &err) != SB_OK ||
        sb_encode_result_alloc(&res, prob.n, prob.d, &err) != SB_OK) {
        check(0, "encode: fixture: %s", err.msg);
        return;
    }
    void *st = nullptr;
    sb_encode_problem small = prob;
    small.n = SB_ENCODE_DEVICE_MIN_ROWS - 1;
    sb_rc rc = ops->create(&small, &atlas, &st, &err);
    check(rc == SB_E_NODEVICE && st == nullptr && has(err, "device path only for batches"),
          "encode create declines %lld rows: %s", (long long)small.n, err.msg);
    standin_set_device_mode(STANDIN_OLD_DRIVER);
    rc = ops->create(&prob, &atlas, &st, &err);
    standin_set_device_mode(STANDIN_DEVICE_OK);
    check(rc == SB_E_NODEVICE && has(err, "no CUDA device: cudaGetDeviceCount:"), "encode create without a device: %s",
          err.msg);
    oom_scan(
        "encode", [&](void **s, sb_err *e) { return ops->create(&prob, &atlas, s, e); },
        [&](void *s) { ops->destroy(s); });
    standin_reset();

    rc = ops->create(&prob, &atlas, &st, &err);
    if (rc != SB_OK) {
        check(0, "encode: create: %s", err.msg);
    } else {
        rc = ops->encode(st, &res, &err);
        check(rc == SB_E_RUNTIME && has(err, "without a staged batch"), "encode before an upload: %s", err.msg);
        std::vector<int32_t> atoms(prob.atom, prob.atom + prob.n);
        sb_encode_problem batch = prob;
        batch.atom = atoms.data();
        atoms[7] = (int32_t)prob.K; /* no such atom */
        rc = ops->upload(st, &batch, &err);
        check(rc == SB_E_INPUT && has(err, "row 7"), "encode refuses a batch with an atom index out of range: %s",
              err.msg);
        /* every row of atom 0: the other atom's DGEMM is skipped */
        std::fill(atoms.begin(), atoms.end(), 0);
        rc = ops->upload(st, &batch, &err);
        if (rc == SB_OK)
            rc = ops->encode(st, &res, &err);
        sb_telemetry tel;
        ops->telemetry(st, &tel);
        check(rc == SB_OK && tel.library_calls == 1,
              "encode a batch of one atom only: one DGEMM (%lld library calls) (%s)", tel.library_calls,
              rc == SB_OK ? "ok" : err.msg);
        rc = ops->upload(st, &prob, &err);
        sb_encode_result none = res;
        none.steps = nullptr;
        const sb_rc rc1 = ops->encode(st, &none, &err);
        check(rc == SB_OK && rc1 == SB_E_INPUT && has(err, "result arrays missing"),
              "encode into a result without its steps array: %s", err.msg);
        standin_set_fault("ld_short", 1); /* the first atom's DGEMM */
        rc = ops->encode(st, &res, &err);
        const std::string first = err.msg;
        sb_err e2 = {{0}}, e3 = {{0}};
        const sb_rc rc2 = ops->upload(st, &prob, &e2);
        const sb_rc rc3 = ops->encode(st, &res, &e3);
        check(rc == SB_E_RUNTIME && first.find("cublasDgemm") != std::string::npos && rc2 == SB_E_RUNTIME &&
                  rc3 == SB_E_RUNTIME && has(e2, "state unusable") && has(e3, "state unusable"),
              "encode: a failed encode (%s) leaves the state unusable: upload: %s; encode: %s", first.c_str(), e2.msg,
              e3.msg);
        ops->destroy(st);
    }
    /* device memory runs out at the first upload of a batch not grouped by
     * atom (its grouped copy of X is allocated then) */
    rc = ops->create(&prob, &atlas, &st, &err);
    if (rc == SB_OK) {
        size_t free_b = 0, total = 0;
        cudaMemGetInfo(&free_b, &total);
        standin_set_device_free(total - free_b + 1024);
        rc = ops->upload(st, &prob, &err);
        const std::string first = err.msg;
        standin_set_device_free(0);
        sb_err e2 = {{0}};
        const sb_rc rc2 = ops->encode(st, &res, &e2);
        check(rc == SB_E_RUNTIME && first.find("cudaErrorMemoryAllocation") != std::string::npos &&
                  rc2 == SB_E_RUNTIME && has(e2, "state unusable"),
              "encode: the grouped copy of X does not fit (%s): the state is unusable after it: %s", first.c_str(),
              e2.msg);
        ops->destroy(st);
    } else {
        check(0, "encode upload out of memory: create: %s", err.msg);
    }
    sb_encode_result_free(&res);
    sb_encode_atlas_free(&atlas);
    sb_encode_problem_free(&prob);
}

int main(void)
{
    sb_device_info info;
    if (!check_device(&info))
        return 1;
    launcher_checks();
    rs_refusals();
    rs_factor_auto();
    rs_out_of_memory();
    rs_broken_state();
    rs_precision_auto();
    rs_mixed_paths();
    arrow_paths();
    encode_paths();
    return check_summary();
}
