/* libFuzzer target for src/b64url.c: decoding accepts exactly the canonical
 * unpadded encodings (judged independently here), and both directions
 * round-trip byte for byte. */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "b64url.h"

#define CHECK(c)  do { if (!(c)) { __builtin_trap(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char  alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";


static int
value_of(uint8_t c)
{
    const char  *p;

    p = c ? memchr(alphabet, c, 64) : NULL;
    return p ? (int) (p - alphabet) : -1;
}


/* RFC 4648 section 5 without padding, canonical: the bits the last character
 * carries beyond the final byte (4 when len % 4 == 2, 2 when 3) are zero. */
static int
ref_valid(const uint8_t *s, size_t len)
{
    size_t  i;

    if (len % 4 == 1) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (value_of(s[i]) < 0) {
            return 0;
        }
    }
    if (len % 4 == 2) {
        return (value_of(s[len - 1]) & 0x0f) == 0;
    }
    if (len % 4 == 3) {
        return (value_of(s[len - 1]) & 0x03) == 0;
    }
    return 1;
}


static void
check_decode(const uint8_t *in, size_t len)
{
    char           *back;
    size_t          n, want;
    unsigned char  *out;

    /* exactly the decoded size, so ASan sees a write past it */
    want = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
    out = malloc(want ? want : 1);
    CHECK(out != NULL);

    n = mkt_b64url_decode(out, (const char *) in, len);

    if (!ref_valid(in, len)) {
        CHECK(n == (size_t) -1);
        free(out);
        return;
    }

    CHECK(n == want);
    CHECK(MKT_B64URL_LEN(n) == len);

    back = malloc(len ? len : 1);
    CHECK(back != NULL);
    CHECK(mkt_b64url_encode(back, out, n) == len);
    CHECK(memcmp(back, in, len) == 0);

    free(back);
    free(out);
}


static void
check_encode(const uint8_t *in, size_t n)
{
    char           *enc;
    size_t          len, i;
    unsigned char  *back;

    len = MKT_B64URL_LEN(n);
    enc = malloc(len ? len : 1);
    back = malloc(n ? n : 1);
    CHECK(enc != NULL && back != NULL);

    CHECK(mkt_b64url_encode(enc, in, n) == len);
    for (i = 0; i < len; i++) {
        CHECK(value_of((uint8_t) enc[i]) >= 0);
    }
    CHECK(ref_valid((const uint8_t *) enc, len));
    CHECK(mkt_b64url_decode(back, enc, len) == n);
    CHECK(memcmp(back, in, n) == 0);

    free(back);
    free(enc);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t  *copy;

    /* an exact-size heap copy, so ASan sees any read past len */
    copy = malloc(size ? size : 1);
    CHECK(copy != NULL);
    if (size) {
        memcpy(copy, data, size);
    }

    check_decode(copy, size);
    check_encode(copy, size);

    free(copy);
    return 0;
}
