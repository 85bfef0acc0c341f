/* multiplex (docs/workloads.md §4): a matrix of independent inner-loop fits,
 * run one after another and with several fits in flight, timed as whole
 * sweeps. This file holds only the workload: the matrix and its checks, the
 * concurrency the memory allows, what one rep of each phase is, the bit-for-bit
 * comparison of the two runs and the oracle sample. The matrices and the two
 * runners are src/multiplex.c's (its header says why the runs agree bit for
 * bit); timing and verdict are src/run.h's. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arrow_case.h"
#include "commands.h"
#include "host/host_info.h"
#include "multiplex.h"
#include "run.h"

#define MX_DEFAULT_REPS 3
#define MX_DEFAULT_WARMUP 1
/* Fits in flight may use at most this share of the device memory free at start. */
#define MX_DEVICE_SHARE 0.9
#define GIB (1024.0 * 1024.0 * 1024.0)

static const sb_gate_def MX_GATES[] = {
    {"MX-001", "fits whose multiplexed result differs in any bit from the sequential run (every rep of both)", SB_CMP_EQ, 0.0, 0, 0, 0, 0},
    {"MX-002", "cross-fit speedup: sequential sweep s / multiplexed sweep s (medians)", SB_CMP_GE, 1.0, 1, 0, 0, 0},
    {"MX-003", "parity vs the dense oracle: the worst ratio over the sampled fits (step, z, objective, logdet to their bounds)", SB_CMP_LE, 1.0, 1, 0, 1, 0},
    /* Opt-in: the verdict/3 rule, a fixed tolerance whatever the conditioning. */
    {"MX-004", "worst rel_err over the sampled fits vs the dense oracle (the verdict/3 rule)", SB_CMP_LT, 1e-9, 1, 0, 1, 1},
};

static const sb_workload MX_WORKLOAD = {
    .name = "multiplex",
    .accepted = SB_OPT_SHAPE | SB_OPT_BACKEND | SB_OPT_REQUIRE_DEVICE | SB_OPT_REPS | SB_OPT_WARMUP | SB_OPT_OUT |
                SB_OPT_GATE | SB_OPT_QUIET | SB_OPT_CALIBRATION | SB_OPT_THREADS | SB_OPT_STOP | SB_OPT_CONCURRENCY |
                SB_OPT_ORACLE_SAMPLE | SB_OPT_VARIANTS,
    .gates = MX_GATES,
    .ngates = sizeof MX_GATES / sizeof MX_GATES[0],
    .target_gate = NULL, /* the 3x cross-fit target is MX-002's threshold: --gate MX-002=3 */
    .target_unit = "none",
    .rate_unit = "rows",
    .doc = "docs/workloads.md §4",
};

static void mx_help(void)
{
    printf("usage: saebench multiplex --shape NAME|FILE.json [options]\n"
           "       saebench multiplex --variants FILE.json [options]\n\n"
           "Run a matrix of independent inner-loop fits (each the arrow-Schur LM loop on\n"
           "its own fixture and a fresh state) one after another, then with several fits\n"
           "in flight (host: a pool of worker threads; cuda: one host thread and one\n"
           "stream per fit in flight); time both as whole sweeps, check every multiplexed\n"
           "result bit for bit against the sequential one and a sample against a dense\n"
           "LAPACKE oracle; write a verdict. Every fit runs with 1 BLAS and 1 OpenMP\n"
           "thread in both runs (OpenBLAS's count is process-wide: 1 for the sweeps).\n"
           "--concurrency N (or --threads N) sets the fits in flight; default: the host's\n"
           "cores, at most the fits, within host and device memory.\n\n");
}

typedef struct mx_data {
    sb_shape shape;
    sb_mx_matrix m;
    sb_lm_opts lm;
    double htt_shift;
    int64_t *sample;         /* fits checked against the oracle */
    int64_t nsample;
    int64_t concurrency;
    const char *concurrency_why;
    sb_mx_memory mem;
    uint64_t device_free;
    sb_arrow_case *cases;
    int64_t data_fits;       /* fits whose system came from --variants {name, system} */
    sb_lm_result *mux_ref, *seq_ref, *scratch, *oracle;
    double *mux_s, *seq_s;
    sb_telemetry *mux_tele, *seq_tele;
    int *mux_worker;
    int *differs;            /* per fit: some comparison differed */
    const char **diff_field;
    char (*diff_where)[96];
    int blas_default;        /* OpenBLAS's thread count before the sweeps */
    double rows;             /* rows per sweep: every fit's n */
    sb_phase *mux, *seq;     /* the two sweeps */
    int swept;               /* both sweeps completed */
    int64_t differing;       /* fits whose multiplexed result differs */
    int64_t first;           /* the first of them, or -1 */
    sb_lm_parity_t *oracle_par; /* per sampled fit: parity against the oracle */
    sb_lm_parity_t par;      /* the worst of them */
    int64_t par_fit;         /* its fit (-1: none) */
    int oracle_done;
    double speedup;          /* sequential / multiplexed sweep medians */
} mx_data;

