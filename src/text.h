/* Making request-supplied text safe to store, log and compare. */
#ifndef MKT_TEXT_H
#define MKT_TEXT_H

#include <stddef.h>

/*
 * Copies src to dst (capacity cap bytes) as valid UTF-8: invalid sequences
 * become U+FFFD, control characters (C0, DEL, C1) are dropped, and the copy
 * stops before a character that would not fit, so it is never cut inside a
 * character.  Returns the number of bytes written.
 */
size_t mkt_text_clean(char *dst, size_t cap, const char *src, size_t len);

#endif
