/* libFuzzer target for src/cookie.c: the visitor cookie codec checked
 * against an independent grammar and HMAC (OpenSSL's one-shot HMAC), and the
 * Cookie header scanner checked against an independent split-on-';' scan. */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "b64url.h"
#include "cookie.h"
#include "hmac.h"

/* the key and clock of tests/unit/test_cookie.c, so seeds can be shared */
#define SECRET        "0123456789abcdef0123"
#define NOW           ((int64_t) 1795426913 + 60)
#define KNOWN_PREFIX  "1.AAAAAAAAAAAAAAAAAAAAAA.toy89t"
#define KNOWN_SIG     "0P8EE9dSponFojju"    /* from Python's hmac module */

#define ISSUED_DIGITS_MAX  8
#define ISSUED_MAX         INT64_C(2821109907455)   /* 36^8 - 1 */
#define HDR_MAX            4096    /* libFuzzer's default max_len */
#define HDR_MATCHES_MAX    (HDR_MAX / 3 + 1)   /* "a=;": 3 bytes a pair */

#define CHECK(c)  do { if (!(c)) { __builtin_trap(); } } while (0)

enum { SHAPE_BAD = 0, SHAPE_UNSIGNED, SHAPE_SIGNED };

typedef struct {
    int      shape;
    size_t   prefix_len;            /* bytes covered by the signature */
    int64_t  issued;
} ref_cookie_t;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char  b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static mkt_hmac_t  *key;


static int
is_b64(uint8_t c)
{
    return c != '\0' && memchr(b64_alphabet, c, sizeof(b64_alphabet) - 1);
}


/* The grammar of DESIGN.md section 5 written out independently:
 * "1." VID(22, canonical: last char carries 2 bits -> A|Q|g|w) "."
 * base36(1..8 digits, no leading zero) [ "." SIG(16 base64url) ]. */
static void
ref_parse(const uint8_t *s, size_t len, ref_cookie_t *r)
{
    size_t  i, d;

    r->shape = SHAPE_BAD;
    r->prefix_len = 0;
    r->issued = 0;

    if (len > MKT_VCOOKIE_MAX || len < 2 + MKT_VID_LEN + 2
        || s[0] != '1' || s[1] != '.' || s[2 + MKT_VID_LEN] != '.')
    {
        return;
    }

    for (i = 2; i < 2 + MKT_VID_LEN; i++) {
        if (!is_b64(s[i])) {
            return;
        }
    }
    if (strchr("AQgw", s[2 + MKT_VID_LEN - 1]) == NULL) {
        return;
    }

    i = 2 + MKT_VID_LEN + 1;
    if (s[i] == '0') {
        return;
    }
    for (d = 0; i < len && s[i] != '.'; i++, d++) {
        if (s[i] >= '0' && s[i] <= '9') {
            r->issued = r->issued * 36 + (s[i] - '0');
        } else if (s[i] >= 'a' && s[i] <= 'z') {
            r->issued = r->issued * 36 + (s[i] - 'a' + 10);
        } else {
            return;
        }
        if (d + 1 > ISSUED_DIGITS_MAX) {
            return;
        }
    }
    if (d == 0) {
        return;
    }

    r->prefix_len = i;

    if (i == len) {
        r->shape = SHAPE_UNSIGNED;
        return;
    }

    if (len - i != 1 + MKT_SIG_LEN) {
        return;
    }
    for (i++; i < len; i++) {
        if (!is_b64(s[i])) {
            return;
        }
    }

    r->shape = SHAPE_SIGNED;
}


/* first MKT_SIG_LEN base64url chars of HMAC-SHA256(SECRET, msg) */
static void
ref_sign(const void *msg, size_t len, char sig[MKT_SIG_LEN])
{
    size_t          i;
    unsigned int    mlen;
    unsigned char   mac[EVP_MAX_MD_SIZE];
    uint32_t        v;

    CHECK(HMAC(EVP_sha256(), SECRET, sizeof(SECRET) - 1, msg, len, mac,
               &mlen) != NULL);
    CHECK(mlen == 32);

    for (i = 0; i < MKT_SIG_LEN / 4; i++) {
        v = (uint32_t) mac[3 * i] << 16 | (uint32_t) mac[3 * i + 1] << 8
            | mac[3 * i + 2];
        sig[4 * i] = b64_alphabet[(v >> 18) & 63];
        sig[4 * i + 1] = b64_alphabet[(v >> 12) & 63];
        sig[4 * i + 2] = b64_alphabet[(v >> 6) & 63];
        sig[4 * i + 3] = b64_alphabet[v & 63];
    }
}


