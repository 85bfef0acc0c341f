/* The stand-in's SM clock (TEST-ONLY): what %smid, %globaltimer and clock64()
 * read in the SM clock probe's kernel (cuda/clock_kernels.cuh) under the
 * stand-in build.
 *
 * One cycle counter for the whole device, advanced at the simulated clock
 * rate from the steady clock's nanoseconds: cycles(t) = cycles(t0) +
 * (t - t0) · MHz / 1000. The rate is the device's default clock
 * (cudaDevAttrClockRate, 1980 MHz) scaled by a plan a test sets with
 * STANDIN_SM_CLOCK_PCT, a comma-separated list of percentages: entry j is
 * the rate after the probe's reading j+1 (its sequence number), until the
 * next reading; past the list, 100. The harness reads the clock before and
 * after each timed rep, so entry 2k covers the k-th timed attempt (retakes
 * included) and entry 2k+1 the gap after it: "100,100,60" makes the second
 * attempt run at 60 %.
 *
 * Block b runs on SM b mod 132, as an even spread of one block per SM would
 * (the H100 SXM the stand-in models has 132). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <chrono>
#include <mutex>
#include <vector>

#include "standin.h"

namespace {

const double kDefaultMhz = 1980.0; /* cudaDevAttrClockRate: 1980000 kHz */
const unsigned kSms = 132;

struct sim_clock {
    std::mutex mu;
    bool started = false;
    unsigned long long t_ns = 0; /* the newest reading's stamp (ns) */
    double cycles = 0;
    double pct = 100;            /* the rate now */
    unsigned seq = 0;            /* the newest reading seen */
    std::vector<double> plan;
    bool planned = false;
};

sim_clock g_clock;

unsigned long long steady_ns()
{
    return (unsigned long long)std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

void load_plan(sim_clock *c)
{
    c->planned = true;
    const char *e = getenv("STANDIN_SM_CLOCK_PCT");
    if (!e || !*e)
        return;
    const char *p = e;
    while (*p) {
        char *end = NULL;
        double v = strtod(p, &end);
        if (end == p || !(v > 0) || !isfinite(v)) {
            standin_device_fault("STANDIN_SM_CLOCK_PCT: expected a comma-separated list of positive percentages");
            c->plan.clear();
            return;
        }
        c->plan.push_back(v);
        p = end;
        if (*p == ',')
            p++;
    }
}

} // namespace

extern "C" void standin_sm_stamp(unsigned seq, unsigned block, unsigned *smid, unsigned long long *ns,
                                 unsigned long long *cycles)
{
    std::lock_guard<std::mutex> lock(g_clock.mu);
    if (!g_clock.planned)
        load_plan(&g_clock);
    if (seq > g_clock.seq) {
        /* The first block of a new reading advances the counter to now and
         * sets the rate until the next reading. The simulation runs a
         * reading's blocks one after another, milliseconds apart; every
         * block of it gets this one stamp, as if all SMs stamped at once. */
        const unsigned long long now = steady_ns();
        if (g_clock.started && now > g_clock.t_ns)
            g_clock.cycles += (double)(now - g_clock.t_ns) * kDefaultMhz * g_clock.pct / 100.0 / 1e3;
        g_clock.started = true;
        g_clock.t_ns = now;
        g_clock.seq = seq;
        g_clock.pct = seq - 1 < g_clock.plan.size() ? g_clock.plan[seq - 1] : 100.0;
    }
    *smid = block % kSms;
    *ns = g_clock.t_ns;
    *cycles = (unsigned long long)g_clock.cycles;
}
