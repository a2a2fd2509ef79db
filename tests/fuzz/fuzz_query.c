/* libFuzzer target for src/utm.c: the input is a query string.  The
 * parser's result must equal an independent reference (split on '&',
 * names compared case-insensitively, values percent-decoded, trimmed,
 * cleaned by mkt_text_clean, the first non-empty value winning), with
 * and without a config, and every value must be clean and bounded. */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "utm.h"

#define CHECK(c)  do { if (!(c)) { __builtin_trap(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char  config_json[] =
    "{\"channels\": {\"param\": \"ch\", \"click_ids\": [\"bd_vid\", "
    "\"Qz.Gdt\"], \"codes\": {\"xhs01\": {\"source\": \"xiaohongshu\", "
    "\"medium\": \"social\"}, \"a\": {\"source\": \"s\", \"medium\": "
    "\"m\", \"campaign\": \"c\"}, \"A\": {\"source\": \"s\", "
    "\"medium\": \"m\"}}}}";

static const char *const  utm_names[MKT_UTM_FIELDS] = {
    "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"
};

static const char *const  builtin_clicks[] = {
    "gclid", "gbraid", "wbraid", "msclkid", "fbclid", "ttclid", "li_fat_id",
    "twclid"
};

static mkt_config_t          *cfg;
static const mkt_channels_t  *channels;

/* what the reference found */
typedef struct {
    size_t       len[MKT_UTM_FIELDS];
    char         value[MKT_UTM_FIELDS][MKT_UTM_VALUE_MAX];
    const char  *click;             /* the name as the table spells it */
    size_t       click_len;
    size_t       click_value_len;
    char         click_value[MKT_CLICK_ID_MAX];
    int          code_seen;
    size_t       code_len;
    char         code[MKT_UTM_VALUE_MAX];
} ref_t;


static int
nocase_eq(const uint8_t *s, size_t len, const char *name)
{
    size_t  i;
    int     a, b;

    if (len != strlen(name)) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        a = s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i];
        b = name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i];
        if (a != b) {
            return 0;
        }
    }
    return 1;
}


static int
hexval(uint8_t c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}


/* decode, trim spaces, clean to cap, trim again */
static size_t
ref_value(const uint8_t *v, size_t len, char *out, size_t cap)
{
    uint8_t  *dec;
    size_t    i, n, a, b, m;

    dec = malloc(len ? len : 1);
    CHECK(dec != NULL);
    for (i = 0, n = 0; i < len; n++) {
        if (v[i] == '%' && len - i >= 3 && hexval(v[i + 1]) >= 0
            && hexval(v[i + 2]) >= 0)
        {
            dec[n] = (uint8_t) (hexval(v[i + 1]) * 16 + hexval(v[i + 2]));
            i += 3;
        } else {
            dec[n] = v[i] == '+' ? ' ' : v[i];
            i++;
        }
    }

    for (a = 0; a < n && dec[a] == ' '; a++) { }
    for (b = n; b > a && dec[b - 1] == ' '; b--) { }
    m = mkt_text_clean(out, cap, (char *) dec + a, b - a);
    free(dec);

    for (a = 0; a < m && out[a] == ' '; a++) { }
    for (b = m; b > a && out[b - 1] == ' '; b--) { }
    memmove(out, out + a, b - a);
    return b - a;
}


