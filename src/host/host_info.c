#include "host_info.h"

#include <cblas.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void sb_host_cpu_model(char *buf, unsigned len)
{
    snprintf(buf, len, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *colon = strchr(line, ':');
            if (colon) {
                colon++;
                while (*colon == ' ' || *colon == '\t')
                    colon++;
                colon[strcspn(colon, "\n")] = '\0';
                snprintf(buf, len, "%s", colon);
            }
            break;
        }
    }
    fclose(f);
}

void sb_host_set_threads(int threads)
{
    if (threads > 0)
        openblas_set_num_threads(threads);
}

int sb_host_threads(void) { return openblas_get_num_threads(); }

cJSON *sb_host_info_json(void)
{
    cJSON *h = cJSON_CreateObject();
    char cpu[256];
    sb_host_cpu_model(cpu, sizeof cpu);
    cJSON_AddStringToObject(h, "cpu", cpu);
    cJSON_AddNumberToObject(h, "cores", (double)sysconf(_SC_NPROCESSORS_ONLN));
    cJSON_AddNumberToObject(h, "threads", sb_host_threads());
    char blas[512];
    sb_host_blas_name(blas, sizeof blas);
    cJSON_AddStringToObject(h, "blas", blas);
    char name[256] = "unknown";
    gethostname(name, sizeof name - 1);
    cJSON_AddStringToObject(h, "hostname", name);
    return h;
}

void sb_host_blas_name(char *buf, unsigned len)
{
    snprintf(buf, len, "%s", openblas_get_config());
}
