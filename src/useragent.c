/* User-Agent classification for the `device` and `browser` attributes and
 * the bot flag (DESIGN.md sections 5 and 6). */

#include <stdint.h>
#include <string.h>

#include "useragent.h"

/* What a token found in the User-Agent says.  The scan collects them as
 * bits; the decisions are made afterwards, so token order in a User-Agent
 * never matters. */
enum {
    S_BOT = 0,
    S_IPAD,
    S_TABLET,
    S_MOBILE,
    S_ANDROID,
    S_WEBVIEW,
    S_VERSION,

    S_WECOM,
    S_WECHAT,
    S_QQ,
    S_WEIBO,
    S_TOUTIAO,
    S_AWEME,
    S_XIAOHONGSHU,
    S_ALIPAY,
    S_TAOBAO,
    S_DINGTALK,
    S_FEISHU,
    S_KUAISHOU,
    S_BYTEDANCE,
    S_BAIDU,
    S_QUARK,
    S_UC,
    S_QQBROWSER,
    S_SOGOU,
    S_360,
    S_HUAWEI,
    S_XIAOMI,
    S_VIVO,
    S_OPPO,
    S_SAMSUNG,
    S_YANDEX,
    S_OPERA,
    S_EDGE,
    S_IE,
    S_FIREFOX,
    S_CHROME,
    S_SAFARI,

    /* tokens that need a look at their neighbours before they count */
    C_BOT_WORD,
    C_QQ_WORD,
    C_TABLET_WORD,
    C_DISCOVER,
    C_WEBVIEW
};

#define BIT(s)  ((uint64_t) 1 << (s))

/* A token is held inline, so that comparing its first four bytes with the
 * User-Agent's next four is one load and one compare, with no pointer to
 * follow. */
typedef struct {
    char            text[24];   /* lowercase, NUL-padded */
    unsigned char   len;        /* 3 or more; 0 ends a list */
    unsigned char   says;
} token_t;

#define T(text, says)  { text, sizeof(text) - 1, says }
#define END            { "", 0, 0 }


/* Tokens are listed by their first two bytes, and the scan looks a list up
 * by the two bytes at each position: most positions of a User-Agent start
 * no token at all and cost one table load.  A byte's class is its letter
 * (either case) 1-26, or one of the few other bytes tokens start with. */
#define CLASS(c)                                                              \
    ((c) >= 'a' && (c) <= 'z' ? (c) - 'a' + 1                                \
     : (c) == '3' ? 27 : ((c) >= '0' && (c) <= '9') ? 28                      \
     : (c) == '+' ? 29 : (c) == '-' ? 30 : 0)

#define KEY(a, b)  (CLASS(a) << 5 | CLASS(b))

#define LETTER(lc, uc)  [lc] = CLASS(lc), [uc] = CLASS(lc)

static const unsigned char  classes[256] = {
    LETTER('a', 'A'), LETTER('b', 'B'), LETTER('c', 'C'), LETTER('d', 'D'),
    LETTER('e', 'E'), LETTER('f', 'F'), LETTER('g', 'G'), LETTER('h', 'H'),
    LETTER('i', 'I'), LETTER('j', 'J'), LETTER('k', 'K'), LETTER('l', 'L'),
    LETTER('m', 'M'), LETTER('n', 'N'), LETTER('o', 'O'), LETTER('p', 'P'),
    LETTER('q', 'Q'), LETTER('r', 'R'), LETTER('s', 'S'), LETTER('t', 'T'),
    LETTER('u', 'U'), LETTER('v', 'V'), LETTER('w', 'W'), LETTER('x', 'X'),
    LETTER('y', 'Y'), LETTER('z', 'Z'),
    ['0'] = 28, ['1'] = 28, ['2'] = 28, ['3'] = 27, ['4'] = 28,
    ['5'] = 28, ['6'] = 28, ['7'] = 28, ['8'] = 28, ['9'] = 28,
    ['+'] = 29, ['-'] = 30
};


/* Bots are recognised by their own names, by the "+http://..." contact URL
 * crawlers put in their User-Agent, and by the generic words bot, spider
 * and crawl; HTTP libraries and headless browsers by their names; in-app
 * browsers by their apps' markers.  A list holds only tokens starting with
 * its two bytes, or they will never be found: every token has a test. */

