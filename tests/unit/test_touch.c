/* Unit tests of src/touch.c: a request's touch from its campaign and
 * referrer, the cookie decisions, $mkt_channel over a visit, and the
 * _mkt_ft / _mkt_lt codec (exact values, tampering, strictness, size). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "b64url.h"
#include "config.h"
#include "config_fixture.h"
#include "touch.h"

#define S(lit)   lit, sizeof(lit) - 1
#define SECRET   "0123456789abcdef0123"
#define TIME     1795426913                 /* "toy89t" in base36 */
#define NOW      (TIME + 60)
#define HOST     "www.example.com"

/* xiaohongshu / social / w47 from www.xiaohongshu.com, organic_social;
 * signatures computed with Python's hmac module */
#define XHS_BODY "t1.toy89t.h.eGlhb2hvbmdzaHUfc29jaWFsH3c0Nx8fHx8fd3d3Lnhp"    \
                 "YW9ob25nc2h1LmNvbQ"
#define XHS      XHS_BODY ".od5EQi40wD2CnKbt"
/* google / cpc / "双11" with gclid=Cj0KCQ, paid_search */
#define GCLID    "t1.toy89t.b.Z29vZ2xlH2NwYx_lj4wxMR8fH2djbGlkH0NqMEtDUR8"    \
                 ".8W-Npns0kCThJjVs"

static mkt_hmac_t  *key;


static int
setup(void **state)
{
    key = mkt_hmac_create(SECRET, sizeof(SECRET) - 1);
    return key == NULL
           || load_fixture("{\"channels\": {\"param\": \"ch\", "
                           "\"click_ids\": [\"bd_vid\"], \"codes\": "
                           "{\"xhs01\": {\"source\": \"xiaohongshu\", "
                           "\"medium\": \"social\", \"campaign\": "
                           "\"w47\"}}}}");
}


static int
teardown(void **state)
{
    mkt_hmac_destroy(key);
    return free_fixture(state);
}


/* The touch of a request with this query and Referer to HOST. */
static void
touch_of(const char *query, const char *referer, mkt_touch_t *t)
{
    mkt_utm_t       u;
    mkt_referrer_t  r;

    mkt_utm_parse(mkt_config_channels(cfg), query, strlen(query), &u);
    mkt_referrer_classify(mkt_config_referrers(cfg), referer,
                          strlen(referer), S(HOST), &r);
    mkt_touch_of_request(mkt_config_referrers(cfg), &u, &r, NOW, t);
}


static void
check_field(const mkt_touch_t *t, mkt_touch_field_e f, const char *want,
    int line)
{
    mkt_str_t  s;

    s = mkt_touch_get(t, f);
    if (s.len != strlen(want) || memcmp(s.data, want, s.len) != 0) {
        fail_msg("line %d: %s is \"%.*s\", expected \"%s\"", line,
                 mkt_touch_field_name(f), (int) s.len, s.data, want);
    }
}

/* source, medium, campaign and channel of a touch */
#define assert_smc(t, s, m, c, ch)                                           \
    do {                                                                      \
        check_field(t, MKT_TF_SOURCE, s, __LINE__);                           \
        check_field(t, MKT_TF_MEDIUM, m, __LINE__);                           \
        check_field(t, MKT_TF_CAMPAIGN, c, __LINE__);                         \
        assert_string_equal(mkt_channel_name((t)->channel), ch);              \
    } while (0)

#define assert_tf(t, f, want)  check_field(t, MKT_TF_##f, want, __LINE__)


static void
set_field(mkt_touch_t *t, mkt_touch_field_e f, const char *s, size_t len)
{
    memcpy((char *) mkt_touch_get(t, f).data, s, len);
    t->len[f] = len;
}


/* a touch of the given source, medium and campaign, all else empty */
static void
make_touch(mkt_touch_t *t, const char *s, const char *m, const char *c)
{
    memset(t, 0, sizeof(*t));
    t->kind = MKT_TOUCH_EXTERNAL;
    t->time = TIME;
    t->channel = MKT_CHANNEL_ORGANIC_SOCIAL;
    set_field(t, MKT_TF_SOURCE, s, strlen(s));
    set_field(t, MKT_TF_MEDIUM, m, strlen(m));
    set_field(t, MKT_TF_CAMPAIGN, c, strlen(c));
}


