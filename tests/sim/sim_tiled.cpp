/* Host simulation of the tiled Cholesky factorization (cuda/rs_tiled.cuh)
 * and of the fused forward solve + backward chained solve that follows it.
 *
 * The exact kernel source runs on the CPU through tests/sim/sim_cuda.h: one
 * OS thread per CUDA thread, __syncthreads() a real barrier, the blocks of
 * the persistent grid concurrent, started forward, reversed, shuffled, and
 * shuffled with random sleeps, 2 to 4 of them resident at once and the grid
 * one block larger than that (a block waits for a slot, as behind a full
 * GPU); the FP64 tensor-core product (mma.m8n8k4) is emulated lane by lane
 * with the PTX fragment layout (sim_mma_f64_m8n8k4), so wrong fragment
 * indexing fails here. Compared with LAPACKE dpotrf/dpotrs (and dtrtrs for
 * the fused forward solve), relative tolerance 1e-12 on the factor, the
 * forward solution and the solution.
 *
 * Covered: N = 1, 7, 63, 64, 65, 130, 200 (partial edge tiles, one tile,
 * N < 64) plain and bordered, in every order; launches repeated on one
 * device state with no host write in between (as a graph replay); a matrix
 * that is not positive definite (info as LAPACK's, every block stops, and
 * the next launch on the state is exact); a launch whose waits time out
 * (spin limit 0), then exact ones. Then the resident-solve sizes N = 2000
 * (every order) and N = 4000 (shuffled with delays), and N = 2000 failing
 * at column 1500, in fiber mode (sim_cuda.h): a block's 256 threads are
 * fibers on the block's OS thread, switched at every barrier, while the
 * blocks stay concurrent OS threads. An emulated tensor-core product is a
 * 32-lane barrier (a 64×64×64 tile multiply is 1024 of them); as OS
 * threads on two cores N = 2000 took about 14 minutes, as fibers about 15 s.
 * The first launch of each size is traced (sb_tiled_trace_rec, test-only)
 * and the trace checked by rs_tiled_trace.h: every task done once, none
 * ready before its inputs were published. With the chain task's wait for
 * U(i, i, i-2) removed, N = 700 fails both the factor and the trace check
 * (the trace names the task that started early); with the barrier in the
 * chain task's update removed, 8 of 8 checks fail at N = 300 and 700.
 * Fiber mode was checked to fail with a panel task's wait for its diagonal
 * tile removed, with the barrier after a panel task's staging removed, and
 * (when the diagonal panels still lived in shared memory) with their
 * per-column __syncwarp removed: 6 of 8 checks each at N = 300 and 700.
 * Warp shuffles (__shfl_sync, the diagonal panels' register form) are a
 * write and a read around two 32-lane barriers, so a lane reading another
 * lane's value of the wrong step fails. The register form gives the same
 * factor bits as the shared-memory form it replaced (hash of L compared at
 * N = 7, 65, 200, 700). The not-SPD cases fail inside a 16-column panel
 * (column 100: tile 1, panel 2; column 3 of the bordered N = 70: panel 0;
 * column 1500: tile 23, panel 1).
 * The chain task loads A_i,i-1 and A_ii before it waits for L_kk⁻¹; with
 * its wait for A_ii's last update (U(i, i, i-2)) removed, N = 300 and 700
 * fail the factor and the trace check ("loaded it ... before its input");
 * with its wait for L_kk⁻¹ removed, N = 300 fails both. Panels multiply by
 * L_jj⁻ᵀ skipping its zero upper blocks and loading only its lower half:
 * the factor's bits are those of the full product (hash of L at N = 7, 65,
 * 200, 700).
 * Not exercised: the GPU's weaker memory model (x86 is TSO), real
 * warp-synchronous execution, and any timing.
 *
 *   make build/cuda/tests/sim_tiled && build/cuda/tests/sim_tiled [--threads] [N...]
 *   build/cuda/tests/sim_tiled [--threads] --gram p samples splits */
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <cblas.h>
#include <lapacke.h>

