/* JavaScript value semantics for the condition evaluator: GrowthBook's
 * vectors encode them (String(x), x * 1, <, ===, JSON.stringify). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "condition_js.h"

#define NUMERIC_MAX  512           /* bytes of a numeric string we parse */

typedef int (*mkt_js_sink_pt)(void *ctx, const char *p, size_t n);

/* State of comparing String(v), as it streams in, with a flat string. */
typedef struct {
    const unsigned char  *s;
    size_t                len;
    size_t                pos;
    int                   fold;
    int                   result;
} mkt_js_cmp_t;

/* State of copying String(v) into a bounded buffer. */
typedef struct {
    char                 *buf;
    size_t                cap;
    size_t                len;
    int                   overflow;
} mkt_js_copy_t;


int
mkt_js_truthy(const mkt_val_t *v)
{
    switch (v->type) {
    case MKT_VAL_BOOL:
        return v->u.boolean;
    case MKT_VAL_NUMBER:
        return v->u.number != 0 && !isnan(v->u.number);
    case MKT_VAL_STRING:
        return v->len != 0;
    case MKT_VAL_ARRAY:
    case MKT_VAL_OBJECT:
        return 1;
    default:
        return 0;
    }
}


/* Length of the JavaScript white space or line terminator at p. */
static size_t
space_at(const unsigned char *p, size_t n)
{
    if (n >= 1 && ((p[0] >= 0x09 && p[0] <= 0x0d) || p[0] == 0x20)) {
        return 1;
    }
    if (n >= 2 && p[0] == 0xc2 && p[1] == 0xa0) {
        return 2;                                           /* U+00A0 */
    }
    if (n < 3) {
        return 0;
    }
    if ((p[0] == 0xe1 && p[1] == 0x9a && p[2] == 0x80)      /* U+1680 */
        || (p[0] == 0xe2 && p[1] == 0x80
            && (p[2] <= 0x8a || p[2] == 0xa8 || p[2] == 0xa9
                || p[2] == 0xaf) && p[2] >= 0x80)          /* U+2000.. */
        || (p[0] == 0xe2 && p[1] == 0x81 && p[2] == 0x9f)   /* U+205F */
        || (p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80)   /* U+3000 */
        || (p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf))  /* U+FEFF */
    {
        return 3;
    }
    return 0;
}


/* Length of the white space ending at p + n, 0 if none. */
static size_t
space_before(const unsigned char *p, size_t n)
{
    size_t  k;

    for (k = 1; k <= 3 && k <= n; k++) {
        if (space_at(p + n - k, k) == k) {
            return k;
        }
    }
    return 0;
}


static int
digit_value(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'Z') {
        return c - 'A' + 10;
    }
    return 99;
}


static double
radix_to_number(const unsigned char *p, size_t n, int radix)
{
    double  d = 0;
    size_t  i;
    int     v;

    if (n == 0) {
        return NAN;
    }
    for (i = 0; i < n; i++) {
        v = digit_value(p[i]);
        if (v >= radix) {
            return NAN;
        }
        d = d * radix + v;
    }
    return d;
}


double
mkt_js_string_to_number(const char *str, size_t len)
{
    const unsigned char  *p = (const unsigned char *) str;
    size_t                k, i, digits;
    char                  buf[NUMERIC_MAX];
    int                   radix;

    while (len > 0 && (k = space_at(p, len)) > 0) {
        p += k;
        len -= k;
    }
    while (len > 0 && (k = space_before(p, len)) > 0) {
        len -= k;
    }

    if (len == 0) {
        return 0;
    }

    if (len > 2 && p[0] == '0') {
        radix = (p[1] | 0x20) == 'x' ? 16 : (p[1] | 0x20) == 'o' ? 8
                : (p[1] | 0x20) == 'b' ? 2 : 0;
        if (radix) {
            return radix_to_number(p + 2, len - 2, radix);
        }
    }

    i = (p[0] == '+' || p[0] == '-');
    if (len - i == 8 && memcmp(p + i, "Infinity", 8) == 0) {
        return p[0] == '-' ? -INFINITY : INFINITY;
    }

    /* StrDecimalLiteral: digits, an optional fraction, an optional
     * exponent, and at least one digit before the exponent */
    for (digits = 0; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
        digits++;
    }
    if (i < len && p[i] == '.') {
        for (i++; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
            digits++;
        }
    }
    if (digits == 0) {
        return NAN;
    }
    if (i < len && (p[i] | 0x20) == 'e') {
        i++;
        if (i < len && (p[i] == '+' || p[i] == '-')) {
            i++;
        }
        for (digits = 0; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
            digits++;
        }
        if (digits == 0) {
            return NAN;
        }
    }
    if (i != len || len >= sizeof(buf)) {
        return NAN;
    }

    memcpy(buf, p, len);
    buf[len] = '\0';
    return strtod(buf, NULL);
}


