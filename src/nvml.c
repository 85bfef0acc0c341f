/* NVML through dlopen (src/nvml.h). The types and prototypes below are
 * NVML's public C API (nvml.h of the CUDA toolkit), declared here so that no
 * NVML header or library is needed to build saebench. */
#include "nvml.h"
#include "timing.h"

#include <cjson/cJSON.h>
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Only the stand-in build names another library (tests/standin/standin-build.mk). */
#ifndef SB_NVML_LIB
#define SB_NVML_LIB "libnvidia-ml.so.1"
#endif

typedef int nvml_return;                 /* nvmlReturn_t: 0 is NVML_SUCCESS */
typedef struct nvml_device_st *nvml_device; /* nvmlDevice_t */

enum {
    NVML_OK = 0,
    NVML_CLOCK_SM = 1,                   /* nvmlClockType_t */
    NVML_CLOCK_MEM = 2,
    NVML_TEMPERATURE_GPU = 0,            /* nvmlTemperatureSensors_t */
    NVML_MEMORY_ERROR_CORRECTED = 0,     /* nvmlMemoryErrorType_t */
    NVML_MEMORY_ERROR_UNCORRECTED = 1,
    NVML_VOLATILE_ECC = 0                /* nvmlEccCounterType_t */
};

/* nvmlProcessInfo_t as nvmlDeviceGetComputeRunningProcesses_v3 fills it. */
typedef struct nvml_process_info {
    unsigned int pid;
    unsigned long long used_gpu_memory;
    unsigned int gpu_instance_id;
    unsigned int compute_instance_id;
} nvml_process_info;

typedef struct nvml_api {
    nvml_return (*init)(void);
    nvml_return (*shutdown)(void);
    const char *(*error_string)(nvml_return);
    nvml_return (*by_index)(unsigned int, nvml_device *);
    nvml_return (*by_pci)(const char *, nvml_device *);
    nvml_return (*clock)(nvml_device, int, unsigned int *);
    nvml_return (*app_clock)(nvml_device, int, unsigned int *);
    nvml_return (*temperature)(nvml_device, int, unsigned int *);
    nvml_return (*power)(nvml_device, unsigned int *);
    nvml_return (*power_limit)(nvml_device, unsigned int *);
    nvml_return (*reasons)(nvml_device, unsigned long long *);
    nvml_return (*ecc_mode)(nvml_device, int *, int *);
    nvml_return (*ecc_errors)(nvml_device, int, int, unsigned long long *);
    nvml_return (*persistence)(nvml_device, int *);
    nvml_return (*mig_mode)(nvml_device, unsigned int *, unsigned int *);
    nvml_return (*procs)(nvml_device, unsigned int *, nvml_process_info *);
} nvml_api;

/* One session per process at a time: the table the open library filled. */
static nvml_api api;

static void *sym(void *lib, const char *name, const char *older)
{
    void *p = dlsym(lib, name);
    return p || !older ? p : dlsym(lib, older);
}

static const char *nvml_error(nvml_return rc)
{
    static char buf[32];
    if (api.error_string)
        return api.error_string(rc);
    snprintf(buf, sizeof buf, "NVML error %d", rc);
    return buf;
}