#include "sim_cuda.h"

#include "rs_params.h"
#include "rs_mma.cuh"
#include "rs_tiled_trace.h"
#include "sim_slots_rs_tiled.h"

/* ------------------- device state, as the launchers keep it ------------------- */
struct sim_tiled_state {
    std::vector<unsigned> counts;
    sb_chain_ctl ctl{};
    long long test_start_delay = 0;
    std::vector<sb_tiled_trace_rec> trace; /* the next launch is traced when not empty */
    explicit sim_tiled_state(int nmax)
    {
        const size_t nt = (size_t)(nmax + SB_RS_NB - 1) / SB_RS_NB;
        counts.assign(nt * nt, 0u);
    }
};
struct sim_chain_state {
    std::vector<unsigned> flags;
    sb_chain_ctl ctl{};
    explicit sim_chain_state(int nmax) : flags((size_t)(nmax + SB_RS_NB - 1) / SB_RS_NB, 0u) {}
};

/* Persistent blocks: one more than can be resident, so one waits for a slot. */
static unsigned g_grid = SIM_SLOTS + 1;

/* Mirrors sb_launch_chol_tiled. */
static void sim_chol_tiled(double *A, int64_t lda, int n, int bordered, double *border_out,
                           double *linv, sim_tiled_state &st, int *info,
                           long long spin_limit = SB_CHAIN_SPIN_CYCLES)
{
    sb_tiled_sync ts;
    ts.counts = st.counts.data();
    ts.ctl = &st.ctl;
    ts.spin_limit = spin_limit;
    ts.test_start_delay = st.test_start_delay;
    ts.trace = st.trace.empty() ? nullptr : st.trace.data();
    sim_launch(SIM_KERNEL(rs_chol_tiled), g_grid, SB_TILED_THREADS, A, lda, n, bordered,
               border_out, linv, ts, info);
}

static sb_chain_sync chain_sync(sim_chain_state &ch)
{
    sb_chain_sync cs;
    cs.flags = ch.flags.data();
    cs.ctl = &ch.ctl;
    cs.spin_limit = SB_CHAIN_SPIN_CYCLES;
    cs.test_start_delay = 0;
    return cs;
}

/* Mirrors sb_launch_chol_solve_bwd: b <- L⁻ᵀ b with the tiled factor's L_kk⁻¹. */
static void sim_solve_bwd(const double *L, int64_t lda, int N, double *b, const double *linv,
                          sim_chain_state &ch, int *info)
{
    const unsigned nblk = (unsigned)((N + SB_RS_NB - 1) / SB_RS_NB);
    sim_launch(SIM_KERNEL(rs_trsv_lower_bwd), nblk, SB_TRSV_THREADS, L, lda, N, b, linv,
               chain_sync(ch), info);
}

/* Mirrors sb_launch_chol_tiled_gram: the primal Gram's tasks, then the
 * bordered factorization, in one launch (work: the Gram's workspace). */
static void sim_chol_tiled_gram(double *A, int64_t lda, const double *Xt, int p, int samples,
                                const double *w, double ridge, int splits, std::vector<double> &work,
                                double *border_out, double *linv, sim_tiled_state &st, int *info)
{
    using namespace sim_slot0;
    const int64_t kchunk = rs_gram_kchunk(samples, splits, RS_GRAM_KB);
    const int nchunks = rs_gram_nchunks(samples, kchunk);
    const int64_t nparts = rs_gram_partials(p, nchunks, RS_GRAM_T);
    const int64_t ncounts = rs_gram_ntiles(p, RS_GRAM_T);
    if (nchunks > 1 && work.empty())
        work.assign((size_t)(nparts + ncounts), 0.0); /* zeroed once, as the backend does */
    sb_tiled_sync ts{};
    ts.counts = st.counts.data();
    ts.ctl = &st.ctl;
    ts.spin_limit = SB_CHAIN_SPIN_CYCLES;
    ts.test_start_delay = st.test_start_delay;
    ts.trace = st.trace.empty() ? nullptr : st.trace.data();
    ts.gram_Xt = Xt;
    ts.gram_w = w;
    ts.gram_ridge = ridge;
    ts.gram_partials = nchunks > 1 ? work.data() : nullptr;
    ts.gram_counts = nchunks > 1 ? (unsigned *)(work.data() + nparts) : nullptr;
    ts.gram_p = p;
    ts.gram_samples = samples;
    ts.gram_nchunks = nchunks;
    ts.gram_kchunk = (int)kchunk;
    sim_launch(SIM_KERNEL(rs_chol_tiled_gram), g_grid, SB_TILED_THREADS, A, lda, p + 1, 1, border_out,
               linv, ts, info);
}

