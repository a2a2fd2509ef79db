/* libFuzzer target for src/event.c and src/json_write.c: random field
 * bytes make an event; its encoding must fit MKT_EVENT_MAX, parse as JSON
 * with jansson, and give back exactly the values an independent reference
 * cleaner and cutter makes of the fields (the path without its control
 * characters), each member present exactly when that value is not empty.
 *
 * Input: TYPE FLAGS VALUE(8) TS(8) CAP(2) then the fields separated by
 * 0x1e: id vid uid exp var goal currency order ft.source ft.medium
 * ft.campaign lt.* utm.source ... utm.content click_name click_id referrer
 * channel country region city device host path, then assign key and
 * variation pairs. */

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "event.h"
#include "ref_utf8.h"

#define SEP         0x1e
#define HEADER      20
#define NTOP        29          /* fields before the assign pairs */
#define NASSIGN     (MKT_EVENT_ASSIGN_MAX + 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    const char  *name;          /* member, or "obj.member" */
    size_t       max;
    size_t       off;           /* of its mkt_str_t in mkt_event_t */
    int          drop;          /* control characters left out */
} ref_field_t;

/* in input order: the member's name and bound, the field's place */
#define F(name, max, field)  { name, max, offsetof(mkt_event_t, field), 0 }
#define FD(name, max, field) { name, max, offsetof(mkt_event_t, field), 1 }

static const ref_field_t  fields[NTOP] = {
    F("id", MKT_EVENT_ID_LEN, id), F("vid", MKT_EVENT_KEY_MAX, vid),
    F("uid", MKT_EVENT_UID_MAX, uid), F("exp", MKT_EVENT_KEY_MAX, exp),
    F("var", MKT_EVENT_KEY_MAX, var), F("goal", MKT_EVENT_KEY_MAX, goal),
    F("currency", MKT_EVENT_KEY_MAX, currency),
    F("order", MKT_EVENT_ORDER_MAX, order),
    F("ft.source", MKT_EVENT_TEXT_MAX, ft[0]),
    F("ft.medium", MKT_EVENT_TEXT_MAX, ft[1]),
    F("ft.campaign", MKT_EVENT_TEXT_MAX, ft[2]),
    F("lt.source", MKT_EVENT_TEXT_MAX, lt[0]),
    F("lt.medium", MKT_EVENT_TEXT_MAX, lt[1]),
    F("lt.campaign", MKT_EVENT_TEXT_MAX, lt[2]),
    F("utm.source", MKT_EVENT_TEXT_MAX, utm[0]),
    F("utm.medium", MKT_EVENT_TEXT_MAX, utm[1]),
    F("utm.campaign", MKT_EVENT_TEXT_MAX, utm[2]),
    F("utm.term", MKT_EVENT_TEXT_MAX, utm[3]),
    F("utm.content", MKT_EVENT_TEXT_MAX, utm[4]),
    F("click_name", MKT_EVENT_KEY_MAX, click_name),
    F("click_id", MKT_EVENT_CLICK_ID_MAX, click_id),
    F("referrer", MKT_EVENT_HOST_MAX, referrer),
    F("channel", MKT_EVENT_KEY_MAX, channel),
    F("geo.country", MKT_EVENT_KEY_MAX, country),
    F("geo.region", MKT_EVENT_KEY_MAX, region),
    F("geo.city", MKT_EVENT_TEXT_MAX, city),
    F("device", MKT_EVENT_KEY_MAX, device),
    F("host", MKT_EVENT_HOST_MAX, host), FD("path", MKT_EVENT_PATH_MAX, path)
};

static const char *const  type_names[] = { "exposure", "conversion", "touch" };


/* What a value decodes to: each byte of a bad sequence and NUL as U+FFFD,
 * the rest as it is, cut before the first character past max bytes, or
 * past 2 * max as written (escapes: 2 bytes for " \ \b \t \n \f \r, 6 for
 * other controls and U+2028/9).  With drop (the path), control
 * characters, NUL included, are left out instead. */
