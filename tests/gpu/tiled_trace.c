/* Where the tiled factorization's time goes on a GPU (--factor tiled,
 * cuda/rs_tiled.cuh), measured beside cuSOLVER on the same matrix.
 *
 * For each order N (default 1024, 2000, 4000 and 5120: the primal Gram of
 * sae-8k-1024, the dual systems of sae-2k-2048 and sae-4k-4096, and the
 * Schur complement of inner-loop's color-arm), an SPD matrix XᵀWX + ridge·I
 * with the right-hand side as its border (the (N+1)×(N+1) matrix the tool
 * factors):
 *   - the tiled factor's kernel time, cudaEvent pairs around each launch
 *     alone (the copy that restores the input is outside them), warm-up 3,
 *     20 timed, median and min; and cuSOLVER Xpotrf of the N×N matrix the
 *     same way (the library variant's factor);
 *   - parity of the last timed launch: L against LAPACKE dpotrf and row N
 *     against L⁻¹b (dtrtrs), relative, < 1e-12;
 *   - one more launch with the task trace (rs_params.h, test-only): its
 *     consistency (every task once, none ready before its inputs were
 *     published, rs_tiled_trace.h) and the summary: per task kind the
 *     median work and wait, and the critical chain per tile column
 *     (column period, the chain task's panel and update + diagonal work,
 *     hand-off latency), the
 *     quantities the estimate in docs/notes-tiled.md is made of. The traced launch
 *     is not one of the timed ones;
 *   - the solve after each factor, timed the same way and checked against
 *     LAPACKE dpotrs: the tiled variant's backward launch (its forward solve
 *     is fused into the factor), cuSOLVER Xpotrs with Xpotrf's L (the
 *     library variant's solve, and inner-loop's S solve), and our two chained
 *     launches on that same L (the blocked variant's solve). cuSOLVER's
 *     potrs is latency-bound by column (~0.28 ms at 2048 by the peers'
 *     measurements, docs/notes-resident-solve.md); these numbers say what the chained solves would save
 *     the library variant and inner-loop (IL-004).
 * Then sae-8k-1024's primal build + factor (p = 1024, 8000 samples): the
 * Gram kernel followed by the tiled factor, against both in one launch
 * (sb_launch_chol_tiled_gram, the factor starting on Gram tiles already
 * written), timed the same way, both checked against LAPACKE, and one
 * traced launch of each (the factor tasks' work next to the Gram in one
 * launch and after it in two: what the fused kernel's registers and the
 * overlap do to them).
 * Prints ok/FAIL lines (gpu_check.h) and, with --json FILE, one JSON object
 * per N (JSON lines) with the device, the timings and the trace summary,
 * and one for the Gram comparison.
 * Built and run by tests/gpu/run-gpu-tests.sh; scripts/gpu-results.sh keeps
 * the JSON under results/<gpu>/. Needs a GPU.
 *
 *   tiled_trace [--json FILE] [N ...] */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <cuda_runtime.h>
#include <cusolverDn.h>
#include <lapacke.h>

#include "gpu_check.h"
#include "rs_fixture.h"
#include "rs_gram.h"
#include "rs_kernels.h"
#include "rs_tiled_trace.h"

