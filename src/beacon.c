/* The collect endpoint's input: conversions from a query string or a JSON
 * body, each field checked as mkt_beacon_set() says, every error naming
 * its event and field. */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beacon.h"
#include "json_read.h"
#include "json_write.h"
#include "query.h"
#include "text.h"

#define VALUE_TEXT_MAX  63          /* characters of a value */
#define FIELD_TEXT_MAX  256         /* a JSON string read for a field:
                                     * longer than every field allows */
#define GOAL_QUOTE_MAX  40          /* bytes of a bad goal in messages */

static const char *const  field_names[MKT_BEACON_FIELDS] = {
    "type", "goal", "value", "currency", "order"
};

static const char *const  code_names[MKT_BEACON_CODES] = {
    "ok", "too_large", "malformed", "not_events", "too_many",
    "unknown_goal", "invalid"
};


static mkt_beacon_code_e
fail(mkt_beacon_error_t *err, mkt_beacon_code_e code, long event,
    const char *fmt, ...)
{
    va_list  ap;

    err->code = code;
    err->event = event;
    err->offset = 0;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return code;
}


/* The error was about event i: say so, as events[i]. in an array. */
static mkt_beacon_code_e
at_event(mkt_beacon_error_t *err, size_t i, int in_array)
{
    char    prefix[32];
    size_t  n, len;

    err->event = (long) i;
    if (in_array) {
        n = (size_t) snprintf(prefix, sizeof(prefix), "events[%zu].", i);
        len = strlen(err->message);
        if (len + n >= sizeof(err->message)) {
            len = sizeof(err->message) - n - 1;
        }
        memmove(err->message + n, err->message, len);
        memcpy(err->message, prefix, n);
        err->message[n + len] = '\0';
    }
    return err->code;
}


void
mkt_beacon_event_init(mkt_beacon_event_t *ev)
{
    memset(ev, 0, sizeof(*ev));
}


const char *
mkt_beacon_field_name(mkt_beacon_field_e f)
{
    return (unsigned) f < MKT_BEACON_FIELDS ? field_names[f] : "";
}


const char *
mkt_beacon_code_name(mkt_beacon_code_e code)
{
    return (unsigned) code < MKT_BEACON_CODES ? code_names[code] : "";
}


/* Records that f was given: an error the second time. */
static mkt_beacon_code_e
give(mkt_beacon_event_t *ev, mkt_beacon_field_e f, mkt_beacon_error_t *err)
{
    if (ev->given & (1u << f)) {
        return fail(err, MKT_BEACON_INVALID, -1, "%s: given twice",
                    field_names[f]);
    }
    ev->given |= 1u << f;
    return MKT_BEACON_OK;
}


static mkt_beacon_code_e
set_goal(const mkt_config_t *cfg, mkt_beacon_event_t *ev, const char *s,
    size_t len, mkt_beacon_error_t *err)
{
    int               cut;
    char              q[GOAL_QUOTE_MAX + 4];
    size_t            i, n;
    const mkt_str_t  *g;

    if (len == 0) {
        return fail(err, MKT_BEACON_INVALID, -1, "goal: missing");
    }

    n = cfg ? mkt_config_goal_count(cfg) : 0;
    for (i = 0; i < n; i++) {
        g = mkt_config_goal(cfg, i);
        if (g->len == len && memcmp(g->data, s, len) == 0) {
            ev->goal = g;
            return MKT_BEACON_OK;
        }
    }

    /* cleaned, and cut at a character boundary when longer than
     * GOAL_QUOTE_MAX: 4 bytes more tell whether it was */
    n = mkt_text_clean(q, sizeof(q), s, len);
    cut = n > GOAL_QUOTE_MAX;
    if (cut) {
        for (n = GOAL_QUOTE_MAX; (q[n] & 0xc0) == 0x80; n--) { }
    }
    return fail(err, MKT_BEACON_UNKNOWN_GOAL, -1,
                "goal: \"%.*s\"%s is not one of the config's goals",
                (int) n, q, cut ? "..." : "");
}


/*
 * A JSON number of at most 15 digits and no exponent, as a price is
 * written, into *v exactly as strtod() reads it: the digits are an exact
 * integer below 2^53 and 10^p an exact double, so one IEEE division
 * rounds correctly (Clinger's fast path).  0 when the number is not such.
 */
