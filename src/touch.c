/* Touches: a request's source, medium and channel, the decisions about
 * the first/last touch cookies, and their codec (format in touch.h).
 * Encoder and decoder share one check of every field, so what one writes
 * the other reads back, byte for byte. */
#include <stddef.h>
#include <string.h>

#include "b64url.h"
#include "text.h"
#include "touch.h"

#define PREFIX       "t1."
#define PREFIX_LEN   3
#define TIME_DIGITS  8
#define TIME_LIMIT   INT64_C(2821109907456)     /* 36^8 */
#define SEP          '\x1f'
#define CUT_MIN      64         /* campaign, medium, source kept at least */
#define DATA_B64     MKT_B64URL_LEN(MKT_TOUCH_DATA_MAX)

static const struct {
    size_t       offset;
    size_t       cap;
    const char  *name;
} fields[MKT_TF_FIELDS] = {
    { offsetof(mkt_touch_t, source), MKT_UTM_VALUE_MAX, "source" },
    { offsetof(mkt_touch_t, medium), MKT_UTM_VALUE_MAX, "medium" },
    { offsetof(mkt_touch_t, campaign), MKT_UTM_VALUE_MAX, "campaign" },
    { offsetof(mkt_touch_t, term), MKT_UTM_VALUE_MAX, "term" },
    { offsetof(mkt_touch_t, content), MKT_UTM_VALUE_MAX, "content" },
    { offsetof(mkt_touch_t, click_name), MKT_CLICK_NAME_MAX, "click_name" },
    { offsetof(mkt_touch_t, click_id), MKT_CLICK_ID_MAX, "click_id" },
    { offsetof(mkt_touch_t, referrer), MKT_HOST_MAX, "referrer" }
};


static char *
field(mkt_touch_t *t, mkt_touch_field_e f)
{
    return (char *) t + fields[f].offset;
}


static const char *
cfield(const mkt_touch_t *t, mkt_touch_field_e f)
{
    return (const char *) t + fields[f].offset;
}


static void
set(mkt_touch_t *t, mkt_touch_field_e f, const char *s, size_t len)
{
    t->len[f] = mkt_text_clean(field(t, f), fields[f].cap, s, len);
}


/* a literal is clean text already: copied, not cleaned */
#define SET_LIT(t, f, lit)                                                    \
    do {                                                                      \
        memcpy(field(t, f), lit, sizeof(lit) - 1);                            \
        (t)->len[f] = sizeof(lit) - 1;                                        \
    } while (0)


static int
external(mkt_ref_class_e cls)
{
    return cls == MKT_REF_SEARCH || cls == MKT_REF_SOCIAL
           || cls == MKT_REF_EMAIL || cls == MKT_REF_REFERRAL;
}


static const char *
medium_of(mkt_ref_class_e cls)
{
    switch (cls) {
    case MKT_REF_SEARCH:
        return "organic";
    case MKT_REF_SOCIAL:
        return "social";
    case MKT_REF_EMAIL:
        return "email";
    default:
        return "referral";
    }
}


/* Source and medium from the first layer that has them; 1 when the
 * source is the referrer's. */
static int
set_source_medium(mkt_touch_t *t, const mkt_utm_t *utm,
    const mkt_referrer_t *ref)
{
    if (utm->len[MKT_UTM_SOURCE] || utm->len[MKT_UTM_MEDIUM]) {
        set(t, MKT_TF_SOURCE, utm->value[MKT_UTM_SOURCE],
            utm->len[MKT_UTM_SOURCE]);
        set(t, MKT_TF_MEDIUM, utm->value[MKT_UTM_MEDIUM],
            utm->len[MKT_UTM_MEDIUM]);

    } else if (utm->code != NULL) {
        set(t, MKT_TF_SOURCE, utm->code->source.data, utm->code->source.len);
        set(t, MKT_TF_MEDIUM, utm->code->medium.data, utm->code->medium.len);

    } else if (utm->click_name != NULL) {
        SET_LIT(t, MKT_TF_MEDIUM, "cpc");
        if (*utm->click_source) {
            set(t, MKT_TF_SOURCE, utm->click_source,
                strlen(utm->click_source));
        } else if (external(ref->cls)) {
            set(t, MKT_TF_SOURCE, ref->source, ref->source_len);
            return 1;
        }

    } else if (external(ref->cls)) {
        set(t, MKT_TF_SOURCE, ref->source, ref->source_len);
        set(t, MKT_TF_MEDIUM, medium_of(ref->cls),
            strlen(medium_of(ref->cls)));
        return 1;
    }

    return 0;
}


