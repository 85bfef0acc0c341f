/* The CUDA arrow-Schur solve mode (src/arrow.h, docs/workloads.md §2–§3): the `arrow`
 * table of sb_cuda_backend. Own kernels live in arrow_kernels.cuh; error
 * macros in cuda_check.h (they return SB_E_RUNTIME with "call: STATUS
 * (file:line)").
 *
 * The resident frame: create() stages H_tt (n·d·d), B (n·d·p) and H_ββ (p·p)
 * once; factor() and solve() then move only what the contract says.
 *   factor(ρ_t, ρ_β), one stream, in order:
 *     arrow_row_chol     L_i = chol(H_tt,i + ρ_t I), per-row status and
 *                        Σ ln diag(L_i), one thread per row;
 *     arrow_row_forward  Y_i = L_i⁻¹B_i, one thread per (row, column). The
 *                        stacked Y is (n·d)×p row-major, i.e. the p×(n·d)
 *                        column-major A = Yᵀ of cuBLAS, so Σ Y_iᵀY_i = AAᵀ;
 *     arrow_schur_init   S = H_ββ + ρ_β I;
 *     cublasDsyrk        S −= AAᵀ (lower, alpha −1, beta 1);
 *     cusolverDnXpotrf   L_S, its info straight into the status block;
 *     arrow_logdet_reduce  logdet = 2Σ ln diag(L_i) + 2Σ ln diag(L_S) in one
 *                        block, fixed order (deterministic), plus the count of
 *                        rows that were not positive definite;
 *   then one 16-byte download of the status block and a synchronisation
 *   (factor is not inside the timed gradient-only solve). Not positive
 *   definite (a row or S): *pd = 0, *logdet = 0, rc SB_OK, and the factors
 *   are gone, so solve() refuses until a factor() succeeds (as the host mode).
 *   solve(r_t, r_β):
 *     one upload of r = (r_t, r_β) (n·d + p doubles, packed in pinned memory)
 *     into io; arrow_row_forward u = L⁻¹r_t; cublasDgemv
 *     v = Au − r_β in place on io's r_β part; cusolverDnXpotrs δβ = S⁻¹v in
 *     place; cublasDgemv u += Aᵀδβ (= u + Yδβ); arrow_row_backward_neg
 *     δt = −L⁻ᵀu into io's r_t part; one download of io = (δt, δβ); sync.
 *   The residency baseline (create's reupload = 1): every factor() first
 *   uploads H_tt, B and H_ββ again from the caller's system (sys outlives the
 *   state), then runs the same kernels; solve() is unchanged.
 *
 * Telemetry (exact, per state):
 *   create:  handle_creations = 2 (cuBLAS + cuSOLVER); frame_builds = 1;
 *            h2d += (n·d·d + n·d·p + p·p)·8.
 *   factor (every call, whatever its outcome): own_kernel_launches += 4
 *            (row_chol, row_forward, schur_init, logdet_reduce);
 *            library_calls += 2 (DSYRK, Xpotrf); d2h += 16 (the status);
 *            reupload: also h2d += (n·d·d + n·d·p + p·p)·8, frame_builds += 1.
 *            factorizations += 1 only when it succeeds (pd = 1), as in the
 *            host mode: a factorization counts when it produced factors.
 *   solve:   h2d += (n·d + p)·8; d2h += (n·d + p)·8; own_kernel_launches += 2
 *            (row_forward, row_backward_neg); library_calls += 3 (DGEMV,
 *            Xpotrs, DGEMV).
 *   Not counted: the Xpotrf workspace query (host-side, no device work),
 *   handle/stream set-up, device-to-device traffic. A call that fails before
 *   issuing something does not count it. */
#include <limits.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arrow_backend.h"
#include "arrow_kernels.h"
#include "cuda_check.h"

namespace {

struct arrow_state {
    const sb_arrow_system *sys;
    int64_t n, p, d, nd;
    int reupload;

    cudaStream_t stream;
    cublasHandle_t blas;
    cusolverDnHandle_t solver;
    cusolverDnParams_t params;

