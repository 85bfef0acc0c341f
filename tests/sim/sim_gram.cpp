/* Host simulation of the primal Gram kernel (cuda/rs_gram.cuh): lower(G) =
 * Xt·diag(w)·Xtᵀ + ridge·I on the FP64 tensor cores, split over the samples.
 *
 * The exact kernel source runs on the CPU through tests/sim/sim_cuda.h: one
 * OS thread per CUDA thread, __syncthreads() a real barrier, the blocks of a
 * grid concurrent, started forward, reversed, shuffled, and shuffled with
 * random sleeps, 2 to 4 resident at once; mma.m8n8k4 is emulated lane by
 * lane with the PTX fragment layout (sim_mma_f64_m8n8k4), so a kernel that
 * feeds the wrong elements fails here. Reference: CBLAS dsyrk of the
 * √w-scaled matrix (the path the kernel replaces) + ridge·I; each element
 * must agree within 1e-12 of Σ_i w_i |x_ri| |x_ci| (+ ridge on the diagonal),
 * which a cancelling sum cannot make meaningless.
 *
 * Two configurations of the one template: the device's (rs_gram_wsyrk: 128×128
 * tiles, 256 threads, 16-sample slabs) on the smaller shapes, and a small one
 * (32×32 tiles, 2×2 warps, 8-sample slabs, the same code) where the device
 * tiles would make a shape cost minutes: every emulated mma is a 32-thread
 * barrier.
 *
 * Covered: (n, p) = (1, 1), (7, 5), (64, 64), (65, 63) with the device
 * tiles and (130, 70), (300, 130) with the small ones in every order;
 * (300, 130) with the device tiles in three orders; (1000, 200) with the
 * small tiles in the shuffled order (every emulated mma is a 32-thread
 * barrier, ~50-100 us on two cores: ~30 s in all). Then sae-8k-1024 itself,
 * (8000, 1024) with the device tiles in the 7 chunks the H100 plan gives,
 * shuffled with delays, in fiber mode (a block's threads as fibers on its
 * OS thread, sim_cuda.h), where the blocks still run concurrently. One
 * chunk and several, a
 * last chunk ending inside a slab (and one of a single sample), p not a
 * multiple of the tile, G inside a larger matrix (ldg = p + 1, as the tiled
 * factor's bordered matrix) whose upper triangle and row p must stay
 * untouched. Determinism: every launch of a case matches its first one bit
 * for bit — a second launch on the same workspace (no host reset of the
 * counters, as a graph replay; forward order) and the launches of the other
 * start orders, where a different block of a tile comes last — and every
 * counter is back at zero after each launch. The launch plan: every count
 * it returns cuts n into exactly that many chunks, and sae-8k-1024 on 132
 * SMs gets the plan the kernel header's time estimate assumes.
 * Not exercised: the GPU's weaker memory model (x86 is TSO), real
 * warp-synchronous execution, and any timing.
 *
 *   make build/cuda/tests/sim_gram && build/cuda/tests/sim_gram */
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "sim_cuda.h"

#include "rs_mma.cuh"

/* The small configuration, instantiated in every residency slot so that its
 * __shared__ arrays are per slot like the device kernel's. */
#define SIM_GRAM_SMALL_KERNEL                                                                    \
    __global__ void rs_gram_wsyrk_small(const double *Xt, int p, int n, const double *w,        \
                                        double ridge, double *G, int64_t ldg, int nchunks,      \
                                        int kchunk, double *partials, unsigned *counts)         \
    {                                                                                            \
        __shared__ double smem[rs_gram_smem<32, 8>::DOUBLES];                                    \
        rs_gram_wsyrk_block<32, 2, 2, 8>(Xt, p, n, w, ridge, G, ldg, nchunks, kchunk, partials, \
                                         counts, (int)blockIdx.x, smem);                         \
    }
namespace sim_slot0 {
#include "rs_gram.cuh"
SIM_GRAM_SMALL_KERNEL
}
#undef SB_RS_GRAM_CUH
namespace sim_slot1 {
#include "rs_gram.cuh"
SIM_GRAM_SMALL_KERNEL
}
#undef SB_RS_GRAM_CUH
namespace sim_slot2 {
#include "rs_gram.cuh"
SIM_GRAM_SMALL_KERNEL
}
#undef SB_RS_GRAM_CUH
namespace sim_slot3 {
#include "rs_gram.cuh"
SIM_GRAM_SMALL_KERNEL
}

using sim_slot0::RS_GRAM_KB;
using sim_slot0::RS_GRAM_T;
using sim_slot0::RS_GRAM_THREADS;


static uint64_t g_lcg;
static double uniform() { return sim_lcg_uniform(g_lcg); }

/* The workspace as the backend keeps it: allocated and zeroed once. */
struct sim_gram_work {
    std::vector<double> partials;
    std::vector<unsigned> counts;
};