static int
touches_equal(const mkt_touch_t *a, const mkt_touch_t *b)
{
    size_t  f;

    if (a->time != b->time || a->channel != b->channel
        || a->kind != b->kind)
    {
        return 0;
    }
    for (f = 0; f < MKT_TF_FIELDS; f++) {
        if (a->len[f] != b->len[f]
            || memcmp(mkt_touch_get(a, f).data, mkt_touch_get(b, f).data,
                      a->len[f]) != 0)
        {
            return 0;
        }
    }
    return 1;
}


/* --- the touch of a request --------------------------------------------- */

static void
test_utm_parameters_make_the_touch(void **state)
{
    mkt_touch_t  t;

    touch_of("utm_source=baidu&utm_medium=cpc&utm_campaign=w47&utm_term=tv"
             "&utm_content=a", "https://www.baidu.com/s?wd=tv", &t);
    assert_int_equal(t.kind, MKT_TOUCH_EXTERNAL);
    assert_smc(&t, "baidu", "cpc", "w47", "paid_search");
    assert_tf(&t, TERM, "tv");
    assert_tf(&t, CONTENT, "a");
    assert_tf(&t, CLICK_NAME, "");
    assert_tf(&t, REFERRER, "www.baidu.com");
    assert_int_equal(t.time, NOW);

    /* utm_medium alone decides the pair: no source from the referrer */
    touch_of("utm_medium=email", "https://mail.qq.com/", &t);
    assert_smc(&t, "", "email", "", "email");
}


static void
test_utm_campaign_alone_keeps_the_referrer_as_source(void **state)
{
    mkt_touch_t  t;

    touch_of("utm_campaign=w47", "https://www.baidu.com/", &t);
    assert_int_equal(t.kind, MKT_TOUCH_EXTERNAL);
    assert_smc(&t, "baidu", "organic", "w47", "organic_search");

    /* even on a same-site referrer, a campaign is a touch */
    touch_of("utm_campaign=w47", "https://blog.example.com/", &t);
    assert_int_equal(t.kind, MKT_TOUCH_EXTERNAL);
    assert_smc(&t, "", "", "w47", "unassigned");
    assert_tf(&t, REFERRER, "");
}


static void
test_channel_code_gives_source_medium_and_campaign(void **state)
{
    mkt_touch_t  t;

    touch_of("ch=xhs01", "", &t);
    assert_int_equal(t.kind, MKT_TOUCH_EXTERNAL);
    assert_smc(&t, "xiaohongshu", "social", "w47", "organic_social");

    touch_of("ch=xhs01&utm_campaign=w48", "", &t);
    assert_smc(&t, "xiaohongshu", "social", "w48", "organic_social");

    touch_of("ch=xhs01&utm_source=weibo&utm_medium=cpc", "", &t);
    assert_smc(&t, "weibo", "cpc", "w47", "paid_social");

    /* an unknown code is no campaign */
    touch_of("ch=nope", "", &t);
    assert_int_equal(t.kind, MKT_TOUCH_DIRECT);
}


static void
test_click_ids_make_paid_touches(void **state)
{
    mkt_touch_t  t;

    touch_of("gclid=Cj0KCQ", "", &t);
    assert_smc(&t, "google", "cpc", "", "paid_search");
    assert_tf(&t, CLICK_NAME, "gclid");
    assert_tf(&t, CLICK_ID, "Cj0KCQ");

    touch_of("fbclid=IwAR", "https://l.facebook.com/", &t);
    assert_smc(&t, "facebook", "cpc", "", "paid_social");

    touch_of("bd_vid=123", "https://m.baidu.com/", &t);
    assert_smc(&t, "baidu", "cpc", "", "paid_search");
    assert_tf(&t, CLICK_NAME, "bd_vid");

    touch_of("bd_vid=123", "", &t);
    assert_smc(&t, "", "cpc", "", "paid_other");

    /* tagged links keep their tags; a search click id stays paid search,
     * a social one (on organic posts too) follows the tags */
    touch_of("gclid=1&utm_source=newsletter&utm_medium=email", "", &t);
    assert_smc(&t, "newsletter", "email", "", "paid_search");
    touch_of("fbclid=1&utm_source=facebook&utm_medium=social", "", &t);
    assert_smc(&t, "facebook", "social", "", "organic_social");
    assert_tf(&t, CLICK_NAME, "fbclid");
}


