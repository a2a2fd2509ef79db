/* The request index of the experiments: by exact host (or any), then by
 * the literal prefix of match.path, so that a request only visits the
 * experiments that can match it. */
#include <stdlib.h>
#include <string.h>

#include "config_int.h"


/* --- the literal prefix of a regular expression ----------------------- */

/* Whether "|" occurs outside any group or class: then "^" anchors only
 * one alternative and there is no prefix. */
static int
top_level_alternation(const char *re, size_t len)
{
    size_t  i, depth;
    int     in_class;

    depth = 0;
    in_class = 0;

    for (i = 0; i < len; i++) {
        if (re[i] == '\\') {
            i++;
        } else if (in_class) {
            if (re[i] == ']') {
                in_class = 0;
            }
        } else if (re[i] == '[') {
            in_class = 1;
            /* "[^]" and "[]" (JavaScript) close at their "]" like others */
            if (i + 1 < len && re[i + 1] == '^') {
                i++;
            }
        } else if (re[i] == '(') {
            depth++;
        } else if (re[i] == ')') {
            if (depth) {
                depth--;
            }
        } else if (re[i] == '|' && depth == 0) {
            return 1;
        }
    }
    return 0;
}


static int
has(const char *re, size_t len, const char *what)
{
    size_t  i, n;

    n = strlen(what);

    for (i = 0; i + n <= len; i++) {
        if (memcmp(re + i, what, n) == 0) {
            return 1;
        }
    }

    return 0;
}


static int
is_meta(char c)
{
    return strchr(".[]()*+?{}|^$\\", c) != NULL;
}


static int
is_ascii_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9');
}


size_t
mkt_cfg_regex_prefix(const char *re, size_t len, char *out, size_t cap)
{
    size_t  end;

    return mkt_cfg_regex_literal(re, len, out, cap, &end);
}


size_t
mkt_cfg_regex_literal(const char *re, size_t len, char *out, size_t cap,
    size_t *end)
{
    size_t  i, n, unit, ulen;
    char    c;

    *end = 0;

    if (len == 0 || re[0] != '^' || top_level_alternation(re, len)) {
        return 0;
    }

    /* \Q...\E quotes and (?#...) comments hide "|" and ")" from the scan
     * above: no prefix rather than a wrong one */
    if (has(re, len, "\\Q") || has(re, len, "(?#")) {
        return 0;
    }

    n = 0;
    i = 1;

    while (i < len) {
        c = re[i];
        unit = n;                       /* where this literal starts */

        if (c == '\\') {
            /* an escaped punctuation character is itself; \d, \x2f, \Q...
             * are not literals we follow */
            if (i + 1 >= len || is_ascii_alnum(re[i + 1])
                || (unsigned char) re[i + 1] >= 0x80 || re[i + 1] == ' ')
            {
                break;
            }
            if (n == cap) {
                break;
            }
            out[n++] = re[i + 1];
            i += 2;

        } else if (is_meta(c)) {
            break;

        } else {
            /* one character, all bytes of it */
            ulen = 1;
            if ((unsigned char) c >= 0x80) {
                while (i + ulen < len
                       && ((unsigned char) re[i + ulen] & 0xc0) == 0x80)
                {
                    ulen++;
                }
            }
            if (n + ulen > cap) {
                break;
            }
            memcpy(out + n, re + i, ulen);
            n += ulen;
            i += ulen;
        }

        /* a quantifier makes the character before it optional (or
         * repeated): the prefix stops before it, or after it for "+" */
        if (i < len && (re[i] == '*' || re[i] == '?' || re[i] == '{')) {
            n = unit;
            break;
        }
        if (i < len && re[i] == '+') {
            break;
        }
    }

    *end = i;
    return n;
}


/* --- building ---------------------------------------------------------- */