int sb_nvml_open(sb_nvml *n, const char *lib_path, const char *pci_bus_id)
{
    if (n->tried)
        return n->ok;
    n->tried = 1;
    if (!lib_path)
        lib_path = SB_NVML_LIB;
    n->lib = dlopen(lib_path, RTLD_NOW | RTLD_LOCAL);
    if (!n->lib) {
        const char *e = dlerror();
        snprintf(n->absent, sizeof n->absent, "absent: %s cannot be loaded (%s)", lib_path, e ? e : "dlopen failed");
        return 0;
    }
    memset(&api, 0, sizeof api);
    /* POSIX: dlsym's object pointer is the function's address. */
#define SB_NVML_SYM(field, name, older)                                                                                \
    do {                                                                                                               \
        void *p_ = sym(n->lib, name, older);                                                                           \
        memcpy(&api.field, &p_, sizeof api.field);                                                                     \
    } while (0)
    SB_NVML_SYM(init, "nvmlInit_v2", NULL);
    SB_NVML_SYM(shutdown, "nvmlShutdown", NULL);
    SB_NVML_SYM(error_string, "nvmlErrorString", NULL);
    SB_NVML_SYM(by_index, "nvmlDeviceGetHandleByIndex_v2", NULL);
    SB_NVML_SYM(by_pci, "nvmlDeviceGetHandleByPciBusId_v2", NULL);
    SB_NVML_SYM(clock, "nvmlDeviceGetClockInfo", NULL);
    SB_NVML_SYM(app_clock, "nvmlDeviceGetApplicationsClock", NULL);
    SB_NVML_SYM(temperature, "nvmlDeviceGetTemperature", NULL);
    SB_NVML_SYM(power, "nvmlDeviceGetPowerUsage", NULL);
    SB_NVML_SYM(power_limit, "nvmlDeviceGetEnforcedPowerLimit", NULL);
    SB_NVML_SYM(reasons, "nvmlDeviceGetCurrentClocksEventReasons", "nvmlDeviceGetCurrentClocksThrottleReasons");
    SB_NVML_SYM(ecc_mode, "nvmlDeviceGetEccMode", NULL);
    SB_NVML_SYM(ecc_errors, "nvmlDeviceGetTotalEccErrors", NULL);
    SB_NVML_SYM(persistence, "nvmlDeviceGetPersistenceMode", NULL);
    SB_NVML_SYM(mig_mode, "nvmlDeviceGetMigMode", NULL);
    SB_NVML_SYM(procs, "nvmlDeviceGetComputeRunningProcesses_v3", NULL);
#undef SB_NVML_SYM
    if (!api.init || !api.shutdown || !api.by_index) {
        snprintf(n->absent, sizeof n->absent, "absent: %s lacks nvmlInit_v2, nvmlShutdown or nvmlDeviceGetHandleByIndex_v2",
                 lib_path);
        dlclose(n->lib);
        n->lib = NULL;
        return 0;
    }
    nvml_return rc = api.init();
    if (rc != NVML_OK) {
        snprintf(n->absent, sizeof n->absent, "absent: nvmlInit_v2: %s", nvml_error(rc));
        dlclose(n->lib);
        n->lib = NULL;
        return 0;
    }
    nvml_device dev = NULL;
    /* By PCI bus id: NVML's device order ignores CUDA_VISIBLE_DEVICES and may
     * differ from CUDA's. */
    if (pci_bus_id && pci_bus_id[0] && api.by_pci)
        rc = api.by_pci(pci_bus_id, &dev);
    else
        rc = api.by_index(0, &dev);
    if (rc != NVML_OK) {
        snprintf(n->absent, sizeof n->absent, "absent: no NVML device %s (%s)", pci_bus_id && pci_bus_id[0] ? pci_bus_id : "0",
                 nvml_error(rc));
        api.shutdown();
        dlclose(n->lib);
        n->lib = NULL;
        return 0;
    }
    n->dev = dev;
    n->ok = 1;
    return 1;
}

void sb_nvml_close(sb_nvml *n)
{
    if (n->ok)
        api.shutdown();
    if (n->lib)
        dlclose(n->lib);
    memset(n, 0, sizeof *n);
}

int sb_nvml_snapshot(sb_nvml *n, sb_nvml_snap *s)
{
    memset(s, 0, sizeof *s);
    if (!n->ok)
        return -1;
    nvml_device d = n->dev;
    s->have_sm_clock = api.clock && api.clock(d, NVML_CLOCK_SM, &s->sm_clock_mhz) == NVML_OK;
    s->have_mem_clock = api.clock && api.clock(d, NVML_CLOCK_MEM, &s->mem_clock_mhz) == NVML_OK;
    s->have_app_sm_clock = api.app_clock && api.app_clock(d, NVML_CLOCK_SM, &s->app_sm_clock_mhz) == NVML_OK;
    s->have_app_mem_clock = api.app_clock && api.app_clock(d, NVML_CLOCK_MEM, &s->app_mem_clock_mhz) == NVML_OK;
    s->have_temp = api.temperature && api.temperature(d, NVML_TEMPERATURE_GPU, &s->temp_c) == NVML_OK;
    s->have_power = api.power && api.power(d, &s->power_mw) == NVML_OK;
    s->have_power_limit = api.power_limit && api.power_limit(d, &s->power_limit_mw) == NVML_OK;
    s->have_reasons = api.reasons && api.reasons(d, &s->reasons) == NVML_OK;
    int cur = 0, pending = 0;
    s->have_ecc = api.ecc_mode && api.ecc_mode(d, &cur, &pending) == NVML_OK;
    s->ecc_enabled = cur != 0;
    s->have_ecc_counts = s->have_ecc && s->ecc_enabled && api.ecc_errors &&
                         api.ecc_errors(d, NVML_MEMORY_ERROR_CORRECTED, NVML_VOLATILE_ECC, &s->ecc_corrected) == NVML_OK &&
                         api.ecc_errors(d, NVML_MEMORY_ERROR_UNCORRECTED, NVML_VOLATILE_ECC, &s->ecc_uncorrected) == NVML_OK;
    s->have_persistence = api.persistence && api.persistence(d, &s->persistence) == NVML_OK;
    unsigned mig = 0, mig_pending = 0;
    s->have_mig = api.mig_mode && api.mig_mode(d, &mig, &mig_pending) == NVML_OK;
    s->mig = mig != 0;
    if (api.procs) {
        /* A list longer than the buffer answers "insufficient size": then the
         * count is only known to be large, and the list says so. */
        nvml_process_info info[SB_NVML_MAX_PROCS + 1];
        unsigned count = SB_NVML_MAX_PROCS + 1;
        nvml_return rc = api.procs(d, &count, info);
        const unsigned self = (unsigned)getpid();
        if (rc == NVML_OK) {
            s->have_procs = 1;
            for (unsigned i = 0; i < count && i < SB_NVML_MAX_PROCS + 1; i++) {
                if (info[i].pid == self)
                    continue;
                if (s->nprocs == SB_NVML_MAX_PROCS) {
                    s->procs_truncated = 1;
                    break;
                }
                s->proc_pid[s->nprocs] = info[i].pid;
                s->proc_mem[s->nprocs++] = info[i].used_gpu_memory;
            }
        } else if (rc == 7) { /* NVML_ERROR_INSUFFICIENT_SIZE: more than fit, so others share it */
            s->have_procs = 1;
            s->procs_truncated = 1;
        }
    }
    return 0;
}

