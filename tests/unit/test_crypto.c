/* Unit tests of src/b64url.c, src/hmac.c and src/random.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "b64url.h"

#define ALPHABET                                                              \
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
#include "hmac.h"
#include "random.h"


static void
hex(const unsigned char *b, size_t n, char *out)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        out[2 * i] = "0123456789abcdef"[b[i] >> 4];
        out[2 * i + 1] = "0123456789abcdef"[b[i] & 15];
    }
    out[2 * n] = '\0';
}


static void
test_b64url_encodes_rfc4648_vectors_without_padding(void **state)
{
    char  out[16];

    assert_int_equal(mkt_b64url_encode(out, (const unsigned char *) "f", 1),
                     2);
    assert_memory_equal(out, "Zg", 2);
    assert_int_equal(mkt_b64url_encode(out, (const unsigned char *) "fo", 2),
                     3);
    assert_memory_equal(out, "Zm8", 3);
    assert_int_equal(mkt_b64url_encode(out, (const unsigned char *) "foobar",
                                       6), 8);
    assert_memory_equal(out, "Zm9vYmFy", 8);
    assert_int_equal(mkt_b64url_encode(out,
                                       (const unsigned char *) "\xfb\xff", 2),
                     3);
    assert_memory_equal(out, "-_8", 3);
}


static void
test_b64url_decode_round_trips(void **state)
{
    size_t         n;
    char           enc[24];
    unsigned char  raw[16], back[18];

    memset(raw, 0xa5, sizeof(raw));
    raw[15] = 0x01;
    n = mkt_b64url_encode(enc, raw, sizeof(raw));
    assert_int_equal(n, 22);
    assert_int_equal(mkt_b64url_decode(back, enc, n), 16);
    assert_memory_equal(back, raw, 16);
}


static void
test_b64url_decode_rejects_bad_alphabet_length_and_noncanonical(void **state)
{
    unsigned char  out[8];

    assert_int_equal(mkt_b64url_decode(out, "Zm+v", 4), (size_t) -1);
    assert_int_equal(mkt_b64url_decode(out, "Zm9=", 4), (size_t) -1);
    assert_int_equal(mkt_b64url_decode(out, "Zm9vY", 5), (size_t) -1);
    /* "Zh" carries a set bit past the one byte it encodes */
    assert_int_equal(mkt_b64url_decode(out, "Zh", 2), (size_t) -1);
    assert_int_equal(mkt_b64url_decode(out, "Zg", 2), 1);
}


/* Byte strings of 5 to 8 bytes (the last 0 to 3 of every value, or of
 * every 97th for 3) round-trip; of the 64 characters in the last place,
 * exactly those whose unused low bits are zero are accepted (64, or 16
 * of them with 2 unused bits, or 4 with 4); a byte outside the alphabet
 * is refused in every place. */
static void
test_b64url_decode_accepts_exactly_the_canonical_tails(void **state)
{
    char           enc[16], bad[16];
    size_t         n, len, pos, k, good;
    unsigned       v;
    unsigned char  raw[8], back[8];

    for (len = 0; len <= 3; len++) {
        for (v = 0; v < (1u << (8 * len)); v += len == 3 ? 97 : 1) {
            memcpy(raw, "abcde", 5);
            for (k = 0; k < len; k++) {
                raw[5 + k] = (unsigned char) (v >> (8 * k));
            }
            n = mkt_b64url_encode(enc, raw, 5 + len);
            assert_int_equal(mkt_b64url_decode(back, enc, n), 5 + len);
            assert_memory_equal(back, raw, 5 + len);

            good = 0;
            for (k = 0; k < 64; k++) {
                memcpy(bad, enc, n);
                bad[n - 1] = ALPHABET[k];
                if (mkt_b64url_decode(back, bad, n) != (size_t) -1) {
                    good++;
                }
            }
            assert_int_equal(good, n % 4 == 2 ? 4 : n % 4 == 3 ? 16 : 64);

            for (pos = 0; pos < n; pos++) {
                memcpy(bad, enc, n);
                bad[pos] = '.';
                assert_int_equal(mkt_b64url_decode(back, bad, n),
                                 (size_t) -1);
            }
        }
    }
}