static void
test_referrers_alone_make_organic_touches(void **state)
{
    mkt_touch_t  t;

    touch_of("", "https://m.weibo.cn/status/1", &t);
    assert_int_equal(t.kind, MKT_TOUCH_EXTERNAL);
    assert_smc(&t, "weibo", "social", "", "organic_social");
    assert_tf(&t, REFERRER, "m.weibo.cn");

    touch_of("", "https://www.google.co.uk/", &t);
    assert_smc(&t, "google", "organic", "", "organic_search");

    touch_of("", "https://www.bilibili.com/video/1", &t);
    assert_smc(&t, "bilibili", "social", "", "organic_video");

    touch_of("", "https://mail.qq.com/", &t);
    assert_smc(&t, "qqmail", "email", "", "email");

    touch_of("", "https://news.ycombinator.com/item", &t);
    assert_smc(&t, "news.ycombinator.com", "referral", "", "referral");

    /* what the referrer is decides, not what its host spells: an
     * intranet host "fb" is no facebook */
    touch_of("", "http://fb/wiki", &t);
    assert_smc(&t, "fb", "referral", "", "referral");
}


static void
test_direct_and_internal_requests_are_not_touches(void **state)
{
    mkt_touch_t  t;

    touch_of("q=shoes", "", &t);
    assert_int_equal(t.kind, MKT_TOUCH_DIRECT);
    assert_smc(&t, "(direct)", "(none)", "", "direct");
    assert_tf(&t, REFERRER, "");

    touch_of("", "about:blank", &t);
    assert_int_equal(t.kind, MKT_TOUCH_DIRECT);

    touch_of("utm_source=", "https://shop.example.com/cart", &t);
    assert_int_equal(t.kind, MKT_TOUCH_INTERNAL);
    assert_smc(&t, "", "", "", "direct");
}


/* --- cookie decisions and the visit's channel ---------------------------- */

static void
test_plan_writes_first_touch_once_and_last_touch_on_every_touch(void **s)
{
    mkt_touch_t  t;

    t.kind = MKT_TOUCH_EXTERNAL;
    assert_int_equal(mkt_touch_plan(&t, 0),
                     MKT_TOUCH_SET_FT | MKT_TOUCH_SET_LT);
    assert_int_equal(mkt_touch_plan(&t, 1), MKT_TOUCH_SET_LT);
    t.kind = MKT_TOUCH_DIRECT;
    assert_int_equal(mkt_touch_plan(&t, 0), MKT_TOUCH_SET_FT);
    assert_int_equal(mkt_touch_plan(&t, 1), 0);
    t.kind = MKT_TOUCH_INTERNAL;
    assert_int_equal(mkt_touch_plan(&t, 0), 0);
    assert_int_equal(mkt_touch_plan(&t, 1), 0);
}


static void
test_visit_channel_is_the_last_non_direct_touch(void **state)
{
    mkt_touch_t  req, lt;

    touch_of("", "https://www.baidu.com/", &req);
    lt.channel = MKT_CHANNEL_PAID_SOCIAL;
    assert_int_equal(mkt_touch_visit_channel(&req, &lt),
                     MKT_CHANNEL_ORGANIC_SEARCH);

    touch_of("", "", &req);
    assert_int_equal(mkt_touch_visit_channel(&req, &lt),
                     MKT_CHANNEL_PAID_SOCIAL);
    assert_int_equal(mkt_touch_visit_channel(&req, NULL),
                     MKT_CHANNEL_DIRECT);

    touch_of("", "https://example.com/", &req);
    assert_int_equal(mkt_touch_visit_channel(&req, &lt),
                     MKT_CHANNEL_PAID_SOCIAL);
    assert_int_equal(mkt_touch_visit_channel(&req, NULL),
                     MKT_CHANNEL_DIRECT);
}


/* --- the cookie codec ----------------------------------------------------- */

static void
test_encode_writes_the_known_value(void **state)
{
    char         out[MKT_TOUCH_COOKIE_MAX];
    size_t       n;
    mkt_touch_t  t;

    make_touch(&t, "xiaohongshu", "social", "w47");
    set_field(&t, MKT_TF_REFERRER, S("www.xiaohongshu.com"));
    n = mkt_touch_encode(key, &t, out);
    assert_int_equal(n, strlen(XHS));
    assert_memory_equal(out, XHS, n);

    n = mkt_touch_encode(NULL, &t, out);
    assert_int_equal(n, strlen(XHS_BODY));
    assert_memory_equal(out, XHS_BODY, n);
}


static void
test_decode_reads_the_known_values(void **state)
{
    mkt_touch_t  t;

    assert_int_equal(mkt_touch_decode(key, S(XHS), NOW, &t), MKT_COOKIE_OK);
    assert_int_equal(t.kind, MKT_TOUCH_EXTERNAL);
    assert_int_equal(t.time, TIME);
    assert_smc(&t, "xiaohongshu", "social", "w47", "organic_social");
    assert_tf(&t, REFERRER, "www.xiaohongshu.com");
    assert_tf(&t, CLICK_NAME, "");

    assert_int_equal(mkt_touch_decode(key, S(GCLID), NOW, &t),
                     MKT_COOKIE_OK);
    assert_smc(&t, "google", "cpc", "\xe5\x8f\x8c" "11", "paid_search");
    assert_tf(&t, CLICK_NAME, "gclid");
    assert_tf(&t, CLICK_ID, "Cj0KCQ");
}