/* The clock-event reason bits, in NVML's order (nvmlClocksEventReason*). */
static const char *const REASON_NAMES[] = {
    "gpu-idle",                /* 0x1 */
    "applications-clocks-setting", /* 0x2 */
    "sw-power-cap",            /* 0x4 */
    "hw-slowdown",             /* 0x8 */
    "sync-boost",              /* 0x10 */
    "sw-thermal-slowdown",     /* 0x20 */
    "hw-thermal-slowdown",     /* 0x40 */
    "hw-power-brake-slowdown", /* 0x80 */
    "display-clock-setting",   /* 0x100 */
};
#define NREASONS (int)(sizeof REASON_NAMES / sizeof REASON_NAMES[0])

int sb_nvml_reasons_text(unsigned long long reasons, char *out, size_t len)
{
    int busy = 0;
    out[0] = '\0';
    for (int b = 0; b < 64; b++) {
        if (!(reasons >> b & 1ULL))
            continue;
        size_t at = strlen(out);
        if (b < NREASONS)
            snprintf(out + at, len - at, "%s%s", at ? ", " : "", REASON_NAMES[b]);
        else
            snprintf(out + at, len - at, "%sunknown-0x%llx", at ? ", " : "", 1ULL << b);
        busy += b != 0;
    }
    return busy;
}

unsigned long long sb_nvml_busy_reasons(const sb_nvml_snap *s)
{
    return s->have_reasons ? s->reasons & ~1ULL : 0;
}

static cJSON *num_or_null(int have, double v)
{
    return have ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

cJSON *sb_nvml_snap_json(const sb_nvml_snap *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "sm_clock_mhz", num_or_null(s->have_sm_clock, s->sm_clock_mhz));
    cJSON_AddItemToObject(o, "mem_clock_mhz", num_or_null(s->have_mem_clock, s->mem_clock_mhz));
    cJSON_AddItemToObject(o, "app_sm_clock_mhz", num_or_null(s->have_app_sm_clock, s->app_sm_clock_mhz));
    cJSON_AddItemToObject(o, "app_mem_clock_mhz", num_or_null(s->have_app_mem_clock, s->app_mem_clock_mhz));
    cJSON_AddItemToObject(o, "temperature_c", num_or_null(s->have_temp, s->temp_c));
    cJSON_AddItemToObject(o, "power_w", num_or_null(s->have_power, s->power_mw / 1000.0));
    cJSON_AddItemToObject(o, "power_limit_w", num_or_null(s->have_power_limit, s->power_limit_mw / 1000.0));
    if (s->have_reasons) {
        cJSON *arr = cJSON_AddArrayToObject(o, "clock_event_reasons");
        for (int b = 0; b < 64; b++) {
            if (!(s->reasons >> b & 1ULL))
                continue;
            char name[40];
            if (b < NREASONS)
                snprintf(name, sizeof name, "%s", REASON_NAMES[b]);
            else
                snprintf(name, sizeof name, "unknown-0x%llx", 1ULL << b);
            cJSON_AddItemToArray(arr, cJSON_CreateString(name));
        }
    } else {
        cJSON_AddNullToObject(o, "clock_event_reasons");
    }
    cJSON_AddItemToObject(o, "ecc_enabled", s->have_ecc ? cJSON_CreateBool(s->ecc_enabled) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "ecc_volatile_corrected", num_or_null(s->have_ecc_counts, (double)s->ecc_corrected));
    cJSON_AddItemToObject(o, "ecc_volatile_uncorrected", num_or_null(s->have_ecc_counts, (double)s->ecc_uncorrected));
    cJSON_AddItemToObject(o, "persistence_mode", s->have_persistence ? cJSON_CreateBool(s->persistence) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "mig_mode", s->have_mig ? cJSON_CreateBool(s->mig) : cJSON_CreateNull());
    if (s->have_procs) {
        cJSON *arr = cJSON_AddArrayToObject(o, "other_processes");
        for (int i = 0; i < s->nprocs; i++) {
            cJSON *p = cJSON_CreateObject();
            cJSON_AddNumberToObject(p, "pid", s->proc_pid[i]);
            cJSON_AddItemToObject(p, "used_memory_bytes", num_or_null(s->proc_mem[i] != ~0ULL, (double)s->proc_mem[i]));
            cJSON_AddItemToArray(arr, p);
        }
        cJSON_AddBoolToObject(o, "other_processes_truncated", s->procs_truncated);
    } else {
        cJSON_AddNullToObject(o, "other_processes");
    }
    return o;
}

