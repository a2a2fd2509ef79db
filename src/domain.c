/* Host normalisation and registrable domains.  The suffix table holds only
 * the two-label public suffixes that the generic country rule (see
 * domain.h) does not already give; it is small enough to scan. */
#include <string.h>

#include "domain.h"

#define LABEL_MAX  63
#define PORT_MAX   5                /* digits */

typedef struct {
    const char  *name;
    size_t       len;
} name_t;

#define N(s)  { s, sizeof(s) - 1 }

/* Public suffixes (ICANN and a few private ones from publicsuffix.org)
 * that the generic rule misses. */
static const name_t  suffixes[] = {
    /* China: provinces and regions under .cn */
    N("ah.cn"), N("bj.cn"), N("cq.cn"), N("fj.cn"), N("gd.cn"), N("gs.cn"),
    N("gx.cn"), N("gz.cn"), N("ha.cn"), N("hb.cn"), N("he.cn"), N("hi.cn"),
    N("hk.cn"), N("hl.cn"), N("hn.cn"), N("jl.cn"), N("js.cn"), N("jx.cn"),
    N("ln.cn"), N("mo.cn"), N("nm.cn"), N("nx.cn"), N("qh.cn"), N("sc.cn"),
    N("sd.cn"), N("sh.cn"), N("sn.cn"), N("sx.cn"), N("tj.cn"), N("tw.cn"),
    N("xj.cn"), N("xz.cn"), N("yn.cn"), N("zj.cn"),
    N("idv.hk"), N("idv.tw"), N("game.tw"), N("ebiz.tw"), N("club.tw"),
    N("me.uk"), N("ltd.uk"), N("plc.uk"), N("nhs.uk"), N("police.uk"),
    N("ad.jp"), N("ed.jp"), N("gr.jp"), N("lg.jp"),
    N("asn.au"), N("id.au"), N("per.sg"), N("re.kr"), N("pe.kr"),
    N("govt.nz"), N("school.nz"), N("geek.nz"),
    N("firm.in"), N("gen.in"), N("ind.in"), N("res.in"),
    N("web.id"), N("sch.id"), N("my.id"), N("biz.id"), N("in.th"),
    N("mi.th"),
    N("art.br"), N("blog.br"), N("eco.br"), N("ind.br"), N("tv.br"),
    N("biz.vn"), N("info.vn"), N("biz.my"), N("name.my"),
    /* hosting platforms: every customer is its own site */
    N("appspot.com"), N("azurewebsites.net"), N("blogspot.com"),
    N("cloudfront.net"), N("firebaseapp.com"), N("github.io"), N("gitlab.io"),
    N("herokuapp.com"), N("myshopify.com"), N("netlify.app"), N("pages.dev"),
    N("vercel.app"), N("web.app"), N("workers.dev"),
    { NULL, 0 }
};

/* Second-level labels that are public suffixes under almost every
 * two-letter country TLD that has them (co.uk, com.cn, go.jp, gob.mx). */
static const name_t  generic_sld[] = {
    N("ac"), N("co"), N("com"), N("edu"), N("go"), N("gob"), N("gov"),
    N("mil"), N("ne"), N("net"), N("or"), N("org"),
    { NULL, 0 }
};


static int
in_list(const name_t *list, const char *s, size_t len)
{
    size_t  i;

    for (i = 0; list[i].name != NULL; i++) {
        if (list[i].len == len && memcmp(list[i].name, s, len) == 0) {
            return 1;
        }
    }
    return 0;
}


static char
lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char) (c - 'A' + 'a') : c;
}


static size_t
normalize_ipv6(const char *in, size_t len, char *out)
{
    size_t  i, end, colons;
    char    c;

    for (i = 1; i < len && in[i] != ']'; i++) { /* void */ }
    if (i == len || i == 1 || i >= MKT_HOST_MAX) {
        return 0;
    }
    end = i;

    /* after ']': nothing, or a port */
    if (end + 1 < len) {
        if (in[end + 1] != ':' || len - end - 2 > PORT_MAX) {
            return 0;
        }
        for (i = end + 2; i < len; i++) {
            if (in[i] < '0' || in[i] > '9') {
                return 0;
            }
        }
    }

    colons = 0;
    out[0] = '[';
    for (i = 1; i < end; i++) {
        c = lower(in[i]);
        if (c == ':') {
            colons++;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')
                     || c == '.'))
        {
            return 0;
        }
        out[i] = c;
    }
    out[end] = ']';

    return colons >= 2 ? end + 1 : 0;
}


size_t
mkt_host_normalize(const char *in, size_t len, char *out)
{
    size_t  i, end, label;
    char    c;

    if (len == 0) {
        return 0;
    }
    if (in[0] == '[') {
        return normalize_ipv6(in, len, out);
    }

    for (end = 0; end < len && in[end] != ':'; end++) { /* void */ }

    if (end < len) {
        if (len - end - 1 > PORT_MAX) {
            return 0;
        }
        for (i = end + 1; i < len; i++) {
            if (in[i] < '0' || in[i] > '9') {
                return 0;
            }
        }
    }

    if (end > 1 && in[end - 1] == '.') {
        end--;
    }
    if (end == 0 || end > MKT_HOST_MAX) {
        return 0;
    }

    label = 0;
    for (i = 0; i < end; i++) {
        c = lower(in[i]);
        if (c == '.') {
            if (label == 0) {
                return 0;
            }
            label = 0;

        } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                   || c == '-' || c == '_')
        {
            if (++label > LABEL_MAX) {
                return 0;
            }

        } else {
            return 0;
        }
        out[i] = c;
    }

    return label ? end : 0;
}


size_t
mkt_host_site(const char *host, size_t len)
{
    size_t  i, n, l1, l2, l3, start[3];
    int     numeric;

    if (len == 0 || host[0] == '[') {
        return 0;
    }

    /* starts of the last three labels, last first */
    n = 0;
    for (i = len; i > 0 && n < 3; i--) {
        if (host[i - 1] == '.') {
            start[n++] = i;
        }
    }
    if (n < 3 && i == 0) {
        start[n++] = 0;
    }
    if (n < 2) {
        return 0;
    }
    l1 = start[0];
    l2 = start[1];

    /* an IPv4 address: no TLD is all digits */
    numeric = 1;
    for (i = l1; i < len; i++) {
        numeric &= host[i] >= '0' && host[i] <= '9';
    }
    if (numeric) {
        return 0;
    }

    if (!in_list(suffixes, host + l2, len - l2)
        && !(len - l1 == 2 && in_list(generic_sld, host + l2, l1 - 1 - l2)))
    {
        return l2;                  /* one-label suffix */
    }

    if (n < 3) {
        return 0;                   /* the host is a public suffix */
    }
    l3 = start[2];
    return l3;
}


int
mkt_host_within(const char *host, size_t len, const char *domain,
    size_t domain_len)
{
    if (domain_len == 0 || len < domain_len
        || memcmp(host + len - domain_len, domain, domain_len) != 0)
    {
        return 0;
    }
    return len == domain_len || host[len - domain_len - 1] == '.';
}
