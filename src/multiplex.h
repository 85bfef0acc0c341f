/* multiplex (docs/workloads.md §4): the fit matrices, a user's
 * variants file, the memory a run needs, and the two ways of running a
 * matrix — one fit after another, or a pool of workers with several fits in
 * flight. Timing, gates and the verdict are src/cmd_multiplex.c's.
 *
 * Every fit is an inner-loop fit (src/arrow.h): the §2 fixture with the fit's
 * own (n, p, d, basis_cols, seed), run by sb_arrow_fit on a fresh solve-mode
 * state. The multiplexed run returns the sequential run's results bit for
 * bit because nothing a fit computes depends on what else runs:
 *   - a fit is a pure function of its inputs: its own system, a fresh state,
 *     the LM loop's fixed summation orders;
 *   - it sees the same thread counts in both runs: OpenBLAS at 1 thread (the
 *     count is process-wide in OpenBLAS's pthread build, so both runners set
 *     it to 1 for the whole process) and OpenMP at 1 thread in the calling
 *     thread and in every worker (omp_set_num_threads is per thread);
 *   - workers share nothing writable: each result goes to its fit's slot.
 * On CUDA each state owns its stream and its cuBLAS/cuSOLVER handles, so the
 * fits in flight run on separate streams, one host thread each. */
#ifndef SB_MULTIPLEX_H
#define SB_MULTIPLEX_H

#include <stddef.h>
#include <stdint.h>

#include "arrow.h"
#include "common.h"

struct sb_arrow_case;

#define SB_MX_MAX_FITS 4096
/* color-arm (docs/workloads.md §2 Shapes): the size of every fit of the named matrices unless a
 * shape says otherwise. */
#define SB_MX_DEFAULT_N 180
#define SB_MX_DEFAULT_P 5120

typedef struct sb_mx_fit {
    char name[64];
    sb_arrow_params prm;     /* n, p, d, basis_cols, seed (+ the shape's htt_shift) */
    /* A variants entry {name, system}: the fit's own arrow system from .npy
     * files (inner-loop's --system DIR; relative to the variants file's
     * folder). "" for a generated fit. prm's n, p, d are filled from the
     * data when it is loaded. */
    char system[1024];
} sb_mx_fit;

typedef struct sb_mx_matrix {
    char name[64];           /* color-arm-variants | battery | the variants file's name */
    sb_mx_fit *fits;
    int64_t nfits;
} sb_mx_matrix;

/* Seeds (docs/workloads.md §4 Fixture): 0x1017C01000000000 ^ (K<<16) ^ (topology<<8) ^ tag
 * (topology euclidean 0, circle 1, torus 2, sphere 3; tag 0 periodic, 1
 * linear) and 0x1017004000000000 ^ (K<<8) ^ basis_cols. */
uint64_t sb_mx_color_arm_seed(int64_t K, int64_t topology, int64_t tag);
uint64_t sb_mx_battery_seed(int64_t K, int64_t basis_cols);

/* A named matrix at n × p (n, p ≤ 0: color-arm's 180 × 5120), in the order
 * K, then topology, then family (color-arm-variants: 32 fits named
 * "K1-euclidean-periodic" …; periodic d = 2, basis_cols = 8; linear d = 1,
 * basis_cols = 2) or K, then basis_cols (battery: 12 fits "K1-basis4" …,
 * d = 2). An unknown name is SB_E_INPUT. */
sb_rc sb_mx_matrix_named(const char *matrix, int64_t n, int64_t p, sb_mx_matrix *m, sb_err *err);

/* A user's matrix: a JSON array (1 to SB_MX_MAX_FITS entries) of objects with
 * exactly the keys name (unique, 1–63 printable characters), n, p (1 to
 * 2^31−1), d (1–64), basis_cols (1–4096) and seed (a "0x…" string for 64
 * bits, or an integer ≤ 2^53), with n·d + p ≤ 2^31−1 — or exactly name and
 * system (a directory of .npy files, relative to origin's folder unless
 * absolute; read later, by the command). Anything else is SB_E_INPUT with
 * one line naming origin, the entry and the field. */