static const token_t  plus_h[] = { T("+http", S_BOT), END };
static const token_t  minus_g[] = {
    T("-google", S_BOT),                /* APIs-, Mediapartners-Google */
    END
};
static const token_t  t_36[] = {
    T("360se", S_360), T("360ee", S_360), T("360browser", S_360), END
};

static const token_t  t_ai[] = { T("aiohttp", S_BOT), END };
static const token_t  t_al[] = {
    T("alipayclient", S_ALIPAY), T("aliapp(tb", S_TAOBAO), END
};
static const token_t  t_an[] = {
    T("android", S_ANDROID), T("anthropic-ai", S_BOT), END
};
static const token_t  t_aw[] = { T("aweme", S_AWEME), END };
static const token_t  t_ax[] = { T("axios/", S_BOT), END };

static const token_t  t_ba[] = {
    T("baiduboxapp", S_BAIDU), T("baidubrowser", S_BAIDU), END
};
static const token_t  t_bb[] = { T("bb10", S_MOBILE), END };
static const token_t  t_bi[] = { T("bingpreview", S_BOT), END };
static const token_t  t_bl[] = { T("blackberry", S_MOBILE), END };
static const token_t  t_bo[] = { T("bot", C_BOT_WORD), END };
static const token_t  t_by[] = { T("bytedancewebview", S_BYTEDANCE), END };

static const token_t  t_ch[] = {
    T("chrome/", S_CHROME), T("chatgpt-user", S_BOT), END
};
static const token_t  t_cr[] = {
    T("crios/", S_CHROME), T("crawl", S_BOT), END
};
static const token_t  t_cu[] = { T("curl/", S_BOT), END };

static const token_t  t_di[] = {
    T("discover/", C_DISCOVER), T("dingtalk", S_DINGTALK), END
};

static const token_t  t_ed[] = {
    T("edg/", S_EDGE), T("edga/", S_EDGE), T("edgios/", S_EDGE),
    T("edge/", S_EDGE), END
};
static const token_t  t_em[] = { T("embedly", S_BOT), END };

static const token_t  t_fa[] = {
    T("facebookexternalhit", S_BOT), T("facebookcatalog", S_BOT), END
};
static const token_t  t_fe[] = { T("feishu", S_FEISHU), END };
static const token_t  t_fi[] = { T("firefox/", S_FIREFOX), END };
static const token_t  t_fx[] = { T("fxios/", S_FIREFOX), END };

static const token_t  t_go[] = {
    T("go-http-client", S_BOT), T("google-", S_BOT),
    T("googleother", S_BOT), T("googleimageproxy", S_BOT), END
};
static const token_t  t_gu[] = { T("guzzlehttp", S_BOT), END };

static const token_t  t_he[] = {
    T("headless", S_BOT), T("heytapbrowser", S_OPPO), END
};
static const token_t  t_ht[] = {
    T("httpclient", S_BOT), T("httpie/", S_BOT), END
};
static const token_t  t_hu[] = { T("huaweibrowser", S_HUAWEI), END };

static const token_t  t_ia[] = { T("ia_archiver", S_BOT), END };
static const token_t  t_in[] = { T("insomnia/", S_BOT), END };
static const token_t  t_ip[] = { T("ipad", S_IPAD), T("ipod", S_MOBILE), END };

static const token_t  t_ja[] = { T("java/", S_BOT), END };

static const token_t  t_ki[] = { T("kindle", S_TABLET), END };
static const token_t  t_ks[] = { T("ksnebula", S_KUAISHOU), END };
static const token_t  t_kw[] = { T("kwai", S_KUAISHOU), END };

static const token_t  t_la[] = { T("lark/", S_FEISHU), END };
static const token_t  t_li[] = {
    T("libwww", S_BOT), T("lighthouse", S_BOT), END
};

static const token_t  t_me[] = {
    T("metasr", S_SOGOU), T("meta-externalagent", S_BOT),
    T("meta-externalfetcher", S_BOT), END
};
static const token_t  t_mi[] = {
    T("micromessenger", S_WECHAT), T("miuibrowser", S_XIAOMI), END
};
static const token_t  t_mo[] = { T("mobi", S_MOBILE), END };
static const token_t  t_ms[] = { T("msie", S_IE), END };

