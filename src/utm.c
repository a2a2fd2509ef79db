/* The query-string campaign parser: one bounded pass over the name=value
 * pairs, decoding only the values of the parameters it looks for. */
#include <string.h>

#include "query.h"
#include "utm.h"

typedef struct {
    const char        *name;
    size_t             len;
    const char        *source;      /* the network the click came from */
    mkt_click_kind_e   kind;
} click_id_t;

#define CLICK(name, source, kind)  { name, sizeof(name) - 1, source, kind }

static const click_id_t  click_ids[] = {
    CLICK("gclid", "google", MKT_CLICK_SEARCH),
    CLICK("gbraid", "google", MKT_CLICK_SEARCH),
    CLICK("wbraid", "google", MKT_CLICK_SEARCH),
    CLICK("msclkid", "bing", MKT_CLICK_SEARCH),
    CLICK("fbclid", "facebook", MKT_CLICK_SOCIAL),
    CLICK("ttclid", "tiktok", MKT_CLICK_SOCIAL),
    CLICK("li_fat_id", "linkedin", MKT_CLICK_SOCIAL),
    CLICK("twclid", "twitter", MKT_CLICK_SOCIAL)
};

#define NCLICK_IDS  (sizeof(click_ids) / sizeof(click_ids[0]))

static const char *const  field_names[MKT_UTM_FIELDS] = {
    "source", "medium", "campaign", "term", "content"
};

#define UTM_PREFIX      "utm_"
#define UTM_PREFIX_LEN  4


/* The utm field a parameter name is, or -1. */
static int
utm_field(const char *name, size_t len)
{
    size_t  i;

    if (len <= UTM_PREFIX_LEN
        || !mkt_query_name_is(name, UTM_PREFIX_LEN, UTM_PREFIX,
                              UTM_PREFIX_LEN))
    {
        return -1;
    }
    for (i = 0; i < MKT_UTM_FIELDS; i++) {
        if (mkt_query_name_is(name + UTM_PREFIX_LEN, len - UTM_PREFIX_LEN,
                              field_names[i], strlen(field_names[i])))
        {
            return (int) i;
        }
    }
    return -1;
}


static void
take_click(mkt_utm_t *out, const char *name, size_t name_len,
    const char *source, mkt_click_kind_e kind, const char *v, size_t vlen)
{
    out->click_len = mkt_query_value(out->click, MKT_CLICK_ID_MAX, v, vlen);
    if (out->click_len == 0) {
        return;
    }
    out->click_name = name;
    out->click_name_len = name_len;
    out->click_source = source;
    out->click_kind = kind;
}


/* One name=value pair; *code_seen: the channel-code parameter had a
 * value (found or not), so later ones are ignored. */
static void
take_pair(const mkt_channels_t *ch, mkt_utm_t *out, int *code_seen,
    const char *name, size_t nlen, const char *v, size_t vlen)
{
    int                 f;
    char                code[MKT_UTM_VALUE_MAX];
    size_t              i, n;
    const mkt_str_t    *extra;
    const click_id_t   *c;

    f = utm_field(name, nlen);
    if (f >= 0) {
        if (out->len[f] == 0) {
            out->len[f] = mkt_query_value(out->value[f], MKT_UTM_VALUE_MAX,
                                          v, vlen);
        }
        return;
    }

    for (i = 0; i < NCLICK_IDS; i++) {
        c = &click_ids[i];
        if (mkt_query_name_is(name, nlen, c->name, c->len)) {
            if (out->click_name == NULL) {
                take_click(out, c->name, c->len, c->source, c->kind, v,
                           vlen);
            }
            return;
        }
    }

    if (ch == NULL) {
        return;
    }

    for (i = 0; i < ch->nclick_ids; i++) {
        extra = &ch->click_ids[i];
        if (mkt_query_name_is(name, nlen, extra->data, extra->len)) {
            if (out->click_name == NULL) {
                take_click(out, extra->data, extra->len, "", MKT_CLICK_OTHER,
                           v, vlen);
            }
            return;
        }
    }

    if (!*code_seen && ch->param.len
        && mkt_query_name_is(name, nlen, ch->param.data, ch->param.len))
    {
        n = mkt_query_value(code, sizeof(code), v, vlen);
        if (n) {
            *code_seen = 1;
            out->code = mkt_channels_find_code(ch, code, n);
        }
    }
}


void
mkt_utm_parse(const mkt_channels_t *ch, const char *args, size_t len,
    mkt_utm_t *out)
{
    int               code_seen;
    size_t            i, pos;
    mkt_query_arg_t   a;

    for (i = 0; i < MKT_UTM_FIELDS; i++) {
        out->len[i] = 0;
    }
    out->click_kind = MKT_CLICK_NONE;
    out->click_name = NULL;
    out->click_name_len = 0;
    out->click_source = "";
    out->click_len = 0;
    out->code = NULL;

    code_seen = 0;
    pos = 0;

    while (mkt_query_next(args, len, &pos, &a)) {
        take_pair(ch, out, &code_seen, a.name, a.name_len, a.value,
                  a.value_len);
    }
}


int
mkt_utm_present(const mkt_utm_t *u)
{
    size_t  i;

    for (i = 0; i < MKT_UTM_FIELDS; i++) {
        if (u->len[i]) {
            return 1;
        }
    }
    return u->click_name != NULL || u->code != NULL;
}


const char *
mkt_utm_field_name(mkt_utm_field_e f)
{
    return (unsigned) f < MKT_UTM_FIELDS ? field_names[f] : "";
}


int
mkt_utm_builtin_param(const char *name, size_t len)
{
    size_t  i;

    if (utm_field(name, len) >= 0) {
        return 1;
    }

    for (i = 0; i < NCLICK_IDS; i++) {
        if (mkt_query_name_is(name, len, click_ids[i].name,
                              click_ids[i].len))
        {
            return 2;
        }
    }
    return 0;
}
