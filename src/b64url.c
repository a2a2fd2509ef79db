/* base64url (RFC 4648 section 5) without padding, canonical decoding only. */
#include "b64url.h"

static const char  alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";


static int
b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '-') {
        return 62;
    }
    if (c == '_') {
        return 63;
    }
    return -1;
}


size_t
mkt_b64url_encode(char *dst, const unsigned char *src, size_t n)
{
    char           *d = dst;
    unsigned long   v;

    while (n >= 3) {
        v = (unsigned long) src[0] << 16 | (unsigned long) src[1] << 8
            | src[2];
        *d++ = alphabet[(v >> 18) & 63];
        *d++ = alphabet[(v >> 12) & 63];
        *d++ = alphabet[(v >> 6) & 63];
        *d++ = alphabet[v & 63];
        src += 3;
        n -= 3;
    }

    if (n == 2) {
        v = (unsigned long) src[0] << 16 | (unsigned long) src[1] << 8;
        *d++ = alphabet[(v >> 18) & 63];
        *d++ = alphabet[(v >> 12) & 63];
        *d++ = alphabet[(v >> 6) & 63];

    } else if (n == 1) {
        v = (unsigned long) src[0] << 16;
        *d++ = alphabet[(v >> 18) & 63];
        *d++ = alphabet[(v >> 12) & 63];
    }

    return (size_t) (d - dst);
}


size_t
mkt_b64url_decode(unsigned char *dst, const char *src, size_t len)
{
    int             c;
    size_t          i, out, bits;
    unsigned long   acc;

    if (len % 4 == 1) {
        return (size_t) -1;
    }

    acc = 0;
    bits = 0;
    out = 0;

    for (i = 0; i < len; i++) {
        c = b64url_value((unsigned char) src[i]);
        if (c < 0) {
            return (size_t) -1;
        }

        acc = (acc << 6) | (unsigned long) c;
        bits += 6;

        if (bits >= 8) {
            bits -= 8;
            dst[out++] = (unsigned char) (acc >> bits);
            acc &= (1UL << bits) - 1;
        }
    }

    /* leftover bits must be zero: reject non-canonical encodings */
    if (acc != 0) {
        return (size_t) -1;
    }

    return out;
}
