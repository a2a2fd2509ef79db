/* The attribution sections of the config file, compiled for the request
 * path: "channels" (the channel-code parameter, its codes, extra click
 * ids) for utm.c and "referrers" (same-site, search and social hosts) for
 * referrer.c. */
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "domain.h"
#include "text.h"
#include "utm.h"

#define PARAM_RULE  "a parameter name of 1 to 64 characters A-Z a-z 0-9 _ . -"

typedef struct {
    mkt_str_t   name;
    size_t      index;              /* in the file's array */
} host_at_t;


static int
equal_nocase(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t  i;
    char    ca, cb;

    if (alen != blen) {
        return 0;
    }
    for (i = 0; i < alen; i++) {
        ca = a[i] >= 'A' && a[i] <= 'Z' ? (char) (a[i] - 'A' + 'a') : a[i];
        cb = b[i] >= 'A' && b[i] <= 'Z' ? (char) (b[i] - 'A' + 'a') : b[i];
        if (ca != cb) {
            return 0;
        }
    }
    return 1;
}


static int
cmp_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
    int  r;

    r = memcmp(a, b, alen < blen ? alen : blen);
    if (r != 0) {
        return r;
    }
    return alen < blen ? -1 : alen > blen;
}


/* A parameter name that the parser does not already read: 1 and *out, or
 * an error. */
static int
param_name(mkt_cfg_ctx_t *ctx, json_t *v, mkt_str_t *out)
{
    char  q[MKT_CFG_QUOTE_MAX];
    int   builtin;

    *out = mkt_cfg_str(v);
    if (!json_is_string(v) || !mkt_cfg_valid_name(out->data, out->len, 1)) {
        mkt_cfg_error(ctx, "expected " PARAM_RULE);
        return 0;
    }

    builtin = mkt_utm_builtin_param(out->data, out->len);
    if (builtin) {
        mkt_cfg_error(ctx, "%s is %s", mkt_cfg_quote(out->data, out->len, q,
                                                     sizeof(q)),
                      builtin == 1 ? "a utm parameter"
                                   : "a built-in click id");
        return 0;
    }
    return 1;
}


/* name is one of the configured click ids (as the parser compares). */
static int
click_id_listed(const mkt_channels_t *m, mkt_str_t name)
{
    size_t  i;

    for (i = 0; i < m->nclick_ids; i++) {
        if (equal_nocase(m->click_ids[i].data, m->click_ids[i].len,
                         name.data, name.len))
        {
            return 1;
        }
    }
    return 0;
}


static void
parse_click_ids(mkt_cfg_ctx_t *ctx, mkt_channels_t *m, json_t *a)
{
    char        q[MKT_CFG_QUOTE_MAX];
    size_t      i, saved;
    json_t     *v;
    mkt_str_t   name;

    if (a == NULL) {
        return;
    }
    if (!json_is_array(a)) {
        mkt_cfg_error(ctx, "expected an array of query parameter names");
        return;
    }
    if (json_array_size(a) > MKT_CLICK_IDS_MAX) {
        mkt_cfg_error(ctx, "more than %d click ids", MKT_CLICK_IDS_MAX);
        return;
    }

    m->click_ids = mkt_arena_alloc(ctx->arena,
                                   (json_array_size(a) + 1)
                                   * sizeof(mkt_str_t));
    if (m->click_ids == NULL) {
        return;
    }

    json_array_foreach(a, i, v) {
        saved = mkt_cfg_push(ctx, NULL, i);

        if (param_name(ctx, v, &name)) {
            if (click_id_listed(m, name)) {
                mkt_cfg_error(ctx, "duplicate click id %s",
                              mkt_cfg_quote(name.data, name.len, q,
                                            sizeof(q)));
            } else {
                m->click_ids[m->nclick_ids++] = name;
            }
        }

        mkt_cfg_pop(ctx, saved);
    }
}


/* A value of a channel code: stored as a touch stores it, so clean text
 * of 1 to MKT_UTM_VALUE_MAX bytes. */
static void
code_value(mkt_cfg_ctx_t *ctx, json_t *code, const char *key, int required,
    mkt_str_t *out)
{
    char     buf[MKT_UTM_VALUE_MAX];
    size_t   saved;
    json_t  *v;

    v = json_object_get(code, key);
    if (v == NULL) {
        if (required) {
            mkt_cfg_error(ctx, "missing \"%s\"", key);
        }
        return;
    }

    saved = mkt_cfg_push(ctx, key, 0);
    if (mkt_cfg_plain_string(ctx, v, MKT_UTM_VALUE_MAX, out)
        && (mkt_text_clean(buf, sizeof(buf), out->data, out->len) != out->len
            || memcmp(buf, out->data, out->len) != 0))
    {
        mkt_cfg_error(ctx, "control characters are not allowed");
    }
    mkt_cfg_pop(ctx, saved);
}


static int
cmp_code(const void *a, const void *b)
{
    const mkt_channel_code_t  *x = a, *y = b;

    return cmp_bytes(x->code.data, x->code.len, y->code.data, y->code.len);
}


