/* saebench calibrate: measure this machine's ceilings (FP64 matrix rate and
 * memory bandwidth, host and device) and write them as JSON. Verdicts take
 * them with --calibration FILE and name the file in roofline.ceilings.source. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "backend.h"
#include "calibration.h"
#include "cli.h"
#include "commands.h"
#include "host/host_info.h"
#include "nvml.h"
#include "verdict.h"

#define CAL_ACCEPTED (SB_OPT_OUT | SB_OPT_BACKEND | SB_OPT_REQUIRE_DEVICE | SB_OPT_QUIET | SB_OPT_THREADS)

int sb_cmd_calibrate(int argc, char **argv)
{
    sb_opts o;
    sb_err err = {{0}};
    if (sb_parse_opts(argc, argv, CAL_ACCEPTED, &o, &err)) {
        fprintf(stderr, "saebench: %s\n", err.msg);
        return SB_EXIT_USAGE;
    }
    if (o.help) {
        printf("usage: saebench calibrate [--out FILE|-] [--backend auto|cuda|host] [--require-device]\n\n"
               "Measure FP64 matrix rate (a large DGEMM) and memory bandwidth (a large copy,\n"
               "read + write bytes) on the host and, when one is engaged, the device.\n\n");
        sb_print_opts_help(CAL_ACCEPTED);
        return SB_EXIT_PASS;
    }
    const char *out = o.out ? o.out : "-";
    if (sb_check_writable(out, &err)) {
        fprintf(stderr, "saebench: %s\n", err.msg);
        return SB_EXIT_USAGE;
    }
    sb_host_set_threads(o.threads);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema", SB_CALIBRATION_SCHEMA);
    char when[64];
    time_t now = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    cJSON_AddStringToObject(root, "created", when);
    cJSON_AddStringToObject(root, "tool_version", SB_VERSION);
    int exit_code = SB_EXIT_PASS;

    int want_host = strcmp(o.backend, "cuda") != 0;
    int want_dev = strcmp(o.backend, "host") != 0;
    if (want_host) {
        sb_ceilings c;
        cJSON *h = sb_host_info_json();
        if (sb_host_backend.calibrate(&c, &err)) {
            fprintf(stderr, "saebench: host calibration failed: %s\n", err.msg);
            exit_code = SB_EXIT_RUNTIME;
        } else {
            cJSON_AddItemToObject(h, "ceilings", sb_ceilings_json(&c));
            if (!o.quiet)
                fprintf(stderr, "host:   DGEMM %.1f GFLOP/s (n=%.0f), copy %.1f GB/s\n", c.fp64_flops / 1e9, c.dgemm_n, c.mem_bw / 1e9);
        }
        cJSON_AddItemToObject(root, "host", h);
    } else {
        cJSON_AddNullToObject(root, "host");
    }
    cJSON *dev = cJSON_CreateNull();
    if (want_dev) {
        const sb_backend *b = sb_backend_by_name("cuda");
        sb_device_info info;
        memset(&info, 0, sizeof info);
        sb_err why = {{0}};
        if (b->probe(&info, &why) != SB_OK) {
            if (!o.quiet)
                fprintf(stderr, "device: not engaged: %s\n", why.msg);
            cJSON_AddStringToObject(root, "device_reason", why.msg);
            if (o.require_device || strcmp(o.backend, "cuda") == 0)
                exit_code = SB_EXIT_NO_DEVICE;
        } else {
            /* the device's conditions around its measurement, as a run records
             * them around its timed phases: a ceiling measured by a throttled
             * or shared GPU is too low for every roofline that uses it */
            sb_conditions cond;
            memset(&cond, 0, sizeof cond);
            sb_conditions_read(&cond, info.pci_bus_id, 1);
            sb_ceilings c;
            const int failed = b->calibrate(&c, &err) != SB_OK;
            sb_conditions_read(&cond, info.pci_bus_id, 0);
            char warn[2][256];
            const int nwarn = failed ? 0 : sb_conditions_warnings(&cond, "calibration", "the ceilings may be low", warn);
            if (failed) {
                fprintf(stderr, "saebench: device calibration failed: %s\n", err.msg);
                cJSON_AddStringToObject(root, "device_reason", err.msg);
                exit_code = SB_EXIT_RUNTIME;
            } else {
                cJSON_Delete(dev);
                dev = cJSON_CreateObject();
                char cc[16];
                snprintf(cc, sizeof cc, "%d.%d", info.cc_major, info.cc_minor);
                cJSON_AddStringToObject(dev, "name", info.name);
                cJSON_AddStringToObject(dev, "compute_capability", cc);
                cJSON_AddItemToObject(dev, "ceilings", sb_ceilings_json(&c));
                cJSON *cj = sb_conditions_json(&cond);
                cJSON *warnings = cJSON_AddArrayToObject(cj, "warnings");
                for (int i = 0; i < nwarn; i++)
                    cJSON_AddItemToArray(warnings, cJSON_CreateString(warn[i]));
                cJSON_AddItemToObject(dev, "conditions", cj);
                if (!o.quiet) {
                    fprintf(stderr, "device: %s  DGEMM %.2f TFLOP/s (n=%.0f), copy %.3f TB/s\n", info.name,
                            c.fp64_flops / 1e12, c.dgemm_n, c.mem_bw / 1e12);
                    for (int i = 0; i < nwarn; i++)
                        fprintf(stderr, "device: %s\n", warn[i]);
                }
            }
            sb_conditions_close(&cond);
        }
    }
    cJSON_AddItemToObject(root, "device", dev);
    cJSON_AddNumberToObject(root, "exit_code", exit_code);
    char *text = cJSON_Print(root);
    if (sb_write_atomic(out, text, &err)) {
        fprintf(stderr, "saebench: %s\n", err.msg);
        exit_code = SB_EXIT_USAGE;
    }
    cJSON_free(text);
    cJSON_Delete(root);
    return exit_code;
}
