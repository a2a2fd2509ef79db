/*
 * Each visitor: a lognormal propensity m (mean 1); one to four touches
 * from a channel table over the days before exposure; an exposure to a
 * uniformly drawn variation (repeated a day later for one in five, as the
 * daily exposure rule writes it); a signup before exposure with
 * probability rate * m / 2 (the covariate CUPED uses); a signup after it
 * with probability rate * m * (1 + uplift) in treatments, rate * m in
 * control (capped at 1); then a purchase with purchase_rate, of a value
 * uniform in [0.5, 1.5] * value.  One visitor in five is a known user;
 * one in ten of those buys on a second device (another vid, same uid).
 * Random numbers: xoshiro256** seeded by splitmix64.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "event.h"
#include "report_gen.h"

#define GEN_DAY  86400000LL
#define GEN_LINE_MAX  4096

typedef struct {
    uint64_t  s[4];
} rng_t;

typedef struct {
    const char  *channel, *source, *medium, *campaign, *referrer;
    double       share;
} gen_channel_t;

static const gen_channel_t  channels[] = {
    { "paid_search", "baidu", "cpc", "brand-w47", "www.baidu.com", 0.25 },
    { "organic_search", "google", "organic", NULL, "www.google.com", 0.2 },
    { "paid_social", "douyin", "cpc", "spring-launch", "www.douyin.com",
      0.15 },
    { "organic_social", "xiaohongshu", "social", NULL, "www.xiaohongshu.com",
      0.15 },
    { "email", "newsletter", "email", "weekly-47", NULL, 0.15 },
    { "referral", "blog.example.org", "referral", NULL, "blog.example.org",
      0.1 },
};

static const char *const  devices[] = { "mobile", "desktop", "tablet" };


static uint64_t
splitmix64(uint64_t *x)
{
    uint64_t  z;

    z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}


static uint64_t
rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}


static uint64_t
next(rng_t *r)
{
    uint64_t  res, t;

    res = rotl(r->s[1] * 5, 7) * 9;
    t = r->s[1] << 17;
    r->s[2] ^= r->s[0];
    r->s[3] ^= r->s[1];
    r->s[1] ^= r->s[2];
    r->s[0] ^= r->s[3];
    r->s[2] ^= t;
    r->s[3] = rotl(r->s[3], 45);
    return res;
}


/* Uniform in [0, 1). */
static double
uniform(rng_t *r)
{
    return (double) (next(r) >> 11) * (1.0 / 9007199254740992.0);
}


/* Standard normal (Box-Muller, one of the pair). */
static double
normal(rng_t *r)
{
    double  u;

    u = uniform(r);
    return sqrt(-2 * log(1 - u)) * cos(2 * M_PI * uniform(r));
}


static void
random_text(rng_t *r, char *out, size_t n, const char *alphabet, size_t k)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        out[i] = alphabet[next(r) % k];
    }
}


void
mkt_gen_opts_init(mkt_gen_opts_t *o)
{
    memset(o, 0, sizeof(*o));
    o->seed = 1;
    o->visitors = 10000;
    o->exp = "gen-exp";
    o->nvars = 2;
    o->rate = 0.1;
    o->uplift = 0.1;
    o->purchase_rate = 0.3;
    o->value = 100;
    o->spread = 0.8;
    o->start = 1793491200000LL;     /* 2026-11-01 */
    o->days = 14;
}


typedef struct {
    const mkt_gen_opts_t  *o;
    rng_t                  r;
    mkt_event_t            ev;
    mkt_event_assign_t     assign;
    char                   id[MKT_EVENT_ID_LEN];
    char                   vid[22];
    char                   uid[24];
    char                   value_buf[32];
    char                   line[GEN_LINE_MAX];
    mkt_gen_out_pt         out;
    void                  *data;
} gen_t;

static void
set(mkt_str_t *dst, const char *s)
{
    dst->data = s ? s : "";
    dst->len = s ? strlen(s) : 0;
}


/* Writes g->ev as a line with a fresh id (Crockford base32, the time in
 * its first 10 characters, as a ULID). */
static int
emit(gen_t *g)
{
    static const char  b32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    uint64_t           t;
    size_t             n;
    int                i;

    t = (uint64_t) g->ev.ts;
    for (i = 9; i >= 0; i--) {
        g->id[i] = b32[t & 31];
        t >>= 5;
    }
    random_text(&g->r, g->id + 10, 16, b32, 32);
    g->ev.id.data = g->id;
    g->ev.id.len = MKT_EVENT_ID_LEN;

    n = mkt_event_encode(&g->ev, g->line, sizeof(g->line));
    if (n == 0) {
        return -1;
    }
    return g->out(g->data, g->line, n);
}


/* Sets the event's type and time and clears what differs by type. */
static void
event(gen_t *g, mkt_event_type_e type, int64_t ts)
{
    g->ev.type = type;
    g->ev.ts = ts;
    g->ev.exp.len = g->ev.var.len = g->ev.goal.len = 0;
    g->ev.currency.len = g->ev.order.len = 0;
    g->ev.has_value = 0;
    g->ev.referrer.len = g->ev.channel.len = 0;
    memset(g->ev.utm, 0, sizeof(g->ev.utm));
}


