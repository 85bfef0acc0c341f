/* saebench shapes [NAME|FILE.json]: list the named shapes, or show one. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "shape.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void print_line(const sb_shape *s)
{
    char params[256] = "";
    size_t off = 0;
    const struct {
        const char *k;
        int64_t v;
    } ints[] = {{"n", s->n}, {"p", s->p}, {"d", s->d}, {"basis_cols", s->basis_cols},
                {"degree", s->degree}, {"atoms", s->atoms}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        if (ints[i].v > 0 && off < sizeof params)
            off += (size_t)snprintf(params + off, sizeof params - off, "%s=%lld ", ints[i].k, (long long)ints[i].v);
    if (s->matrix[0] && off < sizeof params)
        off += (size_t)snprintf(params + off, sizeof params - off, "matrix=%s ", s->matrix);
    if (s->basis[0] && off < sizeof params)
        snprintf(params + off, sizeof params - off, "basis=%s gate=%s ", s->basis, s->gate);
    cJSON *j = sb_shape_to_json(s);
    cJSON *wl = cJSON_GetObjectItemCaseSensitive(j, "workloads");
    char *wls = cJSON_PrintUnformatted(wl);
    printf("%-20s %-34s %s\n", s->name, wls ? wls : "", params);
    cJSON_free(wls);
    cJSON_Delete(j);
}

int sb_cmd_shapes(int argc, char **argv)
{
    sb_err err = {{0}};
    if (argc > 2 || (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))) {
        FILE *f = argc > 2 ? stderr : stdout;
        fprintf(f, "usage: saebench shapes [NAME|FILE.json]\n  list the named shapes (shapes/*.json, or $SAEBENCH_SHAPES), or print one as JSON\n");
        return argc > 2 ? SB_EXIT_USAGE : SB_EXIT_PASS;
    }
    if (argc == 2) {
        sb_shape s;
        if (sb_shape_load(argv[1], &s, &err)) {
            fprintf(stderr, "saebench: %s\n", err.msg);
            return SB_EXIT_USAGE;
        }
        cJSON *j = sb_shape_to_json(&s);
        char *text = cJSON_Print(j);
        printf("%s\n", text);
        cJSON_free(text);
        cJSON_Delete(j);
        return SB_EXIT_PASS;
    }
    char dir[4096];
    if (sb_shapes_dir(dir, sizeof dir, &err)) {
        fprintf(stderr, "saebench: %s\n", err.msg);
        return SB_EXIT_USAGE;
    }
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "saebench: cannot list %s\n", dir);
        return SB_EXIT_USAGE;
    }
    char *names[512];
    size_t count = 0;
    struct dirent *e;
    while ((e = readdir(d)) && count < 512) {
        size_t len = strlen(e->d_name);
        if (len > 5 && strcmp(e->d_name + len - 5, ".json") == 0)
            names[count++] = strndup(e->d_name, len - 5);
    }
    closedir(d);
    qsort(names, count, sizeof names[0], cmp_str);
    int rc = SB_EXIT_PASS;
    printf("%-20s %-34s %s\n", "NAME", "WORKLOADS", "PARAMETERS");
    for (size_t i = 0; i < count; i++) {
        sb_shape s;
        if (names[i] && sb_shape_load(names[i], &s, &err) == SB_OK) {
            print_line(&s);
        } else {
            fprintf(stderr, "saebench: %s\n", err.msg);
            rc = SB_EXIT_USAGE;
        }
        free(names[i]);
    }
    return rc;
}
