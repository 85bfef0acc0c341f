#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct opt_def {
    const char *name;
    unsigned bit;
    int takes_value;
    const char *help;
} opt_def;

static const opt_def OPTIONS[] = {
    {"--shape", SB_OPT_SHAPE, 1, "NAME|FILE.json  workload shape (see 'saebench shapes')"},
    {"--backend", SB_OPT_BACKEND, 1, "auto|cuda|host|plugin:PATH.so  auto: cuda when a device is engaged, else host; plugin: your solver library (resident-solve, inner-loop, outer-seq; docs/plugins.md)"},
    {"--require-device", SB_OPT_REQUIRE_DEVICE, 0, "               fail (exit 3) unless the device is engaged"},
    {"--require-valid", SB_OPT_REQUIRE_VALID, 0, "               fail (exit 1) unless the verdict's validity is valid (docs/verdict.md)"},
    {"--reps", SB_OPT_REPS, 1, "N              timed repetitions (default: the shape's)"},
    {"--warmup", SB_OPT_WARMUP, 1, "N              untimed warm-up repetitions"},
    {"--out", SB_OPT_OUT, 1, "FILE|-         write the JSON verdict (- for stdout)"},
    {"--gate", SB_OPT_GATE, 1, "ID=VALUE       override a gate threshold (e.g. RS-001=1e-10)"},
    {"--quiet", SB_OPT_QUIET, 0, "               no human summary on stderr"},
    {"--method", SB_OPT_METHOD, 1, "primal|dual|auto  normal equations (p x p) or Woodbury (n x n, n <= p)"},
    {"--x", SB_OPT_DATA, 1, "X.npy          data rows, float64 n x p, C order (the design matrix; encode: the rows)"},
    {"--w", SB_OPT_DATA, 1, "w.npy          weights, float64 n, positive"},
    {"--rhs", SB_OPT_DATA, 1, "rhs.npy        right-hand side, float64 p"},
    {"--dump-beta", SB_OPT_DUMP_BETA, 1, "FILE.npy       write beta of the w0 system"},
    {"--system", SB_OPT_SYSTEM, 1, "DIR            an arrow system from DIR/{htt,cross,hbb,gt,gb}.npy (docs/workloads.md §2 Your own data)"},
    {"--dump-z", SB_OPT_DUMP_Z, 1, "FILE.npy       write the final z = (t row-major, then beta); outer-seq: one row per outer"},
    {"--timeout", SB_OPT_PLUGIN, 1, "S              --backend plugin: kill the plugin's child process after S seconds, exit 4 (default 600)"},
    {"--cold", SB_OPT_CONDITIONS, 0, "               device: flush the L2 cache before each timed rep (first-touch times; default warm)"},
    {"--throttle-threshold", SB_OPT_CONDITIONS, 1, "F  device: a rep whose SM clock is below F x the default clock is throttled (default 0.75; 0: off)"},
    {"--throttle-recovery-delay", SB_OPT_CONDITIONS, 1, "S  device: pause S seconds after a throttled rep (default 0.05)"},
    {"--throttle-retakes", SB_OPT_CONDITIONS, 1, "N  device: discard and retake at most N throttled reps (default: --reps; 0: keep them, marked)"},
    {"--dry-run", SB_OPT_DRY_RUN, 0, "               check every option and input (shape, data files, output paths), run nothing; exit 0 or 2"},
    {"--reupload", SB_OPT_REUPLOAD, 0, "               also time with X re-uploaded every rep (residency baseline)"},
    {"--calibration", SB_OPT_CALIBRATION, 1, "FILE.json  ceilings from 'saebench calibrate' (default: measure now)"},
    {"--factor", SB_OPT_FACTOR, 1, "library|blocked|tiled|auto  factorization variant (blocked, tiled: cuda only, experimental; auto: the best committed GPU measurement, library until one exists)"},
    {"--precision", SB_OPT_PRECISION, 1, "fp64|mixed|auto  mixed: FP32 factor + FP64 iterative refinement (default fp64)"},
    {"--threads", SB_OPT_THREADS, 1, "N              host BLAS threads (default: all cores)"},
    {"--min-time", SB_OPT_STOP, 1, "S              keep adding timed reps until S seconds are spent and the timing is quiet"},
    {"--max-noise", SB_OPT_STOP, 1, "PCT            noise threshold in percent (default 5): above it timing.noisy is true"},
    {"--max-reps", SB_OPT_STOP, 1, "N              most timed reps under --min-time (default 1000)"},
    {"--ridge", SB_OPT_RIDGE, 1, "R              ridge (positive; default the shape's, or 1e-3 for --x data)"},
    {"--outers", SB_OPT_OUTERS, 1, "N              outer evaluations (default the shape's, else 3)"},
    {"--decoders", SB_OPT_ENCODE_DATA, 1, "B.npy          encode: decoders, K x m x p, or (K*m) x p with row k*m + j atom k's basis row j"},
    {"--atoms", SB_OPT_ENCODE_DATA, 1, "atoms.npy      encode: each row's active atom in [0, K): any integer dtype, or integer-valued floats"},
    {"--amplitudes", SB_OPT_ENCODE_DATA, 1, "z.npy          encode: each row's gate amplitude, > 0"},
    {"--latent-dim", SB_OPT_ENCODE_MODEL, 1, "d              encode, real data without --shape: the latent dimension (1..4)"},
    {"--degree", SB_OPT_ENCODE_MODEL, 1, "D              encode, real data without --shape: the basis degree"},
    {"--basis", SB_OPT_ENCODE_MODEL, 1, "euclidean|periodic  encode, real data without --shape: the basis (periodic: d = 1)"},
    {"--dump-coords", SB_OPT_DUMP_COORDS, 1, "FILE.npy       encode: write the fast path's n x d coordinates (NaN where a row has no certificate)"},
    {"--dump-rows", SB_OPT_DUMP_COORDS, 1, "FILE.npy       encode: write n x 2 per row: certified (1 or 0), chart (-1 without a certificate)"},
    {"--oracle-rows", SB_OPT_ORACLE_ROWS, 1, "N         rows the CPU reference encodes, evenly strided (default all, at most 4096)"},
    {"--concurrency", SB_OPT_CONCURRENCY, 1, "N              fits in flight at once (default: host cores, within memory)"},
    {"--oracle-sample", SB_OPT_ORACLE_SAMPLE, 1, "K              fits checked against the dense oracle, evenly spaced (default all when tiny, else 2)"},
    {"--variants", SB_OPT_VARIANTS, 1, "FILE.json      the fit matrix: a JSON array of {name, n, p, d, basis_cols, seed}"},
};
#define NOPTIONS (sizeof OPTIONS / sizeof OPTIONS[0])

