/* Host simulation of the CUDA arrow-Schur kernels (cuda/arrow_kernels.cuh).
 *
 * Runs the exact kernel source on the CPU through tests/sim/sim_cuda.h: every
 * CUDA thread is an OS thread, __syncthreads() a real barrier, and the blocks
 * of a grid run concurrently, started forward, reversed, shuffled, and
 * shuffled with random sleeps (before each block and at barriers), 2 to 4
 * blocks resident at once. The factor and solve pipelines are driven exactly
 * as cuda/arrow_backend.cu drives them, with each cuBLAS/cuSOLVER call
 * replaced by the CBLAS/LAPACKE call of the same semantics (column-major
 * DSYRK, DGEMV, potrf, potrs).
 *
 * Every kernel result is compared with an independent LAPACKE computation:
 *   L_i      dpotrf per row block (and its info for indefinite rows), and
 *            each row's Σ ln diag(L_i),
 *   Y_i      dtrtrs(L_i, B_i),
 *   logdet   2Σ ln diag of the dpotrf factors of every H_tt,i + ρ_t I and of
 *            S = H_ββ + ρ_β I − Σ Y_iᵀY_i formed by a separate DSYRK,
 *   u_i      dtrtrs(L_i, r_t,i),
 *   δt_i     −dtrtrs(L_iᵀ, x_i) from the same x = u + Yδβ,
 *   (δt, δβ) dposv on the dense (n·d + p)² matrix H + R.
 * The per-row results must agree to 1e-13 relative (to the largest reference
 * entry), the dense solve to 1e-12; S's initialisation exactly. Each grid
 * runs with the production launch configuration and with small ones (blocks
 * of 1, 3 and 32 threads, grids of 2 to 5 blocks) so the grid-stride loops
 * wrap and several blocks share the rows; n·d and n·p are chosen not to be
 * multiples of any block size. Every run of one system must also give the
 * same bits for L, Y, u and logdet (the reduction order is fixed). The first
 * mismatch is printed by index; the exit status is nonzero on any failure.
 *
 *   g++ -std=c++20 -O1 -g -pthread -fsanitize=thread -Wall -Wextra -Icuda -Itests/gpu \
 *       tests/sim/sim_arrow.cpp -o /tmp/sim_arrow -llapacke -lopenblas && /tmp/sim_arrow
 */
#include <cblas.h>
#include <lapacke.h>

#include <cinttypes>
#include <cstring>
#include <limits>
#include <string>

#include "sim_cuda.h"

/* One copy of the kernels per residency slot (see sim_cuda.h). */
#include "arrow_params.h"
namespace sim_slot0 {
#include "arrow_kernels.cuh"
}
#undef SB_ARROW_KERNELS_CUH
namespace sim_slot1 {
#include "arrow_kernels.cuh"
}
#undef SB_ARROW_KERNELS_CUH
namespace sim_slot2 {
#include "arrow_kernels.cuh"
}
#undef SB_ARROW_KERNELS_CUH
namespace sim_slot3 {
#include "arrow_kernels.cuh"
}

/* ------------------------------- checks ------------------------------- */
static std::string g_ctx; /* "[order] case, config" of the run in progress */

static void report(bool ok, const std::string &what)
{
    std::printf("%s %s: %s\n", ok ? "ok  " : "FAIL", g_ctx.c_str(), what.c_str());
    (ok ? g_pass : g_fail)++;
}

/* got vs want over count entries: |got − want| <= tol·max|want| everywhere.
 * Prints the first mismatch (index, and its (row, r, c) when per > 1). */
