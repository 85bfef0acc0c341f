/* libFuzzer harness for the shape parser (src/shape.c: sb_shape_parse, and
 * through it sb_json_parse). The parser needs text[len] == '\0', which a fuzz
 * input does not have, so each input is copied into a buffer one byte longer.
 *
 * On success the shape must satisfy what the field table promises (a name,
 * at least one workload, the required parameters in range) and render back to
 * JSON; on failure it must say why. */
#include <cjson/cJSON.h>

#include "fuzz_input.h"
#include "shape.h"

static void check_shape(const sb_shape *s)
{
    FUZZ_CHECK(s->name[0] != '\0', "accepted an empty name");
    FUZZ_CHECK(memchr(s->name, '\0', sizeof s->name) != NULL, "name not terminated");
    FUZZ_CHECK(memchr(s->description, '\0', sizeof s->description) != NULL,
               "description not terminated");
    FUZZ_CHECK(memchr(s->matrix, '\0', sizeof s->matrix) != NULL, "matrix not terminated");
    FUZZ_CHECK(s->workloads != 0, "accepted a shape serving no workload");
    if (s->workloads & (SB_WL_RESIDENT_SOLVE | SB_WL_INNER_LOOP | SB_WL_OUTER_SEQ))
        FUZZ_CHECK(s->n >= 1 && s->p >= 1, "n=%lld p=%lld accepted", (long long)s->n,
                   (long long)s->p);
    if (s->workloads & SB_WL_RESIDENT_SOLVE)
        FUZZ_CHECK(s->ridge > 0, "ridge %g accepted", s->ridge);
    if (s->workloads & (SB_WL_INNER_LOOP | SB_WL_OUTER_SEQ))
        FUZZ_CHECK(s->d >= 1 && s->basis_cols >= 1, "d=%lld basis_cols=%lld accepted",
                   (long long)s->d, (long long)s->basis_cols);
    FUZZ_CHECK(s->reps == -1 || s->reps >= 1, "reps %lld accepted", (long long)s->reps);
    FUZZ_CHECK(s->warmup == -1 || s->warmup >= 0, "warmup %lld accepted",
               (long long)s->warmup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    sb_shape s;
    sb_err err = {{0}};
    sb_rc rc = sb_shape_parse(text, size, "fuzz-shape.json", &s, &err);
    if (rc != SB_OK) {
        FUZZ_CHECK(rc == SB_E_INPUT, "parse returned %d, not an input error", (int)rc);
        fuzz_check_message(err.msg);
    } else {
        check_shape(&s);
        /* The verdict's "shape" section is built from whatever was accepted. */
        cJSON *o = sb_shape_to_json(&s);
        FUZZ_CHECK(o != NULL, "sb_shape_to_json failed on an accepted shape");
        char *printed = cJSON_PrintUnformatted(o);
        FUZZ_CHECK(printed != NULL, "accepted shape does not print");
        cJSON_free(printed);
        cJSON_Delete(o);
    }
    free(text);
    return 0;
}
