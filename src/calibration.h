/* Ceilings for rooflines: measured by 'saebench calibrate' into a JSON file
 * (schema saebench.calibration/1), or measured at the start of a run. */
#ifndef SB_CALIBRATION_H
#define SB_CALIBRATION_H

#include "backend.h"
#include "common.h"

struct cJSON;

#define SB_CALIBRATION_SCHEMA "saebench.calibration/1"

typedef struct sb_calibration {
    char source[512];          /* file path, or "measured-at-run" */
    int have_host, have_device;
    sb_ceilings host, device;
    char device_name[256];
    int device_warnings;       /* device.conditions.warnings of the file: how many */
    char device_warning[256];  /* and the first, printable */
} sb_calibration;

sb_rc sb_calibration_load(const char *path, sb_calibration *cal, sb_err *err);

/* Ceilings for the backend that ran: from path when given (exit 2 if the
 * file lacks that backend's ceilings), else measured now. *source names it. */
sb_rc sb_ceilings_for(const char *path, const sb_backend *b, sb_ceilings *out,
                      char *source, size_t source_len, sb_err *err);

struct cJSON *sb_ceilings_json(const sb_ceilings *c);

/* bound_s = max(flops / rate, bytes / bandwidth) */
double sb_roofline_bound_s(double flops, double bytes, const sb_ceilings *c);

#endif
