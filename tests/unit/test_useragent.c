/* Unit tests of src/useragent.c: real User-Agents of browsers, Chinese
 * in-app browsers, crawlers and tools, with their exact classes. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "useragent.h"

typedef struct {
    const char  *name;
    const char  *ua;
    const char  *device;
    const char  *browser;
    int          bot;
} ua_case_t;

#define BOT(name, ua)  { name, ua, "bot", "bot", 1 }


static mkt_ua_cache_t  cache;


/* The cache answers as classifying does, on a miss and on the hit after. */
static void
check_cached(const char *s, const mkt_ua_t *want)
{
    int       k;
    size_t    len;
    mkt_ua_t  ua;

    len = strlen(s);
    for (k = 0; k < 2; k++) {
        memset(&ua, 0x5a, sizeof(ua));
        mkt_ua_classify_cached(&cache, s, len, &ua);
        assert_int_equal(ua.device, want->device);
        assert_int_equal(ua.browser, want->browser);
        assert_int_equal(ua.bot, want->bot);
    }
}


static void
check_cases(const ua_case_t *cases, size_t n)
{
    const char  *device, *browser;
    mkt_ua_t     ua;
    size_t       i, failed = 0;

    for (i = 0; i < n; i++) {
        memset(&ua, 0xa5, sizeof(ua));
        mkt_ua_classify(cases[i].ua, strlen(cases[i].ua), &ua);
        check_cached(cases[i].ua, &ua);

        device = mkt_ua_device_name(ua.device);
        browser = mkt_ua_browser_name(ua.browser);

        if (strcmp(device, cases[i].device) != 0
            || strcmp(browser, cases[i].browser) != 0
            || (int) ua.bot != cases[i].bot)
        {
            print_error("%s: got %s/%s/bot=%d, want %s/%s/bot=%d\n",
                        cases[i].name, device, browser, (int) ua.bot,
                        cases[i].device, cases[i].browser, cases[i].bot);
            failed++;
        }
    }

    if (failed) {
        fail_msg("%zu of %zu User-Agents misclassified", failed, n);
    }
}

#define CHECK_CASES(cases)  check_cases(cases, sizeof(cases) / sizeof(cases[0]))


static void
test_classifies_desktop_browsers(void **state)
{
    static const ua_case_t  cases[] = {
        { "Windows Edge",
          "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
          "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 "
          "Edg/120.0.2210.61", "desktop", "edge", 0 },
        { "Windows Chrome",
          "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
          "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
          "desktop", "chrome", 0 },
        { "Windows Firefox",
          "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) "
          "Gecko/20100101 Firefox/121.0", "desktop", "firefox", 0 },
        { "macOS Chrome",
          "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) "
          "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
          "Safari/537.36", "desktop", "chrome", 0 },
        { "macOS Safari",
          "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) "
          "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 "
          "Safari/605.1.15", "desktop", "safari", 0 },
        { "macOS Firefox",
          "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:120.0) "
          "Gecko/20100101 Firefox/120.0", "desktop", "firefox", 0 },
        { "Windows Opera",
          "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
          "(KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36 "
          "OPR/105.0.0.0", "desktop", "opera", 0 },
        { "IE 11",
          "Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; rv:11.0) "
          "like Gecko", "desktop", "ie", 0 },
        { "IE 8 on a touch-screen PC",
          "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0; "
          "SLCC2; .NET CLR 2.0.50727; Media Center PC 6.0; Tablet PC 2.0)",
          "desktop", "ie", 0 },
        { "Linux Chrome",
          "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like "
          "Gecko) Chrome/120.0.0.0 Safari/537.36", "desktop", "chrome", 0 },
        { "WeChat for Windows",
          "Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, "
          "like Gecko) Chrome/81.0.4044.138 Safari/537.36 NetType/WIFI "
          "MicroMessenger/7.0.20.1781(0x6700143B) WindowsWechat(0x63090719) "
          "XWEB/8391 Flue", "desktop", "wechat", 0 },
    };

    CHECK_CASES(cases);
}


