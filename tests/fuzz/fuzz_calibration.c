/* libFuzzer harness for the calibration reader (src/calibration.c:
 * sb_calibration_load, and sb_ceilings_for with a file). Every input is a
 * whole calibration file, handed over by path.
 *
 * On success every ceiling that was loaded must be a positive finite number
 * (the roofline divides by them), and sb_ceilings_for must agree with the
 * loader about which backends the file covers. */
#include <math.h>

#include "calibration.h"
#include "fuzz_input.h"

static void check_ceilings(const sb_ceilings *c, const char *which)
{
    const double v[] = {c->fp64_flops, c->mem_bw, c->dgemm_n, c->copy_bytes};
    for (int k = 0; k < 4; k++)
        FUZZ_CHECK(isfinite(v[k]) && v[k] > 0, "%s ceiling %d = %g accepted", which, k, v[k]);
}

/* sb_ceilings_for reads only name and is_device when given a file; calibrate
 * is never called on that path, so a null pointer would fault if it were. */
static const sb_backend fake_host = {.name = "host", .is_device = 0};
static const sb_backend fake_device = {.name = "cuda", .is_device = 1};

static void check_ceilings_for(const char *path, const sb_backend *b, int have,
                               const sb_ceilings *want)
{
    sb_ceilings got;
    char source[600];
    sb_err err = {{0}};
    sb_rc rc = sb_ceilings_for(path, b, &got, source, sizeof source, &err);
    if (!have) {
        FUZZ_CHECK(rc == SB_E_INPUT, "%s ceilings absent but sb_ceilings_for gave %d",
                   b->name, (int)rc);
        fuzz_check_message(err.msg);
        return;
    }
    FUZZ_CHECK(rc == SB_OK, "%s ceilings loaded but sb_ceilings_for failed: %s", b->name,
               err.msg);
    FUZZ_CHECK(memcmp(&got, want, sizeof got) == 0, "%s ceilings differ between readers",
               b->name);
    FUZZ_CHECK(strcmp(source, path) == 0, "source '%s' is not the file", source);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_input_path(data, size);
    sb_calibration cal;
    sb_err err = {{0}};
    sb_rc rc = sb_calibration_load(path, &cal, &err);
    if (rc != SB_OK) {
        FUZZ_CHECK(rc == SB_E_INPUT, "load returned %d, not an input error", (int)rc);
        fuzz_check_message(err.msg);
        return 0;
    }
    FUZZ_CHECK(memchr(cal.source, '\0', sizeof cal.source) != NULL, "source not terminated");
    FUZZ_CHECK(memchr(cal.device_name, '\0', sizeof cal.device_name) != NULL,
               "device_name not terminated");
    if (cal.have_host)
        check_ceilings(&cal.host, "host");
    if (cal.have_device)
        check_ceilings(&cal.device, "device");
    check_ceilings_for(path, &fake_host, cal.have_host, &cal.host);
    check_ceilings_for(path, &fake_device, cal.have_device, &cal.device);
    return 0;
}