static const token_t  t_ne[] = { T("newsarticle", S_TOUTIAO), END };
static const token_t  t_no[] = { T("node-fetch", S_BOT), END };

static const token_t  t_op[] = {
    T("opr/", S_OPERA), T("opera", S_OPERA), T("opios/", S_OPERA),
    T("opt/", S_OPERA), T("oppobrowser", S_OPPO), END
};

static const token_t  t_ph[] = {
    T("phone", S_MOBILE), T("phantomjs", S_BOT), END
};
static const token_t  t_pl[] = { T("playbook", S_TABLET), END };
static const token_t  t_po[] = {
    T("postmanruntime", S_BOT), T("powershell", S_BOT), END
};
static const token_t  t_py[] = {
    T("python-", S_BOT), T("python/", S_BOT), END
};

static const token_t  t_qh[] = { T("qhbrowser", S_360), END };
static const token_t  t_qi[] = { T("qihoobrowser", S_360), END };
static const token_t  t_qq[] = {
    T("qq/", C_QQ_WORD), T("qqbrowser", S_QQBROWSER), END
};
static const token_t  t_qu[] = { T("quark/", S_QUARK), END };

static const token_t  t_sa[] = {
    T("safari/", S_SAFARI), T("samsungbrowser", S_SAMSUNG), END
};
static const token_t  t_sc[] = { T("scrapy", S_BOT), END };
static const token_t  t_si[] = { T("silk/", S_TABLET), END };
static const token_t  t_sl[] = { T("slurp", S_BOT), END };
static const token_t  t_so[] = {
    T("sogoumobilebrowser", S_SOGOU), T("sogoumse", S_SOGOU), END
};
static const token_t  t_sp[] = { T("spider", S_BOT), END };

static const token_t  t_ta[] = { T("tablet", C_TABLET_WORD), END };
static const token_t  t_tr[] = { T("trident/", S_IE), END };

static const token_t  t_uc[] = { T("ucbrowser", S_UC), T("ucweb", S_UC), END };
static const token_t  t_un[] = { T("undici", S_BOT), END };
static const token_t  t_ur[] = { T("uripreview", S_BOT), END };

static const token_t  t_ve[] = { T("version/", S_VERSION), END };
static const token_t  t_vi[] = { T("vivobrowser", S_VIVO), END };

static const token_t  t_we[] = { T("weibo", S_WEIBO), END };
static const token_t  t_wg[] = { T("wget/", S_BOT), END };
static const token_t  t_wv[] = { T("wv)", C_WEBVIEW), END };
static const token_t  t_wx[] = { T("wxwork", S_WECOM), END };

static const token_t  t_xi[] = { T("xiaohongshu", S_XIAOHONGSHU), END };

static const token_t  t_ya[] = { T("yabrowser", S_YANDEX), END };