static void
init(void)
{
    char           sig[MKT_SIG_LEN], vid[MKT_VID_LEN];
    unsigned char  raw[MKT_VID_LEN];

    key = mkt_hmac_create(SECRET, sizeof(SECRET) - 1);
    CHECK(key != NULL);

    /* anchor both signers to a vector computed outside C */
    ref_sign(KNOWN_PREFIX, sizeof(KNOWN_PREFIX) - 1, sig);
    CHECK(memcmp(sig, KNOWN_SIG, MKT_SIG_LEN) == 0);
    CHECK(mkt_sign(key, KNOWN_PREFIX, sizeof(KNOWN_PREFIX) - 1, sig) == 0);
    CHECK(memcmp(sig, KNOWN_SIG, MKT_SIG_LEN) == 0);

    /* the ids the module mints are ids the decoder accepts */
    CHECK(mkt_vid_generate(vid) == 0);
    CHECK(mkt_b64url_decode(raw, vid, MKT_VID_LEN) == 16);
}


static void
check_visitor(const mkt_visitor_t *v, const uint8_t *in, int64_t issued)
{
    size_t         i;
    unsigned char  raw[MKT_VID_LEN];
    char           back[MKT_VID_LEN];

    for (i = 0; i < MKT_VID_LEN; i++) {
        CHECK(is_b64((uint8_t) v->vid[i]));
    }
    CHECK(memcmp(v->vid, in + 2, MKT_VID_LEN) == 0);
    CHECK(mkt_b64url_decode(raw, v->vid, MKT_VID_LEN) == 16);
    CHECK(mkt_b64url_encode(back, raw, 16) == MKT_VID_LEN);
    CHECK(memcmp(back, v->vid, MKT_VID_LEN) == 0);
    CHECK(v->issued == issued);
    CHECK(v->issued >= 1 && v->issued <= NOW + MKT_COOKIE_SKEW);
}


/* decode -> encode is the identity on every accepted value */
static void
check_decode(const uint8_t *in, size_t len)
{
    int                  future;
    char                 out[MKT_VCOOKIE_MAX];
    char                 sig[MKT_SIG_LEN], lib_sig[MKT_SIG_LEN];
    size_t               n;
    ref_cookie_t         r;
    mkt_visitor_t        v;
    mkt_cookie_status_e  st, want;

    ref_parse(in, len, &r);
    future = r.shape != SHAPE_BAD && r.issued > NOW + MKT_COOKIE_SKEW;

    if (r.shape != SHAPE_BAD) {
        ref_sign(in, r.prefix_len, sig);
        CHECK(mkt_sign(key, in, r.prefix_len, lib_sig) == 0);
        CHECK(memcmp(sig, lib_sig, MKT_SIG_LEN) == 0);
    }

    /* without a key: any well-formed value, signed or not, not future */
    want = len > MKT_VCOOKIE_MAX ? MKT_COOKIE_OVERSIZED
           : r.shape == SHAPE_BAD ? MKT_COOKIE_MALFORMED
           : future ? MKT_COOKIE_FUTURE : MKT_COOKIE_OK;

    memset(&v, 0xa5, sizeof(v));
    st = mkt_vcookie_decode(NULL, (const char *) in, len, NOW, &v);
    CHECK(strcmp(mkt_cookie_status_name(st), "unknown") != 0);
    CHECK(st == want);

    if (st == MKT_COOKIE_OK) {
        check_visitor(&v, in, r.issued);
        /* canonical: the unsigned encoding is the input up to the signature
         * (a signature is kept unverified, by design, when there is no key) */
        n = mkt_vcookie_encode(NULL, &v, out);
        CHECK(n == r.prefix_len && memcmp(out, in, n) == 0);
    }

    /* with the key: only a value carrying the true signature is accepted */
    want = len > MKT_VCOOKIE_MAX ? MKT_COOKIE_OVERSIZED
           : r.shape == SHAPE_BAD ? MKT_COOKIE_MALFORMED
           : r.shape == SHAPE_UNSIGNED ? MKT_COOKIE_UNSIGNED
           : memcmp(in + r.prefix_len + 1, sig, MKT_SIG_LEN) != 0
             ? MKT_COOKIE_BAD_SIGNATURE
           : future ? MKT_COOKIE_FUTURE : MKT_COOKIE_OK;

    memset(&v, 0xa5, sizeof(v));
    st = mkt_vcookie_decode(key, (const char *) in, len, NOW, &v);
    CHECK(strcmp(mkt_cookie_status_name(st), "unknown") != 0);
    CHECK(st == want);

    if (st == MKT_COOKIE_OK) {
        check_visitor(&v, in, r.issued);
        CHECK(memcmp(in + r.prefix_len + 1, sig, MKT_SIG_LEN) == 0);
        n = mkt_vcookie_encode(key, &v, out);
        CHECK(n == len && memcmp(out, in, n) == 0);
    }

    /* Random bytes never carry a true signature, so sign well-formed values
     * here to reach the keyed OK path, then forge one character. */
    if (r.shape != SHAPE_BAD && !future) {
        char     *p;
        uint8_t  *good;
        size_t    glen, k;

        glen = r.prefix_len + 1 + MKT_SIG_LEN;
        good = malloc(glen);
        CHECK(good != NULL);
        memcpy(good, in, r.prefix_len);
        good[r.prefix_len] = '.';
        memcpy(good + r.prefix_len + 1, sig, MKT_SIG_LEN);

        memset(&v, 0xa5, sizeof(v));
        CHECK(mkt_vcookie_decode(key, (const char *) good, glen, NOW, &v)
              == MKT_COOKIE_OK);
        check_visitor(&v, good, r.issued);
        n = mkt_vcookie_encode(key, &v, out);
        CHECK(n == glen && memcmp(out, good, n) == 0);

        k = r.issued % MKT_SIG_LEN;
        p = strchr(b64_alphabet, good[r.prefix_len + 1 + k]);
        CHECK(p != NULL);
        good[r.prefix_len + 1 + k] = b64_alphabet[(p - b64_alphabet + 1
                                                   + len) % 64];
        if (good[r.prefix_len + 1 + k] == (uint8_t) sig[k]) {
            good[r.prefix_len + 1 + k] = b64_alphabet[(p - b64_alphabet + 2
                                                       + len) % 64];
        }
        CHECK(mkt_vcookie_decode(key, (const char *) good, glen, NOW, &v)
              == MKT_COOKIE_BAD_SIGNATURE);

        free(good);
    }
}