double
mkt_js_to_number(const mkt_val_t *v)
{
    int  depth;

    /* an array is Number(its join(",")): empty is 0, two or more items
     * hold a comma and are NaN, one item is that item as a string */
    for (depth = 0; depth <= MKT_VAL_MAX_DEPTH; depth++) {
        switch (v->type) {
        case MKT_VAL_NULL:
            return 0;
        case MKT_VAL_BOOL:
            return depth ? NAN : v->u.boolean;
        case MKT_VAL_NUMBER:
            return v->u.number;
        case MKT_VAL_STRING:
            return mkt_js_string_to_number(v->u.str, v->len);
        case MKT_VAL_ARRAY:
            if (v->len == 0) {
                return 0;
            }
            if (v->len > 1) {
                return NAN;
            }
            v = &v->u.items[0];
            if (v->type == MKT_VAL_UNDEFINED) {
                return 0;
            }
            break;
        default:
            return NAN;
        }
    }
    return NAN;
}


size_t
mkt_js_format_number(double d, char *buf)
{
    char    tmp[MKT_JS_NUMBER_MAX], digits[20], *p;
    size_t  k, i;
    int     prec, n, e;

    if (isnan(d)) {
        return (size_t) snprintf(buf, MKT_JS_NUMBER_MAX, "NaN");
    }
    if (isinf(d)) {
        return (size_t) snprintf(buf, MKT_JS_NUMBER_MAX, "%sInfinity",
                                 d < 0 ? "-" : "");
    }
    if (d == 0) {
        return (size_t) snprintf(buf, MKT_JS_NUMBER_MAX, "0");   /* -0 too */
    }
    if (fabs(d) < 9007199254740992.0 && d == floor(d)) {
        return (size_t) snprintf(buf, MKT_JS_NUMBER_MAX, "%.0f", d);
    }

    /* the shortest digits that read back as d, as ECMAScript asks */
    for (prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, fabs(d));
        if (strtod(tmp, NULL) == fabs(d)) {
            break;
        }
    }

    k = 0;
    for (p = tmp; *p != 'e'; p++) {
        if (*p >= '0' && *p <= '9') {
            digits[k++] = *p;
        }
    }
    e = atoi(p + 1);
    while (k > 1 && digits[k - 1] == '0') {
        k--;
    }
    n = e + 1;                     /* d = 0.DIGITS * 10^n */

    p = buf;
    if (d < 0) {
        *p++ = '-';
    }

    if ((int) k <= n && n <= 21) {
        memcpy(p, digits, k);
        p += k;
        for (i = k; (int) i < n; i++) {
            *p++ = '0';
        }

    } else if (0 < n && n < (int) k) {     /* "0 < n <= 21" given k <= 17 */
        memcpy(p, digits, n);
        p += n;
        *p++ = '.';
        memcpy(p, digits + n, k - n);
        p += k - n;

    } else if (-6 < n && n <= 0) {
        *p++ = '0';
        *p++ = '.';
        for (i = 0; (int) i < -n; i++) {
            *p++ = '0';
        }
        memcpy(p, digits, k);
        p += k;

    } else {
        *p++ = digits[0];
        if (k > 1) {
            *p++ = '.';
            memcpy(p, digits + 1, k - 1);
            p += k - 1;
        }
        p += snprintf(p, 8, "e%c%d", n - 1 < 0 ? '-' : '+', abs(n - 1));
    }

    *p = '\0';
    return (size_t) (p - buf);
}