/* gcc's -Woverride-init (in -Wextra) rejects a key given twice */
static const token_t *const  lists[1024] = {
    [KEY('+', 'h')] = plus_h, [KEY('-', 'g')] = minus_g,
    [KEY('3', '6')] = t_36,
    [KEY('a', 'i')] = t_ai, [KEY('a', 'l')] = t_al, [KEY('a', 'n')] = t_an,
    [KEY('a', 'w')] = t_aw, [KEY('a', 'x')] = t_ax,
    [KEY('b', 'a')] = t_ba, [KEY('b', 'b')] = t_bb, [KEY('b', 'i')] = t_bi,
    [KEY('b', 'l')] = t_bl, [KEY('b', 'o')] = t_bo, [KEY('b', 'y')] = t_by,
    [KEY('c', 'h')] = t_ch, [KEY('c', 'r')] = t_cr, [KEY('c', 'u')] = t_cu,
    [KEY('d', 'i')] = t_di,
    [KEY('e', 'd')] = t_ed, [KEY('e', 'm')] = t_em,
    [KEY('f', 'a')] = t_fa, [KEY('f', 'e')] = t_fe, [KEY('f', 'i')] = t_fi,
    [KEY('f', 'x')] = t_fx,
    [KEY('g', 'o')] = t_go, [KEY('g', 'u')] = t_gu,
    [KEY('h', 'e')] = t_he, [KEY('h', 't')] = t_ht, [KEY('h', 'u')] = t_hu,
    [KEY('i', 'a')] = t_ia, [KEY('i', 'n')] = t_in, [KEY('i', 'p')] = t_ip,
    [KEY('j', 'a')] = t_ja,
    [KEY('k', 'i')] = t_ki, [KEY('k', 's')] = t_ks, [KEY('k', 'w')] = t_kw,
    [KEY('l', 'a')] = t_la, [KEY('l', 'i')] = t_li,
    [KEY('m', 'e')] = t_me, [KEY('m', 'i')] = t_mi, [KEY('m', 'o')] = t_mo,
    [KEY('m', 's')] = t_ms,
    [KEY('n', 'e')] = t_ne, [KEY('n', 'o')] = t_no,
    [KEY('o', 'p')] = t_op,
    [KEY('p', 'h')] = t_ph, [KEY('p', 'l')] = t_pl, [KEY('p', 'o')] = t_po,
    [KEY('p', 'y')] = t_py,
    [KEY('q', 'h')] = t_qh, [KEY('q', 'i')] = t_qi, [KEY('q', 'q')] = t_qq,
    [KEY('q', 'u')] = t_qu,
    [KEY('s', 'a')] = t_sa, [KEY('s', 'c')] = t_sc, [KEY('s', 'i')] = t_si,
    [KEY('s', 'l')] = t_sl, [KEY('s', 'o')] = t_so, [KEY('s', 'p')] = t_sp,
    [KEY('t', 'a')] = t_ta, [KEY('t', 'r')] = t_tr,
    [KEY('u', 'c')] = t_uc, [KEY('u', 'n')] = t_un, [KEY('u', 'r')] = t_ur,
    [KEY('v', 'e')] = t_ve, [KEY('v', 'i')] = t_vi,
    [KEY('w', 'e')] = t_we, [KEY('w', 'g')] = t_wg, [KEY('w', 'v')] = t_wv,
    [KEY('w', 'x')] = t_wx,
    [KEY('x', 'i')] = t_xi,
    [KEY('y', 'a')] = t_ya,
};


/* Browser families by precedence.  In-app browsers come first because
 * their User-Agents also carry the engine's tokens (Chrome/, Safari/, and
 * on Android often UCBrowser/ or MQQBrowser/ of an embedded kernel);
 * WeCom's carries WeChat's, Toutiao's ByteDance's, Edge's and Opera's
 * Chrome's, Chrome's Safari's. */
static const struct {
    unsigned char  says;
    unsigned char  browser;
} families[] = {
    { S_WECOM, MKT_UA_WECOM },
    { S_WECHAT, MKT_UA_WECHAT },
    { S_QQ, MKT_UA_QQ },
    { S_WEIBO, MKT_UA_WEIBO },
    { S_TOUTIAO, MKT_UA_TOUTIAO },
    { S_AWEME, MKT_UA_DOUYIN },
    { S_XIAOHONGSHU, MKT_UA_XIAOHONGSHU },
    { S_ALIPAY, MKT_UA_ALIPAY },
    { S_TAOBAO, MKT_UA_TAOBAO },
    { S_DINGTALK, MKT_UA_DINGTALK },
    { S_FEISHU, MKT_UA_FEISHU },
    { S_KUAISHOU, MKT_UA_KUAISHOU },
    { S_BYTEDANCE, MKT_UA_DOUYIN },
    { S_BAIDU, MKT_UA_BAIDU },
    { S_QUARK, MKT_UA_QUARK },
    { S_UC, MKT_UA_UC },
    { S_QQBROWSER, MKT_UA_QQBROWSER },
    { S_SOGOU, MKT_UA_SOGOU },
    { S_360, MKT_UA_360 },
    { S_HUAWEI, MKT_UA_HUAWEI },
    { S_XIAOMI, MKT_UA_XIAOMI },
    { S_VIVO, MKT_UA_VIVO },
    { S_OPPO, MKT_UA_OPPO },
    { S_SAMSUNG, MKT_UA_SAMSUNG },
    { S_YANDEX, MKT_UA_YANDEX },
    { S_OPERA, MKT_UA_OPERA },
    { S_EDGE, MKT_UA_EDGE },
    { S_IE, MKT_UA_IE },
    { S_FIREFOX, MKT_UA_FIREFOX },
    { S_CHROME, MKT_UA_CHROME },
    { S_SAFARI, MKT_UA_SAFARI },
};