static size_t
ref_value_of(const uint8_t *s, size_t len, size_t max, int drop, char *out)
{
    size_t    n, dn, wn, decoded, written;
    uint32_t  cp;

    decoded = 0;
    written = 0;
    while (len > 0) {
        n = strict_seq(s, len, &cp);
        if (drop && n != 0 && is_control(cp)) {
            s += n;
            len -= n;
            continue;
        }
        if (n == 0 || cp == 0) {
            n = 1;
            cp = 0xfffd;
        }
        dn = cp == 0xfffd && n == 1 ? 3 : n;
        if (cp == '"' || cp == '\\' || cp == '\b' || cp == '\t'
            || cp == '\n' || cp == '\f' || cp == '\r')
        {
            wn = 2;
        } else if (is_control(cp) || cp == 0x2028 || cp == 0x2029) {
            wn = 6;
        } else {
            wn = dn;
        }
        if (decoded + dn > max || written + wn > 2 * max) {
            break;
        }
        if (dn == 3 && n == 1) {
            memcpy(out + decoded, "\xef\xbf\xbd", 3);
        } else {
            memcpy(out + decoded, s, n);
        }
        decoded += dn;
        written += wn;
        s += n;
        len -= n;
    }
    return decoded;
}


static size_t
ref_value(const uint8_t *s, size_t len, size_t max, char *out)
{
    return ref_value_of(s, len, max, 0, out);
}


static json_t *
member(json_t *root, const char *name)
{
    char         obj[8];
    const char  *dot;

    dot = strchr(name, '.');
    if (dot == NULL) {
        return json_object_get(root, name);
    }
    memcpy(obj, name, (size_t) (dot - name));
    obj[dot - name] = '\0';
    return json_object_get(json_object_get(root, obj), dot + 1);
}


/* The length of field f's reference value for s (0: no member). */
static size_t
ref_length(const ref_field_t *f, const uint8_t *s, size_t len)
{
    char    *want;
    size_t   n;

    want = malloc(f->max + 1);
    CHECK(want != NULL);
    n = ref_value_of(s, len, f->max, f->drop, want);
    free(want);
    return n;
}


/* The member for input s must be the reference value of s, or absent. */
static void
check_string(json_t *root, const ref_field_t *f, const uint8_t *s,
    size_t len)
{
    char     *want;
    size_t    n;
    json_t   *v;

    v = member(root, f->name);
    if (len == 0) {
        CHECK(v == NULL);
        return;
    }
    want = malloc(f->max + 1);
    CHECK(want != NULL);
    n = ref_value_of(s, len, f->max, f->drop, want);
    CHECK(n > 0 || f->drop);
    if (n == 0) {
        CHECK(v == NULL);
        free(want);
        return;
    }
    CHECK(json_is_string(v));
    CHECK(json_string_length(v) == n);
    CHECK(memcmp(json_string_value(v), want, n) == 0);
    free(want);
}


/* How many members root must have: one for each field given, or for the
 * object it is in. */