static bool close_to(const char *name, const double *got, const double *want, size_t count,
                     double tol, size_t per = 0, size_t cols = 1, bool verbose = false)
{
    double scale = 0.0, worst = 0.0;
    for (size_t k = 0; k < count; ++k)
        scale = std::max(scale, std::fabs(want[k]));
    if (scale == 0.0)
        scale = 1.0;
    size_t first = count;
    for (size_t k = 0; k < count; ++k) {
        const double e = std::fabs(got[k] - want[k]) / scale;
        if (!(e <= tol) && first == count)
            first = k;
        if (e > worst || std::isnan(e))
            worst = std::isnan(e) ? INFINITY : e;
    }
    char buf[320];
    if (first < count) {
        if (per > 0) {
            const size_t row = first / per, in = first % per;
            std::snprintf(buf, sizeof buf,
                          "%s: first mismatch at index %zu (row %zu, entry %zu,%zu): got %.17g, "
                          "want %.17g; worst rel %.3g > %.0e",
                          name, first, row, in / cols, in % cols, got[first], want[first], worst, tol);
        } else {
            std::snprintf(buf, sizeof buf,
                          "%s: first mismatch at index %zu: got %.17g, want %.17g; worst rel %.3g > %.0e",
                          name, first, got[first], want[first], worst, tol);
        }
        report(false, buf);
        return false;
    }
    if (verbose) {
        std::snprintf(buf, sizeof buf, "%s: rel %.3g <= %.0e", name, worst, tol);
        report(true, buf);
    }
    return true;
}

/* ------------------------------ systems ------------------------------ */
static uint64_t g_lcg;
static double lcg_u()
{
    g_lcg = g_lcg * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(g_lcg >> 11) / 9007199254740992.0 * 2.0 - 1.0;
}

struct arrow_case {
    const char *name;
    int n, p, d;
    double ridge_t, ridge_b;
    int indefinite_every; /* > 0: rows i with i % it == 1 get a negative pivot */
};

struct arrow_sys {
    int n, p, d, nd;
    double ridge_t, ridge_b;
    std::vector<double> Htt, B, Hbb, r; /* r = (r_t, r_β) */
    std::vector<int> bad_col;           /* per row: the column made indefinite, or -1 */
};

static arrow_sys make_system(const arrow_case &c, uint64_t seed)
{
    arrow_sys s;
    s.n = c.n;
    s.p = c.p;
    s.d = c.d;
    s.nd = c.n * c.d;
    s.ridge_t = c.ridge_t;
    s.ridge_b = c.ridge_b;
    g_lcg = seed;
    const int d = c.d, p = c.p;
    s.Htt.assign((size_t)s.nd * d, 0.0);
    s.bad_col.assign((size_t)c.n, -1);
    for (int i = 0; i < c.n; ++i) {
        /* H_i = M·Mᵀ/d + 2I, exactly symmetric */
        std::vector<double> M((size_t)d * d);
        for (auto &x : M)
            x = lcg_u();
        double *H = &s.Htt[(size_t)i * d * d];
        for (int r = 0; r < d; ++r)
            for (int q = 0; q <= r; ++q) {
                double v = 0.0;
                for (int k = 0; k < d; ++k)
                    v += M[(size_t)r * d + k] * M[(size_t)q * d + k];
                v = v / d + (r == q ? 2.0 : 0.0);
                H[r * d + q] = H[q * d + r] = v;
            }
        if (c.indefinite_every > 0 && i % c.indefinite_every == 1) {
            const int k = i % d;
            H[k * d + k] = -1.0 - c.ridge_t;
            s.bad_col[(size_t)i] = k;
        }
    }
    s.B.resize((size_t)s.nd * p);
    for (auto &x : s.B)
        x = 0.3 * lcg_u();
    s.Hbb.assign((size_t)p * p, 0.0);
    for (int j = 0; j < p; ++j) {
        s.Hbb[(size_t)j * p + j] = 4.0 + 0.5 * lcg_u();
        if (j + 1 < p)
            s.Hbb[(size_t)j * p + j + 1] = s.Hbb[(size_t)(j + 1) * p + j] = 0.3 * lcg_u();
    }
    s.r.resize((size_t)s.nd + p);
    for (auto &x : s.r)
        x = lcg_u();
    return s;
}

