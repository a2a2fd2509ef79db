/* GrowthBook-compatible hashing and bucketing (build-your-own SDK spec:
 * hash, inRange, inNamespace, getEqualWeights, getBucketRanges, ...). */

#include "hash.h"

#define FNV32_PRIME  16777619u

/* GrowthBook's JavaScript SDK XORs UTF-16 code units into the hash, so a
 * non-ASCII value is decoded here the way a browser decodes UTF-8. */
#define REPLACEMENT_CHAR  0xfffdu


uint32_t
mkt_fnv32a(uint32_t h, const void *p, size_t n)
{
    const unsigned char  *s = p;
    size_t                i;

    for (i = 0; i < n; i++) {
        h = (h ^ s[i]) * FNV32_PRIME;
    }

    return h;
}


/* One code point of the WHATWG UTF-8 decoder from the lead byte c >= 0x80
 * already consumed; *pp is left after the bytes it used.  A byte that does
 * not continue the sequence is not consumed: it starts the next one. */
static uint32_t
decode_utf8(const unsigned char **pp, const unsigned char *end, unsigned c)
{
    const unsigned char  *p = *pp;
    uint32_t              cp;
    unsigned              need, lo = 0x80, hi = 0xbf;

    if (c >= 0xc2 && c <= 0xdf) {
        need = 1;
        cp = c & 0x1f;

    } else if (c >= 0xe0 && c <= 0xef) {
        need = 2;
        cp = c & 0x0f;
        /* overlong forms and UTF-16 surrogates are not characters */
        if (c == 0xe0) {
            lo = 0xa0;
        } else if (c == 0xed) {
            hi = 0x9f;
        }

    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 3;
        cp = c & 0x07;
        /* overlong forms and code points past U+10FFFF */
        if (c == 0xf0) {
            lo = 0x90;
        } else if (c == 0xf4) {
            hi = 0x8f;
        }

    } else {
        return REPLACEMENT_CHAR;
    }

    while (need--) {
        if (p == end || *p < lo || *p > hi) {
            *pp = p;
            return REPLACEMENT_CHAR;
        }
        cp = (cp << 6) | (*p++ & 0x3f);
        lo = 0x80;
        hi = 0xbf;
    }

    *pp = p;
    return cp;
}


uint32_t
mkt_fnv32a_utf16(uint32_t h, const char *s, size_t n)
{
    const unsigned char  *p, *end;
    uint32_t              cp;
    unsigned              c;

    /* s may be NULL when n is 0, and NULL + 0 is undefined behaviour */
    if (n == 0) {
        return h;
    }

    p = (const unsigned char *) s;
    end = p + n;

    while (p < end) {
        c = *p++;

        if (c < 0x80) {
            h = (h ^ c) * FNV32_PRIME;
            continue;
        }

        cp = decode_utf8(&p, end, c);

        if (cp < 0x10000) {
            h = (h ^ cp) * FNV32_PRIME;
            continue;
        }

        /* outside the BMP a JavaScript string holds a surrogate pair */
        cp -= 0x10000;
        h = (h ^ (0xd800 + (cp >> 10))) * FNV32_PRIME;
        h = (h ^ (0xdc00 + (cp & 0x3ff))) * FNV32_PRIME;
    }

    return h;
}


double
mkt_hash_v1_end(uint32_t h)
{
    return (double) (h % 1000) / 1000;
}


double
mkt_hash_v2_end(uint32_t h)
{
    char    digits[10];
    size_t  i;

    /* the decimal string of h, as JavaScript's h + "" prints it */
    i = sizeof(digits);
    do {
        digits[--i] = (char) ('0' + h % 10);
        h /= 10;
    } while (h != 0);

    h = mkt_fnv32a(MKT_FNV32A_INIT, digits + i, sizeof(digits) - i);
    return (double) (h % 10000) / 10000;
}


/* hash() with the seed given in two pieces, pre + seed, so inNamespace's
 * "__" + namespace needs no concatenated copy. */