static int
visitor(gen_t *g, uint64_t i)
{
    static const char  b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
                               "vwxyz0123456789-_";
    static const char *const  vars[] = { "control", "v1", "v2", "v3", "v4",
                                         "v5", "v6", "v7" };
    const mkt_gen_opts_t  *o = g->o;
    const gen_channel_t   *c;
    double                 m, u, p;
    int64_t                t, te;
    unsigned               var;
    int                    k, ntouch, known, rc;
    size_t                 j;

    random_text(&g->r, g->vid, sizeof(g->vid), b64, 64);
    m = exp(o->spread * normal(&g->r) - o->spread * o->spread / 2);
    var = (unsigned) (next(&g->r) % o->nvars);
    known = uniform(&g->r) < 0.2;
    snprintf(g->uid, sizeof(g->uid), "u%llu", (unsigned long long) i);

    mkt_event_init(&g->ev, MKT_EVENT_TOUCH, 0);
    g->ev.vid.data = g->vid;
    g->ev.vid.len = sizeof(g->vid);
    if (known) {
        set(&g->ev.uid, g->uid);
    }
    set(&g->ev.device, devices[next(&g->r) % 3]);
    set(&g->ev.host, "www.example.com");
    set(&g->ev.path, "/landing/spring");
    set(&g->ev.country, "CN");

    /* touches, the first one the first touch */
    t = o->start + (int64_t) (uniform(&g->r) * o->days * GEN_DAY);
    ntouch = 1 + (int) (next(&g->r) % 4);
    for (k = 0; k < ntouch; k++) {
        u = uniform(&g->r);
        for (j = 0; j + 1 < sizeof(channels) / sizeof(channels[0])
                    && u >= channels[j].share; j++)
        {
            u -= channels[j].share;
        }
        c = &channels[j];
        event(g, MKT_EVENT_TOUCH, t);
        set(&g->ev.lt[0], c->source);
        set(&g->ev.lt[1], c->medium);
        set(&g->ev.lt[2], c->campaign);
        set(&g->ev.utm[0], c->campaign ? c->source : NULL);
        set(&g->ev.utm[1], c->campaign ? c->medium : NULL);
        set(&g->ev.utm[2], c->campaign);
        set(&g->ev.channel, c->channel);
        set(&g->ev.referrer, c->referrer);
        if (k == 0) {
            memcpy(g->ev.ft, g->ev.lt, sizeof(g->ev.ft));
        }
        if ((rc = emit(g)) != 0) {
            return rc;
        }
        t += (int64_t) (uniform(&g->r) * 3 * GEN_DAY);
    }

    /* a signup before exposure: the covariate */
    te = t + (int64_t) (uniform(&g->r) * 3600000);
    if (uniform(&g->r) < fmin(1, o->rate * m / 2)) {
        event(g, MKT_EVENT_CONVERSION,
              te - 1 - (int64_t) (uniform(&g->r) * GEN_DAY));
        set(&g->ev.goal, "signup");
        if ((rc = emit(g)) != 0) {
            return rc;
        }
    }

    set(&g->assign.key, o->exp);
    set(&g->assign.variation, vars[var]);
    g->ev.assign = &g->assign;
    g->ev.nassign = 1;
    event(g, MKT_EVENT_EXPOSURE, te);
    g->ev.exp = g->assign.key;
    g->ev.var = g->assign.variation;
    if ((rc = emit(g)) != 0) {
        return rc;
    }
    if (uniform(&g->r) < 0.2) {
        g->ev.ts = te + GEN_DAY;
        if ((rc = emit(g)) != 0) {
            return rc;
        }
    }

    p = fmin(1, o->rate * m * (var ? 1 + o->uplift : 1));
    if (uniform(&g->r) >= p) {
        return 0;
    }
    t = te + 1 + (int64_t) (uniform(&g->r) * 3 * GEN_DAY);
    event(g, MKT_EVENT_CONVERSION, t);
    set(&g->ev.goal, "signup");
    set(&g->ev.path, "/signup/done");
    if ((rc = emit(g)) != 0) {
        return rc;
    }

    if (uniform(&g->r) >= o->purchase_rate) {
        return 0;
    }
    event(g, MKT_EVENT_CONVERSION,
          t + 1 + (int64_t) (uniform(&g->r) * GEN_DAY));
    set(&g->ev.goal, "purchase");
    set(&g->ev.path, "/checkout/done");
    g->ev.value = floor(o->value * (0.5 + uniform(&g->r)) * 100) / 100;
    g->ev.has_value = 1;
    set(&g->ev.currency, "CNY");
    snprintf(g->value_buf, sizeof(g->value_buf), "A-%llu",
             (unsigned long long) i);
    set(&g->ev.order, g->value_buf);
    if (known && uniform(&g->r) < 0.1) {
        /* bought on another device: the same user, another visitor */
        random_text(&g->r, g->vid, sizeof(g->vid), b64, 64);
        g->ev.nassign = 0;
    }
    return emit(g);
}


int
mkt_gen_run(const mkt_gen_opts_t *o, mkt_gen_out_pt out, void *data)
{
    gen_t     g;
    uint64_t  x, i;
    int       k, rc;

    if (o->nvars < 2 || o->nvars > 8 || !(o->rate >= 0 && o->rate <= 1)
        || !(o->uplift >= -1) || !(o->days > 0) || o->exp == NULL
        || strlen(o->exp) == 0 || strlen(o->exp) > MKT_EVENT_KEY_MAX)
    {
        return -1;
    }

    memset(&g, 0, sizeof(g));
    g.o = o;
    g.out = out;
    g.data = data;
    x = o->seed;
    for (k = 0; k < 4; k++) {
        g.r.s[k] = splitmix64(&x);
    }

    for (i = 0; i < o->visitors; i++) {
        if ((rc = visitor(&g, i)) != 0) {
            return rc;
        }
    }
    return 0;
}
