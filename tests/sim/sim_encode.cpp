/* Host simulation of the CUDA encode kernels (cuda/encode_kernels.cuh).
 *
 * Runs the exact kernel source on the CPU through tests/sim/sim_cuda.h: every
 * CUDA thread is an OS thread, warp shuffles go through real barriers, and
 * the blocks of a grid run concurrently, started forward, reversed, shuffled,
 * and shuffled with random sleeps, 2 to 4 blocks resident at once. The encode
 * pipeline is driven exactly as cuda/encode_backend.cu drives it: rows
 * grouped by atom on the host (sb_encode_group_rows), encode_gather_sqnorm,
 * one DGEMM per atom with rows (the cuBLAS call replaced by the CBLAS call
 * with the same column-major arguments), encode_rows.
 *
 * On tiny generated problems (src/encode_setup.c: euclidean d = 1..4 and
 * periodic, the three gates, with and without noise, a batch already
 * grouped by atom) every run is checked against
 *   - the gather: each grouped row is the original row, bit for bit, and
 *     xx[r] is sb_enc_sqnorm_warp_order of it, bit for bit (the order the
 *     host fast path uses);
 *   - the host fast path (sb_host_encode, src/host/host_encode.c: the same
 *     per-row routine src/hostdev/encode_row.cuh): t, h, recon_err, chart and steps
 *     bit for bit. For that the host makes the device's DGEMMs (one per
 *     atom: sb_host_encode_chunk_rows large) and both run OpenBLAS on one
 *     thread, so Y has the same bits on both sides;
 *   - the CPU reference (sb_encode_reference, src/oracle/oracle_encode.c, its
 *     own p-space math): the same certified rows, coordinates within 1e-9
 *     (on the circle for the periodic basis), via sb_encode_metrics;
 *   - itself: every order and launch configuration gives the same bits.
 * Launch configurations: the production one (SB_ENCODE_THREADS per block,
 * sb_encode_grid) and small ones (one warp per block, or 1 and 3 threads per
 * block for the row kernel, grids of 2 to 5 blocks) so the grid-stride loops
 * wrap. The first mismatch is printed; the exit status is nonzero on any
 * failure.
 *
 *   g++ -std=c++20 -O1 -g -pthread -fsanitize=thread -Wall -Wextra -Icuda -Isrc -Itests/gpu \
 *       tests/sim/sim_encode.cpp build/host/libsaebench.a -o /tmp/sim_encode \
 *       -fopenmp -llapacke -lopenblas -lcjson -lm && /tmp/sim_encode
 */
#include <cblas.h>

#include <cinttypes>
#include <cstring>
#include <string>

#include "sim_cuda.h"

extern "C" {
#include "encode.h"
#include "encode_ops.h"
#include "host/host_encode.h"
}

/* The per-row routine has no shared memory: one global copy. The kernels,
 * one copy per residency slot (see sim_cuda.h). */
#include "hostdev/encode_row.cuh"
namespace sim_slot0 {
#include "encode_kernels.cuh"
}
#undef SB_ENCODE_KERNELS_CUH
namespace sim_slot1 {
#include "encode_kernels.cuh"
}
#undef SB_ENCODE_KERNELS_CUH
namespace sim_slot2 {
#include "encode_kernels.cuh"
}
#undef SB_ENCODE_KERNELS_CUH
namespace sim_slot3 {
#include "encode_kernels.cuh"
}

/* ------------------------------- checks ------------------------------- */
static std::string g_ctx;

static void report(bool ok, const std::string &what)
{
    std::printf("%s %s: %s\n", ok ? "ok  " : "FAIL", g_ctx.c_str(), what.c_str());
    (ok ? g_pass : g_fail)++;
}

template <typename T> static bool same_bits(const T *a, const T *b, size_t count, const char *name)
{
    if (std::memcmp(a, b, count * sizeof(T)) == 0)
        return true;
    size_t k = 0;
    while (std::memcmp(a + k, b + k, sizeof(T)) == 0)
        ++k;
    report(false, std::string(name) + ": first difference at index " + std::to_string(k) + ": " +
                      std::to_string((double)a[k]) + " vs " + std::to_string((double)b[k]));
    return false;
}

/* ------------------------------ the pipeline ------------------------------ */
struct launch_cfg {
    const char *name;
    unsigned gather_block, gather_grid; /* 0: production */
    unsigned rows_block, rows_grid;
};
static const launch_cfg kConfigs[] = {
    {"production launch", 0, 0, 0, 0},
    {"1 warp/block x 2 blocks, rows 3 threads x 5 blocks", 32, 2, 3, 5},
    {"1 warp/block x 3 blocks, rows 1 thread x 4 blocks", 32, 3, 1, 4},
    {"2 warps/block x 2 blocks, rows 32 threads x 2 blocks", 64, 2, 32, 2},
};