void
mkt_touch_direct(int64_t now, mkt_touch_t *t)
{
    size_t  f;

    for (f = 0; f < MKT_TF_FIELDS; f++) {
        t->len[f] = 0;
    }
    t->time = now;
    t->channel = MKT_CHANNEL_DIRECT;
    t->kind = MKT_TOUCH_DIRECT;
    SET_LIT(t, MKT_TF_SOURCE, "(direct)");
    SET_LIT(t, MKT_TF_MEDIUM, "(none)");
}


void
mkt_touch_of_request(const mkt_referrers_t *refs, const mkt_utm_t *utm,
    const mkt_referrer_t *ref, int64_t now, mkt_touch_t *t)
{
    int               from_referrer;
    size_t            f;
    mkt_channel_in_t  in;

    for (f = 0; f < MKT_TF_FIELDS; f++) {
        t->len[f] = 0;
    }
    t->time = now;
    t->channel = MKT_CHANNEL_DIRECT;

    if (!mkt_utm_present(utm) && !external(ref->cls)) {
        if (ref->cls == MKT_REF_SAME_SITE) {
            t->kind = MKT_TOUCH_INTERNAL;
        } else {
            mkt_touch_direct(now, t);
        }
        return;
    }

    t->kind = MKT_TOUCH_EXTERNAL;
    from_referrer = set_source_medium(t, utm, ref);

    if (utm->len[MKT_UTM_CAMPAIGN]) {
        set(t, MKT_TF_CAMPAIGN, utm->value[MKT_UTM_CAMPAIGN],
            utm->len[MKT_UTM_CAMPAIGN]);
    } else if (utm->code != NULL) {
        set(t, MKT_TF_CAMPAIGN, utm->code->campaign.data,
            utm->code->campaign.len);
    }
    set(t, MKT_TF_TERM, utm->value[MKT_UTM_TERM], utm->len[MKT_UTM_TERM]);
    set(t, MKT_TF_CONTENT, utm->value[MKT_UTM_CONTENT],
        utm->len[MKT_UTM_CONTENT]);

    if (utm->click_name != NULL) {
        set(t, MKT_TF_CLICK_NAME, utm->click_name, utm->click_name_len);
        set(t, MKT_TF_CLICK_ID, utm->click, utm->click_len);
    }
    if (external(ref->cls)) {
        set(t, MKT_TF_REFERRER, ref->host, ref->host_len);
    }

    memset(&in, 0, sizeof(in));
    in.source = t->source;
    in.source_len = t->len[MKT_TF_SOURCE];
    in.medium = t->medium;
    in.medium_len = t->len[MKT_TF_MEDIUM];
    in.source_flags = from_referrer
                      ? ref->flags
                      : mkt_source_flags(refs, in.source, in.source_len);
    in.click = utm->click_kind;
    t->channel = mkt_channel_classify(&in);
}


mkt_str_t
mkt_touch_get(const mkt_touch_t *t, mkt_touch_field_e f)
{
    mkt_str_t  s;

    if ((unsigned) f >= MKT_TF_FIELDS) {
        s.data = "";
        s.len = 0;
        return s;
    }
    s.data = cfield(t, f);
    s.len = t->len[f];
    return s;
}


const char *
mkt_touch_field_name(mkt_touch_field_e f)
{
    return (unsigned) f < MKT_TF_FIELDS ? fields[f].name : "";
}


unsigned
mkt_touch_plan(const mkt_touch_t *req, int has_ft)
{
    unsigned  set_ft;

    set_ft = has_ft ? 0 : MKT_TOUCH_SET_FT;

    switch (req->kind) {
    case MKT_TOUCH_EXTERNAL:
        return MKT_TOUCH_SET_LT | set_ft;
    case MKT_TOUCH_DIRECT:
        return set_ft;
    default:
        return 0;
    }
}


mkt_channel_e
mkt_touch_visit_channel(const mkt_touch_t *req, const mkt_touch_t *lt)
{
    if (req->kind == MKT_TOUCH_EXTERNAL) {
        return req->channel;
    }
    return lt != NULL ? lt->channel : MKT_CHANNEL_DIRECT;
}


/* --- the cookie codec --------------------------------------------------- */

/* s (len bytes) can be field f of a stored touch. */
static int
field_valid(mkt_touch_field_e f, const char *s, size_t len)
{
    char    tmp[MKT_CLICK_ID_MAX];
    size_t  i;
    char    c;

    if (len > fields[f].cap) {
        return 0;
    }

    switch (f) {
    case MKT_TF_CLICK_NAME:
        for (i = 0; i < len; i++) {
            c = s[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                  || (c >= '0' && c <= '9') || c == '_' || c == '.'
                  || c == '-'))
            {
                return 0;
            }
        }
        return 1;

    case MKT_TF_REFERRER:
        return len == 0 || (mkt_host_normalize(s, len, tmp) == len
                            && memcmp(tmp, s, len) == 0);

    default:
        return mkt_text_clean(tmp, sizeof(tmp), s, len) == len
               && memcmp(tmp, s, len) == 0;
    }
}


