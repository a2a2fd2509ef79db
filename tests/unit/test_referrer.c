/* Unit tests of src/referrer.c: the host of a Referer, same-site
 * detection, the built-in search/social/email tables, the config's lists,
 * Android app referrers and source-name flags. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "config_fixture.h"
#include "referrer.h"

#define S(lit)  lit, sizeof(lit) - 1

static const mkt_referrers_t  *refs;


static int
setup(void **state)
{
    int  rc;

    rc = load_fixture(
        "{\"referrers\": {\"same_site\": [\"example.cn\", \"com.example.app\"],"
        " \"search\": [\"search.example.net\"],"
        " \"social\": [\"my-community.cn\", \"douyin.com\"]}}");
    refs = cfg ? mkt_config_referrers(cfg) : NULL;
    return rc;
}


/* The referrer classifies as cls with this source and host, for a request
 * to www.example.com with the config's lists or without (no_refs). */
static void
check(int no_refs, const char *referer, mkt_ref_class_e cls,
    const char *source, const char *host, int line)
{
    mkt_referrer_t  r;

    mkt_referrer_classify(no_refs ? NULL : refs, referer, strlen(referer),
                          S("www.example.com"), &r);
    if (r.cls != cls || r.source_len != strlen(source)
        || memcmp(r.source, source, r.source_len) != 0
        || r.host_len != strlen(host) || memcmp(r.host, host, r.host_len))
    {
        fail_msg("line %d: \"%s\" is %s \"%.*s\" from \"%.*s\", expected "
                 "%s \"%s\" from \"%s\"", line, referer,
                 mkt_ref_class_name(r.cls), (int) r.source_len, r.source,
                 (int) r.host_len, r.host, mkt_ref_class_name(cls), source,
                 host);
    }
}

