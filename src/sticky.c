/* Sticky-bucket cookie codec and state (see sticky.h for the format).
 * Decoding is strict and bounded; lookups go through a small hash table
 * so that a full cookie costs no more per experiment than an empty one. */
#include <string.h>

#include "sticky.h"

#define PREFIX       "s1."
#define PREFIX_LEN   3
#define ID_DIGITS    6
#define DAY_DIGITS   3
#define BV_DIGITS    4
#define ENTRY_FIXED  (ID_DIGITS + 1 + DAY_DIGITS)

static const char  b36[] = "0123456789abcdefghijklmnopqrstuvwxyz";


static int
b36_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 10;
    }
    return -1;
}


static int
b64url_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '-' || c == '_';
}


static size_t
slot_of(uint32_t id)
{
    /* ids are already FNV hashes */
    return (id ^ (id >> 9)) & (MKT_STICKY_TABLE - 1);
}


/* Entry i into the id table (its id is not there yet). */
static void
table_add(mkt_sticky_t *st, size_t i)
{
    size_t  s;

    for (s = slot_of(st->e[i].id); st->table[s] != 0;
         s = (s + 1) & (MKT_STICKY_TABLE - 1))
    {
        /* void */
    }
    st->table[s] = (uint16_t) (i + 1);
}


static void
rebuild(mkt_sticky_t *st)
{
    size_t  i;

    memset(st->table, 0, sizeof(st->table));
    for (i = 0; i < st->n; i++) {
        table_add(st, i);
    }
}


void
mkt_sticky_init(mkt_sticky_t *st)
{
    st->n = 0;
    st->changed = 0;
    memset(st->table, 0, sizeof(st->table));
}


const mkt_sticky_entry_t *
mkt_sticky_find(const mkt_sticky_t *st, uint32_t id)
{
    size_t  s;

    for (s = slot_of(id); st->table[s] != 0;
         s = (s + 1) & (MKT_STICKY_TABLE - 1))
    {
        if (st->e[st->table[s] - 1].id == id) {
            return &st->e[st->table[s] - 1];
        }
    }
    return NULL;
}


/* Reads n fixed base36 digits. */
static int
fixed(const char *p, size_t n, uint32_t *out)
{
    size_t    i;
    int       d;
    uint32_t  v;

    v = 0;
    for (i = 0; i < n; i++) {
        d = b36_value(p[i]);
        if (d < 0) {
            return -1;
        }
        v = v * 36 + (uint32_t) d;
    }
    *out = v;
    return 0;
}


mkt_cookie_status_e
mkt_sticky_decode(mkt_hmac_t *h, const char *in, size_t len, mkt_sticky_t *st)
{
    size_t               i, k, s, digits, signed_len;
    uint32_t             v;
    int                  d;
    mkt_sticky_entry_t  *e;

    mkt_sticky_init(st);

    if (len > MKT_STICKY_COOKIE_MAX) {
        return MKT_COOKIE_OVERSIZED;
    }
    if (len < PREFIX_LEN || memcmp(in, PREFIX, PREFIX_LEN) != 0) {
        return MKT_COOKIE_MALFORMED;
    }

    i = PREFIX_LEN;

    for ( ;; ) {
        if (st->n == MKT_STICKY_MAX || len - i < ENTRY_FIXED + 1) {
            goto malformed;
        }

        e = &st->e[st->n];

        if (fixed(in + i, ID_DIGITS, &e->id) != 0
            || fixed(in + i + ID_DIGITS, 1, &v) != 0
            || v >= MKT_EXP_VARIATIONS_MAX)
        {
            goto malformed;
        }
        e->variation = (uint8_t) v;

        if (fixed(in + i + ID_DIGITS + 1, DAY_DIGITS, &v) != 0) {
            goto malformed;
        }
        e->day = (uint16_t) v;
        i += ENTRY_FIXED;

        v = 0;
        for (digits = 0; i < len && (d = b36_value(in[i])) >= 0; digits++) {
            if (digits == BV_DIGITS || (digits == 1 && v == 0)) {
                goto malformed;         /* too long, or a leading zero */
            }
            v = v * 36 + (uint32_t) d;
            i++;
        }
        if (digits == 0 || v > MKT_BUCKET_VERSION_MAX) {
            goto malformed;
        }
        e->bucket_version = v;

        /* each id once */
        for (s = slot_of(e->id); st->table[s] != 0;
             s = (s + 1) & (MKT_STICKY_TABLE - 1))
        {
            if (st->e[st->table[s] - 1].id == e->id) {
                goto malformed;
            }
        }
        st->n++;
        st->table[s] = (uint16_t) st->n;

        if (i == len || in[i] == '.') {
            break;
        }
        if (in[i] != '-') {
            goto malformed;
        }
        i++;
    }

    signed_len = i;

    if (i == len) {
        if (h != NULL) {
            mkt_sticky_init(st);
            return MKT_COOKIE_UNSIGNED;
        }
        return MKT_COOKIE_OK;
    }

    if (len - i != 1 + MKT_SIG_LEN) {
        goto malformed;
    }
    for (k = i + 1; k < len; k++) {
        if (!b64url_char(in[k])) {
            goto malformed;
        }
    }

    if (h != NULL && !mkt_sig_verify(h, in, signed_len, in + i + 1)) {
        mkt_sticky_init(st);
        return MKT_COOKIE_BAD_SIGNATURE;
    }

    return MKT_COOKIE_OK;

malformed:

    mkt_sticky_init(st);
    return MKT_COOKIE_MALFORMED;
}


