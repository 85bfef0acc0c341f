/* Host simulation of the CUDA resident-solve kernels (cuda/rs_kernels.cuh).
 *
 * Runs the exact kernel source on the CPU through tests/sim/sim_cuda.h: every
 * CUDA thread is an OS thread, __syncthreads() a real barrier, and the blocks
 * of a grid run concurrently, started forward, reversed, shuffled, and
 * shuffled with random sleeps (before each block, at barriers, inside spin
 * waits), with 2 to 4 blocks resident at once (a block waits for a free slot
 * as on a full GPU). The elementwise kernels and every multi-block chained
 * solve run in all four orders; one-block grids (rs_chol_diag, solves with
 * N <= 64) only in the first, since the start order cannot change them.
 *
 * What that exercises: the chained triangular solves' cross-block hand-offs
 * (tickets taken in start order, blocks spinning on flags published by other
 * blocks still running, the fence/flag/__ldcg protocol, and the device
 * chain state (tickets, epoch, abort) carried from launch to launch with no
 * host write in between, as a replayed CUDA graph runs them, with the
 * test-only start delay, and a timed-out launch followed by exact ones) and, through
 * SIM_KERNEL's per-slot copies of the kernels, per-block shared memory that a
 * later block inherits dirty. The count of spin iterations shows that blocks
 * really waited on each other (a kernel that skipped its waits passes a
 * blocks-in-order simulation but fails here). Results are compared with
 * LAPACKE; built with -fsanitize=thread it also reports races (the flag
 * words' volatile polling is suppressed, see __tsan_default_suppressions).
 * Not exercised: the GPU's weaker memory model (x86 is TSO; the volatile
 * flag read in rs_load_volatile is a plain load here, ordered by the seq_cst
 * fence RMW that follows it in rs_spin_until) and warp-synchronous
 * execution.
 *
 *   g++ -std=c++20 -O1 -g -pthread -fsanitize=thread -Wall -Wextra -Wno-unknown-pragmas \
 *       -Icuda -Itests/gpu tests/sim/sim_kernels.cpp -o /tmp/sim_kernels -llapacke -llapack -lblas && /tmp/sim_kernels
 */
#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include <lapacke.h>

#include "sim_cuda.h"

/* One copy of the kernels per residency slot: their __shared__ statics are
 * the shared memory of the block holding that slot (see sim_cuda.h). */
#include "rs_params.h"
namespace sim_slot0 {
#include "rs_kernels.cuh"
}
#undef SB_RS_KERNELS_CUH
namespace sim_slot1 {
#include "rs_kernels.cuh"
}
#undef SB_RS_KERNELS_CUH
namespace sim_slot2 {
#include "rs_kernels.cuh"
}
#undef SB_RS_KERNELS_CUH
namespace sim_slot3 {
#include "rs_kernels.cuh"
}

/* Under -fsanitize=thread: the chained solves' flag words are written with
 * atomicExch (an atomic here) but polled with the plain volatile load of
 * rs_load_volatile, which C++ calls a data race. On the device that load is
 * PTX ld.volatile (a relaxed load, re-read every iteration) and the
 * __threadfence() after the loop orders what follows; here x86 loads are
 * acquire and the fence shim is a locked RMW. So reports whose stack is in
 * the wait or the publish (they touch only the flag and abort words) are
 * suppressed; any other race is still reported. */
extern "C" const char *__tsan_default_suppressions()
{
    return "race:rs_spin_until\nrace:rs_chain_publish\n";
}

/* ------------------- reference BLAS with cuBLAS semantics ------------------- */
/* cublasDtrsm(RIGHT, LOWER, OP_T, NON_UNIT): B (m×n) <- B · L⁻ᵀ, L n×n lower */
static void ref_trsm_rlt(int m, int n, const double *L, int64_t ldl, double *B, int64_t ldb)
{
    for (int i = 0; i < m; ++i)
        for (int c = 0; c < n; ++c) {
            double s = B[i + c * ldb];
            for (int t = 0; t < c; ++t)
                s -= B[i + t * ldb] * L[c + t * ldl];
            B[i + c * ldb] = s / L[c + c * ldl];
        }
}
/* cublasDsyrk(LOWER, OP_N): lower(C) <- alpha A·Aᵀ + beta C, A n×k */
static void ref_syrk_ln(int n, int k, double alpha, const double *A, int64_t lda, double beta,
                        double *C, int64_t ldc)
{
    for (int c = 0; c < n; ++c)
        for (int r = c; r < n; ++r) {
            double s = 0.0;
            for (int t = 0; t < k; ++t)
                s += A[r + t * lda] * A[c + t * lda];
            C[r + c * ldc] = alpha * s + beta * C[r + c * ldc];
        }
}