    /* the staged frame */
    double *Htt_d, *B_d, *Hbb_d;
    /* the factors */
    double *L_d; /* n·d·d, row-major lower per row */
    double *Y_d; /* n·d·p: A = Yᵀ, p×(n·d) column-major */
    double *S_d; /* p×p column-major, L_S in the lower triangle */
    int *row_info_d;
    double *row_logdiag_d;
    sb_arrow_status *status_d;
    /* solve scratch */
    double *u_d;  /* n·d */
    double *io_d; /* n·d + p: r in, δ out */
    int *potrs_info_d;
    void *work_d; /* Xpotrf workspaces */
    size_t work_d_bytes;
    void *work_h;
    size_t work_h_bytes;

    /* pinned host staging */
    double *io_pin;
    sb_arrow_status *status_pin;

    sb_telemetry tel;
    int factored; /* the last factor() succeeded: the factors are valid */
    int broken;   /* a runtime failure left device work in an unknown state */
};

void arrow_destroy(void *state)
{
    arrow_state *st = (arrow_state *)state;
    if (!st)
        return;
    if (st->stream)
        cudaStreamSynchronize(st->stream);
    cudaFree(st->Htt_d);
    cudaFree(st->B_d);
    cudaFree(st->Hbb_d);
    cudaFree(st->L_d);
    cudaFree(st->Y_d);
    cudaFree(st->S_d);
    cudaFree(st->row_info_d);
    cudaFree(st->row_logdiag_d);
    cudaFree(st->status_d);
    cudaFree(st->u_d);
    cudaFree(st->io_d);
    cudaFree(st->potrs_info_d);
    cudaFree(st->work_d);
    cudaFreeHost(st->io_pin);
    cudaFreeHost(st->status_pin);
    free(st->work_h);
    sb_cuda_lib_close(st->stream, st->blas, st->solver, st->params);
    free(st);
}

/* Upload H_tt, B, H_ββ from the caller's system: the frame. */
sb_rc arrow_stage(arrow_state *st, sb_err *err)
{
    const sb_arrow_system *sys = st->sys;
    const size_t htt = (size_t)(st->nd * st->d) * sizeof(double);
    const size_t b = (size_t)st->nd * (size_t)st->p * sizeof(double);
    const size_t hbb = (size_t)st->p * (size_t)st->p * sizeof(double);
    SB_CUDA_TRY(err, cudaMemcpyAsync(st->Htt_d, sys->Htt, htt, cudaMemcpyHostToDevice, st->stream));
    SB_CUDA_TRY(err, cudaMemcpyAsync(st->B_d, sys->B, b, cudaMemcpyHostToDevice, st->stream));
    SB_CUDA_TRY(err, cudaMemcpyAsync(st->Hbb_d, sys->Hbb, hbb, cudaMemcpyHostToDevice, st->stream));
    st->tel.h2d_bytes += (long long)(htt + b + hbb);
    st->tel.frame_builds++;
    return SB_OK;
}

sb_rc arrow_create_body(arrow_state *st, sb_err *err)
{
    const size_t n = (size_t)st->n, p = (size_t)st->p, d = (size_t)st->d, nd = (size_t)st->nd;
    const size_t D = sizeof(double);

    sb_rc rc = sb_cuda_lib_open(&st->stream, &st->blas, &st->solver, &st->params, &st->tel.handle_creations, err);
    if (rc != SB_OK)
        return rc;

    /* every buffer is allocated here, once: factor() and solve() allocate nothing */
    SB_CUDA_TRY(err, cudaMalloc((void **)&st->Htt_d, nd * d * D));
    SB_CUDA_TRY(err, cudaMalloc((void **)&st->B_d, nd * p * D));
    SB_CUDA_TRY(err, cudaMalloc((void **)&st->Hbb_d, p * p * D));
    SB_CUDA_TRY(err, cudaMalloc((void **)&st->L_d, nd * d * D));
    SB_CUDA_TRY(err, cudaMalloc((void **)&st->Y_d, nd * p * D));
    SB_CUDA_TRY(err, cudaMalloc((void **)&st->S_d, p * p * D));
    SB_CUDA_TRY(err, cudaMalloc((void **)&st->row_info_d, n * sizeof(int)));
    SB_CUDA_TRY(err, cudaMalloc((void **)&st->row_logdiag_d, n * D));
    SB_CUDA_TRY(err, cudaMalloc((void **)&st->status_d, sizeof(sb_arrow_status)));
    SB_CUDA_TRY(err, cudaMemsetAsync(st->status_d, 0, sizeof(sb_arrow_status), st->stream));
    SB_CUDA_TRY(err, cudaMalloc((void **)&st->u_d, nd * D));
    SB_CUDA_TRY(err, cudaMalloc((void **)&st->io_d, (nd + p) * D));
    SB_CUDA_TRY(err, cudaMalloc((void **)&st->potrs_info_d, sizeof(int)));

    const int pi = (int)st->p;
    SB_CUSOLVER_TRY(err, cusolverDnXpotrf_bufferSize(st->solver, st->params, CUBLAS_FILL_MODE_LOWER,
                                                     pi, CUDA_R_64F, st->S_d, pi, CUDA_R_64F,
                                                     &st->work_d_bytes, &st->work_h_bytes));
    SB_CUDA_TRY(err, cudaMalloc(&st->work_d, st->work_d_bytes > 0 ? st->work_d_bytes : 1));
    if (st->work_h_bytes > 0) {
        st->work_h = malloc(st->work_h_bytes);
        if (!st->work_h)
            return sb_fail(err, SB_E_RUNTIME, "out of host memory (cuSOLVER host workspace, %zu bytes)",
                           st->work_h_bytes);
    }

    SB_CUDA_TRY(err, cudaMallocHost((void **)&st->io_pin, (nd + p) * D));
    SB_CUDA_TRY(err, cudaMallocHost((void **)&st->status_pin, sizeof(sb_arrow_status)));

    rc = arrow_stage(st, err);
    if (rc != SB_OK)
        return rc;
    SB_CUDA_TRY(err, cudaStreamSynchronize(st->stream));
    return SB_OK;
}

sb_rc arrow_create(const sb_arrow_system *sys, int reupload, void **state, sb_err *err)
{
    *state = NULL;
    if (!sys || !sys->Htt || !sys->B || !sys->Hbb)
        return sb_fail(err, SB_E_INPUT, "cuda arrow: no system");
    if (sys->n < 1 || sys->p < 1 || sys->d < 1 || sys->d > SB_ARROW_MAX_D)
        return sb_fail(err, SB_E_INPUT, "cuda arrow: n=%lld, p=%lld, d=%lld out of range (d in 1..%d)",
                       (long long)sys->n, (long long)sys->p, (long long)sys->d, SB_ARROW_MAX_D);
    /* cuBLAS/cuSOLVER sizes are int; every byte count must fit size_t with room */
    const double nd = (double)sys->n * (double)sys->d, p = (double)sys->p;
    const double most = (double)SIZE_MAX / sizeof(double) / 4;
    if (nd > INT_MAX || p > INT_MAX || nd * p > most || p * p > most)
        return sb_fail(err, SB_E_INPUT,
                       "cuda arrow: n·d=%.0f, p=%.0f too large (each at most %d, cuBLAS sizes are int)",
                       nd, p, INT_MAX);

    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
        cudaGetLastError();
        return sb_fail(err, SB_E_NODEVICE, "no CUDA device: cudaGetDeviceCount: %s",
                       cudaGetErrorString(e));
    }
    if (count < 1)
        return sb_fail(err, SB_E_NODEVICE, "no CUDA device: cudaGetDeviceCount found 0 devices");