static sb_rc parse_count(const char *opt, const char *v, int64_t lo, int64_t hi, int64_t *out, sb_err *err)
{
    char *end = NULL;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end != '\0')
        return sb_fail(err, SB_E_INPUT, "%s: '%s' is not a whole number", opt, v);
    if (x < lo || x > hi)
        return sb_fail(err, SB_E_INPUT, "%s: %lld is out of range [%lld, %lld]", opt, x, (long long)lo, (long long)hi);
    *out = x;
    return SB_OK;
}

static sb_rc parse_gate(const char *v, sb_opts *o, sb_err *err)
{
    const char *eq = strchr(v, '=');
    if (!eq || eq == v || (size_t)(eq - v) >= sizeof o->gates[0].id)
        return sb_fail(err, SB_E_INPUT, "--gate: expected ID=VALUE, got '%s'", v);
    char *end = NULL;
    errno = 0;
    double x = strtod(eq + 1, &end);
    if (errno || end == eq + 1 || *end != '\0' || !isfinite(x))
        return sb_fail(err, SB_E_INPUT, "--gate: '%s' is not a finite number", eq + 1);
    if (o->ngates == SB_MAX_GATES)
        return sb_fail(err, SB_E_INPUT, "--gate: at most %d overrides", SB_MAX_GATES);
    sb_gate_override *g = &o->gates[o->ngates++];
    memcpy(g->id, v, (size_t)(eq - v));
    g->id[eq - v] = '\0';
    g->value = x;
    return SB_OK;
}

static sb_rc parse_real(const char *opt, const char *v, double lo, double hi, int lo_open, double *out, sb_err *err)
{
    char *end = NULL;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || *end != '\0' || !isfinite(x))
        return sb_fail(err, SB_E_INPUT, "%s: '%s' is not a finite number", opt, v);
    if ((lo_open ? !(x > lo) : !(x >= lo)) || x > hi)
        return sb_fail(err, SB_E_INPUT, "%s: %g is out of range %s%g, %g]", opt, x, lo_open ? "(" : "[", lo, hi);
    *out = x;
    return SB_OK;
}

const char *sb_opt_split(const char *arg, char *name, size_t len)
{
    const char *eq = strchr(arg, '=');
    if (eq && strncmp(arg, "--", 2) == 0 && (size_t)(eq - arg) < len) {
        memcpy(name, arg, (size_t)(eq - arg));
        name[eq - arg] = '\0';
        return eq + 1;
    }
    snprintf(name, len, "%s", arg);
    return NULL;
}

static int one_of(const char *v, const char *a, const char *b, const char *c)
{
    return strcmp(v, a) == 0 || strcmp(v, b) == 0 || (c && strcmp(v, c) == 0);
}