/* ------------------------------- tests ------------------------------- */

static uint64_t g_lcg = 0x7a11edc401e5ull;

static std::vector<double> spd_matrix(int N) { return sim_spd_matrix(N, 9, 1e-2, g_lcg); }

/* max |got - want| / max |want| over the lower triangle of two N×N factors
 * (leading dimensions ldg, N). */
static double factor_err(const double *got, int64_t ldg, const std::vector<double> &want, int N)
{
    double d = 0.0, m = 0.0;
    for (int c = 0; c < N; ++c)
        for (int r = c; r < N; ++r) {
            const double e = std::fabs(got[r + c * ldg] - want[r + (size_t)c * N]);
            d = std::isnan(e) ? INFINITY : std::max(d, e);
            m = std::max(m, std::fabs(want[r + (size_t)c * N]));
        }
    return d / m;
}
static double vec_err(const std::vector<double> &got, const std::vector<double> &want)
{
    double d = 0.0, m = 0.0;
    for (size_t i = 0; i < want.size(); ++i) {
        const double e = std::fabs(got[i] - want[i]);
        d = std::isnan(e) ? INFINITY : std::max(d, e);
        m = std::max(m, std::fabs(want[i]));
    }
    return m > 0.0 ? d / m : d;
}

static const double kTol = 1e-12;

/* One size: plain factor (reps launches on one state), then the bordered
 * factor (fused forward solve) + backward chained solve (reps times). */
