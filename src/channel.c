/* Channel grouping as a table of rules, tried in order.  A rule holds when
 * both of its conditions do; the order follows GA4's default channel
 * group, with video before social (YouTube ads are paid video) and a few
 * common medium spellings added.  docs/attribution.md has the same table:
 * change both together. */
#include <stdio.h>
#include <string.h>

#include "channel.h"
#include "referrer.h"
#include "text.h"

typedef enum {
    IF_ANY = 0,
    IF_DIRECT,
    IF_CLICK,                   /* the click id is of kind `flag` */
    IF_SOURCE_IS,               /* the source has MKT_SRC_ `flag` */
    IF_SOURCE_IN,               /* the source is a word of `words` */
    IF_MEDIUM_IN,
    IF_MEDIUM_PAID,             /* GA4: ^(.*cp.*|ppc|retargeting|paid.*)$ */
    IF_MEDIUM_HAS,              /* the medium contains a word of `words` */
    IF_MEDIUM_ENDS              /* ... ends with one */
} test_e;

typedef struct {
    test_e        test;
    unsigned      flag;
    const char   *words;        /* '|'-separated, lowercase */
    const char   *text;         /* in words, unless made of `words` */
} cond_t;

typedef struct {
    mkt_channel_e  channel;
    cond_t         a;
    cond_t         b;
} rule_t;

#define ANY                { IF_ANY, 0, NULL, NULL }
#define DIRECT             { IF_DIRECT, 0, NULL,                             \
                             "no touch: no referrer and no campaign" }
#define CLICK(k, t)        { IF_CLICK, MKT_CLICK_##k, NULL, t }
#define SOURCE_IS(f, t)    { IF_SOURCE_IS, MKT_SRC_##f, NULL, "source is " t }
#define SOURCE_IN(w)       { IF_SOURCE_IN, 0, w, NULL }
#define MEDIUM_IN(w)       { IF_MEDIUM_IN, 0, w, NULL }
#define MEDIUM_PAID        { IF_MEDIUM_PAID, 0, NULL, "medium is paid" }
#define MEDIUM_HAS(w)      { IF_MEDIUM_HAS, 0, w, NULL }
#define MEDIUM_ENDS(w)     { IF_MEDIUM_ENDS, 0, w, NULL }

#define RULE(ch, a, b)     { MKT_CHANNEL_##ch, a, b }

#define EMAIL_WORDS   "email|e-mail|e_mail|e mail"
#define SOCIAL_WORDS  "social|social-network|social-media|sm|social network" \
                      "|social media"

static const rule_t  rules[] = {
    RULE(DIRECT, DIRECT, ANY),

    /* gclid and msclkid come only with ad clicks; fbclid and the other
     * social ones also with organic posts, so they count through their
     * network and medium cpc (touch.c), and tags can say otherwise */
    RULE(PAID_SEARCH,
         CLICK(SEARCH, "click id `gclid`, `gbraid`, `wbraid` or `msclkid`"),
         ANY),
    RULE(PAID_SEARCH,
         MEDIUM_IN("paidsearch|paid_search|paid-search|sem"), ANY),
    RULE(PAID_SOCIAL,
         MEDIUM_IN("paidsocial|paid_social|paid-social"), ANY),
    RULE(PAID_VIDEO, MEDIUM_IN("paidvideo|paid_video|paid-video"), ANY),
    RULE(PAID_SEARCH, SOURCE_IS(SEARCH, "search"), MEDIUM_PAID),
    RULE(PAID_VIDEO, SOURCE_IS(VIDEO, "video"), MEDIUM_PAID),
    RULE(PAID_SOCIAL, SOURCE_IS(SOCIAL, "social"), MEDIUM_PAID),
    RULE(DISPLAY,
         MEDIUM_IN("display|banner|expandable|interstitial|cpm"), ANY),
    RULE(PAID_OTHER, MEDIUM_PAID, ANY),

    RULE(ORGANIC_VIDEO, SOURCE_IS(VIDEO, "video"), ANY),
    RULE(ORGANIC_VIDEO, MEDIUM_HAS("video"), ANY),
    RULE(ORGANIC_SOCIAL, SOURCE_IS(SOCIAL, "social"), ANY),
    RULE(ORGANIC_SOCIAL, MEDIUM_IN(SOCIAL_WORDS), ANY),
    RULE(ORGANIC_SEARCH, SOURCE_IS(SEARCH, "search"), ANY),
    RULE(ORGANIC_SEARCH, MEDIUM_IN("organic"), ANY),
    RULE(REFERRAL, MEDIUM_IN("referral|app|link"), ANY),

    RULE(EMAIL, SOURCE_IN(EMAIL_WORDS), ANY),
    RULE(EMAIL, MEDIUM_IN(EMAIL_WORDS), ANY),
    RULE(EMAIL, SOURCE_IS(EMAIL, "email (webmail)"), ANY),
    RULE(AFFILIATE, MEDIUM_IN("affiliate|affiliates"), ANY),
    RULE(AUDIO, MEDIUM_IN("audio"), ANY),
    RULE(SMS, SOURCE_IN("sms"), ANY),
    RULE(SMS, MEDIUM_IN("sms"), ANY),
    RULE(MOBILE_PUSH, MEDIUM_ENDS("push"), ANY),
    RULE(MOBILE_PUSH, MEDIUM_HAS("mobile|notification"), ANY),
    RULE(MOBILE_PUSH, SOURCE_IN("firebase"), ANY),

    RULE(UNASSIGNED, ANY, ANY)
};