static void
ref_parse(const uint8_t *q, size_t len, int with_config, ref_t *r)
{
    char            tmp[MKT_CLICK_ID_MAX];
    size_t          s, e, eq, scan, f, k, n;
    const uint8_t  *name, *val;
    size_t          nlen, vlen;

    memset(r, 0, sizeof(*r));
    scan = len < MKT_QUERY_SCAN_MAX ? len : MKT_QUERY_SCAN_MAX;

    for (s = 0; s < scan; s = e + 1) {
        for (e = s; e < scan && q[e] != '&'; e++) { }
        if (e == scan && scan < len && q[scan] != '&') {
            break;
        }
        for (eq = s; eq < e && q[eq] != '='; eq++) { }
        if (eq == e || eq == s || eq + 1 == e) {
            continue;
        }
        name = q + s;
        nlen = eq - s;
        val = q + eq + 1;
        vlen = e - eq - 1;

        for (f = 0; f < MKT_UTM_FIELDS; f++) {
            if (nocase_eq(name, nlen, utm_names[f])) {
                if (r->len[f] == 0) {
                    r->len[f] = ref_value(val, vlen, r->value[f],
                                          MKT_UTM_VALUE_MAX);
                }
                break;
            }
        }
        if (f < MKT_UTM_FIELDS) {
            continue;
        }

        for (k = 0; k < sizeof(builtin_clicks) / sizeof(char *); k++) {
            if (nocase_eq(name, nlen, builtin_clicks[k])) {
                break;
            }
        }
        if (k < sizeof(builtin_clicks) / sizeof(char *)
            || (with_config && (nocase_eq(name, nlen, "bd_vid")
                                || nocase_eq(name, nlen, "qz.gdt"))))
        {
            if (r->click == NULL) {
                n = ref_value(val, vlen, tmp, MKT_CLICK_ID_MAX);
                if (n) {
                    r->click = (const char *) name;
                    r->click_len = nlen;
                    memcpy(r->click_value, tmp, n);
                    r->click_value_len = n;
                }
            }
            continue;
        }

        if (with_config && !r->code_seen && nocase_eq(name, nlen, "ch")) {
            r->code_len = ref_value(val, vlen, r->code, MKT_UTM_VALUE_MAX);
            r->code_seen = r->code_len != 0;
        }
    }
}


static int
is_clean_value(const char *s, size_t len)
{
    char  tmp[MKT_CLICK_ID_MAX];

    return mkt_text_clean(tmp, sizeof(tmp), s, len) == len
           && memcmp(tmp, s, len) == 0
           && (len == 0 || (s[0] != ' ' && s[len - 1] != ' '));
}


static void
check(const uint8_t *q, size_t len, int with_config)
{
    size_t                     f;
    ref_t                      r;
    mkt_utm_t                  u, again;
    const mkt_channel_code_t  *want;

    memset(&u, 0xa5, sizeof(u));
    mkt_utm_parse(with_config ? channels : NULL, (const char *) q, len, &u);
    ref_parse(q, len, with_config, &r);

    for (f = 0; f < MKT_UTM_FIELDS; f++) {
        CHECK(u.len[f] <= MKT_UTM_VALUE_MAX);
        CHECK(is_clean_value(u.value[f], u.len[f]));
        CHECK(u.len[f] == r.len[f]);
        CHECK(memcmp(u.value[f], r.value[f], u.len[f]) == 0);
    }

    if (r.click == NULL) {
        CHECK(u.click_name == NULL && u.click_len == 0);
        CHECK(u.click_kind == MKT_CLICK_NONE);
    } else {
        CHECK(u.click_name != NULL);
        CHECK(u.click_name_len == r.click_len
              && strlen(u.click_name) == r.click_len);
        CHECK(nocase_eq((const uint8_t *) r.click, r.click_len,
                        u.click_name));
        CHECK(u.click_len > 0 && u.click_len <= MKT_CLICK_ID_MAX);
        CHECK(is_clean_value(u.click, u.click_len));
        CHECK(u.click_len == r.click_value_len
              && memcmp(u.click, r.click_value, u.click_len) == 0);
        CHECK((u.click_kind == MKT_CLICK_OTHER) == (*u.click_source == 0));
        CHECK(u.click_kind != MKT_CLICK_NONE);
    }

    want = r.code_seen ? mkt_channels_find_code(channels, r.code, r.code_len)
                       : NULL;
    CHECK(u.code == want);

    CHECK(mkt_utm_present(&u)
          == (r.len[0] || r.len[1] || r.len[2] || r.len[3] || r.len[4]
              || r.click != NULL || want != NULL));

    /* the same bytes, the same answer */
    mkt_utm_parse(with_config ? channels : NULL, (const char *) q, len,
                  &again);
    for (f = 0; f < MKT_UTM_FIELDS; f++) {
        CHECK(again.len[f] == u.len[f]
              && memcmp(again.value[f], u.value[f], u.len[f]) == 0);
    }
    CHECK(again.click_name == u.click_name && again.code == u.code);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t  *copy;

    if (cfg == NULL) {
        cfg = mkt_config_load_string("fuzz.json", config_json,
                                     sizeof(config_json) - 1, NULL, NULL);
        CHECK(cfg != NULL);
        channels = mkt_config_channels(cfg);
    }

    /* an exact-size heap copy, so ASan sees any read past len */
    copy = malloc(size ? size : 1);
    CHECK(copy != NULL);
    if (size) {
        memcpy(copy, data, size);
    }

    check(copy, size, 1);
    check(copy, size, 0);

    free(copy);
    return 0;
}
