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

/*
 * Appends s (len bytes) at buf + *n, cut to fit cap (which counts the
 * NUL), NUL-terminates and advances *n: building a message or a line
 * piece by piece without overflowing.  *n < cap.
 */
void mkt_text_append(char *buf, size_t cap, size_t *n, const char *s,
    size_t len);

/* Removes spaces (only ' ') from both ends of s in place; the new length. */
size_t mkt_text_trim(char *s, size_t len);

/*
 * The length (1 to 4) of the well-formed UTF-8 character at s (len > 0
 * bytes) and its code point in *cp; 0 when s starts with an invalid
 * sequence (a stray byte, an overlong form, a surrogate, past U+10FFFF
 * or cut short by len).
 */
size_t mkt_text_utf8_char(const char *s, size_t len, unsigned long *cp);

/* Whether cp is a control character: C0, DEL or C1. */
int mkt_text_is_control(unsigned long cp);

#endif
