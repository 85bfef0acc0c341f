/* What the verdict says about the host: CPU model, BLAS threads and config. */
#ifndef SB_HOST_INFO_H
#define SB_HOST_INFO_H

struct cJSON;

struct cJSON *sb_host_info_json(void);
void sb_host_cpu_model(char *buf, unsigned len);
/* Set the BLAS thread count (0 leaves the library default). */
void sb_host_set_threads(int threads);
int sb_host_threads(void);
/* "OpenBLAS <its build config>" */
void sb_host_blas_name(char *buf, unsigned len);

#endif
