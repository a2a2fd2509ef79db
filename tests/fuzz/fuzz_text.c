/* libFuzzer target for src/text.c: the first byte picks the capacity, the
 * rest is the text.  The output is checked with an independent, table-driven
 * strict UTF-8 decoder (RFC 3629 section 4) and a reference cleaner. */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

#define CHECK(c)  do { if (!(c)) { __builtin_trap(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


/*
 * Length (1..4) of the well-formed UTF-8 sequence at s, or 0.  Each row of
 * RFC 3629's table: the lead byte range, then the range of each trailing
 * byte, so overlongs, surrogates and values past U+10FFFF never match.
 */
static size_t
strict_seq(const uint8_t *s, size_t len, uint32_t *cp)
{
    static const struct {
        uint8_t  lo, hi;            /* lead byte */
        uint8_t  n;
        uint8_t  t1lo, t1hi;        /* first trailing byte; others 80..BF */
    } rows[] = {
        { 0x00, 0x7f, 1, 0, 0 },
        { 0xc2, 0xdf, 2, 0x80, 0xbf },
        { 0xe0, 0xe0, 3, 0xa0, 0xbf },
        { 0xe1, 0xec, 3, 0x80, 0xbf },
        { 0xed, 0xed, 3, 0x80, 0x9f },
        { 0xee, 0xef, 3, 0x80, 0xbf },
        { 0xf0, 0xf0, 4, 0x90, 0xbf },
        { 0xf1, 0xf3, 4, 0x80, 0xbf },
        { 0xf4, 0xf4, 4, 0x80, 0x8f },
    };
    static const uint8_t  lead_bits[] = { 0, 0x7f, 0x1f, 0x0f, 0x07 };
    size_t    r, i;
    uint32_t  c;

    for (r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        if (s[0] >= rows[r].lo && s[0] <= rows[r].hi) {
            break;
        }
    }
    if (r == sizeof(rows) / sizeof(rows[0]) || len < rows[r].n) {
        return 0;
    }
    if (rows[r].n > 1 && (s[1] < rows[r].t1lo || s[1] > rows[r].t1hi)) {
        return 0;
    }

    c = s[0] & lead_bits[rows[r].n];
    for (i = 1; i < rows[r].n; i++) {
        if (s[i] < 0x80 || s[i] > 0xbf) {
            return 0;
        }
        c = c << 6 | (s[i] & 0x3f);
    }

    *cp = c;
    return rows[r].n;
}


static int
is_control(uint32_t cp)
{
    return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f);
}


/* 1 when s is well-formed UTF-8 with no C0, DEL or C1 code point */
static int
is_clean(const uint8_t *s, size_t len)
{
    size_t    n;
    uint32_t  cp;

    while (len > 0) {
        n = strict_seq(s, len, &cp);
        if (n == 0 || is_control(cp)) {
            return 0;
        }
        s += n;
        len -= n;
    }

    return 1;
}


/* The uncapped result: each byte that starts no well-formed sequence
 * becomes U+FFFD on its own (the policy text.c documents), controls go. */
static size_t
ref_clean(uint8_t *dst, const uint8_t *s, size_t len)
{
    size_t    n, out;
    uint32_t  cp;

    out = 0;

    while (len > 0) {
        n = strict_seq(s, len, &cp);
        if (n == 0) {
            memcpy(dst + out, "\xef\xbf\xbd", 3);
            out += 3;
            n = 1;

        } else if (!is_control(cp)) {
            memcpy(dst + out, s, n);
            out += n;
        }
        s += n;
        len -= n;
    }

    return out;
}


static size_t
clean(char **dst, size_t cap, const void *src, size_t len)
{
    /* exactly cap bytes, so ASan sees a write past the capacity */
    *dst = malloc(cap ? cap : 1);
    CHECK(*dst != NULL);
    return mkt_text_clean(*dst, cap, src, len);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char      *out, *again;
    size_t     cap, len, n, n2, full_len, next;
    uint8_t   *src, *full;
    uint32_t   cp;

    if (size == 0) {
        return 0;
    }

    /* 0..254 bytes, or 255: room for anything (3 bytes per input byte) */
    len = size - 1;
    cap = data[0] == 0xff ? 3 * len : data[0];

    src = malloc(len ? len : 1);
    full = malloc(3 * len + 1);
    CHECK(src != NULL && full != NULL);
    memcpy(src, data + 1, len);

    n = clean(&out, cap, src, len);

    CHECK(n <= cap);
    CHECK(is_clean((const uint8_t *) out, n));
    /* stricter than the brief's "no byte < 0x20 or 0x7f": a direct check
     * too, in case the decoder above were ever wrong */
    CHECK(memchr(out, 0x7f, n) == NULL);
    for (next = 0; next < n; next++) {
        CHECK((uint8_t) out[next] >= 0x20);
    }

    /* the result is the longest whole-character prefix of the uncapped
     * reference that fits */
    full_len = ref_clean(full, src, len);
    CHECK(n <= full_len && memcmp(out, full, n) == 0);
    if (n < full_len) {
        next = strict_seq(full + n, full_len - n, &cp);
        CHECK(next > 0 && n + next > cap);
    }

    /* text that is already clean and fits is kept byte for byte */
    if (len <= cap && is_clean(src, len)) {
        CHECK(n == len && memcmp(out, src, len) == 0);
    }

    /* cleaning is idempotent, with the same or the exact capacity */
    n2 = clean(&again, cap, out, n);
    CHECK(n2 == n && memcmp(again, out, n) == 0);
    free(again);
    n2 = clean(&again, n, out, n);
    CHECK(n2 == n && memcmp(again, out, n) == 0);
    free(again);

    free(out);
    free(full);
    free(src);
    return 0;
}
