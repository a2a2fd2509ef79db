/* SipHash-2-4, after the reference implementation: little-endian words,
 * two compression and four finalization rounds. */
#include "siphash.h"

#define ROTL(x, b)  (uint64_t) (((x) << (b)) | ((x) >> (64 - (b))))

#define SIPROUND                                                              \
    do {                                                                      \
        v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);             \
        v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                                \
        v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                                \
        v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);             \
    } while (0)


static uint64_t
le64(const unsigned char *p, size_t n)
{
    uint64_t  v;

    v = 0;
    while (n > 0) {
        n--;
        v = v << 8 | p[n];
    }
    return v;
}


uint64_t
mkt_siphash(const unsigned char key[MKT_SIPHASH_KEY_LEN], const void *msg,
    size_t len)
{
    size_t                i, left;
    uint64_t              k0, k1, v0, v1, v2, v3, m;
    const unsigned char  *p = msg;

    k0 = le64(key, 8);
    k1 = le64(key + 8, 8);
    v0 = k0 ^ 0x736f6d6570736575ULL;
    v1 = k1 ^ 0x646f72616e646f6dULL;
    v2 = k0 ^ 0x6c7967656e657261ULL;
    v3 = k1 ^ 0x7465646279746573ULL;

    for (i = 0; i + 8 <= len; i += 8) {
        m = le64(p + i, 8);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }

    left = len - i;
    m = (uint64_t) (len & 0xff) << 56 | le64(p + i, left);
    v3 ^= m;
    SIPROUND;
    SIPROUND;
    v0 ^= m;

    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;

    return v0 ^ v1 ^ v2 ^ v3;
}
