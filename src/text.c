/* UTF-8 validation and control-character stripping with a byte bound. */
#include <string.h>

#include "text.h"

static const char  replacement[] = "\xef\xbf\xbd";     /* U+FFFD */


size_t
mkt_text_utf8_char(const char *src, size_t len, unsigned long *cp)
{
    size_t                n, i;
    unsigned long         c, min;
    const unsigned char  *s = (const unsigned char *) src;

    c = s[0];

    if (c < 0x80) {
        *cp = c;
        return 1;
    }

    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        c &= 0x1f;
        min = 0x80;

    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        c &= 0x0f;
        min = 0x800;

    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        c &= 0x07;
        min = 0x10000;

    } else {
        return 0;
    }

    if (len < n) {
        return 0;
    }

    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        c = (c << 6) | (s[i] & 0x3f);
    }

    /* overlong forms, surrogates and values past U+10FFFF */
    if (c < min || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff) {
        return 0;
    }

    *cp = c;
    return n;
}


int
mkt_text_is_control(unsigned long cp)
{
    return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f);
}


size_t
mkt_text_clean(char *dst, size_t cap, const char *src, size_t len)
{
    size_t                n, out;
    unsigned long         cp;
    const char           *add;
    const unsigned char  *s = (const unsigned char *) src;

    out = 0;

    while (len > 0) {
        n = mkt_text_utf8_char((const char *) s, len, &cp);

        if (n == 0) {
            add = replacement;
            n = 1;
            cp = 0xfffd;

        } else {
            add = (const char *) s;
        }

        s += n;
        len -= n;

        if (mkt_text_is_control(cp)) {
            continue;
        }

        if (add == replacement) {
            n = sizeof(replacement) - 1;
        }

        if (out + n > cap) {
            break;
        }

        memcpy(dst + out, add, n);
        out += n;
    }

    return out;
}


void
mkt_text_append(char *buf, size_t cap, size_t *n, const char *s, size_t len)
{
    if (len > cap - 1 - *n) {
        len = cap - 1 - *n;
    }
    memcpy(buf + *n, s, len);
    *n += len;
    buf[*n] = '\0';
}


size_t
mkt_text_trim(char *s, size_t len)
{
    size_t  start;

    for (start = 0; start < len && s[start] == ' '; start++) { }
    while (len > start && s[len - 1] == ' ') {
        len--;
    }
    if (start > 0) {
        memmove(s, s + start, len - start);
    }
    return len - start;
}