static int
fast_decimal(const char *s, size_t len, double *v)
{
#if !defined(FLT_EVAL_METHOD) || FLT_EVAL_METHOD != 0
    /* extended precision (x87) would round twice: strtod() */
    return 0;
#else
    size_t     i, digits, frac;
    int        neg, dot;
    long long  m;

    static const double  exact10[] = {
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15
    };

    i = 0;
    neg = s[0] == '-';
    i += neg;
    m = 0;
    digits = frac = 0;
    dot = 0;

    for ( ; i < len; i++) {
        if (s[i] >= '0' && s[i] <= '9') {
            if (++digits > 15) {
                return 0;
            }
            m = m * 10 + (s[i] - '0');
            frac += dot;

        } else if (s[i] == '.' && !dot) {
            dot = 1;

        } else {
            return 0;               /* an exponent: strtod() */
        }
    }

    *v = (double) m / exact10[frac];
    if (neg) {
        *v = -*v;
    }
    return 1;
#endif
}


static mkt_beacon_code_e
set_value(mkt_beacon_event_t *ev, const char *s, size_t len,
    mkt_beacon_error_t *err)
{
    char    buf[VALUE_TEXT_MAX + 1];
    double  v;

    if (len == 0 || len > VALUE_TEXT_MAX || mkt_jr_number_len(s, len) != len)
    {
        return fail(err, MKT_BEACON_INVALID, -1, "value: expected a number");
    }

    if (!fast_decimal(s, len, &v)) {
        memcpy(buf, s, len);
        buf[len] = '\0';
        v = strtod(buf, NULL);
    }

    if (!isfinite(v) || fabs(v) > MKT_BEACON_VALUE_MAX) {
        return fail(err, MKT_BEACON_INVALID, -1, "value: expected a finite "
                    "number of magnitude at most 1e15");
    }

    ev->value = v + 0.0;        /* -0 is 0 */
    ev->has_value = 1;
    return MKT_BEACON_OK;
}


static mkt_beacon_code_e
set_currency(mkt_beacon_event_t *ev, const char *s, size_t len,
    mkt_beacon_error_t *err)
{
    size_t  i;
    char    c;

    if (len != 3) {
        goto bad;
    }
    for (i = 0; i < 3; i++) {
        c = s[i];
        if (c >= 'a' && c <= 'z') {
            c = (char) (c - 'a' + 'A');
        }
        if (c < 'A' || c > 'Z') {
            goto bad;
        }
        ev->currency[i] = c;
    }
    ev->currency[3] = '\0';
    ev->currency_len = 3;
    return MKT_BEACON_OK;

bad:
    return fail(err, MKT_BEACON_INVALID, -1,
                "currency: expected an ISO 4217 code");
}


static mkt_beacon_code_e
set_order(mkt_beacon_event_t *ev, const char *s, size_t len,
    mkt_beacon_error_t *err)
{
    size_t  n;

    if (len > MKT_BEACON_ORDER_MAX) {
        return fail(err, MKT_BEACON_INVALID, -1,
                    "order: longer than %d bytes", MKT_BEACON_ORDER_MAX);
    }
    n = mkt_text_clean(ev->order, sizeof(ev->order), s, len);
    ev->order_len = mkt_text_trim(ev->order, n);
    return MKT_BEACON_OK;
}


mkt_beacon_code_e
mkt_beacon_set(const mkt_config_t *cfg, mkt_beacon_event_t *ev,
    mkt_beacon_field_e f, const char *s, size_t len, mkt_beacon_error_t *err)
{
    mkt_beacon_code_e  rc;

    if ((unsigned) f >= MKT_BEACON_FIELDS) {
        return fail(err, MKT_BEACON_INVALID, -1, "unknown field");
    }
    rc = give(ev, f, err);
    if (rc != MKT_BEACON_OK) {
        return rc;
    }

    switch (f) {
    case MKT_BEACON_TYPE:
        if (len == 10 && memcmp(s, "conversion", 10) == 0) {
            return MKT_BEACON_OK;
        }
        return fail(err, MKT_BEACON_INVALID, -1,
                    "type: only \"conversion\" may be sent");
    case MKT_BEACON_GOAL:
        return set_goal(cfg, ev, s, len, err);
    case MKT_BEACON_VALUE:
        return set_value(ev, s, len, err);
    case MKT_BEACON_CURRENCY:
        return set_currency(ev, s, len, err);
    default:
        return set_order(ev, s, len, err);
    }
}


/* After the last field: what every event needs. */
static mkt_beacon_code_e
check(const mkt_beacon_event_t *ev, mkt_beacon_error_t *err)
{
    if (ev->goal == NULL) {
        return fail(err, MKT_BEACON_INVALID, -1, "goal: missing");
    }
    return MKT_BEACON_OK;
}


/* The field a name is (case-insensitively for query parameters), or
 * -1. */
static int
field_of(const char *name, size_t len, int nocase)
{
    size_t  i, n;

    for (i = 0; i < MKT_BEACON_FIELDS; i++) {
        n = strlen(field_names[i]);
        if (nocase ? mkt_query_name_is(name, len, field_names[i], n)
                   : len == n && memcmp(name, field_names[i], n) == 0)
        {
            return (int) i;
        }
    }
    return -1;
}


