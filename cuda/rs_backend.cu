/* The CUDA resident-solve operations (src/backend.h): sb_cuda_rs_ops, the
 * `resident_solve` table of sb_cuda_backend (cuda/device.cu). Own kernels
 * live in rs_kernels.cuh, rs_tiled.cuh and rs_gram.cuh; the mixed precision
 * in rs_mixed.cu; error macros in cuda_check.h (they return SB_E_RUNTIME
 * with "call: STATUS (file:line)").
 *
 * resident-solve, (XᵀWX + ridge·I)β = rhs (docs/workloads.md §1):
 *   X (n×p row-major on the host) is uploaded once and used in place as
 *   Xt = Xᵀ, p×n column-major (ld p): no host transpose.
 *   primal, per solve: Xs = Xt·diag(√w) (own kernel), G = Xs·Xsᵀ (DSYRK,
 *     lower), G += ridge·I (own kernel), β = G⁻¹ rhs; with --factor tiled
 *     instead the Gram tasks of rs_gram.cuh: G = Xt·diag(w)·Xtᵀ + ridge·I
 *     on the FP64 tensor cores, w applied as X is loaded, split over the
 *     samples with a deterministic combine (no Xs, no library call), run as
 *     the first tasks of the tiled factorization's launch
 *     (sb_launch_chol_tiled_gram), so the factor starts on the tiles
 *     already written while the rest of G is computed; the Gram's time is
 *     then in factor_ms, and build_ms holds only the right-hand side's copy.
 *   dual (Woodbury), once at create: K = XXᵀ = Xtᵀ·Xt (DSYRK, lower) and
 *     v = X·rhs (DGEMV); per solve: M = K + diag(ridge/w) (own kernel, lower),
 *     y = M⁻¹ v, β = (rhs − Xᵀy)/ridge (one DGEMV with alpha = −1/ridge,
 *     beta = 1/ridge on a copy of rhs).
 *
 * The factor variants. The Cholesky factorization and solve of G or M (order
 * N, leading dimension lda) come in three variants, each one rs_factor_ops
 * (its workspaces, build, factor, solve and rep), chosen once by create()
 * from --factor and kept in st->fops:
 *   RS_FACTOR_LIBRARY: cuSOLVER (--factor library, the default, and what
 *     --factor auto means until a committed GPU measurement says otherwise:
 *     Xpotrf + Xpotrs, lda = N);
 *   RS_FACTOR_BLOCKED: our own, --factor blocked (lda = N):
 *     factor: for each 64-column block j: rs_chol_diag factors the diagonal
 *       block in shared memory inside one thread block (one barrier per
 *       column), cublasDtrsm solves the panel below it, cublasDsyrk updates
 *       the trailing matrix. cuSOLVER's potrf costs ~0.43 us per column at any
 *       size (docs/notes-resident-solve.md, "Where the library time goes");
 *       here the column-sequential part is a 64-column kernel per block and
 *       everything O(N³) runs as DTRSM/DSYRK.
 *     solve: two chained launches (rs_trsv_lower_fwd/bwd), one thread block
 *       per 64-row block, handing results on through flags in device memory,
 *       instead of potrs's column-latency-bound sweep.
 *   RS_FACTOR_TILED: --factor tiled (experimental; lda = N + 1):
 *     the build writes M or G into the leading N×N block of an (N+1)×(N+1)
 *     matrix and the right-hand side into row N (dual: v, written by the
 *     same kernel that builds M; primal: rhs, a strided device copy);
 *     one persistent launch (rs_chol_tiled, rs_tiled.cuh) factors the
 *     bordered matrix, so row N of the factor is (L⁻¹b)ᵀ: the
 *     forward solve is fused into the factor (and its time into factor_ms),
 *     the kernel also writes it into the solve vector, and it stores every
 *     64-tile's L_kk⁻¹; one backward chained launch (rs_trsv_lower_bwd)
 *     finishes the solve with those inverses. Two own launches per solve.
 *   Every factorization writes its status into its own slot of info_d (one
 *   per solve); solve() never reads it back (no extra synchronisation in the
 *   timed region): check() downloads the unchecked slots afterwards.
 *   blocked and tiled run the whole rep as one CUDA graph (docs/workloads.md
 *   §1, Factorization variants): the first rep runs on the stream (so cuBLAS's
 *   first use is outside any capture), the next solve() captures it (H2D of w from the
 *   pinned buffer, X too with reupload, the build, the bordered right-hand
 *   side copy, the factor, the solves, β recovery, D2H of β into the pinned
 *   buffer, cuBLAS calls included, on a workspace set with
 *   cublasSetWorkspace) and every later solve() replays it with one
 *   cudaGraphLaunch; profile() runs the same sequence on the stream with
 *   its events. As a graph has fixed pointers, the rep's factorization and
 *   solves write their status into one fixed word and a last one-thread
 *   kernel (rs_info_commit) moves it into the slot counted on the device, so
 *   check() still names the solve that failed. A failed capture or
 *   instantiation is a runtime error.
 *
 * Telemetry (exact, per state):
 *   create:   h2d += n·p·8 (X) + p·8 (rhs); frame_builds = 1;
 *             handle_creations = 2 (cuBLAS + cuSOLVER);
 *             library_calls += 2 for dual (DSYRK for K, DGEMV for v).
 *   solve / profile (each): h2d += n·8 (w); d2h += p·8 (β);
 *             factorizations += 1; own_kernel_launches += our kernels
 *             launched (blocked, tiled: rs_info_commit included);
 *             library_calls += cuBLAS/cuSOLVER calls issued (one
 *             library call may launch several kernels); with reupload also h2d += n·p·8 and
 *             frame_builds += 1 (and for dual the 2 launches rebuilding K, v).
 *             A graph replay adds exactly what its capture counted: the
 *             same operations as the stream path.
 *   check:    d2h += 4 per solve slot not yet checked (each slot is
 *             downloaded exactly once however often check() is called).
 *   Device-to-device copies and memsets are not transfers and not launches. */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>

#include "cuda_check.h"
#include "device.h"
#include "rs_backend.h"
#include "rs_gram.h"
#include "rs_kernels.h"
#include "rs_mixed.h"

extern "C" {
#include "backend.h"
}