/* The blocked factorization exactly as cuda/rs_backend.cu drives it
 * (rs_blocked_factor). */
static void sim_blocked_potrf(double *A, int N, int *info)
{
    for (int j = 0; j < N; j += SB_RS_NB) {
        const int jb = std::min(SB_RS_NB, N - j);
        const int rest = N - j - jb;
        double *Ajj = A + j + (int64_t)j * N;
        sim_launch(SIM_KERNEL(rs_chol_diag), 1, SB_CHOL_THREADS, Ajj, (int64_t)N, jb, j, info);
        if (rest > 0) {
            double *Aij = A + (j + jb) + (int64_t)j * N;
            double *Ar = A + (j + jb) + (int64_t)(j + jb) * N;
            ref_trsm_rlt(rest, jb, Ajj, N, Aij, N);
            ref_syrk_ln(rest, jb, -1.0, Aij, N, 1.0, Ar, N);
        }
    }
}

/* The device state of sb_chain (rs_kernels.h), zeroed once like
 * sb_chain_alloc. After construction the host never writes it again. */
struct sim_chain {
    std::vector<unsigned> flags;
    sb_chain_ctl ctl{};
    std::vector<double> linv;
    long long test_start_delay = 0;
    explicit sim_chain(int nmax)
        : flags((size_t)(nmax + SB_RS_NB - 1) / SB_RS_NB, 0u),
          linv((size_t)(nmax + SB_RS_NB - 1) / SB_RS_NB * SB_RS_NB * SB_RS_NB, 0.0)
    {
    }
};

/* Mirrors sb_launch_chol_solve_chained: the same two launches with the same
 * arguments every time (no host-side bookkeeping between launches, as when a
 * captured CUDA graph is replayed). spin_limit: SB_CHAIN_SPIN_CYCLES in the
 * tool; a test passes 0 to force timeouts. */
static void sim_chol_solve_chained(const double *L, int N, double *b, sim_chain &ch, int *info,
                                   long long spin_limit = SB_CHAIN_SPIN_CYCLES)
{
    const int nblk = (N + SB_RS_NB - 1) / SB_RS_NB;
    sb_chain_sync cs;
    cs.flags = ch.flags.data();
    cs.ctl = &ch.ctl;
    cs.spin_limit = spin_limit;
    cs.test_start_delay = ch.test_start_delay;
    sim_launch(SIM_KERNEL(rs_trsv_lower_fwd), (unsigned)nblk, SB_TRSV_THREADS, L, (int64_t)N, N, b,
               ch.linv.data(), cs, info);
    sim_launch(SIM_KERNEL(rs_trsv_lower_bwd), (unsigned)nblk, SB_TRSV_THREADS, L, (int64_t)N, N, b,
               (const double *)ch.linv.data(), cs, info);
}

/* ------------------------------- tests ------------------------------- */
static long long g_spins; /* spin iterations of chained waits, this launch order */

static uint64_t g_lcg = 0x1412a100deadbeefull;
static double lcg_u() { return sim_lcg_uniform(g_lcg); }

static double max_abs(const std::vector<double> &v)
{
    double m = 0.0;
    for (double x : v)
        m = std::max(m, std::fabs(x));
    return m;
}

static std::vector<double> spd_matrix(int N) { return sim_spd_matrix(N, 7, 1e-3, g_lcg); }

/* rs_chol_diag is launched as a one-block grid, so the launch order cannot
 * change how it runs: the blocked factorization is checked in the first
 * order and its factor reused by the chained solves of the later orders
 * (whose multi-block grids are what the orders are about). */