/* The independent LAPACKE reference of everything the pipeline produces. */
struct arrow_ref {
    std::vector<double> L, Y, u, rowlog, LS, delta; /* delta: dense solve, (δt, δβ) */
    std::vector<int> info;
    int rows_bad = 0, schur_info = 0;
    double logdet = 0.0;
};

static arrow_ref reference(const arrow_sys &s)
{
    arrow_ref R;
    const int n = s.n, p = s.p, d = s.d, nd = s.nd;
    R.L.assign((size_t)nd * d, 0.0);
    R.Y = s.B;
    R.u.assign(s.r.begin(), s.r.begin() + nd);
    R.rowlog.assign((size_t)n, 0.0);
    R.info.assign((size_t)n, 0);
    double logdet = 0.0;
    for (int i = 0; i < n; ++i) {
        double *L = &R.L[(size_t)i * d * d];
        for (int r = 0; r < d; ++r)
            for (int c = 0; c <= r; ++c)
                L[r * d + c] = s.Htt[(size_t)i * d * d + r * d + c] + (r == c ? s.ridge_t : 0.0);
        const int info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', d, L, d);
        R.info[(size_t)i] = info;
        if (info != 0) { /* the kernel's convention for a failed row: identity, log 0 */
            R.rows_bad++;
            for (int r = 0; r < d; ++r)
                for (int c = 0; c < d; ++c)
                    L[r * d + c] = r == c ? 1.0 : 0.0;
        }
        for (int r = 0; r < d; ++r) {
            for (int c = r + 1; c < d; ++c)
                L[r * d + c] = 0.0;
            if (info == 0)
                R.rowlog[(size_t)i] += std::log(L[r * d + r]);
        }
        logdet += 2.0 * R.rowlog[(size_t)i];
        LAPACKE_dtrtrs(LAPACK_ROW_MAJOR, 'L', 'N', 'N', d, p, L, d, &R.Y[(size_t)i * d * p], p);
        LAPACKE_dtrtrs(LAPACK_ROW_MAJOR, 'L', 'N', 'N', d, 1, L, d, &R.u[(size_t)i * d], 1);
    }
    /* S = H_ββ + ρ_β I − YᵀY (row-major, lower) */
    R.LS = s.Hbb;
    for (int j = 0; j < p; ++j)
        R.LS[(size_t)j * p + j] += s.ridge_b;
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, p, nd, -1.0, R.Y.data(), p, 1.0, R.LS.data(), p);
    R.schur_info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', p, R.LS.data(), p);
    for (int j = 0; j < p; ++j)
        logdet += 2.0 * std::log(R.LS[(size_t)j * p + j]);
    R.logdet = logdet;

    /* dense (H + R)δ = −r */
    if (R.rows_bad == 0 && R.schur_info == 0) {
        const int N = nd + p;
        std::vector<double> A((size_t)N * N, 0.0);
        for (int i = 0; i < n; ++i)
            for (int r = 0; r < d; ++r) {
                const int row = i * d + r;
                for (int c = 0; c < d; ++c)
                    A[(size_t)row * N + i * d + c] =
                        s.Htt[(size_t)i * d * d + r * d + c] + (r == c ? s.ridge_t : 0.0);
                for (int j = 0; j < p; ++j)
                    A[(size_t)row * N + nd + j] = A[(size_t)(nd + j) * N + row] = s.B[(size_t)row * p + j];
            }
        for (int a = 0; a < p; ++a)
            for (int b = 0; b < p; ++b)
                A[(size_t)(nd + a) * N + nd + b] = s.Hbb[(size_t)a * p + b] + (a == b ? s.ridge_b : 0.0);
        R.delta.resize((size_t)N);
        for (int k = 0; k < N; ++k)
            R.delta[(size_t)k] = -s.r[(size_t)k];
        if (LAPACKE_dposv(LAPACK_ROW_MAJOR, 'L', N, 1, A.data(), N, R.delta.data(), 1) != 0)
            R.delta.clear();
    }
    return R;
}

