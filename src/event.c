/* The event model's JSON encoding (DESIGN.md section 8), bounded and
 * always valid whatever bytes the fields hold; and the dedup key of
 * conversions. */
#include <math.h>
#include <string.h>

#include "event.h"
#include "json_write.h"
#include "siphash.h"
#include "text.h"

typedef struct {
    const char  *name;
    size_t       max;
} field_t;

static const field_t  touch_fields[MKT_EVENT_TOUCH_FIELDS] = {
    { "source", MKT_EVENT_TEXT_MAX },
    { "medium", MKT_EVENT_TEXT_MAX },
    { "campaign", MKT_EVENT_TEXT_MAX }
};

static const field_t  utm_fields[MKT_UTM_FIELDS] = {
    { "source", MKT_EVENT_TEXT_MAX },
    { "medium", MKT_EVENT_TEXT_MAX },
    { "campaign", MKT_EVENT_TEXT_MAX },
    { "term", MKT_EVENT_TEXT_MAX },
    { "content", MKT_EVENT_TEXT_MAX }
};

static const field_t  geo_fields[3] = {
    { "country", MKT_EVENT_KEY_MAX },
    { "region", MKT_EVENT_KEY_MAX },
    { "city", MKT_EVENT_TEXT_MAX }
};

static const char *const  type_names[MKT_EVENT_TYPES] = {
    "exposure", "conversion", "touch"
};


void
mkt_event_init(mkt_event_t *ev, mkt_event_type_e type, int64_t ts)
{
    memset(ev, 0, sizeof(*ev));
    ev->type = type;
    ev->ts = ts;
}


const char *
mkt_event_type_name(mkt_event_type_e type)
{
    return (unsigned) type < MKT_EVENT_TYPES ? type_names[type] : "";
}


/* the longest member name the encoder writes ("currency", "click_id") */
#define MEMBER_NAME_MAX  16

/* ,"name": */
static void
name(mkt_jw_t *w, const char *sep, const char *s)
{
    char    buf[MEMBER_NAME_MAX + 4];
    size_t  n;

    /* sep is one character, "{" or ",": one piece */
    n = strlen(s);
    if (n > MEMBER_NAME_MAX) {
        w->full = 1;
        return;
    }
    buf[0] = sep[0];
    buf[1] = '"';
    memcpy(buf + 2, s, n);
    buf[n + 2] = '"';
    buf[n + 3] = ':';
    mkt_jw_raw(w, buf, n + 4);
}


static void
string(mkt_jw_t *w, const char *s, const mkt_str_t *v, size_t max)
{
    if (v->len) {
        name(w, ",", s);
        mkt_jw_string(w, v->data, v->len, max);
    }
}


/* ,"s":{...} of the values present, or nothing */
static void
object(mkt_jw_t *w, const char *s, const field_t *f, const mkt_str_t *v,
    size_t n)
{
    size_t       i;
    const char  *sep;

    sep = NULL;
    for (i = 0; i < n; i++) {
        if (v[i].len == 0) {
            continue;
        }
        if (sep == NULL) {
            name(w, ",", s);
            sep = "{";
        }
        name(w, sep, f[i].name);
        mkt_jw_string(w, v[i].data, v[i].len, f[i].max);
        sep = ",";
    }
    if (sep) {
        mkt_jw_raw(w, "}", 1);
    }
}


/* sep "key":"value" */
static void
member(mkt_jw_t *w, const char *sep, const mkt_str_t *k, size_t kmax,
    const mkt_str_t *v, size_t vmax)
{
    mkt_jw_raw(w, sep, 1);
    mkt_jw_string(w, k->data, k->len, kmax);
    mkt_jw_raw(w, ":", 1);
    mkt_jw_string(w, v->data, v->len, vmax);
}


/* ,"props":{...} of the entries with a key, or nothing */
static void
props(mkt_jw_t *w, const mkt_event_prop_t *p, size_t n)
{
    size_t       i;
    const char  *sep;

    sep = NULL;
    for (i = 0; i < n && i < MKT_EVENT_PROPS_MAX; i++) {
        if (p[i].key.len == 0) {
            continue;
        }
        if (sep == NULL) {
            name(w, ",", "props");
            sep = "{";
        }
        member(w, sep, &p[i].key, MKT_EVENT_KEY_MAX, &p[i].value,
               MKT_EVENT_PROP_MAX);
        sep = ",";
    }
    if (sep) {
        mkt_jw_raw(w, "}", 1);
    }
}


