/* Host simulation of the mixed-precision resident-solve kernels
 * (cuda/rs_mixed_kernels.cuh) and of the whole mixed rep as cuda/rs_mixed.cu
 * and cuda/rs_backend.cu enqueue it.
 *
 * The exact kernel source runs through tests/sim/sim_cuda.h: every CUDA
 * thread an OS thread, __syncthreads() a real barrier, the blocks of a grid
 * concurrent and started forward, reversed, shuffled and shuffled with random
 * sleeps. Each cuBLAS/cuSOLVER call of the rep is replaced by the CBLAS/LAPACKE
 * call of the same semantics (ssyrk, spotrf, spotrs, dsymv, dgemv).
 *
 * Checks, in every order:
 *   - each kernel against the same formula computed here, bit for bit, with
 *     grids and blocks small enough that the grid-stride loops wrap;
 *   - rsm_check's settling rules: converged, failed on a nonzero FP32 info,
 *     failed on a NaN, and a settled solve zeroing the correction and
 *     keeping its status;
 *   - the rep (dual and primal, several sizes): β against a dense LAPACKE
 *     dposv of the primal system to 1e-11, refinement iterations ≥ 1; the
 *     rep scheduled with many more rounds than needed gives the same bits
 *     (settled rounds change nothing); an ill-conditioned system ends FAILED
 *     or unconverged, never CONVERGED with a wrong answer.
 * Exit status nonzero on any failure. */
#include <cblas.h>
#include <lapacke.h>

#include <cinttypes>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "sim_cuda.h"

using std::isfinite;

#include "rs_mixed_params.h"
namespace sim_slot0 {
#include "rs_mixed_kernels.cuh"
}
#undef SB_RS_MIXED_KERNELS_CUH
namespace sim_slot1 {
#include "rs_mixed_kernels.cuh"
}
#undef SB_RS_MIXED_KERNELS_CUH
namespace sim_slot2 {
#include "rs_mixed_kernels.cuh"
}
#undef SB_RS_MIXED_KERNELS_CUH
namespace sim_slot3 {
#include "rs_mixed_kernels.cuh"
}