static size_t
expected_members(const mkt_str_t *seg, int value, int assign)
{
    size_t    i, n;
    unsigned  bit, objects;

    n = 2 + (value != 0) + (assign != 0);      /* ts type */
    objects = 0;
    for (i = 0; i < NTOP; i++) {
        if (seg[i].len == 0
            || (fields[i].drop
                && ref_length(&fields[i], (const uint8_t *) seg[i].data,
                              seg[i].len) == 0))
        {
            continue;
        }
        if (strchr(fields[i].name, '.') == NULL) {
            n++;
            continue;
        }
        bit = 1u << (fields[i].name[0] - 'a');  /* ft lt utm geo */
        n += (objects & bit) == 0;
        objects |= bit;
    }
    return n;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                *buf, *small, *want_k, *want_v;
    size_t               i, n, nseg, nassign, cap, kn, vn, n2;
    double               value;
    int64_t              ts;
    uint8_t             *copy;
    json_t              *root, *v, *want_assign;
    json_error_t         e;
    mkt_str_t            seg[NTOP + 2 * NASSIGN];
    mkt_event_t          ev;
    mkt_event_assign_t   assign[NASSIGN];
    const uint8_t       *p, *end, *s;

    if (size < HEADER) {
        return 0;
    }

    copy = malloc(size);
    CHECK(copy != NULL);
    memcpy(copy, data, size);

    memcpy(&value, copy + 2, 8);
    memcpy(&ts, copy + 10, 8);
    cap = (size_t) copy[18] << 8 | copy[19];

    /* the fields; those not in the input are empty */
    nseg = 0;
    p = copy + HEADER;
    end = copy + size;
    while (nseg < NTOP + 2 * NASSIGN) {
        s = memchr(p, SEP, (size_t) (end - p));
        seg[nseg].data = (const char *) p;
        seg[nseg].len = (size_t) ((s ? s : end) - p);
        nseg++;
        if (s == NULL) {
            break;
        }
        p = s + 1;
    }
    for (i = nseg; i < NTOP; i++) {
        seg[i].data = "";
        seg[i].len = 0;
    }
    nassign = nseg > NTOP ? (nseg - NTOP) / 2 : 0;

    mkt_event_init(&ev, (mkt_event_type_e) (copy[0] % 4), ts);
    ev.has_value = copy[1] & 1;
    ev.value = value;
    for (i = 0; i < NTOP; i++) {
        *(mkt_str_t *) ((char *) &ev + fields[i].off) = seg[i];
    }
    for (i = 0; i < nassign; i++) {
        assign[i].key = seg[NTOP + 2 * i];
        assign[i].variation = seg[NTOP + 1 + 2 * i];
    }
    ev.assign = assign;
    ev.nassign = nassign;

    buf = malloc(MKT_EVENT_MAX);
    CHECK(buf != NULL);
    n = mkt_event_encode(&ev, buf, MKT_EVENT_MAX);

    if (copy[0] % 4 == 3 || ev.id.len == 0) {
        CHECK(n == 0);
        goto done;
    }
    CHECK(n > 0 && n <= MKT_EVENT_MAX);

    /* a smaller buffer: the same bytes, or nothing */
    small = malloc(cap ? cap : 1);
    CHECK(small != NULL);
    n2 = mkt_event_encode(&ev, small, cap);
    CHECK(n2 == (cap >= n ? n : 0));
    CHECK(n2 == 0 || memcmp(small, buf, n) == 0);
    free(small);

    root = json_loadb(buf, n, 0, &e);
    CHECK(root != NULL && json_is_object(root));

    CHECK(json_integer_value(json_object_get(root, "ts")) == ts);
    CHECK(strcmp(json_string_value(json_object_get(root, "type")),
                 type_names[copy[0] % 4]) == 0);
    for (i = 0; i < NTOP; i++) {
        check_string(root, &fields[i], (const uint8_t *) seg[i].data,
                     seg[i].len);
    }

    v = json_object_get(root, "value");
    if (ev.has_value && isfinite(value)) {
        CHECK(json_is_real(v) && json_real_value(v) == value);
    } else {
        CHECK(v == NULL);
    }

    /* assign: the first MKT_EVENT_ASSIGN_MAX complete pairs, as an
     * object built from the reference values (a repeated key: the last) */
    want_assign = json_object();
    want_k = malloc(MKT_EVENT_KEY_MAX);
    want_v = malloc(MKT_EVENT_KEY_MAX);
    CHECK(want_assign && want_k && want_v);
    for (i = 0, n2 = 0; i < nassign && n2 < MKT_EVENT_ASSIGN_MAX; i++) {
        if (assign[i].key.len == 0 || assign[i].variation.len == 0) {
            continue;
        }
        n2++;
        kn = ref_value((const uint8_t *) assign[i].key.data,
                       assign[i].key.len, MKT_EVENT_KEY_MAX, want_k);
        vn = ref_value((const uint8_t *) assign[i].variation.data,
                       assign[i].variation.len, MKT_EVENT_KEY_MAX, want_v);
        CHECK(json_object_setn_new_nocheck(want_assign, want_k, kn,
                                           json_stringn_nocheck(want_v, vn))
              == 0);
    }
    v = json_object_get(root, "assign");
    CHECK(n2 == 0 ? v == NULL : json_equal(v, want_assign));
    json_decref(want_assign);
    free(want_k);
    free(want_v);

    /* nothing else */
    CHECK(json_object_size(root)
          == expected_members(seg, ev.has_value && isfinite(value), n2 != 0));

    json_decref(root);

done:
    /* the dedup key is a function of goal and order */
    {
        unsigned char  k[MKT_DEDUP_KEY_LEN];

        memset(k, copy[1], sizeof(k));
        CHECK(mkt_event_dedup_key(k, &ev.goal, &ev.order)
              == mkt_event_dedup_key(k, &ev.goal, &ev.order));
    }
    free(buf);
    free(copy);
    return 0;
}