static void
test_round_trip_of_a_request_touch(void **state)
{
    char         out[MKT_TOUCH_COOKIE_MAX];
    size_t       n, i;
    mkt_touch_t  t, back;

    touch_of("utm_source=%E5%B0%8F%E7%BA%A2%E4%B9%A6&utm_medium=kol"
             "&utm_campaign=Double+11&utm_term=a&utm_content=b&ttclid=E.C.P",
             "https://www.xiaohongshu.com/", &t);
    n = mkt_touch_encode(key, &t, out);
    assert_true(n > 0 && n <= MKT_TOUCH_COOKIE_MAX);
    for (i = 0; i < n; i++) {
        assert_non_null(strchr("abcdefghijklmnopqrstuvwxyz"
                               "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
                               out[i]));
    }
    assert_int_equal(mkt_touch_decode(key, out, n, NOW, &back),
                     MKT_COOKIE_OK);
    t.time = NOW;
    assert_true(touches_equal(&t, &back));

    touch_of("", "", &t);
    n = mkt_touch_encode(key, &t, out);
    assert_int_equal(mkt_touch_decode(key, out, n, NOW, &back),
                     MKT_COOKIE_OK);
    assert_int_equal(back.kind, MKT_TOUCH_DIRECT);
    assert_true(touches_equal(&t, &back));
}


static void
test_signatures_are_required_with_a_key_only(void **state)
{
    mkt_touch_t  t;
    char         bad[] = XHS;

    assert_int_equal(mkt_touch_decode(key, S(XHS_BODY), NOW, &t),
                     MKT_COOKIE_UNSIGNED);
    assert_int_equal(mkt_touch_decode(NULL, S(XHS_BODY), NOW, &t),
                     MKT_COOKIE_OK);
    assert_int_equal(mkt_touch_decode(NULL, S(XHS), NOW, &t),
                     MKT_COOKIE_OK);

    bad[sizeof(bad) - 2] = bad[sizeof(bad) - 2] == 'A' ? 'B' : 'A';
    assert_int_equal(mkt_touch_decode(key, bad, strlen(bad), NOW, &t),
                     MKT_COOKIE_BAD_SIGNATURE);

    /* the channel is signed too */
    memcpy(bad, XHS, sizeof(bad));
    bad[10] = 'b';
    assert_int_equal(mkt_touch_decode(key, bad, strlen(bad), NOW, &t),
                     MKT_COOKIE_BAD_SIGNATURE);
}


/* what the module does when a rule reads ft.*: the value checked when
 * the request came in is decoded without a second HMAC */
static void
test_decode_checked_reads_what_the_check_passed(void **state)
{
    char           bad[] = XHS;
    mkt_touch_t    t, back;
    mkt_channel_e  channel;

    assert_int_equal(mkt_touch_check(key, S(XHS), NOW, &channel),
                     MKT_COOKIE_OK);
    assert_int_equal(mkt_touch_decode(key, S(XHS), NOW, &t), MKT_COOKIE_OK);
    memset(&back, 0xa5, sizeof(back));
    assert_int_equal(mkt_touch_decode_checked(S(XHS), &back),
                     MKT_COOKIE_OK);
    assert_true(touches_equal(&t, &back));
    assert_int_equal(back.time, TIME);
    assert_int_equal(back.kind, MKT_TOUCH_EXTERNAL);
    assert_smc(&back, "xiaohongshu", "social", "w47", "organic_social");

    /* the fields are still validated; the signature is not read: that is
     * the check's job, which this value fails */
    bad[sizeof(bad) - 2] = bad[sizeof(bad) - 2] == 'A' ? 'B' : 'A';
    assert_int_equal(mkt_touch_check(key, bad, strlen(bad), NOW, &channel),
                     MKT_COOKIE_BAD_SIGNATURE);
    assert_int_equal(mkt_touch_decode_checked(bad, strlen(bad), &back),
                     MKT_COOKIE_OK);
    assert_int_equal(mkt_touch_decode_checked("1.x", 3, &back),
                     MKT_COOKIE_MALFORMED);
}