static void mx_free(mx_data *d)
{
    sb_lm_result *sets[] = {d->mux_ref, d->seq_ref, d->scratch};
    for (int s = 0; s < 3; s++) {
        for (int64_t f = 0; sets[s] && f < d->m.nfits; f++)
            sb_lm_result_free(&sets[s][f]);
        free(sets[s]);
    }
    for (int64_t k = 0; d->oracle && k < d->nsample; k++)
        sb_lm_result_free(&d->oracle[k]);
    free(d->oracle);
    for (int64_t f = 0; d->cases && f < d->m.nfits; f++)
        sb_arrow_case_free(&d->cases[f]);
    free(d->cases);
    free(d->mux_s);
    free(d->seq_s);
    free(d->mux_tele);
    free(d->seq_tele);
    free(d->mux_worker);
    free(d->differs);
    free(d->diff_field);
    free(d->diff_where);
    free(d->sample);
    free(d->oracle_par);
    sb_mx_matrix_free(&d->m);
}

/* The verdict's shape for a variants file, through the shape parser so it
 * obeys the same rules as a shape file. */
static sb_rc shape_of_variants(mx_data *d, const char *path, sb_err *err)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "name", d->m.name[0] ? d->m.name : "variants");
    cJSON *wl = cJSON_AddArrayToObject(j, "workloads");
    cJSON_AddItemToArray(wl, cJSON_CreateString("multiplex"));
    char desc[160];
    snprintf(desc, sizeof desc, "%lld fits from --variants", (long long)d->m.nfits);
    cJSON_AddStringToObject(j, "description", desc);
    cJSON_AddStringToObject(j, "matrix", d->m.name[0] ? d->m.name : "variants");
    return sb_shape_from_json(j, path, &d->shape, err);
}

/* The cases, and the systems of the variants' data fits ({name, system}),
 * read and checked here, before any work; each fit's n, p, d are the data's. */
static sb_rc mx_load_data_fits(const sb_opts *o, mx_data *d, sb_err *err)
{
    d->cases = sb_alloc((size_t)d->m.nfits, sizeof *d->cases, err);
    if (!d->cases)
        return SB_E_RUNTIME;
    for (int64_t f = 0; f < d->m.nfits; f++) {
        sb_mx_fit *x = &d->m.fits[f];
        if (!x->system[0])
            continue;
        sb_opts so = *o;
        so.system = x->system;
        sb_arrow_case *c = &d->cases[f];
        sb_rc rc = sb_arrow_case_load_system(&so, SB_WL_INNER_LOOP, c, err);
        if (rc)
            return rc;
        x->prm.n = c->sys.n, x->prm.p = c->sys.p, x->prm.d = c->sys.d;
        if ((double)x->prm.n * (double)x->prm.d + (double)x->prm.p > 2147483647.0)
            return sb_fail(err, SB_E_INPUT, "fit %s: n*d + p exceeds 2^31-1", x->name);
        d->data_fits++;
    }
    return SB_OK;
}

/* Read the matrix (a shape's, or --variants) and check every option and
 * input that needs no backend. */
static sb_rc mx_read(const sb_opts *o, mx_data *d, sb_err *err)
{
    if (o->shape && o->variants)
        return sb_fail(err, SB_E_INPUT, "multiplex: give --shape or --variants, not both");
    if (!o->shape && !o->variants)
        return sb_fail(err, SB_E_INPUT, "multiplex: give --shape NAME (see 'saebench shapes') or --variants FILE.json");
    if (o->concurrency > 0 && o->threads > 0)
        return sb_fail(err, SB_E_INPUT, "--concurrency and --threads both set the fits in flight: give one");
    sb_lm_default_opts(&d->lm);
    sb_rc rc;
    if (o->shape) {
        if ((rc = sb_shape_load(o->shape, &d->shape, err)))
            return rc;
        const sb_shape *s = &d->shape;
        if (!sb_shape_serves(s, SB_WL_MULTIPLEX))
            return sb_fail(err, SB_E_INPUT, "shape \"%s\" is not a multiplex shape", s->name);
        if (s->d || s->basis_cols || s->seed)
            return sb_fail(err, SB_E_INPUT, "shape %s: d, basis_cols and seed are set per fit by the matrix \"%s\"; "
                           "use --variants for fits of your own", s->name, s->matrix);
        if ((rc = sb_mx_matrix_named(s->matrix, s->n, s->p, &d->m, err))) {
            char why[sizeof err->msg];
            snprintf(why, sizeof why, "%s", err->msg);
            return rc == SB_E_INPUT ? sb_fail(err, SB_E_INPUT, "shape %s: %s", s->name, why) : rc;
        }
        d->htt_shift = s->htt_shift;
        if (s->max_iterations > 0)
            d->lm.max_iterations = (int)s->max_iterations;
    } else {
        if ((rc = sb_mx_variants_load(o->variants, &d->m, err)) || (rc = shape_of_variants(d, o->variants, err)))
            return rc;
    }
    for (int64_t f = 0; f < d->m.nfits; f++)
        d->m.fits[f].prm.htt_shift = d->htt_shift;
    if ((rc = mx_load_data_fits(o, d, err)))
        return rc;
    int64_t k = o->oracle_sample > 0 ? o->oracle_sample : sb_mx_default_oracle_sample(&d->m);
    d->sample = sb_alloc((size_t)(k < d->m.nfits ? k : d->m.nfits), sizeof *d->sample, err);
    if (!d->sample)
        return SB_E_RUNTIME;
    d->nsample = sb_mx_oracle_sample(d->m.nfits, k, d->sample);
    return SB_OK;
}