static const char *const  device_names[MKT_UA_DEVICE_COUNT] = {
    "desktop", "mobile", "tablet", "bot"
};

static const char *const  browser_names[MKT_UA_BROWSER_COUNT] = {
    "other", "bot", "chrome", "safari", "firefox", "edge", "opera", "ie",
    "samsung", "yandex", "wechat", "wecom", "qq", "qqbrowser", "weibo",
    "douyin", "toutiao", "kuaishou", "xiaohongshu", "alipay", "taobao",
    "dingtalk", "feishu", "baidu", "quark", "uc", "sogou", "360", "huawei",
    "xiaomi", "vivo", "oppo"
};


static unsigned char
lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char) (c | 0x20) : c;
}


static int
is_alpha(unsigned char c)
{
    c = lower(c);
    return c >= 'a' && c <= 'z';
}


/* Whether the n bytes at p are, ignoring case, the lowercase text. */
static int
equal_lower(const unsigned char *p, const char *text, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (lower(p[i]) != (unsigned char) text[i]) {
            return 0;
        }
    }

    return 1;
}


/* What a token needing context says where it was found at p[i], in
 * p[0..n), or -1 if it says nothing there. */
static int
confirm(int says, const unsigned char *p, size_t i, size_t n)
{
    size_t  j;

    switch (says) {

    case C_BOT_WORD:
        /* Googlebot/, bingbot, AdsBot-Google, ".../bots)", but not the
         * phone maker CUBOT or words like "bottle" */
        if (i >= 2 && lower(p[i - 2]) == 'c' && lower(p[i - 1]) == 'u') {
            return -1;
        }
        j = i + 3;
        if (j < n && is_alpha(p[j])) {
            if (lower(p[j]) != 's' || (j + 1 < n && is_alpha(p[j + 1]))) {
                return -1;
            }
        }
        return S_BOT;

    case C_QQ_WORD:
        /* the QQ app's " QQ/8.9.28", not the end of another name */
        if (i > 0 && (is_alpha(p[i - 1])
                      || (p[i - 1] >= '0' && p[i - 1] <= '9')))
        {
            return -1;
        }
        return S_QQ;

    case C_TABLET_WORD:
        /* Windows desktops with a touch screen say "Tablet PC 2.0" */
        j = i + 6;
        if (j + 3 <= n && equal_lower(p + j, " pc", 3)) {
            return -1;
        }
        return S_TABLET;

    case C_WEBVIEW:
        /* Android's WebView adds "; wv)" to the system part */
        return (i >= 2 && p[i - 2] == ';' && p[i - 1] == ' ')
               ? S_WEBVIEW : -1;

    case C_DISCOVER:
        /* Xiaohongshu's app calls itself "discover/8.7" */
        j = i + 9;
        return (j < n && p[j] >= '0' && p[j] <= '9') ? S_XIAOHONGSHU : -1;

    default:
        return says;
    }
}


static uint64_t
scan(const unsigned char *p, size_t n)
{
    static const unsigned char  three[4] = { 0xff, 0xff, 0xff, 0 };
    const token_t              *t;
    unsigned char               last[4];
    uint64_t                    seen = 0;
    uint32_t                    w, head, mask3;
    unsigned                    cls, key;
    size_t                      i;
    int                         says;

    /* byte order neutral: the mask is loaded the way the window is */
    memcpy(&mask3, three, 4);

    cls = n ? classes[p[0]] : 0;

    /* every token is at least 3 bytes long */
    for (i = 0; i + 2 < n; i++) {
        key = cls << 5;
        cls = classes[p[i + 1]];

        t = lists[key | cls];
        if (t == NULL) {
            continue;
        }

        /* A quick filter on four bytes: OR-ing 0x20 lowercases letters
         * (and blurs a few other bytes, which the exact comparison
         * below sorts out). */
        if (i + 4 <= n) {
            memcpy(&w, p + i, 4);

        } else {
            memset(last, 0, 4);
            memcpy(last, p + i, n - i);
            memcpy(&w, last, 4);
        }
        w |= 0x20202020u;

        for ( /* void */ ; t->len != 0; t++) {
            memcpy(&head, t->text, 4);
            head |= 0x20202020u;

            if ((t->len >= 4 ? w != head : (w & mask3) != (head & mask3))
                || t->len > n - i
                || !equal_lower(p + i, t->text, t->len))
            {
                continue;
            }

            says = confirm(t->says, p, i, n);
            if (says < 0) {
                continue;
            }

            seen |= BIT(says);

            /* nothing else matters about a bot */
            if (says == S_BOT) {
                return seen;
            }
        }
    }

    return seen;
}