namespace {

/* info_d beyond the max_solves slots: the potrs scratch word, the status
 * word of a blocked/tiled rep, and the device counter of the slot it is
 * committed to (rs_info_commit; an unsigned in an int's place). */
enum { RS_INFO_POTRS = 0, RS_INFO_REP = 1, RS_INFO_NEXT = 2, RS_INFO_EXTRA = 3 };
const size_t RS_BLAS_WORKSPACE = (size_t)32 << 20;

/* Events of a profiled solve, in order: the phases of sb_rs_breakdown lie
 * between consecutive marks. */
enum { EV_START, EV_UPLOADED, EV_BUILT, EV_FACTORED, EV_SOLVED, EV_DOWNLOADED, RS_NEV };

struct rs_state;

/* One factor variant (the file comment): RS_FACTOR_LIBRARY,
 * RS_FACTOR_BLOCKED or RS_FACTOR_TILED, chosen once by rs_create. The hooks
 * hold exactly the calls, and count exactly the telemetry, that are the
 * variant's own; what all three share stays in the callers. */
struct rs_factor_ops {
    const char *name; /* the --factor value; st->last.factor */
    /* 1: A_d is the (N+1)×(N+1) bordered matrix (lda = N + 1) whose row N
     * holds the right-hand side, and the factorization leaves L⁻¹b in the
     * solve vector (the forward solve fused into the factor) */
    int border;
    /* 1: the primal build needs Xs = Xt·diag(√w), allocated at create */
    int scaled_copy;
    /* 1: runs --precision mixed|auto (whose FP32 factor is cuSOLVER's) */
    int mixed_ok;
    /* check(): what waited past its hang guard (SB_INFO_CHAIN_TIMEOUT) */
    const char *timeout_what;
    /* create: the variant's workspaces, after the shared buffers */
    sb_rc (*create)(rs_state *st, sb_err *err);
    /* the FP64 build of the factored matrix (and its border) after w is on
     * the device and, dual with reupload, the frame is rebuilt */
    sb_rc (*build)(rs_state *st, sb_err *err);
    /* factor A_d in place, status into *info; border: L⁻¹b into fwd */
    sb_rc (*factor)(rs_state *st, double *fwd, int *info, sb_err *err);
    /* b <- A⁻¹ b with the factor in A_d (border: the backward half only) */
    sb_rc (*solve)(rs_state *st, double *b, int *info, sb_err *err);
    /* one whole rep once w is in w_pin and the solve's slot info is taken;
     * synchronous: beta holds β on return (profiled: record the events) */
    sb_rc (*rep)(rs_state *st, int *info, double *beta, int profiled, sb_err *err);
};

struct rs_state {
    /* the problem */
    int64_t n, p;
    int64_t N; /* order of the factored matrix: p (primal) or n (dual) */
    int64_t lda; /* of A_d: N, or N + 1 (tiled: the bordered matrix) */
    sb_method method;
    int reupload;
    int max_solves;
    double ridge;
    const rs_factor_ops *fops; /* the factor variant, chosen at create */
    const char *factor_why; /* --factor auto: why this variant (static), else NULL */

    /* handles */
    cudaStream_t stream;
    cublasHandle_t blas;
    cusolverDnHandle_t solver;
    cusolverDnParams_t params;
    cudaEvent_t ev[RS_NEV];

    /* device buffers */
    double *X_d;    /* Xt, p×n column-major */
    double *Xs_d;   /* primal, library/blocked: Xt·diag(√w) */
    void *gram_work_d; /* primal, tiled: the Gram's partial tiles and counters (rs_gram.h) */
    int gram_splits;   /* primal, tiled: its launch plan, fixed per state */
    double *w_d;    /* n */
    double *rhs_d;  /* p */
    double *beta_d; /* p */
    double *A_d;    /* N×N in lda×lda: the matrix factored in place (lower) */
    double *K_d;    /* dual: X·Xᵀ, n×n lower */
    double *v_d;    /* dual: X·rhs, n */
    double *y_d;    /* dual: M⁻¹v, n */
    int *info_d;    /* max_solves factorization slots, then RS_INFO_EXTRA words:
                       the potrs scratch, the rep's status word and the device
                       slot counter of the own factorizations (rs_info_commit) */
    void *work_d;   /* cuSOLVER Xpotrf workspaces */
    size_t work_d_bytes;
    void *work_h;
    size_t work_h_bytes;
    sb_chain chain; /* blocked, tiled: chained triangular-solve state */
    sb_tiled tiled; /* tiled: the factorization's state */
    void *blas_ws;  /* blocked, tiled: the cuBLAS workspace, set before any capture */
    cudaGraphExec_t rep_graph; /* blocked, tiled: the FP64 rep, captured once */
    int stream_reps;           /* blocked, tiled: reps run on the stream (the first solve is one) */
    sb_telemetry rep_tel;      /* what one replay of rep_graph adds to tel */

    /* host staging */
    double *X_pin;    /* reupload only: pinned copy of X */
    double *w_pin;    /* pinned, n */
    double *beta_pin; /* pinned, p */
    int *info_h;      /* max_solves */

    /* --precision mixed|auto (rs_mixed.cu): the FP32 system and refinement */
    sb_precision precision;
    int mixed_now;        /* solves run mixed (auto: until the first solve decides) */
    int decided;          /* auto: the first solve has decided */
    rs_mixed mx;
    sb_rs_solve_info last;