#define assert_ref(referer, cls, source, host)                               \
    check(1, referer, MKT_REF_##cls, source, host, __LINE__)
#define assert_ref_cfg(referer, cls, source, host)                           \
    check(0, referer, MKT_REF_##cls, source, host, __LINE__)


static void
test_no_referer_is_none(void **state)
{
    mkt_referrer_t  r;

    mkt_referrer_classify(refs, NULL, 0, S("www.example.com"), &r);
    assert_int_equal(r.cls, MKT_REF_NONE);
    assert_int_equal(r.host_len + r.source_len + r.flags, 0);
}


static void
test_what_is_not_a_web_or_app_url_is_invalid(void **state)
{
    static const char *const  bad[] = {
        "about:blank", "file:///etc/passwd", "www.baidu.com/s?wd=x",
        "http:/x.com", "http://", "http:///path", "https://a b/",
        "https://\xe4\xbe\x8b.cn/", "javascript:alert(1)", "ftp://x.com/",
        "http://x.com:80a/", "http://a..b/", "//x.com/", "https",
        "chrome-extension://abc/"
    };
    size_t                    i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_ref(bad[i], INVALID, "", "");
    }
}


static void
test_host_is_taken_past_scheme_userinfo_and_port(void **state)
{
    assert_ref("HTTPS://User:Pw@WWW.Baidu.COM:443/s?wd=x#f", SEARCH,
               "baidu", "www.baidu.com");
    assert_ref("http://a@b@m.baidu.com./", SEARCH, "baidu", "m.baidu.com");
    assert_ref("https://weibo.com?x=http://t.co/", SOCIAL, "weibo",
               "weibo.com");
    assert_ref("https://weibo.com#@t.co", SOCIAL, "weibo", "weibo.com");
    assert_ref("http://[2001:DB8::1]:8080/x", REFERRAL, "[2001:db8::1]",
               "[2001:db8::1]");
    assert_ref("http://10.0.0.1/", REFERRAL, "10.0.0.1", "10.0.0.1");
}


static void
test_search_engines(void **state)
{
    assert_ref("https://www.baidu.com/link?url=x", SEARCH, "baidu",
               "www.baidu.com");
    assert_ref("https://m.sogou.com/", SEARCH, "sogou", "m.sogou.com");
    assert_ref("https://www.so.com/s?q=1", SEARCH, "360", "www.so.com");
    assert_ref("https://m.sm.cn/s?q=1", SEARCH, "shenma", "m.sm.cn");
    assert_ref("https://cn.bing.com/", SEARCH, "bing", "cn.bing.com");
    assert_ref("https://www.google.com/", SEARCH, "google", "www.google.com");
    assert_ref("https://www.google.co.uk/", SEARCH, "google",
               "www.google.co.uk");
    assert_ref("https://www.google.com.hk/", SEARCH, "google",
               "www.google.com.hk");
    assert_ref("https://google.de/", SEARCH, "google", "google.de");
    assert_ref("https://yandex.ru/search/", SEARCH, "yandex", "yandex.ru");
    assert_ref("https://ya.ru/", SEARCH, "yandex", "ya.ru");
    assert_ref("https://duckduckgo.com/", SEARCH, "duckduckgo",
               "duckduckgo.com");
    assert_ref("https://search.naver.com/", SEARCH, "naver",
               "search.naver.com");
    assert_ref("https://search.yahoo.co.jp/", SEARCH, "yahoo",
               "search.yahoo.co.jp");
    assert_ref("https://tw.search.yahoo.com/", SEARCH, "yahoo",
               "tw.search.yahoo.com");
}


static void
test_social_networks(void **state)
{
    assert_ref("https://weibo.com/u/1", SOCIAL, "weibo", "weibo.com");
    assert_ref("https://m.weibo.cn/", SOCIAL, "weibo", "m.weibo.cn");
    assert_ref("https://www.douyin.com/", SOCIAL, "douyin", "www.douyin.com");
    assert_ref("https://www.xiaohongshu.com/explore", SOCIAL, "xiaohongshu",
               "www.xiaohongshu.com");
    assert_ref("http://xhslink.com/a", SOCIAL, "xiaohongshu", "xhslink.com");
    assert_ref("https://zhuanlan.zhihu.com/p/1", SOCIAL, "zhihu",
               "zhuanlan.zhihu.com");
    assert_ref("https://www.bilibili.com/", SOCIAL, "bilibili",
               "www.bilibili.com");
    assert_ref("https://mp.weixin.qq.com/s/x", SOCIAL, "wechat",
               "mp.weixin.qq.com");
    /* a WeChat mini-program's pages, Toutiao's feed and its search */
    assert_ref("https://servicewechat.com/wx1234567890abcdef/3/page-frame.html",
               SOCIAL, "wechat", "servicewechat.com");
    assert_ref("https://m.toutiao.com/article/1/", SOCIAL, "toutiao",
               "m.toutiao.com");
    assert_ref("https://so.toutiao.com/search?keyword=x", SEARCH, "toutiao",
               "so.toutiao.com");
    assert_ref("https://user.qzone.qq.com/", SOCIAL, "qq",
               "user.qzone.qq.com");
    assert_ref("https://v.kuaishou.com/", SOCIAL, "kuaishou",
               "v.kuaishou.com");
    assert_ref("https://l.facebook.com/l.php", SOCIAL, "facebook",
               "l.facebook.com");
    assert_ref("https://www.instagram.com/", SOCIAL, "instagram",
               "www.instagram.com");
    assert_ref("https://t.co/abc", SOCIAL, "twitter", "t.co");
    assert_ref("https://x.com/", SOCIAL, "twitter", "x.com");
    assert_ref("https://mobile.twitter.com/", SOCIAL, "twitter",
               "mobile.twitter.com");
    assert_ref("https://www.linkedin.com/", SOCIAL, "linkedin",
               "www.linkedin.com");
    assert_ref("https://old.reddit.com/", SOCIAL, "reddit", "old.reddit.com");
    assert_ref("https://m.youtube.com/", SOCIAL, "youtube", "m.youtube.com");
    assert_ref("https://www.tiktok.com/", SOCIAL, "tiktok", "www.tiktok.com");
    assert_ref("https://www.pinterest.co.uk/", SOCIAL, "pinterest",
               "www.pinterest.co.uk");
    assert_ref("https://tieba.baidu.com/p/1", SOCIAL, "tieba",
               "tieba.baidu.com");
}


static void
test_webmail_is_email(void **state)
{
    assert_ref("https://mail.qq.com/cgi-bin/frame", EMAIL, "qqmail",
               "mail.qq.com");
    assert_ref("https://wx.mail.qq.com/", EMAIL, "qqmail", "wx.mail.qq.com");
    assert_ref("https://mail.google.com/mail/u/0/", EMAIL, "gmail",
               "mail.google.com");
    assert_ref("https://outlook.live.com/", EMAIL, "outlook",
               "outlook.live.com");
}


static void
test_names_match_whole_labels_never_substrings(void **state)
{
    assert_ref("https://notbaidu.com/", REFERRAL, "notbaidu.com",
               "notbaidu.com");
    assert_ref("https://baidu.com.evil.io/", REFERRAL, "baidu.com.evil.io",
               "baidu.com.evil.io");
    assert_ref("https://google.com.evil.io/", REFERRAL,
               "google.com.evil.io", "google.com.evil.io");
    assert_ref("https://mygoogle.com/", REFERRAL, "mygoogle.com",
               "mygoogle.com");
    assert_ref("https://xt.co/", REFERRAL, "xt.co", "xt.co");
    assert_ref("https://weixin.qq.com.cn/", REFERRAL, "weixin.qq.com.cn",
               "weixin.qq.com.cn");
    assert_ref("https://accounts.google.com/", REFERRAL,
               "accounts.google.com", "accounts.google.com");
    assert_ref("https://news.ycombinator.com/", REFERRAL,
               "news.ycombinator.com", "news.ycombinator.com");
}


static void
test_same_registrable_domain_is_the_same_site(void **state)
{
    mkt_referrer_t  r;

    assert_ref("https://blog.example.com/post", SAME_SITE, "",
               "blog.example.com");
    assert_ref("https://example.com/", SAME_SITE, "", "example.com");
    assert_ref("https://example.org/", REFERRAL, "example.org",
               "example.org");

    mkt_referrer_classify(NULL, S("https://www.example.co.uk/"),
                          S("Shop.Example.CO.UK:8443"), &r);
    assert_int_equal(r.cls, MKT_REF_SAME_SITE);
    mkt_referrer_classify(NULL, S("https://other.co.uk/"),
                          S("example.co.uk"), &r);
    assert_int_equal(r.cls, MKT_REF_REFERRAL);
    mkt_referrer_classify(NULL, S("https://a.github.io/"), S("b.github.io"),
                          &r);
    assert_int_equal(r.cls, MKT_REF_REFERRAL);
    mkt_referrer_classify(NULL, S("http://[::1]:1/"), S("[::1]:2"), &r);
    assert_int_equal(r.cls, MKT_REF_SAME_SITE);

    /* without a usable request host only the config decides */
    mkt_referrer_classify(NULL, S("https://example.com/"), NULL, 0, &r);
    assert_int_equal(r.cls, MKT_REF_REFERRAL);
    mkt_referrer_classify(NULL, S("https://example.com/"), S("a b"), &r);
    assert_int_equal(r.cls, MKT_REF_REFERRAL);
}


static void
test_config_lists_come_first(void **state)
{
    assert_ref_cfg("https://m.example.cn/", SAME_SITE, "", "m.example.cn");
    assert_ref_cfg("https://search.example.net/?q=1", SEARCH,
                   "search.example.net", "search.example.net");
    assert_ref_cfg("https://bbs.my-community.cn/t/1", SOCIAL,
                   "my-community.cn", "bbs.my-community.cn");
    /* douyin.com is social built in too: the config's name is recorded */
    assert_ref_cfg("https://www.douyin.com/", SOCIAL, "douyin.com",
                   "www.douyin.com");
    assert_ref_cfg("https://example.net/", REFERRAL, "example.net",
                   "example.net");
    assert_ref("https://m.example.cn/", REFERRAL, "m.example.cn",
               "m.example.cn");
}


static void
test_android_app_referrers(void **state)
{
    assert_ref("android-app://com.google.android.googlequicksearchbox/https/"
               "www.google.com", SEARCH, "google",
               "com.google.android.googlequicksearchbox");
    assert_ref("android-app://com.tencent.mm", SOCIAL, "wechat",
               "com.tencent.mm");
    assert_ref("android-app://com.xingin.xhs/", SOCIAL, "xiaohongshu",
               "com.xingin.xhs");
    assert_ref("android-app://com.google.android.gm/", EMAIL, "gmail",
               "com.google.android.gm");
    assert_ref("android-app://com.slack/", REFERRAL, "com.slack",
               "com.slack");
    assert_ref_cfg("android-app://com.example.app/", SAME_SITE, "",
                   "com.example.app");
}


static void
test_flags_of_referrers(void **state)
{
    mkt_referrer_t  r;

    mkt_referrer_classify(NULL, S("https://www.youtube.com/watch"), NULL, 0,
                          &r);
    assert_int_equal(r.flags, MKT_SRC_SOCIAL | MKT_SRC_VIDEO);
    mkt_referrer_classify(NULL, S("https://www.baidu.com/"), NULL, 0, &r);
    assert_int_equal(r.flags, MKT_SRC_SEARCH);
    mkt_referrer_classify(NULL, S("https://mail.qq.com/"), NULL, 0, &r);
    assert_int_equal(r.flags, MKT_SRC_EMAIL);
    mkt_referrer_classify(NULL, S("https://news.ycombinator.com/"), NULL, 0,
                          &r);
    assert_int_equal(r.flags, 0);
}


static void
test_source_flags_of_names_aliases_and_hosts(void **state)
{
    assert_int_equal(mkt_source_flags(NULL, S("baidu")), MKT_SRC_SEARCH);
    assert_int_equal(mkt_source_flags(NULL, S("Baidu")), MKT_SRC_SEARCH);
    assert_int_equal(mkt_source_flags(NULL, S("BAIDU.COM")), MKT_SRC_SEARCH);
    assert_int_equal(mkt_source_flags(NULL, S("google")), MKT_SRC_SEARCH);
    assert_int_equal(mkt_source_flags(NULL, S("google.co.uk")),
                     MKT_SRC_SEARCH);
    assert_int_equal(mkt_source_flags(NULL, S("360")), MKT_SRC_SEARCH);
    assert_int_equal(mkt_source_flags(NULL, S("xhs")), MKT_SRC_SOCIAL);
    assert_int_equal(mkt_source_flags(NULL, S("WeChat")), MKT_SRC_SOCIAL);
    assert_int_equal(mkt_source_flags(NULL, S("fb")), MKT_SRC_SOCIAL);
    assert_int_equal(mkt_source_flags(NULL, S("m.facebook.com")),
                     MKT_SRC_SOCIAL);
    assert_int_equal(mkt_source_flags(NULL, S("youtube")),
                     MKT_SRC_SOCIAL | MKT_SRC_VIDEO);
    assert_int_equal(mkt_source_flags(NULL, S("iqiyi")),
                     MKT_SRC_SOCIAL | MKT_SRC_VIDEO);
    assert_int_equal(mkt_source_flags(NULL, S("qqmail")), MKT_SRC_EMAIL);
    assert_int_equal(mkt_source_flags(NULL, S("newsletter")), 0);
    assert_int_equal(mkt_source_flags(NULL, S("notbaidu")), 0);
    assert_int_equal(mkt_source_flags(NULL, S("")), 0);
    assert_int_equal(mkt_source_flags(NULL, S("news letter")), 0);
    assert_int_equal(mkt_source_flags(NULL, S("my-community.cn")), 0);
    assert_int_equal(mkt_source_flags(refs, S("my-community.cn")),
                     MKT_SRC_SOCIAL);
    assert_int_equal(mkt_source_flags(refs, S("search.example.net")),
                     MKT_SRC_SEARCH);
}


static void
test_long_and_binary_referers_are_bounded(void **state)
{
    char            *buf;
    size_t           i, n;
    mkt_referrer_t   r;

    n = 1 << 20;
    buf = malloc(n);
    assert_non_null(buf);

    /* a long path after the host is fine */
    memcpy(buf, "https://www.zhihu.com/", 22);
    memset(buf + 22, 'a', n - 22);
    mkt_referrer_classify(NULL, buf, n, NULL, 0, &r);
    assert_int_equal(r.cls, MKT_REF_SOCIAL);

    /* an authority running past the bound is not trusted */
    memcpy(buf, "https://", 8);
    memset(buf + 8, 'u', MKT_REFERER_SCAN_MAX);
    memcpy(buf + 8 + MKT_REFERER_SCAN_MAX, "@www.zhihu.com/", 15);
    mkt_referrer_classify(NULL, buf, 8 + MKT_REFERER_SCAN_MAX + 15, NULL, 0,
                          &r);
    assert_int_equal(r.cls, MKT_REF_INVALID);

    for (i = 0; i < n; i++) {
        buf[i] = (char) (i * 7 + (i >> 9));
    }
    for (i = 0; i + 300 < n; i += 4099) {
        memcpy(buf + i, "http://", 7);
        mkt_referrer_classify(refs, buf + i, 300, buf + i + 7, 40, &r);
        assert_true(r.cls <= MKT_REF_REFERRAL);
        assert_true(r.host_len <= MKT_HOST_MAX);
        assert_true(r.source_len <= MKT_HOST_MAX);
    }
    free(buf);
}


static void
test_class_names(void **state)
{
    assert_string_equal(mkt_ref_class_name(MKT_REF_SAME_SITE), "same_site");
    assert_string_equal(mkt_ref_class_name(MKT_REF_REFERRAL), "referral");
    assert_string_equal(mkt_ref_class_name((mkt_ref_class_e) 99), "none");
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_no_referer_is_none),
        cmocka_unit_test(test_what_is_not_a_web_or_app_url_is_invalid),
        cmocka_unit_test(test_host_is_taken_past_scheme_userinfo_and_port),
        cmocka_unit_test(test_search_engines),
        cmocka_unit_test(test_social_networks),
        cmocka_unit_test(test_webmail_is_email),
        cmocka_unit_test(test_names_match_whole_labels_never_substrings),
        cmocka_unit_test(test_same_registrable_domain_is_the_same_site),
        cmocka_unit_test(test_config_lists_come_first),
        cmocka_unit_test(test_android_app_referrers),
        cmocka_unit_test(test_flags_of_referrers),
        cmocka_unit_test(test_source_flags_of_names_aliases_and_hosts),
        cmocka_unit_test(test_long_and_binary_referers_are_bounded),
        cmocka_unit_test(test_class_names),
    };

    return cmocka_run_group_tests(tests, setup, free_fixture);
}