static void test_size(int N, int reps)
{
    char what[512];
    const std::vector<double> A = spd_matrix(N);
    std::vector<double> ref = A;
    if (LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', N, ref.data(), N) != 0) {
        std::snprintf(what, sizeof what, "N=%d: LAPACKE reference factor", N);
        sim_report(false, what, 0);
        return;
    }
    std::vector<double> b(N);
    for (int j = 0; j < N; ++j)
        b[j] = std::cos((j + 1) * 0.05);
    std::vector<double> y_ref = b, x_ref = b;
    LAPACKE_dtrtrs(LAPACK_COL_MAJOR, 'L', 'N', 'N', N, 1, ref.data(), N, y_ref.data(), N);
    LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'L', N, 1, ref.data(), N, x_ref.data(), N);

    const int nt1 = (N + 1 + SB_RS_NB - 1) / SB_RS_NB;
    std::vector<double> linv((size_t)nt1 * SB_RS_NB * SB_RS_NB, 0.0);
    sim_tiled_state st(N + 1);
    if (g_sim.order == SIM_FORWARD || g_sim.order == SIM_SHUFFLED_DELAYS)
        st.test_start_delay = 300000; /* ns of the simulation's clock64 */

    /* plain, twice on the same state: the second launch is a replay; the
     * first is traced (rs_tiled_trace.h: every task once, none ready before
     * its inputs were published) */
    const int nt = (N + SB_RS_NB - 1) / SB_RS_NB;
    for (int rep = 0; rep < reps; ++rep) {
        std::vector<double> L = A;
        int info = 0;
        if (rep == 0)
            st.trace.assign((size_t)sb_tiled_ntasks(nt), sb_tiled_trace_rec{});
        sim_chol_tiled(L.data(), N, N, 0, nullptr, linv.data(), st, &info);
        const double e = factor_err(L.data(), N, ref, N);
        std::snprintf(what, sizeof what, "N=%d launch %d: tiled factor vs LAPACKE dpotrf, info %d, rel",
                      N, rep, info);
        sim_report(info == 0 && e < kTol, what, e);
        if (rep == 0) {
            sb_tiled_trace_summary sum;
            char why[300];
            const int bad = sb_tiled_trace_analyse(st.trace.data(), nt, &sum, why, sizeof why);
            std::snprintf(what, sizeof what, "N=%d launch 0: task trace: %lld tasks once each, on %d blocks, "
                          "none ready before its inputs%s%s", N, sum.ntasks, sum.blocks, bad ? ": " : "", why);
            sim_report(!bad && sum.count[1] == 1 && sum.count[4] == nt - 1, what);
            st.trace.clear();
        }
    }

    /* bordered [A b; bᵀ 0], ld N + 1: row N becomes (L⁻¹b)ᵀ; then L⁻ᵀ alone */
    sim_chain_state ch(N);
    for (int rep = 0; rep < reps; ++rep) {
        const int64_t ld = N + 1;
        std::vector<double> B((size_t)ld * ld, 0.0);
        for (int c = 0; c < N; ++c) {
            for (int r = 0; r < N; ++r)
                B[r + c * ld] = A[r + (size_t)c * N];
            B[N + c * ld] = b[c];
        }
        B[N + N * ld] = -7.0; /* ignored by the kernel */
        std::vector<double> y(N, 0.0);
        int info = 0;
        sim_chol_tiled(B.data(), ld, N + 1, 1, y.data(), linv.data(), st, &info);
        const double ef = factor_err(B.data(), ld, ref, N);
        std::vector<double> row(N);
        for (int c = 0; c < N; ++c)
            row[c] = B[N + c * ld];
        const double ey = std::max(vec_err(y, y_ref), vec_err(row, y_ref));
        std::snprintf(what, sizeof what,
                      "N=%d fused %d: bordered factor (info %d, rel %.2g) and row N = L^-1 b, rel",
                      N, rep, info, ef);
        sim_report(info == 0 && ef < kTol && ey < kTol && B[N + N * ld] == 1.0, what, ey);
        int sinfo = 0;
        sim_solve_bwd(B.data(), ld, N, y.data(), linv.data(), ch, &sinfo);
        const double ex = vec_err(y, x_ref);
        std::snprintf(what, sizeof what,
                      "N=%d fused %d: backward solve with the tiles' inverses vs LAPACKE dpotrs, rel",
                      N, rep);
        sim_report(sinfo == 0 && ex < kTol, what, ex);
    }
    const unsigned launches = 2 * reps;
    std::snprintf(what, sizeof what, "N=%d: tiled state after %u launches: epoch %u, all reset", N,
                  launches, st.ctl.epoch);
    const bool zero = std::all_of(st.counts.begin(), st.counts.end(), [](unsigned v) { return v == 0; });
    sim_report(st.ctl.epoch == launches && st.ctl.ticket == 0 && st.ctl.done == 0 && st.ctl.abort == 0 &&
               zero,
           what, st.ctl.epoch);
}

/* Not positive definite at column bad_col: info as LAPACK's, the launch
 * ends, and the next launch on the same state factors an SPD matrix. */