mkt_beacon_code_e
mkt_beacon_parse_query(const mkt_config_t *cfg, const char *args,
    size_t len, mkt_beacon_event_t *ev, mkt_beacon_error_t *err)
{
    int                f;
    char               buf[MKT_QUERY_SCAN_MAX];
    size_t             pos, n;
    mkt_query_arg_t    a;
    mkt_beacon_code_e  rc;

    mkt_beacon_event_init(ev);
    pos = 0;

    while (mkt_query_next(args, len, &pos, &a)) {
        f = field_of(a.name, a.name_len, 1);
        if (f < 0) {
            continue;
        }
        n = mkt_query_unescape(buf, a.value, a.value_len);
        rc = mkt_beacon_set(cfg, ev, (mkt_beacon_field_e) f, buf, n, err);
        if (rc != MKT_BEACON_OK) {
            return at_event(err, 0, 0);
        }
    }

    if (check(ev, err) != MKT_BEACON_OK) {
        return at_event(err, 0, 0);
    }
    return MKT_BEACON_OK;
}


/* One member's value for field f, r at the value. */
static mkt_beacon_code_e
member(const mkt_config_t *cfg, mkt_jr_t *r, mkt_beacon_event_t *ev,
    mkt_beacon_field_e f, mkt_beacon_error_t *err)
{
    int          c;
    char         buf[FIELD_TEXT_MAX];
    size_t       n;
    const char  *s;

    c = mkt_jr_peek(r);

    if (c == '"') {
        if (mkt_jr_string(r, buf, sizeof(buf), &n) != 0) {
            return fail(err, MKT_BEACON_MALFORMED, -1, "malformed JSON");
        }
        /* a cut string is longer than any field allows: still an error */
        return mkt_beacon_set(cfg, ev, f, buf, n < sizeof(buf) ? n
                              : sizeof(buf), err);
    }

    if ((c == '-' || (c >= '0' && c <= '9'))
        && (f == MKT_BEACON_VALUE || f == MKT_BEACON_ORDER))
    {
        if (mkt_jr_number(r, &s, &n) != 0) {
            return fail(err, MKT_BEACON_MALFORMED, -1, "malformed JSON");
        }
        return mkt_beacon_set(cfg, ev, f, s, n, err);
    }

    if (c == 'n' && mkt_jr_skip(r) == 0) {
        return give(ev, f, err);                /* null: absent */
    }

    return fail(err, MKT_BEACON_INVALID, -1, "%s: expected %s",
                field_names[f], f == MKT_BEACON_VALUE ? "a number"
                : f == MKT_BEACON_ORDER ? "a string or a number"
                : "a string");
}


/* One event object, r at its '{', inside `outer` containers. */
static mkt_beacon_code_e
event(const mkt_config_t *cfg, mkt_jr_t *r, mkt_beacon_event_t *ev,
    size_t outer, mkt_beacon_error_t *err)
{
    int                f;
    char               key[16];
    size_t             n;
    mkt_beacon_code_e  rc;

    mkt_beacon_event_init(ev);
    mkt_jr_accept(r, '{');

    if (!mkt_jr_accept(r, '}')) {
        do {
            if (mkt_jr_string(r, key, sizeof(key), &n) != 0
                || !mkt_jr_accept(r, ':'))
            {
                return fail(err, MKT_BEACON_MALFORMED, -1, "malformed JSON");
            }
            f = n < sizeof(key) ? field_of(key, n, 0) : -1;

            if (f < 0) {
                rc = mkt_jr_skip_in(r, outer + 1) == 0 ? MKT_BEACON_OK
                     : fail(err, MKT_BEACON_MALFORMED, -1, "malformed JSON");
            } else {
                rc = member(cfg, r, ev, (mkt_beacon_field_e) f, err);
            }
            if (rc != MKT_BEACON_OK) {
                return rc;
            }
        } while (mkt_jr_accept(r, ','));

        if (!mkt_jr_accept(r, '}')) {
            return fail(err, MKT_BEACON_MALFORMED, -1, "malformed JSON");
        }
    }

    return check(ev, err);
}


/* Counts the elements of the array r is in (past its '['), each an
 * object, up to max + 1; leaves r where it was. */