/* ------------------------ the pipeline, simulated ------------------------ */
struct launch_cfg {
    const char *name;
    unsigned grid, block; /* grid 0: the production grid, sb_arrow_grid(items) */
};
static const launch_cfg kConfigs[] = {
    {"production", 0, SB_ARROW_THREADS},
    {"grid 3 x 32", 3, 32},
    {"grid 2 x 3", 2, 3},
    {"grid 5 x 1", 5, 1},
};

static unsigned grid_of(const launch_cfg &cfg, int64_t items)
{
    return cfg.grid ? cfg.grid : sb_arrow_grid(items);
}

struct sim_out {
    std::vector<double> L, Y, u, io, row_logdiag;
    std::vector<int> row_info;
    sb_arrow_status status;
};

static const double kPoison = std::numeric_limits<double>::quiet_NaN();

/* factor() then solve() of cuda/arrow_backend.cu */
static sim_out run_pipeline(const arrow_sys &s, const launch_cfg &cfg, std::vector<double> *x_out)
{
    const int64_t n = s.n, p = s.p, nd = s.nd;
    const int d = s.d;
    sim_out o;
    o.L.assign((size_t)(nd * d), kPoison);
    o.Y.assign((size_t)(nd * p), kPoison);
    o.row_info.assign((size_t)n, -7);
    o.row_logdiag.assign((size_t)n, kPoison);
    std::vector<double> S((size_t)(p * p), kPoison);
    o.status = {kPoison, -7, -7};

    /* factor */
    sim_launch(SIM_KERNEL(arrow_row_chol), grid_of(cfg, n), cfg.block, (const double *)s.Htt.data(), n,
               d, s.ridge_t, o.L.data(), o.row_info.data(), o.row_logdiag.data());
    sim_launch(SIM_KERNEL(arrow_row_forward), grid_of(cfg, n * p), cfg.block, (const double *)o.L.data(),
               (const double *)s.B.data(), n, d, p, o.Y.data());
    sim_launch(SIM_KERNEL(arrow_schur_init), grid_of(cfg, p * p), cfg.block, (const double *)s.Hbb.data(),
               p, s.ridge_b, S.data());
    {
        bool exact = true;
        for (int64_t a = 0; a < p && exact; ++a)
            for (int64_t b = 0; b < p; ++b)
                exact = exact && S[(size_t)(a * p + b)] == s.Hbb[(size_t)(a * p + b)] + (a == b ? s.ridge_b : 0.0);
        if (!exact)
            report(false, "arrow_schur_init: S != H_bb + ridge_b I exactly");
    }
    cblas_dsyrk(CblasColMajor, CblasLower, CblasNoTrans, (int)p, (int)nd, -1.0, o.Y.data(), (int)p, 1.0,
                S.data(), (int)p);
    o.status.schur_info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', (int)p, S.data(), (int)p);
    sim_launch(SIM_KERNEL(arrow_logdet_reduce), 1, SB_ARROW_REDUCE_THREADS, (const int *)o.row_info.data(),
               (const double *)o.row_logdiag.data(), n, (const double *)S.data(), p, &o.status);
    if (o.status.rows_bad != 0 || o.status.schur_info != 0)
        return o; /* factor() says pd = 0; solve() refuses */

    /* solve */
    o.io = s.r;
    o.u.assign((size_t)nd, kPoison);
    double *v = o.io.data() + nd;
    sim_launch(SIM_KERNEL(arrow_row_forward), grid_of(cfg, n), cfg.block, (const double *)o.L.data(),
               (const double *)o.io.data(), n, d, (int64_t)1, o.u.data());
    std::vector<double> u_after_forward = o.u;
    cblas_dgemv(CblasColMajor, CblasNoTrans, (int)p, (int)nd, 1.0, o.Y.data(), (int)p, o.u.data(), 1, -1.0,
                v, 1);
    LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'L', (int)p, 1, S.data(), (int)p, v, (int)p);
    cblas_dgemv(CblasColMajor, CblasTrans, (int)p, (int)nd, 1.0, o.Y.data(), (int)p, v, 1, 1.0, o.u.data(), 1);
    *x_out = o.u;
    sim_launch(SIM_KERNEL(arrow_row_backward_neg), grid_of(cfg, n), cfg.block, (const double *)o.L.data(),
               (const double *)o.u.data(), n, d, o.io.data());
    o.u = u_after_forward;
    return o;
}