/* Fits in flight: --concurrency (or --threads), else the host's cores, at
 * most the fits; then what host memory (every system, the fits in flight,
 * the oracle) and device memory (the fits in flight) allow. An explicit
 * request that does not fit is an input error (exit 2), before any work. */
static sb_rc mx_plan(const sb_run *r, mx_data *d, sb_err *err)
{
    const sb_opts *o = &r->opts;
    const int device = r->backend->is_device;
    const int64_t F = d->m.nfits;
    sb_mx_memory_of(&d->m, device, d->sample, d->nsample, &d->mem);
    const sb_mx_memory *mem = &d->mem;
    int64_t asked = o->concurrency > 0 ? o->concurrency : o->threads > 0 ? o->threads : 0;
    const char *flag = o->concurrency > 0 ? "--concurrency" : "--threads";
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int64_t want = asked > 0 ? asked : cores > 0 ? cores : 1;
    if (want > F)
        want = F;

    /* The most fits in flight each memory allows (F when unknown). */
    int64_t host_most = F, device_most = F;
    uint64_t have = sb_physical_memory();
    double fixed = mem->systems + mem->results + mem->oracle;
    if (have) {
        double room = (double)have - fixed;
        host_most = room < mem->per_fit_host ? 0 : (int64_t)fmin((double)F, floor(room / mem->per_fit_host));
    }
    if (device) {
        sb_rc rc = sb_cuda_free_memory(&d->device_free, err);
        if (rc)
            return rc;
        double budget = MX_DEVICE_SHARE * (double)d->device_free;
        device_most = budget < mem->per_fit_device ? 0 : (int64_t)fmin((double)F, floor(budget / mem->per_fit_device));
    }
    if (host_most < 1)
        return sb_fail(err, SB_E_INPUT, "matrix %s: %lld fits need %.1f GiB of host memory with one fit in flight "
                       "(systems %.1f, %.1f per fit in flight, oracle %.1f); this machine has %.1f GiB",
                       d->m.name, (long long)F, sb_mx_host_bytes(mem, 1) / GIB, mem->systems / GIB,
                       mem->per_fit_host / GIB, mem->oracle / GIB, (double)have / GIB);
    if (device_most < 1)
        return sb_fail(err, SB_E_INPUT, "matrix %s: one fit in flight needs %.2f GiB of device memory; %.2f GiB is free",
                       d->m.name, mem->per_fit_device / GIB, (double)d->device_free / GIB);
    if (asked > 0 && want > host_most)
        return sb_fail(err, SB_E_INPUT, "%s %lld: %lld fits in flight need %.1f GiB of host memory (systems %.1f, "
                       "%lld x %.2f per fit in flight, oracle %.1f); this machine has %.1f GiB: at most %lld in flight",
                       flag, (long long)asked, (long long)want, sb_mx_host_bytes(mem, want) / GIB, mem->systems / GIB,
                       (long long)want, mem->per_fit_host / GIB, mem->oracle / GIB, (double)have / GIB,
                       (long long)host_most);
    if (asked > 0 && want > device_most)
        return sb_fail(err, SB_E_INPUT, "%s %lld: %lld fits in flight need %.1f GiB of device memory (%.2f GiB each); "
                       "%.1f GiB is free: at most %lld in flight in %.0f%% of it",
                       flag, (long long)asked, (long long)want, (double)want * mem->per_fit_device / GIB,
                       mem->per_fit_device / GIB, (double)d->device_free / GIB, (long long)device_most,
                       100.0 * MX_DEVICE_SHARE);
    d->concurrency = want;
    d->concurrency_why = asked > 0 ? (o->concurrency > 0 ? "--concurrency" : "--threads") : "the host's cores";
    if (want > host_most || want > device_most) {
        d->concurrency = host_most < device_most ? host_most : device_most;
        d->concurrency_why = host_most < device_most ? "host memory" : "device memory";
    } else if (asked <= 0 && want == F && (cores <= 0 || F < cores)) {
        d->concurrency_why = "the number of fits";
    }
    return SB_OK;
}