static void
test_future_times_are_refused(void **state)
{
    mkt_touch_t  t;

    assert_int_equal(mkt_touch_decode(key, S(XHS),
                                      TIME - MKT_COOKIE_SKEW - 1, &t),
                     MKT_COOKIE_FUTURE);
    assert_int_equal(mkt_touch_decode(key, S(XHS), TIME - MKT_COOKIE_SKEW,
                                      &t),
                     MKT_COOKIE_OK);
}


/* mkt_touch_present(): the frame and the time, not the signature (a
 * direct visit's question: is there a first touch?) */
static void
test_present_reads_the_frame_and_time_only(void **state)
{
    char  bad[] = XHS;

    assert_int_equal(mkt_touch_present(S(XHS), NOW), MKT_COOKIE_OK);
    assert_int_equal(mkt_touch_present(S(XHS_BODY), NOW), MKT_COOKIE_OK);
    bad[sizeof(bad) - 2] = bad[sizeof(bad) - 2] == 'A' ? 'B' : 'A';
    assert_int_equal(mkt_touch_present(bad, strlen(bad), NOW), MKT_COOKIE_OK);
    assert_int_equal(mkt_touch_present(S(XHS), TIME - MKT_COOKIE_SKEW - 1),
                     MKT_COOKIE_FUTURE);
    assert_int_equal(mkt_touch_present(S(XHS), TIME - MKT_COOKIE_SKEW),
                     MKT_COOKIE_OK);
    assert_int_equal(mkt_touch_present("t1.garbage", 10, NOW),
                     MKT_COOKIE_MALFORMED);
    assert_int_equal(mkt_touch_present("", 0, NOW), MKT_COOKIE_MALFORMED);
}


/* what a direct visit writes over a first touch that turns out bad */
static void
test_direct_touch_is_what_a_direct_visit_writes(void **state)
{
    char         out[MKT_TOUCH_COOKIE_MAX];
    size_t       n;
    mkt_touch_t  t, visit, back;

    mkt_touch_direct(NOW, &t);
    assert_int_equal(t.kind, MKT_TOUCH_DIRECT);
    assert_int_equal(t.channel, MKT_CHANNEL_DIRECT);
    assert_int_equal(t.time, NOW);
    assert_smc(&t, "(direct)", "(none)", "", "direct");

    touch_of("", "", &visit);
    visit.time = NOW;
    assert_true(touches_equal(&t, &visit));

    n = mkt_touch_encode(key, &t, out);
    assert_true(n > 0);
    assert_int_equal(mkt_touch_decode(key, out, n, NOW, &back), MKT_COOKIE_OK);
    assert_true(touches_equal(&t, &back));
}


/* mkt_touch_check(): the frame, time and signature of decode, and the
 * channel, without reading DATA. */
static void
test_check_answers_as_decode_without_the_fields(void **state)
{
    char           bad[] = XHS, v[MKT_TOUCH_COOKIE_MAX];
    size_t         n;
    mkt_touch_t    t;
    mkt_channel_e  ch;

    ch = MKT_CHANNEL_COUNT;
    assert_int_equal(mkt_touch_check(key, S(XHS), NOW, &ch), MKT_COOKIE_OK);
    assert_int_equal(ch, MKT_CHANNEL_ORGANIC_SOCIAL);
    assert_int_equal(mkt_touch_check(key, S(GCLID), NOW, &ch),
                     MKT_COOKIE_OK);
    assert_int_equal(ch, MKT_CHANNEL_PAID_SEARCH);

    assert_int_equal(mkt_touch_check(key, S(XHS_BODY), NOW, &ch),
                     MKT_COOKIE_UNSIGNED);
    assert_int_equal(mkt_touch_check(key, S(XHS), TIME - MKT_COOKIE_SKEW - 1,
                                     &ch),
                     MKT_COOKIE_FUTURE);
    bad[sizeof(bad) - 2] = bad[sizeof(bad) - 2] == 'A' ? 'B' : 'A';
    assert_int_equal(mkt_touch_check(key, bad, strlen(bad), NOW, &ch),
                     MKT_COOKIE_BAD_SIGNATURE);
    memcpy(bad, XHS, sizeof(bad));
    bad[10] = 'b';
    assert_int_equal(mkt_touch_check(key, bad, strlen(bad), NOW, &ch),
                     MKT_COOKIE_BAD_SIGNATURE);
    assert_int_equal(mkt_touch_check(key, S("t1.toy89t.z.e30"), NOW, &ch),
                     MKT_COOKIE_MALFORMED);
    assert_int_equal(mkt_touch_check(key, S("t2.toy89t.h.e30"), NOW, &ch),
                     MKT_COOKIE_MALFORMED);

    /* DATA that the key signed but the encoder never wrote: only decode
     * reads it */
    n = strlen("t1.toy89t.h.e30");
    memcpy(v, "t1.toy89t.h.e30", n);
    n = mkt_cookie_sign(key, v, n);
    assert_true(n > 0);
    assert_int_equal(mkt_touch_check(key, v, n, NOW, &ch), MKT_COOKIE_OK);
    assert_int_equal(mkt_touch_decode(key, v, n, NOW, &t),
                     MKT_COOKIE_MALFORMED);
}