template <typename T>
static bool same_bits(const std::vector<T> &a, const std::vector<T> &b)
{
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

static uint64_t g_rng = 0x1412a100deadbeefull;
static double uniform() { return sim_lcg_uniform(g_rng); }

/* Mirrors the backend: row sums of |A| (lower triangle of order N) by the
 * tile kernel, one block per lower 64×64 tile, then the fixed-order reduce. */
template <typename T>
static void abs_sums(const T *A, int64_t N, double *sums, unsigned threads)
{
    const int64_t nt = (N + 63) / 64;
    std::vector<double> part(nt * N, std::nan(""));
    if constexpr (sizeof(T) == sizeof(double))
        sim_launch(SIM_KERNEL(rsm_abs_sums_tiles_f64), (unsigned)(nt * (nt + 1) / 2), threads, A, N, part.data());
    else
        sim_launch(SIM_KERNEL(rsm_abs_sums_tiles_f32), (unsigned)(nt * (nt + 1) / 2), threads, A, N, part.data());
    sim_launch(SIM_KERNEL(rsm_abs_sums_reduce), 2, 32, (const double *)part.data(), N, sums);
}

/* Several tiles, a partial last one, the upper triangle NaN (never read). */
static void check_abs_sums_tiles()
{
    uint64_t rng = 0xab5c0de5ull; /* its own stream: the other checks keep their data */
    for (int64_t N : {64, 65, 150, 200}) {
        std::vector<double> A(N * N, std::nan("")), want(N, 0.0), got(N), got2(N);
        for (int64_t c = 0; c < N; ++c)
            for (int64_t r = c; r < N; ++r) {
                A[r + c * N] = sim_lcg_uniform(rng);
                want[r] += std::fabs(A[r + c * N]);
                if (r != c)
                    want[c] += std::fabs(A[r + c * N]);
            }
        abs_sums(A.data(), N, got.data(), 96);
        abs_sums(A.data(), N, got2.data(), 256);
        double worst = 0.0;
        for (int64_t i = 0; i < N; ++i)
            worst = std::isnan(got[i]) ? INFINITY : std::max(worst, std::fabs(got[i] - want[i]) / want[i]);
        char what[160];
        std::snprintf(what, sizeof what,
                      "rsm_abs_sums_tiles + reduce, N=%lld (%lld tiles a side, upper triangle NaN): rel %.2g, "
                      "96 and 256 threads the same bits",
                      (long long)N, (long long)((N + 63) / 64), worst);
        sim_report(worst < 1e-14 && got == got2, what);
    }
}

/* ------------------------------ kernels ------------------------------ */
static void check_kernels()
{
    const int64_t n = 37, p = 29;
    std::vector<double> Xt(p * n), w(n), K(n * n, 0.0), sums(n);
    for (auto &v : Xt)
        v = uniform();
    for (auto &v : w)
        v = 0.05 + std::fabs(uniform());
    for (int64_t c = 0; c < n; ++c)
        for (int64_t r = c; r < n; ++r)
            K[r + c * n] = uniform() + (r == c ? 3.0 : 0.0);
    const double ridge = 0.3;

    std::vector<float> Kf(n * n), want_f(n * n);
    sim_launch(SIM_KERNEL(rsm_to_f32), 3, 32, (const double *)K.data(), n * n, Kf.data());
    for (int64_t i = 0; i < n * n; ++i)
        want_f[i] = (float)K[i];
    sim_report(same_bits(Kf, want_f), "rsm_to_f32");

    std::vector<float> Af(n * n, -7.0f), want_A(n * n, -7.0f);
    sim_launch(SIM_KERNEL(rsm_dual_shift_f32), 5, 8, (const float *)Kf.data(), (const double *)K.data(), n,
               (const double *)w.data(), ridge, Af.data());
    for (int64_t c = 0; c < n; ++c)
        for (int64_t r = c; r < n; ++r)
            want_A[r + c * n] = r == c ? (float)(K[c + c * n] + ridge / w[c]) : Kf[r + c * n];
    sim_report(same_bits(Af, want_A), "rsm_dual_shift_f32 (lower written, upper untouched)");

    std::vector<float> Xsf(p * n), want_X(p * n);
    sim_launch(SIM_KERNEL(rsm_scale_cols_sqrtw_f32), 4, 8, (const double *)Xt.data(), p, n, (const double *)w.data(),
               Xsf.data());
    for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < p; ++j)
            want_X[j + i * p] = (float)(std::sqrt(w[i]) * Xt[j + i * p]);
    sim_report(same_bits(Xsf, want_X), "rsm_scale_cols_sqrtw_f32");

    std::vector<float> D(p * p, 1.5f), want_D(p * p, 1.5f);
    sim_launch(SIM_KERNEL(rsm_add_diag_f32), 2, 8, D.data(), p, ridge);
    for (int64_t i = 0; i < p; ++i)
        want_D[i + i * p] = (float)(1.5 + ridge);
    sim_report(same_bits(D, want_D), "rsm_add_diag_f32");

    std::vector<double> want_s(n, 0.0);
    for (int64_t c = 0; c < n; ++c)
        for (int64_t r = c; r < n; ++r) {
            want_s[r] += std::fabs(K[r + c * n]);
            if (r != c)
                want_s[c] += std::fabs(K[r + c * n]);
        }
    abs_sums(K.data(), n, sums.data(), 64);
    double worst = 0.0;
    for (int64_t i = 0; i < n; ++i)
        worst = std::max(worst, std::fabs(sums[i] - want_s[i]) / want_s[i]);
    std::vector<double> again(n);
    abs_sums(K.data(), n, again.data(), 256);
    sim_report(worst < 1e-14 && again == sums,
               "rsm_abs_sums_tiles_f64 + reduce (symmetric row sums from the lower triangle's tiles; "
               "the same bits with 64 and 256 threads a block)");
    std::vector<double> sums_f(n);
    abs_sums(Kf.data(), n, sums_f.data(), 128);
    worst = 0.0;
    for (int64_t i = 0; i < n; ++i)
        worst = std::max(worst, std::fabs(sums_f[i] - want_s[i]) / want_s[i]);
    sim_report(worst < 1e-6, "rsm_abs_sums_tiles_f32 + reduce");

    double anrm = -1.0, want_anrm = 0.0;
    for (int64_t i = 0; i < n; ++i)
        want_anrm = std::max(want_anrm, sums[i] + ridge / w[i]);
    sim_launch(SIM_KERNEL(rsm_anrm), 1, 16, (const double *)sums.data(), (const double *)w.data(), ridge, 1, n, &anrm);
    sim_report(anrm == want_anrm, "rsm_anrm (dual: max of sums + ridge/w)");
    sim_launch(SIM_KERNEL(rsm_anrm), 1, 64, (const double *)sums.data(), (const double *)w.data(), ridge, 0, n, &anrm);
    sim_report(anrm == *std::max_element(sums.begin(), sums.end()), "rsm_anrm (primal: max of sums)");

    std::vector<double> b(n), x(n, 9.0), r(n);
    for (auto &v : b)
        v = uniform();
    std::vector<float> c(n);
    int status[SB_RSM_STATUS_INTS] = {SB_RSM_FAILED, 17};
    sim_launch(SIM_KERNEL(rsm_start), 3, 8, (const double *)b.data(), n, c.data(), x.data(), status);
    bool ok = status[SB_RSM_STATE] == SB_RSM_REFINING && status[SB_RSM_ITERATIONS] == 0;
    for (int64_t i = 0; i < n; ++i)
        ok = ok && x[i] == 0.0 && c[i] == (float)b[i];
    sim_report(ok, "rsm_start (c = float(b), x = 0, status reset)");

    std::vector<double> x0(n);
    for (int64_t i = 0; i < n; ++i)
        x[i] = x0[i] = uniform();
    sim_launch(SIM_KERNEL(rsm_update), 2, 16, (const float *)c.data(), (const double *)b.data(), ridge, n, x.data(), r.data());
    ok = true;
    for (int64_t i = 0; i < n; ++i) {
        const double xi = x0[i] + (double)c[i];
        ok = ok && x[i] == xi && r[i] == b[i] - ridge * xi;
    }
    sim_report(ok, "rsm_update (x += c; r = b - sigma x)");

    std::vector<double> t(n), want_t(n);
    for (int64_t i = 0; i < n; ++i)
        t[i] = want_t[i] = uniform();
    for (int64_t i = 0; i < n; ++i)
        want_t[i] *= w[i];
    sim_launch(SIM_KERNEL(rsm_scale), 3, 4, t.data(), (const double *)w.data(), n);
    sim_report(same_bits(t, want_t), "rsm_scale");
}

