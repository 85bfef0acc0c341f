/* A saebench solver plugin on the GPU: resident-solve with cuBLAS and cuSOLVER,
 * through the CUDA runtime's C API, no kernels of its own
 * (include/saebench/solver.h; docs/plugins.md, "The CUDA example").
 *
 *   cc -O2 -shared -fPIC -fvisibility=hidden -I include -I $CUDA_HOME/include -o solver-cuda.so \
 *      solver_cuda.c -L $CUDA_HOME/lib64 -lcusolver -lcublas -lcudart -lm
 *   saebench resident-solve --shape tiny-dual --backend plugin:./solver-cuda.so --require-device
 *
 * The algebra of examples/solver-lapacke/, on the device. X is n×p row-major,
 * which read column-major is A = Xᵀ (p×n, lda = p): no transposition needed.
 *   stage:  X and rhs up once; primal also p ones (the ridge's diagonal);
 *           dual K = XXᵀ = AᵀA (DSYRK) and X·rhs = Aᵀrhs (DGEMV).
 *   primal: per rep √w up; S = A·diag(√w) (DGMM), G = SSᵀ (DSYRK), G's
 *           diagonal += ridge (DAXPY at stride p+1); Xpotrf, Xpotrs of rhs.
 *   dual:   per rep 1/w up; M = K, M's diagonal += ridge/w (DAXPY at stride
 *           n+1); Xpotrf, Xpotrs of X·rhs = y; β = (rhs − A·y)/ridge (DGEMV).
 * One stream orders everything; in a rep only download_beta waits for it. Nothing
 * that depends on w outlives a rep.
 *
 * Telemetry, exact: h2d n·p·8 + p·8 (+ p·8 ones, primal) at stage, n·8 per
 * rep; d2h p·8 (β) + 4 (Xpotrf's info word) per rep; one factorization per
 * rep; library_calls counts the cuBLAS/cuSOLVER calls that queue work (dual
 * stage 2; per rep primal 5, dual 4), not handle set-up or size queries;
 * 2 handles; no kernels of its own. */
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cusolverDn.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "saebench/solver.h"

typedef struct cuda_rs {
    int n, p, N, dual; /* N: the order of the system factored (p primal, n dual) */
    double ridge;
    cudaStream_t stream;
    cublasHandle_t blas;
    cusolverDnHandle_t solver;
    cusolverDnParams_t params;
    double *X_d;      /* X (n×p row-major), that is A = Xᵀ (p×n column-major) */
    double *rhs_d;    /* p */
    double *ones_d;   /* primal: p ones */
    double *scaled_d; /* primal: S = A·diag(√w), p×n */
    double *K_d;      /* dual: K = XXᵀ, n×n, lower triangle */
    double *xr_d;     /* dual: X·rhs, n */
    double *v_d;      /* this rep's vector: √w (primal) or 1/w (dual), n */
    double *sys_d;    /* the matrix factored, N×N, lower triangle */
    double *sol_d;    /* its right-hand side, then its solution (primal: β), N */
    double *beta_d;   /* dual: β, p */
    int *info_d;      /* [0] Xpotrf's, [1] Xpotrs's (argument errors only, which its status reports too) */
    void *work_d, *work_h;
    size_t work_d_bytes, work_h_bytes;
    double *v_h; /* pinned, max(n, p): the vector uploaded (at stage, the ones) */
    int *info_h; /* pinned: Xpotrf's info, downloaded */
    saebench_telemetry tele;
} cuda_rs;

/* Every failure is one line into saebench's buffer and a status: never exit. */
static saebench_status fail(saebench_error *err, saebench_status st, const char *what)
{
    snprintf(err->msg, err->msg_cap, "%s", what);
    return st;
}

static saebench_status cuda_failed(saebench_error *err, const char *call, cudaError_t e)
{
    snprintf(err->msg, err->msg_cap, "%s: %s (%s)", call, cudaGetErrorName(e), cudaGetErrorString(e));
    return SAEBENCH_ERR_RUNTIME;
}

static saebench_status library_failed(saebench_error *err, const char *call, int status)
{
    snprintf(err->msg, err->msg_cap, "%s: status %d", call, status);
    return SAEBENCH_ERR_RUNTIME;
}