static char *
put_fixed(char *p, uint32_t v, size_t n)
{
    size_t  i;

    for (i = n; i > 0; i--) {
        p[i - 1] = b36[v % 36];
        v /= 36;
    }
    return p + n;
}


int
mkt_sticky_encode(mkt_hmac_t *h, const mkt_sticky_t *st,
    const mkt_config_t *cfg, char *out, size_t *len)
{
    char                      *p, digits[BV_DIGITS];
    size_t                     i, n, kept;
    uint32_t                   v;
    const mkt_sticky_entry_t  *e;

    p = out;
    memcpy(p, PREFIX, PREFIX_LEN);
    p += PREFIX_LEN;
    kept = 0;

    for (i = 0; i < st->n; i++) {
        e = &st->e[i];
        if (cfg != NULL && !mkt_config_has_sticky_id(cfg, e->id)) {
            continue;
        }

        if (kept++) {
            *p++ = '-';
        }
        p = put_fixed(p, e->id, ID_DIGITS);
        *p++ = b36[e->variation % MKT_EXP_VARIATIONS_MAX];
        p = put_fixed(p, e->day <= MKT_STICKY_DAY_MAX ? e->day : 0,
                      DAY_DIGITS);

        v = e->bucket_version <= MKT_BUCKET_VERSION_MAX
            ? e->bucket_version : 0;
        n = 0;
        do {
            digits[n++] = b36[v % 36];
            v /= 36;
        } while (v != 0);
        while (n) {
            *p++ = digits[--n];
        }
    }

    if (kept == 0) {
        *len = 0;
        return 0;
    }

    if (h != NULL) {
        *p = '.';
        if (mkt_sign(h, out, (size_t) (p - out), p + 1) != 0) {
            *len = 0;
            return -1;
        }
        p += 1 + MKT_SIG_LEN;
    }

    *len = (size_t) (p - out);
    return 0;
}


void
mkt_sticky_set(mkt_sticky_t *st, uint32_t id, uint32_t bucket_version,
    unsigned variation)
{
    int                        moved;
    size_t                     i;
    const mkt_sticky_entry_t  *old;
    mkt_sticky_entry_t        *e;

    if (variation >= MKT_EXP_VARIATIONS_MAX
        || bucket_version > MKT_BUCKET_VERSION_MAX)
    {
        return;
    }

    old = mkt_sticky_find(st, id);
    moved = 1;

    if (old != NULL) {
        if (old->bucket_version == bucket_version
            && old->variation == variation)
        {
            return;
        }
        i = (size_t) (old - st->e);
        memmove(&st->e[i], &st->e[i + 1], (st->n - i - 1) * sizeof(*old));
        st->n--;

    } else if (st->n == MKT_STICKY_MAX) {
        memmove(&st->e[0], &st->e[1], (st->n - 1) * sizeof(st->e[0]));
        st->n--;

    } else {
        moved = 0;
    }

    e = &st->e[st->n++];
    e->id = id;
    e->bucket_version = bucket_version;
    e->variation = (uint8_t) variation;
    e->day = 0;
    st->changed = 1;

    /* entries that moved down take other indexes: rebuild the table;
     * a new one at the end is one more slot (a new visitor's first
     * request stores every decision: not O(n) each) */
    if (moved) {
        rebuild(st);
    } else {
        table_add(st, st->n - 1);
    }
}


int
mkt_sticky_expose(mkt_sticky_t *st, uint32_t id, unsigned day)
{
    mkt_sticky_entry_t  *e;

    e = (mkt_sticky_entry_t *) mkt_sticky_find(st, id);
    if (e == NULL || day > MKT_STICKY_DAY_MAX || e->day == day) {
        return 0;
    }
    e->day = (uint16_t) day;
    st->changed = 1;
    return 1;
}