struct factor_case {
    std::vector<double> L, ref;
};
static std::map<int, factor_case> g_factors;

static void test_factor_and_solve(int N)
{
    char what[160];
    auto cached = g_factors.find(N);
    if (cached == g_factors.end()) {
        std::vector<double> A = spd_matrix(N);
        std::vector<double> ref = A;
        int rinfo = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', N, ref.data(), N);
        if (rinfo != 0) {
            std::snprintf(what, sizeof what, "N=%d: LAPACKE reference factor", N);
            sim_report(false, what, rinfo);
            return;
        }
        std::vector<double> L = A;
        int info = 0;
        sim_blocked_potrf(L.data(), N, &info);
        std::snprintf(what, sizeof what, "N=%d: blocked factor info", N);
        sim_report(info == 0, what, info);
        double dmax = 0.0, lmax = 0.0;
        for (int c = 0; c < N; ++c)
            for (int r = c; r < N; ++r) {
                dmax = std::max(dmax, std::fabs(L[r + (size_t)c * N] - ref[r + (size_t)c * N]));
                lmax = std::max(lmax, std::fabs(ref[r + (size_t)c * N]));
            }
        std::snprintf(what, sizeof what, "N=%d: blocked factor vs LAPACKE dpotrf, rel", N);
        sim_report(dmax / lmax < 1e-12, what, dmax / lmax);
        cached = g_factors.emplace(N, factor_case{L, ref}).first;
    }
    const std::vector<double> &L = cached->second.L, &ref = cached->second.ref;

    /* three solves back to back on one chain state that the host never
     * touches after creating it (as a replayed graph would run them); in the
     * forward and delayed orders low block indices also spin before taking
     * their tickets (the test-only start delay) */
    sim_chain chain(N + 70);
    if (g_sim.order == SIM_FORWARD || g_sim.order == SIM_SHUFFLED_DELAYS)
        chain.test_start_delay = 300000; /* ns in the simulation's clock64 */
    for (int rep = 0; rep < 3; ++rep) {
        std::vector<double> rhs(N), x(N);
        for (int j = 0; j < N; ++j)
            rhs[j] = std::cos((j + 1) * 0.03 * (rep + 1));
        x = rhs;
        std::vector<double> xr = rhs;
        LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'L', N, 1, ref.data(), N, xr.data(), N);
        int sinfo = 0;
        const long long reads0 = g_sim_clock_reads.load();
        sim_chol_solve_chained(L.data(), N, x.data(), chain, &sinfo);
        /* clock64 is read once per wait, then once per spin; each launch
         * waits nblk(nblk-1)/2 times (not counted with the start delay,
         * whose own loop reads the clock) */
        const long long nblk = (N + SB_RS_NB - 1) / SB_RS_NB;
        if (chain.test_start_delay == 0)
            g_spins += g_sim_clock_reads.load() - reads0 - nblk * (nblk - 1);
        double e = 0.0;
        for (int j = 0; j < N; ++j)
            e = std::max(e, std::fabs(x[j] - xr[j]));
        e /= max_abs(xr);
        std::snprintf(what, sizeof what, "N=%d solve %d: chained solve vs LAPACKE dpotrs, rel", N,
                      rep);
        sim_report(e < 1e-10 && sinfo == 0, what, e);
    }
    const unsigned launches = 2 * 3;
    std::snprintf(what, sizeof what, "N=%d: device state after %u launches: epoch %u, ticket/done/abort 0",
                  N, launches, chain.ctl.epoch);
    sim_report(chain.ctl.epoch == launches && chain.ctl.ticket == 0 && chain.ctl.done == 0 &&
               chain.ctl.abort == 0,
           what, chain.ctl.epoch);
}

/* A solve whose waits time out (spin limit 0: any wait that finds its flag
 * unset gives up) reports SB_INFO_CHAIN_TIMEOUT; the next solve on the same
 * state, with no host write in between, must be exact again (abort and the
 * tickets were reset on the device). A timeout needs a block that found its
 * predecessor unfinished, which the start order makes likely, not certain:
 * up to 8 tries, each followed by a normal solve, and at least one must
 * time out. */