/* The call's text names it in the message (cut at msg_cap). */
#define CUDA_TRY(call)                          \
    do {                                        \
        cudaError_t e_ = (call);                \
        if (e_ != cudaSuccess)                  \
            return cuda_failed(err, #call, e_); \
    } while (0)
/* cuBLAS and cuSOLVER: CUBLAS_STATUS_SUCCESS and CUSOLVER_STATUS_SUCCESS are 0. */
#define LIB_TRY(call)                              \
    do {                                           \
        int s_ = (int)(call);                      \
        if (s_ != 0)                               \
            return library_failed(err, #call, s_); \
    } while (0)

static void rs_destroy(void *state)
{
    cuda_rs *s = state;
    if (s->stream) /* after a failed rep, work may still be queued */
        cudaStreamSynchronize(s->stream);
    void *dev[] = {s->X_d, s->rhs_d, s->ones_d, s->scaled_d, s->K_d, s->xr_d, s->v_d,
                   s->sys_d, s->sol_d, s->beta_d, s->info_d, s->work_d};
    for (size_t i = 0; i < sizeof dev / sizeof dev[0]; i++)
        cudaFree(dev[i]);
    if (s->v_h)
        cudaFreeHost(s->v_h);
    if (s->info_h)
        cudaFreeHost(s->info_h);
    free(s->work_h);
    if (s->params)
        cusolverDnDestroyParams(s->params);
    if (s->solver)
        cusolverDnDestroy(s->solver);
    if (s->blas)
        cublasDestroy(s->blas);
    if (s->stream)
        cudaStreamDestroy(s->stream);
    free(s);
}

static saebench_status device_alloc(saebench_error *err, double **p, size_t doubles)
{
    CUDA_TRY(cudaMalloc((void **)p, doubles * sizeof(double)));
    return SAEBENCH_OK;
}

/* Handles, stream, buffers and the factorization's workspace: everything
 * but the data, which stage() brings. */
static saebench_status create_on_device(cuda_rs *s, saebench_error *err)
{
    size_t n = (size_t)s->n, p = (size_t)s->p, N = (size_t)s->N;
    saebench_status st;
    CUDA_TRY(cudaStreamCreateWithFlags(&s->stream, cudaStreamNonBlocking));
    LIB_TRY(cublasCreate(&s->blas));
    LIB_TRY(cusolverDnCreate(&s->solver));
    s->tele.handle_creations = 2;
    LIB_TRY(cusolverDnCreateParams(&s->params));
    LIB_TRY(cublasSetStream(s->blas, s->stream));
    LIB_TRY(cusolverDnSetStream(s->solver, s->stream));
    if ((st = device_alloc(err, &s->X_d, n * p)) || (st = device_alloc(err, &s->rhs_d, p)) ||
        (st = device_alloc(err, &s->v_d, n)) || (st = device_alloc(err, &s->sys_d, N * N)) ||
        (st = device_alloc(err, &s->sol_d, N)))
        return st;
    if (s->dual && ((st = device_alloc(err, &s->K_d, n * n)) || (st = device_alloc(err, &s->xr_d, n)) ||
                    (st = device_alloc(err, &s->beta_d, p))))
        return st;
    if (!s->dual && ((st = device_alloc(err, &s->ones_d, p)) || (st = device_alloc(err, &s->scaled_d, p * n))))
        return st;
    CUDA_TRY(cudaMalloc((void **)&s->info_d, 2 * sizeof(int)));
    CUDA_TRY(cudaMallocHost((void **)&s->v_h, (n > p ? n : p) * sizeof(double)));
    CUDA_TRY(cudaMallocHost((void **)&s->info_h, sizeof(int)));
    LIB_TRY(cusolverDnXpotrf_bufferSize(s->solver, s->params, CUBLAS_FILL_MODE_LOWER, s->N, CUDA_R_64F, s->sys_d,
                                        s->N, CUDA_R_64F, &s->work_d_bytes, &s->work_h_bytes));
    CUDA_TRY(cudaMalloc(&s->work_d, s->work_d_bytes ? s->work_d_bytes : 1));
    if (!(s->work_h = malloc(s->work_h_bytes ? s->work_h_bytes : 1)))
        return fail(err, SAEBENCH_ERR_RUNTIME, "out of host memory");
    return SAEBENCH_OK;
}

static saebench_status rs_create(const saebench_rs_problem *prob, void **state, saebench_error *err)
{
    if (prob->n > INT_MAX - 1 || prob->p > INT_MAX - 1) /* cuBLAS's int sizes; the diagonal's stride is N + 1 */
        return fail(err, SAEBENCH_ERR_INPUT, "n and p above INT_MAX - 1 are not supported by this example");
    cuda_rs *s = calloc(1, sizeof *s);
    if (!s)
        return fail(err, SAEBENCH_ERR_RUNTIME, "out of host memory");
    s->n = (int)prob->n;
    s->p = (int)prob->p;
    s->dual = prob->method == SAEBENCH_RS_DUAL;
    s->N = s->dual ? s->n : s->p;
    s->ridge = prob->ridge;
    saebench_status st = create_on_device(s, err);
    if (st != SAEBENCH_OK) {
        rs_destroy(s);
        return st;
    }
    *state = s;
    return SAEBENCH_OK;
}

/* X, rhs (and the primal's ones) to the device; the dual's K and X·rhs, which
 * depend on them only, once. Untimed: it waits for all of it. */
static saebench_status rs_stage(void *state, const saebench_rs_data *data, saebench_error *err)
{
    cuda_rs *s = state;
    size_t n = (size_t)s->n, p = (size_t)s->p;
    const double one = 1.0, zero = 0.0;
    CUDA_TRY(cudaMemcpyAsync(s->X_d, data->X, n * p * sizeof(double), cudaMemcpyHostToDevice, s->stream));
    CUDA_TRY(cudaMemcpyAsync(s->rhs_d, data->rhs, p * sizeof(double), cudaMemcpyHostToDevice, s->stream));
    s->tele.h2d_bytes += (int64_t)((n * p + p) * sizeof(double));
    if (s->dual) {
        LIB_TRY(cublasDsyrk(s->blas, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_T, s->n, s->p, &one, s->X_d, s->p, &zero,
                            s->K_d, s->n));
        LIB_TRY(cublasDgemv(s->blas, CUBLAS_OP_T, s->p, s->n, &one, s->X_d, s->p, s->rhs_d, 1, &zero, s->xr_d, 1));
        s->tele.library_calls += 2;
    } else {
        for (size_t j = 0; j < p; j++)
            s->v_h[j] = 1.0;
        CUDA_TRY(cudaMemcpyAsync(s->ones_d, s->v_h, p * sizeof(double), cudaMemcpyHostToDevice, s->stream));
        s->tele.h2d_bytes += (int64_t)(p * sizeof(double));
    }
    CUDA_TRY(cudaStreamSynchronize(s->stream));
    return SAEBENCH_OK;
}

/* The one vector the rep's system needs, formed on the host from w (which is
 * saebench's only during this call) in pinned memory, and queued up. */
static saebench_status rs_upload_w(void *state, const double *w, saebench_error *err)
{
    cuda_rs *s = state;
    for (int i = 0; i < s->n; i++)
        s->v_h[i] = s->dual ? 1.0 / w[i] : sqrt(w[i]);
    CUDA_TRY(cudaMemcpyAsync(s->v_d, s->v_h, (size_t)s->n * sizeof(double), cudaMemcpyHostToDevice, s->stream));
    s->tele.h2d_bytes += (int64_t)s->n * (int64_t)sizeof(double);
    return SAEBENCH_OK;
}

/* Queues the rep: the system, its factorization and solve, the dual's β. */
static saebench_status rs_solve(void *state, saebench_error *err)
{
    cuda_rs *s = state;
    const double one = 1.0, zero = 0.0, minus_inv = -1.0 / s->ridge, inv = 1.0 / s->ridge;
    size_t N = (size_t)s->N;
    if (s->dual) {
        CUDA_TRY(cudaMemcpyAsync(s->sys_d, s->K_d, N * N * sizeof(double), cudaMemcpyDeviceToDevice, s->stream));
        LIB_TRY(cublasDaxpy(s->blas, s->N, &s->ridge, s->v_d, 1, s->sys_d, s->N + 1));
        CUDA_TRY(cudaMemcpyAsync(s->sol_d, s->xr_d, N * sizeof(double), cudaMemcpyDeviceToDevice, s->stream));
        s->tele.library_calls++;
    } else {
        LIB_TRY(cublasDdgmm(s->blas, CUBLAS_SIDE_RIGHT, s->p, s->n, s->X_d, s->p, s->v_d, 1, s->scaled_d, s->p));
        LIB_TRY(cublasDsyrk(s->blas, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_N, s->p, s->n, &one, s->scaled_d, s->p,
                            &zero, s->sys_d, s->p));
        LIB_TRY(cublasDaxpy(s->blas, s->N, &s->ridge, s->ones_d, 1, s->sys_d, s->N + 1));
        CUDA_TRY(cudaMemcpyAsync(s->sol_d, s->rhs_d, N * sizeof(double), cudaMemcpyDeviceToDevice, s->stream));
        s->tele.library_calls += 3;
    }
    LIB_TRY(cusolverDnXpotrf(s->solver, s->params, CUBLAS_FILL_MODE_LOWER, s->N, CUDA_R_64F, s->sys_d, s->N,
                             CUDA_R_64F, s->work_d, s->work_d_bytes, s->work_h, s->work_h_bytes, &s->info_d[0]));
    LIB_TRY(cusolverDnXpotrs(s->solver, s->params, CUBLAS_FILL_MODE_LOWER, s->N, 1, CUDA_R_64F, s->sys_d, s->N,
                             CUDA_R_64F, s->sol_d, s->N, &s->info_d[1]));
    s->tele.library_calls += 2;
    s->tele.factorizations++;
    if (s->dual) { /* β = (rhs − Xᵀy)/ridge, Xᵀy = A·y */
        CUDA_TRY(cudaMemcpyAsync(s->beta_d, s->rhs_d, (size_t)s->p * sizeof(double), cudaMemcpyDeviceToDevice,
                                 s->stream));
        LIB_TRY(cublasDgemv(s->blas, CUBLAS_OP_N, s->p, s->n, &minus_inv, s->X_d, s->p, s->sol_d, 1, &inv,
                            s->beta_d, 1));
        s->tele.library_calls++;
    }
    return SAEBENCH_OK;
}

/* β and Xpotrf's info word down, then wait: when this returns, β is in
 * saebench's buffer and any error of the rep has been seen. */
static saebench_status rs_download_beta(void *state, double *beta, saebench_error *err)
{
    cuda_rs *s = state;
    CUDA_TRY(cudaMemcpyAsync(beta, s->dual ? s->beta_d : s->sol_d, (size_t)s->p * sizeof(double),
                             cudaMemcpyDeviceToHost, s->stream));
    CUDA_TRY(cudaMemcpyAsync(s->info_h, s->info_d, sizeof(int), cudaMemcpyDeviceToHost, s->stream));
    CUDA_TRY(cudaStreamSynchronize(s->stream));
    s->tele.d2h_bytes += (int64_t)s->p * (int64_t)sizeof(double) + (int64_t)sizeof(int);
    if (*s->info_h != 0) {
        snprintf(err->msg, err->msg_cap, "cusolverDnXpotrf: info %d: the system is not positive definite",
                 *s->info_h);
        return SAEBENCH_ERR_RUNTIME;
    }
    return SAEBENCH_OK;
}

static saebench_status rs_telemetry(void *state, saebench_telemetry *t, saebench_error *err)
{
    (void)err;
    const cuda_rs *s = state;
    if (SAEBENCH_HAS_FIELD(t, saebench_telemetry, h2d_bytes))
        t->h2d_bytes = s->tele.h2d_bytes;
    if (SAEBENCH_HAS_FIELD(t, saebench_telemetry, d2h_bytes))
        t->d2h_bytes = s->tele.d2h_bytes;
    if (SAEBENCH_HAS_FIELD(t, saebench_telemetry, factorizations))
        t->factorizations = s->tele.factorizations;
    if (SAEBENCH_HAS_FIELD(t, saebench_telemetry, library_calls))
        t->library_calls = s->tele.library_calls;
    if (SAEBENCH_HAS_FIELD(t, saebench_telemetry, handle_creations))
        t->handle_creations = s->tele.handle_creations;
    return SAEBENCH_OK; /* kernel_launches stays 0: no kernels of its own */
}

static const saebench_rs_ops_v1 RS_OPS = {
    .struct_size = sizeof(saebench_rs_ops_v1),
    .methods = SAEBENCH_RS_METHOD_BIT(SAEBENCH_RS_PRIMAL) | SAEBENCH_RS_METHOD_BIT(SAEBENCH_RS_DUAL),
    .create = rs_create,
    .stage = rs_stage,
    .upload_w = rs_upload_w,
    .solve = rs_solve,
    .download_beta = rs_download_beta,
    .telemetry = rs_telemetry,
    .destroy = rs_destroy,
};

/* device is filled at the first call of the entry: the name the runtime
 * reports for the current device, or NULL when it reports none (create()
 * then fails with the runtime's error). */
static char device_name[128];
static saebench_solver_desc_v1 desc = {
    .struct_size = sizeof(saebench_solver_desc_v1),
    .api_version = SAEBENCH_SOLVER_API_VERSION,
    .name = "cuda-example",
    .version = "1.0.0",
    .claims_device = 1,
    .device = NULL,
    .workloads = SAEBENCH_WORKLOAD_RESIDENT_SOLVE,
    .resident_solve = &RS_OPS,
};

SAEBENCH_SOLVER_EXPORT const saebench_solver_desc_v1 *saebench_solver_v1(void)
{
    struct cudaDeviceProp prop;
    int dev = 0;
    if (!desc.device && cudaGetDevice(&dev) == cudaSuccess && cudaGetDeviceProperties(&prop, dev) == cudaSuccess) {
        size_t k = 0; /* saebench takes 1 to 127 printable ASCII characters */
        for (size_t i = 0; prop.name[i] && k < sizeof device_name - 1; i++)
            device_name[k++] = prop.name[i] >= 0x20 && prop.name[i] < 0x7f ? prop.name[i] : '?';
        device_name[k] = '\0';
        desc.device = k ? device_name : NULL;
    }
    cudaGetLastError(); /* a failed query leaves no error behind for create() */
    return &desc;
}