/* DATA of the given raw bytes, with a prefix and no signature */
static mkt_cookie_status_e
decode_data(const char *prefix, const char *raw, size_t len)
{
    char         v[MKT_TOUCH_COOKIE_MAX * 2];
    size_t       n;
    mkt_touch_t  t;

    n = strlen(prefix);
    memcpy(v, prefix, n);
    n += mkt_b64url_encode(v + n, (const unsigned char *) raw, len);
    return mkt_touch_decode(NULL, v, n, NOW, &t);
}

#define EMPTY7  "\x1f\x1f\x1f\x1f\x1f\x1f\x1f"


static void
test_decode_is_strict(void **state)
{
    static const char *const  bad[] = {
        "", "t1.", "t2.toy89t.h.Hx8fHx8fHw", "t1.0.h.Hx8fHx8fHw",
        "t1.0toy89t.h.Hx8fHx8fHw", "t1.toy89tabc.h.Hx8fHx8fHw",
        "t1.TOY89T.h.Hx8fHx8fHw", "t1.toy89t.q.Hx8fHx8fHw",
        "t1.toy89t.H.Hx8fHx8fHw", "t1.toy89t..Hx8fHx8fHw",
        "t1.toy89t.h", "t1.toy89t.h.", "t1.toy89t.h.Hx8fHx8fHw=",
        "t1.toy89t.h.Hx8fHx8fHx", "t1.toy89t.h.Hx8f+x8fHw",
        "t1.toy89t.h.Hx8fHx8fHw.", "t1.toy89t.h.Hx8fHx8fHw.short",
        "t1.toy89t.h.Hx8fHx8fHw.od5EQi40wD2CnKb!"
    };
    size_t                    i;
    mkt_touch_t               t;

    /* the smallest valid value: eight empty fields */
    assert_int_equal(mkt_touch_decode(NULL, S("t1.toy89t.h.Hx8fHx8fHw"), NOW,
                                      &t),
                     MKT_COOKIE_OK);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (mkt_touch_decode(NULL, bad[i], strlen(bad[i]), NOW, &t)
            != MKT_COOKIE_MALFORMED)
        {
            fail_msg("\"%s\" was not malformed", bad[i]);
        }
    }

    assert_int_equal(decode_data("t1.1.a.", S(EMPTY7)), MKT_COOKIE_OK);
    assert_int_equal(decode_data("t1.1.a.", S("\x1f\x1f\x1f\x1f\x1f\x1f")),
                     MKT_COOKIE_MALFORMED);
    assert_int_equal(decode_data("t1.1.a.", S(EMPTY7 "\x1f")),
                     MKT_COOKIE_MALFORMED);
    assert_int_equal(decode_data("t1.1.a.", S("a\x01" EMPTY7)),
                     MKT_COOKIE_MALFORMED);
    assert_int_equal(decode_data("t1.1.a.", S("\xff" EMPTY7)),
                     MKT_COOKIE_MALFORMED);
    assert_int_equal(decode_data("t1.1.a.",
                                 S("\x1f\x1f\x1f\x1f\x1f\x1f" "id\x1f")),
                     MKT_COOKIE_MALFORMED);
    assert_int_equal(decode_data("t1.1.a.",
                                 S("\x1f\x1f\x1f\x1f\x1fg clid\x1f\x1f")),
                     MKT_COOKIE_MALFORMED);
    assert_int_equal(decode_data("t1.1.a.", S(EMPTY7 "WWW.X.COM")),
                     MKT_COOKIE_MALFORMED);
    assert_int_equal(decode_data("t1.1.a.", S(EMPTY7 "x.com:80")),
                     MKT_COOKIE_MALFORMED);
    assert_int_equal(decode_data("t1.1.a.", S(EMPTY7 "[::1]")),
                     MKT_COOKIE_OK);
}