static void
test_classifies_mobile_and_tablet_browsers(void **state)
{
    static const ua_case_t  cases[] = {
        { "iPhone Safari",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) "
          "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1.2 "
          "Mobile/15E148 Safari/604.1", "mobile", "safari", 0 },
        { "iPhone Chrome",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) "
          "AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 "
          "Mobile/15E148 Safari/604.1", "mobile", "chrome", 0 },
        { "iPhone Edge",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) "
          "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 "
          "EdgiOS/120.2210.60 Mobile/15E148 Safari/605.1.15",
          "mobile", "edge", 0 },
        { "Android Chrome",
          "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, "
          "like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
          "mobile", "chrome", 0 },
        { "Android Firefox",
          "Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 "
          "Firefox/121.0", "mobile", "firefox", 0 },
        { "Android Samsung Internet",
          "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S918B) "
          "AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 "
          "Chrome/115.0.0.0 Mobile Safari/537.36", "mobile", "samsung", 0 },
        { "Android Edge",
          "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, "
          "like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36 "
          "EdgA/120.0.2210.84", "mobile", "edge", 0 },
        { "Huawei Browser",
          "Mozilla/5.0 (Linux; Android 12; HarmonyOS; NOH-AN00; "
          "HMSCore 6.11.0.302) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/99.0.4844.88 HuaweiBrowser/14.0.2.311 Mobile "
          "Safari/537.36", "mobile", "huawei", 0 },
        { "HarmonyOS NEXT phone",
          "Mozilla/5.0 (Phone; OpenHarmony 5.0) AppleWebKit/537.36 (KHTML, "
          "like Gecko) Chrome/114.0.0.0 Safari/537.36 ArkWeb/4.1.6.1 "
          "Mobile HuaweiBrowser/5.0.4.300", "mobile", "huawei", 0 },
        { "Xiaomi MIUI Browser",
          "Mozilla/5.0 (Linux; U; Android 13; zh-cn; 2211133C "
          "Build/TKQ1.220905.001) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Version/4.0 Chrome/109.0.5414.118 Mobile Safari/537.36 "
          "XiaoMi/MiuiBrowser/17.7.170703", "mobile", "xiaomi", 0 },
        { "QQ Browser",
          "Mozilla/5.0 (Linux; U; Android 12; zh-cn; PEHM00 "
          "Build/SKQ1.210216.001) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Version/4.0 Chrome/98.0.4758.102 MQQBrowser/13.8 Mobile "
          "Safari/537.36 COVC/046615", "mobile", "qqbrowser", 0 },
        { "CUBOT phone (not a bot)",
          "Mozilla/5.0 (Linux; Android 11; CUBOT_X30) AppleWebKit/537.36 "
          "(KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
          "mobile", "chrome", 0 },
        { "unknown app's Android WebView",
          "Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A.230901.001; "
          "wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 "
          "Chrome/119.0.6045.163 Mobile Safari/537.36", "mobile", "other", 0 },
        { "unknown app's iOS WebView",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) "
          "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
          "mobile", "other", 0 },
        { "old Android browser",
          "Mozilla/5.0 (Linux; U; Android 4.0.3; ko-kr; LG-L160L "
          "Build/IML74K) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 "
          "Mobile Safari/534.30", "mobile", "other", 0 },
        { "iPad Safari",
          "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) "
          "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 "
          "Mobile/15E148 Safari/604.1", "tablet", "safari", 0 },
        { "Android tablet Chrome",
          "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 "
          "(KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36",
          "tablet", "chrome", 0 },
        { "Android tablet Firefox",
          "Mozilla/5.0 (Android 13; Tablet; rv:121.0) Gecko/121.0 "
          "Firefox/121.0", "tablet", "firefox", 0 },
        { "WeChat on iPad",
          "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) "
          "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
          "MicroMessenger/8.0.40(0x1800282a) NetType/WIFI Language/zh_CN",
          "tablet", "wechat", 0 },
    };

    CHECK_CASES(cases);
}


