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


/* A byte that stands for itself inside a JSON string. */
static int
plain(unsigned char c)
{
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}


void
mkt_jw_string(mkt_jw_t *w, const char *s, size_t len, size_t max)
{
    char           esc[6];
    size_t         n, wn, dn, lim, decoded, written;
    unsigned long  cp;
    const char    *out;

    mkt_jw_raw(w, "\"", 1);

    decoded = 0;
    written = 0;

    while (len > 0) {
        /* a run of printable ASCII other than '"' and '\\' is copied as
         * it is, in one piece: a byte decoded is a byte written */
        lim = max - decoded;
        if (lim > 2 * max - written) {
            lim = 2 * max - written;
        }
        if (lim > len) {
            lim = len;
        }

        for (n = 0; n < lim && plain((unsigned char) s[n]); n++) {
            /* void */
        }

        if (n > 0) {
            mkt_jw_raw(w, s, n);
            decoded += n;
            written += n;
            s += n;
            len -= n;
            continue;
        }

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


/*
 * The common case of a price: v is the double nearest a decimal with at
 * most two digits after the point, 0.01 <= |v| < 1e13.  Its shortest
 * form is then those digits, which is what "%.15g" prints (no exponent
 * there, 15 significant digits are enough), without snprintf and strtod.
 * Returns 0 for any other v.
 */
static int
cents(mkt_jw_t *w, double v)
{
    char      frac[3];
    int64_t   m;
    uint64_t  u;

    if (!(fabs(v) >= 0.01 && fabs(v) < 1e13)) {
        return 0;
    }

    m = llround(v * 100);
    if ((double) m / 100 != v) {
        return 0;
    }

    u = m < 0 ? (uint64_t) -m : (uint64_t) m;
    if (m < 0) {
        mkt_jw_raw(w, "-", 1);
    }
    mkt_jw_int(w, (int64_t) (u / 100));

    frac[0] = '.';
    frac[1] = (char) ('0' + u % 100 / 10);
    frac[2] = (char) ('0' + u % 10);
    mkt_jw_raw(w, frac, u % 10 ? 3 : 2);
    return 1;
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

    if (cents(w, v)) {
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