    sb_telemetry tel;
    int solves;       /* slots used by solve() and profile() */
    int checked;      /* slots already downloaded by check() */
    int failed_solve; /* first slot with a nonzero info, or -1 */
    int failed_info;
    int broken;       /* a runtime failure left work in an unknown state */
};

void rs_destroy(void *state)
{
    rs_state *st = (rs_state *)state;
    if (!st)
        return;
    if (st->stream)
        cudaStreamSynchronize(st->stream);
    if (st->rep_graph)
        cudaGraphExecDestroy(st->rep_graph);
    cudaFree(st->X_d);
    cudaFree(st->Xs_d);
    cudaFree(st->gram_work_d);
    cudaFree(st->w_d);
    cudaFree(st->rhs_d);
    cudaFree(st->beta_d);
    cudaFree(st->A_d);
    cudaFree(st->K_d);
    cudaFree(st->v_d);
    cudaFree(st->y_d);
    cudaFree(st->info_d);
    cudaFree(st->work_d);
    sb_chain_free(&st->chain);
    sb_tiled_free(&st->tiled);
    rs_mixed_destroy(&st->mx);
    cudaFreeHost(st->X_pin);
    cudaFreeHost(st->w_pin);
    cudaFreeHost(st->beta_pin);
    free(st->work_h);
    free(st->info_h);
    for (int i = 0; i < RS_NEV; ++i)
        if (st->ev[i])
            cudaEventDestroy(st->ev[i]);
    sb_cuda_lib_close(st->stream, st->blas, st->solver, st->params);
    cudaFree(st->blas_ws); /* after the handle that used it */
    free(st);
}

/* Dual frame: K = Xtᵀ·Xt = X·Xᵀ (lower) and v = Xtᵀ·rhs = X·rhs. */
sb_rc rs_build_dual_frame(rs_state *st, sb_err *err)
{
    const double one = 1.0, zero = 0.0;
    const int n = (int)st->n, p = (int)st->p;
    SB_CUBLAS_TRY(err, cublasDsyrk(st->blas, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_T, n, p, &one,
                                   st->X_d, p, &zero, st->K_d, n));
    st->tel.library_calls++;
    SB_CUBLAS_TRY(err, cublasDgemv(st->blas, CUBLAS_OP_T, p, n, &one, st->X_d, p, st->rhs_d, 1,
                                   &zero, st->v_d, 1));
    st->tel.library_calls++;
    return SB_OK;
}

/* What the mixed-precision module borrows from this state. */
rs_mixed_ctx rs_mixed_ctx_of(rs_state *st)
{
    rs_mixed_ctx c;
    c.stream = st->stream;
    c.blas = st->blas;
    c.solver = st->solver;
    c.params = st->params;
    c.n = st->n;
    c.p = st->p;
    c.N = st->N;
    c.dual = st->method == SB_METHOD_DUAL;
    c.ridge = st->ridge;
    c.Xt = st->X_d;
    c.w = st->w_d;
    c.K = st->K_d;
    c.b = c.dual ? st->v_d : st->rhs_d;
    c.tel = &st->tel;
    return c;
}

/* ------------------------------------------------------------------ */
/* the factor variants' own steps (their tables: after the rep below)  */

/* create: each variant's workspaces. */

sb_rc rs_library_create(rs_state *st, sb_err *err)
{
    SB_CUSOLVER_TRY(err, cusolverDnXpotrf_bufferSize(
                             st->solver, st->params, CUBLAS_FILL_MODE_LOWER, st->N, CUDA_R_64F,
                             st->A_d, st->N, CUDA_R_64F, &st->work_d_bytes, &st->work_h_bytes));
    SB_CUDA_TRY(err, cudaMalloc(&st->work_d, std::max(st->work_d_bytes, (size_t)1)));
    if (st->work_h_bytes > 0) {
        st->work_h = malloc(st->work_h_bytes);
        if (!st->work_h)
            return sb_fail(err, SB_E_RUNTIME, "out of host memory (cuSOLVER workspace, %zu B)",
                           st->work_h_bytes);
    }
    return SB_OK;
}

/* blocked, tiled: the rep is captured as a CUDA graph (rs_capture_rep). A
 * cuBLAS call that needs workspace, captured without one of the caller's,
 * records the library's own allocation into the graph; cublasSetWorkspace
 * before the capture avoids that (the cuBLAS documentation of
 * cublasSetWorkspace; sources in docs/notes-resident-solve.md, "The rep
 * graph's cuBLAS workspace"). cublasSetStream resets the workspace, so this
 * comes after sb_cuda_lib_open set the stream. 32 MiB: the size the cuBLAS
 * documentation recommends for Hopper (4 MiB elsewhere). */
sb_rc rs_graph_workspace(rs_state *st, sb_err *err)
{
    SB_CUDA_TRY(err, cudaMalloc(&st->blas_ws, RS_BLAS_WORKSPACE));
    SB_CUBLAS_TRY(err, cublasSetWorkspace(st->blas, st->blas_ws, RS_BLAS_WORKSPACE));
    return SB_OK;
}

sb_rc rs_blocked_create(rs_state *st, sb_err *err)
{
    const size_t N = (size_t)st->N;
    SB_CUDA_TRY(err, sb_chain_alloc(&st->chain, (int)N, st->stream));
    return rs_graph_workspace(st, err);
}

sb_rc rs_tiled_create(rs_state *st, sb_err *err)
{
    const size_t N = (size_t)st->N;
    const int dual = st->method == SB_METHOD_DUAL;
    /* the bordered matrix has N + 1 rows: its tile inverses feed the
     * backward solve; one persistent block per SM */
    int dev = 0, sms = 0;
    SB_CUDA_TRY(err, cudaGetDevice(&dev));
    SB_CUDA_TRY(err, cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
    SB_CUDA_TRY(err, sb_chain_alloc(&st->chain, (int)N + 1, st->stream));
    SB_CUDA_TRY(err, sb_tiled_alloc(&st->tiled, (int)N + 1, sms, st->stream));
    if (!dual) { /* zeroed once: every Gram launch leaves its counters at zero */
        st->gram_splits = sb_gram_splits(st->p, st->n, sms);
        const size_t gram_bytes = sb_gram_work_bytes(st->p, st->n, st->gram_splits);
        if (gram_bytes > 0) {
            SB_CUDA_TRY(err, cudaMalloc(&st->gram_work_d, gram_bytes));
            SB_CUDA_TRY(err, cudaMemsetAsync(st->gram_work_d, 0, gram_bytes, st->stream));
        }
    }
    return rs_graph_workspace(st, err);
}

/* build: the FP64 matrix to factor. library and blocked factor the N×N
 * matrix alone; the dual's solve vector starts as a copy of v. */
sb_rc rs_build_plain(rs_state *st, sb_err *err)
{
    const size_t n = (size_t)st->n;
    const double one = 1.0, zero = 0.0;
    const int ni = (int)st->n, pi = (int)st->p;
    if (st->method == SB_METHOD_DUAL) {
        SB_LAUNCH_TRY(err, sb_launch_dual_shift(st->K_d, st->n, st->w_d, st->ridge, st->A_d,
                                                st->lda, NULL, st->stream));
        st->tel.own_kernel_launches++;
        SB_CUDA_TRY(err, cudaMemcpyAsync(st->y_d, st->v_d, n * sizeof(double),
                                         cudaMemcpyDeviceToDevice, st->stream));
    } else {
        SB_LAUNCH_TRY(err, sb_launch_scale_cols_sqrtw(st->X_d, st->p, st->n, st->w_d, st->Xs_d,
                                                      st->stream));
        st->tel.own_kernel_launches++;
        SB_CUBLAS_TRY(err, cublasDsyrk(st->blas, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_N, pi, ni, &one,
                                       st->Xs_d, pi, &zero, st->A_d, (int)st->lda));
        st->tel.library_calls++;
        SB_LAUNCH_TRY(err, sb_launch_add_diag(st->A_d, st->p, st->lda, st->ridge, st->stream));
        st->tel.own_kernel_launches++;
    }
    return SB_OK;
}

/* tiled: the right-hand side becomes row N of the bordered matrix. dual: v,
 * by the kernel that builds M (the factorization writes L⁻¹v into y_d
 * itself); primal: rhs, a strided copy (the Gram is built by the
 * factorization's launch, rs_tiled_factor). */
sb_rc rs_build_bordered(rs_state *st, sb_err *err)
{
    if (st->method == SB_METHOD_DUAL) {
        SB_LAUNCH_TRY(err, sb_launch_dual_shift(st->K_d, st->n, st->w_d, st->ridge, st->A_d,
                                                st->lda, st->v_d, st->stream));
        st->tel.own_kernel_launches++;
    } else {
        SB_CUDA_TRY(err, cudaMemcpy2DAsync(st->A_d + st->N, (size_t)st->lda * sizeof(double),
                                           st->rhs_d, sizeof(double), sizeof(double), (size_t)st->N,
                                           cudaMemcpyDeviceToDevice, st->stream));
    }
    return SB_OK;
}

/* factor: A_d (N×N, lower) in place; status into *info. */

sb_rc rs_library_factor(rs_state *st, double * /* fwd */, int *info, sb_err *err)
{
    const int N = (int)st->N;
    SB_CUSOLVER_TRY(err, cusolverDnXpotrf(st->solver, st->params, CUBLAS_FILL_MODE_LOWER, N,
                                          CUDA_R_64F, st->A_d, N, CUDA_R_64F, st->work_d,
                                          st->work_d_bytes, st->work_h, st->work_h_bytes, info));
    st->tel.library_calls++;
    return SB_OK;
}

/* blocked right-looking Cholesky, see the file comment */
sb_rc rs_blocked_factor(rs_state *st, double * /* fwd */, int *info, sb_err *err)
{
    const int N = (int)st->N;
    const double one = 1.0, minus_one = -1.0;
    double *A = st->A_d;
    for (int j = 0; j < N; j += SB_RS_NB) {
        const int jb = std::min(SB_RS_NB, N - j);
        const int rest = N - j - jb;
        double *Ajj = A + j + (size_t)j * N;
        SB_LAUNCH_TRY(err, sb_launch_chol_diag(Ajj, N, jb, j, info, st->stream));
        st->tel.own_kernel_launches++;
        if (rest > 0) {
            double *Aij = A + (j + jb) + (size_t)j * N;
            double *Ar = A + (j + jb) + (size_t)(j + jb) * N;
            SB_CUBLAS_TRY(err, cublasDtrsm(st->blas, CUBLAS_SIDE_RIGHT, CUBLAS_FILL_MODE_LOWER,
                                           CUBLAS_OP_T, CUBLAS_DIAG_NON_UNIT, rest, jb, &one, Ajj,
                                           N, Aij, N));
            st->tel.library_calls++;
            SB_CUBLAS_TRY(err, cublasDsyrk(st->blas, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_N, rest, jb,
                                           &minus_one, Aij, N, &one, Ar, N));
            st->tel.library_calls++;
        }
    }
    return SB_OK;
}

/* tiled: factors the bordered matrix and writes L⁻¹b into fwd (the vector
 * solved next). */
sb_rc rs_tiled_factor(rs_state *st, double *fwd, int *info, sb_err *err)
{
    const int N = (int)st->N;
    if (st->method == SB_METHOD_PRIMAL) {
        /* G = Xt·diag(w)·Xtᵀ + ridge·I and its factorization in one launch:
         * the factor's tasks start as the Gram tiles they read are written */
        SB_LAUNCH_TRY(err, sb_launch_chol_tiled_gram(st->A_d, st->lda, st->X_d, st->p, st->n,
                                                     st->w_d, st->ridge, st->gram_splits,
                                                     st->gram_work_d, fwd, st->chain.linv,
                                                     &st->tiled, info, st->stream));
        st->tel.own_kernel_launches++;
        return SB_OK;
    }
    SB_LAUNCH_TRY(err, sb_launch_chol_tiled(st->A_d, st->lda, N + 1, 1, fwd, st->chain.linv,
                                            &st->tiled, info, st->stream));
    st->tel.own_kernel_launches++;
    return SB_OK;
}

/* solve: b <- A⁻¹ b with the factor in A_d. */

sb_rc rs_library_solve(rs_state *st, double *b, int * /* info */, sb_err *err)
{
    const int N = (int)st->N;
    /* potrs only reports argument errors (which its return status also
     * reports) and would overwrite the factorization's info with 0:
     * give it the scratch slot */
    SB_CUSOLVER_TRY(err, cusolverDnXpotrs(st->solver, st->params, CUBLAS_FILL_MODE_LOWER, N, 1,
                                          CUDA_R_64F, st->A_d, N, CUDA_R_64F, b, N,
                                          st->info_d + st->max_solves + RS_INFO_POTRS));
    st->tel.library_calls++;
    return SB_OK;
}

sb_rc rs_blocked_solve(rs_state *st, double *b, int *info, sb_err *err)
{
    const int N = (int)st->N;
    SB_LAUNCH_TRY(err, sb_launch_chol_solve_chained(st->A_d, N, N, b, &st->chain, info, st->stream));
    st->tel.own_kernel_launches += 2;
    return SB_OK;
}

sb_rc rs_tiled_solve(rs_state *st, double *b, int *info, sb_err *err)
{
    const int N = (int)st->N;
    /* the forward half already ran inside the factorization */
    SB_LAUNCH_TRY(err, sb_launch_chol_solve_bwd(st->A_d, st->lda, N, b, &st->chain, info,
                                                st->stream));
    st->tel.own_kernel_launches++;
    return SB_OK;
}

/* ------------------------------------------------------------------ */
/* the rep                                                             */

#define RS_MARK(i)                                                                               \
    do {                                                                                         \
        if (profiled)                                                                            \
            SB_CUDA_TRY(err, cudaEventRecord(st->ev[i], st->stream));                            \
    } while (0)

/* β from the solution of the factored system, into beta_d: dual,
 * β = (rhs − Xt·y)/ridge in one DGEMV on a copy of rhs; primal, β = x. */
sb_rc rs_beta_from(rs_state *st, const double *sol, sb_err *err)
{
    const size_t p = (size_t)st->p;
    SB_CUDA_TRY(err, cudaMemcpyAsync(st->beta_d, st->method == SB_METHOD_DUAL ? st->rhs_d : sol,
                                     p * sizeof(double), cudaMemcpyDeviceToDevice, st->stream));
    if (st->method == SB_METHOD_DUAL) {
        const double alpha = -1.0 / st->ridge, beta_scale = 1.0 / st->ridge;
        SB_CUBLAS_TRY(err, cublasDgemv(st->blas, CUBLAS_OP_N, (int)st->p, (int)st->n, &alpha, st->X_d, (int)st->p,
                                       sol, 1, &beta_scale, st->beta_d, 1));
        st->tel.library_calls++;
    }
    return SB_OK;
}

/* The FP64 solve after w is on the device (and, dual with reupload, the
 * frame rebuilt unless frame_done): build, factor, solve, download β into
 * beta_pin. Enqueues only, never synchronises: it is also what the rep
 * graph captures (rs_capture_rep). */
sb_rc rs_fp64_body(rs_state *st, int *info, int profiled, int frame_done, sb_err *err)
{
    const size_t p = (size_t)st->p;
    const int dual = st->method == SB_METHOD_DUAL;
    const rs_factor_ops *f = st->fops;
    if (dual && st->reupload && !frame_done) {
        sb_rc rc = rs_build_dual_frame(st, err);
        if (rc != SB_OK)
            return rc;
    }
    sb_rc rc = f->build(st, err);
    if (rc != SB_OK)
        return rc;
    RS_MARK(EV_BUILT);

    double *solve_vec = dual ? st->y_d : st->beta_d;
    rc = f->factor(st, solve_vec, info, err);
    if (rc != SB_OK)
        return rc;
    st->tel.factorizations++;
    RS_MARK(EV_FACTORED);

    if (dual) {
        rc = f->solve(st, st->y_d, info, err);
        if (rc == SB_OK)
            rc = rs_beta_from(st, st->y_d, err);
        if (rc != SB_OK)
            return rc;
    } else {
        if (!f->border) /* border: the factorization wrote L⁻¹rhs there */
            SB_CUDA_TRY(err, cudaMemcpyAsync(st->beta_d, st->rhs_d, p * sizeof(double),
                                             cudaMemcpyDeviceToDevice, st->stream));
        rc = f->solve(st, st->beta_d, info, err);
        if (rc != SB_OK)
            return rc;
    }
    RS_MARK(EV_SOLVED);

    SB_CUDA_TRY(err, cudaMemcpyAsync(st->beta_pin, st->beta_d, p * sizeof(double),
                                     cudaMemcpyDeviceToHost, st->stream));
    st->tel.d2h_bytes += (long long)(p * sizeof(double));
    RS_MARK(EV_DOWNLOADED);
    return SB_OK; /* the caller synchronises (or this was captured) */
}


/* The mixed solve (rs_mixed.cu) after w is on the device: FP32 build and
 * factor, st->mx.rounds refinement rounds, β and the status word downloaded
 * together. Only a rep that needs more rounds than scheduled reads the status
 * again per extra round (up to round SB_REFINE_MAX); one that does not
 * converge sets st->last.fallback and the caller re-solves in FP64. */
sb_rc rs_mixed_body(rs_state *st, int profiled, sb_err *err)
{
    const size_t p = (size_t)st->p;
    const rs_mixed_ctx c = rs_mixed_ctx_of(st);
    sb_rc rc;
    if (st->method == SB_METHOD_DUAL && st->reupload) {
        if ((rc = rs_build_dual_frame(st, err)) != SB_OK || (rc = rs_mixed_frame(&st->mx, &c, err)) != SB_OK)
            return rc;
    }
    if ((rc = rs_mixed_build(&st->mx, &c, err)) != SB_OK)
        return rc;
    RS_MARK(EV_BUILT);
    if ((rc = rs_mixed_factor(&st->mx, &c, err)) != SB_OK)
        return rc;
    RS_MARK(EV_FACTORED);
    int round = st->mx.rounds;
    if ((rc = rs_mixed_rounds(&st->mx, &c, 0, round, err)) != SB_OK || (rc = rs_beta_from(st, st->mx.x, err)) != SB_OK)
        return rc;
    RS_MARK(EV_SOLVED);
    if ((rc = rs_mixed_status(&st->mx, &c, err)) != SB_OK)
        return rc;
    SB_CUDA_TRY(err, cudaMemcpyAsync(st->beta_pin, st->beta_d, p * sizeof(double), cudaMemcpyDeviceToHost,
                                     st->stream));
    st->tel.d2h_bytes += (long long)(p * sizeof(double));
    RS_MARK(EV_DOWNLOADED);
    SB_CUDA_TRY(err, cudaStreamSynchronize(st->stream));
    const int *status = st->mx.status_pin;
    const int scheduled = round;
    while (status[SB_RSM_STATE] == SB_RSM_REFINING && round <= SB_REFINE_MAX) {
        if ((rc = rs_mixed_rounds(&st->mx, &c, round, 1, err)) != SB_OK || (rc = rs_mixed_status(&st->mx, &c, err)) != SB_OK)
            return rc;
        SB_CUDA_TRY(err, cudaStreamSynchronize(st->stream));
        ++round;
    }
    if (status[SB_RSM_STATE] == SB_RSM_CONVERGED && round > scheduled) {
        if ((rc = rs_beta_from(st, st->mx.x, err)) != SB_OK)
            return rc;
        SB_CUDA_TRY(err, cudaMemcpyAsync(st->beta_pin, st->beta_d, p * sizeof(double), cudaMemcpyDeviceToHost,
                                         st->stream));
        st->tel.d2h_bytes += (long long)(p * sizeof(double));
        SB_CUDA_TRY(err, cudaStreamSynchronize(st->stream));
    }
    st->last.mixed = 1;
    st->last.factor = "library";
    st->last.iterations = status[SB_RSM_ITERATIONS];
    if (status[SB_RSM_STATE] != SB_RSM_CONVERGED) {
        st->last.fallback = 1;
        st->last.why = status[SB_RSM_STATE] == SB_RSM_FAILED
                           ? "the FP32 factorization failed or the refinement produced a non-finite residual"
                           : "the FP64 refinement did not converge within the iteration cap";
        return SB_OK;
    }
    /* schedule what the slowest rep so far needed: later reps read the status once */
    st->mx.rounds = std::max(st->mx.rounds, st->last.iterations + 1);
    return SB_OK;
}

/* The upload that starts every rep, from the pinned buffers: X again with
 * reupload, then w. */
sb_rc rs_upload(rs_state *st, int profiled, sb_err *err)
{
    const size_t n = (size_t)st->n, p = (size_t)st->p;
    RS_MARK(EV_START);
    if (st->reupload) {
        SB_CUDA_TRY(err, cudaMemcpyAsync(st->X_d, st->X_pin, n * p * sizeof(double),
                                         cudaMemcpyHostToDevice, st->stream));
        st->tel.h2d_bytes += (long long)(n * p * sizeof(double));
        st->tel.frame_builds++;
    }
    SB_CUDA_TRY(err, cudaMemcpyAsync(st->w_d, st->w_pin, n * sizeof(double), cudaMemcpyHostToDevice,
                                     st->stream));
    st->tel.h2d_bytes += (long long)(n * sizeof(double));
    RS_MARK(EV_UPLOADED);
    return SB_OK;
}

void rs_tel_add(sb_telemetry *t, const sb_telemetry *d, long long sign)
{
    t->handle_creations += sign * d->handle_creations;
    t->factorizations += sign * d->factorizations;
    t->frame_builds += sign * d->frame_builds;
    t->h2d_bytes += sign * d->h2d_bytes;
    t->d2h_bytes += sign * d->d2h_bytes;
    t->library_calls += sign * d->library_calls;
    t->own_kernel_launches += sign * d->own_kernel_launches;
}

/* The whole FP64 rep of a blocked/tiled state, enqueued, not synchronised:
 * upload, build, factor, solve, β into beta_pin, then rs_info_commit. The
 * factorization and the solves write their status into the fixed word
 * info_d[max_solves + RS_INFO_REP] (a graph has fixed pointers); the commit
 * kernel moves it into the slot counted on the device
 * (info_d[max_solves + RS_INFO_NEXT]), which advances once per rep, graphed
 * or not, in step with st->solves. */
sb_rc rs_own_rep(rs_state *st, int profiled, sb_err *err)
{
    int *extra = st->info_d + st->max_solves;
    sb_rc rc = rs_upload(st, profiled, err);
    if (rc == SB_OK)
        rc = rs_fp64_body(st, extra + RS_INFO_REP, profiled, 0, err);
    if (rc != SB_OK)
        return rc;
    SB_LAUNCH_TRY(err, sb_launch_info_commit(st->info_d, st->max_solves, extra + RS_INFO_REP,
                                             (unsigned *)(extra + RS_INFO_NEXT), st->stream));
    st->tel.own_kernel_launches++;
    return SB_OK;
}

/* Captures rs_own_rep once into st->rep_graph. Nothing runs during the
 * capture, so what it added to the telemetry is taken back and kept as
 * rep_tel, what each replay adds. Every input of the rep is read at replay
 * time from memory whose address is fixed: w from w_pin (filled by the host
 * before each launch), the chain and tiled states on the device
 * (sb_chain_ctl: no host bookkeeping between launches), the status word and
 * slot counter above. A capture or instantiation failure is a runtime error
 * (there is no silent fallback to the stream path). */
sb_rc rs_capture_rep(rs_state *st, sb_err *err)
{
    const sb_telemetry before = st->tel;
    /* thread-local: another host thread's unsafe call (a cudaMalloc) cannot
     * invalidate this capture, nor this one fail the other's */
    SB_CUDA_TRY(err, cudaStreamBeginCapture(st->stream, cudaStreamCaptureModeThreadLocal));
    sb_rc rc = rs_own_rep(st, 0, err);
    cudaGraph_t graph = NULL;
    const cudaError_t e = cudaStreamEndCapture(st->stream, &graph); /* always end it */
    st->rep_tel = st->tel;
    rs_tel_add(&st->rep_tel, &before, -1);
    st->tel = before;
    if (rc == SB_OK && e != cudaSuccess)
        rc = sb_fail(err, SB_E_RUNTIME, "capturing the rep as a CUDA graph: cudaStreamEndCapture: %s (%s)",
                     cudaGetErrorName(e), cudaGetErrorString(e));
    if (rc == SB_OK) {
        const cudaError_t ei = cudaGraphInstantiate(&st->rep_graph, graph, 0);
        if (ei != cudaSuccess) {
            st->rep_graph = NULL;
            rc = sb_fail(err, SB_E_RUNTIME, "instantiating the rep's CUDA graph: cudaGraphInstantiate: %s (%s)",
                         cudaGetErrorName(ei), cudaGetErrorString(ei));
        }
    }
    if (graph)
        cudaGraphDestroy(graph);
    if (rc != SB_OK)
        cudaGetLastError(); /* the error is in err; do not leave it sticky for the next call */
    return rc;
}

/* The rep of RS_FACTOR_LIBRARY, on the stream: upload, then the mixed solve
 * (--precision mixed|auto) and, without it or after its fallback, the FP64
 * one. */
sb_rc rs_rep_stream(rs_state *st, int *info, double *beta, int profiled, sb_err *err)
{
    const size_t p = (size_t)st->p;
    sb_rc rc0 = rs_upload(st, profiled, err);
    if (rc0 != SB_OK)
        return rc0;
    int frame_done = 0;
    if (st->mixed_now) {
        sb_rc rc = rs_mixed_body(st, profiled, err);
        if (rc != SB_OK)
            return rc;
        frame_done = 1;
    }
    if (!st->mixed_now || st->last.fallback) {
        sb_rc rc = rs_fp64_body(st, info, profiled, frame_done, err);
        if (rc != SB_OK)
            return rc;
        SB_CUDA_TRY(err, cudaStreamSynchronize(st->stream));
    }
    if (!st->decided) {
        st->decided = 1;
        st->mixed_now = sb_precision_auto_decide(&st->last);
    }
    memcpy(beta, st->beta_pin, p * sizeof(double));
    return SB_OK;
}

/* The rep of RS_FACTOR_BLOCKED and RS_FACTOR_TILED (FP64 only; the status
 * goes to the slot counted on the device, not to info): profile() runs the
 * rep on the stream with its events; so does the first solve(), so that
 * every library's first use (cuBLAS may set itself up on it) happens
 * outside a capture; the second solve() captures the rep graph and every
 * later one replays it. */
sb_rc rs_rep_graph(rs_state *st, int * /* info */, double *beta, int profiled, sb_err *err)
{
    const size_t p = (size_t)st->p;
    if (profiled || st->stream_reps == 0) {
        sb_rc rc = rs_own_rep(st, profiled, err);
        if (rc != SB_OK)
            return rc;
        st->stream_reps++;
    } else {
        if (!st->rep_graph) {
            sb_rc rc = rs_capture_rep(st, err);
            if (rc != SB_OK)
                return rc;
        }
        SB_CUDA_TRY(err, cudaGraphLaunch(st->rep_graph, st->stream));
        rs_tel_add(&st->tel, &st->rep_tel, 1);
    }
    SB_CUDA_TRY(err, cudaStreamSynchronize(st->stream));
    memcpy(beta, st->beta_pin, p * sizeof(double));
    return SB_OK;
}

#undef RS_MARK

/* ------------------------------------------------------------------ */
/* the factor variants' tables                                         */

const rs_factor_ops RS_FACTOR_LIBRARY = {
    "library",          /* name */
    0,                  /* border */
    1,                  /* scaled_copy */
    1,                  /* mixed_ok */
    "triangular solve", /* timeout_what */
    rs_library_create,  /* create */
    rs_build_plain,     /* build */
    rs_library_factor,  /* factor */
    rs_library_solve,   /* solve */
    rs_rep_stream,      /* rep */
};

const rs_factor_ops RS_FACTOR_BLOCKED = {
    "blocked",          /* name */
    0,                  /* border */
    1,                  /* scaled_copy */
    0,                  /* mixed_ok */
    "triangular solve", /* timeout_what */
    rs_blocked_create,  /* create */
    rs_build_plain,     /* build */
    rs_blocked_factor,  /* factor */
    rs_blocked_solve,   /* solve */
    rs_rep_graph,       /* rep */
};

const rs_factor_ops RS_FACTOR_TILED = {
    "tiled", /* name */
    1,       /* border */
    0,       /* scaled_copy: the Gram kernel weights X as it loads it */
    0,       /* mixed_ok */
    "tiled factorization or triangular solve", /* timeout_what */
    rs_tiled_create,   /* create */
    rs_build_bordered, /* build */
    rs_tiled_factor,   /* factor */
    rs_tiled_solve,    /* solve */
    rs_rep_graph,      /* rep */
};

/* --factor's values, in the order they are matched */
const rs_factor_ops *const rs_factors[] = {&RS_FACTOR_LIBRARY, &RS_FACTOR_BLOCKED, &RS_FACTOR_TILED};

/* ------------------------------------------------------------------ */
/* create                                                              */

sb_rc rs_create_body(rs_state *st, const sb_rs_problem *prob, sb_err *err)
{
    const size_t n = (size_t)st->n, p = (size_t)st->p, lda = (size_t)st->lda;
    const size_t x_bytes = n * p * sizeof(double);
    const int dual = st->method == SB_METHOD_DUAL;

    sb_rc rc = sb_cuda_lib_open(&st->stream, &st->blas, &st->solver, &st->params, &st->tel.handle_creations, err);
    if (rc != SB_OK)
        return rc;
    for (int i = 0; i < RS_NEV; ++i)
        SB_CUDA_TRY(err, cudaEventCreate(&st->ev[i]));

    /* every buffer is allocated here, once; the solves allocate nothing */
    SB_CUDA_TRY(err, cudaMalloc((void **)&st->X_d, x_bytes));
    SB_CUDA_TRY(err, cudaMalloc((void **)&st->w_d, n * sizeof(double)));
    SB_CUDA_TRY(err, cudaMalloc((void **)&st->rhs_d, p * sizeof(double)));
    SB_CUDA_TRY(err, cudaMalloc((void **)&st->beta_d, p * sizeof(double)));
    SB_CUDA_TRY(err, cudaMalloc((void **)&st->A_d, lda * lda * sizeof(double)));
    /* the upper triangle is never written: keep it defined */
    SB_CUDA_TRY(err, cudaMemsetAsync(st->A_d, 0, lda * lda * sizeof(double), st->stream));
    if (dual) {
        SB_CUDA_TRY(err, cudaMalloc((void **)&st->K_d, n * n * sizeof(double)));
        SB_CUDA_TRY(err, cudaMemsetAsync(st->K_d, 0, n * n * sizeof(double), st->stream));
        SB_CUDA_TRY(err, cudaMalloc((void **)&st->v_d, n * sizeof(double)));
        SB_CUDA_TRY(err, cudaMalloc((void **)&st->y_d, n * sizeof(double)));
    } else if (st->fops->scaled_copy) { /* not tiled: its Gram kernel weights X as it loads it */
        SB_CUDA_TRY(err, cudaMalloc((void **)&st->Xs_d, x_bytes));
    }
    const size_t info_bytes = ((size_t)st->max_solves + RS_INFO_EXTRA) * sizeof(int);
    SB_CUDA_TRY(err, cudaMalloc((void **)&st->info_d, info_bytes));
    SB_CUDA_TRY(err, cudaMemsetAsync(st->info_d, 0, info_bytes, st->stream));
    st->info_h = (int *)calloc((size_t)st->max_solves, sizeof(int));
    if (!st->info_h)
        return sb_fail(err, SB_E_RUNTIME, "out of host memory (%d info slots)", st->max_solves);

    rc = st->fops->create(st, err); /* the variant's workspaces */
    if (rc != SB_OK)
        return rc;

    SB_CUDA_TRY(err, cudaMallocHost((void **)&st->w_pin, n * sizeof(double)));
    SB_CUDA_TRY(err, cudaMallocHost((void **)&st->beta_pin, p * sizeof(double)));

    /* Stage X. The reupload baseline keeps a pinned copy to send every solve. */
    const double *x_src = prob->X;
    if (st->reupload) {
        SB_CUDA_TRY(err, cudaMallocHost((void **)&st->X_pin, x_bytes));
        memcpy(st->X_pin, prob->X, x_bytes);
        x_src = st->X_pin;
    }
    SB_CUDA_TRY(err, cudaMemcpyAsync(st->X_d, x_src, x_bytes, cudaMemcpyHostToDevice, st->stream));
    st->tel.h2d_bytes += (long long)x_bytes;
    /* the caller's rhs is pageable and need not outlive create(): the copy
     * is complete when cudaMemcpyAsync returns for a pageable source, and
     * the synchronisation below makes that explicit */
    SB_CUDA_TRY(err, cudaMemcpyAsync(st->rhs_d, prob->rhs, p * sizeof(double),
                                     cudaMemcpyHostToDevice, st->stream));
    st->tel.h2d_bytes += (long long)(p * sizeof(double));
    if (dual) {
        rc = rs_build_dual_frame(st, err);
        if (rc != SB_OK)
            return rc;
    }
    if (st->precision != SB_PREC_FP64) {
        const rs_mixed_ctx c = rs_mixed_ctx_of(st);
        rc = rs_mixed_create(&st->mx, &c, err);
        if (rc != SB_OK)
            return rc;
    }
    st->tel.frame_builds = 1;
    SB_CUDA_TRY(err, cudaStreamSynchronize(st->stream));
    return SB_OK;
}

sb_rc rs_create(const sb_rs_problem *prob, void **state, sb_err *err)
{
    *state = NULL;
    if (!prob || !prob->X || !prob->rhs)
        return sb_fail(err, SB_E_INPUT, "cuda resident-solve: no problem data");
    if (prob->n <= 0 || prob->p <= 0 || prob->n > INT_MAX || prob->p > INT_MAX)
        return sb_fail(err, SB_E_INPUT,
                       "cuda resident-solve: n=%lld, p=%lld out of range (1..%d: cuBLAS sizes are int)",
                       (long long)prob->n, (long long)prob->p, INT_MAX);
    if (prob->max_solves < 1)
        return sb_fail(err, SB_E_INPUT, "cuda resident-solve: max_solves=%d, needs >= 1",
                       prob->max_solves);
    if (prob->method != SB_METHOD_PRIMAL && prob->method != SB_METHOD_DUAL)
        return sb_fail(err, SB_E_INPUT, "cuda resident-solve: unknown method %d", (int)prob->method);
    if (!(prob->ridge >= 0.0) || !(prob->ridge <= DBL_MAX))
        return sb_fail(err, SB_E_INPUT, "cuda resident-solve: ridge=%g must be finite and >= 0",
                       prob->ridge);
    if (prob->method == SB_METHOD_DUAL && !(prob->ridge > 0.0))
        return sb_fail(err, SB_E_INPUT,
                       "cuda resident-solve: the dual form divides by ridge, which is %g",
                       prob->ridge);
    /* auto: the variant committed GPU measurements favour for this device
     * generation and shape class (src/rs_auto.c), the library while
     * none does; mixed precision factors with the library */
    const char *variant = prob->factor ? prob->factor : "library";
    const char *factor_why = NULL;
    if (strcmp(variant, "auto") == 0) {
        if (prob->precision != SB_PREC_FP64) {
            variant = "library";
            factor_why = "auto: --precision mixed|auto factors in FP32 with the library";
        } else {
            int dev = 0;
            cudaDeviceProp props;
            if (cudaGetDevice(&dev) != cudaSuccess || cudaGetDeviceProperties(&props, dev) != cudaSuccess) {
                cudaGetLastError();
                props.major = 0; /* no device: create fails at the probe below */
            }
            variant = sb_factor_auto(props.major, prob->method, prob->method == SB_METHOD_DUAL ? prob->n : prob->p,
                                     &factor_why);
        }
    }
    const rs_factor_ops *fops = NULL;
    for (const rs_factor_ops *f : rs_factors)
        if (strcmp(variant, f->name) == 0) {
            fops = f;
            break;
        }
    if (!fops)
        return sb_fail(err, SB_E_INPUT, "unknown --factor '%s' (cuda: library|blocked|tiled|auto)",
                       prob->factor);

    if (prob->precision != SB_PREC_FP64 && !fops->mixed_ok)
        return sb_fail(err, SB_E_INPUT,
                       "cuda resident-solve: --precision mixed|auto factors in FP32 with cuSOLVER; "
                       "it does not combine with --factor %s", prob->factor);

    const int64_t N = prob->method == SB_METHOD_DUAL ? prob->n : prob->p;
    /* n, p <= INT_MAX, so n·p and N·N fit in 64 bits; bytes must fit size_t */
    const double most = (double)SIZE_MAX / sizeof(double) / 4;
    if ((double)prob->n * (double)prob->p > most || (double)N * (double)N > most)
        return sb_fail(err, SB_E_INPUT, "cuda resident-solve: n=%lld, p=%lld too large",
                       (long long)prob->n, (long long)prob->p);

    /* no device: the same SB_E_NODEVICE and reason as probe() */
    sb_rc rc = sb_cuda_probe(NULL, err);
    if (rc != SB_OK)
        return rc;

    rs_state *st = (rs_state *)calloc(1, sizeof *st);
    if (!st)
        return sb_fail(err, SB_E_RUNTIME, "out of host memory (resident-solve state)");
    st->n = prob->n;
    st->p = prob->p;
    st->N = N;
    st->lda = N + fops->border;
    st->method = prob->method;
    st->reupload = prob->reupload ? 1 : 0;
    st->max_solves = prob->max_solves;
    st->ridge = prob->ridge;
    st->fops = fops;
    st->factor_why = factor_why;
    st->failed_solve = -1;
    st->precision = prob->precision;
    st->mixed_now = prob->precision != SB_PREC_FP64;
    st->decided = prob->precision != SB_PREC_AUTO;

    rc = rs_create_body(st, prob, err);
    if (rc != SB_OK) {
        rs_destroy(st);
        return rc;
    }
    *state = st;
    return SB_OK;
}

/* One solve, shared by solve() and profile() (profiled: record the phase
 * events). Synchronous: beta holds β on return. */
sb_rc rs_run_body(rs_state *st, const double *w, double *beta, int profiled, sb_err *err)
{
    const size_t n = (size_t)st->n;

    /* Stage w in pinned memory. Its values were validated where they enter
     * the tool (fixture, .npy reader): no second pass inside the timed rep. */
    memcpy(st->w_pin, w, n * sizeof(double));
    if (st->solves >= st->max_solves)
        return sb_fail(err, SB_E_RUNTIME, "solve %d exceeds max_solves=%d given at create",
                       st->solves + 1, st->max_solves);
    int *info = st->info_d + st->solves;
    st->solves++;

    sb_rs_solve_info fresh = {};
    st->last = fresh;
    st->last.factor = st->fops->name;
    st->last.factor_why = st->factor_why;
    return st->fops->rep(st, info, beta, profiled, err);
}

sb_rc rs_run(rs_state *st, const double *w, double *beta, int profiled, sb_err *err)
{
    if (st->broken)
        return sb_fail(err, SB_E_RUNTIME,
                       "cuda resident-solve: state unusable after an earlier device failure");
    sb_rc rc = rs_run_body(st, w, beta, profiled, err);
    if (rc == SB_E_RUNTIME)
        st->broken = 1;
    return rc;
}

sb_rc rs_solve(void *state, const double *w, double *beta, sb_err *err)
{
    return rs_run((rs_state *)state, w, beta, 0, err);
}

sb_rc rs_profile(void *state, const double *w, double *beta, sb_rs_breakdown *bd, sb_err *err)
{
    rs_state *st = (rs_state *)state;
    sb_rc rc = rs_run(st, w, beta, 1, err);
    if (rc != SB_OK)
        return rc;
    float ms[RS_NEV - 1];
    for (int i = 0; i + 1 < RS_NEV; ++i)
        SB_CUDA_TRY(err, cudaEventElapsedTime(&ms[i], st->ev[i], st->ev[i + 1]));
    bd->upload_ms = ms[EV_START];
    bd->build_ms = ms[EV_UPLOADED];
    bd->factor_ms = ms[EV_BUILT];
    bd->solve_ms = ms[EV_FACTORED];
    bd->download_ms = ms[EV_SOLVED];
    return SB_OK;
}

sb_rc rs_check_body(rs_state *st, sb_err *err)
{
    if (st->checked < st->solves) {
        const int first = st->checked, count = st->solves - st->checked;
        SB_CUDA_TRY(err, cudaMemcpyAsync(st->info_h + first, st->info_d + first,
                                         (size_t)count * sizeof(int), cudaMemcpyDeviceToHost,
                                         st->stream));
        SB_CUDA_TRY(err, cudaStreamSynchronize(st->stream));
        st->tel.d2h_bytes += (long long)((size_t)count * sizeof(int));
        st->checked = st->solves;
        for (int k = first; k < st->solves && st->failed_solve < 0; ++k)
            if (st->info_h[k] != 0) {
                st->failed_solve = k;
                st->failed_info = st->info_h[k];
            }
    }
    if (st->failed_solve < 0)
        return SB_OK;
    const int k = st->failed_solve, info = st->failed_info;
    if (info == SB_INFO_CHAIN_TIMEOUT)
        return sb_fail(err, SB_E_RUNTIME,
                       "%s failed on solve %d: a block waited past its time limit for another "
                       "block's work (device hang guard)",
                       st->fops->timeout_what, k);
    if (info > 0)
        return sb_fail(err, SB_E_RUNTIME,
                       "factorization failed on solve %d: info=%d (matrix not positive definite)",
                       k, info);
    return sb_fail(err, SB_E_RUNTIME,
                   "factorization failed on solve %d: info=%d (invalid argument)", k, info);
}

sb_rc rs_check(void *state, sb_err *err)
{
    rs_state *st = (rs_state *)state;
    sb_rc rc = rs_check_body(st, err);
    if (rc == SB_E_RUNTIME)
        st->broken = 1;
    return rc;
}

void rs_telemetry(const void *state, sb_telemetry *t)
{
    *t = ((const rs_state *)state)->tel;
}

void rs_last_solve(const void *state, sb_rs_solve_info *info)
{
    *info = ((const rs_state *)state)->last;
}

} // namespace

extern "C" const sb_rs_ops sb_cuda_rs_ops = {
    rs_create,     /* create */
    rs_solve,      /* solve */
    rs_profile,    /* profile */
    rs_check,      /* check */
    rs_telemetry,  /* telemetry */
    rs_last_solve, /* last_solve */
    rs_destroy,    /* destroy */
};