static void
test_classifies_chinese_in_app_browsers_by_app(void **state)
{
    static const ua_case_t  cases[] = {
        { "WeChat iOS",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) "
          "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
          "MicroMessenger/8.0.42(0x18002a2f) NetType/WIFI Language/zh_CN",
          "mobile", "wechat", 0 },
        { "WeChat Android",
          "Mozilla/5.0 (Linux; Android 13; V2218A Build/TP1A.220624.014; wv) "
          "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 "
          "Chrome/111.0.5563.116 Mobile Safari/537.36 XWEB/1110017 "
          "MMWEBSDK/20230805 MMWEBID/2585 "
          "MicroMessenger/8.0.42.2460(0x28002A35) WeChat/arm64 Weixin "
          "NetType/WIFI Language/zh_CN ABI/arm64", "mobile", "wechat", 0 },
        { "WeCom iOS",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 16_5 like Mac OS X) "
          "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
          "wxwork/4.1.8 MicroMessenger/7.0.1 Language/zh ColorScheme/Light",
          "mobile", "wecom", 0 },
        { "QQ iOS",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) "
          "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
          "QQ/8.9.80.612 V1_IPH_SQ_8.9.80_1_APP_A Pixel/1170 MiniAppEnable "
          "SimpleUISwitch/0 QQTheme/1000 Core/WKWebView "
          "Device/Apple(iPhone 14) NetType/WIFI QBWebViewType/1 WKType/1",
          "mobile", "qq", 0 },
        { "QQ Android",
          "Mozilla/5.0 (Linux; Android 12; M2012K11AC Build/SKQ1.211006.001; "
          "wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 "
          "Chrome/89.0.4389.72 MQQBrowser/6.2 TBS/046237 Mobile "
          "Safari/537.36 V1_AND_SQ_8.9.28_3700_YYB_D A_8092800 "
          "QQ/8.9.28.10155 NetType/WIFI WebP/0.3.0 AppId/537155547",
          "mobile", "qq", 0 },
        { "Douyin Android",
          "Mozilla/5.0 (Linux; Android 12; NOH-AN00 Build/HUAWEINOH-AN00; "
          "wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 "
          "Chrome/99.0.4844.88 Mobile Safari/537.36 aweme_250100 JsSdk/1.0 "
          "NetType/WIFI Channel/huawei_1128_64 AppName/aweme "
          "app_version/25.1.0 ByteLocale/zh-CN Region/CN "
          "BytedanceWebview/d8a21c6 WebView/075113004008",
          "mobile", "douyin", 0 },
        { "Douyin iOS",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 16_1 like Mac OS X) "
          "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
          "aweme_23.5.0 JsSdk/2.0 NetType/WIFI Channel/App Store "
          "ByteLocale/zh Region/CN AppTheme/light WKWebView/1 "
          "BytedanceWebview/d8a21c6 ByteFullLocale/zh-Hans",
          "mobile", "douyin", 0 },
        { "Toutiao iOS",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) "
          "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
          "NewsArticle/9.3.8.10 JsSdk/2.0 NetType/WIFI ByteLocale/zh "
          "BytedanceWebview/d8a21c6", "mobile", "toutiao", 0 },
        { "Xiaohongshu iOS",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) "
          "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
          "discover/8.7 (iPhone; iOS 16.6; Scale/3.00) Resolution/1170*2532 "
          "Version/8.7 Build/8070515 Device/(Apple Inc.;iPhone14,2) "
          "NetType/WiFi", "mobile", "xiaohongshu", 0 },
        { "Xiaohongshu Android",
          "Mozilla/5.0 (Linux; Android 13; 22081212C "
          "Build/TKQ1.220829.002; wv) AppleWebKit/537.36 (KHTML, like "
          "Gecko) Version/4.0 Chrome/110.0.5481.153 Mobile Safari/537.36 "
          "XiaoHongShu/8.7.0 NetType/WIFI", "mobile", "xiaohongshu", 0 },
        { "Weibo iOS",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) "
          "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Weibo "
          "(iPhone14,2__weibo__13.6.2__iphone__os16.6)",
          "mobile", "weibo", 0 },
        { "Weibo Android",
          "Mozilla/5.0 (Linux; Android 12; ELS-AN00 Build/HUAWEIELS-AN00; "
          "wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 "
          "Chrome/99.0.4844.88 Mobile Safari/537.36 Weibo "
          "(HUAWEI-ELS-AN00__weibo__13.6.1__android__android12)",
          "mobile", "weibo", 0 },
        { "Alipay Android (embeds UCBrowser)",
          "Mozilla/5.0 (Linux; U; Android 12; zh-CN; V2171A "
          "Build/SP1A.210812.003) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Version/4.0 Chrome/69.0.3497.100 UWS/3.22.2.59 Mobile "
          "Safari/537.36 UCBrowser/11.6.4.950 UWS/2.11.1.50 "
          "AliApp(AP/10.5.16.6000) AlipayClient/10.5.16.6000 "
          "Language/zh-Hans Region/CN", "mobile", "alipay", 0 },
        { "Alipay iOS",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) "
          "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/20G75 "
          "ChannelId(23) Ariver/1.1.0 AliApp(AP/10.5.26.6000) Nebula WK "
          "RVKType(0) AlipayDefined(nt:WIFI,ws:390|780|3.0) "
          "AlipayClient/10.5.26.6000 Language/zh-Hans Region/CN",
          "mobile", "alipay", 0 },
        { "Taobao iOS",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) "
          "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
          "AliApp(TB/10.25.10) WindVane/8.7.2 1170x2532 WK",
          "mobile", "taobao", 0 },
        { "DingTalk iOS",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) "
          "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
          "AliApp(DingTalk/7.0.45) com.laiwang.DingTalk/30987327 "
          "Channel/201200 language/zh-Hans-CN WK", "mobile", "dingtalk", 0 },
        { "Feishu iOS",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) "
          "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
          "Lark/7.1.5 LarkLocale/zh_CN ChannelName/Feishu",
          "mobile", "feishu", 0 },
        { "Kuaishou Android",
          "Mozilla/5.0 (Linux; Android 12; PFUM10 Build/SKQ1.211019.001; wv) "
          "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 "
          "Chrome/90.0.4430.210 Mobile Safari/537.36 Kwai/11.8.30.35440 "
          "NetType/WIFI", "mobile", "kuaishou", 0 },
        { "UC Browser Android",
          "Mozilla/5.0 (Linux; U; Android 12; zh-CN; V2134A "
          "Build/SP1A.210812.003) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Version/4.0 Chrome/100.0.4896.58 UCBrowser/15.5.0.1263 Mobile "
          "Safari/537.36", "mobile", "uc", 0 },
        { "Quark Android",
          "Mozilla/5.0 (Linux; U; Android 13; zh-CN; 22081212C "
          "Build/TKQ1.220829.002) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Version/4.0 Chrome/100.0.4896.58 Quark/6.5.5.321 Mobile "
          "Safari/537.36", "mobile", "quark", 0 },
        { "Quark iOS",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) "
          "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
          "Quark/6.5.0.2082 Mobile", "mobile", "quark", 0 },
        { "Baidu app iOS",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) "
          "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
          "SP-engine/3.6.0 main%2F1.0 baiduboxapp/13.40.0.10 "
          "(Baidu; P2 16.6) NABar/1.0 themeUA=Theme/default",
          "mobile", "baidu", 0 },
        { "Baidu app Android",
          "Mozilla/5.0 (Linux; Android 12; V2163A Build/SP1A.210812.003; wv) "
          "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 "
          "Chrome/97.0.4692.98 Mobile Safari/537.36 T7/13.40 "
          "SP-engine/2.80.0 baiduboxapp/13.40.0.10 (Baidu; P1 12) NABar/1.0",
          "mobile", "baidu", 0 },
    };

    CHECK_CASES(cases);
}