static void
test_oversized_values_and_data_are_refused(void **state)
{
    char         v[MKT_TOUCH_COOKIE_MAX + 2], raw[MKT_TOUCH_DATA_MAX + 1];
    mkt_touch_t  t;

    memset(v, 'a', sizeof(v));
    assert_int_equal(mkt_touch_decode(NULL, v, MKT_TOUCH_COOKIE_MAX + 1,
                                      NOW, &t),
                     MKT_COOKIE_OVERSIZED);

    /* 128 + 128 + 13 bytes of text and 7 separators fill the data; one
     * byte more is refused, though the value would fit */
    memset(raw, 'a', sizeof(raw));
    raw[128] = '\x1f';
    raw[257] = '\x1f';
    memcpy(raw + 271, EMPTY7, 5);
    assert_int_equal(decode_data("t1.1.a.", raw, MKT_TOUCH_DATA_MAX),
                     MKT_COOKIE_OK);
    assert_int_equal(decode_data("t1.1.a.", raw, MKT_TOUCH_DATA_MAX + 1),
                     MKT_COOKIE_MALFORMED);
}


static void
test_long_fields_are_dropped_and_cut_in_order(void **state)
{
    char         out[MKT_TOUCH_COOKIE_MAX], again[MKT_TOUCH_COOKIE_MAX];
    char         big[MKT_CLICK_ID_MAX];
    size_t       n, i;
    mkt_touch_t  t, back;

    memset(big, 'v', sizeof(big));

    /* just over: only the referrer goes */
    make_touch(&t, "s", "m", "c");
    set_field(&t, MKT_TF_TERM, big, 128);
    set_field(&t, MKT_TF_CONTENT, big, 128);
    set_field(&t, MKT_TF_REFERRER, S("www.example.org"));
    assert_true(mkt_touch_encode(key, &t, out) > 0);
    n = mkt_touch_encode(key, &t, out);
    assert_int_equal(mkt_touch_decode(key, out, n, NOW, &back),
                     MKT_COOKIE_OK);
    assert_int_equal(back.len[MKT_TF_REFERRER], 0);
    assert_int_equal(back.len[MKT_TF_TERM], 128);
    assert_int_equal(back.len[MKT_TF_CONTENT], 128);

    /* everything full: referrer, content, term and the click id go, then
     * campaign is cut to 64 and medium as far as needed */
    make_touch(&t, "", "", "");
    for (i = MKT_TF_SOURCE; i <= MKT_TF_CONTENT; i++) {
        set_field(&t, (mkt_touch_field_e) i, big, MKT_UTM_VALUE_MAX);
    }
    set_field(&t, MKT_TF_CLICK_NAME, S("gclid"));
    set_field(&t, MKT_TF_CLICK_ID, big, MKT_CLICK_ID_MAX);
    memset(big, 'a', 60);
    memcpy(big + 60, ".example.com", 12);
    set_field(&t, MKT_TF_REFERRER, big, 72);

    n = mkt_touch_encode(key, &t, out);
    assert_true(n > 0 && n <= MKT_TOUCH_COOKIE_MAX);
    assert_int_equal(mkt_touch_decode(key, out, n, NOW, &back),
                     MKT_COOKIE_OK);
    assert_int_equal(back.len[MKT_TF_SOURCE], 128);
    assert_int_equal(back.len[MKT_TF_MEDIUM], 276 - 7 - 128 - 64 - 5);
    assert_int_equal(back.len[MKT_TF_CAMPAIGN], 64);
    assert_int_equal(back.len[MKT_TF_TERM] + back.len[MKT_TF_CONTENT]
                     + back.len[MKT_TF_CLICK_ID] + back.len[MKT_TF_REFERRER],
                     0);
    assert_tf(&back, CLICK_NAME, "gclid");

    /* re-encoding what was decoded changes nothing */
    assert_int_equal(mkt_touch_encode(key, &back, again), n);
    assert_memory_equal(again, out, n);
}


static void
test_cuts_fall_on_character_boundaries(void **state)
{
    char         out[MKT_TOUCH_COOKIE_MAX], s[130];
    size_t       n, i;
    mkt_touch_t  t, back;

    for (i = 0; i + 3 <= 126; i += 3) {
        memcpy(s + i, "\xe4\xb8\xad", 3);
    }
    make_touch(&t, "", "", "");
    set_field(&t, MKT_TF_SOURCE, s, 126);
    set_field(&t, MKT_TF_MEDIUM, s, 126);
    set_field(&t, MKT_TF_CAMPAIGN, s, 126);

    n = mkt_touch_encode(NULL, &t, out);
    assert_int_equal(mkt_touch_decode(NULL, out, n, NOW, &back),
                     MKT_COOKIE_OK);
    /* campaign: 64 bytes would split a character, so 63 */
    assert_int_equal(back.len[MKT_TF_CAMPAIGN], 63);
    assert_int_equal(back.len[MKT_TF_SOURCE], 126);
    assert_int_equal(back.len[MKT_TF_MEDIUM] % 3, 0);
    assert_true(back.len[MKT_TF_MEDIUM] <= 276 - 7 - 126 - 63);
}


