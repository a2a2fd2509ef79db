/* libFuzzer target for src/touch.c.  Three views of each input:
 *   - a cookie value: decoded with and without the key, statuses agree
 *     with each other and with OpenSSL's HMAC, an accepted value
 *     re-encodes to the same bytes;
 *   - the fields of a touch (split on NUL): it always encodes within
 *     MKT_TOUCH_COOKIE_MAX in safe characters, decodes back to prefixes
 *     of the fields cut in the documented order, and re-encodes the same;
 *   - a request ("query\nreferer"): its touch is consistent and survives
 *     the cookie round trip. */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "b64url.h"
#include "text.h"
#include "touch.h"

#define CHECK(c)  do { if (!(c)) { __builtin_trap(); } } while (0)

#define SECRET      "0123456789abcdef0123"
#define NOW         ((int64_t) 1795426913 + 60)
#define TIME_LIMIT  INT64_C(2821109907456)      /* 36^8 */
#define CUT_MIN     64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char  config_json[] =
    "{\"channels\": {\"param\": \"ch\", \"click_ids\": [\"bd_vid\"], "
    "\"codes\": {\"xhs01\": {\"source\": \"xiaohongshu\", \"medium\": "
    "\"social\", \"campaign\": \"w47\"}}}, \"referrers\": {\"same_site\": "
    "[\"example.cn\"], \"social\": [\"my-community.cn\"]}}";

static const char  b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static mkt_hmac_t    *key;
static mkt_config_t  *cfg;


static void
init(void)
{
    key = mkt_hmac_create(SECRET, sizeof(SECRET) - 1);
    cfg = mkt_config_load_string("fuzz.json", config_json,
                                 sizeof(config_json) - 1, NULL, NULL);
    CHECK(key != NULL && cfg != NULL);
}


/* first MKT_SIG_LEN base64url chars of HMAC-SHA256(SECRET, msg) */
static void
ref_sign(const void *msg, size_t len, char sig[MKT_SIG_LEN])
{
    unsigned int   mlen;
    unsigned char  mac[EVP_MAX_MD_SIZE];
    char           enc[MKT_B64URL_LEN(32) + 1];

    CHECK(HMAC(EVP_sha256(), SECRET, sizeof(SECRET) - 1, msg, len, mac,
               &mlen) != NULL);
    CHECK(mlen == 32);
    (void) mkt_b64url_encode(enc, mac, 32);
    memcpy(sig, enc, MKT_SIG_LEN);
}


static void
check_fields(const mkt_touch_t *t)
{
    char       tmp[MKT_CLICK_ID_MAX];
    size_t     f, cap;
    mkt_str_t  s;

    for (f = 0; f < MKT_TF_FIELDS; f++) {
        s = mkt_touch_get(t, (mkt_touch_field_e) f);
        cap = f == MKT_TF_CLICK_NAME ? MKT_CLICK_NAME_MAX
              : f == MKT_TF_CLICK_ID ? MKT_CLICK_ID_MAX
              : f == MKT_TF_REFERRER ? MKT_HOST_MAX : MKT_UTM_VALUE_MAX;
        CHECK(s.len == t->len[f] && s.len <= cap);
        CHECK(mkt_text_clean(tmp, sizeof(tmp), s.data, s.len) == s.len);
        CHECK(memcmp(tmp, s.data, s.len) == 0);
    }
    CHECK(t->len[MKT_TF_CLICK_ID] == 0 || t->len[MKT_TF_CLICK_NAME] > 0);
    CHECK((unsigned) t->channel < MKT_CHANNEL_COUNT);
}


static void
check_safe(const char *v, size_t n)
{
    size_t  i;

    CHECK(n > 0 && n <= MKT_TOUCH_COOKIE_MAX);
    for (i = 0; i < n; i++) {
        CHECK(v[i] == '.' || (v[i] != '\0' && strchr(b64_alphabet, v[i])));
    }
}


/* --- a cookie value ------------------------------------------------------ */

