/* One block's stamp of the SM clock probe (clock_kernels.cuh), as the device
 * writes it and the host reads it back. */
#ifndef SB_CLOCK_PARAMS_H
#define SB_CLOCK_PARAMS_H

typedef struct sb_clock_slot {
    unsigned long long ns;     /* %globaltimer */
    unsigned long long cycles; /* clock64() of the SM the block ran on */
    unsigned smid;             /* %smid */
    unsigned seq;              /* the reading it belongs to (1, 2, ...) */
} sb_clock_slot;

#endif
