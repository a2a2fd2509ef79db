/* libFuzzer target for src/referrer.c and src/domain.c.  The input is a
 * Referer value, optionally followed by '\n' and the request's Host.
 * Checked: classes, lengths and flags are consistent; the host is the
 * normalised authority of the URL; the same site is what the registrable
 * domains or the config say; a search, social or email source has the
 * flags mkt_source_flags() gives its name; case in the scheme and host
 * changes nothing; normalisation is idempotent and sites sit on label
 * boundaries. */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "referrer.h"

#define CHECK(c)  do { if (!(c)) { __builtin_trap(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char  config_json[] =
    "{\"referrers\": {\"same_site\": [\"example.cn\", \"com.example.app\"],"
    " \"search\": [\"search.example.net\", \"qq.com\"],"
    " \"social\": [\"my-community.cn\", \"douyin.com\"]}}";

static mkt_config_t           *cfg;
static const mkt_referrers_t  *refs;


static int
lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}


/* needle occurs in hay, ASCII case-insensitively */
static int
contains_nocase(const uint8_t *hay, size_t len, const char *needle,
    size_t nlen)
{
    size_t  i, j;

    for (i = 0; i + nlen <= len; i++) {
        for (j = 0; j < nlen && lower(hay[i + j]) == lower(needle[j]); j++) {
        }
        if (j == nlen) {
            return 1;
        }
    }
    return 0;
}


static void
check_domain(const char *host, size_t len)
{
    char    again[MKT_HOST_MAX];
    size_t  site;

    CHECK(mkt_host_normalize(host, len, again) == len);
    CHECK(memcmp(again, host, len) == 0);

    site = mkt_host_site(host, len);
    CHECK(site < len || len == 0);
    CHECK(site == 0 || host[site - 1] == '.');
    CHECK(mkt_host_within(host, len, host + site, len - site));
}


static void
classify(const uint8_t *ref, size_t len, const uint8_t *host,
    size_t host_len, int with_config, mkt_referrer_t *r)
{
    mkt_referrer_classify(with_config ? refs : NULL, (const char *) ref, len,
                          (const char *) host, host_len, r);
}


static void
check(const uint8_t *ref, size_t len, const uint8_t *host, size_t host_len,
    int with_config)
{
    char            req[MKT_HOST_MAX];
    size_t          rlen, s1, s2;
    uint8_t        *upper;
    unsigned        want;
    mkt_referrer_t  r, u;

    memset(&r, 0xa5, sizeof(r));
    classify(ref, len, host, host_len, with_config, &r);

    CHECK(r.cls <= MKT_REF_REFERRAL);
    CHECK(strcmp(mkt_ref_class_name(r.cls), "none") != 0
          || r.cls == MKT_REF_NONE);
    CHECK(r.host_len <= MKT_HOST_MAX && r.source_len <= MKT_HOST_MAX);
    CHECK((r.cls == MKT_REF_NONE) == (len == 0));

    if (r.cls == MKT_REF_NONE || r.cls == MKT_REF_INVALID) {
        CHECK(r.host_len == 0 && r.source_len == 0 && r.flags == 0);
        return;
    }

    /* a normalised host that the URL spells, within the scanned bytes */
    CHECK(r.host_len > 0);
    check_domain(r.host, r.host_len);
    CHECK(contains_nocase(ref, len < MKT_REFERER_SCAN_MAX
                               ? len : MKT_REFERER_SCAN_MAX,
                          r.host, r.host_len));

    switch (r.cls) {
    case MKT_REF_SAME_SITE:
        CHECK(r.source_len == 0 && r.flags == 0);
        rlen = host_len ? mkt_host_normalize((const char *) host, host_len,
                                             req)
                        : 0;
        s1 = mkt_host_site(r.host, r.host_len);
        s2 = rlen ? mkt_host_site(req, rlen) : 0;
        CHECK((with_config
               && mkt_host_list_match(&refs->same_site, r.host, r.host_len))
              || (rlen && r.host_len - s1 == rlen - s2
                  && memcmp(r.host + s1, req + s2, rlen - s2) == 0));
        break;

    case MKT_REF_REFERRAL:
        CHECK(r.flags == 0);
        CHECK(r.source_len == r.host_len
              && memcmp(r.source, r.host, r.host_len) == 0);
        break;

    default:
        want = r.cls == MKT_REF_SEARCH ? MKT_SRC_SEARCH
               : r.cls == MKT_REF_SOCIAL ? MKT_SRC_SOCIAL : MKT_SRC_EMAIL;
        CHECK((r.flags & ~MKT_SRC_VIDEO) == want);
        CHECK(r.source_len > 0);
        CHECK(mkt_source_flags(with_config ? refs : NULL, r.source,
                               r.source_len) == r.flags);
        break;
    }

    /* the scheme and host are case-insensitive, the rest is not read */
    upper = malloc(len);
    CHECK(upper != NULL);
    for (s1 = 0; s1 < len; s1++) {
        upper[s1] = ref[s1] >= 'a' && ref[s1] <= 'z' ? ref[s1] - 32 : ref[s1];
    }
    classify(upper, len, host, host_len, with_config, &u);
    free(upper);
    CHECK(u.cls == r.cls && u.flags == r.flags);
    CHECK(u.host_len == r.host_len
          && memcmp(u.host, r.host, r.host_len) == 0);
    CHECK(u.source_len == r.source_len
          && memcmp(u.source, r.source, r.source_len) == 0);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char            norm[MKT_HOST_MAX];
    size_t          rlen, hlen, n;
    uint8_t        *ref, *host;
    unsigned        flags;
    const uint8_t  *nl;

    if (cfg == NULL) {
        cfg = mkt_config_load_string("fuzz.json", config_json,
                                     sizeof(config_json) - 1, NULL, NULL);
        CHECK(cfg != NULL);
        refs = mkt_config_referrers(cfg);
    }

    nl = memchr(data, '\n', size);
    rlen = nl ? (size_t) (nl - data) : size;
    hlen = nl ? size - rlen - 1 : 0;

    /* exact-size heap copies, so ASan sees any read past the end */
    ref = malloc(rlen ? rlen : 1);
    host = malloc(hlen ? hlen : 1);
    CHECK(ref != NULL && host != NULL);
    memcpy(ref, data, rlen);
    if (hlen) {
        memcpy(host, nl + 1, hlen);
    }

    check(ref, rlen, host, hlen, 1);
    check(ref, rlen, host, hlen, 0);

    /* the whole input as a Host header and as a source name */
    n = mkt_host_normalize((const char *) ref, rlen, norm);
    CHECK(n <= MKT_HOST_MAX);
    if (n) {
        check_domain(norm, n);
    }
    flags = mkt_source_flags(refs, (const char *) ref, rlen);
    CHECK((flags & ~(MKT_SRC_SEARCH | MKT_SRC_SOCIAL | MKT_SRC_VIDEO
                     | MKT_SRC_EMAIL)) == 0);

    free(ref);
    free(host);
    return 0;
}