struct sim_result {
    std::vector<double> Xg, xx, t, h, err;
    std::vector<int32_t> chart, steps;
    int identity = 0;
    std::vector<int32_t> perm;
};

/* encode() of cuda/encode_backend.cu, kernels simulated, cuBLAS as CBLAS. */
static sim_result run_pipeline(const sb_encode_problem &pr, const sb_encode_atlas &at, const launch_cfg &cfg)
{
    const int64_t n = pr.n, p = pr.p, m = pr.m, d = pr.d, K = pr.K;
    sim_result o;
    o.perm.resize((size_t)n);
    std::vector<int64_t> offset((size_t)K + 1);
    sb_err e = {{0}};
    if (sb_encode_group_rows(&pr, K, o.perm.data(), offset.data(), &o.identity, &e) != SB_OK) {
        report(false, std::string("sb_encode_group_rows: ") + e.msg);
        return o;
    }
    o.Xg.assign(o.identity ? 0 : (size_t)(n * p), 0.0);
    o.xx.assign((size_t)n, 0.0);
    const unsigned gb = cfg.gather_block ? cfg.gather_block : SB_ENCODE_THREADS;
    const unsigned gg = cfg.gather_grid ? cfg.gather_grid : sim_slot0::sb_encode_grid(n, 32);
    sim_launch(SIM_KERNEL(encode_gather_sqnorm), gg, gb, (const double *)pr.X, (const int32_t *)o.perm.data(), n, p,
               o.identity ? (double *)nullptr : o.Xg.data(), o.xx.data());

    std::vector<double> Y((size_t)(n * m), 0.0);
    const double *Xsrc = o.identity ? pr.X : o.Xg.data();
    for (int64_t k = 0; k < K; ++k) {
        const int64_t off = offset[(size_t)k], nk = offset[(size_t)k + 1] - off;
        if (nk == 0)
            continue;
        /* cublasDgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, m, nk, p, 1, B_k, p, X_k, p, 0, Y_k, m);
         * OpenBLAS on one thread (main), as the host fast path runs it */
        cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, (int)m, (int)nk, (int)p, 1.0, pr.B + k * m * p, (int)p,
                    Xsrc + off * p, (int)p, 0.0, Y.data() + off * m, (int)m);
    }

    o.t.assign((size_t)(n * d), -7.0);
    o.h.assign((size_t)n, -7.0);
    o.err.assign((size_t)n, -7.0);
    o.chart.assign((size_t)n, -7);
    o.steps.assign((size_t)n, -7);
    sb_encode_tables tb = sb_encode_tables_of(&at, (int)pr.basis, (int)pr.D);
    std::vector<double> moments((size_t)at.charts * 4);
    sb_enc_moments_fill(&tb, moments.data());
    tb.moments = moments.data();
    const unsigned rb = cfg.rows_block ? cfg.rows_block : SB_ENCODE_THREADS;
    const unsigned rg = cfg.rows_grid ? cfg.rows_grid : sim_slot0::sb_encode_grid(n, 1);
    sim_launch(SIM_KERNEL(encode_rows), rg, rb, tb, (const int32_t *)o.perm.data(), (const int32_t *)pr.atom,
               (const double *)pr.z, (const double *)Y.data(), (const double *)o.xx.data(), n, o.t.data(),
               o.h.data(), o.err.data(), o.chart.data(), o.steps.data());
    return o;
}

/* ------------------------------- the cases ------------------------------- */
struct encode_case {
    const char *name;
    int64_t n, p, K, d, D;
    sb_basis_kind basis;
    sb_gate_kind gate;
    double noise;
    uint64_t seed;
    bool grouped; /* reorder the generated rows by atom first (the no-copy path) */
};

