/* User-Agent classification into the `device` and `browser` attributes and
 * the bot flag: one bounded, allocation-free, case-insensitive token scan. */

#ifndef MKT_USERAGENT_H
#define MKT_USERAGENT_H

#include <stddef.h>
#include <stdint.h>

/* Only this many leading bytes are looked at: every token that decides a
 * class sits well inside real User-Agents' first few hundred bytes. */
#define MKT_UA_SCAN_MAX  512

/* `device`.  The names are the values conditions compare against:
 * desktop mobile tablet bot. */
typedef enum {
    MKT_UA_DESKTOP = 0,         /* also anything unrecognised */
    MKT_UA_MOBILE,
    MKT_UA_TABLET,
    MKT_UA_BOT,
    MKT_UA_DEVICE_COUNT
} mkt_ua_device_t;

/* `browser`: the app the page is shown in.  An in-app browser (WeChat,
 * Douyin, ...) is named after its app, not after the engine it embeds; an
 * unknown app's WebView is `other`.  Names, in order:
 * other bot chrome safari firefox edge opera ie samsung yandex wechat wecom
 * qq qqbrowser weibo douyin toutiao kuaishou xiaohongshu alipay taobao
 * dingtalk feishu baidu quark uc sogou 360 huawei xiaomi vivo oppo.
 * New families are appended, so the numbers stay stable too. */
typedef enum {
    MKT_UA_OTHER = 0,
    MKT_UA_BROWSER_BOT,
    MKT_UA_CHROME,
    MKT_UA_SAFARI,
    MKT_UA_FIREFOX,
    MKT_UA_EDGE,
    MKT_UA_OPERA,
    MKT_UA_IE,
    MKT_UA_SAMSUNG,
    MKT_UA_YANDEX,
    MKT_UA_WECHAT,
    MKT_UA_WECOM,
    MKT_UA_QQ,
    MKT_UA_QQBROWSER,
    MKT_UA_WEIBO,
    MKT_UA_DOUYIN,
    MKT_UA_TOUTIAO,
    MKT_UA_KUAISHOU,
    MKT_UA_XIAOHONGSHU,
    MKT_UA_ALIPAY,
    MKT_UA_TAOBAO,
    MKT_UA_DINGTALK,
    MKT_UA_FEISHU,
    MKT_UA_BAIDU,
    MKT_UA_QUARK,
    MKT_UA_UC,
    MKT_UA_SOGOU,
    MKT_UA_360,
    MKT_UA_HUAWEI,
    MKT_UA_XIAOMI,
    MKT_UA_VIVO,
    MKT_UA_OPPO,
    MKT_UA_BROWSER_COUNT
} mkt_ua_browser_t;

typedef struct {
    mkt_ua_device_t   device;
    mkt_ua_browser_t  browser;
    /* crawler, link previewer, headless browser, HTTP library, or no
     * User-Agent at all; then device is MKT_UA_BOT and browser
     * MKT_UA_BROWSER_BOT */
    unsigned          bot:1;
} mkt_ua_t;

/* Classifies ua (len bytes, not necessarily NUL-terminated; NULL if len
 * is 0).  Any bytes are accepted. */
void mkt_ua_classify(const char *ua, size_t len, mkt_ua_t *out);

/*
 * A memo of mkt_ua_classify() for one worker (about 25 KiB): most
 * requests come from a few browser builds, whose User-Agents repeat byte
 * for byte.  Keyed by the whole string (at most MKT_UA_CACHE_LEN bytes,
 * under MKT_UA_SCAN_MAX: every byte classifying reads), compared exactly,
 * so a hit answers what classifying would.  Direct-mapped and bounded: a
 * longer User-Agent is classified every time, and a miss replaces its
 * slot.  Zeroed memory is an empty cache.
 */
#define MKT_UA_CACHE_SLOTS  64      /* a power of two */
#define MKT_UA_CACHE_LEN    384

typedef struct {
    uint16_t  len;                  /* 0: empty */
    mkt_ua_t  ua;
    char      text[MKT_UA_CACHE_LEN];
} mkt_ua_cache_slot_t;

typedef struct {
    size_t               hits;      /* for tests and curiosity */
    mkt_ua_cache_slot_t  slot[MKT_UA_CACHE_SLOTS];
} mkt_ua_cache_t;

/* mkt_ua_classify() through the cache c. */
void mkt_ua_classify_cached(mkt_ua_cache_t *c, const char *ua, size_t len,
    mkt_ua_t *out);

/* The lowercase names above; a value out of range gives "desktop" and
 * "other", the classes of an unrecognised User-Agent. */
const char *mkt_ua_device_name(mkt_ua_device_t device);
const char *mkt_ua_browser_name(mkt_ua_browser_t browser);

#endif /* MKT_USERAGENT_H */