static const char *const  names[MKT_CHANNEL_COUNT] = {
    "direct", "paid_search", "paid_social", "paid_video", "display",
    "paid_other", "organic_search", "organic_social", "organic_video",
    "email", "affiliate", "referral", "audio", "sms", "mobile_push",
    "unassigned"
};


static int
lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}


/* s[0 .. len) equals w[0 .. wlen) ASCII case-insensitively (w is
 * lowercase) */
static int
same(const char *s, const char *w, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (lower((unsigned char) s[i]) != w[i]) {
            return 0;
        }
    }
    return 1;
}


typedef enum {
    WHOLE = 0,
    INSIDE,
    AT_END
} where_e;


/* s is (or contains, or ends with) one of the '|'-separated words */
static int
matches(const char *s, size_t len, const char *words, where_e where)
{
    size_t       wlen, i;
    const char  *w, *bar;

    for (w = words; ; w = bar + 1) {
        bar = strchr(w, '|');
        wlen = bar ? (size_t) (bar - w) : strlen(w);

        if (where == WHOLE) {
            if (wlen == len && same(s, w, len)) {
                return 1;
            }
        } else if (where == AT_END) {
            if (wlen <= len && same(s + len - wlen, w, wlen)) {
                return 1;
            }
        } else {
            for (i = 0; i + wlen <= len; i++) {
                if (same(s + i, w, wlen)) {
                    return 1;
                }
            }
        }

        if (bar == NULL) {
            return 0;
        }
    }
}


/* GA4's paid medium: contains "cp", is "ppc" or "retargeting", or starts
 * with "paid". */
static int
paid_medium(const char *m, size_t len)
{
    return matches(m, len, "cp", INSIDE)
           || matches(m, len, "ppc|retargeting", WHOLE)
           || (len >= 4 && same(m, "paid", 4));
}


static int
holds(const cond_t *c, const mkt_channel_in_t *in)
{
    switch (c->test) {
    case IF_ANY:
        return 1;
    case IF_DIRECT:
        return in->direct;
    case IF_CLICK:
        return in->click == (mkt_click_kind_e) c->flag;
    case IF_SOURCE_IS:
        return (in->source_flags & c->flag) != 0;
    case IF_SOURCE_IN:
        return matches(in->source, in->source_len, c->words, WHOLE);
    case IF_MEDIUM_IN:
        return matches(in->medium, in->medium_len, c->words, WHOLE);
    case IF_MEDIUM_PAID:
        return paid_medium(in->medium, in->medium_len);
    case IF_MEDIUM_HAS:
        return matches(in->medium, in->medium_len, c->words, INSIDE);
    case IF_MEDIUM_ENDS:
        return matches(in->medium, in->medium_len, c->words, AT_END);
    }
    return 0;
}


mkt_channel_e
mkt_channel_classify(const mkt_channel_in_t *in)
{
    size_t  i;

    for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        if (holds(&rules[i].a, in) && holds(&rules[i].b, in)) {
            return rules[i].channel;
        }
    }
    return MKT_CHANNEL_UNASSIGNED;
}


const char *
mkt_channel_name(mkt_channel_e ch)
{
    return (unsigned) ch < MKT_CHANNEL_COUNT ? names[ch] : "unassigned";
}


static void
add(char *buf, size_t cap, size_t *n, const char *s)
{
    mkt_text_append(buf, cap, n, s, strlen(s));
}


/* "`a`", "`a` or `b`", "`a`, `b` or `c`" */
static void
put_words(char *buf, size_t cap, size_t *n, const char *words)
{
    size_t       len;
    const char  *w, *bar;

    for (w = words; ; w = bar + 1) {
        bar = strchr(w, '|');
        len = bar ? (size_t) (bar - w) : strlen(w);
        if (w != words) {
            add(buf, cap, n, bar ? ", " : " or ");
        }
        add(buf, cap, n, "`");
        mkt_text_append(buf, cap, n, w, len);
        add(buf, cap, n, "`");
        if (bar == NULL) {
            return;
        }
    }
}


static void
put_cond(char *buf, size_t cap, size_t *n, const cond_t *c)
{
    static const char *const  verbs[] = {
        NULL, NULL, NULL, NULL, "source is ", "medium is ", NULL,
        "medium contains ", "medium ends with "
    };

    if (c->text != NULL) {
        add(buf, cap, n, c->text);
        return;
    }
    add(buf, cap, n, verbs[c->test]);
    put_words(buf, cap, n, c->words);
}


size_t
mkt_channel_rule_text(size_t i, char *buf, size_t cap)
{
    char          num[24];
    size_t        n;
    const rule_t  *r;

    if (i >= sizeof(rules) / sizeof(rules[0]) || cap == 0) {
        return 0;
    }
    r = &rules[i];

    n = 0;
    snprintf(num, sizeof(num), "| %zu | `", i + 1);
    add(buf, cap, &n, num);
    add(buf, cap, &n, names[r->channel]);
    add(buf, cap, &n, "` | ");
    if (r->a.test == IF_ANY) {
        add(buf, cap, &n, "anything else");
    } else {
        put_cond(buf, cap, &n, &r->a);
    }
    if (r->b.test != IF_ANY) {
        add(buf, cap, &n, " and ");
        put_cond(buf, cap, &n, &r->b);
    }
    add(buf, cap, &n, " |");
    return n;
}