/* Mirrors sb_launch_gram_wsyrk for the tile configuration (T, KB). */
static void sim_gram(bool small, const double *Xt, int p, int n, const double *w, double ridge,
                     double *G, int64_t ldg, int splits, sim_gram_work &work)
{
    const int T = small ? 32 : RS_GRAM_T, KB = small ? 8 : RS_GRAM_KB;
    const int64_t kchunk = sim_slot0::rs_gram_kchunk(n, splits, KB);
    const int nchunks = sim_slot0::rs_gram_nchunks(n, kchunk);
    const int64_t ntiles = sim_slot0::rs_gram_ntiles(p, T);
    if (nchunks > 1 && work.counts.empty()) {
        work.partials.assign((size_t)sim_slot0::rs_gram_partials(p, nchunks, T), 0.0);
        work.counts.assign((size_t)ntiles, 0u);
    }
    double *parts = nchunks > 1 ? work.partials.data() : nullptr;
    unsigned *counts = nchunks > 1 ? work.counts.data() : nullptr;
    const unsigned grid = (unsigned)(ntiles * nchunks);
    if (small)
        sim_launch(SIM_KERNEL(rs_gram_wsyrk_small), grid, 32 * 2 * 2, Xt, p, n, w, ridge, G, ldg,
                   nchunks, (int)kchunk, parts, counts);
    else
        sim_launch(SIM_KERNEL(rs_gram_wsyrk), grid, (unsigned)RS_GRAM_THREADS, Xt, p, n, w, ridge,
                   G, ldg, nchunks, (int)kchunk, parts, counts);
}

struct gram_case {
    int n, p;
    bool small;
    int splits;
    unsigned orders; /* bit o: run in sim_order o */
};

static const double kTol = 1e-12;
static const double kSentinel = -12345.0;
/* The first launch of each case (any order): what every later one must equal. */
static std::map<std::string, std::vector<double>> g_first;

static void test_case(const gram_case &gc)
{
    const int n = gc.n, p = gc.p;
    const int T = gc.small ? 32 : RS_GRAM_T, KB = gc.small ? 8 : RS_GRAM_KB;
    const int64_t kchunk = sim_slot0::rs_gram_kchunk(n, gc.splits, KB);
    const int nchunks = sim_slot0::rs_gram_nchunks(n, kchunk);
    char name[160];
    std::snprintf(name, sizeof name, "n=%d p=%d %s tiles, %d chunk%s of %lld", n, p,
                  gc.small ? "32x32" : "128x128", nchunks, nchunks > 1 ? "s" : "",
                  (long long)kchunk);
    (void)T;

    g_lcg = 0x9a3e11c0ffeeull ^ ((uint64_t)n << 20) ^ (uint64_t)p;
    std::vector<double> Xt((size_t)p * n), w(n);
    for (auto &x : Xt)
        x = uniform();
    for (auto &x : w)
        x = 1e-3 + std::fabs(uniform());
    const double ridge = 0.75;

    /* reference: dsyrk of Xs = Xt·diag(√w), and of |Xs| for the error scale */
    std::vector<double> Xs((size_t)p * n), Xa((size_t)p * n);
    for (int i = 0; i < n; ++i)
        for (int r = 0; r < p; ++r) {
            Xs[r + (size_t)i * p] = std::sqrt(w[i]) * Xt[r + (size_t)i * p];
            Xa[r + (size_t)i * p] = std::fabs(Xs[r + (size_t)i * p]);
        }
    std::vector<double> ref((size_t)p * p, 0.0), scale((size_t)p * p, 0.0);
    cblas_dsyrk(CblasColMajor, CblasLower, CblasNoTrans, p, n, 1.0, Xs.data(), p, 0.0, ref.data(), p);
    cblas_dsyrk(CblasColMajor, CblasLower, CblasNoTrans, p, n, 1.0, Xa.data(), p, 0.0, scale.data(), p);
    for (int i = 0; i < p; ++i) {
        ref[i + (size_t)i * p] += ridge;
        scale[i + (size_t)i * p] += ridge;
    }

    const int64_t ldg = p + 1;
    sim_gram_work work;
    /* the forward order also relaunches each case on the same workspace (a
     * replay); every launch is compared with the case's first one */
    const int reps = g_sim.order == SIM_FORWARD ? 2 : 1;
    for (int rep = 0; rep < reps; ++rep) {
        std::vector<double> G((size_t)ldg * ldg, kSentinel);
        const auto t0 = std::chrono::steady_clock::now();
        sim_gram(gc.small, Xt.data(), p, n, w.data(), ridge, G.data(), ldg, gc.splits, work);
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

        double worst = 0.0;
        bool untouched = true;
        for (int c = 0; c <= p; ++c)
            for (int r = 0; r <= p; ++r) {
                const double v = G[r + (size_t)c * ldg];
                if (r < c || r == p || c == p) {
                    untouched = untouched && v == kSentinel;
                    continue;
                }
                const double e = std::fabs(v - ref[r + (size_t)c * p]) / scale[r + (size_t)c * p];
                worst = std::isnan(e) ? INFINITY : std::max(worst, e);
            }
        const bool zeroed = std::all_of(work.counts.begin(), work.counts.end(),
                                        [](unsigned v) { return v == 0u; });
        char what[300];
        std::snprintf(what, sizeof what,
                      "%s, launch %d (%.2f s): vs dsyrk(sqrt(w) X) + ridge I, err/(sum w|x||x|) %.2g; "
                      "upper and row p untouched %s; counters reset %s",
                      name, rep, secs, worst, untouched ? "yes" : "NO", zeroed ? "yes" : "NO");
        sim_report(worst < kTol && untouched && zeroed, what);

        auto first = g_first.find(name);
        if (first == g_first.end()) {
            g_first[name] = G;
        } else {
            const bool same = first->second.size() == G.size() &&
                              std::memcmp(first->second.data(), G.data(), G.size() * sizeof(double)) == 0;
            std::snprintf(what, sizeof what, "%s, launch %d: bit-identical to the first launch", name,
                          rep);
            sim_report(same, what);
        }
    }
}

