/* Reading one event line for `mkt report`: a single pass of the json_read
 * cursor over the top-level object, decoding the members the report uses
 * and skipping the rest, so unknown members of any shape are ignored. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json_read.h"
#include "report_event.h"

#define NAME_MAX_LEN  16    /* longer member names are none of ours */


uint64_t
mkt_rev_hash(const void *p, size_t n)
{
    const unsigned char  *s = p;
    uint64_t              h;
    size_t                i;

    h = 14695981039346656037ull;
    for (i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ull;
    }
    return h == 0 ? 1 : h;
}


static int
read_str(mkt_jr_t *r, mkt_rev_str_t *s)
{
    size_t  len;

    if (mkt_jr_peek(r) != '"' || mkt_jr_string(r, s->data, MKT_REV_STR_MAX,
                                               &len) != 0)
    {
        return -1;
    }
    s->len = len < MKT_REV_STR_MAX ? len : MKT_REV_STR_MAX;
    return 0;
}


static int
read_number(mkt_jr_t *r, double *v)
{
    char         buf[64];
    const char  *s;
    size_t       n;
    char        *end;

    if (mkt_jr_number(r, &s, &n) != 0 || n >= sizeof(buf)) {
        return -1;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    errno = 0;
    *v = strtod(buf, &end);
    return errno == ERANGE ? -1 : 0;
}


/* Calls back for each member of the object that comes next: its name and
 * the reader at its value, which the callback consumes. */
typedef int (*member_pt)(mkt_jr_t *r, const char *name, size_t len,
    mkt_rev_t *ev);

static int
read_object(mkt_jr_t *r, member_pt member, mkt_rev_t *ev)
{
    char    name[NAME_MAX_LEN];
    size_t  len;

    if (!mkt_jr_accept(r, '{')) {
        return -1;
    }
    if (mkt_jr_accept(r, '}')) {
        return 0;
    }
    for ( ;; ) {
        if (mkt_jr_peek(r) != '"'
            || mkt_jr_string(r, name, sizeof(name), &len) != 0
            || !mkt_jr_accept(r, ':'))
        {
            return -1;
        }
        if (member(r, name, len > sizeof(name) ? 0 : len, ev) != 0) {
            return -1;
        }
        if (mkt_jr_accept(r, '}')) {
            return 0;
        }
        if (!mkt_jr_accept(r, ',')) {
            return -1;
        }
    }
}


#define IS(lit)  (len == sizeof(lit) - 1 && memcmp(name, lit, len) == 0)

/* lt (the touch itself) wins over utm: a field of utm only fills what lt
 * left empty, whichever comes first in the line. */
static int
touch_member(mkt_jr_t *r, const char *name, size_t len, mkt_rev_t *ev,
    int from_lt)
{
    mkt_rev_str_t   tmp, *dst;

    if (IS("source")) {
        dst = &ev->source;
    } else if (IS("medium")) {
        dst = &ev->medium;
    } else if (IS("campaign")) {
        dst = &ev->campaign;
    } else {
        return mkt_jr_skip(r);
    }

    if (read_str(r, &tmp) != 0) {
        return -1;
    }
    if (from_lt || dst->len == 0) {
        *dst = tmp;
    }
    return 0;
}


static int
lt_member(mkt_jr_t *r, const char *name, size_t len, mkt_rev_t *ev)
{
    return touch_member(r, name, len, ev, 1);
}


static int
utm_member(mkt_jr_t *r, const char *name, size_t len, mkt_rev_t *ev)
{
    return touch_member(r, name, len, ev, 0);
}


static int
event_member(mkt_jr_t *r, const char *name, size_t len, mkt_rev_t *ev)
{
    mkt_rev_str_t   s;
    double          v;
    int             t;

    if (len == 0) {
        return mkt_jr_skip(r);
    }

    switch (name[0]) {
    case 'i':
        if (IS("id")) {
            if (read_str(r, &s) != 0) {
                return -1;
            }
            ev->id_hash = mkt_rev_hash(s.data, s.len);
            return 0;
        }
        break;
    case 't':
        if (IS("ts")) {
            if (read_number(r, &v) != 0 || v < 0 || v > 9e15) {
                return -1;
            }
            ev->ts = (int64_t) v;
            return 0;
        }
        if (IS("type")) {
            if (read_str(r, &s) != 0) {
                return -1;
            }
            ev->type = MKT_EVENT_TYPES;
            for (t = 0; t < MKT_EVENT_TYPES; t++) {
                if (strlen(mkt_event_type_name(t)) == s.len
                    && memcmp(mkt_event_type_name(t), s.data, s.len) == 0)
                {
                    ev->type = t;
                }
            }
            return 0;
        }
        break;
    case 'v':
        if (IS("vid")) {
            return read_str(r, &ev->vid);
        }
        if (IS("var")) {
            return read_str(r, &ev->var);
        }
        if (IS("value")) {
            if (mkt_jr_peek(r) == 'n') {
                return mkt_jr_skip(r);
            }
            if (read_number(r, &ev->value) != 0) {
                return -1;
            }
            ev->has_value = 1;
            return 0;
        }
        break;
    case 'u':
        if (IS("uid")) {
            return read_str(r, &ev->uid);
        }
        if (IS("utm")) {
            return mkt_jr_peek(r) == '{' ? read_object(r, utm_member, ev)
                                         : mkt_jr_skip(r);
        }
        break;
    case 'e':
        if (IS("exp")) {
            return read_str(r, &ev->exp);
        }
        break;
    case 'g':
        if (IS("goal")) {
            return read_str(r, &ev->goal);
        }
        break;
    case 'c':
        if (IS("channel")) {
            return read_str(r, &ev->channel);
        }
        break;
    case 'l':
        if (IS("lt")) {
            return mkt_jr_peek(r) == '{' ? read_object(r, lt_member, ev)
                                         : mkt_jr_skip(r);
        }
        break;
    case 'r':
        if (IS("referrer")) {
            if (read_str(r, &s) != 0) {
                return -1;
            }
            ev->referrer = s;
            return 0;
        }
        break;
    }
    return mkt_jr_skip(r);
}

#undef IS


int
mkt_rev_parse(const char *line, size_t len, mkt_rev_t *ev)
{
    mkt_jr_t  r;

    memset(ev, 0, sizeof(*ev));
    ev->type = MKT_EVENT_TYPES + 1;     /* missing */
    ev->ts = -1;

    mkt_jr_init(&r, line, len);
    if (read_object(&r, event_member, ev) != 0 || mkt_jr_peek(&r) != -1) {
        return -1;
    }
    if (ev->ts < 0 || ev->type > MKT_EVENT_TYPES) {
        return -1;
    }
    if (ev->source.len == 0) {
        ev->source = ev->referrer;
    }
    return 0;
}
