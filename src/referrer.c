/* Referrer classification: the host out of a Referer URL, then the same
 * site, the config's lists, the built-in tables below, or a referral.
 * The tables are small; each lookup is a scan of one of them for at most
 * a few candidate names (the host and its parents down to its site). */
#include <string.h>

#include "referrer.h"

typedef struct {
    const char     *name;           /* host, brand label, package, alias */
    const char     *source;         /* NULL: the host is the source */
    unsigned char   name_len;
    unsigned char   source_len;
    unsigned char   cls;            /* mkt_ref_class_e */
    unsigned char   video;
} site_t;

#define SITE(name, source, cls, video)                                        \
    { name, source, sizeof(name) - 1, sizeof(source) - 1, cls, video }

#define SEARCH(name, source)  SITE(name, source, MKT_REF_SEARCH, 0)
#define SOCIAL(name, source)  SITE(name, source, MKT_REF_SOCIAL, 0)
#define VIDEO(name, source)   SITE(name, source, MKT_REF_SOCIAL, 1)
#define EMAIL(name, source)   SITE(name, source, MKT_REF_EMAIL, 0)
#define PLAIN(name)           { name, NULL, sizeof(name) - 1, 0,             \
                                MKT_REF_REFERRAL, 0 }

#define NELTS(a)  (sizeof(a) / sizeof(a[0]))

/* By host: the host and its subdomains.  The most specific entry wins, so
 * an entry under another one (weixin.qq.com under qq.com) refines it. */
static const site_t  hosts[] = {
    SEARCH("baidu.com", "baidu"),
    SEARCH("sogou.com", "sogou"),
    SEARCH("so.com", "360"),
    SEARCH("sm.cn", "shenma"),
    SEARCH("so.toutiao.com", "toutiao"),
    SEARCH("duckduckgo.com", "duckduckgo"),
    SEARCH("naver.com", "naver"),
    SEARCH("ya.ru", "yandex"),
    SEARCH("ecosia.org", "ecosia"),
    SEARCH("search.brave.com", "brave"),
    SEARCH("qwant.com", "qwant"),

    SOCIAL("weibo.com", "weibo"),
    SOCIAL("weibo.cn", "weibo"),
    SOCIAL("t.cn", "weibo"),
    SOCIAL("douyin.com", "douyin"),
    SOCIAL("iesdouyin.com", "douyin"),
    SOCIAL("xiaohongshu.com", "xiaohongshu"),
    SOCIAL("xhslink.com", "xiaohongshu"),
    SOCIAL("zhihu.com", "zhihu"),
    VIDEO("bilibili.com", "bilibili"),
    VIDEO("b23.tv", "bilibili"),
    SOCIAL("weixin.qq.com", "wechat"),
    SOCIAL("wx.qq.com", "wechat"),
    SOCIAL("wechat.com", "wechat"),
    SOCIAL("servicewechat.com", "wechat"),      /* mini-programs */
    SOCIAL("toutiao.com", "toutiao"),
    SOCIAL("qq.com", "qq"),
    SOCIAL("kuaishou.com", "kuaishou"),
    SOCIAL("gifshow.com", "kuaishou"),
    SOCIAL("tieba.baidu.com", "tieba"),
    SOCIAL("douban.com", "douban"),
    SOCIAL("facebook.com", "facebook"),
    SOCIAL("fb.com", "facebook"),
    SOCIAL("fb.me", "facebook"),
    SOCIAL("instagram.com", "instagram"),
    SOCIAL("t.co", "twitter"),
    SOCIAL("x.com", "twitter"),
    SOCIAL("twitter.com", "twitter"),
    SOCIAL("linkedin.com", "linkedin"),
    SOCIAL("lnkd.in", "linkedin"),
    SOCIAL("reddit.com", "reddit"),
    SOCIAL("redd.it", "reddit"),
    VIDEO("youtube.com", "youtube"),
    VIDEO("youtu.be", "youtube"),
    SOCIAL("tiktok.com", "tiktok"),
    SOCIAL("threads.net", "threads"),
    SOCIAL("pin.it", "pinterest"),
    VIDEO("v.qq.com", "tencent_video"),
    VIDEO("youku.com", "youku"),
    VIDEO("iqiyi.com", "iqiyi"),
    VIDEO("ixigua.com", "xigua"),
    VIDEO("vimeo.com", "vimeo"),
    VIDEO("twitch.tv", "twitch"),

    EMAIL("mail.google.com", "gmail"),
    EMAIL("mail.qq.com", "qqmail"),
    EMAIL("exmail.qq.com", "qqmail"),
    EMAIL("mail.163.com", "netease_mail"),
    EMAIL("mail.126.com", "netease_mail"),
    EMAIL("outlook.live.com", "outlook"),
    EMAIL("outlook.office.com", "outlook"),
    EMAIL("outlook.office365.com", "outlook"),
    EMAIL("mail.yahoo.com", "yahoo_mail"),

    /* under a search brand, but not search */
    PLAIN("accounts.google.com"),
    PLAIN("docs.google.com"),
    PLAIN("drive.google.com"),
    PLAIN("play.google.com"),
    PLAIN("sites.google.com")
};

