/* A visitor's tags: a small bounded set, its cache blob and its views. */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tags.h"
#include "text.h"


void
mkt_tags_init(mkt_tags_t *t)
{
    t->n = 0;
    t->used = 0;
}


/* Printable, valid UTF-8, no ',' (the separator of $mkt_tags). */
static int
tag_valid(const char *name, size_t len)
{
    char  clean[MKT_TAG_LEN_MAX];

    if (len == 0 || len > MKT_TAG_LEN_MAX || memchr(name, ',', len)) {
        return 0;
    }

    return mkt_text_clean(clean, sizeof(clean), name, len) == len
           && memcmp(clean, name, len) == 0;
}


mkt_tag_rc_e
mkt_tags_add(mkt_tags_t *t, const char *name, size_t len, int64_t expires,
    int64_t now)
{
    size_t      i;
    mkt_tag_t  *tag;

    if (!tag_valid(name, len)) {
        return MKT_TAG_INVALID;
    }

    if (expires <= now) {
        return MKT_TAG_EXPIRED;
    }

    for (i = 0; i < t->n; i++) {
        tag = &t->tag[i];
        if (tag->len == len && memcmp(mkt_tag_name(t, i), name, len) == 0) {
            if (expires > tag->expires) {
                tag->expires = expires;
            }
            return MKT_TAG_MERGED;
        }
    }

    if (t->n == MKT_TAGS_MAX) {
        return MKT_TAG_FULL;
    }

    tag = &t->tag[t->n++];
    tag->off = (uint16_t) t->used;
    tag->len = (uint16_t) len;
    tag->expires = expires;
    memcpy(t->buf + t->used, name, len);
    t->used += len;

    return MKT_TAG_ADDED;
}


int
mkt_tags_parse_score(const char *s, size_t len, int64_t *out)
{
    char    buf[64], *end;
    double  d;

    if ((len == 3 && memcmp(s, "inf", 3) == 0)
        || (len == 4 && memcmp(s, "+inf", 4) == 0))
    {
        *out = MKT_TAG_NEVER;
        return 0;
    }

    if (len == 0 || len >= sizeof(buf)) {
        return -1;
    }

    memcpy(buf, s, len);
    buf[len] = '\0';

    d = strtod(buf, &end);
    if (end != buf + len || isnan(d) || d < 0) {
        return -1;
    }

    /* past year 292e9 is never, as far as a cache is concerned */
    *out = d >= 9.2e18 ? MKT_TAG_NEVER : (int64_t) d;

    return 0;
}


int64_t
mkt_tags_next_expiry(const mkt_tags_t *t)
{
    size_t   i;
    int64_t  next = MKT_TAG_NEVER;

    for (i = 0; i < t->n; i++) {
        if (t->tag[i].expires < next) {
            next = t->tag[i].expires;
        }
    }

    return next;
}


size_t
mkt_tags_encode(const mkt_tags_t *t, unsigned char *out, size_t cap)
{
    size_t    i, k, n;
    uint64_t  e;

    n = 0;

    for (i = 0; i < t->n; i++) {
        if (n + 1 + t->tag[i].len + 8 > cap) {
            break;
        }

        out[n++] = (unsigned char) t->tag[i].len;
        memcpy(out + n, mkt_tag_name(t, i), t->tag[i].len);
        n += t->tag[i].len;

        e = (uint64_t) t->tag[i].expires;
        for (k = 0; k < 8; k++) {
            out[n++] = (unsigned char) (e >> (8 * k));
        }
    }

    return n;
}


int
mkt_tags_decode(mkt_tags_t *t, const unsigned char *in, size_t len,
    int64_t now)
{
    size_t        n, k, tl;
    uint64_t      e;
    mkt_tags_t    copy;
    mkt_tag_rc_e  rc;

    copy = *t;
    n = 0;

    while (n < len) {
        tl = in[n++];
        if (tl > len - n || len - n - tl < 8) {
            *t = copy;
            return -1;
        }

        e = 0;
        for (k = 0; k < 8; k++) {
            e |= (uint64_t) in[n + tl + k] << (8 * k);
        }

        rc = mkt_tags_add(t, (const char *) in + n, tl, (int64_t) e, now);
        if (rc == MKT_TAG_INVALID) {
            *t = copy;
            return -1;
        }

        n += tl + 8;
    }

    return 0;
}


size_t
mkt_tags_join(const mkt_tags_t *t, char *out, size_t cap)
{
    size_t  i, n;

    n = 0;

    for (i = 0; i < t->n; i++) {
        if (n + (i > 0) + t->tag[i].len > cap) {
            break;
        }
        if (i > 0) {
            out[n++] = ',';
        }
        memcpy(out + n, mkt_tag_name(t, i), t->tag[i].len);
        n += t->tag[i].len;
    }

    return n;
}


mkt_val_t
mkt_tags_value(const mkt_tags_t *t, mkt_val_t *items)
{
    size_t  i;

    for (i = 0; i < t->n; i++) {
        items[i] = mkt_val_string(mkt_tag_name(t, i), t->tag[i].len);
    }

    return mkt_val_array(items, t->n);
}