sb_rc sb_parse_opts(int argc, char **argv, unsigned accepted, sb_opts *o, sb_err *err)
{
    memset(o, 0, sizeof *o);
    o->command = argv[0];
    o->backend = "auto";
    o->method = "auto";
    o->precision = "fp64";
    o->reps = -1;
    o->warmup = -1;
    o->max_noise = 0.05;
    o->throttle_threshold = 0.75;
    o->throttle_recovery = 0.05;
    o->throttle_retakes = -1;
    o->max_reps = -1;
    o->outers = -1;
    o->oracle_rows = -1;
    o->concurrency = -1;
    o->oracle_sample = -1;
    o->latent_dim = -1;
    o->degree = -1;
    unsigned char seen[NOPTIONS] = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            o->help = 1;
            return SB_OK;
        }
        /* --opt=value is accepted as well as --opt value. */
        char name[64];
        const char *inline_val = sb_opt_split(a, name, sizeof name);
        const opt_def *s = NULL;
        for (size_t k = 0; k < NOPTIONS; k++)
            if (strcmp(OPTIONS[k].name, name) == 0)
                s = &OPTIONS[k];
        if (!s || !(s->bit & accepted))
            return sb_fail(err, SB_E_INPUT, "%s: unknown option '%s' (see 'saebench %s --help')", o->command, a, o->command);
        /* Single-valued options given twice are ambiguous: refuse rather than
         * let the last one win silently. --gate is a list. */
        if (strcmp(s->name, "--gate") != 0 && seen[s - OPTIONS]++)
            return sb_fail(err, SB_E_INPUT, "%s given twice", s->name);
        const char *v = NULL;
        if (s->takes_value) {
            if (inline_val)
                v = inline_val;
            else if (i + 1 < argc)
                v = argv[++i];
            else
                return sb_fail(err, SB_E_INPUT, "%s needs a value", s->name);
            if (*v == '\0')
                return sb_fail(err, SB_E_INPUT, "%s: empty value", s->name);
        } else if (inline_val) {
            return sb_fail(err, SB_E_INPUT, "%s takes no value", s->name);
        }
        sb_rc rc = SB_OK;
        int64_t tmp;
        if (strcmp(name, "--shape") == 0) o->shape = v;
        else if (strcmp(name, "--backend") == 0) {
            if (strncmp(v, "plugin:", 7) == 0) {
                if (!(accepted & SB_OPT_PLUGIN))
                    return sb_fail(err, SB_E_INPUT, "--backend plugin: %s has no plugin support yet (resident-solve, inner-loop and outer-seq have; docs/plugins.md)",
                                   o->command);
                if (v[7] == '\0')
                    return sb_fail(err, SB_E_INPUT, "--backend plugin: needs the library's path (plugin:PATH.so)");
                o->plugin = v + 7;
                o->backend = "plugin";
            } else if (!one_of(v, "auto", "cuda", "host")) {
                return sb_fail(err, SB_E_INPUT, "--backend: '%s' is not auto, cuda, host or plugin:PATH.so", v);
            } else {
                o->backend = v;
            }
        } else if (strcmp(name, "--require-device") == 0) o->require_device = 1;
        else if (strcmp(name, "--require-valid") == 0) o->require_valid = 1;
        else if (strcmp(name, "--reps") == 0) rc = parse_count(name, v, 1, 1000000, &o->reps, err);
        else if (strcmp(name, "--warmup") == 0) rc = parse_count(name, v, 0, 1000000, &o->warmup, err);
        else if (strcmp(name, "--out") == 0) o->out = v;
        else if (strcmp(name, "--gate") == 0) rc = parse_gate(v, o, err);
        else if (strcmp(name, "--quiet") == 0) o->quiet = 1;
        else if (strcmp(name, "--method") == 0) {
            if (!one_of(v, "primal", "dual", "auto"))
                return sb_fail(err, SB_E_INPUT, "--method: '%s' is not primal, dual or auto", v);
            o->method = v;
        } else if (strcmp(name, "--precision") == 0) {
            if (!one_of(v, "fp64", "mixed", "auto"))
                return sb_fail(err, SB_E_INPUT, "--precision: '%s' is not fp64, mixed or auto", v);
            o->precision = v;
        } else if (strcmp(name, "--x") == 0) o->x_path = v;
        else if (strcmp(name, "--w") == 0) o->w_path = v;
        else if (strcmp(name, "--rhs") == 0) o->rhs_path = v;
        else if (strcmp(name, "--dump-beta") == 0) o->dump_beta = v;
        else if (strcmp(name, "--system") == 0) o->system = v;
        else if (strcmp(name, "--dump-z") == 0) o->dump_z = v;
        else if (strcmp(name, "--decoders") == 0) o->decoders_path = v;
        else if (strcmp(name, "--atoms") == 0) o->atoms_path = v;
        else if (strcmp(name, "--amplitudes") == 0) o->amplitudes_path = v;
        else if (strcmp(name, "--latent-dim") == 0) rc = parse_count(name, v, 1, 64, &o->latent_dim, err);
        else if (strcmp(name, "--degree") == 0) rc = parse_count(name, v, 1, 16, &o->degree, err);
        else if (strcmp(name, "--basis") == 0) {
            if (!one_of(v, "euclidean", "periodic", NULL))
                return sb_fail(err, SB_E_INPUT, "--basis: '%s' is not euclidean or periodic", v);
            o->basis = v;
        } else if (strcmp(name, "--dump-coords") == 0) o->dump_coords = v;
        else if (strcmp(name, "--dump-rows") == 0) o->dump_rows = v;
        else if (strcmp(name, "--reupload") == 0) o->reupload = 1;
        else if (strcmp(name, "--dry-run") == 0) o->dry_run = 1;
        else if (strcmp(name, "--calibration") == 0) o->calibration = v;
        else if (strcmp(name, "--factor") == 0) {
            if (!one_of(v, "library", "blocked", "tiled") && strcmp(v, "auto") != 0)
                return sb_fail(err, SB_E_INPUT, "--factor: '%s' is not library, blocked, tiled or auto", v);
            /* auto: the backend decides (src/rs_auto.c); the verdict
             * names what ran and why */
            o->factor = v;
        } else if (strcmp(name, "--threads") == 0) {
            rc = parse_count(name, v, 1, 1024, &tmp, err);
            o->threads = (int)tmp;
        } else if (strcmp(name, "--min-time") == 0) rc = parse_real(name, v, 0, 86400, 1, &o->min_time, err);
        else if (strcmp(name, "--max-noise") == 0) {
            rc = parse_real(name, v, 0, 100, 1, &o->max_noise, err);
            o->max_noise /= 100.0;
        } else if (strcmp(name, "--max-reps") == 0) rc = parse_count(name, v, 1, 10000000, &o->max_reps, err);
        else if (strcmp(name, "--timeout") == 0) rc = parse_real(name, v, 0, 604800, 1, &o->timeout, err);
        else if (strcmp(name, "--ridge") == 0) rc = parse_real(name, v, 0, 1e300, 1, &o->ridge, err);
        else if (strcmp(name, "--outers") == 0) rc = parse_count(name, v, 1, 1000000, &o->outers, err);
        else if (strcmp(name, "--oracle-rows") == 0) rc = parse_count(name, v, 1, 2147483647, &o->oracle_rows, err);
        else if (strcmp(name, "--concurrency") == 0) rc = parse_count(name, v, 1, 4096, &o->concurrency, err);
        else if (strcmp(name, "--oracle-sample") == 0) rc = parse_count(name, v, 1, 2147483647, &o->oracle_sample, err);
        else if (strcmp(name, "--variants") == 0) o->variants = v;
        else if (strcmp(name, "--cold") == 0) {
            o->cold = 1;
            o->given |= SB_GIVEN_COLD;
        } else if (strcmp(name, "--throttle-threshold") == 0) {
            rc = parse_real(name, v, 0, 1, 0, &o->throttle_threshold, err);
            o->given |= SB_GIVEN_THROTTLE;
        } else if (strcmp(name, "--throttle-recovery-delay") == 0) {
            rc = parse_real(name, v, 0, 60, 0, &o->throttle_recovery, err);
            o->given |= SB_GIVEN_THROTTLE;
        } else if (strcmp(name, "--throttle-retakes") == 0) {
            rc = parse_count(name, v, 0, 1000000, &o->throttle_retakes, err);
            o->given |= SB_GIVEN_THROTTLE;
        }
        if (rc)
            return rc;
    }
    return SB_OK;
}

int sb_opt_names_output(const char *name)
{
    static const char *const outputs[] = {"--out", "--dump-beta", "--dump-z", "--dump-coords", "--dump-rows"};
    for (size_t k = 0; k < sizeof outputs / sizeof outputs[0]; k++)
        if (strcmp(name, outputs[k]) == 0)
            return 1;
    return 0;
}

double sb_gate_threshold(const sb_opts *o, const char *id, double dflt)
{
    for (int i = o->ngates - 1; i >= 0; i--) /* the last --gate for an id wins */
        if (strcmp(o->gates[i].id, id) == 0)
            return o->gates[i].value;
    return dflt;
}

void sb_print_opts_help(unsigned accepted)
{
    for (size_t k = 0; k < NOPTIONS; k++)
        if (OPTIONS[k].bit & accepted)
            fprintf(stdout, "  %-16s %s\n", OPTIONS[k].name, OPTIONS[k].help);
    fprintf(stdout, "  %-16s %s\n", "--help", "               this text");
}
