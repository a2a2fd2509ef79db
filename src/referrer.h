/* Where a visitor came from by the Referer header (DESIGN.md section 5):
 * the referrer's host, its class (search, social, email, referral or the
 * same site) and the source name a touch records; and what a source name
 * (utm_source, ...) says about its kind, for channel grouping. */
#ifndef MKT_REFERRER_H
#define MKT_REFERRER_H

#include <stddef.h>

#include "config.h"
#include "domain.h"

/* Only the first bytes of a Referer are read: the host is near the start. */
#define MKT_REFERER_SCAN_MAX  1024

typedef enum {
    MKT_REF_NONE = 0,           /* no Referer */
    MKT_REF_INVALID,            /* not an http(s) or android-app URL with
                                 * a valid host */
    MKT_REF_SAME_SITE,          /* the request's site or referrers.same_site:
                                 * not a touch */
    MKT_REF_SEARCH,
    MKT_REF_SOCIAL,
    MKT_REF_EMAIL,              /* webmail: mail.qq.com, mail.google.com */
    MKT_REF_REFERRAL            /* any other site or app */
} mkt_ref_class_e;

/* What a source is (bits): channel grouping asks "is the source a search
 * engine, a social network, a video site, a mail service". */
#define MKT_SRC_SEARCH  0x01u
#define MKT_SRC_SOCIAL  0x02u
#define MKT_SRC_VIDEO   0x04u
#define MKT_SRC_EMAIL   0x08u

typedef struct {
    mkt_ref_class_e  cls;
    unsigned         flags;                 /* MKT_SRC_* of the source */
    size_t           host_len;              /* 0 for NONE and INVALID */
    size_t           source_len;            /* 0 unless an external class */
    char             host[MKT_HOST_MAX];    /* normalised (domain.h); an
                                             * android-app's package */
    char             source[MKT_HOST_MAX];  /* "baidu", "xiaohongshu", ...;
                                             * a referral's host */
} mkt_referrer_t;

/*
 * Classifies a Referer value (len bytes, any bytes) for a request to host
 * (its Host header, port allowed; len 0 if unknown).  refs (NULL: none)
 * adds the config's same-site, search and social hosts.  Same site: the
 * referrer's registrable domain is the request host's, or the referrer is
 * a same_site host or under one.  Otherwise the config's lists, then the
 * built-in tables, decide; each entry matches its host and subdomains,
 * never a longer name (notbaidu.com is not baidu.com), and the most
 * specific entry wins (weixin.qq.com is wechat, qq.com is qq).  Google,
 * Bing, Yahoo, Yandex and Pinterest match under every public suffix
 * (google.co.uk).  No allocation; reads at most MKT_REFERER_SCAN_MAX
 * bytes.
 */
void mkt_referrer_classify(const mkt_referrers_t *refs, const char *referer,
    size_t len, const char *host, size_t host_len, mkt_referrer_t *out);

/*
 * MKT_SRC_* bits of a source name as utm_source or a channel code gives
 * it: a known name or alias ("baidu", "fb", "xhs", "wechat"), compared
 * ASCII case-insensitively, or a host name ("m.facebook.com") looked up as
 * a referrer's.  0 for anything else.
 */
unsigned mkt_source_flags(const mkt_referrers_t *refs, const char *source,
    size_t len);

/* "none", "invalid", "same_site", "search", "social", "email",
 * "referral". */
const char *mkt_ref_class_name(mkt_ref_class_e cls);

#endif