/* By the label before the public suffix, under any public suffix:
 * google.com, google.co.uk, google.com.hk, yahoo.co.jp, yandex.ru. */
static const site_t  brands[] = {
    SEARCH("google", "google"),
    SEARCH("bing", "bing"),
    SEARCH("yahoo", "yahoo"),
    SEARCH("yandex", "yandex"),
    SOCIAL("pinterest", "pinterest")
};

/* By Android package, from "android-app://PACKAGE/" referrers. */
static const site_t  apps[] = {
    SEARCH("com.google.android.googlequicksearchbox", "google"),
    SEARCH("com.baidu.searchbox", "baidu"),
    SEARCH("com.microsoft.bing", "bing"),
    EMAIL("com.google.android.gm", "gmail"),
    SOCIAL("com.tencent.mm", "wechat"),
    SOCIAL("com.tencent.mobileqq", "qq"),
    SOCIAL("com.sina.weibo", "weibo"),
    SOCIAL("com.ss.android.ugc.aweme", "douyin"),
    SOCIAL("com.xingin.xhs", "xiaohongshu"),
    SOCIAL("com.zhihu.android", "zhihu"),
    VIDEO("tv.danmaku.bili", "bilibili"),
    SOCIAL("com.smile.gifmaker", "kuaishou"),
    SOCIAL("com.facebook.katana", "facebook"),
    SOCIAL("com.instagram.android", "instagram"),
    SOCIAL("com.twitter.android", "twitter"),
    SOCIAL("com.linkedin.android", "linkedin"),
    SOCIAL("com.reddit.frontpage", "reddit"),
    VIDEO("com.google.android.youtube", "youtube"),
    SOCIAL("com.zhiliaoapp.musically", "tiktok"),
    SOCIAL("com.ss.android.ugc.trill", "tiktok"),
    SOCIAL("com.pinterest", "pinterest")
};

/* Other names sources go by in utm_source, beside the names above. */
static const site_t  aliases[] = {
    SOCIAL("fb", "facebook"),
    SOCIAL("ig", "instagram"),
    SOCIAL("x", "twitter"),
    SOCIAL("weixin", "wechat"),
    SOCIAL("wx", "wechat"),
    SOCIAL("xhs", "xiaohongshu"),
    VIDEO("yt", "youtube"),
    VIDEO("bili", "bilibili"),
    SEARCH("so", "360"),
    SEARCH("haosou", "360")
};

typedef enum {
    SCHEME_NONE = 0,
    SCHEME_WEB,
    SCHEME_APP
} scheme_e;


static const site_t *
find(const site_t *t, size_t n, const char *name, size_t len)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (t[i].name_len == len && memcmp(t[i].name, name, len) == 0) {
            return &t[i];
        }
    }
    return NULL;
}