static sb_rc mx_build(mx_data *d, sb_err *err)
{
    const int64_t F = d->m.nfits;
    d->mux_ref = sb_alloc((size_t)F, sizeof *d->mux_ref, err);
    d->seq_ref = d->mux_ref ? sb_alloc((size_t)F, sizeof *d->seq_ref, err) : NULL;
    d->scratch = d->seq_ref ? sb_alloc((size_t)F, sizeof *d->scratch, err) : NULL;
    d->oracle = d->scratch ? sb_alloc((size_t)(d->nsample ? d->nsample : 1), sizeof *d->oracle, err) : NULL;
    d->mux_s = d->oracle ? sb_alloc((size_t)F, sizeof *d->mux_s, err) : NULL;
    d->seq_s = d->mux_s ? sb_alloc((size_t)F, sizeof *d->seq_s, err) : NULL;
    d->mux_tele = d->seq_s ? sb_alloc((size_t)F, sizeof *d->mux_tele, err) : NULL;
    d->seq_tele = d->mux_tele ? sb_alloc((size_t)F, sizeof *d->seq_tele, err) : NULL;
    d->mux_worker = d->seq_tele ? sb_alloc((size_t)F, sizeof *d->mux_worker, err) : NULL;
    d->differs = d->mux_worker ? sb_alloc((size_t)F, sizeof *d->differs, err) : NULL;
    d->diff_field = d->differs ? sb_alloc((size_t)F, sizeof *d->diff_field, err) : NULL;
    d->diff_where = d->diff_field ? sb_alloc((size_t)F, sizeof *d->diff_where, err) : NULL;
    if (!d->diff_where)
        return SB_E_RUNTIME;
    for (int64_t f = 0; f < F; f++) {
        sb_arrow_case *c = &d->cases[f];
        c->prm = d->m.fits[f].prm;
        c->nt = c->prm.n * c->prm.d;
        c->lm = d->lm;
        sb_rc rc = sb_arrow_case_build(c, err); /* a data fit's system is loaded already */
        if (rc)
            return rc;
        if (sb_lm_result_alloc(&d->mux_ref[f], c->nt, c->prm.p, err) || sb_lm_result_alloc(&d->seq_ref[f], c->nt, c->prm.p, err) ||
            sb_lm_result_alloc(&d->scratch[f], c->nt, c->prm.p, err))
            return SB_E_RUNTIME;
    }
    for (int64_t k = 0; k < d->nsample; k++) {
        const sb_arrow_case *c = &d->cases[d->sample[k]];
        if (sb_lm_result_alloc(&d->oracle[k], c->nt, c->prm.p, err))
            return SB_E_RUNTIME;
    }
    return SB_OK;
}

/* Compare two result sets fit by fit; the first field that differs is kept per fit. */
static void mx_compare(mx_data *d, const sb_lm_result *a, const char *a_name, int64_t a_rep, const sb_lm_result *b,
                       const char *b_name, int64_t b_rep)
{
    for (int64_t f = 0; f < d->m.nfits; f++) {
        const char *field = NULL;
        const sb_arrow_case *c = &d->cases[f];
        if (sb_lm_identical(&a[f], &b[f], c->nt, c->prm.p, &field) || d->differs[f])
            continue;
        d->differs[f] = 1;
        d->diff_field[f] = field;
        snprintf(d->diff_where[f], sizeof d->diff_where[f], "%s rep %lld vs %s rep %lld", a_name, (long long)a_rep,
                 b_name, (long long)b_rep);
    }
}

/* One rep is a whole sweep over the matrix. Rep 0 (the first warm-up, or the
 * first timed rep) writes the phase's reference results; every later rep
 * writes the scratch set, compared with the reference before the next rep
 * (untimed) and after the phase. */
typedef struct mx_rep {
    mx_data *d;
    const char *name;        /* multiplexed | sequential */
    int workers;             /* 0: sequential */
    sb_mx_job job;
    sb_lm_result *ref;
    int64_t pending;         /* rep whose scratch results are unchecked (0: none) */
} mx_rep;

static void mx_check_pending(mx_rep *c)
{
    if (c->pending > 0)
        mx_compare(c->d, c->d->scratch, c->name, c->pending, c->ref, c->name, 0);
    c->pending = 0;
}

static sb_rc mx_prepare(void *ctx, int64_t k, int timed, sb_err *err)
{
    (void)timed, (void)err;
    mx_rep *c = ctx;
    mx_check_pending(c);
    c->job.res = k == 0 ? c->ref : c->d->scratch;
    return SB_OK;
}

static sb_rc mx_run(void *ctx, int64_t k, int timed, sb_err *err)
{
    (void)timed;
    mx_rep *c = ctx;
    sb_rc rc = c->workers ? sb_mx_run_multiplexed(&c->job, c->workers, err) : sb_mx_run_sequential(&c->job, err);
    if (rc == SB_OK && k > 0)
        c->pending = k;
    return rc;
}