static int64_t
read_i64(const uint8_t *p)
{
    int       i;
    uint64_t  u;

    for (u = 0, i = 0; i < 8; i++) {
        u = u << 8 | p[i];
    }

    return (int64_t) u;
}


/* the server-side age of a decoded cookie at any clock and max_age >= 0,
 * against wide arithmetic: expired past max_age + one refresh period */
static void
check_age(const mkt_visitor_t *v, const uint8_t *data, size_t size)
{
    int64_t   now, max_age;
    __int128  age;

    if (size < 16) {
        return;
    }

    now = read_i64(data);
    max_age = read_i64(data + 8) & INT64_MAX;
    age = (__int128) now - v->issued;

    CHECK((mkt_vcookie_check_age(v, now, max_age) == MKT_COOKIE_EXPIRED)
          == (age > (__int128) max_age + MKT_COOKIE_REFRESH));
    CHECK(mkt_vcookie_check_age(v, now, max_age) == MKT_COOKIE_OK
          || mkt_vcookie_check_age(v, now, max_age) == MKT_COOKIE_EXPIRED);
    CHECK(mkt_vcookie_refresh_due(v, now) == (age >= MKT_COOKIE_REFRESH));
}


/* encode -> decode is the identity for every visitor the module can mint */
static void
check_encode(const uint8_t *data, size_t size)
{
    int            i;
    char           out[MKT_VCOOKIE_MAX];
    size_t         n;
    uint64_t       u;
    mkt_visitor_t  v, w;

    if (size < 16 + 8) {
        return;
    }

    (void) mkt_b64url_encode(v.vid, data, 16);
    for (u = 0, i = 0; i < 8; i++) {
        u = u << 8 | data[16 + i];
    }
    /* 1 .. min(36^8 - 1, NOW + skew): the span decode accepts */
    v.issued = 1 + (int64_t) (u % (uint64_t) (NOW + MKT_COOKIE_SKEW));
    CHECK(v.issued <= ISSUED_MAX);

    n = mkt_vcookie_encode(key, &v, out);
    CHECK(n > 0 && n <= MKT_VCOOKIE_MAX);
    CHECK(mkt_vcookie_decode(key, out, n, NOW, &w) == MKT_COOKIE_OK);
    CHECK(memcmp(v.vid, w.vid, MKT_VID_LEN) == 0 && v.issued == w.issued);

    n = mkt_vcookie_encode(NULL, &v, out);
    CHECK(n > 0 && n <= MKT_VCOOKIE_MAX);
    CHECK(mkt_vcookie_decode(NULL, out, n, NOW, &w) == MKT_COOKIE_OK);
    CHECK(memcmp(v.vid, w.vid, MKT_VID_LEN) == 0 && v.issued == w.issued);
    CHECK(mkt_vcookie_decode(key, out, n, NOW, &w) == MKT_COOKIE_UNSIGNED);

    check_age(&w, data + 24, size - 24);

    /* a negative issue time is refused, not written */
    v.issued = -1 - (int64_t) (u >> 1);
    CHECK(mkt_vcookie_encode(key, &v, out) == 0);
    CHECK(mkt_vcookie_encode(NULL, &v, out) == 0);
}