static unsigned
flags_of(mkt_ref_class_e cls, int video)
{
    unsigned  f;

    f = cls == MKT_REF_SEARCH ? MKT_SRC_SEARCH
        : cls == MKT_REF_SOCIAL ? MKT_SRC_SOCIAL
        : cls == MKT_REF_EMAIL ? MKT_SRC_EMAIL : 0;
    return video ? f | MKT_SRC_VIDEO : f;
}


static void
set_source(mkt_referrer_t *out, mkt_ref_class_e cls, const char *s,
    size_t len, int video)
{
    out->cls = cls;
    out->flags = flags_of(cls, video);
    memcpy(out->source, s, len);
    out->source_len = len;
}


/* The config's search and social hosts: 1 when one matched. */
static int
classify_listed(const mkt_referrers_t *refs, const char *host, size_t len,
    mkt_referrer_t *out)
{
    const mkt_str_t  *listed;

    if (refs == NULL) {
        return 0;
    }
    listed = mkt_host_list_match(&refs->search, host, len);
    if (listed != NULL) {
        set_source(out, MKT_REF_SEARCH, listed->data, listed->len, 0);
        return 1;
    }
    listed = mkt_host_list_match(&refs->social, host, len);
    if (listed != NULL) {
        set_source(out, MKT_REF_SOCIAL, listed->data, listed->len, 0);
        return 1;
    }
    return 0;
}


static void
set_entry(mkt_referrer_t *out, const site_t *e, const char *host,
    size_t len)
{
    if (e == NULL || e->source == NULL) {
        set_source(out, MKT_REF_REFERRAL, host, len, 0);
    } else {
        set_source(out, (mkt_ref_class_e) e->cls, e->source, e->source_len,
                   e->video);
    }
}


/*
 * The class of a normalised host that is not the same site: the config's
 * lists, the host table (the host, then its parents down to its site),
 * the brands (the site's first label), or a referral.
 */
static void
classify_host(const mkt_referrers_t *refs, const char *host, size_t len,
    mkt_referrer_t *out)
{
    size_t         i, site, label;
    const site_t  *e;

    if (classify_listed(refs, host, len, out)) {
        return;
    }

    site = mkt_host_site(host, len);
    e = NULL;

    for (i = 0; i <= site && e == NULL; i++) {
        if (i == 0 || host[i - 1] == '.') {
            e = find(hosts, NELTS(hosts), host + i, len - i);
        }
    }

    if (e == NULL) {
        for (label = site; label < len && host[label] != '.'; label++) { }
        if (label < len) {
            e = find(brands, NELTS(brands), host + site, label - site);
        }
    }

    set_entry(out, e, host, len);
}


/* An android-app referrer: the config's lists, the package table, or a
 * referral from the package. */
static void
classify_app(const mkt_referrers_t *refs, const char *pkg, size_t len,
    mkt_referrer_t *out)
{
    if (!classify_listed(refs, pkg, len, out)) {
        set_entry(out, find(apps, NELTS(apps), pkg, len), pkg, len);
    }
}


static int
scheme_is(const char *s, size_t len, const char *name)
{
    size_t  i;

    if (len != strlen(name)) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if ((s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i])
            != name[i])
        {
            return 0;
        }
    }
    return 1;
}


/*
 * The host of an http(s) or android-app URL (len bytes read of it, cut:
 * the URL goes on) normalised into out; its scheme, or SCHEME_NONE.  A
 * host running into the cut is not trusted.
 */