unsigned long
mkt_js_decode_utf8(const unsigned char *p, size_t n, size_t *used)
{
    unsigned long  cp;
    size_t         len, i;

    *used = 1;
    if (p[0] < 0x80) {
        return p[0];
    }
    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        len = 2;
        cp = p[0] & 0x1f;
    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        len = 3;
        cp = p[0] & 0x0f;
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        len = 4;
        cp = p[0] & 0x07;
    } else {
        return p[0];
    }
    if (len > n) {
        return p[0];
    }
    for (i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return p[0];
        }
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    *used = len;
    return cp;
}


unsigned long
mkt_js_utf16_key(unsigned long cp)
{
    /* U+E000..U+FFFF sort after the supplementary planes, whose first
     * UTF-16 units are surrogates (U+D800..U+DBFF) */
    return (cp >= 0xe000 && cp <= 0xffff) ? cp + 0x110000 : cp;
}


static int
fold(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}


/* The order of two strings that differ at their first characters. */
static int
compare_at(const unsigned char *a, size_t a_len, const unsigned char *b,
    size_t b_len, int folding)
{
    unsigned long  ca, cb;
    size_t         used;

    ca = mkt_js_decode_utf8(a, a_len, &used);
    cb = mkt_js_decode_utf8(b, b_len, &used);
    if (folding) {
        ca = (unsigned long) fold((int) ca);
    }
    ca = mkt_js_utf16_key(ca);
    cb = mkt_js_utf16_key(cb);
    return ca < cb ? -1 : ca > cb ? 1 : 0;
}


/* Index of the start of the character holding byte i, no lower than 0. */
static size_t
char_start(const unsigned char *p, size_t i)
{
    while (i > 0 && (p[i] & 0xc0) == 0x80) {
        i--;
    }
    return i;
}


int
mkt_js_compare_strings(const char *a, size_t a_len, const char *b,
    size_t b_len)
{
    const unsigned char  *ua = (const unsigned char *) a;
    const unsigned char  *ub = (const unsigned char *) b;
    size_t                i, n;
    int                   r;

    n = a_len < b_len ? a_len : b_len;
    for (i = 0; i < n && ua[i] == ub[i]; i++) {
        /* void */
    }
    if (i == n) {
        return a_len < b_len ? -1 : a_len > b_len ? 1 : 0;
    }

    i = char_start(ua, i);
    r = compare_at(ua + i, a_len - i, ub + i, b_len - i, 0);
    /* bytes that differ inside an invalid sequence still differ */
    return r ? r : (ua[i] < ub[i] ? -1 : 1);
}


static int
compare_sink(void *ctx, const char *chunk, size_t n)
{
    const unsigned char  *p = (const unsigned char *) chunk;
    mkt_js_cmp_t         *c = ctx;
    size_t                i, k;
    int                   a;

    for (i = 0; i < n; i++) {
        if (c->pos == c->len) {
            c->result = 1;
            return 1;
        }
        a = c->fold ? fold(p[i]) : p[i];
        if (a != c->s[c->pos]) {
            /* chunks never split a character, so its start is here */
            k = i - char_start(p, i);
            c->result = compare_at(p + i - k, n - i + k,
                                   c->s + c->pos - k, c->len - c->pos + k,
                                   c->fold);
            if (c->result == 0) {
                c->result = a < c->s[c->pos] ? -1 : 1;
            }
            return 1;
        }
        c->pos++;
    }
    return 0;
}


static int
copy_sink(void *ctx, const char *p, size_t n)
{
    mkt_js_copy_t  *c = ctx;

    if (n > c->cap - c->len) {
        c->overflow = 1;
        return 1;
    }
    memcpy(c->buf + c->len, p, n);
    c->len += n;
    return 0;
}