static void test_not_spd(int N, int bad_col, int bordered)
{
    char what[512];
    std::vector<double> A = sim_not_spd_matrix(N, bad_col);
    std::vector<double> R = A;
    const int rinfo = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', N, R.data(), N);
    const int64_t ld = N + bordered;
    const int n = N + bordered;
    std::vector<double> M((size_t)ld * ld, 0.0);
    for (int c = 0; c < N; ++c) {
        for (int r = 0; r < N; ++r)
            M[r + c * ld] = A[r + (size_t)c * N];
        if (bordered)
            M[N + c * ld] = 1.0;
    }
    const int nt = (n + SB_RS_NB - 1) / SB_RS_NB;
    std::vector<double> linv((size_t)nt * SB_RS_NB * SB_RS_NB, 0.0);
    sim_tiled_state st(n);
    int info = 0;
    sim_chol_tiled(M.data(), ld, n, bordered, nullptr, linv.data(), st, &info);
    std::snprintf(what, sizeof what, "N=%d%s: not SPD at column %d: info=%d like LAPACK (%d), all blocks ended",
                  N, bordered ? " bordered" : "", bad_col, info, rinfo);
    sim_report(info == rinfo && info == bad_col + 1 && st.ctl.abort == 0 && st.ctl.ticket == 0, what, info);

    std::vector<double> S = spd_matrix(N), Sref = S;
    LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', N, Sref.data(), N);
    info = 0;
    sim_chol_tiled(S.data(), N, N, 0, nullptr, linv.data(), st, &info);
    const double e = factor_err(S.data(), N, Sref, N);
    std::snprintf(what, sizeof what, "N=%d: the next launch on that state is exact, info %d, rel", N, info);
    sim_report(info == 0 && e < kTol, what, e);
}

/* Spin limit 0: any wait that finds its input unfinished times out. At least
 * one of up to 6 tries must report the timeout, and every launch after one
 * must be exact. */
static void test_timeout_then_recover(int N)
{
    char what[512];
    const std::vector<double> A = spd_matrix(N);
    std::vector<double> ref = A;
    LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', N, ref.data(), N);
    const int nt = (N + SB_RS_NB - 1) / SB_RS_NB;
    std::vector<double> linv((size_t)nt * SB_RS_NB * SB_RS_NB, 0.0);
    sim_tiled_state st(N);
    int timeouts = 0, exact = 0, tries = 0;
    for (; tries < 6 && timeouts == 0; ++tries) {
        std::vector<double> L = A;
        int info = 0;
        sim_chol_tiled(L.data(), N, N, 0, nullptr, linv.data(), st, &info, 0);
        timeouts += info == SB_INFO_CHAIN_TIMEOUT;
        L = A;
        info = 0;
        sim_chol_tiled(L.data(), N, N, 0, nullptr, linv.data(), st, &info);
        exact += info == 0 && factor_err(L.data(), N, ref, N) < kTol;
    }
    std::snprintf(what, sizeof what, "N=%d: a timed-out launch reports it (%d of %d tries)", N,
                  timeouts, tries);
    sim_report(timeouts > 0, what, timeouts);
    std::snprintf(what, sizeof what, "N=%d: every launch after a timed-out one is exact (%d of %d)", N,
                  exact, tries);
    sim_report(exact == tries, what, exact);
}

/* The primal rep's build and factor in one launch (sb_launch_chol_tiled_gram):
 * G = Xt·diag(w)·Xtᵀ + ridge·I computed by the launch's first tasks into the
 * bordered matrix whose row p holds rhs, then factored while the Gram is
 * still being written. Against CBLAS dsyrk of the √w-scaled X + LAPACKE
 * dpotrf / dtrtrs; twice on one state (a replay: the Gram's and the
 * factorization's counters must both come back to zero). The first launch
 * is traced (the factorization's tasks). */