static int
grow(void **p, size_t *cap, size_t n, size_t size)
{
    void    *np;
    size_t   ncap;

    if (n < *cap) {
        return 0;
    }
    ncap = *cap ? *cap * 2 : 8;
    np = realloc(*p, ncap * size);
    if (np == NULL) {
        return -1;
    }
    *p = np;
    *cap = ncap;
    return 0;
}


static int
group_add(mkt_idx_group_t *g, const mkt_experiment_t *e, uint32_t i)
{
    mkt_idx_entry_t  *pe;

    if (e->path_prefix.len == 0) {
        /* the same host twice in one experiment: add it once */
        if (g->nalways && g->always[g->nalways - 1] == i) {
            return 0;
        }
        if (grow((void **) &g->always, &g->always_cap, g->nalways,
                 sizeof(uint32_t)) != 0)
        {
            return -1;
        }
        g->always[g->nalways++] = i;
        return 0;
    }

    if (g->npfx && g->pfx[g->npfx - 1].exp == i) {
        return 0;
    }
    if (grow((void **) &g->pfx, &g->pfx_cap, g->npfx,
             sizeof(mkt_idx_entry_t)) != 0)
    {
        return -1;
    }
    pe = &g->pfx[g->npfx++];
    pe->prefix = e->path_prefix.data;
    pe->len = e->path_prefix.len;
    pe->exp = i;
    return 0;
}


static int
cmp_entry(const void *a, const void *b)
{
    const mkt_idx_entry_t  *x = a, *y = b;
    int                     r;

    if (x->len != y->len) {
        return x->len < y->len ? -1 : 1;
    }
    r = memcmp(x->prefix, y->prefix, x->len);
    if (r != 0) {
        return r;
    }
    return x->exp < y->exp ? -1 : x->exp > y->exp;
}


static int
group_finish(mkt_idx_group_t *g)
{
    size_t  i;

    if (g->npfx == 0) {
        return 0;
    }

    qsort(g->pfx, g->npfx, sizeof(mkt_idx_entry_t), cmp_entry);

    g->lens = malloc(g->npfx * sizeof(size_t));
    g->len_start = malloc((g->npfx + 1) * sizeof(size_t));
    if (g->lens == NULL || g->len_start == NULL) {
        return -1;
    }

    for (i = 0; i < g->npfx; i++) {
        if (i == 0 || g->pfx[i].len != g->pfx[i - 1].len) {
            g->lens[g->nlens] = g->pfx[i].len;
            g->len_start[g->nlens] = i;
            g->nlens++;
        }
    }
    g->len_start[g->nlens] = g->npfx;
    return 0;
}


static int
host_equal(const mkt_str_t *h, const char *s, size_t len)
{
    size_t  i;
    char    c;

    if (h->len != len) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        c = s[i];
        if (c >= 'A' && c <= 'Z') {
            c = (char) (c - 'A' + 'a');
        }
        if (c != h->data[i]) {
            return 0;
        }
    }
    return 1;
}


static mkt_idx_group_t *
find_host(const mkt_index_t *idx, const char *host, size_t len, size_t *slot)
{
    size_t    i;
    uint32_t  v;

    if (idx->table_size == 0) {
        *slot = 0;
        return NULL;
    }

    i = mkt_cfg_name_hash(host, len) & (idx->table_size - 1);
    for ( ;; ) {
        v = idx->table[i];
        if (v == 0) {
            *slot = i;
            return NULL;
        }
        if (host_equal(&idx->hosts[v - 1].host, host, len)) {
            *slot = i;
            return &idx->hosts[v - 1];
        }
        i = (i + 1) & (idx->table_size - 1);
    }
}