/* String(v) of anything but an array, in one piece. */
static int
emit_scalar(const mkt_val_t *v, mkt_js_sink_pt sink, void *ctx)
{
    char  buf[MKT_JS_NUMBER_MAX];

    switch (v->type) {
    case MKT_VAL_UNDEFINED:
        return sink(ctx, "undefined", 9);
    case MKT_VAL_NULL:
        return sink(ctx, "null", 4);
    case MKT_VAL_BOOL:
        return v->u.boolean ? sink(ctx, "true", 4) : sink(ctx, "false", 5);
    case MKT_VAL_NUMBER:
        return sink(ctx, buf, mkt_js_format_number(v->u.number, buf));
    case MKT_VAL_STRING:
        return v->len ? sink(ctx, v->u.str, v->len) : 0;
    default:
        return sink(ctx, "[object Object]", 15);
    }
}


/*
 * Streams String(v) into sink piece by piece; sink returns non-zero to stop.
 * An array is its items joined with "," (null and undefined as ""), nested
 * arrays joined likewise, walked with a bounded stack rather than recursion.
 */
static void
stream_string_of(const mkt_val_t *v, mkt_js_sink_pt sink, void *ctx)
{
    const mkt_val_t  *e;
    size_t            depth;
    struct {
        const mkt_val_t  *items;
        size_t            n;
        size_t            i;
    }                 st[MKT_VAL_MAX_DEPTH];

    if (v->type != MKT_VAL_ARRAY) {
        (void) emit_scalar(v, sink, ctx);
        return;
    }

    st[0].items = v->u.items;
    st[0].n = v->len;
    st[0].i = 0;
    depth = 1;

    while (depth > 0) {
        if (st[depth - 1].i == st[depth - 1].n) {
            depth--;
            continue;
        }
        if (st[depth - 1].i > 0 && sink(ctx, ",", 1)) {
            return;
        }
        e = &st[depth - 1].items[st[depth - 1].i++];

        if (e->type == MKT_VAL_ARRAY) {
            if (depth < MKT_VAL_MAX_DEPTH) {
                st[depth].items = e->u.items;
                st[depth].n = e->len;
                st[depth].i = 0;
                depth++;
            }

        } else if (e->type != MKT_VAL_NULL && e->type != MKT_VAL_UNDEFINED) {
            if (emit_scalar(e, sink, ctx)) {
                return;
            }
        }
    }
}


int
mkt_js_compare_string_of(const mkt_val_t *v, const char *s, size_t len,
    int folding)
{
    mkt_js_cmp_t  c;

    if (v->type == MKT_VAL_STRING && !folding) {
        return mkt_js_compare_strings(v->u.str, v->len, s, len);
    }

    c.s = (const unsigned char *) s;
    c.len = len;
    c.pos = 0;
    c.fold = folding;
    c.result = 0;
    stream_string_of(v, compare_sink, &c);

    if (c.result == 0 && c.pos < c.len) {
        c.result = -1;
    }
    return c.result;
}


size_t
mkt_js_string_of(const mkt_val_t *v, char *buf, size_t cap)
{
    mkt_js_copy_t  c;

    c.buf = buf;
    c.cap = cap;
    c.len = 0;
    c.overflow = 0;
    stream_string_of(v, copy_sink, &c);

    return c.overflow ? (size_t) -1 : c.len;
}


int
mkt_js_strict_equal(const mkt_val_t *a, const mkt_val_t *b)
{
    if (a->type != b->type) {
        return 0;
    }

    switch (a->type) {
    case MKT_VAL_UNDEFINED:
    case MKT_VAL_NULL:
        return 1;
    case MKT_VAL_BOOL:
        return a->u.boolean == b->u.boolean;
    case MKT_VAL_NUMBER:
        return a->u.number == b->u.number;
    case MKT_VAL_STRING:
        return a->len == b->len
               && (a->len == 0 || memcmp(a->u.str, b->u.str, a->len) == 0);
    default:
        return a == b;
    }
}


int
mkt_js_array_index(const char *key, size_t len, size_t *idx)
{
    unsigned long long  n = 0;
    size_t              i;

    if (len == 0 || len > 10 || (key[0] == '0' && len > 1)) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (key[i] < '0' || key[i] > '9') {
            return 0;
        }
        n = n * 10 + (unsigned long long) (key[i] - '0');
    }
    if (n > 4294967294ULL) {
        return 0;
    }
    *idx = (size_t) n;
    return 1;
}