/* rsm_check's rules on a hand-made residual. */
static void check_check()
{
    const int64_t N = 45;
    std::vector<double> x(N), w(N, 2.0), r(N);
    for (int64_t i = 0; i < N; ++i)
        x[i] = 1.0 + 0.01 * (double)i;
    const double anrm = 10.0, tol = anrm * 0x1p-53 * std::sqrt((double)N), xn = x[N - 1];
    std::vector<float> c(N, 5.0f);
    int info32 = 0, status[SB_RSM_STATUS_INTS];

    /* not converged: primal, r large */
    for (int64_t i = 0; i < N; ++i)
        r[i] = 1e-6 * (double)(i + 1);
    status[0] = SB_RSM_REFINING, status[1] = 0;
    sim_launch(SIM_KERNEL(rsm_check), 1, 16, r.data(), (const double *)x.data(), (const double *)w.data(), 0.5, 0, N,
               &anrm, (const int *)&info32, 1, status, c.data());
    bool ok = status[0] == SB_RSM_REFINING;
    for (int64_t i = 0; i < N; ++i)
        ok = ok && c[i] == (float)r[i];
    sim_report(ok, "rsm_check: above the tolerance, c = float(r), still refining");

    /* converged at round 2: max|r| exactly at the tolerance */
    for (int64_t i = 0; i < N; ++i)
        r[i] = (i == 7 ? -1.0 : 0.5) * xn * tol;
    sim_launch(SIM_KERNEL(rsm_check), 1, 32, r.data(), (const double *)x.data(), (const double *)w.data(), 0.5, 0, N,
               &anrm, (const int *)&info32, 2, status, c.data());
    ok = status[0] == SB_RSM_CONVERGED && status[1] == 2;
    for (int64_t i = 0; i < N; ++i)
        ok = ok && c[i] == 0.0f;
    sim_report(ok, "rsm_check: at the tolerance, converged at round 2, c = 0");

    /* settled: a later round changes neither status nor r, and c stays 0 */
    std::vector<double> r_before = r;
    for (int64_t i = 0; i < N; ++i)
        c[i] = 3.0f;
    sim_launch(SIM_KERNEL(rsm_check), 1, 16, r.data(), (const double *)x.data(), (const double *)w.data(), 0.5, 1, N,
               &anrm, (const int *)&info32, 3, status, c.data());
    ok = status[0] == SB_RSM_CONVERGED && status[1] == 2 && same_bits(r, r_before);
    for (int64_t i = 0; i < N; ++i)
        ok = ok && c[i] == 0.0f;
    sim_report(ok, "rsm_check: a settled solve stays settled, c = 0, r untouched");

    /* dual shift: r -= ridge/w ⊙ x before the test */
    for (int64_t i = 0; i < N; ++i)
        r[i] = 1.0;
    status[0] = SB_RSM_REFINING;
    sim_launch(SIM_KERNEL(rsm_check), 1, 64, r.data(), (const double *)x.data(), (const double *)w.data(), 0.5, 1, N,
               &anrm, (const int *)&info32, 0, status, c.data());
    ok = status[0] == SB_RSM_REFINING;
    for (int64_t i = 0; i < N; ++i)
        ok = ok && r[i] == 1.0 - 0.5 / 2.0 * x[i] && c[i] == (float)r[i];
    sim_report(ok, "rsm_check (dual): r -= (ridge/w) x");

    /* failed: FP32 factorization info, then NaN */
    info32 = 3;
    status[0] = SB_RSM_REFINING;
    sim_launch(SIM_KERNEL(rsm_check), 1, 16, r.data(), (const double *)x.data(), (const double *)w.data(), 0.5, 0, N,
               &anrm, (const int *)&info32, 0, status, c.data());
    sim_report(status[0] == SB_RSM_FAILED && c[0] == 0.0f, "rsm_check: FP32 info != 0 fails the solve");
    info32 = 0;
    r[N - 1] = NAN;
    status[0] = SB_RSM_REFINING;
    sim_launch(SIM_KERNEL(rsm_check), 1, 16, r.data(), (const double *)x.data(), (const double *)w.data(), 0.5, 0, N,
               &anrm, (const int *)&info32, 4, status, c.data());
    sim_report(status[0] == SB_RSM_FAILED && status[1] == 4, "rsm_check: a NaN residual fails the solve");
}