static void test_gram(int p, int samples, int splits)
{
    char what[512];
    uint64_t s = 0x96a3f00dull ^ ((uint64_t)p << 20) ^ (uint64_t)samples;
    std::vector<double> Xt((size_t)p * samples), w(samples), Xs((size_t)p * samples);
    for (auto &x : Xt)
        x = sim_lcg_uniform(s);
    for (auto &x : w)
        x = 1e-3 + std::fabs(sim_lcg_uniform(s));
    for (int i = 0; i < samples; ++i)
        for (int r = 0; r < p; ++r)
            Xs[r + (size_t)i * p] = std::sqrt(w[i]) * Xt[r + (size_t)i * p];
    const double ridge = 0.5;
    std::vector<double> G((size_t)p * p, 0.0);
    cblas_dsyrk(CblasColMajor, CblasLower, CblasNoTrans, p, samples, 1.0, Xs.data(), p, 0.0, G.data(), p);
    for (int i = 0; i < p; ++i)
        G[i + (size_t)i * p] += ridge;
    std::vector<double> rhs(p), ref = G;
    for (int i = 0; i < p; ++i)
        rhs[i] = std::sin(0.1 * (i + 1));
    if (LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', p, ref.data(), p) != 0) {
        sim_report(false, "Gram test: LAPACKE reference factor");
        return;
    }
    std::vector<double> y_ref = rhs;
    LAPACKE_dtrtrs(LAPACK_COL_MAJOR, 'L', 'N', 'N', p, 1, ref.data(), p, y_ref.data(), p);

    const int n = p + 1, nt = (n + SB_RS_NB - 1) / SB_RS_NB;
    std::vector<double> linv((size_t)nt * SB_RS_NB * SB_RS_NB, 0.0), work;
    sim_tiled_state st(n);
    if (g_sim.order == SIM_FORWARD || g_sim.order == SIM_SHUFFLED_DELAYS)
        st.test_start_delay = 300000;
    for (int rep = 0; rep < 2; ++rep) {
        std::vector<double> B((size_t)n * n, -9.0); /* the Gram must write every lower entry */
        for (int c = 0; c < p; ++c)
            B[p + (size_t)c * n] = rhs[c];
        std::vector<double> y(p, 0.0);
        if (rep == 0)
            st.trace.assign((size_t)sb_tiled_ntasks(nt), sb_tiled_trace_rec{});
        int info = 0;
        sim_chol_tiled_gram(B.data(), n, Xt.data(), p, samples, w.data(), ridge, splits, work, y.data(),
                            linv.data(), st, &info);
        const double ef = factor_err(B.data(), n, ref, p);
        const double ey = vec_err(y, y_ref);
        std::snprintf(what, sizeof what,
                      "p=%d samples=%d splits=%d launch %d: Gram + bordered factor in one launch vs dsyrk + "
                      "dpotrf (info %d, rel %.2g), row p = L^-1 rhs, rel",
                      p, samples, splits, rep, info, ef);
        sim_report(info == 0 && ef < kTol && ey < kTol, what, ey);
        if (rep == 0) {
            sb_tiled_trace_summary sum;
            char why[300];
            const int bad = sb_tiled_trace_analyse(st.trace.data(), nt, &sum, why, sizeof why);
            std::snprintf(what, sizeof what, "p=%d: factorization trace with the Gram: %lld tasks once each%s%s",
                          p, sum.ntasks, bad ? ": " : "", why);
            sim_report(!bad, what);
            st.trace.clear();
        }
    }
    const bool zero = std::all_of(st.counts.begin(), st.counts.end(), [](unsigned v) { return v == 0; });
    bool gram_zero = true;
    if (!work.empty()) {
        using namespace sim_slot0;
        const int64_t kchunk = rs_gram_kchunk(samples, splits, RS_GRAM_KB);
        const int64_t nparts = rs_gram_partials(p, rs_gram_nchunks(samples, kchunk), RS_GRAM_T);
        const unsigned *gc = (const unsigned *)(work.data() + nparts);
        for (int64_t t = 0; t < rs_gram_ntiles(p, RS_GRAM_T); ++t)
            gram_zero = gram_zero && gc[t] == 0u;
    }
    std::snprintf(what, sizeof what, "p=%d splits=%d: after 2 launches the tile and Gram counters are zero, epoch %u",
                  p, splits, st.ctl.epoch);
    sim_report(zero && gram_zero && st.ctl.epoch == 2 && st.ctl.ticket == 0, what);
}

/* One launch order: `sizes` (reps launches each), and with `extras` the
 * not-SPD and timeout cases that order covers. */