static void
test_classifies_crawlers_and_tools_as_bots(void **state)
{
    static const ua_case_t  cases[] = {
        BOT("Googlebot",
            "Mozilla/5.0 (compatible; Googlebot/2.1; "
            "+http://www.google.com/bot.html)"),
        BOT("Googlebot smartphone",
            "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) "
            "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.71 "
            "Mobile Safari/537.36 (compatible; Googlebot/2.1; "
            "+http://www.google.com/bot.html)"),
        BOT("AdsBot-Google",
            "AdsBot-Google (+http://www.google.com/adsbot.html)"),
        BOT("Mediapartners-Google", "Mediapartners-Google"),
        BOT("Bingbot",
            "Mozilla/5.0 (compatible; bingbot/2.0; "
            "+http://www.bing.com/bingbot.htm)"),
        BOT("Baiduspider",
            "Mozilla/5.0 (compatible; Baiduspider/2.0; "
            "+http://www.baidu.com/search/spider.html)"),
        BOT("Baiduspider-render on iPhone",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 9_1 like Mac OS X) "
            "AppleWebKit/601.1.46 (KHTML, like Gecko) Version/9.0 "
            "Mobile/13B143 Safari/601.1 (compatible; Baiduspider-render/2.0; "
            "+http://www.baidu.com/search/spider.html)"),
        BOT("YandexBot",
            "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)"),
        BOT("Sogou web spider",
            "Sogou web spider/4.0(+http://www.sogou.com/docs/help/"
            "webmasters.htm#07)"),
        BOT("360Spider",
            "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, "
            "like Gecko) Chrome/50.0.2661.102 Safari/537.36; 360Spider"),
        BOT("HaosouSpider",
            "Mozilla/5.0 (compatible; HaosouSpider; "
            "http://www.haosou.com/help/help_3_2.html)"),
        BOT("Bytespider",
            "Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, "
            "like Gecko) Mobile Safari/537.36 (compatible; Bytespider; "
            "spider-feedback@bytedance.com)"),
        BOT("PetalBot",
            "Mozilla/5.0 (Linux; Android 7.0;) AppleWebKit/537.36 (KHTML, "
            "like Gecko) Mobile Safari/537.36 (compatible; PetalBot;"
            "+https://webmaster.petalsearch.com/site/petalbot)"),
        BOT("YisouSpider",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Chrome/69.0.3497.81 YisouSpider/5.0 "
            "Safari/537.36"),
        BOT("facebookexternalhit",
            "facebookexternalhit/1.1 "
            "(+http://www.facebook.com/externalhit_uatext.php)"),
        BOT("Twitterbot", "Twitterbot/1.0"),
        BOT("Slackbot",
            "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"),
        BOT("curl", "curl/8.4.0"),
        BOT("Wget", "Wget/1.21.3"),
        BOT("python-requests", "python-requests/2.31.0"),
        BOT("Go-http-client", "Go-http-client/1.1"),
        BOT("HeadlessChrome",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like "
            "Gecko) HeadlessChrome/120.0.6099.109 Safari/537.36"),
    };

    CHECK_CASES(cases);
}


/* Every marker the classifier knows, alone in a minimal User-Agent. */
#define M(marker)  "Mozilla/5.0 (" marker ")"