/* ------------------------------- the rep ------------------------------- */
struct sys {
    int64_t n, p, N;
    int dual;
    double ridge;
    std::vector<double> Xt, w, rhs, K, v;
};

static sys make_sys(int64_t n, int64_t p, int dual, int ill)
{
    sys s{n, p, dual ? n : p, dual, ill ? 1e-13 : 0.05, {}, {}, {}, {}, {}};
    s.Xt.resize(p * n), s.w.resize(n), s.rhs.resize(p);
    for (int64_t i = 0; i < n; ++i) {
        const double u = uniform();
        for (int64_t j = 0; j < p; ++j)
            s.Xt[j + i * p] = ill ? u * std::cos(0.1 * (double)j) + 1e-5 * uniform() : uniform();
        s.w[i] = ill ? std::pow(10.0, -8.0 * (double)i / (double)(n - 1)) : 0.05 + std::fabs(uniform());
    }
    for (auto &v : s.rhs)
        v = uniform();
    if (dual) {
        s.K.assign(n * n, 0.0), s.v.resize(n);
        cblas_dsyrk(CblasColMajor, CblasLower, CblasTrans, (int)n, (int)p, 1.0, s.Xt.data(), (int)p, 0.0, s.K.data(), (int)n);
        cblas_dgemv(CblasColMajor, CblasTrans, (int)p, (int)n, 1.0, s.Xt.data(), (int)p, s.rhs.data(), 1, 0.0, s.v.data(), 1);
    }
    return s;
}

