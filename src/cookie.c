/* Visitor cookie codec: "1." VID "." base36(issued) "." SIG, where SIG signs
 * everything before the last dot.  Parsing is strict and bounded. */
#include <string.h>

#include "b64url.h"
#include "cookie.h"
#include "random.h"

#define ISSUED_MAX_DIGITS  8       /* base36 "zzzzzzzz" is year 91000 */
#define ISSUED_LIMIT       2821109907456LL     /* 36^8 */
#define VID_BYTES          16


int
mkt_vid_generate(char vid[MKT_VID_LEN])
{
    unsigned char  raw[VID_BYTES];

    if (mkt_random_bytes(raw, sizeof(raw)) != 0) {
        return -1;
    }

    (void) mkt_b64url_encode(vid, raw, sizeof(raw));
    return 0;
}


size_t
mkt_base36_encode(char *dst, int64_t v)
{
    char    tmp[16];
    size_t  n, i;

    n = 0;
    do {
        tmp[n++] = "0123456789abcdefghijklmnopqrstuvwxyz"[v % 36];
        v /= 36;
    } while (v > 0 && n < sizeof(tmp));

    for (i = 0; i < n; i++) {
        dst[i] = tmp[n - 1 - i];
    }

    return n;
}


size_t
mkt_base36_parse(const char *s, size_t len, size_t max, int64_t *v)
{
    int      d;
    size_t   n;
    int64_t  x;

    x = 0;
    for (n = 0; n < len; n++) {
        d = s[n] >= '0' && s[n] <= '9' ? s[n] - '0'
            : s[n] >= 'a' && s[n] <= 'z' ? s[n] - 'a' + 10 : -1;
        if (d < 0) {
            break;
        }
        if (n == max) {
            return 0;
        }
        x = x * 36 + d;
    }

    /* one encoding per number: no empty run, no leading zero */
    if (n == 0 || (s[0] == '0' && n > 1)) {
        return 0;
    }
    *v = x;
    return n;
}


size_t
mkt_cookie_sign(mkt_hmac_t *h, char *out, size_t body_len)
{
    if (h == NULL) {
        return body_len;
    }
    out[body_len] = '.';
    if (mkt_sign(h, out, body_len, out + body_len + 1) != 0) {
        return 0;
    }
    return body_len + 1 + MKT_SIG_LEN;
}