static void
test_knows_every_bot_marker(void **state)
{
    static const ua_case_t  cases[] = {
        BOT("+http", M("compatible; Example/1.0; +http://example.com")),
        BOT("-Google", M("APIs-Google")),
        BOT("aiohttp", M("aiohttp/3.9")),
        BOT("anthropic-ai", M("anthropic-ai")),
        BOT("axios", M("axios/1.6.2")),
        BOT("bot word", M("ExampleBot/1.0")),
        BOT("BingPreview", M("BingPreview/1.0b")),
        BOT("crawl", M("Example crawler")),
        BOT("curl", M("curl/8.4.0")),
        BOT("ChatGPT-User", M("ChatGPT-User/1.0")),
        BOT("Embedly", M("Embedly/0.2")),
        BOT("facebookexternalhit", M("facebookexternalhit/1.1")),
        BOT("facebookcatalog", M("facebookcatalog/1.0")),
        BOT("Go-http-client", M("Go-http-client/2.0")),
        BOT("Google-", M("Google-InspectionTool/1.0")),
        BOT("GoogleOther", M("GoogleOther")),
        BOT("GoogleImageProxy", M("GoogleImageProxy")),
        BOT("GuzzleHttp", M("GuzzleHttp/7")),
        BOT("Headless", M("HeadlessChrome/120.0")),
        BOT("HttpClient", M("Apache-HttpClient/4.5.14")),
        BOT("HTTPie", M("HTTPie/3.2.2")),
        BOT("ia_archiver", M("ia_archiver")),
        BOT("insomnia", M("insomnia/2023.5.8")),
        BOT("Java", M("Java/17.0.2")),
        BOT("libwww", M("libwww-perl/6.72")),
        BOT("Lighthouse", M("Chrome-Lighthouse")),
        BOT("meta-externalagent", M("meta-externalagent/1.1")),
        BOT("meta-externalfetcher", M("meta-externalfetcher/1.1")),
        BOT("node-fetch", M("node-fetch/1.0")),
        BOT("PhantomJS", M("PhantomJS/2.1.1")),
        BOT("PostmanRuntime", M("PostmanRuntime/7.36.0")),
        BOT("PowerShell", M("WindowsPowerShell/5.1")),
        BOT("python-", M("python-requests/2.31.0")),
        BOT("Python/", M("Python/3.11")),
        BOT("Scrapy", M("Scrapy/2.11")),
        BOT("Slurp", M("Yahoo! Slurp")),
        BOT("spider", M("Sogou web spider/4.0")),
        BOT("undici", M("undici")),
        BOT("UriPreview", M("SkypeUriPreview Preview/0.5")),
        BOT("Wget", M("Wget/1.21.3")),
    };

    CHECK_CASES(cases);
}


static void
test_knows_every_device_marker(void **state)
{
    static const ua_case_t  cases[] = {
        { "iPad", M("iPad"), "tablet", "other", 0 },
        { "iPod", M("iPod touch"), "mobile", "other", 0 },
        { "Mobile", M("Mobile"), "mobile", "other", 0 },
        { "Phone", M("Windows Phone 10.0"), "mobile", "other", 0 },
        { "BlackBerry", M("BlackBerry 9900"), "mobile", "other", 0 },
        { "BB10", M("BB10; Touch"), "mobile", "other", 0 },
        { "Kindle", M("Kindle/3.0"), "tablet", "other", 0 },
        { "Silk", M("Silk/120.3"), "tablet", "other", 0 },
        { "PlayBook", M("PlayBook; U; RIM Tablet OS"), "tablet", "other", 0 },
        { "Tablet", M("Tablet; rv:121.0"), "tablet", "other", 0 },
        { "Android alone", M("Linux; Android 13"), "tablet", "other", 0 },
        { "Android Mobile", M("Linux; Android 13; Mobile"),
          "mobile", "other", 0 },
        { "Chrome on Android", M("Android 13) Chrome/120 Mobile"),
          "mobile", "chrome", 0 },
        { "WebView", M("Android 13; wv) Chrome/120 Mobile"),
          "mobile", "other", 0 },
        { "old WebView", M("Android 4.4) Version/4.0 Chrome/30 Mobile"),
          "mobile", "other", 0 },
        { "wv) elsewhere", M("Android 13) Chrome/120 Mobile wv)"),
          "mobile", "chrome", 0 },
    };

    CHECK_CASES(cases);
}