static const encode_case kCases[] = {
    {"euclidean d=2 D=3 softmax noise 1e-3", 64, 40, 3, 2, 3, SB_BASIS_EUCLIDEAN, SB_GATE_SOFTMAX, 1e-3, 0x5e11, false},
    {"periodic d=1 D=3 IBP noise 0", 48, 33, 2, 1, 3, SB_BASIS_PERIODIC, SB_GATE_IBP, 0.0, 0x5e12, false},
    {"euclidean d=3 D=2 JumpReLU noise 1e-2", 40, 50, 4, 3, 2, SB_BASIS_EUCLIDEAN, SB_GATE_JUMPRELU, 1e-2, 0x5e13, false},
    {"euclidean d=4 D=1 softmax noise 1e-3", 32, 24, 2, 4, 1, SB_BASIS_EUCLIDEAN, SB_GATE_SOFTMAX, 1e-3, 0x5e14, false},
    {"euclidean d=1 D=4 IBP noise 0, grouped", 40, 37, 3, 1, 4, SB_BASIS_EUCLIDEAN, SB_GATE_IBP, 0.0, 0x5e15, true},
    /* noise large enough that some rows find no certificate (the fallback path) */
    {"euclidean d=2 D=3 softmax noise 0.3", 64, 40, 3, 2, 3, SB_BASIS_EUCLIDEAN, SB_GATE_SOFTMAX, 0.3, 7, false},
};

/* Rows stably reordered by atom, so the batch is already grouped. */
static void group_in_place(sb_encode_problem &pr)
{
    std::vector<int64_t> order((size_t)pr.n);
    for (int64_t i = 0; i < pr.n; ++i)
        order[(size_t)i] = i;
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return pr.atom[a] < pr.atom[b]; });
    std::vector<double> X((size_t)(pr.n * pr.p)), z((size_t)pr.n), tt((size_t)(pr.n * pr.d));
    std::vector<int32_t> atom((size_t)pr.n);
    for (int64_t r = 0; r < pr.n; ++r) {
        const int64_t i = order[(size_t)r];
        std::memcpy(&X[(size_t)(r * pr.p)], pr.X + i * pr.p, (size_t)pr.p * sizeof(double));
        std::memcpy(&tt[(size_t)(r * pr.d)], pr.t_true + i * pr.d, (size_t)pr.d * sizeof(double));
        z[(size_t)r] = pr.z[i];
        atom[(size_t)r] = pr.atom[i];
    }
    std::memcpy(pr.X, X.data(), X.size() * sizeof(double));
    std::memcpy(pr.t_true, tt.data(), tt.size() * sizeof(double));
    std::memcpy(pr.z, z.data(), z.size() * sizeof(double));
    std::memcpy(pr.atom, atom.data(), atom.size() * sizeof(int32_t));
}

