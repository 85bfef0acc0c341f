/* Workload shapes as data: shapes/<name>.json. A shape names the workloads it
 * serves and carries their parameters; unknown or missing fields are errors. */
#ifndef SB_SHAPE_H
#define SB_SHAPE_H

#include <stdint.h>

#include "common.h"

struct cJSON;

/* Workload bits, also used to say which fields a workload needs. */
enum {
    SB_WL_RESIDENT_SOLVE = 1 << 0,
    SB_WL_INNER_LOOP = 1 << 1,
    SB_WL_OUTER_SEQ = 1 << 2,
    SB_WL_MULTIPLEX = 1 << 3,
    SB_WL_ENCODE = 1 << 4
};

typedef struct sb_shape {
    char name[64];
    char path[1024];         /* the file it was loaded from */
    char description[256];
    unsigned workloads;      /* SB_WL_* bits */
    /* Parameters (meaning per workload: docs/workloads.md §1–§5). */
    int64_t n, p, d, basis_cols;
    double ridge;
    uint64_t seed;
    int64_t reps, warmup;    /* defaults for this shape; the CLI overrides */
    int64_t outers;          /* outer-seq: number of outer evaluations */
    double htt_shift;        /* inner-loop/outer-seq: added to every H_tt diagonal (tests) */
    int64_t max_iterations; /* LM iteration cap (0: the default 16) */
    double residency_min;    /* IL-002 default: residency speedup must exceed it (0: 1.0) */
    double target_solve_ms;  /* inner-loop: device target, ms per resident solve (0: none) */
    char matrix[64];         /* multiplex: color-arm-variants | battery */
    int64_t degree, atoms;   /* encode: D and K (n, p, d, seed as above) */
    char basis[16];          /* encode: euclidean | periodic */
    char gate[16];           /* encode: softmax | ibp | jumprelu */
    double noise;            /* encode: additive noise scale (default 0) */
    unsigned present;        /* bit i set: field i of the field table was given */
} sb_shape;

/* Directory holding the named shapes: $SAEBENCH_SHAPES, else ./shapes, else
 * <directory of the executable>/shapes. Written into dir (size len). */
sb_rc sb_shapes_dir(char *dir, size_t len, sb_err *err);

/* NAME (looked up in the shapes dir) or a path to a .json file. */
sb_rc sb_shape_load(const char *name_or_path, sb_shape *out, sb_err *err);

/* Parse a shape from JSON text; origin names it in error messages. */
sb_rc sb_shape_parse(const char *text, size_t len, const char *origin,
                     sb_shape *out, sb_err *err);

/* A shape built as JSON by a command to describe a user's data (.npy files,
 * a variants file), parsed by the rules of a shape file except that the
 * fixture's parameters (seed, basis_cols, gate, ...) are not required:
 * nothing is generated. j is consumed; path becomes the shape's path and
 * names it in errors. */
sb_rc sb_shape_from_json(struct cJSON *j, const char *path, sb_shape *out, sb_err *err);

/* Does the shape serve this workload bit? */
int sb_shape_serves(const sb_shape *s, unsigned workload_bit);

/* "resident-solve" -> SB_WL_RESIDENT_SOLVE (0 if unknown). */
unsigned sb_workload_bit(const char *workload);

/* The shape as a JSON object: name, path, description, workloads and every
 * parameter given (the verdict's "shape" section). Caller owns the result. */
struct cJSON *sb_shape_to_json(const sb_shape *s);

/* Parse JSON text (text[len] must be NUL); malformed or trailing bytes give
 * NULL and one line in err naming origin. */
struct cJSON *sb_json_parse(const char *text, size_t len, const char *origin, sb_err *err);

/* Read a whole file (NUL-terminated); SB_E_INPUT with a clear line on failure. */
sb_rc sb_read_file(const char *path, char **text, size_t *len, sb_err *err);

#endif
