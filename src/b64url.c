/* base64url (RFC 4648 section 5) without padding, canonical decoding only. */
#include "b64url.h"

static const char  alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";


#define XX  0xff                 /* not in the alphabet */

/* each byte's value, XX for others: bit 7 set only for XX, so four
 * characters are checked with one test */
static const unsigned char  value_of[256] = {
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, 62, XX, XX,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, XX, XX, XX, XX, XX, XX,
    XX,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, XX, XX, XX, XX, 63,
    XX, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
};

#undef XX


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
    size_t                i, out;
    unsigned              a, b, c, d;
    const unsigned char  *p = (const unsigned char *) src;

    if (len % 4 == 1) {
        return (size_t) -1;
    }

    out = 0;

    for (i = 0; i + 4 <= len; i += 4) {
        a = value_of[p[i]];
        b = value_of[p[i + 1]];
        c = value_of[p[i + 2]];
        d = value_of[p[i + 3]];
        if ((a | b | c | d) & 0x80) {
            return (size_t) -1;
        }
        dst[out] = (unsigned char) (a << 2 | b >> 4);
        dst[out + 1] = (unsigned char) (b << 4 | c >> 2);
        dst[out + 2] = (unsigned char) (c << 6 | d);
        out += 3;
    }

    /* two or three characters left: one or two bytes, and the unused low
     * bits must be zero (reject non-canonical encodings) */
    if (i < len) {
        a = value_of[p[i]];
        b = value_of[p[i + 1]];
        c = i + 2 < len ? value_of[p[i + 2]] : 0;
        if ((a | b | c) & 0x80) {
            return (size_t) -1;
        }
        dst[out++] = (unsigned char) (a << 2 | b >> 4);
        if (i + 2 < len) {
            if (c & 3) {
                return (size_t) -1;
            }
            dst[out++] = (unsigned char) (b << 4 | c >> 2);

        } else if (b & 15) {
            return (size_t) -1;
        }
    }

    return out;
}
