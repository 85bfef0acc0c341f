#include "calibration.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shape.h"

cJSON *sb_ceilings_json(const sb_ceilings *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "fp64_flops", c->fp64_flops);
    cJSON_AddNumberToObject(o, "mem_bw", c->mem_bw);
    cJSON_AddNumberToObject(o, "dgemm_n", c->dgemm_n);
    cJSON_AddNumberToObject(o, "copy_bytes", c->copy_bytes);
    return o;
}

static sb_rc ceilings_from_json(const cJSON *o, const char *origin, const char *what, sb_ceilings *c, sb_err *err)
{
    const char *keys[] = {"fp64_flops", "mem_bw", "dgemm_n", "copy_bytes"};
    double *dst[] = {&c->fp64_flops, &c->mem_bw, &c->dgemm_n, &c->copy_bytes};
    for (int k = 0; k < 4; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, keys[k]);
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble <= 0)
            return sb_fail(err, SB_E_INPUT, "%s: %s.%s must be a positive number", origin, what, keys[k]);
        *dst[k] = v->valuedouble;
    }
    return SB_OK;
}

sb_rc sb_calibration_load(const char *path, sb_calibration *cal, sb_err *err)
{
    memset(cal, 0, sizeof *cal);
    char *text = NULL;
    size_t len = 0;
    sb_rc rc = sb_read_file(path, &text, &len, err);
    if (rc)
        return rc;
    cJSON *root = sb_json_parse(text, len, path, err);
    free(text);
    if (!root)
        return SB_E_INPUT;
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(root, "schema");
    if (!cJSON_IsString(schema) || strcmp(schema->valuestring, SB_CALIBRATION_SCHEMA) != 0) {
        cJSON_Delete(root);
        return sb_fail(err, SB_E_INPUT, "%s: not a calibration file (schema must be \"%s\")", path, SB_CALIBRATION_SCHEMA);
    }
    snprintf(cal->source, sizeof cal->source, "%s", path);
    const cJSON *host = cJSON_GetObjectItemCaseSensitive(root, "host");
    const cJSON *dev = cJSON_GetObjectItemCaseSensitive(root, "device");
    if (cJSON_IsObject(host)) {
        rc = ceilings_from_json(cJSON_GetObjectItemCaseSensitive(host, "ceilings"), path, "host.ceilings", &cal->host, err);
        cal->have_host = rc == SB_OK;
    }
    if (rc == SB_OK && cJSON_IsObject(dev)) {
        rc = ceilings_from_json(cJSON_GetObjectItemCaseSensitive(dev, "ceilings"), path, "device.ceilings", &cal->device, err);
        cal->have_device = rc == SB_OK;
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(dev, "name");
        if (cJSON_IsString(name))
            snprintf(cal->device_name, sizeof cal->device_name, "%s", name->valuestring);
        const cJSON *cond = cJSON_GetObjectItemCaseSensitive(dev, "conditions");
        const cJSON *warn = cJSON_GetObjectItemCaseSensitive(cond, "warnings"), *w;
        if (!cJSON_IsArray(warn))
            warn = NULL;
        cJSON_ArrayForEach(w, warn)
            if (cJSON_IsString(w) && cal->device_warnings++ == 0)
                sb_printable(w->valuestring + (strncmp(w->valuestring, "WARNING: ", 9) ? 0 : 9), cal->device_warning,
                             sizeof cal->device_warning);
    }
    cJSON_Delete(root);
    return rc;
}

sb_rc sb_ceilings_for(const char *path, const sb_backend *b, sb_ceilings *out, char *source,
                      size_t source_len, sb_err *err)
{
    if (path) {
        sb_calibration cal;
        sb_rc rc = sb_calibration_load(path, &cal, err);
        if (rc)
            return rc;
        if (b->is_device ? !cal.have_device : !cal.have_host)
            return sb_fail(err, SB_E_INPUT, "%s: no %s ceilings in this calibration", path, b->is_device ? "device" : "host");
        *out = b->is_device ? cal.device : cal.host;
        snprintf(source, source_len, "%s", path);
        return SB_OK;
    }
    snprintf(source, source_len, "measured-at-run");
    return b->calibrate(out, err);
}

double sb_roofline_bound_s(double flops, double bytes, const sb_ceilings *c)
{
    double tf = c->fp64_flops > 0 ? flops / c->fp64_flops : 0;
    double tb = c->mem_bw > 0 ? bytes / c->mem_bw : 0;
    return tf > tb ? tf : tb;
}