static void
assign(mkt_jw_t *w, const mkt_event_assign_t *a, size_t n)
{
    size_t       i, written;
    const char  *sep;

    sep = "{";
    written = 0;
    for (i = 0; i < n && written < MKT_EVENT_ASSIGN_MAX; i++) {
        if (a[i].key.len == 0 || a[i].variation.len == 0) {
            continue;
        }
        if (written++ == 0) {
            name(w, ",", "assign");
        }
        member(w, sep, &a[i].key, MKT_EVENT_KEY_MAX, &a[i].variation,
               MKT_EVENT_KEY_MAX);
        sep = ",";
    }
    if (written) {
        mkt_jw_raw(w, "}", 1);
    }
}


size_t
mkt_event_encode(const mkt_event_t *ev, char *buf, size_t cap)
{
    char         clean[MKT_EVENT_PATH_MAX];
    mkt_jw_t     w;
    mkt_str_t    geo[3], path;
    const char  *type;

    if ((unsigned) ev->type >= MKT_EVENT_TYPES || ev->id.len == 0) {
        return 0;
    }
    type = type_names[ev->type];

    mkt_jw_init(&w, buf, cap < MKT_EVENT_MAX ? cap : MKT_EVENT_MAX);

    name(&w, "{", "id");
    mkt_jw_string(&w, ev->id.data, ev->id.len, MKT_EVENT_ID_LEN);
    name(&w, ",", "ts");
    mkt_jw_int(&w, ev->ts);
    name(&w, ",", "type");
    mkt_jw_raw(&w, "\"", 1);
    mkt_jw_raw(&w, type, strlen(type));
    mkt_jw_raw(&w, "\"", 1);
    string(&w, "vid", &ev->vid, MKT_EVENT_KEY_MAX);
    string(&w, "uid", &ev->uid, MKT_EVENT_UID_MAX);

    string(&w, "exp", &ev->exp, MKT_EVENT_KEY_MAX);
    string(&w, "var", &ev->var, MKT_EVENT_KEY_MAX);

    string(&w, "goal", &ev->goal, MKT_EVENT_KEY_MAX);
    if (ev->has_value && isfinite(ev->value)) {
        name(&w, ",", "value");
        mkt_jw_number(&w, ev->value);
    }
    string(&w, "currency", &ev->currency, MKT_EVENT_KEY_MAX);
    string(&w, "order", &ev->order, MKT_EVENT_ORDER_MAX);

    assign(&w, ev->assign, ev->assign ? ev->nassign : 0);
    object(&w, "ft", touch_fields, ev->ft, MKT_EVENT_TOUCH_FIELDS);
    object(&w, "lt", touch_fields, ev->lt, MKT_EVENT_TOUCH_FIELDS);

    object(&w, "utm", utm_fields, ev->utm, MKT_UTM_FIELDS);
    string(&w, "click_name", &ev->click_name, MKT_EVENT_KEY_MAX);
    string(&w, "click_id", &ev->click_id, MKT_EVENT_CLICK_ID_MAX);
    string(&w, "referrer", &ev->referrer, MKT_EVENT_HOST_MAX);
    string(&w, "channel", &ev->channel, MKT_EVENT_KEY_MAX);

    geo[0] = ev->country;
    geo[1] = ev->region;
    geo[2] = ev->city;
    object(&w, "geo", geo_fields, geo, 3);
    string(&w, "device", &ev->device, MKT_EVENT_KEY_MAX);
    string(&w, "host", &ev->host, MKT_EVENT_HOST_MAX);

    /* the request's path as nginx percent-decoded it: control characters
     * dropped, not only escaped (DESIGN.md section 5) */
    path.data = clean;
    path.len = ev->path.len ? mkt_text_clean(clean, sizeof(clean),
                                             ev->path.data, ev->path.len)
                            : 0;
    string(&w, "path", &path, MKT_EVENT_PATH_MAX);
    props(&w, ev->props, ev->nprops);
    mkt_jw_raw(&w, "}", 1);

    return w.full ? 0 : w.len;
}