int
mkt_cfg_index_build(mkt_index_t *idx, const mkt_experiment_t *exps, size_t n)
{
    size_t            i, h, nh, slot, most;
    mkt_idx_group_t  *g;

    memset(idx, 0, sizeof(*idx));

    nh = 0;
    for (i = 0; i < n; i++) {
        nh += exps[i].nhosts;
    }
    for (idx->table_size = 8; idx->table_size < 2 * nh; idx->table_size <<= 1)
    {
        /* void */
    }
    idx->table = calloc(idx->table_size, sizeof(uint32_t));
    if (idx->table == NULL) {
        return -1;
    }

    for (i = 0; i < n; i++) {
        if (exps[i].nhosts == 0) {
            if (group_add(&idx->any, &exps[i], (uint32_t) i) != 0) {
                return -1;
            }
            continue;
        }

        for (h = 0; h < exps[i].nhosts; h++) {
            g = find_host(idx, exps[i].hosts[h].data, exps[i].hosts[h].len,
                          &slot);
            if (g == NULL) {
                if (grow((void **) &idx->hosts, &idx->hosts_cap, idx->nhosts,
                         sizeof(mkt_idx_group_t)) != 0)
                {
                    return -1;
                }
                g = &idx->hosts[idx->nhosts++];
                memset(g, 0, sizeof(*g));
                g->host = exps[i].hosts[h];
                idx->table[slot] = (uint32_t) idx->nhosts;
            }
            if (group_add(g, &exps[i], (uint32_t) i) != 0) {
                return -1;
            }
        }
    }

    if (group_finish(&idx->any) != 0) {
        return -1;
    }
    most = 0;
    for (i = 0; i < idx->nhosts; i++) {
        if (group_finish(&idx->hosts[i]) != 0) {
            return -1;
        }
        if (idx->hosts[i].nalways + idx->hosts[i].npfx > most) {
            most = idx->hosts[i].nalways + idx->hosts[i].npfx;
        }
    }
    idx->candidates_max = idx->any.nalways + idx->any.npfx + most;

    return 0;
}


static void
group_free(mkt_idx_group_t *g)
{
    free(g->always);
    free(g->pfx);
    free(g->lens);
    free(g->len_start);
}


void
mkt_cfg_index_free(mkt_index_t *idx)
{
    size_t  i;

    group_free(&idx->any);
    for (i = 0; i < idx->nhosts; i++) {
        group_free(&idx->hosts[i]);
    }
    free(idx->hosts);
    free(idx->table);
    memset(idx, 0, sizeof(*idx));
}


/* --- lookup ------------------------------------------------------------ */

static void
group_candidates(const mkt_idx_group_t *g, const char *path, size_t plen,
    void (*found)(void *data, uint32_t i), void *data)
{
    size_t                  i, k, lo, hi, mid, len;
    const mkt_idx_entry_t  *pe;

    for (i = 0; i < g->nalways; i++) {
        found(data, g->always[i]);
    }

    for (k = 0; k < g->nlens; k++) {
        len = g->lens[k];
        if (len > plen) {
            break;                      /* lens are ascending */
        }

        /* the first entry of this length whose prefix is >= path[0..len) */
        lo = g->len_start[k];
        hi = g->len_start[k + 1];
        while (lo < hi) {
            mid = lo + (hi - lo) / 2;
            if (memcmp(g->pfx[mid].prefix, path, len) < 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }

        for (i = lo; i < g->len_start[k + 1]; i++) {
            pe = &g->pfx[i];
            if (memcmp(pe->prefix, path, len) != 0) {
                break;
            }
            found(data, pe->exp);
        }
    }
}


void
mkt_config_candidates(const mkt_config_t *cfg, const char *host,
    size_t host_len, const char *path, size_t path_len,
    void (*found)(void *data, uint32_t i), void *data)
{
    size_t                  slot;
    const mkt_idx_group_t  *g;

    if (path == NULL) {
        path = "";
        path_len = 0;
    }

    group_candidates(&cfg->index.any, path, path_len, found, data);

    if (host_len != 0) {
        g = find_host(&cfg->index, host, host_len, &slot);
        if (g != NULL) {
            group_candidates(g, path, path_len, found, data);
        }
    }
}


size_t
mkt_config_candidates_max(const mkt_config_t *cfg)
{
    return cfg->index.candidates_max;
}
