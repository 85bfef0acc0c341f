/* The device's conditions around a timed run, read through NVML
 * (docs/verdict.md, device.conditions).
 *
 * NVML is opened at run time with dlopen, never linked: saebench builds and
 * runs where no driver is installed, and a machine without NVML gives
 * "absent: <reason>" in the verdict, never an error. The test-only stand-in
 * build points SB_NVML_LIB at a fake library (tests/standin/fake_nvml.c);
 * every other build opens libnvidia-ml.so.1.
 *
 * Plain C, no NVML header: the few types and prototypes used are declared in
 * nvml.c. */
#ifndef SB_NVML_H
#define SB_NVML_H

#include <stddef.h>
#include <stdint.h>

struct cJSON;

#define SB_NVML_MAX_PROCS 32

/* One reading of the device. Each value has its own have_ flag: NVML answers
 * "not supported" per query (ECC on a consumer card, application clocks on
 * some boards), and an unread value is written as null, never as 0. */
typedef struct sb_nvml_snap {
    int have_sm_clock, have_mem_clock, have_app_sm_clock, have_app_mem_clock;
    unsigned sm_clock_mhz, mem_clock_mhz, app_sm_clock_mhz, app_mem_clock_mhz;
    int have_temp;
    unsigned temp_c;
    int have_power, have_power_limit;
    unsigned power_mw, power_limit_mw;
    int have_reasons;
    unsigned long long reasons;    /* the clock-event (throttle) reason bits */
    int have_ecc, ecc_enabled, have_ecc_counts;
    unsigned long long ecc_corrected, ecc_uncorrected; /* volatile: since the driver loaded */
    int have_persistence, persistence;
    int have_mig, mig;
    int have_procs;
    int nprocs;                    /* other compute processes (saebench's own pid left out) */
    unsigned proc_pid[SB_NVML_MAX_PROCS];
    unsigned long long proc_mem[SB_NVML_MAX_PROCS]; /* bytes; ~0ULL: NVML cannot say */
    int procs_truncated;           /* more than SB_NVML_MAX_PROCS others */
} sb_nvml_snap;

/* The NVML session of one run: opened on the first snapshot, closed by
 * sb_nvml_close. */
typedef struct sb_nvml {
    void *lib;                     /* dlopen handle, NULL when absent */
    void *dev;                     /* nvmlDevice_t */
    int tried, ok;
    char absent[256];              /* why NVML is not used ("" when ok) */
} sb_nvml;

/* Open lib_path (NULL: SB_NVML_LIB of nvml.c, libnvidia-ml.so.1 but in the
 * stand-in build), initialise NVML and find the
 * device by PCI bus id ("0000:17:00.0"; "" or NULL: device index 0). On
 * failure n->absent says why; returns n->ok. Idempotent. */
int sb_nvml_open(sb_nvml *n, const char *lib_path, const char *pci_bus_id);

/* Read the device now (n must be open). Returns 0, or -1 when NVML is not open. */
int sb_nvml_snapshot(sb_nvml *n, sb_nvml_snap *s);

/* nvmlShutdown and dlclose; n reads as never opened after. */
void sb_nvml_close(sb_nvml *n);

/* The snapshot as the verdict writes it (docs/verdict.md). */
struct cJSON *sb_nvml_snap_json(const sb_nvml_snap *s);

/* The reason bits in words, comma-separated ("gpu-idle, sw-power-cap"), into
 * out; returns how many reasons other than gpu-idle are set. */
int sb_nvml_reasons_text(unsigned long long reasons, char *out, size_t len);

/* Clock-event reasons other than gpu-idle in either snapshot. */
unsigned long long sb_nvml_busy_reasons(const sb_nvml_snap *s);

/* The device's conditions around one measurement (a run's timed phases,
 * calibrate's DGEMM and copy): one NVML session, a reading before and one
 * after, each outside the measurement, and what each cost. */
typedef struct sb_conditions {
    sb_nvml nvml;
    int tried;                     /* a reading was asked for: NVML opened or found absent */
    int have_before, have_after;
    sb_nvml_snap before, after;
    double open_s, before_s, after_s;
} sb_conditions;

/* The reading before (first: 1; opens NVML on the device at pci_bus_id the
 * first time) or after (first: 0; a later one replaces the earlier). Nothing
 * when NVML is absent: c->nvml.absent says why. */
void sb_conditions_read(sb_conditions *c, const char *pci_bus_id, int first);

/* device.conditions (docs/verdict.md): nvml ("loaded" or why absent),
 * before, after (null where not read) and cost_s. */
struct cJSON *sb_conditions_json(const sb_conditions *c);

/* The warnings the readings call for, one line each into warn (at most 2):
 * other compute processes ("... used the GPU during <during> (pid ...):
 * <shared>") and clock-event reasons other than gpu-idle. Returns how many. */
int sb_conditions_warnings(const sb_conditions *c, const char *during, const char *shared, char warn[2][256]);

/* Close the NVML session. */
void sb_conditions_close(sb_conditions *c);

#endif