sb_rc sb_mx_variants_parse(const char *text, size_t len, const char *origin, sb_mx_matrix *m, sb_err *err);
sb_rc sb_mx_variants_load(const char *path, sb_mx_matrix *m, sb_err *err);
void sb_mx_matrix_free(sb_mx_matrix *m);

/* The fits checked against the dense oracle: k (clamped to nfits) indices
 * evenly spaced over the matrix, both ends included (round(j·(F−1)/(k−1))),
 * written to idx; returns the count. */
int64_t sb_mx_oracle_sample(int64_t nfits, int64_t k, int64_t *idx);
/* Default sample size: every fit when the matrix is tiny (≤ 8 fits, or every
 * fit's n·d + p ≤ 1000), else 2 (the dense oracle is O((n·d+p)³) per fit). */
int64_t sb_mx_default_oracle_sample(const sb_mx_matrix *m);

/* What a run holds, in bytes (doubles: no overflow). The systems of every fit
 * are built before the timed sweeps (inputs are prepared outside the timed
 * interval) and live for the whole run; a fit in flight adds its solve-mode
 * state and LM scratch; the oracle runs alone after the sweeps. */
typedef struct sb_mx_memory {
    double systems;          /* every fit's H_tt, B, H_ββ, g₀ (sb_arrow_doubles) */
    double results;          /* three result sets (two references, one scratch) and the oracle's */
    double per_fit_host;     /* host bytes one fit in flight adds (largest fit) */
    double oracle;           /* the dense oracle's (n·d+p)² matrix (largest sampled fit) */
    double per_fit_device;   /* device bytes one fit in flight holds (largest fit), with
                                SB_MX_DEVICE_HANDLE_BYTES for its handles and workspaces */
} sb_mx_memory;

/* Per state: cuBLAS and cuSOLVER handles and workspaces (cuBLAS keeps up to
 * 32 MiB on Hopper), the Xpotrf workspace; an allowance, not a measurement. */
#define SB_MX_DEVICE_HANDLE_BYTES (96.0 * 1048576.0)

/* device: the fits run on a device backend (host memory then holds only
 * the LM scratch and pinned I/O per fit in flight). sample: the oracle's fits. */
void sb_mx_memory_of(const sb_mx_matrix *m, int device, const int64_t *sample, int64_t nsample, sb_mx_memory *mem);
/* Host high-water estimate with this many fits in flight. */
double sb_mx_host_bytes(const sb_mx_memory *mem, int64_t concurrency);

/* Free device memory now (cudaMemGetInfo): cuda/multiplex_mem.cu, or
 * src/cuda_stub.c (SB_E_NODEVICE) in a build without CUDA. */
sb_rc sb_cuda_free_memory(uint64_t *free_bytes, sb_err *err);

/* One sweep over a matrix whose fixtures are built. */
typedef struct sb_mx_job {
    const struct sb_arrow_case *cases; /* nfits, sys built, lm set */
    int64_t nfits;
    const sb_mx_matrix *matrix; /* or NULL: names the fits in error messages */
    const sb_arrow_ops *ops;
    sb_lm_result *res;       /* nfits results, allocated by the caller */
    double *fit_s;           /* nfits or NULL: wall seconds of each fit */
    sb_telemetry *tele;      /* nfits or NULL: each fit's state telemetry */
    int *worker;             /* nfits or NULL: the worker that ran it (0 when sequential) */
} sb_mx_job;

/* OpenBLAS at 1 thread for the whole process (its count is process-wide). */
void sb_mx_blas_single_thread(void);

/* Every fit in order on the calling thread, OpenMP at 1 thread for the
 * duration (restored after). The first failing fit stops the sweep; err
 * names it. */
sb_rc sb_mx_run_sequential(const sb_mx_job *job, sb_err *err);

/* workers threads (≥ 1; more than nfits are not started) take the fits in
 * order from a shared counter, each with OpenMP at 1 thread and a fresh
 * state per fit. On a failure no new fit starts; err names the failing fit
 * with the lowest index. */
sb_rc sb_mx_run_multiplexed(const sb_mx_job *job, int workers, sb_err *err);

#endif
