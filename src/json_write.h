/* Writing JSON into a caller's buffer: no allocation, a hard cap, and
 * valid JSON (RFC 8259, UTF-8) whatever bytes the strings hold. */
#ifndef MKT_JSON_WRITE_H
#define MKT_JSON_WRITE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Bytes mkt_jw_number() and mkt_jw_int() write at most. */
#define MKT_JW_NUMBER_MAX  26

/* The longest a string value of at most max bytes takes, quotes
 * included: see mkt_jw_string(). */
#define MKT_JW_STRING_MAX(max)  (2 * (max) + 2)

typedef struct {
    char    *buf;
    size_t   cap;
    size_t   len;
    int      full;          /* a write did not fit: len stopped there */
} mkt_jw_t;

void mkt_jw_init(mkt_jw_t *w, char *buf, size_t cap);

/* Bytes as they are (JSON punctuation, names known to be safe); inline:
 * an event is made of a hundred such pieces. */
static inline void
mkt_jw_raw(mkt_jw_t *w, const char *s, size_t len)
{
    if (w->full || len > w->cap - w->len) {
        w->full = 1;
        return;
    }
    memcpy(w->buf + w->len, s, len);
    w->len += len;
}

/*
 * s (len bytes, any) as a JSON string: '"' and '\' escaped, control
 * characters (C0, DEL, C1) and U+2028/U+2029 written as \n, \t, ... or
 * \u00XX, each byte of an invalid UTF-8 sequence and NUL (which many
 * consumers refuse even escaped) as U+FFFD.  The value is cut before the
 * first character that would take it past max bytes as a consumer
 * decodes it, or past 2 * max bytes as written between the quotes: text
 * without control characters of at most max bytes is never cut.
 */
void mkt_jw_string(mkt_jw_t *w, const char *s, size_t len, size_t max);

/* An integer. */
void mkt_jw_int(mkt_jw_t *w, int64_t v);

/*
 * A finite double in the fewest of 15, 16 or 17 significant digits that
 * read back as the same double, always with a fraction or an exponent
 * ("129.0", "0.1", "1e+300"); null when v is NaN or infinite.
 */
void mkt_jw_number(mkt_jw_t *w, double v);

#endif