static void tele_sum(const sb_telemetry *t, int64_t count, sb_telemetry *sum)
{
    memset(sum, 0, sizeof *sum);
    for (int64_t f = 0; f < count; f++) {
        sum->handle_creations += t[f].handle_creations;
        sum->factorizations += t[f].factorizations;
        sum->frame_builds += t[f].frame_builds;
        sum->h2d_bytes += t[f].h2d_bytes;
        sum->d2h_bytes += t[f].d2h_bytes;
        sum->library_calls += t[f].library_calls;
        sum->own_kernel_launches += t[f].own_kernel_launches;
    }
}

static sb_phase *mx_time(sb_run *r, mx_data *d, const char *name, int workers, sb_lm_result *ref, double *fit_s,
                         sb_telemetry *tele, int *worker)
{
    mx_rep c = {.d = d, .name = name, .workers = workers, .ref = ref};
    c.job = (sb_mx_job){.cases = d->cases, .nfits = d->m.nfits, .matrix = &d->m, .ops = r->backend->arrow,
                        .res = ref, .fit_s = fit_s, .tele = tele, .worker = worker};
    sb_rep rep = {mx_prepare, mx_run, &c};
    sb_phase *ph = sb_run_time(r, name, &rep);
    if (!r->failed)
        mx_check_pending(&c);
    sb_telemetry sum;
    tele_sum(tele, d->m.nfits, &sum);
    sb_run_phase_telemetry(ph, &sum);
    return ph;
}

/* A lower bound on one sweep's work, from the sequential reference's counts:
 * per factorization the Schur update (n·d·p² for Σ YᵢᵀYᵢ) and the Cholesky of
 * S (p³/3), per solve 4·n·d·p + 2p²; bytes: every system read once. */
static void mx_roofline(sb_run *r, const mx_data *d)
{
    double flops = 0, bytes = 0;
    for (int64_t f = 0; f < d->m.nfits; f++) {
        const sb_arrow_params *x = &d->m.fits[f].prm;
        double nd = (double)x->n * (double)x->d, p = (double)x->p;
        flops += (double)d->seq_tele[f].factorizations * (nd * p * p + p * p * p / 3.0) +
                 (double)d->seq_ref[f].solves * (4.0 * nd * p + 2.0 * p * p);
        bytes += 8.0 * (double)sb_arrow_doubles(x->n, x->p, x->d);
    }
    sb_run_roofline(r, flops, bytes);
}

static cJSON *mx_fit_json(const mx_data *d, int64_t f, const sb_lm_parity_t *oracle_par)
{
    const sb_mx_fit *x = &d->m.fits[f];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "index", (double)f);
    cJSON_AddStringToObject(o, "name", x->name);
    cJSON_AddNumberToObject(o, "n", (double)x->prm.n);
    cJSON_AddNumberToObject(o, "p", (double)x->prm.p);
    cJSON_AddNumberToObject(o, "d", (double)x->prm.d);
    if (x->system[0]) {
        cJSON_AddStringToObject(o, "data", "npy");
        cJSON_AddStringToObject(o, "system", x->system);
    } else {
        cJSON_AddNumberToObject(o, "basis_cols", (double)x->prm.basis_cols);
        char seed[24];
        snprintf(seed, sizeof seed, "0x%016llx", (unsigned long long)x->prm.seed);
        cJSON_AddStringToObject(o, "seed", seed);
    }
    cJSON_AddItemToObject(o, "results", sb_lm_result_json(&d->seq_ref[f], d->seq_tele[f].factorizations));
    cJSON_AddItemToObject(o, "sequential_fit_s", sb_json_number(d->seq_s[f]));
    cJSON_AddItemToObject(o, "multiplexed_fit_s", sb_json_number(d->mux_s[f]));
    cJSON_AddNumberToObject(o, "multiplexed_worker", d->mux_worker[f]);
    cJSON_AddBoolToObject(o, "bit_identical", !d->differs[f]);
    if (d->differs[f]) {
        cJSON_AddStringToObject(o, "first_difference", d->diff_field[f] ? d->diff_field[f] : "?");
        cJSON_AddStringToObject(o, "difference_in", d->diff_where[f]);
    }
    cJSON_AddItemToObject(o, "oracle_ratio", oracle_par ? sb_json_number(oracle_par->ratio) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "oracle_kappa_est", oracle_par ? sb_json_number(oracle_par->kappa_est) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "oracle_rel_err", oracle_par ? sb_json_number(sb_lm_parity_rel(oracle_par)) : cJSON_CreateNull());
    return o;
}

static int implements_arrow(const sb_backend *b) { return b->arrow != NULL; }

/* Load and check everything that needs no backend: exit 2 before any work. */
static int mx_load(sb_run *r, mx_data *d)
{
    sb_err err = {{0}};
    if (mx_read(&r->opts, d, &err)) {
        fprintf(stderr, "saebench: %s\n", err.msg);
        return SB_EXIT_USAGE;
    }
    sb_run_counts(r, d->shape.reps, d->shape.warmup, MX_DEFAULT_REPS, MX_DEFAULT_WARMUP);
    return -1;
}

/* The verdict, the backend and the fits in flight it allows. Returns -1 to
 * go on, else the exit code (the harness's, or 2 when an explicit
 * concurrency does not fit). */