static void
check_decode(const uint8_t *in, size_t len)
{
    char                 out[MKT_TOUCH_COOKIE_MAX], sig[MKT_SIG_LEN];
    size_t               n;
    mkt_touch_t          t;
    mkt_channel_e        channel;
    mkt_cookie_status_e  open, keyed, checked, present;

    memset(&t, 0xa5, sizeof(t));
    open = mkt_touch_decode(NULL, (const char *) in, len, NOW, &t);
    CHECK(strcmp(mkt_cookie_status_name(open), "unknown") != 0);
    CHECK((open == MKT_COOKIE_OVERSIZED) == (len > MKT_TOUCH_COOKIE_MAX));
    CHECK(open != MKT_COOKIE_UNSIGNED && open != MKT_COOKIE_BAD_SIGNATURE);

    n = 0;
    if (open == MKT_COOKIE_OK) {
        check_fields(&t);
        CHECK(t.time > 0 && t.time <= NOW + MKT_COOKIE_SKEW);
        CHECK((t.kind == MKT_TOUCH_DIRECT)
              == (t.channel == MKT_CHANNEL_DIRECT));
        CHECK(t.kind != MKT_TOUCH_INTERNAL);

        /* the unsigned encoding is the input up to its signature */
        n = mkt_touch_encode(NULL, &t, out);
        CHECK(n > 0 && n <= len && memcmp(out, in, n) == 0);
        CHECK(n == len || len - n == 1 + MKT_SIG_LEN);
    }

    memset(&t, 0xa5, sizeof(t));
    keyed = mkt_touch_decode(key, (const char *) in, len, NOW, &t);

    /* the check without DATA: accepts what decode accepts, with its
     * channel, and refuses only what decode refuses */
    channel = MKT_CHANNEL_COUNT;
    checked = mkt_touch_check(key, (const char *) in, len, NOW, &channel);
    CHECK(keyed != MKT_COOKIE_OK
          || (checked == MKT_COOKIE_OK && channel == t.channel));
    CHECK(checked == MKT_COOKIE_OK || keyed != MKT_COOKIE_OK);
    CHECK(checked != MKT_COOKIE_OK || keyed == MKT_COOKIE_OK
          || keyed == MKT_COOKIE_MALFORMED);

    /* present: what checks, and what only lacks a good signature */
    present = mkt_touch_present((const char *) in, len, NOW);
    CHECK(checked != MKT_COOKIE_OK || present == MKT_COOKIE_OK);
    CHECK(present == MKT_COOKIE_OK
          || (checked != MKT_COOKIE_OK && keyed != MKT_COOKIE_OK));
    CHECK((present != MKT_COOKIE_MALFORMED && present != MKT_COOKIE_OVERSIZED)
          || open == present);

    /* what passed the check decodes without it exactly as with it */
    if (checked == MKT_COOKIE_OK) {
        mkt_touch_t  u;

        memset(&u, 0xa5, sizeof(u));
        CHECK(mkt_touch_decode_checked((const char *) in, len, &u)
              == keyed);
        if (keyed == MKT_COOKIE_OK) {
            int        f;
            mkt_str_t  a, b;

            for (f = 0; f < MKT_TF_FIELDS; f++) {
                a = mkt_touch_get(&t, (mkt_touch_field_e) f);
                b = mkt_touch_get(&u, (mkt_touch_field_e) f);
                CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
            }
            CHECK(u.time == t.time && u.channel == t.channel
                  && u.kind == t.kind);
        }
    }

    if (open == MKT_COOKIE_MALFORMED || open == MKT_COOKIE_OVERSIZED) {
        CHECK(keyed == open);
        return;
    }

    /* well-formed: the key decides by the signature, then the time */
    if (open == MKT_COOKIE_OK && n == len) {
        CHECK(keyed == MKT_COOKIE_UNSIGNED);
        return;
    }
    if (open == MKT_COOKIE_FUTURE) {
        CHECK(keyed == MKT_COOKIE_FUTURE || keyed == MKT_COOKIE_UNSIGNED
              || keyed == MKT_COOKIE_BAD_SIGNATURE);
        return;
    }

    ref_sign(in, n, sig);
    if (memcmp(in + n + 1, sig, MKT_SIG_LEN) != 0) {
        CHECK(keyed == MKT_COOKIE_BAD_SIGNATURE);
        return;
    }
    CHECK(keyed == MKT_COOKIE_OK);
    check_fields(&t);
    CHECK(mkt_touch_encode(key, &t, out) == len);
    CHECK(memcmp(out, in, len) == 0);
}


