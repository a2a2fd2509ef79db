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


static size_t
base36_encode(char *dst, int64_t v)
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
    p += base36_encode(p, v->issued);

    if (h != NULL) {
        *p = '.';
        if (mkt_sign(h, out, (size_t) (p - out), p + 1) != 0) {
            return 0;
        }
        p += 1 + MKT_SIG_LEN;
    }

    return (size_t) (p - out);
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
    int64_t      issued;
    size_t       i, digits, signed_len;
    const char  *p, *end;

    if (len > MKT_VCOOKIE_MAX) {
        return MKT_COOKIE_OVERSIZED;
    }

    end = in + len;

    if (len < 2 + MKT_VID_LEN + 2 || in[0] != '1' || in[1] != '.'
        || in[2 + MKT_VID_LEN] != '.' || !vid_valid(in + 2))
    {
        return MKT_COOKIE_MALFORMED;
    }

    p = in + 2 + MKT_VID_LEN + 1;
    issued = 0;
    digits = 0;

    while (p < end && *p != '.') {
        if (*p >= '0' && *p <= '9') {
            issued = issued * 36 + (*p - '0');

        } else if (*p >= 'a' && *p <= 'z') {
            issued = issued * 36 + (*p - 'a' + 10);

        } else {
            return MKT_COOKIE_MALFORMED;
        }

        if (++digits > ISSUED_MAX_DIGITS) {
            return MKT_COOKIE_MALFORMED;
        }
        p++;
    }

    /* one encoding per number: no empty field, no leading zero */
    if (digits == 0 || issued == 0 || *(p - digits) == '0') {
        return MKT_COOKIE_MALFORMED;
    }

    signed_len = (size_t) (p - in);

    if (p == end) {
        if (h != NULL) {
            return MKT_COOKIE_UNSIGNED;
        }

    } else {
        if ((size_t) (end - p) != 1 + MKT_SIG_LEN) {
            return MKT_COOKIE_MALFORMED;
        }

        for (i = 1; i <= MKT_SIG_LEN; i++) {
            if (!((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= 'a' && p[i] <= 'z')
                  || (p[i] >= '0' && p[i] <= '9') || p[i] == '-'
                  || p[i] == '_'))
            {
                return MKT_COOKIE_MALFORMED;
            }
        }

        if (h != NULL && !mkt_sig_verify(h, in, signed_len, p + 1)) {
            return MKT_COOKIE_BAD_SIGNATURE;
        }
    }

    if (issued - MKT_COOKIE_SKEW > now) {
        return MKT_COOKIE_FUTURE;
    }

    memcpy(v->vid, in + 2, MKT_VID_LEN);
    v->issued = issued;

    return MKT_COOKIE_OK;
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
    }

    return "unknown";
}


static int
is_space(char c)
{
    return c == ' ' || c == '\t';
}


int
mkt_cookie_next(const char *hdr, size_t len, size_t *pos, const char *name,
    size_t name_len, const char **val, size_t *val_len)
{
    size_t       i, ns, ne, vs, ve;

    i = *pos;

    while (i < len) {
        while (i < len && (is_space(hdr[i]) || hdr[i] == ';')) {
            i++;
        }

        ns = i;
        while (i < len && hdr[i] != '=' && hdr[i] != ';') {
            i++;
        }
        ne = i;
        while (ne > ns && is_space(hdr[ne - 1])) {
            ne--;
        }

        if (i == len || hdr[i] == ';') {
            continue;               /* a pair without '=' is ignored */
        }

        i++;                        /* '=' */
        while (i < len && is_space(hdr[i])) {
            i++;
        }
        vs = i;
        while (i < len && hdr[i] != ';') {
            i++;
        }
        ve = i;
        while (ve > vs && is_space(hdr[ve - 1])) {
            ve--;
        }

        if (ne - ns == name_len && memcmp(hdr + ns, name, name_len) == 0) {
            if (ve - vs >= 2 && hdr[vs] == '"' && hdr[ve - 1] == '"') {
                vs++;
                ve--;
            }

            *pos = i;
            *val = hdr + vs;
            *val_len = ve - vs;
            return 1;
        }
    }

    *pos = len;
    return 0;
}
