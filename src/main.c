/* saebench: one dispatch table of subcommands; --help is generated from it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "common.h"
#include "host/host_info.h"
#include "verdict.h"

#ifndef SB_GIT
#define SB_GIT "unknown"
#endif
#ifndef SB_BUILD_CUDA
#define SB_BUILD_CUDA "off"
#endif

typedef struct sb_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} sb_command;

static const sb_command COMMANDS[] = {
    {"resident-solve", sb_cmd_resident_solve, "penalized normal equations with X resident (docs/workloads.md §1)"},
    {"inner-loop", sb_cmd_inner_loop, "arrow-Schur Levenberg-Marquardt loop, frame resident (§2)"},
    {"outer-seq", sb_cmd_outer_seq, "one frame, many outer evaluations (§3)"},
    {"multiplex", sb_cmd_multiplex, "many independent fits on one device, against one after another (§4)"},
    {"encode", sb_cmd_encode, "certified per-row latent-coordinate encode (§5)"},
    {"shapes", sb_cmd_shapes, "list the named shapes, or show one"},
    {"calibrate", sb_cmd_calibrate, "measure FP64 matrix rate and memory bandwidth (host, device)"},
    {"report", sb_cmd_report, "merge verdicts into a table (text, md, csv, json) and an HTML dashboard"},
    {"compare", sb_cmd_compare, "regression gate between two verdict sets (docs/compare.md)"},
    {"ab", sb_cmd_ab, "interleaved A/B runs of two executables, gated by a paired test (docs/compare.md)"},
};
#define NCOMMANDS (sizeof COMMANDS / sizeof COMMANDS[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: saebench <workload> --shape NAME|FILE.json [--backend auto|cuda|host] [--require-device]\n"
               "                [--reps N] [--warmup N] [--out FILE|-] [--gate ID=VALUE]... [--quiet]\n"
               "       saebench shapes [NAME] | calibrate | report FILE.json... | compare BASE NEW\n"
               "       saebench ab --base EXE --new EXE --out-dir DIR -- WORKLOAD [ARGS...]\n"
               "       saebench --version | --help | <command> --help\n\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-15s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
    fprintf(f, "\nexit codes: 0 all gates passed, 1 a gate failed, 2 usage or input error,\n"
               "            3 device required but not engaged, 4 runtime failure (verdict still written)\n"
               "workloads, gates and targets: docs/workloads.md; the verdict: docs/verdict.md\n");
}

static int dispatch(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return SB_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return SB_EXIT_PASS;
    }
    if (strcmp(argv[1], "--version") == 0) {
        char blas[512];
        sb_host_blas_name(blas, sizeof blas);
        printf("saebench %s\ngit %s\nbuild: CUDA %s\nBLAS: %s\n", SB_VERSION, SB_GIT, SB_BUILD_CUDA, blas);
        return SB_EXIT_PASS;
    }
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(argv[1], COMMANDS[i].name) == 0)
            return COMMANDS[i].run(argc - 1, argv + 1);
    fprintf(stderr, "saebench: unknown command '%s' (see 'saebench --help')\n", argv[1]);
    return SB_EXIT_USAGE;
}

/* Output that never arrived (a full disk, a closed pipe) is not a success:
 * every command's stdout is checked once, here, before the exit code stands. */
int main(int argc, char **argv)
{
    sb_verdict_set_command(argc, argv);
    int rc = dispatch(argc, argv);
    errno = 0;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "saebench: cannot write to stdout: %s\n", errno ? strerror(errno) : "write error");
        if (rc == SB_EXIT_PASS)
            rc = SB_EXIT_USAGE;
    }
    return rc;
}
