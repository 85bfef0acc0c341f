/* src/nvml.c without NVML: the loader's "absent" path, the reason words and
 * the JSON of a reading nothing could fill. The readings themselves are
 * tested through the fake NVML (tests/standin/run-nvml-tests.sh). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "nvml.h"

static void test_missing_library_is_absent_not_an_error(void **state)
{
    (void)state;
    sb_nvml n = {0};
    assert_int_equal(sb_nvml_open(&n, "/nonexistent/libnvidia-ml.so.1", "00000000:17:00.0"), 0);
    assert_true(strstr(n.absent, "absent: /nonexistent/libnvidia-ml.so.1 cannot be loaded (") == n.absent);
    sb_nvml_snap s;
    assert_int_equal(sb_nvml_snapshot(&n, &s), -1);
    assert_int_equal(sb_nvml_open(&n, "/nonexistent/again.so", NULL), 0); /* tried once */
    sb_nvml_close(&n);
    assert_int_equal(n.tried, 0);
}

static void test_reason_words(void **state)
{
    (void)state;
    char words[200];
    assert_int_equal(sb_nvml_reasons_text(0x45, words, sizeof words), 2);
    assert_string_equal(words, "gpu-idle, sw-power-cap, hw-thermal-slowdown");
    assert_int_equal(sb_nvml_reasons_text(0x1, words, sizeof words), 0);
    assert_string_equal(words, "gpu-idle");
    assert_int_equal(sb_nvml_reasons_text(1ULL << 40, words, sizeof words), 1);
    assert_string_equal(words, "unknown-0x10000000000");
    sb_nvml_snap s = {0};
    s.reasons = 0x81;
    assert_true(sb_nvml_busy_reasons(&s) == 0); /* not read: nothing counted */
    s.have_reasons = 1;
    assert_true(sb_nvml_busy_reasons(&s) == 0x80);
}

static void test_unread_values_are_null(void **state)
{
    (void)state;
    sb_nvml_snap s = {0};
    s.have_temp = 1;
    s.temp_c = 0; /* a real 0 is written as 0; an unread value as null */
    cJSON *o = sb_nvml_snap_json(&s);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "sm_clock_mhz")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "clock_event_reasons")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "other_processes")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "ecc_enabled")));
    assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, "temperature_c")));
    cJSON_Delete(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing_library_is_absent_not_an_error),
        cmocka_unit_test(test_reason_words),
        cmocka_unit_test(test_unread_values_are_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
