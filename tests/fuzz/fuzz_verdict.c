/* libFuzzer harness for the verdict reader (src/verdict_read.c: sb_vrec_read,
 * and through it sb_vrec_parse, sb_json_parse, sb_parse_date), the one reader
 * of verdict files behind 'report' and 'compare'. Every input is a whole file,
 * handed over by path.
 *
 * On failure the reader must say why with an input error. On success every
 * string it kept must be terminated and free of control characters (they are
 * printed in aligned tables, CSV and HTML), every number finite or NaN ("not
 * in the file"), the counts and flags in range; and the compare rule applied
 * to the verdict against itself must never call it a regression. */
#include <math.h>

#include "compare.h"
#include "fuzz_input.h"
#include "verdict_read.h"

#define CHECK_STRING(field)                                                              \
    do {                                                                                 \
        FUZZ_CHECK(memchr((field), '\0', sizeof(field)) != NULL, #field " not terminated"); \
        for (const char *c_ = (field); *c_; c_++)                                        \
            FUZZ_CHECK((unsigned char)*c_ >= 0x20 && *c_ != 0x7f,                        \
                       #field " kept a control character");                              \
    } while (0)

/* NaN (absent) or a finite number of at least lo. */
static void check_number(double x, double lo, const char *what)
{
    FUZZ_CHECK(isnan(x) || (isfinite(x) && x >= lo), "%s = %g accepted", what, x);
}

static void check_timing(const sb_vtiming *t, const char *what)
{
    if (!t->present)
        return;
    FUZZ_CHECK(isfinite(t->median_s) && t->median_s >= 0, "%s median_s %g accepted", what, t->median_s);
    check_number(t->q1_s, 0, what);
    check_number(t->q3_s, 0, what);
    check_number(t->rel_iqr, 0, what);
    check_number(t->rse_median, 0, what);
    FUZZ_CHECK(t->noisy >= -1 && t->noisy <= 1, "%s noisy = %d", what, t->noisy);
    FUZZ_CHECK(t->reps >= -1, "%s reps = %lld", what, (long long)t->reps);
    FUZZ_CHECK(t->nsamples == 0 || t->samples_s != NULL, "%s samples without storage", what);
    for (size_t i = 0; i < t->nsamples; i++)
        FUZZ_CHECK(isfinite(t->samples_s[i]) && t->samples_s[i] >= 0, "%s sample %zu = %g", what, i,
                   t->samples_s[i]);
    /* A run compared with itself is never a regression nor an improvement. */
    sb_cmp_side s = sb_cmp_side_of(t);
    sb_cmp_decision d;
    sb_compare_decide(&s, &s, SB_COMPARE_MAX_REGRESSION, SB_COMPARE_ALPHA, &d);
    FUZZ_CHECK(d.label == SB_CMP_NOISE || d.label == SB_CMP_NOT_MEASURED, "%s against itself: %s", what,
               sb_cmp_label_name(d.label));
    FUZZ_CHECK(d.label == SB_CMP_NOT_MEASURED || d.delta == 0, "%s against itself: delta %g", what, d.delta);
    if (d.mw_used)
        FUZZ_CHECK(d.mw.p >= 0 && d.mw.p <= 1 && !isnan(d.mw.z), "%s: Mann-Whitney p %g z %g", what, d.mw.p,
                   d.mw.z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_input_path(data, size);
    sb_vrec v;
    int found = 0;
    sb_err err = {{0}};
    sb_rc rc = sb_vrec_read(path, "fuzz", &v, &found, &err);
    if (rc != SB_OK) {
        FUZZ_CHECK(rc == SB_E_INPUT, "read returned %d, not an input error", (int)rc);
        FUZZ_CHECK(!found, "failed but claims a verdict");
        fuzz_check_message(err.msg);
        return 0;
    }
    if (!found)
        return 0;
    CHECK_STRING(v.path);
    CHECK_STRING(v.run);
    CHECK_STRING(v.date);
    CHECK_STRING(v.workload);
    CHECK_STRING(v.shape);
    CHECK_STRING(v.backend);
    CHECK_STRING(v.device);
    CHECK_STRING(v.execution_path);
    CHECK_STRING(v.measured_of);
    CHECK_STRING(v.target_status);
    CHECK_STRING(v.verdict);
    CHECK_STRING(v.git);
    FUZZ_CHECK(v.workload[0] && v.shape[0] && v.backend[0] && v.device[0], "an empty key field accepted");
    FUZZ_CHECK(strlen(v.date) == 20, "date '%s' is not YYYY-MM-DDTHH:MM:SSZ", v.date);
    FUZZ_CHECK(v.exit_code >= 0 && v.exit_code <= 4, "exit_code %d", v.exit_code);
    FUZZ_CHECK((strcmp(v.verdict, "pass") == 0) == (v.exit_code == 0), "verdict %s with exit %d", v.verdict,
               v.exit_code);
    FUZZ_CHECK(v.engaged == 0 || v.engaged == 1, "engaged = %d", v.engaged);
    FUZZ_CHECK(v.parity_pass >= -1 && v.parity_pass <= 1, "parity.pass = %d", v.parity_pass);
    if (v.exit_code <= 1)
        FUZZ_CHECK(v.timing.present && !isnan(v.measured_rows_per_s), "exit %d without its measurements",
                   v.exit_code);
    check_number(v.measured_rows_per_s, 0, "measured_rows_per_s");
    check_number(v.engaged_rows_per_s, 0, "engaged_rows_per_s");
    check_number(v.seconds_per_rep, 0, "seconds_per_rep");
    check_number(v.residency_speedup, 0, "residency.speedup");
    check_number(v.bound_s, 0, "roofline.bound_s");
    check_number(v.efficiency, 0, "roofline.efficiency");
    check_number(v.parity_rel_err, 0, "parity.rel_err");
    check_timing(&v.timing, "timing");
    for (size_t i = 0; i < v.nphases; i++) {
        CHECK_STRING(v.phases[i].name);
        FUZZ_CHECK(v.phases[i].name[0], "empty phase name accepted");
        check_timing(&v.phases[i].t, v.phases[i].name);
        FUZZ_CHECK(sb_vrec_phase(&v, v.phases[i].name) != NULL, "phase %s not found by name", v.phases[i].name);
    }
    size_t applied = 0, passed = 0;
    for (size_t i = 0; i < v.ngates; i++) {
        CHECK_STRING(v.gates[i].id);
        FUZZ_CHECK(v.gates[i].applies == 0 || v.gates[i].applies == 1, "gate applies = %d", v.gates[i].applies);
        FUZZ_CHECK(v.gates[i].pass == 0 || v.gates[i].pass == 1, "gate pass = %d", v.gates[i].pass);
        check_number(v.gates[i].value, -INFINITY, "gate value");
        check_number(v.gates[i].threshold, -INFINITY, "gate threshold");
    }
    sb_vrec_gate_counts(&v, &applied, &passed);
    FUZZ_CHECK(passed <= applied && applied <= v.ngates, "gate counts %zu/%zu of %zu", passed, applied, v.ngates);
    FUZZ_CHECK(sb_vrec_same_key(&v, &v), "a verdict does not match itself");
    sb_vrec_free(&v);
    return 0;
}