/* --- the fields of a touch ----------------------------------------------- */

static void
make_touch(const uint8_t *data, size_t size, mkt_touch_t *t)
{
    char            *p;
    size_t           f, i, n, cap, plen;
    uint64_t         u;
    const uint8_t   *piece, *end, *nul;

    memset(t, 0, sizeof(*t));
    for (u = 0, i = 0; i < 5; i++) {
        u = u << 8 | data[i];
    }
    t->time = 1 + (int64_t) (u % (uint64_t) (TIME_LIMIT - 1));
    t->channel = (mkt_channel_e) (data[5] % MKT_CHANNEL_COUNT);
    t->kind = t->channel == MKT_CHANNEL_DIRECT ? MKT_TOUCH_DIRECT
                                               : MKT_TOUCH_EXTERNAL;

    piece = data + 6;
    end = data + size;
    for (f = 0; f < MKT_TF_FIELDS && piece <= end; f++) {
        nul = memchr(piece, 0, (size_t) (end - piece));
        plen = nul ? (size_t) (nul - piece) : (size_t) (end - piece);
        p = (char *) mkt_touch_get(t, (mkt_touch_field_e) f).data;

        if (f == MKT_TF_CLICK_NAME) {
            for (i = 0, n = 0; i < plen && n < MKT_CLICK_NAME_MAX; i++) {
                if (strchr(b64_alphabet, piece[i]) || piece[i] == '.') {
                    p[n++] = (char) piece[i];
                }
            }
        } else if (f == MKT_TF_REFERRER) {
            n = mkt_host_normalize((const char *) piece, plen, p);
        } else {
            cap = f == MKT_TF_CLICK_ID ? MKT_CLICK_ID_MAX
                                       : MKT_UTM_VALUE_MAX;
            n = mkt_text_clean(p, cap, (const char *) piece, plen);
        }
        t->len[f] = n;
        piece += plen + 1;
    }
    if (t->len[MKT_TF_CLICK_NAME] == 0) {
        t->len[MKT_TF_CLICK_ID] = 0;
    }
}


static int
is_prefix(const mkt_touch_t *a, const mkt_touch_t *b, mkt_touch_field_e f)
{
    return a->len[f] <= b->len[f]
           && memcmp(mkt_touch_get(a, f).data, mkt_touch_get(b, f).data,
                     a->len[f]) == 0;
}


static void
check_encode(const uint8_t *data, size_t size)
{
    char         out[MKT_TOUCH_COOKIE_MAX], again[MKT_TOUCH_COOKIE_MAX];
    size_t       n, m, f, total, kept;
    mkt_touch_t  t, d;

    if (size < 6) {
        return;
    }
    make_touch(data, size, &t);

    n = mkt_touch_encode(key, &t, out);
    check_safe(out, n);
    CHECK(mkt_touch_decode(key, out, n, TIME_LIMIT, &d) == MKT_COOKIE_OK);
    check_fields(&d);
    CHECK(d.time == t.time && d.channel == t.channel && d.kind == t.kind);

    total = MKT_TF_FIELDS - 1;
    kept = MKT_TF_FIELDS - 1;
    for (f = 0; f < MKT_TF_FIELDS; f++) {
        CHECK(is_prefix(&d, &t, (mkt_touch_field_e) f));
        total += t.len[f];
        kept += d.len[f];
    }
    CHECK(kept <= MKT_TOUCH_DATA_MAX);
    if (total <= MKT_TOUCH_DATA_MAX) {
        CHECK(kept == total);
    }

    /* whole or nothing, in order: referrer, content, term, click id */
    CHECK(d.len[MKT_TF_CLICK_NAME] == t.len[MKT_TF_CLICK_NAME]);
#define GONE(f)  (d.len[MKT_TF_##f] < t.len[MKT_TF_##f])
#define EMPTY(f) (d.len[MKT_TF_##f] == 0)
    CHECK(!GONE(REFERRER) || EMPTY(REFERRER));
    CHECK(!GONE(CONTENT) || (EMPTY(CONTENT) && EMPTY(REFERRER)));
    CHECK(!GONE(TERM) || (EMPTY(TERM) && EMPTY(CONTENT)));
    CHECK(!GONE(CLICK_ID) || (EMPTY(CLICK_ID) && EMPTY(TERM)));
    /* then campaign, medium, source are cut, to 64 bytes at the least */
    CHECK(!GONE(CAMPAIGN) || EMPTY(CLICK_ID));
    CHECK(!GONE(MEDIUM) || d.len[MKT_TF_CAMPAIGN] <= CUT_MIN);
    CHECK(!GONE(SOURCE) || d.len[MKT_TF_MEDIUM] <= CUT_MIN);
    for (f = MKT_TF_SOURCE; f <= MKT_TF_CAMPAIGN; f++) {
        CHECK(d.len[f] + 3 >= (t.len[f] < CUT_MIN ? t.len[f] : CUT_MIN));
    }
#undef GONE
#undef EMPTY

    /* one encoding per touch; unsigned is the signed one's body */
    m = mkt_touch_encode(key, &d, again);
    CHECK(m == n && memcmp(again, out, n) == 0);
    m = mkt_touch_encode(NULL, &t, again);
    CHECK(m + 1 + MKT_SIG_LEN == n && memcmp(again, out, m) == 0);
}