static scheme_e
url_host(const char *url, size_t len, int cut, char *out, size_t *out_len)
{
    size_t    i, end, at;
    scheme_e  scheme;

    for (i = 0; i < len && url[i] != ':'; i++) { }
    if (scheme_is(url, i, "http") || scheme_is(url, i, "https")) {
        scheme = SCHEME_WEB;
    } else if (scheme_is(url, i, "android-app")) {
        scheme = SCHEME_APP;
    } else {
        return SCHEME_NONE;
    }

    if (len - i < 3 || url[i + 1] != '/' || url[i + 2] != '/') {
        return SCHEME_NONE;
    }

    at = i + 3;
    for (end = at; end < len; end++) {
        if (url[end] == '/' || url[end] == '?' || url[end] == '#'
            || url[end] == '\\')
        {
            break;
        }
        if (url[end] == '@') {
            at = end + 1;               /* after the userinfo */
        }
    }
    if (end == len && cut) {
        return SCHEME_NONE;
    }

    *out_len = mkt_host_normalize(url + at, end - at, out);
    return *out_len ? scheme : SCHEME_NONE;
}


void
mkt_referrer_classify(const mkt_referrers_t *refs, const char *referer,
    size_t len, const char *host, size_t host_len, mkt_referrer_t *out)
{
    char      req[MKT_HOST_MAX];
    size_t    n, rlen, site, req_site;
    scheme_e  scheme;

    out->cls = MKT_REF_NONE;
    out->flags = 0;
    out->host_len = 0;
    out->source_len = 0;

    if (len == 0) {
        return;
    }

    n = len < MKT_REFERER_SCAN_MAX ? len : MKT_REFERER_SCAN_MAX;
    scheme = url_host(referer, n, n < len, out->host, &out->host_len);

    if (scheme == SCHEME_NONE) {
        out->cls = MKT_REF_INVALID;
        out->host_len = 0;
        return;
    }

    if (refs != NULL
        && mkt_host_list_match(&refs->same_site, out->host, out->host_len))
    {
        out->cls = MKT_REF_SAME_SITE;
        return;
    }

    if (scheme == SCHEME_APP) {
        classify_app(refs, out->host, out->host_len, out);
        return;
    }

    rlen = host_len ? mkt_host_normalize(host, host_len, req) : 0;
    if (rlen) {
        site = mkt_host_site(out->host, out->host_len);
        req_site = mkt_host_site(req, rlen);
        if (out->host_len - site == rlen - req_site
            && memcmp(out->host + site, req + req_site, rlen - req_site) == 0)
        {
            out->cls = MKT_REF_SAME_SITE;
            return;
        }
    }

    classify_host(refs, out->host, out->host_len, out);
}


static const site_t *
find_source(const site_t *t, size_t n, const char *source, size_t len)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (t[i].source != NULL && t[i].source_len == len
            && memcmp(t[i].source, source, len) == 0)
        {
            return &t[i];
        }
    }
    return NULL;
}


unsigned
mkt_source_flags(const mkt_referrers_t *refs, const char *source,
    size_t len)
{
    char             name[MKT_HOST_MAX];
    size_t           i, n;
    const site_t    *e;
    mkt_referrer_t   r;

    if (len == 0 || len > MKT_HOST_MAX) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        name[i] = source[i] >= 'A' && source[i] <= 'Z'
                  ? (char) (source[i] - 'A' + 'a') : source[i];
    }

    e = find(aliases, NELTS(aliases), name, len);
    if (e == NULL) {
        e = find_source(hosts, NELTS(hosts), name, len);
    }
    if (e == NULL) {
        e = find_source(brands, NELTS(brands), name, len);
    }
    if (e != NULL) {
        return flags_of((mkt_ref_class_e) e->cls, e->video);
    }

    /* a host name: what a referrer from that host would be */
    n = mkt_host_normalize(name, len, r.host);
    if (n == 0) {
        return 0;
    }
    classify_host(refs, r.host, n, &r);
    return r.flags;
}


const char *
mkt_ref_class_name(mkt_ref_class_e cls)
{
    static const char *const  names[] = {
        "none", "invalid", "same_site", "search", "social", "email",
        "referral"
    };

    return (unsigned) cls < NELTS(names) ? names[cls] : "none";
}
