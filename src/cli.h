/* Options shared by the workload subcommands, parsed once. Each subcommand
 * says which options it accepts; any other is a usage error (exit 2). */
#ifndef SB_CLI_H
#define SB_CLI_H

#include <stdint.h>

#include "common.h"

enum {
    SB_OPT_SHAPE = 1u << 0,
    SB_OPT_BACKEND = 1u << 1,
    SB_OPT_REQUIRE_DEVICE = 1u << 2,
    SB_OPT_REPS = 1u << 3,
    SB_OPT_WARMUP = 1u << 4,
    SB_OPT_OUT = 1u << 5,
    SB_OPT_GATE = 1u << 6,
    SB_OPT_QUIET = 1u << 7,
    SB_OPT_METHOD = 1u << 8,
    SB_OPT_DATA = 1u << 9,        /* --x --w --rhs */
    SB_OPT_DUMP_BETA = 1u << 10,
    SB_OPT_REUPLOAD = 1u << 11,
    SB_OPT_CALIBRATION = 1u << 12,
    SB_OPT_FACTOR = 1u << 13,
    SB_OPT_THREADS = 1u << 14,
    SB_OPT_STOP = 1u << 15,       /* --min-time --max-noise --max-reps */
    SB_OPT_RIDGE = 1u << 16,
    SB_OPT_OUTERS = 1u << 17,
    SB_OPT_ORACLE_ROWS = 1u << 18,
    SB_OPT_ENCODE_DATA = 1u << 19, /* --decoders --atoms --amplitudes */
    SB_OPT_CONCURRENCY = 1u << 20,
    SB_OPT_ORACLE_SAMPLE = 1u << 21,
    SB_OPT_VARIANTS = 1u << 22,
    SB_OPT_PRECISION = 1u << 23,
    SB_OPT_SYSTEM = 1u << 24,     /* --system DIR: an arrow system from .npy files */
    SB_OPT_DUMP_Z = 1u << 25,
    SB_OPT_ENCODE_MODEL = 1u << 26, /* --latent-dim --degree --basis */
    SB_OPT_DUMP_COORDS = 1u << 27,  /* --dump-coords --dump-rows */
    SB_OPT_DRY_RUN = 1u << 28,      /* every workload: check everything, run nothing */
    SB_OPT_PLUGIN = 1u << 29,       /* --backend plugin:PATH.so and --timeout S (docs/plugins.md) */
    SB_OPT_REQUIRE_VALID = 1u << 30, /* every workload: exit 1 when validity.valid is false */
    SB_OPT_CONDITIONS = 1u << 31     /* every workload: --cold, --throttle-* (a device run's conditions) */
};

#define SB_MAX_GATES 16

typedef struct sb_gate_override {
    char id[32];
    double value;
} sb_gate_override;

typedef struct sb_opts {
    const char *command;
    const char *shape;
    const char *backend;        /* auto | cuda | host | plugin */
    const char *plugin;         /* --backend plugin:PATH: PATH (NULL otherwise) */
    double timeout;             /* --timeout S: a plugin run's child is killed after S seconds (0: not given) */
    int require_device;
    int require_valid;          /* --require-valid: an invalid result (docs/verdict.md, validity) exits 1 */
    int64_t reps, warmup;       /* -1: shape default */
    const char *out;            /* NULL: no file; "-": stdout */
    sb_gate_override gates[SB_MAX_GATES];
    int ngates;
    int quiet;
    const char *method;         /* primal | dual | auto */
    const char *precision;      /* fp64 | mixed | auto (resident-solve) */
    const char *x_path, *w_path, *rhs_path;
    const char *decoders_path, *atoms_path, *amplitudes_path;
    const char *dump_beta;
    const char *system;         /* --system DIR (inner-loop, outer-seq) */
    const char *dump_z;         /* --dump-z FILE.npy: the final z of the resident fit (outer-seq: one row per outer) */
    int64_t latent_dim, degree; /* encode's model without --shape (-1: not given) */
    const char *basis;          /* euclidean | periodic (NULL: not given) */
    const char *dump_coords;    /* encode: n x d coordinates */
    const char *dump_rows;      /* encode: n x 2, certified and chart per row */
    int reupload;
    const char *calibration;    /* calibration JSON to take ceilings from */
    const char *factor;         /* library | a backend's own variant */
    int threads;                /* host BLAS threads, 0: library default */
    double min_time;            /* --min-time S: keep timing until S spent and quiet (0: off) */
    double max_noise;           /* --max-noise PCT as a fraction (default 0.05) */
    int64_t max_reps;           /* --max-reps N: cap on timed reps under --min-time (-1: default) */
    double ridge;               /* --ridge R (0: not given) */
    int64_t outers;             /* --outers N (-1: the shape's) */
    int64_t oracle_rows;        /* --oracle-rows N (-1: the workload's default) */
    int64_t concurrency;        /* --concurrency N: fits in flight (-1: the workload's default) */
    int64_t oracle_sample;      /* --oracle-sample K: fits checked against the oracle (-1: default) */
    const char *variants;       /* --variants FILE.json: a user's fit matrix */
    int help;
    int dry_run;                /* --dry-run: stop after every input and option is checked */
    int cold;                   /* --cold: flush the device's L2 before each timed rep */
    double throttle_threshold;  /* --throttle-threshold F: a rep whose SM clock is below F × the
                                   device's default clock is throttled (default 0.75; 0: no check) */
    double throttle_recovery;   /* --throttle-recovery-delay S: pause after a throttled rep (default 0.05) */
    int64_t throttle_retakes;   /* --throttle-retakes N: throttled reps discarded and retaken at most
                                   (-1: the default, as many as --reps; 0: keep them, marked) */
    unsigned given;             /* SB_OPT_CONDITIONS options given (SB_GIVEN_*), for the host's refusal */
} sb_opts;

#define SB_GIVEN_COLD 1u
#define SB_GIVEN_THROTTLE 2u

/* Parse argv[0..argc) (argv[0] is the subcommand). accepted: SB_OPT_* mask. */
sb_rc sb_parse_opts(int argc, char **argv, unsigned accepted, sb_opts *o, sb_err *err);

/* 1 when the option (its name, without "=value") only names an output file:
 * --out and the dumps. One list for the reader's run options and for ab. */
int sb_opt_names_output(const char *name);

/* Split "--name=value": name (NUL-terminated, at most len - 1 bytes) and the
 * value after '=' (NULL when arg has no '=' or is not a "--" option). */
const char *sb_opt_split(const char *arg, char *name, size_t len);

/* Value of --gate ID=VALUE if given, else dflt. */
double sb_gate_threshold(const sb_opts *o, const char *id, double dflt);

/* Print the option lines for the accepted mask (for <cmd> --help). */
void sb_print_opts_help(unsigned accepted);

#endif