static int mx_start(sb_run *r, mx_data *d)
{
    /* OpenBLAS's thread count is process-wide: 1 while any fit runs, so a fit
     * sees the same count alone or beside others. The oracle and the
     * roofline's calibration run alone afterwards with the library's count. */
    d->blas_default = sb_host_threads();
    sb_mx_blas_single_thread();
    int rc;
    if ((rc = sb_run_verdict_init(r, &d->shape, r->opts.variants ? "variants file" : "fixtures")) >= 0 ||
        (rc = sb_run_choose_backend(r, implements_arrow)) >= 0)
        return rc;
    sb_err err = {{0}};
    sb_rc prc = mx_plan(r, d, &err);
    if (prc == SB_E_INPUT) {
        fprintf(stderr, "saebench: %s\n", err.msg);
        return SB_EXIT_USAGE;
    }
    if (prc)
        sb_run_fail(r, "cannot query the device's free memory: %s", err.msg);
    return -1;
}

/* Bit identity: multiplexed against sequential, fit by fit (every rep of
 * each sweep was already compared against its first). */
static void mx_bit_identity(mx_data *d)
{
    mx_compare(d, d->mux_ref, "multiplexed", 0, d->seq_ref, "sequential", 0);
    for (int64_t f = 0; f < d->m.nfits; f++)
        if (d->differs[f]) {
            d->differing++;
            if (d->first < 0)
                d->first = f;
        }
}

/* The fixtures (built untimed), then the timed sweeps: several fits in
 * flight (the primary phase), then one after another; then bit identity. */
static void mx_phases(sb_run *r, mx_data *d)
{
    const int64_t F = d->m.nfits;
    sb_err err = {{0}};
    if (!r->failed) {
        sb_run_progress(r, "building %lld fixtures", (long long)F);
        if (mx_build(d, &err))
            sb_run_fail(r, "building the fixtures: %s", err.msg);
    }
    for (int64_t f = 0; f < F; f++)
        d->rows += (double)d->m.fits[f].prm.n;
    sb_run_rate(r, d->rows);
    r->timing_extra = cJSON_CreateObject();
    cJSON_AddStringToObject(r->timing_extra, "rep", "one whole-matrix sweep: every fit's LM loop on a fresh state, "
                                                    "fixtures built before the sweeps (untimed)");

    if (!r->failed)
        d->mux = mx_time(r, d, "multiplexed", (int)d->concurrency, d->mux_ref, d->mux_s, d->mux_tele, d->mux_worker);
    if (!r->failed)
        d->seq = mx_time(r, d, "sequential", 0, d->seq_ref, d->seq_s, d->seq_tele, NULL);
    d->swept = !r->failed && d->mux && d->seq && d->mux->completed && d->seq->completed;
    sb_host_set_threads(d->blas_default);

    d->first = -1;
    if (d->swept) {
        mx_bit_identity(d);
        mx_roofline(r, d);
    }
}

/* The dense LAPACKE oracle on the sampled fits, after both sweeps. */
static void mx_oracle(sb_run *r, mx_data *d)
{
    sb_err err = {{0}};
    d->par_fit = -1;
    if (!d->swept)
        return;
    if (d->nsample > 0 && (d->oracle_par = sb_alloc((size_t)d->nsample, sizeof *d->oracle_par, &err)) == NULL)
        sb_run_fail(r, "%s", err.msg);
    if (!d->oracle_par)
        return;
    for (int64_t k = 0; k < d->nsample && !r->failed; k++) {
        int64_t f = d->sample[k];
        const sb_arrow_case *c = &d->cases[f];
        sb_run_progress(r, "dense oracle %lld/%lld: fit %s (order %lld)", (long long)(k + 1), (long long)d->nsample,
                        d->m.fits[f].name, (long long)(c->nt + c->prm.p));
        if (sb_arrow_fit(c, &sb_oracle_arrow_ops, 1, c->sys.g_t, c->sys.g_b, &d->oracle[k], NULL, &err)) {
            sb_run_fail(r, "the dense oracle failed on fit %s: %s", d->m.fits[f].name, err.msg);
            break;
        }
        if (sb_lm_parity(&c->sys, c->sys.g_t, c->sys.g_b, &d->seq_ref[f], &d->oracle[k], &d->oracle_par[k], &err)) {
            sb_run_fail(r, "parity of fit %s: %s", d->m.fits[f].name, err.msg);
            break;
        }
        sb_lm_parity_fold(&d->par, &d->par_fit, &d->oracle_par[k], f);
    }
    d->oracle_done = !r->failed;
}

static void mx_gates(sb_run *r, mx_data *d)
{
    d->speedup = d->swept ? d->seq->stats.median / d->mux->stats.median : NAN;
    if (!d->swept || !d->oracle_done)
        return;
    sb_run_gate(r, "MX-001", (double)d->differing);
    sb_run_gate(r, "MX-002", d->speedup);
    if (d->nsample > 0) {
        sb_run_gate(r, "MX-003", d->par.ratio);
        sb_run_gate(r, "MX-004", sb_lm_parity_rel(&d->par));
    } else {
        sb_run_gate_na(r, "MX-003", "no fit sampled for the oracle");
        sb_run_gate_na(r, "MX-004", "no fit sampled for the oracle");
    }
}