static double
hash_parts(const char *pre, size_t pre_len, const char *seed,
    size_t seed_len, const char *value, size_t value_len, int version)
{
    uint32_t  h;

    switch (version) {

    case 1:
        h = mkt_fnv32a_utf16(MKT_FNV32A_INIT, value, value_len);
        h = mkt_fnv32a_utf16(h, pre, pre_len);
        h = mkt_fnv32a_utf16(h, seed, seed_len);
        return mkt_hash_v1_end(h);

    case 2:
        h = mkt_fnv32a_utf16(MKT_FNV32A_INIT, pre, pre_len);
        h = mkt_fnv32a_utf16(h, seed, seed_len);
        h = mkt_fnv32a_utf16(h, value, value_len);
        return mkt_hash_v2_end(h);

    default:
        return -1;
    }
}


double
mkt_hash(const char *seed, size_t seed_len, const char *value,
    size_t value_len, int version)
{
    return hash_parts("", 0, seed, seed_len, value, value_len, version);
}


int
mkt_in_range(double n, const mkt_range_t *r)
{
    return n >= r->start && n < r->end;
}


int
mkt_in_namespace(const char *id, size_t id_len, const char *ns,
    size_t ns_len, double start, double end)
{
    double  n;

    n = hash_parts("__", 2, ns, ns_len, id, id_len, 1);

    return n >= start && n < end;
}


void
mkt_equal_weights(size_t n, double *out)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        out[i] = 1.0 / (double) n;
    }
}


size_t
mkt_bucket_ranges(size_t n, double coverage, const double *weights,
    size_t nweights, mkt_range_t *out)
{
    double  sum, cumulative, w, equal;
    size_t  i;

    /* written as !(>=) so that NaN, which no range can hold, becomes 0 */
    if (!(coverage >= 0)) {
        coverage = 0;
    } else if (coverage > 1) {
        coverage = 1;
    }

    if (weights != NULL && nweights == n) {
        sum = 0;
        for (i = 0; i < n; i++) {
            sum += weights[i];
        }
        if (!(sum >= 0.99 && sum <= 1.01)) {
            weights = NULL;
        }

    } else {
        weights = NULL;
    }

    /* the same additions in the same order as the SDKs, so that range ends
     * are the same doubles */
    equal = n ? 1.0 / (double) n : 0;
    cumulative = 0;

    for (i = 0; i < n; i++) {
        w = weights ? weights[i] : equal;
        out[i].start = cumulative;
        out[i].end = cumulative + coverage * w;
        cumulative += w;
    }

    return n;
}


int
mkt_choose_variation(double n, const mkt_range_t *ranges, size_t count)
{
    size_t  i;

    for (i = 0; i < count; i++) {
        if (mkt_in_range(n, &ranges[i])) {
            return (int) i;
        }
    }

    return -1;
}


int
mkt_in_rollout(const char *seed, size_t seed_len, const char *value,
    size_t value_len, int version, const mkt_range_t *range,
    const double *coverage)
{
    double  n;

    if (range == NULL && coverage == NULL) {
        return 1;
    }

    /* with a zero coverage a bucket of exactly 0 would still pass n <= 0 */
    if (range == NULL && *coverage == 0) {
        return 0;
    }

    if (value_len == 0) {
        return 0;
    }

    n = mkt_hash(seed, seed_len, value, value_len, version ? version : 1);
    if (n < 0) {
        return 0;
    }

    if (range != NULL) {
        return mkt_in_range(n, range);
    }

    return n <= *coverage;
}


int
mkt_filter_passes(const char *seed, size_t seed_len, const char *value,
    size_t value_len, int version, const mkt_range_t *ranges,
    size_t nranges)
{
    double  n;
    size_t  i;

    if (value_len == 0) {
        return 0;
    }

    n = mkt_hash(seed, seed_len, value, value_len, version ? version : 2);
    if (n < 0) {
        return 0;
    }

    for (i = 0; i < nranges; i++) {
        if (mkt_in_range(n, &ranges[i])) {
            return 1;
        }
    }

    return 0;
}
