/* Query strings as nginx's $arg_NAME reads them: name=value pairs split
 * on '&', names matched ASCII case-insensitively and never decoded, values
 * percent-decoded ('+' is a space).  Bounded, no allocation. */
#ifndef MKT_QUERY_H
#define MKT_QUERY_H

#include <stddef.h>

/* Only this many bytes of a query string are read; a parameter that does
 * not end within them is ignored. */
#define MKT_QUERY_SCAN_MAX  8192

/* A pair, pointing into the query string: value not yet decoded. */
typedef struct {
    const char  *name;
    size_t       name_len;
    const char  *value;
    size_t       value_len;
} mkt_query_arg_t;

/*
 * The next pair of args (len bytes) from *pos on (start at 0) with a
 * non-empty name and value, within the first MKT_QUERY_SCAN_MAX bytes:
 * 1 and the pair, *pos past it; 0 at the end.
 */
int mkt_query_next(const char *args, size_t len, size_t *pos,
    mkt_query_arg_t *arg);

/* Whether s (len bytes) is name, ASCII case-insensitively. */
int mkt_query_name_is(const char *s, size_t len, const char *name,
    size_t name_len);

/*
 * Percent-decodes s into dst (room for len bytes): "%XX" is the byte XX,
 * '+' a space, a '%' not followed by two hex digits stays as it is.
 * Returns the length written; no other change is made to the bytes.
 */
size_t mkt_query_unescape(char *dst, const char *s, size_t len);

/*
 * A value as campaign parameters take it: s (len <= MKT_QUERY_SCAN_MAX)
 * percent-decoded, cleaned as mkt_text_clean() does, cut to cap at a
 * character boundary, and trimmed of spaces at both ends, into dst.
 * Returns its length.
 */
size_t mkt_query_value(char *dst, size_t cap, const char *s, size_t len);

#endif