static void
test_hmac_sha256_matches_rfc4231_case_2(void **state)
{
    char            h[65];
    mkt_hmac_t     *k;
    unsigned char   mac[MKT_SHA256_LEN];

    k = mkt_hmac_create("Jefe", 4);
    assert_non_null(k);
    assert_int_equal(mkt_hmac_sha256(k, "what do ya want for nothing?", 28,
                                     mac), 0);
    hex(mac, sizeof(mac), h);
    assert_string_equal(h, "5bdcc146bf60754e6a042426089575c7"
                           "5a003f089d2739839dec58b964ec3843");

    /* the precomputed key state is reusable */
    assert_int_equal(mkt_hmac_sha256(k, "what do ya want for nothing?", 28,
                                     mac), 0);
    hex(mac, sizeof(mac), h);
    assert_string_equal(h, "5bdcc146bf60754e6a042426089575c7"
                           "5a003f089d2739839dec58b964ec3843");
    mkt_hmac_destroy(k);
}


static void
test_hmac_sha256_hashes_keys_longer_than_a_block_rfc4231_case_6(void **state)
{
    char            h[65];
    mkt_hmac_t     *k;
    unsigned char   key[131], mac[MKT_SHA256_LEN];
    const char     *msg = "Test Using Larger Than Block-Size Key - "
                          "Hash Key First";

    memset(key, 0xaa, sizeof(key));
    k = mkt_hmac_create(key, sizeof(key));
    assert_non_null(k);
    assert_int_equal(mkt_hmac_sha256(k, msg, strlen(msg), mac), 0);
    hex(mac, sizeof(mac), h);
    assert_string_equal(h, "60e431591ee0b67f0d8a26aacbf5b77f"
                           "8e0bc6213728c5140546040f0ee37f54");
    mkt_hmac_destroy(k);
}


static void
test_sign_is_first_16_base64url_chars_of_the_mac(void **state)
{
    char         sig[MKT_SIG_LEN];
    mkt_hmac_t  *k;

    k = mkt_hmac_create("Jefe", 4);
    assert_int_equal(mkt_sign(k, "what do ya want for nothing?", 28, sig), 0);
    /* base64url of 5bdcc146bf60754e6a042426 */
    assert_memory_equal(sig, "W9zBRr9gdU5qBCQm", MKT_SIG_LEN);
    assert_true(mkt_sig_verify(k, "what do ya want for nothing?", 28,
                               "W9zBRr9gdU5qBCQm"));
    assert_false(mkt_sig_verify(k, "what do ya want for nothing?", 28,
                                "W9zBRr9gdU5qBCQn"));
    assert_false(mkt_sig_verify(k, "what do ya want for nothing!", 28,
                                "W9zBRr9gdU5qBCQm"));
    mkt_hmac_destroy(k);
}


static void
test_random_bytes_differ_between_calls(void **state)
{
    unsigned char  a[16], b[16];

    assert_int_equal(mkt_random_bytes(a, sizeof(a)), 0);
    assert_int_equal(mkt_random_bytes(b, sizeof(b)), 0);
    assert_memory_not_equal(a, b, sizeof(a));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_b64url_encodes_rfc4648_vectors_without_padding),
        cmocka_unit_test(test_b64url_decode_round_trips),
        cmocka_unit_test(test_b64url_decode_accepts_exactly_the_canonical_tails),
        cmocka_unit_test(
            test_b64url_decode_rejects_bad_alphabet_length_and_noncanonical),
        cmocka_unit_test(test_hmac_sha256_matches_rfc4231_case_2),
        cmocka_unit_test(
            test_hmac_sha256_hashes_keys_longer_than_a_block_rfc4231_case_6),
        cmocka_unit_test(test_sign_is_first_16_base64url_chars_of_the_mac),
        cmocka_unit_test(test_random_bytes_differ_between_calls),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
