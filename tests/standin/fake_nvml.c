/* A fake NVML (TEST-ONLY): the few NVML entry points src/nvml.c opens,
 * answering what the environment variable SB_FAKE_NVML says. Built by
 * tests/standin/standin-build.mk into build/standin/libfake-nvml.so and
 * opened only by the stand-in build (SB_NVML_LIB); ./saebench opens
 * libnvidia-ml.so.1 and never this.
 *
 * SB_FAKE_NVML: space-separated KEY=VALUE, every key optional:
 *   init=fail          nvmlInit_v2 fails (NVML_ERROR_DRIVER_NOT_LOADED)
 *   others=PID:BYTES,PID:BYTES   compute processes besides the caller
 *   reasons=HEX        clock-event reason bits (default 0x1, gpu-idle)
 *   after-reasons=HEX  the bits from the second reading on (default: reasons)
 *   sm=MHZ temp=C power=MW   SM clock, temperature, power draw
 *   ecc=unsupported    nvmlDeviceGetEccMode answers NVML_ERROR_NOT_SUPPORTED
 * The caller's own pid is always listed as a compute process, as the driver
 * lists a process with a CUDA context, so that saebench's leaving itself out
 * is tested. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

typedef struct fake_device *fake_handle;
typedef struct {
    unsigned int pid;
    unsigned long long used;
    unsigned int gi, ci;
} fake_proc;

enum { OK = 0, NOT_SUPPORTED = 3, DRIVER_NOT_LOADED = 9, INSUFFICIENT_SIZE = 7, FAKE_MAX = 16 };

static struct fake_device {
    int init_fail, ecc_unsupported;
    unsigned long long reasons, after_reasons;
    unsigned sm, temp, power;
    int nothers;
    fake_proc others[FAKE_MAX];
    int readings;
} fake;

static const char *value_of(const char *spec, const char *key)
{
    size_t k = strlen(key);
    for (const char *p = spec; p && *p; p = strchr(p, ' ') ? strchr(p, ' ') + 1 : NULL)
        if (strncmp(p, key, k) == 0 && p[k] == '=')
            return p + k + 1;
    return NULL;
}

static void parse(void)
{
    const char *spec = getenv("SB_FAKE_NVML");
    const char *v;
    memset(&fake, 0, sizeof fake);
    fake.reasons = 0x1;
    fake.sm = 1980;
    fake.temp = 41;
    fake.power = 120000;
    if (!spec)
        spec = "";
    fake.init_fail = (v = value_of(spec, "init")) && strncmp(v, "fail", 4) == 0;
    fake.ecc_unsupported = (v = value_of(spec, "ecc")) && strncmp(v, "unsupported", 11) == 0;
    if ((v = value_of(spec, "reasons")))
        fake.reasons = strtoull(v, NULL, 16);
    fake.after_reasons = (v = value_of(spec, "after-reasons")) ? strtoull(v, NULL, 16) : fake.reasons;
    if ((v = value_of(spec, "sm")))
        fake.sm = (unsigned)strtoul(v, NULL, 10);
    if ((v = value_of(spec, "temp")))
        fake.temp = (unsigned)strtoul(v, NULL, 10);
    if ((v = value_of(spec, "power")))
        fake.power = (unsigned)strtoul(v, NULL, 10);
    if ((v = value_of(spec, "others"))) {
        char *end;
        while (fake.nothers < FAKE_MAX && *v && *v != ' ') {
            fake.others[fake.nothers].pid = (unsigned)strtoul(v, &end, 10);
            fake.others[fake.nothers].used = *end == ':' ? strtoull(end + 1, &end, 10) : ~0ULL;
            fake.nothers++;
            v = *end == ',' ? end + 1 : end;
            if (*end != ',')
                break;
        }
    }
}

EXPORT int nvmlInit_v2(void)
{
    parse();
    return fake.init_fail ? DRIVER_NOT_LOADED : OK;
}
EXPORT int nvmlShutdown(void) { return OK; }
EXPORT const char *nvmlErrorString(int rc)
{
    return rc == DRIVER_NOT_LOADED ? "Driver Not Loaded" : rc == NOT_SUPPORTED ? "Not Supported" : "Unknown Error";
}
EXPORT int nvmlDeviceGetHandleByIndex_v2(unsigned int i, fake_handle *d)
{
    *d = &fake;
    return i == 0 ? OK : 2;
}
EXPORT int nvmlDeviceGetHandleByPciBusId_v2(const char *id, fake_handle *d)
{
    *d = &fake;
    return id && id[0] ? OK : 2;
}
EXPORT int nvmlDeviceGetClockInfo(fake_handle d, int type, unsigned int *mhz)
{
    if (type == 1)
        d->readings++; /* one SM clock per snapshot: counts the readings */
    *mhz = type == 1 ? d->sm : 2619;
    return OK;
}
EXPORT int nvmlDeviceGetApplicationsClock(fake_handle d, int type, unsigned int *mhz)
{
    (void)d;
    *mhz = type == 1 ? 1980 : 2619;
    return OK;
}
EXPORT int nvmlDeviceGetTemperature(fake_handle d, int sensor, unsigned int *c)
{
    *c = d->temp;
    return sensor == 0 ? OK : NOT_SUPPORTED;
}
EXPORT int nvmlDeviceGetPowerUsage(fake_handle d, unsigned int *mw)
{
    *mw = d->power;
    return OK;
}
EXPORT int nvmlDeviceGetEnforcedPowerLimit(fake_handle d, unsigned int *mw)
{
    (void)d;
    *mw = 700000;
    return OK;
}
EXPORT int nvmlDeviceGetCurrentClocksEventReasons(fake_handle d, unsigned long long *bits)
{
    *bits = d->readings > 1 ? d->after_reasons : d->reasons;
    return OK;
}
EXPORT int nvmlDeviceGetEccMode(fake_handle d, int *cur, int *pending)
{
    *cur = *pending = 1;
    return d->ecc_unsupported ? NOT_SUPPORTED : OK;
}
EXPORT int nvmlDeviceGetTotalEccErrors(fake_handle d, int type, int counter, unsigned long long *n)
{
    (void)d;
    (void)counter;
    *n = type == 0 ? 3 : 0;
    return OK;
}
EXPORT int nvmlDeviceGetPersistenceMode(fake_handle d, int *mode)
{
    (void)d;
    *mode = 1;
    return OK;
}
EXPORT int nvmlDeviceGetMigMode(fake_handle d, unsigned int *cur, unsigned int *pending)
{
    (void)d;
    *cur = *pending = 0;
    return OK;
}
EXPORT int nvmlDeviceGetComputeRunningProcesses_v3(fake_handle d, unsigned int *count, fake_proc *out)
{
    unsigned need = (unsigned)d->nothers + 1;
    if (*count < need) {
        *count = need;
        return INSUFFICIENT_SIZE;
    }
    out[0] = (fake_proc){(unsigned)getpid(), 64ULL << 20, 0, 0};
    for (int i = 0; i < d->nothers; i++)
        out[i + 1] = d->others[i];
    *count = need;
    return OK;
}
