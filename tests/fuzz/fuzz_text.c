/* libFuzzer target for src/text.c: the first byte picks the capacity, the
 * rest is the text.  The output is checked with an independent, table-driven
 * strict UTF-8 decoder (RFC 3629 section 4) and a reference cleaner. */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "ref_utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


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