static void
parse_codes(mkt_cfg_ctx_t *ctx, mkt_channels_t *m, json_t *codes)
{
    static const char *const  known[] = { "source", "medium", "campaign",
                                          NULL };
    size_t                    saved, n;
    json_t                   *code;
    const char               *name;
    mkt_channel_code_t       *c;

    if (!json_is_object(codes)) {
        mkt_cfg_error(ctx, "expected an object of channel codes");
        return;
    }
    n = json_object_size(codes);
    if (n > MKT_CHANNEL_CODES_MAX) {
        mkt_cfg_error(ctx, "more than %d channel codes",
                      MKT_CHANNEL_CODES_MAX);
        return;
    }

    m->codes = mkt_arena_alloc(ctx->arena,
                               (n + 1) * sizeof(mkt_channel_code_t));
    if (m->codes == NULL) {
        return;
    }

    json_object_foreach(codes, name, code) {
        saved = mkt_cfg_push(ctx, name, 0);
        c = &m->codes[m->ncodes];
        c->code.data = name;
        c->code.len = strlen(name);

        if (!mkt_cfg_valid_name(name, c->code.len, 1)) {
            mkt_cfg_error(ctx, "expected a channel code of 1 to %d "
                          "characters A-Z a-z 0-9 _ . -", MKT_KEY_MAX);

        } else if (!json_is_object(code)) {
            mkt_cfg_error(ctx, "expected an object like "
                          "{\"source\": ..., \"medium\": ...}");

        } else {
            mkt_cfg_check_keys(ctx, code, known);
            code_value(ctx, code, "source", 1, &c->source);
            code_value(ctx, code, "medium", 1, &c->medium);
            code_value(ctx, code, "campaign", 0, &c->campaign);
            m->ncodes++;
        }

        mkt_cfg_pop(ctx, saved);
    }

    qsort(m->codes, m->ncodes, sizeof(mkt_channel_code_t), cmp_code);
}


void
mkt_cfg_parse_channels(mkt_cfg_ctx_t *ctx, mkt_config_t *cfg, json_t *ch)
{
    static const char *const  known[] = { "param", "codes", "click_ids",
                                          NULL };
    char                      q[MKT_CFG_QUOTE_MAX];
    size_t                    saved, s2;
    json_t                   *p, *codes;
    mkt_str_t                 param;
    mkt_channels_t           *m;

    if (ch == NULL) {
        return;
    }

    saved = mkt_cfg_push(ctx, "channels", 0);

    if (!json_is_object(ch)) {
        mkt_cfg_error(ctx, "expected an object");
        mkt_cfg_pop(ctx, saved);
        return;
    }

    mkt_cfg_check_keys(ctx, ch, known);
    m = &cfg->channels_model;

    AT(ctx, "click_ids",
       parse_click_ids(ctx, m, json_object_get(ch, "click_ids")));

    p = json_object_get(ch, "param");
    if (p != NULL) {
        s2 = mkt_cfg_push(ctx, "param", 0);
        if (param_name(ctx, p, &param)) {
            if (click_id_listed(m, param)) {
                mkt_cfg_error(ctx, "%s is also in channels.click_ids",
                              mkt_cfg_quote(param.data, param.len, q,
                                            sizeof(q)));
            } else {
                m->param = param;
            }
        }
        mkt_cfg_pop(ctx, s2);
    }

    codes = json_object_get(ch, "codes");
    if (codes != NULL) {
        if (p == NULL) {
            mkt_cfg_error(ctx, "\"codes\" without \"param\", the query "
                          "parameter that carries them");
        }
        AT(ctx, "codes", parse_codes(ctx, m, codes));
    }

    cfg->channels = ch;
    mkt_cfg_pop(ctx, saved);
}


static int
cmp_host_at(const void *a, const void *b)
{
    const host_at_t  *x = a, *y = b;
    int               r;

    r = cmp_bytes(x->name.data, x->name.len, y->name.data, y->name.len);
    if (r != 0) {
        return r;
    }
    return x->index < y->index ? -1 : x->index > y->index;
}


static int
cmp_str(const void *a, const void *b)
{
    const mkt_str_t  *x = a, *y = b;

    return cmp_bytes(x->data, x->len, y->data, y->len);
}


static const mkt_str_t *
list_find(const mkt_host_list_t *list, mkt_str_t name)
{
    if (list->n == 0) {
        return NULL;
    }
    return bsearch(&name, list->names, list->n, sizeof(mkt_str_t), cmp_str);
}


/* A host name as written: normalising it changes nothing but case and
 * one trailing dot (so no port, path, scheme or wildcard). */
static int
plain_host(const char *s, size_t len, char *out, size_t *out_len)
{
    size_t  n;

    n = mkt_host_normalize(s, len, out);
    if (n == 0 || out[0] == '['
        || (len > n && !(len == n + 1 && s[n] == '.')))
    {
        return 0;
    }
    *out_len = n;
    return 1;
}


/* One list of "referrers": normalised, checked against the lists before
 * it (names[0 .. which - 1]), sorted, each name once. */
