/* base64url (RFC 4648 section 5) without padding, for cookie values. */
#ifndef MKT_B64URL_H
#define MKT_B64URL_H

#include <stddef.h>

/* Encoded length of n bytes, without padding. */
#define MKT_B64URL_LEN(n)  (((n) * 4 + 2) / 3)

size_t mkt_b64url_encode(char *dst, const unsigned char *src, size_t n);

/*
 * Decodes exactly len characters into dst; returns the number of bytes, or
 * (size_t) -1 when a character is outside the alphabet, len is impossible
 * (len % 4 == 1), or the unused low bits of the last character are not zero
 * (so every byte string has exactly one accepted encoding).
 */
size_t mkt_b64url_decode(unsigned char *dst, const char *src, size_t len);

#endif