enum { WARMUP = 3, REPS = 20 };

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#define TRY(call)                                                                                \
    do {                                                                                         \
        const int rc_ = (int)(call);                                                             \
        if (rc_ != 0) {                                                                          \
            check(0, "N=%d: %s failed (%d) at line %d", N, #call, rc_, __LINE__);                \
            goto out;                                                                            \
        }                                                                                        \
    } while (0)

/* A = XᵀWX + 0.01·I (N×N, both triangles) with X (256×N) and w from the
 * project's fixture generator (src/rs_fixture.h): SPD through the shift, and
 * N²·256 flops to build on the GPU node's host, whose OpenBLAS runs a
 * generic kernel (the kernels' work does not depend on the values).
 * Returns 0 when out of memory. */
static int spd_matrix(int N, double *A)
{
    const int m = 256;
    double *X = malloc((size_t)m * N * sizeof *X), *w = malloc((size_t)m * sizeof *w);
    if (!X || !w) {
        free(X);
        free(w);
        return 0;
    }
    sb_lcg g;
    sb_lcg_seed(&g, 0x7a11edc401e5ull ^ (uint64_t)N);
    sb_rs_fixture_X(&g, m, N, X);
    sb_rs_fixture_w(&g, m, w);
    for (int i = 0; i < m; i++) /* row i of X (row-major m×N) scaled by √w_i */
        cblas_dscal(N, sqrt(w[i]), X + (int64_t)i * N, 1);
    cblas_dsyrk(CblasColMajor, CblasLower, CblasNoTrans, N, m, 1.0, X, N, 0.0, A, N);
    for (int c = 0; c < N; c++) {
        A[c + (int64_t)c * N] += 0.01;
        for (int r = 0; r < c; r++)
            A[r + (int64_t)c * N] = A[c + (int64_t)r * N];
    }
    free(X);
    free(w);
    return 1;
}

/* Ends a timed launch begun by recording e0 on s: records e1, waits, and
 * stores the milliseconds between them in *ms (unless NULL: a warm-up). */
static cudaError_t event_ms(cudaStream_t s, cudaEvent_t e0, cudaEvent_t e1, double *ms)
{
    cudaError_t e;
    float t = 0.0f;
    if ((e = cudaEventRecord(e1, s)) != cudaSuccess || (e = cudaEventSynchronize(e1)) != cudaSuccess ||
        (e = cudaEventElapsedTime(&t, e0, e1)) != cudaSuccess)
        return e;
    if (ms)
        *ms = t;
    return cudaSuccess;
}

/* The stream and event pair of a timed section, those that were created. */
static void timing_destroy(cudaStream_t s, cudaEvent_t e0, cudaEvent_t e1)
{
    if (e0)
        cudaEventDestroy(e0);
    if (e1)
        cudaEventDestroy(e1);
    if (s)
        cudaStreamDestroy(s);
}

/* The factor of a bordered (n+1)×(n+1) matrix (leading dimension ld) against
 * LAPACK's L of its leading n×n block (ref, n×n): max |difference| over the
 * lower triangle / max |ref| there (a NaN makes it NaN). row receives the
 * border row n, (L⁻¹b)ᵀ. */
static double bordered_err(const double *B, int64_t ld, int n, const double *ref, double *row)
{
    double d = 0.0, m = 0.0;
    for (int c = 0; c < n; c++) {
        row[c] = B[n + c * ld];
        for (int r = c; r < n; r++) {
            const double e = fabs(B[r + c * ld] - ref[r + (int64_t)c * n]);
            d = e <= d ? d : e;
            m = fmax(m, fabs(ref[r + (int64_t)c * n]));
        }
    }
    return d / m;
}

/* median and min of v[0..n-1] (sorted in place) */
static void stats(double *v, int n, double *med, double *min)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    *med = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    *min = v[0];
}

/* One of the solves timed after the factors (run): which, its factor L
 * (leading dimension ld), where its right-hand side is restored from, where
 * its times and its error go. */
enum { SOLVE_TILED_BWD, SOLVE_XPOTRS, SOLVE_CHAINED };
struct solve_run {
    int kind;
    const char *what;
    double *L;
    int64_t ld;
    const double *from;
    double *ms;
    double *err;
};

