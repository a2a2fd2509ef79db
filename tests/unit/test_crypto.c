/* Unit tests of src/b64url.c, src/hmac.c and src/random.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "b64url.h"
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