static mkt_beacon_code_e
count_events(mkt_jr_t *r, size_t max, size_t *count,
    mkt_beacon_error_t *err)
{
    size_t  start, i;

    start = r->pos;
    for (i = 0; ; i++) {
        if (i == max) {
            return fail(err, MKT_BEACON_TOO_MANY, (long) i,
                        "too many events: at most %zu", max);
        }
        if (mkt_jr_peek(r) != '{') {
            return fail(err, MKT_BEACON_NOT_EVENTS, (long) i,
                        "events[%zu]: expected an object", i);
        }
        if (mkt_jr_skip_in(r, 1) != 0) {
            return fail(err, MKT_BEACON_MALFORMED, -1, "malformed JSON");
        }
        if (!mkt_jr_accept(r, ',')) {
            break;
        }
    }

    if (!mkt_jr_accept(r, ']') || mkt_jr_peek(r) != -1) {
        return fail(err, MKT_BEACON_MALFORMED, -1, "malformed JSON");
    }

    *count = i + 1;
    r->pos = start;
    return MKT_BEACON_OK;
}


/*
 * The events of a body in one pass, strict enough that what it accepts is
 * one JSON text; what it refuses is judged again by parse_json().
 */
static mkt_beacon_code_e
parse(const mkt_config_t *cfg, mkt_jr_t *r, mkt_beacon_event_t *events,
    size_t max_events, size_t *n, mkt_beacon_error_t *err)
{
    int                c;
    size_t             i, count;
    mkt_beacon_code_e  rc;

    c = mkt_jr_peek(r);

    if (c == '{') {
        if (max_events == 0) {
            return fail(err, MKT_BEACON_TOO_MANY, 0,
                        "too many events: at most 0");
        }
        if (event(cfg, r, &events[0], 0, err) != MKT_BEACON_OK) {
            return at_event(err, 0, 0);
        }
        if (mkt_jr_peek(r) != -1) {
            return fail(err, MKT_BEACON_MALFORMED, -1, "malformed JSON");
        }
        *n = 1;
        return MKT_BEACON_OK;
    }

    if (c != '[') {
        return fail(err, MKT_BEACON_NOT_EVENTS, -1,
                    "expected an event object or an array of them");
    }

    r->pos++;
    if (mkt_jr_accept(r, ']')) {
        return fail(err, MKT_BEACON_NOT_EVENTS, -1,
                    "expected at least one event");
    }

    count = 0;
    rc = count_events(r, max_events, &count, err);
    if (rc != MKT_BEACON_OK) {
        return rc;
    }

    for (i = 0; i < count; i++) {
        if (event(cfg, r, &events[i], 1, err) != MKT_BEACON_OK) {
            return at_event(err, i, 1);
        }
        mkt_jr_accept(r, ',');
    }

    *n = count;
    return MKT_BEACON_OK;
}


/*
 * Malformed JSON is refused before anything else, wherever it is: the
 * one pass above decides alone when it accepts the body, and when it
 * refuses it the body is validated to say which refusal comes first (a
 * valid body keeps the pass's own error).
 */
mkt_beacon_code_e
mkt_beacon_parse_json(const mkt_config_t *cfg, const char *body, size_t len,
    size_t max_body, mkt_beacon_event_t *events, size_t max_events,
    size_t *n, mkt_beacon_error_t *err)
{
    mkt_jr_t           r;
    mkt_beacon_code_e  rc;

    if (len > max_body) {
        return fail(err, MKT_BEACON_TOO_LARGE, -1,
                    "body larger than %zu bytes", max_body);
    }

    mkt_jr_init(&r, body, len);
    rc = parse(cfg, &r, events, max_events, n, err);
    if (rc == MKT_BEACON_OK) {
        return rc;
    }

    mkt_jr_init(&r, body, len);
    if (mkt_jr_validate(&r) != 0) {
        fail(err, MKT_BEACON_MALFORMED, -1, "malformed JSON at offset %zu: "
             "%s", r.err_pos, r.err);
        err->offset = r.err_pos;
        return MKT_BEACON_MALFORMED;
    }

    return rc;
}


size_t
mkt_beacon_error_json(const mkt_beacon_error_t *err, char *buf, size_t cap)
{
    mkt_jw_t  w;

    mkt_jw_init(&w, buf, cap);
    mkt_jw_raw(&w, "{\"error\":", 9);
    mkt_jw_string(&w, err->message, strlen(err->message),
                  MKT_BEACON_ERROR_MAX);
    if (err->event >= 0) {
        mkt_jw_raw(&w, ",\"event\":", 9);
        mkt_jw_int(&w, err->event);
    }
    mkt_jw_raw(&w, "}", 1);
    return w.full ? 0 : w.len;
}


void
mkt_beacon_to_event(const mkt_beacon_event_t *b, mkt_event_t *ev)
{
    if (b->goal) {
        ev->goal = *b->goal;
    }
    ev->value = b->value;
    ev->has_value = b->has_value;
    ev->currency.data = b->currency;
    ev->currency.len = b->currency_len;
    ev->order.data = b->order;
    ev->order.len = b->order_len;
}
