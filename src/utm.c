/* The query-string campaign parser: one bounded pass over the name=value
 * pairs, decoding only the values of the parameters it looks for. */
#include <string.h>

#include "text.h"
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


static int
lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}


/* s (len bytes) is name, ASCII case-insensitively */
static int
name_is(const char *s, size_t len, const char *name, size_t name_len)
{
    size_t  i;

    if (len != name_len) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (lower((unsigned char) s[i]) != lower((unsigned char) name[i])) {
            return 0;
        }
    }
    return 1;
}


static int
hex(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}


static int
is_space(char c)
{
    return c == ' ';
}


/*
 * The value s (len <= MKT_QUERY_SCAN_MAX) percent-decoded, cleaned, cut
 * to cap and trimmed into dst; its length.  A '%' not followed by two hex
 * digits stays as it is.
 */
static size_t
decode_value(const char *s, size_t len, char *dst, size_t cap)
{
    char    buf[MKT_QUERY_SCAN_MAX];
    size_t  i, n, start, out;
    int     hi, lo;

    n = 0;
    for (i = 0; i < len; i++) {
        if (s[i] == '+') {
            buf[n++] = ' ';

        } else if (s[i] == '%' && i + 2 < len
                   && (hi = hex((unsigned char) s[i + 1])) >= 0
                   && (lo = hex((unsigned char) s[i + 2])) >= 0)
        {
            buf[n++] = (char) (hi << 4 | lo);
            i += 2;

        } else {
            buf[n++] = s[i];
        }
    }

    /* spaces first, so they take none of the capacity; cleaning may bare
     * more (" %01 x"), so once again after */
    for (start = 0; start < n && is_space(buf[start]); start++) { }
    while (n > start && is_space(buf[n - 1])) {
        n--;
    }

    out = mkt_text_clean(dst, cap, buf + start, n - start);

    for (start = 0; start < out && is_space(dst[start]); start++) { }
    while (out > start && is_space(dst[out - 1])) {
        out--;
    }
    if (start > 0) {
        memmove(dst, dst + start, out - start);
    }
    return out - start;
}


/* The utm field a parameter name is, or -1. */
static int
utm_field(const char *name, size_t len)
{
    size_t  i;

    if (len <= UTM_PREFIX_LEN
        || !name_is(name, UTM_PREFIX_LEN, UTM_PREFIX, UTM_PREFIX_LEN))
    {
        return -1;
    }
    for (i = 0; i < MKT_UTM_FIELDS; i++) {
        if (name_is(name + UTM_PREFIX_LEN, len - UTM_PREFIX_LEN,
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
    out->click_len = decode_value(v, vlen, out->click, MKT_CLICK_ID_MAX);
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
            out->len[f] = decode_value(v, vlen, out->value[f],
                                       MKT_UTM_VALUE_MAX);
        }
        return;
    }

    for (i = 0; i < NCLICK_IDS; i++) {
        c = &click_ids[i];
        if (name_is(name, nlen, c->name, c->len)) {
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
        if (name_is(name, nlen, extra->data, extra->len)) {
            if (out->click_name == NULL) {
                take_click(out, extra->data, extra->len, "", MKT_CLICK_OTHER,
                           v, vlen);
            }
            return;
        }
    }

    if (!*code_seen && ch->param.len
        && name_is(name, nlen, ch->param.data, ch->param.len))
    {
        n = decode_value(v, vlen, code, sizeof(code));
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
    int          code_seen;
    size_t       i, end, ns, eq, scan;

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
    scan = len < MKT_QUERY_SCAN_MAX ? len : MKT_QUERY_SCAN_MAX;

    for (i = 0; i < scan; i = end + 1) {
        ns = i;
        eq = (size_t) -1;
        for (end = i; end < scan && args[end] != '&'; end++) {
            if (args[end] == '=' && eq == (size_t) -1) {
                eq = end;
            }
        }

        if (end == scan && scan < len && args[scan] != '&') {
            break;                  /* cut by the bound */
        }
        if (eq == (size_t) -1 || eq == ns || eq + 1 == end) {
            continue;               /* no name or no value */
        }

        take_pair(ch, out, &code_seen, args + ns, eq - ns, args + eq + 1,
                  end - eq - 1);
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
        if (name_is(name, len, click_ids[i].name, click_ids[i].len)) {
            return 2;
        }
    }
    return 0;
}