static void run(int N, FILE *json)
{
    const int64_t ld = N + 1;
    const int nt = (N + 1 + SB_RS_NB - 1) / SB_RS_NB;
    const long long ntasks = sb_tiled_ntasks(nt);
    double *A = malloc((size_t)N * N * sizeof *A), *L = malloc((size_t)N * N * sizeof *L);
    double *B = calloc((size_t)(ld * ld), sizeof *B), *y = malloc((size_t)N * sizeof *y);
    double *Bout = malloc((size_t)(ld * ld) * sizeof *Bout), *row = malloc((size_t)N * sizeof *row);
    sb_tiled_trace_rec *trace = calloc((size_t)ntasks, sizeof *trace);
    double tiled_ms[REPS], lib_ms[REPS], bwd_ms[REPS], potrs_ms[REPS], chained_ms[REPS];
    double *x = malloc((size_t)N * sizeof *x), *xref = malloc((size_t)N * sizeof *xref);
    double *B_d = NULL, *B0_d = NULL, *A_d = NULL, *A0_d = NULL, *b_d = NULL, *x_d = NULL, *rhs_d = NULL;
    void *work_d = NULL, *work_h = NULL;
    int *info_d = NULL;
    sb_tiled_trace_rec *trace_d = NULL;
    cudaStream_t s = NULL;
    cudaEvent_t e0 = NULL, e1 = NULL;
    cusolverDnHandle_t solver = NULL;
    cusolverDnParams_t params = NULL;
    sb_tiled tiled = {0};
    sb_chain chain = {0}; /* its linv receives the tiled factor's tile inverses, as in the tool */
    double ebwd = NAN, epotrs = NAN, echained = NAN;
    if (!A || !L || !B || !y || !Bout || !row || !trace || !x || !xref) {
        check(0, "N=%d: host allocation", N);
        goto out;
    }
    if (!spd_matrix(N, A)) {
        check(0, "N=%d: host allocation", N);
        goto out;
    }
    memcpy(L, A, (size_t)N * N * sizeof *L);
    if (LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', N, L, N) != 0) {
        check(0, "N=%d: LAPACKE dpotrf", N);
        goto out;
    }
    for (int c = 0; c < N; c++) {
        memcpy(B + c * ld, A + (int64_t)c * N, (size_t)N * sizeof *B);
        B[N + c * ld] = y[c] = cos(0.05 * (c + 1));
    }
    memcpy(xref, y, (size_t)N * sizeof *xref);
    LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'L', N, 1, L, N, xref, N);        /* xref = A⁻¹b */
    LAPACKE_dtrtrs(LAPACK_COL_MAJOR, 'L', 'N', 'N', N, 1, L, N, y, N); /* y = L⁻¹b */

    int dev = 0, sms = 0;
    struct cudaDeviceProp prop;
    TRY(cudaGetDevice(&dev));
    TRY(cudaGetDeviceProperties(&prop, dev));
    TRY(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
    TRY(cudaStreamCreate(&s));
    TRY(cudaEventCreate(&e0));
    TRY(cudaEventCreate(&e1));
    TRY(cudaMalloc((void **)&B_d, (size_t)(ld * ld) * sizeof(double)));
    TRY(cudaMalloc((void **)&B0_d, (size_t)(ld * ld) * sizeof(double)));
    TRY(cudaMalloc((void **)&A_d, (size_t)N * N * sizeof(double)));
    TRY(cudaMalloc((void **)&A0_d, (size_t)N * N * sizeof(double)));
    TRY(cudaMalloc((void **)&b_d, (size_t)N * sizeof(double)));
    TRY(cudaMalloc((void **)&x_d, (size_t)N * sizeof(double)));
    TRY(cudaMalloc((void **)&rhs_d, (size_t)N * sizeof(double)));
    TRY(cudaMalloc((void **)&info_d, sizeof(int)));
    TRY(cudaMalloc((void **)&trace_d, (size_t)ntasks * sizeof *trace_d));
    TRY(cudaMemset(info_d, 0, sizeof(int)));
    TRY(cudaMemcpy(B0_d, B, (size_t)(ld * ld) * sizeof(double), cudaMemcpyHostToDevice));
    TRY(cudaMemcpy(A0_d, A, (size_t)N * N * sizeof(double), cudaMemcpyHostToDevice));
    TRY(sb_tiled_alloc(&tiled, N + 1, sms, s));
    TRY(sb_chain_alloc(&chain, N + 1, s));
    for (int c = 0; c < N; c++)
        row[c] = B[N + c * ld]; /* b */
    TRY(cudaMemcpy(rhs_d, row, (size_t)N * sizeof(double), cudaMemcpyHostToDevice));

    /* the tiled factor of the bordered matrix */
    for (int r = -WARMUP; r < REPS; r++) {
        TRY(cudaMemcpyAsync(B_d, B0_d, (size_t)(ld * ld) * sizeof(double), cudaMemcpyDeviceToDevice, s));
        TRY(cudaEventRecord(e0, s));
        TRY(sb_launch_chol_tiled(B_d, ld, N + 1, 1, b_d, chain.linv, &tiled, info_d, s));
        TRY(event_ms(s, e0, e1, r >= 0 ? &tiled_ms[r] : NULL));
    }
    int info = 0;
    TRY(cudaMemcpy(&info, info_d, sizeof info, cudaMemcpyDeviceToHost));
    TRY(cudaMemcpy(Bout, B_d, (size_t)(ld * ld) * sizeof(double), cudaMemcpyDeviceToHost));
    const double ef = bordered_err(Bout, ld, N, L, row);
    const double ey = rel_err(row, y, N);
    check(info == 0 && ef < 1e-12 && ey < 1e-12,
          "N=%d: tiled factor of the bordered matrix vs LAPACKE: info %d, L rel %.3g, row N = L^-1 b rel %.3g",
          N, info, ef, ey);

    /* cuSOLVER Xpotrf of the N×N matrix */
    size_t wd = 0, wh = 0;
    TRY(cusolverDnCreate(&solver));
    TRY(cusolverDnSetStream(solver, s));
    TRY(cusolverDnCreateParams(&params));
    TRY(cusolverDnXpotrf_bufferSize(solver, params, CUBLAS_FILL_MODE_LOWER, N, CUDA_R_64F, A_d, N,
                                    CUDA_R_64F, &wd, &wh));
    TRY(cudaMalloc(&work_d, wd > 0 ? wd : 1));
    work_h = malloc(wh > 0 ? wh : 1);
    for (int r = -WARMUP; r < REPS; r++) {
        TRY(cudaMemcpyAsync(A_d, A0_d, (size_t)N * N * sizeof(double), cudaMemcpyDeviceToDevice, s));
        TRY(cudaEventRecord(e0, s));
        TRY(cusolverDnXpotrf(solver, params, CUBLAS_FILL_MODE_LOWER, N, CUDA_R_64F, A_d, N, CUDA_R_64F,
                             work_d, wd, work_h, wh, info_d));
        TRY(event_ms(s, e0, e1, r >= 0 ? &lib_ms[r] : NULL));
    }

    /* one traced launch */
    TRY(cudaMemset(trace_d, 0, (size_t)ntasks * sizeof *trace_d));
    TRY(cudaMemset(info_d, 0, sizeof(int)));
    TRY(cudaMemcpyAsync(B_d, B0_d, (size_t)(ld * ld) * sizeof(double), cudaMemcpyDeviceToDevice, s));
    tiled.trace = trace_d;
    TRY(sb_launch_chol_tiled(B_d, ld, N + 1, 1, b_d, chain.linv, &tiled, info_d, s));
    tiled.trace = NULL;
    TRY(cudaStreamSynchronize(s));
    TRY(cudaMemcpy(trace, trace_d, (size_t)ntasks * sizeof *trace, cudaMemcpyDeviceToHost));
    TRY(cudaMemcpy(&info, info_d, sizeof info, cudaMemcpyDeviceToHost));
    sb_tiled_trace_summary sum;
    char why[300];
    const int bad = sb_tiled_trace_analyse(trace, nt, &sum, why, sizeof why);
    check(info == 0 && !bad, "N=%d: traced launch: info %d, %lld tasks once each on %d blocks, none ready before its inputs%s%s",
          N, info, sum.ntasks, sum.blocks, bad ? ": " : "", why);

    /* The solve after each factor, timed the same way (the copy that restores
     * the right-hand side outside the events), each checked against LAPACKE
     * dpotrs: the tiled variant's one backward launch with the tile inverses
     * its factor stored (b_d holds L⁻¹b from its border row); cuSOLVER
     * Xpotrs with Xpotrf's L (the library variant's solve, and inner-loop's
     * S solve); our two chained launches on that same L (the blocked
     * variant's solve; the forward one rewrites chain.linv, so it runs last). */
    const struct solve_run runs[3] = {
        {SOLVE_TILED_BWD, "tiled backward solve", B_d, ld, b_d, bwd_ms, &ebwd},
        {SOLVE_XPOTRS, "cuSOLVER Xpotrf + Xpotrs", A_d, N, rhs_d, potrs_ms, &epotrs},
        {SOLVE_CHAINED, "chained forward + backward solve on Xpotrf's L", A_d, N, rhs_d, chained_ms, &echained},
    };
    for (int k = 0; k < 3; k++) {
        const struct solve_run *u = &runs[k];
        for (int r = -WARMUP; r < REPS; r++) {
            TRY(cudaMemcpyAsync(x_d, u->from, (size_t)N * sizeof(double), cudaMemcpyDeviceToDevice, s));
            TRY(cudaEventRecord(e0, s));
            if (u->kind == SOLVE_TILED_BWD)
                TRY(sb_launch_chol_solve_bwd(u->L, u->ld, N, x_d, &chain, info_d, s));
            else if (u->kind == SOLVE_XPOTRS)
                TRY(cusolverDnXpotrs(solver, params, CUBLAS_FILL_MODE_LOWER, N, 1, CUDA_R_64F, u->L, u->ld,
                                     CUDA_R_64F, x_d, N, info_d));
            else
                TRY(sb_launch_chol_solve_chained(u->L, u->ld, N, x_d, &chain, info_d, s));
            TRY(event_ms(s, e0, e1, r >= 0 ? &u->ms[r] : NULL));
        }
        TRY(cudaMemcpy(x, x_d, (size_t)N * sizeof(double), cudaMemcpyDeviceToHost));
        TRY(cudaMemcpy(&info, info_d, sizeof info, cudaMemcpyDeviceToHost));
        *u->err = rel_err(x, xref, N);
        check(info == 0 && *u->err < 1e-10, "N=%d: %s vs LAPACKE dpotrs: info %d, rel %.3g", N, u->what, info,
              *u->err);
    }

    double tmed, tmin, lmed, lmin, bmed, bmin, pmed, pmin, cmed, cmin;
    stats(tiled_ms, REPS, &tmed, &tmin);
    stats(lib_ms, REPS, &lmed, &lmin);
    stats(bwd_ms, REPS, &bmed, &bmin);
    stats(potrs_ms, REPS, &pmed, &pmin);
    stats(chained_ms, REPS, &cmed, &cmin);
    printf("     N=%d: tiled factor (bordered, N+1) %.4f ms median (min %.4f), cuSOLVER Xpotrf (N) %.4f ms "
           "median (min %.4f); traced: column period %.2f us = hand-off %.2f + chain panel %.2f + "
           "update and diagonal %.2f us (medians)\n",
           N, tmed, tmin, lmed, lmin, sum.column_us, sum.handoff_us, sum.chain_panel_us, sum.chain_rest_us);
    printf("     N=%d solves: tiled backward %.4f ms median (min %.4f), cuSOLVER Xpotrs %.4f (min %.4f), "
           "chained forward + backward %.4f (min %.4f)\n",
           N, bmed, bmin, pmed, pmin, cmed, cmin);
    if (json) {
        fprintf(json,
                "{\"n\": %d, \"device\": \"%s\", \"sms\": %d, \"grid\": %d, \"reps\": %d, \"warmup\": %d, "
                "\"tiled_factor_ms\": {\"median\": %.5f, \"min\": %.5f}, "
                "\"cusolver_xpotrf_ms\": {\"median\": %.5f, \"min\": %.5f}, "
                "\"parity\": {\"factor_rel\": %.3g, \"forward_rel\": %.3g}, "
                "\"solve_ms\": {\"tiled_bwd\": {\"median\": %.5f, \"min\": %.5f}, "
                "\"cusolver_xpotrs\": {\"median\": %.5f, \"min\": %.5f}, "
                "\"chained_fwd_bwd\": {\"median\": %.5f, \"min\": %.5f}}, "
                "\"solve_parity\": {\"tiled_bwd\": %.3g, \"cusolver_xpotrs\": %.3g, \"chained_fwd_bwd\": %.3g}, "
                "\"trace_consistent\": %s, \"trace\": ",
                N, prop.name, sms, tiled.grid, REPS, WARMUP, tmed, tmin, lmed, lmin, ef, ey, bmed, bmin, pmed,
                pmin, cmed, cmin, ebwd, epotrs, echained, bad ? "false" : "true");
        sb_tiled_trace_json(json, &sum);
        fprintf(json, "}\n");
        fflush(json);
    }
out:
    if (params)
        cusolverDnDestroyParams(params);
    if (solver)
        cusolverDnDestroy(solver);
    sb_tiled_free(&tiled);
    sb_chain_free(&chain);
    cudaFree(B_d);
    cudaFree(B0_d);
    cudaFree(A_d);
    cudaFree(A0_d);
    cudaFree(b_d);
    cudaFree(x_d);
    cudaFree(rhs_d);
    cudaFree(info_d);
    cudaFree(trace_d);
    cudaFree(work_d);
    timing_destroy(s, e0, e1);
    free(work_h);
    free(A);
    free(L);
    free(B);
    free(y);
    free(Bout);
    free(row);
    free(trace);
    free(x);
    free(xref);
}

