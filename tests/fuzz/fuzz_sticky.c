/* libFuzzer target for the sticky-bucket cookie (src/sticky.c): decoding
 * any bytes is bounded and strict; every accepted "s3." value re-encodes
 * to exactly the same bytes, signed and unsigned, and every accepted
 * "s2." value to an "s3." one of the same entries. */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sticky.h"

#define SECRET  "0123456789abcdef0123"      /* as tests/unit/test_sticky.c */
#define CHECK(c)  do { if (!(c)) { __builtin_trap(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mkt_hmac_t  *key;


static void
check_same(const mkt_sticky_t *a, const mkt_sticky_t *b)
{
    size_t  i;

    CHECK(a->n == b->n);
    for (i = 0; i < a->n; i++) {
        CHECK(a->e[i].id == b->e[i].id);
        CHECK(a->e[i].fingerprint == b->e[i].fingerprint);
        CHECK(a->e[i].variation == b->e[i].variation);
        CHECK(a->e[i].vhash == b->e[i].vhash);
        CHECK(a->e[i].day == b->e[i].day);
        CHECK(a->e[i].bucket_version == b->e[i].bucket_version);
    }
}


static void
check_state(const mkt_sticky_t *st)
{
    size_t  i;

    CHECK(st->n <= MKT_STICKY_MAX);
    for (i = 0; i < st->n; i++) {
        CHECK(st->e[i].id < 2176782336u);
        CHECK(st->e[i].fingerprint < MKT_STICKY_FP_SPACE);
        CHECK(st->e[i].variation < MKT_EXP_VARIATIONS_MAX);
        CHECK(st->e[i].vhash < MKT_STICKY_VH_SPACE);
        CHECK(st->e[i].used <= 1);
        CHECK(st->e[i].day <= MKT_STICKY_DAY_MAX);
        CHECK(st->e[i].bucket_version <= MKT_BUCKET_VERSION_MAX);
        CHECK(mkt_sticky_find(st, st->e[i].id) == &st->e[i]);
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                 out[MKT_STICKY_COOKIE_MAX], *copy, *dot;
    char                 again[MKT_STICKY_COOKIE_MAX];
    size_t               len, body;
    mkt_sticky_t         st, st2;
    mkt_sticky_entry_t   a;
    mkt_cookie_status_e  rc;

    if (key == NULL) {
        key = mkt_hmac_create(SECRET, sizeof(SECRET) - 1);
        CHECK(key != NULL);
    }

    copy = malloc(size ? size : 1);
    CHECK(copy != NULL);
    if (size) {
        memcpy(copy, data, size);
    }

    /* without a key: a signature is kept unverified */
    rc = mkt_sticky_decode(NULL, copy, size, &st);
    CHECK(strcmp(mkt_cookie_status_name(rc), "unknown") != 0);
    CHECK(rc == MKT_COOKIE_OK || st.n == 0);

    if (rc == MKT_COOKIE_OK) {
        check_state(&st);
        CHECK(st.n > 0 && st.changed == 0);
        for (len = 0; len < st.n; len++) {
            CHECK(st.e[len].used == 0);
        }

        dot = memchr(copy + 3, '.', size - 3);
        body = dot ? (size_t) (dot - copy) : size;

        /* decode -> encode is the identity for "s3.", and "s2." becomes
         * "s3." of the same entries */
        CHECK(mkt_sticky_encode(NULL, &st, NULL, out, &len) == 0);
        CHECK(len > 3 && memcmp(out, "s3.", 3) == 0);
        if (copy[1] == '3') {
            CHECK(len == body && memcmp(out, copy, len) == 0);
        } else {
            CHECK(copy[1] == '2');
            CHECK(mkt_sticky_decode(NULL, out, len, &st2) == MKT_COOKIE_OK);
            check_same(&st, &st2);
            CHECK(memchr(out, '.', len) == out + 2);
            body = len;
        }

        /* signed, it decodes with the key and re-encodes identically */
        CHECK(mkt_sticky_encode(key, &st, NULL, out, &len) == 0);
        CHECK(len == body + 1 + MKT_SIG_LEN);
        CHECK(mkt_sticky_decode(key, out, len, &st2) == MKT_COOKIE_OK);
        check_same(&st, &st2);
        CHECK(mkt_sticky_encode(key, &st2, NULL, again, &body) == 0);
        CHECK(body == len && memcmp(again, out, len) == 0);

        /* a forged signature is refused */
        out[len - 1] = out[len - 1] == 'A' ? 'B' : 'A';
        CHECK(mkt_sticky_decode(key, out, len, &st2)
              == MKT_COOKIE_BAD_SIGNATURE);

        /* updates keep the state consistent */
        a = st.e[0];
        a.bucket_version = 1;
        a.fingerprint = (uint16_t) (a.fingerprint ^ 1);
        CHECK(mkt_sticky_set(&st, NULL, &a) == 0);
        CHECK(mkt_sticky_find(&st, a.id) == &st.e[st.n - 1]);
        CHECK(st.e[st.n - 1].used && st.changed);
        (void) mkt_sticky_expose(&st, st.e[st.n - 1].id, 20000);
        check_state(&st);
    }

    free(copy);
    return 0;
}
