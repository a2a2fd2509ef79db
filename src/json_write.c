/* Bounded JSON output: escaping and numbers for events and error
 * responses. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_write.h"
#include "text.h"

static const char  replacement[] = "\xef\xbf\xbd";     /* U+FFFD */
static const char  hexdigits[] = "0123456789abcdef";


void
mkt_jw_init(mkt_jw_t *w, char *buf, size_t cap)
{
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
    w->full = 0;
}


void
mkt_jw_raw(mkt_jw_t *w, const char *s, size_t len)
{
    if (w->full || len > w->cap - w->len) {
        w->full = 1;
        return;
    }
    memcpy(w->buf + w->len, s, len);
    w->len += len;
}


/* How the character cp (n bytes at s) is written: into esc, *out and its
 * length. */
static size_t
escape(unsigned long cp, const char *s, size_t n, char esc[6],
    const char **out)
{
    static const char  shorts[] = "btn\0fr";   /* \b \t \n _ \f \r */

    *out = esc;
    esc[0] = '\\';

    if (cp == '"' || cp == '\\') {
        esc[1] = (char) cp;
        return 2;
    }
    if (cp >= 0x08 && cp <= 0x0d && shorts[cp - 0x08]) {
        esc[1] = shorts[cp - 0x08];
        return 2;
    }
    if (mkt_text_is_control(cp) || cp == 0x2028 || cp == 0x2029) {
        esc[1] = 'u';
        esc[2] = hexdigits[cp >> 12 & 0xf];
        esc[3] = hexdigits[cp >> 8 & 0xf];
        esc[4] = hexdigits[cp >> 4 & 0xf];
        esc[5] = hexdigits[cp & 0xf];
        return 6;
    }

    *out = s;
    return n;
}


void
mkt_jw_string(mkt_jw_t *w, const char *s, size_t len, size_t max)
{
    char           esc[6];
    size_t         n, wn, dn, decoded, written;
    unsigned long  cp;
    const char    *out;

    mkt_jw_raw(w, "\"", 1);

    decoded = 0;
    written = 0;

    while (len > 0) {
        n = mkt_text_utf8_char(s, len, &cp);

        if (n == 0 || cp == 0) {
            n = 1;
            dn = sizeof(replacement) - 1;
            wn = dn;
            out = replacement;

        } else {
            wn = escape(cp, s, n, esc, &out);
            dn = n;
        }

        if (decoded + dn > max || written + wn > 2 * max) {
            break;
        }

        mkt_jw_raw(w, out, wn);
        decoded += dn;
        written += wn;
        s += n;
        len -= n;
    }

    mkt_jw_raw(w, "\"", 1);
}


void
mkt_jw_int(mkt_jw_t *w, int64_t v)
{
    char      buf[MKT_JW_NUMBER_MAX];
    size_t    i;
    uint64_t  u;

    u = v < 0 ? 0 - (uint64_t) v : (uint64_t) v;
    i = sizeof(buf);
    do {
        buf[--i] = (char) ('0' + u % 10);
        u /= 10;
    } while (u);

    if (v < 0) {
        buf[--i] = '-';
    }
    mkt_jw_raw(w, buf + i, sizeof(buf) - i);
}


void
mkt_jw_number(mkt_jw_t *w, double v)
{
    char  buf[MKT_JW_NUMBER_MAX + 1];
    int   prec, n;

    if (!isfinite(v)) {
        mkt_jw_raw(w, "null", 4);
        return;
    }

    /* "-1.2345678901234567e-308" is the longest: 24 bytes */
    for (prec = 15; ; prec++) {
        n = snprintf(buf, sizeof(buf) - 2, "%.*g", prec, v);
        if (prec == 17 || strtod(buf, NULL) == v) {
            break;
        }
    }

    if (strpbrk(buf, ".e") == NULL) {
        buf[n++] = '.';
        buf[n++] = '0';
    }
    mkt_jw_raw(w, buf, (size_t) n);
}