/* Reference Cookie header scan: split on ';', a pair needs '=', name and
 * value trimmed of SP/HT, one pair of surrounding quotes removed. */
static size_t
ref_cookie_scan(const uint8_t *h, size_t len, const char *name,
    size_t name_len, size_t *vs_out, size_t *vl_out, size_t max)
{
    size_t  s, e, eq, ns, ne, vs, ve, found;

    found = 0;

    for (s = 0; s < len; s = e + 1) {
        for (e = s; e < len && h[e] != ';'; e++) { /* void */ }

        for (eq = s; eq < e && h[eq] != '='; eq++) { /* void */ }
        if (eq == e) {
            continue;
        }

        for (ns = s; ns < eq && (h[ns] == ' ' || h[ns] == '\t'); ns++) { }
        for (ne = eq; ne > ns && (h[ne - 1] == ' ' || h[ne - 1] == '\t');
             ne--) { }
        for (vs = eq + 1; vs < e && (h[vs] == ' ' || h[vs] == '\t'); vs++) { }
        for (ve = e; ve > vs && (h[ve - 1] == ' ' || h[ve - 1] == '\t');
             ve--) { }

        if (ne - ns != name_len || memcmp(h + ns, name, name_len) != 0) {
            continue;
        }
        if (ve - vs >= 2 && h[vs] == '"' && h[ve - 1] == '"') {
            vs++;
            ve--;
        }
        CHECK(found < max);
        vs_out[found] = vs;
        vl_out[found] = ve - vs;
        found++;
    }

    return found;
}


static void
check_header(const uint8_t *hdr, size_t len, const char *name)
{
    size_t          nlen, pos, prev, vlen, nref, k, iter;
    size_t          rvs[HDR_MATCHES_MAX], rvl[HDR_MATCHES_MAX];
    const char     *val;
    mkt_visitor_t   v;

    nlen = strlen(name);
    nref = ref_cookie_scan(hdr, len, name, nlen, rvs, rvl, HDR_MATCHES_MAX);

    pos = 0;
    k = 0;
    for (iter = 0; ; iter++) {
        CHECK(iter <= len + 1);            /* terminates */
        prev = pos;
        val = NULL;
        vlen = (size_t) -1;

        if (!mkt_cookie_next((const char *) hdr, len, &pos, name, nlen, &val,
                             &vlen))
        {
            CHECK(pos == len);
            break;
        }

        CHECK(pos > prev && pos <= len);
        CHECK(val != NULL && val >= (const char *) hdr);
        CHECK(vlen <= len
              && (size_t) (val - (const char *) hdr) <= len - vlen);
        CHECK(memchr(val, ';', vlen) == NULL);

        CHECK(k < nref);
        CHECK((size_t) (val - (const char *) hdr) == rvs[k]);
        CHECK(vlen == rvl[k]);
        k++;

        /* what the module does next with the visitor cookie's value */
        (void) mkt_vcookie_decode(key, val, vlen, NOW, &v);
    }

    CHECK(k == nref);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t  *copy;

    if (key == NULL) {
        init();
    }

    /* an exact-size heap copy, so ASan sees any read past len */
    copy = malloc(size ? size : 1);
    CHECK(copy != NULL);
    if (size) {
        memcpy(copy, data, size);
    }

    check_decode(copy, size);
    check_encode(copy, size);

    if (size <= HDR_MAX) {
        check_header(copy, size, "_mkt");
        check_header(copy, size, "_mkt_ft");
        check_header(copy, size, "a");
    }

    free(copy);
    return 0;
}