static bool same_bits(const std::vector<double> &a, const std::vector<double> &b)
{
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof a[0]) == 0);
}

/* One system under every launch configuration and order. */
static void test_case(const arrow_case &c, uint64_t seed)
{
    const arrow_sys s = make_system(c, seed);
    const arrow_ref R = reference(s);
    const int n = s.n, p = s.p, d = s.d, nd = s.nd;
    const size_t dd = (size_t)d * d;
    const bool pd = R.rows_bad == 0 && R.schur_info == 0;
    bool have_first = false;
    sim_out first;
    double worst_delta = 0.0;
    int runs = 0, runs_ok = 0;
    for (int o = 0; o < SIM_NORDERS; ++o) {
        sim_set_order((sim_order)o, seed ^ (0x0dd5eedull * (o + 1)));
        for (const launch_cfg &cfg : kConfigs) {
            char ctx[200];
            std::snprintf(ctx, sizeof ctx, "[%s] %s n=%d p=%d d=%d, %s", sim_order_name((sim_order)o),
                          c.name, n, p, d, cfg.name);
            g_ctx = ctx;
            const int fail0 = g_fail;
            std::vector<double> x;
            const sim_out got = run_pipeline(s, cfg, &x);
            runs++;

            /* factor */
            bool info_ok = true;
            for (int i = 0; i < n && info_ok; ++i)
                if (got.row_info[(size_t)i] != R.info[(size_t)i]) {
                    report(false, "row_info: first mismatch at row " + std::to_string(i) + ": got " +
                                      std::to_string(got.row_info[(size_t)i]) + ", LAPACKE dpotrf info " +
                                      std::to_string(R.info[(size_t)i]));
                    info_ok = false;
                }
            for (int i = 0; i < n; ++i)
                if (R.info[(size_t)i] == 0 && s.bad_col[(size_t)i] >= 0)
                    report(false, "the test made row " + std::to_string(i) + " indefinite, LAPACKE disagrees");
            close_to("L_i vs LAPACKE dpotrf", got.L.data(), R.L.data(), R.L.size(), 1e-13, dd, (size_t)d);
            close_to("ln diag(L_i) per row vs LAPACKE dpotrf", got.row_logdiag.data(), R.rowlog.data(),
                     R.rowlog.size(), 1e-13);
            close_to("Y_i vs LAPACKE dtrtrs", got.Y.data(), R.Y.data(), R.Y.size(), 1e-13, (size_t)d * p, (size_t)p);
            if (got.status.rows_bad != R.rows_bad)
                report(false, "rows_bad " + std::to_string(got.status.rows_bad) + ", want " +
                                  std::to_string(R.rows_bad));
            if (got.status.schur_info != R.schur_info)
                report(false, "Schur potrf info " + std::to_string(got.status.schur_info) + ", want " +
                                  std::to_string(R.schur_info));
            const bool got_pd = got.status.rows_bad == 0 && got.status.schur_info == 0;
            if (pd && !got_pd)
                report(false, "factor says not positive definite, LAPACKE factors it");
            if (pd && got_pd) {
                close_to("logdet vs LAPACKE", &got.status.logdet, &R.logdet, 1, 1e-13);
                /* solve */
                close_to("u_i vs LAPACKE dtrtrs", got.u.data(), R.u.data(), R.u.size(), 1e-13, (size_t)d);
                std::vector<double> dt_rows((size_t)nd);
                for (int i = 0; i < n; ++i) {
                    double *y = &dt_rows[(size_t)i * d];
                    std::memcpy(y, &x[(size_t)i * d], (size_t)d * sizeof *y);
                    LAPACKE_dtrtrs(LAPACK_ROW_MAJOR, 'L', 'T', 'N', d, 1, &R.L[(size_t)i * dd], d, y, 1);
                    for (int r = 0; r < d; ++r)
                        y[r] = -y[r];
                }
                close_to("dt_i vs -LAPACKE dtrtrs(L_i^T, u_i + Y_i db)", got.io.data(), dt_rows.data(),
                         (size_t)nd, 1e-13, (size_t)d);
                if (R.delta.empty())
                    report(false, "LAPACKE dposv on the dense H + R failed");
                else if (close_to("(dt, db) vs dense LAPACKE dposv", got.io.data(), R.delta.data(),
                                  R.delta.size(), 1e-12)) {
                    double scale = 0.0, e = 0.0;
                    for (size_t k = 0; k < R.delta.size(); ++k) {
                        scale = std::max(scale, std::fabs(R.delta[k]));
                        e = std::max(e, std::fabs(got.io[k] - R.delta[k]));
                    }
                    worst_delta = std::max(worst_delta, e / scale);
                }
            }
            /* the same bits in every order and configuration */
            if (!have_first) {
                first = got;
                have_first = true;
            } else if (!same_bits(got.L, first.L) || !same_bits(got.Y, first.Y) || !same_bits(got.u, first.u) ||
                       !same_bits(got.io, first.io) || !same_bits(got.row_logdiag, first.row_logdiag) ||
                       std::memcmp(&got.status.logdet, &first.status.logdet, sizeof(double)) != 0) {
                report(false, "results differ in their bits from the first run of this system");
            }
            if (g_fail == fail0)
                runs_ok++;
        }
    }
    char what[240];
    std::snprintf(what, sizeof what,
                  "%d of %d runs (%d orders x %zu launch configurations) match LAPACKE%s; %d rows indefinite, "
                  "Schur info %d; worst step rel err vs dense dposv %.3g",
                  runs_ok, runs, (int)SIM_NORDERS, sizeof kConfigs / sizeof kConfigs[0],
                  pd ? "" : " (factor only: not positive definite)", R.rows_bad, R.schur_info, worst_delta);
    g_ctx = std::string(c.name) + " n=" + std::to_string(n) + " p=" + std::to_string(p) + " d=" + std::to_string(d);
    report(runs_ok == runs, what);
}

int main()
{
    const auto t0 = std::chrono::steady_clock::now();
    static const arrow_case cases[] = {
        {"d=1", 7, 11, 1, 0.1, 0.2, 0},
        {"d=2", 7, 11, 2, 0.1, 0.2, 0},
        {"d=3", 7, 11, 3, 0.1, 0.2, 0},
        /* n·d = 111 and n·p = 407: no block size divides them */
        {"ragged", 37, 11, 3, 0.0, 0.0, 0},
        {"d=8", 5, 9, 8, 0.05, 0.0, 0},
        /* rows 1, 4, 7 get a negative pivot in column i % d: pd = 0 */
        {"indefinite rows", 9, 6, 3, 0.1, 0.2, 3},
        /* S indefinite: ρ_β far below −H_ββ's spectrum */
        {"indefinite Schur", 7, 11, 2, 0.1, -10.0, 0},
    };
    uint64_t seed = 0xa770c0de00000001ull;
    for (const arrow_case &c : cases)
        test_case(c, seed++);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%d passed, %d failed (%.2f s)\n", g_pass, g_fail, secs);
    return g_fail ? 1 : 0;
}