/* sae-8k-1024's build + factor: the Gram kernel then the tiled factor (two
 * launches) against the two in one launch (sb_launch_chol_tiled_gram), the
 * factor starting on Gram tiles already written. Both timed the same way as
 * run(), both checked against dsyrk + LAPACKE dpotrf and L⁻¹rhs. */
static void run_gram(int p, int samples, FILE *json)
{
    const int N = p; /* for TRY's message */
    const int64_t ld = p + 1;
    const int nt = (p + 1 + SB_RS_NB - 1) / SB_RS_NB;
    double *Xt = malloc((size_t)p * samples * sizeof *Xt), *w = malloc((size_t)samples * sizeof *w);
    double *G = calloc((size_t)p * p, sizeof *G), *B0 = calloc((size_t)(ld * ld), sizeof *B0);
    double *Bout = malloc((size_t)(ld * ld) * sizeof *Bout), *y = malloc((size_t)p * sizeof *y);
    double *row = malloc((size_t)p * sizeof *row);
    double sep_ms[REPS], fused_ms[REPS], err[2][2] = {{0, 0}, {0, 0}};
    double *Xt_d = NULL, *w_d = NULL, *B_d = NULL, *B0_d = NULL, *b_d = NULL, *linv_d = NULL;
    void *work_d = NULL;
    int *info_d = NULL, info[2] = {-1, -1}, sms = 0, dev = 0, splits = 1;
    cudaStream_t s = NULL;
    cudaEvent_t e0 = NULL, e1 = NULL;
    sb_tiled tiled = {0};
    if (!Xt || !w || !G || !B0 || !Bout || !y || !row) {
        check(0, "gram p=%d: host allocation", p);
        goto out;
    }
    sb_lcg g; /* X (samples×p row-major = Xt, p×samples column-major) and w as the fixture */
    sb_lcg_seed(&g, 0x96a3f00dull);
    sb_rs_fixture_X(&g, samples, p, Xt);
    sb_rs_fixture_w(&g, samples, w);
    { /* G = Xs·Xsᵀ + 0.5·I with Xs = Xt·diag(√w), then L and y = L⁻¹rhs */
        double *Xs = malloc((size_t)p * samples * sizeof *Xs);
        if (!Xs) {
            check(0, "gram p=%d: host allocation", p);
            goto out;
        }
        for (int64_t i = 0; i < samples; i++)
            for (int64_t q = 0; q < p; q++)
                Xs[q + i * p] = sqrt(w[i]) * Xt[q + i * p];
        cblas_dsyrk(CblasColMajor, CblasLower, CblasNoTrans, p, samples, 1.0, Xs, p, 0.0, G, p);
        free(Xs);
    }
    for (int i = 0; i < p; i++) {
        G[i + (int64_t)i * p] += 0.5;
        B0[p + i * ld] = y[i] = sin(0.1 * (i + 1));
    }
    if (LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', p, G, p) != 0) {
        check(0, "gram p=%d: LAPACKE dpotrf", p);
        goto out;
    }
    LAPACKE_dtrtrs(LAPACK_COL_MAJOR, 'L', 'N', 'N', p, 1, G, p, y, p);

    TRY(cudaGetDevice(&dev));
    TRY(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
    splits = sb_gram_splits(p, samples, sms);
    const size_t work_bytes = sb_gram_work_bytes(p, samples, splits);
    TRY(cudaStreamCreate(&s));
    TRY(cudaEventCreate(&e0));
    TRY(cudaEventCreate(&e1));
    TRY(cudaMalloc((void **)&Xt_d, (size_t)p * samples * sizeof(double)));
    TRY(cudaMalloc((void **)&w_d, (size_t)samples * sizeof(double)));
    TRY(cudaMalloc((void **)&B_d, (size_t)(ld * ld) * sizeof(double)));
    TRY(cudaMalloc((void **)&B0_d, (size_t)(ld * ld) * sizeof(double)));
    TRY(cudaMalloc((void **)&b_d, (size_t)p * sizeof(double)));
    TRY(cudaMalloc((void **)&linv_d, (size_t)nt * SB_RS_NB * SB_RS_NB * sizeof(double)));
    TRY(cudaMalloc((void **)&info_d, sizeof(int)));
    if (work_bytes > 0) {
        TRY(cudaMalloc(&work_d, work_bytes));
        TRY(cudaMemset(work_d, 0, work_bytes));
    }
    TRY(cudaMemcpy(Xt_d, Xt, (size_t)p * samples * sizeof(double), cudaMemcpyHostToDevice));
    TRY(cudaMemcpy(w_d, w, (size_t)samples * sizeof(double), cudaMemcpyHostToDevice));
    TRY(cudaMemcpy(B0_d, B0, (size_t)(ld * ld) * sizeof(double), cudaMemcpyHostToDevice));
    TRY(sb_tiled_alloc(&tiled, p + 1, sms, s));
    for (int fused = 0; fused < 2; fused++) {
        TRY(cudaMemset(info_d, 0, sizeof(int)));
        for (int rep = -WARMUP; rep < REPS; rep++) {
            TRY(cudaMemcpyAsync(B_d, B0_d, (size_t)(ld * ld) * sizeof(double), cudaMemcpyDeviceToDevice, s));
            TRY(cudaEventRecord(e0, s));
            if (fused) {
                TRY(sb_launch_chol_tiled_gram(B_d, ld, Xt_d, p, samples, w_d, 0.5, splits, work_d, b_d,
                                              linv_d, &tiled, info_d, s));
            } else {
                TRY(sb_launch_gram_wsyrk(Xt_d, p, samples, w_d, 0.5, B_d, ld, splits, work_d, s));
                TRY(sb_launch_chol_tiled(B_d, ld, p + 1, 1, b_d, linv_d, &tiled, info_d, s));
            }
            TRY(event_ms(s, e0, e1, rep >= 0 ? (fused ? &fused_ms[rep] : &sep_ms[rep]) : NULL));
        }
        TRY(cudaMemcpy(&info[fused], info_d, sizeof(int), cudaMemcpyDeviceToHost));
        TRY(cudaMemcpy(Bout, B_d, (size_t)(ld * ld) * sizeof(double), cudaMemcpyDeviceToHost));
        err[fused][0] = bordered_err(Bout, ld, p, G, row);
        err[fused][1] = rel_err(row, y, p);
        check(info[fused] == 0 && err[fused][0] < 1e-12 && err[fused][1] < 1e-12,
              "gram p=%d samples=%d splits=%d, %s: info %d, L rel %.3g, row p = L^-1 rhs rel %.3g", p, samples,
              splits, fused ? "Gram + factor in one launch" : "Gram kernel, then the factor", info[fused],
              err[fused][0], err[fused][1]);
    }
    /* one traced launch of each form: the factor tasks' work beside the
     * Gram (one launch) and after it (two), to see what the fused kernel's
     * registers and the overlap do to them */
    sb_tiled_trace_summary tsum[2];
    int tbad[2] = {1, 1};
    for (int fused = 0; fused < 2; fused++) {
        const long long ntasks = sb_tiled_ntasks(nt);
        sb_tiled_trace_rec *trace = calloc((size_t)ntasks, sizeof *trace), *trace_d = NULL;
        char why[300] = "";
        if (trace && cudaMalloc((void **)&trace_d, (size_t)ntasks * sizeof *trace_d) == cudaSuccess &&
            cudaMemset(trace_d, 0, (size_t)ntasks * sizeof *trace_d) == cudaSuccess &&
            cudaMemcpyAsync(B_d, B0_d, (size_t)(ld * ld) * sizeof(double), cudaMemcpyDeviceToDevice, s) ==
                cudaSuccess) {
            tiled.trace = trace_d;
            const cudaError_t e =
                fused ? sb_launch_chol_tiled_gram(B_d, ld, Xt_d, p, samples, w_d, 0.5, splits, work_d, b_d,
                                                  linv_d, &tiled, info_d, s)
                      : (sb_launch_gram_wsyrk(Xt_d, p, samples, w_d, 0.5, B_d, ld, splits, work_d, s) == cudaSuccess
                             ? sb_launch_chol_tiled(B_d, ld, p + 1, 1, b_d, linv_d, &tiled, info_d, s)
                             : cudaErrorLaunchFailure);
            tiled.trace = NULL;
            if (e == cudaSuccess && cudaStreamSynchronize(s) == cudaSuccess &&
                cudaMemcpy(trace, trace_d, (size_t)ntasks * sizeof *trace, cudaMemcpyDeviceToHost) == cudaSuccess)
                tbad[fused] = sb_tiled_trace_analyse(trace, nt, &tsum[fused], why, sizeof why);
        }
        check(!tbad[fused], "gram p=%d, %s: traced launch, factor tasks once each, none ready before its inputs%s%s",
              p, fused ? "one launch" : "two launches", tbad[fused] ? ": " : "", why);
        cudaFree(trace_d);
        free(trace);
    }
    double smed, smin, fmed, fmin;
    stats(sep_ms, REPS, &smed, &smin);
    stats(fused_ms, REPS, &fmed, &fmin);
    printf("     gram p=%d samples=%d: Gram then factor %.4f ms median (min %.4f), in one launch %.4f ms "
           "median (min %.4f)\n",
           p, samples, smed, smin, fmed, fmin);
    if (json) {
        fprintf(json,
                "{\"gram_overlap\": {\"p\": %d, \"samples\": %d, \"splits\": %d, \"reps\": %d, "
                "\"separate_ms\": {\"median\": %.5f, \"min\": %.5f}, \"one_launch_ms\": {\"median\": %.5f, "
                "\"min\": %.5f}, \"parity\": {\"separate\": [%.3g, %.3g], \"one_launch\": [%.3g, %.3g]}",
                p, samples, splits, REPS, smed, smin, fmed, fmin, err[0][0], err[0][1], err[1][0], err[1][1]);
        for (int fused = 0; fused < 2; fused++) {
            fprintf(json, ", \"%s_trace\": ", fused ? "one_launch" : "separate");
            if (tbad[fused])
                fprintf(json, "null");
            else
                sb_tiled_trace_json(json, &tsum[fused]);
        }
        fprintf(json, "}}\n");
    }
out:
    sb_tiled_free(&tiled);
    cudaFree(Xt_d);
    cudaFree(w_d);
    cudaFree(B_d);
    cudaFree(B0_d);
    cudaFree(b_d);
    cudaFree(linv_d);
    cudaFree(info_d);
    cudaFree(work_d);
    timing_destroy(s, e0, e1);
    free(Xt);
    free(w);
    free(G);
    free(B0);
    free(Bout);
    free(y);
    free(row);
}

int main(int argc, char **argv)
{
    FILE *json = NULL;
    int sizes[16], nsizes = 0;
    int gram_p = 1024, gram_n = 8000; /* sae-8k-1024; --gram P N for another (the CPU stand-in's small run) */
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--gram") == 0 && a + 2 < argc && atoi(argv[a + 1]) > 0 && atoi(argv[a + 2]) > 0) {
            gram_p = atoi(argv[a + 1]);
            gram_n = atoi(argv[a + 2]);
            a += 2;
        } else if (strcmp(argv[a], "--json") == 0 && a + 1 < argc) {
            json = fopen(argv[++a], "w");
            if (!json) {
                fprintf(stderr, "tiled_trace: cannot write %s\n", argv[a]);
                return 2;
            }
        } else if (nsizes < 16 && atoi(argv[a]) > 0) {
            sizes[nsizes++] = atoi(argv[a]);
        } else {
            fprintf(stderr, "usage: tiled_trace [--json FILE] [--gram P N] [N ...]\n");
            return 2;
        }
    }
    if (nsizes == 0) { /* sae-8k-1024's Gram order, sae-2k-2048's and sae-4k-4096's dual,
                          color-arm's Schur complement (inner-loop's S solve) */
        sizes[nsizes++] = 1024;
        sizes[nsizes++] = 2000;
        sizes[nsizes++] = 4000;
        sizes[nsizes++] = 5120;
    }
    for (int i = 0; i < nsizes; i++)
        run(sizes[i], json);
    run_gram(gram_p, gram_n, json);
    if (json)
        fclose(json);
    printf("tiled_trace: %d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
