/* The SM clock over a rep from two readings of the probe kernel
 * (sb_sm_clock_mhz, src/backend.c; docs/verdict.md timing.sm_clock): per SM
 * seen in both readings, Δcycles / Δns, the median over the SMs; blocks
 * that landed on an SM twice, SMs seen in one reading only, a timer that
 * did not advance and ids out of range say nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "backend.h"

static sb_clock_reading ra, rb;

static void stamp(sb_clock_reading *r, unsigned smid, unsigned long long ns, unsigned long long cycles)
{
    r->smid[r->nblocks] = smid;
    r->ns[r->nblocks] = ns;
    r->cycles[r->nblocks] = cycles;
    r->nblocks++;
}

static void reset(void)
{
    memset(&ra, 0, sizeof ra);
    memset(&rb, 0, sizeof rb);
}

/* Every SM at one clock: that clock, over all of them. */
static void test_one_clock(void **state)
{
    (void)state;
    reset();
    for (unsigned s = 0; s < 132; s++) {
        stamp(&ra, s, 1000000 + s, 5000000ull * s);
        stamp(&rb, 131 - s, 2000000 + (131 - s), 5000000ull * (131 - s) + 1980000); /* 1 ms at 1980 MHz */
    }
    int nsm = 0;
    assert_float_equal(sb_sm_clock_mhz(&ra, &rb, &nsm), 1980.0, 1e-9);
    assert_int_equal(nsm, 132);
}

/* The median over SMs: a few slow SMs do not move it; half slow moves it
 * half way (even count: the mean of the middle two). */
static void test_median(void **state)
{
    (void)state;
    reset();
    for (unsigned s = 0; s < 5; s++) {
        stamp(&ra, s, 0, 0);
        stamp(&rb, s, 1000, s < 2 ? 1000 : 2000); /* 1000 MHz on SMs 0-1, 2000 on 2-4 */
    }
    assert_float_equal(sb_sm_clock_mhz(&ra, &rb, NULL), 2000.0, 1e-9);
    stamp(&ra, 5, 0, 0);
    stamp(&rb, 5, 1000, 1000);
    assert_float_equal(sb_sm_clock_mhz(&ra, &rb, NULL), 1500.0, 1e-9);
}

/* A second block on an SM: the first block of each reading speaks for it. */
static void test_first_block_per_sm(void **state)
{
    (void)state;
    reset();
    stamp(&ra, 7, 100, 1000);
    stamp(&ra, 7, 999999, 999999999); /* a later block on the same SM: ignored */
    stamp(&rb, 7, 1100, 2000);
    stamp(&rb, 7, 5, 5);
    int nsm = 0;
    assert_float_equal(sb_sm_clock_mhz(&ra, &rb, &nsm), 1000.0, 1e-9);
    assert_int_equal(nsm, 1);
}

/* Nothing in common, a timer that did not advance, a counter that went
 * back, an id out of range: NAN, taken over no SM. */
static void test_nothing_to_say(void **state)
{
    (void)state;
    int nsm = -1;
    reset();
    assert_true(isnan(sb_sm_clock_mhz(&ra, &rb, &nsm)));
    assert_int_equal(nsm, 0);
    stamp(&ra, 1, 100, 100);
    stamp(&rb, 2, 200, 200); /* another SM */
    assert_true(isnan(sb_sm_clock_mhz(&ra, &rb, &nsm)));
    reset();
    stamp(&ra, 3, 100, 100);
    stamp(&rb, 3, 100, 500); /* Δns = 0 */
    assert_true(isnan(sb_sm_clock_mhz(&ra, &rb, &nsm)));
    reset();
    stamp(&ra, 3, 100, 500);
    stamp(&rb, 3, 200, 100); /* cycles went back */
    assert_true(isnan(sb_sm_clock_mhz(&ra, &rb, &nsm)));
    reset();
    stamp(&ra, 5000, 100, 100);
    stamp(&rb, 5000, 200, 300); /* %smid beyond any device */
    assert_true(isnan(sb_sm_clock_mhz(&ra, &rb, &nsm)));
    assert_int_equal(nsm, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_clock),
        cmocka_unit_test(test_median),
        cmocka_unit_test(test_first_block_per_sm),
        cmocka_unit_test(test_nothing_to_say),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