static void
test_knows_every_browser_marker(void **state)
{
    static const ua_case_t  cases[] = {
        { "360SE", M("360SE"), "desktop", "360", 0 },
        { "360EE", M("360EE"), "desktop", "360", 0 },
        { "360Browser", M("360Browser/10"), "desktop", "360", 0 },
        { "QihooBrowser", M("QihooBrowser/4.0"), "desktop", "360", 0 },
        { "QHBrowser", M("QHBrowser"), "desktop", "360", 0 },
        { "AlipayClient", M("AlipayClient/10.5"), "desktop", "alipay", 0 },
        { "AliApp(TB", M("AliApp(TB/10.25)"), "desktop", "taobao", 0 },
        { "aweme", M("aweme_23.5.0"), "desktop", "douyin", 0 },
        { "BytedanceWebview", M("BytedanceWebview/d8a21c6"),
          "desktop", "douyin", 0 },
        { "baiduboxapp", M("baiduboxapp/13.40"), "desktop", "baidu", 0 },
        { "BaiduBrowser", M("BaiduBrowser/7.6"), "desktop", "baidu", 0 },
        { "Chrome", M("Chrome/120.0"), "desktop", "chrome", 0 },
        { "CriOS", M("CriOS/120.0"), "desktop", "chrome", 0 },
        { "discover/", M("discover/8.7"), "desktop", "xiaohongshu", 0 },
        { "discover/ without a version", M("discover/x"),
          "desktop", "other", 0 },
        { "DingTalk", M("DingTalk/7.0"), "desktop", "dingtalk", 0 },
        { "Edg", M("Edg/120.0"), "desktop", "edge", 0 },
        { "EdgA", M("EdgA/120.0"), "desktop", "edge", 0 },
        { "EdgiOS", M("EdgiOS/120.0"), "desktop", "edge", 0 },
        { "Edge", M("Edge/18.19045"), "desktop", "edge", 0 },
        { "Feishu", M("Feishu"), "desktop", "feishu", 0 },
        { "Lark", M("Lark/7.1.5"), "desktop", "feishu", 0 },
        { "Firefox", M("Firefox/121.0"), "desktop", "firefox", 0 },
        { "FxiOS", M("FxiOS/121.0"), "desktop", "firefox", 0 },
        { "HeyTapBrowser", M("HeyTapBrowser/40.8"), "desktop", "oppo", 0 },
        { "OppoBrowser", M("OppoBrowser/10.5"), "desktop", "oppo", 0 },
        { "HuaweiBrowser", M("HuaweiBrowser/14.0"), "desktop", "huawei", 0 },
        { "Kwai", M("Kwai/11.8"), "desktop", "kuaishou", 0 },
        { "ksNebula", M("ksNebula/11.8"), "desktop", "kuaishou", 0 },
        { "MetaSr", M("SE 2.X MetaSr 1.0"), "desktop", "sogou", 0 },
        /* its name says Mobile */
        { "SogouMobileBrowser", M("SogouMobileBrowser/5.3"),
          "mobile", "sogou", 0 },
        { "SogouMSE", M("SogouMSE"), "desktop", "sogou", 0 },
        { "MicroMessenger", M("MicroMessenger/8.0"), "desktop", "wechat", 0 },
        { "MiuiBrowser", M("XiaoMi/MiuiBrowser/17.7"),
          "desktop", "xiaomi", 0 },
        { "MSIE", M("compatible; MSIE 9.0"), "desktop", "ie", 0 },
        { "Trident", M("Trident/7.0; rv:11.0"), "desktop", "ie", 0 },
        { "NewsArticle", M("NewsArticle/9.3"), "desktop", "toutiao", 0 },
        { "OPR", M("OPR/105.0"), "desktop", "opera", 0 },
        { "Opera", M("Opera/9.80"), "desktop", "opera", 0 },
        { "OPiOS", M("OPiOS/16.0"), "desktop", "opera", 0 },
        { "OPT", M("OPT/4.3"), "desktop", "opera", 0 },
        { "QQ", M("QQ/8.9.80"), "desktop", "qq", 0 },
        { "QQ/ inside a word", M("MQQ/8.9.80"), "desktop", "other", 0 },
        { "QQBrowser", M("QQBrowser/13.8"), "desktop", "qqbrowser", 0 },
        { "Quark", M("Quark/6.5"), "desktop", "quark", 0 },
        { "Safari", M("Safari/605.1.15"), "desktop", "safari", 0 },
        { "SamsungBrowser", M("SamsungBrowser/23.0"),
          "desktop", "samsung", 0 },
        { "UCBrowser", M("UCBrowser/15.5"), "desktop", "uc", 0 },
        { "UCWEB", M("UCWEB/2.0"), "desktop", "uc", 0 },
        { "Version alone", M("Version/4.0"), "desktop", "other", 0 },
        { "VivoBrowser", M("VivoBrowser/14.5"), "desktop", "vivo", 0 },
        { "Weibo", M("Weibo"), "desktop", "weibo", 0 },
        { "wxwork", M("wxwork/4.1"), "desktop", "wecom", 0 },
        { "XiaoHongShu", M("XiaoHongShu/8.7"), "desktop", "xiaohongshu", 0 },
        { "YaBrowser", M("YaBrowser/23.11"), "desktop", "yandex", 0 },
    };

    CHECK_CASES(cases);
}


static void
test_empty_user_agent_is_a_bot(void **state)
{
    mkt_ua_t  ua;

    mkt_ua_classify(NULL, 0, &ua);

    assert_int_equal(ua.device, MKT_UA_BOT);
    assert_int_equal(ua.browser, MKT_UA_BROWSER_BOT);
    assert_int_equal(ua.bot, 1);
}


static void
test_binary_garbage_is_an_unknown_desktop(void **state)
{
    static const char  garbage[] = "\x00\x01\xff\xfe\x80\xc3\x28\x9f\x92"
                                   "\x96\x00\x7f\xe4\xb8";
    mkt_ua_t           ua;

    mkt_ua_classify(garbage, sizeof(garbage) - 1, &ua);

    assert_int_equal(ua.device, MKT_UA_DESKTOP);
    assert_int_equal(ua.browser, MKT_UA_OTHER);
    assert_int_equal(ua.bot, 0);
}


