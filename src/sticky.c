/* Sticky-bucket cookie codec and state (see sticky.h for the format).
 * Decoding is strict and bounded; lookups go through a small hash table
 * so that a full cookie costs no more per experiment than an empty one. */
#include <string.h>

#include "b64url.h"
#include "sticky.h"

#define PREFIX_LEN   3
#define ID_SPACE     2176782336u        /* 36^6 */

/* s3: an entry's bytes, and its tag's bits */
#define S3_ENTRY     7
#define S3_ENTRY_MAX (S3_ENTRY + 2 + 2 + 3)
#define S3_VAR       0x1f
#define S3_FP        0x20
#define S3_DAY       0x40
#define S3_BV        0x80
#define S3_BYTES     (MKT_STICKY_MAX * S3_ENTRY_MAX)

/* s2 */
#define ID_DIGITS    6
#define FP_DIGITS    2
#define VH_DIGITS    3
#define DAY_DIGITS   3
#define BV_DIGITS    4
#define ENTRY_FIXED  (ID_DIGITS + FP_DIGITS + 1 + VH_DIGITS + DAY_DIGITS)

/* a digit's value + 1, 0 for other bytes: one load a digit */
static const unsigned char  b36_digit[256] = {
    ['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6,
    ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12,
    ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16, ['g'] = 17, ['h'] = 18,
    ['i'] = 19, ['j'] = 20, ['k'] = 21, ['l'] = 22, ['m'] = 23, ['n'] = 24,
    ['o'] = 25, ['p'] = 26, ['q'] = 27, ['r'] = 28, ['s'] = 29, ['t'] = 30,
    ['u'] = 31, ['v'] = 32, ['w'] = 33, ['x'] = 34, ['y'] = 35, ['z'] = 36
};


static int
b36_value(char c)
{
    return (int) b36_digit[(unsigned char) c] - 1;
}


static size_t
slot_of(uint32_t id)
{
    /* ids are already FNV hashes */
    return (id ^ (id >> 9)) & (MKT_STICKY_TABLE - 1);
}


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


/*
 * Adds st->e[st->n], filled in by a decoder, unless its id is there
 * already (malformed: -1).
 */
static int
push(mkt_sticky_t *st)
{
    size_t    s;
    uint32_t  id;

    id = st->e[st->n].id;
    for (s = slot_of(id); st->table[s] != 0;
         s = (s + 1) & (MKT_STICKY_TABLE - 1))
    {
        if (st->e[st->table[s] - 1].id == id) {
            return -1;
        }
    }
    st->n++;
    st->table[s] = (uint16_t) st->n;
    return 0;
}


/* The entries of an "s2." value into st; the length of the signed part,
 * or 0 when malformed. */
static size_t
decode_s2(const char *in, size_t len, mkt_sticky_t *st)
{
    size_t               i, digits;
    uint32_t             v, fp, vh, day;
    int                  d;
    const char          *p;
    mkt_sticky_entry_t  *e;

    i = PREFIX_LEN;

    for ( ;; ) {
        if (st->n == MKT_STICKY_MAX || len - i < ENTRY_FIXED + 1) {
            return 0;
        }

        e = &st->e[st->n];
        p = in + i;

        /* every value of the fixed fields but VAR is valid */
        if (fixed(p, ID_DIGITS, &e->id) != 0
            || fixed(p + ID_DIGITS, FP_DIGITS, &fp) != 0
            || fixed(p + ID_DIGITS + FP_DIGITS, 1, &v) != 0
            || v >= MKT_EXP_VARIATIONS_MAX
            || fixed(p + ID_DIGITS + FP_DIGITS + 1, VH_DIGITS, &vh) != 0
            || fixed(p + ENTRY_FIXED - DAY_DIGITS, DAY_DIGITS, &day) != 0)
        {
            return 0;
        }
        e->fingerprint = (uint16_t) fp;
        e->variation = (uint8_t) v;
        e->vhash = (uint16_t) vh;
        e->day = (uint16_t) day;
        e->used = 0;
        i += ENTRY_FIXED;

        v = 0;
        for (digits = 0; i < len && (d = b36_value(in[i])) >= 0; digits++) {
            if (digits == BV_DIGITS || (digits == 1 && v == 0)) {
                return 0;               /* too long, or a leading zero */
            }
            v = v * 36 + (uint32_t) d;
            i++;
        }
        if (digits == 0 || v > MKT_BUCKET_VERSION_MAX) {
            return 0;
        }
        e->bucket_version = v;

        if (push(st) != 0) {
            return 0;
        }

        if (i == len || in[i] == '.') {
            return i;
        }
        if (in[i] != '-') {
            return 0;
        }
        i++;
    }
}


static uint32_t
be16(const unsigned char *p)
{
    return (uint32_t) p[0] << 8 | p[1];
}


/* The entries of an "s3." value into st; the length of the signed part,
 * or 0 when malformed. */
static size_t
decode_s3(const char *in, size_t len, mkt_sticky_t *st)
{
    size_t               i, n, end;
    unsigned             tag;
    uint32_t             fp, day, bv;
    const char          *dot;
    unsigned char        raw[S3_BYTES + 3];
    const unsigned char *p, *last;
    mkt_sticky_entry_t  *e;

    dot = memchr(in + PREFIX_LEN, '.', len - PREFIX_LEN);
    end = dot ? (size_t) (dot - in) : len;

    /* the longest valid body: MKT_STICKY_MAX entries of S3_ENTRY_MAX */
    if (end - PREFIX_LEN > MKT_B64URL_LEN(S3_BYTES)) {
        return 0;
    }
    n = mkt_b64url_decode(raw, in + PREFIX_LEN, end - PREFIX_LEN);
    if (n == (size_t) -1 || n == 0) {
        return 0;
    }

    fp = day = bv = 0;
    p = raw;
    last = raw + n;

    while (p < last) {
        if (st->n == MKT_STICKY_MAX || last - p < S3_ENTRY) {
            return 0;
        }
        e = &st->e[st->n];

        e->id = (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16
                | (uint32_t) p[2] << 8 | p[3];
        e->vhash = (uint16_t) be16(p + 4);
        tag = p[6];
        p += S3_ENTRY;

        i = ((tag & S3_FP) ? 2 : 0) + ((tag & S3_DAY) ? 2 : 0)
            + ((tag & S3_BV) ? 3 : 0);
        if ((size_t) (last - p) < i) {
            return 0;
        }

        /* a field is written when it changes, and only then */
        if (tag & S3_FP) {
            if (be16(p) == fp) {
                return 0;
            }
            fp = be16(p);
            p += 2;
        }
        if (tag & S3_DAY) {
            if (be16(p) == day) {
                return 0;
            }
            day = be16(p);
            p += 2;
        }
        if (tag & S3_BV) {
            i = (uint32_t) p[0] << 16 | be16(p + 1);
            if (i == bv) {
                return 0;
            }
            bv = (uint32_t) i;
            p += 3;
        }

        if (e->id >= ID_SPACE || e->vhash >= MKT_STICKY_VH_SPACE
            || fp >= MKT_STICKY_FP_SPACE || day > MKT_STICKY_DAY_MAX
            || bv > MKT_BUCKET_VERSION_MAX)
        {
            return 0;
        }

        e->variation = (uint8_t) (tag & S3_VAR);
        e->fingerprint = (uint16_t) fp;
        e->day = (uint16_t) day;
        e->bucket_version = bv;
        e->used = 0;

        if (push(st) != 0) {
            return 0;
        }
    }

    return end;
}


mkt_cookie_status_e
mkt_sticky_decode(mkt_hmac_t *h, const char *in, size_t len, mkt_sticky_t *st)
{
    size_t               i;
    mkt_cookie_status_e  status;

    mkt_sticky_init(st);

    if (len > MKT_STICKY_COOKIE_MAX) {
        return MKT_COOKIE_OVERSIZED;
    }

    i = 0;
    if (len >= PREFIX_LEN && in[0] == 's' && in[2] == '.') {
        if (in[1] == '3') {
            i = decode_s3(in, len, st);

        } else if (in[1] == '2') {
            i = decode_s2(in, len, st);
        }
    }

    if (i == 0) {
        mkt_sticky_init(st);
        return MKT_COOKIE_MALFORMED;
    }

    status = mkt_cookie_check_signature(h, in, i, len);
    if (status != MKT_COOKIE_OK) {
        mkt_sticky_init(st);
    }
    return status;
}


static unsigned char *
put16(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char) (v >> 8);
    p[1] = (unsigned char) v;
    return p + 2;
}


int
mkt_sticky_encode(mkt_hmac_t *h, const mkt_sticky_t *st,
    const mkt_config_t *cfg, char *out, size_t *len)
{
    size_t                     i;
    uint32_t                   fp, day, bv;
    unsigned char              raw[S3_BYTES], *p, *tag;
    const mkt_sticky_entry_t  *e;

    p = raw;
    fp = day = bv = 0;

    for (i = 0; i < st->n; i++) {
        e = &st->e[i];
        if (cfg != NULL && !mkt_config_has_sticky_id(cfg, e->id)) {
            continue;
        }

        p = put16(p, e->id >> 16);
        p = put16(p, e->id);
        p = put16(p, e->vhash);
        tag = p++;
        *tag = (unsigned char) (e->variation & S3_VAR);

        if (e->fingerprint != fp) {
            fp = e->fingerprint;
            *tag |= S3_FP;
            p = put16(p, fp);
        }
        if ((e->day <= MKT_STICKY_DAY_MAX ? e->day : 0) != day) {
            day = e->day;
            *tag |= S3_DAY;
            p = put16(p, day);
        }
        if ((e->bucket_version <= MKT_BUCKET_VERSION_MAX
             ? e->bucket_version : 0) != bv)
        {
            bv = e->bucket_version;
            *tag |= S3_BV;
            *p++ = (unsigned char) (bv >> 16);
            p = put16(p, bv);
        }
    }

    if (p == raw) {
        *len = 0;
        return 0;
    }

    memcpy(out, "s3.", PREFIX_LEN);
    i = PREFIX_LEN + mkt_b64url_encode(out + PREFIX_LEN, raw,
                                       (size_t) (p - raw));

    *len = mkt_cookie_sign(h, out, i);
    return *len ? 0 : -1;
}


const mkt_sticky_entry_t *
mkt_sticky_use(mkt_sticky_t *st, uint32_t id)
{
    mkt_sticky_entry_t  *e;

    e = (mkt_sticky_entry_t *) mkt_sticky_find(st, id);
    if (e != NULL) {
        e->used = 1;
    }
    return e;
}


/* The index of the entry a new one replaces in a full st, st->n for
 * none: see mkt_sticky_set(). */
static size_t
victim(const mkt_sticky_t *st, const mkt_config_t *cfg)
{
    size_t                   i, oldest;
    const mkt_experiment_t  *x;

    oldest = st->n;
    for (i = 0; i < st->n; i++) {
        if (st->e[i].used) {
            continue;
        }
        if (cfg == NULL) {
            return i;
        }
        x = mkt_config_sticky_experiment(cfg, st->e[i].id);
        if (x == NULL || x->status != MKT_EXP_RUNNING) {
            return i;
        }
        if (oldest == st->n) {
            oldest = i;
        }
    }
    return oldest;
}


int
mkt_sticky_set(mkt_sticky_t *st, const mkt_config_t *cfg,
    const mkt_sticky_entry_t *a)
{
    int                  moved;
    size_t               i;
    mkt_sticky_entry_t  *e;

    if (a->variation >= MKT_EXP_VARIATIONS_MAX
        || a->bucket_version > MKT_BUCKET_VERSION_MAX
        || a->fingerprint >= MKT_STICKY_FP_SPACE
        || a->vhash >= MKT_STICKY_VH_SPACE)
    {
        return -1;
    }

    e = (mkt_sticky_entry_t *) mkt_sticky_use(st, a->id);

    if (e != NULL) {
        if (e->bucket_version == a->bucket_version
            && e->variation == a->variation
            && e->vhash == a->vhash
            && e->fingerprint == a->fingerprint)
        {
            return 0;
        }
        i = (size_t) (e - st->e);

    } else if (st->n == MKT_STICKY_MAX) {
        i = victim(st, cfg);
        if (i == st->n) {
            return -1;
        }

    } else {
        i = st->n;
    }

    moved = i < st->n;

    if (moved) {
        memmove(&st->e[i], &st->e[i + 1], (st->n - i - 1) * sizeof(*e));
        st->n--;
    }

    e = &st->e[st->n++];
    *e = *a;
    e->day = 0;
    e->used = 1;
    st->changed = 1;

    /* entries that moved down take other indexes: rebuild the table; a
     * new one at the end is one more slot (a new visitor's first request
     * stores every decision: not O(n) each) */
    if (moved) {
        rebuild(st);
    } else {
        table_add(st, st->n - 1);
    }

    return 0;
}


unsigned
mkt_sticky_fingerprint(const char *attr, size_t attr_len, const char *value,
    size_t value_len)
{
    uint32_t  h;

    h = mkt_fnv32a(MKT_FNV32A_INIT, attr, attr_len);
    h = mkt_fnv32a(h, "||", 2);
    h = mkt_fnv32a(h, value, value_len);
    return h % MKT_STICKY_FP_SPACE;
}


unsigned
mkt_sticky_variation_hash(const char *name, size_t len)
{
    return mkt_fnv32a(MKT_FNV32A_INIT, name, len) % MKT_STICKY_VH_SPACE;
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