static void
parse_hosts(mkt_cfg_ctx_t *ctx, json_t *a, mkt_host_list_t *lists,
    const char *const *names, size_t which)
{
    char              host[MKT_HOST_MAX];
    char              q[MKT_CFG_QUOTE_MAX];
    size_t            i, j, n, len, saved;
    json_t           *v;
    host_at_t        *tmp;
    mkt_host_list_t  *list;

    list = &lists[which];

    if (!json_is_array(a)) {
        mkt_cfg_error(ctx, "expected an array of host names");
        return;
    }
    if (json_array_size(a) > MKT_REFERRER_HOSTS_MAX) {
        mkt_cfg_error(ctx, "more than %d host names",
                      MKT_REFERRER_HOSTS_MAX);
        return;
    }

    n = json_array_size(a);
    tmp = mkt_arena_alloc(ctx->arena, (n + 1) * sizeof(host_at_t));
    list->names = mkt_arena_alloc(ctx->arena, (n + 1) * sizeof(mkt_str_t));
    if (tmp == NULL || list->names == NULL) {
        return;
    }

    n = 0;
    json_array_foreach(a, i, v) {
        saved = mkt_cfg_push(ctx, NULL, i);

        if (!json_is_string(v)
            || !plain_host(json_string_value(v), json_string_length(v),
                           host, &len))
        {
            mkt_cfg_error(ctx, "expected a host name like \"example.com\" "
                          "(its subdomains match too)");
        } else {
            tmp[n].name = mkt_cfg_strdup(ctx, host, len);
            tmp[n].index = i;
            for (j = 0; j < which; j++) {
                if (list_find(&lists[j], tmp[n].name) != NULL) {
                    mkt_cfg_error(ctx, "%s is also in referrers.%s",
                                  mkt_cfg_quote(host, len, q, sizeof(q)),
                                  names[j]);
                    break;
                }
            }
            n += j == which;
        }

        mkt_cfg_pop(ctx, saved);
    }

    qsort(tmp, n, sizeof(host_at_t), cmp_host_at);

    for (i = 0; i < n; i++) {
        if (list->n > 0
            && cmp_str(&list->names[list->n - 1], &tmp[i].name) == 0)
        {
            saved = mkt_cfg_push(ctx, NULL, tmp[i].index);
            mkt_cfg_error(ctx, "duplicate host %s",
                          mkt_cfg_quote(tmp[i].name.data, tmp[i].name.len,
                                        q, sizeof(q)));
            mkt_cfg_pop(ctx, saved);
            continue;
        }
        list->names[list->n++] = tmp[i].name;
    }
}


void
mkt_cfg_parse_referrers(mkt_cfg_ctx_t *ctx, mkt_config_t *cfg, json_t *r)
{
    static const char *const  known[] = { "same_site", "search", "social",
                                          NULL };
    size_t                    saved, i;
    json_t                   *v;
    mkt_host_list_t           lists[3];

    if (r == NULL) {
        return;
    }

    saved = mkt_cfg_push(ctx, "referrers", 0);

    if (!json_is_object(r)) {
        mkt_cfg_error(ctx, "expected an object");
        mkt_cfg_pop(ctx, saved);
        return;
    }

    mkt_cfg_check_keys(ctx, r, known);
    memset(lists, 0, sizeof(lists));

    for (i = 0; known[i] != NULL; i++) {
        v = json_object_get(r, known[i]);
        if (v != NULL) {
            AT(ctx, known[i], parse_hosts(ctx, v, lists, known, i));
        }
    }

    cfg->referrers_model.same_site = lists[0];
    cfg->referrers_model.search = lists[1];
    cfg->referrers_model.social = lists[2];
    cfg->referrers = r;
    mkt_cfg_pop(ctx, saved);
}


const mkt_channels_t *
mkt_config_channels(const mkt_config_t *cfg)
{
    return &cfg->channels_model;
}


const mkt_referrers_t *
mkt_config_referrers(const mkt_config_t *cfg)
{
    return &cfg->referrers_model;
}


const mkt_channel_code_t *
mkt_channels_find_code(const mkt_channels_t *ch, const char *code,
    size_t len)
{
    mkt_channel_code_t  key;

    if (ch == NULL || ch->ncodes == 0) {
        return NULL;
    }
    key.code.data = code;
    key.code.len = len;
    return bsearch(&key, ch->codes, ch->ncodes, sizeof(mkt_channel_code_t),
                   cmp_code);
}


const mkt_str_t *
mkt_host_list_match(const mkt_host_list_t *list, const char *host,
    size_t len)
{
    size_t            i;
    mkt_str_t         s;
    const mkt_str_t  *found;

    if (list == NULL || list->n == 0) {
        return NULL;
    }

    /* the host, then each parent domain */
    i = 0;
    for ( ;; ) {
        s.data = host + i;
        s.len = len - i;
        found = list_find(list, s);
        if (found != NULL) {
            return found;
        }
        while (i < len && host[i] != '.') {
            i++;
        }
        if (i++ >= len) {
            return NULL;
        }
    }
}