void
mkt_event_set_touch(mkt_str_t out[MKT_EVENT_TOUCH_FIELDS],
    const mkt_touch_t *t)
{
    size_t  i;

    for (i = 0; i < MKT_EVENT_TOUCH_FIELDS; i++) {
        if (t == NULL || t->kind == MKT_TOUCH_INTERNAL) {
            out[i].data = "";
            out[i].len = 0;

        } else {
            out[i] = mkt_touch_get(t, (mkt_touch_field_e) i);
        }
    }
}


void
mkt_event_set_utm(mkt_event_t *ev, const mkt_utm_t *u)
{
    size_t  i;

    for (i = 0; i < MKT_UTM_FIELDS; i++) {
        ev->utm[i].data = u->value[i];
        ev->utm[i].len = u->len[i];
    }

    ev->click_name.data = u->click_name;
    ev->click_name.len = u->click_name ? u->click_name_len : 0;
    ev->click_id.data = u->click;
    ev->click_id.len = u->click_name ? u->click_len : 0;
}


void
mkt_event_set_geo(mkt_event_t *ev, const mkt_geo_loc_t *loc)
{
    ev->country.data = loc ? loc->country : "";
    ev->country.len = loc ? loc->country_len : 0;
    ev->region.data = loc ? loc->region : "";
    ev->region.len = loc ? loc->region_len : 0;
    ev->city.data = loc ? loc->city : "";
    ev->city.len = loc ? loc->city_len : 0;
}


uint64_t
mkt_event_dedup_key(const unsigned char key[MKT_DEDUP_KEY_LEN],
    const mkt_str_t *goal, const mkt_str_t *order)
{
    unsigned char  msg[1 + MKT_EVENT_KEY_MAX + MKT_EVENT_ORDER_MAX];
    size_t         g, o;

    /* the goal's length first: ("ab", "c") and ("a", "bc") differ */
    g = goal->len < MKT_EVENT_KEY_MAX ? goal->len : MKT_EVENT_KEY_MAX;
    o = order->len < MKT_EVENT_ORDER_MAX ? order->len : MKT_EVENT_ORDER_MAX;
    msg[0] = (unsigned char) g;
    memcpy(msg + 1, goal->data, g);
    memcpy(msg + 1 + g, order->data, o);

    return mkt_siphash(key, msg, 1 + g + o);
}


int
mkt_event_dedup_secret(mkt_hmac_t *h, unsigned char key[MKT_DEDUP_KEY_LEN])
{
    static const char  label[] = "mkt event dedup key v1";
    unsigned char      mac[MKT_SHA256_LEN];

    if (h == NULL) {
        memset(key, 0, MKT_DEDUP_KEY_LEN);
        return 0;
    }
    if (mkt_hmac_sha256(h, label, sizeof(label) - 1, mac) != 0) {
        return -1;
    }
    memcpy(key, mac, MKT_DEDUP_KEY_LEN);
    return 0;
}


size_t
mkt_event_assign_sticky(const mkt_config_t *cfg, const mkt_sticky_t *st,
    int64_t now, mkt_event_assign_t *out)
{
    size_t                     i, n;
    const mkt_str_t           *name;
    const mkt_experiment_t    *e;
    const mkt_sticky_entry_t  *s;

    n = 0;
    for (i = 0; cfg != NULL && i < st->n; i++) {
        s = &st->e[i];
        e = mkt_config_sticky_experiment(cfg, s->id);

        if (e == NULL || e->variations == NULL
            || e->status != MKT_EXP_RUNNING || now < e->start
            || now >= e->end || s->variation >= e->nvariations
            || s->bucket_version < e->min_bucket_version)
        {
            continue;
        }

        name = &e->variations[s->variation];
        if (s->vhash != mkt_sticky_variation_hash(name->data, name->len)) {
            continue;
        }

        out[n].key = e->key;
        out[n].variation = *name;
        n++;
    }
    return n;
}