static void test_timeout_then_recover(int N)
{
    auto cached = g_factors.find(N);
    if (cached == g_factors.end())
        return;
    const std::vector<double> &L = cached->second.L, &ref = cached->second.ref;
    sim_chain chain(N);
    std::vector<double> rhs(N), xr(N);
    for (int j = 0; j < N; ++j)
        rhs[j] = std::sin((j + 1) * 0.07);
    xr = rhs;
    LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'L', N, 1, ref.data(), N, xr.data(), N);
    int timeouts = 0, recovered = 0, tries = 0;
    for (; tries < 8 && timeouts == 0; ++tries) {
        std::vector<double> x = rhs;
        int info = 0;
        sim_chol_solve_chained(L.data(), N, x.data(), chain, &info, 0);
        timeouts += info == SB_INFO_CHAIN_TIMEOUT;
        x = rhs;
        info = 0;
        sim_chol_solve_chained(L.data(), N, x.data(), chain, &info);
        double e = 0.0;
        for (int j = 0; j < N; ++j)
            e = std::max(e, std::fabs(x[j] - xr[j]));
        recovered += info == 0 && e / max_abs(xr) < 1e-10;
    }
    char what[160];
    std::snprintf(what, sizeof what, "N=%d: a timed-out solve (%d of %d tries) reports the timeout",
                  N, timeouts, tries);
    sim_report(timeouts > 0, what, timeouts);
    std::snprintf(what, sizeof what, "N=%d: every solve after a timed-out one is exact (%d of %d)",
                  N, recovered, tries);
    sim_report(recovered == tries, what, recovered);
}

static void test_not_spd(int N, int bad_col)
{
    std::vector<double> A = sim_not_spd_matrix(N, bad_col);
    int rinfo = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', N, std::vector<double>(A).data(), N);
    int info = 0;
    sim_blocked_potrf(A.data(), N, &info);
    char what[160];
    std::snprintf(what, sizeof what, "N=%d: non-SPD at column %d gives info=%d like LAPACK (%d)", N,
                  bad_col, info, rinfo);
    sim_report(info == rinfo && info == bad_col + 1, what, info);
}