static void run_order(int o, bool fibers, const std::vector<int> &sizes, int reps, bool extras)
{
    sim_set_order((sim_order)o, 0x711ed000ull + (uint64_t)o);
    g_sim.fibers = fibers;
    g_grid = (unsigned)g_sim.resident + 1;
    g_lcg = 0x7a11edc401e5ull; /* the same matrices in every order */
    const auto t0 = std::chrono::steady_clock::now();
    /* one-tile sizes only in the first order: with a single task the start
     * order changes nothing but which block takes it */
    for (int N : sizes)
        if (o == 0 || N > SB_RS_NB)
            test_size(N, reps);
    if (extras) {
        if (o == SIM_SHUFFLED || o == SIM_SHUFFLED_DELAYS) {
            test_not_spd(150, 100, 0);
            test_not_spd(70, 3, 1);
        }
        if (o == SIM_SHUFFLED_DELAYS)
            test_timeout_then_recover(130);
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("     [%s%s] %d blocks resident, grid %u: %.2f s\n", sim_order_name(g_sim.order),
                fibers ? ", fibers" : "", g_sim.resident, g_grid, s);
}

/* No arguments: N = 1 .. 200 with one OS thread per CUDA thread in the four
 * orders (with the not-SPD and timeout cases), then the resident-solve sizes
 * in fiber mode (sim_cuda.h): N = 2000 (31 full tiles and a 16-wide edge) in
 * the four orders, N = 4000 (62 tiles and a 32-wide edge) shuffled with
 * delays, and a 2000 matrix that fails at column 1500 (all blocks stop).
 * With sizes: those, forward, one launch each, in fiber mode unless
 * --threads (or fibers are not built: AddressSanitizer). */
int main(int argc, char **argv)
{
    bool threads = false;
    if (argc > 1 && std::string(argv[1]) == "--threads") {
        threads = true;
        --argc;
        ++argv;
    }
    const auto t_all = std::chrono::steady_clock::now();
    if (argc == 5 && std::string(argv[1]) == "--gram") { /* --gram p samples splits */
        sim_set_order(SIM_SHUFFLED, 0x711edf00ull);
        g_sim.fibers = !threads && sim_fibers_available();
        g_grid = (unsigned)g_sim.resident + 1;
        test_gram(std::atoi(argv[2]), std::atoi(argv[3]), std::atoi(argv[4]));
    } else if (argc > 1) {
        std::vector<int> sizes;
        for (int i = 1; i < argc; ++i)
            sizes.push_back(std::atoi(argv[i]));
        run_order(SIM_FORWARD, !threads && sim_fibers_available(), sizes, 1, false);
    } else {
        for (int o = 0; o < SIM_NORDERS; ++o)
            run_order(o, false, {1, 7, 63, 64, 65, 130, 200}, 2, true);
        if (sim_fibers_available()) {
            for (int o = 0; o < SIM_NORDERS; ++o) {
                run_order(o, true, {2000}, 1, false);
                g_sim.fibers = true;
                test_gram(130, 267, 3); /* 3 Gram tiles of 128, 3 chunks; 3 factor tiles */
                test_gram(300, 650, o == SIM_SHUFFLED ? 1 : 4);
            }
            sim_set_order(SIM_SHUFFLED, 0x711edf00ull);
            g_sim.fibers = true;
            g_grid = (unsigned)g_sim.resident + 1;
            test_gram(1024, 8000, 7); /* sae-8k-1024 itself, the H100 plan */
            run_order(SIM_SHUFFLED_DELAYS, true, {4000}, 1, false);
            test_not_spd(2000, 1500, 0);
        } else {
            std::printf("skip N = 2000, 4000: fiber mode is not built under AddressSanitizer\n");
        }
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_all).count();
    std::printf("sim_tiled: %d passed, %d failed (%.1f s)\n", g_pass, g_fail, s);
    return g_fail ? 1 : 0;
}