    arrow_state *st = (arrow_state *)calloc(1, sizeof *st);
    if (!st)
        return sb_fail(err, SB_E_RUNTIME, "out of host memory (cuda arrow state)");
    st->sys = sys;
    st->n = sys->n;
    st->p = sys->p;
    st->d = sys->d;
    st->nd = sys->n * sys->d;
    st->reupload = reupload ? 1 : 0;

    sb_rc rc = arrow_create_body(st, err);
    if (rc != SB_OK) {
        arrow_destroy(st);
        return rc;
    }
    *state = st;
    return SB_OK;
}

sb_rc arrow_factor_body(arrow_state *st, double ridge_t, double ridge_b, int *pd, double *logdet,
                        sb_err *err)
{
    const int d = (int)st->d, nd = (int)st->nd, pi = (int)st->p;
    const double one = 1.0, minus_one = -1.0;

    if (st->reupload) {
        sb_rc rc = arrow_stage(st, err);
        if (rc != SB_OK)
            return rc;
    }
    SB_LAUNCH_TRY(err, sb_launch_arrow_row_chol(st->Htt_d, st->n, d, ridge_t, st->L_d,
                                                st->row_info_d, st->row_logdiag_d, st->stream));
    st->tel.own_kernel_launches++;
    SB_LAUNCH_TRY(err, sb_launch_arrow_row_forward(st->L_d, st->B_d, st->n, d, st->p, st->Y_d,
                                                   st->stream));
    st->tel.own_kernel_launches++;
    SB_LAUNCH_TRY(err, sb_launch_arrow_schur_init(st->Hbb_d, st->p, ridge_b, st->S_d, st->stream));
    st->tel.own_kernel_launches++;
    SB_CUBLAS_TRY(err, cublasDsyrk(st->blas, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_N, pi, nd, &minus_one,
                                   st->Y_d, pi, &one, st->S_d, pi));
    st->tel.library_calls++;
    SB_CUSOLVER_TRY(err, cusolverDnXpotrf(st->solver, st->params, CUBLAS_FILL_MODE_LOWER, pi,
                                          CUDA_R_64F, st->S_d, pi, CUDA_R_64F, st->work_d,
                                          st->work_d_bytes, st->work_h, st->work_h_bytes,
                                          (int *)((char *)st->status_d +
                                                  offsetof(sb_arrow_status, schur_info))));
    st->tel.library_calls++;
    SB_LAUNCH_TRY(err, sb_launch_arrow_logdet_reduce(st->row_info_d, st->row_logdiag_d, st->n,
                                                     st->S_d, st->p, st->status_d, st->stream));
    st->tel.own_kernel_launches++;
    SB_CUDA_TRY(err, cudaMemcpyAsync(st->status_pin, st->status_d, sizeof(sb_arrow_status),
                                     cudaMemcpyDeviceToHost, st->stream));
    st->tel.d2h_bytes += (long long)sizeof(sb_arrow_status);
    SB_CUDA_TRY(err, cudaStreamSynchronize(st->stream));

    const sb_arrow_status got = *st->status_pin;
    if (got.schur_info < 0)
        return sb_fail(err, SB_E_RUNTIME, "cusolverDnXpotrf: info=%d (invalid argument)",
                       got.schur_info);
    if (got.rows_bad != 0 || got.schur_info != 0)
        return SB_OK; /* not positive definite: *pd stays 0 */
    *pd = 1;
    *logdet = got.logdet;
    st->factored = 1;
    st->tel.factorizations++;
    return SB_OK;
}