static void test_elementwise()
{
    const int64_t n = 37, p = 70;
    std::vector<double> Xt((size_t)(n * p)), Xs((size_t)(n * p)), w((size_t)n);
    for (auto &x : Xt)
        x = lcg_u();
    for (auto &x : w)
        x = std::fabs(lcg_u()) + 0.1;
    sim_launch(SIM_KERNEL(rs_scale_cols_sqrtw), 5, 32, (const double *)Xt.data(), p, n,
               (const double *)w.data(), Xs.data());
    double e = 0.0;
    for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < p; ++j)
            e = std::max(e, std::fabs(Xs[i * p + j] - std::sqrt(w[i]) * Xt[i * p + j]));
    sim_report(e == 0.0, "scale_cols_sqrtw", e);

    std::vector<double> K((size_t)(n * n)), M((size_t)(n * n), 7.0);
    for (auto &x : K)
        x = lcg_u();
    sim_launch(SIM_KERNEL(rs_dual_shift), 3, 32, (const double *)K.data(), n, (const double *)w.data(), 0.25,
               M.data(), n, (const double *)nullptr);
    e = 0.0;
    for (int64_t c = 0; c < n; ++c)
        for (int64_t r = 0; r < n; ++r) {
            const double want = r >= c ? K[r + c * n] + (r == c ? 0.25 / w[c] : 0.0) : 7.0;
            e = std::max(e, std::fabs(M[r + c * n] - want));
        }
    sim_report(e == 0.0, "dual_shift (lower only, upper untouched)", e);

    /* bordered (the tiled factor's layout, ldm = n + 1): v becomes row n */
    std::vector<double> v((size_t)n), Mb((size_t)((n + 1) * (n + 1)), 7.0);
    for (auto &x : v)
        x = lcg_u();
    sim_launch(SIM_KERNEL(rs_dual_shift), 3, 32, (const double *)K.data(), n, (const double *)w.data(), 0.25,
               Mb.data(), n + 1, (const double *)v.data());
    e = 0.0;
    for (int64_t c = 0; c <= n; ++c)
        for (int64_t r = 0; r <= n; ++r) {
            const double want = c == n ? 7.0
                                : r == n ? v[c]
                                : r >= c ? K[r + c * n] + (r == c ? 0.25 / w[c] : 0.0)
                                         : 7.0;
            e = std::max(e, std::fabs(Mb[r + c * (n + 1)] - want));
        }
    sim_report(e == 0.0, "dual_shift bordered (row n = v, column n and upper untouched)", e);

    std::vector<double> D((size_t)(n * n), 1.0);
    sim_launch(SIM_KERNEL(rs_add_diag), 1, 32, D.data(), n, n, 0.5);
    e = 0.0;
    for (int64_t c = 0; c < n; ++c)
        for (int64_t r = 0; r < n; ++r)
            e = std::max(e, std::fabs(D[r + c * n] - (r == c ? 1.5 : 1.0)));
    sim_report(e == 0.0, "add_diag", e);

    std::vector<double> F(1000, 0.0);
    sim_launch(SIM_KERNEL(rs_fill_pseudorandom), 2, 64, F.data(), (int64_t)F.size(), (uint64_t)42);
    bool nonzero = true, in_range = true;
    for (double x : F) {
        nonzero = nonzero && x != 0.0;
        in_range = in_range && x >= -1.0 && x < 1.0;
    }
    sim_report(nonzero && in_range, "fill_pseudorandom: nonzero, in [-1, 1)", F[0]);

    /* rs_info_commit: three reps' statuses (0, 7, 0) land in slots 0..2, the
     * scratch word is cleared each time, a fourth rep past nslots writes
     * nothing but still advances the counter */
    std::vector<int> slots(4, -5);
    int scratch = 0;
    unsigned next = 0;
    const int statuses[4] = {0, 7, 0, 9};
    for (int rep = 0; rep < 4; ++rep) {
        scratch = statuses[rep];
        sim_launch(SIM_KERNEL(rs_info_commit), 1, 32, slots.data(), 3, &scratch, &next);
    }
    sim_report(slots[0] == 0 && slots[1] == 7 && slots[2] == 0 && slots[3] == -5 && scratch == 0 && next == 4,
           "info_commit: per-rep slots from one scratch word, bounded by nslots", (double)next);
}

int main(int argc, char **argv)
{
    /* the largest sizes make many OS threads; keep the default run short */
    std::vector<int> sizes = {1, 5, 32, 63, 64, 65, 130, 200};
    if (argc > 1) {
        sizes.clear();
        for (int i = 1; i < argc; ++i)
            sizes.push_back(std::atoi(argv[i]));
    }
    long long spins_total = 0;
    for (int o = 0; o < SIM_NORDERS; ++o) {
        sim_set_order((sim_order)o, 0x5eed0000ull + (uint64_t)o);
        g_lcg = 0x1412a100deadbeefull; /* the same matrices in every order */
        g_spins = 0;
        const auto t0 = std::chrono::steady_clock::now();
        test_elementwise();
        /* after the first order only the multi-block grids: a one-block
         * solve runs the same in every order */
        for (int N : sizes)
            if (o == 0 || N > SB_RS_NB)
                test_factor_and_solve(N);
        if (o == 0) { /* one-block grids: see test_factor_and_solve */
            test_not_spd(10, 3);
            test_not_spd(150, 100);
        }
        if (o == SIM_SHUFFLED_DELAYS && g_factors.count(200))
            test_timeout_then_recover(200);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::printf("     [%s] %d blocks resident: chained waits spun %lld times, %.2f s\n",
                    sim_order_name(g_sim.order), g_sim.resident, g_spins, s);
        spins_total += g_spins;
    }
    /* with several row blocks resident at once some block must have found its
     * predecessor's flag unset: otherwise the hand-off path never ran */
    const bool multi_block = std::any_of(sizes.begin(), sizes.end(), [](int N) { return N > SB_RS_NB; });
    if (multi_block)
        sim_report(spins_total > 0, "chained solves: some block spun on another's flag", (double)spins_total);
    std::printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
