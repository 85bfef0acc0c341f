/* A growing text buffer: the report printers (report_text.c, report_html.c)
 * build each output in one and write it with sb_write_atomic (verdict.h).
 * An allocation failure stops the buffer growing and sets oom; sb_text then
 * returns NULL, so a caller checks once, at the end. The text is b->p, owned:
 * free(b->p) when done. */
#ifndef SB_STRBUF_H
#define SB_STRBUF_H

#include <stddef.h>

typedef struct sbuf {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

/* Appends printf-style; does nothing once oom is set. */
void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The buffer's text without its last newline (sb_write_atomic adds one); ""
 * for a buffer never written; NULL when an allocation failed. */
const char *sb_text(sbuf *b);

#endif