/* The kinds JSON.stringify tells apart; non-finite numbers print null. */
static mkt_val_type_e
json_kind(const mkt_val_t *v)
{
    if (v->type == MKT_VAL_NUMBER && !isfinite(v->u.number)) {
        return MKT_VAL_NULL;
    }
    return v->type;
}


static int
is_index_key(const mkt_val_pair_t *p)
{
    size_t  idx;

    return mkt_js_array_index(p->key, p->key_len, &idx);
}


static int json_equal_item(const mkt_val_t *a, const mkt_val_t *b);


/* Next member JSON.stringify prints (undefined ones it omits), with or
 * without an array-index key, from *i on; NULL at the end. */
static const mkt_val_pair_t *
next_member(const mkt_val_t *o, size_t *i, int index_keys)
{
    const mkt_val_pair_t  *p;

    while (*i < o->len) {
        p = &o->u.pairs[(*i)++];
        if (p->val.type != MKT_VAL_UNDEFINED
            && is_index_key(p) == index_keys)
        {
            return p;
        }
    }
    return NULL;
}


/*
 * JavaScript lists array-index keys first, ascending, then the others in
 * insertion order: so the others must match pairwise in order, and the
 * index keys as sets (keys being unique).
 */
static int
json_equal_objects(const mkt_val_t *a, const mkt_val_t *b)
{
    const mkt_val_pair_t  *pa, *pb;
    size_t                 i, j, na = 0, nb = 0;

    for (i = 0; next_member(a, &i, 0) != NULL; na++) { /* void */ }
    for (i = 0; next_member(b, &i, 0) != NULL; nb++) { /* void */ }
    if (na != nb) {
        return 0;
    }
    for (i = 0, na = 0; next_member(a, &i, 1) != NULL; na++) { /* void */ }
    for (i = 0, nb = 0; next_member(b, &i, 1) != NULL; nb++) { /* void */ }
    if (na != nb) {
        return 0;
    }

    i = j = 0;
    while ((pa = next_member(a, &i, 0)) != NULL) {
        pb = next_member(b, &j, 0);
        if (pa->key_len != pb->key_len
            || (pa->key_len && memcmp(pa->key, pb->key, pa->key_len) != 0)
            || !json_equal_item(&pa->val, &pb->val))
        {
            return 0;
        }
    }

    i = 0;
    while ((pa = next_member(a, &i, 1)) != NULL) {
        pb = NULL;
        j = 0;
        while ((pb = next_member(b, &j, 1)) != NULL) {
            if (pb->key_len == pa->key_len
                && memcmp(pb->key, pa->key, pa->key_len) == 0)
            {
                break;
            }
        }
        if (pb == NULL || !json_equal_item(&pa->val, &pb->val)) {
            return 0;
        }
    }

    return 1;
}


/* Equality of what JSON.stringify prints for an array item or member
 * value (where undefined prints null). */
static int
json_equal_item(const mkt_val_t *a, const mkt_val_t *b)
{
    mkt_val_type_e  ka, kb;
    size_t          i;

    ka = json_kind(a);
    kb = json_kind(b);
    if (ka == MKT_VAL_UNDEFINED) {
        ka = MKT_VAL_NULL;
    }
    if (kb == MKT_VAL_UNDEFINED) {
        kb = MKT_VAL_NULL;
    }
    if (ka != kb) {
        return 0;
    }

    switch (ka) {
    case MKT_VAL_ARRAY:
        if (a->len != b->len) {
            return 0;
        }
        for (i = 0; i < a->len; i++) {
            if (!json_equal_item(&a->u.items[i], &b->u.items[i])) {
                return 0;
            }
        }
        return 1;

    case MKT_VAL_OBJECT:
        return json_equal_objects(a, b);

    case MKT_VAL_NULL:
        return 1;

    default:
        return mkt_js_strict_equal(a, b);
    }
}


int
mkt_js_json_equal(const mkt_val_t *a, const mkt_val_t *b)
{
    /* JSON.stringify(undefined) is undefined, not a string */
    if (a->type == MKT_VAL_UNDEFINED || b->type == MKT_VAL_UNDEFINED) {
        return a->type == b->type;
    }
    return json_equal_item(a, b);
}