/* The matrix, how it was multiplexed, and the sweeps' rates. */
static void mx_matrix_json(const sb_run *r, const mx_data *d)
{
    cJSON *root = r->v.root;
    const int device = r->backend->is_device;
    const int64_t F = d->m.nfits;
    cJSON *mx = cJSON_AddObjectToObject(root, "matrix");
    cJSON_AddStringToObject(mx, "name", d->m.name);
    cJSON_AddNumberToObject(mx, "fits", (double)F);
    cJSON_AddStringToObject(mx, "source", r->opts.variants ? r->opts.variants : d->shape.path);
    cJSON_AddNumberToObject(mx, "rows_per_sweep", d->rows);
    cJSON *cc = cJSON_AddObjectToObject(root, "multiplexing");
    cJSON_AddNumberToObject(cc, "concurrency", (double)d->concurrency);
    cJSON_AddStringToObject(cc, "concurrency_from", d->concurrency_why ? d->concurrency_why : "not planned");
    cJSON_AddStringToObject(cc, "mode", device ? "one host thread per fit in flight, each driving its own state "
                                                 "(own CUDA stream, cuBLAS and cuSOLVER handles)"
                                               : "a pthread pool: each worker takes the next fit, a fresh state per fit");
    cJSON_AddNumberToObject(cc, "host_threads", (double)d->concurrency);
    cJSON_AddNumberToObject(cc, "streams", device ? (double)d->concurrency : 0);
    cJSON_AddNumberToObject(cc, "blas_threads_per_fit", 1);
    cJSON_AddNumberToObject(cc, "omp_threads_per_fit", 1);
    cJSON_AddStringToObject(cc, "blas_threads_note", "OpenBLAS's thread count is process-wide: it is 1 for the whole of "
                                                     "both sweeps (the oracle and the calibration run after them with "
                                                     "the library's count); OpenMP is 1 per thread in both sweeps");
    cJSON_AddItemToObject(root, "concurrency", cJSON_CreateNumber((double)d->concurrency));
    cJSON_AddItemToObject(root, "cross_fit_speedup", sb_json_number(d->speedup));
    cJSON *fps = cJSON_AddObjectToObject(root, "fits_per_s");
    cJSON_AddItemToObject(fps, "multiplexed", sb_json_number(d->swept ? (double)F / d->mux->stats.median : NAN));
    cJSON_AddItemToObject(fps, "sequential", sb_json_number(d->swept ? (double)F / d->seq->stats.median : NAN));
}

static void mx_memory_json(const sb_run *r, const mx_data *d)
{
    cJSON *mj = cJSON_AddObjectToObject(r->v.root, "memory");
    cJSON_AddNumberToObject(mj, "host_bytes_estimate", sb_mx_host_bytes(&d->mem, d->concurrency));
    cJSON_AddNumberToObject(mj, "host_systems_bytes", d->mem.systems);
    cJSON_AddNumberToObject(mj, "host_bytes_per_fit_in_flight", d->mem.per_fit_host);
    cJSON_AddNumberToObject(mj, "host_results_bytes", d->mem.results);
    cJSON_AddNumberToObject(mj, "oracle_bytes", d->mem.oracle);
    cJSON_AddNumberToObject(mj, "host_physical_bytes", (double)sb_physical_memory());
    if (r->backend->is_device) {
        cJSON_AddNumberToObject(mj, "device_bytes_per_fit_in_flight", d->mem.per_fit_device);
        cJSON_AddNumberToObject(mj, "device_bytes_estimate", (double)d->concurrency * d->mem.per_fit_device);
        cJSON_AddNumberToObject(mj, "device_free_bytes_at_start", (double)d->device_free);
    }
    cJSON_AddStringToObject(mj, "note", "estimates computed before allocating: every fit's system is built before the "
                                        "sweeps; a fit in flight adds its solve-mode state and LM scratch");
}