static void
test_encode_refuses_what_decode_would_reject(void **state)
{
    char         out[MKT_TOUCH_COOKIE_MAX];
    mkt_touch_t  t;

    make_touch(&t, "s", "m", "c");
    t.time = 0;
    assert_int_equal(mkt_touch_encode(key, &t, out), 0);
    t.time = INT64_C(2821109907456);
    assert_int_equal(mkt_touch_encode(key, &t, out), 0);
    t.time = INT64_C(2821109907455);
    assert_true(mkt_touch_encode(key, &t, out) > 0);

    make_touch(&t, "s", "m", "c");
    t.channel = MKT_CHANNEL_COUNT;
    assert_int_equal(mkt_touch_encode(key, &t, out), 0);

    make_touch(&t, "s\x01", "m", "c");
    assert_int_equal(mkt_touch_encode(key, &t, out), 0);
    make_touch(&t, "s\xc3", "m", "c");
    assert_int_equal(mkt_touch_encode(key, &t, out), 0);

    make_touch(&t, "s", "m", "c");
    set_field(&t, MKT_TF_CLICK_ID, S("123"));
    assert_int_equal(mkt_touch_encode(key, &t, out), 0);
    set_field(&t, MKT_TF_CLICK_NAME, S("bd vid"));
    assert_int_equal(mkt_touch_encode(key, &t, out), 0);

    make_touch(&t, "s", "m", "c");
    set_field(&t, MKT_TF_REFERRER, S("Example.com"));
    assert_int_equal(mkt_touch_encode(key, &t, out), 0);

    make_touch(&t, "s", "m", "c");
    t.len[MKT_TF_SOURCE] = MKT_UTM_VALUE_MAX + 1;
    assert_int_equal(mkt_touch_encode(key, &t, out), 0);
}


static void
test_field_names_and_bad_fields(void **state)
{
    mkt_touch_t  t;

    assert_string_equal(mkt_touch_field_name(MKT_TF_SOURCE), "source");
    assert_string_equal(mkt_touch_field_name(MKT_TF_CLICK_ID), "click_id");
    assert_string_equal(mkt_touch_field_name(MKT_TF_REFERRER), "referrer");
    assert_string_equal(mkt_touch_field_name(MKT_TF_FIELDS), "");
    make_touch(&t, "s", "m", "c");
    assert_int_equal(mkt_touch_get(&t, MKT_TF_FIELDS).len, 0);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_utm_parameters_make_the_touch),
        cmocka_unit_test(test_utm_campaign_alone_keeps_the_referrer_as_source),
        cmocka_unit_test(test_channel_code_gives_source_medium_and_campaign),
        cmocka_unit_test(test_click_ids_make_paid_touches),
        cmocka_unit_test(test_referrers_alone_make_organic_touches),
        cmocka_unit_test(test_direct_and_internal_requests_are_not_touches),
        cmocka_unit_test(
            test_plan_writes_first_touch_once_and_last_touch_on_every_touch),
        cmocka_unit_test(test_visit_channel_is_the_last_non_direct_touch),
        cmocka_unit_test(test_encode_writes_the_known_value),
        cmocka_unit_test(test_decode_reads_the_known_values),
        cmocka_unit_test(test_round_trip_of_a_request_touch),
        cmocka_unit_test(test_signatures_are_required_with_a_key_only),
        cmocka_unit_test(test_future_times_are_refused),
        cmocka_unit_test(test_check_answers_as_decode_without_the_fields),
        cmocka_unit_test(test_decode_is_strict),
        cmocka_unit_test(test_oversized_values_and_data_are_refused),
        cmocka_unit_test(test_long_fields_are_dropped_and_cut_in_order),
        cmocka_unit_test(test_cuts_fall_on_character_boundaries),
        cmocka_unit_test(test_encode_refuses_what_decode_would_reject),
        cmocka_unit_test(test_field_names_and_bad_fields),
        cmocka_unit_test(test_decode_checked_reads_what_the_check_passed),
        cmocka_unit_test(test_present_reads_the_frame_and_time_only),
        cmocka_unit_test(test_direct_touch_is_what_a_direct_visit_writes),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