/* --- a request ----------------------------------------------------------- */

static void
check_request(const uint8_t *data, size_t size)
{
    char             out[MKT_TOUCH_COOKIE_MAX];
    size_t           qlen, n, f;
    unsigned         plan;
    mkt_utm_t        u;
    mkt_touch_t      t, d;
    mkt_referrer_t   r;
    const uint8_t   *nl;

    nl = memchr(data, '\n', size);
    qlen = nl ? (size_t) (nl - data) : size;

    mkt_utm_parse(mkt_config_channels(cfg), (const char *) data, qlen, &u);
    mkt_referrer_classify(mkt_config_referrers(cfg),
                          nl ? (const char *) nl + 1 : NULL,
                          nl ? size - qlen - 1 : 0, "www.example.com", 15,
                          &r);
    mkt_touch_of_request(mkt_config_referrers(cfg), &u, &r, NOW, &t);

    check_fields(&t);
    CHECK(t.time == NOW);
    CHECK((t.kind == MKT_TOUCH_EXTERNAL)
          == (mkt_utm_present(&u) || r.cls >= MKT_REF_SEARCH));
    CHECK((t.kind == MKT_TOUCH_INTERNAL) == (!mkt_utm_present(&u)
                                              && r.cls
                                                 == MKT_REF_SAME_SITE));
    CHECK((t.channel == MKT_CHANNEL_DIRECT)
          == (t.kind != MKT_TOUCH_EXTERNAL));
    CHECK(t.kind == MKT_TOUCH_EXTERNAL || t.len[MKT_TF_REFERRER] == 0);

    plan = mkt_touch_plan(&t, 0);
    CHECK(plan == (t.kind == MKT_TOUCH_EXTERNAL
                   ? MKT_TOUCH_SET_FT | MKT_TOUCH_SET_LT
                   : t.kind == MKT_TOUCH_DIRECT ? MKT_TOUCH_SET_FT : 0));
    CHECK(mkt_touch_visit_channel(&t, NULL) == t.channel
          || t.kind == MKT_TOUCH_INTERNAL);

    if (t.kind == MKT_TOUCH_INTERNAL) {
        return;
    }
    n = mkt_touch_encode(key, &t, out);
    check_safe(out, n);
    CHECK(mkt_touch_decode(key, out, n, NOW, &d) == MKT_COOKIE_OK);
    CHECK(d.channel == t.channel && d.kind == t.kind && d.time == NOW);
    for (f = 0; f < MKT_TF_FIELDS; f++) {
        CHECK(is_prefix(&d, &t, (mkt_touch_field_e) f));
    }
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
    check_request(copy, size);

    free(copy);
    return 0;
}