/* The plan: each count cuts n into exactly that many chunks, within the
 * workspace's bound; sae-8k-1024 on an H100 gets the header's 7 chunks. */
static void test_plan()
{
    bool exact = true;
    const int64_t ps[] = {1, 5, 130, 1024, 2048, 4096};
    const int64_t ns[] = {1, 7, 16, 17, 1000, 8000, 100000};
    const int sms[] = {1, 108, 132};
    for (int64_t p : ps)
        for (int64_t n : ns)
            for (int s : sms) {
                const int k = sim_slot0::rs_gram_splits(p, n, s);
                const int64_t kc = sim_slot0::rs_gram_kchunk(n, k, RS_GRAM_KB);
                exact = exact && k >= 1 && k <= 64 && kc % RS_GRAM_KB == 0 &&
                        sim_slot0::rs_gram_nchunks(n, kc) == k && (k - 1) * kc < n && k * kc >= n;
            }
    sim_report(exact, "launch plan: every chosen count cuts n into exactly that many chunks");
    const int k = sim_slot0::rs_gram_splits(1024, 8000, 132);
    const int64_t kc = sim_slot0::rs_gram_kchunk(8000, k, RS_GRAM_KB);
    char what[160];
    std::snprintf(what, sizeof what, "launch plan: n=8000 p=1024 on 132 SMs: %d chunks of %lld (header: 7 of 1152)",
                  k, (long long)kc);
    sim_report(k == 7 && kc == 1152, what);
}

int main()
{
    /* the larger shapes run in some orders only, the largest in one */
    const unsigned all = 0xfu, no_shuffled = all & ~(1u << SIM_SHUFFLED);
    const gram_case cases[] = {
        {1, 1, false, 1, all},           {7, 5, false, 1, all},
        {64, 64, false, 3, all},         {65, 63, false, 5, all},
        {300, 130, false, 4, no_shuffled}, {130, 70, true, 1, all},
        {300, 130, true, 3, all},        {1000, 200, true, 6, 1u << SIM_SHUFFLED},
    };
    const auto t_all = std::chrono::steady_clock::now();
    test_plan();
    for (int o = 0; o < SIM_NORDERS; ++o) {
        sim_set_order((sim_order)o, 0x96a70000ull + (uint64_t)o);
        const auto t0 = std::chrono::steady_clock::now();
        for (const gram_case &gc : cases)
            if (gc.orders & (1u << o))
                test_case(gc);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::printf("     [%s] %d blocks resident: %.2f s\n", sim_order_name(g_sim.order),
                    g_sim.resident, s);
    }
    /* sae-8k-1024 itself, with the device tiles and the H100 plan (7 chunks),
     * in fiber mode (sim_cuda.h): the blocks concurrent OS threads, each
     * block's threads fibers switched at every barrier */
    if (sim_fibers_available()) {
        sim_set_order(SIM_SHUFFLED_DELAYS, 0x96a7f1beull);
        g_sim.fibers = true;
        const auto t0 = std::chrono::steady_clock::now();
        test_case({8000, 1024, false, 7, 0u});
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::printf("     [%s, fibers] %d blocks resident: %.2f s\n", sim_order_name(g_sim.order),
                    g_sim.resident, s);
        g_sim.fibers = false;
    } else {
        std::printf("skip n = 8000, p = 1024: fiber mode is not built under AddressSanitizer\n");
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_all).count();
    std::printf("sim_gram: %d passed, %d failed (%.1f s)\n", g_pass, g_fail, s);
    return g_fail ? 1 : 0;
}