static void test_case(const encode_case &c)
{
    g_ctx = c.name;
    sb_encode_params prm = {};
    prm.n = c.n;
    prm.p = c.p;
    prm.K = c.K;
    prm.d = c.d;
    prm.D = c.D;
    prm.basis = c.basis;
    prm.gate = c.gate;
    prm.noise = c.noise;
    prm.seed = c.seed;
    sb_encode_problem pr;
    sb_encode_atlas at;
    sb_encode_result host, ref, got;
    sb_err e = {{0}};
    if (sb_encode_generate(&prm, &pr, &e) != SB_OK || sb_encode_atlas_build(&pr, &at, &e) != SB_OK ||
        sb_encode_result_alloc(&host, pr.n, pr.d, &e) != SB_OK || sb_encode_result_alloc(&ref, pr.n, pr.d, &e) != SB_OK ||
        sb_encode_result_alloc(&got, pr.n, pr.d, &e) != SB_OK) {
        report(false, std::string("setup: ") + e.msg);
        return;
    }
    if (c.grouped)
        group_in_place(pr);
    const int64_t n = pr.n, p = pr.p, d = pr.d;
    if (sb_host_encode(&pr, &at, &host, &e) != SB_OK || sb_encode_reference(&pr, &at, 0, n, 1, &ref, &e) != SB_OK) {
        report(false, std::string("host or reference encode: ") + e.msg);
        return;
    }

    bool have_first = false;
    sim_result first;
    int runs = 0, runs_ok = 0;
    int64_t certified = 0;
    double worst_coord = 0.0;
    for (int o = 0; o < SIM_NORDERS; ++o) {
        sim_set_order((sim_order)o, c.seed ^ (0x0dd5eedull * (uint64_t)(o + 1)));
        for (const launch_cfg &cfg : kConfigs) {
            g_ctx = std::string("[") + sim_order_name((sim_order)o) + "] " + c.name + ", " + cfg.name;
            const int fail0 = g_fail;
            const sim_result s = run_pipeline(pr, at, cfg);
            runs++;
            if (s.identity != (c.grouped ? 1 : 0))
                report(false, "grouping: identity " + std::to_string(s.identity) + ", want " +
                                  std::to_string(c.grouped ? 1 : 0));
            /* the gather and the norms */
            for (int64_t r = 0; r < n && !s.identity; ++r)
                if (std::memcmp(&s.Xg[(size_t)(r * p)], pr.X + (int64_t)s.perm[(size_t)r] * p,
                                (size_t)p * sizeof(double)) != 0) {
                    report(false, "gathered row " + std::to_string(r) + " is not row " +
                                      std::to_string(s.perm[(size_t)r]));
                    break;
                }
            std::vector<double> xx((size_t)n);
            for (int64_t r = 0; r < n; ++r)
                xx[(size_t)r] = sb_enc_sqnorm_warp_order(pr.X + (int64_t)s.perm[(size_t)r] * p, p);
            same_bits(s.xx.data(), xx.data(), (size_t)n, "xx vs sb_enc_sqnorm_warp_order");
            /* the host fast path, bit for bit */
            same_bits(s.t.data(), host.t, (size_t)(n * d), "t vs host fast path");
            same_bits(s.h.data(), host.h, (size_t)n, "h vs host fast path");
            same_bits(s.err.data(), host.recon_err, (size_t)n, "recon_err vs host fast path");
            same_bits(s.chart.data(), host.chart, (size_t)n, "chart vs host fast path");
            same_bits(s.steps.data(), host.steps, (size_t)n, "steps vs host fast path");
            /* the reference */
            std::memcpy(got.t, s.t.data(), s.t.size() * sizeof(double));
            std::memcpy(got.h, s.h.data(), s.h.size() * sizeof(double));
            std::memcpy(got.recon_err, s.err.data(), s.err.size() * sizeof(double));
            std::memcpy(got.chart, s.chart.data(), s.chart.size() * sizeof(int32_t));
            std::memcpy(got.steps, s.steps.data(), s.steps.size() * sizeof(int32_t));
            sb_encode_quality q;
            if (sb_encode_metrics(&pr, &got, &ref, 0, n, 1, &q, &e) != SB_OK) {
                report(false, std::string("sb_encode_metrics: ") + e.msg);
            } else {
                if (q.agree_rows != n)
                    report(false, std::to_string(n - q.agree_rows) + " rows certified by one side only");
                if (!(q.max_coord_abs_err < 1e-9)) {
                    char buf[160];
                    std::snprintf(buf, sizeof buf, "max |t - t_ref| = %.3g, want < 1e-9", q.max_coord_abs_err);
                    report(false, buf);
                }
                certified = q.certified_rows;
                worst_coord = std::max(worst_coord, q.max_coord_abs_err);
            }
            /* every order and configuration: the same bits */
            if (!have_first) {
                first = s;
                have_first = true;
            } else if (s.t != first.t || s.h != first.h || s.err != first.err || s.chart != first.chart ||
                       s.steps != first.steps || s.xx != first.xx) {
                report(false, "results differ in their bits from the first run of this problem");
            }
            if (g_fail == fail0)
                runs_ok++;
        }
    }
    char what[300];
    std::snprintf(what, sizeof what,
                  "%d of %d runs (%d orders x %zu launch configurations) match the host fast path bit for bit "
                  "and the reference (%lld of %lld rows certified by both, max |t - t_ref| %.3g)",
                  runs_ok, runs, (int)SIM_NORDERS, sizeof kConfigs / sizeof kConfigs[0], (long long)certified,
                  (long long)n, worst_coord);
    /* fallback rows carry the documented values */
    for (int64_t i = 0; i < n; ++i)
        if (host.chart[i] < 0 && !(std::isinf(host.h[i]) && host.t[i * d] == 0.0 &&
                                   host.recon_err[i] == std::sqrt(sb_enc_sqnorm_warp_order(pr.X + i * p, p)))) {
            g_ctx = c.name;
            report(false, "fallback row " + std::to_string(i) + " without t = 0, h = inf, recon_err = |x|");
            break;
        }
    g_ctx = c.name;
    report(runs_ok == runs && certified > 0, what);
    sb_encode_result_free(&host);
    sb_encode_result_free(&ref);
    sb_encode_result_free(&got);
    sb_encode_atlas_free(&at);
    sb_encode_problem_free(&pr);
}

int main()
{
    openblas_set_num_threads(1);
    sb_host_encode_chunk_rows = 1 << 30; /* one DGEMM per atom, as on the device */
    for (const encode_case &c : kCases)
        test_case(c);
    std::printf("sim_encode: %d passed, %d failed\n", g_pass, g_fail);
    return g_fail == 0 ? 0 : 1;
}