static void
test_tokens_match_in_any_case(void **state)
{
    static const char  ua_text[] = "MOZILLA/5.0 (IPHONE; CPU IPHONE OS 16_6) "
                                   "MICROMESSENGER/8.0.42";
    mkt_ua_t           ua;

    mkt_ua_classify(ua_text, sizeof(ua_text) - 1, &ua);

    assert_int_equal(ua.device, MKT_UA_MOBILE);
    assert_int_equal(ua.browser, MKT_UA_WECHAT);
}


static void
test_reads_only_len_bytes(void **state)
{
    mkt_ua_t  ua;

    /* "curl/8" cut to "cur" names nothing */
    mkt_ua_classify("curl/8.4.0", 3, &ua);

    assert_int_equal(ua.bot, 0);
    assert_int_equal(ua.browser, MKT_UA_OTHER);
}


static void
test_ignores_tokens_past_scan_max(void **state)
{
    char      buf[MKT_UA_SCAN_MAX + 64];
    mkt_ua_t  ua;

    /* "Googlebot" ending exactly at the limit is seen ... */
    memset(buf, 'x', sizeof(buf));
    memcpy(buf + MKT_UA_SCAN_MAX - 9, "Googlebot", 9);
    mkt_ua_classify(buf, sizeof(buf), &ua);
    assert_int_equal(ua.bot, 1);

    /* ... one byte later it is not */
    memset(buf, 'x', sizeof(buf));
    memcpy(buf + MKT_UA_SCAN_MAX - 8, "Googlebot", 9);
    mkt_ua_classify(buf, sizeof(buf), &ua);
    assert_int_equal(ua.bot, 0);
}


static int
is_bot(const char *ua_text)
{
    mkt_ua_t  ua;

    mkt_ua_classify(ua_text, strlen(ua_text), &ua);
    return ua.bot;
}


static void
test_bot_word_needs_a_word_end(void **state)
{
    assert_false(is_bot("Mozilla/5.0 (Botanic 1.0)"));
    assert_false(is_bot("Mozilla/5.0 (Linux; Android 11; CUBOT_X30)"));
    assert_true(is_bot("ExampleBot"));
    assert_true(is_bot("ExampleBot/1.0"));
    assert_true(is_bot("Mozilla/5.0 (see example.com/bots)"));
    assert_false(is_bot("Mozilla/5.0 (see example.com/botsworth)"));
}


static void
test_tablet_pc_is_not_a_tablet(void **state)
{
    static const char  ua_text[] = "Mozilla/5.0 (Windows NT 6.1; "
                                   "Tablet PC 2.0)";
    mkt_ua_t           ua;

    mkt_ua_classify(ua_text, sizeof(ua_text) - 1, &ua);
    assert_int_equal(ua.device, MKT_UA_DESKTOP);
}


static void
test_names_every_class(void **state)
{
    static const char *const  devices[] = {
        "desktop", "mobile", "tablet", "bot"
    };
    static const char *const  browsers[] = {
        "other", "bot", "chrome", "safari", "firefox", "edge", "opera", "ie",
        "samsung", "yandex", "wechat", "wecom", "qq", "qqbrowser", "weibo",
        "douyin", "toutiao", "kuaishou", "xiaohongshu", "alipay", "taobao",
        "dingtalk", "feishu", "baidu", "quark", "uc", "sogou", "360",
        "huawei", "xiaomi", "vivo", "oppo"
    };
    int                       i;

    assert_int_equal(MKT_UA_DEVICE_COUNT, 4);
    assert_int_equal(MKT_UA_BROWSER_COUNT, 32);

    for (i = 0; i < MKT_UA_DEVICE_COUNT; i++) {
        assert_string_equal(mkt_ua_device_name((mkt_ua_device_t) i),
                            devices[i]);
    }
    for (i = 0; i < MKT_UA_BROWSER_COUNT; i++) {
        assert_string_equal(mkt_ua_browser_name((mkt_ua_browser_t) i),
                            browsers[i]);
    }
}


static void
test_names_out_of_range_as_unrecognised(void **state)
{
    assert_string_equal(mkt_ua_device_name(MKT_UA_DEVICE_COUNT), "desktop");
    assert_string_equal(mkt_ua_device_name((mkt_ua_device_t) -1), "desktop");
    assert_string_equal(mkt_ua_browser_name(MKT_UA_BROWSER_COUNT), "other");
    assert_string_equal(mkt_ua_browser_name((mkt_ua_browser_t) -1), "other");
}


#define CHROME_UA                                                             \
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "          \
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"