void
mkt_ua_classify(const char *ua, size_t len, mkt_ua_t *out)
{
    uint64_t  seen;
    size_t    i;

    if (len == 0) {
        /* real browsers always send one; scripts often send none */
        seen = BIT(S_BOT);

    } else {
        seen = scan((const unsigned char *) ua,
                    len < MKT_UA_SCAN_MAX ? len : MKT_UA_SCAN_MAX);
    }

    if (seen & BIT(S_BOT)) {
        out->device = MKT_UA_BOT;
        out->browser = MKT_UA_BROWSER_BOT;
        out->bot = 1;
        return;
    }

    out->bot = 0;

    /* an iPad says "Mobile/15E148" and an Android tablet lacks "Mobile" */
    if (seen & (BIT(S_IPAD) | BIT(S_TABLET))) {
        out->device = MKT_UA_TABLET;

    } else if (seen & BIT(S_MOBILE)) {
        out->device = MKT_UA_MOBILE;

    } else if (seen & BIT(S_ANDROID)) {
        out->device = MKT_UA_TABLET;

    } else {
        out->device = MKT_UA_DESKTOP;
    }

    out->browser = MKT_UA_OTHER;

    for (i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
        if (seen & BIT(families[i].says)) {
            out->browser = (mkt_ua_browser_t) families[i].browser;
            break;
        }
    }

    /* An app's Android WebView ("; wv)", or "Version/4.0 Chrome/" before
     * Android 5) is not Chrome, nor is the old Android browser Safari. */
    if (out->browser == MKT_UA_CHROME
        && ((seen & BIT(S_WEBVIEW))
            || (seen & (BIT(S_ANDROID) | BIT(S_VERSION)))
               == (BIT(S_ANDROID) | BIT(S_VERSION))))
    {
        out->browser = MKT_UA_OTHER;

    } else if (out->browser == MKT_UA_SAFARI && (seen & BIT(S_ANDROID))) {
        out->browser = MKT_UA_OTHER;
    }
}


/* Where ua's classes are kept: a multiplicative hash of all its bytes,
 * eight at a time (slot choice only; hits are compared exactly). */
static size_t
cache_slot(const char *ua, size_t len)
{
    size_t    i;
    uint64_t  h, w;

    h = (uint64_t) len * 0x9e3779b97f4a7c15ull;
    for (i = 0; i + 8 <= len; i += 8) {
        memcpy(&w, ua + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    if (i < len) {
        w = 0;
        memcpy(&w, ua + i, len - i);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
    }
    h ^= h >> 29;
    return (size_t) (h >> 40) & (MKT_UA_CACHE_SLOTS - 1);
}


void
mkt_ua_classify_cached(mkt_ua_cache_t *c, const char *ua, size_t len,
    mkt_ua_t *out)
{
    mkt_ua_cache_slot_t  *s;

    /* (MKT_UA_CACHE_LEN < MKT_UA_SCAN_MAX: a key is the whole string) */
    if (len == 0 || len > MKT_UA_CACHE_LEN) {
        mkt_ua_classify(ua, len, out);
        return;
    }

    s = &c->slot[cache_slot(ua, len)];
    if (s->len == len && memcmp(s->text, ua, len) == 0) {
        c->hits++;
        *out = s->ua;
        return;
    }

    mkt_ua_classify(ua, len, out);
    s->len = (uint16_t) len;
    s->ua = *out;
    memcpy(s->text, ua, len);
}


const char *
mkt_ua_device_name(mkt_ua_device_t device)
{
    if ((unsigned) device >= MKT_UA_DEVICE_COUNT) {
        return device_names[MKT_UA_DESKTOP];
    }

    return device_names[device];
}


const char *
mkt_ua_browser_name(mkt_ua_browser_t browser)
{
    if ((unsigned) browser >= MKT_UA_BROWSER_COUNT) {
        return browser_names[MKT_UA_OTHER];
    }

    return browser_names[browser];
}