/* len[] cut so that the fields joined fit MKT_TOUCH_DATA_MAX (touch.h). */
static void
fit(const mkt_touch_t *t, size_t len[MKT_TF_FIELDS])
{
    static const mkt_touch_field_e  drop[] = {
        MKT_TF_REFERRER, MKT_TF_CONTENT, MKT_TF_TERM, MKT_TF_CLICK_ID
    };
    static const mkt_touch_field_e  cut[] = {
        MKT_TF_CAMPAIGN, MKT_TF_MEDIUM, MKT_TF_SOURCE
    };
    size_t                          i, f, total, keep;
    const char                     *s;

    total = MKT_TF_FIELDS - 1;
    for (f = 0; f < MKT_TF_FIELDS; f++) {
        total += len[f];
    }

    for (i = 0; i < sizeof(drop) / sizeof(drop[0]); i++) {
        if (total <= MKT_TOUCH_DATA_MAX) {
            return;
        }
        total -= len[drop[i]];
        len[drop[i]] = 0;
    }

    for (i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
        if (total <= MKT_TOUCH_DATA_MAX) {
            return;
        }
        f = cut[i];
        keep = len[f] > total - MKT_TOUCH_DATA_MAX
               ? len[f] - (total - MKT_TOUCH_DATA_MAX) : 0;
        if (keep < CUT_MIN) {
            keep = len[f] < CUT_MIN ? len[f] : CUT_MIN;
        }
        /* at a character boundary */
        s = cfield(t, (mkt_touch_field_e) f);
        while (keep > 0 && keep < len[f]
               && ((unsigned char) s[keep] & 0xc0) == 0x80)
        {
            keep--;
        }
        total -= len[f] - keep;
        len[f] = keep;
    }
}


size_t
mkt_touch_encode(mkt_hmac_t *h, const mkt_touch_t *t, char *out)
{
    unsigned char  data[MKT_TOUCH_DATA_MAX];
    size_t         f, n, len[MKT_TF_FIELDS];
    char          *p;

    if (t->time <= 0 || t->time >= TIME_LIMIT
        || (unsigned) t->channel >= MKT_CHANNEL_COUNT
        || (t->len[MKT_TF_CLICK_ID] && !t->len[MKT_TF_CLICK_NAME]))
    {
        return 0;
    }
    for (f = 0; f < MKT_TF_FIELDS; f++) {
        if (!field_valid((mkt_touch_field_e) f, cfield(t, f), t->len[f])) {
            return 0;
        }
        len[f] = t->len[f];
    }

    fit(t, len);

    n = 0;
    for (f = 0; f < MKT_TF_FIELDS; f++) {
        if (f) {
            data[n++] = SEP;
        }
        memcpy(data + n, cfield(t, f), len[f]);
        n += len[f];
    }

    p = out;
    memcpy(p, PREFIX, PREFIX_LEN);
    p += PREFIX_LEN;
    p += mkt_base36_encode(p, t->time);
    *p++ = '.';
    *p++ = (char) ('a' + t->channel);
    *p++ = '.';
    p += mkt_b64url_encode(p, data, n);

    return mkt_cookie_sign(h, out, (size_t) (p - out));
}


/*
 * "t1." TIME "." CH "." and the end of DATA: *time, *channel, DATA from
 * *start to *end (where the signature's "." or the value ends).
 */
static mkt_cookie_status_e
parse_frame(const char *in, size_t len, int64_t *time, mkt_channel_e *channel,
    size_t *start, size_t *end)
{
    size_t  i, digits;

    if (len > MKT_TOUCH_COOKIE_MAX) {
        return MKT_COOKIE_OVERSIZED;
    }
    if (len < PREFIX_LEN || memcmp(in, PREFIX, PREFIX_LEN) != 0) {
        return MKT_COOKIE_MALFORMED;
    }

    i = PREFIX_LEN;
    digits = mkt_base36_parse(in + i, len - i, TIME_DIGITS, time);
    i += digits;
    if (digits == 0 || *time == 0 || len - i < 3 || in[i] != '.'
        || in[i + 1] < 'a' || in[i + 1] >= 'a' + MKT_CHANNEL_COUNT
        || in[i + 2] != '.')
    {
        return MKT_COOKIE_MALFORMED;
    }
    *channel = (mkt_channel_e) (in[i + 1] - 'a');

    *start = i + 3;
    for (i = *start; i < len && in[i] != '.'; i++) { }
    if (i - *start > DATA_B64) {
        return MKT_COOKIE_MALFORMED;
    }
    *end = i;
    return MKT_COOKIE_OK;
}


