#include "verdict.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "host/host_info.h"
#include "shape.h"

#ifndef SB_GIT
#define SB_GIT "unknown"
#endif

/* The command line, from main(): the verdict's "command". */
static int g_argc;
static char **g_argv;

void sb_verdict_set_command(int argc, char **argv)
{
    g_argc = argc;
    g_argv = argv;
}

cJSON *sb_verdict_command_json(void)
{
    cJSON *cmd = cJSON_CreateArray();
    for (int i = 0; i < g_argc && g_argv && g_argv[i]; i++)
        cJSON_AddItemToArray(cmd, cJSON_CreateString(g_argv[i]));
    return cmd;
}

int sb_git_is_dirty(const char *git)
{
    static const char suffix[] = "-dirty";
    size_t n = strlen(git), m = sizeof suffix - 1;
    return n >= m && strcmp(git + n - m, suffix) == 0;
}

cJSON *sb_json_number(double x)
{
    return isfinite(x) ? cJSON_CreateNumber(x) : cJSON_CreateNull();
}

sb_rc sb_verdict_init(sb_verdict *v, const char *workload, const sb_shape *shape, sb_err *err)
{
    memset(v, 0, sizeof *v);
    v->root = cJSON_CreateObject();
    if (!v->root)
        return sb_fail(err, SB_E_RUNTIME, "out of memory building the verdict");
    cJSON_AddStringToObject(v->root, "schema", SB_VERDICT_SCHEMA);
    cJSON *tool = cJSON_AddObjectToObject(v->root, "tool");
    cJSON_AddStringToObject(tool, "name", "saebench");
    cJSON_AddStringToObject(tool, "version", SB_VERSION);
    cJSON_AddStringToObject(tool, "git", SB_GIT);
    /* The Makefile appends -dirty to the commit when 'git diff --quiet HEAD'
     * saw local changes; "unknown" (no .git) is reported as not dirty. */
    cJSON_AddBoolToObject(tool, "dirty", sb_git_is_dirty(SB_GIT));
    /* Provenance: when (UTC, the run's start), and exactly what was run. */
    char created[32] = "";
    time_t now = time(NULL);
    struct tm tm;
    if (now != (time_t)-1 && gmtime_r(&now, &tm))
        strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (created[0])
        cJSON_AddStringToObject(v->root, "created", created);
    cJSON_AddItemToObject(v->root, "command", sb_verdict_command_json());
    cJSON_AddStringToObject(v->root, "workload", workload);
    cJSON_AddItemToObject(v->root, "shape", shape ? sb_shape_to_json(shape) : cJSON_CreateNull());
    cJSON_AddItemToObject(v->root, "host", sb_host_info_json());
    cJSON_AddNullToObject(v->root, "device");
    v->gates = cJSON_AddArrayToObject(v->root, "gates");
    return SB_OK;
}

void sb_verdict_free(sb_verdict *v)
{
    cJSON_Delete(v->root);
    v->root = v->gates = NULL;
}

void sb_verdict_gate(sb_verdict *v, const char *id, const char *rule, double value,
                     double threshold, int pass)
{
    cJSON *g = cJSON_CreateObject();
    cJSON_AddStringToObject(g, "id", id);
    cJSON_AddStringToObject(g, "rule", rule);
    cJSON_AddItemToObject(g, "value", sb_json_number(value));
    cJSON_AddItemToObject(g, "threshold", sb_json_number(threshold));
    cJSON_AddBoolToObject(g, "pass", pass);
    cJSON_AddItemToArray(v->gates, g);
    if (!pass)
        v->gates_failed++;
}

void sb_verdict_device(sb_verdict *v, const sb_device_info *info)
{
    cJSON *d = info ? cJSON_CreateObject() : cJSON_CreateNull();
    if (info) {
        char cc[16];
        snprintf(cc, sizeof cc, "%d.%d", info->cc_major, info->cc_minor);
        cJSON_AddStringToObject(d, "name", info->name);
        cJSON_AddStringToObject(d, "compute_capability", cc);
        cJSON_AddNumberToObject(d, "driver", info->driver_version);
        cJSON_AddNumberToObject(d, "runtime", info->runtime_version);
        cJSON_AddNumberToObject(d, "sm_count", info->sm_count);
        cJSON_AddNumberToObject(d, "memory_bytes", (double)info->total_mem);
        cJSON_AddItemToObject(d, "clock_mhz", info->clock_mhz > 0 ? cJSON_CreateNumber(info->clock_mhz) : cJSON_CreateNull());
    }
    cJSON_ReplaceItemInObjectCaseSensitive(v->root, "device", d);
}

void sb_verdict_finish(sb_verdict *v, int exit_code)
{
    cJSON_DeleteItemFromObjectCaseSensitive(v->root, "verdict");
    cJSON_DeleteItemFromObjectCaseSensitive(v->root, "exit_code");
    cJSON_AddStringToObject(v->root, "verdict", exit_code == 0 ? "pass" : "fail");
    cJSON_AddNumberToObject(v->root, "exit_code", exit_code);
}

sb_rc sb_verdict_write(const sb_verdict *v, const char *path, sb_err *err)
{
    char *text = cJSON_Print(v->root);
    if (!text)
        return sb_fail(err, SB_E_RUNTIME, "out of memory rendering the verdict");
    sb_rc rc = sb_write_atomic(path, text, err);
    cJSON_free(text);
    return rc;
}

sb_rc sb_verdict_write_fd(const sb_verdict *v, int fd, sb_err *err)
{
    char *text = cJSON_Print(v->root);
    if (!text)
        return sb_fail(err, SB_E_RUNTIME, "out of memory rendering the verdict");
    const char *p = text;
    size_t left = strlen(text);
    while (left > 0) {
        ssize_t k = write(fd, p, left);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            int e = k < 0 ? errno : EIO;
            cJSON_free(text);
            return sb_fail(err, SB_E_RUNTIME, "cannot hand the verdict to the parent process: %s", strerror(e));
        }
        p += k;
        left -= (size_t)k;
    }
    cJSON_free(text);
    return SB_OK;
}

sb_target_status sb_target_decide(int is_device, int engaged, double measured, double target)
{
    if (!is_device || !engaged || !(measured > 0))
        return SB_TARGET_UNDETERMINED;
    return measured >= target ? SB_TARGET_MET : SB_TARGET_UNMET;
}

const char *sb_target_name(sb_target_status s)
{
    switch (s) {
    case SB_TARGET_MET: return "met";
    case SB_TARGET_UNMET: return "unmet";
    default: return "undetermined";
    }
}
