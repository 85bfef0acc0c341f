/* The verdict (schema saebench.verdict/4, docs/verdict.schema.json): one JSON
 * object per run. Commands add their sections to root with the cJSON API;
 * this file owns the common sections, the gate list, and the atomic write. */
#ifndef SB_VERDICT_H
#define SB_VERDICT_H

#include "backend.h"
#include "common.h"
#include "safe_io.h"

struct cJSON;
struct sb_shape;

#define SB_VERDICT_SCHEMA "saebench.verdict/4"

typedef struct sb_verdict {
    struct cJSON *root;
    struct cJSON *gates;
    int gates_failed;
} sb_verdict;

/* The process's command line (main's argc/argv), recorded as the verdict's
 * "command" by every later sb_verdict_init. Not called: an empty array. */
void sb_verdict_set_command(int argc, char **argv);
/* That command line as a JSON array of strings (empty when not set). */
struct cJSON *sb_verdict_command_json(void);

/* 1 when a tool.git string names a modified tree (ends with "-dirty"). */
int sb_git_is_dirty(const char *git);

/* schema, tool (name, version, git, dirty), created, command, workload,
 * shape, host sections. Returns SB_E_RUNTIME on OOM. */
sb_rc sb_verdict_init(sb_verdict *v, const char *workload, const struct sb_shape *shape, sb_err *err);
void sb_verdict_free(sb_verdict *v);

/* Append {id, rule, value, threshold, pass}; a failing gate is remembered. */
void sb_verdict_gate(sb_verdict *v, const char *id, const char *rule, double value,
                     double threshold, int pass);

/* device section from info (NULL -> JSON null). */
void sb_verdict_device(sb_verdict *v, const sb_device_info *info);

/* Sets "verdict" (pass only when exit_code == 0) and "exit_code". */
void sb_verdict_finish(sb_verdict *v, int exit_code);

/* Render and write the verdict. */
sb_rc sb_verdict_write(const sb_verdict *v, const char *path, sb_err *err);
/* Render it into an open file descriptor (a plugin run's child hands it to
 * its parent, which writes --out: src/isolate.c). */
sb_rc sb_verdict_write_fd(const sb_verdict *v, int fd, sb_err *err);

/* Status of a throughput target: a target is only met or unmet by a measured
 * device number; anything else is undetermined (docs/workloads.md §0 Engaged;
 * docs/verdict.md, target.status). */
typedef enum { SB_TARGET_MET, SB_TARGET_UNMET, SB_TARGET_UNDETERMINED } sb_target_status;
sb_target_status sb_target_decide(int is_device, int engaged, double measured, double target);
const char *sb_target_name(sb_target_status s);

/* JSON number helper: NaN/Inf become null (JSON has no NaN). */
struct cJSON *sb_json_number(double x);

#endif