sb_rc arrow_factor(void *state, double ridge_t, double ridge_b, int *pd, double *logdet, sb_err *err)
{
    arrow_state *st = (arrow_state *)state;
    *pd = 0;
    *logdet = 0.0;
    if (st->broken)
        return sb_fail(err, SB_E_RUNTIME, "cuda arrow: state unusable after an earlier device failure");
    st->factored = 0; /* the factors are overwritten from here on */
    sb_rc rc = arrow_factor_body(st, ridge_t, ridge_b, pd, logdet, err);
    if (rc == SB_E_RUNTIME)
        st->broken = 1;
    return rc;
}

sb_rc arrow_solve_body(arrow_state *st, const double *r_t, const double *r_b, double *dt,
                       double *db, sb_err *err)
{
    const size_t nd = (size_t)st->nd, p = (size_t)st->p;
    const size_t io_bytes = (nd + p) * sizeof(double);
    const int d = (int)st->d, ndi = (int)st->nd, pi = (int)st->p;
    const double one = 1.0, minus_one = -1.0;
    double *v = st->io_d + nd; /* r_β in, then v, then δβ */

    memcpy(st->io_pin, r_t, nd * sizeof(double));
    memcpy(st->io_pin + nd, r_b, p * sizeof(double));
    SB_CUDA_TRY(err, cudaMemcpyAsync(st->io_d, st->io_pin, io_bytes, cudaMemcpyHostToDevice,
                                     st->stream));
    st->tel.h2d_bytes += (long long)io_bytes;

    SB_LAUNCH_TRY(err, sb_launch_arrow_row_forward(st->L_d, st->io_d, st->n, d, 1, st->u_d,
                                                   st->stream));
    st->tel.own_kernel_launches++;
    /* v = A·u − r_β = Σ Y_iᵀu_i − r_β */
    SB_CUBLAS_TRY(err, cublasDgemv(st->blas, CUBLAS_OP_N, pi, ndi, &one, st->Y_d, pi, st->u_d, 1,
                                   &minus_one, v, 1));
    st->tel.library_calls++;
    /* δβ = S⁻¹v; potrs reports only argument errors, which its status also reports */
    SB_CUSOLVER_TRY(err, cusolverDnXpotrs(st->solver, st->params, CUBLAS_FILL_MODE_LOWER, pi, 1,
                                          CUDA_R_64F, st->S_d, pi, CUDA_R_64F, v, pi,
                                          st->potrs_info_d));
    st->tel.library_calls++;
    /* u += Aᵀδβ: u_i + Y_i δβ */
    SB_CUBLAS_TRY(err, cublasDgemv(st->blas, CUBLAS_OP_T, pi, ndi, &one, st->Y_d, pi, v, 1, &one,
                                   st->u_d, 1));
    st->tel.library_calls++;
    SB_LAUNCH_TRY(err, sb_launch_arrow_row_backward_neg(st->L_d, st->u_d, st->n, d, st->io_d,
                                                        st->stream));
    st->tel.own_kernel_launches++;

    SB_CUDA_TRY(err, cudaMemcpyAsync(st->io_pin, st->io_d, io_bytes, cudaMemcpyDeviceToHost,
                                     st->stream));
    st->tel.d2h_bytes += (long long)io_bytes;
    SB_CUDA_TRY(err, cudaStreamSynchronize(st->stream));
    memcpy(dt, st->io_pin, nd * sizeof(double));
    memcpy(db, st->io_pin + nd, p * sizeof(double));
    return SB_OK;
}

sb_rc arrow_solve(void *state, const double *r_t, const double *r_b, double *dt, double *db,
                  sb_err *err)
{
    arrow_state *st = (arrow_state *)state;
    if (st->broken)
        return sb_fail(err, SB_E_RUNTIME, "cuda arrow: state unusable after an earlier device failure");
    if (!st->factored)
        return sb_fail(err, SB_E_RUNTIME, "cuda arrow: solve without a successful factor()");
    sb_rc rc = arrow_solve_body(st, r_t, r_b, dt, db, err);
    if (rc == SB_E_RUNTIME)
        st->broken = 1;
    return rc;
}

void arrow_telemetry(const void *state, sb_telemetry *t)
{
    *t = ((const arrow_state *)state)->tel;
}

} // namespace

extern "C" const sb_arrow_ops sb_cuda_arrow_ops = {
    arrow_create,    /* create */
    arrow_factor,    /* factor */
    arrow_solve,     /* solve */
    nullptr,         /* condition: parity takes κ̂ from the oracle */
    arrow_telemetry, /* telemetry */
    arrow_destroy,   /* destroy */
    nullptr,         /* check: nothing deferred to check */
};