struct rep_out {
    std::vector<double> beta, x;
    int state, iterations, rounds;
};

/* The rep as cuda/rs_backend.cu runs it: build, factor, `rounds` rounds, read the
 * status, then one round at a time while still refining (up to round 30). */
static rep_out run_rep(const sys &s, int rounds)
{
    const int64_t n = s.n, p = s.p, N = s.N;
    std::vector<float> Af(N * N, 0.0f), Kf, Xsf, c(N);
    std::vector<double> x(N), r(N), t(n), sums(N), anrm(1);
    int info32 = 0, status[SB_RSM_STATUS_INTS] = {0, 0};
    const double *b = s.dual ? s.v.data() : s.rhs.data();
    if (s.dual) {
        Kf.resize(n * n);
        sim_launch(SIM_KERNEL(rsm_to_f32), 4, 32, s.K.data(), n * n, Kf.data());
        abs_sums(s.K.data(), n, sums.data(), 64);
        sim_launch(SIM_KERNEL(rsm_dual_shift_f32), 4, 16, (const float *)Kf.data(), s.K.data(), n, s.w.data(), s.ridge,
                   Af.data());
    } else {
        Xsf.resize(p * n);
        sim_launch(SIM_KERNEL(rsm_scale_cols_sqrtw_f32), 4, 16, s.Xt.data(), p, n, s.w.data(), Xsf.data());
        cblas_ssyrk(CblasColMajor, CblasLower, CblasNoTrans, (int)p, (int)n, 1.0f, Xsf.data(), (int)p, 0.0f, Af.data(), (int)p);
        sim_launch(SIM_KERNEL(rsm_add_diag_f32), 2, 16, Af.data(), p, s.ridge);
        abs_sums(Af.data(), p, sums.data(), 128);
    }
    sim_launch(SIM_KERNEL(rsm_anrm), 1, 32, (const double *)sums.data(), s.w.data(), s.ridge, s.dual, N, anrm.data());
    info32 = LAPACKE_spotrf(LAPACK_COL_MAJOR, 'L', (int)N, Af.data(), (int)N);
    auto round = [&](int k) {
        if (k == 0)
            sim_launch(SIM_KERNEL(rsm_start), 3, 16, b, N, c.data(), x.data(), status);
        LAPACKE_spotrs(LAPACK_COL_MAJOR, 'L', (int)N, 1, Af.data(), (int)N, c.data(), (int)N);
        sim_launch(SIM_KERNEL(rsm_update), 3, 16, (const float *)c.data(), b, s.dual ? 0.0 : s.ridge, N, x.data(), r.data());
        if (s.dual) {
            cblas_dsymv(CblasColMajor, CblasLower, (int)N, -1.0, s.K.data(), (int)N, x.data(), 1, 1.0, r.data(), 1);
        } else {
            cblas_dgemv(CblasColMajor, CblasTrans, (int)p, (int)n, 1.0, s.Xt.data(), (int)p, x.data(), 1, 0.0, t.data(), 1);
            sim_launch(SIM_KERNEL(rsm_scale), 2, 16, t.data(), s.w.data(), n);
            cblas_dgemv(CblasColMajor, CblasNoTrans, (int)p, (int)n, -1.0, s.Xt.data(), (int)p, t.data(), 1, 1.0, r.data(), 1);
        }
        sim_launch(SIM_KERNEL(rsm_check), 1, 32, r.data(), (const double *)x.data(), s.w.data(), s.ridge, s.dual, N,
                   (const double *)anrm.data(), (const int *)&info32, k, status, c.data());
    };
    int k = 0;
    for (; k < rounds; ++k)
        round(k);
    while (status[SB_RSM_STATE] == SB_RSM_REFINING && k <= 30)
        round(k++);
    rep_out o{std::vector<double>(p), x, status[SB_RSM_STATE], status[SB_RSM_ITERATIONS], k};
    if (s.dual) {
        for (int64_t j = 0; j < p; ++j)
            o.beta[j] = s.rhs[j] / s.ridge;
        cblas_dgemv(CblasColMajor, CblasNoTrans, (int)p, (int)n, -1.0 / s.ridge, s.Xt.data(), (int)p, x.data(), 1, 1.0,
                    o.beta.data(), 1);
    } else {
        o.beta = x;
    }
    return o;
}