/* Bit identity, the oracle's figures (parity) and every fit's results. */
static void mx_results_json(sb_run *r, const mx_data *d)
{
    cJSON *root = r->v.root;
    cJSON *bit = cJSON_AddObjectToObject(root, "bit_identity");
    cJSON_AddItemToObject(bit, "fits_differing", d->swept ? cJSON_CreateNumber((double)d->differing) : cJSON_CreateNull());
    if (d->first >= 0) {
        cJSON_AddStringToObject(bit, "first_fit", d->m.fits[d->first].name);
        cJSON_AddNumberToObject(bit, "first_fit_index", (double)d->first);
        cJSON_AddStringToObject(bit, "first_field", d->diff_field[d->first] ? d->diff_field[d->first] : "?");
        cJSON_AddStringToObject(bit, "first_in", d->diff_where[d->first]);
    }
    cJSON_AddStringToObject(bit, "compared", "t, beta, last step, objective, gradient norms, logdet, ridges, iterations, "
                                             "accepted, converged: every rep of each sweep against its first, and the "
                                             "multiplexed against the sequential");
    cJSON *parity = sb_run_parity(r, "the same LM loop per sampled fit with a dense LAPACKE dpotrf/dpotrs of the "
                                     "full (n*d+p)^2 H + R, float64");
    sb_lm_parity_verdict(parity, d->oracle_done && d->par_fit >= 0 ? &d->par : NULL,
                         "per sampled fit, H + R at the last accepted step's ridges; the worst fit", d->par_fit);
    cJSON_AddNumberToObject(parity, "sampled", (double)d->nsample);
    cJSON *idx = cJSON_AddArrayToObject(parity, "sampled_fits");
    for (int64_t k = 0; k < d->nsample; k++)
        cJSON_AddItemToArray(idx, cJSON_CreateString(d->m.fits[d->sample[k]].name));
    cJSON *fits = cJSON_AddArrayToObject(root, "fits");
    for (int64_t f = 0; d->swept && f < d->m.nfits; f++) {
        const sb_lm_parity_t *oe = NULL;
        for (int64_t k = 0; d->oracle_done && k < d->nsample; k++)
            if (d->sample[k] == f)
                oe = &d->oracle_par[k];
        cJSON_AddItemToArray(fits, mx_fit_json(d, f, oe));
    }
}

/* The human summary's lines. */
static void mx_notes(sb_run *r, const mx_data *d)
{
    const int device = r->backend->is_device;
    const int64_t F = d->m.nfits;
    sb_run_note(r, "matrix %s: %lld fits, %lld in flight (%s); %s", d->m.name, (long long)F, (long long)d->concurrency,
                d->concurrency_why ? d->concurrency_why : "-",
                device ? "one host thread and one stream per fit in flight" : "host worker threads");
    sb_run_note(r, "every fit with 1 BLAS and 1 OpenMP thread in both sweeps (OpenBLAS's count is process-wide)");
    if (d->swept) {
        sb_run_note(r, "sweep: sequential %.4f s, multiplexed %.4f s; cross-fit speedup %.2fx; fits/s %.2f vs %.2f",
                    d->seq->stats.median, d->mux->stats.median, d->speedup, (double)F / d->seq->stats.median,
                    (double)F / d->mux->stats.median);
        int64_t converged = 0;
        for (int64_t f = 0; f < F; f++)
            converged += d->seq_ref[f].converged;
        if (d->first >= 0)
            sb_run_note(r, "bit identity: %lld of %lld fits differ; first fit %s, field %s (%s)", (long long)d->differing,
                        (long long)F, d->m.fits[d->first].name, d->diff_field[d->first] ? d->diff_field[d->first] : "?",
                        d->diff_where[d->first]);
        else
            sb_run_note(r, "bit identity: all %lld fits identical in every rep of both sweeps; %lld converged",
                        (long long)F, (long long)converged);
    }
    if (d->oracle_done && d->par_fit >= 0) {
        sb_run_note(r, "oracle: %lld sampled fit(s), the worst fit %s", (long long)d->nsample, d->m.fits[d->par_fit].name);
        sb_lm_parity_note(r, &d->par);
    }
    sb_run_note(r, "memory high-water estimate: host %.2f GiB", sb_mx_host_bytes(&d->mem, d->concurrency) / GIB);
    if (device)
        sb_run_note(r, "device %.2f GiB for %lld fits in flight (%.2f GiB free at start)",
                    (double)d->concurrency * d->mem.per_fit_device / GIB, (long long)d->concurrency,
                    (double)d->device_free / GIB);
}

/* The workload's own verdict sections and summary lines. */
static void mx_verdict_extras(sb_run *r, const mx_data *d)
{
    mx_matrix_json(r, d);
    mx_memory_json(r, d);
    mx_results_json(r, d);
    cJSON_AddStringToObject(r->v.root, "scope", "whole-matrix sweeps of independent inner-loop fits, several in flight "
                                                "against one after another, on the same backend");
    mx_notes(r, d);
}

int sb_cmd_multiplex(int argc, char **argv)
{
    sb_run r;
    int rc = sb_run_init(&r, &MX_WORKLOAD, argc, argv, mx_help);
    if (rc >= 0)
        return rc;
    mx_data d;
    memset(&d, 0, sizeof d);
    if ((rc = mx_load(&r, &d)) < 0 && (rc = mx_start(&r, &d)) < 0) {
        mx_phases(&r, &d);
        mx_oracle(&r, &d);
        mx_gates(&r, &d);
        mx_verdict_extras(&r, &d);
        rc = sb_run_finish(&r);
    }
    /* sb_run_free does nothing where the harness already freed the run
     * (sb_run_finish, and sb_run_choose_backend's exits). */
    sb_run_free(&r);
    mx_free(&d);
    return rc;
}