static mkt_cookie_status_e
check_signed(mkt_hmac_t *h, const char *in, size_t end, size_t len,
    int64_t time, int64_t now)
{
    mkt_cookie_status_e  st;

    st = mkt_cookie_check_signature(h, in, end, len);
    if (st != MKT_COOKIE_OK) {
        return st;
    }
    if (time - MKT_COOKIE_SKEW > now) {
        return MKT_COOKIE_FUTURE;
    }
    return MKT_COOKIE_OK;
}


static mkt_cookie_status_e
decode(mkt_hmac_t *h, const char *in, size_t len, int64_t now,
    mkt_touch_t *t, int verify)
{
    unsigned char        data[MKT_TOUCH_DATA_MAX];
    size_t               i, start, n, f, at[MKT_TF_FIELDS + 1];
    int64_t              time;
    mkt_channel_e        channel;
    mkt_cookie_status_e  st;

    st = parse_frame(in, len, &time, &channel, &start, &i);
    if (st != MKT_COOKIE_OK) {
        return st;
    }
    n = mkt_b64url_decode(data, in + start, i - start);
    if (n == (size_t) -1) {
        return MKT_COOKIE_MALFORMED;
    }

    /* the fields: exactly MKT_TF_FIELDS, each valid */
    at[0] = 0;
    f = 1;
    for (start = 0; start < n; start++) {
        if (data[start] == SEP) {
            if (f == MKT_TF_FIELDS) {
                return MKT_COOKIE_MALFORMED;
            }
            at[f++] = start + 1;
        }
    }
    if (f != MKT_TF_FIELDS) {
        return MKT_COOKIE_MALFORMED;
    }
    at[f] = n + 1;

    for (f = 0; f < MKT_TF_FIELDS; f++) {
        if (!field_valid((mkt_touch_field_e) f, (char *) data + at[f],
                         at[f + 1] - 1 - at[f]))
        {
            return MKT_COOKIE_MALFORMED;
        }
    }
    if (at[MKT_TF_CLICK_ID + 1] - 1 > at[MKT_TF_CLICK_ID]
        && at[MKT_TF_CLICK_NAME + 1] - 1 == at[MKT_TF_CLICK_NAME])
    {
        return MKT_COOKIE_MALFORMED;
    }

    if (verify) {
        st = check_signed(h, in, i, len, time, now);
        if (st != MKT_COOKIE_OK) {
            return st;
        }
    }

    for (f = 0; f < MKT_TF_FIELDS; f++) {
        t->len[f] = at[f + 1] - 1 - at[f];
        memcpy(field(t, f), data + at[f], t->len[f]);
    }
    t->time = time;
    t->channel = channel;
    t->kind = channel == MKT_CHANNEL_DIRECT ? MKT_TOUCH_DIRECT
                                            : MKT_TOUCH_EXTERNAL;
    return MKT_COOKIE_OK;
}


mkt_cookie_status_e
mkt_touch_decode(mkt_hmac_t *h, const char *in, size_t len, int64_t now,
    mkt_touch_t *t)
{
    return decode(h, in, len, now, t, 1);
}


mkt_cookie_status_e
mkt_touch_decode_checked(const char *in, size_t len, mkt_touch_t *t)
{
    return decode(NULL, in, len, 0, t, 0);
}


mkt_cookie_status_e
mkt_touch_present(const char *in, size_t len, int64_t now)
{
    size_t               start, end;
    int64_t              time;
    mkt_channel_e        channel;
    mkt_cookie_status_e  st;

    st = parse_frame(in, len, &time, &channel, &start, &end);
    if (st != MKT_COOKIE_OK) {
        return st;
    }
    return time - MKT_COOKIE_SKEW > now ? MKT_COOKIE_FUTURE : MKT_COOKIE_OK;
}


mkt_cookie_status_e
mkt_touch_check(mkt_hmac_t *h, const char *in, size_t len, int64_t now,
    mkt_channel_e *channel)
{
    size_t               start, end;
    int64_t              time;
    mkt_cookie_status_e  st;

    st = parse_frame(in, len, &time, channel, &start, &end);
    if (st != MKT_COOKIE_OK) {
        return st;
    }
    return check_signed(h, in, end, len, time, now);
}
