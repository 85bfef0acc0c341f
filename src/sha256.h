/* SHA-256 (FIPS 180-4), for naming the exact plugin library a verdict ran
 * (docs/plugins.md). Self-contained; tests/unit/test_sha256.c checks the
 * standard's test vectors. */
#ifndef SB_SHA256_H
#define SB_SHA256_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct sb_sha256 {
    uint32_t h[8];
    uint64_t bytes;       /* message length so far */
    uint8_t block[64];    /* the partial block */
    size_t used;          /* bytes in block */
} sb_sha256;

void sb_sha256_init(sb_sha256 *s);
void sb_sha256_update(sb_sha256 *s, const void *data, size_t len);
void sb_sha256_final(sb_sha256 *s, uint8_t digest[32]);

/* The digest of data as 64 lowercase hex digits and a NUL. */
void sb_sha256_hex(const void *data, size_t len, char hex[65]);

/* The digest of everything left to read in f, as hex; 0, or the errno of a
 * failed read. */
int sb_sha256_file(FILE *f, char hex[65], uint64_t *size);

#endif