static void
test_cache_answers_a_repeated_user_agent_from_memory(void **state)
{
    mkt_ua_t        ua;
    mkt_ua_cache_t  c;

    memset(&c, 0, sizeof(c));
    mkt_ua_classify_cached(&c, CHROME_UA, strlen(CHROME_UA), &ua);
    assert_int_equal(c.hits, 0);
    mkt_ua_classify_cached(&c, CHROME_UA, strlen(CHROME_UA), &ua);
    assert_int_equal(c.hits, 1);
    assert_string_equal(mkt_ua_device_name(ua.device), "desktop");
    assert_string_equal(mkt_ua_browser_name(ua.browser), "chrome");
    assert_int_equal(ua.bot, 0);
}


/* Two User-Agents of one length that share a slot (found by trying: the
 * third lookup of the first misses) each keep their own classes. */
static void
test_cache_tells_apart_user_agents_of_one_slot(void **state)
{
    char            bot[sizeof(CHROME_UA)];
    size_t          len, i, hits;
    mkt_ua_t        ua;
    mkt_ua_cache_t  c;

    len = strlen(CHROME_UA);
    memset(&c, 0, sizeof(c));

    for (i = 0; i < 100000; i++) {
        memset(bot, 'x', len);
        memcpy(bot, "Googlebot/2.1", 13);
        (void) snprintf(bot + 13, len - 13 + 1, "%0*zu", (int) (len - 13), i);

        mkt_ua_classify_cached(&c, CHROME_UA, len, &ua);
        mkt_ua_classify_cached(&c, bot, len, &ua);
        assert_int_equal(ua.bot, 1);
        assert_string_equal(mkt_ua_device_name(ua.device), "bot");

        hits = c.hits;
        mkt_ua_classify_cached(&c, CHROME_UA, len, &ua);
        assert_int_equal(ua.bot, 0);
        assert_string_equal(mkt_ua_browser_name(ua.browser), "chrome");
        if (c.hits == hits) {
            break;                      /* the bot took the slot */
        }
    }
    assert_true(i < 100000);

    /* and a hit on the bot is the bot */
    mkt_ua_classify_cached(&c, bot, len, &ua);
    mkt_ua_classify_cached(&c, bot, len, &ua);
    assert_int_equal(ua.bot, 1);
}


static void
test_cache_classifies_long_user_agents_each_time(void **state)
{
    char            s[MKT_UA_CACHE_LEN + 2];
    mkt_ua_t        ua;
    mkt_ua_cache_t  c;

    memset(&c, 0, sizeof(c));
    memset(s, 'a', sizeof(s) - 1);
    s[sizeof(s) - 1] = '\0';
    memcpy(s + 100, " iPad ", 6);

    mkt_ua_classify_cached(&c, s, MKT_UA_CACHE_LEN + 1, &ua);
    mkt_ua_classify_cached(&c, s, MKT_UA_CACHE_LEN + 1, &ua);
    assert_int_equal(c.hits, 0);
    assert_string_equal(mkt_ua_device_name(ua.device), "tablet");

    /* the longest that is kept */
    mkt_ua_classify_cached(&c, s, MKT_UA_CACHE_LEN, &ua);
    mkt_ua_classify_cached(&c, s, MKT_UA_CACHE_LEN, &ua);
    assert_int_equal(c.hits, 1);
    assert_string_equal(mkt_ua_device_name(ua.device), "tablet");

    /* no User-Agent: a bot, never kept */
    mkt_ua_classify_cached(&c, NULL, 0, &ua);
    mkt_ua_classify_cached(&c, NULL, 0, &ua);
    assert_int_equal(c.hits, 1);
    assert_int_equal(ua.bot, 1);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cache_answers_a_repeated_user_agent_from_memory),
        cmocka_unit_test(test_cache_tells_apart_user_agents_of_one_slot),
        cmocka_unit_test(test_cache_classifies_long_user_agents_each_time),
        cmocka_unit_test(test_classifies_desktop_browsers),
        cmocka_unit_test(test_classifies_mobile_and_tablet_browsers),
        cmocka_unit_test(test_classifies_chinese_in_app_browsers_by_app),
        cmocka_unit_test(test_classifies_crawlers_and_tools_as_bots),
        cmocka_unit_test(test_knows_every_bot_marker),
        cmocka_unit_test(test_knows_every_device_marker),
        cmocka_unit_test(test_knows_every_browser_marker),
        cmocka_unit_test(test_empty_user_agent_is_a_bot),
        cmocka_unit_test(test_binary_garbage_is_an_unknown_desktop),
        cmocka_unit_test(test_tokens_match_in_any_case),
        cmocka_unit_test(test_reads_only_len_bytes),
        cmocka_unit_test(test_ignores_tokens_past_scan_max),
        cmocka_unit_test(test_bot_word_needs_a_word_end),
        cmocka_unit_test(test_tablet_pc_is_not_a_tablet),
        cmocka_unit_test(test_names_every_class),
        cmocka_unit_test(test_names_out_of_range_as_unrecognised),
    };

    return cmocka_run_group_tests_name("useragent", tests, NULL, NULL);
}