void sb_conditions_read(sb_conditions *c, const char *pci_bus_id, int first)
{
    if (!c->tried) {
        c->tried = 1;
        const double t0 = sb_now_s();
        sb_nvml_open(&c->nvml, NULL, pci_bus_id);
        c->open_s = sb_now_s() - t0;
    }
    if (!c->nvml.ok)
        return;
    const double t0 = sb_now_s();
    sb_nvml_snapshot(&c->nvml, first ? &c->before : &c->after);
    const double cost = sb_now_s() - t0;
    if (first)
        c->before_s = cost, c->have_before = 1;
    else
        c->after_s = cost, c->have_after = 1;
}

cJSON *sb_conditions_json(const sb_conditions *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "nvml", c->nvml.ok ? "loaded" : c->nvml.absent);
    cJSON_AddItemToObject(o, "before", c->have_before ? sb_nvml_snap_json(&c->before) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "after", c->have_after ? sb_nvml_snap_json(&c->after) : cJSON_CreateNull());
    cJSON *cost = cJSON_AddObjectToObject(o, "cost_s");
    cJSON_AddNumberToObject(cost, "open", c->open_s);
    cJSON_AddItemToObject(cost, "before", c->have_before ? cJSON_CreateNumber(c->before_s) : cJSON_CreateNull());
    cJSON_AddItemToObject(cost, "after", c->have_after ? cJSON_CreateNumber(c->after_s) : cJSON_CreateNull());
    return o;
}

int sb_conditions_warnings(const sb_conditions *c, const char *during, const char *shared, char warn[2][256])
{
    if (!c->nvml.ok)
        return 0;
    int nwarn = 0;
    /* Other tenants: each pid once, over both readings. */
    char who[160] = "";
    int others = 0;
    const sb_nvml_snap *snaps[2] = {c->have_before ? &c->before : NULL, c->have_after ? &c->after : NULL};
    for (int s = 0; s < 2; s++)
        for (int i = 0; snaps[s] && i < snaps[s]->nprocs; i++) {
            const unsigned pid = snaps[s]->proc_pid[i];
            int listed_before = 0;
            for (int k = 0; s == 1 && snaps[0] && k < snaps[0]->nprocs; k++)
                listed_before |= snaps[0]->proc_pid[k] == pid;
            if (listed_before)
                continue;
            others++;
            const size_t at = strlen(who);
            snprintf(who + at, sizeof who - at, "%s%u", at ? ", " : "", pid);
        }
    if (others)
        snprintf(warn[nwarn++], 256, "WARNING: %d other process%s used the GPU during %s (pid %s): %s", others,
                 others == 1 ? "" : "es", during, who, shared);
    const unsigned long long busy =
        (snaps[0] ? sb_nvml_busy_reasons(snaps[0]) : 0) | (snaps[1] ? sb_nvml_busy_reasons(snaps[1]) : 0);
    if (busy) {
        char words[160];
        sb_nvml_reasons_text(busy, words, sizeof words);
        snprintf(warn[nwarn++], 256, "WARNING: the GPU reported clock-event (throttle) reasons during %s: %s", during,
                 words);
    }
    return nwarn;
}

void sb_conditions_close(sb_conditions *c)
{
    sb_nvml_close(&c->nvml);
}