/* Dense FP64 oracle of the primal system. */
static std::vector<double> oracle(const sys &s)
{
    const int64_t n = s.n, p = s.p;
    std::vector<double> Xs(p * n), G(p * p), beta = s.rhs;
    for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < p; ++j)
            Xs[j + i * p] = s.Xt[j + i * p] * s.w[i];
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, (int)p, (int)p, (int)n, 1.0, Xs.data(), (int)p, s.Xt.data(),
                (int)p, 0.0, G.data(), (int)p);
    for (int64_t j = 0; j < p; ++j)
        G[j + j * p] += s.ridge;
    LAPACKE_dposv(LAPACK_COL_MAJOR, 'L', (int)p, 1, G.data(), (int)p, beta.data(), (int)p);
    return beta;
}

/* tiny (N = 1): LAPACK's dsposv criterion has half an ulp of slack there
 * (sqrt(N) = 1), which the FP64 residual's own rounding can exceed, so the
 * rep may end unconverged (the host then falls back to FP64, counted and
 * reported); it must never end CONVERGED with a wrong answer. */
static void check_rep(int64_t n, int64_t p, int dual, bool tiny = false)
{
    sys s = make_sys(n, p, dual, 0);
    std::vector<double> ref = oracle(s);
    rep_out o = run_rep(s, 3);
    double scale = 0.0, worst = 0.0;
    for (int64_t j = 0; j < p; ++j) {
        scale = std::max(scale, std::fabs(ref[j]));
        worst = std::max(worst, std::fabs(o.beta[j] - ref[j]));
    }
    const bool converged = o.state == SB_RSM_CONVERGED && o.iterations >= 1;
    char buf[200];
    std::snprintf(buf, sizeof buf, "rep %s n=%" PRId64 " p=%" PRId64 ": %s after %d corrections, rel err %.2e",
                  dual ? "dual" : "primal", n, p, converged ? "converged" : "not converged (FP64 fallback)",
                  o.iterations, worst / scale);
    sim_report(converged ? worst / scale < 1e-11 : tiny && o.state == SB_RSM_REFINING, buf);
    rep_out more = run_rep(s, 9);
    sim_report(converged ? more.state == SB_RSM_CONVERGED && more.iterations == o.iterations &&
                               same_bits(more.x, o.x)
                         : more.state == o.state && same_bits(more.x, o.x),
               std::string("rep ") + (dual ? "dual" : "primal") + ": 9 scheduled rounds give the same bits as " +
                   std::to_string(o.rounds));
}

static void check_ill(int dual)
{
    sys s = make_sys(60, 40, dual, 1);
    rep_out o = run_rep(s, 3);
    sim_report(o.state != SB_RSM_CONVERGED,
           std::string("ill-conditioned ") + (dual ? "dual" : "primal") + ": not converged (state " +
               std::to_string(o.state) + "), so the host falls back to FP64");
}

int main()
{
    for (int o = 0; o < SIM_NORDERS; ++o) {
        sim_set_order((sim_order)o, 0x5eed0000u + (uint64_t)o);
        check_kernels();
        check_abs_sums_tiles();
        check_check();
        check_rep(50, 23, 0);
        check_rep(23, 50, 1);
        check_rep(70, 70, 1);
        check_rep(1, 1, 0, true);
        check_ill(0);
        check_ill(1);
    }
    std::printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