mkt_cookie_status_e
mkt_cookie_check_signature(mkt_hmac_t *h, const char *in, size_t body_len,
    size_t len)
{
    size_t  i;
    char    c;

    if (body_len == len) {
        return h != NULL ? MKT_COOKIE_UNSIGNED : MKT_COOKIE_OK;
    }

    if (len - body_len != 1 + MKT_SIG_LEN || in[body_len] != '.') {
        return MKT_COOKIE_MALFORMED;
    }
    for (i = body_len + 1; i < len; i++) {
        c = in[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9') || c == '-' || c == '_'))
        {
            return MKT_COOKIE_MALFORMED;
        }
    }

    if (h != NULL && !mkt_sig_verify(h, in, body_len, in + body_len + 1)) {
        return MKT_COOKIE_BAD_SIGNATURE;
    }
    return MKT_COOKIE_OK;
}


size_t
mkt_vcookie_encode(mkt_hmac_t *h, const mkt_visitor_t *v, char *out)
{
    char  *p = out;

    /* what the decoder accepts: 1 to 8 base36 digits, not zero */
    if (v->issued <= 0 || v->issued >= ISSUED_LIMIT) {
        return 0;
    }

    *p++ = '1';
    *p++ = '.';
    memcpy(p, v->vid, MKT_VID_LEN);
    p += MKT_VID_LEN;
    *p++ = '.';
    p += mkt_base36_encode(p, v->issued);

    return mkt_cookie_sign(h, out, (size_t) (p - out));
}


static int
vid_valid(const char *s)
{
    unsigned char  raw[VID_BYTES + 2];

    return mkt_b64url_decode(raw, s, MKT_VID_LEN) == VID_BYTES;
}


mkt_cookie_status_e
mkt_vcookie_decode(mkt_hmac_t *h, const char *in, size_t len, int64_t now,
    mkt_visitor_t *v)
{
    int64_t              issued;
    size_t               digits, signed_len;
    mkt_cookie_status_e  st;

    if (len > MKT_VCOOKIE_MAX) {
        return MKT_COOKIE_OVERSIZED;
    }

    if (len < 2 + MKT_VID_LEN + 2 || in[0] != '1' || in[1] != '.'
        || in[2 + MKT_VID_LEN] != '.' || !vid_valid(in + 2))
    {
        return MKT_COOKIE_MALFORMED;
    }

    signed_len = 2 + MKT_VID_LEN + 1;
    digits = mkt_base36_parse(in + signed_len, len - signed_len,
                              ISSUED_MAX_DIGITS, &issued);
    if (digits == 0 || issued == 0) {
        return MKT_COOKIE_MALFORMED;
    }
    signed_len += digits;

    st = mkt_cookie_check_signature(h, in, signed_len, len);
    if (st != MKT_COOKIE_OK) {
        return st;
    }

    if (issued - MKT_COOKIE_SKEW > now) {
        return MKT_COOKIE_FUTURE;
    }

    memcpy(v->vid, in + 2, MKT_VID_LEN);
    v->issued = issued;

    return MKT_COOKIE_OK;
}


mkt_cookie_status_e
mkt_vcookie_check_age(const mkt_visitor_t *v, int64_t now, int64_t max_age)
{
    int64_t  age;

    if (now <= v->issued) {
        return MKT_COOKIE_OK;      /* the future: mkt_vcookie_decode's */
    }

    age = now - v->issued;         /* issued > 0: no overflow */

    return age - MKT_COOKIE_REFRESH > max_age ? MKT_COOKIE_EXPIRED
                                              : MKT_COOKIE_OK;
}


int
mkt_vcookie_refresh_due(const mkt_visitor_t *v, int64_t now)
{
    return now > v->issued && now - v->issued >= MKT_COOKIE_REFRESH;
}


const char *
mkt_cookie_status_name(mkt_cookie_status_e s)
{
    switch (s) {
    case MKT_COOKIE_OK:
        return "ok";
    case MKT_COOKIE_MALFORMED:
        return "malformed";
    case MKT_COOKIE_OVERSIZED:
        return "oversized";
    case MKT_COOKIE_UNSIGNED:
        return "unsigned";
    case MKT_COOKIE_BAD_SIGNATURE:
        return "bad_signature";
    case MKT_COOKIE_FUTURE:
        return "future";
    case MKT_COOKIE_EXPIRED:
        return "expired";
    }

    return "unknown";
}


static int
is_space(char c)
{
    return c == ' ' || c == '\t';
}


int
mkt_cookie_pair(const char *hdr, size_t len, size_t *pos, const char **name,
    size_t *name_len, const char **val, size_t *val_len)
{
    size_t       i, e, ns, ne, vs, ve;
    const char  *p;

    for (i = *pos; i < len; i = e + 1) {
        p = memchr(hdr + i, ';', len - i);
        e = p != NULL ? (size_t) (p - hdr) : len;

        p = memchr(hdr + i, '=', e - i);
        if (p == NULL) {
            continue;               /* a pair without '=' is ignored */
        }

        ns = i;
        while (ns < e && is_space(hdr[ns])) {
            ns++;
        }
        ne = (size_t) (p - hdr);
        while (ne > ns && is_space(hdr[ne - 1])) {
            ne--;
        }
        vs = (size_t) (p - hdr) + 1;
        while (vs < e && is_space(hdr[vs])) {
            vs++;
        }
        ve = e;
        while (ve > vs && is_space(hdr[ve - 1])) {
            ve--;
        }
        if (ve - vs >= 2 && hdr[vs] == '"' && hdr[ve - 1] == '"') {
            vs++;
            ve--;
        }

        *pos = e;
        *name = hdr + ns;
        *name_len = ne - ns;
        *val = hdr + vs;
        *val_len = ve - vs;
        return 1;
    }

    *pos = len;
    return 0;
}


int
mkt_cookie_next(const char *hdr, size_t len, size_t *pos, const char *name,
    size_t name_len, const char **val, size_t *val_len)
{
    size_t       n;
    const char  *s;

    while (mkt_cookie_pair(hdr, len, pos, &s, &n, val, val_len)) {
        if (n == name_len && memcmp(s, name, name_len) == 0) {
            return 1;
        }
    }

    return 0;
}
