/* The one reader of verdict files (schemas saebench.verdict/2 to /4, docs/verdict.md)
 * for 'report' and 'compare'. It loads FILE.json, or every *.json under a
 * directory (recursively, in sorted order), keeps what those commands use,
 * and checks each of those fields' type and finiteness, so that neither
 * command ever looks at raw JSON.
 *
 * What is a verdict: a JSON object whose "schema" is "saebench.verdict/N".
 * N = 2 to 4 is read; any other N is an error (a newer N names the saebench that
 * reads it). JSON that is not a verdict (a calibration file, a shape, a
 * report) is skipped inside a directory and refused when named alone.
 *
 * Everything is driven by the verdict's own fields: nothing here knows the
 * list of workloads, shapes or phases. */
#ifndef SB_VERDICT_READ_H
#define SB_VERDICT_READ_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

/* The reader takes /2 to /4: /3 changed only what resident-solve's
 * RS-001/RS-002 and parity.pass mean (a ratio judged by src/parity.h, not
 * a fixed forward error), /4 the same for the arrow workloads' and encode's
 * parity gates; both added parity fields. Every field the reader uses is the
 * same in all three (docs/verdict.md, Stability promise). */
#define SB_VERDICT_READ_VERSION 4
#define SB_VERDICT_READ_OLDEST 2

/* The timing of one phase (or the primary, timing's top level). A number
 * absent from the file is NaN, a flag absent is -1. */
typedef struct sb_vtiming {
    int present;              /* the object was there */
    double median_s, q1_s, q3_s, rel_iqr, rse_median;
    int noisy;                /* 1, 0, or -1: not recorded */
    int64_t reps;             /* -1: not recorded */
    double *samples_s;        /* timing.samples_s, owned; NULL when absent */
    size_t nsamples;
} sb_vtiming;

typedef struct sb_vphase {
    char name[64];
    sb_vtiming t;
} sb_vphase;

typedef struct sb_vgate {
    char id[32];
    int applies, pass;
    double value, threshold;  /* NaN where the verdict has null */
} sb_vgate;

/* One verdict as read. Strings are NUL-terminated and free of control
 * characters; numbers are finite or NaN ("not in the file / null"). */
typedef struct sb_vrec {
    char path[1024];          /* the file it came from */
    char run[256];            /* run set: the deepest dated directory of its path, else the argument */
    char date[32];            /* "YYYY-MM-DDTHH:MM:SSZ": "created", else the dated directory, else mtime */
    int64_t date_epoch;
    char date_from[16];       /* "created" | "directory" | "mtime" */
    /* The order of verdicts (report's rows, compare's newest): "created",
     * else the dated directory; a date from the file's mtime never orders
     * (a copy or a checkout resets it), so then order_epoch is 0 and the
     * load order (byte order of paths) decides. */
    int64_t order_epoch;

    char workload[64];
    char shape[128];          /* shape.name */
    char backend[64];
    char device[128];         /* device.name, or "host" when device is null */
    int device_null;          /* device was null: no device ran (on exit 3, backend is the one asked for) */
    char execution_path[32];  /* "" when absent */
    char cache[8];            /* timing.cache: "warm", "cold" (--cold), "" when absent (older verdicts: warm) */
    int engaged;

    double measured_rows_per_s, engaged_rows_per_s, seconds_per_rep;
    char measured_of[16];     /* "host" | "device" | "" */

    sb_vtiming timing;        /* the primary phase */
    sb_vphase *phases;        /* timing.phases in file order, owned */
    size_t nphases;

    double residency_speedup; /* NaN: residency null or absent */
    double bound_s, efficiency;
    int roofline_suspect;     /* roofline.suspect: 1, 0, or -1 when absent (older files) */
    int valid;                /* validity.valid: 1, 0, or -1 when absent (older files) */
    double parity_rel_err;
    int parity_pass;          /* -1: no parity section */

    sb_vgate *gates;          /* owned */
    size_t ngates;

    char target_status[16];   /* "" when absent */
    char verdict[8];          /* "pass" | "fail" */
    int exit_code;            /* 0..4 */
    char git[64];             /* tool.git, "" when absent */
    int dirty;                /* tool.dirty: 1, 0, or -1 when absent */
    char hostname[256];       /* host.hostname, "" when absent */
    int64_t host_threads;     /* host.threads, -1 when absent */
    /* The run's options: "command" without the program name and without the
     * options that only name outputs (--out, --dump-beta, --dump-coords,
     * --dump-rows, --quiet), joined by '\x1f'; "" when the verdict has no
     * command. */
    char args[2048];
} sb_vrec;

/* Two verdicts of one key are runs of one configuration (pooled by compare
 * as repeats) when they share tool.git, host.hostname, host.threads and the
 * options they were run with (args) (an absent field matches only an absent
 * one). */
int sb_vrec_same_config(const sb_vrec *a, const sb_vrec *b);

/* Order of two verdicts: order_epoch, then path. <0, 0, >0 as strcmp. */
int sb_vrec_order(const sb_vrec *a, const sb_vrec *b);

/* Parse one file's text (text[len] must be NUL). *found = 1 and SB_OK: a
 * verdict in out (free with sb_vrec_free). *found = 0 and SB_OK: valid JSON
 * that is not a verdict, out untouched. SB_E_INPUT with one line in err:
 * malformed JSON, a verdict of another schema version, or a field this
 * reader uses that has the wrong type or a non-finite value. path, run and
 * the date fields are left for the caller (sb_vrec_read fills them). */
sb_rc sb_vrec_parse(const char *text, size_t len, const char *origin, sb_vrec *out, int *found,
                    sb_err *err);

/* Read and parse path; fills path, and date from "created" or the file's
 * mtime. run is set to run_label (may be NULL: the path). */
sb_rc sb_vrec_read(const char *path, const char *run_label, sb_vrec *out, int *found, sb_err *err);

void sb_vrec_free(sb_vrec *v);

/* The phase named name, or NULL. */
const sb_vtiming *sb_vrec_phase(const sb_vrec *v, const char *name);

/* Same key (workload, shape, backend, device, and cold or warm)? */
int sb_vrec_same_key(const sb_vrec *a, const sb_vrec *b);

/* Gates counted: applied (applies true) and passed (applies and pass). */
void sb_vrec_gate_counts(const sb_vrec *v, size_t *applied, size_t *passed);

/* A set of verdicts loaded from files and directories. */
typedef struct sb_vset {
    sb_vrec *items;
    size_t n, cap;
    size_t skipped;           /* JSON files under a directory that are not verdicts */
} sb_vset;

/* Load arg (a verdict file, or a directory walked recursively in byte order
 * of names, reading *.json and skipping *.tmp.* and hidden entries) and
 * append its verdicts to set. A directory with no verdict is an input error,
 * and so is any file that fails sb_vrec_read. */
sb_rc sb_vset_load(const char *arg, sb_vset *set, sb_err *err);

void sb_vset_free(sb_vset *set);

/* Parse "YYYY-MM-DD", optionally followed by [T _] HH[:-]MM([:-]SS) and an
 * ignored rest, at the start of s (the dated-directory and "created" forms;
 * for "created" a trailing Z or +HH:MM / -HH:MM offset is applied when
 * with_offset is set). Returns 1 and the UTC epoch seconds, else 0. */
int sb_parse_date(const char *s, int with_offset, int64_t *epoch);

/* epoch -> "YYYY-MM-DDTHH:MM:SSZ" (buf of at least 21 bytes). */
void sb_format_date(int64_t epoch, char *buf, size_t len);

#endif
